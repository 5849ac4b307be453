//! The planning algorithm.
//!
//! For each client (in id order) and each of its items (in id order), every rule that
//! applies gets a *slot*: the state of that rule for that item, read from history (which
//! occurrence comes next, when the rule and a manual send last went out). A slot yields the
//! next candidate date; the client's candidates then run through a day-by-day sweep that
//! resolves same-day stages (the latest stage wins), groups notices, applies the minimum gap
//! between messages, emits events, and computes each slot's next occurrence, up to the
//! horizon. Work is linear in the number of items and rules.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use chrono::{DateTime, Days, NaiveDate, NaiveTime, Utc};

use crate::error::ValidationError;
use crate::model::client::{Client, Contact, ContactRole};
use crate::model::history::{HistoryEntry, HistoryOutcome};
use crate::model::id::{ClientId, EventKey, RuleId};
use crate::model::item::Item;
use crate::money::Money;
use crate::plan::SuppressReasonKind as Kind;
use crate::plan::decide::day::{
    Beaten, MessageKey, StageRank, gap_holds, longest_waiting_first, message_order, same_day_winner,
};
use crate::plan::decide::item::{Candidate, ItemCtx, ItemSends, Send, SendAt, Slot};
use crate::plan::decide::notes::{Notes, Unsaid};
use crate::plan::decide::occurrences::{OccurrenceDays, StageDays, add_days, occurrence_day, stage_of};
pub(crate) use crate::plan::decide::pauses::pause_reason;
pub(crate) use crate::plan::decide::reason::adjustment_note;
pub(crate) use crate::plan::decide::rule::CompiledRule;
use crate::plan::decide::rule::{EffRule, compile_rule, resolve_rules};
use crate::plan::decide::stops::{Stops, lasting_stop};
use crate::plan::event::{Event, EventItem, Recipient, Why};
use crate::plan::schedule::{
    EventRecord, Inputs, KeyRef, Members, Reason, Schedule, SuppressedRecord, Tables,
};
use crate::plan::{Horizon, Plan};
use crate::policy::{
    Anchor, EffectiveNotice, EffectiveRule, EffectiveSettings, LintWarning, Policy, Resolved, Setting,
    check_rule_shape, lint,
};
use crate::time::{CompiledCalendar, LocalDates, TimeZone, local_instant};

pub(crate) mod account;
pub(crate) mod history;
pub(crate) mod index;
pub(crate) mod memo;
pub(crate) mod places;
pub(crate) mod portfolio;
pub(crate) mod positions;
pub(crate) mod records;
pub(crate) mod shapes;
pub(crate) mod small_list;

pub(crate) use positions::{ClientIx, ItemIx, RuleIx};

use history::{HistRef, HistRule, HistoryIndex};
use index::{InputIndex, Sums, check_count};
use memo::{ClientDays, RuleSent, Scratch, SendInstants, SweepBufs};
use places::{ItemIds, Places};
use records::{Records, RunOf};
use shapes::Shapes;

pub use portfolio::Portfolio;

/// Turns inputs plus `now` into a [`Plan`]. Pure: no clock, no I/O, no randomness.
///
/// Build it once per policy ([`Planner::new`] validates, lints and compiles the rules), then
/// call [`plan`](Planner::plan) as often as needed with the clients, the items, the history of
/// what was sent, the instant to plan for and the forecast horizon.
///
/// # Example
/// ```
/// use chrono::{NaiveDate, TimeZone as _, Utc};
/// use dunning::*;
///
/// let policy = Policy::new(TimeZone::from_name("America/Santiago")?)
///     .with_rule(Rule::new("due-soon".parse()?, Anchor::Due, -5))
///     .with_rule(Rule::new("overdue".parse()?, Anchor::Due, 0).repeat(7, 3));
/// let planner = Planner::new(&policy)?;
///
/// let clp = Currency::from_code("CLP")?;
/// let client = Client::new("acme".parse()?, "ACME SpA").with_contact(Contact::new("Ana", "ana@acme.cl"));
/// let issued = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
/// let invoice = Item::invoice("F-1".parse()?, "acme".parse()?, issued, Money::parse("119000", clp)?);
///
/// let now = Utc.with_ymd_and_hms(2026, 3, 27, 13, 0, 0).unwrap(); // 10:00 in Santiago
/// let plan = planner.plan(&[client], &[invoice], &[], now, Horizon::days(30))?;
/// assert_eq!(plan.due().len(), 1); // due soon: 2026-03-27 is 5 days before 2026-04-01
/// assert_eq!(plan.due()[0].key.as_str(), "due-soon/F-1/1");
/// assert_eq!(plan.upcoming().len(), 3); // overdue on 04-01, 04-08, 04-15
/// # Ok::<(), dunning::ValidationError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Planner {
    pub(crate) policy: Policy,
    pub(crate) rules: Vec<CompiledRule>,
    pub(crate) calendar: CompiledCalendar,
    pub(crate) warnings: Vec<LintWarning>,
    pub(crate) lookback_days: u32,
    pub(crate) locale: Arc<str>,
    pub(crate) statements: Vec<rrule::RRuleSet>,
    /// The rules as they apply to a client that overrides none of them nor its roles, by
    /// the one resolution ([`Resolved`]): most clients, copied instead of resolved again.
    pub(crate) default_rules: Vec<EffRule>,
    /// Every rule a record can name: the policy's item rules, then its statements, then the
    /// two standing notices.
    pub(crate) rule_ids: Vec<RuleId>,
    /// Each of those rules' place in the order of keys that start with it (`id/`); equal
    /// ids share a place.
    pub(crate) rule_ranks: Vec<u16>,
    /// Each of those rules' place in the order of their ids.
    pub(crate) rule_orders: Vec<u16>,
    /// Whether some rule groups notices across items.
    pub(crate) any_group: bool,
    /// Whether some rule proposes a late fee.
    pub(crate) any_fee: bool,
}

pub(crate) struct ClientCtx<'a> {
    pub(crate) client: &'a Client,
    /// Its position in the input.
    pub(crate) index: ClientIx,
    pub(crate) inputs: Inputs<'a>,
    pub(crate) tz: TimeZone,
    pub(crate) send_time: NaiveTime,
    pub(crate) now: DateTime<Utc>,
    /// The horizon's end.
    pub(crate) end: DateTime<Utc>,
    pub(crate) today: NaiveDate,
    /// Whether today's send instant is not after `now`.
    pub(crate) today_due: bool,
    pub(crate) end_date: NaiveDate,
    /// See [`ClientDays::sweep_end`].
    pub(crate) sweep_end: NaiveDate,
    pub(crate) window_start: NaiveDate,
    pub(crate) gap: u32,
    pub(crate) contacts: Vec<&'a Contact>,
    /// The last send instant worked out: most of a client's events go on one day.
    pub(crate) last_instant: std::cell::Cell<Option<(NaiveDate, DateTime<Utc>)>>,
    /// The day the sweep is at (none before it starts): an item's sends up to that day are
    /// worked out once its stage of the day is decided. An occurrence that expires on a day
    /// before today, or by that day, is dropped at once; one that expires later waits for the
    /// sweep to reach its day, since a send that goes before then supersedes it instead.
    pub(crate) swept_to: std::cell::Cell<Option<NaiveDate>>,
    /// Whether such an occurrence was left for the sweep to decide.
    pub(crate) left_to_expire: std::cell::Cell<bool>,
    /// The plan's send instants worked out so far.
    pub(crate) instants: std::rc::Rc<std::cell::RefCell<SendInstants>>,
}

impl ClientCtx<'_> {
    pub(crate) fn in_window(&self, d: NaiveDate) -> bool {
        d >= self.window_start && d <= self.end_date
    }

    /// The day a stop met on `date` is explained on: that day within the window, else (a
    /// stop that still holds) today.
    pub(crate) fn now_or(&self, date: NaiveDate) -> NaiveDate {
        if self.in_window(date) {
            date
        } else {
            date.max(self.today)
        }
    }

    /// Whether the sweep makes the candidate's event: on a day up to the horizon's last, or
    /// a catch-up at the start of the next working day within the horizon.
    pub(crate) fn sweeps(&self, c: &Candidate) -> bool {
        c.date <= self.end_date || (c.send == SendAt::DayStart && c.date <= self.sweep_end)
    }

    /// The date and instant an event that goes on `goes_on` carries (see [`SendAt`]); it is
    /// due when that instant is not after `now`.
    pub(crate) fn placed(
        &self,
        goes_on: NaiveDate,
        scheduled: NaiveDate,
        send: SendAt,
    ) -> (NaiveDate, DateTime<Utc>) {
        match send {
            SendAt::SendTime => (goes_on, self.instant(goes_on)),
            SendAt::Missed => (scheduled, self.instant(scheduled)),
            SendAt::MissedFromDayStart => (scheduled, local_instant(self.tz, scheduled, NaiveTime::MIN)),
            SendAt::DayStart => (goes_on, local_instant(self.tz, goes_on, NaiveTime::MIN)),
        }
    }

    /// Lists an event as due (its instant has come), or as upcoming within the horizon.
    pub(crate) fn list(
        &self,
        event: EventRecord,
        due: &mut Records<EventRecord>,
        upcoming: &mut Records<EventRecord>,
    ) {
        if event.send_at <= self.now {
            due.push(event);
        } else if event.send_at <= self.end {
            upcoming.push(event);
        }
    }

    /// Whether a candidate's turn has come on its day: due now, a catch-up at the start of
    /// the next working day or one a pause held back (its turn came while the pause held it:
    /// it goes at the start of the day after), or a stage whose send time is the day's first
    /// instant (00:00). Of an item's stages on one day, those whose turn has come win (the
    /// latest of them), so what is due is never held back by a stage still to come, and a
    /// stage a pause held back is never beaten by an older one caught up that day.
    pub(crate) fn goes_first(&self, c: &Candidate) -> bool {
        c.send == SendAt::DayStart || self.send_time == NaiveTime::MIN || self.is_due(c)
    }

    /// Whether a candidate that goes today or later is due now (one that goes at the start
    /// of its day is, on that day: a notice a pause held back to today goes with the others
    /// due now).
    pub(crate) fn is_due(&self, c: &Candidate) -> bool {
        match c.send {
            SendAt::SendTime => self.send_time_gone(c.date),
            SendAt::Missed | SendAt::MissedFromDayStart => true,
            SendAt::DayStart => c.date <= self.today,
        }
    }

    /// Whether the send instant of `day` is not after `now` (a day before today, or today
    /// once its send time has come).
    pub(crate) fn send_time_gone(&self, day: NaiveDate) -> bool {
        day < self.today || (day == self.today && self.today_due)
    }

    /// The instant of the send time on `date` in the client's zone.
    pub(crate) fn instant(&self, date: NaiveDate) -> DateTime<Utc> {
        match self.last_instant.get() {
            Some((d, at)) if d == date => at,
            _ => {
                let at = self.instants.borrow_mut().of(self.tz, self.send_time, date);
                self.last_instant.set(Some((date, at)));
                at
            }
        }
    }
}

/// A slot's candidate day: (day, slot, version). Only the day orders the sweep: each day's
/// batch is sorted on its own.
pub(crate) type HeapEntry = Reverse<(NaiveDate, u32, u32)>;

impl Planner {
    /// Validates the policy, lints its rules and compiles them.
    ///
    /// # Errors
    /// The first problem with the policy ([`Policy::validate`]).
    pub fn new(policy: &Policy) -> Result<Self, ValidationError> {
        policy.validate()?;
        let rules: Vec<CompiledRule> = policy.rules.iter().map(compile_rule).collect();
        let rule_ids = rules
            .iter()
            .map(|r| r.id.clone())
            .chain(policy.statements.iter().map(|s| s.id.clone()))
            .chain(
                policy
                    .standing
                    .iter()
                    .flat_map(|s| [s.closing_soon_id.clone(), s.closed_id.clone()]),
            )
            .collect::<Vec<_>>();
        // Records name rules by 16 bits, and history keeps two of those for its own marks.
        if rule_ids.len() > usize::from(u16::MAX - 2) {
            return Err(ValidationError::OutOfRange {
                field: "rules",
                value: rule_ids.len().to_string(),
            });
        }
        // A client with no overrides (the id is a valid one; were it not, every client would
        // be resolved on its own).
        let mut default_rules = Vec::with_capacity(policy.rules.len());
        if let Ok(id) = ClientId::new("default") {
            resolve_rules(policy, &Client::new(id, ""), &mut default_rules);
        }
        Ok(Self {
            default_rules,
            rule_ranks: ranks_by(&rule_ids, crate::plan::schedule::part_cmp),
            rule_orders: ranks_by(&rule_ids, str::cmp),
            any_group: policy.rules.iter().any(|r| r.group),
            any_fee: policy.rules.iter().any(|r| r.late_fee.is_some()),
            rule_ids,
            policy: policy.clone(),
            rules,
            calendar: CompiledCalendar::tabled(&policy.calendar),
            warnings: lint(policy),
            lookback_days: 7,
            locale: Arc::from(policy.locale.as_str()),
            statements: policy
                .statements
                .iter()
                .map(|st| crate::statement::compile(st.id.as_str(), &st.rrule, st.start))
                .collect::<Result<_, _>>()?,
        })
    }

    /// The same planner reporting suppressed events as far back as `days` before `now`
    /// (default 7). Events due now are planned however late they are; this only bounds the
    /// explanations of what is not sent.
    #[must_use]
    pub fn with_lookback(mut self, days: u32) -> Self {
        self.lookback_days = days;
        self
    }

    /// The first day a plan made on local day `today` explains what is not sent from (its
    /// lookback; the calendar's first day when the lookback reaches past it).
    pub(crate) fn window_start_on(&self, today: NaiveDate) -> NaiveDate {
        add_days(today, -i64::from(self.lookback_days)).unwrap_or(NaiveDate::MIN)
    }

    /// The id of a rule a record names (see `rule_ids`).
    pub(crate) fn rule_id(&self, rule: RuleIx) -> &RuleId {
        // Records only name rules of this planner.
        &self.rule_ids[rule.get()]
    }

    /// Where keys starting with a rule's id go among keys starting with the others'.
    pub(crate) fn rule_rank(&self, rule: RuleIx) -> u16 {
        self.rule_ranks.get(rule.get()).copied().unwrap_or(u16::MAX)
    }

    /// The item rule a record names, if it names one (not a statement or standing notice).
    pub(crate) fn item_rule(&self, rule: RuleIx) -> Option<&CompiledRule> {
        self.rules.get(rule.get())
    }

    /// The `index`-th minimum balance of an item rule.
    /// An open item with nothing planned: if no rule reminds about it, each rule it is not
    /// for says why, as of now, so that an item that never gets a reminder is explained.
    #[cold]
    pub(crate) fn explain_out_of_scope(
        &self,
        cx: &ClientCtx<'_>,
        it: &ItemCtx<'_>,
        eff: &[EffRule],
        out: &mut Records<SuppressedRecord>,
    ) {
        let reminded = self
            .rules
            .iter()
            .zip(eff)
            .any(|(rule, eff)| rule.anchor != Anchor::Paid && rule.applies(eff, it.item, cx.client));
        if reminded {
            return;
        }
        for (ri, (rule, eff)) in self.rules.iter().zip(eff).enumerate() {
            if !eff.enabled || rule.anchor == Anchor::Paid {
                continue;
            }
            if let Some(reason) = rule.out_of_scope(it.item, cx.client) {
                out.push(suppressed(cx, it, ri, 1, cx.today, reason));
            }
        }
    }

    /// The kinds of item rule `rule` is for (empty: all).
    pub(crate) fn rule_kinds(&self, rule: RuleIx) -> Vec<crate::model::item::ItemKind> {
        self.policy
            .rules
            .get(rule.get())
            .map(|r| r.when.kinds.clone())
            .unwrap_or_default()
    }

    /// The client tags rule `rule` is for (empty: all).
    pub(crate) fn rule_tags(&self, rule: RuleIx) -> Vec<String> {
        self.policy
            .rules
            .get(rule.get())
            .map(|r| r.when.client_tags.clone())
            .unwrap_or_default()
    }

    pub(crate) fn minimum(&self, rule: RuleIx, index: u32) -> Money {
        // Records only name minimums of their rule.
        self.rules[rule.get()].min_balance[index as usize]
    }

    /// The time zone in force for `client`: its own, else the policy's.
    pub(crate) fn zone_of(&self, client: &Client) -> TimeZone {
        Resolved::new(&self.policy, client).time_zone().value
    }

    /// The payment term in force for `client`.
    pub(crate) fn term_of(&self, client: &Client) -> u32 {
        Resolved::new(&self.policy, client).payment_term_days().value
    }

    /// The locale in force for `client`: its own, else the policy's.
    pub(crate) fn locale_of(&self, client: &Client) -> Arc<str> {
        match Resolved::new(&self.policy, client).locale() {
            Setting {
                value,
                origin: crate::policy::Origin::Client,
            } => Arc::from(value),
            // The policy's, shared.
            _ => Arc::clone(&self.locale),
        }
    }

    /// The record name of the `index`-th statement rule.
    pub(crate) fn statement_ref(&self, index: usize) -> RuleIx {
        RuleIx::at(self.rules.len() + index)
    }

    /// The record names of the standing notices (closing soon, closed).
    pub(crate) fn standing_refs(&self) -> (RuleIx, RuleIx) {
        let first = self.rules.len() + self.policy.statements.len();
        (RuleIx::at(first), RuleIx::at(first + 1))
    }

    /// The lint warnings of the policy's rules.
    #[must_use]
    pub fn warnings(&self) -> &[LintWarning] {
        &self.warnings
    }

    /// The policy.
    #[must_use]
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Every setting in force for `client`, with its origin (policy or client).
    ///
    /// # Errors
    /// When the client's overrides are invalid for this policy.
    ///
    /// # Example
    /// ```
    /// use dunning::*;
    /// let policy = Policy::default().with_rule(Rule::new("due-soon".parse()?, Anchor::Due, -5));
    /// let planner = Planner::new(&policy)?;
    /// let client = Client::new("acme".parse()?, "ACME").with_overrides(
    ///     ClientOverrides::default().payment_term(15).rule("due-soon".parse()?, RuleOverride::off()),
    /// );
    /// let s = planner.effective_settings(&client)?;
    /// assert_eq!(s.payment_term_days.value, 15);
    /// assert_eq!(s.payment_term_days.origin, Origin::Client);
    /// assert_eq!(s.send_time.origin, Origin::Policy);
    /// assert!(!s.rules[0].enabled.value);
    /// # Ok::<(), dunning::ValidationError>(())
    /// ```
    pub fn effective_settings(&self, client: &Client) -> Result<EffectiveSettings, ValidationError> {
        self.check_client(client)?;
        let p = &self.policy;
        let r = Resolved::new(p, client);
        let owned = |s: Setting<&[String]>| Setting {
            value: s.value.to_vec(),
            origin: s.origin,
        };
        let roles = |s: Setting<&[ContactRole]>| Setting {
            value: s.value.to_vec(),
            origin: s.origin,
        };
        let rules = p
            .rules
            .iter()
            .map(|rule| {
                let rr = r.rule(rule);
                EffectiveRule {
                    rule: rule.id.clone(),
                    for_client: crate::policy::for_client_tags(&rule.when.client_tags, &client.tags),
                    client_tags: rule.when.client_tags.clone(),
                    enabled: rr.enabled,
                    offset_days: rr.offset_days,
                    every_days: rr.every_days,
                    count: rr.count,
                    roles: roles(rr.roles),
                }
            })
            .collect();
        let notice = |id: &RuleId, enabled: bool, own: &[ContactRole]| {
            let n = r.notice(id, enabled, own);
            EffectiveNotice {
                rule: id.clone(),
                enabled: n.enabled,
                roles: roles(n.roles),
                rrule: n.rrule.map(str::to_owned),
            }
        };
        let statements = p
            .statements
            .iter()
            .map(|st| notice(&st.id, st.enabled, &st.roles));
        let standing = p.standing.iter().flat_map(|sr| {
            [
                notice(&sr.closing_soon_id, true, &sr.roles),
                notice(&sr.closed_id, true, &sr.roles),
            ]
        });
        let thresholds = r.standing_thresholds();
        let locale = r.locale();
        Ok(EffectiveSettings {
            client: client.id.clone(),
            reminders: r.reminders(),
            time_zone: r.time_zone(),
            locale: Setting {
                value: locale.value.to_owned(),
                origin: locale.origin,
            },
            send_time: r.send_time(),
            payment_term_days: r.payment_term_days(),
            min_gap_days: r.min_gap_days(),
            roles: roles(r.roles()),
            cc: owned(r.cc()),
            bcc: owned(r.bcc()),
            reply_to: owned(r.reply_to()),
            closing_soon_after_days: thresholds.map(|t| t.0),
            closed_after_days: thresholds.map(|t| t.1),
            rules,
            notices: statements.chain(standing).collect(),
        })
    }

    pub(crate) fn check_client(&self, client: &Client) -> Result<(), ValidationError> {
        // Addresses, the payment term and every number's limit.
        client.validate()?;
        let o = &client.overrides;
        if let Some(st) = &self.policy.standing {
            if o.closing_soon_after_days.is_some() || o.closed_after_days.is_some() {
                crate::standing::check_thresholds(
                    &format!("client {}.overrides", client.id),
                    o.closing_soon_after_days.unwrap_or(st.closing_soon_after_days),
                    o.closed_after_days.unwrap_or(st.closed_after_days),
                )?;
            }
        }
        for (id, ro) in &o.rules {
            // What the kind of rule does not have is refused, not ignored.
            let refuse = |field: &'static str, kind: &'static str, takes: &'static str| {
                Err(ValidationError::InapplicableOverride {
                    client: client.id.to_string(),
                    rule: id.to_string(),
                    field,
                    kind,
                    takes,
                })
            };
            let timing = [
                ("offset_days", ro.offset_days.is_some()),
                ("every_days", ro.every_days.is_some()),
                ("count", ro.count.is_some()),
            ];
            if let Some(st) = self.policy.statements.iter().find(|s| &s.id == id) {
                if let Some((field, _)) = timing.iter().find(|(_, set)| *set) {
                    return refuse(field, "a statement rule", "enabled, roles and rrule");
                }
                if let Some(rrule) = &ro.rrule {
                    crate::statement::compile(&format!("{id} (client {})", client.id), rrule, st.start)?;
                }
                continue;
            }
            if self.is_account_rule(id.as_str()) {
                let rrule = ("rrule", ro.rrule.is_some());
                if let Some((field, _)) = timing.iter().chain([&rrule]).find(|(_, set)| *set) {
                    return refuse(field, "a standing notice", "enabled and roles");
                }
                continue;
            }
            let Some(rule) = self.policy.rules.iter().find(|r| &r.id == id) else {
                return Err(ValidationError::UnknownRuleOverride {
                    client: client.id.to_string(),
                    rule: id.to_string(),
                });
            };
            if ro.rrule.is_some() {
                return refuse(
                    "rrule",
                    "a reminder rule",
                    "enabled, offset_days, every_days, count and roles",
                );
            }
            let name = format!("{id} (client {})", client.id);
            check_rule_shape(
                &name,
                ro.every_days.or(rule.every_days),
                ro.count.unwrap_or(rule.count),
            )?;
            if ro.offset_days.is_some_and(|d| d < 0) && rule.anchor != Anchor::Due {
                return Err(ValidationError::InvalidRuleField {
                    rule: name,
                    field: "offset_days",
                    value: ro.offset_days.unwrap_or_default().to_string(),
                    anchor: rule.anchor.to_string(),
                });
            }
        }
        Ok(())
    }

    /// The event `rule` would send about `item` to `client` at `now`, whatever the schedule
    /// says: for previews and test sends. Its key starts with `preview/`, so it never collides
    /// with a real one; a test send recorded in history (`Event::to_history`) is read as no
    /// send at all: the real reminder still goes, spaced and counted as before.
    ///
    /// # Errors
    /// An unknown rule, an item of another client, or an invalid client or item.
    ///
    /// # Example
    /// ```
    /// use chrono::{NaiveDate, TimeZone as _, Utc};
    /// use dunning::*;
    /// let policy = Policy::default().with_rule(Rule::new("due-soon".parse()?, Anchor::Due, -5));
    /// let planner = Planner::new(&policy)?;
    /// let client = Client::new("acme".parse()?, "ACME").with_contact(Contact::new("Ana", "ana@acme.cl"));
    /// let issued = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
    /// let item = Item::invoice("F-1".parse()?, "acme".parse()?, issued, Money::parse("10", Currency::from_code("USD")?)?);
    /// let now = Utc.with_ymd_and_hms(2026, 3, 5, 12, 0, 0).unwrap();
    /// let event = planner.preview(&"due-soon".parse()?, &client, &item, now)?;
    /// assert_eq!(event.key.as_str(), "preview/due-soon/F-1");
    /// assert_eq!(event.stage, Stage::DueSoon);
    /// # Ok::<(), dunning::ValidationError>(())
    /// ```
    pub fn preview(
        &self,
        rule: &RuleId,
        client: &Client,
        item: &Item,
        now: DateTime<Utc>,
    ) -> Result<Event, ValidationError> {
        self.check_client(client)?;
        item.validate()?;
        if item.client != client.id {
            return Err(ValidationError::UnknownClient {
                item: item.id.to_string(),
                client: item.client.to_string(),
            });
        }
        let ri =
            self.rules
                .iter()
                .position(|r| &r.id == rule)
                .ok_or_else(|| ValidationError::UnknownRule {
                    rule: rule.to_string(),
                })?;
        let compiled = &self.rules[ri];
        let mut eff = Vec::new();
        self.eff_rules(client, &mut eff);
        let eff = eff[ri];
        let resolved = Resolved::new(&self.policy, client);
        let tz = resolved.time_zone().value;
        let send_time = resolved.send_time().value;
        let today = tz.local_date(now);
        let due = item.due_date(self.term_of(client));
        let balance = item.balance()?;
        let anchor_on = match compiled.anchor {
            Anchor::Issued => item.issued_on,
            Anchor::Due => due.unwrap_or(item.issued_on),
            Anchor::Sent => item.sent_date(),
            Anchor::Paid => item.settled_date().unwrap_or(today),
        };
        let mut contacts = Vec::new();
        notify_contacts(client, &mut contacts);
        let recipients = recipients_of(&contacts, eff.roles_mask);
        let late_fee = match compiled.late_fee.as_ref().zip(balance) {
            Some((f, b)) => f.compute(b)?,
            None => None,
        };
        let stage = stage_of(compiled.anchor, today, due);
        Ok(Event {
            key: EventKey::from(format!("preview/{rule}/{}", item.id)),
            rule: rule.clone(),
            stage,
            client: client.id.clone(),
            items: vec![EventItem {
                item: item.id.clone(),
                number: item.shared_number(),
                kind: item.kind,
                occurrence: 1,
                issued_on: item.issued_on,
                due_on: due,
                total: item.total,
                balance,
                late_fee,
                attachments: item.attachments.clone().into_boxed_slice(),
            }],
            recipients,
            send_on: today,
            send_at: local_instant(tz, today, send_time),
            time_zone: tz,
            locale: self.locale_of(client),
            occurrence: 1,
            count: eff.count,
            amount_due: balance,
            late_fee,
            statement: None,
            standing: None,
            why: Why {
                anchor: Some(compiled.anchor),
                anchor_on,
                offset_days: eff.offset,
                nominal_on: today,
                adjustments: Vec::new(),
                preview: true,
            },
        })
    }

    pub(crate) fn eff_rules(&self, client: &Client, out: &mut Vec<EffRule>) {
        out.clear();
        let o = &client.overrides;
        if o.rules.is_empty() && o.roles.is_none() && self.default_rules.len() == self.policy.rules.len() {
            out.extend_from_slice(&self.default_rules);
        } else {
            resolve_rules(&self.policy, client, out);
        }
    }

    /// Plans reminders for `clients` and their `items` at instant `now`, given the `history`
    /// of what was sent, with a forecast up to `now + horizon`.
    ///
    /// The result depends only on the arguments; the order of the slices does not matter.
    /// Speed does, a little: clients listed in id order and items listed client by client,
    /// each client's by id (as a store ordered by client and by item gives them), are
    /// checked in one pass, without sorting or bucketing them first.
    ///
    /// # Errors
    /// The first invalid input, in id order: duplicate ids, an item of an unknown client, an
    /// invalid item ([`Item::validate`]) or client ([`Client::validate`], overrides of unknown
    /// rules, payment term out of range), or a horizon longer than
    /// [`MAX_HORIZON_DAYS`](crate::limits::MAX_HORIZON_DAYS) (one that reaches past the end of
    /// time plans up to it).
    pub fn plan(
        &self,
        clients: &[Client],
        items: &[Item],
        history: &[HistoryEntry],
        now: DateTime<Utc>,
        horizon: Horizon,
    ) -> Result<Plan, ValidationError> {
        let job = self.prepare(clients, items, history, now, horizon)?;
        self.plan_job(job)
    }

    /// Plans as [`Planner::plan`] does, and returns the plan as the planner computes it: a
    /// [`Schedule`] of compact records that refer to `clients`, `items` and `history`
    /// instead of copying from them. Its views read each event and suppressed entry in
    /// place, and make owned ones on demand; [`Schedule::to_plan`] is the [`Plan`].
    ///
    /// For large portfolios: a schedule costs a few dozen bytes per decision, where the
    /// owned plan copies every item's data into every event about it.
    ///
    /// # Errors
    /// As [`Planner::plan`].
    pub fn schedule<'a>(
        &'a self,
        clients: &'a [Client],
        items: &'a [Item],
        history: &'a [HistoryEntry],
        now: DateTime<Utc>,
        horizon: Horizon,
    ) -> Result<Schedule<'a>, ValidationError> {
        let job = self.prepare(clients, items, history, now, horizon)?;
        self.run(job)
    }

    /// What a plan of fresh inputs does first: the inputs checked and indexed, and the
    /// history indexed by them (what found items by id then goes, before the plan grows
    /// beside it).
    pub(crate) fn prepare<'a>(
        &'a self,
        clients: &'a [Client],
        items: &'a [Item],
        history: &'a [HistoryEntry],
        now: DateTime<Utc>,
        horizon: Horizon,
    ) -> Result<PlanJob<'a, 'a>, ValidationError> {
        let end = self.check_run(history, now, horizon)?;
        let mut indexed = self.index_inputs(clients, items)?;
        let hist = self.history_of(clients, items, &indexed, history);
        indexed.item_seq = ItemIds::sorted();
        indexed.ids = Vec::new();
        Ok(PlanJob {
            inputs: Inputs {
                planner: self,
                clients,
                items,
                history,
            },
            indexed: InputIndexRef::Owned(indexed),
            hist,
            now,
            horizon,
            end,
        })
    }

    /// The owned plan of `job`: its schedule, made owned in the plan's order.
    pub(crate) fn plan_job(&self, job: PlanJob<'_, '_>) -> Result<Plan, ValidationError> {
        Ok(self.run(job)?.to_plan())
    }

    /// The horizon's end, once the history's size is checked.
    pub(crate) fn check_run(
        &self,
        history: &[HistoryEntry],
        now: DateTime<Utc>,
        horizon: Horizon,
    ) -> Result<DateTime<Utc>, ValidationError> {
        let end = horizon.end(now)?;
        check_count("history", history.len())?;
        Ok(end)
    }

    /// `history` indexed by the order `indexed` plans items in.
    pub(crate) fn history_of<'h>(
        &self,
        clients: &[Client],
        items: &[Item],
        indexed: &InputIndex<'_>,
        history: &'h [HistoryEntry],
    ) -> HistoryIndex<'h> {
        // The last send to each client matters only where a minimum gap between messages does.
        let gaps = self.policy.min_gap_days > 0
            || clients
                .iter()
                .any(|c| c.overrides.min_gap_days.is_some_and(|g| g > 0));
        let find = indexed.item_seq.finder(&indexed.ids, history.len());
        self.index_history(history, find, items.len(), gaps)
    }

    /// Plans into a schedule: compact records, client by client, read in the plan's order.
    /// The owned plan is made from it ([`Schedule::to_plan`]).
    pub(crate) fn run<'a>(&'a self, job: PlanJob<'a, '_>) -> Result<Schedule<'a>, ValidationError> {
        let PlanJob {
            inputs,
            indexed,
            hist,
            now,
            horizon,
            end,
        } = job;
        let InputIndex {
            order,
            bucket,
            starts,
            places,
            ..
        } = &*indexed;
        let items = inputs.items;
        let mut plan = Schedule {
            inputs,
            now,
            horizon,
            due: Records::new(),
            upcoming: Records::new(),
            suppressed: Records::new(),
            tables: Tables::default(),
            standings: Vec::new(),
        };
        // About one event and two or three suppressed entries an item: room made at once, so
        // the records are not copied as they grow (pages are only used as records are made).
        plan.due.reserve(items.len());
        plan.suppressed.reserve(items.len().saturating_mul(3));
        let mut scratch = Scratch::default();
        let instants = std::rc::Rc::new(std::cell::RefCell::new(SendInstants::new()));
        let mut occurrences = account::Occurrences::new(self, now, horizon);
        let mut shapes = Shapes::new(self);
        // Each client's output is sorted on its own (small slices) and cut into runs of one
        // date; the plan reads the runs by date, then client rank, so its records never move
        // once made.
        // (Room made at once, as for the records: a run of due events an item, catch-ups
        // keeping the instants they were meant for; a couple of days of suppressed entries a
        // client.)
        let mut due_runs: Vec<RunOf<DateTime<Utc>>> = Vec::with_capacity(items.len());
        let mut upcoming_runs: Vec<RunOf<DateTime<Utc>>> = Vec::new();
        let mut suppressed_runs: Vec<RunOf<NaiveDate>> = Vec::with_capacity(order.len().saturating_mul(2));
        for (r, &ci) in order.iter().enumerate() {
            let client_items = &bucket[starts[r]..starts[r + 1]];
            let marks = [plan.due.made(), plan.upcoming.made(), plan.suppressed.made()];
            self.plan_client(
                inputs,
                ci,
                starts[r],
                client_items,
                &hist,
                now,
                end,
                &mut scratch,
                &mut occurrences,
                &mut shapes,
                &instants,
                &mut plan,
            )?;
            // A key in history is never planned again, also where the entry that holds it is
            // not read as a send of what it names (`HistoryIndex::stray`).
            if !hist.stray.is_empty() {
                let keys = &plan.tables.keys;
                let held = |e: &EventRecord| hist.stray.contains(inputs.key(keys, &e.key).as_str());
                plan.due.retain_since(marks[0], |e| !held(e));
                plan.upcoming.retain_since(marks[1], |e| !held(e));
            }
            let keys = &plan.tables.keys;
            let by_instant = |a: &EventRecord, b: &EventRecord| {
                a.send_at
                    .cmp(&b.send_at)
                    .then_with(|| inputs.cmp_keys(keys, &a.key, &b.key))
            };
            plan.due.made_since(marks[0]).sort_unstable_by(by_instant);
            plan.upcoming.made_since(marks[1]).sort_unstable_by(by_instant);
            // A client's items are planned in id order: their places order as their ids
            // (and no item first).
            let item = |s: &SuppressedRecord| places.get(s.item.get()).copied();
            let rule = |s: &SuppressedRecord| self.rule_orders.get(s.rule.get()).copied();
            let ties = |a: &SuppressedRecord, b: &SuppressedRecord| {
                inputs
                    .cmp_keys(keys, &a.key, &b.key)
                    // One key suppressed for two reasons (rare): by their sentences.
                    .then_with(|| {
                        if a.reason == b.reason {
                            std::cmp::Ordering::Equal
                        } else {
                            let text = |s| inputs.suppressed(keys, s).explain();
                            text(a).cmp(&text(b))
                        }
                    })
            };
            // By day, item and rule packed into one number each (compared at once), then by
            // key and reason where those are alike.
            let order_key = |s: &SuppressedRecord| {
                // Fits: places are fewer than `u32::MAX` (`check_count`); `None` first.
                let place = item(s).map_or(0, |p| p + 1);
                let rule = rule(s).map_or(0, |r| u32::from(r) + 1);
                (s.on, (u64::from(place) << 32) | u64::from(rule))
            };
            records::sort_records(
                plan.suppressed.made_since(marks[2]),
                &mut scratch.order,
                &mut scratch.moved,
                order_key,
                ties,
            );
            plan.due.runs_since(marks[0], r, |e| e.send_at, &mut due_runs);
            plan.upcoming
                .runs_since(marks[1], r, |e| e.send_at, &mut upcoming_runs);
            plan.suppressed
                .runs_since(marks[2], r, |s| s.on, &mut suppressed_runs);
        }
        drop((scratch, occurrences, shapes, hist, indexed));
        plan.due.order(due_runs);
        plan.upcoming.order(upcoming_runs);
        plan.suppressed.order(suppressed_runs);
        Ok(plan)
    }

    /// Checks `clients` and `items` as [`Planner::plan`] does: client and item ids unique,
    /// every item's client known, every client and item valid (and client overrides naming
    /// rules of the policy), and each client's balances and late fees adding up, per
    /// currency, to an amount (`i64::MAX` minor units at most). Hosts can check an import
    /// before saving it.
    ///
    /// # Errors
    /// The first invalid input, in id order, as [`Planner::plan`] reports it.
    ///
    /// # Example
    /// ```
    /// # use dunning::*;
    /// # use chrono::NaiveDate;
    /// let planner = Planner::new(&Policy::new(TimeZone::UTC))?;
    /// let client = Client::new("acme".parse()?, "ACME");
    /// let clp = Currency::from_code("CLP")?;
    /// let issued = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
    /// let item = Item::invoice("F-1".parse()?, client.id.clone(), issued, Money::from_minor(1000, clp));
    /// assert!(planner.check(&[client.clone()], &[item.clone()]).is_ok());
    /// assert_eq!(
    ///     planner.check(&[client], &[item.clone(), item]),
    ///     Err(ValidationError::DuplicateId { kind: "item", id: "F-1".into() })
    /// );
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn check(&self, clients: &[Client], items: &[Item]) -> Result<(), ValidationError> {
        let indexed = self.index_inputs(clients, items)?;
        // What planning adds up per client (balances and late fees per currency) fits.
        let mut sums = Sums::default();
        for (r, &ci) in indexed.order.iter().enumerate() {
            sums.clear();
            for &ii in &indexed.bucket[indexed.starts[r]..indexed.starts[r + 1]] {
                sums.add(self, &clients[ci], items[ii as usize].balance()?)?;
            }
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn plan_client<'h>(
        &self,
        inputs: Inputs<'h>,
        ci: usize,
        first: usize,
        client_items: &[u32],
        hist: &HistoryIndex<'h>,
        now: DateTime<Utc>,
        end: DateTime<Utc>,
        scratch: &mut Scratch<'h>,
        occurrences: &mut account::Occurrences,
        shapes: &mut Shapes,
        instants: &std::rc::Rc<std::cell::RefCell<SendInstants>>,
        plan: &mut Schedule<'h>,
    ) -> Result<(), ValidationError> {
        let client = &inputs.clients[ci];
        let items = inputs.items;
        let resolved = Resolved::new(&self.policy, client);
        let tz = resolved.time_zone().value;
        let send_time = resolved.send_time().value;
        let ClientDays {
            today,
            today_at,
            today_due,
            end_date,
            sweep_end,
            ..
        } = scratch.days.of(tz, send_time, now, end);
        let mut contacts = std::mem::take(&mut scratch.contacts);
        notify_contacts(client, &mut contacts);
        let cx = ClientCtx {
            client,
            index: ClientIx::at(ci),
            inputs,
            tz,
            send_time,
            now,
            end,
            today,
            today_due,
            end_date,
            sweep_end,
            window_start: self.window_start_on(today),
            gap: resolved.min_gap_days().value,
            contacts,
            last_instant: std::cell::Cell::new(Some((today, today_at))),
            swept_to: std::cell::Cell::new(None),
            left_to_expire: std::cell::Cell::new(false),
            instants: std::rc::Rc::clone(instants),
        };
        let term = self.term_of(client);
        let client_off = !resolved.reminders().value;
        // The day of the client's last message, sent or planned.
        let mut last_client_send = hist
            .client_last
            .get(client.id.as_str())
            .map(|t| tz.local_date(*t));
        // The first day the gap after the client's last message in history allows: what
        // would go before it goes that day, at its send time, deferred (as the forecast made
        // before said). Past the end of the calendar: never again.
        let gap_until = last_client_send
            .filter(|_| cx.gap > 0)
            .map(|l| add_days(l, i64::from(cx.gap)).unwrap_or(NaiveDate::MAX));

        self.eff_rules(client, &mut scratch.eff);
        scratch.slots.clear();
        scratch.heap.clear();
        if scratch.sends.len() < client_items.len() {
            scratch.sends.resize_with(client_items.len(), ItemSends::default);
        }
        let mut ctxs = std::mem::take(&mut scratch.ctxs);
        ctxs.clear();
        let mut sums = std::mem::take(&mut scratch.sums);
        sums.clear();
        let mut bufs = std::mem::take(&mut scratch.sweep);
        // Without notices grouped across items or a gap between a client's messages, what
        // happens to one item never moves another's: each item is swept on its own, right
        // after its slots are made, reading its few candidates from its slots.
        let apart = !self.any_group && cx.gap == 0;
        // Items alike are planned once (see `shapes`), when they never move each other.
        let client_shape = shapes.client(self, &cx, client_off, &scratch.eff);

        for (li, &ii) in client_items.iter().enumerate() {
            let ii = ii as usize;
            let item = &items[ii];
            let index = ItemIx::at(ii);
            let balance = item.balance()?;
            sums.add(self, client, balance)?;
            let status = item.status_with(balance);
            let due = item.due_date(term);
            let ictx = ItemCtx {
                item,
                index,
                status,
                balance,
                due,
                slots: 0..0,
            };
            let history = hist.for_item(first + li);
            let shape =
                client_shape.and_then(|c| shapes.item(self, c, &ictx, history, tz, &mut scratch.dates));
            if let Some(shape) = &shape {
                if shapes.replay(shape, index, cx.index, history, plan) {
                    ctxs.push(ictx);
                    continue;
                }
            }
            let marks = [plan.due.made(), plan.upcoming.made(), plan.suppressed.made()];
            let sends = &mut scratch.sends[li];
            sends.clear(self.rules.len(), index);
            // Per rule, the highest occurrence sent and the last day it went.
            let sent = &mut scratch.sent;
            sent.clear();
            sent.resize(self.rules.len(), RuleSent::default());
            for h in hist.for_item(first + li) {
                let date = scratch.dates.date_at(tz, h.sent_at());
                let rule = match h.rule() {
                    HistRule::Manual => {
                        sends.manual.push(date);
                        continue;
                    }
                    HistRule::Rule(r) => Some(r.get()),
                    HistRule::Unknown => None,
                };
                if let Some(went) = rule.and_then(|r| sent.get_mut(r)) {
                    went.add(h.occurrence, date);
                }
                sends.history.push((rule, h.occurrence, h.entry));
                // The day of the stage it was: for one that went before it, a stage it is
                // later than is superseded by it.
                let stage_on = rule.and_then(|r| {
                    let (rule, eff) = (self.rules.get(r)?, scratch.eff.get(r)?);
                    let days = StageDays::of(rule, eff, item, due, status)
                        .filter(|_| rule.applies(eff, item, client))?;
                    days.nominal(h.occurrence)
                });
                sends.push(
                    Send {
                        rule,
                        date,
                        key: KeyRef::History(h.entry),
                    },
                    stage_on,
                );
            }
            if !sends.manual.is_sorted() {
                sends.manual.sort_unstable();
            }
            let last_manual = sends.manual.last().copied();
            let slot_start = scratch.slots.len();
            // The rules for the item that have no day to count from.
            let mut unanchored: Vec<usize> = Vec::new();
            for (ri, rule) in self.rules.iter().enumerate() {
                let eff = scratch.eff[ri];
                if !rule.applies(&eff, item, client) {
                    continue;
                }
                let Some(StageDays {
                    anchor_on,
                    offset,
                    every,
                    count,
                }) = StageDays::of(rule, &eff, item, due, status)
                else {
                    // No day to count from (an action with no due date, a due date past the
                    // end of the calendar): said below if nothing reminds about the item.
                    if rule.anchor != Anchor::Paid {
                        unanchored.push(ri);
                    }
                    continue;
                };
                let went = scratch.sent[ri];
                let (max_occ, last_rule) = (went.max_occ, went.last);
                let mut slot = Slot {
                    item: li,
                    rule: ri,
                    anchor_on,
                    offset,
                    every,
                    count,
                    roles_mask: eff.roles_mask,
                    next_occ: max_occ.saturating_add(1),
                    last_rule,
                    last_manual,
                    not_before: None,
                    past_pauses: false,
                    version: 0,
                    cand: None,
                    won: None,
                };
                let mask = slot.roles_mask;
                let block = lasting_stop(
                    &Stops {
                        item,
                        status,
                        balance,
                        due,
                        rule,
                        eff: &eff,
                        collection: &self.policy.collection,
                        client_off,
                    },
                    || cx.contacts.iter().any(|c| mask == 0 || mask & c.role.bit() != 0),
                );
                slot.past_pauses = block.is_some();
                if block.is_none() {
                    slot.not_before = gap_until;
                }
                if went.unsent_below() && block.is_none() {
                    // Earlier occurrences that never went, superseded, too late (a "due
                    // soon") or expired before a later one went: still said so.
                    self.say_unsent_below(
                        &cx,
                        &ictx,
                        &slot,
                        &scratch.sends[li],
                        &plan.tables.keys,
                        &mut plan.suppressed,
                    );
                }
                let out = &mut plan.suppressed;
                let mut look_ahead = Unsaid::default();
                let sink: &mut dyn Notes = if block.is_some() {
                    &mut look_ahead
                } else {
                    &mut *out
                };
                // Worked out in its place among the slots (a candidate is not moved once made).
                let idx = scratch.slots.len();
                scratch.slots.push(slot);
                let Some(slot) = scratch.slots.last_mut() else {
                    continue;
                };
                self.compute(&cx, &ictx, slot, &scratch.sends[li], &plan.tables.keys, sink);
                match (block, &slot.cand) {
                    (Some(reason), Some(c)) => {
                        // A settled or closed item (paid, cancelled, void, completed, a draft)
                        // is explained on the day it was due, so a long-paid item is not
                        // explained again every day. An open item held back by a lasting stop
                        // (reminders off for the client, the rule or the item, before the
                        // collection start, below the minimum, nobody to send to) is explained
                        // as of now: on the day it was due if that is in the window, else on
                        // the day it would go (today, for a catch-up), once per item and rule.
                        let on = if status.is_pending() && !cx.in_window(c.scheduled) {
                            c.date
                        } else {
                            c.scheduled
                        };
                        if cx.in_window(on) {
                            out.push(suppressed(&cx, &ictx, ri, slot.next_occ, on, reason));
                        }
                        scratch.slots.truncate(idx);
                    }
                    (None, Some(c)) => {
                        // The sweep stops at the horizon's last day: a later candidate waits in
                        // its slot (for what it explains) and never in the heap.
                        if cx.sweeps(c) && !apart {
                            let idx = u32::try_from(idx).unwrap_or(u32::MAX);
                            scratch.heap.push(Reverse((c.date, idx, 0)));
                        }
                    }
                    (Some(reason), None) => {
                        // A "due soon" of an open item that is too late by now (its due date
                        // came): the lasting stop that held it is said where its being too late
                        // would be (as of now, once per item and rule), as another rule's is.
                        if let Some((occurrence, on)) = look_ahead.too_late.filter(|_| status.is_pending()) {
                            if cx.in_window(on) {
                                out.push(suppressed(&cx, &ictx, ri, occurrence, on, reason));
                            }
                        }
                        scratch.slots.truncate(idx);
                    }
                    (None, None) => scratch.slots.truncate(idx),
                }
            }
            if scratch.slots.len() == slot_start && status.is_pending() {
                // An open item nothing reminds about says why: each rule for it that has no
                // day to count from, as of now; else each rule it is not for.
                for &ri in &unanchored {
                    let next = scratch.sent[ri].max_occ.saturating_add(1);
                    plan.suppressed.push(suppressed(
                        &cx,
                        &ictx,
                        ri,
                        next,
                        cx.today,
                        Reason::plain(Kind::NoDateToCountFrom),
                    ));
                }
                self.explain_out_of_scope(&cx, &ictx, &scratch.eff, &mut plan.suppressed);
            }
            ctxs.push(ItemCtx {
                slots: slot_start..scratch.slots.len(),
                ..ictx
            });
            if apart {
                scratch.by_slots = Some(slot_start..scratch.slots.len());
                self.sweep(&cx, &ctxs, hist, scratch, &mut bufs, &mut last_client_send, plan);
                // Swept on its own: what holds back its candidates past the horizon is said
                // now, and its slots are done with.
                explain_unswept(&cx, &ctxs, &scratch.slots[slot_start..], &mut plan.suppressed);
                scratch.slots.truncate(slot_start);
                if let Some(last) = ctxs.last_mut() {
                    last.slots = slot_start..slot_start;
                }
                if let Some(shape) = shape {
                    shapes.keep(shape, index, cx.index, history, plan, marks);
                }
            }
        }
        scratch.by_slots = None;
        if !apart {
            self.sweep(&cx, &ctxs, hist, scratch, &mut bufs, &mut last_client_send, plan);
        }
        explain_unswept(&cx, &ctxs, &scratch.slots, &mut plan.suppressed);
        // Sends that failed for good or whose outcome is unknown: explained, never planned.
        for &e in hist
            .undelivered
            .get(client.id.as_str())
            .map_or(&[][..], Vec::as_slice)
        {
            let Some(h) = inputs.history.get(e as usize) else {
                continue;
            };
            let mut on = tz.local_date(h.sent_at);
            let Some(id) = h.rule.as_ref() else { continue };
            let Some(rule) = self.rule_ids.iter().position(|r| r == id).map(RuleIx::at) else {
                continue;
            };
            let account = self.is_account_rule(id.as_str());
            let at = h
                .items
                .first()
                .and_then(|hi| ctxs.iter().position(|c| c.item.id == hi.item))
                .filter(|_| !account);
            if !cx.in_window(on) {
                // Gone from the window: still explained, as of now, while its item is open
                // and it is the last that rule tried for the item (a lasting stop); a
                // statement or standing notice, while the client has an open item and it is
                // the last of its rule tried for the client.
                let lasting = match at {
                    Some(li) => {
                        ctxs[li].status.is_pending()
                            && hist.for_item(first + li).iter().all(|r| {
                                r.rule() != HistRule::Rule(rule) || r.sent_at() <= h.sent_at.timestamp()
                            })
                    }
                    None if account => {
                        ctxs.iter().any(|c| c.status.is_pending())
                            && hist
                                .client_events
                                .get(client.id.as_str())
                                .map_or(&[][..], Vec::as_slice)
                                .iter()
                                .all(|s| s.rule != id.as_str() || s.sent_at <= h.sent_at)
                    }
                    None => false,
                };
                if !lasting {
                    continue;
                }
                on = cx.today;
            }
            let item = at.map_or(ItemIx::NONE, |li| ctxs[li].index);
            plan.suppressed.push(SuppressedRecord {
                key: KeyRef::History(e),
                reason: Reason::undelivered(e, matches!(h.outcome, HistoryOutcome::Failed { .. })),
                client: cx.index,
                item,
                on,
                rule,
            });
        }
        self.plan_statements(&cx, &ctxs, hist, occurrences, plan)?;
        self.plan_standing(&cx, &ctxs, hist, occurrences, plan);
        scratch.contacts = cx.contacts;
        scratch.ctxs = ctxs;
        scratch.sums = sums;
        scratch.sweep = bufs;
        Ok(())
    }

    /// The sweep of the candidates in the heap, one local day at a time up to the horizon's
    /// last day: same-day stages resolved (the latest wins), notices grouped, the gap
    /// applied, events made, and each slot's next candidate worked out.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn sweep<'h>(
        &self,
        cx: &ClientCtx<'h>,
        ctxs: &[ItemCtx<'h>],
        hist: &HistoryIndex<'h>,
        scratch: &mut Scratch<'h>,
        bufs: &mut SweepBufs,
        last_client_send: &mut Option<NaiveDate>,
        plan: &mut Schedule<'h>,
    ) {
        let SweepBufs {
            batch,
            winners,
            losers,
            members,
            expiring,
        } = bufs;
        let grouped = self.any_group;
        let inputs = cx.inputs;
        let currency = |sl: &Slot| ctxs[sl.item].balance.map(|b| b.currency());
        // What the stages of one grouped notice share.
        // When a stage goes: now if it is due, else its send instant.
        let goes_at = |sl: &Slot| -> Option<DateTime<Utc>> {
            let c = sl.cand.as_ref()?;
            (!cx.is_due(c)).then(|| cx.placed(c.date, c.scheduled, c.send).1)
        };
        let message_key = |sl: &Slot| -> MessageKey { (sl.rule, currency(sl), goes_at(sl)) };
        let out = &mut plan.suppressed;
        let tables = &mut plan.tables;
        loop {
            let day = if let Some(range) = scratch.by_slots.clone() {
                // One item's few slots: its earliest candidate within the horizon, and every
                // slot of that day, read from the slots themselves (each day's send moves the
                // slots it touches past that day).
                let date = |s: usize| {
                    scratch.slots[s]
                        .cand
                        .as_ref()
                        .filter(|c| cx.sweeps(c))
                        .map(|c| c.date)
                };
                let Some(day) = range.clone().filter_map(date).min() else {
                    break;
                };
                batch.clear();
                batch.extend(range.filter(|&s| date(s) == Some(day)));
                day
            } else {
                let Some(Reverse((day, ..))) = scratch.heap.peek().copied() else {
                    break;
                };
                if day > cx.sweep_end {
                    break;
                }
                batch.clear();
                while let Some(Reverse((d, s, v))) = scratch.heap.peek().copied() {
                    let s = s as usize;
                    if d != day {
                        break;
                    }
                    scratch.heap.pop();
                    let slot = &scratch.slots[s];
                    if slot.version == v && slot.cand.as_ref().is_some_and(|c| c.date == day) {
                        batch.push(s);
                    }
                }
                if batch.is_empty() {
                    continue;
                }
                day
            };
            if day > cx.end_date {
                // The day after the window, made for a catch-up at its start: the stages of
                // that day's send time are not swept on their own, but they are of the day's
                // batch (the latest stage whose turn has come wins; past the horizon, it is
                // not listed). Under the gap, so are other items' (one that waited longer
                // goes first, unlisted, and the gap after it holds the catch-up back).
                let same_day = |s: usize| scratch.slots[s].cand.as_ref().is_some_and(|c| c.date == day);
                if cx.gap > 0 {
                    for s in 0..scratch.slots.len() {
                        if same_day(s) && !batch.contains(&s) {
                            batch.push(s);
                        }
                    }
                } else {
                    let mut i = 0;
                    while i < batch.len() {
                        let item = scratch.slots[batch[i]].item;
                        for s in ctxs[item].slots.clone() {
                            if same_day(s) && !batch.contains(&s) {
                                batch.push(s);
                            }
                        }
                        i += 1;
                    }
                }
            }
            // Every send of an earlier day is worked out, and an item's of this day are once
            // its stage of the day is decided (before any of its slots is worked out again).
            cx.swept_to.set(Some(day));
            // Occurrences that expire today unless a send of the day supersedes them: decided
            // once the day's sends are made.
            expiring.clear();
            let expires = |s: &usize| scratch.slots[*s].cand.as_ref().is_some_and(|c| c.expires);
            if cx.left_to_expire.get() && batch.iter().any(expires) {
                expiring.extend(batch.iter().filter(|s| expires(s)));
                batch.retain(|s| !expires(s));
            }
            // Slots are made item by item, each item's in rule order, and the heap yields a
            // day's entries in slot order: the batch comes grouped by item.
            if !batch.is_sorted() {
                batch.sort_unstable();
            }
            winners.clear();
            losers.clear();
            let mut i = 0;
            while i < batch.len() {
                let item = scratch.slots[batch[i]].item;
                let j = i + batch[i..]
                    .iter()
                    .take_while(|&&n| scratch.slots[n].item == item)
                    .count();
                // Latest stage per item wins (decide::day).
                let rank = |s: usize| {
                    let sl = &scratch.slots[s];
                    StageRank::of(cx, sl.cand.as_ref(), sl.rule)
                };
                let winner = same_day_winner(batch[i..j].iter().map(|&s| (s, rank(s)))).unwrap_or(batch[i]);
                if j - i > 1 {
                    let won = rank(winner);
                    for &s in batch[i..j].iter().filter(|&&s| s != winner) {
                        losers.push((s, winner, rank(s).moves_past(&won, day)));
                    }
                }
                scratch.slots[winner].won = None;
                winners.push(winner);
                i = j;
            }
            // Winners are of distinct items: their order matters only to notices grouped
            // across items and to the gap between a client's messages.
            if grouped || cx.gap > 0 {
                winners.sort_by_key(|&s| {
                    let sl = &scratch.slots[s];
                    message_order(sl.rule, currency(sl), goes_at(sl), sl.item)
                });
            }
            if cx.gap > 0 && winners.len() > 1 {
                let (slots, sends) = (&scratch.slots, &scratch.sends);
                // An instant meant for an earlier day (a catch-up) counts as the day's first:
                // the day's first tick finds it due with those of that instant, as a plan
                // made before the day has it going then.
                let day_start = local_instant(cx.tz, day, NaiveTime::MIN);
                longest_waiting_first(
                    winners,
                    |s| {
                        let c = slots[s].cand.as_ref();
                        (
                            c.map_or(day, Candidate::waiting_since),
                            c.map(|c| cx.placed(c.date, c.scheduled, c.send).1.max(day_start)),
                            sends[slots[s].item].last_day(),
                        )
                    },
                    |s| self.rules[slots[s].rule].group.then(|| message_key(&slots[s])),
                );
            }
            // Messages: runs of grouped winners with one rule, currency and time (due now, or
            // at today's send time), else singles.
            let mut i = 0;
            while i < winners.len() {
                let first = &scratch.slots[winners[i]];
                let rule = &self.rules[first.rule];
                let mut j = i + 1;
                if rule.group {
                    let notice = message_key(first);
                    while j < winners.len() && message_key(&scratch.slots[winners[j]]) == notice {
                        j += 1;
                    }
                }
                members.clear();
                members.extend_from_slice(&winners[i..j]);
                let held = gap_holds(*last_client_send, cx.gap, day);
                if let (true, None, (r, cur, Some(at))) = (rule.group && cx.gap > 0, held, message_key(first))
                {
                    // The day's message under the gap is a grouped notice at a send instant
                    // still to come: that day's notices of its rule and currency due sooner
                    // wait for it (the gap lets one message go), and by then are due with it,
                    // so they go in it, as the tick at that instant sends them. By then an
                    // item's stage of that rule and currency has had its turn too: where it is
                    // a later stage than the one that won the item's day by going sooner, it
                    // wins as of then (the latest stage whose turn has come) and goes in the
                    // notice, which supersedes the other.
                    let of_notice = |s: usize, by: fn(DateTime<Utc>, DateTime<Utc>) -> bool| {
                        let sl = &scratch.slots[s];
                        sl.rule == r && currency(sl) == cur && goes_at(sl).is_none_or(|t| by(t, at))
                    };
                    let by_then = |s: usize| {
                        let sl = &scratch.slots[s];
                        StageRank::by_then(sl.cand.as_ref(), sl.rule)
                    };
                    let rank = |s: usize| {
                        let sl = &scratch.slots[s];
                        StageRank::of(cx, sl.cand.as_ref(), sl.rule)
                    };
                    let mut k = j;
                    while k < winners.len() {
                        let w = winners[k];
                        if of_notice(w, |t, at| t < at) {
                            members.push(winners.remove(k));
                            continue;
                        }
                        let later = (losers.iter())
                            .filter(|l| l.1 == w && of_notice(l.0, |t, at| t <= at))
                            .map(|l| l.0)
                            .max_by_key(|&s| by_then(s))
                            .filter(|&s| by_then(s) > by_then(w));
                        let Some(s) = later else {
                            k += 1;
                            continue;
                        };
                        winners.remove(k);
                        members.push(s);
                        // The item's other stages, the one that won by going sooner among
                        // them, lose to it.
                        let won = rank(s);
                        for l in losers.iter_mut().filter(|l| l.1 == w) {
                            let beaten = if l.0 == s { w } else { l.0 };
                            *l = (beaten, s, rank(beaten).moves_past(&won, day));
                        }
                    }
                }
                i = j;
                if let Some(until) = held {
                    for &s in members.iter() {
                        scratch.slots[s].not_before = Some(until);
                        self.refresh(cx, ctxs, scratch, s, day, &tables.keys, out);
                    }
                    continue;
                }
                let key = self.message_key(cx, rule, ctxs, &scratch.slots, members, tables);
                for &s in members.iter() {
                    scratch.slots[s].won = Some(key);
                }
                let already = if rule.group {
                    hist.group_keys.contains(inputs.key(&tables.keys, &key).as_str())
                } else {
                    let keys = &tables.keys;
                    members.iter().any(|&s| {
                        scratch.sends[scratch.slots[s].item]
                            .in_history(&key, |a, b| inputs.same_key(keys, a, b))
                    })
                };
                if already {
                    for &s in members.iter() {
                        let sl = &scratch.slots[s];
                        out.push(suppressed_as(
                            cx,
                            &ctxs[sl.item],
                            sl.rule,
                            key,
                            day,
                            Reason::plain(Kind::AlreadySent),
                        ));
                    }
                } else {
                    let event = self.build_event(cx, ctxs, &scratch.slots, members, key, tables);
                    // What held each back is said under the event's key; under the item's own
                    // key for an event past the plan's end (not listed: a grouped notice's key
                    // names items a later plan may join), as for a candidate past the horizon.
                    let listed = event.send_at <= cx.end;
                    for &s in members.iter() {
                        let sl = &scratch.slots[s];
                        if let Some(c) = &sl.cand {
                            let key = if listed {
                                key
                            } else {
                                item_key(&ctxs[sl.item], sl.rule, sl.next_occ)
                            };
                            report_adjustments(cx, &ctxs[sl.item], sl.rule, key, c, out);
                        }
                    }
                    *last_client_send = Some(day);
                    cx.list(event, &mut plan.due, &mut plan.upcoming);
                }
                for &s in members.iter() {
                    let li = scratch.slots[s].item;
                    let stage_on = scratch.slots[s].cand.as_ref().map(|c| c.nominal);
                    scratch.sends[li].push(
                        Send {
                            rule: Some(scratch.slots[s].rule),
                            date: day,
                            key,
                        },
                        stage_on,
                    );
                    let sl = &mut scratch.slots[s];
                    sl.next_occ += 1;
                    sl.last_rule = Some(day);
                    sl.not_before = None;
                    sl.cand = None;
                }
                for &s in members.iter() {
                    let range = ctxs[scratch.slots[s].item].slots.clone();
                    for other in range {
                        // Slots of today's batch (their candidate is today's) wait for their
                        // turn; every other live one may be moved by this send.
                        if other == s || scratch.slots[other].cand.as_ref().is_none_or(|c| c.date == day) {
                            continue;
                        }
                        self.refresh(cx, ctxs, scratch, other, day, &tables.keys, out);
                    }
                    self.refresh(cx, ctxs, scratch, s, day, &tables.keys, out);
                }
            }
            for &(s, w, later) in losers.iter() {
                let won = scratch.slots[w].won;
                let by = match (Beaten::of(won.is_some(), later), won) {
                    (Beaten::WaitsWithWinner, _) | (_, None) => {
                        if let Some(until) = scratch.slots[w].not_before {
                            let sl = &mut scratch.slots[s];
                            sl.not_before = sl.not_before.max(Some(until));
                        }
                        self.refresh(cx, ctxs, scratch, s, day, &tables.keys, out);
                        continue;
                    }
                    (Beaten::MovesPast, _) => {
                        self.refresh(cx, ctxs, scratch, s, day, &tables.keys, out);
                        continue;
                    }
                    (Beaten::Superseded, Some(by)) => by,
                };
                let sl = &scratch.slots[s];
                if let Some(c) = &sl.cand {
                    if cx.in_window(c.date) {
                        out.push(suppressed(
                            cx,
                            &ctxs[sl.item],
                            sl.rule,
                            sl.next_occ,
                            c.date,
                            Reason::superseded(by),
                        ));
                    } else {
                        // Past the window (a catch-up at the start of the day after it): what
                        // held it back is said instead, as for a candidate past the horizon.
                        let key = item_key(&ctxs[sl.item], sl.rule, sl.next_occ);
                        report_adjustments(cx, &ctxs[sl.item], sl.rule, key, c, out);
                    }
                }
                let sl = &mut scratch.slots[s];
                sl.next_occ += 1;
                sl.last_rule = Some(day);
                sl.cand = None;
                self.refresh(cx, ctxs, scratch, s, day, &tables.keys, out);
            }
            if !expiring.is_empty() {
                // The day's sends are made: what expires today and none of them superseded is
                // dropped now, and the rule's next occurrence worked out.
                for &s in expiring.iter() {
                    let still = scratch.slots[s]
                        .cand
                        .as_ref()
                        .is_some_and(|c| c.expires && c.date == day);
                    if still {
                        self.refresh(cx, ctxs, scratch, s, day, &tables.keys, out);
                    }
                }
            }
        }
        cx.swept_to.set(None);
    }

    /// Recomputes a slot's candidate after its state or its item's sends changed.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn refresh<'h>(
        &self,
        cx: &ClientCtx<'h>,
        ctxs: &[ItemCtx<'h>],
        scratch: &mut Scratch<'h>,
        s: usize,
        day: NaiveDate,
        keys: &[EventKey],
        out: &mut Records<SuppressedRecord>,
    ) {
        let li = scratch.slots[s].item;
        let ictx = &ctxs[li];
        let slot = &mut scratch.slots[s];
        slot.version += 1;
        self.compute(cx, ictx, slot, &scratch.sends[li], keys, out);
        if let Some(c) = &mut slot.cand {
            if c.date <= day {
                match add_days(day, 1) {
                    Some(next) => c.date = next,
                    // No day after the end of the calendar: never.
                    None => {
                        slot.cand = None;
                        return;
                    }
                }
            }
            if cx.sweeps(c) && scratch.by_slots.is_none() {
                scratch.heap.push(Reverse((
                    c.date,
                    u32::try_from(s).unwrap_or(u32::MAX),
                    slot.version,
                )));
            }
        }
    }

    /// The key of a message about `members`: the item's own key, or for a notice grouped
    /// across items `rule/client/currency/g` and the [`group_digest`] of its items and
    /// occurrences, so the same items and occurrences always make the same key, whatever
    /// the day the notice goes.
    pub(crate) fn message_key(
        &self,
        cx: &ClientCtx<'_>,
        rule: &CompiledRule,
        ctxs: &[ItemCtx<'_>],
        slots: &[Slot],
        members: &[usize],
        tables: &mut Tables,
    ) -> KeyRef {
        let sl = &slots[members[0]];
        if !rule.group {
            return item_key(&ctxs[sl.item], sl.rule, sl.next_occ);
        }
        let cur = ctxs[sl.item].balance.map_or("-", |b| b.currency().code());
        let mut covered: Vec<(&str, u32)> = members
            .iter()
            .map(|&s| (ctxs[slots[s].item].item.id.as_str(), slots[s].next_occ))
            .collect();
        covered.sort_unstable();
        let key = EventKey::from(format!(
            "{}/{}/{}/g{:016x}",
            rule.id,
            cx.client.id,
            cur,
            group_digest(covered)
        ));
        let at = u32::try_from(tables.keys.len()).unwrap_or(u32::MAX);
        tables.keys.push(key);
        KeyRef::Owned(at)
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn build_event<'h>(
        &self,
        cx: &ClientCtx<'h>,
        ctxs: &[ItemCtx<'h>],
        slots: &[Slot],
        members: &[usize],
        key: KeyRef,
        tables: &mut Tables,
    ) -> EventRecord {
        let first = &slots[members[0]];
        let rule = &self.rules[first.rule];
        let fc = first.cand.as_ref();
        let day = fc.map_or(cx.today, |c| c.date);
        let nominal = fc.map_or(day, |c| c.nominal);
        let (send_on, send_at) = fc.map_or_else(
            || (day, cx.instant(day)),
            |c| cx.placed(c.date, c.scheduled, c.send),
        );
        let members_ref = if let [one] = members {
            Members::one(ctxs[slots[*one].item].index)
        } else {
            let start = tables.members.len();
            let member = |&s: &usize| (ctxs[slots[s].item].index, slots[s].next_occ);
            // Listed in item order, as every notice's items are (those a notice at a later
            // instant took in come after its own).
            if members.is_sorted_by_key(|&s| slots[s].item) {
                tables.members.extend(members.iter().map(member));
            } else {
                let mut sorted = members.to_vec();
                sorted.sort_by_key(|&s| slots[s].item);
                tables.members.extend(sorted.iter().map(member));
            }
            Members::run(start, members.len())
        };
        EventRecord {
            key,
            send_at,
            send_on,
            anchor_on: first.anchor_on,
            nominal_on: nominal,
            client: cx.index,
            occurrence: members.iter().map(|&s| slots[s].next_occ).max().unwrap_or(1),
            count: first.count,
            offset_days: first.offset,
            rule: RuleIx::at(first.rule),
            // A notice about several items is of its most advanced item's stage (a "due
            // soon" never covers an item due that day or overdue): the one due first.
            stage: stage_of(rule.anchor, day, due_first(ctxs, slots, members)),
            mask: first.roles_mask,
            members: members_ref,
            // The candidate's adjustments go into the event.
            adjustments: tables.adjusted(|list| {
                if let Some(c) = fc {
                    c.adjustments_into(list);
                }
            }),
            info: u32::MAX,
        }
    }
}

/// The earliest due date of the items of `members` (none when none has one).
fn due_first(ctxs: &[ItemCtx<'_>], slots: &[Slot], members: &[usize]) -> Option<NaiveDate> {
    members.iter().filter_map(|&s| ctxs[slots[s].item].due).min()
}

/// One plan's inputs, checked and indexed.
pub(crate) struct PlanJob<'a, 'i> {
    pub(crate) inputs: Inputs<'a>,
    pub(crate) indexed: InputIndexRef<'i, 'a>,
    pub(crate) hist: HistoryIndex<'a>,
    pub(crate) now: DateTime<Utc>,
    pub(crate) horizon: Horizon,
    /// The horizon's end.
    pub(crate) end: DateTime<Utc>,
}

/// The index a plan runs on: made for it (and freed as soon as it is done with), or a
/// portfolio's.
pub(crate) enum InputIndexRef<'i, 'a> {
    Owned(InputIndex<'a>),
    Shared(&'i InputIndex<'a>),
}

impl<'a> std::ops::Deref for InputIndexRef<'_, 'a> {
    type Target = InputIndex<'a>;

    fn deref(&self) -> &InputIndex<'a> {
        match self {
            InputIndexRef::Owned(i) => i,
            InputIndexRef::Shared(i) => i,
        }
    }
}

/// Each id's place in the order `cmp` gives ids; equal ids share a place.
pub(crate) fn ranks_by(ids: &[RuleId], cmp: impl Fn(&str, &str) -> std::cmp::Ordering) -> Vec<u16> {
    let mut order: Vec<usize> = (0..ids.len()).collect();
    order.sort_by(|&a, &b| cmp(ids[a].as_str(), ids[b].as_str()));
    let mut ranks = vec![0u16; ids.len()];
    for w in 1..order.len() {
        let (prev, this) = (order[w - 1], order[w]);
        ranks[this] = ranks[prev] + u16::from(ids[prev] != ids[this]);
    }
    ranks
}

/// The sum of amounts in one currency; none if any is missing or they do not add up.
pub(crate) fn sum(mut amounts: impl Iterator<Item = Option<Money>>) -> Option<Money> {
    amounts
        .try_fold(None::<Money>, |acc, m| {
            let m = m?;
            Some(Some(match acc {
                None => m,
                Some(a) => a.checked_add(m)?,
            }))
        })
        .flatten()
}

/// The client's contacts with notify on, in address order (so input order never matters).
pub(crate) fn notify_contacts<'a>(client: &'a Client, contacts: &mut Vec<&'a Contact>) {
    contacts.clear();
    contacts.extend(client.contacts.iter().filter(|c| c.notify));
    contacts.sort_by(|a, b| (&a.email, &a.name, a.role).cmp(&(&b.email, &b.name, b.role)));
}

/// The contacts whose role is in `mask` (0: any role).
pub(crate) fn recipients_of(contacts: &[&Contact], mask: u8) -> Arc<[Recipient]> {
    contacts
        .iter()
        .filter(|c| mask == 0 || mask & c.role.bit() != 0)
        .map(|c| Recipient {
            name: c.name.clone(),
            email: c.email.clone(),
            role: c.role,
        })
        .collect()
}

/// The 64-bit FNV-1a hash of a grouped notice's items and occurrences, in item id order:
/// for each, the id's bytes, U+001F, the occurrence in decimal, U+001E. Stable across
/// versions and platforms (a host can compute it in any language).
pub(crate) fn group_digest<'a>(covered: impl IntoIterator<Item = (&'a str, u32)>) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut hash = OFFSET;
    let mut eat = |bytes: &[u8]| {
        for &b in bytes {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(PRIME);
        }
    };
    for (id, occurrence) in covered {
        let mut buf = [0u8; 20];
        eat(id.as_bytes());
        eat(&[0x1f]);
        eat(crate::model::id::decimal(&mut buf, occurrence.into(), 1));
        eat(&[0x1e]);
    }
    hash
}

/// The key `rule/item/occurrence` of an item's event.
pub(crate) fn item_key(it: &ItemCtx<'_>, rule: usize, occurrence: u32) -> KeyRef {
    KeyRef::Item {
        rule: RuleIx::at(rule),
        item: it.index,
        occurrence,
    }
}

/// An item's suppressed entry under its own key.
pub(crate) fn suppressed(
    cx: &ClientCtx<'_>,
    it: &ItemCtx<'_>,
    rule: usize,
    occurrence: u32,
    on: NaiveDate,
    reason: Reason,
) -> SuppressedRecord {
    suppressed_as(cx, it, rule, item_key(it, rule, occurrence), on, reason)
}

/// The plan's suppressed records keep what the deciding code says of an occurrence when its
/// day is within the plan's window.
impl Notes for Records<SuppressedRecord> {
    fn keeps(&self) -> bool {
        true
    }

    /// Kept when `on` falls in the plan's window.
    fn note(&mut self, cx: &ClientCtx<'_>, it: &ItemCtx<'_>, slot: &Slot, on: NaiveDate, reason: Reason) {
        if cx.in_window(on) {
            self.push(suppressed(cx, it, slot.rule, slot.next_occ, on, reason));
        }
    }

    /// Those whose day falls in the plan's window kept, found in closed form.
    fn note_run(
        &mut self,
        cx: &ClientCtx<'_>,
        it: &ItemCtx<'_>,
        slot: &Slot,
        occurrences: std::ops::RangeInclusive<u32>,
        reason: Reason,
    ) {
        let days = OccurrenceDays::new(slot.anchor_on, slot.offset, slot.every);
        let from = (*occurrences.start()).max(days.first_on_or_after(cx.window_start));
        let to = (*occurrences.end()).min(days.last_on_or_before(cx.end_date));
        for occurrence in from..=to {
            if let Some(on) = occurrence_day(slot.anchor_on, slot.offset, slot.every, occurrence) {
                if cx.in_window(on) {
                    self.push(suppressed(cx, it, slot.rule, occurrence, on, reason));
                }
            }
        }
    }
}

/// An item's suppressed entry under `key` (its event's, when that went or goes).
pub(crate) fn suppressed_as(
    cx: &ClientCtx<'_>,
    it: &ItemCtx<'_>,
    rule: usize,
    key: KeyRef,
    on: NaiveDate,
    reason: Reason,
) -> SuppressedRecord {
    SuppressedRecord {
        key,
        reason,
        client: cx.index,
        item: it.index,
        on,
        rule: RuleIx::at(rule),
    }
}

/// Candidates past the horizon still explain what held them back.
fn explain_unswept(
    cx: &ClientCtx<'_>,
    ctxs: &[ItemCtx<'_>],
    slots: &[Slot],
    out: &mut Records<SuppressedRecord>,
) {
    for sl in slots {
        // (An occurrence that expires past the horizon has nothing to say within it.)
        if let Some(c) = sl.cand.as_ref().filter(|c| !c.expires) {
            let key = item_key(&ctxs[sl.item], sl.rule, sl.next_occ);
            report_adjustments(cx, &ctxs[sl.item], sl.rule, key, c, out);
        }
    }
}

#[inline]
pub(crate) fn report_adjustments(
    cx: &ClientCtx<'_>,
    it: &ItemCtx<'_>,
    rule: usize,
    key: KeyRef,
    c: &Candidate,
    out: &mut Records<SuppressedRecord>,
) {
    for a in &c.moves {
        if let Some((from, reason)) = adjustment_note(cx, a) {
            if cx.in_window(from) {
                out.push(suppressed_as(cx, it, rule, key, from, reason));
            }
        }
    }
}
