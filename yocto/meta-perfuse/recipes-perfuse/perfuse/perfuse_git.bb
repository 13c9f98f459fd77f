SUMMARY = "Perfuse infusion pump prototype: safety supervisor and pump app"
DESCRIPTION = "The safety supervisor (motor enable, buzzer, hardware watchdog) \
               and the pump app (real-time control thread and touchscreen on DRM/KMS) \
               for a Raspberry Pi 4 / CM4 carrier. For research and usability work; \
               not a medical device."
# The project's address is a placeholder until it is published.
# nooelint: oelint.vars.homepageping
HOMEPAGE = "https://example.invalid/perfuse"
BUGTRACKER = "https://example.invalid/perfuse/issues"
SECTION = "misc"
LICENSE = "GPL-3.0-or-later"
LIC_FILES_CHKSUM = "file://LICENSE;md5=1ebbd3e34237af26da5dc08a4e440464"

PV = "0.1.0"

# Every crate of Cargo.lock, by checksum (the records test checks that it
# matches; `cargo run -p perfuse-testkit --bin perfuse-crates-inc` writes it).
require ${BPN}-crates.inc

# The source is the checkout that holds this layer (four folders up from
# this recipe), so an image is always built from exactly what is checked out.
inherit externalsrc cargo cargo-update-recipe-crates systemd useradd
EXTERNALSRC := "${@os.path.normpath(os.path.join(d.getVar('THISDIR'), '..', '..', '..', '..'))}"
EXTERNALSRC_BUILD = "${WORKDIR}/build"

# The touchscreen on DRM/KMS with libinput touch (Slint's linuxkms back-end).
PACKAGECONFIG ??= "kms"
PACKAGECONFIG[kms] = "--features kms,,libinput libxkbcommon udev"

# The board back-ends (rppal on the Pi, the Linux GPIO character device).
CARGO_BUILD_FLAGS:append = " --features rpi,linux"

# The mechanism profile for this image's carrier: perfuse-s50-syringe or
# perfuse-v1-volumetric (it must match the HAT EEPROM, or the pump refuses).
PERFUSE_PLATFORM ??= "perfuse-s50-syringe"

do_install:append() {
    # The desktop launcher, the simulator and the line-command app are for
    # laptops and CI, not the pump.
    rm -f ${D}${bindir}/perfuse ${D}${bindir}/perfuse-sim ${D}${bindir}/perfuse-headless

    install -d ${D}${systemd_system_unitdir}
    install -m 0644 ${S}/deploy/systemd/perfuse-supervisor.service ${D}${systemd_system_unitdir}/
    install -m 0644 ${S}/deploy/systemd/perfuse-app.service ${D}${systemd_system_unitdir}/
    # The network link runs only where the site adds /etc/perfuse/link.toml.
    install -m 0644 ${S}/deploy/systemd/perfuse-link.service ${D}${systemd_system_unitdir}/
    install -d ${D}${sysconfdir}/systemd/system.conf.d
    install -m 0644 ${S}/deploy/systemd/system.conf.d/perfuse-watchdog.conf \
        ${D}${sysconfdir}/systemd/system.conf.d/
    install -d ${D}${nonarch_base_libdir}/udev/rules.d
    install -m 0644 ${S}/deploy/udev/60-perfuse.rules ${D}${nonarch_base_libdir}/udev/rules.d/
    install -d ${D}${nonarch_libdir}/tmpfiles.d
    install -m 0644 ${S}/deploy/tmpfiles/perfuse.conf ${D}${nonarch_libdir}/tmpfiles.d/

    install -d ${D}${sysconfdir}/perfuse
    install -m 0644 ${S}/assets/platforms/${PERFUSE_PLATFORM}.toml ${D}${sysconfdir}/perfuse/platform.toml
    install -m 0644 ${S}/assets/platforms/${PERFUSE_PLATFORM}.toml.sig ${D}${sysconfdir}/perfuse/platform.toml.sig
    install -m 0644 ${S}/assets/config/trusted-keys.toml ${D}${sysconfdir}/perfuse/
    install -m 0644 ${S}/assets/config/board.toml ${D}${sysconfdir}/perfuse/
    install -m 0644 ${S}/assets/druglib/sample-library.toml ${D}${sysconfdir}/perfuse/druglib.toml
    install -m 0644 ${S}/assets/druglib/sample-library.toml.sig ${D}${sysconfdir}/perfuse/druglib.toml.sig

    install -d ${D}${datadir}/perfuse/hat
    install -m 0644 ${S}/deploy/hat/perfuse-carrier-overlay.dts ${S}/deploy/hat/*.eeprom.txt \
        ${D}${datadir}/perfuse/hat/
    install -m 0755 ${S}/deploy/hat/write-hat-eeprom.sh ${D}${datadir}/perfuse/hat/
}

FILES:${PN} += "\
    ${systemd_system_unitdir} \
    ${sysconfdir}/systemd/system.conf.d \
    ${nonarch_base_libdir}/udev/rules.d \
    ${nonarch_libdir}/tmpfiles.d \
"
CONFFILES:${PN} = "\
    ${sysconfdir}/perfuse/platform.toml \
    ${sysconfdir}/perfuse/platform.toml.sig \
    ${sysconfdir}/perfuse/trusted-keys.toml \
    ${sysconfdir}/perfuse/board.toml \
    ${sysconfdir}/perfuse/druglib.toml \
    ${sysconfdir}/perfuse/druglib.toml.sig \
"

# Loaded at run time, so not found by the shared-library scan: fontconfig
# (dlopen), and the keyboard maps libxkbcommon reads for libinput.
RDEPENDS:${PN} += "fontconfig xkeyboard-config"

USERADD_PACKAGES = "${PN}"
GROUPADD_PARAM:${PN} = "-f --system gpio; -f --system spi; -f --system render"
# The link's user is in no hardware group; the app's user joins the link's
# group to reach its local socket.
USERADD_PARAM:${PN} = "--system --home-dir /nonexistent --no-create-home \
                       --shell /sbin/nologin --user-group perfuse-link; \
                       --system --home-dir ${localstatedir}/lib/perfuse-app --no-create-home \
                       --shell /sbin/nologin --user-group --groups gpio,spi,video,input,render,perfuse-link perfuse"

SYSTEMD_SERVICE:${PN} = "perfuse-supervisor.service perfuse-app.service perfuse-link.service"
SYSTEMD_AUTO_ENABLE = "enable"

# A pump application, built for the target only: no native or nativesdk variant.
BBCLASSEXTEND = ""

CVE_PRODUCT = "perfuse"
