<?php
// Shared helpers of the shop test image's PHP (pub/*.php, bin/magento).
//
// Files the image carries in /var/www/html (the per-tag layer):
//   VERSION  the image tag
//   BAD      present in a "bad" tag: pub/health_check.php answers 500
//   BROKEN_AFTER  a number N: the storefront (/) answers 500 once the pod
//            has answered N pages; the health check still passes
//   SCHEMA   present in a tag that needs setup:upgrade: the schema version
//            its code expects (see bin/magento setup:db:status)

const SHOP_ROOT = '/var/www/html';

function shop_read(string $file): ?string
{
    $path = SHOP_ROOT . '/' . $file;
    return is_file($path) ? trim((string) file_get_contents($path)) : null;
}

function shop_version(): string
{
    return shop_read('VERSION') ?? 'unknown';
}

function shop_host(): string
{
    return (string) gethostname();
}

// The colour of the pod: its name (the hostname) has -blue- or -green- in it
// (<release>-<component>-<colour>-<hash>-<id>); else $COLOUR, else "unknown".
function shop_colour(): string
{
    if (preg_match('/-(blue|green)(-|$)/', shop_host(), $m)) {
        return $m[1];
    }
    $c = getenv('COLOUR');
    return $c === false || $c === '' ? 'unknown' : $c;
}

// The storefront of a tag with BROKEN_AFTER (a number N) answers 500 once
// this pod has answered N pages: its health check passes, its pages break.
function shop_broken(): bool
{
    $after = shop_read('BROKEN_AFTER');
    if ($after === null) {
        return false;
    }
    $counter = '/tmp/shop-pages';
    $f = fopen($counter, 'c+');
    if ($f === false) {
        return true;
    }
    flock($f, LOCK_EX);
    $n = (int) stream_get_contents($f);
    ftruncate($f, 0);
    rewind($f);
    fwrite($f, (string) ($n + 1));
    flock($f, LOCK_UN);
    fclose($f);
    return $n >= (int) $after;
}

function shop_bad(): bool
{
    return is_file(SHOP_ROOT . '/BAD') || getenv('SHOP_HEALTH') === 'fail';
}
