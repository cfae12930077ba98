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
// are cached, and no object keeps its managedFields. namespaces limits the
// cache to those namespaces; empty means all.
func CacheOptions(namespaces []string) cache.Options {
	managed := cache.ByObject{Label: labels.SelectorFromSet(labels.Set{specs.LabelManagedBy: specs.ManagedBy})}
	opts := cache.Options{
		DefaultTransform: cache.TransformStripManagedFields(),
		ByObject: map[client.Object]cache.ByObject{
			&appsv1.Deployment{}:                     managed,
			&corev1.Service{}:                        managed,
			&autoscalingv2.HorizontalPodAutoscaler{}: managed,
			&policyv1.PodDisruptionBudget{}:          managed,
			&networkingv1.Ingress{}:                  managed,
			&batchv1.Job{}:                           managed,
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
