//! Where a rule's occurrences fall for one item, and the stage of collection a day is in.

use chrono::{Datelike as _, Days, NaiveDate};

use super::rule::{CompiledRule, EffRule};
use crate::model::item::{Item, ItemStatus};
use crate::plan::event::Stage;
use crate::policy::Anchor;
use crate::time::{CompiledCalendar, Shift};

/// Where a rule's occurrences fall for one item: the anchor day, the first one's offset, the
/// days between them and how many there are.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StageDays {
    pub(crate) anchor_on: NaiveDate,
    pub(crate) offset: i32,
    pub(crate) every: Option<u32>,
    pub(crate) count: u32,
}

impl StageDays {
    /// The rule's days for `item` as it applies to the client (`eff`), or `None` when the
    /// item has no day to anchor it (no due date, not settled).
    #[inline]
    pub(crate) fn of(
        rule: &CompiledRule,
        eff: &EffRule,
        item: &Item,
        due: Option<NaiveDate>,
        status: ItemStatus,
    ) -> Option<Self> {
        let anchor_on = match rule.anchor {
            Anchor::Issued => Some(item.issued_on),
            Anchor::Due => due,
            Anchor::Sent => Some(item.sent_date()),
            Anchor::Paid => status.is_settled().then(|| item.settled_date()).flatten(),
        }?;
        let every = item.reminder_every_days.or(eff.every);
        let offset = match (rule.anchor, item.reminder_every_days) {
            (Anchor::Sent, Some(e)) => i32::try_from(e).unwrap_or(i32::MAX),
            _ => eff.offset,
        };
        let count = item.reminder_count.unwrap_or(eff.count);
        Some(StageDays {
            anchor_on,
            offset,
            every: if count > 1 || rule.anchor == Anchor::Sent {
                every.or(Some(1))
            } else {
                every
            },
            count,
        })
    }

    /// The day of occurrence `occurrence` (from 1), before any move; `None` past the end of
    /// the calendar.
    #[inline]
    pub(crate) fn nominal(&self, occurrence: u32) -> Option<NaiveDate> {
        occurrence_day(self.anchor_on, self.offset, self.every, occurrence)
    }
}

/// The day of a rule's occurrence `occurrence` (from 1) before any move: `offset` days from
/// `anchor_on`, then `every` days apart; `None` past the end of the calendar.
#[inline]
pub(crate) fn occurrence_day(
    anchor_on: NaiveDate,
    offset: i32,
    every: Option<u32>,
    occurrence: u32,
) -> Option<NaiveDate> {
    let k = i64::from(occurrence.max(1) - 1);
    k.checked_mul(i64::from(every.unwrap_or(0)))
        .and_then(|step| i64::from(offset).checked_add(step))
        .and_then(|days| add_days(anchor_on, days))
}

/// Where a rule's occurrences fall, on day numbers: occurrence `j` (from 1) is on day
/// `first + (j - 1) * every` (every one on `first` when `every` is 0). Questions about a run
/// of occurrences are answered in closed form, not by stepping through them (a daily rule
/// counts up to thousands).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OccurrenceDays {
    /// The day number (days from the common era) of the first occurrence.
    first: i64,
    every: i64,
}

impl OccurrenceDays {
    /// The days of the occurrences `offset` days from `anchor_on`, then `every` apart.
    pub(crate) fn new(anchor_on: NaiveDate, offset: i32, every: Option<u32>) -> Self {
        OccurrenceDays {
            first: i64::from(anchor_on.num_days_from_ce()) + i64::from(offset),
            every: i64::from(every.unwrap_or(0)),
        }
    }

    fn number(day: NaiveDate) -> i64 {
        i64::from(day.num_days_from_ce())
    }

    /// The last occurrence on or before `day` (0: none is). Every one, `u32::MAX`, when
    /// they all fall on one day that is.
    pub(crate) fn last_on_or_before(&self, day: NaiveDate) -> u32 {
        let span = Self::number(day) - self.first;
        if span < 0 {
            0
        } else if self.every == 0 {
            u32::MAX
        } else {
            u32::try_from(span / self.every + 1).unwrap_or(u32::MAX)
        }
    }

    /// The first occurrence on or after `day` (`u32::MAX`: none is, or past 32 bits).
    pub(crate) fn first_on_or_after(&self, day: NaiveDate) -> u32 {
        let span = Self::number(day) - self.first;
        if span <= 0 {
            1
        } else if self.every == 0 {
            u32::MAX
        } else {
            u32::try_from((span + self.every - 1) / self.every + 1).unwrap_or(u32::MAX)
        }
    }
}

/// A run of a rule's repeats each spaced `every` days after the day the one before was to
/// go and moved to the next working day (the day each goes is the one before's, plus
/// `every`, shifted: `day -> shift(day + every)`), from the one on `from`: how many more
/// fall before `before` (at most `max`), and the day of the last of them (`from` if none).
///
/// Worked out in jumps, not step by step: between holidays the steps repeat with the week
/// (a step's move depends only on the weekday it lands on), so once a weekday comes round
/// again, whole cycles are skipped up to the next holiday.
pub(crate) fn spaced_run(
    calendar: &CompiledCalendar,
    from: NaiveDate,
    every: u32,
    before: NaiveDate,
    max: u32,
) -> (u32, NaiveDate) {
    let step = |d: NaiveDate| add_days(d, i64::from(every)).and_then(|d| calendar.shift(d, Shift::Later));
    let (mut count, mut day) = (0u32, from);
    // The step and day each weekday was last met at, since the last holiday passed.
    let mut seen: [Option<(u32, NaiveDate)>; 7] = [None; 7];
    let mut holiday = calendar.next_holiday_after(day);
    while count < max {
        let weekday = day.weekday().num_days_from_monday() as usize;
        if let Some((then_count, then_day)) = seen[weekday] {
            // A cycle of `period` steps advancing `advance` days: as many whole cycles as
            // stay before `before`, `max` and the next holiday (whose day a step may touch).
            let (period, advance) = (count - then_count, (day - then_day).num_days());
            let room = holiday.map_or(before, |h| h.min(before));
            let by_days = ((room - day).num_days() - 1).max(0) / advance.max(1);
            let cycles = u32::try_from(by_days)
                .unwrap_or(u32::MAX)
                .min((max - count) / period.max(1));
            if cycles > 0 {
                count += cycles * period;
                day = add_days(day, i64::from(cycles) * advance).unwrap_or(day);
                seen = [None; 7];
                continue;
            }
        }
        seen[weekday] = Some((count, day));
        let Some(next) = step(day).filter(|&n| n < before) else {
            break;
        };
        if holiday.is_some_and(|h| h <= next) {
            // Past a holiday: the week's pattern starts again after it.
            seen = [None; 7];
            holiday = calendar.next_holiday_after(next);
        }
        count += 1;
        day = next;
    }
    (count, day)
}

#[inline]
pub(crate) fn add_days(d: NaiveDate, days: i64) -> Option<NaiveDate> {
    if days >= 0 {
        d.checked_add_days(Days::new(days.unsigned_abs()))
    } else {
        d.checked_sub_days(Days::new(days.unsigned_abs()))
    }
}

#[inline]
pub(crate) fn stage_of(anchor: Anchor, send_on: NaiveDate, due: Option<NaiveDate>) -> Stage {
    match anchor {
        Anchor::Issued => Stage::Issued,
        Anchor::Sent => Stage::Pending,
        Anchor::Paid => Stage::ThankYou,
        Anchor::Due => match due.map(|d| send_on.cmp(&d)) {
            Some(std::cmp::Ordering::Less) => Stage::DueSoon,
            Some(std::cmp::Ordering::Equal) => Stage::DueToday,
            _ => Stage::Overdue,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn day(n: i64) -> Option<NaiveDate> {
        NaiveDate::from_num_days_from_ce_opt(i32::try_from(n).ok()?)
    }

    proptest! {
        /// The closed forms agree with stepping through the occurrences one by one.
        #[test]
        fn closed_forms_agree_with_stepping(
            anchor in 700_000i64..760_000,
            offset in -400i32..400,
            every in proptest::option::of(1u32..40),
            at in -200i64..3_000,
        ) {
            let anchor_on = day(anchor).unwrap();
            let days = OccurrenceDays::new(anchor_on, offset, every);
            let target = day(anchor + i64::from(offset) + at).unwrap();
            let count = 500u32;
            let on = |j: u32| occurrence_day(anchor_on, offset, every, j).unwrap();
            let last = (1..=count).filter(|&j| on(j) <= target).max().unwrap_or(0);
            let first = (1..=count).find(|&j| on(j) >= target).unwrap_or(u32::MAX);
            prop_assert_eq!(days.last_on_or_before(target).min(count), last);
            let closed = days.first_on_or_after(target);
            prop_assert_eq!(if closed > count { u32::MAX } else { closed }, first);
        }
    }

    proptest! {
        /// A spaced run worked out in jumps ends where stepping one repeat at a time does.
        #[test]
        fn spaced_runs_agree_with_stepping(
            start in 730_000i64..731_000,
            every in 1u32..20,
            span in 0i64..3_000,
            max in 0u32..2_000,
            weekends in proptest::collection::btree_set(0u8..7, 0..3),
            holidays in proptest::collection::btree_set(0i64..3_000, 0..40),
        ) {
            let from = day(start).unwrap();
            let calendar = crate::time::BusinessCalendar::new(
                weekends.iter().map(|&w| chrono::Weekday::try_from(w).unwrap()),
                holidays.iter().map(|&h| day(start + h).unwrap()),
            );
            let compiled = CompiledCalendar::tabled(&calendar);
            let before = day(start + span).unwrap();
            let mut stepped = (0u32, from);
            while stepped.0 < max {
                let next = add_days(stepped.1, i64::from(every)).and_then(|d| compiled.shift(d, Shift::Later));
                match next {
                    Some(n) if n < before => stepped = (stepped.0 + 1, n),
                    _ => break,
                }
            }
            prop_assert_eq!(spaced_run(&compiled, from, every, before, max), stepped);
        }
    }

    #[test]
    fn a_spaced_run_from_or_past_its_bound_is_empty() {
        let calendar = CompiledCalendar::tabled(&crate::time::BusinessCalendar::default());
        let from = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
        for before in [from, from.pred_opt().unwrap(), NaiveDate::MIN] {
            assert_eq!(spaced_run(&calendar, from, 1, before, 10), (0, from));
        }
        assert_eq!(spaced_run(&calendar, from, 1, NaiveDate::MAX, 0), (0, from));
        assert_eq!(
            spaced_run(&calendar, NaiveDate::MAX, 1, NaiveDate::MAX, 10),
            (0, NaiveDate::MAX)
        );
    }

    #[test]
    fn the_ends_of_the_calendar() {
        let days = OccurrenceDays::new(NaiveDate::MIN, 0, Some(1));
        let all = u32::try_from((NaiveDate::MAX - NaiveDate::MIN).num_days() + 1).unwrap();
        assert_eq!(days.last_on_or_before(NaiveDate::MAX), all);
        assert_eq!(days.first_on_or_after(NaiveDate::MAX), all);
        assert_eq!(days.first_on_or_after(NaiveDate::MIN), 1);
        let late = OccurrenceDays::new(NaiveDate::MAX, 10, None);
        assert_eq!(late.last_on_or_before(NaiveDate::MAX), 0);
        assert_eq!(late.first_on_or_after(NaiveDate::MAX), 1);
        let once = OccurrenceDays::new(NaiveDate::MIN, 0, None);
        assert_eq!(once.last_on_or_before(NaiveDate::MIN), u32::MAX);
        assert_eq!(once.first_on_or_after(NaiveDate::MAX), u32::MAX);
    }
}
