//! Where the deciding code says why an occurrence does not go: the engine keeps what falls in
//! the plan's window (as suppressed records, owned or compact alike); a look-ahead keeps
//! nothing. The deciding code neither sees the records nor the window.

use chrono::NaiveDate;

use crate::plan::decide::item::ItemCtx;
use crate::plan::decide::item::Slot;
use crate::plan::decide::reason::Reason;
use crate::plan::engine::ClientCtx;

/// What the deciding code tells of the occurrences it passes over.
pub(crate) trait Notes {
    /// Whether notes are kept (a look-ahead keeps none, and need not work out their days).
    fn keeps(&self) -> bool;

    /// The slot's next occurrence (`slot.next_occ` of its rule, for the item of `it`) does
    /// not go: said on `on`, for `reason`.
    fn note(&mut self, cx: &ClientCtx<'_>, it: &ItemCtx<'_>, slot: &Slot, on: NaiveDate, reason: Reason);
}

/// Notes of a look-ahead: none kept (a stage held back by a lasting stop, worked out only to
/// say where the stop holds it).
pub(crate) struct Unsaid;

impl Notes for Unsaid {
    fn keeps(&self) -> bool {
        false
    }

    fn note(&mut self, _: &ClientCtx<'_>, _: &ItemCtx<'_>, _: &Slot, _: NaiveDate, _: Reason) {}
}
