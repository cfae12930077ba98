// Package suite runs a package's Ginkgo specs against one envtest
// environment — a real kube-apiserver and etcd with the project's CRDs —
// started before the specs and stopped after them.
package suite

import (
	"testing"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/magento-operator/magento-operator/internal/testenv"
)

// Run runs the specs of the calling package as the suite name; *c is a
// client (of testenv.Scheme) for the environment while they run.
func Run(t *testing.T, name string, c *client.Client) {
	gomega.RegisterFailHandler(ginkgo.Fail)
	var env *envtest.Environment
	ginkgo.BeforeSuite(func() {
		var err error
		env, _, *c, err = testenv.StartWithClient()
		gomega.Expect(err).NotTo(gomega.HaveOccurred())
	})
	ginkgo.AfterSuite(func() {
		if env != nil {
			gomega.Expect(env.Stop()).To(gomega.Succeed())
		}
	})
	ginkgo.RunSpecs(t, name)
}
