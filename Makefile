# Two entry points (README): `make example` and `make test`. Both set everything up first.
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo

PREFIX ?= /usr/local

.PHONY: setup configure build example test install package bench bench-suite format format-check clean

setup:
	@tools/setup.sh

configure: setup
	@cmake -S . -B $(BUILD) -G Ninja $(CMAKE_FLAGS) >/dev/null

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

example: build
	cd examples && ../$(BUILD)/src/cli/aqueducts run --file quickstart.yml

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 900

# Relocatable install (docs/install.md), e.g. `make install PREFIX=~/.local`.
install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

# The Debian package, into $(BUILD)/ (docs/install.md).
package: build
	cd $(BUILD) && cpack -G DEB

# Every benchmark of docs/benchmarks.md, on a Release build (figures go to stdout).
bench: setup
	@cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DAQ_BUILD_TESTS=OFF >/dev/null
	@cmake --build build-release -j $(JOBS)
	bench/run_all.sh build-release
	build-release/bench/delta_benchmark
	build-release/bench/executor_benchmark 360000000 5
	bench/odbc_bench.sh build-release

# The side-by-side suite of docs/benchmarks.md ("Benchmark suite"): aqueducts, bare DuckDB and
# polars on the same data, one table of medians. `ROWS=100000 RUNS=3 make bench-suite`;
# BENCH_BUILD=build uses an existing build instead of a fresh Release build.
BENCH_BUILD ?= build-release
bench-suite: setup
	@if [ "$(BENCH_BUILD)" = build-release ]; then \
	  cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DAQ_BUILD_TESTS=OFF >/dev/null && \
	  cmake --build build-release -j $(JOBS); fi
	bench/suite.sh $(BENCH_BUILD)

format:
	clang-format -i $$(git ls-files '*.cc' '*.h')

format-check:
	clang-format --dry-run --Werror $$(git ls-files '*.cc' '*.h')

clean:
	rm -rf $(BUILD) build-release
