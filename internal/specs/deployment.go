package specs

import (
	"fmt"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
)

// shell runs a script in the image's /bin/sh.
const shell = "/bin/sh"

// DefaultCronCommand runs `php bin/magento cron:run` every 60 s. On SIGTERM
// the run under way finishes, then the container exits. SIGQUIT does the
// same: it is the stop signal of the official PHP-FPM images, which the
// cron and consumer containers share with php-fpm, and a shell that is
// PID 1 ignores a signal it does not trap.
var DefaultCronCommand = []string{shell, "-c",
	`trap "exit 0" TERM INT QUIT; while true; do php bin/magento cron:run; sleep 60 & wait $!; done`}

// DefaultConsumerCommand starts every consumer Magento lists, one process
// each, and starts them again when they stop after 10,000 messages. On
// SIGTERM or SIGQUIT (see DefaultCronCommand) it stops them with SIGTERM and
// waits for them. It keeps their PIDs itself:
// `jobs -p` in a trap is empty in dash (Debian's /bin/sh) and in a
// double-quoted trap is expanded when the trap is set.
var DefaultConsumerCommand = []string{shell, "-c",
	`trap 'kill $pids 2>/dev/null; wait; exit 0' TERM INT QUIT; ` +
		`while true; do pids=; ` +
		`for c in $(php bin/magento queue:consumers:list); do ` +
		`php bin/magento queue:consumers:start "$c" --single-thread --max-messages=10000 & pids="$pids $!"; done; ` +
		`wait; sleep 5 & wait $!; done`}

// Grace periods: long enough for endpoints to drop a stopping pod and for
// requests, a cron run or a consumer batch under way to finish.
const (
	servedGracePeriodSeconds   = 60
	cronGracePeriodSeconds     = 300
	consumerGracePeriodSeconds = 120
	// webDrainSeconds is how long a stopping nginx keeps accepting while the
	// endpoint update reaches every proxy (kube-proxy syncs at most once a
	// second; a connection DNAT'ed just before must still be answered).
	// After it, the kubelet sends the image's stop signal: SIGQUIT, nginx's
	// and php-fpm's graceful stop, in the official images (docs/magento.md).
	webDrainSeconds = 10
	// fpmDrainSeconds is how long a stopping php-fpm keeps serving: longer
	// than nginx's drain plus the requests nginx finishes after it, so nginx
	// never passes a request to a php-fpm that has gone (a 502). When a whole
	// slot stops at once (an idle scale-down), web drains first, then php-fpm;
	// a trial with both tiers stopping after the same delay gave 502s.
	fpmDrainSeconds = webDrainSeconds + 20
)

// Deployment is the desired Deployment of one component of one slot, rendered
// at the given slot version, with the given replica count.
func Deployment(r *v1alpha1.MagentoRelease, color v1alpha1.Color, c Component, version v1alpha1.Slot, replicas int32) (*appsv1.Deployment, error) {
	tmpl, err := PodTemplate(r, color, c, version)
	if err != nil {
		return nil, err
	}
	d := &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: objectMeta(r, SlotName(r, c, color), SlotLabels(r, color, c)),
		Spec: appsv1.DeploymentSpec{
			Replicas:                ptr.To(replicas),
			Selector:                &metav1.LabelSelector{MatchLabels: Selector(r, color, c)},
			Template:                tmpl,
			RevisionHistoryLimit:    ptr.To[int32](3),
			ProgressDeadlineSeconds: r.Spec.ProgressDeadlineSeconds,
			Strategy:                strategy(c),
		},
	}
	d.Annotations = map[string]string{
		AnnotationTag:          version.Tag,
		AnnotationDigest:       version.Digest,
		AnnotationRevision:     version.Revision,
		AnnotationTemplateHash: TemplateHash(tmpl),
	}
	return d, nil
}

// TemplateHash is a short hash of a rendered pod template.
func TemplateHash(t corev1.PodTemplateSpec) string { return hash(t) }

// RenderedVersion reads the slot version a Deployment was rendered for.
func RenderedVersion(d *appsv1.Deployment) v1alpha1.Slot {
	return v1alpha1.Slot{
		Tag:      d.Annotations[AnnotationTag],
		Digest:   d.Annotations[AnnotationDigest],
		Revision: d.Annotations[AnnotationRevision],
	}
}

// strategy rolls web and php-fpm out at full size at once: all new pods
// start together (maxSurge 100%) and no old pod stops before they are
// available (maxUnavailable 0). Only a slot that serves no traffic is ever
// rolled out (rule 4: the live slot's template is frozen), so a deploy
// takes as long as one pod's start, not one per surge step; capacity never
// drops, and for that while the slot runs twice its pods. Cron and
// consumers are recreated so two never run at once.
func strategy(c Component) appsv1.DeploymentStrategy {
	if c == Cron || c == Consumer {
		return appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}
	}
	return appsv1.DeploymentStrategy{
		Type: appsv1.RollingUpdateDeploymentStrategyType,
		RollingUpdate: &appsv1.RollingUpdateDeployment{
			MaxUnavailable: ptr.To(intstr.FromInt32(0)),
			MaxSurge:       ptr.To(intstr.FromString("100%")),
		},
	}
}

// PodTemplate is the pod template of one component of one slot.
func PodTemplate(r *v1alpha1.MagentoRelease, color v1alpha1.Color, c Component, version v1alpha1.Slot) (corev1.PodTemplateSpec, error) {
	var (
		container corev1.Container
		grace     int64
		err       error
	)
	switch c {
	case Web:
		container, err = webContainer(r, color, version)
		grace = servedGracePeriodSeconds
	case PHPFPM:
		container, err = phpFPMContainer(r, version)
		grace = servedGracePeriodSeconds
	case Cron:
		container, err = appContainer(r, "cron", version, r.Spec.Cron.Command, DefaultCronCommand, r.Spec.Cron.ContainerSettings)
		grace = cronGracePeriodSeconds
	case Consumer:
		container, err = appContainer(r, "consumer", version, r.Spec.Consumer.Command, DefaultConsumerCommand, r.Spec.Consumer.ContainerSettings)
		grace = consumerGracePeriodSeconds
	default:
		return corev1.PodTemplateSpec{}, fmt.Errorf("component %q has no Deployment", c)
	}
	if err != nil {
		return corev1.PodTemplateSpec{}, err
	}
	spec := podSpec(r, grace, container)
	switch c {
	case Web:
		spec.TopologySpreadConstraints = spread(r.Spec.Web.TopologySpreadConstraints, Selector(r, color, c))
	case PHPFPM:
		spec.TopologySpreadConstraints = spread(r.Spec.PHPFPM.TopologySpreadConstraints, Selector(r, color, c))
	}
	if c == Cron || c == Consumer {
		// The pod's pause process is PID 1, not the command's shell. A
		// process that is PID 1 ignores every signal it has no handler for
		// yet: a cron or consumer pod stopped the moment it starts (traffic
		// switched there and straight back) lost its stop signal and ran out
		// its grace period, holding the other slot's cron back for 5 minutes.
		spec.ShareProcessNamespace = ptr.To(true)
	}
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: SlotLabels(r, color, c)},
		Spec:       spec,
	}, nil
}

// podSpec applies the release's shared pod settings around the containers.
func podSpec(r *v1alpha1.MagentoRelease, grace int64, containers ...corev1.Container) corev1.PodSpec {
	p := r.Spec.Pod
	return corev1.PodSpec{
		Containers:                    containers,
		ServiceAccountName:            p.ServiceAccountName,
		NodeSelector:                  p.NodeSelector,
		Tolerations:                   p.Tolerations,
		Affinity:                      p.Affinity,
		Volumes:                       p.Volumes,
		ImagePullSecrets:              r.Spec.Images.PullSecrets,
		TerminationGracePeriodSeconds: ptr.To(grace),
		SecurityContext: &corev1.PodSecurityContext{
			RunAsNonRoot:   ptr.To(true),
			SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
		},
	}
}

// containerSecurityContext is the restricted Pod Security profile's
// container part, with every field set gives replacing the default.
func containerSecurityContext(set *corev1.SecurityContext) *corev1.SecurityContext {
	sc := &corev1.SecurityContext{}
	if set != nil {
		sc = set.DeepCopy()
	}
	if sc.AllowPrivilegeEscalation == nil {
		sc.AllowPrivilegeEscalation = ptr.To(false)
	}
	if sc.Capabilities == nil {
		sc.Capabilities = &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}
	}
	return sc
}

// spread is the topology spread of a served component's pods of a slot:
// set as the spec gives it (an empty list: none), each constraint without
// a labelSelector selecting those pods; unset, across nodes and zones.
func spread(set []corev1.TopologySpreadConstraint, selector map[string]string) []corev1.TopologySpreadConstraint {
	if set == nil {
		for _, key := range []string{corev1.LabelHostname, corev1.LabelTopologyZone} {
			set = append(set, corev1.TopologySpreadConstraint{MaxSkew: 1, TopologyKey: key,
				WhenUnsatisfiable: corev1.ScheduleAnyway, MatchLabelKeys: []string{appsv1.DefaultDeploymentUniqueLabelKey}})
		}
	}
	out := make([]corev1.TopologySpreadConstraint, 0, len(set))
	for _, c := range set {
		c = *c.DeepCopy()
		if c.LabelSelector == nil {
			c.LabelSelector = &metav1.LabelSelector{MatchLabels: selector}
		}
		out = append(out, c)
	}
	return out
}

func webContainer(r *v1alpha1.MagentoRelease, color v1alpha1.Color, version v1alpha1.Slot) (corev1.Container, error) {
	image, err := WebImage(r.Spec.Images, version)
	if err != nil {
		return corev1.Container{}, err
	}
	port := intstr.FromString("http")
	return corev1.Container{
		Name:            "nginx",
		Image:           image,
		ImagePullPolicy: r.Spec.Images.PullPolicy,
		Ports:           []corev1.ContainerPort{{Name: "http", ContainerPort: r.Spec.Web.Port, Protocol: corev1.ProtocolTCP}},
		Env: []corev1.EnvVar{
			{Name: "PHP_FPM_HOST", Value: SlotName(r, PHPFPM, color)},
			{Name: "PHP_FPM_PORT", Value: strconv.Itoa(PHPFPMPort)},
		},
		Resources:    r.Spec.Web.Resources,
		VolumeMounts: r.Spec.Pod.VolumeMounts,
		// Magento's own health check goes through nginx to php-fpm, so a web
		// pod is ready only when it can serve PHP.
		ReadinessProbe: given(r.Spec.Web.ReadinessProbe,
			probe(corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/health_check.php", Port: port}}, 5, 3)),
		LivenessProbe: given(r.Spec.Web.LivenessProbe, probe(corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: port}}, 5, 6)),
		// Keep serving while endpoints drop the pod; the stop signal follows.
		Lifecycle:       drain(webDrainSeconds),
		SecurityContext: containerSecurityContext(r.Spec.Web.SecurityContext),
	}, nil
}

func phpFPMContainer(r *v1alpha1.MagentoRelease, version v1alpha1.Slot) (corev1.Container, error) {
	c, err := appContainer(r, "php-fpm", version, nil, nil, r.Spec.PHPFPM.ContainerSettings)
	if err != nil {
		return c, err
	}
	port := intstr.FromString("fastcgi")
	c.Ports = []corev1.ContainerPort{{Name: "fastcgi", ContainerPort: PHPFPMPort, Protocol: corev1.ProtocolTCP}}
	// Ready while it accepts FastCGI connections: out of the Services
	// within 15 s when it stops. Restarted only when it has not accepted
	// one for a minute, so a php-fpm busy with a slow request at every
	// worker is not killed for it.
	c.ReadinessProbe = given(r.Spec.PHPFPM.ReadinessProbe, probe(corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: port}}, 5, 3))
	c.LivenessProbe = given(r.Spec.PHPFPM.LivenessProbe, probe(corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: port}}, 10, 6))
	// Keep serving while nginx stops sending; the stop signal follows.
	c.Lifecycle = drain(fpmDrainSeconds)
	return c, nil
}

// drain keeps a stopping container running for seconds before the kubelet
// sends its stop signal. It is the kubelet's own sleep, not a command in
// the image: a hook that stopped the container itself would be ended by
// that stop, and the kubelet reports every such hook as failed (a
// FailedPreStopHook Warning Event per pod).
func drain(seconds int64) *corev1.Lifecycle {
	return &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{Sleep: &corev1.SleepAction{Seconds: seconds}}}
}

// appContainer is a container of the app image with the release's env.
func appContainer(r *v1alpha1.MagentoRelease, name string, version v1alpha1.Slot, command, defaultCommand []string,
	settings v1alpha1.ContainerSettings) (corev1.Container, error) {
	image, err := AppImage(r.Spec.Images, version)
	if err != nil {
		return corev1.Container{}, err
	}
	if len(command) == 0 {
		command = defaultCommand
	}
	return corev1.Container{
		Name:            name,
		Image:           image,
		ImagePullPolicy: r.Spec.Images.PullPolicy,
		Command:         command,
		Env:             r.Spec.Env,
		EnvFrom:         r.Spec.EnvFrom,
		Resources:       settings.Resources,
		VolumeMounts:    r.Spec.Pod.VolumeMounts,
		SecurityContext: containerSecurityContext(settings.SecurityContext),
	}, nil
}

// probe sets every field the API server would default, so that a rendered
// template compares equal to the stored one.
func probe(h corev1.ProbeHandler, periodSeconds, failureThreshold int32) *corev1.Probe {
	return &corev1.Probe{
		ProbeHandler:     h,
		PeriodSeconds:    periodSeconds,
		TimeoutSeconds:   3,
		SuccessThreshold: 1,
		FailureThreshold: failureThreshold,
	}
}

// given is what the spec set, else def.
func given[T any](set, def *T) *T {
	if set != nil {
		return set
	}
	return def
}
