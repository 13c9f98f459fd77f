#!/usr/bin/env bash
# The boot test's base root file system: Debian bookworm for arm64 (the
# release Raspberry Pi OS is built on), from Debian's packages, by
# mmdebstrap, with a Debian arm64 kernel and its initramfs. Cached in
# target/boot-test/base.tar, keyed by the suite and the package list (bump
# RECIPE when another change to this script must rebuild it).
#
#   scripts/boot-test/rootfs.sh   -> target/boot-test/base.tar
#
# Runs as root (mmdebstrap --mode=root). The arm64 maintainer scripts run
# under qemu-user through binfmt_misc, which this script registers.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=target/boot-test
mkdir -p "$out"

# What the image holds besides the essentials: systemd as init, udev, the
# kernel, and perfuse's run-time dependencies (so that installing the
# package in the image needs nothing else from the network).
packages=(
  systemd systemd-sysv udev kmod procps
  linux-image-arm64 initramfs-tools
  libinput10 libxkbcommon0 libudev1 libfontconfig1 fonts-dejavu-core xkb-data
)
suite=bookworm
RECIPE=1
key=$(printf '%s\n' "$suite" "$RECIPE" "${packages[@]}" | sha256sum | cut -c1-16)
if [ -f "$out/base.tar" ] && [ "$(cat "$out/base.key" 2>/dev/null)" = "$key" ]; then
  echo "boot-test: base root file system is current ($out/base.tar)"
  exit 0
fi

# qemu-user for arm64 in the kernel's binfmt_misc table, "F" (the
# interpreter is opened now, so it works inside the chroot).
[ -x /usr/bin/qemu-aarch64-static ] || {
  echo "boot-test: needs qemu-user-static (apt install qemu-user-static)" >&2
  exit 1
}
[ -f /proc/sys/fs/binfmt_misc/register ] ||
  mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
if [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
  magic='\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00'
  mask='\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff'
  printf ':qemu-aarch64:M::%s:%s:/usr/bin/qemu-aarch64-static:F' "$magic" "$mask" \
    > /proc/sys/fs/binfmt_misc/register
fi

include=$(IFS=,; echo "${packages[*]}")
rm -f "$out/base.tar.partial"
mmdebstrap --mode=root --format=tar --architectures=arm64 --variant=apt \
  --include="$include" \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  "$suite" "$out/base.tar.partial" http://deb.debian.org/debian
mv "$out/base.tar.partial" "$out/base.tar"
echo "$key" > "$out/base.key"
echo "boot-test: wrote $out/base.tar"
