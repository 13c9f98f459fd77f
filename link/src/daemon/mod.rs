//! `perfuse-link`, the process: reads its settings, and if a gateway is
//! configured, serves the app's local socket and dials the gateway, both
//! on one single-threaded runtime. Without a gateway it says so and exits
//! at once: the link stays off.
//!
//! It never touches GPIO, SPI or the supervisor, and its unit runs it as
//! its own user with capped memory, CPU weight and tasks
//! (deploy/systemd/perfuse-link.service).

mod app;
mod gateway;
mod shared;
mod tls;

pub use gateway::{Limits, Session};
pub use shared::Shared;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;

use crate::config::Settings;

/// The pump's link to the hospital's gateway (HL7 v2 over MLLP and TLS,
/// IHE PCD).
#[derive(Parser, Debug)]
#[command(name = "perfuse-link", version)]
struct Args {
    /// The link's settings.
    #[arg(long, default_value = "/etc/perfuse/link.toml")]
    config: PathBuf,
    /// The local socket the pump app connects to.
    #[arg(long, default_value = "/run/perfuse-link/link.sock")]
    socket: PathBuf,
    /// Accept the app only from this user id.
    #[arg(long)]
    app_uid: Option<u32>,
}

pub fn main() -> ExitCode {
    perfuse_logging::init("perfuse-link");
    let args = Args::parse();
    let settings = match Settings::load(&args.config) {
        Ok(settings) => settings,
        Err(error) => {
            tracing::error!("{error}");
            return ExitCode::from(2);
        }
    };
    let Some(gateway) = settings.gateway.clone() else {
        tracing::info!(
            "no [gateway] in {}: the link stays off",
            args.config.display()
        );
        return ExitCode::SUCCESS;
    };
    let tls = match tls::client_config(&gateway) {
        Ok(config) => config,
        Err(error) => {
            tracing::error!("the link cannot make its TLS identity, so it will not dial: {error}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            tracing::error!("cannot start the link's runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    // The socket registers with the runtime's reactor.
    let _entered = runtime.enter();
    let socket = match app::Socket::bind(&args.socket) {
        Ok(socket) => socket,
        Err(error) => {
            tracing::error!("{error}");
            return ExitCode::FAILURE;
        }
    };
    let shared = Arc::new(Shared::new());
    runtime.block_on(async {
        let app = tokio::spawn(app::run(socket, args.app_uid, shared.clone()));
        let dial = tokio::spawn(gateway::run(settings, gateway, tls, shared.clone()));
        let stop = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut term) => {
                    tokio::select! {
                        _ = term.recv() => {}
                        _ = tokio::signal::ctrl_c() => {}
                    }
                }
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        };
        tokio::select! {
            () = stop => {
                tracing::info!("stopping");
                ExitCode::SUCCESS
            }
            _ = app => {
                tracing::error!("the app side ended");
                ExitCode::FAILURE
            }
            _ = dial => {
                tracing::error!("the gateway side ended");
                ExitCode::FAILURE
            }
        }
    })
}
