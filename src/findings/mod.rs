//! Findings: a rule's match with its bindings, evidence, derivation, certainty and period.
//!
//! A finding is what Probity reports. It is built from a rule tuple and its provenance:
//! the evidence is every base fact the derivation rests on (with file, line, status and
//! sources), the certainty is the weakest status among them, and the period is the
//! intersection of their validity intervals.

pub mod build;
pub mod explain;

use serde::Serialize;

use crate::syntax::ast::Severity;
use crate::value::{Date, Status};

/// Version of the JSON findings schema (`docs/findings-schema.md`).
pub const SCHEMA_VERSION: &str = "probity.findings/1";

/// One value a rule's subject is bound to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Binding {
    /// The subject's name in the rule.
    pub name: String,
    /// The value as text (an entity's id, a date, a number…).
    pub value: String,
    /// `entity`, `text`, `number`, `date`, `duration`, `bool` or `none`.
    #[serde(rename = "type")]
    pub ty: &'static str,
    /// For entities: the display name from the case (else the id).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
}

impl Binding {
    /// What a reader should see: the display name if any, else the value.
    pub fn shown(&self) -> &str {
        self.display.as_deref().unwrap_or(&self.value)
    }
}

/// A field of an evidence fact.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldValue {
    pub field: String,
    /// The value as text, as in [`Binding::value`].
    pub value: String,
    /// `entity`, `text`, `number`, `date`, `duration` or `bool`.
    #[serde(rename = "type")]
    pub ty: &'static str,
}

impl FieldValue {
    /// `field: value`, with text values quoted so that commas inside them read as text.
    pub fn shown(&self) -> String {
        if self.ty == "text" {
            format!("{}: {:?}", self.field, self.value)
        } else {
            format!("{}: {}", self.field, self.value)
        }
    }
}

/// A base fact a finding rests on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evidence {
    pub relation: String,
    pub fields: Vec<FieldValue>,
    pub file: String,
    pub line: u32,
    pub status: Status,
    pub sources: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A node of a derivation tree: a base fact (by index into the finding's evidence) or
/// a derived fact with the block that derived it and its premises.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Derivation {
    Fact {
        evidence: usize,
    },
    Derived {
        relation: String,
        /// The fact, as `relation(v1, v2, …)`.
        fact: String,
        /// `file:line:col` of the `derive` or `when` block.
        by: String,
        premises: Vec<Derivation>,
    },
}

/// When the evidence held together.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Period {
    /// `None` is the open past.
    #[serde(serialize_with = "ser_date")]
    pub from: Option<Date>,
    /// `None` is the open future (ongoing).
    #[serde(serialize_with = "ser_date")]
    pub until: Option<Date>,
}

fn ser_date<S: serde::Serializer>(d: &Option<Date>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_str(&d.to_string()),
        None => s.serialize_none(),
    }
}

impl Period {
    /// Intersects validity intervals; `None` if none was given. An empty intersection
    /// (the facts never held at the same time) is reported as such by [`Period::is_empty`].
    pub fn intersect(intervals: impl IntoIterator<Item = (Date, Date)>) -> Option<Period> {
        let mut acc: Option<(Date, Date)> = None;
        for (f, u) in intervals {
            acc = Some(match acc {
                None => (f, u),
                Some((af, au)) => (af.max(f), au.min(u)),
            });
        }
        acc.map(|(f, u)| Period {
            from: (f != Date::NEG_INF).then_some(f),
            until: (u != Date::POS_INF).then_some(u),
        })
    }
    /// When a finding's evidence held: the intersection of the intervals, leaving out
    /// those that ended before the latest start. Such a fact is an earlier event the
    /// finding follows (a post left before the office taken, shares sold before the
    /// contract), not a state that still held; it bounds nothing. A fact that ends where
    /// the latest start is, as written (`until: 2025-02` next to `from: 2025-02`), and
    /// started before it, counts as ended. If every fact ended, the plain intersection
    /// is reported (and is empty).
    pub fn of_evidence(intervals: impl IntoIterator<Item = (Date, Date)>) -> Option<Period> {
        let all: Vec<(Date, Date)> = intervals.into_iter().collect();
        let latest = all.iter().map(|(f, _)| *f).max()?;
        let ended = |f: &Date, u: &Date| u.lt(&latest) || (*u == latest && f.lt(&latest));
        let current: Vec<(Date, Date)> =
            all.iter().filter(|(f, u)| !ended(f, u)).copied().collect();
        if current.is_empty() {
            Period::intersect(all)
        } else {
            Period::intersect(current)
        }
    }
    /// The evidence never held at one time: the latest start is after the earliest end.
    pub fn is_empty(&self) -> bool {
        match (self.from, self.until) {
            (Some(f), Some(u)) => f.gt(&u),
            _ => false,
        }
    }
    /// `2024-12 – ongoing as of 2026-11-01`, `until 2024-12-01`, `2025-02-03`.
    pub fn describe(&self, as_of: Option<Date>) -> String {
        let ongoing = match as_of {
            Some(d) => format!("ongoing as of {d}"),
            None => "ongoing".to_string(),
        };
        match (self.from, self.until) {
            (Some(f), Some(u)) if f == u => f.to_string(),
            (Some(f), Some(u)) => format!("{f} to {u}"),
            (Some(f), None) => format!("{f} to {ongoing}"),
            (None, Some(u)) => format!("until {u}"),
            (None, None) => format!("always, {ongoing}"),
        }
    }
}

/// A source cited by a finding's evidence, resolved from the case's `[[source]]` list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceRef {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub publisher: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
}

/// Why a finding is exempted: the `exempt` block's reason and the facts that satisfy it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExemptionInfo {
    pub because: String,
    /// `file:line:col` of the `exempt` block.
    pub by: String,
    pub evidence: Vec<Evidence>,
    pub sources: Vec<SourceRef>,
}

/// One flagged match of a rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// Stable: a hash of the rule id and the bindings' values.
    pub id: String,
    pub rule: String,
    pub title: String,
    pub severity: Severity,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub basis: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// The case folder it was found in.
    pub case: String,
    pub bindings: Vec<Binding>,
    pub message: String,
    /// The weakest status among the evidence.
    pub certainty: Status,
    /// Intersection of the evidence's validity intervals, if any has one.
    pub period: Option<Period>,
    /// Human-readable period (`2025-01 to ongoing as of 2025-03-01`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period_text: Option<String>,
    pub evidence: Vec<Evidence>,
    pub sources: Vec<SourceRef>,
    pub derivation: Derivation,
    /// Set when an `exempt` block covers the finding; exempted findings are listed apart
    /// and never trip `--fail-on`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exemption: Option<ExemptionInfo>,
}

/// 64-bit FNV-1a: a hash that is the same on every platform and in every version.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The stable id of a finding: rule and bindings, hashed; 16 hex digits.
pub fn finding_id(case: &str, rule: &str, bindings: &[Binding]) -> String {
    let mut key = format!("{case}\u{1f}{rule}");
    for b in bindings {
        key.push('\u{1f}');
        key.push_str(&b.name);
        key.push('=');
        key.push_str(&b.value);
    }
    format!("{:016x}", fnv1a(key.as_bytes()))
}

/// The documented order: severity (highest first), then rule, then subjects' values.
pub fn sort(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.rule.cmp(&b.rule))
            .then_with(|| {
                let av = a.bindings.iter().map(|x| x.value.as_str());
                let bv = b.bindings.iter().map(|x| x.value.as_str());
                av.cmp(bv)
            })
            .then_with(|| a.case.cmp(&b.case))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn period_intersection_and_open_ends() {
        let d = |s: &str| Date::parse(s).unwrap_or(Date::NEG_INF);
        let p = Period::intersect([(Date::NEG_INF, d("2024-12-01")), (d("2024"), Date::POS_INF)]);
        let p = p.unwrap_or(Period {
            from: None,
            until: None,
        });
        assert_eq!(p.describe(None), "2024 to 2024-12-01");
        let open = Period::intersect([(d("2025-01"), Date::POS_INF)]);
        assert_eq!(
            open.map(|p| p.describe(Some(d("2025-03-01")))),
            Some("2025-01 to ongoing as of 2025-03-01".to_string())
        );
        let empty = Period::intersect([(d("2025"), Date::POS_INF), (Date::NEG_INF, d("2024"))]);
        assert!(empty.is_some_and(|p| p.is_empty()));
    }

    #[test]
    fn facts_that_ended_before_the_latest_start_bound_nothing() {
        let d = |s: &str| Date::parse(s).unwrap_or(Date::NEG_INF);
        let describe = |p: Option<Period>| p.map(|p| p.describe(Some(d("2025-03"))));
        // Left a post, then took office while holding shares: from taking office, ongoing.
        let role = (Date::NEG_INF, d("2024-12-31"));
        let holding = (Date::NEG_INF, Date::POS_INF);
        let office = (d("2025-01-15"), Date::POS_INF);
        assert_eq!(
            describe(Period::of_evidence([role, holding, office])),
            Some("2025-01-15 to ongoing as of 2025-03".to_string())
        );
        // Ended in the month the office began, as written: ended.
        let role = (Date::NEG_INF, d("2025-02"));
        let office = (d("2025-02"), Date::POS_INF);
        assert_eq!(
            describe(Period::of_evidence([role, office])),
            Some("2025-02 to ongoing as of 2025-03".to_string())
        );
        // A meeting on the latest start is kept; overlapping intervals intersect.
        let meeting = (d("2025-03-04"), d("2025-03-04"));
        let office = (d("2025-01-15"), d("2025-12-31"));
        assert_eq!(
            describe(Period::of_evidence([office, meeting])),
            Some("2025-03-04".to_string())
        );
        let a = (d("2020"), d("2022"));
        let b = (d("2021"), d("2024"));
        assert_eq!(
            describe(Period::of_evidence([a, b])),
            Some("2021 to 2022".to_string())
        );
        assert_eq!(Period::of_evidence([]), None);
    }

    #[test]
    fn ids_are_stable() {
        let b = vec![Binding {
            name: "p".into(),
            value: "ann".into(),
            ty: "entity",
            display: None,
        }];
        assert_eq!(finding_id("c", "r", &b), finding_id("c", "r", &b));
        assert_ne!(finding_id("c", "r", &b), finding_id("c", "s", &b));
        assert_eq!(format!("{:016x}", fnv1a(b"")), "cbf29ce484222325");
    }
}
