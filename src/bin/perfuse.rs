//! `perfuse`: the pump on the simulated board. It starts the simulated board
//! and the safety supervisor, each as its own process, verifies the platform
//! and the drug library, and runs the app: the real-time control thread,
//! heartbeating to the supervisor, driven by the touchscreen window.
//!
//! Options: `--volumetric` (the V1 platform instead of the S50 syringe),
//! `--language en|de`, `--headless` (line commands on stdin instead of the
//! window; `help` lists them).
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

use perfuse::app::display::Display;
use perfuse::app::headless::{run_on, Cli};
use perfuse::app::touchscreen::{run_window, WindowSetup};
use perfuse::assets;
use perfuse::druglib::startup::{last_good_path, start_library};
use perfuse::druglib::tool::today_utc;
use perfuse::stack::{sibling_binary, LinkProcess, SimProcess, SupervisorProcess};
use perfuse::ui::text::Language;
use perfuse_sim::SimPaths;

const HELP: &str = "Commands: load <rate mL/h> <volume mL> [kvo <rate mL/h>] | start | pause | resume | stop | titrate <rate mL/h> | \
bolus <volume mL> <seconds> | secondary <rate mL/h> <volume mL> | ack | silence | resume-interrupted | discard | status | quit. In another terminal, `perfuse-sim --dir <board folder> ctl help` injects faults.";

/// The launcher's options.
#[derive(Debug, Parser)]
#[command(
    name = "perfuse",
    version,
    about = "Perfuse on the simulated board: the simulator, the safety supervisor and the app, in a desktop window",
    after_help = HELP
)]
struct Options {
    /// The V1 volumetric platform instead of the S50 syringe.
    #[arg(long)]
    volumetric: bool,
    /// The language the screen starts in (en, de).
    #[arg(long, default_value = "en", value_parser = Language::from_tag)]
    language: Language,
    /// Line commands on stdin instead of the window (`help` lists them).
    #[arg(long)]
    headless: bool,
    /// Connect to a hospital gateway: the network link's settings
    /// (link.toml, docs/hospital-link.md). Without it, or without a
    /// [gateway] in it, the link stays off.
    #[arg(long)]
    link: Option<PathBuf>,
}

/// `text` with its first letter in capitals, for a line of its own.
fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

fn run(options: Options) -> Result<(), String> {
    println!("Perfuse {} (GPL-3.0-or-later)", env!("CARGO_PKG_VERSION"));
    let Options {
        volumetric,
        language,
        headless,
        link,
    } = options;
    if !headless {
        Display::Window.check()?;
    }
    let (mechanism, profile_name) = if volumetric {
        ("volumetric", "perfuse-v1-volumetric.toml")
    } else {
        ("syringe", "perfuse-s50-syringe.toml")
    };
    let keys_path = assets::trusted_keys();
    let profile = assets::assets_dir().join("platforms").join(profile_name);
    let library_path = assets::default_library();

    // In memory (tmpfs): a disk-backed board stalls the control thread
    // under disk load (see perfuse_sim::in_memory_file_system).
    let board_dir: PathBuf =
        SimPaths::scratch_parent().join(format!("perfuse-{}", std::process::id()));
    let sim = SimProcess::start(
        &sibling_binary("perfuse-sim")?,
        SimPaths::in_dir(&board_dir),
        // The buzzer through the laptop's sound card (a `sound` build).
        &["--mechanism", mechanism, "--sound"],
        true,
    )?;
    println!("Simulated board ({mechanism}): {}", board_dir.display());
    if let Ok(board) = perfuse_sim::Board::open(&SimPaths::in_dir(&board_dir).board()) {
        println!(
            "Buzzer: {}",
            perfuse_sim::sound::SoundState::of(&board).describe()
        );
    }
    let supervisor = SupervisorProcess::start(
        &sibling_binary("perfuse-supervisor")?,
        &board_dir,
        &profile,
        &keys_path,
    )?;
    println!(
        "Supervisor: process {}, log {}",
        supervisor.id(),
        board_dir.join("supervisor.log").display()
    );
    let link = match &link {
        Some(config) => LinkProcess::start(
            &sibling_binary("perfuse-link")?,
            config,
            &board_dir.join("link.sock"),
        )?,
        None => None,
    };
    match &link {
        Some(process) => println!(
            "Network link: process {}, the app connects at {}",
            process.id(),
            process.socket.display()
        ),
        None => println!("Network link: off (no --link with a [gateway])"),
    }
    // The history and the kept program outlive the simulated board.
    let data_dir = std::env::var_os("PERFUSE_DATA_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".local/share/perfuse"))
        })
        .unwrap_or_else(|| board_dir.join("data"));
    std::fs::create_dir_all(&data_dir)
        .map_err(|error| format!("cannot create {}: {error}", data_dir.display()))?;
    println!("Event log: {}", data_dir.join("events.db").display());
    // The last good library is kept beside the event log.
    let library = start_library(
        &library_path,
        &keys_path,
        &last_good_path(&data_dir.join("events.db")),
        today_utc(),
    );
    println!("{}", capitalised(&library.describe()));
    let cli = Cli {
        sim_dir: board_dir.clone(),
        profile,
        keys: keys_path,
        socket: None,
        store: Some(data_dir.join("events.db")),
        syringe: "BD Plastipak 50 mL".to_owned(),
        busy_ui: false,
        control_cpu: None,
        link: link.as_ref().map(|process| process.socket.clone()),
        library: Some(library_path.clone()),
    };
    let result = if headless {
        println!("{HELP}");
        run_on(&cli)
    } else {
        println!("Opening the pump window. In another terminal, `perfuse-sim --dir {} ctl help` injects faults.", board_dir.display());
        run_window(
            perfuse::app::headless::prepare(&cli),
            WindowSetup {
                library,
                language,
                socket: board_dir.join("supervisor.sock"),
                // A desktop's own backlight is not the pump's.
                backlight: None,
                display: Display::Window,
            },
        )
    };
    drop(link);
    drop(supervisor);
    drop(sim);
    let _ = std::fs::remove_dir_all(&board_dir);
    result
}

fn main() -> ExitCode {
    perfuse_logging::init("perfuse");
    match run(Options::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            tracing::error!("{message}");
            ExitCode::FAILURE
        }
    }
}
