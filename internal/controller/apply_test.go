package controller

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
	"github.com/magento-operator/magento-operator/internal/bluegreen"
	"github.com/magento-operator/magento-operator/internal/specs"
	"github.com/magento-operator/magento-operator/test/builder"
)

// TestApplyWrites checks the exact writes the apply layer sends for given
// children and a given plan, and the problems it reports instead of writing.
func TestApplyWrites(t *testing.T) {
	sch := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(sch); err != nil {
		t.Fatal(err)
	}
	if err := v1alpha1.AddToScheme(sch); err != nil {
		t.Fatal(err)
	}
	rel := builder.MakeRelease("stage", "shop").UID("uid-shop").Generation(2).Green("main-2").Obj()
	v1, v2 := *rel.Spec.Blue, *rel.Spec.Green
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	full := map[specs.Component]int32{specs.Web: 2, specs.PHPFPM: 2, specs.Cron: 1, specs.Consumer: 1}
	idle := map[specs.Component]int32{specs.Web: 2, specs.PHPFPM: 2, specs.Cron: 0, specs.Consumer: 0}
	// blueOnly plans blue alone, rendered when render is set.
	blueOnly := func(render bool) bluegreen.Plan {
		return bluegreen.Plan{Active: v1alpha1.Blue, Switch: specs.Switch{Color: v1alpha1.Blue},
			Slots: map[v1alpha1.Color]*bluegreen.SlotPlan{v1alpha1.Blue: {Version: v1, Render: render, Replicas: full, Running: true}}}
	}
	// both plans blue serving and green deployed at v2 when render is set.
	both := func(render bool) bluegreen.Plan {
		return bluegreen.Plan{Active: v1alpha1.Blue, Switch: specs.Switch{Color: v1alpha1.Blue}, Preview: v1alpha1.Green,
			Slots: map[v1alpha1.Color]*bluegreen.SlotPlan{
				v1alpha1.Blue:  {Version: v1, Replicas: full, Running: true},
				v1alpha1.Green: {Version: v2, Render: render, Replicas: idle, Running: true},
			}}
	}
	// slotObjects are the objects of a slot as the operator builds them.
	slotObjects := func(color v1alpha1.Color, v v1alpha1.Slot, replicas map[specs.Component]int32) []client.Object {
		var out []client.Object
		for _, comp := range specs.SlotComponents {
			d, err := specs.Deployment(rel, color, comp, v, replicas[comp])
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, d)
		}
		return append(out, specs.PDB(rel, color, specs.Web), specs.PDB(rel, color, specs.PHPFPM), specs.SlotService(rel, color))
	}
	services := func(color v1alpha1.Color) []client.Object {
		return []client.Object{specs.ActiveService(rel, specs.Web, specs.Switch{Color: color}),
			specs.ActiveService(rel, specs.PHPFPM, specs.Switch{Color: color})}
	}
	converged := append(services(v1alpha1.Blue), slotObjects(v1alpha1.Blue, v1, full)...)
	withGreen := append(append(slices.Clone(converged), slotObjects(v1alpha1.Green, v1, idle)...), specs.PreviewService(rel, v1alpha1.Green))
	// webBehind: green's php-fpm, cron and consumers run v2, its nginx still v1.
	webBehind := append(append(slices.Clone(converged), slotObjects(v1alpha1.Green, v2, idle)[1:]...),
		slotObjects(v1alpha1.Green, v1, idle)[0], specs.PreviewService(rel, v1alpha1.Green))
	foreign := func(obj client.Object, owner string) client.Object {
		obj.SetOwnerReferences(nil)
		obj.SetLabels(nil)
		if owner != "" {
			yes := true
			obj.SetOwnerReferences([]metav1.OwnerReference{{APIVersion: "magento.ops.dev/v1alpha1", Kind: "MagentoRelease",
				Name: owner, UID: "uid-other", Controller: &yes}})
		}
		return obj
	}
	orphan := func(obj client.Object) client.Object {
		obj.SetOwnerReferences(nil)
		return obj
	}
	invalid := func(obj client.Object) error {
		return apierrors.NewInvalid(schema.GroupKind{Group: "apps", Kind: "Deployment"}, obj.GetName(), field.ErrorList{
			field.Invalid(field.NewPath("spec", "template", "spec", "containers").Index(0).Child("env").Index(0).Child("name"), "MY VAR", "a valid environment variable name")})
	}
	rolledOut := []string{
		"create Deployment shop-web-blue (dry run)", "create Deployment shop-php-fpm-blue (dry run)",
		"create Deployment shop-cron-blue (dry run)", "create Deployment shop-consumer-blue (dry run)",
	}

	tests := map[string]struct {
		live []client.Object
		// hidden lists the live objects the cache does not show.
		hidden   []string
		plan     bluegreen.Plan
		refuse   func(verb string, obj client.Object, dry bool) error
		traffic  []string // in any order: they are sent at once
		rest     []string // in this order
		problems []string
	}{
		"a first rollout tries the slot's Deployments, then writes everything": {
			plan:    blueOnly(true),
			traffic: []string{"create Service shop", "create Service shop-php-fpm"},
			rest: append(slices.Clone(rolledOut),
				"create PodDisruptionBudget shop-web-blue", "create PodDisruptionBudget shop-php-fpm-blue",
				"create Deployment shop-web-blue", "create Deployment shop-php-fpm-blue",
				"create Deployment shop-cron-blue", "create Deployment shop-consumer-blue",
				"create Service shop-php-fpm-blue"),
		},
		"converged: nothing is written": {
			live: converged,
			plan: blueOnly(false),
		},
		"a switch moves both Services and their record, and nothing else before them, not even the preview": {
			live: withGreen,
			plan: bluegreen.Plan{Active: v1alpha1.Green, Preview: v1alpha1.Blue,
				Switch: specs.Switch{Color: v1alpha1.Green, Time: now},
				Slots: map[v1alpha1.Color]*bluegreen.SlotPlan{
					v1alpha1.Blue:  {Version: v1, Replicas: idle, Running: true},
					v1alpha1.Green: {Version: v1, Replicas: idle, Running: true},
				}},
			traffic: []string{"update Service shop", "update Service shop-php-fpm"},
			rest:    []string{"update Service shop-preview", "patch Deployment shop-cron-blue", "patch Deployment shop-consumer-blue"},
		},
		"a deploy the API server refuses writes none of the slot's Deployments": {
			live: withGreen,
			plan: both(true),
			refuse: func(verb string, obj client.Object, dry bool) error {
				if obj.GetName() == "shop-php-fpm-green" && verb == "update" {
					return invalid(obj)
				}
				return nil
			},
			rest: []string{
				"update Deployment shop-web-green (dry run)", "update Deployment shop-php-fpm-green (dry run)",
				"update Deployment shop-cron-green (dry run)", "update Deployment shop-consumer-green (dry run)",
			},
			problems: []string{"ChildRejected: the API server refused Deployment shop-php-fpm-green: Deployment.apps \"shop-php-fpm-green\" is invalid"},
		},
		"a deploy over a running slot tries all four, then writes all but nginx until php-fpm runs the new version": {
			live: withGreen,
			plan: func() bluegreen.Plan { p := both(true); p.Slots[v1alpha1.Green].WebWaits = true; return p }(),
			rest: []string{
				"update Deployment shop-web-green (dry run)", "update Deployment shop-php-fpm-green (dry run)",
				"update Deployment shop-cron-green (dry run)", "update Deployment shop-consumer-green (dry run)",
				"update Deployment shop-php-fpm-green", "update Deployment shop-cron-green", "update Deployment shop-consumer-green",
			},
		},
		"nginx, once php-fpm runs the new version, is written alone, with no trial first": {
			live: webBehind,
			plan: both(true),
			rest: []string{"update Deployment shop-web-green"},
		},
		"nginx refused once php-fpm runs the new version is reported, and nothing else is written": {
			live: webBehind,
			plan: both(true),
			refuse: func(verb string, obj client.Object, dry bool) error {
				if obj.GetName() == "shop-web-green" {
					return invalid(obj)
				}
				return nil
			},
			rest:     []string{"update Deployment shop-web-green"},
			problems: []string{"ChildRejected: the API server refused Deployment shop-web-green"},
		},
		"a refused first rollout creates no Deployment and reports the serving slot": {
			plan: blueOnly(true),
			refuse: func(verb string, obj client.Object, dry bool) error {
				if obj.GetName() == "shop-cron-blue" {
					return invalid(obj)
				}
				return nil
			},
			traffic: []string{"create Service shop", "create Service shop-php-fpm"},
			rest: append(slices.Clone(rolledOut),
				"create PodDisruptionBudget shop-web-blue", "create PodDisruptionBudget shop-php-fpm-blue", "create Service shop-php-fpm-blue"),
			problems: []string{"ChildRejected (serving): the API server refused Deployment shop-cron-blue"},
		},
		"another release's Service in the way is reported, never written": {
			live:     append(slices.Clone(withGreen[:len(withGreen)-1]), foreign(specs.PreviewService(rel, v1alpha1.Green), "shop-preview")),
			hidden:   []string{"shop-preview"},
			plan:     both(false),
			rest:     []string{"create Service shop-preview"},
			problems: []string{"NameConflict: Service shop-preview already exists and it belongs to MagentoRelease shop-preview"},
		},
		"a user's own Service in the way of the serving one is reported as such": {
			live:     append(slices.Clone(converged[1:]), foreign(specs.ActiveService(rel, specs.Web, specs.Switch{Color: v1alpha1.Blue}), "")),
			hidden:   []string{"shop"},
			plan:     blueOnly(false),
			traffic:  []string{"create Service shop"},
			problems: []string{"NameConflict (serving): Service shop already exists and it is not this release's (no controller reference to it)"},
		},
		"an orphan of the release the cache does not show is adopted": {
			live:    append(slices.Clone(converged[1:]), orphan(specs.ActiveService(rel, specs.Web, specs.Switch{Color: v1alpha1.Blue}))),
			hidden:  []string{"shop"},
			plan:    blueOnly(false),
			traffic: []string{"create Service shop", "update Service shop"},
		},
		"a post-switch Job refused is reported, not retried within the pass": {
			live: converged,
			plan: func() bluegreen.Plan {
				p := blueOnly(false)
				p.Jobs = []bluegreen.JobPlan{{Component: specs.PostSwitch, Color: v1alpha1.Blue, Version: v1, At: now}}
				return p
			}(),
			refuse: func(verb string, obj client.Object, dry bool) error {
				if _, ok := obj.(*batchv1.Job); ok {
					return apierrors.NewForbidden(schema.GroupResource{Group: "batch", Resource: "jobs"}, obj.GetName(), fmt.Errorf("exceeded quota: jobs"))
				}
				return nil
			},
			rest:     []string{"create Job " + specs.PostSwitchJobName(rel, v1alpha1.Blue, v1, now)},
			problems: []string{"ChildRejected: the API server refused Job shop-post-switch-blue-"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var writes []string
			refuse := tc.refuse
			if refuse == nil {
				refuse = func(string, client.Object, bool) error { return nil }
			}
			var mu sync.Mutex // a slot's Deployments are written at once
			note := func(verb string, obj client.Object, dry []string) error {
				gvk, _ := apiutil.GVKForObject(obj, sch)
				w := verb + " " + gvk.Kind + " " + obj.GetName()
				if len(dry) > 0 {
					w += " (dry run)"
				}
				mu.Lock()
				writes = append(writes, w)
				mu.Unlock()
				return refuse(verb, obj, len(dry) > 0)
			}
			c := fake.NewClientBuilder().WithScheme(sch).WithObjects(tc.live...).WithInterceptorFuncs(interceptor.Funcs{
				Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
					o := (&client.CreateOptions{}).ApplyOptions(opts)
					if err := note("create", obj, o.DryRun); err != nil {
						return err
					}
					return c.Create(ctx, obj, opts...)
				},
				Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
					o := (&client.UpdateOptions{}).ApplyOptions(opts)
					if err := note("update", obj, o.DryRun); err != nil {
						return err
					}
					return c.Update(ctx, obj, opts...)
				},
				Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, p client.Patch, opts ...client.PatchOption) error {
					o := (&client.PatchOptions{}).ApplyOptions(opts)
					if err := note("patch", obj, o.DryRun); err != nil {
						return err
					}
					return c.Patch(ctx, obj, p, opts...)
				},
				Delete: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.DeleteOption) error {
					if err := note("delete", obj, nil); err != nil {
						return err
					}
					return c.Delete(ctx, obj, opts...)
				},
			}).Build()
			k := cachedChildren(t, c, tc.live, tc.hidden)
			a := &applier{Client: c, reader: c, rel: rel}
			ctx := context.Background()
			if err := a.traffic(ctx, k, tc.plan); err != nil {
				t.Fatalf("traffic: %v", err)
			}
			traffic := slices.Clone(writes)
			writes = nil
			if err := a.rest(ctx, k, tc.plan); err != nil {
				t.Fatalf("rest: %v", err)
			}
			slices.Sort(traffic)
			slices.Sort(tc.traffic)
			if diff := cmp.Diff(tc.traffic, traffic, cmp.Transformer("nil", func(s []string) []string { return append([]string{}, s...) })); diff != "" {
				t.Errorf("traffic writes (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(inFlightTogether(tc.rest), inFlightTogether(writes)); diff != "" {
				t.Errorf("other writes (-want +got):\n%s", diff)
			}
			var problems []string
			for _, p := range a.problems {
				s := p.Reason
				if p.Serving {
					s += " (serving)"
				}
				problems = append(problems, s+": "+p.Message)
			}
			if len(problems) != len(tc.problems) {
				t.Fatalf("problems %q, want %q", problems, tc.problems)
			}
			for i, want := range tc.problems {
				if !strings.HasPrefix(problems[i], want) {
					t.Errorf("problem %q, want it to start with %q", problems[i], want)
				}
			}
		})
	}
}

// inFlightTogether sorts each run of a slot's Deployment writes (its dry
// runs, then its writes), which the apply sends at once and which may
// therefore arrive in any order; every other write keeps its place.
func inFlightTogether(writes []string) []string {
	out := append([]string{}, writes...)
	group := func(w string) string {
		if strings.HasPrefix(w, "delete ") || !strings.Contains(w, " Deployment ") {
			return ""
		}
		return fmt.Sprint(strings.HasSuffix(w, "(dry run)"))
	}
	for i := 0; i < len(out); {
		j := i + 1
		for j < len(out) && group(out[i]) != "" && group(out[j]) == group(out[i]) {
			j++
		}
		slices.Sort(out[i:j])
		i = j
	}
	return out
}

// cachedChildren is what observe would read: the live objects but the
// hidden ones, read back from c.
func cachedChildren(t *testing.T, c client.Client, live []client.Object, hidden []string) *children {
	k := &children{
		deployments: map[string]*appsv1.Deployment{}, services: map[string]*corev1.Service{},
		hpas: map[string]*autoscalingv2.HorizontalPodAutoscaler{}, pdbs: map[string]*policyv1.PodDisruptionBudget{},
		ingresses: map[string]*networkingv1.Ingress{}, jobs: map[string]*batchv1.Job{},
	}
	for _, o := range live {
		if slices.Contains(hidden, o.GetName()) {
			continue
		}
		obj := o.DeepCopyObject().(client.Object)
		if err := c.Get(context.Background(), client.ObjectKeyFromObject(o), obj); err != nil {
			t.Fatal(err)
		}
		keep(k.deployments, obj)
		keep(k.services, obj)
		keep(k.pdbs, obj)
		keep(k.hpas, obj)
		keep(k.ingresses, obj)
		keep(k.jobs, obj)
	}
	return k
}

// keep files obj in m, by name, when it is a T.
func keep[T client.Object](m map[string]T, obj client.Object) {
	if x, ok := obj.(T); ok {
		m[x.GetName()] = x
	}
}
