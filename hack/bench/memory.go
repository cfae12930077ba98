// The manager's memory: its RSS and Go heap, the objects it caches and
// where its heap goes. A figure that cannot be read is an error.

package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
	"github.com/magento-operator/magento-operator/internal/specs"
)

// memoryRow adds the row what: the manager's RSS and Go heap.
func (b *bench) memoryRow(what, target string) error {
	rss, heap, err := b.memory()
	if err != nil {
		return err
	}
	b.row(what, fmt.Sprintf("%.1f MiB / %.1f MiB", rss, heap), target)
	return nil
}

// memory is the manager's RSS (from /proc) and Go heap (from its metrics),
// in MiB.
func (b *bench) memory() (rss, heap float64, err error) {
	status, err := b.proc("status")
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(status, "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[0] == "VmRSS:" {
			kb, err := strconv.ParseFloat(f[1], 64)
			if err != nil {
				return 0, 0, fmt.Errorf("the manager's VmRSS: %w", err)
			}
			rss = kb / 1024
		}
	}
	if rss == 0 {
		return 0, 0, fmt.Errorf("no VmRSS for the manager (pid %d): has it exited? Its log is in %s", b.manager.Process.Pid, b.dir)
	}
	// The trailing space: the sample of that name alone, without labels.
	heapBytes, err := b.metricSum("go_memstats_heap_alloc_bytes ")
	if err != nil {
		return 0, 0, err
	}
	return rss, heapBytes / (1 << 20), nil
}

// explainMemory counts the objects the manager caches, by kind, and prints
// where its heap goes (the profile is kept in the run's directory).
func (b *bench) explainMemory() error {
	managed := client.MatchingLabels{specs.LabelManagedBy: specs.ManagedBy}
	var counts []string
	for _, l := range []struct {
		kind string
		list client.ObjectList
		opts []client.ListOption
	}{
		{"releases", &v1alpha1.MagentoReleaseList{}, nil},
		{"Deployments", &appsv1.DeploymentList{}, []client.ListOption{managed}},
		{"Services", &corev1.ServiceList{}, []client.ListOption{managed}},
		{"PDBs", &policyv1.PodDisruptionBudgetList{}, []client.ListOption{managed}},
	} {
		if err := b.c.List(b.ctx, l.list, l.opts...); err != nil {
			return err
		}
		counts = append(counts, fmt.Sprintf("%d %s", meta.LenList(l.list), l.kind))
	}
	b.row("  cached objects", strings.Join(counts, ", "), "")
	profile := filepath.Join(b.dir, "heap.pprof")
	body, err := b.get("http://" + b.pprof + "/debug/pprof/heap?gc=1")
	if err != nil {
		return err
	}
	if err := os.WriteFile(profile, body, 0o600); err != nil {
		return err
	}
	top, err := exec.Command("go", "tool", "pprof", "-top", "-nodecount=15", "-sample_index=inuse_space", profile).CombinedOutput()
	fmt.Printf("heap in use, by function (%s):\n%s\n", profile, top)
	return err
}
