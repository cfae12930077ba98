//go:build e2e

package e2e

import (
	"math/rand/v2"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
	"github.com/magento-operator/magento-operator/internal/specs"
)

var _ = Describe("A release on the simulated cluster", func() {
	var rel *v1alpha1.MagentoRelease

	BeforeEach(func() { rel = newRelease(newNamespace()).Obj() })

	It("walks a whole cycle: rollout, deploy, preview, switch, idle scale-down, rollback", func() {
		rules := watchRules(rel)
		rel.Spec.IdleScaleDown.After = &metav1.Duration{Duration: 30 * time.Second}
		rel.Spec.Ingress = &v1alpha1.IngressSpec{Host: "shop.example.com", PreviewHost: "preview.shop.example.com"}
		Expect(k8sClient.Create(ctx, rel)).To(Succeed())
		Eventually(settled(rel), timeout, interval).Should(Succeed())
		Expect(servicesColor(rel)).To(Equal("blue"))
		Expect(pods(rel, specs.Cron, v1alpha1.Blue)).To(HaveLen(1))

		By("deploying main-2 to green, which the preview Service selects")
		change(rel, func(r *v1alpha1.MagentoRelease) { r.Spec.Green = &v1alpha1.Slot{Tag: "main-2"} })
		Eventually(settled(rel), timeout, interval).Should(Succeed())
		Eventually(func() int { return len(pods(rel, specs.Web, v1alpha1.Green)) }, timeout, interval).Should(Equal(2))
		Expect(get(rel).Status.PreviewColor).To(Equal(v1alpha1.Green))
		Expect(pods(rel, specs.Cron, v1alpha1.Green)).To(BeEmpty())

		By("switching: the live slot's pods survive untouched")
		blueWeb, blueFPM := pods(rel, specs.Web, v1alpha1.Blue), pods(rel, specs.PHPFPM, v1alpha1.Blue)
		Expect(blueWeb).To(HaveLen(2))
		change(rel, func(r *v1alpha1.MagentoRelease) { r.Spec.ActiveColor = v1alpha1.Green })
		Eventually(settled(rel), timeout, interval).Should(Succeed())
		Expect(servicesColor(rel)).To(Equal("green"))
		Expect(pods(rel, specs.Web, v1alpha1.Blue)).To(ConsistOf(blueWeb))
		Expect(pods(rel, specs.PHPFPM, v1alpha1.Blue)).To(ConsistOf(blueFPM))
		Eventually(func() []string { return pods(rel, specs.Cron, v1alpha1.Green) }, timeout, interval).Should(HaveLen(1))
		Expect(pods(rel, specs.Cron, v1alpha1.Blue)).To(BeEmpty())

		By("scaling the idle slot down after 30s")
		Eventually(func() int { return len(pods(rel, specs.Web, v1alpha1.Blue)) }, timeout, interval).Should(BeZero())
		Expect(get(rel).Status.Blue.State).To(Equal(v1alpha1.SlotScaledDown))
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: rel.Namespace, Name: "shop-web-blue"}, &policyv1.PodDisruptionBudget{})).NotTo(Succeed())

		By("rolling back to blue: scaled up, then switched")
		change(rel, func(r *v1alpha1.MagentoRelease) { r.Spec.ActiveColor = v1alpha1.Blue })
		Eventually(settled(rel), timeout, interval).Should(Succeed())
		Expect(servicesColor(rel)).To(Equal("blue"))
		Expect(pods(rel, specs.Web, v1alpha1.Blue)).To(HaveLen(2))

		violations, events := rules.finish()
		Expect(events).To(BeNumerically(">", 50), "the watches saw too little to judge")
		Expect(violations).To(BeEmpty())
	})

	It("holds the switch for a release that never becomes ready, and keeps traffic on the good slot", func() {
		rules := watchRules(rel)
		rel.Spec.ProgressDeadlineSeconds = ptr.To[int32](10)
		Expect(k8sClient.Create(ctx, rel)).To(Succeed())
		Eventually(settled(rel), timeout, interval).Should(Succeed())
		switchHeld(rel, "broken", "ProgressDeadlineExceeded")

		By("calling the switch off")
		change(rel, func(r *v1alpha1.MagentoRelease) { r.Spec.ActiveColor = v1alpha1.Blue })
		Eventually(func() string {
			return meta.FindStatusCondition(get(rel).Status.Conditions, v1alpha1.ConditionProgressing).Reason
		}, timeout, interval).ShouldNot(Equal("Switching"))
		violations, _ := rules.finish()
		Expect(violations).To(BeEmpty())
	})

	It("keeps traffic on blue when green's migration fails, and switches once a new tag migrates", func() {
		rel.Spec.Blue.Tag = "v1"
		rel.Spec.Migration = &v1alpha1.MigrationSpec{Enabled: true}
		Expect(k8sClient.Create(ctx, rel)).To(Succeed())
		Eventually(settled(rel), timeout, interval).Should(Succeed())

		By("switching to green on a tag whose migration fails")
		switchHeld(rel, "failing", "MigrationFailed")
		failed := &corev1.PodList{}
		Expect(k8sClient.List(ctx, failed, client.InNamespace(rel.Namespace),
			client.MatchingLabels(specs.Selector(rel, v1alpha1.Green, specs.Migration)))).To(Succeed())
		Expect(failed.Items).NotTo(BeEmpty())
		Expect(failed.Items[0].Status.ContainerStatuses[0].State.Terminated).To(And(HaveField("ExitCode", int32(1)),
			HaveField("Message", "simulated failure: the image tag is failing")))
		// What the pod said reaches the status, with why the Job controller gave up.
		Expect(get(rel).Status.Green.MigrationOutput).To(And(
			HavePrefix("exit 1: simulated failure: the image tag is failing"), ContainSubstring("BackoffLimitExceeded")))

		By("deploying v2 to green: the migration runs again and traffic moves")
		change(rel, func(r *v1alpha1.MagentoRelease) { r.Spec.Green.Tag = "v2" })
		Eventually(settled(rel), timeout, interval).Should(Succeed())
		Eventually(func() string { return servicesColor(rel) }, timeout, interval).Should(Equal("green"))
		cur := get(rel)
		Expect(cur.Status.ActiveColor).To(Equal(v1alpha1.Green))
		Expect(cur.Status.Green.Migrated).To(BeTrue())
		Expect(meta.IsStatusConditionTrue(cur.Status.Conditions, v1alpha1.ConditionDegraded)).To(BeFalse(), "%v", cur.Status.Conditions)
	})

	It("converges with nothing lost when the operator is killed at random points of a switch", func() {
		Expect(k8sClient.Create(ctx, rel)).To(Succeed())
		Eventually(settled(rel), timeout, interval).Should(Succeed())
		change(rel, func(r *v1alpha1.MagentoRelease) { r.Spec.Green = &v1alpha1.Slot{Tag: "main-2"} })
		Eventually(settled(rel), timeout, interval).Should(Succeed())
		rules := watchRules(rel)
		DeferCleanup(func() {
			if operator != nil {
				_ = operator.Start()
			}
		})

		target := v1alpha1.Green
		for round := range 4 {
			By("switching to " + string(target) + " and killing the operator")
			change(rel, func(r *v1alpha1.MagentoRelease) { r.Spec.ActiveColor = target })
			for range 2 {
				time.Sleep(time.Duration(rand.IntN(1500)) * time.Millisecond)
				operator.Kill()
				time.Sleep(time.Duration(rand.IntN(500)) * time.Millisecond)
				Expect(operator.Start()).To(Succeed())
			}
			Eventually(settled(rel), timeout, interval).Should(Succeed(), "round %d", round)
			st := get(rel).Status
			Expect(st.ActiveColor).To(Equal(target))
			Expect(servicesColor(rel)).To(Equal(string(target)))
			Expect(st.LastSwitchTime).NotTo(BeNil())
			Eventually(func() []string { return pods(rel, specs.Cron, target) }, timeout, interval).Should(HaveLen(1))
			Expect(pods(rel, specs.Cron, target.Other())).To(BeEmpty())
			Expect(pods(rel, specs.Web, target.Other())).To(HaveLen(2), "the idle slot was lost")
			target = target.Other()
		}
		violations, _ := rules.finish()
		Expect(violations).To(BeEmpty())
	})

	It("deletes every child through garbage collection when the release is deleted", func() {
		rel.Spec.Green = &v1alpha1.Slot{Tag: "main-2"}
		rel.Spec.Web.Autoscaling = &v1alpha1.Autoscaling{MaxReplicas: 3}
		rel.Spec.Ingress = &v1alpha1.IngressSpec{Host: "shop.example.com"}
		rel.Spec.PostSwitch = &v1alpha1.PostSwitchSpec{Command: []string{"true"}}
		Expect(k8sClient.Create(ctx, rel)).To(Succeed())
		Eventually(settled(rel), timeout, interval).Should(Succeed())
		change(rel, func(r *v1alpha1.MagentoRelease) { r.Spec.ActiveColor = v1alpha1.Green })
		Eventually(settled(rel), timeout, interval).Should(Succeed())

		children := func() int {
			n := 0
			for _, l := range []client.ObjectList{&appsv1.DeploymentList{}, &corev1.ServiceList{}, &autoscalingv2.HorizontalPodAutoscalerList{},
				&policyv1.PodDisruptionBudgetList{}, &networkingv1.IngressList{}, &batchv1.JobList{}, &corev1.PodList{}} {
				Expect(k8sClient.List(ctx, l, client.InNamespace(rel.Namespace), client.MatchingLabels{specs.LabelInstance: rel.Name})).To(Succeed())
				n += meta.LenList(l)
			}
			return n
		}
		Expect(children()).To(BeNumerically(">=", 20))
		Expect(k8sClient.Delete(ctx, get(rel))).To(Succeed())
		Eventually(children, timeout, interval).Should(BeZero())
	})
})
