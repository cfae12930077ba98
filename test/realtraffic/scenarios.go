// Package realtraffic runs the operator's blue/green scenarios under real
// load on the real single-node cluster (test/realcluster) and counts the
// requests that failed and the ones the old slot answered after a switch.
package realtraffic

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
	"github.com/magento-operator/magento-operator/internal/specs"
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

// load is a running load generator.
type load struct {
	keepAlive bool
	cmd       *exec.Cmd
	marks     io.WriteCloser
	out       *strings.Builder
}

// startLoad starts the load generator against the release's public Service.
func (e Env) startLoad(ctx context.Context, rel *v1alpha1.MagentoRelease, keepAlive bool) (*load, error) {
	svc := &corev1.Service{}
	if err := e.Client.Get(ctx, client.ObjectKey{Namespace: rel.Namespace, Name: rel.Name}, svc); err != nil {
		return nil, err
	}
	url := "http://" + svc.Spec.ClusterIP + "/"
	cmd := e.InCluster(ctx, e.Loadgen, "-url", url, fmt.Sprintf("-rate=%d", e.Rate), fmt.Sprintf("-keepalive=%t", keepAlive),
		"-max-duration=20m")
	marks, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	l := &load{keepAlive: keepAlive, cmd: cmd, marks: marks, out: &strings.Builder{}}
	cmd.Stdout = l.out
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *load) mark(name string) error {
	_, err := fmt.Fprintln(l.marks, name)
	return err
}

func (l *load) stop() (loadgen.Report, error) {
	_ = l.marks.Close()
	if err := l.cmd.Wait(); err != nil {
		return loadgen.Report{}, fmt.Errorf("load generator: %w", err)
	}
	var r loadgen.Report
	err := json.NewDecoder(bufio.NewReader(strings.NewReader(l.out.String()))).Decode(&r)
	return r, err
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

// Switch asks for a switch to the other slot, marks the moment the Services
// move ("switched blue->green 3") and waits until the release is Ready there.
func Switch(n int) Step {
	return func(ctx context.Context, e Env, rel *v1alpha1.MagentoRelease, mark func(string) error) error {
		_, to, err := e.switchOver(ctx, rel, n, mark)
		if err != nil {
			return err
		}
		return e.waitFor(ctx, "release Ready on "+string(to), func() (bool, error) { return e.ready(ctx, rel, to) })
	}
}

// switchOver asks for a switch to the slot that does not serve ("asked
// blue->green n") and marks the moment both Services select it
// ("switched blue->green n").
func (e Env) switchOver(ctx context.Context, rel *v1alpha1.MagentoRelease, n int, mark func(string) error) (from, to v1alpha1.Color, err error) {
	cur, err := e.get(ctx, rel)
	if err != nil {
		return "", "", err
	}
	from = cur.Status.ActiveColor
	to = from.Other()
	if err := mark(fmt.Sprintf("asked %s->%s %d", from, to, n)); err != nil {
		return "", "", err
	}
	if err := e.change(ctx, rel, func(r *v1alpha1.MagentoRelease) { r.Spec.ActiveColor = to }); err != nil {
		return "", "", err
	}
	if err := e.waitFor(ctx, "Services on "+string(to), func() (bool, error) { return e.servicesOn(ctx, rel, to) }); err != nil {
		return "", "", err
	}
	return from, to, mark(fmt.Sprintf("switched %s->%s %d", from, to, n))
}

// Wait lets the load run for d in a step of its own.
func Wait(name string, d time.Duration) Step {
	return func(ctx context.Context, _ Env, _ *v1alpha1.MagentoRelease, mark func(string) error) error {
		if err := mark(name); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(d):
			return nil
		}
	}
}

// ScaleDownIdle asks for the idle slot to be scaled down now and waits
// until its web pods are gone: from then on no request can reach the slot
// (only its own nginx talks to its php-fpm), whose php-fpm pods may still
// be draining when the next step begins.
func ScaleDownIdle(n int) Step {
	return func(ctx context.Context, e Env, rel *v1alpha1.MagentoRelease, mark func(string) error) error {
		if err := mark(fmt.Sprintf("scale-down %d", n)); err != nil {
			return err
		}
		if err := e.change(ctx, rel, func(r *v1alpha1.MagentoRelease) {
			if r.Annotations == nil {
				r.Annotations = map[string]string{}
			}
			r.Annotations[v1alpha1.AnnotationScaleDownIdle] = time.Now().UTC().Add(time.Second).Format(time.RFC3339)
		}); err != nil {
			return err
		}
		return e.waitFor(ctx, "idle slot scaled down", func() (bool, error) {
			cur, err := e.get(ctx, rel)
			if err != nil {
				return false, err
			}
			idle := cur.Status.SlotStatus(cur.Status.ActiveColor.Other())
			return idle != nil && idle.State == v1alpha1.SlotScaledDown && e.noPods(ctx, rel, cur.Status.ActiveColor.Other(), specs.Web), nil
		})
	}
}

func (e Env) get(ctx context.Context, rel *v1alpha1.MagentoRelease) (*v1alpha1.MagentoRelease, error) {
	cur := &v1alpha1.MagentoRelease{}
	return cur, e.Client.Get(ctx, client.ObjectKeyFromObject(rel), cur)
}

func (e Env) change(ctx context.Context, rel *v1alpha1.MagentoRelease, mutate func(*v1alpha1.MagentoRelease)) error {
	return e.waitFor(ctx, "the change of "+rel.Name, func() (bool, error) {
		cur, err := e.get(ctx, rel)
		if err != nil {
			return false, err
		}
		mutate(cur)
		return e.Client.Update(ctx, cur) == nil, nil
	})
}

func (e Env) servicesOn(ctx context.Context, rel *v1alpha1.MagentoRelease, c v1alpha1.Color) (bool, error) {
	for _, name := range []string{rel.Name, rel.Name + "-php-fpm"} {
		s := &corev1.Service{}
		if err := e.Client.Get(ctx, client.ObjectKey{Namespace: rel.Namespace, Name: name}, s); err != nil {
			return false, err
		}
		if s.Spec.Selector[specs.LabelColor] != string(c) {
			return false, nil
		}
	}
	return true, nil
}

func (e Env) ready(ctx context.Context, rel *v1alpha1.MagentoRelease, c v1alpha1.Color) (bool, error) {
	cur, err := e.get(ctx, rel)
	if err != nil {
		return false, err
	}
	return cur.Status.ObservedGeneration == cur.Generation && cur.Status.ActiveColor == c &&
		meta.IsStatusConditionTrue(cur.Status.Conditions, v1alpha1.ConditionReady) &&
		meta.IsStatusConditionFalse(cur.Status.Conditions, v1alpha1.ConditionProgressing), nil
}

func (e Env) noPods(ctx context.Context, rel *v1alpha1.MagentoRelease, c v1alpha1.Color, comp specs.Component) bool {
	pods := &corev1.PodList{}
	if err := e.Client.List(ctx, pods, client.InNamespace(rel.Namespace), client.MatchingLabels{
		specs.LabelInstance: rel.Name, specs.LabelColor: string(c), specs.LabelComponent: string(comp)}); err != nil {
		return false
	}
	return len(pods.Items) == 0
}

// waitFor polls ok every 100 ms until it says true, or fails after e.Timeout.
func (e Env) waitFor(ctx context.Context, what string, ok func() (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, e.Timeout)
	defer cancel()
	for {
		done, err := ok()
		if done {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w (last error: %v)", what, ctx.Err(), err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Deploy deploys tag to the slot that does not serve and waits until it is
// ready as the preview.
func Deploy(tag string) Step {
	return func(ctx context.Context, e Env, rel *v1alpha1.MagentoRelease, mark func(string) error) error {
		if err := mark("deploy " + tag); err != nil {
			return err
		}
		var idle v1alpha1.Color
		if err := e.change(ctx, rel, func(r *v1alpha1.MagentoRelease) {
			idle = r.Status.ActiveColor.Other()
			s := &v1alpha1.Slot{Tag: tag}
			if idle == v1alpha1.Blue {
				r.Spec.Blue = s
			} else {
				r.Spec.Green = s
			}
		}); err != nil {
			return err
		}
		return e.waitFor(ctx, tag+" ready on "+string(idle), func() (bool, error) {
			cur, err := e.get(ctx, rel)
			if err != nil {
				return false, err
			}
			st := cur.Status.SlotStatus(idle)
			return cur.Status.ObservedGeneration == cur.Generation && st != nil && st.Tag == tag && st.Ready, nil
		})
	}
}

// HeldSwitch deploys tag (one whose pods never become ready) to the slot
// that does not serve, asks for the switch, checks for hold that traffic
// stays, then calls the switch off.
func HeldSwitch(tag string, hold time.Duration) Step {
	return func(ctx context.Context, e Env, rel *v1alpha1.MagentoRelease, mark func(string) error) error {
		cur, err := e.get(ctx, rel)
		if err != nil {
			return err
		}
		serving := cur.Status.ActiveColor
		if err := mark("bad deploy " + tag); err != nil {
			return err
		}
		if err := e.change(ctx, rel, func(r *v1alpha1.MagentoRelease) {
			s := &v1alpha1.Slot{Tag: tag}
			if serving == v1alpha1.Blue {
				r.Spec.Green = s
			} else {
				r.Spec.Blue = s
			}
			r.Spec.ActiveColor = serving.Other()
		}); err != nil {
			return err
		}
		deadline := time.Now().Add(hold)
		for time.Now().Before(deadline) {
			on, err := e.servicesOn(ctx, rel, serving)
			if err != nil {
				return err
			}
			if !on {
				return fmt.Errorf("traffic left %s for a slot running %s, which is not ready", serving, tag)
			}
			time.Sleep(200 * time.Millisecond)
		}
		if err := mark("called off " + tag); err != nil {
			return err
		}
		return e.change(ctx, rel, func(r *v1alpha1.MagentoRelease) { r.Spec.ActiveColor = serving })
	}
}

// KillOperator deletes the operator's pods (its Deployment starts new ones).
func KillOperator(namespace string, selector map[string]string) Step {
	return func(ctx context.Context, e Env, _ *v1alpha1.MagentoRelease, mark func(string) error) error {
		if err := mark("operator killed"); err != nil {
			return err
		}
		grace := int64(0)
		return e.Client.DeleteAllOf(ctx, &corev1.Pod{}, client.InNamespace(namespace), client.MatchingLabels(selector),
			&client.DeleteAllOfOptions{DeleteOptions: client.DeleteOptions{GracePeriodSeconds: &grace}})
	}
}

// SwitchedBack deploys tag (one whose pages break once it takes traffic) to
// the slot that does not serve, switches to it, and waits until the
// operator's checks see the failure and move traffic back; then it calls
// the switch off. Steps: "asked", "switched <from>-><to> n" (from the
// Services' move to the move back: the only step where requests may fail),
// "traffic back on <from>".
func SwitchedBack(tag string, n int) Step {
	return func(ctx context.Context, e Env, rel *v1alpha1.MagentoRelease, mark func(string) error) error {
		if err := Deploy(tag)(ctx, e, rel, mark); err != nil {
			return err
		}
		from, _, err := e.switchOver(ctx, rel, n, mark)
		if err != nil {
			return err
		}
		if err := e.waitFor(ctx, "Services back on "+string(from), func() (bool, error) { return e.servicesOn(ctx, rel, from) }); err != nil {
			return err
		}
		if err := mark("traffic back on " + string(from)); err != nil {
			return err
		}
		// Cron and consumers had just started in the broken slot when traffic
		// left it: they must stop as promptly as ever, or the other slot's
		// wait for them (rule 3) for their whole grace period.
		quick := e
		quick.Timeout = time.Minute
		if err := quick.waitFor(ctx, "the broken slot's cron and consumer pods to be gone", func() (bool, error) {
			to := from.Other()
			return e.noPods(ctx, rel, to, specs.Cron) && e.noPods(ctx, rel, to, specs.Consumer), nil
		}); err != nil {
			return err
		}
		if err := e.waitFor(ctx, "Degraded VerificationFailed", func() (bool, error) {
			cur, err := e.get(ctx, rel)
			if err != nil {
				return false, err
			}
			c := meta.FindStatusCondition(cur.Status.Conditions, v1alpha1.ConditionDegraded)
			return c != nil && c.Status == "True" && c.Reason == "VerificationFailed", nil
		}); err != nil {
			return err
		}
		return e.change(ctx, rel, func(r *v1alpha1.MagentoRelease) { r.Spec.ActiveColor = from })
	}
}
