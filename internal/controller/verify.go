package controller

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
	"github.com/magento-operator/magento-operator/internal/bluegreen"
	"github.com/magento-operator/magento-operator/internal/specs"
)

// checkTimeout bounds one HTTP check; a round runs every check against
// every ready web pod of the slot.
const checkTimeout = 5 * time.Second

// inconclusiveRequeue is how soon a round that found no web pod to check
// runs again.
const inconclusiveRequeue = 2 * time.Second

// checkClient sends the checks: a new connection per request, so no check
// rides on a connection another check opened, and redirects are answers
// (a 301 is what the pod said, not the page it points to).
var checkClient = &http.Client{
	Timeout: checkTimeout,
	Transport: &http.Transport{
		DialContext:       (&net.Dialer{Timeout: checkTimeout}).DialContext,
		DisableKeepAlives: true,
	},
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// lastChecks remembers, per release, when the last round of checks after a
// switch ran. It is not status: a restart only makes a round due at once.
type lastChecks struct{ m sync.Map }

func (l *lastChecks) get(key types.NamespacedName) time.Time {
	if t, ok := l.m.Load(key); ok {
		return t.(time.Time)
	}
	return time.Time{}
}

func (l *lastChecks) set(key types.NamespacedName, t time.Time) { l.m.Store(key, t) }

func (l *lastChecks) forget(key types.NamespacedName) { l.m.Delete(key) }

// runCheck runs the plan's round of checks and records its outcome in the
// plan's status; it returns the Events that tell it, and whether the round
// must run again soon (nothing could be checked).
func (r *MagentoReleaseReconciler) runCheck(ctx context.Context, rel *v1alpha1.MagentoRelease, plan *bluegreen.Plan, now time.Time) ([]bluegreen.Event, bool) {
	c := *plan.Check
	res := r.check(ctx, rel, c)
	if c.After {
		r.checks.set(client.ObjectKeyFromObject(rel), now)
	}
	if res.Inconclusive {
		logf.FromContext(ctx).Info("checks could not run; trying again", "slot", c.Color, "reason", res.Failure)
	}
	return bluegreen.Checked(&plan.Status, c, res, now), res.Inconclusive
}

// checkParallelism is how many web pods a round checks at once: a round
// takes as long as the slowest pod's checks, not the sum over the pods, so
// a slot of unanswering pods holds a worker for len(checks) × checkTimeout
// at most.
const checkParallelism = 8

// check runs a round of spec.verification's HTTP checks against every ready
// web pod of the slot, straight to the pods: the slot's own nginx and
// php-fpm answer, whichever slot the Services select. The failure reported
// is the first pod's, in name order, so a round reads the same however the
// answers race.
func (r *MagentoReleaseReconciler) check(ctx context.Context, rel *v1alpha1.MagentoRelease, c bluegreen.Check) bluegreen.CheckResult {
	pods := &corev1.PodList{}
	if err := r.APIReader.List(ctx, pods, client.InNamespace(rel.Namespace), client.MatchingLabels{
		specs.LabelInstance: rel.Name, specs.LabelComponent: string(specs.Web), specs.LabelColor: string(c.Color),
	}); err != nil {
		return bluegreen.CheckResult{Inconclusive: true, Failure: err.Error()}
	}
	var ready []*corev1.Pod
	for i := range pods.Items {
		p := &pods.Items[i]
		// The slot passed the readiness gate: its ready pods run its version.
		if podReady(p) && p.Status.PodIP != "" && p.DeletionTimestamp == nil {
			ready = append(ready, p)
		}
	}
	if len(ready) == 0 {
		return bluegreen.CheckResult{Inconclusive: true, Failure: "no ready web pod of " + string(c.Color) + " to check"}
	}
	sort.Slice(ready, func(i, j int) bool { return ready[i].Name < ready[j].Name })
	checks := rel.Spec.Verification.HTTPChecks()
	failures := make([]string, len(ready))
	sem := make(chan struct{}, checkParallelism)
	var wg sync.WaitGroup
	for i, p := range ready {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			for _, hc := range checks {
				if err := sendCheck(ctx, p, rel, hc); err != nil {
					failures[i] = fmt.Sprintf("GET %s on pod %s: %v", hc.Path, p.Name, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, f := range failures {
		if f != "" {
			return bluegreen.CheckResult{Failure: f}
		}
	}
	return bluegreen.CheckResult{}
}

// sendCheck sends one check to one pod and says what was wrong with the answer.
func sendCheck(ctx context.Context, p *corev1.Pod, rel *v1alpha1.MagentoRelease, hc v1alpha1.HTTPCheck) error {
	url := "http://" + net.JoinHostPort(p.Status.PodIP, strconv.Itoa(int(rel.Spec.Web.Port))) + hc.Path
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	switch {
	case hc.Host != "":
		req.Host = hc.Host
	case rel.Spec.Ingress != nil && rel.Spec.Ingress.Host != "":
		req.Host = rel.Spec.Ingress.Host
	}
	resp, err := checkClient.Do(req)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return fmt.Errorf("no answer within %s", checkTimeout)
		}
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	switch {
	case resp.StatusCode != int(hc.Status):
		return fmt.Errorf("status %d, want %d%s", resp.StatusCode, hc.Status, excerpt(body))
	case hc.Contains != "" && !strings.Contains(string(body), hc.Contains):
		return fmt.Errorf("the answer does not contain %q%s", hc.Contains, excerpt(body))
	}
	return nil
}

// excerpt is the start of an answer's body for a condition: its first
// three lines, at most 300 characters.
func excerpt(body []byte) string {
	lines := strings.SplitN(strings.TrimSpace(string(body)), "\n", 4)
	s := strings.Join(lines[:min(len(lines), 3)], " / ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	if s == "" {
		return ""
	}
	return ": " + s
}

// countCheckFailures counts the check failures the status records anew,
// HTTP rounds and command Jobs alike: a failure of the slot that served is
// one after the switch to it.
func (r *MagentoReleaseReconciler) countCheckFailures(rel *v1alpha1.MagentoRelease, st *v1alpha1.MagentoReleaseStatus) {
	for _, c := range v1alpha1.Colors {
		now, was := st.SlotStatus(c), rel.Status.SlotStatus(c)
		if now == nil || now.VerificationFailedTime == nil || (was != nil && was.VerificationFailedTime.Equal(now.VerificationFailedTime)) {
			continue
		}
		r.Metrics.CheckFailed(rel, c, rel.Status.ActiveColor == c)
	}
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
