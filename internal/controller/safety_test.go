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
	"github.com/magento-operator/magento-operator/internal/testenv/suite"
	"github.com/magento-operator/magento-operator/test/builder"
)

// editStatus writes the release's status by hand, as a restore tool, an old
// second manager or `kubectl edit --subresource=status` would.
func editStatus(rel *v1alpha1.MagentoRelease, mutate func(*v1alpha1.MagentoReleaseStatus)) {
	Eventually(func() error {
		cur := env.Get(rel)
		mutate(&cur.Status)
		return env.Client.Status().Update(env.Ctx, cur)
	}).Should(Succeed())
}

var _ = Describe("Traffic is what the Services serve (rule 10)", func() {
	var rel *v1alpha1.MagentoRelease

	BeforeEach(func() {
		rel = builder.MakeRelease(env.NewNamespace(), "shop").PostSwitch("php", "bin/magento", "cache:clean").Obj()
		Expect(env.Client.Create(env.Ctx, rel)).To(Succeed())
		env.Settle(rel)
		env.Change(rel, func(r *v1alpha1.MagentoRelease) { r.Spec.Green = &v1alpha1.Slot{Tag: "feature-2"} })
		Eventually(func() *appsv1.Deployment { return env.Deployment(rel, specs.PHPFPM, v1alpha1.Green) }).ShouldNot(BeNil())
	})

	It("never moves traffic to an unready target because the status says so", func() {
		env.Change(rel, func(r *v1alpha1.MagentoRelease) { r.Spec.ActiveColor = v1alpha1.Green })
		Eventually(func() *metav1.Condition { return env.Condition(rel, v1alpha1.ConditionProgressing) }).
			Should(HaveField("Reason", "Switching"))

		editStatus(rel, func(s *v1alpha1.MagentoReleaseStatus) { s.ActiveColor = v1alpha1.Green })
		Consistently(func() string { return env.ServicesColor(rel) }, 3*suite.Resync).Should(Equal("blue"))
		Expect(env.Get(rel).Status.ActiveColor).To(Equal(v1alpha1.Blue), "the status is set back to what the Services serve")
		Expect(env.Events(rel, "Switched")).To(BeEmpty())
		Expect(env.JobNames(rel, specs.PostSwitch)).To(BeEmpty())
	})

	It("makes no phantom switch from a status written by hand in steady state", func() {
		env.Settle(rel)
		before := env.Get(rel).Status.LastSwitchTime
		editStatus(rel, func(s *v1alpha1.MagentoReleaseStatus) { s.ActiveColor = v1alpha1.Green })
		Eventually(func() v1alpha1.Color { return env.Get(rel).Status.ActiveColor }).Should(Equal(v1alpha1.Blue))
		Consistently(func() string { return env.ServicesColor(rel) }, 2*suite.Resync).Should(Equal("blue"))
		Expect(env.Get(rel).Status.LastSwitchTime).To(Equal(before))
		Expect(env.Events(rel, "Switched")).To(BeEmpty())
		Expect(env.JobNames(rel, specs.PostSwitch)).To(BeEmpty())
	})

	It("sets back Services moved by hand to a slot that fails the gate", func() {
		env.Change(rel, func(r *v1alpha1.MagentoRelease) { r.Spec.ActiveColor = v1alpha1.Green })
		Eventually(func() *metav1.Condition { return env.Condition(rel, v1alpha1.ConditionProgressing) }).
			Should(HaveField("Reason", "Switching"))
		for _, name := range []string{rel.Name, rel.Name + "-php-fpm"} {
			Eventually(func() error {
				s := env.Service(rel, name)
				s.Spec.Selector[specs.LabelColor] = "green"
				return env.Client.Update(env.Ctx, s)
			}).Should(Succeed())
		}
		Eventually(func() string { return env.ServicesColor(rel) }).Should(Equal("blue"))
		Consistently(func() string { return env.ServicesColor(rel) }, 2*suite.Resync).Should(Equal("blue"))
		Expect(env.Get(rel).Status.ActiveColor).To(Equal(v1alpha1.Blue))
		Expect(env.Events(rel, "Switched")).To(BeEmpty())

		env.RollOutSlot(rel, v1alpha1.Green) // once green passes the gate, the switch happens properly
		Eventually(func() string { return env.ServicesColor(rel) }).Should(Equal("green"))
		Eventually(func() []eventsv1.Event { return env.Events(rel, "Switched") }).Should(HaveLen(1))
		Eventually(func() []string { return env.JobNames(rel, specs.PostSwitch) }).Should(HaveLen(1))
	})
})

var _ = Describe("Names", func() {
	It("work end to end at the longest the API accepts: both slots, preview, Ingress, migration and post-switch Job", func() {
		rel := builder.MakeRelease(env.NewNamespace(), "s"+strings.Repeat("x", v1alpha1.MaxNameLength-1)).Migration().
			PostSwitch("php", "bin/magento", "cache:clean").
			Ingress(v1alpha1.IngressSpec{Host: "shop.example.com", PreviewHost: "preview.shop.example.com"}).Obj()
		Expect(env.Client.Create(env.Ctx, rel)).To(Succeed())
		env.Settle(rel)
		migration := env.DeployAndSwitch(rel, "feature-2", "")
		Eventually(func() []string { env.RollOutAll(rel); return env.JobNames(rel, specs.Migration) }).Should(ConsistOf(migration))
		env.FinishJob(rel, migration, true)
		Eventually(func() string { return env.ServicesColor(rel) }).Should(Equal("green"))
		env.Settle(rel)
		Eventually(func() []string { return env.JobNames(rel, specs.PostSwitch) }).Should(HaveLen(1))

		Expect(env.Service(rel, rel.Name+"-preview")).NotTo(BeNil())
		Expect(env.Client.Get(env.Ctx, client.ObjectKeyFromObject(rel), &networkingv1.Ingress{})).To(Succeed())
		for _, color := range v1alpha1.Colors {
			Expect(env.Service(rel, specs.SlotName(rel, specs.PHPFPM, color))).NotTo(BeNil())
			for _, comp := range specs.SlotComponents {
				Expect(env.Deployment(rel, comp, color)).NotTo(BeNil(), "%s %s", comp, color)
			}
		}
		st := env.Get(rel).Status
		Expect(st.PostSwitchJob).To(HaveLen(63))
		Expect(st.PostSwitchJobPending).To(BeFalse())
		Expect(env.Condition(rel, v1alpha1.ConditionDegraded).Status).To(Equal(metav1.ConditionFalse))
	})
})

var _ = Describe("Every transition is told (rule 12)", func() {
	var rel *v1alpha1.MagentoRelease

	BeforeEach(func() {
		rel = builder.MakeRelease(env.NewNamespace(), "shop").Obj()
		Expect(env.Client.Create(env.Ctx, rel)).To(Succeed())
		env.Settle(rel)
		env.Change(rel, func(r *v1alpha1.MagentoRelease) {
			r.Spec.Green = &v1alpha1.Slot{Tag: "feature-2"}
			r.Spec.IdleScaleDown.Enabled = ptr.To(false)
		})

		env.Settle(rel)
	})

	It("records each of four quick switches, and the same switches again minutes later", func() {
		switchTo := func(c v1alpha1.Color) {
			env.Change(rel, func(r *v1alpha1.MagentoRelease) { r.Spec.ActiveColor = c })
			Eventually(func() string { env.RollOutAll(rel); return env.ServicesColor(rel) }).Should(Equal(string(c)))
		}
		for _, c := range []v1alpha1.Color{v1alpha1.Green, v1alpha1.Blue, v1alpha1.Green, v1alpha1.Blue} {
			switchTo(c)
		}
		Eventually(func() []string { return notes(env.Events(rel, "Switched")) }).Should(HaveLen(4))
		env.Settle(rel)
		env.Clock.Step(3 * time.Minute)
		switchTo(v1alpha1.Green)
		switchTo(v1alpha1.Blue)
		Eventually(func() []string { return notes(env.Events(rel, "Switched")) }).Should(HaveLen(6))
		Expect(notes(env.Events(rel, "Switched"))).To(HaveEach(MatchRegexp(`^Switched traffic from (blue to green \(feature-2\)|green to blue \(main-1\))$`)))
		Consistently(func() []eventsv1.Event { return env.Events(rel, "Switched") }, 2*suite.Resync).Should(HaveLen(6))
	})

	It("reports the serving slot unavailable past the progress deadline (LiveUnavailable)", func() {
		env.Change(rel, func(r *v1alpha1.MagentoRelease) { r.Spec.ProgressDeadlineSeconds = ptr.To[int32](120) })
		env.Settle(rel)
		Eventually(func() error { // a php-fpm pod is gone, its replacement unschedulable
			d := env.Deployment(rel, specs.PHPFPM, v1alpha1.Blue)
			d.Status.AvailableReplicas, d.Status.ReadyReplicas = 1, 1
			return env.Client.Status().Update(env.Ctx, d)
		}).Should(Succeed())
		Eventually(func() *metav1.Condition { return env.Condition(rel, v1alpha1.ConditionReady) }).
			Should(HaveField("Status", metav1.ConditionFalse))
		Expect(env.Condition(rel, v1alpha1.ConditionDegraded).Status).To(Equal(metav1.ConditionFalse), "not before the deadline")
		env.Clock.Step(121 * time.Second)
		Expect(env.DegradedFor(rel, "LiveUnavailable")).To(Equal("blue serves traffic but has not been available for 2m0s: php-fpm is not available"))
		Eventually(func() []string { return notes(env.Events(rel, "Degraded")) }).
			Should(ContainElement(ContainSubstring("has not been available")))
		env.Settle(rel)
		Expect(env.Condition(rel, v1alpha1.ConditionDegraded).Status).To(Equal(metav1.ConditionFalse))
	})
})
