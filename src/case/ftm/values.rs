//! FtM's free-text values made typed: dates at any precision and ownership percentages.
//!
//! - Dates: FtM writes `YYYY`, `YYYY-MM`, `YYYY-MM-DD` or a timestamp
//!   (`2021-03-04T10:00:00Z`, `2021-03-04 10:00`); a timestamp is cut to its day.
//! - Percentages: `25`, `25%`, `25.5 %` are exact. A range (`25-50%`, `25 to 50`,
//!   `25–50 %`) reads as its lower bound, and so does a bound (`more than 25%`, `over
//!   25%`, `>25%`, `at least 25%`, `25% or more`); either way the fact gets a note
//!   quoting the text, so the finding shows what the register said. A rule that asks
//!   `pct >= 25` is then right for every such value; `pct > 25` is not provable from
//!   `more than 25%` and is not flagged.

/// A date as the case-folder format writes it (`YYYY`, `YYYY-MM`, `YYYY-MM-DD`): a
/// timestamp is cut to its day; anything else is left for the date parser to judge.
pub(crate) fn date_text(s: &str) -> &str {
    let s = s.trim();
    match s.as_bytes().get(10) {
        Some(b'T' | b't' | b' ') if s.len() > 10 => &s[..10],
        _ => s,
    }
}

/// A percentage read from free text: the number (as written in a case file) and, when
/// it is a bound rather than an exact value, a note saying so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pct {
    pub number: String,
    pub note: Option<String>,
}

/// Reads a percentage; `None` if there is no number in it to rely on.
pub(crate) fn percentage(raw: &str) -> Option<Pct> {
    let text = raw.trim().to_lowercase();
    let mut s = text.as_str();
    let mut bound = false;
    for p in [
        "more than",
        "over",
        "above",
        "at least",
        "greater than",
        ">=",
        ">",
        "min.",
        "minimum",
    ] {
        if let Some(rest) = s.strip_prefix(p) {
            s = rest.trim_start();
            bound = true;
            break;
        }
    }
    for p in ["or more", "and over", "and above", "+"] {
        if let Some(rest) = s.strip_suffix(p) {
            s = rest.trim_end();
            bound = true;
            break;
        }
    }
    let s = s.replace(['%', ' '], "").replace("percent", "");
    let s = s.replace(['–', '—'], "-").replace("to", "-");
    let (low, range) = match s.split_once('-') {
        Some((a, b)) if !a.is_empty() => {
            number(b)?;
            (a, true)
        }
        _ => (s.as_str(), false),
    };
    let n = number(low)?;
    let note = (bound || range).then(|| {
        let what = if range { "a range" } else { "a bound" };
        format!(
            "percentage `{}` is {what}; its lower end, {n}, is used",
            raw.trim()
        )
    });
    Some(Pct { number: n, note })
}

/// A plain non-negative decimal, normalised (`25.50` is `25.5`).
fn number(s: &str) -> Option<String> {
    let s = s.replace(',', ".");
    if s.is_empty()
        || !s.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        || s.bytes().filter(|&b| b == b'.').count() > 1
        || !s.bytes().any(|b| b.is_ascii_digit())
    {
        return None;
    }
    let d = crate::value::Decimal::parse(&s)?;
    Some(d.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pct(s: &str) -> Option<(String, bool)> {
        percentage(s).map(|p| (p.number, p.note.is_some()))
    }

    #[test]
    fn ftm_percentages_in_every_spelling() {
        let exact = |n: &str| Some((n.to_string(), false));
        let bound = |n: &str| Some((n.to_string(), true));
        assert_eq!(pct("25"), exact("25"));
        assert_eq!(pct("25%"), exact("25"));
        assert_eq!(pct(" 25.50 % "), exact("25.5"));
        assert_eq!(pct("12,5%"), exact("12.5"));
        assert_eq!(pct("25-50%"), bound("25"));
        assert_eq!(pct("25 – 50 %"), bound("25"));
        assert_eq!(pct("25 to 50 percent"), bound("25"));
        assert_eq!(pct("more than 25%"), bound("25"));
        assert_eq!(pct("Over 75%"), bound("75"));
        assert_eq!(pct(">50%"), bound("50"));
        assert_eq!(pct("75% or more"), bound("75"));
        assert_eq!(pct("majority"), None);
        assert_eq!(pct(""), None);
        assert_eq!(pct("-5"), None);
        assert_eq!(pct("25-abc"), None);
    }

    #[test]
    fn ftm_dates_are_cut_to_the_day() {
        assert_eq!(date_text("2021"), "2021");
        assert_eq!(date_text("2021-03"), "2021-03");
        assert_eq!(date_text("2021-03-04"), "2021-03-04");
        assert_eq!(date_text("2021-03-04T10:00:00Z"), "2021-03-04");
        assert_eq!(date_text("2021-03-04 10:00"), "2021-03-04");
        assert_eq!(date_text("04/03/2021"), "04/03/2021");
    }
}
