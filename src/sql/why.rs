//! Why a tuple holds, asked of an SQL engine: per block, a query of every way it holds —
//! the head's values, each positive atom's values (and the fact id of a base one) and
//! every variable the block binds. `remote` reads these rows back for the findings only
//! and rebuilds their proofs, as the native engine records them.

use super::clause::body;
use super::expr::{SqlVal, expr, is_arith};
use super::schema::{check_name, columns, sql_type};
use super::{Cx, Dialect, Unsupported};
use crate::ir::{Clause, ClauseId, Literal, Program, RelId, RelKind, Type};
use crate::value::Value;

/// What one value of a row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Part {
    /// Field `i` of the head.
    Head(usize),
    /// The fact id of positive atom `a` (a base or entity relation).
    Fact(usize),
    /// Field `i` of positive atom `a`.
    Atom(usize, usize),
    /// Clause variable `v`.
    Var(usize),
}

/// One value of a row: what it is, its type, and how many columns hold it (two for a
/// date).
#[derive(Debug, Clone)]
pub(crate) struct Slot {
    pub(crate) part: Part,
    pub(crate) ty: Type,
    pub(crate) width: usize,
}

/// The query of one block's derivations.
#[derive(Debug, Clone)]
pub(crate) struct Why {
    pub(crate) clause: ClauseId,
    pub(crate) head: RelId,
    /// `SELECT DISTINCT c1, c2, … FROM … WHERE …`, without a final `;`.
    pub(crate) sql: String,
    /// The values of a row, in column order.
    pub(crate) slots: Vec<Slot>,
    /// The positive atoms' relations, in body order (for an aggregate's range: its
    /// body's).
    pub(crate) atoms: Vec<RelId>,
    /// The values a filter matches on: the head's fields (for an aggregate's range:
    /// the group variables bound outside it).
    pub(crate) key: Vec<Part>,
}

impl Why {
    /// The output columns of the key's values, in key order, with each value's type and
    /// part.
    fn key_columns(&self) -> Vec<(Vec<String>, Type, Part)> {
        let mut at = Vec::new();
        let mut n = 0;
        for s in &self.slots {
            at.push((
                (n + 1..=n + s.width)
                    .map(|i| format!("c{i}"))
                    .collect::<Vec<String>>(),
                s,
            ));
            n += s.width;
        }
        self.key
            .iter()
            .filter_map(|k| {
                at.iter()
                    .find(|(_, s)| s.part == *k)
                    .map(|(c, s)| (c.clone(), s.ty.clone(), s.part))
            })
            .collect()
    }

    /// `sql` (this query, or one filtered from it) reduced to one row per head: the
    /// least by fact ids (in body order), then by the atoms' values (bytewise text,
    /// none first) — the derivation Probity picks among those of one round, so for a
    /// relation outside recursion only it crosses back.
    pub(crate) fn least_per_head(&self, d: Dialect, sql: &str) -> String {
        let mut n = 0;
        let mut heads = Vec::new();
        let mut facts = Vec::new();
        let mut values = Vec::new();
        let mut all = Vec::new();
        for s in &self.slots {
            for _ in 0..s.width {
                n += 1;
                let c = format!("w.c{n}");
                all.push(format!("c{n}"));
                match s.part {
                    Part::Head(_) => heads.push(c),
                    Part::Fact(_) => facts.push(format!("{c} NULLS FIRST")),
                    Part::Atom(..) => {
                        let c = if matches!(s.ty, Type::Text | Type::Entity(_)) {
                            d.bytewise(&c)
                        } else {
                            c
                        };
                        values.push(format!("{c} NULLS FIRST"));
                    }
                    Part::Var(_) => {}
                }
            }
        }
        let order: Vec<String> = facts.into_iter().chain(values).collect();
        if order.is_empty() {
            return sql.to_string();
        }
        let partition = if heads.is_empty() {
            String::new()
        } else {
            format!("PARTITION BY {} ", heads.join(", "))
        };
        format!(
            "SELECT {} FROM (\nSELECT w.*, ROW_NUMBER() OVER ({partition}ORDER BY {}) AS probity_rank\nFROM (\n{sql}\n) AS w\n) AS ranked\nWHERE probity_rank = 1",
            all.join(", "),
            order.join(", ")
        )
    }

    /// The query restricted to rows whose key is one of `keys` (values in key order),
    /// through a join with a typed `VALUES` list.
    pub(crate) fn filtered(
        &self,
        d: Dialect,
        p: &Program,
        keys: &[Vec<Value>],
    ) -> Result<String, String> {
        let cols = self.key_columns();
        if cols.is_empty() || keys.is_empty() {
            return Ok(self.sql.clone());
        }
        let span = p.clause(self.clause).span;
        let mut rows = Vec::new();
        for key in keys {
            let mut cells = Vec::new();
            for (v, (_, ty, _)) in key.iter().zip(&cols) {
                let sql_ty = sql_type(d, ty).map_err(str::to_string)?;
                let lit = super::expr::literal(d, v, ty, span).map_err(|u| u.what)?;
                for c in lit.cols {
                    cells.push(format!("CAST({c} AS {sql_ty})"));
                }
            }
            rows.push(format!("({})", cells.join(", ")));
        }
        // `=` where the column cannot be none (a hash join on every engine), else
        // null-safe equality.
        let rel = p.rel(self.head);
        let heads: Vec<(String, bool)> = cols
            .into_iter()
            .flat_map(|(c, _, part)| {
                let nullable = match part {
                    Part::Head(i) => super::schema::nullable(rel, i),
                    _ => true,
                };
                c.into_iter().map(move |c| (c, nullable))
            })
            .collect();
        let names: Vec<String> = (1..=heads.len()).map(|i| format!("k{i}")).collect();
        let on: Vec<String> = heads
            .iter()
            .zip(&names)
            .map(|((c, nullable), k)| {
                if *nullable {
                    d.same(&format!("w.{c}"), &format!("k.{k}"))
                } else {
                    format!("w.{c} = k.{k}")
                }
            })
            .collect();
        Ok(format!(
            "SELECT w.* FROM (\n{}\n) AS w\nJOIN (VALUES\n    {}\n) AS k ({}) ON {}",
            self.sql,
            rows.join(",\n    "),
            names.join(", "),
            on.join(" AND ")
        ))
    }
}

/// Columns of a value: plain columns as they are, computed ones cast to their type.
fn cast(v: &SqlVal, ty: &str) -> Vec<String> {
    v.cols
        .iter()
        .map(|e| {
            if v.column {
                e.clone()
            } else {
                format!("CAST({e} AS {ty})")
            }
        })
        .collect()
}

/// The columns of a query being built, and what each value is.
#[derive(Default)]
struct Out {
    items: Vec<String>,
    slots: Vec<Slot>,
}

impl Out {
    fn push(&mut self, cols: Vec<String>, part: Part, ty: &Type) {
        self.slots.push(Slot {
            part,
            ty: ty.clone(),
            width: cols.len(),
        });
        for c in cols {
            let n = self.items.len() + 1;
            self.items.push(format!("{c} AS c{n}"));
        }
    }

    /// The positive atoms of `cx` from the `from`-th: each one's fact id (of a base or
    /// entity relation) and values, numbered from 0.
    fn atoms(&mut self, cx: &Cx, from: usize) -> Result<Vec<RelId>, Unsupported> {
        let (p, d) = (cx.p, cx.d);
        let mut rels = Vec::new();
        for (a, (alias, r)) in cx.atoms.iter().skip(from).enumerate() {
            let rel = p.rel(*r);
            check_name(d, &rel.name, cx.clause.span)?;
            if matches!(rel.kind, RelKind::Base | RelKind::Entity(_)) {
                self.push(
                    vec![format!("{alias}.{}", d.ident("_fact"))],
                    Part::Fact(a),
                    &Type::Number,
                );
            }
            for (i, f) in rel.fields.iter().enumerate() {
                let cols = columns(rel, i)
                    .iter()
                    .map(|c| format!("{alias}.{}", d.ident(c)))
                    .collect();
                self.push(cols, Part::Atom(a, i), &f.ty);
            }
            rels.push(*r);
        }
        Ok(rels)
    }

    /// Variable `v`'s value, if it is bound and of a type SQL stores (a duration is
    /// left unbound).
    fn var(&mut self, cx: &Cx, v: usize) {
        let Some(val) = cx.vars[v].clone() else {
            return;
        };
        let ty = &cx.clause.vars[v].ty;
        if let Ok(sql_ty) = sql_type(cx.d, ty) {
            self.push(cast(&val, sql_ty), Part::Var(v), ty);
        }
    }

    /// The query. A block's rows need no `DISTINCT`: they join sets (tables of distinct
    /// facts, views with set semantics), and each row holds every atom's values, so no
    /// two are alike. A range's rows drop the outer atoms, so they may repeat.
    fn query(
        self,
        cx: &Cx,
        head: RelId,
        atoms: Vec<RelId>,
        key: Vec<Part>,
        id: ClauseId,
        distinct: bool,
    ) -> Why {
        let sql = format!(
            "SELECT{}\n    {}\n{}",
            if distinct { " DISTINCT" } else { "" },
            self.items.join(",\n    "),
            super::clause::from_where(cx)
        );
        Why {
            clause: id,
            head,
            sql,
            slots: self.slots,
            atoms,
            key,
        }
    }
}

/// The derivations query of block `id`: per way it holds, the head, the positive atoms
/// and the bound variables (an aggregate's result among them; its body's own variables
/// are not bound outside it, as natively).
pub(crate) fn why(
    p: &Program,
    d: Dialect,
    params: &[Value],
    id: ClauseId,
) -> Result<Why, Unsupported> {
    let clause: &Clause = p.clause(id);
    let mut cx = Cx::new(p, d, params, clause, None);
    body(&mut cx, &clause.body)?;
    let mut out = Out::default();
    let head = p.rel(clause.head);
    for (i, t) in clause.head_terms.iter().enumerate() {
        let v = expr(&cx, t)?;
        if is_arith(t) {
            cx.conds.push(format!("{} IS NOT NULL", v.cols[0]));
        }
        let ty = &head.fields[i].ty;
        let sql_ty = sql_type(d, ty).map_err(|w| Unsupported::new(w, t.span))?;
        out.push(cast(&v, sql_ty), Part::Head(i), ty);
    }
    let atoms = out.atoms(&cx, 0)?;
    for v in 0..clause.vars.len() {
        out.var(&cx, v);
    }
    let key = (0..head.arity()).map(Part::Head).collect();
    Ok(out.query(&cx, clause.head, atoms, key, id, false))
}

/// The range queries of block `id`, one per aggregate in body order: per way the block
/// holds, what the aggregate's body ranged over — its atoms and its own named variables
/// (the bindings it counts as distinct) — keyed by the group variables bound outside it.
pub(crate) fn ranges(
    p: &Program,
    d: Dialect,
    params: &[Value],
    id: ClauseId,
) -> Result<Vec<Why>, Unsupported> {
    let clause: &Clause = p.clause(id);
    let mut out = Vec::new();
    for l in &clause.body {
        let Literal::Aggregate {
            group, body: inner, ..
        } = l
        else {
            continue;
        };
        let mut cx = Cx::new(p, d, params, clause, None);
        body(&mut cx, &clause.body)?;
        let outside: Vec<bool> = cx.vars.iter().map(Option::is_some).collect();
        let from = cx.atoms.len();
        body(&mut cx, inner)?;
        let mut q = Out::default();
        let key: Vec<Part> = group
            .iter()
            .filter(|g| outside[g.0 as usize])
            .map(|g| Part::Var(g.0 as usize))
            .collect();
        for k in &key {
            if let Part::Var(v) = k {
                q.var(&cx, *v);
            }
        }
        let atoms = q.atoms(&cx, from)?;
        for (v, var) in clause.vars.iter().enumerate() {
            if !outside[v] && var.name != "_" {
                q.var(&cx, v);
            }
        }
        out.push(q.query(&cx, clause.head, atoms, key, id, true));
    }
    Ok(out)
}
