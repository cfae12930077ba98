package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Color names one of the two slots of a release.
// +kubebuilder:validation:Enum=blue;green
type Color string

const (
	// Blue is the blue slot.
	Blue Color = "blue"
	// Green is the green slot.
	Green Color = "green"
)

// Colors lists both slots in a stable order.
var Colors = []Color{Blue, Green}

// Slot is one deployable copy of the shop: an image tag, optionally pinned by digest.
type Slot struct {
	// tag is the OCI tag appended to images.app (and to images.web unless it
	// already carries a tag or digest).
	// +required
	// +kubebuilder:validation:Pattern=`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`
	Tag string `json:"tag"`

	// digest pins the images by content: sha256:<64 lowercase hex digits>.
	// +optional
	// +kubebuilder:validation:Pattern=`^sha256:[a-f0-9]{64}$`
	Digest string `json:"digest,omitempty"`

	// revision is free text; change it to redeploy the slot with the current
	// shared settings (env, resources, pod settings) without a new tag.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	Revision string `json:"revision,omitempty"`
}

// Images names the container images of the shop.
type Images struct {
	// app is the repository of the PHP image (php-fpm, cron, consumer, migration
	// and post-switch Jobs), without a tag: the slot's tag is appended.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=255
	// +kubebuilder:validation:XValidation:rule=`self.matches(r'^(?:(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*|\[(?:[a-fA-F0-9:]+)\])(?::[0-9]+)?/)?[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*)*$')`,message="images.app must be an image repository such as registry.example.com:5000/shop/php-fpm, without a tag or digest: the slot's tag is appended"
	App string `json:"app"`

	// web is the nginx image repository. The slot's tag is appended unless it
	// already carries a tag or digest (e.g. nginx:1.27-alpine), in which case
	// it is used as is for both slots.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=255
	// +kubebuilder:validation:XValidation:rule=`self.matches(r'^((?:(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*|\[(?:[a-fA-F0-9:]+)\])(?::[0-9]+)?/)?[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*)*)(?::([\w][\w.-]{0,127}))?(?:@([A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][[:xdigit:]]{32,}))?$')`,message="images.web must be an image reference such as registry.example.com/shop/nginx or nginx:1.27-alpine"
	Web string `json:"web"`

	// pullPolicy is the image pull policy of every container.
	// +optional
	// +kubebuilder:default=IfNotPresent
	// +kubebuilder:validation:Enum=Always;IfNotPresent;Never
	PullPolicy corev1.PullPolicy `json:"pullPolicy,omitempty"`

	// pullSecrets are the image pull secrets of every pod.
	// +optional
	// +listType=atomic
	PullSecrets []corev1.LocalObjectReference `json:"pullSecrets,omitempty"`
}

// Autoscaling turns on a HorizontalPodAutoscaler for a component.
// +kubebuilder:validation:XValidation:rule="!has(self.minReplicas) || self.minReplicas <= self.maxReplicas",message="autoscaling.minReplicas must not exceed maxReplicas"
type Autoscaling struct {
	// minReplicas is the lower bound of the HPA; default 1.
	// +optional
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=1
	MinReplicas *int32 `json:"minReplicas,omitempty"`

	// maxReplicas is the upper bound of the HPA.
	// +required
	// +kubebuilder:validation:Minimum=1
	MaxReplicas int32 `json:"maxReplicas"`

	// targetCPUUtilizationPercentage is the average CPU use, as a percentage of
	// requests, the HPA aims for; default 80.
	// +optional
	// +kubebuilder:default=80
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	TargetCPUUtilizationPercentage *int32 `json:"targetCPUUtilizationPercentage,omitempty"`
}

// WebSpec configures the nginx Deployment of each slot.
type WebSpec struct {
	// replicas is the number of nginx pods per running slot; default 2.
	// Ignored while autoscaling is set.
	// +optional
	// +kubebuilder:default=2
	// +kubebuilder:validation:Minimum=0
	Replicas *int32 `json:"replicas,omitempty"`

	// port is the nginx container port; default 8080. Services expose port 80.
	// +optional
	// +kubebuilder:default=8080
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	Port int32 `json:"port,omitempty"`

	// resources of the nginx container.
	// +optional
	Resources corev1.ResourceRequirements `json:"resources,omitempty"`

	// autoscaling, when set, creates a HorizontalPodAutoscaler per running slot.
	// +optional
	Autoscaling *Autoscaling `json:"autoscaling,omitempty"`
}

// PHPFPMSpec configures the php-fpm Deployment of each slot (port 9000).
type PHPFPMSpec struct {
	// replicas is the number of php-fpm pods per running slot; default 2.
	// Ignored while autoscaling is set.
	// +optional
	// +kubebuilder:default=2
	// +kubebuilder:validation:Minimum=0
	Replicas *int32 `json:"replicas,omitempty"`

	// resources of the php-fpm container.
	// +optional
	Resources corev1.ResourceRequirements `json:"resources,omitempty"`

	// autoscaling, when set, creates a HorizontalPodAutoscaler per running slot.
	// +optional
	Autoscaling *Autoscaling `json:"autoscaling,omitempty"`
}

// CronSpec configures the Magento cron runner: one pod, in the active slot only.
type CronSpec struct {
	// enabled runs the cron Deployment; default true.
	// +optional
	// +kubebuilder:default=true
	Enabled *bool `json:"enabled,omitempty"`

	// command overrides the default, which runs `php bin/magento cron:run`
	// every 60 seconds in a loop.
	// +optional
	// +listType=atomic
	Command []string `json:"command,omitempty"`

	// resources of the cron container.
	// +optional
	Resources corev1.ResourceRequirements `json:"resources,omitempty"`
}

// ConsumerSpec configures the message-queue consumers, in the active slot only.
type ConsumerSpec struct {
	// enabled runs the consumer Deployment; default true.
	// +optional
	// +kubebuilder:default=true
	Enabled *bool `json:"enabled,omitempty"`

	// replicas is the number of consumer pods in the active slot; default 1.
	// +optional
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=0
	Replicas *int32 `json:"replicas,omitempty"`

	// command overrides the default: a shell loop that starts every consumer
	// `php bin/magento queue:consumers:list` names with
	// `queue:consumers:start <name> --single-thread --max-messages=10000`,
	// waits for them all and starts them again (see docs/api.md).
	// +optional
	// +listType=atomic
	Command []string `json:"command,omitempty"`

	// resources of the consumer container.
	// +optional
	Resources corev1.ResourceRequirements `json:"resources,omitempty"`
}

// PodSettings are shared by the pods of every component and hook.
type PodSettings struct {
	// serviceAccountName of every pod.
	// +optional
	ServiceAccountName string `json:"serviceAccountName,omitempty"`

	// nodeSelector of every pod.
	// +optional
	NodeSelector map[string]string `json:"nodeSelector,omitempty"`

	// tolerations of every pod.
	// +optional
	// +listType=atomic
	Tolerations []corev1.Toleration `json:"tolerations,omitempty"`

	// affinity of every pod.
	// +optional
	Affinity *corev1.Affinity `json:"affinity,omitempty"`

	// volumes added to every pod, e.g. the pub/media PersistentVolumeClaim.
	// +optional
	// +listType=atomic
	Volumes []corev1.Volume `json:"volumes,omitempty"`

	// volumeMounts added to the web, php-fpm, cron, consumer and hook containers.
	// +optional
	// +listType=atomic
	VolumeMounts []corev1.VolumeMount `json:"volumeMounts,omitempty"`
}

// PreviewSpec configures the preview Service.
type PreviewSpec struct {
	// enabled creates Service <name>-preview selecting the idle slot's web pods
	// while both slots exist; default true.
	// +optional
	// +kubebuilder:default=true
	Enabled *bool `json:"enabled,omitempty"`
}

// IngressSpec configures Ingress <name>.
type IngressSpec struct {
	// className is the IngressClass, e.g. alb or nginx.
	// +optional
	ClassName string `json:"className,omitempty"`

	// host is routed to Service <name> (the active slot).
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:Pattern=`^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	Host string `json:"host"`

	// previewHost, when set, is routed to Service <name>-preview (the idle slot).
	// +optional
	// +kubebuilder:validation:Pattern=`^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	PreviewHost string `json:"previewHost,omitempty"`

	// annotations of the Ingress, e.g. for the AWS Load Balancer Controller.
	// +optional
	Annotations map[string]string `json:"annotations,omitempty"`

	// tlsSecretName, when set, terminates TLS for both hosts with this Secret.
	// +optional
	TLSSecretName string `json:"tlsSecretName,omitempty"`
}

// IdleScaleDownSpec configures when the idle slot is scaled to zero.
type IdleScaleDownSpec struct {
	// enabled scales the idle slot to zero once `after` has passed; default
	// true. false keeps the idle slot running until told otherwise.
	// +optional
	// +kubebuilder:default=true
	Enabled *bool `json:"enabled,omitempty"`

	// after is how long the idle slot keeps running after it last stopped
	// serving traffic or was last deployed, whichever is later; default 24h,
	// at least 30s.
	// +optional
	// +kubebuilder:default="24h"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ns|us|ms|s|m|h))+$`
	// +kubebuilder:validation:XValidation:rule=`!self.matches(r'^([0-9]+(\.[0-9]+)?(ns|us|ms|s|m|h))+$') || duration(self) >= duration('30s')`,message="idleScaleDown.after must be at least 30s so connections and endpoint updates drain first"
	After *metav1.Duration `json:"after,omitempty"`
}

// MigrationSpec configures the schema migration Job run before a new slot
// version first receives traffic.
type MigrationSpec struct {
	// enabled runs the migration Job; default false.
	// +optional
	Enabled bool `json:"enabled,omitempty"`

	// command of the migration Job; default: a /bin/sh script that runs
	// `php bin/magento setup:upgrade --keep-generated` only when
	// `setup:db:status` exits 2 (an upgrade is needed), then
	// `app:config:import` only when `app:config:status` exits 2 (docs/api.md).
	// +optional
	// +listType=atomic
	Command []string `json:"command,omitempty"`

	// backoffLimit is the number of retries of the Job before it counts as failed; default 1.
	// +optional
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=0
	BackoffLimit *int32 `json:"backoffLimit,omitempty"`

	// compatibleWithPrevious declares that the code of the slot that served
	// before works with the schema this migration leaves. Only then may a
	// failed check after a switch move traffic back to it once a migration
	// ran; default false (traffic stays and the release reports Degraded).
	// +optional
	CompatibleWithPrevious bool `json:"compatibleWithPrevious,omitempty"`
}

// VerificationSpec configures the checks of a slot: before traffic moves to
// it, and for a window after, against the live slot.
type VerificationSpec struct {
	// checks are HTTP requests every ready web pod of the slot must answer
	// as expected; default, when neither checks nor command is set, one
	// check: /health_check.php answers 200.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=10
	Checks []HTTPCheck `json:"checks,omitempty"`

	// command, when set, runs as Job <name>-verify-<color>-<hash> in the
	// slot's app image (with its env and envFrom), before each switch to the
	// slot and once when the switch is done; the check passes when it exits
	// 0. It runs before the HTTP checks, and gets MAGENTO_SLOT (the colour),
	// MAGENTO_CHECK (before-switch or after-switch) and, when a Service
	// reaches the slot's web pods, MAGENTO_SLOT_URL. A run is bounded by
	// 600 seconds.
	// +optional
	// +listType=atomic
	Command []string `json:"command,omitempty"`

	// window is how long after a switch the checks keep running against the
	// live slot; 0s runs none after the switch. Default 5m.
	// +optional
	// +kubebuilder:default="5m"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ns|us|ms|s|m|h))+$`
	Window *metav1.Duration `json:"window,omitempty"`

	// interval is the time between two rounds of checks in the window;
	// default 10s, at least 1s.
	// +optional
	// +kubebuilder:default="10s"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ns|us|ms|s|m|h))+$`
	// +kubebuilder:validation:XValidation:rule=`!self.matches(r'^([0-9]+(\.[0-9]+)?(ns|us|ms|s|m|h))+$') || duration(self) >= duration('1s')`,message="verification.interval must be at least 1s"
	Interval *metav1.Duration `json:"interval,omitempty"`

	// switchBack moves traffic back to the slot that served before when a
	// check fails in the window, provided that slot still runs, passes the
	// readiness gate, and no migration ran for the failed deployment (or the
	// migration is declared compatibleWithPrevious); default true.
	// +optional
	// +kubebuilder:default=true
	SwitchBack *bool `json:"switchBack,omitempty"`
}

// HTTPCheck is one HTTP request to a web pod and what its answer must be.
type HTTPCheck struct {
	// path is requested with GET, e.g. /health_check.php.
	// +required
	// +kubebuilder:validation:Pattern=`^/`
	// +kubebuilder:validation:MaxLength=2048
	Path string `json:"path"`

	// status the answer must have; default 200.
	// +optional
	// +kubebuilder:default=200
	// +kubebuilder:validation:Minimum=100
	// +kubebuilder:validation:Maximum=599
	Status int32 `json:"status,omitempty"`

	// contains is text the answer's body must contain (its first 64 KiB).
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Contains string `json:"contains,omitempty"`

	// host is the Host header; default spec.ingress.host when set, else the pod's address.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	Host string `json:"host,omitempty"`
}

// PostSwitchSpec configures a Job run once after each completed switch.
type PostSwitchSpec struct {
	// command of the post-switch Job, e.g. ["php", "bin/magento", "cache:clean", "full_page"].
	// +required
	// +kubebuilder:validation:MinItems=1
	// +listType=atomic
	Command []string `json:"command"`
}

// MagentoReleaseSpec declares both slots of a shop and which one serves traffic.
// +kubebuilder:validation:XValidation:rule="self.activeColor == 'blue' ? has(self.blue) : has(self.green)",messageExpression="'spec.activeColor is ' + self.activeColor + ' but spec.' + self.activeColor + ' is not set: add that slot with a tag, or make the existing slot active'"
type MagentoReleaseSpec struct {
	// activeColor is the slot that should serve traffic: blue or green.
	// +required
	ActiveColor Color `json:"activeColor"`

	// blue is the blue slot; omitted, the slot does not exist.
	// +optional
	Blue *Slot `json:"blue,omitempty"`

	// green is the green slot; omitted, the slot does not exist.
	// +optional
	Green *Slot `json:"green,omitempty"`

	// images are the repositories of the app (php) and web (nginx) images.
	// +required
	Images Images `json:"images"`

	// web configures nginx.
	// +optional
	// +kubebuilder:default={}
	Web WebSpec `json:"web,omitempty"`

	// phpFpm configures php-fpm.
	// +optional
	// +kubebuilder:default={}
	PHPFPM PHPFPMSpec `json:"phpFpm,omitempty"`

	// cron configures the Magento cron runner.
	// +optional
	// +kubebuilder:default={}
	Cron CronSpec `json:"cron,omitempty"`

	// consumer configures the message-queue consumers.
	// +optional
	// +kubebuilder:default={}
	Consumer ConsumerSpec `json:"consumer,omitempty"`

	// env is set in the php-fpm, cron, consumer, migration and post-switch containers.
	// +optional
	// +listType=atomic
	Env []corev1.EnvVar `json:"env,omitempty"`

	// envFrom is set in the php-fpm, cron, consumer, migration and
	// post-switch containers, e.g. the Secret External Secrets Operator creates.
	// +optional
	// +listType=atomic
	EnvFrom []corev1.EnvFromSource `json:"envFrom,omitempty"`

	// pod holds pod settings shared by every component.
	// +optional
	Pod PodSettings `json:"pod,omitempty"`

	// preview configures Service <name>-preview.
	// +optional
	// +kubebuilder:default={}
	Preview PreviewSpec `json:"preview,omitempty"`

	// ingress, when set, creates Ingress <name>.
	// +optional
	Ingress *IngressSpec `json:"ingress,omitempty"`

	// idleScaleDown configures when the idle slot is scaled to zero.
	// +optional
	// +kubebuilder:default={}
	IdleScaleDown IdleScaleDownSpec `json:"idleScaleDown,omitempty"`

	// progressDeadlineSeconds is how long a deploy or a switch may wait for
	// its slot to become ready before the release reports Degraded; default 600.
	// +optional
	// +kubebuilder:default=600
	// +kubebuilder:validation:Minimum=1
	ProgressDeadlineSeconds *int32 `json:"progressDeadlineSeconds,omitempty"`

	// migration configures the schema migration Job.
	// +optional
	Migration *MigrationSpec `json:"migration,omitempty"`

	// postSwitch, when set, runs a Job once after each completed switch.
	// +optional
	PostSwitch *PostSwitchSpec `json:"postSwitch,omitempty"`

	// verification, when set, checks a slot over HTTP before traffic moves
	// to it and, for a window, after; a failure holds the switch, or moves
	// traffic back.
	// +optional
	Verification *VerificationSpec `json:"verification,omitempty"`
}

// SlotState says what a slot is doing.
// +kubebuilder:validation:Enum=Active;Preview;ScaledDown;Deploying
type SlotState string

const (
	// SlotActive serves traffic through Service <name>.
	SlotActive SlotState = "Active"
	// SlotPreview runs idle, reachable through Service <name>-preview.
	SlotPreview SlotState = "Preview"
	// SlotScaledDown runs no pods.
	SlotScaledDown SlotState = "ScaledDown"
	// SlotDeploying is rolling out or scaling up and not ready yet.
	SlotDeploying SlotState = "Deploying"
)

// SlotStatus reports what one slot runs.
type SlotStatus struct {
	// tag is what this slot's Deployments run now.
	// +optional
	Tag string `json:"tag,omitempty"`

	// digest is the digest this slot's Deployments run now, if any.
	// +optional
	Digest string `json:"digest,omitempty"`

	// revision is the revision this slot's Deployments were rendered for.
	// +optional
	Revision string `json:"revision,omitempty"`

	// state is Active, Preview, ScaledDown or Deploying.
	// +optional
	State SlotState `json:"state,omitempty"`

	// ready is true when web and php-fpm are fully rolled out and available.
	// +optional
	Ready bool `json:"ready"`

	// outdated is true when the slot runs older shared settings than the spec
	// (a live slot is never re-rendered; deploy it again to pick them up).
	// +optional
	Outdated bool `json:"outdated"`

	// migrated is true once the migration for this deployment of the slot has succeeded.
	// +optional
	Migrated bool `json:"migrated"`

	// migrationFailed is true when the migration Job of this deployment of
	// the slot failed; deploy a new tag, digest or revision to retry.
	// +optional
	MigrationFailed bool `json:"migrationFailed,omitempty"`

	// migrationOutput is what the migration Job of this deployment of the
	// slot said: its exit code and the first lines of its termination
	// message (the default command writes one line per step).
	// +optional
	MigrationOutput string `json:"migrationOutput,omitempty"`

	// deployedTime is when the slot was last rendered from the spec.
	// +optional
	DeployedTime *metav1.Time `json:"deployedTime,omitempty"`

	// idleSince is when the slot last stopped serving traffic.
	// +optional
	IdleSince *metav1.Time `json:"idleSince,omitempty"`

	// rolloutStartTime is when the slot's current rollout (a deploy, or a
	// scale-up from zero) started; empty once the slot has been ready since.
	// +optional
	RolloutStartTime *metav1.Time `json:"rolloutStartTime,omitempty"`

	// idleScaleDownTime is when the idle slot will be, or was, scaled down.
	// +optional
	IdleScaleDownTime *metav1.Time `json:"idleScaleDownTime,omitempty"`

	// verified is true once the slot passed its checks for the pending
	// switch to it, or the last one (spec.verification); every switch to a
	// slot checks it again.
	// +optional
	Verified bool `json:"verified,omitempty"`

	// verificationFailure says which check this deployment of the slot
	// failed, before or after a switch to it. The release does not switch
	// to it again until its tag, digest or revision changes.
	// +optional
	VerificationFailure string `json:"verificationFailure,omitempty"`

	// verificationFailedTime is when verificationFailure was recorded.
	// `kubectl magento retry-checks` checks the slot again when its checks
	// failed before the time it asks.
	// +optional
	VerificationFailedTime *metav1.Time `json:"verificationFailedTime,omitempty"`

	// unavailableSince is when the slot, serving traffic, stopped being
	// available; past progressDeadlineSeconds the release reports Degraded
	// (LiveUnavailable). Empty while it is available or not serving.
	// +optional
	UnavailableSince *metav1.Time `json:"unavailableSince,omitempty"`
}

// MagentoReleaseStatus is what the operator observed and did.
type MagentoReleaseStatus struct {
	// observedGeneration is the generation of the spec this status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// activeColor is the slot Services <name> and <name>-php-fpm select now;
	// empty before the first rollout.
	// +optional
	ActiveColor Color `json:"activeColor,omitempty"`

	// previewColor is the slot Service <name>-preview selects; empty without preview.
	// +optional
	PreviewColor Color `json:"previewColor,omitempty"`

	// lastSwitchTime is when the Services last moved to another slot.
	// +optional
	LastSwitchTime *metav1.Time `json:"lastSwitchTime,omitempty"`

	// switchStartTime is when the pending switch to spec.activeColor was first
	// seen; the progress deadline counts from it. Empty when no switch is pending.
	// +optional
	SwitchStartTime *metav1.Time `json:"switchStartTime,omitempty"`

	// postSwitchJob is the name of the post-switch Job of the last switch;
	// empty when none was asked for.
	// +optional
	PostSwitchJob string `json:"postSwitchJob,omitempty"`

	// postSwitchJobPending is true while the post-switch Job named by
	// postSwitchJob has not been created yet (the API server refused it, or
	// the operator stopped before): it is retried until it exists.
	// +optional
	PostSwitchJobPending bool `json:"postSwitchJobPending,omitempty"`

	// checksUntil is when the checks after the last switch end
	// (spec.verification.window); empty when none run.
	// +optional
	ChecksUntil *metav1.Time `json:"checksUntil,omitempty"`

	// blue reports the blue slot.
	// +optional
	Blue *SlotStatus `json:"blue,omitempty"`

	// green reports the green slot.
	// +optional
	Green *SlotStatus `json:"green,omitempty"`

	// conditions are Ready, Progressing and Degraded.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// MagentoRelease runs a Magento 2 shop as two slots, blue and green, and
// moves traffic between them.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=mrel
// +kubebuilder:printcolumn:name="Active",type=string,JSONPath=`.status.activeColor`
// +kubebuilder:printcolumn:name="Desired",type=string,JSONPath=`.spec.activeColor`
// +kubebuilder:printcolumn:name="Blue",type=string,JSONPath=`.spec.blue.tag`
// +kubebuilder:printcolumn:name="Green",type=string,JSONPath=`.spec.green.tag`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:validation:XValidation:rule=`!has(oldSelf.status) || !has(oldSelf.status.activeColor) || oldSelf.status.activeColor != 'blue' || !has(self.spec.blue) || (has(oldSelf.spec.blue) ? self.spec.blue.tag == oldSelf.spec.blue.tag && (has(self.spec.blue.digest) ? self.spec.blue.digest : "") == (has(oldSelf.spec.blue.digest) ? oldSelf.spec.blue.digest : "") && (has(self.spec.blue.revision) ? self.spec.blue.revision : "") == (has(oldSelf.spec.blue.revision) ? oldSelf.spec.blue.revision : "") : has(oldSelf.status.blue) && has(oldSelf.status.blue.tag) && self.spec.blue.tag == oldSelf.status.blue.tag && (has(self.spec.blue.digest) ? self.spec.blue.digest : "") == (has(oldSelf.status.blue.digest) ? oldSelf.status.blue.digest : "") && (has(self.spec.blue.revision) ? self.spec.blue.revision : "") == (has(oldSelf.status.blue.revision) ? oldSelf.status.blue.revision : ""))`,message="blue serves traffic; deploy to green and switch"
// +kubebuilder:validation:XValidation:rule=`!has(oldSelf.status) || !has(oldSelf.status.activeColor) || oldSelf.status.activeColor != 'green' || !has(self.spec.green) || (has(oldSelf.spec.green) ? self.spec.green.tag == oldSelf.spec.green.tag && (has(self.spec.green.digest) ? self.spec.green.digest : "") == (has(oldSelf.spec.green.digest) ? oldSelf.spec.green.digest : "") && (has(self.spec.green.revision) ? self.spec.green.revision : "") == (has(oldSelf.spec.green.revision) ? oldSelf.spec.green.revision : "") : has(oldSelf.status.green) && has(oldSelf.status.green.tag) && self.spec.green.tag == oldSelf.status.green.tag && (has(self.spec.green.digest) ? self.spec.green.digest : "") == (has(oldSelf.status.green.digest) ? oldSelf.status.green.digest : "") && (has(self.spec.green.revision) ? self.spec.green.revision : "") == (has(oldSelf.status.green.revision) ? oldSelf.status.green.revision : ""))`,message="green serves traffic; deploy to blue and switch"
// +kubebuilder:validation:XValidation:rule="oldSelf.hasValue() || (size(self.metadata.name) <= 36 && self.metadata.name.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$'))",optionalOldSelf=true,message="metadata.name must be a DNS-1035 label (lower-case letters, digits and '-', starting with a letter) of at most 36 characters, so that every child name, e.g. <name>-post-switch-green-<hash>, fits in 63"
type MagentoRelease struct {
	metav1.TypeMeta `json:",inline"`

	// metadata is the object's metadata; children are named from metadata.name.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec declares the slots and which one serves traffic.
	// +required
	Spec MagentoReleaseSpec `json:"spec"`

	// status is what the operator observed and did.
	// +optional
	Status MagentoReleaseStatus `json:"status,omitempty"`
}

// MagentoReleaseList is a list of MagentoReleases.
// +kubebuilder:object:root=true
type MagentoReleaseList struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`
	// items are the releases.
	Items []MagentoRelease `json:"items"`
}
