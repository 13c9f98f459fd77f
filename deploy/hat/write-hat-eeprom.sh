#!/usr/bin/env bash
# Writes a Perfuse carrier's HAT identity EEPROM, on the Pi the carrier is
# fitted to (docs/hat-eeprom.md).
#
#   sudo deploy/hat/write-hat-eeprom.sh s50|v1 [--uuid UUID] [--dry-run]
#
# It gives the board its own UUID (or the one given), compiles the carrier's
# device-tree overlay, builds the EEPROM image with eepmake, writes it with
# eepflash.sh (the Raspberry Pi eeptools), reads it back and compares, and
# records the board in hat-eeprom-records.csv beside this script. With
# --dry-run it stops before writing and leaves the image in the work folder.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

usage() {
  echo "usage: $0 s50|v1 [--uuid UUID] [--dry-run]" >&2
  echo "  s50: Perfuse S50 syringe carrier (product 0x5301)" >&2
  echo "  v1:  Perfuse V1 volumetric carrier (product 0x5601)" >&2
  exit 2
}

[ $# -ge 1 ] || usage
carrier="$1"; shift
case "$carrier" in
  s50|v1) ;;
  *) echo "unknown carrier \"$carrier\": it is s50 or v1" >&2; usage ;;
esac
uuid=""
dry_run=false
while [ $# -gt 0 ]; do
  case "$1" in
    --uuid) [ $# -ge 2 ] || usage; uuid="$2"; shift 2 ;;
    --dry-run) dry_run=true; shift ;;
    *) echo "unknown option \"$1\"" >&2; usage ;;
  esac
done

if [ -z "$uuid" ]; then
  uuid="$(python3 -c 'import uuid; print(uuid.uuid4())')"
fi
if ! [[ "$uuid" =~ ^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$ ]]; then
  echo "--uuid $uuid is not a UUID in lower-case 8-4-4-4-12 form" >&2
  exit 2
fi
if [ "$uuid" = "00000000-0000-0000-0000-000000000000" ]; then
  echo "--uuid must not be all zeros: every board has its own" >&2
  exit 2
fi

missing=()
for tool in dtc eepmake; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
$dry_run || command -v eepflash.sh >/dev/null || missing+=(eepflash.sh)
if [ ${#missing[@]} -gt 0 ]; then
  echo "missing: ${missing[*]}" >&2
  echo "  dtc: apt install device-tree-compiler" >&2
  echo "  eepmake, eepflash.sh: the Raspberry Pi eeptools (the 'utils' repository's eeptools folder; build with cmake)" >&2
  exit 1
fi

work="$(mktemp -d)"
settings="$work/perfuse-$carrier-carrier.eeprom.txt"
sed "s/^product_uuid .*/product_uuid $uuid/" "$here/perfuse-$carrier-carrier.eeprom.txt" > "$settings"
dtc -@ -q -I dts -O dtb -o "$work/perfuse-carrier.dtbo" "$here/perfuse-carrier-overlay.dts"
eepmake "$settings" "$work/perfuse-$carrier.eep" "$work/perfuse-carrier.dtbo"
echo "image: $work/perfuse-$carrier.eep (uuid $uuid)"
if $dry_run; then
  echo "dry run: nothing written"
  exit 0
fi

echo "Writing the EEPROM: fit the write-enable jumper (WP) on the carrier now."
eepflash.sh -y -w -f="$work/perfuse-$carrier.eep" -t=24c32
eepflash.sh -y -r -f="$work/read-back.eep" -t=24c32
if ! cmp -s -n "$(stat -c %s "$work/perfuse-$carrier.eep")" "$work/perfuse-$carrier.eep" "$work/read-back.eep"; then
  echo "the EEPROM does not read back what was written: check the jumper and the wiring of ID_SD/ID_SC" >&2
  exit 1
fi
printf '%s,%s,%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$carrier" "$uuid" >> "$here/hat-eeprom-records.csv"
echo "written and read back. Remove the jumper, reboot, then check:"
echo "  cat /proc/device-tree/hat/product /proc/device-tree/hat/product_id /proc/device-tree/hat/uuid"
echo "  perfuse-platform check --profile /etc/perfuse/mechanism-profile.toml --keys /etc/perfuse/trusted-keys.toml"
