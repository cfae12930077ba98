package controller

import (
	"context"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
	"github.com/magento-operator/magento-operator/internal/bluegreen"
	"github.com/magento-operator/magento-operator/internal/specs"
)

// children are the objects a release owns, by name, read from the cache.
type children struct {
	deployments map[string]*appsv1.Deployment
	services    map[string]*corev1.Service
	hpas        map[string]*autoscalingv2.HorizontalPodAutoscaler
	pdbs        map[string]*policyv1.PodDisruptionBudget
	ingresses   map[string]*networkingv1.Ingress
	jobs        map[string]*batchv1.Job

	// pods counts the cron and consumer pods that exist, terminating ones
	// included, by the name of their Deployment (rule 13; see pods.go).
	pods map[string]int32
}

// observe lists the release's children: labelled with its instance and
// controlled by it.
func (r *MagentoReleaseReconciler) observe(ctx context.Context, rel *v1alpha1.MagentoRelease) (*children, error) {
	opts := []client.ListOption{
		client.InNamespace(rel.Namespace),
		client.MatchingLabels{specs.LabelInstance: rel.Name, specs.LabelManagedBy: specs.ManagedBy},
		// The cache's own objects, not copies: every pass reads all of a
		// release's children, and copying them was most of what a pass
		// allocated. Nothing may change them: a write starts from a
		// DeepCopy (ensure, deploymentWrites, startJob).
		client.UnsafeDisableDeepCopy,
	}
	k := &children{}
	var err error
	if k.deployments, err = list[*appsv1.Deployment](ctx, r.Client, rel, &appsv1.DeploymentList{}, opts); err != nil {
		return nil, err
	}
	if k.services, err = list[*corev1.Service](ctx, r.Client, rel, &corev1.ServiceList{}, opts); err != nil {
		return nil, err
	}
	if k.hpas, err = list[*autoscalingv2.HorizontalPodAutoscaler](ctx, r.Client, rel, &autoscalingv2.HorizontalPodAutoscalerList{}, opts); err != nil {
		return nil, err
	}
	if k.pdbs, err = list[*policyv1.PodDisruptionBudget](ctx, r.Client, rel, &policyv1.PodDisruptionBudgetList{}, opts); err != nil {
		return nil, err
	}
	if k.ingresses, err = list[*networkingv1.Ingress](ctx, r.Client, rel, &networkingv1.IngressList{}, opts); err != nil {
		return nil, err
	}
	if k.jobs, err = list[*batchv1.Job](ctx, r.Client, rel, &batchv1.JobList{}, opts); err != nil {
		return nil, err
	}

	// Rule 13: the cron and consumer pods that still exist (pods.go).
	if err := k.observePods(ctx, r.Client, rel); err != nil {
		return nil, err
	}
	return k, nil
}

// list returns the items of a list kind, selected by rel's labels, that rel
// controls or that have no controller at all: its orphans (left by a delete
// with --cascade=orphan), which the apply adopts (rule 11). Objects another
// owner controls are never the release's, whatever their labels.
func list[T client.Object](ctx context.Context, c client.Client, rel *v1alpha1.MagentoRelease, l client.ObjectList,
	opts []client.ListOption) (map[string]T, error) {
	if err := c.List(ctx, l, opts...); err != nil {
		return nil, err
	}
	out := map[string]T{}
	err := meta.EachListItem(l, func(o runtime.Object) error {
		if obj, ok := o.(T); ok && (metav1.IsControlledBy(obj, rel) || metav1.GetControllerOf(obj) == nil) {
			out[obj.GetName()] = obj
		}
		return nil
	})
	return out, err
}

// input turns what was observed into the decision's input.
func (k *children) input(rel *v1alpha1.MagentoRelease, now metav1.Time) bluegreen.Input {
	in := bluegreen.Input{Release: rel, Now: now.Time, Slots: map[v1alpha1.Color]bluegreen.SlotObservation{}}
	for _, color := range v1alpha1.Colors {
		obs := bluegreen.SlotObservation{Deployments: map[specs.Component]*bluegreen.DeploymentState{}}
		for _, comp := range specs.SlotComponents {
			d := k.deployments[specs.SlotName(rel, comp, color)]
			if d == nil {
				continue
			}
			obs.Deployments[comp] = deploymentState(d, k.pods[d.Name])
			if outdated(rel, color, comp, d) {
				obs.Outdated = true
			}
		}
		obs.Service = k.services[specs.SlotName(rel, specs.PHPFPM, color)] != nil
		in.Slots[color] = obs
	}
	in.Jobs = map[string]bluegreen.JobState{}
	for name, j := range k.jobs {
		in.Jobs[name] = jobState(j)
	}
	in.Owned = map[string]bool{}
	for name := range k.services {
		in.Owned["Service/"+name] = true
	}
	for name := range k.ingresses {
		in.Owned["Ingress/"+name] = true
	}
	web, fpm := k.services[specs.ActiveServiceName(rel, specs.Web)], k.services[specs.ActiveServiceName(rel, specs.PHPFPM)]
	if web != nil && fpm != nil && specs.ServiceColor(web) == specs.ServiceColor(fpm) {
		in.Traffic.Selects = specs.ServiceColor(web)
	}
	for _, s := range []*corev1.Service{web, fpm} {
		if sw, ok := specs.ServiceSwitch(s); ok {
			in.Traffic.Switches = append(in.Traffic.Switches, sw)
		}
	}
	return in
}

// jobState reads a Job's outcome off its conditions.
func jobState(j *batchv1.Job) bluegreen.JobState {
	state, _ := jobOutcome(j)
	return state
}

// jobOutcome reads a Job's outcome off its conditions, and when it finished
// (zero while it runs).
func jobOutcome(j *batchv1.Job) (bluegreen.JobState, time.Time) {
	for _, c := range j.Status.Conditions {
		if c.Status != corev1.ConditionTrue {
			continue
		}
		switch c.Type {
		case batchv1.JobComplete:
			return bluegreen.JobSucceeded, c.LastTransitionTime.Time
		case batchv1.JobFailed:
			return bluegreen.JobFailed, c.LastTransitionTime.Time
		}
	}
	return bluegreen.JobRunning, time.Time{}
}

// deploymentState reads rule 1 (docs/api.md) off a Deployment; pods is the
// number of its pods the pod cache holds (cron and consumers only).
func deploymentState(d *appsv1.Deployment, pods int32) *bluegreen.DeploymentState {
	want := ptr.Deref(d.Spec.Replicas, 1)
	s := d.Status
	current := s.ObservedGeneration >= d.Generation
	return &bluegreen.DeploymentState{
		Version:      specs.RenderedVersion(d),
		SpecReplicas: want,
		// Rule 13: status.terminatingReplicas is only filled in where a
		// feature gate is on; the pods the operator sees count too.
		Pods:    max(s.Replicas+ptr.Deref(s.TerminatingReplicas, 0), pods),
		Current: current,
		Ready:   current && s.UpdatedReplicas == want && s.AvailableReplicas == want && s.Replicas == want,
	}
}

// outdated tells whether the spec's shared settings would render another pod
// template at the version the Deployment runs.
func outdated(rel *v1alpha1.MagentoRelease, color v1alpha1.Color, comp specs.Component, d *appsv1.Deployment) bool {
	tmpl, err := specs.PodTemplate(rel, color, comp, specs.RenderedVersion(d))
	if err != nil {
		return false
	}
	return specs.TemplateHash(tmpl) != d.Annotations[specs.AnnotationTemplateHash]
}
