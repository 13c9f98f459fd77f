#!/usr/bin/env bash
# The error storm (DESIGN.md F2) as a soak, in one command:
#
#   scripts/storm-soak.sh [minutes of storm, 240 by default]
#
# Runs tests/stack/hospital_storm.rs in rounds. Each round is a fresh
# stack (simulator, supervisor, app, perfuse-link) infusing a fresh 50 mL
# syringe at 25 mL/h, with at most 80 minutes of storm: with the idle
# slices between the storm's, that is under the two hours the syringe
# lasts. Every round must pass (no supervisor trip, the infusion untouched,
# the link's and the app's memory, the wake-up lateness, the recovery); the
# figures of every round go to bench-results/storm-soak.md, and each
# round's summary to target/storm/round-N.json.
#
# It needs the machine to itself: other work on the cores is load the
# test measures. Run it as root for SCHED_FIFO, as on the pump.
set -euo pipefail
cd "$(dirname "$0")/.."

minutes=${1:-240}
round_max=80
mkdir -p target/storm
cargo test --test stack --no-run
rounds=()
left=$minutes
round=1
while [ "$left" -gt 0 ]; do
  this=$(( left < round_max ? left : round_max ))
  echo "=== round $round: $this minutes of storm"
  PERFUSE_STORM_S=$(( this * 60 )) cargo test --test stack hospital_storm -- --ignored --nocapture
  cp target/storm/summary.json "target/storm/round-$round.json"
  rounds+=("target/storm/round-$round.json")
  left=$(( left - this ))
  round=$(( round + 1 ))
done
python3 scripts/storm-report.py --title "Error storm soak: $minutes minutes" "${rounds[@]}" \
  > bench-results/storm-soak.md
echo "figures: bench-results/storm-soak.md"
