//! The real-time control thread.
//!
//! A fixed-period loop on absolute deadlines (`clock_nanosleep` with
//! `TIMER_ABSTIME` on CLOCK_MONOTONIC), under SCHED_FIFO at a configured
//! priority, with memory locked and pinned to a CPU where permitted. Where
//! not permitted it runs anyway, warns once, and reports what it got.
//!
//! In the loop: no allocation, no lock shared with another thread, no
//! blocking I/O, no panic. Commands arrive through a bounded lock-free
//! queue (at most `COMMANDS_PER_PERIOD` taken per period); events leave
//! through another that drops and counts when full; the snapshot is
//! published through a triple buffer the UI reads without ever blocking the
//! writer. Overruns (a period that started more than one period late) are
//! counted; lateness goes into a fixed histogram and, for benchmarks, a
//! preallocated record.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use arrayvec::ArrayVec;
use embedded_hal::digital::{InputPin, OutputPin};
use embedded_hal::spi::SpiDevice;
use perfuse_os::clock::{monotonic_us, sleep_until_us};
use perfuse_os::realtime::{go_realtime, RealtimeRequest};

use super::api::{Command, ControlEvent, Mode, Snapshot};
use super::controller::Controller;
use perfuse_drivers::annunciator::Priority;
use perfuse_heartbeat::link::{HeartbeatSender, Sent, Status};
use perfuse_heartbeat::protocol::{AlarmLevel, Kind, PumpMode};

/// Commands queued from the UI at most.
pub const COMMAND_CAPACITY: usize = 32;
/// Events queued for the services at most; more are dropped and counted.
pub const EVENT_CAPACITY: usize = 1024;
/// Commands taken per period at most (the rest wait for the next period).
pub const COMMANDS_PER_PERIOD: usize = 8;
/// Lateness histogram: bucket n counts wake-ups late by [2^(n-1), 2^n) us.
pub const LATENESS_BUCKETS: usize = 24;
/// Fine lateness histogram: bucket n counts wake-ups late by n us, the
/// last one every wake-up late by that much or more (percentiles to the
/// microsecond for the load and storm tests, up to 16 ms; 128 KiB,
/// allocated once).
pub const LATENESS_FINE_US: usize = 16384;

/// How the thread should run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThreadConfig {
    pub period_us: u64,
    /// SCHED_FIFO priority (1 to 99); None to stay a normal thread.
    pub fifo_priority: Option<u8>,
    /// CPU to pin the thread to.
    pub cpu: Option<usize>,
    pub lock_memory: bool,
    /// Keep every wake-up's lateness, up to this many (for benchmarks; 0 for none).
    pub record_latencies: usize,
    /// Periods between heartbeats to the supervisor.
    pub heartbeat_every: u32,
}

impl ThreadConfig {
    /// 1 ms period, SCHED_FIFO 80 on the last CPU, memory locked.
    pub fn pump(cpus: usize) -> Self {
        Self {
            period_us: 1000,
            fifo_priority: Some(80),
            cpu: Some(cpus.saturating_sub(1)),
            lock_memory: true,
            record_latencies: 0,
            // 10 ms heartbeats: the supervisor's deadline (50 ms) is five of them.
            heartbeat_every: 10,
        }
    }
}

pub use perfuse_os::realtime::RealtimeStatus;

/// Counters shared with the outside world (atomics only).
#[derive(Debug)]
pub struct ControlStats {
    pub periods: AtomicU64,
    pub heartbeats_sent: AtomicU64,
    /// Heartbeats not delivered (socket full, or no supervisor connected).
    pub heartbeats_missed: AtomicU64,
    pub overruns: AtomicU64,
    pub dropped_events: AtomicU64,
    pub max_lateness_us: AtomicU64,
    pub lateness_histogram: [AtomicU64; LATENESS_BUCKETS],
    pub lateness_fine: [AtomicU64; LATENESS_FINE_US],
}

impl Default for ControlStats {
    fn default() -> Self {
        ControlStats {
            periods: AtomicU64::new(0),
            heartbeats_sent: AtomicU64::new(0),
            heartbeats_missed: AtomicU64::new(0),
            overruns: AtomicU64::new(0),
            dropped_events: AtomicU64::new(0),
            max_lateness_us: AtomicU64::new(0),
            lateness_histogram: std::array::from_fn(|_| AtomicU64::new(0)),
            lateness_fine: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }
}

impl ControlStats {
    /// The fine histogram's counts as they are now, one per microsecond
    /// of lateness (the last: that much or more). Always the same length,
    /// so that whoever prints it uses the same memory every time.
    pub fn fine_counts(&self) -> [u64; LATENESS_FINE_US] {
        std::array::from_fn(|us| {
            self.lateness_fine
                .get(us)
                .map_or(0, |count| count.load(Ordering::Relaxed))
        })
    }

    fn record(&self, lateness_us: u64) {
        let fine = usize::try_from(lateness_us)
            .unwrap_or(usize::MAX)
            .min(LATENESS_FINE_US - 1);
        if let Some(slot) = self.lateness_fine.get(fine) {
            slot.fetch_add(1, Ordering::Relaxed);
        }
        self.max_lateness_us
            .fetch_max(lateness_us, Ordering::Relaxed);
        let bucket = (u64::BITS - lateness_us.leading_zeros()) as usize;
        if let Some(slot) = self
            .lateness_histogram
            .get(bucket.min(LATENESS_BUCKETS - 1))
        {
            slot.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// What the thread hands back when it stops.
#[derive(Debug)]
pub struct ThreadReport {
    /// Wake-up lateness of each period, us (as many as were asked to be kept).
    pub latencies_us: Vec<u32>,
}

/// The UI's and services' side of the control thread.
pub struct ControlHandle {
    commands: rtrb::Producer<Command>,
    events: rtrb::Consumer<ControlEvent>,
    snapshot: triple_buffer::Output<Snapshot>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<ThreadReport>>,
    pub stats: Arc<ControlStats>,
    pub realtime: RealtimeStatus,
}

/// Why a command was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the control thread's command queue is full ({COMMAND_CAPACITY} commands); try again")]
pub struct QueueFull;

impl ControlHandle {
    /// Queues a command; never blocks.
    pub fn send(&mut self, command: Command) -> Result<(), QueueFull> {
        self.commands.push(command).map_err(|_| QueueFull)
    }

    /// The latest snapshot; never blocks the control thread.
    pub fn snapshot(&mut self) -> Snapshot {
        *self.snapshot.read()
    }

    /// Takes up to `max` queued events.
    pub fn events(&mut self, max: usize) -> Vec<ControlEvent> {
        let available = self.events.slots().min(max);
        let mut taken = Vec::with_capacity(available);
        while taken.len() < available {
            match self.events.pop() {
                Ok(event) => taken.push(event),
                Err(_) => break,
            }
        }
        taken
    }

    /// Stops the thread and returns its report.
    pub fn stop(mut self) -> ThreadReport {
        self.stop.store(true, Ordering::Release);
        self.thread
            .take()
            .and_then(|thread| thread.join().ok())
            .unwrap_or(ThreadReport {
                latencies_us: Vec::new(),
            })
    }
}

impl Drop for ControlHandle {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// What the heartbeat says about a snapshot.
fn status_of(snapshot: &Snapshot) -> Status {
    let (alarm, audible) = match snapshot.announcement {
        // Quiet (nothing raised, or an audio pause): a reminder's pulse, if due.
        None => (
            if snapshot.reminder {
                AlarmLevel::Reminder
            } else {
                AlarmLevel::None
            },
            snapshot.reminder,
        ),
        Some(announcement) if !announcement.audible && snapshot.reminder => {
            (AlarmLevel::Reminder, true)
        }
        Some(announcement) => (
            match announcement.priority {
                Priority::Low => AlarmLevel::Low,
                Priority::Medium => AlarmLevel::Medium,
                Priority::High => AlarmLevel::High,
            },
            announcement.audible,
        ),
    };
    Status {
        now_us: snapshot.now_us,
        mode: if snapshot.commanded_rate.0 > 0 {
            PumpMode::Delivering
        } else if snapshot.relieving {
            PumpMode::Relieving
        } else {
            PumpMode::Stopped
        },
        rate_nl_per_h: snapshot.commanded_rate.0,
        forward_steps: snapshot.forward_steps,
        reverse_steps: snapshot.reverse_steps,
        alarm,
        audible,
        volume: snapshot.alarm_volume,
    }
}

fn count_heartbeat(stats: &ControlStats, sent: Sent) {
    let counter = match sent {
        Sent::Delivered => &stats.heartbeats_sent,
        Sent::Dropped | Sent::NotConnected => &stats.heartbeats_missed,
    };
    counter.fetch_add(1, Ordering::Relaxed);
}

/// Starts the control thread running `controller`, heartbeating to the
/// supervisor through `heartbeat` when given.
pub fn spawn<OUT, IN, SPI>(
    mut controller: Controller<OUT, IN, SPI>,
    config: ThreadConfig,
    mut heartbeat: Option<HeartbeatSender>,
) -> Result<ControlHandle, String>
where
    OUT: OutputPin + Send + 'static,
    IN: InputPin + Send + 'static,
    SPI: SpiDevice + Send + 'static,
{
    let (command_producer, mut command_consumer) =
        rtrb::RingBuffer::<Command>::new(COMMAND_CAPACITY);
    let (mut event_producer, event_consumer) =
        rtrb::RingBuffer::<ControlEvent>::new(EVENT_CAPACITY);
    let (mut snapshot_input, snapshot_output) =
        triple_buffer::triple_buffer(&controller.snapshot());
    let stop = Arc::new(AtomicBool::new(false));
    let stats = Arc::new(ControlStats::default());
    let (ready_sender, ready_receiver) = std::sync::mpsc::sync_channel::<RealtimeStatus>(1);
    let thread_stop = stop.clone();
    let thread_stats = stats.clone();
    let thread = std::thread::Builder::new()
        .name("perfuse-control".to_owned())
        .spawn(move || {
            let status = go_realtime(RealtimeRequest {
                lock_memory: config.lock_memory,
                cpu: config.cpu,
                fifo_priority: config.fifo_priority,
                // Not for the pump (see the supervisor's go_realtime).
                no_deep_idle: false,
            });
            let mut latencies: Vec<u32> = Vec::with_capacity(config.record_latencies);
            let _ = ready_sender.send(status);
            let period = config.period_us.max(1);
            let heartbeat_every = config.heartbeat_every.max(1);
            let heartbeat_interval_us = period.saturating_mul(u64::from(heartbeat_every));
            let mut deadline = monotonic_us().saturating_add(period);
            // The loop: nothing below allocates (the latency record was sized above).
            while !thread_stop.load(Ordering::Acquire) {
                sleep_until_us(deadline);
                let woke = monotonic_us();
                let lateness = woke.saturating_sub(deadline);
                thread_stats.record(lateness);
                if latencies.len() < latencies.capacity() {
                    latencies.push(u32::try_from(lateness).unwrap_or(u32::MAX));
                }
                let mut commands: ArrayVec<Command, COMMANDS_PER_PERIOD> = ArrayVec::new();
                while !commands.is_full() {
                    match command_consumer.pop() {
                        Ok(command) => commands.push(command),
                        Err(_) => break,
                    }
                }
                let nurse_started = commands
                    .iter()
                    .any(|command| matches!(command, Command::Start | Command::Resume));
                let output = controller.period(woke, commands);
                if let Some(sender) = &mut heartbeat {
                    let status = status_of(&output.snapshot);
                    // The nurse's own start or resume, on this screen, is what
                    // lets the supervisor enable the motor. Each opens a fresh
                    // session, so it also clears a trip the supervisor made
                    // while the pump stood still (which this thread cannot see).
                    if nurse_started
                        && matches!(output.snapshot.mode, Mode::Delivering | Mode::KeepVeinOpen)
                    {
                        sender.new_session();
                        count_heartbeat(&thread_stats, sender.send(Kind::ResumeConfirmed, &status));
                    }
                    // On the beat, and at once after a wake-up a beat or
                    // more late: the machine stood still (a host or an
                    // interrupt storm took the CPU), and the supervisor,
                    // which stood still too, must hear that this thread
                    // is back before its deadline rather than a beat later.
                    if output
                        .snapshot
                        .period
                        .is_multiple_of(u64::from(heartbeat_every))
                        || lateness >= heartbeat_interval_us
                    {
                        count_heartbeat(&thread_stats, sender.send(Kind::Heartbeat, &status));
                    }
                }
                let mut dropped = u64::from(output.dropped_events);
                for event in output.events {
                    if event_producer.push(event).is_err() {
                        dropped += 1;
                    }
                }
                if dropped > 0 {
                    thread_stats
                        .dropped_events
                        .fetch_add(dropped, Ordering::Relaxed);
                }
                snapshot_input.write(output.snapshot);
                thread_stats.periods.fetch_add(1, Ordering::Relaxed);
                deadline = deadline.saturating_add(period);
                let now = monotonic_us();
                if now > deadline.saturating_add(period) {
                    // More than a period behind: count it and start afresh
                    // rather than run a burst of catch-up periods.
                    thread_stats.overruns.fetch_add(1, Ordering::Relaxed);
                    deadline = now.saturating_add(period);
                }
            }
            controller.stop_motor();
            ThreadReport {
                latencies_us: latencies,
            }
        })
        .map_err(|error| format!("cannot start the control thread: {error}"))?;
    let realtime = ready_receiver
        .recv()
        .map_err(|_| "the control thread stopped while starting".to_owned())?;
    for warning in &realtime.warnings {
        tracing::warn!("control thread: {warning}");
    }
    Ok(ControlHandle {
        commands: command_producer,
        events: event_consumer,
        snapshot: snapshot_output,
        stop,
        thread: Some(thread),
        stats,
        realtime,
    })
}
