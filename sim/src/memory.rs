//! The virtual board: one fixed-size block of atomics shared by the
//! simulator, the app and the supervisor (a file in /dev/shm mapped by each),
//! or held in memory for single-process tests.
//!
//! Every field is an atomic, so processes read and write it concurrently
//! without locks; an all-zero block is a valid (powered-off) board. The block
//! starts with a magic number and a layout version, checked on open.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::sync::atomic::{
    AtomicBool, AtomicI64, AtomicU16, AtomicU32, AtomicU64, AtomicU8, Ordering,
};
use std::sync::Arc;

/// "PERFUSE1" in ASCII.
pub const MAGIC: u64 = 0x5045_5246_5553_4531;
/// Bumped whenever the layout below changes.
pub const LAYOUT_VERSION: u32 = 6;

/// Number of GPIO lines the board has (the Pi header's BCM 0..27, and room).
pub const GPIO_LINES: u8 = 64;

/// What each signal is wired to, so chip emulation can follow the pins.
#[repr(C)]
#[derive(Debug, Default)]
pub struct Wiring {
    pub step: AtomicU8,
    pub direction: AtomicU8,
    /// The stepper driver's DRV_ENN input: high (the pull-up) disables it.
    pub motor_enable: AtomicU8,
    pub air_sensor: AtomicU8,
    pub door: AtomicU8,
    pub container: AtomicU8,
    pub buzzer: AtomicU8,
    pub light_red: AtomicU8,
    pub light_yellow: AtomicU8,
    pub buzzer_attenuate_a: AtomicU8,
    pub buzzer_attenuate_b: AtomicU8,
    /// The PCA patient demand button: high while pressed.
    pub demand: AtomicU8,
    /// The fail-safe sounder's hold (toggled by the supervisor).
    pub buzzer_hold: AtomicU8,
}

/// The fail-safe sounder's retriggerable monostable: it holds the
/// sounder off for this long after each edge of the hold line.
pub const FAILSAFE_HOLD_US: u64 = 50_000;
/// The fail-safe sounder's gate: 250 ms on, 250 ms off (2 Hz), its tone
/// the buzzer's own, at the loudest (it bypasses the attenuators).
pub const FAILSAFE_GATE_MS: u64 = 500;

/// Injected chip-level faults (bit flags in `BoardMemory::chip_faults`).
pub mod chip_fault {
    /// The TMC5160 reports over-temperature shutdown.
    pub const OVERTEMPERATURE: u32 = 1 << 0;
    /// The TMC5160 reports a short to ground on coil A.
    pub const SHORT_TO_GROUND: u32 = 1 << 1;
    /// The TMC5160 reports open load on coil A.
    pub const OPEN_LOAD: u32 = 1 << 2;
    /// The stepper driver does not answer on SPI (reads all ones).
    pub const STEPPER_SILENT: u32 = 1 << 3;
    /// The ADC does not answer on SPI (reads all ones).
    pub const ADC_SILENT: u32 = 1 << 4;
    /// The encoder counter does not answer on SPI.
    pub const ENCODER_SILENT: u32 = 1 << 5;
    /// A transfer to the stepper driver never completes (a wedged bus or
    /// kernel driver): whoever uses that bus, the control thread alone,
    /// blocks until the fault is cleared.
    pub const STEPPER_BUS_HANG: u32 = 1 << 6;
}

/// The TMC5160's 128 register addresses.
#[repr(C)]
#[derive(Debug)]
pub struct RegisterFile(pub [AtomicU32; 128]);

impl Default for RegisterFile {
    fn default() -> Self {
        Self(std::array::from_fn(|_| AtomicU32::new(0)))
    }
}

impl RegisterFile {
    pub fn get(&self, address: u8) -> u32 {
        self.0
            .get(usize::from(address & 0x7F))
            .map_or(0, |register| register.load(Ordering::Acquire))
    }

    pub fn set(&self, address: u8, value: u32) {
        if let Some(register) = self.0.get(usize::from(address & 0x7F)) {
            register.store(value, Ordering::Release);
        }
    }
}

/// The shared block.
#[repr(C)]
#[derive(Debug, Default)]
pub struct BoardMemory {
    pub magic: AtomicU64,
    pub layout_version: AtomicU32,
    /// Board resets so far (watchdog expiry or a `reset` command).
    pub resets: AtomicU32,
    pub wiring: Wiring,
    /// Bit n is the level of GPIO line n.
    pub gpio_levels: AtomicU64,

    /// TMC5160 register file, indexed by address.
    pub stepper_registers: RegisterFile,
    /// Board clock of the last STEP edge the driver acted on, ms.
    pub stepper_last_step_ms: AtomicU64,
    /// Address of the last read request (the chip answers it on the next datagram).
    pub stepper_pending_read: AtomicU8,
    /// GSTAT flags the chip has latched (reset, drv_err, uv_cp).
    pub stepper_gstat: AtomicU32,
    /// Net microsteps seen on STEP while the driver was powered and enabled.
    pub rotor_commanded: AtomicI64,
    /// Net microsteps the rotor really turned (blocked steps are lost).
    pub rotor_actual: AtomicI64,
    /// Set by the physics: the rotor cannot turn forward (end of syringe, stall).
    pub rotor_blocked: AtomicBool,
    /// STEP edges ignored because the driver was disabled.
    pub steps_while_disabled: AtomicU64,
    pub chip_faults: AtomicU32,

    /// Encoder counts as the physics computes them from the rotor.
    pub encoder_counts: AtomicI64,
    /// Count at the last CLR CNTR, subtracted from readings.
    pub encoder_zero: AtomicI64,
    pub encoder_mdr0: AtomicU8,
    pub encoder_mdr1: AtomicU8,

    /// The eight ADC inputs, in counts, as the physics sets them.
    pub adc_counts: [AtomicU16; 8],

    /// Watchdog timeout, ms; 0 while nobody has opened it.
    pub watchdog_timeout_ms: AtomicU32,
    /// Last keep-alive, ms on the board clock.
    pub watchdog_fed_at_ms: AtomicU64,
    pub watchdog_expiries: AtomicU32,

    /// Processes to reset with the board, registered when they open it.
    pub app_pid: AtomicU32,
    pub supervisor_pid: AtomicU32,

    /// Ground truth, written by the physics (see `physics::Truth`).
    pub truth_time_us: AtomicU64,
    pub truth_delivered_nl: AtomicI64,
    pub truth_air_nl: AtomicI64,
    pub truth_downstream_mmhg_milli: AtomicI64,
    pub truth_upstream_mmhg_milli: AtomicI64,
    pub truth_reservoir_nl: AtomicI64,
    pub truth_plunger_um: AtomicI64,
    /// Board clock of the simulator's last physics step, ms.
    pub simulator_alive_at_ms: AtomicU64,
    /// When DRV_ENN last went from low (enabled) to high (disabled), us on
    /// the board clock: the instant the motor lost its drive, whoever did it.
    pub motor_disabled_at_us: AtomicU64,
    /// When the rotor last really turned forward (a STEP edge that pushed
    /// fluid), us on the board clock: how fast flow stopped is measured
    /// from this (a back-off after an occlusion turns it backwards).
    pub rotor_forward_at_us: AtomicU64,
    /// STEP edges while DRV_ENN was low but the power stage had shut itself
    /// down on a fault (counted apart from `steps_while_disabled`, which is
    /// only DRV_ENN high: the supervisor's cut).
    pub steps_while_shut_down: AtomicU64,

    /// The buzzer's PWM registers (BCM2711 PWM0 on the Pi): period and
    /// high time, ns, and whether the channel runs.
    pub buzzer_pwm_period_ns: AtomicU32,
    pub buzzer_pwm_duty_ns: AtomicU32,
    pub buzzer_pwm_enabled: AtomicBool,
    /// The last edge on the fail-safe sounder's hold line, us on the board
    /// clock (0: none since power-on).
    pub buzzer_hold_edge_at_us: AtomicU64,
    /// Whether the buzzer reaches the sound card (`sound::SoundState`).
    pub sound_state: AtomicU8,
}

/// What the buzzer puts out at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BuzzerOutput {
    /// The tone sounding now, if any (the PWM's, or the fail-safe sounder's).
    pub tone: Option<perfuse_drivers::tone::Tone>,
    /// The level it sounds at: the attenuators' for the PWM, the loudest
    /// for the fail-safe sounder.
    pub volume: perfuse_drivers::annunciator::AlarmVolume,
    /// The fail-safe sounder runs (its hold line has been still).
    pub failsafe: bool,
}

impl BoardMemory {
    /// Level of a GPIO line.
    pub fn level(&self, line: u8) -> bool {
        line < GPIO_LINES && self.gpio_levels.load(Ordering::Acquire) & (1 << line) != 0
    }

    /// Sets a GPIO line; returns its previous level.
    pub fn set_level(&self, line: u8, high: bool) -> bool {
        if line >= GPIO_LINES {
            return false;
        }
        let mask = 1_u64 << line;
        // Stamped before the level changes, so whoever sees DRV_ENN high also
        // sees when it went (only the supervisor and a board reset drive it).
        if high && line == self.wiring.motor_enable.load(Ordering::Acquire) && !self.level(line) {
            self.motor_disabled_at_us
                .store(board_clock_us(), Ordering::Release);
        }
        let before = if high {
            self.gpio_levels.fetch_or(mask, Ordering::AcqRel)
        } else {
            self.gpio_levels.fetch_and(!mask, Ordering::AcqRel)
        } & mask
            != 0;
        // The carrier's monostable retriggers on every edge of the hold line.
        if before != high && line == self.wiring.buzzer_hold.load(Ordering::Acquire) {
            self.buzzer_hold_edge_at_us
                .store(board_clock_us(), Ordering::Release);
        }
        before
    }

    /// The PWM's setting, if its channel runs.
    pub fn buzzer_pwm(&self) -> Option<perfuse_drivers::tone::Tone> {
        self.buzzer_pwm_enabled
            .load(Ordering::Acquire)
            .then(|| perfuse_drivers::tone::Tone {
                period_ns: self.buzzer_pwm_period_ns.load(Ordering::Acquire),
                duty_ns: self.buzzer_pwm_duty_ns.load(Ordering::Acquire),
            })
    }

    /// Has the hold line been still for longer than the monostable holds
    /// (supervisor dead or stalled, board in reset)? Since when, us.
    pub fn failsafe_since_us(&self) -> Option<u64> {
        let edge = self.buzzer_hold_edge_at_us.load(Ordering::Acquire);
        let released = edge.saturating_add(FAILSAFE_HOLD_US);
        (board_clock_us() >= released).then_some(released)
    }

    /// What the buzzer sounds now: the fail-safe sounder when it runs
    /// (in its on phase), otherwise the PWM's tone when it sounds.
    pub fn buzzer_output(&self) -> BuzzerOutput {
        use perfuse_drivers::annunciator::AlarmVolume;
        if let Some(since) = self.failsafe_since_us() {
            let on = (board_clock_us().saturating_sub(since) / 1000) % FAILSAFE_GATE_MS
                < FAILSAFE_GATE_MS / 2;
            return BuzzerOutput {
                tone: on.then_some(perfuse_drivers::tone::BUZZER_TONE),
                volume: AlarmVolume::LOUDEST,
                failsafe: true,
            };
        }
        BuzzerOutput {
            tone: self.buzzer_pwm().filter(|tone| tone.sounds()),
            volume: self.buzzer_volume(),
            failsafe: false,
        }
    }

    /// Is the buzzer sounding now (PWM or fail-safe sounder)?
    pub fn buzzer_sounding(&self) -> bool {
        self.buzzer_output().tone.is_some()
    }

    /// Is the stepper driver enabled (DRV_ENN low)?
    pub fn motor_enabled(&self) -> bool {
        !self.level(self.wiring.motor_enable.load(Ordering::Acquire))
    }

    /// The buzzer's volume as its attenuator lines select it.
    pub fn buzzer_volume(&self) -> perfuse_drivers::annunciator::AlarmVolume {
        perfuse_drivers::annunciator::AlarmVolume::from_lines(
            self.level(self.wiring.buzzer_attenuate_a.load(Ordering::Acquire)),
            self.level(self.wiring.buzzer_attenuate_b.load(Ordering::Acquire)),
        )
    }

    /// The buzzer and its attenuator lines back at their pull-downs (the
    /// loudest level for whoever drives the buzzer next). The PWM stops, and the hold line is left still: the fail-safe
    /// sounder starts once its monostable runs out.
    pub fn release_buzzer(&self) {
        for line in [
            &self.wiring.buzzer,
            &self.wiring.buzzer_attenuate_a,
            &self.wiring.buzzer_attenuate_b,
            &self.wiring.buzzer_hold,
        ] {
            self.set_level(line.load(Ordering::Acquire), false);
        }
        self.buzzer_pwm_enabled.store(false, Ordering::Release);
        self.buzzer_pwm_duty_ns.store(0, Ordering::Release);
    }

    /// Powers the board up as after a reset: the stepper chip lost its
    /// registers and latched its reset flag, DRV_ENN is at its pull-up
    /// (disabled), the buzzer and its attenuators at their pull-downs, the
    /// watchdog is closed.
    pub fn power_on_reset(&self) {
        for register in &self.stepper_registers.0 {
            register.store(0, Ordering::Release);
        }
        self.stepper_gstat.store(0x01, Ordering::Release);
        self.set_level(self.wiring.motor_enable.load(Ordering::Acquire), true);
        self.release_buzzer();
        self.watchdog_timeout_ms.store(0, Ordering::Release);
        self.encoder_mdr0.store(0, Ordering::Release);
        self.encoder_mdr1.store(0, Ordering::Release);
    }
}

/// Why a board could not be opened.
#[derive(Debug)]
pub enum BoardError {
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    NotABoard {
        path: PathBuf,
    },
}

impl std::fmt::Display for BoardError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BoardError::Io { path, error } => write!(f, "simulated board {}: {error}", path.display()),
            BoardError::NotABoard { path } => write!(
                f,
                "{} is not a Perfuse simulated board of layout {LAYOUT_VERSION}: is perfuse-sim running, and the same version?",
                path.display()
            ),
        }
    }
}

impl std::error::Error for BoardError {}

enum Backing {
    Heap(Box<BoardMemory>),
    Shared(memmap2::MmapMut),
}

/// A handle on a board, shared by everything in one process that uses it.
pub struct Board {
    backing: Backing,
}

impl Board {
    /// A board in this process's memory, for tests and in-process simulation.
    pub fn in_memory() -> Arc<Board> {
        let memory = Box::<BoardMemory>::default();
        memory.magic.store(MAGIC, Ordering::Release);
        memory
            .layout_version
            .store(LAYOUT_VERSION, Ordering::Release);
        Arc::new(Board {
            backing: Backing::Heap(memory),
        })
    }

    /// Creates (or re-creates, zeroed) the shared board file; used by `perfuse-sim`.
    pub fn create(path: &Path) -> Result<Arc<Board>, BoardError> {
        let io = |error| BoardError::Io {
            path: path.to_owned(),
            error,
        };
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
            .map_err(io)?;
        file.set_len(std::mem::size_of::<BoardMemory>() as u64)
            .map_err(io)?;
        let board = Self::map(&file, path)?;
        board
            .memory()
            .layout_version
            .store(LAYOUT_VERSION, Ordering::Release);
        board.memory().magic.store(MAGIC, Ordering::Release);
        Ok(board)
    }

    /// Opens a board that `perfuse-sim` created.
    pub fn open(path: &Path) -> Result<Arc<Board>, BoardError> {
        let io = |error| BoardError::Io {
            path: path.to_owned(),
            error,
        };
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map_err(io)?;
        let length = file.metadata().map_err(io)?.len();
        if length != std::mem::size_of::<BoardMemory>() as u64 {
            return Err(BoardError::NotABoard {
                path: path.to_owned(),
            });
        }
        let board = Self::map(&file, path)?;
        let memory = board.memory();
        if memory.magic.load(Ordering::Acquire) != MAGIC
            || memory.layout_version.load(Ordering::Acquire) != LAYOUT_VERSION
        {
            return Err(BoardError::NotABoard {
                path: path.to_owned(),
            });
        }
        Ok(board)
    }

    #[allow(unsafe_code)]
    fn map(file: &std::fs::File, path: &Path) -> Result<Arc<Board>, BoardError> {
        // SAFETY: the file is only ever resized to size_of::<BoardMemory>() (by
        // `create`, checked by `open`), and every process accesses the mapping
        // only through the atomics of `BoardMemory`, so concurrent writers in
        // other processes cannot cause a data race in the Rust sense; a
        // truncation by another program would be the same hazard as for any
        // shared memory, and only perfuse-sim creates these files.
        let mapping =
            unsafe { memmap2::MmapMut::map_mut(file) }.map_err(|error| BoardError::Io {
                path: path.to_owned(),
                error,
            })?;
        if mapping.len() < std::mem::size_of::<BoardMemory>() {
            return Err(BoardError::NotABoard {
                path: path.to_owned(),
            });
        }
        Ok(Arc::new(Board {
            backing: Backing::Shared(mapping),
        }))
    }

    /// The board's memory.
    #[allow(unsafe_code)]
    pub fn memory(&self) -> &BoardMemory {
        match &self.backing {
            Backing::Heap(memory) => memory,
            // SAFETY: the mapping is page-aligned (more than BoardMemory's
            // alignment of 8), at least size_of::<BoardMemory>() long (checked
            // in `map`), lives as long as `self`, and BoardMemory is repr(C) of
            // atomics only, for which any bit pattern, including all zeros, is
            // a valid value.
            Backing::Shared(mapping) => unsafe { &*mapping.as_ptr().cast::<BoardMemory>() },
        }
    }
}

/// Microseconds on the board clock (CLOCK_MONOTONIC, shared by all processes).
pub fn board_clock_us() -> u64 {
    let now = nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC);
    now.map_or(0, |time| {
        let seconds = u64::try_from(time.tv_sec()).unwrap_or(0);
        let micros = u64::try_from(time.tv_nsec()).unwrap_or(0) / 1000;
        seconds.saturating_mul(1_000_000).saturating_add(micros)
    })
}

/// Milliseconds on the board clock (CLOCK_MONOTONIC, shared by all processes).
pub fn board_clock_ms() -> u64 {
    let now = nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC);
    now.map_or(0, |time| {
        let seconds = u64::try_from(time.tv_sec()).unwrap_or(0);
        let millis = u64::try_from(time.tv_nsec()).unwrap_or(0) / 1_000_000;
        seconds.saturating_mul(1000).saturating_add(millis)
    })
}
