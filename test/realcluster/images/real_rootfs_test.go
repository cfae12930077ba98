//go:build real

package images

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/magento-operator/magento-operator/internal/specs"
)

// TestRealShopRootfs runs testdata/chroot-check.sh: the shop files over the
// Debian base in a chroot as uid 33, in private mount, network, UTS and PID
// namespaces: php -l, php-fpm -t, nginx -t, bin/magento's exit codes, the
// operator's default cron and consumer scripts, HTTP through nginx to
// php-fpm, and the preStop hooks' stop commands.
func TestRealShopRootfs(t *testing.T) {
	needRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	rootfs, err := ShopRootfs(ctx, cacheDir(t), realConfig)
	if err != nil {
		t.Fatal(err)
	}
	shop := t.TempDir()
	if err := ShopFiles(shop, "v2", false, true); err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	checkCtx, cancelCheck := context.WithTimeout(ctx, 5*time.Minute)
	defer cancelCheck()
	// --kill-child: when unshare is killed, so is the namespace's PID 1 and
	// with it every process of the check.
	cmd := exec.CommandContext(checkCtx, "unshare", "-m", "-n", "-u", "-p", "-f", "--kill-child", "--propagation", "private",
		"sh", "testdata/chroot-check.sh", rootfs, shop, tmp)
	cmd.Env = append(os.Environ(),
		"CONSUMER_SCRIPT="+specs.DefaultConsumerCommand[2],
		"CRON_SCRIPT="+specs.DefaultCronCommand[2])
	out, err := cmd.CombinedOutput()
	t.Logf("chroot-check.sh:\n%s", out)
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "KNOWN ") {
			t.Logf("operator problem found: %s", l)
		}
	}
	if err != nil || strings.Contains(string(out), "FAIL ") {
		t.Fatalf("chroot checks failed: %v", err)
	}
}
