// This file tells a release's health in one word, the way Argo CD does.

package v1alpha1

import (
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Phase is a release's health in one word: what Argo CD's health check for
// MagentoRelease (config/argocd/argocd-cm.yaml) reports.
// +kubebuilder:validation:Enum=Healthy;Progressing;Degraded
type Phase string

const (
	// PhaseHealthy: the desired slot serves traffic, available, and nothing
	// is under way or failing.
	PhaseHealthy Phase = "Healthy"
	// PhaseProgressing: a deploy or a switch is under way, or the operator
	// has not observed the newest spec yet.
	PhaseProgressing Phase = "Progressing"
	// PhaseDegraded: the release is Degraded, whatever else is under way.
	PhaseDegraded Phase = "Degraded"
)

// Health is the phase of a release at generation with status s, and the
// message that explains it: Progressing until s describes that generation;
// then Degraded, Progressing or Healthy when that condition is True, in that
// order; else Progressing, waiting for Ready.
func (s *MagentoReleaseStatus) Health(generation int64) (Phase, string) {
	if s.ObservedGeneration == 0 || s.ObservedGeneration < generation {
		return PhaseProgressing, "Waiting for the operator to observe the latest spec"
	}
	for _, c := range []struct {
		condition string
		phase     Phase
	}{{ConditionDegraded, PhaseDegraded}, {ConditionProgressing, PhaseProgressing}, {ConditionReady, PhaseHealthy}} {
		if cond := meta.FindStatusCondition(s.Conditions, c.condition); cond != nil && cond.Status == metav1.ConditionTrue {
			return c.phase, cond.Message
		}
	}
	if ready := meta.FindStatusCondition(s.Conditions, ConditionReady); ready != nil {
		return PhaseProgressing, ready.Message
	}
	return PhaseProgressing, "Waiting for the release to become ready"
}
