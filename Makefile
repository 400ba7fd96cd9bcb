# netmarl: `make demo` trains the quickstart, `make test` builds and runs every test,
# `make bench` runs the benchmarks and writes JSON into build/bench/. Each installs missing Debian
# packages first (scripts/install-deps.sh).
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all deps configure build test demo bench peers clean

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
	cmake --build $(BUILD) -j $(JOBS) --target benchmarks
	@mkdir -p $(BUILD)/bench
	@set -e; for b in $(BUILD)/benchmarks/bench_*; do \
	  echo "== $$b"; \
	  $$b --benchmark_out=$(BUILD)/bench/$$(basename $$b).json --benchmark_out_format=json; \
	done

# Our peer-matched kernels beside PyTorch eager in one run, 1 thread (docs/performance.md).
# TORCH_KERNELS: the PyTorch timing script (the project's shared peers folder by default).
PEERS = gnn_mf loopy_bp dgn qmix qtran
TORCH_KERNELS ?= ../shared/peers/torch_kernels.py
PEER_BENCH_FLAGS ?= --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
TORCH_FLAGS ?=
peers: configure
	@bash scripts/install-deps.sh --peers
	@test -f $(TORCH_KERNELS) || { echo "peers: $(TORCH_KERNELS) not found; set TORCH_KERNELS=" >&2; exit 1; }
	cmake --build $(BUILD) -j $(JOBS) $(foreach p,$(PEERS),--target bench_peers_$(p))
	@mkdir -p $(BUILD)/peers
	@set -e; for p in $(PEERS); do \
	  echo "== $$p"; \
	  $(BUILD)/benchmarks/bench_peers_$$p $(PEER_BENCH_FLAGS) --benchmark_out=$(BUILD)/peers/bench_$$p.json --benchmark_out_format=json; \
	done
	env -u OPENBLAS_CORETYPE /usr/bin/python3 $(TORCH_KERNELS) --threads 1 --max-quiet-wait 0 $(TORCH_FLAGS) \
	  --kernels qmix,qtran,gnn_mf,dgn,gemm > $(BUILD)/peers/torch.jsonl
	/usr/bin/python3 benchmarks/peers/compare_torch.py --ours $(BUILD)/peers/bench_*.json \
	  --torch $(BUILD)/peers/torch.jsonl --markdown $(BUILD)/peers/table.md \
	  --json $(BUILD)/peers/table.json --plot $(BUILD)/peers/speedup.png
	@cat $(BUILD)/peers/table.md

clean:
	rm -rf $(BUILD)
