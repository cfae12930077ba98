package controller

import (
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	eventsv1 "k8s.io/api/events/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
	"github.com/magento-operator/magento-operator/internal/specs"
	"github.com/magento-operator/magento-operator/test/builder"
)

// editStatus writes the release's status by hand, as a restore tool, an old
// second manager or `kubectl edit --subresource=status` would.
func editStatus(rel *v1alpha1.MagentoRelease, mutate func(*v1alpha1.MagentoReleaseStatus)) {
	Eventually(func() error {
		cur := get(rel)
		mutate(&cur.Status)
		return k8sClient.Status().Update(ctx, cur)
	}, timeout, interval).Should(Succeed())
}

var _ = Describe("Traffic is what the Services serve (rule 10)", func() {
	var rel *v1alpha1.MagentoRelease

	BeforeEach(func() {
		rel = builder.MakeRelease(newNamespace(), "shop").PostSwitch("php", "bin/magento", "cache:clean").Obj()
		Expect(k8sClient.Create(ctx, rel)).To(Succeed())
		settle(rel)
		change(rel, func(r *v1alpha1.MagentoRelease) { r.Spec.Green = &v1alpha1.Slot{Tag: "feature-2"} })
		Eventually(func() *appsv1.Deployment { return deployment(rel, specs.PHPFPM, v1alpha1.Green) }, timeout, interval).ShouldNot(BeNil())
	})

	It("never moves traffic to an unready target because the status says so", func() {
		change(rel, func(r *v1alpha1.MagentoRelease) { r.Spec.ActiveColor = v1alpha1.Green })
		Eventually(func() *metav1.Condition { return condition(rel, v1alpha1.ConditionProgressing) }, timeout, interval).
			Should(HaveField("Reason", "Switching"))

		editStatus(rel, func(s *v1alpha1.MagentoReleaseStatus) { s.ActiveColor = v1alpha1.Green })
		Consistently(func() string { return servicesColor(rel) }, 3*resync, interval).Should(Equal("blue"))
		Expect(get(rel).Status.ActiveColor).To(Equal(v1alpha1.Blue), "the status is set back to what the Services serve")
		Expect(releaseEvents(rel, "Switched")).To(BeEmpty())
		Expect(jobNames(rel, specs.PostSwitch)).To(BeEmpty())
	})

	It("makes no phantom switch from a status written by hand in steady state", func() {
		settle(rel)
		before := get(rel).Status.LastSwitchTime
		editStatus(rel, func(s *v1alpha1.MagentoReleaseStatus) { s.ActiveColor = v1alpha1.Green })
		Eventually(func() v1alpha1.Color { return get(rel).Status.ActiveColor }, timeout, interval).Should(Equal(v1alpha1.Blue))
		Consistently(func() string { return servicesColor(rel) }, 2*resync, interval).Should(Equal("blue"))
		Expect(get(rel).Status.LastSwitchTime).To(Equal(before))
		Expect(releaseEvents(rel, "Switched")).To(BeEmpty())
		Expect(jobNames(rel, specs.PostSwitch)).To(BeEmpty())
	})

	It("sets back Services moved by hand to a slot that fails the gate", func() {
		change(rel, func(r *v1alpha1.MagentoRelease) { r.Spec.ActiveColor = v1alpha1.Green })
		Eventually(func() *metav1.Condition { return condition(rel, v1alpha1.ConditionProgressing) }, timeout, interval).
			Should(HaveField("Reason", "Switching"))
		for _, name := range []string{rel.Name, rel.Name + "-php-fpm"} {
			Eventually(func() error {
				s := service(rel, name)
				s.Spec.Selector[specs.LabelColor] = "green"
				return k8sClient.Update(ctx, s)
			}, timeout, interval).Should(Succeed())
		}
		Eventually(func() string { return servicesColor(rel) }, timeout, interval).Should(Equal("blue"))
		Consistently(func() string { return servicesColor(rel) }, 2*resync, interval).Should(Equal("blue"))
		Expect(get(rel).Status.ActiveColor).To(Equal(v1alpha1.Blue))
		Expect(releaseEvents(rel, "Switched")).To(BeEmpty())

		rollOutSlot(rel, v1alpha1.Green) // once green passes the gate, the switch happens properly
		Eventually(func() string { return servicesColor(rel) }, timeout, interval).Should(Equal("green"))
		Eventually(func() []eventsv1.Event { return releaseEvents(rel, "Switched") }, timeout, interval).Should(HaveLen(1))
		Eventually(func() []string { return jobNames(rel, specs.PostSwitch) }, timeout, interval).Should(HaveLen(1))
	})
})

var _ = Describe("Names", func() {
	It("work end to end at the longest the API accepts: both slots, preview, Ingress, migration and post-switch Job", func() {
		rel := builder.MakeRelease(newNamespace(), "s"+strings.Repeat("x", v1alpha1.MaxNameLength-1)).Migration().
			PostSwitch("php", "bin/magento", "cache:clean").
			Ingress(v1alpha1.IngressSpec{Host: "shop.example.com", PreviewHost: "preview.shop.example.com"}).Obj()
		Expect(k8sClient.Create(ctx, rel)).To(Succeed())
		settle(rel)
		migration := deployAndSwitch(rel, "feature-2", "")
		Eventually(func() []string { rollOutAll(rel); return jobNames(rel, specs.Migration) }, timeout, interval).Should(ConsistOf(migration))
		finishJob(rel, migration, true)
		Eventually(func() string { return servicesColor(rel) }, timeout, interval).Should(Equal("green"))
		settle(rel)
		Eventually(func() []string { return jobNames(rel, specs.PostSwitch) }, timeout, interval).Should(HaveLen(1))

		Expect(service(rel, rel.Name+"-preview")).NotTo(BeNil())
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(rel), &networkingv1.Ingress{})).To(Succeed())
		for _, color := range v1alpha1.Colors {
			Expect(service(rel, specs.SlotName(rel, specs.PHPFPM, color))).NotTo(BeNil())
			for _, comp := range specs.SlotComponents {
				Expect(deployment(rel, comp, color)).NotTo(BeNil(), "%s %s", comp, color)
			}
		}
		st := get(rel).Status
		Expect(st.PostSwitchJob).To(HaveLen(63))
		Expect(st.PostSwitchJobPending).To(BeFalse())
		Expect(condition(rel, v1alpha1.ConditionDegraded).Status).To(Equal(metav1.ConditionFalse))
	})
})

var _ = Describe("Every transition is told (rule 12)", func() {
	var rel *v1alpha1.MagentoRelease

	BeforeEach(func() {
		rel = builder.MakeRelease(newNamespace(), "shop").Obj()
		Expect(k8sClient.Create(ctx, rel)).To(Succeed())
		settle(rel)
		change(rel, func(r *v1alpha1.MagentoRelease) {
			r.Spec.Green = &v1alpha1.Slot{Tag: "feature-2"}
			r.Spec.IdleScaleDown.Enabled = ptr.To(false)
		})
		settle(rel)
	})

	It("records each of four quick switches, and the same switches again minutes later", func() {
		switchTo := func(c v1alpha1.Color) {
			change(rel, func(r *v1alpha1.MagentoRelease) { r.Spec.ActiveColor = c })
			Eventually(func() string { rollOutAll(rel); return servicesColor(rel) }, timeout, interval).Should(Equal(string(c)))
		}
		for _, c := range []v1alpha1.Color{v1alpha1.Green, v1alpha1.Blue, v1alpha1.Green, v1alpha1.Blue} {
			switchTo(c)
		}
		Eventually(func() []string { return notes(releaseEvents(rel, "Switched")) }, timeout, interval).Should(HaveLen(4))
		settle(rel)
		fakeClock.Step(3 * time.Minute)
		switchTo(v1alpha1.Green)
		switchTo(v1alpha1.Blue)
		Eventually(func() []string { return notes(releaseEvents(rel, "Switched")) }, timeout, interval).Should(HaveLen(6))
		Expect(notes(releaseEvents(rel, "Switched"))).To(HaveEach(MatchRegexp(`^Switched traffic from (blue to green \(feature-2\)|green to blue \(main-1\))$`)))
		Consistently(func() []eventsv1.Event { return releaseEvents(rel, "Switched") }, 2*resync, interval).Should(HaveLen(6))
	})

	It("reports the serving slot unavailable past the progress deadline (LiveUnavailable)", func() {
		change(rel, func(r *v1alpha1.MagentoRelease) { r.Spec.ProgressDeadlineSeconds = ptr.To[int32](120) })
		settle(rel)
		Eventually(func() error { // a php-fpm pod is gone, its replacement unschedulable
			d := deployment(rel, specs.PHPFPM, v1alpha1.Blue)
			d.Status.AvailableReplicas, d.Status.ReadyReplicas = 1, 1
			return k8sClient.Status().Update(ctx, d)
		}, timeout, interval).Should(Succeed())
		Eventually(func() *metav1.Condition { return condition(rel, v1alpha1.ConditionReady) }, timeout, interval).
			Should(HaveField("Status", metav1.ConditionFalse))
		Expect(condition(rel, v1alpha1.ConditionDegraded).Status).To(Equal(metav1.ConditionFalse), "not before the deadline")
		fakeClock.Step(121 * time.Second)
		Expect(degradedFor(rel, "LiveUnavailable")).To(Equal("blue serves traffic but has not been available for 2m0s: php-fpm is not available"))
		Eventually(func() []string { return notes(releaseEvents(rel, "Degraded")) }, timeout, interval).
			Should(ContainElement(ContainSubstring("has not been available")))
		settle(rel)
		Expect(condition(rel, v1alpha1.ConditionDegraded).Status).To(Equal(metav1.ConditionFalse))
	})
})
