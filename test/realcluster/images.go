package realcluster

import (
	"context"
	"fmt"
	"os/exec"
)

// Images of the test programs in testimages/, packed on the spot. Pods use
// them with imagePullPolicy Never: nothing ever contacts a registry.
const (
	PauseImage = "localhost/mrel/pause:1"
	HTTPDImage = "localhost/mrel/httpd:1"
)

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
