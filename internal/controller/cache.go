package controller

import (
	"unique"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/magento-operator/magento-operator/internal/specs"
)

// CacheOptions keeps the informer caches small: of the kinds the operator
// owns, only objects labelled app.kubernetes.io/managed-by=magento-operator
// are cached, trimmed of what the operator never reads (trim). Of pods, only the
// metadata of its cron and consumer pods is cached. namespaces limits the
// cache to those namespaces; empty means all.
func CacheOptions(namespaces []string) cache.Options {
	selector := labels.SelectorFromSet(labels.Set{specs.LabelManagedBy: specs.ManagedBy})
	managed := cache.ByObject{Label: selector}
	opts := cache.Options{
		// Every kind, the releases and each kind below, as none sets a
		// transform of its own.
		DefaultTransform: trim,
		ByObject: map[client.Object]cache.ByObject{
			&appsv1.Deployment{}:                     managed,
			&corev1.Service{}:                        managed,
			&autoscalingv2.HorizontalPodAutoscaler{}: managed,
			&policyv1.PodDisruptionBudget{}:          managed,
			&networkingv1.Ingress{}:                  managed,
			&batchv1.Job{}:                           managed,
			// Rule 13: the metadata of cron and consumer pods only (see
			// pods.go). The cache is chosen by GVK, and the metadata informer
			// of that GVK's cache lists and watches with this selector.
			writerPod(): {Label: writerPodSelector()},
		},
	}
	if len(namespaces) > 0 {
		opts.DefaultNamespaces = map[string]cache.Config{}
		for _, ns := range namespaces {
			opts.DefaultNamespaces[ns] = cache.Config{}
		}
	}
	return opts
}

// trim makes an object small before it enters the cache. Every object loses
// its managedFields, and the strings thousands of objects repeat (label
// and annotation keys and values, namespaces, owners) are interned: one
// copy each instead of one per object. Deployments and Jobs lose their pod
// template and selector, and Deployments their status conditions: the
// operator reads their metadata, replica counts and Job conditions, and
// reads a Deployment whole from the API server when it renders it again.
// PodDisruptionBudgets lose their status, which the operator never reads.
// A patch from a cached object only ever carries what changed, so what is
// dropped here is never written back.
func trim(obj any) (any, error) {
	if m, ok := obj.(metav1.Object); ok {
		m.SetManagedFields(nil)
		m.SetNamespace(intern(m.GetNamespace()))
		m.SetLabels(internMap(m.GetLabels()))
		m.SetAnnotations(internMap(m.GetAnnotations()))
		refs := m.GetOwnerReferences()
		for i := range refs {
			refs[i].APIVersion, refs[i].Kind, refs[i].Name = intern(refs[i].APIVersion), intern(refs[i].Kind), intern(refs[i].Name)
		}
	}
	switch o := obj.(type) {
	case *appsv1.Deployment:
		o.Spec.Template = corev1.PodTemplateSpec{}
		o.Spec.Selector = nil
		o.Status.Conditions = nil
	case *batchv1.Job:
		o.Spec.Template = corev1.PodTemplateSpec{}
		o.Spec.Selector = nil
	case *policyv1.PodDisruptionBudget:
		o.Status = policyv1.PodDisruptionBudgetStatus{}
	}
	return obj, nil
}

// intern returns the one shared copy of s.
func intern(s string) string { return unique.Make(s).Value() }

// internMap returns m with its keys and values interned.
func internMap(m map[string]string) map[string]string {
	if len(m) == 0 {
		return m
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[intern(k)] = intern(v)
	}
	return out
}
