package realcluster

import (
	"context"
	"os"
	"path/filepath"

	"github.com/magento-operator/magento-operator/internal/testenv"
	"github.com/magento-operator/magento-operator/test/realcluster/images"
)

// Images of the test programs in testimages/, packed on the spot. Pods use
// them with imagePullPolicy Never: nothing ever contacts a registry.
const (
	PauseImage = "localhost/mrel/pause:1"
	HTTPDImage = "localhost/mrel/httpd:1"
)

// Import imports images into the node's containerd, namespace k8s.io,
// where the kubelet finds them.
func (c *Cluster) Import(ctx context.Context, imgs ...images.Image) error {
	return images.Import(ctx, c.opts.Ctr, c.containerdSock, "k8s.io", imgs...)
}

// ContainerdSocket is the node's containerd socket (for ctr -a).
func (c *Cluster) ContainerdSocket() string { return c.containerdSock }

// buildImages packs the pause and httpd test images into c.pause and c.httpd.
func (c *Cluster) buildImages(ctx context.Context) (err error) {
	dir := filepath.Join(c.Dir, "images")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	root := testenv.RepoRoot()
	if c.pause, err = images.GoImage(ctx, root, "./test/realcluster/testimages/pause", PauseImage, filepath.Join(dir, "pause.tar")); err != nil {
		return err
	}
	c.httpd, err = images.GoImage(ctx, root, "./test/realcluster/testimages/httpd", HTTPDImage, filepath.Join(dir, "httpd.tar"))
	return err
}
