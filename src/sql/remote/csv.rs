//! Facts out to the engine and rows back, as CSV files.

use super::*;

/// Writes every relation's CSV ([`write_facts`]) on all cores; the rows of each.
pub(super) fn write_all(
    d: Dialect,
    p: &Program,
    facts: &FactSet,
    files: &[(RelId, PathBuf)],
) -> Result<Vec<usize>, Box<Diagnostic>> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let work = || {
        let mut done = Vec::new();
        loop {
            let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let Some((r, path)) = files.get(i) else {
                return done;
            };
            done.push((i, write_facts(d, p, facts, *r, path)));
        }
    };
    let threads = crate::case::threads().clamp(1, files.len().max(1));
    let mut results: Vec<(usize, Result<usize, Box<Diagnostic>>)> = std::thread::scope(|sc| {
        let others: Vec<_> = (1..threads).map(|_| sc.spawn(work)).collect();
        let mut all = work();
        for h in others {
            match h.join() {
                Ok(part) => all.extend(part),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        all
    });
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

/// Writes one day as the engine stores it: open ends as their sentinels.
fn write_day(out: &mut impl std::io::Write, n: i32) -> std::io::Result<()> {
    if n == Date::NEG_INF.first || n == Date::NEG_INF.last {
        return out.write_all(NEG_INF_SQL.as_bytes());
    }
    if n == Date::POS_INF.first || n == Date::POS_INF.last {
        return out.write_all(POS_INF_SQL.as_bytes());
    }
    let (y, m, d) = civil_from_days(n);
    let (y, m, d) = (y as u32, m, d);
    let digit = |x: u32| b'0' + (x % 10) as u8;
    out.write_all(&[
        digit(y / 1000),
        digit(y / 100),
        digit(y / 10),
        digit(y),
        b'-',
        digit(m / 10),
        digit(m),
        b'-',
        digit(d / 10),
        digit(d),
    ])
}

/// Writes a number in decimal without the formatting machinery (it is called per fact).
fn write_u32(out: &mut impl std::io::Write, mut n: u32) -> std::io::Result<()> {
    let mut buf = [0u8; 10];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.write_all(&buf[i..])
}

/// CSV of a relation's facts: `_fact`, then each stored column; none as an unquoted
/// `\N`, text always quoted. A symmetric relation is written one way round. The number
/// of rows.
fn write_facts(
    d: Dialect,
    p: &Program,
    facts: &FactSet,
    r: RelId,
    path: &Path,
) -> Result<usize, Box<Diagnostic>> {
    use std::io::Write;
    let rel = p.rel(r);
    let cannot_write = |e: std::io::Error| {
        Box::new(engine_error(
            format!("cannot write {}: {e}", path.display()),
            "check that the temporary folder ($TMPDIR) is writable and has room",
        ))
    };
    let file = std::fs::File::create(path).map_err(cannot_write)?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    let Some(tuples) = facts.tuples.get(r.0 as usize) else {
        return Ok(0);
    };
    let w = tuples.width();
    let mut seen: rustc_hash::FxHashSet<(u32, Option<Vec<u32>>)> = Default::default();
    let mut rows = 0;
    for (i, origin) in tuples.origins().enumerate() {
        let ids = &tuples.ids()[i * w..(i + 1) * w];
        // Both ways round share an origin: keep the first (per list member).
        if rel.symmetric && !seen.insert((origin.0, ids.get(2..).map(<[u32]>::to_vec))) {
            continue;
        }
        write_u32(&mut out, origin.0).map_err(cannot_write)?;
        for (f, &id) in rel.fields.iter().zip(ids) {
            let v = facts.value(id);
            if let Some(why) = unstorable(d, v) {
                return Err(unstorable_error(facts, origin, rel, &f.name, &why));
            }
            let written = match v {
                Value::None if f.ty == Type::Date => out.write_all(b",\\N,\\N"),
                Value::None => out.write_all(b",\\N"),
                Value::Date(x) => out
                    .write_all(b",")
                    .and_then(|()| write_day(&mut out, x.first))
                    .and_then(|()| out.write_all(b","))
                    .and_then(|()| write_day(&mut out, x.last)),
                Value::Bool(b) => out.write_all(if *b { b",true" } else { b",false" }),
                Value::Number(n) => write!(out, ",{n}"),
                Value::Text(s) | Value::Entity(s) if s.contains('"') => {
                    write!(out, ",\"{}\"", s.replace('"', "\"\""))
                }
                Value::Text(s) | Value::Entity(s) => out
                    .write_all(b",\"")
                    .and_then(|()| out.write_all(s.as_bytes()))
                    .and_then(|()| out.write_all(b"\"")),
                Value::Duration(x) => write!(out, ",\"{x}\""),
            };
            written.map_err(cannot_write)?;
        }
        out.write_all(b"\n").map_err(cannot_write)?;
        rows += 1;
    }
    out.flush().map_err(cannot_write)?;
    Ok(rows)
}

/// The error for a fact the engine cannot hold, at the fact's place.
fn unstorable_error(
    facts: &FactSet,
    origin: OriginId,
    rel: &crate::ir::Relation,
    field: &str,
    why: &str,
) -> Box<Diagnostic> {
    let (file, line) = facts.origin_place(origin);
    let line_text = std::fs::read_to_string(&**file)
        .ok()
        .and_then(|t| {
            t.lines()
                .nth(line.saturating_sub(1) as usize)
                .map(str::to_string)
        })
        .unwrap_or_default();
    Box::new(
        engine_error(
            format!("the fact's `{}.{field}` {why}", rel.name),
            "run this case with the native engine (leave out `--engine`), or correct the value",
        )
        .at_place(crate::diag::Place::Point {
            path: file.to_string(),
            line,
            col: 1,
            len: line_text.chars().count().max(1) as u32,
            line_text,
        }),
    )
}

/// Why the engine cannot hold a value as the native engine means it, if it cannot: a
/// date on or beyond the days that stand for open ends (it would read as one), text with
/// NUL on PostgreSQL.
fn unstorable(d: Dialect, v: &Value) -> Option<String> {
    match v {
        Value::Date(x) if !x.is_open() && !crate::sql::expr::between_sentinels(x) => Some(format!(
            "is {v}, on or beyond the days SQL uses for open ends ({NEG_INF_SQL}, {POS_INF_SQL}): it would read as an open end"
        )),
        Value::Text(s) | Value::Entity(s) if !d.can_hold_text(s) => Some(format!(
            "holds a NUL character, which {} text cannot",
            d.title()
        )),
        _ => None,
    }
}

/// A CSV file as records of cells: an unquoted empty cell is `None` (SQL NULL), a quoted
/// one text.
fn parse_csv(text: &str) -> Result<Vec<Vec<Option<String>>>, String> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut cell = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    let mut at_start = true;
    while let Some(c) = chars.next() {
        match c {
            '"' if at_start => {
                quoted = true;
                at_start = false;
                loop {
                    match chars.next() {
                        Some('"') if chars.peek() == Some(&'"') => {
                            chars.next();
                            cell.push('"');
                        }
                        Some('"') => break,
                        Some(x) => cell.push(x),
                        None => return Err("a quoted cell runs to the end of the file".into()),
                    }
                }
            }
            ',' => {
                record.push((quoted || !cell.is_empty()).then(|| std::mem::take(&mut cell)));
                quoted = false;
                at_start = true;
            }
            '\r' => {}
            '\n' => {
                record.push((quoted || !cell.is_empty()).then(|| std::mem::take(&mut cell)));
                records.push(std::mem::take(&mut record));
                quoted = false;
                at_start = true;
            }
            x => {
                at_start = false;
                cell.push(x);
            }
        }
    }
    if !at_start || quoted || !record.is_empty() {
        record.push((quoted || !cell.is_empty()).then_some(cell));
        records.push(record);
    }
    Ok(records)
}

/// One cell as a value of type `ty` (a date's half as its day).
fn cell_value(ty: &Type, cell: &str) -> Option<Value> {
    Some(match ty {
        Type::Text => Value::text(cell),
        Type::Entity(_) => Value::entity(cell),
        Type::Number => Value::Number(Decimal::parse(cell)?),
        Type::Bool => Value::Bool(match cell {
            "true" | "t" | "TRUE" => true,
            "false" | "f" | "FALSE" => false,
            _ => return None,
        }),
        _ => return None,
    })
}

/// A day the engine returned; the sentinels stand for the open ends.
fn parse_day(cell: &str, last: bool) -> Option<i32> {
    match cell {
        NEG_INF_SQL => Some(if last {
            Date::NEG_INF.last
        } else {
            Date::NEG_INF.first
        }),
        POS_INF_SQL => Some(if last {
            Date::POS_INF.last
        } else {
            Date::POS_INF.first
        }),
        _ => {
            let parts: Vec<&str> = cell.split('-').collect();
            let [y, m, d] = parts.as_slice() else {
                return None;
            };
            Some(days_from_civil(
                y.parse().ok()?,
                m.parse().ok()?,
                d.parse().ok()?,
            ))
        }
    }
}

/// The rows of one derivations query, read from its CSV output.
pub(super) fn read_rows(p: &Program, w: &Why, path: &Path) -> Result<Vec<Row>, Box<Diagnostic>> {
    let bad = |what: String| {
        engine_error(
            format!("cannot read the engine's output {}: {what}", path.display()),
            "report this with the rules and case: the engine returned what Probity did not ask for",
        )
    };
    let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
    let records = parse_csv(&text).map_err(bad)?;
    let width: usize = w.slots.iter().map(|s| s.width).sum();
    let c = p.clause(w.clause);
    let mut rows = Vec::new();
    for rec in records.iter().skip(1) {
        if rec.len() != width {
            return Err(Box::new(bad(format!(
                "a row of {} cells, not {width}",
                rec.len()
            ))));
        }
        let mut row = Row {
            clause: w.clause,
            head: vec![Value::None; p.rel(c.head).arity()],
            facts: vec![None; w.atoms.len()],
            atoms: w
                .atoms
                .iter()
                .map(|r| vec![None; p.rel(*r).arity()])
                .collect(),
            vars: vec![None; c.vars.len()],
            rels: w.atoms.clone(),
        };
        let mut cells = rec.iter();
        for s in &w.slots {
            let value = if s.width == 2 {
                let (a, b) = (
                    cells.next().cloned().flatten(),
                    cells.next().cloned().flatten(),
                );
                match (a, b) {
                    (None, None) => Value::None,
                    (Some(a), Some(b)) => Value::Date(Date {
                        first: parse_day(&a, false)
                            .ok_or_else(|| bad(format!("`{a}` is not a date")))?,
                        last: parse_day(&b, true)
                            .ok_or_else(|| bad(format!("`{b}` is not a date")))?,
                    }),
                    _ => return Err(Box::new(bad("a date with one half missing".into()))),
                }
            } else {
                match cells.next().cloned().flatten() {
                    None => Value::None,
                    Some(x) if matches!(s.part, Part::Fact(_)) => {
                        let id: u32 = x
                            .parse()
                            .map_err(|_| bad(format!("`{x}` is not a fact id")))?;
                        if let Part::Fact(a) = s.part {
                            row.facts[a] = Some(id);
                        }
                        continue;
                    }
                    Some(x) => cell_value(&s.ty, &x)
                        .ok_or_else(|| bad(format!("`{x}` is not a value of type {:?}", s.ty)))?,
                }
            };
            match s.part {
                Part::Head(i) => row.head[i] = value,
                Part::Atom(a, i) => row.atoms[a][i] = Some(value),
                Part::Var(v) => row.vars[v] = Some(value),
                Part::Fact(_) => {}
            }
        }
        rows.push(row);
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_keep_null_apart_from_empty_text() {
        let rows = parse_csv("a,b,c\n\"x\",,\"\"\n\"say \"\"hi\"\"\",\"two\nlines\",3\n")
            .expect("valid CSV");
        assert_eq!(rows.len(), 3);
        assert_eq!(
            rows[1],
            vec![Some("x".to_string()), None, Some(String::new())]
        );
        assert_eq!(
            rows[2],
            vec![
                Some("say \"hi\"".to_string()),
                Some("two\nlines".to_string()),
                Some("3".to_string())
            ]
        );
        assert!(parse_csv("\"open").is_err());
    }

    #[test]
    fn days_go_out_and_come_back_with_the_open_ends() {
        for n in [
            days_from_civil(1, 1, 2),
            days_from_civil(2024, 2, 29),
            days_from_civil(9999, 12, 30),
        ] {
            let mut out = Vec::new();
            write_day(&mut out, n).expect("write to a Vec");
            let text = String::from_utf8(out).expect("ASCII");
            assert_eq!(parse_day(&text, false), Some(n), "{text}");
            assert_eq!(parse_day(&text, true), Some(n), "{text}");
        }
        let mut out = Vec::new();
        write_day(&mut out, Date::POS_INF.last).expect("write to a Vec");
        assert_eq!(out, POS_INF_SQL.as_bytes());
        assert_eq!(parse_day(POS_INF_SQL, true), Some(Date::POS_INF.last));
        assert_eq!(parse_day(NEG_INF_SQL, false), Some(Date::NEG_INF.first));
        assert_eq!(parse_day("2024-13", false), None);
    }

    #[test]
    fn values_the_engine_cannot_hold_are_named() {
        let last = Value::Date(Date {
            first: days_from_civil(9999, 12, 31),
            last: days_from_civil(9999, 12, 31),
        });
        assert!(unstorable(Dialect::Duckdb, &last).is_some());
        assert!(unstorable(Dialect::Duckdb, &Value::Date(Date::POS_INF)).is_none());
        assert!(unstorable(Dialect::Postgres, &Value::text("a\0b")).is_some());
        assert!(unstorable(Dialect::Duckdb, &Value::text("a\0b")).is_none());
    }
}
