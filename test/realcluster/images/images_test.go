package images

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
	"github.com/magento-operator/magento-operator/internal/specs"
)

// The references the archives carry are exactly the ones the operator
// renders from spec.images.app/web = ShopAppRepo/ShopWebRepo and a tag.
func TestReferencesMatchTheOperator(t *testing.T) {
	imgs := v1alpha1.Images{App: ShopAppRepo, Web: ShopWebRepo}
	for _, tag := range []string{"v1", "2.4.7-p1", "v3-bad"} {
		app, err := specs.AppImage(imgs, v1alpha1.Slot{Tag: tag})
		if err != nil {
			t.Fatal(err)
		}
		web, err := specs.WebImage(imgs, v1alpha1.Slot{Tag: tag})
		if err != nil {
			t.Fatal(err)
		}
		if app != ShopAppRef(tag) || web != ShopWebRef(tag) {
			t.Errorf("operator renders %s and %s, archives carry %s and %s", app, web, ShopAppRef(tag), ShopWebRef(tag))
		}
	}
}

func TestFirstURI(t *testing.T) {
	deb822 := "Types: deb\n# comment\nURIs: http://deb.example/debian\nSuites: bookworm\n\nURIs: http://sec.example/x\n"
	if u, err := firstURI([]byte(deb822)); err != nil || u != "http://deb.example/debian" {
		t.Errorf("deb822: %q, %v", u, err)
	}
	if u, err := firstURI([]byte("deb [arch=amd64] http://m.example/debian bookworm main\n")); err != nil || u != "http://m.example/debian" {
		t.Errorf("one-line: %q, %v", u, err)
	}
}

// fakeBase is a small gzip layer standing in for the Debian base.
func fakeBase(t *testing.T, dir string) string {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, f := range []string{"./bin/sh", "./usr/sbin/nginx"} {
		if err := tw.WriteHeader(&tar.Header{Name: f, Mode: 0o755, Size: 4, Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		_, _ = tw.Write([]byte("fake"))
	}
	_ = tw.Close()
	_ = zw.Close()
	p := filepath.Join(dir, "base.tar.gz")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// The shop archive over a fake base: references, configs, layers, caching.
func TestShopArchive(t *testing.T) {
	dir := t.TempDir()
	cfg := ShopConfig{Tags: []string{"v1", "v2-bad", "v1"}, Bad: map[string]bool{"v2-bad": true}, Upgrade: map[string]bool{"v1": true}}.withDefaults()
	imgs, err := shopArchive(dir, "fakebase", fakeBase(t, dir), cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{ShopAppRef("v1"), ShopWebRef("v1"), ShopAppRef("v2-bad"), ShopWebRef("v2-bad")}
	var got []string
	for _, i := range imgs {
		got = append(got, i.Ref)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("refs %v, want %v", got, want)
	}
	if len(Paths(imgs)) != 1 {
		t.Errorf("want one tarball, got %v", Paths(imgs))
	}
	checkShopImages(t, imgs, cfg)

	// Cached: the same tarball, not rewritten.
	st, _ := os.Stat(imgs[0].Path)
	again, err := shopArchive(dir, "fakebase", filepath.Join(dir, "missing.tar.gz"), cfg)
	if err != nil {
		t.Fatalf("cached archive: %v", err)
	}
	st2, _ := os.Stat(again[0].Path)
	if !slices.Equal(again, imgs) || !st2.ModTime().Equal(st.ModTime()) {
		t.Errorf("cache miss: %v vs %v", again, imgs)
	}
	// Another base: another tarball.
	other, err := shopArchive(dir, "otherbase", fakeBase(t, t.TempDir()), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if other[0].Path == imgs[0].Path {
		t.Error("a new base key did not change the tarball")
	}
}

func TestOperatorArchive(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "manager")
	if err := os.WriteFile(bin, []byte("#!/bin/false\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	img, err := operatorArchive(dir, bin)
	if err != nil {
		t.Fatal(err)
	}
	if img.Ref != OperatorRef {
		t.Errorf("ref %s", img.Ref)
	}
	checkOperatorImage(t, img)
}

func TestImportNeedsCtr(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	if err := Import(context.Background(), "ctr", "/nonexistent.sock", "k8s.io", Image{Path: "x.tar"}); err == nil {
		t.Error("Import without ctr succeeded")
	}
}

// checkShopImages loads every image of imgs from its tarball and checks the
// config and the per-tag layer.
func checkShopImages(t *testing.T, imgs []Image, cfg ShopConfig) {
	t.Helper()
	for _, i := range imgs {
		tag, err := name.NewTag(i.Ref)
		if err != nil {
			t.Fatal(err)
		}
		img, err := tarball.ImageFromPath(i.Path, &tag)
		if err != nil {
			t.Fatalf("%s: %v", i.Ref, err)
		}
		id, _ := img.ConfigName()
		if id.String() != i.ID {
			t.Errorf("%s: config digest %s, recorded %s", i.Ref, id, i.ID)
		}
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		c := cf.Config
		if cf.OS != "linux" || cf.Architecture == "" {
			t.Errorf("%s: platform %s/%s", i.Ref, cf.OS, cf.Architecture)
		}
		if c.User != "33:33" || c.WorkingDir != "/var/www/html" || !slices.Contains(c.Env, shopEnv[0]) {
			t.Errorf("%s: user %q, workdir %q, env %v", i.Ref, c.User, c.WorkingDir, c.Env)
		}
		v := tag.TagStr()
		if c.Labels["org.opencontainers.image.version"] != v {
			t.Errorf("%s: labels %v", i.Ref, c.Labels)
		}
		switch tag.RepositoryStr() {
		case "shop/php":
			if len(c.Entrypoint) != 0 || !slices.Equal(c.Cmd[:2], []string{"php-fpm8.2", "--nodaemonize"}) ||
				c.StopSignal != cfg.AppStopSignal {
				t.Errorf("%s: entrypoint %v, cmd %v, stop signal %s", i.Ref, c.Entrypoint, c.Cmd, c.StopSignal)
			}
			if _, ok := c.ExposedPorts["9000/tcp"]; !ok {
				t.Errorf("%s: ports %v", i.Ref, c.ExposedPorts)
			}
		case "shop/nginx":
			if !slices.Equal(c.Entrypoint, []string{"/usr/local/bin/web-entrypoint"}) ||
				!slices.Equal(c.Cmd, []string{"nginx", "-g", "daemon off;"}) || c.StopSignal != cfg.WebStopSignal {
				t.Errorf("%s: entrypoint %v, cmd %v, stop signal %s", i.Ref, c.Entrypoint, c.Cmd, c.StopSignal)
			}
			if _, ok := c.ExposedPorts["8080/tcp"]; !ok {
				t.Errorf("%s: ports %v", i.Ref, c.ExposedPorts)
			}
		default:
			t.Errorf("unexpected repository %s", tag.RepositoryStr())
		}
		layers, err := img.Layers()
		if err != nil || len(layers) != 3 {
			t.Fatalf("%s: %d layers, %v", i.Ref, len(layers), err)
		}
		shop, err := layers[1].Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		sf := layerFiles(t, shop)
		for _, f := range []string{"etc/nginx/nginx.conf", "etc/php/8.2/fpm/php-fpm.conf", "etc/php/8.2/fpm/pool.d/shop.conf",
			"usr/local/bin/web-entrypoint", "var/www/html/bin/magento", "var/www/html/pub/health_check.php",
			"var/www/html/pub/index.php", "var/www/html/var/log/"} {
			if _, ok := sf[f]; !ok {
				t.Errorf("%s: shop layer lacks %s", i.Ref, f)
			}
		}
		if !strings.Contains(sf["etc/php/8.2/fpm/pool.d/shop.conf"], "clear_env = no") {
			t.Errorf("%s: pool config lacks clear_env = no", i.Ref)
		}
		ver, err := layers[2].Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		vf := layerFiles(t, ver)
		if vf["var/www/html/VERSION"] != v+"\n" {
			t.Errorf("%s: VERSION %q", i.Ref, vf["var/www/html/VERSION"])
		}
		if _, bad := vf["var/www/html/BAD"]; bad != cfg.Bad[v] {
			t.Errorf("%s: BAD marker %v, want %v", i.Ref, bad, cfg.Bad[v])
		}
		if _, up := vf["var/www/html/SCHEMA"]; up != cfg.Upgrade[v] {
			t.Errorf("%s: SCHEMA marker %v, want %v", i.Ref, up, cfg.Upgrade[v])
		}
	}
	checkRepoTags(t, imgs)
}

// checkRepoTags reads the tarballs' manifest.json: the references must be
// stored as is (localhost/..., not docker.io/...).
func checkRepoTags(t *testing.T, imgs []Image) {
	t.Helper()
	for _, p := range Paths(imgs) {
		m, err := tarball.LoadManifest(func() (io.ReadCloser, error) { return os.Open(p) })
		if err != nil {
			t.Fatal(err)
		}
		var tags []string
		for _, d := range m {
			tags = append(tags, d.RepoTags...)
		}
		for _, i := range imgs {
			if i.Path == p && !slices.Contains(tags, i.Ref) {
				t.Errorf("%s: RepoTags %v lack %s", p, tags, i.Ref)
			}
		}
	}
}

func checkOperatorImage(t *testing.T, i Image) {
	t.Helper()
	tag, err := name.NewTag(i.Ref)
	if err != nil {
		t.Fatal(err)
	}
	img, err := tarball.ImageFromPath(i.Path, &tag)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	c := cf.Config
	if c.User != "65532:65532" || !slices.Equal(c.Entrypoint, []string{"/manager"}) || cf.OS != "linux" {
		t.Errorf("operator config: user %q, entrypoint %v, os %q", c.User, c.Entrypoint, cf.OS)
	}
	layers, err := img.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("%d layers, %v", len(layers), err)
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	rc2, _ := layers[0].Uncompressed()
	defer func() { _ = rc2.Close() }()
	tr := tar.NewReader(rc2)
	found := false
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		if h.Name == "manager" && h.Mode&0o111 != 0 {
			found = true
		}
	}
	_ = rc.Close()
	if !found {
		t.Error("no executable /manager in the operator layer")
	}
	checkRepoTags(t, []Image{i})
}

// layerFiles lists the files of a layer with their contents (small ones).
func layerFiles(t *testing.T, rc io.ReadCloser) map[string]string {
	t.Helper()
	defer func() { _ = rc.Close() }()
	out := map[string]string{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		data := ""
		if h.Size < 1<<16 {
			b, _ := io.ReadAll(tr)
			data = string(b)
		}
		out[strings.TrimPrefix(h.Name, "./")] = data
	}
}
