package suite

import (
	"github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
	"github.com/magento-operator/magento-operator/internal/specs"
	"github.com/magento-operator/magento-operator/test/builder"
)

// NewNamespace creates a namespace for one spec and returns its name.
func (e *Env) NewNamespace() string {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "test-"}}
	gomega.Expect(e.Client.Create(e.Ctx, ns)).To(gomega.Succeed())
	return ns.Name
}

// Get reads the release again.
func (e *Env) Get(rel *v1alpha1.MagentoRelease) *v1alpha1.MagentoRelease {
	cur, err := builder.Get(e.Ctx, e.Client, rel)
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	return cur
}

// Change applies mutate to the newest release, retrying until it is written.
func (e *Env) Change(rel *v1alpha1.MagentoRelease, mutate func(*v1alpha1.MagentoRelease)) {
	gomega.Eventually(func() error { return builder.Change(e.Ctx, e.Client, rel, mutate) }).Should(gomega.Succeed())
}

// Deployment reads a slot's Deployment of the release; nil when it does not exist.
func (e *Env) Deployment(rel *v1alpha1.MagentoRelease, comp specs.Component, color v1alpha1.Color) *appsv1.Deployment {
	return builder.Deployment(e.Ctx, e.Client, rel, comp, color)
}

// Service reads a Service in the release's namespace; nil when it does not exist.
func (e *Env) Service(rel *v1alpha1.MagentoRelease, name string) *corev1.Service {
	return builder.Service(e.Ctx, e.Client, rel, name)
}

// ServicesColor is the slot <name> and <name>-php-fpm select ("mixed" when they differ).
func (e *Env) ServicesColor(rel *v1alpha1.MagentoRelease) string {
	return builder.ServicesColor(e.Ctx, e.Client, rel)
}

// Condition is the release's condition of type t; nil when it has none.
func (e *Env) Condition(rel *v1alpha1.MagentoRelease, t string) *metav1.Condition {
	return meta.FindStatusCondition(e.Get(rel).Status.Conditions, t)
}

// DegradedFor waits until the release reports Degraded with reason, and
// returns the message.
func (e *Env) DegradedFor(rel *v1alpha1.MagentoRelease, reason string) string {
	gomega.Eventually(func() *metav1.Condition { return e.Condition(rel, v1alpha1.ConditionDegraded) }).
		Should(gomega.And(gomega.HaveField("Status", metav1.ConditionTrue), gomega.HaveField("Reason", reason)))
	return e.Condition(rel, v1alpha1.ConditionDegraded).Message
}

// NeverReady checks the release does not report Ready through two resyncs.
func (e *Env) NeverReady(rel *v1alpha1.MagentoRelease) {
	gomega.Consistently(func() bool { return meta.IsStatusConditionTrue(e.Get(rel).Status.Conditions, v1alpha1.ConditionReady) },
		2*Resync).Should(gomega.BeFalse())
}
