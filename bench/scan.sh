#!/bin/bash
# SyncUpdates benchmark (issue #5): many simulated clients against a
# catalog of SCAN_UPDATES updates (default 10000) of which SCAN_APPROVED
# (2000) are approved for All Computers, with SCAN_COMPUTERS (1000000)
# registered computers, driven by wrk with SCAN_CONNS (1000) connections.
#
# bench/scan_prep.py talks MS-WUSP to the daemon once to record what real
# clients send: every page of a full software pass from an empty cache
# (cold) and the rescan with a full cache (warm), each with its own
# computer's cookie. wrk replays them. Reported: cold full scans/s (page
# requests/s divided by the pages of one pass), warm rescans/s, p50/p99,
# the daemon's peak RSS, and the same over plain HTTP (a copy of the data
# directory without a certificate) to give the cost of TLS. HTTPS and
# HTTP rounds alternate; medians of SCAN_ROUNDS (3).
#
# Reports numbers; fails only when a step fails. Writes the block between
# scan:begin and scan:end in docs/PERFORMANCE.md.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
WSUSD=${WSUSD:-$BUILD/wsusd}
WSUSUTIL=${WSUSUTIL:-$BUILD/wsusutil}
GEN=${CATALOG_GEN:-$BUILD/bench/catalog_gen}
SHARED=${SHARED:-$ROOT/../shared}
N=${SCAN_UPDATES:-10000}
APPROVED=${SCAN_APPROVED:-2000}
COMPUTERS=${SCAN_COMPUTERS:-1000000}
CONNS=${SCAN_CONNS:-1000}
DUR=${SCAN_DURATION:-10}
ROUNDS=${SCAN_ROUNDS:-3}
PORT=${SCAN_PORT:-18531}
PORT2=$((PORT + 10))
DOC=${SCAN_DOC:-$ROOT/docs/PERFORMANCE.md}

TMP=$(mktemp -d "${TMPDIR:-/tmp}/wsusd-scan.XXXXXX")
PIDS=""
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null || :; done
	for p in $PIDS; do wait "$p" 2>/dev/null || :; done
	[ -n "${SCAN_KEEP:-}" ] || rm -rf "$TMP"
}
trap cleanup EXIT INT TERM
die() { echo "scan: $*" >&2; exit 1; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

for t in wrk sqlite3 python3 openssl; do
	command -v $t >/dev/null || die "$t not found (scripts/deps)"
done
[ -x "$GEN" ] || die "$GEN not built"
[ -d "$SHARED/protocol/vectors" ] || die "no captures in $SHARED"

D=$TMP/https
mkdir -m 0750 "$D"
echo "scan: catalog of $N updates"
t0=$(now)
"$GEN" "$D" "$N" >"$TMP/gen.log" 2>&1 || die "catalog_gen: $(cat "$TMP/gen.log")"
echo "scan: $APPROVED approvals, $COMPUTERS computers"
# Bulk rows straight into the database: the store's own triggers still
# run (catalog generation, change marks). Computers in Unassigned
# Computers, as RegisterComputer leaves them.
sqlite3 "$D/wsusd.db" >"$TMP/sql.log" 2>&1 <<SQL || die "sqlite3: $(cat "$TMP/sql.log")"
PRAGMA foreign_keys = ON;
BEGIN;
INSERT INTO approval (update_pk, group_pk, action, admin, created)
  SELECT u.update_pk, g.group_pk, 'Install', 'bench',
    strftime('%Y-%m-%dT%H:%M:%SZ', 'now')
  FROM update_ u, target_group g
  WHERE u.update_type = 'Software' AND g.name = 'All Computers'
  ORDER BY u.update_pk LIMIT $APPROVED;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n
  WHERE i < $COMPUTERS)
INSERT INTO computer (computer_id, dns_name, created)
  SELECT printf('00000000-0000-4000-8000-%012x', i),
    printf('pc%07d.bench.test', i), strftime('%Y-%m-%dT%H:%M:%SZ', 'now')
  FROM n;
INSERT INTO computer_group_member (computer_pk, group_pk)
  SELECT c.computer_pk, g.group_pk FROM computer c, target_group g
  WHERE g.name = 'Unassigned Computers';
COMMIT;
SQL
t1=$(now)
SETUP=$(secs "$t0" "$t1")

"$WSUSUTIL" --data "$D" testca localhost 127.0.0.1 >"$TMP/cert.log" 2>&1 &&
    "$WSUSUTIL" --data "$D" configuressl localhost \
	--cert "$D/tls/testca-server.crt" --key "$D/tls/testca-server.key" \
	>>"$TMP/cert.log" 2>&1 || die "certificate: $(cat "$TMP/cert.log")"
printf 'server_name = localhost\naccess_log = off\nworkers = 2\nmax_connections_per_ip = %d\n' \
    $((CONNS + 64)) >>"$D/wsusd.conf"

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
start() { # DIR PORT LOG
	"$WSUSD" --data "$1" --port "$2" --listen 127.0.0.1 --foreground \
	    >"$3" 2>&1 &
	LAST=$!
	PIDS="$PIDS $LAST"
	i=0
	while ! port_open $(($2 - 1)); do
		i=$((i + 1))
		[ $i -lt 100 ] || die "wsusd did not start: $(cat "$3")"
		sleep 0.1
	done
}
start "$D" "$PORT" "$TMP/wsusd-https.log"
P_HTTPS=$LAST

echo "scan: recording client requests"
BODIES=$TMP/bodies
python3 "$ROOT/bench/scan_prep.py" "$PORT" "$D/tls/ca.pem" "$SHARED" \
    "$BODIES" "${SCAN_COLD_CLIENTS:-10}" "${SCAN_WARM_CLIENTS:-200}" \
    >"$TMP/prep.log" 2>&1 || die "scan_prep: $(cat "$TMP/prep.log")"
PAGES=$(sed -n 's/.*pages=\([0-9]*\).*/\1/p' "$TMP/prep.log")
CACHED=$(sed -n 's/.*cached=\([0-9]*\).*/\1/p' "$TMP/prep.log")

# The HTTP twin: the same database, cookie key and content, no
# certificate; everything on its plain port.
D2=$TMP/http
cp -a "$D" "$D2"
rm -f "$D2/tls/server.crt" "$D2/tls/server.key"
printf 'allow_insecure_http = yes\n' >>"$D2/wsusd.conf"
start "$D2" "$PORT2" "$TMP/wsusd-http.log"
P_HTTP=$LAST

cpu_ticks() { # PID -> utime + stime of the process, in clock ticks
	awk '{ print $14 + $15 }' "/proc/$1/stat"
}

# run NAME URL BODIES PID -> appends "NAME requests=... cpu_ticks=..." to
# $TMP/results, and reports answers that were not a 200.
run() {
	c0=$(cpu_ticks "$4")
	BENCH_WRK_LUA=$ROOT/bench/wrk.lua BENCH_BODIES=$3 wrk -t 2 -c "$CONNS" -d "${DUR}s" --timeout 30s \
	    -s "$ROOT/bench/scan.lua" "$2" >"$TMP/wrk.out" 2>&1 ||
	    die "wrk: $(cat "$TMP/wrk.out")"
	line=$(grep '^BENCH ' "$TMP/wrk.out") || die "wrk: $(cat "$TMP/wrk.out")"
	for k in status read write connect; do
		v=$(echo "$line" | sed -n "s/.* $k=\([0-9]*\).*/\1/p")
		[ "$v" = 0 ] || echo "scan: $1: $k errors: $v" >&2
	done
	c1=$(cpu_ticks "$4")
	echo "$1 $(echo "$line" | sed 's/BENCH //') cpu_ticks=$((c1 - c0))" \
	    >>"$TMP/results"
}

HTTPS_URL=https://localhost:$PORT/ClientWebService/client.asmx
HTTP_URL=http://localhost:$((PORT2 - 1))/ClientWebService/client.asmx
: >"$TMP/results"
r=1
while [ $r -le "$ROUNDS" ]; do
	echo "scan: round $r of $ROUNDS"
	run warm_https "$HTTPS_URL" "$BODIES/warm" "$P_HTTPS"
	run warm_http "$HTTP_URL" "$BODIES/warm" "$P_HTTP"
	run cold_https "$HTTPS_URL" "$BODIES/cold" "$P_HTTPS"
	run cold_http "$HTTP_URL" "$BODIES/cold" "$P_HTTP"
	r=$((r + 1))
done
# wuagent simulate (issue #6): real agents (each registers, takes a
# cookie, makes its full pass, then rescans) instead of replayed bodies,
# over HTTPS and HTTP; with its own CPU, so server figures read net of
# the driver.
SIM=${WUAGENT:-$BUILD/wuagent}
SIM_CLIENTS=${SCAN_SIM_CLIENTS:-200}
SIM_DUR=${SCAN_SIM_DURATION:-30}
sim() { # NAME URL PID [FLAGS]
	c0=$(cpu_ticks "$3")
	"$SIM" --server "$2" --ca-file "$D/tls/ca.pem" $4 simulate \
	    --clients "$SIM_CLIENTS" --duration "$SIM_DUR" >"$TMP/sim.out" \
	    2>&1 || die "wuagent simulate: $(cat "$TMP/sim.out")"
	c1=$(cpu_ticks "$3")
	python3 - "$1" $((c1 - c0)) "$TMP/sim.out" >>"$TMP/results" <<'SIMPY'
import re, sys
t = open(sys.argv[3]).read()
g = lambda p: re.search(p, t).group(1)
print(sys.argv[1], 'secs=%s scans=%s cold=%s warm=%s p50=%s p99=%s '
      'client_cpu=%s errors=%s cpu_ticks=%s' % (
          g(r'clients, ([0-9.]+) s'), g(r'scans: (\d+)'),
          g(r'cold (\d+)'), g(r'warm (\d+)'), g(r'p50 ([0-9.]+)'),
          g(r'p99 ([0-9.]+)'), g(r'client CPU: ([0-9.]+) s'),
          g(r'errors: (\d+)'), sys.argv[2]))
SIMPY
}
if [ -x "$SIM" ]; then
	echo "scan: wuagent simulate, $SIM_CLIENTS agents, ${SIM_DUR}s each way"
	sim sim_https "https://localhost:$PORT" "$P_HTTPS" ""
	sim sim_http "http://localhost:$((PORT2 - 1))" "$P_HTTP" \
	    --allow-insecure-http
fi
RSS_HTTPS=$(awk '/^VmHWM:/ { print $2 }' "/proc/$P_HTTPS/status")
RSS_HTTP=$(awk '/^VmHWM:/ { print $2 }' "/proc/$P_HTTP/status")

python3 - "$TMP/results" "$DOC" <<PY
import re, statistics, sys
res = {}
for line in open(sys.argv[1]):
    name, rest = line.split(' ', 1)
    kv = dict(x.split('=') for x in rest.split())
    res.setdefault(name, []).append(kv)
def med(name, f):
    return statistics.median(f(kv) for kv in res[name])
rate = lambda kv: int(kv['requests']) / (int(kv['duration_us']) / 1e6)
pages, cached = $PAGES, $CACHED
w_s, w_h = med('warm_https', rate), med('warm_http', rate)
c_s, c_h = med('cold_https', rate) / pages, med('cold_http', rate) / pages
ms = lambda name, k: med(name, lambda kv: int(kv[k])) / 1000
rss = $RSS_HTTPS / 1024
# Server CPU per request: what TLS costs the server, apart from the
# client (wrk) decrypting on the same two cores.
cpu = lambda name: med(name, lambda kv: int(kv['cpu_ticks']) /
                       max(1, int(kv['requests'])))
tls_w = 100 * (cpu('warm_https') / cpu('warm_http') - 1)
tls_c = 100 * (cpu('cold_https') / cpu('cold_http') - 1)
def met(ok):
    return 'met' if ok else '**not met**'
rows = [
    ('Warm rescans/s (HTTPS)', '%.0f' % w_s, '>= 1000', met(w_s >= 1000)),
    ('Cold full scans/s (HTTPS, %d pages each)' % pages, '%.1f' % c_s,
     '>= 20', met(c_s >= 20)),
    ('Warm rescan p50 / p99 (ms)', '%.1f / %.1f' % (ms('warm_https', 'p50_us'),
     ms('warm_https', 'p99_us')), '', ''),
    ('Cold page p50 / p99 (ms)', '%.1f / %.1f' % (ms('cold_https', 'p50_us'),
     ms('cold_https', 'p99_us')), '', ''),
    ('Warm rescans/s over HTTP', '%.0f' % w_h, '', ''),
    ('Cold full scans/s over HTTP', '%.1f' % c_h, '', ''),
    ('TLS cost, warm rescans: server CPU per request', '%+.1f%%' % tls_w,
     '<= 5%', met(tls_w <= 5)),
    ('TLS cost, cold scans: server CPU per page', '%+.1f%%' % tls_c,
     '<= 5%', met(tls_c <= 5)),
    ('TLS cost, warm rescans/s (client on the same cores)',
     '%+.1f%%' % (100 * (1 - w_s / w_h)), '', ''),
    ('TLS cost, cold scans/s (client on the same cores)',
     '%+.1f%%' % (100 * (1 - c_s / c_h)), '', ''),
    ('Peak RSS of wsusd (HTTPS run)', '%.0f MiB' % rss, '<= 256 MiB',
     met(rss <= 256)),
]
if 'sim_https' in res:
    s, h = res['sim_https'][0], res['sim_http'][0]
    f = lambda kv, k: float(kv[k])
    scans = lambda kv: max(1, int(kv['scans']))
    srv = lambda kv: int(kv['cpu_ticks']) * 10.0 / scans(kv)  # ms at 100 Hz
    rows += [
        ('wuagent simulate, $SIM_CLIENTS agents: scans/s HTTPS / HTTP '
         '(cold + warm)', '%.0f / %.0f' % (scans(s) / f(s, 'secs'),
                                          scans(h) / f(h, 'secs')), '', ''),
        ('wuagent simulate: cold passes, warm rescans (HTTPS)',
         '%s, %s' % (s['cold'], s['warm']), '', ''),
        ('wuagent simulate: SyncUpdates p50 / p99 (ms, HTTPS)',
         '%s / %s' % (s['p50'], s['p99']), '', ''),
        ('wuagent simulate: client CPU per scan (ms, HTTPS)',
         '%.2f' % (f(s, 'client_cpu') * 1000 / scans(s)), '', ''),
        ('wuagent simulate: server CPU per scan (ms) HTTPS / HTTP, TLS cost',
         '%.2f / %.2f, %+.1f%%' % (srv(s), srv(h),
                                  100 * (srv(s) / srv(h) - 1)), '', ''),
        ('wuagent simulate: errors', '%s / %s' % (s['errors'], h['errors']),
         '0', met(s['errors'] == '0' and h['errors'] == '0')),
    ]
out = ['<!-- scan:begin -->',
       'SyncUpdates (bench/scan.sh): $N updates, $APPROVED approved for All '
       'Computers, $COMPUTERS registered computers, $CONNS concurrent '
       'connections (wrk, 2 threads), ${DUR}s per case, median of $ROUNDS '
       'alternating rounds; a full pass is %d pages and leaves %d revisions '
       'cached. Setup (catalog, approvals, computers) took ${SETUP}s.' %
       (pages, cached), '',
       '| Measure | Result | Target | |', '|---|---|---|---|']
out += ['| %s | %s | %s | %s |' % r for r in rows]
out.append('<!-- scan:end -->')
block = '\n'.join(out)
print(block)
doc = open(sys.argv[2]).read()
if '<!-- scan:begin -->' in doc:
    doc = re.sub(r'<!-- scan:begin -->.*<!-- scan:end -->', lambda m: block,
                 doc, flags=re.S)
else:
    doc += '\n## SyncUpdates\n\n' + block + '\n'
open(sys.argv[2], 'w').write(doc)
PY
