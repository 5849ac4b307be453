//! Where the deciding code says why an occurrence does not go: the engine keeps what falls in
//! the plan's window (as suppressed records, owned or compact alike); a look-ahead keeps
//! nothing. The deciding code neither sees the records nor the window.

use std::ops::RangeInclusive;

use chrono::NaiveDate;

use crate::plan::decide::item::ItemCtx;
use crate::plan::decide::item::Slot;
use crate::plan::decide::notice::Placed;
#[allow(unused_imports)] // (named in the docs)
use crate::plan::decide::occurrences::OccurrenceDays;
use crate::plan::decide::occurrences::occurrence_day;
use crate::plan::decide::reason::Reason;
use crate::plan::engine::{ClientCtx, ItemIx, RuleIx};
use crate::plan::event::Stage;
use crate::plan::schedule::{AccountInfo, KeyRef};
use crate::standing::ClientStanding;

/// What the deciding code tells of the occurrences it passes over.
pub(crate) trait Notes {
    /// Whether notes are kept (a look-ahead keeps none, and need not work out their days).
    fn keeps(&self) -> bool;

    /// The slot's next occurrence (`slot.next_occ` of its rule, for the item of `it`) does
    /// not go: said on `on`, for `reason`.
    fn note(&mut self, cx: &ClientCtx<'_>, it: &ItemCtx<'_>, slot: &Slot, on: NaiveDate, reason: Reason);

    /// The slot's occurrences `occurrences` (of its rule, for the item of `it`) do not go,
    /// each said on its own day (where [`OccurrenceDays`] of the slot puts it), for
    /// `reason`: as a [`Notes::note`] of each, without stepping through those not kept.
    fn note_run(
        &mut self,
        cx: &ClientCtx<'_>,
        it: &ItemCtx<'_>,
        slot: &Slot,
        occurrences: RangeInclusive<u32>,
        reason: Reason,
    );
}

/// Notes of a look-ahead: none kept (a stage held back by a lasting stop, worked out only to
/// say where the stop holds it), but the first occurrence found too late (a "due soon" past
/// its due date) and the day that is said on: the stop that held it is said there instead.
#[derive(Default)]
pub(crate) struct Unsaid {
    pub(crate) too_late: Option<(u32, NaiveDate)>,
}

impl Notes for Unsaid {
    fn keeps(&self) -> bool {
        false
    }

    fn note(&mut self, _: &ClientCtx<'_>, _: &ItemCtx<'_>, slot: &Slot, on: NaiveDate, reason: Reason) {
        if self.too_late.is_none() && reason.kind() == crate::plan::SuppressReasonKind::DueSoonAfterDue {
            self.too_late = Some((slot.next_occ, on));
        }
    }

    fn note_run(
        &mut self,
        _: &ClientCtx<'_>,
        _: &ItemCtx<'_>,
        slot: &Slot,
        occurrences: RangeInclusive<u32>,
        reason: Reason,
    ) {
        let first = *occurrences.start();
        if self.too_late.is_none()
            && !occurrences.is_empty()
            && reason.kind() == crate::plan::SuppressReasonKind::DueSoonAfterDue
        {
            if let Some(on) = occurrence_day(slot.anchor_on, slot.offset, slot.every, first) {
                self.too_late = Some((first, on));
            }
        }
    }
}

/// Notes of earlier occurrences of a rule looked at again after a later one of it went
/// (see `Planner::say_unsent_below`): only what the plans before that one went said of them
/// and still holds is passed on: a "due soon" too late (when `too_late_by` is the day the
/// later one went, on or after the due date: said not later than that day, a send that
/// found it too late), an occurrence expired (when `expired`: the rule has an expiry), and
/// one superseded by another send.
pub(crate) struct UnsentBelow<'a> {
    pub(crate) out: &'a mut dyn Notes,
    pub(crate) too_late_by: Option<NaiveDate>,
    pub(crate) expired: bool,
    /// The day the first later occurrence of the rule went: one superseded by a send on or
    /// before it was said so before it went (later, the rule had moved past it).
    pub(crate) later_went: Option<NaiveDate>,
}

impl UnsentBelow<'_> {
    /// Whether a note of `reason` dated `on` is passed on.
    fn kept(&self, on: Option<NaiveDate>, reason: Reason) -> bool {
        match reason.kind() {
            crate::plan::SuppressReasonKind::DueSoonAfterDue => self.too_late_by.is_some(),
            crate::plan::SuppressReasonKind::Expired => self.expired,
            crate::plan::SuppressReasonKind::Superseded => {
                on.zip(self.later_went).is_some_and(|(on, by)| on <= by)
            }
            _ => false,
        }
    }
}

impl Notes for UnsentBelow<'_> {
    fn keeps(&self) -> bool {
        self.out.keeps()
    }

    fn note(&mut self, cx: &ClientCtx<'_>, it: &ItemCtx<'_>, slot: &Slot, on: NaiveDate, reason: Reason) {
        if self.kept(Some(on), reason) {
            let on = self
                .too_late_by
                .filter(|_| reason.kind() == crate::plan::SuppressReasonKind::DueSoonAfterDue)
                .map_or(on, |by| on.min(by));
            self.out.note(cx, it, slot, on, reason);
        }
    }

    fn note_run(
        &mut self,
        cx: &ClientCtx<'_>,
        it: &ItemCtx<'_>,
        slot: &Slot,
        occurrences: RangeInclusive<u32>,
        reason: Reason,
    ) {
        // Each of the run is said on its own day: those kept.
        let day = |k: u32| occurrence_day(slot.anchor_on, slot.offset, slot.every, k);
        let first = *occurrences.start();
        let last = occurrences.take_while(|&k| self.kept(day(k), reason)).last();
        if let Some(last) = last {
            self.out.note_run(cx, it, slot, first..=last, reason);
        }
    }
}

/// A client-level notice that goes (a statement, a standing notice).
pub(crate) struct Notice {
    pub(crate) rule: RuleIx,
    pub(crate) stage: Stage,
    pub(crate) nominal: NaiveDate,
    /// The day it is about (a statement's date; the day the oldest item it lists put the
    /// client in the state).
    pub(crate) anchor: NaiveDate,
    /// The day it was to go.
    pub(crate) scheduled: NaiveDate,
    pub(crate) placed: Placed,
    pub(crate) mask: u8,
    pub(crate) info: AccountInfo,
}

/// What the deciding code of client-level notices (statements, standing) tells: the
/// notices that go, those that do not and why, and the client's standing today. The engine
/// records them, keeping what is said within the plan's window.
pub(crate) trait ClientNotes {
    /// The notice `key` of `rule` does not go: said on `on`, for `reason` (about one item's
    /// pause: `item`, else [`ItemIx::NONE`]).
    fn say(
        &mut self,
        cx: &ClientCtx<'_>,
        rule: RuleIx,
        key: KeyRef,
        on: NaiveDate,
        reason: Reason,
        item: ItemIx,
    );

    /// A notice goes, listing `items`.
    fn notice(&mut self, cx: &ClientCtx<'_>, notice: Notice, items: &mut dyn Iterator<Item = &ItemCtx<'_>>);

    /// The client's standing today.
    fn standing(&mut self, standing: ClientStanding);
}
