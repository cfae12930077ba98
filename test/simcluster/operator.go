package simcluster

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/magento-operator/magento-operator/test/proc"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/magento-operator/magento-operator/internal/testenv"
)

// InstallCRDs creates the CRDs of config/crd/bases and waits until they are served.
func (c *Cluster) InstallCRDs(ctx context.Context) error {
	cs, err := apiextensionsclient.NewForConfig(c.Config)
	if err != nil {
		return err
	}
	files, err := filepath.Glob(filepath.Join(testenv.RepoRoot(), "config", "crd", "bases", "*.yaml"))
	if err != nil {
		return err
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		crd := &apiextensionsv1.CustomResourceDefinition{}
		if err := yaml.Unmarshal(raw, crd); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		if _, err := cs.ApiextensionsV1().CustomResourceDefinitions().Create(ctx, crd, metav1.CreateOptions{}); err != nil &&
			!apierrors.IsAlreadyExists(err) {
			return err
		}
		if err := c.waitFor(ctx, "CRD "+crd.Name, 30*time.Second, func() bool {
			got, err := cs.ApiextensionsV1().CustomResourceDefinitions().Get(ctx, crd.Name, metav1.GetOptions{})
			if err != nil {
				return false
			}
			for _, cond := range got.Status.Conditions {
				if cond.Type == apiextensionsv1.Established && cond.Status == apiextensionsv1.ConditionTrue {
					return true
				}
			}
			return false
		}); err != nil {
			return err
		}
	}
	return nil
}

// Operator is the manager binary running as its own process.
type Operator struct {
	cluster *Cluster
	binary  string
	args    []string
	running *proc.Process
	// Starts counts how often it was started.
	Starts int
}

// NewOperator prepares the manager binary to run against the cluster.
func (c *Cluster) NewOperator(binary string, args ...string) *Operator {
	return &Operator{cluster: c, binary: binary, args: args}
}

// Start starts the manager unless it runs already; its log goes to
// <dir>/operator.log, kept across restarts.
func (o *Operator) Start() error {
	if o.running != nil {
		return nil
	}
	argv := append([]string{o.binary, "--kubeconfig=" + o.cluster.Kubeconfig, "--metrics-bind-address=0",
		"--health-probe-bind-address=0"}, o.args...)
	p, err := proc.Start(o.cluster.Dir, "operator", argv...)
	if err != nil {
		return err
	}
	o.running = p
	o.Starts++
	return nil
}

// Kill stops the manager at once (SIGKILL), as a crash or an eviction would.
func (o *Operator) Kill() {
	if o.running == nil {
		return
	}
	o.running.Kill()
	o.running = nil
}

// Stop stops the manager gracefully.
func (o *Operator) Stop() {
	if o.running == nil {
		return
	}
	o.running.Stop(15 * time.Second)
	o.running = nil
}
