//! Running it for real: the run loop, one source of time, and what a tick tells a host's
//! tracing subscriber.

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use async_trait::async_trait;
use chrono::Duration;
use common::hooked::{Hooked, Hooks};
use common::*;
use dunning::*;

fn policy() -> Policy {
    Policy::new(tz("UTC"))
        .with_rule(rule("issued", Anchor::Issued, 0))
        .with_rule(rule("overdue", Anchor::Due, 0))
}

fn store() -> Arc<MemoryStore> {
    let clients = vec![client("acme", "UTC"), client("zeta", "Europe/Madrid")];
    let items = vec![
        invoice("F-1", "acme", d(2026, 4, 1), d(2026, 4, 3), money("100", "USD")),
        invoice("F-2", "zeta", d(2026, 4, 2), d(2026, 4, 4), money("200", "EUR")),
    ];
    Arc::new(MemoryStore::new(clients, items))
}

/// Counts loads, fails the loads it is told to, and can be slow to load.
struct Watched {
    loads: AtomicUsize,
    in_load: AtomicUsize,
    most_at_once: AtomicUsize,
    fail_loads: Vec<usize>,
    slow: bool,
}

fn watched(inner: Arc<MemoryStore>, fail_loads: Vec<usize>, slow: bool) -> Arc<Hooked<Watched>> {
    Hooked::new(
        inner,
        Watched {
            loads: AtomicUsize::new(0),
            in_load: AtomicUsize::new(0),
            most_at_once: AtomicUsize::new(0),
            fail_loads,
            slow,
        },
    )
}

#[async_trait]
impl Hooks for Watched {
    async fn load(&self, inner: &MemoryStore) -> Result<Snapshot, StoreError> {
        let n = self.loads.fetch_add(1, Ordering::SeqCst);
        let now = self.in_load.fetch_add(1, Ordering::SeqCst) + 1;
        self.most_at_once.fetch_max(now, Ordering::SeqCst);
        if self.slow {
            tokio::time::sleep(StdDuration::from_millis(30)).await;
        }
        self.in_load.fetch_sub(1, Ordering::SeqCst);
        if self.fail_loads.contains(&n) {
            return Err(StoreError::Backend(format!("load {n} failed")));
        }
        inner.load().await
    }
}

/// Waits (in real time) until `f` holds, up to two seconds.
async fn until(f: impl Fn() -> bool) {
    for _ in 0..400 {
        if f() {
            return;
        }
        tokio::time::sleep(StdDuration::from_millis(5)).await;
    }
    panic!("timed out waiting");
}

/// `run` ticks from the dispatcher's clock, every period, until shutdown; a failed tick is
/// counted and the loop goes on; what is due goes out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_run_loop_ticks_every_period_from_its_clock_goes_on_after_a_failure_and_stops() {
    let memory = store();
    let watched = watched(memory.clone(), vec![1], false);
    let clock = Arc::new(ManualClock::new(utc(2026, 4, 1, 12, 0)));
    let mailer = Arc::new(RecordingMailer::new());
    let dispatcher = Arc::new(
        Dispatcher::new(watched.clone(), mailer.clone(), &policy())
            .unwrap()
            .with_clock(clock.clone()),
    );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn({
        let dispatcher = dispatcher.clone();
        async move {
            dispatcher
                .run(StdDuration::from_secs(6 * 3600), async move {
                    let _ = stopped.await;
                })
                .await
        }
    });
    // The first tick runs at once; then one every six hours of the clock.
    until(|| watched.hooks.loads.load(Ordering::SeqCst) == 1).await;
    for n in 2..=14 {
        tokio::time::sleep(StdDuration::from_millis(20)).await;
        assert_eq!(
            watched.hooks.loads.load(Ordering::SeqCst),
            n - 1,
            "no tick before the period"
        );
        clock.advance(Duration::hours(6));
        until(|| watched.hooks.loads.load(Ordering::SeqCst) == n).await;
    }
    stop.send(()).unwrap();
    let summary = running.await.unwrap();
    assert_eq!(summary, RunSummary { ticks: 14, failed: 1 });
    // The failed tick (the second, at 18:00) did not stop the loop: both invoices went.
    let keys: Vec<String> = mailer.sent().iter().map(|m| m.key.to_string()).collect();
    for key in ["issued/F-1/1", "issued/F-2/1", "overdue/F-1/1", "overdue/F-2/1"] {
        assert!(keys.contains(&key.to_owned()), "{key} not sent: {keys:?}");
    }
    assert_eq!(keys.len(), 4, "{keys:?}");
}

/// A shutdown that has already come runs no tick.
#[tokio::test]
async fn a_loop_shut_down_before_it_starts_runs_no_tick() {
    let watched = watched(store(), vec![], false);
    let dispatcher = Dispatcher::new(watched.clone(), Arc::new(RecordingMailer::new()), &policy()).unwrap();
    let summary = dispatcher.run(StdDuration::from_secs(60), async {}).await;
    assert_eq!(summary, RunSummary::default());
    assert_eq!(watched.hooks.loads.load(Ordering::SeqCst), 0);
}

/// Ticks of one dispatcher never overlap, however the host calls them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ticks_of_one_dispatcher_never_run_at_once() {
    let watched = watched(store(), vec![], true);
    let dispatcher =
        Arc::new(Dispatcher::new(watched.clone(), Arc::new(RecordingMailer::new()), &policy()).unwrap());
    let now = utc(2026, 4, 5, 12, 0);
    let ticks: Vec<_> = (0..4)
        .map(|_| {
            let d = dispatcher.clone();
            tokio::spawn(async move { d.tick(now).await.unwrap() })
        })
        .collect();
    for t in ticks {
        t.await.unwrap();
    }
    assert_eq!(watched.hooks.loads.load(Ordering::SeqCst), 4);
    assert_eq!(
        watched.hooks.most_at_once.load(Ordering::SeqCst),
        1,
        "two ticks ran at once"
    );
}

/// `tick_now` ticks at the dispatcher's clock, the same clock the loop and manual sends use.
#[tokio::test]
async fn tick_now_reads_the_dispatchers_clock() {
    let clock = Arc::new(ManualClock::new(utc(2026, 4, 3, 10, 0)));
    let dispatcher = Dispatcher::new(store(), Arc::new(RecordingMailer::new()), &policy())
        .unwrap()
        .with_clock(clock.clone());
    let report = dispatcher.tick_now().await.unwrap();
    assert_eq!(report.now, Some(utc(2026, 4, 3, 10, 0)));
    assert!(report.sent().any(|s| s.key.as_str() == "overdue/F-1/1"));
}

/// A span or event seen: its target, its name (or level) and its fields.
type Seen1 = (String, String, BTreeMap<String, String>);

/// What a subscriber saw: spans (name and fields, as recorded by the end) and events.
#[derive(Default)]
struct Seen {
    spans: Mutex<Vec<Seen1>>,
    events: Mutex<Vec<Seen1>>,
}

struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl tracing::field::Visit for Fields<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
    fn record_u64(&mut self, field: &tracing::field::Field, value: u64) {
        self.0.insert(field.name().to_owned(), value.to_string());
    }
}

struct Capture(Arc<Seen>);

impl tracing::Subscriber for Capture {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, attrs: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        let mut fields = BTreeMap::new();
        attrs.record(&mut Fields(&mut fields));
        let meta = attrs.metadata();
        let mut spans = self.0.spans.lock().unwrap();
        spans.push((meta.target().to_owned(), meta.name().to_owned(), fields));
        tracing::span::Id::from_u64(spans.len() as u64)
    }
    fn record(&self, span: &tracing::span::Id, values: &tracing::span::Record<'_>) {
        let mut spans = self.0.spans.lock().unwrap();
        if let Some((_, _, fields)) = spans.get_mut(span.into_u64() as usize - 1) {
            values.record(&mut Fields(fields));
        }
    }
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let mut fields = BTreeMap::new();
        event.record(&mut Fields(&mut fields));
        let meta = event.metadata();
        self.0
            .events
            .lock()
            .unwrap()
            .push((meta.target().to_owned(), meta.level().to_string(), fields));
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

/// A tick's spans carry what a host graphs and alerts on: the tick's now, planned, due, sent
/// and failed; each send's key, client, rule, stage, attempt, outcome and duration; and a
/// debug event per plan with the input's sizes and the planning time.
#[test]
fn a_ticks_spans_and_events_carry_their_fields() {
    let seen = Arc::new(Seen::default());
    let memory = store();
    let mailer = RecordingMailer::new().with_script(|m, _| {
        if m.key.as_str().contains("F-2") {
            Behaviour::FailPermanent
        } else {
            Behaviour::Accept
        }
    });
    let dispatcher = Dispatcher::new(memory, Arc::new(mailer), &policy()).unwrap();
    let now = utc(2026, 4, 5, 12, 0);
    let report = tracing::subscriber::with_default(Capture(seen.clone()), || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(dispatcher.tick(now))
            .unwrap()
    });
    assert_eq!(report.sent().count(), 1);
    assert_eq!(report.failed().count(), 1);
    let spans = seen.spans.lock().unwrap();
    let ticks: Vec<_> = spans.iter().filter(|(_, name, _)| name == "tick").collect();
    assert_eq!(ticks.len(), 1);
    let (target, _, tick) = ticks[0];
    assert_eq!(target, "dunning::dispatch");
    assert_eq!(tick["now"], now.to_string());
    assert_eq!(tick["planned"], "2");
    assert_eq!(tick["due"], "2");
    assert_eq!(tick["sent"], "1");
    assert_eq!(tick["failed"], "1");
    let mut sends: Vec<&BTreeMap<String, String>> = spans
        .iter()
        .filter(|(target, name, _)| name == "send" && target == "dunning::dispatch")
        .map(|(_, _, f)| f)
        .collect();
    sends.sort_by_key(|f| f["key"].clone());
    assert_eq!(sends.len(), 2);
    let fields = |f: &BTreeMap<String, String>| {
        ["key", "client", "rule", "stage", "attempt", "outcome"].map(|k| f[k].clone())
    };
    assert_eq!(
        fields(sends[0]),
        ["overdue/F-1/1", "acme", "overdue", "overdue", "1", "sent"]
    );
    assert_eq!(
        fields(sends[1]),
        ["overdue/F-2/1", "zeta", "overdue", "overdue", "1", "failed"]
    );
    for s in &sends {
        assert!(s["duration_ms"].parse::<u64>().is_ok(), "{s:?}");
    }
    let events = seen.events.lock().unwrap();
    let planned = events
        .iter()
        .find(|(target, level, f)| {
            target == "dunning::dispatch"
                && level == "DEBUG"
                && f.get("message").is_some_and(|m| m == "planned")
        })
        .expect("a debug event per plan");
    for (k, v) in [("clients", "2"), ("items", "2"), ("history", "0"), ("due", "2")] {
        assert_eq!(planned.2[k], v, "{k}");
    }
    assert!(planned.2["planning_ms"].parse::<u64>().is_ok());
    assert!(
        events
            .iter()
            .any(|(_, level, f)| level == "WARN" && f.get("key").is_some_and(|k| k == "overdue/F-2/1")),
        "a failed send is logged"
    );
}

/// A manual resend works by event key for every kind of event (an item's reminder, a grouped
/// notice, a statement, a standing notice), sent before or still to come; the message, the
/// history entry and the log line share one manual key; an event nothing plans any more is
/// not resent.
#[tokio::test]
async fn a_resend_works_by_key_for_every_kind_of_event() {
    let policy = Policy::new(tz("UTC"))
        .with_rule(rule("issued", Anchor::Issued, 0))
        .with_rule(rule("overdue", Anchor::Due, 0).grouped())
        .with_statement(StatementRule::new(
            "monthly".parse().unwrap(),
            "FREQ=MONTHLY;BYMONTHDAY=1",
            d(2026, 1, 1),
        ))
        .with_standing(StandingRule::new(5, 10));
    let clients = vec![client("acme", "UTC")];
    let items = vec![
        invoice("F-1", "acme", d(2026, 3, 20), d(2026, 4, 1), money("100", "USD")),
        invoice("F-2", "acme", d(2026, 3, 20), d(2026, 4, 1), money("50", "USD")),
        invoice("F-3", "acme", d(2026, 3, 20), d(2026, 5, 30), money("10", "USD")),
    ];
    let memory = Arc::new(MemoryStore::new(clients, items));
    let mailer = Arc::new(RecordingMailer::new());
    let clock = Arc::new(ManualClock::new(utc(2026, 3, 20, 12, 0)));
    let dispatcher = Dispatcher::new(memory.clone(), mailer.clone(), &policy)
        .unwrap()
        .with_clock(clock.clone());
    // Twenty-five days of daily ticks: issued notices, the grouped overdue notice, the
    // statement of April and the standing notices go out.
    for _ in 0..25 {
        dispatcher.tick_now().await.unwrap();
        clock.advance(Duration::days(1));
    }
    let history = memory.snapshot().history;
    let key_of = |prefix: &str| {
        history
            .iter()
            .find(|h| h.key.as_str().starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix}: {history:?}"))
            .key
            .clone()
    };
    let sent_keys = [
        key_of("issued/F-1/"),
        key_of("overdue/acme/USD/g"),
        key_of("monthly/acme/2026-04-01"),
        key_of("closing-soon/acme/"),
        key_of("closed/acme/"),
    ];
    // And one still to come: F-3's issued notice went, its overdue one is upcoming.
    let upcoming: EventKey = {
        let s = memory.snapshot();
        let plan = dispatcher
            .planner()
            .plan(&s.clients, &s.items, &s.history, clock.now(), Horizon::days(60))
            .unwrap();
        plan.upcoming()
            .iter()
            .find(|e| e.rule.as_str() == "overdue")
            .unwrap()
            .key
            .clone()
    };
    for key in sent_keys.iter().chain([&upcoming]) {
        clock.advance(Duration::minutes(1));
        let before = mailer.sent().len();
        let id = dispatcher.resend(key).await.unwrap();
        let sent = mailer.sent();
        assert_eq!(sent.len(), before + 1, "{key}");
        let m = sent.last().unwrap();
        assert!(m.key.as_str().starts_with("manual/"), "{key}: {}", m.key);
        assert!(id.contains(m.key.as_str()), "{id} for {}", m.key);
        let h = memory.snapshot().history;
        let entry = h.iter().find(|h| h.key == m.key).unwrap();
        assert!(entry.rule.is_none());
        let log = memory.read_log(&LogFilter::key(m.key.to_string())).await.unwrap();
        assert_eq!(log.len(), 1, "{key}: {log:?}");
    }
    // Paid, F-1's reminders are not resent.
    memory.update_items(|items| {
        let b = items[0].balance().unwrap().unwrap();
        items[0] = items[0].clone().paid(b, d(2026, 4, 10));
    });
    let err = dispatcher.resend(&sent_keys[0]).await.unwrap_err();
    assert!(matches!(err, DispatchError::NothingToResend { .. }), "{err}");
    let err = dispatcher.resend(&"nothing/at/all".into()).await.unwrap_err();
    assert!(matches!(err, DispatchError::NothingToResend { .. }), "{err}");
}

/// A resend by key finds the client's notices when another client's item has the client's
/// id (client and item ids are apart: they were looked up among items first, and every
/// account notice and grouped notice of the client was "nothing plans it"); a grouped notice
/// one of whose items was paid since is resent about what is still owed, and once every
/// item is settled it is refused saying so (it was refused, saying "nor did when it was
/// sent" of a key recorded as sent).
#[tokio::test]
async fn a_resend_by_key_finds_its_client_and_what_is_still_owed() {
    let policy = Policy::new(tz("UTC"))
        .with_rule(rule("overdue", Anchor::Due, 0).grouped())
        .with_statement(StatementRule::new(
            "monthly".parse().unwrap(),
            "FREQ=MONTHLY;BYMONTHDAY=-1",
            d(2025, 1, 1),
        ))
        .with_standing(StandingRule::new(10, 20));
    let clients = vec![client("acme", "UTC"), client("beta", "UTC")];
    let items = vec![
        invoice("A-1", "acme", d(2025, 12, 1), d(2026, 1, 10), money("100", "USD")),
        invoice("A-2", "acme", d(2025, 12, 1), d(2026, 1, 10), money("30", "USD")),
        // Another client's item whose id is the client's.
        invoice("acme", "beta", d(2025, 12, 1), d(2026, 3, 1), money("50", "USD")),
    ];
    let memory = Arc::new(MemoryStore::new(clients.clone(), items.clone()));
    let mailer = Arc::new(RecordingMailer::new());
    let clock = Arc::new(ManualClock::new(utc(2026, 1, 5, 12, 0)));
    let dispatcher = Dispatcher::new(memory.clone(), mailer.clone(), &policy)
        .unwrap()
        .with_clock(clock.clone());
    // Planned, not sent: a statement, the standing notices and the grouped notice of acme.
    let plan = dispatcher
        .planner()
        .plan(&clients, &items, &[], clock.now(), Horizon::days(60))
        .unwrap();
    let planned: Vec<EventKey> = plan
        .events()
        .filter(|e| e.client.as_str() == "acme")
        .map(|e| e.key.clone())
        .collect();
    for prefix in [
        "monthly/acme/",
        "closing-soon/acme/",
        "closed/acme/",
        "overdue/acme/USD/g",
    ] {
        assert!(
            planned.iter().any(|k| k.as_str().starts_with(prefix)),
            "{prefix} planned: {planned:?}"
        );
    }
    for key in &planned {
        let before = mailer.sent().len();
        dispatcher
            .resend(key)
            .await
            .unwrap_or_else(|e| panic!("{key}: {e}"));
        let sent = mailer.sent();
        assert_eq!(sent.len(), before + 1, "{key}");
        assert_eq!(sent.last().unwrap().to[0].email, "billing@acme.example", "{key}");
    }

    // The grouped notice goes on its day; A-1 is paid after it.
    clock.set(utc(2026, 1, 12, 12, 0));
    let report = dispatcher.tick_now().await.unwrap();
    let notice = report
        .sent()
        .find(|r| r.key.as_str().starts_with("overdue/acme/USD/g"))
        .expect("the grouped notice went")
        .key
        .clone();
    memory.update_items(|items| {
        items[0] = items[0].clone().paid(money("100", "USD"), d(2026, 1, 13));
    });
    clock.set(utc(2026, 1, 14, 12, 0));
    let before = mailer.sent().len();
    dispatcher
        .resend(&notice)
        .await
        .unwrap_or_else(|e| panic!("A-2 is still owed: {e}"));
    let sent = mailer.sent();
    assert_eq!(sent.len(), before + 1);
    let m = sent.last().unwrap();
    assert!(m.text.contains("A-2"), "{}", m.text);
    assert!(!m.text.contains("A-1"), "asks again for paid A-1:\n{}", m.text);

    // Every item of it settled: refused, saying so.
    memory.update_items(|items| {
        items[1] = items[1].clone().paid(money("30", "USD"), d(2026, 1, 14));
    });
    clock.advance(Duration::minutes(1));
    match dispatcher.resend(&notice).await {
        Err(DispatchError::NothingToResend { why, .. }) => {
            assert!(why.contains("settled"), "{why}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(mailer.sent().len(), before + 1);
}

/// Advances the dispatcher's manual clock by two hours at each load: every tick takes longer
/// than the run loop's period.
struct SlowLoad {
    clock: ManualClock,
}

#[async_trait]
impl Hooks for SlowLoad {
    async fn load(&self, inner: &MemoryStore) -> Result<Snapshot, StoreError> {
        self.clock.advance(Duration::hours(2));
        inner.load().await
    }
}

/// On a single-threaded runtime, a shutdown signalled by another task is seen between ticks
/// even when every tick takes longer than the period, or the period is zero.
#[test]
fn the_run_loop_sees_its_shutdown_when_ticks_take_longer_than_the_period() {
    for period in [StdDuration::from_secs(3600), StdDuration::ZERO] {
        let (done, finished) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()
                .unwrap();
            let summary = rt.block_on(async {
                let clock = ManualClock::new(utc(2026, 4, 1, 10, 0));
                let store = Hooked::new(store(), SlowLoad { clock: clock.clone() });
                let dispatcher = Dispatcher::new(store, Arc::new(RecordingMailer::new()), &policy())
                    .unwrap()
                    .with_clock(Arc::new(clock));
                let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
                tokio::spawn(async move {
                    tokio::time::sleep(StdDuration::from_millis(50)).await;
                    let _ = stop.send(());
                });
                dispatcher
                    .run(period, async move {
                        let _ = stopped.await;
                    })
                    .await
            });
            let _ = done.send(summary);
        });
        let summary = finished
            .recv_timeout(StdDuration::from_secs(20))
            .unwrap_or_else(|_| panic!("run with a period of {period:?} never saw its shutdown"));
        assert!(summary.ticks > 0);
    }
}

/// The threads of this process (Linux: /proc; elsewhere the test says nothing).
fn threads() -> Option<usize> {
    std::fs::read_to_string("/proc/self/status")
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .and_then(|n| n.trim().parse().ok())
}

/// The system clock's sleeps (a send timeout each) share one timer thread: 400 sleeps of
/// 30 s leave no thread each, and each still ends at its time.
#[tokio::test(flavor = "current_thread")]
async fn the_system_clocks_sleeps_share_one_thread() {
    // One short sleep first: the timer thread starts with the first sleep.
    SystemClock.sleep(StdDuration::from_millis(1)).await;
    let Some(before) = threads() else { return };
    let sleeps: Vec<Sleep> = (0..400)
        .map(|_| SystemClock.sleep(StdDuration::from_secs(30)))
        .collect();
    let during = threads().unwrap();
    assert!(
        during <= before + 1,
        "{before} threads before, {during} with 400 sleeps"
    );
    let short = SystemClock.sleep(StdDuration::from_millis(20));
    let waited = tokio::time::timeout(StdDuration::from_secs(5), short).await;
    assert!(waited.is_ok(), "a 20 ms sleep did not end");
    drop(sleeps);
}

/// One client the planner refuses (an invalid contact address, balances past the largest
/// amount, an item of an unknown client) is left out of the tick and reported; every other
/// client's reminders go.
#[tokio::test]
async fn one_refused_client_does_not_stop_the_others() {
    let clp = |minor| Money::from_minor(minor, Currency::from_code("CLP").unwrap());
    let bad_contact = Client::new("bad".parse().unwrap(), "Bad")
        .with_contact(Contact::new("Ana", "ana@nodot"))
        .with_time_zone(tz("UTC"));
    let clients = vec![client("acme", "UTC"), bad_contact, client("huge", "UTC")];
    let items = vec![
        invoice("F-1", "acme", d(2026, 4, 1), d(2026, 4, 3), money("100", "USD")),
        invoice("B-1", "bad", d(2026, 4, 1), d(2026, 4, 3), money("100", "USD")),
        invoice("H-1", "huge", d(2026, 4, 1), d(2026, 4, 3), clp(i64::MAX / 2 + 1)),
        invoice("H-2", "huge", d(2026, 4, 1), d(2026, 4, 3), clp(i64::MAX / 2 + 1)),
        invoice("G-1", "ghost", d(2026, 4, 1), d(2026, 4, 3), money("1", "USD")),
    ];
    let memory = Arc::new(MemoryStore::new(clients, items));
    let mailer = Arc::new(RecordingMailer::new());
    let dispatcher = Dispatcher::new(memory, mailer.clone(), &policy()).unwrap();
    let report = dispatcher.tick(utc(2026, 4, 3, 12, 0)).await.unwrap();
    let refused: Vec<&str> = report.refused.iter().map(|r| r.client.as_str()).collect();
    assert_eq!(refused, ["bad", "ghost", "huge"], "{report:?}");
    assert!(
        report.refused[0].error.contains("ana@nodot"),
        "{:?}",
        report.refused[0]
    );
    let sent: Vec<String> = mailer.sent().iter().map(|m| m.key.to_string()).collect();
    assert_eq!(sent, ["overdue/F-1/1"]);
}

/// Two resends recorded at the same instant (a clock read to the second, an operator's
/// double click) have keys of their own, each shared by its message, history entry and log
/// line (they shared one key: `manual/F-1/2026-04-01T13:00:00Z` twice in history, under a
/// key that is meant to be unique).
#[tokio::test]
async fn two_resends_at_one_instant_have_keys_of_their_own() {
    let policy = Policy::new(tz("UTC"))
        .with_rule(rule("overdue", Anchor::Due, 0))
        .with_statement(StatementRule::new(
            "monthly".parse().unwrap(),
            "FREQ=MONTHLY;BYMONTHDAY=1",
            d(2026, 1, 1),
        ));
    let clients = vec![client("acme", "UTC")];
    let items = vec![invoice(
        "F-1",
        "acme",
        d(2026, 3, 1),
        d(2026, 4, 1),
        money("100", "USD"),
    )];
    let memory = Arc::new(MemoryStore::new(clients, items));
    let mailer = Arc::new(RecordingMailer::new());
    let clock = Arc::new(ManualClock::new(utc(2026, 4, 1, 13, 0)));
    let dispatcher = Dispatcher::new(memory.clone(), mailer.clone(), &policy)
        .unwrap()
        .with_clock(clock.clone());
    dispatcher.tick_now().await.unwrap();
    for key in ["overdue/F-1/1", "monthly/acme/2026-04-01"] {
        let before = mailer.sent().len();
        for _ in 0..3 {
            dispatcher.resend(&key.into()).await.unwrap();
        }
        let keys: Vec<String> = mailer.sent()[before..]
            .iter()
            .map(|m| m.key.to_string())
            .collect();
        let unique: std::collections::BTreeSet<&String> = keys.iter().collect();
        assert_eq!(unique.len(), 3, "{keys:?}");
        assert!(keys[1].ends_with("~2") && keys[2].ends_with("~3"), "{keys:?}");
        let history = memory.snapshot().history;
        for k in &keys {
            assert_eq!(history.iter().filter(|h| h.key.as_str() == k).count(), 1, "{k}");
            let log = memory.read_log(&LogFilter::key(k.clone())).await.unwrap();
            assert_eq!(log.len(), 1, "{k}: {log:?}");
        }
    }
    // History with them plans as before.
    let s = memory.snapshot();
    dispatcher
        .planner()
        .plan(&s.clients, &s.items, &s.history, clock.now(), Horizon::days(30))
        .unwrap();
}

/// A mailer that takes a while, so that two resends clicked at once overlap.
struct SlowMailer(RecordingMailer);

#[async_trait]
impl Mailer for SlowMailer {
    async fn send(&self, message: &Message) -> Result<Receipt, MailError> {
        tokio::time::sleep(StdDuration::from_millis(30)).await;
        self.0.send(message).await
    }
}

/// Two resends of one key at once (a double click, two operators) get keys of their own,
/// each sent and recorded once, and neither is later taken for a crash's abandoned claim (both
/// went out as `manual/F-1/2026-04-01T13:00:00Z`, with two history entries of that key: the
/// counter was worked out from a snapshot read before either was recorded). A refused send
/// lets its reserved key go and records nothing.
#[tokio::test]
async fn resends_at_once_reserve_keys_of_their_own() {
    let policy = Policy::new(tz("UTC")).with_rule(rule("overdue", Anchor::Due, 0));
    let items = vec![invoice(
        "F-1",
        "acme",
        d(2026, 3, 1),
        d(2026, 4, 1),
        money("100", "USD"),
    )];
    let memory = Arc::new(MemoryStore::new(vec![client("acme", "UTC")], items));
    let recorded = RecordingMailer::new();
    let clock = Arc::new(ManualClock::new(utc(2026, 4, 1, 13, 0)));
    let dispatcher = Dispatcher::new(memory.clone(), Arc::new(SlowMailer(recorded.clone())), &policy)
        .unwrap()
        .with_clock(clock.clone());
    dispatcher.tick_now().await.unwrap();
    let key: EventKey = "overdue/F-1/1".into();
    let (a, b, c) = tokio::join!(
        dispatcher.resend(&key),
        dispatcher.resend(&key),
        dispatcher.resend(&key)
    );
    for r in [a, b, c] {
        r.unwrap();
    }
    let keys: Vec<String> = recorded.sent()[1..].iter().map(|m| m.key.to_string()).collect();
    let unique: std::collections::BTreeSet<&String> = keys.iter().collect();
    assert_eq!((keys.len(), unique.len()), (3, 3), "{keys:?}");
    let history = memory.snapshot().history;
    for k in &keys {
        assert_eq!(history.iter().filter(|h| h.key.as_str() == k).count(), 1, "{k}");
        assert!(
            matches!(
                memory.delivery(&k.as_str().into()).await.unwrap(),
                Some(Delivery::Sent { .. })
            ),
            "{k}"
        );
    }
    // A day later, no claim of theirs is taken for abandoned.
    clock.advance(Duration::days(1));
    let report = dispatcher.tick_now().await.unwrap();
    assert_eq!(report.unknown().count(), 0, "{:?}", report.sends);
    assert_eq!(
        memory.snapshot().history.len(),
        history.len() + report.sent().count()
    );

    // The mailer refuses: the error is returned, nothing is recorded, the key is free again.
    let refusing = Arc::new(RecordingMailer::new().always(Behaviour::FailPermanent));
    let dispatcher = Dispatcher::new(memory.clone(), refusing, &policy)
        .unwrap()
        .with_clock(clock.clone());
    let before = memory.snapshot().history.len();
    assert!(matches!(
        dispatcher.resend(&key).await,
        Err(DispatchError::Mail(_))
    ));
    assert_eq!(memory.snapshot().history.len(), before);
    let manual = format!(
        "manual/F-1/{}",
        clock.now().to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
    );
    assert!(
        !matches!(
            memory.delivery(&manual.as_str().into()).await.unwrap(),
            Some(Delivery::Claimed { .. })
        ),
        "{manual} left claimed"
    );
    clock.advance(Duration::days(1));
    let report = dispatcher.tick_now().await.unwrap();
    assert_eq!(report.unknown().count(), 0, "{:?}", report.sends);
}

/// An item of an unknown client whose id is a client's does not stop that client's resend
/// (it was refused with the planner's error about the item's client, and the client itself
/// was never tried).
#[tokio::test]
async fn a_resend_is_not_stopped_by_an_item_of_an_unknown_client_named_like_the_client() {
    let policy = Policy::new(tz("UTC")).with_statement(StatementRule::new(
        "monthly".parse().unwrap(),
        "FREQ=MONTHLY;BYMONTHDAY=-1",
        d(2025, 1, 1),
    ));
    let items = vec![
        invoice("A-1", "acme", d(2025, 12, 1), d(2026, 1, 10), money("100", "USD")),
        invoice("acme", "ghost", d(2025, 12, 1), d(2026, 3, 1), money("50", "USD")),
    ];
    let memory = Arc::new(MemoryStore::new(vec![client("acme", "UTC")], items));
    let mailer = Arc::new(RecordingMailer::new());
    let clock = Arc::new(ManualClock::new(utc(2026, 1, 5, 12, 0)));
    let dispatcher = Dispatcher::new(memory, mailer.clone(), &policy)
        .unwrap()
        .with_clock(clock);
    dispatcher
        .resend(&"monthly/acme/2026-01-31".into())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(mailer.sent().len(), 1);
    // With no other client to try, the planner's error is the answer.
    let err = dispatcher.resend(&"overdue/acme/1".into()).await.unwrap_err();
    assert!(
        matches!(
            err,
            DispatchError::NothingToResend { .. } | DispatchError::Input(_)
        ),
        "{err}"
    );
}

/// A tick that fails logs an error, also when the host ticks from its own scheduler with
/// `tick_now` (only the run loop logged one).
#[test]
fn a_failed_tick_logs_an_error_whoever_calls_it() {
    let seen = Arc::new(Seen::default());
    let dispatcher = Dispatcher::new(
        watched(store(), vec![0], false),
        Arc::new(RecordingMailer::new()),
        &policy(),
    )
    .unwrap()
    .with_clock(Arc::new(ManualClock::new(utc(2026, 4, 1, 13, 0))));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let r = tracing::subscriber::with_default(Capture(seen.clone()), || rt.block_on(dispatcher.tick_now()));
    assert!(r.is_err());
    let events = seen.events.lock().unwrap();
    let errors: Vec<_> = events
        .iter()
        .filter(|(target, level, _)| target == "dunning::dispatch" && level == "ERROR")
        .collect();
    assert_eq!(errors.len(), 1, "{events:?}");
    assert!(errors[0].2["error"].contains("load 0 failed"), "{errors:?}");
    assert!(errors[0].2.contains_key("now"), "{errors:?}");
}

/// Fails `load_client` for one client: the re-read before a send.
struct RereadFails(&'static str);

#[async_trait]
impl Hooks for RereadFails {
    async fn load_client(&self, inner: &MemoryStore, client: &ClientId) -> Result<Snapshot, StoreError> {
        if client.as_str() == self.0 {
            return Err(StoreError::Backend("re-read down".into()));
        }
        inner.load_client(client).await
    }
}

/// A store error while delivering one client's event stops that event only: the tick
/// reports what went and the error as that event's outcome, and the event goes at a later
/// tick (the tick returned the error, its report of the other client's sends lost).
#[tokio::test]
async fn a_store_error_on_one_send_is_that_sends_outcome_not_the_ticks() {
    let memory = store();
    let hooked = Hooked::new(memory.clone(), RereadFails("zeta"));
    let mailer = Arc::new(RecordingMailer::new());
    let dispatcher = Dispatcher::new(hooked, mailer.clone(), &policy()).unwrap();
    let now = utc(2026, 4, 5, 12, 0);
    let report = dispatcher.tick(now).await.expect("the tick reports");
    assert_eq!(report.due, 2);
    let sent: Vec<_> = report.sent().map(|s| s.key.as_str()).collect();
    assert_eq!(sent, ["overdue/F-1/1"]);
    let stopped: Vec<_> = report
        .interrupted()
        .map(|s| (s.key.as_str(), s.outcome.error().unwrap_or_default().to_owned()))
        .collect();
    assert_eq!(stopped.len(), 1, "{report:#?}");
    assert_eq!(stopped[0].0, "overdue/F-2/1");
    assert!(stopped[0].1.contains("re-read down"), "{stopped:?}");
    assert_eq!(mailer.sent().len(), 1);
    // With the store back, the event goes at the next tick, once.
    let dispatcher = Dispatcher::new(memory, mailer.clone(), &policy()).unwrap();
    let report = dispatcher.tick(now + Duration::hours(1)).await.unwrap();
    let sent: Vec<_> = report.sent().map(|s| s.key.as_str()).collect();
    assert_eq!(sent, ["overdue/F-2/1"]);
    assert_eq!(mailer.sent().len(), 2);
}

/// Every due event has its `send` span, also one over the per-tick limit (only the events
/// sent had one), and a tick's store error on one send is the span's outcome.
#[test]
fn every_due_event_has_a_send_span_also_over_the_limit() {
    let seen = Arc::new(Seen::default());
    let dispatcher = Dispatcher::new(
        Hooked::new(store(), RereadFails("zeta")),
        Arc::new(RecordingMailer::new()),
        &policy(),
    )
    .unwrap()
    .with_options(DispatchOptions::default().with_per_tick_limit(1))
    .unwrap();
    let now = utc(2026, 4, 5, 12, 0);
    let report = tracing::subscriber::with_default(Capture(seen.clone()), || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(dispatcher.tick(now))
            .unwrap()
    });
    assert_eq!(report.sends.len(), 2);
    let spans = seen.spans.lock().unwrap();
    let mut sends: Vec<_> = spans
        .iter()
        .filter(|(target, name, _)| name == "send" && target == "dunning::dispatch")
        .map(|(_, _, f)| (f["key"].clone(), f["stage"].clone(), f["outcome"].clone()))
        .collect();
    sends.sort();
    assert_eq!(
        sends,
        [
            (
                "overdue/F-1/1".to_owned(),
                "overdue".to_owned(),
                "sent".to_owned()
            ),
            (
                "overdue/F-2/1".to_owned(),
                "overdue".to_owned(),
                "skipped".to_owned()
            ),
        ]
    );
    // With the limit off, the re-read error is the span's outcome.
    drop(spans);
    let seen = Arc::new(Seen::default());
    let dispatcher = Dispatcher::new(
        Hooked::new(store(), RereadFails("zeta")),
        Arc::new(RecordingMailer::new()),
        &policy(),
    )
    .unwrap();
    tracing::subscriber::with_default(Capture(seen.clone()), || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(dispatcher.tick(now))
            .unwrap()
    });
    let spans = seen.spans.lock().unwrap();
    let tick = &spans.iter().find(|(_, name, _)| name == "tick").unwrap().2;
    assert_eq!((tick["sent"].as_str(), tick["interrupted"].as_str()), ("1", "1"));
    let zeta = spans
        .iter()
        .find(|(_, name, f)| name == "send" && f["key"] == "overdue/F-2/1")
        .unwrap();
    assert_eq!(zeta.2["outcome"], "interrupted");
}

/// Fails the first `n` calls of each store method it is told to (claims only of `claim_key`;
/// `claim_after`: the claim is stored, then the answer lost; finishes only of keys starting
/// with `finish_key`).
#[derive(Default)]
struct Faults {
    load_client: AtomicUsize,
    finish: AtomicUsize,
    finish_key: &'static str,
    /// Fails finishes of keys starting with `finish_key2` too (its own count).
    finish2: AtomicUsize,
    finish_key2: &'static str,
    delivery: AtomicUsize,
    claim: AtomicUsize,
    claim_after: AtomicUsize,
    claim_key: &'static str,
}

fn fault(left: &AtomicUsize, what: &str) -> Result<(), StoreError> {
    if left
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
    {
        return Err(StoreError::Backend(format!("{what} down")));
    }
    Ok(())
}

#[async_trait]
impl Hooks for Faults {
    async fn load_client(&self, inner: &MemoryStore, client: &ClientId) -> Result<Snapshot, StoreError> {
        fault(&self.load_client, "re-read")?;
        inner.load_client(client).await
    }
    async fn claim(
        &self,
        inner: &MemoryStore,
        key: &EventKey,
        now: chrono::DateTime<chrono::Utc>,
        lease: Option<Duration>,
    ) -> Result<Claim, StoreError> {
        if key.as_str() == self.claim_key {
            fault(&self.claim, "claim")?;
            let claim = inner.claim(key, now, lease).await?;
            fault(&self.claim_after, "claim's answer")?;
            return Ok(claim);
        }
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
        if key.as_str().starts_with(self.finish_key) {
            fault(&self.finish, "record")?;
        }
        if !self.finish_key2.is_empty() && key.as_str().starts_with(self.finish_key2) {
            fault(&self.finish2, "record")?;
        }
        inner.finish(key, outcome, sent, log).await
    }
    async fn delivery(&self, inner: &MemoryStore, key: &EventKey) -> Result<Option<Delivery>, StoreError> {
        fault(&self.delivery, "delivery")?;
        inner.delivery(key).await
    }
}

/// Ticks `days` days from `start`, a day apart, and returns every key reported unknown.
async fn daily(dispatcher: &Dispatcher, start: chrono::DateTime<chrono::Utc>, days: i64) -> Vec<String> {
    let mut unknown = Vec::new();
    for day in 0..days {
        let report = dispatcher.tick(start + Duration::days(day)).await.unwrap();
        unknown.extend(report.unknown().map(|s| s.key.to_string()));
    }
    unknown
}

/// A store error before the send (the last check of the claim, the re-read, or the claim of
/// a grouped notice's item) leaves nothing held (the re-read fails twice: the tick's batch
/// read of its clients, then the read of that client alone): the event goes at the next tick, once (its
/// claim was left held, taken for abandoned and recorded as outcome unknown: never sent).
#[tokio::test]
async fn a_store_error_before_the_send_leaves_the_event_to_the_next_tick() {
    let cases: [(&str, Faults); 4] = [
        (
            "delivery check",
            Faults {
                delivery: AtomicUsize::new(1),
                ..Faults::default()
            },
        ),
        (
            "re-read, then its record, then the letting go",
            Faults {
                load_client: AtomicUsize::new(2),
                finish: AtomicUsize::new(2),
                ..Faults::default()
            },
        ),
        (
            "re-read",
            Faults {
                load_client: AtomicUsize::new(2),
                ..Faults::default()
            },
        ),
        (
            "a grouped notice's item claim",
            Faults {
                claim: AtomicUsize::new(1),
                claim_key: "overdue/F-3/1",
                ..Faults::default()
            },
        ),
    ];
    for (case, faults) in cases {
        let grouped = case.contains("grouped");
        let policy = if grouped {
            Policy::new(tz("UTC")).with_rule(rule("overdue", Anchor::Due, 0).grouped())
        } else {
            policy()
        };
        let memory = store();
        memory.update_items(|items| {
            items.push(invoice(
                "F-3",
                "acme",
                d(2026, 4, 1),
                d(2026, 4, 3),
                money("50", "USD"),
            ));
        });
        let mailer = Arc::new(RecordingMailer::new());
        let dispatcher =
            Dispatcher::new(Hooked::new(memory.clone(), faults), mailer.clone(), &policy).unwrap();
        let unknown = daily(&dispatcher, utc(2026, 4, 5, 12, 0), 3).await;
        assert!(unknown.is_empty(), "{case}: {unknown:?}");
        let mut sent: Vec<String> = mailer.sent().iter().map(|m| m.key.to_string()).collect();
        sent.sort();
        if grouped {
            // One notice a client: acme's two invoices in one.
            let owners: Vec<&str> = sent.iter().filter_map(|k| k.split('/').nth(1)).collect();
            assert_eq!(owners, ["acme", "zeta"], "{case}: {sent:?}");
        } else {
            // F-3's "issued" is superseded by its "overdue" on catch-up.
            assert_eq!(
                sent,
                ["overdue/F-1/1", "overdue/F-2/1", "overdue/F-3/1"],
                "{case}"
            );
        }
    }
}

/// Store faults a dispatcher recovers from without a false "outcome unknown": a claim check
/// that fails two ticks running (the claim it kept was taken for abandoned and recorded
/// unknown, then sent), a grouped notice's item outcome not recorded after the notice's was
/// (reported unknown though sent). (A claim the store took but answered with an error is
/// not guessed to be this dispatcher's: another's may carry the same instant.)
#[tokio::test]
async fn store_faults_around_claims_never_make_a_false_unknown() {
    let grouped = || Policy::new(tz("UTC")).with_rule(rule("overdue", Anchor::Due, 0).grouped());
    let cases: [(&str, Faults, Policy); 2] = [
        (
            "claim checks down across two ticks",
            Faults {
                delivery: AtomicUsize::new(6),
                ..Faults::default()
            },
            policy(),
        ),
        (
            "a grouped notice's item outcome not recorded",
            Faults {
                finish: AtomicUsize::new(1),
                finish_key: "overdue/F-3/1",
                ..Faults::default()
            },
            grouped(),
        ),
    ];
    for (case, faults, policy) in cases {
        let memory = store();
        memory.update_items(|items| {
            items.push(invoice(
                "F-3",
                "acme",
                d(2026, 4, 1),
                d(2026, 4, 3),
                money("50", "USD"),
            ));
        });
        let mailer = Arc::new(RecordingMailer::new());
        let dispatcher =
            Dispatcher::new(Hooked::new(memory.clone(), faults), mailer.clone(), &policy).unwrap();
        let unknown = daily(&dispatcher, utc(2026, 4, 5, 12, 0), 4).await;
        assert!(unknown.is_empty(), "{case}: {unknown:?}");
        let history = memory.snapshot().history;
        assert!(
            !history
                .iter()
                .any(|h| h.outcome == HistoryOutcome::OutcomeUnknown),
            "{case}: {history:#?}"
        );
        let mut sent: Vec<String> = mailer.sent().iter().map(|m| m.key.to_string()).collect();
        sent.sort();
        let unique: std::collections::HashSet<&String> = sent.iter().collect();
        assert_eq!(unique.len(), sent.len(), "{case}: {sent:?}");
        let owners: Vec<&str> = sent.iter().filter_map(|k| k.split('/').nth(1)).collect();
        let want: &[&str] = if case.contains("grouped") {
            &["acme", "zeta"]
        } else {
            &["F-1", "F-2", "F-3"]
        };
        assert_eq!(owners, want, "{case}: {sent:?}");
    }
}

/// A grouped notice sent and never recorded (a crash), its items then joined by another due
/// the day after: the crashed notice is reported unknown once, as the one message it was,
/// and the new item's notice goes that day (three unknowns were reported, and the new
/// item's notice was skipped as claimed for a day).
#[tokio::test]
async fn a_crashed_grouped_notice_is_one_unknown_and_a_newly_due_item_goes_on_its_day() {
    let policy = Policy::new(tz("UTC"))
        .with_rule(rule("issued", Anchor::Issued, 0))
        .with_rule(rule("overdue", Anchor::Due, 0).grouped());
    let memory = Arc::new(MemoryStore::new(
        vec![client("acme", "UTC")],
        vec![
            invoice("A-1", "acme", d(2026, 4, 1), d(2026, 4, 5), money("10", "USD")),
            invoice("A-2", "acme", d(2026, 4, 1), d(2026, 4, 5), money("20", "USD")),
            invoice("A-3", "acme", d(2026, 4, 1), d(2026, 4, 6), money("30", "USD")),
        ],
    ));
    let mailer = Arc::new(RecordingMailer::new());
    // The invoices' "issued" go first (occurrence 1 of another rule, recorded sent).
    let issued = Dispatcher::new(memory.clone(), mailer.clone(), &policy).unwrap();
    let first = issued.tick(utc(2026, 4, 1, 12, 0)).await.unwrap();
    assert_eq!(first.sent().count(), 3, "{first:#?}");
    let crashing = Dispatcher::new(
        Hooked::new(
            memory.clone(),
            Faults {
                finish: AtomicUsize::new(1),
                finish_key: "overdue/acme/",
                ..Faults::default()
            },
        ),
        mailer.clone(),
        &policy,
    )
    .unwrap();
    let first = crashing.tick(utc(2026, 4, 5, 12, 0)).await.unwrap();
    assert_eq!(first.interrupted().count(), 1, "{first:#?}");
    assert_eq!(mailer.sent().len(), 4);
    // Restarted the next day.
    let dispatcher = Dispatcher::new(memory.clone(), mailer.clone(), &policy).unwrap();
    let next = dispatcher.tick(utc(2026, 4, 6, 12, 0)).await.unwrap();
    let unknown: Vec<&str> = next.unknown().map(|s| s.key.as_str()).collect();
    assert_eq!(unknown.len(), 1, "{next:#?}");
    assert!(unknown[0].starts_with("overdue/acme/"), "{unknown:?}");
    let sent: Vec<_> = next.sent().collect();
    assert_eq!(sent.len(), 1, "A-3's notice goes on its day: {next:#?}");
    assert_eq!(mailer.sent().len(), 5);
    // The crashed notice's items are recorded unknown under its rule (not taken for sent by
    // their "issued", occurrence 1 of another rule: a notice with them was then skipped as
    // claimed at every tick).
    let history = memory.snapshot().history;
    for item in ["overdue/A-1/1", "overdue/A-2/1"] {
        assert!(
            history
                .iter()
                .any(|h| h.key.as_str() == item && h.outcome == HistoryOutcome::OutcomeUnknown),
            "{item}: {history:#?}"
        );
    }
    let later = dispatcher.tick(utc(2026, 4, 7, 12, 0)).await.unwrap();
    assert!(later.unknown().next().is_none(), "{later:#?}");
    assert!(later.skipped().next().is_none(), "{later:#?}");
}

/// A crashed grouped notice whose item occurrence the store refused to record as unknown at
/// first is still one report: the occurrence recorded alone at a later tick is not reported
/// again (it was, as an unknown message of its own).
#[tokio::test]
async fn a_crashed_grouped_notices_item_recorded_late_is_not_reported_again() {
    let policy = Policy::new(tz("UTC")).with_rule(rule("overdue", Anchor::Due, 0).grouped());
    let memory = Arc::new(MemoryStore::new(
        vec![client("acme", "UTC")],
        vec![
            invoice("A-1", "acme", d(2026, 4, 1), d(2026, 4, 5), money("10", "USD")),
            invoice("A-2", "acme", d(2026, 4, 1), d(2026, 4, 5), money("20", "USD")),
        ],
    ));
    let mailer = Arc::new(RecordingMailer::new());
    let crashing = Dispatcher::new(
        Hooked::new(
            memory.clone(),
            Faults {
                finish: AtomicUsize::new(1),
                finish_key: "overdue/acme/",
                ..Faults::default()
            },
        ),
        mailer.clone(),
        &policy,
    )
    .unwrap();
    assert_eq!(
        crashing
            .tick(utc(2026, 4, 5, 12, 0))
            .await
            .unwrap()
            .interrupted()
            .count(),
        1
    );
    let restarted = Dispatcher::new(
        Hooked::new(
            memory.clone(),
            Faults {
                finish2: AtomicUsize::new(1),
                finish_key2: "overdue/A-1/1",
                finish_key: "-",
                ..Faults::default()
            },
        ),
        mailer.clone(),
        &policy,
    )
    .unwrap();
    let unknown = daily(&restarted, utc(2026, 4, 6, 12, 0), 3).await;
    assert_eq!(unknown.len(), 1, "{unknown:?}");
    assert!(unknown[0].starts_with("overdue/acme/"), "{unknown:?}");
    assert!(
        memory
            .snapshot()
            .history
            .iter()
            .any(|h| h.key.as_str() == "overdue/A-1/1" && h.outcome == HistoryOutcome::OutcomeUnknown)
    );
    assert_eq!(mailer.sent().len(), 1);
}
