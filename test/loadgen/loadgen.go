// Package loadgen sends requests at a fixed rate (open loop: a slow answer
// never slows the next request down) and counts, per step of a scenario,
// how many were sent, how many failed and which slot answered. It is bounded
// in rate and time, and is meant for addresses of the test's own cluster.
package loadgen

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"sort"
	"sync"
	"time"
)

// Config says where to send requests and how.
type Config struct {
	// URL is requested with GET.
	URL string
	// Rate is requests per second, at most 2,000.
	Rate int
	// KeepAlive reuses connections (a pool, as browsers and proxies do);
	// false opens a new connection per request.
	KeepAlive bool
	// Timeout bounds one request; default 10 s. A request that gets no
	// answer in time fails.
	Timeout time.Duration
	// MaxDuration bounds the whole run; default 10 minutes.
	MaxDuration time.Duration
	// Dial opens connections; default a net.Dialer's.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Observe, when set, is called with each answer's slot or failure as
	// it comes (a live counter); it must be safe for concurrent use.
	Observe func(color string, err error)
}

// MaxRate is the highest rate a Config may ask for.
const MaxRate = 2000

// Step is what happened to the requests that started in one step of a scenario.
type Step struct {
	Name     string `json:"name"`
	Requests int    `json:"requests"`
	Failed   int    `json:"failed"`
	// ByColor counts the answers by the slot that gave them ("" when the
	// answer named none).
	ByColor map[string]int `json:"byColor"`
	// Started is when the step began.
	Started time.Time `json:"started"`
	// LastSent is, per slot, when the last request it answered was sent.
	LastSent map[string]time.Time `json:"lastSent,omitempty"`
	// Slowest is the longest time an answered request took.
	Slowest time.Duration `json:"slowest"`
	// Errors holds the first few failures, for the report.
	Errors []string `json:"errors,omitempty"`
}

// Report is the outcome of a run, one Step per mark, in order.
type Report struct {
	Steps []*Step `json:"steps"`
}

// Totals sums the steps whose names pass keep (all when keep is nil).
func (r Report) Totals(keep func(string) bool) Step {
	out := Step{ByColor: map[string]int{}}
	for _, s := range r.Steps {
		if keep != nil && !keep(s.Name) {
			continue
		}
		out.Requests += s.Requests
		out.Failed += s.Failed
		out.Slowest = max(out.Slowest, s.Slowest)
		for c, n := range s.ByColor {
			out.ByColor[c] += n
		}
	}
	return out
}

// colorRe finds the slot in an answer: the test app prints its version,
// colour and host name (<release>-php-fpm-<color>-…).
var colorRe = regexp.MustCompile(`\b(blue|green)\b`)

const maxErrors = 5

// Run sends requests until ctx ends, marks closes or MaxDuration passes.
// Each name received on marks starts a new step; requests are counted in
// the step during which they started. The first step is "start".
func Run(ctx context.Context, cfg Config, marks <-chan string) (Report, error) {
	if cfg.Rate <= 0 || cfg.Rate > MaxRate {
		return Report{}, fmt.Errorf("rate %d: want 1 to %d requests per second", cfg.Rate, MaxRate)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.MaxDuration == 0 {
		cfg.MaxDuration = 10 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.MaxDuration)
	defer cancel()
	if cfg.Dial == nil {
		cfg.Dial = (&net.Dialer{}).DialContext
	}
	transport := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
			defer cancel()
			return cfg.Dial(ctx, network, addr)
		},
		DisableKeepAlives:   !cfg.KeepAlive,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     90 * time.Second,
	}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport, Timeout: cfg.Timeout}

	var (
		mu     sync.Mutex
		report Report
		wg     sync.WaitGroup
	)
	current := newStep("start")
	report.Steps = append(report.Steps, current)
	tick := time.NewTicker(time.Second / time.Duration(cfg.Rate))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			wg.Wait()
			return report, nil
		case name, ok := <-marks:
			if !ok {
				wg.Wait()
				return report, nil
			}
			mu.Lock()
			current = newStep(name)
			report.Steps = append(report.Steps, current)
			mu.Unlock()
		case <-tick.C:
			mu.Lock()
			step := current
			step.Requests++
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				sent := time.Now()
				color, err := get(ctx, client, cfg.URL)
				if cfg.Observe != nil {
					cfg.Observe(color, err)
				}
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					step.Failed++
					if len(step.Errors) < maxErrors {
						step.Errors = append(step.Errors, err.Error())
					}
					return
				}
				step.ByColor[color]++
				step.Slowest = max(step.Slowest, time.Since(sent))
				if sent.After(step.LastSent[color]) {
					step.LastSent[color] = sent
				}
			}()
		}
	}
}

func newStep(name string) *Step {
	return &Step{Name: name, ByColor: map[string]int{}, Started: time.Now(), LastSent: map[string]time.Time{}}
}

// get sends one request and returns the slot that answered.
func get(ctx context.Context, c *http.Client, url string) (string, error) {
	req, err := http.NewRequestWithContext(context.WithoutCancel(ctx), http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	start := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		return "", fmt.Errorf("%s after %s", err, time.Since(start).Round(time.Millisecond))
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return "", fmt.Errorf("reading the answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("status %d after %s", resp.StatusCode, time.Since(start).Round(time.Millisecond))
	}
	if m := colorRe.FindSubmatch(body); m != nil {
		return string(m[1]), nil
	}
	return "", nil
}

// Summary is one line per step: name, requests, failed, answers by slot.
func (r Report) Summary() []string {
	out := make([]string, 0, len(r.Steps))
	for _, s := range r.Steps {
		colors := make([]string, 0, len(s.ByColor))
		for c := range s.ByColor {
			colors = append(colors, c)
		}
		sort.Strings(colors)
		line := fmt.Sprintf("%s: %d requests, %d failed", s.Name, s.Requests, s.Failed)
		for _, c := range colors {
			name := c
			if name == "" {
				name = "unnamed"
			}
			line += fmt.Sprintf(", %d by %s", s.ByColor[c], name)
		}
		out = append(out, line)
	}
	return out
}
