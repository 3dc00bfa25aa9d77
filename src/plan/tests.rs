//! Planner tests: join order, index keys, delta variants, stratification errors.

use crate::eval::testkit::Kit;
use crate::plan::{Source, Step, explain, plan, plan_with_sizes};
use crate::syntax::ast::CmpOp;

#[test]
fn non_linear_recursion_gets_one_variant_per_recursive_atom() {
    let mut k = Kit::default();
    let edge = k.base("edge", &["a", "b"]);
    let path = k.derived("path", &["a", "b"]);
    k.clause(path, |c| {
        let body = vec![c.atom(edge, &["a", "b"])];
        (c.es(&["a", "b"]), body)
    });
    k.clause(path, |c| {
        let body = vec![c.atom(path, &["a", "b"]), c.atom(path, &["b", "c"])];
        (c.es(&["a", "c"]), body)
    });
    let p = plan(&k.p).expect("stratified");
    let text = explain(&p, &k.p, None);
    let want = "\
stratum 0 (recursive): path
  path(a, b) <- clause 0
    scan edge(a: a, b: b)
  path(a, c) <- clause 1
    variant delta #0:
      scan delta path(a: a, b: b)
      lookup stable path[a=b](b: c)
    variant delta #1:
      scan delta path(a: b, b: c)
      lookup stable+recent path[b=b](a: a)
";
    assert_eq!(text, want, "\n--- got ---\n{text}");
}

#[test]
fn filters_run_as_soon_as_their_variables_are_bound() {
    let mut k = Kit::default();
    let r = k.base("r", &["a", "b"]);
    let s = k.base("s", &["b", "c"]);
    let t = k.base("t", &["c"]);
    let out = k.derived("out", &["a"]);
    k.clause(out, |c| {
        let body = vec![
            c.atom(s, &["b", "c"]),
            c.cmp("c", CmpOp::Gt, "b"),
            c.not(t, &["c"]),
            c.atom(r, &["a", "b"]),
            c.cmp("a", CmpOp::Ne, "c"),
        ];
        (c.es(&["a"]), body)
    });
    // With sizes, the smaller `r` is scanned first.
    let sizes = [10, 1000, 5, usize::MAX];
    let p = plan_with_sizes(&k.p, Some(&sizes)).expect("stratified");
    let steps = &p.strata[0].clauses[0].variants[0].steps;
    assert_eq!(
        steps,
        &[
            Step::Atom {
                lit: 3,
                source: Source::Full,
                key: vec![]
            },
            Step::Atom {
                lit: 0,
                source: Source::Full,
                key: vec![0]
            },
            Step::Filter { lit: 1 },
            Step::Not {
                lit: 2,
                key: vec![0]
            },
            Step::Filter { lit: 4 },
        ]
    );
    // Without sizes, source order breaks the tie.
    let p = plan(&k.p).expect("stratified");
    let first = &p.strata[0].clauses[0].variants[0].steps[0];
    assert_eq!(
        first,
        &Step::Atom {
            lit: 0,
            source: Source::Full,
            key: vec![]
        }
    );
}

#[test]
fn negation_through_recursion_is_an_error() {
    let mut k = Kit::default();
    let node = k.base("node", &["a"]);
    let p = k.derived("p", &["a"]);
    let q = k.derived("q", &["a"]);
    k.clause(p, |c| {
        let body = vec![c.atom(node, &["a"]), c.not(q, &["a"])];
        (c.es(&["a"]), body)
    });
    k.clause(q, |c| {
        let body = vec![c.atom(p, &["a"])];
        (c.es(&["a"]), body)
    });
    let errs = plan(&k.p).err().unwrap_or_default();
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].code, "probity::plan::unstratifiable");
    assert_eq!(
        errs[0].message,
        "negation inside recursion: `p` depends on itself through it"
    );
    assert_eq!(
        errs[0].help.as_deref(),
        Some(
            "the cycle is p -> q; move the negation out of the cycle, into a relation that does not depend on `p`"
        )
    );
}
