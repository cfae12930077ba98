// Package controller reconciles MagentoReleases: it observes a release's
// children, asks the blue/green state machine what they should be, applies
// that with as few writes as possible and records the status once.
package controller

import (
	"context"
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
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

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
	// ReportingInstance names this manager in the Events it writes; the
	// host name when empty.
	ReportingInstance string
	// Clock tells the time for idle scale-down and deadlines; tests inject a fake.
	Clock clock.PassiveClock
	// Metrics records the release metrics; nil records none.
	Metrics *metrics.Recorder

	events  recentEvents
	checks  lastChecks
	outputs jobOutputs
	stopped stoppedDeployments
}

// New returns a reconciler that reads through mgr's caches, and past them
// through its API reader, timed by clk and recording release metrics.
func New(mgr ctrl.Manager, clk clock.PassiveClock) *MagentoReleaseReconciler {
	return &MagentoReleaseReconciler{
		Client:    mgr.GetClient(),
		APIReader: mgr.GetAPIReader(),
		Clock:     clk,
		Metrics:   metrics.NewRecorder(),
	}
}

// problemRequeue is how soon a release whose children the API server would
// not take is looked at again: an object in the way or a quota is removed
// without the release hearing of it.
const problemRequeue = 30 * time.Second

// Reconcile brings one release's children and status to what its spec asks.
func (r *MagentoReleaseReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	begin := time.Now()
	rel := &v1alpha1.MagentoRelease{}
	if err := r.Get(ctx, req.NamespacedName, rel); err != nil {
		if apierrors.IsNotFound(err) {
			r.Metrics.Forget(req.NamespacedName)
			r.events.forget(req.NamespacedName)
			r.checks.forget(req.NamespacedName)
			r.outputs.forget(req.NamespacedName)
			r.stopped.forget(req.NamespacedName)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !rel.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil // the garbage collector removes the children
	}
	decided := rel.DeepCopy()

	kids, err := r.observe(ctx, rel)
	if err != nil {
		return ctrl.Result{}, err
	}
	now := r.Clock.Now()
	in := kids.input(rel, metav1.NewTime(now))
	r.stopped.mark(rel, kids.deployments, in)
	in.LastCheck = r.checks.get(req.NamespacedName)
	in.Outputs = r.outputs.read(ctx, r.APIReader, rel, kids.jobs)
	plan := bluegreen.Decide(in)

	if err := renderable(rel, plan); err != nil {
		// The spec cannot be rendered: say so, change nothing, and wait for
		// the next change of the spec.
		meta.SetStatusCondition(&plan.Status.Conditions, metav1.Condition{
			Type: v1alpha1.ConditionDegraded, Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonInvalidSpec,
			Message: err.Error(), ObservedGeneration: rel.Generation,
		})
		if !meta.IsStatusConditionTrue(rel.Status.Conditions, v1alpha1.ConditionDegraded) {
			r.record(ctx, decided, bluegreen.Event{Warning: true, Reason: v1alpha1.EventDegraded, Message: err.Error()})
		}
		return ctrl.Result{}, ignoreConflict(ctx, r.writeStatus(ctx, rel, plan.Status))
	}
	// Traffic first, then the status that records a switch, then everything else.
	a := r.applier(rel)
	if err := a.traffic(ctx, kids, plan); err != nil {
		return ctrl.Result{}, ignoreConflict(ctx, err)
	}
	events := plan.Events
	if plan.Status.ActiveColor != rel.Status.ActiveColor {
		early := plan.Status.DeepCopy()
		bluegreen.KeepReported(decided, early)
		if err := r.writeStatus(ctx, rel, *early); err != nil {
			return ctrl.Result{}, ignoreConflict(ctx, err)
		}
		// The status now records the decision's transitions: tell them, as
		// the next pass decides from that status and will not see them again.
		r.record(ctx, decided, events...)
		events = nil
	}
	if err := a.rest(ctx, kids, plan); err != nil {
		return ctrl.Result{}, ignoreConflict(ctx, err)
	}
	requeue := plan.RequeueAfter
	if plan.Check != nil {
		evs, inconclusive := r.runCheck(ctx, rel, &plan, now)
		events = append(events, evs...)
		if inconclusive && (requeue == 0 || requeue > inconclusiveRequeue) {
			requeue = inconclusiveRequeue
		}
	}
	events = append(events, bluegreen.Report(decided, &plan.Status, a.problems, now)...)
	if err := r.writeStatus(ctx, rel, plan.Status); err != nil {
		return ctrl.Result{}, ignoreConflict(ctx, err)
	}
	r.countCheckFailures(decided, &plan.Status)
	switched := decided.Status.ActiveColor != "" && decided.Status.ActiveColor != plan.Status.ActiveColor
	r.Metrics.Observe(rel, plan.Status, switched, begin)
	r.record(ctx, decided, events...)
	if len(a.problems) > 0 && (requeue == 0 || requeue > problemRequeue) {
		requeue = problemRequeue
	}
	return ctrl.Result{RequeueAfter: requeue}, nil
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

// ignoreConflict drops a conflict: the cache was behind the API server,
// whose watch event brings the release back here.
func ignoreConflict(ctx context.Context, err error) error {
	if apierrors.IsConflict(err) {
		logf.FromContext(ctx).V(1).Info("read a stale object; the newer one will be reconciled", "error", err.Error())
		return nil
	}
	return err
}

// writeStatus records the status when it changed, and only then; rel then
// holds what was written.
func (r *MagentoReleaseReconciler) writeStatus(ctx context.Context, rel *v1alpha1.MagentoRelease, st v1alpha1.MagentoReleaseStatus) error {
	if equality.Semantic.DeepEqual(rel.Status, st) {
		return nil
	}
	upd := rel.DeepCopy()
	upd.Status = st
	if err := r.Status().Update(ctx, upd, fieldOwner); err != nil {
		return err
	}
	upd.DeepCopyInto(rel)
	return nil
}

// SetupWithManager registers the controller; it watches releases and the
// kinds they own.
func (r *MagentoReleaseReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.MagentoRelease{}).
		Owns(&appsv1.Deployment{}).
		Owns(&corev1.Service{}).
		Owns(&autoscalingv2.HorizontalPodAutoscaler{}).
		Owns(&policyv1.PodDisruptionBudget{}).
		Owns(&networkingv1.Ingress{}).
		Owns(&batchv1.Job{}).
		// Rule 13: when a terminating cron or consumer pod is finally gone,
		// its Deployment's status may not change (an older cluster does not
		// count terminating pods there), so the pod itself is watched.
		WatchesMetadata(writerPod(), writerPodHandler, writerPodEvents).
		Named("magentorelease").
		Complete(r)
}
