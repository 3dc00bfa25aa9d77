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

/// Prints `what` with the seconds since the first call, if timings are on.
pub fn mark(what: &str) {
    if let Some(t) = start() {
        eprintln!("[{:8.3}s] {what}", t.elapsed().as_secs_f64());
    }
}
