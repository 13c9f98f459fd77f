//! The supervisor's loop: the only code that may enable the motor driver.
//!
//! Single-threaded, on absolute deadlines. It only receives from the app and
//! never waits on it: every socket operation is non-blocking. Each period:
//! accept the app (checking who it is), take its messages, judge them
//! (`Watch`), check the deadline, compare the encoder with the commands,
//! drive ENABLE (and read it back), sound the buzzer at its volume (itself,
//! at the loudest, when tripped),
//! log, and feed the watchdog only while all of that held.
//!
//! On a trip the motor is off from the same period; the event goes to its
//! own append-only log through a bounded queue, written and fsynced by a
//! thread at normal priority within milliseconds (the loop never waits on
//! the disk).

use std::fs::OpenOptions;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use embedded_hal::digital::{OutputPin, StatefulOutputPin};
use embedded_hal::spi::SpiDevice;
use perfuse_drivers::annunciator::AlarmVolume;
use perfuse_drivers::backend::SupervisorHardware;
use perfuse_drivers::ls7366r::Ls7366r;
use perfuse_drivers::tone::{play, Tone, ToneOutput, BUZZER_TONE};
use perfuse_os::clock::{monotonic_us as now_us, sleep_until_us};

pub use crate::sounder::{sounding_volume, Playing};

use super::watch::{
    Commanded, FloodCounter, MotionFinding, Policy, RunawayCheck, TripReason, Watch, WatchEvent,
};
use perfuse_heartbeat::link::{HeartbeatListener, Peer, Received};
use perfuse_heartbeat::protocol::{AlarmLevel, Message, MESSAGE_LEN};

/// Supervisor period, us: 2 ms, a tenth of the heartbeat deadline.
pub const PERIOD_US: u64 = 2_000;
/// Messages taken per period at most (more wait; a flood is judged by the watch).
pub const MESSAGES_PER_PERIOD: usize = 16;
/// Runaway samples every 100 ms (50 periods).
const RUNAWAY_EVERY: u64 = 50;
/// Encoder reads failing in a row (one per sample: 1 s) that trip a
/// session allowed to move the motor.
const ENCODER_FAILURES_TO_TRIP: u32 = 10;

/// The hardware watchdog, however it is reached.
pub trait Watchdog {
    fn feed(&mut self) -> Result<(), String>;
}

impl Watchdog for perfuse_sim::SimWatchdog {
    fn feed(&mut self) -> Result<(), String> {
        perfuse_sim::SimWatchdog::feed(self);
        Ok(())
    }
}

/// Settings of one supervisor.
#[derive(Debug, Clone)]
pub struct SupervisorConfig {
    pub socket: PathBuf,
    pub allowed_uid: u32,
    pub policy: Policy,
    pub log: PathBuf,
    pub encoder_counts_per_turn: u32,
    pub microsteps_per_turn: u64,
}

/// What the supervisor counted over its run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SupervisorReport {
    pub periods: u64,
    pub trips: u64,
    pub rejected: u64,
    pub late_periods: u64,
    /// Wake-ups so late that the supervisor itself stood still.
    pub stalls: u64,
    /// The longest time between two good messages of a live session, us.
    pub longest_silence_us: u64,
}

/// Longest log line kept, bytes (a longer one is cut at a character).
pub const LOG_LINE_BYTES: usize = 240;
/// Log records waiting for the writer at most; more are dropped and counted.
pub const LOG_QUEUE: usize = 256;

/// One line for the log, fixed-size: the loop formats into it without
/// allocating.
pub type LogLine = arrayvec::ArrayString<LOG_LINE_BYTES>;

struct LogRecord {
    at_us: u64,
    line: LogLine,
}

/// The append-only, fsynced event log of the supervisor. The loop only
/// queues a fixed-size record (a bounded lock-free ring, drop and count when
/// full); a writer thread at normal priority appends and fsyncs each, within
/// a few milliseconds. The loop never waits on the disk: a supervisor that
/// fsynced in its own loop stalled 50 to 100 ms under I/O load, then judged
/// the app's heartbeats that had queued meanwhile stale, and tripped (found
/// by the system fault matrix, eight pumps on one machine).
pub struct SupervisorLog {
    queue: Option<rtrb::Producer<LogRecord>>,
    writer: Option<std::thread::JoinHandle<()>>,
    /// Records dropped because the writer fell behind (reported in the next).
    dropped: u64,
}

impl SupervisorLog {
    pub fn open(path: &Path) -> Result<Self, String> {
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|error| {
                format!("cannot open the supervisor log {}: {error}", path.display())
            })?;
        let (producer, mut consumer) = rtrb::RingBuffer::<LogRecord>::new(LOG_QUEUE);
        let writer = std::thread::Builder::new()
            .name("perfuse-supervisor-log".to_owned())
            .spawn(move || loop {
                let mut wrote = false;
                while let Ok(record) = consumer.pop() {
                    let _ = writeln!(file, "{} {}", record.at_us, record.line);
                    wrote = true;
                }
                if wrote {
                    let _ = file.sync_data();
                } else if consumer.is_abandoned() {
                    break;
                } else {
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
            })
            .map_err(|error| format!("cannot start the supervisor's log writer: {error}"))?;
        Ok(Self {
            queue: Some(producer),
            writer: Some(writer),
            dropped: 0,
        })
    }

    /// Queues one line; never waits.
    pub fn record(&mut self, now_us: u64, line: &str) {
        let mut kept = LogLine::new();
        for character in line.chars() {
            if kept.try_push(character).is_err() {
                break;
            }
        }
        self.queue_line(now_us, kept);
    }

    /// Queues one formatted line; formats without allocating, never waits.
    pub fn record_fmt(&mut self, now_us: u64, arguments: std::fmt::Arguments<'_>) {
        use std::fmt::Write as _;
        let mut line = LogLine::new();
        // A line too long for the record is kept as far as it fits.
        let _ = line.write_fmt(arguments);
        self.queue_line(now_us, line);
    }

    fn queue_line(&mut self, at_us: u64, line: LogLine) {
        let Some(queue) = &mut self.queue else {
            return;
        };
        if self.dropped > 0 {
            use std::fmt::Write as _;
            let mut note = LogLine::new();
            let _ = write!(
                note,
                "LOG {} records dropped: the writer fell behind",
                self.dropped
            );
            if queue.push(LogRecord { at_us, line: note }).is_ok() {
                self.dropped = 0;
            }
        }
        if queue.push(LogRecord { at_us, line }).is_err() {
            self.dropped = self.dropped.saturating_add(1);
        }
    }
}

impl Drop for SupervisorLog {
    /// Lets the writer finish every queued record.
    fn drop(&mut self) {
        self.queue = None;
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}

fn describe(reason: TripReason) -> String {
    match reason {
        TripReason::MissedHeartbeat { silent_us } => {
            format!("TRIP missed heartbeat: silent {silent_us} us")
        }
        TripReason::AppGone => "TRIP app gone: its connection closed".to_owned(),
        TripReason::Runaway {
            commanded_steps,
            measured_steps,
        } => {
            format!("TRIP runaway: commanded {commanded_steps} microsteps, motor moved {measured_steps}")
        }
        TripReason::EncoderBlind {
            commanded_steps,
            measured_steps,
        } => format!(
            "TRIP motion check blind: commanded {commanded_steps} microsteps, the encoder saw {measured_steps} (frozen or silent encoder)"
        ),
        TripReason::Unconfirmed => "TRIP flow reported without the nurse's start".to_owned(),
    }
}

/// The supervisor's pins and bus, and its checks of them.
pub struct Supervisor<OUT, TONE, SPI, W> {
    enable: OUT,
    buzzer: TONE,
    /// What the buzzer's PWM was last set to (None: not yet).
    tone_set: Option<Option<Tone>>,
    attenuate_a: OUT,
    attenuate_b: OUT,
    /// The fail-safe sounder's hold line and its level.
    hold: OUT,
    hold_level: bool,
    encoder: Ls7366r<SPI>,
    watchdog: W,
    config: SupervisorConfig,
    log: SupervisorLog,
}

impl<OUT, TONE, SPI, W> Supervisor<OUT, TONE, SPI, W>
where
    OUT: OutputPin + StatefulOutputPin,
    TONE: ToneOutput,
    SPI: SpiDevice,
    W: Watchdog,
{
    /// Start-up self-test: ENABLE driven and read back both ways (ending
    /// disabled), the attenuator lines read back both ways (ending at the
    /// loudest), a buzzer chirp, the encoder counter configured, the
    /// watchdog fed. On any failure ENABLE is forced off, the failure is
    /// logged and returned, and no supervisor (so no motor) runs.
    pub fn start(
        hardware: SupervisorHardware<OUT, TONE, SPI>,
        mut watchdog: W,
        config: SupervisorConfig,
    ) -> Result<Self, String> {
        let SupervisorHardware {
            motor_enable: mut enable,
            mut buzzer,
            buzzer_attenuate_a: mut attenuate_a,
            buzzer_attenuate_b: mut attenuate_b,
            buzzer_hold: mut hold,
            encoder,
        } = hardware;
        let mut log = SupervisorLog::open(&config.log)?;
        let mut encoder = Ls7366r::new(encoder);
        let tested =
            self_test(&mut enable, &mut buzzer, &mut encoder, &mut watchdog).and_then(|()| {
                for (name, line) in [
                    ("buzzer attenuator A", &mut attenuate_a),
                    ("buzzer attenuator B", &mut attenuate_b),
                    ("fail-safe sounder hold", &mut hold),
                ] {
                    read_back(line, name, true)?;
                    read_back(line, name, false)?;
                }
                Ok(())
            });
        match tested {
            Ok(()) => {
                log.record(
                    now_us(),
                    "START self-test passed; motor disabled until a confirmed session",
                );
                Ok(Self {
                    enable,
                    buzzer,
                    tone_set: Some(None),
                    attenuate_a,
                    attenuate_b,
                    hold,
                    hold_level: false,
                    encoder,
                    watchdog,
                    config,
                    log,
                })
            }
            Err(problem) => {
                let _ = enable.set_high();
                log.record_fmt(
                    now_us(),
                    format_args!("START self-test FAILED: {problem}; motor stays disabled"),
                );
                Err(format!("self-test failed: {problem}"))
            }
        }
    }

    /// Runs until `stop` is set. Disables the motor on the way out.
    pub fn run(&mut self, listener: &HeartbeatListener, stop: &AtomicBool) -> SupervisorReport {
        let mut report = SupervisorReport::default();
        let mut watch = Watch::Waiting;
        let mut flood = FloodCounter::default();
        let mut runaway = RunawayCheck::new(
            self.config.encoder_counts_per_turn,
            self.config.microsteps_per_turn,
        );
        let mut peer: Option<Peer> = None;
        let mut buffer = [0_u8; 2 * MESSAGE_LEN];
        // The motion the app's last accepted message reported (None until
        // the first on this connection).
        let mut commanded: Option<Commanded> = None;
        let mut encoder_failures = 0_u32;
        // When the last good message of this connection arrived.
        let mut last_accepted_at: Option<u64> = None;
        // The sender's clock on the last message the watch accepted: the
        // trip record says how long the app had really been silent.
        let mut last_good_sent_us = 0_u64;
        let mut requested = (AlarmLevel::None, false, 0_u64);
        let mut volume_set = AlarmVolume::LOUDEST;
        let mut playing = Playing::QUIET;
        // When the supervisor last woke from standing still, and how late.
        let mut stood_still: Option<(u64, u64)> = None;
        let mut deadline = now_us().saturating_add(PERIOD_US);
        while !stop.load(Ordering::Acquire) {
            sleep_until_us(deadline);
            let now = now_us();
            report.periods += 1;
            // Woken this late, the supervisor stood still itself: it did not
            // see the app's silence, and gives it a moment to be heard.
            let own_lateness = now.saturating_sub(deadline);
            if own_lateness > self.config.policy.stall_us {
                stood_still = Some((now, own_lateness));
                report.stalls += 1;
            }
            let mut events: [Option<WatchEvent>; MESSAGES_PER_PERIOD + 3] =
                [None; MESSAGES_PER_PERIOD + 3];
            let mut count = 0;
            let mut push = |event: Option<WatchEvent>| {
                if let (Some(event), Some(slot)) = (event, events.get_mut(count)) {
                    *slot = Some(event);
                    count += 1;
                }
            };
            if peer.is_none() {
                match listener.accept() {
                    Ok(Some(accepted)) => {
                        self.log.record_fmt(
                            now,
                            format_args!("CONNECT app pid {} uid {}", accepted.pid, accepted.uid),
                        );
                        peer = Some(accepted);
                        // Flood accounting belongs to a connection, and so do
                        // the step counts (an app that restarted counts from 0).
                        flood = FloodCounter::default();
                        runaway.reset();
                        commanded = None;
                        last_accepted_at = None;
                    }
                    Ok(None) => {}
                    Err(refused) => self.log.record_fmt(
                        now,
                        format_args!("REFUSED peer pid {} uid {}", refused.pid, refused.uid),
                    ),
                }
            }
            if let Some(connected) = &peer {
                for _ in 0..MESSAGES_PER_PERIOD {
                    match connected.receive(&mut buffer) {
                        Received::Bytes(length) => {
                            let bytes = buffer.get(..length.min(buffer.len())).unwrap_or_default();
                            let decoded = Message::decode(bytes);
                            let before = watch;
                            let (after, event) =
                                watch.receive(bytes, now, &self.config.policy, &mut flood);
                            watch = after;
                            if let (
                                Ok(message),
                                None
                                | Some(WatchEvent::SessionOpened { .. })
                                | Some(WatchEvent::Resumed { .. }),
                            ) = (decoded, event)
                            {
                                if matches!(event, Some(WatchEvent::Resumed { .. })) {
                                    // The nurse resumed after a trip: the window
                                    // starts afresh (an encoder that came back
                                    // jumps to where the rotor really is).
                                    runaway.reset();
                                }
                                commanded = Some(Commanded {
                                    forward: message.forward_steps,
                                    reverse: message.reverse_steps,
                                });
                                requested = (message.alarm, message.audible, now);
                                if message.volume != volume_set {
                                    volume_set = message.volume;
                                    self.log.record_fmt(
                                        now,
                                        format_args!(
                                            "VOLUME alarm volume set to {} of {} ({} dB below the loudest)",
                                            volume_set.level(),
                                            AlarmVolume::LOUDEST.level(),
                                            volume_set.attenuation_db()
                                        ),
                                    );
                                }
                                last_good_sent_us = message.sent_at_us;
                                if let (Some(previous), Watch::Healthy { .. }) =
                                    (last_accepted_at, before)
                                {
                                    report.longest_silence_us =
                                        report.longest_silence_us.max(now.saturating_sub(previous));
                                }
                                last_accepted_at = Some(now);
                            }
                            if before != watch || event.is_some() {
                                push(event);
                            }
                        }
                        Received::Nothing => break,
                        Received::Closed => {
                            let (after, event) = watch.peer_closed(now);
                            watch = after;
                            push(event);
                            self.log.record(now, "DISCONNECT app connection closed");
                            peer = None;
                            break;
                        }
                    }
                }
            }
            let (after, event) =
                watch.tick(now, &self.config.policy, stood_still.map(|(at, _)| at));
            watch = after;
            push(event);
            if report.periods % RUNAWAY_EVERY == 0 {
                match (self.encoder.checked_count(), commanded) {
                    (Ok(counts), Some(commanded)) => {
                        encoder_failures = 0;
                        if let Some(finding) = runaway.sample(commanded, i64::from(counts.0)) {
                            let (after, event) = watch.motion_fault(now, finding);
                            watch = after;
                            push(event);
                        }
                    }
                    (Ok(_), None) => encoder_failures = 0,
                    (Err(_), _) => {
                        // An encoder that cannot be read leaves the motion
                        // check blind: the motor may not run unwatched.
                        encoder_failures = encoder_failures.saturating_add(1);
                        if encoder_failures >= ENCODER_FAILURES_TO_TRIP && watch.motor_allowed() {
                            let (after, event) = watch.motion_fault(
                                now,
                                MotionFinding::Blind {
                                    commanded: 0,
                                    measured: 0,
                                },
                            );
                            watch = after;
                            push(event);
                        }
                    }
                }
            }
            // The motor: on only while the watch allows, checked by reading back.
            let allowed = watch.motor_allowed();
            let driven = if allowed {
                self.enable.set_low()
            } else {
                self.enable.set_high()
            };
            let confirmed = matches!(self.enable.is_set_high(), Ok(high) if high != allowed);
            for event in events.iter().flatten() {
                match event {
                    WatchEvent::Tripped(reason) => {
                        report.trips += 1;
                        match stood_still {
                            Some((at, late)) => self.log.record_fmt(
                                now,
                                format_args!(
                                    "{}; last good message sent at {last_good_sent_us} us; supervisor stood still to {at} us ({late} us late)",
                                    describe(*reason)
                                ),
                            ),
                            None => self.log.record_fmt(
                                now,
                                format_args!(
                                    "{}; last good message sent at {last_good_sent_us} us",
                                    describe(*reason)
                                ),
                            ),
                        }
                    }
                    WatchEvent::SessionOpened { session } => self
                        .log
                        .record_fmt(now, format_args!("SESSION {session:016x} opened")),
                    WatchEvent::Resumed { session } => self.log.record_fmt(
                        now,
                        format_args!("RESUME confirmed by the nurse, session {session:016x}"),
                    ),
                    WatchEvent::Rejected(_) => report.rejected += 1,
                }
            }
            // The buzzer: the high-priority pattern itself when tripped;
            // otherwise what the app's last fresh heartbeat asked for.
            let (level, audible) = if watch.tripped() {
                (AlarmLevel::High, true)
            } else if now.saturating_sub(requested.2) <= self.config.policy.deadline_us {
                (requested.0, requested.1)
            } else {
                (AlarmLevel::None, false)
            };
            playing = playing.follow(level, audible, now);
            let tone = playing.tone(now);
            // Attenuate before sounding, so a burst never starts too loud or
            // too quiet.
            let (a, b) = sounding_volume(level, volume_set, watch.tripped()).lines();
            let _ = drive(&mut self.attenuate_a, a);
            let _ = drive(&mut self.attenuate_b, b);
            let _ = play(&mut self.buzzer, &mut self.tone_set, tone);
            // Feed the watchdog, and hold the fail-safe sounder off, only
            // if this period did everything it should.
            if driven.is_ok() && confirmed {
                let _ = self.watchdog.feed();
                self.hold_level = !self.hold_level;
                let _ = drive(&mut self.hold, self.hold_level);
            } else {
                self.log.record(
                    now,
                    "FAULT the ENABLE line did not follow: watchdog no longer fed",
                );
            }
            deadline = deadline.saturating_add(PERIOD_US);
            let after = now_us();
            if after > deadline {
                report.late_periods += 1;
                deadline = after.saturating_add(PERIOD_US);
            }
        }
        // Motor off; the hold line left still, so the carrier's fail-safe
        // sounder starts: a pump whose supervisor stopped must be heard.
        let _ = self.enable.set_high();
        let _ = self.buzzer.set_tone(None);
        let _ = self.attenuate_a.set_low();
        let _ = self.attenuate_b.set_low();
        let _ = self.hold.set_low();
        self.log.record_fmt(
            now_us(),
            format_args!(
                "STOP supervisor stopped; motor disabled; {} periods, {} late, {} trips, {} messages rejected, longest silence {} us, {} stood still",
                report.periods,
                report.late_periods,
                report.trips,
                report.rejected,
                report.longest_silence_us,
                report.stalls
            ),
        );
        report
    }
}

fn drive<OUT: OutputPin>(pin: &mut OUT, high: bool) -> Result<(), OUT::Error> {
    if high {
        pin.set_high()
    } else {
        pin.set_low()
    }
}

fn read_back<OUT: OutputPin + StatefulOutputPin>(
    pin: &mut OUT,
    name: &str,
    high: bool,
) -> Result<(), String> {
    drive(pin, high).map_err(|_| format!("cannot drive the {name} line"))?;
    match pin.is_set_high() {
        Ok(level) if level == high => Ok(()),
        Ok(_) => Err(format!(
            "the {name} line does not read back what was driven"
        )),
        Err(_) => Err(format!("cannot read the {name} line back")),
    }
}

fn self_test<OUT, TONE, SPI, W>(
    enable: &mut OUT,
    buzzer: &mut TONE,
    encoder: &mut Ls7366r<SPI>,
    watchdog: &mut W,
) -> Result<(), String>
where
    OUT: OutputPin + StatefulOutputPin,
    TONE: ToneOutput,
    SPI: SpiDevice,
    W: Watchdog,
{
    read_back(enable, "ENABLE", true)?;
    read_back(enable, "ENABLE", false)?;
    read_back(enable, "ENABLE", true)?;
    // A 50 ms chirp, each register setting read back.
    for tone in [Some(BUZZER_TONE), None] {
        buzzer
            .set_tone(tone)
            .map_err(|error| format!("cannot set the buzzer's PWM: {error:?}"))?;
        match buzzer.tone() {
            Ok(read) if read == tone => {}
            Ok(read) => {
                return Err(format!(
                    "the buzzer's PWM reads back {read:?}, not the {tone:?} written"
                ))
            }
            Err(error) => return Err(format!("cannot read the buzzer's PWM back: {error:?}")),
        }
        if tone.is_some() {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
    encoder
        .configure()
        .map_err(|error| format!("the encoder counter does not answer: {error:?}"))?;
    watchdog.feed()
}

/// The hardware watchdog device, fed by the loop.
impl Watchdog for perfuse_os::watchdog::DeviceWatchdog {
    fn feed(&mut self) -> Result<(), String> {
        perfuse_os::watchdog::DeviceWatchdog::feed(self)
    }
}

#[cfg(test)]
mod tests;
