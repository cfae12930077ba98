<?php
// Shared helpers of the shop test image's PHP (pub/*.php, bin/magento).
//
// Files the image carries in /var/www/html (the per-tag layer):
//   VERSION  the image tag
//   BAD      present in a "bad" tag: pub/health_check.php answers 500
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

function shop_bad(): bool
{
    return is_file(SHOP_ROOT . '/BAD') || getenv('SHOP_HEALTH') === 'fail';
}
