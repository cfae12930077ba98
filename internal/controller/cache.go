package controller

import (
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/magento-operator/magento-operator/internal/specs"
)

// CacheOptions keeps the informer caches small: of the kinds the operator
// owns, only objects labelled app.kubernetes.io/managed-by=magento-operator
// are cached, and no object keeps its managedFields. Of pods, only the
// metadata of its cron and consumer pods is cached. namespaces limits the
// cache to those namespaces; empty means all.
func CacheOptions(namespaces []string) cache.Options {
	selector := labels.SelectorFromSet(labels.Set{specs.LabelManagedBy: specs.ManagedBy})
	managed := cache.ByObject{Label: selector}
	// Pod templates are most of a Deployment's or Job's size, and the
	// operator never reads them back: it renders them, and records what it
	// rendered in annotations. The cache keeps everything else.
	slim := cache.ByObject{Label: selector, Transform: stripPodTemplates}
	opts := cache.Options{
		DefaultTransform: cache.TransformStripManagedFields(),
		ByObject: map[client.Object]cache.ByObject{
			&appsv1.Deployment{}:                     slim,
			&corev1.Service{}:                        managed,
			&autoscalingv2.HorizontalPodAutoscaler{}: managed,
			&policyv1.PodDisruptionBudget{}:          managed,
			&networkingv1.Ingress{}:                  managed,
			&batchv1.Job{}:                           slim,
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

// stripPodTemplates drops managedFields and the pod template's spec of
// Deployments and Jobs before they enter the cache.
func stripPodTemplates(obj any) (any, error) {
	switch o := obj.(type) {
	case *appsv1.Deployment:
		o.ManagedFields = nil
		o.Spec.Template.Spec = corev1.PodSpec{}
		o.Status.Conditions = nil
	case *batchv1.Job:
		o.ManagedFields = nil
		o.Spec.Template.Spec = corev1.PodSpec{}
	}
	return obj, nil
}
