//! Starting and stopping the processes of the stack (for now the simulated
//! board; the supervisor joins it) from the `perfuse` launcher and tests.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use perfuse_sim::{SimClient, SimPaths};

/// How long the simulator may take to open its control socket.
pub const SIM_START_DEADLINE: Duration = Duration::from_secs(10);

/// A sibling binary of the running executable (they are built together).
pub fn sibling_binary(name: &str) -> Result<PathBuf, String> {
    let current = std::env::current_exe()
        .map_err(|error| format!("cannot find this program's path: {error}"))?;
    let path = current.with_file_name(name);
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!(
            "{} is missing: build the whole package (cargo build --release)",
            path.display()
        ))
    }
}

/// A running `perfuse-sim`, stopped (SIGTERM, then SIGKILL) when dropped.
pub struct SimProcess {
    child: Child,
    pub paths: SimPaths,
}

impl SimProcess {
    /// Starts `executable run <args>` on `paths` and waits until it answers.
    pub fn start(
        executable: &Path,
        paths: SimPaths,
        args: &[&str],
        quiet: bool,
    ) -> Result<SimProcess, String> {
        let mut command = Command::new(executable);
        command.arg("--dir").arg(&paths.dir).arg("run").args(args);
        if quiet {
            command.stderr(Stdio::null());
        }
        perfuse_os::process::ends_with_parent(&mut command);
        let child = command
            .spawn()
            .map_err(|error| format!("cannot start {}: {error}", executable.display()))?;
        let mut process = SimProcess { child, paths };
        let started = Instant::now();
        while SimClient::connect(&process.paths).is_err() {
            if let Ok(Some(status)) = process.child.try_wait() {
                return Err(format!("perfuse-sim stopped at start ({status})"));
            }
            if started.elapsed() > SIM_START_DEADLINE {
                return Err(format!(
                    "perfuse-sim did not answer within {} s",
                    SIM_START_DEADLINE.as_secs()
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(process)
    }

    /// Sends one command.
    pub fn send(&self, command: &str) -> Result<serde_json::Value, String> {
        SimClient::connect(&self.paths)?.send(command)
    }

    pub fn id(&self) -> u32 {
        self.child.id()
    }
}

/// Stops a child process: SIGTERM, up to 2 s to finish, then SIGKILL.
fn stop(child: &mut Child) {
    if let Ok(pid) = i32::try_from(child.id()) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGTERM,
        );
    }
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    let _ = child.wait();
}

impl Drop for SimProcess {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}

/// A running `perfuse-supervisor`, stopped (SIGTERM, then SIGKILL) when dropped.
pub struct SupervisorProcess {
    child: Child,
}

impl SupervisorProcess {
    /// Starts the supervisor on the simulated board in `sim_dir` and waits
    /// until its self-test passed (what Type=notify tells systemd).
    pub fn start(
        executable: &Path,
        sim_dir: &Path,
        profile: &Path,
        keys: &Path,
    ) -> Result<Self, String> {
        let log = sim_dir.join("supervisor.log");
        let passed_before = std::fs::read_to_string(&log)
            .unwrap_or_default()
            .matches("START self-test passed")
            .count();
        let mut command = Command::new(executable);
        command
            .arg("--sim-dir")
            .arg(sim_dir)
            .arg("--profile")
            .arg(profile)
            .arg("--keys")
            .arg(keys)
            .stderr(Stdio::null());
        perfuse_os::process::ends_with_parent(&mut command);
        let child = command
            .spawn()
            .map_err(|error| format!("cannot start {}: {error}", executable.display()))?;
        let mut process = Self { child };
        let started = Instant::now();
        loop {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            if text.matches("START self-test passed").count() > passed_before {
                return Ok(process);
            }
            if let Some(line) = text
                .lines()
                .rev()
                .find(|line| line.contains("self-test FAILED"))
            {
                return Err(format!("the supervisor refused to start: {line}"));
            }
            if let Ok(Some(status)) = process.child.try_wait() {
                return Err(format!("perfuse-supervisor stopped at start ({status})"));
            }
            if started.elapsed() > SIM_START_DEADLINE {
                return Err("perfuse-supervisor did not become ready".to_owned());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn id(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for SupervisorProcess {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}

/// A running `perfuse-link`, stopped (SIGTERM, then SIGKILL) when dropped.
pub struct LinkProcess {
    child: Child,
    /// The local socket the app connects to.
    pub socket: PathBuf,
}

impl LinkProcess {
    /// Starts the link with the settings `config`, serving the app at
    /// `socket`, and waits until the socket is there. A link whose settings
    /// name no gateway stops at once: then there is no link (None).
    pub fn start(executable: &Path, config: &Path, socket: &Path) -> Result<Option<Self>, String> {
        let mut command = Command::new(executable);
        command
            .arg("--config")
            .arg(config)
            .arg("--socket")
            .arg(socket);
        perfuse_os::process::ends_with_parent(&mut command);
        let child = command
            .spawn()
            .map_err(|error| format!("cannot start {}: {error}", executable.display()))?;
        let mut process = Self {
            child,
            socket: socket.to_owned(),
        };
        let started = Instant::now();
        while !socket.exists() {
            if let Ok(Some(status)) = process.child.try_wait() {
                return if status.success() {
                    Ok(None)
                } else {
                    Err(format!(
                        "perfuse-link stopped at start ({status}): see its message above"
                    ))
                };
            }
            if started.elapsed() > SIM_START_DEADLINE {
                return Err("perfuse-link did not open its socket".to_owned());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        Ok(Some(process))
    }

    pub fn id(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for LinkProcess {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}
