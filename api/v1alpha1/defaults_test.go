package v1alpha1_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
)

// TestCodeDefaultsMatchTheCRD keeps the defaults the accessors apply equal
// to the ones the API server applies (the CRD's markers): read off a spec
// with nothing set, each accessor must give the CRD's default.
func TestCodeDefaultsMatchTheCRD(t *testing.T) {
	root := generatedCRD(t).Spec.Versions[0].Schema.OpenAPIV3Schema
	var spec v1alpha1.MagentoReleaseSpec
	hpa, migration, verification := &v1alpha1.Autoscaling{}, &v1alpha1.MigrationSpec{}, &v1alpha1.VerificationSpec{}
	checks := (&v1alpha1.VerificationSpec{Checks: []v1alpha1.HTTPCheck{{Path: "/"}}}).HTTPChecks()
	for path, code := range map[string]any{
		"spec.web.replicas":                                   spec.WebReplicas(),
		"spec.phpFpm.replicas":                                spec.PHPFPMReplicas(),
		"spec.cron.enabled":                                   spec.CronEnabled(),
		"spec.consumer.enabled":                               spec.ConsumersEnabled(),
		"spec.consumer.replicas":                              spec.ConsumerReplicas(),
		"spec.preview.enabled":                                spec.PreviewEnabled(),
		"spec.idleScaleDown.enabled":                          spec.IdleScaleDownEnabled(),
		"spec.idleScaleDown.after":                            spec.IdleScaleDownAfter(),
		"spec.progressDeadlineSeconds":                        spec.ProgressDeadline() / time.Second,
		"spec.web.autoscaling.minReplicas":                    hpa.Min(),
		"spec.web.autoscaling.targetCPUUtilizationPercentage": hpa.TargetCPU(),
		"spec.phpFpm.autoscaling.minReplicas":                 hpa.Min(),
		"spec.migration.backoffLimit":                         migration.Backoff(),
		"spec.verification.window":                            verification.CheckWindow(),
		"spec.verification.interval":                          verification.CheckInterval(),
		"spec.verification.switchBack":                        verification.SwitchesBack(),
		"spec.verification.checks.status":                     checks[0].Status,
	} {
		s := schemaAt(root, path)
		if s == nil || s.Default == nil {
			t.Errorf("the CRD has no default for %s", path)
			continue
		}
		var crd any
		if err := json.Unmarshal(s.Default.Raw, &crd); err != nil {
			t.Fatal(err)
		}
		if d, ok := code.(time.Duration); ok && path != "spec.progressDeadlineSeconds" {
			parsed, err := time.ParseDuration(fmt.Sprint(crd))
			if err != nil || parsed != d {
				t.Errorf("%s: the code's default is %s, the CRD's %v", path, d, crd)
			}
			continue
		}
		if d, ok := code.(time.Duration); ok {
			code = int64(d)
		}
		if fmt.Sprint(code) != fmt.Sprint(crd) {
			t.Errorf("%s: the code's default is %v, the CRD's %v", path, code, crd)
		}
	}
}
