#!/bin/sh
# Chained-server benchmark (issue #7): a synthetic catalog of SYNC_N
# updates (default 100000; bench/catalog_gen: realistic fragments, 10
# languages) on an upstream wsusd, synchronized by a fresh downstream
# with `wsusutil sync --wait --metadata-only` over TLS on loopback; the
# same catalog moved with export/import for comparison, in the same run.
# Reports time, bytes on the wire and revisions per second; fails only
# when a step fails. Writes the block between sync:begin and sync:end in
# docs/PERFORMANCE.md.
#
# The upstream admits anonymous ServerSync callers here
# (serversync_anonymous = yes): Kerberos costs one handshake per
# connection and the engine keeps one connection, so it does not change
# the numbers; tests/integration/test_chaining.py covers it.
set -eu

N=${SYNC_N:-100000}
BUILD=${BUILD:-build}
WSUSD=${WSUSD:-$BUILD/wsusd}
WSUSUTIL=${WSUSUTIL:-$BUILD/wsusutil}
GEN=${CATALOG_GEN:-$BUILD/bench/catalog_gen}
PORT=${SYNC_PORT:-18531}
DOC=docs/PERFORMANCE.md

tmp=$(mktemp -d)
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
mkdir -m 0750 "$tmp/up" "$tmp/down" "$tmp/imp"

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
util() { d=$1; shift; "$WSUSUTIL" --data "$d" "$@"; }

echo "sync: generating $N updates upstream"
"$GEN" "$tmp/up" "$N" >/dev/null 2>&1
util "$tmp/up" testca localhost 127.0.0.1 >/dev/null
util "$tmp/up" configuressl localhost --cert "$tmp/up/tls/testca-server.crt" \
	--key "$tmp/up/tls/testca-server.key" >/dev/null
echo "serversync_anonymous = yes" >>"$tmp/up/wsusd.conf"
"$WSUSD" --data "$tmp/up" --port "$PORT" --listen 127.0.0.1 --foreground \
	>"$tmp/up.log" 2>&1 &
pid=$!
i=0
until (exec 3<>/dev/tcp/127.0.0.1/"$PORT") 2>/dev/null; do
	i=$((i + 1))
	[ $i -lt 300 ] || { cat "$tmp/up.log"; exit 1; }
	sleep 0.1
done

echo "sync: downstream synchronization"
util "$tmp/down" upstream set "https://localhost:$PORT" \
	--ca "$tmp/up/tls/ca.pem" >/dev/null 2>&1
t0=$(now)
util "$tmp/down" sync --wait --metadata-only >"$tmp/sync.log" 2>&1 ||
	{ tail -20 "$tmp/sync.log"; tail -20 "$tmp/up.log"; exit 1; }
t1=$(now)
sync_s=$(secs "$t0" "$t1")
st=$(util "$tmp/down" sync status --json)
field() { printf '%s' "$st" | python3 -c \
	"import json,sys; print(json.load(sys.stdin)[0]['$1'])"; }
revs=$(field new_revisions)
bytes=$(field metadata_bytes)
rate=$(awk -v n="$revs" -v s="$sync_s" 'BEGIN { printf "%.0f", n / s }')
ddb=$(stat -c %s "$tmp/down/wsusd.db")

echo "sync: export/import of the same catalog"
t0=$(now)
util "$tmp/up" export "$tmp/pkg" "$tmp/export.log" >/dev/null 2>&1
t1=$(now)
exp_s=$(secs "$t0" "$t1")
pkg=$(stat -c %s "$tmp/pkg")
t0=$(now)
util "$tmp/imp" import "$tmp/pkg" "$tmp/import.log" >/dev/null 2>&1
t1=$(now)
imp_s=$(secs "$t0" "$t1")
both=$(awk -v a="$exp_s" -v b="$imp_s" 'BEGIN { printf "%.2f", a + b }')
ratio=$(awk -v a="$sync_s" -v b="$both" 'BEGIN { printf "%.2f", a / b }')
irate=$(awk -v n="$revs" -v s="$both" 'BEGIN { printf "%.0f", n / s }')

table=$(cat <<T
### Sync: $N updates upstream -> downstream, $(date -u +'%Y-%m-%d %H:%M UTC')

| measure | sync (MS-WSUSSS over TLS) | export + import |
|---|---|---|
| time | ${sync_s} s | ${both} s (${exp_s} + ${imp_s}) |
| bytes moved | $((bytes / 1048576)) MiB on the wire (SOAP answers) | $((pkg / 1048576)) MiB package |
| revisions stored | ${revs} | ${revs} |
| revisions per second | ${rate} | ${irate} |
| sync time / export+import time | ${ratio} | 1 |

Downstream database after the sync: $((ddb / 1048576)) MiB. Metadata
only (no content files: catalog_gen writes none). Machine: $(nproc)
cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1).
T
)
echo "$table"

if [ -f "$DOC" ] && grep -q 'sync:begin' "$DOC"; then
	python3 - "$DOC" "$table" <<'PY'
import sys
p, block = sys.argv[1], sys.argv[2]
s = open(p).read()
a = s.index('<!-- sync:begin')
a = s.index('\n', a) + 1
b = s.index('<!-- sync:end')
open(p, 'w').write(s[:a] + block + '\n' + s[b:])
PY
fi
