package controller

import (
	"testing"

	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/magento-operator/magento-operator/internal/testenv/suite"
)

// env is where the specs of this package run: a real kube-apiserver and
// etcd, and the operator with its clock stopped.
var env = suite.NewEnv()

func TestController(t *testing.T) {
	env.Run(t, "Controller Suite", &suite.Operator{
		Cache: CacheOptions(nil),
		Setup: func(mgr ctrl.Manager) error {
			return New(mgr, env.Clock).SetupWithManager(mgr)
		},
	})
}
