#!/usr/bin/env python3
"""The emulated-machine boot test of the Perfuse image (issue #16).

Boots target/boot-test/root.ext4 (image.sh) with the Debian arm64 kernel
under qemu-system-aarch64 -M virt: virtio-gpu as the panel, a virtio
tablet as the touchscreen, the kernel's softdog as /dev/watchdog and the
simulated carrier as a unit. Everything is checked from outside the
machine: the panel through QMP `screendump`, touches through QMP
`input-send-event`, and unit states and the journal through a root shell
on the virtio console (hvc0).

  1. systemd starts the supervisor (Type=notify: active only after its
     self-test) before the app, and the app draws its home screen;
  2. a basic infusion is programmed and started with touches;
  3. kill -9 of the app mid-infusion: systemd restarts it and it opens on
     "Infusion interrupted"; the nurse resumes;
  4. kill -9 of the supervisor: softdog resets the machine, and after the
     reboot the program is offered again;
  5. the device-path frame-time benchmark runs on the emulated panel.

Screenshots, the serial log and the timings go to target/boot-test/; the
timings also to bench-results/boot-test.md. Exit status 0 only if every
check passed.
"""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "target", "boot-test")
WIDTH, HEIGHT = 800, 480
HOLD_S = float(os.environ.get("PERFUSE_BOOT_TEST_HOLD_S", "0.3"))

# Where the pump's 800x480 screens have their buttons (the same layout as
# the desktop window and the gallery).
TAP = {
    "new-infusion": (657, 440),
    "syringe-50": (400, 128),
    "care-area": (400, 192),
    "basic-infusion": (400, 240),
    "key-5": (637, 192),
    "key-0": (637, 320),
    "next": (662, 448),
    "start": (695, 440),
    "resume": (657, 440),
}


class Failed(Exception):
    pass


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] boot-test: {message}", flush=True)


def connect(path, deadline, what):
    """QEMU's socket at `path`, once QEMU has made it."""
    while True:
        try:
            sock = socket.socket(socket.AF_UNIX)
            sock.connect(path)
            return sock
        except OSError:
            sock.close()
            if time.monotonic() > deadline:
                raise Failed(f"no {what} socket at {path}")
            time.sleep(0.2)


class Qmp:
    """QEMU's machine protocol: screendumps, touches, reset events."""

    def __init__(self, path, deadline):
        self.sock = connect(path, deadline, "QMP")
        self.buffer = b""
        self.events = []
        self._read()  # the greeting
        self.command("qmp_capabilities")

    def _read(self):
        while b"\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise Failed("QEMU closed its QMP socket")
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return json.loads(line)

    def command(self, name, **arguments):
        self.sock.sendall(json.dumps({"execute": name, "arguments": arguments}).encode() + b"\n")
        while True:
            message = self._read()
            if "event" in message:
                self.events.append((time.monotonic(), message))
                continue
            if "error" in message:
                raise Failed(f"QMP {name}: {message['error']}")
            return message.get("return")

    def poll_events(self):
        """Reads what QEMU sent without asking (a RESET, a SHUTDOWN)."""
        self.command("query-status")
        return self.events

    def screendump(self, name):
        ppm = os.path.join(OUT, name + ".ppm")
        if os.path.exists(ppm):
            os.remove(ppm)
        self.command("screendump", filename=ppm)
        return read_ppm(ppm)

    def tap(self, x, y):
        """A touch at (x, y) on the 800x480 panel (the virtio tablet's
        absolute axes run 0..32767)."""
        ax, ay = x * 32767 // (WIDTH - 1), y * 32767 // (HEIGHT - 1)
        move = [
            {"type": "abs", "data": {"axis": "x", "value": ax}},
            {"type": "abs", "data": {"axis": "y", "value": ay}},
        ]
        self.command("input-send-event", events=move)
        time.sleep(0.3)
        self.command("input-send-event", events=[{"type": "btn", "data": {"down": True, "button": "left"}}])
        # A press as long as a finger's (PERFUSE_BOOT_TEST_HOLD_S, default
        # 0.3 s): the screen must take presses longer than its refresh.
        time.sleep(HOLD_S)
        self.command("input-send-event", events=[{"type": "btn", "data": {"down": False, "button": "left"}}])


def tap_and_settle(qmp, step, patience=30.0):
    """Touches `step`'s button, then waits until the panel has changed and
    holds still (emulated, the app takes seconds to redraw: a touch before
    the page is up would land on the old one)."""
    before = qmp.screendump(f"step-{step}")[2]
    for attempt in range(3):
        # A touch the emulated machine lost is given again, after long
        # enough that a slow one would have shown.
        qmp.tap(*TAP[step])
        end = time.monotonic() + patience / 2
        last = before
        changed = False
        while time.monotonic() < end:
            time.sleep(0.7)
            now = qmp.screendump(f"step-{step}")[2]
            changed = changed or now != before
            if changed and now == last:
                return
            last = now
        if changed:
            return  # a page that keeps moving (the running screen)
        log(f"no change after the touch on {step} (try {attempt + 1})")
    raise Failed(f"the panel did not change after the touch on {step} {TAP[step]}")


def read_ppm(path):
    with open(path, "rb") as file:
        data = file.read()
    fields = []
    rest = data
    while len(fields) < 4:
        rest = rest.lstrip()
        if rest.startswith(b"#"):
            rest = rest.split(b"\n", 1)[1]
            continue
        token, rest = re.split(rb"\s", rest, maxsplit=1)
        fields.append(token)
    if fields[0] != b"P6":
        raise Failed(f"{path}: not a binary PPM")
    width, height = int(fields[1]), int(fields[2])
    return width, height, rest[: width * height * 3]


def colours(picture):
    """How many distinct colours, and the share of the commonest."""
    width, height, pixels = picture
    counts = {}
    for offset in range(0, len(pixels), 3 * 7):  # every 7th pixel
        key = pixels[offset : offset + 3]
        counts[key] = counts.get(key, 0) + 1
    total = sum(counts.values())
    return len(counts), max(counts.values()) / total if total else 1.0


def save_png(name):
    ppm = os.path.join(OUT, name + ".ppm")
    png = os.path.join(OUT, name + ".png")
    if shutil.which("convert"):
        subprocess.run(["convert", ppm, png], check=True)
        os.remove(ppm)
        return png
    return ppm


class Console:
    """The root shell on hvc0: runs one command, returns its output."""

    def __init__(self, path, deadline):
        self.sock = connect(path, deadline, "console")
        self.sock.settimeout(0.5)
        self.serial = 0

    def _drain(self):
        try:
            while self.sock.recv(65536):
                pass
        except socket.timeout:
            pass

    def wait_ready(self, deadline):
        """Until the shell answers (after boot, or after a reset)."""
        while time.monotonic() < deadline:
            try:
                self.run("stty -echo", timeout=3)
                return
            except Failed:
                pass
        raise Failed("the console shell never answered")

    def run(self, command, timeout=60):
        self.serial += 1
        mark = f"@@{self.serial}@@"
        # The mark is split in the typed line so that an echo of the line
        # never looks like the shell's answer.
        split = mark[:2] + "''" + mark[2:]
        self._drain()
        self.sock.sendall(f"{command}; echo {split} $?\n".encode())
        text = b""
        end = time.monotonic() + timeout
        pattern = re.compile(re.escape(mark).encode() + rb" (\d+)")
        while time.monotonic() < end:
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                continue
            if not chunk:
                raise Failed("the console closed")
            text += chunk
            found = pattern.search(text)
            if found:
                output = text[: found.start()].decode(errors="replace").replace("\r", "")
                # Drop an echo of the typed line if the terminal sent one.
                lines = [line for line in output.split("\n") if split not in line]
                return int(found.group(1)), "\n".join(lines).strip()
        raise Failed(f"no answer from the console to: {command}")

    def check(self, command, timeout=60):
        status, output = self.run(command, timeout)
        if status != 0:
            raise Failed(f"`{command}` exited {status}: {output}")
        return output


def unit(console, name, *properties):
    text = console.check(f"systemctl show -p {','.join(properties)} {name}")
    values = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
    return values


def screens_shown(console, boot="-b"):
    """The screens the app logged ("screen: home"), this boot, in order."""
    _, text = console.run(f"journalctl {boot} -u perfuse-app -o cat --no-pager | grep '^screen: ' || true")
    return [line.split(": ", 1)[1] for line in text.splitlines() if line.startswith("screen: ")]


def wait_for(what, check, deadline, every=1.0):
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    raise Failed(f"timed out waiting for {what}")


def truth(console):
    return json.loads(console.check("perfuse-sim --dir /run/perfuse-sim ctl truth"))


def delivered_ml(console):
    value = truth(console)
    for key in ("delivered_ml", "delivered"):
        if key in value:
            return float(value[key])
    raise Failed(f"the simulator's truth has no delivered volume: {value}")


def resume(qmp, console, deadline):
    """The nurse resumes the kept program: Resume, then whatever the pump
    asks for (the syringe loaded, the program's review) until it runs."""
    tap_and_settle(qmp, "resume")
    for _ in range(6):
        shown = screens_shown(console)[-1:]
        if shown == ["running"]:
            return
        if shown == ["syringe"]:
            tap_and_settle(qmp, "syringe-50")
        elif shown == ["program"]:
            tap_and_settle(qmp, "start")
        else:
            time.sleep(2)
        if time.monotonic() > deadline:
            break
    raise Failed(f"the kept program did not resume: last screens {screens_shown(console)[-4:]}")


def main():
    os.makedirs(OUT, exist_ok=True)
    for name in ("root.ext4", "vmlinuz", "initrd.img"):
        if not os.path.exists(os.path.join(OUT, name)):
            raise Failed(f"{OUT}/{name} is missing: run scripts/boot-test/run.sh")
    disk = os.path.join(OUT, "run.ext4")
    shutil.copyfile(os.path.join(OUT, "root.ext4"), disk)
    qmp_path = os.path.join(OUT, "qmp.sock")
    console_path = os.path.join(OUT, "console.sock")
    serial_path = os.path.join(OUT, "serial.log")
    for path in (qmp_path, console_path):
        if os.path.exists(path):
            os.remove(path)
    limit = float(os.environ.get("PERFUSE_BOOT_TEST_TIMEOUT", "900"))
    qemu = [
        "qemu-system-aarch64",
        "-M", "virt", "-cpu", "cortex-a72", "-smp", "2", "-m", "1024",
        "-accel", "tcg,thread=multi",
        "-nodefaults", "-no-user-config", "-display", "none",
        "-kernel", os.path.join(OUT, "vmlinuz"),
        "-initrd", os.path.join(OUT, "initrd.img"),
        "-append", "root=/dev/vda rw console=ttyAMA0 panic=5",
        "-drive", f"if=none,id=disk,format=raw,file={disk}",
        "-device", "virtio-blk-pci,drive=disk",
        "-device", f"virtio-gpu-pci,xres={WIDTH},yres={HEIGHT}",
        "-device", "virtio-tablet-pci",
        "-serial", f"file:{serial_path}",
        "-device", "virtio-serial-pci",
        "-chardev", f"socket,id=console,path={console_path},server=on,wait=off",
        "-device", "virtconsole,chardev=console",
        "-qmp", f"unix:{qmp_path},server=on,wait=off",
    ]
    timings = {}
    started = time.monotonic()
    deadline = started + limit
    process = subprocess.Popen(qemu, stdin=subprocess.DEVNULL)
    log(f"qemu started (pid {process.pid}); serial log {serial_path}")
    try:
        qmp = Qmp(qmp_path, deadline)
        console = Console(console_path, deadline)
        run_checks(qmp, console, started, deadline, timings)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
    write_results(timings)


def run_checks(qmp, console, started, deadline, timings):
    # 1. The boot order and the home screen.
    console.wait_ready(deadline)
    timings["boot_to_console_s"] = time.monotonic() - started
    log(f"console up after {timings['boot_to_console_s']:.1f} s")
    wait_for("the home screen", lambda: "home" in screens_shown(console), deadline)
    timings["boot_to_home_s"] = time.monotonic() - started
    log(f"home screen logged after {timings['boot_to_home_s']:.1f} s")
    supervisor = unit(console, "perfuse-supervisor", "Type", "ActiveState", "ActiveEnterTimestampMonotonic", "ExecMainStartTimestampMonotonic")
    app = unit(console, "perfuse-app", "ActiveState", "ExecMainStartTimestampMonotonic", "NRestarts")
    sim = unit(console, "perfuse-sim", "ActiveState")
    log(f"supervisor {supervisor}, app {app}, sim {sim}")
    if supervisor.get("Type") != "notify" or supervisor.get("ActiveState") != "active":
        raise Failed(f"the supervisor is not an active Type=notify service: {supervisor}")
    if app.get("ActiveState") != "active":
        raise Failed(f"the app is not active: {app}")
    ready = int(supervisor["ActiveEnterTimestampMonotonic"])
    if not ready or int(app["ExecMainStartTimestampMonotonic"]) < ready:
        raise Failed(f"the app started before the supervisor was ready: {supervisor} {app}")
    timings["supervisor_ready_to_app_start_ms"] = (int(app["ExecMainStartTimestampMonotonic"]) - ready) / 1000
    console.check("journalctl -b -u perfuse-supervisor -o cat --no-pager | grep -q 'supervising; heartbeats on'")
    time.sleep(2)  # the first frame after the log line
    home = qmp.screendump("home")
    distinct, commonest = colours(home)
    if home[:2] != (WIDTH, HEIGHT) or distinct < 8 or commonest > 0.97:
        raise Failed(f"the panel does not show a drawn screen: {home[:2]}, {distinct} colours, commonest {commonest:.0%}")
    log(f"home screen on the panel: {save_png('home')} ({distinct} colours)")

    # 2. A basic infusion, programmed and started with touches.
    before = delivered_ml(console)
    # Home, New infusion; the syringe (BD Plastipak 50 mL); the care area
    # (Medical-Surgical); Basic infusion; rate 50 mL/h; the volume (the
    # syringe's 50 mL, filled in); the review; Start infusion.
    for step in ["new-infusion", "syringe-50", "care-area", "basic-infusion", "key-5", "key-0", "next", "next", "start"]:
        tap_and_settle(qmp, step)
        save_png(f"step-{step}")
    wait_for("the infusion to run", lambda: "running" in screens_shown(console), deadline)
    time.sleep(5)
    running_ml = delivered_ml(console)
    if running_ml <= before:
        raise Failed(f"nothing was delivered: {before} mL before, {running_ml} mL after starting")
    qmp.screendump("running")
    log(f"infusing: {running_ml:.3f} mL delivered; {save_png('running')}")

    # 3. kill -9 of the app mid-infusion.
    restarts = int(app["NRestarts"])
    pid = console.check("systemctl show -p MainPID --value perfuse-app")
    killed = time.monotonic()
    console.check(f"kill -9 {pid}")
    wait_for("the app's restart", lambda: int(unit(console, "perfuse-app", "NRestarts")["NRestarts"]) > restarts, deadline, 0.5)
    wait_for("the interrupted screen", lambda: "interrupted" in screens_shown(console), deadline, 0.5)
    timings["app_kill_to_interrupted_s"] = time.monotonic() - killed
    time.sleep(2)
    qmp.screendump("interrupted")
    log(f"app restarted on 'Infusion interrupted' {timings['app_kill_to_interrupted_s']:.1f} s after kill -9; {save_png('interrupted')}")
    resume(qmp, console, deadline)
    resumed_ml = delivered_ml(console)
    time.sleep(5)
    if delivered_ml(console) <= resumed_ml:
        raise Failed("the resumed infusion delivers nothing")
    qmp.screendump("resumed")
    log(f"resumed: {save_png('resumed')}")

    # 4. kill -9 of the supervisor: softdog resets the machine.
    qmp.events.clear()
    pid = console.check("systemctl show -p MainPID --value perfuse-supervisor")
    killed = time.monotonic()
    console.run(f"kill -9 {pid}", timeout=5)
    def reset():
        events = qmp.poll_events()
        return [at for at, event in events if event.get("event") == "RESET"]
    reset_at = wait_for("softdog's reset", reset, deadline, 0.2)[0]
    timings["supervisor_kill_to_reset_s"] = reset_at - killed
    log(f"the machine reset {timings['supervisor_kill_to_reset_s']:.2f} s after kill -9 of the supervisor")
    console.wait_ready(deadline)
    wait_for("the program offered after the reboot", lambda: "interrupted" in screens_shown(console), deadline)
    timings["reset_to_interrupted_s"] = time.monotonic() - reset_at
    time.sleep(2)
    qmp.screendump("after-reset")
    log(f"after the reboot the program is offered again ({timings['reset_to_interrupted_s']:.1f} s); {save_png('after-reset')}")
    serial = open(os.path.join(OUT, "serial.log"), errors="replace").read()
    if "softdog" not in serial:
        raise Failed("the serial log does not show softdog's reset")

    # 5. The device-path frame-time benchmark on the emulated panel (the
    # app stopped for it, as scripts/bench-device-frames.sh does on a Pi).
    console.check("systemctl stop perfuse-app")
    console.check("PERFUSE_ASSETS=/usr/share/perfuse perfuse-frame-bench --frames 30 --out /tmp/frame-time.md >/dev/null 2>/tmp/frame-bench.err || { cat /tmp/frame-bench.err; false; }", timeout=900)
    report = console.check("cat /tmp/frame-time.md")
    with open(os.path.join(ROOT, "bench-results", "frame-time-device-qemu-virt.md"), "w") as file:
        file.write(report.replace("# Touchscreen frame time on the device path", "# Touchscreen frame time on the device path: the emulated machine (TCG, not a Pi)") + "\n")
    log("frame-time benchmark on the emulated panel: bench-results/frame-time-device-qemu-virt.md")


def write_results(timings):
    with open(os.path.join(OUT, "timings.json"), "w") as file:
        json.dump(timings, file, indent=2)
    lines = [
        "# Boot test in the emulated aarch64 machine",
        "",
        "`scripts/boot-test/run.sh`: qemu-system-aarch64 -M virt (TCG, 2 vCPUs, 1 GiB),",
        "Debian bookworm arm64 with the perfuse .deb, softdog, virtio-gpu.",
        f"Host: {os.uname().nodename}, {os.cpu_count()} CPUs. {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.",
        "Software emulation: a Pi boots and redraws several times faster.",
        "",
        "| Measure | Seconds |",
        "|---|---|",
    ]
    for key, value in timings.items():
        lines.append(f"| {key} | {value:.2f} |")
    os.makedirs(os.path.join(ROOT, "bench-results"), exist_ok=True)
    with open(os.path.join(ROOT, "bench-results", "boot-test.md"), "w") as file:
        file.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    try:
        main()
    except Failed as failure:
        log(f"FAILED: {failure}")
        sys.exit(1)
    log("passed")
