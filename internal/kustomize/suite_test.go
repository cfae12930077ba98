package kustomize_test

import (
	"context"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/magento-operator/magento-operator/internal/testenv/suite"
)

// This suite installs the rendered bundle into a real kube-apiserver.

const (
	timeout  = 20 * time.Second
	interval = 100 * time.Millisecond
)

var (
	k8sClient client.Client
	ctx       = context.Background()
)

func TestInstaller(t *testing.T) { suite.Run(t, "Install Bundle Suite", &k8sClient) }
