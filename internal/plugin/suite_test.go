package plugin_test

import (
	"testing"

	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/magento-operator/magento-operator/internal/controller"
	"github.com/magento-operator/magento-operator/internal/testenv/suite"
)

// env is where the plugin runs: a real kube-apiserver and etcd, and the
// operator with its clock stopped.
var env = suite.NewEnv()

func TestPlugin(t *testing.T) {
	env.Run(t, "kubectl magento Suite", &suite.Operator{
		Cache: controller.CacheOptions(nil),
		Setup: func(mgr ctrl.Manager) error { return controller.New(mgr, env.Clock).SetupWithManager(mgr) },
	})
}
