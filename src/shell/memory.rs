//! In-memory reference implementations: a [`Store`](crate::Store) and a [`Mailer`] for tests and hosts.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::mailer::{MailError, Mailer, Receipt};
use crate::message::Message;
use crate::model::client::Client;
use crate::model::history::HistoryEntry;
use crate::model::id::EventKey;
use crate::model::item::Item;
use crate::store::{
    ActionLog, Claim, Delivery, DispatchStore, LogEntry, LogFilter, Reminder, ReminderStore, Snapshot,
    StoreError,
};

#[derive(Debug, Default)]
struct State {
    snapshot: Snapshot,
    deliveries: HashMap<EventKey, Delivery>,
    log: Vec<LogEntry>,
    reminders: BTreeMap<String, Reminder>,
}

/// A [`Store`](crate::Store) in memory, behind one lock (so claims are atomic).
///
/// # Example
/// ```
/// use dunning::MemoryStore;
/// let store = MemoryStore::new(vec![], vec![]);
/// assert!(store.snapshot().history.is_empty());
/// ```
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    state: Arc<Mutex<State>>,
}

impl MemoryStore {
    /// A store holding `clients` and `items`, with no history.
    #[must_use]
    pub fn new(clients: Vec<Client>, items: Vec<Item>) -> Self {
        let store = Self::default();
        {
            let mut s = store.lock();
            s.snapshot.clients = clients;
            s.snapshot.items = items;
        }
        store
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A copy of the planner's inputs.
    #[must_use]
    pub fn snapshot(&self) -> Snapshot {
        self.lock().snapshot.clone()
    }

    /// Changes the items (a payment arrives, an invoice is issued).
    pub fn update_items(&self, f: impl FnOnce(&mut Vec<Item>)) {
        f(&mut self.lock().snapshot.items);
    }

    /// Changes the clients.
    pub fn update_clients(&self, f: impl FnOnce(&mut Vec<Client>)) {
        f(&mut self.lock().snapshot.clients);
    }

    /// Every delivery state, by key.
    #[must_use]
    pub fn deliveries(&self) -> Vec<(EventKey, Delivery)> {
        let mut v: Vec<_> = self
            .lock()
            .deliveries
            .iter()
            .map(|(k, d)| (k.clone(), d.clone()))
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }
}

#[async_trait]
impl DispatchStore for MemoryStore {
    async fn load(&self) -> Result<Snapshot, StoreError> {
        Ok(self.snapshot())
    }

    async fn load_client(&self, client: &crate::model::id::ClientId) -> Result<Snapshot, StoreError> {
        let s = self.lock();
        Ok(Snapshot {
            clients: s
                .snapshot
                .clients
                .iter()
                .filter(|c| &c.id == client)
                .cloned()
                .collect(),
            items: s
                .snapshot
                .items
                .iter()
                .filter(|i| &i.client == client)
                .cloned()
                .collect(),
            history: s
                .snapshot
                .history
                .iter()
                .filter(|h| &h.client == client)
                .cloned()
                .collect(),
        })
    }

    async fn claim(
        &self,
        key: &EventKey,
        now: DateTime<Utc>,
        reclaim_after: Option<chrono::Duration>,
    ) -> Result<Claim, StoreError> {
        let mut s = self.lock();
        let attempt = match s.deliveries.get(key) {
            None => 1,
            Some(Delivery::Retrying {
                attempt, not_before, ..
            }) if now >= *not_before => attempt + 1,
            Some(Delivery::Claimed { at, attempt })
                if reclaim_after.is_some_and(|lease| now - *at >= lease) =>
            {
                attempt + 1
            }
            Some(Delivery::Skipped { .. }) => 1,
            Some(other) => return Ok(Claim::Refused(other.clone())),
        };
        s.deliveries
            .insert(key.clone(), Delivery::Claimed { at: now, attempt });
        Ok(Claim::Granted { attempt })
    }

    async fn finish(
        &self,
        key: &EventKey,
        outcome: Delivery,
        sent: Option<HistoryEntry>,
        log: Option<LogEntry>,
    ) -> Result<(), StoreError> {
        let mut s = self.lock();
        if !s.deliveries.contains_key(key) {
            return Err(StoreError::NotFound {
                kind: "claim",
                id: key.to_string(),
            });
        }
        s.snapshot.history.extend(sent);
        s.deliveries.insert(key.clone(), outcome);
        s.log.extend(log);
        Ok(())
    }

    async fn delivery(&self, key: &EventKey) -> Result<Option<Delivery>, StoreError> {
        Ok(self.lock().deliveries.get(key).cloned())
    }

    async fn finish_claimed(
        &self,
        key: &EventKey,
        (claimed_at, attempt): (DateTime<Utc>, u32),
        outcome: Delivery,
        sent: Option<HistoryEntry>,
        log: Option<LogEntry>,
    ) -> Result<(), StoreError> {
        // Checked and recorded under one lock.
        let mut s = self.lock();
        if !s
            .deliveries
            .get(key)
            .is_some_and(|held| held.is_claim(claimed_at, attempt))
        {
            return Err(StoreError::NoLongerClaimed { key: key.to_string() });
        }
        s.snapshot.history.extend(sent);
        s.deliveries.insert(key.clone(), outcome);
        s.log.extend(log);
        Ok(())
    }

    async fn abandoned_claims(&self, before: DateTime<Utc>) -> Result<Vec<(EventKey, Delivery)>, StoreError> {
        let mut found: Vec<(EventKey, Delivery)> = self
            .lock()
            .deliveries
            .iter()
            .filter(|(_, d)| matches!(d, Delivery::Claimed { at, .. } if *at < before))
            .map(|(k, d)| (k.clone(), d.clone()))
            .collect();
        found.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(found)
    }

    async fn append_history(&self, entry: HistoryEntry) -> Result<(), StoreError> {
        self.lock().snapshot.history.push(entry);
        Ok(())
    }
}

#[async_trait]
impl ActionLog for MemoryStore {
    async fn log(&self, entry: LogEntry) -> Result<(), StoreError> {
        self.lock().log.push(entry);
        Ok(())
    }

    async fn read_log(&self, filter: &LogFilter) -> Result<Vec<LogEntry>, StoreError> {
        Ok(self
            .lock()
            .log
            .iter()
            .filter(|e| filter.matches(e))
            .cloned()
            .collect())
    }
}

#[async_trait]
impl ReminderStore for MemoryStore {
    async fn save_reminder(&self, reminder: &Reminder) -> Result<(), StoreError> {
        self.lock()
            .reminders
            .insert(reminder.id.clone(), reminder.clone());
        Ok(())
    }

    async fn reminders(&self) -> Result<Vec<Reminder>, StoreError> {
        Ok(self.lock().reminders.values().cloned().collect())
    }

    async fn delete_reminder(&self, id: &str) -> Result<bool, StoreError> {
        Ok(self.lock().reminders.remove(id).is_some())
    }
}

/// What a [`RecordingMailer`] does with a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Behaviour {
    /// Accept it.
    #[default]
    Accept,
    /// Fail with a transient error.
    FailTransient,
    /// Fail with a permanent error.
    FailPermanent,
    /// Never answer.
    Hang,
    /// Take the message (it is kept as sent), then never answer: a transport that stalls
    /// after handing the message over.
    AcceptThenHang,
}

type Script = dyn Fn(&Message, usize) -> Behaviour + Send + Sync;

/// A [`Mailer`] that keeps what it accepts and fails when told to.
///
/// # Example
/// ```
/// use dunning::{Behaviour, RecordingMailer};
/// let mailer = RecordingMailer::new().with_script(|_, n| if n % 5 == 0 { Behaviour::FailTransient } else { Behaviour::Accept });
/// assert!(mailer.sent().is_empty());
/// ```
#[derive(Clone, Default)]
pub struct RecordingMailer {
    sent: Arc<Mutex<Vec<Message>>>,
    calls: Arc<Mutex<usize>>,
    script: Option<Arc<Script>>,
}

impl std::fmt::Debug for RecordingMailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordingMailer")
            .field("sent", &self.sent().len())
            .finish()
    }
}

impl RecordingMailer {
    /// A mailer that accepts everything.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The same mailer deciding each call with `script(message, call_number)` (0-based).
    #[must_use]
    pub fn with_script(
        mut self,
        script: impl Fn(&Message, usize) -> Behaviour + Send + Sync + 'static,
    ) -> Self {
        self.script = Some(Arc::new(script));
        self
    }

    /// The same mailer doing `behaviour` every time.
    #[must_use]
    pub fn always(self, behaviour: Behaviour) -> Self {
        self.with_script(move |_, _| behaviour)
    }

    /// The messages accepted, in order.
    #[must_use]
    pub fn sent(&self) -> Vec<Message> {
        self.sent.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// How many sends were attempted.
    #[must_use]
    pub fn calls(&self) -> usize {
        *self.calls.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[async_trait]
impl Mailer for RecordingMailer {
    async fn send(&self, message: &Message) -> Result<Receipt, MailError> {
        let n = {
            let mut calls = self.calls.lock().unwrap_or_else(PoisonError::into_inner);
            *calls += 1;
            *calls - 1
        };
        match self.script.as_ref().map_or(Behaviour::Accept, |s| s(message, n)) {
            Behaviour::Accept => {
                self.sent
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(message.clone());
                Ok(Receipt {
                    message_id: format!("<{}.{n}@dunning.test>", message.key),
                })
            }
            Behaviour::FailTransient => Err(MailError::Transient(format!("451 try again later (call {n})"))),
            Behaviour::FailPermanent => Err(MailError::Permanent(format!(
                "550 mailbox unavailable (call {n})"
            ))),
            Behaviour::Hang => std::future::pending().await,
            Behaviour::AcceptThenHang => {
                self.sent
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(message.clone());
                std::future::pending().await
            }
        }
    }
}
