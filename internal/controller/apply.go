package controller

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"golang.org/x/sync/errgroup"
	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
	"github.com/magento-operator/magento-operator/internal/bluegreen"
	"github.com/magento-operator/magento-operator/internal/specs"
)

// fieldOwner names the operator in managedFields.
const fieldOwner = client.FieldOwner("magento-operator")

// applier applies one plan to one release's children. A child the API
// server will not take — an object of another owner in the way, or a spec it
// refuses — does not stop the others: it is collected as a problem, which the
// status and an Event report (rule 11). Any other error stops the pass and is
// retried.
type applier struct {
	client.Client
	// reader reads past the cache: the objects in the way of a child, and
	// the pod templates the cache does not keep.
	reader client.Reader
	rel    *v1alpha1.MagentoRelease

	mu       sync.Mutex
	problems []bluegreen.Problem
}

func (r *MagentoReleaseReconciler) applier(rel *v1alpha1.MagentoRelease) *applier {
	return &applier{Client: r.Client, reader: r.APIReader, rel: rel}
}

func (a *applier) problem(reason string, serving bool, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if len(msg) > maxProblemLength {
		msg = msg[:maxProblemLength] + "…"
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.problems = append(a.problems, bluegreen.Problem{Reason: reason, Message: msg, Serving: serving})
}

// maxProblemLength keeps a condition readable when the server explains at length.
const maxProblemLength = 1000

// traffic points <name> and <name>-php-fpm where the plan says, first and
// at once, both writes in flight together: nothing else a reconcile writes
// may delay traffic, not even the preview Service.
func (a *applier) traffic(ctx context.Context, k *children, plan bluegreen.Plan) error {
	g, gctx := errgroup.WithContext(ctx)
	for _, comp := range specs.Served {
		want := specs.ActiveService(a.rel, comp, plan.Switch)
		g.Go(func() error { return ensure(gctx, a, k.services[want.Name], want, syncService, true) })
	}
	return g.Wait()
}

// rest makes the preview Service, the slots, Jobs and Ingress what the plan
// says. The preview goes first: a slot deleted in the same pass is no
// longer selected. Every write is guarded: an object that already is as
// wanted is not written (rule 8).
func (a *applier) rest(ctx context.Context, k *children, plan bluegreen.Plan) error {
	preview := specs.PreviewServiceName(a.rel)
	var err error
	if plan.Preview == "" {
		err = a.remove(ctx, k.services[preview])
	} else {
		err = ensure(ctx, a, k.services[preview], specs.PreviewService(a.rel, plan.Preview), syncService, false)
	}
	if err != nil {
		return err
	}
	for _, color := range v1alpha1.Colors {
		if err := a.slot(ctx, k, color, plan.Slots[color], color == plan.Active); err != nil {
			return err
		}
	}
	for _, j := range plan.Jobs {
		if err := a.startJob(ctx, k, j); err != nil {
			return err
		}
	}
	if ing := specs.Ingress(a.rel, plan.Preview != ""); ing != nil {
		return ensure(ctx, a, k.ingresses[a.rel.Name], ing, syncIngress, true)
	}
	return a.remove(ctx, k.ingresses[a.rel.Name])
}

// slot makes one slot's objects what its plan says; a nil plan deletes them.
func (a *applier) slot(ctx context.Context, k *children, color v1alpha1.Color, plan *bluegreen.SlotPlan, serving bool) error {
	// A deploy — every write that sets a pod template — is tried on the API
	// server first (a dry run), and written only when all of it would be
	// taken: a refused spec leaves no slot half on one version, half on the
	// other. A single one (nginx, once php-fpm runs the new version) needs
	// no trial: refused, it writes nothing either.
	writes, err := a.deploymentWrites(ctx, k, color, plan)
	if err != nil {
		return err
	}
	if renders := slices.DeleteFunc(slices.Clone(writes), func(w write) bool { return !w.renders() }); len(renders) > 1 && !a.dryRun(ctx, renders, serving) {
		writes = slices.DeleteFunc(writes, func(w write) bool { return w.renders() })
	}
	// nginx waits for php-fpm (see SlotPlan.WebWaits); it was tried above
	// with the rest, so a deploy the server refuses writes nothing.
	writes = slices.DeleteFunc(writes, func(w write) bool { return w.waits })
	// HPAs and PDBs before Deployments: an HPA must be gone before its
	// Deployment scales to zero.
	for _, comp := range specs.Served {
		name := specs.SlotName(a.rel, comp, color)
		if b, ok := planHPA(plan, comp); ok {
			if err := ensure(ctx, a, k.hpas[name], specs.HPA(a.rel, color, comp, b.Min, b.Max), syncHPA, serving); err != nil {
				return err
			}
		} else if err := a.remove(ctx, k.hpas[name]); err != nil {
			return err
		}
		if plan != nil && plan.Running {
			if err := ensure(ctx, a, k.pdbs[name], specs.PDB(a.rel, color, comp), syncPDB, serving); err != nil {
				return err
			}
		} else if err := a.remove(ctx, k.pdbs[name]); err != nil {
			return err
		}
	}
	// The Deployments of a slot are written at once: a deploy holds its
	// php-fpm, cron and consumers (and the idle slot's readiness) on none
	// of the others.
	if err := eachWrite(ctx, writes, func(ctx context.Context, w write) error {
		return a.judge(ctx, w.obj, serving, w.apply(ctx, a.Client, false))
	}); err != nil {
		return err
	}
	for _, comp := range specs.SlotComponents { // disabled, or the slot removed
		if _, ok := planReplicas(plan, comp); !ok {
			if err := a.remove(ctx, k.deployments[specs.SlotName(a.rel, comp, color)]); err != nil {
				return err
			}
		}
	}
	if plan == nil {
		return a.remove(ctx, k.services[specs.SlotName(a.rel, specs.PHPFPM, color)])
	}
	want := specs.SlotService(a.rel, color)
	return ensure(ctx, a, k.services[want.Name], want, syncService, serving)
}

func planReplicas(plan *bluegreen.SlotPlan, comp specs.Component) (int32, bool) {
	if plan == nil {
		return 0, false
	}
	n, ok := plan.Replicas[comp]
	return n, ok
}

func planHPA(plan *bluegreen.SlotPlan, comp specs.Component) (bluegreen.Bounds, bool) {
	if plan == nil {
		return bluegreen.Bounds{}, false
	}
	b, ok := plan.HPAs[comp]
	return b, ok
}

// startJob creates a Job the plan wants unless it exists; Jobs are never changed.
func (a *applier) startJob(ctx context.Context, k *children, j bluegreen.JobPlan) error {
	var want *batchv1.Job
	var err error
	switch j.Component {
	case specs.PostSwitch:
		want, err = specs.PostSwitchJob(a.rel, j.Color, j.Version, j.At)
	case specs.Verification:
		want, err = specs.VerificationJob(a.rel, j.Color, j.Version, j.At, j.After)
	default:
		want, err = specs.MigrationJob(a.rel, j.Color, j.Version)
	}
	if err != nil {
		return err
	}
	if live := k.jobs[want.Name]; live != nil {
		if metav1.GetControllerOf(live) != nil {
			return nil
		}
		upd := live.DeepCopy() // an orphan of this release: adopt it
		syncMeta(upd, want)
		return a.judge(ctx, want, false, a.Patch(ctx, upd, client.MergeFromWithOptions(live, client.MergeFromWithOptimisticLock{}), fieldOwner))
	}
	return a.judge(ctx, want, false, a.Create(ctx, want, fieldOwner))
}
