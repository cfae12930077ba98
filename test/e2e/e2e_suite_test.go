//go:build e2e

// Package e2e runs the operator binary, as its own process, against the
// simulated cluster (kube-controller-manager, scheduler and kwok), where
// Deployments really roll out and pods become Ready.
package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
	"github.com/magento-operator/magento-operator/internal/testenv"
	"github.com/magento-operator/magento-operator/test/simcluster"
)

var (
	ctx = context.Background()
	// cluster is the simulated cluster, operator the operator's process on it.
	cluster  *simcluster.Cluster
	operator *simcluster.Operator
	// k8sClient reads and writes the cluster as its administrator.
	k8sClient client.WithWatch
)

// How long and how often the specs poll the cluster.
const (
	timeout  = 90 * time.Second
	interval = 250 * time.Millisecond
)

func TestE2E(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "e2e Suite (simulated cluster)")
}

var _ = BeforeSuite(func() {
	opts, err := simcluster.DefaultOptions()
	Expect(err).NotTo(HaveOccurred())
	// The whole suite runs like a cluster older than Kubernetes 1.35, where
	// Deployments do not report status.terminatingReplicas: rule 13 of the
	// contract must hold there too, and every other spec passes either way.
	// (The simulated cluster also keeps deleted cron and consumer pods
	// terminating for a few seconds; see simcluster.Options.WriterTermination.)
	opts.FeatureGates = map[string]bool{"DeploymentReplicaSetTerminatingReplicas": false}
	start := time.Now()
	cluster, err = simcluster.Start(ctx, opts)
	Expect(err).NotTo(HaveOccurred())
	GinkgoWriter.Printf("simulated cluster ready in %s\n", time.Since(start))
	Expect(cluster.InstallCRDs(ctx)).To(Succeed())

	manager := os.Getenv("MANAGER_BINARY")
	if manager == "" {
		manager = filepath.Join(cluster.Dir, "manager")
		build := exec.Command("go", "build", "-o", manager, "./cmd")
		build.Dir = testenv.RepoRoot()
		out, err := build.CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), "building the manager: %s", out)
	}
	operator = cluster.NewOperator(manager, "--zap-log-level=debug")
	Expect(operator.Start()).To(Succeed())

	scheme := runtime.NewScheme()
	Expect(clientgoscheme.AddToScheme(scheme)).To(Succeed())
	Expect(v1alpha1.AddToScheme(scheme)).To(Succeed())
	k8sClient, err = client.NewWithWatch(cluster.Config, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())
})

func simclusterOptions() (simcluster.Options, error) { return simcluster.DefaultOptions() }

var _ = AfterSuite(func() {
	if operator != nil {
		operator.Stop()
	}
	if cluster != nil {
		if CurrentSpecReport().Failed() {
			GinkgoWriter.Println(cluster.Logs("operator", 60))
		}
		Expect(cluster.Stop()).To(Succeed())
	}
})

var _ = ReportAfterEach(func(report SpecReport) {
	if report.Failed() && cluster != nil {
		AddReportEntry("operator log", cluster.Logs("operator", 80))
	}
})
