//! CSV case files: BOM, CRLF, quoted line breaks, lists, meta columns, row lines.

use crate::value::Status;

use super::{PEOPLE, ok, tuples};

#[test]
fn case_csv_bom_crlf_quotes_and_line_numbers() {
    let people = "\u{feff}id,name,aliases,source,status,note,\r\n\
        ann,Ann,,ft,confirmed,,\r\n\
        bob,\"Bob \"\"B\"\" Smith\",Robert; Bobby,ft;bbc,,\"two\r\nlines\",\r\n\
        \r\n\
        cy,\"Cy, Jr\",,,alleged,,\r\n";
    let (case, facts) = ok(&[("person.csv", people)]);
    assert_eq!(
        tuples(&facts, "person"),
        vec![
            "ann,Ann,none",
            "bob,Bob \"B\" Smith,Robert",
            "bob,Bob \"B\" Smith,Bobby",
            "cy,Cy, Jr,none"
        ]
    );
    let origins: Vec<_> = facts.tuples[0]
        .iter()
        .map(|(_, o)| facts.origin(*o))
        .collect();
    let lines: Vec<u32> = origins.iter().map(|o| o.line).collect();
    assert_eq!(lines, vec![2, 3, 3, 6]);
    assert_eq!(origins[0].status, Status::Confirmed);
    assert_eq!(origins[1].sources.len(), 2);
    assert_eq!(origins[1].note.as_deref(), Some("two\r\nlines"));
    assert_eq!(origins[3].status, Status::Alleged);
    assert_eq!(
        case.entities.get("bob").map(|e| e.aliases.clone()),
        Some(vec!["Robert".into(), "Bobby".into()])
    );
}

#[test]
fn case_csv_relations_with_open_ends_and_lists() {
    let roles = "person,org,title,from,until\nann,acme,,2020-05,\nbob,acme,\"Chair\",,2024\n";
    let meetings = "id,on,attendees\nm1,2025-01-02,ann;acme\n";
    let (_, facts) = ok(&[
        ("people.toml", PEOPLE),
        ("role.csv", roles),
        ("meeting.csv", meetings),
    ]);
    assert_eq!(
        tuples(&facts, "role"),
        vec!["ann,acme,none,2020-05,+inf", "bob,acme,Chair,-inf,2024"]
    );
    assert_eq!(
        tuples(&facts, "meeting"),
        vec!["m1,2025-01-02,ann", "m1,2025-01-02,acme"]
    );
}

#[test]
fn case_csv_entities_may_be_referenced_from_toml_and_csv() {
    let orgs = "id,name,kind\nacme,Acme,firm\n";
    let people = "id,name\nann,Ann\n";
    let roles = "[[role]]\nperson = \"ann\"\norg = \"acme\"\n";
    let (case, facts) = ok(&[
        ("org.csv", orgs),
        ("person.csv", people),
        ("roles.toml", roles),
    ]);
    assert_eq!(tuples(&facts, "role"), vec!["ann,acme,none,-inf,+inf"]);
    assert_eq!(case.files.iter().filter(|f| f.ends_with(".csv")).count(), 2);
}
