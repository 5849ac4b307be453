//! Planned events and suppressed ones, with their reasons.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::model::client::{ContactRole, PauseKind};
use crate::model::history::{HistoryEntry, HistoryItem};
use crate::model::id::{ClientId, EventKey, ItemId, RuleId};
use crate::model::item::ItemKind;
use crate::money::Money;
use crate::policy::Anchor;
use crate::time::TimeZone;

/// Which stage of collection an event is, for templates and reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Stage {
    /// The item was issued ("envío de factura emitida").
    Issued,
    /// A pending action waits for the client (seed 003).
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
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<String>,
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
    /// It was due while nothing was sent (an outage): it goes now, once.
    CatchUp {
        /// The day it was scheduled for.
        scheduled_on: NaiveDate,
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

/// Why an event fires: the data and a sentence.
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
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub adjustments: Vec<Adjustment>,
    /// The same in a sentence.
    pub text: String,
}

/// A reminder to send: to whom, about what, when, and why.
///
/// `send_on` is the local date in the client's time zone and `send_at` the UTC instant of the
/// send time on that date. An event in [`Plan::due`](crate::Plan::due) is to be sent now,
/// even if `send_at` is in the past (catch-up after an outage).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
    /// Total still owed over its items, when they have amounts.
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
    pub standing: Option<StandingInfo>,
    /// Why it fires.
    pub why: Why,
}

impl Event {
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
        }
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
    /// A pause without end covers the day.
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
    /// A later stage went (or goes) out for the item at the same time.
    Superseded {
        /// The key of the later stage's event.
        by: EventKey,
    },
    /// A "due soon" reminder would go on or after the due date.
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
    /// The key is already recorded as sent.
    AlreadySent,
    /// A statement with nothing to list.
    NothingToList,
    /// It could not go out in time and the rule drops late occurrences.
    Expired {
        /// The rule's limit in days.
        days: u32,
    },
}

impl Suppressed {
    /// The item's id, or `""` for a client-level event.
    #[must_use]
    pub fn item_str(&self) -> &str {
        self.item.as_ref().map_or("", ItemId::as_str)
    }
}

/// An event that does not go out (or not on that day), and why not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suppressed {
    /// The key the event would have had.
    pub key: EventKey,
    /// The rule.
    pub rule: RuleId,
    /// The client.
    pub client: ClientId,
    /// The item (none for a client-level event: a statement or a standing notice).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<ItemId>,
    /// The local date it would have gone.
    pub on: NaiveDate,
    /// Why not.
    pub reason: SuppressReason,
    /// The same in a sentence.
    pub why: String,
}
