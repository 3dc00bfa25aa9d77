//! Golden tests of `probity compile --to sql`: every shipped rule file, per dialect, in
//! tests/golden/sql/<dialect>/<file>.sql (the SQL, or the exact diagnostics of a file the
//! backend rejects). `UPDATE_GOLDEN=1` rewrites them. Spark output is also checked for
//! balanced parentheses and quotes and for no double-quoted identifiers.

mod sql_support;

use std::path::{Path, PathBuf};
use std::process::Command;

const DIALECTS: [&str; 3] = ["duckdb", "postgres", "spark"];

fn rule_files() -> Vec<PathBuf> {
    sql_support::shipped_rule_files()
}

/// (exit code, stdout if it succeeded else stderr).
fn compile(file: &Path, dialect: &str) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_probity"))
        .args(["compile", "--to", "sql", "--dialect", dialect])
        .arg(file)
        .output()
        .expect("run probity");
    let code = out.status.code().unwrap_or(-1);
    let text = if code == 0 { out.stdout } else { out.stderr };
    (code, String::from_utf8_lossy(&text).into_owned())
}

fn golden_name(file: &Path) -> String {
    let stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    stem + ".sql"
}

#[test]
fn compile_goldens() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut failures = Vec::new();
    for dialect in DIALECTS {
        let dir = Path::new("tests/golden/sql").join(dialect);
        for file in rule_files() {
            let (code, text) = compile(&file, dialect);
            assert!(
                code == 0 || code == 2,
                "{}: exit {code}\n{text}",
                file.display()
            );
            let text = if code == 0 {
                text
            } else {
                format!("-- rejected (exit 2)\n{text}")
            };
            let path = dir.join(golden_name(&file));
            if update {
                std::fs::create_dir_all(&dir).expect("mkdir");
                std::fs::write(&path, &text).expect("write golden");
            } else if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
                failures.push(path.display().to_string());
            }
        }
    }
    assert!(
        failures.is_empty(),
        "goldens differ (UPDATE_GOLDEN=1 to rewrite): {failures:?}"
    );
}

#[test]
fn rejected_constructs_exit_2_with_the_sql_code() {
    let (code, text) = compile(Path::new("rules/ownership/indirect_control.coi"), "duckdb");
    assert_eq!(code, 2);
    assert!(text.contains("probity::sql::unsupported"), "{text}");
    assert!(
        text.contains("recursion through arithmetic in `chain_stake`"),
        "{text}"
    );
}

/// No parser for Spark SQL here: balanced parentheses and quotes, no `"` identifiers.
#[test]
fn spark_output_is_balanced_and_uses_backticks() {
    for file in rule_files() {
        let (code, sql) = compile(&file, "spark");
        if code != 0 {
            continue;
        }
        let body: String = sql
            .lines()
            .filter(|l| !l.trim_start().starts_with("--"))
            .collect::<Vec<_>>()
            .join("\n");
        let (mut depth, mut quote): (i64, Option<char>) = (0, None);
        let mut prev = ' ';
        for ch in body.chars() {
            match quote {
                Some(q) if ch == q && prev != '\\' => quote = None,
                Some(_) => {}
                None => match ch {
                    '\'' | '`' => quote = Some(ch),
                    '"' => assert_ne!(ch, '"', "{}: double quote in Spark SQL", file.display()),
                    '(' => depth += 1,
                    ')' => {
                        depth -= 1;
                        assert!(depth >= 0, "{}: unbalanced `)`", file.display());
                    }
                    _ => {}
                },
            }
            prev = ch;
        }
        assert_eq!(depth, 0, "{}: unbalanced parentheses", file.display());
        assert!(quote.is_none(), "{}: unterminated quote", file.display());
        assert!(!body.contains("IS NOT DISTINCT FROM"), "{}", file.display());
    }
}

/// The differential tests' fixture (tests/sql_duckdb/) compiles for DuckDB and
/// PostgreSQL, so those tests compare all of it where the engines are up; here it runs
/// where they are not. It includes two aggregates naming the same local variable. Its
/// constructs.coi compiles for Spark SQL too (tests/sql_spark.rs runs it), and the rest
/// of it does not.
#[test]
fn differential_fixture_compiles() {
    for dialect in ["duckdb", "postgres"] {
        let (code, text) = compile(Path::new("tests/sql_duckdb/rules"), dialect);
        assert_eq!(code, 0, "{dialect}: {text}");
        assert!(text.contains("-- Rule `shared_local_name`"), "{text}");
    }
    let (code, text) = compile(Path::new("tests/sql_duckdb/rules/constructs.coi"), "spark");
    assert_eq!(code, 0, "spark: {text}");
    assert!(text.contains("-- Rule `stake_within_shift`"), "{text}");
    let (code, text) = compile(
        Path::new("tests/sql_duckdb/rules/aggregates_and_recursion.coi"),
        "spark",
    );
    assert_eq!(code, 2, "spark: {text}");
    assert!(text.contains("probity::sql::unsupported"), "{text}");
}

/// Writes a rule file into a fresh folder under the test's temporary directory.
fn rule_file(name: &str, text: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("sql-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    let path = dir.join(format!("{name}.coi"));
    std::fs::write(&path, text).expect("write rule file");
    path
}

/// A relation, a date field and a rule with names of `n` bytes plus what SQL adds:
/// `<relation>_fact` is `n + 5` bytes, `<field>_first` `n + 6`.
fn long_names(n: usize) -> String {
    let rel = format!("r{}", "x".repeat(n - 1));
    let field = format!("d{}", "x".repeat(n - 1));
    format!(
        "use std\n\nrelation {rel}(p: person, {field}: date?)\n\n\
         rule uses_{rel}(p, {field}) {{\n    title \"long\" severity info\n    \
         when {{ {rel}(p: p, {field}: {field}) }}\n}}\n"
    )
}

/// PostgreSQL cuts names longer than 63 bytes (two names could become one), so the
/// backend rejects them for PostgreSQL; 63 bytes compile, DuckDB takes any length.
#[test]
fn names_longer_than_postgres_keeps_are_rejected_for_postgres() {
    // `<field>_first` is the longest name: 57 + 6 = 63 bytes.
    let fits = rule_file("names63", &long_names(57));
    let (code, text) = compile(&fits, "postgres");
    assert_eq!(code, 0, "{text}");
    let too_long = rule_file("names64", &long_names(58));
    let (code, text) = compile(&too_long, "postgres");
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("error[probity::sql::unsupported]"), "{text}");
    assert!(
        text.contains("(64 bytes; PostgreSQL cuts names to 63 bytes)"),
        "{text}"
    );
    let (code, text) = compile(&too_long, "duckdb");
    assert_eq!(code, 0, "{text}");
}

/// PostgreSQL text cannot hold NUL: a rule constant with one is rejected for it.
#[test]
fn text_with_nul_is_rejected_for_postgres() {
    let file = rule_file(
        "nul",
        "use std\n\nrule titled(p) {\n    title \"t\" severity info\n    \
         when { office(person: p, title: \"a\u{0}b\") }\n}\n",
    );
    let (code, text) = compile(&file, "postgres");
    assert_eq!(code, 2, "{text}");
    assert!(
        text.contains("a text with a NUL character (PostgreSQL text cannot hold one) in `titled`"),
        "{text}"
    );
    let (code, text) = compile(&file, "duckdb");
    assert_eq!(code, 0, "{text}");
}

/// SQL stores open ends as the dates 0001-01-01 and 9999-12-31, so a rule constant on
/// or beyond them would match open ends, which natively it never does: rejected.
#[test]
fn dates_on_the_open_end_sentinels_are_rejected() {
    for (name, date) in [
        ("last_day", "9999-12-31"),
        ("last_year", "9999"),
        ("first_day", "0001-01-01"),
        ("year_zero", "0000-06"),
    ] {
        let file = rule_file(
            &format!("sentinel_{name}"),
            &format!(
                "use std\n\nrule kept(p) {{\n    title \"t\" severity info\n    \
                 when {{\n        holding(holder: p, until: u)\n        u = {date}\n    }}\n}}\n"
            ),
        );
        for dialect in DIALECTS {
            let (code, text) = compile(&file, dialect);
            assert_eq!(code, 2, "{dialect} {date}: {text}");
            assert!(
                text.contains(&format!(
                    "the date `{date}`, on or beyond the dates that stand for open ends"
                )),
                "{dialect} {date}: {text}"
            );
        }
    }
    // The four comparisons whose SQL answer is the native one compile, a constant on
    // either side; the others stay rejected.
    for (name, cond, ok) in [
        ("lt_last", "u < 9999-12-31", true),
        ("ge_last", "9999-12-31 <= u", true),
        ("gt_first", "u > 0001-01-01", true),
        ("le_first", "0001-01-01 >= u", true),
        ("gt_last", "u > 9999-12-31", false),
        ("le_last", "u <= 9999-12-31", false),
        ("lt_first", "u < 0001-01-01", false),
    ] {
        let file = rule_file(
            &format!("sentinel_cmp_{name}"),
            &format!(
                "use std\n\nrule kept(p) {{\n    title \"t\" severity info\n    \
                 when {{\n        holding(holder: p, until: u)\n        {cond}\n    }}\n}}\n"
            ),
        );
        for dialect in DIALECTS {
            let (code, text) = compile(&file, dialect);
            assert_eq!(code, if ok { 0 } else { 2 }, "{dialect} `{cond}`: {text}");
        }
    }
    let inside = rule_file(
        "sentinel_inside",
        "use std\n\nrule kept(p) {\n    title \"t\" severity info\n    \
         when {\n        holding(holder: p, until: u)\n        u > 0001-01-02\n        u < 9999-12-30\n    }\n}\n",
    );
    for dialect in DIALECTS {
        let (code, text) = compile(&inside, dialect);
        assert_eq!(code, 0, "{dialect}: {text}");
    }
}
