// Package controller reconciles MagentoReleases: it observes a release's
// children, asks the blue/green state machine what they should be, applies
// that with as few writes as possible and records the status once.
package controller

import (
	"context"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
	"github.com/magento-operator/magento-operator/internal/bluegreen"
	"github.com/magento-operator/magento-operator/internal/metrics"
	"github.com/magento-operator/magento-operator/internal/specs"
)

// MagentoReleaseReconciler reconciles MagentoReleases.
type MagentoReleaseReconciler struct {
	client.Client
	// APIReader reads from the API server, past the cache: for the pod
	// templates the cache does not keep.
	APIReader client.Reader
	Recorder  recorder.EventRecorder
	// Clock tells the time for idle scale-down and deadlines; tests inject a fake.
	Clock clock.PassiveClock
	// Metrics records the release metrics; nil records none.
	Metrics *metrics.Recorder

	events recentEvents
}

// eventMemory is how long an Event is not recorded again for the same release.
const eventMemory = 10 * time.Minute

// recentEvents remembers the Events recorded per release: a reconcile that
// reads a cache not yet showing its own last writes decides the same
// transition again, and must not record it twice (a repeated Event becomes
// an events.k8s.io series, which client-go refreshes with writes for hours).
type recentEvents struct {
	mu   sync.Mutex
	seen map[types.NamespacedName]map[string]time.Time
}

// first tells whether the event is new for the release, and remembers it.
func (e *recentEvents) first(key types.NamespacedName, event string, now time.Time) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.seen == nil {
		e.seen = map[types.NamespacedName]map[string]time.Time{}
	}
	m := e.seen[key]
	if m == nil {
		m = map[string]time.Time{}
		e.seen[key] = m
	}
	for k, at := range m {
		if now.Sub(at) > eventMemory {
			delete(m, k)
		}
	}
	if _, ok := m[event]; ok {
		return false
	}
	m[event] = now
	return true
}

func (e *recentEvents) forget(key types.NamespacedName) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.seen, key)
}

// record records an Event unless it was recorded for the release moments ago.
func (r *MagentoReleaseReconciler) record(rel *v1alpha1.MagentoRelease, warning bool, reason, message string) {
	if !r.events.first(client.ObjectKeyFromObject(rel), reason+"\x00"+message, time.Now()) {
		return
	}
	kind := corev1.EventTypeNormal
	if warning {
		kind = corev1.EventTypeWarning
	}
	r.Recorder.Eventf(rel, nil, kind, reason, "Reconcile", "%s", message)
}

// Reconcile brings one release's children and status to what its spec asks.
func (r *MagentoReleaseReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	begin := time.Now()
	rel := &v1alpha1.MagentoRelease{}
	if err := r.Get(ctx, req.NamespacedName, rel); err != nil {
		if apierrors.IsNotFound(err) {
			r.Metrics.Forget(req.NamespacedName)
			r.events.forget(req.NamespacedName)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !rel.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil // the garbage collector removes the children
	}

	kids, err := r.observe(ctx, rel)
	if err != nil {
		return ctrl.Result{}, err
	}
	plan := bluegreen.Decide(kids.input(rel, metav1.NewTime(r.Clock.Now())))

	if err := renderable(rel, plan); err != nil {
		// The spec cannot be rendered: say so, change nothing, and wait for
		// the next change of the spec.
		meta.SetStatusCondition(&plan.Status.Conditions, metav1.Condition{
			Type: v1alpha1.ConditionDegraded, Status: metav1.ConditionTrue, Reason: bluegreen.ReasonInvalidSpec,
			Message: err.Error(), ObservedGeneration: rel.Generation,
		})
		if !meta.IsStatusConditionTrue(rel.Status.Conditions, v1alpha1.ConditionDegraded) {
			r.record(rel, true, bluegreen.EventDegraded, err.Error())
		}
		return ctrl.Result{}, ignoreConflict(ctx, r.writeStatus(ctx, rel, plan.Status))
	}
	// Traffic first, then the status that records it, then everything else.
	if err := r.applyTraffic(ctx, rel, kids, plan); err != nil {
		return ctrl.Result{}, ignoreConflict(ctx, err)
	}
	if err := r.writeStatus(ctx, rel, plan.Status); err != nil {
		return ctrl.Result{}, ignoreConflict(ctx, err)
	}
	if err := r.applyRest(ctx, rel, kids, plan); err != nil {
		return ctrl.Result{}, ignoreConflict(ctx, err)
	}
	switched := rel.Status.ActiveColor != "" && rel.Status.ActiveColor != plan.Status.ActiveColor
	r.Metrics.Observe(rel, plan.Status, switched, begin)
	for _, e := range plan.Events {
		r.record(rel, e.Warning, e.Reason, e.Message)
	}
	return ctrl.Result{RequeueAfter: plan.RequeueAfter}, nil
}

// renderable checks that every object the plan asks for can be built from
// the spec (image references parse), before anything is written.
func renderable(rel *v1alpha1.MagentoRelease, plan bluegreen.Plan) error {
	for color, slot := range plan.Slots {
		if slot == nil {
			continue
		}
		for comp := range slot.Replicas {
			if _, err := specs.PodTemplate(rel, color, comp, slot.Version); err != nil {
				return err
			}
		}
	}
	for _, j := range plan.Jobs {
		if _, err := specs.MigrationJob(rel, j.Color, j.Version); err != nil {
			return err
		}
	}
	return nil
}

// ignoreConflict drops a conflict or an "already exists": the cache was
// behind the API server, whose watch event brings the release back here.
func ignoreConflict(ctx context.Context, err error) error {
	if apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err) {
		logf.FromContext(ctx).V(1).Info("read a stale object; the newer one will be reconciled", "error", err.Error())
		return nil
	}
	return err
}

// writeStatus records the status when it changed, and only then.
func (r *MagentoReleaseReconciler) writeStatus(ctx context.Context, rel *v1alpha1.MagentoRelease, st v1alpha1.MagentoReleaseStatus) error {
	if equality.Semantic.DeepEqual(rel.Status, st) {
		return nil
	}
	upd := rel.DeepCopy()
	upd.Status = st
	return r.Status().Update(ctx, upd, fieldOwner)
}

// SetupWithManager registers the controller; it watches releases and the
// kinds they own.
func (r *MagentoReleaseReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return r.setup(mgr, r)
}

// setup registers rec (r, or r wrapped by a test) for releases and their children.
func (r *MagentoReleaseReconciler) setup(mgr ctrl.Manager, rec reconcile.Reconciler) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.MagentoRelease{}).
		Owns(&appsv1.Deployment{}).
		Owns(&corev1.Service{}).
		Owns(&autoscalingv2.HorizontalPodAutoscaler{}).
		Owns(&policyv1.PodDisruptionBudget{}).
		Owns(&networkingv1.Ingress{}).
		Owns(&batchv1.Job{}).
		Named("magentorelease").
		Complete(rec)
}
