// This file plans the writers, cron and consumers, which run in the serving
// slot only, and the preview Service.

package bluegreen

import (
	"fmt"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
	"github.com/magento-operator/magento-operator/internal/specs"
)

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
