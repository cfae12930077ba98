//go:build real

package images

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRealContainerd imports the images into a private containerd (own root,
// state and socket under a temp dir, CRI plugin off; skipped when containerd,
// ctr or runc is missing) and runs them with runc: php-fpm is PID 1 as uid
// 33 and stops on SIGQUIT, the images' stop signal, which the kubelet sends
// after the preStop sleep; nginx starts from the entrypoint and stops on
// SIGQUIT too. Set
// $REALIMAGES_CONTAINERD to an existing containerd socket to import there
// (namespace k8s.io) instead and skip the runs.
func TestRealContainerd(t *testing.T) {
	needRoot(t)
	for _, b := range []string{"containerd", "ctr", "runc"} {
		if _, err := exec.LookPath(b); err != nil {
			t.Skipf("%s not installed", b)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	shop, err := BuildShop(ctx, cacheDir(t), realConfig)
	if err != nil {
		t.Fatal(err)
	}
	op, err := OperatorImage(ctx, repoRoot(t), cacheDir(t))
	if err != nil {
		t.Fatal(err)
	}
	all := append(shop, op)

	if sock := os.Getenv("REALIMAGES_CONTAINERD"); sock != "" {
		start := time.Now()
		if err := Import(ctx, "ctr", sock, "k8s.io", all...); err != nil {
			t.Fatal(err)
		}
		t.Logf("imported into %s (k8s.io) in %v", sock, time.Since(start).Round(time.Millisecond))
		checkListed(t, ctx, sock, "k8s.io", all)
		return
	}

	dir, err := os.MkdirTemp("", "rimg-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	sock := filepath.Join(dir, "c.sock")
	conf := fmt.Sprintf("version = 2\nroot = %q\nstate = %q\ndisabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n"+
		"[grpc]\n  address = %q\n[ttrpc]\n  address = %q\n", dir+"/root", dir+"/state", sock, sock+".ttrpc")
	if err := os.WriteFile(dir+"/config.toml", []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	logf, _ := os.Create(dir + "/containerd.log")
	cd := exec.Command("containerd", "--config", dir+"/config.toml")
	cd.Stdout, cd.Stderr = logf, logf
	if err := cd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cd.Process.Kill()
		_ = cd.Wait()
		_ = exec.Command("umount", "-R", dir+"/root").Run()
		_ = exec.Command("umount", "-R", dir+"/state").Run()
	}()
	for i := 0; ; i++ {
		if exec.Command("ctr", "--address", sock, "version").Run() == nil {
			break
		}
		if i == 100 {
			b, _ := os.ReadFile(dir + "/containerd.log")
			t.Fatalf("containerd did not start:\n%s", b)
		}
		time.Sleep(100 * time.Millisecond)
	}
	const ns = "realimages-test"
	start := time.Now()
	if err := Import(ctx, "ctr", sock, ns, all...); err != nil {
		t.Fatal(err)
	}
	t.Logf("ctr images import of %d tarballs: %v", len(Paths(all)), time.Since(start).Round(time.Millisecond))
	checkListed(t, ctx, sock, ns, all)

	ctr := func(args ...string) (string, error) {
		out, err := exec.CommandContext(ctx, "ctr", append([]string{"--address", sock, "--namespace", ns}, args...)...).CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	// waitStopped waits until the task of id has stopped.
	waitStopped := func(id string, within time.Duration) bool {
		deadline := time.Now().Add(within)
		for time.Now().Before(deadline) {
			out, _ := ctr("task", "ls")
			for _, l := range strings.Split(out, "\n") {
				if f := strings.Fields(l); len(f) >= 3 && f[0] == id && f[2] == "STOPPED" {
					return true
				}
			}
			time.Sleep(200 * time.Millisecond)
		}
		return false
	}
	cleanup := func(id string) {
		_, _ = ctr("task", "kill", "-s", "SIGKILL", id)
		waitStopped(id, 5*time.Second)
		_, _ = ctr("task", "rm", "-f", id)
		_, _ = ctr("container", "rm", id)
	}

	// php-fpm: PID 1, uid 33, logs to the pipes containerd hands it, stops on
	// its stop signal.
	fpmLog := dir + "/fpm.log"
	if out, err := ctr("run", "-d", "--log-uri", "file://"+fpmLog, ShopAppRef("v1"), "rimg-fpm"); err != nil {
		t.Fatalf("ctr run php: %v\n%s", err, out)
	}
	defer cleanup("rimg-fpm")
	time.Sleep(2 * time.Second)
	if out, err := ctr("task", "exec", "--exec-id", "e1", "rimg-fpm", "/bin/sh", "-c", `id -u; tr '\0' ' ' </proc/1/cmdline; echo; pwd; cat VERSION`); err != nil ||
		!strings.Contains(out, "33\nphp-fpm: master process") || !strings.Contains(out, "/var/www/html\nv1") {
		t.Errorf("php container: %v\n%s", err, out)
	}
	if out, err := ctr("task", "exec", "--exec-id", "e2", "rimg-fpm", "php", "bin/magento", "setup:db:status"); err != nil {
		t.Errorf("bin/magento setup:db:status in the php container: %v\n%s", err, out)
	}
	if out, err := ctr("task", "kill", "-s", "SIGQUIT", "rimg-fpm"); err != nil {
		t.Errorf("ctr task kill: %v\n%s", err, out)
	}
	if !waitStopped("rimg-fpm", 10*time.Second) {
		t.Error("php-fpm did not stop on SIGQUIT")
	}
	time.Sleep(time.Second)
	// Not checked: with ctr run -d --log-uri file://, php-fpm's log (it
	// writes to the pipe containerd hands it as fd 2) has come out empty.
	b, _ := os.ReadFile(fpmLog)
	t.Logf("php-fpm log (%d bytes):\n%s", len(b), b)

	// nginx: the entrypoint writes the config, SIGQUIT stops it.
	webLog := dir + "/web.log"
	if out, err := ctr("run", "-d", "--log-uri", "file://"+webLog, "--env", "PHP_FPM_HOST=127.0.0.1", "--env", "PHP_FPM_PORT=9000",
		ShopWebRef("v1"), "rimg-web"); err != nil {
		t.Fatalf("ctr run nginx: %v\n%s", err, out)
	}
	defer cleanup("rimg-web")
	time.Sleep(2 * time.Second)
	if out, err := ctr("task", "exec", "--exec-id", "e1", "rimg-web", "/bin/sh", "-c", `id -u; tr '\0' ' ' </proc/1/cmdline`); err != nil ||
		!strings.Contains(out, "33\nnginx: master process") {
		t.Errorf("nginx container: %v\n%s", err, out)
	}
	if out, err := ctr("task", "kill", "-s", "SIGQUIT", "rimg-web"); err != nil {
		t.Errorf("ctr task kill: %v\n%s", err, out)
	}
	if !waitStopped("rimg-web", 10*time.Second) {
		t.Error("nginx did not stop on SIGQUIT")
	}
	b, _ = os.ReadFile(webLog)
	t.Logf("nginx log:\n%s", b)
	if strings.Contains(string(b), "[emerg]") || strings.Contains(string(b), "Permission denied") {
		t.Error("nginx logged errors")
	}
}

func checkListed(t *testing.T, ctx context.Context, sock, ns string, imgs []Image) {
	t.Helper()
	out, err := exec.CommandContext(ctx, "ctr", "--address", sock, "--namespace", ns, "images", "ls", "-q").CombinedOutput()
	if err != nil {
		t.Fatalf("ctr images ls: %v\n%s", err, out)
	}
	for _, i := range imgs {
		if !strings.Contains("\n"+string(out)+"\n", "\n"+i.Ref+"\n") {
			t.Errorf("containerd lacks %s; it has:\n%s", i.Ref, out)
		}
	}
}
