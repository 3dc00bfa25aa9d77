//! More evaluator tests: aggregates, dates and windows, params, errors and limits.

use super::testkit::Kit;
use crate::ir::RelId;
use crate::syntax::ast::{AggFunc, BinOp, CmpOp, WithinDir};

fn rows(k: &Kit, rel: RelId) -> Vec<String> {
    match k.run() {
        Ok(db) => Kit::rows(&db, rel),
        Err(e) => e
            .iter()
            .map(|d| format!("error {}: {}", d.code, d.message))
            .collect(),
    }
}

fn meetings() -> (Kit, RelId, RelId) {
    let mut k = Kit::default();
    let person = k.base("person", &["id"]);
    let meeting = k.base("meeting", &["id", "attendee", "minutes"]);
    for p in ["ann", "bob", "cy"] {
        k.fact(person, &[p]);
    }
    for (m, p, min) in [
        ("m1", "ann", "30"),
        ("m2", "ann", "45"),
        ("m3", "ann", "30"),
        ("m1", "bob", "30"),
    ] {
        k.fact(meeting, &[m, p, min]);
    }
    (k, person, meeting)
}

#[test]
fn count_per_group_with_empty_groups() {
    let (mut k, person, meeting) = meetings();
    let out = k.derived("met", &["person", "n"]);
    // met(p, n) :- person(p), n = count { meeting(m, p, _) }.
    k.clause(out, |c| {
        let inner = vec![c.atom(meeting, &["m", "p", "_"])];
        let body = vec![
            c.atom(person, &["p"]),
            c.agg("n", AggFunc::Count, None, &["p"], inner),
        ];
        (c.es(&["p", "n"]), body)
    });
    assert_eq!(rows(&k, out), ["ann,3", "bob,1", "cy,0"]);
}

#[test]
fn count_counts_distinct_bindings_of_the_bodys_own_variables() {
    let (mut k, person, meeting) = meetings();
    let out = k.derived("durations", &["person", "n"]);
    // Counting distinct `min` values only: ann has 30 and 45.
    k.clause(out, |c| {
        let inner = vec![c.atom(meeting, &["_", "p", "min"])];
        let body = vec![
            c.atom(person, &["p"]),
            c.agg("n", AggFunc::Count, None, &["p"], inner),
        ];
        (c.es(&["p", "n"]), body)
    });
    assert_eq!(rows(&k, out), ["ann,2", "bob,1", "cy,0"]);
}

#[test]
fn sum_min_max_per_group() {
    let (mut k, person, meeting) = meetings();
    let out = k.derived("stats", &["person", "total", "least", "most"]);
    k.clause(out, |c| {
        let s = vec![c.atom(meeting, &["m", "p", "x"])];
        let lo = vec![c.atom(meeting, &["m2", "p", "y"])];
        let hi = vec![c.atom(meeting, &["m3", "p", "z"])];
        let body = vec![
            c.atom(person, &["p"]),
            c.agg("total", AggFunc::Sum, Some("x"), &["p"], s),
            c.agg("least", AggFunc::Min, Some("y"), &["p"], lo),
            c.agg("most", AggFunc::Max, Some("z"), &["p"], hi),
        ];
        (c.es(&["p", "total", "least", "most"]), body)
    });
    // cy met nobody: min and max bind nothing, so no tuple for cy.
    assert_eq!(rows(&k, out), ["ann,105,30,45", "bob,30,30,30"]);
}

#[test]
fn sum_over_nothing_is_zero_and_a_filter_can_read_it() {
    let (mut k, person, meeting) = meetings();
    let out = k.derived("idle", &["person"]);
    k.clause(out, |c| {
        let s = vec![c.atom(meeting, &["m", "p", "x"])];
        let body = vec![
            c.atom(person, &["p"]),
            c.agg("t", AggFunc::Sum, Some("x"), &["p"], s),
            c.cmp("t", CmpOp::Eq, "0"),
        ];
        (c.es(&["p"]), body)
    });
    assert_eq!(rows(&k, out), ["cy"]);
}

#[test]
fn aggregate_premises_are_recorded() {
    let (mut k, person, meeting) = meetings();
    let out = k.derived("met", &["person", "n"]);
    k.clause(out, |c| {
        let inner = vec![c.atom(meeting, &["m", "p", "_"])];
        let body = vec![
            c.atom(person, &["p"]),
            c.agg("n", AggFunc::Count, None, &["p"], inner),
        ];
        (c.es(&["p", "n"]), body)
    });
    let db = k.run().expect("evaluates");
    let v = super::testkit::val;
    let i = db.find(out, &[v("ann"), v("3")]).expect("ann met 3 times");
    let proof = db
        .proof(super::TupleRef { rel: out, index: i })
        .expect("proof");
    // person(ann) and the three meetings.
    assert_eq!(proof.origins().len(), 4);
}

fn dated() -> (Kit, RelId, RelId) {
    let mut k = Kit::default();
    let role = k.base("role", &["person", "org", "from", "until"]);
    let holding = k.base("holding", &["holder", "asset", "from", "until"]);
    (k, role, holding)
}

#[test]
fn open_ends_and_partial_dates_compare_with_certainty() {
    let (mut k, role, holding) = dated();
    let out = k.derived("retained", &["person", "org"]);
    // retained(p, f) :- role(p, f, _, left), holding(p, f, _, kept), kept > left.
    k.clause(out, |c| {
        let body = vec![
            c.atom(role, &["p", "f", "_", "left"]),
            c.atom(holding, &["p", "f", "_", "kept"]),
            c.cmp("kept", CmpOp::Gt, "left"),
        ];
        (c.es(&["p", "f"]), body)
    });
    k.fact(role, &["ann", "acme", "@-inf", "@2024-12-01"]);
    k.fact(holding, &["ann", "acme", "@2020", "@+inf"]);
    // January 2025 is certainly after mid-December, but not after 2025-01-15.
    k.fact(role, &["bob", "zeta", "@-inf", "@2024-12-15"]);
    k.fact(holding, &["bob", "zeta", "@-inf", "@2025-01"]);
    k.fact(role, &["cy", "zeta", "@-inf", "@2025-01-15"]);
    k.fact(holding, &["cy", "zeta", "@-inf", "@2025-01"]);
    // An absent value (`none`) fails every ordering comparison.
    k.fact(role, &["dee", "acme", "@-inf", "none"]);
    k.fact(holding, &["dee", "acme", "@-inf", "@+inf"]);
    assert_eq!(rows(&k, out), ["ann,acme", "bob,zeta"]);
}

#[test]
fn within_of_after_before() {
    let mut k = Kit::default();
    let ev = k.base("event", &["id", "on"]);
    let out = k.derived("near", &["a", "b", "how"]);
    for (dir, how) in [
        (WithinDir::Of, "\"of\""),
        (WithinDir::After, "\"after\""),
        (WithinDir::Before, "\"before\""),
    ] {
        k.clause(out, |c| {
            let body = vec![
                c.atom(ev, &["a", "da"]),
                c.atom(ev, &["b", "db"]),
                c.cmp("a", CmpOp::Ne, "b"),
                c.within("da", "#30d", dir, "db"),
            ];
            (c.es(&["a", "b", how]), body)
        });
    }
    k.fact(ev, &["x", "@2025-01-10"]);
    k.fact(ev, &["y", "@2025-02-01"]);
    k.fact(ev, &["z", "@2025-06"]);
    assert_eq!(
        rows(&k, out),
        [
            "x,y,\"before\"",
            "x,y,\"of\"",
            "y,x,\"after\"",
            "y,x,\"of\""
        ]
    );
}

#[test]
fn in_range_and_overlaps_with_open_ends() {
    let (mut k, role, holding) = dated();
    let during = k.derived("during", &["person"]);
    let both = k.derived("both", &["person"]);
    k.clause(during, |c| {
        let body = vec![
            c.atom(role, &["p", "_", "f", "u"]),
            c.in_range("@2024-06-01", "f", "u"),
        ];
        (c.es(&["p"]), body)
    });
    k.clause(both, |c| {
        let body = vec![
            c.atom(role, &["p", "o", "f1", "u1"]),
            c.atom(holding, &["p", "o", "f2", "u2"]),
            c.overlaps("f1", "u1", "f2", "u2"),
        ];
        (c.es(&["p"]), body)
    });
    k.fact(role, &["ann", "acme", "@-inf", "@+inf"]);
    k.fact(role, &["bob", "acme", "@2024-07", "@+inf"]);
    k.fact(role, &["cy", "acme", "@2024", "@2024"]);
    k.fact(holding, &["ann", "acme", "@2030", "@+inf"]);
    k.fact(holding, &["bob", "acme", "@2020", "@2024-06"]);
    k.fact(holding, &["cy", "acme", "@2024-12", "@2025"]);
    // cy: the role (the year 2024) is not certainly on or before December 2024.
    assert_eq!(rows(&k, during), ["ann"]);
    assert_eq!(rows(&k, both), ["ann"]);
}

#[test]
fn durations_added_to_dates_and_params() {
    let mut k = Kit::default();
    let left = k.base("left", &["person", "on"]);
    let joined = k.base("joined", &["person", "on"]);
    let cool = k.param("cooling_off", "#2y");
    let out = k.derived("too_soon", &["person", "free"]);
    // too_soon(p, l + $cooling_off) :- left(p, l), joined(p, j), j < l + $cooling_off.
    k.clause(out, |c| {
        let (l, p) = (c.e("l"), c.p(cool));
        let free = c.bin(BinOp::Add, l, p, 30);
        let body = vec![
            c.atom(left, &["p", "l"]),
            c.atom(joined, &["p", "j"]),
            c.assign("free", free),
            c.cmp("j", CmpOp::Lt, "free"),
        ];
        (c.es(&["p", "free"]), body)
    });
    k.fact(left, &["ann", "@2024-02-29"]);
    k.fact(joined, &["ann", "@2025-03"]);
    k.fact(left, &["bob", "@2020-01"]);
    k.fact(joined, &["bob", "@2023"]);
    assert_eq!(rows(&k, out), ["ann,2026-02-28"]);
    k.params = vec![super::testkit::val("#6mo")];
    assert_eq!(rows(&k, out), Vec::<String>::new());
}

#[test]
fn assign_to_a_bound_variable_is_a_test() {
    let mut k = Kit::default();
    let n = k.base("pair", &["a", "b"]);
    let out = k.derived("double", &["a"]);
    k.clause(out, |c| {
        let (a, two) = (c.e("a"), c.e("2"));
        let e = c.bin(BinOp::Mul, a, two, 31);
        let body = vec![c.atom(n, &["a", "b"]), c.assign("b", e)];
        (c.es(&["a"]), body)
    });
    k.fact(n, &["2", "4"]);
    k.fact(n, &["3", "5"]);
    assert_eq!(rows(&k, out), ["2"]);
}

#[test]
fn none_fails_arithmetic_and_equals_only_none() {
    let mut k = Kit::default();
    let r = k.base("r", &["a", "b"]);
    let sum = k.derived("sum", &["a", "s"]);
    let nones = k.derived("same", &["a"]);
    k.clause(sum, |c| {
        let (a, b) = (c.e("a"), c.e("b"));
        let s = c.bin(BinOp::Add, a, b, 32);
        let body = vec![c.atom(r, &["a", "b"])];
        (vec![c.e("a"), s], body)
    });
    k.clause(nones, |c| {
        let body = vec![c.atom(r, &["a", "b"]), c.cmp("b", CmpOp::Eq, "none")];
        (c.es(&["a"]), body)
    });
    k.fact(r, &["1", "2"]);
    k.fact(r, &["5", "none"]);
    assert_eq!(rows(&k, sum), ["1,3"]);
    assert_eq!(rows(&k, nones), ["5"]);
}

#[test]
fn overflow_and_division_by_zero_are_errors() {
    let mut k = Kit::default();
    let r = k.base("r", &["a", "b"]);
    let q = k.derived("ratio", &["q"]);
    k.clause(q, |c| {
        let (a, b) = (c.e("a"), c.e("b"));
        let e = c.bin(BinOp::Div, a, b, 40);
        let body = vec![c.atom(r, &["a", "b"])];
        (vec![e], body)
    });
    k.fact(r, &["1", "0"]);
    let errs = k.run().err().unwrap_or_default();
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].code, "probity::eval::division_by_zero");
    assert_eq!(errs[0].message, "division by zero while deriving `ratio`");
    assert_eq!(
        errs[0].place,
        Some(crate::diag::Place::Span(super::testkit::sp(40)))
    );
    assert!(errs[0].help.is_some());

    let mut k = Kit::default();
    let r = k.base("r", &["a"]);
    let sq = k.derived("square", &["q"]);
    k.clause(sq, |c| {
        let (a, b) = (c.e("a"), c.e("a"));
        let e = c.bin(BinOp::Mul, a, b, 41);
        let body = vec![c.atom(r, &["a"])];
        (vec![e], body)
    });
    k.fact(r, &["100000000000000000000"]);
    let errs = k.run().err().unwrap_or_default();
    assert_eq!(
        errs.first().map(|d| d.code),
        Some("probity::eval::overflow")
    );
}

#[test]
fn a_recursion_that_invents_values_stops_at_the_limit() {
    let mut k = Kit::default();
    let start = k.base("start", &["n"]);
    let nat = k.derived("nat", &["n"]);
    k.clause(nat, |c| {
        let body = vec![c.atom(start, &["n"])];
        (c.es(&["n"]), body)
    });
    // nat(n + 1) :- nat(n).
    k.clause(nat, |c| {
        let (n, one) = (c.e("n"), c.e("1"));
        let e = c.bin(BinOp::Add, n, one, 50);
        let body = vec![c.atom(nat, &["n"])];
        (vec![e], body)
    });
    k.fact(start, &["0"]);
    k.opts.max_iterations = 50;
    let errs = k.run().err().unwrap_or_default();
    assert_eq!(errs.first().map(|d| d.code), Some("probity::eval::limit"));
    assert!(errs[0].message.contains("`nat`"), "{}", errs[0].message);
    k.opts.max_iterations = 1_000_000;
    k.opts.max_tuples = 1000;
    let errs = k.run().err().unwrap_or_default();
    assert_eq!(errs.first().map(|d| d.code), Some("probity::eval::limit"));
    assert!(
        errs[0].message.contains("1000 derived tuples"),
        "{}",
        errs[0].message
    );
}

#[test]
fn explain_prints_strata_variants_and_keys() {
    let mut k = Kit::default();
    let holding = k.base("holding", &["holder", "asset", "pct"]);
    let controls = k.derived("controls", &["owner", "company", "pct"]);
    let person = k.base("person", &["id"]);
    let flagged = k.derived("flagged", &["owner"]);
    k.clause(controls, |c| {
        let body = vec![c.atom(holding, &["o", "c", "p"])];
        (c.es(&["o", "c", "p"]), body)
    });
    k.clause(controls, |c| {
        let body = vec![
            c.atom(controls, &["o", "m", "a"]),
            c.atom(holding, &["m", "c", "b"]),
        ];
        let (a, b, h) = (c.e("a"), c.e("b"), c.e("100"));
        let ab = c.bin(BinOp::Mul, a, b, 20);
        (vec![c.e("o"), c.e("c"), c.bin(BinOp::Div, ab, h, 21)], body)
    });
    k.clause(flagged, |c| {
        let inner = vec![c.atom(controls, &["o", "x", "_"])];
        let body = vec![
            c.atom(person, &["o"]),
            c.not(holding, &["o", "'acme", "_"]),
            c.agg("n", AggFunc::Count, None, &["o"], inner),
            c.cmp("n", CmpOp::Ge, "2"),
        ];
        (c.es(&["o"]), body)
    });
    let plan = crate::plan::plan(&k.p).expect("stratified");
    let text = crate::plan::explain(&plan, &k.p, None);
    let want = "\
stratum 0 (recursive): controls
  controls(o, c, p) <- clause 0
    scan holding(holder: o, asset: c, pct: p)
  controls(o, c, a * b / 100) <- clause 1
    variant delta #0:
      scan delta controls(owner: o, company: m, pct: a)
      lookup holding[holder=m](asset: c, pct: b)
stratum 1: flagged
  flagged(o) <- clause 2
    scan person(id: o)
    not holding[holder=o, asset=\"acme\"]
    aggregate n = count per [o] {
      lookup controls[owner=o](company: x)
    }
    filter n >= 2
";
    assert_eq!(text, want, "\n--- got ---\n{text}");
}

/// A rough speed check: `cargo test --release --lib eval::tests_more::speed -- --ignored --nocapture`.
#[test]
#[ignore]
fn speed() {
    use std::time::Instant;
    let mut k = Kit::default();
    let edge = k.base("edge", &["a", "b"]);
    let path = k.derived("path", &["a", "b"]);
    k.clause(path, |c| {
        let body = vec![c.atom(edge, &["a", "b"])];
        (c.es(&["a", "b"]), body)
    });
    // path(a, c) :- path(a, b), edge(b, c).
    k.clause(path, |c| {
        let body = vec![c.atom(path, &["a", "b"]), c.atom(edge, &["b", "c"])];
        (c.es(&["a", "c"]), body)
    });
    let n = 1500;
    for i in 0..n {
        for d in [1, 7] {
            if i + d < n {
                k.fact(edge, &[&i.to_string(), &(i + d).to_string()]);
            }
        }
    }
    let fs = k.fact_set();
    for prov in [true, false] {
        let opts = super::EvalOptions {
            provenance: prov,
            ..Default::default()
        };
        let t = Instant::now();
        let db = super::evaluate(&k.p, &fs, &[], &opts).expect("evaluates");
        let dt = t.elapsed();
        let m = db.len(path) as f64;
        println!(
            "provenance {prov}: {} tuples in {dt:?} ({:.1} M tuples/s)",
            db.len(path),
            m / dt.as_secs_f64() / 1e6
        );
    }
}

#[test]
fn kept_results_of_filters_and_assignments_match_computing_each() {
    // Over 12,000 tuples: `a` repeats 50 values (and a text, whose product is no value),
    // `b` never repeats (its memo gives up), `a < b` reads both.
    let mut k = Kit::default();
    let r = k.base("r", &["a", "b"]);
    let out = k.derived("out", &["a", "x", "b"]);
    k.clause(out, |c| {
        let (a, three) = (c.e("a"), c.e("3"));
        let x = c.bin(BinOp::Mul, a, three, 42);
        let body = vec![
            c.atom(r, &["a", "b"]),
            c.assign("x", x),
            c.cmp("x", CmpOp::Ge, "30"),
            c.cmp("b", CmpOp::Lt, "9000"),
            c.cmp("a", CmpOp::Lt, "b"),
        ];
        (c.es(&["a", "x", "b"]), body)
    });
    let mut want = Vec::new();
    for i in 0..12_000u32 {
        let a = (i * 7) % 50;
        if i % 97 == 0 {
            k.fact(r, &["\"t\"", &i.to_string()]);
            continue;
        }
        k.fact(r, &[&a.to_string(), &i.to_string()]);
        if a * 3 >= 30 && i < 9000 && a < i {
            want.push((a, a * 3, i));
        }
    }
    want.sort();
    let mut got: Vec<(u32, u32, u32)> = rows(&k, out)
        .iter()
        .map(|row| {
            let n: Vec<u32> = row.split(',').filter_map(|s| s.parse().ok()).collect();
            (n[0], n[1], n[2])
        })
        .collect();
    got.sort();
    assert_eq!(got.len(), want.len());
    assert_eq!(got, want);
}
