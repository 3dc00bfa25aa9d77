//! Semantic cases of the rule language, end to end from text: one line each.
//!
//! - `yes!(name, PROGRAM, given: FACTS, "rel" => ["row", …])`: the exact contents of one
//!   relation, sorted, values space-separated as `Display` prints them.
//! - `fails!(name, PROGRAM, given: FACTS, "code")`: the error codes of checking or running.
//! - `value!(name, EXPR => "value")`: what an expression computes (or `=> error "code"`).
//! - `holds!(name, COND => true)`: whether a condition on constants holds.
//! - `tested!`: the `test` block runner's verdicts; `flags!`: finding messages over a case
//!   folder.
//!
//! Programs are checked after the schema in `semantics_support::PRELUDE` (`node`
//! entities, `edge`, `own`, `num`, `day`, `txt`, `span`, `ev`, `tie`, `meet`, `tagged`); facts are
//! written as in a `given` block.

mod semantics_support;

use semantics_support::*;

// Joins: named and positional fields, any order, subsets, wildcards, constants.
yes!(named_fields_in_any_order, "derive r(x, y) { edge(b: y, a: x) }", given: "edge(a: p, b: q)", "r" => ["p q"]);
yes!(positional_fields_in_declaration_order, "derive r(x, y) { edge(y, x) }", given: "edge(a: p, b: q)", "r" => ["q p"]);
yes!(a_subset_of_fields_is_a_projection, "derive r(h) { own(holder: h) }", given: "own(holder: a, asset: b, pct: 5) own(holder: a, asset: c, pct: 6)", "r" => ["a"]);
yes!(wildcards_match_anything, "derive r(h) { own(holder: h, asset: _, pct: _) }", given: "own(holder: a, asset: b, pct: 5) own(holder: c, asset: b, pct: 6)", "r" => ["a", "c"]);
yes!(text_in_an_entity_field_is_an_id, "derive r(h) { own(holder: h, asset: \"acme\") }", given: "own(holder: a, asset: acme, pct: 5) own(holder: b, asset: other, pct: 5)", "r" => ["a"]);
yes!(number_constant_in_a_field, "derive r(h) { own(holder: h, pct: 50) }", given: "own(holder: a, asset: b, pct: 50.0) own(holder: c, asset: b, pct: 5)", "r" => ["a"]);
yes!(expression_in_a_field, "derive r(k) { num(k: k, n: 1 + 1) }", given: "num(k: a, n: 2) num(k: b, n: 3)", "r" => ["a"]);
yes!(shared_variable_joins, "derive r(x, z) { edge(a: x, b: y) edge(a: y, b: z) }", given: "edge(a: p, b: q) edge(a: q, b: r) edge(a: r, b: s)", "r" => ["p r", "q s"]);
yes!(repeated_variable_in_one_atom, "derive r(x) { edge(a: x, b: x) }", given: "edge(a: p, b: p) edge(a: p, b: q)", "r" => ["p"]);
yes!(join_with_entity_fields, "derive r(x, l) { edge(a: x) node(id: x, label: l) }", given: "node(id: p, label: \"Pat\") node(id: q, label: \"Quin\") edge(a: p, b: q)", "r" => ["p Pat"]);
yes!(entity_compared_with_text_id, "derive r(y) { edge(a: x, b: y) x = \"p\" }", given: "edge(a: p, b: q) edge(a: q, b: r)", "r" => ["q"]);
yes!(relations_are_sets, "derive r(x) { edge(a: x) }", given: "edge(a: p, b: q) edge(a: p, b: q) edge(a: p, b: r)", "r" => ["p"]);
yes!(text_id_on_the_left, "derive r(y) { edge(a: x, b: y) \"p\" = x }", given: "edge(a: p, b: q) edge(a: q, b: r)", "r" => ["q"]);
yes!(none_as_a_constant_matches_absent, "derive r(k) { num(k: k, n: none) }", given: "num(k: a) num(k: b, n: 1)", "r" => ["a"]);
yes!(expression_in_a_negated_atom, "derive r(k) { num(k: k, n: n) not num(k: _, n: n + 1) }", given: "num(k: a, n: 1) num(k: b, n: 2)", "r" => ["b"]);
yes!(head_repeats_a_variable, "derive r(x, x) { edge(a: x) }", given: "edge(a: p, b: q)", "r" => ["p p"]);
yes!(wildcard_in_a_derived_atom, "derive r(x, y) { edge(a: x, b: y) } derive s(x) { r(x, _) }", given: "edge(a: p, b: q)", "s" => ["p"]);
yes!(rule_findings_read_by_a_helper, "rule a(x) { title \"t\" severity low when { edge(a: x) } } derive b(x) { a(x) }", given: "edge(a: p, b: q)", "b" => ["p"]);
yes!(assignment_then_comparison, "derive r(k, y) { num(k: k, n: n) y = n * 2 y > 3 }", given: "num(k: a, n: 1) num(k: b, n: 2)", "r" => ["b 4"]);
yes!(variable_equal_to_bound_variable_is_a_test, "derive r(k) { num(k: k, n: n) m = 2 n = m }", given: "num(k: a, n: 1) num(k: b, n: 2)", "r" => ["b"]);

// Several `derive` blocks are a union; several `when` blocks are alternatives.
yes!(derive_blocks_are_a_union, "derive r(x) { edge(a: x) } derive r(x) { edge(b: x) }", given: "edge(a: p, b: q) edge(a: q, b: r)", "r" => ["p", "q", "r"]);
yes!(when_blocks_are_alternatives, "rule r(x) { title \"t\" severity low when { edge(a: x, b: _) } when { tie(a: x, b: \"z\") } }", given: "edge(a: p, b: q) tie(a: q, b: z)", "r" => ["p", "q"]);

// Negation.
yes!(negation_of_an_atom, "derive src(x) { edge(a: x) not edge(b: x) }", given: "edge(a: p, b: q) edge(a: q, b: r)", "src" => ["p"]);
yes!(negation_with_a_wildcard, "derive sink(x) { node(id: x) not edge(a: x, b: _) }", given: "node(id: p) node(id: q) edge(a: p, b: q)", "sink" => ["q"]);
yes!(negation_with_a_constant, "derive r(x) { node(id: x) not edge(a: x, b: \"hub\") }", given: "node(id: p) node(id: q) edge(a: p, b: hub) edge(a: q, b: p)", "r" => ["q"]);
yes!(negation_of_a_derived_relation, "derive reach(x) { edge(a: \"s\", b: x) } derive reach(y) { reach(x) edge(a: x, b: y) } derive cut(x) { node(id: x) not reach(x) }", given: "node(id: s) node(id: p) node(id: q) edge(a: s, b: p) edge(a: q, b: s)", "cut" => ["q", "s"]);
fails!(negation_through_recursion, "derive a(x) { node(id: x) not b(x) } derive b(x) { node(id: x) not a(x) }", given: "", "probity::resolve::negation_cycle");
fails!(negated_variable_must_be_bound, "derive r(x) { node(id: x) not edge(a: x, b: y) }", given: "", "probity::resolve::unbound_variable");
yes!(negated_variable_bound_by_an_assignment, "derive r(x) { node(id: x) not edge(a: x, b: y) y = x }", given: "node(id: p) node(id: q) edge(a: p, b: p) edge(a: q, b: p)", "r" => ["q"]);
yes!(negation_of_a_symmetric_relation, "derive r(x, y) { edge(a: x, b: y) not tie(a: x, b: y) }", given: "edge(a: p, b: q) edge(a: q, b: r) tie(a: q, b: p)", "r" => ["q r"]);
yes!(negation_of_a_list_member, "derive r(m) { meet(id: m, attendees: _) not meet(id: m, attendees: \"p\") }", given: "meet(id: \"m1\", attendees: [p, q]) meet(id: \"m2\", attendees: [q])", "r" => ["m2"]);

// Recursion.
yes!(transitive_closure, "derive path(a, b) { edge(a, b) } derive path(a, c) { path(a, b) edge(b, c) }", given: "edge(a: x, b: y) edge(a: y, b: z)", "path" => ["x y", "x z", "y z"]);
yes!(a_cycle_terminates, "derive path(a, b) { edge(a, b) } derive path(a, c) { path(a, b) edge(b, c) }", given: "edge(a: x, b: y) edge(a: y, b: x)", "path" => ["x x", "x y", "y x", "y y"]);
const CONTROLS: &str = "derive controls(o, c, p) { own(holder: o, asset: c, pct: p) } derive controls(o, c, a * b / 100) { controls(o, m, a) own(holder: m, asset: c, pct: b) }";
yes!(indirect_ownership_multiplies_along_a_chain, CONTROLS, given: "own(holder: a, asset: b, pct: 50) own(holder: b, asset: c, pct: 40) own(holder: c, asset: d, pct: 50)", "controls" => ["a b 50", "a c 20", "a d 10", "b c 40", "b d 20", "c d 50"]);
yes!(a_diamond_gives_one_fact_per_path, CONTROLS, given: "own(holder: a, asset: b, pct: 50) own(holder: a, asset: c, pct: 50) own(holder: b, asset: d, pct: 40) own(holder: c, asset: d, pct: 60)", "controls" => ["a b 50", "a c 50", "a d 20", "a d 30", "b d 40", "c d 60"]);
yes!(equal_shares_by_two_paths_are_one_fact, CONTROLS, given: "own(holder: a, asset: b, pct: 50) own(holder: a, asset: c, pct: 50) own(holder: b, asset: d, pct: 40) own(holder: c, asset: d, pct: 40)", "controls" => ["a b 50", "a c 50", "a d 20", "b d 40", "c d 40"]);
yes!(an_ownership_cycle_shrinks_to_zero_and_stops, &format!("{CONTROLS} derive least(n) {{ n = min p {{ controls(\"a\", \"a\", p) }} }}"), given: "own(holder: a, asset: b, pct: 50) own(holder: b, asset: a, pct: 50)", "least" => ["0"]);
yes!(non_linear_recursion, "derive path(a, b) { edge(a, b) } derive path(a, c) { path(a, b) path(b, c) }", given: "edge(a: p, b: q) edge(a: q, b: r) edge(a: r, b: s) edge(a: s, b: t)", "path" => ["p q", "p r", "p s", "p t", "q r", "q s", "q t", "r s", "r t", "s t"]);
yes!(mutual_recursion, "derive even(x) { node(id: x) x = \"s\" } derive even(y) { odd(x) edge(a: x, b: y) } derive odd(y) { even(x) edge(a: x, b: y) }", given: "node(id: s) edge(a: s, b: p) edge(a: p, b: q) edge(a: q, b: r)", "odd" => ["p", "r"]);
yes!(long_chain_closure_size, "derive reach(a, b) { edge(a, b) } derive reach(a, c) { reach(a, b) edge(b, c) } derive n(c) { c = count { reach(x, y) } }", given: &(0..60).map(|i| format!("edge(a: n{i}, b: n{}) ", i + 1)).collect::<String>(), "n" => ["1830"]);
fails!(aggregation_through_recursion, "derive deg(x, n) { node(id: x) n = count { deg(x, _) } }", given: "", "probity::resolve::aggregate_cycle");

// Aggregates: one result per group (the variables shared with the rest of the block).
yes!(count_per_group_with_empty_group_zero, "derive deg(x, n) { node(id: x) n = count { edge(a: x, b: y) } }", given: "node(id: p) node(id: q) node(id: r) edge(a: p, b: q) edge(a: p, b: r) edge(a: q, b: r)", "deg" => ["p 2", "q 1", "r 0"]);
yes!(sum_per_group_with_empty_group_zero, "derive total(x, s) { node(id: x) s = sum p { own(holder: x, asset: a, pct: p) } }", given: "node(id: p) node(id: q) own(holder: p, asset: a, pct: 10) own(holder: p, asset: b, pct: 2.5)", "total" => ["p 12.5", "q 0"]);
yes!(sum_ranges_over_distinct_bindings, "derive total(x, s) { node(id: x) s = sum p { own(holder: x, pct: p) } }", given: "node(id: p) own(holder: p, asset: a, pct: 10) own(holder: p, asset: b, pct: 10)", "total" => ["p 10"]);
yes!(count_ranges_over_distinct_bindings, "derive n(x, c) { node(id: x) c = count { meet(id: m, attendees: x) } }", given: "node(id: p) meet(id: \"m1\", attendees: [p, q]) meet(id: \"m2\", attendees: [p]) meet(id: \"m1\", attendees: [p, r])", "n" => ["p 2"]);
yes!(count_without_local_variables_is_zero_or_one, "derive n(x, c) { node(id: x) c = count { edge(a: x, b: _) } }", given: "node(id: p) node(id: q) edge(a: p, b: q) edge(a: p, b: r)", "n" => ["p 1", "q 0"]);
yes!(min_and_max_per_group, "derive r(x, lo, hi) { node(id: x) lo = min d { ev(k: x, on: d) } hi = max d { ev(k: x, on: d) } }", given: "node(id: p) ev(k: p, on: 2025-03-01) ev(k: p, on: 2024-12-31) ev(k: p, on: 2025-01-15)", "r" => ["p 2024-12-31 2025-03-01"]);
yes!(min_of_nothing_binds_nothing, "derive r(x, lo) { node(id: x) lo = min n { num(k: x, n: n) } }", given: "node(id: p) node(id: q) num(k: p, n: 3) num(k: p, n: -1)", "r" => ["p -1"]);
yes!(max_of_nothing_binds_nothing, "derive r(x, hi) { node(id: x) hi = max n { num(k: x, n: n) } }", given: "node(id: p) node(id: q) num(k: p, n: 3) num(k: p, n: -1)", "r" => ["p 3"]);
yes!(aggregate_without_group_is_global, "derive r(n) { n = count { edge(a: x, b: y) } }", given: "edge(a: p, b: q) edge(a: q, b: p)", "r" => ["2"]);
yes!(aggregate_result_compared, "derive busy(x) { node(id: x) n = count { edge(a: x, b: y) } n >= 2 }", given: "node(id: p) node(id: q) edge(a: p, b: q) edge(a: p, b: r) edge(a: q, b: r)", "busy" => ["p"]);
yes!(count_with_a_negation_inside, "derive n(x, c) { node(id: x) c = count { edge(a: x, b: y) not tie(a: y, b: _) } }", given: "node(id: p) edge(a: p, b: q) edge(a: p, b: r) tie(a: r, b: s)", "n" => ["p 1"]);
yes!(count_over_a_recursive_relation, "derive reach(a, b) { edge(a, b) } derive reach(a, c) { reach(a, b) edge(b, c) } derive n(x, c) { node(id: x) c = count { reach(x, y) } }", given: "node(id: p) node(id: r) edge(a: p, b: q) edge(a: q, b: r)", "n" => ["p 2", "r 0"]);
yes!(sum_of_an_expression, "derive r(x, s) { node(id: x) s = sum a * 2 { own(holder: x, asset: c, pct: a) } }", given: "node(id: p) own(holder: p, asset: q, pct: 1.5) own(holder: p, asset: r, pct: 2)", "r" => ["p 7"]);
yes!(max_of_texts, "derive r(m) { m = max t { txt(k: _, t: t) } }", given: "txt(k: a, t: \"pear\") txt(k: b, t: \"apple\") txt(k: c)", "r" => ["pear"]);
yes!(aggregate_grouped_by_an_assigned_variable, "derive r(x, c) { num(k: _, n: x) c = count { num(k: k, n: x) } }", given: "num(k: a, n: 1) num(k: b, n: 1) num(k: c, n: 2)", "r" => ["1 2", "2 1"]);
yes!(sum_skips_none, "derive total(x, s) { node(id: x) s = sum n { num(k: x, n: n) } }", given: "node(id: p) node(id: q) num(k: p) num(k: p, n: 2) num(k: q)", "total" => ["p 2", "q 0"]);
yes!(min_skips_none, "derive least(x, s) { node(id: x) s = min n { num(k: x, n: n) } }", given: "node(id: p) node(id: q) num(k: p) num(k: p, n: 2) num(k: q)", "least" => ["p 2"]);
fails!(overflow_in_a_sum, "derive r(s) { s = sum n * 100 { num(k: k, n: n) } }", given: "num(k: a, n: 999999999999999999999999999) num(k: b, n: 999999999999999999999999999)", "probity::eval::overflow");

// Arithmetic: exact decimals, 9 places, errors on overflow and division by zero.
value!(precedence, "1 + 2 * 3" => "7");
value!(parentheses, "(1 + 2) * 3" => "9");
value!(subtraction_is_left_associative, "10 - 4 - 3" => "3");
value!(division_is_left_associative, "12 / 4 / 3" => "1");
value!(division_rounds_toward_zero_at_nine_places, "2 / 3" => "0.666666666");
value!(negative_division_rounds_toward_zero, "-2 / 3" => "-0.666666666");
value!(unary_minus_binds_tighter_than_times, "-2 * 3" => "-6");
value!(unary_minus_of_parentheses, "-(1 - 4)" => "3");
value!(minus_minus, "2 - -1" => "3");
value!(decimals_are_exact, "0.1 + 0.2" => "0.3");
value!(trailing_zeros_are_not_shown, "12.50 * 1" => "12.5");
value!(overflow_is_an_error, "100000000000000000000 * 100000000000000000000" => error "probity::eval::overflow");
fails!(division_by_zero_is_an_error, "derive r(x) { num(k: _, n: n) x = 1 / n }", given: "num(k: a, n: 0)", "probity::eval::division_by_zero");
yes!(arithmetic_on_none_has_no_value, "derive r(k, x) { num(k: k, n: n) x = n + 1 }", given: "num(k: a, n: 1) num(k: b)", "r" => ["a 2"]);
value!(unary_minus_of_a_variable, "-(2 * 3) + 1" => "-5");
value!(small_products_truncate, "0.000000001 * 0.5" => "0");
value!(division_with_a_short_result, "1 / 8" => "0.125");
value!(spaced_minus_is_subtraction, "2024 - 12" => "2012");
fails!(ten_decimals_are_rejected, "derive r(k) { num(k: k, n: n) n > 1.0000000001 }", given: "", "probity::syntax::bad_number");
fails!(given_overflow, "", given: "num(k: a, n: 100000000000000000000 * 100000000000000000000)", "probity::resolve::invalid_value");

// Dates: days, months, years; certain comparisons; structural `=`; open ends.
value!(day_literal, "2025-01-31" => "2025-01-31");
value!(month_literal, "2025-01" => "2025-01");
yes!(four_digit_number_is_a_year_in_a_date_field, "derive r(d) { day(k: _, d: d) }", given: "day(k: a, d: 2024)", "r" => ["2024"]);
yes!(four_digit_number_is_a_year_in_a_comparison, "derive r(k) { day(k: k, d: d) d > 2024 }", given: "day(k: a, d: 2025-01-15) day(k: b, d: 2024-06-01)", "r" => ["a"]);
holds!(month_before_the_next_day, "2025-01 < 2025-02-01" => true);
holds!(month_not_before_a_day_inside_it, "2025-01 < 2025-01-15" => false);
holds!(month_not_after_a_day_inside_it, "2025-01 > 2025-01-15" => false);
holds!(month_at_most_its_last_day, "2025-01 <= 2025-01-31" => true);
holds!(month_not_at_most_a_day_inside_it, "2025-01 <= 2025-01-15" => false);
holds!(month_not_at_least_itself, "2025-01 >= 2025-01" => false);
holds!(year_before_next_year, "2025 < 2026-01" => true);
holds!(year_literal_on_the_right, "2026-01 > 2025" => true);
yes!(year_literal_on_the_left_of_a_date_variable, "derive r(k) { day(k: k, d: d) 2025 = d }", given: "day(k: a, d: 2025) day(k: b, d: 2025-01)", "r" => ["a"]);
holds!(equal_as_written, "2025-01 = 2025-01" => true);
holds!(month_not_equal_to_a_day_inside_it, "2025-01 = 2025-01-15" => false);
holds!(month_unequal_to_a_day_inside_it, "2025-01 != 2025-01-15" => true);
yes!(absent_interval_ends_are_open, "derive r(k, f, u) { span(k: k, from: f, until: u) }", given: "span(k: a) span(k: b, from: 2020, until: 2021-06)", "r" => ["a -inf +inf", "b 2020 2021-06"]);
yes!(open_until_is_after_every_date, "derive r(k) { span(k: k, until: u) u > 2025-01-01 }", given: "span(k: a) span(k: b, until: 2024-12-31)", "r" => ["a"]);
yes!(open_from_is_before_every_date, "derive r(k) { span(k: k, from: f) f < 1900 }", given: "span(k: a) span(k: b, from: 1899-12-31) span(k: c, from: 1900)", "r" => ["a", "b"]);
fails!(impossible_day_is_rejected, "derive r(k) { ev(k: k, on: d) d > 2025-02-30 }", given: "", "probity::syntax::bad_date");
holds!(text_is_ordered, "\"apple\" < \"banana\"" => true);

// Date arithmetic and durations.
value!(leap_day_plus_a_year_clamps, "2024-02-29 + 1y" => "2025-02-28");
value!(month_end_plus_a_month_clamps, "2025-01-31 + 1mo" => "2025-02-28");
value!(month_end_minus_a_month_clamps, "2025-03-31 - 1mo" => "2025-02-28");
value!(partial_month_stays_partial, "2025-01 + 1mo" => "2025-02");
value!(partial_year_stays_partial, "2024-01 + 2y" => "2026-01");
value!(days_shift_a_partial_date_to_a_span, "2025-01 + 10d" => "2025-01-11..2025-02-10");
value!(ninety_days, "2025-01-01 + 90d" => "2025-04-01");
value!(weeks_are_seven_days, "2025-01-01 + 3w" => "2025-01-22");
yes!(open_end_plus_a_duration_stays_open, "derive r(x) { span(k: _, until: u) x = u + 1y }", given: "span(k: a)", "r" => ["+inf"]);
value!(durations_add, "1y + 6mo" => "18mo");
value!(weeks_and_days_add, "3w + 1d" => "22d");
value!(duration_literals, "2y" => "2y");
value!(six_months, "2025-01-15 + 6mo" => "2025-07-15");
value!(negative_duration, "2025-03-01 + -1mo" => "2025-02-01");
value!(date_out_of_range_is_an_error, "9999-12-31 + 999999y" => error "probity::eval::overflow");
yes!(date_arithmetic_in_a_head, "derive r(k, d + 1y) { ev(k: k, on: d) }", given: "ev(k: p, on: 2024-02-29)", "r" => ["p 2025-02-28"]);
holds!(durations_order_by_length, "90d < 3mo" => true);
fails!(date_minus_date_is_a_type_error, "derive r(x) { ev(k: _, on: d) x = d - 2025-01-01 }", given: "", "probity::resolve::type_mismatch");
value!(four_digit_number_plus_a_duration_is_a_year, "2024 + 1y" => "2025");

// Windows: within … of / after / before, `in a..b`, `overlaps`.
yes!(within_of_is_inclusive_both_ways, "derive r(k) { ev(k: k, on: d) d within 90d of 2025-01-01 }", given: "ev(k: a, on: 2024-10-02) ev(k: b, on: 2024-10-03) ev(k: c, on: 2025-04-01) ev(k: d, on: 2025-04-02)", "r" => ["b", "c"]);
yes!(within_after, "derive r(k) { ev(k: k, on: d) d within 1y after 2024-06-01 }", given: "ev(k: a, on: 2024-05-31) ev(k: b, on: 2024-06-01) ev(k: c, on: 2025-06-01) ev(k: d, on: 2025-06-02)", "r" => ["b", "c"]);
yes!(within_before, "derive r(k) { ev(k: k, on: d) d within 6mo before 2025-07-01 }", given: "ev(k: a, on: 2024-12-31) ev(k: b, on: 2025-01-01) ev(k: c, on: 2025-07-01) ev(k: d, on: 2025-07-02)", "r" => ["b", "c"]);
holds!(partial_date_within_only_if_certain, "2025-02 within 1mo after 2025-01-15" => false);
holds!(partial_date_within_when_every_day_is, "2025-02 within 1mo after 2025-01-31" => true);
yes!(window_with_a_param, "param cooling = 2y derive r(k) { ev(k: k, on: d) d within $cooling after 2023-01-01 }", given: "ev(k: a, on: 2024-12-31) ev(k: b, on: 2025-01-02)", "r" => ["a"]);
yes!(in_an_interval_is_inclusive, "derive r(k) { ev(k: k, on: d) d in 2025-01-01..2025-12-31 }", given: "ev(k: a, on: 2024-12-31) ev(k: b, on: 2025-01-01) ev(k: c, on: 2025-12-31) ev(k: d, on: 2026-01-01)", "r" => ["b", "c"]);
holds!(year_in_its_own_days, "2025 in 2025-01-01..2025-12-31" => true);
yes!(in_an_open_interval, "derive r(k) { span(k: k, from: f, until: u) 2025-06-01 in f..u }", given: "span(k: a) span(k: b, until: 2025-05) span(k: c, from: 2025-06)", "r" => ["a"]);
yes!(overlaps_including_touching_ends, "derive ov(x, y) { span(k: x, from: f1, until: u1) span(k: y, from: f2, until: u2) x != y f1..u1 overlaps f2..u2 }", given: "span(k: a, from: 2020-01-01, until: 2020-12-31) span(k: b, from: 2020-06-01, until: 2021-01-01) span(k: c, from: 2021-01-01)", "ov" => ["a b", "b a", "b c", "c b"]);
holds!(partial_dates_overlap_only_if_certain, "2025-01..2025-03 overlaps 2025-03..2025-04" => false);
yes!(window_with_an_open_end_is_not_certain, "derive r(k) { span(k: k, until: u) u within 10y after 2020-01-01 }", given: "span(k: a) span(k: b, until: 2021)", "r" => ["b"]);
holds!(partial_date_inside_an_open_interval, "2025-01 in 2024-12-31..2025-02-01" => true);

// Params: defaults and overrides read as the default's type.
yes!(param_default, "param t = 2 derive r(k) { num(k: k, n: n) n > $t }", given: "num(k: a, n: 1) num(k: b, n: 3)", "r" => ["b"]);
yes!(param_override, "param t = 2 derive r(k) { num(k: k, n: n) n > $t }", params: ["t=0"], given: "num(k: a, n: 1) num(k: b, n: 3)", "r" => ["a", "b"]);
yes!(duration_param_override, "param cooling = 2y derive r(k) { ev(k: k, on: d) d within $cooling after 2023-01-01 }", params: ["cooling=6mo"], given: "ev(k: a, on: 2023-07-01) ev(k: b, on: 2023-07-02)", "r" => ["a"]);
fails!(param_override_of_the_wrong_type, "param t = 2 derive r(k) { num(k: k, n: n) n > $t }", params: ["t=2y"], given: "", "probity::resolve::invalid_value");
yes!(param_date_override_reads_a_year, "param since = 2024-01-01 derive r(k) { ev(k: k, on: d) d > $since }", params: ["since=2024"], given: "ev(k: a, on: 2024-06-01) ev(k: b, on: 2025-06-01)", "r" => ["b"]);
yes!(param_in_a_head, "param t = 5 derive r(k, $t * 2) { edge(a: k) }", given: "edge(a: p, b: q)", "r" => ["p 10"]);

// A lookup followed by comparisons of its own columns with constants (or params) reads
// a partial index of the tuples that pass them: the same rows (and, as every case
// checks, the same tuples, order and derivations) as comparing after the lookup.
yes!(comparisons_after_a_lookup, "derive r(x, n) { edge(a: x, b: y) num(k: y, n: n) n > 1 }", given: "edge(a: p, b: q) edge(a: p, b: s) edge(a: t, b: s) num(k: q, n: 1) num(k: q, n: 2) num(k: s, n: 5) num(k: s)", "r" => ["p 2", "p 5", "t 5"]);
yes!(comparisons_after_a_lookup_with_the_constant_first, "derive r(x, n) { edge(a: x, b: y) num(k: y, n: n) 1 < n  5 >= n }", given: "edge(a: p, b: q) edge(a: p, b: s) num(k: q, n: 2) num(k: q, n: 9) num(k: s, n: 5) num(k: s, n: 1)", "r" => ["p 2", "p 5"]);
yes!(comparisons_after_a_lookup_with_a_param, "param t = 2 derive r(x, n) { edge(a: x, b: y) num(k: y, n: n) n >= $t }", params: ["t=5"], given: "edge(a: p, b: q) num(k: q, n: 2) num(k: q, n: 5) num(k: q, n: 7)", "r" => ["p 5", "p 7"]);
yes!(comparisons_after_a_lookup_of_open_ends, "derive r(x, u) { edge(a: x, b: y) span(k: y, until: u) u > 2024-01-01 }", given: "edge(a: p, b: q) edge(a: p, b: s) span(k: q, from: 2020-01-01) span(k: q, from: 2020-01-01, until: 2023-05-01) span(k: s, from: 2021-01-01, until: 2025-02-03)", "r" => ["p 2025-02-03", "p +inf"]);
yes!(comparisons_after_a_lookup_of_a_chain, "derive stake(h, c, e) { own(holder: h, asset: c, pct: e) e >= 25 } derive stake(h, c, e * p / 100) { stake(h, m, e) own(holder: m, asset: c, pct: p) p >= 50 }", given: "own(holder: a, asset: b, pct: 60) own(holder: b, asset: c, pct: 50) own(holder: b, asset: d, pct: 10) own(holder: c, asset: d, pct: 80)", "stake" => ["a b 60", "a c 30", "a d 24", "b c 50", "b d 40", "c d 80"]);
yes!(comparisons_after_a_lookup_not_all_of_its_own, "derive r(x, n) { edge(a: x, b: y) num(k: y, n: n) n > 1  x != y }", given: "edge(a: p, b: q) edge(a: q, b: q) num(k: q, n: 2) num(k: q, n: 0) num(k: p, n: 3)", "r" => ["p 2"]);

// Symmetric relations hold both ways.
yes!(symmetric_stated_once_holds_both_ways, "derive r(x, y) { tie(a: x, b: y) }", given: "tie(a: p, b: q)", "r" => ["p q", "q p"]);
yes!(symmetric_matches_a_constant_either_side, "derive r(y) { tie(a: \"q\", b: y) }", given: "tie(a: p, b: q) tie(a: r, b: s)", "r" => ["p"]);
yes!(symmetric_self_tie_once, "derive r(x, y) { tie(a: x, b: y) }", given: "tie(a: p, b: p)", "r" => ["p p"]);

// List fields: each member matches.
yes!(each_list_member_matches, "derive at(m, x) { meet(id: m, attendees: x) }", given: "meet(id: \"m1\", attendees: [p, q, r])", "at" => ["m1 p", "m1 q", "m1 r"]);
yes!(two_attendees_of_one_meeting, "derive met(x, y) { meet(id: m, attendees: x) meet(id: m, attendees: y) x != y }", given: "meet(id: \"m1\", attendees: [p, q]) meet(id: \"m2\", attendees: [r])", "met" => ["p q", "q p"]);
fails!(empty_list_in_a_required_list_field, "", given: "meet(id: \"m1\", attendees: [])", "probity::resolve::missing_required_field");
yes!(empty_list_in_an_optional_field_is_none, "derive r(k, t) { tagged(k: k, tags: t) }", given: "tagged(k: a, tags: []) tagged(k: b, tags: [\"x\", \"y\"])", "r" => ["a none", "b x", "b y"]);

// `none`: the value of an absent optional field.
yes!(absent_optional_field_is_none, "derive r(k, n) { num(k: k, n: n) }", given: "num(k: a) num(k: b, n: 1)", "r" => ["a none", "b 1"]);
yes!(none_equals_none, "derive r(k) { num(k: k, n: n) n = none }", given: "num(k: a) num(k: b, n: 1)", "r" => ["a"]);
yes!(none_fails_ordering_comparisons, "derive r(k) { num(k: k, n: n) n < 0 } derive r(k) { num(k: k, n: n) n >= 0 }", given: "num(k: a) num(k: b, n: 1)", "r" => ["b"]);
yes!(none_is_unequal_to_a_value, "derive r(k) { num(k: k, n: n) n != 1 }", given: "num(k: a) num(k: b, n: 1) num(k: c, n: 2)", "r" => ["a", "c"]);
yes!(absent_date_outside_an_interval_is_none, "derive r(k) { day(k: k, d: d) d < 2025 } derive r(k) { day(k: k, d: d) d > 2025 }", given: "day(k: a) day(k: b, d: 2026-01-01)", "r" => ["b"]);

// Rule subjects: the explicit list, or every named variable in order of first appearance.
yes!(explicit_subjects_project, "rule r(x) { title \"t\" severity low when { edge(a: x, b: y) } }", given: "edge(a: p, b: q) edge(a: p, b: r)", "r" => ["p"]);
yes!(default_subjects_are_named_variables_in_order, "rule r { title \"t\" severity low when { edge(b: y, a: x) not tie(a: x, b: _) } }", given: "edge(a: p, b: q) edge(a: s, b: q) tie(a: s, b: t)", "r" => ["q p"]);
yes!(default_subjects_across_when_blocks, "rule r { title \"t\" severity low when { edge(a: x, b: y) } when { tie(a: x, b: y) } }", given: "edge(a: p, b: q) tie(a: r, b: s)", "r" => ["p q", "r s", "s r"]);
fails!(subject_not_bound_in_a_when_block, "rule r(x, z) { title \"t\" severity low when { edge(a: x, b: _) } }", given: "", "probity::resolve::unbound_variable");
fails!(flag_hole_bound_in_only_one_when_block, "rule r(x) { title \"t\" severity low when { edge(a: x, b: y) } when { tie(a: x, b: _) } flag \"{x} {y}\" }", given: "", "probity::resolve::unknown_flag_hole");

// Type errors are caught when checking.
fails!(date_compared_with_a_number, "derive r(k) { num(k: k, n: n) day(k: k, d: d) d > n }", given: "", "probity::resolve::type_mismatch");

// The `test` block runner: `expect` and `expect no`, failures as expected/got.
const RETAINED: &str = "use std rule retained(p, firm) { title \"t\" severity high when { role(person: p, org: firm, until: left) holding(holder: p, asset: firm, until: kept) kept > left } }";
tested!(expect_passes, RETAINED, "test kept { given { role(person: ann, org: acme, until: 2024-12) holding(holder: ann, asset: acme) } expect retained(p: ann, firm: acme) expect no retained(p: bob) }" => ["kept: ok"]);
tested!(expect_fails_with_expected_and_got, RETAINED, "test sold { given { role(person: ann, org: acme, until: 2024-12) holding(holder: ann, asset: acme, until: 2024-11) } expect retained(p: ann) }" => ["sold: FAIL", "  expected retained(p: ann)", "  got no `retained` at all"]);
tested!(expect_no_fails_with_the_match, RETAINED, "test kept { given { role(person: ann, org: acme, until: 2024-12) holding(holder: ann, asset: acme) } expect no retained(firm: acme) }" => ["kept: FAIL", "  expected no retained(firm: acme)", "  got 1 matching: retained(p: ann, firm: acme)"]);
tested!(expect_fails_showing_other_rows, "use std derive owns(h, a) { holding(holder: h, asset: a) }", "test t { given { holding(holder: ann, asset: acme) } expect owns(h: bob) }" => ["t: FAIL", "  expected owns(h: bob)", "  got owns(h: ann, a: acme)"]);
tested!(expect_on_a_helper_relation, "use std derive owns(h, a) { holding(holder: h, asset: a) }", "test t { given { holding(holder: ann, asset: acme) } expect owns(h: ann, a: acme) expect no owns(h: acme) }" => ["t: ok"]);
tested!(tests_run_alone, RETAINED, "test one { given { role(person: ann, org: acme, until: 2024-12) holding(holder: ann, asset: acme) } expect retained(p: ann) } test two { given { role(person: ann, org: acme, until: 2024-12) } expect no retained(p: ann) }" => ["one: ok", "two: ok"]);

// Flag messages: holes filled with entity display names from a case folder.
const PEOPLE: (&str, &str) = (
    "people.toml",
    "[[person]]\nid = \"ann\"\nname = \"Ann Smith\"\n\n[[person]]\nid = \"bob\"\nname = \"Bob Jones\"\n\n[[org]]\nid = \"acme\"\nname = \"Acme Ltd\"\n",
);
const ROLES: (&str, &str) = (
    "roles.toml",
    "[[role]]\nperson = \"ann\"\norg = \"acme\"\nuntil = \"2025-02\"\n\n[[role]]\nperson = \"bob\"\norg = \"acme\"\n",
);
flags!(flag_fills_holes_with_display_names, "rule r(p, firm) { title \"t\" severity low when { role(person: p, org: firm, until: left) left < 2026 } flag \"{p} left {firm} on {left}\" }", files: [PEOPLE, ROLES] => ["Ann Smith left Acme Ltd on 2025-02"]);
flags!(flag_shows_values_of_other_types, "rule r(p, n) { title \"t\" severity low when { office(person: p) n = count { role(person: p) } } flag \"{p} holds {n} roles\" }", files: [PEOPLE, ROLES, ("offices.toml", "[[office]]\nperson = \"bob\"\ntitle = \"Minister\"\n")] => ["Bob Jones holds 1 roles"]);
flags!(flag_without_a_name_shows_the_id, "entity dossier rule r(m) { title \"t\" severity low when { dossier(id: m) } flag \"{m} is open\" }", files: [("dossiers.toml", "[[dossier]]\nid = \"m-17\"\n")] => ["m-17 is open"]);
flags!(no_flag_uses_the_title, "rule r(p) { title \"Holds a role\" severity low when { role(person: p) } }", files: [PEOPLE, ROLES] => ["Holds a role: Ann Smith", "Holds a role: Bob Jones"]);
flags!(escaped_braces_in_a_flag, "rule r(p) { title \"t\" severity low when { role(person: p, until: u) u < 2026 } flag \"\\{{p}\\}\" }", files: [PEOPLE, ROLES] => ["{Ann Smith}"]);
const RECENT: &str = "param since = 2025-03-01 rule recent(p) { title \"t\" severity low when { role(person: p, until: u) u >= $since } flag \"{p} left on or after {u}\" }";
flags!(engine_param_default, RECENT, files: [PEOPLE, ROLES] => ["Bob Jones left on or after ongoing"]);
flags!(engine_param_override, RECENT, params: ["since=2024-06-01"], files: [PEOPLE, ROLES] => ["Ann Smith left on or after 2025-02", "Bob Jones left on or after ongoing"]);
