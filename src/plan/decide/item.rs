//! A rule's next step for one item: the item and its sends, the rule's state for it (a
//! slot), and its next candidate send with the moves that placed it (weekends and holidays,
//! pauses, one reminder a day, expiry) or the reason it stops.

use crate::model::client::Pause;
use crate::model::id::EventKey;
use crate::model::item::{Item, ItemStatus};
use crate::money::Money;
use crate::plan::SuppressReasonKind as Kind;
use crate::plan::decide::notes::{Notes, UnsentBelow};
use crate::plan::decide::occurrences::{OccurrenceDays, add_days, occurrence_day, spaced_run};
use crate::plan::decide::pauses::active_pause;
use crate::plan::decide::reason::Reason;
use crate::plan::decide::reason::adjustment_note;
use crate::plan::engine::small_list::SmallList;
use crate::plan::engine::{ClientCtx, ItemIx, Planner, RuleIx};
use crate::plan::event::Adjustment;
use crate::plan::schedule::{KeyRef, PauseRef};
use crate::policy::Anchor;
use crate::time::Shift;
use chrono::NaiveDate;

/// A send about an item: from history or planned earlier in this sweep.
#[derive(Debug, Clone)]
pub(crate) struct Send {
    pub(crate) rule: Option<usize>,
    pub(crate) date: NaiveDate,
    /// From history, or of a send planned now.
    pub(crate) key: KeyRef,
}

/// The sends about one item, kept so that each question the planner asks of them costs a
/// search, not a pass, once there are many (a rule firing daily for years asks them once a
/// day); the few sends most items have are scanned.
#[derive(Debug, Default)]
pub(crate) struct ItemSends {
    /// Every send, in the order made.
    pub(crate) all: Vec<Send>,
    /// Once there are more than [`ItemSends::SCAN`] sends: the sends by rule, each rule's in
    /// date order (the last list: sends of rules the policy no longer has).
    pub(crate) by_rule: Vec<Vec<Send>>,
    pub(crate) rules: usize,
    /// The item's place in the input.
    pub(crate) item: ItemIx,
    /// History entries read for the item: (rule, occurrence, entry).
    pub(crate) history: Vec<(Option<usize>, u32, u32)>,
    /// The local days of the manual sends about the item, in order.
    pub(crate) manual: Vec<NaiveDate>,
    /// The sends that went before their stage's day (a "due soon" moved back off a
    /// non-working day), with that day: a stage they are later than is superseded by them
    /// though they went before its day. Few: most sends go on or after their stage's day.
    pub(crate) early: Vec<(NaiveDate, Send)>,
    /// The history entries whose key is not the one their rule and occurrence write
    /// (grouped notices, unknown rules, odd records): the only ones a planned item key can
    /// equal. Worked out when first asked.
    pub(crate) odd: Option<Vec<u32>>,
}

impl ItemSends {
    /// Up to this many sends, questions scan them all.
    const SCAN: usize = 16;

    pub(crate) fn clear(&mut self, rules: usize, item: ItemIx) {
        self.item = item;
        self.rules = rules;
        self.all.clear();
        if !self.by_rule.is_empty() {
            self.by_rule.clear();
        }
        self.history.clear();
        self.manual.clear();
        self.early.clear();
        self.odd = None;
    }

    /// Adds a send (planned sends come in date order), with the day of its stage (its
    /// rule's occurrence, before any move) when known.
    pub(crate) fn push(&mut self, send: Send, stage_on: Option<NaiveDate>) {
        if let Some(on) = stage_on.filter(|&on| on > send.date && send.rule.is_some()) {
            self.push_early(on, &send);
        }
        if !self.by_rule.is_empty() {
            Self::insert(&mut self.by_rule, self.rules, send.clone());
        } else if self.all.len() == Self::SCAN {
            self.by_rule.resize_with(self.rules + 1, Vec::new);
            for s in &self.all {
                Self::insert(&mut self.by_rule, self.rules, s.clone());
            }
            Self::insert(&mut self.by_rule, self.rules, send.clone());
        }
        self.all.push(send);
    }

    /// The day of the last message about the item (a reminder, in history or planned, or a
    /// manual send); `None` if none went.
    pub(crate) fn last_day(&self) -> Option<NaiveDate> {
        let sent = self.all.iter().map(|s| s.date).max();
        sent.max(self.manual.last().copied())
    }

    #[cold]
    pub(crate) fn push_early(&mut self, on: NaiveDate, send: &Send) {
        self.early.push((on, send.clone()));
    }

    /// Puts a send in its rule's list, in date order.
    pub(crate) fn insert(by_rule: &mut [Vec<Send>], rules: usize, send: Send) {
        let Some(list) = by_rule.get_mut(send.rule.unwrap_or(rules).min(rules)) else {
            return;
        };
        if list.last().is_none_or(|l| l.date <= send.date) {
            list.push(send);
        } else {
            let i = list.partition_point(|x| x.date <= send.date);
            list.insert(i, send);
        }
    }

    /// The send that supersedes occurrence `nominal` of `rule`: the earliest (by date, then
    /// key) of another rule's sends on or after `nominal`, or that went before it but is of
    /// a later stage (a later stage day, or the same day and a later rule). A send of a rule
    /// the policy no longer has is no stage, and supersedes nothing.
    pub(crate) fn superseding(
        &self,
        rule: usize,
        nominal: NaiveDate,
        cmp: impl Fn(&KeyRef, &KeyRef) -> std::cmp::Ordering,
    ) -> Option<&Send> {
        let earlier = |x: &Send, b: &Send| x.date.cmp(&b.date).then_with(|| cmp(&x.key, &b.key)).is_lt();
        let mut best: Option<&Send> = None;
        if self.all.is_empty() {
            return None;
        }
        for (on, x) in &self.early {
            let later = x.rule.is_some_and(|r| r != rule && (*on, r) > (nominal, rule));
            if later && best.is_none_or(|b| earlier(x, b)) {
                best = Some(x);
            }
        }
        if self.by_rule.is_empty() {
            for x in self
                .all
                .iter()
                .filter(|x| x.rule.is_some_and(|r| r != rule) && x.date >= nominal)
            {
                if best.is_none_or(|b| earlier(x, b)) {
                    best = Some(x);
                }
            }
            return best;
        }
        // (The last list, of rules the policy no longer has, holds no stage.)
        for (r, list) in self.by_rule.iter().enumerate().take(self.rules) {
            if r == rule {
                continue;
            }
            let i = list.partition_point(|x| x.date < nominal);
            let Some(first) = list.get(i) else { continue };
            // Sends of one rule on one day (odd histories): the least key among them.
            for x in list[i..].iter().take_while(|x| x.date == first.date) {
                if best.is_none_or(|b| earlier(x, b)) {
                    best = Some(x);
                }
            }
        }
        best
    }

    /// Whether a send of a rule other than `rule` went (or goes) on `day`.
    #[inline]
    pub(crate) fn other_on(&self, rule: usize, day: NaiveDate) -> bool {
        if self.all.is_empty() {
            return false;
        }
        self.other_on_any(rule, day)
    }

    #[inline(never)]
    pub(crate) fn other_on_any(&self, rule: usize, day: NaiveDate) -> bool {
        if self.by_rule.is_empty() {
            return self.all.iter().any(|x| x.rule != Some(rule) && x.date == day);
        }
        self.by_rule.iter().enumerate().any(|(r, list)| {
            r != rule && {
                let i = list.partition_point(|x| x.date < day);
                list.get(i).is_some_and(|x| x.date == day)
            }
        })
    }

    /// Whether history already holds `key`, the key of an item's event of `rule`: only an
    /// entry whose key is not its own rule's and occurrence's can (a planned occurrence is
    /// past every one recorded for its rule).
    pub(crate) fn in_history(&mut self, key: &KeyRef, same: impl Fn(&KeyRef, &KeyRef) -> bool) -> bool {
        let (history, item) = (&self.history, self.item);
        let odd = self.odd.get_or_insert_with(|| {
            history
                .iter()
                .filter(|(rule, occurrence, entry)| {
                    rule.is_none_or(|rule| {
                        let written = KeyRef::Item {
                            rule: RuleIx::at(rule),
                            item,
                            occurrence: *occurrence,
                        };
                        !same(&KeyRef::History(*entry), &written)
                    })
                })
                .map(|(.., entry)| *entry)
                .collect()
        });
        odd.iter().any(|&e| same(&KeyRef::History(e), key))
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Candidate {
    pub(crate) nominal: NaiveDate,
    /// The local day it goes (never before today).
    pub(crate) date: NaiveDate,
    /// The day it was to go had every plan run at its send time: `date`, or an earlier day
    /// whose send instant is gone (a catch-up).
    pub(crate) scheduled: NaiveDate,
    /// Spaced after a manual send on that day (the first adjustment).
    pub(crate) spaced_after: Option<NaiveDate>,
    /// At which instant of `date` it goes.
    pub(crate) send: SendAt,
    /// The moves after spacing: off non-working days, past pauses, deferrals.
    pub(crate) moves: SmallList<Adjustment>,
    /// For a catch-up: how many of `moves` came before it (a catch-up from `scheduled`
    /// comes between the moves to its day and those from today).
    pub(crate) caught_up_after: Option<u8>,
    /// Not a send: the occurrence is dropped as expired on `date` (its day, when a pause or
    /// the gap held it past its expiry) unless a send that goes before then supersedes it.
    pub(crate) expires: bool,
}

/// The instant of its day an event goes at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SendAt {
    /// At the send time of its day.
    SendTime,
    /// Its send instant (on `scheduled`) is gone and today is a working day: now. The event
    /// keeps that instant and day.
    Missed,
    /// As [`SendAt::Missed`], for one a pause held back onto `scheduled`: its instant was the
    /// start of that day.
    MissedFromDayStart,
    /// Its send instant is gone and today is not a working day, or a pause held it back
    /// past it: at the first plan of the first working day it may go, whatever the hour
    /// (from the start of that day).
    DayStart,
}

/// Whether a pause, rather than the gap or another reminder, put a reminder on its day (the
/// last move that held it back was the pause): its send instant passed during the pause, so
/// it goes at the start of the day after it, as a missed send does.
pub(crate) fn paused_onto_its_day(moves: &[Adjustment]) -> bool {
    moves
        .iter()
        .rev()
        .find(|a| {
            matches!(
                a,
                Adjustment::Paused { .. }
                    | Adjustment::Deferred { .. }
                    | Adjustment::AfterAnotherReminder { .. }
            )
        })
        .is_some_and(|a| matches!(a, Adjustment::Paused { .. }))
}

/// Adds `pause` as the last hold of `moves`: one of its holds already (a missed send names
/// the pauses that held it from today, before the gap) is moved there, as it was named.
#[cold]
fn last_hold(moves: &mut SmallList<Adjustment>, pause: Adjustment) {
    let Adjustment::Paused { until, .. } = pause else {
        return;
    };
    let same = |a: &Adjustment| matches!(a, Adjustment::Paused { until: u, .. } if *u == until);
    let named = moves.iter().find(|a| same(a)).cloned();
    if let Some(named) = named {
        *moves = moves
            .iter()
            .filter(|a| !same(a))
            .cloned()
            .chain([named])
            .collect();
    } else {
        moves.push(pause);
    }
}

/// The earliest day a pause or the gap held a reminder back from, among `moves`, else
/// `scheduled` (not the first such move listed: a missed send the gap holds back lists the
/// pauses that held it from today before the gap's deferral from the day it was meant for).
fn held_since(moves: &[Adjustment], scheduled: NaiveDate) -> NaiveDate {
    moves
        .iter()
        .filter_map(|a| match a {
            Adjustment::Deferred { from, .. } | Adjustment::Paused { from, .. } => Some(*from),
            _ => None,
        })
        .fold(scheduled, NaiveDate::min)
}

impl Candidate {
    /// The first day it was to go: the earliest day a pause or the gap held it back from,
    /// else its scheduled day ([`held_since`]).
    pub(crate) fn waiting_since(&self) -> NaiveDate {
        held_since(&self.moves, self.scheduled)
    }

    /// Every adjustment, in the order they were made, added to `list`.
    pub(crate) fn adjustments_into(&self, list: &mut Vec<Adjustment>) {
        if let Some(manual_on) = self.spaced_after {
            list.push(Adjustment::SpacedAfterManualSend { manual_on });
        }
        match self.caught_up_after {
            Some(at) => {
                let (before, after) = self.moves.split_at(usize::from(at).min(self.moves.len()));
                list.extend_from_slice(before);
                list.push(Adjustment::CatchUp {
                    scheduled_on: self.scheduled,
                });
                list.extend_from_slice(after);
            }
            None => list.extend_from_slice(&self.moves),
        }
    }
}

#[derive(Debug)]
pub(crate) struct Slot {
    pub(crate) item: usize,
    pub(crate) rule: usize,
    pub(crate) anchor_on: NaiveDate,
    pub(crate) offset: i32,
    pub(crate) every: Option<u32>,
    pub(crate) count: u32,
    pub(crate) roles_mask: u8,
    pub(crate) next_occ: u32,
    pub(crate) last_rule: Option<NaiveDate>,
    pub(crate) last_manual: Option<NaiveDate>,
    pub(crate) not_before: Option<NaiveDate>,
    /// Held back by a lasting stop: worked out without pauses, to say where the stop holds
    /// it (a pause is not a reason to say nothing of a stop that holds anyway).
    pub(crate) past_pauses: bool,
    pub(crate) version: u32,
    pub(crate) cand: Option<Candidate>,
    /// The key of the message it went in, on the day it won its item's batch.
    pub(crate) won: Option<KeyRef>,
}

pub(crate) struct ItemCtx<'a> {
    pub(crate) item: &'a Item,
    /// Its position in the input.
    pub(crate) index: ItemIx,
    pub(crate) status: ItemStatus,
    pub(crate) balance: Option<Money>,
    pub(crate) due: Option<NaiveDate>,
    pub(crate) slots: std::ops::Range<usize>,
}

/// Passes over the slot's next occurrence (on `nominal`), superseded by `by`, and every later
/// one up to `by`'s day (see [`Planner::next_cand`]), saying so of each: the first on the
/// day `by` went (its own day, if later), the others on their own days.
#[cold]
#[inline(never)]
fn pass_superseded(
    cx: &ClientCtx<'_>,
    it: &ItemCtx<'_>,
    slot: &mut Slot,
    by: &Send,
    nominal: NaiveDate,
    out: &mut dyn Notes,
) {
    let last = if by.date >= nominal {
        OccurrenceDays::new(slot.anchor_on, slot.offset, slot.every)
            .last_on_or_before(by.date)
            .min(slot.count)
            .max(slot.next_occ)
    } else {
        slot.next_occ
    };
    // The first is said on the day that send went (the day the plans before it said, where
    // it lost that day's batch or was moved by the send), or on its own day if that is
    // later (a later stage that went before it); those after it (and the first, when the
    // rule last went or was superseded that day: the run goes on), each on its own day, so
    // a run superseded long ago is not explained again.
    let on = if slot.last_rule == Some(by.date) {
        nominal
    } else {
        by.date.max(nominal)
    };
    out.note(cx, it, slot, on, Reason::superseded(by.key));
    if last > slot.next_occ {
        out.note_run(cx, it, slot, slot.next_occ + 1..=last, Reason::superseded(by.key));
    }
    slot.next_occ = last.saturating_add(1);
    slot.last_rule = slot.last_rule.max(Some(by.date));
}

/// When the spacing lets an occurrence go (see [`spacing`]).
struct Spacing {
    /// The first day it may go: its nominal day, raised by the spacing after the rule's
    /// last send and after a manual send about the item, and by the item's issue.
    date: NaiveDate,
    /// The first day the spacing after the rule's last send (or a manual send) allows.
    spacing_ends: Option<NaiveDate>,
    /// The day it was to go when the minimum gap after a manual send about the item spaced
    /// it (a rule without repeats is spaced by the gap): late from then on.
    gap_spaced_from: Option<NaiveDate>,
    /// The manual send that spaced it, if one did.
    spaced_after: Option<NaiveDate>,
}

/// When the spacing lets the occurrence of `slot` meant for `nominal` go; `None` past the
/// end of the calendar.
#[inline(always)]
fn spacing(
    cx: &ClientCtx<'_>,
    item: &Item,
    slot: &Slot,
    last_manual: Option<NaiveDate>,
    nominal: NaiveDate,
) -> Option<Spacing> {
    let mut spaced_after = None;
    let mut date = nominal;
    let mut spacing_ends = None;
    if let (Some(last), Some(every)) = (slot.last_rule, slot.every) {
        let spaced = add_days(last, i64::from(every))?;
        date = date.max(spaced);
        spacing_ends = Some(spaced);
    }
    let mut gap_spaced_from = None;
    if let Some(m) = last_manual {
        let after = add_days(m, i64::from(slot.every.unwrap_or(cx.gap.max(1))))?;
        spacing_ends = spacing_ends.max(Some(after));
        if after > date {
            if slot.every.is_none() && cx.gap > 0 {
                gap_spaced_from = Some(date.max(item.issued_on));
            }
            date = after;
            spaced_after = Some(m);
        }
    }
    Some(Spacing {
        date: date.max(item.issued_on),
        spacing_ends,
        gap_spaced_from,
        spaced_after,
    })
}

impl Planner {
    /// After an occurrence dropped as expired in a catch-up (it would go on `goes`, past its
    /// `days`): the run of those after it dropped the same way and said before the plan's
    /// window (so said nowhere), passed over at once. Only where nothing but the rule's own
    /// spacing places them: no pause, no minimum gap or manual send holding the item, no
    /// other send that could supersede them, not a "due soon". Each then goes `every` days
    /// after the day the one before was to go, on a working day ([`spaced_run`]), and is
    /// dropped while that day is more than `days` before `goes`.
    #[cold]
    #[inline(never)]
    fn pass_expired_run(
        &self,
        cx: &ClientCtx<'_>,
        it: &ItemCtx<'_>,
        slot: &mut Slot,
        sends: &ItemSends,
        goes: NaiveDate,
        days: u32,
    ) {
        let rule = &self.rules[slot.rule];
        let (Some(every), Some(last)) = (slot.every.filter(|&e| e > 0), slot.last_rule) else {
            return;
        };
        let held = slot.last_manual.is_some()
            || slot.not_before.is_some()
            || !it.item.pauses.is_empty()
            || !cx.client.pauses.is_empty()
            || !sends.early.is_empty()
            || rule.anchor == Anchor::Paid;
        if held || slot.next_occ > slot.count {
            return;
        }
        let Some(nominal) = occurrence_day(slot.anchor_on, slot.offset, slot.every, slot.next_occ) else {
            return;
        };
        let before_due = rule.anchor == Anchor::Due && it.due.is_some_and(|d| nominal < d);
        let superseded = sends
            .all
            .iter()
            .any(|s| s.rule != Some(slot.rule) && s.date >= nominal);
        // (Spaced from the last, which went on or after its own day: each is on or after its
        // own day as well.)
        let spaced = add_days(last, i64::from(every));
        if before_due || superseded || spaced.is_none_or(|d| d < nominal || d < it.item.issued_on) {
            return;
        }
        let Some(expired_before) = add_days(goes, -i64::from(days)) else {
            return;
        };
        let before = expired_before.min(cx.window_start);
        let (passed, day) = spaced_run(
            &self.calendar,
            last,
            every,
            before,
            slot.count - slot.next_occ + 1,
        );
        if passed > 0 {
            slot.next_occ += passed;
            slot.last_rule = Some(day);
        }
    }

    /// The way a reminder meant for `date` moves off a non-working day: later, or earlier
    /// for a "due soon" (`before_due`) unless that puts it back inside its spacing (before
    /// `spacing_ends`) or before the item was issued: the spacing holds, and the calendar
    /// moves it later instead (on or after the due date, it is then not sent).
    #[inline(always)]
    fn direction(
        &self,
        item: &Item,
        date: NaiveDate,
        spacing_ends: Option<NaiveDate>,
        before_due: bool,
    ) -> Shift {
        if !before_due {
            return Shift::Later;
        }
        let inside_spacing = |ends: NaiveDate| {
            self.calendar
                .shift(date, Shift::Earlier)
                .is_none_or(|to| to < ends)
        };
        if spacing_ends.max(Some(item.issued_on)).is_some_and(inside_spacing) {
            Shift::Later
        } else {
            Shift::Earlier
        }
    }

    /// Whether the occurrence meant for `nominal` had expired (more than `days` late) by
    /// `by`, the day of a send of another rule that would supersede it. Its day is worked
    /// out as [`Planner::next_cand`] does before any pause or the client's gap holds it: the
    /// nominal day raised by the rule's spacing after its last send, a manual send's spacing
    /// and the item's issue, moved off non-working days (earlier for a "due soon", unless
    /// that puts it back inside its spacing); one the gap after a manual send spaced is late
    /// from the day it was meant for; a manual send after its day does not move it. Not sent
    /// by then, it was dropped before that send went: expired, not superseded, as the plans
    /// before that send said.
    #[cold]
    #[inline(never)]
    #[allow(clippy::too_many_arguments)]
    fn expired_before(
        &self,
        cx: &ClientCtx<'_>,
        it: &ItemCtx<'_>,
        slot: &Slot,
        sends: &ItemSends,
        nominal: NaiveDate,
        days: u32,
        by: NaiveDate,
    ) -> bool {
        self.spaced_day(cx, it, slot, slot.last_manual, nominal)
            .map(|day| self.expires_from(cx, it, slot, sends, nominal, day))
            .and_then(|its_day| add_days(its_day, i64::from(days)))
            .is_some_and(|last| by > last)
    }

    /// The day the occurrence meant for `nominal` was to go before any pause or the
    /// client's gap held it (see [`Planner::expired_before`]), with the spacing after a
    /// manual send on `manual`; `None` past the end of the calendar.
    fn spaced_day(
        &self,
        cx: &ClientCtx<'_>,
        it: &ItemCtx<'_>,
        slot: &Slot,
        manual: Option<NaiveDate>,
        nominal: NaiveDate,
    ) -> Option<NaiveDate> {
        let item = it.item;
        let Spacing {
            date,
            spacing_ends,
            gap_spaced_from,
            ..
        } = spacing(cx, item, slot, manual, nominal)?;
        let rule = &self.rules[slot.rule];
        let before_due = rule.anchor == Anchor::Due && it.due.is_some_and(|d| nominal < d);
        let dir = self.direction(item, date, spacing_ends, before_due);
        let day = self.calendar.shift(date, dir)?;
        Some(
            gap_spaced_from
                .map(|d| self.calendar.shift(d, Shift::Later).unwrap_or(d))
                .map_or(day, |g| g.min(day)),
        )
    }

    /// The occurrence's own day, to expire from: the day it was to go (see
    /// [`Planner::spaced_day`]) spaced by the item's manual sends made on or before that day
    /// (each moves it later, and may bring the next one into play), not by those after it.
    fn own_day(
        &self,
        cx: &ClientCtx<'_>,
        it: &ItemCtx<'_>,
        slot: &Slot,
        sends: &ItemSends,
        nominal: NaiveDate,
    ) -> Option<NaiveDate> {
        let mut day = self.spaced_day(cx, it, slot, None, nominal)?;
        for &manual in &sends.manual {
            if manual > day {
                break;
            }
            day = self.spaced_day(cx, it, slot, Some(manual), nominal)?;
        }
        Some(day)
    }

    /// The day the occurrence meant for `nominal` expires from, `spaced` being the day it
    /// was to go with the spacing after the item's last manual send: its own day
    /// ([`Planner::own_day`]) when that came before the manual send. A manual send after an
    /// occurrence's day spaces it, but does not move the day it expires from: dropped if
    /// the spacing (or a pause or the gap after it) takes it more than `expires_after` days
    /// past its own day, as the plans before the manual send said when a pause or the gap
    /// held it that long.
    #[cold]
    #[inline(never)]
    fn expires_from(
        &self,
        cx: &ClientCtx<'_>,
        it: &ItemCtx<'_>,
        slot: &Slot,
        sends: &ItemSends,
        nominal: NaiveDate,
        spaced: NaiveDate,
    ) -> NaiveDate {
        let Some(manual) = slot.last_manual else {
            return spaced;
        };
        match self.own_day(cx, it, slot, sends, nominal) {
            Some(own) if own < manual => own.min(spaced),
            _ => spaced,
        }
    }

    /// The first day a "due soon" meant for `nominal` was too late (due on `due`): its due
    /// date, or `its_day` (the day it was to go before a pause or the gap held it back) if
    /// later. Not a day the spacing (after the rule's last send or a manual one, `spaced`:
    /// the day it let it go and the way off a non-working day) took it to: when the due date
    /// came it was unsent and could never go, as one a pause or the gap holds back. Then
    /// the day it was to go unspaced counts, if that is later still (an item issued on its
    /// due date or after): its day, or the item's issue if later, moved off a non-working
    /// day (earlier, unless that is before the issue).
    #[cold]
    #[inline(never)]
    fn too_late_from(
        &self,
        item: &Item,
        nominal: NaiveDate,
        (date, dir): (NaiveDate, Shift),
        its_day: NaiveDate,
        due: NaiveDate,
    ) -> NaiveDate {
        let base = nominal.max(item.issued_on);
        let unspaced = self.calendar.shift(base, self.direction(item, base, None, true));
        let spaced = self.calendar.shift(date, dir);
        match unspaced {
            Some(unspaced) if spaced != Some(unspaced) => its_day.min(unspaced).max(due),
            _ => its_day.max(due),
        }
    }

    /// Whether the occurrence meant for `nominal`, which a manual send on `manual` spaced
    /// later, had expired before that send: its own day ([`Planner::own_day`]) more than the
    /// rule's `expires_after` days before it. Then it stays expired, said on that day, as
    /// the plans before the manual send said: the manual send spaces the rule's next
    /// occurrence, it does not bring back one dropped already. Its day and the rule's
    /// expiry, if so; not a "due soon" whose due date came before its expiry ran out (too
    /// late first).
    #[cold]
    #[inline(never)]
    fn expired_before_manual(
        &self,
        cx: &ClientCtx<'_>,
        it: &ItemCtx<'_>,
        slot: &Slot,
        sends: &ItemSends,
        nominal: NaiveDate,
        manual: NaiveDate,
    ) -> Option<(NaiveDate, u32)> {
        let rule = &self.rules[slot.rule];
        let days = rule.expires_after?;
        let its_day = self.own_day(cx, it, slot, sends, nominal)?;
        let last = add_days(its_day, i64::from(days))?;
        // (Not a "due soon" whose due date came before its expiry ran out: too late first,
        // as the plans before the manual send said; said so below.)
        let too_late_first =
            rule.anchor == Anchor::Due && it.due.is_some_and(|due| nominal < due && due <= last);
        (last < manual && !too_late_first).then_some((its_day, days))
    }

    /// Whether a pause without end held the occurrence meant for `nominal` for good before a
    /// manual send on `manual` spaced it later: on its own day ([`Planner::own_day`]), or
    /// from the first working day of one that began while it waited, by the manual send (and
    /// before it expired, or was a "due soon" too late). That day and the pause, if so.
    #[cold]
    #[inline(never)]
    fn held_before_manual(
        &self,
        cx: &ClientCtx<'_>,
        it: &ItemCtx<'_>,
        slot: &Slot,
        sends: &ItemSends,
        nominal: NaiveDate,
        manual: NaiveDate,
    ) -> Option<(NaiveDate, PauseRef)> {
        let rule = &self.rules[slot.rule];
        let item = it.item;
        if rule.anchor == Anchor::Paid
            || slot.past_pauses
            || (item.pauses.is_empty() && cx.client.pauses.is_empty())
        {
            return None;
        }
        let own = self.own_day(cx, it, slot, sends, nominal)?;
        if own >= manual {
            return None;
        }
        // (One a pause with an end held on its own day waited too, once that pause ended.)
        let (from, at) = match active_pause(item, cx.client, own) {
            Some((at, p)) if p.until.is_none() => (own, at),
            _ => self.endless_began(cx, item, own, manual)?,
        };
        if from > manual {
            return None;
        }
        let expired = rule
            .expires_after
            .is_some_and(|days| add_days(own, i64::from(days)).is_some_and(|last| last < from));
        let too_late = rule.anchor == Anchor::Due && it.due.is_some_and(|due| nominal < due && due <= from);
        (!expired && !too_late).then_some((from, at))
    }

    /// The occurrences of `slot`'s rule never sent though a later one of the rule went
    /// (`history`: the item's), said as the plans before that one went said them, while
    /// their day is in the window:
    /// - a "due soon" (anchored on the due date, a negative offset) too late: on the day it
    ///   was first too late (its due date, or the day it was to go if later), whatever the
    ///   client is sent since; older, as of now, but not later than the day the later one
    ///   went (it found it too late). A later one of the rule that went before the due date
    ///   supersedes it (nothing is said);
    /// - one dropped by the rule's expiry (`Rule::expires_after`): expired, on its day;
    /// - one superseded by a send of another rule (or a later stage): superseded, on the day
    ///   that send went.
    ///
    /// Each run of such occurrences is worked out again from the rule's sends before it (its
    /// spacing), as when it was the rule's next; only those statements are kept (what held
    /// it back on the way is not said again). Asked only of a rule with an occurrence below
    /// its highest sent one that never went: the rest never comes here.
    #[cold]
    #[inline(never)]
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn say_unsent_below(
        &self,
        cx: &ClientCtx<'_>,
        it: &ItemCtx<'_>,
        slot: &Slot,
        sends: &ItemSends,
        keys: &[EventKey],
        out: &mut dyn Notes,
    ) {
        let rule = &self.rules[slot.rule];
        // A "due soon" rule once the due date came, and the occurrences before it.
        let due = it
            .due
            .filter(|&d| rule.anchor == Anchor::Due && cx.today >= d && slot.offset < 0);
        let expires = rule.expires_after.is_some();
        let before = match slot.every.map(i64::from).filter(|&e| e > 0) {
            Some(every) => (-i64::from(slot.offset) - 1) / every + 1,
            None => 1,
        };
        let before = if due.is_some() {
            u32::try_from(before).unwrap_or(u32::MAX).min(slot.count)
        } else {
            0
        };
        // The rule's sends about the item, from history (read before any is planned, each
        // beside its send): (occurrence, local day).
        let sent: Vec<(u32, NaiveDate)> = (sends.history.iter().zip(&sends.all))
            .filter(|((rule, ..), _)| *rule == Some(slot.rule))
            .map(|(&(_, occurrence, _), send)| (occurrence, send.date))
            .collect();
        let max_occ = sent.iter().map(|s| s.0).max().unwrap_or(0);
        let below = max_occ.saturating_sub(1).min(slot.count);
        let last = below;
        let went = |k: u32| sent.iter().any(|s| s.0 == k);
        let mut k = 1;
        while k <= last {
            if went(k) {
                k += 1;
                continue;
            }
            // A run of them, up to the next that went (or the last asked of).
            let mut end = k;
            while end < last && !went(end + 1) {
                end += 1;
            }
            let found = sent.iter().filter(|s| s.0 > end).map(|s| s.1).min();
            // Too late only if the later one went on or after the due date.
            let late_by = found.filter(|&d| due.is_some_and(|due| d >= due) && k <= before);
            let mut probe = Slot {
                item: slot.item,
                rule: slot.rule,
                anchor_on: slot.anchor_on,
                offset: slot.offset,
                every: slot.every,
                count: end,
                roles_mask: slot.roles_mask,
                next_occ: k,
                last_rule: sent.iter().filter(|s| s.0 < k).map(|s| s.1).max(),
                last_manual: slot.last_manual,
                not_before: slot.not_before,
                past_pauses: slot.past_pauses,
                version: 0,
                cand: None,
                won: None,
            };
            let mut said = UnsentBelow {
                out: &mut *out,
                too_late_by: late_by,
                expired: expires,
                later_went: found,
            };
            // (Each of the run is said or goes no more: none is sent from here.)
            let _ = self.next_cand(cx, it, &mut probe, sends, keys, &mut said);
            k = end + 1;
        }
    }

    /// Sets the slot's candidate to its next one (see [`Planner::next_cand`]), in place: a
    /// candidate made and then copied into the slot is read back before the copy's stores
    /// are done, which stalls.
    #[inline(always)]
    pub(crate) fn compute<'h>(
        &self,
        cx: &ClientCtx<'h>,
        it: &ItemCtx<'h>,
        slot: &mut Slot,
        sends: &ItemSends,
        keys: &[EventKey],
        out: &mut dyn Notes,
    ) {
        slot.cand = self.next_cand(cx, it, slot, sends, keys, out);
    }

    /// The slot's next candidate: the next occurrence not superseded, spaced, shifted off
    /// non-working days, past pauses and the client's gap. Reports what it skips to `out`.
    #[inline(always)]
    pub(crate) fn next_cand<'h>(
        &self,
        cx: &ClientCtx<'h>,
        it: &ItemCtx<'h>,
        slot: &mut Slot,
        sends: &ItemSends,
        keys: &[EventKey],
        out: &mut dyn Notes,
    ) -> Option<Candidate> {
        let rule = &self.rules[slot.rule];
        let item = it.item;
        let mut guard = 0u32;
        'occurrences: loop {
            guard += 1;
            if guard > slot.count.saturating_add(2) {
                return None;
            }
            if slot.next_occ > slot.count {
                // History may record occurrences past the count (the count was lowered, or
                // odd records): the count is reached all the same, and said under the first
                // occurrence past it (never under a key that went).
                let past_count = slot.next_occ > slot.count.saturating_add(1);
                slot.next_occ = slot.count.saturating_add(1);
                match (slot.every, slot.last_rule) {
                    (Some(every), Some(last)) if out.keeps() => {
                        // The next repeat it would make, explained as of now if it is gone.
                        let next = add_days(last, i64::from(every))?.max(cx.today);
                        out.note(cx, it, slot, next, Reason::count_reached(slot.count));
                    }
                    // A rule without repeats has nothing more to say once it went, unless
                    // history went past its count: then that is said, as of now.
                    (None, Some(_)) if past_count => {
                        out.note(cx, it, slot, cx.today, Reason::count_reached(slot.count));
                    }
                    _ => {}
                }
                return None;
            }
            // A day past the end of the calendar: never, said as of now.
            let never = |out: &mut dyn Notes| {
                out.note(cx, it, slot, cx.today, Reason::plain(Kind::NoDayToSend));
                None
            };
            let Some(nominal) = occurrence_day(slot.anchor_on, slot.offset, slot.every, slot.next_occ) else {
                // Before the calendar's first day, a "due soon" is long too late.
                let steps =
                    i64::from(slot.next_occ.max(1) - 1).saturating_mul(i64::from(slot.every.unwrap_or(0)));
                if let (Anchor::Due, Some(due), true) = (
                    self.rules[slot.rule].anchor,
                    it.due,
                    i64::from(slot.offset).saturating_add(steps) < 0,
                ) {
                    out.note(cx, it, slot, cx.today, Reason::due_soon_after_due(due));
                    return None;
                }
                return never(out);
            };
            // A send of another rule on or after this day, or of a later stage, supersedes
            // this occurrence; not a "due soon" whose first superseding send is on or after
            // the due date: unsent until then, it was too late already (the plans before that
            // send said so), whatever went since. (Among them, one that could never go
            // before the due date: the item was issued on it or later.)
            let too_late_by = |s: &&Send| {
                rule.anchor == Anchor::Due && it.due.is_some_and(|due| nominal < due && s.date >= due)
            };
            let superseding = sends.superseding(slot.rule, nominal, |a, b| cx.inputs.cmp_keys(keys, a, b));
            // The day such a send found it too late already, if one did.
            let too_late_on = superseding.filter(too_late_by).map(|s| s.date);
            // A "due soon" still unsent when it was too late (from `first`: its due date, or
            // its own day if later) is said so on that day, whatever the client is sent
            // since; once that day has left the window (the lookback), as of now, the day the
            // catch-up would send it; but not later than a send that found it too late: that
            // plan said so.
            let said_too_late = |first: NaiveDate| match too_late_on {
                Some(sent) if !cx.in_window(first) => cx.now_or(first).min(sent),
                _ => cx.now_or(first),
            };
            // (One that had expired before that send went was dropped first: it is said
            // expired below, and the next repeat spaced from its own day.)
            let expired_first = |s: &Send| {
                rule.expires_after
                    .is_some_and(|days| self.expired_before(cx, it, slot, sends, nominal, days, s.date))
            };
            if let Some(s) = superseding.filter(|s| !too_late_by(s) && !expired_first(s)) {
                // Every later occurrence up to that send's day is superseded by it too: the
                // sends that supersede a later occurrence are some of those that supersede
                // this one, and it is among them. (Neither is it too late for them: they
                // fall before the due date only if the send does; nor expired before it:
                // their own days are later.) Passed over in one step.
                pass_superseded(cx, it, slot, s, nominal, out);
                continue;
            }
            let Some(Spacing {
                date,
                spacing_ends,
                gap_spaced_from,
                spaced_after,
            }) = spacing(cx, item, slot, slot.last_manual, nominal)
            else {
                return never(out);
            };
            if let Some(manual) = spaced_after {
                // Held for good before the manual send: it stays so, on that day (the manual
                // send spaces the rule's next occurrence, it does not move this one).
                if let Some((from, pause)) = self.held_before_manual(cx, it, slot, sends, nominal, manual) {
                    out.note(cx, it, slot, cx.now_or(from), Reason::paused(pause));
                    return None;
                }
                if let Some((its_day, days)) =
                    self.expired_before_manual(cx, it, slot, sends, nominal, manual)
                {
                    out.note(cx, it, slot, its_day, Reason::expired(days));
                    slot.next_occ += 1;
                    slot.last_rule = slot.last_rule.max(Some(its_day));
                    continue;
                }
            }
            let before_due = rule.anchor == Anchor::Due && it.due.is_some_and(|d| nominal < d);
            if !before_due && date > cx.end_date {
                // Past the horizon's last day, and only ever moved later: not sent in this
                // plan, and every move from here (off non-working days, past pauses) would
                // start past the days a plan explains. Left unresolved.
                return Some(Candidate {
                    nominal,
                    date,
                    scheduled: date,
                    spaced_after,
                    send: SendAt::SendTime,
                    moves: SmallList::new(),
                    caught_up_after: None,
                    expires: false,
                });
            }
            // The day it goes had every plan run at its send time: off non-working days,
            // past pauses and the client's gap.
            let dir = self.direction(item, date, spacing_ends, before_due);
            // The first day a "due soon" was too late, `its_day` being the day it was to go:
            // its due date, or that day if later; not a day the spacing took it to.
            let spaced_to = date;
            let late_from = |its_day: NaiveDate, due: NaiveDate| {
                self.too_late_from(item, nominal, (spaced_to, dir), its_day, due)
            };
            // Its day, to expire from: the day it was to go before a pause or the minimum gap
            // held it back (`moves`; else `scheduled`, the day it goes).
            let gap_held_from = gap_spaced_from.map(|d| self.calendar.shift(d, Shift::Later).unwrap_or(d));
            let waiting_since = |moves: &[Adjustment], scheduled: NaiveDate| {
                gap_held_from
                    .into_iter()
                    .fold(held_since(moves, scheduled), NaiveDate::min)
            };
            let mut moves = SmallList::new();
            // A pause without end that holds it: held for good, unless the gap had already
            // held it past its expiry before the pause began (then it expired on its day,
            // as the plans before the pause said, below).
            // (Its day, to expire from, as below: not moved by a manual send made after it.)
            let expired_by = |slot: &Slot, moves: &[Adjustment], from: NaiveDate| {
                rule.expires_after.is_some_and(|days| {
                    let its_day = self.expires_from(cx, it, slot, sends, nominal, waiting_since(moves, from));
                    add_days(its_day, i64::from(days)).is_some_and(|last| last < from)
                })
            };
            // A "due soon" a pause without end holds from its due date or later was too late
            // first (it could not go before its due date), unless its expiry ran out before
            // that date: too late, as a catch-up past its due date is, whatever pause holds it
            // then. Its due date, if so.
            let too_late_when_held = |moves: &[Adjustment], from: NaiveDate| {
                it.due.filter(|&due| {
                    before_due
                        && from >= due
                        && !rule.expires_after.is_some_and(|days| {
                            add_days(waiting_since(moves, from), i64::from(days))
                                .is_some_and(|last| last < due)
                        })
                })
            };
            let mut held_for_good = None;
            let resolved = self.resolve_day(
                cx,
                it,
                slot,
                date,
                dir,
                &mut moves,
                &mut *out,
                Some(&mut held_for_good),
            );
            let (mut scheduled, mut expired_before_the_pause) = match (resolved, held_for_good) {
                (Some((day, _)), _) => (day, false),
                (None, Some((from, pause))) => {
                    if let Some(due) = too_late_when_held(&moves, from) {
                        let on = said_too_late(late_from(waiting_since(&moves, from), due));
                        out.note(cx, it, slot, on, Reason::due_soon_after_due(due));
                        slot.next_occ += 1;
                        continue;
                    }
                    if !expired_by(slot, &moves, from) {
                        out.note(cx, it, slot, cx.now_or(from), Reason::paused(pause));
                        return None;
                    }
                    (from, true)
                }
                (None, None) => return None,
            };
            // One reminder a day about an item: on a day another reminder about it went (or
            // goes), of an earlier stage (a later one supersedes it), it moves to the next
            // working day.
            for _ in 0..4 {
                if expired_before_the_pause || !sends.other_on(slot.rule, scheduled) {
                    break;
                }
                let Some(next) = add_days(scheduled, 1).and_then(|d| self.calendar.shift(d, Shift::Later))
                else {
                    out.note(cx, it, slot, scheduled, Reason::plain(Kind::NoDayToSend));
                    return None;
                };
                moves.push(Adjustment::AfterAnotherReminder {
                    from: scheduled,
                    to: next,
                });
                // (Moved onto a pause without end: held for good, unless it had expired by
                // then, as above.)
                let mut held_for_good = None;
                let resolved = self.resolve_day(
                    cx,
                    it,
                    slot,
                    next,
                    Shift::Later,
                    &mut moves,
                    &mut *out,
                    Some(&mut held_for_good),
                );
                match (resolved, held_for_good) {
                    (Some((day, _)), _) => scheduled = day,
                    (None, Some((from, pause))) => {
                        if let Some(due) = too_late_when_held(&moves, from) {
                            let on = said_too_late(late_from(waiting_since(&moves, from), due));
                            out.note(cx, it, slot, on, Reason::due_soon_after_due(due));
                            slot.next_occ += 1;
                            continue 'occurrences;
                        }
                        if !expired_by(slot, &moves, from) {
                            out.note(cx, it, slot, cx.now_or(from), Reason::paused(pause));
                            return None;
                        }
                        (scheduled, expired_before_the_pause) = (from, true);
                    }
                    (None, None) => return None,
                }
            }
            let mut date = scheduled;
            let mut caught_up: Option<u8> = None;
            let mut held = false;
            // Its day, to expire from: the day it was to go before a pause or the minimum gap
            // held it back (a send a pause holds back goes as a missed one does; one the gap
            // holds back goes late as well).
            let mut its_day = waiting_since(&moves, scheduled);
            // (A manual send may move it without spacing it: a "due soon" it keeps from moving
            // earlier off a non-working day.)
            if slot.last_manual.is_some() && rule.expires_after.is_some() {
                its_day = self.expires_from(cx, it, slot, sends, nominal, its_day);
            }
            if scheduled < cx.today {
                // Its send instant is gone and it was not sent (an outage, or a tick before the
                // send time): it goes at the first plan on a working day, today's if today is
                // one, unless it is a "due soon" now too late or it expired.
                // A "due soon" is too late first unless its expiry runs out before the due date
                // (then it expired first, below).
                let too_late_first = before_due
                    && it.due.is_some_and(|due| {
                        !rule.expires_after.is_some_and(|days| {
                            add_days(its_day, i64::from(days)).is_some_and(|last| last < due)
                        })
                    });
                // A pause without end that began while it waited (missed, or held back by
                // the gap) and holds it now: held for good from the pause's first working day,
                // unless it had expired by then (said so below), as every plan since says.
                let goes = self.calendar.shift(cx.today, Shift::Later).unwrap_or(cx.today);
                let pauses = !(item.pauses.is_empty() && cx.client.pauses.is_empty());
                let held_for_good = (pauses && rule.anchor != Anchor::Paid && !slot.past_pauses)
                    .then(|| self.endless_began(cx, item, scheduled, goes))
                    .flatten()
                    .filter(|&(from, _)| {
                        !rule.expires_after.is_some_and(|days| {
                            add_days(its_day, i64::from(days)).is_some_and(|last| last < from)
                        })
                    });
                // (Not one such a pause held for good before its due date: dropped first.)
                let held_before_due = held_for_good
                    .zip(it.due)
                    .is_some_and(|((from, _), due)| from < due);
                if let (true, Some(due)) = (too_late_first && !held_before_due, it.due) {
                    if cx.today >= due {
                        // Too late from its due date (or its own day, if later), as a "due
                        // soon" held back past it is.
                        let on = said_too_late(late_from(its_day, due));
                        out.note(cx, it, slot, on, Reason::due_soon_after_due(due));
                        slot.next_occ += 1;
                        continue;
                    }
                }
                // (One too late first is said so below.)
                if let Some(days) = rule
                    .expires_after
                    .filter(|_| !too_late_first && held_for_good.is_none())
                {
                    // Expired if it would go too late: a working day is what it waits for. A
                    // dropped repeat never went: the next is spaced from the day it was to go.
                    if add_days(its_day, i64::from(days)).is_some_and(|last| goes > last) {
                        out.note(cx, it, slot, its_day, Reason::expired(days));
                        slot.next_occ += 1;
                        slot.last_rule = slot.last_rule.max(Some(its_day));
                        self.pass_expired_run(cx, it, slot, sends, goes, days);
                        continue;
                    }
                }
                // A "due soon" whose catch-up would go on or after the due date is not sent,
                // whatever pause would also hold it then: too late from its due date.
                if let (true, Some(due), Some(goes)) = (
                    before_due && !held_before_due,
                    it.due,
                    self.calendar.shift(cx.today, Shift::Later),
                ) {
                    if goes >= due {
                        out.note(
                            cx,
                            it,
                            slot,
                            said_too_late(late_from(its_day, due)),
                            Reason::due_soon_after_due(due),
                        );
                        slot.next_occ += 1;
                        continue;
                    }
                }
                if let Some((from, pause)) = held_for_good {
                    // (As of now once that day has left the window: the day it would go may be
                    // past a plan's last day, a weekend plan's without a horizon.)
                    let on = cx.now_or(from);
                    out.note(cx, it, slot, on, Reason::paused(pause));
                    return None;
                }
                let at = moves.len();
                caught_up = Some(u8::try_from(at).unwrap_or(u8::MAX));
                (date, held) =
                    self.resolve_day(cx, it, slot, cx.today, Shift::Later, &mut moves, &mut *out, None)?;
                if let Some(days) = rule.expires_after.filter(|_| !too_late_first) {
                    // A pause that holds it from today pushes it later still: expired if that
                    // is too late, as one a pause held from its own day is.
                    if add_days(its_day, i64::from(days)).is_some_and(|last| date > last) {
                        out.note(cx, it, slot, its_day, Reason::expired(days));
                        slot.next_occ += 1;
                        slot.last_rule = slot.last_rule.max(Some(its_day));
                        continue;
                    }
                }
                if pauses && rule.anchor != Anchor::Paid && !slot.past_pauses {
                    self.name_past_holds(cx, &item.pauses, scheduled, at, &mut moves);
                }
            } else if let Some(days) = rule.expires_after.filter(|_| its_day < scheduled) {
                // A pause or the gap holds it past its expiry: dropped, said on its day. The
                // next repeat is spaced from that day, not from the day it would have gone
                // after the pause (it never went).
                if let Some(last) = add_days(its_day, i64::from(days)).filter(|&last| scheduled > last) {
                    if let Some(due) = it.due.filter(|&d| before_due && d <= last) {
                        // A "due soon" whose due date came before its expiry was too late
                        // first: said so (it did not expire, and spaces no later repeat), as
                        // the plans before the hold grew said, on the first day it was too
                        // late: its due date, or its own day if that was later (whatever
                        // message to the client or send about the item came since).
                        let on = said_too_late(late_from(its_day, due));
                        out.note(cx, it, slot, on, Reason::due_soon_after_due(due));
                        slot.next_occ += 1;
                        continue;
                    }
                    let settled = its_day < cx.today || cx.swept_to.get().is_some_and(|d| its_day <= d);
                    if !settled && out.keeps() {
                        // A day still to come: a send that goes before it (another rule's, or
                        // a later stage) may supersede it yet. Decided when the plan gets there.
                        cx.left_to_expire.set(true);
                        return Some(Candidate {
                            nominal,
                            date: its_day,
                            scheduled,
                            spaced_after,
                            send: SendAt::SendTime,
                            moves,
                            caught_up_after: None,
                            expires: true,
                        });
                    }
                    out.note(cx, it, slot, its_day, Reason::expired(days));
                    slot.next_occ += 1;
                    slot.last_rule = slot.last_rule.max(Some(its_day));
                    continue;
                }
            }
            if let Some(due) = it.due.filter(|&d| before_due && date >= d) {
                // Held past the due date by a pause, on a day past the window: the pause says
                // why, as of the day it held it back. (Held back by the gap first, it was too
                // late before any pause held it: said as too late.)
                let held_by_pause = moves
                    .iter()
                    .find(|a| matches!(a, Adjustment::Paused { .. } | Adjustment::Deferred { .. }))
                    .filter(|a| matches!(a, Adjustment::Paused { .. }))
                    .and_then(|a| adjustment_note(cx, a))
                    // (A pause over before the window is no longer why: too late, as of now;
                    // nor is one still running once the due date came: too late since then.)
                    .filter(|(on, _)| !cx.in_window(date) && *on >= cx.window_start && cx.today < due);
                // Else on the first day it was too late (its due date, or its own day if
                // later), as every plan says it whatever the client is sent meanwhile.
                let (on, reason) = held_by_pause.unwrap_or((
                    said_too_late(late_from(its_day, due)),
                    Reason::due_soon_after_due(due),
                ));
                out.note(cx, it, slot, on, reason);
                slot.next_occ += 1;
                continue;
            }
            return Some(Candidate {
                nominal,
                date,
                scheduled,
                spaced_after,
                // A catch-up a pause or the gap held back is a missed send still on the day
                // it may go: it goes at that day's first tick.
                send: if caught_up.is_none() {
                    if paused_onto_its_day(&moves) {
                        SendAt::DayStart
                    } else {
                        SendAt::SendTime
                    }
                } else if date == cx.today && !held {
                    let before = caught_up.map_or(0, usize::from).min(moves.len());
                    if moves.get(..before).is_some_and(paused_onto_its_day) {
                        SendAt::MissedFromDayStart
                    } else {
                        SendAt::Missed
                    }
                } else {
                    SendAt::DayStart
                },
                moves,
                caught_up_after: caught_up,
                expires: false,
            });
        }
    }

    /// A catch-up names the pauses that held it back on its way to today: each pause with an
    /// end that covered a working day after `scheduled` and before today (when a tick would
    /// have sent it), as held from the first such day; those the moves from today (after
    /// `at`) name already are left to them.
    #[cold]
    pub(crate) fn name_past_holds(
        &self,
        cx: &ClientCtx<'_>,
        item_pauses: &[Pause],
        scheduled: NaiveDate,
        at: usize,
        moves: &mut SmallList<Adjustment>,
    ) {
        let (Some(first), Some(last)) = (add_days(scheduled, 1), add_days(cx.today, -1)) else {
            return;
        };
        let (before, after) = moves.split_at(at.min(moves.len()));
        // The ends of the pauses the moves from today name.
        let named: SmallList<NaiveDate> = after
            .iter()
            .filter_map(|a| match a {
                Adjustment::Paused { until, .. } => Some(*until),
                _ => None,
            })
            .collect();
        let mut held: Vec<Adjustment> = item_pauses
            .iter()
            .chain(&cx.client.pauses)
            .filter_map(|p| {
                let until = p.until?;
                let from = p.from.map_or(first, |f| f.max(first));
                let day = self.calendar.shift(from, Shift::Later)?;
                (day <= until.min(last) && !named.contains(&until)).then_some(Adjustment::Paused {
                    pause: p.kind,
                    until,
                    from: day,
                })
            })
            .collect();
        if held.is_empty() {
            return;
        }
        held.sort_by_key(|a| match a {
            Adjustment::Paused { from, until, .. } => (*from, *until),
            _ => (NaiveDate::MIN, NaiveDate::MIN),
        });
        *moves = before
            .iter()
            .cloned()
            .chain(held)
            .chain(after.iter().cloned())
            .collect();
    }

    /// The gap defers a reminder from `date` to `gap_ends`, said in `moves`, with the pauses
    /// (when `pauses` may hold it) that held it too: a missed send would have gone from
    /// today, so the pauses that held it from then on, before the gap did, are named before
    /// the deferral (the gap's day is past them); one that would have let it go on the gap's
    /// first working day too held it last, named after it.
    #[cold]
    #[inline(never)]
    fn defer_for_gap(
        &self,
        cx: &ClientCtx<'_>,
        item: &Item,
        date: NaiveDate,
        gap_ends: NaiveDate,
        pauses: bool,
        moves: &mut SmallList<Adjustment>,
    ) {
        if pauses && date < cx.today {
            self.name_holds_before_gap(cx, item, gap_ends, moves);
        }
        moves.push(Adjustment::Deferred {
            gap_days: cx.gap,
            from: date,
        });
        if pauses {
            if let Some(pause) = self.pause_ending_with_gap(cx, item, date, gap_ends) {
                last_hold(moves, pause);
            }
        }
    }

    /// A pause that held a reminder back on a working day between `from` (where the gap
    /// deferred it) and `gap_ends`, and that would have let it go on the same working day as
    /// the gap does: when both end together the pause held it last, so its send instant
    /// passed during the pause and it goes at the start of that day (as forecast before the
    /// message that set the gap went: the pause moved it there and the gap no longer held it).
    #[cold]
    fn pause_ending_with_gap(
        &self,
        cx: &ClientCtx<'_>,
        item: &Item,
        from: NaiveDate,
        gap_ends: NaiveDate,
    ) -> Option<Adjustment> {
        let goes = self.calendar.shift(gap_ends, Shift::Later)?;
        item.pauses.iter().chain(&cx.client.pauses).find_map(|p| {
            let until = p.until?;
            let held = self
                .calendar
                .shift(p.from.map_or(from, |f| f.max(from)), Shift::Later)?;
            let released = add_days(until, 1).and_then(|d| self.calendar.shift(d, Shift::Later))?;
            (held < gap_ends && held <= until && released == goes).then_some(Adjustment::Paused {
                pause: p.kind,
                until,
                from: held,
            })
        })
    }

    /// The pause without end that began while an occurrence waited, after `since` and by
    /// `by`, and the first working day it held it: the earliest such day, whatever pause
    /// comes later (of two that begin the same day, the last, as [`active_pause`] picks).
    /// One rule for every wait: the minimum gap holding it back, a missed send waiting for
    /// its catch-up, and one a manual send spaced later.
    #[cold]
    fn endless_began(
        &self,
        cx: &ClientCtx<'_>,
        item: &Item,
        since: NaiveDate,
        by: NaiveDate,
    ) -> Option<(NaiveDate, PauseRef)> {
        let index = |i: usize| u32::try_from(i).unwrap_or(u32::MAX);
        let on_item = item.pauses.iter().enumerate().map(|(i, p)| (true, i, p));
        let on_client = cx.client.pauses.iter().enumerate().map(|(i, p)| (false, i, p));
        on_item
            .chain(on_client)
            .filter_map(|(on_item, i, p)| {
                let from = p.from.filter(|&f| p.until.is_none() && f > since && f <= by)?;
                let day = self.calendar.shift(from, Shift::Later)?;
                Some((
                    day,
                    PauseRef {
                        on_item,
                        index: index(i),
                    },
                ))
            })
            .max_by_key(|&(day, _)| std::cmp::Reverse(day))
    }

    /// A missed send the gap holds back to `gap_ends` would have gone from today: each pause
    /// with an end that held it from then on, before that day, is added to `moves` as held
    /// from the first working day it covered.
    #[cold]
    fn name_holds_before_gap(
        &self,
        cx: &ClientCtx<'_>,
        item: &Item,
        gap_ends: NaiveDate,
        moves: &mut SmallList<Adjustment>,
    ) {
        let mut day = self.calendar.shift(cx.today, Shift::Later);
        // Each turn passes one pause: at most as many turns as pauses.
        for _ in 0..(item.pauses.len() + cx.client.pauses.len()) {
            let Some(d) = day.filter(|&d| d < gap_ends) else {
                return;
            };
            let Some((_, p)) = active_pause(item, cx.client, d) else {
                return;
            };
            let Some(until) = p.until.filter(|&u| u < gap_ends) else {
                return;
            };
            moves.push(Adjustment::Paused {
                pause: p.kind,
                until,
                from: d,
            });
            day = add_days(until, 1).and_then(|n| self.calendar.shift(n, Shift::Later));
        }
    }

    /// The day a reminder meant for `date` goes: moved off non-working days (in direction
    /// `dir`), past the client's gap and past pauses with an end, each move added to `moves`;
    /// and whether a pause or the gap moved it (then it goes at the send time of that day).
    /// `None` when a pause without end holds it (reported to `out`, or, with `held_for_good`,
    /// put there with the day it holds it from, for the caller to say) or no day is found.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    pub(crate) fn resolve_day(
        &self,
        cx: &ClientCtx<'_>,
        it: &ItemCtx<'_>,
        slot: &Slot,
        mut date: NaiveDate,
        mut dir: Shift,
        moves: &mut SmallList<Adjustment>,
        out: &mut dyn Notes,
        held_for_good: Option<&mut Option<(NaiveDate, PauseRef)>>,
    ) -> Option<(NaiveDate, bool)> {
        let rule = &self.rules[slot.rule];
        let item = it.item;
        let mut held = false;
        // No day to go on: explained on the last day it had.
        // A stop that holds now is explained as of now, not on a day gone by.
        let nowhere = |date: NaiveDate, out: &mut dyn Notes| {
            out.note(cx, it, slot, date, Reason::plain(Kind::NoDayToSend));
            None
        };
        // A pause without end holds it from `date`: said as of now, or handed to the caller.
        let held_for_good_from = |date: NaiveDate,
                                  at: PauseRef,
                                  found: Option<&mut Option<(NaiveDate, PauseRef)>>,
                                  out: &mut dyn Notes| {
            match found {
                Some(found) => *found = Some((date, at)),
                None => out.note(cx, it, slot, cx.now_or(date), Reason::paused(at)),
            }
            None
        };
        for _ in 0..(item.pauses.len() + cx.client.pauses.len() + 4) {
            let Some(shifted) = self.calendar.shift(date, dir) else {
                return nowhere(date, out);
            };
            if shifted != date {
                moves.push(Adjustment::MovedOffNonWorkingDay {
                    from: date,
                    to: shifted,
                });
                date = shifted;
            }
            if rule.anchor != Anchor::Paid && !slot.past_pauses {
                let paused = if item.pauses.is_empty() && cx.client.pauses.is_empty() {
                    None
                } else {
                    active_pause(item, cx.client, date)
                };
                if let Some((at, p)) = paused {
                    match p.until {
                        None => return held_for_good_from(date, at, held_for_good, out),
                        Some(until) => {
                            moves.push(Adjustment::Paused {
                                pause: p.kind,
                                until,
                                from: date,
                            });
                            // A pause to the calendar's last day holds for good: said as
                            // of now, as a pause without end is.
                            let Some(next) = add_days(until, 1) else {
                                return held_for_good_from(date, at, held_for_good, out);
                            };
                            date = next;
                            dir = Shift::Later;
                            held = true;
                            continue;
                        }
                    }
                }
            }
            // The gap after the client's last message, once pauses no longer hold it (so
            // it is deferred from the day it would have gone, and a pause that held it is
            // named).
            if let Some(nb) = slot.not_before {
                if date < nb {
                    let pauses = !(item.pauses.is_empty() && cx.client.pauses.is_empty())
                        && rule.anchor != Anchor::Paid
                        && !slot.past_pauses;
                    // A pause without end that begins while the gap holds it holds it for
                    // good from its first working day: later messages to the client (which
                    // move the gap's end) do not move that day.
                    // (The gap held it from `date`: it expires from then.)
                    if let Some((from, at)) = pauses
                        .then(|| self.calendar.shift(nb, Shift::Later))
                        .flatten()
                        .and_then(|goes| self.endless_began(cx, item, date, goes))
                    {
                        moves.push(Adjustment::Deferred {
                            gap_days: cx.gap,
                            from: date,
                        });
                        return held_for_good_from(from, at, held_for_good, out);
                    }
                    self.defer_for_gap(cx, item, date, nb, pauses, moves);
                    date = nb;
                    dir = Shift::Later;
                    held = true;
                    continue;
                }
            }
            return Some((date, held));
        }
        None
    }
}
