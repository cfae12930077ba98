package kustomize_test

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/magento-operator/magento-operator/internal/testenv"
)

// This suite installs the rendered bundle into a real kube-apiserver.

const (
	timeout  = 20 * time.Second
	interval = 100 * time.Millisecond
)

var (
	testEnv   *envtest.Environment
	k8sClient client.Client
	ctx       = context.Background()
)

func TestInstaller(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Install Bundle Suite")
}

var _ = BeforeSuite(func() {
	var err error
	testEnv, _, k8sClient, err = testenv.StartWithClient()
	Expect(err).NotTo(HaveOccurred())
})

var _ = AfterSuite(func() {
	if testEnv != nil {
		Expect(testEnv.Stop()).To(Succeed())
	}
})
