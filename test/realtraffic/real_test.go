//go:build real

package realtraffic

import (
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
	"github.com/magento-operator/magento-operator/internal/testenv"
	"github.com/magento-operator/magento-operator/test/realcluster"
	"github.com/magento-operator/magento-operator/test/realcluster/images"
)

const badTag = "bad-3"

// TestRealTraffic runs the operator, installed from its bundle, on the real
// single-node cluster and sends real requests through the shop's public
// Service while it switches, scales the idle slot down, rolls back, holds a
// bad release and loses its pod. It fails when any request failed.
func TestRealTraffic(t *testing.T) {
	ctx := context.Background()
	root := testenv.RepoRoot()
	cache := filepath.Join(root, "bin", "realimages")
	shop, err := images.ShopImages(ctx, cache, []string{"main-1", "main-2", badTag}, map[string]bool{badTag: true})
	if err != nil {
		t.Fatal(err)
	}
	op, err := images.OperatorImage(ctx, root, cache)
	if err != nil {
		t.Fatal(err)
	}
	loadgenBin := filepath.Join(t.TempDir(), "loadgen")
	if out, err := exec.Command("go", "build", "-o", loadgenBin, filepath.Join(root, "hack", "loadgen")).CombinedOutput(); err != nil {
		t.Fatalf("building loadgen: %v\n%s", err, out)
	}

	opts, err := realcluster.DefaultOptions()
	if err != nil {
		t.Fatal(err)
	}
	begin := time.Now()
	cluster, err := realcluster.Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(cluster.Logs("kubelet", 40))
		}
		if err := cluster.Stop(); err != nil {
			t.Error(err)
		}
	})
	t.Logf("real cluster up in %s", time.Since(begin).Round(100*time.Millisecond))
	if err := images.Import(ctx, cluster.ContainerdSocket(), append(shop, op)...); err != nil {
		t.Fatal(err)
	}
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, v1alpha1.AddToScheme} {
		if err := add(scheme); err != nil {
			t.Fatal(err)
		}
	}
	c, err := client.New(cluster.Config, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	if err := InstallOperator(ctx, c, images.OperatorRef, 3*time.Minute); err != nil {
		t.Fatal(err)
	}
	t.Logf("operator running %s after start", time.Since(begin).Round(100*time.Millisecond))

	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop"}}
	if err := c.Create(ctx, ns); err != nil {
		t.Fatal(err)
	}
	if err := cluster.WaitForServiceAccount(ctx, ns.Name); err != nil {
		t.Fatal(err)
	}
	rel := &v1alpha1.MagentoRelease{
		ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: ns.Name},
		Spec: v1alpha1.MagentoReleaseSpec{
			ActiveColor:   v1alpha1.Blue,
			Blue:          &v1alpha1.Slot{Tag: "main-1"},
			Green:         &v1alpha1.Slot{Tag: "main-2"},
			Images:        v1alpha1.Images{App: images.ShopAppRepo, Web: images.ShopWebRepo, PullPolicy: corev1.PullNever},
			IdleScaleDown: v1alpha1.IdleScaleDownSpec{Enabled: ptr.To(false)},
		},
	}
	if err := c.Create(ctx, rel); err != nil {
		t.Fatal(err)
	}
	env := Env{Client: c, InCluster: cluster.Exec, Loadgen: loadgenBin, Rate: 200, Timeout: 3 * time.Minute, Logf: t.Logf}
	if err := env.waitFor(ctx, "both slots ready", func() (bool, error) {
		cur, err := env.get(ctx, rel)
		if err != nil {
			return false, err
		}
		g := cur.Status.Green
		return meta.IsStatusConditionTrue(cur.Status.Conditions, v1alpha1.ConditionReady) && g != nil && g.Ready, nil
	}); err != nil {
		t.Fatal(err)
	}
	t.Logf("shop ready on both slots %s after start", time.Since(begin).Round(100*time.Millisecond))

	operatorPods := map[string]string{"control-plane": "controller-manager"}
	type scenario struct {
		name  string
		steps []Step
		// lines splits the result into named lines by step-name prefix.
		lines map[string]string
	}
	repeat := func(n int, f func(i int) []Step) []Step {
		var out []Step
		for i := 1; i <= n; i++ {
			out = append(out, f(i)...)
		}
		return out
	}
	scenarios := []scenario{
		{name: "switches", steps: repeat(20, func(i int) []Step { return []Step{Switch(i), Wait(fmt.Sprintf("settled %d", i), time.Second)} })},
		{name: "idle scale-downs and rollbacks", steps: repeat(5, func(i int) []Step {
			return []Step{ScaleDownIdle(i), Wait(fmt.Sprintf("scaled down %d", i), 2*time.Second), Switch(i)}
		}), lines: map[string]string{"idle scale-downs": "scale", "rollbacks to a scaled-down slot": "asked switched"}},
		{name: "bad release holds the switch", steps: []Step{HeldSwitch(badTag, 30*time.Second), Wait("called off", 5*time.Second),
			Deploy("main-2")}},
		{name: "operator killed during switches", steps: repeat(3, func(i int) []Step {
			return []Step{Switch(i), KillOperator(OperatorNamespace, operatorPods), Wait(fmt.Sprintf("after kill %d", i), 5*time.Second)}
		})},
	}
	// Both kinds of load run at once, each at env.Rate.
	modes := []bool{true, false}
	var lines []string
	for _, s := range scenarios {
		reports, err := env.Run(ctx, rel, modes, s.steps...)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		for i, keepAlive := range modes {
			suffix := " (" + Connections(keepAlive) + ")"
			results := []Result{summarize(s.name+suffix, keepAlive, reports[i], nil)}
			if len(s.lines) > 0 {
				results = nil
				for _, line := range slices.Sorted(maps.Keys(s.lines)) {
					results = append(results, summarize(line+suffix, keepAlive, reports[i], prefixed(strings.Fields(s.lines[line]))))
				}
			}
			for _, res := range results {
				lines = append(lines, res.Line())
				t.Logf("%s: the old slot answered requests sent up to %s after the switch", res.Scenario, res.OldTail.Round(time.Millisecond))
			}
			for _, st := range reports[i].Steps {
				if st.Failed > 0 {
					t.Errorf("%s%s: step %q: %d of %d requests failed: %v", s.name, suffix, st.Name, st.Failed, st.Requests, st.Errors)
				}
			}
		}
	}
	for _, l := range lines {
		fmt.Fprintln(os.Stdout, l)
	}
}
