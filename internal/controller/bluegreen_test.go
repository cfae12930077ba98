package controller

import (
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
	"github.com/magento-operator/magento-operator/internal/specs"
	"github.com/magento-operator/magento-operator/internal/testenv/suite"
	"github.com/magento-operator/magento-operator/test/builder"
)

var _ = Describe("A MagentoRelease", func() {
	var rel *v1alpha1.MagentoRelease

	BeforeEach(func() { rel = builder.MakeRelease(env.NewNamespace(), "shop").Obj() })

	// deployGreen adds green at tag and waits until its Deployments exist.
	deployGreen := func(tag string) {
		env.Change(rel, func(r *v1alpha1.MagentoRelease) { r.Spec.Green = &v1alpha1.Slot{Tag: tag} })
		Eventually(func() string { return builder.Image(env.Deployment(rel, specs.PHPFPM, v1alpha1.Green)) }).
			Should(Equal(builder.Registry + "/php:" + tag))
	}

	It("rolls out the first slot and points the Services at it straight away", func() {
		Expect(env.Client.Create(env.Ctx, rel)).To(Succeed())
		Eventually(func() string { return env.ServicesColor(rel) }).Should(Equal("blue"))
		// The Services are written first in a pass, the slot right after.
		for _, comp := range specs.SlotComponents {
			Eventually(func() *appsv1.Deployment { return env.Deployment(rel, comp, v1alpha1.Blue) }).
				NotTo(BeNil(), "%s", comp)
		}
		web := env.Deployment(rel, specs.Web, v1alpha1.Blue)
		Expect(builder.Image(web)).To(Equal(builder.Registry + "/nginx:main-1"))
		Expect(web.Spec.Template.Spec.Containers[0].Env).To(ContainElements(
			corev1.EnvVar{Name: "PHP_FPM_HOST", Value: "shop-php-fpm-blue"}, corev1.EnvVar{Name: "PHP_FPM_PORT", Value: "9000"}))
		Expect(builder.Replicas(env.Deployment(rel, specs.Cron, v1alpha1.Blue))).To(BeEquivalentTo(1))
		Expect(builder.Replicas(env.Deployment(rel, specs.Consumer, v1alpha1.Blue))).To(BeEquivalentTo(1))
		Eventually(func() *corev1.Service { return env.Service(rel, "shop-php-fpm-blue") }).
			Should(HaveField("Spec.Selector", HaveKeyWithValue(specs.LabelColor, "blue")))
		Expect(env.Service(rel, "shop-preview")).To(BeNil(), "no preview with one slot")
		Eventually(func() any { return env.Get(rel).Status.ActiveColor }).Should(Equal(v1alpha1.Blue))
		Expect(env.Condition(rel, v1alpha1.ConditionReady).Status).To(Equal(metav1.ConditionFalse))

		env.Settle(rel)
		st := env.Get(rel).Status
		Expect(st.Blue.State).To(Equal(v1alpha1.SlotActive))
		Expect(st.Blue.Ready).To(BeTrue())
		Expect(st.Blue.Tag).To(Equal("main-1"))
		Expect(st.PreviewColor).To(BeEmpty())
		for _, c := range st.Conditions {
			Expect(c.ObservedGeneration).To(Equal(env.Get(rel).Generation))
		}
	})

	It("deploys a new tag to the idle slot, previews it, and switches once it is ready", func() {
		Expect(env.Client.Create(env.Ctx, rel)).To(Succeed())
		env.Settle(rel)
		deployGreen("feature-2")
		Eventually(func() *corev1.Service { return env.Service(rel, "shop-preview") }).ShouldNot(BeNil())
		Expect(env.Service(rel, "shop-preview").Spec.Selector).To(HaveKeyWithValue(specs.LabelColor, "green"))
		Expect(builder.Replicas(env.Deployment(rel, specs.Cron, v1alpha1.Green))).To(BeEquivalentTo(0))
		Expect(builder.Replicas(env.Deployment(rel, specs.Consumer, v1alpha1.Green))).To(BeEquivalentTo(0))
		env.Settle(rel)
		Expect(env.Get(rel).Status.Green.State).To(Equal(v1alpha1.SlotPreview))
		Expect(env.Get(rel).Status.PreviewColor).To(Equal(v1alpha1.Green))

		env.Change(rel, func(r *v1alpha1.MagentoRelease) { r.Spec.ActiveColor = v1alpha1.Green })
		Eventually(func() string { return env.ServicesColor(rel) }).Should(Equal("green"))
		// The status that records the switch is written right after the Services.
		Eventually(func() v1alpha1.Color { return env.Get(rel).Status.ActiveColor }).Should(Equal(v1alpha1.Green))
		st := env.Get(rel).Status
		Expect(st.LastSwitchTime).NotTo(BeNil())
		Expect(st.PreviewColor).To(Equal(v1alpha1.Blue))
		env.Settle(rel)
		Expect(builder.Replicas(env.Deployment(rel, specs.Cron, v1alpha1.Green))).To(BeEquivalentTo(1))
		Expect(builder.Replicas(env.Deployment(rel, specs.Cron, v1alpha1.Blue))).To(BeEquivalentTo(0))
		Eventually(func() []string { return env.EventReasons(rel) }).Should(ContainElements("Deploying", "Switched"))
	})

	It("holds a switch while the target is not ready, reports Degraded past the deadline, and completes once ready", func() {
		rel.Spec.ProgressDeadlineSeconds = ptr.To[int32](60)
		Expect(env.Client.Create(env.Ctx, rel)).To(Succeed())
		env.Settle(rel)
		deployGreen("feature-3")
		env.Change(rel, func(r *v1alpha1.MagentoRelease) { r.Spec.ActiveColor = v1alpha1.Green })

		Eventually(func() *metav1.Condition { return env.Condition(rel, v1alpha1.ConditionProgressing) }).
			Should(HaveField("Reason", "Switching"))
		Consistently(func() string { return env.ServicesColor(rel) }, 3*suite.Resync).Should(Equal("blue"))
		Expect(env.Condition(rel, v1alpha1.ConditionDegraded).Status).To(Equal(metav1.ConditionFalse))
		Expect(env.Get(rel).Status.SwitchStartTime).NotTo(BeNil())

		env.Clock.Step(61 * time.Second)
		Eventually(func() *metav1.Condition { return env.Condition(rel, v1alpha1.ConditionDegraded) }).
			Should(And(HaveField("Status", metav1.ConditionTrue), HaveField("Reason", "ProgressDeadlineExceeded")))
		Expect(env.Condition(rel, v1alpha1.ConditionDegraded).Message).To(ContainSubstring("green is not ready"))
		Expect(env.Get(rel).Status.Phase).To(Equal(v1alpha1.PhaseDegraded))
		Expect(env.ServicesColor(rel)).To(Equal("blue"), "nothing is flipped past the deadline")
		Eventually(func() []string { return env.EventReasons(rel) }).Should(ContainElement("Degraded"))

		By("following the operator's advice literally: a fixed tag for the target, in one update")
		Expect(env.Condition(rel, v1alpha1.ConditionDegraded).Message).To(ContainSubstring("deploy a fixed tag, digest or revision to green"))
		env.Change(rel, func(r *v1alpha1.MagentoRelease) { r.Spec.Green.Tag = "feature-3-fixed" })
		Eventually(func() string { return builder.Image(env.Deployment(rel, specs.PHPFPM, v1alpha1.Green)) }).
			Should(HaveSuffix(":feature-3-fixed"))
		Eventually(func() string { env.RollOutAll(rel); return env.ServicesColor(rel) }).Should(Equal("green"))
		env.Settle(rel)
		Expect(env.Condition(rel, v1alpha1.ConditionDegraded).Status).To(Equal(metav1.ConditionFalse))
		Expect(env.Get(rel).Status.Phase).To(Equal(v1alpha1.PhaseHealthy))
	})

	It("does not count Deployment status left over from an older generation as ready", func() {
		Expect(env.Client.Create(env.Ctx, rel)).To(Succeed())
		env.Settle(rel)
		deployGreen("feature-4")
		for _, comp := range specs.SlotComponents {
			d := env.Deployment(rel, comp, v1alpha1.Green)
			n := ptr.Deref(d.Spec.Replicas, 1)
			d.Status = appsv1.DeploymentStatus{ObservedGeneration: d.Generation - 1,
				Replicas: n, UpdatedReplicas: n, ReadyReplicas: n, AvailableReplicas: n}
			Expect(env.Client.Status().Update(env.Ctx, d)).To(Succeed())
		}
		env.Change(rel, func(r *v1alpha1.MagentoRelease) { r.Spec.ActiveColor = v1alpha1.Green })
		Consistently(func() string { return env.ServicesColor(rel) }, 3*suite.Resync).Should(Equal("blue"))
		Expect(env.Get(rel).Status.Green.Ready).To(BeFalse())
		env.RollOutSlot(rel, v1alpha1.Green)
		Eventually(func() string { return env.ServicesColor(rel) }).Should(Equal("green"))
	})

	It("never runs cron or consumers in both slots, and never changes the live slot's pod templates", func() {
		Expect(env.Client.Create(env.Ctx, rel)).To(Succeed())
		env.Settle(rel)
		templates := func(color v1alpha1.Color) map[specs.Component]string {
			out := map[specs.Component]string{}
			for _, comp := range specs.SlotComponents {
				b, err := json.Marshal(env.Deployment(rel, comp, color).Spec.Template)
				Expect(err).NotTo(HaveOccurred())
				out[comp] = string(b)
			}
			return out
		}
		blueBefore := templates(v1alpha1.Blue)

		// Record every change to cron and consumer Deployments, with the
		// replica counts of both slots at that moment.
		w, err := watchDeployments(rel)
		Expect(err).NotTo(HaveOccurred())
		var mu sync.Mutex
		var violations []string
		var seen int
		var switching atomic.Bool // before the switch, the live slot's cron must never stop
		done := make(chan struct{})
		go func() {
			defer GinkgoRecover()
			defer close(done)
			state := map[string]int32{}
			for ev := range w.ResultChan() {
				d, ok := ev.Object.(*appsv1.Deployment)
				if !ok {
					continue
				}
				running := d.Status.Replicas + ptr.Deref(d.Status.TerminatingReplicas, 0)
				state[d.Name] = max(ptr.Deref(d.Spec.Replicas, 1), running)
				if ev.Type == watch.Deleted {
					state[d.Name] = 0
				}
				mu.Lock()
				seen++
				if d.Name == specs.SlotName(rel, specs.Cron, v1alpha1.Blue) && !switching.Load() && ptr.Deref(d.Spec.Replicas, 1) == 0 {
					violations = append(violations, "blue's cron stopped while blue served and no switch was asked for")
				}
				for _, comp := range []specs.Component{specs.Cron, specs.Consumer} {
					b, g := state[specs.SlotName(rel, comp, v1alpha1.Blue)], state[specs.SlotName(rel, comp, v1alpha1.Green)]
					if b > 0 && g > 0 {
						violations = append(violations, string(comp)+" runs in both slots")
					}
				}
				mu.Unlock()
			}
		}()

		deployGreen("feature-5")
		env.Settle(rel)
		// A second deploy renders green's cron and consumers again at zero
		// replicas; while their status lags that generation, blue's run on.
		deployGreen("feature-6")
		Consistently(func() int32 { return builder.Replicas(env.Deployment(rel, specs.Cron, v1alpha1.Blue)) }, time.Second).
			Should(BeEquivalentTo(1), "blue's cron stopped for a deploy to green")
		env.Settle(rel)
		switching.Store(true)
		env.Change(rel, func(r *v1alpha1.MagentoRelease) { r.Spec.ActiveColor = v1alpha1.Green })
		Eventually(func() string { return env.ServicesColor(rel) }).Should(Equal("green"))
		// The old slot's cron is still running: the new one must wait.
		Expect(builder.Replicas(env.Deployment(rel, specs.Cron, v1alpha1.Green))).To(BeEquivalentTo(0))
		env.Settle(rel)
		Expect(builder.Replicas(env.Deployment(rel, specs.Cron, v1alpha1.Green))).To(BeEquivalentTo(1))
		Expect(builder.Replicas(env.Deployment(rel, specs.Consumer, v1alpha1.Green))).To(BeEquivalentTo(1))
		Expect(templates(v1alpha1.Blue)).To(Equal(blueBefore), "blue's pod templates changed")

		// And back: green is now live and frozen.
		greenBefore := templates(v1alpha1.Green)
		env.Change(rel, func(r *v1alpha1.MagentoRelease) { r.Spec.ActiveColor = v1alpha1.Blue })
		Eventually(func() string { return env.ServicesColor(rel) }).Should(Equal("blue"))
		env.Settle(rel)
		Expect(templates(v1alpha1.Green)).To(Equal(greenBefore), "green's pod templates changed")
		Expect(templates(v1alpha1.Blue)).To(Equal(blueBefore), "blue's pod templates changed")

		w.Stop()
		<-done
		mu.Lock()
		defer mu.Unlock()
		Expect(seen).To(BeNumerically(">", 10), "the watch saw too little to judge")
		Expect(violations).To(BeEmpty())
	})

	It("keeps shared settings away from the live slot and reports it outdated", func() {
		Expect(env.Client.Create(env.Ctx, rel)).To(Succeed())
		env.Settle(rel)
		before := env.Deployment(rel, specs.PHPFPM, v1alpha1.Blue).Spec.Template
		env.Change(rel, func(r *v1alpha1.MagentoRelease) {
			r.Spec.Env = []corev1.EnvVar{{Name: "MAGE_MODE", Value: "production"}}
		})

		Eventually(func() bool { s := env.Get(rel).Status; return s.Blue != nil && s.Blue.Outdated }).Should(BeTrue())
		Expect(env.Deployment(rel, specs.PHPFPM, v1alpha1.Blue).Spec.Template).To(Equal(before))
		// A new deploy to green picks the settings up.
		deployGreen("feature-6")
		Expect(env.Deployment(rel, specs.PHPFPM, v1alpha1.Green).Spec.Template.Spec.Containers[0].Env).
			To(ContainElement(corev1.EnvVar{Name: "MAGE_MODE", Value: "production"}))
		Eventually(func() bool { return env.Get(rel).Status.Green.Outdated }).Should(BeFalse())
	})

	It("scales the idle slot down once the TTL passed, removing its HPAs and PDBs", func() {
		rel.Spec.Web.Autoscaling = &v1alpha1.Autoscaling{MaxReplicas: 5}
		rel.Spec.IdleScaleDown.After = &metav1.Duration{Duration: time.Hour}
		Expect(env.Client.Create(env.Ctx, rel)).To(Succeed())
		env.Settle(rel)
		deployGreen("feature-7")
		env.Settle(rel)
		env.Change(rel, func(r *v1alpha1.MagentoRelease) { r.Spec.ActiveColor = v1alpha1.Green })
		Eventually(func() string { return env.ServicesColor(rel) }).Should(Equal("green"))
		env.Settle(rel)
		Expect(exists(&autoscalingv2.HorizontalPodAutoscaler{}, rel, "shop-web-blue")).To(BeTrue())
		Expect(exists(&policyv1.PodDisruptionBudget{}, rel, "shop-php-fpm-blue")).To(BeTrue())
		at := env.Get(rel).Status.Blue.IdleScaleDownTime
		Expect(at).NotTo(BeNil())

		env.Clock.Step(59 * time.Minute)
		Consistently(func() int32 { return builder.Replicas(env.Deployment(rel, specs.Web, v1alpha1.Blue)) }, 2*suite.Resync).
			Should(BeNumerically(">", 0), "scaled down before the TTL")

		env.Clock.Step(2 * time.Minute)
		Eventually(func() int32 { return builder.Replicas(env.Deployment(rel, specs.PHPFPM, v1alpha1.Blue)) }).Should(BeZero())
		Expect(builder.Replicas(env.Deployment(rel, specs.Web, v1alpha1.Blue))).To(BeZero())
		Expect(exists(&autoscalingv2.HorizontalPodAutoscaler{}, rel, "shop-web-blue")).To(BeFalse())
		Expect(exists(&policyv1.PodDisruptionBudget{}, rel, "shop-web-blue")).To(BeFalse())
		Expect(exists(&policyv1.PodDisruptionBudget{}, rel, "shop-php-fpm-blue")).To(BeFalse())
		Expect(exists(&autoscalingv2.HorizontalPodAutoscaler{}, rel, "shop-web-green")).To(BeTrue())
		Eventually(func() v1alpha1.SlotState { return env.Get(rel).Status.Blue.State }).Should(Equal(v1alpha1.SlotScaledDown))
		Expect(env.ServicesColor(rel)).To(Equal("green"))
		Eventually(func() []string { return env.EventReasons(rel) }).Should(ContainElement("ScaledDown"))

		By("rolling back to the scaled-down slot: scale up first, switch when ready")
		env.Change(rel, func(r *v1alpha1.MagentoRelease) { r.Spec.ActiveColor = v1alpha1.Blue })
		Eventually(func() int32 { return builder.Replicas(env.Deployment(rel, specs.PHPFPM, v1alpha1.Blue)) }).Should(BeEquivalentTo(2))
		Expect(builder.Image(env.Deployment(rel, specs.PHPFPM, v1alpha1.Blue))).To(Equal(builder.Registry + "/php:main-1"))
		Consistently(func() string { return env.ServicesColor(rel) }, 2*suite.Resync).Should(Equal("green"))
		env.Settle(rel)
		Expect(env.ServicesColor(rel)).To(Equal("blue"))
		Expect(exists(&autoscalingv2.HorizontalPodAutoscaler{}, rel, "shop-web-blue")).To(BeTrue())
		Eventually(func() []string { return env.EventReasons(rel) }).Should(ContainElement("ScaledUp"))
	})

	It("grows the target to the live slot's HPA-grown size before traffic moves, then restores the HPA", func() {
		rel.Spec.Web.Autoscaling = &v1alpha1.Autoscaling{MinReplicas: ptr.To[int32](2), MaxReplicas: 10}
		Expect(env.Client.Create(env.Ctx, rel)).To(Succeed())
		env.Settle(rel)
		deployGreen("feature-8")
		env.Settle(rel)

		By("the HPA grows blue's web to 7 under load")
		d := env.Deployment(rel, specs.Web, v1alpha1.Blue)
		d.Spec.Replicas = ptr.To[int32](7)
		Expect(env.Client.Update(env.Ctx, d)).To(Succeed())
		env.RollOutSlot(rel, v1alpha1.Blue)

		env.Change(rel, func(r *v1alpha1.MagentoRelease) { r.Spec.ActiveColor = v1alpha1.Green })
		Eventually(func() int32 { return builder.Replicas(env.Deployment(rel, specs.Web, v1alpha1.Green)) }).Should(BeEquivalentTo(7))
		hpa := &autoscalingv2.HorizontalPodAutoscaler{}
		Expect(env.Client.Get(env.Ctx, client.ObjectKey{Namespace: rel.Namespace, Name: "shop-web-green"}, hpa)).To(Succeed())
		Expect(hpa.Spec.MinReplicas).To(HaveValue(BeEquivalentTo(7)))
		Expect(env.ServicesColor(rel)).To(Equal("blue"), "traffic moved before the target had the capacity")
		Expect(builder.Replicas(env.Deployment(rel, specs.Web, v1alpha1.Blue))).To(BeEquivalentTo(7), "the live slot was resized")

		env.RollOutSlot(rel, v1alpha1.Green)
		Eventually(func() string { return env.ServicesColor(rel) }).Should(Equal("green"))
		Eventually(func() *int32 {
			Expect(env.Client.Get(env.Ctx, client.ObjectKeyFromObject(hpa), hpa)).To(Succeed())
			return hpa.Spec.MinReplicas
		}).Should(HaveValue(BeEquivalentTo(2)))
		Expect(builder.Replicas(env.Deployment(rel, specs.Web, v1alpha1.Green))).To(BeEquivalentTo(7), "the HPA, not the operator, shrinks it")
	})

	It("sets back a hand-edited Service selector and a hand-scaled Deployment", func() {
		Expect(env.Client.Create(env.Ctx, rel)).To(Succeed())
		env.Settle(rel)
		s := env.Service(rel, "shop")
		s.Spec.Selector[specs.LabelColor] = "green"
		Expect(env.Client.Update(env.Ctx, s)).To(Succeed())
		d := env.Deployment(rel, specs.PHPFPM, v1alpha1.Blue)
		d.Spec.Replicas = ptr.To[int32](9)
		Expect(env.Client.Update(env.Ctx, d)).To(Succeed())
		Eventually(func() string { return env.ServicesColor(rel) }).Should(Equal("blue"))
		Eventually(func() int32 { return builder.Replicas(env.Deployment(rel, specs.PHPFPM, v1alpha1.Blue)) }).Should(BeEquivalentTo(2))
	})

	It("deletes the objects of a slot removed from the spec, but not while it is live", func() {
		Expect(env.Client.Create(env.Ctx, rel)).To(Succeed())
		env.Settle(rel)
		deployGreen("feature-9")
		env.Settle(rel)
		env.Change(rel, func(r *v1alpha1.MagentoRelease) { r.Spec.Green = nil })
		Eventually(func() *appsv1.Deployment { return env.Deployment(rel, specs.Web, v1alpha1.Green) }).Should(BeNil())
		for _, comp := range specs.SlotComponents {
			Expect(env.Deployment(rel, comp, v1alpha1.Green)).To(BeNil())
		}
		Expect(env.Service(rel, "shop-php-fpm-green")).To(BeNil())
		Expect(env.Service(rel, "shop-preview")).To(BeNil())
		Eventually(func() any { return env.Get(rel).Status.Green }).Should(BeNil())
		Eventually(func() any { return env.Get(rel).Status.PreviewColor }).Should(BeEmpty())

		By("removing the live slot while switching away from it")
		deployGreen("feature-10")
		env.Change(rel, func(r *v1alpha1.MagentoRelease) {
			r.Spec.ActiveColor = v1alpha1.Green
			r.Spec.Blue = nil
		})

		Consistently(func() *appsv1.Deployment { return env.Deployment(rel, specs.Web, v1alpha1.Blue) }, 2*suite.Resync).
			ShouldNot(BeNil(), "the live slot went before traffic left it")
		Expect(env.ServicesColor(rel)).To(Equal("blue"))
		env.RollOutSlot(rel, v1alpha1.Green)
		Eventually(func() string { return env.ServicesColor(rel) }).Should(Equal("green"))
		Eventually(func() *appsv1.Deployment { return env.Deployment(rel, specs.Web, v1alpha1.Blue) }).Should(BeNil())
	})

	It("writes nothing once converged, through 30 s of reconciles", func() {
		rel.Spec.Green = &v1alpha1.Slot{Tag: "feature-11"}
		rel.Spec.Web.Autoscaling = &v1alpha1.Autoscaling{MaxReplicas: 4}
		rel.Spec.Ingress = &v1alpha1.IngressSpec{Host: "shop.example.com", PreviewHost: "preview.shop.example.com", ClassName: "nginx"}
		Expect(env.Client.Create(env.Ctx, rel)).To(Succeed())
		env.Settle(rel)
		versions := func() map[string]string {
			out := map[string]string{"release": env.Get(rel).ResourceVersion}
			lists := []client.ObjectList{&appsv1.DeploymentList{}, &corev1.ServiceList{},
				&autoscalingv2.HorizontalPodAutoscalerList{}, &policyv1.PodDisruptionBudgetList{}, &networkingv1.IngressList{}}
			for _, l := range lists {
				Expect(env.Client.List(env.Ctx, l, client.InNamespace(rel.Namespace))).To(Succeed())
				eachObject(l, func(o client.Object) { out[fmt.Sprintf("%T/%s", o, o.GetName())] = o.GetResourceVersion() })
			}
			return out
		}
		before := versions()
		Expect(len(before)).To(BeNumerically(">=", 17), "children missing: %v", before)
		start := suite.Reconciles()
		time.Sleep(30 * time.Second)
		Expect(suite.Reconciles()-start).To(BeNumerically(">=", 10), "too few reconciles to judge")
		Expect(versions()).To(Equal(before))
	})
})

func exists(obj client.Object, rel *v1alpha1.MagentoRelease, name string) bool {
	err := env.Client.Get(env.Ctx, client.ObjectKey{Namespace: rel.Namespace, Name: name}, obj)
	if apierrors.IsNotFound(err) {
		return false
	}
	Expect(err).NotTo(HaveOccurred())
	return true
}
