//! Lexemes: whitespace and comments, names, keywords, punctuation, strings and number-like literals.

use super::ast::{Ident, Lit, Spanned, Template, TemplatePart};
use super::error::{Expected, PError, SyntaxError, fail};
use super::input::{Input, PResult};
use crate::value::{Date, Decimal, Duration};

/// Words that never name a variable, field or relation.
pub const RESERVED: &[&str] = &["not", "true", "false", "none", "within", "overlaps", "_"];

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Skips spaces, line breaks and `#` comments (recording each comment).
pub fn ws(mut i: Input<'_>) -> Input<'_> {
    loop {
        let skip = i
            .rest
            .find(|c: char| !c.is_whitespace())
            .unwrap_or(i.rest.len());
        i = i.advance(skip);
        if !i.rest.starts_with('#') {
            return i;
        }
        let len = i.rest.find('\n').unwrap_or(i.rest.len());
        let text = i.rest.get(1..len).unwrap_or("").trim_end_matches('\r');
        i.state.comment(i.offset, i.offset + 1 + text.len(), text);
        i = i.advance(len);
    }
}

/// The next word (`[A-Za-z_][A-Za-z0-9_]*`) after whitespace, without consuming it.
pub fn peek_word<'a>(i: Input<'a>) -> Option<&'a str> {
    let i = ws(i);
    let first = i.peek()?;
    if !(first.is_ascii_alphabetic() || first == '_') {
        return None;
    }
    let len = i.rest.find(|c| !is_word_char(c)).unwrap_or(i.rest.len());
    i.rest.get(..len)
}

/// Any word, keywords included, as a spanned string.
pub fn word(i: Input<'_>) -> PResult<'_, Ident> {
    let i = ws(i);
    match peek_word(i) {
        Some(w) => {
            let rest = i.advance(w.len());
            Ok((
                rest,
                Spanned::new(w.to_string(), i.span(i.offset, rest.offset)),
            ))
        }
        None => fail(i.offset, Expected::Name),
    }
}

/// A name: any word except the reserved ones (`not`, `true`, `none`, `_` …).
pub fn name(i: Input<'_>) -> PResult<'_, Ident> {
    let (rest, w) = word(i)?;
    if RESERVED.contains(&w.node.as_str()) {
        return fail(w.span.start as usize, Expected::Name);
    }
    Ok((rest, w))
}

/// The keyword `kw` as a whole word.
pub fn keyword<'a>(kw: &'static str) -> impl Fn(Input<'a>) -> PResult<'a, Ident> {
    move |i: Input<'a>| {
        let i = ws(i);
        match peek_word(i) {
            Some(w) if w == kw => word(i),
            _ => fail(i.offset, Expected::Keyword(kw)),
        }
    }
}

/// True if the next word is `kw`.
pub fn at_keyword(i: Input<'_>, kw: &str) -> bool {
    peek_word(i) == Some(kw)
}

/// The punctuation `p`; returns its span.
pub fn punct<'a>(p: &'static str) -> impl Fn(Input<'a>) -> PResult<'a, crate::diag::Span> {
    move |i: Input<'a>| {
        let i = ws(i);
        if i.rest.starts_with(p) {
            let rest = i.advance(p.len());
            Ok((rest, i.span(i.offset, rest.offset)))
        } else {
            fail(i.offset, Expected::Punct(p))
        }
    }
}

/// True if the next token starts with `p`.
pub fn at_punct(i: Input<'_>, p: &str) -> bool {
    ws(i).rest.starts_with(p)
}

/// A string's raw text between the quotes and the offset of that text. A string ends at
/// its line: an unclosed one is reported and ends there.
pub fn raw_string(i: Input<'_>) -> PResult<'_, (&str, usize)> {
    let i = ws(i);
    if !i.rest.starts_with('"') {
        return fail(i.offset, Expected::Str);
    }
    let body = i.advance(1);
    let bytes = body.rest.as_bytes();
    let mut k = 0;
    while k < bytes.len() {
        match bytes[k] {
            b'\\' if bytes.get(k + 1).is_some_and(|&b| b != b'\n') => k += 2,
            b'"' => {
                let raw = body.rest.get(..k).unwrap_or("");
                return Ok((body.advance(k + 1), (raw, body.offset)));
            }
            b'\n' => break,
            _ => k += 1,
        }
    }
    let end = k.min(bytes.len());
    let raw = body.rest.get(..end).unwrap_or("").trim_end_matches('\r');
    i.report(
        SyntaxError::UnterminatedString,
        i.span(i.offset, body.offset + end),
    );
    Ok((body.advance(end), (raw, body.offset)))
}

/// Decodes one escape (the character after `\`), reporting an invalid one.
fn escape(i: Input<'_>, c: Option<char>, at: usize) -> Option<char> {
    match c {
        Some('"') => Some('"'),
        Some('\\') => Some('\\'),
        Some('n') => Some('\n'),
        Some('t') => Some('\t'),
        Some('{') => Some('{'),
        Some('}') => Some('}'),
        other => {
            let shown = other
                .map(|c| format!("\\{c}"))
                .unwrap_or_else(|| "\\".into());
            let len = shown.len();
            i.report(SyntaxError::InvalidEscape(shown), i.span(at, at + len));
            other
        }
    }
}

/// A string literal with its escapes decoded.
pub fn string(i: Input<'_>) -> PResult<'_, Spanned<String>> {
    let start = ws(i).offset;
    let (rest, (raw, at)) = raw_string(i)?;
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.char_indices();
    while let Some((k, c)) = chars.next() {
        if c == '\\' {
            out.extend(escape(i, chars.next().map(|(_, c)| c), at + k));
        } else {
            out.push(c);
        }
    }
    Ok((rest, Spanned::new(out, rest.span_from(start))))
}

/// A `flag` message: text with `{var}` holes.
pub fn template(i: Input<'_>) -> PResult<'_, Spanned<Template>> {
    let start = ws(i).offset;
    let (rest, (raw, at)) = raw_string(i)?;
    let mut parts = Vec::new();
    let mut text = String::new();
    let mut chars = raw.char_indices().peekable();
    while let Some((k, c)) = chars.next() {
        match c {
            '\\' => text.extend(escape(i, chars.next().map(|(_, c)| c), at + k)),
            '{' => {
                let after = raw.get(k + 1..).unwrap_or("");
                let close = after.find(['{', '}']);
                let Some(len) = close.filter(|&n| after[n..].starts_with('}')) else {
                    let end = at + k + 1 + close.unwrap_or(after.len());
                    i.report(SyntaxError::MissingFlagHoleClose, i.span(at + k, end));
                    text.push('{');
                    continue;
                };
                let inner = raw.get(k + 1..k + 1 + len).unwrap_or("");
                let name = inner.trim();
                let name_at = at + k + 1 + (inner.len() - inner.trim_start().len());
                let valid = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                    && name.chars().all(is_word_char);
                if valid {
                    if !text.is_empty() {
                        parts.push(TemplatePart::Text(std::mem::take(&mut text)));
                    }
                    let span = i.span(name_at, name_at + name.len());
                    parts.push(TemplatePart::Hole(Spanned::new(name.to_string(), span)));
                } else {
                    let span = i.span(at + k, at + k + len + 2);
                    i.report(SyntaxError::BadFlagHole(inner.to_string()), span);
                }
                while chars.peek().is_some_and(|(j, _)| *j <= k + len + 1) {
                    chars.next();
                }
            }
            c => text.push(c),
        }
    }
    if !text.is_empty() {
        parts.push(TemplatePart::Text(text));
    }
    Ok((
        rest,
        Spanned::new(Template { parts }, rest.span_from(start)),
    ))
}

fn digits(s: &str) -> usize {
    s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len())
}

/// The length of a date-shaped token (`YYYY-…` with digit groups) at the start of `s`.
fn date_len(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    if digits(s) != 4 || b.get(4) != Some(&b'-') || !b.get(5).is_some_and(u8::is_ascii_digit) {
        return None;
    }
    let mut len = 5 + digits(s.get(5..)?);
    if b.get(len) == Some(&b'-') && b.get(len + 1).is_some_and(u8::is_ascii_digit) {
        len += 1 + digits(s.get(len + 1..)?);
    }
    Some(len)
}

/// A number, date or duration: `12`, `12.5`, `2024-12-01`, `2025-01`, `90d`. A malformed
/// one is reported and read as a placeholder so the parse can go on.
pub fn number_like(i: Input<'_>) -> PResult<'_, Lit> {
    let i = ws(i);
    if !i.peek().is_some_and(|c| c.is_ascii_digit()) {
        return fail(i.offset, Expected::Expr);
    }
    if let Some(len) = date_len(i.rest) {
        let text = i.rest.get(..len).unwrap_or("");
        let lit = match Date::parse(text) {
            Ok(d) => Lit::Date(d),
            Err(why) => {
                let err = SyntaxError::BadDate {
                    text: text.into(),
                    why,
                };
                i.report(err, i.span(i.offset, i.offset + len));
                Lit::Date(Date::NEG_INF)
            }
        };
        return Ok((i.advance(len), lit));
    }
    let mut len = digits(i.rest);
    let frac = i
        .rest
        .get(len..)
        .is_some_and(|r| r.starts_with('.') && r[1..].starts_with(|c: char| c.is_ascii_digit()));
    if frac {
        len += 1 + digits(i.rest.get(len + 1..).unwrap_or(""));
    }
    let unit = i
        .rest
        .get(len..)
        .map_or(0, |r| r.find(|c| !is_word_char(c)).unwrap_or(r.len()));
    let text = i.rest.get(..len + unit).unwrap_or("");
    let rest = i.advance(len + unit);
    let span = i.span(i.offset, rest.offset);
    if unit > 0 {
        let lit = match Duration::parse(text).filter(|_| !frac) {
            Some(d) => Lit::Duration {
                value: d,
                text: text.to_string(),
            },
            None => {
                i.report(SyntaxError::BadDuration(text.into()), span);
                Lit::Duration {
                    value: Duration::default(),
                    text: text.to_string(),
                }
            }
        };
        return Ok((rest, lit));
    }
    let value = Decimal::parse(text).unwrap_or_else(|| {
        i.report(SyntaxError::BadNumber(text.into()), span);
        Decimal::ZERO
    });
    Ok((
        rest,
        Lit::Number {
            value,
            text: text.into(),
        },
    ))
}

/// Turns a recoverable nom error into a committed one (no other alternative is tried).
pub fn commit<T>(r: PResult<'_, T>) -> PResult<'_, T> {
    r.map_err(|e| match e {
        nom::Err::Error(e) => nom::Err::Failure(e),
        other => other,
    })
}

/// Replaces what a parser expected, when it failed without consuming anything.
pub fn expecting<'a, T>(
    what: Expected,
    mut p: impl FnMut(Input<'a>) -> PResult<'a, T>,
) -> impl FnMut(Input<'a>) -> PResult<'a, T> {
    move |i: Input<'a>| {
        let start = ws(i).offset;
        p(i).map_err(|e| {
            e.map(|e: PError| {
                if e.pos == start && !e.too_deep {
                    PError::expected(start, what)
                } else {
                    e
                }
            })
        })
    }
}
