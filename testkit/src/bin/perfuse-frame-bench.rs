//! `perfuse-frame-bench`: the touchscreen's frame time on the device path.
//! The busiest pages are drawn by Slint's software renderer straight into
//! the panel's DRM dumb buffers (XRGB8888, two of them) and flipped at the
//! vertical blank, as Slint's linuxkms back-end draws the pump on a
//! Raspberry Pi. For each page: the render time, the wait for the flip,
//! and the frames that missed a refresh. Writes a Markdown report.
//!
//! On a Pi with the Perfuse package (docs/flash-and-boot.md, "Frame
//! time"): `scripts/bench-device-frames.sh pi@pump.local`, which stops the
//! app for the run. By hand: `sudo systemctl stop perfuse-app; sudo
//! PERFUSE_ASSETS=/usr/share/perfuse perfuse-frame-bench --out frame-time.md`
//! (the signed profiles as the package installs them).
#![allow(clippy::float_arithmetic, clippy::cast_precision_loss)]

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use perfuse::control::api::Mode;
use perfuse::ui::keypad::Key;
use perfuse::ui::session::Session;
use perfuse::ui::text::Language;
use perfuse_sim::Occlusion;
use perfuse_testkit::panel::Panel;
use perfuse_testkit::rig::Platform;
use perfuse_testkit::scene::Scene;
use slint::platform::software_renderer::{MinimalSoftwareWindow, RepaintBufferType};
use slint::platform::WindowAdapter;
use slint::PhysicalSize;

const USAGE: &str = "usage: perfuse-frame-bench [--card /dev/dri/card0] [--frames 120] \
                     [--library /etc/perfuse/druglib.toml] [--out bench-results/frame-time-device.md]";

struct Options {
    card: PathBuf,
    frames: usize,
    library: PathBuf,
    out: PathBuf,
}

fn options() -> Result<Options, String> {
    let installed = PathBuf::from("/etc/perfuse/druglib.toml");
    let mut options = Options {
        card: PathBuf::from("/dev/dri/card0"),
        frames: 120,
        library: if installed.is_file() {
            installed
        } else {
            perfuse::assets::default_library()
        },
        out: PathBuf::from("bench-results/frame-time-device.md"),
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || {
            args.next()
                .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))
        };
        match flag.as_str() {
            "--card" => options.card = PathBuf::from(value()?),
            "--frames" => {
                let text = value()?;
                options.frames = text
                    .parse()
                    .ok()
                    .filter(|frames| (10..=10_000).contains(frames))
                    .ok_or_else(|| format!("--frames {text}: a whole number from 10 to 10000"))?;
            }
            "--library" => options.library = PathBuf::from(value()?),
            "--out" => options.out = PathBuf::from(value()?),
            "--help" | "-h" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    Ok(options)
}

struct BenchPlatform {
    window: Rc<MinimalSoftwareWindow>,
    started: Instant,
}

impl slint::platform::Platform for BenchPlatform {
    fn create_window_adapter(&self) -> Result<Rc<dyn WindowAdapter>, slint::PlatformError> {
        Ok(self.window.clone())
    }

    fn duration_since_start(&self) -> Duration {
        self.started.elapsed()
    }
}

/// One frame's times.
#[derive(Clone, Copy)]
struct Frame {
    render: Duration,
    flip: Duration,
}

/// Draws `count` frames of what `scene` shows. `whole`: each frame is
/// repainted whole (as after a page change); otherwise the session is
/// refreshed and only what changed is redrawn (the two buffers swap, so
/// each frame repaints what changed in the last two).
fn frames(
    panel: &mut Panel,
    window: &MinimalSoftwareWindow,
    scene: &Scene,
    count: usize,
    whole: bool,
) -> Result<Vec<Frame>, String> {
    let mut times = Vec::with_capacity(count);
    let (width, _) = panel.size();
    for _ in 0..count {
        if whole {
            window.request_redraw();
        } else {
            scene.act(Session::refresh);
        }
        slint::platform::update_timers_and_animations();
        let mut render = Duration::ZERO;
        panel.draw(|pixels, stride| {
            let started = Instant::now();
            window.draw_if_needed(|renderer| {
                renderer.set_repaint_buffer_type(if whole {
                    RepaintBufferType::NewBuffer
                } else {
                    RepaintBufferType::SwappedBuffers
                });
                renderer.render(pixels, stride.max(width as usize));
            });
            render = started.elapsed();
        })?;
        let flip = panel.flip()?;
        times.push(Frame { render, flip });
    }
    Ok(times)
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let last = sorted.len() - 1;
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let index = ((last as f64) * fraction).round() as usize;
    sorted.get(index.min(last)).copied().unwrap_or_default()
}

fn read_trimmed(path: &str) -> String {
    std::fs::read_to_string(path)
        .map(|text| text.trim_matches(char::from(0)).trim().to_owned())
        .unwrap_or_else(|_| "unknown".to_owned())
}

fn run(options: &Options) -> Result<String, String> {
    let mut panel = Panel::open(&options.card)?;
    let (width, height) = panel.size();
    let window = MinimalSoftwareWindow::new(RepaintBufferType::SwappedBuffers);
    slint::platform::set_platform(Box::new(BenchPlatform {
        window: window.clone(),
        started: Instant::now(),
    }))
    .map_err(|error| format!("cannot set up the renderer: {error}"))?;
    window.set_size(PhysicalSize::new(width, height));
    let bytes = std::fs::read(&options.library)
        .map_err(|error| format!("{}: {error}", options.library.display()))?;
    let library = Arc::new(
        perfuse::druglib::parse_library(&bytes)
            .map_err(|error| format!("{}: {error}", options.library.display()))?,
    );
    let scene =
        Scene::new(Platform::Volumetric, Language::English, &library, false).map_err(|error| {
            format!(
                "{error} (the signed profiles: set PERFUSE_ASSETS to the folder that holds \
                 platforms/, /usr/share/perfuse where the package is installed)"
            )
        })?;
    let started = Instant::now();
    let mut rows: Vec<(&str, &str, Vec<Frame>)> = Vec::new();
    let count = options.frames;
    scene.refresh_until(|mode| mode == Mode::Idle)?;
    rows.push((
        "home",
        "whole",
        frames(&mut panel, &window, &scene, count, true)?,
    ));
    scene.act(Session::new_program);
    scene.act(|session| session.choose("icu"));
    rows.push((
        "drug list (ICU)",
        "whole",
        frames(&mut panel, &window, &scene, count, true)?,
    ));
    scene.act(|session| session.choose("norepinephrine"));
    scene.act(|session| session.choose("0"));
    scene.act(|session| session.key(Key::Digit(4)));
    rows.push((
        "dose entry with keypad",
        "whole",
        frames(&mut panel, &window, &scene, count, true)?,
    ));
    scene.enter("0.6");
    scene.enter("70");
    scene.enter("250");
    rows.push((
        "review",
        "whole",
        frames(&mut panel, &window, &scene, count, true)?,
    ));
    scene.act(|session| session.confirm_override(0));
    scene.act(Session::start);
    scene.refresh_until(|mode| mode == Mode::Delivering)?;
    rows.push((
        "running",
        "whole",
        frames(&mut panel, &window, &scene, count, true)?,
    ));
    rows.push((
        "running",
        "refreshed",
        frames(&mut panel, &window, &scene, count, false)?,
    ));
    scene.rig.borrow_mut().occlude_downstream(Occlusion::Full);
    scene.refresh_until(|mode| mode == Mode::AlarmStopped)?;
    rows.push((
        "high-priority alarm",
        "refreshed",
        frames(&mut panel, &window, &scene, count, false)?,
    ));
    let elapsed = started.elapsed();

    // A frame missed the refresh when it took more than one and a half
    // periods of the panel's mode.
    let period = panel.refresh_period();

    let mut report = String::new();
    let model = read_trimmed("/proc/device-tree/model");
    let kernel = read_trimmed("/proc/sys/kernel/osrelease");
    let _ = writeln!(report, "# Touchscreen frame time on the device path\n");
    let _ = writeln!(
        report,
        "`perfuse-frame-bench` (scripts/bench-device-frames.sh): Slint 1.18 software renderer into the panel's DRM dumb buffers \
         (XRGB8888, double-buffered), each frame flipped at the vertical blank, as the pump draws through Slint's linuxkms back-end.\n"
    );
    let _ = writeln!(
        report,
        "Machine: {model}; kernel {kernel}; {} CPUs. Display: {}. {count} frames a row, {:.1} s in all.\n",
        std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
        panel.description,
        elapsed.as_secs_f64()
    );
    let _ = writeln!(
        report,
        "\"whole\": every pixel repainted (a new page); \"refreshed\": the session refreshed each frame and only what changed redrawn. \
         Frame = render + wait for the flip; the panel refreshes every {:.2} ms, and a frame missed a refresh when it took more than 1.5 of those.\n",
        ms(period)
    );
    let _ = writeln!(
        report,
        "| Page | Repaint | render p50 ms | render p99 ms | render max ms | flip wait p50 ms | frame max ms | missed |"
    );
    let _ = writeln!(report, "|---|---|---:|---:|---:|---:|---:|---:|");
    for (page, repaint, times) in &rows {
        let mut render: Vec<Duration> = times.iter().map(|frame| frame.render).collect();
        render.sort();
        let mut flip: Vec<Duration> = times.iter().map(|frame| frame.flip).collect();
        flip.sort();
        let totals: Vec<Duration> = times
            .iter()
            .map(|frame| frame.render + frame.flip)
            .collect();
        let missed = totals
            .iter()
            .filter(|total| total.as_secs_f64() > period.as_secs_f64() * 1.5)
            .count();
        let _ = writeln!(
            report,
            "| {page} | {repaint} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {missed} |",
            ms(percentile(&render, 0.5)),
            ms(percentile(&render, 0.99)),
            ms(render.last().copied().unwrap_or_default()),
            ms(percentile(&flip, 0.5)),
            ms(totals.iter().max().copied().unwrap_or_default()),
        );
    }
    Ok(report)
}

fn main() -> ExitCode {
    let options = match options() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("perfuse-frame-bench: {message}");
            return ExitCode::from(2);
        }
    };
    match run(&options) {
        Ok(report) => {
            print!("{report}");
            if let Some(parent) = options
                .out
                .parent()
                .filter(|parent| !parent.as_os_str().is_empty())
            {
                if let Err(error) = std::fs::create_dir_all(parent) {
                    eprintln!(
                        "perfuse-frame-bench: cannot create {}: {error}",
                        parent.display()
                    );
                    return ExitCode::FAILURE;
                }
            }
            match std::fs::write(&options.out, report) {
                Ok(()) => {
                    eprintln!("perfuse-frame-bench: wrote {}", options.out.display());
                    ExitCode::SUCCESS
                }
                Err(error) => {
                    eprintln!(
                        "perfuse-frame-bench: cannot write {}: {error}",
                        options.out.display()
                    );
                    ExitCode::FAILURE
                }
            }
        }
        Err(message) => {
            eprintln!("perfuse-frame-bench: {message}");
            ExitCode::FAILURE
        }
    }
}
