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
	"github.com/magento-operator/magento-operator/internal/testenv/suite"
	"github.com/magento-operator/magento-operator/test/builder"
)

// settledRelease creates another release in ns and waits until it is Ready.
func settledRelease(ns, name string) *v1alpha1.MagentoRelease {
	other := builder.MakeRelease(ns, name).Obj()
	Expect(env.Client.Create(env.Ctx, other)).To(Succeed())
	env.Settle(other)
	return other
}

var _ = Describe("Objects in the way (rule 11)", func() {
	var rel *v1alpha1.MagentoRelease

	BeforeEach(func() { rel = builder.MakeRelease(env.NewNamespace(), "shop").Obj() })

	It("reports a user's own Service in the way, never overwrites it, and is never Ready", func() {
		mine := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: rel.Namespace},
			Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "legacy"}, Ports: []corev1.ServicePort{{Port: 8080}}}}
		Expect(env.Client.Create(env.Ctx, mine)).To(Succeed())
		Expect(env.Client.Create(env.Ctx, rel)).To(Succeed())
		Expect(env.DegradedFor(rel, "NameConflict")).To(ContainSubstring("Service shop already exists and it is not this release's"))
		Eventually(func() []string { return notes(env.Events(rel, "NameConflict")) }).
			Should(ContainElement(ContainSubstring("Service shop already exists")))
		Expect(env.Events(rel, "NameConflict")[0].Type).To(Equal(corev1.EventTypeWarning))
		Eventually(func() *appsv1.Deployment { return env.Deployment(rel, specs.Web, v1alpha1.Blue) }).ShouldNot(BeNil())
		env.RollOutAll(rel)
		env.NeverReady(rel)
		Expect(env.Condition(rel, v1alpha1.ConditionReady).Reason).To(Equal("NameConflict"))
		Expect(env.Service(rel, "shop").Spec.Selector).To(Equal(map[string]string{"app": "legacy"}), "the user's Service was changed")
		Expect(env.Service(rel, "shop").OwnerReferences).To(BeEmpty())

		Expect(env.Client.Delete(env.Ctx, mine)).To(Succeed())
		env.Settle(rel) // the Service is created once the way is clear
	})

	It("does not adopt a Deployment another controller owns, even with the release's labels", func() {
		owner := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "other-controller", Namespace: rel.Namespace}}
		Expect(env.Client.Create(env.Ctx, owner)).To(Succeed())
		rel.Spec.Web.Port = 8080
		d, err := specs.Deployment(rel, v1alpha1.Blue, specs.Web, *rel.Spec.Blue, 1)
		Expect(err).NotTo(HaveOccurred())
		d.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "ConfigMap", Name: owner.Name, UID: owner.UID, Controller: ptr.To(true)}}
		Expect(env.Client.Create(env.Ctx, d)).To(Succeed())
		Expect(env.Client.Create(env.Ctx, rel)).To(Succeed())
		Expect(env.DegradedFor(rel, "NameConflict")).To(ContainSubstring("Deployment shop-web-blue already exists and it belongs to ConfigMap other-controller"))
		env.RollOutAll(rel)
		env.NeverReady(rel)
		Expect(env.Deployment(rel, specs.Web, v1alpha1.Blue).OwnerReferences).To(HaveExactElements(HaveField("Name", "other-controller")))
	})

	It("lets one release's conflict block neither itself nor the other: shop and shop-preview", func() {
		other := settledRelease(rel.Namespace, "shop-preview")

		Expect(env.Client.Create(env.Ctx, rel)).To(Succeed())
		env.Settle(rel)
		env.Change(rel, func(r *v1alpha1.MagentoRelease) { r.Spec.Green = &v1alpha1.Slot{Tag: "feature-2"} })
		Expect(env.DegradedFor(rel, "NameConflict")).To(ContainSubstring("Service shop-preview already exists and it belongs to MagentoRelease shop-preview"))
		// The preview Service is not what serves: the release still deploys and switches.
		env.Change(rel, func(r *v1alpha1.MagentoRelease) { r.Spec.ActiveColor = v1alpha1.Green })
		Eventually(func() string { env.RollOutAll(rel); return env.ServicesColor(rel) }).Should(Equal("green"))
		Eventually(func() int64 { return env.Get(rel).Status.ObservedGeneration }).Should(Equal(env.Get(rel).Generation))
		Eventually(func() bool {
			env.RollOutAll(rel)
			return meta.IsStatusConditionTrue(env.Get(rel).Status.Conditions, v1alpha1.ConditionReady)
		}).Should(BeTrue())
		Expect(env.Condition(rel, v1alpha1.ConditionDegraded).Reason).To(Equal("NameConflict"))
		// The other release keeps its Service and stays Ready.
		Expect(env.Service(other, "shop-preview").Spec.Selector).To(HaveKeyWithValue(specs.LabelInstance, "shop-preview"))
		Expect(env.Condition(other, v1alpha1.ConditionReady).Status).To(Equal(metav1.ConditionTrue))
	})

	It("is never Ready when another release holds the php-fpm Service its nginx would call", func() {
		other := settledRelease(rel.Namespace, "shop-php-fpm-blue")
		Expect(env.Client.Create(env.Ctx, rel)).To(Succeed())
		DeferCleanup(func() { Expect(env.Condition(other, v1alpha1.ConditionReady).Status).To(Equal(metav1.ConditionTrue)) })
		Expect(env.DegradedFor(rel, "NameConflict")).To(ContainSubstring("Service shop-php-fpm-blue already exists and it belongs to MagentoRelease shop-php-fpm-blue"))
		env.RollOutAll(rel)
		env.NeverReady(rel)
		Expect(env.Condition(rel, v1alpha1.ConditionReady).Reason).To(Equal("NameConflict"))
	})

	It("adopts its own orphans, left by a delete with --cascade=orphan", func() {
		Expect(env.Client.Create(env.Ctx, rel)).To(Succeed())
		env.Settle(rel)
		oldUID := env.Get(rel).UID
		Expect(env.Client.Delete(env.Ctx, rel)).To(Succeed())
		Eventually(func() error {
			return env.Client.Get(env.Ctx, client.ObjectKeyFromObject(rel), &v1alpha1.MagentoRelease{})
		}).
			ShouldNot(Succeed())
		// What the garbage collector does for --cascade=orphan: drop the owner references.
		orphaned := 0
		for _, l := range []client.ObjectList{&appsv1.DeploymentList{}, &corev1.ServiceList{}, &policyv1.PodDisruptionBudgetList{}} {
			Expect(env.Client.List(env.Ctx, l, client.InNamespace(rel.Namespace))).To(Succeed())
			eachObject(l, func(o client.Object) {
				if len(o.GetOwnerReferences()) == 0 {
					return
				}
				o.SetOwnerReferences(nil)
				Expect(env.Client.Update(env.Ctx, o)).To(Succeed())
				orphaned++
			})
		}
		Expect(orphaned).To(BeNumerically(">=", 9))

		again := builder.MakeRelease(rel.Namespace, "shop").Obj()
		Expect(env.Client.Create(env.Ctx, again)).To(Succeed())
		env.Settle(again)
		uid := env.Get(again).UID
		Expect(uid).NotTo(Equal(oldUID))
		for _, comp := range specs.SlotComponents {
			Expect(metav1.GetControllerOf(env.Deployment(again, comp, v1alpha1.Blue))).To(HaveField("UID", uid), "%s", comp)
		}
		for _, name := range []string{"shop", "shop-php-fpm", "shop-php-fpm-blue"} {
			Expect(metav1.GetControllerOf(env.Service(again, name))).To(HaveField("UID", uid), "%s", name)
		}
		Expect(env.ServicesColor(again)).To(Equal("blue"))
		Expect(env.Condition(again, v1alpha1.ConditionDegraded).Status).To(Equal(metav1.ConditionFalse))
	})
})

var _ = Describe("Children the API server refuses (rule 11)", func() {
	var rel *v1alpha1.MagentoRelease

	BeforeEach(func() { rel = builder.MakeRelease(env.NewNamespace(), "shop").Obj() })

	DescribeTable("are reported within seconds, and a refused rollout leaves nothing half-applied",
		func(mutate func(*v1alpha1.MagentoRelease), quote string) {
			mutate(rel)
			Expect(env.Client.Create(env.Ctx, rel)).To(Succeed())
			msg := env.DegradedFor(rel, "ChildRejected")
			Expect(msg).To(ContainSubstring("the API server refused Deployment shop-"))
			Expect(msg).To(ContainSubstring(quote))
			Eventually(func() []string { return notes(env.Events(rel, "ChildRejected")) }).
				Should(ContainElement(ContainSubstring(quote)))
			Consistently(func() []*appsv1.Deployment {
				var out []*appsv1.Deployment
				for _, comp := range specs.SlotComponents {
					if d := env.Deployment(rel, comp, v1alpha1.Blue); d != nil {
						out = append(out, d)
					}
				}
				return out
			}, 2*suite.Resync).Should(BeEmpty())
			Expect(env.Condition(rel, v1alpha1.ConditionReady).Status).To(Equal(metav1.ConditionFalse))

			// Fixing the spec lets the rollout through.
			env.Change(rel, func(r *v1alpha1.MagentoRelease) {
				r.Spec.Env, r.Spec.PHPFPM.Resources, r.Spec.Pod.VolumeMounts = nil, corev1.ResourceRequirements{}, nil
			})

			env.Settle(rel)
			Expect(env.Condition(rel, v1alpha1.ConditionDegraded).Status).To(Equal(metav1.ConditionFalse))
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
		Expect(env.Client.Create(env.Ctx, rel)).To(Succeed())
		env.Settle(rel)
		env.Change(rel, func(r *v1alpha1.MagentoRelease) { r.Spec.Green = &v1alpha1.Slot{Tag: "feature-2"} })
		env.Settle(rel)
		env.Change(rel, func(r *v1alpha1.MagentoRelease) {
			r.Spec.Env = []corev1.EnvVar{{Name: "MAGE=MODE", Value: "production"}}
			r.Spec.Green = &v1alpha1.Slot{Tag: "feature-3"}
		})

		Expect(env.DegradedFor(rel, "ChildRejected")).To(ContainSubstring("shop-php-fpm-green"))
		Consistently(func() []string {
			var images []string
			for _, comp := range specs.SlotComponents {
				images = append(images, builder.Image(env.Deployment(rel, comp, v1alpha1.Green)))
			}
			return images
		}, 2*suite.Resync).Should(HaveEach(HaveSuffix(":feature-2")))
		Expect(env.Condition(rel, v1alpha1.ConditionReady).Status).To(Equal(metav1.ConditionTrue), "blue still serves, available")
	})

	It("retries a refused post-switch Job until it exists, and reports it meanwhile", func() {
		rel.Spec.PostSwitch = &v1alpha1.PostSwitchSpec{Command: []string{"php", "bin/magento", "cache:clean"}}
		Expect(env.Client.Create(env.Ctx, rel)).To(Succeed())
		env.Settle(rel)
		env.Change(rel, func(r *v1alpha1.MagentoRelease) { r.Spec.Green = &v1alpha1.Slot{Tag: "feature-2"} })
		env.Settle(rel)

		policy := denyPostSwitchJobs(rel.Namespace)
		env.Change(rel, func(r *v1alpha1.MagentoRelease) { r.Spec.ActiveColor = v1alpha1.Green })
		Eventually(func() string { return env.ServicesColor(rel) }).Should(Equal("green"))
		Expect(env.DegradedFor(rel, "ChildRejected")).To(ContainSubstring("the API server refused Job shop-post-switch-green-"))
		st := env.Get(rel).Status
		Expect(st.PostSwitchJobPending).To(BeTrue())
		Expect(env.JobNames(rel, specs.PostSwitch)).To(BeEmpty())

		for _, o := range policy {
			Expect(env.Client.Delete(env.Ctx, o)).To(Succeed())
		}
		Eventually(func() []string { return env.JobNames(rel, specs.PostSwitch) }, 2*problemRequeue).Should(ConsistOf(st.PostSwitchJob))
		Eventually(func() bool { return env.Get(rel).Status.PostSwitchJobPending }).Should(BeFalse())
		Expect(env.Condition(rel, v1alpha1.ConditionDegraded).Status).To(Equal(metav1.ConditionFalse))
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
	Expect(env.Client.Create(env.Ctx, policy)).To(Succeed())
	Expect(env.Client.Create(env.Ctx, binding)).To(Succeed())
	Eventually(func() error {
		probe := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "probe", Namespace: ns,
			Labels: map[string]string{specs.LabelComponent: string(specs.PostSwitch)}},
			Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever,
				Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}}}
		return env.Client.Create(env.Ctx, probe, client.DryRunAll)
	}).Should(MatchError(ContainSubstring("paused by the platform team")))
	return []client.Object{binding, policy}
}
