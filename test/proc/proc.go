// Package proc runs the components of the test clusters (test/simcluster,
// test/realcluster): each in its own process group, its output appended to
// <dir>/<name>.log, killed with the test process (Pdeathsig) so a crashed
// test leaves none behind, and stopped gracefully.
package proc

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Process is a running component.
type Process struct {
	Name string
	Cmd  *exec.Cmd
	done chan struct{}
}

// Start starts argv[0] with the rest of argv as the component name, its
// output appended to dir/name.log (a restarted component keeps one log).
func Start(dir, name string, argv ...string) (*Process, error) {
	log, err := os.OpenFile(filepath.Join(dir, name+".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		_ = log.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &Process{Name: name, Cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		_ = log.Close()
		close(p.done)
	}()
	return p, nil
}

// Done is closed once the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Exited tells whether the process has exited.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Stop sends SIGTERM to the process group, and SIGKILL when it has not
// exited after grace; it returns once the process has exited.
func (p *Process) Stop(grace time.Duration) {
	if p.Exited() {
		return
	}
	_ = syscall.Kill(-p.Cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		p.Kill()
	}
}

// Kill sends SIGKILL to the process group, as a crash would, and waits.
func (p *Process) Kill() {
	_ = syscall.Kill(-p.Cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
}

// Group is the components of one cluster, logging into Dir.
type Group struct {
	Dir   string
	mu    sync.Mutex
	procs []*Process
}

// Start starts a component of the group (see Start).
func (g *Group) Start(name string, argv ...string) (*Process, error) {
	p, err := Start(g.Dir, name, argv...)
	if err != nil {
		return nil, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.procs = append(g.procs, p)
	return p, nil
}

// Processes are the group's components, oldest first.
func (g *Group) Processes() []*Process {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]*Process(nil), g.procs...)
}

// StopAll stops every component, newest first, and forgets them.
func (g *Group) StopAll(grace time.Duration) {
	procs := g.Processes()
	for i := len(procs) - 1; i >= 0; i-- {
		procs[i].Stop(grace)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.procs = nil
}

// Logs returns the last lines of a component's log, for failure reports.
func (g *Group) Logs(name string, lines int) string {
	b, err := os.ReadFile(filepath.Join(g.Dir, name+".log"))
	if err != nil {
		return err.Error()
	}
	all := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(all[max(0, len(all)-lines):], "\n")
}

// WaitFor polls ok every interval until it holds, a component exits (its
// log's end is in the error), ctx ends or timeout passes.
func (g *Group) WaitFor(ctx context.Context, what string, timeout, interval time.Duration, ok func() bool) error {
	deadline := time.Now().Add(timeout)
	for {
		if ok() {
			return nil
		}
		for _, p := range g.Processes() {
			if p.Exited() {
				return fmt.Errorf("waiting for %s: %s exited:\n%s", what, p.Name, g.Logs(p.Name, 20))
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %s waiting for %s", timeout, what)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(interval):
		}
	}
}
