//! `--format count`: how many findings each rule has, one line per rule, and a total.
//!
//! ```text
//! retained_stake 87480
//! revolving_door 3 (+1 exempted)
//! total 87483 (+1 exempted)
//! ```

use crate::findings::Finding;
use crate::syntax::ast::Severity;

/// One rule's number of findings (and of exempted findings) over every case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleCount {
    pub rule: String,
    pub severity: Severity,
    pub findings: usize,
    pub exempted: usize,
}

/// The counts of the rules that have findings in a report, in first-seen order.
pub fn from_findings(findings: &[Finding], exempted: &[Finding]) -> Vec<RuleCount> {
    let mut out: Vec<RuleCount> = Vec::new();
    let tally = |out: &mut Vec<RuleCount>, f: &Finding, exempt: bool| {
        let slot = match out.iter().position(|c| c.rule == f.rule) {
            Some(i) => i,
            None => {
                out.push(RuleCount {
                    rule: f.rule.clone(),
                    severity: f.severity,
                    findings: 0,
                    exempted: 0,
                });
                out.len() - 1
            }
        };
        if exempt {
            out[slot].exempted += 1;
        } else {
            out[slot].findings += 1;
        }
    };
    for f in findings {
        tally(&mut out, f, false);
    }
    for f in exempted {
        tally(&mut out, f, true);
    }
    out
}

fn line(out: &mut String, name: &str, findings: usize, exempted: usize) {
    out.push_str(&format!("{name} {findings}"));
    if exempted > 0 {
        out.push_str(&format!(" (+{exempted} exempted)"));
    }
    out.push('\n');
}

/// One line per rule, then the total.
pub fn render(counts: &[RuleCount]) -> String {
    let mut out = String::new();
    for c in counts {
        line(&mut out, &c.rule, c.findings, c.exempted);
    }
    let findings = counts.iter().map(|c| c.findings).sum();
    let exempted = counts.iter().map(|c| c.exempted).sum();
    line(&mut out, "total", findings, exempted);
    out
}
