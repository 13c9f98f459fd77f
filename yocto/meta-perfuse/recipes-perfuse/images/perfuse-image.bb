SUMMARY = "Perfuse pump image for a Raspberry Pi 4 / CM4 carrier"
DESCRIPTION = "Boots into the Perfuse safety supervisor and pump app on the \
               panel, with nothing listening on the network. Flash the .wic.bz2 \
               with bmaptool (docs/flash-and-boot.md)."
# The project's address is a placeholder until it is published.
# nooelint: oelint.vars.homepageping
HOMEPAGE = "https://example.invalid/perfuse"
BUGTRACKER = "https://example.invalid/perfuse/issues"
SECTION = "images"
LICENSE = "MIT"
# An image has no source of its own: its licence text is the common one, as
# for OE-core's core-image recipes.
# nooelint: oelint.var.licenseremotefile
LIC_FILES_CHKSUM = "file://${COMMON_LICENSE_DIR}/MIT;md5=0835ade698e0bcf8506ecda2f7b4f302"

inherit core-image

# The pump, the tools service staff use on it (i2c-tools to check the
# clock; the HAT EEPROM tools are documented, not shipped), and cyclictest
# (rt-tests), which says whether the kernel keeps the 1 ms period.
IMAGE_INSTALL = "\
    packagegroup-core-boot \
    perfuse \
    kernel-modules \
    i2c-tools \
    rt-tests \
    ${CORE_IMAGE_EXTRA_INSTALL} \
"
IMAGE_LINGUAS = ""
# No splash and no login on the panel: the app owns it. For a development
# image with a root login on the serial console, add "allow-root-login
# allow-empty-password empty-root-password" to EXTRA_IMAGE_FEATURES.
IMAGE_FEATURES:remove = "splash"
IMAGE_FSTYPES = "wic.bz2 wic.bmap"

CVE_PRODUCT = "perfuse"
