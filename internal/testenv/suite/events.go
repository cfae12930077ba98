package suite

import (
	"slices"

	"github.com/onsi/gomega"
	eventsv1 "k8s.io/api/events/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
)

// Events lists the Events recorded for the release, of any reason when
// reasons is empty.
func (e *Env) Events(rel *v1alpha1.MagentoRelease, reasons ...string) []eventsv1.Event {
	list := &eventsv1.EventList{}
	gomega.Expect(e.Client.List(e.Ctx, list, client.InNamespace(rel.Namespace))).To(gomega.Succeed())
	var out []eventsv1.Event
	for _, ev := range list.Items {
		if ev.Regarding.Name == rel.Name && (len(reasons) == 0 || slices.Contains(reasons, ev.Reason)) {
			out = append(out, ev)
		}
	}
	return out
}

// EventReasons lists the reasons of the Events recorded for the release.
func (e *Env) EventReasons(rel *v1alpha1.MagentoRelease) []string {
	events := e.Events(rel)
	reasons := make([]string, 0, len(events))
	for _, ev := range events {
		reasons = append(reasons, ev.Reason)
	}
	return reasons
}

// Reconciles counts the reconciles the operator finished in this process,
// from controller-runtime's own metric.
func Reconciles() float64 {
	families, err := metrics.Registry.Gather()
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	var n float64
	for _, f := range families {
		if f.GetName() == "controller_runtime_reconcile_total" {
			for _, m := range f.GetMetric() {
				n += m.GetCounter().GetValue()
			}
		}
	}
	return n
}
