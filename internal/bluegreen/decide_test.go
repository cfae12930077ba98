package bluegreen

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
	"github.com/magento-operator/magento-operator/internal/specs"
	"github.com/magento-operator/magento-operator/test/builder"
)

var (
	t0      = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	hourAgo = t0.Add(-time.Hour)
	v1      = v1alpha1.Slot{Tag: "main-1"}
	v2      = v1alpha1.Slot{Tag: "main-2"}
	blue    = v1alpha1.Blue
	grn     = v1alpha1.Green
	// cacheClean is the post-switch command of the releases that run one.
	cacheClean = []string{"php", "bin/magento", "cache:clean"}
)

func mt(t time.Time) *metav1.Time { m := metav1.NewTime(t); return &m }

// release starts a release: spec slots and active colour, then status;
// web runs 2 replicas, php-fpm 3, and the idle slot scales down after an hour.
func release(active v1alpha1.Color, blueV, greenV *v1alpha1.Slot, status v1alpha1.MagentoReleaseStatus) *builder.ReleaseWrapper {
	return builder.MakeRelease("stage", "shop").Generation(3).Active(active).Slots(blueV, greenV).
		Replicas(2, 3).IdleAfter(time.Hour).Deadline(600).Status(status)
}

// active is a status in which c serves, changed by extra.
func active(c v1alpha1.Color, extra ...func(*v1alpha1.MagentoReleaseStatus)) v1alpha1.MagentoReleaseStatus {
	s := v1alpha1.MagentoReleaseStatus{ActiveColor: c}
	for _, f := range extra {
		f(&s)
	}
	return s
}

// slotStatus records ss as the status of slot c.
func slotStatus(c v1alpha1.Color, ss v1alpha1.SlotStatus) func(*v1alpha1.MagentoReleaseStatus) {
	return func(s *v1alpha1.MagentoReleaseStatus) { s.SetSlotStatus(c, &ss) }
}

// switchedAt records the last switch at at.
func switchedAt(at time.Time) func(*v1alpha1.MagentoReleaseStatus) {
	return func(s *v1alpha1.MagentoReleaseStatus) { s.LastSwitchTime = mt(at) }
}

// switchStarted records a switch under way since at.
func switchStarted(at time.Time) func(*v1alpha1.MagentoReleaseStatus) {
	return func(s *v1alpha1.MagentoReleaseStatus) { s.SwitchStartTime = mt(at) }
}

// onServices is both Services selecting c, recorded as switched there at at.
func onServices(c v1alpha1.Color, at time.Time) *Traffic {
	return &Traffic{Selects: c, Switches: []specs.Switch{{Color: c, Time: at}, {Color: c, Time: at}}}
}

// greenScaledDown is a status in which blue serves and green was scaled
// down two hours ago.
var greenScaledDown = active(blue,
	slotStatus(grn, v1alpha1.SlotStatus{State: v1alpha1.SlotScaledDown, IdleSince: mt(t0.Add(-2 * time.Hour))}))

// scaledDownSlots observes blue running and green scaled down, at their versions.
func scaledDownSlots() map[v1alpha1.Color]SlotObservation {
	return map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 1, 1, true), grn: slot(v2, 0, 0, 0, 0, true)}
}

// slot builds an observed slot at version v: web, php-fpm, cron and consumer
// with the given replicas, ready when ready is set.
func slot(v v1alpha1.Slot, web, fpm, cron, consumer int32, ready bool) SlotObservation {
	dep := func(n int32) *DeploymentState {
		return &DeploymentState{Version: v, SpecReplicas: n, Pods: n, Current: true, Ready: ready}
	}
	return SlotObservation{Deployments: map[specs.Component]*DeploymentState{
		specs.Web: dep(web), specs.PHPFPM: dep(fpm), specs.Cron: dep(cron), specs.Consumer: dep(consumer),
	}, Service: true}
}

// allOwned says every Service and the Ingress of r exist and are r's.
func allOwned(r *v1alpha1.MagentoRelease) map[string]bool {
	out := map[string]bool{"Ingress/" + r.Name: true}
	for _, name := range []string{r.Name, r.Name + "-php-fpm", r.Name + "-php-fpm-blue", r.Name + "-php-fpm-green", r.Name + "-preview"} {
		out["Service/"+name] = true
	}
	return out
}

func none() SlotObservation {
	return SlotObservation{Deployments: map[specs.Component]*DeploymentState{}}
}

func replicas(web, fpm, cron, consumer int32) map[specs.Component]int32 {
	return map[specs.Component]int32{specs.Web: web, specs.PHPFPM: fpm, specs.Cron: cron, specs.Consumer: consumer}
}

func cond(p Plan, t string) metav1.Condition {
	c := meta.FindStatusCondition(p.Status.Conditions, t)
	if c == nil {
		return metav1.Condition{}
	}
	return *c
}

func reasons(p Plan) []string {
	var out []string
	for _, e := range p.Events {
		out = append(out, e.Reason)
	}
	return out
}

type want struct {
	active, preview v1alpha1.Color
	// slots: the plan of each slot; nil means the slot's objects are deleted.
	render   map[v1alpha1.Color]bool
	replicas map[v1alpha1.Color]map[specs.Component]int32
	deleted  []v1alpha1.Color
	hpas     map[v1alpha1.Color]map[specs.Component]Bounds
	states   map[v1alpha1.Color]v1alpha1.SlotState
	ready    string // Ready condition reason
	progress string // Progressing condition reason
	degraded string // Degraded condition reason
	events   []string
	requeue  time.Duration
	check    func(t *testing.T, p Plan)
}

// decideCase is one decision: the release and what is observed, and what
// the plan must hold.
type decideCase struct {
	rel   *v1alpha1.MagentoRelease
	slots map[v1alpha1.Color]SlotObservation
	svc   v1alpha1.Color
	// traffic, when set, is what the Services show; otherwise they
	// select svc and carry no switch record (an older operator's).
	traffic *Traffic
	// owned, when set, lists the Services and Ingress that exist;
	// otherwise all of them do.
	owned map[string]bool
	jobs  map[string]JobState
	now   time.Time
	want  want
}

// TestDecide decides each case of every table, at t0 unless the case says
// when, and checks the plan.
func TestDecide(t *testing.T) {
	for _, tests := range []map[string]decideCase{deployCases, idleCases, switchCases, trafficCases, jobCases} {
		for name, tc := range tests {
			t.Run(name, func(t *testing.T) {
				now := tc.now
				if now.IsZero() {
					now = t0
				}
				traffic := Traffic{Selects: tc.svc}
				if tc.traffic != nil {
					traffic = *tc.traffic
				}
				owned := tc.owned
				if owned == nil {
					owned = allOwned(tc.rel)
				}
				p := Decide(Input{Release: tc.rel, Slots: tc.slots, Traffic: traffic, Owned: owned, Jobs: tc.jobs, Now: now})
				w := tc.want
				if p.Active != w.active || p.Status.ActiveColor != w.active {
					t.Errorf("active: plan %q, status %q, want %q", p.Active, p.Status.ActiveColor, w.active)
				}
				if p.Preview != w.preview || p.Status.PreviewColor != w.preview {
					t.Errorf("preview: plan %q, status %q, want %q", p.Preview, p.Status.PreviewColor, w.preview)
				}
				for c, r := range w.render {
					if p.Slots[c] == nil || p.Slots[c].Render != r {
						t.Errorf("%s render: %+v, want %v", c, p.Slots[c], r)
					}
				}
				for c, r := range w.replicas {
					if p.Slots[c] == nil {
						t.Errorf("%s has no plan", c)
						continue
					}
					if diff := cmp.Diff(r, p.Slots[c].Replicas); diff != "" {
						t.Errorf("%s replicas (-want +got):\n%s", c, diff)
					}
				}
				for _, c := range w.deleted {
					if p.Slots[c] != nil {
						t.Errorf("%s should be deleted, plan %+v", c, p.Slots[c])
					}
				}
				for c, h := range w.hpas {
					if diff := cmp.Diff(h, p.Slots[c].HPAs); diff != "" {
						t.Errorf("%s HPAs (-want +got):\n%s", c, diff)
					}
				}
				for c, s := range w.states {
					if st := p.Status.SlotStatus(c); st == nil || st.State != s {
						t.Errorf("%s state: %+v, want %s", c, st, s)
					}
				}
				for typ, reason := range map[string]string{v1alpha1.ConditionReady: w.ready,
					v1alpha1.ConditionProgressing: w.progress, v1alpha1.ConditionDegraded: w.degraded} {
					c := cond(p, typ)
					if reason != "" && c.Reason != reason {
						t.Errorf("%s: %s (%s), want %s", typ, c.Reason, c.Message, reason)
					}
					if c.ObservedGeneration != 3 {
						t.Errorf("%s observedGeneration %d", typ, c.ObservedGeneration)
					}
				}
				if diff := cmp.Diff(w.events, reasons(p)); diff != "" {
					t.Errorf("events (-want +got):\n%s", diff)
				}
				if p.RequeueAfter != w.requeue {
					t.Errorf("requeue after %v, want %v", p.RequeueAfter, w.requeue)
				}
				if p.Status.ObservedGeneration != 3 {
					t.Errorf("observedGeneration %d", p.Status.ObservedGeneration)
				}
				if w.check != nil {
					w.check(t, p)
				}
			})
		}
	}
}

// TestDecideIsStable feeds each decision's status back in: with nothing
// observed changing, the second decision must be identical (no endless writes).
func TestDecideIsStable(t *testing.T) {
	rel := release(blue, &v1, &v2, v1alpha1.MagentoReleaseStatus{ActiveColor: blue}).Obj()
	slots := map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 1, 1, true), grn: slot(v2, 2, 3, 0, 0, true)}
	first := Decide(Input{Release: rel, Slots: slots, Owned: allOwned(rel), Now: t0})
	rel.Status = first.Status
	second := Decide(Input{Release: rel, Slots: slots, Owned: allOwned(rel), Now: t0.Add(5 * time.Second)})
	if diff := cmp.Diff(first.Status, second.Status); diff != "" {
		t.Errorf("status changed with nothing new (-first +second):\n%s", diff)
	}
	if len(second.Events) != 0 {
		t.Errorf("events on a quiet reconcile: %v", second.Events)
	}
}

// jobCases: migration and post-switch Jobs around a switch.
var jobCases = map[string]decideCase{
	"a ready target with a migration to run starts its Job and waits": {
		rel:   release(grn, &v1, &v2, active(blue)).Migration().Obj(),
		slots: map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 1, 1, true), grn: slot(v2, 2, 3, 0, 0, true)},
		want: want{
			active: blue, preview: grn, ready: v1alpha1.ReasonSwitchPending, progress: v1alpha1.ReasonSwitching, requeue: 10 * time.Minute,
			check: func(t *testing.T, p Plan) {
				if diff := cmp.Diff([]JobPlan{{Component: specs.Migration, Color: grn, Version: v2}}, p.Jobs); diff != "" {
					t.Errorf("jobs: %s", diff)
				}
			},
		},
	},
	"a succeeded migration lets traffic move and starts the post-switch Job": {
		rel:   release(grn, &v1, &v2, active(blue)).Migration().PostSwitch(cacheClean...).Obj(),
		slots: map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 1, 1, true), grn: slot(v2, 2, 3, 0, 0, true)},
		jobs:  map[string]JobState{"shop-migrate-green-" + specs.VersionHash(v2): JobSucceeded},
		want: want{
			active: grn, preview: blue, events: []string{v1alpha1.EventMigrated, v1alpha1.EventSwitched}, requeue: time.Hour,
			check: func(t *testing.T, p Plan) {
				if !p.Status.Green.Migrated {
					t.Error("green not recorded as migrated")
				}
				name := specs.PostSwitchJobName(release(grn, &v1, &v2, active(blue)).Obj(), grn, v2, t0)
				if p.Status.PostSwitchJob != name || !p.Status.PostSwitchJobPending || len(p.Jobs) != 1 || p.Jobs[0].Component != specs.PostSwitch {
					t.Errorf("post-switch %q, jobs %+v", p.Status.PostSwitchJob, p.Jobs)
				}
			},
		},
	},
	"a failed migration holds traffic and degrades": {
		rel:   release(grn, &v1, &v2, active(blue)).Migration().Obj(),
		slots: map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 1, 1, true), grn: slot(v2, 2, 3, 0, 0, true)},
		jobs:  map[string]JobState{"shop-migrate-green-" + specs.VersionHash(v2): JobFailed},
		want: want{
			active: blue, preview: grn, ready: v1alpha1.ReasonSwitchPending, degraded: v1alpha1.ReasonMigrationFailed,
			events: []string{v1alpha1.EventDegraded}, requeue: 10 * time.Minute,
			check: func(t *testing.T, p Plan) {
				if !p.Status.Green.MigrationFailed || len(p.Jobs) != 0 {
					t.Errorf("failure not recorded, or the Job started again: %+v %+v", p.Status.Green, p.Jobs)
				}
			},
		},
	},
	"a recorded failure is not retried once its Job is cleaned up": {
		rel: release(grn, &v1, &v2, active(blue,
			slotStatus(grn, v1alpha1.SlotStatus{Tag: "main-2", MigrationFailed: true}))).Migration().Obj(),
		slots: map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 1, 1, true), grn: slot(v2, 2, 3, 0, 0, true)},
		want:  want{active: blue, preview: grn, degraded: v1alpha1.ReasonMigrationFailed, events: []string{v1alpha1.EventDegraded}, requeue: 10 * time.Minute},
	},
	"a slot that served since its deploy is switched back to without a migration": {
		rel: release(grn, &v1, &v2, active(blue,
			slotStatus(grn, v1alpha1.SlotStatus{Tag: "main-2", Migrated: true}))).Migration().Obj(),
		slots: map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 1, 1, true), grn: slot(v2, 2, 3, 0, 0, true)},
		want:  want{active: grn, preview: blue, events: []string{v1alpha1.EventSwitched}, requeue: time.Hour},
	},
	"a failed post-switch Job is reported once, and changes nothing else": {
		rel: release(grn, &v1, &v2, active(grn, func(s *v1alpha1.MagentoReleaseStatus) {
			s.PostSwitchJob = "shop-post-switch-green-x"
			s.SetSlotStatus(blue, &v1alpha1.SlotStatus{IdleSince: mt(t0)})
		})).PostSwitch(cacheClean...).Obj(),
		slots: map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 0, 0, true), grn: slot(v2, 2, 3, 1, 1, true)},
		jobs:  map[string]JobState{"shop-post-switch-green-x": JobFailed},
		want: want{
			active: grn, preview: blue, ready: v1alpha1.ReasonAvailable, degraded: v1alpha1.ReasonAsExpected,
			events: []string{v1alpha1.EventPostSwitchFailed}, requeue: time.Hour,
			check: func(t *testing.T, p Plan) {
				if len(p.Jobs) != 0 {
					t.Errorf("jobs started: %+v", p.Jobs)
				}
			},
		},
	},
	"a post-switch Job not created yet is asked for again, and no more once it exists": {
		rel: release(grn, &v1, &v2, active(grn, switchedAt(hourAgo), func(s *v1alpha1.MagentoReleaseStatus) {
			s.PostSwitchJob = specs.PostSwitchJobName(release(grn, &v1, &v2, active(grn)).Obj(), grn, v2, hourAgo)
			s.PostSwitchJobPending = true
		})).PostSwitch(cacheClean...).Obj(),
		slots:   map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 0, 0, true), grn: slot(v2, 2, 3, 1, 1, true)},
		traffic: onServices(grn, hourAgo),
		want: want{
			active: grn, preview: blue, progress: v1alpha1.ReasonMovingCron, requeue: time.Hour,
			check: func(t *testing.T, p Plan) {
				if len(p.Jobs) != 1 || p.Jobs[0].Component != specs.PostSwitch || !p.Status.PostSwitchJobPending {
					t.Errorf("jobs %+v, pending %v", p.Jobs, p.Status.PostSwitchJobPending)
				}
				r := release(grn, &v1, &v2, p.Status).PostSwitch(cacheClean...).Obj()
				again := Decide(Input{Release: r, Slots: map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 0, 0, true),
					grn: slot(v2, 2, 3, 1, 1, true)}, Traffic: *onServices(grn, hourAgo), Owned: allOwned(r),
					Jobs: map[string]JobState{p.Status.PostSwitchJob: JobRunning}, Now: t0})
				if len(again.Jobs) != 0 || again.Status.PostSwitchJobPending {
					t.Errorf("asked again once it exists: %+v", again.Jobs)
				}
			},
		},
	},
	"a migration Job not created yet is not said to be running": {
		rel:   release(grn, &v1, &v2, active(blue)).Migration().Obj(),
		slots: map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 1, 1, true), grn: slot(v2, 2, 3, 0, 0, true)},
		want: want{
			active: blue, preview: grn, ready: v1alpha1.ReasonSwitchPending, requeue: 10 * time.Minute,
			check: func(t *testing.T, p Plan) {
				if m := cond(p, v1alpha1.ConditionProgressing).Message; m != "switching to green: starting migration Job shop-migrate-green-"+specs.VersionHash(v2) {
					t.Errorf("message %q", m)
				}
			},
		},
	},
}
