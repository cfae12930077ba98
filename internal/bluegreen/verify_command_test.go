package bluegreen

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
	"github.com/magento-operator/magento-operator/internal/specs"
)

// verificationJob is the one verification Job p asks for.
func verificationJob(t *testing.T, r *v1alpha1.MagentoRelease, p Plan) (JobPlan, string) {
	t.Helper()
	var found []JobPlan
	for _, j := range p.Jobs {
		if j.Component == specs.Verification {
			found = append(found, j)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want one verification Job, the plan asks for %+v", p.Jobs)
	}
	j := found[0]
	return j, specs.VerificationJobName(r, j.Color, j.Version, j.At, j.After)
}

func TestTheCommandRunsBeforeTheSwitchAndOnceAfterIt(t *testing.T) {
	s := newShop(t, &v1alpha1.VerificationSpec{Command: []string{"bin/smoke-test"}})
	s.rel.Spec.ActiveColor = grn
	p := s.decide()
	j, before := verificationJob(t, s.rel, p)
	if p.Active != blue || p.Check != nil || j.Color != grn || j.After || !j.At.Equal(s.rel.Status.SwitchStartTime.Time) {
		t.Fatalf("the command did not run alone before the switch: active %s, check %+v, job %+v", p.Active, p.Check, j)
	}
	s.jobs[before] = JobRunning
	s.now = s.now.Add(time.Hour) // a running command is bounded by its Job's deadline, not the switch's
	if p = s.decide(); p.Active != blue || !strings.Contains(cond(p, v1alpha1.ConditionProgressing).Message, "command Job "+before+" is running") {
		t.Fatalf("switched while the command ran: %s %+v", p.Active, p.Status.Conditions)
	}
	s.jobs[before] = JobSucceeded
	p = s.decide()
	if p.Active != grn || !hasEvent(p.Events, v1alpha1.EventVerified) || p.Check != nil {
		t.Fatalf("a passed command (and no HTTP checks) did not let the switch happen: %s %+v", p.Active, p.Events)
	}
	// After the switch, the command runs once more, against the live slot.
	s.now = s.now.Add(time.Second)
	j, after := verificationJob(t, s.rel, s.decide())
	if !j.After || j.Color != grn || after == before {
		t.Fatalf("after the switch: job %+v %s", j, after)
	}
	s.jobs[after] = JobFailed
	s.outputs[after] = "exit 1: checkout answered 500"
	p = s.decide()
	if f := p.Status.Green.VerificationFailure; !strings.Contains(f, "command Job "+after+" failed: exit 1: checkout answered 500") ||
		!hasEvent(p.Events, v1alpha1.EventVerificationFailed) {
		t.Fatalf("failure %q, events %+v", f, p.Events)
	}
	if p = s.decide(); p.Active != blue || !hasEvent(p.Events, v1alpha1.EventSwitchedBack) {
		t.Fatalf("not switched back after the command failed: %s %+v", p.Active, p.Events)
	}
}

func TestAFailedCommandHoldsTheSwitchAndSaysWhat(t *testing.T) {
	s := newShop(t, &v1alpha1.VerificationSpec{Command: []string{"bin/smoke-test"}, Checks: []v1alpha1.HTTPCheck{{Path: "/"}}})
	s.rel.Spec.ActiveColor = grn
	_, name := verificationJob(t, s.rel, s.decide())
	s.jobs[name] = JobFailed
	s.outputs[name] = "exit 3: no products in category 4"
	s.decide()
	p := s.decide()
	d := cond(p, v1alpha1.ConditionDegraded)
	if p.Active != blue || p.Check != nil || d.Reason != v1alpha1.ReasonVerificationFailed || !strings.Contains(d.Message, "no products in category 4") {
		t.Fatalf("active %s, check %+v, degraded %s: %s", p.Active, p.Check, d.Reason, d.Message)
	}
}

func TestRetryChecksChecksAFailedTargetAgain(t *testing.T) {
	s := newShop(t, &v1alpha1.VerificationSpec{Command: []string{"bin/smoke-test"}})
	s.rel.Spec.ActiveColor = grn
	_, first := verificationJob(t, s.rel, s.decide())
	s.jobs[first] = JobFailed
	s.decide()
	failedAt := s.rel.Status.Green.VerificationFailedTime
	if failedAt == nil {
		t.Fatal("no failure time recorded")
	}
	// A retry asked before the failure changes nothing.
	s.rel.Annotations = map[string]string{v1alpha1.AnnotationRetryChecks: failedAt.Add(-time.Minute).Format(time.RFC3339)}
	if p := s.decide(); p.Status.Green.VerificationFailure == "" || len(p.Jobs) != 0 {
		t.Fatalf("an old retry cleared the failure: %+v %+v", p.Status.Green, p.Jobs)
	}
	s.now = s.now.Add(time.Minute)
	s.rel.Annotations[v1alpha1.AnnotationRetryChecks] = s.now.Format(time.RFC3339)
	p := s.decide()
	_, second := verificationJob(t, s.rel, p)
	if p.Status.Green.VerificationFailure != "" || second == first || !hasEvent(p.Events, v1alpha1.EventRetryingChecks) {
		t.Fatalf("not checked again: %+v, job %s (was %s), events %+v", p.Status.Green, second, first, p.Events)
	}
	s.jobs[second] = JobSucceeded
	if p = s.decide(); p.Active != grn {
		t.Fatalf("not switched after the retry passed: %s", p.Active)
	}
	if p = s.decide(); hasEvent(p.Events, v1alpha1.EventRetryingChecks) {
		t.Errorf("the retry was told twice: %+v", p.Events)
	}
}

func TestRetryChecksOfTheLiveSlotStartsANewWindow(t *testing.T) {
	s := newShop(t, &v1alpha1.VerificationSpec{Command: []string{"bin/smoke-test"}, SwitchBack: ptr.To(false)})
	s.rel.Spec.ActiveColor = grn
	_, before := verificationJob(t, s.rel, s.decide())
	s.jobs[before] = JobSucceeded
	s.decide()
	_, after := verificationJob(t, s.rel, s.decide())
	s.jobs[after] = JobFailed
	s.decide()
	p := s.decide()
	if p.Active != grn || p.Status.ChecksUntil != nil || cond(p, v1alpha1.ConditionDegraded).Reason != v1alpha1.ReasonVerificationFailed {
		t.Fatalf("switchBack false: active %s, window %v, %+v", p.Active, p.Status.ChecksUntil, p.Status.Conditions)
	}
	s.now = s.now.Add(time.Minute)
	s.rel.Annotations = map[string]string{v1alpha1.AnnotationRetryChecks: s.now.Format(time.RFC3339)}
	p = s.decide()
	_, again := verificationJob(t, s.rel, p)
	if p.Status.ChecksUntil == nil || again == after || p.Status.Green.VerificationFailure != "" {
		t.Fatalf("no new window: %v, job %s (was %s), %+v", p.Status.ChecksUntil, again, after, p.Status.Green)
	}
	s.jobs[again] = JobSucceeded
	if p = s.decide(); cond(p, v1alpha1.ConditionDegraded).Status != metav1.ConditionFalse {
		t.Errorf("still degraded after the retry passed: %+v", cond(p, v1alpha1.ConditionDegraded))
	}
}
