//go:build real

// The smoke test needs root and `make real-deps real-tools`:
//
//	sudo make test-real     (go test -tags real ./test/realcluster/ -v)
package realcluster_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/magento-operator/magento-operator/test/realcluster"
)

// hostPaths are what kubelet, containerd and the CNI plugins write by
// default; a run must leave each as it found it.
var hostPaths = []string{"/var/lib/kubelet", "/var/log/containers", "/var/lib/cni", "/run/containerd", "/run/netns", "/run/xtables.lock"}

var hostSysctls = []string{"vm/overcommit_memory", "vm/panic_on_oom", "kernel/panic", "kernel/panic_on_oops",
	"kernel/keys/root_maxkeys", "kernel/keys/root_maxbytes", "net/ipv4/ip_forward",
	"net/netfilter/nf_conntrack_max", "net/netfilter/nf_conntrack_tcp_timeout_established"}

func snapshot() map[string]string {
	s := map[string]string{}
	for _, p := range hostPaths {
		_, err := os.Lstat(p)
		s[p] = fmt.Sprint(err == nil)
	}
	for _, k := range hostSysctls {
		b, _ := os.ReadFile("/proc/sys/" + k)
		s[k] = strings.TrimSpace(string(b))
	}
	out, _ := exec.Command("iptables-save").Output()
	s["host iptables KUBE rules"] = fmt.Sprint(strings.Count(string(out), "KUBE-"))
	return s
}

func TestSmoke(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	opts, err := realcluster.DefaultOptions()
	if err != nil {
		t.Fatal(err)
	}
	before := snapshot()
	// Twice in a row: the second start must find nothing of the first.
	for _, run := range []string{"cold", "warm"} {
		t.Run(run, func(t *testing.T) { smoke(t, opts, before) })
	}
}

func smoke(t *testing.T, opts realcluster.Options, before map[string]string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	began := time.Now()
	c, err := realcluster.Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	defer func() {
		if !stopped {
			_ = c.Stop()
		}
	}()
	var steps []string
	for _, s := range c.Steps {
		steps = append(steps, fmt.Sprintf("%s %.1fs", s.Name, s.At.Seconds()))
	}
	t.Logf("started in %.1fs: %s", time.Since(began).Seconds(), strings.Join(steps, ", "))
	fail := func(format string, args ...any) {
		t.Helper()
		for _, name := range []string{"kubelet", "containerd", "kube-proxy", "coredns"} {
			t.Logf("--- %s.log:\n%s", name, c.Logs(name, 15))
		}
		t.Fatalf(format, args...)
	}

	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	labels := map[string]string{"app": "web"}
	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](2),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					TerminationGracePeriodSeconds: ptr.To[int64](2),
					Containers: []corev1.Container{{
						Name: "httpd", Image: realcluster.HTTPDImage, ImagePullPolicy: corev1.PullNever,
						Ports: []corev1.ContainerPort{{ContainerPort: 8080}},
						ReadinessProbe: &corev1.Probe{
							ProbeHandler:  corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/", Port: intstr.FromInt32(8080)}},
							PeriodSeconds: 1,
						},
					}},
				},
			},
		},
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: corev1.ServiceSpec{Selector: labels, Ports: []corev1.ServicePort{
			{Port: 80, TargetPort: intstr.FromInt32(8080)},
		}},
	}
	applied := time.Now()
	if _, err := cs.AppsV1().Deployments("default").Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if svc, err = cs.CoreV1().Services("default").Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	// From the node's network namespace, through kube-proxy's ClusterIP rules.
	client := c.HTTPClient(3 * time.Second)
	get := func(url string) (int, string, error) {
		resp, err := client.Get(url)
		if err != nil {
			return 0, "", err
		}
		defer func() { _ = resp.Body.Close() }()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), err
	}
	clusterIP := "http://" + svc.Spec.ClusterIP
	var lastErr error
	deadline := time.Now().Add(2 * time.Minute)
	for {
		code, _, err := get(clusterIP + "/")
		if err == nil && code == http.StatusOK {
			break
		}
		lastErr = fmt.Errorf("%d %v", code, err)
		if time.Now().After(deadline) {
			fail("no 200 from %s: %v", clusterIP, lastErr)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("first 200 through ClusterIP %.1fs after Start began, %.1fs after the Deployment was created",
		time.Since(began).Seconds(), time.Since(applied).Seconds())

	// Both pods answer behind the ClusterIP.
	hosts := map[string]bool{}
	for i := 0; i < 50 && len(hosts) < 2; i++ {
		if _, body, err := get(clusterIP + "/"); err == nil {
			hosts[strings.Fields(body)[0]] = true
		}
	}
	if len(hosts) < 2 {
		fail("expected both pods behind the ClusterIP, got %v", hosts)
	}

	// Cluster DNS from the node: CoreDNS at the kube-dns ClusterIP.
	name := "web.default.svc." + realcluster.ClusterDomain
	ips, err := c.Resolver().LookupHost(ctx, name)
	if err != nil || len(ips) != 1 || ips[0] != svc.Spec.ClusterIP {
		fail("resolving %s: %v %v (want %s)", name, ips, err, svc.Spec.ClusterIP)
	}
	if code, body, err := get("http://" + name + "/by-name"); err != nil || code != http.StatusOK {
		fail("GET by name: %d %q %v", code, body, err)
	}
	// Cluster DNS from a pod: its resolv.conf (kubelet clusterDNS and
	// search path) and pod → Service → pod routing.
	for _, u := range []string{"http://" + name + "/from-pod", "http://web/short-name"} {
		code, body, err := get(clusterIP + "/get?url=" + u)
		if err != nil || code != http.StatusOK || !strings.Contains(body, "web-") {
			fail("GET %s from a pod: %d %q %v", u, code, body, err)
		}
	}
	t.Logf("DNS and Service routing checked %.1fs after Start began", time.Since(began).Seconds())

	// Exec runs programs next to the node.
	if out, err := c.Exec(ctx, "ip", "-4", "-o", "addr", "show").CombinedOutput(); err != nil ||
		!strings.Contains(string(out), realcluster.NodeIP) {
		fail("Exec ip addr: %v\n%s", err, out)
	}

	rss := 0
	pids := c.PIDs()
	for _, pid := range pids {
		rss += rssKiB(pid)
	}
	t.Logf("RSS of the components with 2 pods: %d MiB", rss/1024)

	stopBegan := time.Now()
	err = c.Stop()
	stopped = true
	if err != nil {
		t.Fatalf("Stop: %v", err)
	}
	t.Logf("Stop took %.1fs", time.Since(stopBegan).Seconds())

	for name, pid := range pids {
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) && !zombie(pid) {
			t.Errorf("%s (pid %d) still runs", name, pid)
		}
	}
	if out, _ := exec.Command("pgrep", "-f", c.ContainerdSocket()).Output(); len(out) > 0 {
		t.Errorf("processes still use %s: %s", c.ContainerdSocket(), out)
	}
	if m, _ := filepath.Glob("/sys/fs/cgroup/*/" + c.Name); len(m) > 0 {
		t.Errorf("cgroups left: %v", m)
	}
	if _, err := os.Stat(c.NetnsPath); err == nil {
		t.Errorf("network namespace %s left", c.NetnsPath)
	}
	if _, err := os.Stat(c.Dir); err == nil {
		t.Errorf("state directory %s left", c.Dir)
	}
	if mounts, _ := os.ReadFile("/proc/self/mountinfo"); strings.Contains(string(mounts), c.Dir) {
		t.Errorf("mounts under %s left", c.Dir)
	}
	after := snapshot()
	for k, v := range before {
		if after[k] != v {
			t.Errorf("host %s changed: %s → %s", k, v, after[k])
		}
	}
}

func rssKiB(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			var n int
			_, _ = fmt.Sscan(f[1], &n)
			return n
		}
	}
	return 0
}

func zombie(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	return err != nil || strings.Contains(string(b), ") Z ")
}
