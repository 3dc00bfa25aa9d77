//! Values: exact decimals, partial dates with open ends, durations, and the `Value` enum.
//!
//! Dates keep their precision: `2025-01` is the span of days 2025-01-01..=2025-01-31.
//! Ordering comparisons are *certain*: `a < b` holds only if it holds for every day `a`
//! covers against every day `b` covers (`a.last < b.first`). `=` is structural: the same
//! precision and the same days. Open interval ends are the dates -inf and +inf.

use std::fmt;
use std::sync::Arc;

/// An exact decimal: an integer count of billionths. Arithmetic is checked.
///
/// Aligned to 8 bytes rather than `i128`'s 16, so a [`Value`] takes 24 bytes, not 32.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[repr(C, packed(8))]
pub struct Decimal(pub i128);

impl Decimal {
    pub const SCALE: i128 = 1_000_000_000;
    pub const ZERO: Decimal = Decimal(0);

    pub fn from_int(i: i64) -> Decimal {
        Decimal(i as i128 * Self::SCALE)
    }
    /// Parses `12`, `-3`, `12.5`, `0.000000001`; more than 9 decimals or beyond ±10^27 is `None`.
    pub fn parse(s: &str) -> Option<Decimal> {
        let (neg, digits) = match s.strip_prefix('-') {
            Some(r) => (true, r),
            None => (false, s.strip_prefix('+').unwrap_or(s)),
        };
        let (int, frac) = match digits.split_once('.') {
            Some((i, f)) => (i, f),
            None => (digits, ""),
        };
        if int.is_empty() && frac.is_empty() {
            return None;
        }
        if !int.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let frac = frac.trim_end_matches('0');
        if frac.len() > 9 || int.len() > 27 {
            return None;
        }
        let mut v: i128 = 0;
        for b in int.bytes() {
            v = v.checked_mul(10)?.checked_add((b - b'0') as i128)?;
        }
        v = v.checked_mul(Self::SCALE)?;
        let mut f: i128 = 0;
        for (i, b) in frac.bytes().enumerate() {
            f += (b - b'0') as i128 * 10i128.pow(8 - i as u32);
        }
        v = v.checked_add(f)?;
        Some(Decimal(if neg { -v } else { v }))
    }
    pub fn checked_add(self, o: Decimal) -> Option<Decimal> {
        self.0.checked_add(o.0).map(Decimal)
    }
    pub fn checked_sub(self, o: Decimal) -> Option<Decimal> {
        self.0.checked_sub(o.0).map(Decimal)
    }
    /// `self * o`, truncated toward zero at 9 decimals; `None` on overflow.
    pub fn checked_mul(self, o: Decimal) -> Option<Decimal> {
        let (a, b) = (self.0, o.0);
        // A whole number times another needs no 128-bit division: the same result as
        // the general form (`mul_general`), overflow included.
        if let Some(w) = whole(a) {
            return i128::from(w).checked_mul(b).map(Decimal);
        }
        if let (Some(w), Ok(_)) = (whole(b), i64::try_from(a)) {
            // |a % S * b| < 10^9 * 2^63: the general form cannot overflow either.
            return a.checked_mul(i128::from(w)).map(Decimal);
        }
        self.mul_general(o)
    }

    fn mul_general(self, o: Decimal) -> Option<Decimal> {
        // (a/S)*(b/S) = a*b/S^2 -> scaled a*b/S; split to avoid overflow where possible.
        let (a, b) = (self.0, o.0);
        let hi = (a / Self::SCALE).checked_mul(b)?;
        let lo = (a % Self::SCALE).checked_mul(b)? / Self::SCALE;
        hi.checked_add(lo).map(Decimal)
    }

    /// `None` on division by zero or overflow; rounds toward zero at 9 decimals.
    pub fn checked_div(self, o: Decimal) -> Option<Decimal> {
        // By a whole number n, (a * S) / (n * S) is a / n: one 64-bit division, the
        // general form's result (a * S fits, so it takes its first branch).
        if let (Some(n), Ok(a)) = (whole(o.0), i64::try_from(self.0))
            && let Some(q) = a.checked_div(n)
        {
            return Some(Decimal(i128::from(q)));
        }
        self.div_general(o)
    }

    fn div_general(self, o: Decimal) -> Option<Decimal> {
        if o.0 == 0 {
            return None;
        }
        let q = self.0.checked_mul(Self::SCALE);
        match q {
            Some(q) => Some(Decimal(q / o.0)),
            None => {
                // Large numerator: divide first, then the remainder.
                let whole = self.0.checked_div(o.0)?.checked_mul(Self::SCALE)?;
                let rem = self.0.checked_rem(o.0)?.checked_mul(Self::SCALE)? / o.0;
                whole.checked_add(rem).map(Decimal)
            }
        }
    }
    pub fn checked_neg(self) -> Option<Decimal> {
        self.0.checked_neg().map(Decimal)
    }
    pub fn is_integer(self) -> bool {
        self.0 % Self::SCALE == 0
    }
    /// The integer part, if it fits.
    pub fn to_i64(self) -> Option<i64> {
        i64::try_from(self.0 / Self::SCALE).ok()
    }
}

/// The whole number a count of billionths is, if it is one and fits in 64 bits (so
/// finding it takes 64-bit arithmetic only).
fn whole(x: i128) -> Option<i64> {
    const S: i64 = Decimal::SCALE as i64;
    let x = i64::try_from(x).ok()?;
    (x % S == 0).then_some(x / S)
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let neg = self.0 < 0;
        let a = self.0.unsigned_abs();
        let s = Self::SCALE as u128;
        let (int, frac) = (a / s, a % s);
        if neg {
            f.write_str("-")?;
        }
        write!(f, "{int}")?;
        if frac != 0 {
            let fs = format!("{frac:09}");
            write!(f, ".{}", fs.trim_end_matches('0'))?;
        }
        Ok(())
    }
}

/// Days since 1970-01-01 (proleptic Gregorian) of a calendar day.
pub fn days_from_civil(y: i32, m: u32, d: u32) -> i32 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = (y - era * 400) as i64;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era as i64 * 146097 + doe - 719468) as i32
}

/// The calendar day of a day number.
pub fn civil_from_days(z: i32) -> (i32, u32, u32) {
    let z = z as i64 + 719468;
    let era = if z >= 0 { z } else { z - 146096 } / 146097;
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    ((if m <= 2 { y + 1 } else { y }) as i32, m, d)
}

pub fn is_leap(y: i32) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

pub fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Why a date did not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateError {
    /// Not `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    Shape,
    /// Month outside 1..=12.
    Month,
    /// Day outside the month (2025-02-30).
    Day,
}

impl fmt::Display for DateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DateError::Shape => "a date is written `YYYY`, `YYYY-MM` or `YYYY-MM-DD`",
            DateError::Month => "the month must be between 01 and 12",
            DateError::Day => "that day does not exist in that month",
        })
    }
}

/// A day, a month or a year, as the span of days it covers; or an open end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    /// First day covered (days since 1970-01-01); `i32::MIN` for -inf.
    pub first: i32,
    /// Last day covered; `i32::MAX` for +inf.
    pub last: i32,
}

/// How precisely a date was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    Day,
    Month,
    Year,
    /// A span that is no calendar unit (after arithmetic on a partial date).
    Span,
    NegInf,
    PosInf,
}

impl Date {
    pub const NEG_INF: Date = Date {
        first: i32::MIN,
        last: i32::MIN,
    };
    pub const POS_INF: Date = Date {
        first: i32::MAX,
        last: i32::MAX,
    };

    pub fn day(y: i32, m: u32, d: u32) -> Date {
        let n = days_from_civil(y, m, d);
        Date { first: n, last: n }
    }
    pub fn month(y: i32, m: u32) -> Date {
        Date {
            first: days_from_civil(y, m, 1),
            last: days_from_civil(y, m, days_in_month(y, m)),
        }
    }
    pub fn year(y: i32) -> Date {
        Date {
            first: days_from_civil(y, 1, 1),
            last: days_from_civil(y, 12, 31),
        }
    }

    /// Parses `YYYY`, `YYYY-MM`, `YYYY-MM-DD`, rejecting impossible days.
    pub fn parse(s: &str) -> Result<Date, DateError> {
        let parts: Vec<&str> = s.split('-').collect();
        let num = |p: &str, len: usize| -> Result<u32, DateError> {
            if p.len() == len && p.bytes().all(|b| b.is_ascii_digit()) {
                p.parse().map_err(|_| DateError::Shape)
            } else {
                Err(DateError::Shape)
            }
        };
        let y = num(parts[0], 4)? as i32;
        match parts.len() {
            1 => Ok(Date::year(y)),
            2 | 3 => {
                let m = num(parts[1], 2)?;
                if !(1..=12).contains(&m) {
                    return Err(DateError::Month);
                }
                if parts.len() == 2 {
                    return Ok(Date::month(y, m));
                }
                let d = num(parts[2], 2)?;
                if d == 0 || d > days_in_month(y, m) {
                    return Err(DateError::Day);
                }
                Ok(Date::day(y, m, d))
            }
            _ => Err(DateError::Shape),
        }
    }

    pub fn precision(&self) -> Precision {
        if *self == Date::NEG_INF {
            return Precision::NegInf;
        }
        if *self == Date::POS_INF {
            return Precision::PosInf;
        }
        if self.first == self.last {
            return Precision::Day;
        }
        let (y, m, d) = civil_from_days(self.first);
        let (y2, m2, d2) = civil_from_days(self.last);
        if d == 1 && y == y2 && m == m2 && d2 == days_in_month(y, m) {
            Precision::Month
        } else if d == 1 && m == 1 && y == y2 && m2 == 12 && d2 == 31 {
            Precision::Year
        } else {
            Precision::Span
        }
    }

    pub fn is_open(&self) -> bool {
        *self == Date::NEG_INF || *self == Date::POS_INF
    }

    /// Certainly before: every day of `self` is before every day of `o`.
    pub fn lt(&self, o: &Date) -> bool {
        self.last < o.first
    }
    pub fn le(&self, o: &Date) -> bool {
        self.last <= o.first
    }
    pub fn gt(&self, o: &Date) -> bool {
        o.lt(self)
    }
    pub fn ge(&self, o: &Date) -> bool {
        o.le(self)
    }

    /// Shifts both ends by a duration; open ends stay open. `None` if the result leaves
    /// the representable range (years 0..=9999 are always safe).
    pub fn add(&self, d: Duration) -> Option<Date> {
        if self.is_open() {
            return Some(*self);
        }
        let shift = |day: i32| -> Option<i32> {
            let (y, m, dd) = civil_from_days(day);
            let total = (y as i64) * 12 + (m as i64 - 1) + d.months as i64;
            let ny = total.div_euclid(12);
            let nm = (total.rem_euclid(12) + 1) as u32;
            if !(-100_000..=100_000).contains(&ny) {
                return None;
            }
            let ny = ny as i32;
            let nd = dd.min(days_in_month(ny, nm));
            days_from_civil(ny, nm, nd).checked_add(d.days)
        };
        let first = shift(self.first)?;
        // For the last day of a partial date keep month ends at month ends.
        let last = {
            let (y, m, dd) = civil_from_days(self.last);
            let partial = self.first != self.last;
            let at_month_end = partial && dd == days_in_month(y, m) && d.days == 0;
            let l = shift(self.last)?;
            if at_month_end {
                let (ly, lm, _) = civil_from_days(l);
                days_from_civil(ly, lm, days_in_month(ly, lm))
            } else {
                l
            }
        };
        Some(Date { first, last })
    }
    pub fn sub(&self, d: Duration) -> Option<Date> {
        self.add(Duration {
            months: d.months.checked_neg()?,
            days: d.days.checked_neg()?,
        })
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = civil_from_days(self.first);
        match self.precision() {
            Precision::NegInf => f.write_str("-inf"),
            Precision::PosInf => f.write_str("+inf"),
            Precision::Day => write!(f, "{y:04}-{m:02}-{d:02}"),
            Precision::Month => write!(f, "{y:04}-{m:02}"),
            Precision::Year => write!(f, "{y:04}"),
            Precision::Span => {
                let (y2, m2, d2) = civil_from_days(self.last);
                write!(f, "{y:04}-{m:02}-{d:02}..{y2:04}-{m2:02}-{d2:02}")
            }
        }
    }
}

/// A length of time: calendar months plus days. `2y` is 24 months, `3w` is 21 days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Duration {
    pub months: i32,
    pub days: i32,
}

impl Duration {
    /// Parses `90d`, `3w`, `6mo`, `2y`.
    pub fn parse(s: &str) -> Option<Duration> {
        let split = s.find(|c: char| !c.is_ascii_digit())?;
        let (n, unit) = s.split_at(split);
        if n.is_empty() || n.len() > 6 {
            return None;
        }
        let n: i32 = n.parse().ok()?;
        match unit {
            "d" => Some(Duration { months: 0, days: n }),
            "w" => Some(Duration {
                months: 0,
                days: n.checked_mul(7)?,
            }),
            "mo" => Some(Duration { months: n, days: 0 }),
            "y" => Some(Duration {
                months: n.checked_mul(12)?,
                days: 0,
            }),
            _ => None,
        }
    }
    /// An approximate length in days (a month is 30.436875 days), for ordering durations.
    pub fn approx_days(&self) -> i64 {
        self.months as i64 * 30_436_875 / 1_000_000 + self.days as i64
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if self.months != 0 {
            if self.months % 12 == 0 {
                parts.push(format!("{}y", self.months / 12));
            } else {
                parts.push(format!("{}mo", self.months));
            }
        }
        if self.days != 0 || parts.is_empty() {
            parts.push(format!("{}d", self.days));
        }
        f.write_str(&parts.join(" "))
    }
}

/// How well a fact is established; certainty of a finding is the weakest of its evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Weakest.
    Alleged,
    #[default]
    Reported,
    Confirmed,
}

impl Status {
    pub fn parse(s: &str) -> Option<Status> {
        match s {
            "confirmed" => Some(Status::Confirmed),
            "reported" => Some(Status::Reported),
            "alleged" => Some(Status::Alleged),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Confirmed => "confirmed",
            Status::Reported => "reported",
            Status::Alleged => "alleged",
        }
    }
}

/// A value in a fact or a binding. Entities are their id; the kind is known from the schema.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Value {
    /// An absent optional field.
    None,
    Bool(bool),
    Number(Decimal),
    Date(Date),
    Duration(Duration),
    Text(Arc<str>),
    Entity(Arc<str>),
}

const _: () = assert!(std::mem::size_of::<Value>() == 24);

impl Value {
    pub fn text(s: &str) -> Value {
        Value::Text(Arc::from(s))
    }
    pub fn entity(s: &str) -> Value {
        Value::Entity(Arc::from(s))
    }
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::None => "none",
            Value::Bool(_) => "bool",
            Value::Number(_) => "number",
            Value::Date(_) => "date",
            Value::Duration(_) => "duration",
            Value::Text(_) => "text",
            Value::Entity(_) => "entity",
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::None => f.write_str("none"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Number(n) => write!(f, "{n}"),
            Value::Date(d) => write!(f, "{d}"),
            Value::Duration(d) => write!(f, "{d}"),
            Value::Text(s) | Value::Entity(s) => f.write_str(s),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals() {
        let d = |s| Decimal::parse(s).expect(s);
        assert_eq!(d("12.50").to_string(), "12.5");
        assert_eq!(d("-3").to_string(), "-3");
        assert_eq!(
            d("30")
                .checked_mul(d("50"))
                .and_then(|x| x.checked_div(d("100"))),
            Some(d("15"))
        );
        assert_eq!(
            d("1").checked_div(d("3")).map(|x| x.to_string()),
            Some("0.333333333".into())
        );
        assert_eq!(d("1").checked_div(Decimal::ZERO), None);
        assert!(Decimal::parse("1.0000000001").is_none());
        assert!(Decimal::parse("99999999999999999999999999999").is_none());
    }

    /// The whole-number shortcuts give the general forms' results, overflow included.
    #[test]
    fn shortcuts_agree_with_the_general_arithmetic() {
        let s = Decimal::SCALE;
        let mut xs: Vec<i128> = vec![0, 1, -1, s, -s, 100 * s, 3 * s + 1, s / 2, -s / 3];
        xs.extend([
            250_000 * s,
            7 * s,
            -(37 * s),
            12_345_678_901,
            i128::from(i64::MAX),
        ]);
        xs.extend([
            i128::from(i64::MIN),
            i128::from(i64::MAX / s as i64 * s as i64),
        ]);
        xs.extend([
            i128::MAX / s,
            i128::MAX,
            i128::MIN,
            i128::MAX / 3,
            10i128.pow(30),
        ]);
        // A seeded walk over magnitudes and fractions.
        let mut r: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..2000 {
            r ^= r << 13;
            r ^= r >> 7;
            r ^= r << 17;
            let whole = i128::from((r >> 20) as i64 % 1_000_000_007) * s;
            let frac = if r % 3 == 0 { (r % 1_000) as i128 } else { 0 };
            let big = if r % 11 == 0 { 1i128 << (r % 90) } else { 1 };
            // Scaled up by a power of two where that fits (it does not always).
            let x = (whole + frac).checked_mul(big).unwrap_or(whole + frac);
            xs.push(if r % 2 == 0 { x } else { -x });
        }
        for &a in &xs {
            for &b in xs.iter().step_by(7).chain(&xs[..20]) {
                let (a, b) = (Decimal(a), Decimal(b));
                assert_eq!(a.checked_mul(b), a.mul_general(b), "{a:?} * {b:?}");
                assert_eq!(a.checked_div(b), a.div_general(b), "{a:?} / {b:?}");
            }
        }
    }

    #[test]
    fn dates_keep_precision_and_reject_impossible_days() {
        assert_eq!(
            Date::parse("2025-01").map(|d| d.to_string()),
            Ok("2025-01".into())
        );
        assert_eq!(
            Date::parse("2024").map(|d| d.to_string()),
            Ok("2024".into())
        );
        assert_eq!(
            Date::parse("2024-02-29").map(|d| d.to_string()),
            Ok("2024-02-29".into())
        );
        assert_eq!(Date::parse("2025-02-30"), Err(DateError::Day));
        assert_eq!(Date::parse("2025-13"), Err(DateError::Month));
        assert_eq!(Date::parse("25-01"), Err(DateError::Shape));
    }

    #[test]
    fn certain_comparison() {
        let jan = Date::parse("2025-01").unwrap_or(Date::NEG_INF);
        let jan15 = Date::day(2025, 1, 15);
        let feb1 = Date::day(2025, 2, 1);
        assert!(!jan.lt(&jan15) && !jan.gt(&jan15));
        assert!(jan.lt(&feb1));
        assert!(Date::POS_INF.gt(&feb1) && Date::NEG_INF.lt(&jan));
    }

    #[test]
    fn date_arithmetic() {
        let d = Date::day(2024, 2, 29);
        let y = Duration::parse("1y").unwrap_or_default();
        assert_eq!(d.add(y).map(|d| d.to_string()), Some("2025-02-28".into()));
        let jan = Date::month(2025, 1);
        let mo = Duration::parse("1mo").unwrap_or_default();
        assert_eq!(jan.add(mo).map(|d| d.to_string()), Some("2025-02".into()));
        assert_eq!(
            Date::year(2023).add(y).map(|d| d.to_string()),
            Some("2024".into())
        );
        assert_eq!(Date::POS_INF.add(y), Some(Date::POS_INF));
        let feb28 = Date::day(2025, 2, 28);
        assert_eq!(
            feb28.add(mo).map(|d| d.to_string()),
            Some("2025-03-28".into())
        );
        let feb = Date::month(2025, 2);
        assert_eq!(feb.add(mo).map(|d| d.to_string()), Some("2025-03".into()));
        let d90 = Duration::parse("90d").unwrap_or_default();
        assert_eq!(
            Date::day(2025, 1, 1).add(d90).map(|d| d.to_string()),
            Some("2025-04-01".into())
        );
    }
}
