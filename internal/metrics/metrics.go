// Package metrics exports the operator's own Prometheus metrics, beside
// controller-runtime's, on the manager's metrics endpoint.
package metrics

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
)

// Label names.
const (
	labelNamespace = "namespace"
	labelRelease   = "release"
	labelColor     = "color"
)

var (
	activeColor = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "magento_release_active_color",
		Help: "1 for the slot the release's Services select, 0 for the other.",
	}, []string{labelNamespace, labelRelease, labelColor})
	slotReady = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "magento_release_slot_ready",
		Help: "1 when the slot's web and php-fpm are fully rolled out and available.",
	}, []string{labelNamespace, labelRelease, labelColor})
	degraded = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "magento_release_degraded",
		Help: "1 while the release's Degraded condition is True.",
	}, []string{labelNamespace, labelRelease, "reason"})
	switches = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "magento_release_switches_total",
		Help: "Switches of traffic from one slot to the other.",
	}, []string{labelNamespace, labelRelease, "to"})
	switchDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "magento_release_switch_duration_seconds",
		Help:    "Time from the spec.activeColor change being seen to the Services selecting the target.",
		Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800},
	}, []string{"namespace", "release"})
	checkFailures = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "magento_release_check_failures_total",
		Help: "Rounds of spec.verification checks that failed, by slot and by when: before (the switch held) or after (in the window).",
	}, []string{labelNamespace, labelRelease, labelColor, "when"})
)

func init() {
	ctrlmetrics.Registry.MustRegister(activeColor, slotReady, degraded, switches, switchDuration, checkFailures)
}

// CheckFailed counts a failed round of checks of a slot, before or after a switch to it.
func (m *Recorder) CheckFailed(r *v1alpha1.MagentoRelease, color v1alpha1.Color, after bool) {
	if m == nil {
		return
	}
	checkFailures.WithLabelValues(r.Namespace, r.Name, string(color), map[bool]string{false: "before", true: "after"}[after]).Inc()
}

// Recorder keeps the metrics of the releases a manager reconciles.
type Recorder struct {
	mu sync.Mutex
	// pending is when this process first saw each release's pending switch:
	// finer than status.switchStartTime, which keeps whole seconds.
	pending map[types.NamespacedName]time.Time
}

// NewRecorder returns a Recorder.
func NewRecorder() *Recorder { return &Recorder{pending: map[types.NamespacedName]time.Time{}} }

// Observe records a release's metrics after a reconcile that began at
// begin wrote its status; switched says whether it moved the Services.
func (m *Recorder) Observe(r *v1alpha1.MagentoRelease, st v1alpha1.MagentoReleaseStatus, switched bool, begin time.Time) {
	if m == nil {
		return
	}
	now := time.Now()
	key := types.NamespacedName{Namespace: r.Namespace, Name: r.Name}
	m.mu.Lock()
	started, seen := m.pending[key]
	switch {
	case switched:
		delete(m.pending, key)
	case st.SwitchStartTime != nil && !seen:
		m.pending[key] = begin
	case st.SwitchStartTime == nil:
		delete(m.pending, key)
	}
	m.mu.Unlock()

	ns, name := r.Namespace, r.Name
	for _, c := range v1alpha1.Colors {
		activeColor.WithLabelValues(ns, name, string(c)).Set(boolValue(st.ActiveColor == c))
		s := st.SlotStatus(c)
		slotReady.WithLabelValues(ns, name, string(c)).Set(boolValue(s != nil && s.Ready))
	}
	degraded.DeletePartialMatch(prometheus.Labels{labelNamespace: ns, labelRelease: name})
	if c := meta.FindStatusCondition(st.Conditions, v1alpha1.ConditionDegraded); c != nil && c.Status == "True" {
		degraded.WithLabelValues(ns, name, c.Reason).Set(1)
	}
	if switched {
		switches.WithLabelValues(ns, name, string(st.ActiveColor)).Inc()
		switch {
		case seen:
		case r.Status.SwitchStartTime != nil: // seen by an earlier process
			started = r.Status.SwitchStartTime.Time
		default: // seen and carried out in this reconcile
			started = begin
		}
		switchDuration.WithLabelValues(ns, name).Observe(now.Sub(started).Seconds())
	}
}

// Forget drops the metrics of a deleted release.
func (m *Recorder) Forget(key types.NamespacedName) {
	if m == nil {
		return
	}
	m.mu.Lock()
	delete(m.pending, key)
	m.mu.Unlock()
	labels := prometheus.Labels{labelNamespace: key.Namespace, labelRelease: key.Name}
	for _, v := range []interface {
		DeletePartialMatch(prometheus.Labels) int
	}{activeColor, slotReady, degraded, switches, switchDuration, checkFailures} {
		v.DeletePartialMatch(labels)
	}
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
