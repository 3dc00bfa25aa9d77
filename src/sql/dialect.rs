//! What differs between the SQL engines: identifier quoting, type names, null-safe
//! equality, text ordering, and the date functions month shifts need.

use crate::value::{Date, civil_from_days};

/// An SQL engine the rules compile for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Dialect {
    Duckdb,
    Postgres,
    Spark,
}

/// The sentinel stored for an open start (−∞) of a `during` interval.
pub const NEG_INF_SQL: &str = "0001-01-01";
/// The sentinel stored for an open end (+∞) of a `during` interval.
pub const POS_INF_SQL: &str = "9999-12-31";

impl Dialect {
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Duckdb => "duckdb",
            Dialect::Postgres => "postgres",
            Dialect::Spark => "spark",
        }
    }

    /// A quoted identifier.
    pub fn ident(self, name: &str) -> String {
        match self {
            Dialect::Spark => format!("`{}`", name.replace('`', "``")),
            _ => format!("\"{}\"", name.replace('"', "\"\"")),
        }
    }

    /// The engine's name, as messages show it.
    pub fn title(self) -> &'static str {
        match self {
            Dialect::Duckdb => "DuckDB",
            Dialect::Postgres => "PostgreSQL",
            Dialect::Spark => "Spark SQL",
        }
    }

    /// The longest name (of a table, view or column) the engine keeps as written, in
    /// bytes: PostgreSQL cuts longer ones to 63 bytes (NAMEDATALEN - 1).
    pub fn max_name_bytes(self) -> Option<usize> {
        match self {
            Dialect::Postgres => Some(63),
            _ => None,
        }
    }

    /// Whether a text literal can hold `s`: PostgreSQL text cannot hold NUL.
    pub fn can_hold_text(self, s: &str) -> bool {
        !(self == Dialect::Postgres && s.contains('\0'))
    }

    pub fn text_type(self) -> &'static str {
        match self {
            Dialect::Duckdb => "VARCHAR",
            Dialect::Postgres => "TEXT",
            Dialect::Spark => "STRING",
        }
    }

    /// A text literal.
    pub fn text(self, s: &str) -> String {
        match self {
            Dialect::Spark => format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'")),
            _ => format!("'{}'", s.replace('\'', "''")),
        }
    }

    /// A DATE literal for a day number; the open ends map to their sentinels.
    pub fn date(self, day: i32) -> String {
        if day == Date::NEG_INF.first {
            return format!("DATE '{NEG_INF_SQL}'");
        }
        if day == Date::POS_INF.first {
            return format!("DATE '{POS_INF_SQL}'");
        }
        let (y, m, d) = civil_from_days(day);
        format!("DATE '{y:04}-{m:02}-{d:02}'")
    }

    /// `a` and `b` are the same value, `NULL` (none) included.
    pub fn same(self, a: &str, b: &str) -> String {
        match self {
            Dialect::Spark => format!("{a} <=> {b}"),
            _ => format!("{a} IS NOT DISTINCT FROM {b}"),
        }
    }

    /// Byte-order text comparison (the native engine orders text by UTF-8 bytes).
    pub fn bytewise(self, e: &str) -> String {
        match self {
            Dialect::Postgres => format!("{e} COLLATE \"C\""),
            _ => e.to_string(),
        }
    }

    /// `MIN` or `MAX` of text `v` in byte order. PostgreSQL returns it in the default
    /// collation again, so the result mixes with columns as any text does (a recursive
    /// view requires its parts' columns to have the same collation).
    pub fn bytewise_agg(self, func: &str, v: &str) -> String {
        match self {
            Dialect::Postgres => format!("{func}({v} COLLATE \"C\") COLLATE \"default\""),
            _ => format!("{func}({v})"),
        }
    }

    /// `d` shifted by whole months, a day past the end of the target month clamped to it.
    pub fn add_months(self, d: &str, months: i32) -> String {
        match self {
            Dialect::Duckdb => format!("CAST({d} + INTERVAL ({months}) MONTH AS DATE)"),
            Dialect::Postgres => format!("CAST({d} + INTERVAL '{months} months' AS DATE)"),
            Dialect::Spark => format!("add_months({d}, {months})"),
        }
    }

    /// `d` plus a number of days.
    pub fn add_days(self, d: &str, days: i32) -> String {
        match self {
            Dialect::Spark => format!("date_add({d}, {days})"),
            _ => format!("CAST({d} + {days} AS DATE)"),
        }
    }

    /// The last day of `d`'s month. On PostgreSQL through `timestamp` (without time
    /// zone): `date_trunc` of a bare date would take `timestamptz`, whose days depend on
    /// the session's time zone (one that skipped a day gives the wrong month end).
    pub fn month_end(self, d: &str) -> String {
        match self {
            Dialect::Postgres => format!(
                "CAST(date_trunc('month', CAST({d} AS TIMESTAMP)) + INTERVAL '1 month' - INTERVAL '1 day' AS DATE)"
            ),
            _ => format!("last_day({d})"),
        }
    }
}
