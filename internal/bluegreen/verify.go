package bluegreen

import (
	"fmt"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
	"github.com/magento-operator/magento-operator/internal/specs"
)

// Check is a round of spec.verification's HTTP checks that the plan asks
// the controller to run against a slot's ready web pods.
type Check struct {
	Color   v1alpha1.Color
	Version v1alpha1.Slot
	// After is true for the checks of the live slot in the window after a
	// switch; false for the checks of a switch's target before traffic moves.
	After bool
}

// CheckResult is the outcome of a round of checks.
type CheckResult struct {
	// Failure says which check failed and how; "" when all passed.
	Failure string
	// Inconclusive is set when nothing could be checked (no ready web pod
	// was found): the round is run again, nothing is recorded.
	Inconclusive bool
}

// verified tells whether the switch target c passed its checks (true when
// no checks are configured), and asks for them when they have not run for
// this deployment of c. failed is set when they failed: the switch holds
// until c is deployed again.
func (d *decision) verified(c v1alpha1.Color) (ok bool, why string, failed bool) {
	v := d.r.Spec.Verification
	ss := d.slotStatus(c)
	switch {
	case v == nil:
		return true, "", false
	case ss.VerificationFailure != "":
		d.degraded = append(d.degraded, problem{ReasonVerificationFailed, fmt.Sprintf(
			"%s (%s) failed its checks: %s; traffic stays on %s; deploy a fixed tag, digest or revision to %s, or set spec.activeColor back to %s",
			c, versionString(d.r.Spec.Slot(c)), ss.VerificationFailure, d.active, c, d.active)})
		return false, "its checks failed", true
	case ss.Verified:
		return true, "", false
	}
	d.plan.Check = &Check{Color: c, Version: *d.r.Spec.Slot(c)}
	return false, "checking " + string(c) + " over HTTP", false
}

// startChecks starts the window of checks after a switch to the slot just
// recorded.
func (d *decision) startChecks() {
	d.st.ChecksUntil = nil
	if v := d.r.Spec.Verification; v != nil && v.CheckWindow() > 0 {
		t := ceil(d.now.Add(v.CheckWindow()))
		d.st.ChecksUntil = &t
	}
}

// decideChecks runs the checks of the live slot in the window after a
// switch, one round every interval.
func (d *decision) decideChecks() {
	v, until := d.r.Spec.Verification, d.st.ChecksUntil
	if until == nil {
		return
	}
	ss := d.st.SlotStatus(d.active)
	if v == nil || !d.now.Before(until.Time) || ss == nil || ss.VerificationFailure != "" || d.r.Spec.Slot(d.active) == nil {
		d.st.ChecksUntil = nil
		return
	}
	d.wakeAt(until.Time)
	if d.switched { // the target passed its checks a moment ago
		d.wakeAt(d.now.Add(v.CheckInterval()))
		return
	}
	next := d.in.LastCheck.Add(v.CheckInterval())
	if d.in.LastCheck.IsZero() || !d.now.Before(next) {
		d.plan.Check = &Check{Color: d.active, Version: *d.r.Spec.Slot(d.active), After: true}
		next = d.now.Add(v.CheckInterval())
	}
	d.wakeAt(next)
}

// switchBack moves traffic back to the slot that served before, when the
// live slot failed a check after the switch and that is allowed; otherwise
// it reports why traffic stays. It returns true when it switched.
func (d *decision) switchBack() bool {
	ss := d.st.SlotStatus(d.active)
	if ss == nil || ss.VerificationFailure == "" {
		return false
	}
	failed := fmt.Sprintf("%s (%s) failed a check after the switch to it: %s", d.active, versionString(d.r.Spec.Slot(d.active)), ss.VerificationFailure)
	prev := d.active.Other()
	var why string
	v, m := d.r.Spec.Verification, d.r.Spec.Migration
	ready, notReady := d.readyForTraffic(prev, d.in.Slots[prev])
	switch {
	case v == nil || !v.SwitchesBack():
		why = "spec.verification.switchBack is false"
	case m != nil && m.Enabled && ss.Migrated && !m.CompatibleWithPrevious:
		why = "a migration ran for it and spec.migration.compatibleWithPrevious is false"
	case !ready:
		why = string(prev) + " cannot take it back: " + notReady
	}
	if why != "" {
		d.degraded = append(d.degraded, problem{ReasonVerificationFailed, fmt.Sprintf(
			"%s; traffic stays on %s because %s; deploy a fixed tag, digest or revision to %s and switch to it",
			failed, d.active, why, prev)})
		return false
	}
	d.sw = specs.Switch{Color: prev, Time: d.now}
	d.record(d.sw, Event{Warning: true, Reason: EventSwitchedBack, Message: fmt.Sprintf(
		"Switched traffic back from %s to %s: %s", d.active, prev, failed)})
	d.st.ChecksUntil = nil
	return true
}

// Checked records the outcome of a round of checks in the status and
// returns the Events that tell it. A result for a version the slot no
// longer runs is dropped.
func Checked(st *v1alpha1.MagentoReleaseStatus, c Check, res CheckResult) []Event {
	ss := st.SlotStatus(c.Color)
	if ss == nil || res.Inconclusive || (v1alpha1.Slot{Tag: ss.Tag, Digest: ss.Digest, Revision: ss.Revision}) != c.Version {
		return nil
	}
	when := map[bool]string{false: "before the switch to it", true: "after the switch to it"}[c.After]
	if res.Failure != "" {
		ss.VerificationFailure = res.Failure
		ss.Verified = false
		return []Event{{Warning: true, Reason: EventVerificationFailed, Message: fmt.Sprintf(
			"%s (%s) failed a check %s: %s", c.Color, versionString(&c.Version), when, res.Failure)}}
	}
	if c.After || ss.Verified {
		return nil
	}
	ss.Verified = true
	return []Event{{Reason: EventVerified, Message: fmt.Sprintf("%s (%s) passed its checks %s", c.Color, versionString(&c.Version), when)}}
}
