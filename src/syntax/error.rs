//! Syntax errors: what the parser expected (a context enum) and the typed problems it reports.

use std::fmt;

use super::input::Input;
use super::item::ITEM_KEYWORDS;
use crate::diag::{Diagnostic, Span};
use crate::value::DateError;

/// What the parser was looking for when it stopped; shown as "expected X, found Y".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    /// A punctuation token such as `)`, `{`, `..`.
    Punct(&'static str),
    /// A keyword such as `when` or `overlaps`.
    Keyword(&'static str),
    /// A name: letters, digits and `_`, not starting with a digit.
    Name,
    /// A string literal.
    Str,
    /// A value, variable, `$param` or parenthesised expression.
    Expr,
    /// A type such as `text` or `[person | org]?`.
    Type,
    /// A body line: an atom, `not atom`, a comparison or a built-in.
    Literal,
    /// What may follow an expression at the start of a body line.
    LiteralOp,
    /// A rule attribute: `title`, `severity`, `basis`, `tags`, `when`, `flag`.
    RuleAttr,
    /// Inside a test: `given` or `expect`.
    TestPart,
    ExemptPart,
    /// `std`, `std/<module>` or a quoted path.
    UseTarget,
}

impl fmt::Display for Expected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expected::Punct(p) | Expected::Keyword(p) => write!(f, "`{p}`"),
            Expected::Name => f.write_str("a name"),
            Expected::Str => f.write_str("a string"),
            Expected::Expr => f.write_str("an expression"),
            Expected::Type => f.write_str("a type"),
            Expected::Literal => f.write_str("a condition"),
            Expected::LiteralOp => {
                f.write_str("a comparison operator, `within`, `in`, `..` or `(`")
            }
            Expected::RuleAttr => f.write_str("a rule attribute"),
            Expected::TestPart => f.write_str("`given`, `expect` or `}`"),
            Expected::ExemptPart => f.write_str("`because`, `when` or `}`"),
            Expected::UseTarget => f.write_str("`std`, `std/<module>` or a quoted path"),
        }
    }
}

impl Expected {
    /// The keywords that would have been accepted, for "did you mean".
    fn words(&self) -> &'static [&'static str] {
        match self {
            Expected::RuleAttr => &["title", "severity", "basis", "tags", "when", "flag"],
            Expected::TestPart => &["given", "expect"],
            Expected::ExemptPart => &["because", "when"],
            _ => &[],
        }
    }

    /// How to fix the input when this was expected.
    pub fn help(&self) -> String {
        match self {
            Expected::Punct(p) | Expected::Keyword(p) => format!("insert `{p}` here"),
            Expected::Name => "write a name here: letters, digits and `_`, not starting with a digit".into(),
            Expected::Str => "write a quoted string here, such as `\"Ministerial Code 7.1\"`".into(),
            Expected::Expr => "write a value (`12`, `\"text\"`, `2025-01-31`, `90d`), a variable, `_`, `$param` or `( … )`".into(),
            Expected::Type => "write `text`, `number`, `date`, `duration`, `bool`, `entity` or an entity kind, as `T`, `T?`, `[T]` or `a | b`".into(),
            Expected::Literal | Expected::LiteralOp => "write an atom `rel(field: x)`, `not rel(…)`, a comparison `a < b`, `a within 90d of b`, `d in a..b`, `a..b overlaps c..d` or `n = count { … }`".into(),
            Expected::RuleAttr => "inside a rule write `title \"…\"`, `severity high`, `basis \"…\"`, `tags \"…\"`, `when { … }` or `flag \"…\"`".into(),
            Expected::TestPart => "inside a test write `given { facts }`, `expect rel(…)`, `expect no rel(…)` or `expect exempted rel(…)`".into(),
            Expected::ExemptPart => "inside an exemption write `because \"…\"` and one or more `when { … }` blocks".into(),
            Expected::UseTarget => "write `use std`, `use std/holdings` or `use \"./file.coi\"`".into(),
        }
    }
}

/// The error nom carries while parsing: where it stopped and what it expected there.
#[derive(Debug, Clone, PartialEq)]
pub struct PError {
    pub pos: usize,
    pub expected: Vec<Expected>,
    pub too_deep: bool,
}

impl PError {
    pub fn expected(pos: usize, what: Expected) -> PError {
        PError {
            pos,
            expected: vec![what],
            too_deep: false,
        }
    }
    pub fn too_deep(pos: usize) -> PError {
        PError {
            pos,
            expected: Vec::new(),
            too_deep: true,
        }
    }
}

impl<'a> nom::error::ParseError<Input<'a>> for PError {
    fn from_error_kind(input: Input<'a>, _kind: nom::error::ErrorKind) -> Self {
        PError {
            pos: input.offset,
            expected: Vec::new(),
            too_deep: false,
        }
    }
    fn append(_input: Input<'a>, _kind: nom::error::ErrorKind, other: Self) -> Self {
        other
    }
    /// Keeps the error that got furthest; at the same place, merges what was expected.
    fn or(mut self, other: Self) -> Self {
        if other.too_deep || other.pos > self.pos {
            return other;
        }
        if other.pos == self.pos {
            for e in other.expected {
                if !self.expected.contains(&e) {
                    self.expected.push(e);
                }
            }
        }
        self
    }
}

/// A nom error at `pos` expecting `what`.
pub fn fail<T>(pos: usize, what: Expected) -> Result<T, nom::Err<PError>> {
    Err(nom::Err::Error(PError::expected(pos, what)))
}

/// The problems the parser reports, each with a stable code `probity::syntax::<name>`.
#[derive(Debug, Clone, PartialEq)]
pub enum SyntaxError {
    /// `rule r { when { role(person: p } }`: "expected `)`, found `}`".
    Expected {
        expected: Vec<Expected>,
        found: String,
    },
    /// `param p = "abc`: the line ends inside a string.
    UnterminatedString,
    /// `param p = "a\qb"`: only `\"` `\\` `\n` `\t` `\{` `\}` are escapes.
    InvalidEscape(String),
    /// `param p = 2025-02-30`: the day or month does not exist.
    BadDate { text: String, why: DateError },
    /// `param p = 5h`: durations are `d`, `w`, `mo`, `y`.
    BadDuration(String),
    /// `param p = 1.0000000001`: more than 9 decimals, or beyond 10^27.
    BadNumber(String),
    /// `rule r { severity hgh }`: not one of info, low, medium, high, critical.
    UnknownSeverity {
        name: String,
        suggestion: Option<&'static str>,
    },
    /// `rule r { title "a" title "b" }`: an attribute given twice.
    DuplicateAttribute(&'static str),
    /// `rule r { flag "{p left" }`: a `{` hole without its `}`.
    MissingFlagHoleClose,
    /// `rule r { flag "{1p}" }`: a hole must hold a variable name.
    BadFlagHole(String),
    /// `param p = ((((…))))` nested deeper than 128 levels.
    TooDeep,
    /// `hello world` at the top level: not an item keyword.
    UnexpectedItem(String),
    /// `rule r { when { } }`: a body with no condition.
    EmptyBody,
}

impl SyntaxError {
    pub fn code(&self) -> &'static str {
        match self {
            SyntaxError::Expected { .. } => "probity::syntax::expected",
            SyntaxError::UnterminatedString => "probity::syntax::unterminated_string",
            SyntaxError::InvalidEscape(_) => "probity::syntax::invalid_escape",
            SyntaxError::BadDate { .. } => "probity::syntax::bad_date",
            SyntaxError::BadDuration(_) => "probity::syntax::bad_duration",
            SyntaxError::BadNumber(_) => "probity::syntax::bad_number",
            SyntaxError::UnknownSeverity { .. } => "probity::syntax::unknown_severity",
            SyntaxError::DuplicateAttribute(_) => "probity::syntax::duplicate_attribute",
            SyntaxError::MissingFlagHoleClose => "probity::syntax::missing_flag_hole_close",
            SyntaxError::BadFlagHole(_) => "probity::syntax::bad_flag_hole",
            SyntaxError::TooDeep => "probity::syntax::too_deep",
            SyntaxError::UnexpectedItem(_) => "probity::syntax::unexpected_item",
            SyntaxError::EmptyBody => "probity::syntax::empty_body",
        }
    }

    fn message(&self) -> String {
        match self {
            SyntaxError::Expected { expected, found } => {
                let list: Vec<String> = expected.iter().map(|e| e.to_string()).collect();
                let what = match list.split_last() {
                    None => "something else".to_string(),
                    Some((last, [])) => last.clone(),
                    Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
                };
                format!("expected {what}, found {found}")
            }
            SyntaxError::UnterminatedString => "unterminated string".into(),
            SyntaxError::InvalidEscape(e) => format!("invalid escape `{e}` in a string"),
            SyntaxError::BadDate { text, .. } => format!("invalid date `{text}`"),
            SyntaxError::BadDuration(t) => format!("invalid duration `{t}`"),
            SyntaxError::BadNumber(t) => format!("invalid number `{t}`"),
            SyntaxError::UnknownSeverity { name, .. } => format!("unknown severity `{name}`"),
            SyntaxError::DuplicateAttribute(a) => format!("`{a}` is given twice in this rule"),
            SyntaxError::MissingFlagHoleClose => "unclosed `{` hole in a flag message".into(),
            SyntaxError::BadFlagHole(h) => format!("`{{{h}}}` is not a variable hole"),
            SyntaxError::TooDeep => "nesting is too deep".into(),
            SyntaxError::UnexpectedItem(t) => format!("expected an item, found {t}"),
            SyntaxError::EmptyBody => "this block has no condition".into(),
        }
    }

    fn help(&self) -> String {
        match self {
            SyntaxError::Expected { expected, found } => {
                let likely = likeliest(expected, found);
                let help = likely
                    .map(Expected::help)
                    .unwrap_or_else(|| "check the syntax near here".into());
                match likely.and_then(|e| suggest(e.words(), found)) {
                    Some(s) => format!("did you mean `{s}`? {help}"),
                    None => help,
                }
            }
            SyntaxError::UnterminatedString => "close the string with `\"` before the end of the line; write a line break as `\\n`".into(),
            SyntaxError::InvalidEscape(_) => "use one of `\\\"` `\\\\` `\\n` `\\t` `\\{` `\\}`, or write `\\\\` for a backslash".into(),
            SyntaxError::BadDate { text, why } => bad_date_help(text, *why),
            SyntaxError::BadDuration(_) => "a duration is a whole number followed by `d`, `w`, `mo` or `y`, as in `90d` or `2y`".into(),
            SyntaxError::BadNumber(t) if t.split_once('.').is_some_and(|(_, f)| f.len() > 9) => {
                "round it to at most 9 decimals".into()
            }
            SyntaxError::BadNumber(_) => "numbers have at most 27 digits before the decimal point".into(),
            SyntaxError::UnknownSeverity { suggestion: Some(s), .. } => format!("did you mean `{s}`?"),
            SyntaxError::UnknownSeverity { .. } => "severity is one of `info`, `low`, `medium`, `high`, `critical`".into(),
            SyntaxError::DuplicateAttribute(_) => "remove one of them".into(),
            SyntaxError::MissingFlagHoleClose => "close the hole with `}`, or write `\\{` for a literal brace".into(),
            SyntaxError::BadFlagHole(_) => "write `{name}` with a variable of the rule, or `\\{` for a literal brace".into(),
            SyntaxError::TooDeep => "split the expression with helper variables or a `derive`; at most 128 levels are allowed".into(),
            SyntaxError::UnexpectedItem(found) if suggest(ITEM_KEYWORDS, found).is_some() => {
                format!("did you mean `{}`?", suggest(ITEM_KEYWORDS, found).unwrap_or_default())
            }
            SyntaxError::UnexpectedItem(_) => "a file holds `use`, `entity`, `relation`, `symmetric relation`, `param`, `derive`, `rule` and `test` items".into(),
            SyntaxError::EmptyBody => "add at least one condition, or remove the block".into(),
        }
    }

    pub fn to_diagnostic(&self, span: Span) -> Diagnostic {
        Diagnostic::error(self.code(), self.message())
            .at(span)
            .help(self.help())
    }
}

/// Of the tokens that were expected, the one whose help to show: a closing bracket when
/// the input goes on with a closing bracket or ends (`role(person: p }` wants `)`, not
/// `,`), else the first.
fn likeliest<'e>(expected: &'e [Expected], found: &str) -> Option<&'e Expected> {
    let closing = ["`)`", "`]`", "`}`", "end of line", "end of file"].contains(&found);
    let closer = expected
        .iter()
        .find(|e| matches!(e, Expected::Punct(")" | "]" | "}")));
    closer.filter(|_| closing).or(expected.first())
}

/// The help for an invalid date: why it is invalid and, for a malformed one, how to
/// write a subtraction (`2024-1` reads as a date, `2024 - 1` as arithmetic).
fn bad_date_help(text: &str, why: DateError) -> String {
    let mut parts = text.split('-').map(str::parse::<u32>);
    match (why, parts.next(), parts.next()) {
        (DateError::Day, Some(Ok(y)), Some(Ok(m))) => {
            let days = crate::value::days_in_month(y as i32, m);
            let month = (m as usize)
                .checked_sub(1)
                .and_then(|i| MONTHS.get(i))
                .copied()
                .unwrap_or("that month");
            format!("{month} {y} has {days} days")
        }
        (DateError::Shape, ..) => {
            format!("{why}; write a subtraction with spaces: `2024 - 1`")
        }
        _ => why.to_string(),
    }
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// A close keyword for a misspelt word shown as "found `word`".
fn suggest(words: &[&'static str], found: &str) -> Option<&'static str> {
    let word = found.strip_prefix('`')?.strip_suffix('`')?;
    crate::diag::did_you_mean(word, words.iter().copied()).filter(|s| *s != word)
}

/// Describes the token at the start of `rest` for "found Y", and its length in bytes.
pub fn describe_found(rest: &str) -> (String, usize) {
    let Some(c) = rest.chars().next() else {
        return ("end of file".into(), 0);
    };
    if c == '\n' || c == '\r' {
        return ("end of line".into(), 0);
    }
    let len = if c.is_ascii_alphanumeric() || c == '_' {
        rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len())
    } else if c == '"' {
        return (
            "a string".into(),
            rest.find('\n').unwrap_or(rest.len()).min(1),
        );
    } else {
        c.len_utf8()
    };
    let len = len.min(40);
    let shown = rest.get(..len).unwrap_or("");
    (format!("`{shown}`"), len)
}
