package controller

import (
	"context"
	"os"
	"sync"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
	"github.com/magento-operator/magento-operator/internal/bluegreen"
)

// recentEvents remembers, per release, the Events recorded from the last
// version of it seen. Each transition is decided from the release's status
// and recorded in it, so the same transition decided again from the same
// resourceVersion is a reconcile on a cache that has not caught up with the
// operator's own writes yet, and is not recorded twice; the same transition
// happening again later is decided from a newer version, and recorded (rule 12).
type recentEvents struct {
	mu   sync.Mutex
	seen map[types.NamespacedName]eventsSeen
}

type eventsSeen struct {
	resourceVersion string
	events          map[string]bool
}

// first tells whether the event is new for this version of the release, and remembers it.
func (e *recentEvents) first(rel *v1alpha1.MagentoRelease, event string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.seen == nil {
		e.seen = map[types.NamespacedName]eventsSeen{}
	}
	key := client.ObjectKeyFromObject(rel)
	s := e.seen[key]
	if s.resourceVersion != rel.ResourceVersion {
		s = eventsSeen{resourceVersion: rel.ResourceVersion, events: map[string]bool{}}
		e.seen[key] = s
	}
	if s.events[event] {
		return false
	}
	s.events[event] = true
	return true
}

func (e *recentEvents) forget(key types.NamespacedName) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.seen, key)
}

// record writes each Event unless it was written from this version of the
// release already. decided is the release the transition was decided from.
//
// Each transition is its own events.k8s.io Event, written directly: the
// events library folds every Event of one reason about one object into a
// series whose later notes never reach the API server (and refreshes the
// series with writes for as long as it lives), so a second switch minutes
// after the first would not be seen in `kubectl describe`.
func (r *MagentoReleaseReconciler) record(ctx context.Context, decided *v1alpha1.MagentoRelease, events ...bluegreen.Event) {
	for _, e := range events {
		if r.events.first(decided, e.Reason+"\x00"+e.Message) {
			r.write(ctx, decided, e)
		}
	}
}

// write creates e as an events.k8s.io Event about decided; a failure is
// logged, not retried.
func (r *MagentoReleaseReconciler) write(ctx context.Context, decided *v1alpha1.MagentoRelease, e bluegreen.Event) {
	kind := corev1.EventTypeNormal
	if e.Warning {
		kind = corev1.EventTypeWarning
	}
	instance := r.ReportingInstance
	if instance == "" {
		instance, _ = os.Hostname()
	}
	ev := &eventsv1.Event{
		// <object>-<suffix>, unique by the API server: the reconciler's
		// clock (a fake one in tests) may not have moved since the last one.
		ObjectMeta:          metav1.ObjectMeta{GenerateName: decided.Name + "-", Namespace: decided.Namespace},
		EventTime:           metav1.NewMicroTime(r.Clock.Now()),
		ReportingController: reportingController,
		ReportingInstance:   instance,
		Action:              "Reconcile",
		Reason:              e.Reason,
		Note:                truncate(e.Message, maxNoteLength),
		Type:                kind,
		Regarding: corev1.ObjectReference{APIVersion: v1alpha1.GroupVersion.String(), Kind: "MagentoRelease",
			Namespace: decided.Namespace, Name: decided.Name, UID: decided.UID, ResourceVersion: decided.ResourceVersion},
	}
	if err := r.Create(ctx, ev); err != nil {
		logf.FromContext(ctx).Error(err, "could not record an Event", "reason", e.Reason, "note", e.Message)
	}
}

// reportingController names the operator in its Events.
const reportingController = "magento.ops.dev/magento-operator"

// maxNoteLength is the longest note the API server takes in an Event.
const maxNoteLength = 1024

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-len("…")] + "…"
}
