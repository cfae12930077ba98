// Command coredns is CoreDNS with only the plugins the real-node test
// cluster (test/realcluster) needs: kubernetes for cluster.local, and the
// plumbing around it. Built from the pinned github.com/coredns/coredns
// module through the Go module proxy; nothing is forwarded upstream.
package main

import (
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loadbalance"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/ready"
	_ "github.com/coredns/coredns/plugin/whoami"
)

func main() { coremain.Run() }
