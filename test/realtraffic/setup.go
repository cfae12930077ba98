package realtraffic

import (
	"context"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
	"github.com/magento-operator/magento-operator/internal/testenv"
	"github.com/magento-operator/magento-operator/test/realcluster"
	"github.com/magento-operator/magento-operator/test/realcluster/images"
)

// Shop is a real cluster that runs the operator, installed from its
// bundle as a pod, with the shop test images imported.
type Shop struct {
	Cluster *realcluster.Cluster
	Client  client.Client
	// Up and Operator are how long the cluster and then the operator took
	// to run, counted from the cluster's start.
	Up, Operator time.Duration
}

// StartShop builds (or takes from bin/realimages) the shop images cfg
// describes and the operator's image, starts a real cluster, imports them
// and installs the operator. On success the caller stops shop.Cluster.
func StartShop(ctx context.Context, cfg images.ShopConfig) (_ *Shop, err error) {
	root := testenv.RepoRoot()
	cache := filepath.Join(root, "bin", "realimages")
	shop, err := images.BuildShop(ctx, cache, cfg)
	if err != nil {
		return nil, err
	}
	op, err := images.OperatorImage(ctx, root, cache)
	if err != nil {
		return nil, err
	}
	opts, err := realcluster.DefaultOptions()
	if err != nil {
		return nil, err
	}
	begin := time.Now()
	cluster, err := realcluster.Start(ctx, opts)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			_ = cluster.Stop()
		}
	}()
	s := &Shop{Cluster: cluster, Up: time.Since(begin)}
	if err := cluster.Import(ctx, append(shop, op)...); err != nil {
		return nil, err
	}
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, v1alpha1.AddToScheme} {
		if err := add(scheme); err != nil {
			return nil, err
		}
	}
	if s.Client, err = client.New(cluster.Config, client.Options{Scheme: scheme}); err != nil {
		return nil, err
	}
	if err := InstallOperator(ctx, s.Client, images.OperatorRef, 3*time.Minute); err != nil {
		return nil, err
	}
	s.Operator = time.Since(begin)
	return s, nil
}

// Namespace creates a namespace for a shop and waits until pods may run in it.
func (s *Shop) Namespace(ctx context.Context, name string) error {
	if err := s.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}); err != nil {
		return err
	}
	return s.Cluster.WaitForServiceAccount(ctx, name)
}

// Images is the release's spec.images for the shop test images.
func Images() v1alpha1.Images {
	return v1alpha1.Images{App: images.ShopAppRepo, Web: images.ShopWebRepo, PullPolicy: corev1.PullNever}
}
