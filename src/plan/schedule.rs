//! The plan as the planner computes it: compact records that refer to the inputs they were
//! planned from, read through views and made into owned [`Event`]s and [`Suppressed`]
//! entries only when asked.

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Serialize, Serializer};

use crate::model::client::{Client, Contact, PauseKind};
use crate::model::history::HistoryEntry;
use crate::model::id::{EventKey, RuleId};
use crate::model::item::Item;
use crate::plan::SuppressReasonKind as Kind;
pub(crate) use crate::plan::decide::reason::Reason;
use crate::plan::engine::records::{ListingIter, Records};
use crate::plan::engine::{ClientIx, ItemIx, RuleIx};
use crate::plan::engine::{Planner, notify_contacts, pause_reason, recipients_of, sum};
use crate::plan::event::{
    Adjustment, Event, EventItem, Recipient, Stage, StandingInfo, StatementInfo, SuppressReason, Suppressed,
    Why,
};
use crate::plan::{Horizon, Plan};
use crate::standing::{ClientStanding, StandingState};
use crate::time::TimeZone;

/// Where a record's key comes from: written from the record's parts only when read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyRef {
    /// `rule/item/occurrence`.
    Item {
        rule: RuleIx,
        item: ItemIx,
        occurrence: u32,
    },
    /// `rule/client/date` (statements and standing notices).
    Client {
        rule: RuleIx,
        client: ClientIx,
        date: NaiveDate,
    },
    /// A key made while planning (grouped notices), kept in the schedule's key table.
    Owned(u32),
    /// The key of a history entry (its position in the history).
    History(u32),
}

impl KeyRef {
    /// Whether it is the key of an occurrence of `item`.
    pub(crate) fn names_only(&self, item: ItemIx) -> bool {
        matches!(*self, KeyRef::Item { item: i, .. } if i == item)
    }

    /// The same key for item `to` where it is one of item `from`.
    pub(crate) fn with_item(self, from: ItemIx, to: ItemIx) -> KeyRef {
        match self {
            KeyRef::Item {
                rule,
                item,
                occurrence,
            } if item == from => KeyRef::Item {
                rule,
                item: to,
                occurrence,
            },
            other => other,
        }
    }
}

/// The items an event is about: one (at the event's occurrence), or a run of the schedule's
/// member table (`len` above 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Members {
    first: u32,
    len: u32,
}

impl Members {
    pub(crate) fn one(item: ItemIx) -> Self {
        Members {
            first: item.raw(),
            len: 0,
        }
    }

    pub(crate) fn run(start: usize, len: usize) -> Self {
        Members {
            first: u32::try_from(start).unwrap_or(u32::MAX),
            len: u32::try_from(len).unwrap_or(u32::MAX),
        }
    }

    /// Whether it is `item` alone.
    pub(crate) fn names_only(self, item: ItemIx) -> bool {
        self.single() == Some(item)
    }

    /// Item `to` alone where it is item `from` alone.
    pub(crate) fn with_item(self, from: ItemIx, to: ItemIx) -> Members {
        if self.single() == Some(from) {
            Members::one(to)
        } else {
            self
        }
    }

    /// The one item, if the event is about one outside the member table.
    fn single(self) -> Option<ItemIx> {
        (self.len == 0).then_some(ItemIx::from_raw(self.first))
    }

    /// The run of the member table (empty for a single item).
    fn of(self, tables: &Tables) -> &[(ItemIx, u32)] {
        let start = self.first as usize;
        tables
            .members
            .get(start..start + self.len as usize)
            .filter(|_| self.len > 0)
            .unwrap_or_default()
    }
}

/// A run of the schedule's adjustment table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Adjusted {
    start: u32,
    len: u32,
}

/// Which pause a reason refers to: one of the item's or one of the client's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PauseRef {
    pub(crate) on_item: bool,
    pub(crate) index: u32,
}

/// What a statement or standing notice says beyond its items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AccountInfo {
    Statement(NaiveDate, bool),
    Standing {
        state: StandingState,
        days_overdue: i64,
        oldest: ItemIx,
        closing_soon_after_days: u32,
        closed_after_days: u32,
    },
}

/// A planned event, as the planner keeps it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EventRecord {
    pub(crate) key: KeyRef,
    pub(crate) send_at: DateTime<Utc>,
    pub(crate) send_on: NaiveDate,
    pub(crate) anchor_on: NaiveDate,
    pub(crate) nominal_on: NaiveDate,
    pub(crate) client: ClientIx,
    pub(crate) occurrence: u32,
    pub(crate) count: u32,
    pub(crate) offset_days: i32,
    pub(crate) rule: RuleIx,
    pub(crate) stage: Stage,
    /// The roles its recipients are chosen by (0: any).
    pub(crate) mask: u8,
    pub(crate) members: Members,
    pub(crate) adjustments: Adjusted,
    /// Its [`AccountInfo`] in the schedule's table, or `u32::MAX`.
    pub(crate) info: u32,
}

/// A suppressed entry, as the planner keeps it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SuppressedRecord {
    pub(crate) key: KeyRef,
    pub(crate) reason: Reason,
    pub(crate) client: ClientIx,
    /// [`ItemIx::NONE`] for client-level entries.
    pub(crate) item: ItemIx,
    pub(crate) on: NaiveDate,
    pub(crate) rule: RuleIx,
}

/// The last part of a key written from its record.
#[derive(Clone, Copy)]
enum KeyTail {
    Occurrence(u32),
    Date(Digits),
}

impl KeyTail {
    fn same_kind(&self, other: &KeyTail) -> bool {
        matches!(
            (self, other),
            (KeyTail::Occurrence(_), KeyTail::Occurrence(_)) | (KeyTail::Date(_), KeyTail::Date(_))
        )
    }

    fn digits(&self) -> Digits {
        match *self {
            KeyTail::Occurrence(n) => Digits::number(n),
            KeyTail::Date(d) => d,
        }
    }
}

/// A number or a date as a key writes it, held on the stack.
#[derive(Clone, Copy)]
struct Digits {
    len: u8,
    bytes: [u8; 10],
}

impl Digits {
    fn number(n: u32) -> Self {
        let mut buf = [0u8; 20];
        let digits = crate::model::id::decimal(&mut buf, n.into(), 1);
        let mut bytes = [0u8; 10];
        let len = digits.len().min(10);
        bytes[..len].copy_from_slice(&digits[digits.len() - len..]);
        Digits {
            len: u8::try_from(len).unwrap_or(10),
            bytes,
        }
    }

    /// `YYYY-MM-DD`, for the years keys write so (0 to 9999).
    fn date(d: NaiveDate) -> Option<Self> {
        use chrono::Datelike;
        let year = u32::try_from(d.year()).ok().filter(|y| *y <= 9999)?;
        let mut bytes = *b"0000-00-00";
        for (at, n, width) in [(0, year, 4), (5, d.month(), 2), (8, d.day(), 2)] {
            let mut buf = [0u8; 20];
            bytes[at..at + width].copy_from_slice(crate::model::id::decimal(&mut buf, n.into(), width));
        }
        Some(Digits { len: 10, bytes })
    }

    fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

/// The order of two numbers' decimal texts (`10` before `9`), without writing them.
fn digits_cmp(a: u32, b: u32) -> std::cmp::Ordering {
    let digits = |n: u32| n.checked_ilog10().unwrap_or(0);
    let (da, db) = (digits(a), digits(b));
    // The shorter text's digits, followed by zeros to the other's length, against the other:
    // equal means the shorter is a prefix of the other, and orders first.
    let (a, b) = (u64::from(a), u64::from(b));
    match da.cmp(&db) {
        std::cmp::Ordering::Less => (a * 10u64.pow(db - da)).cmp(&b).then(std::cmp::Ordering::Less),
        std::cmp::Ordering::Greater => a.cmp(&(b * 10u64.pow(da - db))).then(std::cmp::Ordering::Greater),
        std::cmp::Ordering::Equal => a.cmp(&b),
    }
}

/// The order of `x/` and `y/`: two ids as the first part of keys (ids hold no `/`).
pub(crate) fn part_cmp(x: &str, y: &str) -> std::cmp::Ordering {
    let (x, y) = (x.as_bytes(), y.as_bytes());
    let n = x.len().min(y.len());
    x[..n].cmp(&y[..n]).then_with(|| {
        let next = |s: &[u8]| s.get(n).copied().unwrap_or(b'/');
        next(x).cmp(&next(y))
    })
}

// A decision costs a few dozen bytes, whatever the items and keys it is about.
const _: () = assert!(std::mem::size_of::<EventRecord>() <= 76);
const _: () = assert!(std::mem::size_of::<SuppressedRecord>() <= 40);

/// What a schedule was planned from.
#[derive(Clone, Copy)]
pub(crate) struct Inputs<'a> {
    pub(crate) planner: &'a Planner,
    pub(crate) clients: &'a [Client],
    pub(crate) items: &'a [Item],
    pub(crate) history: &'a [HistoryEntry],
}

/// The side tables records refer to.
#[derive(Debug, Default)]
pub(crate) struct Tables {
    pub(crate) keys: Vec<EventKey>,
    pub(crate) members: Vec<(ItemIx, u32)>,
    pub(crate) infos: Vec<AccountInfo>,
    pub(crate) adjustments: Vec<Adjustment>,
}

impl Tables {
    /// Keeps an event's adjustments.
    pub(crate) fn adjusted(&mut self, list: impl FnOnce(&mut Vec<Adjustment>)) -> Adjusted {
        let start = self.adjustments.len();
        list(&mut self.adjustments);
        Adjusted {
            start: u32::try_from(start).unwrap_or(u32::MAX),
            len: u32::try_from(self.adjustments.len() - start).unwrap_or(0),
        }
    }

    fn adjustments_of(&self, a: Adjusted) -> &[Adjustment] {
        let start = a.start as usize;
        self.adjustments
            .get(start..start + a.len as usize)
            .unwrap_or_default()
    }
}

impl<'a> Inputs<'a> {
    fn item(&self, i: ItemIx) -> Option<&'a Item> {
        self.items.get(i.get())
    }

    fn client(&self, i: ClientIx) -> &'a Client {
        // Records only name clients they were planned for.
        &self.clients[i.get()]
    }

    /// The text of a key.
    pub(crate) fn key(&self, keys: &[EventKey], k: &KeyRef) -> EventKey {
        match *k {
            KeyRef::Item {
                rule,
                item,
                occurrence,
            } => EventKey::for_item(
                self.planner.rule_id(rule).as_str(),
                self.item(item).map_or("", |i| i.id.as_str()),
                occurrence,
            ),
            KeyRef::Client { rule, client, date } => {
                crate::plan::explain::client_key(self.planner.rule_id(rule), self.client(client), date)
            }
            KeyRef::Owned(i) => keys
                .get(i as usize)
                .cloned()
                .unwrap_or_else(|| EventKey::from("")),
            KeyRef::History(i) => self
                .history
                .get(i as usize)
                .map_or_else(|| EventKey::from(""), |h| h.key.clone()),
        }
    }

    /// The three parts a key is written from (`rule/id/tail`), when the record holds them.
    fn parts(&self, k: &KeyRef) -> Option<(RuleIx, &'a str, KeyTail)> {
        match *k {
            KeyRef::Item {
                rule,
                item,
                occurrence,
            } => Some((
                rule,
                self.item(item)?.id.as_str(),
                KeyTail::Occurrence(occurrence),
            )),
            KeyRef::Client { rule, client, date } => {
                let date = Digits::date(date)?;
                Some((
                    rule,
                    self.clients.get(client.get())?.id.as_str(),
                    KeyTail::Date(date),
                ))
            }
            KeyRef::Owned(_) | KeyRef::History(_) => None,
        }
    }

    /// Whether two keys are the same text.
    pub(crate) fn same_key(&self, keys: &[EventKey], a: &KeyRef, b: &KeyRef) -> bool {
        match (a, b) {
            (KeyRef::Item { .. }, KeyRef::Item { .. }) | (KeyRef::Client { .. }, KeyRef::Client { .. }) => {
                a == b
            }
            (KeyRef::History(h), k) | (k, KeyRef::History(h)) => {
                let text = self.history.get(*h as usize).map_or("", |e| e.key.as_str());
                self.key_is(keys, text, k)
            }
            _ => self.key(keys, a) == self.key(keys, b),
        }
    }

    /// Whether `text` is the text of `k`, without writing it.
    fn key_is(&self, keys: &[EventKey], text: &str, k: &KeyRef) -> bool {
        let Some((rule, id, tail)) = self.parts(k) else {
            return self.key(keys, k).as_str() == text;
        };
        text.strip_prefix(self.planner.rule_id(rule).as_str())
            .and_then(|t| t.strip_prefix('/'))
            .and_then(|t| t.strip_prefix(id))
            .and_then(|t| t.strip_prefix('/'))
            .is_some_and(|t| t.as_bytes() == tail.digits().as_bytes())
    }

    /// The order of two keys' texts: part by part where the records hold the parts (ids
    /// never hold the separator, so `a/b` orders as `a/` then `b`), else by the texts.
    pub(crate) fn cmp_keys(&self, keys: &[EventKey], a: &KeyRef, b: &KeyRef) -> std::cmp::Ordering {
        use std::cmp::Ordering::Equal;
        if a == b {
            return Equal;
        }
        // Keys the records hold the parts of start with their rule's id: the rules' ranks
        // decide first, then (most keys compared are of items) the ids, then the
        // occurrences, each read only when the parts before are equal.
        let rule = |k: &KeyRef| match *k {
            KeyRef::Item { rule, .. } | KeyRef::Client { rule, .. } => Some(rule),
            KeyRef::Owned(_) | KeyRef::History(_) => None,
        };
        if let (Some(ra), Some(rb)) = (rule(a), rule(b)) {
            let rules = self.planner.rule_rank(ra).cmp(&self.planner.rule_rank(rb));
            if rules != Equal {
                return rules;
            }
        }
        if let (
            KeyRef::Item {
                item: ia,
                occurrence: oa,
                ..
            },
            KeyRef::Item {
                item: ib,
                occurrence: ob,
                ..
            },
        ) = (*a, *b)
        {
            let ids = if ia == ib {
                Some(Equal)
            } else {
                self.item(ia)
                    .zip(self.item(ib))
                    .map(|(x, y)| part_cmp(x.id.as_str(), y.id.as_str()))
            };
            if let Some(ids) = ids {
                return ids.then_with(|| digits_cmp(oa, ob));
            }
        }
        // Keys with parts have rules, of one rank by now.
        if let (Some((_, ia, ta)), Some((_, ib, tb))) = (self.parts(a), self.parts(b)) {
            let order = part_cmp(ia, ib);
            // Equal rule and id texts: the tails decide when they are of one kind.
            if order != Equal || ta.same_kind(&tb) {
                return order.then_with(|| ta.digits().as_bytes().cmp(tb.digits().as_bytes()));
            }
        }
        self.key(keys, a).cmp(&self.key(keys, b))
    }

    fn pause(&self, item: Option<&Item>, client: &Client, p: Option<PauseRef>) -> (PauseKind, String) {
        let pause = p.and_then(|p| {
            if p.on_item {
                item.and_then(|i| i.pauses.get(p.index as usize))
            } else {
                client.pauses.get(p.index as usize)
            }
        });
        pause.map_or((PauseKind::Snooze, String::new()), |p| (p.kind, p.reason.clone()))
    }

    pub(crate) fn reason(&self, keys: &[EventKey], r: &SuppressedRecord) -> SuppressReason {
        let item = self.item(r.item);
        let client = self.client(r.client);
        match r.reason.kind() {
            Kind::Paid => SuppressReason::Paid,
            Kind::Cancelled => SuppressReason::Cancelled,
            Kind::Void => SuppressReason::Void,
            Kind::Draft => SuppressReason::Draft,
            Kind::Completed => SuppressReason::Completed,
            Kind::NotSettled => SuppressReason::NotSettled,
            Kind::ItemRemindersOff => SuppressReason::ItemRemindersOff,
            Kind::ClientRemindersOff => SuppressReason::ClientRemindersOff,
            Kind::ExcludedForClient => SuppressReason::ExcludedForClient,
            Kind::Paused => {
                let (pause, reason) = self.pause(item, client, r.reason.pause());
                SuppressReason::Paused { pause, reason }
            }
            Kind::BeforeCollectionStart => SuppressReason::BeforeCollectionStart {
                start: r.reason.date(),
            },
            Kind::BelowMinimumBalance => SuppressReason::BelowMinimumBalance {
                minimum: self.planner.minimum(r.rule, r.reason.number()),
            },
            Kind::CountReached => SuppressReason::CountReached {
                count: r.reason.number(),
            },
            Kind::Superseded => SuppressReason::Superseded {
                by: self.key(keys, &r.reason.key()),
            },
            Kind::DueSoonAfterDue => SuppressReason::DueSoonAfterDue { due: r.reason.date() },
            Kind::NoRecipients => SuppressReason::NoRecipients,
            Kind::MovedOffNonWorkingDay => SuppressReason::MovedOffNonWorkingDay { to: r.reason.date() },
            Kind::PausedUntil => {
                let (pause, until) = (r.reason.pause_kind(), r.reason.date());
                SuppressReason::PausedUntil {
                    pause,
                    reason: pause_reason(item, client, pause, until),
                    until,
                }
            }
            Kind::Deferred => SuppressReason::Deferred {
                gap_days: r.reason.number(),
            },
            Kind::AfterAnotherReminder => SuppressReason::AfterAnotherReminder { to: r.reason.date() },
            Kind::AlreadySent => SuppressReason::AlreadySent,
            Kind::NothingToList => SuppressReason::NothingToList,
            Kind::Expired => SuppressReason::Expired {
                days: r.reason.number(),
            },
            Kind::NoDayToSend => SuppressReason::NoDayToSend,
            Kind::NoDateToCountFrom => SuppressReason::NoDateToCountFrom {
                anchor: self
                    .planner
                    .item_rule(r.rule)
                    .map_or(crate::policy::Anchor::Due, |rule| rule.anchor),
            },
            Kind::ExcludedKind => SuppressReason::ExcludedKind {
                kinds: self.planner.rule_kinds(r.rule),
            },
            Kind::NotForClientTags => SuppressReason::NotForClientTags {
                tags: self.planner.rule_tags(r.rule),
            },
            Kind::DeliveryFailed | Kind::OutcomeUnknown => {
                let entry = self.history.get(r.reason.number() as usize);
                match entry {
                    Some(h) => match &h.outcome {
                        crate::model::history::HistoryOutcome::Failed { error } => {
                            SuppressReason::DeliveryFailed {
                                at: h.sent_at,
                                error: error.clone(),
                            }
                        }
                        _ => SuppressReason::OutcomeUnknown { at: h.sent_at },
                    },
                    None => SuppressReason::OutcomeUnknown {
                        at: DateTime::<Utc>::MIN_UTC,
                    },
                }
            }
        }
    }

    /// The owned entry of a record.
    pub(crate) fn suppressed(&self, keys: &[EventKey], r: &SuppressedRecord) -> Suppressed {
        let item = self.item(r.item);
        Suppressed {
            key: self.key(keys, &r.key),
            rule: self.planner.rule_id(r.rule).clone(),
            client: self.client(r.client).id.clone(),
            item: item.map(|i| i.id.clone()),
            kind: item.map(|i| i.kind),
            number: item.map(Item::shared_number),
            on: r.on,
            reason: self.reason(keys, r),
        }
    }

    /// The owned event of a record; `cx` keeps what the client's events share.
    pub(crate) fn event(&self, tables: &Tables, r: &EventRecord, cx: &mut ClientCache<'a>) -> Event {
        let client = self.client(r.client);
        cx.set(*self, r.client);
        let compiled = self.planner.item_rule(r.rule);
        let member = |(item, occurrence): (ItemIx, u32)| -> Option<EventItem> {
            let it = self.item(item)?;
            let balance = it.balance().ok().flatten();
            Some(EventItem {
                item: it.id.clone(),
                number: it.shared_number(),
                kind: it.kind,
                occurrence,
                issued_on: it.issued_on,
                due_on: it.due_date(cx.term),
                total: it.total,
                balance,
                // Computed when the item was planned: a fee past the largest amount refused
                // the plan then, so none is left to fail here.
                late_fee: compiled
                    .and_then(|c| c.late_fee.as_ref())
                    .zip(balance)
                    .and_then(|(f, b)| f.compute(b).ok().flatten()),
                attachments: if compiled.is_some() {
                    it.attachments.clone().into_boxed_slice()
                } else {
                    Box::default()
                },
            })
        };
        let items: Vec<EventItem> = match r.members.single() {
            Some(item) => member((item, r.occurrence)).into_iter().collect(),
            None => {
                let run = r.members.of(tables);
                let mut list = Vec::with_capacity(run.len());
                list.extend(run.iter().filter_map(|&m| member(m)));
                list
            }
        };
        let (statement, standing) = match tables.infos.get(r.info as usize) {
            Some(AccountInfo::Statement(period, overdue_only)) => (
                Some(StatementInfo {
                    period: *period,
                    overdue_only: *overdue_only,
                }),
                None,
            ),
            Some(&AccountInfo::Standing {
                state,
                days_overdue,
                oldest,
                closing_soon_after_days,
                closed_after_days,
            }) => (
                None,
                self.item(oldest).map(|oldest| {
                    Box::new(StandingInfo {
                        state,
                        days_overdue,
                        oldest_item: oldest.id.clone(),
                        closing_soon_after_days,
                        closed_after_days,
                    })
                }),
            ),
            None => (None, None),
        };
        Event {
            key: self.key(&tables.keys, &r.key),
            rule: self.planner.rule_id(r.rule).clone(),
            stage: r.stage,
            client: client.id.clone(),
            amount_due: sum(items.iter().map(|i| i.balance)),
            late_fee: sum(items.iter().map(|i| i.late_fee)),
            items,
            recipients: cx.recipients(r.mask),
            send_on: r.send_on,
            send_at: r.send_at,
            time_zone: cx.tz,
            locale: cx.locale.clone(),
            occurrence: r.occurrence,
            count: r.count,
            statement,
            standing,
            why: Why {
                anchor: compiled.map(|c| c.anchor),
                anchor_on: r.anchor_on,
                offset_days: r.offset_days,
                nominal_on: r.nominal_on,
                adjustments: tables.adjustments_of(r.adjustments).to_vec(),
                preview: false,
            },
        }
    }
}

/// What one client's events share when they are made owned: read once per client.
pub(crate) struct ClientCache<'a> {
    client: ClientIx,
    tz: TimeZone,
    term: u32,
    locale: Arc<str>,
    contacts: Vec<&'a Contact>,
    recipients: Vec<(u8, Arc<[Recipient]>)>,
}

impl Default for ClientCache<'_> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'a> ClientCache<'a> {
    pub(crate) fn new() -> Self {
        ClientCache {
            client: ClientIx::at(usize::MAX),
            tz: TimeZone::UTC,
            term: 0,
            locale: Arc::from(""),
            contacts: Vec::new(),
            recipients: Vec::new(),
        }
    }

    fn set(&mut self, inputs: Inputs<'a>, client: ClientIx) {
        if self.client == client {
            return;
        }
        let c = inputs.client(client);
        let planner = inputs.planner;
        self.client = client;
        self.tz = planner.zone_of(c);
        self.term = planner.term_of(c);
        self.locale = planner.locale_of(c);
        notify_contacts(c, &mut self.contacts);
        self.recipients.clear();
    }

    fn recipients(&mut self, mask: u8) -> Arc<[Recipient]> {
        if let Some((_, r)) = self.recipients.iter().find(|(m, _)| *m == mask) {
            return Arc::clone(r);
        }
        let list = recipients_of(&self.contacts, mask);
        self.recipients.push((mask, Arc::clone(&list)));
        list
    }
}

/// What to send now, what would follow up to the horizon, and what is not sent and why, as
/// the planner computes it: compact records that refer to the clients, items and history
/// they were planned from, read through views ([`EventRef`], [`SuppressedRef`]).
///
/// Made by [`Planner::schedule`]. It holds the same decisions as the [`Plan`] that
/// [`Planner::plan`] returns (which is this schedule made owned, [`Schedule::to_plan`]), in
/// the same order, and serializes to the same bytes; but it copies nothing from its inputs,
/// so planning a portfolio of millions of invoices costs a few dozen bytes per decision.
/// Read what you need (the events due now, say) and make only those owned
/// ([`EventRef::to_event`]).
///
/// # Example
/// ```
/// # use dunning::*;
/// # use chrono::{NaiveDate, TimeZone as _, Utc};
/// let policy = Policy::new(TimeZone::UTC).with_rule(Rule::new("overdue".parse()?, Anchor::Due, 3));
/// let planner = Planner::new(&policy)?;
/// let clients = [Client::new("acme".parse()?, "ACME").with_contact(Contact::new("Ana", "ana@acme.test"))];
/// let clp = Currency::from_code("CLP")?;
/// let issued = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
/// let items = [Item::invoice("F-1".parse()?, "acme".parse()?, issued, Money::from_minor(1000, clp))
///     .due(NaiveDate::from_ymd_opt(2026, 4, 1).unwrap())];
/// let now = Utc.with_ymd_and_hms(2026, 4, 6, 12, 0, 0).unwrap();
/// let schedule = planner.schedule(&clients, &items, &[], now, Horizon::NONE)?;
/// let due = schedule.due().next().unwrap();
/// assert_eq!(due.key().as_str(), "overdue/F-1/1");
/// assert_eq!(due.client().name, "ACME");
/// let event: Event = due.to_event(); // owned, to render and send
/// assert_eq!(event.items[0].number.as_ref(), "F-1");
/// // The same plan as `Planner::plan` gives, to the byte.
/// let plan = planner.plan(&clients, &items, &[], now, Horizon::NONE)?;
/// assert_eq!(schedule.to_plan(), plan);
/// assert_eq!(serde_json::to_string(&schedule)?, serde_json::to_string(&plan)?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Schedule<'a> {
    pub(crate) inputs: Inputs<'a>,
    pub(crate) now: DateTime<Utc>,
    pub(crate) horizon: Horizon,
    pub(crate) due: Records<EventRecord>,
    pub(crate) upcoming: Records<EventRecord>,
    pub(crate) suppressed: Records<SuppressedRecord>,
    pub(crate) tables: Tables,
    pub(crate) standings: Vec<ClientStanding>,
}

impl<'a> Schedule<'a> {
    /// The instant planned for.
    #[must_use]
    pub fn now(&self) -> DateTime<Utc> {
        self.now
    }

    /// The forecast's length.
    #[must_use]
    pub fn horizon(&self) -> Horizon {
        self.horizon
    }

    /// Events to send now, in the plan's order (as [`Plan::due`]).
    #[must_use]
    pub fn due(&self) -> Events<'_, 'a> {
        Events {
            schedule: self,
            iter: self.due.iter(),
        }
    }

    /// Events after `now` up to the horizon, in the plan's order (as [`Plan::upcoming`]).
    #[must_use]
    pub fn upcoming(&self) -> Events<'_, 'a> {
        Events {
            schedule: self,
            iter: self.upcoming.iter(),
        }
    }

    /// What is not sent and why, in the plan's order (as [`Plan::suppressed`]).
    #[must_use]
    pub fn suppressed(&self) -> Suppressions<'_, 'a> {
        Suppressions {
            schedule: self,
            iter: self.suppressed.iter(),
        }
    }

    /// Clients closing soon or closed at `now` (as [`Plan::standings`]).
    #[must_use]
    pub fn standings(&self) -> &[ClientStanding] {
        &self.standings
    }

    /// The owned plan of the same events and entries, in the same order.
    #[must_use]
    pub fn to_plan(&self) -> Plan {
        // Made in the order they are read, so that nothing moves once made; what a client's
        // events share is worked out once per client, whatever the days between them.
        let mut caches: Vec<Option<ClientCache<'a>>> = Vec::new();
        caches.resize_with(self.inputs.clients.len(), || None);
        let mut events = |records: &Records<EventRecord>| -> Vec<Event> {
            records
                .iter()
                .map(|r| {
                    let cx = caches
                        .get_mut(r.client.get())
                        .map(|c| c.get_or_insert_with(ClientCache::new));
                    match cx {
                        Some(cx) => self.inputs.event(&self.tables, r, cx),
                        // Records only name clients they were planned for.
                        None => self.inputs.event(&self.tables, r, &mut ClientCache::new()),
                    }
                })
                .collect()
        };
        let due = events(&self.due);
        let upcoming = events(&self.upcoming);
        Plan {
            now: self.now,
            horizon: self.horizon,
            due,
            upcoming,
            suppressed: self
                .suppressed
                .iter()
                .map(|r| self.inputs.suppressed(&self.tables.keys, r))
                .collect(),
            standings: self.standings.clone(),
        }
    }
}

impl fmt::Debug for Schedule<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Schedule")
            .field("now", &self.now)
            .field("horizon", &self.horizon)
            .field("due", &self.due.len())
            .field("upcoming", &self.upcoming.len())
            .field("suppressed", &self.suppressed.len())
            .field("standings", &self.standings.len())
            .finish()
    }
}

/// The same bytes as the [`Plan`] it stands for: each record is made owned as it is written.
impl Serialize for Schedule<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Out<'s, 'a> {
            now: DateTime<Utc>,
            horizon: Horizon,
            due: Events<'s, 'a>,
            upcoming: Events<'s, 'a>,
            suppressed: Suppressions<'s, 'a>,
            #[serde(skip_serializing_if = "<[ClientStanding]>::is_empty")]
            standings: &'s [ClientStanding],
        }
        Out {
            now: self.now,
            horizon: self.horizon,
            due: self.due(),
            upcoming: self.upcoming(),
            suppressed: self.suppressed(),
            standings: &self.standings,
        }
        .serialize(serializer)
    }
}

/// An event of a [`Schedule`], read in place: what it is about and when, without copying it
/// out of the schedule; [`EventRef::to_event`] makes the owned [`Event`].
#[derive(Clone, Copy)]
pub struct EventRef<'s, 'a> {
    schedule: &'s Schedule<'a>,
    rec: &'s EventRecord,
}

impl<'a> EventRef<'_, 'a> {
    /// Its idempotency key.
    #[must_use]
    pub fn key(&self) -> EventKey {
        self.schedule
            .inputs
            .key(&self.schedule.tables.keys, &self.rec.key)
    }

    /// The rule that fires.
    #[must_use]
    pub fn rule(&self) -> &'a RuleId {
        self.schedule.inputs.planner.rule_id(self.rec.rule)
    }

    /// The client it goes to.
    #[must_use]
    pub fn client(&self) -> &'a Client {
        self.schedule.inputs.client(self.rec.client)
    }

    /// Its stage of collection.
    #[must_use]
    pub fn stage(&self) -> Stage {
        self.rec.stage
    }

    /// The local send date.
    #[must_use]
    pub fn send_on(&self) -> NaiveDate {
        self.rec.send_on
    }

    /// The UTC instant of the send.
    #[must_use]
    pub fn send_at(&self) -> DateTime<Utc> {
        self.rec.send_at
    }

    /// The items it is about, in the event's order.
    pub fn items(&self) -> impl Iterator<Item = &'a Item> + '_ {
        let inputs = self.schedule.inputs;
        let run = self.rec.members.of(&self.schedule.tables);
        let one = self.rec.members.single().and_then(|i| inputs.item(i));
        one.into_iter()
            .chain(run.iter().filter_map(move |&(i, _)| inputs.item(i)))
    }

    /// The owned event.
    #[must_use]
    pub fn to_event(&self) -> Event {
        self.schedule
            .inputs
            .event(&self.schedule.tables, self.rec, &mut ClientCache::new())
    }

    /// Why it fires, in a sentence ([`Event::explain`]).
    #[must_use]
    pub fn explain(&self) -> String {
        self.to_event().explain()
    }
}

impl fmt::Debug for EventRef<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.to_event().fmt(f)
    }
}

/// A suppressed entry of a [`Schedule`], read in place; [`SuppressedRef::to_suppressed`]
/// makes the owned [`Suppressed`].
#[derive(Clone, Copy)]
pub struct SuppressedRef<'s, 'a> {
    schedule: &'s Schedule<'a>,
    rec: &'s SuppressedRecord,
}

impl<'a> SuppressedRef<'_, 'a> {
    /// The key the event would have had.
    #[must_use]
    pub fn key(&self) -> EventKey {
        self.schedule
            .inputs
            .key(&self.schedule.tables.keys, &self.rec.key)
    }

    /// The rule.
    #[must_use]
    pub fn rule(&self) -> &'a RuleId {
        self.schedule.inputs.planner.rule_id(self.rec.rule)
    }

    /// The client.
    #[must_use]
    pub fn client(&self) -> &'a Client {
        self.schedule.inputs.client(self.rec.client)
    }

    /// The item (none for a statement or a standing notice).
    #[must_use]
    pub fn item(&self) -> Option<&'a Item> {
        self.schedule.inputs.item(self.rec.item)
    }

    /// The local date it would have gone (see [`Suppressed::on`](crate::Suppressed::on)).
    #[must_use]
    pub fn on(&self) -> NaiveDate {
        self.rec.on
    }

    /// Why not.
    #[must_use]
    pub fn reason(&self) -> SuppressReason {
        self.schedule.inputs.reason(&self.schedule.tables.keys, self.rec)
    }

    /// The owned entry.
    #[must_use]
    pub fn to_suppressed(&self) -> Suppressed {
        self.schedule
            .inputs
            .suppressed(&self.schedule.tables.keys, self.rec)
    }

    /// Why it is not sent, in a sentence ([`Suppressed::explain`]).
    #[must_use]
    pub fn explain(&self) -> String {
        self.to_suppressed().explain()
    }
}

impl fmt::Debug for SuppressedRef<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.to_suppressed().fmt(f)
    }
}

/// An iterator of views over a schedule's records, serialized as the owned records.
macro_rules! views {
    ($(#[$doc:meta])* $name:ident, $rec:ident, $view:ident, $owned:ident) => {
        $(#[$doc])*
        #[derive(Clone)]
        pub struct $name<'s, 'a> {
            schedule: &'s Schedule<'a>,
            iter: ListingIter<'s, $rec>,
        }

        impl<'s, 'a> Iterator for $name<'s, 'a> {
            type Item = $view<'s, 'a>;

            fn next(&mut self) -> Option<Self::Item> {
                let rec = self.iter.next()?;
                Some($view {
                    schedule: self.schedule,
                    rec,
                })
            }

            fn size_hint(&self) -> (usize, Option<usize>) {
                self.iter.size_hint()
            }
        }

        impl ExactSizeIterator for $name<'_, '_> {}

        impl std::iter::FusedIterator for $name<'_, '_> {}

        /// As the owned records, in order.
        impl Serialize for $name<'_, '_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_seq(self.clone().map(|v| v.$owned()))
            }
        }
    };
}

views!(
    /// The events of a [`Schedule`] in the plan's order ([`Schedule::due`],
    /// [`Schedule::upcoming`]).
    Events,
    EventRecord,
    EventRef,
    to_event
);

views!(
    /// The suppressed entries of a [`Schedule`] in the plan's order
    /// ([`Schedule::suppressed`]).
    Suppressions,
    SuppressedRecord,
    SuppressedRef,
    to_suppressed
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Anchor, Currency, HistoryEntry, Money, Policy, Rule, StandingRule, StatementRule};

    /// Keys compared and matched part by part order and match as their texts do: ids that
    /// are prefixes of each other, rules that are, occurrences of one and two digits, dates.
    #[test]
    fn numbers_compare_as_their_texts() {
        let numbers = (0..1200).chain([9_999, 10_000, 99_999, 4_294_967_294, u32::MAX]);
        let numbers: Vec<u32> = numbers.collect();
        for &a in &numbers {
            for &b in numbers.iter().step_by(7).chain([&0, &1, &10, &100, &u32::MAX]) {
                assert_eq!(
                    digits_cmp(a, b),
                    a.to_string().cmp(&b.to_string()),
                    "{a} against {b}"
                );
            }
        }
    }

    #[test]
    fn keys_compare_and_match_as_their_texts() {
        let day = |d: u32| NaiveDate::from_ymd_opt(2026, 3, d).unwrap_or_default();
        let policy = Policy::default()
            .with_rule(Rule::new(RuleId::known("due"), Anchor::Due, 0))
            .with_rule(Rule::new(RuleId::known("due-soon"), Anchor::Due, -3))
            .with_rule(Rule::new(RuleId::known("d"), Anchor::Due, 1))
            .with_statement(StatementRule::new(RuleId::known("due2"), "FREQ=MONTHLY", day(1)))
            .with_standing(StandingRule::new(30, 60));
        let planner = Planner::new(&policy).unwrap_or_else(|e| panic!("{e}"));
        let clp = Currency::from_code("CLP").unwrap_or_else(|e| panic!("{e}"));
        let ids = ["i1", "i1-x", "i10", "i", "j"];
        let clients: Vec<Client> = ids
            .iter()
            .map(|id| Client::new(id.parse().unwrap_or_else(|e| panic!("{e}")), *id))
            .collect();
        let items: Vec<Item> = ids
            .iter()
            .map(|id| {
                let id = id.parse().unwrap_or_else(|e| panic!("{e}"));
                Item::invoice(id, clients[0].id.clone(), day(1), Money::from_minor(1, clp))
            })
            .collect();
        let history: Vec<HistoryEntry> = [
            "due/i1/1",
            "due/i1/10",
            "due2/i1/2026-03-02",
            "due-soon/i10/2",
            "x",
        ]
        .into_iter()
        .map(|k| HistoryEntry {
            key: EventKey::from(k),
            rule: None,
            client: clients[0].id.clone(),
            items: Vec::new(),
            sent_at: DateTime::<Utc>::MIN_UTC,
            outcome: crate::model::history::HistoryOutcome::Sent,
        })
        .collect();
        let inputs = Inputs {
            planner: &planner,
            clients: &clients,
            items: &items,
            history: &history,
        };
        // Three item rules, one statement, two standing notices.
        let rules = 6;
        let keys = vec![
            EventKey::from("due/i1/1"),
            EventKey::from("due/i1-x/CLP/2026-03-01"),
        ];
        let mut all: Vec<KeyRef> = Vec::new();
        for rule in (0..rules).map(RuleIx::at) {
            for i in 0..ids.len() {
                for occurrence in [1, 2, 10, 19, 100, u32::MAX] {
                    all.push(KeyRef::Item {
                        rule,
                        item: ItemIx::at(i),
                        occurrence,
                    });
                }
                for d in [1, 2, 10] {
                    all.push(KeyRef::Client {
                        rule,
                        client: ClientIx::at(i),
                        date: day(d),
                    });
                }
            }
        }
        all.extend([KeyRef::Owned(0), KeyRef::Owned(1)]);
        all.extend((0..5).map(KeyRef::History));
        for a in &all {
            for b in &all {
                let (ta, tb) = (inputs.key(&keys, a), inputs.key(&keys, b));
                assert_eq!(inputs.cmp_keys(&keys, a, b), ta.cmp(&tb), "{ta} against {tb}");
                assert_eq!(inputs.same_key(&keys, a, b), ta == tb, "{ta} against {tb}");
            }
        }
    }
}
