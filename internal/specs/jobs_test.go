package specs_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
	"github.com/magento-operator/magento-operator/internal/specs"
	"github.com/magento-operator/magento-operator/test/builder"
)

func TestJobs(t *testing.T) {
	r := testRelease()
	v := v1alpha1.Slot{Tag: "main-2", Digest: "sha256:" + strings.Repeat("a", 64)}
	m, err := specs.MigrationJob(r, v1alpha1.Green, v)
	if err != nil {
		t.Fatal(err)
	}
	if m.Name != "shop-migrate-green-"+specs.VersionHash(v) || *m.Spec.BackoffLimit != 1 || *m.Spec.TTLSecondsAfterFinished != 86400 {
		t.Errorf("migration Job %s %+v", m.Name, m.Spec)
	}
	c := m.Spec.Template.Spec.Containers[0]
	if c.Image != builder.Registry+"/php:main-2@"+v.Digest || len(c.Env) != 1 || len(c.EnvFrom) != 1 || len(c.VolumeMounts) != 1 {
		t.Errorf("migration container %+v", c)
	}
	if diff := cmp.Diff(specs.DefaultMigrationCommand, c.Command); diff != "" {
		t.Errorf("command: %s", diff)
	}
	if m.Spec.Template.Spec.RestartPolicy != corev1.RestartPolicyNever || m.Labels[specs.LabelComponent] != "migration" {
		t.Errorf("pod %+v labels %v", m.Spec.Template.Spec.RestartPolicy, m.Labels)
	}
	if m.Spec.ActiveDeadlineSeconds == nil || *m.Spec.ActiveDeadlineSeconds != 1800 {
		t.Errorf("migration activeDeadlineSeconds %v, want 1800", m.Spec.ActiveDeadlineSeconds)
	}
	if c.TerminationMessagePolicy != corev1.TerminationMessageFallbackToLogsOnError {
		t.Errorf("migration terminationMessagePolicy %q", c.TerminationMessagePolicy)
	}
	r.Spec.Migration = &v1alpha1.MigrationSpec{Enabled: true, Command: []string{"true"}, BackoffLimit: ptr.To[int32](4)}
	m, _ = specs.MigrationJob(r, v1alpha1.Green, v)
	if m.Spec.Template.Spec.Containers[0].Command[0] != "true" || *m.Spec.BackoffLimit != 4 {
		t.Errorf("spec.migration ignored: %+v", m.Spec)
	}

	r.Spec.PostSwitch = &v1alpha1.PostSwitchSpec{Command: []string{"php", "bin/magento", "cache:clean", "full_page"}}
	at := time.Date(2026, 11, 23, 10, 0, 0, 123, time.UTC)
	p, err := specs.PostSwitchJob(r, v1alpha1.Green, v, at)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(p.Name, "shop-post-switch-green-") || p.Labels[specs.LabelComponent] != "post-switch" {
		t.Errorf("post-switch Job %s %v", p.Name, p.Labels)
	}
	if p.Spec.ActiveDeadlineSeconds == nil || *p.Spec.ActiveDeadlineSeconds != 600 {
		t.Errorf("post-switch activeDeadlineSeconds %v, want 600", p.Spec.ActiveDeadlineSeconds)
	}
	if pc := p.Spec.Template.Spec.Containers[0]; pc.TerminationMessagePolicy != corev1.TerminationMessageFallbackToLogsOnError ||
		pc.Command[2] != "cache:clean" {
		t.Errorf("post-switch container %+v", pc)
	}
	if p.Name != specs.PostSwitchJobName(r, v1alpha1.Green, v, at) {
		t.Error("post-switch name is not stable")
	}
	if p.Name == specs.PostSwitchJobName(r, v1alpha1.Green, v, at.Add(time.Nanosecond)) {
		t.Error("a later switch reuses the post-switch Job name")
	}
	r.Spec.Images.App = "Bad"
	if _, err := specs.MigrationJob(r, v1alpha1.Green, v); err == nil {
		t.Error("a Job with a bad image")
	}
}
