//! The formatter: canonical layout, comments kept, idempotent.

use super::*;
use crate::syntax::fmt::format;

fn fmt(text: &str) -> String {
    format(&ok(text), text)
}

/// Formats, then checks that formatting the result changes nothing and that the AST
/// (as the formatter prints it) survived.
fn fmt_stable(text: &str) -> String {
    let once = fmt(text);
    let twice = fmt(&once);
    assert_eq!(once, twice, "not idempotent:\n{once}");
    once
}

#[test]
fn canonical_layout() {
    let got = fmt_stable(
        "use std use std/holdings\nentity matter entity person(name:text,aliases:[text]?)\n\
         param p=2y \"doc\"  rule r(p){flag \"{p} \\{x\\}\" when{a(x:p),b(1,2) x>1} severity high title \"T\"}",
    );
    let want = "use std
use std/holdings

entity matter
entity person(name: text, aliases: [text]?)

param p = 2y \"doc\"

rule r(p) {
    title    \"T\"
    severity high
    when {
        a(x: p)
        b(1, 2)
        x > 1
    }
    flag \"{p} \\{x\\}\"
}
";
    assert_eq!(got, want);
}

#[test]
fn expressions_keep_their_tree_with_fewest_parentheses() {
    let got = fmt_stable("param p = ((a + b)) * -(c - d) - (e - f) / - - 3");
    assert_eq!(got, "param p = (a + b) * -(c - d) - (e - f) / -(-3)\n");
}

#[test]
fn comments_stay_before_what_they_preceded() {
    let text = "# file header
use std   # trailing

# about the rule
rule r {
    # the conditions
    when {
        a(x: 1)   # first
        # second
        b(y: 2)
        n = count {
            # inner
            c(z: n)
        }
        # end of body
    }
    # end of rule
}
# end of file
";
    let got = fmt_stable(text);
    let comments = |s: &str| s.matches('#').count();
    assert_eq!(comments(&got), comments(text));
    assert!(got.contains("    # the conditions\n    when {"), "{got}");
    assert!(
        got.contains("        # inner\n            c(z: n)")
            || got.contains("            # inner\n            c(z: n)"),
        "{got}"
    );
}

#[test]
fn the_draft_example_is_stable() {
    let text = format!(
        "{}\n{}",
        super::items::RULE,
        "test t {\n given { person(id: ann, name: \"Ann\") m(on: 2025-02-01, at: [ann, acme]) }\n expect r(p: ann)\n expect no r(p: bob)\n}\n\
         derive controls(owner, company, a * b / 100) { controls(owner, mid, a) holding(holder: mid, asset: company, pct: b) }\n\
         relation role(person: person, org: org, from: date?, until: date?) during from..until\n\
         symmetric relation associate(a: person, b: person)\nrelation meeting(on: date, who: [person | org]) at on\n\
         rule w { when { on within 90d of left  j within $c after l  d within 6mo before e  on in f..u  f1..u1 overlaps f2..u2  not x(a: _)  t = sum a { p(a: a) } } }"
    );
    let once = fmt_stable(&text);
    assert!(once.contains("    expect no r(p: bob)\n"), "{once}");
}

#[test]
fn end_of_line_comments_stay_on_their_line_aligned() {
    let text = "# header

use std  # all of it
derive d(x) { a(x: x) }
derive d(x) { b(x: x) }
rule r {
    title \"T\" # the title
    when {
        a(x: 1)     # first
        long_name(y: 2) # second
        c(z: 3)
        e(z: 3) # alone
    }
}
";
    let got = fmt_stable(text);
    let want = "# header

use std  # all of it

derive d(x) {
    a(x: x)
}
derive d(x) {
    b(x: x)
}

rule r {
    title    \"T\"  # the title
    when {
        a(x: 1)          # first
        long_name(y: 2)  # second
        c(z: 3)
        e(z: 3)  # alone
    }
}
";
    assert_eq!(got, want);
}
