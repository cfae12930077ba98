// This file lays the shop's files and each tag's own files over the base
// layer, and writes the php and nginx images of every tag into one cached
// docker-archive tarball.

package images

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// executable shop files; the others are 0644.
var executable = map[string]bool{
	"usr/local/bin/web-entrypoint": true,
	"var/www/html/bin/magento":     true,
}

// shopLayerFiles are the files of the layer over the Debian base: nginx and
// php-fpm config, the web entrypoint, bin/magento and pub/.
func shopLayerFiles() ([]file, error) {
	dirs := []file{ //nolint:prealloc // the directories come first, then the files walked below
		{path: "var/www/html/app", mode: 0o755, dir: true},
		{path: "var/www/html/bin", mode: 0o755, dir: true},
		{path: "var/www/html/pub", mode: 0o755, dir: true},
		// Writable by www-data: bin/magento's log and state.
		{path: "var/www/html/var", mode: 0o775, dir: true, uid: 33, gid: 33},
		{path: "var/www/html/var/log", mode: 0o775, dir: true, uid: 33, gid: 33},
	}
	var files []file
	err := fs.WalkDir(shopFiles, "shop", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := shopFiles.ReadFile(p)
		if err != nil {
			return err
		}
		rel := strings.TrimPrefix(p, "shop/")
		mode := int64(0o644)
		if executable[rel] {
			mode = 0o755
		}
		files = append(files, file{path: rel, mode: mode, data: data})
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(files, func(i, j int) bool { return files[i].path < files[j].path })
	return append(dirs, files...), nil
}

// versionFiles are the files of a tag's own layer; brokenAfter < 0 for a
// storefront that never breaks.
func versionFiles(tag string, bad, upgrade bool, brokenAfter int) []file {
	files := []file{{path: "var/www/html/VERSION", mode: 0o644, data: []byte(tag + "\n")}}
	if brokenAfter >= 0 {
		files = append(files, file{path: "var/www/html/BROKEN_AFTER", mode: 0o644, data: []byte(strconv.Itoa(brokenAfter) + "\n")})
	}
	if bad {
		files = append(files, file{path: "var/www/html/BAD", mode: 0o644, data: []byte("health_check.php answers 500\n")})
	}
	if upgrade {
		files = append(files, file{path: "var/www/html/SCHEMA", mode: 0o644, data: []byte(tag + "\n")})
	}
	return files
}

var shopEnv = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}

// shopConfigs are the runtime configs of the php and nginx images of a tag.
func shopConfigs(tag string, cfg ShopConfig) (app, web v1.Config) {
	labels := func(role string) map[string]string {
		return map[string]string{
			"org.opencontainers.image.title":   "magento-operator shop test image (" + role + ")",
			"org.opencontainers.image.version": tag,
		}
	}
	app = v1.Config{
		User:         ShopUser,
		WorkingDir:   ShopRoot,
		Env:          shopEnv,
		Cmd:          []string{"php-fpm8.2", "--nodaemonize", "--fpm-config", "/etc/php/8.2/fpm/php-fpm.conf"},
		ExposedPorts: map[string]struct{}{fmt.Sprintf("%d/tcp", ShopFPMPort): {}},
		StopSignal:   cfg.AppStopSignal,
		Labels:       labels("php-fpm"),
	}
	web = v1.Config{
		User:         ShopUser,
		WorkingDir:   ShopRoot,
		Env:          shopEnv,
		Entrypoint:   []string{"/usr/local/bin/web-entrypoint"},
		Cmd:          []string{"nginx", "-g", "daemon off;"},
		ExposedPorts: map[string]struct{}{fmt.Sprintf("%d/tcp", ShopWebPort): {}},
		StopSignal:   cfg.WebStopSignal,
		Labels:       labels("nginx"),
	}
	return app, web
}

// archiveFormat changes when this package writes shop archives differently.
const archiveFormat = "shop-archive-1"

// shopArchive builds (or finds) the tarball of cfg's tags over the base
// layer at basePath.
func shopArchive(cacheDir, baseKey, basePath string, cfg ShopConfig) ([]Image, error) {
	files, err := shopLayerFiles()
	if err != nil {
		return nil, err
	}
	shop, err := layerOf(files)
	if err != nil {
		return nil, err
	}
	shopDigest, err := shop.Digest()
	if err != nil {
		return nil, err
	}
	type built struct {
		ref string
		cfg v1.Config
		ver v1.Layer
	}
	var all []built
	var keyParts [][]byte
	keyParts = append(keyParts, []byte(archiveFormat), []byte(baseKey), []byte(shopDigest.String()), []byte(runtime.GOARCH))
	seen := map[string]bool{}
	for _, tag := range cfg.Tags {
		if seen[tag] {
			continue
		}
		seen[tag] = true
		if !validTag(tag) {
			return nil, fmt.Errorf("tag %q is not a valid image tag", tag)
		}
		after, broken := cfg.BrokenAfter[tag]
		if !broken {
			after = -1
		}
		ver, err := layerOf(versionFiles(tag, cfg.Bad[tag], cfg.Upgrade[tag], after))
		if err != nil {
			return nil, err
		}
		vd, err := ver.Digest()
		if err != nil {
			return nil, err
		}
		app, web := shopConfigs(tag, cfg)
		for _, b := range []built{{ShopAppRef(tag), app, ver}, {ShopWebRef(tag), web, ver}} {
			cj, err := json.Marshal(b.cfg)
			if err != nil {
				return nil, err
			}
			keyParts = append(keyParts, []byte(b.ref), cj, []byte(vd.String()))
			all = append(all, b)
		}
	}
	path := filepath.Join(cacheDir, "shop-"+key(keyParts...)+".tar")
	if imgs, ok := cachedArchive(path); ok {
		return orderLike(imgs, all, func(b built) string { return b.ref }), nil
	}
	baseLayer, err := tarball.LayerFromFile(basePath)
	if err != nil {
		return nil, err
	}
	imgs := map[string]v1.Image{}
	for _, b := range all {
		img, err := imageOf(b.cfg, baseLayer, shop, b.ver)
		if err != nil {
			return nil, err
		}
		imgs[b.ref] = img
	}
	out, err := writeArchive(path, imgs)
	if err != nil {
		return nil, err
	}
	return orderLike(out, all, func(b built) string { return b.ref }), nil
}

// orderLike sorts imgs in the order of the references of want.
func orderLike[T any](imgs []Image, want []T, ref func(T) string) []Image {
	pos := map[string]int{}
	for i, w := range want {
		pos[ref(w)] = i
	}
	sort.SliceStable(imgs, func(i, j int) bool { return pos[imgs[i].Ref] < pos[imgs[j].Ref] })
	return imgs
}

// validTag is the Docker tag grammar: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}.
func validTag(t string) bool {
	if t == "" || len(t) > 128 || t[0] == '.' || t[0] == '-' {
		return false
	}
	for _, r := range t {
		if r != '_' && r != '.' && r != '-' && (r < '0' || r > '9') && (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') {
			return false
		}
	}
	return true
}
