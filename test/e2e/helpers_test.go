//go:build e2e

package e2e

import (
	"fmt"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
	"github.com/magento-operator/magento-operator/internal/specs"
	"github.com/magento-operator/magento-operator/test/builder"
	"github.com/magento-operator/magento-operator/test/simcluster"
)

// newNamespace creates a namespace for one spec, once its default
// ServiceAccount exists.
func newNamespace() string {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "e2e-"}}
	Expect(k8sClient.Create(ctx, ns)).To(Succeed())
	Expect(cluster.WaitForServiceAccount(ctx, ns.Name)).To(Succeed())
	return ns.Name
}

// newRelease starts a release named shop in ns whose pods go where the
// simulated cluster runs them.
func newRelease(ns string) *builder.ReleaseWrapper {
	return builder.MakeRelease(ns, "shop").Pods(simcluster.PodTolerations, simcluster.PodNodeSelector)
}

// get reads the release again.
func get(rel *v1alpha1.MagentoRelease) *v1alpha1.MagentoRelease {
	cur, err := builder.Get(ctx, k8sClient, rel)
	Expect(err).NotTo(HaveOccurred())
	return cur
}

// settled: Ready, not Progressing, status current, every Deployment rolled out.
func settled(rel *v1alpha1.MagentoRelease) func(Gomega) {
	return func(g Gomega) {
		cur := get(rel)
		g.Expect(cur.Status.ObservedGeneration).To(Equal(cur.Generation))
		g.Expect(meta.IsStatusConditionTrue(cur.Status.Conditions, v1alpha1.ConditionReady)).To(BeTrue(), "%v", cur.Status.Conditions)
		g.Expect(meta.IsStatusConditionFalse(cur.Status.Conditions, v1alpha1.ConditionProgressing)).To(BeTrue(), "%v", cur.Status.Conditions)
		list := &appsv1.DeploymentList{}
		g.Expect(k8sClient.List(ctx, list, client.InNamespace(rel.Namespace))).To(Succeed())
		for _, d := range list.Items {
			n := ptr.Deref(d.Spec.Replicas, 1)
			g.Expect(d.Status.ObservedGeneration).To(Equal(d.Generation), d.Name)
			g.Expect(d.Status.AvailableReplicas).To(Equal(n), d.Name)
			g.Expect(d.Status.Replicas).To(Equal(n), d.Name)
		}
	}
}

// change applies mutate to the newest release, retrying until it is written.
func change(rel *v1alpha1.MagentoRelease, mutate func(*v1alpha1.MagentoRelease)) {
	Eventually(func() error { return builder.Change(ctx, k8sClient, rel, mutate) }, timeout, interval).Should(Succeed())
}

// servicesColor is the slot <name> and <name>-php-fpm select ("mixed" when they differ).
func servicesColor(rel *v1alpha1.MagentoRelease) string {
	return builder.ServicesColor(ctx, k8sClient, rel)
}

// pods lists the UIDs of a component's pods of a slot.
func pods(rel *v1alpha1.MagentoRelease, comp specs.Component, color v1alpha1.Color) []string {
	list := &corev1.PodList{}
	Expect(k8sClient.List(ctx, list, client.InNamespace(rel.Namespace),
		client.MatchingLabels(specs.Selector(rel, color, comp)))).To(Succeed())
	var uids []string
	for _, p := range list.Items {
		uids = append(uids, string(p.UID))
	}
	return uids
}

// recorder watches a namespace through a whole scenario and collects every
// moment a rule was broken.
type recorder struct {
	mu         sync.Mutex
	violations []string
	events     int
	stop       []func()
	wg         sync.WaitGroup
}

func (r *recorder) violate(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.violations = append(r.violations, fmt.Sprintf(format, args...))
}

// watchRules starts watches that check, at every change: the EndpointSlices
// of <name> and <name>-php-fpm hold ready endpoints of one slot only, and
// cron pods never exist in both slots, nor consumer pods (terminating ones
// included: a pod counts until it is deleted).
func watchRules(rel *v1alpha1.MagentoRelease) *recorder {
	r := &recorder{}
	colorOf := func(pod string) string { // <name>-<component>-<color>-<rs hash>-<pod hash>
		for _, c := range v1alpha1.Colors {
			if strings.Contains(pod, "-"+string(c)+"-") {
				return string(c)
			}
		}
		return "?"
	}
	served := map[string]bool{rel.Name: true, rel.Name + "-php-fpm": true}
	r.watch(&discoveryv1.EndpointSliceList{}, rel.Namespace, func(ev watch.Event) {
		s, ok := ev.Object.(*discoveryv1.EndpointSlice)
		if !ok || ev.Type == watch.Deleted || !served[s.Labels[discoveryv1.LabelServiceName]] {
			return
		}
		colors := map[string]bool{}
		for _, e := range s.Endpoints {
			if e.TargetRef != nil && ptr.Deref(e.Conditions.Ready, false) {
				colors[colorOf(e.TargetRef.Name)] = true
			}
		}
		if len(colors) > 1 {
			r.violate("EndpointSlice %s had ready endpoints of %v", s.Name, colors)
		}
	})
	writerPods := map[string]map[string]string{string(specs.Cron): {}, string(specs.Consumer): {}} // component → pod name → color
	r.watch(&corev1.PodList{}, rel.Namespace, func(ev watch.Event) {
		p, ok := ev.Object.(*corev1.Pod)
		if !ok {
			return
		}
		comp := p.Labels[specs.LabelComponent]
		pods, writer := writerPods[comp]
		if !writer {
			return
		}
		r.mu.Lock()
		if ev.Type == watch.Deleted {
			delete(pods, p.Name)
		} else {
			pods[p.Name] = p.Labels[specs.LabelColor]
		}
		colors := map[string]bool{}
		for _, c := range pods {
			colors[c] = true
		}
		seen := fmt.Sprint(pods)
		r.mu.Unlock()
		if len(colors) > 1 {
			r.violate("%s pods in both slots: %s", comp, seen)
		}
	})
	return r
}

func (r *recorder) watch(list client.ObjectList, ns string, f func(watch.Event)) {
	w, err := k8sClient.Watch(ctx, list, client.InNamespace(ns))
	Expect(err).NotTo(HaveOccurred())
	r.stop = append(r.stop, w.Stop)
	r.wg.Add(1)
	go func() {
		defer GinkgoRecover()
		defer r.wg.Done()
		for ev := range w.ResultChan() {
			r.mu.Lock()
			r.events++
			r.mu.Unlock()
			f(ev)
		}
	}()
}

// finish stops the watches and returns what was broken.
func (r *recorder) finish() (violations []string, events int) {
	for _, s := range r.stop {
		s()
	}
	r.wg.Wait()
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.violations, r.events
}

// switchHeld deploys tag to green and switches to it in one update, and
// expects the switch held: Degraded with reason, and traffic kept on blue.
func switchHeld(rel *v1alpha1.MagentoRelease, tag, reason string) {
	GinkgoHelper()
	change(rel, func(r *v1alpha1.MagentoRelease) {
		r.Spec.Green = &v1alpha1.Slot{Tag: tag}
		r.Spec.ActiveColor = v1alpha1.Green
	})
	Eventually(func() *metav1.Condition {
		return meta.FindStatusCondition(get(rel).Status.Conditions, v1alpha1.ConditionDegraded)
	}, timeout, interval).Should(And(HaveField("Status", metav1.ConditionTrue), HaveField("Reason", reason)))
	Consistently(func() string { return servicesColor(rel) }, 5*time.Second, interval).Should(Equal("blue"))
	Expect(get(rel).Status.ActiveColor).To(Equal(v1alpha1.Blue))
}
