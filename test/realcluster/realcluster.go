// Package realcluster runs a real single-node Kubernetes cluster on this
// machine, as root, offline: etcd, kube-apiserver, kube-controller-manager,
// kube-scheduler, containerd (restrict_oom_score_adj), kubelet, kube-proxy
// (iptables) and CoreDNS, with bridge CNI. Pods are real containers
// (runc), Services are real kube-proxy rules, Service names resolve.
//
// Isolation from the shared machine:
//   - Everything runs in a network namespace of its own (mrel-<pid>) with no
//     link out: the node is a port-less bridge carrying NodeIP. The host
//     reaches the API server through a loopback port this process relays
//     (see Cluster.Kubeconfig), pods and Services through DialContext,
//     HTTPClient, Resolver and Exec.
//   - containerd, kubelet and kube-proxy share a private mount namespace:
//     /run is a tmpfs there, /var/lib and /var/log are overlays with their
//     upper layers under Dir (so /var/lib/kubelet, /var/lib/cni and
//     /var/log/containers never reach the host), and the six kernel
//     tunables kubelet would set machine-wide are fake files.
//   - kubelet's cgroupRoot is /mrel-<pid> in every v1 hierarchy.
//
// Stop (or the death of this process, Pdeathsig) ends every process;
// Stop also removes the cgroups and the network namespace (and /run/netns
// when it made it), so a second Start finds nothing of the first. A later
// Start cleans up after a test process that was killed.
package realcluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/magento-operator/magento-operator/test/proc"
	"github.com/magento-operator/magento-operator/test/realcluster/images"
)

// Cluster is a running real cluster.
type Cluster struct {
	// Dir is the state directory. Kubeconfig is the admin kubeconfig for
	// this machine (through the relayed loopback port; valid while this
	// process runs); NetnsKubeconfig the same inside the namespace
	// (https://NodeIP:6443), for programs started with Exec.
	Dir, Kubeconfig, NetnsKubeconfig string
	// Config is the admin client configuration (host side).
	Config *rest.Config
	// Name names the network namespace, the cgroup root and CNI network;
	// NetnsPath is /run/netns/<Name>; MountNSPath the node's mount namespace.
	Name, NetnsPath, MountNSPath string
	// NodeName is the node's name.
	NodeName string
	// Steps records when each step of Start finished, since Start began.
	Steps []Step

	opts           Options
	containerdSock string
	removeDir      bool
	began          time.Time
	// pause and httpd are the test images, built while the control plane starts.
	pause, httpd images.Image

	mu      sync.Mutex // serialises Stop
	procs   proc.Group
	holder  *proc.Process
	fwd     *forwarder
	cgroups []string
	// what Start made on the host and Stop removes
	madeNetns, madeNetnsDir bool
}

// Step is one milestone of Start.
type Step struct {
	Name string
	At   time.Duration
}

// Component names (and log file names, <name>.log, in Dir).
const (
	kubelet   = "kubelet"
	kubeProxy = "kube-proxy"
	coreDNS   = "coredns"
	admin     = "admin"
	kubeDNS   = "kube-dns"
)

// Namespaces a component joins.
const (
	inNet   = 1 << iota // the cluster's network namespace
	inMount             // the node's mount namespace
)

// Start starts a cluster and returns once the node is Ready, cluster DNS
// is set up and the default ServiceAccount exists. It needs root.
func Start(ctx context.Context, opts Options) (_ *Cluster, err error) {
	began := time.Now()
	if os.Geteuid() != 0 {
		return nil, errors.New("realcluster needs root (network and mount namespaces, cgroups)")
	}
	if err := opts.complete(); err != nil {
		return nil, err
	}
	cleanStale(opts.IP)
	c := &Cluster{Dir: opts.Dir, Name: opts.Name, NodeName: opts.NodeName, opts: opts, began: began}
	c.NetnsPath = filepath.Join(netnsDir, c.Name)
	defer func() {
		if err != nil {
			err = errors.Join(err, c.Stop())
		}
	}()
	if err := c.prepareDir(); err != nil {
		return nil, err
	}

	// Images are built while the rest comes up.
	built := make(chan error, 1)
	go func() { built <- c.buildImages(ctx) }()

	kubeconfigs, err := c.writePKI()
	if err != nil {
		return nil, err
	}
	if err := c.writeConfigs(); err != nil {
		return nil, err
	}
	if err := c.setupNetns(); err != nil {
		return nil, err
	}
	if err := c.setupCgroups(); err != nil {
		return nil, err
	}
	if err := c.startMountNamespace(); err != nil {
		return nil, err
	}
	c.step("namespaces")

	if err := c.startControlPlane(); err != nil {
		return nil, err
	}
	// The controller-manager takes seconds to start its controllers; it
	// waits for the API server itself, so it starts at once.
	if err := c.startControllers(kubeconfigs); err != nil {
		return nil, err
	}
	if _, err := c.start("containerd", inNet|inMount, opts.Containerd, "--config", filepath.Join(c.Dir, "containerd", "config.toml")); err != nil {
		return nil, err
	}

	cs, err := c.hostClient(kubeconfigs)
	if err != nil {
		return nil, err
	}
	if err := c.waitFor(ctx, "the API server to be ready", func() bool {
		body, err := cs.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		return err == nil && string(body) == "ok"
	}); err != nil {
		return nil, err
	}
	c.step("apiserver ready")
	if err := c.setupDNSObjects(ctx, cs); err != nil {
		return nil, err
	}
	if _, err := c.start(coreDNS, inNet, opts.CoreDNS, "-conf", filepath.Join(c.Dir, "Corefile")); err != nil {
		return nil, err
	}

	if err := c.startNodeSide(ctx, cs, kubeconfigs, built); err != nil {
		return nil, err
	}
	return c, nil
}

// hostClient relays the API server to a loopback port of the host, points
// the admin kubeconfig at it and returns a client through it.
func (c *Cluster) hostClient(kubeconfigs map[string]string) (kubernetes.Interface, error) {
	addr, err := c.forwardAPI()
	if err != nil {
		return nil, err
	}
	c.Kubeconfig, c.NetnsKubeconfig = kubeconfigs[admin], kubeconfigs["admin-netns"]
	if err := setServer(c.Kubeconfig, "https://"+addr); err != nil {
		return nil, err
	}
	if c.Config, err = clientcmd.BuildConfigFromFlags("", c.Kubeconfig); err != nil {
		return nil, err
	}
	return kubernetes.NewForConfig(c.Config)
}

// prepareDir makes the state directory (a temporary one unless Options.Dir).
func (c *Cluster) prepareDir() error {
	var err error
	if c.Dir == "" {
		if c.Dir, err = os.MkdirTemp("", "realcluster-"); err != nil {
			return err
		}
		c.removeDir = true
		// A later Start removes the directory if this process dies first.
		if err := os.WriteFile(filepath.Join(c.Dir, staleMarker), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
			return err
		}
	}
	if c.Dir, err = filepath.Abs(c.Dir); err != nil {
		return err
	}
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return err
	}
	c.procs.Dir = c.Dir
	c.containerdSock = filepath.Join(c.Dir, "run", "containerd-"+c.Name+".sock")
	if len(c.containerdSock) > 100 {
		return fmt.Errorf("state directory %s is too long for a unix socket path", c.Dir)
	}
	return nil
}

// startNodeSide imports the images once containerd answers, starts kubelet
// and kube-proxy, and waits for the node and the default ServiceAccount.
func (c *Cluster) startNodeSide(ctx context.Context, cs kubernetes.Interface, kubeconfigs map[string]string, built <-chan error) error {
	if err := c.waitFor(ctx, "containerd", func() bool {
		return exec.CommandContext(ctx, c.opts.Ctr, "-a", c.containerdSock, "version").Run() == nil
	}); err != nil {
		return err
	}
	if err := <-built; err != nil {
		return err
	}
	c.step("images built")
	if err := c.Import(ctx, c.pause); err != nil {
		return err
	}
	c.step("pause image imported")
	if err := c.startNode(kubeconfigs); err != nil {
		return err
	}
	if err := c.Import(ctx, c.httpd); err != nil {
		return err
	}
	if err := c.waitFor(ctx, "the node to be Ready", func() bool {
		n, err := cs.CoreV1().Nodes().Get(ctx, c.NodeName, metav1.GetOptions{})
		return err == nil && nodeReady(n)
	}); err != nil {
		return err
	}
	c.step("node ready")
	if err := c.WaitForServiceAccount(ctx, "default"); err != nil {
		return err
	}
	c.step("default ServiceAccount")
	return nil
}

func (c *Cluster) step(name string) {
	c.Steps = append(c.Steps, Step{Name: name, At: time.Since(c.began)})
}

// Stop stops every process the cluster started, kills its containers and
// removes what it made outside Dir: cgroups, the network namespace,
// /run/netns if it made it (and Dir, when Start made it). It is safe to
// call twice.
func (c *Cluster) Stop() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	if c.fwd != nil {
		errs = append(errs, c.fwd.close())
		c.fwd = nil
	}
	// The node's agents first, so nothing restarts the containers.
	for _, name := range []string{coreDNS, kubeProxy, kubelet} {
		for _, p := range c.procs.Processes() {
			if p.Name == name {
				p.Stop(processGrace)
			}
		}
	}
	if len(c.cgroups) > 0 && c.Name != "" {
		// Every hierarchy: kubelet and runc also make the tree in the v2 one.
		roots, _ := filepath.Glob(filepath.Join("/sys/fs/cgroup", "*", c.Name))
		errs = append(errs, killCgroupTree(roots))
		c.cgroups = nil
	}
	if c.containerdSock != "" {
		killShims(c.containerdSock)
	}
	c.procs.StopAll(processGrace)
	c.holder = nil
	if c.madeNetns {
		if err := exec.Command(c.opts.IP, "netns", "del", c.Name).Run(); err != nil {
			errs = append(errs, fmt.Errorf("ip netns del %s: %w", c.Name, err))
		}
		c.madeNetns = false
	}
	if c.madeNetnsDir {
		errs = append(errs, removeNetnsDir())
		c.madeNetnsDir = false
	}
	if c.removeDir {
		errs = append(errs, os.RemoveAll(c.Dir))
		c.removeDir = false
	}
	return errors.Join(errs...)
}

// processGrace is how long a component may take to stop after SIGTERM.
const processGrace = 10 * time.Second

// Logs returns the end of a component's log, for failure reports.
func (c *Cluster) Logs(name string, lines int) string { return c.procs.Logs(name, lines) }

// PIDs returns the process ids of the components, by name.
func (c *Cluster) PIDs() map[string]int {
	pids := map[string]int{}
	for _, p := range c.procs.Processes() {
		pids[p.Name] = p.Cmd.Process.Pid
	}
	return pids
}
