//! Why an occurrence is not sent, as the planner decides it: the public
//! [`SuppressReasonKind`] itself, with the little data the public [`SuppressReason`] is
//! written from when a host reads it (a date, a number, or a reference to a pause, a key or a
//! history entry, instead of copies of their text).
//!
//! Each move that placed a reminder (off a non-working day, past a pause, past the gap, after
//! another reminder) also says why on a day: [`adjustment_note`].
//!
//! There is one list of reasons, [`SuppressReasonKind`]: a new stop adds its variant to
//! [`SuppressReason`] and its kind, and one arm where a record is read
//! (`Inputs::reason` in `plan::schedule`), which the compiler asks for.
//!
//! [`SuppressReason`]: crate::plan::SuppressReason

use chrono::NaiveDate;

use crate::model::PauseKind;
use crate::plan::SuppressReasonKind as Kind;
use crate::plan::engine::ClientCtx;
use crate::plan::event::Adjustment;
use crate::plan::schedule::{KeyRef, PauseRef};

/// A reason, as the planner keeps it: its kind and its data, in 12 bytes. Built only by
/// the constructors below, so that each kind carries the data its public form is written from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Reason(Repr);

/// The data of a reason, by its shape; the kinds whose data has one meaning are their shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Repr {
    Plain(Kind),
    Date(Kind, NaiveDate),
    Number(Kind, u32),
    Superseded(KeyRef),
    Paused(PauseRef),
    PausedUntil(PauseKind, NaiveDate),
}

impl Reason {
    /// A reason without data: the item's status, reminders off, no recipients, already sent,
    /// nothing to list, no day to send, a rule for other kinds or client tags.
    pub(crate) const fn plain(kind: Kind) -> Reason {
        Reason(Repr::Plain(kind))
    }

    /// The item is older than the collection start `start`.
    pub(crate) const fn before_collection_start(start: NaiveDate) -> Reason {
        Reason::dated(Kind::BeforeCollectionStart, start)
    }

    /// The balance is below the rule's minimum number `index` (of its currencies).
    pub(crate) const fn below_minimum_balance(index: u32) -> Reason {
        Reason::numbered(Kind::BelowMinimumBalance, index)
    }

    /// The rule fired `count` times already.
    pub(crate) const fn count_reached(count: u32) -> Reason {
        Reason::numbered(Kind::CountReached, count)
    }

    /// The event keyed `by` went (or goes) instead.
    pub(crate) const fn superseded(by: KeyRef) -> Reason {
        Reason(Repr::Superseded(by))
    }

    /// A "due soon" reminder would go on or after the due date `due`.
    pub(crate) const fn due_soon_after_due(due: NaiveDate) -> Reason {
        Reason::dated(Kind::DueSoonAfterDue, due)
    }

    /// Moved off a non-working day to `to`.
    pub(crate) const fn moved_off_non_working_day(to: NaiveDate) -> Reason {
        Reason::dated(Kind::MovedOffNonWorkingDay, to)
    }

    /// A pause without end covers the day.
    pub(crate) const fn paused(pause: PauseRef) -> Reason {
        Reason(Repr::Paused(pause))
    }

    /// Held back by a pause of kind `pause` whose last day is `until`.
    pub(crate) const fn paused_until(pause: PauseKind, until: NaiveDate) -> Reason {
        Reason(Repr::PausedUntil(pause, until))
    }

    /// Held back by the minimum gap of `gap_days` between messages to the client.
    pub(crate) const fn deferred(gap_days: u32) -> Reason {
        Reason::numbered(Kind::Deferred, gap_days)
    }

    /// Another reminder about the item went that day: it goes on `to`.
    pub(crate) const fn after_another_reminder(to: NaiveDate) -> Reason {
        Reason::dated(Kind::AfterAnotherReminder, to)
    }

    /// Too late for a rule that drops occurrences late by more than `days`.
    pub(crate) const fn expired(days: u32) -> Reason {
        Reason::numbered(Kind::Expired, days)
    }

    /// The history entry number `entry` failed for good (`failed`) or has an unknown outcome.
    pub(crate) const fn undelivered(entry: u32, failed: bool) -> Reason {
        let kind = if failed {
            Kind::DeliveryFailed
        } else {
            Kind::OutcomeUnknown
        };
        Reason::numbered(kind, entry)
    }

    /// Whether the only keys it names (if any) are `ours`: no history entry by number, no
    /// pause.
    pub(crate) fn names_only(&self, ours: impl Fn(&KeyRef) -> bool) -> bool {
        match self.0 {
            Repr::Superseded(by) => ours(&by),
            Repr::Number(Kind::DeliveryFailed | Kind::OutcomeUnknown, _) | Repr::Paused(_) => false,
            Repr::Plain(_) | Repr::Date(..) | Repr::Number(..) | Repr::PausedUntil(..) => true,
        }
    }

    /// The same reason with each key it names replaced by `key`'s.
    pub(crate) fn with_keys(self, key: impl Fn(KeyRef) -> KeyRef) -> Reason {
        match self.0 {
            Repr::Superseded(by) => Reason(Repr::Superseded(key(by))),
            _ => self,
        }
    }

    const fn dated(kind: Kind, date: NaiveDate) -> Reason {
        Reason(Repr::Date(kind, date))
    }

    const fn numbered(kind: Kind, number: u32) -> Reason {
        Reason(Repr::Number(kind, number))
    }

    /// Its kind.
    pub(crate) const fn kind(&self) -> Kind {
        match self.0 {
            Repr::Plain(kind) | Repr::Date(kind, _) | Repr::Number(kind, _) => kind,
            Repr::Superseded(_) => Kind::Superseded,
            Repr::Paused(_) => Kind::Paused,
            Repr::PausedUntil(..) => Kind::PausedUntil,
        }
    }

    /// The date of a dated reason (collection start, due date, the day it moves to).
    pub(crate) fn date(&self) -> NaiveDate {
        match self.0 {
            Repr::Date(_, d) | Repr::PausedUntil(_, d) => d,
            _ => self.mismatch(NaiveDate::MIN),
        }
    }

    /// The number of a numbered reason (a count, a number of days, a minimum's or a history
    /// entry's position).
    pub(crate) fn number(&self) -> u32 {
        match self.0 {
            Repr::Number(_, n) => n,
            _ => self.mismatch(0),
        }
    }

    /// The key of the event that went instead.
    pub(crate) fn key(&self) -> KeyRef {
        match self.0 {
            Repr::Superseded(k) => k,
            _ => self.mismatch(KeyRef::Owned(u32::MAX)),
        }
    }

    /// The pause that covers the day.
    pub(crate) fn pause(&self) -> Option<PauseRef> {
        match self.0 {
            Repr::Paused(p) => Some(p),
            _ => self.mismatch(None),
        }
    }

    /// The kind of the pause that held it back.
    pub(crate) fn pause_kind(&self) -> PauseKind {
        match self.0 {
            Repr::PausedUntil(kind, _) => kind,
            _ => self.mismatch(PauseKind::Snooze),
        }
    }

    /// The constructors pair each kind with its data: reading other data is a bug.
    fn mismatch<T>(&self, value: T) -> T {
        debug_assert!(false, "{:?} read as other data", self);
        value
    }
}

/// The day and reason an adjustment explains a reminder on. Spacing and catch-ups explain
/// no day of their own.
pub(crate) fn adjustment_note(cx: &ClientCtx<'_>, a: &Adjustment) -> Option<(NaiveDate, Reason)> {
    Some(match a {
        Adjustment::MovedOffNonWorkingDay { from, to } => (*from, Reason::moved_off_non_working_day(*to)),
        // A pause that began before the window and still holds is explained as of now.
        Adjustment::Paused { pause, until, from } if *from < cx.window_start && *until >= cx.today => {
            (cx.today, Reason::paused_until(*pause, *until))
        }
        Adjustment::Paused { pause, until, from } => (*from, Reason::paused_until(*pause, *until)),
        // So does a deferral by the gap that began before the window (it still holds).
        Adjustment::Deferred { gap_days, from } if *from < cx.window_start => {
            (cx.today, Reason::deferred(*gap_days))
        }
        Adjustment::Deferred { gap_days, from } => (*from, Reason::deferred(*gap_days)),
        Adjustment::AfterAnotherReminder { from, to } => (*from, Reason::after_another_reminder(*to)),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every kind of the public list can be decided, and each constructor says its own kind.
    #[test]
    fn every_kind_has_a_constructor_that_says_it() {
        let day = NaiveDate::from_ymd_opt(2026, 1, 5).unwrap();
        let key = KeyRef::History(3);
        let pause = PauseRef {
            on_item: true,
            index: 0,
        };
        let plain = [
            Kind::Paid,
            Kind::Cancelled,
            Kind::Void,
            Kind::Draft,
            Kind::Completed,
            Kind::NotSettled,
            Kind::ItemRemindersOff,
            Kind::ClientRemindersOff,
            Kind::ExcludedForClient,
            Kind::NoRecipients,
            Kind::AlreadySent,
            Kind::NothingToList,
            Kind::NoDayToSend,
            Kind::NoDateToCountFrom,
            Kind::ExcludedKind,
            Kind::NotForClientTags,
        ];
        let mut decided: Vec<(Reason, Kind)> = plain.iter().map(|&k| (Reason::plain(k), k)).collect();
        decided.extend([
            (Reason::before_collection_start(day), Kind::BeforeCollectionStart),
            (Reason::below_minimum_balance(1), Kind::BelowMinimumBalance),
            (Reason::count_reached(2), Kind::CountReached),
            (Reason::superseded(key), Kind::Superseded),
            (Reason::due_soon_after_due(day), Kind::DueSoonAfterDue),
            (
                Reason::moved_off_non_working_day(day),
                Kind::MovedOffNonWorkingDay,
            ),
            (Reason::paused(pause), Kind::Paused),
            (Reason::paused_until(PauseKind::Promise, day), Kind::PausedUntil),
            (Reason::deferred(4), Kind::Deferred),
            (Reason::after_another_reminder(day), Kind::AfterAnotherReminder),
            (Reason::expired(5), Kind::Expired),
            (Reason::undelivered(6, true), Kind::DeliveryFailed),
            (Reason::undelivered(6, false), Kind::OutcomeUnknown),
        ]);
        for (reason, kind) in &decided {
            assert_eq!(reason.kind(), *kind, "{reason:?}");
        }
        for kind in Kind::ALL {
            assert!(decided.iter().any(|(_, k)| k == kind), "{kind} cannot be decided");
        }
        assert_eq!(Reason::superseded(key).key(), key);
        assert_eq!(Reason::paused(pause).pause(), Some(pause));
        assert_eq!(
            Reason::paused_until(PauseKind::Promise, day).pause_kind(),
            PauseKind::Promise
        );
        assert_eq!(Reason::paused_until(PauseKind::Promise, day).date(), day);
        assert_eq!(Reason::expired(5).number(), 5);
        assert_eq!(Reason::after_another_reminder(day).date(), day);
    }
}
