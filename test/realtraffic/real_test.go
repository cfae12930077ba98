//go:build real

package realtraffic

import (
	"context"
	"fmt"
	"maps"
	"net/http"
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
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
	"github.com/magento-operator/magento-operator/internal/testenv"
	"github.com/magento-operator/magento-operator/test/builder"
	"github.com/magento-operator/magento-operator/test/realcluster/images"
)

// Tags of the shop beside main-1 and main-2: one whose health check
// answers 500, one whose storefront does from the start, and one whose
// storefront breaks after 20 pages a pod.
const (
	badTag         = "bad-3"
	brokenTag      = "broken-4"
	breaksLaterTag = "breaks-5"
)

// TestRealTraffic runs the operator, installed from its bundle, on the real
// single-node cluster and sends real requests through the shop's public
// Service while it switches, scales the idle slot down, rolls back, holds a
// bad release and loses its pod. It fails when any request failed.
func TestRealTraffic(t *testing.T) {
	ctx := context.Background()
	root := testenv.RepoRoot()
	loadgenBin := filepath.Join(t.TempDir(), "loadgen")
	if out, err := exec.Command("go", "build", "-o", loadgenBin, filepath.Join(root, "hack", "loadgen")).CombinedOutput(); err != nil {
		t.Fatalf("building loadgen: %v\n%s", err, out)
	}
	shop, err := StartShop(ctx, images.ShopConfig{Tags: []string{"main-1", "main-2", badTag, brokenTag, breaksLaterTag},
		Bad: map[string]bool{badTag: true}, BrokenAfter: map[string]int{brokenTag: 0, breaksLaterTag: 20}})
	if err != nil {
		t.Fatal(err)
	}
	cluster, c := shop.Cluster, shop.Client
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(cluster.Logs("kubelet", 40))
		}
		if err := cluster.Stop(); err != nil {
			t.Error(err)
		}
	})
	t.Logf("real cluster up in %s, operator running %s after its start",
		shop.Up.Round(100*time.Millisecond), shop.Operator.Round(100*time.Millisecond))
	begin := time.Now().Add(-shop.Operator)
	if err := shop.Namespace(ctx, "shop"); err != nil {
		t.Fatal(err)
	}
	rel := builder.MakeRelease("shop", "shop").Green("main-2").NoIdleScaleDown().
		With(func(r *v1alpha1.MagentoRelease) { r.Spec.Images = Images() }).
		// The storefront must answer with a page; checked before every
		// switch and for a minute after, every second.
		Verification(v1alpha1.VerificationSpec{
			Checks: []v1alpha1.HTTPCheck{{Path: "/health_check.php"}, {Path: "/", Contains: "version="}},
			Window: &metav1.Duration{Duration: time.Minute}, Interval: &metav1.Duration{Duration: time.Second},
		}).Obj()
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
	// Ready says the pods are; kube-proxy programs the Service a moment later.
	if err := env.waitFor(ctx, "Service "+rel.Name+" to answer", func() (bool, error) {
		svc := &corev1.Service{}
		if err := c.Get(ctx, client.ObjectKeyFromObject(rel), svc); err != nil {
			return false, err
		}
		resp, err := cluster.HTTPClient(time.Second).Get("http://" + svc.Spec.ClusterIP + "/")
		if err != nil {
			return false, err
		}
		_ = resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
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
		// mayFail names the steps in which requests may fail: those a
		// broken release serves until the checks see it.
		mayFail func(step string) bool
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
		{name: "broken storefront caught before the switch", steps: []Step{HeldSwitch(brokenTag, 20*time.Second),
			Wait("called off", 5*time.Second), Deploy("main-2")}},
		{name: "storefront breaking after the switch is switched back", steps: []Step{SwitchedBack(breaksLaterTag, 1),
			Wait("called off", 5*time.Second), Deploy("main-2")},
			// From the switch until traffic is back; then while kube-proxy
			// catches up, and on pooled connections to the broken slot's
			// nginx until the next deploy replaces its pods.
			mayFail: prefixed([]string{"switched ", "traffic back on ", "called off", "deploy "})},
		{name: "operator killed during switches", steps: repeat(3, func(i int) []Step {
			return []Step{Switch(i), KillOperator(OperatorNamespace, operatorPods), Wait(fmt.Sprintf("after kill %d", i), 5*time.Second)}
		})},
	}
	// Both kinds of load run at once, each at env.Rate.
	modes := []bool{true, false}
	var lines []string
	defer func() {
		for _, l := range lines {
			fmt.Fprintln(os.Stdout, l)
		}
	}()
	t.Cleanup(func() {
		// Stopping pods is routine: no hook of the operator's may fail on it.
		events := &corev1.EventList{}
		if err := c.List(ctx, events, client.InNamespace(rel.Namespace)); err != nil {
			t.Error(err)
		}
		for _, e := range events.Items {
			if e.Reason == "FailedPreStopHook" || e.Reason == "FailedKillPod" {
				t.Errorf("%s %s: %s: %s (%d times)", e.InvolvedObject.Kind, e.InvolvedObject.Name, e.Reason, e.Message, e.Count)
			}
		}
	})
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			t.Cleanup(func() {
				if t.Failed() {
					t.Log(diagnose(ctx, c, cluster.Config, rel))
				}
			})
			reports, err := env.Run(ctx, rel, modes, s.steps...)
			if err != nil {
				t.Fatal(err)
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
					t.Logf("%s: slowest answer %s; the old slot answered requests sent up to %s after the switch",
						res.Scenario, res.Report.Totals(nil).Slowest.Round(time.Millisecond), res.OldTail.Round(time.Millisecond))
				}
				for _, st := range reports[i].Steps {
					if st.Slowest > time.Second {
						t.Logf("%s: step %q: slowest answer %s", suffix, st.Name, st.Slowest.Round(time.Millisecond))
					}
					if st.Failed > 0 && s.mayFail != nil && s.mayFail(st.Name) {
						t.Logf("%s: step %q: %d of %d requests failed while the broken release served, before the checks saw it: %v",
							suffix, st.Name, st.Failed, st.Requests, st.Errors)
						continue
					}
					if st.Failed > 0 {
						t.Errorf("%s: step %q: %d of %d requests failed: %v", suffix, st.Name, st.Failed, st.Requests, st.Errors)
					}
				}
			}
		})
	}
}
