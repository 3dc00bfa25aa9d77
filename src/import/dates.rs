//! Dates in a register's own format (`%d/%m/%Y`, `%d %B %Y`, `%Y%m%d`), read into the
//! case-folder form: `YYYY-MM-DD`, or `YYYY-MM` / `YYYY` when the format has no day or
//! month.
//!
//! Directives: `%Y` (four-digit year), `%y` (two digits: 00–68 are 2000s, 69–99 1900s),
//! `%m` (month, one or two digits), `%d` / `%e` (day, one or two digits), `%b` / `%B`
//! (English month name, abbreviated or full, any case), `%%` (a percent sign). Any other
//! character must match itself.

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// Checks a format: every directive known, and a year in it.
pub fn check_format(format: &str) -> Result<(), String> {
    let mut chars = format.chars();
    let mut year = false;
    while let Some(c) = chars.next() {
        if c != '%' {
            continue;
        }
        match chars.next() {
            Some('Y' | 'y') => year = true,
            Some('m' | 'd' | 'e' | 'b' | 'B' | '%') => {}
            Some(other) => return Err(format!("`%{other}` is not a date directive")),
            None => return Err("the format ends with a lone `%`".into()),
        }
    }
    if year {
        Ok(())
    } else {
        Err("the format has no year (`%Y` or `%y`)".into())
    }
}

/// Reads `text` by `format`; `None` if it does not match.
pub fn parse(format: &str, text: &str) -> Option<String> {
    let text = text.trim();
    let (mut y, mut m, mut d) = (None, None, None);
    let mut rest = text;
    let mut f = format.chars();
    while let Some(c) = f.next() {
        if c != '%' {
            rest = rest.strip_prefix(c)?;
            continue;
        }
        match f.next()? {
            'Y' => y = Some(digits(&mut rest, 4, 4)? as i32),
            'y' => {
                let n = digits(&mut rest, 2, 2)? as i32;
                y = Some(if n < 69 { 2000 + n } else { 1900 + n });
            }
            'm' => m = Some(digits(&mut rest, 1, 2)?),
            'd' | 'e' => {
                rest = rest.trim_start();
                d = Some(digits(&mut rest, 1, 2)?);
            }
            'b' | 'B' => m = Some(month_name(&mut rest)?),
            '%' => rest = rest.strip_prefix('%')?,
            _ => return None,
        }
    }
    if !rest.is_empty() {
        return None;
    }
    let out = match (y?, m, d) {
        (y, Some(m), Some(d)) => format!("{y:04}-{m:02}-{d:02}"),
        (y, Some(m), None) => format!("{y:04}-{m:02}"),
        (y, None, None) => format!("{y:04}"),
        (_, None, Some(_)) => return None,
    };
    crate::value::Date::parse(&out).ok().map(|_| out)
}

/// Between `min` and `max` ASCII digits at the start of `s`.
fn digits(s: &mut &str, min: usize, max: usize) -> Option<u32> {
    let n = s.bytes().take(max).take_while(u8::is_ascii_digit).count();
    if n < min {
        return None;
    }
    let v = s[..n].parse().ok()?;
    *s = &s[n..];
    Some(v)
}

/// An English month name, full or its first three letters.
fn month_name(s: &mut &str) -> Option<u32> {
    let word_len = s
        .char_indices()
        .find(|(_, c)| !c.is_ascii_alphabetic())
        .map_or(s.len(), |(i, _)| i);
    let word = s[..word_len].to_ascii_lowercase();
    let i = MONTHS
        .iter()
        .position(|m| word.len() >= 3 && m.starts_with(&word) && (word.len() == 3 || *m == word))?;
    *s = &s[word_len..];
    Some(i as u32 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn import_dates_in_register_formats() {
        let p = |f: &str, t: &str| parse(f, t);
        assert_eq!(p("%d/%m/%Y", "05/03/2021"), Some("2021-03-05".into()));
        assert_eq!(p("%d/%m/%Y", "5/3/2021"), Some("2021-03-05".into()));
        assert_eq!(p("%d %B %Y", "5 March 2021"), Some("2021-03-05".into()));
        assert_eq!(p("%d %b %Y", "5 mar 2021"), Some("2021-03-05".into()));
        assert_eq!(p("%Y%m%d", "20210305"), Some("2021-03-05".into()));
        assert_eq!(p("%m/%Y", "03/2021"), Some("2021-03".into()));
        assert_eq!(p("%y", "99"), Some("1999".into()));
        assert_eq!(p("%d/%m/%Y", "31/02/2021"), None);
        assert_eq!(p("%d/%m/%Y", "2021-03-05"), None);
        assert_eq!(p("%d/%m/%Y", "05/03/2021 extra"), None);
        assert!(check_format("%d/%m/%Y").is_ok());
        assert!(check_format("%d/%m").is_err());
        assert!(check_format("%d/%q/%Y").is_err());
    }
}
