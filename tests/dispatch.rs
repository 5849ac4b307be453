//! The shell: dispatcher ticks over a store and a mailer, exactly once.

mod common;

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration as StdDuration;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use common::hooked::{Hooked, Hooks};
use common::*;
use dunning::*;

/// The report's entries in the shapes these tests read: (key, message id), (key, skip),
/// (key, attempt, error), (key, error), keys.
trait Lists {
    fn sent_pairs(&self) -> Vec<(EventKey, String)>;
    fn skip_pairs(&self) -> Vec<(EventKey, Skip)>;
    fn retry_triples(&self) -> Vec<(EventKey, u32, String)>;
    fn fail_pairs(&self) -> Vec<(EventKey, String)>;
    fn unknown_keys(&self) -> Vec<EventKey>;
}

impl Lists for TickReport {
    fn sent_pairs(&self) -> Vec<(EventKey, String)> {
        self.sends
            .iter()
            .filter_map(|s| match &s.outcome {
                SendOutcome::Sent { message_id } => Some((s.key.clone(), message_id.clone())),
                _ => None,
            })
            .collect()
    }
    fn skip_pairs(&self) -> Vec<(EventKey, Skip)> {
        self.sends
            .iter()
            .filter_map(|s| match &s.outcome {
                SendOutcome::Skipped { skip } => Some((s.key.clone(), skip.clone())),
                _ => None,
            })
            .collect()
    }
    fn retry_triples(&self) -> Vec<(EventKey, u32, String)> {
        self.sends
            .iter()
            .filter_map(|s| match &s.outcome {
                SendOutcome::Retrying { error, .. } => Some((s.key.clone(), s.attempt, error.clone())),
                _ => None,
            })
            .collect()
    }
    fn fail_pairs(&self) -> Vec<(EventKey, String)> {
        self.sends
            .iter()
            .filter_map(|s| match &s.outcome {
                SendOutcome::Failed { error } => Some((s.key.clone(), error.clone())),
                _ => None,
            })
            .collect()
    }
    fn unknown_keys(&self) -> Vec<EventKey> {
        self.unknown().map(|s| s.key.clone()).collect()
    }
}

fn policy() -> Policy {
    Policy::new(tz("America/Santiago"))
        .with_rule(rule("due-soon", Anchor::Due, -5))
        .with_rule(rule("due-today", Anchor::Due, 0))
        .with_rule(rule("overdue", Anchor::Due, 3).repeat(7, 4))
        .with_rule(Rule::pending_action("pending".parse().unwrap()))
}

fn portfolio() -> (Vec<Client>, Vec<Item>) {
    let clients = vec![client("cl", "America/Santiago"), client("es", "Europe/Madrid")];
    let mut items = Vec::new();
    for (ci, c) in clients.iter().enumerate() {
        for n in 0..8u32 {
            let issued = d(2026, 4, 1) + Duration::days(i64::from(n * 9 + ci as u32 * 2));
            items.push(invoice(
                &format!("{}-{n}", c.id),
                c.id.as_str(),
                issued,
                issued + Duration::days(20),
                money("100000", "CLP"),
            ));
        }
        items.push(Item::action(
            format!("{}-p", c.id).parse().unwrap(),
            c.id.clone(),
            ItemKind::Proposal,
            d(2026, 5, 2),
        ));
    }
    (clients, items)
}

fn setup(mailer: RecordingMailer) -> (Arc<MemoryStore>, Arc<RecordingMailer>, Dispatcher) {
    let (clients, items) = portfolio();
    let store = Arc::new(MemoryStore::new(clients, items));
    let mailer = Arc::new(mailer);
    let dispatcher = Dispatcher::new(store.clone(), mailer.clone(), &policy()).unwrap();
    (store, mailer, dispatcher)
}

/// A tiny seeded generator, so the "random" failures are the same every run.
fn lcg(seed: u64) -> impl Fn(u64) -> u64 {
    move |n| {
        let x = seed
            .wrapping_add(n)
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (x >> 33) % 100
    }
}

#[tokio::test]
async fn a_quarter_of_hourly_ticks_sends_each_event_once_retries_failures_and_stops_at_payment() {
    let roll = lcg(42);
    let mailer = RecordingMailer::new().with_script(move |_, n| {
        if roll(n as u64) < 20 {
            Behaviour::FailTransient
        } else {
            Behaviour::Accept
        }
    });
    let (store, mailer, dispatcher) = setup(mailer);
    let clock = Arc::new(ManualClock::new(utc(2026, 4, 1, 0, 0)));
    let dispatcher = dispatcher
        .with_clock(clock.clone())
        .with_options(DispatchOptions::default().with_retries(6, StdDuration::from_secs(600)))
        .unwrap();
    let mut paid_at: BTreeMap<String, DateTime<Utc>> = BTreeMap::new();
    let mut retried = HashSet::new();
    let mut failed = HashSet::new();
    let end = utc(2026, 6, 30, 0, 0);
    while clock.now() < end {
        let now = clock.now();
        // Payments arrive mid-way: on 05-15 at noon, every "cl" invoice is paid.
        if now == utc(2026, 5, 15, 12, 0) {
            store.update_items(|items| {
                for it in items
                    .iter_mut()
                    .filter(|i| i.client.as_str() == "cl" && i.kind == ItemKind::Invoice)
                {
                    let b = it.balance().unwrap().unwrap();
                    *it = it.clone().paid(b, d(2026, 5, 15));
                    paid_at.insert(it.id.to_string(), now);
                }
            });
        }
        let report = dispatcher.tick(now).await.unwrap();
        assert!(report.unknown_keys().is_empty());
        for (k, _, _) in &report.retry_triples() {
            retried.insert(k.clone());
        }
        for (k, _) in &report.fail_pairs() {
            failed.insert(k.clone());
        }
        clock.advance(Duration::hours(1));
    }
    let sent = mailer.sent();
    assert!(sent.len() > 50, "a busy quarter: {}", sent.len());
    assert!(mailer.calls() > sent.len(), "some sends failed and were retried");
    // Exactly once.
    let keys: HashSet<&str> = sent.iter().map(|m| m.key.as_str()).collect();
    assert_eq!(keys.len(), sent.len());
    // The store's history matches what the mailer accepted.
    let history = store.snapshot().history;
    assert_eq!(history.len(), sent.len());
    // Never after payment.
    for h in &history {
        for it in &h.items {
            if let Some(paid) = paid_at.get(it.item.as_str()) {
                assert!(h.sent_at < *paid, "{} sent at {} after payment", h.key, h.sent_at);
            }
        }
    }
    // Every failure was retried until sent, or recorded as failed.
    for k in &retried {
        let state = store.delivery(k).await.unwrap().unwrap();
        assert!(
            matches!(state, Delivery::Sent { .. } | Delivery::Failed { .. }) || failed.contains(k),
            "{k} left as {state:?}"
        );
    }
    assert!(!retried.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_dispatchers_on_one_store_never_send_a_key_twice() {
    let (store, mailer, a) = setup(RecordingMailer::new());
    let b = Dispatcher::new(store.clone(), mailer.clone(), &policy()).unwrap();
    let (a, b) = (Arc::new(a), Arc::new(b));
    let mut now = utc(2026, 4, 1, 13, 0);
    let mut total = 0;
    while now < utc(2026, 6, 1, 0, 0) {
        let (ra, rb) = tokio::join!(
            tokio::spawn({
                let a = a.clone();
                async move { a.tick(now).await.unwrap() }
            }),
            tokio::spawn({
                let b = b.clone();
                async move { b.tick(now).await.unwrap() }
            })
        );
        let (ra, rb) = (ra.unwrap(), rb.unwrap());
        let sent_a = ra.sent_pairs();
        let both: HashSet<_> = sent_a.iter().map(|s| &s.0).collect();
        assert!(
            rb.sent_pairs().iter().all(|s| !both.contains(&s.0)),
            "a key went out from both dispatchers"
        );
        total += ra.sent_pairs().len() + rb.sent_pairs().len();
        now += Duration::hours(6);
    }
    let sent = mailer.sent();
    assert_eq!(sent.len(), total);
    let keys: HashSet<&str> = sent.iter().map(|m| m.key.as_str()).collect();
    assert_eq!(keys.len(), sent.len());
    assert!(total > 20);
}

/// Loses the outcome of the next `finish` (a crash after sending, before recording).
struct Crashing {
    crash: std::sync::atomic::AtomicBool,
}

impl Crashing {
    fn once() -> Self {
        Self {
            crash: std::sync::atomic::AtomicBool::new(true),
        }
    }
}

#[async_trait]
impl Hooks for Crashing {
    async fn finish(
        &self,
        inner: &MemoryStore,
        key: &EventKey,
        outcome: Delivery,
        sent: Option<HistoryEntry>,
        log: Option<LogEntry>,
    ) -> Result<(), StoreError> {
        if self.crash.swap(false, std::sync::atomic::Ordering::SeqCst) {
            return Err(StoreError::Backend("process killed".into()));
        }
        inner.finish(key, outcome, sent, log).await
    }
}

#[tokio::test]
async fn a_crash_between_send_and_record_never_sends_twice_and_reports_the_unknown_outcome() {
    let (clients, items) = portfolio();
    let memory = Arc::new(MemoryStore::new(clients, items));
    let crashing = Hooked::new(memory.clone(), Crashing::once());
    let mailer = Arc::new(RecordingMailer::new());
    let opts = DispatchOptions::default()
        .with_concurrency(1)
        .with_per_tick_limit(1);
    let first = Dispatcher::new(crashing.clone(), mailer.clone(), &policy())
        .unwrap()
        .with_options(opts.clone())
        .unwrap();
    let now = utc(2026, 4, 21, 14, 0);
    assert!(
        first.tick(now).await.unwrap().interrupted().count() == 1,
        "the crash surfaces"
    );
    assert_eq!(mailer.sent().len(), 1, "the message went out before the crash");
    let lost = mailer.sent()[0].key.clone();

    // Restart, an hour later, with a fresh dispatcher on the same store.
    let second = Dispatcher::new(memory.clone(), mailer.clone(), &policy())
        .unwrap()
        .with_options(opts.with_per_tick_limit(100))
        .unwrap();
    let report = second.tick(now + Duration::hours(1)).await.unwrap();
    assert_eq!(report.unknown_keys(), std::slice::from_ref(&lost));
    assert!(report.sent_pairs().iter().all(|(k, _)| *k != lost));
    assert_eq!(
        mailer.sent().iter().filter(|m| m.key == lost).count(),
        1,
        "never sent twice"
    );
    let log = memory.read_log(&LogFilter::key(lost.to_string())).await.unwrap();
    assert!(log.iter().any(|e| e.action == Action::OutcomeUnknown));
    // Reported once: the next tick neither reports it again nor plans it.
    let again = second.tick(now + Duration::hours(2)).await.unwrap();
    assert!(again.unknown_keys().is_empty(), "{:?}", again.unknown_keys());
    assert!(again.skip_pairs().iter().all(|(k, _)| *k != lost));
    // Released, it is claimed again (here under at-least-once, as a host would after
    // checking the message never went).

    assert!(second.release(&lost).await.unwrap());
    let report = second.tick(now + Duration::hours(3)).await.unwrap();
    assert!(report.sent_pairs().iter().any(|(k, _)| *k == lost), "{report:?}");

    // At-least-once instead: an unrecorded claim is taken again after the lease.
    let (clients, items) = portfolio();
    let memory = Arc::new(MemoryStore::new(clients, items));
    let crashing = Hooked::new(memory.clone(), Crashing::once());
    let mailer = Arc::new(RecordingMailer::new());
    let at_least_once = DispatchOptions::default()
        .with_concurrency(1)
        .with_per_tick_limit(1)
        .with_guarantee(Guarantee::AtLeastOnce { lease_secs: 600 });
    let first = Dispatcher::new(crashing, mailer.clone(), &policy())
        .unwrap()
        .with_options(at_least_once.clone())
        .unwrap();
    assert!(first.tick(now).await.unwrap().interrupted().count() == 1);
    let lost = mailer.sent()[0].key.clone();
    let third = Dispatcher::new(memory.clone(), mailer.clone(), &policy())
        .unwrap()
        .with_options(at_least_once.with_per_tick_limit(100))
        .unwrap();
    let report = third.tick(now + Duration::hours(2)).await.unwrap();
    assert!(report.unknown_keys().is_empty());
    assert!(report.sent_pairs().iter().any(|(k, _)| *k == lost));
}

#[tokio::test]
async fn permanent_failures_are_recorded_and_surfaced_and_hanging_sends_time_out() {
    let (store, _, dispatcher) = setup(RecordingMailer::new().always(Behaviour::FailPermanent));
    let now = utc(2026, 4, 21, 14, 0);
    let report = dispatcher.tick(now).await.unwrap();
    assert!(!report.fail_pairs().is_empty() && report.sent_pairs().is_empty());
    let (key, _) = &report.fail_pairs()[0];
    assert!(matches!(
        store.delivery(key).await.unwrap(),
        Some(Delivery::Failed { .. })
    ));
    // Recorded once: the next tick does not plan it again (nor skip it again).
    let again = dispatcher.tick(now + Duration::hours(1)).await.unwrap();
    assert!(again.fail_pairs().iter().all(|(k, _)| k != key));
    assert!(
        again.skip_pairs().iter().all(|(k, _)| k != key),
        "{:?}",
        again.skip_pairs()
    );

    // A send that hangs times out: under at-least-once it is retried.
    let (_, _, hanging) = setup(RecordingMailer::new().always(Behaviour::Hang));
    let hanging = hanging
        .with_options(
            DispatchOptions::default()
                .with_send_timeout(StdDuration::from_millis(30))
                .with_guarantee(Guarantee::AtLeastOnce { lease_secs: 600 }),
        )
        .unwrap();
    let report = hanging.tick(now).await.unwrap();
    assert!(!report.retry_triples().is_empty());
    assert!(report.retry_triples()[0].2.contains("timed out"));
    // The timeout is named as configured (30 ms, not rounded down to "0 s").
    assert!(
        report.retry_triples()[0].2.contains("30ms"),
        "{}",
        report.retry_triples()[0].2
    );
}

/// A mailer that takes the message and then stalls: under at-most-once (the default) the
/// timed-out send may have gone, so it is recorded as outcome unknown, reported once, and
/// never given to the mailer again; the plan explains it instead of forecasting it.
#[tokio::test]
async fn a_stalled_send_under_at_most_once_goes_to_the_mailer_once_and_is_reported_unknown_once() {
    let (store, mailer, dispatcher) = setup(RecordingMailer::new().always(Behaviour::AcceptThenHang));
    let dispatcher = dispatcher
        .with_options(DispatchOptions::default().with_send_timeout(StdDuration::from_millis(20)))
        .unwrap();
    let start = utc(2026, 4, 21, 14, 0);
    let mut unknown: Vec<EventKey> = Vec::new();
    for day in 0..4 {
        let report = dispatcher.tick(start + Duration::days(day)).await.unwrap();
        assert!(
            report.retry_triples().is_empty(),
            "an ambiguous send is never retried: {:?}",
            report.retry_triples()
        );
        assert!(report.sent_pairs().is_empty());
        assert!(
            report.skip_pairs().iter().all(|(k, _)| !unknown.contains(k)),
            "an unknown key came back: {:?}",
            report.skip_pairs()
        );
        unknown.extend(report.unknown_keys());
    }
    let mut given: Vec<EventKey> = mailer.sent().into_iter().map(|m| m.key).collect();
    given.sort();
    unknown.sort();
    assert!(!given.is_empty());
    assert_eq!(
        given, unknown,
        "each key given to the mailer once, each reported unknown once"
    );
    for k in &unknown {
        assert!(matches!(
            store.delivery(k).await.unwrap(),
            Some(Delivery::Unknown { .. })
        ));
        let log = store.read_log(&LogFilter::key(k.to_string())).await.unwrap();
        assert_eq!(
            log.iter().filter(|e| e.action == Action::OutcomeUnknown).count(),
            1
        );
    }
    let snapshot = store.snapshot();
    let plan = dispatcher
        .planner()
        .clone()
        .with_lookback(30)
        .plan(
            &snapshot.clients,
            &snapshot.items,
            &snapshot.history,
            start + Duration::days(4),
            Horizon::days(30),
        )
        .unwrap();
    for k in &unknown {
        assert!(plan.events().all(|e| &e.key != k), "{k} forecast again");
        let s = plan.suppressed().iter().find(|s| &s.key == k).unwrap();
        assert!(
            matches!(s.reason, SuppressReason::OutcomeUnknown { .. }),
            "{:?}",
            s.reason
        );
        assert!(s.explain().contains("outcome unknown"), "{}", s.explain());
    }
}

/// A bounced address: each key fails once, is reported once (not at every tick), is
/// explained by the plan and not forecast; once the address is fixed the host releases a
/// key and it goes at the next tick, once.
#[tokio::test]
async fn a_permanent_failure_is_reported_once_explained_and_released_for_one_more_try() {
    let bounce = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let flag = bounce.clone();
    let mailer = RecordingMailer::new().with_script(move |m, _| {
        let to_es = m.to.iter().any(|t| t.email.ends_with("@es.example"));
        if to_es && flag.load(std::sync::atomic::Ordering::SeqCst) {
            Behaviour::FailPermanent
        } else {
            Behaviour::Accept
        }
    });
    let (store, mailer, dispatcher) = setup(mailer);
    let clock = Arc::new(ManualClock::new(utc(2026, 4, 10, 14, 0)));
    let dispatcher = dispatcher.with_clock(clock.clone());
    let mut failed: Vec<EventKey> = Vec::new();
    for _ in 0..14 {
        let report = dispatcher.tick(clock.now()).await.unwrap();
        assert!(
            report
                .skip_pairs()
                .iter()
                .all(|(_, s)| !matches!(s, Skip::FailedEarlier { .. })),
            "a failure came back: {:?}",
            report.skip_pairs()
        );
        failed.extend(report.fail_pairs().into_iter().map(|(k, _)| k));
        clock.advance(Duration::days(1));
    }
    assert!(failed.len() >= 2, "{failed:?}");
    let unique: HashSet<&EventKey> = failed.iter().collect();
    assert_eq!(unique.len(), failed.len(), "each failure reported once");
    let snapshot = store.snapshot();
    let planner = dispatcher.planner().clone().with_lookback(30);
    let plan = planner
        .plan(
            &snapshot.clients,
            &snapshot.items,
            &snapshot.history,
            clock.now(),
            Horizon::days(30),
        )
        .unwrap();
    for k in &failed {
        assert!(plan.events().all(|e| &e.key != k), "{k} forecast again");
        assert!(plan.suppressed().iter().any(|s| &s.key == k
            && matches!(&s.reason, SuppressReason::DeliveryFailed { error, .. } if error.contains("550"))));
    }

    // The address is fixed: the last failed key is released and goes at the next tick.
    bounce.store(false, std::sync::atomic::Ordering::SeqCst);
    let key = failed.last().unwrap().clone();
    assert!(dispatcher.release(&key).await.unwrap());
    let log = store.read_log(&LogFilter::key(key.to_string())).await.unwrap();
    assert!(log.iter().any(|e| e.action == Action::Released));
    let report = dispatcher.tick(clock.now()).await.unwrap();
    assert!(report.sent_pairs().iter().any(|(k, _)| *k == key), "{report:?}");
    let report = dispatcher.tick(clock.now() + Duration::hours(1)).await.unwrap();
    assert!(report.sent_pairs().iter().all(|(k, _)| *k != key));
    assert_eq!(mailer.sent().iter().filter(|m| m.key == key).count(), 1);
    // Sent now: nothing to release.
    assert!(!dispatcher.release(&key).await.unwrap());
    // The other failures stay failed.
    let other = failed.iter().find(|k| **k != key).unwrap();
    assert!(matches!(
        store.delivery(other).await.unwrap(),
        Some(Delivery::Failed { .. })
    ));
}

#[tokio::test]
async fn a_backlog_drains_in_steady_batches() {
    let (_, mailer, dispatcher) = setup(RecordingMailer::new());
    let dispatcher = dispatcher
        .with_options(DispatchOptions::default().with_per_tick_limit(3))
        .unwrap();
    let now = utc(2026, 6, 20, 14, 0); // everything is late: one message per item is due
    let first = dispatcher.tick(now).await.unwrap();
    assert_eq!(first.sent_pairs().len(), 3);
    assert!(first.skip_pairs().iter().any(|(_, s)| *s == Skip::OverLimit));
    let mut ticks = 1;
    loop {
        let r = dispatcher.tick(now + Duration::minutes(ticks)).await.unwrap();
        assert!(r.sent_pairs().len() <= 3);
        ticks += 1;
        if r.sent_pairs().is_empty() {
            break;
        }
    }
    let sent = mailer.sent();
    let keys: HashSet<&str> = sent.iter().map(|m| m.key.as_str()).collect();
    assert_eq!(keys.len(), sent.len());
    // One message per item: catch-up sends only the latest stage.
    let items: HashSet<String> = sent
        .iter()
        .map(|m| m.key.as_str().split('/').nth(1).unwrap().to_owned())
        .collect();
    assert_eq!(items.len(), sent.len());
}

#[tokio::test]
async fn manual_reminders_lifecycle_filters_and_history() {
    let (store, mailer, dispatcher) = setup(RecordingMailer::new());
    let clock = Arc::new(ManualClock::new(utc(2026, 5, 1, 14, 0)));
    let dispatcher = dispatcher.with_clock(clock.clone());
    let new = |invoice: &str, due: chrono::NaiveDate, amount: &str| NewReminder {
        client: "cl".parse().unwrap(),
        invoice: invoice.parse().unwrap(),
        due_on: due,
        amount: money(amount, "CLP"),
        message: "Estimado cliente, le recordamos su factura pendiente.".into(),
    };
    let a = dispatcher
        .create_reminder(new("cl-0", d(2026, 4, 21), "100000"))
        .await
        .unwrap();
    let b = dispatcher
        .create_reminder(new("cl-1", d(2026, 4, 30), "50000"))
        .await
        .unwrap();
    let c = dispatcher
        .create_reminder(new("cl-2", d(2026, 4, 21), "250000"))
        .await
        .unwrap();
    // Validation names the field.
    let err = dispatcher
        .create_reminder(new("nope", d(2026, 4, 21), "1"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("invoice \"nope\""), "{err}");
    let err = dispatcher
        .create_reminder(new("cl-0", d(2026, 4, 21), "0"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("amount"), "{err}");

    // Most urgent first: earliest due, then the larger amount.
    let ids = |v: Vec<Reminder>| v.into_iter().map(|r| r.id).collect::<Vec<_>>();
    assert_eq!(
        ids(dispatcher.list_reminders(ReminderFilter::Active).await.unwrap()),
        [c.id.clone(), a.id.clone(), b.id.clone()]
    );

    dispatcher
        .edit_reminder(
            &a.id,
            ReminderEdit::default()
                .message("Segundo aviso")
                .amount(money("90000", "CLP")),
        )
        .await
        .unwrap();
    let message_id = dispatcher.send_reminder(&a.id).await.unwrap();
    assert!(!message_id.is_empty());
    assert_eq!(
        mailer.sent().last().unwrap().subject,
        "Recordatorio de pago: factura cl-0"
    );
    dispatcher
        .set_reminder_status(&b.id, ReminderStatus::Paid)
        .await
        .unwrap();
    dispatcher
        .set_reminder_status(&c.id, ReminderStatus::Cancelled)
        .await
        .unwrap();
    assert_eq!(
        ids(dispatcher.list_reminders(ReminderFilter::Active).await.unwrap()),
        std::slice::from_ref(&a.id)
    );
    assert_eq!(
        ids(dispatcher.list_reminders(ReminderFilter::Inactive).await.unwrap()),
        [c.id.clone(), b.id.clone()]
    );
    assert_eq!(dispatcher.archive_finished_reminders().await.unwrap(), 2);
    assert_eq!(
        ids(dispatcher.list_reminders(ReminderFilter::All).await.unwrap()),
        std::slice::from_ref(&a.id)
    );
    assert_eq!(
        dispatcher
            .list_reminders(ReminderFilter::Archived)
            .await
            .unwrap()
            .len(),
        2
    );
    dispatcher.delete_reminder(&a.id).await.unwrap();
    assert!(
        dispatcher
            .list_reminders(ReminderFilter::All)
            .await
            .unwrap()
            .is_empty()
    );

    // The log tells the story of reminder a, in order.
    let log = store.read_log(&LogFilter::key(a.id.clone())).await.unwrap();
    let actions: Vec<&str> = log
        .iter()
        .map(|e| match &e.action {
            Action::Created => "created",
            Action::Edited { field, .. } if field == "amount" => "edited amount",
            Action::Edited { .. } => "edited message",
            Action::Sent { .. } => "sent",
            Action::Deleted => "deleted",
            _ => "other",
        })
        .collect();
    assert_eq!(
        actions,
        ["created", "edited amount", "edited message", "sent", "deleted"]
    );
    // And the item's history shows the manual send.
    let item_log = store
        .read_log(&LogFilter::item("cl-0".parse().unwrap()))
        .await
        .unwrap();
    assert!(
        item_log
            .iter()
            .any(|e| matches!(&e.action, Action::Sent { rule: None, .. }))
    );
}

#[tokio::test]
async fn a_manual_resend_spaces_the_next_automatic_reminder_without_using_its_count() {
    let (store, mailer, dispatcher) = setup(RecordingMailer::new());
    let clock = Arc::new(ManualClock::new(utc(2026, 5, 4, 14, 0)));
    let dispatcher = dispatcher.with_clock(clock.clone());
    // The proposal was sent 05-02; its automatic reminder is due 05-05 (key pending/es-p/1,
    // upcoming). Resent on 05-04 by that key.
    let id = dispatcher.resend(&"pending/es-p/1".into()).await.unwrap();
    assert!(!id.is_empty());
    // The message, the history entry and the log line share one manual key.
    let manual = mailer.sent().last().unwrap().key.clone();
    assert_eq!(manual.as_str(), "manual/es-p/2026-05-04T14:00:00Z");
    assert!(
        store
            .snapshot()
            .history
            .iter()
            .any(|h| h.key == manual && h.rule.is_none())
    );
    let log = store.read_log(&LogFilter::key(manual.to_string())).await.unwrap();
    assert!(
        matches!(
            log.as_slice(),
            [LogEntry {
                action: Action::Sent { rule: None, .. },
                ..
            }]
        ),
        "{log:?}"
    );
    let report = dispatcher.tick(utc(2026, 5, 5, 14, 0)).await.unwrap();
    assert!(
        report
            .sent_pairs()
            .iter()
            .all(|(k, _)| k.as_str() != "pending/es-p/1"),
        "spaced: not on 05-05"
    );
    let report = dispatcher.tick(utc(2026, 5, 7, 14, 0)).await.unwrap();
    assert!(
        report
            .sent_pairs()
            .iter()
            .any(|(k, _)| k.as_str() == "pending/es-p/1"),
        "three days after the resend, and still occurrence 1"
    );
    assert_eq!(
        mailer
            .sent()
            .iter()
            .filter(|m| m.key.as_str().contains("es-p"))
            .count(),
        2
    );
    assert!(store.snapshot().history.iter().any(|h| h.rule.is_none()));
}

/// A payment lands right after each claim is granted (between the tick's load and its
/// send): `full` pays the claimed item in full, else half of what it owes.
struct PayOnClaim {
    full: bool,
}

#[async_trait]
impl Hooks for PayOnClaim {
    async fn claim(
        &self,
        inner: &MemoryStore,
        key: &EventKey,
        now: DateTime<Utc>,
        lease: Option<Duration>,
    ) -> Result<Claim, StoreError> {
        let claim = inner.claim(key, now, lease).await?;
        let item = key.as_str().split('/').nth(1).unwrap_or_default().to_owned();
        let full = self.full;
        inner.update_items(|items| {
            for it in items.iter_mut().filter(|i| i.id.as_str() == item) {
                let owed = it.balance().unwrap().unwrap();
                let pay = if full {
                    owed
                } else {
                    Money::from_minor(owed.minor() / 2, owed.currency())
                };
                *it = it.clone().paid(pay, now.date_naive());
            }
        });
        Ok(claim)
    }
}

/// A payment recorded after the claim and before the send stops the reminder: the claimed
/// event is planned again from the store's current state, skipped with the reason, and the
/// skip recorded; a partial payment sends the fresh amount.
#[tokio::test]
async fn a_payment_between_claim_and_send_stops_the_reminder() {
    let now = utc(2026, 4, 21, 14, 0);
    for full in [true, false] {
        let (clients, items) = portfolio();
        let memory = Arc::new(MemoryStore::new(clients, items));
        let store = Hooked::new(memory.clone(), PayOnClaim { full });
        let mailer = Arc::new(RecordingMailer::new());
        let dispatcher = Dispatcher::new(store, mailer.clone(), &policy()).unwrap();
        let report = dispatcher.tick(now).await.unwrap();
        let invoice_keys: Vec<&EventKey> = report
            .sends
            .iter()
            .map(|s| &s.key)
            .filter(|k| !k.as_str().contains("-p/"))
            .collect();
        assert!(!invoice_keys.is_empty(), "{report:?}");
        if full {
            assert!(
                report
                    .sent_pairs()
                    .iter()
                    .all(|(k, _)| k.as_str().contains("-p/")),
                "sent after payment: {report:?}"
            );
            for (k, skip) in &report.skip_pairs() {
                assert_eq!(
                    skip,
                    &Skip::NoLongerDue {
                        reason: Some(SuppressReason::Paid)
                    },
                    "{k}"
                );
                assert!(matches!(
                    memory.delivery(k).await.unwrap(),
                    Some(Delivery::Skipped { .. })
                ));
                let log = memory.read_log(&LogFilter::key(k.to_string())).await.unwrap();
                assert!(
                    log.iter()
                        .any(|e| matches!(&e.action, Action::Skipped { reason } if reason.contains("paid"))),
                    "{log:?}"
                );
            }
            assert!(
                memory
                    .snapshot()
                    .history
                    .iter()
                    .all(|h| h.key.as_str().contains("-p/"))
            );
            // Nothing more for the paid items.
            let again = dispatcher.tick(now + Duration::days(1)).await.unwrap();
            assert!(
                again.sent_pairs().iter().all(|(k, _)| k.as_str().contains("-p/")),
                "{again:?}"
            );
        } else {
            // Half paid meanwhile: the message says what is owed now.
            assert!(report.skip_pairs().is_empty(), "{report:?}");
            let invoices: Vec<Message> = mailer
                .sent()
                .into_iter()
                .filter(|m| !m.key.as_str().contains("-p/"))
                .collect();
            assert!(!invoices.is_empty());
            for m in &invoices {
                assert!(m.text.contains("50.000"), "the fresh balance: {}", m.text);
            }
        }
    }
}

/// Reads return what the store held when last refreshed (a dispatcher that loaded before
/// another recorded), while claims and outcomes go to the shared store.
struct Stale {
    frozen: std::sync::Mutex<Snapshot>,
}

impl Stale {
    fn of(inner: &MemoryStore) -> Self {
        Self {
            frozen: std::sync::Mutex::new(inner.snapshot()),
        }
    }
}

/// A stale view of `inner`, and reads from now on returning what it holds now.
fn stale(inner: &Arc<MemoryStore>) -> Arc<Hooked<Stale>> {
    Hooked::new(inner.clone(), Stale::of(inner))
}

fn refresh(store: &Hooked<Stale>) {
    *store.hooks.frozen.lock().unwrap() = store.inner.snapshot();
}

#[async_trait]
impl Hooks for Stale {
    async fn load(&self, _: &MemoryStore) -> Result<Snapshot, StoreError> {
        Ok(self.frozen.lock().unwrap().clone())
    }
    async fn load_client(&self, _: &MemoryStore, client: &ClientId) -> Result<Snapshot, StoreError> {
        let mut s = self.frozen.lock().unwrap().clone();
        s.clients.retain(|c| &c.id == client);
        s.items.retain(|i| &i.client == client);
        s.history.retain(|h| &h.client == client);
        Ok(s)
    }
}

/// Every (item, occurrence) that went out, from the store's history: none twice.
fn assert_no_item_occurrence_twice(store: &MemoryStore, mailer: &RecordingMailer) {
    let history = store.snapshot().history;
    assert_eq!(
        history.len(),
        mailer.sent().len(),
        "one history entry per message"
    );
    let mut seen = HashSet::new();
    for h in &history {
        for it in &h.items {
            assert!(
                seen.insert((h.rule.clone(), it.item.clone(), it.occurrence)),
                "{} occurrence {} of {:?} went out twice: {:#?}",
                it.item,
                it.occurrence,
                h.rule,
                history
            );
        }
    }
}

/// Send time 00:00; two dispatchers tick at 23:59:59 and 00:00:01, the second loaded before
/// the first recorded: one grouped notice goes, once (its key names its items and
/// occurrences, not the day); and when a new item joins the second's group, the items the
/// first sent are claimed already, so the second sends nothing and the next tick sends the
/// new item alone.
#[tokio::test]
async fn two_dispatchers_across_midnight_send_one_grouped_notice_once() {
    let policy = Policy::new(tz("UTC"))
        .with_send_time(t(0, 0))
        .with_rule(rule("overdue", Anchor::Due, 0).grouped());
    for with_new_item in [false, true] {
        let clients = vec![client("acme", "UTC")];
        let mut items = vec![
            invoice("F-1", "acme", d(2026, 3, 1), d(2026, 4, 1), money("1000", "CLP")),
            invoice("F-2", "acme", d(2026, 3, 1), d(2026, 4, 1), money("2000", "CLP")),
        ];
        if with_new_item {
            items.push(invoice(
                "F-3",
                "acme",
                d(2026, 3, 1),
                d(2026, 4, 2),
                money("3000", "CLP"),
            ));
        }
        let inner = Arc::new(MemoryStore::new(clients, items));
        let stale = stale(&inner);
        let mailer = Arc::new(RecordingMailer::new());
        let first = Dispatcher::new(inner.clone(), mailer.clone(), &policy).unwrap();
        let second = Dispatcher::new(stale, mailer.clone(), &policy).unwrap();
        let a = first
            .tick(utc(2026, 4, 1, 23, 59) + Duration::seconds(59))
            .await
            .unwrap();
        assert_eq!(a.sent_pairs().len(), 1, "{a:?}");
        let b = second
            .tick(utc(2026, 4, 2, 0, 0) + Duration::seconds(1))
            .await
            .unwrap();
        assert!(
            b.sent_pairs().is_empty(),
            "the second dispatcher sent again: {b:?}"
        );
        assert_eq!(b.skip_pairs().len(), 1, "{b:?}");
        assert_no_item_occurrence_twice(&inner, &mailer);
        // The next tick, loading afresh, sends what is left: the new item alone.
        let c = first.tick(utc(2026, 4, 2, 0, 1)).await.unwrap();
        assert_eq!(c.sent_pairs().len(), usize::from(with_new_item), "{c:?}");
        assert_no_item_occurrence_twice(&inner, &mailer);
        let covered: usize = inner.snapshot().history.iter().map(|h| h.items.len()).sum();
        assert_eq!(covered, 2 + usize::from(with_new_item));
    }
}

/// Random grouped portfolios, and dispatchers ticking at random instants, some from a load
/// taken before others recorded: no item occurrence ever goes out twice, and each one that
/// the plan says is due at the end has gone or is still due.
#[tokio::test]
async fn racing_dispatchers_on_random_grouped_portfolios_never_send_an_item_occurrence_twice() {
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = |below: u64| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) % below
    };
    let mut total = 0;
    for _case in 0..25 {
        let send_h = u32::try_from(next(24)).unwrap();
        let policy = Policy::new(tz("UTC"))
            .with_send_time(t(send_h, 0))
            .with_rule(rule("due-soon", Anchor::Due, -2).grouped())
            .with_rule(rule("overdue", Anchor::Due, 1).repeat(2, 3).grouped());
        let clients = vec![client("acme", "America/Santiago"), client("zeta", "Asia/Tokyo")];
        let mut items = Vec::new();
        for i in 0..(3 + next(6)) {
            let c = if next(2) == 0 { "acme" } else { "zeta" };
            let issued = d(2026, 4, 1) + Duration::days(i64::try_from(next(5)).unwrap());
            let due = issued + Duration::days(i64::try_from(3 + next(4)).unwrap());
            let cur = if next(3) == 0 { "USD" } else { "CLP" };
            items.push(invoice(&format!("F-{i}"), c, issued, due, money("10", cur)));
        }
        let inner = Arc::new(MemoryStore::new(clients, items));
        let mailer = Arc::new(RecordingMailer::new());
        let stale = stale(&inner);
        let fresh = Dispatcher::new(inner.clone(), mailer.clone(), &policy).unwrap();
        let behind = Dispatcher::new(stale.clone(), mailer.clone(), &policy).unwrap();
        let mut now = utc(2026, 4, 1, 0, 0);
        for _ in 0..30 {
            now += Duration::minutes(i64::try_from(30 + next(24 * 60)).unwrap());
            // Half the ticks run on a load taken before the last ticks recorded.
            let report = if next(2) == 0 {
                behind.tick(now).await.unwrap()
            } else {
                refresh(&stale);
                fresh.tick(now).await.unwrap()
            };
            total += report.sent_pairs().len();
            assert_no_item_occurrence_twice(&inner, &mailer);
        }
    }
    assert!(total > 120, "the cases sent little: {total}");
}

/// A grouped notice that failed for good (or whose outcome is unknown) also failed its item
/// occurrences' claims; releasing the notice releases them too, so it goes at the next tick.
#[tokio::test]
async fn releasing_a_failed_or_unknown_grouped_notice_lets_it_go_again() {
    let policy = Policy::new(tz("UTC")).with_rule(rule("overdue", Anchor::Due, 0).grouped());
    for hang in [false, true] {
        let clients = vec![client("acme", "UTC")];
        let items = vec![
            invoice("F-1", "acme", d(2026, 3, 1), d(2026, 4, 1), money("1000", "CLP")),
            invoice("F-2", "acme", d(2026, 3, 1), d(2026, 4, 1), money("2000", "CLP")),
        ];
        let store = Arc::new(MemoryStore::new(clients, items));
        let broken = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let flag = broken.clone();
        let mailer = Arc::new(RecordingMailer::new().with_script(move |_, _| {
            match (flag.load(std::sync::atomic::Ordering::SeqCst), hang) {
                (false, _) => Behaviour::Accept,
                (true, false) => Behaviour::FailPermanent,
                (true, true) => Behaviour::Hang,
            }
        }));
        let dispatcher = Dispatcher::new(store.clone(), mailer.clone(), &policy)
            .unwrap()
            .with_options(DispatchOptions::default().with_send_timeout(StdDuration::from_millis(20)))
            .unwrap();
        let first = dispatcher.tick(utc(2026, 4, 1, 12, 0)).await.unwrap();
        let key = first.sends[0].key.clone();
        assert!(first.failed().count() + first.unknown().count() == 1, "{first:?}");
        broken.store(false, std::sync::atomic::Ordering::SeqCst);
        assert!(dispatcher.release(&key).await.unwrap());
        let again = dispatcher.tick(utc(2026, 4, 1, 13, 0)).await.unwrap();
        assert_eq!(again.sent_pairs().len(), 1, "hang={hang}: {again:?}");
        assert_eq!(again.sent_pairs()[0].0, key);
        assert_eq!(mailer.sent().len(), 1);
    }
}

/// A due-soon notice goes, then the process dies before recording it; the next plans move on
/// to "due today" and never plan the due-soon key again. Its abandoned claim is still found
/// and reported as outcome unknown, once, and the plan explains it.
#[tokio::test]
async fn an_abandoned_claim_no_plan_brings_back_is_reported_unknown_once() {
    let policy = Policy::new(tz("UTC"))
        .with_rule(rule("due-soon", Anchor::Due, -1))
        .with_rule(rule("due-today", Anchor::Due, 0));
    let clients = vec![client("acme", "UTC")];
    let items = vec![invoice(
        "F-1",
        "acme",
        d(2026, 3, 1),
        d(2026, 4, 2),
        money("1000", "CLP"),
    )];
    let memory = Arc::new(MemoryStore::new(clients, items));
    let mailer = Arc::new(RecordingMailer::new());
    let crashing = Dispatcher::new(
        Hooked::new(memory.clone(), Crashing::once()),
        mailer.clone(),
        &policy,
    )
    .unwrap();
    assert!(
        crashing
            .tick(utc(2026, 4, 1, 12, 0))
            .await
            .unwrap()
            .interrupted()
            .count()
            == 1,
        "the crash surfaces"
    );
    assert_eq!(mailer.sent()[0].key.as_str(), "due-soon/F-1/1");
    let dispatcher = Dispatcher::new(memory.clone(), mailer.clone(), &policy).unwrap();
    let next = dispatcher.tick(utc(2026, 4, 2, 12, 0)).await.unwrap();
    assert_eq!(
        next.unknown_keys(),
        ["due-soon/F-1/1".into()] as [EventKey; 1],
        "{next:?}"
    );
    assert_eq!(next.sent_pairs().len(), 1, "due today goes: {next:?}");
    let again = dispatcher.tick(utc(2026, 4, 3, 12, 0)).await.unwrap();
    assert!(again.unknown_keys().is_empty(), "reported once: {again:?}");
    let s = memory.snapshot();
    let plan = dispatcher
        .planner()
        .plan(
            &s.clients,
            &s.items,
            &s.history,
            utc(2026, 4, 3, 12, 0),
            Horizon::NONE,
        )
        .unwrap();
    assert!(
        plan.suppressed()
            .iter()
            .any(|x| x.key.as_str() == "due-soon/F-1/1"
                && matches!(x.reason, SuppressReason::OutcomeUnknown { .. }))
    );
}

/// A grouped notice goes, the process dies before recording it, then one of its items is
/// paid: the notice of the other item has another key, but the abandoned claims of the old
/// notice and of its item occurrences are found, recorded unknown and explained, reported
/// once as the one message they were, and the other item's reminder is not skipped as
/// claimed at every tick.
#[tokio::test]
async fn a_crashed_grouped_notice_whose_items_change_is_not_stuck() {
    let policy = Policy::new(tz("UTC")).with_rule(rule("overdue", Anchor::Due, 0).repeat(3, 3).grouped());
    let clients = vec![client("acme", "UTC")];
    let items = vec![
        invoice("F-1", "acme", d(2026, 3, 1), d(2026, 4, 1), money("1000", "CLP")),
        invoice("F-2", "acme", d(2026, 3, 1), d(2026, 4, 1), money("2000", "CLP")),
    ];
    let memory = Arc::new(MemoryStore::new(clients, items));
    let mailer = Arc::new(RecordingMailer::new());
    let crashing = Dispatcher::new(
        Hooked::new(memory.clone(), Crashing::once()),
        mailer.clone(),
        &policy,
    )
    .unwrap();
    assert!(
        crashing
            .tick(utc(2026, 4, 1, 12, 0))
            .await
            .unwrap()
            .interrupted()
            .count()
            == 1
    );
    memory.update_items(|items| {
        let b = items[0].balance().unwrap().unwrap();
        items[0] = items[0].clone().paid(b, d(2026, 4, 1));
    });
    let dispatcher = Dispatcher::new(memory.clone(), mailer.clone(), &policy).unwrap();
    let mut reports = Vec::new();
    for day in 2..=6 {
        reports.push(dispatcher.tick(utc(2026, 4, day, 12, 0)).await.unwrap());
    }
    let unknown: Vec<EventKey> = reports.iter().flat_map(Lists::unknown_keys).collect();
    // One message, one report: the notice's (its item occurrences are recorded with it).
    assert_eq!(
        unknown
            .iter()
            .filter(|k| k.as_str().starts_with("overdue/acme/"))
            .count(),
        1,
        "{reports:#?}"
    );
    assert!(
        !unknown.iter().any(|k| k.as_str() == "overdue/F-2/1"),
        "{reports:#?}"
    );
    assert!(
        memory
            .snapshot()
            .history
            .iter()
            .any(|h| h.key.as_str() == "overdue/F-2/1" && h.outcome == HistoryOutcome::OutcomeUnknown),
        "the occurrence is recorded unknown"
    );
    let unique: HashSet<&EventKey> = unknown.iter().collect();
    assert_eq!(unique.len(), unknown.len(), "each reported once: {unknown:?}");
    // F-2's second reminder went (the first may have gone in the crashed notice).
    let history = memory.snapshot().history;
    assert!(
        history.iter().any(|h| h.outcome.is_sent()
            && h.items
                .iter()
                .any(|i| i.item.as_str() == "F-2" && i.occurrence == 2)),
        "{history:#?}"
    );
}

/// A store with one client, `acme`, and one invoice, F-1, due 2026-04-01.
fn one_overdue_invoice() -> Arc<MemoryStore> {
    let items = vec![invoice(
        "F-1",
        "acme",
        d(2026, 3, 1),
        d(2026, 4, 1),
        money("1000", "CLP"),
    )];
    Arc::new(MemoryStore::new(vec![client("acme", "UTC")], items))
}

/// Blocks the first `load_client` (the re-read after a claim) until told to go on.
struct SlowReread {
    gate: tokio::sync::Notify,
    blocked: std::sync::atomic::AtomicBool,
}

#[async_trait]
impl Hooks for SlowReread {
    async fn load_client(&self, inner: &MemoryStore, client: &ClientId) -> Result<Snapshot, StoreError> {
        if !self.blocked.swap(true, std::sync::atomic::Ordering::SeqCst) {
            self.gate.notified().await;
        }
        inner.load_client(client).await
    }
}

/// One overdue invoice of `acme`, due 2026-04-01, and a first dispatcher ticking at noon
/// whose re-read after its claim stalls until `gate` is told to go on: returns the store,
/// the stalled store (its gate), the mailer, the first dispatcher, its running tick and the
/// key, once the key is claimed.
#[allow(clippy::type_complexity)]
async fn first_stalled_after_its_claim(
    policy: &Policy,
) -> (
    Arc<MemoryStore>,
    Arc<Hooked<SlowReread>>,
    Arc<RecordingMailer>,
    Arc<Dispatcher>,
    tokio::task::JoinHandle<TickReport>,
    EventKey,
) {
    let hooks = SlowReread {
        gate: tokio::sync::Notify::new(),
        blocked: std::sync::atomic::AtomicBool::new(false),
    };
    first_claimed_through(policy, hooks, utc(2026, 4, 1, 12, 0)).await
}

/// As [`first_stalled_after_its_claim`], the first dispatcher's store calls going through
/// `hooks`.
#[allow(clippy::type_complexity)]
async fn first_claimed_through<H: Hooks>(
    policy: &Policy,
    hooks: H,
    now: DateTime<Utc>,
) -> (
    Arc<MemoryStore>,
    Arc<Hooked<H>>,
    Arc<RecordingMailer>,
    Arc<Dispatcher>,
    tokio::task::JoinHandle<TickReport>,
    EventKey,
) {
    let memory = one_overdue_invoice();
    let slow = Hooked::new(memory.clone(), hooks);
    let mailer = Arc::new(RecordingMailer::new());
    let first = Arc::new(Dispatcher::new(slow.clone(), mailer.clone(), policy).unwrap());
    let running = tokio::spawn({
        let first = first.clone();
        async move { first.tick(now).await.unwrap() }
    });
    let key: EventKey = "overdue/F-1/1".into();
    let mut claimed = false;
    for _ in 0..400 {
        if matches!(
            memory.delivery(&key).await.unwrap(),
            Some(Delivery::Claimed { .. })
        ) {
            claimed = true;
            break;
        }
        tokio::time::sleep(StdDuration::from_millis(5)).await;
    }
    assert!(claimed, "the first dispatcher claimed the key");
    (memory, slow, mailer, first, running, key)
}

/// A dispatcher whose re-read after a claim is slow has its live claim taken for abandoned
/// by a second dispatcher (outcome unknown): the first neither sends nor overwrites it, and,
/// knowing nothing went, releases the key, which goes once at the next tick.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_taken_for_abandoned_while_live_is_not_sent_nor_overwritten() {
    let policy = Policy::new(tz("UTC")).with_rule(rule("overdue", Anchor::Due, 0));
    let (memory, slow, mailer, _first, running, key) = first_stalled_after_its_claim(&policy).await;
    let now = utc(2026, 4, 1, 12, 0);
    // A minute and more later (two send timeouts), a second dispatcher takes it for abandoned.
    let second = Dispatcher::new(memory.clone(), mailer.clone(), &policy).unwrap();
    let report = second.tick(now + Duration::seconds(61)).await.unwrap();
    assert_eq!(report.unknown_keys(), std::slice::from_ref(&key));
    slow.hooks.gate.notify_one();
    let late = running.await.unwrap();
    assert!(late.sent_pairs().is_empty(), "{late:?}");
    assert!(mailer.sent().is_empty());
    // The first, which knows nothing went, released it (logged): it goes at the next tick.
    assert!(matches!(
        memory.delivery(&key).await.unwrap(),
        Some(Delivery::Retrying { .. })
    ));
    let log = memory.read_log(&LogFilter::key(key.to_string())).await.unwrap();
    assert!(log.iter().any(|e| e.action == Action::Released), "{log:?}");
    let after = second.tick(now + Duration::hours(1)).await.unwrap();
    assert_eq!(after.sent_pairs().len(), 1, "{after:?}");
    assert_eq!(mailer.sent().len(), 1);
}

/// A dispatcher whose re-read after a claim stalls long: meanwhile a second dispatcher takes
/// its claim for abandoned (outcome unknown), the host releases the key, a third takes it
/// again, sends it and dies before recording it, and a fourth records that claim unknown.
/// Waking up, the first finds the key unknown, but not by its own claim: it leaves that
/// record alone (the message went) instead of releasing it. (Failed before: the first
/// released the third's unknown key and the next tick sent it again: two sends under
/// at-most-once.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_claim_does_not_release_an_unknown_record_of_a_later_claim() {
    let policy = Policy::new(tz("UTC")).with_rule(rule("overdue", Anchor::Due, 0));
    let (memory, slow, mailer, first, running, key) = first_stalled_after_its_claim(&policy).await;
    let now = utc(2026, 4, 1, 12, 0);
    let second = Dispatcher::new(memory.clone(), mailer.clone(), &policy)
        .unwrap()
        .with_clock(Arc::new(ManualClock::new(now + Duration::seconds(61))));
    let report = second.tick(now + Duration::seconds(61)).await.unwrap();
    assert_eq!(report.unknown_keys(), std::slice::from_ref(&key));
    assert!(second.release(&key).await.unwrap(), "the host releases it");
    let dying = Dispatcher::new(
        Hooked::new(memory.clone(), DiesAfterEverySend),
        mailer.clone(),
        &policy,
    )
    .unwrap();
    dying.tick(now + Duration::minutes(2)).await.unwrap();
    assert_eq!(mailer.sent().len(), 1, "the third dispatcher's send went");
    let sweeper = Dispatcher::new(memory.clone(), mailer.clone(), &policy).unwrap();
    let swept = sweeper.tick(now + Duration::minutes(10)).await.unwrap();
    assert_eq!(swept.unknown_keys(), std::slice::from_ref(&key), "{swept:#?}");
    slow.hooks.gate.notify_one();
    let late = running.await.unwrap();
    assert!(late.sent_pairs().is_empty(), "{late:?}");
    assert!(matches!(
        memory.delivery(&key).await.unwrap(),
        Some(Delivery::Unknown { .. })
    ));
    let after = sweeper.tick(now + Duration::hours(1)).await.unwrap();
    assert!(after.sent_pairs().is_empty(), "{after:?}");
    first.tick(now + Duration::hours(2)).await.unwrap();
    assert_eq!(mailer.sent().len(), 1, "sent once");
}

/// One overdue invoice of `acme`, due 2026-04-01: its reminder sent at noon by a dispatcher
/// that dies before recording it. Returns the store, the mailer, noon, the key and that
/// dispatcher.
#[allow(clippy::type_complexity)]
async fn a_crashed_reminder(
    policy: &Policy,
) -> (
    Arc<MemoryStore>,
    Arc<RecordingMailer>,
    DateTime<Utc>,
    EventKey,
    Dispatcher,
) {
    let memory = one_overdue_invoice();
    let mailer = Arc::new(RecordingMailer::new());
    let now = utc(2026, 4, 1, 12, 0);
    let dying = Dispatcher::new(
        Hooked::new(memory.clone(), DiesAfterEverySend),
        mailer.clone(),
        policy,
    )
    .unwrap()
    .with_clock(Arc::new(ManualClock::new(now)));
    dying.tick(now).await.unwrap();
    assert_eq!(mailer.sent().len(), 1);
    (memory, mailer, now, "overdue/F-1/1".into(), dying)
}

/// One overdue invoice of `acme`, due 2026-04-01: its reminder sent at noon by a dispatcher
/// that dies before recording it, recorded unknown by a sweeper's tick, released by a host
/// whose clock runs an hour ahead (its release dated later than the next claim), then sent
/// again at 12:10 by the dying dispatcher. Returns the store, the mailer, the sweeper, noon
/// and the key.
async fn sent_again_after_a_release_dated_ahead(
    policy: &Policy,
) -> (
    Arc<MemoryStore>,
    Arc<RecordingMailer>,
    Dispatcher,
    DateTime<Utc>,
    EventKey,
) {
    let (memory, mailer, now, key, dying) = a_crashed_reminder(policy).await;
    let sweeper = Dispatcher::new(memory.clone(), mailer.clone(), policy)
        .unwrap()
        .with_clock(Arc::new(ManualClock::new(now)));
    let swept = sweeper.tick(now + Duration::minutes(5)).await.unwrap();
    assert_eq!(swept.unknown_keys(), std::slice::from_ref(&key), "{swept:#?}");
    let host = Dispatcher::new(memory.clone(), mailer.clone(), policy)
        .unwrap()
        .with_clock(Arc::new(ManualClock::new(now + Duration::hours(1))));
    assert!(host.release(&key).await.unwrap());
    dying.tick(now + Duration::minutes(10)).await.unwrap();
    assert_eq!(mailer.sent().len(), 2, "sent again after its release");
    (memory, mailer, sweeper, now, key)
}

/// A key released by a host whose clock runs ahead of the workers' (its release dated later
/// than the next claim), claimed again, sent, its process dying before recording it: a
/// sweep records it unknown, and the plan, reading the release as its last entry, still
/// holds it due, so its send is refused as unknown. The tick reports it unknown, once.
/// (Failed before: the send's skip hid the sweep's report, and the host never heard of it.)
#[tokio::test]
async fn a_swept_key_the_plan_still_holds_due_is_reported_unknown() {
    let policy = Policy::new(tz("UTC")).with_rule(rule("overdue", Anchor::Due, 0));
    let (_, _, sweeper, now, key) = sent_again_after_a_release_dated_ahead(&policy).await;
    let again = sweeper.tick(now + Duration::minutes(20)).await.unwrap();
    assert_eq!(again.unknown_keys(), std::slice::from_ref(&key), "{again:#?}");
    assert_eq!(
        again.sends.iter().filter(|s| s.key == key).count(),
        1,
        "{again:#?}"
    );
}

/// A clock that moves on a millisecond each time it is read (a tick that takes time).
struct Stepping(ManualClock);

impl Clock for Stepping {
    fn now(&self) -> DateTime<Utc> {
        self.0.advance(Duration::milliseconds(1));
        self.0.now()
    }
    fn sleep(&self, d: StdDuration) -> dunning::clock::Sleep {
        self.0.sleep(d)
    }
}

/// A stalled claim that a second dispatcher finds abandoned not in its sweep (not old enough
/// yet when the tick began) but when its own send is refused the claim (the tick took time):
/// that record is dated with the claim's instant, as a sweep's is, so the first, which knows
/// nothing went, releases it, and the key goes once. (Failed before: dated with the second's
/// tick, it was not taken for the first's own, and the key stayed unknown with nothing sent.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_claim_found_abandoned_by_a_send_is_released_by_its_owner() {
    let policy = Policy::new(tz("UTC")).with_rule(rule("overdue", Anchor::Due, 0));
    let (memory, slow, mailer, first, running, key) = first_stalled_after_its_claim(&policy).await;
    let Some(Delivery::Claimed { at, .. }) = memory.delivery(&key).await.unwrap() else {
        panic!("claimed");
    };
    let t2 = at + Duration::seconds(60);
    let second = Dispatcher::new(memory.clone(), mailer.clone(), &policy)
        .unwrap()
        .with_clock(Arc::new(Stepping(ManualClock::new(t2))));
    let report = second.tick(t2).await.unwrap();
    assert_eq!(report.unknown_keys(), std::slice::from_ref(&key), "{report:#?}");
    slow.hooks.gate.notify_one();
    running.await.unwrap();
    assert!(
        matches!(
            memory.delivery(&key).await.unwrap(),
            Some(Delivery::Retrying { .. })
        ),
        "released by the first: {:?}",
        memory.delivery(&key).await.unwrap()
    );
    first.tick(t2 + Duration::hours(1)).await.unwrap();
    assert_eq!(mailer.sent().len(), 1, "sent once");
}

/// Blocks the first re-read after a claim until `gate`; then reads the next shard load at
/// once but answers it only after `gate2` (a slow check of whose unknown record it is).
struct StaleCheck {
    gate: tokio::sync::Notify,
    blocked: std::sync::atomic::AtomicBool,
    armed: std::sync::atomic::AtomicBool,
    reached: tokio::sync::Notify,
    gate2: tokio::sync::Notify,
}

#[async_trait]
impl Hooks for StaleCheck {
    async fn load_client(&self, inner: &MemoryStore, client: &ClientId) -> Result<Snapshot, StoreError> {
        if !self.blocked.swap(true, std::sync::atomic::Ordering::SeqCst) {
            self.gate.notified().await;
            self.armed.store(true, std::sync::atomic::Ordering::SeqCst);
        }
        inner.load_client(client).await
    }
    async fn load_shard(&self, inner: &MemoryStore, _: Shard) -> Result<Snapshot, StoreError> {
        let read = inner.load().await;
        if self.armed.swap(false, std::sync::atomic::Ordering::SeqCst) {
            self.reached.notify_one();
            self.gate2.notified().await;
        }
        read
    }
}

/// A stalled dispatcher checks whose the unknown record of its key is from a read that is
/// slow to answer: meanwhile the host releases the key, a third dispatcher sends it and dies,
/// and a fourth records that claim unknown. The first's read still shows its own claim's
/// record, but the release reads the key again and leaves the later claim's record alone:
/// sent once. (Failed before: the first released the later claim's record, and the key was
/// sent again.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_check_of_an_unknown_record_does_not_release_a_later_claims() {
    let policy = Policy::new(tz("UTC")).with_rule(rule("overdue", Anchor::Due, 0));
    let hooks = StaleCheck {
        gate: tokio::sync::Notify::new(),
        blocked: false.into(),
        armed: false.into(),
        reached: tokio::sync::Notify::new(),
        gate2: tokio::sync::Notify::new(),
    };
    let (memory, hooked, mailer, _first, running, key) =
        first_claimed_through(&policy, hooks, utc(2026, 4, 1, 12, 0)).await;
    let now = utc(2026, 4, 1, 12, 0);
    let at = |minutes| now + Duration::minutes(minutes);
    let second = Dispatcher::new(memory.clone(), mailer.clone(), &policy)
        .unwrap()
        .with_clock(Arc::new(ManualClock::new(at(2))));
    let swept = second.tick(at(2)).await.unwrap();
    assert_eq!(swept.unknown_keys(), std::slice::from_ref(&key));
    hooked.hooks.gate.notify_one();
    hooked.hooks.reached.notified().await;
    assert!(second.release(&key).await.unwrap(), "the host releases it");
    let dying = Dispatcher::new(
        Hooked::new(memory.clone(), DiesAfterEverySend),
        mailer.clone(),
        &policy,
    )
    .unwrap()
    .with_clock(Arc::new(ManualClock::new(at(3))));
    dying.tick(at(3)).await.unwrap();
    assert_eq!(mailer.sent().len(), 1);
    let sweeper = Dispatcher::new(memory.clone(), mailer.clone(), &policy)
        .unwrap()
        .with_clock(Arc::new(ManualClock::new(at(10))));
    let again = sweeper.tick(at(10)).await.unwrap();
    assert_eq!(again.unknown_keys(), std::slice::from_ref(&key), "{again:#?}");
    hooked.hooks.gate2.notify_one();
    running.await.unwrap();
    sweeper.tick(at(60)).await.unwrap();
    assert_eq!(mailer.sent().len(), 1, "sent once");
    assert!(matches!(
        memory.delivery(&key).await.unwrap(),
        Some(Delivery::Unknown { .. })
    ));
}

/// A swept key the plan still holds due, passed over by the tick that swept it (over its
/// limit): the tick reports it unknown, not as over the limit (which hid the sweep's report
/// for good). (Failed before: reported zero times.)
#[tokio::test]
async fn a_swept_key_over_the_ticks_limit_is_reported_unknown() {
    let policy = Policy::new(tz("UTC")).with_rule(rule("overdue", Anchor::Due, 0));
    let (_, _, sweeper, now, key) = sent_again_after_a_release_dated_ahead(&policy).await;
    let limited = sweeper
        .with_options(DispatchOptions::default().with_per_tick_limit(0))
        .unwrap();
    let mut reports = Vec::new();
    for minutes in [20, 30] {
        reports.push(limited.tick(now + Duration::minutes(minutes)).await.unwrap());
    }
    let unknown: Vec<EventKey> = reports.iter().flat_map(|r| r.unknown_keys()).collect();
    assert_eq!(unknown, [key], "{reports:#?}");
}

/// A grouped rule over two invoices of `acme` due 2026-04-01: its notice sent at noon by a
/// dispatcher (at-least-once with `leased`) that dies before recording it. Returns the
/// policy, the store, the mailer, noon and the invoices as they were.
async fn a_crashed_grouped_notice(leased: bool) -> CrashedNotice {
    let crashed = a_grouped_notice_crashed_through(DiesAfterEverySend, leased).await;
    assert_eq!(crashed.2.sent().len(), 1, "one notice");
    crashed
}

/// The policy, store, mailer, noon and invoices of [`a_crashed_grouped_notice`].
type CrashedNotice = (
    Policy,
    Arc<MemoryStore>,
    Arc<RecordingMailer>,
    DateTime<Utc>,
    Vec<Item>,
);

/// As [`a_crashed_grouped_notice`], the dying dispatcher's store calls going through `hooks`.
async fn a_grouped_notice_crashed_through<H: Hooks>(hooks: H, leased: bool) -> CrashedNotice {
    let policy = Policy::new(tz("UTC")).with_rule(rule("overdue", Anchor::Due, 0).grouped());
    let items = vec![
        invoice("F-1", "acme", d(2026, 3, 1), d(2026, 4, 1), money("1000", "CLP")),
        invoice("F-2", "acme", d(2026, 3, 1), d(2026, 4, 1), money("2000", "CLP")),
    ];
    let memory = Arc::new(MemoryStore::new(vec![client("acme", "UTC")], items.clone()));
    let mailer = Arc::new(RecordingMailer::new());
    let now = utc(2026, 4, 1, 12, 0);
    let mut dying = Dispatcher::new(Hooked::new(memory.clone(), hooks), mailer.clone(), &policy).unwrap();
    if leased {
        dying = dying.with_options(at_least_once()).unwrap();
    }
    dying
        .with_clock(Arc::new(ManualClock::new(now)))
        .tick(now)
        .await
        .unwrap();
    (policy, memory, mailer, now, items)
}

/// A grouped notice of two invoices, sent and its process dead before recording it, is
/// recorded unknown by a sweep with its items; the host releases the notice, and the next
/// tick sends it again (items and all). (Failed before: the sweep's entry named no items, so
/// the release left the items' occurrences unknown and nothing went again.)
#[tokio::test]
async fn releasing_a_swept_grouped_notice_releases_its_items() {
    let (policy, memory, mailer, now, _) = a_crashed_grouped_notice(false).await;
    let sweeper = Dispatcher::new(memory.clone(), mailer.clone(), &policy)
        .unwrap()
        .with_clock(Arc::new(ManualClock::new(now + Duration::minutes(5))));
    let swept = sweeper.tick(now + Duration::minutes(5)).await.unwrap();
    let notice = swept.unknown_keys().to_vec();
    assert_eq!(notice.len(), 1, "{swept:#?}");
    assert!(sweeper.release(&notice[0]).await.unwrap());
    let again = sweeper.tick(now + Duration::minutes(10)).await.unwrap();
    assert_eq!(again.sent_pairs().len(), 1, "{again:#?}");
    assert_eq!(mailer.sent().len(), 2, "sent again once released");
    let history = memory.snapshot().history;
    let resent = history
        .iter()
        .rev()
        .find(|h| h.outcome.is_sent())
        .expect("recorded sent");
    assert_eq!(resent.items.len(), 2, "{resent:?}");
}

/// A grouped notice whose dispatcher stalls after claiming it, taken for abandoned by a
/// second dispatcher's sweep (recorded unknown with its item): the first, which knows
/// nothing went, releases the notice and its item, and the notice goes once at the next
/// tick. (Failed before: the item's occurrence stayed unknown and nothing went.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_grouped_notice_taken_for_abandoned_goes_once_released() {
    let policy = Policy::new(tz("UTC")).with_rule(rule("overdue", Anchor::Due, 0).grouped());
    let (memory, slow, mailer, first, running, _) = first_stalled_after_its_claim(&policy).await;
    let now = utc(2026, 4, 1, 12, 0);
    let second = Dispatcher::new(memory.clone(), mailer.clone(), &policy)
        .unwrap()
        .with_clock(Arc::new(ManualClock::new(now + Duration::seconds(61))));
    let swept = second.tick(now + Duration::seconds(61)).await.unwrap();
    assert_eq!(swept.unknown_keys().len(), 1, "{swept:#?}");
    slow.hooks.gate.notify_one();
    let late = running.await.unwrap();
    assert!(late.sent_pairs().is_empty(), "{late:?}");
    assert!(mailer.sent().is_empty());
    let next = first.tick(now + Duration::hours(1)).await.unwrap();
    assert_eq!(next.sent_pairs().len(), 1, "{next:#?}");
    assert_eq!(mailer.sent().len(), 1, "sent once");
}

/// A stalled claim taken at 12:00:30 that a second dispatcher, whose tick began at 12:00
/// and whose load took two minutes, finds abandoned when its send is refused: recorded
/// unknown dated with the claim's instant (12:00:30, later than the finder's tick began), so
/// the first knows it for its own, releases it, and the key goes once. (Failed before: dated
/// 12:00, the first did not know it, and nothing ever went.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_found_abandoned_after_the_finders_tick_began_is_released_by_its_owner() {
    let policy = Policy::new(tz("UTC")).with_rule(rule("overdue", Anchor::Due, 0));
    let hooks = SlowReread {
        gate: tokio::sync::Notify::new(),
        blocked: false.into(),
    };
    let start = utc(2026, 4, 1, 12, 0);
    let (memory, slow, mailer, _first, running, key) =
        first_claimed_through(&policy, hooks, start + Duration::seconds(30)).await;
    let clock = ManualClock::new(start);
    let second = Dispatcher::new(
        Hooked::new(
            memory.clone(),
            ClockedLoad {
                clock: clock.clone(),
                by: Duration::minutes(2),
            },
        ),
        mailer.clone(),
        &policy,
    )
    .unwrap()
    .with_clock(Arc::new(clock));
    let report = second.tick(start).await.unwrap();
    assert_eq!(report.unknown_keys(), std::slice::from_ref(&key), "{report:#?}");
    slow.hooks.gate.notify_one();
    running.await.unwrap();
    let host = Dispatcher::new(memory.clone(), mailer.clone(), &policy).unwrap();
    host.tick(start + Duration::hours(1)).await.unwrap();
    assert_eq!(mailer.sent().len(), 1, "sent once");
}

/// A grouped "issued" rule over an invoice in USD and an action with no amount: two notices
/// (one a currency), sent and their process dead before recording them, recorded unknown
/// by a sweep, each with its own item. The host releases the action's notice and it goes
/// again; the invoice's stays unknown. (Failed before: the USD notice's entry also listed
/// the action, which stayed counted as sent and never went again.)
#[tokio::test]
async fn a_swept_notice_lists_only_items_of_its_currency() {
    let policy = Policy::new(tz("UTC")).with_rule(rule("issued", Anchor::Issued, 0).grouped());
    let items = vec![
        invoice("F-1", "acme", d(2026, 4, 1), d(2026, 5, 1), money("1000", "USD")),
        Item::action(
            "A-1".parse().unwrap(),
            "acme".parse().unwrap(),
            ItemKind::Proposal,
            d(2026, 4, 1),
        ),
    ];
    let memory = Arc::new(MemoryStore::new(vec![client("acme", "UTC")], items));
    let mailer = Arc::new(RecordingMailer::new());
    let now = utc(2026, 4, 1, 12, 0);
    let dying = Dispatcher::new(
        Hooked::new(memory.clone(), DiesAfterEverySend),
        mailer.clone(),
        &policy,
    )
    .unwrap()
    .with_clock(Arc::new(ManualClock::new(now)));
    dying.tick(now).await.unwrap();
    assert_eq!(mailer.sent().len(), 2, "two notices");
    let sweeper = Dispatcher::new(memory.clone(), mailer.clone(), &policy)
        .unwrap()
        .with_clock(Arc::new(ManualClock::new(now + Duration::minutes(5))));
    let swept = sweeper.tick(now + Duration::minutes(5)).await.unwrap();
    let notices = swept.unknown_keys();
    assert_eq!(notices.len(), 2, "{swept:#?}");
    let action = notices
        .iter()
        .find(|k| k.as_str().contains("/-/"))
        .expect("the action's notice");
    assert!(sweeper.release(action).await.unwrap());
    let again = sweeper.tick(now + Duration::minutes(10)).await.unwrap();
    assert_eq!(again.sent_pairs().len(), 1, "{again:#?}");
    assert_eq!(mailer.sent().len(), 3);
}

/// Runs a second dispatcher's tick once, inside the first one's claim of `key` (after the
/// store answered it): the second sweeps what the first was refused.
struct SweepsWhileRefused {
    key: EventKey,
    other: std::sync::Mutex<Option<(Arc<Dispatcher>, DateTime<Utc>)>>,
    reports: std::sync::Mutex<Vec<TickReport>>,
}

#[async_trait]
impl Hooks for SweepsWhileRefused {
    async fn claim(
        &self,
        inner: &MemoryStore,
        key: &EventKey,
        now: DateTime<Utc>,
        lease: Option<Duration>,
    ) -> Result<Claim, StoreError> {
        let answer = inner.claim(key, now, lease).await;
        if *key == self.key {
            let other = self.other.lock().unwrap().take();
            if let Some((d, at)) = other {
                let report = d.tick(at).await.unwrap();
                self.reports.lock().unwrap().push(report);
            }
        }
        answer
    }
}

/// A claim a crash left, refused to one dispatcher, which finds it abandoned, and recorded
/// unknown meanwhile by another's sweep: recorded and reported once, by the sweep. (Failed
/// before: the first recorded it again and reported it too: two reports, two entries.)
#[tokio::test]
async fn a_crashed_claim_found_by_a_send_and_a_sweep_at_once_is_reported_once() {
    let policy = Policy::new(tz("UTC")).with_rule(rule("overdue", Anchor::Due, 0));
    let (memory, mailer, now, key, _) = a_crashed_reminder(&policy).await;
    let later = now + Duration::minutes(5);
    let sweeper = Arc::new(
        Dispatcher::new(memory.clone(), mailer.clone(), &policy)
            .unwrap()
            .with_clock(Arc::new(ManualClock::new(later))),
    );
    let hooks = SweepsWhileRefused {
        key: key.clone(),
        other: std::sync::Mutex::new(Some((sweeper, later))),
        reports: std::sync::Mutex::new(Vec::new()),
    };
    let hooked = Hooked::new(memory.clone(), hooks);
    // Its tick began before the crash's claim was old enough to sweep; its claim is late.
    let finder = Dispatcher::new(hooked.clone(), mailer.clone(), &policy)
        .unwrap()
        .with_clock(Arc::new(Stepping(ManualClock::new(now + Duration::seconds(60)))));
    let found = finder.tick(now + Duration::seconds(60)).await.unwrap();
    let mut reported: Vec<EventKey> = found.unknown_keys();
    for r in hooked.hooks.reports.lock().unwrap().iter() {
        reported.extend(r.unknown_keys());
    }
    assert_eq!(reported, std::slice::from_ref(&key), "{found:#?}");
    let entries = memory
        .snapshot()
        .history
        .iter()
        .filter(|h| h.key == key && h.outcome == HistoryOutcome::OutcomeUnknown)
        .count();
    assert_eq!(entries, 1);
}

/// Fails every record of a grouped notice of `acme` while `on`.
struct FailsNoticeRecords {
    on: std::sync::atomic::AtomicBool,
}

#[async_trait]
impl Hooks for FailsNoticeRecords {
    async fn finish(
        &self,
        inner: &MemoryStore,
        key: &EventKey,
        outcome: Delivery,
        sent: Option<HistoryEntry>,
        log: Option<LogEntry>,
    ) -> Result<(), StoreError> {
        if self.on.load(std::sync::atomic::Ordering::SeqCst) && key.as_str().contains("/acme/") {
            return Err(StoreError::Backend("down for the notice".into()));
        }
        inner.finish(key, outcome, sent, log).await
    }
}

/// A grouped notice of two invoices left by a crash, whose item occurrences a sweep records
/// unknown while the record of the notice itself fails (in the sweep and in the send that
/// finds it abandoned); the next tick's sweep records the notice alone, listing the items
/// recorded before at its instant, so releasing it releases them and it goes again.
/// (Failed before: its entry listed no items, and nothing went again.)
#[tokio::test]
async fn a_notice_swept_after_its_items_lists_them() {
    let (policy, memory, mailer, now, _) = a_crashed_grouped_notice(false).await;
    let failing = Hooked::new(memory.clone(), FailsNoticeRecords { on: true.into() });
    let at = |minutes| now + Duration::minutes(minutes);
    let sweeper = Dispatcher::new(failing.clone(), mailer.clone(), &policy)
        .unwrap()
        .with_clock(Arc::new(ManualClock::new(at(5))));
    sweeper.tick(at(5)).await.unwrap();
    failing.hooks.on.store(false, std::sync::atomic::Ordering::SeqCst);
    let swept = sweeper.tick(at(10)).await.unwrap();
    let notice = swept.unknown_keys();
    assert_eq!(notice.len(), 1, "{swept:#?}");
    assert!(sweeper.release(&notice[0]).await.unwrap());
    sweeper.tick(at(20)).await.unwrap();
    assert_eq!(mailer.sent().len(), 2, "sent again once released");
}

/// At-least-once: a grouped notice of two invoices left by a crash, both paid before its
/// lease runs out, so the sweep records it unknown (its items listed); the payments are
/// reversed and the host releases it: it goes again. (Failed before: its entry listed no
/// items, which stayed counted as sent, and nothing went.)
#[tokio::test]
async fn an_at_least_once_notice_stopped_for_good_is_recorded_with_its_items() {
    let (policy, memory, mailer, now, unpaid) = a_crashed_grouped_notice(true).await;
    pay_every_invoice(&memory);
    let later = now + Duration::hours(1);
    let sweeper = restarted(&memory, &mailer, &policy).with_clock(Arc::new(ManualClock::new(later)));
    let swept = sweeper.tick(later).await.unwrap();
    assert_eq!(swept.unknown_keys().len(), 1, "{swept:#?}");
    memory.update_items(|items| *items = unpaid);
    let notice = swept.unknown_keys();
    assert!(sweeper.release(&notice[0]).await.unwrap());
    sweeper.tick(later + Duration::minutes(5)).await.unwrap();
    assert_eq!(mailer.sent().len(), 2, "sent again once released");
}

/// Takes a grouped notice's own claim, then fails the claims of its items and every record:
/// the process dies holding the notice's claim alone.
struct HoldsOnlyTheNotice;

#[async_trait]
impl Hooks for HoldsOnlyTheNotice {
    async fn claim(
        &self,
        inner: &MemoryStore,
        key: &EventKey,
        now: DateTime<Utc>,
        lease: Option<Duration>,
    ) -> Result<Claim, StoreError> {
        if key.as_str().starts_with("overdue/F-") {
            return Err(StoreError::Backend("process killed".into()));
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
        DiesAfterEverySend.finish(inner, key, outcome, sent, log).await
    }
}

/// A grouped notice's claim left by a crash (its items never claimed), found abandoned by a
/// dispatcher planning from a read older than a send of one of its items by another: that
/// item's occurrence, sent, stays sent, and the notice's unknown record lists only what it
/// held. (Failed before: the item's delivery was overwritten as unknown.)
#[tokio::test]
async fn a_notice_found_abandoned_leaves_an_item_sent_since_as_sent() {
    let (policy, memory, mailer, now, _) = a_grouped_notice_crashed_through(HoldsOnlyTheNotice, false).await;
    assert!(mailer.sent().is_empty());
    let claimed = memory.deliveries();
    assert_eq!(claimed.len(), 1, "the notice's claim alone: {claimed:?}");
    let old_read = stale(&memory);
    let f1: EventKey = "overdue/F-1/1".into();
    let sent_at = now + Duration::seconds(30);
    assert!(matches!(
        memory.claim(&f1, sent_at, None).await.unwrap(),
        Claim::Granted { .. }
    ));
    let mut entry = HistoryEntry::manual("acme".parse().unwrap(), "F-1".parse().unwrap(), sent_at);
    entry.key = f1.clone();
    entry.rule = Some("overdue".parse().unwrap());
    entry.items[0].occurrence = 1;
    let sent = Delivery::Sent {
        at: sent_at,
        message_id: "<other@x>".into(),
    };
    memory.finish(&f1, sent, Some(entry), None).await.unwrap();
    // Its tick began before the claim was old enough to sweep; its own claim is late.
    let finder = Dispatcher::new(old_read, mailer.clone(), &policy)
        .unwrap()
        .with_clock(Arc::new(Stepping(ManualClock::new(now + Duration::seconds(60)))));
    let found = finder.tick(now + Duration::seconds(60)).await.unwrap();
    assert_eq!(found.unknown_keys().len(), 1, "{found:#?}");
    assert!(
        matches!(memory.delivery(&f1).await.unwrap(), Some(Delivery::Sent { .. })),
        "{:?}",
        memory.delivery(&f1).await.unwrap()
    );
    let notice = memory
        .snapshot()
        .history
        .into_iter()
        .find(|h| h.outcome == HistoryOutcome::OutcomeUnknown)
        .expect("the notice recorded unknown");
    assert!(notice.items.is_empty(), "{notice:?}");
}

/// An at-least-once lease shorter than a send may take (two send timeouts) is refused: a
/// second dispatcher would take a key again while the first is still sending it, and the
/// client would get it twice with no crash at all. It was accepted.
#[test]
fn an_at_least_once_lease_shorter_than_a_send_is_refused() {
    let (_, _, dispatcher) = setup(RecordingMailer::new());
    let opts = |timeout_ms: u64, lease_secs: u64| {
        DispatchOptions::default()
            .with_send_timeout(StdDuration::from_millis(timeout_ms))
            .with_guarantee(Guarantee::AtLeastOnce { lease_secs })
    };
    for (timeout_ms, lease_secs, min_secs) in [
        (30_000, 89, 90),
        (30_000, 60, 90),
        (30_000, 1, 90),
        (1_500, 4, 5),
        (1_600, 3, 5),
    ] {
        assert_eq!(
            opts(timeout_ms, lease_secs).validate(),
            Err(ValidationError::LeaseTooShort { lease_secs, min_secs })
        );
    }
    let err = setup(RecordingMailer::new())
        .2
        .with_options(opts(30_000, 59))
        .err()
        .unwrap();
    assert!(err.to_string().contains("lease of 59 s"), "{err}");
    let fine = [(30_000, 90), (1_500, 5), (20, 1), (0, 0)];
    for (timeout_ms, lease_secs) in fine {
        opts(timeout_ms, lease_secs).validate().unwrap();
    }
    dispatcher.with_options(opts(30_000, 600)).unwrap();
    // At-most-once has no lease.
    DispatchOptions::default()
        .with_send_timeout(StdDuration::from_secs(u64::MAX))
        .validate()
        .unwrap();
}

/// A store whose re-read of a claimed event's client is slow: it moves the dispatcher's
/// clock on by `by`.
struct ClockedReread {
    clock: ManualClock,
    by: Duration,
}

#[async_trait]
impl Hooks for ClockedReread {
    async fn load_client(&self, inner: &MemoryStore, client: &ClientId) -> Result<Snapshot, StoreError> {
        self.clock.advance(self.by);
        inner.load_client(client).await
    }
}

/// A mailer that lets a second dispatcher tick while it sends (well within its timeout).
struct InterleavingMailer {
    sent: std::sync::Mutex<Vec<String>>,
    other: std::sync::Mutex<Option<(Arc<Dispatcher>, DateTime<Utc>)>>,
}

#[async_trait]
impl Mailer for InterleavingMailer {
    async fn send(&self, message: &Message) -> Result<Receipt, MailError> {
        self.sent.lock().unwrap().push(message.key.to_string());
        let other = self.other.lock().unwrap().take();
        if let Some((b, at)) = other {
            b.tick(at).await.unwrap();
        }
        Ok(Receipt {
            message_id: format!("<a.{}@x>", message.key),
        })
    }
}

/// The keys A's and B's mailers were given, sorted.
fn sent_by_both(a: &InterleavingMailer, b: &RecordingMailer) -> Vec<String> {
    let mut sent: Vec<String> = a.sent.lock().unwrap().clone();
    sent.extend(b.sent().iter().map(|m| m.key.to_string()));
    sent.sort();
    sent
}

fn assert_none_sent_twice(a: &InterleavingMailer, b: &RecordingMailer) {
    let sent = sent_by_both(a, b);
    let mut once = sent.clone();
    once.dedup();
    assert_eq!(sent, once, "sent twice");
}

/// Two dispatchers on one store holding acme's F-1, due at 2026-03-02 10:00: B, whose clock
/// reads `b_at`, and the mailer of A, which makes B tick at `b_at` in the middle of A's first
/// send. A is made by each test ([`Interleaved::a`]): its store may be hooked, its clock its own.
struct Interleaved {
    policy: Policy,
    inner: Arc<MemoryStore>,
    b: Arc<Dispatcher>,
    b_mailer: Arc<RecordingMailer>,
    a_mailer: Arc<InterleavingMailer>,
}

fn interleaved(options: &DispatchOptions, b_at: DateTime<Utc>) -> Interleaved {
    let policy = seed001_policy("UTC");
    let item = invoice("F-1", "acme", d(2026, 2, 1), d(2026, 3, 2), money("1000", "CLP"));
    let inner = Arc::new(MemoryStore::new(vec![client("acme", "UTC")], vec![item]));
    let b_mailer = Arc::new(RecordingMailer::new());
    let b = Arc::new(
        Dispatcher::new(inner.clone(), b_mailer.clone(), &policy)
            .unwrap()
            .with_clock(Arc::new(ManualClock::new(b_at)))
            .with_options(options.clone())
            .unwrap(),
    );
    let a_mailer = Arc::new(InterleavingMailer {
        sent: std::sync::Mutex::new(Vec::new()),
        other: std::sync::Mutex::new(Some((b.clone(), b_at))),
    });
    Interleaved {
        policy,
        inner,
        b,
        b_mailer,
        a_mailer,
    }
}

impl Interleaved {
    /// Dispatcher A, on `store` (the shared one, or a hooked view of it), with `clock`.
    fn a(&self, store: Arc<dyn Store>, clock: ManualClock, options: DispatchOptions) -> Dispatcher {
        Dispatcher::new(store, self.a_mailer.clone(), &self.policy)
            .unwrap()
            .with_clock(Arc::new(clock))
            .with_options(options)
            .unwrap()
    }
}

/// Under at-least-once a claim's lease must still cover the send when the send starts, not
/// only when the claim is taken: with a lease of three send timeouts (30 s) and a re-read of
/// 19 s, dispatcher A would send with 11 s of lease left (a send and its record may take
/// 20 s), and B, taking the key again at 31 s in the middle of A's send, would send it too.
/// A leaves it (retried once the lease has run out) and B sends it once.
#[tokio::test]
async fn a_claim_whose_lease_ran_low_during_a_slow_reread_is_not_sent_twice() {
    let options = DispatchOptions::default()
        .with_send_timeout(StdDuration::from_secs(10))
        .with_guarantee(Guarantee::AtLeastOnce { lease_secs: 30 });
    let now = utc(2026, 3, 2, 10, 0);
    let b_at = now + Duration::seconds(31);
    let w = interleaved(&options, b_at);
    let a_clock = ManualClock::new(now);
    let slow = Hooked::new(
        w.inner.clone(),
        ClockedReread {
            clock: a_clock.clone(),
            by: Duration::seconds(19),
        },
    );
    let a = w.a(slow, a_clock, options);
    let report = a.tick(now).await.unwrap();
    let due: Vec<_> = report.sends.iter().map(|s| s.key.to_string()).collect();
    assert!(!due.is_empty(), "nothing was due");
    for s in &report.sends {
        assert!(
            matches!(&s.outcome, SendOutcome::Skipped { skip: Skip::RetryLater { not_before } } if *not_before == now + Duration::seconds(30)),
            "{s:?}"
        );
    }
    // B ticks after the lease ran out (A's mailer did not get to call it).
    w.b.tick(b_at).await.unwrap();
    assert_eq!(
        sent_by_both(&w.a_mailer, &w.b_mailer),
        due,
        "each due key sent once, by one of the two"
    );
}

/// A clock a millisecond later at each reading.
struct Creeping(std::sync::Mutex<DateTime<Utc>>);

impl dunning::Clock for Creeping {
    fn now(&self) -> DateTime<Utc> {
        let mut t = self.0.lock().unwrap();
        *t += Duration::milliseconds(1);
        *t
    }
    fn sleep(&self, _: StdDuration) -> dunning::clock::Sleep {
        Box::pin(std::future::pending())
    }
}

/// Fails every record: the process dies after each send, its claims left.
struct DiesAfterEverySend;

#[async_trait]
impl Hooks for DiesAfterEverySend {
    async fn finish(
        &self,
        _: &MemoryStore,
        _: &EventKey,
        _: Delivery,
        _: Option<HistoryEntry>,
        _: Option<LogEntry>,
    ) -> Result<(), StoreError> {
        Err(StoreError::Backend("process killed".into()))
    }
}

/// A grouped notice's item occurrences are claimed at the very instant its own claim was
/// stamped with, also when its claim went in one batch with another client's taken a moment
/// later (a batch stamps its latest instant): a crash's sweep knows them as the notice's by
/// it, and reports the notice once. (Failed before: the notice stamped with the other
/// client's later instant, its occurrences with its own.)
#[tokio::test]
async fn a_grouped_notice_and_its_items_are_claimed_at_one_instant_in_a_batch() {
    let policy = Policy::new(tz("UTC")).with_rule(rule("overdue", Anchor::Due, 0).grouped());
    let memory = Arc::new(MemoryStore::new(
        vec![client("acme", "UTC"), client("zeta", "UTC")],
        vec![
            invoice("F-1", "acme", d(2026, 3, 1), d(2026, 4, 1), money("1000", "CLP")),
            invoice("F-2", "acme", d(2026, 3, 1), d(2026, 4, 1), money("2000", "CLP")),
            invoice("Z-1", "zeta", d(2026, 3, 1), d(2026, 4, 1), money("3000", "CLP")),
        ],
    ));
    let mailer = Arc::new(RecordingMailer::new());
    let clock = Arc::new(Creeping(std::sync::Mutex::new(utc(2026, 4, 1, 12, 0))));
    let dispatcher = Dispatcher::new(
        Hooked::new(memory.clone(), DiesAfterEverySend),
        mailer.clone(),
        &policy,
    )
    .unwrap()
    .with_clock(clock);
    let report = dispatcher.tick(utc(2026, 4, 1, 12, 0)).await.unwrap();
    assert_eq!(mailer.sent().len(), 2, "{report:#?}");
    let claims = memory.abandoned_claims(utc(2027, 1, 1, 0, 0)).await.unwrap();
    let acme: Vec<(String, DateTime<Utc>)> = claims
        .iter()
        .filter(|(k, _)| k.as_str().contains("acme") || k.as_str().contains("F-"))
        .map(|(k, d)| match d {
            Delivery::Claimed { at, .. } => (k.to_string(), *at),
            other => panic!("{k}: {other:?}"),
        })
        .collect();
    assert_eq!(acme.len(), 3, "the notice and its two occurrences: {claims:?}");
    assert!(
        acme.iter().all(|(_, at)| *at == acme[0].1),
        "one notice, one instant: {acme:?}"
    );
    // The next day's tick finds the notice abandoned and reports it once.
    let dispatcher = Dispatcher::new(memory.clone(), mailer.clone(), &policy).unwrap();
    let report = dispatcher.tick(utc(2026, 4, 2, 12, 0)).await.unwrap();
    let unknown: Vec<&str> = report.unknown().map(|s| s.key.as_str()).collect();
    assert_eq!(
        unknown.len(),
        2,
        "the notice and zeta's reminder, once each: {unknown:?}"
    );
}

/// The shortest at-least-once lease the options accept still leaves room to send: with a
/// re-read that takes a millisecond, the event goes. (Failed before: the shortest lease was
/// two send timeouts, exactly what a send and its record may take, so any time between the
/// claim and the send left too little and nothing was ever sent, only retried.)
#[tokio::test]
async fn the_shortest_lease_accepted_leaves_room_to_send() {
    let timeout = StdDuration::from_secs(10);
    let lease_secs = (1..10_000)
        .find(|&l| {
            DispatchOptions::default()
                .with_send_timeout(timeout)
                .with_guarantee(Guarantee::AtLeastOnce { lease_secs: l })
                .validate()
                .is_ok()
        })
        .unwrap();
    let options = DispatchOptions::default()
        .with_send_timeout(timeout)
        .with_guarantee(Guarantee::AtLeastOnce { lease_secs });
    let now = utc(2026, 3, 2, 10, 0);
    let item = invoice("F-1", "acme", d(2026, 2, 1), d(2026, 3, 2), money("1000", "CLP"));
    let inner = Arc::new(MemoryStore::new(vec![client("acme", "UTC")], vec![item]));
    let clock = ManualClock::new(now);
    let store = Hooked::new(
        inner,
        ClockedReread {
            clock: clock.clone(),
            by: Duration::milliseconds(1),
        },
    );
    let mailer = Arc::new(RecordingMailer::new());
    let dispatcher = Dispatcher::new(store, mailer.clone(), &seed001_policy("UTC"))
        .unwrap()
        .with_clock(Arc::new(clock))
        .with_options(options)
        .unwrap();
    let report = dispatcher.tick(now).await.unwrap();
    assert!(report.due > 0, "nothing was due");
    assert_eq!(
        report.sent().count(),
        report.due,
        "lease {lease_secs} s: {report:#?}"
    );
    assert_eq!(mailer.sent().len(), report.due);
}

/// Fails the first re-read; then fails the record of that (nothing recorded), and loses the
/// answer of the letting go that follows (recorded, then an error): the dispatcher keeps the
/// claim to let go of at its next tick.
struct LetGoAnswerLost {
    reread: std::sync::atomic::AtomicBool,
    skips: std::sync::atomic::AtomicUsize,
}

#[async_trait]
impl Hooks for LetGoAnswerLost {
    async fn load_client(&self, inner: &MemoryStore, client: &ClientId) -> Result<Snapshot, StoreError> {
        if self.reread.swap(false, std::sync::atomic::Ordering::SeqCst) {
            return Err(StoreError::Backend("re-read down".into()));
        }
        inner.load_client(client).await
    }
    async fn finish(
        &self,
        inner: &MemoryStore,
        key: &EventKey,
        outcome: Delivery,
        sent: Option<HistoryEntry>,
        log: Option<LogEntry>,
    ) -> Result<(), StoreError> {
        if !matches!(outcome, Delivery::Skipped { .. }) {
            return inner.finish(key, outcome, sent, log).await;
        }
        match self.skips.fetch_add(1, std::sync::atomic::Ordering::SeqCst) {
            0 => Err(StoreError::Backend("record down".into())),
            1 => {
                inner.finish(key, outcome, sent, log).await?;
                Err(StoreError::Unavailable {
                    context: "letting go".into(),
                    message: "the answer was lost".into(),
                })
            }
            _ => inner.finish(key, outcome, sent, log).await,
        }
    }
}

/// A claim this dispatcher let go of (the store recorded it, but the answer was lost, so it
/// is kept to let go of again) and another dispatcher then took with the same attempt number
/// is not let go of by the first at its next tick: the other's send goes once. (Failed
/// before: the first took the other's claim, attempt 1 again, for its own, let it go in the
/// middle of the other's send, claimed the key itself and sent it too.)
#[tokio::test]
async fn a_claim_let_go_and_taken_by_another_dispatcher_is_not_let_go_of_again() {
    let policy = seed001_policy("UTC");
    let now = utc(2026, 3, 2, 10, 0);
    let item = invoice("F-1", "acme", d(2026, 2, 1), d(2026, 3, 2), money("1000", "CLP"));
    let inner = Arc::new(MemoryStore::new(vec![client("acme", "UTC")], vec![item]));
    let x_mailer = Arc::new(RecordingMailer::new());
    let x = Arc::new(
        Dispatcher::new(
            Hooked::new(
                inner.clone(),
                LetGoAnswerLost {
                    reread: true.into(),
                    skips: 0.into(),
                },
            ),
            x_mailer.clone(),
            &policy,
        )
        .unwrap()
        .with_clock(Arc::new(ManualClock::new(now))),
    );
    let first = x.tick(now).await.unwrap();
    assert_eq!(first.interrupted().count(), 1, "{first:#?}");
    // Another dispatcher takes the key an hour later; in the middle of its send, the first
    // ticks again.
    let later = now + Duration::hours(1);
    let y_mailer = Arc::new(InterleavingMailer {
        sent: std::sync::Mutex::new(Vec::new()),
        other: std::sync::Mutex::new(Some((x.clone(), later + Duration::seconds(5)))),
    });
    let y = Dispatcher::new(inner.clone(), y_mailer.clone(), &policy)
        .unwrap()
        .with_clock(Arc::new(ManualClock::new(later)));
    let report = y.tick(later).await.unwrap();
    assert_eq!(report.sent().count(), 1, "{report:#?}");
    let mut sent: Vec<String> = y_mailer.sent.lock().unwrap().clone();
    sent.extend(x_mailer.sent().iter().map(|m| m.key.to_string()));
    assert_eq!(sent.len(), 1, "sent twice: {sent:?}");
}

/// A store whose load is slow: it moves the dispatcher's clock on by `by`.
struct ClockedLoad {
    clock: ManualClock,
    by: Duration,
}

#[async_trait]
impl Hooks for ClockedLoad {
    async fn load(&self, inner: &MemoryStore) -> Result<Snapshot, StoreError> {
        self.clock.set(self.clock.now() + self.by);
        inner.load().await
    }
}

/// A claim is stamped with the time the tick has taken, its load included: after a 40 s
/// load, dispatcher A's claim (lease 200 s) is stamped 40 s after the tick's instant, so B,
/// ticking at 201 s in the middle of A's send, finds it held and the client gets it once.
/// (Failed before: the claim was stamped as of the planning, after the load, at the tick's
/// instant; B took it again at 201 s and sent it too.)
#[tokio::test]
async fn a_claim_after_a_slow_load_is_stamped_with_the_time_the_load_took() {
    let options = DispatchOptions::default()
        .with_send_timeout(StdDuration::from_secs(30))
        .with_guarantee(Guarantee::AtLeastOnce { lease_secs: 200 });
    let now = utc(2026, 3, 2, 10, 0);
    let w = interleaved(&options, now + Duration::seconds(201));
    let a_clock = ManualClock::new(now);
    let slow = Hooked::new(
        w.inner.clone(),
        ClockedLoad {
            clock: a_clock.clone(),
            by: Duration::seconds(40),
        },
    );
    let report = w.a(slow, a_clock, options).tick(now).await.unwrap();
    assert!(report.sent().count() > 0, "{report:#?}");
    assert_none_sent_twice(&w.a_mailer, &w.b_mailer);
}

/// Two dispatchers whose clocks disagree: B's runs 150 s ahead of A's. A claims a key under
/// at-least-once (lease 200 s) and, in the middle of its send, B ticks at 210 s by its own
/// clock: 60 s by A's. Told the clocks may disagree by 150 s, B takes the claim for A's (the
/// lease has not run out by A's clock) and does not send it too.
#[tokio::test]
async fn a_dispatcher_whose_clock_runs_ahead_does_not_take_a_claim_still_leased() {
    let skew = StdDuration::from_secs(150);
    let options = DispatchOptions::default()
        .with_send_timeout(StdDuration::from_secs(30))
        .with_guarantee(Guarantee::AtLeastOnce { lease_secs: 200 })
        .with_max_clock_skew(skew);
    let now = utc(2026, 3, 2, 10, 0);
    let w = interleaved(&options, now + Duration::seconds(210));
    let report = w
        .a(w.inner.clone(), ManualClock::new(now), options)
        .tick(now)
        .await
        .unwrap();
    assert!(report.sent().count() > 0, "{report:#?}");
    assert!(
        w.a_mailer.other.lock().unwrap().is_none(),
        "B ticked during A's send"
    );
    assert_none_sent_twice(&w.a_mailer, &w.b_mailer);
}

/// The same under at-most-once: B, whose clock runs 150 s ahead, ticks in the middle of A's
/// send at 160 s by its own clock (10 s by A's). Told the clocks may disagree by 150 s, it
/// does not take A's claim for abandoned (older than two send timeouts by its clock only)
/// and reports nothing as outcome unknown; A's send is recorded as sent.
#[tokio::test]
async fn a_dispatcher_whose_clock_runs_ahead_does_not_take_a_claim_in_flight_for_abandoned() {
    let options = DispatchOptions::default()
        .with_send_timeout(StdDuration::from_secs(30))
        .with_max_clock_skew(StdDuration::from_secs(150));
    let policy = seed001_policy("UTC");
    let now = utc(2026, 3, 2, 10, 0);
    let item = invoice("F-1", "acme", d(2026, 2, 1), d(2026, 3, 2), money("1000", "CLP"));
    let inner = Arc::new(MemoryStore::new(vec![client("acme", "UTC")], vec![item]));
    let b_at = now + Duration::seconds(160);
    let b = Arc::new(
        Dispatcher::new(inner.clone(), Arc::new(RecordingMailer::new()), &policy)
            .unwrap()
            .with_clock(Arc::new(ManualClock::new(b_at)))
            .with_options(options.clone())
            .unwrap(),
    );
    let b_reports = Arc::new(std::sync::Mutex::new(Vec::new()));
    let a_mailer = Arc::new(ReportingInterleaver {
        other: std::sync::Mutex::new(Some((b.clone(), b_at))),
        reports: b_reports.clone(),
    });
    let a = Dispatcher::new(inner.clone(), a_mailer, &policy)
        .unwrap()
        .with_clock(Arc::new(ManualClock::new(now)))
        .with_options(options)
        .unwrap();
    let report = a.tick(now).await.unwrap();
    let key = report.sent().next().expect("A sent").key.clone();
    let b_reports = std::mem::take(&mut *b_reports.lock().unwrap());
    assert_eq!(b_reports.len(), 1, "B ticked during A's send");
    assert_eq!(b_reports[0].unknown().count(), 0, "{:#?}", b_reports[0]);
    assert!(
        matches!(inner.delivery(&key).await.unwrap(), Some(Delivery::Sent { .. })),
        "{:?}",
        inner.delivery(&key).await
    );
}

/// A mailer that lets another dispatcher tick in the middle of its first send, keeping that
/// tick's report.
struct ReportingInterleaver {
    other: std::sync::Mutex<Option<(Arc<Dispatcher>, DateTime<Utc>)>>,
    reports: Arc<std::sync::Mutex<Vec<TickReport>>>,
}

#[async_trait]
impl Mailer for ReportingInterleaver {
    async fn send(&self, message: &Message) -> Result<Receipt, MailError> {
        let other = self.other.lock().unwrap().take();
        if let Some((b, at)) = other {
            let report = b.tick(at).await.unwrap();
            self.reports.lock().unwrap().push(report);
        }
        Ok(Receipt {
            message_id: format!("<a.{}@x>", message.key),
        })
    }
}

/// At-least-once options: leases of ten minutes.
fn at_least_once() -> DispatchOptions {
    DispatchOptions::default()
        .with_send_timeout(StdDuration::from_secs(30))
        .with_guarantee(Guarantee::AtLeastOnce { lease_secs: 600 })
}

/// acme's `items` in a store, and a dispatcher that sends what is due on 2026-04-01 at noon
/// and dies before recording it (at-least-once).
async fn crashed_on_april_1st(policy: &Policy, items: Vec<Item>) -> (Arc<MemoryStore>, Arc<RecordingMailer>) {
    crashed_at(policy, items, utc(2026, 4, 1, 12, 0)).await
}

/// acme's `items` in a store, and a dispatcher that sends what is due at `at` and dies
/// before recording it (at-least-once).
async fn crashed_at(
    policy: &Policy,
    items: Vec<Item>,
    at: DateTime<Utc>,
) -> (Arc<MemoryStore>, Arc<RecordingMailer>) {
    let memory = Arc::new(MemoryStore::new(vec![client("acme", "UTC")], items));
    let mailer = Arc::new(RecordingMailer::new());
    let crashing = Dispatcher::new(
        Hooked::new(memory.clone(), Crashing::once()),
        mailer.clone(),
        policy,
    )
    .unwrap()
    .with_options(at_least_once())
    .unwrap();
    let report = crashing.tick(at).await.unwrap();
    assert_eq!(report.interrupted().count(), 1, "the crash surfaces: {report:#?}");
    (memory, mailer)
}

/// A grouped notice about acme's A-1 and A-2 sent on 2026-04-01 by a dispatcher that died
/// before recording it (at-least-once), and the policy.
async fn crashed_grouped_notice() -> (Policy, Arc<MemoryStore>, Arc<RecordingMailer>) {
    let policy = Policy::new(tz("UTC")).with_rule(rule("overdue", Anchor::Due, 0).grouped());
    let items = vec![
        invoice("A-1", "acme", d(2026, 3, 1), d(2026, 4, 1), money("10", "USD")),
        invoice("A-2", "acme", d(2026, 3, 1), d(2026, 4, 1), money("20", "USD")),
    ];
    let (memory, mailer) = crashed_on_april_1st(&policy, items).await;
    (policy, memory, mailer)
}

/// acme's F-1 (due 2026-04-01, an overdue reminder on the due date and weekly after)
/// reminded by a dispatcher that died before recording it (at-least-once); the policy.
async fn crashed_f1() -> (Policy, Arc<MemoryStore>, Arc<RecordingMailer>) {
    let policy = Policy::new(tz("UTC")).with_rule(rule("overdue", Anchor::Due, 0).repeat(7, 3));
    let items = vec![invoice(
        "F-1",
        "acme",
        d(2026, 3, 1),
        d(2026, 4, 1),
        money("1000", "CLP"),
    )];
    let (memory, mailer) = crashed_on_april_1st(&policy, items).await;
    (policy, memory, mailer)
}

/// [`crashed_f1`], then F-1 paid.
async fn crashed_then_paid() -> (Policy, Arc<MemoryStore>, Arc<RecordingMailer>) {
    let (policy, memory, mailer) = crashed_f1().await;
    pay_first_invoice(&memory);
    (policy, memory, mailer)
}

/// Every invoice of the store paid in full on 2026-04-01.
fn pay_every_invoice(memory: &MemoryStore) {
    memory.update_items(|items| {
        for it in items.iter_mut() {
            let total = it.total.unwrap();
            *it = it.clone().paid(total, d(2026, 4, 1));
        }
    });
}

/// The store's first invoice paid in full on 2026-04-01.
fn pay_first_invoice(memory: &MemoryStore) {
    memory.update_items(|items| {
        let total = items[0].total.unwrap();
        items[0] = items[0].clone().paid(total, d(2026, 4, 1));
    });
}

/// The dispatcher started again (at-least-once).
fn restarted(memory: &Arc<MemoryStore>, mailer: &Arc<RecordingMailer>, policy: &Policy) -> Dispatcher {
    Dispatcher::new(memory.clone(), mailer.clone(), policy)
        .unwrap()
        .with_options(at_least_once())
        .unwrap()
}

/// Under at-least-once, a reminder goes, the process dies before recording it, and the
/// invoice is paid before the lease runs out: the reminder is never sent again (nothing goes
/// after payment), and its claim is not left claimed for ever, unexplained. The next tick
/// after the lease records it as outcome unknown (it may have gone), reports it once, and
/// the plan explains it (it was left claimed, in no report and no history).
#[tokio::test]
async fn under_at_least_once_a_crash_left_claim_whose_invoice_is_then_paid_is_reported_unknown_once() {
    let (policy, memory, mailer) = crashed_then_paid().await;
    let dispatcher = restarted(&memory, &mailer, &policy);
    let key: EventKey = "overdue/F-1/1".into();
    let next = dispatcher.tick(utc(2026, 4, 2, 12, 0)).await.unwrap();
    assert_eq!(next.unknown_keys(), std::slice::from_ref(&key), "{next:#?}");
    assert_eq!(mailer.sent().len(), 1, "nothing more sent");
    assert!(matches!(
        memory.delivery(&key).await.unwrap(),
        Some(Delivery::Unknown { .. })
    ));
    let s = memory.snapshot();
    assert!(
        s.history.iter().any(|h| h.key == key
            && h.outcome == HistoryOutcome::OutcomeUnknown
            && (h.sent_at - utc(2026, 4, 1, 12, 0)).num_seconds() == 0),
        "{:#?}",
        s.history
    );
    let again = dispatcher.tick(utc(2026, 4, 3, 12, 0)).await.unwrap();
    assert!(again.unknown_keys().is_empty(), "reported once: {again:#?}");
    assert_eq!(mailer.sent().len(), 1);
}

/// Another dispatcher steps in the first time `key`'s delivery is read: it takes the key
/// again (its lease ran out) and records it sent, after the read (which answers what was
/// there before).
struct StepsInAfterRead {
    key: EventKey,
    at: DateTime<Utc>,
    done: std::sync::atomic::AtomicBool,
}

#[async_trait]
impl Hooks for StepsInAfterRead {
    async fn delivery(&self, inner: &MemoryStore, key: &EventKey) -> Result<Option<Delivery>, StoreError> {
        let read = inner.delivery(key).await;
        if *key == self.key && !self.done.swap(true, std::sync::atomic::Ordering::SeqCst) {
            let lease = Some(Duration::hours(1));
            assert_eq!(
                inner.claim(key, self.at, lease).await.unwrap(),
                Claim::Granted { attempt: 2 }
            );
            let sent = Delivery::Sent {
                at: self.at,
                message_id: "<other>".into(),
            };
            inner.finish(key, sent, None, None).await.unwrap();
        }
        read
    }
}

/// Under at-least-once, a crash-left claim whose invoice is then paid is recorded unknown by
/// the next tick after its lease; but another dispatcher takes the key again, and records it
/// sent, between that tick's last read of the claim and its record. The record is refused:
/// the key stays sent, with no unknown history entry and no unknown report (the sent
/// outcome was overwritten as unknown, and reported).
#[tokio::test]
async fn under_at_least_once_a_sweep_does_not_overwrite_a_claim_taken_again_after_its_read() {
    let (policy, memory, mailer) = crashed_then_paid().await;
    let key: EventKey = "overdue/F-1/1".into();
    let now = utc(2026, 4, 2, 12, 0);
    let hooks = StepsInAfterRead {
        key: key.clone(),
        at: now,
        done: false.into(),
    };
    let dispatcher = Dispatcher::new(Hooked::new(memory.clone(), hooks), mailer.clone(), &policy)
        .unwrap()
        .with_options(at_least_once())
        .unwrap();
    let next = dispatcher.tick(now).await.unwrap();
    assert!(next.unknown_keys().is_empty(), "{next:#?}");
    assert_eq!(
        memory.delivery(&key).await.unwrap(),
        Some(Delivery::Sent {
            at: now,
            message_id: "<other>".into()
        })
    );
    let history = memory.snapshot().history;
    assert!(
        !history
            .iter()
            .any(|h| h.key == key && h.outcome == HistoryOutcome::OutcomeUnknown),
        "{history:#?}"
    );
}

/// Under at-least-once, a crash-left claim whose reminder a client's pause holds back when
/// its lease runs out is left claimed (not taken for over): once the pause ends it goes
/// again, as at-least-once promises.
#[tokio::test]
async fn under_at_least_once_a_crash_left_claim_held_by_a_pause_goes_again_after_it() {
    let policy = Policy::new(tz("UTC")).with_rule(rule("overdue", Anchor::Due, 0));
    let items = vec![invoice(
        "F-1",
        "acme",
        d(2026, 3, 1),
        d(2026, 4, 1),
        money("1000", "CLP"),
    )];
    let (memory, mailer) = crashed_on_april_1st(&policy, items).await;
    memory.update_clients(|clients| {
        clients[0] = clients[0]
            .clone()
            .with_pause(Pause::new(PauseKind::Promise, "pays on the 5th").until(d(2026, 4, 4)));
    });
    let dispatcher = restarted(&memory, &mailer, &policy);
    let key: EventKey = "overdue/F-1/1".into();
    let held = dispatcher.tick(utc(2026, 4, 2, 12, 0)).await.unwrap();
    assert!(held.unknown_keys().is_empty(), "{held:#?}");
    assert!(matches!(
        memory.delivery(&key).await.unwrap(),
        Some(Delivery::Claimed { .. })
    ));
    let after = dispatcher.tick(utc(2026, 4, 5, 12, 0)).await.unwrap();
    assert_eq!(after.sent_pairs().len(), 1, "{after:#?}");
    assert_eq!(after.sent_pairs()[0].0, key);
    assert_eq!(mailer.sent().len(), 2, "sent again after the pause");
}

/// Under at-least-once, a grouped notice goes, the process dies before recording it, and
/// both its invoices are paid: one report of outcome unknown, the notice's, and its item
/// occurrences recorded unknown with it (none left claimed).
#[tokio::test]
async fn under_at_least_once_a_crash_left_grouped_notice_whose_invoices_are_paid_is_one_unknown() {
    let (policy, memory, mailer) = crashed_grouped_notice().await;
    pay_every_invoice(&memory);
    let dispatcher = restarted(&memory, &mailer, &policy);
    let next = dispatcher.tick(utc(2026, 4, 2, 12, 0)).await.unwrap();
    let unknown = next.unknown_keys();
    assert_eq!(unknown.len(), 1, "{next:#?}");
    assert!(unknown[0].as_str().starts_with("overdue/acme/"), "{unknown:?}");
    let claimed: Vec<_> = memory
        .deliveries()
        .into_iter()
        .filter(|(_, d)| matches!(d, Delivery::Claimed { .. }))
        .collect();
    assert!(claimed.is_empty(), "{claimed:#?}");
    for item in ["overdue/A-1/1", "overdue/A-2/1"] {
        assert!(
            matches!(
                memory.delivery(&item.into()).await.unwrap(),
                Some(Delivery::Unknown { .. })
            ),
            "{item}"
        );
    }
    assert_eq!(mailer.sent().len(), 1);
}

/// Under at-least-once, a grouped notice about two invoices goes and the process dies before
/// recording it; one invoice is then paid. The other's reminder goes again in a notice of its
/// own after the lease; the crashed notice is then reported once, as the message it was, and
/// the paid invoice's occurrence recorded with it (it was reported alone, as if it had been a
/// message, and the crashed notice stayed claimed for ever).
#[tokio::test]
async fn under_at_least_once_a_crash_left_notice_partly_paid_is_one_unknown_after_the_rest_goes() {
    let (policy, memory, mailer) = crashed_grouped_notice().await;
    let crashed = mailer.sent()[0].key.clone();
    pay_first_invoice(&memory);
    let dispatcher = restarted(&memory, &mailer, &policy);
    let next = dispatcher.tick(utc(2026, 4, 2, 12, 0)).await.unwrap();
    assert_eq!(next.sent().count(), 1, "A-2's reminder goes again: {next:#?}");
    assert!(next.unknown_keys().is_empty(), "{next:#?}");
    let after = dispatcher.tick(utc(2026, 4, 3, 12, 0)).await.unwrap();
    assert_eq!(after.unknown_keys(), std::slice::from_ref(&crashed), "{after:#?}");
    let claimed: Vec<_> = memory
        .deliveries()
        .into_iter()
        .filter(|(_, d)| matches!(d, Delivery::Claimed { .. }))
        .collect();
    assert!(claimed.is_empty(), "{claimed:#?}");
    assert!(matches!(
        memory.delivery(&"overdue/A-1/1".into()).await.unwrap(),
        Some(Delivery::Unknown { .. })
    ));
    let again = dispatcher.tick(utc(2026, 4, 4, 12, 0)).await.unwrap();
    assert!(again.unknown_keys().is_empty(), "reported once: {again:#?}");
    assert_eq!(mailer.sent().len(), 2);
}

/// Under at-least-once, a standing notice goes and the process dies before recording it;
/// the client then pays everything, so the state ends and the notice is never planned
/// again: after the lease it is recorded outcome unknown and reported once (it stayed
/// claimed for ever).
#[tokio::test]
async fn under_at_least_once_a_crash_left_standing_notice_whose_state_ended_is_one_unknown() {
    let policy = Policy::new(tz("UTC")).with_standing(StandingRule::new(5, 30));
    let items = vec![invoice(
        "F-1",
        "acme",
        d(2026, 3, 1),
        d(2026, 3, 20),
        money("10", "USD"),
    )];
    let (memory, mailer) = crashed_at(&policy, items, utc(2026, 4, 1, 12, 0)).await;
    let crashed = mailer.sent()[0].key.clone();
    assert!(crashed.as_str().starts_with("closing-soon/acme/"), "{crashed}");
    pay_first_invoice(&memory);
    let dispatcher = restarted(&memory, &mailer, &policy);
    let next = dispatcher.tick(utc(2026, 4, 2, 12, 0)).await.unwrap();
    assert_eq!(next.unknown_keys(), std::slice::from_ref(&crashed), "{next:#?}");
    let again = dispatcher.tick(utc(2026, 4, 3, 12, 0)).await.unwrap();
    assert!(again.unknown_keys().is_empty(), "reported once: {again:#?}");
    assert_eq!(mailer.sent().len(), 1);
}

/// A clock skew above a day is refused, naming the field (a saturated skew kept a crash's
/// claims from ever being found); a lease past what a duration counts stays a lease that
/// never runs out.
#[test]
fn a_clock_skew_past_reason_is_refused() {
    let skew = |d| DispatchOptions::default().with_max_clock_skew(d);
    assert!(matches!(
        skew(StdDuration::from_secs(24 * 3600 + 1)).validate(),
        Err(ValidationError::OutOfRange {
            field: "max_clock_skew",
            ..
        })
    ));
    assert!(matches!(
        skew(StdDuration::MAX).validate(),
        Err(ValidationError::OutOfRange {
            field: "max_clock_skew",
            ..
        })
    ));
    assert!(skew(StdDuration::from_secs(5)).validate().is_ok());
    let endless = DispatchOptions::default().with_guarantee(Guarantee::AtLeastOnce { lease_secs: u64::MAX });
    assert!(endless.validate().is_ok());
}

/// Under at-least-once, a sweep that recorded a crashed notice as outcome unknown and then
/// stopped (a crash, a store error) before its item occurrences: the next tick records them
/// with it, unreported (each was reported again, as a message of its own).
#[tokio::test]
async fn under_at_least_once_a_notice_recorded_before_its_occurrences_is_not_reported_again() {
    let (policy, memory, mailer) = crashed_grouped_notice().await;
    let notice = mailer.sent()[0].key.clone();
    pay_every_invoice(&memory);
    // What the sweep had done before it stopped: the notice recorded, dated its claim.
    let Some(Delivery::Claimed { at, attempt }) = memory.delivery(&notice).await.unwrap() else {
        panic!("the notice is claimed");
    };
    let entry = HistoryEntry {
        key: notice.clone(),
        rule: Some("overdue".parse().unwrap()),
        client: "acme".parse().unwrap(),
        items: Vec::new(),
        sent_at: at,
        outcome: HistoryOutcome::OutcomeUnknown,
    };
    let unknown = Delivery::Unknown {
        at: utc(2026, 4, 2, 11, 0),
        attempt,
        error: "claimed and never recorded (a crash)".into(),
    };
    memory.finish(&notice, unknown, Some(entry), None).await.unwrap();
    let dispatcher = restarted(&memory, &mailer, &policy);
    let next = dispatcher.tick(utc(2026, 4, 2, 12, 0)).await.unwrap();
    assert!(next.unknown_keys().is_empty(), "reported again: {next:#?}");
    for item in ["overdue/A-1/1", "overdue/A-2/1"] {
        assert!(
            matches!(
                memory.delivery(&item.into()).await.unwrap(),
                Some(Delivery::Unknown { .. })
            ),
            "{item}"
        );
    }
}

/// Under at-least-once, a reminder goes and the process dies before recording it; after the
/// lease it is due again and taken again, and then the invoice's payment lands before it
/// goes. It is not sent, and the claim the crash left is recorded as outcome unknown, dated
/// when it was taken, and reported (it was let go of as "no longer due", and the message
/// that may have gone was in no history and no report).
#[tokio::test]
async fn under_at_least_once_a_crash_left_claim_taken_again_then_paid_is_reported_unknown() {
    let (policy, memory, mailer) = crashed_f1().await;
    let key: EventKey = "overdue/F-1/1".into();
    let Some(Delivery::Claimed { at: crashed_at, .. }) = memory.delivery(&key).await.unwrap() else {
        panic!("left claimed");
    };
    let paying = Dispatcher::new(
        Hooked::new(memory.clone(), PayOnClaim { full: true }),
        mailer.clone(),
        &policy,
    )
    .unwrap()
    .with_options(at_least_once())
    .unwrap();
    let next = paying.tick(utc(2026, 4, 2, 12, 0)).await.unwrap();
    assert_eq!(next.unknown_keys(), std::slice::from_ref(&key), "{next:#?}");
    assert_eq!(mailer.sent().len(), 1, "not sent again");
    assert!(matches!(
        memory.delivery(&key).await.unwrap(),
        Some(Delivery::Unknown { .. })
    ));
    let history = memory.snapshot().history;
    assert!(
        history
            .iter()
            .any(|h| h.key == key && h.outcome == HistoryOutcome::OutcomeUnknown && h.sent_at == crashed_at),
        "{history:#?}"
    );
}

/// Two sweeping dispatchers, A and B, in step: A records a crashed grouped notice about acme
/// only once B has loaded, and its item occurrences (at their `gated_read`th read of the
/// key: the one just before the record) only once B's tick is over; B's load answers only
/// once A has recorded the notice.
#[derive(Default)]
struct InStep {
    b_loaded: tokio::sync::Notify,
    notice_done: tokio::sync::Notify,
    b_done: tokio::sync::Notify,
}

struct SweepA {
    step: Arc<InStep>,
    gated_read: usize,
    reads: std::sync::Mutex<BTreeMap<String, usize>>,
}

#[async_trait]
impl Hooks for SweepA {
    async fn finish(
        &self,
        inner: &MemoryStore,
        key: &EventKey,
        outcome: Delivery,
        sent: Option<HistoryEntry>,
        log: Option<LogEntry>,
    ) -> Result<(), StoreError> {
        let notice = key.as_str().starts_with("overdue/acme/");
        if notice {
            self.step.b_loaded.notified().await;
        }
        let r = inner.finish(key, outcome, sent, log).await;
        if notice {
            self.step.notice_done.notify_one();
        }
        r
    }
    async fn delivery(&self, inner: &MemoryStore, key: &EventKey) -> Result<Option<Delivery>, StoreError> {
        if key.as_str().starts_with("overdue/x-") {
            let n = {
                let mut reads = self.reads.lock().unwrap();
                let n = reads.entry(key.to_string()).or_default();
                *n += 1;
                *n
            };
            if n == self.gated_read {
                self.step.b_done.notified().await;
                // (Both occurrences wait for B: the second is let through too.)
                self.step.b_done.notify_one();
            }
        }
        inner.delivery(key).await
    }
}

struct SweepB {
    step: Arc<InStep>,
    once: std::sync::atomic::AtomicBool,
    /// Its reads of a client (the history read again before reporting an item occurrence
    /// alone) fail.
    reread_fails: bool,
}

#[async_trait]
impl Hooks for SweepB {
    async fn load(&self, inner: &MemoryStore) -> Result<Snapshot, StoreError> {
        let s = inner.load().await;
        if !self.once.swap(true, std::sync::atomic::Ordering::SeqCst) {
            self.step.b_loaded.notify_one();
            self.step.notice_done.notified().await;
        }
        s
    }
    async fn load_client(&self, inner: &MemoryStore, client: &ClientId) -> Result<Snapshot, StoreError> {
        if self.reread_fails {
            return Err(StoreError::Unavailable {
                context: "reading a client".into(),
                message: "connection reset".into(),
            });
        }
        inner.load_client(client).await
    }
}

/// Ticks A and B in step ([`InStep`]) at `now`; the keys both reported unknown, and the
/// keys the history holds as outcome unknown.
async fn sweep_in_step(
    memory: &Arc<MemoryStore>,
    mailer: &Arc<RecordingMailer>,
    policy: &Policy,
    options: DispatchOptions,
    now: DateTime<Utc>,
    reread_fails: bool,
) -> (Vec<String>, Vec<String>) {
    let step = Arc::new(InStep::default());
    let gated_read = if matches!(options.guarantee, Guarantee::AtMostOnce) {
        1
    } else {
        2
    };
    let a = SweepA {
        step: step.clone(),
        gated_read,
        reads: Default::default(),
    };
    let a = Dispatcher::new(Hooked::new(memory.clone(), a), mailer.clone(), policy)
        .unwrap()
        .with_options(options.clone())
        .unwrap();
    let b = SweepB {
        step: step.clone(),
        once: false.into(),
        reread_fails,
    };
    let b = Dispatcher::new(Hooked::new(memory.clone(), b), mailer.clone(), policy)
        .unwrap()
        .with_options(options)
        .unwrap();
    let a_tick = tokio::spawn(async move { a.tick(now).await.unwrap() });
    let rb = tokio::time::timeout(StdDuration::from_secs(10), b.tick(now))
        .await
        .expect("B hung")
        .unwrap();
    step.b_done.notify_one();
    let ra = tokio::time::timeout(StdDuration::from_secs(10), a_tick)
        .await
        .expect("A hung")
        .unwrap();
    let reported = ra
        .unknown()
        .chain(rb.unknown())
        .map(|s| s.key.to_string())
        .collect();
    (reported, recorded_unknown(memory))
}

/// The keys the history holds as outcome unknown.
fn recorded_unknown(memory: &MemoryStore) -> Vec<String> {
    memory
        .snapshot()
        .history
        .iter()
        .filter(|h| h.outcome == HistoryOutcome::OutcomeUnknown)
        .map(|h| h.key.to_string())
        .collect()
}

/// Nothing more sent, the crashed notice reported once (its occurrences with it), and the
/// notice and its two occurrences recorded as outcome unknown.
fn one_report_of_the_notice(mailer: &RecordingMailer, reported: &[String], recorded: &[String]) {
    assert_eq!(mailer.sent().len(), 1, "nothing more sent");
    assert_eq!(
        reported.len(),
        1,
        "reported: {reported:?}; recorded unknown: {recorded:?}"
    );
    assert!(reported[0].starts_with("overdue/acme/"), "{reported:?}");
    assert_eq!(
        recorded.len(),
        3,
        "the notice and its occurrences recorded: {recorded:?}"
    );
}

/// acme's grouped notice about x-1 and x-2, sent and never recorded (at-most-once): the
/// process died after the send.
async fn crashed_grouped_x() -> (Policy, Arc<MemoryStore>, Arc<RecordingMailer>) {
    let (policy, items) = grouped_x();
    let memory = Arc::new(MemoryStore::new(vec![client("acme", "UTC")], items));
    let mailer = Arc::new(RecordingMailer::new());
    let crashing = Dispatcher::new(
        Hooked::new(memory.clone(), DiesAfterEverySend),
        mailer.clone(),
        &policy,
    )
    .unwrap();
    crashing.tick(utc(2026, 4, 1, 12, 0)).await.unwrap();
    assert_eq!(mailer.sent().len(), 1, "one grouped notice went");
    (policy, memory, mailer)
}

/// acme's x-1 and x-2 due 2026-04-01 under a grouped overdue rule (the notice's key sorts
/// before its occurrences').
fn grouped_x() -> (Policy, Vec<Item>) {
    let policy = Policy::new(tz("UTC")).with_rule(rule("overdue", Anchor::Due, 0).grouped());
    let items = vec![
        invoice("x-1", "acme", d(2026, 3, 1), d(2026, 4, 1), money("10", "USD")),
        invoice("x-2", "acme", d(2026, 3, 1), d(2026, 4, 1), money("20", "USD")),
    ];
    (policy, items)
}

/// A grouped notice is sent and its process dies before recording it (at-most-once). Two
/// dispatchers sweep at once: A records the notice and reports it after B has loaded; B
/// reads the abandoned claims after that record, finds the notice's two item occurrences
/// alone, and records them. It reports nothing: the occurrences go with the notice, one
/// report in all. (Failed before: B, whose loaded history did not hold the notice, reported
/// each occurrence as a message of its own: three reports of one message.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_at_most_once_sweeps_report_a_crashed_grouped_notice_once() {
    let (policy, memory, mailer) = crashed_grouped_x().await;
    let (reported, recorded) = sweep_in_step(
        &memory,
        &mailer,
        &policy,
        DispatchOptions::default(),
        utc(2026, 4, 1, 13, 0),
        false,
    )
    .await;
    one_report_of_the_notice(&mailer, &reported, &recorded);
}

/// The same under at-least-once, the invoices paid before the lease ran out: A records the
/// notice the crash left after B has loaded, B finds its occurrences alone after that and
/// records them, unreported: one report in all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_at_least_once_sweeps_report_a_crashed_grouped_notice_once() {
    let (policy, items) = grouped_x();
    let (memory, mailer) = crashed_on_april_1st(&policy, items).await;
    pay_every_invoice(&memory);
    let (reported, recorded) = sweep_in_step(
        &memory,
        &mailer,
        &policy,
        at_least_once(),
        utc(2026, 4, 2, 12, 0),
        false,
    )
    .await;
    one_report_of_the_notice(&mailer, &reported, &recorded);
}

/// The two sweeps above, B's read of the clients' history again failing: B leaves the
/// occurrences it found alone claimed (recorded and reported with their notice later)
/// instead of reporting them as messages of their own. (Failed before: three reports.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_sweeps_report_a_crashed_notice_once_when_reading_the_history_again_fails() {
    let (policy, memory, mailer) = crashed_grouped_x().await;
    let now = utc(2026, 4, 1, 13, 0);
    let (mut reported, _) =
        sweep_in_step(&memory, &mailer, &policy, DispatchOptions::default(), now, true).await;
    // The next tick's sweep records what B left, with the notice: nothing more reported.
    let next = Dispatcher::new(memory.clone(), mailer.clone(), &policy)
        .unwrap()
        .tick(now + Duration::hours(1))
        .await
        .unwrap();
    reported.extend(next.unknown().map(|s| s.key.to_string()));
    one_report_of_the_notice(&mailer, &reported, &recorded_unknown(&memory));
}

/// A store whose load fails once: the tick's second (its load again after its sweep).
struct SecondLoadFails {
    loads: std::sync::atomic::AtomicUsize,
}

#[async_trait]
impl Hooks for SecondLoadFails {
    async fn load(&self, inner: &MemoryStore) -> Result<Snapshot, StoreError> {
        if self.loads.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 1 {
            return Err(StoreError::Unavailable {
                context: "reading a shard".into(),
                message: "connection reset".into(),
            });
        }
        inner.load().await
    }
}

/// A crash-left grouped notice swept (recorded unknown) by a tick whose load after the
/// sweep then fails: the tick fails, and the next one reports the notice, once. (Failed
/// before: the sweep's report went with the failed tick, and no later tick had anything left
/// to report: reported zero times.)
#[tokio::test]
async fn a_swept_claim_is_reported_once_when_the_load_after_the_sweep_fails() {
    let (policy, memory, mailer) = crashed_grouped_x().await;
    let sweeper = Dispatcher::new(
        Hooked::new(memory.clone(), SecondLoadFails { loads: 0.into() }),
        mailer.clone(),
        &policy,
    )
    .unwrap();
    let mut reported = Vec::new();
    let mut failed = 0;
    for h in [13, 14, 15] {
        match sweeper.tick(utc(2026, 4, 1, h, 0)).await {
            Ok(r) => reported.extend(r.unknown().map(|s| s.key.to_string())),
            Err(_) => failed += 1,
        }
    }
    assert_eq!(failed, 1, "the tick whose load after its sweep failed");
    assert_eq!(reported.len(), 1, "reported: {reported:?}");
    assert!(reported[0].starts_with("overdue/acme/"), "{reported:?}");
}

/// Fails the first re-read before a send and the record of that (nothing goes; the claim is
/// let go of), and records the key as outcome unknown, as another dispatcher taking it for
/// abandoned would, in the instant between the letting go's read and its record.
struct RecordedUnknownWhileLettingGo {
    reread: std::sync::atomic::AtomicBool,
    skips: std::sync::atomic::AtomicUsize,
}

#[async_trait]
impl Hooks for RecordedUnknownWhileLettingGo {
    async fn load_client(&self, inner: &MemoryStore, client: &ClientId) -> Result<Snapshot, StoreError> {
        if self.reread.swap(false, std::sync::atomic::Ordering::SeqCst) {
            return Err(StoreError::Backend("re-read down".into()));
        }
        inner.load_client(client).await
    }
    async fn finish(
        &self,
        inner: &MemoryStore,
        key: &EventKey,
        outcome: Delivery,
        sent: Option<HistoryEntry>,
        log: Option<LogEntry>,
    ) -> Result<(), StoreError> {
        let skip = matches!(outcome, Delivery::Skipped { .. });
        let n = if skip {
            self.skips.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
        } else {
            usize::MAX
        };
        if n == 0 {
            return Err(StoreError::Backend("record down".into()));
        }
        if n == 1 {
            let Some(Delivery::Claimed { at, attempt }) = inner.delivery(key).await? else {
                panic!("letting go of a claim that is not one");
            };
            let entry = HistoryEntry {
                outcome: HistoryOutcome::OutcomeUnknown,
                ..HistoryEntry::manual(ClientId::new("acme").unwrap(), ItemId::new("F-1").unwrap(), at)
            };
            let unknown = Delivery::Unknown {
                at,
                attempt,
                error: "claimed and never recorded (a crash)".into(),
            };
            inner
                .finish(
                    key,
                    unknown,
                    Some(HistoryEntry {
                        key: key.clone(),
                        ..entry
                    }),
                    None,
                )
                .await?;
            return Err(StoreError::NoLongerClaimed { key: key.to_string() });
        }
        inner.finish(key, outcome, sent, log).await
    }
}

/// A claim let go of (nothing went: the re-read before the send failed) that another
/// dispatcher records as outcome unknown between the letting go's read and its record: it
/// is read again and released (nothing went), and the next tick sends it, once. (Failed
/// before: the refused record was taken for done, and the key stayed unknown, never sent.)
#[tokio::test]
async fn a_claim_recorded_unknown_by_another_while_let_go_of_is_released() {
    let policy = seed001_policy("UTC");
    let item = invoice("F-1", "acme", d(2026, 2, 1), d(2026, 3, 2), money("1000", "CLP"));
    let memory = Arc::new(MemoryStore::new(vec![client("acme", "UTC")], vec![item]));
    let mailer = Arc::new(RecordingMailer::new());
    let hooks = RecordedUnknownWhileLettingGo {
        reread: true.into(),
        skips: 0.into(),
    };
    let dispatcher = Dispatcher::new(Hooked::new(memory.clone(), hooks), mailer.clone(), &policy).unwrap();
    let first = dispatcher.tick(utc(2026, 3, 2, 10, 0)).await.unwrap();
    assert_eq!(first.interrupted().count(), 1, "{first:#?}");
    assert!(mailer.sent().is_empty());
    let next = dispatcher.tick(utc(2026, 3, 2, 11, 0)).await.unwrap();
    assert_eq!(next.sent().count(), 1, "{next:#?}");
    assert_eq!(mailer.sent().len(), 1);
}

/// A claim let go of whose record was answered with an error (kept to let go of again),
/// then taken by another dispatcher with the same attempt number (a skipped key starts
/// again at 1), sent, its process dying before recording it, and recorded unknown by a third
/// dispatcher's sweep: the first, letting go of its own claim again at its next tick, does
/// not take that unknown record for its own and release it. The message went once. (Failed
/// before: the first released the key and sent it again.)
#[tokio::test]
async fn a_claim_let_go_does_not_release_another_claims_unknown_of_the_same_attempt() {
    let policy = seed001_policy("UTC");
    let item = invoice("F-1", "acme", d(2026, 2, 1), d(2026, 3, 2), money("1000", "CLP"));
    let memory = Arc::new(MemoryStore::new(vec![client("acme", "UTC")], vec![item]));
    let mailer = Arc::new(RecordingMailer::new());
    let first = Dispatcher::new(
        Hooked::new(
            memory.clone(),
            LetGoAnswerLost {
                reread: true.into(),
                skips: 0.into(),
            },
        ),
        mailer.clone(),
        &policy,
    )
    .unwrap();
    let report = first.tick(utc(2026, 3, 2, 10, 0)).await.unwrap();
    assert_eq!(report.interrupted().count(), 1, "{report:#?}");
    assert!(mailer.sent().is_empty());
    let key: EventKey = "overdue/F-1/1".into();
    let dying = Dispatcher::new(
        Hooked::new(memory.clone(), DiesAfterEverySend),
        mailer.clone(),
        &policy,
    )
    .unwrap();
    dying.tick(utc(2026, 3, 2, 10, 5)).await.unwrap();
    assert_eq!(mailer.sent().len(), 1, "the second dispatcher's send went");
    let again = memory.delivery(&key).await.unwrap();
    assert!(
        matches!(again, Some(Delivery::Claimed { attempt: 1, .. })),
        "taken again as attempt 1: {again:?}"
    );
    let sweeper = Dispatcher::new(memory.clone(), mailer.clone(), &policy).unwrap();
    let swept = sweeper.tick(utc(2026, 3, 2, 11, 0)).await.unwrap();
    assert_eq!(swept.unknown_keys(), std::slice::from_ref(&key), "{swept:#?}");
    first.tick(utc(2026, 3, 2, 11, 30)).await.unwrap();
    first.tick(utc(2026, 3, 2, 12, 0)).await.unwrap();
    assert_eq!(mailer.sent().len(), 1, "sent once");
    assert!(matches!(
        memory.delivery(&key).await.unwrap(),
        Some(Delivery::Unknown { .. })
    ));
}
