// This file holds the spec types of what runs around a switch: the schema
// migration, the checks (spec.verification) and the post-switch Job.

package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

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
