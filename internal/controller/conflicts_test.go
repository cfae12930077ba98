package controller

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
	"github.com/magento-operator/magento-operator/internal/specs"
	"github.com/magento-operator/magento-operator/test/builder"
)

// settledRelease creates another release in ns and waits until it is Ready.
func settledRelease(ns, name string) *v1alpha1.MagentoRelease {
	other := builder.MakeRelease(ns, name).Obj()
	Expect(k8sClient.Create(ctx, other)).To(Succeed())
	settle(other)
	return other
}

var _ = Describe("Objects in the way (rule 11)", func() {
	var rel *v1alpha1.MagentoRelease

	BeforeEach(func() { rel = builder.MakeRelease(newNamespace(), "shop").Obj() })

	It("reports a user's own Service in the way, never overwrites it, and is never Ready", func() {
		mine := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: rel.Namespace},
			Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "legacy"}, Ports: []corev1.ServicePort{{Port: 8080}}}}
		Expect(k8sClient.Create(ctx, mine)).To(Succeed())
		Expect(k8sClient.Create(ctx, rel)).To(Succeed())
		Expect(degradedFor(rel, "NameConflict")).To(ContainSubstring("Service shop already exists and it is not this release's"))
		Eventually(func() []string { return notes(releaseEvents(rel, "NameConflict")) }, timeout, interval).
			Should(ContainElement(ContainSubstring("Service shop already exists")))
		Expect(releaseEvents(rel, "NameConflict")[0].Type).To(Equal(corev1.EventTypeWarning))
		Eventually(func() *appsv1.Deployment { return deployment(rel, specs.Web, v1alpha1.Blue) }, timeout, interval).ShouldNot(BeNil())
		rollOutAll(rel)
		neverReady(rel)
		Expect(condition(rel, v1alpha1.ConditionReady).Reason).To(Equal("NameConflict"))
		Expect(service(rel, "shop").Spec.Selector).To(Equal(map[string]string{"app": "legacy"}), "the user's Service was changed")
		Expect(service(rel, "shop").OwnerReferences).To(BeEmpty())

		Expect(k8sClient.Delete(ctx, mine)).To(Succeed())
		settle(rel) // the Service is created once the way is clear
	})

	It("does not adopt a Deployment another controller owns, even with the release's labels", func() {
		owner := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "other-controller", Namespace: rel.Namespace}}
		Expect(k8sClient.Create(ctx, owner)).To(Succeed())
		rel.Spec.Web.Port = 8080
		d, err := specs.Deployment(rel, v1alpha1.Blue, specs.Web, *rel.Spec.Blue, 1)
		Expect(err).NotTo(HaveOccurred())
		d.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "ConfigMap", Name: owner.Name, UID: owner.UID, Controller: ptr.To(true)}}
		Expect(k8sClient.Create(ctx, d)).To(Succeed())
		Expect(k8sClient.Create(ctx, rel)).To(Succeed())
		Expect(degradedFor(rel, "NameConflict")).To(ContainSubstring("Deployment shop-web-blue already exists and it belongs to ConfigMap other-controller"))
		rollOutAll(rel)
		neverReady(rel)
		Expect(deployment(rel, specs.Web, v1alpha1.Blue).OwnerReferences).To(HaveExactElements(HaveField("Name", "other-controller")))
	})

	It("lets one release's conflict block neither itself nor the other: shop and shop-preview", func() {
		other := settledRelease(rel.Namespace, "shop-preview")

		Expect(k8sClient.Create(ctx, rel)).To(Succeed())
		settle(rel)
		change(rel, func(r *v1alpha1.MagentoRelease) { r.Spec.Green = &v1alpha1.Slot{Tag: "feature-2"} })
		Expect(degradedFor(rel, "NameConflict")).To(ContainSubstring("Service shop-preview already exists and it belongs to MagentoRelease shop-preview"))
		// The preview Service is not what serves: the release still deploys and switches.
		change(rel, func(r *v1alpha1.MagentoRelease) { r.Spec.ActiveColor = v1alpha1.Green })
		Eventually(func() string { rollOutAll(rel); return servicesColor(rel) }, timeout, interval).Should(Equal("green"))
		Eventually(func() int64 { return get(rel).Status.ObservedGeneration }, timeout, interval).Should(Equal(get(rel).Generation))
		Eventually(func() bool {
			rollOutAll(rel)
			return meta.IsStatusConditionTrue(get(rel).Status.Conditions, v1alpha1.ConditionReady)
		},
			timeout, interval).Should(BeTrue())
		Expect(condition(rel, v1alpha1.ConditionDegraded).Reason).To(Equal("NameConflict"))
		// The other release keeps its Service and stays Ready.
		Expect(service(other, "shop-preview").Spec.Selector).To(HaveKeyWithValue(specs.LabelInstance, "shop-preview"))
		Expect(condition(other, v1alpha1.ConditionReady).Status).To(Equal(metav1.ConditionTrue))
	})

	It("is never Ready when another release holds the php-fpm Service its nginx would call", func() {
		other := settledRelease(rel.Namespace, "shop-php-fpm-blue")
		Expect(k8sClient.Create(ctx, rel)).To(Succeed())
		DeferCleanup(func() { Expect(condition(other, v1alpha1.ConditionReady).Status).To(Equal(metav1.ConditionTrue)) })
		Expect(degradedFor(rel, "NameConflict")).To(ContainSubstring("Service shop-php-fpm-blue already exists and it belongs to MagentoRelease shop-php-fpm-blue"))
		rollOutAll(rel)
		neverReady(rel)
		Expect(condition(rel, v1alpha1.ConditionReady).Reason).To(Equal("NameConflict"))
	})

	It("adopts its own orphans, left by a delete with --cascade=orphan", func() {
		Expect(k8sClient.Create(ctx, rel)).To(Succeed())
		settle(rel)
		oldUID := get(rel).UID
		Expect(k8sClient.Delete(ctx, rel)).To(Succeed())
		Eventually(func() error { return k8sClient.Get(ctx, client.ObjectKeyFromObject(rel), &v1alpha1.MagentoRelease{}) }, timeout, interval).
			ShouldNot(Succeed())
		// What the garbage collector does for --cascade=orphan: drop the owner references.
		orphaned := 0
		for _, l := range []client.ObjectList{&appsv1.DeploymentList{}, &corev1.ServiceList{}, &policyv1.PodDisruptionBudgetList{}} {
			Expect(k8sClient.List(ctx, l, client.InNamespace(rel.Namespace))).To(Succeed())
			eachObject(l, func(o client.Object) {
				if len(o.GetOwnerReferences()) == 0 {
					return
				}
				o.SetOwnerReferences(nil)
				Expect(k8sClient.Update(ctx, o)).To(Succeed())
				orphaned++
			})
		}
		Expect(orphaned).To(BeNumerically(">=", 9))

		again := builder.MakeRelease(rel.Namespace, "shop").Obj()
		Expect(k8sClient.Create(ctx, again)).To(Succeed())
		settle(again)
		uid := get(again).UID
		Expect(uid).NotTo(Equal(oldUID))
		for _, comp := range specs.SlotComponents {
			Expect(metav1.GetControllerOf(deployment(again, comp, v1alpha1.Blue))).To(HaveField("UID", uid), "%s", comp)
		}
		for _, name := range []string{"shop", "shop-php-fpm", "shop-php-fpm-blue"} {
			Expect(metav1.GetControllerOf(service(again, name))).To(HaveField("UID", uid), "%s", name)
		}
		Expect(servicesColor(again)).To(Equal("blue"))
		Expect(condition(again, v1alpha1.ConditionDegraded).Status).To(Equal(metav1.ConditionFalse))
	})
})

var _ = Describe("Children the API server refuses (rule 11)", func() {
	var rel *v1alpha1.MagentoRelease

	BeforeEach(func() { rel = builder.MakeRelease(newNamespace(), "shop").Obj() })

	DescribeTable("are reported within seconds, and a refused rollout leaves nothing half-applied",
		func(mutate func(*v1alpha1.MagentoRelease), quote string) {
			mutate(rel)
			Expect(k8sClient.Create(ctx, rel)).To(Succeed())
			msg := degradedFor(rel, "ChildRejected")
			Expect(msg).To(ContainSubstring("the API server refused Deployment shop-"))
			Expect(msg).To(ContainSubstring(quote))
			Eventually(func() []string { return notes(releaseEvents(rel, "ChildRejected")) }, timeout, interval).
				Should(ContainElement(ContainSubstring(quote)))
			Consistently(func() []*appsv1.Deployment {
				var out []*appsv1.Deployment
				for _, comp := range specs.SlotComponents {
					if d := deployment(rel, comp, v1alpha1.Blue); d != nil {
						out = append(out, d)
					}
				}
				return out
			}, 2*resync, interval).Should(BeEmpty())
			Expect(condition(rel, v1alpha1.ConditionReady).Status).To(Equal(metav1.ConditionFalse))

			// Fixing the spec lets the rollout through.
			change(rel, func(r *v1alpha1.MagentoRelease) {
				r.Spec.Env, r.Spec.PHPFPM.Resources, r.Spec.Pod.VolumeMounts = nil, corev1.ResourceRequirements{}, nil
			})
			settle(rel)
			Expect(condition(rel, v1alpha1.ConditionDegraded).Status).To(Equal(metav1.ConditionFalse))
		},
		Entry("an env var name with '='", func(r *v1alpha1.MagentoRelease) {
			r.Spec.Env = []corev1.EnvVar{{Name: "MAGE=MODE", Value: "production"}}
		}, "MAGE=MODE"),
		Entry("a CPU request above its limit", func(r *v1alpha1.MagentoRelease) {
			r.Spec.PHPFPM.Resources = corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2")},
				Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")},
			}
		}, "must be less than or equal to cpu limit"),
		Entry("a mount of an undefined volume", func(r *v1alpha1.MagentoRelease) {
			r.Spec.Pod.VolumeMounts = []corev1.VolumeMount{{Name: "media", MountPath: "/var/www/pub/media"}}
		}, "volumeMounts[0].name"),
	)

	It("keeps a refused deploy to the idle slot entirely off it", func() {
		Expect(k8sClient.Create(ctx, rel)).To(Succeed())
		settle(rel)
		change(rel, func(r *v1alpha1.MagentoRelease) { r.Spec.Green = &v1alpha1.Slot{Tag: "feature-2"} })
		settle(rel)
		change(rel, func(r *v1alpha1.MagentoRelease) {
			r.Spec.Env = []corev1.EnvVar{{Name: "MAGE=MODE", Value: "production"}}
			r.Spec.Green = &v1alpha1.Slot{Tag: "feature-3"}
		})
		Expect(degradedFor(rel, "ChildRejected")).To(ContainSubstring("shop-php-fpm-green"))
		Consistently(func() []string {
			var images []string
			for _, comp := range specs.SlotComponents {
				images = append(images, image(deployment(rel, comp, v1alpha1.Green)))
			}
			return images
		}, 2*resync, interval).Should(HaveEach(HaveSuffix(":feature-2")))
		Expect(condition(rel, v1alpha1.ConditionReady).Status).To(Equal(metav1.ConditionTrue), "blue still serves, available")
	})

	It("retries a refused post-switch Job until it exists, and reports it meanwhile", func() {
		rel.Spec.PostSwitch = &v1alpha1.PostSwitchSpec{Command: []string{"php", "bin/magento", "cache:clean"}}
		Expect(k8sClient.Create(ctx, rel)).To(Succeed())
		settle(rel)
		change(rel, func(r *v1alpha1.MagentoRelease) { r.Spec.Green = &v1alpha1.Slot{Tag: "feature-2"} })
		settle(rel)

		policy := denyPostSwitchJobs(rel.Namespace)
		change(rel, func(r *v1alpha1.MagentoRelease) { r.Spec.ActiveColor = v1alpha1.Green })
		Eventually(func() string { return servicesColor(rel) }, timeout, interval).Should(Equal("green"))
		Expect(degradedFor(rel, "ChildRejected")).To(ContainSubstring("the API server refused Job shop-post-switch-green-"))
		st := get(rel).Status
		Expect(st.PostSwitchJobPending).To(BeTrue())
		Expect(jobNames(rel, specs.PostSwitch)).To(BeEmpty())

		for _, o := range policy {
			Expect(k8sClient.Delete(ctx, o)).To(Succeed())
		}
		Eventually(func() []string { return jobNames(rel, specs.PostSwitch) }, 2*problemRequeue, interval).Should(ConsistOf(st.PostSwitchJob))
		Eventually(func() bool { return get(rel).Status.PostSwitchJobPending }, timeout, interval).Should(BeFalse())
		Expect(condition(rel, v1alpha1.ConditionDegraded).Status).To(Equal(metav1.ConditionFalse))
	})
})

// denyPostSwitchJobs installs a ValidatingAdmissionPolicy refusing post-switch
// Jobs in namespace ns, and waits until the API server applies it.
func denyPostSwitchJobs(ns string) []client.Object {
	policy := &admissionregistrationv1.ValidatingAdmissionPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "deny-post-switch-" + ns},
		Spec: admissionregistrationv1.ValidatingAdmissionPolicySpec{
			FailurePolicy: ptr.To(admissionregistrationv1.Fail),
			MatchConstraints: &admissionregistrationv1.MatchResources{ResourceRules: []admissionregistrationv1.NamedRuleWithOperations{{
				RuleWithOperations: admissionregistrationv1.RuleWithOperations{
					Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create},
					Rule:       admissionregistrationv1.Rule{APIGroups: []string{"batch"}, APIVersions: []string{"v1"}, Resources: []string{"jobs"}},
				},
			}}},
			Validations: []admissionregistrationv1.Validation{{
				Expression: "object.metadata.?labels[?'app.kubernetes.io/component'].orValue('') != 'post-switch'",
				Message:    "post-switch Jobs are paused by the platform team",
			}},
		},
	}
	binding := &admissionregistrationv1.ValidatingAdmissionPolicyBinding{
		ObjectMeta: metav1.ObjectMeta{Name: policy.Name},
		Spec: admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec{
			PolicyName:        policy.Name,
			ValidationActions: []admissionregistrationv1.ValidationAction{admissionregistrationv1.Deny},
			MatchResources: &admissionregistrationv1.MatchResources{NamespaceSelector: &metav1.LabelSelector{
				MatchLabels: map[string]string{"kubernetes.io/metadata.name": ns}}},
		},
	}
	Expect(k8sClient.Create(ctx, policy)).To(Succeed())
	Expect(k8sClient.Create(ctx, binding)).To(Succeed())
	Eventually(func() error {
		probe := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "probe", Namespace: ns,
			Labels: map[string]string{specs.LabelComponent: string(specs.PostSwitch)}},
			Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever,
				Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}}}
		return k8sClient.Create(ctx, probe, client.DryRunAll)
	}, timeout, interval).Should(MatchError(ContainSubstring("paused by the platform team")))
	return []client.Object{binding, policy}
}
