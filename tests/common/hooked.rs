//! A store for tests: a [`MemoryStore`] behind hooks that change what a few of its calls do
//! (a crash before recording, a payment landing after a claim, a stale read, a slow load).

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use dunning::*;

/// What a [`Hooked`] store does on the calls a test changes; each defaults to the memory
/// store's own.
#[async_trait]
pub trait Hooks: Send + Sync + 'static {
    async fn load(&self, inner: &MemoryStore) -> Result<Snapshot, StoreError> {
        inner.load().await
    }
    /// One shard's part: by default the hooked `load`, filtered, as the trait's default.
    async fn load_shard(&self, inner: &MemoryStore, shard: Shard) -> Result<Snapshot, StoreError> {
        let mut all = self.load(inner).await?;
        if !shard.is_all() {
            all.clients.retain(|c| shard.contains(&c.id));
            all.items.retain(|i| shard.contains(&i.client));
            all.history.retain(|h| shard.contains(&h.client));
        }
        Ok(all)
    }
    async fn load_client(&self, inner: &MemoryStore, client: &ClientId) -> Result<Snapshot, StoreError> {
        inner.load_client(client).await
    }
    async fn claim(
        &self,
        inner: &MemoryStore,
        key: &EventKey,
        now: DateTime<Utc>,
        lease: Option<Duration>,
    ) -> Result<Claim, StoreError> {
        inner.claim(key, now, lease).await
    }
    async fn finish(
        &self,
        inner: &MemoryStore,
        key: &EventKey,
        outcome: Delivery,
        sent: Option<HistoryEntry>,
        log: Option<LogEntry>,
    ) -> Result<(), StoreError> {
        inner.finish(key, outcome, sent, log).await
    }
    async fn delivery(&self, inner: &MemoryStore, key: &EventKey) -> Result<Option<Delivery>, StoreError> {
        inner.delivery(key).await
    }
}

/// A memory store whose loads, claims and outcomes go through `hooks`.
pub struct Hooked<H> {
    pub inner: Arc<MemoryStore>,
    pub hooks: H,
}

impl<H: Hooks> Hooked<H> {
    pub fn new(inner: Arc<MemoryStore>, hooks: H) -> Arc<Self> {
        Arc::new(Self { inner, hooks })
    }
}

#[async_trait]
impl<H: Hooks> DispatchStore for Hooked<H> {
    async fn load(&self) -> Result<Snapshot, StoreError> {
        self.hooks.load(&self.inner).await
    }
    async fn load_shard(&self, shard: Shard) -> Result<Snapshot, StoreError> {
        self.hooks.load_shard(&self.inner, shard).await
    }
    async fn load_client(&self, client: &ClientId) -> Result<Snapshot, StoreError> {
        self.hooks.load_client(&self.inner, client).await
    }
    async fn claim(
        &self,
        key: &EventKey,
        now: DateTime<Utc>,
        lease: Option<Duration>,
    ) -> Result<Claim, StoreError> {
        self.hooks.claim(&self.inner, key, now, lease).await
    }
    async fn finish(
        &self,
        key: &EventKey,
        outcome: Delivery,
        sent: Option<HistoryEntry>,
        log: Option<LogEntry>,
    ) -> Result<(), StoreError> {
        self.hooks.finish(&self.inner, key, outcome, sent, log).await
    }
    async fn delivery(&self, key: &EventKey) -> Result<Option<Delivery>, StoreError> {
        self.hooks.delivery(&self.inner, key).await
    }
    async fn abandoned_claims(&self, before: DateTime<Utc>) -> Result<Vec<(EventKey, Delivery)>, StoreError> {
        self.inner.abandoned_claims(before).await
    }
    async fn append_history(&self, entry: HistoryEntry) -> Result<(), StoreError> {
        self.inner.append_history(entry).await
    }
}

#[async_trait]
impl<H: Hooks> ActionLog for Hooked<H> {
    async fn log(&self, entry: LogEntry) -> Result<(), StoreError> {
        self.inner.log(entry).await
    }
    async fn read_log(&self, filter: &LogFilter) -> Result<Vec<LogEntry>, StoreError> {
        self.inner.read_log(filter).await
    }
}

#[async_trait]
impl<H: Hooks> ReminderStore for Hooked<H> {
    async fn save_reminder(&self, r: &Reminder) -> Result<(), StoreError> {
        self.inner.save_reminder(r).await
    }
    async fn reminders(&self) -> Result<Vec<Reminder>, StoreError> {
        self.inner.reminders().await
    }
    async fn delete_reminder(&self, id: &str) -> Result<bool, StoreError> {
        self.inner.delete_reminder(id).await
    }
}
