#!/bin/sh
# Runs every libFuzzer target in BUILDDIR for SECONDS each, starting from
# the checked-in corpus; new inputs go to a scratch directory.
set -eu
BUILD=$1
SECS=$2
status=0
for bin in "$BUILD"/fuzz/fuzz_*; do
	[ -f "$bin" ] && [ -x "$bin" ] || continue
	name=$(basename "$bin" | sed 's/^fuzz_//')
	scratch=$(mktemp -d)
	dict=""
	[ -f "fuzz/$name.dict" ] && dict="-dict=fuzz/$name.dict"
	echo "== fuzz $name for ${SECS}s"
	# shellcheck disable=SC2086
	"$bin" -max_total_time="$SECS" -print_final_stats=1 $dict \
		"$scratch" "fuzz/corpus/$name" || status=1
	rm -rf "$scratch"
done
exit $status
