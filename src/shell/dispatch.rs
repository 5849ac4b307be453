//! One tick of the shell: load, plan at `now`, claim what is due, render, send, record.

mod batching;

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
use crate::model::id::{ClientId, EventKey, RuleId};
use crate::model::item::Item;
use crate::plan::{Event, Horizon, Planner, Stage, SuppressReason, Suppressed};
use crate::policy::Policy;
use crate::shard::Shard;
use crate::store::{Action, Claim, Delivery, Finish, LogEntry, Snapshot, Store, StoreError};
use batching::Batcher;

/// What to do with a claim that has no recorded outcome (a crash between send and record).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Guarantee {
    /// Never send twice: report the key as "outcome unknown" and leave it to the host.
    #[default]
    AtMostOnce,
    /// Never lose a message: send again once the claim is older than the lease (seconds).
    /// A claim a crash left whose reminder is stopped for good by the time its lease runs
    /// out (the invoice paid, cancelled; a later stage gone instead) is not sent again: it is
    /// recorded as outcome unknown (it may have gone) and reported once.
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
    /// The clients this dispatcher loads, plans, claims and sends for: [`Shard::ALL`], or
    /// one shard of several when workers share a store.
    pub shard: Shard,
    /// How far the clocks of the dispatchers sharing a store may disagree. Another
    /// dispatcher's claim is taken for abandoned (at-most-once) or its lease for run out
    /// (at-least-once) only this much later than this dispatcher's own clock says, so a
    /// dispatcher whose clock runs ahead never takes a key another is still sending. Zero by
    /// default (one dispatcher, or clocks kept in step by NTP to within milliseconds); set
    /// it to the worst disagreement the hosts' clocks may reach.
    pub max_clock_skew: Duration,
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
            shard: Shard::ALL,
            max_clock_skew: Duration::ZERO,
        }
    }
}

impl DispatchOptions {
    /// Checks that the options hold together: an at-least-once lease must outlast a send and
    /// what comes before it (three times the send timeout: the send, its record, and the
    /// re-read between claim and send), or a second dispatcher would take a key again, and
    /// send it twice, while the first is still sending it, or no send would ever start.
    ///
    /// A clock skew above a day is refused too (a host whose clock is that far off is
    /// broken, and would keep another's crashed claims from ever being found). A lease past
    /// what a duration can count (about 292 million years) never runs out: claims are never
    /// taken again, nor swept.
    ///
    /// # Errors
    /// [`ValidationError::LeaseTooShort`]; [`ValidationError::OutOfRange`] naming
    /// `max_clock_skew`.
    ///
    /// # Example
    /// ```
    /// use std::time::Duration;
    /// use dunning::{DispatchOptions, Guarantee};
    /// let opts = DispatchOptions::default().with_send_timeout(Duration::from_secs(30));
    /// assert!(opts.clone().with_guarantee(Guarantee::AtLeastOnce { lease_secs: 600 }).validate().is_ok());
    /// assert!(opts.with_guarantee(Guarantee::AtLeastOnce { lease_secs: 60 }).validate().is_err());
    /// ```
    pub fn validate(&self) -> Result<(), ValidationError> {
        if self.max_clock_skew > Duration::from_secs(24 * 3600) {
            return Err(ValidationError::OutOfRange {
                field: "max_clock_skew",
                value: format!("{:?}", self.max_clock_skew),
            });
        }
        if let Guarantee::AtLeastOnce { lease_secs } = self.guarantee {
            // A send takes at most one timeout, recording it at most another, and what comes
            // between the claim and the send (re-reading the client, checking the claim) at
            // most a third: a lease of two timeouts would leave no room to send at all.
            let min = self.send_timeout.saturating_mul(3);
            if Duration::from_secs(lease_secs) < min {
                let min_secs = min.as_secs() + u64::from(min.subsec_nanos() > 0);
                return Err(ValidationError::LeaseTooShort { lease_secs, min_secs });
            }
        }
        Ok(())
    }

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

    /// Sets the shard: the dispatcher then loads ([`DispatchStore::load_shard`](crate::store::DispatchStore::load_shard)), plans,
    /// claims and sends only the shard's clients. Workers sharing one store each take one
    /// shard of the same count; together they send what one dispatcher would.
    ///
    /// # Example
    /// ```
    /// use dunning::{DispatchOptions, Shard};
    /// let opts = DispatchOptions::default().with_shard(Shard::new(1, 4)?);
    /// assert_eq!(opts.shard.to_string(), "1/4");
    /// # Ok::<(), dunning::ValidationError>(())
    /// ```
    #[must_use]
    pub fn with_shard(mut self, shard: Shard) -> Self {
        self.shard = shard;
        self
    }

    /// Sets how far the clocks of the dispatchers sharing a store may disagree
    /// ([`DispatchOptions::max_clock_skew`]).
    ///
    /// # Example
    /// ```
    /// use std::time::Duration;
    /// use dunning::DispatchOptions;
    /// let opts = DispatchOptions::default().with_max_clock_skew(Duration::from_secs(2));
    /// assert_eq!(opts.max_clock_skew, Duration::from_secs(2));
    /// ```
    #[must_use]
    pub fn with_max_clock_skew(mut self, skew: Duration) -> Self {
        self.max_clock_skew = skew;
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

/// What happened to one due event in a tick.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
#[non_exhaustive]
pub enum SendOutcome {
    /// The message went out.
    Sent {
        /// The mailer's message id.
        message_id: String,
    },
    /// Not sent now ([`Skip`] says why).
    Skipped {
        /// Why.
        skip: Skip,
    },
    /// Failed transiently; tried again from `not_before`.
    Retrying {
        /// The error.
        error: String,
        /// The earliest next attempt.
        not_before: DateTime<Utc>,
    },
    /// Failed for good (recorded: reported once, explained by later plans).
    Failed {
        /// The error.
        error: String,
    },
    /// It may or may not have gone (at-most-once: recorded, never retried unless released).
    Unknown {
        /// What made it unknown.
        error: String,
    },
    /// A store or planning error stopped its delivery (taking its claim, re-reading its
    /// client, recording its outcome). An error before the send leaves it to a later tick:
    /// the claims it took are let go of (by the next tick, if the store refuses that too).
    /// After the send it is not known to have gone: its claim is taken for abandoned once two
    /// send timeouts have passed (at-most-once: recorded as outcome unknown; at-least-once:
    /// sent again after its lease). The other events of the tick go on.
    Interrupted {
        /// The error.
        error: String,
    },
}

crate::names::kinds!(SendOutcome =>
    /// The kind of a [`SendOutcome`], without its data: the `outcome` field of a send's log line, and a metric label.
    ///
    /// # Example
    /// ```
    /// use dunning::{SendOutcome, SendOutcomeKind};
    /// assert_eq!(SendOutcome::Sent { message_id: "<1@x>".into() }.kind(), SendOutcomeKind::Sent);
    /// assert_eq!("sent".parse::<SendOutcomeKind>().unwrap(), SendOutcomeKind::Sent);
    /// assert_eq!(SendOutcomeKind::Sent.to_string(), "sent");
    /// assert!("no_such_kind".parse::<SendOutcomeKind>().is_err());
    /// ```
    SendOutcomeKind, "send outcome" {
    Sent => "sent",
    Skipped => "skipped",
    Retrying => "retrying",
    Failed => "failed",
    Unknown => "unknown",
    Interrupted => "interrupted",
});

impl SendOutcome {
    /// The error of a failed, retried or unknown send (what `Display`, which writes the
    /// outcome's kind, leaves out).
    ///
    /// # Example
    /// ```
    /// use dunning::SendOutcome;
    /// let o = SendOutcome::Failed { error: "550 no such mailbox".into() };
    /// assert_eq!(o.to_string(), "failed");
    /// assert_eq!(o.error(), Some("550 no such mailbox"));
    /// assert_eq!(SendOutcome::Sent { message_id: "<1@x>".into() }.error(), None);
    /// ```
    #[must_use]
    pub fn error(&self) -> Option<&str> {
        match self {
            SendOutcome::Retrying { error, .. }
            | SendOutcome::Failed { error }
            | SendOutcome::Unknown { error }
            | SendOutcome::Interrupted { error } => Some(error),
            SendOutcome::Sent { .. } | SendOutcome::Skipped { .. } => None,
        }
    }
}

/// The `send` span of one event, its outcome recorded by [`SendReport::trace`].
fn send_span(key: &EventKey, client: &ClientId, rule: &RuleId, stage: Option<Stage>) -> tracing::Span {
    let span = tracing::info_span!(
        target: "dunning::dispatch",
        "send",
        key = %key,
        client = %client,
        rule = %rule,
        stage = tracing::field::Empty,
        attempt = tracing::field::Empty,
        outcome = tracing::field::Empty,
        duration_ms = tracing::field::Empty,
    );
    if let Some(stage) = stage {
        span.record("stage", tracing::field::display(stage));
    }
    span
}

/// One due event a tick dealt with: what it was, and what happened to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendReport {
    /// The event's key.
    pub key: EventKey,
    /// Its client.
    pub client: ClientId,
    /// Its rule.
    pub rule: RuleId,
    /// Its stage (none for a claim a crash abandoned that no plan brings back: only its key
    /// is known).
    pub stage: Option<Stage>,
    /// Which attempt (1-based; 0 when the tick did not claim it).
    pub attempt: u32,
    /// How long the mailer took, by the dispatcher's clock, in milliseconds (0 when
    /// nothing was handed to it).
    pub duration_ms: u64,
    /// What happened.
    pub outcome: SendOutcome,
}

impl SendReport {
    /// Records the outcome in its `send` span, with an event there when it did not go.
    fn trace(&self, span: &tracing::Span) {
        span.record("attempt", self.attempt);
        span.record("outcome", self.outcome.kind().as_str());
        span.record("duration_ms", self.duration_ms);
        let key = &self.key;
        match &self.outcome {
            SendOutcome::Failed { error }
            | SendOutcome::Unknown { error }
            | SendOutcome::Interrupted { error } => {
                tracing::warn!(target: "dunning::dispatch", parent: span, key = %key, outcome = self.outcome.kind().as_str(), error = %error, "not delivered");
            }
            SendOutcome::Retrying { error, .. } => {
                tracing::info!(target: "dunning::dispatch", parent: span, key = %key, error = %error, "will retry");
            }
            _ => {}
        }
    }
}

/// What one tick did: when it ran, how much the plan held, and each due event's fate, in key
/// order.
///
/// # Example
/// ```
/// # async fn demo(dispatcher: &dunning::Dispatcher) -> Result<(), dunning::DispatchError> {
/// let report = dispatcher.tick_now().await?;
/// for s in report.failed() {
///     // The outcome prints its kind (`failed`); the error says why.
///     eprintln!("{} to {} {}: {}", s.key, s.client, s.outcome, s.outcome.error().unwrap_or(""));
/// }
/// println!("{} sent of {} due", report.sent().count(), report.due);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TickReport {
    /// When it ran.
    pub now: Option<DateTime<Utc>>,
    /// Events the plan held (due and upcoming: a tick plans with no horizon, so due only).
    pub planned: usize,
    /// Events due now.
    pub due: usize,
    /// Each due event dealt with, in key order.
    pub sends: Vec<SendReport>,
    /// Clients the planner refused (an invalid client or item, balances past the largest
    /// amount), left out of this tick so the others' reminders go; in client order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refused: Vec<RefusedClient>,
}

/// A client a tick left out, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusedClient {
    /// The client.
    pub client: ClientId,
    /// Why the planner refused it (or its items).
    pub error: String,
}

impl TickReport {
    fn with(&self, f: fn(&SendOutcome) -> bool) -> impl Iterator<Item = &SendReport> {
        self.sends.iter().filter(move |s| f(&s.outcome))
    }

    /// The events sent.
    pub fn sent(&self) -> impl Iterator<Item = &SendReport> {
        self.with(|o| matches!(o, SendOutcome::Sent { .. }))
    }

    /// The events not sent now, and why ([`SendOutcome::Skipped`]).
    pub fn skipped(&self) -> impl Iterator<Item = &SendReport> {
        self.with(|o| matches!(o, SendOutcome::Skipped { .. }))
    }

    /// The events that failed transiently and will be tried again.
    pub fn retried(&self) -> impl Iterator<Item = &SendReport> {
        self.with(|o| matches!(o, SendOutcome::Retrying { .. }))
    }

    /// The events that failed for good.
    pub fn failed(&self) -> impl Iterator<Item = &SendReport> {
        self.with(|o| matches!(o, SendOutcome::Failed { .. }))
    }

    /// The events whose outcome is unknown (the message may have gone; the host decides).
    pub fn unknown(&self) -> impl Iterator<Item = &SendReport> {
        self.with(|o| matches!(o, SendOutcome::Unknown { .. }))
    }

    /// The events a store or planning error stopped ([`SendOutcome::Interrupted`]).
    pub fn interrupted(&self) -> impl Iterator<Item = &SendReport> {
        self.with(|o| matches!(o, SendOutcome::Interrupted { .. }))
    }

    /// The skip of `key`, if it was skipped.
    #[must_use]
    pub fn skip_of(&self, key: &EventKey) -> Option<&Skip> {
        self.sends.iter().find_map(|s| match &s.outcome {
            SendOutcome::Skipped { skip } if &s.key == key => Some(skip),
            _ => None,
        })
    }
}

/// What a [`Dispatcher::run`] loop did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunSummary {
    /// Ticks run.
    pub ticks: u64,
    /// Ticks that failed (each logged at `error`, the loop going on).
    pub failed: u64,
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
    /// A manual resend of a key nothing plans (its item paid, say), or of an unknown key.
    #[error("nothing to resend under {key}: {why}")]
    NothingToResend {
        /// The key.
        key: EventKey,
        /// Why, in a sentence.
        why: String,
    },
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
/// assert!(report.sent().next().is_none());
/// # Ok(()) }
/// ```
pub struct Dispatcher {
    store: Arc<dyn Store>,
    mailer: Arc<dyn Mailer>,
    planner: Planner,
    messages: Messages,
    clock: Arc<dyn Clock>,
    options: DispatchOptions,
    /// Held while a tick runs: never two ticks of one dispatcher at once.
    ticking: futures_util::lock::Mutex<()>,
    /// Held while a manual reminder is created: two creates of one dispatcher never pick
    /// the same id.
    pub(crate) creating: futures_util::lock::Mutex<()>,
    /// Claims (key, attempt) this dispatcher took and knows nothing went out for, that a
    /// store error kept it from letting go of: let go at the next tick.
    unreleased: std::sync::Mutex<Vec<Held>>,
    /// Outcomes of a grouped notice's item occurrences (the notice's own recorded) that a
    /// store error kept from being recorded: recorded at the next tick.
    unrecorded: std::sync::Mutex<Vec<(EventKey, Delivery)>>,
    /// Reports of crash-left claims a sweep recorded, kept until a tick reports them: a
    /// tick that fails after its sweep (its load again, its plan) leaves them to the next
    /// one, so each is reported once.
    unreported: std::sync::Mutex<Vec<SendReport>>,
    /// Under at-least-once, this tick's keys whose earlier claim a crash left and whose lease
    /// has run out, and that claim's instant: one taken again and then found no longer due
    /// records that claim as outcome unknown (it may have gone) instead of nothing.
    leased_out: std::sync::Mutex<std::collections::HashMap<EventKey, DateTime<Utc>>>,
    /// The store calls of the sends in flight, made in batches: claims (key, instant),
    /// clients re-read before a send, claims checked before a send, outcomes recorded.
    claims: Batcher<(EventKey, DateTime<Utc>), StampedClaim>,
    rereads: Batcher<ClientId, Result<Snapshot, StoreError>>,
    checks: Batcher<EventKey, Result<Option<Delivery>, StoreError>>,
    outcomes: Batcher<Finish, Result<(), StoreError>>,
}

/// How far one delivery got: the claims it took (key, attempt), and whether the message was
/// handed to the mailer.
#[derive(Default)]
struct Progress {
    taken: Vec<Held>,
    sending: bool,
}

impl std::fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dispatcher")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// A claim this dispatcher took: its key, attempt and the instant it was stamped with. A
/// key let go of and claimed again by another dispatcher may get the same attempt number;
/// the instant tells the two claims apart.
type Held = (EventKey, u32, DateTime<Utc>);

/// Whether two claim instants are one (stores may keep microseconds only, as PostgreSQL).
fn same_instant(a: DateTime<Utc>, b: DateTime<Utc>) -> bool {
    (a - b).abs() < chrono::Duration::microseconds(1)
}

/// A claim's answer and the instant it was stamped with.
type StampedClaim = Result<(Claim, DateTime<Utc>), StoreError>;

/// The error of a store call whose batch was dropped before it answered (its tick was
/// cancelled): whether the store made it is not known.
fn interrupted() -> StoreError {
    StoreError::Backend("the batch carrying this store call was dropped (the tick was cancelled)".into())
}

/// The answers of a batch store call for `calls`, one each: the batch's own, or, when the
/// batch failed, each call made alone (one call's error must not stop the others' sends).
/// A batch answering another count is an error for every call.
async fn each_answered<'a, T, R, F, Fut>(
    calls: &'a [T],
    batch: Result<Vec<R>, StoreError>,
    what: &str,
    alone: F,
) -> Vec<Result<R, StoreError>>
where
    R: Clone,
    F: Fn(&'a T) -> Fut,
    Fut: std::future::Future<Output = Result<R, StoreError>>,
{
    match batch {
        Ok(answers) if answers.len() == calls.len() => answers.into_iter().map(Ok).collect(),
        Ok(answers) => {
            let e = StoreError::Backend(format!(
                "{what} answered {} for {} calls",
                answers.len(),
                calls.len()
            ));
            vec![Err(e); calls.len()]
        }
        Err(e) if calls.len() == 1 => vec![Err(e)],
        Err(_) => {
            let mut each = Vec::with_capacity(calls.len());
            for c in calls {
                each.push(alone(c).await);
            }
            each
        }
    }
}

/// A snapshot of several clients split into one per client, in the order given (a client
/// given twice gets its part twice).
fn split_by_client(clients: &[ClientId], all: Snapshot) -> Vec<Snapshot> {
    let mut parts: std::collections::HashMap<ClientId, Snapshot> =
        clients.iter().map(|c| (c.clone(), Snapshot::default())).collect();
    for c in all.clients {
        if let Some(p) = parts.get_mut(&c.id) {
            p.clients.push(c);
        }
    }
    for i in all.items {
        if let Some(p) = parts.get_mut(&i.client) {
            p.items.push(i);
        }
    }
    for h in all.history {
        if let Some(p) = parts.get_mut(&h.client) {
            p.history.push(h);
        }
    }
    clients
        .iter()
        .map(|c| parts.get(c).cloned().unwrap_or_default())
        .collect()
}

/// What `deliver` reports: the attempt, the mailer's time and the outcome.
struct Delivered {
    attempt: u32,
    duration_ms: u64,
    outcome: SendOutcome,
}

impl Delivered {
    fn skipped(skip: Skip) -> Self {
        Self {
            attempt: 0,
            duration_ms: 0,
            outcome: SendOutcome::Skipped { skip },
        }
    }
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
            ticking: futures_util::lock::Mutex::new(()),
            creating: futures_util::lock::Mutex::new(()),
            unreleased: std::sync::Mutex::new(Vec::new()),
            unrecorded: std::sync::Mutex::new(Vec::new()),
            unreported: std::sync::Mutex::new(Vec::new()),
            leased_out: std::sync::Mutex::new(std::collections::HashMap::new()),
            claims: Batcher::default(),
            rereads: Batcher::default(),
            checks: Batcher::default(),
            outcomes: Batcher::default(),
        })
    }

    /// The same dispatcher on another clock (for sleeps and manual sends).
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The same dispatcher with other options.
    ///
    /// # Errors
    /// [`DispatchError::Input`] when the options do not hold together
    /// ([`DispatchOptions::validate`]).
    pub fn with_options(mut self, options: DispatchOptions) -> Result<Self, DispatchError> {
        options.validate()?;
        self.options = options;
        Ok(self)
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

    /// One tick at the dispatcher's clock's `now` ([`Dispatcher::tick`]).
    ///
    /// # Errors
    /// As [`Dispatcher::tick`].
    pub async fn tick_now(&self) -> Result<TickReport, DispatchError> {
        self.tick(self.clock.now()).await
    }

    /// Ticks every `period` of the dispatcher's clock until `shutdown` resolves: each tick
    /// at the clock's `now` when it starts, the next `period` after that start (or at once,
    /// when a tick took longer), never two at once; a tick that fails is logged (target
    /// `dunning::dispatch`, level `error`) and the loop goes on. A tick under way when
    /// `shutdown` resolves finishes first.
    ///
    /// How often to tick: an event is sent at the first tick on a working day at or after
    /// its send instant, so the period is how late a reminder may go (a host that wants them
    /// at the clients' send times ticks every few minutes; once an hour or once a day works
    /// too, a missed send going at the next tick).
    ///
    /// # Example
    /// ```
    /// # async fn demo(dispatcher: dunning::Dispatcher) {
    /// use std::time::Duration;
    /// // The host keeps `stop` and sends on it (or drops it) to shut down, on SIGTERM say.
    /// let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    /// # drop(stop);
    /// let summary = dispatcher
    ///     .run(Duration::from_secs(15 * 60), async move { let _ = stopped.await; })
    ///     .await;
    /// println!("{} ticks, {} failed", summary.ticks, summary.failed);
    /// # }
    /// ```
    pub async fn run(
        &self,
        period: Duration,
        shutdown: impl std::future::Future<Output = ()> + Send,
    ) -> RunSummary {
        let mut shutdown = std::pin::pin!(shutdown);
        let mut summary = RunSummary::default();
        let period = chrono::Duration::from_std(period).unwrap_or(chrono::Duration::MAX);
        loop {
            // Shut down already: no tick more.
            if futures_util::FutureExt::now_or_never(shutdown.as_mut()).is_some() {
                return summary;
            }
            let started = self.clock.now();
            summary.ticks += 1;
            if self.tick(started).await.is_err() {
                // Logged by the tick.
                summary.failed += 1;
            }
            let next = started
                .checked_add_signed(period)
                .unwrap_or(DateTime::<Utc>::MAX_UTC);
            let wait = (next - self.clock.now()).to_std().unwrap_or(Duration::ZERO);
            // Back to the executor at least once between ticks (a tick longer than the
            // period, or a zero period, would else never let a shutdown signal be seen on a
            // single-threaded runtime).
            YieldNow(false).await;
            if let Either::Left(_) = select(shutdown.as_mut(), self.clock.sleep(wait)).await {
                return summary;
            }
        }
    }

    /// One tick at `now`: load, plan, claim what is due, render, send, record. Ticks of one
    /// dispatcher never overlap: a second call waits for the first to finish.
    ///
    /// Traced under the target `dunning::dispatch`: a `tick` span (`now`, `planned`, `due`,
    /// `sent`, `failed`, `interrupted`), a debug event `planned` (the input's sizes and the
    /// planning time in milliseconds), and a `send` span per due event and per abandoned
    /// claim recorded (`key`, `client`, `rule`, `stage`, `attempt`, `outcome`,
    /// `duration_ms`), also for one over the per-tick limit. A tick that fails logs an error
    /// event `tick failed` (`now`, `error`) in its span, whoever called it.
    ///
    /// # Errors
    /// When the store cannot load or the inputs are invalid. Failures of single sends are in
    /// the report, not errors, and so are store errors met while delivering one
    /// ([`SendOutcome::Interrupted`]): the other events go on.
    pub async fn tick(&self, now: DateTime<Utc>) -> Result<TickReport, DispatchError> {
        use tracing::Instrument as _;
        let _one_at_a_time = self.ticking.lock().await;
        let span = tracing::info_span!(
            target: "dunning::dispatch",
            "tick",
            now = %now,
            planned = tracing::field::Empty,
            due = tracing::field::Empty,
            sent = tracing::field::Empty,
            failed = tracing::field::Empty,
            interrupted = tracing::field::Empty,
        );
        let report = match self.tick_in(now).instrument(span.clone()).await {
            Ok(report) => report,
            Err(e) => {
                span.in_scope(|| {
                    tracing::error!(target: "dunning::dispatch", now = %now, error = %e, "tick failed");
                });
                return Err(e);
            }
        };
        span.record("planned", report.planned);
        span.record("due", report.due);
        span.record("sent", report.sent().count());
        span.record("failed", report.failed().count());
        span.record("interrupted", report.interrupted().count());
        Ok(report)
    }

    async fn tick_in(&self, now: DateTime<Utc>) -> Result<TickReport, DispatchError> {
        // The tick's time is counted from here: a claim is stamped `now` plus what the tick
        // has taken so far, its load included (stamped as of the planning, a claim after a
        // long load would look older than it is, and be taken for abandoned too soon).
        let origin = self.clock.now();
        // Claims an earlier tick could not let go of (nothing went out for them).
        let unreleased = std::mem::take(&mut *self.unreleased.lock().unwrap_or_else(|e| e.into_inner()));
        self.let_go(&unreleased, now, "an earlier tick").await;
        let unrecorded = std::mem::take(&mut *self.unrecorded.lock().unwrap_or_else(|e| e.into_inner()));
        for (key, outcome) in unrecorded {
            if let Err(e) = self.store.finish(&key, outcome.clone(), None, None).await {
                tracing::warn!(target: "dunning::dispatch", key = %key, error = %e, "an outcome kept for the next tick");
                self.unrecorded
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push((key, outcome));
            }
        }
        let shard = self.options.shard;
        let mut loaded = self.store.load_shard(shard).await?;
        // Claims abandoned by a crash, recorded before planning: what they covered is then
        // left out of the plan (a notice regrouped around them goes now, not at the next tick).
        let swept = self.sweep_abandoned(&loaded, now).await;
        let reload = !swept.is_empty();
        self.unreported
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(swept);
        if reload {
            loaded = self.store.load_shard(shard).await?;
        }
        // Under at-least-once, claims a crash left whose lease has run out: those this tick's
        // plan brings back are taken again by their sends; those it stops for good are
        // recorded below.
        let leased_out = self.leases_run_out(now).await;
        *self.leased_out.lock().unwrap_or_else(|e| e.into_inner()) =
            leased_out.iter().map(|(k, at, _)| (k.clone(), *at)).collect();
        let started = self.clock.now();
        // Planned in place; only the events sent now are made owned. One client the planner
        // refuses (an invalid contact, balances past the largest amount) must not stop every
        // other client's reminders: it is left out of this tick and reported, with why.
        let kept: Snapshot;
        let mut refused = Vec::new();
        let (snapshot, schedule) = match self.planner.schedule(
            &loaded.clients,
            &loaded.items,
            &loaded.history,
            now,
            Horizon::NONE,
        ) {
            Ok(schedule) => (&loaded, schedule),
            Err(_) => {
                let mut rest = loaded.clone();
                refused = self.leave_out_refused(&mut rest);
                kept = rest;
                let schedule =
                    self.planner
                        .schedule(&kept.clients, &kept.items, &kept.history, now, Horizon::NONE)?;
                (&kept, schedule)
            }
        };
        let planned = schedule.due().len() + schedule.upcoming().len();
        tracing::debug!(
            target: "dunning::dispatch",
            clients = snapshot.clients.len(),
            items = snapshot.items.len(),
            history = snapshot.history.len(),
            due = schedule.due().len(),
            suppressed = schedule.suppressed().len(),
            planning_ms = millis(self.clock.now() - started),
            "planned"
        );
        let mut report = TickReport {
            now: Some(now),
            planned,
            due: schedule.due().len(),
            sends: Vec::new(),
            refused,
        };
        let limit = self.options.per_tick_limit;
        for e in schedule.due().skip(limit) {
            let sent = SendReport {
                key: e.key(),
                client: e.client().id.clone(),
                rule: e.rule().clone(),
                stage: Some(e.stage()),
                attempt: 0,
                duration_ms: 0,
                outcome: SendOutcome::Skipped {
                    skip: Skip::OverLimit,
                },
            };
            sent.trace(&send_span(&sent.key, &sent.client, &sent.rule, sent.stage));
            report.sends.push(sent);
        }
        let due: Vec<Event> = schedule.due().take(limit).map(|e| e.to_event()).collect();
        let stopped = stopped_for_good(snapshot, &schedule, leased_out);
        let stopped = self.still_claimed(stopped).await;
        let stopped = self.with_notices_recorded_since(snapshot, stopped).await;
        let mut swept = Vec::new();
        for (key, with_notice, claim) in &stopped {
            let members = notice_members(snapshot, &stopped, key, claim.0);
            match self.abandoned_report(snapshot, key, now, *claim, &members).await {
                Ok(Some(s)) if !*with_notice => swept.push(s),
                Ok(_) => {}
                Err(e) => {
                    tracing::error!(target: "dunning::dispatch", key = %key, error = %e, "claim whose lease ran out not recorded");
                }
            }
        }
        // The futures are built first, then driven a few at a time (building them inside the
        // stream's closure would make the tick's future not `Send`).
        let deliveries: Vec<_> = due.iter().map(|e| self.traced_deliver(e, now, origin)).collect();
        let outcomes: Vec<SendReport> = stream::iter(deliveries)
            .buffer_unordered(self.options.concurrency.max(1))
            .collect()
            .await;
        report.sends.extend(outcomes);
        let earlier = std::mem::take(&mut *self.unreported.lock().unwrap_or_else(|e| e.into_inner()));
        let swept: Vec<SendReport> = earlier.into_iter().chain(swept).collect();
        // A key a sweep recorded unknown that the plan still held due (its history read with
        // a later entry, such as a release dated by a clock running ahead) was refused by its
        // send as unknown: the sweep's report says what happened, once.
        let sweeps: std::collections::HashSet<EventKey> = swept.iter().map(|s| s.key.clone()).collect();
        // So is one its send passed over or could not start (over the tick's limit, a store
        // error): a report of what did not happen would hide the sweep's of what did.
        report.sends.retain(|s| {
            !(sweeps.contains(&s.key)
                && matches!(
                    s.outcome,
                    SendOutcome::Skipped { .. } | SendOutcome::Interrupted { .. }
                ))
        });
        let handled: std::collections::HashSet<&EventKey> = report.sends.iter().map(|s| &s.key).collect();
        let swept: Vec<SendReport> = swept.into_iter().filter(|s| !handled.contains(&s.key)).collect();
        report.sends.extend(swept);
        report.sends.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(report)
    }

    /// Whether this dispatcher's claim of `key` (its `attempt`) still holds. If another
    /// dispatcher took it for abandoned and recorded its outcome as unknown, this one - which
    /// knows nothing went - releases it (recorded and logged), so it goes at the next tick
    /// instead of waiting for the host. Only that record: after a long stall the key may have
    /// been released by the host, claimed again, sent and recorded unknown by way of another
    /// claim (whose message may have gone), which is left as it is. A sweep dates its history
    /// entry with the claim's instant, `claimed_at`.
    async fn still_ours(
        &self,
        key: &EventKey,
        attempt: u32,
        claimed_at: DateTime<Utc>,
    ) -> Result<bool, DispatchError> {
        let state = self
            .checks
            .call(key.clone(), |keys| async move {
                let batch = self.store.deliveries(&keys).await;
                each_answered(&keys, batch, "deliveries", |k| self.store.delivery(k)).await
            })
            .await
            .unwrap_or_else(|| Err(interrupted()))?;
        match state {
            Some(Delivery::Claimed { attempt: a, .. }) if a == attempt => Ok(true),
            Some(Delivery::Unknown { attempt: a, .. }) if a == attempt => {
                if self.unknown_of_claim(key, claimed_at).await? {
                    self.release_if(key, Some(attempt)).await?;
                }
                Ok(false)
            }
            _ => Ok(false),
        }
    }

    /// Leaves out of `snapshot` each client the planner refuses (with its items) and each
    /// item of no known client, and says which and why. Checked client by client: only
    /// when the whole is refused.
    fn leave_out_refused(&self, snapshot: &mut Snapshot) -> Vec<RefusedClient> {
        let mut by_client: std::collections::HashMap<ClientId, Vec<Item>> = std::collections::HashMap::new();
        for item in std::mem::take(&mut snapshot.items) {
            by_client.entry(item.client.clone()).or_default().push(item);
        }
        let mut refused = Vec::new();
        let mut kept_clients = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for client in std::mem::take(&mut snapshot.clients) {
            let items = by_client.remove(&client.id).unwrap_or_default();
            let verdict = if seen.insert(client.id.clone()) {
                self.planner.check(std::slice::from_ref(&client), &items)
            } else {
                Err(ValidationError::DuplicateId {
                    kind: "client",
                    id: client.id.to_string(),
                })
            };
            match verdict {
                Ok(()) => {
                    snapshot.items.extend(items);
                    kept_clients.push(client);
                }
                Err(e) => refused.push(RefusedClient {
                    client: client.id.clone(),
                    error: e.to_string(),
                }),
            }
        }
        for (client, _) in by_client {
            refused.push(RefusedClient {
                error: format!("items of unknown client {client}"),
                client,
            });
        }
        snapshot.clients = kept_clients;
        refused.sort_by(|a, b| a.client.cmp(&b.client));
        for r in &refused {
            tracing::error!(target: "dunning::dispatch", client = %r.client, error = %r.error, "client left out of the tick");
        }
        refused
    }

    /// How long a claim may be held while its send is under way: two send timeouts.
    fn in_flight(&self) -> chrono::Duration {
        chrono::Duration::from_std(self.options.send_timeout.saturating_mul(2))
            .unwrap_or(chrono::Duration::MAX)
    }

    /// The most the clock of the dispatcher that stamped a claim may run behind this one's.
    fn skew(&self) -> chrono::Duration {
        chrono::Duration::from_std(self.options.max_clock_skew).unwrap_or(chrono::Duration::MAX)
    }

    /// The at-least-once lease (none at-most-once; none too for a lease longer than chrono's
    /// durations, which never runs out: never taken again).
    fn lease(&self) -> Option<chrono::Duration> {
        match self.options.guarantee {
            Guarantee::AtMostOnce => None,
            Guarantee::AtLeastOnce { lease_secs } => i64::try_from(lease_secs)
                .ok()
                .and_then(chrono::Duration::try_seconds),
        }
    }

    /// How old, by this dispatcher's clock, another dispatcher's claim must be to be taken
    /// again (at-least-once): its lease run out by the clock of the dispatcher that stamped
    /// it, however far behind this one's it may run.
    fn retake_after(&self) -> Option<chrono::Duration> {
        self.lease()
            .map(|l| l.checked_add(&self.skew()).unwrap_or(chrono::Duration::MAX))
    }

    /// How old, by this dispatcher's clock, a claim must be before nobody can still be
    /// sending it: two send timeouts, and the clocks' disagreement.
    fn abandoned_after(&self) -> chrono::Duration {
        self.in_flight()
            .checked_add(&self.skew())
            .unwrap_or(chrono::Duration::MAX)
    }

    /// Whether a claim taken at `at` is abandoned at `now` under at-most-once (nobody can
    /// still be sending it: older than two send timeouts, and the clocks' disagreement).
    fn abandoned(&self, at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        self.options.guarantee == Guarantee::AtMostOnce && now - at > self.abandoned_after()
    }

    /// Records an abandoned claim of `key`, taken at `claimed_at`, as outcome unknown, with a
    /// history entry dated then, when it may have gone (its item occurrence, when it is an
    /// item's), and a log line. With `held`, only while the store still holds that claim
    /// (one this dispatcher did not take: another may take it again, or record it, meanwhile).
    #[allow(clippy::too_many_arguments)]
    async fn record_abandoned(
        &self,
        key: &EventKey,
        client: &ClientId,
        rule: Option<&RuleId>,
        occurrence: Option<(crate::model::id::ItemId, u32)>,
        members: &[(crate::model::id::ItemId, u32)],
        now: DateTime<Utc>,
        claimed_at: DateTime<Utc>,
        attempt: u32,
        held: Option<(DateTime<Utc>, u32)>,
    ) -> Result<(), DispatchError> {
        let error = "claimed and never recorded (a crash)".to_owned();
        let entry = HistoryEntry {
            key: key.clone(),
            rule: rule.cloned(),
            client: client.clone(),
            // An item's occurrence; a grouped notice's, those claimed with it (releasing the
            // notice releases them too).
            items: occurrence
                .iter()
                .chain(members)
                .map(|(item, occurrence)| crate::model::history::HistoryItem {
                    item: item.clone(),
                    occurrence: *occurrence,
                })
                .collect(),
            sent_at: claimed_at.min(now),
            outcome: HistoryOutcome::OutcomeUnknown,
        };
        let log = LogEntry {
            at: now,
            client: client.clone(),
            item: occurrence.map(|(item, _)| item),
            key: Some(key.to_string()),
            action: Action::OutcomeUnknown,
        };
        let outcome = Delivery::Unknown {
            at: now,
            attempt,
            error,
        };
        match held {
            Some(claim) => {
                self.store
                    .finish_claimed(key, claim, outcome, Some(entry), Some(log))
                    .await?;
            }
            None => self.store.finish(key, outcome, Some(entry), Some(log)).await?,
        }
        Ok(())
    }

    /// An abandoned claim no plan brought back, recorded unknown and reported: whose it is
    /// is read from its key (`rule/item/occurrence` for an item's; `rule/client/...` for a
    /// grouped notice, a statement or a standing notice). A key of no known shape is left.
    async fn abandoned_report(
        &self,
        snapshot: &Snapshot,
        key: &EventKey,
        now: DateTime<Utc>,
        (claimed_at, attempt): (DateTime<Utc>, u32),
        members: &[(crate::model::id::ItemId, u32)],
    ) -> Result<Option<SendReport>, DispatchError> {
        let mut parts = key.as_str().split('/');
        let (Some(rule), Some(owner), Some(tail)) = (parts.next(), parts.next(), parts.next()) else {
            return Ok(None);
        };
        let Ok(rule) = rule.parse::<RuleId>() else {
            return Ok(None);
        };
        let item = snapshot.items.iter().find(|i| i.id.as_str() == owner);
        // `rule/item/occurrence`: an item's key.
        let occurrence = tail.parse::<u32>().ok().filter(|_| parts.next().is_none());
        let (client, occurrence) = match (item, occurrence) {
            (Some(item), Some(occurrence)) => (item.client.clone(), Some((item.id.clone(), occurrence))),
            // A sharded dispatcher loads its own clients' items: an item key it cannot
            // resolve is another shard's, left to that shard (not read as a client id).
            (None, Some(_)) if !self.options.shard.is_all() => return Ok(None),
            _ => match snapshot.clients.iter().find(|c| c.id.as_str() == owner) {
                Some(c) => (c.id.clone(), None),
                None => return Ok(None),
            },
        };
        if !self.options.shard.contains(&client) {
            return Ok(None);
        }
        // An item occurrence a notice recorded as sent covers went with it: it takes its outcome.
        if let Some((item, occurrence)) = &occurrence {
            let covering = snapshot.history.iter().find(|h| {
                h.outcome.is_sent()
                    && h.rule.as_ref() == Some(&rule)
                    && &h.key != key
                    && h.items
                        .iter()
                        .any(|i| &i.item == item && i.occurrence == *occurrence)
            });
            if let Some(h) = covering {
                let outcome = match self.store.delivery(&h.key).await? {
                    Some(sent @ Delivery::Sent { .. }) => sent,
                    _ => Delivery::Sent {
                        at: h.sent_at,
                        message_id: String::new(),
                    },
                };
                let claim = (claimed_at, attempt);
                self.store.finish_claimed(key, claim, outcome, None, None).await?;
                return Ok(None);
            }
        }
        let held = Some((claimed_at, attempt));
        self.record_abandoned(
            key,
            &client,
            Some(&rule),
            occurrence,
            members,
            now,
            claimed_at,
            attempt,
            held,
        )
        .await?;
        let sent = SendReport {
            key: key.clone(),
            client,
            rule,
            stage: None,
            attempt,
            duration_ms: 0,
            outcome: SendOutcome::Unknown {
                error: "claimed and never recorded (a crash)".into(),
            },
        };
        sent.trace(&send_span(&sent.key, &sent.client, &sent.rule, None));
        Ok(Some(sent))
    }

    /// [`Dispatcher::deliver`] in a `send` span, reported; an error that stopped it is its
    /// outcome ([`SendOutcome::Interrupted`]).
    async fn traced_deliver(&self, event: &Event, now: DateTime<Utc>, origin: DateTime<Utc>) -> SendReport {
        use tracing::Instrument as _;
        let span = send_span(&event.key, &event.client, &event.rule, Some(event.stage));
        let mut progress = Progress::default();
        let delivered = self
            .deliver(event, now, origin, &mut progress)
            .instrument(span.clone())
            .await;
        let d = match delivered {
            Ok(d) => d,
            Err(e) => {
                let error = e.to_string();
                // Nothing went out: the claims taken are let go of, so it goes at a later tick
                // (after the send, they stay, and are taken for abandoned in time).
                if !progress.sending {
                    self.let_go(&progress.taken, now, &error).await;
                }
                Delivered {
                    attempt: progress.taken.first().map_or(0, |t| t.1),
                    duration_ms: 0,
                    outcome: SendOutcome::Interrupted { error },
                }
            }
        };
        let sent = SendReport {
            key: event.key.clone(),
            client: event.client.clone(),
            rule: event.rule.clone(),
            stage: Some(event.stage),
            attempt: d.attempt,
            duration_ms: d.duration_ms,
            outcome: d.outcome,
        };
        sent.trace(&span);
        sent
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

    /// A claim of `key` at `at` or a little later (a batch takes its calls' latest instant),
    /// and the instant it was stamped with; one granted is in `progress`, to be let go of if
    /// the send never starts.
    async fn claim_checked(
        &self,
        key: &EventKey,
        at: DateTime<Utc>,
        lease: Option<chrono::Duration>,
        progress: &mut Progress,
    ) -> Result<(Claim, DateTime<Utc>), DispatchError> {
        let claim = self
            .claims
            .call((key.clone(), at), |calls| async move {
                // One instant for the batch: the latest (a claim stamped later is taken for
                // abandoned later, never sooner).
                let at = calls.iter().map(|c| c.1).max().unwrap_or(at);
                let keys: Vec<EventKey> = calls.into_iter().map(|c| c.0).collect();
                // (A failed batch took nothing: all or nothing.)
                let batch = self.store.claim_batch(&keys, at, lease).await;
                let batch = batch.map(|answers| answers.into_iter().map(|a| (a, at)).collect());
                each_answered(&keys, batch, "claim_batch", |k| async move {
                    self.store.claim(k, at, lease).await.map(|a| (a, at))
                })
                .await
            })
            .await
            .unwrap_or_else(|| Err(interrupted()));
        match claim {
            Ok((claim, stamped)) => {
                if let Claim::Granted { attempt } = claim {
                    progress.taken.push((key.clone(), attempt, stamped));
                }
                Ok((claim, stamped))
            }
            // Whether the store took it anyway is not known: another dispatcher's claim may
            // carry the same instant, so none is let go of on a guess. One the store did take
            // is taken for abandoned in time.
            Err(e) => Err(e.into()),
        }
    }

    /// Claims of `keys` in one batch, one answer per key; those granted are in `progress`.
    async fn claim_batch_checked(
        &self,
        keys: &[EventKey],
        at: DateTime<Utc>,
        lease: Option<chrono::Duration>,
        progress: &mut Progress,
    ) -> Result<Vec<Claim>, DispatchError> {
        // (A store error: as for one claim, nothing is let go of on a guess.)
        let answers = self.store.claim_batch(keys, at, lease).await?;
        for (key, answer) in keys.iter().zip(&answers) {
            if let Claim::Granted { attempt } = answer {
                progress.taken.push((key.clone(), *attempt, at));
            }
        }
        if answers.len() != keys.len() {
            return Err(StoreError::Backend(format!(
                "claim_batch answered {} claims for {} keys",
                answers.len(),
                keys.len()
            ))
            .into());
        }
        Ok(answers)
    }

    /// Whether `key`, claimed (`attempt`), is a claim this dispatcher kept for nothing that
    /// went out; if so it is let go of now (the store showed it held).
    async fn take_back(
        &self,
        key: &EventKey,
        (claimed_at, attempt): (DateTime<Utc>, u32),
        now: DateTime<Utc>,
    ) -> bool {
        let mine = {
            let mut kept = self.unreleased.lock().unwrap_or_else(|e| e.into_inner());
            let at = kept
                .iter()
                .position(|(k, a, t)| k == key && *a == attempt && same_instant(*t, claimed_at));
            at.map(|i| kept.remove(i))
        };
        let Some(claim) = mine else { return false };
        let state = Delivery::Skipped {
            at: now,
            reason: "interrupted before the send (an earlier tick)".into(),
        };
        let held = (claimed_at, attempt);
        match self.store.finish_claimed(key, held, state, None, None).await {
            // Let go of, or taken again or recorded by another dispatcher since: not its own
            // to let go of any more.
            Ok(()) | Err(StoreError::NoLongerClaimed { .. }) => {}
            Err(_) => self
                .unreleased
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(claim),
        }
        true
    }

    /// Records each claim a crash abandoned as outcome unknown (under at-most-once the message
    /// may have gone), reported once; a grouped notice and the item occurrences claimed with
    /// it are one report, the notice's. Item occurrences a recorded send covers take its
    /// outcome, unreported, and claims this dispatcher kept for nothing sent are let go of.
    /// A store error is logged: the claims are found again at the next tick.
    async fn sweep_abandoned(&self, snapshot: &Snapshot, now: DateTime<Utc>) -> Vec<SendReport> {
        let mut reports = Vec::new();
        if self.options.guarantee != Guarantee::AtMostOnce {
            return reports;
        }
        let before = now
            .checked_sub_signed(self.abandoned_after())
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        let abandoned = self.store.abandoned_claims(before).await.unwrap_or_else(|e| {
            tracing::error!(target: "dunning::dispatch", error = %e, "abandoned claims not read");
            Vec::new()
        });
        let mut found: Vec<(EventKey, DateTime<Utc>, u32)> = Vec::new();
        for (key, state) in abandoned {
            let Delivery::Claimed { at, attempt } = state else {
                continue;
            };
            if !self.abandoned(at, now) || self.take_back(&key, (at, attempt), now).await {
                continue;
            }
            found.push((key, at, attempt));
        }
        // A grouped notice (`rule/client/currency/digest`) and its item occurrences
        // (`rule/item/occurrence`, of an item of that client) are claimed at one instant.
        let notices: std::collections::HashSet<(DateTime<Utc>, &str, &str)> = found
            .iter()
            .filter_map(|(k, at, _)| match claimed(k)? {
                Claimed::Notice { rule, client, .. } => Some((*at, rule, client)),
                _ => None,
            })
            .collect();
        let member_of_notice = |key: &EventKey, at: DateTime<Utc>| {
            let Some(Claimed::Occurrence { rule, item }) = claimed(key) else {
                return false;
            };
            let Some(client) = snapshot
                .items
                .iter()
                .find(|i| i.id.as_str() == item)
                .map(|i| &i.client)
            else {
                return false;
            };
            // Its notice in this sweep, or recorded unknown by an earlier one (dated when it
            // was claimed, with its items).
            notices.contains(&(at, rule, client.as_str()))
                || notice_recorded_unknown(&snapshot.history, rule, client.as_str(), at)
        };
        let found: Vec<_> = found
            .iter()
            .map(|(key, at, attempt)| (key.clone(), member_of_notice(key, *at), (*at, *attempt)))
            .collect();
        let found = self.with_notices_recorded_since(snapshot, found).await;
        for (key, with_notice, attempt) in &found {
            let members = notice_members(snapshot, &found, key, attempt.0);
            match self
                .abandoned_report(snapshot, key, now, *attempt, &members)
                .await
            {
                Ok(Some(s)) if !with_notice => reports.push(s),
                Ok(_) => {}
                Err(e) => {
                    tracing::error!(target: "dunning::dispatch", key = %key, error = %e, "abandoned claim not recorded");
                }
            }
        }
        reports
    }

    /// Under at-least-once, the claims a crash left whose lease has run out (by the clock of
    /// the dispatcher that took them, however far behind this one's it may run), as (key,
    /// instant, attempt); this dispatcher's own, kept for nothing sent, are let go of instead.
    /// A store error is logged: they are read again at the next tick.
    async fn leases_run_out(&self, now: DateTime<Utc>) -> Vec<(EventKey, DateTime<Utc>, u32)> {
        // (At-most-once, or a lease reaching before the start of time: none.)
        let Some(before) = self
            .retake_after()
            .and_then(|after| now.checked_sub_signed(after))
        else {
            return Vec::new();
        };
        let claims = self.store.abandoned_claims(before).await.unwrap_or_else(|e| {
            tracing::error!(target: "dunning::dispatch", error = %e, "claims whose lease ran out not read");
            Vec::new()
        });
        let mut found = Vec::new();
        for (key, state) in claims {
            let Delivery::Claimed { at, attempt } = state else {
                continue;
            };
            if !self.take_back(&key, (at, attempt), now).await {
                found.push((key, at, attempt));
            }
        }
        found
    }

    /// `claims`, each item occurrence not yet known to go with a grouped notice marked so
    /// when the store's history, read again now, holds that notice recorded as outcome
    /// unknown (claimed at the same instant, about the item's client): another dispatcher
    /// recorded it after this tick's load (whose history did not hold it) and reported it, so
    /// the occurrence is recorded with it, not reported as a message of its own. When that
    /// read fails, those occurrences are left claimed for the next tick (reported then,
    /// once, rather than now perhaps twice).
    async fn with_notices_recorded_since(&self, snapshot: &Snapshot, claims: Vec<Stopped>) -> Vec<Stopped> {
        let client_of = |key: &EventKey| match claimed(key) {
            Some(Claimed::Occurrence { item, .. }) => snapshot
                .items
                .iter()
                .find(|i| i.id.as_str() == item)
                .map(|i| i.client.clone()),
            _ => None,
        };
        let mut clients: Vec<ClientId> = claims
            .iter()
            .filter(|(_, with_notice, _)| !with_notice)
            .filter_map(|(key, ..)| client_of(key))
            .collect();
        if clients.is_empty() {
            return claims;
        }
        clients.sort();
        clients.dedup();
        let Ok(fresh) = self.store.load_clients(&clients).await else {
            return claims
                .into_iter()
                .filter(|(key, with_notice, _)| *with_notice || client_of(key).is_none())
                .collect();
        };
        claims
            .into_iter()
            .map(|(key, with_notice, (at, attempt))| {
                let recorded = !with_notice
                    && match (claimed(&key), client_of(&key)) {
                        (Some(Claimed::Occurrence { rule, .. }), Some(client)) => {
                            notice_recorded_unknown(&fresh.history, rule, client.as_str(), at)
                        }
                        _ => false,
                    };
                (key, with_notice || recorded, (at, attempt))
            })
            .collect()
    }

    /// Of `claims`, those the store still holds as that same claim, read again now: another
    /// dispatcher may have taken one again, or recorded it, since the tick's load. A notice
    /// dropped so takes the occurrences recorded with it along. A store error keeps none
    /// (they are found again next tick).
    async fn still_claimed(&self, claims: Vec<Stopped>) -> Vec<Stopped> {
        if claims.is_empty() {
            return claims;
        }
        let notices_at = |claims: &[Stopped]| -> Vec<DateTime<Utc>> {
            claims
                .iter()
                .filter(|(k, ..)| matches!(claimed(k), Some(Claimed::Notice { .. })))
                .map(|(_, _, (t, _))| *t)
                .collect()
        };
        let before = notices_at(&claims);
        let keys: Vec<EventKey> = claims.iter().map(|c| c.0.clone()).collect();
        let Ok(states) = self.store.deliveries(&keys).await else {
            return Vec::new();
        };
        if states.len() != claims.len() {
            return Vec::new();
        }
        let kept: Vec<Stopped> = claims
            .into_iter()
            .zip(states)
            .filter(|((_, _, (at, attempt)), state)| {
                matches!(state, Some(Delivery::Claimed { at: t, attempt: a }) if a == attempt && same_instant(*t, *at))
            })
            .map(|(c, _)| c)
            .collect();
        let after = notices_at(&kept);
        kept.into_iter()
            .filter(|(_, with_notice, (t, _))| !(*with_notice && before.contains(t) && !after.contains(t)))
            .collect()
    }

    /// Lets go of claims (key, attempt) this dispatcher took for nothing that went out, after
    /// a store error: each still its own is made claimable again (one another dispatcher
    /// recorded as outcome unknown meanwhile is released). Those the store refuses now are
    /// kept for the next tick.
    async fn let_go(&self, claims: &[Held], now: DateTime<Utc>, why: &str) {
        let mut kept = Vec::new();
        for (key, attempt, claimed_at) in claims {
            // Read again once when another dispatcher recorded it between the read and the
            // record (as outcome unknown, say: then released here, nothing having gone).
            let mut done = false;
            for _ in 0..2 {
                done = match self.store.delivery(key).await {
                    // Its own claim still (not another dispatcher's of the same attempt, taken
                    // after this one was let go of).
                    Ok(Some(Delivery::Claimed { attempt: a, at }))
                        if a == *attempt && same_instant(at, *claimed_at) =>
                    {
                        let state = Delivery::Skipped {
                            at: now,
                            reason: format!("interrupted before the send ({why})"),
                        };
                        let held = (*claimed_at, *attempt);
                        match self.store.finish_claimed(key, held, state, None, None).await {
                            Ok(()) => true,
                            Err(StoreError::NoLongerClaimed { .. }) => continue,
                            Err(_) => false,
                        }
                    }
                    // Recorded unknown by another dispatcher that took this claim for
                    // abandoned (nothing went): released. Not another claim of the same
                    // attempt number (one taken after this one was let go of, whose message
                    // may have gone): its history entry is dated with the claim's instant.
                    Ok(Some(Delivery::Unknown { attempt: a, .. })) if a == *attempt => {
                        match self.unknown_of_claim(key, *claimed_at).await {
                            Ok(true) => self.release_if(key, Some(*attempt)).await.is_ok(),
                            Ok(false) => true,
                            Err(_) => false,
                        }
                    }
                    Ok(_) => true,
                    Err(_) => false,
                };
                break;
            }
            if !done {
                kept.push((key.clone(), *attempt, *claimed_at));
            }
        }
        if !kept.is_empty() {
            tracing::warn!(target: "dunning::dispatch", claims = kept.len(), "claims kept for the next tick to let go of");
            self.unreleased
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .extend(kept);
        }
    }

    /// Whether `key`'s last outcome-unknown history entry is of the claim taken at
    /// `claimed_at` (a sweep dates it with the claim's instant), read from this dispatcher's
    /// shard (the key's own).
    async fn unknown_of_claim(&self, key: &EventKey, claimed_at: DateTime<Utc>) -> Result<bool, StoreError> {
        let snapshot = self.store.load_shard(self.options.shard).await?;
        Ok(snapshot
            .history
            .iter()
            .rev()
            .find(|h| &h.key == key && h.outcome == HistoryOutcome::OutcomeUnknown)
            .is_some_and(|h| same_instant(h.sent_at, claimed_at)))
    }

    /// Claims, re-checks, renders, sends and records one due event; `progress` says how far
    /// it got.
    async fn deliver(
        &self,
        event: &Event,
        now: DateTime<Utc>,
        origin: DateTime<Utc>,
        progress: &mut Progress,
    ) -> Result<Delivered, DispatchError> {
        let key = event.key.clone();
        // When the claim is taken: the tick's `now`, plus what the tick has taken so far by
        // the dispatcher's clock (claims late in a long tick are stamped late: another
        // dispatcher does not take them for abandoned while they are sent).
        let claimed_at = now
            .checked_add_signed((self.clock.now() - origin).max(chrono::Duration::zero()))
            .unwrap_or(now);
        let lease = self.lease();
        let retake_after = self.retake_after();
        // The instant the claim was stamped with: the notice's item occurrences below are
        // claimed at the same one (a crash's sweep knows them as the notice's by it).
        let (claim, claimed_at) = self
            .claim_checked(&key, claimed_at, retake_after, progress)
            .await?;
        let attempt = match claim {
            Claim::Granted { attempt } => attempt,
            Claim::Refused(state) => {
                return Ok(match state {
                    Delivery::Sent { .. } => Delivered::skipped(Skip::AlreadySent),
                    Delivery::Retrying { not_before, .. } => {
                        Delivered::skipped(Skip::RetryLater { not_before })
                    }
                    Delivery::Failed { error, .. } => Delivered::skipped(Skip::FailedEarlier { error }),
                    Delivery::Unknown { at, .. } => Delivered::skipped(Skip::OutcomeUnknown { at }),
                    Delivery::Claimed { at, attempt } => {
                        // Held by another dispatcher right now, or never recorded (a crash):
                        // a claim older than two send timeouts has no one working on it.
                        // Under at-most-once the message may have gone: recorded as outcome
                        // unknown, once (at-least-once takes it again after its lease).
                        if self.take_back(&key, (at, attempt), now).await {
                            // Its own, and nothing went: let go of now, it goes at a later tick.
                            Delivered::skipped(Skip::Claimed)
                        } else if self.abandoned(at, claimed_at) {
                            let error = format!("claimed at {at} and never recorded");
                            // Dated when it was claimed, as a sweep dates it (the dispatcher
                            // that took it, stalled, knows it by that instant); recorded only
                            // while that claim still stands (another dispatcher's sweep may
                            // have recorded it meanwhile: reported once, by that one).
                            // A grouped notice's item occurrences claimed with it (at its
                            // instant) are recorded with it, each while its claim stands; one
                            // it did not claim (taken and sent by another since) is not its.
                            let mut held = Vec::new();
                            for m in event.covered_keys().into_iter().filter(|m| *m != key) {
                                if let Ok(Some(Delivery::Claimed { at: a, attempt: n })) =
                                    self.store.delivery(&m).await
                                {
                                    if same_instant(a, at) {
                                        held.push((m, (a, n)));
                                    }
                                }
                            }
                            let mut entry = event.to_history(at).with_outcome(HistoryOutcome::OutcomeUnknown);
                            if matches!(claimed(&key), Some(Claimed::Notice { .. })) {
                                entry.items.retain(|i| {
                                    let k = EventKey::for_item(
                                        event.rule.as_str(),
                                        i.item.as_str(),
                                        i.occurrence,
                                    );
                                    held.iter().any(|(m, _)| *m == k)
                                });
                            }
                            let outcome = Delivery::Unknown {
                                at: now,
                                attempt,
                                error: error.clone(),
                            };
                            let log = Self::log_entry(event, now, Action::OutcomeUnknown);
                            match self
                                .store
                                .finish_claimed(&key, (at, attempt), outcome.clone(), Some(entry), Some(log))
                                .await
                            {
                                Ok(()) => {
                                    for (m, claim) in &held {
                                        match self
                                            .store
                                            .finish_claimed(m, *claim, outcome.clone(), None, None)
                                            .await
                                        {
                                            Ok(()) | Err(StoreError::NoLongerClaimed { .. }) => {}
                                            // Still claimed: a later sweep records it, as the notice's.
                                            Err(e) => {
                                                tracing::warn!(target: "dunning::dispatch", key = %m, error = %e, "an item occurrence of a notice found abandoned not recorded");
                                            }
                                        }
                                    }
                                    Delivered {
                                        attempt,
                                        duration_ms: 0,
                                        outcome: SendOutcome::Unknown { error },
                                    }
                                }
                                Err(StoreError::NoLongerClaimed { .. }) => Delivered::skipped(Skip::Claimed),
                                Err(e) => return Err(e.into()),
                            }
                        } else {
                            Delivered::skipped(Skip::Claimed)
                        }
                    }
                    Delivery::Skipped { .. } => Delivered::skipped(Skip::Claimed),
                });
            }
        };
        let skipped = |skip| Delivered {
            attempt,
            duration_ms: 0,
            outcome: SendOutcome::Skipped { skip },
        };
        // A notice grouped across items also takes each item occurrence it covers, so that
        // no other notice (grouped otherwise by a dispatcher that loaded earlier) sends one of
        // them too. If one is taken, nothing is sent: the next tick groups what is left.
        // Taken in one batch (`DispatchStore::claim_batch`).
        let members: Vec<EventKey> = event.covered_keys().into_iter().filter(|m| *m != key).collect();
        if !members.is_empty() {
            let answers = self
                .claim_batch_checked(&members, claimed_at, retake_after, progress)
                .await?;
            let taken = members
                .iter()
                .zip(&answers)
                .find(|(_, a)| matches!(a, Claim::Refused(_)));
            if let Some((m, _)) = taken {
                // One abandoned by a crash is recorded unknown by this tick's sweep (below),
                // so the next tick leaves it out.
                let released = Delivery::Skipped {
                    at: now,
                    reason: format!("{m} is taken by another notice"),
                };
                for (k, _) in members
                    .iter()
                    .zip(&answers)
                    .filter(|(_, a)| matches!(a, Claim::Granted { .. }))
                {
                    self.store.finish(k, released.clone(), None, None).await?;
                }
                self.store.finish(&key, released, None, None).await?;
                return Ok(skipped(Skip::Claimed));
            }
        }
        // Planned again from what the store holds now: a payment (or a stop) recorded since
        // the tick loaded is seen before anything goes out.
        let fresh = match self.recheck(event, now).await {
            Ok(Ok(fresh)) => fresh,
            Ok(Err((reason, text))) => {
                // Still ours? Another dispatcher may have found it abandoned meanwhile.
                if !self.still_ours(&key, attempt, claimed_at).await? {
                    return Ok(skipped(Skip::Claimed));
                }
                // Taken again from a claim a crash left (at-least-once): that claim's
                // message may have gone, so it is recorded as outcome unknown, with the
                // occurrences it covered, not let go of as if nothing had been sent.
                let crashed: Vec<(EventKey, DateTime<Utc>)> = {
                    let leased = self.leased_out.lock().unwrap_or_else(|e| e.into_inner());
                    event
                        .covered_keys()
                        .into_iter()
                        .filter_map(|k| leased.get(&k).map(|at| (k, *at)))
                        .collect()
                };
                if crashed.iter().any(|(k, _)| *k == key) {
                    for (k, at) in &crashed {
                        let occurrence = event
                            .items
                            .iter()
                            .find(|i| {
                                EventKey::for_item(event.rule.as_str(), i.item.as_str(), i.occurrence) == *k
                            })
                            .map(|i| (i.item.clone(), i.occurrence));
                        let client = &event.client;
                        // A grouped notice's entry lists its items (a release frees them too).
                        let members: Vec<_> = if matches!(claimed(k), Some(Claimed::Notice { .. })) {
                            event
                                .items
                                .iter()
                                .map(|i| (i.item.clone(), i.occurrence))
                                .collect()
                        } else {
                            Vec::new()
                        };
                        // (Its own claim now, still its own: recorded over it.)
                        self.record_abandoned(
                            k,
                            client,
                            Some(&event.rule),
                            occurrence,
                            &members,
                            now,
                            *at,
                            attempt,
                            None,
                        )
                        .await?;
                    }
                    let error = format!("claimed and never recorded (a crash); then {text}");
                    return Ok(Delivered {
                        attempt,
                        duration_ms: 0,
                        outcome: SendOutcome::Unknown { error },
                    });
                }
                let state = Delivery::Skipped {
                    at: now,
                    reason: text.clone(),
                };
                let log = Self::log_entry(event, now, Action::Skipped { reason: text });
                self.finish(event, state, None, Some(log)).await?;
                return Ok(skipped(Skip::NoLongerDue { reason }));
            }
            Err(e) => {
                // Not known to be still due: not sent; claimable again at the next tick.
                let state = Delivery::Skipped {
                    at: now,
                    reason: format!("re-reading before the send failed: {e}"),
                };
                self.finish(event, state, None, None).await?;
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
                self.fail(event, now, attempt, error.clone(), false, None).await?;
                return Ok(Delivered {
                    attempt,
                    duration_ms: 0,
                    outcome: SendOutcome::Failed { error },
                });
            }
        };
        // Enough of the lease left to send and record (two send timeouts)? After a slow
        // re-read, another dispatcher could take the key again in the middle of the send:
        // then it is not sent now, and goes once the lease has run out.
        if let Some(end) = lease.and_then(|l| claimed_at.checked_add_signed(l)) {
            let elapsed = (self.clock.now() - origin).max(chrono::Duration::zero());
            // Past the end of time: no lease left.
            let left = now
                .checked_add_signed(elapsed)
                .map(|current| end.signed_duration_since(current));
            if left.is_none_or(|left| left < self.in_flight()) {
                return Ok(skipped(Skip::RetryLater { not_before: end }));
            }
        }
        // Still ours after the re-read? Another dispatcher may have found it abandoned
        // meanwhile (a slow re-read): then nothing is sent now.
        if !self.still_ours(&key, attempt, claimed_at).await? {
            return Ok(skipped(Skip::Claimed));
        }
        let started = self.clock.now();
        progress.sending = true;
        let send = self.mailer.send(&message);
        let timeout = self.clock.sleep(self.options.send_timeout);
        let result = match select(send, timeout).await {
            Either::Left((r, _)) => r,
            Either::Right(_) => Err(MailError::Timeout(self.options.send_timeout)),
        };
        let duration_ms = millis(self.clock.now() - started);
        let outcome = match result {
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
                SendOutcome::Sent {
                    message_id: receipt.message_id,
                }
            }
            // The message may have gone: under at-most-once never sent again.
            Err(e) if e.is_ambiguous() && self.options.guarantee == Guarantee::AtMostOnce => {
                let error = e.to_string();
                self.unknown(event, now, now, attempt, error.clone()).await?;
                SendOutcome::Unknown { error }
            }
            Err(e) => {
                let retry = e.is_transient() && attempt < self.options.max_attempts;
                let error = e.to_string();
                // One that may have gone (a timeout) is retried after its lease, not sooner:
                // at-least-once, not twice within a lease.
                let lease_end = self.lease().filter(|_| e.is_ambiguous()).map(|l| {
                    claimed_at
                        .checked_add_signed(l)
                        .unwrap_or(DateTime::<Utc>::MAX_UTC)
                });
                match self
                    .fail(event, now, attempt, error.clone(), retry, lease_end)
                    .await?
                {
                    Some(not_before) => SendOutcome::Retrying { error, not_before },
                    None => SendOutcome::Failed { error },
                }
            }
        };
        Ok(Delivered {
            attempt,
            duration_ms,
            outcome,
        })
    }

    /// The claimed event planned again from the store's current data for its client: the
    /// fresh event (amounts may have changed) and client, or why it is no longer due.
    async fn recheck(
        &self,
        event: &Event,
        now: DateTime<Utc>,
    ) -> Result<Result<(Event, Client), (Option<SuppressReason>, String)>, DispatchError> {
        let fresh = self
            .rereads
            .call(event.client.clone(), |clients| async move {
                let batch = self.store.load_clients(&clients).await;
                let batch = batch.map(|all| split_by_client(&clients, all));
                each_answered(&clients, batch, "load_clients", |c| self.store.load_client(c)).await
            })
            .await
            .unwrap_or_else(|| Err(interrupted()))?;
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
        dated: DateTime<Utc>,
        attempt: u32,
        error: String,
    ) -> Result<(), DispatchError> {
        let entry = event
            .to_history(dated)
            .with_outcome(HistoryOutcome::OutcomeUnknown);
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
        let mut record = Finish::new(event.key.clone(), outcome.clone());
        record.sent = history;
        record.log = log;
        self.outcomes
            .call(record, |batch| async move {
                let n = batch.len();
                let mut answers = self.store.finish_batch(batch).await;
                if answers.len() != n {
                    let e = StoreError::Backend(format!(
                        "finish_batch answered {} outcomes for {n}",
                        answers.len()
                    ));
                    answers = vec![Err(e); n];
                }
                answers
            })
            .await
            .unwrap_or_else(|| Err(interrupted()))?;
        for m in event.covered_keys().iter().filter(|m| **m != event.key) {
            match self.store.finish(m, outcome.clone(), None, None).await {
                Ok(()) | Err(StoreError::NotFound { .. }) => {}
                // The notice's outcome is recorded: its items' follow at the next tick.
                Err(e) => {
                    tracing::warn!(target: "dunning::dispatch", key = %m, error = %e, "an outcome kept for the next tick");
                    self.unrecorded
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push((m.clone(), outcome.clone()));
                }
            }
        }
        Ok(())
    }

    /// Releases a key that failed for good or whose outcome is unknown, for one more try:
    /// the next tick plans it again if it is still due (a later stage of its item may
    /// supersede it). Recorded in history and in the log ([`Action::Released`]). A grouped
    /// notice's item occurrences, recorded with it, are released with it. For a host that
    /// fixed the cause (a bounced address corrected, a send found not to have gone).
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
        self.release_if(key, None).await
    }

    /// Releases `key` as [`Self::release`] does; with `unknown_of`, only an outcome-unknown
    /// record of that attempt (read again here, after whatever was checked before: another
    /// claim's record, of another attempt, made meanwhile is left as it is).
    async fn release_if(&self, key: &EventKey, unknown_of: Option<u32>) -> Result<bool, DispatchError> {
        let now = self.clock_now();
        let attempt = match (self.store.delivery(key).await?, unknown_of) {
            (Some(Delivery::Failed { attempt, .. } | Delivery::Unknown { attempt, .. }), None) => attempt,
            (Some(Delivery::Unknown { attempt, .. }), Some(ours)) if attempt == ours => attempt,
            _ => return Ok(false),
        };
        // The entry that recorded it: in this dispatcher's shard (its own claims), else
        // anywhere (a host releasing another shard's key).
        let recorded_in = |history: &[HistoryEntry], key: &EventKey| {
            history
                .iter()
                .filter(|h| &h.key == key && !h.outcome.is_sent() && h.outcome != HistoryOutcome::Released)
                .max_by_key(|h| h.sent_at)
                .cloned()
        };
        let shard = self.options.shard;
        let mut history = self.store.load_shard(shard).await?.history;
        let mut recorded = recorded_in(&history, key);
        if recorded.is_none() && !shard.is_all() {
            history = self.store.load().await?.history;
            recorded = recorded_in(&history, key);
        }
        let recorded = recorded.as_ref();
        let released = |h: &HistoryEntry| HistoryEntry {
            sent_at: now.max(h.sent_at),
            outcome: HistoryOutcome::Released,
            ..h.clone()
        };
        let entry = recorded.map(released);
        let log = entry.as_ref().map(|h| LogEntry {
            at: now,
            client: h.client.clone(),
            item: h.items.first().map(|i| i.item.clone()),
            key: Some(key.to_string()),
            action: Action::Released,
        });
        // Claimable at the next tick, whatever its instant.
        let retry = |attempt| Delivery::Retrying {
            attempt,
            not_before: DateTime::<Utc>::MIN_UTC,
            error: "released by the host".into(),
        };
        // A grouped notice's item occurrences, claimed and failed with it, are released too.
        let members: Vec<EventKey> = recorded
            .and_then(|h| Some((h.rule.as_ref()?, h)))
            .map(|(rule, h)| {
                h.items
                    .iter()
                    .map(|i| EventKey::for_item(rule.as_str(), i.item.as_str(), i.occurrence))
                    .filter(|k| k != key)
                    .collect()
            })
            .unwrap_or_default();
        for m in &members {
            if let Some(Delivery::Failed { attempt, .. } | Delivery::Unknown { attempt, .. }) =
                self.store.delivery(m).await?
            {
                // An occurrence recorded with its own entry (a crash's sweep records each
                // claim) is released by an entry of its own too, or the plan still reads it
                // as sent.
                let own = recorded_in(&history, m).map(|h| released(&h));
                self.store.finish(m, retry(attempt), own, None).await?;
            }
        }
        self.store.finish(key, retry(attempt), entry, log).await?;
        Ok(true)
    }

    /// Records a failed send: for a retry (the earliest next attempt is returned), or for
    /// good (with a history entry that says so).
    async fn fail(
        &self,
        event: &Event,
        now: DateTime<Utc>,
        attempt: u32,
        error: String,
        retry: bool,
        not_sooner: Option<DateTime<Utc>>,
    ) -> Result<Option<DateTime<Utc>>, DispatchError> {
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
                .unwrap_or(DateTime::<Utc>::MAX_UTC)
                .max(not_sooner.unwrap_or(DateTime::<Utc>::MIN_UTC));
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
        let not_before = match &outcome {
            Delivery::Retrying { not_before, .. } => Some(*not_before),
            _ => None,
        };
        self.finish(event, outcome, history, Some(log)).await?;
        Ok(not_before)
    }

    /// Sends the event of `key` again now, whatever the schedule (a manual "resend"): an
    /// item's reminder, a grouped notice, a statement or a standing notice, planned or sent
    /// before, written from the current data (what is owed now). Recorded as a manual send,
    /// under one key that the message, the history entry and the log line share
    /// (`manual/<item or client>/<instant>`, with `~2`, `~3`... after it for a second or third
    /// resend recorded at the same instant): it spaces the next automatic reminder of its
    /// items and does not use up any rule's count.
    ///
    /// The event is the one the plan holds now or within the largest horizon under that key,
    /// or else the one the plan held when the key was sent (history). A grouped notice that
    /// was sent, some of whose items were settled since, is resent about those still owed (one
    /// still to come is planned anew about those, under a key of its own). One that nothing plans
    /// any more (an item paid, say, or every item of a grouped notice) is not resent, and the
    /// error says why. The key's second part is an item's id (an item's reminder,
    /// `rule/item/occurrence`) or a client's id (the others): both are tried, since client
    /// and item ids are apart and one may equal the other.
    ///
    /// # Errors
    /// [`DispatchError::NothingToResend`] (with why), a message that cannot be built, the
    /// store's or the mailer's error.
    pub async fn resend(&self, key: &EventKey) -> Result<String, DispatchError> {
        let now = self.clock_now();
        // Found in this dispatcher's shard, else anywhere (another shard's key).
        let shard = self.options.shard;
        let mut snapshot = self.store.load_shard(shard).await?;
        let mut found = self.event_to_resend(&snapshot, key, now);
        if !shard.is_all() && matches!(found, Err(DispatchError::NothingToResend { .. })) {
            snapshot = self.store.load().await?;
            found = self.event_to_resend(&snapshot, key, now);
        }
        let event = found?;
        let client = snapshot
            .clients
            .iter()
            .find(|c| c.id == event.client)
            .ok_or_else(|| StoreError::NotFound {
                kind: "client",
                id: event.client.to_string(),
            })?;
        let account = event.statement.is_some() || event.standing.is_some();
        let first = event.items.first().map(|i| i.item.clone());
        let mut entry = match (&first, account) {
            (Some(item), false) => HistoryEntry::manual(client.id.clone(), item.clone(), now),
            // A statement or standing notice reminds no item: it spaces none.
            _ => HistoryEntry {
                key: EventKey::from(format!(
                    "manual/{}/{}",
                    client.id,
                    now.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
                )),
                rule: None,
                client: client.id.clone(),
                items: Vec::new(),
                sent_at: now,
                outcome: HistoryOutcome::Sent,
            },
        };
        // Unique among the keys recorded, and reserved by a claim: a second resend in the
        // same instant (a clock that reads whole seconds, a double click, two operators) is
        // told apart by a counter, whether the first was recorded or is still under way.
        let base = entry.key.as_str().to_owned();
        let taken: std::collections::HashSet<&str> = snapshot
            .history
            .iter()
            .map(|h| h.key.as_str())
            .filter(|k| k.starts_with(base.as_str()))
            .collect();
        let mut n = 1u64;
        loop {
            if !taken.contains(entry.key.as_str()) {
                if let Claim::Granted { .. } = self.store.claim(&entry.key, now, None).await? {
                    break;
                }
            }
            n += 1;
            if n > MAX_RESENDS_AT_ONE_INSTANT {
                return Err(DispatchError::NothingToResend {
                    key: key.clone(),
                    why: format!("{MAX_RESENDS_AT_ONE_INSTANT} resends were made at {base} already"),
                });
            }
            entry.key = EventKey::from(format!("{base}~{n}"));
        }
        if !account {
            entry.items = event
                .items
                .iter()
                .map(|i| crate::model::history::HistoryItem {
                    item: i.item.clone(),
                    occurrence: 0,
                })
                .collect();
        }
        let event = Event {
            key: entry.key.clone(),
            ..event
        };
        let options = RenderOptions::default().with_sent_on(event.time_zone.local_date(now));
        let sent = match self.messages.render(&event, client, &options) {
            Ok(message) => match self.mailer.send(&message).await {
                Ok(receipt) => Ok((message, receipt)),
                Err(e) => Err(DispatchError::from(e)),
            },
            Err(e) => Err(DispatchError::from(e)),
        };
        let (message, receipt) = match sent {
            Ok(sent) => sent,
            Err(e) => {
                // Not sent: the reserved key is let go of, and nothing is recorded.
                let skipped = Delivery::Skipped {
                    at: now,
                    reason: format!("the manual resend was not sent: {e}"),
                };
                if let Err(store) = self.store.finish(&event.key, skipped, None, None).await {
                    tracing::error!(target: "dunning::dispatch", key = %event.key, error = %store, "manual resend's claim not let go of");
                }
                return Err(e);
            }
        };
        let log = LogEntry {
            at: now,
            client: client.id.clone(),
            item: first,
            key: Some(event.key.to_string()),
            action: Action::Sent {
                rule: None,
                to: message.to.iter().map(|m| m.email.clone()).collect(),
                message_id: receipt.message_id.clone(),
            },
        };
        let delivered = Delivery::Sent {
            at: now,
            message_id: receipt.message_id.clone(),
        };
        self.store
            .finish(&event.key, delivered, Some(entry), Some(log))
            .await?;
        Ok(receipt.message_id)
    }

    /// The event of `key` to resend at `now`: planned now or within the largest horizon,
    /// else as planned when it was sent.
    fn event_to_resend(
        &self,
        snapshot: &Snapshot,
        key: &EventKey,
        now: DateTime<Utc>,
    ) -> Result<Event, DispatchError> {
        let sent = snapshot
            .history
            .iter()
            .filter(|h| &h.key == key)
            .min_by_key(|h| h.sent_at);
        // Whose event: the history's; or else, by the key's second part, the client of an
        // item of that id (an item's reminder, `rule/item/occurrence`) or the client of that
        // id (a statement, a standing notice, a grouped notice). Client and item ids are apart:
        // both are tried, the item's client first.
        let part = key.as_str().split('/').nth(1).unwrap_or_default();
        let mut whose: Vec<ClientId> = Vec::new();
        if let Some(h) = sent {
            whose.push(h.client.clone());
        } else {
            let item_key = key.as_str().split('/').count() == 3;
            let candidates = snapshot
                .items
                .iter()
                .filter(|i| item_key && i.id.as_str() == part)
                .map(|i| &i.client)
                .chain(
                    snapshot
                        .clients
                        .iter()
                        .map(|c| &c.id)
                        .filter(|c| c.as_str() == part),
                );
            for c in candidates {
                if !whose.contains(c) {
                    whose.push(c.clone());
                }
            }
        }
        let nothing = |why: String| DispatchError::NothingToResend {
            key: key.clone(),
            why,
        };
        if whose.is_empty() {
            return Err(nothing("no client or item of the key is known".into()));
        }
        // A client the planner refuses (an item of an unknown client named like the client,
        // say) does not stop the other's resend: its error is returned only when no client
        // says anything else.
        let (mut why, mut refused) = (None, None);
        for client in &whose {
            match self.event_of_client(snapshot, key, sent, client, now) {
                Ok(Ok(event)) => return Ok(event),
                Ok(Err(reason)) => {
                    why.get_or_insert(reason);
                }
                Err(e) => {
                    refused.get_or_insert(e);
                }
            }
        }
        match (why, refused) {
            (Some(why), _) => Err(nothing(why)),
            (None, Some(e)) => Err(e),
            (None, None) => Err(nothing(String::new())),
        }
    }

    /// The event of `key` among `client`'s, for [`Dispatcher::resend`]; or why there is none.
    fn event_of_client(
        &self,
        snapshot: &Snapshot,
        key: &EventKey,
        sent: Option<&HistoryEntry>,
        client: &ClientId,
        now: DateTime<Utc>,
    ) -> Result<Result<Event, String>, DispatchError> {
        let clients: Vec<Client> = snapshot
            .clients
            .iter()
            .filter(|c| &c.id == client)
            .cloned()
            .collect();
        let items: Vec<Item> = snapshot
            .items
            .iter()
            .filter(|i| &i.client == client)
            .cloned()
            .collect();
        let history = |before: Option<DateTime<Utc>>| -> Vec<HistoryEntry> {
            snapshot
                .history
                .iter()
                .filter(|h| &h.client == client && &h.key != key && before.is_none_or(|b| h.sent_at < b))
                .cloned()
                .collect()
        };
        let horizon = Horizon::days(crate::limits::MAX_HORIZON_DAYS);
        let plan = self
            .planner
            .plan(&clients, &items, &history(None), now, horizon)?;
        if let Some(e) = plan.events().find(|e| &e.key == key) {
            return Ok(Ok(e.clone()));
        }
        let Some(h) = sent else {
            return Ok(Err(plan
                .suppressed()
                .iter()
                .find(|s| &s.key == key)
                .map_or_else(|| "nothing plans it now".to_owned(), Suppressed::explain)));
        };
        let then = self.planner.plan(
            &clients,
            &items,
            &history(Some(h.sent_at)),
            h.sent_at,
            Horizon::NONE,
        )?;
        if let Some(e) = then.due().iter().find(|e| &e.key == key) {
            return Ok(Ok(e.clone()));
        }
        // A grouped notice some of whose items were settled since: the notice the same rule
        // would send about those still owed, as of when it went, under its key.
        let parts: Vec<&str> = key.as_str().split('/').collect();
        if let [rule, _, currency, _] = parts[..] {
            let of_sent = |e: &&Event| {
                e.rule.as_str() == rule
                    && e.statement.is_none()
                    && e.standing.is_none()
                    && e.key.as_str().split('/').nth(2) == Some(currency)
                    && !e.items.is_empty()
                    && e.items.iter().all(|i| h.items.iter().any(|s| s.item == i.item))
            };
            if let Some(e) = then
                .due()
                .iter()
                .find(of_sent)
                .or_else(|| plan.events().find(of_sent))
            {
                let mut e = e.clone();
                e.key = key.clone();
                return Ok(Ok(e));
            }
        }
        let settled = !h.items.is_empty()
            && h.items.iter().all(|s| {
                items.iter().find(|i| i.id == s.item).is_none_or(|i| {
                    !i.status.is_pending() || matches!(i.balance(), Ok(Some(b)) if b.minor() <= 0)
                })
            });
        Ok(Err(if settled {
            "every item it was about is settled or gone".to_owned()
        } else {
            plan.suppressed().iter().find(|s| &s.key == key).map_or_else(
                || {
                    "nothing plans it now, and the current data no longer gives it as of when it was \
                     sent (an item or a setting changed since)"
                        .to_owned()
                },
                Suppressed::explain,
            )
        }))
    }
}

crate::names::kinds!(Skip =>
    /// The kind of a [`Skip`], without its data: a metric label, or a filter on a tick's report.
    ///
    /// # Example
    /// ```
    /// use dunning::{Skip, SkipKind};
    /// assert_eq!(Skip::Claimed.kind(), SkipKind::Claimed);
    /// assert_eq!("claimed".parse::<SkipKind>().unwrap(), SkipKind::Claimed);
    /// assert_eq!(SkipKind::Claimed.to_string(), "claimed");
    /// assert!("no_such_kind".parse::<SkipKind>().is_err());
    /// ```
    SkipKind, "skip" {
    AlreadySent => "already_sent",
    Claimed => "claimed",
    RetryLater => "retry_later",
    FailedEarlier => "failed_earlier",
    OutcomeUnknown => "outcome_unknown",
    OverLimit => "over_limit",
    NoLongerDue => "no_longer_due",
});

crate::names::kinds!(Guarantee =>
    /// The kind of a [`Guarantee`], without its data: a label for a dispatcher's delivery guarantee.
    ///
    /// # Example
    /// ```
    /// use dunning::{Guarantee, GuaranteeKind};
    /// assert_eq!(Guarantee::AtMostOnce.kind(), GuaranteeKind::AtMostOnce);
    /// assert_eq!("at_most_once".parse::<GuaranteeKind>().unwrap(), GuaranteeKind::AtMostOnce);
    /// assert_eq!(GuaranteeKind::AtMostOnce.to_string(), "at_most_once");
    /// assert!("no_such_kind".parse::<GuaranteeKind>().is_err());
    /// ```
    GuaranteeKind, "guarantee" {
    AtMostOnce => "at_most_once",
    AtLeastOnce => "at_least_once",
});

/// How many manual resends one instant can tell apart (`~2` ... `~1000`).
const MAX_RESENDS_AT_ONE_INSTANT: u64 = 1000;

/// A claim the sweep records: (key, whether it is an item occurrence recorded with its
/// notice, (instant, attempt)).
type Stopped = (EventKey, bool, (DateTime<Utc>, u32));

/// Whether a sweep recorded a grouped notice of `rule` to `client` as outcome unknown, dated
/// `at`: the instant its claim was taken, with its item occurrences.
fn notice_recorded_unknown(history: &[HistoryEntry], rule: &str, client: &str, at: DateTime<Utc>) -> bool {
    history.iter().any(|h| {
        h.outcome == HistoryOutcome::OutcomeUnknown
            && same_instant(h.sent_at, at)
            && h.client.as_str() == client
            && h.rule.as_ref().is_some_and(|r| r.as_str() == rule)
            && matches!(claimed(&h.key), Some(Claimed::Notice { .. }))
    })
}

/// What a claimed key is about, read from its shape.
enum Claimed<'k> {
    /// `rule/item/occurrence`.
    Occurrence { rule: &'k str, item: &'k str },
    /// `rule/client/currency/g<digest>`: a notice grouped across items.
    Notice {
        rule: &'k str,
        client: &'k str,
        currency: &'k str,
    },
    /// `rule/client/date`: a statement or a standing notice.
    OfClient { client: &'k str },
}

fn claimed(key: &EventKey) -> Option<Claimed<'_>> {
    let mut parts = key.as_str().split('/');
    match (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) {
        (Some(rule), Some(item), Some(n), None, None) if n.parse::<u32>().is_ok() => {
            Some(Claimed::Occurrence { rule, item })
        }
        (Some(_), Some(client), Some(date), None, None) if date.parse::<chrono::NaiveDate>().is_ok() => {
            Some(Claimed::OfClient { client })
        }
        (Some(rule), Some(client), Some(currency), Some(g), None) if g.starts_with('g') => {
            Some(Claimed::Notice {
                rule,
                client,
                currency,
            })
        }
        _ => None,
    }
}

/// The item occurrences claimed with the grouped notice `key` at `at`: found so in this sweep
/// (`found`: key, whether with a notice, (instant, attempt)) or recorded unknown by an
/// earlier one (dated with that instant); of the notice's rule, client and currency.
fn notice_members(
    snapshot: &Snapshot,
    found: &[Stopped],
    key: &EventKey,
    at: DateTime<Utc>,
) -> Vec<(crate::model::id::ItemId, u32)> {
    let Some(Claimed::Notice {
        rule,
        client,
        currency,
    }) = claimed(key)
    else {
        return Vec::new();
    };
    let of_notice = |k: &EventKey| {
        let Some(Claimed::Occurrence { rule: r, item }) = claimed(k) else {
            return None;
        };
        let occurrence = k.as_str().rsplit('/').next()?.parse::<u32>().ok()?;
        let it = snapshot.items.iter().find(|i| i.id.as_str() == item)?;
        let its_currency = it.total.map_or("-", |t| t.currency().code());
        (r == rule && it.client.as_str() == client && its_currency == currency)
            .then(|| (it.id.clone(), occurrence))
    };
    let this_sweep = found
        .iter()
        .filter(|(_, with_notice, (a, _))| *with_notice && *a == at)
        .filter_map(|(k, ..)| of_notice(k));
    let earlier = snapshot
        .history
        .iter()
        .filter(|h| h.outcome == HistoryOutcome::OutcomeUnknown && same_instant(h.sent_at, at))
        .filter_map(|h| of_notice(&h.key));
    let mut members: Vec<_> = this_sweep.chain(earlier).collect();
    members.sort();
    members.dedup();
    members
}

/// Of the claims whose lease has run out, those `schedule` stops for good, as (key, whether
/// it is an item occurrence of a grouped notice recorded with it, (instant, attempt)):
/// - an item occurrence claimed alone, neither due nor covered by a due notice, whose item
///   is settled (paid, cancelled, void, completed) or whose occurrence the plan explains as
///   over (superseded, already sent, too late, expired, past its count);
/// - a grouped notice not due whose item occurrences claimed with it (same rule, client,
///   currency and instant) are all stopped so, or all recorded since (those due again in
///   another notice are sent by it first): the notice is reported, its occurrences recorded
///   with it, never one of them alone;
/// - a statement or standing notice of this shard's clients that is not due and that the
///   plan does not hold back (a pause, the gap, the calendar, reminders off, no recipient):
///   its period is over, or its state has ended.
///
/// Anything else is left claimed: a later plan that brings it back takes it again.
fn stopped_for_good(
    snapshot: &Snapshot,
    schedule: &crate::plan::Schedule<'_>,
    claims: Vec<(EventKey, DateTime<Utc>, u32)>,
) -> Vec<Stopped> {
    use std::collections::{HashMap, HashSet};
    if claims.is_empty() {
        return Vec::new();
    }
    let due: HashSet<EventKey> = schedule.due().flat_map(|e| e.to_event().covered_keys()).collect();
    let mut over: HashSet<EventKey> = HashSet::new();
    let mut held: HashSet<EventKey> = HashSet::new();
    let mut settled: HashSet<(String, String)> = HashSet::new();
    for s in schedule.suppressed() {
        match s.reason() {
            SuppressReason::Paid
            | SuppressReason::Cancelled
            | SuppressReason::Void
            | SuppressReason::Completed => {
                if let Some(item) = s.item() {
                    settled.insert((s.rule().to_string(), item.id.to_string()));
                }
            }
            SuppressReason::Superseded { .. }
            | SuppressReason::AlreadySent
            | SuppressReason::DueSoonAfterDue { .. }
            | SuppressReason::Expired { .. }
            | SuppressReason::CountReached { .. }
            | SuppressReason::NothingToList => {
                over.insert(s.key());
            }
            SuppressReason::PausedUntil { .. }
            | SuppressReason::Paused { .. }
            | SuppressReason::Deferred { .. }
            | SuppressReason::MovedOffNonWorkingDay { .. }
            | SuppressReason::AfterAnotherReminder { .. }
            | SuppressReason::ClientRemindersOff
            | SuppressReason::ExcludedForClient
            | SuppressReason::NoRecipients => {
                held.insert(s.key());
            }
            _ => {}
        }
    }
    let items: HashMap<&str, &Item> = snapshot.items.iter().map(|i| (i.id.as_str(), i)).collect();
    let ours: HashSet<&str> = snapshot.clients.iter().map(|c| c.id.as_str()).collect();
    let occurrence_over = |key: &EventKey, rule: &str, item: &str| {
        !due.contains(key) && (over.contains(key) || settled.contains(&(rule.to_owned(), item.to_owned())))
    };
    // The notice an item occurrence was claimed with, if one was: (rule, client, currency,
    // instant).
    let notice_of = |rule: &str, item: &str, at: DateTime<Utc>| {
        let item = items.get(item)?;
        let currency = item.total.map_or("-", |t| t.currency().code());
        Some((rule.to_owned(), item.client.as_str().to_owned(), currency, at))
    };
    let notices: HashSet<(String, String, &str, DateTime<Utc>)> = claims
        .iter()
        .filter_map(|(k, at, _)| match claimed(k)? {
            Claimed::Notice {
                rule,
                client,
                currency,
            } => Some((rule.to_owned(), client.to_owned(), currency, *at)),
            _ => None,
        })
        .collect();
    let mut out = Vec::new();
    for (key, at, attempt) in &claims {
        let claim = (*at, *attempt);
        match claimed(key) {
            Some(Claimed::Occurrence { rule, item }) => {
                let notice = notice_of(rule, item, *at);
                let with_notice = notice
                    .as_ref()
                    .is_some_and(|n| notices.contains(&(n.0.clone(), n.1.clone(), n.2, n.3)));
                // Its notice recorded unknown by an earlier sweep, which stopped before this
                // occurrence (dated when they were claimed): recorded with it, not reported.
                let recorded_notice = notice
                    .as_ref()
                    .is_some_and(|(r, c, _, t)| notice_recorded_unknown(&snapshot.history, r, c, *t));
                if !with_notice && occurrence_over(key, rule, item) {
                    out.push((key.clone(), recorded_notice, claim));
                }
            }
            Some(Claimed::Notice {
                rule,
                client,
                currency,
            }) => {
                if due.contains(key) {
                    continue;
                }
                let members: Vec<&EventKey> = claims
                    .iter()
                    .filter(|(k, t, _)| {
                        t == at
                            && matches!(claimed(k), Some(Claimed::Occurrence { rule: r, item })
                                if r == rule && notice_of(r, item, *t).is_some_and(|n| n.1 == client && n.2 == currency))
                    })
                    .map(|(k, ..)| k)
                    .collect();
                // (None left claimed: each was recorded since, sent by another notice say.)
                let all_over = members.iter().all(|k| match claimed(k) {
                    Some(Claimed::Occurrence { rule, item }) => occurrence_over(k, rule, item),
                    _ => false,
                });
                if !all_over || !ours.contains(client) {
                    continue;
                }
                out.push((key.clone(), false, claim));
                let members: Vec<EventKey> = members.into_iter().cloned().collect();
                out.extend(
                    claims
                        .iter()
                        .filter(|(k, ..)| members.contains(k))
                        .map(|(k, t, a)| (k.clone(), true, (*t, *a))),
                );
            }
            Some(Claimed::OfClient { client })
                if ours.contains(client) && !due.contains(key) && !held.contains(key) =>
            {
                out.push((key.clone(), false, claim));
            }
            Some(Claimed::OfClient { .. }) | None => {}
        }
    }
    out
}

/// A duration in whole milliseconds (0 when negative: a clock set back).
fn millis(d: chrono::Duration) -> u64 {
    u64::try_from(d.num_milliseconds()).unwrap_or(0)
}

/// A future that is pending once (waking its task at once), then ready: a turn of the
/// executor for whatever else it runs.
struct YieldNow(bool);

impl std::future::Future for YieldNow {
    type Output = ();

    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        if self.0 {
            return std::task::Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    }
}
