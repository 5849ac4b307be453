//! Client-level events: account statements and standing notices, planned from the same
//! client context as the item events, after them, and written to the same plan. What goes
//! and why is decided in `decide::statement`, `decide::standing` and `decide::notice`; this
//! module expands each statement rule's occurrences (once per plan), gathers a client's
//! debts and history, and records what the deciding code tells (`ClientNotes`).

use super::*;
use crate::plan::decide::notes::{ClientNotes, Notice};
use crate::plan::decide::notice::notice_key;
use crate::plan::decide::standing::{Debt, owed_span};
use crate::standing::ClientStanding;

/// A statement or standing notice in history.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClientSend<'h> {
    pub(crate) rule: &'h str,
    pub(crate) sent_at: DateTime<Utc>,
    pub(crate) key: &'h EventKey,
    /// The items it listed.
    pub(crate) items: &'h [crate::model::history::HistoryItem],
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

/// The records of what the deciding code of client-level notices tells: what is said within
/// the window, each notice that goes (listed due or upcoming, its items a run of the member
/// table), the client's standing.
impl ClientNotes for Schedule<'_> {
    fn say(
        &mut self,
        cx: &ClientCtx<'_>,
        rule: RuleIx,
        key: KeyRef,
        on: NaiveDate,
        reason: Reason,
        item: ItemIx,
    ) {
        if cx.in_window(on) {
            self.suppressed.push(SuppressedRecord {
                key,
                reason,
                client: cx.index,
                item,
                on,
                rule,
            });
        }
    }

    fn notice(&mut self, cx: &ClientCtx<'_>, n: Notice, items: &mut dyn Iterator<Item = &ItemCtx<'_>>) {
        let start = self.tables.members.len();
        self.tables.members.extend(items.map(|c| (c.index, 1)));
        let items = Members::run(start, self.tables.members.len() - start);
        let info = u32::try_from(self.tables.infos.len()).unwrap_or(u32::MAX);
        self.tables.infos.push(n.info);
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
            members: items,
            adjustments: self
                .tables
                .adjusted(|a| a.extend_from_slice(&n.placed.adjustments)),
            info,
        };
        cx.list(event, &mut self.due, &mut self.upcoming);
    }

    fn standing(&mut self, standing: ClientStanding) {
        self.standings.push(standing);
    }
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

    /// The client's statements: each rule's occurrences over the plan's reach (the client's
    /// own recurrence, if it has one), planned by `decide::statement`.
    pub(crate) fn plan_statements<'h>(
        &self,
        cx: &ClientCtx<'h>,
        ctxs: &[ItemCtx<'h>],
        hist: &HistoryIndex<'h>,
        occurrences: &mut Occurrences,
        plan: &mut Schedule<'h>,
    ) -> Result<(), ValidationError> {
        let sends = hist
            .client_events
            .get(cx.client.id.as_str())
            .map_or(&[][..], Vec::as_slice);
        for index in 0..self.policy.statements.len() {
            let Some(statement) = self.statement_for(cx, index) else {
                continue;
            };
            let dates = occurrences.get(self, index, cx.client, statement.rrule)?;
            let mut unsent = std::mem::take(&mut occurrences.unsent);
            self.plan_statement(cx, ctxs, &statement, sends, &dates, &mut unsent, plan);
            occurrences.unsent = unsent;
        }
        Ok(())
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
        let sends = hist
            .client_events
            .get(cx.client.id.as_str())
            .map_or(&[][..], Vec::as_slice);
        self.standing_notices(
            cx,
            ctxs,
            sends,
            &debts,
            debts_paused,
            (closing_soon, closed),
            plan,
        );
        occurrences.debts = debts;
    }
}
