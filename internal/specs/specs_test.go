package specs

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
)

func testRelease() *v1alpha1.MagentoRelease {
	return &v1alpha1.MagentoRelease{
		ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: "stage", UID: "uid-1"},
		Spec: v1alpha1.MagentoReleaseSpec{
			ActiveColor: v1alpha1.Blue,
			Blue:        &v1alpha1.Slot{Tag: "main-1"},
			Images: v1alpha1.Images{App: "registry.local:5000/shop/php", Web: "registry.local:5000/shop/nginx",
				PullPolicy: corev1.PullIfNotPresent, PullSecrets: []corev1.LocalObjectReference{{Name: "ecr-pull"}}},
			Web: v1alpha1.WebSpec{Port: 8080, Resources: corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m")}}},
			Consumer: v1alpha1.ConsumerSpec{Command: []string{"php", "bin/magento", "queue:consumers:start", "async.operations.all"}},
			Env:      []corev1.EnvVar{{Name: "MAGE_MODE", Value: "production"}},
			EnvFrom:  []corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "magento-env"}}}},
			Pod: v1alpha1.PodSettings{
				ServiceAccountName: "magento",
				NodeSelector:       map[string]string{"type": "kwok"},
				Volumes:            []corev1.Volume{{Name: "media"}},
				VolumeMounts:       []corev1.VolumeMount{{Name: "media", MountPath: "/var/www/html/pub/media"}},
			},
			ProgressDeadlineSeconds: ptr.To[int32](600),
		},
	}
}

func TestDeployments(t *testing.T) {
	r := testRelease()
	v := v1alpha1.Slot{Tag: "main-1", Revision: "2"}
	tests := map[Component]struct {
		image, container string
		command          []string
		env              []corev1.EnvVar
		strategy         appsv1.DeploymentStrategyType
		grace            int64
		port             int32
	}{
		Web: {image: "registry.local:5000/shop/nginx:main-1", container: "nginx",
			env:      []corev1.EnvVar{{Name: "PHP_FPM_HOST", Value: "shop-php-fpm-green"}, {Name: "PHP_FPM_PORT", Value: "9000"}},
			strategy: appsv1.RollingUpdateDeploymentStrategyType, grace: 60, port: 8080},
		PHPFPM: {image: "registry.local:5000/shop/php:main-1", container: "php-fpm", env: r.Spec.Env,
			strategy: appsv1.RollingUpdateDeploymentStrategyType, grace: 60, port: 9000},
		Cron: {image: "registry.local:5000/shop/php:main-1", container: "cron", env: r.Spec.Env, command: DefaultCronCommand,
			strategy: appsv1.RecreateDeploymentStrategyType, grace: 300},
		Consumer: {image: "registry.local:5000/shop/php:main-1", container: "consumer", env: r.Spec.Env,
			command: r.Spec.Consumer.Command, strategy: appsv1.RecreateDeploymentStrategyType, grace: 120},
	}
	for comp, tc := range tests {
		t.Run(string(comp), func(t *testing.T) {
			d, err := Deployment(r, v1alpha1.Green, comp, v, 3)
			if err != nil {
				t.Fatal(err)
			}
			if d.Name != "shop-"+string(comp)+"-green" || d.Namespace != "stage" {
				t.Errorf("name %s/%s", d.Namespace, d.Name)
			}
			wantLabels := map[string]string{LabelName: "magento", LabelInstance: "shop", LabelComponent: string(comp),
				LabelManagedBy: ManagedBy, LabelColor: "green"}
			if diff := cmp.Diff(wantLabels, d.Labels); diff != "" {
				t.Errorf("labels: %s", diff)
			}
			if diff := cmp.Diff(wantLabels, d.Spec.Template.Labels); diff != "" {
				t.Errorf("pod labels: %s", diff)
			}
			if diff := cmp.Diff(map[string]string{LabelInstance: "shop", LabelComponent: string(comp), LabelColor: "green"},
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
			if got := RenderedVersion(d); got != v {
				t.Errorf("rendered version %v", got)
			}
			if d.Annotations[AnnotationTemplateHash] != TemplateHash(d.Spec.Template) {
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
			if comp != Web && len(c.EnvFrom) != 1 {
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
	if _, err := Deployment(r, v1alpha1.Blue, Migration, v1alpha1.Slot{Tag: "t"}, 1); err == nil {
		t.Error("a migration Deployment was rendered")
	}
	r.Spec.Images.App = "Bad/Repo"
	for _, comp := range []Component{PHPFPM, Cron} {
		if _, err := Deployment(r, v1alpha1.Blue, comp, v1alpha1.Slot{Tag: "t"}, 1); err == nil {
			t.Errorf("%s rendered with a bad image", comp)
		}
	}
	r.Spec.Images.Web = "Bad/Repo"
	if _, err := Deployment(r, v1alpha1.Blue, Web, v1alpha1.Slot{Tag: "t"}, 1); err == nil {
		t.Error("web rendered with a bad image")
	}
}

func TestTemplateHashFollowsSharedSettings(t *testing.T) {
	r := testRelease()
	v := v1alpha1.Slot{Tag: "t"}
	a, _ := PodTemplate(r, v1alpha1.Blue, PHPFPM, v)
	b, _ := PodTemplate(r, v1alpha1.Blue, PHPFPM, v)
	if TemplateHash(a) != TemplateHash(b) {
		t.Fatal("the hash of one template is not stable")
	}
	r.Spec.Env = append(r.Spec.Env, corev1.EnvVar{Name: "X", Value: "1"})
	c, _ := PodTemplate(r, v1alpha1.Blue, PHPFPM, v)
	if TemplateHash(a) == TemplateHash(c) {
		t.Error("a new env var does not change the hash")
	}
	if VersionHash(v) == VersionHash(v1alpha1.Slot{Tag: "t", Revision: "2"}) || len(VersionHash(v)) != 8 {
		t.Error("version hash does not tell revisions apart")
	}
}

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
		"<name>":               {ActiveService(r, Web, Switch{Color: v1alpha1.Green}), "shop", 80, "http", Selector(r, v1alpha1.Green, Web), false},
		"<name>-php-fpm":       {ActiveService(r, PHPFPM, Switch{Color: v1alpha1.Blue}), "shop-php-fpm", 9000, "fastcgi", Selector(r, v1alpha1.Blue, PHPFPM), false},
		"<name>-php-fpm-green": {SlotService(r, v1alpha1.Green), "shop-php-fpm-green", 9000, "fastcgi", Selector(r, v1alpha1.Green, PHPFPM), true},
		"<name>-preview":       {PreviewService(r, v1alpha1.Green), "shop-preview", 80, "http", Selector(r, v1alpha1.Green, Web), false},
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
			if _, ok := s.Labels[LabelColor]; ok != tc.color {
				t.Errorf("color label %v, want %v", ok, tc.color)
			}
			if ServiceColor(s) != v1alpha1.Color(tc.selector[LabelColor]) {
				t.Errorf("service color %q", ServiceColor(s))
			}
		})
	}
	if ServiceColor(nil) != "" {
		t.Error("a missing Service selects a colour")
	}
}

func TestHPAAndPDB(t *testing.T) {
	r := testRelease()
	r.Spec.PHPFPM.Autoscaling = &v1alpha1.Autoscaling{MaxReplicas: 9, TargetCPUUtilizationPercentage: ptr.To[int32](70)}
	h := HPA(r, v1alpha1.Blue, PHPFPM, 4, 9)
	if h.Name != "shop-php-fpm-blue" || h.Spec.ScaleTargetRef.Name != "shop-php-fpm-blue" || *h.Spec.MinReplicas != 4 ||
		h.Spec.MaxReplicas != 9 || *h.Spec.Metrics[0].Resource.Target.AverageUtilization != 70 {
		t.Errorf("HPA %+v", h.Spec)
	}
	if w := HPA(r, v1alpha1.Blue, Web, 1, 2); *w.Spec.Metrics[0].Resource.Target.AverageUtilization != 80 {
		t.Error("default CPU target is not 80")
	}
	if Autoscaling(r, Cron) != nil || Autoscaling(r, PHPFPM) == nil || Autoscaling(r, Web) != nil {
		t.Error("autoscaling lookup")
	}
	p := PDB(r, v1alpha1.Green, Web)
	if p.Name != "shop-web-green" || p.Spec.MaxUnavailable.IntValue() != 1 || p.Spec.Selector.MatchLabels[LabelColor] != "green" {
		t.Errorf("PDB %+v", p.Spec)
	}
}

func TestIngress(t *testing.T) {
	r := testRelease()
	if Ingress(r, true) != nil {
		t.Fatal("an Ingress without spec.ingress")
	}
	r.Spec.Ingress = &v1alpha1.IngressSpec{ClassName: "alb", Host: "shop.example.com", PreviewHost: "preview.shop.example.com",
		TLSSecretName: "tls", Annotations: map[string]string{"a": "b"}}
	backend := func(ing *networkingv1.Ingress, i int) string {
		return ing.Spec.Rules[i].HTTP.Paths[0].Backend.Service.Name
	}

	ing := Ingress(r, true)
	if ing.Name != "shop" || *ing.Spec.IngressClassName != "alb" || ing.Annotations["a"] != "b" {
		t.Errorf("ingress %+v", ing.ObjectMeta)
	}
	if len(ing.Spec.Rules) != 2 || backend(ing, 0) != "shop" || backend(ing, 1) != "shop-preview" {
		t.Errorf("rules %+v", ing.Spec.Rules)
	}
	if diff := cmp.Diff([]string{"shop.example.com", "preview.shop.example.com"}, ing.Spec.TLS[0].Hosts); diff != "" {
		t.Errorf("tls hosts: %s", diff)
	}
	noPreview := Ingress(r, false)
	if len(noPreview.Spec.Rules) != 1 || len(noPreview.Spec.TLS[0].Hosts) != 1 {
		t.Errorf("preview host routed without a preview Service: %+v", noPreview.Spec)
	}
	r.Spec.Ingress.ClassName, r.Spec.Ingress.TLSSecretName = "", ""
	plain := Ingress(r, true)
	if plain.Spec.IngressClassName != nil || plain.Spec.TLS != nil {
		t.Error("class or TLS set without being asked")
	}
}

func TestDefaultCommands(t *testing.T) {
	if !strings.Contains(DefaultCronCommand[2], "php bin/magento cron:run") || !strings.Contains(DefaultCronCommand[2], "sleep 60") {
		t.Errorf("cron command %q", DefaultCronCommand)
	}
	if !strings.Contains(DefaultConsumerCommand[2], "queue:consumers:start") {
		t.Errorf("consumer command %q", DefaultConsumerCommand)
	}
	// The migration asks Magento first (TestDefaultMigrationCommand runs it).
	if len(DefaultMigrationCommand) != 3 || DefaultMigrationCommand[0] != shell || DefaultMigrationCommand[1] != "-c" {
		t.Errorf("migration command %q", DefaultMigrationCommand)
	}
	for _, want := range []string{"setup:db:status", "setup:upgrade --keep-generated", "app:config:status", "app:config:import",
		"/dev/termination-log"} {
		if !strings.Contains(DefaultMigrationCommand[2], want) {
			t.Errorf("migration command lacks %q: %q", want, DefaultMigrationCommand[2])
		}
	}
}

func TestJobs(t *testing.T) {
	r := testRelease()
	v := v1alpha1.Slot{Tag: "main-2", Digest: "sha256:" + strings.Repeat("a", 64)}
	m, err := MigrationJob(r, v1alpha1.Green, v)
	if err != nil {
		t.Fatal(err)
	}
	if m.Name != "shop-migrate-green-"+VersionHash(v) || *m.Spec.BackoffLimit != 1 || *m.Spec.TTLSecondsAfterFinished != 86400 {
		t.Errorf("migration Job %s %+v", m.Name, m.Spec)
	}
	c := m.Spec.Template.Spec.Containers[0]
	if c.Image != "registry.local:5000/shop/php:main-2@"+v.Digest || len(c.Env) != 1 || len(c.EnvFrom) != 1 || len(c.VolumeMounts) != 1 {
		t.Errorf("migration container %+v", c)
	}
	if diff := cmp.Diff(DefaultMigrationCommand, c.Command); diff != "" {
		t.Errorf("command: %s", diff)
	}
	if m.Spec.Template.Spec.RestartPolicy != corev1.RestartPolicyNever || m.Labels[LabelComponent] != "migration" {
		t.Errorf("pod %+v labels %v", m.Spec.Template.Spec.RestartPolicy, m.Labels)
	}
	if m.Spec.ActiveDeadlineSeconds == nil || *m.Spec.ActiveDeadlineSeconds != 1800 {
		t.Errorf("migration activeDeadlineSeconds %v, want 1800", m.Spec.ActiveDeadlineSeconds)
	}
	if c.TerminationMessagePolicy != corev1.TerminationMessageFallbackToLogsOnError {
		t.Errorf("migration terminationMessagePolicy %q", c.TerminationMessagePolicy)
	}
	r.Spec.Migration = &v1alpha1.MigrationSpec{Enabled: true, Command: []string{"true"}, BackoffLimit: ptr.To[int32](4)}
	m, _ = MigrationJob(r, v1alpha1.Green, v)
	if m.Spec.Template.Spec.Containers[0].Command[0] != "true" || *m.Spec.BackoffLimit != 4 {
		t.Errorf("spec.migration ignored: %+v", m.Spec)
	}

	r.Spec.PostSwitch = &v1alpha1.PostSwitchSpec{Command: []string{"php", "bin/magento", "cache:clean", "full_page"}}
	at := time.Date(2026, 11, 23, 10, 0, 0, 123, time.UTC)
	p, err := PostSwitchJob(r, v1alpha1.Green, v, at)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(p.Name, "shop-post-switch-green-") || p.Labels[LabelComponent] != "post-switch" {
		t.Errorf("post-switch Job %s %v", p.Name, p.Labels)
	}
	if p.Spec.ActiveDeadlineSeconds == nil || *p.Spec.ActiveDeadlineSeconds != 600 {
		t.Errorf("post-switch activeDeadlineSeconds %v, want 600", p.Spec.ActiveDeadlineSeconds)
	}
	if pc := p.Spec.Template.Spec.Containers[0]; pc.TerminationMessagePolicy != corev1.TerminationMessageFallbackToLogsOnError ||
		pc.Command[2] != "cache:clean" {
		t.Errorf("post-switch container %+v", pc)
	}
	if p.Name != PostSwitchJobName(r, v1alpha1.Green, v, at) {
		t.Error("post-switch name is not stable")
	}
	if p.Name == PostSwitchJobName(r, v1alpha1.Green, v, at.Add(time.Nanosecond)) {
		t.Error("a later switch reuses the post-switch Job name")
	}
	r.Spec.Images.App = "Bad"
	if _, err := MigrationJob(r, v1alpha1.Green, v); err == nil {
		t.Error("a Job with a bad image")
	}
}

func TestSwitchAnnotation(t *testing.T) {
	at := time.Date(2026, 11, 23, 10, 0, 0, 123456789, time.UTC)
	r := &v1alpha1.MagentoRelease{ObjectMeta: metav1.ObjectMeta{Name: "shop"}}
	for _, sw := range []Switch{{Color: v1alpha1.Blue}, {Color: v1alpha1.Green, Time: at}} {
		got, ok := ServiceSwitch(ActiveService(r, Web, sw))
		if !ok || got.Color != sw.Color || !got.Time.Equal(sw.Time) {
			t.Errorf("%v read back as %v (%v)", sw, got, ok)
		}
	}
	for _, bad := range []string{"", "red", "green@yesterday", "@2026-11-23T10:00:00Z"} {
		s := ActiveService(r, Web, Switch{Color: v1alpha1.Blue})
		s.Annotations[AnnotationSwitch] = bad
		if sw, ok := ServiceSwitch(s); ok {
			t.Errorf("%q read as %v", bad, sw)
		}
	}
	if _, ok := ServiceSwitch(&corev1.Service{}); ok {
		t.Error("a Service without the annotation has a switch")
	}
}

// TestWritersAreNotPID1: cron and consumer pods share their process
// namespace, so their shell is not PID 1 and a stop signal that arrives
// before its trap is set still stops it; web and php-fpm keep their own.
func TestWritersAreNotPID1(t *testing.T) {
	r := testRelease()
	for _, c := range SlotComponents {
		tmpl, err := PodTemplate(r, v1alpha1.Blue, c, *r.Spec.Blue)
		if err != nil {
			t.Fatal(err)
		}
		want := c == Cron || c == Consumer
		if got := ptr.Deref(tmpl.Spec.ShareProcessNamespace, false); got != want {
			t.Errorf("%s: shareProcessNamespace %v, want %v", c, got, want)
		}
	}
}

// TestDrainOrder: when a slot stops, php-fpm outlives nginx's drain, and both
// fit in the grace period.
func TestDrainOrder(t *testing.T) {
	r := testRelease()
	preStop := func(c Component) corev1.LifecycleHandler {
		tmpl, err := PodTemplate(r, v1alpha1.Blue, c, *r.Spec.Blue)
		if err != nil {
			t.Fatal(err)
		}
		return *tmpl.Spec.Containers[0].Lifecycle.PreStop
	}
	// The kubelet's own sleep: a command that stopped the container itself
	// would be reported as a failed hook on every stop.
	web, fpm := preStop(Web), preStop(PHPFPM)
	if web.Exec != nil || fpm.Exec != nil || web.Sleep == nil || fpm.Sleep == nil ||
		web.Sleep.Seconds != 10 || fpm.Sleep.Seconds != 30 {
		t.Errorf("web %+v, php-fpm %+v", web, fpm)
	}
	if fpmDrainSeconds <= webDrainSeconds || fpmDrainSeconds+30 > servedGracePeriodSeconds {
		t.Errorf("php-fpm drains %ds, web %ds, grace %ds", fpmDrainSeconds, webDrainSeconds, servedGracePeriodSeconds)
	}
}

// TestDefaultWriterCommandsStop runs the default cron and consumer scripts
// with the machine's /bin/sh (dash on Debian, as in the official PHP
// images) and a stand-in php, and checks that SIGTERM and SIGQUIT (the
// official PHP-FPM images' stop signal) stop them, the consumers included,
// well inside the grace period.
func TestDefaultWriterCommandsStop(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGQUIT} {
		t.Run(sig.String(), func(t *testing.T) { testWriterCommandsStop(t, sig) })
	}
}

func testWriterCommandsStop(t *testing.T, sig syscall.Signal) {
	dir := t.TempDir()
	php := "#!/bin/sh\n" +
		"case \"$2\" in\n" +
		"queue:consumers:list) echo one; echo two ;;\n" +
		"queue:consumers:start) trap 'echo stopped >> " + dir + "/stopped; exit 0' TERM; sleep 600 & wait $! ;;\n" +
		"cron:run) ;;\n" +
		"esac\n"
	if err := os.WriteFile(filepath.Join(dir, "php"), []byte(php), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, command := range map[string][]string{"cron": DefaultCronCommand, "consumer": DefaultConsumerCommand} {
		cmd := exec.Command(command[0], command[1:]...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "PATH="+dir+":"+os.Getenv("PATH"))
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(500 * time.Millisecond)
		begin := time.Now()
		_ = cmd.Process.Signal(sig)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("%s exited with %v", name, err)
			}
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			t.Fatalf("%s did not stop on %s within 10 s", name, sig)
		}
		t.Logf("%s stopped %s after %s", name, time.Since(begin).Round(time.Millisecond), sig)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "stopped")); strings.Count(string(b), "stopped") != 2 {
		t.Errorf("consumers stopped: %q, want both", b)
	}
}
