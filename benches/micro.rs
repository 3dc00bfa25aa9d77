//! Micro-benchmarks for regressions (divan): the parser and checker, the case loader and
//! its CSV reader, the value table, and evaluation kernels, each on deterministic
//! generated input (see `benches/README.md`).
//!
//! ```sh
//! cargo bench --bench micro                           # everything (about 1.5 minutes)
//! cargo bench --bench micro -- eval::provenance::join2  # a group or one benchmark (regex)
//! ```
//!
//! The workload is generated once per size in Rust (`micro/workload.rs`, the shape of
//! `shared/bench/gen.py`) and written as a case folder under the system temp dir, which
//! is removed when the run ends. Setup (generating, writing, loading what a benchmark
//! does not measure) happens before divan's timed loop.

#[path = "micro/workload.rs"]
mod workload;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use divan::Bencher;
use divan::counter::{BytesCount, ItemsCount};
use probity::Engine;
use workload::Workload;

/// The workload's seed (like compare.sh's gen.py runs).
const SEED: u64 = 42;
/// Persons in the generated workload: about 10k and 100k facts (rows).
const PERSONS: &[usize] = &[1_000, 10_000];
/// Distinct keys interned into a value table.
const KEYS: &[usize] = &[10_000, 100_000];
/// Rules in the synthetic rule file (about 50 lines each).
const RULES: &[usize] = &[100, 1_000];

fn main() {
    divan::main();
    if let Some(root) = ROOT.get() {
        // Best effort: a leftover temp dir is harmless.
        let _ = std::fs::remove_dir_all(root);
    }
}

static ROOT: OnceLock<PathBuf> = OnceLock::new();

/// The temp dir the case folders are written to (one per process).
fn root() -> &'static PathBuf {
    ROOT.get_or_init(|| std::env::temp_dir().join(format!("probity-micro-{}", std::process::id())))
}

/// A generated workload and the case folder holding it.
struct Fixture {
    workload: Workload,
    dir: PathBuf,
}

/// The workload of `persons` persons, generated and written once per run.
fn fixture(persons: usize) -> &'static Fixture {
    static FIXTURES: Mutex<BTreeMap<usize, &'static Fixture>> = Mutex::new(BTreeMap::new());
    let mut fixtures = FIXTURES.lock().expect("fixture lock");
    fixtures.entry(persons).or_insert_with(|| {
        let workload = workload::generate(persons, SEED);
        let dir = root().join(format!("n{persons}"));
        workload.write_case(&dir).expect("write the case folder");
        Box::leak(Box::new(Fixture { workload, dir }))
    })
}

/// An engine for the workload schema plus `rules` (which may be empty).
fn engine(rules: &str) -> Engine {
    let mut files = vec![("schema.coi".to_string(), workload::SCHEMA.to_string())];
    if !rules.is_empty() {
        let text = format!("use \"./schema.coi\"\n{rules}\n");
        files.push(("rules.coi".to_string(), text));
    }
    Engine::from_sources(files)
        .map_err(|f| f.render())
        .expect("the benchmark rules check")
}

/// Parsing and checking rule files.
mod parser {
    use super::*;
    use probity::diag::{FileId, SourceMap};

    /// Every `.coi` file under `rules/` as (path, text), sorted by path.
    fn rule_pack() -> Vec<(String, String)> {
        fn walk(dir: &std::path::Path, out: &mut Vec<(String, String)>) {
            let entries = std::fs::read_dir(dir).expect("read rules/");
            for entry in entries {
                let path = entry.expect("read rules/").path();
                if path.is_dir() {
                    walk(&path, out);
                } else if path.extension().is_some_and(|e| e == "coi") {
                    let text = std::fs::read_to_string(&path).expect("read a rule file");
                    let rel = path
                        .strip_prefix(env!("CARGO_MANIFEST_DIR"))
                        .unwrap_or(&path);
                    out.push((rel.to_string_lossy().replace('\\', "/"), text));
                }
            }
        }
        let mut out = Vec::new();
        walk(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("rules"),
            &mut out,
        );
        out.sort();
        out
    }

    fn bytes(files: &[(String, String)]) -> BytesCount {
        BytesCount::new(files.iter().map(|(_, t)| t.len()).sum::<usize>())
    }

    fn parse_all(files: &[(String, String)]) -> usize {
        let mut items = 0;
        for (i, (_, text)) in files.iter().enumerate() {
            let (file, diags) = probity::syntax::parse_here(FileId(i as u32), text);
            assert!(diags.is_empty(), "the rule files parse cleanly");
            items += file.items.len();
        }
        items
    }

    fn check(files: Vec<(String, String)>) -> (SourceMap, probity::resolve::Checked) {
        let mut map = SourceMap::new();
        let checked = probity::resolve::load_sources(&mut map, files);
        assert!(checked.program.is_some(), "the rule files check");
        (map, checked)
    }

    /// Syntax only: every file of `rules/` (the pack and `rules/std`), on this thread.
    #[divan::bench]
    fn parse_rule_pack(bencher: Bencher) {
        let files = rule_pack();
        bencher
            .counter(bytes(&files))
            .bench_local(|| parse_all(&files));
    }

    /// Parse, resolve imports (`use std`), names, types and safety, stratify: what
    /// `probity check rules/` does after reading the files.
    #[divan::bench]
    fn check_rule_pack(bencher: Bencher) {
        let files: Vec<_> = rule_pack()
            .into_iter()
            .filter(|(path, _)| !path.starts_with("rules/std/"))
            .collect();
        bencher
            .counter(bytes(&files))
            .with_inputs(|| files.clone())
            .bench_local_values(check);
    }

    fn synthetic(rules: usize) -> Vec<(String, String)> {
        vec![
            ("schema.coi".to_string(), workload::SCHEMA.to_string()),
            (
                "synthetic.coi".to_string(),
                workload::synthetic_rules(rules),
            ),
        ]
    }

    /// Syntax only: a generated file of `rules` rules, derives and tests.
    #[divan::bench(args = RULES)]
    fn parse_synthetic(bencher: Bencher, rules: usize) {
        let files = synthetic(rules);
        bencher
            .counter(bytes(&files))
            .bench_local(|| parse_all(&files));
    }

    /// Parse and check the generated file.
    #[divan::bench(args = RULES)]
    fn check_synthetic(bencher: Bencher, rules: usize) {
        let files = synthetic(rules);
        bencher
            .counter(bytes(&files))
            .with_inputs(|| files.clone())
            .bench_local_values(check);
    }
}

/// Reading case folders.
mod load {
    use super::*;
    use probity::case::CsvReader;
    use probity::facts::FactSet;

    /// The whole case loader on the generated folder: listing, reading, CSV, checking
    /// against the schema, interning, filling the fact set (with its loader threads).
    #[divan::bench(args = PERSONS, max_time = 10)]
    fn case_folder(bencher: Bencher, persons: usize) {
        let fx = fixture(persons);
        let engine = engine("");
        let program = engine.program();
        bencher
            .counter(ItemsCount::new(fx.workload.facts))
            .with_inputs(|| FactSet::new(program))
            .bench_local_values(|mut facts| {
                let case = probity::case::load_case(&fx.dir, program, &mut facts)
                    .expect("the generated case loads");
                (case, facts)
            });
    }

    /// The loader's CSV reader alone over every file's text (in memory): records split
    /// into fields, no conversion.
    #[divan::bench(args = PERSONS)]
    fn csv_reader(bencher: Bencher, persons: usize) {
        let files = &fixture(persons).workload.files;
        let bytes: usize = files.iter().map(|(_, t)| t.len()).sum();
        bencher.counter(BytesCount::new(bytes)).bench_local(|| {
            let mut fields = 0;
            for (_, text) in files {
                let mut r = CsvReader::new(text);
                while r.next_record().expect("well-formed CSV") {
                    for i in 0..r.width() {
                        fields += r.field(i).len();
                    }
                }
            }
            fields
        });
    }
}

/// `probity::values::ValueTable`: the one interner from CSV cell to join.
mod value_table {
    use super::*;
    use probity::values::{StrKind, ValueTable};

    /// Key `i`: an entity id (`p17`) or a person's name (`Person 17`), as in the
    /// workload.
    fn key(kind: StrKind, i: usize) -> String {
        match kind {
            StrKind::Entity => format!("p{i}"),
            StrKind::Text => format!("Person {i}"),
        }
    }

    /// Keys 0..n in order.
    fn keys(kind: StrKind, n: usize) -> Vec<String> {
        (0..n).map(|i| key(kind, i)).collect()
    }

    /// Keys 0..n in a seeded random order, as cells refer to entities; allocated in
    /// that order, so reading the keys themselves stays sequential.
    fn shuffled(kind: StrKind, n: usize) -> Vec<String> {
        let mut order: Vec<usize> = (0..n).collect();
        let mut rng = workload::Rng::new(SEED);
        for i in (1..n).rev() {
            order.swap(i, rng.below(i + 1));
        }
        order.into_iter().map(|i| key(kind, i)).collect()
    }

    fn filled(kind: StrKind, keys: &[String]) -> ValueTable {
        let mut t = ValueTable::new();
        for k in keys {
            t.intern_str(kind, k);
        }
        t
    }

    /// Every key new: hash, probe, allocate the value, insert (growing the table).
    fn miss(bencher: Bencher, kind: StrKind, n: usize) {
        let keys = keys(kind, n);
        bencher
            .counter(ItemsCount::new(n))
            .with_inputs(ValueTable::new)
            .bench_local_values(|mut t| {
                for k in &keys {
                    divan::black_box(t.intern_str(kind, k));
                }
                t
            });
    }

    /// Every key present (looked up in random order): hash, probe, compare.
    fn hit(bencher: Bencher, kind: StrKind, n: usize) {
        let mut t = filled(kind, &keys(kind, n));
        let keys = shuffled(kind, n);
        bencher.counter(ItemsCount::new(n)).bench_local(|| {
            for k in &keys {
                divan::black_box(t.intern_str(kind, k));
            }
        });
    }

    #[divan::bench(args = KEYS)]
    fn entity_miss(bencher: Bencher, n: usize) {
        miss(bencher, StrKind::Entity, n);
    }

    #[divan::bench(args = KEYS)]
    fn entity_hit(bencher: Bencher, n: usize) {
        hit(bencher, StrKind::Entity, n);
    }

    #[divan::bench(args = KEYS)]
    fn text_miss(bencher: Bencher, n: usize) {
        miss(bencher, StrKind::Text, n);
    }

    #[divan::bench(args = KEYS)]
    fn text_hit(bencher: Bencher, n: usize) {
        hit(bencher, StrKind::Text, n);
    }

    /// `lookup_str` of keys that are absent from a full table (the same ids as texts,
    /// so the bytes match and only the kind tag differs).
    #[divan::bench(args = KEYS)]
    fn lookup_absent(bencher: Bencher, n: usize) {
        let t = filled(StrKind::Entity, &keys(StrKind::Entity, n));
        let absent = shuffled(StrKind::Entity, n);
        bencher.counter(ItemsCount::new(n)).bench_local(|| {
            for k in &absent {
                divan::black_box(t.lookup_str(StrKind::Text, k));
            }
        });
    }
}

/// Evaluation kernels: `probity::eval::evaluate` of one small rule over the loaded
/// workload (`micro/workload.rs` has the rules), with and without provenance
/// (`EvalOptions::provenance`), skipping unread relations as `audit` does. The timed part
/// includes storing the base tuples the rule reads (see `scan` for that floor).
mod eval {
    use super::*;
    use probity::eval::{EvalOptions, evaluate};

    fn kernel(bencher: Bencher, name: &str, persons: usize, provenance: bool) {
        let mut engine = engine(workload::kernel(name));
        engine
            .load_case(&fixture(persons).dir)
            .map_err(|f| f.render())
            .expect("the generated case loads");
        let (_, facts) = engine.cases().next().expect("one case");
        let opts = EvalOptions {
            provenance,
            skip_unread: true,
            ..EvalOptions::default()
        };
        bencher.bench_local(|| {
            evaluate(engine.program(), facts, engine.params(), &opts).expect("evaluates")
        });
    }

    /// One benchmark per kernel, over PERSONS.
    macro_rules! kernels {
        ($provenance:expr) => {
            kernels!($provenance; scan, join2, chain3, lookup_filter, recursive, negation, count, sum);
        };
        ($provenance:expr; $($name:ident),*) => {$(
            #[divan::bench(args = PERSONS)]
            fn $name(bencher: Bencher, persons: usize) {
                kernel(bencher, stringify!($name), persons, $provenance);
            }
        )*};
    }

    /// Recording a derivation per derived tuple and an origin per base tuple, as
    /// `audit` does for findings.
    mod provenance {
        use super::*;
        kernels!(true);
    }

    /// Without derivations, as `audit --format count` does.
    mod no_provenance {
        use super::*;
        kernels!(false);
    }
}
