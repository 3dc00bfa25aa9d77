//! CSV output: one row per finding, RFC 4180 quoting.

use super::{Report, period_text, source_ids, subjects};

fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

pub fn render(report: &Report) -> String {
    let mut out = String::from(
        "id,case,severity,rule,title,subjects,message,certainty,period,sources,evidence,exempted_because\n",
    );
    for f in report.findings.iter().chain(report.exempted) {
        // One fact line may yield several evidence tuples (a meeting, per attendee).
        let mut places: Vec<String> = Vec::new();
        for e in &f.evidence {
            let place = format!("{}:{}", e.file, e.line);
            if !places.contains(&place) {
                places.push(place);
            }
        }
        let evidence = places.join("; ");
        let row = [
            f.id.as_str(),
            &f.case,
            f.severity.as_str(),
            &f.rule,
            &f.title,
            &subjects(f),
            &f.message,
            f.certainty.as_str(),
            &period_text(f),
            &source_ids(f),
            &evidence,
            f.exemption.as_ref().map_or("", |e| e.because.as_str()),
        ];
        let row: Vec<String> = row.iter().map(|s| field(s)).collect();
        out.push_str(&row.join(","));
        out.push('\n');
    }
    out
}
