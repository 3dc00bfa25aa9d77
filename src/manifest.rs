//! The run manifest: which Probity, which rule and case files (hashed), which parameter
//! values and when — so a report can be traced to exactly what produced it.

use serde::Serialize;

use crate::engine::Engine;
use crate::findings::fnv1a;

/// One input file and the FNV-1a 64-bit hash of its bytes (16 hex digits).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileHash {
    pub path: String,
    /// `fnv1a64:` followed by 16 lowercase hex digits; `unreadable` if the file could
    /// not be read again when the manifest was made.
    pub hash: String,
}

/// A rule parameter and the value the run used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ParamValue {
    pub name: String,
    pub value: String,
}

/// What produced a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Manifest {
    /// `probity 0.1.0`.
    pub probity: String,
    /// Every rule file the run loaded (the embedded `std` modules included), in load order.
    pub rules: Vec<FileHash>,
    /// Every case folder's `case.toml`, then its data files in load order.
    pub cases: Vec<FileHash>,
    /// Case data files left unread because no rule reads their relation (their facts
    /// cannot change a finding; they were not checked either).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unread: Vec<String>,
    /// Every parameter with the value used (defaults and `--param` overrides).
    pub params: Vec<ParamValue>,
    /// Switches that changed the output's content, as given (`--near-misses`).
    pub options: Vec<String>,
    /// UTC time of the run (RFC 3339); omitted with `--no-timestamp`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generated: Option<String>,
}

/// `fnv1a64:0123456789abcdef`.
pub fn hash_text(bytes: &[u8]) -> String {
    format!("fnv1a64:{:016x}", fnv1a(bytes))
}

impl Manifest {
    /// The manifest of a run of `engine`; `timestamp` adds the current time (or
    /// `SOURCE_DATE_EPOCH`, if set, for reproducible builds).
    pub fn of(engine: &Engine, options: Vec<String>, timestamp: bool) -> Manifest {
        let rules = engine
            .sources()
            .files()
            .map(|(_, f)| FileHash {
                path: f.path.clone(),
                hash: hash_text(f.text.as_bytes()),
            })
            .collect();
        let cases = engine
            .cases()
            .flat_map(|(c, _)| {
                let toml = format!("{}/case.toml", crate::engine::display_dir(&c.dir));
                std::iter::once(toml).chain(c.files.iter().cloned())
            })
            .map(|path| FileHash {
                path: path.clone(),
                hash: std::fs::read(path)
                    .map(|b| hash_text(&b))
                    .unwrap_or_else(|_| "unreadable".to_string()),
            })
            .collect();
        let params = engine
            .program()
            .params
            .iter()
            .zip(engine.params())
            .map(|(p, v)| ParamValue {
                name: p.name.clone(),
                value: v.to_string(),
            })
            .collect();
        let unread = engine
            .cases()
            .flat_map(|(c, _)| c.unread.iter().cloned())
            .collect();
        Manifest {
            probity: format!("probity {}", env!("CARGO_PKG_VERSION")),
            rules,
            cases,
            unread,
            params,
            options,
            generated: timestamp.then(now_utc),
        }
    }
}

/// The current UTC time as `YYYY-MM-DDTHH:MM:SSZ`.
fn now_utc() -> String {
    let secs = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs())
        });
    rfc3339(secs)
}

/// Seconds since the Unix epoch as RFC 3339 UTC (Howard Hinnant's civil-from-days).
pub fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_740_830_461), "2025-03-01T12:01:01Z");
    }
}
