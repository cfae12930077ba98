// This file holds the spec types of the shop's components and shared
// settings: images, web, php-fpm, cron, consumers, pods, preview, Ingress
// and idle scale-down.

package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

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

	ContainerSettings `json:",inline"`
	ServingSettings   `json:",inline"`

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

	ContainerSettings `json:",inline"`
	ServingSettings   `json:",inline"`

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

	ContainerSettings `json:",inline"`
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

	ContainerSettings `json:",inline"`
}

// ContainerSettings are the settings of a component's container.
type ContainerSettings struct {
	// resources of the component's container.
	// +optional
	Resources corev1.ResourceRequirements `json:"resources,omitempty"`

	// securityContext of the component's container. Its fields replace the
	// operator's defaults one by one; what it leaves unset keeps them:
	// allowPrivilegeEscalation false and every capability dropped, as the
	// restricted Pod Security Standard asks. The pod runs as non-root with
	// the RuntimeDefault seccomp profile whatever is set here.
	// +optional
	SecurityContext *corev1.SecurityContext `json:"securityContext,omitempty"`
}

// ServingSettings are the settings of the components that serve traffic:
// web and php-fpm.
type ServingSettings struct {
	// readinessProbe replaces the default readiness probe of the component's
	// container. Web's decides when a slot may take traffic (rule 1): by
	// default it asks /health_check.php, through nginx to php-fpm.
	// +optional
	ReadinessProbe *corev1.Probe `json:"readinessProbe,omitempty"`

	// livenessProbe replaces the default liveness probe of the component's
	// container.
	// +optional
	LivenessProbe *corev1.Probe `json:"livenessProbe,omitempty"`

	// topologySpreadConstraints of the component's pods. Unset, each slot's
	// pods are spread across nodes (kubernetes.io/hostname) and zones
	// (topology.kubernetes.io/zone) as evenly as the scheduler can: maxSkew
	// 1, whenUnsatisfiable ScheduleAnyway, one rollout's pods at a time
	// (matchLabelKeys pod-template-hash). An empty list spreads nothing. A
	// constraint without labelSelector selects the component's pods of the
	// slot.
	// +optional
	// +listType=atomic
	TopologySpreadConstraints []corev1.TopologySpreadConstraint `json:"topologySpreadConstraints,omitempty"`
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
