//! A client's standing: the debts that count (owed invoices past their due date), the
//! first day of the run of days the client has owed without a break, and its notices: one
//! on entering each state ("closing soon", "closed"), keyed by the first day of the run,
//! held back while every item that puts the client there is paused.

use chrono::{Days, NaiveDate};

use crate::model::client::ContactRole;
use crate::model::item::ItemStatus;
use crate::plan::SuppressReasonKind as Kind;
use crate::plan::decide::item::ItemCtx;
use crate::plan::decide::notes::{ClientNotes, Notice};
use crate::plan::decide::notice::{Hold, Holds, Placed, Stop, notice_key, owing, past_horizon};
use crate::plan::decide::reason::Reason;
use crate::plan::engine::account::ClientSend;
use crate::plan::engine::small_list::SmallList;
use crate::plan::engine::{ClientCtx, ItemIx, Planner};
use crate::plan::event::Stage;
use crate::plan::explain::key_date;
use crate::plan::schedule::AccountInfo;
use crate::policy::Policy;
use crate::policy::Resolved;
use crate::standing::{ClientStanding, StandingState};

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

/// An item's debt as the client's standing counts it: the days from which it keeps the
/// client at or past each threshold ("closing soon", "closed"; none: never), until the day
/// it was paid or a pause without end began (none: for good).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Debt {
    /// The first day it is overdue.
    pub(crate) overdue: Option<NaiveDate>,
    pub(crate) from: [Option<NaiveDate>; 2],
    /// The day it was paid (none: still owed).
    pub(crate) to: Option<NaiveDate>,
    /// The day a pause without end began: from then it does not count toward the standing
    /// (the run of days the client is in a state is the debt's, which the pause leaves).
    pub(crate) cut: Option<NaiveDate>,
    /// Its position among the client's items.
    pub(crate) at: usize,
}

/// Owed items that may be chased on `on`: reminders on and no pause of the item then. What
/// counts toward the client's standing.
fn chased<'a>(
    ctxs: &'a [ItemCtx<'a>],
    policy: &'a Policy,
    on: NaiveDate,
) -> impl Iterator<Item = &'a ItemCtx<'a>> + Clone + 'a {
    owing(ctxs, policy).filter(move |c| c.item.reminders && !c.item.pauses.iter().any(|p| p.is_active(on)))
}

impl Planner {
    /// The client's standing today, and its notices, from its `debts`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn standing_notices<'h>(
        &self,
        cx: &ClientCtx<'_>,
        ctxs: &[ItemCtx<'h>],
        sends: &[ClientSend<'_>],
        debts: &[Debt],
        debts_paused: bool,
        (closing_soon, closed): (u32, u32),
        out: &mut dyn ClientNotes,
    ) {
        let Some(sr) = &self.policy.standing else { return };
        let client = cx.client;
        // The days each debt keeps the client in state `k` (0: closing soon, 1: closed): until
        // paid, or (`counted`) until a pause without end takes it out.
        let spans = move |k: usize, counted: bool| {
            debts.iter().filter_map(move |d| {
                let from = d.from[k]?;
                let to = match (d.to, d.cut.filter(|_| counted)) {
                    (Some(t), Some(c)) => Some(t.min(c)),
                    (t, c) => t.or(c),
                };
                // Under a pause without end from before it got the client there: it never
                // counts toward entering the state.
                let disputed_before = d.cut.is_some_and(|c| c <= from);
                to.is_none_or(|t| from < t)
                    .then_some((from, to, &ctxs[d.at], disputed_before))
            })
        };
        // A state's run is the debt's: a dispute on the oldest item does not end it. A debt
        // under a pause without end from before it got the client there never counts toward
        // that state: the run is of the others, unless no other gets the client there (then
        // the run is the disputed debt's, held for good by its dispute, which is said).
        let runs = [0, 1].map(|k| {
            let entering = spans(k, false).filter(|s| !s.3).map(|(f, t, ..)| (f, t));
            run_start(entering, cx.today)
                .or_else(|| run_start(spans(k, false).map(|(f, t, ..)| (f, t)), cx.today))
        });
        let run = |k: usize| runs[k];
        let ids = [sr.closing_soon_id.as_str(), sr.closed_id.as_str()];
        // The days the client owes something overdue: the state clears only when that debt
        // does.
        let overdue = move || {
            debts.iter().filter_map(|d| {
                let from = d.overdue?;
                d.to.is_none_or(|t| from < t).then_some((from, d.to))
            })
        };
        // The day of a notice of state `k` that counts for its run beginning `run`: one sent
        // since, or one sent before while the client stayed overdue from the day after it to
        // the run (an item paid, cancelled or dropped since, or paid on an earlier day than
        // known then, does not make the run a new entry). One notice a run. With the first
        // day (the client's) such a notice went.
        let notice_sent = |k: usize, run: NaiveDate| -> Option<(NaiveDate, NaiveDate)> {
            // Worked out only for a client with a notice of the rule in history.
            let stayed_from = std::cell::OnceCell::new();
            let stayed_from = || {
                *stayed_from.get_or_init(|| run.pred_opt().and_then(|before| run_start(overdue(), before)))
            };
            sends
                .iter()
                .filter(|s| s.rule == ids[k])
                .filter_map(|s| {
                    let sent_on = cx.tz.local_date(s.sent_at);
                    let key_on = key_date(s.key.as_str());
                    let after = sent_on.succ_opt().unwrap_or(sent_on);
                    let counts = after >= run
                        || key_on.is_some_and(|d| d >= run)
                        || stayed_from().is_some_and(|from| from <= after);
                    counts.then_some((key_on.map_or(sent_on, |d| d.min(sent_on)), sent_on))
                })
                .reduce(|(a, x), (b, y)| (a.min(b), x.min(y)))
        };
        let notice_of =
            |k: usize, run: NaiveDate| -> Option<NaiveDate> { notice_sent(k, run).map(|(day, _)| day) };
        // Today's state: from the oldest item owed and not paused today.
        let oldest_today = chased(ctxs, &self.policy, cx.today)
            .filter_map(|c| c.due.map(|d| (d, c)))
            .min_by(|a, b| (a.0, &a.1.item.id).cmp(&(b.0, &b.1.item.id)));
        if let Some((oldest_due, oldest)) = oldest_today {
            let days_today = (cx.today - oldest_due).num_days();
            let reached = [
                (StandingState::Closed, closed),
                (StandingState::ClosingSoon, closing_soon),
            ]
            .into_iter()
            .find(|&(_, t)| days_today >= i64::from(t));
            if let Some((state, threshold)) = reached {
                let k = usize::from(state == StandingState::Closed);
                let entered = oldest_due.checked_add_days(Days::new(threshold.into()));
                out.standing(ClientStanding {
                    client: client.id.clone(),
                    state,
                    days_overdue: days_today,
                    oldest_item: oldest.item.id.clone(),
                    since: run(k)
                        .map(|r| notice_of(k, r).map_or(r, |n| n.min(r)))
                        .or(entered)
                        .unwrap_or(oldest_due),
                });
            }
        }
        // The items that put the client in state `k` on a day hold its notice back while each
        // is under a pause, until the first of their pauses ends or another item gets there.
        let holds = |k: usize, day: NaiveDate| -> Hold<'h> {
            let mut first: Option<(NaiveDate, Hold<'h>)> = None;
            for (_, _, c, _) in spans(k, true).filter(|&(f, t, ..)| f <= day && t.is_none_or(|t| day < t)) {
                let Some(index) = c.item.pauses.iter().position(|p| p.is_active(day)) else {
                    return Hold::Free;
                };
                let pause = &c.item.pauses[index];
                let ends = pause.until.unwrap_or(NaiveDate::MAX);
                if first.as_ref().is_none_or(|(e, _)| ends < *e) {
                    let item = c.index;
                    first = Some((ends, Hold::Paused { item, index, pause }));
                }
            }
            let next = spans(k, true).map(|(f, ..)| f).filter(|&f| f > day).min();
            match (first, next) {
                // Another item gets there first.
                (Some((ends, _)), Some(next)) if next <= ends => Hold::Until(next),
                (Some((_, hold)), _) => hold,
                (None, Some(next)) => Hold::Until(next),
                // Only items under a pause without end put the client there: held for good,
                // by the first's.
                (None, None) => spans(k, false)
                    .filter(|&(f, t, ..)| f <= day && t.is_none_or(|t| day < t))
                    .find_map(|(_, _, c, _)| {
                        let index = c
                            .item
                            .pauses
                            .iter()
                            .position(|p| p.until.is_none() && p.is_active(day))?;
                        let pause = &c.item.pauses[index];
                        Some(Hold::Paused {
                            item: c.index,
                            index,
                            pause,
                        })
                    })
                    .unwrap_or(Hold::Free),
            }
        };
        let closed_holds = |day| holds(1, day);
        let closing_soon_holds = |day| holds(0, day);
        // Without a pause on any item, nothing but the client's pauses holds a notice.
        let (closed_holds, closing_soon_holds): (Holds<'_, 'h>, Holds<'_, 'h>) = if debts_paused {
            (Some(&closed_holds), Some(&closing_soon_holds))
        } else {
            (None, None)
        };
        let (closing_soon_ref, closed_ref) = self.standing_refs();
        // "Closed": the run it is in, and the day its notice is (or was) scheduled on.
        let closed_run = run(1);
        let closed_day = closed_run.map(|since| {
            let mut moves = SmallList::new();
            let day = self.notice_day(cx, since, &mut moves, closed_holds);
            (
                notice_sent(1, since).map(|(_, went)| went),
                day.unwrap_or_else(|s| s.on),
            )
        });
        for (k, state, threshold, id, rule, state_holds) in [
            (
                0,
                StandingState::ClosingSoon,
                closing_soon,
                &sr.closing_soon_id,
                closing_soon_ref,
                closing_soon_holds,
            ),
            (
                1,
                StandingState::Closed,
                closed,
                &sr.closed_id,
                closed_ref,
                closed_holds,
            ),
        ] {
            let Some(since) = run(k) else { continue };
            if notice_of(k, since).is_some() {
                continue;
            }
            let key = notice_key(cx, rule, since);
            let mut moves = SmallList::new();
            let day = self.notice_day(cx, since, &mut moves, state_holds);
            let scheduled = day.unwrap_or_else(|s| s.on);
            if past_horizon(cx, scheduled, &moves) {
                // Past the horizon: what held it back is still said.
                self.note_pauses(cx, rule, key, &moves, ctxs, out);
                continue;
            }
            let (_, placement) = self.notice_placement(cx, day, moves, state_holds);
            if state == StandingState::ClosingSoon {
                let goes_on = placement.as_ref().map_or_else(|s| s.on, |p| p.goes_on);
                // "Closed" went in this run, or goes no later: "closing soon" would come too
                // late, so only "closed" is sent.
                if let (Some(closed_since), Some((closed_sent, closed_on))) = (closed_run, closed_day) {
                    if closed_since >= since && (closed_sent.is_some() || closed_on <= goes_on) {
                        // Once "closed" went, dropped for good: said as the plan of the day it
                        // went said it (on its day, or that day if its day had left that
                        // plan's lookback), not again as of each later plan's day.
                        let on = match closed_sent {
                            Some(went) if scheduled >= self.window_start_on(went) => scheduled,
                            Some(went) => went,
                            None => cx.now_or(scheduled),
                        };
                        let by = notice_key(cx, closed_ref, closed_since);
                        out.say(cx, rule, key, on, Reason::superseded(by), ItemIx::NONE);
                        continue;
                    }
                }
            }
            let resolved = Resolved::new(&self.policy, client).notice(id, true, &sr.roles);
            let mask = ContactRole::mask(resolved.roles.value);
            let block = if !Resolved::new(&self.policy, client).reminders().value {
                Some(Reason::plain(Kind::ClientRemindersOff))
            } else if resolved.switched_off() {
                Some(Reason::plain(Kind::ExcludedForClient))
            } else if !cx.contacts.iter().any(|c| mask == 0 || mask & c.role.bit() != 0) {
                Some(Reason::plain(Kind::NoRecipients))
            } else {
                None
            };
            let placed = match (block, placement) {
                (None, Ok(placed)) => placed,
                (Some(reason), Ok(Placed { goes_on: on, .. }) | Err(Stop { on, .. })) => {
                    out.say(cx, rule, key, cx.now_or(on), reason, ItemIx::NONE);
                    continue;
                }
                (None, Err(stop)) => {
                    out.say(cx, rule, key, cx.now_or(stop.on), stop.reason, stop.item);
                    continue;
                }
            };
            self.note_pauses(cx, rule, key, &placed.adjustments, ctxs, out);
            let send_on = placed.goes_on;
            let mut overdue =
                chased(ctxs, &self.policy, send_on).filter(|c| c.due.is_some_and(|d| d < send_on));
            let Some((oldest_due, oldest)) = overdue
                .clone()
                .filter_map(|c| c.due.map(|d| (d, c)))
                .min_by(|a, b| (a.0, &a.1.item.id).cmp(&(b.0, &b.1.item.id)))
            else {
                // Nothing it is about is owed and not paused that day: nothing to send.
                continue;
            };
            out.notice(
                cx,
                Notice {
                    rule,
                    stage: if state == StandingState::Closed {
                        Stage::Closed
                    } else {
                        Stage::ClosingSoon
                    },
                    nominal: since,
                    // The run began with an item paid or disputed since: the day the oldest it
                    // lists got there.
                    anchor: oldest_due
                        .checked_add_days(Days::new(threshold.into()))
                        .map_or(since, |d| d.max(since)),
                    scheduled,
                    placed,
                    mask,
                    info: AccountInfo::Standing {
                        state,
                        days_overdue: (send_on - oldest_due).num_days(),
                        oldest: oldest.index,
                        closing_soon_after_days: closing_soon,
                        closed_after_days: closed,
                    },
                },
                &mut overdue,
            );
        }
    }
}
