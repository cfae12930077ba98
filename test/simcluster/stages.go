package simcluster

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/resid"

	"github.com/magento-operator/magento-operator/internal/kustomize"
)

// writeStages renders kwok's own "fast" stages (nodes Ready at once, pods
// Ready once bound, Job pods Succeeded, deleted pods gone) from its module
// source, and keeps pods whose first image has unreadyTag out of pod-ready,
// so that they stay Pending and never become ready. Deleted cron and
// consumer pods are not removed at once but after writerTermination, as a
// kubelet does at the end of a grace period: they stay terminating meanwhile
// (rule 13 of the contract is about exactly those pods).
func writeStages(dir, stageDir, unreadyTag string, writerTermination time.Duration) (string, error) {
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
	notWriters := fmt.Sprintf(`- op: add
  path: /spec/selector/matchExpressions/-
  value:
    key: %s
    operator: NotIn
    values: [%s]
`, writerKey, writerValues)
	out, err := kustomize.Overlay(filepath.Join(stageDir, "fast"), types.Kustomization{
		Patches: []types.Patch{
			{Patch: patch, Target: &types.Selector{ResId: resID("Stage", "pod-ready")}},
			{Patch: notWriters, Target: &types.Selector{ResId: resID("Stage", "pod-delete")}},
		},
	})
	if err != nil {
		return "", err
	}
	out = append(out, fmt.Sprintf(writerDelete, writerKey, writerValues, writerTermination.Milliseconds())...)
	path := filepath.Join(dir, "kwok-stages.yaml")
	return path, os.WriteFile(path, out, 0o600)
}

// The label of cron and consumer pods, as a kwok selector key and values.
const (
	writerKey    = `'.metadata.labels["app.kubernetes.io/component"]'`
	writerValues = `cron, consumer`
)

// writerDelete removes deleted cron and consumer pods after a delay.
const writerDelete = `---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: pod-delete-writers
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:
    - key: '.metadata.deletionTimestamp'
      operator: Exists
    - key: %s
      operator: In
      values: [%s]
  delay:
    durationMilliseconds: %d
  next:
    delete: true
`

func resID(kind, name string) resid.ResId { return resid.NewResIdKindOnly(kind, name) }
