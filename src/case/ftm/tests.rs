//! The mapping of every FtM schema, on one entity each, and the awkward values.

use super::map::{Class, Mapped, Val, map};
use super::read::parse;

/// Ids known to the tests: persons p*, orgs o*, a Position, a Vessel.
fn lookup(id: &str) -> Option<Class> {
    match id {
        "pos" => Some(Class::Position {
            name: Some("Ambassador".into()),
            org: Some("o2".into()),
        }),
        "ship" => Some(Class::Other),
        _ if id.starts_with('p') => Some(Class::Person),
        _ if id.starts_with('o') => Some(Class::Org),
        _ => None,
    }
}

fn mapped(line: &str) -> Mapped {
    let e = parse(line).unwrap_or_default();
    map(&e, &lookup).unwrap_or_default()
}

/// The first record as `rel field=value …` (lists joined by `;`), plus its note.
fn first(line: &str) -> String {
    let m = mapped(line);
    let Some(r) = m.records.first() else {
        return "nothing".into();
    };
    let fields: Vec<String> = r
        .fields
        .iter()
        .map(|(f, v)| match v {
            Val::One(s) => format!("{f}={s}"),
            Val::Many(vs) => format!("{f}={}", vs.join(";")),
        })
        .collect();
    let note = r
        .note
        .as_deref()
        .map(|n| format!(" [{n}]"))
        .unwrap_or_default();
    format!("{} {}{note}", r.rel, fields.join(" "))
}

fn line(schema: &str, props: &str) -> String {
    format!(r#"{{"id":"x1","schema":"{schema}","properties":{{{props}}}}}"#)
}

#[test]
fn ftm_maps_entities() {
    let p = line(
        "Person",
        r#""name":["Ann","A."],"alias":["Annie"],"birthDate":["1953-10-21T00:00:00Z"],"nationality":["gb"]"#,
    );
    assert_eq!(
        first(&p),
        "person id=x1 name=Ann aliases=A.;Annie nationality=gb born=1953-10-21"
    );
    for (schema, kind) in super::map::ORG_KINDS {
        let o = line(
            schema,
            r#""name":["Acme"],"country":["gb"],"sector":["defence"]"#,
        );
        let want = format!("org id=x1 name=Acme kind={kind} jurisdiction=gb sector=defence");
        assert_eq!(first(&o), want);
    }
    assert_eq!(first(&line("Person", "")), "person id=x1 name=x1");
}

#[test]
fn ftm_maps_ownership_percentages() {
    let o = |pct: &str| {
        first(&line(
            "Ownership",
            &format!(
                r#""owner":["p1"],"asset":["o1"],"percentage":["{pct}"],"startDate":["2020-05"]"#
            ),
        ))
    };
    assert_eq!(o("25"), "holding holder=p1 asset=o1 pct=25 from=2020-05");
    assert_eq!(o("25%"), "holding holder=p1 asset=o1 pct=25 from=2020-05");
    assert!(o("25-50%").ends_with("[percentage `25-50%` is a range; its lower end, 25, is used]"));
    assert!(
        o("more than 25%").contains("pct=25 from=2020-05 [percentage `more than 25%` is a bound")
    );
    let m = mapped(&line(
        "Ownership",
        r#""owner":["o1"],"asset":["o2"],"percentage":["majority"]"#,
    ));
    assert_eq!(m.records.len(), 2);
    assert_eq!(m.kept, vec!["property `Ownership:percentage`".to_string()]);
}

#[test]
fn ftm_maps_links() {
    let cases = [
        (
            "Directorship",
            r#""director":["p1"],"organization":["o1"],"role":["chair"],"endDate":["2025-02-10T09:30"]"#,
            "role person=p1 org=o1 title=chair kind=directorship until=2025-02-10",
        ),
        (
            "Employment",
            r#""employee":["p1"],"employer":["o1"],"startDate":["2003"]"#,
            "role person=p1 org=o1 kind=employment from=2003",
        ),
        (
            "Membership",
            r#""member":["p1"],"organization":["o1"]"#,
            "role person=p1 org=o1 kind=membership",
        ),
        (
            "Representation",
            r#""agent":["o1"],"client":["o2"],"startDate":["2024-06"]"#,
            "client firm=o1 client=o2 from=2024-06",
        ),
        (
            "Associate",
            r#""person":["p1"],"associate":["o2"],"relationship":["partner"]"#,
            "associate a=p1 b=o2 relationship=partner",
        ),
        (
            "Family",
            r#""person":["p1"],"relative":["p2"],"relationship":["sister"]"#,
            "family person=p1 relative=p2 relationship=sister",
        ),
        (
            "Payment",
            r#""payer":["o1"],"beneficiary":["p2"],"amount":["1000"],"currency":["GBP"],"date":["2025-03-15"],"purpose":["fee"]"#,
            "payment from=o1 to=p2 amount=1000 currency=GBP purpose=fee on=2025-03-15",
        ),
        (
            "UnknownLink",
            r#""subject":["p1"],"object":["o1"],"role":["friend"]"#,
            "link subject=p1 object=o1 role=friend",
        ),
        (
            "Occupancy",
            r#""holder":["p1"],"post":["pos"],"startDate":["2025-02"]"#,
            "office person=p1 title=Ambassador body=o2 from=2025-02",
        ),
        (
            "Event",
            r#""name":["Dinner"],"date":["2025-05-08T19:00:00Z"],"involved":["p1","o1","ship"],"organizer":["p1"],"location":["DC"]"#,
            "meeting id=x1 on=2025-05-08 attendees=p1;o1 topic=Dinner place=DC",
        ),
    ];
    for (schema, props, want) in cases {
        assert_eq!(first(&line(schema, props)), want, "{schema}");
    }
    let ev = mapped(&line(
        "Event",
        r#""date":["2025"],"involved":["p1","ship"]"#,
    ));
    assert_eq!(ev.kept, vec!["property `Event:involved`".to_string()]);
}

#[test]
fn ftm_keeps_what_it_cannot_map() {
    let corp = mapped(&line(
        "Directorship",
        r#""director":["o1"],"organization":["o2"]"#,
    ));
    assert!(corp.records.iter().all(|r| r.rel == "ftm_fact"));
    assert_eq!(corp.kept.len(), 2);
    let ship = mapped(&line("Vessel", r#""name":["MV X"],"flag":["pa"]"#));
    assert_eq!(ship.kept, vec!["schema `Vessel`".to_string(); 2]);
    let extra = mapped(&line(
        "Person",
        r#""name":["Ann"],"email":["a@x"],"sourceUrl":["u"]"#,
    ));
    assert_eq!(extra.kept, vec!["property `Person:email`".to_string()]);
    assert_eq!(extra.sources, vec![(Some("u".to_string()), None)]);
    let unpaid = mapped(&line("Payment", r#""payer":["o1"],"beneficiary":["o2"]"#));
    assert!(unpaid.kept.iter().all(|k| k == "Payment without an amount"));
    let position = mapped(&line(
        "Position",
        r#""name":["Ambassador"],"organization":["o2"]"#,
    ));
    assert!(position.records.is_empty());
}

#[test]
fn ftm_reference_to_an_unknown_id_is_an_error() {
    let e = parse(&line("Family", r#""person":["p1"],"relative":["nobody"]"#)).unwrap_or_default();
    let err = map(&e, &lookup).err().map(|e| e.code());
    assert_eq!(err, Some("probity::case::unknown_entity"));
}
