package specs

import (
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
)

// DefaultMigrationCommand asks Magento first and migrates only what it says
// is out of date: `setup:db:status` exits 0 when schema and data are
// current and 2 when `setup:upgrade` is needed; `app:config:status` exits 0
// when the config is current and 2 when `app:config:import` is needed. Any
// other exit code, or a failing upgrade or import, fails the Job with that
// code. `setup:upgrade` on a current schema still clears caches and takes
// time, so it is not run blindly.
//
// The script prints one line per step and writes them to the termination
// log ($TERMINATION_LOG, default /dev/termination-log) on success and
// failure, so the operator can read them from the pod's terminated state.
// It writes only when that file or its directory is writable: outside a
// container there is no termination log, and that is no error. It is POSIX
// sh: dash (Debian's /bin/sh) and busybox sh run it.
var DefaultMigrationCommand = []string{shell, "-c", `summary=
say() {
  printf '%s\n' "$1"
  summary="$summary$1
"
}
finish() {
  log="${TERMINATION_LOG:-/dev/termination-log}"
  if [ -w "$log" ] || [ -w "${log%/*}" ]; then
    { printf '%s' "$summary" > "$log"; } 2>/dev/null || :
  fi
  exit "$1"
}
step() {
  php bin/magento "$1"
  rc=$?
  case $rc in
  0) say "$1: exit 0, $2" ;;
  2)
    say "$1: exit 2, running $3"
    php bin/magento $3
    rc=$?
    if [ $rc -ne 0 ]; then
      say "$3: failed with exit $rc"
      finish $rc
    fi
    say "$3: done" ;;
  *)
    say "$1: failed with exit $rc"
    finish $rc ;;
  esac
}
step setup:db:status "schema and data are current" "setup:upgrade --keep-generated"
step app:config:status "config is current" "app:config:import"
finish 0`}

// jobTTLSeconds keeps a finished Job, and its pod's logs, for a day. The
// operator's record of a migration is in status, so the clean-up never
// causes a rerun.
const jobTTLSeconds = 24 * 60 * 60

// Jobs run with php-fpm's resources: setup:upgrade needs what PHP needs.

// jobGracePeriodSeconds lets a hook finish what it is doing when stopped.
const jobGracePeriodSeconds = 300

// Deadlines of the Jobs (activeDeadlineSeconds): a Job that hangs, on a
// locked table or an unreachable database say, fails and is reported
// (MigrationFailed for a migration), never waited on forever. Half an hour
// leaves a large migration room; a post-switch hook is a cache clean.
const (
	migrationDeadlineSeconds    = 30 * 60
	postSwitchDeadlineSeconds   = 10 * 60
	verificationDeadlineSeconds = 10 * 60
)

// MigrationJobName is <name>-migrate-<color>-<hash of the slot version>.
func MigrationJobName(r *v1alpha1.MagentoRelease, color v1alpha1.Color, version v1alpha1.Slot) string {
	return r.Name + "-migrate-" + string(color) + "-" + VersionHash(version)
}

// PostSwitchJobName is <name>-post-switch-<color>-<hash>, the hash of the
// slot version and the time of the switch recorded on the Services: one name
// per switch, the same name however often the switch is recorded.
func PostSwitchJobName(r *v1alpha1.MagentoRelease, color v1alpha1.Color, version v1alpha1.Slot, at time.Time) string {
	return timedJobName(r, "post-switch", color, version, at)
}

// timedJobName is <name>-<kind>-<color>-<hash>, the hash of the slot
// version, the words given, and the time.
func timedJobName(r *v1alpha1.MagentoRelease, kind string, color v1alpha1.Color, version v1alpha1.Slot, at time.Time,
	words ...string) string {
	parts := append([]string{version.Tag, version.Digest, version.Revision}, words...)
	return r.Name + "-" + kind + "-" + string(color) + "-" + hash(append(parts, at.UTC().Format(time.RFC3339Nano)))[:8]
}

// VerificationJobName is <name>-verify-<color>-<hash>, the hash of the slot
// version, whether the run is after the switch, and a time: for a run
// before the switch, when the pending switch started
// (status.switchStartTime); for a run after it, when its window of checks
// ends (status.checksUntil). One name per switch and per retry, so every
// switch to a slot checks it again.
func VerificationJobName(r *v1alpha1.MagentoRelease, color v1alpha1.Color, version v1alpha1.Slot, at time.Time, after bool) string {
	when := "before"
	if after {
		when = "after"
	}
	return timedJobName(r, "verify", color, version, at, when)
}

// VerificationJob runs spec.verification.command with the slot's app image,
// before the switch to the slot (after false) or after it (after true).
func VerificationJob(r *v1alpha1.MagentoRelease, color v1alpha1.Color, version v1alpha1.Slot, at time.Time, after bool) (*batchv1.Job, error) {
	var command []string
	if r.Spec.Verification != nil {
		command = r.Spec.Verification.Command
	}
	j, err := job(r, VerificationJobName(r, color, version, at, after), Verification, color, version, command, 0,
		verificationDeadlineSeconds)
	if err != nil {
		return nil, err
	}
	check, url := "before-switch", ""
	switch {
	case after:
		check, url = "after-switch", serviceURL(r, ActiveServiceName(r, Web))
	case r.Spec.PreviewEnabled():
		// Before the switch the target is the idle slot, which the preview
		// Service selects.
		url = serviceURL(r, PreviewServiceName(r))
	}
	c := &j.Spec.Template.Spec.Containers[0]
	c.Env = append([]corev1.EnvVar{{Name: "MAGENTO_SLOT", Value: string(color)}, {Name: "MAGENTO_CHECK", Value: check}}, c.Env...)
	if url != "" {
		c.Env = append(c.Env, corev1.EnvVar{Name: "MAGENTO_SLOT_URL", Value: url})
	}
	return j, nil
}

// serviceURL is the in-cluster address of a Service of the release.
func serviceURL(r *v1alpha1.MagentoRelease, service string) string {
	return "http://" + service + "." + r.Namespace + ".svc"
}

// MigrationJob runs the schema migration with the slot's app image.
func MigrationJob(r *v1alpha1.MagentoRelease, color v1alpha1.Color, version v1alpha1.Slot) (*batchv1.Job, error) {
	command, backoff := DefaultMigrationCommand, v1alpha1.DefaultMigrationBackoff
	if m := r.Spec.Migration; m != nil {
		if len(m.Command) > 0 {
			command = m.Command
		}
		backoff = m.Backoff()
	}
	return job(r, MigrationJobName(r, color, version), Migration, color, version, command, backoff,
		migrationDeadlineSeconds)
}

// PostSwitchJob runs spec.postSwitch.command with the new active slot's app
// image, for the switch at the given time.
func PostSwitchJob(r *v1alpha1.MagentoRelease, color v1alpha1.Color, version v1alpha1.Slot, at time.Time) (*batchv1.Job, error) {
	var command []string
	if r.Spec.PostSwitch != nil {
		command = r.Spec.PostSwitch.Command
	}
	return job(r, PostSwitchJobName(r, color, version, at), PostSwitch, color, version, command, 1,
		postSwitchDeadlineSeconds)
}

func job(r *v1alpha1.MagentoRelease, name string, c Component, color v1alpha1.Color, version v1alpha1.Slot,
	command []string, backoff int32, deadline int64) (*batchv1.Job, error) {
	// A Job runs the app image as php-fpm does, with its container settings.
	container, err := appContainer(r, string(c), version, command, nil, r.Spec.PHPFPM.ContainerSettings)
	if err != nil {
		return nil, err
	}
	// A command that writes no termination message (a custom one) gets the
	// last lines of its log as the message when it fails.
	container.TerminationMessagePolicy = corev1.TerminationMessageFallbackToLogsOnError
	pod := podSpec(r, jobGracePeriodSeconds, container)
	pod.RestartPolicy = corev1.RestartPolicyNever
	labels := SlotLabels(r, color, c)
	return &batchv1.Job{
		TypeMeta:   metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"},
		ObjectMeta: objectMeta(r, name, labels),
		Spec: batchv1.JobSpec{
			BackoffLimit:            ptr.To(backoff),
			ActiveDeadlineSeconds:   ptr.To(deadline),
			TTLSecondsAfterFinished: ptr.To[int32](jobTTLSeconds),
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       pod,
			},
		},
	}, nil
}
