//! A client's standing: the debts that count (owed invoices past their due date), and the
//! first day of the run of days the client has owed without a break.

use chrono::NaiveDate;

use crate::model::item::ItemStatus;
use crate::plan::decide::item::ItemCtx;

/// An item's debt for the standing: its due date, the day it was paid (none: still owed),
/// and the day a pause without end began (an item under one does not count from then).
/// `None` when it never counts: not an invoice owed (or paid) with a due date, reminders
/// off, or older than the collection start `start`.
pub(crate) fn owed_span(
    c: &ItemCtx<'_>,
    start: Option<NaiveDate>,
) -> Option<(NaiveDate, Option<NaiveDate>, Option<NaiveDate>)> {
    let due = c.due?;
    if !c.item.reminders || start.is_some_and(|s| due < s) {
        return None;
    }
    let to = if c.status.is_pending() && c.balance.is_some_and(|b| b.is_positive()) {
        None
    } else if c.status == ItemStatus::Paid {
        Some(c.item.settled_date()?)
    } else {
        return None;
    };
    let cut = c
        .item
        .pauses
        .iter()
        .filter(|p| p.until.is_none())
        .map(|p| p.from.unwrap_or(NaiveDate::MIN))
        .min();
    Some((due, to, cut))
}

/// The first day of the run of days, each within one of `spans` (from, until before), that
/// holds `today`; if none does, of the first run after it.
pub(crate) fn run_start(
    spans: impl Iterator<Item = (NaiveDate, Option<NaiveDate>)> + Clone,
    today: NaiveDate,
) -> Option<NaiveDate> {
    let covers = |(from, to): (NaiveDate, Option<NaiveDate>), day: NaiveDate| {
        from <= day && to.is_none_or(|t| day < t)
    };
    // Most debts are still owed: with no span that ends, the run is the earliest's.
    let mut earliest: Option<NaiveDate> = None;
    let mut ends = false;
    for (from, to) in spans.clone() {
        earliest = Some(earliest.map_or(from, |e| e.min(from)));
        ends |= to.is_some();
    }
    if !ends {
        return earliest;
    }
    let mut first = spans
        .clone()
        .filter(|&s| covers(s, today))
        .map(|s| s.0)
        .min()
        .or_else(|| spans.clone().map(|s| s.0).filter(|&f| f > today).min())?;
    // Back over the spans that end where the run begins: each turn goes earlier.
    while let Some(before) = first.pred_opt() {
        match spans
            .clone()
            .filter(|&s| s.0 < first && covers(s, before))
            .map(|s| s.0)
            .min()
        {
            Some(from) => first = from,
            None => break,
        }
    }
    Some(first)
}
