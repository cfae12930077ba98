// This file builds and makes the writes of a slot's Deployments: creates,
// renders of a new version (tried on the API server first) and patches of
// their replica counts.

package controller

import (
	"context"
	"slices"

	"golang.org/x/sync/errgroup"
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
	"github.com/magento-operator/magento-operator/internal/bluegreen"
	"github.com/magento-operator/magento-operator/internal/specs"
)

// write is one write of a Deployment: a create (live nil), an update of the
// whole object, or a merge patch of its replica count and metadata.
type write struct {
	obj, live client.Object
	patch     bool
	// waits marks a render held back this pass (SlotPlan.WebWaits).
	waits bool
}

// renders is true for a write that sets a pod template: a create or an update.
func (w write) renders() bool { return !w.patch }

func (w write) apply(ctx context.Context, c client.Client, dry bool) error {
	obj, dryRun := w.obj, []string(nil)
	if dry { // a dry run fills in what the server defaults: keep w.obj as it is
		obj, dryRun = w.obj.DeepCopyObject().(client.Object), []string{metav1.DryRunAll}
	}
	switch {
	case w.live == nil:
		return c.Create(ctx, obj, &client.CreateOptions{FieldManager: string(fieldOwner), DryRun: dryRun})
	case w.patch:
		return c.Patch(ctx, obj, client.MergeFromWithOptions(w.live, client.MergeFromWithOptimisticLock{}),
			&client.PatchOptions{FieldManager: string(fieldOwner), DryRun: dryRun})
	default:
		return c.Update(ctx, obj, &client.UpdateOptions{FieldManager: string(fieldOwner), DryRun: dryRun})
	}
}

// deploymentWrites lists the writes that make a slot's Deployments what its
// plan says: a missing Deployment is created from the spec, an existing one
// is rendered again only when the plan deploys a new version to it, and
// otherwise nothing but its replica count changes (rule 4).
func (a *applier) deploymentWrites(ctx context.Context, k *children, color v1alpha1.Color, plan *bluegreen.SlotPlan) ([]write, error) {
	var writes []write
	var deploys []*appsv1.Deployment // rendered again: their writes are built below
	for _, comp := range specs.SlotComponents {
		live := k.deployments[specs.SlotName(a.rel, comp, color)]
		replicas, ok := planReplicas(plan, comp)
		if !ok {
			continue // removed by slot
		}
		want, err := specs.Deployment(a.rel, color, comp, plan.Version, replicas)
		if err != nil {
			return nil, err
		}
		switch {
		case live == nil:
			writes = append(writes, write{obj: want})
		case plan.Render && specs.RenderedVersion(live) != plan.Version:
			deploys = append(deploys, want)
		default:
			// Only the replica count and the operator's labels and owner
			// may change: a merge patch of just those, guarded by resourceVersion.
			upd := live.DeepCopy()
			upd.Spec.Replicas = want.Spec.Replicas
			syncMeta(upd, want)
			if !equality.Semantic.DeepEqual(live, upd) {
				writes = append(writes, write{obj: upd, live: live, patch: true})
			}
		}
	}
	// nginx held back, and nothing else to render with it: no write to
	// build (see slot), so no read for it, in each pass while php-fpm rolls.
	if len(deploys) == 1 && plan.WebWaits && !slices.ContainsFunc(writes, write.renders) {
		deploys = nil
	}
	// A deploy: the cache keeps no pod templates, so read each whole
	// Deployment (all at once), and write it with its resourceVersion.
	full := make([]*appsv1.Deployment, len(deploys))
	g, gctx := errgroup.WithContext(ctx)
	for i, want := range deploys {
		g.Go(func() error {
			full[i] = &appsv1.Deployment{}
			return a.reader.Get(gctx, client.ObjectKeyFromObject(want), full[i])
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	for i, want := range deploys {
		upd := full[i].DeepCopy()
		upd.Spec.Template = want.Spec.Template
		upd.Spec.Strategy = want.Spec.Strategy
		upd.Spec.ProgressDeadlineSeconds = want.Spec.ProgressDeadlineSeconds
		upd.Spec.RevisionHistoryLimit = want.Spec.RevisionHistoryLimit
		upd.Spec.Replicas = want.Spec.Replicas
		for k, v := range want.Annotations {
			setMap(&upd.Annotations, k, v)
		}
		syncMeta(upd, want)
		if !equality.Semantic.DeepEqual(full[i], upd) {
			writes = append(writes, write{obj: upd, live: full[i], waits: plan.WebWaits && want.Name == specs.SlotName(a.rel, specs.Web, color)})
		}
	}
	return writes, nil
}

// dryRun tries writes that render pod templates on the API server without
// keeping them, all at once, and tells whether all of them would be taken.
func (a *applier) dryRun(ctx context.Context, renders []write, serving bool) bool {
	a.mu.Lock()
	before := len(a.problems)
	a.mu.Unlock()
	err := eachWrite(ctx, renders, func(ctx context.Context, w write) error {
		return a.judge(ctx, w.obj, serving, w.apply(ctx, a.Client, true))
	})
	a.mu.Lock()
	defer a.mu.Unlock()
	return err == nil && len(a.problems) == before
}

// eachWrite runs f for every write, all at once, and returns the first error.
func eachWrite(ctx context.Context, writes []write, f func(context.Context, write) error) error {
	g, gctx := errgroup.WithContext(ctx)
	for _, w := range writes {
		g.Go(func() error { return f(gctx, w) })
	}
	return g.Wait()
}
