//! Everything that can be wrong with a case folder, as typed data with a code and a fix.
//!
//! Each variant names a minimal input that triggers it (file name, then content); those
//! inputs are the unit tests in `case/tests`. [`CaseError::at`] turns one into a
//! [`Diagnostic`] with the code `probity::case::<name>`.

use crate::diag::{Diagnostic, Place};
use crate::value::DateError;

/// A problem found while loading a case folder.
#[derive(Debug, Clone, PartialEq)]
pub enum CaseError {
    /// `probity audit no/such/dir`, or a path to a file.
    NotADirectory { dir: String },
    /// A folder without `case.toml`.
    MissingCaseToml,
    /// A file that exists but cannot be read (permissions, a broken symlink).
    UnreadableFile { reason: String },
    /// `people.toml` with the bytes `name = "\xff"`.
    InvalidUtf8,
    /// `people.toml`: `[[person]` (a TOML syntax error).
    BadToml { reason: String },
    /// `people.toml`: `person = 3` (a top-level key that is not an array of tables).
    NotFacts { key: String, found: &'static str },
    /// `people.toml`: `[[persn]]`; `persn.csv`.
    UnknownRelation {
        name: String,
        suggestion: Option<String>,
    },
    /// `people.toml`: `[[suspicious]]` where `suspicious` is a rule or derived relation.
    DerivedRelation { name: String, what: &'static str },
    /// `[[person]]` with `nmae = "x"`; a CSV header `nmae`.
    UnknownField {
        rel: String,
        field: String,
        suggestion: Option<String>,
    },
    /// `[[person]]` with `id = "x"` but no `name`; a CSV header without `name`.
    MissingField { rel: String, field: String },
    /// `[[meeting]]` with `attendees = []` (a required list with no members).
    EmptyList { rel: String, field: String },
    /// `[[holding]]` with `pct = "thirty"`; a CSV cell `yes` in a bool column.
    WrongType {
        field: String,
        expected: String,
        found: String,
    },
    /// `from = "2025-02-30"`, `from = "2025-13"`, `from = "Jan 2025"`.
    BadDate { text: String, why: DateError },
    /// `from = 2025-01-01T10:00:00` (a TOML date-time where a date is expected).
    DateWithTime { text: String },
    /// A CSV cell `12,5` or `1e999` in a number column.
    BadNumber { text: String },
    /// A CSV cell `3 months` in a duration column.
    BadDuration { text: String },
    /// Two `[[person]]` tables with `id = "a"`.
    DuplicateId { id: String },
    /// `[[role]]` with `person = "nobody"`.
    UnknownEntity {
        id: String,
        suggestion: Option<String>,
    },
    /// `[[role]]` with `person = "acme"` where `acme` is an org.
    WrongKind {
        id: String,
        is: String,
        expected: String,
    },
    /// `source = "bbc"` where `case.toml` declares no `[[source]]` with `id = "bbc"`.
    UnknownSource {
        id: String,
        suggestion: Option<String>,
    },
    /// Two `[[source]]` tables in `case.toml` with `id = "bbc"`.
    DuplicateSource { id: String },
    /// `status = "rumoured"`.
    BadStatus { text: String },
    /// A CSV with an unterminated quote or a row longer than the header.
    BadCsv { reason: String },
    /// `people.ftm.jsonl` with a line `{"id": "p1",` (not one JSON object).
    BadJson { reason: String },
    /// A CSV file with more than a few hundred bad rows: the rest are counted here.
    TooManyErrors { more: usize },
    /// A data file larger than `--max-file-size`.
    FileTooLarge { limit: u64 },
    /// A case folder with more facts than `--max-facts`.
    TooManyFacts { limit: u64 },
    /// `same_as` joining a person and an org.
    SameAsKinds {
        a: String,
        a_kind: String,
        b: String,
        b_kind: String,
    },
}

impl CaseError {
    /// The stable code, `probity::case::<name>`.
    pub fn code(&self) -> &'static str {
        use CaseError::*;
        match self {
            NotADirectory { .. } => "probity::case::not_a_directory",
            MissingCaseToml => "probity::case::missing_case_toml",
            UnreadableFile { .. } => "probity::case::unreadable_file",
            InvalidUtf8 => "probity::case::invalid_utf8",
            BadToml { .. } | NotFacts { .. } => "probity::case::bad_toml",
            UnknownRelation { .. } => "probity::case::unknown_relation",
            DerivedRelation { .. } => "probity::case::derived_relation",
            UnknownField { .. } => "probity::case::unknown_field",
            MissingField { .. } | EmptyList { .. } => "probity::case::missing_field",
            WrongType { .. } => "probity::case::wrong_type",
            BadDate { .. } | DateWithTime { .. } => "probity::case::bad_date",
            BadNumber { .. } | BadDuration { .. } => "probity::case::bad_number",
            DuplicateId { .. } => "probity::case::duplicate_id",
            DuplicateSource { .. } => "probity::case::duplicate_source",
            UnknownEntity { .. } => "probity::case::unknown_entity",
            WrongKind { .. } | SameAsKinds { .. } => "probity::case::wrong_kind",
            UnknownSource { .. } => "probity::case::unknown_source",
            BadStatus { .. } => "probity::case::bad_status",
            BadCsv { .. } => "probity::case::bad_csv",
            BadJson { .. } => "probity::case::bad_json",
            TooManyErrors { .. } => "probity::case::too_many_errors",
            FileTooLarge { .. } | TooManyFacts { .. } => "probity::case::limit",
        }
    }

    /// Lower case, no final period, user input in backticks.
    pub fn message(&self) -> String {
        use CaseError::*;
        match self {
            NotADirectory { dir } => format!("`{dir}` is not a case folder"),
            MissingCaseToml => "the case folder has no `case.toml`".into(),
            UnreadableFile { reason } => format!("cannot read the file: {reason}"),
            InvalidUtf8 => "the file is not valid UTF-8".into(),
            BadToml { reason } => format!("invalid TOML: {reason}"),
            NotFacts { key, found } => format!("`{key}` is a {found}, not a list of facts"),
            UnknownRelation { name, .. } => format!("unknown relation `{name}`"),
            DerivedRelation { name, what } => {
                format!("`{name}` is {what}; its facts are computed, not given")
            }
            UnknownField { rel, field, .. } => format!("`{rel}` has no field `{field}`"),
            MissingField { rel, field } => format!("`{rel}` fact without `{field}`"),
            EmptyList { rel, field } => format!("`{field}` of `{rel}` is an empty list"),
            WrongType {
                field,
                expected,
                found,
            } => format!("`{field}` expects {expected}, found {found}"),
            BadDate { text, why } => format!("bad date `{text}`: {why}"),
            DateWithTime { text } => format!("`{text}` has a time of day; a date is expected"),
            BadNumber { text } => format!("bad number `{text}`"),
            BadDuration { text } => format!("bad duration `{text}`"),
            DuplicateId { id } => format!("entity id `{id}` is defined twice"),
            DuplicateSource { id } => format!("source id `{id}` is defined twice"),
            UnknownEntity { id, .. } => format!("unknown entity `{id}`"),
            WrongKind { id, is, expected } => format!("`{id}` is {is}, but {expected} is expected"),
            UnknownSource { id, .. } => format!("unknown source `{id}`"),
            BadStatus { text } => format!("unknown status `{text}`"),
            BadCsv { reason } => format!("malformed CSV: {reason}"),
            BadJson { reason } => format!("malformed FtM line: {reason}"),
            TooManyErrors { more } => format!("{more} more errors in this file are not shown"),
            FileTooLarge { limit } => {
                format!("the file is larger than the limit of {limit} bytes")
            }
            TooManyFacts { limit } => {
                format!("the case folder holds more than the limit of {limit} facts")
            }
            SameAsKinds {
                a,
                a_kind,
                b,
                b_kind,
            } => format!("`same_as` joins `{a}` ({a_kind}) and `{b}` ({b_kind})"),
        }
    }

    /// Names the fix.
    pub fn help(&self) -> String {
        use CaseError::*;
        let suggest = |s: &Option<String>, otherwise: &str| match s {
            Some(s) => format!("did you mean `{s}`?"),
            None => otherwise.to_string(),
        };
        match self {
            NotADirectory { .. } => "give the path of a folder that holds a `case.toml`".into(),
            MissingCaseToml => "add a `case.toml` with `[case]` and `title = \"…\"`".into(),
            UnreadableFile { .. } => "check the file's permissions, or remove it".into(),
            InvalidUtf8 => "save the file as UTF-8".into(),
            BadToml { .. } => "fix the TOML syntax at this point".into(),
            NotFacts { key, .. } => format!("write each fact as a table under `[[{key}]]`"),
            UnknownRelation { suggestion, .. } => suggest(
                suggestion,
                "use a relation or entity kind declared in the rules, or rename the file",
            ),
            DerivedRelation { .. } => "give facts of the base relations it is computed from".into(),
            UnknownField { suggestion, .. } => suggest(
                suggestion,
                "use a field declared for the relation, or `source`, `status`, `note`",
            ),
            MissingField { field, .. } => format!("add `{field}`; it is not optional"),
            EmptyList { field, .. } => format!("list at least one member in `{field}`"),
            WrongType { expected, .. } => format!("write {expected} here"),
            BadDate { .. } | DateWithTime { .. } => {
                "write a date as `YYYY`, `YYYY-MM` or `YYYY-MM-DD`".into()
            }
            BadNumber { .. } => {
                "write a number like `12`, `-3` or `12.5` (at most 9 decimals)".into()
            }
            BadDuration { .. } => "write a duration like `90d`, `3w`, `6mo` or `2y`".into(),
            DuplicateId { .. } => {
                "give each entity its own id, or merge them with `same_as`".into()
            }
            DuplicateSource { .. } => "give each source its own id".into(),
            UnknownEntity { suggestion, .. } => suggest(
                suggestion,
                "define the entity (`[[person]]`, `[[org]]`, …) with this id",
            ),
            WrongKind { expected, .. } => format!("refer to {expected} here"),
            UnknownSource { suggestion, .. } => {
                suggest(suggestion, "add a `[[source]]` with this id to `case.toml`")
            }
            BadStatus { .. } => "use `confirmed`, `reported` or `alleged`".into(),
            BadCsv { .. } => {
                "quote fields that hold commas, quotes or line breaks, doubling inner quotes".into()
            }
            BadJson { .. } => {
                "write one entity per line: `{\"id\": …, \"schema\": …, \"properties\": {…}}`"
                    .into()
            }
            TooManyErrors { .. } => "fix the errors shown and load the case again".into(),
            FileTooLarge { .. } => crate::limits::FILE_SIZE_HELP.into(),
            TooManyFacts { .. } => format!(
                "split the case, or raise the limit with `--max-facts N` (default {})",
                crate::limits::DEFAULT_MAX_FACTS
            ),
            SameAsKinds { .. } => "only join ids of the same kind of entity".into(),
        }
    }

    /// The diagnostic for this problem at `place`.
    pub fn at(&self, place: Place) -> Diagnostic {
        Diagnostic::error(self.code(), self.message())
            .at_place(place)
            .help(self.help())
    }
}
