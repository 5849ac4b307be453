//! Account statements ("estado de cuenta"): a recurrence rule per statement, evaluated over
//! local dates, listing a client's open (or overdue) items with totals per currency.
//!
//! # How an RRULE is read
//!
//! The RRULE (RFC 5545 §3.3.10) is evaluated over *local dates*: DTSTART is the statement's
//! start date at 12:00:00 in a zone without daylight saving, so every occurrence's date is
//! the local date it stands for. The send time is then applied in the client's zone by
//! [`local_instant`](crate::local_instant), with this crate's daylight-saving rule (rrule
//! 0.14's zoned expansion can drop occurrences on a night whose midnight does not exist: a
//! daily 00:30 rule in America/Santiago loses 2026-09-06).
//!
//! - **One statement per local date.** A statement is a daily-or-slower document: a rule
//!   that recurs several times a day (`FREQ=HOURLY`, `MINUTELY`, `SECONDLY`, or several
//!   `BYHOUR`/`BYMINUTE`/`BYSECOND` times) gives each date it touches once, and the linter
//!   says so ([`LintWarning::OncePerDay`](crate::LintWarning::OncePerDay)). Times of day
//!   never set the send time (the policy's send time does); they only decide, on the start
//!   date (from noon) and on an `UNTIL` date, which dates count, and where `BYSETPOS` falls.
//! - **Sub-daily steps must keep the time of day.** With `FREQ=HOURLY`, `MINUTELY` or
//!   `SECONDLY` the step (`INTERVAL` units) must divide a day or be a whole number of days
//!   (`FREQ=HOURLY;INTERVAL=6` or `INTERVAL=48`, not `INTERVAL=5`): a step that drifts through
//!   the day has no daily meaning and is refused, naming `INTERVAL`.
//! - **Planned from the window, not from the start.** A plan works out the dates of its own
//!   window only, from the period (year, month, week or day, stepped by `INTERVAL` from the
//!   start) that contains the window's first day: a daily rule started in 1700 costs what
//!   one started yesterday does, and a `FREQ=WEEKLY;INTERVAL=2` rule keeps the fortnight
//!   parity of its start. `UNTIL` is a last date (a date, `UNTIL=20271231`, includes that
//!   date; a UTC date-time, `UNTIL=20271231T235959Z`, is compared with the occurrences at
//!   their times). `COUNT` counts occurrences (every time of day) from the original start,
//!   without walking them: the Gregorian calendar repeats every 400 years (146,097 days,
//!   20,871 weeks, 4,800 months), so a rule repeats its pattern every `400 / gcd(INTERVAL,
//!   400)` years (months, weeks and days likewise), and the last occurrence of any `COUNT` is
//!   found by counting at most one such cycle and stepping over whole cycles arithmetically.
//! - **Strict RFC 5545.** Every rule part may appear once; `FREQ` is required; values must be
//!   in range (`BYMONTHDAY` ±1..31, `BYMONTH` 1..12, `BYHOUR` 0..23, `BYMINUTE` 0..59,
//!   `BYSECOND` 0..59, `BYYEARDAY` ±1..366, `BYWEEKNO` ±1..53, `BYSETPOS` ±1..366, a numbered
//!   `BYDAY` ±1..53, or ±1..5 within a month); and the combinations RFC 5545 forbids are
//!   refused: `BYWEEKNO` other than with `FREQ=YEARLY`, `BYYEARDAY` with `DAILY`, `WEEKLY` or
//!   `MONTHLY`, `BYMONTHDAY` with `WEEKLY`, a numbered `BYDAY` (`1MO`, `-1FR`) other than with
//!   `MONTHLY` or `YEARLY` (or with `YEARLY` and `BYWEEKNO`), `BYSETPOS` without another
//!   `BYxxx` part, `COUNT` with `UNTIL`. Each error is a
//!   [`ValidationError::InvalidRecurrence`] whose reason starts with the rule part at fault.
//! - **Only what truly never occurs is refused as such**: a rule with no occurrence from its
//!   start (and up to its `UNTIL`), such as `FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30`, found in at
//!   most one 400-year cycle of periods. `FREQ=SECONDLY;BYMONTH=12;BYMONTHDAY=31;BYHOUR=23;
//!   BYMINUTE=59;BYSECOND=59` occurs every 31 December.
//!
//! Week numbers (`BYWEEKNO`) are ISO 8601's, with weeks starting on `WKST`: week 1 is the
//! first week with at least four of its days in its year, and a day is in the week-numbering
//! year of its week, counted from the front or from the back of that year. 30 December 1996
//! is in week 1 of 1997, a year of 52 weeks, so `BYWEEKNO=1` and `BYWEEKNO=-52` both match it
//! (in the `YEARLY` period of 1996, its calendar year); 1 January 2022 is in week 52 of 2021,
//! so `BYWEEKNO=52` and `BYWEEKNO=-1` match it. (dateutil and the `rrule` crate match a day
//! in week 1 of next year only by `BYWEEKNO=1`, and in some years count the weeks of last
//! year as 53 instead of 52.)
//!
//! A `BYDAY` list that mixes plain and numbered weekdays (`BYDAY=MO,1TU` with
//! `FREQ=MONTHLY`) means either (every Monday and the first Tuesday), as RFC 5545 reads it
//! (the `rrule` crate would read both at once). `BYSETPOS` counts within the whole month or
//! year, days before the start included, but within the first week only from the start on,
//! as dateutil and the `rrule` crate do. The rule is also compiled by the `rrule` crate, and
//! refused if that crate refuses it (it refuses a few valid rules, such as `BYDAY=-5MO` with
//! `FREQ=MONTHLY`); its expansion is not used (it walks from DTSTART, and finds nothing for
//! sub-daily rules such as `FREQ=MINUTELY;BYMONTHDAY=27;BYHOUR=1`).

use chrono::{Datelike, NaiveDate, Weekday};
use rrule::RRuleSet;
use serde::{Deserialize, Serialize};

use crate::error::ValidationError;
use crate::model::client::ContactRole;
use crate::model::id::RuleId;

/// A statement rule: when statements go out and what they list.
///
/// # Example
/// Monthly on the 1st, listing every open item:
/// ```
/// use chrono::NaiveDate;
/// use dunning::StatementRule;
/// let rule = StatementRule::new("monthly".parse()?, "FREQ=MONTHLY;BYMONTHDAY=1", NaiveDate::from_ymd_opt(2026, 1, 1).unwrap());
/// let dates = rule.occurrences(NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(), NaiveDate::from_ymd_opt(2026, 5, 31).unwrap())?;
/// assert_eq!(dates.len(), 3);
/// # Ok::<(), dunning::ValidationError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatementRule {
    /// Unique id among rules; part of every statement's key.
    pub id: RuleId,
    /// The RRULE value (RFC 5545), such as `FREQ=MONTHLY;BYMONTHDAY=1`.
    pub rrule: String,
    /// DTSTART's date: the rule counts from here (intervals, weekdays, month days, `COUNT`).
    pub start: NaiveDate,
    /// List overdue items only ("estado de cuenta de vencidos"): those overdue on the working
    /// day the statement was to go (one caught up later, or held back by a pause, lists what
    /// it would have listed then).
    #[serde(default)]
    pub overdue_only: bool,
    /// Contact roles it goes to (empty: every contact with notify on).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<ContactRole>,
    /// Whether it is on.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Drop an occurrence not sent within this many days (none: the latest unsent one goes
    /// out on catch-up).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_after_days: Option<u32>,
}

fn yes() -> bool {
    true
}

impl StatementRule {
    /// A statement listing all open items, on.
    #[must_use]
    pub fn new(id: RuleId, rrule: impl Into<String>, start: NaiveDate) -> Self {
        Self {
            id,
            rrule: rrule.into(),
            start,
            overdue_only: false,
            roles: Vec::new(),
            enabled: true,
            expires_after_days: None,
        }
    }

    /// The same rule listing overdue items only.
    #[must_use]
    pub fn overdue_only(mut self) -> Self {
        self.overdue_only = true;
        self
    }

    /// The same rule dropping an occurrence not sent within `days` days of its day (a
    /// weekly statement worth sending only that week, say).
    ///
    /// # Example
    /// ```
    /// use chrono::NaiveDate;
    /// use dunning::StatementRule;
    /// let start = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    /// let weekly = StatementRule::new("weekly".parse()?, "FREQ=WEEKLY;BYDAY=FR", start).expires_after(2);
    /// assert_eq!(weekly.expires_after_days, Some(2));
    /// # Ok::<(), dunning::ValidationError>(())
    /// ```
    #[must_use]
    pub fn expires_after(mut self, days: u32) -> Self {
        self.expires_after_days = Some(days);
        self
    }

    /// The local dates of the rule from `from` to `to`, inclusive, in order, each once.
    ///
    /// The work is linear in the days from `from` to `to`, never in the days since the start
    /// (plus, to check that the rule occurs at all and where a `COUNT` ends, at most one
    /// 400-year cycle of the rule's periods, usually a few).
    ///
    /// # Example
    /// A fortnightly rule started in 1700 keeps its parity, and a sub-daily rule gives each
    /// date once:
    /// ```
    /// use chrono::NaiveDate;
    /// use dunning::StatementRule;
    /// let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
    /// // 1700-01-04 was a Monday; 2026-05-04 is one too, 16,923 weeks later (an odd number).
    /// let fortnightly = StatementRule::new("f".parse()?, "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO", d(1700, 1, 4));
    /// assert_eq!(fortnightly.occurrences(d(2026, 5, 1), d(2026, 5, 31))?, [d(2026, 5, 11), d(2026, 5, 25)]);
    /// let hourly = StatementRule::new("h".parse()?, "FREQ=HOURLY", d(2026, 5, 1));
    /// assert_eq!(hourly.occurrences(d(2026, 5, 1), d(2026, 5, 3))?, [d(2026, 5, 1), d(2026, 5, 2), d(2026, 5, 3)]);
    /// # Ok::<(), dunning::ValidationError>(())
    /// ```
    ///
    /// # Errors
    /// [`ValidationError::InvalidRecurrence`] when the RRULE does not parse, breaks a rule
    /// of RFC 5545 (the reason names the rule part), or never occurs.
    pub fn occurrences(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<NaiveDate>, ValidationError> {
        let name = self.id.as_str();
        let recurrence = Recurrence::new(name, &self.rrule, self.start)?;
        recurrence.rrule_set(name, &self.rrule)?;
        Ok(recurrence.dates(from, to))
    }
}

/// Checks an RRULE with DTSTART at noon of `start` and compiles it with the `rrule` crate.
///
/// # Errors
/// [`ValidationError::InvalidRecurrence`] naming `rule`, as [`StatementRule::occurrences`].
pub(crate) fn compile(rule: &str, rrule: &str, start: NaiveDate) -> Result<RRuleSet, ValidationError> {
    Recurrence::new(rule, rrule, start)?.rrule_set(rule, rrule)
}

/// The dates from `from` to `to` of the RRULE `rrule` compiled into `set` (by [`compile`]),
/// counted from the set's start.
///
/// # Errors
/// As [`compile`] (never for a set that [`compile`] made from the same text).
pub(crate) fn expand(
    rule: &str,
    set: &RRuleSet,
    rrule: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<NaiveDate>, ValidationError> {
    window(rule, rrule, set.get_dt_start().date_naive(), from, to)
}

/// The dates from `from` to `to` of the RRULE `rrule` starting on `start`.
///
/// # Errors
/// As [`compile`], except for the `rrule` crate's own refusals.
pub(crate) fn window(
    rule: &str,
    rrule: &str,
    start: NaiveDate,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<NaiveDate>, ValidationError> {
    Ok(Recurrence::new(rule, rrule, start)?.dates(from, to))
}

/// The rule part that makes `rrule` recur more than once a day (a sub-daily `FREQ`, or
/// several times of day without `BYSETPOS`), if any: statements still go once a local date.
pub(crate) fn recurs_within_a_day(rrule: &str) -> Option<String> {
    let parts = Parts::parse(rrule).ok()?;
    if parts.freq.value.sub_daily() {
        return Some(parts.freq.text);
    }
    let times = [&parts.by_hour, &parts.by_minute, &parts.by_second];
    let several = times
        .iter()
        .map(|p| p.as_ref().map_or(1, |p| p.value.len()))
        .product::<usize>()
        > 1;
    (several && parts.by_set_pos.is_none()).then(|| {
        times
            .iter()
            .filter_map(|p| p.as_ref().map(|p| p.text.as_str()))
            .collect::<Vec<_>>()
            .join(";")
    })
}

// ---------------------------------------------------------------------------------------
// Parsing and RFC 5545 checks.

/// Seconds in a day; noon, DTSTART's time.
const DAY: u32 = 86_400;
const NOON: u32 = 43_200;
/// Days in the Gregorian cycle of 400 years (20,871 weeks, 4,800 months).
const CYCLE_DAYS: i64 = 146_097;
/// The largest INTERVAL (the `rrule` crate keeps it in 16 bits).
const MAX_INTERVAL: u32 = u16::MAX as u32;
/// Rule part texts are quoted in errors up to this many characters.
const SHOWN: usize = 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Freq {
    Secondly,
    Minutely,
    Hourly,
    Daily,
    Weekly,
    Monthly,
    Yearly,
}

impl Freq {
    fn parse(s: &str) -> Option<Self> {
        Some(match s.to_ascii_uppercase().as_str() {
            "SECONDLY" => Self::Secondly,
            "MINUTELY" => Self::Minutely,
            "HOURLY" => Self::Hourly,
            "DAILY" => Self::Daily,
            "WEEKLY" => Self::Weekly,
            "MONTHLY" => Self::Monthly,
            "YEARLY" => Self::Yearly,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Self::Secondly => "SECONDLY",
            Self::Minutely => "MINUTELY",
            Self::Hourly => "HOURLY",
            Self::Daily => "DAILY",
            Self::Weekly => "WEEKLY",
            Self::Monthly => "MONTHLY",
            Self::Yearly => "YEARLY",
        }
    }

    fn sub_daily(self) -> bool {
        self < Self::Daily
    }
}

/// A rule part's value and its text as written (`BYDAY=1MO`), for errors.
#[derive(Debug, Clone)]
struct Part<T> {
    value: T,
    text: String,
}

/// The last instant of an `UNTIL`: a day and a second of that day (inclusive).
#[derive(Debug, Clone, Copy)]
struct Until {
    date: NaiveDate,
    second: u32,
}

/// The rule parts of an RRULE, each checked for range, with its text.
#[derive(Debug, Clone)]
struct Parts {
    freq: Part<Freq>,
    interval: Option<Part<u32>>,
    count: Option<Part<u32>>,
    until: Option<Part<Until>>,
    wkst: Option<Part<Weekday>>,
    by_second: Option<Part<Vec<u8>>>,
    by_minute: Option<Part<Vec<u8>>>,
    by_hour: Option<Part<Vec<u8>>>,
    /// Weekdays (days from Monday) with their ordinal (0: every one).
    by_day: Option<Part<Vec<(i8, u8)>>>,
    by_month_day: Option<Part<Vec<i8>>>,
    by_year_day: Option<Part<Vec<i16>>>,
    by_week_no: Option<Part<Vec<i8>>>,
    by_month: Option<Part<Vec<u8>>>,
    by_set_pos: Option<Part<Vec<i16>>>,
}

/// `NAME=value`, cut short for an error message.
fn shown(name: &str, value: &str) -> String {
    visible(&format!("{name}={value}"))
}

/// At most [`SHOWN`] characters of `text` for an error's reason, control and bidi
/// characters escaped (`\u{2028}`), so that a reason holds no line break.
fn visible(text: &str) -> String {
    let mut out = String::new();
    for (i, c) in text.chars().enumerate() {
        if i == SHOWN {
            out.push('…');
            break;
        }
        if crate::model::client::is_header_control(c) || crate::model::client::is_line_break(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

/// A whole number written with at most 18 digits and, where `signed`, an optional sign.
fn number(s: &str, signed: bool) -> Option<i64> {
    let (negative, digits) = match s.as_bytes().first() {
        Some(b'-') if signed => (true, &s[1..]),
        Some(b'+') if signed => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || digits.len() > 18 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: i64 = digits.parse().ok()?;
    Some(if negative { -n } else { n })
}

fn weekday(s: &str) -> Option<Weekday> {
    Some(match s.to_ascii_uppercase().as_str() {
        "MO" => Weekday::Mon,
        "TU" => Weekday::Tue,
        "WE" => Weekday::Wed,
        "TH" => Weekday::Thu,
        "FR" => Weekday::Fri,
        "SA" => Weekday::Sat,
        "SU" => Weekday::Sun,
        _ => return None,
    })
}

/// A weekday's name in an RRULE, from its days from Monday.
fn weekday_name(w: u8) -> &'static str {
    ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
        .get(usize::from(w))
        .copied()
        .unwrap_or("MO")
}

/// A comma-separated list of values, each checked by `one`, sorted and without repeats.
fn list<T: Ord>(
    text: &str,
    value: &str,
    what: &str,
    one: impl Fn(&str) -> Option<T>,
) -> Result<Part<Vec<T>>, String> {
    let mut out = Vec::new();
    for item in value.split(',') {
        match one(item) {
            Some(v) => out.push(v),
            None => {
                return Err(format!("{text}: \"{}\" is not {what}", visible(item)));
            }
        }
    }
    out.sort_unstable();
    out.dedup();
    Ok(Part {
        value: out,
        text: text.to_owned(),
    })
}

/// A number in `lo..=hi`, not 0 unless `lo` is.
fn ranged(s: &str, lo: i64, hi: i64, signed: bool) -> Option<i64> {
    number(s, signed).filter(|n| (lo..=hi).contains(n) && (*n != 0 || lo == 0))
}

fn parse_until(text: &str, value: &str) -> Result<Part<Until>, String> {
    let bad = || {
        format!(
            "{text}: give a date (UNTIL=20271231, that day included) or a UTC date-time ending in Z (UNTIL=20271231T235959Z)"
        )
    };
    let b = value.as_bytes();
    let digits = |r: std::ops::Range<usize>| -> Option<u32> {
        let s = value.get(r)?;
        s.bytes().all(|c| c.is_ascii_digit()).then(|| s.parse().ok())?
    };
    let date =
        (|| NaiveDate::from_ymd_opt(i32::try_from(digits(0..4)?).ok()?, digits(4..6)?, digits(6..8)?))();
    let until = match (b.len(), date) {
        (8, Some(date)) => Until {
            date,
            second: DAY - 1,
        },
        (16, Some(date)) if b[8].eq_ignore_ascii_case(&b'T') && b[15].eq_ignore_ascii_case(&b'Z') => {
            let (h, m, s) = (digits(9..11), digits(11..13), digits(13..15));
            match (h, m, s) {
                (Some(h @ 0..=23), Some(m @ 0..=59), Some(s @ 0..=59)) => Until {
                    date,
                    second: h * 3600 + m * 60 + s,
                },
                _ => return Err(bad()),
            }
        }
        _ => return Err(bad()),
    };
    Ok(Part {
        value: until,
        text: text.to_owned(),
    })
}

impl Parts {
    /// Parses and checks an RRULE value; the error is the reason, naming the rule part.
    fn parse(rrule: &str) -> Result<Self, String> {
        // Any line break, also one `trim` would drop (U+2028, NEL, VT...): one line only.
        if rrule.chars().any(crate::model::client::is_line_break)
            || rrule.to_ascii_uppercase().contains("DTSTART")
        {
            return Err("give the RRULE value only; the start date is a field of its own".into());
        }
        let mut value = rrule.trim();
        if value.len() >= 6 && value.is_char_boundary(6) && value[..6].eq_ignore_ascii_case("RRULE:") {
            value = &value[6..];
        }
        let mut freq = None;
        let mut parts = Parts {
            freq: Part {
                value: Freq::Daily,
                text: String::new(),
            },
            interval: None,
            count: None,
            until: None,
            wkst: None,
            by_second: None,
            by_minute: None,
            by_hour: None,
            by_day: None,
            by_month_day: None,
            by_year_day: None,
            by_week_no: None,
            by_month: None,
            by_set_pos: None,
        };
        let mut seen: Vec<String> = Vec::new();
        for part in value.split(';').filter(|p| !p.is_empty()) {
            let Some((name, value)) = part.split_once('=') else {
                return Err(format!("{}: a rule part is written NAME=VALUE", visible(part)));
            };
            let name = name.to_ascii_uppercase();
            let text = shown(&name, value);
            if seen.contains(&name) {
                return Err(format!(
                    "{text}: {name} is given twice; each rule part may appear once"
                ));
            }
            let numbered = |lo, hi, what: &str| list(&text, value, what, |s| ranged(s, lo, hi, lo < 0));
            match name.as_str() {
                "FREQ" => {
                    let f = Freq::parse(value).ok_or_else(|| {
                        format!("{text}: FREQ is one of SECONDLY, MINUTELY, HOURLY, DAILY, WEEKLY, MONTHLY, YEARLY")
                    })?;
                    freq = Some(Part {
                        value: f,
                        text: format!("FREQ={}", f.name()),
                    });
                }
                "INTERVAL" => {
                    let n = ranged(value, 1, MAX_INTERVAL.into(), false).ok_or_else(|| {
                        format!("{text}: the interval is a whole number from 1 to {MAX_INTERVAL}")
                    })?;
                    parts.interval = Some(Part {
                        value: u32::try_from(n).unwrap_or(MAX_INTERVAL),
                        text: text.clone(),
                    });
                }
                "COUNT" => {
                    let n = ranged(value, 1, u32::MAX.into(), false).ok_or_else(|| {
                        format!("{text}: the count is a whole number from 1 to {}", u32::MAX)
                    })?;
                    parts.count = Some(Part {
                        value: u32::try_from(n).unwrap_or(u32::MAX),
                        text: text.clone(),
                    });
                }
                "UNTIL" => parts.until = Some(parse_until(&text, value)?),
                "WKST" => {
                    let w = weekday(value).ok_or_else(|| {
                        format!("{text}: the week start is one of MO, TU, WE, TH, FR, SA, SU")
                    })?;
                    parts.wkst = Some(Part {
                        value: w,
                        text: text.clone(),
                    });
                }
                "BYSECOND" => {
                    if value.split(',').any(|s| number(s, false) == Some(60)) {
                        return Err(format!(
                            "{text}: a leap second (60) never occurs here; seconds run from 0 to 59"
                        ));
                    }
                    parts.by_second = Some(to_u8(numbered(0, 59, "a second (0 to 59)")?));
                }
                "BYMINUTE" => parts.by_minute = Some(to_u8(numbered(0, 59, "a minute (0 to 59)")?)),
                "BYHOUR" => parts.by_hour = Some(to_u8(numbered(0, 23, "an hour (0 to 23)")?)),
                "BYDAY" => {
                    parts.by_day = Some(list(
                        &text,
                        value,
                        "a weekday (MO, 1MO, -1FR: ±1 to ±53 and MO to SU)",
                        |s| {
                            let split = s.len().checked_sub(2).filter(|&i| s.is_char_boundary(i))?;
                            let (n, w) = s.split_at(split);
                            let w = u8::try_from(weekday(w)?.num_days_from_monday()).ok()?;
                            let n = if n.is_empty() {
                                0
                            } else {
                                ranged(n, -53, 53, true)?
                            };
                            Some((i8::try_from(n).ok()?, w))
                        },
                    )?);
                }
                "BYMONTHDAY" => {
                    parts.by_month_day =
                        Some(to_i8(numbered(-31, 31, "a month day (1 to 31 or -31 to -1)")?));
                }
                "BYYEARDAY" => {
                    parts.by_year_day = Some(to_i16(numbered(
                        -366,
                        366,
                        "a year day (1 to 366 or -366 to -1)",
                    )?));
                }
                "BYWEEKNO" => {
                    parts.by_week_no =
                        Some(to_i8(numbered(-53, 53, "a week number (1 to 53 or -53 to -1)")?));
                }
                "BYMONTH" => parts.by_month = Some(to_u8(numbered(1, 12, "a month (1 to 12)")?)),
                "BYSETPOS" => {
                    parts.by_set_pos = Some(to_i16(numbered(
                        -366,
                        366,
                        "a position (1 to 366 or -366 to -1)",
                    )?));
                }
                _ => {
                    return Err(format!(
                        "{text}: {} is not an RRULE part (RFC 5545)",
                        visible(&name)
                    ));
                }
            }
            seen.push(name);
        }
        parts.freq =
            freq.ok_or_else(|| "FREQ is missing: every RRULE needs one (FREQ=MONTHLY, ...)".to_owned())?;
        parts.check_combinations()?;
        Ok(parts)
    }

    /// The combinations RFC 5545 §3.3.10 forbids, and numbered weekdays that cannot occur.
    fn check_combinations(&self) -> Result<(), String> {
        let freq = self.freq.value;
        let with = format!("FREQ={}", freq.name());
        if let Some(p) = &self.by_week_no {
            if freq != Freq::Yearly {
                return Err(format!(
                    "{}: BYWEEKNO is only allowed with FREQ=YEARLY, not {with}",
                    p.text
                ));
            }
        }
        if let Some(p) = &self.by_year_day {
            if matches!(freq, Freq::Daily | Freq::Weekly | Freq::Monthly) {
                return Err(format!(
                    "{}: BYYEARDAY is not allowed with {with} (RFC 5545 forbids it with DAILY, WEEKLY and MONTHLY)",
                    p.text
                ));
            }
        }
        if let Some(p) = &self.by_month_day {
            if freq == Freq::Weekly {
                return Err(format!("{}: BYMONTHDAY is not allowed with FREQ=WEEKLY", p.text));
            }
        }
        if let Some(p) = &self.by_day {
            if let Some(&(n, w)) = p.value.iter().find(|(n, _)| *n != 0) {
                let one = format!("{n}{}", weekday_name(w));
                if !matches!(freq, Freq::Monthly | Freq::Yearly) {
                    return Err(format!(
                        "{}: a numbered weekday ({one}) is only allowed with FREQ=MONTHLY or FREQ=YEARLY, not {with}",
                        p.text
                    ));
                }
                if freq == Freq::Yearly && self.by_week_no.is_some() {
                    return Err(format!(
                        "{}: a numbered weekday ({one}) is not allowed with FREQ=YEARLY and BYWEEKNO",
                        p.text
                    ));
                }
            }
            let in_a_month = freq == Freq::Monthly || self.by_month.is_some();
            if let Some(&(n, w)) = p.value.iter().find(|(n, _)| in_a_month && n.unsigned_abs() > 5) {
                return Err(format!(
                    "{}: {n}{} never occurs: a month has at most 5 of each weekday",
                    p.text,
                    weekday_name(w)
                ));
            }
        }
        if let Some(p) = &self.by_set_pos {
            let others = self.by_second.is_some()
                || self.by_minute.is_some()
                || self.by_hour.is_some()
                || self.by_day.is_some()
                || self.by_month_day.is_some()
                || self.by_year_day.is_some()
                || self.by_week_no.is_some()
                || self.by_month.is_some();
            if !others {
                return Err(format!(
                    "{}: BYSETPOS is only allowed together with another BYxxx rule part",
                    p.text
                ));
            }
        }
        if let (Some(c), Some(u)) = (&self.count, &self.until) {
            return Err(format!(
                "{} and {}: a rule may end by COUNT or by UNTIL, not both",
                c.text, u.text
            ));
        }
        Ok(())
    }

    /// The RRULE as the `rrule` crate reads it, the same rule written canonically.
    fn canonical(&self) -> String {
        let mut out = format!("FREQ={}", self.freq.value.name());
        let mut add = |name: &str, values: Vec<String>| {
            out.push(';');
            out.push_str(name);
            out.push('=');
            out.push_str(&values.join(","));
        };
        if let Some(p) = &self.interval {
            add("INTERVAL", vec![p.value.to_string()]);
        }
        if let Some(p) = &self.count {
            add("COUNT", vec![p.value.to_string()]);
        }
        if let Some(p) = &self.until {
            let u = p.value;
            add(
                "UNTIL",
                vec![format!(
                    "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
                    u.date.year(),
                    u.date.month(),
                    u.date.day(),
                    u.second / 3600,
                    u.second / 60 % 60,
                    u.second % 60
                )],
            );
        }
        if let Some(p) = &self.wkst {
            let w = u8::try_from(p.value.num_days_from_monday()).unwrap_or(0);
            add("WKST", vec![weekday_name(w).to_owned()]);
        }
        if let Some(p) = &self.by_second {
            add("BYSECOND", strings(&p.value));
        }
        if let Some(p) = &self.by_minute {
            add("BYMINUTE", strings(&p.value));
        }
        if let Some(p) = &self.by_hour {
            add("BYHOUR", strings(&p.value));
        }
        if let Some(p) = &self.by_day {
            let days = p
                .value
                .iter()
                .map(|&(n, w)| match n {
                    0 => weekday_name(w).to_owned(),
                    n => format!("{n}{}", weekday_name(w)),
                })
                .collect();
            add("BYDAY", days);
        }
        if let Some(p) = &self.by_month_day {
            add("BYMONTHDAY", strings(&p.value));
        }
        if let Some(p) = &self.by_year_day {
            add("BYYEARDAY", strings(&p.value));
        }
        if let Some(p) = &self.by_week_no {
            add("BYWEEKNO", strings(&p.value));
        }
        if let Some(p) = &self.by_month {
            add("BYMONTH", strings(&p.value));
        }
        if let Some(p) = &self.by_set_pos {
            add("BYSETPOS", strings(&p.value));
        }
        out
    }

    /// The BYxxx, COUNT and UNTIL parts as written, for saying what never matches.
    fn limiting_parts(&self) -> String {
        let texts = [
            self.by_month.as_ref().map(|p| &p.text),
            self.by_week_no.as_ref().map(|p| &p.text),
            self.by_year_day.as_ref().map(|p| &p.text),
            self.by_month_day.as_ref().map(|p| &p.text),
            self.by_day.as_ref().map(|p| &p.text),
            self.by_hour.as_ref().map(|p| &p.text),
            self.by_minute.as_ref().map(|p| &p.text),
            self.by_second.as_ref().map(|p| &p.text),
            self.by_set_pos.as_ref().map(|p| &p.text),
            self.until.as_ref().map(|p| &p.text),
        ];
        let texts: Vec<&str> = texts.into_iter().flatten().map(String::as_str).collect();
        if texts.is_empty() {
            self.freq.text.clone()
        } else {
            texts.join(";")
        }
    }
}

fn strings<T: ToString>(values: &[T]) -> Vec<String> {
    values.iter().map(ToString::to_string).collect()
}

fn to_u8(p: Part<Vec<i64>>) -> Part<Vec<u8>> {
    Part {
        value: p.value.into_iter().filter_map(|v| u8::try_from(v).ok()).collect(),
        text: p.text,
    }
}

fn to_i8(p: Part<Vec<i64>>) -> Part<Vec<i8>> {
    Part {
        value: p.value.into_iter().filter_map(|v| i8::try_from(v).ok()).collect(),
        text: p.text,
    }
}

fn to_i16(p: Part<Vec<i64>>) -> Part<Vec<i16>> {
    Part {
        value: p
            .value
            .into_iter()
            .filter_map(|v| i16::try_from(v).ok())
            .collect(),
        text: p.text,
    }
}

// ---------------------------------------------------------------------------------------
// Evaluation over dates.

fn day_number(d: NaiveDate) -> i64 {
    i64::from(d.num_days_from_ce())
}

fn from_day_number(n: i64) -> Option<NaiveDate> {
    i32::try_from(n)
        .ok()
        .and_then(NaiveDate::from_num_days_from_ce_opt)
}

fn is_leap(year: i32) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn month_len(year: i32, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn gcd(mut a: i64, mut b: i64) -> i64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// A set of small numbers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Bits([u64; 6]);

impl Bits {
    fn set(&mut self, i: u32) {
        if let Some(w) = self.0.get_mut((i / 64) as usize) {
            *w |= 1 << (i % 64);
        }
    }

    fn has(&self, i: u32) -> bool {
        self.0
            .get((i / 64) as usize)
            .is_some_and(|w| w & (1 << (i % 64)) != 0)
    }

    fn is_empty(&self) -> bool {
        self.0.iter().all(|w| *w == 0)
    }
}

/// A set of numbers, positive ones counted from the front, negative from the back.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Signed {
    front: Bits,
    back: Bits,
}

impl Signed {
    fn of(values: impl IntoIterator<Item = i64>) -> Self {
        let mut s = Self::default();
        values.into_iter().for_each(|v| s.add(v));
        s
    }

    fn add(&mut self, v: i64) {
        let i = u32::try_from(v.unsigned_abs()).unwrap_or(0);
        if v > 0 {
            self.front.set(i);
        } else {
            self.back.set(i);
        }
    }

    fn is_empty(&self) -> bool {
        self.front.is_empty() && self.back.is_empty()
    }

    /// Whether the `i`th of `len` (from 1) is in the set, counted either way.
    fn has(&self, i: u32, len: u32) -> bool {
        self.front.has(i) || (i <= len && self.back.has(len + 1 - i))
    }
}

/// A compiled RRULE over local dates: only DAILY, WEEKLY, MONTHLY and YEARLY periods (a
/// sub-daily rule is made into a daily one whose dates carry the day's times).
#[derive(Debug, Clone)]
struct Recurrence {
    /// The rule as the `rrule` crate is given it.
    canonical: String,
    start_date: NaiveDate,
    freq: Freq,
    /// Periods between two counted periods.
    interval: i64,
    /// DTSTART's date (its time is noon).
    start: i64,
    /// The first period's year, month (years × 12 + months from 0), week (its first day).
    start_year: i64,
    start_month: i64,
    start_week: i64,
    /// Week start, days from Monday.
    wkst: u32,
    /// Months (bit 1 to 12); empty: any.
    months: u16,
    month_days: Signed,
    year_days: Signed,
    week_nos: Signed,
    /// Whether BYDAY was given (after DTSTART's defaults).
    by_day: bool,
    /// Plain weekdays (bit: days from Monday).
    weekdays: u8,
    /// Numbered weekdays, per weekday from Monday.
    numbered: [Signed; 7],
    /// Numbered weekdays count within the month (else within the year).
    numbered_in_month: bool,
    set_pos: Vec<i64>,
    /// The seconds of the day of a date's instants, in order (before BYSETPOS).
    times: Vec<u32>,
    /// The last instant: a day number and a second of that day.
    until: Option<(i64, u32)>,
    /// The day of the COUNT-th instant (none: no COUNT, or none within the calendar).
    last: Option<i64>,
}

/// A period's instants, as (day number, instants that day), in order.
type Instants = Vec<(i64, u64)>;

impl Recurrence {
    /// Parses, checks and compiles `rrule` starting on `start`.
    fn new(rule: &str, rrule: &str, start: NaiveDate) -> Result<Self, ValidationError> {
        let bad = |reason: String| ValidationError::InvalidRecurrence {
            rule: rule.to_owned(),
            value: rrule.to_owned(),
            reason,
        };
        let parts = Parts::parse(rrule).map_err(bad)?;
        let mut r = Self::build(&parts, start).map_err(bad)?;
        let mut scratch = (Vec::new(), Vec::new());
        if r.first(&mut scratch).is_none() {
            let until = parts
                .until
                .as_ref()
                .map_or(String::new(), |_| " up to its UNTIL".into());
            return Err(bad(format!(
                "it never occurs: no date from its start ({}){until} matches {}",
                start,
                parts.limiting_parts()
            )));
        }
        if let Some(c) = &parts.count {
            r.last = r.count_end(u64::from(c.value), &mut scratch);
        }
        Ok(r)
    }

    /// The `rrule` crate's compiled set of the same rule.
    fn rrule_set(&self, rule: &str, rrule: &str) -> Result<RRuleSet, ValidationError> {
        let bad = |reason: String| ValidationError::InvalidRecurrence {
            rule: rule.to_owned(),
            value: rrule.to_owned(),
            reason,
        };
        let start = self.start_date;
        if !(0..=9999).contains(&start.year()) {
            return Err(bad(format!(
                "the start date {start} is outside the years 0000 to 9999"
            )));
        }
        let text = format!(
            "DTSTART:{:04}{:02}{:02}T120000Z\nRRULE:{}",
            start.year(),
            start.month(),
            start.day(),
            self.canonical
        );
        text.parse()
            .map_err(|e: rrule::RRuleError| bad(format!("the rrule crate refuses it: {e}")))
    }

    /// The compiled rule of checked `parts`; the error is the reason.
    fn build(parts: &Parts, start: NaiveDate) -> Result<Self, String> {
        let freq = parts.freq.value;
        let mut interval = i64::from(parts.interval.as_ref().map_or(1, |p| p.value));
        let values = |p: &Option<Part<Vec<u8>>>| p.as_ref().map(|p| p.value.clone());
        let (hours, minutes, seconds) = (
            values(&parts.by_hour),
            values(&parts.by_minute),
            values(&parts.by_second),
        );
        let mut set_pos: Vec<i64> = parts
            .by_set_pos
            .as_ref()
            .map_or(Vec::new(), |p| p.value.iter().map(|&v| i64::from(v)).collect());
        let (freq, times) = if freq.sub_daily() {
            // A daily rule whose dates carry the times of day in step with the rule.
            let unit: u64 = match freq {
                Freq::Hourly => 3600,
                Freq::Minutely => 60,
                _ => 1,
            };
            let step = unit * interval.unsigned_abs();
            let (firsts, days) = if u64::from(DAY) % step == 0 {
                (
                    (u64::from(NOON) % step..u64::from(DAY))
                        .step_by(usize::try_from(step).unwrap_or(usize::MAX))
                        .collect::<Vec<_>>(),
                    1,
                )
            } else if step % u64::from(DAY) == 0 {
                (vec![u64::from(NOON)], step / u64::from(DAY))
            } else {
                let text = parts.interval.as_ref().map_or("INTERVAL=1", |p| p.text.as_str());
                return Err(format!(
                    "{text}: with {} the step must divide a day or be a whole number of days, so that every date has the same times (statements go once a local date)",
                    parts.freq.text
                ));
            };
            // Instants within each step: BYMINUTE and BYSECOND expand an hour, BYSECOND a
            // minute; BYSETPOS picks among them.
            let within: Vec<u64> = match freq {
                Freq::Hourly => {
                    let ms = minutes.clone().unwrap_or_else(|| vec![0]);
                    let ss = seconds.clone().unwrap_or_else(|| vec![0]);
                    ms.iter()
                        .flat_map(|&m| ss.iter().map(move |&s| u64::from(m) * 60 + u64::from(s)))
                        .collect()
                }
                Freq::Minutely => seconds
                    .clone()
                    .unwrap_or_else(|| vec![0])
                    .iter()
                    .map(|&s| u64::from(s))
                    .collect(),
                _ => vec![0],
            };
            let within = pick(&within, &set_pos);
            set_pos.clear();
            // BYHOUR filters every step; BYMINUTE a minute's or a second's; BYSECOND a second's.
            let mask = |set: &Option<Vec<u8>>, applies: bool| -> u64 {
                match set {
                    Some(set) if applies => set
                        .iter()
                        .fold(0, |m, &v| m | 1u64.checked_shl(v.into()).unwrap_or(0)),
                    _ => u64::MAX,
                }
            };
            let (hs, ms, ss) = (
                mask(&hours, true),
                mask(&minutes, freq != Freq::Hourly),
                mask(&seconds, freq == Freq::Secondly),
            );
            let keep = |first: u64| {
                let (h, m, s) = (first / 3600, first / 60 % 60, first % 60);
                hs & (1 << h) != 0 && ms & (1 << m) != 0 && ss & (1 << s) != 0
            };
            let mut times: Vec<u32> = firsts
                .into_iter()
                .filter(|&f| keep(f))
                .flat_map(|f| within.iter().map(move |&w| f + w))
                .filter_map(|t| u32::try_from(t).ok())
                .collect();
            times.sort_unstable();
            if times.is_empty() {
                let text = [&parts.by_hour, &parts.by_minute, &parts.by_second]
                    .into_iter()
                    .flatten()
                    .map(|p| p.text.as_str())
                    .chain(parts.by_set_pos.as_ref().map(|p| p.text.as_str()))
                    .collect::<Vec<_>>()
                    .join(";");
                let step = parts
                    .interval
                    .as_ref()
                    .map_or(String::new(), |p| format!(";{}", p.text));
                return Err(format!(
                    "{text}: it never occurs: {}{step} counts from noon of the start date, and no time in step with it matches",
                    parts.freq.text
                ));
            }
            interval = i64::try_from(days).unwrap_or(i64::MAX);
            (Freq::Daily, times)
        } else {
            let hs = hours.unwrap_or_else(|| vec![12]);
            let ms = minutes.unwrap_or_else(|| vec![0]);
            let ss = seconds.unwrap_or_else(|| vec![0]);
            let mut times = Vec::with_capacity(hs.len() * ms.len() * ss.len());
            for &h in &hs {
                for &m in &ms {
                    for &s in &ss {
                        times.push(u32::from(h) * 3600 + u32::from(m) * 60 + u32::from(s));
                    }
                }
            }
            (freq, times)
        };
        let wkst = parts
            .wkst
            .as_ref()
            .map_or(Weekday::Mon, |p| p.value)
            .num_days_from_monday();
        let mut months = 0u16;
        for &m in parts.by_month.as_ref().map_or(&[][..], |p| &p.value) {
            months |= 1 << m;
        }
        let signed = |p: Option<Vec<i64>>| Signed::of(p.unwrap_or_default());
        let mut month_days = signed(
            parts
                .by_month_day
                .as_ref()
                .map(|p| p.value.iter().map(|&v| i64::from(v)).collect()),
        );
        let year_days = signed(
            parts
                .by_year_day
                .as_ref()
                .map(|p| p.value.iter().map(|&v| i64::from(v)).collect()),
        );
        let week_nos = signed(
            parts
                .by_week_no
                .as_ref()
                .map(|p| p.value.iter().map(|&v| i64::from(v)).collect()),
        );
        let mut weekdays = 0u8;
        let mut numbered = [Signed::default(); 7];
        for &(n, i) in parts.by_day.as_ref().map_or(&[][..], |p| &p.value) {
            if n == 0 {
                weekdays |= 1 << i;
            } else {
                numbered[i as usize].add(i64::from(n));
            }
        }
        let mut by_day = parts.by_day.is_some();
        // What DTSTART fills in when no day is given (RFC 5545, as the rrule crate does).
        if parts.by_week_no.is_none()
            && parts.by_year_day.is_none()
            && parts.by_month_day.is_none()
            && parts.by_day.is_none()
        {
            match freq {
                Freq::Yearly => {
                    if months == 0 {
                        months = 1 << start.month();
                    }
                    month_days = Signed::of([i64::from(start.day())]);
                }
                Freq::Monthly => month_days = Signed::of([i64::from(start.day())]),
                Freq::Weekly => {
                    weekdays = 1 << start.weekday().num_days_from_monday();
                    by_day = true;
                }
                _ => {}
            }
        }
        let start_n = day_number(start);
        let start_week = start_n - i64::from((start.weekday().num_days_from_monday() + 7 - wkst) % 7);
        Ok(Self {
            canonical: parts.canonical(),
            start_date: start,
            freq,
            interval: interval.max(1),
            start: start_n,
            start_year: i64::from(start.year()),
            start_month: i64::from(start.year()) * 12 + i64::from(start.month0()),
            start_week,
            wkst,
            months,
            month_days,
            year_days,
            week_nos,
            by_day,
            weekdays,
            numbered,
            numbered_in_month: freq == Freq::Monthly || parts.by_month.is_some(),
            set_pos,
            times,
            until: parts
                .until
                .as_ref()
                .map(|p| (day_number(p.value.date), p.value.second)),
            last: None,
        })
    }

    /// The first and last day of period `k` (none past the calendar).
    fn period_bounds(&self, k: i64) -> Option<(i64, i64)> {
        let step = k.checked_mul(self.interval)?;
        match self.freq {
            Freq::Yearly => {
                let y = i32::try_from(self.start_year.checked_add(step)?).ok()?;
                let first = NaiveDate::from_ymd_opt(y, 1, 1)?;
                let last = NaiveDate::from_ymd_opt(y, 12, 31)?;
                Some((day_number(first), day_number(last)))
            }
            Freq::Monthly => {
                let m = self.start_month.checked_add(step)?;
                let y = i32::try_from(m.div_euclid(12)).ok()?;
                let month = u32::try_from(m.rem_euclid(12)).ok()? + 1;
                let first = day_number(NaiveDate::from_ymd_opt(y, month, 1)?);
                Some((first, first + i64::from(month_len(y, month)) - 1))
            }
            Freq::Weekly => {
                let first = self.start_week.checked_add(step.checked_mul(7)?)?;
                from_day_number(first).or_else(|| from_day_number(first + 6))?;
                Some((first, first + 6))
            }
            _ => {
                let day = self.start.checked_add(step)?;
                from_day_number(day)?;
                Some((day, day))
            }
        }
    }

    /// The period that holds day `n` (on or after the start), or the last one before it.
    fn period_of(&self, n: i64) -> i64 {
        let Some(date) = from_day_number(n) else { return 0 };
        let passed = match self.freq {
            Freq::Yearly => i64::from(date.year()) - self.start_year,
            Freq::Monthly => i64::from(date.year()) * 12 + i64::from(date.month0()) - self.start_month,
            Freq::Weekly => (n - self.start_week).div_euclid(7),
            _ => n - self.start,
        };
        passed.div_euclid(self.interval).max(0)
    }

    /// Whether a date passes the rule's BYxxx filters.
    fn matches(&self, d: NaiveDate) -> bool {
        let (year, month, mday) = (d.year(), d.month(), d.day());
        if self.months != 0 && self.months & (1 << month) == 0 {
            return false;
        }
        let mlen = month_len(year, month);
        if !self.month_days.is_empty() && !self.month_days.has(mday, mlen) {
            return false;
        }
        let (yday, ylen) = (d.ordinal(), if is_leap(year) { 366 } else { 365 });
        if !self.year_days.is_empty() && !self.year_days.has(yday, ylen) {
            return false;
        }
        if !self.week_nos.is_empty() && !self.week_no(d).is_some_and(|(w, len)| self.week_nos.has(w, len)) {
            return false;
        }
        if self.by_day {
            let wd = d.weekday().num_days_from_monday();
            if self.weekdays & (1 << wd) == 0 {
                let (i, len) = if self.numbered_in_month {
                    (mday, mlen)
                } else {
                    (yday, ylen)
                };
                // The how-manieth of its weekday it is, from the front and from the back.
                let numbered = &self.numbered[wd as usize];
                if !numbered.front.has((i - 1) / 7 + 1) && !numbered.back.has((len - i) / 7 + 1) {
                    return false;
                }
            }
        }
        true
    }

    /// The week number of `d` (weeks start on WKST; week 1 holds at least four days of its
    /// year) and the number of weeks of its week-numbering year.
    fn week_no(&self, d: NaiveDate) -> Option<(u32, u32)> {
        let week_one = |y: i32| -> Option<i64> {
            let jan4 = NaiveDate::from_ymd_opt(y, 1, 4)?;
            Some(day_number(jan4) - i64::from((jan4.weekday().num_days_from_monday() + 7 - self.wkst) % 7))
        };
        let (n, y) = (day_number(d), d.year());
        let this = week_one(y)?;
        let (first, next) = if n < this {
            (week_one(y - 1)?, this)
        } else {
            let following = week_one(y + 1)?;
            if n >= following {
                (following, week_one(y + 2)?)
            } else {
                (this, following)
            }
        };
        Some((
            u32::try_from((n - first) / 7 + 1).ok()?,
            u32::try_from((next - first) / 7).ok()?,
        ))
    }

    /// Whether the instant at second `t` of day `n` is within DTSTART and UNTIL.
    fn within(&self, n: i64, t: u32) -> bool {
        (n > self.start || (n == self.start && t >= NOON))
            && self.until.is_none_or(|(u, s)| n < u || (n == u && t <= s))
    }

    /// The instants of day `n` (all its times) within DTSTART and UNTIL.
    fn kept(&self, n: i64) -> u64 {
        let lo = if n == self.start { NOON } else { 0 };
        let hi = match self.until {
            Some((u, s)) if n == u => s,
            _ => DAY,
        };
        if n < self.start || self.until.is_some_and(|(u, _)| n > u) {
            return 0;
        }
        let below = |x: u32| self.times.partition_point(|&t| t < x);
        let upto = self.times.partition_point(|&t| t <= hi);
        u64::try_from(upto.saturating_sub(below(lo))).unwrap_or(0)
    }

    /// Period `k`'s instants within DTSTART and UNTIL into `out` (`days`: scratch); `None`
    /// past the calendar, else the period's first day.
    fn period(&self, k: i64, (out, days): &mut (Instants, Vec<i64>)) -> Option<i64> {
        let (first, last) = self.period_bounds(k)?;
        out.clear();
        days.clear();
        // The first week's set starts at DTSTART (as dateutil and the rrule crate count
        // BYSETPOS in it); a month's or a year's is whole, days before DTSTART included.
        let from = if self.freq == Freq::Weekly && k == 0 {
            self.start
        } else {
            first
        };
        for n in from..=last {
            if from_day_number(n).is_some_and(|d| self.matches(d)) {
                days.push(n);
            }
        }
        if self.set_pos.is_empty() {
            out.extend(days.iter().map(|&n| (n, self.kept(n))).filter(|&(_, c)| c > 0));
        } else {
            let per_day = self.times.len() as u64;
            let all = days.len() as u64 * per_day;
            for i in pick_positions(all, &self.set_pos) {
                let (Some(&n), Some(&t)) = (
                    days.get(usize::try_from(i / per_day).unwrap_or(usize::MAX)),
                    self.times.get(usize::try_from(i % per_day).unwrap_or(usize::MAX)),
                ) else {
                    continue;
                };
                if self.within(n, t) {
                    match out.last_mut() {
                        Some((m, c)) if *m == n => *c += 1,
                        _ => out.push((n, 1)),
                    }
                }
            }
        }
        Some(first)
    }

    /// Periods in the calendar's cycle (the rule's periods repeat after this many), and
    /// the days between a period and the one a cycle later.
    fn cycle(&self) -> (i64, i64) {
        let periods = match self.freq {
            Freq::Yearly => 400,
            Freq::Monthly => 4800,
            Freq::Weekly => 20_871,
            _ => CYCLE_DAYS,
        };
        let g = gcd(self.interval, periods);
        (periods / g, (self.interval / g).saturating_mul(CYCLE_DAYS))
    }

    /// The first day it occurs on (none: never, within the calendar and UNTIL).
    fn first(&self, scratch: &mut (Instants, Vec<i64>)) -> Option<i64> {
        let (cycle, _) = self.cycle();
        // Period 0 (cut by DTSTART), then one whole cycle: later periods repeat those.
        for k in 0..=cycle {
            let first = self.period(k, scratch)?;
            if let Some(&(n, _)) = scratch.0.first() {
                return Some(n);
            }
            if self.until.is_some_and(|(u, _)| first > u) {
                return None;
            }
        }
        None
    }

    /// The day of the `count`th instant (none: the rule has fewer, or not within the
    /// calendar), without walking more than one cycle of periods.
    fn count_end(&self, count: u64, scratch: &mut (Instants, Vec<i64>)) -> Option<i64> {
        let (cycle, shift) = self.cycle();
        let mut seen = 0u64;
        let mut in_first = 0u64;
        for k in 0..=cycle {
            self.period(k, scratch)?;
            for &(n, c) in &scratch.0 {
                if seen + c >= count {
                    return Some(n);
                }
                seen += c;
            }
            if k == 0 {
                in_first = seen;
            }
        }
        // Every later cycle of periods has as many instants as periods 1..=cycle.
        let per_cycle = seen - in_first;
        if per_cycle == 0 {
            return None;
        }
        let left = count - seen;
        let skipped = (left - 1) / per_cycle;
        let mut wanted = left - skipped * per_cycle;
        let offset = i64::try_from(u128::from(skipped + 1) * u128::try_from(shift).ok()?).ok()?;
        for k in 1..=cycle {
            self.period(k, scratch)?;
            for &(n, c) in &scratch.0 {
                if c >= wanted {
                    let day = n.checked_add(offset)?;
                    return from_day_number(day).map(|_| day);
                }
                wanted -= c;
            }
        }
        None
    }

    /// The dates from `from` to `to`, inclusive, in order: from the period that holds
    /// `from`, never from the start.
    fn dates(&self, from: NaiveDate, to: NaiveDate) -> Vec<NaiveDate> {
        let lo = day_number(from).max(self.start);
        let mut hi = day_number(to);
        if let Some((u, _)) = self.until {
            hi = hi.min(u);
        }
        if let Some(l) = self.last {
            hi = hi.min(l);
        }
        let mut out = Vec::new();
        if lo > hi {
            return out;
        }
        let mut scratch = (Vec::new(), Vec::new());
        let mut k = self.period_of(lo);
        while let Some(first) = self.period(k, &mut scratch) {
            if first > hi {
                break;
            }
            out.extend(
                scratch
                    .0
                    .iter()
                    .filter(|&&(n, _)| (lo..=hi).contains(&n))
                    .filter_map(|&(n, _)| from_day_number(n)),
            );
            let Some(next) = k.checked_add(1) else { break };
            k = next;
        }
        out
    }
}

/// The positions (from 0) BYSETPOS picks among `all` instants, in order, each once.
fn pick_positions(all: u64, set_pos: &[i64]) -> Vec<u64> {
    let mut out: Vec<u64> = set_pos
        .iter()
        .filter_map(|&p| {
            if p > 0 {
                let i = p.unsigned_abs() - 1;
                (i < all).then_some(i)
            } else {
                all.checked_sub(p.unsigned_abs())
            }
        })
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// The values of `values` that BYSETPOS `set_pos` picks (all of them without one).
fn pick(values: &[u64], set_pos: &[i64]) -> Vec<u64> {
    if set_pos.is_empty() {
        return values.to_vec();
    }
    pick_positions(values.len() as u64, set_pos)
        .into_iter()
        .filter_map(|i| values.get(usize::try_from(i).ok()?).copied())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn rule(rrule: &str, start: NaiveDate) -> StatementRule {
        StatementRule::new("s".parse().unwrap(), rrule, start)
    }

    #[test]
    fn month_ends_match_an_independent_computation() {
        // BYMONTHDAY=31 skips months without a 31st (RFC 5545); BYMONTHDAY=-1 is the last day.
        let got = rule("FREQ=MONTHLY;BYMONTHDAY=31", d(2026, 1, 1))
            .occurrences(d(2026, 1, 1), d(2026, 12, 31))
            .unwrap();
        let want: Vec<_> = (1..=12)
            .filter_map(|m| NaiveDate::from_ymd_opt(2026, m, 31))
            .collect();
        assert_eq!(got, want);
        let got = rule("FREQ=MONTHLY;BYMONTHDAY=-1", d(2026, 1, 1))
            .occurrences(d(2026, 1, 1), d(2028, 12, 31))
            .unwrap();
        let want: Vec<_> = (2026..=2028)
            .flat_map(|y| (1..=12).map(move |m| (y, m)))
            .map(|(y, m)| {
                let next = if m == 12 { d(y + 1, 1, 1) } else { d(y, m + 1, 1) };
                next.pred_opt().unwrap()
            })
            .collect();
        assert_eq!(got, want);
        assert!(got.contains(&d(2028, 2, 29)));
    }

    #[test]
    fn daily_across_the_santiago_spring_forward_night_keeps_every_date() {
        // rrule's zoned expansion drops 2026-09-06 for a daily 00:30 rule in Santiago; local
        // dates do not.
        let got = rule("FREQ=DAILY", d(2026, 9, 1))
            .occurrences(d(2026, 9, 4), d(2026, 9, 8))
            .unwrap();
        assert_eq!(got, (4..=8).map(|day| d(2026, 9, day)).collect::<Vec<_>>());
    }

    #[test]
    fn weekly_and_intervals_count_from_the_start() {
        let got = rule("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO", d(2026, 1, 5))
            .occurrences(d(2026, 1, 1), d(2026, 2, 28))
            .unwrap();
        assert_eq!(
            got,
            [d(2026, 1, 5), d(2026, 1, 19), d(2026, 2, 2), d(2026, 2, 16)]
        );
    }

    #[test]
    fn bad_rules_are_typed_errors() {
        for bad in [
            "FREQ=SOMETIMES",
            "DTSTART:20260101T000000Z",
            "FREQ=MONTHLY;BYMONTH=2;BYMONTHDAY=31",
            "FREQ=DAILY\nRRULE:FREQ=DAILY",
        ] {
            let err = rule(bad, d(2026, 1, 1))
                .occurrences(d(2026, 1, 1), d(2026, 2, 1))
                .unwrap_err();
            assert!(
                matches!(err, ValidationError::InvalidRecurrence { .. }),
                "{bad}: {err}"
            );
        }
    }

    fn compiled(rrule: &str, start: NaiveDate) -> Recurrence {
        Recurrence::new("s", rrule, start).unwrap()
    }

    /// The day of the `count`th instant, walking every period from the start.
    fn count_end_by_walking(r: &Recurrence, count: u64, periods: i64) -> Option<i64> {
        let mut scratch = (Vec::new(), Vec::new());
        let mut seen = 0;
        for k in 0..periods {
            r.period(k, &mut scratch)?;
            for &(n, c) in &scratch.0 {
                if seen + c >= count {
                    return Some(n);
                }
                seen += c;
            }
        }
        None
    }

    #[test]
    fn count_is_found_across_cycles_as_a_walk_finds_it() {
        for (rrule, periods) in [
            ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO", 40_000),
            ("FREQ=YEARLY;INTERVAL=3;BYWEEKNO=53;BYDAY=TH", 40_000),
            (
                "FREQ=MONTHLY;INTERVAL=7;BYDAY=-1FR;BYMONTHDAY=-7,-6,-5,-4,-3,-2,-1",
                40_000,
            ),
            ("FREQ=WEEKLY;INTERVAL=5;BYDAY=MO,FR;BYMONTH=2", 150_000),
            ("FREQ=DAILY;INTERVAL=13;BYMONTHDAY=13;BYDAY=FR", 1_500_000),
            ("FREQ=HOURLY;INTERVAL=6;BYMONTH=2;BYMONTHDAY=29", 1_500_000),
            ("FREQ=MONTHLY;BYDAY=MO,TU;BYHOUR=9,17;BYSETPOS=3,-1", 40_000),
        ] {
            let r = compiled(rrule, d(1999, 3, 17));
            let mut scratch = (Vec::new(), Vec::new());
            for count in [1, 2, 7, 50, 333, 1000] {
                assert_eq!(
                    r.count_end(count, &mut scratch),
                    count_end_by_walking(&r, count, periods),
                    "{rrule} COUNT={count}"
                );
            }
        }
    }

    #[test]
    fn far_windows_start_in_phase() {
        for rrule in [
            "FREQ=DAILY;INTERVAL=3",
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH;WKST=SU",
            "FREQ=MONTHLY;INTERVAL=5;BYDAY=2TU",
            "FREQ=YEARLY;INTERVAL=3;BYYEARDAY=-1,100",
            "FREQ=HOURLY;INTERVAL=72",
        ] {
            let r = compiled(rrule, d(1700, 1, 1));
            let whole = r.dates(d(1700, 1, 1), d(2030, 12, 31));
            let window: Vec<_> = whole
                .iter()
                .copied()
                .filter(|x| (d(2026, 1, 1)..=d(2030, 12, 31)).contains(x))
                .collect();
            assert!(!window.is_empty(), "{rrule}");
            assert_eq!(r.dates(d(2026, 1, 1), d(2030, 12, 31)), window, "{rrule}");
        }
    }

    #[test]
    fn the_calendar_ends_are_no_panic() {
        for rrule in [
            "FREQ=YEARLY;INTERVAL=65535",
            "FREQ=DAILY;COUNT=4294967295",
            "FREQ=WEEKLY;BYMONTH=12;COUNT=4000000000",
            "FREQ=YEARLY;BYWEEKNO=1,-1;BYDAY=MO",
        ] {
            let r = compiled(rrule, d(9999, 12, 31));
            let _ = r.dates(NaiveDate::MIN, d(-262_000, 1, 10));
            let _ = r.dates(d(262_142, 1, 1), NaiveDate::MAX);
        }
    }
}
