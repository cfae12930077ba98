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
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
	"github.com/magento-operator/magento-operator/internal/specs"
	"github.com/magento-operator/magento-operator/test/builder"
)

var _ = Describe("A MagentoRelease", func() {
	var rel *v1alpha1.MagentoRelease

	BeforeEach(func() { rel = builder.MakeRelease(newNamespace(), "shop").Obj() })

	// deployGreen adds green at tag and waits until its Deployments exist.
	deployGreen := func(tag string) {
		change(rel, func(r *v1alpha1.MagentoRelease) { r.Spec.Green = &v1alpha1.Slot{Tag: tag} })
		Eventually(func() string { return image(deployment(rel, specs.PHPFPM, v1alpha1.Green)) }, timeout, interval).
			Should(Equal(builder.Registry + "/php:" + tag))
	}

	It("rolls out the first slot and points the Services at it straight away", func() {
		Expect(k8sClient.Create(ctx, rel)).To(Succeed())
		Eventually(func() string { return servicesColor(rel) }, timeout, interval).Should(Equal("blue"))
		// The Services are written first in a pass, the slot right after.
		for _, comp := range specs.SlotComponents {
			Eventually(func() *appsv1.Deployment { return deployment(rel, comp, v1alpha1.Blue) }, timeout, interval).
				NotTo(BeNil(), "%s", comp)
		}
		web := deployment(rel, specs.Web, v1alpha1.Blue)
		Expect(image(web)).To(Equal(builder.Registry + "/nginx:main-1"))
		Expect(web.Spec.Template.Spec.Containers[0].Env).To(ContainElements(
			corev1.EnvVar{Name: "PHP_FPM_HOST", Value: "shop-php-fpm-blue"}, corev1.EnvVar{Name: "PHP_FPM_PORT", Value: "9000"}))
		Expect(replicas(deployment(rel, specs.Cron, v1alpha1.Blue))).To(BeEquivalentTo(1))
		Expect(replicas(deployment(rel, specs.Consumer, v1alpha1.Blue))).To(BeEquivalentTo(1))
		Eventually(func() *corev1.Service { return service(rel, "shop-php-fpm-blue") }, timeout, interval).
			Should(HaveField("Spec.Selector", HaveKeyWithValue(specs.LabelColor, "blue")))
		Expect(service(rel, "shop-preview")).To(BeNil(), "no preview with one slot")
		Eventually(func() any { return get(rel).Status.ActiveColor }, timeout, interval).Should(Equal(v1alpha1.Blue))
		Expect(condition(rel, v1alpha1.ConditionReady).Status).To(Equal(metav1.ConditionFalse))

		settle(rel)
		st := get(rel).Status
		Expect(st.Blue.State).To(Equal(v1alpha1.SlotActive))
		Expect(st.Blue.Ready).To(BeTrue())
		Expect(st.Blue.Tag).To(Equal("main-1"))
		Expect(st.PreviewColor).To(BeEmpty())
		for _, c := range st.Conditions {
			Expect(c.ObservedGeneration).To(Equal(get(rel).Generation))
		}
	})

	It("deploys a new tag to the idle slot, previews it, and switches once it is ready", func() {
		Expect(k8sClient.Create(ctx, rel)).To(Succeed())
		settle(rel)
		deployGreen("feature-2")
		Eventually(func() *corev1.Service { return service(rel, "shop-preview") }, timeout, interval).ShouldNot(BeNil())
		Expect(service(rel, "shop-preview").Spec.Selector).To(HaveKeyWithValue(specs.LabelColor, "green"))
		Expect(replicas(deployment(rel, specs.Cron, v1alpha1.Green))).To(BeEquivalentTo(0))
		Expect(replicas(deployment(rel, specs.Consumer, v1alpha1.Green))).To(BeEquivalentTo(0))
		settle(rel)
		Expect(get(rel).Status.Green.State).To(Equal(v1alpha1.SlotPreview))
		Expect(get(rel).Status.PreviewColor).To(Equal(v1alpha1.Green))

		change(rel, func(r *v1alpha1.MagentoRelease) { r.Spec.ActiveColor = v1alpha1.Green })
		Eventually(func() string { return servicesColor(rel) }, timeout, interval).Should(Equal("green"))
		// The status that records the switch is written right after the Services.
		Eventually(func() v1alpha1.Color { return get(rel).Status.ActiveColor }, timeout, interval).Should(Equal(v1alpha1.Green))
		st := get(rel).Status
		Expect(st.LastSwitchTime).NotTo(BeNil())
		Expect(st.PreviewColor).To(Equal(v1alpha1.Blue))
		settle(rel)
		Expect(replicas(deployment(rel, specs.Cron, v1alpha1.Green))).To(BeEquivalentTo(1))
		Expect(replicas(deployment(rel, specs.Cron, v1alpha1.Blue))).To(BeEquivalentTo(0))
		Eventually(func() []string { return eventReasons(rel) }, timeout, interval).Should(ContainElements("Deploying", "Switched"))
	})

	It("holds a switch while the target is not ready, reports Degraded past the deadline, and completes once ready", func() {
		rel.Spec.ProgressDeadlineSeconds = ptr.To[int32](60)
		Expect(k8sClient.Create(ctx, rel)).To(Succeed())
		settle(rel)
		deployGreen("feature-3")
		change(rel, func(r *v1alpha1.MagentoRelease) { r.Spec.ActiveColor = v1alpha1.Green })

		Eventually(func() *metav1.Condition { return condition(rel, v1alpha1.ConditionProgressing) }, timeout, interval).
			Should(HaveField("Reason", "Switching"))
		Consistently(func() string { return servicesColor(rel) }, 3*resync, interval).Should(Equal("blue"))
		Expect(condition(rel, v1alpha1.ConditionDegraded).Status).To(Equal(metav1.ConditionFalse))
		Expect(get(rel).Status.SwitchStartTime).NotTo(BeNil())

		fakeClock.Step(61 * time.Second)
		Eventually(func() *metav1.Condition { return condition(rel, v1alpha1.ConditionDegraded) }, timeout, interval).
			Should(And(HaveField("Status", metav1.ConditionTrue), HaveField("Reason", "ProgressDeadlineExceeded")))
		Expect(condition(rel, v1alpha1.ConditionDegraded).Message).To(ContainSubstring("green is not ready"))
		Expect(servicesColor(rel)).To(Equal("blue"), "nothing is flipped past the deadline")
		Eventually(func() []string { return eventReasons(rel) }, timeout, interval).Should(ContainElement("Degraded"))

		By("following the operator's advice literally: a fixed tag for the target, in one update")
		Expect(condition(rel, v1alpha1.ConditionDegraded).Message).To(ContainSubstring("deploy a fixed tag, digest or revision to green"))
		change(rel, func(r *v1alpha1.MagentoRelease) { r.Spec.Green.Tag = "feature-3-fixed" })
		Eventually(func() string { return image(deployment(rel, specs.PHPFPM, v1alpha1.Green)) }, timeout, interval).
			Should(HaveSuffix(":feature-3-fixed"))
		Eventually(func() string { rollOutAll(rel); return servicesColor(rel) }, timeout, interval).Should(Equal("green"))
		settle(rel)
		Expect(condition(rel, v1alpha1.ConditionDegraded).Status).To(Equal(metav1.ConditionFalse))
	})

	It("does not count Deployment status left over from an older generation as ready", func() {
		Expect(k8sClient.Create(ctx, rel)).To(Succeed())
		settle(rel)
		deployGreen("feature-4")
		for _, comp := range specs.SlotComponents {
			d := deployment(rel, comp, v1alpha1.Green)
			n := ptr.Deref(d.Spec.Replicas, 1)
			d.Status = appsv1.DeploymentStatus{ObservedGeneration: d.Generation - 1,
				Replicas: n, UpdatedReplicas: n, ReadyReplicas: n, AvailableReplicas: n}
			Expect(k8sClient.Status().Update(ctx, d)).To(Succeed())
		}
		change(rel, func(r *v1alpha1.MagentoRelease) { r.Spec.ActiveColor = v1alpha1.Green })
		Consistently(func() string { return servicesColor(rel) }, 3*resync, interval).Should(Equal("blue"))
		Expect(get(rel).Status.Green.Ready).To(BeFalse())
		rollOutSlot(rel, v1alpha1.Green)
		Eventually(func() string { return servicesColor(rel) }, timeout, interval).Should(Equal("green"))
	})

	It("never runs cron or consumers in both slots, and never changes the live slot's pod templates", func() {
		Expect(k8sClient.Create(ctx, rel)).To(Succeed())
		settle(rel)
		templates := func(color v1alpha1.Color) map[specs.Component]string {
			out := map[specs.Component]string{}
			for _, comp := range specs.SlotComponents {
				b, err := json.Marshal(deployment(rel, comp, color).Spec.Template)
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
		settle(rel)
		// A second deploy renders green's cron and consumers again at zero
		// replicas; while their status lags that generation, blue's run on.
		deployGreen("feature-6")
		Consistently(func() int32 { return replicas(deployment(rel, specs.Cron, v1alpha1.Blue)) }, time.Second, interval).
			Should(BeEquivalentTo(1), "blue's cron stopped for a deploy to green")
		settle(rel)
		switching.Store(true)
		change(rel, func(r *v1alpha1.MagentoRelease) { r.Spec.ActiveColor = v1alpha1.Green })
		Eventually(func() string { return servicesColor(rel) }, timeout, interval).Should(Equal("green"))
		// The old slot's cron is still running: the new one must wait.
		Expect(replicas(deployment(rel, specs.Cron, v1alpha1.Green))).To(BeEquivalentTo(0))
		settle(rel)
		Expect(replicas(deployment(rel, specs.Cron, v1alpha1.Green))).To(BeEquivalentTo(1))
		Expect(replicas(deployment(rel, specs.Consumer, v1alpha1.Green))).To(BeEquivalentTo(1))
		Expect(templates(v1alpha1.Blue)).To(Equal(blueBefore), "blue's pod templates changed")

		// And back: green is now live and frozen.
		greenBefore := templates(v1alpha1.Green)
		change(rel, func(r *v1alpha1.MagentoRelease) { r.Spec.ActiveColor = v1alpha1.Blue })
		Eventually(func() string { return servicesColor(rel) }, timeout, interval).Should(Equal("blue"))
		settle(rel)
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
		Expect(k8sClient.Create(ctx, rel)).To(Succeed())
		settle(rel)
		before := deployment(rel, specs.PHPFPM, v1alpha1.Blue).Spec.Template
		change(rel, func(r *v1alpha1.MagentoRelease) {
			r.Spec.Env = []corev1.EnvVar{{Name: "MAGE_MODE", Value: "production"}}
		})
		Eventually(func() bool { s := get(rel).Status; return s.Blue != nil && s.Blue.Outdated }, timeout, interval).Should(BeTrue())
		Expect(deployment(rel, specs.PHPFPM, v1alpha1.Blue).Spec.Template).To(Equal(before))
		// A new deploy to green picks the settings up.
		deployGreen("feature-6")
		Expect(deployment(rel, specs.PHPFPM, v1alpha1.Green).Spec.Template.Spec.Containers[0].Env).
			To(ContainElement(corev1.EnvVar{Name: "MAGE_MODE", Value: "production"}))
		Eventually(func() bool { return get(rel).Status.Green.Outdated }, timeout, interval).Should(BeFalse())
	})

	It("scales the idle slot down once the TTL passed, removing its HPAs and PDBs", func() {
		rel.Spec.Web.Autoscaling = &v1alpha1.Autoscaling{MaxReplicas: 5}
		rel.Spec.IdleScaleDown.After = &metav1.Duration{Duration: time.Hour}
		Expect(k8sClient.Create(ctx, rel)).To(Succeed())
		settle(rel)
		deployGreen("feature-7")
		settle(rel)
		change(rel, func(r *v1alpha1.MagentoRelease) { r.Spec.ActiveColor = v1alpha1.Green })
		Eventually(func() string { return servicesColor(rel) }, timeout, interval).Should(Equal("green"))
		settle(rel)
		Expect(exists(&autoscalingv2.HorizontalPodAutoscaler{}, rel, "shop-web-blue")).To(BeTrue())
		Expect(exists(&policyv1.PodDisruptionBudget{}, rel, "shop-php-fpm-blue")).To(BeTrue())
		at := get(rel).Status.Blue.IdleScaleDownTime
		Expect(at).NotTo(BeNil())

		fakeClock.Step(59 * time.Minute)
		Consistently(func() int32 { return replicas(deployment(rel, specs.Web, v1alpha1.Blue)) }, 2*resync, interval).
			Should(BeNumerically(">", 0), "scaled down before the TTL")

		fakeClock.Step(2 * time.Minute)
		Eventually(func() int32 { return replicas(deployment(rel, specs.PHPFPM, v1alpha1.Blue)) }, timeout, interval).Should(BeZero())
		Expect(replicas(deployment(rel, specs.Web, v1alpha1.Blue))).To(BeZero())
		Expect(exists(&autoscalingv2.HorizontalPodAutoscaler{}, rel, "shop-web-blue")).To(BeFalse())
		Expect(exists(&policyv1.PodDisruptionBudget{}, rel, "shop-web-blue")).To(BeFalse())
		Expect(exists(&policyv1.PodDisruptionBudget{}, rel, "shop-php-fpm-blue")).To(BeFalse())
		Expect(exists(&autoscalingv2.HorizontalPodAutoscaler{}, rel, "shop-web-green")).To(BeTrue())
		Eventually(func() v1alpha1.SlotState { return get(rel).Status.Blue.State }, timeout, interval).Should(Equal(v1alpha1.SlotScaledDown))
		Expect(servicesColor(rel)).To(Equal("green"))
		Eventually(func() []string { return eventReasons(rel) }, timeout, interval).Should(ContainElement("ScaledDown"))

		By("rolling back to the scaled-down slot: scale up first, switch when ready")
		change(rel, func(r *v1alpha1.MagentoRelease) { r.Spec.ActiveColor = v1alpha1.Blue })
		Eventually(func() int32 { return replicas(deployment(rel, specs.PHPFPM, v1alpha1.Blue)) }, timeout, interval).Should(BeEquivalentTo(2))
		Expect(image(deployment(rel, specs.PHPFPM, v1alpha1.Blue))).To(Equal(builder.Registry + "/php:main-1"))
		Consistently(func() string { return servicesColor(rel) }, 2*resync, interval).Should(Equal("green"))
		settle(rel)
		Expect(servicesColor(rel)).To(Equal("blue"))
		Expect(exists(&autoscalingv2.HorizontalPodAutoscaler{}, rel, "shop-web-blue")).To(BeTrue())
		Eventually(func() []string { return eventReasons(rel) }, timeout, interval).Should(ContainElement("ScaledUp"))
	})

	It("grows the target to the live slot's HPA-grown size before traffic moves, then restores the HPA", func() {
		rel.Spec.Web.Autoscaling = &v1alpha1.Autoscaling{MinReplicas: ptr.To[int32](2), MaxReplicas: 10}
		Expect(k8sClient.Create(ctx, rel)).To(Succeed())
		settle(rel)
		deployGreen("feature-8")
		settle(rel)

		By("the HPA grows blue's web to 7 under load")
		d := deployment(rel, specs.Web, v1alpha1.Blue)
		d.Spec.Replicas = ptr.To[int32](7)
		Expect(k8sClient.Update(ctx, d)).To(Succeed())
		rollOutSlot(rel, v1alpha1.Blue)

		change(rel, func(r *v1alpha1.MagentoRelease) { r.Spec.ActiveColor = v1alpha1.Green })
		Eventually(func() int32 { return replicas(deployment(rel, specs.Web, v1alpha1.Green)) }, timeout, interval).Should(BeEquivalentTo(7))
		hpa := &autoscalingv2.HorizontalPodAutoscaler{}
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: rel.Namespace, Name: "shop-web-green"}, hpa)).To(Succeed())
		Expect(hpa.Spec.MinReplicas).To(HaveValue(BeEquivalentTo(7)))
		Expect(servicesColor(rel)).To(Equal("blue"), "traffic moved before the target had the capacity")
		Expect(replicas(deployment(rel, specs.Web, v1alpha1.Blue))).To(BeEquivalentTo(7), "the live slot was resized")

		rollOutSlot(rel, v1alpha1.Green)
		Eventually(func() string { return servicesColor(rel) }, timeout, interval).Should(Equal("green"))
		Eventually(func() *int32 {
			Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(hpa), hpa)).To(Succeed())
			return hpa.Spec.MinReplicas
		}, timeout, interval).Should(HaveValue(BeEquivalentTo(2)))
		Expect(replicas(deployment(rel, specs.Web, v1alpha1.Green))).To(BeEquivalentTo(7), "the HPA, not the operator, shrinks it")
	})

	It("sets back a hand-edited Service selector and a hand-scaled Deployment", func() {
		Expect(k8sClient.Create(ctx, rel)).To(Succeed())
		settle(rel)
		s := service(rel, "shop")
		s.Spec.Selector[specs.LabelColor] = "green"
		Expect(k8sClient.Update(ctx, s)).To(Succeed())
		d := deployment(rel, specs.PHPFPM, v1alpha1.Blue)
		d.Spec.Replicas = ptr.To[int32](9)
		Expect(k8sClient.Update(ctx, d)).To(Succeed())
		Eventually(func() string { return servicesColor(rel) }, timeout, interval).Should(Equal("blue"))
		Eventually(func() int32 { return replicas(deployment(rel, specs.PHPFPM, v1alpha1.Blue)) }, timeout, interval).Should(BeEquivalentTo(2))
	})

	It("deletes the objects of a slot removed from the spec, but not while it is live", func() {
		Expect(k8sClient.Create(ctx, rel)).To(Succeed())
		settle(rel)
		deployGreen("feature-9")
		settle(rel)
		change(rel, func(r *v1alpha1.MagentoRelease) { r.Spec.Green = nil })
		Eventually(func() *appsv1.Deployment { return deployment(rel, specs.Web, v1alpha1.Green) }, timeout, interval).Should(BeNil())
		for _, comp := range specs.SlotComponents {
			Expect(deployment(rel, comp, v1alpha1.Green)).To(BeNil())
		}
		Expect(service(rel, "shop-php-fpm-green")).To(BeNil())
		Expect(service(rel, "shop-preview")).To(BeNil())
		Eventually(func() any { return get(rel).Status.Green }, timeout, interval).Should(BeNil())
		Eventually(func() any { return get(rel).Status.PreviewColor }, timeout, interval).Should(BeEmpty())

		By("removing the live slot while switching away from it")
		deployGreen("feature-10")
		change(rel, func(r *v1alpha1.MagentoRelease) {
			r.Spec.ActiveColor = v1alpha1.Green
			r.Spec.Blue = nil
		})
		Consistently(func() *appsv1.Deployment { return deployment(rel, specs.Web, v1alpha1.Blue) }, 2*resync, interval).
			ShouldNot(BeNil(), "the live slot went before traffic left it")
		Expect(servicesColor(rel)).To(Equal("blue"))
		rollOutSlot(rel, v1alpha1.Green)
		Eventually(func() string { return servicesColor(rel) }, timeout, interval).Should(Equal("green"))
		Eventually(func() *appsv1.Deployment { return deployment(rel, specs.Web, v1alpha1.Blue) }, timeout, interval).Should(BeNil())
	})

	It("writes nothing once converged, through 30 s of reconciles", func() {
		rel.Spec.Green = &v1alpha1.Slot{Tag: "feature-11"}
		rel.Spec.Web.Autoscaling = &v1alpha1.Autoscaling{MaxReplicas: 4}
		rel.Spec.Ingress = &v1alpha1.IngressSpec{Host: "shop.example.com", PreviewHost: "preview.shop.example.com", ClassName: "nginx"}
		Expect(k8sClient.Create(ctx, rel)).To(Succeed())
		settle(rel)
		versions := func() map[string]string {
			out := map[string]string{"release": get(rel).ResourceVersion}
			lists := []client.ObjectList{&appsv1.DeploymentList{}, &corev1.ServiceList{},
				&autoscalingv2.HorizontalPodAutoscalerList{}, &policyv1.PodDisruptionBudgetList{}, &networkingList{}}
			for _, l := range lists {
				Expect(k8sClient.List(ctx, l, client.InNamespace(rel.Namespace))).To(Succeed())
				eachObject(l, func(o client.Object) { out[fmt.Sprintf("%T/%s", o, o.GetName())] = o.GetResourceVersion() })
			}
			return out
		}
		before := versions()
		Expect(len(before)).To(BeNumerically(">=", 17), "children missing: %v", before)
		start := reconciles.Load()
		time.Sleep(30 * time.Second)
		Expect(reconciles.Load()-start).To(BeNumerically(">=", 10), "too few reconciles to judge")
		Expect(versions()).To(Equal(before))
	})
})

func exists(obj client.Object, rel *v1alpha1.MagentoRelease, name string) bool {
	err := k8sClient.Get(ctx, client.ObjectKey{Namespace: rel.Namespace, Name: name}, obj)
	if apierrors.IsNotFound(err) {
		return false
	}
	Expect(err).NotTo(HaveOccurred())
	return true
}
