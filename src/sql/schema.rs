//! Tables for the base and entity relations the rules read, and the columns of every
//! relation: a date field is two DATE columns (`_first`, `_last`), an open end a sentinel
//! date, `none` NULL, a number DECIMAL(38,9), text and entity ids text.

use std::collections::BTreeSet;

use super::Unsupported;
use super::dialect::{Dialect, NEG_INF_SQL, POS_INF_SQL};
use crate::diag::Span;
use crate::ir::{Literal, Program, RelId, RelKind, Relation, Type, Validity};

/// The SQL type of a (non-list) field, or why it has none.
pub(crate) fn sql_type(d: Dialect, ty: &Type) -> Result<&'static str, &'static str> {
    match ty {
        Type::Text | Type::Entity(_) => Ok(d.text_type()),
        Type::Number => Ok("DECIMAL(38,9)"),
        Type::Date => Ok("DATE"),
        Type::Bool => Ok("BOOLEAN"),
        Type::Duration => Err("a duration field"),
        Type::Any => Err("a field of unknown type"),
    }
}

/// Column names of field `i` (two for a date), unquoted.
pub(crate) fn columns(rel: &Relation, i: usize) -> Vec<String> {
    let f = &rel.fields[i];
    if f.ty == Type::Date {
        vec![format!("{}_first", f.name), format!("{}_last", f.name)]
    } else {
        vec![f.name.clone()]
    }
}

/// Whether field `i` can hold NULL: optional, and not an interval end (those are open).
pub(crate) fn nullable(rel: &Relation, i: usize) -> bool {
    let interval_end = match rel.validity {
        Some(Validity::During { from, until }) => i == from || i == until,
        _ => false,
    };
    rel.fields[i].optional && !interval_end
}

/// Fails on a name (of a table, view or column) that the engine would not keep as
/// written: PostgreSQL cuts names longer than 63 bytes, so two names could become one
/// and columns would come back under other names.
pub(crate) fn check_name(d: Dialect, name: &str, span: Span) -> Result<(), Unsupported> {
    let Some(max) = d.max_name_bytes() else {
        return Ok(());
    };
    if name.len() <= max {
        return Ok(());
    }
    let mut shown = max.min(name.len());
    while !name.is_char_boundary(shown) {
        shown -= 1;
    }
    Err(Unsupported::new(
        format!(
            "the name `{}…` ({} bytes; {} cuts names to {max} bytes)",
            &name[..shown],
            name.len(),
            d.title()
        ),
        span,
    )
    .help(format!(
        "shorten the relation, field or subject name to at most {max} bytes with what SQL adds: \
         `_first`/`_last` to a date field, `__both` to a symmetric relation, `__rec` to a \
         recursive one, `_fact` to a relation whose facts a rule uses"
    )))
}

/// The name a relation is read from: a symmetric relation through its two-way view.
pub(crate) fn source(d: Dialect, rel: &Relation) -> String {
    if rel.symmetric {
        d.ident(&format!("{}__both", rel.name))
    } else {
        d.ident(&rel.name.replace('~', "__"))
    }
}

/// Relations read by some atom anywhere in the program.
pub(crate) fn read_rels(p: &Program) -> BTreeSet<RelId> {
    fn walk(lits: &[Literal], out: &mut BTreeSet<RelId>) {
        for l in lits {
            match l {
                Literal::Atom(a) | Literal::Not(a) => {
                    out.insert(a.rel);
                }
                Literal::Aggregate { body, .. } => walk(body, out),
                _ => {}
            }
        }
    }
    let mut seen = BTreeSet::new();
    for c in &p.clauses {
        walk(&c.body, &mut seen);
    }
    seen
}

/// Base and entity relations read anywhere in the program, in declaration order.
pub(crate) fn read_inputs(p: &Program) -> Vec<RelId> {
    read_rels(p)
        .into_iter()
        .filter(|r| matches!(p.rel(*r).kind, RelKind::Base | RelKind::Entity(_)))
        .collect()
}

/// `CREATE TABLE` for one input relation (and the two-way view of a symmetric one).
pub(crate) fn table(d: Dialect, rel: &Relation) -> Result<String, Unsupported> {
    check_name(d, &rel.name, rel.span)?;
    if rel.symmetric {
        check_name(d, &format!("{}__both", rel.name), rel.span)?;
    }
    let not_null = if d == Dialect::Spark { "" } else { " NOT NULL" };
    let mut lines = vec![format!("    {} BIGINT{not_null}", d.ident("_fact"))];
    let mut notes = Vec::new();
    for (i, f) in rel.fields.iter().enumerate() {
        if f.list {
            notes.push(format!(
                "-- `{}` is a list field: one row per member, as the native engine holds it",
                f.name
            ));
        }
        let ty = sql_type(d, &f.ty).map_err(|what| {
            Unsupported::new(what, rel.span)
                .help("the SQL backend stores text, numbers, dates, booleans and entity ids")
        })?;
        let nn = if nullable(rel, i) { "" } else { not_null };
        for c in columns(rel, i) {
            check_name(d, &c, rel.span)?;
            lines.push(format!("    {} {ty}{nn}", d.ident(&c)));
        }
        if let Some(Validity::During { from, until }) = rel.validity {
            if i == from {
                notes.push(format!("-- an open `{}` is DATE '{NEG_INF_SQL}'", f.name));
            } else if i == until {
                notes.push(format!("-- an open `{}` is DATE '{POS_INF_SQL}'", f.name));
            }
        }
    }
    let mut out = String::new();
    for n in notes {
        out.push_str(&n);
        out.push('\n');
    }
    out.push_str(&format!(
        "CREATE TABLE IF NOT EXISTS {} (\n{}\n);\n",
        d.ident(&rel.name),
        lines.join(",\n")
    ));
    if rel.symmetric {
        out.push_str(&symmetric_view(d, rel));
    }
    Ok(out)
}

/// `name__both`: every fact, and every fact with its first two fields swapped.
fn symmetric_view(d: Dialect, rel: &Relation) -> String {
    let cols = |swap: bool| -> String {
        let mut out = vec![d.ident("_fact")];
        for i in 0..rel.fields.len() {
            let src = match (swap, i) {
                (true, 0) => 1,
                (true, 1) => 0,
                _ => i,
            };
            for (c, s) in columns(rel, i).iter().zip(columns(rel, src)) {
                if c == &s {
                    out.push(d.ident(c));
                } else {
                    out.push(format!("{} AS {}", d.ident(&s), d.ident(c)));
                }
            }
        }
        out.join(", ")
    };
    format!(
        "-- `{}` is symmetric: it holds both ways\nCREATE OR REPLACE VIEW {} AS\nSELECT {} FROM {}\nUNION\nSELECT {} FROM {};\n",
        rel.name,
        source(d, rel),
        cols(false),
        d.ident(&rel.name),
        cols(true),
        d.ident(&rel.name)
    )
}
