# brine — the two commands a fresh machine needs are `make run` and `make test`.
CARGO ?= cargo
# Not named BRINE: a Makefile variable would shadow the BRINE that `make bench` and
# `make bench-slurm` take from the environment (the binary to measure).
DEBUG_BRINE := target/debug/brine

.PHONY: run test lint fixtures build bench bench-slurm clean slurm-cluster examples capi-header capi-example minimal

## run: build brine, run the demo job from fixtures/jobs/demo/ and show its results directory
run: build
	$(DEBUG_BRINE) run fixtures/jobs/demo/job.yaml --output results/demo --force
	@echo "--- results/demo/outputs/summary.csv"; cat results/demo/outputs/summary.csv

## build: compile brine (debug)
build:
	$(CARGO) build

## test: formatting, lints and the whole test suite; with CI or BRINE_SLURM=1 set, it first
## brings up the single-node Slurm cluster so the tests/slurm_*.rs end-to-end tests run
test: lint
	@if [ -n "$$CI" ] || [ "$$BRINE_SLURM" = 1 ]; then tests/slurm/cluster.sh; fi
	$(CARGO) test --workspace --all-targets
	$(CARGO) test --doc
	$(MAKE) examples capi-example minimal

## minimal: the minimal build (--no-default-features: local and inline inputs only, no
## S3/AWS, no tokio, no TLS) of the library, the CLI and the C ABI: clippy and the tests,
## then the C example against the minimal static library. Both builds share target/:
## cargo keeps each feature set's artifacts apart, so switching rebuilds nothing.
minimal:
	$(CARGO) clippy --no-default-features --workspace --all-targets -- -D warnings
	$(CARGO) test --no-default-features --workspace --all-targets
	$(MAKE) capi-example CAPI_FEATURES=--no-default-features

## examples: run the embedding examples (the Rust API in-process)
examples:
	$(CARGO) run -q --example run_job
	$(CARGO) run -q --example run_module

## capi-header: regenerate capi/include/brine.h from capi/src with cbindgen (then commit it)
capi-header:
	BRINE_WRITE_HEADER=1 $(CARGO) test -q -p brine-capi --test header

# What a C program linking the static library also links (`cargo rustc -p brine-capi
# --crate-type staticlib -- --print native-static-libs`).
CAPI_LIBS := target/debug/libbrine_capi.a -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc
# CAPI_FEATURES=--no-default-features: against the minimal build (`make minimal`).
CAPI_FEATURES ?=
CAPI_CFLAGS := -std=c11 -D_DEFAULT_SOURCE -Wall -Wextra -Werror -Icapi/include

## capi-example: build the C ABI's static library, compile examples/c/run_job.c with the
## system C compiler against it and run it, then again under AddressSanitizer
capi-example:
	$(CARGO) build -q -p brine-capi $(CAPI_FEATURES)
	mkdir -p target/capi results
	$(CC) $(CAPI_CFLAGS) examples/c/run_job.c $(CAPI_LIBS) -o target/capi/run_job
	target/capi/run_job
	$(CC) $(CAPI_CFLAGS) -g -fsanitize=address -fno-omit-frame-pointer examples/c/run_job.c $(CAPI_LIBS) -o target/capi/run_job_asan
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 target/capi/run_job_asan

## slurm-cluster: install (apt-get) and start a single-node Slurm cluster on this machine (root)
slurm-cluster:
	tests/slurm/cluster.sh

## lint: cargo fmt --check and clippy with warnings denied
lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

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
