package controller

import (
	"context"
	"maps"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
	"github.com/magento-operator/magento-operator/internal/specs"
)

// Rule 13 (docs/api.md): a slot's cron or consumers are gone only when no
// pod of their Deployment exists, terminating ones included. A Deployment's
// status.terminatingReplicas tells that only where the feature gate
// DeploymentReplicaSetTerminatingReplicas is on (by default from Kubernetes
// 1.35); elsewhere a cron pod in its 300 s grace period is counted nowhere.
// So the operator also reads the pods themselves: the metadata of its cron
// and consumer pods only (no specs, no status, no other pods), from a cache
// selected by label, with read-only RBAC (get, list, watch).

// writerComponents are the components whose pods may run in one slot only (rule 3).
var writerComponents = []specs.Component{specs.Cron, specs.Consumer}

// writerPod is the type the operator caches and watches pods as: metadata only.
func writerPod() *metav1.PartialObjectMetadata {
	p := &metav1.PartialObjectMetadata{}
	p.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Pod"))
	return p
}

// writerPodSelector selects the pods the cache keeps: the operator's cron and
// consumer pods (pod templates carry the children's labels).
func writerPodSelector() labels.Selector {
	comps := make([]string, 0, len(writerComponents))
	for _, c := range writerComponents {
		comps = append(comps, string(c))
	}
	managed, err := labels.NewRequirement(specs.LabelManagedBy, selection.Equals, []string{specs.ManagedBy})
	if err != nil {
		panic(err) // constant, valid input
	}
	component, err := labels.NewRequirement(specs.LabelComponent, selection.In, comps)
	if err != nil {
		panic(err)
	}
	return labels.NewSelector().Add(*managed, *component)
}

// releaseOfPod maps a cron or consumer pod to the release named by its
// instance label, in its namespace.
func releaseOfPod(_ context.Context, pod client.Object) []reconcile.Request {
	name := pod.GetLabels()[specs.LabelInstance]
	if name == "" {
		return nil
	}
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: pod.GetNamespace(), Name: name}}}
}

// writerPodHandler reconciles the release a cron or consumer pod belongs to.
var writerPodHandler = handler.EnqueueRequestsFromMapFunc(releaseOfPod)

// writerPodEvents passes the pod events that can change a count: a pod
// created or removed, or relabelled. A pod's status changes, and the
// deletionTimestamp it gets when it starts terminating, change nothing (a
// terminating pod still counts).
var writerPodEvents = builder.WithPredicates(predicate.Funcs{
	UpdateFunc: func(e event.UpdateEvent) bool {
		return !maps.Equal(e.ObjectOld.GetLabels(), e.ObjectNew.GetLabels())
	},
})

// observePods counts the release's cron and consumer pods that exist,
// terminating ones included, by the name of their Deployment, into k.pods.
func (k *children) observePods(ctx context.Context, c client.Reader, rel *v1alpha1.MagentoRelease) error {
	list := &metav1.PartialObjectMetadataList{}
	list.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("PodList"))
	if err := c.List(ctx, list, client.InNamespace(rel.Namespace),
		client.MatchingLabels{specs.LabelInstance: rel.Name, specs.LabelManagedBy: specs.ManagedBy}, client.UnsafeDisableDeepCopy); err != nil {
		return err
	}
	k.pods = map[string]int32{}
	for _, p := range list.Items {
		comp, color := specs.Component(p.Labels[specs.LabelComponent]), v1alpha1.Color(p.Labels[specs.LabelColor])
		if color != v1alpha1.Blue && color != v1alpha1.Green {
			continue
		}
		k.pods[specs.SlotName(rel, comp, color)]++
	}
	return nil
}
