//! Client-level events: account statements and standing notices, planned from the same
//! client context as the item events, after them, and written to the same plan. Where a
//! notice goes is decided in `decide::notice`, which debts count for the standing in
//! `decide::standing`; this module finds each notice's occurrences and items, and records.

use super::*;
use crate::plan::SuppressReasonKind as Kind;
use crate::plan::decide::notice::{Hold, Holds, NoticeDay, Placed, Stop};
use crate::plan::decide::standing::{owed_span, run_start};
use crate::plan::explain::{key_date, key_is, write_client_key};
use crate::plan::schedule::AccountInfo;
use crate::standing::{ClientStanding, StandingState};

/// A statement or standing notice in history.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClientSend<'h> {
    pub(crate) rule: &'h str,
    pub(crate) sent_at: DateTime<Utc>,
    pub(crate) key: &'h EventKey,
}

/// How far back statements are looked for on catch-up.
const STATEMENT_REACH_DAYS: u64 = 400;

/// The dates of each statement rule, expanded once per plan over every client's window
/// (dates are local, so one expansion serves every time zone) and only over it, whenever
/// the rule started; client overrides of the RRULE are expanded once per distinct rule text.
pub(crate) struct Occurrences {
    from: NaiveDate,
    to: NaiveDate,
    policy: Vec<Result<Arc<[NaiveDate]>, ValidationError>>,
    overrides: HashMap<(usize, String), Arc<[NaiveDate]>>,
    /// A client's occurrences gone and not sent, reused from client to client.
    unsent: Vec<NaiveDate>,
    /// A client's debts as its standing counts them, reused from client to client.
    debts: Vec<Debt>,
}

/// An item's debt as the client's standing counts it: the days from which it keeps the
/// client at or past each threshold ("closing soon", "closed"; none: never), until the day
/// it was paid or a pause without end began (none: for good).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Debt {
    /// The first day it is overdue.
    overdue: Option<NaiveDate>,
    from: [Option<NaiveDate>; 2],
    /// The day it was paid (none: still owed).
    to: Option<NaiveDate>,
    /// The day a pause without end began: from then it does not count toward the standing
    /// (the run of days the client is in a state is the debt's, which the pause leaves).
    cut: Option<NaiveDate>,
    /// Its position among the client's items.
    at: usize,
}

impl Occurrences {
    pub(crate) fn new(planner: &Planner, now: DateTime<Utc>, horizon: Horizon) -> Self {
        let today = now.date_naive();
        // The lookback reaches back at most `limits::MAX_DAYS`, so that a daily rule lists
        // at most a century of dates however long the planner's lookback.
        let reach = STATEMENT_REACH_DAYS
            .max(u64::from(planner.lookback_days))
            .min(u64::from(crate::limits::MAX_DAYS))
            + 2;
        let from = today.checked_sub_days(Days::new(reach)).unwrap_or(NaiveDate::MIN);
        let to = today
            .checked_add_days(Days::new(u64::from(horizon.as_days()) + 2))
            .unwrap_or(NaiveDate::MAX);
        let policy = planner
            .statements
            .iter()
            .zip(&planner.policy.statements)
            .map(|(set, st)| {
                crate::statement::expand(st.id.as_str(), set, &st.rrule, from, to).map(Arc::from)
            })
            .collect();
        Self {
            from,
            to,
            policy,
            overrides: HashMap::default(),
            unsent: Vec::new(),
            debts: Vec::new(),
        }
    }

    fn get(
        &mut self,
        planner: &Planner,
        index: usize,
        client: &Client,
        rrule: Option<&str>,
    ) -> Result<Arc<[NaiveDate]>, ValidationError> {
        let Some(rrule) = rrule else {
            return self
                .policy
                .get(index)
                .cloned()
                .unwrap_or_else(|| Ok(Arc::from([])));
        };
        if let Some(dates) = self.overrides.get(&(index, rrule.to_owned())) {
            return Ok(dates.clone());
        }
        let Some(st) = planner.policy.statements.get(index) else {
            return Ok(Arc::from([]));
        };
        let name = format!("{} (client {})", st.id, client.id);
        let dates: Arc<[NaiveDate]> = Arc::from(crate::statement::window(
            &name, rrule, st.start, self.from, self.to,
        )?);
        self.overrides.insert((index, rrule.to_owned()), dates.clone());
        Ok(dates)
    }
}

/// The key of a client-level event: `rule/client/date`.
fn notice_key(cx: &ClientCtx<'_>, rule: RuleIx, date: NaiveDate) -> KeyRef {
    KeyRef::Client {
        rule,
        client: cx.index,
        date,
    }
}

/// A client-level suppressed entry.
fn client_suppressed(
    cx: &ClientCtx<'_>,
    rule: RuleIx,
    key: KeyRef,
    on: NaiveDate,
    reason: Reason,
) -> SuppressedRecord {
    SuppressedRecord {
        key,
        reason,
        client: cx.index,
        item: ItemIx::NONE,
        on,
        rule,
    }
}

/// The items of `listed` as a run of the member table.
fn listed<'a>(tables: &mut Tables, listed: impl Iterator<Item = &'a ItemCtx<'a>>) -> Members {
    let start = tables.members.len();
    tables.members.extend(listed.map(|c| (c.index, 1)));
    Members::run(start, tables.members.len() - start)
}

/// Items that still owe money and are collected (not older than the collection start for
/// past items), in id order: what a statement lists.
fn owing<'a>(
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

/// The items a statement of `date` going on `send_on` lists: owed, issued by its date (a
/// statement caught up later lists no item issued since), overdue by then if it lists only
/// those. An older statement of the rule lists no more than a later one going the same day.
fn statement_items<'a>(
    ctxs: &'a [ItemCtx<'a>],
    policy: &'a Policy,
    st: &'a crate::statement::StatementRule,
    date: NaiveDate,
    send_on: NaiveDate,
) -> impl Iterator<Item = &'a ItemCtx<'a>> + Clone + 'a {
    owing(ctxs, policy)
        .filter(move |c| c.item.issued_on <= date)
        .filter(move |c| !st.overdue_only || c.due.is_some_and(|d| d < send_on))
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

/// Says the occurrences `superseded` (date, day to explain it on) superseded by the one of
/// `date`.
fn supersede(
    cx: &ClientCtx<'_>,
    rule: RuleIx,
    superseded: impl IntoIterator<Item = (NaiveDate, NaiveDate)>,
    date: NaiveDate,
    plan: &mut Schedule<'_>,
) {
    let by = notice_key(cx, rule, date);
    for (d, on) in superseded {
        if cx.in_window(on) {
            plan.suppressed.push(client_suppressed(
                cx,
                rule,
                notice_key(cx, rule, d),
                on,
                Reason::superseded(by),
            ));
        }
    }
}

/// A statement rule as planned for one client.
struct Statement<'p> {
    st: &'p crate::statement::StatementRule,
    rule: RuleIx,
    /// What stops it for the client, if anything.
    block: Option<Reason>,
    mask: u8,
}

struct Notice {
    rule: RuleIx,
    stage: Stage,
    nominal: NaiveDate,
    /// The day it is about (a statement's date; the day the oldest item it lists put the
    /// client in the state).
    anchor: NaiveDate,
    /// The day it was to go.
    scheduled: NaiveDate,
    placed: Placed,
    items: Members,
    mask: u8,
    info: AccountInfo,
}

impl Planner {
    /// Whether `id` is a statement rule or a standing notice.
    pub(crate) fn is_account_rule(&self, id: &str) -> bool {
        self.policy.statements.iter().any(|s| s.id.as_str() == id)
            || self
                .policy
                .standing
                .as_ref()
                .is_some_and(|s| s.closing_soon_id.as_str() == id || s.closed_id.as_str() == id)
    }

    fn emit(&self, cx: &ClientCtx<'_>, n: Notice, plan: &mut Schedule<'_>) {
        let info = u32::try_from(plan.tables.infos.len()).unwrap_or(u32::MAX);
        plan.tables.infos.push(n.info);
        let (send_on, send_at) = cx.placed(n.placed.goes_on, n.scheduled, n.placed.send);
        let event = EventRecord {
            key: notice_key(cx, n.rule, n.nominal),
            send_at,
            send_on,
            anchor_on: n.anchor,
            nominal_on: n.nominal,
            client: cx.index,
            occurrence: 1,
            count: 1,
            offset_days: 0,
            rule: n.rule,
            stage: n.stage,
            mask: n.mask,
            members: n.items,
            adjustments: plan
                .tables
                .adjusted(|a| a.extend_from_slice(&n.placed.adjustments)),
            info,
        };
        cx.list(event, &mut plan.due, &mut plan.upcoming);
    }

    /// Explains the pauses that held back a client-level event, as items' moves are: each
    /// the client's, or else that of one of `items` (the items it is about).
    fn note_pauses(
        cx: &ClientCtx<'_>,
        rule: RuleIx,
        key: KeyRef,
        moves: &[Adjustment],
        items: &[ItemCtx<'_>],
        plan: &mut Schedule<'_>,
    ) {
        for a in moves {
            let (Adjustment::Paused { pause, until, .. }, Some((on, reason))) = (a, adjustment_note(cx, a))
            else {
                continue;
            };
            if !cx.in_window(on) {
                continue;
            }
            let is = |p: &Pause| p.kind == *pause && p.until == Some(*until);
            let item = if cx.client.pauses.iter().any(is) {
                ItemIx::NONE
            } else {
                items
                    .iter()
                    .find(|c| c.item.pauses.iter().any(is))
                    .map_or(ItemIx::NONE, |c| c.index)
            };
            plan.suppressed.push(SuppressedRecord {
                item,
                ..client_suppressed(cx, rule, key, on, reason)
            });
        }
    }

    pub(crate) fn plan_statements<'h>(
        &self,
        cx: &ClientCtx<'h>,
        ctxs: &[ItemCtx<'h>],
        hist: &HistoryIndex<'h>,
        occurrences: &mut Occurrences,
        plan: &mut Schedule<'h>,
    ) -> Result<(), ValidationError> {
        let client = cx.client;
        let sends = hist
            .client_events
            .get(client.id.as_str())
            .map_or(&[][..], Vec::as_slice);
        for (si, st) in self.policy.statements.iter().enumerate() {
            let rule = self.statement_ref(si);
            let resolved = Resolved::new(&self.policy, client).notice(&st.id, st.enabled, &st.roles);
            let switched_off = resolved.switched_off();
            if !resolved.enabled.value && !switched_off {
                continue;
            }
            let mask = ContactRole::mask(resolved.roles.value);
            let block = if !Resolved::new(&self.policy, client).reminders().value {
                Some(Reason::plain(Kind::ClientRemindersOff))
            } else if switched_off {
                Some(Reason::plain(Kind::ExcludedForClient))
            } else if !cx.contacts.iter().any(|c| mask == 0 || mask & c.role.bit() != 0) {
                Some(Reason::plain(Kind::NoRecipients))
            } else {
                None
            };
            let statement = Statement {
                st,
                rule,
                block,
                mask,
            };
            let mine = || sends.iter().filter(|s| s.rule == st.id.as_str());
            // The latest period sent (its key's date: a statement caught up later than its
            // period covers that period, not the day it went), else the day it went.
            let last_sent = mine()
                .map(|s| key_date(s.key.as_str()).unwrap_or_else(|| cx.tz.local_date(s.sent_at)))
                .max();
            let dates = occurrences.get(self, si, client, resolved.rrule)?;
            // Occurrences up to today not yet sent: the latest goes (today's, or a missed one
            // on catch-up); the older ones are superseded by it.
            let mut unsent_past = std::mem::take(&mut occurrences.unsent);
            unsent_past.clear();
            let mut caught_up = false;
            // Occurrences a pause held onto the day a later one goes, as (date, day to
            // explain it on): superseded by the one that goes that day.
            let mut held_over: Vec<(NaiveDate, NaiveDate)> = Vec::new();
            // The occurrence to come before this one, planned once it is known whether this
            // one is scheduled on the same day (a pause held both): then the later one goes.
            let mut to_come: Option<(NaiveDate, NoticeDay, SmallList<Adjustment>)> = None;
            for &d in dates.iter() {
                let mut moves = SmallList::new();
                let day = self.notice_day(cx, d, &mut moves, None);
                let scheduled = day.unwrap_or_else(|s| s.on);
                // Its send instant has come (today's only once its send time has passed: one
                // still to come today does not supersede yesterday's, missed by an early tick).
                let past = cx.send_time_gone(scheduled);
                // Not after the last one sent (gone, or held by a pause onto a day a later one
                // went on): nothing to say (and no key to make).
                if last_sent.is_some_and(|l| l >= d) {
                    continue;
                }
                if mine().any(|s| key_is(s.key.as_str(), |k| write_client_key(k, &st.id, client, d))) {
                    continue;
                }
                if past {
                    unsent_past.push(d);
                    continue;
                }
                if !caught_up {
                    caught_up = true;
                    let next = Some((d, scheduled));
                    self.statement_catch_up(cx, ctxs, &statement, &unsent_past, next, &mut held_over, plan);
                }
                if let Some((p, p_day, p_moves)) = to_come.take() {
                    if p_day.is_ok_and(|s| s == scheduled) {
                        held_over.push((p, cx.now_or(self.calendar.shift(p, Shift::Later).unwrap_or(p))));
                    } else {
                        self.statement_to_come(cx, ctxs, &statement, p, p_day, p_moves, plan);
                        supersede(cx, rule, held_over.drain(..), p, plan);
                    }
                }
                if scheduled > cx.end_date {
                    // Past the horizon: what held it back is still said.
                    Self::note_pauses(cx, rule, notice_key(cx, rule, d), &moves, &[], plan);
                    supersede(cx, rule, held_over.drain(..), d, plan);
                    break;
                }
                to_come = Some((d, day, moves));
            }
            if !caught_up {
                self.statement_catch_up(cx, ctxs, &statement, &unsent_past, None, &mut held_over, plan);
            }
            if let Some((p, p_day, p_moves)) = to_come {
                self.statement_to_come(cx, ctxs, &statement, p, p_day, p_moves, plan);
                supersede(cx, rule, held_over.drain(..), p, plan);
            }
            occurrences.unsent = unsent_past;
        }
        Ok(())
    }

    /// The latest of the occurrences gone unsent goes now (or after the pauses that hold
    /// it), unless expired, or unless a pause held it back onto the day `next` (the
    /// occurrence to come, and its day) is scheduled: then it and the older ones join
    /// `held_over`, superseded by the one that goes that day. Else the older ones are
    /// superseded by it.
    #[allow(clippy::too_many_arguments)]
    fn statement_catch_up<'h>(
        &self,
        cx: &ClientCtx<'h>,
        ctxs: &[ItemCtx<'h>],
        s: &Statement<'_>,
        unsent: &[NaiveDate],
        next: Option<(NaiveDate, NaiveDate)>,
        held_over: &mut Vec<(NaiveDate, NaiveDate)>,
        plan: &mut Schedule<'h>,
    ) {
        let Some((&latest, older)) = unsent.split_last() else {
            return;
        };
        let rule = s.rule;
        let key = notice_key(cx, rule, latest);
        let mut moves = SmallList::new();
        let day = self.notice_day(cx, latest, &mut moves, None);
        let (scheduled, placement) = self.notice_placement(cx, day, moves, None);
        if let (Ok(placed), Some((_, next_on))) = (&placement, next) {
            if placed.goes_on >= next_on && self.paused_onto(placed) {
                // A pause held it onto the day the next one goes: that one goes instead.
                held_over.extend(older.iter().map(|&d| (d, d)));
                held_over.push((latest, cx.now_or(scheduled)));
                return;
            }
        }
        let send_on = match &placement {
            Ok(placed) => placed.goes_on,
            Err(stop) => stop.on,
        };
        if s.block.is_none()
            && placement.is_ok()
            && statement_items(ctxs, &self.policy, s.st, latest, send_on)
                .next()
                .is_none()
        {
            // The latest has nothing to list, so it does not go and supersedes nothing: the
            // older ones, which would list no more, have nothing to list either.
            for &d in older {
                if cx.in_window(d) {
                    plan.suppressed.push(client_suppressed(
                        cx,
                        rule,
                        notice_key(cx, rule, d),
                        d,
                        Reason::plain(Kind::NothingToList),
                    ));
                }
            }
        } else {
            supersede(cx, rule, older.iter().map(|&d| (d, d)), latest, plan);
        }
        // Expired if it would go too late: a working day is what it waits for.
        let goes = self.calendar.shift(cx.today, Shift::Later).unwrap_or(cx.today);
        let expired = s.st.expires_after_days.is_some_and(|x| {
            scheduled
                .checked_add_days(Days::new(x.into()))
                .is_some_and(|l| goes > l)
        });
        if expired {
            if cx.in_window(scheduled) {
                let reason = Reason::expired(s.st.expires_after_days.unwrap_or(0));
                plan.suppressed
                    .push(client_suppressed(cx, rule, key, scheduled, reason));
            }
        } else {
            self.statement_notice(cx, ctxs, s, latest, scheduled, placement, plan);
        }
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
    fn statement_to_come<'h>(
        &self,
        cx: &ClientCtx<'h>,
        ctxs: &[ItemCtx<'h>],
        s: &Statement<'_>,
        date: NaiveDate,
        day: NoticeDay,
        moves: SmallList<Adjustment>,
        plan: &mut Schedule<'h>,
    ) {
        let (scheduled, placement) = self.notice_placement(cx, day, moves, None);
        self.statement_notice(cx, ctxs, s, date, scheduled, placement, plan);
    }

    #[allow(clippy::too_many_arguments)]
    fn statement_notice<'h>(
        &self,
        cx: &ClientCtx<'h>,
        ctxs: &[ItemCtx<'h>],
        s: &Statement<'_>,
        date: NaiveDate,
        scheduled: NaiveDate,
        placement: Result<Placed, Stop>,
        plan: &mut Schedule<'h>,
    ) {
        let (st, rule) = (s.st, s.rule);
        let key = notice_key(cx, rule, date);
        let send_on = match &placement {
            Ok(placed) => placed.goes_on,
            Err(stop) => stop.on,
        };
        // The items of its period: issued by its date (a statement caught up later lists
        // no item issued since; one with nothing to list then has nothing to list later).
        let mut owed = statement_items(ctxs, &self.policy, st, date, send_on).peekable();
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
                if cx.in_window(on) {
                    plan.suppressed.push(client_suppressed(cx, rule, key, on, reason));
                }
                return;
            }
        };
        Self::note_pauses(cx, rule, key, &placed.adjustments, &[], plan);
        if owed.peek().is_none() {
            if cx.in_window(send_on) {
                plan.suppressed.push(client_suppressed(
                    cx,
                    rule,
                    key,
                    send_on,
                    Reason::plain(Kind::NothingToList),
                ));
            }
            return;
        }
        let items = listed(&mut plan.tables, owed);
        let stage = if st.overdue_only {
            Stage::OverdueStatement
        } else {
            Stage::Statement
        };
        self.emit(
            cx,
            Notice {
                rule,
                stage,
                nominal: date,
                scheduled,
                placed,
                items,
                mask: s.mask,
                anchor: date,
                info: AccountInfo::Statement(date, st.overdue_only),
            },
            plan,
        );
    }

    /// The client's standing today, and its notices: one on entering each state, keyed by
    /// the first day of the run of days the client has been (or will be) in it.
    pub(crate) fn plan_standing<'h>(
        &self,
        cx: &ClientCtx<'h>,
        ctxs: &[ItemCtx<'h>],
        hist: &HistoryIndex<'h>,
        occurrences: &mut Occurrences,
        plan: &mut Schedule<'h>,
    ) {
        if self.policy.standing.is_none() {
            return;
        }
        let Some((closing_soon, closed)) = Resolved::new(&self.policy, cx.client).standing_thresholds()
        else {
            return;
        };
        let (closing_soon, closed) = (closing_soon.value, closed.value);
        let start = self.policy.collection.past_items;
        let mut debts = std::mem::take(&mut occurrences.debts);
        debts.clear();
        debts.extend(ctxs.iter().enumerate().filter_map(|(at, c)| {
            let (due, to, cut) = owed_span(c, start)?;
            let from = [closing_soon, closed].map(|t| due.checked_add_days(Days::new(t.into())));
            Some(Debt {
                overdue: due.succ_opt(),
                from,
                to,
                cut,
                at,
            })
        }));
        let debts_paused = debts.iter().any(|d| !ctxs[d.at].item.pauses.is_empty());
        self.standing_notices(cx, ctxs, hist, &debts, debts_paused, (closing_soon, closed), plan);
        occurrences.debts = debts;
    }

    /// The client's standing today, and its notices, from its `debts`.
    #[allow(clippy::too_many_arguments)]
    fn standing_notices<'h>(
        &self,
        cx: &ClientCtx<'h>,
        ctxs: &[ItemCtx<'h>],
        hist: &HistoryIndex<'h>,
        debts: &[Debt],
        debts_paused: bool,
        (closing_soon, closed): (u32, u32),
        plan: &mut Schedule<'h>,
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
                to.is_none_or(|t| from < t).then_some((from, to, &ctxs[d.at]))
            })
        };
        // A state's run is the debt's: a dispute on the oldest item does not end it.
        let runs = [0, 1].map(|k| run_start(spans(k, false).map(|(f, t, _)| (f, t)), cx.today));
        let run = |k: usize| runs[k];
        let sends = hist
            .client_events
            .get(client.id.as_str())
            .map_or(&[][..], Vec::as_slice);
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
        // known then, does not make the run a new entry). One notice a run.
        let notice_of = |k: usize, run: NaiveDate| -> Option<NaiveDate> {
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
                    counts.then_some(key_on.map_or(sent_on, |d| d.min(sent_on)))
                })
                .min()
        };
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
                plan.standings.push(ClientStanding {
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
            for (_, _, c) in spans(k, true).filter(|&(f, t, _)| f <= day && t.is_none_or(|t| day < t)) {
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
            let next = spans(k, true).map(|(f, _, _)| f).filter(|&f| f > day).min();
            match (first, next) {
                // Another item gets there first.
                (Some((ends, _)), Some(next)) if next <= ends => Hold::Until(next),
                (Some((_, hold)), _) => hold,
                (None, Some(next)) => Hold::Until(next),
                // Only items under a pause without end put the client there: held for good,
                // by the first's.
                (None, None) => spans(k, false)
                    .filter(|&(f, t, _)| f <= day && t.is_none_or(|t| day < t))
                    .find_map(|(_, _, c)| {
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
            (notice_of(1, since).is_some(), day.unwrap_or_else(|s| s.on))
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
            if scheduled > cx.end_date {
                // Past the horizon: what held it back is still said.
                Self::note_pauses(cx, rule, key, &moves, ctxs, plan);
                continue;
            }
            let (_, placement) = self.notice_placement(cx, day, moves, state_holds);
            if state == StandingState::ClosingSoon {
                let goes_on = placement.as_ref().map_or_else(|s| s.on, |p| p.goes_on);
                // "Closed" went in this run, or goes no later: "closing soon" would come too
                // late, so only "closed" is sent.
                if let (Some(closed_since), Some((closed_sent, closed_on))) = (closed_run, closed_day) {
                    if closed_since >= since && (closed_sent || closed_on <= goes_on) {
                        let on = cx.now_or(scheduled);
                        if cx.in_window(on) {
                            let by = notice_key(cx, closed_ref, closed_since);
                            plan.suppressed.push(client_suppressed(
                                cx,
                                rule,
                                key,
                                on,
                                Reason::superseded(by),
                            ));
                        }
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
                    let on = cx.now_or(on);
                    if cx.in_window(on) {
                        plan.suppressed.push(client_suppressed(cx, rule, key, on, reason));
                    }
                    continue;
                }
                (None, Err(stop)) => {
                    let on = cx.now_or(stop.on);
                    if cx.in_window(on) {
                        plan.suppressed.push(SuppressedRecord {
                            item: stop.item,
                            ..client_suppressed(cx, rule, key, on, stop.reason)
                        });
                    }
                    continue;
                }
            };
            Self::note_pauses(cx, rule, key, &placed.adjustments, ctxs, plan);
            let send_on = placed.goes_on;
            let overdue = chased(ctxs, &self.policy, send_on).filter(|c| c.due.is_some_and(|d| d < send_on));
            let Some((oldest_due, oldest)) = overdue
                .clone()
                .filter_map(|c| c.due.map(|d| (d, c)))
                .min_by(|a, b| (a.0, &a.1.item.id).cmp(&(b.0, &b.1.item.id)))
            else {
                // Nothing it is about is owed and not paused that day: nothing to send.
                continue;
            };
            let items = listed(&mut plan.tables, overdue);
            self.emit(
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
                    items,
                    mask,
                    info: AccountInfo::Standing {
                        state,
                        days_overdue: (send_on - oldest_due).num_days(),
                        oldest: oldest.index,
                        closing_soon_after_days: closing_soon,
                        closed_after_days: closed,
                    },
                },
                plan,
            );
        }
    }
}
