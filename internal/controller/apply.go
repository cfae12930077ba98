package controller

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"sync"

	"golang.org/x/sync/errgroup"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
	"github.com/magento-operator/magento-operator/internal/bluegreen"
	"github.com/magento-operator/magento-operator/internal/specs"
)

// fieldOwner names the operator in managedFields.
const fieldOwner = client.FieldOwner("magento-operator")

// applier applies one plan to one release's children. A child the API
// server will not take — an object of another owner in the way, or a spec it
// refuses — does not stop the others: it is collected as a problem, which the
// status and an Event report (rule 11). Any other error stops the pass and is
// retried.
type applier struct {
	client.Client
	// reader reads past the cache: the objects in the way of a child, and
	// the pod templates the cache does not keep.
	reader client.Reader
	rel    *v1alpha1.MagentoRelease

	mu       sync.Mutex
	problems []bluegreen.Problem
}

func (r *MagentoReleaseReconciler) applier(rel *v1alpha1.MagentoRelease) *applier {
	return &applier{Client: r.Client, reader: r.APIReader, rel: rel}
}

func (a *applier) problem(reason string, serving bool, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if len(msg) > maxProblemLength {
		msg = msg[:maxProblemLength] + "…"
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.problems = append(a.problems, bluegreen.Problem{Reason: reason, Message: msg, Serving: serving})
}

// maxProblemLength keeps a condition readable when the server explains at length.
const maxProblemLength = 1000

// traffic points <name> and <name>-php-fpm where the plan says, first and
// at once, both writes in flight together: nothing else a reconcile writes
// may delay traffic, not even the preview Service.
func (a *applier) traffic(ctx context.Context, k *children, plan bluegreen.Plan) error {
	g, gctx := errgroup.WithContext(ctx)
	for _, comp := range specs.Served {
		want := specs.ActiveService(a.rel, comp, plan.Switch)
		g.Go(func() error { return ensure(gctx, a, k.services[want.Name], want, syncService, true) })
	}
	return g.Wait()
}

// rest makes the preview Service, the slots, Jobs and Ingress what the plan
// says. The preview goes first: a slot deleted in the same pass is no
// longer selected. Every write is guarded: an object that already is as
// wanted is not written (rule 8).
func (a *applier) rest(ctx context.Context, k *children, plan bluegreen.Plan) error {
	preview := specs.PreviewServiceName(a.rel)
	var err error
	if plan.Preview == "" {
		err = a.remove(ctx, k.services[preview])
	} else {
		err = ensure(ctx, a, k.services[preview], specs.PreviewService(a.rel, plan.Preview), syncService, false)
	}
	if err != nil {
		return err
	}
	for _, color := range v1alpha1.Colors {
		if err := a.slot(ctx, k, color, plan.Slots[color], color == plan.Active); err != nil {
			return err
		}
	}
	for _, j := range plan.Jobs {
		if err := a.startJob(ctx, k, j); err != nil {
			return err
		}
	}
	if ing := specs.Ingress(a.rel, plan.Preview != ""); ing != nil {
		return ensure(ctx, a, k.ingresses[a.rel.Name], ing, syncIngress, true)
	}
	return a.remove(ctx, k.ingresses[a.rel.Name])
}

// slot makes one slot's objects what its plan says; a nil plan deletes them.
func (a *applier) slot(ctx context.Context, k *children, color v1alpha1.Color, plan *bluegreen.SlotPlan, serving bool) error {
	// A deploy — every write that sets a pod template — is tried on the API
	// server first (a dry run), and written only when all of it would be
	// taken: a refused spec leaves no slot half on one version, half on the
	// other. A single one (nginx, once php-fpm runs the new version) needs
	// no trial: refused, it writes nothing either.
	writes, err := a.deploymentWrites(ctx, k, color, plan)
	if err != nil {
		return err
	}
	if renders := slices.DeleteFunc(slices.Clone(writes), func(w write) bool { return !w.renders() }); len(renders) > 1 && !a.dryRun(ctx, renders, serving) {
		writes = slices.DeleteFunc(writes, func(w write) bool { return w.renders() })
	}
	// nginx waits for php-fpm (see SlotPlan.WebWaits); it was tried above
	// with the rest, so a deploy the server refuses writes nothing.
	writes = slices.DeleteFunc(writes, func(w write) bool { return w.waits })
	// HPAs and PDBs before Deployments: an HPA must be gone before its
	// Deployment scales to zero.
	for _, comp := range specs.Served {
		name := specs.SlotName(a.rel, comp, color)
		if b, ok := planHPA(plan, comp); ok {
			if err := ensure(ctx, a, k.hpas[name], specs.HPA(a.rel, color, comp, b.Min, b.Max), syncHPA, serving); err != nil {
				return err
			}
		} else if err := a.remove(ctx, k.hpas[name]); err != nil {
			return err
		}
		if plan != nil && plan.Running {
			if err := ensure(ctx, a, k.pdbs[name], specs.PDB(a.rel, color, comp), syncPDB, serving); err != nil {
				return err
			}
		} else if err := a.remove(ctx, k.pdbs[name]); err != nil {
			return err
		}
	}
	// The Deployments of a slot are written at once: a deploy holds its
	// php-fpm, cron and consumers (and the idle slot's readiness) on none
	// of the others.
	if err := eachWrite(ctx, writes, func(ctx context.Context, w write) error {
		return a.judge(ctx, w.obj, serving, w.apply(ctx, a.Client, false))
	}); err != nil {
		return err
	}
	for _, comp := range specs.SlotComponents { // disabled, or the slot removed
		if _, ok := planReplicas(plan, comp); !ok {
			if err := a.remove(ctx, k.deployments[specs.SlotName(a.rel, comp, color)]); err != nil {
				return err
			}
		}
	}
	if plan == nil {
		return a.remove(ctx, k.services[specs.SlotName(a.rel, specs.PHPFPM, color)])
	}
	want := specs.SlotService(a.rel, color)
	return ensure(ctx, a, k.services[want.Name], want, syncService, serving)
}

func planReplicas(plan *bluegreen.SlotPlan, comp specs.Component) (int32, bool) {
	if plan == nil {
		return 0, false
	}
	n, ok := plan.Replicas[comp]
	return n, ok
}

func planHPA(plan *bluegreen.SlotPlan, comp specs.Component) (bluegreen.Bounds, bool) {
	if plan == nil {
		return bluegreen.Bounds{}, false
	}
	b, ok := plan.HPAs[comp]
	return b, ok
}

// write is one write of a Deployment: a create (live nil), an update of the
// whole object, or a merge patch of its replica count and metadata.
type write struct {
	obj, live client.Object
	patch     bool
	// waits marks a render held back this pass (SlotPlan.WebWaits).
	waits bool
}

// renders is true for a write that sets a pod template: a create or an update.
func (w write) renders() bool { return !w.patch }

func (w write) apply(ctx context.Context, c client.Client, dry bool) error {
	obj, dryRun := w.obj, []string(nil)
	if dry { // a dry run fills in what the server defaults: keep w.obj as it is
		obj, dryRun = w.obj.DeepCopyObject().(client.Object), []string{metav1.DryRunAll}
	}
	switch {
	case w.live == nil:
		return c.Create(ctx, obj, &client.CreateOptions{FieldManager: string(fieldOwner), DryRun: dryRun})
	case w.patch:
		return c.Patch(ctx, obj, client.MergeFromWithOptions(w.live, client.MergeFromWithOptimisticLock{}),
			&client.PatchOptions{FieldManager: string(fieldOwner), DryRun: dryRun})
	default:
		return c.Update(ctx, obj, &client.UpdateOptions{FieldManager: string(fieldOwner), DryRun: dryRun})
	}
}

// deploymentWrites lists the writes that make a slot's Deployments what its
// plan says: a missing Deployment is created from the spec, an existing one
// is rendered again only when the plan deploys a new version to it, and
// otherwise nothing but its replica count changes (rule 4).
func (a *applier) deploymentWrites(ctx context.Context, k *children, color v1alpha1.Color, plan *bluegreen.SlotPlan) ([]write, error) {
	var writes []write
	var deploys []*appsv1.Deployment // rendered again: their writes are built below
	for _, comp := range specs.SlotComponents {
		live := k.deployments[specs.SlotName(a.rel, comp, color)]
		replicas, ok := planReplicas(plan, comp)
		if !ok {
			continue // removed by slot
		}
		want, err := specs.Deployment(a.rel, color, comp, plan.Version, replicas)
		if err != nil {
			return nil, err
		}
		switch {
		case live == nil:
			writes = append(writes, write{obj: want})
		case plan.Render && specs.RenderedVersion(live) != plan.Version:
			deploys = append(deploys, want)
		default:
			// Only the replica count and the operator's labels and owner
			// may change: a merge patch of just those, guarded by resourceVersion.
			upd := live.DeepCopy()
			upd.Spec.Replicas = want.Spec.Replicas
			syncMeta(upd, want)
			if !equality.Semantic.DeepEqual(live, upd) {
				writes = append(writes, write{obj: upd, live: live, patch: true})
			}
		}
	}
	// nginx held back, and nothing else to render with it: no write to
	// build (see slot), so no read for it, in each pass while php-fpm rolls.
	if len(deploys) == 1 && plan.WebWaits && !slices.ContainsFunc(writes, write.renders) {
		deploys = nil
	}
	// A deploy: the cache keeps no pod templates, so read each whole
	// Deployment (all at once), and write it with its resourceVersion.
	full := make([]*appsv1.Deployment, len(deploys))
	g, gctx := errgroup.WithContext(ctx)
	for i, want := range deploys {
		g.Go(func() error {
			full[i] = &appsv1.Deployment{}
			return a.reader.Get(gctx, client.ObjectKeyFromObject(want), full[i])
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	for i, want := range deploys {
		upd := full[i].DeepCopy()
		upd.Spec.Template = want.Spec.Template
		upd.Spec.Strategy = want.Spec.Strategy
		upd.Spec.ProgressDeadlineSeconds = want.Spec.ProgressDeadlineSeconds
		upd.Spec.RevisionHistoryLimit = want.Spec.RevisionHistoryLimit
		upd.Spec.Replicas = want.Spec.Replicas
		for k, v := range want.Annotations {
			setMap(&upd.Annotations, k, v)
		}
		syncMeta(upd, want)
		if !equality.Semantic.DeepEqual(full[i], upd) {
			writes = append(writes, write{obj: upd, live: full[i], waits: plan.WebWaits && want.Name == specs.SlotName(a.rel, specs.Web, color)})
		}
	}
	return writes, nil
}

// dryRun tries writes that render pod templates on the API server without
// keeping them, all at once, and tells whether all of them would be taken.
func (a *applier) dryRun(ctx context.Context, renders []write, serving bool) bool {
	a.mu.Lock()
	before := len(a.problems)
	a.mu.Unlock()
	err := eachWrite(ctx, renders, func(ctx context.Context, w write) error {
		return a.judge(ctx, w.obj, serving, w.apply(ctx, a.Client, true))
	})
	a.mu.Lock()
	defer a.mu.Unlock()
	return err == nil && len(a.problems) == before
}

// eachWrite runs f for every write, all at once, and returns the first error.
func eachWrite(ctx context.Context, writes []write, f func(context.Context, write) error) error {
	g, gctx := errgroup.WithContext(ctx)
	for _, w := range writes {
		g.Go(func() error { return f(gctx, w) })
	}
	return g.Wait()
}

// startJob creates a Job the plan wants unless it exists; Jobs are never changed.
func (a *applier) startJob(ctx context.Context, k *children, j bluegreen.JobPlan) error {
	var want *batchv1.Job
	var err error
	switch j.Component {
	case specs.PostSwitch:
		want, err = specs.PostSwitchJob(a.rel, j.Color, j.Version, j.At)
	case specs.Verification:
		want, err = specs.VerificationJob(a.rel, j.Color, j.Version, j.At, j.After)
	default:
		want, err = specs.MigrationJob(a.rel, j.Color, j.Version)
	}
	if err != nil {
		return err
	}
	if live := k.jobs[want.Name]; live != nil {
		if metav1.GetControllerOf(live) != nil {
			return nil
		}
		upd := live.DeepCopy() // an orphan of this release: adopt it
		syncMeta(upd, want)
		return a.judge(ctx, want, false, a.Patch(ctx, upd, client.MergeFromWithOptions(live, client.MergeFromWithOptimisticLock{}), fieldOwner))
	}
	return a.judge(ctx, want, false, a.Create(ctx, want, fieldOwner))
}

// ensure creates want when live is nil, and otherwise updates live when fix
// finds a field that differs from want.
func ensure[T client.Object](ctx context.Context, a *applier, live, want T, fix func(live, want T), serving bool) error {
	if reflect.ValueOf(live).IsNil() {
		return a.judge(ctx, want, serving, a.Create(ctx, want, fieldOwner))
	}
	upd := live.DeepCopyObject().(T)
	fix(upd, want)
	syncMeta(upd, want)
	if equality.Semantic.DeepEqual(live, upd) {
		return nil
	}
	// The write carries live's resourceVersion, so a stale cache ends in a
	// conflict and a retry, never in overwriting a newer change.
	return a.judge(ctx, want, serving, a.Update(ctx, upd, fieldOwner))
}

// judge sorts the outcome of a write of want: done, a problem to report, or
// an error that stops the pass.
func (a *applier) judge(ctx context.Context, want client.Object, serving bool, err error) error {
	switch {
	case err == nil:
		return nil
	case apierrors.IsAlreadyExists(err):
		return a.inTheWay(ctx, want, serving)
	case refused(err):
		a.problem(bluegreen.ReasonChildRejected, serving, "the API server refused %s %s: %s", a.kind(want), want.GetName(), err.Error())
		return nil
	}
	return err
}

// refused tells whether the API server (or an admission webhook or policy)
// refused a write for what it asks, as opposed to failing to carry it out.
func refused(err error) bool {
	return apierrors.IsInvalid(err) || apierrors.IsForbidden(err) || apierrors.IsBadRequest(err) ||
		apierrors.IsRequestEntityTooLargeError(err)
}

// inTheWay looks at the object that holds want's name. The release's own
// (a cache that has not caught up yet), or its orphan (its labels, no
// controller) whose labels the cache does not select, is taken back; any
// other is never adopted or overwritten, and is reported (rule 11).
func (a *applier) inTheWay(ctx context.Context, want client.Object, serving bool) error {
	live := want.DeepCopyObject().(client.Object)
	if err := a.reader.Get(ctx, client.ObjectKeyFromObject(want), live); err != nil {
		return client.IgnoreNotFound(err) // gone meanwhile: the next pass creates it
	}
	owner := metav1.GetControllerOf(live)
	if metav1.IsControlledBy(live, a.rel) || (owner == nil && a.labelled(live)) {
		upd := live.DeepCopyObject().(client.Object)
		syncMeta(upd, want)
		if equality.Semantic.DeepEqual(live, upd) {
			return nil
		}
		return a.Update(ctx, upd, fieldOwner)
	}
	whose := "it is not this release's (no controller reference to it)"
	if owner != nil {
		whose = fmt.Sprintf("it belongs to %s %s", owner.Kind, owner.Name)
	}
	a.problem(bluegreen.ReasonNameConflict, serving, "%s %s already exists and %s; delete or rename it, or give this release another name",
		a.kind(want), want.GetName(), whose)
	return nil
}

// labelled tells whether obj carries this release's instance label and the
// operator's managed-by label.
func (a *applier) labelled(obj client.Object) bool {
	l := obj.GetLabels()
	return l[specs.LabelInstance] == a.rel.Name && l[specs.LabelManagedBy] == specs.ManagedBy
}

func (a *applier) kind(obj client.Object) string {
	if gvk, err := apiutil.GVKForObject(obj, a.Scheme()); err == nil {
		return gvk.Kind
	}
	return reflect.TypeOf(obj).Elem().Name()
}

// remove deletes obj if it exists.
func (a *applier) remove(ctx context.Context, obj client.Object) error {
	if obj == nil || reflect.ValueOf(obj).IsNil() {
		return nil
	}
	uid := obj.GetUID()
	err := a.Delete(ctx, obj, client.Preconditions{UID: &uid}, client.PropagationPolicy(metav1.DeletePropagationBackground))
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
	for k, v := range want.Annotations {
		setMap(&live.Annotations, k, v)
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
