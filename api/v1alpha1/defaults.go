package v1alpha1

import "time"

// Defaults of the spec. The API server fills them in (the CRD's
// +kubebuilder:default markers); the accessors below apply them once more
// for objects stored before a default existed, and are the only place the
// operator reads these fields. TestCodeDefaultsMatchTheCRD keeps each
// constant equal to its marker, and TestDocsCoverEveryField keeps
// docs/api.md equal to the CRD.
const (
	DefaultWebReplicas        int32 = 2
	DefaultPHPFPMReplicas     int32 = 2
	DefaultConsumerReplicas   int32 = 1
	DefaultMinReplicas        int32 = 1
	DefaultTargetCPU          int32 = 80
	DefaultMigrationBackoff   int32 = 1
	DefaultIdleScaleDownAfter       = 24 * time.Hour
	DefaultProgressDeadline   int32 = 600
	DefaultCheckPath                = "/health_check.php"
	DefaultCheckStatus        int32 = 200
	DefaultCheckWindow              = 5 * time.Minute
	DefaultCheckInterval            = 10 * time.Second
)

func or[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

// WebReplicas is spec.web.replicas.
func (s *MagentoReleaseSpec) WebReplicas() int32 { return or(s.Web.Replicas, DefaultWebReplicas) }

// PHPFPMReplicas is spec.phpFpm.replicas.
func (s *MagentoReleaseSpec) PHPFPMReplicas() int32 {
	return or(s.PHPFPM.Replicas, DefaultPHPFPMReplicas)
}

// CronEnabled is spec.cron.enabled.
func (s *MagentoReleaseSpec) CronEnabled() bool { return or(s.Cron.Enabled, true) }

// ConsumersEnabled is spec.consumer.enabled.
func (s *MagentoReleaseSpec) ConsumersEnabled() bool { return or(s.Consumer.Enabled, true) }

// ConsumerReplicas is spec.consumer.replicas.
func (s *MagentoReleaseSpec) ConsumerReplicas() int32 {
	return or(s.Consumer.Replicas, DefaultConsumerReplicas)
}

// PreviewEnabled is spec.preview.enabled.
func (s *MagentoReleaseSpec) PreviewEnabled() bool { return or(s.Preview.Enabled, true) }

// IdleScaleDownEnabled is spec.idleScaleDown.enabled.
func (s *MagentoReleaseSpec) IdleScaleDownEnabled() bool { return or(s.IdleScaleDown.Enabled, true) }

// IdleScaleDownAfter is spec.idleScaleDown.after.
func (s *MagentoReleaseSpec) IdleScaleDownAfter() time.Duration {
	if s.IdleScaleDown.After == nil {
		return DefaultIdleScaleDownAfter
	}
	return s.IdleScaleDown.After.Duration
}

// ProgressDeadline is spec.progressDeadlineSeconds.
func (s *MagentoReleaseSpec) ProgressDeadline() time.Duration {
	return time.Duration(or(s.ProgressDeadlineSeconds, DefaultProgressDeadline)) * time.Second
}

// Min is minReplicas.
func (a *Autoscaling) Min() int32 { return or(a.MinReplicas, DefaultMinReplicas) }

// TargetCPU is targetCPUUtilizationPercentage.
func (a *Autoscaling) TargetCPU() int32 {
	return or(a.TargetCPUUtilizationPercentage, DefaultTargetCPU)
}

// Backoff is spec.migration.backoffLimit.
func (m *MigrationSpec) Backoff() int32 { return or(m.BackoffLimit, DefaultMigrationBackoff) }
