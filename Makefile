# Thin front end: CMakeLists.txt is the single build truth, scripts/ hold the tools.
# `make` alone lists the targets.

BUILD := build
NPROC := $(shell nproc)

# Variables for the targets below (set on the command line: make regress SEEDS=100).
CMAKE_ARGS   ?=#  build: extra cmake configure flags, e.g. -DTESSERA_SANITIZE=ON
REGRESS_ARGS ?=#  regress: further arguments passed through to scripts/regress.py
SEEDS     ?=#  regress: number of seeds (--seeds)
CONFIGS   ?=#  regress: array configs, e.g. 4x4,16x16 (--configs)
JOBS      ?=#  regress: parallel jobs (--jobs)
TRACE     ?=#  wave, wave-png: the .fst trace to open
WAVE_SAVE ?=#  wave: a GTKWave save file (sim/waves/*.gtkw) for the signal view
BOARD     ?=#  fpga: icebreaker, ulx3s-85f or orangecrab-25f (scripts/boards.json)

TEST_EXTRA ?= sanitize formal fpga-check#  test: make targets run after ctest (default: sanitize formal fpga-check)

regress_args := $(REGRESS_ARGS) $(if $(SEEDS),--seeds '$(SEEDS)') \
                $(if $(CONFIGS),--configs '$(CONFIGS)') $(if $(JOBS),--jobs '$(JOBS)')

columns := awk -F'\t' '{ printf "  %-14s %s\n", $$1, $$2 }'

.DEFAULT_GOAL := help
# One step at a time: the parallel work happens inside cmake and ctest, and setup must
# finish before anything uses the tools it installs.
.NOTPARALLEL:
.PHONY: help setup build lint synth docs onnx-env python fpga fpga-check fpga-all test sanitize formal formal-mutate demo bench bench-sparse bench-tcp regress coverage wave wave-png clean

help: ## List targets and variables
	@echo "Targets:"
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z-]+):.*## /\1\t/' | $(columns)
	@echo "Variables:"
	@grep -hE '^[A-Z_]+ +\?=[^#]*#' $(MAKEFILE_LIST) | sed -E 's/^([A-Z_]+) +\?=[^#]*# */\1\t/' | $(columns)

setup: ## Install missing Debian packages (idempotent)
	scripts/setup.sh

build: setup ## Configure (Release) and build everything into build/
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_ARGS)
	cmake --build $(BUILD) -j$(NPROC)

lint: setup ## Verilator -Wall lint of every RTL module on its own
	scripts/lint_rtl.sh

synth: setup ## Yosys (read_slang) synthesis check of tsr_top (4x4), netlist in build/synth/
	scripts/synth.sh

fpga: setup ## BOARD's bitstream and build/fpga/BOARD/report.json (fails: no fit, timing)
	$(if $(BOARD),,$(error set BOARD=, one of: $(shell python3 scripts/boards.py list)))
	scripts/fpga.sh '$(BOARD)'

fpga-check: setup ## make test's FPGA share: every board synthesized (fits?), "ci" boards routed+simulated
	scripts/fpga_all.sh --check

fpga-all: setup ## Every board: bitstream, report, post-synthesis sim; build/fpga/summary.md
	scripts/fpga_all.sh

test: build lint synth onnx-env python ## Build, lint, synth, then run all tests (what CI runs)
	ctest --test-dir $(BUILD) --output-on-failure -j2
	$(if $(strip $(TEST_EXTRA)),$(MAKE) --no-print-directory $(TEST_EXTRA))

docs: setup ## API reference from the public headers (Doxygen) into build/docs/html
	scripts/docs.sh

onnx-env: ## ONNX Runtime, onnx, scikit-learn into build/onnx-venv (the ONNX tests' reference)
	bash scripts/setup_onnx.sh

python: setup ## pip install . into build/python-venv with NumPy, pytest (tests/python)
	bash scripts/setup_python.sh

sanitize: setup ## Protocol and server tests under ASan+UBSan, in build/asan/
	BUILD_DIR=$(BUILD)/asan scripts/sanitize.sh

formal: ## SymbiYosys proofs in tests/formal/ (tools into build/venv), out in build/formal/
	scripts/formal.sh

formal-mutate: ## Show each proof fails on the RTL mutations in tests/formal/mutations.txt
	scripts/formal_mutate.sh --all

demo: build ## Run the end-to-end demo
	bash scripts/demo.sh

bench: build ## GEMM benchmark, 256x256x256
	$(BUILD)/bin/tessera bench gemm --m 256 --k 256 --n 256

bench-sparse: build ## Sparse sweep: B 1-100 %, 2:4, 1:4; A 10-100 % -> build/bench/sparse.{json,png}
	scripts/setup_plot.sh
	build/venv-plot/bin/python scripts/bench_sparse.py --tessera $(BUILD)/bin/tessera

bench-tcp: build ## GEMM 256^3 in-process vs through tessera-sim; loopback MB/s
	BUILD=$(BUILD) bash scripts/bench_tcp.sh

regress: build ## Seeded regression (SEEDS, CONFIGS, JOBS, REGRESS_ARGS) -> build/regress/
	python3 scripts/regress.py --bin-dir $(BUILD)/bin --out $(BUILD)/regress $(regress_args)

coverage: setup ## RTL line/toggle/cover-point coverage of cmd_stream_tb -> build/coverage/
	BUILD=$(BUILD) scripts/coverage.sh

wave: ## Open TRACE in GTKWave with WAVE_SAVE (default sim/waves/overview.gtkw)
	$(if $(TRACE),,$(error set TRACE=path/to/trace.fst))
	gtkwave $(TRACE) $(or $(WAVE_SAVE),sim/waves/overview.gtkw)

wave-png: $(if $(TRACE),,build) ## Render TRACE (default: a demo trace) to a PNG headlessly
	BUILD=$(BUILD) bash scripts/wave_png.sh '$(TRACE)' '$(or $(WAVE_SAVE),sim/waves/overview.gtkw)'

clean: ## Remove build/ (all build, synth and trace outputs)
	rm -rf $(BUILD)
