#!/usr/bin/env bash
# The boot test's disk: the base root file system (rootfs.sh), the Perfuse
# Debian package installed into it with apt as on a Pi (`apt install
# ./perfuse_*.deb`), and the test-only parts from image/ (the simulated
# carrier as a unit, the units' drop-ins for it, softdog, the harness's
# console). Also copies out the Debian arm64 kernel and initramfs.
#
#   scripts/boot-test/image.sh <perfuse_*_arm64.deb> <perfuse-sim> <perfuse-frame-bench>
#     (both aarch64 binaries)
#     -> target/boot-test/{root.ext4,vmlinuz,initrd.img}
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../.."
deb=$(readlink -f "$1")
sim=$(readlink -f "$2")
bench=$(readlink -f "$3")
out=target/boot-test
root=$out/root
[ -f "$out/base.tar" ] || { echo "boot-test: run scripts/boot-test/rootfs.sh first" >&2; exit 1; }

cleanup() {
  for fs in proc sys dev/pts dev; do
    mountpoint -q "$root/$fs" && umount "$root/$fs" || true
  done
}
trap cleanup EXIT
cleanup
rm -rf "$root"
mkdir -p "$root"
tar -C "$root" -xf "$out/base.tar"
mount -t proc proc "$root/proc"
mount --bind /dev "$root/dev"

# The package, installed as docs/flash-and-boot.md says, with its maintainer
# scripts run (arm64, under qemu-user): the user and groups, the state
# folders, the units enabled. The base already holds its dependencies.
cp "$deb" "$root/tmp/"
echo "boot-test: apt install ./$(basename "$deb")"
chroot "$root" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y --no-install-recommends "/tmp/$(basename "$deb")"
rm "$root/tmp/$(basename "$deb")"
chroot "$root" dpkg-query -W -f='boot-test: installed ${Package} ${Version} ${Architecture}\n' perfuse

# No HAT EEPROM on the emulated machine, so the package installed no
# profile: as service staff would for a carrier the board cannot name, the
# signed S50 profile is installed by hand (the simulated carrier says S50).
install -m 0644 "$root/usr/share/perfuse/platforms/perfuse-s50-syringe.toml" "$root/etc/perfuse/platform.toml"
install -m 0644 "$root/usr/share/perfuse/platforms/perfuse-s50-syringe.toml.sig" "$root/etc/perfuse/platform.toml.sig"

# The test-only parts.
install -m 0755 "$sim" "$root/usr/bin/perfuse-sim"
install -m 0755 "$bench" "$root/usr/bin/perfuse-frame-bench"
cp -r "$here/image/." "$root/"
chroot "$root" systemctl enable perfuse-sim.service perfuse-boot-test-console.service
chroot "$root" systemctl is-enabled perfuse-supervisor.service perfuse-app.service
# A machine id and no first-boot questions: nobody answers them here.
chroot "$root" systemd-machine-id-setup
chroot "$root" systemctl mask systemd-firstboot.service
ln -sf /usr/share/zoneinfo/Etc/UTC "$root/etc/localtime"
# The journal on the serial line too, for the test's record.
mkdir -p "$root/etc/systemd/journald.conf.d"
printf '[Journal]\nForwardToConsole=yes\nMaxLevelConsole=info\nTTYPath=/dev/ttyAMA0\n' \
  > "$root/etc/systemd/journald.conf.d/boot-test.conf"
passwd_root=$(grep -c '^root:' "$root/etc/passwd")
[ "$passwd_root" = 1 ]

kernel=$(ls "$root"/boot/vmlinuz-* | sort -V | tail -1)
initrd=$(ls "$root"/boot/initrd.img-* | sort -V | tail -1)
cp "$kernel" "$out/vmlinuz"
cp "$initrd" "$out/initrd.img"
cleanup
rm -f "$out/root.ext4"
mke2fs -q -t ext4 -L perfuse-root -d "$root" "$out/root.ext4" 2G
echo "boot-test: wrote $out/root.ext4 ($(basename "$kernel"), $(basename "$initrd"))"
