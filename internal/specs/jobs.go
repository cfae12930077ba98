package specs

import (
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
)

// DefaultMigrationCommand upgrades the shared schema to the new code.
var DefaultMigrationCommand = []string{"php", "bin/magento", "setup:upgrade", "--keep-generated"}

// jobTTLSeconds keeps a finished Job, and its pod's logs, for a day. The
// operator's record of a migration is in status, so the clean-up never
// causes a rerun.
const jobTTLSeconds = 24 * 60 * 60

// Jobs run with php-fpm's resources: setup:upgrade needs what PHP needs.

// jobGracePeriodSeconds lets a hook finish what it is doing when stopped.
const jobGracePeriodSeconds = 300

// MigrationJobName is <name>-migrate-<color>-<hash of the slot version>.
func MigrationJobName(r *v1alpha1.MagentoRelease, color v1alpha1.Color, version v1alpha1.Slot) string {
	return r.Name + "-migrate-" + string(color) + "-" + VersionHash(version)
}

// PostSwitchJobName is <name>-post-switch-<color>-<hash>, the hash of the
// slot version and the time of the switch recorded on the Services: one name
// per switch, the same name however often the switch is recorded.
func PostSwitchJobName(r *v1alpha1.MagentoRelease, color v1alpha1.Color, version v1alpha1.Slot, at time.Time) string {
	return r.Name + "-post-switch-" + string(color) + "-" + hash([]string{version.Tag, version.Digest, version.Revision,
		at.UTC().Format(time.RFC3339Nano)})[:8]
}

// MigrationJob runs the schema migration with the slot's app image.
func MigrationJob(r *v1alpha1.MagentoRelease, color v1alpha1.Color, version v1alpha1.Slot) (*batchv1.Job, error) {
	command, backoff := DefaultMigrationCommand, int32(1)
	if m := r.Spec.Migration; m != nil {
		if len(m.Command) > 0 {
			command = m.Command
		}
		if m.BackoffLimit != nil {
			backoff = *m.BackoffLimit
		}
	}
	return job(r, MigrationJobName(r, color, version), Migration, color, version, command, backoff)
}

// PostSwitchJob runs spec.postSwitch.command with the new active slot's app
// image, for the switch at the given time.
func PostSwitchJob(r *v1alpha1.MagentoRelease, color v1alpha1.Color, version v1alpha1.Slot, at time.Time) (*batchv1.Job, error) {
	var command []string
	if r.Spec.PostSwitch != nil {
		command = r.Spec.PostSwitch.Command
	}
	return job(r, PostSwitchJobName(r, color, version, at), PostSwitch, color, version, command, 1)
}

func job(r *v1alpha1.MagentoRelease, name string, c Component, color v1alpha1.Color, version v1alpha1.Slot,
	command []string, backoff int32) (*batchv1.Job, error) {
	container, err := appContainer(r, string(c), version, command, nil, r.Spec.PHPFPM.Resources)
	if err != nil {
		return nil, err
	}
	pod := podSpec(r, jobGracePeriodSeconds, container)
	pod.RestartPolicy = corev1.RestartPolicyNever
	labels := SlotLabels(r, color, c)
	return &batchv1.Job{
		TypeMeta:   metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"},
		ObjectMeta: objectMeta(r, name, labels),
		Spec: batchv1.JobSpec{
			BackoffLimit:            ptr.To(backoff),
			TTLSecondsAfterFinished: ptr.To[int32](jobTTLSeconds),
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       pod,
			},
		},
	}, nil
}
