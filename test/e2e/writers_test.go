//go:build e2e

package e2e

import (
	"fmt"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
	"github.com/magento-operator/magento-operator/internal/specs"
	"github.com/magento-operator/magento-operator/test/builder"
)

// writerTimeline is what a pod watch saw of a release's cron and consumer
// pods: every moment they existed in both slots (terminating ones
// included), and per component and slot when the first pod started
// terminating, when the last one was removed and when the first one was
// created, as positions in the watch's stream (ordered by the API server)
// and as times.
type writerTimeline struct {
	mu          sync.Mutex
	seq         int
	violations  []string
	terminating map[string]mark // "<component>/<color>" → first deletionTimestamp seen
	gone        map[string]mark // → the event that removed the slot's last pod
	created     map[string]mark // → the first pod that was added after the watch began
	stop        func()
	done        chan struct{}
}

type mark struct {
	seq int
	at  time.Time
}

// watchWriters watches the release's cron and consumer pods. Pods that exist
// when it starts count as existing, not as created.
func watchWriters(rel *v1alpha1.MagentoRelease) *writerTimeline {
	w, err := k8sClient.Watch(ctx, &corev1.PodList{}, client.InNamespace(rel.Namespace))
	Expect(err).NotTo(HaveOccurred())
	t := &writerTimeline{
		terminating: map[string]mark{}, gone: map[string]mark{}, created: map[string]mark{},
		stop: w.Stop, done: make(chan struct{}),
	}
	existing := map[string]bool{}
	list := &corev1.PodList{}
	Expect(k8sClient.List(ctx, list, client.InNamespace(rel.Namespace))).To(Succeed())
	for _, p := range list.Items {
		existing[p.Name] = true
	}
	live := map[string]map[string]string{} // component → pod → color
	go func() {
		defer GinkgoRecover()
		defer close(t.done)
		for ev := range w.ResultChan() {
			p, ok := ev.Object.(*corev1.Pod)
			if !ok {
				continue
			}
			comp := p.Labels[specs.LabelComponent]
			if comp != string(specs.Cron) && comp != string(specs.Consumer) {
				continue
			}
			key := comp + "/" + p.Labels[specs.LabelColor]
			t.mu.Lock()
			t.seq++
			now := mark{seq: t.seq, at: time.Now()}
			if live[comp] == nil {
				live[comp] = map[string]string{}
			}
			switch ev.Type {
			case watch.Deleted:
				delete(live[comp], p.Name)
				remaining := 0
				for _, c := range live[comp] {
					if c == p.Labels[specs.LabelColor] {
						remaining++
					}
				}
				if remaining == 0 {
					t.gone[key] = now
				}
			default:
				if _, known := live[comp][p.Name]; !known && !existing[p.Name] {
					if _, ok := t.created[key]; !ok {
						t.created[key] = now
					}
				}
				live[comp][p.Name] = p.Labels[specs.LabelColor]
				if _, ok := t.terminating[key]; !ok && p.DeletionTimestamp != nil {
					t.terminating[key] = now
				}
			}
			colors := map[string]bool{}
			for _, c := range live[comp] {
				colors[c] = true
			}
			if len(colors) > 1 {
				t.violations = append(t.violations, fmt.Sprintf("%s pods in both slots: %v", comp, live[comp]))
			}
			t.mu.Unlock()
		}
	}()
	return t
}

// finish stops the watch; the timeline is complete afterwards.
func (t *writerTimeline) finish() {
	t.stop()
	<-t.done
}

var _ = Describe("Cron and consumers on a cluster that does not report terminating replicas", func() {
	It("never run in both slots across a switch, terminating pods included: the new slot's start once the old one's are gone", func() {
		rel := newRelease(newNamespace()).Obj()
		Expect(k8sClient.Create(ctx, rel)).To(Succeed())
		Eventually(settled(rel), timeout, interval).Should(Succeed())
		change(rel, func(r *v1alpha1.MagentoRelease) { r.Spec.Green = &v1alpha1.Slot{Tag: "main-2"} })
		Eventually(settled(rel), timeout, interval).Should(Succeed())
		Expect(pods(rel, specs.Cron, v1alpha1.Blue)).To(HaveLen(1))
		Expect(pods(rel, specs.Consumer, v1alpha1.Blue)).To(HaveLen(1))

		t := watchWriters(rel)
		change(rel, func(r *v1alpha1.MagentoRelease) { r.Spec.ActiveColor = v1alpha1.Green })

		By("blue's cron Deployment counts its terminating pod nowhere")
		Eventually(func(g Gomega) {
			d := builder.Deployment(ctx, k8sClient, rel, specs.Cron, v1alpha1.Blue)
			g.Expect(d).NotTo(BeNil())
			g.Expect(*d.Spec.Replicas).To(BeZero())
			g.Expect(d.Status.ObservedGeneration).To(Equal(d.Generation))
			g.Expect(d.Status.Replicas).To(BeZero())
			g.Expect(d.Status.TerminatingReplicas).To(BeNil(), "the cluster reports terminatingReplicas: the feature gate is on")
			g.Expect(pods(rel, specs.Cron, v1alpha1.Blue)).To(HaveLen(1), "blue's cron pod is not terminating any more")
		}, timeout, 50*time.Millisecond).Should(Succeed())

		Eventually(settled(rel), timeout, interval).Should(Succeed())
		Eventually(func() []string { return pods(rel, specs.Cron, v1alpha1.Green) }, timeout, interval).Should(HaveLen(1))
		Eventually(func() []string { return pods(rel, specs.Consumer, v1alpha1.Green) }, timeout, interval).Should(HaveLen(1))
		Eventually(func() []string {
			return append(pods(rel, specs.Cron, v1alpha1.Blue), pods(rel, specs.Consumer, v1alpha1.Blue)...)
		}, timeout, interval).Should(BeEmpty())
		t.finish()

		for _, comp := range []specs.Component{specs.Cron, specs.Consumer} {
			old, next := string(comp)+"/blue", string(comp)+"/green"
			term, gone, started := t.terminating[old], t.gone[old], t.created[next]
			Expect(term.seq).NotTo(BeZero(), "%s: blue's pod was never seen terminating", comp)
			Expect(gone.seq).NotTo(BeZero(), "%s: blue's pod was never seen removed", comp)
			Expect(started.seq).NotTo(BeZero(), "%s: green's pod was never seen created", comp)
			GinkgoWriter.Printf("%s: blue's pod terminating for %s; green's created %s after blue's started terminating, %s after it was gone\n",
				comp, gone.at.Sub(term.at).Round(time.Millisecond), started.at.Sub(term.at).Round(time.Millisecond),
				started.at.Sub(gone.at).Round(time.Millisecond))
		}
		Expect(t.violations).To(BeEmpty())
		for _, comp := range []specs.Component{specs.Cron, specs.Consumer} {
			term, gone, started := t.terminating[string(comp)+"/blue"], t.gone[string(comp)+"/blue"], t.created[string(comp)+"/green"]
			Expect(gone.at.Sub(term.at)).To(BeNumerically(">", 3*time.Second),
				"%s: blue's pod did not linger terminating: the spec proves nothing", comp)
			Expect(started.seq).To(BeNumerically(">", gone.seq), "%s: green's pod was created before blue's was gone", comp)
		}
	})
})
