package v1alpha1_test

import (
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
	"github.com/magento-operator/magento-operator/internal/testenv/suite"
)

// These suites run the API's OpenAPI and CEL validation, and check the CRD as
// served, in a real kube-apiserver.

var env = suite.NewEnv()

func TestAPI(t *testing.T) { env.Run(t, "API Validation Suite", nil) }

func keyOf(obj client.Object) client.ObjectKey { return client.ObjectKeyFromObject(obj) }

func envVar(name, value string) corev1.EnvVar { return corev1.EnvVar{Name: name, Value: value} }

// createRaw creates r after mutate edited its spec as plain JSON, for values
// the Go types cannot hold.
func createRaw(r *v1alpha1.MagentoRelease, mutate func(spec map[string]any)) error {
	r.APIVersion, r.Kind = v1alpha1.GroupVersion.String(), "MagentoRelease"
	content, err := runtime.DefaultUnstructuredConverter.ToUnstructured(r)
	Expect(err).NotTo(HaveOccurred())
	u := &unstructured.Unstructured{Object: content}
	mutate(u.Object["spec"].(map[string]any))
	return env.Client.Create(env.Ctx, u)
}
