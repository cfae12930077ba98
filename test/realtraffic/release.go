// This file reads and changes the release under test, and waits for what
// the steps expect of it and of its Services and pods.

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

// get reads the release as it is now.
func (e Env) get(ctx context.Context, rel *v1alpha1.MagentoRelease) (*v1alpha1.MagentoRelease, error) {
	cur := &v1alpha1.MagentoRelease{}
	return cur, e.Client.Get(ctx, client.ObjectKeyFromObject(rel), cur)
}

// change applies mutate to the release as it is now, reading it again and
// retrying until the update goes through.
func (e Env) change(ctx context.Context, rel *v1alpha1.MagentoRelease, mutate func(*v1alpha1.MagentoRelease)) error {
	return e.waitFor(ctx, "the change of "+rel.Name, func() (bool, error) {
		cur, err := e.get(ctx, rel)
		if err != nil {
			return false, err
		}
		mutate(cur)
		return e.Client.Update(ctx, cur) == nil, nil
	})
}

// servicesOn tells whether Services <name> and <name>-php-fpm both select
// slot c.
func (e Env) servicesOn(ctx context.Context, rel *v1alpha1.MagentoRelease, c v1alpha1.Color) (bool, error) {
	for _, name := range []string{rel.Name, rel.Name + "-php-fpm"} {
		s := &corev1.Service{}
		if err := e.Client.Get(ctx, client.ObjectKey{Namespace: rel.Namespace, Name: name}, s); err != nil {
			return false, err
		}
		if s.Spec.Selector[specs.LabelColor] != string(c) {
			return false, nil
		}
	}
	return true, nil
}

// ready tells whether the release, at its current generation, serves from
// c, is Ready and is not Progressing.
func (e Env) ready(ctx context.Context, rel *v1alpha1.MagentoRelease, c v1alpha1.Color) (bool, error) {
	cur, err := e.get(ctx, rel)
	if err != nil {
		return false, err
	}
	return cur.Status.ObservedGeneration == cur.Generation && cur.Status.ActiveColor == c &&
		meta.IsStatusConditionTrue(cur.Status.Conditions, v1alpha1.ConditionReady) &&
		meta.IsStatusConditionFalse(cur.Status.Conditions, v1alpha1.ConditionProgressing), nil
}

// noPods tells whether no pod of comp of slot c exists (false when the
// pods cannot be listed).
func (e Env) noPods(ctx context.Context, rel *v1alpha1.MagentoRelease, c v1alpha1.Color, comp specs.Component) bool {
	pods := &corev1.PodList{}
	if err := e.Client.List(ctx, pods, client.InNamespace(rel.Namespace), client.MatchingLabels{
		specs.LabelInstance: rel.Name, specs.LabelColor: string(c), specs.LabelComponent: string(comp)}); err != nil {
		return false
	}
	return len(pods.Items) == 0
}

// waitFor polls ok every 100 ms until it says true, or fails after e.Timeout.
func (e Env) waitFor(ctx context.Context, what string, ok func() (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, e.Timeout)
	defer cancel()
	for {
		done, err := ok()
		if done {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w (last error: %v)", what, ctx.Err(), err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
