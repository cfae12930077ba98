package controller

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
	"github.com/magento-operator/magento-operator/internal/specs"
	"github.com/magento-operator/magento-operator/internal/testenv/suite"
	"github.com/magento-operator/magento-operator/test/builder"
)

var _ = Describe("Verification", func() {
	var (
		rel *v1alpha1.MagentoRelease
		// broken makes the shop's pages answer 500.
		broken atomic.Bool
		// requests counts the checks the shop received, by path and Host.
		requests atomic.Int32
		lastHost atomic.Value
	)

	BeforeEach(func() {
		broken.Store(false)
		requests.Store(0)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			requests.Add(1)
			lastHost.Store(r.Host)
			if broken.Load() {
				http.Error(w, "Exception: SQLSTATE[HY000] [2002] Connection refused\n#0 vendor/magento/framework/DB", http.StatusInternalServerError)
				return
			}
			_, _ = fmt.Fprintf(w, "%s ok\n", r.URL.Path)
		}))
		DeferCleanup(srv.Close)

		// The web pods of the spec "listen" where the test's shop does: the
		// checks go to <pod IP>:<web port>, and the pods' IP is 127.0.0.1.
		rel = builder.MakeRelease(env.NewNamespace(), "shop").WebPort(int32(srv.Listener.Addr().(*net.TCPAddr).Port)).
			Ingress(v1alpha1.IngressSpec{Host: "shop.example.com"}).
			Verification(v1alpha1.VerificationSpec{
				Checks: []v1alpha1.HTTPCheck{{Path: "/health_check.php"}, {Path: "/", Contains: "ok"}},
				Window: &metav1.Duration{Duration: time.Hour}, Interval: &metav1.Duration{Duration: time.Second},
			}).Obj()
		Expect(env.Client.Create(env.Ctx, rel)).To(Succeed())
		env.Settle(rel)
		env.Change(rel, func(r *v1alpha1.MagentoRelease) { r.Spec.Green = &v1alpha1.Slot{Tag: "main-2"} })
		env.RollOutSlot(rel, v1alpha1.Green)
		env.Settle(rel)
		for _, color := range v1alpha1.Colors {
			webPod(rel, color)
		}
	})

	// switchTo asks for the switch to color.
	switchTo := func(color v1alpha1.Color) {
		env.Change(rel, func(r *v1alpha1.MagentoRelease) { r.Spec.ActiveColor = color })
	}

	It("holds the switch on a failed check, says why, and switches once a new deploy passes", func() {
		broken.Store(true)
		switchTo(v1alpha1.Green)
		Eventually(func() *metav1.Condition { return env.Condition(rel, v1alpha1.ConditionDegraded) }).
			Should(And(HaveField("Reason", "VerificationFailed"),
				HaveField("Message", And(ContainSubstring("GET /health_check.php on pod "+specs.SlotName(rel, specs.Web, v1alpha1.Green)),
					ContainSubstring("status 500, want 200"), ContainSubstring("Connection refused"),
					ContainSubstring("deploy a fixed tag, digest or revision to green, or set spec.activeColor back to blue")))))
		Expect(env.ServicesColor(rel)).To(Equal("blue"))
		Expect(lastHost.Load()).To(Equal("shop.example.com"))
		Eventually(func() []string { return env.EventReasons(rel) }).Should(ContainElement("VerificationFailed"))
		Expect(checkFailures(rel, "before")).To(Equal(1.0))
		seen := requests.Load()
		Consistently(func() string { return env.ServicesColor(rel) }, 3*suite.Resync).Should(Equal("blue"))
		Expect(requests.Load()).To(Equal(seen), "a failed deployment was checked again")

		By("following the advice: a new revision of green, which passes")
		broken.Store(false)
		env.Change(rel, func(r *v1alpha1.MagentoRelease) { r.Spec.Green.Revision = "2" })
		Eventually(func() string { env.RollOutAll(rel); return env.ServicesColor(rel) }).Should(Equal("green"))
		Expect(env.EventReasons(rel)).To(ContainElements("Verified", "Switched"))
		Expect(env.Get(rel).Status.Green.Verified).To(BeTrue())
		Expect(env.Get(rel).Status.ChecksUntil).NotTo(BeNil())
	})

	It("switches back when a check fails after the switch, and not to the failed version again", func() {
		switchTo(v1alpha1.Green)
		Eventually(func() string { return env.ServicesColor(rel) }).Should(Equal("green"))
		env.Settle(rel)
		broken.Store(true)
		// Rounds run every second of the operator's clock.
		Eventually(func() string { env.Clock.Step(2 * time.Second); return env.ServicesColor(rel) }).Should(Equal("blue"))
		Expect(env.EventReasons(rel)).To(ContainElements("VerificationFailed", "SwitchedBack"))
		Expect(checkFailures(rel, "after")).To(Equal(1.0))
		cur := env.Get(rel)
		Expect(cur.Status.ActiveColor).To(Equal(v1alpha1.Blue))
		Expect(cur.Status.Green.VerificationFailure).To(ContainSubstring("status 500"))
		Expect(env.Condition(rel, v1alpha1.ConditionDegraded)).To(And(HaveField("Reason", "VerificationFailed"),
			HaveField("Message", ContainSubstring("failed its checks"))))
		Expect(env.Condition(rel, v1alpha1.ConditionReady).Status).To(Equal(metav1.ConditionFalse), "spec.activeColor still asks for green")

		broken.Store(false)
		Consistently(func() string { env.Clock.Step(2 * time.Second); return env.ServicesColor(rel) }, 3*suite.Resync).
			Should(Equal("blue"), "switched to the failed version again")
	})

	It("runs the command first, holds on its failure with what it said, and checks again when asked", func() {
		env.Change(rel, func(r *v1alpha1.MagentoRelease) { r.Spec.Verification.Command = []string{"bin/smoke-test"} })
		switchTo(v1alpha1.Green)
		var first string
		Eventually(func() []string { return env.JobNames(rel, specs.Verification) }).Should(HaveLen(1))
		first = env.JobNames(rel, specs.Verification)[0]
		Expect(first).To(HavePrefix(rel.Name + "-verify-green-"))
		j := &batchv1.Job{}
		Expect(env.Client.Get(env.Ctx, client.ObjectKey{Namespace: rel.Namespace, Name: first}, j)).To(Succeed())
		c := j.Spec.Template.Spec.Containers[0]
		Expect(c.Image).To(Equal(builder.Registry + "/php:main-2"))
		Expect(c.Command).To(Equal([]string{"bin/smoke-test"}))
		Expect(c.Env).To(ContainElements(corev1.EnvVar{Name: "MAGENTO_SLOT", Value: "green"},
			corev1.EnvVar{Name: "MAGENTO_CHECK", Value: "before-switch"},
			corev1.EnvVar{Name: "MAGENTO_SLOT_URL", Value: "http://" + rel.Name + "-preview." + rel.Namespace + ".svc"}))
		Expect(*j.Spec.ActiveDeadlineSeconds).To(BeEquivalentTo(600))

		env.JobPod(rel, first, 3, "checkout: no products in category 4\nsee var/log/smoke.log\n")
		env.FinishJob(rel, first, false)
		Eventually(func() *metav1.Condition { return env.Condition(rel, v1alpha1.ConditionDegraded) }).
			Should(And(HaveField("Reason", "VerificationFailed"), HaveField("Message", ContainSubstring(
				"command Job "+first+" failed: exit 3: checkout: no products in category 4 / see var/log/smoke.log; BackoffLimitExceeded"))))
		Expect(env.ServicesColor(rel)).To(Equal("blue"))
		Expect(requests.Load()).To(BeZero(), "the HTTP checks ran although the command failed")
		Expect(env.Get(rel).Status.Green.VerificationFailedTime).NotTo(BeNil())
		Expect(checkFailures(rel, "before")).To(Equal(1.0), "a failed command counts as a failed check")

		By("retrying: the annotation kubectl magento retry-checks sets")
		env.Change(rel, func(r *v1alpha1.MagentoRelease) {
			r.Annotations = map[string]string{v1alpha1.AnnotationRetryChecks: env.Clock.Now().Add(time.Minute).Format(time.RFC3339)}
		})

		Eventually(func() []string { return env.JobNames(rel, specs.Verification) }).Should(HaveLen(2))
		Expect(env.EventReasons(rel)).To(ContainElement("RetryingChecks"))
		for _, name := range env.JobNames(rel, specs.Verification) {
			if name != first {
				env.FinishJob(rel, name, true)
			}
		}
		Eventually(func() string { return env.ServicesColor(rel) }).Should(Equal("green"))
		Expect(requests.Load()).To(BeNumerically(">", 0), "the HTTP checks did not run after the command passed")
	})

	It("keeps traffic on a failed slot after a migration that is not declared compatible", func() {
		name := env.DeployAndSwitch(rel, "main-3", "",
			func(r *v1alpha1.MagentoRelease) { r.Spec.Migration = &v1alpha1.MigrationSpec{Enabled: true} })

		Eventually(func() []string { env.RollOutAll(rel); return env.JobNames(rel, specs.Migration) }).Should(ContainElement(name))
		env.FinishJob(rel, name, true)
		Eventually(func() string { return env.ServicesColor(rel) }).Should(Equal("green"))
		broken.Store(true)
		Eventually(func() *metav1.Condition {
			env.Clock.Step(2 * time.Second)
			return env.Condition(rel, v1alpha1.ConditionDegraded)
		}).Should(HaveField("Message", ContainSubstring("compatibleWithPrevious is false")))
		Consistently(func() string { env.Clock.Step(2 * time.Second); return env.ServicesColor(rel) }, 2*suite.Resync).Should(Equal("green"))
	})
})

// webPod creates a ready web pod of the slot whose address is this machine's
// loopback, where the test's shop listens.
func webPod(rel *v1alpha1.MagentoRelease, color v1alpha1.Color) {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: specs.SlotName(rel, specs.Web, color) + "-7d9f8b6c5-abcde", Namespace: rel.Namespace,
			Labels: specs.SlotLabels(rel, color, specs.Web)},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "nginx", Image: "nginx"}}, AutomountServiceAccountToken: ptr.To(false)},
	}
	Expect(env.Client.Create(env.Ctx, pod)).To(Succeed())
	pod.Status = corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "127.0.0.1", PodIPs: []corev1.PodIP{{IP: "127.0.0.1"}},
		Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}}
	Expect(env.Client.Status().Update(env.Ctx, pod)).To(Succeed())
}

// checkFailures is magento_release_check_failures_total of green.
func checkFailures(rel *v1alpha1.MagentoRelease, when string) float64 {
	v, _ := metricValue("magento_release_check_failures_total", map[string]string{
		"namespace": rel.Namespace, "release": rel.Name, "color": "green", "when": when})
	return v
}
