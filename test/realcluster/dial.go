package realcluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// DialContext connects from inside the cluster's network namespace, where
// the node, pods and ClusterIPs are: the socket is made on an OS thread that
// has joined the namespace, and works from any goroutine afterwards. A host
// name in addr is resolved by cluster DNS (CoreDNS through the kube-dns
// ClusterIP), so "web.default.svc.cluster.local:80" works.
func (c *Cluster) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if net.ParseIP(host) == nil {
		ips, err := c.Resolver().LookupIP(ctx, "ip4", host)
		if err != nil {
			return nil, err
		}
		if len(ips) == 0 {
			return nil, fmt.Errorf("%s: no address", host)
		}
		addr = net.JoinHostPort(ips[0].String(), port)
	}
	return inNetns(c.NetnsPath, func() (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	})
}

// inNetns runs f on an OS thread that joined the network namespace at path,
// and returns that thread to the host namespace afterwards. Only IP
// addresses may be dialled in f: name resolution could run on other threads.
func inNetns[T any](path string, f func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	ch := make(chan result, 1)
	go func() {
		var r result
		defer func() { ch <- r }()
		runtime.LockOSThread()
		// Unlocked only once the thread is back in the host namespace;
		// otherwise the thread ends with this goroutine.
		self, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			r.err = err
			runtime.UnlockOSThread()
			return
		}
		defer func() { _ = self.Close() }()
		target, err := os.Open(path)
		if err != nil {
			r.err = err
			runtime.UnlockOSThread()
			return
		}
		defer func() { _ = target.Close() }()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			r.err = fmt.Errorf("setns %s: %w", path, err)
			runtime.UnlockOSThread()
			return
		}
		r.v, r.err = f()
		if unix.Setns(int(self.Fd()), unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
	}()
	r := <-ch
	return r.v, r.err
}

// Resolver resolves through cluster DNS: CoreDNS at the kube-dns ClusterIP,
// reached inside the namespace (so through kube-proxy's rules).
func (c *Cluster) Resolver() *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return inNetns(c.NetnsPath, func() (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, net.JoinHostPort(DNSServiceIP, "53"))
		})
	}}
}

// HTTPClient is an HTTP client whose connections start inside the
// cluster's network namespace: it reaches ClusterIPs, pod IPs and Service
// names. Keep-alives are off, so every request is a new connection.
func (c *Cluster) HTTPClient(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: &http.Transport{DialContext: c.DialContext, DisableKeepAlives: true}}
}

// Exec returns a command that runs name inside the cluster's network
// namespace (nsenter --net), e.g. a load generator aimed at a ClusterIP.
func (c *Cluster) Exec(ctx context.Context, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, c.opts.Nsenter, append([]string{"--net=" + c.NetnsPath, "--", name}, args...)...)
}

// forwarder relays a loopback port of the host to the API server inside the
// namespace, so that kubeconfigs and clients on the host work; it lives as
// long as this process and touches no network configuration.
type forwarder struct {
	ln   net.Listener
	wg   sync.WaitGroup
	mu   sync.Mutex
	open map[net.Conn]struct{}
}

func (c *Cluster) forwardAPI() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	f := &forwarder{ln: ln, open: map[net.Conn]struct{}{}}
	target := net.JoinHostPort(NodeIP, strconv.Itoa(APIPort))
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			f.wg.Add(1)
			go func() {
				defer f.wg.Done()
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				out, err := c.DialContext(ctx, "tcp", target)
				cancel()
				if err != nil {
					_ = in.Close()
					return
				}
				if !f.track(in, out) {
					return
				}
				done := make(chan struct{}, 2)
				pipe := func(dst, src net.Conn) {
					_, _ = io.Copy(dst, src)
					if tc, ok := dst.(*net.TCPConn); ok {
						_ = tc.CloseWrite()
					}
					done <- struct{}{}
				}
				go pipe(out, in)
				go pipe(in, out)
				<-done
				<-done
				f.untrack(in, out)
			}()
		}
	}()
	c.fwd = f
	return ln.Addr().String(), nil
}

func (f *forwarder) track(conns ...net.Conn) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.open == nil {
		for _, c := range conns {
			_ = c.Close()
		}
		return false
	}
	for _, c := range conns {
		f.open[c] = struct{}{}
	}
	return true
}

func (f *forwarder) untrack(conns ...net.Conn) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
		delete(f.open, c)
	}
}

func (f *forwarder) close() error {
	err := f.ln.Close()
	f.mu.Lock()
	for c := range f.open {
		_ = c.Close()
	}
	f.open = nil
	f.mu.Unlock()
	f.wg.Wait()
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}
