// Package images builds the container images the real-cluster tests run,
// offline and without Docker or a registry, as docker-archive tarballs that
// `ctr -n k8s.io images import` loads into containerd:
//
//   - the shop test images (ShopImages): localhost/shop/php:<tag> (php-fpm,
//     also the cron, consumer and Job image) and localhost/shop/nginx:<tag>,
//     from a Debian bookworm rootfs built with debootstrap and apt;
//   - the operator's own image (OperatorImage): localhost/magento-operator:dev,
//     the static manager binary on an empty base.
//
// Everything is cached under a cache directory (bin/realimages/ in the
// repository) keyed by the content that goes into it, so a second run only
// checks that the files are there.
package images

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// Image is one image reference in a docker-archive tarball.
type Image struct {
	// Ref is the reference the tarball carries and containerd imports it as,
	// exactly as the operator renders it, e.g. localhost/shop/php:v1.
	Ref string `json:"ref"`
	// Path is the docker-archive tarball. Several Images may share one.
	Path string `json:"path"`
	// ID is the digest of the image config, the "IMAGE ID" crictl shows.
	ID string `json:"id"`
}

// Paths are the distinct tarballs of imgs, in order.
func Paths(imgs []Image) []string {
	var out []string
	for _, i := range imgs {
		if !slices.Contains(out, i.Path) {
			out = append(out, i.Path)
		}
	}
	return out
}

// Import loads the tarballs of imgs into a namespace of the containerd at
// address (its socket) with ctr (`ctr images import`). The kubelet's CRI
// finds images in namespace k8s.io.
func Import(ctx context.Context, ctr, address, namespace string, imgs ...Image) error {
	for _, p := range Paths(imgs) {
		if err := run(ctx, "", nil, ctr, "--address", address, "--namespace", namespace, "images", "import", p); err != nil {
			return err
		}
	}
	return nil
}

// epoch is the modification time of every file this package writes into a
// layer, so that a layer's digest depends on its content only.
var epoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// file is one entry of a layer built in memory.
type file struct {
	path     string // without a leading slash
	mode     int64  // permission bits; a directory when dir
	uid, gid int
	dir      bool
	data     []byte
	link     string // a symbolic link to this target
}

// layerOf builds a gzip layer from files, in memory.
func layerOf(files []file) (v1.Layer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		h := &tar.Header{Name: f.path, Mode: f.mode, Uid: f.uid, Gid: f.gid, ModTime: epoch, Format: tar.FormatPAX}
		switch {
		case f.dir:
			h.Typeflag, h.Name = tar.TypeDir, f.path+"/"
		case f.link != "":
			h.Typeflag, h.Linkname = tar.TypeSymlink, f.link
		default:
			h.Typeflag, h.Size = tar.TypeReg, int64(len(f.data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := tw.Write(f.data); err != nil {
				return nil, err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	b := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil })
}

// imageOf is an image of layers with the given runtime config, for this
// machine's architecture (ctr imports only the host's platform).
func imageOf(cfg v1.Config, layers ...v1.Layer) (v1.Image, error) {
	img, err := mutate.AppendLayers(empty.Image, layers...)
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.Architecture, cf.OS = runtime.GOARCH, "linux"
	cf.Created = v1.Time{Time: epoch}
	cf.Config = cfg
	return mutate.ConfigFile(img, cf)
}

// writeArchive writes imgs (reference → image) into one docker-archive
// tarball at path, each layer once, and records the result next to it in
// path+".json". It replaces path atomically.
func writeArchive(path string, imgs map[string]v1.Image) ([]Image, error) {
	refs := make(map[name.Reference]v1.Image, len(imgs))
	var out []Image
	for ref, img := range imgs {
		tag, err := name.NewTag(ref)
		if err != nil {
			return nil, fmt.Errorf("reference %q: %w", ref, err)
		}
		refs[tag] = img
		id, err := img.ConfigName()
		if err != nil {
			return nil, err
		}
		out = append(out, Image{Ref: ref, Path: path, ID: id.String()})
	}
	slices.SortFunc(out, func(a, b Image) int { return strings.Compare(a.Ref, b.Ref) })
	tmp := path + ".tmp"
	if err := tarball.MultiRefWriteToFile(tmp, refs); err != nil {
		_ = os.Remove(tmp)
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := writeFileAtomic(path+".json", b); err != nil {
		return nil, err
	}
	return out, nil
}

// cachedArchive returns the Images recorded for the tarball at path, when
// both the tarball and its record are there.
func cachedArchive(path string) ([]Image, bool) {
	if _, err := os.Stat(path); err != nil {
		return nil, false
	}
	b, err := os.ReadFile(path + ".json")
	if err != nil {
		return nil, false
	}
	var out []Image
	if err := json.Unmarshal(b, &out); err != nil || len(out) == 0 {
		return nil, false
	}
	for i := range out {
		out[i].Path = path // the cache directory may have moved
	}
	return out, true
}

func writeFileAtomic(path string, b []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// key is a short hex hash of parts.
func key(parts ...[]byte) string {
	h := sha256.New()
	for _, p := range parts {
		_, _ = fmt.Fprintf(h, "%d:", len(p))
		_, _ = h.Write(p)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// lock takes an exclusive lock on dir (created if missing) against other
// builds in other processes, until the returned func is called.
func lock(ctx context.Context, dir string) (func(), error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { _ = f.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			_ = f.Close()
			return nil, err
		}
		select {
		case <-ctx.Done():
			_ = f.Close()
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// run runs a command, with its output in the error when it fails.
func run(ctx context.Context, dir string, env []string, command string, args ...string) error {
	cmd := exec.CommandContext(ctx, command, args...)
	cmd.Dir = dir
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		const max = 8000
		if len(out) > max {
			out = append([]byte("…"), out[len(out)-max:]...)
		}
		return fmt.Errorf("%s %v: %w\n%s", command, args, err, out)
	}
	return nil
}
