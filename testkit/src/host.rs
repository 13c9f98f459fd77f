//! The machine the tests run on. It is a virtual one: when the host does not
//! run a vCPU, every thread on it stops, SCHED_FIFO or not. Timing tests
//! read how much CPU time the host took away, so that a deadline missed
//! while the machine itself stood still is told apart from one the software
//! missed.

/// Time the hypervisor took this machine's CPUs away (steal), summed over
/// CPUs since boot, ms (0 where the kernel does not account it).
pub fn steal_ms() -> u64 {
    let ticks_per_s = 100;
    std::fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|line| line.starts_with("cpu "))
                .and_then(|line| line.split_whitespace().nth(8))
                .and_then(|steal| steal.parse::<u64>().ok())
        })
        .map_or(0, |ticks| ticks * 1000 / ticks_per_s)
}

/// Steal at least this long during a timing test makes a missed deadline
/// the machine's, not the software's (the supervisor's deadline is 50 ms).
pub const STEAL_THAT_EXCUSES_MS: u64 = 50;
