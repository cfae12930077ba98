// Package testenv starts a real kube-apiserver and etcd (envtest) with the
// project's CRDs installed, for the envtest suites.
package testenv

import (
	"os"
	"path/filepath"
	goruntime "runtime"
	"sort"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
)

// RepoRoot is the root of this repository.
func RepoRoot() string {
	_, file, _, _ := goruntime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// AssetsDir is where kube-apiserver and etcd are read from: KUBEBUILDER_ASSETS
// when set, else the newest bin/envtest-* directory `make envtest` built.
func AssetsDir() string {
	if dir := os.Getenv("KUBEBUILDER_ASSETS"); dir != "" {
		return dir
	}
	return NewestInBin("envtest-*")
}

// NewestInBin is the newest (last in sort order, so the highest version) of
// the paths under bin/ matching pattern, "" when none does.
func NewestInBin(pattern string) string {
	m, _ := filepath.Glob(filepath.Join(RepoRoot(), "bin", pattern))
	if len(m) == 0 {
		return ""
	}
	sort.Strings(m)
	return m[len(m)-1]
}

// Getenv is the environment variable key, or fallback when it is empty.
func Getenv(key, fallback string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return fallback
}

// New returns an environment with the CRDs of config/crd/bases.
func New() *envtest.Environment {
	return &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join(RepoRoot(), "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
		BinaryAssetsDirectory: AssetsDir(),
	}
}

// Scheme holds the kinds the suites read and write: Kubernetes' own, CRDs
// and MagentoReleases.
func Scheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, apiextensionsv1.AddToScheme, v1alpha1.AddToScheme} {
		if err := add(s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// StartWithClient starts a new environment and returns it with a config and
// a client (of Scheme) for it.
func StartWithClient() (*envtest.Environment, *rest.Config, client.Client, error) {
	s, err := Scheme()
	if err != nil {
		return nil, nil, nil, err
	}
	env := New()
	cfg, err := env.Start()
	if err != nil {
		return env, nil, nil, err
	}
	c, err := client.New(cfg, client.Options{Scheme: s})
	return env, cfg, c, err
}
