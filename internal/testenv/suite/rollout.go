package suite

import (
	"github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
	"github.com/magento-operator/magento-operator/internal/specs"
	"github.com/magento-operator/magento-operator/test/builder"
)

// The Deployment controller does not run in envtest: these stand in for it.

// RollOutAll rolls out, once, every Deployment of the release that is not.
func (e *Env) RollOutAll(rel *v1alpha1.MagentoRelease) {
	for _, color := range v1alpha1.Colors {
		for _, comp := range specs.SlotComponents {
			if d := e.Deployment(rel, comp, color); d != nil && !builder.RolledOut(d) {
				e.rollOut(d)
			}
		}
	}
}

// rollOut writes a Deployment's status the way the Deployment controller
// would once its pods at spec.replicas are all updated and available.
func (e *Env) rollOut(d *appsv1.Deployment) {
	// A conflict means the operator just changed it: the caller's Eventually tries again.
	if err := builder.RollOut(e.Ctx, e.Client, d); !apierrors.IsConflict(err) {
		gomega.Expect(client.IgnoreNotFound(err)).To(gomega.Succeed())
	}
}

// RollOutSlot makes every Deployment of a slot rolled out at its current
// spec. A deploy renders nginx only once php-fpm is rolled out at the new
// version, so it keeps rolling out until both run the same version.
func (e *Env) RollOutSlot(rel *v1alpha1.MagentoRelease, color v1alpha1.Color) {
	gomega.Eventually(func(g gomega.Gomega) {
		for _, comp := range specs.SlotComponents {
			d := e.Deployment(rel, comp, color)
			if d == nil {
				g.Expect(comp).NotTo(gomega.BeElementOf(specs.Served), "%s of %s does not exist yet", comp, color)
				continue
			}
			e.rollOut(d)
			cur := e.Deployment(rel, comp, color)
			g.Expect(builder.RolledOut(cur)).To(gomega.BeTrue(), "%s of %s is not rolled out at generation %d", comp, color, cur.Generation)
		}
		web, fpm := e.Deployment(rel, specs.Web, color), e.Deployment(rel, specs.PHPFPM, color)
		g.Expect(specs.RenderedVersion(web)).To(gomega.Equal(specs.RenderedVersion(fpm)), "nginx waits for php-fpm")
	}).Should(gomega.Succeed())
}

// Settle keeps rolling out every Deployment of the release until the
// release reports Ready and not Progressing at its generation, and no
// Deployment's status lags its spec.
func (e *Env) Settle(rel *v1alpha1.MagentoRelease) {
	gomega.Eventually(func(g gomega.Gomega) {
		e.RollOutAll(rel)
		cur := e.Get(rel)
		g.Expect(meta.IsStatusConditionTrue(cur.Status.Conditions, v1alpha1.ConditionReady)).To(gomega.BeTrue(), "not Ready: %v", cur.Status.Conditions)
		g.Expect(meta.IsStatusConditionFalse(cur.Status.Conditions, v1alpha1.ConditionProgressing)).To(gomega.BeTrue(),
			"still Progressing: %v", cur.Status.Conditions)
		g.Expect(cur.Status.ObservedGeneration).To(gomega.Equal(cur.Generation))
		for _, color := range v1alpha1.Colors {
			for _, comp := range specs.SlotComponents {
				if d := e.Deployment(rel, comp, color); d != nil {
					g.Expect(builder.RolledOut(d)).To(gomega.BeTrue(), "%s not rolled out", d.Name)
				}
			}
		}
	}).Should(gomega.Succeed())
}

// DeployAndSwitch deploys tag (and revision) to green and asks for the
// switch to it, in one update that also makes the changes also asks for,
// waits until green's php-fpm runs that version, and returns the name of
// its migration Job.
func (e *Env) DeployAndSwitch(rel *v1alpha1.MagentoRelease, tag, revision string, also ...func(*v1alpha1.MagentoRelease)) string {
	v := v1alpha1.Slot{Tag: tag, Revision: revision}
	e.Change(rel, func(r *v1alpha1.MagentoRelease) {
		r.Spec.ActiveColor = v1alpha1.Green
		r.Spec.Green = &v1alpha1.Slot{Tag: tag, Revision: revision}
		for _, f := range also {
			f(r)
		}
	})
	gomega.Eventually(func() v1alpha1.Slot {
		if d := e.Deployment(rel, specs.PHPFPM, v1alpha1.Green); d != nil {
			return specs.RenderedVersion(d)
		}
		return v1alpha1.Slot{}
	}).Should(gomega.Equal(v))
	return specs.MigrationJobName(rel, v1alpha1.Green, v)
}
