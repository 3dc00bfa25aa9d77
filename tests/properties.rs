//! Property test: random stratified programs evaluated by the engine and by a naive
//! reference evaluator (nested loops to a fixpoint, stratum by stratum) must agree.
//! Programs mix recursion (linear and not), negation, comparisons, arithmetic, and the
//! aggregates `count`, `sum`, `min` and `max` (over a body variable, a constant, or an
//! expression) grouped by outer variables.
//!
//! `PROBITY_PROPTEST_CASES=N` runs more cases; `PROBITY_PROPTEST_SEED=S` picks the first
//! seed. A failure prints the case's seed, plan and facts.

use std::collections::{BTreeMap, BTreeSet};

use probity::diag::Span;
use probity::eval::{EvalOptions, evaluate};
use probity::facts::{FactSet, Origin};
use probity::ir::*;
use probity::syntax::ast::{AggFunc, BinOp, CmpOp};
use probity::value::{Decimal, Status, Value};

/// xorshift64*: small, seedable, good enough to pick shapes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, pct: usize) -> bool {
        self.below(100) < pct
    }
}

const DOMAIN: i64 = 7;

fn num(i: i64) -> Value {
    Value::Number(Decimal::from_int(i))
}

fn e(kind: ExprKind) -> Expr {
    Expr {
        kind,
        ty: Type::Any,
        span: Span::default(),
    }
}

/// A generated program: relations, and per derived relation its group (stratum level).
struct Case {
    p: Program,
    base: Vec<RelId>,
    derived: Vec<(RelId, usize)>,
    facts: Vec<(RelId, Vec<Value>)>,
}

fn relation(name: String, arity: usize, kind: RelKind) -> Relation {
    Relation {
        name,
        kind,
        fields: (0..arity)
            .map(|i| Field {
                name: format!("f{i}"),
                ty: Type::Any,
                optional: false,
                list: false,
            })
            .collect(),
        symmetric: false,
        validity: None,
        span: Span::default(),
    }
}

fn gen_case(rng: &mut Rng) -> Case {
    let mut p = Program::default();
    let mut base = Vec::new();
    for i in 0..3 {
        base.push(RelId(p.relations.len() as u32));
        p.relations
            .push(relation(format!("b{i}"), 1 + rng.below(3), RelKind::Base));
    }
    let mut derived = Vec::new();
    let nd = 2 + rng.below(4);
    for i in 0..nd {
        derived.push((RelId(p.relations.len() as u32), i / 2));
        p.relations.push(relation(
            format!("d{i}"),
            1 + rng.below(3),
            RelKind::Derived,
        ));
    }
    let mut case = Case {
        p,
        base,
        derived,
        facts: Vec::new(),
    };
    for i in 0..nd {
        for _ in 0..1 + rng.below(3) {
            let c = gen_clause(rng, &case, i);
            case.p.clauses.push(c);
        }
    }
    for &b in &case.base {
        let arity = case.p.rel(b).arity();
        for _ in 0..rng.below(20) {
            let t = (0..arity)
                .map(|_| num(rng.below(DOMAIN as usize) as i64))
                .collect();
            case.facts.push((b, t));
        }
    }
    case
}

/// Relations a clause of derived relation `i` may read: positively, anything of its
/// group or below; negated or aggregated, only strictly lower groups.
fn readable(case: &Case, i: usize, strict: bool) -> Vec<RelId> {
    let g = case.derived[i].1;
    let mut out = case.base.clone();
    out.extend(
        case.derived
            .iter()
            .filter(|(_, h)| if strict { *h < g } else { *h <= g })
            .map(|(r, _)| *r),
    );
    out
}

struct Vars(Vec<Var>);

impl Vars {
    fn fresh(&mut self) -> VarId {
        self.0.push(Var {
            name: format!("v{}", self.0.len()),
            ty: Type::Any,
            span: Span::default(),
        });
        VarId(self.0.len() as u32 - 1)
    }
}

fn gen_atom(rng: &mut Rng, p: &Program, rels: &[RelId], pool: &[VarId], wild: bool) -> Atom {
    let rel = rels[rng.below(rels.len())];
    let terms = (0..p.rel(rel).arity())
        .map(|_| match rng.below(10) {
            0 => Term::Const(num(rng.below(DOMAIN as usize) as i64)),
            1 if wild => Term::Wildcard,
            _ => Term::Var(pool[rng.below(pool.len())]),
        })
        .collect();
    Atom {
        rel,
        terms,
        span: Span::default(),
    }
}

fn atom_vars(a: &Atom) -> Vec<VarId> {
    a.terms
        .iter()
        .filter_map(|t| if let Term::Var(v) = t { Some(*v) } else { None })
        .collect()
}

fn gen_clause(rng: &mut Rng, case: &Case, i: usize) -> Clause {
    let p = &case.p;
    let mut vars = Vars(Vec::new());
    let pool: Vec<VarId> = (0..3).map(|_| vars.fresh()).collect();
    let pos = readable(case, i, false);
    let low = readable(case, i, true);
    let mut body = Vec::new();
    let mut bound: Vec<VarId> = Vec::new();
    let own: Vec<RelId> = case
        .derived
        .iter()
        .filter(|(_, h)| *h == case.derived[i].1)
        .map(|(r, _)| *r)
        .collect();
    for _ in 0..1 + rng.below(3) {
        // Favour the clause's own group, so recursion (linear and not) is common.
        let from = if rng.chance(40) { &own } else { &pos };
        let a = gen_atom(rng, p, from, &pool, true);
        bound.extend(atom_vars(&a));
        body.push(Literal::Atom(a));
    }
    bound.sort();
    bound.dedup();
    gen_tests(rng, &mut body, &mut bound, &mut vars);
    if !bound.is_empty() && !low.is_empty() && rng.chance(35) {
        body.push(Literal::Not(gen_atom(rng, p, &low, &bound, true)));
    }
    if !low.is_empty() && rng.chance(40) {
        let (agg, n) = gen_aggregate(rng, p, &low, &bound, &mut vars);
        body.push(agg);
        if rng.chance(50) {
            body.push(cmp(
                CmpOp::Ge,
                ExprKind::Var(n),
                ExprKind::Const(num(rng.below(3) as i64)),
            ));
        }
        bound.push(n);
    }
    let head = case.derived[i].0;
    let head_terms = (0..p.rel(head).arity())
        .map(|_| match bound.len() {
            0 => e(ExprKind::Const(num(0))),
            n if rng.chance(90) => e(ExprKind::Var(bound[rng.below(n)])),
            _ => e(ExprKind::Const(num(rng.below(DOMAIN as usize) as i64))),
        })
        .collect();
    Clause {
        head,
        head_terms,
        body,
        vars: vars.0,
        origin: ClauseOrigin::Derive,
        span: Span::default(),
    }
}

/// Maybe `y = x + 1, y <= DOMAIN`; maybe one comparison over bound variables.
fn gen_tests(rng: &mut Rng, body: &mut Vec<Literal>, bound: &mut Vec<VarId>, vars: &mut Vars) {
    if !bound.is_empty() && rng.chance(20) {
        // y = x + 1, y <= DOMAIN
        let x = bound[rng.below(bound.len())];
        let y = vars.fresh();
        let sum = ExprKind::Binary(
            BinOp::Add,
            Box::new(e(ExprKind::Var(x))),
            Box::new(e(ExprKind::Const(num(1)))),
        );
        body.push(Literal::Assign {
            var: y,
            expr: e(sum),
            span: Span::default(),
        });
        body.push(cmp(
            CmpOp::Le,
            ExprKind::Var(y),
            ExprKind::Const(num(DOMAIN)),
        ));
        bound.push(y);
    }
    if !bound.is_empty() && rng.chance(40) {
        let ops = [
            CmpOp::Eq,
            CmpOp::Ne,
            CmpOp::Lt,
            CmpOp::Le,
            CmpOp::Gt,
            CmpOp::Ge,
        ];
        let a = ExprKind::Var(bound[rng.below(bound.len())]);
        let b = if rng.chance(50) {
            ExprKind::Var(bound[rng.below(bound.len())])
        } else {
            ExprKind::Const(num(rng.below(DOMAIN as usize) as i64))
        };
        body.push(cmp(ops[rng.below(ops.len())], a, b));
    }
}

fn cmp(op: CmpOp, a: ExprKind, b: ExprKind) -> Literal {
    Literal::Compare {
        op,
        lhs: e(a),
        rhs: e(b),
        span: Span::default(),
    }
}

/// `n = count { r(…) }`, `n = sum x { r(…) }`, `min`, `max` over a lower relation,
/// mixing outer and local variables; the summed value is a variable of the body (or a
/// constant, or the variable plus one).
fn gen_aggregate(
    rng: &mut Rng,
    p: &Program,
    low: &[RelId],
    bound: &[VarId],
    vars: &mut Vars,
) -> (Literal, VarId) {
    let locals: Vec<VarId> = (0..2).map(|_| vars.fresh()).collect();
    let mut pool = locals.clone();
    pool.extend_from_slice(bound);
    let a = gen_atom(rng, p, low, &pool, true);
    let in_atom = atom_vars(&a);
    let mut group: Vec<VarId> = in_atom
        .iter()
        .copied()
        .filter(|v| bound.contains(v))
        .collect();
    group.sort();
    group.dedup();
    let func = [AggFunc::Count, AggFunc::Sum, AggFunc::Min, AggFunc::Max][rng.below(4)];
    let over = (func != AggFunc::Count).then(|| match (in_atom.is_empty(), rng.below(4)) {
        (true, _) | (false, 0) => e(ExprKind::Const(num(rng.below(DOMAIN as usize) as i64))),
        (false, 1) => e(ExprKind::Binary(
            BinOp::Add,
            Box::new(e(ExprKind::Var(in_atom[rng.below(in_atom.len())]))),
            Box::new(e(ExprKind::Const(num(1)))),
        )),
        _ => e(ExprKind::Var(in_atom[rng.below(in_atom.len())])),
    });
    let n = vars.fresh();
    let lit = Literal::Aggregate {
        result: n,
        func,
        over,
        group,
        body: vec![Literal::Atom(a)],
        span: Span::default(),
    };
    (lit, n)
}

// ---- the naive reference evaluator ----

type Db = BTreeMap<RelId, BTreeSet<Vec<Value>>>;
type Env = Vec<Option<Value>>;

fn matches(a: &Atom, t: &[Value], env: &mut Env) -> bool {
    for (term, v) in a.terms.iter().zip(t) {
        match term {
            Term::Wildcard => {}
            Term::Const(c) => {
                if c != v {
                    return false;
                }
            }
            Term::Var(x) => match &env[x.0 as usize] {
                Some(b) if b != v => return false,
                Some(_) => {}
                None => env[x.0 as usize] = Some(v.clone()),
            },
        }
    }
    true
}

fn value(x: &Expr, env: &Env) -> Option<Value> {
    match &x.kind {
        ExprKind::Var(v) => env[v.0 as usize].clone(),
        ExprKind::Const(c) => Some(c.clone()),
        ExprKind::Binary(BinOp::Add, a, b) => match (value(a, env)?, value(b, env)?) {
            (Value::Number(a), Value::Number(b)) => a.checked_add(b).map(Value::Number),
            _ => None,
        },
        _ => None,
    }
}

/// All extensions of `env` satisfying `body[k..]`, literal by literal in source order.
fn solve(db: &Db, body: &[Literal], k: usize, env: &Env, out: &mut Vec<Env>) {
    let Some(lit) = body.get(k) else {
        out.push(env.clone());
        return;
    };
    let next = |env: &Env, out: &mut Vec<Env>| solve(db, body, k + 1, env, out);
    match lit {
        Literal::Atom(a) => {
            for t in db.get(&a.rel).into_iter().flatten() {
                let mut e2 = env.clone();
                if matches(a, t, &mut e2) {
                    next(&e2, out);
                }
            }
        }
        Literal::Not(a) => {
            let hit = db
                .get(&a.rel)
                .into_iter()
                .flatten()
                .any(|t| matches(a, t, &mut env.clone()));
            if !hit {
                next(env, out);
            }
        }
        Literal::Compare { op, lhs, rhs, .. } => {
            let (Some(a), Some(b)) = (value(lhs, env), value(rhs, env)) else {
                return;
            };
            let ok = match op {
                CmpOp::Eq => a == b,
                CmpOp::Ne => a != b,
                CmpOp::Lt => a < b,
                CmpOp::Le => a <= b,
                CmpOp::Gt => a > b,
                CmpOp::Ge => a >= b,
            };
            if ok {
                next(env, out);
            }
        }
        Literal::Assign { var, expr, .. } => {
            let Some(v) = value(expr, env) else { return };
            let mut e2 = env.clone();
            e2[var.0 as usize] = Some(v);
            next(&e2, out);
        }
        Literal::Aggregate {
            result,
            func,
            over,
            body: inner,
            ..
        } => {
            if let Some(v) = aggregate(db, *func, over.as_ref(), inner, env) {
                let mut e2 = env.clone();
                e2[result.0 as usize] = Some(v);
                next(&e2, out);
            }
        }
        _ => {}
    }
}

/// `count`/`sum`/`min`/`max` over the distinct bindings of the variables the body binds
/// itself; `count` and `sum` over nothing are 0, `min`/`max` over nothing bind nothing;
/// a valueless `over` is skipped.
fn aggregate(
    db: &Db,
    func: AggFunc,
    over: Option<&Expr>,
    body: &[Literal],
    env: &Env,
) -> Option<Value> {
    let mut sols = Vec::new();
    solve(db, body, 0, env, &mut sols);
    let mut distinct: BTreeMap<Vec<Option<Value>>, Env> = BTreeMap::new();
    for s in sols {
        let key = s
            .iter()
            .enumerate()
            .filter(|(i, _)| env[*i].is_none())
            .map(|(_, v)| v.clone())
            .collect();
        distinct.entry(key).or_insert(s);
    }
    if func == AggFunc::Count {
        return Some(num(distinct.len() as i64));
    }
    let values: Vec<Value> = distinct
        .values()
        .filter_map(|s| over.and_then(|x| value(x, s)))
        .collect();
    match func {
        AggFunc::Sum => {
            let mut acc = Decimal::from_int(0);
            for v in &values {
                if let Value::Number(d) = v {
                    acc = acc.checked_add(*d)?;
                }
            }
            Some(Value::Number(acc))
        }
        AggFunc::Min => values.into_iter().min(),
        AggFunc::Max => values.into_iter().max(),
        AggFunc::Count => None,
    }
}

fn reference(case: &Case) -> Db {
    let mut db: Db = BTreeMap::new();
    for (r, t) in &case.facts {
        db.entry(*r).or_default().insert(t.clone());
    }
    let groups = case.derived.iter().map(|d| d.1).max().unwrap_or(0);
    for g in 0..=groups {
        loop {
            let mut changed = false;
            for c in &case.p.clauses {
                if !case.derived.iter().any(|(r, h)| *r == c.head && *h == g) {
                    continue;
                }
                let mut sols = Vec::new();
                solve(&db, &c.body, 0, &vec![None; c.vars.len()], &mut sols);
                for s in sols {
                    let t: Option<Vec<Value>> = c.head_terms.iter().map(|x| value(x, &s)).collect();
                    if let Some(t) = t {
                        changed |= db.entry(c.head).or_default().insert(t);
                    }
                }
            }
            if !changed {
                break;
            }
        }
    }
    db
}

fn describe(case: &Case) -> String {
    let plan = probity::plan::plan(&case.p).map(|p| probity::plan::explain(&p, &case.p, None));
    let facts: Vec<String> = case
        .facts
        .iter()
        .map(|(r, t)| {
            let vs: Vec<String> = t.iter().map(|v| v.to_string()).collect();
            format!("{}({})", case.p.rel(*r).name, vs.join(", "))
        })
        .collect();
    format!("{plan:#?}\nfacts: {}", facts.join(" "))
}

fn check(seed: u64) -> Result<(), String> {
    let mut rng = Rng(seed.max(1));
    let case = gen_case(&mut rng);
    let mut fs = FactSet::new(&case.p);
    let o = fs.add_origin(Origin {
        file: "gen".into(),
        line: 1,
        sources: Vec::new(),
        status: Status::Reported,
        note: None,
    });
    for (r, t) in &case.facts {
        fs.add_tuple(*r, t.clone(), o);
    }
    let db = evaluate(&case.p, &fs, &[], &EvalOptions::default())
        .map_err(|e| format!("seed {seed}: engine error {e:?}\n{}", describe(&case)))?;
    let want = reference(&case);
    for (r, _) in &case.derived {
        let got: BTreeSet<Vec<Value>> = db.tuples(*r).into_iter().map(|(_, t)| t).collect();
        let exp = want.get(r).cloned().unwrap_or_default();
        if got != exp {
            return Err(format!(
                "seed {seed}: relation `{}` differs\nexpected: {exp:?}\ngot:      {got:?}\n{}",
                case.p.rel(*r).name,
                describe(&case)
            ));
        }
    }
    Ok(())
}

#[test]
#[expect(clippy::panic, reason = "a test fails by panicking")]
fn engine_agrees_with_naive_reference() {
    let cases: u64 = std::env::var("PROBITY_PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(300);
    let first: u64 = std::env::var("PROBITY_PROPTEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5EED);
    for i in 0..cases {
        let seed = first.wrapping_add(i.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        if let Err(msg) = check(seed) {
            panic!("{msg}\nrerun: PROBITY_PROPTEST_SEED={seed} PROBITY_PROPTEST_CASES=1");
        }
    }
}
