package controller

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
	"github.com/magento-operator/magento-operator/internal/bluegreen"
	"github.com/magento-operator/magento-operator/internal/specs"
)

// outputFreshness is how long after a Job finished its output is still
// read: long enough for a manager that was down for a few minutes, short
// enough that a restart does not read the pods of every Job kept for a day.
const outputFreshness = 10 * time.Minute

// jobOutputs remembers what the release's finished migration and
// verification Jobs said, so their pods are read once per Job, not on every
// pass. It is not status: the status records the outcome, and the output
// with it.
type jobOutputs struct {
	mu sync.Mutex
	// m holds, per release, the output by Job name and UID.
	m map[types.NamespacedName]map[string]string
}

func (o *jobOutputs) forget(key types.NamespacedName) {
	o.mu.Lock()
	defer o.mu.Unlock()
	delete(o.m, key)
}

// read returns the output of each finished migration and verification Job of
// the release, reading the pods of those not read yet that finished
// recently (by the wall clock, as the Job controller stamps its
// conditions). Passes of one release never run at once, so only the map of
// releases needs the lock.
func (o *jobOutputs) read(ctx context.Context, c client.Reader, rel *v1alpha1.MagentoRelease, jobs map[string]*batchv1.Job) map[string]string {
	now := time.Now()
	key := client.ObjectKeyFromObject(rel)
	o.mu.Lock()
	known := o.m[key]
	o.mu.Unlock()
	kept := map[string]string{}
	out := map[string]string{}
	for name, j := range jobs {
		comp := specs.Component(j.Labels[specs.LabelComponent])
		state, at := jobOutcome(j)
		if state == bluegreen.JobRunning || (comp != specs.Migration && comp != specs.Verification) {
			continue
		}
		id := name + "/" + string(j.UID)
		said, ok := known[id]
		if !ok && now.Sub(at) > outputFreshness {
			continue
		}
		if !ok {
			var err error
			if said, err = jobOutput(ctx, c, j); err != nil {
				logf.FromContext(ctx).Info("could not read the output of a Job; trying again", "job", name, "error", err.Error())
				continue
			}
		}
		kept[id], out[name] = said, said
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.m == nil {
		o.m = map[types.NamespacedName]map[string]string{}
	}
	o.m[key] = kept
	return out
}

// jobOutput is what a finished Job said: the exit code and the first lines
// of the termination message of its last pod's container and, for a failed
// Job, why the Job controller gave up on it (a deadline, the retries).
func jobOutput(ctx context.Context, c client.Reader, j *batchv1.Job) (string, error) {
	pods := &corev1.PodList{}
	if err := c.List(ctx, pods, client.InNamespace(j.Namespace), client.MatchingLabels{batchv1.JobNameLabel: j.Name}); err != nil {
		return "", err
	}
	var last *corev1.ContainerStateTerminated
	for i := range pods.Items {
		for _, cs := range pods.Items[i].Status.ContainerStatuses {
			if t := cs.State.Terminated; t != nil && (last == nil || t.FinishedAt.After(last.FinishedAt.Time)) {
				last = t
			}
		}
	}
	var parts []string
	if last != nil {
		parts = append(parts, fmt.Sprintf("exit %d%s", last.ExitCode, excerpt([]byte(last.Message))))
	}
	for _, cond := range j.Status.Conditions {
		if cond.Type == batchv1.JobFailed && cond.Status == corev1.ConditionTrue && cond.Reason != "" {
			parts = append(parts, strings.TrimSpace(cond.Reason+" "+cond.Message))
		}
	}
	return strings.Join(parts, "; "), nil
}
