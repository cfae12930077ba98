package realtraffic

import (
	"testing"

	"github.com/magento-operator/magento-operator/test/loadgen"
)

func TestSummarize(t *testing.T) {
	r := loadgen.Report{Steps: []*loadgen.Step{
		{Name: "start", Requests: 100, ByColor: map[string]int{"blue": 100}},
		{Name: "asked blue->green 1", Requests: 30, ByColor: map[string]int{"blue": 30}},
		{Name: "switched blue->green 1", Requests: 200, Failed: 2, ByColor: map[string]int{"blue": 18, "green": 180}},
		{Name: "asked green->blue 2", Requests: 20, ByColor: map[string]int{"green": 20}},
		{Name: "switched green->blue 2", Requests: 100, ByColor: map[string]int{"green": 5, "blue": 95}},
		{Name: "scale-down 1", Requests: 50, Failed: 1, ByColor: map[string]int{"blue": 49}},
	}}
	got := summarize("switches", true, r)
	if got.Requests != 500 || got.Failed != 3 || got.OldAfterSwitch != 23 {
		t.Errorf("%+v", got)
	}
	if want := "real traffic: switches: 500 requests, 3 failed, 23 answered by the old slot after the switch"; got.Line() != want {
		t.Errorf("line %q, want %q", got.Line(), want)
	}
}
