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
		d := deployment(rel, comp, color)
		g.Expect(d).NotTo(BeNil())
		g.Expect(replicas(d)).To(BeZero())
		d.Status = appsv1.DeploymentStatus{ObservedGeneration: d.Generation}
		g.Expect(k8sClient.Status().Update(ctx, d)).To(Succeed())
		got := deployment(rel, comp, color)
		g.Expect(got.Status.ObservedGeneration).To(Equal(got.Generation))
		g.Expect(got.Status.Replicas).To(BeZero())
		g.Expect(got.Status.TerminatingReplicas).To(BeNil())
	}, timeout, interval).Should(Succeed())
}

var _ = Describe("A MagentoRelease on a cluster that does not report terminating replicas", func() {
	var rel *v1alpha1.MagentoRelease

	BeforeEach(func() { rel = builder.MakeRelease(newNamespace(), "shop").Obj() })

	It("keeps the new slot's cron stopped while the old slot's cron pod is terminating (rule 13)", func() {
		Expect(k8sClient.Create(ctx, rel)).To(Succeed())
		settle(rel)
		change(rel, func(r *v1alpha1.MagentoRelease) { r.Spec.Green = &v1alpha1.Slot{Tag: "main-2"} })
		settle(rel)
		Expect(replicas(deployment(rel, specs.Cron, v1alpha1.Green))).To(BeEquivalentTo(0))

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
		Expect(k8sClient.Create(ctx, pod)).To(Succeed())
		release := func() {
			Eventually(func() error {
				p := &corev1.Pod{}
				if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(pod), p); err != nil {
					return client.IgnoreNotFound(err)
				}
				p.Finalizers = nil
				return k8sClient.Update(ctx, p)
			}, timeout, interval).Should(Succeed())
		}
		DeferCleanup(release)

		By("switching to green: blue's cron is scaled to 0, its pod terminates, and the status counts it nowhere")
		change(rel, func(r *v1alpha1.MagentoRelease) { r.Spec.ActiveColor = v1alpha1.Green })
		Eventually(func() string { return servicesColor(rel) }, timeout, interval).Should(Equal("green"))
		Eventually(func() int32 { return replicas(deployment(rel, specs.Cron, v1alpha1.Blue)) }, timeout, interval).Should(BeZero())
		Expect(k8sClient.Delete(ctx, pod)).To(Succeed())
		Eventually(func(g Gomega) {
			p := &corev1.Pod{}
			g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(pod), p)).To(Succeed())
			g.Expect(p.DeletionTimestamp).NotTo(BeNil())
		}, timeout, interval).Should(Succeed())
		scaledDownOnOldCluster(rel, specs.Cron, v1alpha1.Blue)

		By("green's cron waits while blue's pod exists")
		Consistently(func() int32 { return replicas(deployment(rel, specs.Cron, v1alpha1.Green)) }, 5*time.Second, interval).
			Should(BeZero(), "green's cron started beside blue's terminating cron pod")
		Expect(deployment(rel, specs.Cron, v1alpha1.Blue).Status.TerminatingReplicas).To(BeNil(), "the spec's premise: no terminatingReplicas")

		By("blue's pod is gone: green's cron starts")
		release()
		Eventually(func() error {
			return k8sClient.Get(ctx, client.ObjectKeyFromObject(pod), &corev1.Pod{})
		}, timeout, interval).Should(Satisfy(apierrors.IsNotFound))
		Eventually(func() int32 { return replicas(deployment(rel, specs.Cron, v1alpha1.Green)) }, timeout, interval).Should(BeEquivalentTo(1))
		settle(rel)
		Expect(replicas(deployment(rel, specs.Cron, v1alpha1.Blue))).To(BeZero())
	})
})
