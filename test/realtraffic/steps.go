// This file holds the steps scenarios are made of: deploy, switch, a
// switch held or moved back, idle scale-down, a killed operator, a wait.

package realtraffic

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
	"github.com/magento-operator/magento-operator/internal/specs"
)

// Switch asks for a switch to the other slot, marks the moment the Services
// move ("switched blue->green 3") and waits until the release is Ready there.
func Switch(n int) Step {
	return func(ctx context.Context, e Env, rel *v1alpha1.MagentoRelease, mark func(string) error) error {
		_, to, err := e.switchOver(ctx, rel, n, mark)
		if err != nil {
			return err
		}
		return e.waitFor(ctx, "release Ready on "+string(to), func() (bool, error) { return e.ready(ctx, rel, to) })
	}
}

// switchOver asks for a switch to the slot that does not serve ("asked
// blue->green n") and marks the moment both Services select it
// ("switched blue->green n").
func (e Env) switchOver(ctx context.Context, rel *v1alpha1.MagentoRelease, n int, mark func(string) error) (from, to v1alpha1.Color, err error) {
	cur, err := e.get(ctx, rel)
	if err != nil {
		return "", "", err
	}
	from = cur.Status.ActiveColor
	to = from.Other()
	if err := mark(fmt.Sprintf("asked %s->%s %d", from, to, n)); err != nil {
		return "", "", err
	}
	if err := e.change(ctx, rel, func(r *v1alpha1.MagentoRelease) { r.Spec.ActiveColor = to }); err != nil {
		return "", "", err
	}
	if err := e.waitFor(ctx, "Services on "+string(to), func() (bool, error) { return e.servicesOn(ctx, rel, to) }); err != nil {
		return "", "", err
	}
	return from, to, mark(fmt.Sprintf("switched %s->%s %d", from, to, n))
}

// Wait lets the load run for d in a step of its own.
func Wait(name string, d time.Duration) Step {
	return func(ctx context.Context, _ Env, _ *v1alpha1.MagentoRelease, mark func(string) error) error {
		if err := mark(name); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(d):
			return nil
		}
	}
}

// ScaleDownIdle asks for the idle slot to be scaled down now and waits
// until its web pods are gone: from then on no request can reach the slot
// (only its own nginx talks to its php-fpm), whose php-fpm pods may still
// be draining when the next step begins.
func ScaleDownIdle(n int) Step {
	return func(ctx context.Context, e Env, rel *v1alpha1.MagentoRelease, mark func(string) error) error {
		if err := mark(fmt.Sprintf("scale-down %d", n)); err != nil {
			return err
		}
		if err := e.change(ctx, rel, func(r *v1alpha1.MagentoRelease) {
			if r.Annotations == nil {
				r.Annotations = map[string]string{}
			}
			r.Annotations[v1alpha1.AnnotationScaleDownIdle] = time.Now().UTC().Add(time.Second).Format(time.RFC3339)
		}); err != nil {
			return err
		}
		return e.waitFor(ctx, "idle slot scaled down", func() (bool, error) {
			cur, err := e.get(ctx, rel)
			if err != nil {
				return false, err
			}
			idle := cur.Status.SlotStatus(cur.Status.ActiveColor.Other())
			return idle != nil && idle.State == v1alpha1.SlotScaledDown && e.noPods(ctx, rel, cur.Status.ActiveColor.Other(), specs.Web), nil
		})
	}
}

// Deploy deploys tag to the slot that does not serve and waits until it is
// ready as the preview.
func Deploy(tag string) Step {
	return func(ctx context.Context, e Env, rel *v1alpha1.MagentoRelease, mark func(string) error) error {
		if err := mark("deploy " + tag); err != nil {
			return err
		}
		var idle v1alpha1.Color
		if err := e.change(ctx, rel, func(r *v1alpha1.MagentoRelease) {
			idle = r.Status.ActiveColor.Other()
			s := &v1alpha1.Slot{Tag: tag}
			if idle == v1alpha1.Blue {
				r.Spec.Blue = s
			} else {
				r.Spec.Green = s
			}
		}); err != nil {
			return err
		}
		return e.waitFor(ctx, tag+" ready on "+string(idle), func() (bool, error) {
			cur, err := e.get(ctx, rel)
			if err != nil {
				return false, err
			}
			st := cur.Status.SlotStatus(idle)
			return cur.Status.ObservedGeneration == cur.Generation && st != nil && st.Tag == tag && st.Ready, nil
		})
	}
}

// HeldSwitch deploys tag (one whose pods never become ready) to the slot
// that does not serve, asks for the switch, checks for hold that traffic
// stays, then calls the switch off.
func HeldSwitch(tag string, hold time.Duration) Step {
	return func(ctx context.Context, e Env, rel *v1alpha1.MagentoRelease, mark func(string) error) error {
		cur, err := e.get(ctx, rel)
		if err != nil {
			return err
		}
		serving := cur.Status.ActiveColor
		if err := mark("bad deploy " + tag); err != nil {
			return err
		}
		if err := e.change(ctx, rel, func(r *v1alpha1.MagentoRelease) {
			s := &v1alpha1.Slot{Tag: tag}
			if serving == v1alpha1.Blue {
				r.Spec.Green = s
			} else {
				r.Spec.Blue = s
			}
			r.Spec.ActiveColor = serving.Other()
		}); err != nil {
			return err
		}
		deadline := time.Now().Add(hold)
		for time.Now().Before(deadline) {
			on, err := e.servicesOn(ctx, rel, serving)
			if err != nil {
				return err
			}
			if !on {
				return fmt.Errorf("traffic left %s for a slot running %s, which is not ready", serving, tag)
			}
			time.Sleep(200 * time.Millisecond)
		}
		if err := mark("called off " + tag); err != nil {
			return err
		}
		return e.change(ctx, rel, func(r *v1alpha1.MagentoRelease) { r.Spec.ActiveColor = serving })
	}
}

// KillOperator deletes the operator's pods (its Deployment starts new ones).
func KillOperator(namespace string, selector map[string]string) Step {
	return func(ctx context.Context, e Env, _ *v1alpha1.MagentoRelease, mark func(string) error) error {
		if err := mark("operator killed"); err != nil {
			return err
		}
		grace := int64(0)
		return e.Client.DeleteAllOf(ctx, &corev1.Pod{}, client.InNamespace(namespace), client.MatchingLabels(selector),
			&client.DeleteAllOfOptions{DeleteOptions: client.DeleteOptions{GracePeriodSeconds: &grace}})
	}
}

// SwitchedBack deploys tag (one whose pages break once it takes traffic) to
// the slot that does not serve, switches to it, and waits until the
// operator's checks see the failure and move traffic back; then it calls
// the switch off. Steps: "asked", "switched <from>-><to> n" (from the
// Services' move to the move back: the only step where requests may fail),
// "traffic back on <from>".
func SwitchedBack(tag string, n int) Step {
	return func(ctx context.Context, e Env, rel *v1alpha1.MagentoRelease, mark func(string) error) error {
		if err := Deploy(tag)(ctx, e, rel, mark); err != nil {
			return err
		}
		from, _, err := e.switchOver(ctx, rel, n, mark)
		if err != nil {
			return err
		}
		if err := e.waitFor(ctx, "Services back on "+string(from), func() (bool, error) { return e.servicesOn(ctx, rel, from) }); err != nil {
			return err
		}
		if err := mark("traffic back on " + string(from)); err != nil {
			return err
		}
		// Cron and consumers had just started in the broken slot when traffic
		// left it: they must stop as promptly as ever, or the other slot's
		// wait for them (rule 3) for their whole grace period.
		quick := e
		quick.Timeout = time.Minute
		if err := quick.waitFor(ctx, "the broken slot's cron and consumer pods to be gone", func() (bool, error) {
			to := from.Other()
			return e.noPods(ctx, rel, to, specs.Cron) && e.noPods(ctx, rel, to, specs.Consumer), nil
		}); err != nil {
			return err
		}
		if err := e.waitFor(ctx, "Degraded VerificationFailed", func() (bool, error) {
			cur, err := e.get(ctx, rel)
			if err != nil {
				return false, err
			}
			c := meta.FindStatusCondition(cur.Status.Conditions, v1alpha1.ConditionDegraded)
			return c != nil && c.Status == "True" && c.Reason == "VerificationFailed", nil
		}); err != nil {
			return err
		}
		return e.change(ctx, rel, func(r *v1alpha1.MagentoRelease) { r.Spec.ActiveColor = from })
	}
}
