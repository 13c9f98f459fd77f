//! The system fault matrix (docs/system-fault-matrix.md), run on the real
//! processes: for each cell a fresh simulated board, supervisor and
//! headless app, the fault injected through the simulator's command socket,
//! and every expectation checked against the board's ground truth. Shared by
//! `tests/stack/system_fault_matrix.rs` (idle, and under load) and
//! `benches/fault_matrix.rs` (figures to bench-results/).
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::float_arithmetic
)]

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use perfuse::stack::{SimProcess, SupervisorProcess};
use perfuse_sim::SimPaths;
use serde_json::Value;

use crate::bins::root;

/// Which pump a row runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    Syringe,
    Volumetric,
}

impl Platform {
    fn profile(self) -> PathBuf {
        root().join(match self {
            Platform::Syringe => "assets/platforms/perfuse-s50-syringe.toml",
            Platform::Volumetric => "assets/platforms/perfuse-v1-volumetric.toml",
        })
    }

    fn sim_args(self) -> &'static [&'static str] {
        match self {
            Platform::Syringe => &[],
            Platform::Volumetric => &["--mechanism", "volumetric"],
        }
    }
}

/// The delivery state a fault is injected in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Primary,
    Secondary,
    Bolus,
    KeepVeinOpen,
    Paused,
    Ready,
}

impl State {
    pub const ALL: [State; 6] = [
        State::Primary,
        State::Secondary,
        State::Bolus,
        State::KeepVeinOpen,
        State::Paused,
        State::Ready,
    ];

    pub fn name(self) -> &'static str {
        match self {
            State::Primary => "primary",
            State::Secondary => "secondary",
            State::Bolus => "bolus",
            State::KeepVeinOpen => "kvo",
            State::Paused => "paused",
            State::Ready => "ready",
        }
    }
}

/// An alarm expected, or none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    None,
    Alarm(String),
}

/// What the nurse's start or resume gives after a fault met while stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AtStart {
    /// Delivery runs.
    None,
    /// The pump refuses to start.
    Refused,
    Alarm(String),
}

/// What one cell expects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    /// The simulator must refuse the injection.
    Refused,
    Flowing {
        /// None: no alarm is due (watched for the row's time).
        alarm: Option<String>,
        trip: bool,
    },
    Stopped {
        while_stopped: Outcome,
        trip_stopped: bool,
        at_start: AtStart,
        trip_start: bool,
    },
}

/// One row of the table.
#[derive(Debug, Clone)]
pub struct Row {
    pub id: String,
    pub platform: Platform,
    pub fault: String,
    pub inject: Vec<String>,
    pub clear: Vec<String>,
    pub stops_within_s: f64,
    /// Injected once the occlusion detector has settled.
    pub settle: bool,
    /// Each state's expectation and its own "stops within" if it has one
    /// (`Alarm@12`: a bubble takes longer to pass at the KVO rate).
    pub cells: Vec<(State, Expect, Option<f64>)>,
}

/// One cell: a row in one state.
#[derive(Debug, Clone)]
pub struct Cell {
    pub row: Row,
    pub state: State,
    pub expect: Expect,
    /// The documented time for flow to stop (or to watch), s.
    pub stops_within_s: f64,
}

impl Cell {
    pub fn name(&self) -> String {
        format!("{}/{}", self.row.id, self.state.name())
    }
}

fn split_cells(line: &str) -> Vec<String> {
    let mut cells = Vec::new();
    let mut current = String::new();
    let mut chars = line.trim().trim_start_matches('|').chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                current.push('|');
                chars.next();
            }
            '|' => {
                cells.push(current.trim().to_owned());
                current.clear();
            }
            other => current.push(other),
        }
    }
    if !current.trim().is_empty() {
        cells.push(current.trim().to_owned());
    }
    cells
}

fn alarm_and_trip(text: &str) -> (String, bool) {
    match text.strip_suffix("+trip") {
        Some(alarm) => (alarm.to_owned(), true),
        None => (text.to_owned(), false),
    }
}

fn outcome(text: &str) -> Result<(Outcome, bool), String> {
    let (alarm, trip) = alarm_and_trip(text);
    Ok((
        match alarm.as_str() {
            "none" => Outcome::None,
            "" => return Err("an empty outcome".to_owned()),
            name => Outcome::Alarm(name.to_owned()),
        },
        trip,
    ))
}

fn expectation(text: &str) -> Result<Option<(Expect, Option<f64>)>, String> {
    let (text, within) = match text.rsplit_once('@') {
        Some((text, seconds)) => (
            text,
            Some(
                seconds
                    .parse::<f64>()
                    .map_err(|_| format!("\"{seconds}\" after @ is not seconds"))?,
            ),
        ),
        None => (text, None),
    };
    Ok(expectation_of(text)?.map(|expect| (expect, within)))
}

fn expectation_of(text: &str) -> Result<Option<Expect>, String> {
    if text == "-" {
        return Ok(None);
    }
    if text == "refused" {
        return Ok(Some(Expect::Refused));
    }
    if let Some(rest) = text.strip_prefix("stopped:") {
        let (stopped, start) = rest
            .split_once("|start:")
            .ok_or_else(|| format!("\"{text}\": a stopped cell reads stopped:A|start:B"))?;
        let (while_stopped, trip_stopped) = outcome(stopped)?;
        let (start, trip_start) = alarm_and_trip(start);
        let at_start = match start.as_str() {
            "none" => AtStart::None,
            "refused" => AtStart::Refused,
            "" => return Err(format!("\"{text}\": nothing after start:")),
            name => AtStart::Alarm(name.to_owned()),
        };
        return Ok(Some(Expect::Stopped {
            while_stopped,
            trip_stopped,
            at_start,
            trip_start,
        }));
    }
    let (alarm, trip) = alarm_and_trip(text);
    if alarm.is_empty() || alarm.contains(':') || alarm.contains(' ') {
        return Err(format!("\"{text}\" is not an alarm condition"));
    }
    Ok(Some(Expect::Flowing {
        alarm: (alarm != "none").then_some(alarm),
        trip,
    }))
}

fn commands(text: &str) -> Vec<String> {
    if text == "-" {
        return Vec::new();
    }
    text.split(';')
        .map(|command| command.trim().to_owned())
        .filter(|command| !command.is_empty())
        .collect()
}

/// Reads the matrix from the system test specification.
pub fn parse(markdown: &str) -> Result<Vec<Row>, String> {
    let start = markdown
        .find("<!-- matrix")
        .ok_or("no <!-- matrix --> marker")?;
    let mut lines = markdown[start..]
        .lines()
        .skip_while(|line| !line.starts_with("| Row"));
    let header = split_cells(lines.next().ok_or("no table after the marker")?);
    let column = |name: &str| {
        header
            .iter()
            .position(|cell| cell == name)
            .ok_or(format!("no column {name}"))
    };
    let states = [
        (State::Primary, column("Primary")?),
        (State::Secondary, column("Secondary")?),
        (State::Bolus, column("Bolus")?),
        (State::KeepVeinOpen, column("KVO")?),
        (State::Paused, column("Paused")?),
        (State::Ready, column("Ready")?),
    ];
    let (id, platform, fault, inject, clear, stops) = (
        column("Row")?,
        column("Platform")?,
        column("Fault")?,
        column("Inject")?,
        column("Clear")?,
        column("Stops within (s)")?,
    );
    let mut rows = Vec::new();
    for line in lines.skip(1).take_while(|line| line.starts_with('|')) {
        let cells = split_cells(line);
        if cells.len() != header.len() {
            return Err(format!(
                "row \"{line}\" has {} cells, the header {}",
                cells.len(),
                header.len()
            ));
        }
        let platform = match cells[platform].as_str() {
            "syringe" => Platform::Syringe,
            "volumetric" => Platform::Volumetric,
            other => return Err(format!("unknown platform {other}")),
        };
        let mut row = Row {
            id: cells[id].clone(),
            platform,
            fault: cells[fault].clone(),
            inject: commands(&cells[inject]),
            clear: commands(&cells[clear]),
            stops_within_s: if cells[stops] == "-" {
                0.0
            } else {
                cells[stops]
                    .parse()
                    .map_err(|_| format!("{}: stops within \"{}\"", cells[id], cells[stops]))?
            },
            settle: cells[fault].contains("(settle)"),
            cells: Vec::new(),
        };
        for (state, index) in states {
            if let Some((expect, within)) =
                expectation(&cells[index]).map_err(|error| format!("{}: {error}", row.id))?
            {
                row.cells.push((state, expect, within));
            }
        }
        rows.push(row);
    }
    if rows.is_empty() {
        return Err("the matrix has no rows".to_owned());
    }
    Ok(rows)
}

pub fn spec() -> Vec<Row> {
    let text = std::fs::read_to_string(root().join("docs/system-fault-matrix.md")).unwrap();
    parse(&text).unwrap_or_else(|error| panic!("docs/system-fault-matrix.md: {error}"))
}

pub fn cells(rows: &[Row]) -> Vec<Cell> {
    rows.iter()
        .flat_map(|row| {
            row.cells.iter().map(|(state, expect, within)| Cell {
                row: row.clone(),
                state: *state,
                expect: expect.clone(),
                stops_within_s: within.unwrap_or(row.stops_within_s),
            })
        })
        .collect()
}

/// A line the app printed, with when it was read.
#[derive(Debug, Clone)]
struct Line {
    at: Instant,
    text: String,
}

/// The headless app as a process, its output read line by line.
struct App {
    child: Child,
    stdin: ChildStdin,
    lines: Arc<Mutex<Vec<Line>>>,
}

impl App {
    fn start(dir: &Path, platform: Platform, busy_ui: bool) -> Result<App, String> {
        let mut command = Command::new(crate::bins::binary("perfuse-headless"));
        command
            .arg("--sim-dir")
            .arg(dir)
            .arg("--store")
            .arg(dir.join("events.db"))
            .arg("--profile")
            .arg(platform.profile())
            .arg("--keys")
            .arg(root().join("assets/config/trusted-keys.toml"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        if busy_ui {
            command.arg("--busy-ui");
        }
        // Several pumps share this machine: spread their control threads
        // over its CPUs (a real board has one pump).
        static NEXT_CPU: AtomicUsize = AtomicUsize::new(0);
        let cpus = std::thread::available_parallelism().map_or(1, |count| count.get());
        command
            .arg("--control-cpu")
            .arg((NEXT_CPU.fetch_add(1, Ordering::Relaxed) % cpus).to_string());
        let mut child = command.spawn().map_err(|error| error.to_string())?;
        let stdin = child.stdin.take().ok_or("no stdin")?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        std::thread::spawn(move || {
            for text in BufReader::new(stdout).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(Line {
                    at: Instant::now(),
                    text,
                });
            }
        });
        let app = App {
            child,
            stdin,
            lines,
        };
        app.wait_line(0, Duration::from_secs(15), |line| line == "ready")
            .ok_or_else(|| format!("the app never became ready:\n{}", app.transcript()))?;
        Ok(app)
    }

    fn send(&mut self, line: &str) {
        let _ = writeln!(self.stdin, "{line}");
    }

    fn count(&self) -> usize {
        self.lines.lock().unwrap().len()
    }

    fn transcript(&self) -> String {
        // Status answers are many: the last one only.
        let lines = self.lines.lock().unwrap();
        let last_status = lines
            .iter()
            .rposition(|line| line.text.starts_with("status {"));
        let kept: Vec<&str> = lines
            .iter()
            .enumerate()
            .filter(|(index, line)| {
                !line.text.starts_with("status {") || Some(*index) == last_status
            })
            .map(|(_, line)| line.text.as_str())
            .collect();
        kept[kept.len().saturating_sub(40)..].join("\n")
    }

    /// The first line from index `from` on that `matches`, waiting up to `limit`.
    fn wait_line(
        &self,
        from: usize,
        limit: Duration,
        matches: impl Fn(&str) -> bool,
    ) -> Option<(usize, Line)> {
        let started = Instant::now();
        loop {
            {
                let lines = self.lines.lock().unwrap();
                if let Some((index, line)) = lines
                    .iter()
                    .enumerate()
                    .skip(from)
                    .find(|(_, line)| matches(&line.text))
                {
                    return Some((index, line.clone()));
                }
            }
            if started.elapsed() > limit {
                return None;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// The alarms raised (condition names) from line `from` on.
    fn raised_since(&self, from: usize) -> Vec<(String, Instant)> {
        self.lines.lock().unwrap()[from..]
            .iter()
            .filter_map(|line| {
                line.text
                    .strip_prefix("event Alarm(Raised(")
                    .and_then(|rest| rest.strip_suffix("))"))
                    .map(|name| (name.to_owned(), line.at))
            })
            .collect()
    }

    fn status(&mut self) -> Value {
        let from = self.count();
        self.send("status");
        let (_, line) = self
            .wait_line(from, Duration::from_secs(5), |line| {
                line.starts_with("status {")
            })
            .unwrap_or_else(|| panic!("the app did not answer status:\n{}", self.transcript()));
        serde_json::from_str(line.text.trim_start_matches("status ")).unwrap()
    }

    fn mode(&mut self) -> String {
        self.status()["mode"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Polls the status until `done`, up to `limit`.
    fn wait_status(
        &mut self,
        limit: Duration,
        done: impl Fn(&Value) -> bool,
    ) -> Result<Value, Value> {
        let started = Instant::now();
        loop {
            let status = self.status();
            if done(&status) {
                return Ok(status);
            }
            if started.elapsed() > limit {
                return Err(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for App {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One cell's stack: board, supervisor and app, in their own folder.
struct Stack {
    app: App,
    supervisor: SupervisorProcess,
    sim: SimProcess,
    dir: tempfile::TempDir,
}

impl Stack {
    fn start(platform: Platform, busy_ui: bool) -> Result<Stack, String> {
        // The board lives in memory, as the launcher puts it.
        let dir =
            tempfile::tempdir_in(SimPaths::scratch_parent()).map_err(|error| error.to_string())?;
        let sim = SimProcess::start(
            &crate::bins::binary("perfuse-sim"),
            SimPaths::in_dir(dir.path()),
            platform.sim_args(),
            true,
        )?;
        let supervisor = SupervisorProcess::start(
            &crate::bins::binary("perfuse-supervisor"),
            dir.path(),
            &platform.profile(),
            &root().join("assets/config/trusted-keys.toml"),
        )?;
        let app = App::start(dir.path(), platform, busy_ui)?;
        Ok(Stack {
            app,
            supervisor,
            sim,
            dir,
        })
    }

    /// The simulator's reply; a refusal is `{"ok":false,"error":...}`.
    fn ctl(&self, command: &str) -> Value {
        self.sim
            .send(command)
            .unwrap_or_else(|error| serde_json::json!({ "ok": false, "error": error }))
    }

    fn truth(&self) -> Value {
        self.ctl("truth")
    }

    fn supervisor_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("supervisor.log")).unwrap_or_default()
    }

    fn trips(&self) -> usize {
        self.supervisor_log().matches(" TRIP ").count()
    }

    /// Everything the mechanism put into the line, mL: what reached the
    /// patient (fluid and air) and what the line still holds above the
    /// venous pressure it drains into (its compliance times the pressure).
    fn truth_delivered(&self) -> f64 {
        let truth = self.truth();
        let line = perfuse_sim::LineModel::ADULT;
        let held = line.downstream_compliance_ml_per_mmhg
            * (truth["downstream_mmhg"].as_f64().unwrap() - line.venous_pressure_mmhg);
        truth["delivered_ml"].as_f64().unwrap() + truth["air_delivered_ml"].as_f64().unwrap() + held
    }

    fn context(&self) -> String {
        format!(
            "app:\n{}\nsupervisor log:\n{}\ntruth: {}",
            self.app.transcript(),
            self.supervisor_log(),
            self.truth()
        )
    }
}

/// The figures of one cell that passed.
#[derive(Debug, Clone, Default)]
pub struct Figures {
    /// From the injection to the expected alarm on the app's output, s.
    pub alarm_s: Option<f64>,
    /// From the injection to the rotor's last forward motion, board clock, s.
    pub flow_stop_s: Option<f64>,
    /// Reached the patient from the injection until a second after the alarm, mL.
    pub after_fault_ml: Option<f64>,
    /// Pump count against the ground truth over the cell, %.
    pub accuracy_percent: Option<f64>,
    pub trips: usize,
}

/// A cell's result.
#[derive(Debug, Clone)]
pub struct CellResult {
    pub cell: String,
    pub result: Result<Figures, String>,
    /// Every attempt failed while the host stole the CPU (ms in the last):
    /// the cell says nothing about the pump, and is reported, not failed.
    pub inconclusive_steal_ms: Option<u64>,
}

impl CellResult {
    pub fn failed(&self) -> bool {
        self.result.is_err() && self.inconclusive_steal_ms.is_none()
    }
}

/// Attempts of a cell that fails while the host steals the CPU.
pub const ATTEMPTS_UNDER_STEAL: usize = 3;

fn wait_mode(app: &mut App, modes: &[&str], limit: Duration) -> Result<Value, String> {
    app.wait_status(limit, |status| {
        modes.contains(&status["mode"].as_str().unwrap_or_default())
    })
    .map_err(|status| format!("waited for {modes:?}, got {status}"))
}

fn check(condition: bool, what: impl FnOnce() -> String) -> Result<(), String> {
    if condition {
        Ok(())
    } else {
        Err(what())
    }
}

const PRIMARY: &str = "load 300 40";

/// Sets up `state`; returns when it holds.
fn set_up(stack: &mut Stack, state: State) -> Result<(), String> {
    let app = &mut stack.app;
    let flowing = ["Delivering", "KeepVeinOpen"];
    match state {
        State::Ready => {
            app.send(PRIMARY);
            wait_mode(app, &["Ready"], Duration::from_secs(5))?;
        }
        State::Primary | State::Secondary | State::Bolus | State::Paused => {
            app.send(PRIMARY);
            app.send("start");
            wait_mode(app, &flowing, Duration::from_secs(5))?;
            match state {
                State::Secondary => {
                    app.send("secondary 400 10");
                    app.wait_status(Duration::from_secs(5), |status| {
                        status["rate_nl_h"] == 400_000_000
                    })
                    .map_err(|status| format!("no secondary: {status}"))?;
                }
                State::Bolus => {
                    app.send("bolus 10 60");
                    app.wait_status(Duration::from_secs(5), |status| {
                        status["rate_nl_h"] == 600_000_000
                    })
                    .map_err(|status| format!("no bolus: {status}"))?;
                }
                State::Paused => {
                    std::thread::sleep(Duration::from_secs(1));
                    app.send("pause");
                    wait_mode(app, &["Paused"], Duration::from_secs(5))?;
                }
                State::Primary | State::Ready | State::KeepVeinOpen => {}
            }
        }
        State::KeepVeinOpen => {
            app.send("load 300 1.5 kvo 20");
            app.send("start");
            wait_mode(app, &["KeepVeinOpen"], Duration::from_secs(40))?;
        }
    }
    Ok(())
}

/// Feeds bubbles of `microlitres`, `count` of them, each once the last has
/// passed the sensor and 0.2 s of fluid followed it, until `stop` says so.
struct Bubbles {
    microlitres: f64,
    left: u32,
    passed_at: Option<Instant>,
}

impl Bubbles {
    fn parse(command: &str) -> Option<Bubbles> {
        let mut words = command.split_whitespace();
        (words.next() == Some("bubbles")).then_some(())?;
        let microlitres = words.next()?.parse().ok()?;
        let left = words.next()?.parse().ok()?;
        Some(Bubbles {
            microlitres,
            left,
            passed_at: Some(Instant::now() - Duration::from_secs(1)),
        })
    }

    fn feed(&mut self, stack: &Stack) {
        if self.left == 0 {
            return;
        }
        let at_sensor = stack.truth()["air_at_sensor"].as_bool().unwrap_or(true);
        match (at_sensor, self.passed_at) {
            (true, _) => self.passed_at = None,
            (false, None) => self.passed_at = Some(Instant::now()),
            (false, Some(passed)) if passed.elapsed() >= Duration::from_millis(200) => {
                let reply = stack.ctl(&format!("air {}", self.microlitres));
                if reply["ok"] == true {
                    self.left -= 1;
                    self.passed_at = None;
                }
            }
            (false, Some(_)) => {}
        }
    }
}

/// Waits for the first alarm raised from line `from` on, feeding bubbles.
fn wait_alarm(
    stack: &Stack,
    from: usize,
    limit: Duration,
    bubbles: &mut Option<Bubbles>,
) -> Option<(String, Instant)> {
    let started = Instant::now();
    loop {
        if let Some(first) = stack.app.raised_since(from).into_iter().next() {
            return Some(first);
        }
        if started.elapsed() > limit {
            return None;
        }
        if let Some(bubbles) = bubbles {
            bubbles.feed(stack);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn board_us(truth: &Value, field: &str) -> u64 {
    truth[field].as_u64().unwrap_or(0)
}

/// Runs one cell; `busy_ui` gives each app a busy UI thread.
pub fn run_cell(cell: &Cell, busy_ui: bool) -> Result<Figures, String> {
    let mut stack = Stack::start(cell.row.platform, busy_ui)?;
    let result = run_on(&mut stack, cell);
    result.map_err(|error| format!("{error}\n{}", stack.context()))
}

fn run_on(stack: &mut Stack, cell: &Cell) -> Result<Figures, String> {
    let mut figures = Figures::default();
    // Prime: takes up the syringe's backlash, then the line drains.
    stack.app.send("load 999 0.1");
    stack.app.send("start");
    wait_mode(&mut stack.app, &["Completed"], Duration::from_secs(10))?;
    std::thread::sleep(Duration::from_secs(4));
    let base_pump = stack.app.status()["total_delivered_nl"]
        .as_u64()
        .unwrap_or(0);
    let base_truth = stack.truth_delivered();

    if cell.expect == Expect::Refused {
        let before = stack.truth()["faults"].clone();
        for command in &cell.row.inject {
            let reply = stack.ctl(command);
            check(reply["ok"] == false, || {
                format!("ctl {command} was accepted: {reply}")
            })?;
            let error = reply["error"].as_str().unwrap_or_default();
            check(error.len() > 20, || {
                format!("ctl {command} refused without a reason: {reply}")
            })?;
        }
        let after = stack.truth()["faults"].clone();
        check(before == after, || {
            format!("a refused command changed the faults: {before} -> {after}")
        })?;
        return Ok(figures);
    }

    set_up(stack, cell.state)?;
    let stopped_state = matches!(cell.state, State::Paused | State::Ready);
    let needs_settle = cell.row.settle && !stopped_state;
    std::thread::sleep(Duration::from_secs(if needs_settle { 11 } else { 1 }));
    let trips_before = stack.trips();
    let from = stack.app.count();
    let truth_at_injection = stack.truth();
    let injected_at_board = board_us(&truth_at_injection, "board_clock_us");
    let delivered_at_injection = stack.truth_delivered();
    let injected = Instant::now();
    let mut bubbles = None;
    for command in &cell.row.inject {
        match Bubbles::parse(command) {
            Some(feeder) => bubbles = Some(feeder),
            None => {
                let reply = stack.ctl(command);
                check(reply["ok"] == true, || format!("ctl {command}: {reply}"))?;
            }
        }
    }
    let hangs_control = cell
        .row
        .inject
        .iter()
        .any(|command| command.contains("stepper-hang"));
    let mut cleared = false;
    let limit = Duration::from_secs_f64(cell.stops_within_s + 10.0);
    match &cell.expect {
        Expect::Refused => {}
        Expect::Flowing { alarm: None, trip } => {
            // Nothing is due: flow goes on, no alarm, for the row's time.
            let watch = Duration::from_secs_f64(cell.stops_within_s);
            std::thread::sleep(watch);
            let raised = stack.app.raised_since(from);
            check(raised.is_empty(), || {
                format!("alarms {raised:?}; none expected")
            })?;
            let truth = stack.truth();
            let since_forward = board_us(&truth, "board_clock_us")
                .saturating_sub(board_us(&truth, "rotor_forward_at_us"));
            check(since_forward < 100_000, || {
                format!("flow stopped {since_forward} us ago with no alarm: {truth}")
            })?;
            check_trips(stack, trips_before, *trip)?;
        }
        Expect::Flowing {
            alarm: Some(alarm),
            trip,
        } => {
            if hangs_control {
                // The control thread is stuck in the transfer: the
                // supervisor must cut the motor; the app alarms once the
                // bus answers again.
                let deadline = Instant::now() + Duration::from_secs(3);
                while stack.trips() == trips_before && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(10));
                }
                check(stack.trips() > trips_before, || {
                    "the supervisor never tripped on the hung control thread".to_owned()
                })?;
                std::thread::sleep(Duration::from_millis(500));
                for command in &cell.row.clear {
                    stack.ctl(command);
                }
                cleared = true;
            }
            let Some((first, at)) = wait_alarm(stack, from, limit, &mut bubbles) else {
                return Err(format!("no alarm within {limit:?}; expected {alarm}"));
            };
            check(&first == alarm, || {
                format!("the first alarm was {first}, expected {alarm}")
            })?;
            figures.alarm_s = Some(at.duration_since(injected).as_secs_f64());
            std::thread::sleep(Duration::from_secs(1));
            let truth = stack.truth();
            let forward_at = board_us(&truth, "rotor_forward_at_us");
            let flow_stop = forward_at.saturating_sub(injected_at_board) as f64 / 1e6;
            figures.flow_stop_s = Some(flow_stop);
            figures.after_fault_ml = Some(stack.truth_delivered() - delivered_at_injection);
            check(flow_stop <= cell.stops_within_s, || {
                format!(
                    "flow stopped {flow_stop:.3} s after the injection, documented within {} s",
                    cell.stops_within_s
                )
            })?;
            check_trips(stack, trips_before, *trip)?;
            let status = stack.app.status();
            let mode = status["mode"].as_str().unwrap_or_default().to_owned();
            check(
                mode != "Idle" && mode != "Delivering" && mode != "KeepVeinOpen",
                || format!("after the alarm the pump is {mode}: {status}"),
            )?;
            check(
                cell.state == State::KeepVeinOpen
                    || status["remaining_nl"].as_u64().unwrap_or(0) > 0,
                || format!("the program was not kept: {status}"),
            )?;
        }
        Expect::Stopped {
            while_stopped,
            trip_stopped,
            at_start,
            trip_start,
        } => {
            std::thread::sleep(Duration::from_secs(3));
            let raised = stack.app.raised_since(from);
            match while_stopped {
                Outcome::None => check(raised.is_empty(), || {
                    format!("while stopped, alarms {raised:?} were raised; none expected")
                })?,
                Outcome::Alarm(alarm) => check(
                    raised.first().is_some_and(|(first, _)| first == alarm),
                    || format!("while stopped, alarms {raised:?}; expected {alarm} first"),
                )?,
            }
            if let Some((_, at)) = raised.first() {
                figures.alarm_s = Some(at.duration_since(injected).as_secs_f64());
            }
            check_trips(stack, trips_before, *trip_stopped)?;
            if hangs_control {
                for command in &cell.row.clear {
                    stack.ctl(command);
                }
                cleared = true;
                std::thread::sleep(Duration::from_millis(500));
            }
            let trips_at_start = stack.trips();
            let from_start = stack.app.count();
            let forward_before = board_us(&stack.truth(), "rotor_forward_at_us");
            stack.app.send(if cell.state == State::Paused {
                "resume"
            } else {
                "start"
            });
            match at_start {
                AtStart::None => {
                    wait_mode(&mut stack.app, &["Delivering"], Duration::from_secs(5))?;
                    std::thread::sleep(Duration::from_secs(1));
                    let raised = stack.app.raised_since(from_start);
                    check(raised.is_empty(), || {
                        format!("at the start, alarms {raised:?}")
                    })?;
                }
                AtStart::Refused => {
                    stack
                        .app
                        .wait_line(from_start, Duration::from_secs(3), |line| {
                            line.starts_with("event Refused(")
                        })
                        .ok_or("the start over a raised alarm was not refused")?;
                    std::thread::sleep(Duration::from_secs(1));
                    let forward_after = board_us(&stack.truth(), "rotor_forward_at_us");
                    check(forward_after == forward_before, || {
                        "the rotor moved forward after a refused start".to_owned()
                    })?;
                }
                AtStart::Alarm(alarm) => {
                    let limit = Duration::from_secs_f64(cell.stops_within_s + 22.0);
                    let Some((first, _)) = wait_alarm(stack, from_start, limit, &mut bubbles)
                    else {
                        return Err(format!(
                            "no alarm within {limit:?} of the start; expected {alarm}"
                        ));
                    };
                    check(&first == alarm, || {
                        format!("the first alarm after the start was {first}, expected {alarm}")
                    })?;
                    std::thread::sleep(Duration::from_secs(1));
                }
            }
            check_trips(stack, trips_at_start, *trip_start)?;
        }
    }
    check_enable(stack, cell)?;
    figures.trips = stack.trips() - trips_before;

    // Recovery: clear, acknowledge, resume.
    if !cleared {
        for command in &cell.row.clear {
            let reply = stack.ctl(command);
            check(reply["ok"] == true, || format!("ctl {command}: {reply}"))?;
        }
    }
    std::thread::sleep(Duration::from_secs(2));
    let waiting = Instant::now();
    let mode = loop {
        stack.app.send("ack");
        let status = stack.app.status();
        let mode = status["mode"].as_str().unwrap_or_default().to_owned();
        if ["Paused", "Ready", "Delivering", "KeepVeinOpen"].contains(&mode.as_str()) {
            break mode;
        }
        check(waiting.elapsed() < Duration::from_secs(15), || {
            format!("after clearing and acknowledging, the pump stayed {mode}: {status}")
        })?;
        std::thread::sleep(Duration::from_millis(500));
    };
    match mode.as_str() {
        "Paused" => stack.app.send("resume"),
        "Ready" => stack.app.send("start"),
        _ => {}
    }
    wait_mode(
        &mut stack.app,
        &["Delivering", "KeepVeinOpen"],
        Duration::from_secs(5),
    )
    .map_err(|error| format!("delivery did not restart: {error}"))?;
    // Long enough for the volumetric mechanism's ripple within a turn to
    // fall well inside 0.5 % of what was counted.
    std::thread::sleep(Duration::from_secs(match cell.row.platform {
        Platform::Syringe => 3,
        Platform::Volumetric => 10,
    }));
    let truth = stack.truth();
    check(truth["motor_enabled"] == true, || {
        format!("delivering again, but the driver is disabled: {truth}")
    })?;
    stack.app.send("pause");
    wait_mode(&mut stack.app, &["Paused"], Duration::from_secs(5))?;
    std::thread::sleep(Duration::from_secs(3));
    let pump = (stack.app.status()["total_delivered_nl"]
        .as_u64()
        .unwrap_or(0)
        - base_pump) as f64
        / 1e6;
    let truth = stack.truth_delivered() - base_truth;
    let error = (pump - truth) / truth * 100.0;
    figures.accuracy_percent = Some(error);
    let reloads = cell.row.platform == Platform::Syringe
        && cell
            .row
            .inject
            .iter()
            .chain(&cell.row.clear)
            .any(|command| command.starts_with("reservoir"));
    if !reloads {
        check(error.abs() <= 0.5, || {
            format!("the pump counts {pump:.4} mL, the board {truth:.4} mL: {error:.2} %")
        })?;
    }
    Ok(figures)
}

fn check_trips(stack: &Stack, before: usize, expected: bool) -> Result<(), String> {
    let trips = stack.trips() - before;
    if expected {
        check(trips >= 1, || {
            "the supervisor was expected to trip, and did not".to_owned()
        })
    } else {
        check(trips == 0, || {
            format!("{trips} supervisor trip(s); none expected")
        })
    }
}

fn check_enable(stack: &Stack, cell: &Cell) -> Result<(), String> {
    let truth = stack.truth();
    let stepped = truth["steps_while_disabled"].as_u64().unwrap_or(u64::MAX);
    let trip = match &cell.expect {
        Expect::Flowing { trip, .. } => *trip,
        Expect::Stopped {
            trip_stopped,
            trip_start,
            ..
        } => *trip_stopped || *trip_start,
        Expect::Refused => false,
    };
    let allowed = if trip { 64 } else { 0 };
    check(stepped <= allowed, || {
        format!("{stepped} steps while the driver was disabled (at most {allowed})")
    })
}

pub use crate::host::steal_ms;

/// Watches whether this machine itself stops: one thread per CPU, pinned,
/// at SCHED_FIFO 95 (above every Perfuse thread) where permitted, sleeps
/// 5 ms at a time and records each wake-up more than 30 ms late. Such a
/// freeze stops every thread on that CPU, Perfuse's real-time ones too (a
/// host not running the vCPU, which steal accounting does not always show),
/// and looks to the supervisor exactly like a stalled app.
pub struct FreezeMonitor {
    freezes: Mutex<Vec<(u64, u64)>>,
}

/// A wake-up this late (us) is a freeze of the machine.
const FREEZE_US: u64 = 30_000;

pub fn monotonic_us() -> u64 {
    let time = nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC).unwrap();
    time.tv_sec() as u64 * 1_000_000 + time.tv_nsec() as u64 / 1000
}

impl FreezeMonitor {
    /// The monitor of this process, started on first use.
    pub fn get() -> &'static FreezeMonitor {
        static MONITOR: std::sync::OnceLock<&'static FreezeMonitor> = std::sync::OnceLock::new();
        MONITOR.get_or_init(|| {
            let monitor: &'static FreezeMonitor = Box::leak(Box::new(FreezeMonitor {
                freezes: Mutex::new(Vec::new()),
            }));
            let cpus = std::thread::available_parallelism().map_or(1, |count| count.get());
            for cpu in 0..cpus {
                std::thread::spawn(move || {
                    let mut set = nix::sched::CpuSet::new();
                    let _ = set.set(cpu);
                    let _ = nix::sched::sched_setaffinity(nix::unistd::Pid::from_raw(0), &set);
                    let _ = thread_priority::unix::set_thread_priority_and_policy(
                        thread_priority::unix::thread_native_id(),
                        thread_priority::ThreadPriority::Crossplatform(
                            thread_priority::ThreadPriorityValue::try_from(95_u8).unwrap(),
                        ),
                        thread_priority::unix::ThreadSchedulePolicy::Realtime(
                            thread_priority::unix::RealtimeThreadSchedulePolicy::Fifo,
                        ),
                    );
                    loop {
                        let before = monotonic_us();
                        std::thread::sleep(Duration::from_millis(5));
                        let late = monotonic_us().saturating_sub(before).saturating_sub(5_000);
                        if late > FREEZE_US {
                            monitor.freezes.lock().unwrap().push((before, late));
                        }
                    }
                });
            }
            monitor
        })
    }

    /// The longest freeze that began between `from_us` and `to_us`, us.
    pub fn longest_between(&self, from_us: u64, to_us: u64) -> u64 {
        self.freezes
            .lock()
            .unwrap()
            .iter()
            .filter(|(at, _)| (from_us..=to_us).contains(at))
            .map(|(_, late)| *late)
            .max()
            .unwrap_or(0)
    }
}

/// Steal during a cell from which its failure is not taken as the pump's:
/// the cell runs again, once, and must pass then.
pub const STEAL_RETRY_MS: u64 = 50;

/// Runs `cells` on `jobs` workers; returns every result, in cell order. A
/// cell that failed while the hypervisor stole 50 ms or more of the CPUs
/// runs again once (and says so); it must pass the second time.
pub fn run_all(cells: &[Cell], jobs: usize, busy_ui: bool) -> Vec<CellResult> {
    FreezeMonitor::get();
    let next = AtomicUsize::new(0);
    let results = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..jobs.max(1) {
            scope.spawn(|| loop {
                let index = next.fetch_add(1, Ordering::AcqRel);
                let Some(cell) = cells.get(index) else {
                    break;
                };
                let started = Instant::now();
                let attempt = || {
                    let steal_before = steal_ms();
                    let from_us = monotonic_us();
                    let result = std::panic::catch_unwind(|| run_cell(cell, busy_ui))
                        .unwrap_or_else(|panic| {
                            Err(format!(
                                "the cell panicked: {}",
                                panic
                                    .downcast_ref::<String>()
                                    .cloned()
                                    .or_else(|| panic.downcast_ref::<&str>().map(|text| (*text).to_owned()))
                                    .unwrap_or_default()
                            ))
                        });
                    // The host's interference: CPU stolen, or the machine
                    // seen frozen (whichever is larger), ms.
                    let frozen = FreezeMonitor::get().longest_between(from_us, monotonic_us()) / 1000;
                    (result, steal_ms().saturating_sub(steal_before).max(frozen))
                };
                let mut tries = 1;
                let (mut result, mut stolen) = attempt();
                while result.is_err() && stolen >= STEAL_RETRY_MS && tries < ATTEMPTS_UNDER_STEAL {
                    eprintln!(
                        "matrix: {} failed while the host stole or froze {stolen} ms of CPU; running it again: {}",
                        cell.name(),
                        result.as_ref().err().and_then(|error| error.lines().next()).unwrap_or_default()
                    );
                    (result, stolen) = attempt();
                    tries += 1;
                }
                let inconclusive = (result.is_err() && stolen >= STEAL_RETRY_MS).then_some(stolen);
                match &result {
                    Ok(figures) => eprintln!(
                        "matrix: {} passed in {:.0} s: alarm {:?} s, flow stopped {:?} s, after the fault {:?} mL, pump vs board {:?} %, trips {}",
                        cell.name(),
                        started.elapsed().as_secs_f64(),
                        figures.alarm_s,
                        figures.flow_stop_s,
                        figures.after_fault_ml,
                        figures.accuracy_percent,
                        figures.trips
                    ),
                    Err(_) => eprintln!(
                        "matrix: {} FAILED in {:.0} s",
                        cell.name(),
                        started.elapsed().as_secs_f64()
                    ),
                }
                results.lock().unwrap().push((
                    index,
                    CellResult {
                        cell: cell.name(),
                        result,
                        inconclusive_steal_ms: inconclusive,
                    },
                ));
            });
        }
    });
    let mut results = results.into_inner().unwrap();
    results.sort_by_key(|(index, _)| *index);
    results.into_iter().map(|(_, outcome)| outcome).collect()
}

/// Parallel cells: `PERFUSE_MATRIX_JOBS`, else 6.
pub fn jobs() -> usize {
    std::env::var("PERFUSE_MATRIX_JOBS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(6)
}

/// Background load at normal priority: CPU, I/O and VM workers, for `seconds`.
pub struct Load {
    child: Child,
}

impl Load {
    pub fn start(seconds: u64) -> Result<Load, String> {
        let child = Command::new("stress-ng")
            .args([
                "--cpu",
                "2",
                "--io",
                "1",
                "--vm",
                "1",
                "--vm-bytes",
                "256M",
                "--timeout",
            ])
            .arg(format!("{seconds}s"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|error| {
                format!("cannot start stress-ng ({error}): apt-get install stress-ng")
            })?;
        Ok(Load { child })
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // stress-ng's workers are its children.
        let _ = Command::new("pkill").args(["-KILL", "stress-ng"]).status();
    }
}

/// What a long infusion saw.
#[derive(Debug, Clone, Default)]
pub struct LongRun {
    pub minutes: f64,
    pub rate_ml_h: u32,
    /// Supervisor trips (every one spurious: nothing was injected).
    pub trips: usize,
    pub heartbeats_sent: u64,
    /// Heartbeats the control thread could not deliver during the infusion.
    pub heartbeats_missed: u64,
    pub overruns: u64,
    pub max_lateness_us: u64,
    /// The supervisor's longest wait between two good heartbeats, us.
    pub longest_silence_us: u64,
    pub supervisor_late_periods: u64,
    pub accuracy_percent: f64,
    pub alarms: Vec<String>,
    /// CPU the host stole during the run, ms.
    pub steal_ms: u64,
    /// Times delivery stopped while the host was stealing the CPU (50 ms or
    /// more since the last look): the nurse's resume followed, as it would.
    pub steal_interruptions: usize,
}

fn counter(status: &Value, field: &str) -> u64 {
    status[field].as_u64().unwrap_or(0)
}

fn log_figure(line: &str, before: &str) -> u64 {
    line.split_once(before)
        .and_then(|(head, _)| head.split_whitespace().last())
        .and_then(|number| number.parse().ok())
        .unwrap_or(0)
}

/// A syringe infusion of `duration` on its own stack, nothing injected:
/// every trip, missed heartbeat and alarm is spurious.
pub fn long_infusion(duration: Duration, busy_ui: bool) -> Result<LongRun, String> {
    let mut stack = Stack::start(Platform::Syringe, busy_ui)?;
    let result = long_on(&mut stack, duration);
    let mut run = result.map_err(|error| format!("{error}\n{}", stack.context()))?;
    // The supervisor's own account, written when it stops.
    let Stack {
        app,
        supervisor,
        sim,
        dir,
    } = stack;
    drop(app);
    drop(supervisor);
    let log = std::fs::read_to_string(dir.path().join("supervisor.log")).unwrap_or_default();
    drop(sim);
    let stop = log
        .lines()
        .rfind(|line| line.contains("STOP supervisor stopped"))
        .ok_or_else(|| format!("the supervisor wrote no STOP line:\n{log}"))?;
    run.longest_silence_us = stop
        .split_once("longest silence ")
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .and_then(|number| number.parse().ok())
        .unwrap_or(0);
    run.supervisor_late_periods = log_figure(stop, " late,");
    run.trips = log.matches(" TRIP ").count();
    Ok(run)
}

fn long_on(stack: &mut Stack, duration: Duration) -> Result<LongRun, String> {
    let hours = duration.as_secs_f64() / 3600.0;
    // At most 45 mL of the 50 mL syringe.
    let rate = ((45.0 / hours).floor() as u32).clamp(1, 100);
    stack.app.send("load 999 0.1");
    stack.app.send("start");
    wait_mode(&mut stack.app, &["Completed"], Duration::from_secs(10))?;
    std::thread::sleep(Duration::from_secs(4));
    let base_pump = counter(&stack.app.status(), "total_delivered_nl");
    let base_truth = stack.truth_delivered();
    let from = stack.app.count();
    stack.app.send(&format!("load {rate} 48"));
    stack.app.send("start");
    let started_status = wait_mode(&mut stack.app, &["Delivering"], Duration::from_secs(5))?;
    let missed_before = counter(&started_status, "heartbeats_missed");
    let started = Instant::now();
    let steal_at_start = steal_ms();
    let mut steal_at_look = steal_at_start;
    let mut look_us = monotonic_us();
    FreezeMonitor::get();
    let mut interruptions = 0;
    while started.elapsed() < duration {
        std::thread::sleep(Duration::from_secs(5).min(duration.saturating_sub(started.elapsed())));
        let status = stack.app.status();
        let now_steal = steal_ms();
        let frozen = FreezeMonitor::get().longest_between(look_us, monotonic_us()) / 1000;
        let stolen = now_steal.saturating_sub(steal_at_look).max(frozen);
        steal_at_look = now_steal;
        look_us = monotonic_us().saturating_sub(1_000_000);
        if status["mode"] != "Delivering" && stolen >= STEAL_RETRY_MS {
            // The host took the CPU away: the supervisor did its job. The
            // nurse acknowledges and resumes; it is counted, not hidden.
            interruptions += 1;
            eprintln!(
                "long infusion: stopped while the host stole or froze {stolen} ms of CPU: {status}"
            );
            stack.app.send("ack");
            wait_mode(&mut stack.app, &["Paused"], Duration::from_secs(10))?;
            stack.app.send("resume");
            wait_mode(&mut stack.app, &["Delivering"], Duration::from_secs(5))?;
            continue;
        }
        check(status["mode"] == "Delivering", || {
            format!(
                "after {:.0} s the pump is not delivering (the host stole {stolen} ms meanwhile): {status}",
                started.elapsed().as_secs_f64()
            )
        })?;
    }
    let stolen_total = steal_ms().saturating_sub(steal_at_start);
    stack.app.send("pause");
    wait_mode(&mut stack.app, &["Paused"], Duration::from_secs(5))?;
    std::thread::sleep(Duration::from_secs(3));
    let status = stack.app.status();
    let pump = (counter(&status, "total_delivered_nl") - base_pump) as f64 / 1e6;
    let truth = stack.truth_delivered() - base_truth;
    let raised = stack.app.raised_since(from);
    Ok(LongRun {
        minutes: duration.as_secs_f64() / 60.0,
        rate_ml_h: rate,
        trips: 0,
        heartbeats_sent: counter(&status, "heartbeats_sent"),
        heartbeats_missed: counter(&status, "heartbeats_missed") - missed_before,
        overruns: counter(&status, "overruns"),
        max_lateness_us: counter(&status, "max_lateness_us"),
        longest_silence_us: 0,
        supervisor_late_periods: 0,
        accuracy_percent: (pump - truth) / truth * 100.0,
        steal_ms: stolen_total,
        steal_interruptions: interruptions,
        // Near the end of a long one is information, not a fault.
        alarms: raised
            .into_iter()
            .map(|(name, _)| name)
            .filter(|name| name != "NearEnd")
            .collect(),
    })
}

impl LongRun {
    /// Every figure that must be zero is, and the count matches the board.
    /// A trip is spurious unless the host was stealing the CPU when flow
    /// stopped; heartbeats the supervisor could not take in are excused only
    /// after a second or more of steal (its socket holds about 5 s of them).
    pub fn check(&self) -> Result<(), String> {
        let steal_trips = self
            .alarms
            .iter()
            .filter(|alarm| alarm.as_str() == "SupervisorTrip")
            .count();
        let other_alarms = self.alarms.len() - steal_trips;
        check(
            self.trips <= self.steal_interruptions
                && steal_trips <= self.steal_interruptions
                && other_alarms == 0
                && (self.heartbeats_missed == 0 || self.steal_ms >= 1000),
            || format!("spurious: {self:?}"),
        )?;
        check(self.accuracy_percent.abs() <= 0.5, || {
            format!(
                "the pump's count is off the board's by {:.2} %",
                self.accuracy_percent
            )
        })
    }
}

/// Percentile of `values` (nearest rank), or None when empty.
pub fn percentile(values: &[f64], fraction: f64) -> Option<f64> {
    let mut sorted: Vec<f64> = values
        .iter()
        .copied()
        .filter(|value| value.is_finite())
        .collect();
    if sorted.is_empty() {
        return None;
    }
    sorted.sort_by(f64::total_cmp);
    let rank = ((fraction * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    Some(sorted[rank - 1])
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find(|line| line.starts_with("model name"))
        .and_then(|line| line.split_once(':'))
        .map(|(_, name)| name.trim().to_owned())
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let cpus = std::thread::available_parallelism().map_or(1, |count| count.get());
    let build = if cfg!(debug_assertions) {
        "debug build"
    } else {
        "release build"
    };
    format!(
        "{cpus} x {cpu}, {build}, {} ms of CPU stolen by the host since boot",
        steal_ms()
    )
}

fn long_run_rows(label: &str, run: &LongRun) -> String {
    let per_hour = |count: f64| count / (run.minutes / 60.0);
    format!(
        "| {label} | {:.0} | {} | {} ({:.1} per hour; {} while the host stole the CPU, {} ms stolen in all) | {} | {} | {} | {:.1} | {} | {:.3} % |\n",
        run.minutes,
        run.rate_ml_h,
        run.trips,
        per_hour(run.trips as f64),
        run.steal_interruptions,
        run.steal_ms,
        run.heartbeats_sent,
        run.heartbeats_missed,
        run.overruns,
        run.longest_silence_us as f64 / 1000.0,
        run.max_lateness_us,
        run.accuracy_percent
    )
}

const LONG_RUN_HEADER: &str = "| Run | Minutes | Rate, mL/h | Supervisor trips | Heartbeats sent | Missed | Control overruns | Longest silence at the supervisor, ms | Worst control wake-up lateness, us | Pump vs board |\n|---|---|---|---|---|---|---|---|---|---|\n";

/// Writes the soak's figures (scripts/soak.sh).
pub fn write_soak_report(path: &Path, run: &LongRun) {
    let text = format!(
        "# Soak: a long infusion under load\n\n\
         `scripts/soak.sh` (default 120 minutes): one syringe infusion on its own stack \
         (simulator, supervisor, headless app with a busy UI thread drawing the touchscreen \
         offscreen), nothing injected, beside `stress-ng --cpu 2 --io 1 --vm 1 --vm-bytes 256M` \
         at normal priority and the fault matrix under load (unless PERFUSE_MATRIX_SKIP is set). \
         Every trip, missed heartbeat or alarm would be spurious.\n\n\
         Machine: {}. Recorded {}.\n\n{LONG_RUN_HEADER}{}",
        machine(),
        chrono_free_now(),
        long_run_rows("under load", run)
    );
    std::fs::write(path, text).unwrap();
}

/// UTC now as `YYYY-MM-DD HH:MM` (from the date command; no clock crate).
pub fn chrono_free_now() -> String {
    Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .ok()
        .and_then(|output| String::from_utf8(output.stdout).ok())
        .map(|text| text.trim().to_owned())
        .unwrap_or_default()
}

/// The benchmark's report: per fault, from the real stack, idle and under
/// load, and the long infusions' spurious trips per hour.
pub fn write_bench_report(
    path: &Path,
    idle: &[(Cell, CellResult)],
    loaded: &[(Cell, CellResult)],
    long_idle: &LongRun,
    long_loaded: &LongRun,
) {
    let mut text = format!(
        "# Fault matrix on the real stack\n\n\
         `scripts/fault-matrix-bench.sh` (`cargo bench --bench fault_matrix`): every cell of \
         docs/system-fault-matrix.md on its own simulator, supervisor and headless app, idle and \
         under load (stress-ng CPU, I/O and VM workers at normal priority, a busy UI thread in each \
         app). Per fault, over the flowing states where it applies: the time from the injection \
         to the right alarm on the app's output, the time until the rotor last moved forward (the \
         board's clock), and the volume that reached the patient from the injection to a second \
         after the alarm (p50 and max). Then a long infusion with nothing injected, idle and under \
         load: supervisor trips per hour.\n\n\
         Machine: {}. Recorded {}.\n\n",
        machine(),
        chrono_free_now()
    );
    for (label, results) in [("Idle", idle), ("Under load", loaded)] {
        let passed = results
            .iter()
            .filter(|(_, result)| result.result.is_ok())
            .count();
        text.push_str(&format!(
            "## {label}: {} cells, {passed} passed\n\n\
             | Fault | Cells | Alarm after injection p50 / max, s | Flow stopped p50 / max, s | After the fault p50 / max, mL |\n|---|---|---|---|---|\n",
            results.len()
        ));
        let mut rows: Vec<String> = results
            .iter()
            .map(|(cell, _)| cell.row.id.clone())
            .collect();
        rows.dedup();
        for row in rows {
            let figures: Vec<&Figures> = results
                .iter()
                .filter(|(cell, _)| cell.row.id == row)
                .filter_map(|(_, result)| result.result.as_ref().ok())
                .collect();
            let column = |pick: fn(&Figures) -> Option<f64>, digits: usize| {
                let values: Vec<f64> = figures.iter().filter_map(|figures| pick(figures)).collect();
                match (percentile(&values, 0.5), percentile(&values, 1.0)) {
                    (Some(p50), Some(max)) => format!("{p50:.digits$} / {max:.digits$}"),
                    _ => "-".to_owned(),
                }
            };
            text.push_str(&format!(
                "| {row} | {} | {} | {} | {} |\n",
                figures.len(),
                column(|figures| figures.alarm_s, 2),
                column(|figures| figures.flow_stop_s, 2),
                column(|figures| figures.after_fault_ml, 3),
            ));
        }
        for (cell, result) in results {
            if let Err(error) = &result.result {
                let first = error.lines().next().unwrap_or_default();
                let verdict = match result.inconclusive_steal_ms {
                    Some(stolen) => format!("Inconclusive (the host stole {stolen} ms of CPU)"),
                    None => "Failed".to_owned(),
                };
                text.push_str(&format!("\n{verdict}: {}: {first}\n", cell.name()));
            }
        }
        text.push('\n');
    }
    text.push_str("## Long infusions, nothing injected\n\n");
    text.push_str(LONG_RUN_HEADER);
    text.push_str(&long_run_rows("idle", long_idle));
    text.push_str(&long_run_rows("under load", long_loaded));
    std::fs::write(path, text).unwrap();
}
