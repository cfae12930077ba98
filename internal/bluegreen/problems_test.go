package bluegreen

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
)

func TestReport(t *testing.T) {
	rel := release(blue, &v1, nil, v1alpha1.MagentoReleaseStatus{ActiveColor: blue}).Obj()
	in := Input{Release: rel, Slots: map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 1, 1, true), grn: none()},
		Owned: allOwned(rel), Now: t0}
	conflict := Problem{Reason: v1alpha1.ReasonNameConflict, Message: "Service shop-preview already exists and it belongs to MagentoRelease shop-preview"}
	refused := Problem{Reason: v1alpha1.ReasonChildRejected, Serving: true, Message: "the API server refused Deployment shop-cron-blue: invalid"}

	plan := Decide(in)
	events := Report(rel, &plan.Status, []Problem{refused, conflict}, t0)
	if c := meta.FindStatusCondition(plan.Status.Conditions, v1alpha1.ConditionDegraded); c.Status != metav1.ConditionTrue ||
		c.Reason != v1alpha1.ReasonNameConflict || c.Message != conflict.Message+"; "+refused.Message {
		t.Errorf("Degraded %+v", c)
	}
	if c := meta.FindStatusCondition(plan.Status.Conditions, v1alpha1.ConditionReady); c.Status != metav1.ConditionFalse ||
		c.Reason != v1alpha1.ReasonChildRejected {
		t.Errorf("Ready %+v: a child the serving slot needs was refused", c)
	}
	if diff := cmp.Diff([]string{v1alpha1.ReasonNameConflict, v1alpha1.ReasonChildRejected}, reasons(Plan{Events: events})); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}

	// The same problems a minute later: the status is unchanged (no write), and no Event.
	rel.Status = plan.Status
	again := Decide(Input{Release: rel, Slots: in.Slots, Owned: in.Owned, Now: t0.Add(time.Minute)})
	if events := Report(rel, &again.Status, []Problem{conflict, refused}, t0.Add(time.Minute)); len(events) != 0 {
		t.Errorf("events again: %+v", events)
	}
	if diff := cmp.Diff(plan.Status, again.Status); diff != "" {
		t.Errorf("status changed with the same problems (-first +second):\n%s", diff)
	}

	// Gone: Degraded is False again, and Ready True.
	rel.Status = again.Status
	clear := Decide(Input{Release: rel, Slots: in.Slots, Owned: in.Owned, Now: t0.Add(2 * time.Minute)})
	if events := Report(rel, &clear.Status, nil, t0.Add(2*time.Minute)); events != nil {
		t.Errorf("events without problems: %+v", events)
	}
	if !meta.IsStatusConditionTrue(clear.Status.Conditions, v1alpha1.ConditionReady) ||
		!meta.IsStatusConditionFalse(clear.Status.Conditions, v1alpha1.ConditionDegraded) {
		t.Errorf("conditions once the problems are gone: %+v", clear.Status.Conditions)
	}
}

func TestKeepReported(t *testing.T) {
	rel := release(blue, &v1, nil, v1alpha1.MagentoReleaseStatus{ActiveColor: blue}).Obj()
	in := Input{Release: rel, Slots: map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 1, 1, true), grn: none()},
		Owned: allOwned(rel), Now: t0}
	plan := Decide(in)
	Report(rel, &plan.Status, []Problem{{Reason: v1alpha1.ReasonNameConflict, Message: "Service shop-preview already exists"}}, t0)
	rel.Status = plan.Status
	early := Decide(in).Status
	KeepReported(rel, &early)
	if c := meta.FindStatusCondition(early.Conditions, v1alpha1.ConditionDegraded); c.Reason != v1alpha1.ReasonNameConflict || c.Status != metav1.ConditionTrue {
		t.Errorf("the report was dropped before the pass looked again: %+v", c)
	}
	if c := meta.FindStatusCondition(early.Conditions, v1alpha1.ConditionReady); c.Status != metav1.ConditionTrue {
		t.Errorf("Ready %+v: the conflict is not the serving slot's", c)
	}
}
