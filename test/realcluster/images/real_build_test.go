//go:build real

package images

import (
	"context"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// These tests build the real images (root, network to the Debian mirror for
// the first build). Run them with
//
//	go test -tags real -v ./test/realcluster/images/
//
// The cache is <repo>/bin/realimages unless $REALIMAGES_CACHE names another.

// realTags are built by the real tests: v2 needs setup:upgrade, v3-bad fails
// its health check.
var realConfig = ShopConfig{
	Tags:    []string{"v1", "v2", "v3-bad"},
	Bad:     map[string]bool{"v3-bad": true},
	Upgrade: map[string]bool{"v2": true},
}

func repoRoot(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Dir(strings.TrimSpace(string(out)))
}

func cacheDir(t *testing.T) string {
	if d := os.Getenv("REALIMAGES_CACHE"); d != "" {
		return d
	}
	return filepath.Join(repoRoot(t), "bin", "realimages")
}

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
}

func TestRealShopImages(t *testing.T) {
	needRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	start := time.Now()
	imgs, err := BuildShop(ctx, cacheDir(t), realConfig)
	if err != nil {
		t.Fatal(err)
	}
	first := time.Since(start)
	start = time.Now()
	again, err := BuildShop(ctx, cacheDir(t), realConfig)
	if err != nil {
		t.Fatal(err)
	}
	warm := time.Since(start)
	t.Logf("shop images: first call %v, second call %v", first.Round(time.Millisecond), warm.Round(time.Millisecond))
	if warm > 10*time.Second {
		t.Errorf("second build took %v, want the cache to answer in seconds", warm)
	}
	if len(again) != len(imgs) || again[0] != imgs[0] {
		t.Errorf("second build gave %v, first %v", again, imgs)
	}
	for _, p := range Paths(imgs) {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %d MB", p, st.Size()>>20)
	}
	checkShopImages(t, imgs, realConfig.withDefaults())
}

func TestRealOperatorImage(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	start := time.Now()
	img, err := OperatorImage(ctx, repoRoot(t), cacheDir(t))
	if err != nil {
		t.Fatal(err)
	}
	first := time.Since(start)
	start = time.Now()
	if _, err := OperatorImage(ctx, repoRoot(t), cacheDir(t)); err != nil {
		t.Fatal(err)
	}
	t.Logf("operator image %s (%s): first call %v, second call %v", img.Ref, img.Path,
		first.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	if st, err := os.Stat(img.Path); err == nil {
		t.Logf("%s: %.1f MB", img.Path, float64(st.Size())/(1<<20))
	}
	checkOperatorImage(t, img)

	// The binary is static: no program interpreter.
	f, err := elf.Open(filepath.Join(cacheDir(t), "manager-linux-"+runtime.GOARCH))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("manager binary is dynamically linked")
		}
	}
}
