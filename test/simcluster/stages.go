package simcluster

import (
	"fmt"
	"os"
	"path/filepath"

	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/resid"

	"github.com/magento-operator/magento-operator/internal/kustomize"
)

// writeStages renders kwok's own "fast" stages (nodes Ready at once, pods
// Ready once bound, Job pods Succeeded, deleted pods gone) from its module
// source, and keeps pods whose first image has unreadyTag out of pod-ready,
// so that they stay Pending and never become ready.
func writeStages(dir, stageDir, unreadyTag string) (string, error) {
	if stageDir == "" {
		return "", fmt.Errorf("kwok's stage directory is not set (run `make tools`)")
	}
	patch := fmt.Sprintf(`- op: add
  path: /spec/selector/matchExpressions/-
  value:
    key: '.spec.containers.[0].image | split(":") | last'
    operator: NotIn
    values: [%q]
`, unreadyTag)
	out, err := kustomize.Overlay(filepath.Join(stageDir, "fast"), types.Kustomization{
		Patches: []types.Patch{{Patch: patch, Target: &types.Selector{ResId: resID("Stage", "pod-ready")}}},
	})
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "kwok-stages.yaml")
	return path, os.WriteFile(path, out, 0o600)
}

func resID(kind, name string) resid.ResId { return resid.NewResIdKindOnly(kind, name) }
