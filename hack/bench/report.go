// The report: the rows as they are measured, the table they make, and
// docs/performance.md, whose sections written by hand stay as they are.

package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	goruntime "runtime"
	"strings"
	"time"
)

// keptHeadings start the sections of docs/performance.md that the bench
// keeps as they are: what each change bought (written by hand, figures from
// earlier runs) and the real-cluster scenarios' (test/realtraffic). The
// bench rewrites what comes before the first of them.
var keptHeadings = []string{"## What each change bought", "## Real traffic"}

// row adds a row to the table and prints it.
func (b *bench) row(what, value, target string) {
	b.rows = append(b.rows, [3]string{what, value, target})
	fmt.Printf("%-62s %-34s %s\n", what, value, target)
}

// table is the rows as Markdown.
func (b *bench) table() string {
	var sb strings.Builder
	sb.WriteString("| measure | result | target |\n|---|---|---|\n")
	for _, r := range b.rows {
		fmt.Fprintf(&sb, "| %s | %s | %s |\n", r[0], r[1], r[2])
	}
	return sb.String()
}

// writeReport writes doc to out, followed by the sections of the file there
// that keptHeadings start.
func writeReport(out, doc string) error {
	old, err := os.ReadFile(out)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return err
	default:
		first := -1
		for _, h := range keptHeadings {
			if i := strings.Index(string(old), h); i >= 0 && (first < 0 || i < first) {
				first = i
			}
		}
		if first >= 0 {
			doc = strings.TrimRight(doc, "\n") + "\n\n" + string(old[first:])
		}
	}
	return os.WriteFile(out, []byte(doc), 0o644)
}

// document is docs/performance.md up to the kept sections: how the figures
// were measured, on what, and the table.
func document(table, sizes string, switches, idle int) string {
	cpu := "unknown"
	if info, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(info), "\n") {
			if strings.HasPrefix(line, "model name") {
				cpu = strings.TrimSpace(strings.SplitN(line, ":", 2)[1])
				break
			}
		}
	}
	return fmt.Sprintf(`# Performance

Measured by `+"`make bench`"+` (hack/bench): a real kube-apiserver and etcd
(envtest), the manager binary as its own process (QPS 200, burst 400, 4
concurrent reconciles), and a bare client doing the same work in the same run
as the floor. Deployment status is written by a stand-in for the Deployment
controller for both. Writes are counted in the API server's audit log, by
the manager's user. The manager runs with the memory limit of its install
bundle (`+"`config/manager`"+`). Idle deploys run on the simulated cluster
(kube-controller-manager's own Deployment controller, kwok's pods ready once
bound; the controller-manager's client rate raised to 500/s so that its
throttle is not what is timed).

Machine: %d cores (%s), %s/%s, %s. Run: `+"`go run ./hack/bench --sizes %s --switches %d --idle-deploys %d`"+`.

%s
`, goruntime.NumCPU(), cpu, goruntime.GOOS, goruntime.GOARCH, time.Now().UTC().Format("2006-01-02"), sizes, switches, idle, table)
}
