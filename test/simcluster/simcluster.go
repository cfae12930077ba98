// Package simcluster runs a small Kubernetes cluster on this machine, on
// loopback only: etcd, kube-apiserver, kube-controller-manager,
// kube-scheduler and kwok, whose fake nodes run pods that become Ready
// without containers. Deployments roll out, ReplicaSets create pods, the
// garbage collector deletes what an owner leaves behind: what envtest lacks.
package simcluster

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/magento-operator/magento-operator/test/proc"

	"github.com/magento-operator/magento-operator/test/pki"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Options say where the binaries are and what to run.
type Options struct {
	// KubeDir holds kube-apiserver, kube-controller-manager and kube-scheduler.
	KubeDir string
	// Etcd and Kwok are the paths of those binaries.
	Etcd, Kwok string
	// KwokStages is kwok's kustomize/stage directory (from its module source).
	KwokStages string
	// Dir is the state directory (certificates, kubeconfigs, data, logs);
	// empty makes a temporary one, removed by Stop.
	Dir string
	// Nodes is the number of fake nodes; default 3.
	Nodes int
	// UnreadyTag: pods whose first container's image has this tag never
	// become ready, to give tests a release that cannot roll out. Default "broken".
	UnreadyTag string
	// FailTag: pods of Jobs whose first container's image has this tag
	// fail: phase Failed, their container terminated with exit code 1 and a
	// termination message, to give tests a migration that fails. Default "failing".
	FailTag string
	// FeatureGates are passed to kube-apiserver and kube-controller-manager
	// (--feature-gates), e.g. {"DeploymentReplicaSetTerminatingReplicas": false}
	// to behave like a cluster older than Kubernetes 1.35.
	FeatureGates map[string]bool
	// ControllerQPS, when set, is kube-controller-manager's --kube-api-qps
	// (its burst half as much again, as by default); default 20, its own.
	// A benchmark raises it so as not to measure the controller-manager's
	// client throttle instead of what it times.
	ControllerQPS int
	// WriterTermination is how long deleted cron and consumer pods stay
	// terminating before kwok removes them (other pods go at once), so that
	// a terminating pod really lingers. Default 5s; negative: at once.
	WriterTermination time.Duration
}

// Cluster is a running simulated cluster.
type Cluster struct {
	// Dir is the state directory; Kubeconfig the admin kubeconfig in it.
	Dir, Kubeconfig string
	// Config is the admin client configuration.
	Config *rest.Config

	removeDir bool
	procs     proc.Group
}

// Fake nodes carry this annotation, label and taint; pods need the matching
// toleration and node selector (see PodTolerations and PodNodeSelector).
const (
	nodeAnnotation = "kwok.x-k8s.io/node"
	nodeLabel      = "type"
	fake           = "fake"
	kwokNodes      = "kwok"
)

// PodTolerations let pods onto the fake nodes.
var PodTolerations = []corev1.Toleration{{Key: nodeAnnotation, Operator: corev1.TolerationOpEqual, Value: fake, Effect: corev1.TaintEffectNoSchedule}}

// PodNodeSelector puts pods on the fake nodes.
var PodNodeSelector = map[string]string{nodeLabel: kwokNodes}

// Start starts a cluster and returns once its API server answers, its nodes
// are Ready and the default ServiceAccount exists.
func Start(ctx context.Context, opts Options) (_ *Cluster, err error) {
	if opts.Nodes == 0 {
		opts.Nodes = 3
	}
	if opts.UnreadyTag == "" {
		opts.UnreadyTag = "broken"
	}
	if opts.FailTag == "" {
		opts.FailTag = "failing"
	}
	if opts.WriterTermination == 0 {
		opts.WriterTermination = 5 * time.Second
	}
	c := &Cluster{Dir: opts.Dir}
	if c.Dir == "" {
		if c.Dir, err = os.MkdirTemp("", "simcluster-"); err != nil {
			return nil, err
		}
		c.removeDir = true
	}
	defer func() {
		if err != nil {
			_ = c.Stop()
		}
	}()
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return nil, err
	}
	c.procs.Dir = c.Dir
	ports, err := freePorts(4)
	if err != nil {
		return nil, err
	}
	etcdPort, etcdPeer, apiPort, kwokPort := ports[0], ports[1], ports[2], ports[3]
	server := "https://127.0.0.1:" + strconv.Itoa(apiPort)

	kubeconfigs, err := c.writePKI(server)
	if err != nil {
		return nil, err
	}
	stages, err := writeStages(c.Dir, opts)
	if err != nil {
		return nil, err
	}
	d := c.Dir
	file := func(name string) string { return filepath.Join(d, name) }

	if err := c.run("etcd", opts.Etcd,
		"--name=sim", "--data-dir="+file("etcd"),
		"--listen-client-urls=http://127.0.0.1:"+strconv.Itoa(etcdPort),
		"--advertise-client-urls=http://127.0.0.1:"+strconv.Itoa(etcdPort),
		"--listen-peer-urls=http://127.0.0.1:"+strconv.Itoa(etcdPeer),
		"--initial-advertise-peer-urls=http://127.0.0.1:"+strconv.Itoa(etcdPeer),
		"--initial-cluster=sim=http://127.0.0.1:"+strconv.Itoa(etcdPeer),
		"--unsafe-no-fsync", "--quota-backend-bytes=2147483648"); err != nil {
		return nil, err
	}
	if err := c.run("kube-apiserver", filepath.Join(opts.KubeDir, "kube-apiserver"),
		"--etcd-servers=http://127.0.0.1:"+strconv.Itoa(etcdPort),
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", "--secure-port="+strconv.Itoa(apiPort),
		"--endpoint-reconciler-type=none",
		"--tls-cert-file="+file("apiserver.crt"), "--tls-private-key-file="+file("apiserver.key"),
		"--client-ca-file="+file("ca.crt"),
		"--service-account-issuer=https://kubernetes.default.svc", "--service-account-key-file="+file("sa.pub"),
		"--service-account-signing-key-file="+file("sa.key"),
		"--service-cluster-ip-range=10.96.0.0/16", "--authorization-mode=RBAC", "--allow-privileged=true",
		"--requestheader-client-ca-file="+file("front-proxy-ca.crt"), "--requestheader-allowed-names=front-proxy-client",
		"--requestheader-extra-headers-prefix=X-Remote-Extra-", "--requestheader-group-headers=X-Remote-Group",
		"--requestheader-username-headers=X-Remote-User",
		"--proxy-client-cert-file="+file("front-proxy-client.crt"), "--proxy-client-key-file="+file("front-proxy-client.key"),
		featureGates(opts.FeatureGates),
	); err != nil {
		return nil, err
	}
	c.Kubeconfig = kubeconfigs["admin"]
	if c.Config, err = clientcmd.BuildConfigFromFlags("", c.Kubeconfig); err != nil {
		return nil, err
	}
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		return nil, err
	}
	if err := c.waitFor(ctx, "the API server to be ready", 60*time.Second, func() bool {
		body, err := cs.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		return err == nil && string(body) == "ok"
	}); err != nil {
		return nil, err
	}

	if err := c.startControllers(opts, kubeconfigs, stages, kwokPort); err != nil {
		return nil, err
	}
	if err := c.startNodes(ctx, cs, opts.Nodes); err != nil {
		return nil, err
	}
	return c, nil
}

// startControllers starts the controller-manager, the scheduler and kwok.
func (c *Cluster) startControllers(opts Options, kubeconfigs map[string]string, stages string, kwokPort int) error {
	file := func(name string) string { return filepath.Join(c.Dir, name) }
	qps := 20 // kube-controller-manager's default
	if opts.ControllerQPS > 0 {
		qps = opts.ControllerQPS
	}
	if err := c.run("kube-controller-manager", filepath.Join(opts.KubeDir, "kube-controller-manager"),
		"--kubeconfig="+kubeconfigs["controller-manager"],
		"--authentication-kubeconfig="+kubeconfigs["controller-manager"],
		"--authorization-kubeconfig="+kubeconfigs["controller-manager"],
		"--bind-address=127.0.0.1", "--secure-port=0", "--leader-elect=false",
		"--use-service-account-credentials=true",
		"--service-account-private-key-file="+file("sa.key"), "--root-ca-file="+file("ca.crt"),
		"--cluster-signing-cert-file="+file("ca.crt"), "--cluster-signing-key-file="+file("ca.key"),
		"--controllers=*",
		"--concurrent-deployment-syncs=10", "--concurrent-replicaset-syncs=10",
		featureGates(opts.FeatureGates),
		"--kube-api-qps="+strconv.Itoa(qps), "--kube-api-burst="+strconv.Itoa(qps*3/2),
	); err != nil {
		return err
	}
	if err := c.run("kube-scheduler", filepath.Join(opts.KubeDir, "kube-scheduler"),
		"--kubeconfig="+kubeconfigs["scheduler"],
		"--authentication-kubeconfig="+kubeconfigs["scheduler"],
		"--authorization-kubeconfig="+kubeconfigs["scheduler"],
		"--bind-address=127.0.0.1", "--secure-port=0", "--leader-elect=false",
	); err != nil {
		return err
	}
	if err := c.run("kwok", opts.Kwok,
		"--kubeconfig="+kubeconfigs["admin"], "--config="+stages,
		"--manage-all-nodes=false", "--manage-nodes-with-annotation-selector="+nodeAnnotation+"="+fake,
		"--node-lease-duration-seconds=40", "--cidr=10.244.0.0/16", "--node-ip=127.0.0.1",
		"--server-address=127.0.0.1:"+strconv.Itoa(kwokPort),
	); err != nil {
		return err
	}
	return nil
}

// featureGates is the --feature-gates flag for gates, sorted; an empty map
// gives the flag with no gates, which changes nothing.
func featureGates(gates map[string]bool) string {
	kv := make([]string, 0, len(gates))
	for name, on := range gates {
		kv = append(kv, name+"="+strconv.FormatBool(on))
	}
	sort.Strings(kv)
	return "--feature-gates=" + strings.Join(kv, ",")
}

// startNodes creates the fake nodes and waits until kwok made them Ready and
// the default ServiceAccount exists.
func (c *Cluster) startNodes(ctx context.Context, cs kubernetes.Interface, n int) error {
	if err := c.createNodes(ctx, cs, n); err != nil {
		return err
	}
	if err := c.waitFor(ctx, "the fake nodes to be Ready", 60*time.Second, func() bool {
		nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil || len(nodes.Items) < n {
			return false
		}
		for _, n := range nodes.Items {
			if !nodeReady(&n) {
				return false
			}
		}
		return true
	}); err != nil {
		return err
	}
	return c.WaitForServiceAccount(ctx, "default")
}

// WaitForServiceAccount waits until the controller-manager made the default
// ServiceAccount of a new namespace, which its pods need.
func (c *Cluster) WaitForServiceAccount(ctx context.Context, namespace string) error {
	what, made, err := proc.DefaultServiceAccount(ctx, c.Config, namespace)
	if err != nil {
		return err
	}
	return c.waitFor(ctx, what, 60*time.Second, made)
}

// Stop stops every process the cluster started, newest first, and removes
// the state directory when Start made it. It is safe to call twice.
func (c *Cluster) Stop() error {
	c.procs.StopAll(10 * time.Second)
	if c.removeDir {
		c.removeDir = false
		return os.RemoveAll(c.Dir)
	}
	return nil
}

// Logs returns the end of a component's log, for failure reports.
func (c *Cluster) Logs(name string, lines int) string { return c.procs.Logs(name, lines) }

// run starts a component (see proc.Group).
func (c *Cluster) run(name, path string, args ...string) error {
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("%s: %w (run `make tools` to build it)", name, err)
	}
	_, err := c.procs.Start(name, append([]string{path}, args...)...)
	return err
}

// waitFor polls ok until it holds, a component exits, or the timeout passes.
func (c *Cluster) waitFor(ctx context.Context, what string, timeout time.Duration, ok func() bool) error {
	return c.procs.WaitFor(ctx, what, timeout, 200*time.Millisecond, ok)
}

// writePKI makes the certificates, the service-account key and a kubeconfig
// per client; it returns the kubeconfig paths by client.
func (c *Cluster) writePKI(server string) (map[string]string, error) {
	d := c.Dir
	ca, err := pki.NewAuthority(d, "ca")
	if err != nil {
		return nil, err
	}
	proxyCA, err := pki.NewAuthority(d, "front-proxy-ca")
	if err != nil {
		return nil, err
	}
	if _, _, err := ca.Issue(d, "apiserver", "kube-apiserver", nil,
		[]string{"127.0.0.1", "10.96.0.1", "localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"}); err != nil {
		return nil, err
	}
	if _, _, err := proxyCA.Issue(d, "front-proxy-client", "front-proxy-client", nil, nil); err != nil {
		return nil, err
	}
	if err := pki.WriteServiceAccountKey(d); err != nil {
		return nil, err
	}
	return ca.WriteKubeconfigs(d, "sim", server,
		pki.Client{Name: "admin", User: "admin", Groups: []string{"system:masters"}},
		pki.Client{Name: "controller-manager", User: "system:kube-controller-manager"},
		pki.Client{Name: "scheduler", User: "system:kube-scheduler"})
}

func (c *Cluster) createNodes(ctx context.Context, cs kubernetes.Interface, n int) error {
	for i := range n {
		node := &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{
				Name:        fmt.Sprintf("kwok-node-%d", i),
				Annotations: map[string]string{nodeAnnotation: fake},
				Labels:      map[string]string{nodeLabel: kwokNodes, "kubernetes.io/hostname": fmt.Sprintf("kwok-node-%d", i)},
			},
			Spec: corev1.NodeSpec{Taints: []corev1.Taint{{Key: nodeAnnotation, Value: fake, Effect: corev1.TaintEffectNoSchedule}}},
			Status: corev1.NodeStatus{
				Allocatable: nodeResources(), Capacity: nodeResources(),
				NodeInfo: corev1.NodeSystemInfo{KubeletVersion: "fake", OperatingSystem: "linux", Architecture: "amd64"},
			},
		}
		if _, err := cs.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("creating node %s: %w", node.Name, err)
		}
	}
	return nil
}

func nodeResources() corev1.ResourceList {
	return corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("64"),
		corev1.ResourceMemory: resource.MustParse("512Gi"),
		corev1.ResourcePods:   resource.MustParse("500"),
	}
}

func nodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// freePorts asks the kernel for n free loopback ports.
func freePorts(n int) ([]int, error) {
	var ports []int
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			_ = l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
