#!/usr/bin/env bash
# make bench: install what the comparison needs (if missing), build brine --release and the
# native baselines, then run benches/bench.py (timings with hyperfine, checks, RESULTS.md,
# results.png).  BENCH_QUICK=1 for a fast smoke run (small sizes, 2 runs each; results go to
# $CARGO_TARGET_DIR/bench/quick/).  See benches/bench.py for the other variables.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
CARGO="${CARGO:-cargo}"
PYTHON="${PYTHON:-python3}"

say() { echo "[bench] $*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    say "need root for: $*"; return 1; fi; }
apt_updated=0
apt_install() {
    if [ "$apt_updated" = 0 ]; then as_root apt-get update -qq || true; apt_updated=1; fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
}
pip_install() { "$PYTHON" -m pip install -q "$@"; }

# --- tools --------------------------------------------------------------------------------
command -v hyperfine >/dev/null || { say "installing hyperfine"; apt_install hyperfine; }
[ -x /usr/bin/time ] || { say "installing time"; apt_install time; }
command -v gcc >/dev/null || { say "installing gcc"; apt_install gcc libc6-dev; }
command -v wasmi >/dev/null || [ -x "$HOME/.cargo/bin/wasmi" ] ||
    { say "installing wasmi_cli (cargo install, ~2 min)"; "$CARGO" install wasmi_cli --locked; }
export PATH="$PATH:$HOME/.cargo/bin"
"$PYTHON" -c 'import wasmtime' 2>/dev/null || { say "installing wasmtime (pip)"; pip_install wasmtime; }
"$PYTHON" -c 'import wasm3' 2>/dev/null || { say "installing pywasm3 (pip)"; pip_install pywasm3; }
"$PYTHON" -c 'import matplotlib' 2>/dev/null || { say "installing matplotlib (pip)"; pip_install matplotlib; }
if ! command -v node >/dev/null || [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
    say "warning: node >= 20 not found; node:wasi is left out of the comparison"
fi

# --- builds -------------------------------------------------------------------------------
if [ -z "${BRINE:-}" ]; then
    say "building brine (cargo build --release; lto=fat takes minutes)"
    (cd "$root" && "$CARGO" build --release --quiet)
fi
if [ "${BENCH_REBUILD_WASM:-0}" = 1 ]; then
    "$here/build.sh" wasm          # the committed .wasm are used otherwise
fi
"$here/build.sh" native "$CARGO_TARGET_DIR/bench/native"

exec "$PYTHON" "$here/bench.py"
