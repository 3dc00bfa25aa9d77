//! One test per error code, each with a minimal input, checking code, place and message.

use crate::diag::Place;
use crate::facts::FactSet;

use super::super::load_case;
use super::{CASE_TOML, PEOPLE, folder, load, problems, program};

type P = (String, String, u32, u32, String);

fn p(code: &str, file: &str, line: u32, col: u32, msg: &str) -> P {
    (code.into(), file.into(), line, col, msg.into())
}

fn one(files: &[(&str, &str)]) -> P {
    let mut all = problems(files);
    assert_eq!(all.len(), 1, "{all:#?}");
    all.remove(0)
}

/// The problems of loading folder `dir` (summarised), and the fact set after.
fn problems_in(dir: &std::path::Path) -> (Vec<P>, FactSet) {
    let program = program();
    let mut facts = FactSet::new(&program);
    let got = load_case(dir, &program, &mut facts)
        .err()
        .unwrap_or_default();
    (got.iter().map(super::summary).collect(), facts)
}

#[test]
fn case_error_unknown_relation() {
    let got = one(&[("x.toml", "[[persn]]\nid = \"a\"\n")]);
    assert_eq!(
        got,
        p(
            "unknown_relation",
            "x.toml",
            1,
            3,
            "unknown relation `persn`"
        )
    );
    let got = one(&[("rol.csv", "person,org\n")]);
    assert_eq!(
        got,
        p(
            "unknown_relation",
            "rol.csv",
            0,
            0,
            "unknown relation `rol`"
        )
    );
    let d = load(&[("rol.csv", "person,org\n")])
        .0
        .err()
        .unwrap_or_default();
    assert_eq!(d[0].help.as_deref(), Some("did you mean `role`?"));
}

#[test]
fn case_error_derived_relation() {
    let got = one(&[("x.toml", "[[linked]]\na = \"x\"\n")]);
    assert_eq!(got.0, "derived_relation");
    let got = one(&[("revolving_door.csv", "a,b\n")]);
    assert_eq!(
        got.4,
        "`revolving_door` is the findings of a rule; its facts are computed, not given"
    );
}

#[test]
fn case_error_unknown_field() {
    let got = one(&[(
        "x.toml",
        "[[person]]\nid = \"a\"\nname = \"A\"\nnmae = \"B\"\n",
    )]);
    assert_eq!(
        got,
        p(
            "unknown_field",
            "x.toml",
            4,
            1,
            "`person` has no field `nmae`"
        )
    );
    let got = one(&[("person.csv", "id,name,alias\n")]);
    assert_eq!(
        got,
        p(
            "unknown_field",
            "person.csv",
            1,
            9,
            "`person` has no field `alias`"
        )
    );
}

#[test]
fn case_error_missing_field() {
    let got = one(&[("x.toml", "\n[[person]]\nid = \"a\"\n")]);
    assert_eq!(
        got,
        p(
            "missing_field",
            "x.toml",
            2,
            1,
            "`person` fact without `name`"
        )
    );
    let got = one(&[("person.csv", "id\n")]);
    assert_eq!(got.0, "missing_field");
    let got = one(&[("people.toml", PEOPLE), ("person.csv", "id,name\nzed,\n")]);
    assert_eq!(
        got,
        p(
            "missing_field",
            "person.csv",
            2,
            5,
            "`person` fact without `name`"
        )
    );
    let got = one(&[
        ("people.toml", PEOPLE),
        (
            "m.toml",
            "[[meeting]]\nid = \"m\"\non = \"2025\"\nattendees = []\n",
        ),
    ]);
    assert_eq!(got.0, "missing_field");
    assert_eq!(got.2, 4);
    let got = one(&[("case.toml", "[case]\ndescription = \"d\"\n")]);
    assert_eq!(
        got,
        p(
            "missing_field",
            "case.toml",
            1,
            1,
            "`case` fact without `title`"
        )
    );
}

#[test]
fn case_error_wrong_type() {
    let data = "[[holding]]\nholder = \"ann\"\nasset = \"acme\"\npct = \"thirty\"\n";
    let got = one(&[("people.toml", PEOPLE), ("h.toml", data)]);
    assert_eq!(
        got,
        p(
            "wrong_type",
            "h.toml",
            4,
            7,
            "`pct` expects a number, found text `thirty`"
        )
    );
    let got = one(&[("misc.csv", "flag\nyes\n")]);
    assert_eq!(
        got,
        p(
            "wrong_type",
            "misc.csv",
            2,
            1,
            "`flag` expects `true` or `false`, found `yes`"
        )
    );
    let got = one(&[("x.toml", "[[misc]]\nn = [1, 2]\n")]);
    assert_eq!(got.4, "`n` expects a number, found a list");
}

#[test]
fn case_error_bad_date() {
    let data =
        "[[role]]\nperson = \"ann\"\norg = \"acme\"\nfrom = \"2025-02-30\"\nuntil = \"2025-13\"\n";
    let got = problems(&[("people.toml", PEOPLE), ("r.toml", data)]);
    assert_eq!(got.len(), 2);
    assert_eq!(
        got[0],
        p(
            "bad_date",
            "r.toml",
            4,
            8,
            "bad date `2025-02-30`: that day does not exist in that month"
        )
    );
    assert_eq!(
        got[1].4,
        "bad date `2025-13`: the month must be between 01 and 12"
    );
    let got = one(&[
        ("people.toml", PEOPLE),
        (
            "r.toml",
            "[[role]]\nperson = \"ann\"\norg = \"acme\"\nfrom = 2025-01-01T10:00:00\n",
        ),
    ]);
    assert_eq!(got.0, "bad_date");
}

#[test]
fn case_error_bad_number() {
    let got = one(&[("misc.csv", "n,wait\n\"12,5\",\n")]);
    assert_eq!(got, p("bad_number", "misc.csv", 2, 1, "bad number `12,5`"));
    let got = one(&[("misc.csv", "n,wait\n,3 months\n")]);
    assert_eq!(
        got,
        p("bad_number", "misc.csv", 2, 2, "bad duration `3 months`")
    );
}

#[test]
fn case_error_duplicate_id() {
    let dup = "[[org]]\nid = \"ann\"\nname = \"Ann Ltd\"\n";
    let all = load(&[("people.toml", PEOPLE), ("q.toml", dup)])
        .0
        .err()
        .unwrap_or_default();
    assert_eq!(all.len(), 1);
    assert_eq!(
        super::summary(&all[0]),
        p(
            "duplicate_id",
            "q.toml",
            2,
            6,
            "entity id `ann` is defined twice"
        )
    );
    let Some((Place::Point { path, line, .. }, msg)) = all[0].notes.first() else {
        panic!("no note: {all:?}");
    };
    assert!(path.ends_with("people.toml") && *line == 2 && msg == "first defined here");
    let got = one(&[
        ("people.toml", PEOPLE),
        ("person.csv", "name,id\nX,zed\nY,\"bob\"\n"),
    ]);
    assert_eq!(
        got,
        p(
            "duplicate_id",
            "person.csv",
            3,
            3,
            "entity id `bob` is defined twice"
        )
    );
}

#[test]
fn case_error_unknown_entity_and_wrong_kind() {
    let data = "[[role]]\nperson = \"anne\"\norg = \"acme\"\n\n[[role]]\nperson = \"acme\"\norg = \"acme\"\n";
    let got = problems(&[("people.toml", PEOPLE), ("r.toml", data)]);
    assert_eq!(
        got[0],
        p("unknown_entity", "r.toml", 2, 10, "unknown entity `anne`")
    );
    assert_eq!(
        got[1],
        p(
            "wrong_kind",
            "r.toml",
            6,
            10,
            "`acme` is of kind `org`, but a `person` id is expected"
        )
    );
}

#[test]
fn case_error_unknown_source_and_bad_status() {
    let data =
        "[[person]]\nid = \"x\"\nname = \"X\"\nsource = [\"ft\", \"bcc\"]\nstatus = \"rumoured\"\n";
    let got = problems(&[("p.toml", data)]);
    assert_eq!(
        got[0],
        p("unknown_source", "p.toml", 4, 17, "unknown source `bcc`")
    );
    assert_eq!(
        got[1],
        p("bad_status", "p.toml", 5, 10, "unknown status `rumoured`")
    );
    let got = one(&[("person.csv", "id,name,source\nx,X,ft;nyt\n")]);
    assert_eq!(
        got,
        p("unknown_source", "person.csv", 2, 5, "unknown source `nyt`")
    );
}

#[test]
fn case_error_missing_case_toml_and_not_a_directory() {
    let dir = folder(&[("people.toml", PEOPLE)]);
    let program = program();
    let mut facts = FactSet::new(&program);
    let got = load_case(&dir, &program, &mut facts)
        .err()
        .unwrap_or_default();
    assert_eq!(got[0].code, "probity::case::missing_case_toml");
    let got = load_case(&dir.join("people.toml"), &program, &mut facts)
        .err()
        .unwrap_or_default();
    assert_eq!(got[0].code, "probity::case::not_a_directory");
}

#[test]
fn case_error_bad_toml() {
    let got = one(&[("x.toml", "[[person]]\nid = \"a\"\nname = \n")]);
    assert_eq!((got.0.as_str(), got.2), ("bad_toml", 3));
    let got = one(&[("x.toml", "person = 3\n")]);
    assert_eq!(got.4, "`person` is a single value, not a list of facts");
    let got = one(&[("x.toml", "[person]\nid = \"a\"\n")]);
    assert_eq!(got.4, "`person` is a table, not a list of facts");
}

#[test]
fn case_error_bad_csv() {
    let got = one(&[("person.csv", "id,name\n\"x,X\n")]);
    assert_eq!(
        got,
        p(
            "bad_csv",
            "person.csv",
            2,
            1,
            "malformed CSV: a quoted field is never closed"
        )
    );
    let got = one(&[("person.csv", "id,name\nx,X,extra\n")]);
    assert_eq!(
        got,
        p(
            "bad_csv",
            "person.csv",
            2,
            5,
            "malformed CSV: this row has more fields than the header's 2"
        )
    );
}

#[test]
fn case_error_unreadable_file_and_invalid_utf8() {
    let dir = folder(&[("case.toml", CASE_TOML), ("p.toml", "")]);
    let _ = std::fs::write(
        dir.join("p.toml"),
        b"[[person]]\nid = \"a\"\nname = \"\xff\"\n",
    );
    #[cfg(unix)]
    let _ = std::os::unix::fs::symlink(dir.join("gone"), dir.join("q.toml"));
    let (got, _) = problems_in(&dir);
    assert_eq!(
        got[0],
        p(
            "invalid_utf8",
            "p.toml",
            3,
            9,
            "the file is not valid UTF-8"
        )
    );
    #[cfg(unix)]
    assert_eq!(got[1].0, "unreadable_file");
}

#[test]
fn case_errors_from_all_files_are_sorted_and_facts_untouched() {
    let (res, facts) = load(&[
        ("b.toml", "[[org]]\nid = 3\n"),
        ("a.toml", "[[persn]]\n"),
        ("people.toml", PEOPLE),
    ]);
    let got: Vec<_> = res
        .err()
        .unwrap_or_default()
        .iter()
        .map(super::summary)
        .collect();
    let files: Vec<&str> = got.iter().map(|g| g.1.as_str()).collect();
    assert_eq!(files, vec!["a.toml", "b.toml", "b.toml"]);
    assert!(facts.is_empty());
}

/// A large entity file is read in pieces on several threads: ids defined twice across
/// pieces are still found, in file order, with the first definition's line.
#[test]
fn case_error_duplicate_ids_across_the_pieces_of_a_large_file() {
    let n = 400_000u32; // about 11 MB: three pieces
    let mut people = String::from("id,name\n");
    for i in 0..n {
        people.push_str(&format!("p{i},Person number {i}\n"));
    }
    people.push_str("p7,Again\n");
    people.push_str(&format!("p{},Once more\n", n - 1));
    let (loaded, _) = load(&[("person.csv", &people)]);
    let all = loaded.err().unwrap_or_default();
    let got: Vec<_> = all.iter().map(super::summary).collect();
    let dup = |line, id: &str| {
        let msg = format!("entity id `{id}` is defined twice");
        p("duplicate_id", "person.csv", line, 1, &msg)
    };
    assert_eq!(
        got,
        vec![dup(n + 2, "p7"), dup(n + 3, &format!("p{}", n - 1))]
    );
    let first: Vec<u32> = all
        .iter()
        .filter_map(|d| match d.notes.first() {
            Some((Place::Point { line, .. }, _)) => Some(*line),
            _ => None,
        })
        .collect();
    assert_eq!(first, vec![9, n + 1]);
}

/// An id whose number was too far for the array when first defined is kept apart; a
/// second definition in a later piece, when the array could hold it, is still found.
#[test]
fn case_error_duplicate_of_a_far_numbered_id_in_a_later_piece() {
    let n = 400_000u32;
    let mut people = String::from("id,name\np900000,Far\n");
    for i in 0..n {
        people.push_str(&format!("p{i},Person number {i}\n"));
    }
    people.push_str("p900000,Again\n");
    let (loaded, _) = load(&[("person.csv", &people)]);
    let all = loaded.err().unwrap_or_default();
    let got: Vec<_> = all.iter().map(super::summary).collect();
    let msg = "entity id `p900000` is defined twice";
    assert_eq!(got, vec![p("duplicate_id", "person.csv", n + 3, 1, msg)]);
    assert!(
        matches!(
            all[0].notes.first(),
            Some((Place::Point { line: 2, .. }, _))
        ),
        "{:?}",
        all[0].notes
    );
}

/// A plain relation's CSV file is read only when its rows are converted: a file that is
/// not UTF-8, or cannot be read, is still reported, with the other files' problems.
#[test]
fn case_error_relation_csv_read_late_is_still_checked() {
    let dir = folder(&[("case.toml", CASE_TOML), ("people.toml", PEOPLE)]);
    let _ = std::fs::write(
        dir.join("role.csv"),
        b"person,org,title\nann,acme,\xffChair\n",
    );
    let _ = std::fs::write(dir.join("associate.csv"), "a,b\nann,nobody\n");
    #[cfg(unix)]
    let _ = std::os::unix::fs::symlink(dir.join("gone"), dir.join("holding.csv"));
    let (got, facts) = problems_in(&dir);
    let codes: Vec<(&str, &str)> = got.iter().map(|p| (p.0.as_str(), p.1.as_str())).collect();
    let mut want = vec![("unknown_entity", "associate.csv")];
    #[cfg(unix)]
    want.push(("unreadable_file", "holding.csv"));
    want.push(("invalid_utf8", "role.csv"));
    assert_eq!(codes, want, "{got:#?}");
    assert_eq!((got[want.len() - 1].2, got[want.len() - 1].3), (2, 10));
    assert!(facts.tuples.iter().all(|t| t.is_empty()), "facts untouched");
}

/// Ids of one prefix and a number are registered by number, their places kept for the
/// piece: a second definition still points at the first one's line and column, also
/// when both are in the same piece and the cells are quoted or padded.
#[test]
fn case_error_duplicate_numbered_ids_point_at_their_first_definition() {
    let people = "name,id\nA,p1\nB, p2\n\nC,\"p3\"\nD,p2\nE,p3\nF,p1\n";
    let (loaded, _) = load(&[("person.csv", people)]);
    let all = loaded.err().unwrap_or_default();
    let got: Vec<(u32, u32, String)> = all
        .iter()
        .map(|d| {
            let s = super::summary(d);
            (s.2, s.3, s.4)
        })
        .collect();
    let msg = |id: &str| format!("entity id `{id}` is defined twice");
    assert_eq!(
        got,
        vec![(6, 3, msg("p2")), (7, 3, msg("p3")), (8, 3, msg("p1"))]
    );
    let firsts: Vec<(u32, u32)> = all
        .iter()
        .filter_map(|d| match d.notes.first() {
            Some((Place::Point { line, col, .. }, _)) => Some((*line, *col)),
            _ => None,
        })
        .collect();
    assert_eq!(firsts, vec![(3, 3), (5, 3), (2, 3)]);
}
