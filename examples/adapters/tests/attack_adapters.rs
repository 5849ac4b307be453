//! Adversarial tests of the adapters and the dispatcher as a host uses them, designed from
//! the README, the rustdoc and DESIGN.md only. Each `#[ignore = "finding: ..."]` test fails
//! against the code it was written for and quotes the sentence it relies on; the others are
//! regression guards.

#[path = "../../../tests/common/mod.rs"]
mod common;
mod support;

use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use common::*;
use dunning::store::{
    ActionLog, Claim, Delivery, DispatchStore, Finish, LogEntry, LogFilter, Reminder, ReminderStore,
    Snapshot, async_trait,
};
use dunning::*;
use dunning_adapters::pg_store::PgStore;
use dunning_adapters::sqlite_store::SqliteStore;
use support::TempDir;

// ---------------------------------------------------------------------------------------
// Harness: the two real stores, a mailer whose sends a test scripts, and a store wrapper
// that stalls or acts at the steps between claim, send and record.
// ---------------------------------------------------------------------------------------

/// A bound on every wait, so that a hang fails instead of blocking forever (never a timing
/// assertion: nothing is expected to take any particular time).
async fn within<T>(what: &str, f: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(120), f)
        .await
        .unwrap_or_else(|_| panic!("hung: {what}"))
}

enum Db {
    Sqlite(PathBuf),
    Pg(Box<tokio_postgres::Config>),
}

impl Db {
    fn name(&self) -> &'static str {
        match self {
            Db::Sqlite(_) => "sqlite",
            Db::Pg(_) => "postgres",
        }
    }

    /// A fresh connection (as another process would have).
    async fn store(&self) -> Arc<dyn Store> {
        match self {
            Db::Sqlite(path) => Arc::new(SqliteStore::open(path).unwrap()),
            Db::Pg(config) => Arc::new(PgStore::connect_with((**config).clone(), 4).await.unwrap()),
        }
    }

    async fn put(&self, clients: &[Client], items: &[Item]) {
        match self {
            Db::Sqlite(path) => {
                let s = SqliteStore::open(path).unwrap();
                s.put_clients(clients).unwrap();
                s.put_items(items).unwrap();
            }
            Db::Pg(config) => {
                let s = PgStore::connect_with((**config).clone(), 1).await.unwrap();
                s.put_clients(clients).await.unwrap();
                s.put_items(items).await.unwrap();
            }
        }
    }
}

/// A SQLite file, and a fresh PostgreSQL database when a server is configured.
async fn dbs(dir: &TempDir, name: &str) -> Vec<Db> {
    let mut out = vec![Db::Sqlite(dir.file(&format!("{name}.sqlite")))];
    if let Some(url) = support::pg_server() {
        let (config, _) = support::fresh_pg_database(&url, &format!("attack_{name}")).await;
        out.push(Db::Pg(Box::new(config)));
    }
    out
}

/// What the scripted mailer does with a message.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Act {
    Accept,
    /// Takes the message (it went) and never answers: the process is then "killed".
    TakeAndHang,
    Ambiguous,
    Transient,
    Permanent,
    /// Takes the message, then answers only once `open` is called.
    TakeAndWait,
}

type Script = Mutex<Box<dyn FnMut(&Message) -> Act + Send>>;

struct Gate {
    taken: Mutex<Vec<Message>>,
    script: Script,
    signal: tokio::sync::mpsc::UnboundedSender<String>,
    open: tokio::sync::watch::Sender<bool>,
}

impl Gate {
    fn new(
        script: impl FnMut(&Message) -> Act + Send + 'static,
    ) -> (Arc<Self>, tokio::sync::mpsc::UnboundedReceiver<String>) {
        let (signal, rx) = tokio::sync::mpsc::unbounded_channel();
        let (open, _) = tokio::sync::watch::channel(false);
        (
            Arc::new(Gate {
                taken: Mutex::new(Vec::new()),
                script: Mutex::new(Box::new(script)),
                signal,
                open,
            }),
            rx,
        )
    }

    fn keys(&self) -> Vec<String> {
        self.taken
            .lock()
            .unwrap()
            .iter()
            .map(|m| m.key.to_string())
            .collect()
    }

    fn open(&self) {
        self.open.send_replace(true);
    }
}

#[async_trait]
impl Mailer for Gate {
    async fn send(&self, message: &Message) -> Result<Receipt, MailError> {
        let act = (self.script.lock().unwrap())(message);
        let receipt = Receipt {
            message_id: format!("<{}@gate>", message.key),
        };
        let take = |m: &Message| self.taken.lock().unwrap().push(m.clone());
        let _ = self.signal.send(message.key.to_string());
        match act {
            Act::Accept => {
                take(message);
                Ok(receipt)
            }
            Act::TakeAndHang => {
                take(message);
                std::future::pending().await
            }
            Act::Ambiguous => {
                take(message);
                Err(MailError::Ambiguous(
                    "connection reset after the final dot".into(),
                ))
            }
            Act::Transient => Err(MailError::Transient("451 try later".into())),
            Act::Permanent => Err(MailError::Permanent("550 no such user".into())),
            Act::TakeAndWait => {
                take(message);
                let mut rx = self.open.subscribe();
                let _ = rx.wait_for(|open| *open).await;
                Ok(receipt)
            }
        }
    }
}

/// What the wrapper does when an outcome is recorded.
#[derive(Clone, Copy, Debug, PartialEq)]
enum OnFinish {
    Pass,
    /// The process dies before the record reaches the store.
    HangBefore,
    /// The record is committed, then the process dies before it learns so.
    HangAfter,
}

type Hook = Box<dyn FnOnce() -> Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

/// A store that passes every call to `inner`, runs `after_grant` once after the first claim
/// call that grants a key, and records outcomes as `on_finish` says.
struct Tap {
    inner: Arc<dyn Store>,
    after_grant: Mutex<Option<Hook>>,
    on_finish: OnFinish,
    finishing: tokio::sync::mpsc::UnboundedSender<String>,
}

impl Tap {
    fn new(
        inner: Arc<dyn Store>,
        on_finish: OnFinish,
        after_grant: Option<Hook>,
    ) -> (Arc<Self>, tokio::sync::mpsc::UnboundedReceiver<String>) {
        let (finishing, rx) = tokio::sync::mpsc::unbounded_channel();
        (
            Arc::new(Tap {
                inner,
                after_grant: Mutex::new(after_grant),
                on_finish,
                finishing,
            }),
            rx,
        )
    }

    async fn granted(&self, claims: &[Claim]) {
        if claims.iter().any(|c| matches!(c, Claim::Granted { .. })) {
            let hook = self.after_grant.lock().unwrap().take();
            if let Some(hook) = hook {
                hook().await;
            }
        }
    }

    async fn finishing<T>(&self, keys: String, record: impl Future<Output = T>) -> T {
        match self.on_finish {
            OnFinish::Pass => record.await,
            OnFinish::HangBefore => {
                let _ = self.finishing.send(keys);
                std::future::pending().await
            }
            OnFinish::HangAfter => {
                let _ = record.await;
                let _ = self.finishing.send(keys);
                std::future::pending().await
            }
        }
    }
}

#[async_trait]
impl DispatchStore for Tap {
    async fn load(&self) -> Result<Snapshot, StoreError> {
        self.inner.load().await
    }
    async fn load_shard(&self, shard: Shard) -> Result<Snapshot, StoreError> {
        self.inner.load_shard(shard).await
    }
    async fn load_client(&self, client: &ClientId) -> Result<Snapshot, StoreError> {
        self.inner.load_client(client).await
    }
    async fn load_clients(&self, clients: &[ClientId]) -> Result<Snapshot, StoreError> {
        self.inner.load_clients(clients).await
    }
    async fn claim(
        &self,
        key: &EventKey,
        now: DateTime<Utc>,
        reclaim_after: Option<chrono::Duration>,
    ) -> Result<Claim, StoreError> {
        let c = self.inner.claim(key, now, reclaim_after).await?;
        self.granted(std::slice::from_ref(&c)).await;
        Ok(c)
    }
    async fn claim_batch(
        &self,
        keys: &[EventKey],
        now: DateTime<Utc>,
        reclaim_after: Option<chrono::Duration>,
    ) -> Result<Vec<Claim>, StoreError> {
        let c = self.inner.claim_batch(keys, now, reclaim_after).await?;
        self.granted(&c).await;
        Ok(c)
    }
    async fn finish(
        &self,
        key: &EventKey,
        outcome: Delivery,
        sent: Option<HistoryEntry>,
        log: Option<LogEntry>,
    ) -> Result<(), StoreError> {
        self.finishing(key.to_string(), self.inner.finish(key, outcome, sent, log))
            .await
    }
    async fn delivery(&self, key: &EventKey) -> Result<Option<Delivery>, StoreError> {
        self.inner.delivery(key).await
    }
    async fn finish_claimed(
        &self,
        key: &EventKey,
        claim: (DateTime<Utc>, u32),
        outcome: Delivery,
        sent: Option<HistoryEntry>,
        log: Option<LogEntry>,
    ) -> Result<(), StoreError> {
        self.finishing(
            key.to_string(),
            self.inner.finish_claimed(key, claim, outcome, sent, log),
        )
        .await
    }
    async fn finish_batch(&self, batch: Vec<Finish>) -> Vec<Result<(), StoreError>> {
        let keys = batch
            .iter()
            .map(|f| f.key.to_string())
            .collect::<Vec<_>>()
            .join(",");
        self.finishing(keys, self.inner.finish_batch(batch)).await
    }
    async fn deliveries(&self, keys: &[EventKey]) -> Result<Vec<Option<Delivery>>, StoreError> {
        self.inner.deliveries(keys).await
    }
    async fn abandoned_claims(&self, before: DateTime<Utc>) -> Result<Vec<(EventKey, Delivery)>, StoreError> {
        self.inner.abandoned_claims(before).await
    }
    async fn append_history(&self, entry: HistoryEntry) -> Result<(), StoreError> {
        self.inner.append_history(entry).await
    }
}

#[async_trait]
impl ActionLog for Tap {
    async fn log(&self, entry: LogEntry) -> Result<(), StoreError> {
        self.inner.log(entry).await
    }
    async fn read_log(&self, filter: &LogFilter) -> Result<Vec<LogEntry>, StoreError> {
        self.inner.read_log(filter).await
    }
}

#[async_trait]
impl ReminderStore for Tap {
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

/// Every day a working day: the tests choose their days freely.
fn all_days() -> BusinessCalendar {
    BusinessCalendar::new([], [])
}

/// One rule on the due date, then weekly, at 09:00 in `zone`.
fn weekly_policy(zone: &str) -> Policy {
    Policy::new(tz(zone))
        .with_calendar(all_days())
        .with_rule(rule("overdue", Anchor::Due, 0).repeat(7, 3))
}

fn one_invoice(client_id: &str, zone: &str, item: &str, due: chrono::NaiveDate) -> (Vec<Client>, Vec<Item>) {
    (
        vec![client(client_id, zone)],
        vec![invoice(
            item,
            client_id,
            due - chrono::Duration::days(30),
            due,
            money("1000", "CLP"),
        )],
    )
}

fn dispatcher(
    store: Arc<dyn Store>,
    mailer: Arc<dyn Mailer>,
    policy: &Policy,
    options: DispatchOptions,
) -> Dispatcher {
    Dispatcher::new(store, mailer, policy)
        .unwrap()
        .with_options(options)
        .unwrap()
}

fn outcomes(report: &TickReport) -> BTreeMap<String, String> {
    report
        .sends
        .iter()
        .map(|s| {
            (
                s.key.to_string(),
                format!("{} {}", s.outcome, s.outcome.error().unwrap_or("")),
            )
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// A payment recorded between the claim and the send.
// ---------------------------------------------------------------------------------------

/// README: "paid, cancelled, paused or disputed items stop, also when the payment lands
/// between the tick's claim and its send (the claimed event is planned again from the store
/// just before the send ...)". The payment is written by another connection right after the
/// claim commits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payment_landing_between_claim_and_send_stops_the_send() {
    let dir = TempDir::new("attack-paid-between");
    for db in dbs(&dir, "paid_between").await {
        let due = d(2026, 4, 1);
        let (clients, items) = one_invoice("acme", "America/Santiago", "F-1", due);
        db.put(&clients, &items).await;
        let paid = items[0].clone().paid(money("1000", "CLP"), due);
        let writer = db.store().await;
        let db_for_hook = match &db {
            Db::Sqlite(p) => Db::Sqlite(p.clone()),
            Db::Pg(c) => Db::Pg(c.clone()),
        };
        drop(writer);
        let hook: Hook = Box::new(move || {
            Box::pin(async move {
                db_for_hook.put(&[], &[paid]).await;
            })
        });
        let (tap, _) = Tap::new(db.store().await, OnFinish::Pass, Some(hook));
        let (gate, _) = Gate::new(|_| Act::Accept);
        let policy = weekly_policy("America/Santiago");
        let d1 = dispatcher(tap, gate.clone(), &policy, DispatchOptions::default());
        let report = within("tick", d1.tick(utc(2026, 4, 1, 14, 0))).await.unwrap();
        assert!(
            gate.keys().is_empty(),
            "{}: sent after the payment: {:?}",
            db.name(),
            outcomes(&report)
        );
        assert!(
            matches!(
                report.skip_of(&"overdue/F-1/1".into()),
                Some(Skip::NoLongerDue { .. })
            ),
            "{}: {:?}",
            db.name(),
            outcomes(&report)
        );
        // Later ticks, by another worker, send nothing either.
        let (gate2, _) = Gate::new(|_| Act::Accept);
        let d2 = dispatcher(
            db.store().await,
            gate2.clone(),
            &policy,
            DispatchOptions::default(),
        );
        for day in 1..10 {
            within(
                "tick",
                d2.tick(utc(2026, 4, 1, 14, 0) + chrono::Duration::days(day)),
            )
            .await
            .unwrap();
        }
        assert!(gate2.keys().is_empty(), "{}: {:?}", db.name(), gate2.keys());
    }
}

// ---------------------------------------------------------------------------------------
// Crashes between claim, send and record.
// ---------------------------------------------------------------------------------------

/// Where the first dispatcher dies.
#[derive(Clone, Copy, Debug)]
enum Crash {
    /// The mailer took the message, then the process died before the mailer answered.
    InTheMailer,
    /// The mailer answered, then the process died before the outcome reached the store.
    BeforeTheRecord,
    /// The outcome was committed, then the process died.
    AfterTheRecord,
}

/// Runs dispatcher A on one invoice until it dies at `crash` (its tick future dropped), and
/// returns the instant it ticked.
async fn crash_a(db: &Db, crash: Crash, guarantee: Guarantee) -> DateTime<Utc> {
    let (clients, items) = one_invoice("acme", "America/Santiago", "F-1", d(2026, 4, 1));
    db.put(&clients, &items).await;
    let on_finish = match crash {
        Crash::InTheMailer => OnFinish::Pass,
        Crash::BeforeTheRecord => OnFinish::HangBefore,
        Crash::AfterTheRecord => OnFinish::HangAfter,
    };
    let (tap, mut finishing) = Tap::new(db.store().await, on_finish, None);
    let act = if matches!(crash, Crash::InTheMailer) {
        Act::TakeAndHang
    } else {
        Act::Accept
    };
    let (gate, mut taken) = Gate::new(move |_| act);
    let options = DispatchOptions::default().with_guarantee(guarantee);
    let a = dispatcher(tap, gate.clone(), &weekly_policy("America/Santiago"), options);
    let now = utc(2026, 4, 1, 14, 0);
    {
        let tick = a.tick(now);
        tokio::pin!(tick);
        tokio::select! {
            r = &mut tick => panic!("{}: A's tick ended though it was to die: {r:?}", db.name()),
            () = async {
                within("A's send", taken.recv()).await;
                if !matches!(crash, Crash::InTheMailer) {
                    within("A's record", finishing.recv()).await;
                }
            } => {}
        }
    }
    // The process dies: its tick and its dispatcher are gone.
    drop(a);
    assert_eq!(gate.keys(), ["overdue/F-1/1"], "{}", db.name());
    now
}

/// README: "a send that may have gone (a timeout, a crash before recording) is never
/// retried under at-most-once"; "the next tick that finds a claim older than two send
/// timeouts records it as outcome unknown, reports it once and never sends it again".
/// And once the outcome was committed, the send is known: nothing is reported unknown.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_at_each_step_after_the_send_never_sends_again_and_reports_once() {
    let dir = TempDir::new("attack-crash");
    for crash in [Crash::InTheMailer, Crash::BeforeTheRecord, Crash::AfterTheRecord] {
        for db in dbs(&dir, &format!("crash_{crash:?}").to_lowercase()).await {
            let now = crash_a(&db, crash, Guarantee::AtMostOnce).await;
            let (gate, _) = Gate::new(|_| Act::Accept);
            let policy = weekly_policy("America/Santiago");
            let b = dispatcher(
                db.store().await,
                gate.clone(),
                &policy,
                DispatchOptions::default(),
            );
            let mut unknown = 0;
            let mut sent_reports = 0;
            // Within the two send timeouts (A might still be sending), then well after,
            // then on the following days (weekly repeats are other keys).
            for at in [
                now + chrono::Duration::seconds(10),
                now + chrono::Duration::minutes(5),
                now + chrono::Duration::hours(3),
                now + chrono::Duration::days(1),
            ] {
                let report = within("B's tick", b.tick(at)).await.unwrap();
                unknown += report
                    .unknown()
                    .filter(|s| s.key.as_str() == "overdue/F-1/1")
                    .count();
                sent_reports += report
                    .sent()
                    .filter(|s| s.key.as_str() == "overdue/F-1/1")
                    .count();
            }
            assert!(
                !gate.keys().iter().any(|k| k == "overdue/F-1/1"),
                "{} {crash:?}: sent again: {:?}",
                db.name(),
                gate.keys()
            );
            assert_eq!(sent_reports, 0, "{} {crash:?}", db.name());
            let expected_unknown = usize::from(!matches!(crash, Crash::AfterTheRecord));
            assert_eq!(
                unknown,
                expected_unknown,
                "{} {crash:?}: reported unknown",
                db.name()
            );
            let store = db.store().await;
            let state = store.delivery(&"overdue/F-1/1".into()).await.unwrap();
            match crash {
                Crash::AfterTheRecord => {
                    assert!(
                        matches!(state, Some(Delivery::Sent { .. })),
                        "{} {crash:?}: {state:?}",
                        db.name()
                    )
                }
                _ => assert!(
                    matches!(state, Some(Delivery::Unknown { .. })),
                    "{} {crash:?}: {state:?}",
                    db.name()
                ),
            }
        }
    }
}

/// README (When a worker dies): "under at-least-once it is claimed again once its lease has
/// run out, and may go twice (unless by then its reminder is stopped for good, its invoice
/// paid say: then it is recorded outcome unknown and reported once, never sent again)".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_least_once_a_crash_goes_again_only_after_the_lease_and_never_after_payment() {
    let dir = TempDir::new("attack-alo");
    let lease = 3 * 3600;
    for paid in [false, true] {
        for db in dbs(&dir, &format!("alo_{paid}")).await {
            let guarantee = Guarantee::AtLeastOnce { lease_secs: lease };
            let now = crash_a(&db, Crash::InTheMailer, guarantee).await;
            if paid {
                let (_, items) = one_invoice("acme", "America/Santiago", "F-1", d(2026, 4, 1));
                db.put(&[], &[items[0].clone().paid(money("1000", "CLP"), d(2026, 4, 1))])
                    .await;
            }
            let (gate, _) = Gate::new(|_| Act::Accept);
            let options = DispatchOptions::default().with_guarantee(guarantee);
            let b = dispatcher(
                db.store().await,
                gate.clone(),
                &weekly_policy("America/Santiago"),
                options,
            );
            let key = "overdue/F-1/1";
            let early = within("B", b.tick(now + chrono::Duration::hours(2)))
                .await
                .unwrap();
            assert!(
                gate.keys().is_empty(),
                "{}: went again inside the lease: {:?}",
                db.name(),
                outcomes(&early)
            );
            let mut unknown = 0;
            for h in [4, 6, 30] {
                let r = within("B", b.tick(now + chrono::Duration::hours(h)))
                    .await
                    .unwrap();
                unknown += r.unknown().filter(|s| s.key.as_str() == key).count();
            }
            let again = gate.keys().iter().filter(|k| *k == key).count();
            if paid {
                assert_eq!(again, 0, "{}: went again after the payment", db.name());
                assert_eq!(unknown, 1, "{}: reported unknown once", db.name());
            } else {
                assert_eq!(again, 1, "{}: goes again once after the lease", db.name());
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// A stalled mailer past its timeout, and ambiguous against definite failures.
// ---------------------------------------------------------------------------------------

/// README: "A send that timed out ... may have gone: under at-most-once (the default) it is
/// recorded as outcome unknown, reported once and never retried; under at-least-once it is
/// retried after its lease". A's mailer stalls; the dispatcher's own send timeout (on its
/// manual clock) gives up; B on another connection must wait for the lease.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_mailer_times_out_and_the_other_worker_respects_the_guarantee() {
    let dir = TempDir::new("attack-stall");
    for at_least_once in [false, true] {
        for db in dbs(&dir, &format!("stall_{at_least_once}")).await {
            let (clients, items) = one_invoice("acme", "America/Santiago", "F-1", d(2026, 4, 1));
            db.put(&clients, &items).await;
            let now = utc(2026, 4, 1, 14, 0);
            let clock = Arc::new(ManualClock::new(now));
            let guarantee = if at_least_once {
                Guarantee::AtLeastOnce { lease_secs: 600 }
            } else {
                Guarantee::AtMostOnce
            };
            let options = DispatchOptions::default()
                .with_send_timeout(Duration::from_secs(60))
                .with_guarantee(guarantee);
            let (gate_a, mut taken) = Gate::new(|_| Act::TakeAndHang);
            let a = dispatcher(
                db.store().await,
                gate_a.clone(),
                &weekly_policy("America/Santiago"),
                options.clone(),
            )
            .with_clock(clock.clone());
            let a_tick = tokio::spawn(async move { a.tick(now).await.map(|r| outcomes(&r)) });
            within("A's send", taken.recv()).await;
            clock.advance(chrono::Duration::seconds(61));
            let a_report = within("A's tick after its timeout", a_tick)
                .await
                .unwrap()
                .unwrap();
            let (gate_b, _) = Gate::new(|_| Act::Accept);
            let b = dispatcher(
                db.store().await,
                gate_b.clone(),
                &weekly_policy("America/Santiago"),
                options,
            )
            .with_clock(clock.clone());
            // Inside the lease, and past any backoff: never.
            for m in [2, 5, 9] {
                within("B", b.tick(now + chrono::Duration::minutes(m)))
                    .await
                    .unwrap();
            }
            assert!(
                gate_b.keys().is_empty(),
                "{}: went again early; A said {a_report:?}",
                db.name()
            );
            for m in [11, 60, 600] {
                within("B", b.tick(now + chrono::Duration::minutes(m)))
                    .await
                    .unwrap();
            }
            let again = gate_b.keys().len();
            assert_eq!(
                again,
                usize::from(at_least_once),
                "{} at_least_once={at_least_once}: A said {a_report:?}",
                db.name()
            );
        }
    }
}

/// README: "A transient mail error is retried with backoff ... A permanent one is recorded
/// once ... the tick does not report it again"; an ambiguous one is never retried under
/// at-most-once. Three invoices, three failures, two workers alternating.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ambiguous_transient_and_permanent_failures_across_two_workers() {
    let dir = TempDir::new("attack-fail-kinds");
    for db in dbs(&dir, "fail_kinds").await {
        let clients = vec![client("acme", "America/Santiago")];
        let items: Vec<Item> = ["F-A", "F-T", "F-P"]
            .iter()
            .map(|id| invoice(id, "acme", d(2026, 3, 1), d(2026, 4, 1), money("1000", "CLP")))
            .collect();
        db.put(&clients, &items).await;
        let script = |m: &Message| match m.key.as_str() {
            "overdue/F-A/1" => Act::Ambiguous,
            "overdue/F-T/1" => Act::Transient,
            "overdue/F-P/1" => Act::Permanent,
            _ => Act::Accept,
        };
        let (gate_a, _) = Gate::new(script);
        let (gate_b, _) = Gate::new(script);
        let policy = weekly_policy("America/Santiago");
        let opts = DispatchOptions::default().with_retries(3, Duration::from_secs(60));
        let a = dispatcher(db.store().await, gate_a.clone(), &policy, opts.clone());
        let b = dispatcher(db.store().await, gate_b.clone(), &policy, opts);
        let mut failed = 0;
        let mut unknown = 0;
        for i in 0..12 {
            let at = utc(2026, 4, 1, 14, 0) + chrono::Duration::minutes(10 * i);
            let r = within("tick", if i % 2 == 0 { a.tick(at) } else { b.tick(at) })
                .await
                .unwrap();
            failed += r.failed().filter(|s| s.key.as_str() == "overdue/F-P/1").count();
            unknown += r.unknown().filter(|s| s.key.as_str() == "overdue/F-A/1").count();
        }
        let tries = |k: &str| {
            gate_a
                .keys()
                .iter()
                .chain(gate_b.keys().iter())
                .filter(|x| *x == k)
                .count()
        };
        assert_eq!(
            tries("overdue/F-A/1"),
            1,
            "{}: the ambiguous send was retried",
            db.name()
        );
        assert_eq!(unknown, 1, "{}: unknown reported once", db.name());
        assert_eq!(failed, 1, "{}: the permanent failure reported once", db.name());
        let store = db.store().await;
        assert!(
            matches!(
                store.delivery(&"overdue/F-T/1".into()).await.unwrap(),
                Some(Delivery::Failed { attempt: 3, .. })
            ),
            "{}: {:?}",
            db.name(),
            store.delivery(&"overdue/F-T/1".into()).await.unwrap()
        );
    }
}

// ---------------------------------------------------------------------------------------
// Two workers whose ticks straddle a send instant, local midnight, a daylight-saving night.
// ---------------------------------------------------------------------------------------

/// README (Missed sends): "Only the latest stage of an item whose instant has come goes
/// (older missed ones are superseded, each explained), and a stage due later that same day is
/// superseded by the one that went, never the reverse ... One reminder a day about an item";
/// (Deploying) "Two processes on one file are safe too".
///
/// After an outage, worker A ticks at 08:59 (the first weekly stage is the missed one due)
/// and worker B at 09:01 (the second stage's instant has come). One dispatcher ticking at
/// both instants sends one reminder that day; the two workers, A's send still in the mailer
/// when B ticks, send two.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_straddling_a_stage_instant_send_one_reminder_that_day() {
    let dir = TempDir::new("attack-straddle");
    let policy = weekly_policy("UTC");
    let (clients, items) = one_invoice("acme", "UTC", "F-1", d(2026, 3, 2));
    let before = utc(2026, 3, 9, 8, 59);
    let after = utc(2026, 3, 9, 9, 1);
    // One dispatcher: one reminder on 9 March.
    let single = Db::Sqlite(dir.file("single.sqlite"));
    single.put(&clients, &items).await;
    let (gate, _) = Gate::new(|_| Act::Accept);
    let one = dispatcher(
        single.store().await,
        gate.clone(),
        &policy,
        DispatchOptions::default(),
    );
    one.tick(before).await.unwrap();
    one.tick(after).await.unwrap();
    assert_eq!(gate.keys().len(), 1, "one dispatcher: {:?}", gate.keys());
    for db in dbs(&dir, "straddle").await {
        db.put(&clients, &items).await;
        let (gate_a, mut taken) = Gate::new(|_| Act::TakeAndWait);
        let (gate_b, _) = Gate::new(|_| Act::Accept);
        let a = dispatcher(
            db.store().await,
            gate_a.clone(),
            &policy,
            DispatchOptions::default(),
        );
        let b = dispatcher(
            db.store().await,
            gate_b.clone(),
            &policy,
            DispatchOptions::default(),
        );
        let a_tick = tokio::spawn(async move { a.tick(before).await.map(|r| outcomes(&r)) });
        within("A's send", taken.recv()).await;
        let b_report = within("B", b.tick(after)).await.unwrap();
        gate_a.open();
        let a_report = within("A", a_tick).await.unwrap().unwrap();
        let all: Vec<String> = gate_a.keys().into_iter().chain(gate_b.keys()).collect();
        assert_eq!(
            all.len(),
            1,
            "{}: reminders about F-1 on 9 March: {all:?}; A {a_report:?}; B {:?}",
            db.name(),
            outcomes(&b_report)
        );
    }
}

/// DESIGN.md 1: "in an overlap the earlier instant wins"; README: "never earlier, never
/// later". Santiago's clocks go back at midnight on 4-5 April 2026, so 23:30 on 4 April
/// happens twice (02:30Z and 03:30Z); 00:30 on 6 September 2026 never happens and is read
/// with the offset before the gap (04:30Z). Two workers tick alternately every ten minutes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_across_daylight_saving_nights_send_once_at_the_right_instant() {
    let dir = TempDir::new("attack-dst");
    for (name, due, send_time, start, instant) in [
        (
            "fall",
            d(2026, 4, 4),
            t(23, 30),
            utc(2026, 4, 5, 1, 0),
            utc(2026, 4, 5, 2, 30),
        ),
        (
            "spring",
            d(2026, 9, 6),
            t(0, 30),
            utc(2026, 9, 6, 2, 0),
            utc(2026, 9, 6, 4, 30),
        ),
    ] {
        for db in dbs(&dir, &format!("dst_{name}")).await {
            let policy = Policy::new(tz("America/Santiago"))
                .with_calendar(all_days())
                .with_send_time(send_time)
                .with_rule(rule("overdue", Anchor::Due, 0));
            let (clients, items) = one_invoice("acme", "America/Santiago", "F-1", due);
            db.put(&clients, &items).await;
            let (gate, _) = Gate::new(|_| Act::Accept);
            let a = dispatcher(
                db.store().await,
                gate.clone(),
                &policy,
                DispatchOptions::default(),
            );
            let b = dispatcher(
                db.store().await,
                gate.clone(),
                &policy,
                DispatchOptions::default(),
            );
            let mut sent_at = Vec::new();
            for i in 0..24 {
                let at = start + chrono::Duration::minutes(10 * i);
                let r = within("tick", if i % 2 == 0 { a.tick(at) } else { b.tick(at) })
                    .await
                    .unwrap();
                for s in r.sent() {
                    sent_at.push((s.key.to_string(), at));
                }
            }
            assert_eq!(sent_at.len(), 1, "{} {name}: {sent_at:?}", db.name());
            assert!(
                sent_at[0].1 >= instant,
                "{} {name}: sent before {instant}: {sent_at:?}",
                db.name()
            );
            assert!(
                sent_at[0].1 < instant + chrono::Duration::minutes(10),
                "{} {name}: not at the first tick after {instant}: {sent_at:?}",
                db.name()
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// Ids with odd characters: shards, re-reads, recipients.
// ---------------------------------------------------------------------------------------

fn odd_ids() -> Vec<String> {
    let mut ids: Vec<String> = [
        "a%",
        "a_b",
        "axb",
        "o'hara",
        "q\"x",
        "back\\slash",
        "ñandú",
        "NANDU",
        "nandu",
        "😀",
        "İstanbul",
        "straße",
        "x\u{202e}y",
        "semi;colon",
        "comma,id",
        "[1]",
        "{}",
        "*",
        "1e5",
        "-1",
        "a\u{1f}b",
        "a\u{7f}b",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    ids.push("L".repeat(300));
    for n in 0..40 {
        ids.push(format!("c{n}"));
    }
    ids.retain(|id| ClientId::new(id).is_ok());
    ids
}

/// README: "A client belongs to shard `fnv1a32(id) % n` ... computable in any language or in
/// SQL"; "everything about a client is planned from its own data, so the shards together
/// send what one dispatcher sends". Every shard count a host may pick, odd ones included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn odd_client_ids_fall_in_their_shard_and_each_gets_its_own_mail_once() {
    let dir = TempDir::new("attack-odd-ids");
    let ids = odd_ids();
    let clients: Vec<Client> = ids
        .iter()
        .map(|id| {
            Client::new(id.parse().unwrap(), format!("Client {id}"))
                .with_contact(Contact::new(
                    "Billing",
                    format!("billing+{}@example.com", Shard::bucket(id)),
                ))
                .with_time_zone(tz("America/Santiago"))
        })
        .collect();
    let items: Vec<Item> = ids
        .iter()
        .map(|id| {
            invoice(
                &format!("{id}-F"),
                id,
                d(2026, 3, 1),
                d(2026, 4, 1),
                money("1000", "CLP"),
            )
        })
        .collect();
    for db in dbs(&dir, "odd_ids").await {
        db.put(&clients, &items).await;
        let store = db.store().await;
        for n in [1u32, 2, 3, 5, 7, 16, 17, 32, 1000, u32::MAX] {
            let mut seen: Vec<String> = Vec::new();
            let shards: Vec<Shard> = if n <= 32 {
                Shard::all(n).collect()
            } else {
                ids.iter()
                    .map(|id| Shard::new(Shard::bucket(id) % n, n).unwrap())
                    .collect()
            };
            for shard in shards {
                let snap = store.load_shard(shard).await.unwrap();
                for c in &snap.clients {
                    assert!(
                        shard.contains(&c.id),
                        "{}: {:?} loaded in {shard}",
                        db.name(),
                        c.id
                    );
                    seen.push(c.id.to_string());
                }
                for i in &snap.items {
                    assert!(
                        shard.contains(&i.client),
                        "{}: item {:?} loaded in {shard}",
                        db.name(),
                        i.id
                    );
                }
            }
            seen.sort();
            seen.dedup();
            if n <= 32 {
                let mut all = ids.clone();
                all.sort();
                assert_eq!(seen, all, "{}: shards of {n} together", db.name());
            }
        }
        let (gate, _) = Gate::new(|_| Act::Accept);
        let policy = weekly_policy("America/Santiago");
        let mut workers = Vec::new();
        for s in Shard::all(3) {
            let opts = DispatchOptions::default().with_shard(s).with_concurrency(8);
            workers.push(dispatcher(db.store().await, gate.clone(), &policy, opts));
        }
        for w in &workers {
            let r = within("worker", w.tick(utc(2026, 4, 1, 14, 0))).await.unwrap();
            assert!(r.refused.is_empty(), "{}: {:?}", db.name(), r.refused);
        }
        let taken = gate.taken.lock().unwrap().clone();
        assert_eq!(taken.len(), ids.len(), "{}: {:?}", db.name(), gate.keys());
        for m in &taken {
            let item = m.key.as_str().split('/').nth(1).unwrap().to_owned();
            let id = item.strip_suffix("-F").unwrap();
            assert_eq!(
                m.to.iter().map(|t| t.email.clone()).collect::<Vec<_>>(),
                [format!("billing+{}@example.com", Shard::bucket(id))],
                "{}: {}",
                db.name(),
                m.key
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// Store limits and reopening.
// ---------------------------------------------------------------------------------------

/// README (Limits): "amounts up to `i64::MAX` minor units"; history entries carry `u32`
/// occurrences. What a store is given, it hands back the same, by every load.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_largest_amounts_and_occurrences_round_trip_through_each_store() {
    let dir = TempDir::new("attack-limits");
    let max = Money::from_minor(i64::MAX, Currency::from_code("CLP").unwrap());
    for db in dbs(&dir, "limits").await {
        let clients = vec![client("acme", "America/Santiago")];
        let items = vec![
            invoice("F-MAX", "acme", d(2026, 3, 1), d(2026, 4, 1), max),
            invoice("F-1", "acme", d(2026, 3, 1), d(2026, 4, 1), money("1000", "CLP")),
        ];
        db.put(&clients, &items).await;
        let store = db.store().await;
        let entry = HistoryEntry {
            key: "overdue/F-1/4294967295".into(),
            rule: Some("overdue".parse().unwrap()),
            client: "acme".parse().unwrap(),
            items: vec![HistoryItem {
                item: "F-1".parse().unwrap(),
                occurrence: u32::MAX,
            }],
            sent_at: utc(2026, 4, 1, 12, 0),
            outcome: HistoryOutcome::Sent,
        };
        store.append_history(entry.clone()).await.unwrap();
        for snap in [
            store.load().await.unwrap(),
            store
                .load_shard(Shard::new(Shard::bucket("acme") % 4, 4).unwrap())
                .await
                .unwrap(),
            store.load_client(&"acme".parse().unwrap()).await.unwrap(),
        ] {
            let f = snap.items.iter().find(|i| i.id.as_str() == "F-MAX").unwrap();
            assert_eq!(f.total, Some(max), "{}", db.name());
            assert_eq!(snap.history, vec![entry.clone()], "{}", db.name());
        }
    }
}

// ---------------------------------------------------------------------------------------
// Batched re-reads, grouped notices racing a payment, a grouped notice released.
// ---------------------------------------------------------------------------------------

/// README: "re-reads each claimed event's client and plans it again (a payment recorded
/// since the load stops it)"; "the claims, the re-reads of clients ... go to the store as one
/// batch each". Many clients, 64 sends in flight, every other client's invoice paid by
/// another connection right after the first batch of claims commits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payments_landing_after_a_batch_of_claims_stop_exactly_the_paid_sends() {
    let dir = TempDir::new("attack-batch-paid");
    let ids: Vec<String> = (0..150).map(|n| format!("cl-{n:03}")).collect();
    let clients: Vec<Client> = ids.iter().map(|id| client(id, "America/Santiago")).collect();
    let items: Vec<Item> = ids
        .iter()
        .map(|id| {
            invoice(
                &format!("F-{id}"),
                id,
                d(2026, 3, 1),
                d(2026, 4, 1),
                money("1000", "CLP"),
            )
        })
        .collect();
    let paid: Vec<Item> = items
        .iter()
        .step_by(2)
        .map(|i| i.clone().paid(money("1000", "CLP"), d(2026, 4, 1)))
        .collect();
    for db in dbs(&dir, "batch_paid").await {
        db.put(&clients, &items).await;
        let again = match &db {
            Db::Sqlite(p) => Db::Sqlite(p.clone()),
            Db::Pg(c) => Db::Pg(c.clone()),
        };
        let paid = paid.clone();
        let hook: Hook = Box::new(move || Box::pin(async move { again.put(&[], &paid).await }));
        let (tap, _) = Tap::new(db.store().await, OnFinish::Pass, Some(hook));
        let (gate, _) = Gate::new(|_| Act::Accept);
        let opts = DispatchOptions::default().with_concurrency(64);
        let a = dispatcher(tap, gate.clone(), &weekly_policy("America/Santiago"), opts);
        within("tick", a.tick(utc(2026, 4, 1, 14, 0))).await.unwrap();
        let mut sent = gate.keys();
        sent.sort();
        let expected: Vec<String> = items
            .iter()
            .skip(1)
            .step_by(2)
            .map(|i| format!("overdue/{}/1", i.id))
            .collect();
        assert_eq!(sent, expected, "{}", db.name());
    }
}

fn grouped_policy() -> Policy {
    Policy::new(tz("America/Santiago"))
        .with_calendar(all_days())
        .with_rule(rule("overdue", Anchor::Due, 0).repeat(7, 3).grouped())
}

/// Which item occurrences the sent history entries cover.
async fn covered(store: &dyn Store) -> Vec<(String, u32)> {
    let mut out: Vec<(String, u32)> = store
        .load()
        .await
        .unwrap()
        .history
        .iter()
        .filter(|h| h.outcome.is_sent())
        .flat_map(|h| h.items.iter().map(|i| (i.item.to_string(), i.occurrence)))
        .collect();
    out.sort();
    out
}

/// README: "a grouped notice also claims each item occurrence it covers, so two dispatchers
/// never send one twice"; "paid ... items stop, also when the payment lands between the
/// tick's claim and its send". Worker A claims the notice about F-1 and F-2; F-2 is paid and
/// worker B ticks (planning a notice about F-1 alone) before A re-reads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grouped_notice_racing_a_payment_and_another_worker_covers_each_occurrence_once() {
    let dir = TempDir::new("attack-group-race");
    for db in dbs(&dir, "group_race").await {
        let clients = vec![client("acme", "America/Santiago")];
        let items: Vec<Item> = ["F-1", "F-2"]
            .iter()
            .map(|id| invoice(id, "acme", d(2026, 3, 1), d(2026, 4, 1), money("1000", "CLP")))
            .collect();
        db.put(&clients, &items).await;
        let now = utc(2026, 4, 1, 14, 0);
        let (gate, _) = Gate::new(|_| Act::Accept);
        let paid = items[1].clone().paid(money("1000", "CLP"), d(2026, 4, 1));
        let b = dispatcher(
            db.store().await,
            gate.clone(),
            &grouped_policy(),
            DispatchOptions::default(),
        );
        let b = Arc::new(b);
        let b_in_hook = b.clone();
        let again = match &db {
            Db::Sqlite(p) => Db::Sqlite(p.clone()),
            Db::Pg(c) => Db::Pg(c.clone()),
        };
        let b_report = Arc::new(Mutex::new(None));
        let b_report_in = b_report.clone();
        let hook: Hook = Box::new(move || {
            Box::pin(async move {
                again.put(&[], &[paid]).await;
                let r = b_in_hook.tick(now + chrono::Duration::seconds(1)).await.unwrap();
                *b_report_in.lock().unwrap() = Some(outcomes(&r));
            })
        });
        let (tap, _) = Tap::new(db.store().await, OnFinish::Pass, Some(hook));
        let a = dispatcher(tap, gate.clone(), &grouped_policy(), DispatchOptions::default());
        let a_report = within("A", a.tick(now)).await.unwrap();
        for m in [5, 60, 180] {
            within("B", b.tick(now + chrono::Duration::minutes(m)))
                .await
                .unwrap();
        }
        let store = db.store().await;
        let cov = covered(store.as_ref()).await;
        assert_eq!(
            cov,
            [("F-1".to_owned(), 1)],
            "{}: sent {:?}; A {:?}; B {:?}",
            db.name(),
            gate.keys(),
            outcomes(&a_report),
            b_report.lock().unwrap()
        );
        assert_eq!(gate.keys().len(), 1, "{}: {:?}", db.name(), gate.keys());
    }
}

/// README (Outcome-unknown keys): "calls `Dispatcher::release(key)` for one more try (a
/// grouped notice's key releases the item occurrences it covered too)". A crash leaves a
/// grouped notice unknown; released, it goes once more, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crashed_grouped_notice_released_goes_once_more_only() {
    let dir = TempDir::new("attack-group-release");
    for db in dbs(&dir, "group_release").await {
        let clients = vec![client("acme", "America/Santiago")];
        let items: Vec<Item> = ["F-1", "F-2"]
            .iter()
            .map(|id| invoice(id, "acme", d(2026, 3, 1), d(2026, 4, 1), money("1000", "CLP")))
            .collect();
        db.put(&clients, &items).await;
        let now = utc(2026, 4, 1, 14, 0);
        let (gate_a, mut taken) = Gate::new(|_| Act::TakeAndHang);
        {
            let a = dispatcher(
                db.store().await,
                gate_a.clone(),
                &grouped_policy(),
                DispatchOptions::default(),
            );
            let tick = a.tick(now);
            tokio::pin!(tick);
            tokio::select! {
                r = &mut tick => panic!("A ended: {r:?}"),
                _ = within("A's send", taken.recv()) => {}
            }
        }
        let key: EventKey = gate_a.keys()[0].as_str().into();
        let (gate_b, _) = Gate::new(|_| Act::Accept);
        let b = dispatcher(
            db.store().await,
            gate_b.clone(),
            &grouped_policy(),
            DispatchOptions::default(),
        );
        let mut unknown = 0;
        for m in [1, 5, 60] {
            let r = within("B", b.tick(now + chrono::Duration::minutes(m)))
                .await
                .unwrap();
            unknown += r.unknown().count();
        }
        assert_eq!(unknown, 1, "{}: one unknown report for the notice", db.name());
        assert!(gate_b.keys().is_empty(), "{}: {:?}", db.name(), gate_b.keys());
        assert!(within("release", b.release(&key)).await.unwrap(), "{}", db.name());
        for m in [61, 62, 120, 240] {
            within("B", b.tick(now + chrono::Duration::minutes(m)))
                .await
                .unwrap();
        }
        assert_eq!(
            gate_b.keys(),
            [key.to_string()],
            "{}: released notice goes once",
            db.name()
        );
        let cov = covered(db.store().await.as_ref()).await;
        assert_eq!(
            cov,
            [("F-1".to_owned(), 1), ("F-2".to_owned(), 1)],
            "{}",
            db.name()
        );
    }
}

// ---------------------------------------------------------------------------------------
// Hostile text reaching SMTP.
// ---------------------------------------------------------------------------------------

/// A bare SMTP server on loopback that accepts everything and keeps each session's
/// transcript (every byte the client wrote).
fn raw_smtp() -> (u16, Arc<Mutex<Vec<Vec<u8>>>>) {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let sessions = Arc::new(Mutex::new(Vec::new()));
    let kept = sessions.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let kept = kept.clone();
            std::thread::spawn(move || {
                let mut out = stream.try_clone().unwrap();
                let mut reader = BufReader::new(stream);
                let mut transcript = Vec::new();
                let _ = out.write_all(b"220 raw ESMTP\r\n");
                let mut in_data = false;
                loop {
                    let mut line = Vec::new();
                    match reader.read_until(b'\n', &mut line) {
                        Ok(0) | Err(_) => break,
                        Ok(_) => {}
                    }
                    transcript.extend_from_slice(&line);
                    if in_data {
                        if line == b".\r\n" {
                            in_data = false;
                            let _ = out.write_all(b"250 queued\r\n");
                        }
                        continue;
                    }
                    let upper = String::from_utf8_lossy(&line).to_ascii_uppercase();
                    let reply: &[u8] = if upper.starts_with("EHLO") {
                        b"250-raw\r\n250 8BITMIME\r\n"
                    } else if upper.starts_with("DATA") {
                        in_data = true;
                        b"354 go\r\n"
                    } else if upper.starts_with("QUIT") {
                        let _ = out.write_all(b"221 bye\r\n");
                        break;
                    } else {
                        b"250 ok\r\n"
                    };
                    let _ = out.write_all(reply);
                }
                kept.lock().unwrap().push(transcript);
            });
        }
    });
    (port, sessions)
}

/// The transcripts of the raw server once at least `n` of them hold a message (or after 10
/// seconds): each is kept when its connection ends, which may be just after the mailer
/// returned.
fn sessions_with_data(sessions: &Arc<Mutex<Vec<Vec<u8>>>>, n: usize) -> Vec<Vec<u8>> {
    let mut kept = Vec::new();
    // At most 1,000 waits of 10 ms.
    for _ in 0..1000 {
        kept = sessions.lock().unwrap().clone();
        let with_data = kept
            .iter()
            .filter(|s| s.windows(6).any(|w| w == b"DATA\r\n"))
            .count();
        if with_data >= n {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    kept
}

/// README: "templates ... rendered with hostile client, contact, company and item text: every
/// header free of line breaks"; DESIGN.md 12: "header fields refuse line breaks". Through
/// the dispatcher and the SMTP mailer: each message reaches exactly its recipients, its
/// header block holds only the headers the mailer writes (no header of the attacker's), and
/// no NUL or bare CR/LF reaches the wire (line length: see the test below).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_text_reaches_smtp_without_new_headers_or_recipients() {
    use dunning_adapters::smtp::SmtpMailer;
    let (port, sessions) = raw_smtp();
    let hostile = [
        "Evil\r\nBcc: victim@evil.example",
        "Evil\nX-Injected: 1",
        "Evil\rX-Injected: 2",
        "N\u{0}UL",
        "bidi \u{202e}gnp.exe\u{202c} \u{2066}x\u{2069}",
        "ümlaut ñandú 😀 中文",
        "quote\" <victim@evil.example>, \"x",
        "=?utf-8?q?encoded=0D=0ABcc:_victim@evil.example?=",
    ];
    let mut clients = Vec::new();
    let mut items = Vec::new();
    for (n, text) in hostile.iter().copied().enumerate() {
        let id = format!("c{n}");
        clients.push(
            Client::new(id.parse().unwrap(), format!("{text} SpA"))
                .with_contact(Contact::new(
                    format!("Ana {text}"),
                    format!("ana{n}@acme.example"),
                ))
                .with_time_zone(tz("America/Santiago")),
        );
        items.push(
            invoice(
                &format!("F-{n}"),
                &id,
                d(2026, 3, 1),
                d(2026, 4, 1),
                money("1000", "CLP"),
            )
            .with_number(format!("N{n} {text}")),
        );
    }
    let store = Arc::new(MemoryStore::new(clients, items));
    let mut policy = weekly_policy("America/Santiago");
    policy.company.name = format!("Andinos {} {}", hostile[5], "Z".repeat(3000));
    let from = Mailbox {
        name: Some(format!("Cobranza {}", hostile[5])),
        email: "cobranza@andinos.example".into(),
    };
    let mailer = Arc::new(SmtpMailer::localhost(port, from));
    let d1 = Dispatcher::new(store, mailer, &policy).unwrap();
    let report = within("tick", d1.tick(utc(2026, 4, 1, 14, 0))).await.unwrap();
    let sent = report.sent().count();
    let sessions = sessions_with_data(&sessions, sent);
    assert!(sent > 0, "{:?} refused {:?}", outcomes(&report), report.refused);
    eprintln!(
        "sent {sent}, refused {:?}, outcomes {:?}",
        report
            .refused
            .iter()
            .map(|r| r.client.to_string())
            .collect::<Vec<_>>(),
        outcomes(&report)
    );
    let with_data: Vec<&Vec<u8>> = sessions
        .iter()
        .filter(|s| s.windows(6).any(|w| w == b"DATA\r\n"))
        .collect();
    assert_eq!(with_data.len(), sent, "{:?}", outcomes(&report));
    let allowed = [
        "from",
        "to",
        "subject",
        "date",
        "message-id",
        "mime-version",
        "content-type",
        "content-transfer-encoding",
        "reply-to",
        "cc",
        "user-agent",
    ];
    for t in with_data {
        assert!(!t.contains(&0), "NUL on the wire");
        for (i, b) in t.iter().enumerate() {
            if *b == b'\n' {
                assert!(i > 0 && t[i - 1] == b'\r', "bare LF on the wire at {i}");
            }
            if *b == b'\r' {
                assert!(t.get(i + 1) == Some(&b'\n'), "bare CR on the wire at {i}");
            }
        }
        let text = String::from_utf8_lossy(t);
        let rcpts: Vec<&str> = text
            .lines()
            .filter(|l| l.to_ascii_uppercase().starts_with("RCPT TO"))
            .collect();
        assert_eq!(rcpts.len(), 1, "{rcpts:?}");
        assert!(
            !text.contains("victim@evil.example>\r\n") || !rcpts[0].contains("victim"),
            "{rcpts:?}"
        );
        let data = &text[text.find("DATA\r\n").unwrap() + 6..];
        let header = &data[..data.find("\r\n\r\n").unwrap()];
        for line in header.split("\r\n") {
            if line.starts_with(' ') || line.starts_with('\t') {
                continue;
            }
            let name = line.split(':').next().unwrap().to_ascii_lowercase();
            assert!(allowed.contains(&name.as_str()), "header {name:?} in {header}");
        }
    }
}

/// The wire (SMTP) and `.eml` lines of a message whose item number is one 5,000-character
/// word: each line at most 998 characters.
///
/// `to_eml` rustdoc: "every header is encoded and folded (a value holding a line break cannot
/// start a header of its own)"; RFC 5322 2.1.1 ("Each line of characters MUST be no more than
/// 998 characters") and RFC 5321 4.5.3.1.6 (1000 octets with CRLF), which an MTA may enforce
/// by refusing or breaking the message. Found: `Subject: Su factura N° N8\r\n WWW...W` goes
/// out as a 5,001-character header line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]

async fn a_long_item_number_is_folded_into_lines_of_at_most_998_characters() {
    use dunning_adapters::smtp::SmtpMailer;
    let (port, sessions) = raw_smtp();
    let clients = vec![client("acme", "America/Santiago")];
    let items = vec![
        invoice("F-1", "acme", d(2026, 3, 1), d(2026, 4, 1), money("1000", "CLP"))
            .with_number(format!("N {}", "W".repeat(5000))),
    ];
    let store = Arc::new(MemoryStore::new(clients, items));
    let from = Mailbox {
        name: Some("Cobranza".into()),
        email: "cobranza@andinos.example".into(),
    };
    let (gate, _) = Gate::new(|_| Act::Accept);
    let policy = weekly_policy("America/Santiago");
    let d1 = Dispatcher::new(store.clone(), gate.clone(), &policy).unwrap();
    within("tick", d1.tick(utc(2026, 4, 1, 14, 0))).await.unwrap();
    let message = gate.taken.lock().unwrap()[0].clone();
    let eml = dunning_adapters::outbox::to_eml(&message).unwrap();
    let longest_eml = eml.split(|b| *b == b'\n').map(<[u8]>::len).max().unwrap();
    SmtpMailer::localhost(port, from).send(&message).await.unwrap();
    let wire = sessions_with_data(&sessions, 1)[0].clone();
    let longest_wire = wire.split(|b| *b == b'\n').map(<[u8]>::len).max().unwrap();
    assert!(
        longest_eml <= 999 && longest_wire <= 999,
        "longest line: .eml {longest_eml}, SMTP {longest_wire} (with CR)"
    );
}

fn hostile_message(to_name: &str) -> Message {
    serde_json::from_value(serde_json::json!({
        "key": "overdue/F-1/1",
        "to": [{"name": to_name, "email": "ana@acme.example"}],
        "subject": "s",
        "text": "t",
        "locale": "es",
    }))
    .unwrap()
}

/// The `Mailer` trait: "# Errors [`MailError`], saying whether to retry"; the SMTP module:
/// each failure is `Transient`, `Permanent` or `Ambiguous`; README: "never a panic". A
/// sender display name given to the mailer (host configuration) or a recipient name in a
/// host-built message (a manual send) holding a line break or a NUL must be an error or be
/// encoded, never a panic that unwinds through the dispatcher's tick (with its claims taken).
/// `to_eml` rustdoc: "display names are quoted or encoded ... a value holding a line break
/// cannot start a header of its own"; "# Errors [`MailError::Permanent`] for an address that
/// does not parse". Found: for a name holding CR or LF (NUL is fine), lettre's mailbox header
/// `Display` fails and `SmtpMailer::send` (sender or recipient name) and `to_eml` (recipient
/// name) panic ("a Display implementation returned an error unexpectedly").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]

async fn names_with_line_breaks_never_panic_the_smtp_mailer_or_the_outbox() {
    use dunning_adapters::smtp::SmtpMailer;
    let (port, _) = raw_smtp();
    let mut panics = Vec::new();
    for bad in [
        "Cobranza\r\nBcc: victim@evil.example",
        "Cobranza\nX: 1",
        "Cobranza\rX",
        "Co\u{0}branza",
    ] {
        let from = Mailbox {
            name: Some(bad.into()),
            email: "cobranza@andinos.example".into(),
        };
        let mailer = SmtpMailer::localhost(port, from);
        let outcome =
            tokio::spawn(async move { mailer.send(&hostile_message("Ana")).await.map(|_| ()) }).await;
        if outcome.is_err() {
            panics.push(format!("SMTP from {bad:?}"));
        }
        let ok_from = Mailbox {
            name: Some("Cobranza".into()),
            email: "cobranza@andinos.example".into(),
        };
        let mailer = SmtpMailer::localhost(port, ok_from);
        let outcome = tokio::spawn(async move { mailer.send(&hostile_message(bad)).await.map(|_| ()) }).await;
        if outcome.is_err() {
            panics.push(format!("SMTP to {bad:?}"));
        }
        let m = hostile_message(bad);
        if std::panic::catch_unwind(|| dunning_adapters::outbox::to_eml(&m)).is_err() {
            panics.push(format!(".eml to {bad:?}"));
        }
    }
    assert!(panics.is_empty(), "panicked: {panics:?}");
}

/// README: "The first worker of a new version to connect applies its migrations (under an
/// advisory lock)"; SQLite: "Any number of processes may open one file at once". Stores
/// reopened (migrations run again) while another connection holds claims keep them, and a
/// key claimed before the reopen is not granted again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reopening_a_store_runs_migrations_again_and_keeps_every_claim() {
    let dir = TempDir::new("attack-reopen");
    for db in dbs(&dir, "reopen").await {
        let first = db.store().await;
        let now = utc(2026, 4, 1, 14, 0);
        let key: EventKey = "overdue/F-1/1".into();
        assert!(matches!(
            first.claim(&key, now, None).await.unwrap(),
            Claim::Granted { .. }
        ));
        let reopened: Vec<Arc<dyn Store>> = futures_util::future::join_all((0..4).map(|_| db.store())).await;
        for s in &reopened {
            let c = s
                .claim(&key, now + chrono::Duration::seconds(1), None)
                .await
                .unwrap();
            assert!(matches!(c, Claim::Refused(_)), "{}: {c:?}", db.name());
        }
        assert!(
            matches!(
                first.delivery(&key).await.unwrap(),
                Some(Delivery::Claimed { .. })
            ),
            "{}",
            db.name()
        );
    }
}
