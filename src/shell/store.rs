//! The storage the host provides, one trait per job: the dispatch state ([`DispatchStore`]:
//! the planner's inputs, delivery claims and outcomes, history), the action log
//! ([`ActionLog`]) and manual reminder records ([`ReminderStore`]). [`Store`] is all three,
//! what a [`Dispatcher`](crate::Dispatcher) runs on.
//!
//! The traits use [`async_trait`](macro@async_trait) (re-exported here, so a host needs no dependency of its
//! own): write `#[async_trait]` on each `impl` block, as [`Store`]'s example does.

pub use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::model::client::Client;
use crate::model::history::HistoryEntry;
use crate::model::id::{ClientId, EventKey, ItemId, RuleId};
use crate::model::item::Item;
use crate::money::Money;
use crate::shard::Shard;

/// The planner's inputs as the store holds them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Every client.
    pub clients: Vec<Client>,
    /// The items to plan for (at least every open one).
    pub items: Vec<Item>,
    /// What was sent.
    pub history: Vec<HistoryEntry>,
}

/// Where the delivery of one event key stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Delivery {
    /// A dispatcher took it at `at` and has not recorded an outcome (yet, or ever: a crash).
    Claimed {
        /// When.
        at: DateTime<Utc>,
        /// Which attempt (1-based).
        attempt: u32,
    },
    /// A transient failure; the next attempt may start at `not_before`.
    Retrying {
        /// Attempts made.
        attempt: u32,
        /// The earliest next attempt.
        not_before: DateTime<Utc>,
        /// The last error.
        error: String,
    },
    /// Sent.
    Sent {
        /// When.
        at: DateTime<Utc>,
        /// The mailer's message id.
        message_id: String,
    },
    /// Given up: a permanent failure, or too many transient ones.
    Failed {
        /// When.
        at: DateTime<Utc>,
        /// Attempts made.
        attempt: u32,
        /// The last error.
        error: String,
    },
    /// The send may or may not have gone (it timed out, or a crash left the claim without
    /// an outcome): under at-most-once delivery it is never retried unless released.
    Unknown {
        /// When the outcome was found unknown.
        at: DateTime<Utc>,
        /// Attempts made.
        attempt: u32,
        /// What made it unknown.
        error: String,
    },
    /// Claimed, then not sent: re-read after the claim, it was no longer due (paid or
    /// stopped meanwhile). It may be claimed again.
    Skipped {
        /// When.
        at: DateTime<Utc>,
        /// Why, in a sentence.
        reason: String,
    },
}

impl Delivery {
    /// Whether this is the claim taken at `at` (to the microsecond, as stores keep instants)
    /// as `attempt`.
    ///
    /// ```
    /// use chrono::{Duration, TimeZone, Utc};
    /// use dunning::store::Delivery;
    /// let at = Utc.with_ymd_and_hms(2026, 4, 1, 9, 0, 0).unwrap();
    /// let held = Delivery::Claimed { at, attempt: 2 };
    /// assert!(held.is_claim(at + Duration::nanoseconds(400), 2));
    /// assert!(!held.is_claim(at, 1));
    /// assert!(!held.is_claim(at + Duration::microseconds(1), 2));
    /// ```
    #[must_use]
    pub fn is_claim(&self, at: DateTime<Utc>, attempt: u32) -> bool {
        matches!(self, Delivery::Claimed { at: t, attempt: a }
            if *a == attempt && (*t - at).abs() < chrono::Duration::microseconds(1))
    }
}

/// The answer to a claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Claim {
    /// The caller now holds the key and must record an outcome.
    Granted {
        /// Which attempt this is (1-based).
        attempt: u32,
    },
    /// Someone holds it or it is settled; here is where it stands.
    Refused(Delivery),
}

/// What happened, for the action log (the audit trail of manual and automatic reminders).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Action {
    /// A manual reminder was created.
    Created,
    /// A field of a manual reminder changed.
    Edited {
        /// The field.
        field: String,
        /// Its old value.
        from: String,
        /// Its new value.
        to: String,
    },
    /// A status changed.
    StatusChanged {
        /// The old status.
        from: String,
        /// The new status.
        to: String,
    },
    /// A due event was taken for sending (first attempt).
    Planned {
        /// Why it fires.
        why: String,
    },
    /// A message went out.
    Sent {
        /// The rule, or none for a manual send.
        rule: Option<RuleId>,
        /// The recipients' addresses.
        to: Vec<String>,
        /// The mailer's message id.
        message_id: String,
    },
    /// A send failed.
    Failed {
        /// The error.
        error: String,
        /// The attempt.
        attempt: u32,
        /// Whether it will be retried.
        retry: bool,
    },
    /// A due event was not sent now.
    Skipped {
        /// Why.
        reason: String,
    },
    /// A claim has no recorded outcome: the message may or may not have gone.
    OutcomeUnknown,
    /// The host released a failed or unknown key for one more try.
    Released,
    /// A manual reminder was archived.
    Archived,
    /// A manual reminder was deleted.
    Deleted,
}

/// One line of the action log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntry {
    /// When.
    pub at: DateTime<Utc>,
    /// The client.
    pub client: ClientId,
    /// The item, if the action is about one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<ItemId>,
    /// The event key or manual reminder id, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// What happened.
    pub action: Action,
}

/// Which log lines to read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LogFilter {
    /// Only this client's.
    pub client: Option<ClientId>,
    /// Only this item's.
    pub item: Option<ItemId>,
    /// Only this key's (event key or reminder id).
    pub key: Option<String>,
}

impl LogFilter {
    /// Lines about one item.
    #[must_use]
    pub fn item(item: ItemId) -> Self {
        Self {
            item: Some(item),
            ..Self::default()
        }
    }

    /// Lines about one client.
    #[must_use]
    pub fn client(client: ClientId) -> Self {
        Self {
            client: Some(client),
            ..Self::default()
        }
    }

    /// Lines about one key or reminder.
    #[must_use]
    pub fn key(key: impl Into<String>) -> Self {
        Self {
            key: Some(key.into()),
            ..Self::default()
        }
    }

    /// Whether `entry` passes.
    #[must_use]
    pub fn matches(&self, entry: &LogEntry) -> bool {
        self.client.as_ref().is_none_or(|c| &entry.client == c)
            && self.item.as_ref().is_none_or(|i| entry.item.as_ref() == Some(i))
            && self
                .key
                .as_ref()
                .is_none_or(|k| entry.key.as_deref() == Some(k.as_str()))
    }
}

/// A manual reminder's status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ReminderStatus {
    /// Still to collect.
    #[default]
    Active,
    /// Paid.
    Paid,
    /// Cancelled.
    Cancelled,
}

/// A manual reminder record: who owes what for which invoice, and the message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reminder {
    /// Unique id.
    pub id: String,
    /// The client.
    pub client: ClientId,
    /// The invoice.
    pub invoice: ItemId,
    /// The due date.
    pub due_on: NaiveDate,
    /// The amount owed.
    pub amount: Money,
    /// The message to send.
    pub message: String,
    /// Status.
    pub status: ReminderStatus,
    /// Whether it was archived (finished ones only).
    #[serde(default)]
    pub archived: bool,
}

/// One outcome to record: the arguments of [`DispatchStore::finish`], for
/// [`DispatchStore::finish_batch`].
///
/// # Example
/// ```
/// use dunning::store::{Delivery, Finish};
///
/// let f = Finish::new(
///     "overdue/F-1/1".into(),
///     Delivery::Skipped { at: chrono::Utc::now(), reason: "paid meanwhile".into() },
/// );
/// assert!(f.sent.is_none() && f.log.is_none());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Finish {
    /// The claimed key.
    pub key: EventKey,
    /// Where its delivery now stands.
    pub outcome: Delivery,
    /// The history entry recorded with it, if any.
    pub sent: Option<HistoryEntry>,
    /// The action log's line for it, if any.
    pub log: Option<LogEntry>,
}

impl Finish {
    /// An outcome with no history entry and no log line.
    #[must_use]
    pub fn new(key: EventKey, outcome: Delivery) -> Self {
        Self {
            key,
            outcome,
            sent: None,
            log: None,
        }
    }

    /// The same, recorded with a history entry.
    #[must_use]
    pub fn with_history(mut self, entry: HistoryEntry) -> Self {
        self.sent = Some(entry);
        self
    }

    /// The same, recorded with a log line.
    #[must_use]
    pub fn with_log(mut self, line: LogEntry) -> Self {
        self.log = Some(line);
        self
    }

    /// The same, recorded with the history entry and the log line given, if any (as
    /// [`DispatchStore::finish`] takes them).
    #[must_use]
    pub fn with_entries(mut self, sent: Option<HistoryEntry>, log: Option<LogEntry>) -> Self {
        self.sent = sent;
        self.log = log;
        self
    }
}

/// A storage failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The backend failed (connection, disk, constraint).
    #[error("store backend: {0}")]
    Backend(String),
    /// A record that should exist does not.
    #[error("{kind} {id:?} not found")]
    NotFound {
        /// What kind of record.
        kind: &'static str,
        /// Its id.
        id: String,
    },
    /// The database refused a statement: its SQLSTATE code (`23505`, a unique violation;
    /// `40001`, a serialization failure; `22P02`, bad text for a type), what the store was
    /// doing, and the server's message.
    ///
    /// ```
    /// use dunning::StoreError;
    /// let e = StoreError::Database {
    ///     context: "recording an outcome".into(),
    ///     code: "23505".into(),
    ///     message: "duplicate key value violates unique constraint".into(),
    /// };
    /// assert_eq!(
    ///     e.to_string(),
    ///     "recording an outcome: database error 23505: duplicate key value violates unique constraint"
    /// );
    /// ```
    #[error("{context}: database error {code}: {message}")]
    Database {
        /// What the store was doing.
        context: String,
        /// The SQLSTATE code.
        code: String,
        /// The server's message.
        message: String,
    },
    /// The database could not be reached, or the connection was lost during the call: the
    /// call may be tried again. (A write that failed so may or may not have been committed.)
    #[error("{context}: database unavailable: {message}")]
    Unavailable {
        /// What the store was doing.
        context: String,
        /// Why.
        message: String,
    },
    /// An outcome for a claim ([`DispatchStore::finish_claimed`]) the store no longer holds:
    /// the key was taken again, or its outcome recorded, meanwhile. Nothing was recorded.
    ///
    /// ```
    /// use dunning::StoreError;
    /// let e = StoreError::NoLongerClaimed { key: "overdue/F-1/1".into() };
    /// assert_eq!(e.to_string(), "overdue/F-1/1 is no longer held by that claim");
    /// ```
    #[error("{key} is no longer held by that claim")]
    NoLongerClaimed {
        /// The event key.
        key: String,
    },
}

/// The storage a [`Dispatcher`](crate::Dispatcher) works on: the three jobs below, in one
/// store. Implemented for every type that implements them ([`DispatchStore`],
/// [`ActionLog`], [`ReminderStore`]); a host implements those.
///
/// [`MemoryStore`](crate::MemoryStore) is the in-crate reference, and the `conformance`
/// feature's checks ([`crate::conformance`]) test an implementation, one job at a time.
///
/// The traits are asynchronous through [`async_trait`](crate::store::async_trait), re-exported
/// here: put `#[async_trait]` on each `impl` block.
///
/// # Example
/// A store made of three parts, one per job: the dispatch state in memory, and a log and
/// manual reminders of the host's own.
/// ```
/// use std::sync::{Arc, Mutex};
/// use dunning::store::{
///     async_trait, ActionLog, Claim, Delivery, DispatchStore, LogEntry, LogFilter, Reminder,
///     ReminderStore, Snapshot, StoreError,
/// };
/// use dunning::{EventKey, HistoryEntry, MemoryStore, Store};
///
/// #[derive(Default)]
/// struct Log(Mutex<Vec<LogEntry>>);
///
/// #[async_trait]
/// impl ActionLog for Log {
///     async fn log(&self, entry: LogEntry) -> Result<(), StoreError> {
///         self.0.lock().unwrap().push(entry);
///         Ok(())
///     }
///     async fn read_log(&self, filter: &LogFilter) -> Result<Vec<LogEntry>, StoreError> {
///         Ok(self.0.lock().unwrap().iter().filter(|e| filter.matches(e)).cloned().collect())
///     }
/// }
///
/// struct NoReminders;
///
/// #[async_trait]
/// impl ReminderStore for NoReminders {
///     async fn save_reminder(&self, r: &Reminder) -> Result<(), StoreError> {
///         Err(StoreError::Backend(format!("manual reminders are kept elsewhere ({})", r.id)))
///     }
///     async fn reminders(&self) -> Result<Vec<Reminder>, StoreError> {
///         Ok(Vec::new())
///     }
///     async fn delete_reminder(&self, _id: &str) -> Result<bool, StoreError> {
///         Ok(false)
///     }
/// }
///
/// // The dispatch state delegated to a memory store; its `finish` lines go to our log.
/// struct Mine {
///     state: MemoryStore,
///     log: Log,
///     reminders: NoReminders,
/// }
///
/// #[async_trait]
/// impl DispatchStore for Mine {
///     async fn load(&self) -> Result<Snapshot, StoreError> {
///         self.state.load().await
///     }
///     async fn claim(
///         &self,
///         key: &EventKey,
///         now: chrono::DateTime<chrono::Utc>,
///         reclaim_after: Option<chrono::Duration>,
///     ) -> Result<Claim, StoreError> {
///         self.state.claim(key, now, reclaim_after).await
///     }
///     async fn finish(
///         &self,
///         key: &EventKey,
///         outcome: Delivery,
///         sent: Option<HistoryEntry>,
///         log: Option<LogEntry>,
///     ) -> Result<(), StoreError> {
///         // (A real store writes all three in one transaction.)
///         self.state.finish(key, outcome, sent, None).await?;
///         if let Some(line) = log {
///             self.log.log(line).await?;
///         }
///         Ok(())
///     }
///     async fn delivery(&self, key: &EventKey) -> Result<Option<Delivery>, StoreError> {
///         self.state.delivery(key).await
///     }
///     async fn abandoned_claims(
///         &self,
///         before: chrono::DateTime<chrono::Utc>,
///     ) -> Result<Vec<(EventKey, Delivery)>, StoreError> {
///         self.state.abandoned_claims(before).await
///     }
///     async fn append_history(&self, entry: HistoryEntry) -> Result<(), StoreError> {
///         self.state.append_history(entry).await
///     }
/// }
///
/// #[async_trait]
/// impl ActionLog for Mine {
///     async fn log(&self, entry: LogEntry) -> Result<(), StoreError> {
///         self.log.log(entry).await
///     }
///     async fn read_log(&self, filter: &LogFilter) -> Result<Vec<LogEntry>, StoreError> {
///         self.log.read_log(filter).await
///     }
/// }
///
/// #[async_trait]
/// impl ReminderStore for Mine {
///     async fn save_reminder(&self, r: &Reminder) -> Result<(), StoreError> {
///         self.reminders.save_reminder(r).await
///     }
///     async fn reminders(&self) -> Result<Vec<Reminder>, StoreError> {
///         self.reminders.reminders().await
///     }
///     async fn delete_reminder(&self, id: &str) -> Result<bool, StoreError> {
///         self.reminders.delete_reminder(id).await
///     }
/// }
///
/// // `Mine` is a `Store` now: a dispatcher can run on it.
/// let store: Arc<dyn Store> = Arc::new(Mine {
///     state: MemoryStore::default(),
///     log: Log::default(),
///     reminders: NoReminders,
/// });
/// # let _ = store;
/// ```
pub trait Store: DispatchStore + ActionLog + ReminderStore {}

impl<T: DispatchStore + ActionLog + ReminderStore + ?Sized> Store for T {}

/// The dispatch state: the planner's inputs, delivery claims and outcomes, and the history
/// of what was sent.
///
/// [`claim`](DispatchStore::claim) must be atomic: of two callers racing for one key, one
/// gets [`Claim::Granted`], across processes too when workers share the store.
/// [`finish`](DispatchStore::finish) must record the outcome, its history entry and its log
/// line in one step (one transaction), the log line readable through the store's
/// [`ActionLog`].
#[async_trait]
pub trait DispatchStore: Send + Sync + 'static {
    /// The planner's inputs.
    async fn load(&self) -> Result<Snapshot, StoreError>;

    /// One shard's part of the planner's inputs: the clients [`Shard::contains`], their items
    /// and their history. A dispatcher given a shard loads this instead of everything.
    ///
    /// The default reads everything ([`DispatchStore::load`]) and keeps the shard's part; a
    /// store that can select a shard's rows (by a column holding [`Shard::bucket`]) should.
    async fn load_shard(&self, shard: Shard) -> Result<Snapshot, StoreError> {
        let mut all = self.load().await?;
        if !shard.is_all() {
            all.clients.retain(|c| shard.contains(&c.id));
            all.items.retain(|i| shard.contains(&i.client));
            all.history.retain(|h| shard.contains(&h.client));
        }
        Ok(all)
    }

    /// One client's part of the planner's inputs, as the store holds it now: the client, its
    /// items and its history. The dispatcher reads it after each claim, to plan the claimed
    /// event again before sending it (a payment recorded since the tick loaded stops it).
    ///
    /// The default reads everything ([`DispatchStore::load`]) and keeps the client's part; a
    /// store that can read one client's rows should.
    async fn load_client(&self, client: &ClientId) -> Result<Snapshot, StoreError> {
        let mut all = self.load().await?;
        all.clients.retain(|c| &c.id == client);
        all.items.retain(|i| &i.client == client);
        all.history.retain(|h| &h.client == client);
        Ok(all)
    }

    /// Several clients' parts of the planner's inputs at once, each as
    /// [`DispatchStore::load_client`] reads one: the clients, their items and their history,
    /// in one snapshot (a client given twice is read once). A dispatcher with many sends in
    /// flight re-reads their clients together.
    ///
    /// The default reads them one by one; a store that can read many clients' rows in one
    /// query should.
    async fn load_clients(&self, clients: &[ClientId]) -> Result<Snapshot, StoreError> {
        let mut all = Snapshot::default();
        let mut seen = std::collections::HashSet::new();
        for client in clients.iter().filter(|c| seen.insert(*c)) {
            let one = self.load_client(client).await?;
            all.clients.extend(one.clients);
            all.items.extend(one.items);
            all.history.extend(one.history);
        }
        Ok(all)
    }

    /// Takes `key` for sending at `now`: granted when no one has it, when its retry is due,
    /// or when `reclaim_after` is set and its claim is older than that (at-least-once).
    async fn claim(
        &self,
        key: &EventKey,
        now: DateTime<Utc>,
        reclaim_after: Option<chrono::Duration>,
    ) -> Result<Claim, StoreError>;

    /// Takes several keys at once, each as [`DispatchStore::claim`] would: one answer per
    /// key, in order. A key given twice is granted at most once. All or nothing: on an error,
    /// no key is left claimed by the batch.
    ///
    /// The default claims them one by one and, on an error, lets go of the keys it took
    /// ([`Delivery::Skipped`]; a key it cannot let go of stays claimed, and is found
    /// abandoned later). A store that can take a batch in one transaction should (it is what
    /// a tick does with the keys a grouped notice covers).
    async fn claim_batch(
        &self,
        keys: &[EventKey],
        now: DateTime<Utc>,
        reclaim_after: Option<chrono::Duration>,
    ) -> Result<Vec<Claim>, StoreError> {
        let mut answers = Vec::with_capacity(keys.len());
        for key in keys {
            match self.claim(key, now, reclaim_after).await {
                Ok(answer) => answers.push(answer),
                Err(e) => {
                    let taken = keys
                        .iter()
                        .zip(&answers)
                        .filter(|(_, a)| matches!(a, Claim::Granted { .. }));
                    for (key, _) in taken {
                        let undone = Delivery::Skipped {
                            at: now,
                            reason: format!("its batch claim failed: {e}"),
                        };
                        let _ = self.finish(key, undone, None, None).await;
                    }
                    return Err(e);
                }
            }
        }
        Ok(answers)
    }

    /// Records the outcome of a claim in one step (one transaction): `sent`, when given, is
    /// appended to the history, and `log` (the action log's line for the outcome) to the log,
    /// so an outcome is never recorded without its history entry and log line, nor the other
    /// way round. The dispatcher gives a history entry with [`Delivery::Sent`], and with
    /// [`Delivery::Failed`] and [`Delivery::Unknown`] (an entry whose
    /// [`outcome`](crate::HistoryEntry::outcome) says so, which the planner explains instead
    /// of planning the key again), and with a release (a
    /// [`Released`](crate::HistoryOutcome::Released) entry).
    async fn finish(
        &self,
        key: &EventKey,
        outcome: Delivery,
        sent: Option<HistoryEntry>,
        log: Option<LogEntry>,
    ) -> Result<(), StoreError>;

    /// Where a key's delivery stands.
    async fn delivery(&self, key: &EventKey) -> Result<Option<Delivery>, StoreError>;

    /// Records an outcome as [`finish`](DispatchStore::finish) does, only while the store
    /// still holds `key` as the claim taken at `claimed_at` as `attempt` (instants equal to
    /// the microsecond); else nothing is recorded and the answer is
    /// [`StoreError::NoLongerClaimed`]. A dispatcher records a claim another one left (after
    /// a crash) this way, so that the key taken again meanwhile, or its outcome recorded
    /// meanwhile, is never overwritten.
    ///
    /// The default reads where the key stands, then records: another dispatcher may step in
    /// between the two. A store that can check and record in one transaction should.
    async fn finish_claimed(
        &self,
        key: &EventKey,
        (claimed_at, attempt): (DateTime<Utc>, u32),
        outcome: Delivery,
        sent: Option<HistoryEntry>,
        log: Option<LogEntry>,
    ) -> Result<(), StoreError> {
        match self.delivery(key).await? {
            Some(held) if held.is_claim(claimed_at, attempt) => self.finish(key, outcome, sent, log).await,
            _ => Err(StoreError::NoLongerClaimed { key: key.to_string() }),
        }
    }

    /// Records several outcomes, each as [`DispatchStore::finish`] records one (its outcome,
    /// history entry and log line together): one answer per entry, in order. A dispatcher
    /// with many sends in flight records the outcomes that are ready together.
    ///
    /// The default records them one by one. A store that can record a batch in one
    /// transaction should; an entry whose key was never claimed is then answered
    /// [`StoreError::NotFound`] and leaves nothing behind, and the others are recorded.
    async fn finish_batch(&self, batch: Vec<Finish>) -> Vec<Result<(), StoreError>> {
        let mut answers = Vec::with_capacity(batch.len());
        for f in batch {
            answers.push(self.finish(&f.key, f.outcome, f.sent, f.log).await);
        }
        answers
    }

    /// Where several keys' deliveries stand, one answer per key, in order.
    ///
    /// The default reads them one by one; a store that can read many in one query should.
    async fn deliveries(&self, keys: &[EventKey]) -> Result<Vec<Option<Delivery>>, StoreError> {
        let mut states = Vec::with_capacity(keys.len());
        for key in keys {
            states.push(self.delivery(key).await?);
        }
        Ok(states)
    }

    /// The keys still [`Delivery::Claimed`] by a claim taken before `before`, and their
    /// state: claims a crash may have abandoned. The dispatcher records those no plan
    /// brings back as outcome unknown (at-most-once), and those whose lease has run out and
    /// whose event is stopped for good (at-least-once), so a message that may have gone is
    /// reported even when its event is never planned again. (Required, so that a store, or
    /// a wrapper around one, cannot drop that promise by leaving it out.)
    async fn abandoned_claims(&self, before: DateTime<Utc>) -> Result<Vec<(EventKey, Delivery)>, StoreError>;

    /// Appends history directly (manual sends).
    async fn append_history(&self, entry: HistoryEntry) -> Result<(), StoreError>;
}

/// The action log: the audit trail of manual and automatic reminders, oldest first.
#[async_trait]
pub trait ActionLog: Send + Sync + 'static {
    /// Appends a line.
    async fn log(&self, entry: LogEntry) -> Result<(), StoreError>;

    /// The lines that pass `filter`, oldest first.
    async fn read_log(&self, filter: &LogFilter) -> Result<Vec<LogEntry>, StoreError>;
}

/// Manual reminder records (the reminders list a person keeps by hand).
#[async_trait]
pub trait ReminderStore: Send + Sync + 'static {
    /// Creates or replaces a manual reminder.
    async fn save_reminder(&self, reminder: &Reminder) -> Result<(), StoreError>;

    /// Every manual reminder.
    async fn reminders(&self) -> Result<Vec<Reminder>, StoreError>;

    /// Deletes a manual reminder; whether it existed.
    async fn delete_reminder(&self, id: &str) -> Result<bool, StoreError>;
}

crate::names::names!(ReminderStatus, "reminder status" {
    Active => "active",
    Paid => "paid",
    Cancelled => "cancelled",
});

crate::names::kinds!(Delivery =>
    /// The kind of a [`Delivery`], without its data: to count keys by state, or to filter them.
    ///
    /// # Example
    /// ```
    /// use dunning::{Delivery, DeliveryKind};
    /// assert_eq!(Delivery::Sent { at: chrono::DateTime::UNIX_EPOCH, message_id: "<1@x>".into() }.kind(), DeliveryKind::Sent);
    /// assert_eq!("sent".parse::<DeliveryKind>().unwrap(), DeliveryKind::Sent);
    /// assert_eq!(DeliveryKind::Sent.to_string(), "sent");
    /// assert!("no_such_kind".parse::<DeliveryKind>().is_err());
    /// ```
    DeliveryKind, "delivery state" {
    Claimed => "claimed",
    Retrying => "retrying",
    Sent => "sent",
    Failed => "failed",
    Unknown => "unknown",
    Skipped => "skipped",
});

crate::names::kinds!(Action =>
    /// The kind of an [`Action`], without its data: to filter the action log by kind.
    ///
    /// # Example
    /// ```
    /// use dunning::{Action, ActionKind};
    /// assert_eq!(Action::Created.kind(), ActionKind::Created);
    /// assert_eq!("sent".parse::<ActionKind>().unwrap(), ActionKind::Sent);
    /// assert_eq!(ActionKind::Sent.to_string(), "sent");
    /// assert!("no_such_kind".parse::<ActionKind>().is_err());
    /// ```
    ActionKind, "action" {
    Created => "created",
    Edited => "edited",
    StatusChanged => "status_changed",
    Planned => "planned",
    Sent => "sent",
    Failed => "failed",
    Skipped => "skipped",
    OutcomeUnknown => "outcome_unknown",
    Released => "released",
    Archived => "archived",
    Deleted => "deleted",
});
