#!/bin/sh
# Catalog benchmark (issue #4): a synthetic catalog of CATALOG_N updates
# (default 100000; realistic fragments, 10 languages, supersedence
# chains), exported and imported into a fresh data directory with
# wsusutil, timing the import, the database size and `updates list`.
# Reports numbers; fails only when a step fails. Writes the block between
# catalog:begin and catalog:end in docs/PERFORMANCE.md.
set -eu

N=${CATALOG_N:-100000}
BUILD=${BUILD:-build}
WSUSUTIL=${WSUSUTIL:-$BUILD/wsusutil}
GEN=${CATALOG_GEN:-$BUILD/bench/catalog_gen}
DOC=docs/PERFORMANCE.md

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
mkdir -m 0750 "$tmp/a" "$tmp/b"

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

echo "catalog: generating $N updates"
t0=$(now)
"$GEN" "$tmp/a" "$N" >/dev/null 2>&1
t1=$(now)
gen=$(secs "$t0" "$t1")

echo "catalog: export"
t0=$(now)
"$WSUSUTIL" --data "$tmp/a" export "$tmp/pkg" "$tmp/export.log" \
	--with-approvals >/dev/null 2>&1
t1=$(now)
exp=$(secs "$t0" "$t1")
pkg=$(stat -c %s "$tmp/pkg")

echo "catalog: import into a fresh data directory"
t0=$(now)
"$WSUSUTIL" --data "$tmp/b" import "$tmp/pkg" "$tmp/import.log" \
	>/dev/null 2>&1
t1=$(now)
imp=$(secs "$t0" "$t1")
db=$(stat -c %s "$tmp/b/wsusd.db")

# updates list: the median of five runs of the whole command.
lat() {
	for i in 1 2 3 4 5; do
		t0=$(now)
		"$WSUSUTIL" --data "$tmp/b" updates list "$@" >/dev/null 2>&1
		t1=$(now)
		secs "$t0" "$t1"
		echo
	done | sort -n | sed -n 3p
}
all=$(lat --json)
sec=$(lat --classification "Security Updates")
count=$("$WSUSUTIL" --data "$tmp/b" updates list 2>/dev/null | wc -l)

# met VALUE OP LIMIT
met() {
	awk -v v="$1" -v op="$2" -v l="$3" 'BEGIN {
		ok = (op == "<=") ? (v <= l) : (v < l)
		print ok ? "met" : "not met" }'
}
table=$(cat <<T
### Catalog: $N updates, $(date -u +'%Y-%m-%d %H:%M UTC')

| measure | value | target |
|---|---|---|
| generate (store API, one transaction) | ${gen} s | - |
| export (\`wsusutil export\`) | ${exp} s, package $((pkg / 1048576)) MiB | - |
| import into a fresh data directory (\`wsusutil import\`) | ${imp} s | <= 60 s: $(met "$imp" "<=" 60) |
| database size after import | $((db / 1048576)) MiB | < 1024 MiB: $(met "$db" "<" 1073741824) |
| \`updates list --json\`, all $count updates (median of 5) | ${all} s | - |
| \`updates list --classification "Security Updates"\` (median of 5) | ${sec} s | - |

Machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1).
T
)
echo "$table"

if [ -f "$DOC" ] && grep -q 'catalog:begin' "$DOC"; then
	python3 - "$DOC" "$table" <<'PY'
import sys
p, block = sys.argv[1], sys.argv[2]
s = open(p).read()
a = s.index('<!-- catalog:begin')
a = s.index('\n', a) + 1
b = s.index('<!-- catalog:end')
open(p, 'w').write(s[:a] + block + '\n' + s[b:])
PY
fi
