#!/bin/sh
# Runs every libFuzzer target in BUILDDIR for SECONDS each, starting from
# the checked-in corpus; new inputs go to a scratch directory. Each
# target's output goes to a log; only its summary is printed, or the
# log's end when it fails (a crash-*/timeout-*/oom-* file is left in the
# current directory to reproduce it: fuzz/README.md).
set -eu
BUILD=$1
SECS=$2
status=0
for bin in "$BUILD"/fuzz/fuzz_*; do
	[ -f "$bin" ] && [ -x "$bin" ] || continue
	name=$(basename "$bin" | sed 's/^fuzz_//')
	scratch=$(mktemp -d)
	log=$(mktemp)
	dict=""
	[ -f "fuzz/$name.dict" ] && dict="-dict=fuzz/$name.dict"
	# shellcheck disable=SC2086
	if "$bin" -max_total_time="$SECS" -print_final_stats=1 $dict \
		"$scratch" "fuzz/corpus/$name" >"$log" 2>&1; then
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
		cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
		echo "fuzz $name: ${SECS}s, ${runs:-?} runs, ${cov:-cov: ?}, no failure"
	else
		echo "fuzz $name: FAILED"
		tail -n 60 "$log"
		status=1
	fi
	rm -rf "$scratch" "$log"
done
exit $status
