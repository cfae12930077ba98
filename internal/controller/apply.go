package controller

import (
	"context"
	"reflect"

	"golang.org/x/sync/errgroup"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
	"github.com/magento-operator/magento-operator/internal/bluegreen"
	"github.com/magento-operator/magento-operator/internal/specs"
)

// fieldOwner names the operator in managedFields.
const fieldOwner = client.FieldOwner("magento-operator")

// applyTraffic points <name>, <name>-php-fpm and <name>-preview where the
// plan says, first and at once: nothing else a reconcile writes may delay
// traffic, and a slot deleted in the same pass is no longer selected.
func (r *MagentoReleaseReconciler) applyTraffic(ctx context.Context, rel *v1alpha1.MagentoRelease, k *children, plan bluegreen.Plan) error {
	g, gctx := errgroup.WithContext(ctx)
	for _, comp := range specs.Served {
		want := specs.ActiveService(rel, comp, plan.Active)
		g.Go(func() error { return ensure(gctx, r.Client, k.services[want.Name], want, syncService) })
	}
	preview := specs.PreviewServiceName(rel)
	g.Go(func() error {
		if plan.Preview == "" {
			return r.remove(gctx, k.services[preview])
		}
		return ensure(gctx, r.Client, k.services[preview], specs.PreviewService(rel, plan.Preview), syncService)
	})
	return g.Wait()
}

// applyRest makes the slots, Jobs and Ingress what the plan says. Every
// write is guarded: an object that already is as wanted is not written (rule 8).
func (r *MagentoReleaseReconciler) applyRest(ctx context.Context, rel *v1alpha1.MagentoRelease, k *children, plan bluegreen.Plan) error {
	for _, color := range v1alpha1.Colors {
		if err := r.applySlot(ctx, rel, k, color, plan.Slots[color]); err != nil {
			return err
		}
	}
	for _, j := range plan.Jobs {
		if err := r.startJob(ctx, rel, k, j); err != nil {
			return err
		}
	}
	if ing := specs.Ingress(rel, plan.Preview != ""); ing != nil {
		return ensure(ctx, r.Client, k.ingresses[rel.Name], ing, syncIngress)
	}
	return r.remove(ctx, k.ingresses[rel.Name])
}

// applySlot makes one slot's objects what its plan says; a nil plan deletes them.
func (r *MagentoReleaseReconciler) applySlot(ctx context.Context, rel *v1alpha1.MagentoRelease, k *children,
	color v1alpha1.Color, plan *bluegreen.SlotPlan) error {
	// HPAs and PDBs first: an HPA must be gone before its Deployment scales to zero.
	for _, comp := range specs.Served {
		name := specs.SlotName(rel, comp, color)
		if b, ok := planHPA(plan, comp); ok {
			if err := ensure(ctx, r.Client, k.hpas[name], specs.HPA(rel, color, comp, b.Min, b.Max), syncHPA); err != nil {
				return err
			}
		} else if err := r.remove(ctx, k.hpas[name]); err != nil {
			return err
		}
		if plan != nil && plan.Running {
			if err := ensure(ctx, r.Client, k.pdbs[name], specs.PDB(rel, color, comp), syncPDB); err != nil {
				return err
			}
		} else if err := r.remove(ctx, k.pdbs[name]); err != nil {
			return err
		}
	}
	for _, comp := range specs.SlotComponents {
		live := k.deployments[specs.SlotName(rel, comp, color)]
		replicas, ok := int32(0), false
		if plan != nil {
			replicas, ok = plan.Replicas[comp]
		}
		if !ok {
			if err := r.remove(ctx, live); err != nil {
				return err
			}
			continue
		}
		if err := r.applyDeployment(ctx, rel, color, comp, plan, live, replicas); err != nil {
			return err
		}
	}
	if plan == nil {
		return r.remove(ctx, k.services[specs.SlotName(rel, specs.PHPFPM, color)])
	}
	want := specs.SlotService(rel, color)
	return ensure(ctx, r.Client, k.services[want.Name], want, syncService)
}

func planHPA(plan *bluegreen.SlotPlan, comp specs.Component) (bluegreen.Bounds, bool) {
	if plan == nil {
		return bluegreen.Bounds{}, false
	}
	b, ok := plan.HPAs[comp]
	return b, ok
}

// applyDeployment creates a missing Deployment from the spec, renders an
// existing one again only when the plan deploys a new version to it, and
// otherwise changes nothing but its replica count (rule 4).
func (r *MagentoReleaseReconciler) applyDeployment(ctx context.Context, rel *v1alpha1.MagentoRelease, color v1alpha1.Color,
	comp specs.Component, plan *bluegreen.SlotPlan, live *appsv1.Deployment, replicas int32) error {
	want, err := specs.Deployment(rel, color, comp, plan.Version, replicas)
	if err != nil {
		return err
	}
	if live == nil {
		return r.Create(ctx, want, fieldOwner)
	}
	if plan.Render && specs.RenderedVersion(live) != plan.Version {
		// A deploy: the cache keeps no pod templates, so read the whole
		// Deployment, and write it with its resourceVersion.
		full := &appsv1.Deployment{}
		if err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(live), full); err != nil {
			return err
		}
		upd := full.DeepCopy()
		upd.Spec.Template = want.Spec.Template
		upd.Spec.Strategy = want.Spec.Strategy
		upd.Spec.ProgressDeadlineSeconds = want.Spec.ProgressDeadlineSeconds
		upd.Spec.RevisionHistoryLimit = want.Spec.RevisionHistoryLimit
		upd.Spec.Replicas = want.Spec.Replicas
		for k, v := range want.Annotations {
			setMap(&upd.Annotations, k, v)
		}
		syncMeta(upd, want)
		return update(ctx, r.Client, full, upd)
	}
	// Otherwise only the replica count and the operator's labels and owner
	// may change: a merge patch of just those, guarded by resourceVersion.
	upd := live.DeepCopy()
	upd.Spec.Replicas = want.Spec.Replicas
	syncMeta(upd, want)
	if equality.Semantic.DeepEqual(live, upd) {
		return nil
	}
	return r.Patch(ctx, upd, client.MergeFromWithOptions(live, client.MergeFromWithOptimisticLock{}), fieldOwner)
}

// startJob creates a Job the plan wants unless it exists; Jobs are never changed.
func (r *MagentoReleaseReconciler) startJob(ctx context.Context, rel *v1alpha1.MagentoRelease, k *children, j bluegreen.JobPlan) error {
	build := specs.MigrationJob
	if j.Component == specs.PostSwitch {
		build = specs.PostSwitchJob
	}
	want, err := build(rel, j.Color, j.Version)
	if err != nil {
		return err
	}
	if k.jobs[want.Name] != nil {
		return nil
	}
	if err := r.Create(ctx, want, fieldOwner); !apierrors.IsAlreadyExists(err) {
		return err
	}
	return nil
}

// ensure creates want when live is nil, and otherwise updates live when sync
// finds a field that differs from want.
func ensure[T client.Object](ctx context.Context, c client.Client, live, want T, sync func(live, want T)) error {
	if reflect.ValueOf(live).IsNil() {
		return c.Create(ctx, want, fieldOwner)
	}
	upd := live.DeepCopyObject().(T)
	sync(upd, want)
	syncMeta(upd, want)
	return update(ctx, c, live, upd)
}

// update writes upd when it differs from live. The write carries live's
// resourceVersion, so a stale cache ends in a conflict and a retry, never in
// overwriting a newer change.
func update(ctx context.Context, c client.Client, live, upd client.Object) error {
	if equality.Semantic.DeepEqual(live, upd) {
		return nil
	}
	return c.Update(ctx, upd, fieldOwner)
}

// remove deletes obj if it exists.
func (r *MagentoReleaseReconciler) remove(ctx context.Context, obj client.Object) error {
	if obj == nil || reflect.ValueOf(obj).IsNil() {
		return nil
	}
	uid := obj.GetUID()
	err := r.Delete(ctx, obj, client.Preconditions{UID: &uid}, client.PropagationPolicy(metav1.DeletePropagationBackground))
	return client.IgnoreNotFound(err)
}

// syncMeta restores the labels and controller reference the operator sets,
// leaving other labels and annotations alone.
func syncMeta(upd, want client.Object) {
	labels := upd.GetLabels()
	for k, v := range want.GetLabels() {
		setMap(&labels, k, v)
	}
	upd.SetLabels(labels)
	if !metav1.IsControlledBy(upd, ownerOf(want)) {
		upd.SetOwnerReferences(append(upd.GetOwnerReferences(), want.GetOwnerReferences()...))
	}
}

func ownerOf(obj client.Object) *metav1.ObjectMeta {
	for _, ref := range obj.GetOwnerReferences() {
		if ref.Controller != nil && *ref.Controller {
			return &metav1.ObjectMeta{UID: ref.UID}
		}
	}
	return &metav1.ObjectMeta{}
}

func setMap(m *map[string]string, k, v string) {
	if *m == nil {
		*m = map[string]string{}
	}
	(*m)[k] = v
}

// derives is true when every field want sets has the same value in live, and
// lists have the same length (fields the API server defaults are not compared).
func derives(want, live any) bool {
	return equality.Semantic.DeepDerivative(want, live) && sameLengths(reflect.ValueOf(want), reflect.ValueOf(live))
}

// sameLengths compares the lengths of every slice reachable in both values,
// which DeepDerivative lets differ.
func sameLengths(a, b reflect.Value) bool {
	switch a.Kind() {
	case reflect.Pointer, reflect.Interface:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() || !b.IsNil()
		}
		return sameLengths(a.Elem(), b.Elem())
	case reflect.Slice:
		if a.Len() != b.Len() {
			return false
		}
		for i := range a.Len() {
			if !sameLengths(a.Index(i), b.Index(i)) {
				return false
			}
		}
	case reflect.Struct:
		for i := range a.NumField() {
			if !sameLengths(a.Field(i), b.Field(i)) {
				return false
			}
		}
	}
	return true
}

// syncService sets the selector exactly (a hand-edited selector is set back,
// rule 7) and the ports.
func syncService(live, want *corev1.Service) {
	if !equality.Semantic.DeepEqual(live.Spec.Selector, want.Spec.Selector) {
		live.Spec.Selector = want.Spec.Selector
	}
	if !derives(want.Spec.Ports, live.Spec.Ports) {
		live.Spec.Ports = want.Spec.Ports
	}
}

func syncHPA(live, want *autoscalingv2.HorizontalPodAutoscaler) {
	if !derives(want.Spec, live.Spec) {
		live.Spec = want.Spec
	}
}

func syncPDB(live, want *policyv1.PodDisruptionBudget) {
	if !derives(want.Spec, live.Spec) {
		live.Spec = want.Spec
	}
}

func syncIngress(live, want *networkingv1.Ingress) {
	if !derives(want.Spec, live.Spec) {
		live.Spec = want.Spec
	}
	for k, v := range want.Annotations {
		setMap(&live.Annotations, k, v)
	}
}
