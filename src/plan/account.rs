//! Client-level events: account statements and standing notices.
//!
//! A child module of the engine: it plans from the same client context, after the item
//! events, and writes to the same plan.

use super::*;
use crate::plan::event::{StandingInfo, StatementInfo};
use crate::plan::explain::key_is;
use crate::standing::{ClientStanding, StandingState};
use crate::statement::expand;

/// A statement or standing notice in history.
#[derive(Debug, Clone, Copy)]
pub(super) struct ClientSend<'h> {
    pub(super) rule: &'h str,
    pub(super) sent_at: DateTime<Utc>,
    pub(super) key: &'h EventKey,
}

/// How far back statements are looked for on catch-up.
const STATEMENT_REACH_DAYS: u64 = 400;

/// The dates of each statement rule, expanded once per plan over every client's window
/// (dates are local, so one expansion serves every time zone); client overrides of the
/// RRULE are expanded once per distinct rule text.
pub(super) struct Occurrences {
    from: NaiveDate,
    to: NaiveDate,
    policy: Vec<Arc<[NaiveDate]>>,
    overrides: HashMap<(usize, String), Arc<[NaiveDate]>>,
}

impl Occurrences {
    pub(super) fn new(planner: &Planner, now: DateTime<Utc>, horizon: Horizon) -> Self {
        let today = now.date_naive();
        let reach = STATEMENT_REACH_DAYS.max(u64::from(planner.lookback_days)) + 2;
        let from = today.checked_sub_days(Days::new(reach)).unwrap_or(NaiveDate::MIN);
        let to = today
            .checked_add_days(Days::new(u64::from(horizon.as_days()) + 2))
            .unwrap_or(NaiveDate::MAX);
        let policy = planner
            .statements
            .iter()
            .map(|set| Arc::from(expand(set, from, to)))
            .collect();
        Self {
            from,
            to,
            policy,
            overrides: HashMap::default(),
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
            return Ok(self.policy.get(index).cloned().unwrap_or_else(|| Arc::from([])));
        };
        if let Some(dates) = self.overrides.get(&(index, rrule.to_owned())) {
            return Ok(dates.clone());
        }
        let Some(st) = planner.policy.statements.get(index) else {
            return Ok(Arc::from([]));
        };
        let set = crate::statement::compile(&format!("{} (client {})", st.id, client.id), rrule, st.start)?;
        let dates: Arc<[NaiveDate]> = Arc::from(expand(&set, self.from, self.to));
        self.overrides.insert((index, rrule.to_owned()), dates.clone());
        Ok(dates)
    }
}

/// Writes the key of a client-level event: `rule/client/date`.
fn write_client_key(s: &mut String, rule: &RuleId, client: &Client, date: NaiveDate) {
    cat!(s, *rule, "/", client.id.as_str(), "/", date);
}

fn client_key(rule: &RuleId, client: &Client, date: NaiveDate) -> EventKey {
    crate::plan::explain::key_with(|s| write_client_key(s, rule, client, date))
}

/// A client-level suppressed entry.
fn client_suppressed(
    cx: &ClientCtx<'_>,
    rule: &RuleId,
    key: EventKey,
    on: NaiveDate,
    reason: SuppressReason,
) -> Suppressed {
    Suppressed {
        key,
        rule: rule.clone(),
        client: cx.client.id.clone(),
        item: None,
        kind: None,
        number: None,
        on,
        reason,
    }
}

fn event_item(ic: &ItemCtx<'_>) -> EventItem {
    EventItem {
        item: ic.item.id.clone(),
        number: ic.item.shared_number(),
        kind: ic.item.kind,
        occurrence: 1,
        issued_on: ic.item.issued_on,
        due_on: ic.due,
        total: ic.item.total,
        balance: ic.balance,
        late_fee: None,
        attachments: Box::default(),
    }
}

/// The event items of `listed`, in a list of exactly their number: a notice lists many items,
/// and a list grown by doubling would copy them and keep up to half again unused.
fn exact<'a>(listed: impl Iterator<Item = &'a ItemCtx<'a>> + Clone) -> Vec<EventItem> {
    let mut items = Vec::with_capacity(listed.clone().count());
    items.extend(listed.map(event_item));
    items
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

/// Owed items that may be chased on `on`: reminders on and no pause of the item then. What
/// counts toward the client's standing.
fn chased<'a>(
    ctxs: &'a [ItemCtx<'a>],
    policy: &'a Policy,
    on: NaiveDate,
) -> impl Iterator<Item = &'a ItemCtx<'a>> + Clone + 'a {
    owing(ctxs, policy).filter(move |c| c.item.reminders && !c.item.pauses.iter().any(|p| p.is_active(on)))
}

/// A client-wide pause active on `on`, as a reason not to send.
fn client_pause(client: &Client, on: NaiveDate) -> Option<SuppressReason> {
    client
        .pauses
        .iter()
        .find(|p| p.is_active(on))
        .map(|p| SuppressReason::Paused {
            pause: p.kind,
            reason: p.reason.clone(),
        })
}

/// The mask of roles a client-level notice goes to.
fn roles_mask(own: &[ContactRole], ro: Option<&crate::policy::RuleOverride>, client: &Client) -> u8 {
    ro.and_then(|r| r.roles.as_deref())
        .map(ContactRole::mask)
        .or_else(|| (!own.is_empty()).then(|| ContactRole::mask(own)))
        .or_else(|| client.overrides.roles.as_deref().map(ContactRole::mask))
        .unwrap_or(0)
}

struct Notice<'a> {
    rule: &'a RuleId,
    key: EventKey,
    stage: Stage,
    nominal: NaiveDate,
    send_on: NaiveDate,
    items: SmallList<EventItem>,
    mask: u8,
    statement: Option<StatementInfo>,
    standing: Option<Box<StandingInfo>>,
    adjustments: SmallList<Adjustment>,
}

impl Planner {
    /// Whether `id` is a statement rule or a standing notice.
    pub(super) fn is_account_rule(&self, id: &str) -> bool {
        self.policy.statements.iter().any(|s| s.id.as_str() == id)
            || self
                .policy
                .standing
                .as_ref()
                .is_some_and(|s| s.closing_soon_id.as_str() == id || s.closed_id.as_str() == id)
    }

    fn emit(&self, cx: &ClientCtx<'_>, n: Notice<'_>, plan: &mut Plan) {
        let amount_due = sum(n.items.iter().map(|i| i.balance));
        let event = Event {
            key: n.key,
            rule: n.rule.clone(),
            stage: n.stage,
            client: cx.client.id.clone(),
            items: n.items,
            recipients: cx.recipients(n.mask),
            send_on: n.send_on,
            send_at: local_instant(cx.tz, n.send_on, cx.send_time),
            time_zone: cx.tz,
            locale: cx.locale.clone(),
            occurrence: 1,
            count: 1,
            amount_due,
            late_fee: None,
            statement: n.statement,
            standing: n.standing,
            why: Why {
                anchor: None,
                anchor_on: n.nominal,
                offset_days: 0,
                nominal_on: n.nominal,
                adjustments: n.adjustments,
                preview: false,
            },
        };
        if event.send_on < cx.first_future {
            plan.due.push(event);
        } else {
            plan.upcoming.push(event);
        }
    }

    /// The day a client-level event due on `scheduled` goes: then, or today if that is gone
    /// (catch-up), moved off non-working days.
    fn client_send_day(
        &self,
        cx: &ClientCtx<'_>,
        scheduled: NaiveDate,
    ) -> (NaiveDate, SmallList<Adjustment>) {
        let mut adjustments = SmallList::new();
        let mut day = scheduled;
        if scheduled < cx.today {
            adjustments.push(Adjustment::CatchUp {
                scheduled_on: scheduled,
            });
            day = cx.today;
        }
        let shifted = self.calendar.shift(day, Shift::Later).unwrap_or(day);
        if shifted != day {
            adjustments.push(Adjustment::MovedOffNonWorkingDay {
                from: day,
                to: shifted,
            });
        }
        (shifted, adjustments)
    }

    pub(super) fn plan_statements(
        &self,
        cx: &ClientCtx<'_>,
        ctxs: &[ItemCtx<'_>],
        hist: &HistoryIndex<'_>,
        occurrences: &mut Occurrences,
        plan: &mut Plan,
    ) -> Result<(), ValidationError> {
        let client = cx.client;
        let sends = hist
            .client_events
            .get(client.id.as_str())
            .map_or(&[][..], Vec::as_slice);
        for (si, st) in self.policy.statements.iter().enumerate() {
            let ro = client.overrides.rules.get(st.id.as_str());
            let switched_off = ro.and_then(|r| r.enabled) == Some(false);
            if !ro.and_then(|r| r.enabled).unwrap_or(st.enabled) && !switched_off {
                continue;
            }
            let mask = roles_mask(&st.roles, ro, client);
            let block = if client.overrides.reminders == Some(false) {
                Some(SuppressReason::ClientRemindersOff)
            } else if switched_off {
                Some(SuppressReason::ExcludedForClient)
            } else if !cx.contacts.iter().any(|c| mask == 0 || mask & c.role.bit() != 0) {
                Some(SuppressReason::NoRecipients)
            } else {
                None
            };
            let mine: Vec<&ClientSend<'_>> = sends.iter().filter(|s| s.rule == st.id.as_str()).collect();
            let last_sent = mine.iter().map(|s| cx.tz.local_date(s.sent_at)).max();
            let dates = occurrences.get(self, si, client, ro.and_then(|r| r.rrule.as_deref()))?;
            // Occurrences up to today not yet sent: the latest goes (today's, or a missed one
            // on catch-up); the older ones are superseded by it.
            let mut unsent_past: Vec<NaiveDate> = Vec::new();
            for &d in dates.iter() {
                let scheduled = self.calendar.shift(d, Shift::Later).unwrap_or(d);
                let past = scheduled <= cx.today;
                // Gone, and not after the last one sent: nothing to say (and no key to make).
                if past && last_sent.is_some_and(|l| l >= d) {
                    continue;
                }
                if mine
                    .iter()
                    .any(|s| key_is(s.key.as_str(), |k| write_client_key(k, &st.id, client, d)))
                {
                    continue;
                }
                if past {
                    unsent_past.push(d);
                    continue;
                }
                if scheduled > cx.end_date {
                    break;
                }
                let key = client_key(&st.id, client, d);
                self.statement_notice(cx, ctxs, st, d, key, block.clone(), mask, plan);
            }
            if let Some((&latest, older)) = unsent_past.split_last() {
                let key = client_key(&st.id, client, latest);
                for &d in older {
                    if cx.in_window(d) {
                        let reason = SuppressReason::Superseded { by: key.clone() };
                        plan.suppressed.push(client_suppressed(
                            cx,
                            &st.id,
                            client_key(&st.id, client, d),
                            d,
                            reason,
                        ));
                    }
                }
                let scheduled = self.calendar.shift(latest, Shift::Later).unwrap_or(latest);
                let expired = st.expires_after_days.is_some_and(|x| {
                    scheduled
                        .checked_add_days(Days::new(x.into()))
                        .is_some_and(|l| cx.today > l)
                });
                if expired {
                    if cx.in_window(scheduled) {
                        let reason = SuppressReason::Expired {
                            days: st.expires_after_days.unwrap_or(0),
                        };
                        plan.suppressed
                            .push(client_suppressed(cx, &st.id, key, scheduled, reason));
                    }
                } else {
                    self.statement_notice(cx, ctxs, st, latest, key, block, mask, plan);
                }
            }
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn statement_notice(
        &self,
        cx: &ClientCtx<'_>,
        ctxs: &[ItemCtx<'_>],
        st: &crate::statement::StatementRule,
        date: NaiveDate,
        key: EventKey,
        block: Option<SuppressReason>,
        mask: u8,
        plan: &mut Plan,
    ) {
        let scheduled = self.calendar.shift(date, Shift::Later).unwrap_or(date);
        let (send_on, adjustments) = self.client_send_day(cx, scheduled);
        if let Some(reason) = block.or_else(|| client_pause(cx.client, send_on)) {
            // Explained on the day it was due, so a blocked client is not explained daily.
            if cx.in_window(scheduled) {
                plan.suppressed
                    .push(client_suppressed(cx, &st.id, key, scheduled, reason));
            }
            return;
        }
        let items = exact(
            owing(ctxs, &self.policy)
                .filter(|c| c.item.issued_on <= send_on)
                .filter(|c| !st.overdue_only || c.due.is_some_and(|d| d < send_on)),
        );
        if items.is_empty() {
            if cx.in_window(send_on) {
                plan.suppressed.push(client_suppressed(
                    cx,
                    &st.id,
                    key,
                    send_on,
                    SuppressReason::NothingToList,
                ));
            }
            return;
        }
        let stage = if st.overdue_only {
            Stage::OverdueStatement
        } else {
            Stage::Statement
        };
        self.emit(
            cx,
            Notice {
                rule: &st.id,
                key,
                stage,
                nominal: date,
                send_on,
                items: items.into(),
                mask,
                statement: Some(StatementInfo {
                    period: date,
                    overdue_only: st.overdue_only,
                }),
                standing: None,
                adjustments,
            },
            plan,
        );
    }

    pub(super) fn plan_standing(
        &self,
        cx: &ClientCtx<'_>,
        ctxs: &[ItemCtx<'_>],
        hist: &HistoryIndex<'_>,
        plan: &mut Plan,
    ) {
        let Some(sr) = &self.policy.standing else { return };
        let client = cx.client;
        let o = &client.overrides;
        let closing_soon = o.closing_soon_after_days.unwrap_or(sr.closing_soon_after_days);
        let closed = o.closed_after_days.unwrap_or(sr.closed_after_days);
        let Some((oldest_due, oldest)) = chased(ctxs, &self.policy, cx.today)
            .filter_map(|c| c.due.map(|d| (d, c.item)))
            .min_by(|a, b| (a.0, &a.1.id).cmp(&(b.0, &b.1.id)))
        else {
            return;
        };
        let days_today = (cx.today - oldest_due).num_days();
        let entry = |threshold: u32| oldest_due.checked_add_days(Days::new(threshold.into()));
        let state_today = if days_today >= i64::from(closed) {
            StandingState::Closed
        } else if days_today >= i64::from(closing_soon) {
            StandingState::ClosingSoon
        } else {
            StandingState::Good
        };
        if state_today != StandingState::Good {
            let threshold = if state_today == StandingState::Closed {
                closed
            } else {
                closing_soon
            };
            plan.standings.push(ClientStanding {
                client: client.id.clone(),
                state: state_today,
                days_overdue: days_today,
                oldest_item: oldest.id.clone(),
                since: entry(threshold).unwrap_or(oldest_due),
            });
        }
        let sends = hist
            .client_events
            .get(client.id.as_str())
            .map_or(&[][..], Vec::as_slice);
        let closed_entry = entry(closed).map(|e| self.calendar.shift(e, Shift::Later).unwrap_or(e));
        for (state, threshold, id) in [
            (StandingState::ClosingSoon, closing_soon, &sr.closing_soon_id),
            (StandingState::Closed, closed, &sr.closed_id),
        ] {
            let Some(entered) = entry(threshold) else { continue };
            let key = client_key(id, client, entered);
            if sends.iter().any(|s| *s.key == key) {
                continue;
            }
            let scheduled = self.calendar.shift(entered, Shift::Later).unwrap_or(entered);
            if scheduled > cx.end_date {
                continue;
            }
            let ro = o.rules.get(id.as_str());
            if state == StandingState::ClosingSoon && closed_entry.is_some_and(|c| c < cx.first_future) {
                // Both states were entered while nothing went out: only "closed" is sent.
                if cx.in_window(scheduled) {
                    let by = client_key(&sr.closed_id, client, entry(closed).unwrap_or(entered));
                    plan.suppressed.push(client_suppressed(
                        cx,
                        id,
                        key,
                        scheduled,
                        SuppressReason::Superseded { by },
                    ));
                }
                continue;
            }
            let (send_on, adjustments) = self.client_send_day(cx, scheduled);
            let mask = roles_mask(&sr.roles, ro, client);
            let block = if o.reminders == Some(false) {
                Some(SuppressReason::ClientRemindersOff)
            } else if ro.and_then(|r| r.enabled) == Some(false) {
                Some(SuppressReason::ExcludedForClient)
            } else if !cx.contacts.iter().any(|c| mask == 0 || mask & c.role.bit() != 0) {
                Some(SuppressReason::NoRecipients)
            } else {
                client_pause(client, send_on)
            };
            if let Some(reason) = block {
                if cx.in_window(send_on) {
                    plan.suppressed
                        .push(client_suppressed(cx, id, key, send_on, reason));
                }
                continue;
            }
            let days_overdue = (send_on - oldest_due).num_days();
            let items =
                exact(chased(ctxs, &self.policy, send_on).filter(|c| c.due.is_some_and(|d| d < send_on)));
            if !items.iter().any(|i| i.item == oldest.id) {
                // The item that puts the client there is paused that day: nothing to say yet.
                continue;
            }
            self.emit(
                cx,
                Notice {
                    rule: id,
                    key,
                    stage: if state == StandingState::Closed {
                        Stage::Closed
                    } else {
                        Stage::ClosingSoon
                    },
                    nominal: entered,
                    send_on,
                    items: items.into(),
                    mask,
                    statement: None,
                    standing: Some(Box::new(StandingInfo {
                        state,
                        days_overdue,
                        oldest_item: oldest.id.clone(),
                        closing_soon_after_days: closing_soon,
                        closed_after_days: closed,
                    })),
                    adjustments,
                },
                plan,
            );
        }
    }
}
