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
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/magento-operator/magento-operator/internal/testenv"
	"github.com/magento-operator/magento-operator/test/realcluster/images"

	"github.com/magento-operator/magento-operator/test/proc"

	"github.com/magento-operator/magento-operator/test/pki"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"
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

func (c *Cluster) step(name string) {
	c.Steps = append(c.Steps, Step{Name: name, At: time.Since(c.began)})
}

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

// startControlPlane starts etcd and kube-apiserver in the namespace.
func (c *Cluster) startControlPlane() error {
	file := func(name string) string { return filepath.Join(c.Dir, name) }
	if _, err := c.start("etcd", inNet, c.opts.Etcd,
		"--name=real", "--data-dir="+file("etcd"),
		"--listen-client-urls=http://127.0.0.1:2379", "--advertise-client-urls=http://127.0.0.1:2379",
		"--listen-peer-urls=http://127.0.0.1:2380", "--initial-advertise-peer-urls=http://127.0.0.1:2380",
		"--initial-cluster=real=http://127.0.0.1:2380", "--listen-metrics-urls=",
		"--unsafe-no-fsync", "--quota-backend-bytes=2147483648"); err != nil {
		return err
	}
	_, err := c.start("kube-apiserver", inNet, filepath.Join(c.opts.KubeDir, "kube-apiserver"),
		"--etcd-servers=http://127.0.0.1:2379",
		"--bind-address=0.0.0.0", "--advertise-address="+NodeIP, "--secure-port="+strconv.Itoa(APIPort),
		"--tls-cert-file="+file("apiserver.crt"), "--tls-private-key-file="+file("apiserver.key"),
		"--client-ca-file="+file("ca.crt"),
		"--service-account-issuer=https://kubernetes.default.svc", "--service-account-key-file="+file("sa.pub"),
		"--service-account-signing-key-file="+file("sa.key"),
		"--service-cluster-ip-range="+ServiceCIDR, "--authorization-mode=Node,RBAC", "--allow-privileged=true",
		"--kubelet-client-certificate="+file("apiserver-kubelet-client.crt"),
		"--kubelet-client-key="+file("apiserver-kubelet-client.key"),
		"--kubelet-certificate-authority="+file("ca.crt"),
		"--kubelet-preferred-address-types=InternalIP,Hostname",
		"--requestheader-client-ca-file="+file("front-proxy-ca.crt"), "--requestheader-allowed-names=front-proxy-client",
		"--requestheader-extra-headers-prefix=X-Remote-Extra-", "--requestheader-group-headers=X-Remote-Group",
		"--requestheader-username-headers=X-Remote-User",
		"--proxy-client-cert-file="+file("front-proxy-client.crt"), "--proxy-client-key-file="+file("front-proxy-client.key"),
	)
	return err
}

// startControllers starts the controller-manager and the scheduler.
func (c *Cluster) startControllers(kubeconfigs map[string]string) error {
	file := func(name string) string { return filepath.Join(c.Dir, name) }
	kcm := kubeconfigs["controller-manager"]
	if _, err := c.start("kube-controller-manager", inNet, filepath.Join(c.opts.KubeDir, "kube-controller-manager"),
		"--kubeconfig="+kcm, "--authentication-kubeconfig="+kcm, "--authorization-kubeconfig="+kcm,
		"--bind-address=127.0.0.1", "--secure-port=0", "--leader-elect=false",
		"--use-service-account-credentials=true", "--allocate-node-cidrs=false",
		"--service-account-private-key-file="+file("sa.key"), "--root-ca-file="+file("ca.crt"),
		"--cluster-signing-cert-file="+file("ca.crt"), "--cluster-signing-key-file="+file("ca.key"),
		"--controllers=*", "--concurrent-deployment-syncs=10", "--concurrent-replicaset-syncs=10",
	); err != nil {
		return err
	}
	sch := kubeconfigs["scheduler"]
	_, err := c.start("kube-scheduler", inNet, filepath.Join(c.opts.KubeDir, "kube-scheduler"),
		"--kubeconfig="+sch, "--authentication-kubeconfig="+sch, "--authorization-kubeconfig="+sch,
		"--bind-address=127.0.0.1", "--secure-port=0", "--leader-elect=false")
	return err
}

// startNode starts kubelet and kube-proxy in the node's namespaces.
func (c *Cluster) startNode(kubeconfigs map[string]string) error {
	file := func(name string) string { return filepath.Join(c.Dir, name) }
	if _, err := c.start(kubelet, inNet|inMount, filepath.Join(c.opts.KubeDir, kubelet),
		"--config="+file("kubelet-config.yaml"), "--kubeconfig="+kubeconfigs[kubelet],
		"--root-dir="+file(kubelet), "--cert-dir="+file("kubelet-certs"),
		"--hostname-override="+c.NodeName, "--node-ip="+NodeIP, "--v=1",
	); err != nil {
		return err
	}
	_, err := c.start(kubeProxy, inNet|inMount, filepath.Join(c.opts.KubeDir, kubeProxy),
		"--config="+file("kube-proxy.yaml"), "--v=1")
	return err
}

// setupDNSObjects gives CoreDNS read access and makes Service
// kube-system/kube-dns at DNSServiceIP with a hand-made EndpointSlice
// pointing at CoreDNS on NodeIP:53.
func (c *Cluster) setupDNSObjects(ctx context.Context, cs kubernetes.Interface) error {
	role := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "realcluster:coredns"},
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{""}, Resources: []string{"endpoints", "services", "pods", "namespaces"}, Verbs: []string{"list", "watch"}},
			{APIGroups: []string{"discovery.k8s.io"}, Resources: []string{"endpointslices"}, Verbs: []string{"list", "watch"}},
		},
	}
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "realcluster:coredns"},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: role.Name},
		Subjects:   []rbacv1.Subject{{APIGroup: "rbac.authorization.k8s.io", Kind: "User", Name: "system:coredns"}},
	}
	ports := []corev1.ServicePort{
		{Name: "dns", Protocol: corev1.ProtocolUDP, Port: 53, TargetPort: intstr.FromInt32(53)},
		{Name: "dns-tcp", Protocol: corev1.ProtocolTCP, Port: 53, TargetPort: intstr.FromInt32(53)},
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: kubeDNS, Namespace: "kube-system", Labels: map[string]string{"k8s-app": kubeDNS}},
		Spec:       corev1.ServiceSpec{ClusterIP: DNSServiceIP, Ports: ports}, // no selector: endpoints are ours
	}
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Name: "kube-dns-node", Namespace: "kube-system", Labels: map[string]string{
			discoveryv1.LabelServiceName: kubeDNS, discoveryv1.LabelManagedBy: "realcluster",
		}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints: []discoveryv1.Endpoint{{
			Addresses:  []string{NodeIP},
			Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)},
			NodeName:   ptr.To(c.NodeName),
		}},
		Ports: []discoveryv1.EndpointPort{
			{Name: ptr.To("dns"), Protocol: ptr.To(corev1.ProtocolUDP), Port: ptr.To[int32](53)},
			{Name: ptr.To("dns-tcp"), Protocol: ptr.To(corev1.ProtocolTCP), Port: ptr.To[int32](53)},
		},
	}
	ignoreExists := func(err error) error {
		if apierrors.IsAlreadyExists(err) {
			return nil
		}
		return err
	}
	if _, err := cs.RbacV1().ClusterRoles().Create(ctx, role, metav1.CreateOptions{}); ignoreExists(err) != nil {
		return err
	}
	if _, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, binding, metav1.CreateOptions{}); ignoreExists(err) != nil {
		return err
	}
	if _, err := cs.CoreV1().Services("kube-system").Create(ctx, svc, metav1.CreateOptions{}); ignoreExists(err) != nil {
		return err
	}
	if _, err := cs.DiscoveryV1().EndpointSlices("kube-system").Create(ctx, slice, metav1.CreateOptions{}); ignoreExists(err) != nil {
		return err
	}
	return nil
}

// WaitForServiceAccount waits until the controller-manager made the default
// ServiceAccount of a namespace, which its pods need.
func (c *Cluster) WaitForServiceAccount(ctx context.Context, namespace string) error {
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		return err
	}
	return c.waitFor(ctx, "ServiceAccount "+namespace+"/default", func() bool {
		_, err := cs.CoreV1().ServiceAccounts(namespace).Get(ctx, "default", metav1.GetOptions{})
		return err == nil
	})
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

// start runs a component in its own process group, in the namespaces ns
// asks for (nsenter execs, so the pid is the component's); it dies with
// this process (Pdeathsig), so a crashed test leaves no component behind.
func (c *Cluster) start(name string, ns int, path string, args ...string) (*proc.Process, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var argv []string
	if ns != 0 {
		argv = append(argv, c.opts.Nsenter)
		if ns&inMount != 0 {
			argv = append(argv, "--mount="+c.MountNSPath)
		}
		if ns&inNet != 0 {
			argv = append(argv, "--net="+c.NetnsPath)
		}
		argv = append(argv, "--")
	}
	argv = append(argv, path)
	argv = append(argv, args...)
	return c.procs.Start(name, argv...)
}

// sh runs a short setup command.
func (c *Cluster) sh(name string, args ...string) error {
	if b, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		return fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, b)
	}
	return nil
}

// waitFor polls ok until it holds, a component exits, or the timeout passes.
func (c *Cluster) waitFor(ctx context.Context, what string, ok func() bool) error {
	return c.procs.WaitFor(ctx, what, c.opts.Timeout, 100*time.Millisecond, ok)
}

// writePKI makes the certificates, the service-account key and a kubeconfig
// per client; it returns the kubeconfig paths by client.
func (c *Cluster) writePKI() (map[string]string, error) {
	d := c.Dir
	ca, err := pki.NewAuthority(d, "ca")
	if err != nil {
		return nil, err
	}
	proxyCA, err := pki.NewAuthority(d, "front-proxy-ca")
	if err != nil {
		return nil, err
	}
	if _, _, err := ca.Issue(d, "apiserver", "kube-apiserver", nil, []string{
		"127.0.0.1", NodeIP, APIServiceIP, "localhost", "kubernetes", "kubernetes.default",
		"kubernetes.default.svc", "kubernetes.default.svc." + ClusterDomain,
	}); err != nil {
		return nil, err
	}
	if _, _, err := ca.Issue(d, "kubelet-serving", "system:node:"+c.NodeName, []string{"system:nodes"},
		[]string{NodeIP, c.NodeName, "localhost", "127.0.0.1"}); err != nil {
		return nil, err
	}
	if _, _, err := ca.Issue(d, "apiserver-kubelet-client", "kube-apiserver-kubelet-client", []string{"system:masters"}, nil); err != nil {
		return nil, err
	}
	if _, _, err := proxyCA.Issue(d, "front-proxy-client", "front-proxy-client", nil, nil); err != nil {
		return nil, err
	}
	if err := pki.WriteServiceAccountKey(d); err != nil {
		return nil, err
	}
	// admin-netns is the admin's kubeconfig for use inside the namespace;
	// the host's (admin) is pointed at the API relay once it runs.
	inside := "https://" + net.JoinHostPort(NodeIP, strconv.Itoa(APIPort))
	masters := []string{"system:masters"}
	return ca.WriteKubeconfigs(d, "real", inside,
		pki.Client{Name: admin, User: admin, Groups: masters},
		pki.Client{Name: "admin-netns", User: admin, Groups: masters},
		pki.Client{Name: "controller-manager", User: "system:kube-controller-manager"},
		pki.Client{Name: "scheduler", User: "system:kube-scheduler"},
		pki.Client{Name: kubelet, User: "system:node:" + c.NodeName, Groups: []string{"system:nodes"}},
		pki.Client{Name: kubeProxy, User: "system:kube-proxy"},
		pki.Client{Name: coreDNS, User: "system:coredns"})
}

// setServer points a kubeconfig's clusters at server.
func setServer(path, server string) error {
	cfg, err := clientcmd.LoadFromFile(path)
	if err != nil {
		return err
	}
	for _, cl := range cfg.Clusters {
		cl.Server = server
	}
	return clientcmd.WriteToFile(*cfg, path)
}

func nodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
