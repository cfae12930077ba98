package v1alpha1_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
	"github.com/magento-operator/magento-operator/internal/specs"
	"github.com/magento-operator/magento-operator/test/builder"
)

// postSwitchSuffix is the suffix of the longest child name, the post-switch
// Job <name>-post-switch-green-<8 hex characters>. It is spelled out here
// rather than built with specs.PostSwitchJobName, whose parameters are not
// part of the API.
var postSwitchSuffix = "-post-switch-" + string(v1alpha1.Green) + "-" + strings.Repeat("f", 8)

// TestChildNamesFitForTheLongestName builds every child name of a release
// whose name has MaxNameLength characters: each must be a DNS-1035 label
// (which also means at most 63 characters).
func TestChildNamesFitForTheLongestName(t *testing.T) {
	r := builder.MakeRelease("", strings.Repeat("m", v1alpha1.MaxNameLength)).Obj()
	version := v1alpha1.Slot{Tag: "_" + strings.Repeat("a", 127), Digest: digestA, Revision: strings.Repeat("9", 63)}

	names := []string{r.Name, specs.PreviewServiceName(r)}
	for _, c := range specs.Served {
		names = append(names, specs.ActiveServiceName(r, c))
	}
	for _, color := range []v1alpha1.Color{v1alpha1.Blue, v1alpha1.Green} {
		for _, c := range specs.SlotComponents {
			names = append(names, specs.SlotName(r, c, color))
		}
		names = append(names, specs.MigrationJobName(r, color, version), r.Name+"-post-switch-"+string(color)+"-"+strings.Repeat("f", 8),
			specs.VerificationJobName(r, color, version, time.Now(), true))
	}
	for _, n := range names {
		if errs := validation.IsDNS1035Label(n); len(errs) > 0 {
			t.Errorf("child name %q (%d characters) is not a valid name: %s", n, len(n), strings.Join(errs, "; "))
		}
		if suffix := len(n) - len(r.Name); suffix > len(postSwitchSuffix) {
			t.Errorf("child name %q has a suffix of %d characters, longer than the post-switch Job's %d that MaxNameLength is derived from",
				n, suffix, len(postSwitchSuffix))
		}
	}

	// The limit is tight: one character more and the post-switch Job name no longer fits.
	if got := v1alpha1.MaxNameLength + len(postSwitchSuffix); got != validation.DNS1035LabelMaxLength {
		t.Errorf("MaxNameLength %d + len(%q) = %d, want %d", v1alpha1.MaxNameLength, postSwitchSuffix, got, validation.DNS1035LabelMaxLength)
	}
	// The Job name hashes are 8 characters long, as postSwitchSuffix assumes.
	migrate := specs.MigrationJobName(r, v1alpha1.Green, version)
	if h := migrate[strings.LastIndex(migrate, "-")+1:]; len(h) != 8 {
		t.Errorf("the migration Job %q carries a hash of %d characters, postSwitchSuffix assumes 8", migrate, len(h))
	}
}

// TestNameRuleMatchesMaxNameLength fails when the CEL rule on metadata.name in
// the generated CRD and MaxNameLength drift apart (markers cannot refer to a
// Go constant, so the number is written twice).
func TestNameRuleMatchesMaxNameLength(t *testing.T) {
	crd := generatedCRD(t)
	var found []apiextensionsv1.ValidationRule
	for _, rule := range crd.Spec.Versions[0].Schema.OpenAPIV3Schema.XValidations {
		if strings.Contains(rule.Rule, "self.metadata.name") {
			found = append(found, rule)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want one root rule on self.metadata.name in the CRD, found %d: %v", len(found), found)
	}
	rule := found[0]
	for _, want := range []string{
		fmt.Sprintf("size(self.metadata.name) <= %d", v1alpha1.MaxNameLength),
		`'^[a-z]([-a-z0-9]*[a-z0-9])?$'`, // a DNS-1035 label, as validation.IsDNS1035Label checks
	} {
		if !strings.Contains(rule.Rule, want) {
			t.Errorf("the rule %q does not contain %q", rule.Rule, want)
		}
	}
	if want := fmt.Sprintf("at most %d characters", v1alpha1.MaxNameLength); !strings.Contains(rule.Message, want) {
		t.Errorf("the message %q does not contain %q", rule.Message, want)
	}
}
