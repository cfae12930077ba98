package controller

import (
	"time"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
	"github.com/magento-operator/magento-operator/internal/specs"
	"github.com/magento-operator/magento-operator/test/builder"
)

const (
	timeout  = 20 * time.Second
	interval = 100 * time.Millisecond
)

// newNamespace creates a namespace for one spec.
func newNamespace() string {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "mrel-"}}
	Expect(k8sClient.Create(ctx, ns)).To(Succeed())
	return ns.Name
}

// get reads the release again.
func get(rel *v1alpha1.MagentoRelease) *v1alpha1.MagentoRelease {
	cur, err := builder.Get(ctx, k8sClient, rel)
	Expect(err).NotTo(HaveOccurred())
	return cur
}

// change applies mutate to the newest release, retrying until it is written.
func change(rel *v1alpha1.MagentoRelease, mutate func(*v1alpha1.MagentoRelease)) {
	Eventually(func() error { return builder.Change(ctx, k8sClient, rel, mutate) }, timeout, interval).Should(Succeed())
}

// deployment reads a slot's Deployment of the release; nil when it does not exist.
func deployment(rel *v1alpha1.MagentoRelease, comp specs.Component, color v1alpha1.Color) *appsv1.Deployment {
	return builder.Deployment(ctx, k8sClient, rel, comp, color)
}

// service reads a Service in the release's namespace; nil when it does not exist.
func service(rel *v1alpha1.MagentoRelease, name string) *corev1.Service {
	return builder.Service(ctx, k8sClient, rel, name)
}

// servicesColor is the slot <name> and <name>-php-fpm select ("mixed" when they differ).
func servicesColor(rel *v1alpha1.MagentoRelease) string {
	return builder.ServicesColor(ctx, k8sClient, rel)
}

// releaseEvents lists the Events recorded for the release with a reason.
func releaseEvents(rel *v1alpha1.MagentoRelease, reason string) []eventsv1.Event {
	list := &eventsv1.EventList{}
	Expect(k8sClient.List(ctx, list, client.InNamespace(rel.Namespace))).To(Succeed())
	var out []eventsv1.Event
	for _, e := range list.Items {
		if e.Regarding.Name == rel.Name && e.Reason == reason {
			out = append(out, e)
		}
	}
	return out
}

func notes(events []eventsv1.Event) []string {
	out := make([]string, 0, len(events))
	for _, e := range events {
		out = append(out, e.Note)
	}
	return out
}

// degradedFor waits until the release reports Degraded with reason, and
// returns the message.
func degradedFor(rel *v1alpha1.MagentoRelease, reason string) string {
	Eventually(func() *metav1.Condition { return condition(rel, v1alpha1.ConditionDegraded) }, timeout, interval).
		Should(And(HaveField("Status", metav1.ConditionTrue), HaveField("Reason", reason)))
	return condition(rel, v1alpha1.ConditionDegraded).Message
}

// neverReady checks the release does not report Ready for a while.
func neverReady(rel *v1alpha1.MagentoRelease) {
	Consistently(func() bool { return meta.IsStatusConditionTrue(get(rel).Status.Conditions, v1alpha1.ConditionReady) },
		2*resync, interval).Should(BeFalse())
}

// rollOutAll rolls out every Deployment of the release once.
func rollOutAll(rel *v1alpha1.MagentoRelease) {
	for _, color := range v1alpha1.Colors {
		for _, comp := range specs.SlotComponents {
			if d := deployment(rel, comp, color); d != nil && !deploymentState(d, 0).Ready {
				rollOut(d)
			}
		}
	}
}

// deployAndSwitch deploys tag (and revision) to green and asks for the
// switch to it, in one update that also makes the changes also asks for,
// waits until green's php-fpm runs that version, and returns the name of
// its migration Job.
func deployAndSwitch(rel *v1alpha1.MagentoRelease, tag, revision string, also ...func(*v1alpha1.MagentoRelease)) string {
	v := v1alpha1.Slot{Tag: tag, Revision: revision}
	change(rel, func(r *v1alpha1.MagentoRelease) {
		r.Spec.ActiveColor = v1alpha1.Green
		r.Spec.Green = &v1alpha1.Slot{Tag: tag, Revision: revision}
		for _, f := range also {
			f(r)
		}
	})
	Eventually(func() v1alpha1.Slot {
		if d := deployment(rel, specs.PHPFPM, v1alpha1.Green); d != nil {
			return specs.RenderedVersion(d)
		}
		return v1alpha1.Slot{}
	}, timeout, interval).Should(Equal(v))
	return specs.MigrationJobName(rel, v1alpha1.Green, v)
}

// rollOut writes a Deployment's status the way the Deployment controller
// would once its pods at spec.replicas are all updated and available.
func rollOut(d *appsv1.Deployment) {
	// A conflict means the operator just changed it: the caller's Eventually tries again.
	if err := builder.RollOut(ctx, k8sClient, d); !apierrors.IsConflict(err) {
		Expect(client.IgnoreNotFound(err)).To(Succeed())
	}
}

// rollOutSlot makes every Deployment of a slot rolled out at its current
// spec. A deploy renders nginx only once php-fpm is rolled out at the new
// version, so it keeps rolling out until both run the same version.
func rollOutSlot(rel *v1alpha1.MagentoRelease, color v1alpha1.Color) {
	Eventually(func(g Gomega) {
		for _, comp := range specs.SlotComponents {
			d := deployment(rel, comp, color)
			if d == nil {
				g.Expect(comp).NotTo(BeElementOf(specs.Served), "%s of %s does not exist yet", comp, color)
				continue
			}
			rollOut(d)
			cur := deployment(rel, comp, color)
			g.Expect(deploymentState(cur, 0).Ready).To(BeTrue(), "%s of %s is not rolled out at generation %d", comp, color, cur.Generation)
		}
		web, fpm := deployment(rel, specs.Web, color), deployment(rel, specs.PHPFPM, color)
		g.Expect(specs.RenderedVersion(web)).To(Equal(specs.RenderedVersion(fpm)), "nginx waits for php-fpm")
	}, timeout, interval).Should(Succeed())
}

// settle keeps rolling out every Deployment of the release until the
// release reports cond=status and no Deployment's status lags its spec.
func settle(rel *v1alpha1.MagentoRelease) {
	Eventually(func(g Gomega) {
		for _, color := range v1alpha1.Colors {
			for _, comp := range specs.SlotComponents {
				if d := deployment(rel, comp, color); d != nil && !deploymentState(d, 0).Ready {
					rollOut(d)
				}
			}
		}
		cur := get(rel)
		g.Expect(meta.IsStatusConditionTrue(cur.Status.Conditions, v1alpha1.ConditionReady)).To(BeTrue(), "not Ready: %v", cur.Status.Conditions)
		g.Expect(meta.IsStatusConditionFalse(cur.Status.Conditions, v1alpha1.ConditionProgressing)).To(BeTrue(), "still Progressing: %v", cur.Status.Conditions)
		g.Expect(cur.Status.ObservedGeneration).To(Equal(cur.Generation))
		for _, color := range v1alpha1.Colors {
			for _, comp := range specs.SlotComponents {
				if d := deployment(rel, comp, color); d != nil {
					g.Expect(deploymentState(d, 0).Ready).To(BeTrue(), "%s not rolled out", d.Name)
				}
			}
		}
	}, timeout, interval).Should(Succeed())
}

func condition(rel *v1alpha1.MagentoRelease, t string) *metav1.Condition {
	return meta.FindStatusCondition(get(rel).Status.Conditions, t)
}

// image is the image of a Deployment's first container.
func image(d *appsv1.Deployment) string {
	if d == nil {
		return ""
	}
	return d.Spec.Template.Spec.Containers[0].Image
}

func replicas(d *appsv1.Deployment) int32 {
	if d == nil {
		return -1
	}
	return ptr.Deref(d.Spec.Replicas, 1)
}

// events lists the reasons of the Events recorded for the release.
func eventReasons(rel *v1alpha1.MagentoRelease) []string {
	var reasons []string
	list := &eventsv1.EventList{}
	Expect(k8sClient.List(ctx, list, client.InNamespace(rel.Namespace))).To(Succeed())
	for _, e := range list.Items {
		if e.Regarding.Name == rel.Name {
			reasons = append(reasons, e.Reason)
		}
	}
	return reasons
}

type networkingList = networkingv1.IngressList

// eachObject calls f with every item of a typed list.
func eachObject(l client.ObjectList, f func(client.Object)) {
	Expect(meta.EachListItem(l, func(o runtime.Object) error {
		f(o.(client.Object))
		return nil
	})).To(Succeed())
}

// watchDeployments watches the Deployments of the release's namespace.
func watchDeployments(rel *v1alpha1.MagentoRelease) (watch.Interface, error) {
	wc, err := client.NewWithWatch(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, err
	}
	return wc.Watch(ctx, &appsv1.DeploymentList{}, client.InNamespace(rel.Namespace))
}

// finishJob writes a Job's status the way the Job controller would when its
// pod succeeded or failed.
func finishJob(rel *v1alpha1.MagentoRelease, name string, succeeded bool) {
	Eventually(func() error {
		j := &batchv1.Job{}
		if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: rel.Namespace, Name: name}, j); err != nil {
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
		return k8sClient.Status().Update(ctx, j)
	}, timeout, interval).Should(Succeed())
}

// jobPod creates the pod of a Job as it is once its container ended with
// exitCode and wrote message to its termination log. Create it before
// finishing the Job, as the Job controller sees the pod end first.
func jobPod(rel *v1alpha1.MagentoRelease, job string, exitCode int32, message string) {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: job + "-x7k2p", Namespace: rel.Namespace, Labels: map[string]string{batchv1.JobNameLabel: job}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "job", Image: "php"}}, RestartPolicy: corev1.RestartPolicyNever,
			AutomountServiceAccountToken: ptr.To(false)},
	}
	Expect(k8sClient.Create(ctx, pod)).To(Succeed())
	phase := corev1.PodSucceeded
	if exitCode != 0 {
		phase = corev1.PodFailed
	}
	pod.Status = corev1.PodStatus{Phase: phase, ContainerStatuses: []corev1.ContainerStatus{{Name: "job", Image: "php",
		State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: exitCode, Message: message, FinishedAt: metav1.Now()}}}}}
	Expect(k8sClient.Status().Update(ctx, pod)).To(Succeed())
}

// jobNames lists the names of the release's Jobs of a component.
func jobNames(rel *v1alpha1.MagentoRelease, comp specs.Component) []string {
	list := &batchv1.JobList{}
	Expect(k8sClient.List(ctx, list, client.InNamespace(rel.Namespace), client.MatchingLabels{specs.LabelComponent: string(comp)})).To(Succeed())
	var names []string
	for _, j := range list.Items {
		names = append(names, j.Name)
	}
	return names
}
