package controller

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
	"github.com/magento-operator/magento-operator/test/builder"
)

// metricValue reads a sample of the manager's registry by name and labels.
func metricValue(name string, labels map[string]string) (float64, bool) {
	families, err := ctrlmetrics.Registry.Gather()
	Expect(err).NotTo(HaveOccurred())
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	sample:
		for _, m := range f.GetMetric() {
			have := map[string]string{}
			for _, l := range m.GetLabel() {
				have[l.GetName()] = l.GetValue()
			}
			for k, v := range labels {
				if have[k] != v {
					continue sample
				}
			}
			switch {
			case m.Gauge != nil:
				return m.GetGauge().GetValue(), true
			case m.Counter != nil:
				return m.GetCounter().GetValue(), true
			case m.Histogram != nil:
				return float64(m.GetHistogram().GetSampleCount()), true
			}
		}
	}
	return 0, false
}

var _ = Describe("Release metrics", func() {
	It("report the active colour, slot readiness, switches and their duration, and forget deleted releases", func() {
		rel := builder.MakeRelease(env.NewNamespace(), "shop").Green("feature-m").Obj()
		Expect(env.Client.Create(env.Ctx, rel)).To(Succeed())
		env.Settle(rel)
		l := func(extra ...string) map[string]string {
			m := map[string]string{"namespace": rel.Namespace, "release": rel.Name}
			for i := 0; i < len(extra); i += 2 {
				m[extra[i]] = extra[i+1]
			}
			return m
		}
		Eventually(func() float64 { v, _ := metricValue("magento_release_active_color", l("color", "blue")); return v }).Should(Equal(1.0))
		Eventually(func() float64 { v, _ := metricValue("magento_release_slot_ready", l("color", "green")); return v }).Should(Equal(1.0))

		env.Change(rel, func(r *v1alpha1.MagentoRelease) { r.Spec.ActiveColor = v1alpha1.Green })
		env.Settle(rel)
		Eventually(func() float64 { v, _ := metricValue("magento_release_switches_total", l("to", "green")); return v }).Should(Equal(1.0))
		value := func(name string, labels map[string]string) float64 {
			v, ok := metricValue(name, labels)
			Expect(ok).To(BeTrue(), "no %s%v", name, labels)
			return v
		}
		Expect(value("magento_release_switch_duration_seconds", l())).To(Equal(1.0), "one switch observed")
		Expect(value("magento_release_active_color", l("color", "green"))).To(Equal(1.0))
		Expect(value("magento_release_active_color", l("color", "blue"))).To(Equal(0.0))
		_, degraded := metricValue("magento_release_degraded", l())
		Expect(degraded).To(BeFalse())

		Expect(env.Client.Delete(env.Ctx, env.Get(rel))).To(Succeed())
		Eventually(func() bool { _, ok := metricValue("magento_release_active_color", l()); return ok }).Should(BeFalse())
	})
})
