//! Pauses: which one holds an item back on a day, and the note a host gave it.

use chrono::NaiveDate;

use crate::model::client::{Client, Pause, PauseKind};
use crate::model::item::Item;
use crate::plan::schedule::PauseRef;

/// The pause in force on `date` (the item's or the client's; one without end first, then the
/// latest end), and which one it is.
#[inline]
pub(crate) fn active_pause<'a>(
    item: &'a Item,
    client: &'a Client,
    date: NaiveDate,
) -> Option<(PauseRef, &'a Pause)> {
    let index = |i: usize| u32::try_from(i).unwrap_or(u32::MAX);
    item.pauses
        .iter()
        .enumerate()
        .map(|(i, p)| {
            (
                PauseRef {
                    on_item: true,
                    index: index(i),
                },
                p,
            )
        })
        .chain(client.pauses.iter().enumerate().map(|(i, p)| {
            (
                PauseRef {
                    on_item: false,
                    index: index(i),
                },
                p,
            )
        }))
        .filter(|(_, p)| p.is_active(date))
        .max_by_key(|(_, p)| (p.until.is_none(), p.until))
}

/// The note of the pause of `kind` ending on `until` (the item's, if any, else the client's).
pub(crate) fn pause_reason(
    item: Option<&Item>,
    client: &Client,
    kind: PauseKind,
    until: NaiveDate,
) -> String {
    item.map_or(&[][..], |i| i.pauses.as_slice())
        .iter()
        .chain(&client.pauses)
        .find(|p| p.kind == kind && p.until == Some(until))
        .map(|p| p.reason.clone())
        .unwrap_or_default()
}
