# brine — the two commands a fresh machine needs are `make run` and `make test`.
CARGO ?= cargo
BRINE := target/debug/brine

.PHONY: run test lint fixtures build bench clean slurm-cluster examples

## run: build brine, run the demo job from fixtures/jobs/demo/ and show its results directory
run: build
	$(BRINE) run fixtures/jobs/demo/job.yaml --output results/demo --force
	@echo "--- results/demo/outputs/summary.csv"; cat results/demo/outputs/summary.csv

## build: compile brine (debug)
build:
	$(CARGO) build

## test: formatting, lints and the whole test suite; with CI or BRINE_SLURM=1 set, it first
## brings up the single-node Slurm cluster so the tests/slurm_*.rs end-to-end tests run
test: lint
	@if [ -n "$$CI" ] || [ "$$BRINE_SLURM" = 1 ]; then tests/slurm/cluster.sh; fi
	$(CARGO) test --all-targets
	$(CARGO) test --doc
	$(MAKE) examples

## examples: run the embedding examples (the Rust API in-process)
examples:
	$(CARGO) run -q --example run_job
	$(CARGO) run -q --example run_module

## slurm-cluster: install (apt-get) and start a single-node Slurm cluster on this machine (root)
slurm-cluster:
	tests/slurm/cluster.sh

## lint: cargo fmt --check and clippy with warnings denied
lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings

## fixtures: rebuild fixtures/**/*.wasm (incl. fixtures/wasi) from their C sources (Debian clang); WAT fixtures are read as text
fixtures:
	fixtures/build.sh
	fixtures/wasi/build.sh

## bench: compare brine with wasmi, wasmtime, node, wasm3 and native (installs missing tools,
## builds --release; writes benches/RESULTS.md and benches/results.png). BENCH_QUICK=1: smoke run
bench:
	CARGO="$(CARGO)" benches/run.sh

clean:
	$(CARGO) clean
