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

// MagentoRelease runs a Magento 2 shop as two slots, blue and green, and
// moves traffic between them.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=mrel
// +kubebuilder:printcolumn:name="Active",type=string,JSONPath=`.status.activeColor`
// +kubebuilder:printcolumn:name="Desired",type=string,JSONPath=`.spec.activeColor`
// +kubebuilder:printcolumn:name="Blue",type=string,JSONPath=`.spec.blue.tag`
// +kubebuilder:printcolumn:name="Green",type=string,JSONPath=`.spec.green.tag`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
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
