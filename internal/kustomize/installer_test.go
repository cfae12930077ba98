package kustomize_test

import (
	"path/filepath"
	"slices"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/magento-operator/magento-operator/internal/kustomize"
	"github.com/magento-operator/magento-operator/internal/testenv"
)

var _ = Describe("The install bundle (make build-installer)", func() {
	It("installs into a cluster: CRD, least-privilege RBAC, and a manager that passes the restricted Pod Security profile", func() {
		var images kustomize.ImageOverrides
		Expect(images.Set("controller=registry.example.com:5000/magento-operator:v0.1.0")).To(Succeed())
		bundle, err := kustomize.Render(filepath.Join(testenv.RepoRoot(), "config", "default"), images)
		Expect(err).NotTo(HaveOccurred())

		objs, err := kustomize.Objects(bundle)
		Expect(err).NotTo(HaveOccurred())
		kinds := map[string]int{}
		for _, u := range objs {
			kinds[u.GetKind()]++
			// A new namespace takes a moment to reach the admission cache.
			Eventually(func() error {
				err := env.Client.Create(env.Ctx, u.DeepCopy())
				if u.GetKind() == "CustomResourceDefinition" && apierrors.IsAlreadyExists(err) {
					return nil // the suite installed it already
				}
				return err
			}).Should(Succeed(), "%s %s", u.GetKind(), u.GetName())
		}
		Expect(kinds).To(HaveKeyWithValue("CustomResourceDefinition", 1))
		Expect(kinds).To(HaveKeyWithValue("Deployment", 1))

		role := &rbacv1.ClusterRole{}
		Expect(env.Client.Get(env.Ctx, client.ObjectKey{Name: "magento-operator-manager-role"}, role)).To(Succeed())
		readsPods := false
		for _, rule := range role.Rules {
			Expect(rule.Resources).NotTo(ContainElement("secrets"), "the manager may not read Secrets")
			Expect(rule.Resources).NotTo(ContainElement("*"))
			Expect(rule.APIGroups).NotTo(ContainElement("*"))
			Expect(rule.Verbs).NotTo(ContainElement("*"))
			// Pods: read only (rule 13 reads whether cron and consumer pods
			// are gone); no write, no subresource (exec, eviction, log...).
			Expect(rule.Resources).NotTo(ContainElement(HavePrefix("pods/")))
			if slices.Contains(rule.Resources, "pods") {
				Expect(rule.Verbs).To(HaveEach(BeElementOf("get", "list", "watch")), "the manager may only read pods")
				readsPods = true
			}
		}
		Expect(readsPods).To(BeTrue(), "the manager reads pods to tell whether they are gone (rule 13)")

		d := &appsv1.Deployment{}
		Expect(env.Client.Get(env.Ctx, client.ObjectKey{Namespace: "magento-operator-system", Name: "magento-operator-controller-manager"}, d)).To(Succeed())
		c := d.Spec.Template.Spec.Containers[0]
		Expect(c.Image).To(Equal("registry.example.com:5000/magento-operator:v0.1.0"))
		Expect(c.SecurityContext.ReadOnlyRootFilesystem).To(HaveValue(BeTrue()))
		Expect(d.Spec.Template.Spec.SecurityContext.RunAsNonRoot).To(HaveValue(BeTrue()))
		Expect(d.Spec.Template.Spec.ServiceAccountName).To(Equal("magento-operator-controller-manager"))

		By("the namespace enforces the restricted profile, and admits the manager's pod")
		ns := &corev1.Namespace{}
		Expect(env.Client.Get(env.Ctx, client.ObjectKey{Name: "magento-operator-system"}, ns)).To(Succeed())
		Expect(ns.Labels).To(HaveKeyWithValue("pod-security.kubernetes.io/enforce", "restricted"))
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "manager-check", Namespace: ns.Name},
			Spec:       d.Spec.Template.Spec,
		}
		Expect(env.Client.Create(env.Ctx, pod, client.DryRunAll)).To(Succeed())
		bad := pod.DeepCopy()
		bad.Spec.Containers[0].SecurityContext.AllowPrivilegeEscalation = nil
		Expect(env.Client.Create(env.Ctx, bad, client.DryRunAll)).To(MatchError(ContainSubstring("restricted")),
			"the namespace does not enforce the restricted profile")
	})
})
