#!/bin/sh
# chroot-check.sh ROOTFS SHOPFILES TMP
#
# Checks the shop image's files without a cluster, as uid 33 in a chroot:
# ROOTFS (the Debian base) with SHOPFILES (the shop and tag layers) overlaid,
# mounted under TMP. Run it inside fresh namespaces, which take every mount,
# the hostname and the loopback interface away when it ends:
#
#   unshare -m -n -u -p -f --propagation private sh chroot-check.sh ...
#
# $CONSUMER_SCRIPT and $CRON_SCRIPT are the operator's default consumer and
# cron shell scripts (sh -c). Prints PASS/FAIL lines; exits 1 on a failure.
set -u
rootfs=$1 shop=$2 tmp=$3
M=$tmp/merged
fails=0
pass() { echo "PASS $*"; }
fail() { echo "FAIL $*"; fails=$((fails + 1)); }
# Output files belong to uid 33: nginx and php-fpm reopen /dev/stdout and
# /proc/self/fd/2 as uid 33, which a root-owned file or pipe refuses (in a
# pod, containerd's shim hands the container pipes owned by its user).
out33() {
	: >"$1"
	chown 33:33 "$1"
}
# expect WANT_EXIT DESCRIPTION COMMAND...: OUT holds the command's output.
expect() {
	want=$1 desc=$2
	shift 2
	out33 "$tmp/out"
	"$@" >>"$tmp/out" 2>&1
	got=$?
	OUT=$(cat "$tmp/out")
	if [ "$got" = "$want" ]; then
		pass "$desc (exit $got)"
	else
		fail "$desc: exit $got, want $want"
		echo "$OUT" | sed 's/^/    /'
	fi
}
contains() { # contains DESCRIPTION TEXT WANT
	case $2 in
	*"$3"*) pass "$1" ;;
	*) fail "$1: no \"$3\" in:"; echo "$2" | sed 's/^/    /' ;;
	esac
}

mkdir -p "$tmp/upper" "$tmp/work" "$M"
mount -t overlay overlay -o "lowerdir=$shop:$rootfs,upperdir=$tmp/upper,workdir=$tmp/work" "$M" || exit 1
mount -t proc proc "$M/proc" || exit 1
mount --rbind /dev "$M/dev" || exit 1
ip link set lo up
hostname shop-php-fpm-blue-5d8f7c9b4-x2x7q
echo "127.0.0.1 shop-php-fpm-blue" >>"$M/etc/hosts"

# as33 COMMAND...: as www-data in the chroot, in the Magento root.
cat >"$tmp/as33" <<SH
#!/bin/sh
exec chroot --userspec=33:33 "$M" /bin/sh -c 'cd /var/www/html && exec "\$@"' as33 "\$@"
SH
cat >"$tmp/magento" <<SH
#!/bin/sh
exec "$tmp/as33" php bin/magento "\$@"
SH
chmod +x "$tmp/as33" "$tmp/magento"
as33=$tmp/as33 magento=$tmp/magento

# --- files and configs
for f in bin/magento pub/index.php pub/health_check.php app/shop.php; do
	expect 0 "php -l $f" chroot "$M" php -l "/var/www/html/$f"
done
expect 0 "the image's tools exist: sh, sleep, kill, nginx, php, php-fpm8.2" \
	chroot "$M" /bin/sh -c 'command -v sleep && command -v kill && command -v nginx && command -v php && command -v php-fpm8.2'
expect 0 "php-fpm -t as uid 33" $as33 php-fpm8.2 -t -y /etc/php/8.2/fpm/php-fpm.conf
expect 0 "web-entrypoint nginx -t as uid 33" env PHP_FPM_HOST=shop-php-fpm-blue PHP_FPM_PORT=9000 $as33 /usr/local/bin/web-entrypoint nginx -t
contains "generated upstream" "$(cat "$M/tmp/nginx/upstream.conf")" "server shop-php-fpm-blue:9000;"
expect 2 "web-entrypoint without PHP_FPM_HOST fails" $as33 /usr/local/bin/web-entrypoint true

# --- bin/magento (the tag needs setup:upgrade: SCHEMA is present)
expect 2 "setup:db:status before the upgrade" $magento setup:db:status
expect 0 "setup:db:status with MAGENTO_DB_STATUS=ok" env MAGENTO_DB_STATUS=ok $magento setup:db:status
expect 1 "setup:upgrade with MAGENTO_FAIL=setup:upgrade" env MAGENTO_FAIL=app:config:import,setup:upgrade $magento setup:upgrade
expect 0 "setup:upgrade --keep-generated" $magento setup:upgrade --keep-generated
expect 0 "setup:db:status after the upgrade" $magento setup:db:status
expect 2 "setup:db:status with MAGENTO_DB_STATUS=upgrade" env MAGENTO_DB_STATUS=upgrade $magento setup:db:status
expect 0 "app:config:status" $magento app:config:status
expect 2 "app:config:status with MAGENTO_CONFIG_STATUS=changes" env MAGENTO_CONFIG_STATUS=changes $magento app:config:status
expect 0 "app:config:import" $magento app:config:import
expect 0 "cron:run" $magento cron:run
expect 0 "cache:clean full_page" $magento cache:clean full_page
expect 1 "an unknown command" $magento no:such:command
start=$(date +%s)
expect 0 "cron:run with MAGENTO_DELAY=cron:run=2" env MAGENTO_DELAY=cron:run=2 $magento cron:run
[ $(($(date +%s) - start)) -ge 2 ] && pass "MAGENTO_DELAY delays" || fail "MAGENTO_DELAY did not delay"
list=$($magento queue:consumers:list 2>/dev/null)
[ "$(echo $list)" = "async.operations.all shop.export" ] && pass "queue:consumers:list prints two names" || fail "queue:consumers:list printed: $list"
contains "commands are logged with the host and colour" "$(cat "$M/var/www/html/var/log/magento-commands.log")" \
	"host=shop-php-fpm-blue-5d8f7c9b4-x2x7q version=$(cat "$M/var/www/html/VERSION") colour=blue: setup:upgrade --keep-generated: exit 0"

# queue:consumers:start runs until SIGTERM.
out33 "$tmp/consumer.out"
$magento queue:consumers:start shop.export --single-thread --max-messages=10000 >>"$tmp/consumer.out" 2>&1 &
pid=$!
sleep 2
kill -0 $pid 2>/dev/null && pass "consumer still running after 2 s" || fail "consumer stopped by itself"
kill -TERM $pid
wait $pid
code=$?
[ $code = 0 ] && pass "consumer exits 0 on SIGTERM" || fail "consumer exit $code on SIGTERM"
contains "consumer records SIGTERM" "$(cat "$tmp/consumer.out")" "stopped by SIGTERM"

# The operator's default cron and consumer scripts stop promptly on SIGTERM.
# A consumer runs at most 12 s here, so a script that misses SIGTERM still ends.
for which in CRON CONSUMER; do
	eval script=\${${which}_SCRIPT:-}
	[ -n "$script" ] || continue
	env MAGENTO_CONSUMER_SECONDS=12 $as33 /bin/sh -c "$script" >"$tmp/$which.out" 2>&1 &
	pid=$!
	sleep 3
	kill -TERM $pid
	took=0
	while kill -0 $pid 2>/dev/null && [ $took -lt 5 ]; do
		sleep 1
		took=$((took + 1))
	done
	if kill -0 $pid 2>/dev/null; then
		stopped=no
	else
		stopped=yes
	fi
	wait $pid
	code=$?
	if [ $stopped = yes ] && [ $code = 0 ]; then
		pass "default $which command stops on SIGTERM (exit 0 within ${took}s)"
	elif [ $which = CONSUMER ]; then
		# Known problem of the operator's DefaultConsumerCommand, not of the
		# image: with dash as /bin/sh (Debian, and the official php images),
		# "$(jobs -p)" runs in a subshell and is empty, so the trap's kill has
		# no arguments and its wait waits for the consumers to end by
		# themselves (in a pod: until SIGKILL at the grace period's end).
		echo "KNOWN default CONSUMER command did not stop within 5 s of SIGTERM (exit $code after the consumers ended):" \
			"\$(jobs -p) is empty in dash's command substitution, the trap's kill gets no pids"
	else
		fail "default $which command: still running 5 s after SIGTERM (exit $code)"
		sed 's/^/    /' "$tmp/$which.out"
	fi
done
contains "default consumer command started both consumers" "$(cat "$tmp/CONSUMER.out" 2>/dev/null)" "queue:consumers:start async.operations.all"

# --- nginx -> php-fpm over HTTP, as uid 33, in this network namespace
out33 "$tmp/fpm.log"
out33 "$tmp/nginx.log"
$as33 php-fpm8.2 --nodaemonize --fpm-config /etc/php/8.2/fpm/php-fpm.conf >>"$tmp/fpm.log" 2>&1 &
fpm=$!
env PHP_FPM_HOST=shop-php-fpm-blue PHP_FPM_PORT=9000 $as33 /usr/local/bin/web-entrypoint nginx -g 'daemon off;' >>"$tmp/nginx.log" 2>&1 &
web=$!
cat >"$M/tmp/get.php" <<'PHP'
<?php
$ctx = stream_context_create(['http' => ['ignore_errors' => true, 'timeout' => 3]]);
for ($i = 0; $i < 50; $i++) {
    $body = @file_get_contents($argv[1], false, $ctx);
    // Retry while nothing answers, or nginx is up before php-fpm (502).
    if ($body !== false && strpos($http_response_header[0], ' 502 ') === false) {
        echo $http_response_header[0], "\n";
        foreach ($http_response_header as $h) {
            if (stripos($h, 'X-') === 0) echo $h, "\n";
        }
        echo $body;
        exit(0);
    }
    usleep(100000);
}
echo "no answer from ", $argv[1], "\n";
exit(1);
PHP
get() { chroot --userspec=33:33 "$M" php /tmp/get.php "$1"; }
expect 0 "GET /" get http://127.0.0.1:8080/
contains "GET / answers 200" "$OUT" "200 OK"
contains "index page shows version and colour" "$OUT" "version=$(cat "$M/var/www/html/VERSION") colour=blue host=shop-php-fpm-blue-5d8f7c9b4-x2x7q"
contains "nginx adds X-Web-Host" "$OUT" "X-Web-Host: shop-php-fpm-blue"
expect 0 "GET /some/page (routed to index.php)" get http://127.0.0.1:8080/some/page?x=1
contains "/some/page goes to index.php" "$OUT" "uri=/some/page?x=1"
expect 0 "GET /health_check.php" get http://127.0.0.1:8080/health_check.php
contains "health check 200 OK" "$OUT" "200 OK"
echo bad >"$M/var/www/html/BAD"
expect 0 "GET /health_check.php with BAD" get http://127.0.0.1:8080/health_check.php
contains "health check of a bad tag answers 500" "$OUT" "500"
rm -f "$M/var/www/html/BAD"
expect 0 "GET /missing.php" get http://127.0.0.1:8080/missing.php
contains "a missing .php is 404" "$OUT" "404"

# The preStop hooks' commands: nginx -s quit finds the pid file; php-fpm
# finishes on SIGQUIT.
expect 0 "nginx -s quit as uid 33" $as33 /bin/sh -c "nginx -s quit"
wait $web
code=$?
[ $code = 0 ] && pass "nginx exits 0 after -s quit" || fail "nginx exit $code after -s quit"
kill -QUIT $fpm
wait $fpm
code=$?
[ $code = 0 ] && pass "php-fpm exits 0 on SIGQUIT" || fail "php-fpm exit $code on SIGQUIT"
contains "php-fpm logs its graceful stop" "$(cat "$tmp/fpm.log")" "Finishing"
contains "php-fpm access log on stderr" "$(cat "$tmp/fpm.log")" "GET /index.php"
contains "nginx access log on stdout" "$(cat "$tmp/nginx.log")" "GET /some/page"
if grep -qiE "permission denied|\[emerg\]|\[alert\]" "$tmp/nginx.log" "$tmp/fpm.log"; then
	fail "permission or start-up errors in the logs:"
	cat "$tmp/nginx.log" "$tmp/fpm.log" | sed 's/^/    /'
else
	pass "no permission errors in the nginx and php-fpm logs"
fi

echo "$fails failures"
[ $fails = 0 ]
