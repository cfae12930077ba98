// This file sets the release's conditions: Ready, Progressing and Degraded.

package bluegreen

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
	"github.com/magento-operator/magento-operator/internal/specs"
)

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

// decideConditions sets Ready, Progressing and Degraded, and the phase
// they make.
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
		set(v1alpha1.ConditionReady, false, v1alpha1.ReasonSwitchPending,
			fmt.Sprintf("%s serves traffic; waiting to switch to %s", d.active, d.desired))
	case active != nil && active.Ready && len(d.missing()) > 0:
		set(v1alpha1.ConditionReady, false, v1alpha1.ReasonNotAvailable, fmt.Sprintf("%s serves traffic but %s not in place: %s",
			d.active, map[bool]string{true: "this child is", false: "these children are"}[len(d.missing()) == 1], strings.Join(d.missing(), ", ")))
	case active != nil && active.Ready:
		set(v1alpha1.ConditionReady, true, v1alpha1.ReasonAvailable, fmt.Sprintf("%s serves traffic and is available%s", d.active, d.postSwitchNote()))
	default:
		set(v1alpha1.ConditionReady, false, v1alpha1.ReasonNotAvailable, fmt.Sprintf("%s serves traffic but is not available yet", d.active))
	}
	switch {
	case d.active != d.desired:
		set(v1alpha1.ConditionProgressing, true, v1alpha1.ReasonSwitching, strings.Join(d.progress, "; "))
	case len(d.progress) > 0:
		set(v1alpha1.ConditionProgressing, true, v1alpha1.ReasonDeploying, strings.Join(d.progress, "; "))
	case len(d.moving) > 0:
		set(v1alpha1.ConditionProgressing, true, v1alpha1.ReasonMovingCron, strings.Join(d.moving, "; "))
	default:
		set(v1alpha1.ConditionProgressing, false, v1alpha1.ReasonStable, "no deploy or switch under way")
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
			d.event(true, v1alpha1.EventDegraded, "%s", msg)
		}
	} else {
		set(v1alpha1.ConditionDegraded, false, v1alpha1.ReasonAsExpected, "progressing within its deadline")
	}
	d.st.Phase, _ = d.st.Health(gen)
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
		d.event(true, v1alpha1.EventPostSwitchFailed, "Post-switch Job %s failed; traffic stays on %s", j, d.active)
	}
	return note
}
