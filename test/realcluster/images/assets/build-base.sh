#!/bin/sh
# build-base.sh ROOTFS SUITE MIRROR SOURCES PACKAGE...
#
# Builds the shop images' Debian rootfs in ROOTFS (created afresh):
# debootstrap --variant=minbase SUITE from MIRROR, then, in a chroot,
# apt-get install --no-install-recommends PACKAGE... with the apt sources
# file SOURCES (deb822, usually the host's /etc/apt/sources.list.d/debian.sources),
# then trims docs and prepares the paths the non-root nginx/php-fpm write to.
#
# Needs root and debootstrap (apt-get install debootstrap). Embedded in and
# run by the Go package test/realcluster/images, which packs ROOTFS into the
# images' base layer and caches it under bin/realimages/.
set -eu
rootfs=$1 suite=$2 mirror=$3 sources=$4
shift 4

rm -rf "$rootfs"
mkdir -p "$rootfs"
cleanup() {
	umount "$rootfs/proc" 2>/dev/null || true
}
trap cleanup EXIT INT TERM

debootstrap --variant=minbase "$suite" "$rootfs" "$mirror"

# apt inside the chroot: the host's sources (same mirror and security
# suite), no daemons started by maintainer scripts.
rm -f "$rootfs/etc/apt/sources.list"
cp "$sources" "$rootfs/etc/apt/sources.list.d/debian.sources"
printf '#!/bin/sh\nexit 101\n' >"$rootfs/usr/sbin/policy-rc.d"
chmod 0755 "$rootfs/usr/sbin/policy-rc.d"
# Keep docs, man pages and translations out from the start.
cat >"$rootfs/etc/dpkg/dpkg.cfg.d/01-nodoc" <<'CFG'
path-exclude=/usr/share/doc/*
path-include=/usr/share/doc/*/copyright
path-exclude=/usr/share/man/*
path-exclude=/usr/share/info/*
path-exclude=/usr/share/locale/*
path-include=/usr/share/locale/locale.alias
path-exclude=/usr/share/lintian/*
CFG
mount -t proc proc "$rootfs/proc"
chroot "$rootfs" env DEBIAN_FRONTEND=noninteractive LC_ALL=C apt-get update -q
chroot "$rootfs" env DEBIAN_FRONTEND=noninteractive LC_ALL=C \
	apt-get install -y -q --no-install-recommends "$@"
chroot "$rootfs" apt-get clean
umount "$rootfs/proc"

# Trim.
rm -f "$rootfs/usr/sbin/policy-rc.d"
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin \
	"$rootfs"/var/cache/debconf/*-old "$rootfs"/var/lib/dpkg/*-old \
	"$rootfs"/var/log/apt/* "$rootfs"/var/log/*.log \
	"$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* \
	"$rootfs"/usr/share/lintian/* "$rootfs"/tmp/* "$rootfs"/var/tmp/*
find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
find "$rootfs/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} + 2>/dev/null || true

# Non-root nginx and php-fpm (uid 33, www-data): nothing they write may
# need root. Logs go to stdout/stderr, pid and temp files to /tmp.
rm -f "$rootfs/etc/nginx/sites-enabled/default"
rm -rf "$rootfs/var/log/nginx"
mkdir -p "$rootfs/var/log/nginx"
ln -s /dev/stderr "$rootfs/var/log/nginx/error.log"
ln -s /dev/stdout "$rootfs/var/log/nginx/access.log"
chown 33:33 "$rootfs/var/log/nginx" "$rootfs/var/lib/nginx"
rm -f "$rootfs/etc/php/8.2/fpm/pool.d/www.conf"
chmod 1777 "$rootfs/tmp" "$rootfs/var/tmp"
mkdir -p "$rootfs/var/www/html"
