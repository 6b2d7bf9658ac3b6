# A thin wrapper over Meson + Ninja. The real build is meson.build.
#   make run    install packages, build, start wsusd (SQLite, test CA)
#   make install  build, then binaries + systemd unit + user wsusd (PREFIX, DESTDIR)
#   make test   install packages, build with ASan+UBSan, run every test
#   make fuzz   libFuzzer targets for FUZZ_SECONDS each (clang)
#   make fuzz-smoke  the same for FUZZ_SMOKE_SECONDS each (make test runs it)
#   make bench  benchmarks side by side with nginx -> docs/PERFORMANCE.md

FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 5
SAN_ENV = ASAN_OPTIONS=abort_on_error=1:detect_leaks=1 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

.PHONY: all deps build run install test test-build fuzz fuzz-smoke bench clean

all: build

deps:
	@./scripts/deps

build/build.ninja:
	meson setup build

build: deps build/build.ninja
	ninja -C build

run: build
	./scripts/run.sh

install: build
	PREFIX="$(PREFIX)" DESTDIR="$(DESTDIR)" ./scripts/install.sh

build-asan/build.ninja:
	meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false \
		-Dbuildtype=debug

test-build: deps build-asan/build.ninja
	ninja -C build-asan

test: test-build
	@rc=0; $(SAN_ENV) meson test -C build-asan --print-errorlogs \
		--num-processes 2 || rc=$$?; \
	python3 scripts/test-summary.py build-asan/meson-logs/testlog.json; \
	[ $$rc -ne 0 ] || $(MAKE) --no-print-directory fuzz-smoke || rc=$$?; \
	exit $$rc

build-fuzz/build.ninja:
	CC=clang meson setup build-fuzz -Dfuzz=true \
		-Db_sanitize=address,undefined -Db_lundef=false

fuzz: deps build-fuzz/build.ninja
	ninja -C build-fuzz
	./scripts/fuzz.sh build-fuzz $(FUZZ_SECONDS)

# Only the libFuzzer binaries, not the daemon: a brief run of each in CI.
fuzz-smoke: deps build-fuzz/build.ninja
	ninja -C build-fuzz $$(ninja -C build-fuzz -t targets all | \
		sed -n 's/^\(fuzz\/fuzz_[a-z_]*\): c_LINKER.*/\1/p')
	./scripts/fuzz.sh build-fuzz $(FUZZ_SMOKE_SECONDS)

bench: build
	./bench/run.sh
	./bench/catalog.sh
	./bench/scan.sh
	./bench/sync.sh

clean:
	rm -rf build build-asan build-fuzz
