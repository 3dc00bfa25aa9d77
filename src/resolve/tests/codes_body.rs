//! Diagnostics from rule and derive bodies, strata, and test blocks.

use super::{PRE, all, is, one, rule};

#[test]
fn unknown_relation() {
    let g = one(
        &rule("rol(person: p, org: o), role(person: p, org: o)"),
        "unknown_relation",
    );
    is(&g, "unknown relation `rol`", "did you mean `role`?", "rol");
}

#[test]
fn unknown_field() {
    let g = one(
        &rule("role(persn: p, org: o), holding(holder: p, asset: o)"),
        "unknown_field",
    );
    is(
        &g,
        "`role` has no field `persn`",
        "did you mean `person`?",
        "persn",
    );
}

#[test]
fn unknown_param_in_body() {
    let g = one(
        &rule("role(org: o, from: f, until: u), u within $coolng after f"),
        "unknown_param",
    );
    is(
        &g,
        "unknown param `$coolng`",
        "did you mean `$cooling`?",
        "$coolng",
    );
}

#[test]
fn arity() {
    let text = format!(
        "{PRE}\nderive two(a, b) {{ role(person: a, org: b) }}\n{}",
        rule("two(p), role(person: p)").trim_start_matches(PRE)
    );
    let g = one(&text, "arity");
    is(
        &g,
        "`two` takes 2 arguments, got 1",
        "give one argument per field, in order: `two(a, b)`",
        "two(p)",
    );
    let text = format!(
        "{PRE}\nderive two(a, b) {{ role(person: a, org: b) }}\nderive two(a) {{ role(person: a) }}"
    );
    let g = one(&text, "arity");
    is(
        &g,
        "`two` has 1 terms here but 2 in its first `derive`",
        "same number of head terms",
        "two",
    );
    assert_eq!(g.notes, ["first derived here"]);
}

#[test]
fn positional_base() {
    let g = one(&rule("role(p, o)"), "positional_base");
    is(
        &g,
        "positional arguments to `role` must give all 5 fields, got 2",
        "name the fields you need",
        "role(p, o)",
    );
}

#[test]
fn type_mismatch_between_fields() {
    let g = one(
        &rule("role(person: p, org: o), holding(holder: o, asset: p)"),
        "type_mismatch",
    );
    is(
        &g,
        "type mismatch: `p` is `person` and `org`",
        "use another variable",
        "p",
    );
    assert_eq!(g.notes, ["`p` is `person` here"]);
}

#[test]
fn type_mismatch_in_comparison_and_arithmetic() {
    let g = one(&rule("role(person: p, until: u), u > 3"), "type_mismatch");
    is(
        &g,
        "type mismatch: cannot compare `date` with `number`",
        "compare values of one type",
        "u > 3",
    );
    let g = one(
        &rule("role(person: p, until: u), holding(holder: p, pct: x), u + x > u"),
        "type_mismatch",
    );
    is(
        &g,
        "type mismatch: `date` + `number`",
        "a date with a duration",
        "u + x",
    );
    let g = one(&rule("role(person: p, org: o), o < p"), "type_mismatch");
    is(
        &g,
        "type mismatch: cannot compare `org` with `person`",
        "compare values",
        "o < p",
    );
    let text = format!(
        "{PRE}\nrelation flagged(p: person, yes: bool)\nrule r {{\n title \"t\"\n severity high\n when {{ flagged(p: p, yes: a), flagged(p: p, yes: b), a < b }}\n}}\n"
    );
    let g = one(&text, "type_mismatch");
    is(
        &g,
        "type mismatch: `bool` values have no order",
        "use `=` or `!=`",
        "<",
    );
    let g = one(
        &rule("role(person: p, from: f), f within 3 of f"),
        "type_mismatch",
    );
    is(
        &g,
        "type mismatch: expected `duration`, found `number`",
        "write a `duration`",
        "3",
    );
}

#[test]
fn years_and_entity_strings_convert() {
    let (p, _) = super::clean(&[("r.coi", &rule("role(person: \"ann\", until: u), u > 2024"))]);
    let body = &p.clauses[0].body;
    let crate::ir::Literal::Atom(a) = &body[0] else {
        panic!("{body:?}")
    };
    assert!(
        matches!(&a.terms[0], crate::ir::Term::Const(crate::value::Value::Entity(s)) if &**s == "ann")
    );
    let crate::ir::Literal::Compare { rhs, .. } = &body[1] else {
        panic!("{body:?}")
    };
    assert!(
        matches!(&rhs.kind, crate::ir::ExprKind::Const(crate::value::Value::Date(d)) if d.to_string() == "2024")
    );
}

#[test]
fn unbound_variable() {
    let g = one(
        &rule("role(person: p, org: o), not holding(holder: q, asset: o)"),
        "unbound_variable",
    );
    is(
        &g,
        "variable `q` is not bound",
        "every variable of a `not`",
        "q",
    );
    let g = one(
        &rule("role(person: p, org: o), x = y + 1, x > 2"),
        "unbound_variable",
    );
    is(
        &g,
        "variable `y` is not bound",
        "right-hand side of `=`",
        "y",
    );
    let g = one(
        &rule("role(person: p, until: u), u > later"),
        "unbound_variable",
    );
    is(
        &g,
        "variable `later` is not bound",
        "bind `later` in a positive atom",
        "later",
    );
    let text = format!(
        "{PRE}\nrule r(p, q) {{ title \"t\" severity low when {{ role(person: p, org: _) }} }}"
    );
    let g = one(&text, "unbound_variable");
    is(
        &g,
        "subject `q` is not bound in `when` block 1",
        "drop it from the rule's subjects",
        "q",
    );
    let g = one(
        &format!("{PRE}\nderive d(x, y) {{ role(person: x) }}"),
        "unbound_variable",
    );
    is(&g, "head variable `y` is not bound", "body", "y");
}

#[test]
fn assignment_binds() {
    let (p, w) = super::clean(&[(
        "r.coi",
        &rule("holding(holder: _h, asset: _, pct: x), y = x * 2, y > 50"),
    )]);
    assert!(w.is_empty(), "{w:?}");
    assert!(matches!(
        p.clauses[0].body[1],
        crate::ir::Literal::Assign { .. }
    ));
}

#[test]
fn single_use() {
    let text = format!(
        "{PRE}\nrule r(p) {{ title \"t\" severity low when {{ role(person: p, org: o, title: _t) }} }}"
    );
    let g = one(&text, "single_use");
    assert!(g.warning);
    is(
        &g,
        "variable `o` is used only once",
        "replace it with `_`",
        "o",
    );
    let (p, _) = super::clean(&[("r.coi", &text)]);
    assert_eq!(p.rules.len(), 1, "warnings do not stop the program");
}

#[test]
fn aggregates() {
    let body = "role(person: p, org: _), n = count { meeting(id: _, attendees: p) }, n > 2, \
                t = sum x { holding(holder: p, asset: _, pct: x) }, t > n";
    let (p, w) = super::clean(&[("r.coi", &rule(body))]);
    assert!(w.is_empty(), "{w:?}");
    let c = &p.clauses[0];
    let groups: Vec<Vec<&str>> = c
        .body
        .iter()
        .filter_map(|l| match l {
            crate::ir::Literal::Aggregate { group, .. } => Some(
                group
                    .iter()
                    .map(|v| c.vars[v.0 as usize].name.as_str())
                    .collect(),
            ),
            _ => None,
        })
        .collect();
    assert_eq!(groups, [vec!["p"], vec!["p"]]);
    let t = c.vars.iter().find(|v| v.name == "t").map(|v| v.ty.clone());
    assert_eq!(t, Some(crate::ir::Type::Number));
    let g = one(
        &rule("role(person: p), n = sum x { meeting(id: x, attendees: p) }"),
        "type_mismatch",
    );
    is(
        &g,
        "type mismatch: cannot sum `text`",
        "`sum` adds numbers",
        "x",
    );
}

#[test]
fn negation_and_aggregate_cycles() {
    let text = format!(
        "{PRE}\nderive a(x) {{ role(person: x), not b(x) }}\nderive b(x) {{ role(person: x), a(x) }}"
    );
    let g = one(&text, "negation_cycle");
    assert!(
        g.message.starts_with("negation through recursion: `"),
        "{g:?}"
    );
    assert!(
        g.message.contains("`a` -> `b`") || g.message.contains("`b` -> `a`"),
        "{g:?}"
    );
    assert_eq!(g.underlined, "b(x)");
    assert_eq!(
        g.notes,
        ["`b` reads `a` here"],
        "the rest of the cycle is shown"
    );
    let text = format!("{PRE}\nderive c(x, n) {{ role(person: x), n = count {{ c(x, _) }} }}");
    let g = one(&text, "aggregate_cycle");
    is(
        &g,
        "aggregation through recursion: `c` -> `c`",
        "an aggregate cannot read",
        "n = count { c(x, _) }",
    );
}

#[test]
fn derive_heads_disagree_on_type() {
    let text = format!(
        "{PRE}\nderive d(x) {{ role(person: p, from: x) }}\nderive d(x) {{ holding(holder: h, pct: x) }}"
    );
    let g = all(&[("r.coi", &text)], "type_mismatch");
    assert_eq!(g.len(), 1, "{g:?}");
    assert!(
        g[0].message
            .starts_with("type mismatch: field `x` of `d` is `"),
        "{g:?}"
    );
}

#[test]
fn list_field_misuse() {
    let g = one(&rule("meeting(id: m, attendees: [p])"), "list_field_misuse");
    is(
        &g,
        "a list `[…]` cannot be used here",
        "matches each member",
        "[p]",
    );
    let text = format!("{PRE}\ntest t {{ given {{ org(id: acme, name: [\"a\", \"b\"]) }} }}");
    let g = one(&text, "list_field_misuse");
    is(
        &g,
        "field `name` of `org` takes one value, not a list",
        "only fields declared `[T]`",
        "[\"a\", \"b\"]",
    );
}

#[test]
fn given_not_constant() {
    let text = format!("{PRE}\ntest t {{ given {{ org(id: acme, name: acme) }} }}");
    let g = one(&text, "given_not_constant");
    is(
        &g,
        "`acme` is not a constant",
        "write `\"acme\"` for text",
        "acme",
    );
    let text = format!("{PRE}\ntest t {{ given {{ role(person: _, org: acme) }} }}");
    let g = one(&text, "given_not_constant");
    is(&g, "`_` is not a value", "`person` is required", "_");
}

#[test]
fn missing_required_field() {
    let text = format!("{PRE}\ntest t {{ given {{ role(person: ann) }} }}");
    let g = one(&text, "missing_required_field");
    is(
        &g,
        "`role` fact without its field `org`",
        "add `org: …`",
        "role(person: ann)",
    );
}

#[test]
fn given_derived_and_unknown_rule() {
    let text = format!(
        "{PRE}\nderive d(x) {{ role(person: x) }}\ntest t {{ given {{ d(ann) }} expect dd(x: ann) }}"
    );
    let g = one(&text, "given_derived");
    is(
        &g,
        "`d` is computed by rules, not given",
        "give the base facts",
        "d",
    );
    let g = one(&text, "unknown_rule");
    is(&g, "unknown rule `dd`", "did you mean `d`?", "dd");
}

#[test]
fn one_mistake_one_error() {
    // An unknown relation or field does not also leave its variables unbound or used once,
    // and a `_` in it is not reported as having no value.
    for body in [
        "rol(person: p, org: _)",
        "role(persn: p, org: _)",
        "role(person: p, org: o), holding(holdr: o, asset: _)",
    ] {
        let text = format!("{PRE}\nrule r(p) {{ title \"t\" severity low when {{ {body} }} }}");
        let (map, c) = super::run(&[("r.coi", &text)]);
        assert_eq!(
            c.diagnostics.len(),
            1,
            "{body}:\n{}",
            crate::diag::render(&map, &c.diagnostics)
        );
    }
    // A field written with a bad value is not also missing.
    let text = format!("{PRE}\ntest t {{ given {{ org(id: acme, name: [\"a\", \"b\"]) }} }}");
    let (_, c) = super::run(&[("r.coi", &text)]);
    let codes: Vec<&str> = c.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(codes, ["probity::resolve::list_field_misuse"]);
}

#[test]
fn comparison_mismatch_notes_where_the_variable_got_its_type() {
    let g = one(
        &rule("holding(holder: p, asset: _, pct: x), x > 2025-01-01"),
        "type_mismatch",
    );
    is(
        &g,
        "type mismatch: cannot compare `number` with `date`",
        "compare values of one type",
        "x > 2025-01-01",
    );
    assert_eq!(g.notes, ["`x` is `number` here"]);
}
