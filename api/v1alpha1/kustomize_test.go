package v1alpha1_test

import (
	"io/fs"
	"os"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/magento-operator/magento-operator/internal/kustomize"
	"github.com/magento-operator/magento-operator/internal/testenv"
)

// kustomizations lists every directory under config/ and examples/ that holds
// a kustomization.yaml.
func kustomizations() []string {
	var dirs []string
	for _, top := range []string{"config", "examples"} {
		root := filepath.Join(testenv.RepoRoot(), top)
		Expect(filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && d.Name() == "kustomization.yaml" {
				dirs = append(dirs, filepath.Dir(path))
			}
			return nil
		})).To(Succeed())
	}
	return dirs
}

var _ = Describe("What users sync from Git", func() {
	It("renders every kustomization, and the API server accepts every MagentoRelease in them", func() {
		dirs := kustomizations()
		rel := func(d string) string { r, _ := filepath.Rel(testenv.RepoRoot(), d); return r }
		names := make([]string, 0, len(dirs))
		for _, d := range dirs {
			names = append(names, rel(d))
		}
		// The directories users sync must all be here, or the walk is broken.
		Expect(names).To(ContainElements("config/default", "config/samples",
			"examples/gitops/overlays/dev", "examples/gitops/overlays/stage"))

		releases := 0
		for _, dir := range dirs {
			out, err := kustomize.Render(dir, nil)
			Expect(err).NotTo(HaveOccurred(), "rendering %s", rel(dir))
			objs, err := kustomize.Objects(out)
			Expect(err).NotTo(HaveOccurred(), "decoding %s", rel(dir))
			for _, obj := range objs {
				if obj.GetKind() != "MagentoRelease" {
					continue
				}
				releases++
				ns := obj.GetNamespace()
				if ns == "" {
					ns = "default"
					obj.SetNamespace(ns)
				}
				err := env.Client.Create(env.Ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
				if !apierrors.IsAlreadyExists(err) {
					Expect(err).NotTo(HaveOccurred())
				}
				Expect(env.Client.Create(env.Ctx, obj, client.DryRunAll)).To(Succeed(),
					"%s: MagentoRelease %s/%s", rel(dir), ns, obj.GetName())
			}
		}
		// 2 samples, dev and stage overlays (and the base they share).
		Expect(releases).To(BeNumerically(">=", 5))
	})

	It("keeps the CRD's image rules in step with the reference parser", func() {
		crd, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "config/crd/bases/magento.ops.dev_magentoreleases.yaml"))
		Expect(err).NotTo(HaveOccurred())
		Expect(string(crd)).To(ContainSubstring(referenceNamePattern()))
		Expect(string(crd)).To(ContainSubstring(referencePattern()))
	})
})
