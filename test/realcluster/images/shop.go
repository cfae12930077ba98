package images

import (
	"context"
	"embed"
	"errors"
	"os"
	"path/filepath"
)

// The shop test images' repositories: a MagentoRelease's spec.images.app and
// spec.images.web; the operator appends the slot's tag.
const (
	ShopAppRepo = "localhost/shop/php"
	ShopWebRepo = "localhost/shop/nginx"
)

// Paths and settings inside the shop images.
const (
	ShopRoot    = "/var/www/html" // WORKDIR: bin/magento, pub/, VERSION
	ShopUser    = "33:33"         // www-data
	ShopWebPort = 8080            // the operator's default spec.web.port
	ShopFPMPort = 9000
)

// DefaultPackages are installed into the shop images' Debian rootfs.
// systemd-standalone-tmpfiles satisfies php8.2-fpm's "systemd |
// systemd-tmpfiles" without pulling in systemd.
var DefaultPackages = []string{"nginx-light", "php8.2-fpm", "php8.2-cli", "systemd-standalone-tmpfiles"}

// buildBaseScript builds the Debian base rootfs with debootstrap (buildBase).
//
//go:embed assets/build-base.sh
var buildBaseScript []byte

// shopFiles are the files of the shop layer, under shop/ (shopLayerFiles).
//
//go:embed all:shop
var shopFiles embed.FS

// ShopConfig says which shop images to build and how.
type ShopConfig struct {
	// Tags to build; each gives localhost/shop/php:<tag> and localhost/shop/nginx:<tag>.
	Tags []string
	// Bad tags carry /var/www/html/BAD: pub/health_check.php answers 500.
	Bad map[string]bool
	// Upgrade tags carry /var/www/html/SCHEMA (the tag): bin/magento
	// setup:db:status exits 2 until setup:upgrade has recorded that schema.
	Upgrade map[string]bool
	// BrokenAfter tags carry /var/www/html/BROKEN_AFTER (the number): each
	// php-fpm pod answers its storefront page (/) with 500 once it has
	// answered that many, while its health check keeps passing. 0 breaks the
	// page from the start; more lets a few checks pass and then breaks under
	// traffic.
	BrokenAfter map[string]int
	// AppStopSignal is the php image's STOPSIGNAL; default SIGQUIT, as in
	// the official PHP-FPM images: php-fpm's graceful stop. The cron and
	// consumer containers run the same image; the operator's default
	// commands stop on it too.
	AppStopSignal string
	// WebStopSignal is the nginx image's STOPSIGNAL; default SIGQUIT
	// (nginx's graceful stop).
	WebStopSignal string
	// Suite is the Debian suite; default bookworm.
	Suite string
	// Sources is the deb822 apt sources file used inside the chroot; its
	// first URI is debootstrap's mirror. Default the host's
	// /etc/apt/sources.list.d/debian.sources.
	Sources string
	// Packages to install; default DefaultPackages.
	Packages []string
}

func (c ShopConfig) withDefaults() ShopConfig {
	if c.AppStopSignal == "" {
		c.AppStopSignal = "SIGQUIT"
	}
	if c.WebStopSignal == "" {
		c.WebStopSignal = "SIGQUIT"
	}
	if c.Suite == "" {
		c.Suite = "bookworm"
	}
	if c.Sources == "" {
		c.Sources = "/etc/apt/sources.list.d/debian.sources"
	}
	if len(c.Packages) == 0 {
		c.Packages = DefaultPackages
	}
	return c
}

// ShopImages builds localhost/shop/php:<tag> and localhost/shop/nginx:<tag>
// for every tag into one docker-archive tarball under cacheDir and returns
// them (all with the same Path), php before nginx for each tag. Tags in bad
// get a health check answering 500.
func ShopImages(ctx context.Context, cacheDir string, tags []string, bad map[string]bool) ([]Image, error) {
	return BuildShop(ctx, cacheDir, ShopConfig{Tags: tags, Bad: bad})
}

// ShopAppRef and ShopWebRef are the references of the shop images of a tag,
// as the operator renders them from ShopAppRepo and ShopWebRepo.
func ShopAppRef(tag string) string { return ShopAppRepo + ":" + tag }

// ShopWebRef: see ShopAppRef.
func ShopWebRef(tag string) string { return ShopWebRepo + ":" + tag }

// BuildShop is ShopImages with every setting. The Debian base layer is built
// once (needs root and debootstrap, a few minutes) and cached by the package
// list, apt sources, suite and build script; the tarball is cached by
// everything that goes into it.
func BuildShop(ctx context.Context, cacheDir string, cfg ShopConfig) ([]Image, error) {
	cfg = cfg.withDefaults()
	if len(cfg.Tags) == 0 {
		return nil, errors.New("no tags")
	}
	cacheDir, err := filepath.Abs(cacheDir)
	if err != nil {
		return nil, err
	}
	unlock, err := lock(ctx, cacheDir)
	if err != nil {
		return nil, err
	}
	defer unlock()
	base, err := buildBase(ctx, cacheDir, cfg)
	if err != nil {
		return nil, err
	}
	return shopArchive(cacheDir, base.key, base.tarball, cfg)
}

// ShopRootfs is the directory of the shop images' Debian base (without the
// shop files), built or unpacked when missing: for chroot checks.
func ShopRootfs(ctx context.Context, cacheDir string, cfg ShopConfig) (string, error) {
	cfg = cfg.withDefaults()
	cacheDir, err := filepath.Abs(cacheDir)
	if err != nil {
		return "", err
	}
	unlock, err := lock(ctx, cacheDir)
	if err != nil {
		return "", err
	}
	defer unlock()
	base, err := buildBase(ctx, cacheDir, cfg)
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(filepath.Join(base.rootfs, "usr/sbin/nginx")); err == nil {
		return base.rootfs, nil
	}
	tmp := base.rootfs + ".tmp"
	_ = os.RemoveAll(tmp)
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return "", err
	}
	if err := run(ctx, "", nil, "tar", "--numeric-owner", "-xzf", base.tarball, "-C", tmp); err != nil {
		return "", err
	}
	_ = os.RemoveAll(base.rootfs)
	return base.rootfs, os.Rename(tmp, base.rootfs)
}

// ShopFiles writes the shop layer's files (configs, bin/magento, pub/) and a
// tag's files into dir, e.g. an overlay over ShopRootfs, for chroot checks.
func ShopFiles(dir, tag string, bad, upgrade bool) error {
	files, err := shopLayerFiles()
	if err != nil {
		return err
	}
	files = append(files, versionFiles(tag, bad, upgrade, -1)...)
	for _, f := range files {
		p := filepath.Join(dir, f.path)
		switch {
		case f.dir:
			if err := os.MkdirAll(p, os.FileMode(f.mode)); err != nil {
				return err
			}
		default:
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(p, f.data, os.FileMode(f.mode)); err != nil {
				return err
			}
		}
		if err := os.Chmod(p, os.FileMode(f.mode)); err != nil {
			return err
		}
		if err := os.Lchown(p, f.uid, f.gid); err != nil && os.Geteuid() == 0 {
			return err
		}
	}
	return nil
}
