//go:build real

package realtraffic

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
)

// diagnose says what a failed scenario needs to be understood: the
// release's status and the operator's recent log.
func diagnose(ctx context.Context, c client.Client, cfg *rest.Config, rel *v1alpha1.MagentoRelease) string {
	var b strings.Builder
	cur := &v1alpha1.MagentoRelease{}
	if err := c.Get(ctx, client.ObjectKeyFromObject(rel), cur); err != nil {
		fmt.Fprintf(&b, "release: %v\n", err)
	} else {
		st, _ := yaml.Marshal(map[string]any{"generation": cur.Generation, "spec": cur.Spec, "status": cur.Status})
		fmt.Fprintf(&b, "release %s:\n%s\n", rel.Name, st)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return b.String() + err.Error()
	}
	if deps, err := cs.AppsV1().Deployments(rel.Namespace).List(ctx, metav1.ListOptions{}); err == nil {
		for _, d := range deps.Items {
			fmt.Fprintf(&b, "deployment %s: generation %d observed %d, spec %d, status replicas %d updated %d ready %d available %d terminating %v\n",
				d.Name, d.Generation, d.Status.ObservedGeneration, ptr.Deref(d.Spec.Replicas, 1), d.Status.Replicas,
				d.Status.UpdatedReplicas, d.Status.ReadyReplicas, d.Status.AvailableReplicas, ptr.Deref(d.Status.TerminatingReplicas, -1))
		}
	}
	if pods, err := cs.CoreV1().Pods(rel.Namespace).List(ctx, metav1.ListOptions{}); err == nil {
		for _, p := range pods.Items {
			fmt.Fprintf(&b, "pod %s: %s, deleting since %v, started %v\n", p.Name, p.Status.Phase, p.DeletionTimestamp, p.Status.StartTime)
			for _, c := range p.Status.ContainerStatuses {
				fmt.Fprintf(&b, "  container %s: ready %v, state %+v\n", c.Name, c.Ready, c.State)
			}
		}
	}
	if evs, err := cs.CoreV1().Events(rel.Namespace).List(ctx, metav1.ListOptions{}); err == nil {
		for _, e := range evs.Items {
			if e.Type == corev1.EventTypeWarning && e.Reason != "Unhealthy" {
				fmt.Fprintf(&b, "event %s %s: %s (%d)\n", e.InvolvedObject.Name, e.Reason, e.Message, e.Count)
			}
		}
	}
	pods, err := cs.CoreV1().Pods(OperatorNamespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return b.String() + err.Error()
	}
	for _, p := range pods.Items {
		log, err := cs.CoreV1().Pods(p.Namespace).GetLogs(p.Name, &corev1.PodLogOptions{TailLines: ptr.To[int64](40)}).DoRaw(ctx)
		fmt.Fprintf(&b, "operator pod %s (%s): %v\n%s\n", p.Name, p.Status.Phase, err, log)
	}
	return b.String()
}
