# brine — the two commands a fresh machine needs are `make run` and `make test`.
CARGO ?= cargo
BRINE := target/debug/brine

.PHONY: run test lint fixtures build bench bench-slurm clean slurm-cluster

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

## bench-slurm: brine's own overhead per partition on the Slurm cluster (make slurm-cluster):
## a Count=200 job of hello.wasm submitted, run and gathered, one element timed alone, beside a
## local --parallel run (benches/slurm_overhead.py; builds --release unless BRINE is set)
bench-slurm:
	@if [ -z "$$BRINE" ]; then $(CARGO) build --release; fi
	BRINE="$${BRINE:-target/release/brine}" python3 benches/slurm_overhead.py

clean:
	$(CARGO) clean

## fuzz-smoke: build every fuzz target (cargo-fuzz on the nightly toolchain; cargo-fuzz is
## installed when missing) and run each for FUZZ_SECONDS (30) from its committed corpus.
## Not part of `make test`: see fuzz/README.md
FUZZ_TARGETS := module module_smith job wasi journal receipt wast archive
FUZZ_SECONDS ?= 30
.PHONY: fuzz-smoke
fuzz-smoke:
	@command -v cargo-fuzz >/dev/null || $(CARGO) install cargo-fuzz --locked
	@rustup run nightly rustc --version >/dev/null 2>&1 || \
	  { echo "fuzz-smoke: needs the nightly toolchain (rustup toolchain install nightly)"; exit 1; }
	cd fuzz && $(CARGO) +nightly fuzz build --sanitizer none
	@set -e; for t in $(FUZZ_TARGETS); do \
	  new=$$(mktemp -d); \
	  dict=$$(test -f fuzz/dict/$$t.dict && echo -dict=dict/$$t.dict || true); \
	  echo "fuzz-smoke: $$t for $(FUZZ_SECONDS) s"; \
	  (cd fuzz && $(CARGO) +nightly fuzz run --sanitizer none $$t $$new corpus/$$t -- \
	    -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=512 -timeout=10 $$dict) \
	    || { rm -rf $$new; exit 1; }; \
	  rm -rf $$new; \
	done
