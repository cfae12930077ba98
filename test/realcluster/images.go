package realcluster

import (
	"context"

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
