package loadgen

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestRunCountsStepsFailuresAndSlots(t *testing.T) {
	var color atomic.Value
	color.Store("blue")
	var failing atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if failing.Load() {
			http.Error(w, "bad gateway", http.StatusBadGateway)
			return
		}
		_, _ = w.Write([]byte("version=main-1 host=shop-php-fpm-" + color.Load().(string) + "-7d9f-abcde\n"))
	}))
	defer srv.Close()

	for _, keepAlive := range []bool{true, false} {
		color.Store("blue")
		marks := make(chan string)
		done := make(chan Report)
		go func() {
			r, err := Run(context.Background(), Config{URL: srv.URL, Rate: 200, KeepAlive: keepAlive}, marks)
			if err != nil {
				t.Error(err)
			}
			done <- r
		}()
		// A request takes well under a millisecond here: it starts and
		// ends in the step it was sent in, except one under way at a mark.
		time.Sleep(300 * time.Millisecond)
		marks <- "switch"
		time.Sleep(20 * time.Millisecond)
		color.Store("green")
		time.Sleep(300 * time.Millisecond)
		marks <- "broken"
		time.Sleep(20 * time.Millisecond)
		failing.Store(true)
		time.Sleep(200 * time.Millisecond)
		close(marks)
		failing.Store(false)
		r := <-done

		if len(r.Steps) != 3 || r.Steps[0].Name != "start" || r.Steps[1].Name != "switch" || r.Steps[2].Name != "broken" {
			t.Fatalf("steps %+v", r.Steps)
		}
		start, sw, broken := r.Steps[0], r.Steps[1], r.Steps[2]
		if start.Requests < 20 || start.Failed != 0 || start.ByColor["blue"] != start.Requests {
			t.Errorf("keep-alive %v: start %+v", keepAlive, start)
		}
		if sw.Failed != 0 || sw.ByColor["green"] < 20 || sw.ByColor["green"]+sw.ByColor["blue"] != sw.Requests {
			t.Errorf("keep-alive %v: switch %+v", keepAlive, sw)
		}
		// Blue answered only requests sent before the flip, 20 ms into the step
		// (give or take a busy machine's timer).
		if last := sw.LastSent["blue"]; !last.IsZero() && (last.Before(sw.Started) || last.Sub(sw.Started) > 200*time.Millisecond) {
			t.Errorf("keep-alive %v: blue last answered a request sent %s into the switch", keepAlive, last.Sub(sw.Started))
		}
		if !sw.Started.After(start.Started) || sw.LastSent["green"].Sub(sw.Started) < 250*time.Millisecond {
			t.Errorf("keep-alive %v: step times %s %s %v", keepAlive, start.Started, sw.Started, sw.LastSent)
		}
		if broken.Failed < 20 || broken.Failed+broken.ByColor["green"] != broken.Requests || !strings.Contains(broken.Errors[0], "status 502") {
			t.Errorf("keep-alive %v: broken %+v", keepAlive, broken)
		}
		if tot := r.Totals(nil); tot.Requests != start.Requests+sw.Requests+broken.Requests {
			t.Errorf("totals %+v", tot)
		}
		if got := r.Summary()[2]; !strings.HasPrefix(got, "broken: ") || !strings.Contains(got, " failed") {
			t.Errorf("summary %q", got)
		}
	}
}

func TestRunRefusesUnboundedRates(t *testing.T) {
	for _, rate := range []int{0, -1, MaxRate + 1} {
		if _, err := Run(context.Background(), Config{URL: "http://127.0.0.1:1", Rate: rate}, nil); err == nil {
			t.Errorf("rate %d accepted", rate)
		}
	}
}

func TestRunStopsAtMaxDurationAndReportsAsItGoes(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("green")) }))
	defer srv.Close()
	var dialled, observed, greens atomic.Int32
	cfg := Config{URL: srv.URL, Rate: 50, MaxDuration: 300 * time.Millisecond, KeepAlive: false,
		Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			dialled.Add(1)
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
		Observe: func(color string, err error) {
			observed.Add(1)
			if color == "green" && err == nil {
				greens.Add(1)
			}
		}}
	begin := time.Now()
	r, err := Run(context.Background(), cfg, make(chan string))
	if err != nil {
		t.Fatal(err)
	}
	if time.Since(begin) > 5*time.Second || r.Steps[0].Requests == 0 {
		t.Errorf("ran %s, %+v", time.Since(begin), r.Steps[0])
	}
	if n := int32(r.Steps[0].Requests); dialled.Load() != n || observed.Load() != n || greens.Load() != n {
		t.Errorf("%d requests, %d dialled, %d observed, %d green", n, dialled.Load(), observed.Load(), greens.Load())
	}
}
