//! Helpers shared by the integration tests: golden files with an update switch, and
//! expected/got failure blocks.
#![allow(dead_code)]

use std::path::Path;

/// Compares `got` with the golden file; with `UPDATE_GOLDEN=1` writes it instead.
/// Returns a readable expected/got block on mismatch.
pub fn golden(path: &Path, got: &str) -> Option<String> {
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        if let Err(e) = std::fs::write(path, got) {
            return Some(format!("cannot write {}: {e}", path.display()));
        }
        return None;
    }
    let want = match std::fs::read_to_string(path) {
        Ok(s) => s,
        Err(e) => {
            return Some(format!(
                "{}: {e} (run with UPDATE_GOLDEN=1 to create it, then review it)",
                path.display()
            ));
        }
    };
    if want == got {
        return None;
    }
    Some(format!(
        "--- mismatch: {}\n--- expected:\n{want}\n--- got:\n{got}\n--- (UPDATE_GOLDEN=1 rewrites after review)",
        path.display()
    ))
}
