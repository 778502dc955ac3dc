#!/usr/bin/env bash
# Builds the fuzz targets with cargo-fuzz on nightly, installing cargo-fuzz
# when it is missing. Without a nightly toolchain it says so and succeeds,
# so CI on stable can call it unconditionally.
set -euo pipefail
cd "$(dirname "$0")"

if ! cargo +nightly --version >/dev/null 2>&1; then
    echo "nightly not present: fuzz target not built"
    exit 0
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "cargo-fuzz not found: installing it"
    cargo install cargo-fuzz --locked
fi
cargo +nightly fuzz build parse
echo "built: fuzz target \`parse\` (run: cd fuzz && cargo +nightly fuzz run parse)"
