//! `same_as` merging, and several cases loaded into one fact set.

use crate::facts::FactSet;

use super::super::load_case;
use super::{CASE_TOML, PEOPLE, folder, ok, problems, program, tuples};

#[test]
fn case_same_as_merges_to_the_smallest_id() {
    let data = "[[person]]\nid = \"robert\"\nname = \"Robert Smith\"\n\n\
        [[same_as]]\na = \"robert\"\nb = \"bob\"\n\n\
        [[role]]\nperson = \"robert\"\norg = \"acme\"\n";
    let (case, facts) = ok(&[("people.toml", PEOPLE), ("more.toml", data)]);
    assert_eq!(case.canonical("robert"), "bob");
    assert_eq!(case.canonical("ann"), "ann");
    assert_eq!(tuples(&facts, "role"), vec!["bob,acme,none,-inf,+inf"]);
    assert_eq!(tuples(&facts, "same_as"), vec!["robert,bob"]);
    assert!(tuples(&facts, "person").contains(&"bob,Robert Smith,none".to_string()));
    let bob = case
        .entities
        .get("bob")
        .map(|e| (e.name.clone(), e.aliases.clone()));
    let aliases = vec!["Robert".to_string(), "Bobby".into(), "Robert Smith".into()];
    assert_eq!(bob, Some(("Bob".to_string(), aliases)));
    assert!(!case.entities.contains_key("robert"));
}

#[test]
fn case_same_as_chains_and_kinds() {
    let data = "[[same_as]]\na = \"bob\"\nb = \"ann\"\n\n[[same_as]]\na = \"acme\"\nb = \"ann\"\n";
    let got = problems(&[("people.toml", PEOPLE), ("s.toml", data)]);
    assert_eq!(got.len(), 1);
    assert_eq!((got[0].0.as_str(), got[0].2), ("wrong_kind", 5));
    let data = "[[person]]\nid = \"cy\"\nname = \"C\"\n[[same_as]]\na = \"cy\"\nb = \"bob\"\n\
        [[same_as]]\na = \"bob\"\nb = \"ann\"\n";
    let (case, _) = ok(&[("people.toml", PEOPLE), ("s.toml", data)]);
    assert_eq!(
        (case.canonical("cy"), case.canonical("bob")),
        ("ann", "ann")
    );
}

#[test]
fn case_two_cases_share_entities_but_not_ids() {
    let program = program();
    let mut facts = FactSet::new(&program);
    let first = folder(&[("case.toml", CASE_TOML), ("people.toml", PEOPLE)]);
    assert!(load_case(&first, &program, &mut facts).is_ok());
    let roles = "[[role]]\nperson = \"ann\"\norg = \"acme\"\n";
    let second = folder(&[("case.toml", CASE_TOML), ("roles.toml", roles)]);
    assert!(load_case(&second, &program, &mut facts).is_ok());
    assert_eq!(tuples(&facts, "role").len(), 1);
    let dup = "[[person]]\nid = \"ann\"\nname = \"Ann again\"\n";
    let third = folder(&[("case.toml", CASE_TOML), ("people.toml", dup)]);
    let errs = load_case(&third, &program, &mut facts)
        .err()
        .unwrap_or_default();
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].code, "probity::case::duplicate_id");
    let note = errs[0]
        .notes
        .first()
        .map(|(p, _)| format!("{p:?}"))
        .unwrap_or_default();
    assert!(
        note.contains("line: 1") && note.contains("[[person]]"),
        "{note}"
    );
}
