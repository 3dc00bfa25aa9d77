//! Which derivation each tuple keeps, as the native engine would pick it, and the
//! database of those derivations.

use super::*;

/// Most premises recorded per aggregate, as natively (`EvalOptions::max_aggregate_premises`).
const MAX_AGG_PREMISES: usize = 100;

/// All premises of a derivation, in the native engine's order: the positive atoms, then
/// per aggregate what it ranged over — one binding per distinct value of its body's
/// named variables (the least, by fact ids and values), whole bindings while fewer than
/// the cap were taken, then cut at the cap.
fn all_premises(plan: &Plan, found: &Found, row: &Row) -> Vec<(RelId, Option<u32>, Vec<Value>)> {
    let mut out: Vec<_> = row.premises().collect();
    for (key, w) in plan.ranges_of(row) {
        let Some(rows) = found.ranges.get(&key) else {
            continue;
        };
        let locals: Vec<Part> = w
            .slots
            .iter()
            .filter(|s| matches!(s.part, Part::Var(_)) && !w.key.contains(&s.part))
            .map(|s| s.part)
            .collect();
        let mut sorted: Vec<&Row> = rows.iter().collect();
        sorted.sort_by(|a, b| (&a.facts, &a.atoms).cmp(&(&b.facts, &b.atoms)));
        let mut seen = HashSet::new();
        let mut taken = Vec::new();
        for r in sorted {
            if !seen.insert(r.key(&locals)) {
                continue;
            }
            if taken.len() < MAX_AGG_PREMISES {
                taken.extend(r.premises());
            }
        }
        taken.truncate(MAX_AGG_PREMISES);
        out.extend(taken);
    }
    out
}

/// The round of its stratum in which the native engine's semi-naive evaluation first
/// meets this derivation: 0 if no premise is of the head's stratum, else one more than
/// the latest such premise's round. `None` while a derived premise has no round yet.
fn row_height(plan: &Plan, found: &Found, row: &Row, height: &HashMap<Key, u32>) -> Option<u32> {
    let own = plan
        .heads
        .get(&row.clause)
        .and_then(|h| plan.stratum.get(h));
    let mut h = None;
    let mut see = |r: RelId, vals: Vec<Value>| -> Option<()> {
        let ph = *height.get(&(r, vals))?;
        if own.is_some() && plan.stratum.get(&r) == own {
            h = Some(h.map_or(ph + 1, |x: u32| x.max(ph + 1)));
        }
        Some(())
    };
    for ((r, fact), vals) in row.rels.iter().zip(&row.facts).zip(&row.atoms) {
        if fact.is_none() {
            see(
                *r,
                vals.iter()
                    .map(|v| v.clone().unwrap_or(Value::None))
                    .collect(),
            )?;
        }
    }
    if plan.ranges.contains_key(&row.clause) {
        for (r, fact, vals) in all_premises(plan, found, row)
            .into_iter()
            .skip(row.rels.len())
        {
            if fact.is_none() {
                see(r, vals)?;
            }
        }
    }
    Some(h.unwrap_or(0))
}

/// The round of each tuple: the least over its derivations (see [`row_height`]).
fn heights(plan: &Plan, found: &Found) -> HashMap<Key, u32> {
    let mut height: HashMap<Key, u32> = HashMap::new();
    loop {
        let mut changed = false;
        for (key, rows) in &found.derivs {
            for row in rows {
                let Some(h) = row_height(plan, found, row, &height) else {
                    continue;
                };
                if height.get(key).is_none_or(|&old| h < old) {
                    height.insert(key.clone(), h);
                    changed = true;
                }
            }
        }
        if !changed {
            return height;
        }
    }
}

/// The database of the chosen derivations: per tuple, one of the round that first meets
/// it (so no proof is circular), then of the first block, then of the least fact ids and
/// values — the native engine's choice. Tuples are added stratum by stratum, round by
/// round, so premises come first.
pub(super) fn build(
    p: &Program,
    facts: &FactSet,
    plan: &Plan,
    found: &Found,
) -> Result<Database, Box<Diagnostic>> {
    let height = heights(plan, found);
    let mut chosen: Vec<(u32, &Key, &Row)> = Vec::new();
    for (key, rows) in &found.derivs {
        let Some(&h) = height.get(key) else {
            continue;
        };
        let best = rows
            .iter()
            .filter(|r| row_height(plan, found, r, &height) == Some(h))
            .min_by(|a, b| (a.clause, &a.facts, &a.atoms).cmp(&(b.clause, &b.facts, &b.atoms)));
        if let Some(row) = best {
            chosen.push((h, key, row));
        }
    }
    let stratum = |k: &Key| plan.stratum.get(&k.0).copied().unwrap_or(usize::MAX);
    chosen.sort_by(|a, b| (stratum(a.1), a.0, a.1).cmp(&(stratum(b.1), b.0, b.1)));
    let mut needed: HashMap<RelId, HashSet<u32>> = HashMap::new();
    for (_, _, row) in &chosen {
        for (r, fact, _) in all_premises(plan, found, row) {
            if let Some(o) = fact {
                needed.entry(r).or_default().insert(o);
            }
        }
    }
    let bases = BaseFacts::new(facts, &needed);
    let mut db = Builder::new(p, facts);
    let mut refs: HashMap<&Key, TupleRef> = HashMap::new();
    for (_, key, row) in chosen {
        let mut premises = Vec::new();
        for (r, fact, vals) in all_premises(plan, found, row) {
            let t = match fact {
                Some(origin) => {
                    let values = bases.values(r, origin, &vals).ok_or_else(|| {
                        engine_error(
                            format!(
                                "the engine cited fact {origin} of `{}`, which the case does not hold",
                                p.rel(r).name
                            ),
                            "the tables were changed while the audit ran; run it again",
                        )
                    })?;
                    db.base(r, &values, OriginId(origin))
                }
                None => refs.get(&(r, vals)).copied().ok_or_else(|| {
                    engine_error(
                        format!(
                            "the engine derived a tuple of `{}` from one it did not return",
                            p.rel(key.0).name
                        ),
                        "report this with the rules and case: the SQL engine and Probity disagree",
                    )
                })?,
            };
            premises.push(t);
        }
        let t = db.derived(key.0, &key.1, row.clause, &row.vars, &premises);
        refs.insert(key, t);
    }
    Ok(db.finish())
}

/// The base facts the engine cites, found back in the fact set by origin.
struct BaseFacts<'f> {
    facts: &'f FactSet,
    by_origin: HashMap<RelId, HashMap<u32, Vec<usize>>>,
}

impl<'f> BaseFacts<'f> {
    /// Finds where the `needed` origins of each relation are, in one pass over it.
    fn new(facts: &'f FactSet, needed: &HashMap<RelId, HashSet<u32>>) -> BaseFacts<'f> {
        let mut by_origin: HashMap<RelId, HashMap<u32, Vec<usize>>> = HashMap::new();
        for (r, origins) in needed {
            let Some(tuples) = facts.tuples.get(r.0 as usize) else {
                continue;
            };
            let m = by_origin.entry(*r).or_default();
            for (i, o) in tuples.origins().enumerate() {
                if origins.contains(&o.0) {
                    m.entry(o.0).or_default().push(i);
                }
            }
        }
        BaseFacts { facts, by_origin }
    }

    /// The values of the fact of `r` written at `origin` that are `vals` (a symmetric
    /// fact is held both ways round, a list one once per member).
    fn values(&self, r: RelId, origin: u32, vals: &[Value]) -> Option<Vec<Value>> {
        let tuples = self.facts.tuples.get(r.0 as usize)?;
        let w = tuples.width();
        for &i in self.by_origin.get(&r)?.get(&origin)? {
            let ids = &tuples.ids()[i * w..(i + 1) * w];
            let values: Vec<Value> = ids.iter().map(|&id| self.facts.value(id).clone()).collect();
            if values == vals {
                return Some(values);
            }
        }
        None
    }
}
