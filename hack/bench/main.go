// Command bench measures the operator against a real kube-apiserver (envtest),
// with the manager binary as its own process, beside the floor a bare client
// reaches in the same run, and prints one table (also written to
// docs/performance.md):
//
//  1. switch latency: spec.activeColor patch → both Services select the target
//
//  2. convergence: N releases created at once → every child and status written
//
//  3. writes at rest: the manager's API writes over 60 s after convergence,
//     a forced resync included (counted in the API server's audit log)
//
//  4. memory and CPU of the manager
//
//     go run ./hack/bench --manager bin/manager [--sizes 100,500,1000] [--switches 200]
//
// This file holds the flags and the order of the measurements; env.go the
// envtest environment and the manager process, deployctl.go the stand-in
// for the Deployment controller, workload.go the releases and the floor's
// writes, switch.go the switch latency, memory.go and measure.go what is
// read off the manager, idle.go the idle deploys on the simulated cluster
// and report.go the table and docs/performance.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

type bench struct {
	ctx     context.Context
	env     *envtest.Environment
	c       client.WithWatch
	audit   string
	manager *exec.Cmd
	metrics string
	// pprof is the manager's pprof address; dir holds the run's files.
	pprof, dir string
	// memoryLimit is the container limit the manager runs with, in bytes.
	memoryLimit int64
	rows        [][3]string
	workers     int
	once        sync.Once
}

func main() {
	manager := flag.String("manager", "bin/manager", "the manager binary")
	sizesFlag := flag.String("sizes", "100,500,1000", "release counts for the convergence runs")
	switches := flag.Int("switches", 200, "switches to time")
	out := flag.String("out", "docs/performance.md", "where to write the table")
	idle := flag.Int("idle-deploys", 20, "new tags to deploy to the idle slot on the simulated cluster; 0 skips them")
	onEnvtest := flag.Bool("envtest", true, "run the measurements on envtest (switches, convergence, writes at rest, memory)")
	flag.Parse()
	sizes, err := checkFlags(*sizesFlag, *switches, *idle, *onEnvtest)
	if err != nil {
		fail(err)
	}
	b := &bench{ctx: context.Background(), workers: 4}
	// envtest's processes do not die with this one: stop them on every exit.
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go func() { <-signals; b.stop(); os.Exit(130) }()
	if *onEnvtest {
		if err := b.start(*manager); err != nil {
			b.stop()
			fail(err)
		}
		if err := b.run(sizes, *switches); err != nil {
			b.stop()
			fail(err)
		}
		b.stop()
	}
	if *idle > 0 {
		if err := b.idleDeploys(*manager, *idle); err != nil {
			fail(fmt.Errorf("idle deploys: %w", err))
		}
	}
	table := b.table()
	fmt.Print("\n" + table)
	if err := writeReport(*out, document(table, *sizesFlag, *switches, *idle)); err != nil {
		fail(err)
	}
	fmt.Println("written to", *out)
}

// checkFlags refuses the flags that would leave a figure without samples,
// and returns the convergence sizes.
func checkFlags(sizesFlag string, switches, idle int, onEnvtest bool) ([]int, error) {
	if !onEnvtest && idle <= 0 {
		return nil, errors.New("nothing to measure: --envtest=false and --idle-deploys 0")
	}
	if switches < 1 {
		return nil, fmt.Errorf("--switches %d: at least one switch is needed to time them", switches)
	}
	if idle < 0 {
		return nil, fmt.Errorf("--idle-deploys %d: 0 skips them, more times them", idle)
	}
	parts := strings.Split(sizesFlag, ",")
	sizes := make([]int, 0, len(parts))
	for _, s := range parts {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("--sizes %q: %w", sizesFlag, err)
		}
		if n < 1 {
			return nil, fmt.Errorf("--sizes %q: a convergence run needs at least one release", sizesFlag)
		}
		sizes = append(sizes, n)
	}
	return sizes, nil
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench:", err)
	os.Exit(1)
}

// run takes the measurements on envtest, in this order, each printing its
// rows as it ends.
func (b *bench) run(sizes []int, switches int) error {
	stopFaker := b.fakeDeploymentController()
	defer stopFaker()

	// 1. One release: memory, then switch latency.
	ns, err := b.namespace("switch")
	if err != nil {
		return err
	}
	if err := b.createReleases(ns, 1); err != nil {
		return err
	}
	if err := b.waitConverged(ns, 1, 2*time.Minute); err != nil {
		return err
	}
	time.Sleep(3 * time.Second)
	if err := b.memoryRow("manager RSS / Go heap, 1 release", "RSS ≤ 60 MiB"); err != nil {
		return err
	}
	if err := b.switchLatency(ns, switches); err != nil {
		return err
	}

	// 2. Convergence, beside a bare client creating the same objects; each
	// size is cleared before the next, so the memory below is that of the
	// last size (envtest runs no garbage collector: delete it all by hand).
	var previous []string
	for _, n := range sizes {
		if err := b.clear(previous); err != nil {
			return err
		}
		var err error
		if previous, err = b.convergence(n); err != nil {
			return err
		}
	}

	// 3. Writes at rest, a resync included (--sync-period=45s).
	last := sizes[len(sizes)-1]
	if err := b.writesAtRest(last); err != nil {
		return err
	}
	if err := b.memoryRow(fmt.Sprintf("manager RSS / Go heap, %d releases (container limit %d MiB, Go limit 48 MiB under it)",
		last+1, b.memoryLimit>>20), "RSS ≤ 150 MiB"); err != nil {
		return err
	}
	return b.explainMemory()
}
