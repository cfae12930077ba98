// Package builder makes the MagentoReleases that tests, the bench and the
// demo start from, in one fluent style, and holds the helpers every suite
// uses to read a release and its children back and to change it:
//
//	rel := builder.MakeRelease("stage", "shop").Green("main-2").Migration().Obj()
//
// A release made by MakeRelease is the smallest one the API server takes:
// blue active at tag main-1, with the shop's app and web images.
package builder

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
)

// Registry is where the images of a release made by MakeRelease are:
// <Registry>/php and <Registry>/nginx.
const Registry = "registry.example.com/shop"

// ReleaseWrapper builds a MagentoRelease; Obj returns it.
type ReleaseWrapper struct{ r v1alpha1.MagentoRelease }

// MakeRelease starts a release named name in namespace ns: blue active at
// tag main-1, images <Registry>/php and <Registry>/nginx.
func MakeRelease(ns, name string) *ReleaseWrapper {
	return &ReleaseWrapper{r: v1alpha1.MagentoRelease{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: v1alpha1.MagentoReleaseSpec{
			ActiveColor: v1alpha1.Blue,
			Blue:        &v1alpha1.Slot{Tag: "main-1"},
			Images:      v1alpha1.Images{App: Registry + "/php", Web: Registry + "/nginx"},
		},
	}}
}

// Obj returns the release built so far; later calls do not change it.
func (w *ReleaseWrapper) Obj() *v1alpha1.MagentoRelease { return w.r.DeepCopy() }

// With changes the release in any way the other methods do not.
func (w *ReleaseWrapper) With(change func(*v1alpha1.MagentoRelease)) *ReleaseWrapper {
	change(&w.r)
	return w
}

// Name sets metadata.name, dropping any generateName.
func (w *ReleaseWrapper) Name(name string) *ReleaseWrapper {
	w.r.Name, w.r.GenerateName = name, ""
	return w
}

// GenerateName names the release by the API server, from prefix.
func (w *ReleaseWrapper) GenerateName(prefix string) *ReleaseWrapper {
	w.r.Name, w.r.GenerateName = "", prefix
	return w
}

// UID sets metadata.uid, for objects that never reach an API server.
func (w *ReleaseWrapper) UID(uid types.UID) *ReleaseWrapper {
	w.r.UID = uid
	return w
}

// Generation sets metadata.generation, for objects that never reach an API server.
func (w *ReleaseWrapper) Generation(g int64) *ReleaseWrapper {
	w.r.Generation = g
	return w
}

// ResourceVersion sets metadata.resourceVersion, for objects that never reach an API server.
func (w *ReleaseWrapper) ResourceVersion(rv string) *ReleaseWrapper {
	w.r.ResourceVersion = rv
	return w
}

// Active sets spec.activeColor.
func (w *ReleaseWrapper) Active(c v1alpha1.Color) *ReleaseWrapper {
	w.r.Spec.ActiveColor = c
	return w
}

// Blue deploys tag to blue.
func (w *ReleaseWrapper) Blue(tag string) *ReleaseWrapper {
	w.r.Spec.Blue = &v1alpha1.Slot{Tag: tag}
	return w
}

// Green deploys tag to green.
func (w *ReleaseWrapper) Green(tag string) *ReleaseWrapper {
	w.r.Spec.Green = &v1alpha1.Slot{Tag: tag}
	return w
}

// Slots sets both slots as given; nil leaves a slot out.
func (w *ReleaseWrapper) Slots(blue, green *v1alpha1.Slot) *ReleaseWrapper {
	w.r.Spec.Blue, w.r.Spec.Green = blue, green
	return w
}

// Images sets the app (php-fpm, cron, consumer, Jobs) and web (nginx) images.
func (w *ReleaseWrapper) Images(app, web string) *ReleaseWrapper {
	w.r.Spec.Images.App, w.r.Spec.Images.Web = app, web
	return w
}

// Replicas sets the replicas of web and php-fpm.
func (w *ReleaseWrapper) Replicas(web, phpFPM int32) *ReleaseWrapper {
	w.r.Spec.Web.Replicas, w.r.Spec.PHPFPM.Replicas = ptr.To(web), ptr.To(phpFPM)
	return w
}

// WebPort sets the port nginx listens on.
func (w *ReleaseWrapper) WebPort(port int32) *ReleaseWrapper {
	w.r.Spec.Web.Port = port
	return w
}

// Pods places every pod: tolerations and node selector.
func (w *ReleaseWrapper) Pods(tolerations []corev1.Toleration, nodeSelector map[string]string) *ReleaseWrapper {
	w.r.Spec.Pod.Tolerations, w.r.Spec.Pod.NodeSelector = tolerations, nodeSelector
	return w
}

// Migration enables the default migration Job.
func (w *ReleaseWrapper) Migration() *ReleaseWrapper {
	w.r.Spec.Migration = &v1alpha1.MigrationSpec{Enabled: true}
	return w
}

// PostSwitch runs command as a Job after each switch.
func (w *ReleaseWrapper) PostSwitch(command ...string) *ReleaseWrapper {
	w.r.Spec.PostSwitch = &v1alpha1.PostSwitchSpec{Command: command}
	return w
}

// IdleAfter scales the idle slot down d after it last served or was deployed.
func (w *ReleaseWrapper) IdleAfter(d time.Duration) *ReleaseWrapper {
	w.r.Spec.IdleScaleDown.After = &metav1.Duration{Duration: d}
	return w
}

// NoIdleScaleDown keeps the idle slot running.
func (w *ReleaseWrapper) NoIdleScaleDown() *ReleaseWrapper {
	w.r.Spec.IdleScaleDown.Enabled = ptr.To(false)
	return w
}

// Deadline sets spec.progressDeadlineSeconds.
func (w *ReleaseWrapper) Deadline(seconds int32) *ReleaseWrapper {
	w.r.Spec.ProgressDeadlineSeconds = ptr.To(seconds)
	return w
}

// Ingress routes spec.ingress's hosts to the release's Services.
func (w *ReleaseWrapper) Ingress(spec v1alpha1.IngressSpec) *ReleaseWrapper {
	w.r.Spec.Ingress = &spec
	return w
}

// Verification sets spec.verification.
func (w *ReleaseWrapper) Verification(v v1alpha1.VerificationSpec) *ReleaseWrapper {
	w.r.Spec.Verification = &v
	return w
}

// Status sets the status, for objects that never reach an API server.
func (w *ReleaseWrapper) Status(st v1alpha1.MagentoReleaseStatus) *ReleaseWrapper {
	w.r.Status = st
	return w
}
