//! Deterministic inputs for the micro-benchmarks, generated in Rust: the audit workload's
//! CSV files (the shape of `shared/bench/gen.py`, with a seeded generator of its own, so
//! the rows are not gen.py's byte for byte), the kernels' rules and a synthetic rule file.

use std::fmt::Write as _;
use std::path::Path;

use probity::value::{civil_from_days, days_from_civil};

/// SplitMix64: small, fast, and the same sequence on every machine.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn f(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [0, n); `n` > 0.
    pub fn below(&mut self, n: usize) -> usize {
        (((self.next_u64() >> 32) * n as u64) >> 32) as usize
    }
}

const ROLES: [&str; 6] = [
    "employee",
    "manager",
    "director",
    "partner",
    "consultant",
    "board member",
];
const TITLES: [&str; 6] = [
    "minister",
    "councillor",
    "procurement officer",
    "mayor",
    "deputy",
    "regulator",
];
const KINDS: [&str; 5] = ["spouse", "sibling", "parent", "child", "cousin"];
const YEAR: usize = 365;

/// Days since 1980-01-01 as ISO text, precomputed up to 2025-12-31.
struct Dates {
    base: i32,
    iso: Vec<String>,
}

impl Dates {
    fn new() -> Dates {
        let base = days_from_civil(1980, 1, 1);
        let last = days_from_civil(2025, 12, 31);
        let iso = (base..=last)
            .map(|d| {
                let (y, m, dd) = civil_from_days(d);
                format!("{y:04}-{m:02}-{dd:02}")
            })
            .collect();
        Dates { base, iso }
    }

    fn day(&self, y: i32) -> usize {
        (days_from_civil(y, 1, 1) - self.base) as usize
    }

    fn today(&self) -> usize {
        (days_from_civil(2025, 6, 30) - self.base) as usize
    }

    /// ISO text of a day ordinal, empty for an open end.
    fn ds(&self, d: Option<usize>) -> &str {
        d.map_or("", |d| &self.iso[d.min(self.iso.len() - 1)])
    }
}

/// The CSV files of a generated case: (file name, text) pairs, and the number of rows.
pub struct Workload {
    pub files: Vec<(String, String)>,
    pub facts: usize,
}

impl Workload {
    /// Writes the files and a `case.toml` into `dir` (created if missing).
    pub fn write_case(&self, dir: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        std::fs::write(
            dir.join("case.toml"),
            "[case]\ntitle = \"Micro-benchmark workload\"\nas_of = \"2025-06-30\"\n",
        )?;
        for (name, text) in &self.files {
            std::fs::write(dir.join(name), text)?;
        }
        Ok(())
    }
}

/// One CSV file being written.
struct Csv {
    name: &'static str,
    text: String,
    rows: usize,
}

impl Csv {
    fn new(name: &'static str, header: &str) -> Csv {
        Csv {
            name,
            text: format!("{header}\n"),
            rows: 0,
        }
    }

    /// Appends one row (the caller's `write!` fills it; this counts it and ends it).
    fn row(&mut self, f: impl FnOnce(&mut String)) {
        f(&mut self.text);
        self.text.push('\n');
        self.rows += 1;
    }
}

/// The workload for `n` persons (about 9.7 rows per person), as gen.py shapes it:
/// persons, companies (5% firms, in 7 ownership layers), public bodies; employment
/// with dates and open ends (skewed to big employers), share grants, investor and
/// founder stakes and company-to-company chains (a DAG of depth up to 6), client
/// engagements of firms, offices for 2% of persons, associates, family ties, and
/// meetings (random ones, officials' ones during their terms, and the planted patterns
/// of the workload's Q2 and Q4).
pub fn generate(n: usize, seed: u64) -> Workload {
    let dt = Dates::new();
    let mut rng = Rng::new(seed);
    let today = dt.today();
    let n_comp = (n / 2).max(20);
    let n_body = (n / 200).max(10);
    // A span [s, e] starting in [lo, hi), `e` open if past today or with p_open.
    let span = |rng: &mut Rng, lo: usize, hi: usize, min: usize, max: usize, p_open: f64| {
        let s = lo + rng.below(hi - lo);
        let e = s + min + rng.below(max - min + 1);
        let open = e > today || rng.f() < p_open;
        (s, if open { None } else { Some(e) })
    };

    let mut person = Csv::new("person.csv", "id,name");
    for i in 0..n {
        person.row(|t| _ = write!(t, "p{i},Person {i}"));
    }
    let mut company = Csv::new("company.csv", "id,name,kind");
    let mut firms = Vec::new();
    let mut is_firm = vec![false; n_comp];
    let mut layer = vec![0usize; n_comp];
    let mut by_layer: Vec<Vec<usize>> = vec![Vec::new(); 7];
    for i in 0..n_comp {
        let firm = rng.f() < 0.05;
        is_firm[i] = firm;
        if firm {
            firms.push(i);
        }
        let l = rng.below(7);
        layer[i] = l;
        by_layer[l].push(i);
        let kind = if firm { "firm" } else { "corp" };
        company.row(|t| _ = write!(t, "c{i},Company {i},{kind}"));
    }
    if firms.is_empty() {
        firms.push(0);
    }
    let n_firms = firms.len();
    let mut public_body = Csv::new("public_body.csv", "id,name");
    for i in 0..n_body {
        public_body.row(|t| _ = write!(t, "b{i},Body {i}"));
    }
    // Skewed: low ids are big employers.
    let pick_company = |rng: &mut Rng| {
        if rng.f() < 0.15 {
            let r = rng.f();
            firms[(n_firms as f64 * r * r) as usize]
        } else {
            let r = rng.f();
            (n_comp as f64 * r * r) as usize
        }
    };

    let mut emp = Csv::new("employment.csv", "person,org,role,start,end");
    let mut hold = Csv::new("holds_shares.csv", "holder,company,pct,start,end");
    let mut employees_of: Vec<Vec<usize>> = vec![Vec::new(); n_comp];
    for p in 0..n {
        let r = rng.f();
        let k = if r < 0.6 {
            1
        } else if r < 0.9 {
            2
        } else {
            3
        };
        for _ in 0..k {
            let c = pick_company(&mut rng);
            let (s, e) = span(&mut rng, dt.day(1990), dt.day(2024), YEAR, 15 * YEAR, 0.3);
            let role = ROLES[rng.below(ROLES.len())];
            emp.row(|t| _ = write!(t, "p{p},c{c},{role},{},{}", dt.ds(Some(s)), dt.ds(e)));
            employees_of[c].push(p);
            if rng.f() < 0.15 {
                // A share grant in the employer (the workload's Q1).
                let hs = s + rng.below(2 * YEAR);
                let rr = rng.f();
                let mut he = if rr < 0.4 {
                    None
                } else if let (Some(e), true) = (e, rr < 0.7) {
                    Some((hs + 30).max(e.saturating_sub(rng.below(3 * YEAR))))
                } else {
                    Some((e.unwrap_or(hs) + 30 + rng.below(3 * YEAR)).min(today))
                };
                if he.is_some_and(|he| he <= hs) {
                    he = Some(hs + 1);
                }
                let pct = 1 + rng.below(10);
                hold.row(|t| _ = write!(t, "p{p},c{c},{pct},{},{}", dt.ds(Some(hs)), dt.ds(he)));
            }
        }
    }
    for p in 0..n {
        if rng.f() < 0.3 {
            let k = 1 + usize::from(rng.f() < 0.5);
            for _ in 0..k {
                let c = rng.below(n_comp);
                let (s, e) = span(&mut rng, dt.day(1995), dt.day(2024), 30, 10 * YEAR, 0.5);
                let pct = 1 + rng.below(5);
                hold.row(|t| _ = write!(t, "p{p},c{c},{pct},{},{}", dt.ds(Some(s)), dt.ds(e)));
            }
        }
    }
    for (c, &l) in layer.iter().enumerate() {
        if l == 0 || rng.f() < 0.1 {
            // A founder's stake.
            let (s, e) = span(&mut rng, dt.day(1990), dt.day(2020), YEAR, 20 * YEAR, 0.85);
            let holder = rng.below(n);
            let pct = if l == 0 { 25 } else { 10 } + rng.below(56);
            hold.row(|t| _ = write!(t, "p{holder},c{c},{pct},{},{}", dt.ds(Some(s)), dt.ds(e)));
        }
        if l > 0 && !by_layer[l - 1].is_empty() {
            // Holders from the layer above: a DAG of depth up to 6.
            let r = rng.f();
            let m = if r < 0.6 {
                1
            } else if r < 0.9 {
                2
            } else {
                3
            };
            let mut left = 100;
            for j in 0..m {
                if left <= 1 {
                    break;
                }
                let pct = if j == 0 {
                    30 + rng.below(71)
                } else {
                    1 + rng.below(left)
                }
                .min(left);
                left -= pct;
                let above = &by_layer[l - 1];
                let h = above[rng.below(above.len())];
                let (s, e) = span(&mut rng, dt.day(1995), dt.day(2022), YEAR, 20 * YEAR, 0.85);
                hold.row(|t| _ = write!(t, "c{h},c{c},{pct},{},{}", dt.ds(Some(s)), dt.ds(e)));
            }
        }
    }

    let mut client = Csv::new("client_of.csv", "client_org,firm,start,end");
    let mut clients_of_firm: Vec<Vec<usize>> = vec![Vec::new(); n_comp];
    let mut firms_of_client: Vec<Vec<usize>> = vec![Vec::new(); n_comp];
    for c in 0..n_comp {
        if is_firm[c] || rng.f() >= 0.8 {
            continue;
        }
        let k = if rng.f() < 0.7 { 1 } else { 2 };
        for _ in 0..k {
            let r = rng.f();
            let fm = firms[(n_firms as f64 * r.powf(1.5)) as usize];
            if fm == c {
                continue;
            }
            let (s, e) = span(&mut rng, dt.day(2000), dt.day(2023), YEAR, 10 * YEAR, 0.5);
            client.row(|t| _ = write!(t, "c{c},c{fm},{},{}", dt.ds(Some(s)), dt.ds(e)));
            clients_of_firm[fm].push(c);
            firms_of_client[c].push(fm);
        }
    }

    let mut office = Csv::new("office.csv", "person,body,title,start,end");
    let mut officials: Vec<usize> = Vec::new();
    let mut chosen = vec![false; n];
    while officials.len() < (n / 50).max(1) {
        let p = rng.below(n);
        if !chosen[p] {
            chosen[p] = true;
            officials.push(p);
        }
    }
    let mut terms: Vec<Vec<(usize, usize)>> = vec![Vec::new(); n];
    for &p in &officials {
        let k = if rng.f() < 0.7 { 1 } else { 2 };
        for _ in 0..k {
            let (s, e) = span(
                &mut rng,
                dt.day(2005),
                dt.day(2024),
                2 * YEAR,
                8 * YEAR,
                0.3,
            );
            let body = rng.below(n_body);
            let title = TITLES[rng.below(TITLES.len())];
            office.row(|t| _ = write!(t, "p{p},b{body},{title},{},{}", dt.ds(Some(s)), dt.ds(e)));
            terms[p].push((s, e.unwrap_or(today)));
        }
    }

    let mut associate = Csv::new("associate.csv", "a,b");
    for a in 0..n {
        let k = 1 + usize::from(rng.f() < 0.5);
        for _ in 0..k {
            let b = rng.below(n);
            if b != a {
                associate.row(|t| _ = write!(t, "p{a},p{b}"));
            }
        }
    }
    let mut family = Csv::new("family.csv", "a,b,kind");
    for a in 0..n {
        if rng.f() < 0.7 {
            let b = a + 1 + rng.below(5);
            let kind = KINDS[rng.below(KINDS.len())];
            if b < n {
                family.row(|t| _ = write!(t, "p{a},p{b},{kind}"));
            }
        }
    }

    let mut meeting = Csv::new("meeting.csv", "a,b,date");
    let (d0, d1) = (dt.day(2015), dt.day(2025));
    for _ in 0..(23 * n / 10) {
        let (a, b) = (rng.below(n), rng.below(n));
        let d = d0 + rng.below(d1 - d0);
        if a != b {
            meeting.row(|t| _ = write!(t, "p{a},p{b},{}", dt.ds(Some(d))));
        }
    }
    for &p in &officials {
        let ts = &terms[p];
        let during = |rng: &mut Rng, (s, e): (usize, usize)| s + rng.below((e - s).max(1));
        for _ in 0..10 {
            let term = ts[rng.below(ts.len())];
            let b = rng.below(n);
            let d = during(&mut rng, term);
            if b != p {
                meeting.row(|t| _ = write!(t, "p{p},p{b},{}", dt.ds(Some(d))));
            }
        }
        // Planted Q2: the official was at or invested in firm F, and meets employees of
        // F's clients during the term.
        if rng.f() < 0.4 {
            let fm = firms[rng.below(n_firms)];
            let (s, _) = ts[0];
            if rng.f() < 0.5 {
                let es = dt
                    .day(1990)
                    .max(s.saturating_sub((3 + rng.below(10)) * YEAR));
                let ee = s.saturating_sub(30);
                emp.row(|t| {
                    _ = write!(
                        t,
                        "p{p},c{fm},partner,{},{}",
                        dt.ds(Some(es)),
                        dt.ds(Some(ee))
                    )
                });
            } else {
                let pct = 1 + rng.below(20);
                let hs = s.saturating_sub(rng.below(5 * YEAR));
                hold.row(|t| _ = write!(t, "p{p},c{fm},{pct},{},", dt.ds(Some(hs))));
            }
            for &c in clients_of_firm[fm].iter().take(3) {
                if !employees_of[c].is_empty() {
                    let x = employees_of[c][rng.below(employees_of[c].len())];
                    let d = during(&mut rng, ts[0]);
                    if x != p {
                        meeting.row(|t| _ = write!(t, "p{x},p{p},{}", dt.ds(Some(d))));
                    }
                }
            }
        }
        // Planted Q4: a relative works at client C of firm F; the official meets
        // someone at F.
        if rng.f() < 0.4 {
            let r = rng.f();
            let c = (n_comp as f64 * r * r) as usize;
            let fl = &firms_of_client[c];
            if !fl.is_empty() && !employees_of[c].is_empty() {
                let x = employees_of[c][rng.below(employees_of[c].len())];
                if x != p {
                    family.row(|t| _ = write!(t, "p{p},p{x},sibling"));
                }
                let fm = fl[rng.below(fl.len())];
                if !employees_of[fm].is_empty() {
                    let y = employees_of[fm][rng.below(employees_of[fm].len())];
                    let d = during(&mut rng, ts[0]);
                    if y != p {
                        meeting.row(|t| _ = write!(t, "p{p},p{y},{}", dt.ds(Some(d))));
                    }
                }
            }
        }
    }

    let all = [
        person,
        company,
        public_body,
        emp,
        hold,
        client,
        office,
        associate,
        family,
        meeting,
    ];
    Workload {
        facts: all.iter().map(|c| c.rows).sum(),
        files: all
            .into_iter()
            .map(|c| (c.name.to_string(), c.text))
            .collect(),
    }
}

/// The workload's schema (`benches/workload/schema.coi`), shared with `compare.sh`.
pub const SCHEMA: &str = include_str!("../workload/schema.coi");

/// A rule file of `rules` rules over the workload schema, each with two `when` blocks,
/// a helper `derive` with an aggregate and a window, and a `test` block: every
/// construct the parser and the checker see in the shipped pack, repeated.
pub fn synthetic_rules(rules: usize) -> String {
    const TEMPLATE: &str = r#"
# Synthetic rule NN: a former employee who kept shares, or met the firm's people.
derive busy_NN(p, n) {
    person(id: p)
    n = count { meeting(a: p, b: x, date: d) d within 90d of 2020-01-01 }
    n > MOD5
}

rule stake_NN(p, f) {
    title    "Synthetic NN: left an employer but retains shares in it"
    severity medium
    basis    "Benchmark code NN"
    when {
        employment(person: p, org: f, role: "role NN", end: e)
        e < 2024-12-31
        holds_shares(holder: p, company: f, start: hs, end: he, pct: pct)
        hs <= e, he > e + MOD30d
        pct >= MOD50
        not office(person: p)
    }
    when {
        busy_NN(p, n)
        employment(person: p, org: f, start: s, end: e)
        client_of(client_org: c, firm: f, start: cs, end: ce)
        s..e overlaps cs..ce
        total = sum pct { holds_shares(holder: p, company: c, pct: pct) }
        total * 2 + n >= 10
    }
    flag "{p} left {f} on {e} (rule NN)"
}

test stake_NN {
    given {
        person(id: p1, name: "Person NN")
        company(id: c1, name: "Company NN", kind: "corp")
        employment(person: p1, org: c1, role: "role NN", start: 2000-01-01, end: 2010-01-01)
        holds_shares(holder: p1, company: c1, pct: 60, start: 2001-01-01)
    }
    expect stake_NN(p: p1, f: c1)
}
"#;
    let mut out = String::from("use \"./schema.coi\"\n");
    for i in 0..rules {
        out.push_str(
            &TEMPLATE
                .replace("MOD5", &(i % 5).to_string())
                .replace("MOD30", &(i % 30).to_string())
                .replace("MOD50", &(i % 50).to_string())
                .replace("NN", &i.to_string()),
        );
    }
    out
}

/// The evaluation kernels: (name, rules over the workload schema), each isolating one
/// kind of work of the evaluator.
pub const KERNELS: &[(&str, &str)] = &[
    // Storing the base tuples the rule reads, and one scan: the floor under the others.
    (
        "scan",
        "rule scan(p, f) {
            title \"scan\"
            severity info
            when { employment(person: p, org: f) }
        }",
    ),
    // A two-way hash join on two columns (Q1 without its date conditions).
    (
        "join2",
        "rule join2(p, f) {
            title \"join2\"
            severity info
            when {
                employment(person: p, org: f)
                holds_shares(holder: p, company: f)
            }
        }",
    ),
    // Three joins in a chain, each followed by a date-range condition (Q2's first block).
    (
        "chain3",
        "rule chain3(p, x, c, f, d) {
            title \"chain3\"
            severity info
            when {
                office(person: p, start: os, end: oe)
                meeting(a: p, b: x, date: d)
                d in os..oe
                employment(person: x, org: c, start: es, end: ee)
                d in es..ee
                client_of(client_org: c, firm: f, start: cs, end: ce)
                d in cs..ce
            }
        }",
    ),
    // A lookup followed by a comparison of its own column with a constant (Q3's first
    // block without its arithmetic): read through a partial index of the open holdings.
    (
        "lookup_filter",
        "rule lookup_filter(h, c) {
            title \"lookup_filter\"
            severity info
            when {
                person(id: h)
                holds_shares(holder: h, company: c, end: end)
                end > 9999-12-31
            }
        }",
    ),
    // A recursive transitive closure over the holdings DAG (Q3 without its arithmetic):
    // semi-naive rounds with a delta join.
    (
        "recursive",
        "derive reach(h, c) { holds_shares(holder: h, company: c) }
        derive reach(h, c) {
            reach(h, m)
            holds_shares(holder: m, company: c)
        }
        rule recursive(h, c) {
            title \"recursive\"
            severity info
            when { reach(h, c) }
        }",
    ),
    // An antijoin: employments with no holding in the same company.
    (
        "negation",
        "rule negation(p, c) {
            title \"negation\"
            severity info
            when {
                employment(person: p, org: c)
                not holds_shares(holder: p, company: c)
            }
        }",
    ),
    // A grouped count: employees per company.
    (
        "count",
        "rule count(c, n) {
            title \"count\"
            severity info
            when {
                company(id: c)
                n = count { employment(person: p, org: c) }
            }
        }",
    ),
    // A grouped sum: percentages held in each company.
    (
        "sum",
        "rule sum(c, total) {
            title \"sum\"
            severity info
            when {
                company(id: c)
                total = sum pct { holds_shares(holder: h, company: c, pct: pct) }
            }
        }",
    ),
];

/// The rule text of kernel `name`.
pub fn kernel(name: &str) -> &'static str {
    KERNELS
        .iter()
        .find(|(n, _)| *n == name)
        .map_or("", |(_, text)| text)
}
