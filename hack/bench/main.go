// Command bench measures the operator against a real kube-apiserver (envtest),
// with the manager binary as its own process, beside the floor a bare client
// reaches in the same run, and prints one table (also written to
// docs/performance.md):
//
//  1. switch latency: spec.activeColor patch → both Services select the target
//
//  2. convergence: N releases created at once → every child and status written
//
//  3. writes at rest: the manager's API writes over 60 s after convergence,
//     a forced resync included (counted in the API server's audit log)
//
//  4. memory and CPU of the manager
//
//     go run ./hack/bench --manager bin/manager [--sizes 100,500,1000] [--switches 200]
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	goruntime "runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
	"github.com/magento-operator/magento-operator/internal/specs"
	"github.com/magento-operator/magento-operator/internal/testenv"
)

const operatorUser = "magento-operator"

type bench struct {
	ctx     context.Context
	env     *envtest.Environment
	c       client.WithWatch
	audit   string
	manager *exec.Cmd
	metrics string
	// pprof is the manager's pprof address; dir holds the run's files.
	pprof, dir string
	// memoryLimit is the container limit the manager runs with, in bytes.
	memoryLimit int64
	rows        [][3]string
	workers     int
	once        sync.Once
}

// keptHeadings start the sections of docs/performance.md that the bench
// keeps as they are: what each change bought (written by hand, figures from
// earlier runs) and the real-cluster scenarios' (test/realtraffic). The
// bench rewrites what comes before the first of them.
var keptHeadings = []string{"## What each change bought", "## Real traffic"}

func main() {
	manager := flag.String("manager", "bin/manager", "the manager binary")
	sizesFlag := flag.String("sizes", "100,500,1000", "release counts for the convergence runs")
	switches := flag.Int("switches", 200, "switches to time")
	out := flag.String("out", "docs/performance.md", "where to write the table")
	idle := flag.Int("idle-deploys", 20, "new tags to deploy to the idle slot on the simulated cluster; 0 skips them")
	onEnvtest := flag.Bool("envtest", true, "run the measurements on envtest (switches, convergence, writes at rest, memory)")
	flag.Parse()
	parts := strings.Split(*sizesFlag, ",")
	sizes := make([]int, 0, len(parts))
	for _, s := range parts {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			fail(err)
		}
		sizes = append(sizes, n)
	}
	b := &bench{ctx: context.Background(), workers: 4}
	// envtest's processes do not die with this one: stop them on every exit.
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go func() { <-signals; b.stop(); os.Exit(130) }()
	if *onEnvtest {
		if err := b.start(*manager); err != nil {
			b.stop()
			fail(err)
		}
		if err := b.run(sizes, *switches); err != nil {
			b.stop()
			fail(err)
		}
		b.stop()
	}
	if *idle > 0 {
		if err := b.idleDeploys(*manager, *idle); err != nil {
			fail(fmt.Errorf("idle deploys: %w", err))
		}
	}
	table := b.table()
	fmt.Print("\n" + table)
	doc := document(table, *sizesFlag, *switches, *idle)
	// The sections written by hand and by `make test-real` stay.
	if old, err := os.ReadFile(*out); err == nil {
		first := -1
		for _, h := range keptHeadings {
			if i := strings.Index(string(old), h); i >= 0 && (first < 0 || i < first) {
				first = i
			}
		}
		if first >= 0 {
			doc = strings.TrimRight(doc, "\n") + "\n\n" + string(old[first:])
		}
	}
	if err := os.WriteFile(*out, []byte(doc), 0o644); err != nil {
		fail(err)
	}
	fmt.Println("written to", *out)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench:", err)
	os.Exit(1)
}

func (b *bench) row(what, value, target string) {
	b.rows = append(b.rows, [3]string{what, value, target})
	fmt.Printf("%-62s %-34s %s\n", what, value, target)
}

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
	scheme := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(scheme)
	_ = v1alpha1.AddToScheme(scheme)
	if b.c, err = client.NewWithWatch(cfg, client.Options{Scheme: scheme}); err != nil {
		return err
	}
	user, err := b.env.AddUser(envtest.User{Name: operatorUser, Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return err
	}
	kc, err := user.KubeConfig()
	if err != nil {
		return err
	}
	kubeconfig := filepath.Join(dir, "operator.kubeconfig")
	if err := os.WriteFile(kubeconfig, kc, 0o600); err != nil {
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

func (b *bench) run(sizes []int, switches int) error {
	stopFaker := b.fakeDeploymentController()
	defer stopFaker()

	// 1. One release: memory, then switch latency.
	ns, err := b.namespace("switch")
	if err != nil {
		return err
	}
	if err := b.createReleases(ns, 1, true); err != nil {
		return err
	}
	if err := b.waitConverged(ns, 1, 2*time.Minute); err != nil {
		return err
	}
	time.Sleep(3 * time.Second)
	rss, heap := b.memory()
	b.row("manager RSS / Go heap, 1 release", fmt.Sprintf("%.1f MiB / %.1f MiB", rss, heap), "RSS ≤ 60 MiB")
	if err := b.switchLatency(ns, switches); err != nil {
		return err
	}

	// 2. Convergence, beside a bare client creating the same objects; each
	// size is cleared before the next, so the memory below is that of the
	// last size (envtest runs no garbage collector: delete it all by hand).
	var previous []string
	for _, n := range sizes {
		if err := b.clear(previous); err != nil {
			return err
		}
		var err error
		if previous, err = b.convergence(n); err != nil {
			return err
		}
	}

	// 3. Writes at rest, a resync included (--sync-period=45s).
	time.Sleep(5 * time.Second)
	before, err := b.operatorWrites()
	if err != nil {
		return err
	}
	time.Sleep(60 * time.Second)
	after, err := b.operatorWrites()
	if err != nil {
		return err
	}
	resyncs := b.metricSum(`controller_runtime_reconcile_total{controller="magentorelease"`)
	b.row(fmt.Sprintf("writes at rest, 60 s after convergence at %d releases", sizes[len(sizes)-1]),
		fmt.Sprintf("%d writes (%.0f reconciles so far)", after-before, resyncs), "0")
	rss, heap = b.memory()
	b.row(fmt.Sprintf("manager RSS / Go heap, %d releases (container limit %d MiB, Go limit 48 MiB under it)", sizes[len(sizes)-1]+1, b.memoryLimit>>20),
		fmt.Sprintf("%.1f MiB / %.1f MiB", rss, heap), "RSS ≤ 150 MiB")
	return b.explainMemory()
}

// explainMemory counts the objects the manager caches, by kind, and prints
// where its heap goes (the profile is kept in the run's directory).
func (b *bench) explainMemory() error {
	managed := client.MatchingLabels{specs.LabelManagedBy: specs.ManagedBy}
	var counts []string
	for _, l := range []struct {
		kind string
		list client.ObjectList
		opts []client.ListOption
	}{
		{"releases", &v1alpha1.MagentoReleaseList{}, nil},
		{"Deployments", &appsv1.DeploymentList{}, []client.ListOption{managed}},
		{"Services", &corev1.ServiceList{}, []client.ListOption{managed}},
		{"PDBs", &policyv1.PodDisruptionBudgetList{}, []client.ListOption{managed}},
	} {
		if err := b.c.List(b.ctx, l.list, l.opts...); err != nil {
			return err
		}
		counts = append(counts, fmt.Sprintf("%d %s", meta.LenList(l.list), l.kind))
	}
	b.row("  cached objects", strings.Join(counts, ", "), "")
	profile := filepath.Join(b.dir, "heap.pprof")
	resp, err := http.Get("http://" + b.pprof + "/debug/pprof/heap?gc=1")
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if err := os.WriteFile(profile, body, 0o600); err != nil {
		return err
	}
	top, err := exec.Command("go", "tool", "pprof", "-top", "-nodecount=15", "-sample_index=inuse_space", profile).CombinedOutput()
	fmt.Printf("heap in use, by function (%s):\n%s\n", profile, top)
	return err
}

// release is a release with both slots, pinned to the fake nodes.
func release(ns, name string) *v1alpha1.MagentoRelease {
	return &v1alpha1.MagentoRelease{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: v1alpha1.MagentoReleaseSpec{
			ActiveColor: v1alpha1.Blue,
			Blue:        &v1alpha1.Slot{Tag: "main-1"},
			Green:       &v1alpha1.Slot{Tag: "main-2"},
			Images:      v1alpha1.Images{App: "registry.example.com/shop/php", Web: "registry.example.com/shop/nginx"},
			Web:         v1alpha1.WebSpec{Port: 8080}, // the API server's default, for the floor's builders
		},
	}
}

func (b *bench) namespace(prefix string) (string, error) {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: prefix + "-"}}
	err := b.c.Create(b.ctx, ns)
	return ns.Name, err
}

func (b *bench) createReleases(ns string, n int, _ bool) error {
	return parallel(n, 16, func(i int) error {
		return b.c.Create(b.ctx, release(ns, fmt.Sprintf("shop-%04d", i)))
	})
}

// waitConverged waits until n releases in ns have their status written,
// Ready, and every child (17 per release with both slots) exists.
func (b *bench) waitConverged(ns string, n int, timeout time.Duration) error {
	start := time.Now()
	for time.Since(start) < timeout {
		list := &v1alpha1.MagentoReleaseList{}
		if err := b.c.List(b.ctx, list, client.InNamespace(ns)); err != nil {
			return err
		}
		done := 0
		for _, r := range list.Items {
			if r.Status.ObservedGeneration == r.Generation && meta.IsStatusConditionTrue(r.Status.Conditions, v1alpha1.ConditionReady) &&
				meta.IsStatusConditionFalse(r.Status.Conditions, v1alpha1.ConditionProgressing) &&
				r.Status.Green != nil && r.Status.Green.Ready {
				done++
			}
		}
		if done == n {
			return nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("%s: releases did not converge within %s", ns, timeout)
}

// switchLatency flips one ready release n times, and the floor: the same two
// Service patches by a bare client, both observed by watch.
func (b *bench) switchLatency(ns string, n int) error {
	key := types.NamespacedName{Namespace: ns, Name: "shop-0000"}
	// svcLat runs from the trigger PATCH to both Services seen on the
	// target; trigger is that PATCH's round trip (the API server validates
	// the release, CEL rules included); share is what follows it: the
	// operator hearing of the change, deciding and writing the Services.
	var svcLat, statusLat, trigger, share []time.Duration
	target := v1alpha1.Green
	for range n {
		w, err := b.c.Watch(b.ctx, &corev1.ServiceList{}, client.InNamespace(ns))
		if err != nil {
			return err
		}
		rw, err := b.c.Watch(b.ctx, &v1alpha1.MagentoReleaseList{}, client.InNamespace(ns),
			&client.ListOptions{FieldSelector: fields.OneTermEqualSelector("metadata.name", key.Name)})
		if err != nil {
			return err
		}
		r := &v1alpha1.MagentoRelease{}
		if err := b.c.Get(b.ctx, key, r); err != nil {
			return err
		}
		start := time.Now()
		if err := b.c.Patch(b.ctx, r, client.RawPatch(types.MergePatchType, []byte(`{"spec":{"activeColor":"`+string(target)+`"}}`))); err != nil {
			return err
		}
		answered := time.Since(start)
		var wg sync.WaitGroup
		wg.Add(2)
		go func() {
			defer wg.Done()
			svcLat = append(svcLat, waitServices(w, key.Name, string(target), start))
		}()
		go func() {
			defer wg.Done()
			statusLat = append(statusLat, waitStatus(rw, target, start))
		}()
		wg.Wait()
		w.Stop()
		rw.Stop()
		trigger = append(trigger, answered)
		share = append(share, svcLat[len(svcLat)-1]-answered)
		if err := b.waitConverged(ns, 1, time.Minute); err != nil { // cron and consumers moved
			return err
		}
		target = target.Other()
	}
	floor, err := b.floorSwitches(n)
	if err != nil {
		return err
	}
	p50, p99 := percentile(svcLat, 50), percentile(svcLat, 99)
	f50, f99 := percentile(floor, 50), percentile(floor, 99)
	s50, s99 := percentile(share, 50), percentile(share, 99)
	b.row(fmt.Sprintf("switch latency p50 / p99 (%d switches): trigger PATCH sent → both Services on the target", n),
		fmt.Sprintf("%s / %s", ms(p50), ms(p99)), "p99 ≤ 40 ms")
	b.row("  of which the trigger PATCH's round trip, p50 / p99", fmt.Sprintf("%s / %s", ms(percentile(trigger, 50)), ms(percentile(trigger, 99))), "")
	b.row("  of which the operator: trigger answered → both Services on the target, p50 / p99", fmt.Sprintf("%s / %s", ms(s50), ms(s99)),
		fmt.Sprintf("p50 ≤ 1.5× floor (%.2f×)", float64(s50)/float64(f50)))
	b.row("floor: bare client, same two Service patches, p50 / p99", fmt.Sprintf("%s / %s", ms(f50), ms(f99)), "")
	b.row("status.activeColor written, after the Services flip, p50 / p99",
		fmt.Sprintf("%s / %s", ms(percentile(statusLat, 50)-p50), ms(percentile(statusLat, 99)-p99)), "within 20 ms")
	return nil
}

// waitServices returns when <name> and <name>-php-fpm both select color.
func waitServices(w watch.Interface, name, color string, start time.Time) time.Duration {
	seen := map[string]bool{}
	for ev := range w.ResultChan() {
		s, ok := ev.Object.(*corev1.Service)
		if !ok || (s.Name != name && s.Name != name+"-php-fpm") {
			continue
		}
		seen[s.Name] = s.Spec.Selector[specs.LabelColor] == color
		if seen[name] && seen[name+"-php-fpm"] {
			return time.Since(start)
		}
	}
	return time.Since(start)
}

func waitStatus(w watch.Interface, color v1alpha1.Color, start time.Time) time.Duration {
	for ev := range w.ResultChan() {
		if r, ok := ev.Object.(*v1alpha1.MagentoRelease); ok && r.Status.ActiveColor == color {
			return time.Since(start)
		}
	}
	return time.Since(start)
}

func (b *bench) floorSwitches(n int) ([]time.Duration, error) {
	ns, err := b.namespace("floor-switch")
	if err != nil {
		return nil, err
	}
	for _, name := range []string{"shop", "shop-php-fpm"} {
		s := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: corev1.ServiceSpec{
			Selector: map[string]string{specs.LabelColor: "blue"}, Ports: []corev1.ServicePort{{Port: 80}}}}
		if err := b.c.Create(b.ctx, s); err != nil {
			return nil, err
		}
	}
	var out []time.Duration
	color := string(v1alpha1.Green)
	for range n {
		w, err := b.c.Watch(b.ctx, &corev1.ServiceList{}, client.InNamespace(ns))
		if err != nil {
			return nil, err
		}
		start := time.Now()
		for _, name := range []string{"shop", "shop-php-fpm"} {
			s := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}
			if err := b.c.Patch(b.ctx, s, client.RawPatch(types.MergePatchType,
				[]byte(`{"spec":{"selector":{"`+specs.LabelColor+`":"`+color+`"}}}`))); err != nil {
				return nil, err
			}
		}
		out = append(out, waitServices(w, "shop", color, start))
		w.Stop()
		color = string(v1alpha1.Color(color).Other())
	}
	return out, nil
}

// convergence creates n releases at once and times them against a bare
// client creating the same children with the same concurrency.
func (b *bench) convergence(n int) ([]string, error) {
	ns, err := b.namespace(fmt.Sprintf("conv-%d", n))
	if err != nil {
		return nil, err
	}
	cpu0 := b.cpuSeconds()
	start := time.Now()
	if err := b.createReleases(ns, n, true); err != nil {
		return nil, err
	}
	if err := b.waitConverged(ns, n, 20*time.Minute); err != nil {
		return nil, err
	}
	took := time.Since(start)
	cpu := b.cpuSeconds() - cpu0

	floorNS, err := b.namespace(fmt.Sprintf("floor-%d", n))
	if err != nil {
		return nil, err
	}
	floorStart := time.Now()
	if err := b.floorCreate(floorNS, n); err != nil {
		return nil, err
	}
	floor := time.Since(floorStart)
	b.row(fmt.Sprintf("convergence, %d releases created at once", n),
		fmt.Sprintf("%s (floor %s, %.2f×), %.1f CPU s", took.Round(10*time.Millisecond), floor.Round(10*time.Millisecond),
			took.Seconds()/floor.Seconds(), cpu), "≤ 1.3× floor at 1,000")
	return []string{ns, floorNS}, nil
}

// clear deletes everything the convergence runs created in namespaces.
func (b *bench) clear(namespaces []string) error {
	kinds := []client.Object{&v1alpha1.MagentoRelease{}, &appsv1.Deployment{}, &corev1.ConfigMap{}, &policyv1.PodDisruptionBudget{}}
	for _, ns := range namespaces {
		for _, k := range kinds {
			if err := b.c.DeleteAllOf(b.ctx, k, client.InNamespace(ns)); err != nil {
				return err
			}
		}
		services := &corev1.ServiceList{}
		if err := b.c.List(b.ctx, services, client.InNamespace(ns)); err != nil {
			return err
		}
		if err := parallel(len(services.Items), 8, func(i int) error { return client.IgnoreNotFound(b.c.Delete(b.ctx, &services.Items[i])) }); err != nil {
			return err
		}
	}
	return nil
}

// floorCreate does, with a bare client and b.workers at once, the writes the
// operator's convergence takes per release: the release (a ConfigMap holding
// it stands in, as the operator would reconcile a real one), its children
// (rendered by the same builders) and the status write (a ConfigMap update).
func (b *bench) floorCreate(ns string, n int) error {
	return parallel(n, b.workers, func(i int) error {
		r := release(ns, fmt.Sprintf("floor-%04d", i))
		raw, err := json.Marshal(r)
		if err != nil {
			return err
		}
		stand := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: r.Name, Namespace: ns}, Data: map[string]string{"release": string(raw)}}
		if err := b.c.Create(b.ctx, stand); err != nil {
			return err
		}
		objs, err := children(r)
		if err != nil {
			return err
		}
		for _, o := range objs {
			if err := b.c.Create(b.ctx, o); err != nil {
				return err
			}
		}
		stand.Data["status"] = `{"activeColor":"blue"}`
		return b.c.Update(b.ctx, stand)
	})
}

func children(r *v1alpha1.MagentoRelease) ([]client.Object, error) {
	var out []client.Object
	for _, color := range v1alpha1.Colors {
		for _, comp := range specs.SlotComponents {
			d, err := specs.Deployment(r, color, comp, *r.Spec.Slot(color), 1)
			if err != nil {
				return nil, err
			}
			out = append(out, d)
		}
		out = append(out, specs.SlotService(r, color), specs.PDB(r, color, specs.Web), specs.PDB(r, color, specs.PHPFPM))
	}
	live := specs.Switch{Color: v1alpha1.Blue}
	out = append(out, specs.ActiveService(r, specs.Web, live), specs.ActiveService(r, specs.PHPFPM, live),
		specs.PreviewService(r, v1alpha1.Green))
	for _, o := range out {
		o.SetOwnerReferences(nil) // the floor has no UID to point at; ownership is not what is timed
		labels := o.GetLabels()
		delete(labels, specs.LabelManagedBy) // keep the floor's objects out of the operator's cache
		o.SetLabels(labels)
	}
	return out, nil
}

// fakeDeploymentController plays the Deployment controller: it writes every
// Deployment's status as rolled out at its spec.
func (b *bench) fakeDeploymentController() func() {
	ctx, cancel := context.WithCancel(b.ctx)
	work := make(chan *appsv1.Deployment, 10000)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for d := range work {
				n := ptr.Deref(d.Spec.Replicas, 1)
				d.Status = appsv1.DeploymentStatus{ObservedGeneration: d.Generation, Replicas: n, UpdatedReplicas: n,
					ReadyReplicas: n, AvailableReplicas: n, TerminatingReplicas: ptr.To[int32](0)}
				_ = b.c.Status().Update(ctx, d)
			}
		}()
	}
	go func() {
		defer close(work)
		for ctx.Err() == nil {
			w, err := b.c.Watch(ctx, &appsv1.DeploymentList{})
			if err != nil {
				time.Sleep(time.Second)
				continue
			}
			for ev := range w.ResultChan() {
				d, ok := ev.Object.(*appsv1.Deployment)
				if ok && ev.Type != watch.Deleted && d.Status.ObservedGeneration < d.Generation {
					work <- d
				}
			}
		}
	}()
	return func() { cancel(); wg.Wait() }
}

// operatorWrites counts the manager's write requests in the audit log.
func (b *bench) operatorWrites() (int, error) {
	time.Sleep(1500 * time.Millisecond) // the audit batch flushes every second
	f, err := os.Open(b.audit)
	if err != nil {
		return 0, err
	}
	defer func() { _ = f.Close() }()
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var ev struct {
			Stage string `json:"stage"`
			User  struct {
				Username string `json:"username"`
			} `json:"user"`
		}
		if json.Unmarshal(sc.Bytes(), &ev) == nil && ev.Stage == "ResponseComplete" && ev.User.Username == operatorUser {
			n++
		}
	}
	return n, sc.Err()
}

// memory is the manager's RSS (from /proc) and Go heap (from its metrics).
func (b *bench) memory() (rss, heap float64) {
	status, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", b.manager.Process.Pid))
	for _, line := range strings.Split(string(status), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			kb, _ := strconv.ParseFloat(strings.Fields(line)[1], 64)
			rss = kb / 1024
		}
	}
	return rss, b.metric("go_memstats_heap_alloc_bytes") / (1 << 20)
}

func (b *bench) cpuSeconds() float64 {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", b.manager.Process.Pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(stat)[strings.LastIndexByte(string(stat), ')')+2:])
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	return (utime + stime) / 100 // USER_HZ
}

// metric reads one sample off the manager's metrics endpoint.
func (b *bench) metric(name string) float64 {
	resp, err := http.Get(b.metrics)
	if err != nil {
		return -1
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, name+" ") {
			v, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimPrefix(line, name)), 64)
			return v
		}
	}
	return -1
}

// metricSum adds up every sample whose line starts with prefix.
func (b *bench) metricSum(prefix string) float64 {
	resp, err := http.Get(b.metrics)
	if err != nil {
		return -1
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(resp.Body)
	sum := 0.0
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, prefix) {
			f := strings.Fields(line)
			v, _ := strconv.ParseFloat(f[len(f)-1], 64)
			sum += v
		}
	}
	return sum
}

func parallel(n, workers int, f func(int) error) error {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
		next = make(chan int)
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := f(i); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	if len(errs) > 0 {
		return errs[0]
	}
	return nil
}

func percentile(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[min(len(s)-1, (len(s)*p+99)/100-1)]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (b *bench) table() string {
	var sb strings.Builder
	sb.WriteString("| measure | result | target |\n|---|---|---|\n")
	for _, r := range b.rows {
		fmt.Fprintf(&sb, "| %s | %s | %s |\n", r[0], r[1], r[2])
	}
	return sb.String()
}

func document(table, sizes string, switches, idle int) string {
	cpu := "unknown"
	if info, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(info), "\n") {
			if strings.HasPrefix(line, "model name") {
				cpu = strings.TrimSpace(strings.SplitN(line, ":", 2)[1])
				break
			}
		}
	}
	return fmt.Sprintf(`# Performance

Measured by `+"`make bench`"+` (hack/bench): a real kube-apiserver and etcd
(envtest), the manager binary as its own process (QPS 200, burst 400, 4
concurrent reconciles), and a bare client doing the same work in the same run
as the floor. Deployment status is written by a stand-in for the Deployment
controller for both. Writes are counted in the API server's audit log, by
the manager's user. The manager runs with the memory limit of its install
bundle (`+"`config/manager`"+`). Idle deploys run on the simulated cluster
(kube-controller-manager's own Deployment controller, kwok's pods ready once
bound; the controller-manager's client rate raised to 500/s so that its
throttle is not what is timed).

Machine: %d cores (%s), %s/%s, %s. Run: `+"`go run ./hack/bench --sizes %s --switches %d --idle-deploys %d`"+`.

%s
`, goruntime.NumCPU(), cpu, goruntime.GOOS, goruntime.GOARCH, time.Now().UTC().Format("2006-01-02"), sizes, switches, idle, table)
}
