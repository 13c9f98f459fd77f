//! The `perfuse-sim` process: owns the shared board, runs the physics in
//! real time (1 ms steps on absolute deadlines), answers commands on a Unix
//! socket, runs the virtual watchdog, and behaves like hardware when a
//! process dies (its GPIO lines are released to their pull resistors).
//!
//! Single-threaded: clients are served non-blocking between physics steps,
//! at most `MAX_CLIENTS` at once, each with a bounded line buffer.

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::command::Command;
use super::memory::{board_clock_ms, Board};
use super::physics::{LineModel, Mechanism, Physics};
use super::simulator::{SensorModel, SimWiring, Simulator};

/// Physics step, and the period of everything else the simulator does.
pub const STEP: Duration = Duration::from_millis(1);
/// At most this many command connections at once; more are refused.
pub const MAX_CLIENTS: usize = 8;
/// Longest command line accepted, bytes.
pub const MAX_LINE: usize = 1024;
/// How often the simulator checks whether the app and supervisor still live.
const LIVENESS_EVERY: Duration = Duration::from_millis(10);

/// Where a simulator's files are: the board and the control socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimPaths {
    pub dir: PathBuf,
}

impl SimPaths {
    /// `$PERFUSE_SIM_DIR`, else /dev/shm/perfuse-sim (else the temp dir).
    pub fn from_env() -> Self {
        if let Some(dir) = std::env::var_os("PERFUSE_SIM_DIR") {
            return Self {
                dir: PathBuf::from(dir),
            };
        }
        let shm = Path::new("/dev/shm");
        let base = if shm.is_dir() {
            shm.to_path_buf()
        } else {
            std::env::temp_dir()
        };
        Self {
            dir: base.join("perfuse-sim"),
        }
    }

    pub fn in_dir(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The parent for boards made on the fly (the launcher's, tests'):
    /// `/dev/shm` where there is one, since the board must live in memory
    /// (see `in_memory_file_system`), else the temporary folder.
    pub fn scratch_parent() -> PathBuf {
        let shm = Path::new("/dev/shm");
        if shm.is_dir() {
            shm.to_path_buf()
        } else {
            std::env::temp_dir()
        }
    }

    pub fn board(&self) -> PathBuf {
        self.dir.join("board")
    }

    pub fn socket(&self) -> PathBuf {
        self.dir.join("control.sock")
    }

    /// The board identity, laid out as Linux lays out /proc/device-tree/hat.
    pub fn hat(&self) -> PathBuf {
        self.dir.join("hat")
    }
}

/// What the simulated board's identity EEPROM says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimIdentity {
    /// The carrier board of the simulated mechanism, revision 2 (syringe) or 1 (volumetric).
    Matching,
    /// A board this software does not know.
    Unknown,
    /// No identity EEPROM at all.
    Missing,
}

/// Writes the HAT identity folder for `mechanism` as `identity` says.
pub fn write_identity(
    folder: &Path,
    mechanism: &Mechanism,
    identity: SimIdentity,
) -> Result<(), String> {
    let fields = |product: &str, product_id: u16, revision: u16| {
        [
            ("vendor", "Perfuse Project".to_owned()),
            ("product", product.to_owned()),
            ("product_id", format!("0x{product_id:04x}")),
            ("product_ver", format!("0x{revision:04x}")),
            ("uuid", "5e0f9a7c-2d41-4b8e-8c3a-9f1d6e2b7a40".to_owned()),
        ]
    };
    let values = match (identity, mechanism) {
        (SimIdentity::Missing, _) => {
            let _ = std::fs::remove_dir_all(folder);
            return Ok(());
        }
        (SimIdentity::Unknown, _) => fields("Perfuse X9 prototype carrier", 0x9999, 1),
        (SimIdentity::Matching, Mechanism::Syringe { .. }) => {
            fields("Perfuse S50 syringe carrier", 0x5301, 2)
        }
        (SimIdentity::Matching, Mechanism::Peristaltic { .. }) => {
            fields("Perfuse V1 volumetric carrier", 0x5601, 1)
        }
    };
    std::fs::create_dir_all(folder)
        .map_err(|error| format!("cannot create {}: {error}", folder.display()))?;
    for (name, value) in values {
        let path = folder.join(name);
        std::fs::write(&path, format!("{value}\0"))
            .map_err(|error| format!("cannot write {}: {error}", path.display()))?;
    }
    Ok(())
}

/// What to simulate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimOptions {
    pub mechanism: Mechanism,
    pub reservoir_ml: f64,
    pub wiring: SimWiring,
    pub identity: SimIdentity,
    /// Play the buzzer through the sound card (`sound` feature).
    pub sound: bool,
}

struct Client {
    reader: BufReader<UnixStream>,
    line: Vec<u8>,
}

/// Counters the service reports when it stops.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ServiceStats {
    pub steps: u64,
    /// Steps that started more than one period late.
    pub late_steps: u64,
    pub commands: u64,
    pub watchdog_resets: u64,
}

/// Is `path` on a file system held in memory (tmpfs)? The board is a shared
/// mapping the control thread writes every period: on a disk-backed file
/// system the kernel's writeback write-protects its dirty pages, and under
/// I/O load a store to one then waits for the disk. Measured here with
/// `stress-ng --hdd 2 --io 1`: 82 control overruns and a supervisor trip
/// (157 ms without a heartbeat) with the board on ext4, no trip on tmpfs.
pub fn in_memory_file_system(path: &Path) -> bool {
    // TMPFS_MAGIC (linux/magic.h).
    const TMPFS: i64 = 0x0102_1994;
    // The field's C type differs between targets (it is i64 on x86_64).
    #[allow(clippy::useless_conversion)]
    let is_tmpfs = |stats: nix::sys::statfs::Statfs| i64::from(stats.filesystem_type().0) == TMPFS;
    nix::sys::statfs::statfs(path).is_ok_and(is_tmpfs)
}

/// Runs the simulator until `stop` is set. Creates the board and socket, and
/// removes them on the way out.
pub fn run(
    paths: &SimPaths,
    options: SimOptions,
    stop: &AtomicBool,
) -> Result<ServiceStats, String> {
    std::fs::create_dir_all(&paths.dir)
        .map_err(|error| format!("cannot create {}: {error}", paths.dir.display()))?;
    if !in_memory_file_system(&paths.dir) {
        tracing::warn!(
            "{} is not in memory (tmpfs): under disk load, writeback of the board can stall the control thread past the supervisor's deadline; use a folder under /dev/shm",
            paths.dir.display()
        );
    }
    let board = Board::create(&paths.board()).map_err(|error| error.to_string())?;
    let physics = Physics::new(options.mechanism, LineModel::ADULT, options.reservoir_ml);
    write_identity(&paths.hat(), &options.mechanism, options.identity)?;
    let mut simulator = Simulator::new(
        board.clone(),
        physics,
        options.wiring,
        SensorModel::REFERENCE,
    );
    // Before the socket answers: whoever connects sees whether it plays.
    let _playback = options
        .sound
        .then(|| crate::sound::start(board.clone()))
        .flatten();
    let socket = paths.socket();
    match std::fs::remove_file(&socket) {
        Ok(()) => {}
        Err(error) if error.kind() == ErrorKind::NotFound => {}
        Err(error) => {
            return Err(format!(
                "cannot remove the stale socket {}: {error}",
                socket.display()
            ))
        }
    }
    let listener = UnixListener::bind(&socket)
        .map_err(|error| format!("cannot listen on {}: {error}", socket.display()))?;
    listener
        .set_nonblocking(true)
        .map_err(|error| error.to_string())?;
    let result = serve(&mut simulator, &board, &listener, stop);
    let _ = std::fs::remove_file(&socket);
    let _ = std::fs::remove_file(paths.board());
    let _ = std::fs::remove_dir_all(paths.hat());
    result
}

fn serve(
    simulator: &mut Simulator,
    board: &Arc<Board>,
    listener: &UnixListener,
    stop: &AtomicBool,
) -> Result<ServiceStats, String> {
    let mut clients: Vec<Client> = Vec::with_capacity(MAX_CLIENTS);
    let mut stats = ServiceStats::default();
    let started = Instant::now();
    let mut last = started;
    let mut deadline = started + STEP;
    let mut next_liveness = started;
    while !stop.load(Ordering::Acquire) {
        let now = Instant::now();
        simulator.step(now.duration_since(last).as_secs_f64());
        last = now;
        stats.steps += 1;
        let memory = board.memory();
        memory
            .simulator_alive_at_ms
            .store(board_clock_ms(), Ordering::Release);
        if simulator.watchdog_expired(board_clock_ms()) {
            stats.watchdog_resets += 1;
            tracing::warn!(
                "watchdog expired: board reset, motor driver disabled, app and supervisor killed"
            );
            kill_registered(board);
        }
        if now >= next_liveness {
            release_lines_of_dead_processes(board);
            next_liveness = now + LIVENESS_EVERY;
        }
        accept_clients(listener, &mut clients);
        stats.commands += serve_clients(simulator, &mut clients);
        let after = Instant::now();
        if after > deadline + STEP {
            stats.late_steps += 1;
            deadline = after + STEP;
        } else {
            std::thread::sleep(deadline.saturating_duration_since(after));
            deadline += STEP;
        }
    }
    Ok(stats)
}

fn accept_clients(listener: &UnixListener, clients: &mut Vec<Client>) {
    loop {
        match listener.accept() {
            Ok((stream, _)) => {
                if clients.len() >= MAX_CLIENTS {
                    let mut stream = stream;
                    let _ = writeln!(
                        stream,
                        "{}",
                        json!({ "ok": false, "error": "too many connections" })
                    );
                    continue;
                }
                if stream.set_nonblocking(true).is_ok() {
                    clients.push(Client {
                        reader: BufReader::new(stream),
                        line: Vec::with_capacity(MAX_LINE),
                    });
                }
            }
            Err(error) if error.kind() == ErrorKind::WouldBlock => return,
            Err(_) => return,
        }
    }
}

/// Serves every complete line waiting; drops closed or misbehaving clients.
fn serve_clients(simulator: &mut Simulator, clients: &mut Vec<Client>) -> u64 {
    let mut served = 0;
    clients.retain_mut(|client| loop {
        let mut byte = [0_u8; 1];
        match client.reader.read(&mut byte) {
            Ok(0) => return false,
            Ok(_) => {}
            Err(error) if error.kind() == ErrorKind::WouldBlock => return true,
            Err(_) => return false,
        }
        let [byte] = byte;
        if byte != b'\n' {
            if client.line.len() >= MAX_LINE {
                let _ = reply(
                    client,
                    &json!({ "ok": false, "error": format!("line longer than {MAX_LINE} bytes") }),
                );
                return false;
            }
            client.line.push(byte);
            continue;
        }
        let text = String::from_utf8_lossy(&client.line).into_owned();
        client.line.clear();
        let answer = match Command::parse(&text) {
            Ok(command) => command.execute(simulator),
            Err(error) => json!({ "ok": false, "error": error }),
        };
        served += 1;
        if reply(client, &answer).is_err() {
            return false;
        }
    });
    served
}

fn reply(client: &mut Client, answer: &Value) -> std::io::Result<()> {
    let stream = client.reader.get_mut();
    stream.set_nonblocking(false)?;
    stream.set_write_timeout(Some(Duration::from_millis(100)))?;
    let result = writeln!(stream, "{answer}");
    stream.set_nonblocking(true)?;
    result
}

fn alive(pid: u32) -> bool {
    let Ok(raw) = i32::try_from(pid) else {
        return false;
    };
    raw > 0 && nix::sys::signal::kill(nix::unistd::Pid::from_raw(raw), None).is_ok()
}

/// When a process holding board lines dies, the lines go back to their pull
/// resistors: DRV_ENN high (driver disabled), buzzer low, its attenuators
/// low (loudest).
fn release_lines_of_dead_processes(board: &Board) {
    let memory = board.memory();
    let supervisor = memory.supervisor_pid.load(Ordering::Acquire);
    if supervisor != 0 && !alive(supervisor) {
        memory.set_level(memory.wiring.motor_enable.load(Ordering::Acquire), true);
        memory.release_buzzer();
        memory.supervisor_pid.store(0, Ordering::Release);
        tracing::warn!(
            "supervisor (pid {supervisor}) is gone: its lines are released, motor driver disabled"
        );
    }
    let app = memory.app_pid.load(Ordering::Acquire);
    if app != 0 && !alive(app) {
        memory.app_pid.store(0, Ordering::Release);
        tracing::warn!("app (pid {app}) is gone");
    }
}

/// A board reset takes the processes running on it down with it.
fn kill_registered(board: &Board) {
    let memory = board.memory();
    for pid in [
        memory.app_pid.swap(0, Ordering::AcqRel),
        memory.supervisor_pid.swap(0, Ordering::AcqRel),
    ] {
        if let Ok(raw) = i32::try_from(pid) {
            if raw > 0 {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(raw),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
        }
    }
}

/// A connection to a running simulator, for tests, tools and the CLI.
pub struct SimClient {
    reader: BufReader<UnixStream>,
}

impl SimClient {
    pub fn connect(paths: &SimPaths) -> Result<Self, String> {
        let socket = paths.socket();
        let stream = UnixStream::connect(&socket).map_err(|error| {
            format!(
                "cannot reach perfuse-sim at {}: {error} (is it running?)",
                socket.display()
            )
        })?;
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .map_err(|error| error.to_string())?;
        Ok(Self {
            reader: BufReader::new(stream),
        })
    }

    /// Sends one command; returns the reply, or its error text.
    pub fn send(&mut self, command: &str) -> Result<Value, String> {
        let stream = self.reader.get_mut();
        writeln!(stream, "{}", command.trim())
            .map_err(|error| format!("cannot send to perfuse-sim: {error}"))?;
        let mut line = String::new();
        self.reader
            .read_line(&mut line)
            .map_err(|error| format!("no answer from perfuse-sim: {error}"))?;
        let value: Value = serde_json::from_str(&line)
            .map_err(|error| format!("perfuse-sim answered nonsense: {error}"))?;
        if value.get("ok") == Some(&Value::Bool(true)) {
            Ok(value)
        } else {
            Err(value
                .get("error")
                .and_then(Value::as_str)
                .unwrap_or("perfuse-sim refused the command")
                .to_owned())
        }
    }
}
