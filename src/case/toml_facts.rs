//! Facts from a TOML data file: each `[[name]]` table is one fact of relation `name`.

use std::ops::Range;
use std::sync::Arc;

use toml::de::{DeTable, DeValue};

use crate::facts::FieldValue;
use crate::ir::{KindId, RelId, RelKind, Relation, Type};
use crate::value::{Status, Value};

use super::convert::{Ctx, absent, parse_status, unknown_field};
use super::csv::FieldPos;
use super::errors::CaseError;
use super::toml_file::{TomlFile, Val, found, scalar, strings};
use super::{Converted, Row, Staged};

/// An entity id as written: the id, its kind, and the place of its value.
pub(crate) type IdAt = (Arc<str>, KindId, FieldPos);

/// The tables under each top-level key, with the header's byte range.
fn tables<'d, 'a>(
    doc: &'d DeTable<'a>,
) -> impl Iterator<Item = (&'d str, &'d DeTable<'a>, Range<usize>)> {
    doc.iter().flat_map(|(k, v)| {
        let members: &[Val<'a>] = match v.get_ref() {
            DeValue::Array(a) => a,
            _ => &[],
        };
        members.iter().filter_map(move |m| match m.get_ref() {
            DeValue::Table(t) => Some((k.get_ref().as_ref(), t, m.span())),
            _ => None,
        })
    })
}

/// The entity ids defined in a document (`id` of every `[[person]]`, `[[org]]`, …).
pub(crate) fn entity_ids(file: &TomlFile, ctx: &Ctx, doc: &DeTable<'_>) -> Vec<IdAt> {
    let mut out = Vec::new();
    for (name, table, _) in tables(doc) {
        let Some(rel) = ctx.program.rel_by_name(name) else {
            continue;
        };
        let r = ctx.program.rel(rel);
        let (RelKind::Entity(kind), Some(id_field)) = (r.kind, r.fields.first()) else {
            continue;
        };
        if let Some(v) = table.get(id_field.name.as_str())
            && let DeValue::String(s) = v.get_ref()
        {
            out.push((Arc::from(s.as_ref()), kind, file.pos(v.span())));
        }
    }
    out.sort_by_key(|(_, _, pos)| pos.start);
    out
}

/// Converts every fact of a parsed data file.
pub(crate) fn convert(file: &TomlFile, doc: &DeTable, ctx: &Ctx) -> Converted {
    let mut out = Converted::default();
    for (key, v) in doc.iter() {
        let name = key.get_ref().as_ref();
        let rel = match ctx.relation(name) {
            Ok(rel) => rel,
            Err(e) => {
                out.diags.push(file.error(&e, key.span()));
                continue;
            }
        };
        let DeValue::Array(members) = v.get_ref() else {
            let found = if v.get_ref().is_table() {
                "table"
            } else {
                "single value"
            };
            let e = CaseError::NotFacts {
                key: name.into(),
                found,
            };
            out.diags.push(file.error(&e, key.span()));
            continue;
        };
        for m in members.iter() {
            match m.get_ref() {
                DeValue::Table(t) => fact(file, ctx, rel, t, m.span(), &mut out),
                other => {
                    let e = CaseError::NotFacts {
                        key: name.into(),
                        found: if other.is_array() {
                            "list"
                        } else {
                            "single value"
                        },
                    };
                    out.diags.push(file.error(&e, m.span()));
                }
            }
        }
    }
    out.facts.sort_by_key(|f| f.line);
    out
}

/// One `[[name]]` table: its fields, then `source`, `status` and `note`.
fn fact(
    file: &TomlFile,
    ctx: &Ctx,
    rel_id: RelId,
    table: &DeTable,
    header: Range<usize>,
    out: &mut Converted,
) {
    let rel = ctx.program.rel(rel_id);
    let mut fields: Vec<Option<FieldValue>> = vec![None; rel.arity()];
    let mut staged = Staged {
        rel: rel_id,
        fields: Row::Flat(Vec::new()),
        line: file.line(header.start),
        sources: Vec::new(),
        status: Status::default(),
        note: None,
    };
    let before = out.diags.len();
    for (k, v) in table.iter() {
        let key = k.get_ref().as_ref();
        let res = match rel.field(key) {
            // An entity's id must say something: `""` could never be referred to.
            Some(0) if matches!(rel.kind, RelKind::Entity(_)) && blank(v) => {
                fields[0] = Some(FieldValue::One(Value::None));
                Err((
                    CaseError::WrongType {
                        field: key.into(),
                        expected: "an entity id".into(),
                        found: "empty text".into(),
                    },
                    v.span(),
                ))
            }
            Some(i) => field(ctx, rel, i, v)
                .map(|fv| fields[i] = fv)
                .inspect_err(|_| {
                    // Reported once: a bad value is not also a missing one.
                    fields[i] = Some(FieldValue::One(Value::None));
                }),
            None => meta(ctx, rel, key, v, k.span(), &mut staged),
        };
        if let Err((e, span)) = res {
            out.diags.push(file.error(&e, span));
        }
    }
    for (i, slot) in fields.iter_mut().enumerate() {
        if slot.is_none() {
            let f = &rel.fields[i];
            if !f.optional {
                let e = CaseError::MissingField {
                    rel: rel.name.clone(),
                    field: f.name.clone(),
                };
                out.diags.push(file.error(&e, header.clone()));
            }
            *slot = Some(absent(rel, i));
        }
    }
    if out.diags.len() == before {
        staged.fields = Row::new(rel, fields.into_iter().flatten());
        out.facts.push(staged);
    }
}

type Res<T> = Result<T, (CaseError, Range<usize>)>;

/// A field's value; `None` for an empty optional list (absent).
fn field(ctx: &Ctx, rel: &Relation, i: usize, v: &Val) -> Res<Option<FieldValue>> {
    let f = &rel.fields[i];
    if i == 0
        && let RelKind::Entity(_) = rel.kind
    {
        return match v.get_ref() {
            DeValue::String(s) => Ok(Some(FieldValue::One(ctx.entity_value(s.as_ref())))),
            other => Err((ctx.wrong_type(f, &found(other)), v.span())),
        };
    }
    let one = |m: &Val| scalar(ctx, f, m.get_ref()).map_err(|e| (e, m.span()));
    match v.get_ref() {
        DeValue::Array(items) if f.list => {
            if items.is_empty() && !f.optional {
                let e = CaseError::EmptyList {
                    rel: rel.name.clone(),
                    field: f.name.clone(),
                };
                return Err((e, v.span()));
            }
            if items.is_empty() {
                return Ok(None);
            }
            let vals = items.iter().map(one).collect::<Res<Vec<Value>>>()?;
            Ok(Some(FieldValue::Many(vals)))
        }
        _ if f.list => Ok(Some(FieldValue::Many(vec![one(v)?]))),
        _ => Ok(Some(FieldValue::One(one(v)?))),
    }
}

/// `source`, `status` or `note`; anything else is an unknown field.
fn meta(
    ctx: &Ctx,
    rel: &Relation,
    key: &str,
    v: &Val,
    key_span: Range<usize>,
    st: &mut Staged,
) -> Res<()> {
    let text_field = |name: &str| crate::ir::Field {
        name: name.into(),
        ty: Type::Text,
        optional: true,
        list: false,
    };
    let wrong = |name: &str, list: bool| {
        let mut f = text_field(name);
        f.list = list;
        let expected = if list {
            "a source id or a list of them"
        } else {
            "text"
        };
        CaseError::WrongType {
            field: f.name,
            expected: expected.into(),
            found: found(v.get_ref()),
        }
    };
    match key {
        "source" => {
            let ids = strings(v, true).map_err(|span| (wrong("source", true), span))?;
            for (id, span) in ids {
                st.sources.push(ctx.source(id).map_err(|e| (e, span))?);
            }
        }
        "status" => {
            let s = strings(v, false).map_err(|span| (wrong("status", false), span))?;
            st.status = parse_status(s[0].0).map_err(|e| (e, v.span()))?;
        }
        "note" => {
            let s = strings(v, false).map_err(|span| (wrong("note", false), span))?;
            st.note = Some(Arc::from(s[0].0));
        }
        _ => return Err((unknown_field(rel, key), key_span)),
    }
    Ok(())
}

/// A string of nothing but whitespace.
fn blank(v: &Val) -> bool {
    matches!(v.get_ref(), DeValue::String(s) if s.trim().is_empty())
}
