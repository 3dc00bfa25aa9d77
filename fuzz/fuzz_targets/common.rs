//! Shared by the fuzz targets: a scratch case folder per process, and the rules.

use std::path::PathBuf;

/// The rules every case target loads: the shipped `std` plus rules that read every
/// common relation, so loaded facts reach evaluation and rendering.
pub const RULES: &str = include_str!("../../tests/bad_inputs/_rules/listing.coi");

pub const CASE_TOML: &str =
    "[case]\ntitle = \"Fuzz\"\nas_of = \"2025-03-01\"\n\n[[source]]\nid = \"article\"\n";

pub const PEOPLE: &str = "[[person]]\nid = \"ann\"\nname = \"Ann\"\n\n[[org]]\nid = \"acme\"\nname = \"Acme\"\n";

/// A fresh case folder (per process) holding `case.toml`, `people.toml` and `files`.
pub fn case_dir(files: &[(&str, &[u8])]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("probity-fuzz-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    std::fs::write(dir.join("case.toml"), CASE_TOML).expect("case.toml");
    std::fs::write(dir.join("people.toml"), PEOPLE).expect("people.toml");
    for (name, bytes) in files {
        std::fs::write(dir.join(name), bytes).expect("data file");
    }
    dir
}

/// Loads the case and, if it loads, runs the rules and renders every format; errors
/// are rendered too. Any panic is a bug.
pub fn audit(rules: &str, dir: &std::path::Path) {
    let Ok(mut engine) = probity::Engine::from_sources(vec![("fuzz.coi".into(), rules.into())])
    else {
        return;
    };
    engine.options.max_tuples = 20_000;
    engine.options.max_iterations = 200;
    match engine.load_case(dir) {
        Ok(_) => {}
        Err(f) => {
            let _ = f.render();
            let _ = probity::diag::render_json(&f.map, &f.diagnostics);
            return;
        }
    }
    match engine.run() {
        Ok(audit) => {
            let report = probity::render::Report {
                cases: &audit.cases,
                findings: &audit.findings,
                exempted: &audit.exempted,
            };
            for format in [
                probity::render::Format::Table,
                probity::render::Format::Json,
                probity::render::Format::Jsonl,
                probity::render::Format::Csv,
                probity::render::Format::Markdown,
            ] {
                let _ = probity::render::render(&report, format, probity::render::Options { color: false });
            }
            for f in audit.findings.iter().chain(&audit.exempted) {
                let _ = probity::findings::explain::tree_text(f);
            }
        }
        Err(f) => {
            let _ = f.render();
        }
    }
}
