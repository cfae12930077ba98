package images

import (
	"bufio"
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// The shop test images' repositories: a MagentoRelease's spec.images.app and
// spec.images.web; the operator appends the slot's tag.
const (
	ShopAppRepo = "localhost/shop/php"
	ShopWebRepo = "localhost/shop/nginx"
)

// Paths and settings inside the shop images.
const (
	ShopRoot    = "/var/www/html" // WORKDIR: bin/magento, pub/, VERSION
	ShopUser    = "33:33"         // www-data
	ShopWebPort = 8080            // the operator's default spec.web.port
	ShopFPMPort = 9000
)

// DefaultPackages are installed into the shop images' Debian rootfs.
// systemd-standalone-tmpfiles satisfies php8.2-fpm's "systemd |
// systemd-tmpfiles" without pulling in systemd.
var DefaultPackages = []string{"nginx-light", "php8.2-fpm", "php8.2-cli", "systemd-standalone-tmpfiles"}

//go:embed assets/build-base.sh
var buildBaseScript []byte

//go:embed all:shop
var shopFiles embed.FS

// ShopConfig says which shop images to build and how.
type ShopConfig struct {
	// Tags to build; each gives localhost/shop/php:<tag> and localhost/shop/nginx:<tag>.
	Tags []string
	// Bad tags carry /var/www/html/BAD: pub/health_check.php answers 500.
	Bad map[string]bool
	// Upgrade tags carry /var/www/html/SCHEMA (the tag): bin/magento
	// setup:db:status exits 2 until setup:upgrade has recorded that schema.
	Upgrade map[string]bool
	// BrokenAfter tags carry /var/www/html/BROKEN_AFTER (the number): each
	// php-fpm pod answers its storefront page (/) with 500 once it has
	// answered that many, while its health check keeps passing. 0 breaks the
	// page from the start; more lets a few checks pass and then breaks under
	// traffic.
	BrokenAfter map[string]int
	// AppStopSignal is the php image's STOPSIGNAL; default SIGQUIT, as in
	// the official PHP-FPM images: php-fpm's graceful stop. The cron and
	// consumer containers run the same image; the operator's default
	// commands stop on it too.
	AppStopSignal string
	// WebStopSignal is the nginx image's STOPSIGNAL; default SIGQUIT
	// (nginx's graceful stop).
	WebStopSignal string
	// Suite is the Debian suite; default bookworm.
	Suite string
	// Sources is the deb822 apt sources file used inside the chroot; its
	// first URI is debootstrap's mirror. Default the host's
	// /etc/apt/sources.list.d/debian.sources.
	Sources string
	// Packages to install; default DefaultPackages.
	Packages []string
}

func (c ShopConfig) withDefaults() ShopConfig {
	if c.AppStopSignal == "" {
		c.AppStopSignal = "SIGQUIT"
	}
	if c.WebStopSignal == "" {
		c.WebStopSignal = "SIGQUIT"
	}
	if c.Suite == "" {
		c.Suite = "bookworm"
	}
	if c.Sources == "" {
		c.Sources = "/etc/apt/sources.list.d/debian.sources"
	}
	if len(c.Packages) == 0 {
		c.Packages = DefaultPackages
	}
	return c
}

// ShopImages builds localhost/shop/php:<tag> and localhost/shop/nginx:<tag>
// for every tag into one docker-archive tarball under cacheDir and returns
// them (all with the same Path), php before nginx for each tag. Tags in bad
// get a health check answering 500.
func ShopImages(ctx context.Context, cacheDir string, tags []string, bad map[string]bool) ([]Image, error) {
	return BuildShop(ctx, cacheDir, ShopConfig{Tags: tags, Bad: bad})
}

// ShopAppRef and ShopWebRef are the references of the shop images of a tag,
// as the operator renders them from ShopAppRepo and ShopWebRepo.
func ShopAppRef(tag string) string { return ShopAppRepo + ":" + tag }

// ShopWebRef: see ShopAppRef.
func ShopWebRef(tag string) string { return ShopWebRepo + ":" + tag }

// BuildShop is ShopImages with every setting. The Debian base layer is built
// once (needs root and debootstrap, a few minutes) and cached by the package
// list, apt sources, suite and build script; the tarball is cached by
// everything that goes into it.
func BuildShop(ctx context.Context, cacheDir string, cfg ShopConfig) ([]Image, error) {
	cfg = cfg.withDefaults()
	if len(cfg.Tags) == 0 {
		return nil, errors.New("no tags")
	}
	cacheDir, err := filepath.Abs(cacheDir)
	if err != nil {
		return nil, err
	}
	unlock, err := lock(ctx, cacheDir)
	if err != nil {
		return nil, err
	}
	defer unlock()
	base, err := buildBase(ctx, cacheDir, cfg)
	if err != nil {
		return nil, err
	}
	return shopArchive(cacheDir, base.key, base.tarball, cfg)
}

// ShopRootfs is the directory of the shop images' Debian base (without the
// shop files), built or unpacked when missing: for chroot checks.
func ShopRootfs(ctx context.Context, cacheDir string, cfg ShopConfig) (string, error) {
	cfg = cfg.withDefaults()
	cacheDir, err := filepath.Abs(cacheDir)
	if err != nil {
		return "", err
	}
	unlock, err := lock(ctx, cacheDir)
	if err != nil {
		return "", err
	}
	defer unlock()
	base, err := buildBase(ctx, cacheDir, cfg)
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(filepath.Join(base.rootfs, "usr/sbin/nginx")); err == nil {
		return base.rootfs, nil
	}
	tmp := base.rootfs + ".tmp"
	_ = os.RemoveAll(tmp)
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return "", err
	}
	if err := run(ctx, "", nil, "tar", "--numeric-owner", "-xzf", base.tarball, "-C", tmp); err != nil {
		return "", err
	}
	_ = os.RemoveAll(base.rootfs)
	return base.rootfs, os.Rename(tmp, base.rootfs)
}

// ShopFiles writes the shop layer's files (configs, bin/magento, pub/) and a
// tag's files into dir, e.g. an overlay over ShopRootfs, for chroot checks.
func ShopFiles(dir, tag string, bad, upgrade bool) error {
	files, err := shopLayerFiles()
	if err != nil {
		return err
	}
	files = append(files, versionFiles(tag, bad, upgrade, -1)...)
	for _, f := range files {
		p := filepath.Join(dir, f.path)
		switch {
		case f.dir:
			if err := os.MkdirAll(p, os.FileMode(f.mode)); err != nil {
				return err
			}
		default:
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(p, f.data, os.FileMode(f.mode)); err != nil {
				return err
			}
		}
		if err := os.Chmod(p, os.FileMode(f.mode)); err != nil {
			return err
		}
		if err := os.Lchown(p, f.uid, f.gid); err != nil && os.Geteuid() == 0 {
			return err
		}
	}
	return nil
}

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

// executable shop files; the others are 0644.
var executable = map[string]bool{
	"usr/local/bin/web-entrypoint": true,
	"var/www/html/bin/magento":     true,
}

// shopLayerFiles are the files of the layer over the Debian base: nginx and
// php-fpm config, the web entrypoint, bin/magento and pub/.
func shopLayerFiles() ([]file, error) {
	dirs := []file{ //nolint:prealloc // the directories come first, then the files walked below
		{path: "var/www/html/app", mode: 0o755, dir: true},
		{path: "var/www/html/bin", mode: 0o755, dir: true},
		{path: "var/www/html/pub", mode: 0o755, dir: true},
		// Writable by www-data: bin/magento's log and state.
		{path: "var/www/html/var", mode: 0o775, dir: true, uid: 33, gid: 33},
		{path: "var/www/html/var/log", mode: 0o775, dir: true, uid: 33, gid: 33},
	}
	var files []file
	err := fs.WalkDir(shopFiles, "shop", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := shopFiles.ReadFile(p)
		if err != nil {
			return err
		}
		rel := strings.TrimPrefix(p, "shop/")
		mode := int64(0o644)
		if executable[rel] {
			mode = 0o755
		}
		files = append(files, file{path: rel, mode: mode, data: data})
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(files, func(i, j int) bool { return files[i].path < files[j].path })
	return append(dirs, files...), nil
}

// versionFiles are the per-tag layer's files.
// versionFiles are the files of a tag's own layer; brokenAfter < 0 for a
// storefront that never breaks.
func versionFiles(tag string, bad, upgrade bool, brokenAfter int) []file {
	files := []file{{path: "var/www/html/VERSION", mode: 0o644, data: []byte(tag + "\n")}}
	if brokenAfter >= 0 {
		files = append(files, file{path: "var/www/html/BROKEN_AFTER", mode: 0o644, data: []byte(strconv.Itoa(brokenAfter) + "\n")})
	}
	if bad {
		files = append(files, file{path: "var/www/html/BAD", mode: 0o644, data: []byte("health_check.php answers 500\n")})
	}
	if upgrade {
		files = append(files, file{path: "var/www/html/SCHEMA", mode: 0o644, data: []byte(tag + "\n")})
	}
	return files
}

var shopEnv = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}

// shopConfigs are the runtime configs of the php and nginx images of a tag.
func shopConfigs(tag string, cfg ShopConfig) (app, web v1.Config) {
	labels := func(role string) map[string]string {
		return map[string]string{
			"org.opencontainers.image.title":   "magento-operator shop test image (" + role + ")",
			"org.opencontainers.image.version": tag,
		}
	}
	app = v1.Config{
		User:         ShopUser,
		WorkingDir:   ShopRoot,
		Env:          shopEnv,
		Cmd:          []string{"php-fpm8.2", "--nodaemonize", "--fpm-config", "/etc/php/8.2/fpm/php-fpm.conf"},
		ExposedPorts: map[string]struct{}{fmt.Sprintf("%d/tcp", ShopFPMPort): {}},
		StopSignal:   cfg.AppStopSignal,
		Labels:       labels("php-fpm"),
	}
	web = v1.Config{
		User:         ShopUser,
		WorkingDir:   ShopRoot,
		Env:          shopEnv,
		Entrypoint:   []string{"/usr/local/bin/web-entrypoint"},
		Cmd:          []string{"nginx", "-g", "daemon off;"},
		ExposedPorts: map[string]struct{}{fmt.Sprintf("%d/tcp", ShopWebPort): {}},
		StopSignal:   cfg.WebStopSignal,
		Labels:       labels("nginx"),
	}
	return app, web
}

// archiveFormat changes when this package writes shop archives differently.
const archiveFormat = "shop-archive-1"

// shopArchive builds (or finds) the tarball of cfg's tags over the base
// layer at basePath.
func shopArchive(cacheDir, baseKey, basePath string, cfg ShopConfig) ([]Image, error) {
	files, err := shopLayerFiles()
	if err != nil {
		return nil, err
	}
	shop, err := layerOf(files)
	if err != nil {
		return nil, err
	}
	shopDigest, err := shop.Digest()
	if err != nil {
		return nil, err
	}
	type built struct {
		ref string
		cfg v1.Config
		ver v1.Layer
	}
	var all []built
	var keyParts [][]byte
	keyParts = append(keyParts, []byte(archiveFormat), []byte(baseKey), []byte(shopDigest.String()), []byte(runtime.GOARCH))
	seen := map[string]bool{}
	for _, tag := range cfg.Tags {
		if seen[tag] {
			continue
		}
		seen[tag] = true
		if !validTag(tag) {
			return nil, fmt.Errorf("tag %q is not a valid image tag", tag)
		}
		after, broken := cfg.BrokenAfter[tag]
		if !broken {
			after = -1
		}
		ver, err := layerOf(versionFiles(tag, cfg.Bad[tag], cfg.Upgrade[tag], after))
		if err != nil {
			return nil, err
		}
		vd, err := ver.Digest()
		if err != nil {
			return nil, err
		}
		app, web := shopConfigs(tag, cfg)
		for _, b := range []built{{ShopAppRef(tag), app, ver}, {ShopWebRef(tag), web, ver}} {
			cj, err := json.Marshal(b.cfg)
			if err != nil {
				return nil, err
			}
			keyParts = append(keyParts, []byte(b.ref), cj, []byte(vd.String()))
			all = append(all, b)
		}
	}
	path := filepath.Join(cacheDir, "shop-"+key(keyParts...)+".tar")
	if imgs, ok := cachedArchive(path); ok {
		return orderLike(imgs, all, func(b built) string { return b.ref }), nil
	}
	baseLayer, err := tarball.LayerFromFile(basePath)
	if err != nil {
		return nil, err
	}
	imgs := map[string]v1.Image{}
	for _, b := range all {
		img, err := imageOf(b.cfg, baseLayer, shop, b.ver)
		if err != nil {
			return nil, err
		}
		imgs[b.ref] = img
	}
	out, err := writeArchive(path, imgs)
	if err != nil {
		return nil, err
	}
	return orderLike(out, all, func(b built) string { return b.ref }), nil
}

// orderLike sorts imgs in the order of the references of want.
func orderLike[T any](imgs []Image, want []T, ref func(T) string) []Image {
	pos := map[string]int{}
	for i, w := range want {
		pos[ref(w)] = i
	}
	sort.SliceStable(imgs, func(i, j int) bool { return pos[imgs[i].Ref] < pos[imgs[j].Ref] })
	return imgs
}

// validTag is the Docker tag grammar: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}.
func validTag(t string) bool {
	if t == "" || len(t) > 128 || t[0] == '.' || t[0] == '-' {
		return false
	}
	for _, r := range t {
		if r != '_' && r != '.' && r != '-' && (r < '0' || r > '9') && (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') {
			return false
		}
	}
	return true
}
