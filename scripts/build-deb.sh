#!/usr/bin/env bash
# Builds the Perfuse Debian package for a Raspberry Pi 4 / CM4 on 64-bit
# Raspberry Pi OS or Debian (docs/flash-and-boot.md): a release build with
# the Pi and Linux board back-ends and the KMS display, cross-compiled for
# aarch64, packaged by cargo-deb from [package.metadata.deb] in Cargo.toml.
#
#   scripts/build-deb.sh          -> target/debian/perfuse_<version>-1_arm64.deb
#
# Needs (Debian, x86_64): dpkg --add-architecture arm64; apt install
# gcc-aarch64-linux-gnu libc6-dev-arm64-cross pkg-config libinput-dev:arm64
# libxkbcommon-dev:arm64 libudev-dev:arm64; rustup target add
# aarch64-unknown-linux-gnu; cargo install cargo-deb.
set -euo pipefail
cd "$(dirname "$0")/.."
target=aarch64-unknown-linux-gnu

missing=()
command -v aarch64-linux-gnu-gcc >/dev/null || missing+=(gcc-aarch64-linux-gnu)
command -v cargo-deb >/dev/null || missing+=("cargo-deb (cargo install cargo-deb)")
for lib in libinput xkbcommon libudev; do
  [ -f "/usr/lib/aarch64-linux-gnu/pkgconfig/$lib.pc" ] || missing+=("$lib (arm64 -dev package)")
done
if [ ${#missing[@]} -gt 0 ]; then
  printf 'build-deb: missing %s\n' "${missing[@]}" >&2
  exit 1
fi

# The display's libraries (libinput, libxkbcommon, libudev) come from the
# arm64 packages, not the build machine's.
export PKG_CONFIG_ALLOW_CROSS=1
export PKG_CONFIG_LIBDIR=/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig
cargo build --release --target "$target" --features rpi,linux,kms \
  --bin perfuse-app --bin perfuse-supervisor --bin perfuse-druglib \
  --bin perfuse-platform --bin perfuse-log --bin perfuse-link
# Stripped: the release profile keeps line tables for the host, the Pi needs none.
cargo deb --no-build --strip --target "$target" "$@"
