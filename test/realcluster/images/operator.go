package images

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// OperatorRef is the operator image's reference: render the install manifest
// with it (make build-installer IMG=localhost/magento-operator:dev, i.e.
// go run ./hack/render --image controller=localhost/magento-operator:dev config/default).
const OperatorRef = "localhost/magento-operator:dev"

// OperatorUser is the operator image's user, as in the Dockerfile's
// distroless nonroot base.
const OperatorUser = "65532:65532"

// OperatorImage builds the manager binary of the repository at repoRoot
// (CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" ./cmd, as the
// Dockerfile does) and packs it as OperatorRef into a docker-archive tarball
// under cacheDir: one layer with /manager, a passwd entry for 65532 and
// /tmp, entrypoint /manager, user 65532:65532. The tarball is cached by the
// binary's content; go's build cache makes the rebuild quick.
func OperatorImage(ctx context.Context, repoRoot, cacheDir string) (Image, error) {
	cacheDir, err := filepath.Abs(cacheDir)
	if err != nil {
		return Image{}, err
	}
	unlock, err := lock(ctx, cacheDir)
	if err != nil {
		return Image{}, err
	}
	defer unlock()
	bin := filepath.Join(cacheDir, "manager-linux-"+runtime.GOARCH)
	if err := buildStatic(ctx, repoRoot, "./cmd", bin); err != nil {
		return Image{}, err
	}
	return operatorArchive(cacheDir, bin)
}

// buildStatic builds the main package pkg of the repository at repoRoot as
// a static linux binary at bin.
func buildStatic(ctx context.Context, repoRoot, pkg, bin string) error {
	env := []string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=" + runtime.GOARCH}
	return run(ctx, repoRoot, env, "go", "build", "-trimpath", "-ldflags", "-s -w", "-o", bin, pkg)
}

// GoImage builds the main package pkg (relative to repoRoot, e.g.
// "./test/realcluster/testimages/pause") as a static binary and writes it,
// alone, as ref into a docker-archive tarball at out, with the binary as
// the entrypoint.
func GoImage(ctx context.Context, repoRoot, pkg, ref, out string) (Image, error) {
	bin := out + ".bin"
	if err := buildStatic(ctx, repoRoot, pkg, bin); err != nil {
		return Image{}, err
	}
	defer func() { _ = os.Remove(bin) }()
	data, err := os.ReadFile(bin)
	if err != nil {
		return Image{}, err
	}
	name := filepath.Base(pkg)
	layer, err := layerOf([]file{{path: name, mode: 0o755, data: data}})
	if err != nil {
		return Image{}, err
	}
	img, err := imageOf(v1.Config{Entrypoint: []string{"/" + name}}, layer)
	if err != nil {
		return Image{}, err
	}
	packed, err := writeArchive(out, map[string]v1.Image{ref: img})
	if err != nil {
		return Image{}, err
	}
	return packed[0], nil
}

// operatorConfig is the operator image's runtime config.
func operatorConfig() v1.Config {
	return v1.Config{
		User:       OperatorUser,
		WorkingDir: "/",
		Entrypoint: []string{"/manager"},
		Env:        []string{"PATH=/usr/local/bin:/usr/bin:/bin"},
		Labels:     map[string]string{"org.opencontainers.image.title": "magento-operator (real-cluster test build)"},
	}
}

// operatorArchive packs the binary at bin into the operator image's tarball.
func operatorArchive(cacheDir, bin string) (Image, error) {
	data, err := os.ReadFile(bin)
	if err != nil {
		return Image{}, err
	}
	files := []file{
		{path: "etc", mode: 0o755, dir: true},
		{path: "etc/passwd", mode: 0o644, data: []byte("root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n")},
		{path: "etc/group", mode: 0o644, data: []byte("root:x:0:\nnonroot:x:65532:\n")},
		{path: "home", mode: 0o755, dir: true},
		{path: "home/nonroot", mode: 0o700, dir: true, uid: 65532, gid: 65532},
		{path: "tmp", mode: 0o1777, dir: true},
		{path: "manager", mode: 0o755, data: data},
	}
	cj, err := json.Marshal(operatorConfig())
	if err != nil {
		return Image{}, err
	}
	path := filepath.Join(cacheDir, "operator-"+key([]byte("operator-archive-1"), data, cj, []byte(runtime.GOARCH))+".tar")
	if imgs, ok := cachedArchive(path); ok {
		return imgs[0], nil
	}
	layer, err := layerOf(files)
	if err != nil {
		return Image{}, err
	}
	img, err := imageOf(operatorConfig(), layer)
	if err != nil {
		return Image{}, err
	}
	out, err := writeArchive(path, map[string]v1.Image{OperatorRef: img})
	if err != nil {
		return Image{}, err
	}
	return out[0], nil
}
