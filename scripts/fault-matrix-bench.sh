#!/usr/bin/env bash
# The fault matrix on the real stack, measured idle and under load, with a
# long infusion beside each (PERFUSE_BENCH_MINUTES, default 10): figures to
# bench-results/fault-matrix.md.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v stress-ng >/dev/null || { apt-get update -qq && apt-get install -y -qq stress-ng >/dev/null; }
cargo bench --bench fault_matrix
