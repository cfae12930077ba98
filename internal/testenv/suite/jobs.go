package suite

import (
	"github.com/onsi/gomega"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
	"github.com/magento-operator/magento-operator/internal/specs"
)

// The Job controller does not run in envtest: these stand in for it.

// FinishJob writes a Job's status the way the Job controller would when its
// pod succeeded or failed.
func (e *Env) FinishJob(rel *v1alpha1.MagentoRelease, name string, succeeded bool) {
	gomega.Eventually(func() error {
		j := &batchv1.Job{}
		if err := e.Client.Get(e.Ctx, client.ObjectKey{Namespace: rel.Namespace, Name: name}, j); err != nil {
			return err
		}
		now := metav1.Now()
		j.Status.StartTime = &now
		cond := func(t batchv1.JobConditionType, reason string) batchv1.JobCondition {
			return batchv1.JobCondition{Type: t, Status: corev1.ConditionTrue, Reason: reason, LastTransitionTime: now, LastProbeTime: now}
		}
		if succeeded {
			j.Status.Succeeded = 1
			j.Status.CompletionTime = &now
			j.Status.Conditions = []batchv1.JobCondition{cond(batchv1.JobSuccessCriteriaMet, "CompletionsReached"), cond(batchv1.JobComplete, "CompletionsReached")}
		} else {
			j.Status.Failed = 1
			j.Status.Conditions = []batchv1.JobCondition{cond(batchv1.JobFailureTarget, "BackoffLimitExceeded"), cond(batchv1.JobFailed, "BackoffLimitExceeded")}
		}
		return e.Client.Status().Update(e.Ctx, j)
	}).Should(gomega.Succeed())
}

// JobPod creates the pod of a Job as it is once its container ended with
// exitCode and wrote message to its termination log. Create it before
// finishing the Job, as the Job controller sees the pod end first.
func (e *Env) JobPod(rel *v1alpha1.MagentoRelease, job string, exitCode int32, message string) {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: job + "-x7k2p", Namespace: rel.Namespace, Labels: map[string]string{batchv1.JobNameLabel: job}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "job", Image: "php"}}, RestartPolicy: corev1.RestartPolicyNever,
			AutomountServiceAccountToken: ptr.To(false)},
	}
	gomega.Expect(e.Client.Create(e.Ctx, pod)).To(gomega.Succeed())
	phase := corev1.PodSucceeded
	if exitCode != 0 {
		phase = corev1.PodFailed
	}
	pod.Status = corev1.PodStatus{Phase: phase, ContainerStatuses: []corev1.ContainerStatus{{Name: "job", Image: "php",
		State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: exitCode, Message: message, FinishedAt: metav1.Now()}}}}}
	gomega.Expect(e.Client.Status().Update(e.Ctx, pod)).To(gomega.Succeed())
}

// JobNames lists the names of the release's Jobs of a component.
func (e *Env) JobNames(rel *v1alpha1.MagentoRelease, comp specs.Component) []string {
	list := &batchv1.JobList{}
	gomega.Expect(e.Client.List(e.Ctx, list, client.InNamespace(rel.Namespace),
		client.MatchingLabels{specs.LabelComponent: string(comp)})).To(gomega.Succeed())
	names := make([]string, 0, len(list.Items))
	for _, j := range list.Items {
		names = append(names, j.Name)
	}
	return names
}
