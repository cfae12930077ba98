<?php
// Health check of the shop test image: 200 "OK", or 500 when the tag is a
// bad one (the file /var/www/html/BAD) or $SHOP_HEALTH is "fail".
require __DIR__ . '/../app/shop.php';
header('Content-Type: text/plain');
header('X-Shop-Version: ' . shop_version());
if (shop_bad()) {
    http_response_code(500);
    echo 'BAD ', shop_version(), "\n";
    return;
}
echo "OK\n";
