// This file builds the shop images' Debian base layer (debootstrap in a
// chroot, as root) once, and caches it by everything that goes into it.

package images

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

type base struct {
	key     string
	tarball string // gzip layer tarball
	rootfs  string
}

// buildBase builds, or finds in cacheDir, the Debian base layer.
func buildBase(ctx context.Context, cacheDir string, cfg ShopConfig) (base, error) {
	sources, err := os.ReadFile(cfg.Sources)
	if err != nil {
		return base{}, fmt.Errorf("apt sources: %w", err)
	}
	mirror, err := firstURI(sources)
	if err != nil {
		return base{}, fmt.Errorf("%s: %w", cfg.Sources, err)
	}
	k := key(buildBaseScript, []byte(cfg.Suite), sources, []byte(strings.Join(cfg.Packages, " ")), []byte(runtime.GOARCH))
	b := base{
		key:     k,
		tarball: filepath.Join(cacheDir, "shop-base-"+k+".tar.gz"),
		rootfs:  filepath.Join(cacheDir, "shop-base-"+k+".rootfs"),
	}
	if _, err := os.Stat(b.tarball); err == nil {
		return b, nil
	}
	if os.Geteuid() != 0 {
		return base{}, fmt.Errorf("building the shop base layer %s needs root (debootstrap, chroot)", b.tarball)
	}
	env := []string{"PATH=" + os.Getenv("PATH") + ":/usr/local/sbin:/usr/sbin:/sbin", "LC_ALL=C"}
	if err := ensureDebootstrap(ctx, env); err != nil {
		return base{}, err
	}
	script := filepath.Join(cacheDir, "build-base-"+k+".sh")
	if err := os.WriteFile(script, buildBaseScript, 0o755); err != nil {
		return base{}, err
	}
	args := append([]string{script, b.rootfs, cfg.Suite, mirror, cfg.Sources}, cfg.Packages...)
	if err := run(ctx, "", env, "sh", args...); err != nil {
		return base{}, fmt.Errorf("building the shop rootfs: %w", err)
	}
	tmp := b.tarball + ".tmp"
	if err := run(ctx, "", env, "tar", "--numeric-owner", "-czf", tmp, "-C", b.rootfs,
		"--exclude=./dev/*", "--exclude=./proc/*", "--exclude=./sys/*", "."); err != nil {
		_ = os.Remove(tmp)
		return base{}, err
	}
	return b, os.Rename(tmp, b.tarball)
}

// ensureDebootstrap installs Debian's debootstrap with apt-get when missing.
func ensureDebootstrap(ctx context.Context, env []string) error {
	for _, p := range []string{"/usr/sbin/debootstrap", "/usr/local/sbin/debootstrap"} {
		if _, err := os.Stat(p); err == nil {
			return nil
		}
	}
	if _, err := exec.LookPath("debootstrap"); err == nil {
		return nil
	}
	install := []string{"install", "-y", "-q", "--no-install-recommends", "debootstrap"}
	env = append(env, "DEBIAN_FRONTEND=noninteractive")
	if err := run(ctx, "", env, "apt-get", install...); err == nil {
		return nil
	}
	if err := run(ctx, "", env, "apt-get", "update", "-q"); err != nil {
		return fmt.Errorf("debootstrap is missing and apt-get update failed: %w", err)
	}
	if err := run(ctx, "", env, "apt-get", install...); err != nil {
		return fmt.Errorf("debootstrap is missing and could not be installed: %w", err)
	}
	return nil
}

// firstURI is the first URIs: entry of a deb822 sources file, or the URI of
// the first "deb" line of a one-line-style file.
func firstURI(sources []byte) (string, error) {
	sc := bufio.NewScanner(bytes.NewReader(sources))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if v, ok := strings.CutPrefix(line, "URIs:"); ok {
			if f := strings.Fields(v); len(f) > 0 {
				return f[0], nil
			}
		}
		if f := strings.Fields(line); len(f) >= 3 && f[0] == "deb" {
			for _, w := range f[1:] {
				if !strings.HasPrefix(w, "[") && !strings.HasSuffix(w, "]") && strings.Contains(w, "://") {
					return w, nil
				}
			}
		}
	}
	return "", errors.New("no Debian mirror URI found")
}
