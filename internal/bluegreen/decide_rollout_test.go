package bluegreen

import (
	"testing"
	"time"

	"k8s.io/utils/ptr"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
	"github.com/magento-operator/magento-operator/internal/specs"
)

// deployCases: rollouts and deploys, what each slot renders and runs.
var deployCases = map[string]decideCase{
	"first rollout creates the active slot and points the Services at it": {
		rel:   release(blue, &v1, nil, v1alpha1.MagentoReleaseStatus{}).Obj(),
		slots: map[v1alpha1.Color]SlotObservation{blue: none(), grn: none()},
		want: want{
			active: blue, render: map[v1alpha1.Color]bool{blue: true},
			replicas: map[v1alpha1.Color]map[specs.Component]int32{blue: replicas(2, 3, 1, 1)},
			deleted:  []v1alpha1.Color{grn},
			states:   map[v1alpha1.Color]v1alpha1.SlotState{blue: v1alpha1.SlotActive},
			ready:    v1alpha1.ReasonNotAvailable, progress: v1alpha1.ReasonDeploying, degraded: v1alpha1.ReasonAsExpected,
			events: []string{v1alpha1.EventDeploying}, requeue: 10 * time.Minute,
		},
	},
	"first rollout becomes Ready once the slot is available": {
		rel: release(blue, &v1, nil, active(blue, slotStatus(blue, v1alpha1.SlotStatus{
			Tag: "main-1", State: v1alpha1.SlotActive, DeployedTime: mt(t0), RolloutStartTime: mt(t0)}))).Obj(),
		slots: map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 1, 1, true), grn: none()},
		want: want{
			active: blue, render: map[v1alpha1.Color]bool{blue: false},
			replicas: map[v1alpha1.Color]map[specs.Component]int32{blue: replicas(2, 3, 1, 1)},
			states:   map[v1alpha1.Color]v1alpha1.SlotState{blue: v1alpha1.SlotActive},
			ready:    v1alpha1.ReasonAvailable, progress: v1alpha1.ReasonStable, degraded: v1alpha1.ReasonAsExpected,
			check: func(t *testing.T, p Plan) {
				if p.Status.Blue.RolloutStartTime != nil || !p.Status.Blue.Ready {
					t.Errorf("rollout not finished: %+v", p.Status.Blue)
				}
			},
		},
	},
	"deploying a new tag to the idle slot renders it, without cron or consumers": {
		rel: release(blue, &v1, &v2, active(blue,
			slotStatus(grn, v1alpha1.SlotStatus{Tag: "main-1", State: v1alpha1.SlotPreview, DeployedTime: mt(t0.Add(-time.Minute))}))).Obj(),
		slots: map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 1, 1, true), grn: slot(v1, 2, 3, 0, 0, true)},
		want: want{
			active: blue, preview: grn, render: map[v1alpha1.Color]bool{blue: false, grn: true},
			replicas: map[v1alpha1.Color]map[specs.Component]int32{blue: replicas(2, 3, 1, 1), grn: replicas(2, 3, 0, 0)},
			states:   map[v1alpha1.Color]v1alpha1.SlotState{blue: v1alpha1.SlotActive, grn: v1alpha1.SlotDeploying},
			ready:    v1alpha1.ReasonAvailable, progress: v1alpha1.ReasonDeploying, degraded: v1alpha1.ReasonAsExpected,
			events: []string{v1alpha1.EventDeploying}, requeue: 10 * time.Minute,
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
	"a new idle slot's cron, created at zero and not yet observed, does not stop the live slot's": {
		rel: release(blue, &v1, &v2, active(blue)).Obj(),
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
			ready:    v1alpha1.ReasonAvailable, requeue: time.Hour,
		},
	},
	"a slot removed from the spec loses its objects": {
		rel:   release(blue, &v1, nil, active(blue, slotStatus(grn, v1alpha1.SlotStatus{Tag: "main-2"}))).Obj(),
		slots: map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 1, 1, true), grn: slot(v2, 2, 3, 0, 0, true)},
		want: want{
			active: blue, deleted: []v1alpha1.Color{grn}, ready: v1alpha1.ReasonAvailable,
			check: func(t *testing.T, p Plan) {
				if p.Status.Green != nil || p.Status.PreviewColor != "" {
					t.Errorf("green still reported: %+v", p.Status)
				}
			},
		},
	},
	"a pending tag for the slot that still serves traffic is not rendered": {
		rel:   release(grn, &v2, &v2, active(blue)).Obj(),
		slots: map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 1, 1, true), grn: slot(v2, 2, 3, 0, 0, false)},
		want: want{
			active: blue, preview: grn, render: map[v1alpha1.Color]bool{blue: false},
			ready: v1alpha1.ReasonSwitchPending, requeue: 10 * time.Minute,
			check: func(t *testing.T, p Plan) {
				if p.Slots[blue].Version != v1 || p.Status.Blue.Tag != "main-1" {
					t.Errorf("the live slot moved to %v", p.Slots[blue].Version)
				}
			},
		},
	},
	"cron and consumers disabled have no Deployments": {
		rel: release(blue, &v1, nil, active(blue)).With(func(r *v1alpha1.MagentoRelease) {
			r.Spec.Cron.Enabled, r.Spec.Consumer.Enabled = ptr.To(false), ptr.To(false)
		}).Obj(),
		slots: map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 1, 1, true), grn: none()},
		want: want{
			active:   blue,
			replicas: map[v1alpha1.Color]map[specs.Component]int32{blue: {specs.Web: 2, specs.PHPFPM: 3}},
			ready:    v1alpha1.ReasonAvailable,
		},
	},
	"a deploy the status records already is not announced again when the cache lags": {
		rel: release(blue, &v1, &v2, active(blue, slotStatus(grn, v1alpha1.SlotStatus{Tag: "main-2", State: v1alpha1.SlotDeploying,
			DeployedTime: mt(t0.Add(-time.Second)), RolloutStartTime: mt(t0.Add(-time.Second))}))).Obj(),
		slots: map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 1, 1, true), grn: slot(v1, 2, 3, 0, 0, true)},
		want: want{
			active: blue, preview: grn, render: map[v1alpha1.Color]bool{grn: true}, ready: v1alpha1.ReasonAvailable, progress: v1alpha1.ReasonDeploying,
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
			DeployedTime: mt(t0.Add(-time.Hour))}))).Obj(),
		slots: map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 1, 1, true), grn: slot(v1, 2, 3, 0, 0, true)},
		want: want{
			active: blue, preview: grn, render: map[v1alpha1.Color]bool{grn: true}, events: []string{v1alpha1.EventDeploying},
			requeue: 10 * time.Minute,
			check: func(t *testing.T, p Plan) {
				if !p.Slots[grn].WebWaits {
					t.Error("nginx is rendered beside the old php-fpm")
				}
				r := release(blue, &v1, &v2, p.Status).Obj()
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
	"preview disabled: no preview Service": {
		rel:   release(blue, &v1, &v2, active(blue)).With(func(r *v1alpha1.MagentoRelease) { r.Spec.Preview.Enabled = ptr.To(false) }).Obj(),
		slots: map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 1, 1, true), grn: slot(v2, 2, 3, 0, 0, true)},
		want:  want{active: blue, ready: v1alpha1.ReasonAvailable, requeue: time.Hour},
	},
}

// idleCases: the idle slot's TTL, scale-down asked for, and rollback to a scaled-down slot.
var idleCases = map[string]decideCase{
	"the idle slot keeps running until its TTL": {
		rel: release(blue, &v1, &v2, active(blue,
			slotStatus(grn, v1alpha1.SlotStatus{IdleSince: mt(t0.Add(-30 * time.Minute)), DeployedTime: mt(t0.Add(-50 * time.Minute))}))).Obj(),
		slots: map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 1, 1, true), grn: slot(v2, 2, 3, 0, 0, true)},
		want: want{
			active: blue, preview: grn,
			replicas: map[v1alpha1.Color]map[specs.Component]int32{grn: replicas(2, 3, 0, 0)},
			states:   map[v1alpha1.Color]v1alpha1.SlotState{grn: v1alpha1.SlotPreview},
			ready:    v1alpha1.ReasonAvailable, progress: v1alpha1.ReasonStable, requeue: 30 * time.Minute,
		},
	},
	"the idle slot scales down once the TTL passed since it was last deployed (the later time)": {
		rel: release(blue, &v1, &v2, active(blue,
			slotStatus(grn, v1alpha1.SlotStatus{IdleSince: mt(t0.Add(-3 * time.Hour)), DeployedTime: mt(t0.Add(-time.Hour))}))).Obj(),
		slots: map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 1, 1, true), grn: slot(v2, 2, 3, 0, 0, true)},
		want: want{
			active: blue, preview: grn,
			replicas: map[v1alpha1.Color]map[specs.Component]int32{grn: replicas(0, 0, 0, 0)},
			states:   map[v1alpha1.Color]v1alpha1.SlotState{grn: v1alpha1.SlotScaledDown},
			ready:    v1alpha1.ReasonAvailable, progress: v1alpha1.ReasonStable, events: []string{v1alpha1.EventScaledDown},
			check: func(t *testing.T, p Plan) {
				if p.Slots[grn].Running || len(p.Slots[grn].HPAs) > 0 {
					t.Errorf("scaled-down slot keeps PDBs or HPAs: %+v", p.Slots[grn])
				}
			},
		},
	},
	"a TTL that ends within a second is rounded up, never scaled down early": {
		rel: release(blue, &v1, &v2, active(blue,
			slotStatus(grn, v1alpha1.SlotStatus{IdleSince: mt(t0.Add(-time.Hour))}))).Obj(),
		slots: map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 1, 1, true), grn: slot(v2, 2, 3, 0, 0, true)},
		now:   t0.Add(-300 * time.Millisecond),
		want: want{
			active: blue, preview: grn, replicas: map[v1alpha1.Color]map[specs.Component]int32{grn: replicas(2, 3, 0, 0)},
			ready: v1alpha1.ReasonAvailable, requeue: time.Second,
		},
	},
	"scale-down-idle asked after the slot went idle scales it down now": {
		rel: release(blue, &v1, &v2, active(blue, slotStatus(grn, v1alpha1.SlotStatus{IdleSince: mt(t0.Add(-time.Minute))}))).With(func(r *v1alpha1.MagentoRelease) {
			r.Annotations = map[string]string{v1alpha1.AnnotationScaleDownIdle: t0.Format(time.RFC3339)}
		}).Obj(),
		slots: map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 1, 1, true), grn: slot(v2, 2, 3, 0, 0, true)},
		want: want{
			active: blue, preview: grn, replicas: map[v1alpha1.Color]map[specs.Component]int32{grn: replicas(0, 0, 0, 0)},
			states: map[v1alpha1.Color]v1alpha1.SlotState{grn: v1alpha1.SlotScaledDown}, events: []string{v1alpha1.EventScaledDown},
		},
	},
	"scale-down-idle asked before the slot was deployed does not touch the new deploy": {
		rel: release(blue, &v1, &v2, active(blue, slotStatus(grn, v1alpha1.SlotStatus{DeployedTime: mt(t0)}))).With(func(r *v1alpha1.MagentoRelease) {
			r.Annotations = map[string]string{v1alpha1.AnnotationScaleDownIdle: t0.Add(-time.Hour).Format(time.RFC3339)}
		}).Obj(),
		slots: map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 1, 1, true), grn: slot(v2, 2, 3, 0, 0, true)},
		want: want{
			active: blue, preview: grn, replicas: map[v1alpha1.Color]map[specs.Component]int32{grn: replicas(2, 3, 0, 0)},
			states: map[v1alpha1.Color]v1alpha1.SlotState{grn: v1alpha1.SlotPreview}, requeue: time.Hour,
		},
	},
	"idle scale-down off keeps the idle slot running": {
		rel:   release(blue, &v1, &v2, active(blue, slotStatus(grn, v1alpha1.SlotStatus{IdleSince: mt(t0.Add(-48 * time.Hour))}))).NoIdleScaleDown().Obj(),
		slots: map[v1alpha1.Color]SlotObservation{blue: slot(v1, 2, 3, 1, 1, true), grn: slot(v2, 2, 3, 0, 0, true)},
		want: want{
			active: blue, preview: grn, replicas: map[v1alpha1.Color]map[specs.Component]int32{grn: replicas(2, 3, 0, 0)},
			states: map[v1alpha1.Color]v1alpha1.SlotState{grn: v1alpha1.SlotPreview}, ready: v1alpha1.ReasonAvailable,
		},
	},
	"a scaled-down slot stays down": {
		rel:   release(blue, &v1, &v2, greenScaledDown).Obj(),
		slots: scaledDownSlots(),
		want: want{
			active: blue, preview: grn, replicas: map[v1alpha1.Color]map[specs.Component]int32{grn: replicas(0, 0, 0, 0)},
			states: map[v1alpha1.Color]v1alpha1.SlotState{grn: v1alpha1.SlotScaledDown}, ready: v1alpha1.ReasonAvailable,
		},
	},
}
