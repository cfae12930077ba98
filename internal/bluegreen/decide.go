package bluegreen

import (
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
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
			d.degraded = append(d.degraded, problem{ReasonDeadlineExceeded, fmt.Sprintf(
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
	if ready, why = d.migrated(c); !ready {
		return false, why, false
	}
	return d.verified(c)
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
		ev = Event{Reason: EventSwitched, Message: fmt.Sprintf("Switched traffic from %s to %s (%s)", old, sw.Color, versionString(d.r.Spec.Slot(sw.Color)))}
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

// migrated runs the migration of the target's deployment when it needs one
// (rule 2) and tells whether traffic may move.
func (d *decision) migrated(c v1alpha1.Color) (bool, string) {
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
		d.event(false, EventMigrated, "Migration Job %s of %s (%s) succeeded%s", name, c, versionString(&version), outputNote(ss.MigrationOutput))
		return true, ""
	case ss.MigrationFailed || state == JobFailed:
		if !ss.MigrationFailed {
			ss.MigrationFailed, ss.MigrationOutput = true, d.in.Outputs[name]
		}
		d.degraded = append(d.degraded, problem{ReasonMigrationFailed, fmt.Sprintf(
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
		d.event(false, EventScaledUp, "Scaling %s up from zero for the switch to it", c)
	}

	plan := &SlotPlan{Version: version, Render: render, Running: !down,
		Replicas: map[specs.Component]int32{}, HPAs: map[specs.Component]Bounds{}}
	plan.WebWaits = render && webWaits(obs, version)
	for _, comp := range specs.Served {
		plan.Replicas[comp] = d.servedReplicas(comp, obs, down, target, plan)
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
		d.event(false, EventDeploying, "Deploying %s to %s", versionString(&version), c)
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
	d.degraded = append(d.degraded, problem{ReasonLiveUnavailable, fmt.Sprintf(
		"%s serves traffic but has not been available for %s: %s", c, d.deadline(), strings.Join(why, ", "))})
}

// missing lists the children the serving slot needs besides its
// Deployments that do not exist or are not the release's.
func (d *decision) missing() []string {
	var out []string
	for _, name := range []string{specs.ActiveServiceName(d.r, specs.Web), specs.ActiveServiceName(d.r, specs.PHPFPM),
		specs.SlotName(d.r, specs.PHPFPM, d.active)} {
		if !d.in.Owned["Service/"+name] {
			out = append(out, "Service "+name)
		}
	}
	if d.r.Spec.Ingress != nil && !d.in.Owned["Ingress/"+d.r.Name] {
		out = append(out, "Ingress "+d.r.Name)
	}
	return out
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
		d.degraded = append(d.degraded, problem{ReasonDeadlineExceeded, fmt.Sprintf("%s is not ready %s after its rollout started", c, d.deadline())})
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
		d.event(false, EventScaledDown, "Scaled idle slot %s down to zero, as asked at %s", c, asked.Format(time.RFC3339))
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
	d.event(false, EventScaledDown, "Scaled idle slot %s down to zero, %s after it last served or was deployed", c, after)
	return true
}

// servedReplicas is the replica count of web or php-fpm of a slot, and its
// HPA bounds.
func (d *decision) servedReplicas(comp specs.Component, obs SlotObservation, down, target bool, plan *SlotPlan) int32 {
	if down {
		return 0
	}
	var need int32
	if target {
		need = d.need[comp]
	}
	current := int32(0)
	if dep := obs.Deployments[comp]; dep != nil {
		current = dep.SpecReplicas
	}
	if a := specs.Autoscaling(d.r, comp); a != nil {
		minR := max(a.Min(), need)
		plan.HPAs[comp] = Bounds{Min: minR, Max: max(a.MaxReplicas, minR)}
		// The HPA owns the count; only lift it to the floor the HPA keeps anyway.
		return max(current, minR)
	}
	replicas := d.r.Spec.WebReplicas()
	if comp == specs.PHPFPM {
		replicas = d.r.Spec.PHPFPMReplicas()
	}
	return max(replicas, need)
}

// decideWriters plans cron or consumers (rule 3): they run only in the slot
// that serves traffic, and only once the other slot's are gone.
func (d *decision) decideWriters(comp specs.Component) {
	enabled, count := true, int32(1)
	switch comp {
	case specs.Cron:
		enabled = d.r.Spec.CronEnabled()
	case specs.Consumer:
		enabled, count = d.r.Spec.ConsumersEnabled(), d.r.Spec.ConsumerReplicas()
	}
	othersGone := true
	for _, c := range v1alpha1.Colors {
		if c != d.active && !d.in.Slots[c].Deployments[comp].Gone() {
			othersGone = false
		}
	}
	for c, plan := range d.plan.Slots {
		if !enabled {
			continue // no Deployment
		}
		switch {
		case c != d.active || !plan.Running:
			plan.Replicas[comp] = 0
		case othersGone:
			plan.Replicas[comp] = count
		default:
			plan.Replicas[comp] = 0
			d.moving = append(d.moving, fmt.Sprintf("%s waits for the other slot's %s pods to be gone", c, comp))
		}
	}
	if !enabled {
		return
	}
	if dep := d.in.Slots[d.active].Deployments[comp]; othersGone && (dep == nil || dep.SpecReplicas != count) {
		d.moving = append(d.moving, fmt.Sprintf("starting %s in %s", comp, d.active))
	}
}

// decidePreview points <name>-preview at the idle slot while both slots exist.
func (d *decision) decidePreview() {
	d.st.PreviewColor = ""
	enabled := d.r.Spec.PreviewEnabled()
	idle := d.active.Other()
	if enabled && d.plan.Slots[d.active] != nil && d.plan.Slots[idle] != nil {
		d.st.PreviewColor = idle
	}
	d.plan.Preview = d.st.PreviewColor
}

// decideConditions sets Ready, Progressing and Degraded.
func (d *decision) decideConditions() {
	gen := d.r.Generation
	set := func(t string, ok bool, reason, msg string) {
		status := metav1.ConditionFalse
		if ok {
			status = metav1.ConditionTrue
		}
		meta.SetStatusCondition(&d.st.Conditions, metav1.Condition{
			Type: t, Status: status, Reason: reason, Message: msg, ObservedGeneration: gen,
			LastTransitionTime: metav1.NewTime(d.now),
		})
	}
	active := d.st.SlotStatus(d.active)
	switch {
	case d.active != d.desired:
		set(v1alpha1.ConditionReady, false, ReasonSwitchPending,
			fmt.Sprintf("%s serves traffic; waiting to switch to %s", d.active, d.desired))
	case active != nil && active.Ready && len(d.missing()) > 0:
		set(v1alpha1.ConditionReady, false, ReasonNotAvailable, fmt.Sprintf("%s serves traffic but %s not in place: %s",
			d.active, map[bool]string{true: "this child is", false: "these children are"}[len(d.missing()) == 1], strings.Join(d.missing(), ", ")))
	case active != nil && active.Ready:
		set(v1alpha1.ConditionReady, true, ReasonAvailable, fmt.Sprintf("%s serves traffic and is available%s", d.active, d.postSwitchNote()))
	default:
		set(v1alpha1.ConditionReady, false, ReasonNotAvailable, fmt.Sprintf("%s serves traffic but is not available yet", d.active))
	}
	switch {
	case d.active != d.desired:
		set(v1alpha1.ConditionProgressing, true, ReasonSwitching, strings.Join(d.progress, "; "))
	case len(d.progress) > 0:
		set(v1alpha1.ConditionProgressing, true, ReasonDeploying, strings.Join(d.progress, "; "))
	case len(d.moving) > 0:
		set(v1alpha1.ConditionProgressing, true, ReasonMovingCron, strings.Join(d.moving, "; "))
	default:
		set(v1alpha1.ConditionProgressing, false, ReasonStable, "no deploy or switch under way")
	}
	wasDegraded := meta.IsStatusConditionTrue(d.r.Status.Conditions, v1alpha1.ConditionDegraded)
	if len(d.degraded) > 0 {
		msgs := make([]string, 0, len(d.degraded))
		for _, p := range d.degraded {
			msgs = append(msgs, p.message)
		}
		msg := strings.Join(msgs, "; ")
		set(v1alpha1.ConditionDegraded, true, d.degraded[0].reason, msg)
		if !wasDegraded {
			d.event(true, EventDegraded, "%s", msg)
		}
	} else {
		set(v1alpha1.ConditionDegraded, false, ReasonAsExpected, "progressing within its deadline")
	}
}

// postSwitchNote reports a failed post-switch Job, which changes nothing
// else, and records an Event the first time it is seen.
func (d *decision) postSwitchNote() string {
	j := d.st.PostSwitchJob
	if j == "" || d.in.Jobs[j] != JobFailed {
		return ""
	}
	note := "; post-switch Job " + j + " failed"
	if old := meta.FindStatusCondition(d.r.Status.Conditions, v1alpha1.ConditionReady); old == nil || !strings.Contains(old.Message, note) {
		d.event(true, EventPostSwitchFailed, "Post-switch Job %s failed; traffic stays on %s", j, d.active)
	}
	return note
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
