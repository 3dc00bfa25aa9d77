//! Syntax: `.coi` text to a spanned AST, with recovery at the next item.
//!
//! The parser is written with nom over [`input::Input`], which carries the byte offset
//! (so every node gets a [`Span`]) and a sink for problems that do not stop the parse
//! (a bad date, an unknown severity). An error inside an item is reported and the parser
//! resumes at the next line that starts with an item keyword, so one typo does not hide
//! the rest of the file.

pub mod ast;
mod body;
pub mod error;
mod expr;
pub mod fmt;
mod input;
mod item;
mod lexeme;

#[cfg(test)]
mod tests;

use crate::diag::{Diagnostic, FileId, Span};
use error::{PError, SyntaxError, describe_found};
use input::{Input, State};
use item::ITEM_KEYWORDS;
use lexeme::{peek_word, ws};

pub use input::MAX_DEPTH;

/// Stack for the parsing thread: [`MAX_DEPTH`] levels of nom frames need a few MB in
/// debug builds, more than a test or worker thread may have.
const PARSE_STACK: usize = 32 << 20;

/// Parses one file. Never fails: problems come back as diagnostics next to the items that
/// did parse. The parse runs on its own thread with a stack sized for the nesting limit,
/// so it cannot overflow whatever thread calls it.
pub fn parse(file: FileId, text: &str) -> (ast::File, Vec<Diagnostic>) {
    std::thread::scope(|s| {
        let worker = std::thread::Builder::new()
            .name("probity-parse".into())
            .stack_size(PARSE_STACK)
            .spawn_scoped(s, || parse_here(file, text));
        match worker.map(|w| w.join()) {
            Ok(Ok(result)) => result,
            // No thread available (or it died): parse on this one.
            _ => parse_here(file, text),
        }
    })
}

/// [`parse`] on the current thread.
pub fn parse_here(file: FileId, text: &str) -> (ast::File, Vec<Diagnostic>) {
    let state = State::new(file);
    let mut items = Vec::new();
    let mut i = ws(Input::new(text, &state));
    while !i.rest.is_empty() {
        let start = i.offset;
        let is_item = peek_word(i).is_some_and(|w| ITEM_KEYWORDS.contains(&w));
        if !is_item {
            let (found, len) = describe_found(i.rest);
            i.report(
                SyntaxError::UnexpectedItem(found),
                i.span(start, start + len.max(1)),
            );
            i = ws(i.advance(skip_to_item(text, start, false)));
            continue;
        }
        match item::item(i) {
            Ok((rest, it)) => {
                items.push(it);
                i = ws(rest);
            }
            Err(nom::Err::Error(e) | nom::Err::Failure(e)) => {
                report(&i, text, &e);
                i = ws(i.advance(skip_to_item(text, start, true)));
            }
            Err(nom::Err::Incomplete(_)) => break,
        }
    }
    let (diags, comments) = state.finish();
    (ast::File { items, comments }, diags)
}

/// Turns the error nom stopped with into a diagnostic at the token it stopped on.
fn report(i: &Input<'_>, text: &str, e: &PError) {
    let rest = text.get(e.pos..).unwrap_or("");
    let (found, len) = describe_found(rest);
    // A token missing at the end of a line is shown there, not on the next line.
    let before = text.get(..e.pos).unwrap_or("");
    let prev_end = before.trim_end().len();
    let span = if before.get(prev_end..).is_some_and(|gap| gap.contains('\n')) {
        Span::new(i.state.file, prev_end, prev_end)
    } else {
        Span::new(i.state.file, e.pos, e.pos + len)
    };
    let err = if e.too_deep {
        SyntaxError::TooDeep
    } else {
        SyntaxError::Expected {
            expected: e.expected.clone(),
            found,
        }
    };
    i.report(err, span);
}

/// Bytes from `from` to the next line (after `from`'s own) whose first word is an item
/// keyword followed by a space, or with `any_word`, that starts with a word in column 0
/// (likely a misspelt item, reported next); the end of the text if there is none.
fn skip_to_item(text: &str, from: usize, any_word: bool) -> usize {
    let mut pos = from;
    while let Some(nl) = text.get(pos..).and_then(|r| r.find('\n')) {
        pos += nl + 1;
        let raw = text.get(pos..).unwrap_or("");
        if any_word && raw.starts_with(|c: char| c.is_ascii_alphabetic()) {
            return pos - from;
        }
        let line = raw.trim_start_matches([' ', '\t']);
        let word_len = line
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(line.len());
        let word = line.get(..word_len).unwrap_or("");
        let next = line.get(word_len..).and_then(|r| r.chars().next());
        if ITEM_KEYWORDS.contains(&word) && next.is_some_and(|c| c == ' ' || c == '\t') {
            return text.len() - line.len() - from;
        }
    }
    text.len() - from
}

/// Line breaks written as a lone `\r` (classic Mac OS) become `\n`, byte for byte, so
/// a `#` comment ends at them and lines are numbered as an editor shows them. `\r\n`
/// is left as it is.
pub fn lone_cr_to_lf(text: String) -> String {
    if !text.contains('\r') {
        return text;
    }
    let mut bytes = text.into_bytes();
    for k in 0..bytes.len() {
        if bytes[k] == b'\r' && bytes.get(k + 1) != Some(&b'\n') {
            bytes[k] = b'\n';
        }
    }
    // Replacing one ASCII byte by another keeps the text UTF-8.
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}
