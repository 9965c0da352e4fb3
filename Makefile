# Thin wrapper over CMake, in the style of neovim's Makefile.  The build
# lives in build/, the programs in build/bin/.
#
#   make         install missing Debian packages, configure, build
#   make run     build, index corpus/ into build/index, serve on
#                $(SPECDEX_ENDPOINT) (default tcp://127.0.0.1:5599)
#   make test    build, then every test under ctest; then the same
#                tests again built with ASan + UBSan in build-asan/
#                (SANITIZE=0 skips that second run)
#   make fuzz    build the libFuzzer harnesses with clang in build-fuzz/
#                and run each for $(FUZZ_SECONDS) seconds (default 60)
#   make bench   build Release-with-debug-info in build-bench/, generate
#                a $(BENCH_N)-clause corpus (default 1,000,000), index it,
#                run specdexd, the in-process floor, the transport floor,
#                SQLite FTS5 and Lucene++ side by side, then the cost curve
#                (100k, 300k, 1M and $(BENCH_N) clauses); table, CSV and
#                charts in build-bench/bench/ (docs/BENCH.md)
#   make deb     the Debian packages (debian/): dpkg-buildpackage on a copy
#                of the tree in build-deb/, where the .deb files land,
#                then lintian on them (scripts/check-deb tries them out)
#   make clean   remove build/, build-asan/, build-fuzz/ and build-deb/

BUILD_DIR    ?= build
BUILD_TYPE   ?= RelWithDebInfo
INDEX_DIR    ?= $(BUILD_DIR)/index
ENDPOINT     ?= $(or $(SPECDEX_ENDPOINT),tcp://127.0.0.1:5599)
CTEST_ARGS   ?= --output-on-failure
JOBS         ?= $(shell nproc 2>/dev/null || echo 2)
ASAN_DIR     ?= build-asan
SANITIZE     ?= 1
FUZZ_DIR     ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= parse html jsonl request

# The sanitizer run: leaks reported, UB fatal with a stack trace.
SAN_ENV = ASAN_OPTIONS=detect_leaks=1 \
          UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

.PHONY: all deps build run index test test-asan fuzz bench bench-deps deb deb-deps clean

all: build

deps:
	@scripts/install-deps

$(BUILD_DIR)/CMakeCache.txt: | deps
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)

build: deps $(BUILD_DIR)/CMakeCache.txt
	cmake --build $(BUILD_DIR) -j $(JOBS)

index: build
	$(BUILD_DIR)/bin/specdex-index -o $(INDEX_DIR) corpus

run: index
	exec $(BUILD_DIR)/bin/specdexd --index $(INDEX_DIR) --endpoint $(ENDPOINT)

test: build
	cd $(BUILD_DIR) && ctest $(CTEST_ARGS) -j $(JOBS)
ifneq ($(SANITIZE),0)
	$(MAKE) test-asan
endif

# Every test again, the programs built Debug with ASan + UBSan
# (SDX_SANITIZE); the integration tests get these programs too, since
# CMake hands them the build's bin/ directory.
$(ASAN_DIR)/CMakeCache.txt: | deps
	cmake -S . -B $(ASAN_DIR) -DCMAKE_BUILD_TYPE=Debug -DSDX_SANITIZE=ON

test-asan: deps $(ASAN_DIR)/CMakeCache.txt
	cmake --build $(ASAN_DIR) -j $(JOBS)
	cd $(ASAN_DIR) && $(SAN_ENV) ctest $(CTEST_ARGS) -j $(JOBS)

# libFuzzer needs clang: the harnesses and every library they use are
# built with SDX_FUZZ, then tests/fuzz/run-fuzz.sh runs each harness on a
# copy of its seed corpus and prints its executions.
$(FUZZ_DIR)/CMakeCache.txt: | deps
	@command -v clang >/dev/null || { echo "make fuzz needs clang:" \
	  "apt-get install clang libclang-rt-14-dev" >&2; exit 1; }
	cmake -S . -B $(FUZZ_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DSDX_FUZZ=ON

fuzz: deps $(FUZZ_DIR)/CMakeCache.txt
	cmake --build $(FUZZ_DIR) -j $(JOBS) \
	  --target $(addprefix fuzz_,$(FUZZ_TARGETS))
	tests/fuzz/run-fuzz.sh $(FUZZ_DIR) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# The benchmark (issue 7, docs/BENCH.md): its own build directory, so
# it never disturbs build/; its own packages (SQLite, Lucene++, gnuplot,
# the wamerican word list), so `make test` needs none of them.  BENCH_N=100000
# for a quick run (with BENCH_ARGS=--no-curve, no 300k and 1M curve
# passes either); BENCH_N=3000000 puts 3M on the cost curve; BENCH_SECONDS
# per measured run; BENCH_ARGS more run-bench options (e.g. --no-ladder,
# --curve 100000,1000000).
BENCH_DIR     ?= build-bench
BENCH_N       ?= 1000000
BENCH_SECONDS ?= 10
BENCH_ARGS    ?=

bench-deps:
	@scripts/install-deps bench

$(BENCH_DIR)/CMakeCache.txt: | deps bench-deps
	cmake -S . -B $(BENCH_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DBUILD_TESTING=OFF

bench: deps bench-deps $(BENCH_DIR)/CMakeCache.txt
	cmake --build $(BENCH_DIR) -j $(JOBS)
	bench/run-bench --build-dir $(BENCH_DIR) -n $(BENCH_N) \
	  --seconds $(BENCH_SECONDS) $(BENCH_ARGS)

# The packages (issue 19).  dpkg-buildpackage writes its results into
# the parent of the source tree, so it runs on a copy in
# $(DEB_DIR)/specdex-VERSION and the packages land in $(DEB_DIR)/, not
# beside the checkout.  The suite runs in the package build (on the
# packaged compiler flags); DEB_BUILD_OPTIONS=nocheck skips it.  lintian
# then fails the target on any error or warning not overridden in
# debian/*.lintian-overrides (each with its reason).
DEB_DIR     ?= build-deb
DEB_VERSION  = $(shell dpkg-parsechangelog -S Version 2>/dev/null)
# Debian's tools only: a python3 found first on PATH (pyenv, a venv) has
# none of the python3-* packages the build and its tests use.
DEB_PATH     = /usr/sbin:/usr/bin:/sbin:/bin

deb-deps:
	@scripts/install-deps deb

deb: deps deb-deps
	rm -rf $(DEB_DIR) && mkdir -p $(DEB_DIR)/specdex-$(DEB_VERSION)
	tar -cf - --exclude=./.git --exclude='./build*' --exclude='./obj-*' . \
	  | tar -C $(DEB_DIR)/specdex-$(DEB_VERSION) -xf -
	cd $(DEB_DIR)/specdex-$(DEB_VERSION) && PATH=$(DEB_PATH) \
	  dpkg-buildpackage -us -uc -b -J$(JOBS)
	lintian --fail-on error,warning --info \
	  $(DEB_DIR)/specdex_$(DEB_VERSION)_$(shell dpkg --print-architecture).changes

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR) $(FUZZ_DIR) $(DEB_DIR)
