//! Diagnostics, recovery and limits.

use super::*;
use crate::diag::{SourceMap, render_one};

#[test]
fn expected_token() {
    let d = diags("rule r { when { role(person: p } }");
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].code, "probity::syntax::expected");
    assert_eq!(d[0].message, "expected `,` or `)`, found `}`");
}

#[test]
fn lexical_errors() {
    assert_eq!(
        codes("param p = \"abc\nparam q = 1"),
        ["unterminated_string"]
    );
    assert_eq!(codes("param p = \"a\\qb\""), ["invalid_escape"]);
    assert_eq!(codes("param p = 2025-02-30"), ["bad_date"]);
    assert_eq!(codes("param p = 2025-13"), ["bad_date"]);
    assert_eq!(codes("param p = 5h"), ["bad_duration"]);
    assert_eq!(codes("param p = 1.0000000001"), ["bad_number"]);
    assert_eq!(
        codes("param p = 99999999999999999999999999999"),
        ["bad_number"]
    );
}

#[test]
fn bad_date_help_comes_from_date_error() {
    let d = diags("param p = 2025-02-30");
    assert_eq!(d[0].message, "invalid date `2025-02-30`");
    assert_eq!(d[0].help.as_deref(), Some("February 2025 has 28 days"));
    let d = diags("param p = 2024-02-30");
    assert_eq!(d[0].help.as_deref(), Some("February 2024 has 29 days"));
    let d = diags("param p = 2025-13");
    assert_eq!(
        d[0].help.as_deref(),
        Some("the month must be between 01 and 12")
    );
    // Only a malformed date may have been meant as a subtraction.
    let d = diags("param p = 2024-1");
    assert_eq!(
        d[0].help.as_deref(),
        Some(
            "a date is written `YYYY`, `YYYY-MM` or `YYYY-MM-DD`; write a subtraction with spaces: `2024 - 1`"
        )
    );
}

#[test]
fn bad_number_help_names_the_limit_that_was_hit() {
    let d = diags("param p = 1.0000000001");
    assert_eq!(d[0].help.as_deref(), Some("round it to at most 9 decimals"));
    let d = diags("param p = 99999999999999999999999999999");
    assert_eq!(
        d[0].help.as_deref(),
        Some("numbers have at most 27 digits before the decimal point")
    );
}

#[test]
fn expected_help_prefers_the_closing_bracket_at_a_closer() {
    let d = diags("rule r { when { role(person: p } }");
    assert_eq!(d[0].help.as_deref(), Some("insert `)` here"));
    let d = diags("rule r { when { role(person: p q) } }");
    assert_eq!(d[0].help.as_deref(), Some("insert `,` here"));
}

#[test]
fn missing_colon_after_a_field_name() {
    let d = diags("rule r { when { role(person p) } }");
    assert_eq!(d.len(), 1, "{d:#?}");
    assert_eq!(d[0].message, "expected `:`, `,` or `)`, found `p`");
    assert_eq!(d[0].help.as_deref(), Some("insert `:` here"));
}

#[test]
fn unknown_severity_is_read_as_a_placeholder() {
    // The rule keeps a severity, so the resolver does not add "has no `severity`".
    let (f, d) = parse(FileId(0), "rule r { severity hgh when { a(x: 1) } }");
    assert_eq!(d.len(), 1);
    let Item::Rule(r) = &f.items[0] else {
        panic!("not a rule")
    };
    assert_eq!(r.severity.as_ref().map(|s| s.node), Some(Severity::High));
}

#[test]
fn rule_attribute_errors() {
    let d = diags("rule r { severity hgh when { a(x: 1) } }");
    assert_eq!(d[0].code, "probity::syntax::unknown_severity");
    assert_eq!(d[0].help.as_deref(), Some("did you mean `high`?"));
    assert_eq!(
        codes("rule r { title \"a\" title \"b\" when { a(x: 1) } }"),
        ["duplicate_attribute"]
    );
    assert_eq!(
        codes("rule r { when { a(x: 1) } flag \"{p left\" }"),
        ["missing_flag_hole_close"]
    );
    assert_eq!(codes("rule r { when { } }"), ["empty_body"]);
}

#[test]
fn unexpected_item_at_top_level() {
    let d = diags("hello world\nuse std");
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].code, "probity::syntax::unexpected_item");
    assert_eq!(d[0].message, "expected an item, found `hello`");
}

#[test]
fn three_mistakes_three_errors() {
    let text = "rule a {
    when { role(person p) }
}
entity person(name text)
use std
rule b {
    when { x > }
}
param ok = 1
";
    let (f, d) = parse(FileId(0), text);
    assert_eq!(d.len(), 3, "{d:#?}");
    assert!(d.iter().all(|d| d.code == "probity::syntax::expected"));
    assert_eq!(f.items.len(), 2, "use and param survive");
}

#[test]
fn missing_brace_resumes_at_next_item() {
    let (f, d) = parse(
        FileId(0),
        "rule a {\n    when { a(x: 1)\n\nrule b { when { b(y: 2) } }\n",
    );
    assert_eq!(d.len(), 1, "{d:#?}");
    assert_eq!(f.items.len(), 1);
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    for (open, close) in [("(", ")"), ("-", ""), ("[", "]")] {
        let text = format!("param p = {}1{}", open.repeat(10_000), close.repeat(10_000));
        assert_eq!(codes(&text), ["too_deep"], "{open}");
    }
    let mut aggs = String::from("rule r { when { ");
    for _ in 0..10_000 {
        aggs.push_str("n = count { ");
    }
    assert_eq!(codes(&aggs), ["too_deep"]);
    // Just inside the limit is fine.
    ok(&format!(
        "param p = {}1{}",
        "(".repeat(120),
        ")".repeat(120)
    ));
}

#[test]
fn huge_single_line_is_linear() {
    let mut text = String::from("rule r { when { ");
    while text.len() < 10_000_000 {
        text.push_str("a(x: b * (c - 1), y: \"s\") x < 2024-01-31, ");
    }
    text.push_str(" } }");
    let t = std::time::Instant::now();
    let (_, d) = parse(FileId(0), &text);
    assert!(d.is_empty());
    assert!(t.elapsed().as_secs() < 20, "took {:?}", t.elapsed());
    let garbage = "foo ".repeat(2_500_000);
    assert_eq!(codes(&garbage), ["unexpected_item"]);
    // One huge expression would build a tree too deep to handle: it is refused.
    let chain = format!("param p = {}1", "1 + ".repeat(2_500_000));
    assert_eq!(codes(&chain), ["too_deep"]);
}

#[test]
fn rendered_diagnostics() {
    let text = "rule r {\n    when { role(person: p }\n}\n";
    let mut map = SourceMap::new();
    let file = map.add("r.coi", text);
    let (_, d) = parse(file, text);
    let got = render_one(&map, &d[0]);
    let want = "error[probity::syntax::expected]: expected `,` or `)`, found `}`
 --> r.coi:2:27
  |
2 |     when { role(person: p }
  |                           ^
  = help: insert `)` here
";
    assert_eq!(got, want);

    let text = "rule r {\n    severity hgh\n}\n";
    let file = map.add("s.coi", text);
    let (_, d) = parse(file, text);
    let got = render_one(&map, &d[0]);
    let want = "error[probity::syntax::unknown_severity]: unknown severity `hgh`
 --> s.coi:2:14
  |
2 |     severity hgh
  |              ^^^
  = help: did you mean `high`?
";
    assert_eq!(got, want);
}

#[test]
fn every_diagnostic_has_span_and_help() {
    let inputs = [
        "rule r { when { role(person: p } }",
        "param p = \"abc",
        "param p = \"a\\qb\"",
        "param p = 2025-02-30",
        "param p = 5h",
        "rule r { severity x }",
        "rule r { flag \"{1}\" flag \"{a\" }",
        "garbage",
    ];
    for text in inputs {
        for d in diags(text) {
            assert!(d.place.is_some() && d.help.is_some(), "{text}: {d:?}");
            assert!(!d.message.ends_with('.'), "{text}: {d:?}");
        }
    }
}

#[test]
fn suggestions_for_misspelt_keywords() {
    let d = diags("rul x { }\n");
    assert_eq!(d[0].help.as_deref(), Some("did you mean `rule`?"));
    let d = diags("rule r { when { a(x: 1) } flg \"x\" }");
    assert!(
        d[0].help
            .as_deref()
            .is_some_and(|h| h.starts_with("did you mean `flag`?"))
    );
    let d = diags("test t { gven { } }");
    assert!(
        d[0].help
            .as_deref()
            .is_some_and(|h| h.starts_with("did you mean `given`?"))
    );
}

#[test]
fn missing_token_at_line_end_is_shown_there() {
    let text = "relation r(a: date, b: date) during a\nparam p = 1\n";
    let d = diags(text);
    assert_eq!(d.len(), 1, "{d:#?}");
    assert_eq!(d[0].message, "expected `..`, found `param`");
    let Some(crate::diag::Place::Span(s)) = d[0].place else {
        panic!()
    };
    assert_eq!(s.start as usize, text.find('\n').unwrap_or(0));
}

#[test]
fn item_keywords_are_not_variables() {
    // The unfinished expression does not swallow the next item.
    let (f, d) = parse(FileId(0), "param p = 3 +\nparam q = $\nparam r = 1\n");
    assert_eq!(
        d.iter().map(|d| d.message.as_str()).collect::<Vec<_>>(),
        [
            "expected an expression, found `param`",
            "expected a name, found end of line"
        ]
    );
    assert_eq!(f.items.len(), 1);
}

#[test]
fn every_prefix_and_odd_characters_parse_without_panic() {
    let text = format!(
        "{}\n{}",
        super::items::RULE,
        "test t { given { a(x: \"é\\\", y: 2024-01) } expect no r(p: ann) } é ü"
    );
    for end in (0..=text.len()).filter(|&e| text.is_char_boundary(e)) {
        let _ = parse(FileId(0), &text[..end]);
    }
    for odd in [
        "\"\\",
        "{",
        "}",
        "é",
        "rule é",
        "param p = \"{\\é\"",
        "rule r { flag \"{\" }",
        "\r\n#\r\n",
    ] {
        let _ = parse(FileId(0), odd);
    }
}
