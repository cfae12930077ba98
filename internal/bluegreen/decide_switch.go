// This file decides where traffic goes: the switch, the gate its target
// passes (ready, migrated, checked), the record of a switch on the Services
// and the post-switch Job.

package bluegreen

import (
	"fmt"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
	"github.com/magento-operator/magento-operator/internal/specs"
)

// decideActive settles where traffic goes: rule 10 (what serves is read
// from the Services), rule 6 (first rollout), rule 2 (switch once the
// target is ready).
func (d *decision) decideActive() {
	d.active = d.served()
	if d.active != "" && d.active != d.desired && d.r.Spec.Slot(d.active) == nil && !d.in.Slots[d.active].Exists() {
		d.active = "" // nothing serves: the desired slot starts as on a first rollout
	}
	if d.active == "" {
		d.active = d.desired // first rollout: point the Services at it straight away
		d.sw = specs.Switch{Color: d.desired}
		d.st.ActiveColor = d.active
		d.st.SwitchStartTime = nil
		return
	}
	d.st.ActiveColor = d.active
	if !d.sw.Time.IsZero() && !d.recorded(d.sw) {
		if d.r.Status.ActiveColor == "" {
			// The status was lost: take the record over, without telling
			// of a switch that was told when it happened.
			at := metav1.NewTime(d.sw.Time.Truncate(time.Second))
			d.st.LastSwitchTime = &at
		} else {
			// The Services were switched but the status never said so (the
			// operator stopped between the two writes): record it now.
			d.record(d.sw, Event{})
			d.startChecks()
		}
	}
	d.retryChecks()
	d.switchBack()
	if d.active == d.desired {
		d.st.SwitchStartTime = nil
		return
	}

	// A switch is pending.
	d.need = map[specs.Component]int32{}
	for _, c := range specs.Served {
		if live := d.in.Slots[d.active].Deployments[c]; live != nil {
			d.need[c] = live.SpecReplicas
		}
	}
	if d.st.SwitchStartTime == nil {
		t := ceil(d.now)
		d.st.SwitchStartTime = &t
	}
	ready, why, failed := d.gate(d.desired)
	if failed {
		d.progress = append(d.progress, fmt.Sprintf("switching to %s: %s", d.desired, why))
		return // no deadline: the failure is reported, and holds until a new deploy
	}
	if !ready {
		// The deadline counts from the request, or from a later deploy of
		// the target (a fix pushed to it restarts the clock).
		start := d.st.SwitchStartTime.Time
		if ss := d.st.SlotStatus(d.desired); ss != nil && ss.DeployedTime != nil && ss.DeployedTime.After(start) {
			start = ss.DeployedTime.Time
		}
		deadline := start.Add(d.deadline())
		if !d.now.Before(deadline) {
			d.degraded = append(d.degraded, problem{v1alpha1.ReasonDeadlineExceeded, fmt.Sprintf(
				"%s is not ready %s after the switch to it was requested: %s; traffic stays on %s; "+
					"deploy a fixed tag, digest or revision to %s, or set spec.activeColor back to %s",
				d.desired, d.deadline(), why, d.active, d.desired, d.active)})
		} else {
			d.wakeAt(deadline)
		}
		d.progress = append(d.progress, fmt.Sprintf("switching to %s: %s", d.desired, why))
		return
	}
	d.sw = specs.Switch{Color: d.desired, Time: d.now}
	d.record(d.sw, Event{})
	d.startChecks()
	d.need = nil
}

// gate tells whether the switch target c may take traffic now, in order:
// ready (rules 1 and 9), migrated (rule 2), and checked (spec.verification).
// failed is set when its checks failed: the switch holds until c is deployed
// again.
func (d *decision) gate(c v1alpha1.Color) (ready bool, why string, failed bool) {
	if ready, why = d.readyForTraffic(c, d.in.Slots[c]); !ready {
		return false, why, false
	}
	if ready, why = d.ensureMigrated(c); !ready {
		return false, why, false
	}
	return d.ensureVerified(c)
}

// served is the slot the Services serve by the operator's own record on
// them (rule 10), and sets d.sw to that record. A status written by hand,
// restored from a backup or by a second manager never moves traffic: it is
// read only when the Services carry no record (an older operator's, or none
// yet). Services moved by hand are set back to the record (rule 7); a
// pending switch then moves them properly once its target passes the gate.
func (d *decision) served() v1alpha1.Color {
	sws := d.in.Traffic.Switches
	if len(sws) == 0 {
		d.sw = specs.Switch{Color: d.st.ActiveColor}
		if t := d.st.LastSwitchTime; t != nil && d.st.ActiveColor != "" {
			d.sw.Time = t.Time
		}
		if d.sw.Color == "" { // the status was lost: the selectors tell
			d.sw = specs.Switch{Color: d.in.Traffic.Selects}
		}
		return d.sw.Color
	}
	// The two Services disagree only when the operator stopped between their
	// writes: the earlier record is where both last pointed.
	sw := sws[0]
	for _, s := range sws[1:] {
		if s.Time.Before(sw.Time) {
			sw = s
		}
	}
	d.sw = sw
	back := d.st.ActiveColor
	if !sw.Time.IsZero() && !d.recorded(sw) && back != "" && back != sw.Color && !d.passesGate(sw.Color) {
		// A switch the status does not record, to a slot that fails the gate
		// now: traffic goes back to the slot the status last recorded.
		d.sw = specs.Switch{Color: back}
		if t := d.st.LastSwitchTime; t != nil {
			d.sw.Time = t.Time
		}
	}
	return d.sw.Color
}

// recorded tells whether the status records the switch sw.
func (d *decision) recorded(sw specs.Switch) bool {
	t := d.st.LastSwitchTime
	return sw.Time.IsZero() || (t != nil && t.Unix() == sw.Time.Unix())
}

// passesGate tells whether slot c may take traffic now: ready at its spec
// version (rule 1), its php-fpm Service in place, and migrated (rule 2).
func (d *decision) passesGate(c v1alpha1.Color) bool {
	if ok, _ := d.readyForTraffic(c, d.in.Slots[c]); !ok {
		return false
	}
	m := d.r.Spec.Migration
	if m == nil || !m.Enabled {
		return true
	}
	if ss := d.st.SlotStatus(c); ss != nil && ss.Migrated {
		return true
	}
	return d.in.Jobs[specs.MigrationJobName(d.r, c, *d.r.Spec.Slot(c))] == JobSucceeded
}

// record records the switch sw of the Services to sw.Color: the time, the
// old slot idle from then on, the Event ev (a Switched one when empty), and
// the post-switch Job to start.
func (d *decision) record(sw specs.Switch, ev Event) {
	old := sw.Color.Other()
	d.active = sw.Color
	d.st.ActiveColor = sw.Color
	at := metav1.NewTime(sw.Time.Truncate(time.Second))
	d.st.LastSwitchTime = &at
	d.st.SwitchStartTime = nil
	if s := d.st.SlotStatus(old); s != nil {
		t := ceil(sw.Time)
		s.IdleSince = &t
		s.Verified = false // the next switch to it checks it again
	}
	d.switched = true
	if ev.Reason == "" {
		ev = Event{Reason: v1alpha1.EventSwitched, Message: fmt.Sprintf("Switched traffic from %s to %s (%s)", old, sw.Color, versionString(d.r.Spec.Slot(sw.Color)))}
	}
	d.plan.Events = append(d.plan.Events, ev)
}

// decidePostSwitch asks for the post-switch Job of the switch just recorded,
// and keeps asking until it exists (rule 12).
func (d *decision) decidePostSwitch() {
	plan := d.plan.Slots[d.active]
	if d.switched && d.r.Spec.PostSwitch != nil && plan != nil {
		d.st.PostSwitchJob = specs.PostSwitchJobName(d.r, d.active, plan.Version, d.sw.Time)
		d.st.PostSwitchJobPending = true
	}
	if !d.st.PostSwitchJobPending {
		return
	}
	if d.r.Spec.PostSwitch == nil || plan == nil || d.in.Jobs[d.st.PostSwitchJob] != JobAbsent {
		d.st.PostSwitchJobPending = false
		return
	}
	if name := specs.PostSwitchJobName(d.r, d.active, plan.Version, d.sw.Time); name != d.st.PostSwitchJob {
		// The job was asked for by another switch than the one on the Services.
		d.st.PostSwitchJobPending = false
		return
	}
	d.plan.Jobs = append(d.plan.Jobs, JobPlan{Component: specs.PostSwitch, Color: d.active, Version: plan.Version, At: d.sw.Time})
	d.moving = append(d.moving, "starting post-switch Job "+d.st.PostSwitchJob)
}

// ensureMigrated plans the migration Job of the switch target's deployment
// while it needs one (rule 2), records its outcome in the slot's status, and
// tells whether traffic may move.
func (d *decision) ensureMigrated(c v1alpha1.Color) (bool, string) {
	m := d.r.Spec.Migration
	ss := d.slotStatus(c)
	if m == nil || !m.Enabled || ss.Migrated {
		return true, ""
	}
	version := *d.r.Spec.Slot(c)
	name := specs.MigrationJobName(d.r, c, version)
	state := d.in.Jobs[name]
	switch {
	case state == JobSucceeded:
		ss.Migrated, ss.MigrationOutput = true, d.in.Outputs[name]
		d.event(false, v1alpha1.EventMigrated, "Migration Job %s of %s (%s) succeeded%s", name, c, versionString(&version), outputNote(ss.MigrationOutput))
		return true, ""
	case ss.MigrationFailed || state == JobFailed:
		if !ss.MigrationFailed {
			ss.MigrationFailed, ss.MigrationOutput = true, d.in.Outputs[name]
		}
		d.degraded = append(d.degraded, problem{v1alpha1.ReasonMigrationFailed, fmt.Sprintf(
			"migration Job %s failed%s; traffic stays on %s; deploy a new tag, digest or revision to %s to retry",
			name, outputNote(ss.MigrationOutput), d.active, c)})
		return false, "the migration failed"
	}
	d.plan.Jobs = append(d.plan.Jobs, JobPlan{Component: specs.Migration, Color: c, Version: version})
	if state == JobAbsent {
		return false, "starting migration Job " + name
	}
	return false, "migration Job " + name + " is running"
}

// readyForTraffic tells whether a switch may move traffic to slot c, and if
// not, why not.
func (d *decision) readyForTraffic(c v1alpha1.Color, obs SlotObservation) (bool, string) {
	spec := d.r.Spec.Slot(c)
	if spec == nil {
		return false, fmt.Sprintf("spec.%s is not set", c)
	}
	var missing []string
	for _, comp := range specs.Served {
		dep := obs.Deployments[comp]
		switch {
		case dep == nil:
			missing = append(missing, string(comp)+" does not exist yet")
		case dep.Version != *spec:
			missing = append(missing, string(comp)+" runs "+versionString(&dep.Version)+", not "+versionString(spec))
		case dep.SpecReplicas < d.need[comp]:
			missing = append(missing, fmt.Sprintf("%s is scaling to %d replicas", comp, d.need[comp]))
		case !dep.Ready:
			missing = append(missing, string(comp)+" is not available")
		}
	}
	if !obs.Service {
		missing = append(missing, "Service "+specs.SlotName(d.r, specs.PHPFPM, c)+" is missing")
	}
	if len(missing) > 0 {
		return false, strings.Join(missing, ", ")
	}
	return true, ""
}
