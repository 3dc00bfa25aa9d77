//! Evaluator tests: joins, unions, negation, recursion, ownership chains, provenance.

use super::testkit::{Kit, show};
use super::{Derivation, TupleRef};
use crate::syntax::ast::BinOp;

fn rows(k: &Kit, rel: crate::ir::RelId) -> Vec<String> {
    match k.run() {
        Ok(db) => Kit::rows(&db, rel),
        Err(e) => vec![format!("error: {e:?}")],
    }
}

#[test]
fn join_on_shared_variable() {
    let mut k = Kit::default();
    let role = k.base("role", &["person", "org"]);
    let client = k.base("client", &["firm", "client"]);
    let out = k.derived("serves", &["person", "client"]);
    // serves(p, c) :- role(p, f), client(f, c).
    k.clause(out, |c| {
        let body = vec![c.atom(role, &["p", "f"]), c.atom(client, &["f", "x"])];
        (c.es(&["p", "x"]), body)
    });
    k.fact(role, &["ann", "acme"]);
    k.fact(role, &["bob", "zeta"]);
    k.fact(client, &["acme", "palantir"]);
    k.fact(client, &["acme", "gov"]);
    assert_eq!(rows(&k, out), ["ann,gov", "ann,palantir"]);
}

#[test]
fn constants_wildcards_and_repeated_variables() {
    let mut k = Kit::default();
    let h = k.base("holding", &["holder", "asset", "kind"]);
    let out = k.derived("self_or_shares", &["x"]);
    // out(x) :- holding(x, x, _).
    k.clause(out, |c| {
        let body = vec![c.atom(h, &["x", "x", "_"])];
        (c.es(&["x"]), body)
    });
    // out(x) :- holding(x, _, "shares").
    k.clause(out, |c| {
        let body = vec![c.atom(h, &["x", "_", "\"shares\""])];
        (c.es(&["x"]), body)
    });
    k.fact(h, &["a", "a", "\"loan\""]);
    k.fact(h, &["b", "c", "\"shares\""]);
    k.fact(h, &["d", "c", "\"loan\""]);
    assert_eq!(rows(&k, out), ["a", "b"]);
}

#[test]
fn negation_is_an_antijoin() {
    let mut k = Kit::default();
    let role = k.base("role", &["person", "org"]);
    let left = k.base("left", &["person", "org"]);
    let current = k.derived("current", &["person", "org"]);
    // current(p, o) :- role(p, o), not left(p, o).
    k.clause(current, |c| {
        let body = vec![c.atom(role, &["p", "o"]), c.not(left, &["p", "o"])];
        (c.es(&["p", "o"]), body)
    });
    let idle = k.derived("no_role", &["person"]);
    let person = k.base("person", &["id"]);
    // no_role(p) :- person(p), not role(p, _).
    k.clause(idle, |c| {
        let body = vec![c.atom(person, &["p"]), c.not(role, &["p", "_"])];
        (c.es(&["p"]), body)
    });
    k.fact(role, &["ann", "acme"]);
    k.fact(role, &["ann", "zeta"]);
    k.fact(left, &["ann", "acme"]);
    k.fact(person, &["ann"]);
    k.fact(person, &["cy"]);
    assert_eq!(rows(&k, current), ["ann,zeta"]);
    assert_eq!(rows(&k, idle), ["cy"]);
}

fn closure_kit() -> (Kit, crate::ir::RelId, crate::ir::RelId) {
    let mut k = Kit::default();
    let edge = k.base("edge", &["a", "b"]);
    let path = k.derived("path", &["a", "b"]);
    // path(a, b) :- edge(a, b).
    k.clause(path, |c| {
        let body = vec![c.atom(edge, &["a", "b"])];
        (c.es(&["a", "b"]), body)
    });
    // path(a, c) :- path(a, b), path(b, c).
    k.clause(path, |c| {
        let body = vec![c.atom(path, &["a", "b"]), c.atom(path, &["b", "c"])];
        (c.es(&["a", "c"]), body)
    });
    (k, edge, path)
}

#[test]
fn transitive_closure_non_linear() {
    let (mut k, edge, path) = closure_kit();
    for (a, b) in [("1", "2"), ("2", "3"), ("3", "4"), ("4", "2")] {
        k.fact(edge, &[a, b]);
    }
    assert_eq!(
        rows(&k, path),
        [
            "1,2", "1,3", "1,4", "2,2", "2,3", "2,4", "3,2", "3,3", "3,4", "4,2", "4,3", "4,4"
        ]
    );
}

#[test]
fn long_chain_and_deep_proof() {
    let (mut k, edge, path) = closure_kit();
    let n = 300;
    for i in 0..n {
        k.fact(edge, &[&i.to_string(), &(i + 1).to_string()]);
    }
    let db = k.run().expect("evaluates");
    assert_eq!(db.len(path), n * (n + 1) / 2);
    let end = db
        .find(
            path,
            &[
                super::testkit::val("0"),
                super::testkit::val(&n.to_string()),
            ],
        )
        .expect("0 reaches n");
    let proof = db
        .proof(TupleRef {
            rel: path,
            index: end,
        })
        .expect("proof");
    assert!(
        proof.origins().len() == n,
        "every edge is used: {}",
        proof.origins().len()
    );
    assert!(proof.depth() >= 9);
}

fn ownership_kit() -> (Kit, crate::ir::RelId, crate::ir::RelId) {
    let mut k = Kit::default();
    let holding = k.base("holding", &["holder", "asset", "pct"]);
    let controls = k.derived("controls", &["owner", "company", "pct"]);
    // controls(o, c, p) :- holding(o, c, p).
    k.clause(controls, |c| {
        let body = vec![c.atom(holding, &["o", "c", "p"])];
        (c.es(&["o", "c", "p"]), body)
    });
    // controls(o, c, a * b / 100) :- controls(o, m, a), holding(m, c, b).
    k.clause(controls, |c| {
        let body = vec![
            c.atom(controls, &["o", "m", "a"]),
            c.atom(holding, &["m", "c", "b"]),
        ];
        let (a, b, h) = (c.e("a"), c.e("b"), c.e("100"));
        let ab = c.bin(BinOp::Mul, a, b, 20);
        let head = vec![c.e("o"), c.e("c"), c.bin(BinOp::Div, ab, h, 21)];
        (head, body)
    });
    (k, holding, controls)
}

#[test]
fn indirect_ownership_over_a_chain() {
    let (mut k, holding, controls) = ownership_kit();
    k.fact(holding, &["ann", "hold", "50"]);
    k.fact(holding, &["hold", "op", "40"]);
    k.fact(holding, &["op", "sub", "10"]);
    assert_eq!(
        rows(&k, controls),
        [
            "ann,hold,50",
            "ann,op,20",
            "ann,sub,2",
            "hold,op,40",
            "hold,sub,4",
            "op,sub,10"
        ]
    );
}

#[test]
fn indirect_ownership_over_a_diamond_keeps_each_path() {
    let (mut k, holding, controls) = ownership_kit();
    k.fact(holding, &["ann", "left", "50"]);
    k.fact(holding, &["ann", "right", "30"]);
    k.fact(holding, &["left", "target", "20"]);
    k.fact(holding, &["right", "target", "20"]);
    // Two paths give two different percentages (10 and 6); set semantics keeps both.
    assert_eq!(
        rows(&k, controls),
        [
            "ann,left,50",
            "ann,right,30",
            "ann,target,6",
            "ann,target,10",
            "left,target,20",
            "right,target,20"
        ]
    );
}

#[test]
#[expect(clippy::panic, reason = "a test fails by panicking")]
fn provenance_of_a_recursive_fact_reaches_base_facts() {
    let (mut k, holding, controls) = ownership_kit();
    k.fact(holding, &["ann", "hold", "50"]);
    k.fact(holding, &["hold", "op", "40"]);
    k.fact(holding, &["op", "sub", "10"]);
    let db = k.run().expect("evaluates");
    let v = |s: &str| super::testkit::val(s);
    let i = db
        .find(controls, &[v("ann"), v("sub"), v("2")])
        .expect("derived");
    let Some(Derivation::Rule {
        clause,
        bindings,
        premises,
    }) = db.derivation(controls, i)
    else {
        panic!("a derived tuple has a rule derivation");
    };
    assert_eq!(clause.0, 1);
    let b: Vec<String> = bindings
        .iter()
        .map(|b| b.as_ref().map(show).unwrap_or_default())
        .collect();
    assert_eq!(b, ["ann", "op", "20", "sub", "10"]); // o, m, a, c, b
    assert_eq!(premises.len(), 2);
    assert_eq!(premises[0].rel, controls);
    assert_eq!(premises[1].rel, holding);
    let proof = db
        .proof(TupleRef {
            rel: controls,
            index: i,
        })
        .expect("proof");
    // controls(ann,sub) <- controls(ann,op) <- controls(ann,hold) <- holding(ann,hold).
    assert_eq!(proof.depth(), 3);
    let lines: Vec<u32> = proof.origins().iter().map(|o| o.0).collect();
    assert_eq!(lines, [0, 1, 2]);
    assert!(matches!(
        db.derivation(holding, 0),
        Some(Derivation::Base(_))
    ));
}

#[test]
fn mutual_recursion_and_a_lower_stratum_negation() {
    let mut k = Kit::default();
    let edge = k.base("edge", &["a", "b"]);
    let node = k.base("node", &["a"]);
    let even = k.derived("even", &["a"]);
    let odd = k.derived("odd", &["a"]);
    let neither = k.derived("unreached", &["a"]);
    k.clause(even, |c| {
        let body = vec![c.atom(node, &["'s"])];
        (c.es(&["'s"]), body)
    });
    // odd(b) :- even(a), edge(a, b).   even(b) :- odd(a), edge(a, b).
    k.clause(odd, |c| {
        let body = vec![c.atom(even, &["a"]), c.atom(edge, &["a", "b"])];
        (c.es(&["b"]), body)
    });
    k.clause(even, |c| {
        let body = vec![c.atom(odd, &["a"]), c.atom(edge, &["a", "b"])];
        (c.es(&["b"]), body)
    });
    // unreached(a) :- node(a), not even(a), not odd(a).
    k.clause(neither, |c| {
        let body = vec![
            c.atom(node, &["a"]),
            c.not(even, &["a"]),
            c.not(odd, &["a"]),
        ];
        (c.es(&["a"]), body)
    });
    for n in ["s", "x", "y", "z", "lone"] {
        k.fact(node, &[n]);
    }
    for (a, b) in [("s", "x"), ("x", "y"), ("y", "z")] {
        k.fact(edge, &[a, b]);
    }
    let db = k.run().expect("evaluates");
    assert_eq!(Kit::rows(&db, even), ["s", "y"]);
    assert_eq!(Kit::rows(&db, odd), ["x", "z"]);
    assert_eq!(Kit::rows(&db, neither), ["lone"]);
}

#[test]
fn symmetric_facts_hold_both_ways() {
    let mut k = Kit::default();
    let assoc = k.symmetric("associate", &["a", "b"]);
    let out = k.derived("knows", &["a", "b"]);
    k.clause(out, |c| {
        let body = vec![c.atom(assoc, &["a", "b"])];
        (c.es(&["a", "b"]), body)
    });
    k.fact(assoc, &["ann", "bob"]);
    assert_eq!(rows(&k, out), ["ann,bob", "bob,ann"]);
}

#[test]
fn facts_given_for_a_derived_relation_take_part_in_recursion() {
    let (mut k, edge, path) = closure_kit();
    k.fact(edge, &["1", "2"]);
    k.fact(path, &["0", "1"]);
    let db = k.run().expect("evaluates");
    assert_eq!(Kit::rows(&db, path), ["0,1", "0,2", "1,2"]);
    let given = db.find(path, &[super::testkit::val("0"), super::testkit::val("1")]);
    let d = given.and_then(|i| db.derivation(path, i));
    assert!(matches!(d, Some(Derivation::Base(_))), "{d:?}");
}
