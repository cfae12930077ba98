package realtraffic

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/magento-operator/magento-operator/internal/kustomize"
	"github.com/magento-operator/magento-operator/internal/testenv"
)

// OperatorNamespace and OperatorDeployment are where the install bundle
// (config/default, what `make build-installer` writes) runs the manager.
const (
	OperatorNamespace  = "magento-operator-system"
	OperatorDeployment = "magento-operator-controller-manager"
)

// InstallOperator installs the bundle with the manager image ref, as a
// platform team would (`kubectl apply -f dist/install.yaml`), and waits
// until the manager runs.
func InstallOperator(ctx context.Context, c client.Client, ref string, timeout time.Duration) error {
	var images kustomize.ImageOverrides
	if err := images.Set("controller=" + ref); err != nil {
		return err
	}
	bundle, err := kustomize.Render(filepath.Join(testenv.RepoRoot(), "config", "default"), images)
	if err != nil {
		return err
	}
	objs, err := kustomize.Objects(bundle)
	if err != nil {
		return err
	}
	e := Env{Client: c, Timeout: timeout}
	for _, u := range objs {
		// A new namespace takes a moment to reach the admission cache.
		if err := e.waitFor(ctx, u.GetKind()+" "+u.GetName(), func() (bool, error) {
			err := c.Create(ctx, u.DeepCopy())
			return err == nil || apierrors.IsAlreadyExists(err), err
		}); err != nil {
			return err
		}
	}
	return e.waitFor(ctx, "the manager to run", func() (bool, error) {
		d := &appsv1.Deployment{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: OperatorNamespace, Name: OperatorDeployment}, d); err != nil {
			return false, err
		}
		if d.Status.AvailableReplicas < 1 {
			return false, fmt.Errorf("manager: %d available", d.Status.AvailableReplicas)
		}
		return true, nil
	})
}
