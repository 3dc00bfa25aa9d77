//! Resource limits: how large an input may be and how much work one run may do.
//!
//! Every limit has a default that real cases stay far below, an error that names it, and
//! a command-line flag that raises it (`probity --max-derived 50000000 audit …`). The
//! limits are process-wide settings: the CLI sets them once before loading anything;
//! an embedding program may call the setters too. Nesting depth in rule files is fixed
//! ([`crate::syntax::MAX_DEPTH`]): the parser's stack is sized for it.

use std::sync::atomic::{AtomicU64, Ordering};

/// Default [`max_file_size`]: 4 GiB (a whole national register in one CSV fits).
pub const DEFAULT_MAX_FILE_SIZE: u64 = 4 << 30;
/// Default [`max_facts`]: facts in one case folder.
pub const DEFAULT_MAX_FACTS: u64 = 60_000_000;
/// Default [`max_derived`]: derived tuples in one evaluation.
pub const DEFAULT_MAX_DERIVED: u64 = 10_000_000;
/// Default [`max_iterations`]: rounds of one recursive stratum.
pub const DEFAULT_MAX_ITERATIONS: u64 = 100_000;

static MAX_FILE_SIZE: AtomicU64 = AtomicU64::new(DEFAULT_MAX_FILE_SIZE);
static MAX_FACTS: AtomicU64 = AtomicU64::new(DEFAULT_MAX_FACTS);
static MAX_DERIVED: AtomicU64 = AtomicU64::new(DEFAULT_MAX_DERIVED);
static MAX_ITERATIONS: AtomicU64 = AtomicU64::new(DEFAULT_MAX_ITERATIONS);

/// Most bytes of one rule file or case file (`--max-file-size`).
pub fn max_file_size() -> u64 {
    MAX_FILE_SIZE.load(Ordering::Relaxed)
}

/// Most facts one case folder may hold (`--max-facts`).
pub fn max_facts() -> u64 {
    MAX_FACTS.load(Ordering::Relaxed)
}

/// Most tuples one evaluation may derive, and most distinct bindings one aggregate
/// group may range over (`--max-derived`).
pub fn max_derived() -> u64 {
    MAX_DERIVED.load(Ordering::Relaxed)
}

/// Most rounds of one recursive stratum: the longest chain of derivations through a
/// recursive rule (`--max-iterations`).
pub fn max_iterations() -> u64 {
    MAX_ITERATIONS.load(Ordering::Relaxed)
}

pub fn set_max_file_size(n: u64) {
    MAX_FILE_SIZE.store(n, Ordering::Relaxed);
}

pub fn set_max_facts(n: u64) {
    MAX_FACTS.store(n, Ordering::Relaxed);
}

pub fn set_max_derived(n: u64) {
    MAX_DERIVED.store(n, Ordering::Relaxed);
}

pub fn set_max_iterations(n: u64) {
    MAX_ITERATIONS.store(n, Ordering::Relaxed);
}

/// Reads a file of at most [`max_file_size`] bytes. Only regular files (or symlinks to
/// them) are read, so a FIFO or a device (`/dev/zero`) cannot block or fill memory.
pub fn read_file(path: &std::path::Path) -> Result<Vec<u8>, ReadError> {
    use std::io::Read;
    let meta = std::fs::metadata(path).map_err(ReadError::Io)?;
    if !meta.is_file() {
        return Err(ReadError::NotAFile);
    }
    let limit = max_file_size();
    if meta.len() > limit {
        return Err(ReadError::TooLarge { limit });
    }
    let file = std::fs::File::open(path).map_err(ReadError::Io)?;
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    // The file may grow between the check and the read.
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge { limit });
    }
    Ok(bytes)
}

/// Why [`read_file`] failed.
#[derive(Debug)]
pub enum ReadError {
    Io(std::io::Error),
    /// A folder, FIFO, socket or device.
    NotAFile,
    TooLarge {
        limit: u64,
    },
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Io(e) => write!(f, "{}", io_reason(e)),
            ReadError::NotAFile => write!(f, "it is not a regular file"),
            ReadError::TooLarge { limit } => {
                write!(f, "it is larger than the limit of {limit} bytes")
            }
        }
    }
}

/// An I/O error as a lower-case reason without the OS error number.
pub fn io_reason(e: &std::io::Error) -> String {
    let text = e.to_string();
    let text = match text.find(" (os error") {
        Some(at) => &text[..at],
        None => &text,
    };
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => text.to_string(),
    }
}

/// The help line of a [`ReadError::TooLarge`].
pub const FILE_SIZE_HELP: &str =
    "split the file, or raise the limit with `--max-file-size BYTES` (default 4294967296)";
