package simcluster

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/magento-operator/magento-operator/internal/testenv"
)

// DefaultOptions finds the binaries `make tools` builds into bin/ (the
// newest of each), and kwok's stages in the pinned kwok module's source.
// SIMCLUSTER_KUBE_DIR, SIMCLUSTER_ETCD, SIMCLUSTER_KWOK and
// SIMCLUSTER_KWOK_STAGES override them.
func DefaultOptions() (Options, error) {
	root := testenv.RepoRoot()
	newest := func(pattern string) string {
		m, _ := filepath.Glob(filepath.Join(root, "bin", pattern))
		if len(m) == 0 {
			return ""
		}
		sort.Strings(m)
		return m[len(m)-1]
	}
	opts := Options{
		KubeDir: env("SIMCLUSTER_KUBE_DIR", newest("k8s-*")),
		Etcd:    env("SIMCLUSTER_ETCD", newest("etcd-*/etcd")),
		Kwok:    env("SIMCLUSTER_KWOK", newest("kwok-*")),
	}
	opts.KwokStages = os.Getenv("SIMCLUSTER_KWOK_STAGES")
	if opts.KwokStages == "" {
		cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "sigs.k8s.io/kwok")
		cmd.Dir = filepath.Join(root, "hack", "tools", "kwok")
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

func env(key, fallback string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return fallback
}
