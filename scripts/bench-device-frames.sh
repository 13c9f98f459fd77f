#!/usr/bin/env bash
# The touchscreen's frame time on a Raspberry Pi 4 / CM4 (or any aarch64
# board with a DRM/KMS display and the Perfuse package installed), in one
# command from a development machine:
#
#   scripts/bench-device-frames.sh pi@pump.local
#     -> bench-results/frame-time-device-<model>.md
#
# Cross-builds perfuse-frame-bench for aarch64, copies it to the board over
# ssh, stops perfuse-app for the run (the bench needs the panel; the
# supervisor sounds its alarm while the app is away, as it must), runs
# the bench, starts the app again and fetches the report. Run with no
# host on the board itself (a checkout and a Rust toolchain there) to
# build and run it in place.
#
# Needs what scripts/build-deb.sh needs, and ssh access with sudo. On the
# board the bench reads the signed profiles the package installed
# (PERFUSE_ASSETS=/usr/share/perfuse).
set -euo pipefail
cd "$(dirname "$0")/.."
host=${1:-}
frames=${FRAMES:-120}

if [ -z "$host" ]; then
  cargo build --release -p perfuse-testkit --bin perfuse-frame-bench
  sudo systemctl stop perfuse-app 2>/dev/null || true
  trap 'sudo systemctl start perfuse-app 2>/dev/null || true' EXIT
  model=$(tr -d '\0' < /proc/device-tree/model 2>/dev/null | tr -c 'A-Za-z0-9\n' '-' || echo local)
  sudo target/release/perfuse-frame-bench --frames "$frames" \
    --out "bench-results/frame-time-device-${model}.md"
  exit 0
fi

target=aarch64-unknown-linux-gnu
cargo build --release --target "$target" -p perfuse-testkit --bin perfuse-frame-bench
scp -q "target/$target/release/perfuse-frame-bench" "$host:/tmp/perfuse-frame-bench"
model=$(ssh "$host" "tr -d '\\0' < /proc/device-tree/model 2>/dev/null || echo unknown" | tr -c 'A-Za-z0-9\n' '-')
ssh "$host" "sudo systemctl stop perfuse-app; sudo PERFUSE_ASSETS=/usr/share/perfuse /tmp/perfuse-frame-bench --frames $frames --out /tmp/frame-time.md; status=\$?; sudo systemctl start perfuse-app; exit \$status"
mkdir -p bench-results
scp -q "$host:/tmp/frame-time.md" "bench-results/frame-time-device-${model}.md"
echo "bench-device-frames: wrote bench-results/frame-time-device-${model}.md"
