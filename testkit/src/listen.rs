//! Listening to the simulated board's buzzer from outside: the sounding
//! stretches (pulses) heard over a time, with the volume the attenuator
//! lines selected during each. Sampled every millisecond from the board's
//! shared memory, as a microphone beside the pump would hear it.

use std::time::{Duration, Instant};

use perfuse_sim::Board;

/// One pulse the buzzer sounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pulse {
    /// From the start of listening, ms.
    pub start_ms: u64,
    pub length_ms: u64,
    /// The attenuators' level (1 to 4) in the middle of the pulse.
    pub volume: u8,
}

/// Makes the calling thread a microphone that load cannot deafen:
/// SCHED_FIFO at 50, below the supervisor (90) and the control thread (80),
/// above every normal process (a stress load, the app's UI). Where real-time
/// scheduling is not permitted it stays a normal thread; returns whether it
/// took.
pub fn as_a_microphone() -> bool {
    thread_priority::unix::set_thread_priority_and_policy(
        thread_priority::unix::thread_native_id(),
        thread_priority::ThreadPriority::Crossplatform(
            thread_priority::ThreadPriorityValue::try_from(50_u8).unwrap_or_default(),
        ),
        thread_priority::unix::ThreadSchedulePolicy::Realtime(
            thread_priority::unix::RealtimeThreadSchedulePolicy::Fifo,
        ),
    )
    .is_ok()
}

/// Is the buzzer sounding now (its PWM, or the carrier's fail-safe sounder)?
pub fn sounding(board: &Board) -> bool {
    board.memory().buzzer_sounding()
}

/// Is the supervisor's PWM playing a tone now (not the fail-safe sounder)?
pub fn pwm_sounding(board: &Board) -> bool {
    board
        .memory()
        .buzzer_pwm()
        .is_some_and(|tone| tone.sounds())
}

/// Listens for `duration`; returns the pulses heard, in order (a pulse
/// still sounding at the end is counted to there).
pub fn listen(board: &Board, duration: Duration) -> Vec<Pulse> {
    as_a_microphone();
    let memory = board.memory();
    let started = Instant::now();
    let mut pulses = Vec::new();
    let mut current: Option<(u64, Vec<u8>)> = None;
    while started.elapsed() < duration {
        let at = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        match (&mut current, sounding(board)) {
            (Some((_, volumes)), true) => volumes.push(memory.buzzer_output().volume.level()),
            (None, true) => current = Some((at, vec![memory.buzzer_output().volume.level()])),
            (Some(_), false) => {
                if let Some((start, volumes)) = current.take() {
                    pulses.push(pulse(start, at, &volumes));
                }
            }
            (None, false) => {}
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    if let Some((start, volumes)) = current.take() {
        let end = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        pulses.push(pulse(start, end, &volumes));
    }
    pulses
}

fn pulse(start_ms: u64, end_ms: u64, volumes: &[u8]) -> Pulse {
    Pulse {
        start_ms,
        length_ms: end_ms.saturating_sub(start_ms),
        volume: volumes.get(volumes.len() / 2).copied().unwrap_or(0),
    }
}

/// Waits up to `timeout` for the buzzer to start sounding; returns how long it took.
pub fn until_sounding(board: &Board, timeout: Duration) -> Option<Duration> {
    let started = Instant::now();
    while started.elapsed() < timeout {
        if sounding(board) {
            return Some(started.elapsed());
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    None
}
