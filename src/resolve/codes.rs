//! The stable codes of every resolver diagnostic, each with a minimal input that triggers it.

use crate::diag::{Diagnostic, Span};
use crate::ir::{Literal, Program, RelId};
use crate::plan::strata::StratifyError;

/// `rule r { … when { rol(person: p) } }` with no relation `rol`.
pub const UNKNOWN_RELATION: &str = "probity::resolve::unknown_relation";
/// `role(persn: p)`: `role` has no field `persn`.
pub const UNKNOWN_FIELD: &str = "probity::resolve::unknown_field";
/// `relation r(a: persn)`: no type or entity kind `persn`.
pub const UNKNOWN_KIND: &str = "probity::resolve::unknown_kind";
/// `x within $coolng_off after y` with no param `coolng_off`.
pub const UNKNOWN_PARAM: &str = "probity::resolve::unknown_param";
/// `expect retaind_stake(p: ann)` naming no rule or relation; `exempt retaind_stake { … }`.
pub const UNKNOWN_RULE: &str = "probity::resolve::unknown_rule";
/// `exempt r { because "…" when { declaration(person: x, interest: y) } }` where `r`'s
/// subjects are `p` and `firm`: the block says nothing about which findings it covers.
pub const EXEMPT_BINDS_NO_SUBJECT: &str = "probity::resolve::exempt_binds_no_subject";
/// `controls(a, b)` where `controls` has three fields; or two `derive` heads of one
/// name with different numbers of terms.
pub const ARITY: &str = "probity::resolve::arity";
/// `role(p, firm)`: positional arguments on a declared relation must give every field.
pub const POSITIONAL_BASE: &str = "probity::resolve::positional_base";
/// `role(person: p, until: u)` then `u > 3`: a date compared with a number.
pub const TYPE_MISMATCH: &str = "probity::resolve::type_mismatch";
/// `when { not role(person: p) }`: `p` is bound by no positive atom.
pub const UNBOUND_VARIABLE: &str = "probity::resolve::unbound_variable";
/// Warning. `role(person: p, org: o)` with `o` used nowhere else.
pub const SINGLE_USE: &str = "probity::resolve::single_use";
/// `derive a(x) { p(x), not b(x) }` and `derive b(x) { p(x), a(x) }`.
pub const NEGATION_CYCLE: &str = "probity::resolve::negation_cycle";
/// `derive a(x, n) { p(x), n = count { a(x, _) } }`.
pub const AGGREGATE_CYCLE: &str = "probity::resolve::aggregate_cycle";
/// Two `rule r { … }` blocks (or two tests) with one name.
pub const DUPLICATE_RULE: &str = "probity::resolve::duplicate_rule";
/// Two declarations of one relation name (`relation`, `entity`, `derive` or `rule`).
pub const DUPLICATE_RELATION: &str = "probity::resolve::duplicate_relation";
/// `param t = 1` twice.
pub const DUPLICATE_PARAM: &str = "probity::resolve::duplicate_param";
/// `relation r(a: text, a: text)`, or `role(person: p, person: q)`.
pub const DUPLICATE_FIELD: &str = "probity::resolve::duplicate_field";
/// `a.coi` has `use "./b.coi"` and `b.coi` has `use "./a.coi"`.
pub const IMPORT_CYCLE: &str = "probity::resolve::import_cycle";
/// `use "./nowhere.coi"`, or `use std/nowhere`.
pub const MISSING_IMPORT: &str = "probity::resolve::missing_import";
/// A root that does not exist, cannot be read or is not UTF-8.
pub const UNREADABLE_FILE: &str = "probity::resolve::unreadable_file";
/// `rule r { when { … } }` without `title` or `severity`, or without any `when`.
pub const MISSING_ATTRIBUTE: &str = "probity::resolve::missing_attribute";
/// `flag "{q}"` where `q` is not a subject of the rule.
pub const UNKNOWN_FLAG_HOLE: &str = "probity::resolve::unknown_flag_hole";
/// `relation r(from: text) during from..until`: validity fields must be dates.
pub const INVALID_VALIDITY: &str = "probity::resolve::invalid_validity";
/// `symmetric relation r(a: person, b: org)`.
pub const SYMMETRIC_SHAPE: &str = "probity::resolve::symmetric_shape";
/// `given { role(person: _) }` or `given { org(id: acme, name: nm) }`.
pub const GIVEN_NOT_CONSTANT: &str = "probity::resolve::given_not_constant";
/// `given { role(person: ann) }` without the required field `org`.
pub const MISSING_REQUIRED_FIELD: &str = "probity::resolve::missing_required_field";
/// `given { org(id: acme, name: ["a", "b"]) }`, or a list `[…]` in a rule body.
pub const LIST_FIELD_MISUSE: &str = "probity::resolve::list_field_misuse";
/// `given { controls(ann, acme, 50) }`: derived relations and rule findings cannot be given.
pub const GIVEN_DERIVED: &str = "probity::resolve::given_derived";
/// `param t = x`: a param's default must be a constant.
pub const PARAM_NOT_CONSTANT: &str = "probity::resolve::param_not_constant";
/// `param t = 1 / 0`, or `--param t=abc` for a number param.
pub const INVALID_VALUE: &str = "probity::resolve::invalid_value";

/// A stratification error as a diagnostic naming the cycle: `` `a` -> `b` -> `a` ``.
pub(crate) fn cycle(program: &Program, e: &StratifyError) -> Diagnostic {
    let mut names: Vec<String> = e
        .cycle
        .iter()
        .map(|r| format!("`{}`", program.rel(*r).name))
        .collect();
    if let Some(first) = names.first().cloned() {
        names.push(first);
    }
    let path = names.join(" -> ");
    let mut d = if e.what == "negation" {
        Diagnostic::error(NEGATION_CYCLE, format!("negation through recursion: {path}"))
            .at(e.span)
            .help("a relation cannot depend on its own negation; remove the `not` or split the recursive part into a relation that does not depend on it")
    } else {
        Diagnostic::error(AGGREGATE_CYCLE, format!("aggregation through recursion: {path}"))
            .at(e.span)
            .help("an aggregate cannot read the relation it helps define; aggregate over a relation computed without it")
    };
    // The first step of the cycle is the `not` or aggregate itself; show the others.
    let n = e.cycle.len();
    for i in 1..n {
        let (from, to) = (e.cycle[i], e.cycle[(i + 1) % n]);
        if let Some(span) = reads(program, from, to) {
            let (a, b) = (&program.rel(from).name, &program.rel(to).name);
            d = d.note(span, format!("`{a}` reads `{b}` here"));
        }
    }
    d
}

/// The first atom in a clause of `head` that reads `rel`, inside aggregates too.
fn reads(program: &Program, head: RelId, rel: RelId) -> Option<Span> {
    fn find(lits: &[Literal], rel: RelId) -> Option<Span> {
        lits.iter().find_map(|l| match l {
            Literal::Atom(a) | Literal::Not(a) if a.rel == rel => Some(a.span),
            Literal::Aggregate { body, .. } => find(body, rel),
            _ => None,
        })
    }
    program
        .clauses
        .iter()
        .filter(|c| c.head == head)
        .find_map(|c| find(&c.body, rel))
}
