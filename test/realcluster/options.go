package realcluster

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/magento-operator/magento-operator/internal/testenv"
)

// Options say where the binaries are and how to run the cluster.
type Options struct {
	// KubeDir holds kube-apiserver, kube-controller-manager, kube-scheduler,
	// kubelet and kube-proxy (`make real-tools`).
	KubeDir string
	// Etcd and CoreDNS are the paths of those binaries.
	Etcd, CoreDNS string
	// Containerd, Ctr and Nsenter, Unshare, IP: host tools (`make real-deps`);
	// found on PATH (and /usr/sbin) when empty.
	Containerd, Ctr, Nsenter, Unshare, IP string
	// CNIBinDir holds the CNI plugins bridge, host-local, portmap and
	// loopback; default /usr/lib/cni (Debian's containernetworking-plugins).
	CNIBinDir string
	// Dir is the state directory (certificates, configs, containerd's root,
	// kubelet's root, logs); empty makes a temporary one, removed by Stop.
	Dir string
	// Name names the network namespace, the cgroup root and the CNI
	// network; default mrel-<pid>. Several clusters need several names.
	Name string
	// NodeName is the Node's name; default "realnode".
	NodeName string
	// Timeout bounds each wait in Start; default 2 minutes.
	Timeout time.Duration
}

// Addresses inside the cluster's network namespace. The namespace has no
// link to anything outside, so these never meet the host's networks.
const (
	NodeIP   = "10.250.0.1" // on the port-less bridge mrelnode0
	nodeCIDR = "10.250.0.1/24"
	// PodCIDR is large so that the CNI's sequential allocation does not
	// hand a pod's address to a new pod within a test: a reused address
	// meets the neighbour cache's entry for the old pod's MAC, and
	// connections to it fail with "no route to host" until that expires.
	PodCIDR       = "10.245.0.0/16" // CNI bridge mrelcni0, gateway 10.245.0.1
	ServiceCIDR   = "10.97.0.0/24"
	APIServiceIP  = "10.97.0.1"  // Service kubernetes
	DNSServiceIP  = "10.97.0.10" // Service kube-system/kube-dns → CoreDNS on NodeIP:53
	APIPort       = 6443
	ClusterDomain = "cluster.local"
)

// DefaultOptions finds the binaries `make real-tools` builds into bin/ (the
// newest of each). REALCLUSTER_KUBE_DIR, REALCLUSTER_ETCD and
// REALCLUSTER_COREDNS override them.
func DefaultOptions() (Options, error) {

	opts := Options{
		KubeDir: testenv.Getenv("REALCLUSTER_KUBE_DIR", testenv.NewestInBin("k8s-*")),
		Etcd:    testenv.Getenv("REALCLUSTER_ETCD", testenv.NewestInBin("etcd-*/etcd")),
		CoreDNS: testenv.Getenv("REALCLUSTER_COREDNS", testenv.NewestInBin("coredns-*")),
	}
	for name, path := range map[string]string{"kube binaries": opts.KubeDir, "etcd": opts.Etcd, coreDNS: opts.CoreDNS} {
		if path == "" {
			return opts, fmt.Errorf("no %s in bin/: run `make real-tools`", name)
		}
	}
	return opts, nil
}

// complete fills in the defaults and finds the host tools on PATH; it
// fails when a tool, a CNI plugin or a Kubernetes binary is missing.
func (o *Options) complete() error {
	if o.Name == "" {
		o.Name = "mrel-" + strconv.Itoa(os.Getpid())
	}
	if len(o.Name) > 12 {
		return fmt.Errorf("name %q: at most 12 characters (it names interfaces and cgroups)", o.Name)
	}
	if o.NodeName == "" {
		o.NodeName = "realnode"
	}
	if o.Timeout == 0 {
		o.Timeout = 2 * time.Minute
	}
	if o.CNIBinDir == "" {
		o.CNIBinDir = "/usr/lib/cni"
	}
	_ = os.Setenv("PATH", os.Getenv("PATH")+":/usr/local/sbin:/usr/sbin:/sbin")
	var missing []string
	look := func(p *string, name string) {
		if *p != "" {
			return
		}
		if path, err := exec.LookPath(name); err == nil {
			*p = path
		} else {
			missing = append(missing, name)
		}
	}
	look(&o.Containerd, "containerd")
	look(&o.Ctr, "ctr")
	look(&o.Nsenter, "nsenter")
	look(&o.Unshare, "unshare")
	look(&o.IP, "ip")
	for _, tool := range []string{"runc", "containerd-shim-runc-v2", "iptables", "iptables-restore", "conntrack"} {
		var p string
		look(&p, tool)
	}
	for _, plugin := range []string{cniBridgePlugin, "host-local", "portmap", "loopback"} {
		if _, err := os.Stat(filepath.Join(o.CNIBinDir, plugin)); err != nil {
			missing = append(missing, "CNI plugin "+plugin)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing %s: run `sudo make real-deps`", strings.Join(missing, ", "))
	}
	for _, b := range []string{"kube-apiserver", "kube-controller-manager", "kube-scheduler", kubelet, kubeProxy} {
		if _, err := os.Stat(filepath.Join(o.KubeDir, b)); err != nil {
			return fmt.Errorf("%s: %w (run `make real-tools`)", b, err)
		}
	}
	return nil
}
