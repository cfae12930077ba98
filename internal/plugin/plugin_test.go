package plugin_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
	"github.com/magento-operator/magento-operator/internal/plugin"
	"github.com/magento-operator/magento-operator/internal/specs"
	"github.com/magento-operator/magento-operator/test/builder"
)

var _ = Describe("kubectl magento", func() {
	var (
		rel        *v1alpha1.MagentoRelease
		kubeconfig string
	)

	BeforeEach(func() {
		user, err := env.Server.AddUser(envtest.User{Name: "ci", Groups: []string{"system:masters"}}, nil)
		Expect(err).NotTo(HaveOccurred())
		raw, err := user.KubeConfig()
		Expect(err).NotTo(HaveOccurred())
		kubeconfig = filepath.Join(GinkgoT().TempDir(), "kubeconfig")
		Expect(os.WriteFile(kubeconfig, raw, 0o600)).To(Succeed())
		rel = builder.MakeRelease(env.NewNamespace(), "shop").Obj()
		Expect(env.Client.Create(env.Ctx, rel)).To(Succeed())
		env.Settle(rel)
	})

	// run runs the plugin and returns its exit code, stdout and stderr.
	run := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		cmd := plugin.NewCommandWithClock(genericiooptions.IOStreams{In: &bytes.Buffer{}, Out: &out, ErrOut: &errOut}, env.Clock.Now)
		cmd.SetArgs(append([]string{"--kubeconfig", kubeconfig, "--namespace", rel.Namespace}, args...))
		err := cmd.ExecuteContext(env.Ctx)
		if err != nil {
			errOut.WriteString(err.Error())
		}
		return plugin.ExitCode(err), out.String(), errOut.String()
	}

	It("deploys to the idle slot, switches with --wait, shows status and rolls back", func() {
		code, out, _ := run("deploy", "shop", "--tag", "feature-p")
		Expect(code).To(Equal(0))
		Expect(out).To(ContainSubstring("deploying feature-p to green"))
		Expect(env.Get(rel).Spec.Green).To(Equal(&v1alpha1.Slot{Tag: "feature-p"}))
		env.Settle(rel)

		code, out, _ = run("status", "shop")
		Expect(code).To(Equal(0))
		Expect(out).To(ContainSubstring("Traffic:  blue"))
		Expect(out).To(ContainSubstring("\nPhase:    Healthy\n"))
		Expect(out).To(ContainSubstring("Preview:  green"))
		Expect(out).To(MatchRegexp(`green\s+feature-p\s+feature-p\s+Preview\s+true`))
		Expect(out).To(MatchRegexp(`green .* in \d+`), "time until the idle scale-down")

		done := make(chan int)
		go func() {
			defer GinkgoRecover()
			code, _, _ := run("switch", "shop", "--wait", "--timeout", "30s")
			done <- code
		}()
		Eventually(func() v1alpha1.Color { return env.Get(rel).Spec.ActiveColor }).Should(Equal(v1alpha1.Green))
		env.Settle(rel)
		Eventually(done).Should(Receive(Equal(0)))
		Expect(env.ServicesColor(rel)).To(Equal("green"))

		code, _, _ = run("rollback", "shop", "--wait", "--timeout", "30s")
		Expect(code).To(Equal(0))
		Expect(env.ServicesColor(rel)).To(Equal("blue"))
	})

	It("exits 2 when --wait runs out of time, and 1 when asked for what cannot be done", func() {
		code, _, stderr := run("deploy", "shop", "--tag", "slow")
		Expect(code).To(Equal(0), stderr)
		start := time.Now()
		code, _, stderr = run("switch", "shop", "--to", "green", "--wait", "--timeout", "2s")
		Expect(code).To(Equal(plugin.ExitTimeout), stderr)
		Expect(time.Since(start)).To(BeNumerically("<", 10*time.Second))
		Expect(env.ServicesColor(rel)).To(Equal("blue"))

		By("a deploy during the switch fixes its target, in one update the API accepts")
		code, out, stderr := run("deploy", "shop", "--tag", "other")
		Expect(code).To(Equal(0), stderr)
		Expect(out).To(ContainSubstring("deploying other to green"))
		Eventually(func() string { return builder.Image(env.Deployment(rel, specs.PHPFPM, v1alpha1.Green)) }).Should(HaveSuffix(":other"))
		code, _, stderr = run("scale-down-idle", "shop")
		Expect(code).To(Equal(plugin.ExitError))
		Expect(stderr).To(ContainSubstring("a switch from blue to green is under way"))
		code, _, stderr = run("switch", "shop", "--to", "purple")
		Expect(code).To(Equal(plugin.ExitError))
		Expect(stderr).To(ContainSubstring("--to must be blue or green"))
		code, _, _ = run("status", "no-such-release")
		Expect(code).To(Equal(plugin.ExitError))
	})

	It("scales the idle slot down on request", func() {
		code, out, _ := run("deploy", "shop", "--tag", "idle-now")
		Expect(code).To(Equal(0), out)
		env.Settle(rel)
		Expect(builder.Replicas(env.Deployment(rel, specs.Web, v1alpha1.Green))).To(BeEquivalentTo(2))
		code, out, _ = run("scale-down-idle", "shop")
		Expect(code).To(Equal(0))
		Expect(out).To(ContainSubstring("scaling green down now"))
		Eventually(func() int32 { return builder.Replicas(env.Deployment(rel, specs.Web, v1alpha1.Green)) }).Should(BeZero())
		Eventually(func() any { return env.Get(rel).Status.Green.State }).Should(Equal(v1alpha1.SlotScaledDown))
		Expect(env.ServicesColor(rel)).To(Equal("blue"))
	})

	It("shows failed checks, retries them and skips them", func() {
		By("refusing what there is nothing to do for")
		code, _, stderr := run("retry-checks", "shop")
		Expect(code).To(Equal(plugin.ExitError))
		Expect(stderr).To(ContainSubstring("shop has no failed checks to retry"))
		code, _, stderr = run("skip-checks", "shop")
		Expect(code).To(Equal(plugin.ExitError))
		Expect(stderr).To(ContainSubstring("spec.verification is not set"))

		env.Change(rel, func(r *v1alpha1.MagentoRelease) {
			r.Spec.Verification = &v1alpha1.VerificationSpec{Command: []string{"bin/smoke-test"}}
			r.Spec.Green = &v1alpha1.Slot{Tag: "main-2"}
		})

		env.RollOutSlot(rel, v1alpha1.Green)
		env.Settle(rel)
		code, out, _ := run("status", "shop")
		Expect(code).To(Equal(0))
		Expect(out).To(MatchRegexp(`green\s+main-2\s+main-2\s+Preview\s+true\s+false\s+false\s+false\s+in \d+`))
		code, _, stderr = run("skip-checks", "shop")
		Expect(code).To(Equal(plugin.ExitError))
		Expect(stderr).To(ContainSubstring("nothing to skip"))

		By("a switch to green whose command fails")
		code, _, stderr = run("switch", "shop", "--to", "green")
		Expect(code).To(Equal(0), stderr)
		Eventually(func() []string { return env.JobNames(rel, specs.Verification) }).Should(HaveLen(1))
		first := env.JobNames(rel, specs.Verification)[0]
		env.JobPod(rel, first, 3, "checkout: no products in category 4\n")
		env.FinishJob(rel, first, false)
		Eventually(func() *metav1.Time { return env.Get(rel).Status.Green.VerificationFailedTime }).ShouldNot(BeNil())
		code, out, _ = run("status", "shop")
		Expect(code).To(Equal(0))
		GinkgoWriter.Printf("status after the failed check:\n%s\n", out)
		Expect(out).To(ContainSubstring("Traffic:  blue (switching to green)"))
		Expect(out).To(ContainSubstring("\nPhase:    Degraded\n"))
		Expect(out).To(ContainSubstring("green failed its checks: command Job " + first + " failed: exit 3: checkout: no products in category 4"))

		By("retry-checks")
		code, out, stderr = run("retry-checks", "shop")
		Expect(code).To(Equal(0), stderr)
		Expect(out).To(ContainSubstring("checking green (main-2) again: the switch to it starts again"))
		Expect(env.Get(rel).Annotations).To(HaveKeyWithValue(v1alpha1.AnnotationRetryChecks, env.Clock.Now().UTC().Format(time.RFC3339)))
		Eventually(func() []string { return env.JobNames(rel, specs.Verification) }).Should(HaveLen(2))
		Eventually(func() []string { return env.EventReasons(rel) }).Should(ContainElement("RetryingChecks"))

		By("skip-checks while the command runs again")
		code, out, stderr = run("skip-checks", "shop")
		Expect(code).To(Equal(0), stderr)
		Expect(out).To(ContainSubstring("skipping the checks of the pending switch to green"))
		Eventually(func() string { return env.ServicesColor(rel) }).Should(Equal("green"))
		Eventually(func() []string { return env.EventReasons(rel) }).Should(ContainElement("ChecksSkipped"))
		Expect(env.Get(rel).Status.ChecksUntil).To(BeNil(), "a window of checks after a skipped switch")
		env.Settle(rel)

		By("the window of checks after a switch, shown and skipped")
		env.Clock.Step(time.Minute) // past the skip asked above
		code, _, stderr = run("switch", "shop", "--to", "blue")
		Expect(code).To(Equal(0), stderr)
		var blue string
		Eventually(func() string {
			for _, name := range env.JobNames(rel, specs.Verification) {
				if strings.HasPrefix(name, rel.Name+"-verify-blue-") {
					blue = name
				}
			}
			return blue
		}).ShouldNot(BeEmpty())
		env.FinishJob(rel, blue, true)
		Eventually(func() string { return env.ServicesColor(rel) }).Should(Equal("blue"))
		Eventually(func() *metav1.Time { return env.Get(rel).Status.ChecksUntil }).ShouldNot(BeNil())
		code, out, _ = run("status", "shop")
		Expect(code).To(Equal(0))
		GinkgoWriter.Printf("status in the window:\n%s\n", out)
		Expect(out).To(MatchRegexp(`Checks:   after the switch to blue until \S+ \(5m0s left\)`))
		Expect(out).To(MatchRegexp(`blue\s+main-1\s+main-1\s+Active\s+true\s+false\s+true\s+true\s+-`))
		code, out, stderr = run("skip-checks", "shop")
		Expect(code).To(Equal(0), stderr)
		Expect(out).To(ContainSubstring("skipping the checks after the switch to blue"))
		Eventually(func() *metav1.Time { return env.Get(rel).Status.ChecksUntil }).Should(BeNil())
	})
})
