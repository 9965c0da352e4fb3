# Thin wrapper over CMake, in the style of neovim's Makefile.  The build
# lives in build/, the programs in build/bin/.
#
#   make         install missing Debian packages, configure, build
#   make run     build, index corpus/ into build/index, serve on
#                $(SPECDEX_ENDPOINT) (default tcp://127.0.0.1:5599)
#   make test    build, then every test under ctest
#   make clean   remove build/

BUILD_DIR    ?= build
BUILD_TYPE   ?= RelWithDebInfo
INDEX_DIR    ?= $(BUILD_DIR)/index
ENDPOINT     ?= $(or $(SPECDEX_ENDPOINT),tcp://127.0.0.1:5599)
CTEST_ARGS   ?= --output-on-failure
JOBS         ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all deps build run index test clean

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

clean:
	rm -rf $(BUILD_DIR)
