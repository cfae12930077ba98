// What is read off the manager and the API server, memory aside: its writes
// in the audit log, its CPU time from /proc, its metrics, and the
// percentiles of timed samples. A figure that cannot be read is an error:
// the bench prints no figure it did not measure.

package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

// writesAtRest counts the manager's writes over 60 s once the last
// convergence run (of size releases) is done, a resync included
// (--sync-period=45s).
func (b *bench) writesAtRest(size int) error {
	time.Sleep(5 * time.Second)
	before, err := b.operatorWrites()
	if err != nil {
		return err
	}
	time.Sleep(60 * time.Second)
	after, err := b.operatorWrites()
	if err != nil {
		return err
	}
	resyncs, err := b.metricSum(`controller_runtime_reconcile_total{controller="magentorelease"`)
	if err != nil {
		return err
	}
	b.row(fmt.Sprintf("writes at rest, 60 s after convergence at %d releases", size),
		fmt.Sprintf("%d writes (%.0f reconciles so far)", after-before, resyncs), "0")
	return nil
}

// operatorWrites counts the manager's write requests in the audit log. The
// manager has written every child by now: none at all means the audit log
// is not what it should be, and 0 writes at rest would be a lie.
func (b *bench) operatorWrites() (int, error) {
	time.Sleep(1500 * time.Millisecond) // the audit batch flushes every second
	f, err := os.Open(b.audit)
	if err != nil {
		return 0, err
	}
	defer func() { _ = f.Close() }()
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var ev struct {
			Stage string `json:"stage"`
			User  struct {
				Username string `json:"username"`
			} `json:"user"`
		}
		if json.Unmarshal(sc.Bytes(), &ev) == nil && ev.Stage == "ResponseComplete" && ev.User.Username == operatorUser {
			n++
		}
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("reading the audit log %s: %w", b.audit, err)
	}
	if n == 0 {
		return 0, fmt.Errorf("the audit log %s has no write by %s", b.audit, operatorUser)
	}
	return n, nil
}

// cpuSeconds is the CPU time the manager has used, user and system.
func (b *bench) cpuSeconds() (float64, error) {
	stat, err := b.proc("stat")
	if err != nil {
		return 0, err
	}
	// The fields after the command's name, which may hold spaces; utime and
	// stime are the 14th and 15th of the line.
	f := strings.Fields(stat[strings.LastIndexByte(stat, ')')+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("the manager's /proc stat has %d fields after its name", len(f))
	}
	utime, uerr := strconv.ParseFloat(f[11], 64)
	stime, serr := strconv.ParseFloat(f[12], 64)
	if err := errors.Join(uerr, serr); err != nil {
		return 0, fmt.Errorf("the manager's CPU time: %w", err)
	}
	return (utime + stime) / 100, nil // USER_HZ
}

// proc reads /proc/<manager's pid>/file.
func (b *bench) proc(file string) (string, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/%s", b.manager.Process.Pid, file))
	if err != nil {
		return "", fmt.Errorf("the manager's process: %w", err)
	}
	return string(raw), nil
}

// metricSum adds up every sample on the manager's metrics endpoint whose
// line starts with prefix: `name{label="value"` picks some series of a
// metric, `name ` (with its space) a metric without labels. No such sample
// is an error.
func (b *bench) metricSum(prefix string) (float64, error) {
	body, err := b.get(b.metrics)
	if err != nil {
		return 0, err
	}
	sum, found := 0.0, false
	for _, line := range strings.Split(string(body), "\n") {
		if !strings.HasPrefix(line, prefix) {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err != nil {
			return 0, fmt.Errorf("metric %q: %w", line, err)
		}
		sum, found = sum+v, true
	}
	if !found {
		return 0, fmt.Errorf("no metric %q at %s", strings.TrimSpace(prefix), b.metrics)
	}
	return sum, nil
}

// get reads url, which must answer 200.
func (b *bench) get(url string) ([]byte, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s", url, resp.Status)
	}
	return body, nil
}

// percentile is the p-th percentile of d, by the nearest-rank method. The
// flags make sure no measurement is left without samples.
func percentile(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		panic("bench: a percentile of no samples")
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[min(len(s)-1, (len(s)*p+99)/100-1)]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }
