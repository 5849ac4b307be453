//! Planned events and suppressed ones, with their reasons.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize, Serializer};

use crate::model::client::{ContactRole, PauseKind};
use crate::model::history::{HistoryEntry, HistoryItem};
use crate::model::id::{ClientId, EventKey, ItemId, RuleId};
use crate::model::item::ItemKind;
use crate::money::Money;
use crate::policy::Anchor;
use crate::time::TimeZone;

/// Which stage of collection an event is, for templates and reports.
///
/// A notice about several items (a grouped rule) is of the stage of its most advanced item:
/// of a rule counting from the due date, overdue when one of its items is past due, due
/// today when one is due that day, due soon only when none is due yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Stage {
    /// The item was issued ("envío de factura emitida").
    Issued,
    /// A pending action waits for the client.
    Pending,
    /// The due date is near ("próximo a vencer").
    DueSoon,
    /// Due today.
    DueToday,
    /// Past due ("vencido").
    Overdue,
    /// Paid or completed: thank you.
    ThankYou,
    /// An account statement of every open item.
    Statement,
    /// A statement of overdue items.
    OverdueStatement,
    /// The account will close soon.
    ClosingSoon,
    /// The account is closed.
    Closed,
}

/// A person an event goes to: a contact with notify on.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Recipient {
    /// Name.
    pub name: String,
    /// Email address.
    pub email: String,
    /// Role.
    pub role: ContactRole,
}

/// One item an event is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventItem {
    /// The item.
    pub item: ItemId,
    /// The number people see.
    pub number: Arc<str>,
    /// Its kind.
    pub kind: ItemKind,
    /// Which occurrence of the rule this is for the item (1-based).
    pub occurrence: u32,
    /// Issue date.
    pub issued_on: NaiveDate,
    /// Due date, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due_on: Option<NaiveDate>,
    /// The item's total.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<Money>,
    /// What is still owed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub balance: Option<Money>,
    /// The late fee the rule proposes for this item.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub late_fee: Option<Money>,
    /// Attachments that travel with the reminder.
    #[serde(default, skip_serializing_if = "<[String]>::is_empty")]
    pub attachments: Box<[String]>,
}

/// Something that moved an event from the day its rule gives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Adjustment {
    /// The day was a weekend day or a holiday.
    MovedOffNonWorkingDay {
        /// The day it would have gone.
        from: NaiveDate,
        /// The day it goes.
        to: NaiveDate,
    },
    /// A pause (promise, dispute, hold, snooze) covered the day.
    Paused {
        /// The pause's kind.
        pause: PauseKind,
        /// Its last day.
        until: NaiveDate,
        /// The day it would have gone.
        from: NaiveDate,
    },
    /// Another message went to the client too recently (the policy's minimum gap).
    Deferred {
        /// The gap in days.
        gap_days: u32,
        /// The day it would have gone.
        from: NaiveDate,
    },
    /// A manual send about the item spaced it.
    SpacedAfterManualSend {
        /// The manual send's local date.
        manual_on: NaiveDate,
    },
    /// Its send instant passed while nothing was sent (an outage, or a tick before the send
    /// time): it goes at the next plan on a working day, once.
    CatchUp {
        /// The day it was scheduled for.
        scheduled_on: NaiveDate,
    },
    /// Another reminder about the item, of an earlier stage, went (or goes) on the day it was
    /// to go: one reminder a day about an item, so it goes on the next working day. (A
    /// reminder of a later stage supersedes it instead.)
    AfterAnotherReminder {
        /// The day it would have gone.
        from: NaiveDate,
        /// The next working day, where it goes (unless something else moves it again).
        to: NaiveDate,
    },
}

/// What a statement event covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementInfo {
    /// The occurrence date of the statement rule (the period's key).
    pub period: NaiveDate,
    /// Whether it lists overdue items only.
    pub overdue_only: bool,
}

/// Where a client stands, for a standing notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StandingInfo {
    /// The state entered.
    pub state: crate::standing::StandingState,
    /// Days overdue of the oldest unpaid item on the notice's day.
    pub days_overdue: i64,
    /// That item.
    pub oldest_item: ItemId,
    /// The client's threshold for "closing soon".
    pub closing_soon_after_days: u32,
    /// The client's threshold for "closed".
    pub closed_after_days: u32,
}

/// Why an event fires: the data the sentence of [`Event::explain`] is made of.
///
/// Serialized inside an event, it also carries that sentence as `text` (ignored when read
/// back: it is derived from the data).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Why {
    /// The item date the rule counts from (none for statements and standing notices).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anchor: Option<Anchor>,
    /// That date (for grouped notices, the first item's).
    pub anchor_on: NaiveDate,
    /// The rule's offset in force.
    pub offset_days: i32,
    /// The day the rule gives before any adjustment.
    pub nominal_on: NaiveDate,
    /// What moved it from there.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub adjustments: Vec<Adjustment>,
    /// Whether the event is a preview ([`Planner::preview`](crate::Planner::preview)), not a
    /// planned send.
    #[serde(default, skip_serializing_if = "is_false")]
    pub preview: bool,
}

#[allow(clippy::trivially_copy_pass_by_ref)]
fn is_false(b: &bool) -> bool {
    !*b
}

/// A reminder to send: to whom, about what, when, and why.
///
/// `send_on` is the local date in the client's time zone and `send_at` the UTC instant of the
/// send time on that date. An event is due ([`Plan::due`](crate::Plan::due)) once `send_at`
/// has come, and is to be sent then.
///
/// A send instant that passed unsent (the host was down, or ticked before the send time) is
/// not moved to a later instant: the event is due at the next plan whose local date is a
/// working day, whatever the hour, and keeps the `send_on` and `send_at` it was meant for;
/// its explanation says so ([`Adjustment::CatchUp`]). Planned on a non-working day, it is
/// upcoming on the next working day, with `send_at` the first instant of that day (listed
/// when that instant is within the horizon). Catch-up still sends only the latest stage of
/// an item (a stage due later that day is superseded by it), one reminder a day about an
/// item (a stage moved back onto that day from a later non-working day goes on the next
/// working day, [`Adjustment::AfterAnotherReminder`]), never a "due soon" reminder on or
/// after the due date, and spaces repeats from the day of the actual send.
///
/// [`Event::explain`] says why it fires in a sentence; the serialized event carries that
/// sentence as `why.text`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Event {
    /// Stable idempotency key.
    pub key: EventKey,
    /// The rule that fires.
    pub rule: RuleId,
    /// Stage of collection.
    pub stage: Stage,
    /// The client.
    pub client: ClientId,
    /// The items it is about (several for a grouped notice).
    pub items: Vec<EventItem>,
    /// Who receives it (shared among the client's events).
    pub recipients: Arc<[Recipient]>,
    /// Local send date.
    pub send_on: NaiveDate,
    /// UTC instant of the send.
    pub send_at: DateTime<Utc>,
    /// The time zone of `send_on`.
    pub time_zone: TimeZone,
    /// Locale for the message.
    pub locale: Arc<str>,
    /// Occurrence of the rule (1-based; the highest among a grouped notice's items).
    pub occurrence: u32,
    /// How many times the rule fires at most.
    pub count: u32,
    /// Total still owed over its items, when they have amounts in one currency. `None` when
    /// they have none, or are in more than one currency (a statement over invoices in USD and
    /// EUR): money of two currencies has no one total; each item's balance is in `items`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount_due: Option<Money>,
    /// Total late fee proposed over its items.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub late_fee: Option<Money>,
    /// For a statement: its period and variant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statement: Option<StatementInfo>,
    /// For a standing notice: the client's standing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub standing: Option<Box<StandingInfo>>,
    /// Why it fires.
    pub why: Why,
}

impl Event {
    /// Why the event fires, in a sentence: the item and its date, the rule and its offset,
    /// the occurrence, and whatever moved it (a non-working day, a pause, the minimum gap, a
    /// catch-up). A notice about items due on different days names the one due first (whose
    /// stage is the notice's), its due date and its occurrence. Built on demand from the
    /// event's data, so plans of millions of events do not carry millions of sentences.
    ///
    /// # Example
    /// ```
    /// # use dunning::*;
    /// # use chrono::{NaiveDate, TimeZone as _, Utc};
    /// let policy = Policy::new(TimeZone::UTC).with_rule(Rule::new("overdue".parse()?, Anchor::Due, 3));
    /// let planner = Planner::new(&policy)?;
    /// let client = Client::new("acme".parse()?, "ACME").with_contact(Contact::new("Ana", "ana@acme.test"));
    /// let clp = Currency::from_code("CLP")?;
    /// let issued = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
    /// let item = Item::invoice("F-1".parse()?, client.id.clone(), issued, Money::from_minor(1000, clp))
    ///     .due(NaiveDate::from_ymd_opt(2026, 4, 1).unwrap());
    /// let now = Utc.with_ymd_and_hms(2026, 4, 6, 12, 0, 0).unwrap();
    /// let plan = planner.plan(&[client], &[item], &[], now, Horizon::NONE)?;
    /// assert_eq!(
    ///     plan.due()[0].explain(),
    ///     "invoice F-1 was due on 2026-04-01 and is unpaid; rule overdue fires 3 day(s) after the \
    ///      due date; scheduled for 2026-04-04 and not sent then, so it goes now (catch-up)"
    /// );
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn explain(&self) -> String {
        crate::plan::explain::why_text(self)
    }

    /// The history entry that records this event as sent at `sent_at`.
    ///
    /// # Example
    /// ```
    /// # use dunning::*;
    /// # fn f(plan: &Plan, now: chrono::DateTime<chrono::Utc>) {
    /// let history: Vec<HistoryEntry> = plan.due().iter().map(|e| e.to_history(now)).collect();
    /// # }
    /// ```
    #[must_use]
    pub fn to_history(&self, sent_at: DateTime<Utc>) -> HistoryEntry {
        HistoryEntry {
            key: self.key.clone(),
            rule: Some(self.rule.clone()),
            client: self.client.clone(),
            items: self
                .items
                .iter()
                .map(|i| HistoryItem {
                    item: i.item.clone(),
                    occurrence: i.occurrence,
                })
                .collect(),
            sent_at,
            outcome: crate::model::history::HistoryOutcome::Sent,
        }
    }

    /// The keys of the item occurrences the event reminds about: its own key for an item's
    /// event; for a notice grouped across items, its key and each item's own key
    /// (`rule/item/occurrence`), which a dispatcher claims too, so that no item occurrence
    /// goes out in two notices; its own key alone for a statement or a standing notice (they
    /// list items, but remind no occurrence of them).
    ///
    /// # Example
    /// ```
    /// # use dunning::*;
    /// # use chrono::{NaiveDate, TimeZone as _, Utc};
    /// let policy = Policy::new(TimeZone::UTC).with_rule(Rule::new("overdue".parse()?, Anchor::Due, 0).grouped());
    /// let planner = Planner::new(&policy)?;
    /// let client = Client::new("acme".parse()?, "ACME").with_contact(Contact::new("Ana", "ana@acme.test"));
    /// let usd = Currency::from_code("USD")?;
    /// let day = |d| NaiveDate::from_ymd_opt(2026, 4, d).unwrap();
    /// let items = ["F-1", "F-2"].map(|id| {
    ///     Item::invoice(id.parse().unwrap(), client.id.clone(), day(1), Money::from_minor(100, usd)).due(day(10))
    /// });
    /// let plan = planner.plan(&[client], &items, &[], Utc.with_ymd_and_hms(2026, 4, 10, 12, 0, 0).unwrap(), Horizon::NONE)?;
    /// let keys: Vec<String> = plan.due()[0].covered_keys().iter().map(ToString::to_string).collect();
    /// assert_eq!(keys[1..], ["overdue/F-1/1", "overdue/F-2/1"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn covered_keys(&self) -> Vec<EventKey> {
        let mut keys = vec![self.key.clone()];
        if self.statement.is_none() && self.standing.is_none() {
            keys.extend(
                self.items
                    .iter()
                    .map(|i| EventKey::for_item(self.rule.as_str(), i.item.as_str(), i.occurrence))
                    .filter(|k| *k != self.key),
            );
        }
        keys
    }

    /// Whether the event is about `item`.
    #[must_use]
    pub fn covers(&self, item: &ItemId) -> bool {
        self.items.iter().any(|i| &i.item == item)
    }
}

/// Why an event is not sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum SuppressReason {
    /// Paid in full.
    Paid,
    /// Cancelled.
    Cancelled,
    /// Voided.
    Void,
    /// Still a draft.
    Draft,
    /// The pending action was completed.
    Completed,
    /// Not yet paid or completed (a rule anchored on payment).
    NotSettled,
    /// Reminders are off for this item.
    ItemRemindersOff,
    /// Reminders are off for this client.
    ClientRemindersOff,
    /// This rule is off for this client.
    ExcludedForClient,
    /// A pause without end covers the day: the reminder is held for good, said on the first
    /// working day the pause held it (the pause's first working day, if the minimum gap was
    /// holding it back when the pause began).
    Paused {
        /// Its kind.
        pause: PauseKind,
        /// Its note.
        reason: String,
    },
    /// The item is older than the collection start date.
    BeforeCollectionStart {
        /// The start date.
        start: NaiveDate,
    },
    /// The balance is below the rule's minimum.
    BelowMinimumBalance {
        /// The minimum.
        minimum: Money,
    },
    /// The rule already fired as often as it may.
    CountReached {
        /// The count.
        count: u32,
    },
    /// Another reminder about the item went (or goes) out instead, under `by`. Of the stages
    /// of one day, the latest goes; but one that goes first (due now, or a missed one caught
    /// up at the start of the day) goes, and a later stage due that day whose send time is
    /// still to come is superseded by it, so a reminder due now never waits for one still to
    /// come. A stage older than one that went (a "due soon" moved back off a non-working day
    /// can go before an earlier stage's day) is superseded by it too.
    Superseded {
        /// The key of the event that went (or goes) instead.
        by: EventKey,
    },
    /// A "due soon" reminder would go on or after the due date. Missed (its send instant
    /// passed unsent) or held back by its spacing (after the rule's last send or a manual
    /// one), a pause or the minimum gap, it is said so on the due date (or on the day it was
    /// to go, if later), whatever the client is sent since, while that day is within the
    /// plan's lookback; once older, as of the plan's day (but not later than the day a send
    /// about the item found it too late).
    DueSoonAfterDue {
        /// The due date.
        due: NaiveDate,
    },
    /// No contact with notify on (and a matching role).
    NoRecipients,
    /// Moved off a non-working day; the event goes on `to`.
    MovedOffNonWorkingDay {
        /// The day it goes instead.
        to: NaiveDate,
    },
    /// Held back by a pause; the event goes after it ends.
    PausedUntil {
        /// Its kind.
        pause: PauseKind,
        /// Its note.
        reason: String,
        /// Its last day.
        until: NaiveDate,
    },
    /// Held back by the minimum gap between messages to the client.
    Deferred {
        /// The gap.
        gap_days: u32,
    },
    /// Another reminder about the item, of an earlier stage, went (or goes) that day: one
    /// reminder a day about an item, so it goes on `to`, the next working day.
    AfterAnotherReminder {
        /// The day it goes instead.
        to: NaiveDate,
    },
    /// The key is already recorded as sent.
    AlreadySent,
    /// A statement with nothing to list.
    NothingToList,
    /// It could not go out in time and the rule drops late occurrences.
    Expired {
        /// The rule's limit in days.
        days: u32,
    },
    /// Its send failed for good (a bounced address): it is not tried again unless the host
    /// releases it.
    DeliveryFailed {
        /// When the failure was recorded.
        at: DateTime<Utc>,
        /// The mailer's error.
        error: String,
    },
    /// Its send may or may not have gone (it timed out, or a crash left it unrecorded):
    /// under at-most-once delivery it is not tried again unless the host releases it.
    OutcomeUnknown {
        /// When the unknown outcome was recorded.
        at: DateTime<Utc>,
    },
    /// Its day, or the working day it would move to, is past the end of the calendar
    /// (`NaiveDate::MIN` or `MAX`): it has no day to go on.
    NoDayToSend,
    /// The rule counts from a date the open item does not have: no due date (an action
    /// without one), or one past the end of the calendar. Said in every plan, as of that
    /// day, for each such rule when no rule reminds about the item, so that an item that
    /// never gets a reminder says why.
    NoDateToCountFrom {
        /// The date the rule counts from.
        anchor: crate::policy::Anchor,
    },
    /// The rule is for other kinds of item, and no rule of the policy reminds about this
    /// open item: said in every plan, as of that day, once per rule, so that an item that
    /// never gets a reminder says why.
    ExcludedKind {
        /// The kinds the rule is for.
        kinds: Vec<crate::model::item::ItemKind>,
    },
    /// The rule is for clients with one of its tags, this item's client has none, and no
    /// rule of the policy reminds about this open item: said as [`Self::ExcludedKind`] is.
    NotForClientTags {
        /// The tags the rule is for.
        tags: Vec<String>,
    },
}

impl Suppressed {
    /// The item's id, or `""` for a client-level event.
    #[must_use]
    pub fn item_str(&self) -> &str {
        self.item.as_ref().map_or("", ItemId::as_str)
    }

    /// Why it is not sent, in a sentence, built on demand from the entry's data (the
    /// serialized entry carries it as `why`).
    ///
    /// # Example
    /// ```
    /// # use dunning::*;
    /// # use chrono::{NaiveDate, TimeZone as _, Utc};
    /// let policy = Policy::new(TimeZone::UTC).with_rule(Rule::new("overdue".parse()?, Anchor::Due, 3));
    /// let planner = Planner::new(&policy)?;
    /// let client = Client::new("acme".parse()?, "ACME");
    /// let clp = Currency::from_code("CLP")?;
    /// let issued = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
    /// let item = Item::invoice("F-1".parse()?, client.id.clone(), issued, Money::from_minor(1000, clp))
    ///     .due(NaiveDate::from_ymd_opt(2026, 4, 1).unwrap());
    /// let now = Utc.with_ymd_and_hms(2026, 4, 4, 12, 0, 0).unwrap();
    /// let plan = planner.plan(&[client], &[item], &[], now, Horizon::NONE)?;
    /// assert_eq!(
    ///     plan.suppressed()[0].explain(),
    ///     "no contact of the client has notify on for rule overdue: nothing on 2026-04-04 for invoice F-1"
    /// );
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn explain(&self) -> String {
        crate::plan::explain::suppress_text(self)
    }
}

/// An event that does not go out (or not on that day), and why not.
///
/// [`Suppressed::explain`] says why in a sentence; the serialized entry carries that sentence
/// as `why`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Suppressed {
    /// The key the event would have had.
    pub key: EventKey,
    /// The rule.
    pub rule: RuleId,
    /// The client.
    pub client: ClientId,
    /// The item (none for a client-level event: a statement or a standing notice).
    #[serde(default)]
    pub item: Option<ItemId>,
    /// The item's kind.
    #[serde(default)]
    pub kind: Option<ItemKind>,
    /// The item's number people see.
    #[serde(default)]
    pub number: Option<Arc<str>>,
    /// The local date it would have gone. For one superseded, the day the send that
    /// superseded it went (or its own day, if later); later occurrences of its rule that the
    /// same send passes over, each on its own day.
    pub on: NaiveDate,
    /// Why not.
    pub reason: SuppressReason,
}

/// The serialized form of an event: its fields, and the sentence of [`Event::explain`] as
/// `why.text`.
impl Serialize for Event {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct WhyOut<'a> {
            #[serde(skip_serializing_if = "Option::is_none")]
            anchor: Option<Anchor>,
            anchor_on: NaiveDate,
            offset_days: i32,
            nominal_on: NaiveDate,
            #[serde(skip_serializing_if = "<[Adjustment]>::is_empty")]
            adjustments: &'a [Adjustment],
            #[serde(skip_serializing_if = "is_false")]
            preview: bool,
            text: String,
        }
        #[derive(Serialize)]
        struct Out<'a> {
            key: &'a EventKey,
            rule: &'a RuleId,
            stage: Stage,
            client: &'a ClientId,
            items: &'a [EventItem],
            recipients: &'a [Recipient],
            send_on: NaiveDate,
            send_at: DateTime<Utc>,
            time_zone: TimeZone,
            locale: &'a str,
            occurrence: u32,
            count: u32,
            #[serde(skip_serializing_if = "Option::is_none")]
            amount_due: Option<Money>,
            #[serde(skip_serializing_if = "Option::is_none")]
            late_fee: Option<Money>,
            #[serde(skip_serializing_if = "Option::is_none")]
            statement: Option<&'a StatementInfo>,
            #[serde(skip_serializing_if = "Option::is_none")]
            standing: Option<&'a StandingInfo>,
            why: WhyOut<'a>,
        }
        let w = &self.why;
        Out {
            key: &self.key,
            rule: &self.rule,
            stage: self.stage,
            client: &self.client,
            items: &self.items,
            recipients: &self.recipients,
            send_on: self.send_on,
            send_at: self.send_at,
            time_zone: self.time_zone,
            locale: &self.locale,
            occurrence: self.occurrence,
            count: self.count,
            amount_due: self.amount_due,
            late_fee: self.late_fee,
            statement: self.statement.as_ref(),
            standing: self.standing.as_deref(),
            why: WhyOut {
                anchor: w.anchor,
                anchor_on: w.anchor_on,
                offset_days: w.offset_days,
                nominal_on: w.nominal_on,
                adjustments: &w.adjustments,
                preview: w.preview,
                text: self.explain(),
            },
        }
        .serialize(serializer)
    }
}

/// The serialized form of a suppressed entry: its fields, and the sentence of
/// [`Suppressed::explain`] as `why`.
impl Serialize for Suppressed {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Out<'a> {
            key: &'a EventKey,
            rule: &'a RuleId,
            client: &'a ClientId,
            #[serde(skip_serializing_if = "Option::is_none")]
            item: Option<&'a ItemId>,
            #[serde(skip_serializing_if = "Option::is_none")]
            kind: Option<ItemKind>,
            #[serde(skip_serializing_if = "Option::is_none")]
            number: Option<&'a str>,
            on: NaiveDate,
            reason: &'a SuppressReason,
            why: String,
        }
        Out {
            key: &self.key,
            rule: &self.rule,
            client: &self.client,
            item: self.item.as_ref(),
            kind: self.kind,
            number: self.number.as_deref(),
            on: self.on,
            reason: &self.reason,
            why: self.explain(),
        }
        .serialize(serializer)
    }
}

crate::names::names!(Stage, "stage" {
    Issued => "issued",
    Pending => "pending",
    DueSoon => "due_soon",
    DueToday => "due_today",
    Overdue => "overdue",
    ThankYou => "thank_you",
    Statement => "statement",
    OverdueStatement => "overdue_statement",
    ClosingSoon => "closing_soon",
    Closed => "closed",
});

crate::names::kinds!(SuppressReason =>
    /// The kind of a [`SuppressReason`], without its data: to count suppressions by reason in metrics, or to pick them out from a command line.
    ///
    /// # Example
    /// ```
    /// use dunning::{SuppressReason, SuppressReasonKind};
    /// assert_eq!(SuppressReason::Paid.kind(), SuppressReasonKind::Paid);
    /// assert_eq!("paid".parse::<SuppressReasonKind>().unwrap(), SuppressReasonKind::Paid);
    /// assert_eq!(SuppressReasonKind::Paid.to_string(), "paid");
    /// assert!("no_such_kind".parse::<SuppressReasonKind>().is_err());
    /// ```
    SuppressReasonKind, "suppress reason" {
    Paid => "paid",
    Cancelled => "cancelled",
    Void => "void",
    Draft => "draft",
    Completed => "completed",
    NotSettled => "not_settled",
    ItemRemindersOff => "item_reminders_off",
    ClientRemindersOff => "client_reminders_off",
    ExcludedForClient => "excluded_for_client",
    Paused => "paused",
    BeforeCollectionStart => "before_collection_start",
    BelowMinimumBalance => "below_minimum_balance",
    CountReached => "count_reached",
    Superseded => "superseded",
    DueSoonAfterDue => "due_soon_after_due",
    NoRecipients => "no_recipients",
    MovedOffNonWorkingDay => "moved_off_non_working_day",
    PausedUntil => "paused_until",
    Deferred => "deferred",
    AlreadySent => "already_sent",
    NothingToList => "nothing_to_list",
    Expired => "expired",
    DeliveryFailed => "delivery_failed",
    OutcomeUnknown => "outcome_unknown",
    NoDayToSend => "no_day_to_send",
    NoDateToCountFrom => "no_date_to_count_from",
    AfterAnotherReminder => "after_another_reminder",
    ExcludedKind => "excluded_kind",
    NotForClientTags => "not_for_client_tags",
});

crate::names::kinds!(Adjustment =>
    /// The kind of an [`Adjustment`], without its data: to count the ways reminders were moved.
    ///
    /// # Example
    /// ```
    /// use dunning::{Adjustment, AdjustmentKind};
    /// assert_eq!(Adjustment::CatchUp { scheduled_on: chrono::NaiveDate::MIN }.kind(), AdjustmentKind::CatchUp);
    /// assert_eq!("catch_up".parse::<AdjustmentKind>().unwrap(), AdjustmentKind::CatchUp);
    /// assert_eq!(AdjustmentKind::CatchUp.to_string(), "catch_up");
    /// assert!("no_such_kind".parse::<AdjustmentKind>().is_err());
    /// ```
    AdjustmentKind, "adjustment" {
    MovedOffNonWorkingDay => "moved_off_non_working_day",
    Paused => "paused",
    Deferred => "deferred",
    SpacedAfterManualSend => "spaced_after_manual_send",
    CatchUp => "catch_up",
    AfterAnotherReminder => "after_another_reminder",
});
