# netmarl: `make demo` trains the quickstart, `make test` builds and runs every test,
# `make bench` runs the benchmarks and writes JSON into build/bench/. Each installs missing Debian
# packages first (scripts/install-deps.sh).
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all deps configure build test demo bench clean

all: build

deps:
	@bash scripts/install-deps.sh

configure: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS) >/dev/null

build: configure
	cmake --build $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

demo: configure
	cmake --build $(BUILD) -j $(JOBS) --target quickstart
	@mkdir -p $(BUILD)/demo
	$(BUILD)/examples/quickstart --out $(BUILD)/demo/quickstart.csv \
	  --summary $(BUILD)/demo/quickstart.json --plot $(BUILD)/demo/quickstart.png

bench: configure
	cmake --build $(BUILD) -j $(JOBS) --target all
	@mkdir -p $(BUILD)/bench
	@set -e; for b in $(BUILD)/benchmarks/bench_*; do \
	  echo "== $$b"; \
	  $$b --benchmark_out=$(BUILD)/bench/$$(basename $$b).json --benchmark_out_format=json; \
	done

clean:
	rm -rf $(BUILD)
