package specs_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/utils/ptr"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
	"github.com/magento-operator/magento-operator/internal/specs"
	"github.com/magento-operator/magento-operator/test/builder"
)

// testRelease is a release in namespace stage with every shared setting
// the children carry: pull secrets, env, volumes, a node selector.
func testRelease() *v1alpha1.MagentoRelease {
	return builder.MakeRelease("stage", "shop").UID("uid-1").WebPort(8080).Deadline(600).
		Pods(nil, map[string]string{"type": "kwok"}).
		With(func(r *v1alpha1.MagentoRelease) {
			r.Spec.Images.PullPolicy = corev1.PullIfNotPresent
			r.Spec.Images.PullSecrets = []corev1.LocalObjectReference{{Name: "ecr-pull"}}
			r.Spec.Web.Resources = corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m")}}
			r.Spec.Consumer.Command = []string{"php", "bin/magento", "queue:consumers:start", "async.operations.all"}
			r.Spec.Env = []corev1.EnvVar{{Name: "MAGE_MODE", Value: "production"}}
			r.Spec.EnvFrom = []corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "magento-env"}}}}
			r.Spec.Pod.ServiceAccountName = "magento"
			r.Spec.Pod.Volumes = []corev1.Volume{{Name: "media"}}
			r.Spec.Pod.VolumeMounts = []corev1.VolumeMount{{Name: "media", MountPath: "/var/www/html/pub/media"}}
		}).Obj()
}

func TestDeployments(t *testing.T) {
	r := testRelease()
	v := v1alpha1.Slot{Tag: "main-1", Revision: "2"}
	tests := map[specs.Component]struct {
		image, container string
		command          []string
		env              []corev1.EnvVar
		strategy         appsv1.DeploymentStrategyType
		grace            int64
		port             int32
	}{
		specs.Web: {image: builder.Registry + "/nginx:main-1", container: "nginx",
			env:      []corev1.EnvVar{{Name: "PHP_FPM_HOST", Value: "shop-php-fpm-green"}, {Name: "PHP_FPM_PORT", Value: "9000"}},
			strategy: appsv1.RollingUpdateDeploymentStrategyType, grace: 60, port: 8080},
		specs.PHPFPM: {image: builder.Registry + "/php:main-1", container: "php-fpm", env: r.Spec.Env,
			strategy: appsv1.RollingUpdateDeploymentStrategyType, grace: 60, port: 9000},
		specs.Cron: {image: builder.Registry + "/php:main-1", container: "cron", env: r.Spec.Env, command: specs.DefaultCronCommand,
			strategy: appsv1.RecreateDeploymentStrategyType, grace: 300},
		specs.Consumer: {image: builder.Registry + "/php:main-1", container: "consumer", env: r.Spec.Env,
			command: r.Spec.Consumer.Command, strategy: appsv1.RecreateDeploymentStrategyType, grace: 120},
	}
	for comp, tc := range tests {
		t.Run(string(comp), func(t *testing.T) {
			d, err := specs.Deployment(r, v1alpha1.Green, comp, v, 3)
			if err != nil {
				t.Fatal(err)
			}
			if d.Name != "shop-"+string(comp)+"-green" || d.Namespace != "stage" {
				t.Errorf("name %s/%s", d.Namespace, d.Name)
			}
			wantLabels := map[string]string{specs.LabelName: "magento", specs.LabelInstance: "shop", specs.LabelComponent: string(comp),
				specs.LabelManagedBy: specs.ManagedBy, specs.LabelColor: "green"}
			if diff := cmp.Diff(wantLabels, d.Labels); diff != "" {
				t.Errorf("labels: %s", diff)
			}
			if diff := cmp.Diff(wantLabels, d.Spec.Template.Labels); diff != "" {
				t.Errorf("pod labels: %s", diff)
			}
			if diff := cmp.Diff(map[string]string{specs.LabelInstance: "shop", specs.LabelComponent: string(comp), specs.LabelColor: "green"},
				d.Spec.Selector.MatchLabels); diff != "" {
				t.Errorf("selector: %s", diff)
			}
			if *d.Spec.Replicas != 3 || d.Spec.Strategy.Type != tc.strategy {
				t.Errorf("replicas %d, strategy %s", *d.Spec.Replicas, d.Spec.Strategy.Type)
			}
			// A deploy (only ever of a slot that serves no traffic) starts
			// every new pod at once, and stops no old one before they are
			// available.
			if ru := d.Spec.Strategy.RollingUpdate; tc.strategy == appsv1.RollingUpdateDeploymentStrategyType &&
				(ru == nil || ru.MaxSurge.String() != "100%" || ru.MaxUnavailable.IntValue() != 0) {
				t.Errorf("rolling update %+v, want maxSurge 100%%, maxUnavailable 0", ru)
			}
			if got := specs.RenderedVersion(d); got != v {
				t.Errorf("rendered version %v", got)
			}
			if d.Annotations[specs.AnnotationTemplateHash] != specs.TemplateHash(d.Spec.Template) {
				t.Error("template hash annotation does not match the template")
			}
			ref := d.OwnerReferences[0]
			if ref.UID != "uid-1" || !*ref.Controller || ref.Kind != "MagentoRelease" {
				t.Errorf("owner %+v", ref)
			}
			p := d.Spec.Template.Spec
			c := p.Containers[0]
			if c.Name != tc.container || c.Image != tc.image || c.ImagePullPolicy != corev1.PullIfNotPresent {
				t.Errorf("container %s image %s", c.Name, c.Image)
			}
			if diff := cmp.Diff(tc.command, c.Command); diff != "" {
				t.Errorf("command: %s", diff)
			}
			if diff := cmp.Diff(tc.env, c.Env); diff != "" {
				t.Errorf("env: %s", diff)
			}
			if comp != specs.Web && len(c.EnvFrom) != 1 {
				t.Errorf("envFrom %v", c.EnvFrom)
			}
			if *p.TerminationGracePeriodSeconds != tc.grace {
				t.Errorf("grace %d", *p.TerminationGracePeriodSeconds)
			}
			if tc.port != 0 && (len(c.Ports) != 1 || c.Ports[0].ContainerPort != tc.port || c.ReadinessProbe == nil ||
				c.LivenessProbe == nil || c.Lifecycle == nil || c.Lifecycle.PreStop == nil) {
				t.Errorf("served container without port %d, probes or preStop: %+v", tc.port, c)
			}
			if p.ServiceAccountName != "magento" || p.NodeSelector["type"] != "kwok" || len(p.Volumes) != 1 ||
				len(c.VolumeMounts) != 1 || p.ImagePullSecrets[0].Name != "ecr-pull" {
				t.Errorf("shared pod settings missing: %+v", p)
			}
			if !*p.SecurityContext.RunAsNonRoot || *c.SecurityContext.AllowPrivilegeEscalation {
				t.Error("not a restricted security context")
			}
		})
	}
}

func TestDeploymentErrors(t *testing.T) {
	r := testRelease()
	if _, err := specs.Deployment(r, v1alpha1.Blue, specs.Migration, v1alpha1.Slot{Tag: "t"}, 1); err == nil {
		t.Error("a migration Deployment was rendered")
	}
	r.Spec.Images.App = "Bad/Repo"
	for _, comp := range []specs.Component{specs.PHPFPM, specs.Cron} {
		if _, err := specs.Deployment(r, v1alpha1.Blue, comp, v1alpha1.Slot{Tag: "t"}, 1); err == nil {
			t.Errorf("%s rendered with a bad image", comp)
		}
	}
	r.Spec.Images.Web = "Bad/Repo"
	if _, err := specs.Deployment(r, v1alpha1.Blue, specs.Web, v1alpha1.Slot{Tag: "t"}, 1); err == nil {
		t.Error("web rendered with a bad image")
	}
}

func TestTemplateHashFollowsSharedSettings(t *testing.T) {
	r := testRelease()
	v := v1alpha1.Slot{Tag: "t"}
	a, _ := specs.PodTemplate(r, v1alpha1.Blue, specs.PHPFPM, v)
	b, _ := specs.PodTemplate(r, v1alpha1.Blue, specs.PHPFPM, v)
	if specs.TemplateHash(a) != specs.TemplateHash(b) {
		t.Fatal("the hash of one template is not stable")
	}
	r.Spec.Env = append(r.Spec.Env, corev1.EnvVar{Name: "X", Value: "1"})
	c, _ := specs.PodTemplate(r, v1alpha1.Blue, specs.PHPFPM, v)
	if specs.TemplateHash(a) == specs.TemplateHash(c) {
		t.Error("a new env var does not change the hash")
	}
	if specs.VersionHash(v) == specs.VersionHash(v1alpha1.Slot{Tag: "t", Revision: "2"}) || len(specs.VersionHash(v)) != 8 {
		t.Error("version hash does not tell revisions apart")
	}
}

// TestWritersAreNotPID1: cron and consumer pods share their process
// namespace, so their shell is not PID 1 and a stop signal that arrives
// before its trap is set still stops it; web and php-fpm keep their own.
func TestWritersAreNotPID1(t *testing.T) {
	r := testRelease()
	for _, c := range specs.SlotComponents {
		tmpl, err := specs.PodTemplate(r, v1alpha1.Blue, c, *r.Spec.Blue)
		if err != nil {
			t.Fatal(err)
		}
		want := c == specs.Cron || c == specs.Consumer
		if got := ptr.Deref(tmpl.Spec.ShareProcessNamespace, false); got != want {
			t.Errorf("%s: shareProcessNamespace %v, want %v", c, got, want)
		}
	}
}

// TestDrainOrder: when a slot stops, php-fpm outlives nginx's drain, and both
// fit in the grace period.
func TestDrainOrder(t *testing.T) {
	r := testRelease()
	preStop := func(c specs.Component) corev1.LifecycleHandler {
		tmpl, err := specs.PodTemplate(r, v1alpha1.Blue, c, *r.Spec.Blue)
		if err != nil {
			t.Fatal(err)
		}
		return *tmpl.Spec.Containers[0].Lifecycle.PreStop
	}
	// The kubelet's own sleep: a command that stopped the container itself
	// would be reported as a failed hook on every stop.
	web, fpm := preStop(specs.Web), preStop(specs.PHPFPM)
	if web.Exec != nil || fpm.Exec != nil || web.Sleep == nil || fpm.Sleep == nil ||
		web.Sleep.Seconds != 10 || fpm.Sleep.Seconds != 30 {
		t.Errorf("web %+v, php-fpm %+v", web, fpm)
	}
	if specs.FPMDrainSeconds <= specs.WebDrainSeconds || specs.FPMDrainSeconds+30 > specs.ServedGracePeriodSeconds {
		t.Errorf("php-fpm drains %ds, web %ds, grace %ds", specs.FPMDrainSeconds, specs.WebDrainSeconds, specs.ServedGracePeriodSeconds)
	}
}
