#!/usr/bin/env bash
# bench/run.sh: wsusd next to nginx on loopback, in one run.
#
# Both servers serve the same content directory with the same certificates
# and are driven by the same wrk / openssl s_time commands, alternating
# server by server and case by case, so both see the same machine load.
# The table goes to stdout and into docs/PERFORMANCE.md (only between the
# "bench:begin" and "bench:end" markers). It reports; it never fails on a
# slow ratio. It fails only when a tool is missing or a server cannot start.
#
# Environment (defaults in brackets):
#   WSUSD, WSUSUTIL      binaries [build/wsusd, build/wsusutil]
#   BENCH_DURATION       seconds per measured run [5]
#   BENCH_ROUNDS         measured runs per case and server; median kept [3]
#   BENCH_THREADS        wrk -t [2]
#   BENCH_CONNS          wrk -c for small requests and handshakes [64]
#   BENCH_CONNS_LARGE    wrk -c for the 50 MB file [8]
#   BENCH_STIME_PROCS    parallel "openssl s_time -new" processes [2]
#   BENCH_PORT           wsusd HTTPS port [18443]; wsusd uses PORT-1,
#                        PORT+9, PORT+10; nginx PORT+37 .. PORT+40
#   BENCH_OUT            markdown to update [docs/PERFORMANCE.md]; "-": none
set -eu

die() {
	echo "bench: $*" >&2
	exit 1
}

abspath() {
	case $1 in
	/*) printf '%s\n' "$1" ;;
	*) printf '%s/%s\n' "$PWD" "$1" ;;
	esac
}

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH_DIR=$ROOT/bench
WSUSD=$(abspath "${WSUSD:-$ROOT/build/wsusd}")
WSUSUTIL=$(abspath "${WSUSUTIL:-$ROOT/build/wsusutil}")
DUR=${BENCH_DURATION:-5}
ROUNDS=${BENCH_ROUNDS:-3}
THREADS=${BENCH_THREADS:-2}
CONNS=${BENCH_CONNS:-64}
CONNS_LARGE=${BENCH_CONNS_LARGE:-8}
STIME_PROCS=${BENCH_STIME_PROCS:-2}
PORT=${BENCH_PORT:-18443}
OUT=${BENCH_OUT:-$ROOT/docs/PERFORMANCE.md}
[ "$OUT" = - ] || OUT=$(abspath "$OUT")

posint() { # NAME VALUE
	case $2 in
	'' | *[!0-9]* | 0) die "$1 must be a positive integer, not '$2'" ;;
	esac
}
posint BENCH_DURATION "$DUR"
posint BENCH_ROUNDS "$ROUNDS"
posint BENCH_THREADS "$THREADS"
posint BENCH_CONNS "$CONNS"
posint BENCH_CONNS_LARGE "$CONNS_LARGE"
posint BENCH_STIME_PROCS "$STIME_PROCS"
posint BENCH_PORT "$PORT"
if [ "$PORT" -lt 1025 ] || [ "$PORT" -gt 65000 ]; then
	die "BENCH_PORT must be within 1025..65000"
fi

for t in wrk nginx openssl curl python3 timeout sha256sum; do
	command -v "$t" >/dev/null 2>&1 ||
		die "$t not found (./scripts/deps installs the tools)"
done
[ -x "$WSUSD" ] || die "$WSUSD missing: build first (make bench does)"
[ -x "$WSUSUTIL" ] || die "$WSUSUTIL missing: build first"

W_HTTPS=$PORT
W_HTTP=$((PORT - 1))
W_RSA_HTTPS=$((PORT + 10))
W_RSA_HTTP=$((PORT + 9))
N_HTTP=$((PORT + 37))
N_ECDSA=$((PORT + 38))
N_RSA=$((PORT + 39))
N_PROBE=$((PORT + 40))

TMP=$(mktemp -d "${TMPDIR:-/tmp}/wsusd-bench.XXXXXX")
WSUSD_PIDS=""
NGX_PID=""
BG_PIDS=""

alive() {
	kill -0 "$1" 2>/dev/null &&
		! grep -qs '^State:[[:space:]]*Z' "/proc/$1/status"
}

cleanup() {
	local rc=$? p i
	trap - EXIT INT TERM HUP
	for p in $BG_PIDS $WSUSD_PIDS $NGX_PID; do
		kill -TERM "$p" 2>/dev/null || true
	done
	for p in $BG_PIDS $WSUSD_PIDS $NGX_PID; do
		i=0
		while alive "$p" && [ $i -lt 50 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		kill -KILL "$p" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	rm -rf "$TMP"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

port_open() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Waits up to 10 s for every port while PID lives.
wait_ports() {
	local pid=$1 i=0 p ok
	shift
	while [ $i -lt 100 ]; do
		alive "$pid" || return 1
		ok=1
		for p in "$@"; do
			port_open "$p" || ok=0
		done
		[ $ok = 1 ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

for p in $W_HTTP $W_HTTPS $W_RSA_HTTP $W_RSA_HTTPS $N_HTTP $N_ECDSA $N_RSA \
    $N_PROBE; do
	if port_open "$p"; then
		die "port $p is in use (set BENCH_PORT)"
	fi
done

echo "bench: temporary directory $TMP"

# --- Data directories and certificates --------------------------------------
# D1: the measured wsusd (ECDSA P-256, all content). D2: a second wsusd with
# the RSA-2048 certificate, for the RSA handshake cases only.
D1=$TMP/wsusd-ecdsa
D2=$TMP/wsusd-rsa

openssl_cert() { # DIR ec|rsa
	local newkey
	case $2 in
	ec) newkey="-newkey ec -pkeyopt ec_paramgen_curve:P-256" ;;
	rsa) newkey="-newkey rsa:2048" ;;
	esac
	mkdir -p "$1/tls"
	chmod 0700 "$1/tls"
	# shellcheck disable=SC2086
	(umask 077 && openssl req -x509 $newkey -nodes \
		-keyout "$1/tls/server.key" -out "$1/tls/server.crt" -days 30 \
		-subj /CN=localhost \
		-addext subjectAltName=DNS:localhost,IP:127.0.0.1) \
		>>"$TMP/cert.log" 2>&1 || return 1
	chmod 0600 "$1/tls/server.key"
	chmod 0644 "$1/tls/server.crt"
	(umask 027 && printf 'server_name = localhost\n' >"$1/wsusd.conf")
}

mkdir -m 0750 "$D1" "$D2"
if "$WSUSUTIL" --data "$D1" testca localhost 127.0.0.1 \
	>"$TMP/cert.log" 2>&1 &&
    "$WSUSUTIL" --data "$D1" configuressl localhost \
	--cert "$D1/tls/testca-server.crt" --key "$D1/tls/testca-server.key" \
	>>"$TMP/cert.log" 2>&1 &&
    "$WSUSUTIL" --data "$D1" testca --rsa --out "$TMP/rsa" localhost \
	127.0.0.1 >>"$TMP/cert.log" 2>&1 &&
    "$WSUSUTIL" --data "$D2" configuressl localhost --cert "$TMP/rsa.crt" \
	--key "$TMP/rsa.key" >>"$TMP/cert.log" 2>&1 &&
    [ -f "$D1/tls/server.crt" ] && [ -f "$D2/tls/server.crt" ]; then
	CERTS="wsusutil testca + configuressl"
else
	echo "bench: wsusutil testca/configuressl failed; using the openssl" \
	    "CLI instead:" >&2
	sed 's/^/  /' "$TMP/cert.log" >&2
	rm -rf "$D1" "$D2"
	mkdir -m 0750 "$D1" "$D2"
	if ! openssl_cert "$D1" ec || ! openssl_cert "$D2" rsa; then
		die "openssl req failed: $(cat "$TMP/cert.log")"
	fi
	CERTS="openssl req (wsusutil testca/configuressl failed)"
fi
# No access log: nginx gets "access_log off" too, and logging is not what
# is compared. Two workers: one per core, like nginx's worker_processes.
for d in "$D1" "$D2"; do
	printf 'access_log = off\nworkers = 2\n' >>"$d/wsusd.conf"
done

# --- Content ------------------------------------------------------------------
# WSUS names content by SHA-1; the directory is the last two hex digits.
put_content() { # DIR SEED SIZE -> prints the URL path
	local name dir
	name=$(printf '%s' "$2" | sha256sum | cut -c1-40 | tr a-f A-F).cab
	dir=$(printf '%s' "$name" | cut -c39-40)
	mkdir -p "$1/content/$dir"
	head -c "$3" /dev/urandom >"$1/content/$dir/$name"
	printf '/Content/%s/%s\n' "$dir" "$name"
}
URL_2K=$(put_content "$D1" bench-2k 2048)
URL_50M=$(put_content "$D1" bench-50m 52428800)
URL_TINY=$(put_content "$D1" bench-tiny 128)
mkdir -p "$D2/content"
cp -R "$D1/content/$(echo "$URL_TINY" | cut -d/ -f3)" "$D2/content/"

# --- Servers ------------------------------------------------------------------
start_wsusd() { # DIR HTTPS-PORT LOG
	"$WSUSD" --data "$1" --port "$2" --listen 127.0.0.1 --foreground \
		>"$3" 2>&1 &
	LAST_PID=$!
	WSUSD_PIDS="$WSUSD_PIDS $LAST_PID"
	if ! wait_ports "$LAST_PID" "$2" $(($2 - 1)); then
		sed 's/^/  /' "$3" >&2
		die "wsusd --data $1 --port $2 did not start"
	fi
}

start_wsusd "$D1" "$W_HTTPS" "$TMP/wsusd-ecdsa.log"
W_PID=$LAST_PID
start_wsusd "$D2" "$W_RSA_HTTPS" "$TMP/wsusd-rsa.log"
W_RSA_PID=$LAST_PID
sleep 1
RSS_IDLE_KB=$(awk '/^VmRSS:/ { print $2 }' "/proc/$W_PID/status")

# nginx answers the POST with the very bytes wsusd sends.
POST_BODY=$TMP/post.xml
cat >"$POST_BODY" <<'XML'
<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema"><soap:Body><GetCookie xmlns="http://www.microsoft.com/SoftwareDistribution/Server/ClientWebService"><authCookies><AuthorizationCookie><PlugInId>SimpleTargeting</PlugInId><CookieData>AAAAAAAAAAAAAAAAAAAAAA==</CookieData></AuthorizationCookie></authCookies><oldCookie xsi:nil="true"/><lastChange>2024-01-01T00:00:00Z</lastChange><currentTime>2024-01-01T00:00:00Z</currentTime><protocolVersion>1.20</protocolVersion></GetCookie></soap:Body></soap:Envelope>
XML
# FAULT: what a root answers without parsing (Inventory: fixed, 501);
# SOAP_FAULT: ClientWebService's refusal of the GetCookie (500).
fault_of() { # PATH
	local f
	f=$(curl -sk --max-time 5 -o - -w '' -X POST \
		-H 'Content-Type: text/xml; charset=utf-8' \
		--data-binary "@$POST_BODY" "https://127.0.0.1:$W_HTTPS$1" ||
		true)
	case $f in
	'' | *"'"* | *\\* | *'$'* | *'
'*)
		echo "bench: wsusd's answer on $1 unusable for nginx's" \
		    "return; nginx answers a fixed 383-byte body" >&2
		f=$(head -c 383 /dev/zero | tr '\0' x)
		;;
	esac
	printf '%s' "$f"
}
FAULT=$(fault_of /Inventory/inventory.asmx)
SOAP_FAULT=$(fault_of /ClientWebService/client.asmx)

NGX=$TMP/nginx
mkdir -p "$NGX"
if [ "$(id -u)" = 0 ]; then
	# As root the workers would switch to nobody, who cannot enter the
	# 0750 data directory wsusd reads as root.
	NGX_USER="user root;"
else
	NGX_USER=""
fi
SUBST_USER=$NGX_USER SUBST_PREFIX=$NGX SUBST_CONTENT=$D1/content \
SUBST_HTTP_PORT=$N_HTTP SUBST_ECDSA_PORT=$N_ECDSA SUBST_RSA_PORT=$N_RSA \
SUBST_PROBE_PORT=$N_PROBE SUBST_FAULT=$FAULT SUBST_SOAP_FAULT=$SOAP_FAULT \
SUBST_ECDSA_CRT=$D1/tls/server.crt SUBST_ECDSA_KEY=$D1/tls/server.key \
SUBST_RSA_CRT=$D2/tls/server.crt SUBST_RSA_KEY=$D2/tls/server.key \
python3 -c '
import os, re, sys
t = open(sys.argv[1]).read()
for k, v in os.environ.items():
	if k.startswith("SUBST_"):
		t = t.replace("@" + k[6:] + "@", v)
left = re.findall(r"@[A-Z_]+@", t)
if left:
	sys.exit("bench: nginx.conf.in: unreplaced " + " ".join(left))
open(sys.argv[2], "w").write(t)
' "$BENCH_DIR/nginx.conf.in" "$NGX/nginx.conf" ||
	die "cannot write $NGX/nginx.conf"
nginx -c "$NGX/nginx.conf" -p "$NGX" -e "$NGX/error.log" \
	-g 'daemon off;' >"$NGX/stderr.log" 2>&1 &
NGX_PID=$!
if ! wait_ports "$NGX_PID" "$N_HTTP" "$N_ECDSA" "$N_RSA" "$N_PROBE"; then
	cat "$NGX/stderr.log" "$NGX/error.log" 2>/dev/null | sed 's/^/  /' >&2
	die "nginx did not start"
fi
# The master and its two workers, for CPU time and memory (up to 5 s).
i=0
while :; do
	NGX_PIDS="$NGX_PID $(ps -o pid= --ppid "$NGX_PID" | tr -d ' ' |
		tr '\n' ' ')"
	[ "$(echo "$NGX_PIDS" | wc -w)" -ge 3 ] && break
	[ $i -lt 50 ] || die "nginx did not start its workers"
	sleep 0.1
	i=$((i + 1))
done

# --- Same bytes from both -------------------------------------------------------
# SAME_FILTER: a sed script both answers pass through first (a fault's
# ID is fresh in every answer, as a real server's is).
same_filter() {
	if [ -n "${SAME_FILTER:-}" ]; then sed "$SAME_FILTER"; else cat; fi
}
same() { # DESCRIPTION URL-A URL-B [curl args]
	local what=$1 a=$2 b=$3 ha hb
	shift 3
	ha=$(curl -sk --max-time 20 "$@" "$a" | same_filter | sha256sum |
		cut -c1-16)
	hb=$(curl -sk --max-time 20 "$@" "$b" | same_filter | sha256sum |
		cut -c1-16)
	[ "$ha" = "$hb" ] || die "$what differs between wsusd ($a) and nginx ($b)"
}
same "2 KB file" "http://127.0.0.1:$W_HTTP$URL_2K" \
	"http://127.0.0.1:$N_HTTP$URL_2K"
same "50 MB file" "http://127.0.0.1:$W_HTTP$URL_50M" \
	"http://127.0.0.1:$N_HTTP$URL_50M"
same "tiny file (ECDSA)" "https://127.0.0.1:$W_HTTPS$URL_TINY" \
	"https://127.0.0.1:$N_ECDSA$URL_TINY"
same "tiny file (RSA)" "https://127.0.0.1:$W_RSA_HTTPS$URL_TINY" \
	"https://127.0.0.1:$N_RSA$URL_TINY"
same "fixed SOAP fault" "https://127.0.0.1:$W_HTTPS/Inventory/inventory.asmx" \
	"https://127.0.0.1:$N_ECDSA/Inventory/inventory.asmx" \
	-X POST -H 'Content-Type: text/xml; charset=utf-8' \
	--data-binary "@$POST_BODY"
SAME_FILTER='s|<ID>[0-9a-f-]*</ID>|<ID/>|' \
same "SOAP fault" "https://127.0.0.1:$W_HTTPS/ClientWebService/client.asmx" \
	"https://127.0.0.1:$N_ECDSA/ClientWebService/client.asmx" \
	-X POST -H 'Content-Type: text/xml; charset=utf-8' \
	--data-binary "@$POST_BODY"
echo "bench: wsusd and nginx serve identical bytes; certificates: $CERTS"

# Does wrk resume TLS sessions when it reconnects after "Connection: close"?
timeout --foreground 20 wrk -t1 -c2 -d1s -H 'Connection: close' \
	"https://127.0.0.1:$N_PROBE$URL_TINY" >/dev/null 2>&1 || true
PROBE_NEW=$(grep -c '^\. ' "$NGX/probe.log" 2>/dev/null || true)
PROBE_REUSED=$(grep -c '^r ' "$NGX/probe.log" 2>/dev/null || true)
PROBE_PROTO=$(awk 'NR == 1 { print $2 " " $3 }' "$NGX/probe.log" \
	2>/dev/null || true)
echo "bench: wrk with Connection: close: ${PROBE_NEW:-0} full and" \
    "${PROBE_REUSED:-0} resumed handshakes (${PROBE_PROTO:-?})"

# --- Measurements ---------------------------------------------------------------
RESULTS=$TMP/results.tsv
COMMANDS=$TMP/commands.txt
: >"$RESULTS"
: >"$COMMANDS"

note_command() { # KEY COMMAND...: the first command of each case and server
	grep -q "^$1	" "$COMMANDS" || printf '%s\t%s\n' "$1" "$2" >>"$COMMANDS"
}

# record CASE SERVER ROUND VALUE ok|invalid OPS CPU-TICKS
# OPS: requests, handshakes or (50 MB case) bytes; CPU-TICKS: user+system
# clock ticks the server spent during the run.
record() {
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$RESULTS"
}

# cpu_ticks "PID...": utime + stime, all threads, summed over the processes.
cpu_ticks() {
	local p t=0 k
	for p in $1; do
		k=$(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null ||
			true)
		t=$((t + ${k:-0}))
	done
	echo "$t"
}

kv() { # KEY: its value in $line, wrk.lua's "BENCH k=v ..." line
	printf '%s\n' "$line" | tr ' ' '\n' | sed -n "s/^$1=//p"
}

# wrk_case CASE SERVER ROUND CONNS URL METRIC [wrk args...]
# METRIC: rps (requests/s), bps (bytes/s); the validity rule follows CASE.
wrk_case() {
	local case=$1 server=$2 round=$3 conns=$4 url=$5 metric=$6 out line
	local req bytes us st cerr rerr werr tmo value valid cmd d=$DUR c0 c1 ops a
	shift 6
	[ "$round" = 0 ] && d=1
	out=$TMP/wrk-$case-$server-$round.txt
	cmd="wrk -t$THREADS -c$conns -d${d}s --timeout 10s -s bench/wrk.lua"
	for a in "$@"; do
		case $a in
		*' '*) cmd="$cmd '$a'" ;;
		*) cmd="$cmd $a" ;;
		esac
	done
	cmd="$cmd $url"
	[ "$round" = 0 ] || note_command "$case/$server" "$cmd"
	c0=$(cpu_ticks "$SRV_PIDS")
	timeout --foreground $((d + 30)) wrk -t"$THREADS" -c"$conns" -d"${d}s" \
		--timeout 10s -s "$BENCH_DIR/wrk.lua" "$@" "$url" >"$out" 2>&1 ||
		true
	c1=$(cpu_ticks "$SRV_PIDS")
	[ "$round" = 0 ] && return 0
	line=$(grep '^BENCH ' "$out" | tail -n 1)
	if [ -z "$line" ]; then
		echo "bench: $case $server round $round: wrk failed:" >&2
		sed 's/^/  /' "$out" >&2
		record "$case" "$server" "$round" 0 invalid 0 0
		return 0
	fi
	req=$(kv requests)
	bytes=$(kv bytes)
	us=$(kv duration_us)
	st=$(kv status)
	cerr=$(kv connect)
	rerr=$(kv read)
	werr=$(kv write)
	tmo=$(kv timeout)
	ops=$req
	[ "$metric" = bps ] && ops=$bytes
	case $metric in
	rps) value=$(awk -v n="$req" -v us="$us" 'BEGIN { printf "%.1f", n * 1e6 / us }') ;;
	bps) value=$(awk -v n="$bytes" -v us="$us" 'BEGIN { printf "%.0f", n * 1e6 / us }') ;;
	esac
	# The POST cases expect 501 or 500 (a "non-2xx" to wrk) on every
	# request.
	valid=ok
	if [ "$case" = post_tls ] || [ "$case" = post_soap ]; then
		[ "$st" = "$req" ] || valid=invalid
	else
		[ "$st" = 0 ] || valid=invalid
	fi
	[ "$req" -gt 0 ] || valid=invalid
	[ "$cerr" = 0 ] && [ "$werr" = 0 ] && [ "$tmo" = 0 ] || valid=invalid
	printf '  %-10s %-6s round %s: %s %s, %s requests, server CPU %s ticks; errors: connect %s read %s write %s status %s timeout %s: %s\n' \
	    "$case" "$server" "$round" "$value" "$metric" "$req" \
	    $((c1 - c0)) "$cerr" "$rerr" "$werr" "$st" "$tmo" "$valid"
	record "$case" "$server" "$round" "$value" "$valid" "$ops" $((c1 - c0))
}

# stime_case CASE SERVER ROUND PORT: full handshakes per second summed over
# BENCH_STIME_PROCS parallel "openssl s_time -new" clients, wall clock.
stime_case() {
	local case=$1 server=$2 round=$3 port=$4 d=$DUR i t0 t1 n value pids=""
	local c0 c1
	[ "$round" = 0 ] && d=1
	[ "$round" = 0 ] || note_command "$case/$server" \
	    "$STIME_PROCS x openssl s_time -connect 127.0.0.1:$port -new -time $d"
	c0=$(cpu_ticks "$SRV_PIDS")
	t0=$(date +%s%N)
	for i in $(seq 1 "$STIME_PROCS"); do
		timeout $((d + 30)) openssl s_time -connect "127.0.0.1:$port" \
			-new -time "$d" >"$TMP/stime-$i.txt" 2>&1 &
		pids="$pids $!"
	done
	BG_PIDS=$pids
	for i in $pids; do
		wait "$i" || true
	done
	BG_PIDS=""
	t1=$(date +%s%N)
	c1=$(cpu_ticks "$SRV_PIDS")
	[ "$round" = 0 ] && return 0
	n=$(cat "$TMP"/stime-*.txt |
		sed -n 's/^\([0-9][0-9]*\) connections in [0-9.]*s;.*/\1/p' |
		awk '{ s += $1 } END { print s + 0 }')
	value=$(awk -v n="$n" -v ns=$((t1 - t0)) \
		'BEGIN { printf "%.1f", n * 1e9 / ns }')
	if [ "$n" -gt 0 ]; then
		printf '  %-10s %-6s round %s: %s handshakes/s, %s in %s ms, server CPU %s ticks\n' \
		    "$case" "$server" "$round" "$value" "$n" \
		    $(((t1 - t0) / 1000000)) $((c1 - c0))
		record "$case" "$server" "$round" "$value" ok "$n" $((c1 - c0))
	else
		echo "bench: $case $server round $round: s_time failed:" >&2
		sed 's/^/  /' "$TMP"/stime-*.txt >&2
		record "$case" "$server" "$round" 0 invalid 0 0
	fi
	rm -f "$TMP"/stime-*.txt
}

one_case() { # CASE SERVER ROUND
	local c=$1 s=$2 r=$3 http https rsa
	if [ "$s" = wsusd ]; then
		http=$W_HTTP https=$W_HTTPS rsa=$W_RSA_HTTPS
		SRV_PIDS=$W_PID
		case $c in *_rsa) SRV_PIDS=$W_RSA_PID ;; esac
	else
		http=$N_HTTP https=$N_ECDSA rsa=$N_RSA
		SRV_PIDS=$NGX_PIDS
	fi
	case $c in
	get_2k) wrk_case "$c" "$s" "$r" "$CONNS" \
		"http://127.0.0.1:$http$URL_2K" rps ;;
	get_50m) wrk_case "$c" "$s" "$r" "$CONNS_LARGE" \
		"http://127.0.0.1:$http$URL_50M" bps ;;
	hs_ecdsa) stime_case "$c" "$s" "$r" "$https" ;;
	hs_rsa) stime_case "$c" "$s" "$r" "$rsa" ;;
	conn_ecdsa) wrk_case "$c" "$s" "$r" "$CONNS" \
		"https://127.0.0.1:$https$URL_TINY" rps -H 'Connection: close' ;;
	conn_rsa) wrk_case "$c" "$s" "$r" "$CONNS" \
		"https://127.0.0.1:$rsa$URL_TINY" rps -H 'Connection: close' ;;
	post_tls) BENCH_POST_BODY=$POST_BODY wrk_case "$c" "$s" "$r" "$CONNS" \
		"https://127.0.0.1:$https/Inventory/inventory.asmx" rps ;;
	post_soap) BENCH_POST_BODY=$POST_BODY wrk_case "$c" "$s" "$r" "$CONNS" \
		"https://127.0.0.1:$https/ClientWebService/client.asmx" rps ;;
	esac
}

CASES="get_2k get_50m hs_ecdsa hs_rsa conn_ecdsa conn_rsa post_tls post_soap"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
T_START=$(date +%s)

echo "bench: warm-up, 1 s per case and server"
for c in $CASES; do
	one_case "$c" wsusd 0
	one_case "$c" nginx 0
done

for r in $(seq 1 "$ROUNDS"); do
	echo "bench: round $r of $ROUNDS (${DUR} s per run)"
	for c in $CASES; do
		# Alternate who goes first so neither always follows the other.
		if [ $((r % 2)) = 1 ]; then
			one_case "$c" wsusd "$r"
			one_case "$c" nginx "$r"
		else
			one_case "$c" nginx "$r"
			one_case "$c" wsusd "$r"
		fi
	done
done

T_END=$(date +%s)
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
alive "$W_PID" || die "wsusd died during the run"
alive "$NGX_PID" || die "nginx died during the run"
HWM_KB=$(awk '/^VmHWM:/ { print $2 }' "/proc/$W_PID/status")
RSS_END_KB=$(awk '/^VmRSS:/ { print $2 }' "/proc/$W_PID/status")
NGX_RSS_KB=0
for p in $NGX_PIDS; do
	k=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null || true)
	NGX_RSS_KB=$((NGX_RSS_KB + ${k:-0}))
done
W_LOG_WARN=$(grep -ciE 'warn|error|fatal' "$TMP/wsusd-ecdsa.log" || true)

META=$TMP/meta.tsv
{
	printf 'date\t%s\n' "$(date -u '+%Y-%m-%d %H:%M UTC')"
	printf 'cpu\t%s\n' "$(lscpu 2>/dev/null |
		sed -n 's/^Model name:[[:space:]]*//p' | head -n 1)"
	printf 'nproc\t%s\n' "$(nproc)"
	printf 'kernel\t%s\n' "$(uname -sr)"
	printf 'wsusd\t%s\n' "$("$WSUSD" --version 2>&1 | head -n 1)"
	printf 'wsusd_path\t%s\n' "${WSUSD#"$ROOT"/}"
	printf 'buildtype\t%s\n' "$(python3 -c '
import json, sys
try:
	opts = json.load(open(sys.argv[1]))
	print(next(o["value"] for o in opts if o["name"] == "buildtype"))
except Exception:
	print("unknown")
' "$(dirname "$WSUSD")/meson-info/intro-buildoptions.json")"
	printf 'nginx\t%s\n' "$(nginx -v 2>&1 | head -n 1)"
	printf 'wrk\t%s\n' "$(wrk -v 2>&1 | head -n 1 | cut -d' ' -f1-2)"
	printf 'openssl\t%s\n' "$(openssl version)"
	printf 'certs\t%s\n' "$CERTS"
	printf 'duration\t%s\n' "$DUR"
	printf 'rounds\t%s\n' "$ROUNDS"
	printf 'threads\t%s\n' "$THREADS"
	printf 'conns\t%s\n' "$CONNS"
	printf 'conns_large\t%s\n' "$CONNS_LARGE"
	printf 'stime_procs\t%s\n' "$STIME_PROCS"
	printf 'load_before\t%s\n' "$LOAD_BEFORE"
	printf 'load_after\t%s\n' "$LOAD_AFTER"
	printf 'elapsed\t%s\n' $((T_END - T_START))
	printf 'clk_tck\t%s\n' "$(getconf CLK_TCK)"
	printf 'rss_idle_kb\t%s\n' "$RSS_IDLE_KB"
	printf 'rss_end_kb\t%s\n' "$RSS_END_KB"
	printf 'hwm_kb\t%s\n' "$HWM_KB"
	printf 'nginx_rss_kb\t%s\n' "$NGX_RSS_KB"
	printf 'probe\t%s full, %s resumed (%s)\n' "${PROBE_NEW:-0}" \
	    "${PROBE_REUSED:-0}" "${PROBE_PROTO:-?}"
	printf 'wsusd_log_warnings\t%s\n' "$W_LOG_WARN"
	printf 'post_bytes\t%s\n' "$(wc -c <"$POST_BODY" | tr -d ' ')"
	printf 'fault_bytes\t%s\n' "${#FAULT}"
	printf 'soap_fault_bytes\t%s\n' "${#SOAP_FAULT}"
} >"$META"

python3 "$BENCH_DIR/report.py" "$META" "$RESULTS" "$COMMANDS" "$OUT"
