// Command simcluster runs the simulated cluster in the foreground until
// interrupted: etcd, kube-apiserver, kube-controller-manager, kube-scheduler
// and kwok on loopback, with fake nodes whose pods become Ready.
//
//	go run ./hack/simcluster [--dir DIR] [--nodes N]
//
// It prints the admin kubeconfig's path; Ctrl-C stops every process it started.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/magento-operator/magento-operator/test/simcluster"
)

func main() {
	opts, err := simcluster.DefaultOptions()
	if err != nil {
		fmt.Fprintln(os.Stderr, "simcluster:", err)
		os.Exit(1)
	}
	flag.StringVar(&opts.Dir, "dir", "", "state directory (default: a temporary one, removed on exit)")
	flag.IntVar(&opts.Nodes, "nodes", 3, "fake nodes")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	c, err := simcluster.Start(ctx, opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "simcluster:", err)
		os.Exit(1)
	}
	fmt.Printf("simulated cluster ready in %s\nexport KUBECONFIG=%s\n", time.Since(start).Round(100*time.Millisecond), c.Kubeconfig)
	<-ctx.Done()
	fmt.Println("stopping")
	if err := c.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "simcluster:", err)
		os.Exit(1)
	}
}
