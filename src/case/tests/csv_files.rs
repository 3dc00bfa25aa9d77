//! CSV case files: BOM, CRLF, quoted line breaks, lists, meta columns, row lines.

use crate::value::Status;

use super::{PEOPLE, ok, problems, program, tuples};

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
        .map(|(_, o)| facts.origin(o))
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
fn case_csv_repeated_cells_convert_as_their_first() {
    // Days in and out of the day table's years, repeated; titles repeated; a day that
    // fills the slot arithmetic's corners (31st of December, 1st of January).
    let mut roles = String::from("person,org,title,from,until\n");
    for i in 0..3 {
        roles += &format!("ann,acme,Chair,1799-12-31,2020-02-29\nbob,acme,Chair{i},2200-01-01,\n");
        roles += "ann,acme,  Chair ,1800-01-01,2199-12-31\nbob,acme,,2021-01-01,2020-12-31\nbob,acme,,2021-01-21,2020-02-01\n";
    }
    let (_, facts) = ok(&[("people.toml", PEOPLE), ("role.csv", &roles)]);
    let want = vec![
        "ann,acme,Chair,1799-12-31,2020-02-29",
        "ann,acme,Chair,1800-01-01,2199-12-31",
        "bob,acme,Chair0,2200-01-01,+inf",
        "bob,acme,Chair1,2200-01-01,+inf",
        "bob,acme,Chair2,2200-01-01,+inf",
        "bob,acme,none,2021-01-01,2020-12-31",
        "bob,acme,none,2021-01-21,2020-02-01",
    ];
    let mut got = tuples(&facts, "role");
    got.sort();
    got.dedup();
    assert_eq!(got, want);
}

#[test]
fn case_csv_a_bad_day_after_good_ones_of_its_column_is_an_error() {
    let roles = "person,org,title,from,until\n\
        ann,acme,,2020-01-31,2021-01-01\n\
        ann,acme,,2020-02-31,\n\
        ann,acme,,2020-13-01,\n\
        ann,acme,,2020-00-10,\n\
        ann,acme,,2020-01-31,2021-01-00\n";
    let got = problems(&[("people.toml", PEOPLE), ("role.csv", roles)]);
    let lines: Vec<(String, u32)> = got.iter().map(|p| (p.0.clone(), p.2)).collect();
    let bad = |line| ("bad_date".to_string(), line);
    assert_eq!(lines, vec![bad(3), bad(4), bad(5), bad(6)], "{got:#?}");
}

#[test]
fn case_csv_symmetric_rows_give_both_directions_with_their_line() {
    let pairs = "a,b\nann,bob\nann,ann\nacme,bob\n";
    let toml = "[[associate]]\na = \"bob\"\nb = \"acme\"\n";
    let (_, facts) = ok(&[
        ("people.toml", PEOPLE),
        ("associate.csv", pairs),
        ("z.toml", toml),
    ]);
    assert_eq!(
        tuples(&facts, "associate"),
        vec![
            "bob,ann", "ann,bob", "ann,ann", "bob,acme", "acme,bob", "acme,bob", "bob,acme"
        ]
    );
    let rel = program()
        .rel_by_name("associate")
        .map_or(0, |r| r.0 as usize);
    let lines: Vec<u32> = facts.rows(rel).map(|(_, o)| facts.origin(o).line).collect();
    assert_eq!(lines, vec![2, 2, 3, 4, 4, 1, 1]);
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
    // Entities of CSV files are shown like any other: kind, name, origin.
    let ann = case.entity("ann").expect("ann is defined");
    assert_eq!((ann.kind.as_str(), ann.name.as_str()), ("person", "Ann"));
    assert_eq!(facts.origin(ann.origin).line, 2);
    assert!(facts.origin(ann.origin).file.ends_with("person.csv"));
    assert_eq!(case.entity_name("acme").as_deref(), Some("Acme"));
    assert_eq!(case.entity("bob"), None);
    let all: Vec<String> = case.all_entities().keys().map(|k| k.to_string()).collect();
    assert_eq!(all, vec!["acme", "ann"]);
}

#[test]
fn case_hostile_toml_nesting_does_not_overflow() {
    let deep = format!("x = {}1{}\n", "[".repeat(100_000), "]".repeat(100_000));
    let got = super::problems(&[("deep.toml", &deep)]);
    assert!(!got.is_empty());
}

/// Times a large CSV load: `cargo test --release --lib case_csv_bulk -- --ignored --nocapture`.
#[test]
#[ignore]
fn case_csv_bulk_load_timing() {
    use std::fmt::Write;
    let n: usize = std::env::var("ROWS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let mut people = String::from("id,name\n");
    let mut holdings = String::from("holder,asset,pct,from,until,source\n");
    for i in 0..n / 10 {
        let _ = writeln!(people, "p{i},Person number {i}");
    }
    for i in 0..n {
        let _ = writeln!(
            holdings,
            "p{},acme,{}.5,2020-01-{:02},,ft",
            i % (n / 10),
            i % 100,
            1 + i % 28
        );
    }
    let dir = super::folder(&[
        ("case.toml", super::CASE_TOML),
        ("org.csv", "id,name\nacme,Acme\n"),
        ("person.csv", &people),
        ("holding.csv", &holdings),
    ]);
    let program = super::program();
    let mut facts = crate::facts::FactSet::new(&program);
    let t = std::time::Instant::now();
    let res = super::super::load_case(&dir, &program, &mut facts);
    eprintln!(
        "{} rows, {} MB: {:?}, ok={}",
        n,
        holdings.len() >> 20,
        t.elapsed(),
        res.is_ok()
    );
    assert_eq!(facts.tuples[3].len(), n);
}

/// With `only_read`, a plain relation no clause reads is not loaded (and listed as
/// unread), and an entity file no clause reads is loaded for its ids alone: references
/// to its ids are still checked, and its entities still show their names.
#[test]
fn case_only_read_skips_unread_files_and_shows_lazy_entities() {
    let people = "id,name\nann,Ann\n";
    let orgs = "id,name,kind\nacme,\"Acme \"\"A\"\" Ltd\",firm\nbeta,,\n";
    let roles = "person,org,title,from,until\nann,acme,,2020-05,\nzed,acme,,,\n";
    let all = [
        ("case.toml", super::CASE_TOML),
        ("person.csv", people),
        ("org.csv", orgs),
        ("role.csv", roles),
    ];
    let dir = super::folder(&all);
    let program = super::program();
    let load = |dir: &std::path::Path, only_read| {
        let mut facts = crate::facts::FactSet::new(&program);
        let opts = crate::case::LoadOptions { only_read };
        let res = crate::case::load_case_with(dir, &program, &mut facts, &opts);
        (res, facts)
    };
    // Loading everything: `beta` has no name and `zed` is nobody.
    let (full, _) = load(&dir, false);
    let codes: Vec<String> = full
        .err()
        .unwrap_or_default()
        .iter()
        .map(|d| d.code.to_string())
        .collect();
    assert_eq!(
        codes,
        vec![
            "probity::case::missing_field",
            "probity::case::unknown_entity"
        ]
    );
    // No clause reads `role` or `org`: role.csv is left out, unread and unchecked;
    // org.csv is read for its ids. person.csv (with a list field) loads in full.
    let (lazy, facts) = load(&dir, true);
    let case = lazy.unwrap_or_else(|d| panic!("{d:#?}"));
    assert_eq!(case.unread.len(), 1);
    assert!(case.unread[0].ends_with("role.csv"), "{:?}", case.unread);
    assert_eq!(tuples(&facts, "person"), vec!["ann,Ann,none"]);
    assert!(tuples(&facts, "org").is_empty());
    let acme = case.entity("acme").expect("acme");
    assert_eq!(
        (acme.kind.as_str(), acme.name.as_str()),
        ("org", "Acme \"A\" Ltd")
    );
    assert_eq!(facts.origin(acme.origin).line, 2);
    assert!(facts.origin(acme.origin).file.ends_with("org.csv"));
    assert_eq!(case.entity_name("beta").as_deref(), Some("beta"));
    assert_eq!(case.entity_name("ann").as_deref(), Some("Ann"));
    assert_eq!(case.all_entities().len(), 3);
    // Ids of a lazily loaded file are still checked: a duplicate is an error.
    let dup = [
        ("case.toml", super::CASE_TOML),
        ("org.csv", "id,name\nx,A\nx,B\n"),
    ];
    let (res, _) = load(&super::folder(&dup), true);
    let codes: Vec<String> = res
        .err()
        .unwrap_or_default()
        .iter()
        .map(|d| d.code.to_string())
        .collect();
    assert_eq!(codes, vec!["probity::case::duplicate_id"]);
}

#[test]
fn case_csv_numbered_ids_keep_their_spelling_when_a_later_id_is_not_numbered() {
    // Numbered ids are read as numbers until `bob`; then the piece is strings again.
    let mixed = "id,name\np1,One\np10,Ten\np2,Two\nbob,Bob\np3,Three\n";
    let numbered = "id,name\np7,Seven\np5,Five\np6,Six\n";
    for (people, want) in [
        (
            mixed,
            vec!["bob,Bob", "p1,One", "p10,Ten", "p2,Two", "p3,Three"],
        ),
        (numbered, vec!["p5,Five", "p6,Six", "p7,Seven"]),
    ] {
        let (case, facts) = ok(&[("person.csv", people)]);
        let mut got = tuples(&facts, "person");
        got.sort();
        let got: Vec<String> = got.into_iter().map(|t| t.replace(",none", "")).collect();
        assert_eq!(got, want);
        for row in &want {
            let (id, name) = row.split_once(',').expect("id,name");
            assert_eq!(case.entity_name(id).as_deref(), Some(name), "{id}");
        }
    }
}

/// `load()` with plain rows read straight from the bytes, then with every row read by
/// the CSV reader.
fn both_ways<T>(load: impl Fn() -> T) -> (T, T) {
    use std::sync::atomic::Ordering;
    let off = &crate::case::csv_facts::PLAIN_ROWS_OFF;
    let plain = load();
    off.store(true, Ordering::Relaxed);
    let read = load();
    off.store(false, Ordering::Relaxed);
    (plain, read)
}

/// Plain rows are read straight from the bytes, the others by the CSV reader: either way
/// gives the same tuples, value ids, lines and problems, whatever mix of rows a file has
/// (trimmed, quoted and non-ASCII cells, empty optional and required ones, CRLF, blank
/// lines, short and long rows, no last line break, symmetric rows).
#[test]
fn case_csv_plain_rows_read_as_the_reader_reads_them() {
    let roles = "person,org,title,from,until\n\
        ann,acme,CEO,2020-01-31,2021-01-01\n\
        bob,acme,,2019-05-01,\n\
        \x20ann ,acme,Chair,2020-02-01,\n\
        ann,acme,\"Director, Finance\",2020-03-01,\n\
        bob,acme,CFO,2018-01-01,2019-01-01\r\n\
        \n\
        ann,acme\n\
        bob,acme,\u{dc}mit,2021-01-01,\n\
        ann,acme,x,2020,\n\
        bob,acme,CEO,2020-01-31,2021-01-01";
    let holdings = "holder,asset,pct,from,until\nann,acme,12.5,2001-01-01,\nacme,acme,,,\n";
    let pairs = "a,b\nann,bob\nbob,bob\n\"ann\",acme\nacme,bob\n";
    let misc = "flag,wait,n\ntrue,2y,3\nfalse,,\n,6mo,-4.25\ntrue,2y,3\n";
    let files = [
        ("people.toml", PEOPLE),
        ("role.csv", roles),
        ("holding.csv", holdings),
        ("associate.csv", pairs),
        ("misc.csv", misc),
    ];
    let dump = |facts: &crate::facts::FactSet| -> Vec<(usize, Vec<u32>, u32)> {
        (0..facts.tuples.len())
            .flat_map(|r| {
                facts.tuples[r]
                    .iter()
                    .map(move |(t, o)| (r, t.to_vec(), facts.origin(o).line))
            })
            .collect()
    };
    let ((_, plain), (_, read)) = both_ways(|| ok(&files));
    assert_eq!(dump(&plain), dump(&read));
    assert!(dump(&plain).len() > 20);
    let values = |facts: &crate::facts::FactSet| -> Vec<String> {
        dump(facts)
            .iter()
            .flat_map(|(_, t, _)| t.iter().map(|&v| facts.value(v).to_string()))
            .collect()
    };
    assert_eq!(values(&plain), values(&read));
    assert_eq!(tuples(&plain, "role")[7], "ann,acme,x,2020,+inf");
    let bad = "person,org,title,from,until\n\
        ann,acme,CEO,2020-01-31,2021-01-01\n\
        ann,acme,CEO,2020-02-31,\n\
        zed,acme,,,\n\
        ann,acme,,,,x\n\
        ann,acme,,,,\n\
        ,acme,,,\n\
        bob,acme,,2019-05-01,\n\
        ann,acme,\"x\"y,,\n\
        bob,acme,CEO,2020-01-31,2021-0\n";
    let files = [("people.toml", PEOPLE), ("role.csv", bad)];
    let (plain, read) = both_ways(|| problems(&files));
    assert_eq!(plain, read);
    let lines: Vec<u32> = plain.iter().map(|p| p.2).collect();
    assert_eq!(lines, vec![3, 4, 5, 7, 9, 10], "{plain:#?}");
}

/// The ids of an entity file are cut from its plain rows as the reader reads them: the
/// same entities, lines, names and problems with rows the reader must read (quoted ids
/// and names, a name over two lines, cells to trim, CRLF, blank lines, a long row).
#[test]
fn case_csv_entity_ids_of_plain_rows_read_as_the_reader_reads_them() {
    let people = "id,name\n\
        p1,Ann\n\
        \"p2\",Bob\n\
        p3,\"Cy\nthe Younger\"\n\
        \x20p4 ,Dan\r\n\
        \n\
        p5,Pat,\n\
        p6,\u{c9}mile\n\
        zed,Zed";
    let orgs = "name,id\nAcme,acme\nBeta,\"beta\"\nGamma , gamma";
    let roles = "person,org\np1,acme\np3,beta\np5,gamma\nzed,acme\n";
    let files = [
        ("person.csv", people),
        ("org.csv", orgs),
        ("role.csv", roles),
    ];
    let seen = |(case, facts): (crate::case::Case, crate::facts::FactSet)| {
        let names: Vec<(String, String, u32)> = [
            "p1", "p2", "p3", "p4", "p5", "p6", "zed", "acme", "beta", "gamma",
        ]
        .iter()
        .map(|id| {
            let e = case.entity(id).unwrap_or_else(|| panic!("{id} is defined"));
            (id.to_string(), e.name, facts.origin(e.origin).line)
        })
        .collect();
        (names, tuples(&facts, "person"), tuples(&facts, "role"))
    };
    let (plain, read) = both_ways(|| seen(ok(&files)));
    assert_eq!(plain, read);
    let lines: Vec<u32> = plain.0.iter().map(|n| n.2).collect();
    assert_eq!(lines, vec![2, 3, 4, 6, 8, 9, 10, 2, 3, 4]);
    assert_eq!(plain.0[2].1, "Cy\nthe Younger");
    let bad = [(
        "person.csv",
        "id,name\np1,Ann\np1,Again\n,Nobody\np2,Bob\n\"p2\",Twice\np3\n",
    )];
    let (plain, read) = both_ways(|| problems(&bad));
    assert_eq!(plain, read);
    assert!(plain.len() >= 2, "{plain:#?}");
}
