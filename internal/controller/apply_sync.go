// This file decides which fields of a live child are set back to what the
// operator wants (rule 7), and how a wanted spec is compared with a live one
// the API server has defaulted.

package controller

import (
	"reflect"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// syncMeta restores the labels and controller reference the operator sets,
// leaving other labels and annotations alone.
func syncMeta(upd, want client.Object) {
	labels := upd.GetLabels()
	for k, v := range want.GetLabels() {
		setMap(&labels, k, v)
	}
	upd.SetLabels(labels)
	if !metav1.IsControlledBy(upd, ownerOf(want)) {
		upd.SetOwnerReferences(append(upd.GetOwnerReferences(), want.GetOwnerReferences()...))
	}
}

func ownerOf(obj client.Object) *metav1.ObjectMeta {
	for _, ref := range obj.GetOwnerReferences() {
		if ref.Controller != nil && *ref.Controller {
			return &metav1.ObjectMeta{UID: ref.UID}
		}
	}
	return &metav1.ObjectMeta{}
}

func setMap(m *map[string]string, k, v string) {
	if *m == nil {
		*m = map[string]string{}
	}
	(*m)[k] = v
}

// derives is true when every field want sets has the same value in live, and
// lists have the same length (fields the API server defaults are not compared).
func derives(want, live any) bool {
	return equality.Semantic.DeepDerivative(want, live) && sameLengths(reflect.ValueOf(want), reflect.ValueOf(live))
}

// sameLengths compares the lengths of every slice reachable in both values,
// which DeepDerivative lets differ.
func sameLengths(a, b reflect.Value) bool {
	switch a.Kind() {
	case reflect.Pointer, reflect.Interface:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() || !b.IsNil()
		}
		return sameLengths(a.Elem(), b.Elem())
	case reflect.Slice:
		if a.Len() != b.Len() {
			return false
		}
		for i := range a.Len() {
			if !sameLengths(a.Index(i), b.Index(i)) {
				return false
			}
		}
	case reflect.Struct:
		for i := range a.NumField() {
			if !sameLengths(a.Field(i), b.Field(i)) {
				return false
			}
		}
	}
	return true
}

// syncService sets the selector exactly (a hand-edited selector is set back,
// rule 7) and the ports.
func syncService(live, want *corev1.Service) {
	if !equality.Semantic.DeepEqual(live.Spec.Selector, want.Spec.Selector) {
		live.Spec.Selector = want.Spec.Selector
	}
	for k, v := range want.Annotations {
		setMap(&live.Annotations, k, v)
	}
	if !derives(want.Spec.Ports, live.Spec.Ports) {
		live.Spec.Ports = want.Spec.Ports
	}
}

func syncHPA(live, want *autoscalingv2.HorizontalPodAutoscaler) {
	if !derives(want.Spec, live.Spec) {
		live.Spec = want.Spec
	}
}

func syncPDB(live, want *policyv1.PodDisruptionBudget) {
	if !derives(want.Spec, live.Spec) {
		live.Spec = want.Spec
	}
}

func syncIngress(live, want *networkingv1.Ingress) {
	if !derives(want.Spec, live.Spec) {
		live.Spec = want.Spec
	}
	for k, v := range want.Annotations {
		setMap(&live.Annotations, k, v)
	}
}
