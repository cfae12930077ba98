package specs_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
	"github.com/magento-operator/magento-operator/internal/specs"
	"github.com/magento-operator/magento-operator/test/builder"
)

func TestServices(t *testing.T) {
	r := testRelease()
	tests := map[string]struct {
		svc      *corev1.Service
		name     string
		port     int32
		target   string
		selector map[string]string
		color    bool
	}{
		"<name>":               {specs.ActiveService(r, specs.Web, specs.Switch{Color: v1alpha1.Green}), "shop", 80, "http", specs.Selector(r, v1alpha1.Green, specs.Web), false},
		"<name>-php-fpm":       {specs.ActiveService(r, specs.PHPFPM, specs.Switch{Color: v1alpha1.Blue}), "shop-php-fpm", 9000, "fastcgi", specs.Selector(r, v1alpha1.Blue, specs.PHPFPM), false},
		"<name>-php-fpm-green": {specs.SlotService(r, v1alpha1.Green), "shop-php-fpm-green", 9000, "fastcgi", specs.Selector(r, v1alpha1.Green, specs.PHPFPM), true},
		"<name>-preview":       {specs.PreviewService(r, v1alpha1.Green), "shop-preview", 80, "http", specs.Selector(r, v1alpha1.Green, specs.Web), false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s := tc.svc
			if s.Name != tc.name || s.Spec.Ports[0].Port != tc.port || s.Spec.Ports[0].TargetPort != intstr.FromString(tc.target) {
				t.Errorf("%s: %+v", s.Name, s.Spec.Ports)
			}
			if diff := cmp.Diff(tc.selector, s.Spec.Selector); diff != "" {
				t.Errorf("selector: %s", diff)
			}
			if _, ok := s.Labels[specs.LabelColor]; ok != tc.color {
				t.Errorf("color label %v, want %v", ok, tc.color)
			}
			if specs.ServiceColor(s) != v1alpha1.Color(tc.selector[specs.LabelColor]) {
				t.Errorf("service color %q", specs.ServiceColor(s))
			}
		})
	}
	if specs.ServiceColor(nil) != "" {
		t.Error("a missing Service selects a colour")
	}
}

func TestHPAAndPDB(t *testing.T) {
	r := testRelease()
	r.Spec.PHPFPM.Autoscaling = &v1alpha1.Autoscaling{MaxReplicas: 9, TargetCPUUtilizationPercentage: ptr.To[int32](70)}
	h := specs.HPA(r, v1alpha1.Blue, specs.PHPFPM, 4, 9)
	if h.Name != "shop-php-fpm-blue" || h.Spec.ScaleTargetRef.Name != "shop-php-fpm-blue" || *h.Spec.MinReplicas != 4 ||
		h.Spec.MaxReplicas != 9 || *h.Spec.Metrics[0].Resource.Target.AverageUtilization != 70 {
		t.Errorf("HPA %+v", h.Spec)
	}
	if w := specs.HPA(r, v1alpha1.Blue, specs.Web, 1, 2); *w.Spec.Metrics[0].Resource.Target.AverageUtilization != 80 {
		t.Error("default CPU target is not 80")
	}
	if specs.Autoscaling(r, specs.Cron) != nil || specs.Autoscaling(r, specs.PHPFPM) == nil || specs.Autoscaling(r, specs.Web) != nil {
		t.Error("autoscaling lookup")
	}
	p := specs.PDB(r, v1alpha1.Green, specs.Web)
	if p.Name != "shop-web-green" || p.Spec.MaxUnavailable.IntValue() != 1 || p.Spec.Selector.MatchLabels[specs.LabelColor] != "green" ||
		ptr.Deref(p.Spec.UnhealthyPodEvictionPolicy, "") != policyv1.AlwaysAllow {
		t.Errorf("PDB %+v", p.Spec)
	}
}

func TestIngress(t *testing.T) {
	r := testRelease()
	if specs.Ingress(r, true) != nil {
		t.Fatal("an Ingress without spec.ingress")
	}
	r.Spec.Ingress = &v1alpha1.IngressSpec{ClassName: "alb", Host: "shop.example.com", PreviewHost: "preview.shop.example.com",
		TLSSecretName: "tls", Annotations: map[string]string{"a": "b"}}
	backend := func(ing *networkingv1.Ingress, i int) string {
		return ing.Spec.Rules[i].HTTP.Paths[0].Backend.Service.Name
	}

	ing := specs.Ingress(r, true)
	if ing.Name != "shop" || *ing.Spec.IngressClassName != "alb" || ing.Annotations["a"] != "b" {
		t.Errorf("ingress %+v", ing.ObjectMeta)
	}
	if len(ing.Spec.Rules) != 2 || backend(ing, 0) != "shop" || backend(ing, 1) != "shop-preview" {
		t.Errorf("rules %+v", ing.Spec.Rules)
	}
	if diff := cmp.Diff([]string{"shop.example.com", "preview.shop.example.com"}, ing.Spec.TLS[0].Hosts); diff != "" {
		t.Errorf("tls hosts: %s", diff)
	}
	noPreview := specs.Ingress(r, false)
	if len(noPreview.Spec.Rules) != 1 || len(noPreview.Spec.TLS[0].Hosts) != 1 {
		t.Errorf("preview host routed without a preview Service: %+v", noPreview.Spec)
	}
	r.Spec.Ingress.ClassName, r.Spec.Ingress.TLSSecretName = "", ""
	plain := specs.Ingress(r, true)
	if plain.Spec.IngressClassName != nil || plain.Spec.TLS != nil {
		t.Error("class or TLS set without being asked")
	}
}

func TestSwitchAnnotation(t *testing.T) {
	at := time.Date(2026, 11, 23, 10, 0, 0, 123456789, time.UTC)
	r := builder.MakeRelease("", "shop").Obj()
	for _, sw := range []specs.Switch{{Color: v1alpha1.Blue}, {Color: v1alpha1.Green, Time: at}} {
		got, ok := specs.ServiceSwitch(specs.ActiveService(r, specs.Web, sw))
		if !ok || got.Color != sw.Color || !got.Time.Equal(sw.Time) {
			t.Errorf("%v read back as %v (%v)", sw, got, ok)
		}
	}
	for _, bad := range []string{"", "red", "green@yesterday", "@2026-11-23T10:00:00Z"} {
		s := specs.ActiveService(r, specs.Web, specs.Switch{Color: v1alpha1.Blue})
		s.Annotations[specs.AnnotationSwitch] = bad
		if sw, ok := specs.ServiceSwitch(s); ok {
			t.Errorf("%q read as %v", bad, sw)
		}
	}
	if _, ok := specs.ServiceSwitch(&corev1.Service{}); ok {
		t.Error("a Service without the annotation has a switch")
	}
}
