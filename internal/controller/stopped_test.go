package controller

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
	"github.com/magento-operator/magento-operator/internal/bluegreen"
	"github.com/magento-operator/magento-operator/internal/specs"
	"github.com/magento-operator/magento-operator/test/builder"
)

// TestStoppedDeploymentsFollowEveryGenerationAtZero steps one idle cron
// Deployment through generations: it stays known stopped only while each
// generation is seen and asks for zero replicas.
func TestStoppedDeploymentsFollowEveryGenerationAtZero(t *testing.T) {
	rel := builder.MakeRelease("ns", "shop").Obj()
	name := specs.SlotName(rel, specs.Cron, v1alpha1.Green)
	var s stoppedDeployments
	type gen struct {
		uid                  types.UID
		generation, observed int64
		replicas, statusPods int32
		want                 bool
	}
	steps := []struct {
		why string
		gen
	}{
		{"created at zero, never observed", gen{"a", 1, 0, 0, 0, true}},
		{"a new template at zero, the first generation seen", gen{"a", 2, 1, 0, 0, true}},
		{"the next generation at zero, status still behind", gen{"a", 3, 1, 0, 0, true}},
		{"scaled up: it may start pods", gen{"a", 4, 3, 1, 0, false}},
		{"back at zero before its status caught up: pods may exist", gen{"a", 5, 4, 0, 0, false}},
		{"observed at zero with a pod still terminating", gen{"a", 5, 5, 0, 1, false}},
		{"observed at zero with no pod left", gen{"a", 5, 5, 0, 0, true}},
		{"two generations later, one of them unseen", gen{"a", 7, 5, 0, 0, false}},
		{"observed again", gen{"a", 7, 7, 0, 0, true}},
		{"deleted and created again under the same name, not observed", gen{"b", 2, 1, 0, 0, false}},
	}
	for _, step := range steps {
		d := &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, UID: step.uid, Generation: step.generation},
			Spec:       appsv1.DeploymentSpec{Replicas: ptr.To(step.replicas)},
			Status:     appsv1.DeploymentStatus{ObservedGeneration: step.observed, Replicas: step.statusPods},
		}
		st := deploymentState(d, 0)
		in := bluegreen.Input{Slots: map[v1alpha1.Color]bluegreen.SlotObservation{
			v1alpha1.Green: {Deployments: map[specs.Component]*bluegreen.DeploymentState{specs.Cron: st}},
		}}
		s.mark(rel, map[string]*appsv1.Deployment{name: d}, in)
		if st.KeptStopped != step.want {
			t.Errorf("%s: KeptStopped = %v, want %v", step.why, st.KeptStopped, step.want)
		}
		if st.Gone() != step.want {
			t.Errorf("%s: Gone() = %v, want %v", step.why, st.Gone(), step.want)
		}
	}
	s.forget(types.NamespacedName{Namespace: "ns", Name: "shop"})
	if len(s.seen) != 0 {
		t.Errorf("forget left %v", s.seen)
	}
}
