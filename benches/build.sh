#!/usr/bin/env bash
# Build the benchmark modules from benches/src/*.c into benches/wasm/ (committed):
#   wasm/NAME.wasm          wasm32-wasi command  (clang --target=wasm32-wasi -O2)
#   wasm/NAME.reactor.wasm  the exported kernel bench_NAME only, no imports, no _start
#                           (-mexec-model=reactor -DBENCH_REACTOR), for wasm3 which has no WASI
#   build.sh               the wasm modules       (Debian: apt-get install -y clang lld wasi-libc
#                                                    libclang-rt-14-dev-wasm32 wabt)
#   build.sh native DIR    every program natively with gcc -O2 into DIR (run.sh does this)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

# compute kernels that also get a reactor build for wasm3
KERNELS="coremark sha256 nbody fannkuch parser"
PROGRAMS="$KERNELS hello cat copy memhog"

if [ "${1:-wasm}" = native ]; then
    dir="${2:?usage: build.sh native DIR}"
    mkdir -p "$dir"
    for p in $PROGRAMS; do
        gcc -O2 "src/$p.c" -o "$dir/$p" -lm
    done
    echo "build.sh: native programs in $dir" >&2
    exit 0
fi

WASM_CC="${WASM_CC:-clang}"
if ! command -v "$WASM_CC" >/dev/null; then
    echo "build.sh: $WASM_CC not found; apt-get install -y clang lld wasi-libc libclang-rt-14-dev-wasm32" >&2
    exit 1
fi
mkdir -p wasm
for p in $PROGRAMS; do
    echo "  CC   src/$p.c -> wasm/$p.wasm"
    "$WASM_CC" --target=wasm32-wasi -O2 -Wl,--strip-debug "src/$p.c" -o "wasm/$p.wasm"
done
for k in $KERNELS; do
    echo "  CC   src/$k.c -> wasm/$k.reactor.wasm (export bench_$k)"
    "$WASM_CC" --target=wasm32-wasi -O2 -mexec-model=reactor -DBENCH_REACTOR -Wl,--strip-all \
        "src/$k.c" -o "wasm/$k.reactor.wasm"
    # wasm3 has no WASI: the kernel module must not import anything
    if command -v wasm-objdump >/dev/null && wasm-objdump -j Import -x "wasm/$k.reactor.wasm" 2>/dev/null | grep -q ' <- '; then
        echo "build.sh: wasm/$k.reactor.wasm has imports (wasm3 cannot run it):" >&2
        wasm-objdump -j Import -x "wasm/$k.reactor.wasm" >&2
        exit 1
    fi
done

