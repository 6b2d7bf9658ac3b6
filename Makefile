# A thin wrapper over Meson + Ninja. The real build is meson.build.
#   make run    install packages, build, start wsusd (SQLite, test CA)
#   make test   install packages, build with ASan+UBSan, run every test
#   make fuzz   libFuzzer targets for FUZZ_SECONDS each (clang)
#   make bench  benchmarks side by side with nginx -> docs/PERFORMANCE.md

FUZZ_SECONDS ?= 60
SAN_ENV = ASAN_OPTIONS=abort_on_error=1:detect_leaks=1 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

.PHONY: all deps build run test test-build fuzz bench clean

all: build

deps:
	@./scripts/deps

build/build.ninja:
	meson setup build

build: deps build/build.ninja
	ninja -C build

run: build
	./scripts/run.sh

build-asan/build.ninja:
	meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false \
		-Dbuildtype=debug

test-build: deps build-asan/build.ninja
	ninja -C build-asan

test: test-build
	@rc=0; $(SAN_ENV) meson test -C build-asan --print-errorlogs \
		--num-processes 2 || rc=$$?; \
	python3 scripts/test-summary.py build-asan/meson-logs/testlog.json; \
	exit $$rc

build-fuzz/build.ninja:
	CC=clang meson setup build-fuzz -Dfuzz=true \
		-Db_sanitize=address,undefined -Db_lundef=false

fuzz: deps build-fuzz/build.ninja
	ninja -C build-fuzz
	./scripts/fuzz.sh build-fuzz $(FUZZ_SECONDS)

bench: build
	./bench/run.sh
	./bench/catalog.sh
	./bench/scan.sh
	./bench/sync.sh

clean:
	rm -rf build build-asan build-fuzz
