// Package realtraffic runs the operator's blue/green scenarios under real
// load on the real single-node cluster (test/realcluster) and counts the
// requests that failed and the ones the old slot answered after a switch.
package realtraffic

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
	"github.com/magento-operator/magento-operator/test/loadgen"
)

// Env is what a scenario needs of the cluster.
type Env struct {
	Client client.Client
	// InCluster returns a command that runs inside the cluster's network
	// namespace, where Service addresses route.
	InCluster func(ctx context.Context, name string, args ...string) *exec.Cmd
	// Loadgen is the path of the hack/loadgen binary.
	Loadgen string
	// Rate is requests per second of each load generator.
	Rate int
	// Timeout bounds each wait for the operator.
	Timeout time.Duration
	Logf    func(format string, args ...any)
}

// Result is one scenario's outcome under one kind of load.
type Result struct {
	Scenario  string
	KeepAlive bool
	Requests  int
	Failed    int
	// OldAfterSwitch counts the answers the old slot gave after the
	// Services had moved away from it.
	OldAfterSwitch int
	// OldTail is the longest time after a switch that the old slot was
	// still sent a request it answered.
	OldTail time.Duration
	Report  loadgen.Report
}

// Line is the line `make test-real` prints for the result.
func (r Result) Line() string {
	return fmt.Sprintf("real traffic: %s: %d requests, %d failed, %d answered by the old slot after the switch",
		r.Scenario, r.Requests, r.Failed, r.OldAfterSwitch)
}

// Connections names a kind of load: pooled connections or one per request.
func Connections(keepAlive bool) string {
	if keepAlive {
		return "keep-alive"
	}
	return "new connections"
}

// Step is one action of a scenario, run while the load runs; it marks the
// steps the report counts by.
type Step func(ctx context.Context, e Env, rel *v1alpha1.MagentoRelease, mark func(string) error) error

// Run runs steps under one load generator per kind of load in keepAlive,
// all at once, and returns each one's report, in the same order.
func (e Env) Run(ctx context.Context, rel *v1alpha1.MagentoRelease, keepAlive []bool, steps ...Step) ([]loadgen.Report, error) {
	var loads []*load
	stop := func() ([]loadgen.Report, error) {
		reports := make([]loadgen.Report, 0, len(loads))
		errs := make([]error, 0, len(loads))
		for _, l := range loads {
			r, err := l.stop()
			reports = append(reports, r)
			errs = append(errs, err)
		}
		return reports, errors.Join(errs...)
	}
	for _, k := range keepAlive {
		l, err := e.startLoad(ctx, rel, k)
		if err != nil {
			_, _ = stop()
			return nil, err
		}
		loads = append(loads, l)
	}
	mark := func(name string) error {
		for _, l := range loads {
			if err := l.mark(name); err != nil {
				return err
			}
		}
		return nil
	}
	var runErr error
	for _, s := range steps {
		if runErr = s(ctx, e, rel, mark); runErr != nil {
			break
		}
	}
	reports, err := stop()
	if runErr != nil {
		return nil, runErr
	}
	return reports, err
}

// summarize sums the steps of a report that keep accepts (all when keep is
// nil): requests, failures, and the answers of the old slot after a switch.
// A switch is the step "switched <from>-><to> …", marked once both Services
// were seen on <to>; from then until the next switch is asked for ("asked
// …"), every answer by <from> is the old slot's.
func summarize(scenario string, keepAlive bool, report loadgen.Report, keep func(string) bool) Result {
	res := Result{Scenario: scenario, KeepAlive: keepAlive, Report: report}
	var old string
	var switched time.Time
	for _, s := range report.Steps {
		if rest, ok := strings.CutPrefix(s.Name, "switched "); ok {
			old, _, _ = strings.Cut(rest, "->")
			switched = s.Started
		} else if strings.HasPrefix(s.Name, "asked ") {
			old = ""
		}
		if keep != nil && !keep(s.Name) {
			continue
		}
		res.Requests += s.Requests
		res.Failed += s.Failed
		if old == "" {
			continue
		}
		res.OldAfterSwitch += s.ByColor[old]
		if last, ok := s.LastSent[old]; ok && last.Sub(switched) > res.OldTail {
			res.OldTail = last.Sub(switched)
		}
	}
	return res
}

// prefixed keeps the step names that start with one of prefixes.
func prefixed(prefixes []string) func(string) bool {
	return func(name string) bool {
		return slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(name, p) })
	}
}
