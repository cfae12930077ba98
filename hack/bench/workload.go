// The convergence workload: releases created at once for the operator, the
// same writes by a bare client as the floor, waiting for convergence and
// clearing up between sizes.

package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
	"github.com/magento-operator/magento-operator/internal/specs"
	"github.com/magento-operator/magento-operator/test/builder"
)

// createReleases creates n releases with both slots in ns, 16 at once.
func (b *bench) createReleases(ns string, n int) error {
	return parallel(n, 16, func(i int) error {
		return b.c.Create(b.ctx, builder.MakeRelease(ns, fmt.Sprintf("shop-%04d", i)).Green("main-2").WebPort(8080).Obj())
	})
}

// waitConverged waits until n releases in ns have their status written,
// Ready, and every child (17 per release with both slots) exists.
func (b *bench) waitConverged(ns string, n int, timeout time.Duration) error {
	start := time.Now()
	for time.Since(start) < timeout {
		list := &v1alpha1.MagentoReleaseList{}
		if err := b.c.List(b.ctx, list, client.InNamespace(ns)); err != nil {
			return err
		}
		done := 0
		for _, r := range list.Items {
			if r.Status.ObservedGeneration == r.Generation && meta.IsStatusConditionTrue(r.Status.Conditions, v1alpha1.ConditionReady) &&
				meta.IsStatusConditionFalse(r.Status.Conditions, v1alpha1.ConditionProgressing) &&
				r.Status.Green != nil && r.Status.Green.Ready {
				done++
			}
		}
		if done == n {
			return nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("%s: releases did not converge within %s", ns, timeout)
}

// convergence creates n releases at once and times them against a bare
// client creating the same children with the same concurrency. It returns
// the namespaces it filled.
func (b *bench) convergence(n int) ([]string, error) {
	ns, err := b.namespace(fmt.Sprintf("conv-%d", n))
	if err != nil {
		return nil, err
	}
	cpu0, cpuErr0 := b.cpuSeconds()
	start := time.Now()
	if err := b.createReleases(ns, n); err != nil {
		return nil, err
	}
	if err := b.waitConverged(ns, n, 20*time.Minute); err != nil {
		return nil, err
	}
	took := time.Since(start)
	cpu1, cpuErr1 := b.cpuSeconds()
	if err := errors.Join(cpuErr0, cpuErr1); err != nil {
		return nil, err
	}

	floorNS, err := b.namespace(fmt.Sprintf("floor-%d", n))
	if err != nil {
		return nil, err
	}
	floorStart := time.Now()
	if err := b.floorCreate(floorNS, n); err != nil {
		return nil, err
	}
	floor := time.Since(floorStart)
	b.row(fmt.Sprintf("convergence, %d releases created at once", n),
		fmt.Sprintf("%s (floor %s, %.2f×), %.1f CPU s", took.Round(10*time.Millisecond), floor.Round(10*time.Millisecond),
			took.Seconds()/floor.Seconds(), cpu1-cpu0), "≤ 1.3× floor at 1,000")
	return []string{ns, floorNS}, nil
}

// clear deletes everything the convergence runs created in namespaces.
func (b *bench) clear(namespaces []string) error {
	kinds := []client.Object{&v1alpha1.MagentoRelease{}, &appsv1.Deployment{}, &corev1.ConfigMap{}, &policyv1.PodDisruptionBudget{}}
	for _, ns := range namespaces {
		for _, k := range kinds {
			if err := b.c.DeleteAllOf(b.ctx, k, client.InNamespace(ns)); err != nil {
				return err
			}
		}
		services := &corev1.ServiceList{}
		if err := b.c.List(b.ctx, services, client.InNamespace(ns)); err != nil {
			return err
		}
		if err := parallel(len(services.Items), 8, func(i int) error { return client.IgnoreNotFound(b.c.Delete(b.ctx, &services.Items[i])) }); err != nil {
			return err
		}
	}
	return nil
}

// floorCreate does, with a bare client and b.workers at once, the writes the
// operator's convergence takes per release: the release (a ConfigMap holding
// it stands in, as the operator would reconcile a real one), its children
// (rendered by the same builders) and the status write (a ConfigMap update).
func (b *bench) floorCreate(ns string, n int) error {
	return parallel(n, b.workers, func(i int) error {
		// The web port the API server defaults, for the builders.
		r := builder.MakeRelease(ns, fmt.Sprintf("floor-%04d", i)).Green("main-2").WebPort(8080).Obj()
		raw, err := json.Marshal(r)
		if err != nil {
			return err
		}
		stand := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: r.Name, Namespace: ns}, Data: map[string]string{"release": string(raw)}}
		if err := b.c.Create(b.ctx, stand); err != nil {
			return err
		}
		objs, err := children(r)
		if err != nil {
			return err
		}
		// As the operator does: a slot's Deployments at once, the rest in turn.
		for len(objs) > 0 {
			n := 1
			for n < len(objs) && isDeployment(objs[0]) && isDeployment(objs[n]) {
				n++
			}
			batch := objs[:n]
			if err := parallel(n, n, func(j int) error { return b.c.Create(b.ctx, batch[j]) }); err != nil {
				return err
			}
			objs = objs[n:]
		}
		stand.Data["status"] = `{"activeColor":"blue"}`
		return b.c.Update(b.ctx, stand)
	})
}

func isDeployment(o client.Object) bool { _, ok := o.(*appsv1.Deployment); return ok }

// children are the objects the operator makes for r, blue active.
func children(r *v1alpha1.MagentoRelease) ([]client.Object, error) {
	var out []client.Object
	for _, color := range v1alpha1.Colors {
		for _, comp := range specs.SlotComponents {
			d, err := specs.Deployment(r, color, comp, *r.Spec.Slot(color), 1)
			if err != nil {
				return nil, err
			}
			out = append(out, d)
		}
		out = append(out, specs.SlotService(r, color), specs.PDB(r, color, specs.Web), specs.PDB(r, color, specs.PHPFPM))
	}
	live := specs.Switch{Color: v1alpha1.Blue}
	out = append(out, specs.ActiveService(r, specs.Web, live), specs.ActiveService(r, specs.PHPFPM, live),
		specs.PreviewService(r, v1alpha1.Green))
	for _, o := range out {
		o.SetOwnerReferences(nil) // the floor has no UID to point at; ownership is not what is timed
		labels := o.GetLabels()
		delete(labels, specs.LabelManagedBy) // keep the floor's objects out of the operator's cache
		o.SetLabels(labels)
	}
	return out, nil
}

// parallel runs f(0) … f(n-1) on workers goroutines and returns the first
// error, once all are done.
func parallel(n, workers int, f func(int) error) error {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
		next = make(chan int)
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := f(i); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	if len(errs) > 0 {
		return errs[0]
	}
	return nil
}
