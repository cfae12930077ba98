package simcluster

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/magento-operator/magento-operator/internal/testenv"
)

// DefaultOptions finds the binaries `make tools` builds into bin/ (the
// newest of each), and kwok's stages in the pinned kwok module's source.
// SIMCLUSTER_KUBE_DIR, SIMCLUSTER_ETCD, SIMCLUSTER_KWOK and
// SIMCLUSTER_KWOK_STAGES override them.
func DefaultOptions() (Options, error) {
	opts := Options{
		KubeDir: testenv.Getenv("SIMCLUSTER_KUBE_DIR", testenv.NewestInBin("k8s-*")),
		Etcd:    testenv.Getenv("SIMCLUSTER_ETCD", testenv.NewestInBin("etcd-*/etcd")),
		Kwok:    testenv.Getenv("SIMCLUSTER_KWOK", testenv.NewestInBin("kwok-*")),
	}
	opts.KwokStages = os.Getenv("SIMCLUSTER_KWOK_STAGES")
	if opts.KwokStages == "" {
		cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "sigs.k8s.io/kwok")
		cmd.Dir = filepath.Join(testenv.RepoRoot(), "hack", "tools", "kwok")
		out, err := cmd.Output()
		if err != nil {
			return opts, fmt.Errorf("finding the kwok module: %w", err)
		}
		opts.KwokStages = filepath.Join(strings.TrimSpace(string(out)), "kustomize", "stage")
	}
	for name, path := range map[string]string{"kube binaries": opts.KubeDir, "etcd": opts.Etcd, kwokNodes: opts.Kwok} {
		if path == "" {
			return opts, fmt.Errorf("no %s in bin/: run `make tools`", name)
		}
	}
	return opts, nil
}
