//! Time zones, local send times and the business calendar.
//!
//! Every reminder has a local send date in the client's time zone and a local send time.
//! [`local_instant`] turns the pair into a UTC instant following RFC 5545: a local time inside
//! a daylight-saving gap is read with the offset in force before the gap (02:30 on a
//! spring-forward night becomes 03:30), and in an overlap the earlier instant wins.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use chrono::{
    DateTime, Datelike, Days, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone as _, Utc, Weekday,
};
use chrono_tz::Tz;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::ValidationError;

/// An IANA time zone, such as `America/Santiago`.
///
/// Serialized as its name. The host's local time zone is never used by this crate: every
/// zone is named.
///
/// # Example
/// ```
/// use dunning::TimeZone;
/// let tz: TimeZone = "Europe/Madrid".parse()?;
/// assert_eq!(tz.name(), "Europe/Madrid");
/// assert!("Mars/Olympus".parse::<TimeZone>().is_err());
/// # Ok::<(), dunning::ValidationError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimeZone(Tz);

impl TimeZone {
    /// UTC.
    pub const UTC: TimeZone = TimeZone(Tz::UTC);

    /// Looks a zone up by its IANA name.
    ///
    /// # Errors
    /// [`ValidationError::UnknownTimeZone`] naming the value and the field `time_zone` (a
    /// loader names the value's path instead, `clients[0].time_zone`).
    ///
    /// ```
    /// use dunning::TimeZone;
    /// let err = TimeZone::from_name("Mars/Base").unwrap_err();
    /// assert_eq!(err.to_string(), "time_zone: unknown time zone \"Mars/Base\"");
    /// ```
    pub fn from_name(name: &str) -> Result<Self, ValidationError> {
        name.parse::<Tz>()
            .map(TimeZone)
            .map_err(|_| ValidationError::UnknownTimeZone {
                field: "time_zone".to_owned(),
                value: name.to_owned(),
            })
    }

    /// The IANA name.
    #[must_use]
    pub fn name(&self) -> &'static str {
        self.0.name()
    }

    /// The chrono-tz zone.
    #[must_use]
    pub fn tz(&self) -> Tz {
        self.0
    }

    /// The local calendar date at instant `at` in this zone.
    #[must_use]
    pub fn local_date(&self, at: DateTime<Utc>) -> NaiveDate {
        let utc = at.naive_utc();
        let offset = self.0.offset_from_utc_datetime(&utc).fix();
        // At the ends of time the local date is past what dates hold: the end it is past.
        utc.checked_add_offset(offset).map_or_else(
            || {
                if offset.local_minus_utc() < 0 {
                    NaiveDate::MIN
                } else {
                    NaiveDate::MAX
                }
            },
            |local| local.date(),
        )
    }
}

/// Local dates of many instants, memoized per zone and UTC day: one zone lookup (a binary
/// search of its transitions) serves every instant of a UTC day on which the zone's offset
/// does not change; on a day with a transition each instant is looked up on its own. The
/// memo is a table of a few thousand days, each slot holding the day's offset and the three
/// local dates its instants can fall on, so an instant's date is read without converting it.
#[derive(Debug, Default)]
pub(crate) struct LocalDates {
    slots: Vec<Option<LocalDay>>,
}

#[derive(Debug, Clone, Copy)]
struct LocalDay {
    tz: TimeZone,
    /// Days since 1970-01-01, in UTC.
    day: i64,
    /// The zone's offset all that day, if it does not change.
    offset: Option<i32>,
    /// The local dates of the day before, the day and the day after.
    dates: [NaiveDate; 3],
}

/// The memo's size: 4096 days (5 zones over two years fit).
const LOCAL_DAYS_BITS: u32 = 12;

impl LocalDates {
    /// The local date at `at` in `tz`, the same as [`TimeZone::local_date`].
    #[cfg(test)]
    pub(crate) fn date(&mut self, tz: TimeZone, at: DateTime<Utc>) -> NaiveDate {
        self.date_at(tz, at.timestamp())
    }

    /// The local date at `secs` seconds after 1970-01-01 UTC in `tz` (as
    /// [`TimeZone::local_date`] reads the instant).
    pub(crate) fn date_at(&mut self, tz: TimeZone, secs: i64) -> NaiveDate {
        use std::hash::BuildHasher as _;
        let (day, in_day) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
        if self.slots.is_empty() {
            self.slots = vec![None; 1 << LOCAL_DAYS_BITS];
        }
        let hash = rustc_hash::FxBuildHasher.hash_one((tz, day));
        let at_slot = usize::try_from(hash >> (64 - LOCAL_DAYS_BITS)).unwrap_or(0);
        let entry = match self.slots.get(at_slot).copied().flatten() {
            Some(e) if e.tz == tz && e.day == day => e,
            _ => {
                let e = LocalDay::of(tz, day);
                if let Some(slot) = self.slots.get_mut(at_slot) {
                    *slot = Some(e);
                }
                e
            }
        };
        // An offset is less than a day: the local date is the UTC day's, or one either side.
        let side = entry
            .offset
            .map(|o| (in_day + i64::from(o)).div_euclid(86_400) + 1)
            .and_then(|k| usize::try_from(k).ok());
        match side.and_then(|k| entry.dates.get(k)) {
            Some(&date) => date,
            None => tz.local_date(DateTime::from_timestamp(secs, 0).unwrap_or(DateTime::<Utc>::MIN_UTC)),
        }
    }
}

impl LocalDay {
    fn of(tz: TimeZone, day: i64) -> Self {
        let offset_at = |s: i64| {
            DateTime::from_timestamp(s, 0).map(|t| tz.0.offset_from_utc_datetime(&t.naive_utc()).fix())
        };
        let offset = match (offset_at(day * 86_400), offset_at(day * 86_400 + 86_399)) {
            (Some(a), Some(b)) if a == b => Some(a.local_minus_utc()),
            _ => None,
        };
        let date = |k: i64| DateTime::from_timestamp((day + k) * 86_400, 0).map(|t| t.date_naive());
        match (date(-1), date(0), date(1)) {
            (Some(a), Some(b), Some(c)) => LocalDay {
                tz,
                day,
                offset,
                dates: [a, b, c],
            },
            // At the ends of time: every instant looked up on its own.
            _ => LocalDay {
                tz,
                day,
                offset: None,
                dates: [NaiveDate::MIN; 3],
            },
        }
    }
}

impl From<Tz> for TimeZone {
    fn from(tz: Tz) -> Self {
        TimeZone(tz)
    }
}

impl fmt::Display for TimeZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Debug for TimeZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for TimeZone {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_name(s)
    }
}

impl Serialize for TimeZone {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for TimeZone {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        Self::from_name(&name).map_err(crate::error::de_error)
    }
}

/// The UTC instant of local `date` at local `time` in `tz`.
///
/// In a daylight-saving gap the local time is read with the offset in force before the gap
/// (RFC 5545), so it lands as far after the gap's start as it was meant to be; in an overlap
/// the earlier of the two instants is taken.
///
/// # Example
/// ```
/// use chrono::{NaiveDate, NaiveTime};
/// use dunning::{local_instant, TimeZone};
/// let madrid = TimeZone::from_name("Europe/Madrid")?;
/// // 2026-03-29 02:30 does not exist in Madrid: it is read as 03:30 CEST.
/// let at = local_instant(
///     madrid,
///     NaiveDate::from_ymd_opt(2026, 3, 29).unwrap(),
///     NaiveTime::from_hms_opt(2, 30, 0).unwrap(),
/// );
/// assert_eq!(at.to_rfc3339(), "2026-03-29T01:30:00+00:00");
/// # Ok::<(), dunning::ValidationError>(())
/// ```
///
/// At the ends of chrono's calendar, where the local time has no UTC instant, the instant
/// saturates to [`DateTime::<Utc>::MIN_UTC`] or [`DateTime::<Utc>::MAX_UTC`].
#[must_use]
pub fn local_instant(tz: TimeZone, date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    let local = date.and_time(time);
    // Past the ends of time: the end it is past.
    let saturated = || {
        if date.year() < 0 {
            DateTime::<Utc>::MIN_UTC
        } else {
            DateTime::<Utc>::MAX_UTC
        }
    };
    let with = |offset: chrono::FixedOffset| {
        local
            .checked_sub_offset(offset)
            .map_or_else(saturated, |utc| utc.and_utc())
    };
    // The offset in force at `at` (UTC), when `at` is an instant chrono holds.
    let offset_at = |at: NaiveDateTime| {
        (DateTime::<Utc>::MIN_UTC.naive_utc()..=DateTime::<Utc>::MAX_UTC.naive_utc())
            .contains(&at)
            .then(|| tz.0.offset_from_utc_datetime(&at).fix())
    };
    match tz.0.from_local_datetime(&local) {
        chrono::LocalResult::Single(t) => with(t.offset().fix()),
        chrono::LocalResult::Ambiguous(a, b) => with(a.offset().fix()).min(with(b.offset().fix())),
        chrono::LocalResult::None => {
            // A gap: use the offset in force a day before (no zone changes twice in a day).
            let Some(before) = local.checked_sub_signed(chrono::Duration::days(1)) else {
                return offset_at(local).map_or_else(saturated, with);
            };
            let offset = match tz.0.from_local_datetime(&before) {
                chrono::LocalResult::Single(t) => Some(t.offset().fix()),
                chrono::LocalResult::Ambiguous(a, _) => Some(a.offset().fix()),
                chrono::LocalResult::None => offset_at(before),
            };
            offset.map_or_else(saturated, with)
        }
    }
}

/// Which way a reminder moves when it lands on a non-working day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Shift {
    /// To the previous working day (reminders before the due date).
    Earlier,
    /// To the next working day (every other reminder).
    Later,
}

crate::names::names!(Shift, "shift" {
    Earlier => "earlier",
    Later => "later",
});

/// Non-working weekdays and holiday dates.
///
/// A reminder that lands on a non-working day moves: reminders before a due date to the
/// previous working day, others to the next.
///
/// # Example
/// ```
/// use chrono::{NaiveDate, Weekday};
/// use dunning::{BusinessCalendar, Shift};
/// let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
/// let cal = BusinessCalendar::new([Weekday::Sat, Weekday::Sun], [d(9, 18)]);
/// // Friday 18 September 2026 is a holiday in Chile.
/// assert_eq!(cal.shift(d(9, 18), Shift::Later), Some(d(9, 21)));
/// assert_eq!(cal.shift(d(9, 18), Shift::Earlier), Some(d(9, 17)));
/// assert_eq!(cal.shift(d(9, 17), Shift::Later), Some(d(9, 17)));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BusinessCalendar {
    /// Weekdays when nothing is sent, e.g. `["Sat", "Sun"]`.
    pub non_working_weekdays: Vec<Weekday>,
    /// Dates when nothing is sent.
    pub holidays: BTreeSet<NaiveDate>,
}

impl BusinessCalendar {
    /// A calendar from non-working weekdays and holidays.
    #[must_use]
    pub fn new(
        non_working_weekdays: impl IntoIterator<Item = Weekday>,
        holidays: impl IntoIterator<Item = NaiveDate>,
    ) -> Self {
        let mut non_working_weekdays: Vec<Weekday> = non_working_weekdays.into_iter().collect();
        non_working_weekdays.sort_by_key(Weekday::num_days_from_monday);
        non_working_weekdays.dedup();
        Self {
            non_working_weekdays,
            holidays: holidays.into_iter().collect(),
        }
    }

    /// Whether reminders may be sent on `date`.
    #[must_use]
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        !self.non_working_weekdays.contains(&date.weekday()) && !self.holidays.contains(&date)
    }

    /// Checks that at least one weekday is a working day.
    ///
    /// # Errors
    /// [`ValidationError::NoWorkingDay`].
    pub fn validate(&self) -> Result<(), ValidationError> {
        let all = [
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
            Weekday::Sat,
            Weekday::Sun,
        ];
        if all.iter().all(|d| self.non_working_weekdays.contains(d)) {
            return Err(ValidationError::NoWorkingDay);
        }
        Ok(())
    }

    /// `date` if it is a working day, else the nearest working day in direction `shift`.
    /// `None` only when no working day exists in that direction before the end of chrono's
    /// calendar (a calendar without working weekdays, which [`validate`](Self::validate)
    /// refuses).
    #[must_use]
    pub fn shift(&self, date: NaiveDate, shift: Shift) -> Option<NaiveDate> {
        CompiledCalendar::new(self).shift(date, shift)
    }
}

/// A calendar in the form the planner uses: a weekday mask and a sorted holiday list.
#[derive(Debug, Clone, Default)]
pub(crate) struct CompiledCalendar {
    weekday_mask: u8,
    holidays: Vec<NaiveDate>,
    /// Where each day of the years from `table_year` on moves, earlier and later, at
    /// `(year - table_year) * 366 + day of the year` (a date's year and ordinal are read
    /// straight from its packed form, where a day count would be worked out). Covers the years of the
    /// holidays and a week either side; outside, only weekdays matter.
    table_year: i32,
    table: Vec<(Option<NaiveDate>, Option<NaiveDate>)>,
}

/// The longest span of holidays worth a table of every day in it (20 years).
const TABLE_DAYS: i32 = 20 * 366;

impl CompiledCalendar {
    pub(crate) fn new(cal: &BusinessCalendar) -> Self {
        let weekday_mask = cal
            .non_working_weekdays
            .iter()
            .fold(0u8, |m, d| m | (1 << d.num_days_from_monday()));
        Self {
            weekday_mask,
            holidays: cal.holidays.iter().copied().collect(),
            table_year: 0,
            table: Vec::new(),
        }
    }

    /// A calendar that shifts days by table lookup where holidays are: for planners, which
    /// shift millions of days.
    pub(crate) fn tabled(cal: &BusinessCalendar) -> Self {
        let mut compiled = Self::new(cal);
        let week = Days::new(7);
        let span = compiled
            .holidays
            .first()
            .and_then(|f| f.checked_sub_days(week))
            .zip(compiled.holidays.last().and_then(|l| l.checked_add_days(week)));
        if let Some((first, last)) = span {
            let (y0, y1) = (first.year(), last.year());
            if (y1 - y0 + 1) * 366 <= TABLE_DAYS {
                compiled.table = (y0..=y1)
                    .flat_map(|y| (1..=366).map(move |o| NaiveDate::from_yo_opt(y, o)))
                    .map(|d| {
                        d.map_or((None, None), |d| {
                            (compiled.walk(d, Shift::Earlier), compiled.walk(d, Shift::Later))
                        })
                    })
                    .collect();
                compiled.table_year = y0;
            }
        }
        compiled
    }

    pub(crate) fn is_working_day(&self, date: NaiveDate) -> bool {
        self.weekday_mask & (1 << date.weekday().num_days_from_monday()) == 0
            && (self.holidays.is_empty() || self.holidays.binary_search(&date).is_err())
    }

    #[inline(always)]
    pub(crate) fn shift(&self, date: NaiveDate, shift: Shift) -> Option<NaiveDate> {
        let at = (date.year() - self.table_year) * 366 + date.ordinal0() as i32;
        let entry = usize::try_from(at).ok().and_then(|i| self.table.get(i));
        match (entry, shift) {
            (Some((earlier, _)), Shift::Earlier) => *earlier,
            (Some((_, later)), Shift::Later) => *later,
            (None, _) => self.walk(date, shift),
        }
    }

    /// The first holiday after `date`, if any.
    pub(crate) fn next_holiday_after(&self, date: NaiveDate) -> Option<NaiveDate> {
        let i = self.holidays.partition_point(|&h| h <= date);
        self.holidays.get(i).copied()
    }

    /// Day by day to the first working day.
    fn walk(&self, date: NaiveDate, shift: Shift) -> Option<NaiveDate> {
        if self.weekday_mask == 0x7f {
            return None;
        }
        let mut d = date;
        // Some weekday works, so every week has a working day unless a holiday takes it: a
        // run of closed days spans at most a week per holiday, and a week more. The walk
        // ends at the first working day, or at the end of the calendar (`None`: there is
        // none that way).
        let bound = self.holidays.len().saturating_add(2).saturating_mul(7);
        for _ in 0..=bound {
            if self.is_working_day(d) {
                return Some(d);
            }
            d = match shift {
                Shift::Earlier => d.checked_sub_days(Days::new(1))?,
                Shift::Later => d.checked_add_days(Days::new(1))?,
            };
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }
    fn t(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }
    fn tz(name: &str) -> TimeZone {
        TimeZone::from_name(name).unwrap()
    }

    #[test]
    fn memoized_local_dates_match_the_zone_on_every_instant() {
        let mut dates = LocalDates::default();
        let zones = [
            "America/Santiago",
            "Europe/Madrid",
            "Australia/Lord_Howe",
            "Pacific/Chatham",
            "Asia/Tokyo",
            "America/St_Johns",
            "Pacific/Kiritimati",
            "Pacific/Pago_Pago",
        ];
        let start = Utc.with_ymd_and_hms(2025, 12, 31, 0, 0, 0).unwrap().timestamp();
        // Every 7 minutes 13 seconds through 2026 and into 2027: across every transition.
        for step in 0..(400 * 24 * 60 * 60 / 433) {
            let at = DateTime::from_timestamp(start + step * 433, 0).unwrap();
            for name in zones {
                let zone = tz(name);
                assert_eq!(dates.date(zone, at), zone.local_date(at), "{name} at {at}");
            }
        }
        // Before 1970, and at the ends of time.
        for at in [
            Utc.with_ymd_and_hms(1969, 12, 31, 23, 59, 59).unwrap(),
            Utc.with_ymd_and_hms(1901, 6, 1, 10, 0, 0).unwrap(),
            DateTime::<Utc>::MIN_UTC,
            DateTime::<Utc>::MAX_UTC,
        ] {
            for name in zones {
                let zone = tz(name);
                assert_eq!(dates.date(zone, at), zone.local_date(at), "{name} at {at}");
            }
        }
    }

    #[test]
    fn plain_local_time() {
        let at = local_instant(tz("America/Santiago"), d(2026, 7, 1), t(9, 0));
        assert_eq!(at.to_rfc3339(), "2026-07-01T13:00:00+00:00"); // -04 in winter
        let at = local_instant(tz("America/Santiago"), d(2026, 12, 1), t(9, 0));
        assert_eq!(at.to_rfc3339(), "2026-12-01T12:00:00+00:00"); // -03 in summer
    }

    #[test]
    fn gap_uses_the_offset_before_it() {
        // Santiago springs forward at 2026-09-06 00:00 -04 -> 01:00 -03.
        let at = local_instant(tz("America/Santiago"), d(2026, 9, 6), t(0, 30));
        assert_eq!(at.to_rfc3339(), "2026-09-06T04:30:00+00:00"); // = 01:30 -03
        // Madrid springs forward at 2026-03-29 02:00 CET -> 03:00 CEST.
        let at = local_instant(tz("Europe/Madrid"), d(2026, 3, 29), t(2, 30));
        assert_eq!(at.to_rfc3339(), "2026-03-29T01:30:00+00:00"); // = 03:30 CEST
    }

    #[test]
    fn overlap_takes_the_earlier_instant() {
        // Madrid falls back at 2026-10-25 03:00 CEST -> 02:00 CET: 02:30 happens twice.
        let at = local_instant(tz("Europe/Madrid"), d(2026, 10, 25), t(2, 30));
        assert_eq!(at.to_rfc3339(), "2026-10-25T00:30:00+00:00"); // 02:30 CEST
        // Santiago falls back at 2026-04-05 00:00 -03 -> 2026-04-04 23:00 -04.
        let at = local_instant(tz("America/Santiago"), d(2026, 4, 4), t(23, 30));
        assert_eq!(at.to_rfc3339(), "2026-04-05T02:30:00+00:00"); // 23:30 -03
    }

    #[test]
    fn unknown_zone_is_a_typed_error() {
        assert_eq!(
            TimeZone::from_name("Mars/Olympus"),
            Err(ValidationError::UnknownTimeZone {
                field: "time_zone".into(),
                value: "Mars/Olympus".into()
            })
        );
        let err = serde_json::from_str::<TimeZone>("\"Nowhere/Else\"").unwrap_err();
        assert!(err.to_string().contains("Nowhere/Else"));
    }

    #[test]
    fn shifting_skips_weekends_and_runs_of_holidays() {
        let cal = BusinessCalendar::new([Weekday::Sat, Weekday::Sun], [d(2026, 12, 25), d(2026, 12, 28)]);
        // Fri 25 Dec holiday, weekend, Mon 28 holiday -> Tue 29.
        assert_eq!(cal.shift(d(2026, 12, 25), Shift::Later), Some(d(2026, 12, 29)));
        assert_eq!(cal.shift(d(2026, 12, 28), Shift::Earlier), Some(d(2026, 12, 24)));
        assert!(cal.is_working_day(d(2026, 12, 24)));
    }

    #[test]
    fn tabled_shifts_agree_with_walking_day_by_day() {
        let cals = [
            BusinessCalendar::new(
                [Weekday::Sat, Weekday::Sun],
                [d(2026, 12, 25), d(2026, 12, 28), d(2027, 1, 1)],
            ),
            BusinessCalendar::new([Weekday::Sun], [d(2026, 5, 1)]),
            BusinessCalendar::new([], [d(2026, 5, 1), d(2026, 5, 2)]),
            // Across a leap day and year ends.
            BusinessCalendar::new([Weekday::Sun], [d(2027, 12, 31), d(2028, 2, 29), d(2028, 12, 30)]),
            BusinessCalendar::new([Weekday::Sat, Weekday::Sun], []),
            // Holidays too far apart for a table: walked.
            BusinessCalendar::new([Weekday::Sat, Weekday::Sun], [d(2000, 1, 3), d(2040, 1, 2)]),
        ];
        for cal in &cals {
            let tabled = CompiledCalendar::tabled(cal);
            let walked = CompiledCalendar::new(cal);
            for n in -40..1200 {
                let day = d(2026, 11, 1) + chrono::Duration::days(n);
                for shift in [Shift::Earlier, Shift::Later] {
                    assert_eq!(
                        tabled.shift(day, shift),
                        walked.walk(day, shift),
                        "{day} {shift:?}"
                    );
                }
            }
        }
        assert!(!CompiledCalendar::tabled(&cals[0]).table.is_empty());
        assert!(CompiledCalendar::tabled(&cals[5]).table.is_empty());
    }

    #[test]
    fn a_long_run_of_closed_days_is_walked_to_its_end() {
        // Only Sundays work, and three Sundays in a row are holidays.
        let cal = BusinessCalendar::new(
            [
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Fri,
                Weekday::Sat,
            ],
            [d(2026, 3, 8), d(2026, 3, 15), d(2026, 3, 22)],
        );
        assert_eq!(cal.shift(d(2026, 3, 2), Shift::Later), Some(d(2026, 3, 29)));
        assert_eq!(cal.shift(d(2026, 3, 28), Shift::Earlier), Some(d(2026, 3, 1)));
        for compiled in [CompiledCalendar::new(&cal), CompiledCalendar::tabled(&cal)] {
            assert_eq!(compiled.shift(d(2026, 3, 9), Shift::Later), Some(d(2026, 3, 29)));
            assert_eq!(
                compiled.shift(d(2026, 3, 21), Shift::Earlier),
                Some(d(2026, 3, 1))
            );
        }
        // At the ends of the calendar there may be no working day that way.
        assert_eq!(cal.shift(NaiveDate::MAX, Shift::Later), None);
        assert_eq!(cal.shift(NaiveDate::MIN, Shift::Earlier), None);
    }

    #[test]
    fn a_calendar_without_working_days_is_refused() {
        let all = [
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
            Weekday::Sat,
            Weekday::Sun,
        ];
        let cal = BusinessCalendar::new(all, []);
        assert_eq!(cal.validate(), Err(ValidationError::NoWorkingDay));
        assert_eq!(cal.shift(d(2026, 1, 1), Shift::Later), None);
    }
}

/// Serde for times of day written `"09:00"`, or `"09:00:30"` (and `"09:00:30.25"`) when they
/// have seconds: written as short as they can be without losing any of the time, so a time
/// read back is the time written.
pub(crate) mod hhmm {
    use chrono::{NaiveTime, Timelike as _};
    use serde::{Deserialize, Deserializer, Serializer};

    /// What a time of day that cannot be read is told it should be.
    pub(crate) const EXPECTED: &str = "expected HH:MM or HH:MM:SS";

    pub(crate) fn parse(text: &str) -> Option<NaiveTime> {
        NaiveTime::parse_from_str(text, "%H:%M")
            .or_else(|_| NaiveTime::parse_from_str(text, "%H:%M:%S%.f"))
            .ok()
    }

    /// `t` written as [`parse`] reads it back.
    pub(crate) fn format(
        t: &NaiveTime,
    ) -> chrono::format::DelayedFormat<chrono::format::StrftimeItems<'static>> {
        if t.nanosecond() != 0 {
            t.format("%H:%M:%S%.f")
        } else if t.second() != 0 {
            t.format("%H:%M:%S")
        } else {
            t.format("%H:%M")
        }
    }

    pub(crate) fn serialize<S: Serializer>(t: &NaiveTime, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&format(t))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveTime, D::Error> {
        let text = String::deserialize(d)?;
        parse(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("invalid time of day {text:?}: {EXPECTED}")))
    }

    #[cfg(test)]
    mod tests {
        use chrono::NaiveTime;

        /// A time written is read back the same, seconds and fractions kept (they were cut to
        /// minutes before: a send time of 09:00:30 read back as 09:00).
        #[test]
        fn a_time_of_day_written_reads_back_the_same() {
            let times = [
                (NaiveTime::from_hms_opt(9, 0, 0).unwrap(), "09:00"),
                (NaiveTime::from_hms_opt(9, 0, 30).unwrap(), "09:00:30"),
                (
                    NaiveTime::from_hms_milli_opt(9, 0, 30, 250).unwrap(),
                    "09:00:30.250",
                ),
                (
                    NaiveTime::from_hms_nano_opt(23, 59, 59, 999_999_999).unwrap(),
                    "23:59:59.999999999",
                ),
                (
                    NaiveTime::from_hms_nano_opt(0, 0, 0, 1).unwrap(),
                    "00:00:00.000000001",
                ),
            ];
            for (t, text) in times {
                assert_eq!(super::format(&t).to_string(), text);
                assert_eq!(super::parse(text), Some(t), "{text}");
            }
            for bad in ["9", "24:00", "09:60", "09:00:00:00", "09:00.5", ""] {
                assert_eq!(super::parse(bad), None, "{bad:?}");
            }
        }
    }

    pub(crate) mod option {
        use chrono::NaiveTime;
        use serde::{Deserialize, Deserializer, Serializer};

        pub(crate) fn serialize<S: Serializer>(t: &Option<NaiveTime>, s: S) -> Result<S::Ok, S::Error> {
            match t {
                Some(t) => super::serialize(t, s),
                None => s.serialize_none(),
            }
        }

        pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveTime>, D::Error> {
            match Option::<String>::deserialize(d)? {
                None => Ok(None),
                Some(text) => super::parse(&text).map(Some).ok_or_else(|| {
                    serde::de::Error::custom(format!("invalid time of day {text:?}: {}", super::EXPECTED))
                }),
            }
        }
    }
}
