//! `perfuse`: the pump. Today it brings up the simulated board, runs the boot
//! cross-check of platform identity against the installed mechanism profile,
//! activates the drug library, and reports what it found. The control
//! thread, supervisor and touchscreen UI join it as they are built.
use std::process::ExitCode;

use perfuse::assets;
use perfuse::druglib::{tool::today_utc, ActiveLibrary};
use perfuse::platform::{read_installed_profile, verify_platform};
use perfuse::signing::{read_signed, TrustedKeys};
use perfuse::stack::{sibling_binary, SimProcess};
use perfuse_drivers::hat::HatIdentity;
use perfuse_drivers::sim::SimPaths;

fn run() -> Result<(), String> {
    println!("Perfuse {} (GPL-3.0-or-later)", env!("CARGO_PKG_VERSION"));
    let volumetric = std::env::args().any(|argument| argument == "--volumetric");
    let (mechanism, profile) = if volumetric {
        ("volumetric", "perfuse-v1-volumetric.toml")
    } else {
        ("syringe", "perfuse-s50-syringe.toml")
    };
    let keys_path = assets::trusted_keys();
    let keys_text = std::fs::read_to_string(&keys_path)
        .map_err(|error| format!("{}: {error}", keys_path.display()))?;
    let keys = TrustedKeys::from_toml(&keys_text)
        .map_err(|error| format!("{}: {error}", keys_path.display()))?;

    let run_dir = std::env::temp_dir().join(format!("perfuse-{}", std::process::id()));
    let sim = SimProcess::start(
        &sibling_binary("perfuse-sim")?,
        SimPaths::in_dir(&run_dir),
        &["--mechanism", mechanism],
        true,
    )?;
    println!(
        "Simulated board: {} mechanism, control socket {}",
        mechanism,
        sim.paths.socket().display()
    );

    let profile_path = assets::assets_dir().join("platforms").join(profile);
    match verify_platform(
        HatIdentity::read_from(&sim.paths.hat()),
        read_installed_profile(&profile_path),
        &keys,
    ) {
        Ok(verified) => {
            println!("Platform: {} verified", verified.platform.name);
            println!("  board: {}", verified.identity);
            println!(
                "  profile: {} {}, signed by {}{}",
                verified.profile.profile.name,
                verified.profile.profile.version,
                verified.signed_by,
                if verified.development_key {
                    " (DEVELOPMENT KEY: not for clinical use)"
                } else {
                    ""
                }
            );
        }
        Err(rejection) => {
            println!("Platform NOT verified: {rejection}");
            println!("  {}", rejection.action());
        }
    }

    let library_path = assets::default_library();
    let (bytes, signature) = read_signed(&library_path)?;
    let mut active = ActiveLibrary::none();
    match active.activate(&bytes, signature.as_deref(), &keys, today_utc(), false) {
        Ok(_) => {
            if let Some(verified) = active.get() {
                println!("Drug library: {verified}");
                for area in &verified.library.file.care_areas {
                    println!("  {:<20} {:>3} entries", area.name, area.entries.len());
                }
            }
        }
        Err(error) => println!(
            "Drug library {} refused: {error}; only basic infusions could be programmed",
            library_path.display()
        ),
    }
    let truth = sim.send("truth")?;
    let field = |name: &str| truth.get(name).cloned().unwrap_or_default();
    println!(
        "Ground truth: motor driver {}, {} mL delivered, line pressure {:.0} mmHg",
        if field("motor_enabled") == true {
            "enabled"
        } else {
            "disabled (no supervisor yet)"
        },
        field("delivered_ml"),
        field("downstream_mmhg").as_f64().unwrap_or_default()
    );
    println!("Not built yet: the control thread, supervisor and touchscreen UI (issues 4 to 6).");
    println!("Try: perfuse-sim, perfuse-platform and perfuse-druglib (each with --help).");
    drop(sim);
    let _ = std::fs::remove_dir_all(&run_dir);
    Ok(())
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
