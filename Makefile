# brine — the two commands a fresh machine needs are `make run` and `make test`.
CARGO ?= cargo
BRINE := target/debug/brine

.PHONY: run test lint fixtures build bench clean

## run: build brine, run the demo job from fixtures/jobs/demo/ and show its results directory
run: build
	$(BRINE) run fixtures/jobs/demo/job.yaml --output results/demo --force
	@echo "--- results/demo/outputs/summary.csv"; cat results/demo/outputs/summary.csv

## build: compile brine (debug)
build:
	$(CARGO) build

## test: formatting, lints and the whole test suite
test: lint
	$(CARGO) test --all-targets

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
