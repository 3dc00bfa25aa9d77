//! The diagnostics corpus: every `tests/diagnostics/*.coi` is checked and its full rendered
//! diagnostics compared with the `.stderr` file beside it. `UPDATE_GOLDEN=1` rewrites them.
//! The same inputs are the examples of the error-code reference in `docs/language.md`.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use probity::diag::{self, SourceMap};

const CORPUS: &str = "tests/diagnostics";
const DOCS: &str = "docs/language.md";

fn check(path: &Path) -> String {
    let mut map = SourceMap::new();
    let checked = probity::resolve::load(&mut map, &[path.to_path_buf()]);
    diag::render(&map, &checked.diagnostics)
}

/// The corpus inputs: the `*.coi` files directly in `tests/diagnostics` (companion files
/// for imports live in subfolders), sorted.
fn inputs() -> Vec<PathBuf> {
    let mut inputs: Vec<PathBuf> = std::fs::read_dir(CORPUS)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    inputs.retain(|p| p.is_file() && p.extension().is_some_and(|e| e == "coi"));
    inputs.sort();
    inputs
}

/// The codes of the diagnostics in rendered output: `error[CODE]` and `warning[CODE]`.
fn codes_in(rendered: &str) -> impl Iterator<Item = String> + '_ {
    rendered.lines().filter_map(|line| {
        let rest = line
            .strip_prefix("error[")
            .or_else(|| line.strip_prefix("warning["))?;
        Some(rest.split(']').next()?.to_string())
    })
}

/// Every `"probity::<stage>::<name>"` string literal in a source file.
fn codes_declared_in(path: &str, stage: &str) -> BTreeSet<String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let prefix = format!("\"probity::{stage}::");
    text.match_indices(&prefix)
        .filter_map(|(at, _)| {
            let rest = &text[at + 1..];
            let code = &rest[..rest.find('"')?];
            let name = code.rsplit("::").next()?;
            (!name.is_empty()).then(|| code.to_string())
        })
        .collect()
}

#[test]
fn corpus() {
    let inputs = inputs();
    let mut failures = Vec::new();
    let mut codes = BTreeSet::new();
    for input in &inputs {
        let got = check(input);
        assert!(
            !got.is_empty(),
            "{}: no diagnostics; every corpus input must trigger one",
            input.display()
        );
        codes.extend(codes_in(&got));
        if let Some(f) = common::golden(&input.with_extension("stderr"), &got) {
            failures.push(f);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Every code the parser and the resolver can emit has an input that triggers it.
    let mut declared = codes_declared_in("src/syntax/error.rs", "syntax");
    declared.extend(codes_declared_in("src/resolve/codes.rs", "resolve"));
    assert!(declared.len() >= 40, "found only {declared:?}");
    let missing: Vec<&String> = declared.difference(&codes).collect();
    assert!(
        missing.is_empty(),
        "no corpus input triggers {missing:?}; add tests/diagnostics/<name>.coi"
    );
}

/// Each corpus input's code is named after it: `syntax_bad_date.coi` triggers
/// `probity::syntax::bad_date`, `unknown_relation.coi` `probity::resolve::unknown_relation`.
#[test]
fn each_input_triggers_the_code_it_is_named_after() {
    let multi = ["three_mistakes", "mistakes_in_two_rules"];
    let mut wrong = Vec::new();
    for input in inputs() {
        let stem = input.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        if multi.contains(&stem) {
            continue;
        }
        let code = match stem.strip_prefix("syntax_") {
            Some(name) => format!("probity::syntax::{name}"),
            None => format!("probity::resolve::{stem}"),
        };
        let got: Vec<String> = codes_in(&check(&input)).collect();
        if got != [code.clone()] {
            wrong.push(format!(
                "{}: want only {code}, got {got:?}",
                input.display()
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// `docs/language.md` shows every corpus input verbatim in a `coi` block, and has a
/// `### `code`` heading for every code the corpus emits, so the reference cannot drift.
#[test]
fn docs_list_every_corpus_input() {
    let docs = std::fs::read_to_string(DOCS).unwrap_or_default();
    assert!(!docs.is_empty(), "cannot read {DOCS}");
    let mut problems = Vec::new();
    let mut codes = BTreeSet::new();
    for input in inputs() {
        let text = std::fs::read_to_string(&input).unwrap_or_default();
        if !docs.contains(&format!("```coi\n{text}```\n")) {
            problems.push(format!(
                "{} does not appear verbatim in a ```coi block of {DOCS}",
                input.display()
            ));
        }
        codes.extend(codes_in(&check(&input)));
    }
    for code in &codes {
        if !docs.contains(&format!("\n### `{code}`\n")) {
            problems.push(format!("{DOCS} has no heading ### `{code}`"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
