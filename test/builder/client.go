package builder

import (
	"context"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
	"github.com/magento-operator/magento-operator/internal/specs"
)

// Get reads the release again.
func Get(ctx context.Context, c client.Reader, rel *v1alpha1.MagentoRelease) (*v1alpha1.MagentoRelease, error) {
	out := &v1alpha1.MagentoRelease{}
	err := c.Get(ctx, client.ObjectKeyFromObject(rel), out)
	return out, err
}

// Change applies mutate to the newest release and writes it, reading it
// again and retrying when someone else wrote it in between.
func Change(ctx context.Context, c client.Client, rel *v1alpha1.MagentoRelease, mutate func(*v1alpha1.MagentoRelease)) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cur, err := Get(ctx, c, rel)
		if err != nil {
			return err
		}
		mutate(cur)
		return c.Update(ctx, cur)
	})
}

// Deployment reads a slot's Deployment of the release; nil when it does
// not exist (or cannot be read).
func Deployment(ctx context.Context, c client.Reader, rel *v1alpha1.MagentoRelease, comp specs.Component, color v1alpha1.Color) *appsv1.Deployment {
	d := &appsv1.Deployment{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: rel.Namespace, Name: specs.SlotName(rel, comp, color)}, d); err != nil {
		return nil
	}
	return d
}

// Service reads a Service in the release's namespace; nil when it does not
// exist (or cannot be read).
func Service(ctx context.Context, c client.Reader, rel *v1alpha1.MagentoRelease, name string) *corev1.Service {
	s := &corev1.Service{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: rel.Namespace, Name: name}, s); err != nil {
		return nil
	}
	return s
}

// ServicesColor is the slot that <name> and <name>-php-fpm select: "" when
// either is missing, "mixed" when they differ.
func ServicesColor(ctx context.Context, c client.Reader, rel *v1alpha1.MagentoRelease) string {
	web := Service(ctx, c, rel, specs.ActiveServiceName(rel, specs.Web))
	fpm := Service(ctx, c, rel, specs.ActiveServiceName(rel, specs.PHPFPM))
	if web == nil || fpm == nil {
		return ""
	}
	if specs.ServiceColor(web) != specs.ServiceColor(fpm) {
		return "mixed"
	}
	return string(specs.ServiceColor(web))
}

// RollOut writes d's status as the Deployment controller would once all its
// pods at spec.replicas are updated and available: the stand-in for that
// controller where none runs (envtest), shared by the suites and the bench.
func RollOut(ctx context.Context, c client.Client, d *appsv1.Deployment) error {
	n := ptr.Deref(d.Spec.Replicas, 1)
	d.Status = appsv1.DeploymentStatus{
		ObservedGeneration: d.Generation,
		Replicas:           n, UpdatedReplicas: n, ReadyReplicas: n, AvailableReplicas: n,
		TerminatingReplicas: ptr.To[int32](0),
	}
	return c.Status().Update(ctx, d)
}

// RolledOut tells whether d's status, as RollOut writes it, shows all its
// pods at spec.replicas updated and available for its newest generation.
func RolledOut(d *appsv1.Deployment) bool {
	n, s := ptr.Deref(d.Spec.Replicas, 1), d.Status
	return s.ObservedGeneration >= d.Generation && s.Replicas == n && s.UpdatedReplicas == n && s.AvailableReplicas == n
}

// Image is the image of d's first container; "" for no Deployment.
func Image(d *appsv1.Deployment) string {
	if d == nil {
		return ""
	}
	return d.Spec.Template.Spec.Containers[0].Image
}

// Replicas is d's spec.replicas; -1 for no Deployment.
func Replicas(d *appsv1.Deployment) int32 {
	if d == nil {
		return -1
	}
	return ptr.Deref(d.Spec.Replicas, 1)
}
