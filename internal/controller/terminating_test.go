package controller

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
	"github.com/magento-operator/magento-operator/internal/specs"
	"github.com/magento-operator/magento-operator/test/builder"
)

// holdFinalizer keeps a deleted pod terminating until the spec removes it,
// as a kubelet does through a pod's grace period.
const holdFinalizer = "test.magento.ops.dev/hold"

// scaledDownOnOldCluster writes a Deployment's status the way the Deployment
// controller of a cluster without the DeploymentReplicaSetTerminatingReplicas
// feature gate (before Kubernetes 1.35, or with the gate off) does once it
// scaled to zero: no replicas, and no terminatingReplicas at all, however
// many pods are still terminating.
func scaledDownOnOldCluster(rel *v1alpha1.MagentoRelease, comp specs.Component, color v1alpha1.Color) {
	Eventually(func(g Gomega) {
		d := env.Deployment(rel, comp, color)
		g.Expect(d).NotTo(BeNil())
		g.Expect(builder.Replicas(d)).To(BeZero())
		d.Status = appsv1.DeploymentStatus{ObservedGeneration: d.Generation}
		g.Expect(env.Client.Status().Update(env.Ctx, d)).To(Succeed())
		got := env.Deployment(rel, comp, color)
		g.Expect(got.Status.ObservedGeneration).To(Equal(got.Generation))
		g.Expect(got.Status.Replicas).To(BeZero())
		g.Expect(got.Status.TerminatingReplicas).To(BeNil())
	}).Should(Succeed())
}

var _ = Describe("A MagentoRelease on a cluster that does not report terminating replicas", func() {
	var rel *v1alpha1.MagentoRelease

	BeforeEach(func() { rel = builder.MakeRelease(env.NewNamespace(), "shop").Obj() })

	It("keeps the new slot's cron stopped while the old slot's cron pod is terminating (rule 13)", func() {
		Expect(env.Client.Create(env.Ctx, rel)).To(Succeed())
		env.Settle(rel)
		env.Change(rel, func(r *v1alpha1.MagentoRelease) { r.Spec.Green = &v1alpha1.Slot{Tag: "main-2"} })
		env.Settle(rel)
		Expect(builder.Replicas(env.Deployment(rel, specs.Cron, v1alpha1.Green))).To(BeEquivalentTo(0))

		By("blue's cron pod, which a finalizer keeps terminating once it is deleted")
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{
				Name: specs.SlotName(rel, specs.Cron, v1alpha1.Blue) + "-5d8f7c9b4-x2x7q", Namespace: rel.Namespace,
				Labels:     specs.SlotLabels(rel, v1alpha1.Blue, specs.Cron),
				Finalizers: []string{holdFinalizer},
			},
			Spec: corev1.PodSpec{
				Containers:                   []corev1.Container{{Name: "cron", Image: builder.Registry + "/php:main-1"}},
				AutomountServiceAccountToken: new(bool),
			},
		}
		Expect(env.Client.Create(env.Ctx, pod)).To(Succeed())
		release := func() {
			Eventually(func() error {
				p := &corev1.Pod{}
				if err := env.Client.Get(env.Ctx, client.ObjectKeyFromObject(pod), p); err != nil {
					return client.IgnoreNotFound(err)
				}
				p.Finalizers = nil
				return env.Client.Update(env.Ctx, p)
			}).Should(Succeed())
		}
		DeferCleanup(release)

		By("switching to green: blue's cron is scaled to 0, its pod terminates, and the status counts it nowhere")
		env.Change(rel, func(r *v1alpha1.MagentoRelease) { r.Spec.ActiveColor = v1alpha1.Green })
		Eventually(func() string { return env.ServicesColor(rel) }).Should(Equal("green"))
		Eventually(func() int32 { return builder.Replicas(env.Deployment(rel, specs.Cron, v1alpha1.Blue)) }).Should(BeZero())
		Expect(env.Client.Delete(env.Ctx, pod)).To(Succeed())
		Eventually(func(g Gomega) {
			p := &corev1.Pod{}
			g.Expect(env.Client.Get(env.Ctx, client.ObjectKeyFromObject(pod), p)).To(Succeed())
			g.Expect(p.DeletionTimestamp).NotTo(BeNil())
		}).Should(Succeed())
		scaledDownOnOldCluster(rel, specs.Cron, v1alpha1.Blue)

		By("green's cron waits while blue's pod exists")
		Consistently(func() int32 { return builder.Replicas(env.Deployment(rel, specs.Cron, v1alpha1.Green)) }, 5*time.Second).
			Should(BeZero(), "green's cron started beside blue's terminating cron pod")
		Expect(env.Deployment(rel, specs.Cron, v1alpha1.Blue).Status.TerminatingReplicas).To(BeNil(), "the spec's premise: no terminatingReplicas")

		By("blue's pod is gone: green's cron starts")
		release()
		Eventually(func() error {
			return env.Client.Get(env.Ctx, client.ObjectKeyFromObject(pod), &corev1.Pod{})
		}).Should(Satisfy(apierrors.IsNotFound))
		Eventually(func() int32 { return builder.Replicas(env.Deployment(rel, specs.Cron, v1alpha1.Green)) }).Should(BeEquivalentTo(1))
		env.Settle(rel)
		Expect(builder.Replicas(env.Deployment(rel, specs.Cron, v1alpha1.Blue))).To(BeZero())
	})
})
