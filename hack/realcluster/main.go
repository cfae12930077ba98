// Command realcluster runs a real single-node cluster in the foreground
// until interrupted: etcd, kube-apiserver, kube-controller-manager,
// kube-scheduler, containerd, kubelet, kube-proxy and CoreDNS in a network
// namespace of their own (see test/realcluster). Needs root.
//
//	sudo go run ./hack/realcluster [--dir DIR]
//
// It prints the admin kubeconfig's path (usable from this machine while it
// runs) and how to run commands next to the node; Ctrl-C stops everything
// and removes what it made outside DIR.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/magento-operator/magento-operator/test/realcluster"
)

func main() {
	opts, err := realcluster.DefaultOptions()
	if err != nil {
		fmt.Fprintln(os.Stderr, "realcluster:", err)
		os.Exit(1)
	}
	flag.StringVar(&opts.Dir, "dir", "", "state directory (default: a temporary one, removed on exit)")
	flag.StringVar(&opts.Name, "name", "", "name of the network namespace and cgroup root (default mrel-<pid>)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	c, err := realcluster.Start(ctx, opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "realcluster:", err)
		os.Exit(1)
	}
	fmt.Printf("real cluster ready in %s", time.Since(start).Round(100*time.Millisecond))
	for _, s := range c.Steps {
		fmt.Printf(" | %s %s", s.Name, s.At.Round(100*time.Millisecond))
	}
	fmt.Printf(`
state:   %s (component logs: <name>.log)
export KUBECONFIG=%s
# inside the cluster's network namespace (node IP %s, Services %s, DNS %s):
nsenter --net=%s -- <command>          # or: ip netns exec %s <command>
#   kubeconfig there: %s
# images: pods use imagePullPolicy: Never; %s is imported. Import more with
ctr -a %s -n k8s.io images import <image.tar>
Ctrl-C stops the cluster.
`, c.Dir, c.Kubeconfig, realcluster.NodeIP, realcluster.ServiceCIDR, realcluster.DNSServiceIP,
		c.NetnsPath, c.Name, c.NetnsKubeconfig, realcluster.HTTPDImage, c.ContainerdSocket())
	<-ctx.Done()
	fmt.Println("stopping")
	begin := time.Now()
	if err := c.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "realcluster:", err)
		os.Exit(1)
	}
	fmt.Printf("stopped in %s\n", time.Since(begin).Round(100*time.Millisecond))
}
