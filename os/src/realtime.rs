//! Real-time treatment for the control thread and the supervisor: locked
//! memory, a CPU of its own, SCHED_FIFO. Each is asked for and reported;
//! a refusal (no root, no CAP_SYS_NICE) is a warning, never a stop.

/// What a thread asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RealtimeRequest {
    /// Lock the whole process's memory (mlockall, current and future).
    pub lock_memory: bool,
    /// Pin the calling thread to this CPU.
    pub cpu: Option<usize>,
    /// SCHED_FIFO priority (1 to 99) for the calling thread.
    pub fifo_priority: Option<u8>,
    /// Keep every CPU out of idle states that are slow to wake from, for
    /// the life of the process: a PM QoS request of 0 us through
    /// /dev/cpu_dma_latency, as cyclictest makes. The CPUs then poll when
    /// idle: for measurements on a virtual machine, whose halted vCPU
    /// waits for its host to run it again (the error-storm test saw the
    /// supervisor trip on a 55 ms host stall without it). Not for the pump
    /// itself: polling costs power on battery.
    pub no_deep_idle: bool,
}

/// What real-time treatment the thread got.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RealtimeStatus {
    pub fifo: bool,
    pub memory_locked: bool,
    pub pinned: bool,
    /// The request to keep the CPUs out of deep idle states is held.
    pub no_deep_idle: bool,
    /// Why anything asked for was not granted (one line each).
    pub warnings: Vec<String>,
}

/// Asks for real-time treatment for the calling thread; reports what it got.
///
/// Memory is locked first, at normal priority: mlockall faults the whole
/// process in (tens of MB, about 100 ms of kernel work), and under
/// SCHED_FIFO that work starved every other real-time thread on the CPU
/// for as long (found by the system fault matrix: another pump's control
/// thread woke 100 ms late and its supervisor tripped). Then the thread is
/// pinned, and only then made real-time.
pub fn go_realtime(request: RealtimeRequest) -> RealtimeStatus {
    let mut status = RealtimeStatus::default();
    if request.lock_memory {
        use nix::sys::mman::{mlockall, MlockAllFlags};
        match mlockall(MlockAllFlags::MCL_CURRENT | MlockAllFlags::MCL_FUTURE) {
            Ok(()) => status.memory_locked = true,
            Err(error) => status.warnings.push(format!(
                "mlockall not permitted ({error}): memory may be paged"
            )),
        }
    }
    if request.no_deep_idle {
        match hold_wake_latency() {
            Ok(()) => status.no_deep_idle = true,
            Err(error) => status.warnings.push(format!(
                "cannot hold /dev/cpu_dma_latency at 0 us ({error}): the CPUs may sleep deeply between periods"
            )),
        }
    }
    if let Some(cpu) = request.cpu {
        let mut set = nix::sched::CpuSet::new();
        match set
            .set(cpu)
            .and_then(|()| nix::sched::sched_setaffinity(nix::unistd::Pid::from_raw(0), &set))
        {
            Ok(()) => status.pinned = true,
            Err(error) => status
                .warnings
                .push(format!("cannot pin to CPU {cpu} ({error})")),
        }
    }
    if let Some(priority) = request.fifo_priority {
        match fifo(priority) {
            Ok(()) => status.fifo = true,
            Err(error) => status.warnings.push(format!(
                "SCHED_FIFO {priority} not permitted ({error}): running as a normal thread"
            )),
        }
    }
    status
}

/// The PM QoS request, held open (closing it would drop the request).
static WAKE_LATENCY: std::sync::OnceLock<std::fs::File> = std::sync::OnceLock::new();

fn hold_wake_latency() -> Result<(), String> {
    use std::io::Write as _;
    if WAKE_LATENCY.get().is_some() {
        return Ok(());
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/cpu_dma_latency")
        .map_err(|error| error.to_string())?;
    // The kernel takes the latency in us as a binary 32-bit integer.
    file.write_all(&0_i32.to_ne_bytes())
        .map_err(|error| error.to_string())?;
    // Another thread may have set it first: either file holds the request.
    let _ = WAKE_LATENCY.set(file);
    Ok(())
}

fn fifo(priority: u8) -> Result<(), String> {
    use thread_priority::unix::{
        set_thread_priority_and_policy, thread_native_id, RealtimeThreadSchedulePolicy,
        ThreadSchedulePolicy,
    };
    let value = thread_priority::ThreadPriorityValue::try_from(priority)
        .map_err(|error| format!("{error:?}"))?;
    set_thread_priority_and_policy(
        thread_native_id(),
        thread_priority::ThreadPriority::Crossplatform(value),
        ThreadSchedulePolicy::Realtime(RealtimeThreadSchedulePolicy::Fifo),
    )
    .map_err(|error| format!("{error:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_asked_is_nothing_granted_and_a_bad_priority_is_a_warning() {
        let none = go_realtime(RealtimeRequest {
            lock_memory: false,
            cpu: None,
            fifo_priority: None,
            no_deep_idle: false,
        });
        assert_eq!(none, RealtimeStatus::default());
        let bad = go_realtime(RealtimeRequest {
            lock_memory: false,
            cpu: None,
            fifo_priority: Some(0),
            no_deep_idle: false,
        });
        assert!(!bad.fifo);
        assert_eq!(bad.warnings.len(), 1, "{:?}", bad.warnings);
        assert!(
            bad.warnings[0].contains("SCHED_FIFO 0"),
            "{:?}",
            bad.warnings
        );
    }
}
