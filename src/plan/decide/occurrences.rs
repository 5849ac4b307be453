//! Where a rule's occurrences fall for one item, and the stage of collection a day is in.

use chrono::{Days, NaiveDate};

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
