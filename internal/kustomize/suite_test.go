package kustomize_test

import (
	"testing"

	"github.com/magento-operator/magento-operator/internal/testenv/suite"
)

// This suite installs the rendered bundle into a real kube-apiserver.

var env = suite.NewEnv()

func TestInstaller(t *testing.T) { env.Run(t, "Install Bundle Suite", nil) }
