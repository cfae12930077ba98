package bluegreen

import (
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
	"github.com/magento-operator/magento-operator/internal/specs"
)

// decision carries the intermediate results of one Decide call.
type decision struct {
	in      Input
	r       *v1alpha1.MagentoRelease
	now     time.Time
	plan    Plan
	st      *v1alpha1.MagentoReleaseStatus
	active  v1alpha1.Color // where the Services point after this decision
	desired v1alpha1.Color
	// sw is the switch recorded on the Services after this decision.
	sw specs.Switch
	// switched is true when this decision records a switch.
	switched bool
	// checksSkipped is true when the checks of the pending switch were
	// skipped (v1alpha1.AnnotationSkipChecks): no window follows it.
	checksSkipped bool
	// need is the live slot's size per served component, which a switch
	// target must reach before traffic moves (rule 9).
	need      map[specs.Component]int32
	degraded  []problem
	progress  []string // deploys and switches under way
	moving    []string // cron and consumers on their way to the active slot
	requeueAt time.Time
}

// problem is one reason the release is Degraded.
type problem struct{ reason, message string }

// Decide computes what the release's children and status should be.
func Decide(in Input) Plan {
	d := &decision{
		in:      in,
		r:       in.Release,
		now:     in.Now,
		st:      in.Release.Status.DeepCopy(),
		desired: in.Release.Spec.ActiveColor,
		plan:    Plan{Slots: map[v1alpha1.Color]*SlotPlan{}},
	}
	d.st.ObservedGeneration = d.r.Generation
	d.decideActive()
	d.decideChecks()
	for _, c := range v1alpha1.Colors {
		d.decideSlot(c)
	}
	d.decideWriters(specs.Cron)
	d.decideWriters(specs.Consumer)
	d.decidePostSwitch()
	d.decidePreview()
	d.decideConditions()
	d.plan.Active = d.active
	d.plan.Switch = d.sw
	d.plan.Status = *d.st
	if !d.requeueAt.IsZero() {
		d.plan.RequeueAfter = max(d.requeueAt.Sub(d.now), time.Second)
	}
	return d.plan
}

// ceil rounds t up to the next whole second: status timestamps keep seconds,
// and a deadline read back from status must never come earlier than meant.
func ceil(t time.Time) metav1.Time {
	if t.Truncate(time.Second).Equal(t) {
		return metav1.NewTime(t)
	}
	return metav1.NewTime(t.Truncate(time.Second).Add(time.Second))
}

func (d *decision) wakeAt(t time.Time) {
	if t.After(d.now) && (d.requeueAt.IsZero() || t.Before(d.requeueAt)) {
		d.requeueAt = t
	}
}

func (d *decision) event(warning bool, reason, format string, args ...any) {
	d.plan.Events = append(d.plan.Events, Event{Warning: warning, Reason: reason, Message: fmt.Sprintf(format, args...)})
}

func (d *decision) deadline() time.Duration { return d.r.Spec.ProgressDeadline() }

// slotStatus returns the slot's status to fill in, creating it when new.
func (d *decision) slotStatus(c v1alpha1.Color) *v1alpha1.SlotStatus {
	if s := d.st.SlotStatus(c); s != nil {
		return s
	}
	s := &v1alpha1.SlotStatus{}
	d.st.SetSlotStatus(c, s)
	return s
}

func versionString(v *v1alpha1.Slot) string {
	if v == nil {
		return "nothing"
	}
	s := v.Tag
	if v.Digest != "" {
		s += "@" + v.Digest
	}
	if v.Revision != "" {
		s += " (revision " + v.Revision + ")"
	}
	return s
}
