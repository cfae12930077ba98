package bluegreen

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
	"github.com/magento-operator/magento-operator/internal/specs"
)

// shop is a release whose Services record sw, both slots observed as given,
// and which is decided step by step: each step's status and switch are what
// the next one reads, as the controller would write them.
type shop struct {
	t     *testing.T
	rel   *v1alpha1.MagentoRelease
	slots map[v1alpha1.Color]SlotObservation
	sw    specs.Switch
	now   time.Time
	last  time.Time // the last round of checks after a switch
	// jobs and outputs are the Jobs observed, and what finished ones said.
	jobs    map[string]JobState
	outputs map[string]string
}

func newShop(t *testing.T, verification *v1alpha1.VerificationSpec) *shop {
	r := release(blue, &v1, &v2, v1alpha1.MagentoReleaseStatus{}).
		With(func(r *v1alpha1.MagentoRelease) { r.Spec.Verification = verification }).Obj()
	s := &shop{t: t, rel: r, now: t0, jobs: map[string]JobState{}, outputs: map[string]string{},
		slots: map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 1, 1, true), grn: slot(v2, 2, 3, 0, 0, true)}}
	s.decide() // first rollout: blue
	s.now = s.now.Add(time.Minute)
	p := s.decide() // green deployed beside it
	if p.Active != blue || !s.rel.Status.Blue.Ready || !s.rel.Status.Green.Ready {
		t.Fatalf("not settled: %+v", s.rel.Status)
	}
	return s
}

func (s *shop) decide() Plan {
	s.t.Helper()
	in := Input{Release: s.rel, Slots: s.slots, Owned: allOwned(s.rel), Jobs: s.jobs, Outputs: s.outputs, Now: s.now, LastCheck: s.last,
		Traffic: Traffic{Selects: s.sw.Color, Switches: []specs.Switch{s.sw, s.sw}}}
	if s.sw.Color == "" {
		in.Traffic = Traffic{}
	}
	p := Decide(in)
	s.rel.Status = p.Status
	s.sw = p.Switch
	return p
}

// checked runs the plan's round of checks with the given outcome.
func (s *shop) checked(p Plan, failure string) []Event {
	s.t.Helper()
	if p.Check == nil {
		s.t.Fatal("no check was asked for")
	}
	if p.Check.After {
		s.last = s.now
	}
	return Checked(&s.rel.Status, *p.Check, CheckResult{Failure: failure}, s.now)
}

func hasEvent(evs []Event, reason string) bool {
	for _, e := range evs {
		if e.Reason == reason {
			return true
		}
	}
	return false
}

func TestChecksHoldTheSwitchUntilTheyPass(t *testing.T) {
	s := newShop(t, &v1alpha1.VerificationSpec{})
	s.rel.Spec.ActiveColor = grn
	p := s.decide()
	if p.Active != blue || p.Check == nil || p.Check.Color != grn || p.Check.After || p.Check.Version != v2 {
		t.Fatalf("the target was not checked before the switch: active %s, check %+v", p.Active, p.Check)
	}
	if c := cond(p, v1alpha1.ConditionProgressing); !strings.Contains(c.Message, "checking green") {
		t.Errorf("progressing: %s", c.Message)
	}
	if ev := s.checked(p, ""); !hasEvent(ev, v1alpha1.EventVerified) || !s.rel.Status.Green.Verified {
		t.Fatalf("a passed round is not recorded: %+v %+v", ev, s.rel.Status.Green)
	}
	p = s.decide()
	if p.Active != grn || !hasEvent(p.Events, v1alpha1.EventSwitched) || p.Check != nil {
		t.Fatalf("no switch after the checks passed: active %s, events %+v", p.Active, p.Events)
	}
	if w := p.Status.ChecksUntil; w == nil || !w.Time.Equal(s.now.Add(5*time.Minute)) {
		t.Errorf("window %v", w)
	}
}

func TestAFailedCheckBeforeTheSwitchHoldsItUntilANewDeploy(t *testing.T) {
	s := newShop(t, &v1alpha1.VerificationSpec{})
	s.rel.Spec.ActiveColor = grn
	ev := s.checked(s.decide(), "GET /health_check.php on pod shop-web-green-1: status 500, want 200")
	if !hasEvent(ev, v1alpha1.EventVerificationFailed) {
		t.Errorf("events %+v", ev)
	}
	for range 3 {
		s.now = s.now.Add(time.Hour) // past any deadline: the failure is what is reported
		p := s.decide()
		if p.Active != blue || p.Check != nil {
			t.Fatalf("a failed target was switched to or checked again: %s %+v", p.Active, p.Check)
		}
		d := cond(p, v1alpha1.ConditionDegraded)
		if d.Reason != v1alpha1.ReasonVerificationFailed || !strings.Contains(d.Message, "status 500") ||
			!strings.Contains(d.Message, "deploy a fixed tag, digest or revision to green, or set spec.activeColor back to blue") {
			t.Fatalf("degraded %s: %s", d.Reason, d.Message)
		}
	}
	// A new revision of green runs its checks again.
	fixed := v1alpha1.Slot{Tag: "main-2", Revision: "2"}
	s.rel.Spec.Green = &fixed
	p := s.decide()
	if p.Status.Green.VerificationFailure != "" || !p.Slots[grn].Render {
		t.Fatalf("a new deploy kept the failure: %+v", p.Status.Green)
	}
	s.slots[grn] = slot(fixed, 2, 3, 0, 0, true)
	if p = s.decide(); p.Check == nil || p.Check.Version != fixed {
		t.Fatalf("the new deploy is not checked: %+v", p.Check)
	}
}

// switchToGreen switches with checks that pass.
func (s *shop) switchToGreen() {
	s.t.Helper()
	s.rel.Spec.ActiveColor = grn
	s.checked(s.decide(), "")
	p := s.decide()
	if p.Active != grn {
		s.t.Fatalf("not switched: %+v", p.Status)
	}
}

func TestChecksAfterTheSwitchRunEveryIntervalAndSwitchBackOnFailure(t *testing.T) {
	s := newShop(t, &v1alpha1.VerificationSpec{Interval: &metav1.Duration{Duration: 10 * time.Second}})
	s.switchToGreen()
	s.now = s.now.Add(time.Second)
	p := s.decide()
	if p.Check == nil || !p.Check.After || p.Check.Color != grn {
		t.Fatalf("no round after the switch: %+v", p.Check)
	}
	s.checked(p, "")
	s.now = s.now.Add(3 * time.Second)
	if p = s.decide(); p.Check != nil || p.RequeueAfter != 7*time.Second {
		t.Fatalf("a round before the interval passed: %+v, requeue %s", p.Check, p.RequeueAfter)
	}
	s.now = s.now.Add(7 * time.Second)
	p = s.decide()
	if ev := s.checked(p, "GET / on pod shop-web-green-1: status 500, want 200"); !hasEvent(ev, v1alpha1.EventVerificationFailed) {
		t.Errorf("events %+v", ev)
	}
	p = s.decide()
	if p.Active != blue || !hasEvent(p.Events, v1alpha1.EventSwitchedBack) || p.Status.ChecksUntil != nil {
		t.Fatalf("not switched back: active %s, events %+v", p.Active, p.Events)
	}
	if d := cond(p, v1alpha1.ConditionDegraded); d.Reason != v1alpha1.ReasonVerificationFailed {
		t.Errorf("degraded %s: %s", d.Reason, d.Message)
	}
	// spec.activeColor still says green: the failed deployment is not switched to again.
	for range 3 {
		s.now = s.now.Add(time.Minute)
		if p = s.decide(); p.Active != blue || p.Check != nil {
			t.Fatalf("switched to the failed slot again: %s %+v", p.Active, p.Check)
		}
	}
}

func TestNoSwitchBackAfterAMigrationUnlessCompatible(t *testing.T) {
	for _, compatible := range []bool{false, true} {
		s := newShop(t, &v1alpha1.VerificationSpec{})
		s.rel.Spec.Migration = &v1alpha1.MigrationSpec{Enabled: true, CompatibleWithPrevious: compatible}
		s.rel.Status.Green.Migrated = true // green's migration ran
		s.switchToGreen()
		s.now = s.now.Add(time.Second)
		s.checked(s.decide(), "GET / on pod shop-web-green-1: status 500, want 200")
		p := s.decide()
		if back := p.Active == blue; back != compatible {
			t.Fatalf("compatible %v: active %s", compatible, p.Active)
		}
		d := cond(p, v1alpha1.ConditionDegraded)
		if d.Reason != v1alpha1.ReasonVerificationFailed || (!compatible && !strings.Contains(d.Message, "compatibleWithPrevious is false")) {
			t.Errorf("compatible %v: degraded %s: %s", compatible, d.Reason, d.Message)
		}
	}
}

func TestTheSlotTrafficMaySwitchBackToRunsUntilTheChecksEnd(t *testing.T) {
	s := newShop(t, &v1alpha1.VerificationSpec{Window: &metav1.Duration{Duration: 2 * time.Hour}})
	s.switchToGreen()
	// idleScaleDown.after is an hour in these releases.
	s.now = s.now.Add(90 * time.Minute)
	s.last = s.now
	if p := s.decide(); !p.Slots[blue].Running {
		t.Fatal("the previous slot was scaled down inside the check window")
	}
	s.now = s.now.Add(31 * time.Minute)
	s.last = s.now
	if p := s.decide(); p.Slots[blue].Running || p.Status.ChecksUntil != nil {
		t.Fatalf("after the window: running %v, checks until %v", p.Slots[blue].Running, p.Status.ChecksUntil)
	}
}

func TestEverySwitchChecksItsTargetAgain(t *testing.T) {
	s := newShop(t, &v1alpha1.VerificationSpec{Window: &metav1.Duration{}})
	s.switchToGreen()
	s.rel.Spec.ActiveColor = blue
	s.checked(s.decide(), "")
	if p := s.decide(); p.Active != blue {
		t.Fatalf("not back on blue: %s", p.Active)
	}
	s.rel.Spec.ActiveColor = grn
	if p := s.decide(); p.Active != blue || p.Check == nil || p.Check.Color != grn {
		t.Fatalf("green was switched to again unchecked: active %s, check %+v", p.Active, p.Check)
	}
}

func TestSkipChecksSwitchesWithoutThemAndRunsNoWindow(t *testing.T) {
	s := newShop(t, &v1alpha1.VerificationSpec{})
	s.rel.Spec.ActiveColor = grn
	s.checked(s.decide(), "GET /health_check.php on pod shop-web-green-1: status 500, want 200")
	s.now = s.now.Add(time.Minute)
	s.rel.Annotations = map[string]string{v1alpha1.AnnotationSkipChecks: s.now.Format(time.RFC3339)}
	p := s.decide()
	if p.Active != grn || !hasEvent(p.Events, v1alpha1.EventChecksSkipped) || p.Status.ChecksUntil != nil || p.Check != nil {
		t.Fatalf("not switched without checks: %s, events %+v, window %v", p.Active, p.Events, p.Status.ChecksUntil)
	}
	// The next switch is checked again: the skip was for the one pending then.
	s.now = s.now.Add(time.Minute)
	s.rel.Spec.ActiveColor = blue
	if p = s.decide(); p.Active != grn || p.Check == nil || p.Check.Color != blue {
		t.Fatalf("a later switch skipped its checks: %s %+v", p.Active, p.Check)
	}
}

func TestSkipChecksEndsTheWindowAfterASwitch(t *testing.T) {
	s := newShop(t, &v1alpha1.VerificationSpec{})
	s.switchToGreen()
	s.now = s.now.Add(time.Second)
	s.rel.Annotations = map[string]string{v1alpha1.AnnotationSkipChecks: s.now.Format(time.RFC3339)}
	p := s.decide()
	if p.Check != nil || p.Status.ChecksUntil != nil || !hasEvent(p.Events, v1alpha1.EventChecksSkipped) {
		t.Fatalf("the window still runs: %+v %v %+v", p.Check, p.Status.ChecksUntil, p.Events)
	}
}

func TestMigrationOutputIsRecorded(t *testing.T) {
	for _, failed := range []bool{false, true} {
		s := newShop(t, nil)
		s.rel.Spec.Migration = &v1alpha1.MigrationSpec{Enabled: true}
		s.rel.Spec.ActiveColor = grn
		s.decide()
		name := specs.MigrationJobName(s.rel, grn, v2)
		s.jobs[name], s.outputs[name] = JobSucceeded, "exit 0: setup:db:status: exit 2, running setup:upgrade --keep-generated / setup:upgrade --keep-generated: done"
		if failed {
			s.jobs[name], s.outputs[name] = JobFailed, "exit 1: setup:db:status: failed with exit 1"
		}
		p := s.decide()
		if got := p.Status.Green.MigrationOutput; got != s.outputs[name] {
			t.Errorf("failed %v: migrationOutput %q", failed, got)
		}
		if failed {
			if d := cond(p, v1alpha1.ConditionDegraded); !strings.Contains(d.Message, "setup:db:status: failed with exit 1") {
				t.Errorf("degraded: %s", d.Message)
			}
			continue
		}
		if !hasEvent(p.Events, v1alpha1.EventMigrated) || p.Active != grn {
			t.Errorf("events %+v, active %s", p.Events, p.Active)
		}
	}
}
