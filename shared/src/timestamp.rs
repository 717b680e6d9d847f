//! Timeline timestamps: tolerant parsing of what people type, and display in the board's
//! timezone.
//!
//! People write `14:03`, `14:03:22`, `2026-11-20 14:03` or full ISO 8601. A time without a
//! date takes the incident's date; a time without an offset is in the board's timezone.
//! The result is an instant (UTC milliseconds) plus the precision that was given, so a
//! timeline can say "14:03" for a minute-precise entry and "14:03:22" for a second-precise
//! one, and order them all on one axis.

use std::fmt;

/// How precisely a timestamp was given.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Precision {
    Day,
    Minute,
    Second,
}

impl Precision {
    pub fn as_str(self) -> &'static str {
        match self {
            Precision::Day => "day",
            Precision::Minute => "minute",
            Precision::Second => "second",
        }
    }

    pub fn from_name(name: &str) -> Option<Precision> {
        [Precision::Day, Precision::Minute, Precision::Second]
            .into_iter()
            .find(|p| p.as_str() == name)
    }
}

/// A moment on the timeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timestamp {
    /// Milliseconds since the Unix epoch, UTC.
    pub utc_ms: i64,
    pub precision: Precision,
}

/// A calendar date.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

impl Date {
    pub fn parse(s: &str) -> Result<Date, TimeError> {
        let s = s.trim();
        let mut parts = s.split('-');
        let (Some(y), Some(m), Some(d), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TimeError::Unrecognised);
        };
        if y.len() != 4 || m.len() != 2 || d.len() != 2 {
            return Err(TimeError::Unrecognised);
        }
        let date = Date {
            year: number(y)? as i32,
            month: number(m)?,
            day: number(d)?,
        };
        if !(1..=12).contains(&date.month)
            || date.day == 0
            || date.day > days_in_month(date.year, date.month)
        {
            return Err(TimeError::OutOfRange);
        }
        Ok(date)
    }

    /// Days since 1970-01-01 (Howard Hinnant's `days_from_civil`).
    fn days(self) -> i64 {
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(self.month);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    fn from_days(z: i64) -> Date {
        let z = z + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
        Date { year, month, day }
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// What a timestamp is read against: the incident's date and the board's timezone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeContext {
    pub date: Option<Date>,
    /// The board's timezone as an offset from UTC, in minutes.
    pub offset_minutes: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    #[error("write a time like 14:03, 14:03:22 or 2026-11-20 14:03")]
    Unrecognised,
    #[error("that date or time does not exist")]
    OutOfRange,
    #[error("a time without a date needs the incident date to be set")]
    NeedsDate,
}

const MINUTE_MS: i64 = 60_000;
const DAY_MS: i64 = 86_400_000;

impl Timestamp {
    /// Reads what a person typed.
    pub fn parse(input: &str, ctx: TimeContext) -> Result<Timestamp, TimeError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(TimeError::Unrecognised);
        }
        // Split into date and time at 'T' or a space, if there is a date at all.
        let (date, rest) = match s.find(['T', 't', ' ']) {
            Some(i) if s[..i].contains('-') => (Some(Date::parse(&s[..i])?), s[i + 1..].trim()),
            _ if s.contains(':') => (None, s),
            _ => (Some(Date::parse(s)?), ""),
        };
        let (clock, offset) = split_offset(rest)?;
        let offset = offset.unwrap_or(ctx.offset_minutes);
        let date = match date.or(ctx.date) {
            Some(d) => d,
            None => return Err(TimeError::NeedsDate),
        };
        let (ms_of_day, precision) = if clock.is_empty() {
            (0, Precision::Day)
        } else {
            parse_clock(clock)?
        };
        Ok(Timestamp {
            utc_ms: date.days() * DAY_MS + ms_of_day - i64::from(offset) * MINUTE_MS,
            precision,
        })
    }

    /// Shows the timestamp in the board's timezone at its own precision; the date is left
    /// out when it is the incident's date.
    pub fn display(&self, ctx: TimeContext) -> String {
        let local = self.utc_ms + i64::from(ctx.offset_minutes) * MINUTE_MS;
        let date = Date::from_days(local.div_euclid(DAY_MS));
        let ms = local.rem_euclid(DAY_MS);
        let (h, m, s) = (ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60);
        let clock = match self.precision {
            Precision::Day => String::new(),
            Precision::Minute => format!("{h:02}:{m:02}"),
            Precision::Second => format!("{h:02}:{m:02}:{s:02}"),
        };
        match (ctx.date == Some(date), clock.is_empty()) {
            (true, false) => clock,
            (_, true) => date.to_string(),
            (false, false) => format!("{date} {clock}"),
        }
    }
}

/// The timezone label for an offset, such as `UTC`, `UTC+01:00` or `UTC-05:30`.
pub fn zone_label(offset_minutes: i32) -> String {
    if offset_minutes == 0 {
        return "UTC".into();
    }
    let sign = if offset_minutes < 0 { '-' } else { '+' };
    let m = offset_minutes.unsigned_abs();
    format!("UTC{sign}{:02}:{:02}", m / 60, m % 60)
}

/// Reads `Z`, `UTC`, `+01:00`, `+0100` or `-05` at the end of a clock.
fn split_offset(s: &str) -> Result<(&str, Option<i32>), TimeError> {
    let s = s.trim();
    for suffix in ["Z", "z", "UTC", "utc"] {
        if let Some(clock) = s.strip_suffix(suffix) {
            return Ok((clock.trim(), Some(0)));
        }
    }
    let Some(i) = s.rfind(['+', '-']) else {
        return Ok((s, None));
    };
    let (clock, zone) = (s[..i].trim(), &s[i + 1..]);
    let sign = if s.as_bytes()[i] == b'-' { -1 } else { 1 };
    let digits: String = zone.chars().filter(|c| *c != ':').collect();
    let (h, m) = match digits.len() {
        2 => (number(&digits)?, 0),
        4 => (number(&digits[..2])?, number(&digits[2..])?),
        _ => return Err(TimeError::Unrecognised),
    };
    if h > 14 || m > 59 {
        return Err(TimeError::OutOfRange);
    }
    Ok((clock, Some(sign * (h * 60 + m) as i32)))
}

/// Reads `HH:MM` or `HH:MM:SS` (fractions of a second are accepted and dropped).
fn parse_clock(s: &str) -> Result<(i64, Precision), TimeError> {
    let parts: Vec<&str> = s.split(':').collect();
    let (h, m, sec, precision) = match parts.as_slice() {
        [h, m] => (h, m, "0", Precision::Minute),
        [h, m, s] => (h, m, s.split('.').next().unwrap_or(""), Precision::Second),
        _ => return Err(TimeError::Unrecognised),
    };
    if !(1..=2).contains(&h.len())
        || m.len() != 2
        || (precision == Precision::Second && sec.len() != 2)
    {
        return Err(TimeError::Unrecognised);
    }
    let (h, m, sec) = (number(h)?, number(m)?, number(sec)?);
    if h > 23 || m > 59 || sec > 59 {
        return Err(TimeError::OutOfRange);
    }
    Ok((
        (i64::from(h) * 3600 + i64::from(m) * 60 + i64::from(sec)) * 1000,
        precision,
    ))
}

fn number(s: &str) -> Result<u32, TimeError> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(TimeError::Unrecognised);
    }
    s.parse().map_err(|_| TimeError::Unrecognised)
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INCIDENT: Date = Date {
        year: 2026,
        month: 11,
        day: 20,
    };
    /// 2026-11-20T00:00:00Z in milliseconds.
    const MIDNIGHT: i64 = 1_795_132_800_000;

    fn ctx(offset_minutes: i32) -> TimeContext {
        TimeContext {
            date: Some(INCIDENT),
            offset_minutes,
        }
    }

    fn check(input: &str, offset: i32, expected: Result<(i64, Precision), TimeError>) {
        let got = Timestamp::parse(input, ctx(offset)).map(|t| (t.utc_ms - MIDNIGHT, t.precision));
        assert_eq!(got, expected, "{input:?} at offset {offset}");
    }

    const H: i64 = 3_600_000;
    const M: i64 = 60_000;
    const S: i64 = 1000;

    #[test]
    fn accepted_inputs() {
        use Precision::*;
        check("14:03", 0, Ok((14 * H + 3 * M, Minute)));
        check(" 9:05 ", 0, Ok((9 * H + 5 * M, Minute)));
        check("14:03:22", 0, Ok((14 * H + 3 * M + 22 * S, Second)));
        check("2026-11-20 14:03", 0, Ok((14 * H + 3 * M, Minute)));
        check("2026-11-21 00:10", 0, Ok((24 * H + 10 * M, Minute)));
        check(
            "2026-11-20T14:03:22Z",
            0,
            Ok((14 * H + 3 * M + 22 * S, Second)),
        );
        check(
            "2026-11-20T14:03:22.517Z",
            0,
            Ok((14 * H + 3 * M + 22 * S, Second)),
        );
        check(
            "2026-11-20T14:03:22+01:00",
            0,
            Ok((13 * H + 3 * M + 22 * S, Second)),
        );
        check("2026-11-20T14:03-0530", 0, Ok((19 * H + 33 * M, Minute)));
        check("2026-11-20 14:03 UTC", 60, Ok((14 * H + 3 * M, Minute)));
        check("2026-11-20", 0, Ok((0, Day)));
        // Without an offset, the board's timezone applies.
        check("14:03", 60, Ok((13 * H + 3 * M, Minute)));
        check("00:30", 120, Ok((-90 * M, Minute)));
        check(
            "2024-02-29 12:00",
            0,
            Ok((-(995 * 24 * H) + 12 * H, Minute)),
        );
    }

    #[test]
    fn rejected_inputs() {
        use TimeError::*;
        for (input, err) in [
            ("", Unrecognised),
            ("yesterday", Unrecognised),
            ("14h03", Unrecognised),
            ("1403", Unrecognised),
            ("14:3", Unrecognised),
            ("14:03:2", Unrecognised),
            ("14:03:22:11", Unrecognised),
            ("2026-11-20 14", Unrecognised),
            ("2026/11/20 14:03", Unrecognised),
            ("2026-11-20T14:03+1", Unrecognised),
            ("24:00", OutOfRange),
            ("14:60", OutOfRange),
            ("14:03:60", OutOfRange),
            ("2026-13-01 10:00", OutOfRange),
            ("2026-02-29 10:00", OutOfRange),
            ("2026-11-20T14:03+15:00", OutOfRange),
        ] {
            check(input, 0, Err(err));
        }
        assert_eq!(
            Timestamp::parse(
                "14:03",
                TimeContext {
                    date: None,
                    offset_minutes: 0
                }
            ),
            Err(NeedsDate)
        );
        assert!(Timestamp::parse(
            "2026-11-20 14:03",
            TimeContext {
                date: None,
                offset_minutes: 0
            }
        )
        .is_ok());
    }

    #[test]
    fn display_round_trips_in_the_board_timezone() {
        for (input, offset, shown) in [
            ("14:03", 0, "14:03"),
            ("14:03:22", 60, "14:03:22"),
            ("2026-11-21 01:00", 60, "2026-11-21 01:00"),
            ("2026-11-20T23:30:00Z", 60, "2026-11-21 00:30:00"),
            ("2026-11-19", 0, "2026-11-19"),
        ] {
            let t = Timestamp::parse(input, ctx(offset)).unwrap();
            assert_eq!(t.display(ctx(offset)), shown, "{input:?}");
            assert_eq!(
                Timestamp::parse(shown, ctx(offset)).unwrap(),
                t,
                "{shown:?} reads back"
            );
        }
        assert_eq!(zone_label(0), "UTC");
        assert_eq!(zone_label(60), "UTC+01:00");
        assert_eq!(zone_label(-330), "UTC-05:30");
    }

    #[test]
    fn civil_days_round_trip() {
        for days in [-800_000, -1, 0, 1, 59, 365, 10_957, 20_412, 2_000_000] {
            assert_eq!(Date::from_days(days).days(), days);
        }
        assert_eq!(INCIDENT.days() * DAY_MS, MIDNIGHT);
        assert_eq!(Date::parse("2026-11-20"), Ok(INCIDENT));
    }
}
