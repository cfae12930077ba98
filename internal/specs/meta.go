// Package specs builds the desired child objects of a MagentoRelease. Every
// function is pure: it takes the release (and the slot) and returns an object,
// with no client and no I/O.
package specs

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
)

// Component is one part of the shop, and the value of app.kubernetes.io/component.
type Component string

// The components of a slot, and the hooks.
const (
	Web        Component = "web"
	PHPFPM     Component = "php-fpm"
	Cron       Component = "cron"
	Consumer   Component = "consumer"
	Migration  Component = "migration"
	PostSwitch Component = "post-switch"
	// Verification is the Job that runs spec.verification.command.
	Verification Component = "verification"
)

// SlotComponents are the Deployments of a slot, in the order they are applied.
var SlotComponents = []Component{Web, PHPFPM, Cron, Consumer}

// Served are the components behind Services, gated by readiness and autoscaled.
var Served = []Component{Web, PHPFPM}

// Labels and annotations of the objects the operator builds.
const (
	LabelName      = "app.kubernetes.io/name"
	LabelInstance  = "app.kubernetes.io/instance"
	LabelComponent = "app.kubernetes.io/component"
	LabelManagedBy = "app.kubernetes.io/managed-by"
	LabelColor     = "magento.ops.dev/color"

	// ManagedBy is the value of app.kubernetes.io/managed-by on every child.
	ManagedBy = "magento-operator"

	// AnnotationTag, AnnotationDigest and AnnotationRevision record on a
	// Deployment the slot version it was rendered for.
	AnnotationTag      = "magento.ops.dev/tag"
	AnnotationDigest   = "magento.ops.dev/digest"
	AnnotationRevision = "magento.ops.dev/revision"
	// AnnotationTemplateHash records the hash of the rendered pod template,
	// to tell when the spec's shared settings moved on (status outdated).
	AnnotationTemplateHash = "magento.ops.dev/template-hash"
	// AnnotationSwitch records on Services <name> and <name>-php-fpm where
	// the operator last pointed them (see Switch).
	AnnotationSwitch = "magento.ops.dev/switch"
)

// PHPFPMPort is the FastCGI port of php-fpm.
const PHPFPMPort = 9000

// ServicePort is the port of the web Services.
const ServicePort = 80

// Labels are the labels of every child of r of the given component.
func Labels(r *v1alpha1.MagentoRelease, c Component) map[string]string {
	return map[string]string{
		LabelName:      "magento",
		LabelInstance:  r.Name,
		LabelComponent: string(c),
		LabelManagedBy: ManagedBy,
	}
}

// SlotLabels are the labels of a slot's objects and pods.
func SlotLabels(r *v1alpha1.MagentoRelease, color v1alpha1.Color, c Component) map[string]string {
	l := Labels(r, c)
	l[LabelColor] = string(color)
	return l
}

// Selector selects the pods of one component of one slot.
func Selector(r *v1alpha1.MagentoRelease, color v1alpha1.Color, c Component) map[string]string {
	return map[string]string{
		LabelInstance:  r.Name,
		LabelComponent: string(c),
		LabelColor:     string(color),
	}
}

// SlotName is the name of a slot object: <name>-<component>-<color>.
func SlotName(r *v1alpha1.MagentoRelease, c Component, color v1alpha1.Color) string {
	return r.Name + "-" + string(c) + "-" + string(color)
}

// objectMeta is the metadata of a child, owned by r through a controller reference.
func objectMeta(r *v1alpha1.MagentoRelease, name string, labels map[string]string) metav1.ObjectMeta {
	return metav1.ObjectMeta{
		Name:            name,
		Namespace:       r.Namespace,
		Labels:          labels,
		OwnerReferences: []metav1.OwnerReference{OwnerReference(r)},
	}
}

// OwnerReference is the controller reference of r's children.
func OwnerReference(r *v1alpha1.MagentoRelease) metav1.OwnerReference {
	yes := true
	return metav1.OwnerReference{
		APIVersion:         v1alpha1.GroupVersion.String(),
		Kind:               "MagentoRelease",
		Name:               r.Name,
		UID:                r.UID,
		Controller:         &yes,
		BlockOwnerDeletion: &yes,
	}
}

// hash is a short, stable hash of v's JSON form.
func hash(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only plain API structs are hashed; they always marshal
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])[:10]
}

// VersionHash is a short hash of a slot version (tag, digest, revision),
// used in the names of the Jobs of that version.
func VersionHash(v v1alpha1.Slot) string { return hash(v)[:8] }
