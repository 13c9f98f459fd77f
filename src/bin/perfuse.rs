//! `perfuse`: the pump on the simulated board. It starts the simulated board
//! and the safety supervisor, each as its own process, verifies the platform
//! and the drug library, and runs the app: the real-time control thread,
//! heartbeating to the supervisor. Until the touchscreen UI lands, the app is
//! driven by line commands on stdin (`help` lists them).
use std::path::PathBuf;
use std::process::ExitCode;

use perfuse::app::headless::{run_on, Cli};
use perfuse::assets;
use perfuse::druglib::{tool::today_utc, ActiveLibrary};
use perfuse::signing::{read_signed, TrustedKeys};
use perfuse::stack::{sibling_binary, SimProcess, SupervisorProcess};
use perfuse_drivers::sim::SimPaths;

const HELP: &str = "Commands: load <rate mL/h> <volume mL> | start | pause | resume | stop | titrate <rate mL/h> | \
ack | silence | resume-interrupted | discard | status | quit. In another terminal, `perfuse-sim --dir <board folder> ctl help` injects faults.";

fn run() -> Result<(), String> {
    println!("Perfuse {} (GPL-3.0-or-later)", env!("CARGO_PKG_VERSION"));
    let volumetric = std::env::args().any(|argument| argument == "--volumetric");
    let (mechanism, profile_name) = if volumetric {
        ("volumetric", "perfuse-v1-volumetric.toml")
    } else {
        ("syringe", "perfuse-s50-syringe.toml")
    };
    let keys_path = assets::trusted_keys();
    let profile = assets::assets_dir().join("platforms").join(profile_name);
    let keys_text = std::fs::read_to_string(&keys_path)
        .map_err(|error| format!("{}: {error}", keys_path.display()))?;
    let keys = TrustedKeys::from_toml(&keys_text)
        .map_err(|error| format!("{}: {error}", keys_path.display()))?;

    let library_path = assets::default_library();
    let (bytes, signature) = read_signed(&library_path)?;
    let mut library = ActiveLibrary::none();
    match library.activate(&bytes, signature.as_deref(), &keys, today_utc(), false) {
        Ok(_) => {
            if let Some(verified) = library.get() {
                println!("Drug library: {verified}");
            }
        }
        Err(error) => println!(
            "Drug library {} refused: {error}; only basic infusions",
            library_path.display()
        ),
    }

    let board_dir: PathBuf = std::env::temp_dir().join(format!("perfuse-{}", std::process::id()));
    let sim = SimProcess::start(
        &sibling_binary("perfuse-sim")?,
        SimPaths::in_dir(&board_dir),
        &["--mechanism", mechanism],
        true,
    )?;
    println!("Simulated board ({mechanism}): {}", board_dir.display());
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
    println!("{HELP}");
    let result = run_on(&Cli {
        sim_dir: board_dir.clone(),
        profile,
        keys: keys_path,
        socket: None,
        store: Some(data_dir.join("events.db")),
        syringe: "BD Plastipak 50 mL".to_owned(),
    });
    drop(supervisor);
    drop(sim);
    let _ = std::fs::remove_dir_all(&board_dir);
    result
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("perfuse: {message}");
            ExitCode::FAILURE
        }
    }
}
