//! Which of a statement rule's occurrences go for a client, and what is said of the others:
//! of the occurrences whose send instant is gone unsent only the latest goes (a catch-up),
//! superseding the older ones; one with nothing to list does not go; one that would go too
//! late expires; a pause that holds one onto the day the next goes lets the next go instead.
//! Where each goes is decided in `notice`; the engine expands the RRULE and records.

use chrono::{Days, NaiveDate};

use crate::model::client::ContactRole;
use crate::model::item::ItemStatus;
use crate::plan::SuppressReasonKind as Kind;
use crate::plan::decide::item::ItemCtx;
use crate::plan::decide::notes::{ClientNotes, Notice};
use crate::plan::decide::notice::{NoticeDay, Placed, Stop, notice_key, owing, past_horizon};
use crate::plan::decide::reason::Reason;
use crate::plan::engine::account::ClientSend;
use crate::plan::engine::small_list::SmallList;
use crate::plan::engine::{ClientCtx, ItemIx, Planner, RuleIx};
use crate::plan::event::{Adjustment, Stage};
use crate::plan::explain::{any_key_is, key_date, write_client_key};
use crate::plan::schedule::AccountInfo;
use crate::policy::Policy;
use crate::policy::Resolved;
use crate::statement::StatementRule;
use crate::time::Shift;

/// A statement rule as it applies to one client.
pub(crate) struct Statement<'p> {
    pub(crate) st: &'p StatementRule,
    pub(crate) rule: RuleIx,
    /// The client's own recurrence, if it has one.
    pub(crate) rrule: Option<&'p str>,
    /// What stops it for the client, if anything.
    block: Option<Reason>,
    mask: u8,
}

/// The items a statement of `date` lists: owed, issued by its date, overdue by `its_day` (the
/// working day it was to go, before any pause held it back) if it lists only those. A
/// statement caught up later, or held back by a pause, lists what it would have listed on
/// its day (no item issued or fallen due since: one with nothing to list then has nothing
/// to list later, in every plan). An older statement of the rule lists no more than a later
/// one.
fn statement_items<'a>(
    ctxs: &'a [ItemCtx<'a>],
    policy: &'a Policy,
    st: &'a StatementRule,
    date: NaiveDate,
    its_day: NaiveDate,
) -> impl Iterator<Item = &'a ItemCtx<'a>> + Clone + 'a {
    owing(ctxs, policy).filter(move |c| of_period(c, st, date, its_day))
}

/// Whether a statement of `date` would list the item if owed: issued by its date, overdue by
/// `its_day` if it lists only those.
fn of_period(c: &ItemCtx<'_>, st: &StatementRule, date: NaiveDate, its_day: NaiveDate) -> bool {
    c.item.issued_on <= date && (!st.overdue_only || c.due.is_some_and(|d| d < its_day))
}

/// Whether a statement of `date` had anything to list when its fate was settled (`settled`,
/// see [`Planner::settled_on`]; none while it is the latest gone unsent and could still go:
/// then what is owed now). An item it lists now was owed then; so was an invoice paid after
/// that day, and an item a later statement of the rule listed (it was owed when that one
/// went: `later` are the client's statements and standing notices in history). An invoice
/// paid on a day not known, or cancelled, that no later one listed counts as it does now,
/// not owed: every plan reads it the same way. One with nothing then is said so on its
/// date in every plan, whatever a later one lists.
#[allow(clippy::too_many_arguments)]
fn had_anything_to_list(
    ctxs: &[ItemCtx<'_>],
    policy: &Policy,
    st: &StatementRule,
    date: NaiveDate,
    its_day: NaiveDate,
    settled: Option<NaiveDate>,
    later: &[ClientSend<'_>],
) -> bool {
    if statement_items(ctxs, policy, st, date, its_day).next().is_some() {
        return true;
    }
    let Some(settled) = settled else {
        return false;
    };
    let start = policy.collection.past_items;
    let listed_later = |c: &ItemCtx<'_>| {
        later.iter().any(|x| {
            x.rule == st.id.as_str()
                && key_date(x.key.as_str()).is_some_and(|k| k > date)
                && x.items.iter().any(|i| i.item == c.item.id)
        })
    };
    ctxs.iter().any(|c| {
        of_period(c, st, date, its_day)
            && start.is_none_or(|s| c.due.unwrap_or(c.item.issued_on) >= s)
            && ((c.status == ItemStatus::Paid && c.item.settled_date().is_some_and(|paid| paid > settled))
                || listed_later(c))
    })
}

/// Says the occurrences `superseded` (date, day to explain it on) superseded by the one of
/// `date`.
fn supersede(
    cx: &ClientCtx<'_>,
    rule: RuleIx,
    superseded: impl IntoIterator<Item = (NaiveDate, NaiveDate)>,
    date: NaiveDate,
    out: &mut dyn ClientNotes,
) {
    let by = notice_key(cx, rule, date);
    for (d, on) in superseded {
        out.say(
            cx,
            rule,
            notice_key(cx, rule, d),
            on,
            Reason::superseded(by),
            ItemIx::NONE,
        );
    }
}

impl Planner {
    /// Statement rule `index` as it applies to the client, `None` when it is off for it in
    /// the policy and the client did not switch it off (nothing to say then).
    pub(crate) fn statement_for<'p>(&'p self, cx: &'p ClientCtx<'_>, index: usize) -> Option<Statement<'p>> {
        let st = self.policy.statements.get(index)?;
        let resolved = Resolved::new(&self.policy, cx.client).notice(&st.id, st.enabled, &st.roles);
        let switched_off = resolved.switched_off();
        if !resolved.enabled.value && !switched_off {
            return None;
        }
        let mask = ContactRole::mask(resolved.roles.value);
        let block = if !Resolved::new(&self.policy, cx.client).reminders().value {
            Some(Reason::plain(Kind::ClientRemindersOff))
        } else if switched_off {
            Some(Reason::plain(Kind::ExcludedForClient))
        } else if !cx.contacts.iter().any(|c| mask == 0 || mask & c.role.bit() != 0) {
            Some(Reason::plain(Kind::NoRecipients))
        } else {
            None
        };
        Some(Statement {
            st,
            rule: self.statement_ref(index),
            rrule: resolved.rrule,
            block,
            mask,
        })
    }

    /// Plans statement rule `s` for the client over its occurrences `dates` (in order),
    /// given the client's statements and standing notices in history (`sends`). `unsent` is
    /// room for the occurrences gone unsent.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn plan_statement(
        &self,
        cx: &ClientCtx<'_>,
        ctxs: &[ItemCtx<'_>],
        s: &Statement<'_>,
        sends: &[ClientSend<'_>],
        dates: &[NaiveDate],
        unsent: &mut Vec<NaiveDate>,
        out: &mut dyn ClientNotes,
    ) {
        let (st, rule, client) = (s.st, s.rule, cx.client);
        let mine = || sends.iter().filter(|s| s.rule == st.id.as_str());
        // The latest period sent (its key's date: a statement caught up later than its
        // period covers that period, not the day it went), else the day it went.
        let last_sent = mine()
            .map(|s| key_date(s.key.as_str()).unwrap_or_else(|| cx.tz.local_date(s.sent_at)))
            .max();
        // Occurrences up to today not yet sent: the latest goes (today's, or a missed one
        // on catch-up); the older ones are superseded by it.
        unsent.clear();
        let mut caught_up = false;
        // Occurrences a pause held onto the day a later one goes, as (date, day to
        // explain it on): superseded by the one that goes that day.
        let mut held_over: Vec<(NaiveDate, NaiveDate)> = Vec::new();
        // The occurrence to come before this one, planned once it is known whether this
        // one is scheduled on the same day (a pause held both): then the later one goes.
        let mut to_come: Option<(NaiveDate, NoticeDay, SmallList<Adjustment>)> = None;
        for (i, &d) in dates.iter().enumerate() {
            let mut moves = SmallList::new();
            let day = self.notice_day(cx, d, &mut moves, None);
            let scheduled = day.unwrap_or_else(|s| s.on);
            // Its send instant has come (today's only once its send time has passed: one
            // still to come today does not supersede yesterday's, missed by an early tick).
            let past = cx.send_time_gone(scheduled);
            if any_key_is(mine().map(|s| s.key.as_str()), |k| {
                write_client_key(k, &st.id, client, d)
            }) {
                continue;
            }
            // Not after the last one sent (gone, or held by a pause onto a day a later one
            // went on): no key to make. One expired when a later one went is still said
            // so, as the plan then said it.
            if last_sent.is_some_and(|l| l >= d) {
                // (Its date or its day: an expired one is said on its day, the working day
                // from its date.)
                if self.in_sight(cx, d) {
                    let next = dates.get(i + 1).copied();
                    self.said_when_a_later_went(cx, ctxs, s, sends, d, next, out);
                }
                continue;
            }
            if past {
                unsent.push(d);
                continue;
            }
            if !caught_up {
                caught_up = true;
                let next = Some((d, scheduled));
                self.statement_catch_up(cx, ctxs, s, sends, unsent, next, &mut held_over, out);
            }
            if let Some((p, p_day, p_moves)) = to_come.take() {
                if p_day.is_ok_and(|s| s == scheduled) {
                    // (Unless a pause held it past its expiry: dropped, said on its day.)
                    if !self.said_expired(cx, s, p, scheduled, out) {
                        held_over.push((p, cx.now_or(self.calendar.shift(p, Shift::Later).unwrap_or(p))));
                    }
                } else {
                    self.statement_to_come(cx, ctxs, s, sends, p, p_day, p_moves, out);
                    supersede(cx, rule, held_over.drain(..), p, out);
                }
            }
            if past_horizon(cx, scheduled, &moves) {
                // Past the horizon: what held it back is still said.
                self.note_pauses(cx, rule, notice_key(cx, rule, d), &moves, &[], out);
                supersede(cx, rule, held_over.drain(..), d, out);
                break;
            }
            to_come = Some((d, day, moves));
        }
        if !caught_up {
            self.statement_catch_up(cx, ctxs, s, sends, unsent, None, &mut held_over, out);
        }
        if let Some((p, p_day, p_moves)) = to_come {
            self.statement_to_come(cx, ctxs, s, sends, p, p_day, p_moves, out);
            supersede(cx, rule, held_over.drain(..), p, out);
        }
    }

    /// The latest of the occurrences gone unsent goes now (or after the pauses that hold
    /// it), unless expired, or unless a pause held it back onto the day `next` (the
    /// occurrence to come, and its day) is scheduled: then it and the older ones join
    /// `held_over`, superseded by the one that goes that day. Else the older ones are
    /// superseded by it.
    #[allow(clippy::too_many_arguments)]
    fn statement_catch_up(
        &self,
        cx: &ClientCtx<'_>,
        ctxs: &[ItemCtx<'_>],
        s: &Statement<'_>,
        sends: &[ClientSend<'_>],
        unsent: &[NaiveDate],
        next: Option<(NaiveDate, NaiveDate)>,
        held_over: &mut Vec<(NaiveDate, NaiveDate)>,
        out: &mut dyn ClientNotes,
    ) {
        let Some((&latest, older)) = unsent.split_last() else {
            return;
        };
        let rule = s.rule;
        let key = notice_key(cx, rule, latest);
        let mut moves = SmallList::new();
        let day = self.notice_day(cx, latest, &mut moves, None);
        // (No pause without end held it on its own day: one with nothing to list then is
        // said so wherever its catch-up would go.)
        let own_day = day.is_ok();
        let (scheduled, placement) = self.notice_placement(cx, day, moves, None);
        if let (Ok(placed), Some((_, next_on))) = (&placement, next) {
            if placed.goes_on >= next_on && self.paused_onto(placed) {
                // A pause held it onto the day the next one goes: that one goes instead (an
                // expired one is dropped, said on its day).
                // (One with nothing to list when its fate was settled is said so, as it was
                // while it was the latest.)
                let goes = placed.goes_on;
                for (k, (d, on)) in older
                    .iter()
                    .map(|&d| (d, d))
                    .chain([(latest, cx.now_or(scheduled))])
                    .enumerate()
                {
                    let own_day = d == latest || self.own_day_free(cx, d);
                    let settled = self.settled_on(cx, s, d, unsent.get(k + 1).copied(), goes);
                    if self.said_nothing_to_list(cx, ctxs, s, sends, d, settled, own_day, out) {
                        continue;
                    }
                    if !self.said_expired(cx, s, d, goes, out) {
                        held_over.push((d, on));
                    }
                }
                return;
            }
        }
        // Expired if it would go too late: a working day is what it waits for (today's, or
        // the first after the pauses that hold it).
        // Held for good by a pause without end: from the first working day of the earliest
        // (it holds everything from then on), whatever the day of the plan; expired only if
        // it had by then (one held on its own day never is).
        let goes = match &placement {
            Ok(placed) => placed.goes_on,
            Err(stop) if stop.reason.kind() == Kind::Paused => self
                .held_for_good_from(cx)
                // (A pause to the calendar's last day holds for good too: as of the plan.)
                .unwrap_or_else(|| self.calendar.shift(cx.today, Shift::Later).unwrap_or(cx.today)),
            Err(_) => self.calendar.shift(cx.today, Shift::Later).unwrap_or(cx.today),
        };
        // What it has to list: what is owed now, while it could still go; once it expired,
        // or a pause without end holds it, what was owed then (one that had something to
        // list when it expired, paid since, stays expired: it was dropped before the
        // payment).
        // The next one after each unsent occurrence.
        let next_of = |k: usize| unsent.get(k + 1).copied();
        let settled = self.settled_on(cx, s, latest, None, goes);
        if s.block.is_none()
            && own_day
            && !had_anything_to_list(
                ctxs,
                &self.policy,
                s.st,
                latest,
                self.its_day(latest),
                settled,
                sends,
            )
        {
            // The latest has nothing to list, so it does not go and supersedes nothing: the
            // older ones, which would list no more, have nothing to list either. Nor does the
            // latest expire: it had nothing to list, as every plan says, on its date (as it
            // is said once a later one is missed too).
            // (But one that had something to list when it expired stays expired; one that had
            // something when its fate was settled is superseded by the next one to come, if
            // that one has something to list: the one that will go instead, as the plans
            // say once it went.)
            // (Not one a pause without end holds on its own day: it does not go either.)
            // (Looked for once, when an older one needs it: it expands the rule.)
            let mut next_lists: Option<Option<NaiveDate>> = None;
            let mut next_lists = || {
                *next_lists.get_or_insert_with(|| {
                    self.next_after(s, latest).filter(|&n| {
                        self.own_day_free(cx, n)
                            && statement_items(ctxs, &self.policy, s.st, n, self.its_day(n))
                                .next()
                                .is_some()
                    })
                })
            };
            for (k, &d) in older.iter().enumerate() {
                if !self.in_sight(cx, d) {
                    continue;
                }
                let settled = self.settled_on(cx, s, d, next_of(k), goes);
                if had_anything_to_list(ctxs, &self.policy, s.st, d, self.its_day(d), settled, sends) {
                    if self.said_expired(cx, s, d, goes, out) {
                        continue;
                    }
                    if let Some(n) = next_lists() {
                        supersede(cx, rule, [(d, d)], n, out);
                        continue;
                    }
                }
                let key = notice_key(cx, rule, d);
                out.say(cx, rule, key, d, Reason::plain(Kind::NothingToList), ItemIx::NONE);
            }
            if let Ok(placed) = &placement {
                self.note_pauses(cx, rule, key, &placed.adjustments, &[], out);
            }
            out.say(
                cx,
                rule,
                key,
                latest,
                Reason::plain(Kind::NothingToList),
                ItemIx::NONE,
            );
            return;
        }
        // The older ones are superseded by the latest, which goes instead (or is held with
        // them); but one that expired stays said expired on its day, as it was while it was
        // the latest unsent.
        // (Held for good with the latest by a pause without end: neither goes, and each is
        // said held, on its day, as it was while it was the latest.)
        let held_for_good = match (&s.block, &placement) {
            (None, Err(stop)) if stop.reason.kind() == Kind::Paused => Some(stop),
            _ => None,
        };
        for (k, &d) in older.iter().enumerate() {
            // (Each is said on its date or its day: nothing to work out for one whose both
            // have left the window.)
            if !self.in_sight(cx, d) {
                continue;
            }
            // (One with nothing to list when its fate was settled never went: said so, not
            // superseded, expired or held with the latest, as it was while it was the latest.)
            let own_day = self.own_day_free(cx, d);
            let settled = self.settled_on(cx, s, d, next_of(k), goes);
            if self.said_nothing_to_list(cx, ctxs, s, sends, d, settled, own_day, out) {
                continue;
            }
            if self.said_expired(cx, s, d, goes, out) {
                continue;
            }
            match held_for_good {
                Some(stop) => {
                    let key = notice_key(cx, rule, d);
                    out.say(cx, rule, key, self.its_day(d), stop.reason, stop.item);
                }
                None => supersede(cx, rule, [(d, d)], latest, out),
            }
        }
        if !self.said_expired(cx, s, latest, goes, out) {
            self.statement_notice(cx, ctxs, s, latest, scheduled, placement, out);
        }
    }

    /// The occurrence of `date`, gone unsent before a later one of its rule went, said as the
    /// plan that sent the later one said it: nothing to list, if it had nothing on its day;
    /// else expired, if it had expired by then; else superseded by it (missed, or held back
    /// by a pause onto the day it went), on its date.
    #[allow(clippy::too_many_arguments)]
    fn said_when_a_later_went(
        &self,
        cx: &ClientCtx<'_>,
        ctxs: &[ItemCtx<'_>],
        s: &Statement<'_>,
        sends: &[ClientSend<'_>],
        date: NaiveDate,
        next: Option<NaiveDate>,
        out: &mut dyn ClientNotes,
    ) {
        if s.block.is_some() {
            return;
        }
        // (Settled by the day the next one was to go, at the latest.)
        let settled = self.settled_on(cx, s, date, next, cx.today).or(Some(cx.today));
        if self.said_nothing_to_list(cx, ctxs, s, sends, date, settled, true, out) {
            return;
        }
        // The first later one that went: its period, and the day it went.
        let Some((period, went)) = sends
            .iter()
            .filter(|x| x.rule == s.st.id.as_str())
            .filter_map(|x| Some((key_date(x.key.as_str()).filter(|&k| k > date)?, x.sent_at)))
            .min()
        else {
            return;
        };
        if self.said_expired(cx, s, date, cx.tz.local_date(went), out) {
            return;
        }
        supersede(cx, s.rule, [(date, date)], period, out);
    }

    /// Says the occurrence of `date` had nothing to list, if it had nothing when its fate was
    /// settled (`settled`, [`had_anything_to_list`]) and could go then (`placed`: no pause without end held it
    /// on its own day, nor does a lasting stop): whether it did.
    #[allow(clippy::too_many_arguments)]
    fn said_nothing_to_list(
        &self,
        cx: &ClientCtx<'_>,
        ctxs: &[ItemCtx<'_>],
        s: &Statement<'_>,
        sends: &[ClientSend<'_>],
        date: NaiveDate,
        settled: Option<NaiveDate>,
        placed: bool,
        out: &mut dyn ClientNotes,
    ) -> bool {
        if s.block.is_some()
            || !placed
            || had_anything_to_list(ctxs, &self.policy, s.st, date, self.its_day(date), settled, sends)
        {
            return false;
        }
        let key = notice_key(cx, s.rule, date);
        out.say(
            cx,
            s.rule,
            key,
            date,
            Reason::plain(Kind::NothingToList),
            ItemIx::NONE,
        );
        true
    }

    /// Says the occurrence of `date` expired if, going on `goes`, it would have: whether it
    /// did.
    fn said_expired(
        &self,
        cx: &ClientCtx<'_>,
        s: &Statement<'_>,
        date: NaiveDate,
        goes: NaiveDate,
        out: &mut dyn ClientNotes,
    ) -> bool {
        let Some((its_day, reason)) = self.expired(s.st, date, goes) else {
            return false;
        };
        out.say(
            cx,
            s.rule,
            notice_key(cx, s.rule, date),
            its_day,
            reason,
            ItemIx::NONE,
        );
        true
    }

    /// The day the fate of the occurrence of `date` was settled, if it has been, whichever
    /// came first: the day the next occurrence (`next`) was to go (from then on it is no
    /// longer the latest gone unsent, and is superseded), the last day it could go before it
    /// expired, or the first day a pause without end of the client held it. None
    /// while it is the latest and could still go on `goes` (the day it would go now): what is
    /// owed now decides then. Each plan reads what a statement had to list as of this day
    /// ([`had_anything_to_list`]), so that the plans that decided it and every plan after
    /// say it the same way.
    fn settled_on(
        &self,
        cx: &ClientCtx<'_>,
        s: &Statement<'_>,
        date: NaiveDate,
        next: Option<NaiveDate>,
        goes: NaiveDate,
    ) -> Option<NaiveDate> {
        let next_day = next.map(|n| {
            self.notice_day(cx, n, &mut SmallList::new(), None)
                .unwrap_or_else(|stop| stop.on)
        });
        let by = next_day.unwrap_or(goes);
        let last =
            s.st.expires_after_days
                .and_then(|days| self.its_day(date).checked_add_days(Days::new(days.into())))
                .filter(|&last| last < by);
        let held = self.held_for_good_seen_from(cx).filter(|&held| held <= by);
        [next_day, last, held].into_iter().flatten().min()
    }

    /// The rule's first occurrence after `date` (within a year and a month: the furthest any
    /// RRULE's next can be; none past that), whatever the plan's horizon, so that what is
    /// said of the occurrences before it does not depend on how far a plan looks.
    #[cold]
    #[inline(never)]
    fn next_after(&self, s: &Statement<'_>, date: NaiveDate) -> Option<NaiveDate> {
        let from = date.succ_opt()?;
        let to = date.checked_add_days(Days::new(400)).unwrap_or(NaiveDate::MAX);
        let rrule = s.rrule.unwrap_or(&s.st.rrule);
        crate::statement::window(s.st.id.as_str(), rrule, s.st.start, from, to)
            .ok()?
            .first()
            .copied()
    }

    /// The first day a plan sees a pause without end of the client holding a catch-up: the
    /// day after the last working day before the pause begins (from then on the first
    /// working day a catch-up can go on is one the pause holds).
    fn held_for_good_seen_from(&self, cx: &ClientCtx<'_>) -> Option<NaiveDate> {
        self.earliest_endless(cx, |from| {
            from.pred_opt()
                .and_then(|d| self.calendar.shift(d, Shift::Earlier))
                .and_then(|d| d.succ_opt())
                .or(Some(from))
        })
    }

    /// The first working day of the client's earliest pause without end: from then on
    /// nothing goes to the client.
    fn held_for_good_from(&self, cx: &ClientCtx<'_>) -> Option<NaiveDate> {
        self.earliest_endless(cx, |from| self.calendar.shift(from, Shift::Later))
    }

    /// The earliest `day_of(from)` of the client's pauses without end (the calendar's first
    /// day for one without a start).
    fn earliest_endless(
        &self,
        cx: &ClientCtx<'_>,
        day_of: impl Fn(NaiveDate) -> Option<NaiveDate>,
    ) -> Option<NaiveDate> {
        cx.client
            .pauses
            .iter()
            .filter(|p| p.until.is_none())
            .filter_map(|p| p.from.map_or(Some(NaiveDate::MIN), &day_of))
            .min()
    }

    /// Whether the occurrence of `date`, going on `goes`, expired: it would go more than the
    /// rule's days after its day, the working day it was scheduled on before any pause held
    /// it back (a send a pause held back goes as a missed one does). Its day, and why.
    fn expired(&self, st: &StatementRule, date: NaiveDate, goes: NaiveDate) -> Option<(NaiveDate, Reason)> {
        let days = st.expires_after_days?;
        let its_day = self.its_day(date);
        let last = its_day.checked_add_days(Days::new(days.into()))?;
        (goes > last).then(|| (its_day, Reason::expired(days)))
    }

    /// Whether what is said of the occurrence of `date` (on its date, or on its day) can
    /// fall in the window.
    fn in_sight(&self, cx: &ClientCtx<'_>, date: NaiveDate) -> bool {
        cx.in_window(date) || cx.in_window(self.its_day(date))
    }

    /// Whether the occurrence of `date` had a day to go on, past the pauses with an end: no
    /// pause without end held it on its own day.
    fn own_day_free(&self, cx: &ClientCtx<'_>, date: NaiveDate) -> bool {
        self.notice_day(cx, date, &mut SmallList::new(), None).is_ok()
    }

    /// The day an occurrence of `date` was to go: the first working day from it, before any
    /// pause held it back.
    fn its_day(&self, date: NaiveDate) -> NaiveDate {
        self.calendar.shift(date, Shift::Later).unwrap_or(date)
    }

    /// Whether a pause put a catch-up on the day it goes: it ended the working day before.
    fn paused_onto(&self, placed: &Placed) -> bool {
        placed.adjustments.iter().any(|a| match a {
            Adjustment::Paused { until, .. } => until
                .succ_opt()
                .and_then(|n| self.calendar.shift(n, Shift::Later))
                .is_some_and(|d| d == placed.goes_on),
            _ => false,
        })
    }

    /// A statement whose send instant is still to come.
    #[allow(clippy::too_many_arguments)]
    fn statement_to_come(
        &self,
        cx: &ClientCtx<'_>,
        ctxs: &[ItemCtx<'_>],
        s: &Statement<'_>,
        sends: &[ClientSend<'_>],
        date: NaiveDate,
        day: NoticeDay,
        moves: SmallList<Adjustment>,
        out: &mut dyn ClientNotes,
    ) {
        let (scheduled, placement) = self.notice_placement(cx, day, moves, None);
        // A pause that holds it past its expiry drops it; not one with nothing to list when
        // its fate was settled: said so on its date, as once its send instant is gone.
        if let Ok(placed) = &placement {
            let settled = self.settled_on(cx, s, date, None, placed.goes_on);
            let lists = s.block.is_some()
                || had_anything_to_list(ctxs, &self.policy, s.st, date, self.its_day(date), settled, sends);
            if lists && self.said_expired(cx, s, date, placed.goes_on, out) {
                return;
            }
        }
        self.statement_notice(cx, ctxs, s, date, scheduled, placement, out);
    }

    #[allow(clippy::too_many_arguments)]
    fn statement_notice(
        &self,
        cx: &ClientCtx<'_>,
        ctxs: &[ItemCtx<'_>],
        s: &Statement<'_>,
        date: NaiveDate,
        scheduled: NaiveDate,
        placement: Result<Placed, Stop>,
        out: &mut dyn ClientNotes,
    ) {
        let (st, rule) = (s.st, s.rule);
        let key = notice_key(cx, rule, date);
        let send_on = match &placement {
            Ok(placed) => placed.goes_on,
            Err(stop) => stop.on,
        };
        // The items of its period, as of its day.
        let mut owed = statement_items(ctxs, &self.policy, st, date, self.its_day(date)).peekable();
        let placed = match (s.block, placement) {
            (None, Ok(placed)) => placed,
            (Some(reason), _) | (None, Err(Stop { reason, .. })) => {
                // Explained on the day it was due; once that has left the window, as of the
                // day it would go (today, for the catch-up of the latest one), if it would
                // list something: a lasting stop is explained in every plan, once per
                // statement rule.
                let on = if cx.in_window(scheduled) || owed.peek().is_none() {
                    scheduled
                } else {
                    send_on
                };
                out.say(cx, rule, key, on, reason, ItemIx::NONE);
                return;
            }
        };
        self.note_pauses(cx, rule, key, &placed.adjustments, &[], out);
        if owed.peek().is_none() {
            // (On its date, as once it is gone unsent: the same day in every plan.)
            out.say(
                cx,
                rule,
                key,
                date,
                Reason::plain(Kind::NothingToList),
                ItemIx::NONE,
            );
            return;
        }
        let stage = if st.overdue_only {
            Stage::OverdueStatement
        } else {
            Stage::Statement
        };
        out.notice(
            cx,
            Notice {
                rule,
                stage,
                nominal: date,
                scheduled,
                placed,
                mask: s.mask,
                anchor: date,
                info: AccountInfo::Statement(date, st.overdue_only),
            },
            &mut owed,
        );
    }
}
