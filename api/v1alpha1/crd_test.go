package v1alpha1_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

var _ = Describe("The MagentoRelease CRD", func() {
	It("is installed, established and served under its short name", func() {
		crd := &apiextensionsv1.CustomResourceDefinition{}
		Expect(env.Client.Get(env.Ctx, client.ObjectKey{Name: "magentoreleases.magento.ops.dev"}, crd)).To(Succeed())
		Expect(crd.Spec.Names.ShortNames).To(ConsistOf("mrel"))
		Expect(crd.Spec.Scope).To(Equal(apiextensionsv1.NamespaceScoped))
		established := false
		for _, c := range crd.Status.Conditions {
			if c.Type == apiextensionsv1.Established && c.Status == apiextensionsv1.ConditionTrue {
				established = true
			}
		}
		Expect(established).To(BeTrue(), "CRD not established: %v", crd.Status.Conditions)
	})

	It("shows Active, Desired, Blue, Green, Ready and Age in kubectl get", func() {
		crd := &apiextensionsv1.CustomResourceDefinition{}
		Expect(env.Client.Get(env.Ctx, client.ObjectKey{Name: "magentoreleases.magento.ops.dev"}, crd)).To(Succeed())
		cols := map[string]string{}
		var order []string
		for _, c := range crd.Spec.Versions[0].AdditionalPrinterColumns {
			cols[c.Name] = c.JSONPath
			order = append(order, c.Name)
		}
		Expect(order).To(Equal([]string{"Active", "Desired", "Blue", "Green", "Ready", "Age"}))
		Expect(cols).To(Equal(map[string]string{
			"Active":  ".status.activeColor",
			"Desired": ".spec.activeColor",
			"Blue":    ".spec.blue.tag",
			"Green":   ".spec.green.tag",
			"Ready":   `.status.conditions[?(@.type=="Ready")].status`,
			"Age":     ".metadata.creationTimestamp",
		}))
		Expect(crd.Spec.Versions[0].Subresources.Status).NotTo(BeNil())
	})
})
