//! The harness of `tests/semantics.rs`: programs and facts as text in, one relation's
//! rows (or error codes) out, and failures printed as expected/got blocks.
#![allow(dead_code)]

use std::sync::Arc;

use probity::diag::{Diagnostic, SourceMap};
use probity::eval::{self, EvalOptions};
use probity::facts::{FactSet, FieldValue, Origin};
use probity::value::Status;

/// The schema every case may use: `node` entities and small relations over them.
pub const PRELUDE: &str = "
entity node(label: text?)
relation edge(a: node, b: node)
relation own(holder: node, asset: node, pct: number)
relation num(k: node, n: number?)
relation day(k: node, d: date?)
relation txt(k: node, t: text?)
relation span(k: node, from: date?, until: date?) during from..until
relation ev(k: node, on: date) at on
symmetric relation tie(a: node, b: node)
relation meet(id: text, attendees: [node])
relation tagged(k: node, tags: [text]?)
";

/// The file a case is checked as: `use` lines of the program first (imports must
/// precede declarations), then the prelude, the program and a test block of the facts.
pub fn source(program: &str, given: &str) -> String {
    let (uses, rest): (Vec<&str>, Vec<&str>) = program
        .split_inclusive('\n')
        .partition(|l| l.trim_start().starts_with("use "));
    format!(
        "{}{PRELUDE}\n{}\ntest case {{ given {{ {given} }} }}\n",
        uses.concat(),
        rest.concat()
    )
}

/// The sorted rows of `rel` after running `program` over `given`, or the sorted error
/// codes of checking or evaluating it.
pub fn run(program: &str, given: &str, rel: &str) -> Result<Vec<String>, String> {
    run_with(program, &[], given, rel)
}

/// [`run`] with `--param name=value` overrides.
pub fn run_with(
    program: &str,
    overrides: &[&str],
    given: &str,
    rel: &str,
) -> Result<Vec<String>, String> {
    let mut map = SourceMap::new();
    let text = source(program, given);
    let checked = probity::resolve::load_sources(&mut map, vec![("case.coi".into(), text)]);
    let Some(program) = checked.program else {
        return Err(codes(&checked.diagnostics));
    };
    let Some(id) = program.rel_by_name(rel) else {
        return Err(format!("no relation `{rel}`"));
    };
    let mut facts = FactSet::new(&program);
    let origin = facts.add_origin(Origin {
        file: Arc::from("case.coi"),
        line: 1,
        sources: Vec::new(),
        status: Status::Confirmed,
        note: None,
    });
    for test in &program.tests {
        for g in &test.given {
            let fields = g.values.iter().cloned().map(FieldValue::One).collect();
            facts.add(&program, g.rel, fields, origin);
        }
    }
    let mut params = eval::default_params(&program);
    for o in overrides {
        let (id, v) =
            probity::resolve::parse_param_override(&program, o).map_err(|d| codes(&[d]))?;
        params[id.0 as usize] = v;
    }
    // The sorted rows, and every relation's tuples in their order with their derivations.
    let rows = |opts: &EvalOptions| -> Result<(Vec<String>, Vec<String>), String> {
        let db = eval::evaluate(&program, &facts, &params, opts).map_err(|d| codes(&d))?;
        let rows = db
            .tuples(id)
            .into_iter()
            .map(|(_, t)| {
                let vs: Vec<String> = t.iter().map(ToString::to_string).collect();
                vs.join(" ")
            })
            .collect();
        let all = (0..program.relations.len() as u32)
            .map(probity::ir::RelId)
            .flat_map(|r| (0..db.len(r) as u32).map(move |i| (r, i)))
            .map(|(r, i)| format!("{:?} {:?}", db.tuple(r, i), db.derivation(r, i)))
            .collect();
        Ok((rows, all))
    };
    let one = rows(&EvalOptions {
        threads: 1,
        ..EvalOptions::default()
    });
    // Every clause run split over three threads, however small: the same tuples in the
    // same order, or the same errors.
    let split = rows(&EvalOptions {
        threads: 3,
        split_min: 1,
        ..EvalOptions::default()
    });
    assert_eq!(one, split, "`{rel}` split over threads");
    // No partial indexes (lookups followed by comparisons with constants read the
    // whole relation's index, then compare): the same tuples, order and derivations.
    let whole = rows(&EvalOptions {
        threads: 1,
        partial_indexes: false,
        ..EvalOptions::default()
    });
    assert_eq!(one, whole, "`{rel}` without partial indexes");
    one.map(|(rows, _)| rows)
}

/// The codes of the errors among `diags`, sorted and deduplicated, joined by `, `.
pub fn codes(diags: &[Diagnostic]) -> String {
    let mut cs: Vec<&str> = diags
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.code)
        .collect();
    cs.sort_unstable();
    cs.dedup();
    cs.join(", ")
}

/// Shows a result the way expectations are written.
pub fn show(r: &Result<Vec<String>, String>) -> String {
    match r {
        Ok(rows) if rows.is_empty() => "(no rows)".into(),
        Ok(rows) => rows.join("\n"),
        Err(codes) => format!("error: {codes}"),
    }
}

/// Panics with an expected/got block (and the checked text) when `got` is not `want`.
#[expect(clippy::panic, reason = "a failed case is a failed test")]
pub fn check(text: &str, want: &Result<Vec<String>, String>, got: &Result<Vec<String>, String>) {
    if want != got {
        panic!(
            "\n--- program:\n{}\n--- expected:\n{}\n--- got:\n{}\n",
            text.trim(),
            show(want),
            show(got)
        );
    }
}

/// `yes!(name, PROGRAM, [params: ["name=value", …],] given: FACTS, "rel" => ["row", …])`
#[macro_export]
macro_rules! yes {
    ($name:ident, $program:expr, given: $given:expr, $rel:literal => [$($row:expr),* $(,)?]) => {
        yes!($name, $program, params: [], given: $given, $rel => [$($row),*]);
    };
    ($name:ident, $program:expr, params: [$($p:expr),*], given: $given:expr, $rel:literal => [$($row:expr),* $(,)?]) => {
        #[test]
        fn $name() {
            let want: Result<Vec<String>, String> = Ok(vec![$(String::from($row)),*]);
            let got = run_with($program, &[$($p),*], $given, $rel);
            check(&source($program, $given), &want, &got);
        }
    };
}

/// `fails!(name, PROGRAM, [params: […],] given: FACTS, "probity::…::code")`
#[macro_export]
macro_rules! fails {
    ($name:ident, $program:expr, given: $given:expr, $code:literal) => {
        fails!($name, $program, params: [], given: $given, $code);
    };
    ($name:ident, $program:expr, params: [$($p:expr),*], given: $given:expr, $code:literal) => {
        #[test]
        fn $name() {
            let want: Result<Vec<String>, String> = Err(String::from($code));
            let got = run_with($program, &[$($p),*], $given, "node")
                .map(|_| vec![String::from("(checked and ran without errors)")]);
            check(&source($program, $given), &want, &got);
        }
    };
}

/// `value!(name, EXPR => "value")`: the value of `x = EXPR`; `=> error "code"`: the
/// error checking or running it gives.
#[macro_export]
macro_rules! value {
    ($name:ident, $expr:literal => error $code:literal) => {
        fails!($name, concat!("derive v(x) { txt(k: _) x = ", $expr, " }"), given: "txt(k: one)", $code);
    };
    ($name:ident, $expr:literal => $value:literal) => {
        yes!($name, concat!("derive v(x) { txt(k: _) x = ", $expr, " }"), given: "txt(k: one)", "v" => [$value]);
    };
}

/// `holds!(name, CONDITION => true)`: whether a condition between constants holds.
#[macro_export]
macro_rules! holds {
    ($name:ident, $cond:literal => false) => {
        yes!($name, concat!("derive v(k) { txt(k: k) ", $cond, " }"), given: "txt(k: one)", "v" => []);
    };
    ($name:ident, $cond:literal => true) => {
        yes!($name, concat!("derive v(k) { txt(k: k) ", $cond, " }"), given: "txt(k: one)", "v" => ["one"]);
    };
}

/// The outcome of every `test` block of `program` (no prelude), one line per test and
/// one more per line of a failure: `name: ok`, `name: FAIL`, `  <message>`.
pub fn tested(program: &str) -> Result<Vec<String>, String> {
    let mut map = SourceMap::new();
    let checked =
        probity::resolve::load_sources(&mut map, vec![("t.coi".into(), program.to_string())]);
    let Some(program) = checked.program else {
        return Err(codes(&checked.diagnostics));
    };
    let mut lines = Vec::new();
    for o in probity::testing::run(&map, &program, None) {
        let verdict = if o.passed() { "ok" } else { "FAIL" };
        lines.push(format!("{}: {verdict}", o.name));
        for f in &o.failures {
            // Drop the `t.coi:line:col: ` prefix: the program is one line.
            let f = f.strip_prefix("t.coi:").map_or(f.as_str(), |rest| {
                rest.split_once(": ").map_or(rest, |(_, msg)| msg)
            });
            lines.extend(f.lines().map(|l| format!("  {}", l.trim())));
        }
    }
    Ok(lines)
}

/// `tested!(name, RULES, TESTS => ["t: ok", "u: FAIL", "  expected …", "  got …"])`
#[macro_export]
macro_rules! tested {
    ($name:ident, $rules:expr, $tests:expr => [$($line:expr),* $(,)?]) => {
        #[test]
        fn $name() {
            let program = format!("{} {}", $rules, $tests);
            let want: Result<Vec<String>, String> = Ok(vec![$(String::from($line)),*]);
            check(&program, &want, &tested(&program));
        }
    };
}

/// A case folder in a fresh temp dir: `(file name, text)` pairs; removed on drop.
pub struct TempCase(pub std::path::PathBuf);

impl TempCase {
    pub fn new(name: &str, files: &[(&str, &str)]) -> TempCase {
        let dir =
            std::env::temp_dir().join(format!("probity-semantics-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        for (f, text) in files {
            std::fs::write(dir.join(f), text).expect("write case file");
        }
        TempCase(dir)
    }
}

impl Drop for TempCase {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The messages of every finding of `rules` (with `use std`) over a case folder made
/// of `files` (plus a `case.toml`), sorted; or the rendered failure.
pub fn messages(
    name: &str,
    rules: &str,
    overrides: &[&str],
    files: &[(&str, &str)],
) -> Result<Vec<String>, String> {
    let mut all = vec![("case.toml", "[case]\ntitle = \"semantics\"\n")];
    all.extend_from_slice(files);
    let case = TempCase::new(name, &all);
    let text = format!("use std\n{rules}");
    let mut engine =
        probity::Engine::from_sources(vec![("rules.coi".into(), text)]).map_err(|f| f.render())?;
    for o in overrides {
        engine.set_param(o).map_err(|f| f.render())?;
    }
    engine.load_case(&case.0).map_err(|f| f.render())?;
    let audit = engine.run().map_err(|f| f.render())?;
    let mut out: Vec<String> = audit.findings.iter().map(|f| f.message.clone()).collect();
    out.sort();
    Ok(out)
}

/// `flags!(name, RULES, [params: ["name=value"],] files: [("people.toml", "…"), …] => ["message", …])`
#[macro_export]
macro_rules! flags {
    ($name:ident, $rules:expr, files: [$($file:expr),* $(,)?] => [$($m:expr),* $(,)?]) => {
        flags!($name, $rules, params: [], files: [$($file),*] => [$($m),*]);
    };
    ($name:ident, $rules:expr, params: [$($p:expr),*], files: [$($file:expr),* $(,)?] => [$($m:expr),* $(,)?]) => {
        #[test]
        fn $name() {
            let want: Result<Vec<String>, String> = Ok(vec![$(String::from($m)),*]);
            let got = messages(stringify!($name), $rules, &[$($p),*], &[$($file),*]);
            check($rules, &want, &got);
        }
    };
}
