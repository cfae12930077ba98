package bluegreen

import (
	"sort"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
)

// Problem is a child the plan asked for that the API server would not take:
// an object of another owner in the way (v1alpha1.ReasonNameConflict), or a child it
// refused (v1alpha1.ReasonChildRejected).
type Problem struct {
	Reason string
	// Message names the child and says what is wrong, in the server's words.
	Message string
	// Serving is true when the serving slot needs the child.
	Serving bool
}

// Report adds the problems met while applying a plan to the status the plan
// records (rule 11): Degraded, and Ready too when the serving slot needs the
// child. It returns the Warning Events for the problems the release's
// current status does not report yet.
func Report(rel *v1alpha1.MagentoRelease, st *v1alpha1.MagentoReleaseStatus, problems []Problem, now time.Time) []Event {
	if len(problems) == 0 {
		return nil
	}
	problems = append([]Problem(nil), problems...)
	sort.SliceStable(problems, func(i, j int) bool { return problems[i].Message < problems[j].Message })
	msgs := make([]string, 0, len(problems))
	var serving *Problem
	for i, p := range problems {
		msgs = append(msgs, p.Message)
		if p.Serving && serving == nil {
			serving = &problems[i]
		}
	}
	set := func(t string, status metav1.ConditionStatus, reason, msg string) {
		// The decision set the condition from the release's status; keep
		// the time of the last real transition, or every pass writes.
		at := metav1.NewTime(now)
		if old := meta.FindStatusCondition(rel.Status.Conditions, t); old != nil && old.Status == status {
			at = old.LastTransitionTime
		}
		meta.RemoveStatusCondition(&st.Conditions, t)
		meta.SetStatusCondition(&st.Conditions, metav1.Condition{
			Type: t, Status: status, Reason: reason, Message: msg,
			ObservedGeneration: rel.Generation, LastTransitionTime: at,
		})
	}
	msg := strings.Join(msgs, "; ")
	degraded := meta.FindStatusCondition(st.Conditions, v1alpha1.ConditionDegraded)
	if degraded != nil && degraded.Status == metav1.ConditionTrue {
		msg += "; " + degraded.Message
	}
	set(v1alpha1.ConditionDegraded, metav1.ConditionTrue, problems[0].Reason, msg)
	if ready := meta.FindStatusCondition(st.Conditions, v1alpha1.ConditionReady); serving != nil && ready != nil &&
		ready.Reason != v1alpha1.ReasonSwitchPending {
		set(v1alpha1.ConditionReady, metav1.ConditionFalse, serving.Reason,
			string(st.ActiveColor)+" serves traffic but a child it needs is not in place: "+serving.Message)
	}

	var old string
	if c := meta.FindStatusCondition(rel.Status.Conditions, v1alpha1.ConditionDegraded); c != nil && c.Status == metav1.ConditionTrue {
		old = c.Message
	}
	var events []Event
	for _, p := range problems {
		if !strings.Contains(old, p.Message) {
			events = append(events, Event{Warning: true, Reason: p.Reason, Message: p.Message})
		}
	}
	return events
}

// KeepReported carries the release's last report of a child in the way or
// refused (Degraded and Ready with reason NameConflict or ChildRejected) into
// st, for a status written before the pass has applied everything again
// (right after a switch): a report is withdrawn only by a pass that found
// the problem gone, never by one that has not looked yet.
func KeepReported(rel *v1alpha1.MagentoRelease, st *v1alpha1.MagentoReleaseStatus) {
	for _, t := range []string{v1alpha1.ConditionDegraded, v1alpha1.ConditionReady} {
		old := meta.FindStatusCondition(rel.Status.Conditions, t)
		if old != nil && (old.Reason == v1alpha1.ReasonNameConflict || old.Reason == v1alpha1.ReasonChildRejected) {
			c := *old
			c.ObservedGeneration = rel.Generation
			meta.SetStatusCondition(&st.Conditions, c)
		}
	}
}
