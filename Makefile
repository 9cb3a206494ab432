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

# ===== TEST_EXTRA: extra steps of `make test` (the sanitizer run goes here) ==============
# Names of make targets run after ctest, in order, e.g. a target that configures
# build-asan with -DTESSERA_SANITIZE=ON and runs ctest there. Empty until that step lands.
TEST_EXTRA ?=#  test: make targets run after ctest (the sanitizer step)
# ==========================================================================================

regress_args := $(REGRESS_ARGS) $(if $(SEEDS),--seeds '$(SEEDS)') \
                $(if $(CONFIGS),--configs '$(CONFIGS)') $(if $(JOBS),--jobs '$(JOBS)')

columns := awk -F'\t' '{ printf "  %-14s %s\n", $$1, $$2 }'

.DEFAULT_GOAL := help
# One step at a time: the parallel work happens inside cmake and ctest, and setup must
# finish before anything uses the tools it installs.
.NOTPARALLEL:
.PHONY: help setup build lint synth test demo bench regress wave wave-png clean

help: ## List targets and variables
	@echo "Targets:"
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z-]+):.*## /\1\t/' | $(columns)
	@echo "Variables:"
	@grep -hE '^[A-Z_]+ +\?=#' $(MAKEFILE_LIST) | sed -E 's/^([A-Z_]+) +\?=# */\1\t/' | $(columns)

setup: ## Install missing Debian packages (idempotent)
	scripts/setup.sh

build: setup ## Configure (Release) and build everything into build/
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_ARGS)
	cmake --build $(BUILD) -j$(NPROC)

lint: setup ## Verilator -Wall lint of every RTL module on its own
	scripts/lint_rtl.sh

synth: setup ## Yosys synthesis check of tsr_top (4x4), netlist in build/synth/
	scripts/synth.sh

test: build lint synth ## Build, lint, synth, then run all tests (what CI runs)
	ctest --test-dir $(BUILD) --output-on-failure -j2
	$(if $(strip $(TEST_EXTRA)),$(MAKE) --no-print-directory $(TEST_EXTRA))

demo: build ## Run the end-to-end demo
	bash scripts/demo.sh

bench: build ## GEMM benchmark, 256x256x256
	$(BUILD)/bin/tessera bench gemm --m 256 --k 256 --n 256

regress: build ## Seeded regression (SEEDS, CONFIGS, JOBS, REGRESS_ARGS)
	python3 scripts/regress.py $(regress_args)

wave: ## Open TRACE in GTKWave, with WAVE_SAVE if given
	$(if $(TRACE),,$(error set TRACE=path/to/trace.fst))
	gtkwave $(TRACE) $(WAVE_SAVE)

wave-png: ## Render TRACE to a PNG headlessly
	$(if $(TRACE),,$(error set TRACE=path/to/trace.fst))
	bash scripts/wave_png.sh $(TRACE)

clean: ## Remove build/ (all build, synth and trace outputs)
	rm -rf $(BUILD)
