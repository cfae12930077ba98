package bluegreen

import (
	"testing"
	"time"

	"k8s.io/utils/ptr"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
	"github.com/magento-operator/magento-operator/internal/specs"
)

// switchCases: when traffic moves to the target, and what moves with it.
var switchCases = map[string]decideCase{
	"rollback to a scaled-down slot scales it up with its frozen template, and waits": {
		rel:   release(grn, &v1, &v2, greenScaledDown).Obj(),
		slots: scaledDownSlots(),
		want: want{
			active: blue, preview: grn, render: map[v1alpha1.Color]bool{grn: false},
			replicas: map[v1alpha1.Color]map[specs.Component]int32{grn: replicas(2, 3, 0, 0)},
			states:   map[v1alpha1.Color]v1alpha1.SlotState{grn: v1alpha1.SlotDeploying},
			ready:    v1alpha1.ReasonSwitchPending, progress: v1alpha1.ReasonSwitching, events: []string{v1alpha1.EventScaledUp}, requeue: 10 * time.Minute,
			check: func(t *testing.T, p Plan) {
				if !p.Slots[grn].Running {
					t.Error("the rollback target is not running")
				}
			},
		},
	},
	"a switch waits while the target is not ready": {
		rel:   release(grn, &v1, &v2, active(blue)).Obj(),
		slots: map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 1, 1, true), grn: slot(v2, 2, 3, 0, 0, false)},
		want: want{
			active: blue, preview: grn,
			replicas: map[v1alpha1.Color]map[specs.Component]int32{blue: replicas(2, 3, 1, 1), grn: replicas(2, 3, 0, 0)},
			states:   map[v1alpha1.Color]v1alpha1.SlotState{blue: v1alpha1.SlotActive},
			ready:    v1alpha1.ReasonSwitchPending, progress: v1alpha1.ReasonSwitching, degraded: v1alpha1.ReasonAsExpected,
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
		rel:   release(grn, &v1, &v2, active(blue, switchStarted(t0.Add(-time.Minute)))).Obj(),
		slots: map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 1, 1, true), grn: slot(v2, 2, 3, 0, 0, true)},
		want: want{
			active: grn, preview: blue,
			replicas: map[v1alpha1.Color]map[specs.Component]int32{blue: replicas(2, 3, 0, 0), grn: replicas(2, 3, 0, 0)},
			states:   map[v1alpha1.Color]v1alpha1.SlotState{grn: v1alpha1.SlotActive, blue: v1alpha1.SlotPreview},
			ready:    v1alpha1.ReasonAvailable, progress: v1alpha1.ReasonMovingCron, degraded: v1alpha1.ReasonAsExpected,
			events: []string{v1alpha1.EventSwitched}, requeue: time.Hour,
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
		rel:   release(grn, &v1, &v2, active(grn, slotStatus(blue, v1alpha1.SlotStatus{IdleSince: mt(t0)}))).Obj(),
		slots: map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 0, 0, true), grn: slot(v2, 2, 3, 0, 0, true)},
		want: want{
			active: grn, preview: blue,
			replicas: map[v1alpha1.Color]map[specs.Component]int32{blue: replicas(2, 3, 0, 0), grn: replicas(2, 3, 1, 1)},
			ready:    v1alpha1.ReasonAvailable, progress: v1alpha1.ReasonMovingCron, requeue: time.Hour,
		},
	},
	"cron pods still terminating in the old slot hold the new slot's": {
		rel: release(grn, &v1, &v2, active(grn, slotStatus(blue, v1alpha1.SlotStatus{IdleSince: mt(t0)}))).Obj(),
		slots: func() map[v1alpha1.Color]SlotObservation {
			old := slot(v1, 2, 3, 0, 0, true)
			old.Deployments[specs.Cron].Pods = 1 // scaled to 0, pod still terminating
			return map[v1alpha1.Color]SlotObservation{blue: old, grn: slot(v2, 2, 3, 0, 0, true)}
		}(),
		want: want{
			active: grn, preview: blue,
			replicas: map[v1alpha1.Color]map[specs.Component]int32{blue: replicas(2, 3, 0, 0), grn: replicas(2, 3, 0, 1)},
			ready:    v1alpha1.ReasonAvailable, progress: v1alpha1.ReasonMovingCron, requeue: time.Hour,
		},
	},
	"a target not ready past the deadline is Degraded, and nothing is flipped": {
		rel:   release(grn, &v1, &v2, active(blue, switchStarted(t0.Add(-11*time.Minute)))).Obj(),
		slots: map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 1, 1, true), grn: slot(v2, 2, 3, 0, 0, false)},
		want: want{
			active: blue, preview: grn,
			replicas: map[v1alpha1.Color]map[specs.Component]int32{blue: replicas(2, 3, 1, 1), grn: replicas(2, 3, 0, 0)},
			ready:    v1alpha1.ReasonSwitchPending, progress: v1alpha1.ReasonSwitching, degraded: v1alpha1.ReasonDeadlineExceeded,
			events: []string{v1alpha1.EventDegraded},
		},
	},
	"Deployment status from an older generation does not count as ready": {
		rel: release(grn, &v1, &v2, active(blue)).Obj(),
		slots: func() map[v1alpha1.Color]SlotObservation {
			g := slot(v2, 2, 3, 0, 0, true)
			g.Deployments[specs.Web].Current, g.Deployments[specs.Web].Ready = false, false
			return map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 1, 1, true), grn: g}
		}(),
		want: want{active: blue, preview: grn, ready: v1alpha1.ReasonSwitchPending, progress: v1alpha1.ReasonSwitching, requeue: 10 * time.Minute},
	},
	"a ready target still running the previous tag does not take traffic": {
		rel:   release(grn, &v1, &v2, active(blue)).Obj(),
		slots: map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 1, 1, true), grn: slot(v1, 2, 3, 0, 0, true)},
		want: want{
			active: blue, preview: grn, render: map[v1alpha1.Color]bool{grn: true},
			ready: v1alpha1.ReasonSwitchPending, progress: v1alpha1.ReasonSwitching, events: []string{v1alpha1.EventDeploying}, requeue: 10 * time.Minute,
		},
	},
	"capacity before traffic: the target grows to the live slot's size, its HPA floor too": {
		rel: release(grn, &v1, &v2, active(blue)).With(func(r *v1alpha1.MagentoRelease) {
			r.Spec.Web.Autoscaling = &v1alpha1.Autoscaling{MinReplicas: ptr.To[int32](2), MaxReplicas: 5}
		}).Obj(),
		slots: map[v1alpha1.Color]SlotObservation{blue: slot(v1, 8, 3, 1, 1, true), grn: slot(v2, 2, 3, 0, 0, true)},
		want: want{
			active: blue, preview: grn,
			replicas: map[v1alpha1.Color]map[specs.Component]int32{blue: replicas(8, 3, 1, 1), grn: replicas(8, 3, 0, 0)},
			hpas: map[v1alpha1.Color]map[specs.Component]Bounds{
				blue: {specs.Web: {Min: 2, Max: 5}}, grn: {specs.Web: {Min: 8, Max: 8}}},
			ready: v1alpha1.ReasonSwitchPending, progress: v1alpha1.ReasonSwitching, requeue: 10 * time.Minute,
		},
	},
	"the live slot removed from the spec keeps serving until the switch": {
		rel:   release(grn, nil, &v2, active(blue)).Obj(),
		slots: map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 1, 1, true), grn: slot(v2, 2, 3, 0, 0, false)},
		want: want{
			active: blue, preview: grn, render: map[v1alpha1.Color]bool{blue: false},
			replicas: map[v1alpha1.Color]map[specs.Component]int32{blue: replicas(2, 3, 1, 1)},
			ready:    v1alpha1.ReasonSwitchPending, requeue: 10 * time.Minute,
		},
	},
	"a target whose php-fpm Service is missing is not switched to": {
		rel: release(grn, &v1, &v2, active(blue)).Obj(),
		slots: func() map[v1alpha1.Color]SlotObservation {
			g := slot(v2, 2, 3, 0, 0, true)
			g.Service = false
			return map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 1, 1, true), grn: g}
		}(),
		want: want{
			active: blue, preview: grn, ready: v1alpha1.ReasonSwitchPending, requeue: 10 * time.Minute,
			check: func(t *testing.T, p Plan) {
				if m := cond(p, v1alpha1.ConditionProgressing).Message; m != "switching to green: Service shop-php-fpm-green is missing" {
					t.Errorf("message %q", m)
				}
			},
		},
	},
}

// trafficCases: what the Services serve against what the status records, and the serving slot's health.
var trafficCases = map[string]decideCase{
	"lost status: the Services tell which slot serves": {
		rel:   release(grn, &v1, &v2, v1alpha1.MagentoReleaseStatus{}).Obj(),
		slots: map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 1, 1, true), grn: slot(v2, 2, 3, 0, 0, false)},
		svc:   blue,
		want: want{
			active: blue, preview: grn,
			replicas: map[v1alpha1.Color]map[specs.Component]int32{blue: replicas(2, 3, 1, 1), grn: replicas(2, 3, 0, 0)},
			ready:    v1alpha1.ReasonSwitchPending, progress: v1alpha1.ReasonSwitching, requeue: 10 * time.Minute,
		},
	},
	"Services flipped before a crash: the switch is recorded": {
		rel:   release(grn, &v1, &v2, active(blue)).Obj(),
		slots: map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 1, 1, true), grn: slot(v2, 2, 3, 0, 0, true)},
		svc:   grn,
		want:  want{active: grn, preview: blue, events: []string{v1alpha1.EventSwitched}, requeue: time.Hour},
	},
	"a status written by hand does not move traffic to an unready target": {
		rel:     release(grn, &v1, &v2, active(grn, switchedAt(hourAgo))).Obj(),
		slots:   map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 1, 1, true), grn: slot(v2, 2, 3, 0, 0, false)},
		traffic: onServices(blue, hourAgo),
		want: want{
			active: blue, preview: grn, ready: v1alpha1.ReasonSwitchPending, progress: v1alpha1.ReasonSwitching, requeue: 10 * time.Minute,
			check: func(t *testing.T, p Plan) {
				if p.Switch != (specs.Switch{Color: blue, Time: hourAgo}) {
					t.Errorf("switch on the Services %v", p.Switch)
				}
			},
		},
	},
	"a status written by hand in steady state is set right without a switch, an Event or a Job": {
		rel:     release(blue, &v1, &v2, active(grn, switchedAt(hourAgo))).PostSwitch(cacheClean...).Obj(),
		slots:   map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 1, 1, true), grn: slot(v2, 2, 3, 0, 0, true)},
		traffic: onServices(blue, hourAgo),
		want: want{
			active: blue, preview: grn, ready: v1alpha1.ReasonAvailable, requeue: time.Hour,
			check: func(t *testing.T, p Plan) {
				if !p.Status.LastSwitchTime.Equal(mt(hourAgo)) || len(p.Jobs) != 0 || p.Status.PostSwitchJob != "" {
					t.Errorf("phantom switch: last %v, jobs %+v, post-switch %q", p.Status.LastSwitchTime, p.Jobs, p.Status.PostSwitchJob)
				}
			},
		},
	},
	"a switch on the Services the status does not record (a crash) is recorded, with its post-switch Job": {
		rel:     release(grn, &v1, &v2, active(blue, switchedAt(hourAgo))).PostSwitch(cacheClean...).Obj(),
		slots:   map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 0, 0, true), grn: slot(v2, 2, 3, 0, 0, true)},
		traffic: onServices(grn, t0.Add(-5*time.Second)),
		want: want{
			active: grn, preview: blue, events: []string{v1alpha1.EventSwitched}, requeue: time.Hour,
			check: func(t *testing.T, p Plan) {
				at := t0.Add(-5 * time.Second)
				if !p.Status.LastSwitchTime.Equal(mt(at)) || p.Switch.Time != at {
					t.Errorf("switch recorded at %v, on the Services %v", p.Status.LastSwitchTime, p.Switch)
				}
				name := specs.PostSwitchJobName(release(grn, &v1, &v2, active(blue)).Obj(), grn, v2, at)
				if p.Status.PostSwitchJob != name || !p.Status.PostSwitchJobPending || len(p.Jobs) != 1 || p.Jobs[0].At != at {
					t.Errorf("post-switch %q pending %v, jobs %+v", p.Status.PostSwitchJob, p.Status.PostSwitchJobPending, p.Jobs)
				}
			},
		},
	},
	"a switch on the Services the status does not record, to a slot that fails the gate, goes back": {
		rel:     release(grn, &v1, &v2, active(blue, switchedAt(hourAgo))).Obj(),
		slots:   map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 1, 1, true), grn: slot(v2, 2, 3, 0, 0, false)},
		traffic: onServices(grn, t0.Add(-5*time.Second)),
		want: want{
			active: blue, preview: grn, ready: v1alpha1.ReasonSwitchPending, requeue: 10 * time.Minute,
			check: func(t *testing.T, p Plan) {
				if p.Switch != (specs.Switch{Color: blue, Time: hourAgo}) || !p.Status.LastSwitchTime.Equal(mt(hourAgo)) {
					t.Errorf("switch %v, last %v", p.Switch, p.Status.LastSwitchTime)
				}
			},
		},
	},
	"a lost status takes the Services' record over without telling of a switch again": {
		rel:     release(grn, &v1, &v2, v1alpha1.MagentoReleaseStatus{}).PostSwitch(cacheClean...).Obj(),
		slots:   map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 0, 0, true), grn: slot(v2, 2, 3, 1, 1, true)},
		traffic: onServices(grn, hourAgo),
		want: want{
			active: grn, preview: blue, ready: v1alpha1.ReasonAvailable, requeue: time.Hour,
			check: func(t *testing.T, p Plan) {
				if !p.Status.LastSwitchTime.Equal(mt(hourAgo)) || len(p.Jobs) != 0 || p.Status.PostSwitchJobPending {
					t.Errorf("last switch %v, jobs %+v", p.Status.LastSwitchTime, p.Jobs)
				}
			},
		},
	},
	"Services moved by hand are set back to the operator's record": {
		rel:     release(blue, &v1, &v2, active(blue, switchedAt(hourAgo))).Obj(),
		slots:   map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 1, 1, true), grn: slot(v2, 2, 3, 0, 0, true)},
		traffic: &Traffic{Selects: grn, Switches: []specs.Switch{{Color: blue, Time: hourAgo}, {Color: blue, Time: hourAgo}}},
		want:    want{active: blue, preview: grn, ready: v1alpha1.ReasonAvailable, requeue: time.Hour},
	},
	"Services that disagree (the operator stopped between their writes) keep the earlier record while the target fails the gate": {
		rel:   release(grn, &v1, &v2, active(blue, switchedAt(hourAgo))).Obj(),
		slots: map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 1, 1, true), grn: slot(v2, 2, 3, 0, 0, false)},
		traffic: &Traffic{Switches: []specs.Switch{{Color: grn, Time: t0.Add(-time.Second)},
			{Color: blue, Time: hourAgo}}},
		want: want{active: blue, preview: grn, ready: v1alpha1.ReasonSwitchPending, requeue: 10 * time.Minute},
	},
	"the serving slot losing availability starts the clock": {
		rel:   release(blue, &v1, nil, active(blue, slotStatus(blue, v1alpha1.SlotStatus{Tag: "main-1", State: v1alpha1.SlotActive, Ready: true}))).Obj(),
		slots: map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 1, 1, false), grn: none()},
		want: want{
			active: blue, ready: v1alpha1.ReasonNotAvailable, degraded: v1alpha1.ReasonAsExpected, requeue: 10 * time.Minute,
			check: func(t *testing.T, p Plan) {
				if !p.Status.Blue.UnavailableSince.Equal(mt(t0)) {
					t.Errorf("unavailable since %v", p.Status.Blue.UnavailableSince)
				}
			},
		},
	},
	"the serving slot unavailable past the deadline is LiveUnavailable": {
		rel: release(blue, &v1, nil, active(blue, slotStatus(blue, v1alpha1.SlotStatus{Tag: "main-1", State: v1alpha1.SlotActive,
			UnavailableSince: mt(t0.Add(-10 * time.Minute))}))).Obj(),
		slots: map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 1, 1, false), grn: none()},
		want: want{
			active: blue, ready: v1alpha1.ReasonNotAvailable, degraded: v1alpha1.ReasonLiveUnavailable, events: []string{v1alpha1.EventDegraded},
			check: func(t *testing.T, p Plan) {
				if m := cond(p, v1alpha1.ConditionDegraded).Message; m != "blue serves traffic but has not been available for 10m0s: web is not available, php-fpm is not available" {
					t.Errorf("message %q", m)
				}
			},
		},
	},
	"not Ready while a Service or the Ingress the serving slot needs is not the release's": {
		rel:   release(blue, &v1, nil, active(blue)).Ingress(v1alpha1.IngressSpec{Host: "shop.example"}).Obj(),
		slots: map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 1, 1, true), grn: none()},
		owned: map[string]bool{"Service/shop": true, "Service/shop-php-fpm": true},
		want: want{
			active: blue, ready: v1alpha1.ReasonNotAvailable,
			check: func(t *testing.T, p Plan) {
				if m := cond(p, v1alpha1.ConditionReady).Message; m != "blue serves traffic but these children are not in place: Service shop-php-fpm-blue, Ingress shop" {
					t.Errorf("message %q", m)
				}
			},
		},
	},
}
