//! Expressions and body literals.

use super::*;

#[test]
fn arithmetic_precedence_and_unary_minus() {
    assert_eq!(expr("1 + 2 * 3 - 4"), "(- (+ #1 (* #2 #3)) #4)");
    assert_eq!(expr("(1 + 2) * -x"), "(* (+ #1 #2) (- x))");
    assert_eq!(expr("- - 3"), "(- (- #3))");
    assert_eq!(expr("a / b / c"), "(/ (/ a b) c)");
}

#[test]
fn literals() {
    assert_eq!(expr("\"a\\\"b\\n\""), "\"a\\\"b\\n\"");
    assert_eq!(expr("12.5"), "#12.5");
    assert_eq!(expr("2024"), "#2024");
    assert_eq!(expr("2024-12-01"), "@2024-12-01");
    assert_eq!(expr("2025-01"), "@2025-01");
    assert_eq!(expr("2024 - 12"), "(- #2024 #12)");
    assert_eq!(
        expr("90d + 3w + 6mo + 2y"),
        "(+ (+ (+ ~90d ~21d) ~6mo) ~2y)"
    );
    assert_eq!(
        expr("[true, false, none, _, $x,]"),
        "[true false none _ $x]"
    );
}

#[test]
fn number_keeps_text_and_value() {
    let f = ok("param p = 0012.50");
    let Item::Param(p) = &f.items[0] else {
        panic!()
    };
    let ExprKind::Lit(Lit::Number { value, text }) = &p.value.kind else {
        panic!()
    };
    assert_eq!(
        (value.to_string(), text.as_str()),
        ("12.5".to_string(), "0012.50")
    );
}

#[test]
fn expression_spans() {
    let text = "param p = (a + b) * 2";
    let f = ok(text);
    let Item::Param(p) = &f.items[0] else {
        panic!()
    };
    assert_eq!(
        &text[p.value.span.start as usize..p.value.span.end as usize],
        "(a + b) * 2"
    );
    let ExprKind::Binary(_, lhs, _) = &p.value.kind else {
        panic!()
    };
    assert_eq!(
        &text[lhs.span.start as usize..lhs.span.end as usize],
        "(a + b)"
    );
}

#[test]
fn atoms_named_positional_wildcard_and_negation() {
    assert_eq!(
        body(
            "role(person: p, org: firm), controls(a, b, pct) holding(holder: p, asset: _) not client(firm: f, client: \"acme\") matter()"
        ),
        [
            "role(person: p, org: firm)",
            "controls(a, b, pct)",
            "holding(holder: p, asset: _)",
            "not client(firm: f, client: \"acme\")",
            "matter()"
        ]
    );
}

#[test]
fn comparisons() {
    assert_eq!(
        body("a = b a != b a < b a <= b a > b a >= b x = a * b / 100"),
        [
            "a = b",
            "a != b",
            "a < b",
            "a <= b",
            "a > b",
            "a >= b",
            "x = (/ (* a b) #100)"
        ]
    );
}

#[test]
fn windows_ranges_and_overlaps() {
    assert_eq!(
        body(
            "on within 90d of left joined within $cooling_off after left d within 6mo before e on in from..until f1..u1 overlaps f2..u2"
        ),
        [
            "on within ~90d Of left",
            "joined within $cooling_off After left",
            "d within ~6mo Before e",
            "on in from..until",
            "f1..u1 overlaps f2..u2"
        ]
    );
    assert_eq!(
        body("2024-01..2024-02 overlaps a..b"),
        ["@2024-01..@2024-02 overlaps a..b"]
    );
}

#[test]
fn aggregates() {
    assert_eq!(
        body(
            "n = count { meeting(id: m, attendees: p) } total = sum amt { payment(amount: amt) } first = min d { meeting(on: d) } last = max d + 1d { meeting(on: d) }"
        ),
        [
            "n = Count { meeting(id: m, attendees: p) }",
            "total = Sum amt { payment(amount: amt) }",
            "first = Min d { meeting(on: d) }",
            "last = Max (+ d ~1d) { meeting(on: d) }"
        ]
    );
    // `min`, `max` and `count` as plain variables.
    assert_eq!(
        body("x = min - 1 y = count"),
        ["x = (- min #1)", "y = count"]
    );
    assert_eq!(
        body("n = count { m = count { a(x: 1) } }"),
        ["n = Count { m = Count { a(x: #1) } }"]
    );
}
