#!/usr/bin/env bash
# The checks every commit passes before it is made: formatting and clippy with warnings as errors.
# CI checks the formatting (seconds) and runs the tests; clippy's own check build of every
# dependency would add minutes to each clean CI run, so it is run here, before committing.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
