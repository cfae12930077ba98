package specs

import (
	"strings"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
)

// Service names.

// ActiveServiceName is <name> for web and <name>-php-fpm for php-fpm.
func ActiveServiceName(r *v1alpha1.MagentoRelease, c Component) string {
	if c == Web {
		return r.Name
	}
	return r.Name + "-" + string(c)
}

// PreviewServiceName is <name>-preview.
func PreviewServiceName(r *v1alpha1.MagentoRelease) string { return r.Name + "-preview" }

// Switch is where the operator last pointed <name> and <name>-php-fpm, and
// when: recorded on both Services in annotation magento.ops.dev/switch, in
// the same write that moves their selectors. It is the record of a switch
// that status is only a report of: a crash between the flip and the status
// write loses nothing, and a hand-written status moves nothing.
type Switch struct {
	Color v1alpha1.Color
	// Time is when the Services were switched to Color; zero when they were
	// pointed there by a first rollout.
	Time time.Time
}

// String is the annotation's value: "<color>" or "<color>@<RFC 3339 time>".
func (s Switch) String() string {
	if s.Time.IsZero() {
		return string(s.Color)
	}
	return string(s.Color) + "@" + s.Time.UTC().Format(time.RFC3339Nano)
}

// ServiceSwitch reads the switch recorded on a Service; false when there is
// none (a Service of an older operator) or it cannot be read.
func ServiceSwitch(s *corev1.Service) (Switch, bool) {
	if s == nil {
		return Switch{}, false
	}
	v, ok := s.Annotations[AnnotationSwitch]
	if !ok {
		return Switch{}, false
	}
	color, at, timed := strings.Cut(v, "@")
	sw := Switch{Color: v1alpha1.Color(color)}
	if sw.Color != v1alpha1.Blue && sw.Color != v1alpha1.Green {
		return Switch{}, false
	}
	if timed {
		t, err := time.Parse(time.RFC3339Nano, at)
		if err != nil {
			return Switch{}, false
		}
		sw.Time = t
	}
	return sw, true
}

// ActiveService selects the pods of a served component of the slot sw
// names: <name> (web, port 80) or <name>-php-fpm (port 9000), with sw
// recorded on it.
func ActiveService(r *v1alpha1.MagentoRelease, c Component, sw Switch) *corev1.Service {
	s := service(r, ActiveServiceName(r, c), c, sw.Color, Labels(r, c))
	s.Annotations = map[string]string{AnnotationSwitch: sw.String()}
	return s
}

// SlotService is <name>-php-fpm-<color>, always selecting that slot's php-fpm.
func SlotService(r *v1alpha1.MagentoRelease, color v1alpha1.Color) *corev1.Service {
	return service(r, SlotName(r, PHPFPM, color), PHPFPM, color, SlotLabels(r, color, PHPFPM))
}

// PreviewService is <name>-preview, selecting the idle slot's web pods.
func PreviewService(r *v1alpha1.MagentoRelease, color v1alpha1.Color) *corev1.Service {
	return service(r, PreviewServiceName(r), Web, color, Labels(r, Web))
}

func service(r *v1alpha1.MagentoRelease, name string, c Component, color v1alpha1.Color, labels map[string]string) *corev1.Service {
	port := corev1.ServicePort{Name: "http", Port: ServicePort, TargetPort: intstr.FromString("http"), Protocol: corev1.ProtocolTCP}
	if c == PHPFPM {
		port = corev1.ServicePort{Name: "fastcgi", Port: PHPFPMPort, TargetPort: intstr.FromString("fastcgi"), Protocol: corev1.ProtocolTCP}
	}
	return &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: objectMeta(r, name, labels),
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeClusterIP,
			Selector: Selector(r, color, c),
			Ports:    []corev1.ServicePort{port},
		},
	}
}

// ServiceColor is the slot a Service selects, "" when it selects none.
func ServiceColor(s *corev1.Service) v1alpha1.Color {
	if s == nil {
		return ""
	}
	return v1alpha1.Color(s.Spec.Selector[LabelColor])
}

// Autoscaling returns the autoscaling settings of a served component, nil without.
func Autoscaling(r *v1alpha1.MagentoRelease, c Component) *v1alpha1.Autoscaling {
	switch c {
	case Web:
		return r.Spec.Web.Autoscaling
	case PHPFPM:
		return r.Spec.PHPFPM.Autoscaling
	}
	return nil
}

// HPA is the HorizontalPodAutoscaler of a served component of a slot, with
// the given bounds (the spec's, or raised for a switch).
func HPA(r *v1alpha1.MagentoRelease, color v1alpha1.Color, c Component, minReplicas, maxReplicas int32) *autoscalingv2.HorizontalPodAutoscaler {
	target := v1alpha1.DefaultTargetCPU
	if a := Autoscaling(r, c); a != nil {
		target = a.TargetCPU()
	}
	return &autoscalingv2.HorizontalPodAutoscaler{
		TypeMeta:   metav1.TypeMeta{APIVersion: "autoscaling/v2", Kind: "HorizontalPodAutoscaler"},
		ObjectMeta: objectMeta(r, SlotName(r, c, color), SlotLabels(r, color, c)),
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: SlotName(r, c, color)},
			MinReplicas:    ptr.To(minReplicas),
			MaxReplicas:    maxReplicas,
			Metrics: []autoscalingv2.MetricSpec{{
				Type: autoscalingv2.ResourceMetricSourceType,
				Resource: &autoscalingv2.ResourceMetricSource{
					Name:   corev1.ResourceCPU,
					Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: ptr.To(target)},
				},
			}},
		},
	}
}

// PDB lets voluntary disruptions (node drains) take one pod of a served
// component of a running slot at a time.
func PDB(r *v1alpha1.MagentoRelease, color v1alpha1.Color, c Component) *policyv1.PodDisruptionBudget {
	return &policyv1.PodDisruptionBudget{
		TypeMeta:   metav1.TypeMeta{APIVersion: "policy/v1", Kind: "PodDisruptionBudget"},
		ObjectMeta: objectMeta(r, SlotName(r, c, color), SlotLabels(r, color, c)),
		Spec: policyv1.PodDisruptionBudgetSpec{
			MaxUnavailable: ptr.To(intstr.FromInt32(1)),
			Selector:       &metav1.LabelSelector{MatchLabels: Selector(r, color, c)},
			// A pod that is running but not ready serves nothing: draining a
			// node may evict it even when the budget is spent.
			UnhealthyPodEvictionPolicy: ptr.To(policyv1.AlwaysAllow),
		},
	}
}

// Ingress routes spec.ingress.host to <name> and, while the preview Service
// exists, previewHost to <name>-preview. Nil without spec.ingress.
func Ingress(r *v1alpha1.MagentoRelease, preview bool) *networkingv1.Ingress {
	in := r.Spec.Ingress
	if in == nil {
		return nil
	}
	rule := func(host, svc string) networkingv1.IngressRule {
		return networkingv1.IngressRule{Host: host, IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
			Paths: []networkingv1.HTTPIngressPath{{
				Path:     "/",
				PathType: ptr.To(networkingv1.PathTypePrefix),
				Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
					Name: svc, Port: networkingv1.ServiceBackendPort{Number: ServicePort},
				}},
			}},
		}}}
	}
	hosts := []string{in.Host}
	rules := []networkingv1.IngressRule{rule(in.Host, r.Name)}
	if preview && in.PreviewHost != "" {
		hosts = append(hosts, in.PreviewHost)
		rules = append(rules, rule(in.PreviewHost, PreviewServiceName(r)))
	}
	ing := &networkingv1.Ingress{
		TypeMeta:   metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "Ingress"},
		ObjectMeta: objectMeta(r, r.Name, Labels(r, Web)),
		Spec:       networkingv1.IngressSpec{Rules: rules},
	}
	ing.Annotations = in.Annotations
	if in.ClassName != "" {
		ing.Spec.IngressClassName = ptr.To(in.ClassName)
	}
	if in.TLSSecretName != "" {
		ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: hosts, SecretName: in.TLSSecretName}}
	}
	return ing
}
