// Package bluegreen is the blue/green state machine of a MagentoRelease: a
// pure function from the release, what was observed of its children and the
// time, to what the children should be, what the status says and when to
// look again. It makes no client calls, so tables test every transition.
package bluegreen

import (
	"time"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
	"github.com/magento-operator/magento-operator/internal/specs"
)

// DeploymentState is what was observed of one Deployment.
type DeploymentState struct {
	// Version is the slot version the Deployment was rendered for.
	Version v1alpha1.Slot
	// SpecReplicas is spec.replicas (set by the operator or an HPA).
	SpecReplicas int32
	// Pods is the number of pods that exist, terminating ones included:
	// status.replicas plus terminating ones, or the pods seen, if more (rule 13).
	Pods int32
	// Current is true when status.observedGeneration >= metadata.generation.
	Current bool
	// Ready is rule 1 (docs/api.md): current, and updated == available ==
	// status.replicas == spec.replicas.
	Ready bool
	// KeptStopped is true when no generation of the Deployment can have
	// started a pod: it was created with zero replicas, or seen rolled out
	// with none left, and every generation since asked for zero. Its status
	// may lag behind (a deploy renders an idle slot's cron again) without
	// making it any less gone.
	KeptStopped bool
}

// Gone is true when the Deployment runs no pods and will start none.
func (d *DeploymentState) Gone() bool {
	return d == nil || (d.SpecReplicas == 0 && d.Pods == 0 && (d.Current || d.KeptStopped))
}

// SlotObservation is what was observed of one slot.
type SlotObservation struct {
	// Deployments by component; a missing key means the Deployment does not exist.
	Deployments map[specs.Component]*DeploymentState
	// Outdated is true when the slot's templates differ from what the spec's
	// shared settings would render at the slot's version.
	Outdated bool
	// Service is true when Service <name>-php-fpm-<color>, which the slot's
	// nginx sends PHP to, exists and is the release's.
	Service bool
}

// Exists is true when the served Deployments of the slot exist.
func (o SlotObservation) Exists() bool {
	return o.Deployments[specs.Web] != nil && o.Deployments[specs.PHPFPM] != nil
}

// JobState is what was observed of a Job.
type JobState int

// The states of a Job; the zero value is a Job that does not exist.
const (
	JobAbsent JobState = iota
	JobRunning
	JobSucceeded
	JobFailed
)

// JobPlan is a Job to start (created once; never changed).
type JobPlan struct {
	Component specs.Component // specs.Migration or specs.PostSwitch
	Color     v1alpha1.Color
	Version   v1alpha1.Slot
	// At is the time of the switch a post-switch or verification Job
	// belongs to.
	At time.Time
	// After is set for a verification Job run after the switch.
	After bool
}

// Traffic is what was observed of Services <name> and <name>-php-fpm.
type Traffic struct {
	// Selects is the slot both Services select; "" when either is missing
	// or not the release's, or when they disagree.
	Selects v1alpha1.Color
	// Switches are the switches recorded on them (specs.AnnotationSwitch),
	// one per Service that carries one.
	Switches []specs.Switch
}

// Input is everything the decision depends on.
type Input struct {
	Release *v1alpha1.MagentoRelease
	Slots   map[v1alpha1.Color]SlotObservation
	// Traffic is where the Services point, and the operator's record of it.
	Traffic Traffic
	// Owned holds "<Kind>/<name>" of every Service and Ingress that exists
	// and is the release's.
	Owned map[string]bool
	// Jobs are the release's migration, verification and post-switch Jobs,
	// by name.
	Jobs map[string]JobState
	// Outputs are what finished migration and verification Jobs said, by
	// name: exit code and first lines of their termination message. A Job
	// missing here said nothing the controller could read.
	Outputs map[string]string
	// LastCheck is when the last round of checks after a switch ran (zero
	// when unknown, e.g. after a restart: a round is then due).
	LastCheck time.Time
	Now       time.Time
}

// Bounds are the replica bounds of an HPA.
type Bounds struct{ Min, Max int32 }

// SlotPlan is what one slot's objects should be.
type SlotPlan struct {
	// Version is the slot version the Deployments should run. A Deployment
	// rendered for another version is rendered again only when Render is set;
	// otherwise its pod template is left exactly as it is (rule 4).
	Version v1alpha1.Slot
	Render  bool
	// WebWaits is set while a deploy renders php-fpm (and cron and
	// consumers) but not yet nginx: nginx is rendered once php-fpm runs the
	// new version, ready, so that the new nginx pods' readiness checks reach
	// the new php-fpm only, never the old one still running beside it.
	WebWaits bool
	// Replicas of each component's Deployment; a component without an entry
	// has no Deployment (cron or consumers disabled).
	Replicas map[specs.Component]int32
	// HPAs by served component; none without autoscaling or while scaled down.
	HPAs map[specs.Component]Bounds
	// Running is false once the slot is scaled down; PDBs exist while it runs.
	Running bool
}

// Event is a Kubernetes Event to record once the plan is applied.
type Event struct {
	Warning bool
	Reason  string
	Message string
}

// Plan is the outcome of a decision.
type Plan struct {
	// Active is the slot <name> and <name>-php-fpm select.
	Active v1alpha1.Color
	// Switch is recorded on <name> and <name>-php-fpm with their selectors.
	Switch specs.Switch
	// Preview is the slot <name>-preview selects, "" for no preview Service.
	Preview v1alpha1.Color
	// Slots holds the plan of each slot that exists; a slot missing here has
	// its objects deleted.
	Slots map[v1alpha1.Color]*SlotPlan
	// Jobs are the Jobs that should exist.
	Jobs []JobPlan
	// Check is a round of HTTP checks to run now, nil for none.
	Check *Check
	// Status is the status to record.
	Status v1alpha1.MagentoReleaseStatus
	// Events are recorded after the plan is applied.
	Events []Event
	// RequeueAfter is when to look again for a time-based transition; 0 for none.
	RequeueAfter time.Duration
}
