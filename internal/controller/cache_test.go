package controller

import (
	"strings"
	"testing"
	"unsafe"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// decoded is a Deployment as the informer decodes it: every string its own copy.
func decoded() *appsv1.Deployment {
	own := func(s string) string { return strings.Clone(s) }
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: own("shop-web-blue"), Namespace: own("stage"),
			Labels:          map[string]string{own("app.kubernetes.io/instance"): own("shop")},
			Annotations:     map[string]string{own("magento.ops.dev/tag"): own("main-1")},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: own("magento.ops.dev/v1alpha1"), Kind: own("MagentoRelease"), Name: own("shop")}},
			ManagedFields:   []metav1.ManagedFieldsEntry{{Manager: "magento-operator"}}},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"a": "b"}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"a": "b"}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "nginx"}}}},
		},
		Status: appsv1.DeploymentStatus{Replicas: 2, Conditions: []appsv1.DeploymentCondition{{Type: appsv1.DeploymentAvailable}}},
	}
}

func TestTrimKeepsWhatTheOperatorReadsOnceForAll(t *testing.T) {
	a, _ := trim(decoded())
	b, _ := trim(decoded())
	da, db := a.(*appsv1.Deployment), b.(*appsv1.Deployment)
	if da.ManagedFields != nil || da.Spec.Selector != nil || len(da.Spec.Template.Spec.Containers) != 0 ||
		da.Spec.Template.Labels != nil || da.Status.Conditions != nil {
		t.Errorf("not trimmed: %+v", da)
	}
	if da.Status.Replicas != 2 || da.Labels["app.kubernetes.io/instance"] != "shop" || da.Annotations["magento.ops.dev/tag"] != "main-1" ||
		da.OwnerReferences[0].Name != "shop" || da.Name != "shop-web-blue" {
		t.Errorf("lost what the operator reads: %+v", da)
	}
	same := func(x, y string) bool { return unsafe.StringData(x) == unsafe.StringData(y) }
	if !same(da.Namespace, db.Namespace) || !same(da.Labels["app.kubernetes.io/instance"], db.Labels["app.kubernetes.io/instance"]) ||
		!same(da.Annotations["magento.ops.dev/tag"], db.Annotations["magento.ops.dev/tag"]) ||
		!same(da.OwnerReferences[0].Kind, db.OwnerReferences[0].Kind) {
		t.Error("two objects keep their own copies of the strings they share")
	}

	pdb := &policyv1.PodDisruptionBudget{Spec: policyv1.PodDisruptionBudgetSpec{MaxUnavailable: &intstr.IntOrString{IntVal: 1}},
		Status: policyv1.PodDisruptionBudgetStatus{DisruptionsAllowed: 1, Conditions: []metav1.Condition{{Type: "DisruptionAllowed"}}}}
	trimmed, _ := trim(pdb)
	if p := trimmed.(*policyv1.PodDisruptionBudget); p.Spec.MaxUnavailable == nil || p.Status.Conditions != nil {
		t.Errorf("PDB: %+v", p)
	}
}
