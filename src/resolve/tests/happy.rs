//! The happy path: the draft's example program and the shape of the IR it resolves to.

use crate::ir::{ClauseOrigin, ExprKind, Literal, RelKind, Term, Type};
use crate::value::{Date, Value};

const EXAMPLE: &str = r#"
use std

param cooling_off = 2y "UK business appointment rules: two years"
param threshold = 25

derive controls(owner, company, pct) {
    holding(holder: owner, asset: company, pct: pct)
}
derive controls(owner, company, a * b / 100) {
    controls(owner, mid, a)
    holding(holder: mid, asset: company, pct: b)
}

rule retained_stake(p, firm) {
    title    "Resigned from a firm but retains shares in it"
    severity high
    basis    "Ministerial Code 7.1"
    tags     "interests", "ownership"
    when {
        role(person: p, org: firm, until: left)
        holding(holder: p, asset: firm, until: kept)
        kept > left
    }
    when {
        controls(p, firm, pct)
        pct > $threshold
        role(person: p, org: firm, until: left)
        joined = left + $cooling_off
        joined > left
    }
    flag "{p} left {firm} but still holds shares in it"
}

rule met_soon {
    title "Met a former employer soon after leaving"
    severity medium
    when {
        role(person: who, org: firm, until: left)
        meeting(on: day, attendees: who)
        meeting(on: day, attendees: firm)
        day within $cooling_off after left
    }
}

test retained_stake_flags {
    given {
        person(id: ann, name: "Ann")
        org(id: acme, name: "Acme")
        role(person: ann, org: acme, until: 2024-12-01)
        holding(holder: ann, asset: acme)
        meeting(id: "m1", on: 2025-02-01, attendees: [ann, acme])
    }
    expect retained_stake(p: ann, firm: acme)
    expect no retained_stake(p: bob)
}
"#;

#[test]
fn draft_example_resolves() {
    let (p, warnings) = super::clean(&[("rules/example.coi", EXAMPLE)]);
    assert!(warnings.is_empty(), "{warnings:?}");
    let person = p.rel_by_name("person").map(|r| p.rel(r));
    let person = person.expect("person");
    assert!(matches!(person.kind, RelKind::Entity(_)));
    assert_eq!(person.fields[0].name, "id");
    let controls = p.rel(p.rel_by_name("controls").expect("controls"));
    assert_eq!(controls.kind, RelKind::Derived);
    let names: Vec<&str> = controls.fields.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["owner", "company", "pct"]);
    assert!(matches!(&controls.fields[0].ty, Type::Entity(ks) if ks.len() == 2));
    assert_eq!(controls.fields[2].ty, Type::Number);
    let rule = &p.rules[0];
    assert_eq!(
        (rule.name.as_str(), rule.clauses.len()),
        ("retained_stake", 2)
    );
    let rel = p.rel(rule.rel);
    let subjects: Vec<&str> = rel.fields.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(subjects, ["p", "firm"]);
    assert_eq!(
        p.clause(rule.clauses[1]).origin,
        ClauseOrigin::Rule(crate::ir::RuleId(0), 1)
    );
    let met = p.rel(p.rules[1].rel);
    let subjects: Vec<&str> = met.fields.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        subjects,
        ["who", "firm", "left", "day"],
        "default subjects, in order"
    );
    assert_eq!(met.fields[3].ty, Type::Date);
    assert_eq!(
        p.params[0].default,
        Value::Duration(crate::value::Duration {
            months: 24,
            days: 0
        })
    );
}

#[test]
fn clause_shape() {
    let (p, _) = super::clean(&[("rules/example.coi", EXAMPLE)]);
    let c = p.clause(p.rules[0].clauses[0]);
    assert_eq!(c.body.len(), 3);
    let Literal::Atom(role) = &c.body[0] else {
        panic!("{:?}", c.body)
    };
    assert_eq!(p.rel(role.rel).name, "role");
    let terms: Vec<String> = role
        .terms
        .iter()
        .map(|t| match t {
            Term::Var(v) => c.vars[v.0 as usize].name.clone(),
            Term::Const(v) => v.to_string(),
            Term::Wildcard => "_".into(),
        })
        .collect();
    assert_eq!(terms, ["p", "firm", "_", "_", "_", "left"]);
    let left = c
        .vars
        .iter()
        .find(|v| v.name == "left")
        .map(|v| v.ty.clone());
    assert_eq!(left, Some(Type::Date));
    assert!(
        c.head_terms
            .iter()
            .all(|e| matches!(e.kind, ExprKind::Var(_)))
    );
    let derived = p
        .clauses
        .iter()
        .find(|c| c.origin == ClauseOrigin::Derive && c.body.len() == 2);
    let derived = derived.expect("second derive");
    assert!(matches!(derived.head_terms[2].kind, ExprKind::Binary(..)));
    assert_eq!(derived.head_terms[2].ty, Type::Number);
}

#[test]
fn tests_become_facts() {
    let (p, _) = super::clean(&[("rules/example.coi", EXAMPLE)]);
    let t = &p.tests[0];
    assert_eq!(t.name, "retained_stake_flags");
    assert_eq!(
        t.given.len(),
        6,
        "the meeting expands to one fact per attendee"
    );
    let role = &t.given[2];
    assert_eq!(role.values[0], Value::entity("ann"));
    assert_eq!(role.values[2], Value::None);
    assert_eq!(role.values[4], Value::Date(Date::NEG_INF));
    assert_eq!(role.values[5], Value::Date(Date::day(2024, 12, 1)));
    let holding = &t.given[3];
    assert_eq!(holding.values.last(), Some(&Value::Date(Date::POS_INF)));
    let attendees: Vec<String> = t.given[4..]
        .iter()
        .map(|f| f.values[2].to_string())
        .collect();
    assert_eq!(attendees, ["ann", "acme"]);
    assert_eq!(t.expects.len(), 2);
    assert!(!t.expects[0].negated && t.expects[1].negated);
    assert_eq!(
        t.expects[0].fields,
        [(0, Value::entity("ann")), (1, Value::entity("acme"))]
    );
}

#[test]
fn deep_import_chain_does_not_recurse() {
    let n = 3000;
    let files: Vec<(String, String)> = (0..n)
        .map(|i| {
            let text = if i + 1 < n {
                format!("use \"./f{}.coi\"\n", i + 1)
            } else {
                "param last = 1\n".into()
            };
            (format!("f{i}.coi"), text)
        })
        .collect();
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let (p, _) = super::clean(&refs);
    assert_eq!(p.params.len(), 1);
}

#[test]
fn years_ranges_rules_reading_rules_and_self_imports() {
    let text = format!(
        "{}\nrule early(p, f) {{ title \"t\" severity low when {{ role(person: p, from: f), f in 2020..2021 }} }}\n\
         rule later(p) {{ title \"u\" severity info when {{ early(p: p, f: _) }} }}\n\
         test t {{ given {{ person(id: ann, name: \"Ann\") }} expect early(ann, 2020-03-01) }}",
        super::PRE
    );
    let (p, w) = super::clean(&[("r.coi", &text)]);
    assert!(w.is_empty(), "{w:?}");
    let later = p.clause(p.rules[1].clauses[0]);
    let Literal::Atom(a) = &later.body[0] else {
        panic!("{:?}", later.body)
    };
    assert_eq!(p.rel(a.rel).kind, RelKind::Rule(crate::ir::RuleId(0)));
    assert_eq!(p.rel(p.rules[0].rel).fields[1].ty, Type::Date);
    assert_eq!(p.tests[0].expects[0].fields.len(), 2);
    let g = super::all(&[("a.coi", "use \"a.coi\"")], "import_cycle");
    assert_eq!(g.len(), 1);
    super::is(
        &g[0],
        "import cycle: `a.coi` -> `a.coi`",
        "remove one",
        "use \"a.coi\"",
    );
}

#[test]
fn default_subjects_must_be_bound_in_every_block() {
    let text = format!(
        "{}\nrule r {{ title \"t\" severity low when {{ role(person: p, org: o) }} when {{ holding(holder: p, asset: _) }} }}",
        super::PRE
    );
    let g = super::all(&[("r.coi", &text)], "unbound_variable");
    assert_eq!(g.len(), 1, "{g:?}");
    assert_eq!(g[0].message, "subject `o` is not bound in `when` block 2");
}
