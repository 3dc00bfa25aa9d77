//! Diagnostics from loading and declarations: imports, names, schema, rules, tests, params.

use super::{PRE, all, is, one, rule, run};
use crate::resolve::codes;

#[test]
fn unknown_kind() {
    let g = one(
        "entity person(name: text)\nrelation r(a: persn)",
        "unknown_kind",
    );
    is(
        &g,
        "unknown type `persn`",
        "did you mean `person`?",
        "persn",
    );
}

#[test]
fn duplicate_relation() {
    let g = one(
        &format!("{PRE}\nrelation role(a: text)"),
        "duplicate_relation",
    );
    is(
        &g,
        "relation `role` is declared twice",
        "rename one of them",
        "role",
    );
    assert_eq!(g.notes, ["first declared here"]);
    let g = one(
        &format!("{PRE}\nderive person(x) {{ role(person: x) }}"),
        "duplicate_relation",
    );
    is(
        &g,
        "relation `person` is declared twice",
        "share one namespace",
        "person",
    );
}

#[test]
fn duplicate_field() {
    let g = one("relation r(a: text, a: number)", "duplicate_field");
    is(&g, "field `a` appears twice", "remove one of them", "a");
    let g = one("entity person(id: text)", "duplicate_field");
    is(&g, "field `id` is implicit", "implicit", "id");
    let g = one(
        &rule("role(person: p, person: q, org: o)"),
        "duplicate_field",
    );
    is(&g, "field `person` appears twice", "remove one", "person");
}

#[test]
fn duplicate_param() {
    let g = one("param t = 1\nparam t = 2", "duplicate_param");
    is(&g, "param `t` is declared twice", "remove one of them", "t");
}

#[test]
fn duplicate_rule() {
    let text = format!(
        "{PRE}\nrule r {{ title \"a\" severity low when {{ role(person: p, org: o) }} }}\n\
         rule r {{ title \"b\" severity low when {{ role(person: p, org: o) }} }}"
    );
    let g = one(&text, "duplicate_rule");
    is(
        &g,
        "rule `r` is declared twice",
        "rule names identify findings",
        "r",
    );
    let text = format!("{PRE}\ntest t {{ given {{ person(id: a, name: \"A\") }} }}\ntest t {{ }}");
    let g = one(&text, "duplicate_rule");
    is(&g, "test `t` is declared twice", "rename one of them", "t");
}

#[test]
fn missing_attribute() {
    let text = format!("{PRE}\nrule r {{ when {{ role(person: p, org: o) }} }}");
    let (_, c) = run(&[("r.coi", &text)]);
    let msgs: Vec<&str> = c
        .diagnostics
        .iter()
        .filter(|d| d.code == "probity::resolve::missing_attribute")
        .map(|d| d.message.as_str())
        .collect();
    assert_eq!(
        msgs,
        ["rule `r` has no `title`", "rule `r` has no `severity`"]
    );
    let g = one(
        &format!("{PRE}\nrule r {{ title \"t\" severity low }}"),
        "missing_attribute",
    );
    is(
        &g,
        "rule `r` has no `when`",
        "add a `when { … }` block",
        "r",
    );
}

#[test]
fn unknown_flag_hole() {
    let text = format!(
        "{PRE}\nrule r(p) {{ title \"t\" severity low when {{ role(person: p, org: _) }} flag \"{{q}} did it\" }}"
    );
    let g = one(&text, "unknown_flag_hole");
    is(
        &g,
        "`{q}` is neither a subject of rule `r` nor bound in every `when` block",
        "did you mean `{p}`?",
        "q",
    );
}

#[test]
fn flag_hole_may_name_a_variable_of_every_when_block() {
    let ok = format!(
        "{PRE}\nrule r(p) {{ title \"t\" severity low when {{ role(person: p, org: o) }} when {{ holding(holder: p, asset: o) }} flag \"{{p}} at {{o}}\" }}"
    );
    let (_, checked) = run(&[("a.coi", &ok)]);
    assert!(
        !checked
            .diagnostics
            .iter()
            .any(|d| d.code == codes::UNKNOWN_FLAG_HOLE)
    );
    let only_one = format!(
        "{PRE}\nrule r(p) {{ title \"t\" severity low when {{ role(person: p, org: o) }} when {{ holding(holder: p, asset: _) }} flag \"{{p}} at {{o}}\" }}"
    );
    let g = one(&only_one, "unknown_flag_hole");
    assert_eq!(g.underlined, "o");
}

#[test]
fn invalid_validity() {
    let g = one(
        "relation r(from: text, until: date?) during from..until",
        "invalid_validity",
    );
    is(
        &g,
        "validity field `from` is not a date",
        "`during` and `at` name fields",
        "from",
    );
    let g = one("relation r(on: date) at of", "unknown_field");
    is(&g, "unknown field `of`", "did you mean `on`?", "of");
}

#[test]
fn symmetric_shape() {
    let g = one(
        &format!("{PRE}\nsymmetric relation tie(a: person, b: org)"),
        "symmetric_shape",
    );
    is(
        &g,
        "symmetric relation `tie` swaps `a: person` and `b: org`, which differ",
        "give the first two fields the same type",
        "tie",
    );
}

#[test]
fn import_cycle() {
    let files = [
        ("a.coi", "use \"./b.coi\"\n"),
        ("b.coi", "use \"./a.coi\"\n"),
    ];
    let g = all(&files, "import_cycle");
    assert_eq!(g.len(), 1, "{g:?}");
    is(
        &g[0],
        "import cycle: `a.coi` -> `b.coi` -> `a.coi`",
        "remove one of these `use` lines",
        "use \"./a.coi\"",
    );
}

#[test]
fn missing_import() {
    let g = one("use \"./nope.coi\"", "missing_import");
    is(
        &g,
        "cannot find `nope.coi`",
        "relative to the file",
        "use \"./nope.coi\"",
    );
    let g = one("use std/holding", "missing_import");
    is(
        &g,
        "no standard module `std/holding`",
        "did you mean `std/holdings`?",
        "use std/holding",
    );
}

#[test]
fn imports_load_each_file_once() {
    let files = [
        (
            "rules/a.coi",
            "use \"./lib/v.coi\"\nuse \"lib/v.coi\"\nuse std/roles\n",
        ),
        (
            "rules/lib/v.coi",
            "use std/entities\nrelation v(p: person)\n",
        ),
        ("rules/b.coi", "use \"lib/../lib/v.coi\"\nuse std\n"),
    ];
    let (p, _) = super::clean(&files);
    assert_eq!(p.relations.iter().filter(|r| r.name == "v").count(), 1);
    assert_eq!(p.relations.iter().filter(|r| r.name == "person").count(), 1);
    assert!(
        p.rel_by_name("associate").is_some(),
        "use std loads every module"
    );
}

#[test]
fn unreadable_file() {
    let dir = std::env::temp_dir().join(format!("probity-resolve-{}", std::process::id()));
    let _ = std::fs::create_dir_all(dir.join("std"));
    let bad = dir.join("bad.coi");
    let _ = std::fs::write(&bad, [0x66u8, 0xff, 0xfe]);
    let _ = std::fs::write(dir.join("std").join("skipped.coi"), "not even parsed");
    let mut map = crate::diag::SourceMap::new();
    let c = super::super::load(&mut map, &[dir.clone(), dir.join("missing.coi")]);
    let _ = std::fs::remove_dir_all(&dir);
    let codes: Vec<(&str, &str)> = c
        .diagnostics
        .iter()
        .map(|d| (d.code, d.message.as_str()))
        .collect();
    assert_eq!(codes.len(), 2, "{codes:?}");
    assert!(
        codes
            .iter()
            .all(|(c, _)| *c == "probity::resolve::unreadable_file")
    );
    assert!(
        codes[0].1.contains("is not UTF-8") || codes[1].1.contains("is not UTF-8"),
        "{codes:?}"
    );
    assert!(c.program.is_none());
}

#[test]
fn unknown_param_and_invalid_value() {
    let g = one("param t = 1\nparam u = $tt + 1", "unknown_param");
    is(&g, "unknown param `$tt`", "did you mean `$t`?", "$tt");
    let g = one("param t = 1 / 0", "invalid_value");
    is(
        &g,
        "cannot compute `1` / `0`",
        "division by zero; divide by another number",
        "1 / 0",
    );
    let g = one("param t = x", "param_not_constant");
    is(
        &g,
        "a param's value must be a constant",
        "a bare name is not a value",
        "x",
    );
}

#[test]
fn param_override() {
    let (p, _) = super::clean(&[(
        "r.coi",
        "param cooling = 2y\nparam n = 25\nparam since = 2024-01-01",
    )]);
    let ok =
        super::super::parse_param_override(&p, "cooling=1y").map(|(id, v)| (id.0, v.to_string()));
    assert_eq!(ok, Ok((0, "1y".to_string())));
    let ok = super::super::parse_param_override(&p, "n=12.5").map(|(_, v)| v.to_string());
    assert_eq!(ok, Ok("12.5".to_string()));
    let ok = super::super::parse_param_override(&p, "since=2023-06").map(|(_, v)| v.to_string());
    assert_eq!(ok, Ok("2023-06".to_string()));
    let err = super::super::parse_param_override(&p, "coolng=1y").err();
    assert_eq!(
        err.as_ref().map(|d| d.message.as_str()),
        Some("unknown param `coolng` in `--param coolng=1y`")
    );
    assert_eq!(
        err.and_then(|d| d.help),
        Some("did you mean `--param cooling=1y`?".to_string())
    );
    let err = super::super::parse_param_override(&p, "n=ten").err();
    assert_eq!(
        err.as_ref().map(|d| d.message.as_str()),
        Some("`ten` is not a number for param `n`")
    );
    let err = super::super::parse_param_override(&p, "n").err();
    assert_eq!(err.map(|d| d.code), Some("probity::resolve::invalid_value"));
}
