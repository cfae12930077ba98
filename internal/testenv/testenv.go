// Package testenv starts a real kube-apiserver and etcd (envtest) with the
// project's CRDs installed, for the envtest suites.
package testenv

import (
	"os"
	"path/filepath"
	"runtime"
	"sort"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// RepoRoot is the root of this repository.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
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

// Start starts a new environment and returns it with a config for it.
func Start() (*envtest.Environment, *rest.Config, error) {
	env := New()
	cfg, err := env.Start()
	return env, cfg, err
}
