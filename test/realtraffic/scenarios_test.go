package realtraffic

import (
	"testing"
	"time"

	"github.com/magento-operator/magento-operator/test/loadgen"
)

func TestSummarize(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	r := loadgen.Report{Steps: []*loadgen.Step{
		{Name: "start", Requests: 100, ByColor: map[string]int{"blue": 100}, Started: at(0)},
		{Name: "asked blue->green 1", Requests: 30, ByColor: map[string]int{"blue": 30}, Started: at(500)},
		{Name: "switched blue->green 1", Requests: 200, Failed: 2, ByColor: map[string]int{"blue": 18, "green": 180},
			Started: at(650), LastSent: map[string]time.Time{"blue": at(900), "green": at(1640)}},
		// Pooled connections still on blue after the switch step count too.
		{Name: "scale-down 1", Requests: 50, Failed: 1, ByColor: map[string]int{"blue": 4, "green": 45},
			Started: at(1650), LastSent: map[string]time.Time{"blue": at(1700), "green": at(1900)}},
		{Name: "asked green->blue 2", Requests: 20, ByColor: map[string]int{"green": 20}, Started: at(2000),
			LastSent: map[string]time.Time{"green": at(2090)}},
		{Name: "switched green->blue 2", Requests: 100, ByColor: map[string]int{"green": 5, "blue": 95},
			Started: at(2100), LastSent: map[string]time.Time{"green": at(2300), "blue": at(2600)}},
	}}
	got := summarize("switches", true, r, nil)
	if got.Requests != 500 || got.Failed != 3 || got.OldAfterSwitch != 27 || got.OldTail != 1050*time.Millisecond {
		t.Errorf("%+v", got)
	}
	if want := "real traffic: switches: 500 requests, 3 failed, 27 answered by the old slot after the switch"; got.Line() != want {
		t.Errorf("line %q, want %q", got.Line(), want)
	}
	// Counting only some steps keeps the windows the others open.
	scale := summarize("scale-downs", true, r, prefixed([]string{"scale"}))
	if scale.Requests != 50 || scale.Failed != 1 || scale.OldAfterSwitch != 4 || scale.OldTail != 1050*time.Millisecond {
		t.Errorf("%+v", scale)
	}
}
