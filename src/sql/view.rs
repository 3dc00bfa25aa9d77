//! Views for derived relations (one SELECT per block, `UNION` for set semantics; a
//! linear self-recursive relation as `WITH RECURSIVE`) and the queries of rules.

use super::clause::{body, from_where, indent};
use super::expr::{expr, is_arith};
use super::schema::{check_name, columns, read_rels, source, sql_type};
use super::{Cx, Dialect, Unsupported};
use crate::diag::Diagnostic;
use crate::ir::{Clause, Literal, Program, RelId, RelKind, Rule};
use crate::plan::strata::Stratum;
use crate::value::Value;

/// One block as a SELECT of the head's columns (and, for rules, the fact ids used).
fn select(
    cx: &mut Cx,
    clause: &Clause,
    distinct: bool,
    with_facts: bool,
) -> Result<String, Unsupported> {
    body(cx, &clause.body)?;
    let rel = cx.p.rel(clause.head);
    let mut items = Vec::new();
    for (i, t) in clause.head_terms.iter().enumerate() {
        let v = expr(cx, t)?;
        if is_arith(t) {
            cx.conds.push(format!("{} IS NOT NULL", v.cols[0]));
        }
        let ty = sql_type(cx.d, &rel.fields[i].ty).map_err(|w| Unsupported::new(w, t.span))?;
        for (c, e) in columns(rel, i).iter().zip(&v.cols) {
            check_name(cx.d, c, t.span)?;
            let e = if v.column {
                e.clone()
            } else {
                format!("CAST({e} AS {ty})")
            };
            items.push(format!("{e} AS {}", cx.d.ident(c)));
        }
    }
    if with_facts {
        let mut names: Vec<String> = Vec::new();
        for (alias, r) in &cx.facts {
            let base = format!("{}_fact", cx.p.rel(*r).name);
            let n = names.iter().filter(|x| x.starts_with(&base)).count();
            let name = if n == 0 {
                base
            } else {
                format!("{base}_{}", n + 1)
            };
            check_name(cx.d, &name, clause.span)?;
            items.push(format!(
                "{alias}.{} AS {}",
                cx.d.ident("_fact"),
                cx.d.ident(&name)
            ));
            names.push(name);
        }
    }
    let kw = if distinct {
        "SELECT DISTINCT"
    } else {
        "SELECT"
    };
    Ok(format!(
        "{kw}\n    {}\n{}",
        items.join(",\n    "),
        from_where(cx)
    ))
}

fn self_refs(clause: &Clause, r: RelId) -> usize {
    clause
        .body
        .iter()
        .filter(|l| matches!(l, Literal::Atom(a) if a.rel == r))
        .count()
}

fn computes(clause: &Clause) -> bool {
    clause.head_terms.iter().any(is_arith)
        || clause
            .body
            .iter()
            .any(|l| matches!(l, Literal::Assign { expr, .. } if is_arith(expr)))
}

/// Why a recursive relation cannot be a `WITH RECURSIVE` view, if it cannot.
fn check_recursion(p: &Program, d: Dialect, s: &Stratum) -> Result<(), Unsupported> {
    let r = s.rels[0];
    let clauses: Vec<&Clause> = p
        .clauses
        .iter()
        .filter(|c| s.rels.contains(&c.head))
        .collect();
    let span = clauses.first().map(|c| c.span).unwrap_or(p.rel(r).span);
    if s.rels.len() > 1 {
        let names: Vec<String> = s
            .rels
            .iter()
            .map(|x| format!("`{}`", p.rel(*x).name))
            .collect();
        return Err(Unsupported::new(format!("mutual recursion between {}", names.join(", ")), span)
            .help("a recursive view can define one relation; merge the relations into one, or use the native engine"));
    }
    if d == Dialect::Spark {
        return Err(Unsupported::new("recursion", span).help(
            "Spark SQL has no recursive queries before 4.0; compile for DuckDB or PostgreSQL",
        ));
    }
    let rec: Vec<&&Clause> = clauses.iter().filter(|c| self_refs(c, r) > 0).collect();
    if let Some(c) = rec.iter().find(|c| self_refs(c, r) > 1) {
        return Err(Unsupported::new(
            "non-linear recursion (two references to the relation in one block)",
            c.span,
        )
        .help(
            "PostgreSQL allows one recursive reference; rewrite with one, or use the native engine",
        ));
    }
    if rec.len() > 1 {
        return Err(Unsupported::new("several recursive blocks", rec[1].span)
            .help("a recursive view has one recursive part; merge the blocks, or use the native engine"));
    }
    if let Some(c) = rec.iter().find(|c| computes(c)) {
        return Err(Unsupported::new("recursion through arithmetic", c.span).help(
            "new values in a recursion need the native engine's limits to terminate; use the native engine",
        ));
    }
    if rec.len() == clauses.len() {
        return Err(Unsupported::new("recursion without a base block", span));
    }
    Ok(())
}

/// The views of one stratum.
pub(crate) fn stratum(
    p: &Program,
    d: Dialect,
    params: &[Value],
    s: &Stratum,
    materialize: bool,
) -> Result<String, Vec<Diagnostic>> {
    let create = if materialize {
        "CREATE TABLE"
    } else {
        "CREATE OR REPLACE VIEW"
    };
    let read = read_rels(p);
    let r = s.rels[0];
    let rel = p.rel(r);
    let owner = rel.name.split('~').next().unwrap_or(&rel.name).to_string();
    let wanted = s.rels.len() > 1 || matches!(rel.kind, RelKind::Derived) || read.contains(&r);
    if !wanted {
        return Ok(String::new());
    }
    if s.recursive {
        check_recursion(p, d, s).map_err(|u| vec![u.diagnostic(&owner)])?;
    }
    let view_name = rel.name.replace('~', "__");
    let cte = format!("{view_name}__rec");
    let span = p
        .clauses
        .iter()
        .find(|c| c.head == r)
        .map_or(rel.span, |c| c.span);
    check_name(d, &view_name, span).map_err(|u| vec![u.diagnostic(&owner)])?;
    if s.recursive {
        check_name(d, &cte, span).map_err(|u| vec![u.diagnostic(&owner)])?;
    }
    let rec = s.recursive.then(|| (r, cte.clone()));
    let mut parts = Vec::new();
    let mut errors = Vec::new();
    let mut clauses: Vec<&Clause> = p.clauses.iter().filter(|c| c.head == r).collect();
    clauses.sort_by_key(|c| self_refs(c, r));
    for c in clauses {
        let mut cx = Cx::new(p, d, params, c, rec.clone());
        match select(&mut cx, c, !s.recursive, false) {
            Ok(q) => parts.push(q),
            Err(u) => errors.push(u.diagnostic(&owner)),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let union = parts.join("\nUNION\n");
    let name = source(d, rel);
    if !s.recursive {
        return Ok(format!("{create} {name} AS\n{union};\n\n"));
    }
    let cols: Vec<String> = (0..rel.arity())
        .flat_map(|i| columns(rel, i))
        .map(|c| d.ident(&c))
        .collect();
    Ok(format!(
        "{create} {name} AS\nWITH RECURSIVE {} ({}) AS (\n    {}\n)\nSELECT {} FROM {};\n\n",
        d.ident(&cte),
        cols.join(", "),
        indent(&union),
        cols.join(", "),
        d.ident(&cte)
    ))
}

/// A rule's queries: one per `when` block, its subjects and the fact ids it used.
pub(crate) fn rule_queries(
    p: &Program,
    d: Dialect,
    params: &[Value],
    rule: &Rule,
) -> Result<String, Vec<Diagnostic>> {
    let mut out = format!(
        "-- Rule `{}`: {}\n",
        rule.name,
        rule.title.replace(|c: char| c.is_control(), " ")
    );
    let mut errors = Vec::new();
    let n = rule.clauses.len();
    for (k, id) in rule.clauses.iter().enumerate() {
        let c = p.clause(*id);
        if n > 1 {
            out.push_str(&format!("-- when block {} of {n}\n", k + 1));
        }
        let mut cx = Cx::new(p, d, params, c, None);
        match select(&mut cx, c, true, true) {
            Ok(q) => out.push_str(&format!("{q};\n")),
            Err(u) => errors.push(u.diagnostic(&rule.name)),
        }
    }
    if errors.is_empty() {
        Ok(out + "\n")
    } else {
        Err(errors)
    }
}
