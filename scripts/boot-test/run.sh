#!/usr/bin/env bash
# The emulated-machine boot test, in one command (issue #16; see
# docs/flash-and-boot.md, "Boot test"): builds the aarch64 binaries and the
# Debian package, a Debian arm64 root file system with the package
# installed (cached after the first run), and boots it under
# qemu-system-aarch64 -M virt with softdog, virtio-gpu and the simulated
# carrier; boot_test.py checks the boot order, the home screen, an app
# kill mid-infusion and a supervisor kill (the watchdog reset).
#
#   sudo scripts/boot-test/run.sh
#     -> target/boot-test/*.png (screenshots), serial.log, timings.json;
#        bench-results/boot-test.md
#
# Runs as root (mmdebstrap, chroot). Needs Debian's mmdebstrap,
# qemu-user-static, qemu-system-arm, e2fsprogs and imagemagick, installed
# here if missing, and what scripts/build-deb.sh needs.
set -euo pipefail
cd "$(dirname "$0")/../.."
target=aarch64-unknown-linux-gnu

need=()
command -v mmdebstrap >/dev/null || need+=(mmdebstrap)
[ -x /usr/bin/qemu-aarch64-static ] || need+=(qemu-user-static)
command -v qemu-system-aarch64 >/dev/null || need+=(qemu-system-arm)
command -v mke2fs >/dev/null || need+=(e2fsprogs)
command -v convert >/dev/null || need+=(imagemagick)
if [ ${#need[@]} -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

scripts/build-deb.sh
export PKG_CONFIG_ALLOW_CROSS=1
export PKG_CONFIG_LIBDIR=/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig
# The simulated carrier: only in the test image, never in the package.
cargo build --release --target "$target" --features rpi,linux,kms --bin perfuse-sim
# The device-path frame-time benchmark, run on the emulated panel too.
cargo build --release --target "$target" -p perfuse-testkit --bin perfuse-frame-bench
# cargo-deb writes to target/debian or target/<triple>/debian, by version.
deb=$(ls -t target/debian/perfuse_*_arm64.deb target/$target/debian/perfuse_*_arm64.deb 2>/dev/null | head -1)
scripts/boot-test/rootfs.sh
scripts/boot-test/image.sh "$deb" "target/$target/release/perfuse-sim" \
  "target/$target/release/perfuse-frame-bench"
python3 scripts/boot-test/boot_test.py
