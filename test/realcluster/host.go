package realcluster

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Interfaces inside the namespace.
const (
	nodeBridge = "mrelnode0" // port-less bridge carrying NodeIP: the "node NIC"
	cniBridge  = "mrelcni0"  // the CNI bridge, pods' gateway

	cniBridgePlugin = "bridge"
	netnsDir        = "/run/netns"
)

// Host directories the kubelet, containerd and the CNI plugins write to by
// hard-coded default (/var/lib/kubelet/device-plugins, /var/log/containers,
// /var/lib/cni, /run/containerd, /run/netns, /run/xtables.lock). In the
// node's mount namespace /run is a fresh tmpfs and /var/lib and /var/log are
// overlays whose upper layers live under Dir/host, so nothing lands on the
// host, not even an empty directory.
var nodeOverlays = []struct{ target, upper string }{
	{"/var/lib", "host/var-lib"},
	{"/var/log", "host/var-log"},
}

// setupNetns makes the cluster's network namespace: lo, the node bridge
// with NodeIP and the default route, IP forwarding. Nothing links it to the
// host's network.
func (c *Cluster) setupNetns() error {
	if _, err := os.Stat(netnsDir); errors.Is(err, fs.ErrNotExist) {
		c.madeNetnsDir = true
	}
	if err := c.sh("ip", "netns", "add", c.Name); err != nil {
		return err
	}
	c.madeNetns = true
	for _, args := range []string{
		"link set lo up",
		"link add " + nodeBridge + " type bridge",
		"addr add " + nodeCIDR + " dev " + nodeBridge,
		"link set " + nodeBridge + " up",
		"route add default dev " + nodeBridge,
	} {
		if err := c.sh(c.opts.IP, append([]string{"-n", c.Name}, strings.Fields(args)...)...); err != nil {
			return err
		}
	}
	// Per-namespace settings.
	return c.sh(c.opts.Nsenter, "--net="+c.NetnsPath, "--", "sh", "-ec",
		"echo 1 > /proc/sys/net/ipv4/ip_forward; echo 1 > /proc/sys/net/bridge/bridge-nf-call-iptables")
}

// setupCgroups makes the kubelet's cgroupRoot in every v1 hierarchy; the
// kubelet refuses to start without them.
func (c *Cluster) setupCgroups() error {
	entries, err := os.ReadDir("/sys/fs/cgroup")
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !e.IsDir() || e.Name() == "unified" {
			continue
		}
		dir := filepath.Join("/sys/fs/cgroup", e.Name(), c.Name)
		if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
		c.cgroups = append(c.cgroups, dir)
		if e.Name() == "cpuset" {
			for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
				b, err := os.ReadFile(filepath.Join("/sys/fs/cgroup/cpuset", f))
				if err != nil {
					return err
				}
				if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// startMountNamespace starts the process that holds the node's mount
// namespace (containerd, kubelet and kube-proxy join it): private
// propagation, a tmpfs on /run, the overlays of nodeOverlays,
// and the six fake /proc/sys files. It goes when the holder and
// everything in it have exited, and takes every mount made in it along.
func (c *Cluster) startMountNamespace() error {
	var script strings.Builder
	script.WriteString("set -e\nmount -t tmpfs -o mode=0755 tmpfs /run\nmkdir -p /run/netns /run/containerd\n")
	for _, o := range nodeOverlays {
		if c.Dir == o.target || strings.HasPrefix(c.Dir, o.target+"/") {
			return fmt.Errorf("state directory %s: must not be under %s", c.Dir, o.target)
		}
		upper, work := filepath.Join(c.Dir, o.upper, "upper"), filepath.Join(c.Dir, o.upper, "work")
		for _, d := range []string{upper, work} {
			if err := os.MkdirAll(d, 0o755); err != nil {
				return err
			}
		}
		fmt.Fprintf(&script, "mount -t overlay overlay -o %s %q\n",
			fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s", o.target, upper, work), o.target)
	}
	names := make([]string, 0, len(fakeSysctls))
	for name := range fakeSysctls {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Fprintf(&script, "mount --bind %q %q\n", filepath.Join(c.Dir, "sysctl", name),
			"/proc/sys/"+strings.ReplaceAll(name, ".", "/"))
	}
	ready := filepath.Join(c.Dir, "mountns.ready")
	fmt.Fprintf(&script, "touch %q\nexec sleep infinity\n", ready)
	if err := os.WriteFile(filepath.Join(c.Dir, "mountns.sh"), []byte(script.String()), 0o755); err != nil {
		return err
	}
	p, err := c.start("mountns", 0, c.opts.Unshare, "--mount", "--propagation", "private", "--", "sh", filepath.Join(c.Dir, "mountns.sh"))
	if err != nil {
		return err
	}
	c.holder = p
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(ready); err == nil {
			break
		}
		if p.Exited() {
			return fmt.Errorf("mount namespace: %s", c.Logs("mountns", 20))
		}
		if time.Now().After(deadline) {
			return errors.New("timed out setting up the mount namespace")
		}
		time.Sleep(20 * time.Millisecond)
	}
	c.MountNSPath = fmt.Sprintf("/proc/%d/ns/mnt", p.Cmd.Process.Pid)
	return nil
}

// killCgroupTree kills every process in the cluster's cgroups (the
// containers) and removes the cgroup directories, deepest first.
func killCgroupTree(roots []string) error {
	deadline := time.Now().Add(15 * time.Second)
	for {
		alive := 0
		for _, root := range roots {
			_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
				if err != nil || !d.IsDir() {
					return nil
				}
				b, _ := os.ReadFile(filepath.Join(path, "cgroup.procs"))
				for _, f := range strings.Fields(string(b)) {
					if pid, err := strconv.Atoi(f); err == nil {
						alive++
						_ = syscall.Kill(pid, syscall.SIGKILL)
					}
				}
				return nil
			})
		}
		if alive == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	var errs []error
	for _, root := range roots {
		var dirs []string
		_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, path)
			}
			return nil
		})
		for i := len(dirs) - 1; i >= 0; i-- {
			var err error
			for range 50 { // a just-killed task may linger a moment
				if err = syscall.Rmdir(dirs[i]); err == nil || errors.Is(err, syscall.ENOENT) {
					err = nil
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("rmdir %s: %w", dirs[i], err))
			}
		}
	}
	return errors.Join(errs...)
}

// killShims kills the containerd shims serving the containerd socket sock:
// they run in their own process groups and outlive containerd.
func killShims(sock string) {
	procs, _ := os.ReadDir("/proc")
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", p.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(string(b), "\x00")
		if len(args) == 0 || !strings.Contains(filepath.Base(args[0]), "containerd-shim") {
			continue
		}
		for i, a := range args {
			if a == "-address" && i+1 < len(args) && args[i+1] == sock {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}
}

// cleanStale removes what a cluster of a process that died without Stop
// left: network namespaces and cgroups named mrel-<pid> of dead processes,
// their processes and shims. Clusters of live processes are left alone.
func cleanStale(ipPath string) {
	hier, _ := os.ReadDir("/sys/fs/cgroup")
	names := staleNames(hier)
	for name := range names {
		// Processes still in the namespace: shims and anything else.
		if out, err := exec.Command(ipPath, "netns", "pids", name).Output(); err == nil {
			for _, f := range strings.Fields(string(out)) {
				if pid, err := strconv.Atoi(f); err == nil {
					_ = syscall.Kill(pid, syscall.SIGKILL)
				}
			}
		}
		var roots []string
		for _, h := range hier {
			if dir := filepath.Join("/sys/fs/cgroup", h.Name(), name); isDir(dir) {
				roots = append(roots, dir)
			}
		}
		_ = killCgroupTree(roots)
		if _, err := os.Stat(filepath.Join(netnsDir, name)); err == nil {
			_ = exec.Command(ipPath, "netns", "del", name).Run()
		}
	}
	// Temporary state directories of dead processes.
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "realcluster-*", staleMarker))
	for _, marker := range dirs {
		b, err := os.ReadFile(marker)
		if err == nil && dead("mrel-"+strings.TrimSpace(string(b))) {
			_ = os.RemoveAll(filepath.Dir(marker))
		}
	}
	if len(names) > 0 {
		_ = removeNetnsDir()
	}
}

// dead says whether name is mrel-<pid> of a process that is gone.
func dead(name string) bool {
	pid, err := strconv.Atoi(strings.TrimPrefix(name, "mrel-"))
	if err != nil || !strings.HasPrefix(name, "mrel-") {
		return false
	}
	return !alive(pid)
}

// staleNames are the network namespaces and cgroup roots of dead owners.
func staleNames(hier []fs.DirEntry) map[string]bool {
	names := map[string]bool{}
	if entries, err := os.ReadDir(netnsDir); err == nil {
		for _, e := range entries {
			if dead(e.Name()) {
				names[e.Name()] = true
			}
		}
	}
	for _, h := range hier {
		sub, _ := os.ReadDir(filepath.Join("/sys/fs/cgroup", h.Name()))
		for _, e := range sub {
			if e.IsDir() && dead(e.Name()) {
				names[e.Name()] = true
			}
		}
	}
	return names
}

// staleMarker, in a temporary state directory, holds the owner's pid.
const staleMarker = "realcluster.pid"

// alive says whether pid runs (a zombie, which PID 1 may be slow to reap
// here, does not).
func alive(pid int) bool {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || (s[i+2] != 'Z' && s[i+2] != 'X')
}

func isDir(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}

// removeNetnsDir unmounts and removes /run/netns when this cluster made it
// and no namespace is left in it.
func removeNetnsDir() error {
	entries, err := os.ReadDir(netnsDir)
	if err != nil || len(entries) > 0 {
		return nil
	}
	if err := syscall.Unmount(netnsDir, syscall.MNT_DETACH); err != nil && !errors.Is(err, syscall.EINVAL) {
		return fmt.Errorf("umount %s: %w", netnsDir, err)
	}
	return os.Remove(netnsDir)
}
