// This file holds the status types: what the operator observed of each
// slot and of the release, and did.

package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

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

	// phase is the release's health in one word, Healthy, Progressing or
	// Degraded, as Argo CD's health check for MagentoRelease tells it from
	// the conditions.
	// +optional
	Phase Phase `json:"phase,omitempty"`

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
