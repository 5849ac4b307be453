//! One tick of the shell: load, plan at `now`, claim what is due, render, send, record.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::future::{Either, select};
use futures_util::stream::{self, StreamExt};
use serde::{Deserialize, Serialize};

use crate::clock::Clock;
use crate::error::ValidationError;
use crate::mailer::{MailError, Mailer};
use crate::message::{MessageError, Messages, RenderOptions};
use crate::model::client::Client;
use crate::model::history::{HistoryEntry, HistoryOutcome};
use crate::model::id::{EventKey, ItemId, RuleId};
use crate::plan::{Event, Horizon, Planner, SuppressReason};
use crate::policy::Policy;
use crate::store::{Action, Claim, Delivery, LogEntry, Store, StoreError};

/// What to do with a claim that has no recorded outcome (a crash between send and record).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Guarantee {
    /// Never send twice: report the key as "outcome unknown" and leave it to the host.
    #[default]
    AtMostOnce,
    /// Never lose a message: send again once the claim is older than the lease (seconds).
    AtLeastOnce {
        /// Seconds after which an unrecorded claim is taken again.
        lease_secs: u64,
    },
}

/// How a dispatcher works.
///
/// # Example
/// ```
/// use dunning::DispatchOptions;
/// let opts = DispatchOptions::default().with_concurrency(8).with_per_tick_limit(1000);
/// assert_eq!(opts.concurrency, 8);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DispatchOptions {
    /// Sends in flight at once.
    pub concurrency: usize,
    /// At most this many sends per tick; the rest wait for the next (a backlog drains in
    /// steady batches).
    pub per_tick_limit: usize,
    /// A send that takes longer fails transiently.
    pub send_timeout: Duration,
    /// Attempts before a transient failure is given up.
    pub max_attempts: u32,
    /// Wait before the second attempt; doubled for each further one.
    pub backoff: Duration,
    /// At-most-once or at-least-once.
    pub guarantee: Guarantee,
}

impl Default for DispatchOptions {
    fn default() -> Self {
        Self {
            concurrency: 4,
            per_tick_limit: 500,
            send_timeout: Duration::from_secs(30),
            max_attempts: 5,
            backoff: Duration::from_secs(60),
            guarantee: Guarantee::AtMostOnce,
        }
    }
}

impl DispatchOptions {
    /// Sets the concurrency (at least 1).
    #[must_use]
    pub fn with_concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// Sets the per-tick limit.
    #[must_use]
    pub fn with_per_tick_limit(mut self, n: usize) -> Self {
        self.per_tick_limit = n;
        self
    }

    /// Sets the send timeout.
    #[must_use]
    pub fn with_send_timeout(mut self, timeout: Duration) -> Self {
        self.send_timeout = timeout;
        self
    }

    /// Sets the attempts and the first backoff.
    #[must_use]
    pub fn with_retries(mut self, max_attempts: u32, backoff: Duration) -> Self {
        self.max_attempts = max_attempts.max(1);
        self.backoff = backoff;
        self
    }

    /// Sets the guarantee.
    #[must_use]
    pub fn with_guarantee(mut self, guarantee: Guarantee) -> Self {
        self.guarantee = guarantee;
        self
    }
}

/// Why a due event was not sent this tick.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Skip {
    /// Already sent (another dispatcher, or a record the plan has not seen).
    AlreadySent,
    /// Another dispatcher holds it right now, or a crash left it unrecorded
    /// (see [`TickReport::unknown`]).
    Claimed,
    /// A retry is scheduled for later.
    RetryLater {
        /// When.
        not_before: DateTime<Utc>,
    },
    /// It failed for good earlier.
    FailedEarlier {
        /// The error.
        error: String,
    },
    /// Its outcome is unknown since then (at-most-once): it is not sent again unless
    /// released ([`Dispatcher::release`]).
    OutcomeUnknown {
        /// When the outcome was found unknown.
        at: DateTime<Utc>,
    },
    /// Over the per-tick limit: next tick.
    OverLimit,
    /// Planned again after its claim, from what the store holds now, it was no longer due:
    /// its item was paid, cancelled or paused meanwhile (the reason), or it is gone.
    NoLongerDue {
        /// Why, when the plan says (none: the event is no longer planned at all).
        reason: Option<SuppressReason>,
    },
}

/// What one tick did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TickReport {
    /// When it ran.
    pub now: Option<DateTime<Utc>>,
    /// Sent: key and message id.
    pub sent: Vec<(EventKey, String)>,
    /// Not sent now, and why.
    pub skipped: Vec<(EventKey, Skip)>,
    /// Failed transiently and scheduled again: key, attempt, error.
    pub retried: Vec<(EventKey, u32, String)>,
    /// Failed for good: key and error.
    pub failed: Vec<(EventKey, String)>,
    /// Claimed earlier with no outcome recorded: the message may have gone; the host decides.
    pub unknown: Vec<EventKey>,
}

/// A dispatcher failure (the tick could not run, or could not record).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DispatchError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The inputs are invalid.
    #[error(transparent)]
    Input(#[from] ValidationError),
    /// A message could not be built.
    #[error(transparent)]
    Message(#[from] MessageError),
    /// The mailer refused a manual send.
    #[error(transparent)]
    Mail(#[from] MailError),
}

/// Sends what the plan says is due, exactly once, through a [`Store`] and a [`Mailer`].
///
/// # Example
/// ```
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use std::sync::Arc;
/// use dunning::*;
/// let policy = Policy::default().with_rule(Rule::new("overdue".parse()?, Anchor::Due, 0));
/// let store = Arc::new(MemoryStore::new(vec![], vec![]));
/// let mailer = Arc::new(RecordingMailer::new());
/// let dispatcher = Dispatcher::new(store, mailer, &policy)?;
/// let report = dispatcher.tick(SystemClock.now()).await?;
/// assert!(report.sent.is_empty());
/// # Ok(()) }
/// ```
pub struct Dispatcher {
    store: Arc<dyn Store>,
    mailer: Arc<dyn Mailer>,
    planner: Planner,
    messages: Messages,
    clock: Arc<dyn Clock>,
    options: DispatchOptions,
}

impl std::fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dispatcher")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

enum Outcome {
    Sent(EventKey, String),
    Skipped(EventKey, Skip),
    Retried(EventKey, u32, String),
    Failed(EventKey, String),
    Unknown(EventKey),
}

impl Dispatcher {
    /// A dispatcher for `policy` (validated, templates compiled) on the system clock.
    ///
    /// # Errors
    /// The policy's or its templates' first problem.
    pub fn new(
        store: Arc<dyn Store>,
        mailer: Arc<dyn Mailer>,
        policy: &Policy,
    ) -> Result<Self, DispatchError> {
        Ok(Self {
            store,
            mailer,
            planner: Planner::new(policy)?,
            messages: Messages::new(policy)?,
            clock: Arc::new(crate::clock::SystemClock),
            options: DispatchOptions::default(),
        })
    }

    /// The same dispatcher on another clock (for sleeps and manual sends).
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The same dispatcher with other options.
    #[must_use]
    pub fn with_options(mut self, options: DispatchOptions) -> Self {
        self.options = options;
        self
    }

    /// The planner in use.
    #[must_use]
    pub fn planner(&self) -> &Planner {
        &self.planner
    }

    /// The store in use.
    #[must_use]
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub(crate) fn clock_now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub(crate) async fn mailer_send(
        &self,
        message: &crate::message::Message,
    ) -> Result<String, DispatchError> {
        Ok(self.mailer.send(message).await?.message_id)
    }

    /// One tick at `now`: load, plan, claim what is due, render, send, record.
    ///
    /// # Errors
    /// When the store cannot load or the inputs are invalid. Failures of single sends are in
    /// the report, not errors.
    pub async fn tick(&self, now: DateTime<Utc>) -> Result<TickReport, DispatchError> {
        let snapshot = self.store.load().await?;
        // Planned in place; only the events sent now are made owned.
        let schedule = self.planner.schedule(
            &snapshot.clients,
            &snapshot.items,
            &snapshot.history,
            now,
            Horizon::NONE,
        )?;
        let mut report = TickReport {
            now: Some(now),
            ..TickReport::default()
        };
        let limit = self.options.per_tick_limit;
        for e in schedule.due().skip(limit) {
            report.skipped.push((e.key(), Skip::OverLimit));
        }
        let due: Vec<Event> = schedule.due().take(limit).map(|e| e.to_event()).collect();
        // The futures are built first, then driven a few at a time (building them inside the
        // stream's closure would make the tick's future not `Send`).
        let deliveries: Vec<_> = due.iter().map(|e| self.deliver(e, now)).collect();
        let outcomes: Vec<Result<Outcome, DispatchError>> = stream::iter(deliveries)
            .buffer_unordered(self.options.concurrency.max(1))
            .collect()
            .await;
        for o in outcomes {
            match o? {
                Outcome::Sent(k, id) => report.sent.push((k, id)),
                Outcome::Skipped(k, s) => report.skipped.push((k, s)),
                Outcome::Retried(k, a, e) => report.retried.push((k, a, e)),
                Outcome::Failed(k, e) => report.failed.push((k, e)),
                Outcome::Unknown(k) => report.unknown.push(k),
            }
        }
        report.sent.sort();
        report.skipped.sort_by(|a, b| a.0.cmp(&b.0));
        report.retried.sort();
        report.failed.sort();
        report.unknown.sort();
        Ok(report)
    }

    fn log_entry(event: &Event, at: DateTime<Utc>, action: Action) -> LogEntry {
        LogEntry {
            at,
            client: event.client.clone(),
            item: event.items.first().map(|i| i.item.clone()),
            key: Some(event.key.to_string()),
            action,
        }
    }

    async fn deliver(&self, event: &Event, now: DateTime<Utc>) -> Result<Outcome, DispatchError> {
        let key = event.key.clone();
        // A lease longer than chrono's durations never runs out: never reclaimed.
        let lease = match self.options.guarantee {
            Guarantee::AtMostOnce => None,
            Guarantee::AtLeastOnce { lease_secs } => i64::try_from(lease_secs)
                .ok()
                .and_then(chrono::Duration::try_seconds),
        };
        let attempt = match self.store.claim(&key, now, lease).await? {
            Claim::Granted { attempt } => attempt,
            Claim::Refused(state) => {
                return Ok(match state {
                    Delivery::Sent { .. } => Outcome::Skipped(key, Skip::AlreadySent),
                    Delivery::Retrying { not_before, .. } => {
                        Outcome::Skipped(key, Skip::RetryLater { not_before })
                    }
                    Delivery::Failed { error, .. } => Outcome::Skipped(key, Skip::FailedEarlier { error }),
                    Delivery::Unknown { at, .. } => Outcome::Skipped(key, Skip::OutcomeUnknown { at }),
                    Delivery::Claimed { at, attempt } => {
                        // Held by another dispatcher right now, or never recorded (a crash):
                        // a claim older than two send timeouts has no one working on it.
                        // Under at-most-once the message may have gone: recorded as outcome
                        // unknown, once (at-least-once takes it again after its lease).
                        let in_flight =
                            chrono::Duration::from_std(self.options.send_timeout.saturating_mul(2))
                                .unwrap_or(chrono::Duration::MAX);
                        if self.options.guarantee == Guarantee::AtMostOnce && now - at > in_flight {
                            let error = format!("claimed at {at} and never recorded");
                            self.unknown(event, now, attempt, error).await?;
                            Outcome::Unknown(key)
                        } else {
                            Outcome::Skipped(key, Skip::Claimed)
                        }
                    }
                    Delivery::Skipped { .. } => Outcome::Skipped(key, Skip::Claimed),
                });
            }
        };
        // A notice grouped across items also takes each item occurrence it covers, so that
        // no other notice (grouped otherwise by a dispatcher that loaded earlier) sends one of
        // them too. If one is taken, nothing is sent: the next tick groups what is left.
        let members = event.covered_keys();
        for (i, m) in members.iter().enumerate().filter(|(_, m)| **m != key) {
            if let Claim::Refused(_) = self.store.claim(m, now, lease).await? {
                let skipped = Delivery::Skipped {
                    at: now,
                    reason: format!("{m} is taken by another notice"),
                };
                for k in members[..i].iter().filter(|k| **k != key) {
                    self.store.finish(k, skipped.clone(), None, None).await?;
                }
                self.store.finish(&key, skipped, None, None).await?;
                return Ok(Outcome::Skipped(key, Skip::Claimed));
            }
        }
        // Planned again from what the store holds now: a payment (or a stop) recorded since
        // the tick loaded is seen before anything goes out.
        let fresh = match self.recheck(event, now).await {
            Ok(Ok(fresh)) => fresh,
            Ok(Err((reason, text))) => {
                let skipped = Delivery::Skipped {
                    at: now,
                    reason: text.clone(),
                };
                let log = Self::log_entry(event, now, Action::Skipped { reason: text });
                self.finish(event, skipped, None, Some(log)).await?;
                return Ok(Outcome::Skipped(key, Skip::NoLongerDue { reason }));
            }
            Err(e) => {
                // Not known to be still due: not sent; claimable again at the next tick.
                let skipped = Delivery::Skipped {
                    at: now,
                    reason: format!("re-reading before the send failed: {e}"),
                };
                self.finish(event, skipped, None, None).await?;
                return Err(e);
            }
        };
        let (event, client) = (&fresh.0, &fresh.1);
        // Day counts as of the day it goes (a caught-up send keeps the day it was meant for).
        let options = RenderOptions::default().with_sent_on(event.time_zone.local_date(now));
        let message = match self.messages.render(event, client, &options) {
            Ok(m) => m,
            Err(e) => {
                let error = e.to_string();
                self.fail(event, now, attempt, error.clone(), false).await?;
                return Ok(Outcome::Failed(key, error));
            }
        };
        let send = self.mailer.send(&message);
        let timeout = self.clock.sleep(self.options.send_timeout);
        let result = match select(send, timeout).await {
            Either::Left((r, _)) => r,
            Either::Right(_) => Err(MailError::Timeout(self.options.send_timeout.as_secs())),
        };
        match result {
            Ok(receipt) => {
                let entry: HistoryEntry = event.to_history(now);
                let to = message.to.iter().map(|m| m.email.clone()).collect();
                let action = Action::Sent {
                    rule: Some(event.rule.clone()),
                    to,
                    message_id: receipt.message_id.clone(),
                };
                self.finish(
                    event,
                    Delivery::Sent {
                        at: now,
                        message_id: receipt.message_id.clone(),
                    },
                    Some(entry),
                    Some(Self::log_entry(event, now, action)),
                )
                .await?;
                Ok(Outcome::Sent(key, receipt.message_id))
            }
            // The message may have gone: under at-most-once never sent again.
            Err(e) if e.is_ambiguous() && self.options.guarantee == Guarantee::AtMostOnce => {
                self.unknown(event, now, attempt, e.to_string()).await?;
                Ok(Outcome::Unknown(key))
            }
            Err(e) => {
                let retry = e.is_transient() && attempt < self.options.max_attempts;
                let error = e.to_string();
                self.fail(event, now, attempt, error.clone(), retry).await?;
                Ok(if retry {
                    Outcome::Retried(key, attempt, error)
                } else {
                    Outcome::Failed(key, error)
                })
            }
        }
    }

    /// The claimed event planned again from the store's current data for its client: the
    /// fresh event (amounts may have changed) and client, or why it is no longer due.
    async fn recheck(
        &self,
        event: &Event,
        now: DateTime<Utc>,
    ) -> Result<Result<(Event, Client), (Option<SuppressReason>, String)>, DispatchError> {
        let fresh = self.store.load_client(&event.client).await?;
        let schedule =
            self.planner
                .schedule(&fresh.clients, &fresh.items, &fresh.history, now, Horizon::NONE)?;
        if let Some(e) = schedule.due().find(|e| e.key() == event.key) {
            return Ok(Ok((e.to_event(), e.client().clone())));
        }
        let why = schedule.suppressed().find(|s| s.key() == event.key).or_else(|| {
            // A grouped notice whose items changed: why its first item is not reminded.
            let first = event.items.first()?;
            schedule
                .suppressed()
                .find(|s| s.item().is_some_and(|i| i.id == first.item) && s.rule() == &event.rule)
        });
        Ok(Err(why.map_or_else(
            || (None, "no longer planned (its item or client is gone)".to_owned()),
            |s| (Some(s.reason()), format!("no longer due: {}", s.explain())),
        )))
    }

    /// Records a send whose outcome is unknown, once: its delivery, a history entry that
    /// says so (the planner explains the key instead of planning it again) and the log line.
    async fn unknown(
        &self,
        event: &Event,
        now: DateTime<Utc>,
        attempt: u32,
        error: String,
    ) -> Result<(), DispatchError> {
        let entry = event.to_history(now).with_outcome(HistoryOutcome::OutcomeUnknown);
        self.finish(
            event,
            Delivery::Unknown {
                at: now,
                attempt,
                error,
            },
            Some(entry),
            Some(Self::log_entry(event, now, Action::OutcomeUnknown)),
        )
        .await
    }

    /// Records the outcome of an event's claim ([`Store::finish`]), and the same outcome
    /// for the item occurrences a grouped notice also claimed (those never claimed, as after
    /// a crash before their claims, are passed over).
    async fn finish(
        &self,
        event: &Event,
        outcome: Delivery,
        history: Option<HistoryEntry>,
        log: Option<LogEntry>,
    ) -> Result<(), DispatchError> {
        self.store
            .finish(&event.key, outcome.clone(), history, log)
            .await?;
        for m in event.covered_keys().iter().filter(|m| **m != event.key) {
            match self.store.finish(m, outcome.clone(), None, None).await {
                Ok(()) | Err(StoreError::NotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// Releases a key that failed for good or whose outcome is unknown, for one more try:
    /// the next tick plans it again if it is still due (a later stage of its item may
    /// supersede it). Recorded in history and in the log ([`Action::Released`]). For a
    /// host that fixed the cause (a bounced address corrected, a send found not to have
    /// gone).
    ///
    /// # Errors
    /// When the store fails.
    ///
    /// # Example
    /// ```
    /// # async fn demo(dispatcher: &dunning::Dispatcher) -> Result<(), dunning::DispatchError> {
    /// let released = dispatcher.release(&"overdue/F-1/1".into()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn release(&self, key: &EventKey) -> Result<bool, DispatchError> {
        let now = self.clock_now();
        let attempt = match self.store.delivery(key).await? {
            Some(Delivery::Failed { attempt, .. } | Delivery::Unknown { attempt, .. }) => attempt,
            _ => return Ok(false),
        };
        let snapshot = self.store.load().await?;
        let recorded = snapshot
            .history
            .iter()
            .filter(|h| &h.key == key && !h.outcome.is_sent() && h.outcome != HistoryOutcome::Released)
            .max_by_key(|h| h.sent_at);
        let entry = recorded.map(|h| HistoryEntry {
            sent_at: now.max(h.sent_at),
            outcome: HistoryOutcome::Released,
            ..h.clone()
        });
        let log = entry.as_ref().map(|h| LogEntry {
            at: now,
            client: h.client.clone(),
            item: h.items.first().map(|i| i.item.clone()),
            key: Some(key.to_string()),
            action: Action::Released,
        });
        // Claimable at the next tick, whatever its instant.
        let retry = Delivery::Retrying {
            attempt,
            not_before: DateTime::<Utc>::MIN_UTC,
            error: "released by the host".into(),
        };
        self.store.finish(key, retry, entry, log).await?;
        Ok(true)
    }

    async fn fail(
        &self,
        event: &Event,
        now: DateTime<Utc>,
        attempt: u32,
        error: String,
        retry: bool,
    ) -> Result<(), DispatchError> {
        let history = (!retry).then(|| {
            event
                .to_history(now)
                .with_outcome(HistoryOutcome::Failed { error: error.clone() })
        });
        let outcome = if retry {
            let factor = 1u32.checked_shl(attempt.saturating_sub(1)).unwrap_or(u32::MAX);
            let wait = self.options.backoff.saturating_mul(factor);
            let not_before = chrono::Duration::from_std(wait)
                .ok()
                .and_then(|w| now.checked_add_signed(w))
                .unwrap_or(DateTime::<Utc>::MAX_UTC);
            Delivery::Retrying {
                attempt,
                not_before,
                error: error.clone(),
            }
        } else {
            Delivery::Failed {
                at: now,
                attempt,
                error: error.clone(),
            }
        };
        let log = Self::log_entry(
            event,
            now,
            Action::Failed {
                error,
                attempt,
                retry,
            },
        );
        self.finish(event, outcome, history, Some(log)).await?;
        Ok(())
    }

    /// Re-sends the message of `rule` about `item` now, whatever the schedule (seed 003's
    /// "Reenviar"): recorded as a manual send, so it spaces the next automatic reminder and
    /// does not use up the rule's count.
    ///
    /// # Errors
    /// An unknown item, client or rule, a message that cannot be built, or the mailer's error.
    pub async fn resend(&self, item: &ItemId, rule: &RuleId) -> Result<String, DispatchError> {
        let now = self.clock_now();
        let snapshot = self.store.load().await?;
        let it = snapshot
            .items
            .iter()
            .find(|i| &i.id == item)
            .ok_or_else(|| StoreError::NotFound {
                kind: "item",
                id: item.to_string(),
            })?;
        let client = snapshot
            .clients
            .iter()
            .find(|c| c.id == it.client)
            .ok_or_else(|| StoreError::NotFound {
                kind: "client",
                id: it.client.to_string(),
            })?;
        let event = self.planner.preview(rule, client, it, now)?;
        let message = self.messages.render(&event, client, &RenderOptions::default())?;
        let receipt = self.mailer.send(&message).await?;
        let entry = HistoryEntry::manual(client.id.clone(), it.id.clone(), now);
        let key = entry.key.to_string();
        self.store.append_history(entry).await?;
        self.store
            .log(LogEntry {
                at: now,
                client: client.id.clone(),
                item: Some(it.id.clone()),
                key: Some(key),
                action: Action::Sent {
                    rule: None,
                    to: message.to.iter().map(|m| m.email.clone()).collect(),
                    message_id: receipt.message_id.clone(),
                },
            })
            .await?;
        Ok(receipt.message_id)
    }
}
