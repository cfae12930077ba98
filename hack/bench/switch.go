// Switch latency: one ready release switched back and forth, each switch
// observed by watch, and the floor: a bare client patching the same two
// Services.

package main

import (
	"errors"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
	"github.com/magento-operator/magento-operator/internal/specs"
	"github.com/magento-operator/magento-operator/test/builder"
)

// switchWatchTimeout is how long one switch may take to be seen.
const switchWatchTimeout = time.Minute

// switchLatency flips one ready release n times, and the floor: the same two
// Service patches by a bare client, both observed by watch.
func (b *bench) switchLatency(ns string, n int) error {
	rel := builder.MakeRelease(ns, "shop-0000").Obj()
	// svcLat runs from the trigger PATCH to both Services seen on the
	// target; trigger is that PATCH's round trip (the API server validates
	// the release, CEL rules included); share is what follows it: the
	// operator hearing of the change, deciding and writing the Services.
	var svcLat, statusLat, trigger, share []time.Duration
	target := v1alpha1.Green
	for range n {
		w, err := b.c.Watch(b.ctx, &corev1.ServiceList{}, client.InNamespace(ns))
		if err != nil {
			return err
		}
		rw, err := b.c.Watch(b.ctx, &v1alpha1.MagentoReleaseList{}, client.InNamespace(ns),
			&client.ListOptions{FieldSelector: fields.OneTermEqualSelector("metadata.name", rel.Name)})
		if err != nil {
			w.Stop()
			return err
		}
		svc, status, answered, err := b.switchOnce(w, rw, rel, target)
		w.Stop()
		rw.Stop()
		if err != nil {
			return fmt.Errorf("switch to %s: %w", target, err)
		}
		svcLat, statusLat = append(svcLat, svc), append(statusLat, status)
		trigger = append(trigger, answered)
		share = append(share, svc-answered)
		if err := b.waitConverged(ns, 1, time.Minute); err != nil { // cron and consumers moved
			return err
		}
		target = target.Other()
	}
	floor, err := b.floorSwitches(n)
	if err != nil {
		return err
	}
	p50, p99 := percentile(svcLat, 50), percentile(svcLat, 99)
	f50, f99 := percentile(floor, 50), percentile(floor, 99)
	s50, s99 := percentile(share, 50), percentile(share, 99)
	b.row(fmt.Sprintf("switch latency p50 / p99 (%d switches): trigger PATCH sent → both Services on the target", n),
		fmt.Sprintf("%s / %s", ms(p50), ms(p99)), "p99 ≤ 40 ms")
	b.row("  of which the trigger PATCH's round trip, p50 / p99", fmt.Sprintf("%s / %s", ms(percentile(trigger, 50)), ms(percentile(trigger, 99))), "")
	b.row("  of which the operator: trigger answered → both Services on the target, p50 / p99", fmt.Sprintf("%s / %s", ms(s50), ms(s99)),
		fmt.Sprintf("p50 ≤ 1.5× floor (%.2f×)", float64(s50)/float64(f50)))
	b.row("floor: bare client, same two Service patches, p50 / p99", fmt.Sprintf("%s / %s", ms(f50), ms(f99)), "")
	b.row("status.activeColor written, after the Services flip, p50 / p99",
		fmt.Sprintf("%s / %s", ms(percentile(statusLat, 50)-p50), ms(percentile(statusLat, 99)-p99)), "within 20 ms")
	return nil
}

// switchOnce patches rel's spec.activeColor to target and times, from the
// patch sent, both Services seen on target (on w) and the status saying so
// (on rw); answered is the patch's round trip.
func (b *bench) switchOnce(w, rw watch.Interface, rel *v1alpha1.MagentoRelease, target v1alpha1.Color) (svc, status, answered time.Duration, err error) {
	r, err := builder.Get(b.ctx, b.c, rel)
	if err != nil {
		return 0, 0, 0, err
	}
	start := time.Now()
	if err := b.c.Patch(b.ctx, r, client.RawPatch(types.MergePatchType, []byte(`{"spec":{"activeColor":"`+string(target)+`"}}`))); err != nil {
		return 0, 0, 0, err
	}
	answered = time.Since(start)
	var svcErr, statusErr error
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		svc, svcErr = waitServices(w, rel.Name, string(target), start)
	}()
	go func() {
		defer wg.Done()
		status, statusErr = waitStatus(rw, target, start)
	}()
	wg.Wait()
	return svc, status, answered, errors.Join(svcErr, statusErr)
}

// waitServices returns when <name> and <name>-php-fpm both select color.
func waitServices(w watch.Interface, name, color string, start time.Time) (time.Duration, error) {
	seen := map[string]bool{}
	err := watchUntil(w, func(o runtime.Object) bool {
		s, ok := o.(*corev1.Service)
		if !ok || (s.Name != name && s.Name != name+"-php-fpm") {
			return false
		}
		seen[s.Name] = s.Spec.Selector[specs.LabelColor] == color
		return seen[name] && seen[name+"-php-fpm"]
	})
	if err != nil {
		return 0, fmt.Errorf("waiting for Services %s and %s-php-fpm to select %s: %w", name, name, color, err)
	}
	return time.Since(start), nil
}

// waitStatus returns when the release's status.activeColor is color.
func waitStatus(w watch.Interface, color v1alpha1.Color, start time.Time) (time.Duration, error) {
	err := watchUntil(w, func(o runtime.Object) bool {
		r, ok := o.(*v1alpha1.MagentoRelease)
		return ok && r.Status.ActiveColor == color
	})
	if err != nil {
		return 0, fmt.Errorf("waiting for status.activeColor %s: %w", color, err)
	}
	return time.Since(start), nil
}

// watchUntil reads w until done holds for an object it sends. It fails when
// w ends or sends an error first, or switchWatchTimeout passes: no time is
// taken then.
func watchUntil(w watch.Interface, done func(runtime.Object) bool) error {
	timeout := time.NewTimer(switchWatchTimeout)
	defer timeout.Stop()
	for {
		select {
		case ev, open := <-w.ResultChan():
			switch {
			case !open:
				return errors.New("the watch was closed")
			case ev.Type == watch.Error:
				return fmt.Errorf("the watch failed: %w", apierrors.FromObject(ev.Object))
			case done(ev.Object):
				return nil
			}
		case <-timeout.C:
			return fmt.Errorf("not seen within %s", switchWatchTimeout)
		}
	}
}

// floorSwitches has a bare client patch the selectors of two Services like
// the release's n times, each timed until both are seen on the target.
func (b *bench) floorSwitches(n int) ([]time.Duration, error) {
	ns, err := b.namespace("floor-switch")
	if err != nil {
		return nil, err
	}
	for _, name := range []string{"shop", "shop-php-fpm"} {
		s := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: corev1.ServiceSpec{
			Selector: map[string]string{specs.LabelColor: "blue"}, Ports: []corev1.ServicePort{{Port: 80}}}}
		if err := b.c.Create(b.ctx, s); err != nil {
			return nil, err
		}
	}
	out := make([]time.Duration, 0, n)
	color := string(v1alpha1.Green)
	for range n {
		took, err := b.floorSwitch(ns, color)
		if err != nil {
			return nil, fmt.Errorf("floor switch to %s: %w", color, err)
		}
		out = append(out, took)
		color = string(v1alpha1.Color(color).Other())
	}
	return out, nil
}

// floorSwitch patches the floor's two Services in ns to color and times it
// until both are seen there.
func (b *bench) floorSwitch(ns, color string) (time.Duration, error) {
	w, err := b.c.Watch(b.ctx, &corev1.ServiceList{}, client.InNamespace(ns))
	if err != nil {
		return 0, err
	}
	defer w.Stop()
	start := time.Now()
	for _, name := range []string{"shop", "shop-php-fpm"} {
		s := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}
		if err := b.c.Patch(b.ctx, s, client.RawPatch(types.MergePatchType,
			[]byte(`{"spec":{"selector":{"`+specs.LabelColor+`":"`+color+`"}}}`))); err != nil {
			return 0, err
		}
	}
	return waitServices(w, "shop", color, start)
}
