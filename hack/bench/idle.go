// Idle deploys on the simulated cluster, where the real Deployment
// controller rolls the idle slot out, beside the rollouts of bare
// Deployments of the same size as the floor.

package main

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
	"github.com/magento-operator/magento-operator/test/builder"
	"github.com/magento-operator/magento-operator/test/simcluster"
)

// idleReplicas is the size of web and php-fpm in the idle-deploy runs.
const idleReplicas = 3

// idleControllerQPS is kube-controller-manager's client rate in the
// idle-deploy runs. At its default of 20 (burst 30) a rollout is paced by
// that throttle — every pod, ReplicaSet, status write and Event is one
// request — and the runs would time the controller-manager's bucket, for
// the deploys and the floor alike.
const idleControllerQPS = 500

// idleDeploys times new tags deployed to the idle slot on the simulated
// cluster, where the real Deployment controller rolls them out (kwok's pods
// are ready once bound), beside its floor: the Deployment controller
// rolling out a fresh Deployment of the same size in the same cluster.
func (b *bench) idleDeploys(manager string, n int) error {
	opts, err := simcluster.DefaultOptions()
	if err != nil {
		return err
	}
	opts.ControllerQPS = idleControllerQPS
	cluster, err := simcluster.Start(b.ctx, opts)
	if err != nil {
		return err
	}
	defer func() { _ = cluster.Stop() }()
	if err := cluster.InstallCRDs(b.ctx); err != nil {
		return err
	}
	op := cluster.NewOperator(manager)
	if err := op.Start(); err != nil {
		return err
	}
	defer op.Stop()
	cfg := rest.CopyConfig(cluster.Config)
	cfg.QPS = -1 // unthrottled: client-go's default of 5 per second would be what the polls measure
	c, err := client.New(cfg, client.Options{Scheme: newScheme()})
	if err != nil {
		return err
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "idle"}}
	if err := c.Create(b.ctx, ns); err != nil {
		return err
	}
	if err := cluster.WaitForServiceAccount(b.ctx, ns.Name); err != nil {
		return err
	}
	deploys, err := b.timeDeploys(c, ns.Name, n)
	if err != nil {
		return err
	}
	fresh, rolled, inTurn, err := b.timeFresh(c, ns.Name, n)
	if err != nil {
		return err
	}
	p50, f50, t50 := percentile(deploys, 50), percentile(fresh, 50), percentile(inTurn, 50)
	b.row(fmt.Sprintf("new tag → idle slot ready, p50 / p90 (%d deploys, %d web + %d php-fpm)", n, idleReplicas, idleReplicas),
		fmt.Sprintf("%s / %s", ms(p50), ms(percentile(deploys, 90))),
		fmt.Sprintf("p50 ≤ 1.3× floor (%.2f×; %.2f× two rollouts in turn)", float64(p50)/float64(f50), float64(p50)/float64(t50)))
	b.row(fmt.Sprintf("floor: the Deployment controller, a fresh Deployment of %d → available, p50 / p90", idleReplicas),
		fmt.Sprintf("%s / %s", ms(f50), ms(percentile(fresh, 90))), "")
	b.row("  the same Deployment rolled to a new image (maxSurge 100%) → available, p50 / p90",
		fmt.Sprintf("%s / %s", ms(percentile(rolled, 50)), ms(percentile(rolled, 90))), "")
	b.row("  two such Deployments rolled one after the other, as php-fpm then nginx, p50 / p90",
		fmt.Sprintf("%s / %s", ms(t50), ms(percentile(inTurn, 90))), "")
	return nil
}

// timeDeploys deploys n new tags to the idle slot of a release of
// idleReplicas web and php-fpm pods, one after the other, and times each
// from the patch until the status says the slot is ready at the new tag.
func (b *bench) timeDeploys(c client.Client, ns string, n int) ([]time.Duration, error) {
	r := builder.MakeRelease(ns, "shop").Green("main-2").WebPort(8080).Replicas(idleReplicas, idleReplicas).
		Pods(simcluster.PodTolerations, simcluster.PodNodeSelector).Obj()
	if err := c.Create(b.ctx, r); err != nil {
		return nil, err
	}
	key := client.ObjectKeyFromObject(r)
	if err := waitRelease(b.ctx, c, key, 2*time.Minute, func(r *v1alpha1.MagentoRelease) bool {
		return r.Status.Green != nil && r.Status.Green.Ready && r.Status.Blue != nil && r.Status.Blue.Ready
	}); err != nil {
		return nil, err
	}
	var deploys []time.Duration
	for i := range n {
		tag := fmt.Sprintf("main-%d", i+3)
		start := time.Now()
		if err := c.Patch(b.ctx, r, client.RawPatch(types.MergePatchType, []byte(`{"spec":{"green":{"tag":"`+tag+`"}}}`))); err != nil {
			return nil, err
		}
		if err := waitRelease(b.ctx, c, key, 2*time.Minute, func(r *v1alpha1.MagentoRelease) bool {
			return r.Status.Green != nil && r.Status.Green.Tag == tag && r.Status.Green.Ready
		}); err != nil {
			return nil, err
		}
		deploys = append(deploys, time.Since(start)) // from the patch
	}
	return deploys, nil
}

// timeFresh times the floors n times: the Deployment controller rolling
// out a new Deployment of idleReplicas pods; that Deployment rolled to a new
// image, as a deploy rolls each of web and php-fpm; and two such Deployments
// rolled one after the other, as a deploy rolls php-fpm and then nginx.
func (b *bench) timeFresh(c client.Client, ns string, n int) (fresh, rolled, inTurn []time.Duration, err error) {
	for i := range n {
		first, second := floorDeployment(ns, fmt.Sprintf("fresh-%d", i)), floorDeployment(ns, fmt.Sprintf("second-%d", i))
		start := time.Now()
		if err := c.Create(b.ctx, first); err != nil {
			return nil, nil, nil, err
		}
		if err := b.waitAvailable(c, first); err != nil {
			return nil, nil, nil, err
		}
		fresh = append(fresh, time.Since(start))
		start = time.Now()
		if err := b.roll(c, first, "main-2"); err != nil {
			return nil, nil, nil, err
		}
		rolled = append(rolled, time.Since(start))
		if err := c.Create(b.ctx, second); err != nil {
			return nil, nil, nil, err
		}
		if err := b.waitAvailable(c, second); err != nil {
			return nil, nil, nil, err
		}
		start = time.Now()
		for _, d := range []*appsv1.Deployment{first, second} {
			if err := b.roll(c, d, "main-3"); err != nil {
				return nil, nil, nil, err
			}
		}
		inTurn = append(inTurn, time.Since(start))
		for _, d := range []*appsv1.Deployment{first, second} {
			if err := c.Delete(b.ctx, d); err != nil {
				return nil, nil, nil, err
			}
		}
	}
	return fresh, rolled, inTurn, nil
}

// floorDeployment is a Deployment of idleReplicas pods that rolls out the
// way the operator's idle slot does (maxSurge 100 %, maxUnavailable 0).
func floorDeployment(ns, name string) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](idleReplicas),
			Strategy: appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType, RollingUpdate: &appsv1.RollingUpdateDeployment{
				MaxSurge: ptr.To(intstr.FromString("100%")), MaxUnavailable: ptr.To(intstr.FromInt32(0))}},
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"floor": name}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"floor": name}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "nginx", Image: "registry.example.com/shop/nginx:main-1"}},
					Tolerations: simcluster.PodTolerations, NodeSelector: simcluster.PodNodeSelector},
			},
		},
	}
}

// roll sets d's image tag and waits until it is rolled out.
func (b *bench) roll(c client.Client, d *appsv1.Deployment, tag string) error {
	if err := c.Patch(b.ctx, d, client.RawPatch(types.StrategicMergePatchType,
		[]byte(`{"spec":{"template":{"spec":{"containers":[{"name":"nginx","image":"registry.example.com/shop/nginx:`+tag+`"}]}}}}`))); err != nil {
		return err
	}
	return b.waitAvailable(c, d)
}

// waitAvailable waits until d is rolled out at its generation, all
// idleReplicas pods updated and available, and no old one left.
func (b *bench) waitAvailable(c client.Client, d *appsv1.Deployment) error {
	return poll(b.ctx, 2*time.Minute, func() (bool, error) {
		if err := c.Get(b.ctx, client.ObjectKeyFromObject(d), d); err != nil {
			return false, err
		}
		s := d.Status
		return s.ObservedGeneration >= d.Generation && s.AvailableReplicas == idleReplicas && s.UpdatedReplicas == idleReplicas &&
			s.Replicas == idleReplicas, nil
	})
}

// pollInterval is how often the idle-deploy runs look: fine enough for
// rollouts of about a second.
const pollInterval = 10 * time.Millisecond

// waitRelease polls the release until ok holds.
func waitRelease(ctx context.Context, c client.Client, key client.ObjectKey, timeout time.Duration,
	ok func(*v1alpha1.MagentoRelease) bool) error {
	return poll(ctx, timeout, func() (bool, error) {
		r := &v1alpha1.MagentoRelease{}
		if err := c.Get(ctx, key, r); err != nil {
			return false, err
		}
		return ok(r), nil
	})
}

// poll runs done every pollInterval until it says so, fails, or timeout passes.
func poll(ctx context.Context, timeout time.Duration, done func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		ok, err := done()
		if err != nil || ok {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pollInterval):
		}
	}
	return fmt.Errorf("not done within %s", timeout)
}
