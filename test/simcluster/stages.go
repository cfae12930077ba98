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
// source, and patches them with opts:
//   - pods whose first image has opts.UnreadyTag are kept out of pod-ready,
//     so that they stay Pending and never become ready;
//   - Job pods whose first image has opts.FailTag are kept out of
//     pod-complete and fail instead (stage pod-fail), with exit code 1 and a
//     termination message;
//   - deleted cron and consumer pods are not removed at once but after
//     opts.WriterTermination, as a kubelet does at the end of a grace
//     period: they stay terminating meanwhile (rule 13 in docs/api.md is
//     about exactly those pods).
func writeStages(dir string, opts Options) (string, error) {
	if opts.KwokStages == "" {
		return "", fmt.Errorf("kwok's stage directory is not set (run `make tools`)")
	}
	out, err := kustomize.Overlay(filepath.Join(opts.KwokStages, "fast"), types.Kustomization{
		Patches: []types.Patch{
			{Patch: notIn(imageTagKey, fmt.Sprintf("%q", opts.UnreadyTag)), Target: &types.Selector{ResId: resID("Stage", "pod-ready")}},
			{Patch: notIn(imageTagKey, fmt.Sprintf("%q", opts.FailTag)), Target: &types.Selector{ResId: resID("Stage", "pod-complete")}},
			{Patch: notIn(writerKey, writerValues), Target: &types.Selector{ResId: resID("Stage", "pod-delete")}},
		},
	})
	if err != nil {
		return "", err
	}
	out = append(out, podStage("pod-fail", fmt.Sprintf(podFailSelector, imageTagKey, opts.FailTag),
		fmt.Sprintf(podFailNext, "simulated failure: the image tag is "+opts.FailTag))...)
	out = append(out, podStage("pod-delete-writers", fmt.Sprintf(writerDeleteSelector, writerKey, writerValues),
		fmt.Sprintf(writerDeleteNext, max(opts.WriterTermination, 0).Milliseconds()))...)
	path := filepath.Join(dir, "kwok-stages.yaml")
	return path, os.WriteFile(path, out, 0o600)
}

// imageTagKey selects the tag of a pod's first image, as a kwok selector key.
const imageTagKey = `'.spec.containers.[0].image | split(":") | last'`

// notIn is a kustomize patch adding `key NotIn [values]` to a Stage's selector.
func notIn(key, values string) string {
	return fmt.Sprintf(`- op: add
  path: /spec/selector/matchExpressions/-
  value:
    key: %s
    operator: NotIn
    values: [%s]
`, key, values)
}

// podStage is a kwok Stage for pods: its name, the matchExpressions of its
// selector (YAML list items) and the rest of its spec.
func podStage(name, matchExpressions, rest string) string {
	return `---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: ` + name + `
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:
` + matchExpressions + rest
}

// pod-fail fails running Job pods whose first image has the given tag,
// where kwok's pod-complete would have them succeed: the same
// containerStatuses, terminated with exit code 1 and a termination message.
const (
	podFailSelector = `    - key: '.metadata.deletionTimestamp'
      operator: DoesNotExist
    - key: '.status.phase'
      operator: In
      values: [Running]
    - key: '.metadata.ownerReferences.[].kind'
      operator: In
      values: [Job]
    - key: %s
      operator: In
      values: [%q]
`
	podFailNext = `  next:
    statusTemplate: |
      {{ $now := Now }}
      containerStatuses:
      {{ range .spec.containers }}
      - image: {{ .image | Quote }}
        name: {{ .name | Quote }}
        ready: false
        restartCount: 0
        started: false
        state:
          terminated:
            exitCode: 1
            finishedAt: {{ $now | Quote }}
            message: %q
            reason: Error
            startedAt: {{ $now | Quote }}
      {{ end }}
      phase: Failed
`
)

// The label of cron and consumer pods, as a kwok selector key and values.
const (
	writerKey    = `'.metadata.labels["app.kubernetes.io/component"]'`
	writerValues = `cron, consumer`
)

// pod-delete-writers removes deleted cron and consumer pods after a delay.
const (
	writerDeleteSelector = `    - key: '.metadata.deletionTimestamp'
      operator: Exists
    - key: %s
      operator: In
      values: [%s]
`
	writerDeleteNext = `  delay:
    durationMilliseconds: %d
  next:
    delete: true
`
)

func resID(kind, name string) resid.ResId { return resid.NewResIdKindOnly(kind, name) }
