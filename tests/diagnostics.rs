//! The diagnostics corpus: every `tests/diagnostics/*.coi` is checked and its full rendered
//! diagnostics compared with the `.stderr` file beside it. `UPDATE_GOLDEN=1` rewrites them.

mod common;

use std::path::{Path, PathBuf};

use probity::diag::{self, SourceMap};

fn check(path: &Path) -> String {
    let mut map = SourceMap::new();
    let checked = probity::resolve::load(&mut map, &[path.to_path_buf()]);
    diag::render(&map, &checked.diagnostics)
}

#[test]
fn corpus() {
    let dir = Path::new("tests/diagnostics");
    let mut inputs: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    inputs.retain(|p| p.extension().is_some_and(|e| e == "coi"));
    inputs.sort();
    assert!(
        inputs.len() >= 25,
        "the corpus has {} inputs, want at least 25",
        inputs.len()
    );
    let mut failures = Vec::new();
    let mut codes = std::collections::BTreeSet::new();
    for input in &inputs {
        let got = check(input);
        assert!(
            !got.is_empty(),
            "{}: no diagnostics; every corpus input must trigger one",
            input.display()
        );
        for line in got.lines() {
            if let Some(rest) = line
                .strip_prefix("error[")
                .or_else(|| line.strip_prefix("warning["))
            {
                codes.insert(rest.split(']').next().unwrap_or_default().to_string());
            }
        }
        if let Some(f) = common::golden(&input.with_extension("stderr"), &got) {
            failures.push(f);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        codes.len() >= 25,
        "the corpus covers {} distinct codes, want at least 25: {codes:?}",
        codes.len()
    );
}
