//! The derivation tree of one finding as indented text, each leaf with its file, line,
//! status and the titles of its sources.

use super::{Derivation, Evidence, Finding, SourceRef};

/// Renders the finding's header, then its derivation tree.
pub fn tree_text(f: &Finding) -> String {
    let mut out = format!(
        "{} [{}] {}\n{}\n",
        f.rule,
        f.severity.as_str(),
        f.title,
        f.message
    );
    out.push_str(&format!("id: {}  case: {}\n", f.id, f.case));
    out.push_str(&format!(
        "certainty: {}  period: {}\n",
        f.certainty.as_str(),
        f.period_text.as_deref().unwrap_or("—")
    ));
    if let Some(b) = &f.basis {
        out.push_str(&format!("basis: {b}\n"));
    }
    out.push('\n');
    node(f, &f.derivation, "", "", &mut out);
    if let Some(x) = &f.exemption {
        out.push_str(&format!("\nexempted because: {}  ← {}\n", x.because, x.by));
        for e in &x.evidence {
            let (head, detail) = leaf(&x.sources, e);
            out.push_str(&format!("└─ {head}\n       {detail}\n"));
        }
    }
    out
}

fn leaf(cited: &[SourceRef], e: &Evidence) -> (String, String) {
    let fields: Vec<String> = e.fields.iter().map(|v| v.shown()).collect();
    let head = format!("{}({})", e.relation, fields.join(", "));
    let sources: Vec<String> = e
        .sources
        .iter()
        .map(|id| {
            let title = cited
                .iter()
                .find(|s| &s.id == id)
                .and_then(|s| s.title.clone());
            match title {
                Some(t) => format!("{id} \"{t}\""),
                None => id.clone(),
            }
        })
        .collect();
    let mut detail = format!("{}:{} · {}", e.file, e.line, e.status.as_str());
    if !sources.is_empty() {
        detail.push_str(&format!(" · {}", sources.join(", ")));
    }
    if let Some(n) = &e.note {
        detail.push_str(&format!(" · note: {n}"));
    }
    (head, detail)
}

fn node(f: &Finding, d: &Derivation, first: &str, rest: &str, out: &mut String) {
    match d {
        Derivation::Fact { evidence } => match f.evidence.get(*evidence) {
            Some(e) => {
                let (head, detail) = leaf(&f.sources, e);
                out.push_str(&format!("{first}{head}\n{rest}    {detail}\n"));
            }
            None => out.push_str(&format!("{first}(missing evidence)\n")),
        },
        Derivation::Derived {
            fact, by, premises, ..
        } => {
            out.push_str(&format!("{first}{fact}  ← {by}\n"));
            for (i, p) in premises.iter().enumerate() {
                let last = i + 1 == premises.len();
                let (a, b) = if last {
                    ("└─ ", "   ")
                } else {
                    ("├─ ", "│  ")
                };
                node(f, p, &format!("{rest}{a}"), &format!("{rest}{b}"), out);
            }
        }
    }
}
