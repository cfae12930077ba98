//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"sigs.k8s.io/yaml"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
	"github.com/magento-operator/magento-operator/internal/testenv"
)

// gitlabJob is the part of a GitLab CI job the test runs.
type gitlabJob struct {
	Extends      string   `json:"extends"`
	BeforeScript []string `json:"before_script"`
	Script       []string `json:"script"`
}

var _ = Describe("The GitLab CI example's kubectl jobs", func() {
	It("deploy to the idle slot, switch to green, switch back to blue and scale the idle slot down", func() {
		raw, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "examples", "gitlab-ci", ".gitlab-ci.yml"))
		Expect(err).NotTo(HaveOccurred())
		doc := map[string]any{} // jobs beside stages and variables
		Expect(yaml.Unmarshal(raw, &doc)).To(Succeed())
		jobs := map[string]gitlabJob{}
		for name, v := range doc {
			if m, ok := v.(map[string]any); ok && (m["script"] != nil || m["before_script"] != nil) {
				b, err := json.Marshal(m)
				Expect(err).NotTo(HaveOccurred())
				job := gitlabJob{}
				Expect(json.Unmarshal(b, &job)).To(Succeed(), name)
				jobs[name] = job
			}
		}

		rel := newRelease(newNamespace()).Name("magento").Obj()
		Expect(k8sClient.Create(ctx, rel)).To(Succeed())
		Eventually(settled(rel), timeout, interval).Should(Succeed())

		// The job's kubeconfig is its own copy: before_script edits it.
		kubeconfig := filepath.Join(GinkgoT().TempDir(), "kubeconfig")
		admin, err := os.ReadFile(cluster.Kubeconfig)
		Expect(err).NotTo(HaveOccurred())
		Expect(os.WriteFile(kubeconfig, admin, 0o600)).To(Succeed())

		run := func(name, tag string) {
			job, ok := jobs[name]
			Expect(ok).To(BeTrue(), "no job %s", name)
			Expect(job.Extends).To(Equal(".kubectl"))
			lines := append(append([]string{}, jobs[".kubectl"].BeforeScript...), job.Script...)
			cmd := exec.Command("bash", "-euo", "pipefail", "-c", strings.Join(lines, "\n"))
			cmd.Env = append(os.Environ(),
				"KUBECONFIG="+kubeconfig,
				"PATH="+filepath.Dir(kubectlPath())+":"+os.Getenv("PATH"),
				"MAGENTO_RELEASE="+rel.Name, "KUBE_NAMESPACE="+rel.Namespace, "IMAGE_TAG="+tag)
			out, err := cmd.CombinedOutput()
			GinkgoWriter.Printf("--- %s\n%s\n", name, out)
			Expect(err).NotTo(HaveOccurred(), "%s failed:\n%s", name, out)
		}

		run("deploy-idle:kubectl", "ci-1")
		Expect(get(rel).Spec.Green).To(Equal(&v1alpha1.Slot{Tag: "ci-1"}))
		Expect(get(rel).Status.Green.Ready).To(BeTrue())

		run("switch-to-green:kubectl", "ci-1")
		Expect(servicesColor(rel)).To(Equal("green"))

		run("switch-to-blue:kubectl", "ci-1")
		Expect(servicesColor(rel)).To(Equal("blue"))

		run("deploy-idle:kubectl", "ci-2")
		Expect(get(rel).Spec.Green.Tag).To(Equal("ci-2"))

		run("scale-down-idle:kubectl", "ci-2")
		Expect(get(rel).Status.Green.State).To(Equal(v1alpha1.SlotScaledDown))
		Expect(servicesColor(rel)).To(Equal("blue"))
	})
})

// kubectlPath is the kubectl `make tools` built beside the other binaries.
func kubectlPath() string {
	opts, err := simclusterOptions()
	Expect(err).NotTo(HaveOccurred())
	path := filepath.Join(opts.KubeDir, "kubectl")
	_, err = os.Stat(path)
	Expect(err).NotTo(HaveOccurred(), fmt.Sprintf("no kubectl at %s: run `make tools`", path))
	return path
}
