package specs_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
	"github.com/magento-operator/magento-operator/internal/specs"
)

// podOf renders the pod template of a component of green.
func podOf(t *testing.T, r *v1alpha1.MagentoRelease, c specs.Component) corev1.PodSpec {
	t.Helper()
	tmpl, err := specs.PodTemplate(r, v1alpha1.Green, c, v1alpha1.Slot{Tag: "main-1"})
	if err != nil {
		t.Fatal(err)
	}
	return tmpl.Spec
}

func TestServedPodsSpreadAcrossNodesAndZonesUnlessTheSpecSaysOtherwise(t *testing.T) {
	r := testRelease()
	for _, c := range []specs.Component{specs.Web, specs.PHPFPM} {
		got := podOf(t, r, c).TopologySpreadConstraints
		var keys []string
		for _, tsc := range got {
			keys = append(keys, tsc.TopologyKey)
			want := corev1.TopologySpreadConstraint{MaxSkew: 1, TopologyKey: tsc.TopologyKey, WhenUnsatisfiable: corev1.ScheduleAnyway,
				LabelSelector:  &metav1.LabelSelector{MatchLabels: specs.Selector(r, v1alpha1.Green, c)},
				MatchLabelKeys: []string{appsv1.DefaultDeploymentUniqueLabelKey}}
			if diff := cmp.Diff(want, tsc); diff != "" {
				t.Errorf("%s: default constraint (-want +got):\n%s", c, diff)
			}
		}
		if diff := cmp.Diff([]string{corev1.LabelHostname, corev1.LabelTopologyZone}, keys); diff != "" {
			t.Errorf("%s: default topology keys (-want +got):\n%s", c, diff)
		}
	}
	for _, c := range []specs.Component{specs.Cron, specs.Consumer} {
		if got := podOf(t, r, c).TopologySpreadConstraints; got != nil {
			t.Errorf("%s, one pod in one slot, is spread: %v", c, got)
		}
	}

	r.Spec.Web.TopologySpreadConstraints = []corev1.TopologySpreadConstraint{} // "topologySpreadConstraints: []"
	r.Spec.PHPFPM.TopologySpreadConstraints = []corev1.TopologySpreadConstraint{{MaxSkew: 2, TopologyKey: corev1.LabelTopologyZone,
		WhenUnsatisfiable: corev1.DoNotSchedule}}
	if got := podOf(t, r, specs.Web).TopologySpreadConstraints; len(got) != 0 {
		t.Errorf("web with an empty list is spread: %v", got)
	}
	want := []corev1.TopologySpreadConstraint{{MaxSkew: 2, TopologyKey: corev1.LabelTopologyZone, WhenUnsatisfiable: corev1.DoNotSchedule,
		LabelSelector: &metav1.LabelSelector{MatchLabels: specs.Selector(r, v1alpha1.Green, specs.PHPFPM)}}}
	if diff := cmp.Diff(want, podOf(t, r, specs.PHPFPM).TopologySpreadConstraints); diff != "" {
		t.Errorf("php-fpm's own constraint, its selector filled in (-want +got):\n%s", diff)
	}
	if r.Spec.PHPFPM.TopologySpreadConstraints[0].LabelSelector != nil {
		t.Error("rendering wrote into the spec")
	}
}

func TestSecurityContextsReplaceTheDefaultsFieldByField(t *testing.T) {
	r := testRelease()
	restricted := &corev1.SecurityContext{AllowPrivilegeEscalation: ptr.To(false), Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}}
	for _, c := range specs.SlotComponents {
		if diff := cmp.Diff(restricted, podOf(t, r, c).Containers[0].SecurityContext); diff != "" {
			t.Errorf("%s default (-want +got):\n%s", c, diff)
		}
	}

	r.Spec.Web.SecurityContext = &corev1.SecurityContext{ReadOnlyRootFilesystem: ptr.To(true), RunAsUser: ptr.To[int64](101)}
	r.Spec.PHPFPM.SecurityContext = &corev1.SecurityContext{RunAsUser: ptr.To[int64](33),
		Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}, Add: []corev1.Capability{"NET_BIND_SERVICE"}}}
	r.Spec.Cron.SecurityContext = &corev1.SecurityContext{ReadOnlyRootFilesystem: ptr.To(true)}
	want := map[specs.Component]*corev1.SecurityContext{
		specs.Web: {ReadOnlyRootFilesystem: ptr.To(true), RunAsUser: ptr.To[int64](101), AllowPrivilegeEscalation: ptr.To(false),
			Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}},
		specs.PHPFPM: {RunAsUser: ptr.To[int64](33), AllowPrivilegeEscalation: ptr.To(false),
			Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}, Add: []corev1.Capability{"NET_BIND_SERVICE"}}},
		specs.Cron: {ReadOnlyRootFilesystem: ptr.To(true), AllowPrivilegeEscalation: ptr.To(false),
			Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}},
		specs.Consumer: restricted,
	}
	for c, sc := range want {
		if diff := cmp.Diff(sc, podOf(t, r, c).Containers[0].SecurityContext); diff != "" {
			t.Errorf("%s (-want +got):\n%s", c, diff)
		}
	}
	j, err := specs.MigrationJob(r, v1alpha1.Green, v1alpha1.Slot{Tag: "main-1"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want[specs.PHPFPM], j.Spec.Template.Spec.Containers[0].SecurityContext); diff != "" {
		t.Errorf("a Job runs with php-fpm's container settings (-want +got):\n%s", diff)
	}
	if r.Spec.Web.SecurityContext.AllowPrivilegeEscalation != nil {
		t.Error("rendering wrote into the spec")
	}
}

func TestProbes(t *testing.T) {
	r := testRelease()
	fpm := podOf(t, r, specs.PHPFPM).Containers[0]
	if cmp.Equal(fpm.ReadinessProbe, fpm.LivenessProbe) {
		t.Errorf("php-fpm's liveness probe is its readiness probe: %+v", fpm.LivenessProbe)
	}
	if ready, live := fpm.ReadinessProbe, fpm.LivenessProbe; ready.PeriodSeconds*ready.FailureThreshold >= live.PeriodSeconds*live.FailureThreshold {
		t.Errorf("php-fpm leaves the Services after %d s but is restarted after %d s", ready.PeriodSeconds*ready.FailureThreshold,
			live.PeriodSeconds*live.FailureThreshold)
	}
	web := podOf(t, r, specs.Web).Containers[0]
	if web.ReadinessProbe.HTTPGet == nil || web.ReadinessProbe.HTTPGet.Path != "/health_check.php" {
		t.Errorf("web's readiness does not go through to php-fpm: %+v", web.ReadinessProbe)
	}

	own := &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"php-fpm-healthcheck"}}}, PeriodSeconds: 20}
	r.Spec.PHPFPM.LivenessProbe = own
	r.Spec.Web.ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/health", Port: intstr.FromInt32(8080)}}}
	if got := podOf(t, r, specs.PHPFPM).Containers[0]; !cmp.Equal(got.LivenessProbe, own) || !cmp.Equal(got.ReadinessProbe, fpm.ReadinessProbe) {
		t.Errorf("php-fpm's own liveness probe: liveness %+v, readiness %+v", got.LivenessProbe, got.ReadinessProbe)
	}
	if got := podOf(t, r, specs.Web).Containers[0]; got.ReadinessProbe.HTTPGet.Path != "/health" || !cmp.Equal(got.LivenessProbe, web.LivenessProbe) {
		t.Errorf("web's own readiness probe: readiness %+v, liveness %+v", got.ReadinessProbe, got.LivenessProbe)
	}
}
