// Package suite runs a package's Ginkgo specs against one envtest
// environment — a real kube-apiserver and etcd with the project's CRDs —
// started before the specs and stopped after them, with the operator
// running in it when the suite asks. Its Env carries the Gomega helpers
// those specs share: reading a release's children, standing in for the
// Deployment and Job controllers that envtest does not run, and waiting
// for the release to settle.
package suite

import (
	"context"
	"testing"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"
	"k8s.io/client-go/rest"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/magento-operator/magento-operator/internal/testenv"
)

const (
	// Timeout is how long Eventually waits by default.
	Timeout = 20 * time.Second
	// Interval is how often Eventually and Consistently poll by default.
	Interval = 100 * time.Millisecond
	// Resync is how often the operator reconciles every release again
	// without a change.
	Resync = 2 * time.Second
)

// Env is one suite's environment. Ctx and Clock are set when it is made;
// the rest once the suite has started.
type Env struct {
	Ctx context.Context
	// Clock is the operator's clock; specs step it past TTLs and deadlines.
	Clock *clocktesting.FakeClock
	// Server is the running kube-apiserver and etcd (AddUser makes users).
	Server *envtest.Environment
	Config *rest.Config
	// Client reads and writes through the API server, past any cache.
	Client client.Client
}

// NewEnv returns an environment to Run a suite in.
func NewEnv() *Env {
	return &Env{
		Ctx:   context.Background(),
		Clock: clocktesting.NewFakeClock(time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)),
	}
}

// Operator is how a suite runs the operator: the informer caches it keeps,
// and how it registers with a manager.
type Operator struct {
	Cache cache.Options
	Setup func(ctrl.Manager) error
}

// Run runs the specs of the calling package as the suite name against a new
// envtest environment; with op, the operator runs there too (every release
// reconciled again each Resync).
func (e *Env) Run(t *testing.T, name string, op *Operator) {
	gomega.RegisterFailHandler(ginkgo.Fail)
	gomega.SetDefaultEventuallyTimeout(Timeout)
	gomega.SetDefaultEventuallyPollingInterval(Interval)
	gomega.SetDefaultConsistentlyPollingInterval(Interval)
	stop := func() {}
	ginkgo.BeforeSuite(func() {
		logf.SetLogger(zap.New(zap.WriteTo(ginkgo.GinkgoWriter), zap.UseDevMode(true)))
		var err error
		e.Server, e.Config, e.Client, err = testenv.StartWithClient()
		gomega.Expect(err).NotTo(gomega.HaveOccurred())
		if op != nil {
			stop = e.startOperator(op)
		}
	})
	ginkgo.AfterSuite(func() {
		stop()
		if e.Server != nil {
			gomega.Expect(e.Server.Stop()).To(gomega.Succeed())
		}
	})
	ginkgo.RunSpecs(t, name)
}

// startOperator starts a manager running op and returns what stops it.
func (e *Env) startOperator(op *Operator) (stop func()) {
	opts := op.Cache
	opts.SyncPeriod = ptr.To(Resync)
	mgr, err := ctrl.NewManager(e.Config, ctrl.Options{
		Scheme:  e.Client.Scheme(),
		Cache:   opts,
		Metrics: metricsserver.Options{BindAddress: "0"},
	})
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	gomega.Expect(op.Setup(mgr)).To(gomega.Succeed())
	ctx, cancel := context.WithCancel(e.Ctx)
	done := make(chan struct{})
	go func() {
		defer ginkgo.GinkgoRecover()
		defer close(done)
		gomega.Expect(mgr.Start(ctx)).To(gomega.Succeed())
	}()
	return func() { cancel(); <-done }
}
