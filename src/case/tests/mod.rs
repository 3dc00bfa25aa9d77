//! Tests of case loading: a hand-built schema, case folders written to temp dirs.
#![allow(clippy::panic, reason = "tests fail by panicking")]

mod csv_files;
mod errors;
mod merge;

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::diag::{Diagnostic, Place, Span};
use crate::facts::FactSet;
use crate::ir::{
    EntityKind, Field, KindId, Program, RelId, RelKind, Relation, RuleId, Type, Validity,
};
use crate::value::{Date, Decimal, Status, Value};

use super::{Case, load_case};

fn field(name: &str, ty: Type, optional: bool, list: bool) -> Field {
    Field {
        name: name.into(),
        ty,
        optional,
        list,
    }
}

fn rel(name: &str, kind: RelKind, fields: Vec<Field>) -> Relation {
    Relation {
        name: name.into(),
        kind,
        fields,
        symmetric: false,
        validity: None,
        span: Span::default(),
    }
}

/// person, org, role, holding, meeting, associate, same_as, misc, and two computed ones.
pub(super) fn program() -> Program {
    let (p, o) = (KindId(0), KindId(1));
    let person = Type::Entity(vec![p]);
    let org = Type::Entity(vec![o]);
    let either = Type::Entity(vec![p, o]);
    let date = |n: &str| field(n, Type::Date, true, false);
    let mut role = rel(
        "role",
        RelKind::Base,
        vec![
            field("person", person.clone(), false, false),
            field("org", org.clone(), false, false),
            field("title", Type::Text, true, false),
            date("from"),
            date("until"),
        ],
    );
    role.validity = Some(Validity::During { from: 3, until: 4 });
    let mut holding = rel(
        "holding",
        RelKind::Base,
        vec![
            field("holder", either.clone(), false, false),
            field("asset", org.clone(), false, false),
            field("pct", Type::Number, true, false),
            date("from"),
            date("until"),
        ],
    );
    holding.validity = Some(Validity::During { from: 3, until: 4 });
    let mut meeting = rel(
        "meeting",
        RelKind::Base,
        vec![
            field("id", Type::Text, false, false),
            field("on", Type::Date, false, false),
            field("attendees", either.clone(), false, true),
        ],
    );
    meeting.validity = Some(Validity::At(1));
    let pair = || {
        vec![
            field("a", either.clone(), false, false),
            field("b", either.clone(), false, false),
        ]
    };
    let mut associate = rel("associate", RelKind::Base, pair());
    associate.symmetric = true;
    let relations = vec![
        rel(
            "person",
            RelKind::Entity(p),
            vec![
                field("id", person.clone(), false, false),
                field("name", Type::Text, false, false),
                field("aliases", Type::Text, true, true),
            ],
        ),
        rel(
            "org",
            RelKind::Entity(o),
            vec![
                field("id", org.clone(), false, false),
                field("name", Type::Text, false, false),
                field("kind", Type::Text, true, false),
            ],
        ),
        role,
        holding,
        meeting,
        associate,
        rel("same_as", RelKind::Base, pair()),
        rel(
            "misc",
            RelKind::Base,
            vec![
                field("flag", Type::Bool, true, false),
                field("wait", Type::Duration, true, false),
                field("n", Type::Number, true, false),
            ],
        ),
        rel("linked", RelKind::Derived, pair()),
        rel("revolving_door", RelKind::Rule(RuleId(0)), pair()),
    ];
    let kind = |name: &str, r: u32| EntityKind {
        name: name.into(),
        rel: RelId(r),
        span: Span::default(),
    };
    Program {
        kinds: vec![kind("person", 0), kind("org", 1)],
        relations,
        ..Program::default()
    }
}

pub(super) const CASE_TOML: &str = "[case]\ntitle = \"T\"\nas_of = \"2025-02\"\n\n\
    [[source]]\nid = \"ft\"\ntitle = \"FT\"\npublished = 2025-01-15\n\n[[source]]\nid = \"bbc\"\n";

pub(super) const PEOPLE: &str = "[[person]]\nid = \"ann\"\nname = \"Ann\"\n\n\
    [[person]]\nid = \"bob\"\nname = \"Bob\"\naliases = [\"Robert\", \"Bobby\"]\n\n\
    [[org]]\nid = \"acme\"\nname = \"Acme\"\n";

/// A fresh folder under the temp dir holding `files`.
pub(super) fn folder(files: &[(&str, &str)]) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("probity-case-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::create_dir_all(&dir);
    for (name, text) in files {
        let _ = std::fs::write(dir.join(name), text);
    }
    dir
}

/// Loads `files` (plus a standard `case.toml` unless given) into a fresh fact set.
pub(super) fn load(files: &[(&str, &str)]) -> (Result<Case, Vec<Diagnostic>>, FactSet) {
    let mut all: Vec<(&str, &str)> = files.to_vec();
    if !files.iter().any(|(n, _)| *n == "case.toml") {
        all.push(("case.toml", CASE_TOML));
    }
    let dir = folder(&all);
    let program = program();
    let mut facts = FactSet::new(&program);
    let res = load_case(&dir, &program, &mut facts);
    (res, facts)
}

/// The loaded case, or the rendered problems as a failure.
pub(super) fn ok(files: &[(&str, &str)]) -> (Case, FactSet) {
    match load(files) {
        (Ok(case), facts) => (case, facts),
        (Err(ds), _) => panic!("unexpected errors: {ds:#?}"),
    }
}

/// `(code, file name, line, col, message)` of each problem.
pub(super) fn problems(files: &[(&str, &str)]) -> Vec<(String, String, u32, u32, String)> {
    match load(files).0 {
        Ok(_) => Vec::new(),
        Err(ds) => ds.iter().map(summary).collect(),
    }
}

pub(super) fn summary(d: &Diagnostic) -> (String, String, u32, u32, String) {
    let code = d.code.trim_start_matches("probity::case::").to_string();
    let name = |p: &str| p.rsplit('/').next().unwrap_or("").to_string();
    match &d.place {
        Some(Place::Point {
            path, line, col, ..
        }) => (code, name(path), *line, *col, d.message.clone()),
        Some(Place::File(p)) => (code, name(p), 0, 0, d.message.clone()),
        _ => (code, String::new(), 0, 0, d.message.clone()),
    }
}

/// The tuples of relation `name`, as display strings.
pub(super) fn tuples(facts: &FactSet, name: &str) -> Vec<String> {
    let program = program();
    let Some(rel) = program.rel_by_name(name) else {
        return Vec::new();
    };
    facts
        .rows(rel.0 as usize)
        .map(|(t, _)| {
            t.iter()
                .map(|v| v.to_string())
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect()
}

#[test]
fn case_loads_manifest_entities_and_relations() {
    let roles = "[[role]]\nperson = \"ann\"\norg = \"acme\"\ntitle = \"CEO\"\nfrom = \"2020\"\n\
        source = [\"ft\", \"bbc\"]\nstatus = \"confirmed\"\nnote = \"per filing\"\n";
    let (case, facts) = ok(&[("people.toml", PEOPLE), ("roles.toml", roles)]);
    assert_eq!(case.title, "T");
    assert_eq!(case.as_of, Date::parse("2025-02").ok());
    assert_eq!(case.sources.len(), 2);
    assert_eq!(case.sources[0].published, Some(Date::day(2025, 1, 15)));
    assert_eq!(tuples(&facts, "role"), vec!["ann,acme,CEO,2020,+inf"]);
    assert_eq!(
        tuples(&facts, "person"),
        vec!["ann,Ann,none", "bob,Bob,Robert", "bob,Bob,Bobby"]
    );
    let (t, o) = facts.tuples[2].get(0).expect("a role");
    assert_eq!(facts.value(t[0]), &Value::entity("ann"));
    let origin = facts.origin(o);
    assert!(origin.file.ends_with("/roles.toml"), "{}", origin.file);
    assert_eq!(origin.line, 1);
    assert_eq!(origin.status, Status::Confirmed);
    assert_eq!(
        origin.sources.iter().map(|s| &**s).collect::<Vec<_>>(),
        vec!["ft", "bbc"]
    );
    assert_eq!(origin.note.as_deref(), Some("per filing"));
    let bob = case
        .entities
        .get("bob")
        .map(|e| (e.kind.as_str(), e.name.as_str(), e.aliases.len()));
    assert_eq!(bob, Some(("person", "Bob", 2)));
    assert_eq!(case.files.len(), 2);
}

#[test]
fn case_origins_record_header_lines_and_default_status() {
    let (_, facts) = ok(&[("people.toml", PEOPLE)]);
    let lines: Vec<(u32, Status)> = facts.tuples[0]
        .iter()
        .map(|(_, o)| (facts.origin(o).line, facts.origin(o).status))
        .collect();
    assert_eq!(
        lines,
        vec![
            (1, Status::Reported),
            (5, Status::Reported),
            (5, Status::Reported)
        ]
    );
    assert_eq!(
        facts.origin(facts.tuples[1].get(0).expect("a fact").1).line,
        10
    );
}

#[test]
fn case_toml_dates_numbers_lists_and_open_ends() {
    let data = "[[holding]]\nholder = \"bob\"\nasset = \"acme\"\npct = 12.5\nfrom = 2024-03-01\n\n\
        [[holding]]\nholder = \"acme\"\nasset = \"acme\"\npct = 1e2\nuntil = \"2025-01\"\n\n\
        [[meeting]]\nid = \"m1\"\non = \"2025-01\"\nattendees = [\"ann\", \"acme\"]\n\n\
        [[associate]]\na = \"ann\"\nb = \"bob\"\n\n\
        [[misc]]\nflag = true\nwait = \"90d\"\nn = 0x10\n";
    let (_, facts) = ok(&[("people.toml", PEOPLE), ("data.toml", data)]);
    assert_eq!(
        tuples(&facts, "holding"),
        vec![
            "bob,acme,12.5,2024-03-01,+inf",
            "acme,acme,100,-inf,2025-01"
        ]
    );
    assert_eq!(
        tuples(&facts, "meeting"),
        vec!["m1,2025-01,ann", "m1,2025-01,acme"]
    );
    assert_eq!(tuples(&facts, "associate"), vec!["bob,ann", "ann,bob"]);
    assert_eq!(tuples(&facts, "misc"), vec!["true,90d,16"]);
    let pct = &facts.tuples[3].get(0).expect("a fact").0[2];
    assert_eq!(facts.value(*pct), &Value::Number(Decimal(12_500_000_000)));
}

#[test]
fn case_accepts_one_value_for_a_list_and_empty_optional_list() {
    let data = "[[meeting]]\nid = \"m\"\non = 2025-01-02\nattendees = \"ann\"\n\n\
        [[person]]\nid = \"cy\"\nname = \"Cy\"\naliases = []\n";
    let (_, facts) = ok(&[("people.toml", PEOPLE), ("data.toml", data)]);
    assert_eq!(tuples(&facts, "meeting"), vec!["m,2025-01-02,ann"]);
    assert!(tuples(&facts, "person").contains(&"cy,Cy,none".to_string()));
}

#[test]
fn case_ignores_other_files_and_warns_about_subfolders() {
    let dir = folder(&[
        ("case.toml", CASE_TOML),
        ("README.md", "# notes"),
        (".hidden.toml", "x"),
    ]);
    let _ = std::fs::create_dir_all(dir.join("data"));
    let _ = std::fs::write(dir.join("data/more.csv"), "a\n");
    let program = program();
    let mut facts = FactSet::new(&program);
    let case = load_case(&dir, &program, &mut facts).map_err(|d| format!("{d:?}"));
    let warnings: Vec<_> = case
        .iter()
        .flat_map(|c| c.warnings.iter().map(summary))
        .collect();
    assert_eq!(warnings.len(), 1);
    assert_eq!(warnings[0].0, "ignored_folder");
    assert!(facts.is_empty());
}
