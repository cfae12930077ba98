package bluegreen

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
	"github.com/magento-operator/magento-operator/internal/specs"
)

var (
	t0   = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	v1   = v1alpha1.Slot{Tag: "main-1"}
	v2   = v1alpha1.Slot{Tag: "main-2"}
	blue = v1alpha1.Blue
	grn  = v1alpha1.Green
)

func mt(t time.Time) *metav1.Time { m := metav1.NewTime(t); return &m }

// release builds a release: spec slots and active colour, then status.
func release(active v1alpha1.Color, blueV, greenV *v1alpha1.Slot, status v1alpha1.MagentoReleaseStatus) *v1alpha1.MagentoRelease {
	return &v1alpha1.MagentoRelease{
		ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: "stage", Generation: 3},
		Spec: v1alpha1.MagentoReleaseSpec{
			ActiveColor: active, Blue: blueV, Green: greenV,
			Images:                  v1alpha1.Images{App: "shop/php", Web: "shop/nginx"},
			Web:                     v1alpha1.WebSpec{Replicas: ptr.To[int32](2)},
			PHPFPM:                  v1alpha1.PHPFPMSpec{Replicas: ptr.To[int32](3)},
			IdleScaleDown:           v1alpha1.IdleScaleDownSpec{After: &metav1.Duration{Duration: time.Hour}},
			ProgressDeadlineSeconds: ptr.To[int32](600),
		},
		Status: status,
	}
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

func withMigration(r *v1alpha1.MagentoRelease) *v1alpha1.MagentoRelease {
	r.Spec.Migration = &v1alpha1.MigrationSpec{Enabled: true}
	return r
}

func withPostSwitch(r *v1alpha1.MagentoRelease) *v1alpha1.MagentoRelease {
	r.Spec.PostSwitch = &v1alpha1.PostSwitchSpec{Command: []string{"php", "bin/magento", "cache:clean"}}
	return r
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

func TestDecide(t *testing.T) {
	active := func(c v1alpha1.Color, extra ...func(*v1alpha1.MagentoReleaseStatus)) v1alpha1.MagentoReleaseStatus {
		s := v1alpha1.MagentoReleaseStatus{ActiveColor: c}
		for _, f := range extra {
			f(&s)
		}
		return s
	}
	slotStatus := func(c v1alpha1.Color, ss v1alpha1.SlotStatus) func(*v1alpha1.MagentoReleaseStatus) {
		return func(s *v1alpha1.MagentoReleaseStatus) { s.SetSlotStatus(c, &ss) }
	}
	switchedAt := func(at time.Time) func(*v1alpha1.MagentoReleaseStatus) {
		return func(s *v1alpha1.MagentoReleaseStatus) { s.LastSwitchTime = mt(at) }
	}
	hourAgo := t0.Add(-time.Hour)
	// onServices is both Services selecting c, recorded as switched there at at.
	onServices := func(c v1alpha1.Color, at time.Time) *Traffic {
		return &Traffic{Selects: c, Switches: []specs.Switch{{Color: c, Time: at}, {Color: c, Time: at}}}
	}
	switchStarted := func(at time.Time) func(*v1alpha1.MagentoReleaseStatus) {
		return func(s *v1alpha1.MagentoReleaseStatus) { s.SwitchStartTime = mt(at) }
	}

	tests := map[string]struct {
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
	}{
		"first rollout creates the active slot and points the Services at it": {
			rel:   release(blue, &v1, nil, v1alpha1.MagentoReleaseStatus{}),
			slots: map[v1alpha1.Color]SlotObservation{blue: none(), grn: none()},
			want: want{
				active: blue, render: map[v1alpha1.Color]bool{blue: true},
				replicas: map[v1alpha1.Color]map[specs.Component]int32{blue: replicas(2, 3, 1, 1)},
				deleted:  []v1alpha1.Color{grn},
				states:   map[v1alpha1.Color]v1alpha1.SlotState{blue: v1alpha1.SlotActive},
				ready:    ReasonNotAvailable, progress: ReasonDeploying, degraded: ReasonAsExpected,
				events: []string{EventDeploying}, requeue: 10 * time.Minute,
			},
		},
		"first rollout becomes Ready once the slot is available": {
			rel: release(blue, &v1, nil, active(blue, slotStatus(blue, v1alpha1.SlotStatus{
				Tag: "main-1", State: v1alpha1.SlotActive, DeployedTime: mt(t0), RolloutStartTime: mt(t0)}))),
			slots: map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 1, 1, true), grn: none()},
			want: want{
				active: blue, render: map[v1alpha1.Color]bool{blue: false},
				replicas: map[v1alpha1.Color]map[specs.Component]int32{blue: replicas(2, 3, 1, 1)},
				states:   map[v1alpha1.Color]v1alpha1.SlotState{blue: v1alpha1.SlotActive},
				ready:    ReasonAvailable, progress: ReasonStable, degraded: ReasonAsExpected,
				check: func(t *testing.T, p Plan) {
					if p.Status.Blue.RolloutStartTime != nil || !p.Status.Blue.Ready {
						t.Errorf("rollout not finished: %+v", p.Status.Blue)
					}
				},
			},
		},
		"lost status: the Services tell which slot serves": {
			rel:   release(grn, &v1, &v2, v1alpha1.MagentoReleaseStatus{}),
			slots: map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 1, 1, true), grn: slot(v2, 2, 3, 0, 0, false)},
			svc:   blue,
			want: want{
				active: blue, preview: grn,
				replicas: map[v1alpha1.Color]map[specs.Component]int32{blue: replicas(2, 3, 1, 1), grn: replicas(2, 3, 0, 0)},
				ready:    ReasonSwitchPending, progress: ReasonSwitching, requeue: 10 * time.Minute,
			},
		},
		"deploying a new tag to the idle slot renders it, without cron or consumers": {
			rel: release(blue, &v1, &v2, active(blue,
				slotStatus(grn, v1alpha1.SlotStatus{Tag: "main-1", State: v1alpha1.SlotPreview, DeployedTime: mt(t0.Add(-time.Minute))}))),
			slots: map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 1, 1, true), grn: slot(v1, 2, 3, 0, 0, true)},
			want: want{
				active: blue, preview: grn, render: map[v1alpha1.Color]bool{blue: false, grn: true},
				replicas: map[v1alpha1.Color]map[specs.Component]int32{blue: replicas(2, 3, 1, 1), grn: replicas(2, 3, 0, 0)},
				states:   map[v1alpha1.Color]v1alpha1.SlotState{blue: v1alpha1.SlotActive, grn: v1alpha1.SlotDeploying},
				ready:    ReasonAvailable, progress: ReasonDeploying, degraded: ReasonAsExpected,
				events: []string{EventDeploying}, requeue: 10 * time.Minute,
				check: func(t *testing.T, p Plan) {
					g := p.Status.Green
					if g.Tag != "main-2" || g.Migrated || !g.DeployedTime.Equal(mt(t0)) {
						t.Errorf("green status after deploy: %+v", g)
					}
					if p.Slots[grn].Version != v2 {
						t.Errorf("green renders %v", p.Slots[grn].Version)
					}
				},
			},
		},
		"a switch waits while the target is not ready": {
			rel:   release(grn, &v1, &v2, active(blue)),
			slots: map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 1, 1, true), grn: slot(v2, 2, 3, 0, 0, false)},
			want: want{
				active: blue, preview: grn,
				replicas: map[v1alpha1.Color]map[specs.Component]int32{blue: replicas(2, 3, 1, 1), grn: replicas(2, 3, 0, 0)},
				states:   map[v1alpha1.Color]v1alpha1.SlotState{blue: v1alpha1.SlotActive},
				ready:    ReasonSwitchPending, progress: ReasonSwitching, degraded: ReasonAsExpected,
				requeue: 10 * time.Minute,
				check: func(t *testing.T, p Plan) {
					if !p.Status.SwitchStartTime.Equal(mt(t0)) {
						t.Errorf("switch start %v", p.Status.SwitchStartTime)
					}
					if m := cond(p, v1alpha1.ConditionProgressing).Message; m != "switching to green: web is not available, php-fpm is not available" {
						t.Errorf("message %q", m)
					}
				},
			},
		},
		"a switch completes once the target is ready: Services move, cron waits for the old slot's to be gone": {
			rel:   release(grn, &v1, &v2, active(blue, switchStarted(t0.Add(-time.Minute)))),
			slots: map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 1, 1, true), grn: slot(v2, 2, 3, 0, 0, true)},
			want: want{
				active: grn, preview: blue,
				replicas: map[v1alpha1.Color]map[specs.Component]int32{blue: replicas(2, 3, 0, 0), grn: replicas(2, 3, 0, 0)},
				states:   map[v1alpha1.Color]v1alpha1.SlotState{grn: v1alpha1.SlotActive, blue: v1alpha1.SlotPreview},
				ready:    ReasonAvailable, progress: ReasonMovingCron, degraded: ReasonAsExpected,
				events: []string{EventSwitched}, requeue: time.Hour,
				check: func(t *testing.T, p Plan) {
					s := p.Status
					if s.ActiveColor != grn || !s.LastSwitchTime.Equal(mt(t0)) || s.SwitchStartTime != nil {
						t.Errorf("status after switch: %+v", s)
					}
					if !s.Blue.IdleSince.Equal(mt(t0)) || !s.Blue.IdleScaleDownTime.Equal(mt(t0.Add(time.Hour))) {
						t.Errorf("blue idle since %v, scale-down %v", s.Blue.IdleSince, s.Blue.IdleScaleDownTime)
					}
				},
			},
		},
		"after the switch, cron and consumers start in the new slot once the old slot's are gone": {
			rel:   release(grn, &v1, &v2, active(grn, slotStatus(blue, v1alpha1.SlotStatus{IdleSince: mt(t0)}))),
			slots: map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 0, 0, true), grn: slot(v2, 2, 3, 0, 0, true)},
			want: want{
				active: grn, preview: blue,
				replicas: map[v1alpha1.Color]map[specs.Component]int32{blue: replicas(2, 3, 0, 0), grn: replicas(2, 3, 1, 1)},
				ready:    ReasonAvailable, progress: ReasonMovingCron, requeue: time.Hour,
			},
		},
		"cron pods still terminating in the old slot hold the new slot's": {
			rel: release(grn, &v1, &v2, active(grn, slotStatus(blue, v1alpha1.SlotStatus{IdleSince: mt(t0)}))),
			slots: func() map[v1alpha1.Color]SlotObservation {
				old := slot(v1, 2, 3, 0, 0, true)
				old.Deployments[specs.Cron].Pods = 1 // scaled to 0, pod still terminating
				return map[v1alpha1.Color]SlotObservation{blue: old, grn: slot(v2, 2, 3, 0, 0, true)}
			}(),
			want: want{
				active: grn, preview: blue,
				replicas: map[v1alpha1.Color]map[specs.Component]int32{blue: replicas(2, 3, 0, 0), grn: replicas(2, 3, 0, 1)},
				ready:    ReasonAvailable, progress: ReasonMovingCron, requeue: time.Hour,
			},
		},
		"a target not ready past the deadline is Degraded, and nothing is flipped": {
			rel:   release(grn, &v1, &v2, active(blue, switchStarted(t0.Add(-11*time.Minute)))),
			slots: map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 1, 1, true), grn: slot(v2, 2, 3, 0, 0, false)},
			want: want{
				active: blue, preview: grn,
				replicas: map[v1alpha1.Color]map[specs.Component]int32{blue: replicas(2, 3, 1, 1), grn: replicas(2, 3, 0, 0)},
				ready:    ReasonSwitchPending, progress: ReasonSwitching, degraded: ReasonDeadlineExceeded,
				events: []string{EventDegraded},
			},
		},
		"Deployment status from an older generation does not count as ready": {
			rel: release(grn, &v1, &v2, active(blue)),
			slots: func() map[v1alpha1.Color]SlotObservation {
				g := slot(v2, 2, 3, 0, 0, true)
				g.Deployments[specs.Web].Current, g.Deployments[specs.Web].Ready = false, false
				return map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 1, 1, true), grn: g}
			}(),
			want: want{active: blue, preview: grn, ready: ReasonSwitchPending, progress: ReasonSwitching, requeue: 10 * time.Minute},
		},
		"a ready target still running the previous tag does not take traffic": {
			rel:   release(grn, &v1, &v2, active(blue)),
			slots: map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 1, 1, true), grn: slot(v1, 2, 3, 0, 0, true)},
			want: want{
				active: blue, preview: grn, render: map[v1alpha1.Color]bool{grn: true},
				ready: ReasonSwitchPending, progress: ReasonSwitching, events: []string{EventDeploying}, requeue: 10 * time.Minute,
			},
		},
		"the idle slot keeps running until its TTL": {
			rel: release(blue, &v1, &v2, active(blue,
				slotStatus(grn, v1alpha1.SlotStatus{IdleSince: mt(t0.Add(-30 * time.Minute)), DeployedTime: mt(t0.Add(-50 * time.Minute))}))),
			slots: map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 1, 1, true), grn: slot(v2, 2, 3, 0, 0, true)},
			want: want{
				active: blue, preview: grn,
				replicas: map[v1alpha1.Color]map[specs.Component]int32{grn: replicas(2, 3, 0, 0)},
				states:   map[v1alpha1.Color]v1alpha1.SlotState{grn: v1alpha1.SlotPreview},
				ready:    ReasonAvailable, progress: ReasonStable, requeue: 30 * time.Minute,
			},
		},
		"the idle slot scales down once the TTL passed since it was last deployed (the later time)": {
			rel: release(blue, &v1, &v2, active(blue,
				slotStatus(grn, v1alpha1.SlotStatus{IdleSince: mt(t0.Add(-3 * time.Hour)), DeployedTime: mt(t0.Add(-time.Hour))}))),
			slots: map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 1, 1, true), grn: slot(v2, 2, 3, 0, 0, true)},
			want: want{
				active: blue, preview: grn,
				replicas: map[v1alpha1.Color]map[specs.Component]int32{grn: replicas(0, 0, 0, 0)},
				states:   map[v1alpha1.Color]v1alpha1.SlotState{grn: v1alpha1.SlotScaledDown},
				ready:    ReasonAvailable, progress: ReasonStable, events: []string{EventScaledDown},
				check: func(t *testing.T, p Plan) {
					if p.Slots[grn].Running || len(p.Slots[grn].HPAs) > 0 {
						t.Errorf("scaled-down slot keeps PDBs or HPAs: %+v", p.Slots[grn])
					}
				},
			},
		},
		"a TTL that ends within a second is rounded up, never scaled down early": {
			rel: release(blue, &v1, &v2, active(blue,
				slotStatus(grn, v1alpha1.SlotStatus{IdleSince: mt(t0.Add(-time.Hour))}))),
			slots: map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 1, 1, true), grn: slot(v2, 2, 3, 0, 0, true)},
			now:   t0.Add(-300 * time.Millisecond),
			want: want{
				active: blue, preview: grn, replicas: map[v1alpha1.Color]map[specs.Component]int32{grn: replicas(2, 3, 0, 0)},
				ready: ReasonAvailable, requeue: time.Second,
			},
		},
		"scale-down-idle asked after the slot went idle scales it down now": {
			rel: func() *v1alpha1.MagentoRelease {
				r := release(blue, &v1, &v2, active(blue, slotStatus(grn, v1alpha1.SlotStatus{IdleSince: mt(t0.Add(-time.Minute))})))
				r.Annotations = map[string]string{v1alpha1.AnnotationScaleDownIdle: t0.Format(time.RFC3339)}
				return r
			}(),
			slots: map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 1, 1, true), grn: slot(v2, 2, 3, 0, 0, true)},
			want: want{
				active: blue, preview: grn, replicas: map[v1alpha1.Color]map[specs.Component]int32{grn: replicas(0, 0, 0, 0)},
				states: map[v1alpha1.Color]v1alpha1.SlotState{grn: v1alpha1.SlotScaledDown}, events: []string{EventScaledDown},
			},
		},
		"scale-down-idle asked before the slot was deployed does not touch the new deploy": {
			rel: func() *v1alpha1.MagentoRelease {
				r := release(blue, &v1, &v2, active(blue, slotStatus(grn, v1alpha1.SlotStatus{DeployedTime: mt(t0)})))
				r.Annotations = map[string]string{v1alpha1.AnnotationScaleDownIdle: t0.Add(-time.Hour).Format(time.RFC3339)}
				return r
			}(),
			slots: map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 1, 1, true), grn: slot(v2, 2, 3, 0, 0, true)},
			want: want{
				active: blue, preview: grn, replicas: map[v1alpha1.Color]map[specs.Component]int32{grn: replicas(2, 3, 0, 0)},
				states: map[v1alpha1.Color]v1alpha1.SlotState{grn: v1alpha1.SlotPreview}, requeue: time.Hour,
			},
		},
		"idle scale-down off keeps the idle slot running": {
			rel: func() *v1alpha1.MagentoRelease {
				r := release(blue, &v1, &v2, active(blue, slotStatus(grn, v1alpha1.SlotStatus{IdleSince: mt(t0.Add(-48 * time.Hour))})))
				r.Spec.IdleScaleDown.Enabled = ptr.To(false)
				return r
			}(),
			slots: map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 1, 1, true), grn: slot(v2, 2, 3, 0, 0, true)},
			want: want{
				active: blue, preview: grn, replicas: map[v1alpha1.Color]map[specs.Component]int32{grn: replicas(2, 3, 0, 0)},
				states: map[v1alpha1.Color]v1alpha1.SlotState{grn: v1alpha1.SlotPreview}, ready: ReasonAvailable,
			},
		},
		"a scaled-down slot stays down": {
			rel: release(blue, &v1, &v2, active(blue,
				slotStatus(grn, v1alpha1.SlotStatus{State: v1alpha1.SlotScaledDown, IdleSince: mt(t0.Add(-2 * time.Hour))}))),
			slots: map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 1, 1, true), grn: slot(v2, 0, 0, 0, 0, true)},
			want: want{
				active: blue, preview: grn, replicas: map[v1alpha1.Color]map[specs.Component]int32{grn: replicas(0, 0, 0, 0)},
				states: map[v1alpha1.Color]v1alpha1.SlotState{grn: v1alpha1.SlotScaledDown}, ready: ReasonAvailable,
			},
		},
		"rollback to a scaled-down slot scales it up with its frozen template, and waits": {
			rel: release(grn, &v1, &v2, active(blue,
				slotStatus(grn, v1alpha1.SlotStatus{State: v1alpha1.SlotScaledDown, IdleSince: mt(t0.Add(-2 * time.Hour))}))),
			slots: map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 1, 1, true), grn: slot(v2, 0, 0, 0, 0, true)},
			want: want{
				active: blue, preview: grn, render: map[v1alpha1.Color]bool{grn: false},
				replicas: map[v1alpha1.Color]map[specs.Component]int32{grn: replicas(2, 3, 0, 0)},
				states:   map[v1alpha1.Color]v1alpha1.SlotState{grn: v1alpha1.SlotDeploying},
				ready:    ReasonSwitchPending, progress: ReasonSwitching, events: []string{EventScaledUp}, requeue: 10 * time.Minute,
				check: func(t *testing.T, p Plan) {
					if !p.Slots[grn].Running {
						t.Error("the rollback target is not running")
					}
				},
			},
		},
		"capacity before traffic: the target grows to the live slot's size, its HPA floor too": {
			rel: func() *v1alpha1.MagentoRelease {
				r := release(grn, &v1, &v2, active(blue))
				r.Spec.Web.Autoscaling = &v1alpha1.Autoscaling{MinReplicas: ptr.To[int32](2), MaxReplicas: 5}
				return r
			}(),
			slots: map[v1alpha1.Color]SlotObservation{blue: slot(v1, 8, 3, 1, 1, true), grn: slot(v2, 2, 3, 0, 0, true)},
			want: want{
				active: blue, preview: grn,
				replicas: map[v1alpha1.Color]map[specs.Component]int32{blue: replicas(8, 3, 1, 1), grn: replicas(8, 3, 0, 0)},
				hpas: map[v1alpha1.Color]map[specs.Component]Bounds{
					blue: {specs.Web: {Min: 2, Max: 5}}, grn: {specs.Web: {Min: 8, Max: 8}}},
				ready: ReasonSwitchPending, progress: ReasonSwitching, requeue: 10 * time.Minute,
			},
		},
		"a slot removed from the spec loses its objects": {
			rel:   release(blue, &v1, nil, active(blue, slotStatus(grn, v1alpha1.SlotStatus{Tag: "main-2"}))),
			slots: map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 1, 1, true), grn: slot(v2, 2, 3, 0, 0, true)},
			want: want{
				active: blue, deleted: []v1alpha1.Color{grn}, ready: ReasonAvailable,
				check: func(t *testing.T, p Plan) {
					if p.Status.Green != nil || p.Status.PreviewColor != "" {
						t.Errorf("green still reported: %+v", p.Status)
					}
				},
			},
		},
		"the live slot removed from the spec keeps serving until the switch": {
			rel:   release(grn, nil, &v2, active(blue)),
			slots: map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 1, 1, true), grn: slot(v2, 2, 3, 0, 0, false)},
			want: want{
				active: blue, preview: grn, render: map[v1alpha1.Color]bool{blue: false},
				replicas: map[v1alpha1.Color]map[specs.Component]int32{blue: replicas(2, 3, 1, 1)},
				ready:    ReasonSwitchPending, requeue: 10 * time.Minute,
			},
		},
		"a pending tag for the slot that still serves traffic is not rendered": {
			rel:   release(grn, &v2, &v2, active(blue)),
			slots: map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 1, 1, true), grn: slot(v2, 2, 3, 0, 0, false)},
			want: want{
				active: blue, preview: grn, render: map[v1alpha1.Color]bool{blue: false},
				ready: ReasonSwitchPending, requeue: 10 * time.Minute,
				check: func(t *testing.T, p Plan) {
					if p.Slots[blue].Version != v1 || p.Status.Blue.Tag != "main-1" {
						t.Errorf("the live slot moved to %v", p.Slots[blue].Version)
					}
				},
			},
		},
		"Services flipped before a crash: the switch is recorded": {
			rel:   release(grn, &v1, &v2, active(blue)),
			slots: map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 1, 1, true), grn: slot(v2, 2, 3, 0, 0, true)},
			svc:   grn,
			want:  want{active: grn, preview: blue, events: []string{EventSwitched}, requeue: time.Hour},
		},
		"a ready target with a migration to run starts its Job and waits": {
			rel:   withMigration(release(grn, &v1, &v2, active(blue))),
			slots: map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 1, 1, true), grn: slot(v2, 2, 3, 0, 0, true)},
			want: want{
				active: blue, preview: grn, ready: ReasonSwitchPending, progress: ReasonSwitching, requeue: 10 * time.Minute,
				check: func(t *testing.T, p Plan) {
					if diff := cmp.Diff([]JobPlan{{Component: specs.Migration, Color: grn, Version: v2}}, p.Jobs); diff != "" {
						t.Errorf("jobs: %s", diff)
					}
				},
			},
		},
		"a succeeded migration lets traffic move and starts the post-switch Job": {
			rel:   withPostSwitch(withMigration(release(grn, &v1, &v2, active(blue)))),
			slots: map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 1, 1, true), grn: slot(v2, 2, 3, 0, 0, true)},
			jobs:  map[string]JobState{"shop-migrate-green-" + specs.VersionHash(v2): JobSucceeded},
			want: want{
				active: grn, preview: blue, events: []string{EventMigrated, EventSwitched}, requeue: time.Hour,
				check: func(t *testing.T, p Plan) {
					if !p.Status.Green.Migrated {
						t.Error("green not recorded as migrated")
					}
					name := specs.PostSwitchJobName(release(grn, &v1, &v2, active(blue)), grn, v2, t0)
					if p.Status.PostSwitchJob != name || !p.Status.PostSwitchJobPending || len(p.Jobs) != 1 || p.Jobs[0].Component != specs.PostSwitch {
						t.Errorf("post-switch %q, jobs %+v", p.Status.PostSwitchJob, p.Jobs)
					}
				},
			},
		},
		"a new idle slot's cron, created at zero and not yet observed, does not stop the live slot's": {
			rel: release(blue, &v1, &v2, active(blue)),
			slots: func() map[v1alpha1.Color]SlotObservation {
				g := slot(v2, 2, 3, 0, 0, false)
				for _, comp := range []specs.Component{specs.Cron, specs.Consumer} {
					g.Deployments[comp].Current, g.Deployments[comp].KeptStopped = false, true
				}
				return map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 1, 1, true), grn: g}
			}(),
			want: want{
				active: blue, preview: grn,
				replicas: map[v1alpha1.Color]map[specs.Component]int32{blue: replicas(2, 3, 1, 1), grn: replicas(2, 3, 0, 0)},
				ready:    ReasonAvailable, requeue: time.Hour,
			},
		},
		"a failed migration holds traffic and degrades": {
			rel:   withMigration(release(grn, &v1, &v2, active(blue))),
			slots: map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 1, 1, true), grn: slot(v2, 2, 3, 0, 0, true)},
			jobs:  map[string]JobState{"shop-migrate-green-" + specs.VersionHash(v2): JobFailed},
			want: want{
				active: blue, preview: grn, ready: ReasonSwitchPending, degraded: ReasonMigrationFailed,
				events: []string{EventDegraded}, requeue: 10 * time.Minute,
				check: func(t *testing.T, p Plan) {
					if !p.Status.Green.MigrationFailed || len(p.Jobs) != 0 {
						t.Errorf("failure not recorded, or the Job started again: %+v %+v", p.Status.Green, p.Jobs)
					}
				},
			},
		},
		"a recorded failure is not retried once its Job is cleaned up": {
			rel: withMigration(release(grn, &v1, &v2, active(blue,
				slotStatus(grn, v1alpha1.SlotStatus{Tag: "main-2", MigrationFailed: true})))),
			slots: map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 1, 1, true), grn: slot(v2, 2, 3, 0, 0, true)},
			want:  want{active: blue, preview: grn, degraded: ReasonMigrationFailed, events: []string{EventDegraded}, requeue: 10 * time.Minute},
		},
		"a slot that served since its deploy is switched back to without a migration": {
			rel: withMigration(release(grn, &v1, &v2, active(blue,
				slotStatus(grn, v1alpha1.SlotStatus{Tag: "main-2", Migrated: true})))),
			slots: map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 1, 1, true), grn: slot(v2, 2, 3, 0, 0, true)},
			want:  want{active: grn, preview: blue, events: []string{EventSwitched}, requeue: time.Hour},
		},
		"a failed post-switch Job is reported once, and changes nothing else": {
			rel: withPostSwitch(release(grn, &v1, &v2, active(grn, func(s *v1alpha1.MagentoReleaseStatus) {
				s.PostSwitchJob = "shop-post-switch-green-x"
				s.SetSlotStatus(blue, &v1alpha1.SlotStatus{IdleSince: mt(t0)})
			}))),
			slots: map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 0, 0, true), grn: slot(v2, 2, 3, 1, 1, true)},
			jobs:  map[string]JobState{"shop-post-switch-green-x": JobFailed},
			want: want{
				active: grn, preview: blue, ready: ReasonAvailable, degraded: ReasonAsExpected,
				events: []string{EventPostSwitchFailed}, requeue: time.Hour,
				check: func(t *testing.T, p Plan) {
					if len(p.Jobs) != 0 {
						t.Errorf("jobs started: %+v", p.Jobs)
					}
				},
			},
		},
		"cron and consumers disabled have no Deployments": {
			rel: func() *v1alpha1.MagentoRelease {
				r := release(blue, &v1, nil, active(blue))
				r.Spec.Cron.Enabled, r.Spec.Consumer.Enabled = ptr.To(false), ptr.To(false)
				return r
			}(),
			slots: map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 1, 1, true), grn: none()},
			want: want{
				active:   blue,
				replicas: map[v1alpha1.Color]map[specs.Component]int32{blue: {specs.Web: 2, specs.PHPFPM: 3}},
				ready:    ReasonAvailable,
			},
		},
		"a status written by hand does not move traffic to an unready target": {
			rel:     release(grn, &v1, &v2, active(grn, switchedAt(hourAgo))),
			slots:   map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 1, 1, true), grn: slot(v2, 2, 3, 0, 0, false)},
			traffic: onServices(blue, hourAgo),
			want: want{
				active: blue, preview: grn, ready: ReasonSwitchPending, progress: ReasonSwitching, requeue: 10 * time.Minute,
				check: func(t *testing.T, p Plan) {
					if p.Switch != (specs.Switch{Color: blue, Time: hourAgo}) {
						t.Errorf("switch on the Services %v", p.Switch)
					}
				},
			},
		},
		"a status written by hand in steady state is set right without a switch, an Event or a Job": {
			rel:     withPostSwitch(release(blue, &v1, &v2, active(grn, switchedAt(hourAgo)))),
			slots:   map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 1, 1, true), grn: slot(v2, 2, 3, 0, 0, true)},
			traffic: onServices(blue, hourAgo),
			want: want{
				active: blue, preview: grn, ready: ReasonAvailable, requeue: time.Hour,
				check: func(t *testing.T, p Plan) {
					if !p.Status.LastSwitchTime.Equal(mt(hourAgo)) || len(p.Jobs) != 0 || p.Status.PostSwitchJob != "" {
						t.Errorf("phantom switch: last %v, jobs %+v, post-switch %q", p.Status.LastSwitchTime, p.Jobs, p.Status.PostSwitchJob)
					}
				},
			},
		},
		"a switch on the Services the status does not record (a crash) is recorded, with its post-switch Job": {
			rel:     withPostSwitch(release(grn, &v1, &v2, active(blue, switchedAt(hourAgo)))),
			slots:   map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 0, 0, true), grn: slot(v2, 2, 3, 0, 0, true)},
			traffic: onServices(grn, t0.Add(-5*time.Second)),
			want: want{
				active: grn, preview: blue, events: []string{EventSwitched}, requeue: time.Hour,
				check: func(t *testing.T, p Plan) {
					at := t0.Add(-5 * time.Second)
					if !p.Status.LastSwitchTime.Equal(mt(at)) || p.Switch.Time != at {
						t.Errorf("switch recorded at %v, on the Services %v", p.Status.LastSwitchTime, p.Switch)
					}
					name := specs.PostSwitchJobName(release(grn, &v1, &v2, active(blue)), grn, v2, at)
					if p.Status.PostSwitchJob != name || !p.Status.PostSwitchJobPending || len(p.Jobs) != 1 || p.Jobs[0].At != at {
						t.Errorf("post-switch %q pending %v, jobs %+v", p.Status.PostSwitchJob, p.Status.PostSwitchJobPending, p.Jobs)
					}
				},
			},
		},
		"a switch on the Services the status does not record, to a slot that fails the gate, goes back": {
			rel:     release(grn, &v1, &v2, active(blue, switchedAt(hourAgo))),
			slots:   map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 1, 1, true), grn: slot(v2, 2, 3, 0, 0, false)},
			traffic: onServices(grn, t0.Add(-5*time.Second)),
			want: want{
				active: blue, preview: grn, ready: ReasonSwitchPending, requeue: 10 * time.Minute,
				check: func(t *testing.T, p Plan) {
					if p.Switch != (specs.Switch{Color: blue, Time: hourAgo}) || !p.Status.LastSwitchTime.Equal(mt(hourAgo)) {
						t.Errorf("switch %v, last %v", p.Switch, p.Status.LastSwitchTime)
					}
				},
			},
		},
		"a lost status takes the Services' record over without telling of a switch again": {
			rel:     withPostSwitch(release(grn, &v1, &v2, v1alpha1.MagentoReleaseStatus{})),
			slots:   map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 0, 0, true), grn: slot(v2, 2, 3, 1, 1, true)},
			traffic: onServices(grn, hourAgo),
			want: want{
				active: grn, preview: blue, ready: ReasonAvailable, requeue: time.Hour,
				check: func(t *testing.T, p Plan) {
					if !p.Status.LastSwitchTime.Equal(mt(hourAgo)) || len(p.Jobs) != 0 || p.Status.PostSwitchJobPending {
						t.Errorf("last switch %v, jobs %+v", p.Status.LastSwitchTime, p.Jobs)
					}
				},
			},
		},
		"Services moved by hand are set back to the operator's record": {
			rel:     release(blue, &v1, &v2, active(blue, switchedAt(hourAgo))),
			slots:   map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 1, 1, true), grn: slot(v2, 2, 3, 0, 0, true)},
			traffic: &Traffic{Selects: grn, Switches: []specs.Switch{{Color: blue, Time: hourAgo}, {Color: blue, Time: hourAgo}}},
			want:    want{active: blue, preview: grn, ready: ReasonAvailable, requeue: time.Hour},
		},
		"Services that disagree (the operator stopped between their writes) keep the earlier record while the target fails the gate": {
			rel:   release(grn, &v1, &v2, active(blue, switchedAt(hourAgo))),
			slots: map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 1, 1, true), grn: slot(v2, 2, 3, 0, 0, false)},
			traffic: &Traffic{Switches: []specs.Switch{{Color: grn, Time: t0.Add(-time.Second)},
				{Color: blue, Time: hourAgo}}},
			want: want{active: blue, preview: grn, ready: ReasonSwitchPending, requeue: 10 * time.Minute},
		},
		"a post-switch Job not created yet is asked for again, and no more once it exists": {
			rel: withPostSwitch(release(grn, &v1, &v2, active(grn, switchedAt(hourAgo), func(s *v1alpha1.MagentoReleaseStatus) {
				s.PostSwitchJob = specs.PostSwitchJobName(release(grn, &v1, &v2, active(grn)), grn, v2, hourAgo)
				s.PostSwitchJobPending = true
			}))),
			slots:   map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 0, 0, true), grn: slot(v2, 2, 3, 1, 1, true)},
			traffic: onServices(grn, hourAgo),
			want: want{
				active: grn, preview: blue, progress: ReasonMovingCron, requeue: time.Hour,
				check: func(t *testing.T, p Plan) {
					if len(p.Jobs) != 1 || p.Jobs[0].Component != specs.PostSwitch || !p.Status.PostSwitchJobPending {
						t.Errorf("jobs %+v, pending %v", p.Jobs, p.Status.PostSwitchJobPending)
					}
					r := withPostSwitch(release(grn, &v1, &v2, p.Status))
					again := Decide(Input{Release: r, Slots: map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 0, 0, true),
						grn: slot(v2, 2, 3, 1, 1, true)}, Traffic: *onServices(grn, hourAgo), Owned: allOwned(r),
						Jobs: map[string]JobState{p.Status.PostSwitchJob: JobRunning}, Now: t0})
					if len(again.Jobs) != 0 || again.Status.PostSwitchJobPending {
						t.Errorf("asked again once it exists: %+v", again.Jobs)
					}
				},
			},
		},
		"the serving slot losing availability starts the clock": {
			rel:   release(blue, &v1, nil, active(blue, slotStatus(blue, v1alpha1.SlotStatus{Tag: "main-1", State: v1alpha1.SlotActive, Ready: true}))),
			slots: map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 1, 1, false), grn: none()},
			want: want{
				active: blue, ready: ReasonNotAvailable, degraded: ReasonAsExpected, requeue: 10 * time.Minute,
				check: func(t *testing.T, p Plan) {
					if !p.Status.Blue.UnavailableSince.Equal(mt(t0)) {
						t.Errorf("unavailable since %v", p.Status.Blue.UnavailableSince)
					}
				},
			},
		},
		"the serving slot unavailable past the deadline is LiveUnavailable": {
			rel: release(blue, &v1, nil, active(blue, slotStatus(blue, v1alpha1.SlotStatus{Tag: "main-1", State: v1alpha1.SlotActive,
				UnavailableSince: mt(t0.Add(-10 * time.Minute))}))),
			slots: map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 1, 1, false), grn: none()},
			want: want{
				active: blue, ready: ReasonNotAvailable, degraded: ReasonLiveUnavailable, events: []string{EventDegraded},
				check: func(t *testing.T, p Plan) {
					if m := cond(p, v1alpha1.ConditionDegraded).Message; m != "blue serves traffic but has not been available for 10m0s: web is not available, php-fpm is not available" {
						t.Errorf("message %q", m)
					}
				},
			},
		},
		"a target whose php-fpm Service is missing is not switched to": {
			rel: release(grn, &v1, &v2, active(blue)),
			slots: func() map[v1alpha1.Color]SlotObservation {
				g := slot(v2, 2, 3, 0, 0, true)
				g.Service = false
				return map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 1, 1, true), grn: g}
			}(),
			want: want{
				active: blue, preview: grn, ready: ReasonSwitchPending, requeue: 10 * time.Minute,
				check: func(t *testing.T, p Plan) {
					if m := cond(p, v1alpha1.ConditionProgressing).Message; m != "switching to green: Service shop-php-fpm-green is missing" {
						t.Errorf("message %q", m)
					}
				},
			},
		},
		"not Ready while a Service or the Ingress the serving slot needs is not the release's": {
			rel: func() *v1alpha1.MagentoRelease {
				r := release(blue, &v1, nil, active(blue))
				r.Spec.Ingress = &v1alpha1.IngressSpec{Host: "shop.example"}
				return r
			}(),
			slots: map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 1, 1, true), grn: none()},
			owned: map[string]bool{"Service/shop": true, "Service/shop-php-fpm": true},
			want: want{
				active: blue, ready: ReasonNotAvailable,
				check: func(t *testing.T, p Plan) {
					if m := cond(p, v1alpha1.ConditionReady).Message; m != "blue serves traffic but these children are not in place: Service shop-php-fpm-blue, Ingress shop" {
						t.Errorf("message %q", m)
					}
				},
			},
		},
		"a deploy the status records already is not announced again when the cache lags": {
			rel: release(blue, &v1, &v2, active(blue, slotStatus(grn, v1alpha1.SlotStatus{Tag: "main-2", State: v1alpha1.SlotDeploying,
				DeployedTime: mt(t0.Add(-time.Second)), RolloutStartTime: mt(t0.Add(-time.Second))}))),
			slots: map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 1, 1, true), grn: slot(v1, 2, 3, 0, 0, true)},
			want: want{
				active: blue, preview: grn, render: map[v1alpha1.Color]bool{grn: true}, ready: ReasonAvailable, progress: ReasonDeploying,
				requeue: 10*time.Minute - time.Second,
				check: func(t *testing.T, p Plan) {
					if !p.Status.Green.DeployedTime.Equal(mt(t0.Add(-time.Second))) {
						t.Errorf("deployed time moved: %v", p.Status.Green.DeployedTime)
					}
				},
			},
		},
		"a deploy over a running slot renders php-fpm first; nginx waits until it runs the new version": {
			rel: release(blue, &v1, &v2, active(blue, slotStatus(grn, v1alpha1.SlotStatus{Tag: "main-1", State: v1alpha1.SlotPreview,
				DeployedTime: mt(t0.Add(-time.Hour))}))),
			slots: map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 1, 1, true), grn: slot(v1, 2, 3, 0, 0, true)},
			want: want{
				active: blue, preview: grn, render: map[v1alpha1.Color]bool{grn: true}, events: []string{EventDeploying},
				requeue: 10 * time.Minute,
				check: func(t *testing.T, p Plan) {
					if !p.Slots[grn].WebWaits {
						t.Error("nginx is rendered beside the old php-fpm")
					}
					r := release(blue, &v1, &v2, p.Status)
					g := slot(v1, 2, 3, 0, 0, true)
					g.Deployments[specs.PHPFPM] = &DeploymentState{Version: v2, SpecReplicas: 3, Pods: 3, Current: true, Ready: true}
					next := Decide(Input{Release: r, Slots: map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 1, 1, true), grn: g},
						Owned: allOwned(r), Now: t0.Add(time.Minute)})
					if next.Slots[grn].WebWaits || !next.Slots[grn].Render || next.Status.Green.Ready {
						t.Errorf("with php-fpm ready at the new version: %+v, ready %v", next.Slots[grn], next.Status.Green.Ready)
					}
				},
			},
		},
		"a migration Job not created yet is not said to be running": {
			rel:   withMigration(release(grn, &v1, &v2, active(blue))),
			slots: map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 1, 1, true), grn: slot(v2, 2, 3, 0, 0, true)},
			want: want{
				active: blue, preview: grn, ready: ReasonSwitchPending, requeue: 10 * time.Minute,
				check: func(t *testing.T, p Plan) {
					if m := cond(p, v1alpha1.ConditionProgressing).Message; m != "switching to green: starting migration Job shop-migrate-green-"+specs.VersionHash(v2) {
						t.Errorf("message %q", m)
					}
				},
			},
		},
		"preview disabled: no preview Service": {
			rel: func() *v1alpha1.MagentoRelease {
				r := release(blue, &v1, &v2, active(blue))
				r.Spec.Preview.Enabled = ptr.To(false)
				return r
			}(),
			slots: map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 1, 1, true), grn: slot(v2, 2, 3, 0, 0, true)},
			want:  want{active: blue, ready: ReasonAvailable, requeue: time.Hour},
		},
	}
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

// TestDecideIsStable feeds each decision's status back in: with nothing
// observed changing, the second decision must be identical (no endless writes).
func TestDecideIsStable(t *testing.T) {
	rel := release(blue, &v1, &v2, v1alpha1.MagentoReleaseStatus{ActiveColor: blue})
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
