package v1alpha1_test

import (
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
	"github.com/magento-operator/magento-operator/test/builder"
)

const digestA = "sha256:4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945"

// shopTag is the tag both slots of a minimal release run.
const shopTag = "main-e4f5g6h"

// minimal starts the smallest valid release with both slots defined: blue
// active, both at shopTag, named by the API server.
func minimal(ns string) *builder.ReleaseWrapper {
	return builder.MakeRelease(ns, "shop").GenerateName("shop-").Blue(shopTag).Green(shopTag)
}

func after(d string) *metav1.Duration {
	parsed, err := time.ParseDuration(d)
	if err != nil { // keep the string the user wrote; the API server judges it
		return &metav1.Duration{}
	}
	return &metav1.Duration{Duration: parsed}
}

// blueTag, idleAfter and appImage are changes of one field of a release.
func blueTag(tag string) func(*v1alpha1.MagentoRelease) {
	return func(r *v1alpha1.MagentoRelease) { r.Spec.Blue.Tag = tag }
}

func idleAfter(d string) func(*v1alpha1.MagentoRelease) {
	return func(r *v1alpha1.MagentoRelease) { r.Spec.IdleScaleDown.After = after(d) }
}

func appImage(image string) func(*v1alpha1.MagentoRelease) {
	return func(r *v1alpha1.MagentoRelease) { r.Spec.Images.App = image }
}

var _ = Describe("Creating a MagentoRelease", func() {
	var ns string
	BeforeEach(func() { ns = env.NewNamespace() })

	DescribeTable("rejects invalid objects with a message that says what to fix",
		func(mutate func(*v1alpha1.MagentoRelease), fragment string) {
			r := minimal(ns).Obj()
			mutate(r)
			err := env.Client.Create(env.Ctx, r)
			Expect(err).To(HaveOccurred(), "the API server accepted an invalid object")
			Expect(err.Error()).To(ContainSubstring(fragment))
		},
		Entry("activeColor is not a colour", func(r *v1alpha1.MagentoRelease) { r.Spec.ActiveColor = "red" },
			`spec.activeColor: Unsupported value: "red"`),
		Entry("activeColor is empty", func(r *v1alpha1.MagentoRelease) { r.Spec.ActiveColor = "" },
			`spec.activeColor: Unsupported value: ""`),
		Entry("active slot green is missing", func(r *v1alpha1.MagentoRelease) {
			r.Spec.ActiveColor = v1alpha1.Green
			r.Spec.Green = nil
		}, "spec.activeColor is green but spec.green is not set"),
		Entry("no slot at all", func(r *v1alpha1.MagentoRelease) { r.Spec.Blue, r.Spec.Green = nil, nil },
			"spec.activeColor is blue but spec.blue is not set"),
		Entry("slot without a tag", func(r *v1alpha1.MagentoRelease) { r.Spec.Green = &v1alpha1.Slot{} },
			"spec.green.tag"),
		Entry("tag with a slash", blueTag("feature/xyz"), "spec.blue.tag in body should match"),
		Entry("tag starting with a dash", blueTag("-main"), "spec.blue.tag in body should match"),
		Entry("tag starting with a dot", func(r *v1alpha1.MagentoRelease) { r.Spec.Green.Tag = ".hidden" },
			"spec.green.tag in body should match"),
		Entry("tag of 129 characters", blueTag(strings.Repeat("a", 129)), "spec.blue.tag in body should match"),
		Entry("digest too short", func(r *v1alpha1.MagentoRelease) { r.Spec.Blue.Digest = "sha256:abc" },
			"spec.blue.digest in body should match"),
		Entry("digest with another algorithm", func(r *v1alpha1.MagentoRelease) {
			r.Spec.Blue.Digest = "md5:" + strings.Repeat("a", 64)
		}, "spec.blue.digest in body should match"),
		Entry("digest in upper case", func(r *v1alpha1.MagentoRelease) {
			r.Spec.Green.Digest = strings.ToUpper(digestA)
		}, "spec.green.digest in body should match"),
		Entry("revision of 64 characters", func(r *v1alpha1.MagentoRelease) { r.Spec.Blue.Revision = strings.Repeat("1", 64) },
			"spec.blue.revision: Too long"),
		Entry("negative web replicas", func(r *v1alpha1.MagentoRelease) { r.Spec.Web.Replicas = ptr.To[int32](-1) },
			"spec.web.replicas in body should be greater than or equal to 0"),
		Entry("negative php-fpm replicas", func(r *v1alpha1.MagentoRelease) { r.Spec.PHPFPM.Replicas = ptr.To[int32](-2) },
			"spec.phpFpm.replicas in body should be greater than or equal to 0"),
		Entry("negative consumer replicas", func(r *v1alpha1.MagentoRelease) { r.Spec.Consumer.Replicas = ptr.To[int32](-1) },
			"spec.consumer.replicas in body should be greater than or equal to 0"),
		Entry("web minReplicas above maxReplicas", func(r *v1alpha1.MagentoRelease) {
			r.Spec.Web.Autoscaling = &v1alpha1.Autoscaling{MinReplicas: ptr.To[int32](5), MaxReplicas: 3}
		}, "spec.web.autoscaling: Invalid value: autoscaling.minReplicas must not exceed maxReplicas"),
		Entry("php-fpm minReplicas above maxReplicas", func(r *v1alpha1.MagentoRelease) {
			r.Spec.PHPFPM.Autoscaling = &v1alpha1.Autoscaling{MinReplicas: ptr.To[int32](11), MaxReplicas: 10}
		}, "autoscaling.minReplicas must not exceed maxReplicas"),
		Entry("maxReplicas of zero", func(r *v1alpha1.MagentoRelease) {
			r.Spec.Web.Autoscaling = &v1alpha1.Autoscaling{MaxReplicas: 0}
		}, "spec.web.autoscaling.maxReplicas"),
		Entry("target CPU above 100%", func(r *v1alpha1.MagentoRelease) {
			r.Spec.Web.Autoscaling = &v1alpha1.Autoscaling{MaxReplicas: 3, TargetCPUUtilizationPercentage: ptr.To[int32](150)}
		}, "spec.web.autoscaling.targetCPUUtilizationPercentage in body should be less than or equal to 100"),
		Entry("zero progress deadline", func(r *v1alpha1.MagentoRelease) { r.Spec.ProgressDeadlineSeconds = ptr.To[int32](0) },
			"spec.progressDeadlineSeconds in body should be greater than or equal to 1"),
		Entry("negative progress deadline", func(r *v1alpha1.MagentoRelease) { r.Spec.ProgressDeadlineSeconds = ptr.To[int32](-60) },
			"spec.progressDeadlineSeconds in body should be greater than or equal to 1"),
		Entry("idle scale-down after 10s", idleAfter("10s"), "idleScaleDown.after must be at least 30s"),
		Entry("idle scale-down after 29.5s", idleAfter("29.5s"), "idleScaleDown.after must be at least 30s"),
		Entry("idle scale-down after zero", idleAfter("0s"), "idleScaleDown.after must be at least 30s"),
		Entry("app image with a tag", appImage("shop/php:latest"), "images.app must be an image repository"),
		Entry("app image in upper case", appImage("Shop/PHP"), "images.app must be an image repository"),
		Entry("app image missing", appImage(""), "spec.images.app"),
		Entry("web image with spaces", func(r *v1alpha1.MagentoRelease) { r.Spec.Images.Web = "nginx latest" },
			"images.web must be an image reference"),
		Entry("unknown pull policy", func(r *v1alpha1.MagentoRelease) { r.Spec.Images.PullPolicy = "Sometimes" },
			`spec.images.pullPolicy: Unsupported value: "Sometimes"`),
		Entry("web port above 65535", func(r *v1alpha1.MagentoRelease) { r.Spec.Web.Port = 70000 },
			"spec.web.port in body should be less than or equal to 65535"),
		Entry("ingress without a host", func(r *v1alpha1.MagentoRelease) { r.Spec.Ingress = &v1alpha1.IngressSpec{ClassName: "alb"} },
			"spec.ingress.host"),
		Entry("ingress host with a scheme", func(r *v1alpha1.MagentoRelease) {
			r.Spec.Ingress = &v1alpha1.IngressSpec{Host: "https://shop.example.com"}
		}, "spec.ingress.host in body should match"),
		Entry("negative migration backoffLimit", func(r *v1alpha1.MagentoRelease) {
			r.Spec.Migration = &v1alpha1.MigrationSpec{Enabled: true, BackoffLimit: ptr.To[int32](-1)}
		}, "spec.migration.backoffLimit in body should be greater than or equal to 0"),
		Entry("post-switch Job without a command", func(r *v1alpha1.MagentoRelease) {
			r.Spec.PostSwitch = &v1alpha1.PostSwitchSpec{}
		}, "spec.postSwitch.command"),
	)

	It("rejects a duration the API server cannot parse", func() {
		// metav1.Duration cannot hold an unparsable string, so send raw JSON.
		r := minimal(ns).Name("bad-duration").Obj()
		err := createRaw(r, func(spec map[string]any) { spec["idleScaleDown"] = map[string]any{"after": "tomorrow"} })
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring("spec.idleScaleDown.after in body should match"))
	})

	It("keeps each component's security context, probes and spread, and an empty spread as empty", func() {
		r := minimal(ns).Name("settings").Obj()
		Expect(createRaw(r, func(spec map[string]any) {
			spec["web"] = map[string]any{"topologySpreadConstraints": []any{},
				"securityContext": map[string]any{"readOnlyRootFilesystem": true, "runAsUser": 101},
				"readinessProbe":  map[string]any{"httpGet": map[string]any{"path": "/health", "port": "http"}}}
			spec["phpFpm"] = map[string]any{"livenessProbe": map[string]any{"exec": map[string]any{"command": []any{"php-fpm-healthcheck"}}},
				"topologySpreadConstraints": []any{map[string]any{"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone",
					"whenUnsatisfiable": "DoNotSchedule"}}}
			spec["cron"] = map[string]any{"securityContext": map[string]any{"runAsUser": 33}}
		})).To(Succeed())
		got := &v1alpha1.MagentoRelease{}
		Expect(env.Client.Get(env.Ctx, keyOf(r), got)).To(Succeed())
		Expect(got.Spec.Web.TopologySpreadConstraints).To(And(Not(BeNil()), BeEmpty()), "[] turns the default spread off")
		Expect(got.Spec.Web.SecurityContext.ReadOnlyRootFilesystem).To(HaveValue(BeTrue()))
		Expect(got.Spec.Web.ReadinessProbe.HTTPGet.Path).To(Equal("/health"))
		Expect(got.Spec.PHPFPM.LivenessProbe.Exec.Command).To(Equal([]string{"php-fpm-healthcheck"}))
		Expect(got.Spec.PHPFPM.TopologySpreadConstraints).To(HaveLen(1))
		Expect(got.Spec.Cron.SecurityContext.RunAsUser).To(HaveValue(BeEquivalentTo(33)))
	})

	It("fills in every documented default on a minimal object", func() {
		r := builder.MakeRelease(ns, "defaults").Migration().
			With(func(r *v1alpha1.MagentoRelease) { r.Spec.Web.Autoscaling = &v1alpha1.Autoscaling{MaxReplicas: 4} }).Obj()
		Expect(env.Client.Create(env.Ctx, r)).To(Succeed())
		got := &v1alpha1.MagentoRelease{}
		Expect(env.Client.Get(env.Ctx, keyOf(r), got)).To(Succeed())
		s := got.Spec
		Expect(s.Images.PullPolicy).To(BeEquivalentTo("IfNotPresent"))
		Expect(s.Web.Replicas).To(HaveValue(BeEquivalentTo(2)))
		Expect(s.Web.Port).To(BeEquivalentTo(8080))
		Expect(s.Web.Autoscaling.MinReplicas).To(HaveValue(BeEquivalentTo(1)))
		Expect(s.Web.Autoscaling.TargetCPUUtilizationPercentage).To(HaveValue(BeEquivalentTo(80)))
		Expect(s.PHPFPM.Replicas).To(HaveValue(BeEquivalentTo(2)))
		Expect(s.PHPFPM.Autoscaling).To(BeNil())
		Expect(s.Cron.Enabled).To(HaveValue(BeTrue()))
		Expect(s.Consumer.Enabled).To(HaveValue(BeTrue()))
		Expect(s.Consumer.Replicas).To(HaveValue(BeEquivalentTo(1)))
		Expect(s.Preview.Enabled).To(HaveValue(BeTrue()))
		Expect(s.IdleScaleDown.Enabled).To(HaveValue(BeTrue()))
		Expect(s.IdleScaleDown.After).To(HaveValue(Equal(metav1.Duration{Duration: 24 * time.Hour})))
		Expect(s.ProgressDeadlineSeconds).To(HaveValue(BeEquivalentTo(600)))
		Expect(s.Migration.BackoffLimit).To(HaveValue(BeEquivalentTo(1)))
		Expect(s.Ingress).To(BeNil())
		Expect(s.PostSwitch).To(BeNil())
	})

	It("accepts the largest valid values at the bounds", func() {
		r := minimal(ns).Obj()
		r.Spec.Blue.Tag = "_" + strings.Repeat("a", 127)
		r.Spec.Blue.Digest = digestA
		r.Spec.Images.App = "registry.local:5000/shop/php"
		r.Spec.Images.Web = "nginx:1.27-alpine@" + digestA
		r.Spec.IdleScaleDown.After = after("30s")
		r.Spec.Web.Autoscaling = &v1alpha1.Autoscaling{MinReplicas: ptr.To[int32](3), MaxReplicas: 3}
		r.Spec.Web.Replicas = ptr.To[int32](0)
		Expect(env.Client.Create(env.Ctx, r)).To(Succeed())
	})

	named := func(name string) *v1alpha1.MagentoRelease { return minimal(ns).Name(name).Obj() }

	It("accepts a name of MaxNameLength (36) characters", func() {
		Expect(v1alpha1.MaxNameLength).To(Equal(36))
		Expect(env.Client.Create(env.Ctx, named("shop-"+strings.Repeat("a", v1alpha1.MaxNameLength-5)))).To(Succeed())
	})

	DescribeTable("rejects a name some child could not carry, giving the limit",
		func(name string) {
			err := env.Client.Create(env.Ctx, named(name))
			Expect(err).To(HaveOccurred(), "the API server accepted the name %q", name)
			Expect(err.Error()).To(ContainSubstring("metadata.name must be a DNS-1035 label"))
			Expect(err.Error()).To(ContainSubstring("at most 36 characters"))
		},
		Entry("37 characters", "shop-"+strings.Repeat("a", 32)),
		Entry("63 characters", "shop-"+strings.Repeat("a", 58)),
		Entry("64 characters", "shop-"+strings.Repeat("a", 59)),
		Entry("a dot", "shop.eu"),
		Entry("a leading digit", "1shop"),
		Entry("a trailing dash", "shop-"),
	)
})

var _ = Describe("Updating a MagentoRelease: the serving slot is immutable", func() {
	var (
		ns string
		r  *v1alpha1.MagentoRelease
	)
	BeforeEach(func() {
		ns = env.NewNamespace()
		r = minimal(ns).Green("green-1").Obj()
		Expect(env.Client.Create(env.Ctx, r)).To(Succeed())
	})

	// serving records in status, as the operator does, that the given slot
	// serves traffic now and runs the version its spec names.
	serving := func(c v1alpha1.Color) {
		r.Status.ActiveColor = c
		s := r.Spec.Slot(c)
		r.Status.SetSlotStatus(c, &v1alpha1.SlotStatus{Tag: s.Tag, Digest: s.Digest, Revision: s.Revision, State: v1alpha1.SlotActive})
		Expect(env.Client.Status().Update(env.Ctx, r)).To(Succeed())
	}
	// update stores a change to the spec that must be accepted.
	update := func(mutate func(*v1alpha1.MagentoRelease)) {
		mutate(r)
		Expect(env.Client.Update(env.Ctx, r)).To(Succeed())
	}

	DescribeTable("rejects changes to the slot that serves traffic",
		func(setup func(), mutate func(*v1alpha1.MagentoRelease), fragment string) {
			setup()
			mutate(r)
			err := env.Client.Update(env.Ctx, r)
			Expect(err).To(HaveOccurred(), "the API server accepted a change to the serving slot")
			Expect(err.Error()).To(ContainSubstring(fragment))
		},
		Entry("new tag on the serving slot", func() { serving(v1alpha1.Blue) },
			func(r *v1alpha1.MagentoRelease) { r.Spec.Blue.Tag = "main-new" },
			"blue serves traffic; deploy to green and switch"),
		Entry("new digest on the serving slot", func() { serving(v1alpha1.Blue) },
			func(r *v1alpha1.MagentoRelease) { r.Spec.Blue.Digest = digestA },
			"blue serves traffic; deploy to green and switch"),
		Entry("new revision on the serving slot", func() { serving(v1alpha1.Blue) },
			func(r *v1alpha1.MagentoRelease) { r.Spec.Blue.Revision = "2" },
			"blue serves traffic; deploy to green and switch"),
		Entry("new tag on the serving slot together with a switch away from it", func() { serving(v1alpha1.Blue) },
			func(r *v1alpha1.MagentoRelease) {
				r.Spec.Blue.Tag = "main-new"
				r.Spec.ActiveColor = v1alpha1.Green
			}, "blue serves traffic; deploy to green and switch"),
		Entry("new tag on the slot still serving while a switch away from it is pending",
			func() {
				serving(v1alpha1.Blue)
				update(func(r *v1alpha1.MagentoRelease) { r.Spec.ActiveColor = v1alpha1.Green })
			},
			func(r *v1alpha1.MagentoRelease) { r.Spec.Blue.Tag = "main-new" },
			"blue serves traffic; deploy to green and switch"),
		Entry("new tag on green while it serves and spec.activeColor already asks for blue",
			func() { serving(v1alpha1.Green) }, // spec.activeColor is blue: a switch back is pending
			func(r *v1alpha1.MagentoRelease) { r.Spec.Green.Tag = "green-2" },
			"green serves traffic; deploy to blue and switch"),
		Entry("re-adding the serving slot with another tag after removing it",
			func() {
				serving(v1alpha1.Blue)
				update(func(r *v1alpha1.MagentoRelease) { r.Spec.ActiveColor, r.Spec.Blue = v1alpha1.Green, nil })
			},
			func(r *v1alpha1.MagentoRelease) { r.Spec.Blue = &v1alpha1.Slot{Tag: "other"} },
			"blue serves traffic; deploy to green and switch"),
		Entry("re-adding the serving slot with its tag but a new revision after removing it",
			func() {
				serving(v1alpha1.Blue)
				update(func(r *v1alpha1.MagentoRelease) { r.Spec.ActiveColor, r.Spec.Blue = v1alpha1.Green, nil })
			},
			func(r *v1alpha1.MagentoRelease) { r.Spec.Blue = &v1alpha1.Slot{Tag: shopTag, Revision: "2"} },
			"blue serves traffic; deploy to green and switch"),
	)

	DescribeTable("accepts changes that leave the serving slot as it is",
		func(setup func(), mutate func(*v1alpha1.MagentoRelease)) {
			setup()
			mutate(r)
			Expect(env.Client.Update(env.Ctx, r)).To(Succeed())
			got := &v1alpha1.MagentoRelease{}
			Expect(env.Client.Get(env.Ctx, keyOf(r), got)).To(Succeed())
			Expect(got.Spec).To(Equal(r.Spec))
		},
		Entry("a deploy to the idle slot together with the switch to it", func() { serving(v1alpha1.Blue) },
			func(r *v1alpha1.MagentoRelease) {
				r.Spec.Green.Tag = "green-2"
				r.Spec.ActiveColor = v1alpha1.Green
			}),
		Entry("a new tag for the target of a pending switch (the retry after a failed migration)",
			func() {
				serving(v1alpha1.Blue)
				update(func(r *v1alpha1.MagentoRelease) { r.Spec.ActiveColor = v1alpha1.Green })
			},
			func(r *v1alpha1.MagentoRelease) { r.Spec.Green.Tag = "green-2" }),
		Entry("a new revision for the target of a pending switch",
			func() {
				serving(v1alpha1.Blue)
				update(func(r *v1alpha1.MagentoRelease) { r.Spec.ActiveColor = v1alpha1.Green })
			},
			func(r *v1alpha1.MagentoRelease) { r.Spec.Green.Revision = "2" }),
		Entry("a new tag for the slot spec.activeColor names while the other slot serves",
			func() { serving(v1alpha1.Green) }, // spec.activeColor is blue: a switch back is pending
			func(r *v1alpha1.MagentoRelease) { r.Spec.Blue.Tag = "main-new" }),
		Entry("a new tag for the slot spec.activeColor names before the first rollout", func() {},
			func(r *v1alpha1.MagentoRelease) { r.Spec.Blue.Tag = "main-new" }),
		Entry("a new tag, digest and revision for both slots before the first rollout", func() {},
			func(r *v1alpha1.MagentoRelease) {
				r.Spec.Blue = &v1alpha1.Slot{Tag: "main-new", Digest: digestA, Revision: "2"}
				r.Spec.Green = &v1alpha1.Slot{Tag: "green-2", Revision: "3"}
			}),
		Entry("re-adding the serving slot with the version it runs, calling the switch off",
			func() {
				serving(v1alpha1.Blue)
				update(func(r *v1alpha1.MagentoRelease) { r.Spec.ActiveColor, r.Spec.Blue = v1alpha1.Green, nil })
			},
			func(r *v1alpha1.MagentoRelease) {
				r.Spec.Blue = &v1alpha1.Slot{Tag: shopTag}
				r.Spec.ActiveColor = v1alpha1.Blue
			}),
	)

	It("accepts a deploy to the idle slot, a revision bump and shared settings", func() {
		serving(v1alpha1.Blue)
		r.Spec.Green.Tag = "green-2"
		r.Spec.Green.Digest = digestA
		r.Spec.Green.Revision = "7"
		r.Spec.Web.Replicas = ptr.To[int32](5)
		r.Spec.Env = append(r.Spec.Env, envVar("MAGE_MODE", "production"))
		Expect(env.Client.Update(env.Ctx, r)).To(Succeed())
	})

	It("accepts removing the idle slot and adding it back with a new tag", func() {
		serving(v1alpha1.Blue)
		r.Spec.Green = nil
		Expect(env.Client.Update(env.Ctx, r)).To(Succeed())
		r.Spec.Green = &v1alpha1.Slot{Tag: "green-9"}
		Expect(env.Client.Update(env.Ctx, r)).To(Succeed())
	})

	It("accepts the status writes of the operator", func() {
		serving(v1alpha1.Blue)
		r.Status.Blue = &v1alpha1.SlotStatus{Tag: shopTag, State: v1alpha1.SlotActive, Ready: true}
		Expect(env.Client.Status().Update(env.Ctx, r)).To(Succeed())
	})
})
