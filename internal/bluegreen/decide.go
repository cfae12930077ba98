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
	for _, c := range v1alpha1.Colors {
		d.decideSlot(c)
	}
	d.decideWriters(specs.Cron)
	d.decideWriters(specs.Consumer)
	d.decidePreview()
	d.decideConditions()
	d.plan.Active = d.active
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

func (d *decision) deadline() time.Duration {
	s := int32(defaultProgressDeadlineS)
	if p := d.r.Spec.ProgressDeadlineSeconds; p != nil {
		s = *p
	}
	return time.Duration(s) * time.Second
}

// slotStatus returns the slot's status to fill in, creating it when new.
func (d *decision) slotStatus(c v1alpha1.Color) *v1alpha1.SlotStatus {
	if s := d.st.SlotStatus(c); s != nil {
		return s
	}
	s := &v1alpha1.SlotStatus{}
	d.st.SetSlotStatus(c, s)
	return s
}

// decideActive settles where traffic goes: rule 6 (first rollout), rule 2
// (switch once the target is ready).
func (d *decision) decideActive() {
	d.active = d.st.ActiveColor
	if d.active == "" && d.in.ServicesColor != "" {
		// The status was lost but the Services still tell which slot serves.
		d.active = d.in.ServicesColor
	}
	if d.active != "" && d.active != d.desired && d.r.Spec.Slot(d.active) == nil && !d.in.Slots[d.active].Exists() {
		d.active = "" // nothing serves: the desired slot starts as on a first rollout
	}
	if d.active == "" {
		d.active = d.desired // first rollout: point the Services at it straight away
		d.st.ActiveColor = d.active
		d.st.SwitchStartTime = nil
		return
	}
	d.st.ActiveColor = d.active
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
	target := d.in.Slots[d.desired]
	ready, why := d.readyForTraffic(d.desired, target)
	if ready {
		ready, why = d.migrated(d.desired)
	}
	// Services already moved (a crash between the flip and its status write):
	// the flip happened, record it.
	adopted := d.in.ServicesColor == d.desired
	if !ready && !adopted {
		deadline := d.st.SwitchStartTime.Add(d.deadline())
		if !d.now.Before(deadline) {
			d.degraded = append(d.degraded, problem{ReasonDeadlineExceeded, fmt.Sprintf(
				"%s is not ready %s after the switch to it was requested: %s", d.desired, d.deadline(), why)})
		} else {
			d.wakeAt(deadline)
		}
		d.progress = append(d.progress, fmt.Sprintf("switching to %s: %s", d.desired, why))
		return
	}
	old := d.active
	d.active = d.desired
	d.st.ActiveColor = d.desired
	now := metav1.NewTime(d.now)
	d.st.LastSwitchTime = &now
	d.st.SwitchStartTime = nil
	if s := d.st.SlotStatus(old); s != nil {
		t := ceil(d.now)
		s.IdleSince = &t
	}
	d.need = nil
	version := *d.r.Spec.Slot(d.desired)
	d.event(false, EventSwitched, "Switched traffic from %s to %s (%s)", old, d.desired, versionString(&version))
	if d.r.Spec.PostSwitch != nil {
		d.st.PostSwitchJob = specs.PostSwitchJobName(d.r, d.desired, version)
		d.plan.Jobs = append(d.plan.Jobs, JobPlan{Component: specs.PostSwitch, Color: d.desired, Version: version})
	}
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
		ss.Migrated = true
		return true, ""
	case ss.MigrationFailed || state == JobFailed:
		ss.MigrationFailed = true
		d.degraded = append(d.degraded, problem{ReasonMigrationFailed, fmt.Sprintf(
			"migration Job %s failed; traffic stays on %s; deploy a new tag, digest or revision to %s to retry", name, d.active, c)})
		return false, "the migration failed"
	}
	d.plan.Jobs = append(d.plan.Jobs, JobPlan{Component: specs.Migration, Color: c, Version: version})
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
		t := ceil(d.now)
		ss.DeployedTime, ss.RolloutStartTime = &t, &t
		ss.Migrated, ss.MigrationFailed = false, false
		d.event(false, EventDeploying, "Deploying %s to %s", versionString(&version), c)
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
	for _, comp := range specs.Served {
		plan.Replicas[comp] = d.servedReplicas(comp, obs, down, target, plan)
	}
	d.plan.Slots[c] = plan
	ss.Ready = !down && !render && slotReady(obs, plan)
	d.slotState(c, ss, serving, down, target)
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
	cfg := d.r.Spec.IdleScaleDown
	after := defaultIdleScaleDown
	if cfg.After != nil {
		after = cfg.After.Duration
	}
	enabled := cfg.Enabled == nil || *cfg.Enabled
	since := ss.IdleSince
	if since == nil || (ss.DeployedTime != nil && ss.DeployedTime.After(since.Time)) {
		since = ss.DeployedTime
	}
	if prev != nil && prev.State == v1alpha1.SlotScaledDown && !render {
		return true // stays down until it is deployed again or switched to
	}
	if asked, err := time.Parse(time.RFC3339, d.r.Annotations[v1alpha1.AnnotationScaleDownIdle]); err == nil && !render &&
		!asked.Before(since.Add(-time.Second)) {
		at := ceil(d.now)
		ss.IdleScaleDownTime = &at
		d.event(false, EventScaledDown, "Scaled idle slot %s down to zero, as asked at %s", c, asked.Format(time.RFC3339))
		return true
	}
	if !enabled {
		ss.IdleScaleDownTime = nil
		return false
	}
	at := ceil(since.Add(after))
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
		minR := int32(1)
		if a.MinReplicas != nil {
			minR = *a.MinReplicas
		}
		minR = max(minR, need)
		plan.HPAs[comp] = Bounds{Min: minR, Max: max(a.MaxReplicas, minR)}
		// The HPA owns the count; only lift it to the floor the HPA keeps anyway.
		return max(current, minR)
	}
	replicas := int32(2)
	switch comp {
	case specs.Web:
		if d.r.Spec.Web.Replicas != nil {
			replicas = *d.r.Spec.Web.Replicas
		}
	case specs.PHPFPM:
		if d.r.Spec.PHPFPM.Replicas != nil {
			replicas = *d.r.Spec.PHPFPM.Replicas
		}
	}
	return max(replicas, need)
}

// decideWriters plans cron or consumers (rule 3): they run only in the slot
// that serves traffic, and only once the other slot's are gone.
func (d *decision) decideWriters(comp specs.Component) {
	enabled, count := true, int32(1)
	switch comp {
	case specs.Cron:
		enabled = d.r.Spec.Cron.Enabled == nil || *d.r.Spec.Cron.Enabled
	case specs.Consumer:
		enabled = d.r.Spec.Consumer.Enabled == nil || *d.r.Spec.Consumer.Enabled
		if d.r.Spec.Consumer.Replicas != nil {
			count = *d.r.Spec.Consumer.Replicas
		}
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
	enabled := d.r.Spec.Preview.Enabled == nil || *d.r.Spec.Preview.Enabled
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
