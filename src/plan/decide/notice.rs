//! Where a client-level notice (an account statement, a standing notice) goes: off
//! non-working days, past the client's pauses and the pauses of the items it is about, and,
//! once its send instant is gone unsent, at the first plan on a working day (a catch-up).

use chrono::NaiveDate;

use crate::model::client::Pause;
use crate::plan::SuppressReasonKind as Kind;
use crate::plan::decide::item::{ItemCtx, SendAt, paused_onto_its_day};
use crate::plan::decide::notes::ClientNotes;
use crate::plan::decide::reason::{Reason, adjustment_note};
use crate::plan::engine::small_list::SmallList;
use crate::plan::engine::{ClientCtx, ItemIx, Planner, RuleIx};
use crate::plan::event::Adjustment;
use crate::plan::schedule::{KeyRef, PauseRef};
use crate::policy::Policy;
use crate::time::Shift;

/// When a client-level event goes.
pub(crate) struct Placed {
    /// The local day it goes.
    pub(crate) goes_on: NaiveDate,
    /// At which instant.
    pub(crate) send: SendAt,
    pub(crate) adjustments: SmallList<Adjustment>,
}

/// What a client-level event cannot get past: the day it stops on, why, and the item whose
/// pause stops it ([`ItemIx::NONE`]: none).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Stop {
    pub(crate) on: NaiveDate,
    pub(crate) reason: Reason,
    pub(crate) item: ItemIx,
}

/// The day a client-level event is scheduled on, or what stops it.
pub(crate) type NoticeDay = Result<NaiveDate, Stop>;

/// Whether the items a client-level event is about hold it back on a day.
pub(crate) enum Hold<'a> {
    /// No: something it is about is not paused that day.
    Free,
    /// Each is under a pause: this pause of this item (its position in its list) ends first.
    Paused {
        item: ItemIx,
        index: usize,
        pause: &'a Pause,
    },
    /// Each is under a pause until after this day, or none counts, until this day, when
    /// another item gets there.
    Until(NaiveDate),
}

/// What holds a client-level event back beyond the client's pauses, if anything.
pub(crate) type Holds<'f, 'a> = Option<&'f dyn Fn(NaiveDate) -> Hold<'a>>;

/// The key of a client-level event: `rule/client/date`.
pub(crate) fn notice_key(cx: &ClientCtx<'_>, rule: RuleIx, date: NaiveDate) -> KeyRef {
    KeyRef::Client {
        rule,
        client: cx.index,
        date,
    }
}

/// Items that still owe money and are collected (not older than the collection start for
/// past items), in id order: what a statement lists, and what counts for the standing.
pub(crate) fn owing<'a>(
    ctxs: &'a [ItemCtx<'a>],
    policy: &'a Policy,
) -> impl Iterator<Item = &'a ItemCtx<'a>> + Clone + 'a {
    let start = policy.collection.past_items;
    ctxs.iter().filter(move |c| {
        c.status.is_pending()
            && c.balance.is_some_and(|b| b.is_positive())
            && start.is_none_or(|s| c.due.unwrap_or(c.item.issued_on) >= s)
    })
}

impl Planner {
    /// Explains the pauses that held back a client-level event, as items' moves are: each
    /// the client's, or else that of one of `items` (the items it is about).
    pub(crate) fn note_pauses(
        &self,
        cx: &ClientCtx<'_>,
        rule: RuleIx,
        key: KeyRef,
        moves: &[Adjustment],
        items: &[ItemCtx<'_>],
        out: &mut dyn ClientNotes,
    ) {
        for a in moves {
            let (Adjustment::Paused { pause, until, .. }, Some((on, reason))) = (a, adjustment_note(cx, a))
            else {
                continue;
            };
            let is = |p: &Pause| p.kind == *pause && p.until == Some(*until);
            let item = if cx.client.pauses.iter().any(is) {
                ItemIx::NONE
            } else {
                items
                    .iter()
                    .find(|c| c.item.pauses.iter().any(is))
                    .map_or(ItemIx::NONE, |c| c.index)
            };
            out.say(cx, rule, key, on, reason, item);
        }
    }

    /// When a client-level event due on `scheduled` (a working day) goes: then, at the send
    /// time; or, if that instant is gone unsent, at the first plan on a working day: now, if
    /// today is one (the event keeps its day and instant), else from the start of the next.
    pub(crate) fn client_send_day(&self, cx: &ClientCtx<'_>, scheduled: NaiveDate) -> Result<Placed, Stop> {
        let mut adjustments = SmallList::new();
        if scheduled >= cx.today {
            return Ok(Placed {
                goes_on: scheduled,
                send: SendAt::SendTime,
                adjustments,
            });
        }
        adjustments.push(Adjustment::CatchUp {
            scheduled_on: scheduled,
        });
        // No working day from today to the end of the calendar: it has no day to go on.
        let goes_on = self.calendar.shift(cx.today, Shift::Later).ok_or(Stop {
            on: cx.today,
            reason: Reason::plain(Kind::NoDayToSend),
            item: ItemIx::NONE,
        })?;
        let send = if goes_on == cx.today {
            SendAt::Missed
        } else {
            adjustments.push(Adjustment::MovedOffNonWorkingDay {
                from: cx.today,
                to: goes_on,
            });
            SendAt::DayStart
        };
        Ok(Placed {
            goes_on,
            send,
            adjustments,
        })
    }

    /// `day`, a working day, moved past what holds a client-level event back: the client's
    /// pauses with an end, and `holds` (the items the event is about, each under a pause),
    /// each move added to `moves`: the first working day nothing holds it. `Err` with the
    /// reason (and the item whose pause it is) when a pause without end, or the calendar's
    /// end, stops it.
    pub(crate) fn past_pauses(
        &self,
        cx: &ClientCtx<'_>,
        mut day: NaiveDate,
        moves: &mut SmallList<Adjustment>,
        holds: Holds<'_, '_>,
    ) -> Result<NaiveDate, Stop> {
        let calendar_end = |on| Stop {
            on,
            reason: Reason::plain(Kind::NoDayToSend),
            item: ItemIx::NONE,
        };
        // Each turn moves the day later, past a pause or to the day an item gets there: each
        // is passed at most once.
        loop {
            let (pause, item, index) = if let Some(i) = cx.client.pauses.iter().position(|p| p.is_active(day))
            {
                (&cx.client.pauses[i], ItemIx::NONE, i)
            } else {
                match holds.map_or(Hold::Free, |h| h(day)) {
                    Hold::Free => return Ok(day),
                    Hold::Until(next) => {
                        day = self.calendar.shift(next, Shift::Later).ok_or(calendar_end(day))?;
                        continue;
                    }
                    Hold::Paused { item, index, pause } => (pause, item, index),
                }
            };
            let (Some(until), Some(next)) = (pause.until, pause.until.and_then(|u| u.succ_opt())) else {
                return Err(Stop {
                    on: day,
                    reason: Reason::paused(PauseRef {
                        on_item: item.is_some(),
                        index: u32::try_from(index).unwrap_or(u32::MAX),
                    }),
                    item,
                });
            };
            moves.push(Adjustment::Paused {
                pause: pause.kind,
                until,
                from: day,
            });
            day = self.calendar.shift(next, Shift::Later).ok_or(calendar_end(day))?;
        }
    }

    /// The day a client-level event meant for `nominal` is scheduled on: moved off
    /// non-working days and past what holds it back ([`Self::past_pauses`]; the moves added
    /// to `moves`). `Err` with the day it was for and the reason when a pause without end
    /// holds it.
    pub(crate) fn notice_day(
        &self,
        cx: &ClientCtx<'_>,
        nominal: NaiveDate,
        moves: &mut SmallList<Adjustment>,
        holds: Holds<'_, '_>,
    ) -> NoticeDay {
        // No working day from it to the end of the calendar: it has no day to go on.
        let Some(shifted) = self.calendar.shift(nominal, Shift::Later) else {
            return Err(Stop {
                on: nominal,
                reason: Reason::plain(Kind::NoDayToSend),
                item: ItemIx::NONE,
            });
        };
        if cx.client.pauses.is_empty() && holds.is_none() {
            return Ok(shifted);
        }
        self.past_pauses(cx, shifted, moves, holds)
            .map_err(|s| Stop { on: shifted, ..s })
    }

    /// When a client-level event scheduled on `scheduled` goes ([`Self::client_send_day`]),
    /// a catch-up also past what holds the day it would go, naming the pauses with an end
    /// that held it back since it was scheduled. `moves` are those that brought it to
    /// `scheduled` (one a pause brought there goes at the start of that day). `Err` with the
    /// day and reason when a pause without end holds it.
    pub(crate) fn notice_placed(
        &self,
        cx: &ClientCtx<'_>,
        scheduled: NaiveDate,
        mut moves: SmallList<Adjustment>,
        holds: Holds<'_, '_>,
    ) -> Result<Placed, Stop> {
        let mut placed = self.client_send_day(cx, scheduled)?;
        if scheduled < cx.today && (!cx.client.pauses.is_empty() || holds.is_some()) {
            let mut later = SmallList::new();
            let goes_on = self
                .past_pauses(cx, placed.goes_on, &mut later, holds)
                .map_err(|s| Stop {
                    on: placed.goes_on,
                    ..s
                })?;
            if goes_on != placed.goes_on {
                placed.goes_on = goes_on;
                placed.send = SendAt::DayStart;
            } else if placed.send == SendAt::Missed && !moves.is_empty() {
                // A pause held it onto `scheduled`: it was to go at the start of that day.
                placed.send = SendAt::MissedFromDayStart;
            }
            // The catch-up, then the pauses that held it on its way to today, then its
            // moves from today.
            let mut adjustments = placed.adjustments.iter().cloned();
            moves.extend_from(adjustments.next());
            let at = moves.len();
            moves.extend_from(adjustments);
            moves.extend_from(later);
            self.name_past_holds(cx, &[], scheduled, at, &mut moves);
        } else if moves.is_empty() {
            return Ok(placed);
        } else {
            // Held back by a pause onto its day: its send instant passed during the pause, so
            // it goes at the start of that day, as a missed send does.
            placed.send = SendAt::DayStart;
            moves.extend_from(placed.adjustments.iter().cloned());
        }
        placed.adjustments = moves;
        Ok(placed)
    }

    /// The day a client-level event is scheduled on ([`Self::notice_day`]'s, whether a pause
    /// without end holds it or not) and where it goes ([`Self::notice_placed`]).
    pub(crate) fn notice_placement(
        &self,
        cx: &ClientCtx<'_>,
        day: NoticeDay,
        moves: SmallList<Adjustment>,
        holds: Holds<'_, '_>,
    ) -> (NaiveDate, Result<Placed, Stop>) {
        let scheduled = day.unwrap_or_else(|s| s.on);
        (
            scheduled,
            day.and_then(|scheduled| self.notice_placed(cx, scheduled, moves, holds)),
        )
    }
}

/// Whether a client-level event scheduled on `scheduled`, brought there by `moves`, goes
/// past the plan's horizon: after its last day, unless a pause held it onto a day whose start
/// (when it then goes, as a missed send does) is still within the horizon.
pub(crate) fn past_horizon(cx: &ClientCtx<'_>, scheduled: NaiveDate, moves: &[Adjustment]) -> bool {
    scheduled > cx.end_date && !(scheduled <= cx.sweep_end && paused_onto_its_day(moves))
}
