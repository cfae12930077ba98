// The environment the envtest measurements run in: kube-apiserver and etcd
// with an audit log of the manager's writes, a client for the bench, and the
// manager binary as its own process and user.

package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
	"github.com/magento-operator/magento-operator/internal/testenv"
)

// operatorUser is the manager's user: the audit log records its writes.
const operatorUser = "magento-operator"

// start runs envtest with an audit log, and the manager as its own user.
func (b *bench) start(manager string) error {
	dir, err := os.MkdirTemp("", "bench-")
	if err != nil {
		return err
	}
	policy := filepath.Join(dir, "audit-policy.yaml")
	if err := os.WriteFile(policy, []byte("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n"+
		"- level: Metadata\n  users: [\""+operatorUser+"\"]\n  verbs: [create, update, patch, delete, deletecollection]\n- level: None\n"), 0o600); err != nil {
		return err
	}
	b.audit = filepath.Join(dir, "audit.log")
	b.env = testenv.New()
	api := b.env.ControlPlane.GetAPIServer()
	api.Configure().Set("audit-policy-file", policy).Set("audit-log-path", b.audit).Set("audit-log-format", "json").
		Set("audit-log-mode", "batch").Set("audit-log-batch-max-wait", "1s").Set("max-requests-inflight", "2000").
		Set("max-mutating-requests-inflight", "1000").
		Set("service-cluster-ip-range", "10.96.0.0/12") // room for 5 Services × thousands of releases
	cfg, err := b.env.Start()
	if err != nil {
		return err
	}
	cfg.QPS, cfg.Burst = -1, 0 // the floor runs unthrottled
	if b.c, err = client.NewWithWatch(cfg, client.Options{Scheme: newScheme()}); err != nil {
		return err
	}
	kubeconfig, err := b.operatorKubeconfig(dir)
	if err != nil {
		return err
	}
	port, err := freePort()
	if err != nil {
		return err
	}
	b.metrics = fmt.Sprintf("http://127.0.0.1:%d/metrics", port)
	pprofPort := port
	for pprofPort == port { // a port just freed may come back
		if pprofPort, err = freePort(); err != nil {
			return err
		}
	}
	b.pprof, b.dir = fmt.Sprintf("127.0.0.1:%d", pprofPort), dir
	b.manager = exec.Command(manager, "--kubeconfig="+kubeconfig, "--metrics-secure=false", "--pprof-bind-address="+b.pprof,
		fmt.Sprintf("--metrics-bind-address=127.0.0.1:%d", port), "--health-probe-bind-address=0",
		"--sync-period=45s", fmt.Sprintf("--max-concurrent-reconciles=%d", b.workers))
	// The manager runs with the memory limit its install bundle gives it.
	if b.memoryLimit, err = shippedMemoryLimit(); err != nil {
		return err
	}
	b.manager.Env = append(os.Environ(), fmt.Sprintf("MEMORY_LIMIT=%d", b.memoryLimit))
	log, err := os.Create(filepath.Join(dir, "manager.log"))
	if err != nil {
		return err
	}
	b.manager.Stdout, b.manager.Stderr = log, log
	b.manager.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	fmt.Printf("envtest and manager started (logs in %s)\n", dir)
	return b.manager.Start()
}

// newScheme knows the built-in kinds and MagentoRelease.
func newScheme() *runtime.Scheme {
	scheme := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(scheme)
	_ = v1alpha1.AddToScheme(scheme)
	return scheme
}

// operatorKubeconfig adds the manager's user, a cluster admin, and writes
// its kubeconfig into dir.
func (b *bench) operatorKubeconfig(dir string) (string, error) {
	user, err := b.env.AddUser(envtest.User{Name: operatorUser, Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return "", err
	}
	kc, err := user.KubeConfig()
	if err != nil {
		return "", err
	}
	kubeconfig := filepath.Join(dir, "operator.kubeconfig")
	return kubeconfig, os.WriteFile(kubeconfig, kc, 0o600)
}

// shippedMemoryLimit is the manager container's memory limit in
// config/manager, in bytes, as the downward API hands it to MEMORY_LIMIT.
func shippedMemoryLimit() (int64, error) {
	raw, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "config", "manager", "manager.yaml"))
	if err != nil {
		return 0, err
	}
	for _, doc := range strings.Split(string(raw), "\n---") {
		d := &appsv1.Deployment{}
		if err := yaml.Unmarshal([]byte(doc), d); err != nil || d.Kind != "Deployment" {
			continue
		}
		for _, c := range d.Spec.Template.Spec.Containers {
			if m, ok := c.Resources.Limits[corev1.ResourceMemory]; ok {
				return m.Value(), nil
			}
		}
	}
	return 0, fmt.Errorf("config/manager/manager.yaml: no memory limit on the manager")
}

// stop stops the manager and envtest, once, whatever called it first.
func (b *bench) stop() {
	b.once.Do(b.shutdown)
}

func (b *bench) shutdown() {
	if b.manager != nil && b.manager.Process != nil {
		_ = b.manager.Process.Kill()
		_, _ = b.manager.Process.Wait()
	}
	if b.env != nil {
		_ = b.env.Stop()
	}
}

// namespace creates a namespace named from prefix.
func (b *bench) namespace(prefix string) (string, error) {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: prefix + "-"}}
	err := b.c.Create(b.ctx, ns)
	return ns.Name, err
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port, nil
}
