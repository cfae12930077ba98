<?php
// Index page of the shop test image: one line, key=value pairs.
require __DIR__ . '/../app/shop.php';
header('Content-Type: text/plain');
header('X-Shop-Version: ' . shop_version());
if (shop_broken()) {
    http_response_code(500);
    printf("BROKEN version=%s colour=%s host=%s: the storefront fails\n", shop_version(), shop_colour(), shop_host());
    return;
}
header('X-Shop-Colour: ' . shop_colour());
printf("version=%s colour=%s host=%s web=%s uri=%s\n",
    shop_version(), shop_colour(), shop_host(),
    $_SERVER['WEB_HOST'] ?? '-', $_SERVER['REQUEST_URI'] ?? '-');
