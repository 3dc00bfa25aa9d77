//! Phase timings on standard error when `PROBITY_TIMINGS` is set: where a run spends its
//! time (reading, registering ids, converting, merging, evaluating), for profiling by
//! hand. Off by default; the outputs never depend on it.

use std::sync::OnceLock;
use std::time::Instant;

fn start() -> Option<&'static Instant> {
    static START: OnceLock<Option<Instant>> = OnceLock::new();
    START
        .get_or_init(|| std::env::var_os("PROBITY_TIMINGS").map(|_| Instant::now()))
        .as_ref()
}

/// Whether timings are printed.
pub fn enabled() -> bool {
    start().is_some()
}

/// Prints `what` with the seconds since the first call, the resident memory and the
/// page faults taken so far (each new page of memory costs one), if timings are on.
pub fn mark(what: &str) {
    if let Some(t) = start() {
        eprintln!(
            "[{:8.3}s {:6} MB {:7} faults] {what}",
            t.elapsed().as_secs_f64(),
            resident_mb(),
            minor_faults()
        );
    }
}

/// The process's minor page faults so far (from `/proc/self/stat`; 0 elsewhere).
fn minor_faults() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The fields after the command's closing parenthesis: state is the 3rd field, minflt
    // the 10th.
    (stat.rsplit_once(')').map(|(_, rest)| rest))
        .and_then(|rest| rest.split_whitespace().nth(7)?.parse().ok())
        .unwrap_or(0)
}

/// Resident memory in MB (from `/proc/self/statm`, assuming 4 KiB pages; 0 elsewhere).
fn resident_mb() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4096 / 1_000_000)
}
