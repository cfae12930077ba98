package bluegreen

import (
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

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

// ensureVerified asks for the checks of the switch target c that have not
// run for this switch to it — the command Job first, then a round of HTTP
// checks — and tells whether c passed them (true when no checks are
// configured). failed is set when they failed: the switch holds until c is
// deployed again, or the checks are retried or skipped.
func (d *decision) ensureVerified(c v1alpha1.Color) (ok bool, why string, failed bool) {
	v := d.r.Spec.Verification
	ss := d.slotStatus(c)
	version := *d.r.Spec.Slot(c)
	if v == nil {
		return true, "", false
	}
	if d.skipAsked(d.st.SwitchStartTime) {
		d.checksSkipped = true
		if !ss.Verified {
			d.event(false, v1alpha1.EventChecksSkipped, "Skipped the checks of %s (%s) for the switch to it, as asked (%s)",
				c, versionString(&version), v1alpha1.AnnotationSkipChecks)
		}
		ss.Verified, ss.VerificationFailure, ss.VerificationFailedTime = true, "", nil
		return true, "", false
	}
	switch {
	case ss.VerificationFailure != "":
		d.degraded = append(d.degraded, problem{v1alpha1.ReasonVerificationFailed, fmt.Sprintf(
			"%s (%s) failed its checks: %s; traffic stays on %s; deploy a fixed tag, digest or revision to %s, or set spec.activeColor back to %s",
			c, versionString(&version), ss.VerificationFailure, d.active, c, d.active)})
		return false, "its checks failed", true
	case ss.Verified:
		return true, "", false
	}
	if len(v.Command) > 0 {
		if done, why := d.commandPassed(Check{Color: c, Version: version}, d.st.SwitchStartTime); !done {
			return false, why, ss.VerificationFailure != ""
		}
	}
	if len(v.HTTPChecks()) == 0 {
		d.plan.Events = append(d.plan.Events, Checked(d.st, Check{Color: c, Version: version}, CheckResult{}, d.now)...)
		return true, "", false
	}
	d.plan.Check = &Check{Color: c, Version: version}
	return false, "checking " + string(c) + " over HTTP", false
}

// commandPassed runs spec.verification.command as a Job for the check c,
// named after at: for a check before a switch, when the switch started; for
// one after it, when its window ends (a retry starts a new window). It
// tells whether the command passed; a failure is recorded in the status.
func (d *decision) commandPassed(c Check, at *metav1.Time) (bool, string) {
	var t time.Time
	if at != nil {
		t = at.Time
	}
	name := specs.VerificationJobName(d.r, c.Color, c.Version, t, c.After)
	switch d.in.Jobs[name] {
	case JobSucceeded:
		return true, ""
	case JobFailed:
		d.plan.Events = append(d.plan.Events, Checked(d.st, c, CheckResult{
			Failure: fmt.Sprintf("command Job %s failed%s", name, outputNote(d.in.Outputs[name]))}, d.now)...)
		return false, "its checks failed"
	}
	d.plan.Jobs = append(d.plan.Jobs, JobPlan{Component: specs.Verification, Color: c.Color, Version: c.Version, At: t, After: c.After})
	if d.in.Jobs[name] == JobAbsent {
		return false, "starting command Job " + name
	}
	return false, "command Job " + name + " is running"
}

// outputNote is what a finished Job said, for a message: ": <output>", or
// "" when nothing is known.
func outputNote(out string) string {
	if out == "" {
		return ""
	}
	return ": " + out
}

// asked reads one of the release's request annotations (scale-down-idle,
// retry-checks, skip-checks): the time it asks for, and whether it is set
// and valid.
func (d *decision) asked(annotation string) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339, d.r.Annotations[annotation])
	return t, err == nil
}

// askedSince tells whether the request annotation asks for a time at or
// after since. Status times are rounded up to the second, so a second's
// slack.
func (d *decision) askedSince(annotation string, since *metav1.Time) bool {
	t, ok := d.asked(annotation)
	return ok && since != nil && !t.Before(since.Add(-time.Second))
}

// skipAsked tells whether skip-checks was asked at or after since (a
// switch's start, or the switch itself).
func (d *decision) skipAsked(since *metav1.Time) bool {
	return d.askedSince(v1alpha1.AnnotationSkipChecks, since)
}

// retryChecks clears a slot's recorded check failure when retry-checks was
// asked after it: a pending switch to it checks it again (as a new switch:
// its progress deadline starts again), and the live slot gets a new window
// of checks.
func (d *decision) retryChecks() {
	t, ok := d.asked(v1alpha1.AnnotationRetryChecks)
	if !ok {
		return
	}
	for _, c := range v1alpha1.Colors {
		ss := d.st.SlotStatus(c)
		if ss == nil || ss.VerificationFailure == "" || ss.VerificationFailedTime == nil || t.Before(ss.VerificationFailedTime.Time) {
			continue
		}
		ss.Verified, ss.VerificationFailure, ss.VerificationFailedTime = false, "", nil
		d.event(false, v1alpha1.EventRetryingChecks, "Checking %s (%s) again, as asked (%s)", c, ss.Tag, v1alpha1.AnnotationRetryChecks)
		if c == d.active && c == d.desired {
			d.startChecks()
		} else if c == d.desired {
			// A new start, so the command runs as a new Job (its name
			// hashes the start), even within the second of the last one.
			start := ceil(d.now)
			if old := d.st.SwitchStartTime; old != nil && !start.After(old.Time) {
				start = metav1.NewTime(old.Add(time.Second))
			}
			d.st.SwitchStartTime = &start
		}
	}
}

// startChecks starts the window of checks after a switch to the slot just
// recorded, unless the checks of that switch were skipped.
func (d *decision) startChecks() {
	d.st.ChecksUntil = nil
	if v := d.r.Spec.Verification; v != nil && v.CheckWindow() > 0 && !d.checksSkipped {
		t := ceil(d.now.Add(v.CheckWindow()))
		d.st.ChecksUntil = &t
	}
}

// decideChecks runs the checks of the live slot in the window after a
// switch: the command Job once, and a round of HTTP checks every interval.
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
	if d.skipAsked(d.st.LastSwitchTime) {
		d.event(false, v1alpha1.EventChecksSkipped, "Skipped the checks of %s after the switch to it, as asked (%s)", d.active, v1alpha1.AnnotationSkipChecks)
		d.st.ChecksUntil = nil
		return
	}
	d.wakeAt(until.Time)
	c := Check{Color: d.active, Version: *d.r.Spec.Slot(d.active), After: true}
	if len(v.Command) > 0 {
		d.commandPassed(c, d.st.ChecksUntil)
		if ss.VerificationFailure != "" {
			// The status records the failure; the next pass switches back.
			d.st.ChecksUntil = nil
			d.wakeAt(d.now.Add(time.Second))
			return
		}
	}
	if len(v.HTTPChecks()) == 0 {
		return
	}
	if d.switched { // the target passed its checks a moment ago
		d.wakeAt(d.now.Add(v.CheckInterval()))
		return
	}
	next := d.in.LastCheck.Add(v.CheckInterval())
	if d.in.LastCheck.IsZero() || !d.now.Before(next) {
		d.plan.Check = &c
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
		d.degraded = append(d.degraded, problem{v1alpha1.ReasonVerificationFailed, fmt.Sprintf(
			"%s; traffic stays on %s because %s; deploy a fixed tag, digest or revision to %s and switch to it",
			failed, d.active, why, prev)})
		return false
	}
	d.sw = specs.Switch{Color: prev, Time: d.now}
	d.record(d.sw, Event{Warning: true, Reason: v1alpha1.EventSwitchedBack, Message: fmt.Sprintf(
		"Switched traffic back from %s to %s: %s", d.active, prev, failed)})
	d.st.ChecksUntil = nil
	return true
}

// Checked records the outcome of a round of checks in the status and
// returns the Events that tell it. A result for a version the slot no
// longer runs is dropped.
func Checked(st *v1alpha1.MagentoReleaseStatus, c Check, res CheckResult, now time.Time) []Event {
	ss := st.SlotStatus(c.Color)
	if ss == nil || res.Inconclusive || (v1alpha1.Slot{Tag: ss.Tag, Digest: ss.Digest, Revision: ss.Revision}) != c.Version {
		return nil
	}
	when := map[bool]string{false: "before the switch to it", true: "after the switch to it"}[c.After]
	if res.Failure != "" {
		at := ceil(now)
		ss.VerificationFailure, ss.VerificationFailedTime = res.Failure, &at
		ss.Verified = false
		return []Event{{Warning: true, Reason: v1alpha1.EventVerificationFailed, Message: fmt.Sprintf(
			"%s (%s) failed a check %s: %s", c.Color, versionString(&c.Version), when, res.Failure)}}
	}
	if c.After || ss.Verified {
		return nil
	}
	ss.Verified = true
	return []Event{{Reason: v1alpha1.EventVerified, Message: fmt.Sprintf("%s (%s) passed its checks %s", c.Color, versionString(&c.Version), when)}}
}
