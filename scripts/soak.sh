#!/usr/bin/env bash
# Soak: a long syringe infusion (default 120 minutes) on its own real stack
# with a busy UI thread, beside stress-ng (CPU, I/O and VM workers at normal
# priority) and, unless PERFUSE_MATRIX_SKIP is set, the fault matrix under
# load on other stacks. Not one supervisor trip, missed heartbeat or alarm
# may come of it. Figures to bench-results/soak.md.
#   scripts/soak.sh            # 120 minutes
#   scripts/soak.sh 30         # 30 minutes
set -euo pipefail
cd "$(dirname "$0")/.."
minutes="${1:-120}"
command -v stress-ng >/dev/null || { apt-get update -qq && apt-get install -y -qq stress-ng >/dev/null; }
PERFUSE_LOAD_MINUTES="$minutes" PERFUSE_SOAK_REPORT="$PWD/bench-results/soak.md" \
  cargo test --release --test stack fault_matrix_and_a_long_infusion_under_load \
  -- --ignored --nocapture
echo "wrote bench-results/soak.md"
