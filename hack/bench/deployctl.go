// The stand-in for the Deployment controller on envtest, which runs none:
// it writes every Deployment's status as rolled out, for the operator's
// releases and the floor's Deployments alike.

package main

import (
	"context"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/magento-operator/magento-operator/test/builder"
)

// fakeDeploymentController plays the Deployment controller: it writes every
// Deployment's status as rolled out at its spec. The function it returns
// stops it.
func (b *bench) fakeDeploymentController() func() {
	ctx, cancel := context.WithCancel(b.ctx)
	work := make(chan *appsv1.Deployment, 10000)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for d := range work {
				// A conflict is not retried here: the change that caused it
				// comes back through the watch, still behind, and is queued.
				_ = builder.RollOut(ctx, b.c, d)
			}
		}()
	}
	go func() {
		defer close(work)
		for ctx.Err() == nil {
			w, err := b.c.Watch(ctx, &appsv1.DeploymentList{})
			if err != nil {
				time.Sleep(time.Second)
				continue
			}
			for ev := range w.ResultChan() {
				d, ok := ev.Object.(*appsv1.Deployment)
				if ok && ev.Type != watch.Deleted && d.Status.ObservedGeneration < d.Generation {
					work <- d
				}
			}
		}
	}()
	return func() { cancel(); wg.Wait() }
}
