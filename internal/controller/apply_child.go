// This file writes one child and sorts out the outcome: ensure creates or
// updates it, judge tells a problem to report from an error that stops the
// pass, inTheWay looks at an object that holds its name, remove deletes it.

package controller

import (
	"context"
	"fmt"
	"reflect"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
	"github.com/magento-operator/magento-operator/internal/specs"
)

// ensure creates want when live is nil, and otherwise updates live when fix
// finds a field that differs from want.
func ensure[T client.Object](ctx context.Context, a *applier, live, want T, fix func(live, want T), serving bool) error {
	if reflect.ValueOf(live).IsNil() {
		return a.judge(ctx, want, serving, a.Create(ctx, want, fieldOwner))
	}
	upd := live.DeepCopyObject().(T)
	fix(upd, want)
	syncMeta(upd, want)
	if equality.Semantic.DeepEqual(live, upd) {
		return nil
	}
	// The write carries live's resourceVersion, so a stale cache ends in a
	// conflict and a retry, never in overwriting a newer change.
	return a.judge(ctx, want, serving, a.Update(ctx, upd, fieldOwner))
}

// judge sorts the outcome of a write of want: done, a problem to report, or
// an error that stops the pass.
func (a *applier) judge(ctx context.Context, want client.Object, serving bool, err error) error {
	switch {
	case err == nil:
		return nil
	case apierrors.IsAlreadyExists(err):
		return a.inTheWay(ctx, want, serving)
	case refused(err):
		a.problem(v1alpha1.ReasonChildRejected, serving, "the API server refused %s %s: %s", a.kind(want), want.GetName(), err.Error())
		return nil
	}
	return err
}

// refused tells whether the API server (or an admission webhook or policy)
// refused a write for what it asks, as opposed to failing to carry it out.
func refused(err error) bool {
	return apierrors.IsInvalid(err) || apierrors.IsForbidden(err) || apierrors.IsBadRequest(err) ||
		apierrors.IsRequestEntityTooLargeError(err)
}

// inTheWay looks at the object that holds want's name. The release's own
// (a cache that has not caught up yet), or its orphan (its labels, no
// controller) whose labels the cache does not select, is taken back; any
// other is never adopted or overwritten, and is reported (rule 11).
func (a *applier) inTheWay(ctx context.Context, want client.Object, serving bool) error {
	live := want.DeepCopyObject().(client.Object)
	if err := a.reader.Get(ctx, client.ObjectKeyFromObject(want), live); err != nil {
		return client.IgnoreNotFound(err) // gone meanwhile: the next pass creates it
	}
	owner := metav1.GetControllerOf(live)
	if metav1.IsControlledBy(live, a.rel) || (owner == nil && a.labelled(live)) {
		upd := live.DeepCopyObject().(client.Object)
		syncMeta(upd, want)
		if equality.Semantic.DeepEqual(live, upd) {
			return nil
		}
		return a.Update(ctx, upd, fieldOwner)
	}
	whose := "it is not this release's (no controller reference to it)"
	if owner != nil {
		whose = fmt.Sprintf("it belongs to %s %s", owner.Kind, owner.Name)
	}
	a.problem(v1alpha1.ReasonNameConflict, serving, "%s %s already exists and %s; delete or rename it, or give this release another name",
		a.kind(want), want.GetName(), whose)
	return nil
}

// labelled tells whether obj carries this release's instance label and the
// operator's managed-by label.
func (a *applier) labelled(obj client.Object) bool {
	l := obj.GetLabels()
	return l[specs.LabelInstance] == a.rel.Name && l[specs.LabelManagedBy] == specs.ManagedBy
}

func (a *applier) kind(obj client.Object) string {
	if gvk, err := apiutil.GVKForObject(obj, a.Scheme()); err == nil {
		return gvk.Kind
	}
	return reflect.TypeOf(obj).Elem().Name()
}

// remove deletes obj if it exists.
func (a *applier) remove(ctx context.Context, obj client.Object) error {
	if obj == nil || reflect.ValueOf(obj).IsNil() {
		return nil
	}
	uid := obj.GetUID()
	err := a.Delete(ctx, obj, client.Preconditions{UID: &uid}, client.PropagationPolicy(metav1.DeletePropagationBackground))
	return client.IgnoreNotFound(err)
}
