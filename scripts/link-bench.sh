#!/usr/bin/env bash
# The hospital link's figures in one command (issue 17's benchmark):
#
#   scripts/link-bench.sh [orders] [flood seconds] [rest seconds]
#
# On the running stack against the hl7apy gateway over TLS on loopback:
# the order round trip (gateway to the app showing it, p50 and max), the
# status throughput, and perfuse-link's CPU and memory at rest. Writes
# bench-results/hospital-link.md. Needs hl7apy (pip install hl7apy) and the
# machine to itself.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --workspace --bins
./target/debug/perfuse-link-bench --orders "${1:-50}" --flood-s "${2:-20}" --rest-s "${3:-120}" \
  --out bench-results/hospital-link.md
