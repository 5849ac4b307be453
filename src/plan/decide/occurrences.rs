//! Where a rule's occurrences fall for one item, and the stage of collection a day is in.

use chrono::{Datelike as _, Days, NaiveDate};

use super::rule::{CompiledRule, EffRule};
use crate::model::item::{Item, ItemStatus};
use crate::plan::event::Stage;
use crate::policy::Anchor;

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
