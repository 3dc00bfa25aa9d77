//! The embedding API: load rules, load case folders, run, get findings — what the CLI
//! does, for a report generator that wants no CLI.
//!
//! ```
//! use probity::Engine;
//!
//! let rules = r#"
//! use std
//! rule retained_stake(p, firm) {
//!     title "Resigned from a firm but retains shares in it"
//!     severity high
//!     when {
//!         role(person: p, org: firm, until: left)
//!         holding(holder: p, asset: firm, until: kept)
//!         kept > left
//!     }
//!     flag "{p} left {firm} on {left} but still holds shares in it"
//! }
//! "#;
//! let mut engine = Engine::from_sources(vec![("example.coi".into(), rules.into())])
//!     .map_err(|e| e.render())?;
//! engine.load_case("cases/uk-us-tech-partnership".as_ref()).map_err(|e| e.render())?;
//! let audit = engine.run().map_err(|e| e.render())?;
//! let f = &audit.findings[0];
//! assert_eq!(f.rule, "retained_stake");
//! assert_eq!(f.message, "Peter Mandelson left Global Counsel on 2025-02 but still holds shares in it");
//! assert!(f.evidence.iter().any(|e| e.file.ends_with("ties.toml")));
//! # Ok::<(), String>(())
//! ```

use std::path::{Path, PathBuf};

use crate::case::{self, Case};
use crate::coverage::Coverage;
use crate::diag::{self, Diagnostic, SourceMap};
use crate::eval::{self, Database, EvalOptions};
use crate::facts::FactSet;
use crate::findings::{self, Finding};
use crate::ir::{ParamId, Program};
use crate::nearmiss::NearMisses;
use crate::render::CaseSummary;
use crate::render::count::RuleCount;
use crate::value::Value;

/// Problems that stopped a step, with the sources needed to render them.
#[derive(Debug, Clone)]
pub struct Failure {
    pub map: SourceMap,
    pub diagnostics: Vec<Diagnostic>,
}

impl Failure {
    /// The diagnostics as text, with file:line:col, carets and help lines.
    pub fn render(&self) -> String {
        diag::render(&self.map, &self.diagnostics)
    }
}

/// A rule program and the case folders to run it over.
#[derive(Debug, Clone)]
pub struct Engine {
    map: SourceMap,
    program: Program,
    params: Vec<Value>,
    cases: Vec<(Case, FactSet)>,
    /// Warnings from checking rules and loading cases.
    pub warnings: Vec<Diagnostic>,
    pub options: EvalOptions,
    /// How case folders are loaded; `only_read` is off by default, so every fact is
    /// loaded (coverage and graphs need the unread ones too).
    pub load: case::LoadOptions,
    /// Evaluate on this SQL engine instead of the native one (see
    /// [`Engine::set_sql_engine`]).
    sql: Option<crate::sql::remote::SqlEngine>,
}

/// The result of a run: findings in the documented order, and the cases they came from.
#[derive(Debug, Clone)]
pub struct Audit {
    pub cases: Vec<CaseSummary>,
    pub findings: Vec<Finding>,
    /// Findings an `exempt` block covers, with the reason and its evidence.
    pub exempted: Vec<Finding>,
}

impl Engine {
    /// Loads and checks rule files or folders.
    pub fn from_paths(paths: &[PathBuf]) -> Result<Engine, Box<Failure>> {
        let mut map = SourceMap::new();
        let checked = crate::resolve::load(&mut map, paths);
        Engine::new(map, checked)
    }

    /// Loads and checks rules given as (path, text) pairs.
    pub fn from_sources(files: Vec<(String, String)>) -> Result<Engine, Box<Failure>> {
        let mut map = SourceMap::new();
        let checked = crate::resolve::load_sources(&mut map, files);
        Engine::new(map, checked)
    }

    fn new(map: SourceMap, checked: crate::resolve::Checked) -> Result<Engine, Box<Failure>> {
        match checked.program {
            Some(program) => Ok(Engine {
                params: eval::default_params(&program),
                program,
                map,
                cases: Vec::new(),
                warnings: checked.diagnostics,
                options: EvalOptions::default(),
                load: case::LoadOptions::default(),
                sql: None,
            }),
            None => Err(Box::new(Failure {
                map,
                diagnostics: checked.diagnostics,
            })),
        }
    }

    pub fn program(&self) -> &Program {
        &self.program
    }

    pub fn sources(&self) -> &SourceMap {
        &self.map
    }

    /// Parameter values in [`ParamId`] order: defaults, then `set_param` overrides.
    pub fn params(&self) -> &[Value] {
        &self.params
    }

    /// Overrides a parameter from `name=value` text, read as the parameter's type.
    pub fn set_param(&mut self, assignment: &str) -> Result<(), Box<Failure>> {
        match crate::resolve::parse_param_override(&self.program, assignment) {
            Ok((ParamId(i), v)) => {
                self.params[i as usize] = v;
                Ok(())
            }
            Err(d) => Err(self.fail(vec![d])),
        }
    }

    /// Loads one case folder, checked against the rules' schema. The path is tidied
    /// first (`./cases/x/` is `cases/x`), so finding ids and evidence paths do not depend
    /// on how it was spelt.
    pub fn load_case(&mut self, dir: &Path) -> Result<&Case, Box<Failure>> {
        let dir = tidy(dir);
        let mut facts = FactSet::new(&self.program);
        match case::load_case_with(&dir, &self.program, &mut facts, &self.load) {
            Ok(c) => {
                self.warnings.extend(c.warnings.iter().cloned());
                self.cases.push((c, facts));
                Ok(&self.cases[self.cases.len() - 1].0)
            }
            Err(diags) => Err(self.fail(diags)),
        }
    }

    /// Runs the rules on an SQL engine from now on ([`Engine::run`], [`Engine::counts`]);
    /// fails if it cannot run them (a construct the SQL backend cannot express, a
    /// PostgreSQL engine without a connection). Set parameters first.
    pub fn set_sql_engine(
        &mut self,
        sql: crate::sql::remote::SqlEngine,
    ) -> Result<(), Box<Failure>> {
        crate::sql::remote::check(&self.program, &self.params, &sql).map_err(|d| self.fail(d))?;
        self.sql = Some(sql);
        Ok(())
    }

    /// The rules' database over one case's facts: on the SQL engine if one is set.
    fn database(&self, facts: &FactSet, opts: &EvalOptions) -> Result<Database, Box<Failure>> {
        match &self.sql {
            Some(sql) => crate::sql::remote::evaluate(&self.program, &self.params, facts, sql),
            None => eval::evaluate(&self.program, facts, &self.params, opts),
        }
        .map_err(|d| self.fail(d))
    }

    fn fail(&self, diagnostics: Vec<Diagnostic>) -> Box<Failure> {
        Box::new(Failure {
            map: self.map.clone(),
            diagnostics,
        })
    }

    /// Evaluates the rules over each case and returns every finding, sorted.
    pub fn run(&self) -> Result<Audit, Box<Failure>> {
        let mut all = Vec::new();
        let mut cases = Vec::new();
        // Findings read rule and exemption relations and the premises of derivations:
        // base relations no clause reads are never needed.
        let opts = EvalOptions {
            skip_unread: true,
            ..self.options.clone()
        };
        for (case, facts) in &self.cases {
            let db = self.database(facts, &opts)?;
            all.extend(crate::findings::build::findings(
                &self.program,
                &self.map,
                case,
                facts,
                &db,
            ));
            cases.push(summary(case));
        }
        findings::sort(&mut all);
        let (exempted, findings) = all.into_iter().partition(|f| f.exemption.is_some());
        Ok(Audit {
            cases,
            findings,
            exempted,
        })
    }

    /// How many findings (and exempted findings) each rule has over every case, in rule
    /// order: the counts `run` would give, without recording derivations or building
    /// findings.
    pub fn counts(&self) -> Result<Vec<RuleCount>, Box<Failure>> {
        let mut counts: Vec<RuleCount> = self
            .program
            .rules
            .iter()
            .map(|r| RuleCount {
                rule: r.name.clone(),
                severity: r.severity,
                findings: 0,
                exempted: 0,
            })
            .collect();
        let opts = EvalOptions {
            provenance: false,
            skip_unread: true,
            ..self.options.clone()
        };
        for (_, facts) in &self.cases {
            let db = self.database(facts, &opts)?;
            for (rule, count) in self.program.rules.iter().zip(&mut counts) {
                let n = db.len(rule.rel);
                let exempted = if rule.exemptions.is_empty() {
                    0
                } else {
                    (0..n as u32)
                        .filter_map(|i| db.tuple(rule.rel, i))
                        .filter(|values| {
                            findings::build::exemption_for(&db, rule, values).is_some()
                        })
                        .count()
                };
                count.findings += n - exempted;
                count.exempted += exempted;
            }
        }
        Ok(counts)
    }

    /// Evaluates the rules over one case's facts.
    pub fn evaluate(&self, facts: &FactSet) -> Result<Database, Box<Failure>> {
        eval::evaluate(&self.program, facts, &self.params, &self.options).map_err(|d| self.fail(d))
    }

    /// Per case, per rule: the bindings that failed one condition ([`crate::nearmiss`]).
    pub fn near_misses(&self) -> Result<Vec<NearMisses>, Box<Failure>> {
        let mut out = Vec::new();
        for (case, facts) in &self.cases {
            let found = crate::nearmiss::near_misses(
                &self.program,
                &self.map,
                case,
                facts,
                &self.params,
                &self.options,
            )
            .map_err(|d| self.fail(d))?;
            out.extend(found);
        }
        Ok(out)
    }

    /// Per case: what no rule read ([`crate::coverage`]).
    pub fn coverage(&self) -> Vec<Coverage> {
        self.cases
            .iter()
            .map(|(c, f)| crate::coverage::coverage(&self.program, c, f))
            .collect()
    }

    /// Entity id → display name of the entities `ids`, each from the first loaded case
    /// that defines it: a lookup per id, not a walk of every entity.
    pub fn entity_names_of<'a>(
        &self,
        ids: impl IntoIterator<Item = &'a str>,
    ) -> std::collections::BTreeMap<String, String> {
        let mut names = std::collections::BTreeMap::new();
        for id in ids {
            if names.contains_key(id) {
                continue;
            }
            if let Some(e) = self.cases.iter().find_map(|(c, _)| c.entity(id)) {
                names.insert(id.to_string(), e.name);
            }
        }
        names
    }

    /// The loaded cases with their facts.
    pub fn cases(&self) -> impl Iterator<Item = (&Case, &FactSet)> {
        self.cases.iter().map(|(c, f)| (c, f))
    }
}

fn summary(case: &Case) -> CaseSummary {
    CaseSummary {
        path: display_dir(&case.dir),
        title: case.title.clone(),
        as_of: case.as_of.map(|d| d.to_string()),
    }
}

/// The path without `.` components or a trailing separator (`.` if nothing is left).
fn tidy(dir: &Path) -> PathBuf {
    let tidy: PathBuf = dir
        .components()
        .filter(|c| !matches!(c, std::path::Component::CurDir))
        .collect();
    if tidy.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        tidy
    }
}

/// A case folder as shown in outputs: the path as given, with `/` separators.
pub fn display_dir(dir: &Path) -> String {
    dir.to_string_lossy()
        .replace('\\', "/")
        .trim_end_matches('/')
        .to_string()
}
