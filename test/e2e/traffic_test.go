//go:build e2e

package e2e

import (
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
	"github.com/magento-operator/magento-operator/internal/specs"
	"github.com/magento-operator/magento-operator/test/builder"
)

var _ = Describe("Traffic is what the Services serve", func() {
	It("sets back Services moved by hand to an unready slot while the operator was down", func() {
		rel := newRelease(newNamespace()).Obj()
		Expect(k8sClient.Create(ctx, rel)).To(Succeed())
		Eventually(settled(rel), timeout, interval).Should(Succeed())
		change(rel, func(r *v1alpha1.MagentoRelease) {
			r.Spec.Green = &v1alpha1.Slot{Tag: "broken"} // kwok keeps these pods Pending
			r.Spec.ActiveColor = v1alpha1.Green
		})
		Eventually(func() string {
			p := meta.FindStatusCondition(get(rel).Status.Conditions, v1alpha1.ConditionProgressing)
			if p == nil {
				return ""
			}
			return p.Reason
		}, timeout, interval).Should(Equal("Switching"))

		By("moving both Services to green by hand while the operator is down")
		operator.Kill()
		DeferCleanup(func() { Expect(operator.Start()).To(Succeed()) })
		for _, name := range []string{rel.Name, rel.Name + "-php-fpm"} {
			Eventually(func() error {
				s := builder.Service(ctx, k8sClient, rel, name)
				if s == nil {
					return fmt.Errorf("no Service %s", name)
				}
				s.Spec.Selector[specs.LabelColor] = "green"
				return k8sClient.Update(ctx, s)
			}, timeout, interval).Should(Succeed())
		}
		Expect(servicesColor(rel)).To(Equal("green"))

		By("restarting the operator: green fails the gate, so traffic goes back to blue")
		Expect(operator.Start()).To(Succeed())
		Eventually(func() string { return servicesColor(rel) }, timeout, interval).Should(Equal("blue"))
		Consistently(func() string { return servicesColor(rel) }, 5*time.Second, interval).Should(Equal("blue"))
		st := get(rel).Status
		Expect(st.ActiveColor).To(Equal(v1alpha1.Blue))
		Expect(st.LastSwitchTime).To(BeNil(), "a switch was recorded")
		events := &eventsv1.EventList{}
		Expect(k8sClient.List(ctx, events, client.InNamespace(rel.Namespace))).To(Succeed())
		for _, e := range events.Items {
			Expect(e.Reason).NotTo(Equal("Switched"), "%s", e.Note)
		}
		Expect(meta.IsStatusConditionTrue(st.Conditions, v1alpha1.ConditionReady)).To(BeFalse(), "Ready during a pending switch")
	})
})
