package v1alpha1_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
	"github.com/magento-operator/magento-operator/test/builder"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
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

	It("shows Active, Desired, Blue, Green, Phase, Ready and Age in kubectl get", func() {
		crd := &apiextensionsv1.CustomResourceDefinition{}
		Expect(env.Client.Get(env.Ctx, client.ObjectKey{Name: "magentoreleases.magento.ops.dev"}, crd)).To(Succeed())
		cols := map[string]string{}
		var order []string
		for _, c := range crd.Spec.Versions[0].AdditionalPrinterColumns {
			cols[c.Name] = c.JSONPath
			order = append(order, c.Name)
		}
		Expect(order).To(Equal([]string{"Active", "Desired", "Blue", "Green", "Phase", "Ready", "Age"}))
		Expect(cols).To(Equal(map[string]string{
			"Active":  ".status.activeColor",
			"Desired": ".spec.activeColor",
			"Blue":    ".spec.blue.tag",
			"Green":   ".spec.green.tag",
			"Phase":   ".status.phase",
			"Ready":   `.status.conditions[?(@.type=="Ready")].status`,
			"Age":     ".metadata.creationTimestamp",
		}))
		Expect(crd.Spec.Versions[0].Subresources.Status).NotTo(BeNil())
	})

	It("prints a Degraded release as Degraded, the way kubectl get asks the API server for a table", func() {
		rel := builder.MakeRelease(env.NewNamespace(), "shop").Obj()
		Expect(env.Client.Create(env.Ctx, rel)).To(Succeed())
		rel.Status = v1alpha1.MagentoReleaseStatus{ObservedGeneration: rel.Generation, ActiveColor: v1alpha1.Blue, Phase: v1alpha1.PhaseDegraded}
		Expect(env.Client.Status().Update(env.Ctx, rel)).To(Succeed())

		hc, err := rest.HTTPClientFor(env.Config)
		Expect(err).NotTo(HaveOccurred())
		u, err := url.JoinPath(env.Config.Host, "apis/magento.ops.dev/v1alpha1/namespaces", rel.Namespace, "magentoreleases/shop")
		Expect(err).NotTo(HaveOccurred())
		req, err := http.NewRequest(http.MethodGet, u, nil)
		Expect(err).NotTo(HaveOccurred())
		req.Header.Set("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io")
		resp, err := hc.Do(req)
		Expect(err).NotTo(HaveOccurred())
		defer func() { _ = resp.Body.Close() }()
		body, _ := io.ReadAll(resp.Body)
		Expect(resp.StatusCode).To(Equal(http.StatusOK), "%s %s", req.URL, body)
		table := &metav1.Table{}
		Expect(json.Unmarshal(body, table)).To(Succeed())
		cells := map[string]any{}
		for i, col := range table.ColumnDefinitions {
			cells[col.Name] = table.Rows[0].Cells[i]
		}
		Expect(cells).To(HaveKeyWithValue("Phase", "Degraded"))
		Expect(cells).To(HaveKeyWithValue("Active", "blue"))
	})
})
