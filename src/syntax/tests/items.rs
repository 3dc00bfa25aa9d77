//! Items: use, entity, relation, param, derive, rule, test; comments.

use super::*;

#[test]
fn use_targets() {
    let f = ok("use std\nuse std/holdings\nuse \"./helpers.coi\"\n");
    let targets: Vec<UseTarget> = f
        .items
        .iter()
        .filter_map(|i| match i {
            Item::Use(u) => Some(u.node.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        targets,
        [
            UseTarget::Std(None),
            UseTarget::Std(Some("holdings".into())),
            UseTarget::Path("./helpers.coi".into())
        ]
    );
    if let Item::Use(u) = &f.items[1] {
        assert_eq!((u.span.start, u.span.end), (8, 24));
    }
}

#[test]
fn entities_with_and_without_fields() {
    let f = ok("entity person(name: text, aliases: [text]?)\nentity matter");
    let Item::Entity(p) = &f.items[0] else {
        panic!()
    };
    assert_eq!(p.name.node, "person");
    assert_eq!(p.fields.len(), 2);
    let a = &p.fields[1];
    assert_eq!(
        (a.name.node.as_str(), a.list, a.optional),
        ("aliases", true, true)
    );
    assert_eq!(a.ty.names[0].node, "text");
    assert_eq!((p.span.start, p.span.end), (0, 43));
    let Item::Entity(m) = &f.items[1] else {
        panic!()
    };
    assert!(m.fields.is_empty());
}

#[test]
fn relations_with_unions_and_validity() {
    let f = ok("relation role(person: person, org: org, title: text?, from: date?, until: date?) during from..until
relation meeting(id: text, on: date, attendees: [person | org], topic: text?) at on
symmetric relation associate(a: person, b: person, kind: text?)");
    let rels: Vec<&RelationDecl> = f
        .items
        .iter()
        .filter_map(|i| {
            if let Item::Relation(r) = i {
                Some(r)
            } else {
                None
            }
        })
        .collect();
    assert_eq!(rels.len(), 3);
    let (from, until) = (
        Spanned::new("from".to_string(), Default::default()),
        Spanned::new("until".to_string(), Default::default()),
    );
    assert_eq!(
        rels[0].validity.as_ref().map(|v| v.node.clone()),
        Some(Validity::During { from, until })
    );
    assert_eq!(rels[0].fields[2].name.node, "title");
    let att = &rels[1].fields[2];
    let names: Vec<&str> = att.ty.names.iter().map(|n| n.node.as_str()).collect();
    assert_eq!(
        (names, att.list, att.optional),
        (vec!["person", "org"], true, false)
    );
    assert!(
        matches!(&rels[1].validity, Some(v) if matches!(&v.node, Validity::At(f) if f.node == "on"))
    );
    assert!(rels[2].symmetric && !rels[0].symmetric);
}

#[test]
fn params_with_docs() {
    let f = ok(
        "param cooling_off = 2y \"UK business appointment rules: two years\"\nparam threshold = 25",
    );
    let Item::Param(p) = &f.items[0] else {
        panic!()
    };
    assert_eq!(show::expr(&p.value), "~2y");
    assert_eq!(
        p.doc.as_ref().map(|d| d.node.as_str()),
        Some("UK business appointment rules: two years")
    );
    let Item::Param(t) = &f.items[1] else {
        panic!()
    };
    assert!(t.doc.is_none());
}

#[test]
fn derive_with_arithmetic_head() {
    let f = ok("derive controls(owner, company, a * b / 100) {
        controls(owner, mid, a)
        holding(holder: mid, asset: company, pct: b)
    }");
    let Item::Derive(d) = &f.items[0] else {
        panic!()
    };
    let head: Vec<String> = d.head.iter().map(show::expr).collect();
    assert_eq!(head, ["owner", "company", "(/ (* a b) #100)"]);
    let body: Vec<String> = d.body.iter().map(show::literal).collect();
    assert_eq!(
        body,
        [
            "controls(owner, mid, a)",
            "holding(holder: mid, asset: company, pct: b)"
        ]
    );
}

pub const RULE: &str = r#"rule retained_stake(p, firm) {          # subjects optional
    title    "Resigned from a firm but retains shares in it"
    severity high
    basis    "Ministerial Code 7.1"
    tags     "interests", "ownership"
    when {
        role(person: p, org: firm, until: left)
        holding(holder: p, asset: firm, until: kept)
        kept > left
    }
    when { founded(person: p, org: firm) }
    flag "{p} left {firm} on {left} but \{still\} holds shares"
}"#;

#[test]
fn rule_with_every_attribute() {
    let f = ok(RULE);
    let Item::Rule(r) = &f.items[0] else { panic!() };
    let subjects: Vec<&str> = r
        .subjects
        .iter()
        .flatten()
        .map(|s| s.node.as_str())
        .collect();
    assert_eq!(subjects, ["p", "firm"]);
    assert_eq!(
        r.title.as_ref().map(|t| t.node.as_str()),
        Some("Resigned from a firm but retains shares in it")
    );
    assert_eq!(r.severity.as_ref().map(|s| s.node), Some(Severity::High));
    assert_eq!(
        r.basis.as_ref().map(|t| t.node.as_str()),
        Some("Ministerial Code 7.1")
    );
    assert_eq!(
        r.tags.iter().map(|t| t.node.as_str()).collect::<Vec<_>>(),
        ["interests", "ownership"]
    );
    assert_eq!(r.whens.len(), 2);
    assert_eq!(r.whens[0].node.len(), 3);
    let flag = &r
        .flag
        .as_ref()
        .map(|f| f.node.parts.clone())
        .unwrap_or_default();
    let hole = |s: &str| TemplatePart::Hole(Spanned::new(s.to_string(), Default::default()));
    let text = |s: &str| TemplatePart::Text(s.to_string());
    assert_eq!(
        flag,
        &[
            hole("p"),
            text(" left "),
            hole("firm"),
            text(" on "),
            hole("left"),
            text(" but {still} holds shares")
        ]
    );
    // The hole's span covers the name inside the braces.
    if let TemplatePart::Hole(h) = &flag[2] {
        assert_eq!(&RULE[h.span.start as usize..h.span.end as usize], "firm");
    }
    assert_eq!(f.comments.len(), 1);
    assert_eq!(f.comments[0].node, " subjects optional");
    assert_eq!(
        &RULE[f.comments[0].span.start as usize..f.comments[0].span.end as usize],
        "# subjects optional"
    );
}

#[test]
fn rule_without_subjects() {
    let f = ok("rule r { when { a(x: 1) } }");
    let Item::Rule(r) = &f.items[0] else { panic!() };
    assert!(r.subjects.is_none() && r.flag.is_none());
}

#[test]
fn test_blocks() {
    let f = ok(r#"test retained_stake_flags {
    given {
        person(id: ann, name: "Ann")
        role(person: ann, org: acme, until: 2024-12-01)
        meeting(id: "m1", on: 2025-02-01, attendees: [ann, acme])
    }
    expect retained_stake(p: ann, firm: acme)
    expect no retained_stake(p: bob)
}"#);
    let Item::Test(t) = &f.items[0] else { panic!() };
    let given: Vec<String> = t.given.iter().map(show::atom).collect();
    assert_eq!(
        given,
        [
            "person(id: ann, name: \"Ann\")",
            "role(person: ann, org: acme, until: @2024-12-01)",
            "meeting(id: \"m1\", on: @2025-02-01, attendees: [ann acme])"
        ]
    );
    assert_eq!(
        t.expects.iter().map(|e| e.negated).collect::<Vec<_>>(),
        [false, true]
    );
    assert_eq!(show::atom(&t.expects[1].atom), "retained_stake(p: bob)");
}

#[test]
fn keywords_as_field_and_variable_names() {
    assert_eq!(
        body("meeting(on: d) role(title: t, in: x, of: y, kind: k, at: a, from: f, until: u)"),
        [
            "meeting(on: d)",
            "role(title: t, in: x, of: y, kind: k, at: a, from: f, until: u)"
        ]
    );
    assert_eq!(
        body("role(title: title, from: from) count > min"),
        ["role(title: title, from: from)", "count > min"]
    );
    ok("entity doc(title: text, kind: text, at: date, in: text, count: number)");
}

#[test]
fn comments_are_collected_in_order() {
    let f = ok("# head\nuse std # tail\n# end");
    let c: Vec<&str> = f.comments.iter().map(|c| c.node.as_str()).collect();
    assert_eq!(c, [" head", " tail", " end"]);
}
