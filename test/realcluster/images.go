package realcluster

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/magento-operator/magento-operator/internal/testenv"
)

// Images of the test programs in testimages/, packed on the spot. Pods use
// them with imagePullPolicy Never: nothing ever contacts a registry.
const (
	PauseImage = "localhost/mrel/pause:1"
	HTTPDImage = "localhost/mrel/httpd:1"
)

// BuildGoImage builds the main package pkg (a path relative to the
// repository root, e.g. "./test/realcluster/testimages/httpd") as a static
// linux binary and packs it, alone, as a docker-archive image tarball named
// ref at out, with the binary as entrypoint. env is the image's environment.
func BuildGoImage(ctx context.Context, pkg, ref, out string, env ...string) error {
	bin := out + ".bin"
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, pkg)
	cmd.Dir = testenv.RepoRoot()
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %w\n%s", pkg, err, b)
	}
	defer func() { _ = os.Remove(bin) }()
	file := filepath.Base(pkg)
	return PackFiles(ref, out, []string{"/" + file}, env, map[string]string{file: bin})
}

// PackFiles writes a one-layer docker-archive image tarball named ref to
// out, holding files (path in the image, without leading slash → path on
// this machine), all mode 0755, with the given entrypoint and environment.
func PackFiles(ref, out string, entrypoint, env []string, files map[string]string) error {
	var layer bytes.Buffer
	tw := tar.NewWriter(&layer)
	for dst, src := range files {
		b, err := os.ReadFile(src)
		if err != nil {
			return err
		}
		hdr := &tar.Header{Name: dst, Mode: 0o755, Size: int64(len(b)), ModTime: time.Unix(0, 0), Typeflag: tar.TypeReg}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if _, err := tw.Write(b); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	raw := layer.Bytes()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(raw)), nil })
	if err != nil {
		return err
	}
	img, err := mutate.AppendLayers(empty.Image, l)
	if err != nil {
		return err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", runtime.GOARCH
	cf.Config = v1.Config{Entrypoint: entrypoint, Env: env}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		return err
	}
	tag, err := name.NewTag(ref)
	if err != nil {
		return err
	}
	return tarball.WriteToFile(out, tag, img)
}

// ImportImage imports an image tarball (docker-archive or OCI layout tar)
// into the node's containerd, namespace k8s.io, where the kubelet finds it.
func (c *Cluster) ImportImage(ctx context.Context, tarballPath string) error {
	cmd := exec.CommandContext(ctx, c.opts.Ctr, "-a", c.containerdSock, "-n", "k8s.io", "images", "import", tarballPath)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("ctr images import %s: %w\n%s", tarballPath, err, b)
	}
	return nil
}

// ContainerdSocket is the node's containerd socket (for ctr -a).
func (c *Cluster) ContainerdSocket() string { return c.containerdSock }
