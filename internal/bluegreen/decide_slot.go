// This file plans each slot: the version its Deployments run, their
// replica counts and HPA bounds, its rollout and idle scale-down, and its
// state in the status.

package bluegreen

import (
	"fmt"
	"strings"
	"time"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
	"github.com/magento-operator/magento-operator/internal/specs"
)

// decideSlot plans one slot: rule 4 (frozen live slot), rule 5 (idle
// scale-down), rule 9 (capacity before traffic).
func (d *decision) decideSlot(c v1alpha1.Color) {
	spec := d.r.Spec.Slot(c)
	obs := d.in.Slots[c]
	serving := c == d.active
	if spec == nil && !serving {
		d.st.SetSlotStatus(c, nil) // removed from the spec: its objects go
		return
	}
	prev := d.st.SlotStatus(c).DeepCopy()
	ss := d.slotStatus(c)
	version, render := d.slotVersion(spec, obs, serving)
	if render {
		d.deploy(c, prev, ss, version)
	}
	ss.Tag, ss.Digest, ss.Revision = version.Tag, version.Digest, version.Revision
	ss.Outdated = obs.Outdated && !render
	if serving {
		// Serving traffic, its schema is in place: it never migrates again
		// (old code must not run setup:upgrade against a newer schema).
		ss.Migrated, ss.MigrationFailed = true, false
	}

	target := c == d.desired && !serving
	down := false
	if !serving && !target {
		if ss.IdleSince == nil && ss.DeployedTime == nil {
			t := ceil(d.now)
			ss.IdleSince = &t
		}
		down = d.idleScaleDown(c, prev, ss, render)
	} else {
		ss.IdleScaleDownTime = nil
	}
	if !down && !render && prev != nil && prev.State == v1alpha1.SlotScaledDown {
		t := ceil(d.now)
		ss.IdleSince, ss.RolloutStartTime = &t, &t
		d.event(false, v1alpha1.EventScaledUp, "Scaling %s up from zero for the switch to it", c)
	}

	plan := &SlotPlan{Version: version, Render: render, Running: !down,
		Replicas: map[specs.Component]int32{}, HPAs: map[specs.Component]Bounds{}}
	plan.WebWaits = render && webWaits(obs, version)
	for _, comp := range specs.Served {
		if b, ok := d.hpaBounds(comp, down, target); ok {
			plan.HPAs[comp] = b
		}
		plan.Replicas[comp] = d.servedReplicas(comp, obs, down, target)
	}
	d.plan.Slots[c] = plan
	ss.Ready = !down && !render && slotReady(obs, plan)
	d.slotState(c, ss, serving, down, target)
	d.watchLive(c, ss, obs, plan, serving)
}

// webWaits tells whether a deploy of version over the slot must hold nginx
// back: php-fpm first. While old and new php-fpm pods run side by side
// behind <name>-php-fpm-<color>, a new nginx's health check may reach an old
// php-fpm and pass for a version that is broken.
func webWaits(obs SlotObservation, version v1alpha1.Slot) bool {
	fpm, web := obs.Deployments[specs.PHPFPM], obs.Deployments[specs.Web]
	return web != nil && web.Version != version && (fpm == nil || fpm.Version != version || !fpm.Ready)
}

// deploy records that slot c is rendered at version.
func (d *decision) deploy(c v1alpha1.Color, prev, ss *v1alpha1.SlotStatus, version v1alpha1.Slot) {
	t := ceil(d.now)
	if prev == nil || prev.DeployedTime == nil || (v1alpha1.Slot{Tag: prev.Tag, Digest: prev.Digest, Revision: prev.Revision}) != version {
		// A new version: its migration is still to run.
		ss.DeployedTime, ss.RolloutStartTime = &t, nil
		ss.Migrated, ss.MigrationFailed, ss.MigrationOutput = false, false, ""
		// its checks are still to run
		ss.Verified, ss.VerificationFailure, ss.VerificationFailedTime = false, "", nil
	}
	// A status that already records this rollout means the Deployments
	// read were older than the status (a lagging cache): no new Event.
	if ss.RolloutStartTime == nil {
		ss.RolloutStartTime = &t
		d.event(false, v1alpha1.EventDeploying, "Deploying %s to %s", versionString(&version), c)
	}
}

// watchLive reports the serving slot unavailable past the progress deadline
// (rule 12): a pod lost and its replacement not scheduled must not leave the
// release Progressing forever.
func (d *decision) watchLive(c v1alpha1.Color, ss *v1alpha1.SlotStatus, obs SlotObservation, plan *SlotPlan, serving bool) {
	if !serving || ss.Ready || ss.RolloutStartTime != nil {
		ss.UnavailableSince = nil
		return
	}
	if ss.UnavailableSince == nil {
		t := ceil(d.now)
		ss.UnavailableSince = &t
	}
	deadline := ss.UnavailableSince.Add(d.deadline())
	if d.now.Before(deadline) {
		d.wakeAt(deadline)
		return
	}
	var why []string
	for _, comp := range specs.Served {
		dep := obs.Deployments[comp]
		switch {
		case dep == nil:
			why = append(why, string(comp)+" does not exist")
		case !dep.Ready || dep.Version != plan.Version || dep.SpecReplicas != plan.Replicas[comp]:
			why = append(why, string(comp)+" is not available")
		}
	}
	d.degraded = append(d.degraded, problem{v1alpha1.ReasonLiveUnavailable, fmt.Sprintf(
		"%s serves traffic but has not been available for %s: %s", c, d.deadline(), strings.Join(why, ", "))})
}

// slotVersion is the version a slot's Deployments should run, and whether
// they are (re)rendered from the spec for it: only when they do not exist,
// or when the slot's own version changed while it does not serve (rule 4).
func (d *decision) slotVersion(spec *v1alpha1.Slot, obs SlotObservation, serving bool) (v1alpha1.Slot, bool) {
	running := v1alpha1.Slot{}
	if web := obs.Deployments[specs.Web]; web != nil {
		running = web.Version
	}
	switch {
	case spec == nil: // live but removed from the spec: keep it as it is until the switch
		return running, false
	case !obs.Exists() && (!serving || running == v1alpha1.Slot{}):
		return *spec, true
	case !serving && !d.slotAt(obs, *spec):
		return *spec, true
	}
	return running, false
}

// slotReady applies rule 1 to the served Deployments at the planned version and size.
func slotReady(obs SlotObservation, plan *SlotPlan) bool {
	if !obs.Exists() {
		return false
	}
	for _, comp := range specs.Served {
		dep := obs.Deployments[comp]
		if dep.Version != plan.Version || !dep.Ready || dep.SpecReplicas != plan.Replicas[comp] {
			return false
		}
	}
	return true
}

// slotState names what the slot does and watches its rollout's deadline.
func (d *decision) slotState(c v1alpha1.Color, ss *v1alpha1.SlotStatus, serving, down, target bool) {
	if ss.Ready || down {
		ss.RolloutStartTime = nil
	}
	switch {
	case serving:
		ss.State = v1alpha1.SlotActive
	case down:
		ss.State = v1alpha1.SlotScaledDown
	case ss.RolloutStartTime != nil:
		ss.State = v1alpha1.SlotDeploying
	default:
		ss.State = v1alpha1.SlotPreview
	}
	if ss.RolloutStartTime == nil {
		return
	}
	deadline := ss.RolloutStartTime.Add(d.deadline())
	if !d.now.Before(deadline) && !target { // a switch target reports through the switch deadline
		d.degraded = append(d.degraded, problem{v1alpha1.ReasonDeadlineExceeded, fmt.Sprintf("%s is not ready %s after its rollout started", c, d.deadline())})
	} else {
		d.wakeAt(deadline)
	}
	d.progress = append(d.progress, fmt.Sprintf("%s is rolling out %s", c, ss.Tag))
}

// slotAt tells whether every Deployment of the slot was rendered for version v.
func (d *decision) slotAt(obs SlotObservation, v v1alpha1.Slot) bool {
	for _, dep := range obs.Deployments {
		if dep.Version != v {
			return false
		}
	}
	return true
}

// idleScaleDown tells whether the idle slot c is scaled down, and records when.
func (d *decision) idleScaleDown(c v1alpha1.Color, prev, ss *v1alpha1.SlotStatus, render bool) bool {
	after, enabled := d.r.Spec.IdleScaleDownAfter(), d.r.Spec.IdleScaleDownEnabled()
	since := ss.IdleSince
	if since == nil || (ss.DeployedTime != nil && ss.DeployedTime.After(since.Time)) {
		since = ss.DeployedTime
	}
	if prev != nil && prev.State == v1alpha1.SlotScaledDown && !render {
		return true // stays down until it is deployed again or switched to
	}
	if !render && d.askedSince(v1alpha1.AnnotationScaleDownIdle, since) {
		at := ceil(d.now)
		ss.IdleScaleDownTime = &at
		asked, _ := d.asked(v1alpha1.AnnotationScaleDownIdle)
		d.event(false, v1alpha1.EventScaledDown, "Scaled idle slot %s down to zero, as asked at %s", c, asked.Format(time.RFC3339))
		return true
	}
	if !enabled {
		ss.IdleScaleDownTime = nil
		return false
	}
	at := ceil(since.Add(after))
	if w := d.st.ChecksUntil; w != nil && w.After(at.Time) {
		at = *w // the slot traffic may switch back to runs until the checks end
	}
	ss.IdleScaleDownTime = &at
	if d.now.Before(at.Time) {
		d.wakeAt(at.Time)
		return false
	}
	d.event(false, v1alpha1.EventScaledDown, "Scaled idle slot %s down to zero, %s after it last served or was deployed", c, after)
	return true
}

// servedReplicas is the replica count of web or php-fpm of a slot; a switch
// target's is at least the live slot's (rule 9).
func (d *decision) servedReplicas(comp specs.Component, obs SlotObservation, down, target bool) int32 {
	if down {
		return 0
	}
	if b, ok := d.hpaBounds(comp, down, target); ok {
		current := int32(0)
		if dep := obs.Deployments[comp]; dep != nil {
			current = dep.SpecReplicas
		}
		// The HPA owns the count; only lift it to the floor the HPA keeps anyway.
		return max(current, b.Min)
	}
	var need int32
	if target {
		need = d.need[comp]
	}
	replicas := d.r.Spec.WebReplicas()
	if comp == specs.PHPFPM {
		replicas = d.r.Spec.PHPFPMReplicas()
	}
	return max(replicas, need)
}

// hpaBounds are the HPA bounds of web or php-fpm of a running slot, when
// that component autoscales; a switch target's floor is raised to the live
// slot's size (rule 9).
func (d *decision) hpaBounds(comp specs.Component, down, target bool) (Bounds, bool) {
	a := specs.Autoscaling(d.r, comp)
	if down || a == nil {
		return Bounds{}, false
	}
	var need int32
	if target {
		need = d.need[comp]
	}
	minR := max(a.Min(), need)
	return Bounds{Min: minR, Max: max(a.MaxReplicas, minR)}, true
}
