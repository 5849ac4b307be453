//! Attacks on the promises of the README and the crate docs, written apart from the code by
//! an adversarial review (missed sends, lasting stops, failed deliveries, the run loop,
//! tracing, races, crashes, limits, hostile text). Each test is named after what it shows;
//! each failed on the code the review found and passes now.
#![allow(
    clippy::too_many_lines,
    clippy::type_complexity,
    clippy::field_reassign_with_default,
    clippy::cloned_ref_to_slice_refs
)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration as StdDuration;

use async_trait::async_trait;
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone as _, Utc};
use common::hooked::{Hooked, Hooks};
use common::{d, money, t, tz, utc};
use dunning::*;

// ---------------------------------------------------------------------------------------
// helpers

fn cl(id: &str, zone: &str) -> Client {
    common::client(id, zone)
}

fn inv(id: &str, client: &str, issued: NaiveDate, due: NaiveDate, amount: &str) -> Item {
    common::invoice(id, client, issued, due, money(amount, "CLP"))
}

fn overdue_policy(zone: &str) -> Policy {
    Policy::new(tz(zone)).with_rule(Rule::new("overdue".parse().unwrap(), Anchor::Due, 0))
}

fn grouped_policy(zone: &str) -> Policy {
    Policy::new(tz(zone)).with_rule(Rule::new("overdue".parse().unwrap(), Anchor::Due, 0).grouped())
}

/// Runs `f` on a thread and fails the test if it does not finish within `secs`.
fn within<T: Send + 'static>(secs: u64, what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(StdDuration::from_secs(secs)) {
        Ok(v) => v,
        Err(_) => panic!("{what}: did not finish within {secs} s (hang or super-linear time)"),
    }
}

fn dispatcher(
    store: Arc<dyn Store>,
    mailer: Arc<dyn Mailer>,
    policy: &Policy,
    now: DateTime<Utc>,
) -> (Dispatcher, ManualClock) {
    let clock = ManualClock::new(now);
    let d = Dispatcher::new(store, mailer, policy)
        .unwrap()
        .with_clock(Arc::new(clock.clone()));
    (d, clock)
}

// ---------------------------------------------------------------------------------------
// Failed deliveries, release and resend (issue 15 item 3)

/// README: "Once the cause is fixed, `Dispatcher::release(key)` allows one more try". A
/// grouped notice also claims its member keys; a permanent failure records them as failed
/// too, and `release` only releases the notice's own key: the member claims stay refused,
/// so the released notice is skipped (`Skip::Claimed`) at every tick and never goes.
#[tokio::test]
async fn releasing_a_failed_grouped_notice_lets_it_go_again() {
    let policy = grouped_policy("UTC");
    let store = Arc::new(MemoryStore::new(
        vec![cl("acme", "UTC")],
        vec![
            inv("F-1", "acme", d(2026, 3, 1), d(2026, 4, 1), "1000"),
            inv("F-2", "acme", d(2026, 3, 1), d(2026, 4, 1), "2000"),
        ],
    ));
    // A bounced address: the first call fails for good, the ones after (address fixed) go.
    let mailer = Arc::new(RecordingMailer::new().with_script(|_, n| {
        if n == 0 {
            Behaviour::FailPermanent
        } else {
            Behaviour::Accept
        }
    }));
    let now = utc(2026, 4, 1, 10, 0);
    let (disp, clock) = dispatcher(store.clone(), mailer.clone(), &policy, now);
    let r = disp.tick_now().await.unwrap();
    let failed: Vec<_> = r.failed().map(|s| s.key.clone()).collect();
    assert_eq!(failed.len(), 1, "{r:?}");
    assert!(disp.release(&failed[0]).await.unwrap());
    let mut sent = false;
    let mut outcomes = Vec::new();
    for _ in 0..3 {
        clock.advance(Duration::hours(1));
        let r = disp.tick_now().await.unwrap();
        outcomes.push(r.sends.iter().map(|s| s.outcome.to_string()).collect::<Vec<_>>());
        sent |= r.sent().count() > 0;
    }
    assert!(
        sent,
        "the released grouped notice never went; outcomes: {outcomes:?}; deliveries: {:?}",
        store.deliveries()
    );
    assert_eq!(mailer.sent().len(), 1);
}

/// Same for an outcome-unknown grouped notice that the host found had not gone.
#[tokio::test]
async fn releasing_an_unknown_grouped_notice_lets_it_go_again() {
    let policy = grouped_policy("UTC");
    let store = Arc::new(MemoryStore::new(
        vec![cl("acme", "UTC")],
        vec![
            inv("F-1", "acme", d(2026, 3, 1), d(2026, 4, 1), "1000"),
            inv("F-2", "acme", d(2026, 3, 1), d(2026, 4, 1), "2000"),
        ],
    ));
    let calls = Arc::new(AtomicUsize::new(0));
    let c2 = calls.clone();
    // The first send hangs (times out: outcome unknown); later ones go.
    let mailer = Arc::new(RecordingMailer::new().with_script(move |_, n| {
        c2.fetch_add(1, Ordering::SeqCst);
        if n == 0 {
            Behaviour::Hang
        } else {
            Behaviour::Accept
        }
    }));
    let now = utc(2026, 4, 1, 10, 0);
    let (disp, clock) = dispatcher(store.clone(), mailer.clone(), &policy, now);
    let disp = Arc::new(
        disp.with_options(DispatchOptions::default().with_send_timeout(StdDuration::from_secs(5)))
            .unwrap(),
    );
    let d2 = disp.clone();
    let tick = tokio::spawn(async move { d2.tick_now().await });
    while calls.load(Ordering::SeqCst) == 0 {
        tokio::task::yield_now().await;
    }
    clock.advance(Duration::seconds(6));
    let r = tick.await.unwrap().unwrap();
    let unknown: Vec<_> = r.unknown().map(|s| s.key.clone()).collect();
    assert_eq!(unknown.len(), 1, "{r:?}");
    assert!(disp.release(&unknown[0]).await.unwrap());
    let mut sent = false;
    let mut outcomes = Vec::new();
    for _ in 0..3 {
        clock.advance(Duration::hours(1));
        let r = disp.tick_now().await.unwrap();
        outcomes.push(r.sends.iter().map(|s| s.outcome.to_string()).collect::<Vec<_>>());
        sent |= r.sent().count() > 0;
    }
    assert!(
        sent,
        "the released grouped notice never went; outcomes: {outcomes:?}"
    );
}

/// README: a permanent failure is recorded once and "the plan then explains the key
/// (`SuppressReason::DeliveryFailed`) instead of forecasting it"; lasting stops are
/// "explained in every plan ... however long ago". A bounced "due today" notice is
/// explained for a week, then the plan says nothing at all about the item's reminder.
#[test]
fn a_failed_delivery_is_still_explained_after_the_lookback() {
    let policy = overdue_policy("UTC");
    let planner = Planner::new(&policy).unwrap();
    let clients = [cl("acme", "UTC")];
    let items = [inv("F-1", "acme", d(2026, 3, 1), d(2026, 4, 1), "1000")];
    let first = planner
        .plan(&clients, &items, &[], utc(2026, 4, 1, 10, 0), Horizon::NONE)
        .unwrap();
    let e = &first.due()[0];
    let history = [e
        .to_history(utc(2026, 4, 1, 10, 0))
        .with_outcome(HistoryOutcome::Failed {
            error: "550 no such user".into(),
        })];
    for day in [2, 8, 9, 20] {
        let plan = planner
            .plan(
                &clients,
                &items,
                &history,
                utc(2026, 4, day, 10, 0),
                Horizon::days(30),
            )
            .unwrap();
        assert!(
            plan.events().all(|x| x.key != e.key),
            "day {day}: failed key planned again"
        );
        let explained = plan
            .suppressed()
            .iter()
            .any(|s| s.key == e.key && matches!(s.reason, SuppressReason::DeliveryFailed { .. }));
        assert!(
            explained,
            "day {day}: the bounced reminder of F-1 is neither planned nor explained: {:?}",
            common::lines(&plan)
        );
    }
}

// ---------------------------------------------------------------------------------------
// Crashes and races

/// A store that "crashes" once: the outcome of the first `finish` of a key that went out is
/// lost (the process died after the mailer accepted it).
struct LoseFirstSent {
    lost: AtomicUsize,
}

#[async_trait]
impl Hooks for LoseFirstSent {
    async fn finish(
        &self,
        inner: &MemoryStore,
        key: &EventKey,
        outcome: Delivery,
        sent: Option<HistoryEntry>,
        log: Option<LogEntry>,
    ) -> Result<(), StoreError> {
        if matches!(outcome, Delivery::Sent { .. }) && self.lost.fetch_add(1, Ordering::SeqCst) == 0 {
            return Err(StoreError::Backend("process killed".into()));
        }
        inner.finish(key, outcome, sent, log).await
    }
}

/// README: "a send that may have gone (a timeout, a crash before recording) is never
/// retried under at-most-once ... recorded as outcome unknown, reported once". A crash
/// after a grouped notice went leaves its claims; once one of its items is paid, the notice
/// of the other item has another key, nobody ever reports the old claim as unknown, and
/// the other item's reminder is skipped as `Claimed` at every tick, forever: neither sent,
/// nor reported unknown, nor explained.
#[tokio::test]
async fn a_crashed_grouped_notice_whose_items_change_is_not_stuck_forever() {
    let policy = grouped_policy("UTC");
    let inner = Arc::new(MemoryStore::new(
        vec![cl("acme", "UTC")],
        vec![
            inv("F-1", "acme", d(2026, 3, 1), d(2026, 4, 1), "1000"),
            inv("F-2", "acme", d(2026, 3, 1), d(2026, 4, 1), "2000"),
        ],
    ));
    let store = Hooked::new(
        inner.clone(),
        LoseFirstSent {
            lost: AtomicUsize::new(0),
        },
    );
    let mailer = Arc::new(RecordingMailer::new());
    let (disp, clock) = dispatcher(store.clone(), mailer.clone(), &policy, utc(2026, 4, 1, 10, 0));
    assert!(
        disp.tick_now().await.unwrap().interrupted().count() == 1,
        "the crash"
    );
    assert_eq!(mailer.sent().len(), 1);
    // F-2 is paid the same day.
    inner.update_items(|items| {
        for i in items.iter_mut().filter(|i| i.id.as_str() == "F-2") {
            *i = i.clone().paid(money("2000", "CLP"), d(2026, 4, 1));
        }
    });
    let planner = Planner::new(&policy).unwrap();
    let mut seen = Vec::new();
    for day in 2..=6 {
        clock.set(utc(2026, 4, day, 10, 0));
        let r = disp.tick_now().await.unwrap();
        seen.push(format!(
            "{:?}",
            r.sends
                .iter()
                .map(|s| (s.key.to_string(), s.outcome.to_string()))
                .collect::<Vec<_>>()
        ));
        let snap = inner.snapshot();
        let plan = planner
            .plan(
                &snap.clients,
                &snap.items,
                &snap.history,
                utc(2026, 4, day, 10, 0),
                Horizon::NONE,
            )
            .unwrap();
        let settled = r.unknown().count() > 0
            || r.sent().count() > 0
            || plan.suppressed().iter().any(|s| {
                s.item.as_ref().is_some_and(|i| i.as_str() == "F-1")
                    && matches!(s.reason, SuppressReason::OutcomeUnknown { .. })
            });
        if settled {
            return;
        }
    }
    panic!(
        "F-1's reminder is stuck: skipped as claimed at every tick, never reported unknown \
         nor explained: {seen:#?}; deliveries {:#?}",
        inner.deliveries()
    );
}

/// The same for an ungrouped reminder whose stage moves on after the crash: the claim of
/// "due soon" (which went, unrecorded) is never reported as outcome unknown once the plan
/// moves to "due today": the host is never told that a message may have gone.
#[tokio::test]
async fn a_crash_left_claim_is_reported_unknown_even_when_its_stage_has_passed() {
    let policy = Policy::new(TimeZone::UTC)
        .with_rule(Rule::new("due-soon".parse().unwrap(), Anchor::Due, -1))
        .with_rule(Rule::new("overdue".parse().unwrap(), Anchor::Due, 0));
    let inner = Arc::new(MemoryStore::new(
        vec![cl("acme", "UTC")],
        vec![inv("F-1", "acme", d(2026, 3, 1), d(2026, 4, 2), "1000")],
    ));
    let store = Hooked::new(
        inner.clone(),
        LoseFirstSent {
            lost: AtomicUsize::new(0),
        },
    );
    let mailer = Arc::new(RecordingMailer::new());
    let (disp, clock) = dispatcher(store.clone(), mailer.clone(), &policy, utc(2026, 4, 1, 10, 0));
    assert!(
        disp.tick_now().await.unwrap().interrupted().count() == 1,
        "the crash"
    );
    let mut unknown = 0;
    for day in 2..=4 {
        clock.set(utc(2026, 4, day, 10, 0));
        let r = disp.tick_now().await.unwrap();
        unknown += r.unknown().count();
    }
    let claimed: Vec<_> = inner
        .deliveries()
        .into_iter()
        .filter(|(_, d)| matches!(d, Delivery::Claimed { .. }))
        .collect();
    assert!(
        unknown > 0 || claimed.is_empty(),
        "the due-soon message went and was never recorded; no tick reported it: {claimed:?}"
    );
}

// ---------------------------------------------------------------------------------------
// Missed sends go at the next tick (issue 15 item 1), day by day

const ZONES: [&str; 10] = [
    "Pacific/Kiritimati",
    "Pacific/Pago_Pago",
    "America/Santiago",
    "Australia/Lord_Howe",
    "America/New_York",
    "Europe/Madrid",
    "America/Nuuk",
    "Asia/Kolkata",
    "Pacific/Chatham",
    "America/St_Johns",
];

#[derive(Clone, Copy, Debug)]
enum Which {
    Issued,
    DueSoon,
    Overdue,
}

/// One rule, one invoice due each day of `from..to`, ticks every `step` from `first_tick`:
/// each event must go at the first tick on a working day (client's zone) at or after its
/// send instant; a "due soon" whose first such tick is on or after the due date never goes.
fn simulate_one(
    zone: &str,
    send_time: NaiveTime,
    which: Which,
    from: NaiveDate,
    to: NaiveDate,
    first_tick: DateTime<Utc>,
    step: Duration,
) -> Vec<String> {
    let z = tz(zone);
    let calendar = BusinessCalendar::new(
        [chrono::Weekday::Sat, chrono::Weekday::Sun],
        [d(2026, 4, 3), d(2026, 9, 18), d(2026, 11, 2)],
    );
    let rule = match which {
        Which::Issued => Rule::new("issued".parse().unwrap(), Anchor::Issued, 0),
        Which::DueSoon => Rule::new("due-soon".parse().unwrap(), Anchor::Due, -2),
        Which::Overdue => Rule::new("overdue".parse().unwrap(), Anchor::Due, 0),
    };
    let policy = Policy::new(TimeZone::UTC)
        .with_calendar(calendar.clone())
        .with_send_time(send_time)
        .with_rule(rule);
    let planner = Planner::new(&policy).unwrap();
    let clients = [cl("c", zone)];
    let mut items = Vec::new();
    let mut day = from;
    while day <= to {
        let issued = match which {
            Which::Issued => day,
            _ => day - Duration::days(20),
        };
        let due = match which {
            Which::Issued => day + Duration::days(20),
            _ => day,
        };
        items.push(inv(&format!("I{}", day.format("%m%d")), "c", issued, due, "100"));
        day += Duration::days(1);
    }
    let mut history: Vec<HistoryEntry> = Vec::new();
    let mut sent_at: std::collections::HashMap<String, DateTime<Utc>> = std::collections::HashMap::new();
    let mut problems = Vec::new();
    let end = local_instant(z, to + Duration::days(8), t(0, 0));
    let mut now = first_tick;
    while now <= end {
        let plan = planner
            .plan(&clients, &items, &history, now, Horizon::days(2))
            .unwrap();
        for e in plan.due() {
            if e.send_at > now {
                problems.push(format!(
                    "{zone} {send_time} {which:?}: due event {} has send_at {} after now {now}",
                    e.key, e.send_at
                ));
            }
            if sent_at.insert(e.key.to_string(), now).is_some() {
                problems.push(format!(
                    "{zone} {send_time} {which:?}: {} sent twice (again at {now})",
                    e.key
                ));
            }
            history.push(e.to_history(now));
        }
        for e in plan.upcoming() {
            if e.send_at <= now {
                problems.push(format!(
                    "{zone} {send_time} {which:?}: upcoming event {} has send_at {} at or before now {now}",
                    e.key, e.send_at
                ));
            }
        }
        now += step;
    }
    // The expected tick of each item's event.
    for item in &items {
        let due = item.due_on.unwrap();
        let (nominal, dir) = match which {
            Which::Issued => (item.issued_on, Shift::Later),
            Which::DueSoon => (due - Duration::days(2), Shift::Earlier),
            Which::Overdue => (due, Shift::Later),
        };
        let scheduled = calendar.shift(nominal, dir).unwrap();
        let instant = local_instant(z, scheduled, send_time);
        let mut tick = first_tick;
        let expected = loop {
            if tick > end {
                break None;
            }
            if tick >= instant && calendar.is_working_day(z.local_date(tick)) {
                break Some(tick);
            }
            tick += step;
        };
        let expected = match (which, expected) {
            (Which::DueSoon, Some(t)) if z.local_date(t) >= due => None,
            (_, e) => e,
        };
        let key = format!(
            "{}/{}/1",
            match which {
                Which::Issued => "issued",
                Which::DueSoon => "due-soon",
                Which::Overdue => "overdue",
            },
            item.id
        );
        // Only events whose expected tick is well inside the simulated span are judged.
        if instant < first_tick + Duration::days(1) || instant > end - Duration::days(5) {
            continue;
        }
        let got = sent_at.get(&key).copied();
        if got != expected {
            problems.push(format!(
                "{zone} send {send_time} ticks from {first_tick} every {step}: {key} (scheduled {scheduled}, instant {instant}) expected at {expected:?}, sent at {got:?}"
            ));
        }
    }
    problems
}

fn simulate_many(
    which: Which,
    periods: &[(NaiveDate, NaiveDate)],
    send_times: &[NaiveTime],
    tick_times: &[(u32, u32)],
    step_hours: i64,
) -> Vec<String> {
    let mut problems = Vec::new();
    for zone in ZONES {
        for &send in send_times {
            for &(from, to) in periods {
                for &(h, m) in tick_times {
                    let first =
                        Utc.from_utc_datetime(&(from - Duration::days(3)).and_hms_opt(h, m, 0).unwrap());
                    problems.extend(simulate_one(
                        zone,
                        send,
                        which,
                        from,
                        to,
                        first,
                        Duration::hours(step_hours),
                    ));
                }
            }
        }
    }
    problems
}

/// Fails with the number of problems and the first ones.
fn assert_no_problems(problems: &[String]) {
    assert!(
        problems.is_empty(),
        "{} problems, first ones:\n{}",
        problems.len(),
        problems[..problems.len().min(40)].join("\n")
    );
}

fn dst_periods() -> Vec<(NaiveDate, NaiveDate)> {
    vec![(d(2026, 3, 5), d(2026, 4, 12)), (d(2026, 9, 1), d(2026, 11, 8))]
}

fn send_times() -> Vec<NaiveTime> {
    vec![t(0, 0), t(0, 30), t(2, 15), t(9, 0), t(23, 45)]
}

#[test]
fn daily_ticks_send_each_overdue_event_at_the_first_working_day_tick_at_or_after_its_instant() {
    let problems = within(600, "simulation", || {
        simulate_many(
            Which::Overdue,
            &dst_periods(),
            &send_times(),
            &[(0, 0), (5, 37), (13, 0), (23, 59)],
            24,
        )
    });
    assert_no_problems(&problems);
}

#[test]
fn daily_ticks_send_each_due_soon_event_at_the_first_working_day_tick_or_never_on_the_due_date() {
    let problems = within(600, "simulation", || {
        simulate_many(
            Which::DueSoon,
            &dst_periods(),
            &send_times(),
            &[(0, 0), (5, 37), (13, 0), (23, 59)],
            24,
        )
    });
    assert_no_problems(&problems);
}

#[test]
fn daily_ticks_send_each_issued_event_at_the_first_working_day_tick_at_or_after_its_instant() {
    let problems = within(600, "simulation", || {
        simulate_many(
            Which::Issued,
            &dst_periods(),
            &send_times(),
            &[(0, 0), (11, 0), (18, 20)],
            24,
        )
    });
    assert_no_problems(&problems);
}

#[test]
fn ticks_every_seven_hours_send_each_event_at_the_first_working_day_tick_at_or_after_its_instant() {
    let problems = within(600, "simulation", || {
        let mut p = simulate_many(
            Which::Overdue,
            &dst_periods(),
            &[t(0, 0), t(2, 15), t(23, 45)],
            &[(0, 0), (3, 10)],
            7,
        );
        p.extend(simulate_many(
            Which::DueSoon,
            &dst_periods(),
            &[t(0, 0), t(2, 15), t(23, 45)],
            &[(0, 0)],
            7,
        ));
        p
    });
    assert_no_problems(&problems);
}

/// Issue 15 item 1 for statements: a host ticks daily at 13:00 UTC; its client in New York
/// has the send time 09:00 (14:00 UTC in winter). Each day's tick finds yesterday's
/// statement missed, but today's occurrence (still to come at 14:00) supersedes it: the
/// statement never goes, day after day - the bug the issue reports, for statements.
#[test]
fn a_daily_statement_goes_when_the_host_ticks_before_the_send_time() {
    let policy = Policy::new(TimeZone::UTC).with_statement(StatementRule::new(
        "daily".parse().unwrap(),
        "FREQ=DAILY",
        d(2026, 1, 1),
    ));
    let planner = Planner::new(&policy).unwrap();
    let clients = [cl("ny", "America/New_York")];
    let items = [inv("F-1", "ny", d(2026, 1, 2), d(2026, 1, 10), "1000")];
    let mut history: Vec<HistoryEntry> = Vec::new();
    let mut log = Vec::new();
    for day in 5..=20 {
        let now = utc(2026, 1, day, 13, 0);
        let plan = planner
            .plan(&clients, &items, &history, now, Horizon::NONE)
            .unwrap();
        for e in plan.due() {
            history.push(e.to_history(now));
        }
        log.push(format!(
            "{now}: due {:?}; suppressed {:?}",
            plan.due().iter().map(|e| e.key.to_string()).collect::<Vec<_>>(),
            plan.suppressed()
                .iter()
                .map(|s| format!("{} {}", s.key, s.reason.kind()))
                .collect::<Vec<_>>()
        ));
    }
    assert!(
        history.len() >= 8,
        "{} daily statements went in 16 daily ticks:\n{}",
        history.len(),
        log.join("\n")
    );
}

/// The same with a weekly statement and a host that ticks once a week, on the statement's
/// day, before the client's send time.
#[test]
fn a_weekly_statement_goes_when_the_host_ticks_weekly_before_the_send_time() {
    let policy = Policy::new(TimeZone::UTC).with_statement(StatementRule::new(
        "weekly".parse().unwrap(),
        "FREQ=WEEKLY;BYDAY=MO",
        d(2026, 1, 1),
    ));
    let planner = Planner::new(&policy).unwrap();
    let clients = [cl("ny", "America/New_York")];
    let items = [inv("F-1", "ny", d(2026, 1, 2), d(2026, 1, 10), "1000")];
    let mut history: Vec<HistoryEntry> = Vec::new();
    // Mondays 2026-01-05 ... 2026-03-02, at 13:00 UTC (08:00 in New York).
    let mut now = utc(2026, 1, 5, 13, 0);
    for _ in 0..9 {
        let plan = planner
            .plan(&clients, &items, &history, now, Horizon::NONE)
            .unwrap();
        for e in plan.due() {
            history.push(e.to_history(now));
        }
        now += Duration::days(7);
    }
    assert!(
        history.len() >= 7,
        "{} weekly statements went in 9 weekly ticks",
        history.len()
    );
}

// ---------------------------------------------------------------------------------------
// Limits: the ends of the calendar and of every number

/// Runs `f` on its own thread: a panic or a run longer than `secs` is a problem (named).
fn probe(name: String, secs: u64, f: impl FnOnce() -> Result<(), String> + Send + 'static) -> Option<String> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
        let _ = tx.send(r);
    });
    match rx.recv_timeout(StdDuration::from_secs(secs)) {
        Ok(Ok(Ok(()))) => None,
        Ok(Ok(Err(e))) => Some(format!("{name}: {e}")),
        Ok(Err(p)) => Some(format!(
            "{name}: PANIC {}",
            p.downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default()
        )),
        Err(_) => Some(format!("{name}: HANG (> {secs} s)")),
    }
}

fn full_policy(zone: &str) -> Policy {
    let r = |id: &str, a, o| Rule::new(id.parse().unwrap(), a, o);
    Policy::new(tz(zone))
        .with_calendar(BusinessCalendar::new(
            [chrono::Weekday::Sun],
            [d(2026, 4, 3), NaiveDate::MAX, NaiveDate::MIN],
        ))
        .with_min_gap(1)
        .with_rule(r("issued", Anchor::Issued, 0).expires_after(7))
        .with_rule(r("due-soon", Anchor::Due, -5))
        .with_rule(r("due", Anchor::Due, 0))
        .with_rule(r("overdue", Anchor::Due, 7).repeat(7, 4))
        .with_rule(r("grouped", Anchor::Due, 2).grouped())
        .with_rule(Rule::pending_action("pending".parse().unwrap()))
        .with_rule(Rule::thank_you("thanks".parse().unwrap()))
        .with_statement(StatementRule::new(
            "monthly".parse().unwrap(),
            "FREQ=MONTHLY;BYMONTHDAY=1",
            d(2020, 1, 1),
        ))
        .with_standing(StandingRule::new(30, 60))
}

fn far_items(
    issued: NaiveDate,
    due: Option<NaiveDate>,
    pause: Option<(NaiveDate, Option<NaiveDate>)>,
) -> Vec<Item> {
    let mut a = Item::invoice(
        "A".parse().unwrap(),
        "c".parse().unwrap(),
        issued,
        money("1000", "CLP"),
    );
    a.due_on = due;
    if let Some((from, until)) = pause {
        let mut p = Pause::new(PauseKind::Promise, "x").starting(from);
        p.until = until;
        a = a.with_pause(p);
    }
    let b = Item::invoice(
        "B".parse().unwrap(),
        "c".parse().unwrap(),
        issued,
        money("5", "CLP"),
    )
    .paid(money("5", "CLP"), issued);
    let c = Item::action(
        "C".parse().unwrap(),
        "c".parse().unwrap(),
        ItemKind::Signature,
        issued,
    );
    vec![a, b, c]
}

#[test]
fn planning_at_the_ends_of_the_calendar_neither_panics_nor_hangs() {
    let ends = [
        NaiveDate::MIN,
        NaiveDate::MIN + Duration::days(1),
        NaiveDate::MIN + Duration::days(40),
        d(2026, 3, 1),
        NaiveDate::MAX - Duration::days(40),
        NaiveDate::MAX - Duration::days(1),
        NaiveDate::MAX,
    ];
    let nows = [
        DateTime::<Utc>::MIN_UTC,
        DateTime::<Utc>::MIN_UTC + Duration::days(3),
        utc(2026, 4, 1, 12, 0),
        DateTime::<Utc>::MAX_UTC - Duration::days(3),
        DateTime::<Utc>::MAX_UTC - Duration::seconds(1),
        DateTime::<Utc>::MAX_UTC,
    ];
    let mut problems = Vec::new();
    for zone in ["Pacific/Kiritimati", "Pacific/Pago_Pago", "America/Santiago"] {
        let shared = Arc::new((
            Planner::new(&full_policy(zone)).unwrap(),
            Messages::new(&full_policy(zone)).unwrap(),
        ));
        for &now in &nows {
            for &issued in &ends {
                for due in [None, Some(issued), Some(NaiveDate::MAX)] {
                    for pause in [
                        None,
                        Some((NaiveDate::MIN, None)),
                        Some((issued, Some(NaiveDate::MAX))),
                    ] {
                        if due.is_some_and(|x| x < issued) {
                            continue;
                        }
                        for horizon in [0, 1, 3660] {
                            let name = format!(
                                "{zone} now {now} issued {issued} due {due:?} pause {pause:?} horizon {horizon}"
                            );
                            let zone = zone.to_owned();
                            let shared = shared.clone();
                            problems.extend(probe(name, 20, move || {
                                let (planner, messages) = &*shared;
                                let clients = [cl("c", &zone)
                                    .with_overrides(ClientOverrides::default().send_time(t(23, 59)))];
                                let items = far_items(issued, due, pause);
                                let history = [HistoryEntry {
                                    key: "overdue/A/4294967295".into(),
                                    rule: Some("overdue".parse().unwrap()),
                                    client: "c".parse().unwrap(),
                                    items: vec![HistoryItem {
                                        item: "A".parse().unwrap(),
                                        occurrence: u32::MAX,
                                    }],
                                    sent_at: now,
                                    outcome: HistoryOutcome::Sent,
                                }];
                                match planner.plan(&clients, &items, &history, now, Horizon::days(horizon)) {
                                    Ok(plan) => {
                                        for e in plan.due() {
                                            if e.send_at > now {
                                                return Err(format!(
                                                    "due event {} at {} after now",
                                                    e.key, e.send_at
                                                ));
                                            }
                                        }
                                        for e in plan.upcoming() {
                                            if e.send_at <= now {
                                                return Err(format!(
                                                    "upcoming event {} at {} not after now",
                                                    e.key, e.send_at
                                                ));
                                            }
                                        }
                                        let sched = planner
                                            .schedule(&clients, &items, &history, now, Horizon::days(horizon))
                                            .map_err(|e| e.to_string())?;
                                        if sched.to_plan() != plan {
                                            return Err("schedule and plan differ".into());
                                        }
                                        let _ = serde_json::to_string(&plan).map_err(|e| e.to_string())?;
                                        for e in plan.events() {
                                            let opts = RenderOptions::default()
                                                .with_sent_on(e.time_zone.local_date(now));
                                            match messages.render(e, &clients[0], &opts) {
                                                Ok(_) | Err(MessageError::AmountTooLarge { .. }) => {}
                                                Err(err) => return Err(format!("render {}: {err}", e.key)),
                                            }
                                        }
                                        Ok(())
                                    }
                                    Err(
                                        ValidationError::OutOfRange { .. }
                                        | ValidationError::OverLimit { .. },
                                    ) => Ok(()),
                                    Err(e) => Err(format!("unexpected error {e}")),
                                }
                            }));
                        }
                    }
                }
            }
        }
    }
    assert_no_problems(&problems);
}

/// lib.rs Guarantees: "A step past the end of the calendar means 'never' and is explained."
/// An overdue reminder whose day is past the last date chrono holds is neither planned nor
/// explained: the plan is silent about the item.
#[test]
fn a_reminder_whose_day_is_past_the_end_of_the_calendar_is_explained() {
    let policy = Policy::new(TimeZone::UTC).with_rule(Rule::new("late".parse().unwrap(), Anchor::Due, 5));
    let planner = Planner::new(&policy).unwrap();
    let clients = [cl("c", "UTC")];
    let due = NaiveDate::MAX - Duration::days(2);
    let items = [inv("A", "c", due - Duration::days(10), due, "1000")];
    let now = DateTime::<Utc>::MAX_UTC - Duration::hours(1);
    let plan = planner.plan(&clients, &items, &[], now, Horizon::NONE).unwrap();
    assert!(plan.events().next().is_none());
    assert!(
        plan.suppressed()
            .iter()
            .any(|s| s.item.as_ref().is_some_and(|i| i.as_str() == "A")),
        "the reminder 5 days after {due} (past the calendar) is not explained: {:?}",
        common::lines(&plan)
    );
}

/// The same for a repeat whose spacing from the last send steps past the end of the calendar.
#[test]
fn a_repeat_whose_spacing_leaves_the_calendar_is_explained() {
    let policy = Policy::new(TimeZone::UTC)
        .with_rule(Rule::new("overdue".parse().unwrap(), Anchor::Due, 0).repeat(7, 4));
    let planner = Planner::new(&policy).unwrap();
    let clients = [cl("c", "UTC")];
    let due = NaiveDate::MAX - Duration::days(4);
    let items = [inv("A", "c", due - Duration::days(10), due, "1000")];
    let sent = Utc.from_utc_datetime(&due.and_hms_opt(9, 0, 0).unwrap());
    let history = [HistoryEntry {
        key: "overdue/A/1".into(),
        rule: Some("overdue".parse().unwrap()),
        client: "c".parse().unwrap(),
        items: vec![HistoryItem {
            item: "A".parse().unwrap(),
            occurrence: 1,
        }],
        sent_at: sent,
        outcome: HistoryOutcome::Sent,
    }];
    let now = DateTime::<Utc>::MAX_UTC - Duration::hours(1);
    let plan = planner
        .plan(&clients, &items, &history, now, Horizon::NONE)
        .unwrap();
    assert!(
        plan.suppressed()
            .iter()
            .any(|s| s.item.as_ref().is_some_and(|i| i.as_str() == "A")),
        "the second overdue reminder (7 days after {due}, past the calendar) is not explained: {:?}",
        common::lines(&plan)
    );
}

// ---------------------------------------------------------------------------------------
// Hostile text: compiled templates and handlebars must write the same bytes

const HOSTILE: &str = "Tom & \"Jerry\" <script>alert('x')</script> =`{{client.id}}` &amp; \u{202e}ñ\u{0}";

/// [`HOSTILE`] without its control characters, which names that reach headers may not hold.
const HOSTILE_NAME: &str = "Tom & \"Jerry\" <script>alert('x')</script> =`{{client.id}}` &amp; ñ";

fn hostile_policy(force_handlebars: bool) -> Policy {
    let tail = if force_handlebars {
        "{{#with company}}{{/with}}"
    } else {
        ""
    };
    let vars = "{{client.name}}|{{client.id}}|{{contact.name}}|{{contact.email}}|{{item.number}}|{{company.name}}|{{company.address}}|{{company.phone}}|{{company.website}}|{{branding.logo_url}}|{{branding.primary_color}}|{{payment_instructions}}|{{reply_to}}|{{payment_link}}|{{#each items}}{{number}};{{money balance}};{{date due_on}};{{days_past_due}}{{/each}}|{{money amount_due}}|{{key}}|{{rule}}|{{locale}}|{{kind}}|{{send_on}}";
    let html = format!(
        "<a href=\"{{{{payment_link}}}}\" title=\"{{{{client.name}}}}\">{vars}</a><img src=\"{{{{branding.logo_url}}}}\" style=\"color:{{{{branding.primary_color}}}}\">{tail}"
    );
    let mut p = overdue_policy("UTC");
    p.company = Company {
        name: HOSTILE_NAME.into(),
        address: HOSTILE.into(),
        phone: HOSTILE.into(),
        website: "javascript:alert(1)//\"><x>".into(),
        email: "billing@example.com".into(),
    };
    // (A logo link or colour with quotes or a style of its own is refused by the policy:
    // see `branding_that_would_carry_a_link_or_style_of_its_own_is_refused`.)
    p.branding.logo_url = "https://x.example/l.png?a=1&b=2".into();
    p.branding.primary_color = "rgb(1, 2, 3)".into();
    p.payment_instructions = format!("{HOSTILE}\r\nline 2");
    p.templates = vec![TemplateSpec {
        rule: None,
        kind: Some(TemplateKind::DueToday),
        locale: "en".into(),
        subject: format!("Invoice {{{{item.number}}}} {{{{client.name}}}}{tail}"),
        text: format!("{vars}{tail}"),
        html: Some(html),
    }];
    p.locale = "en".into();
    p
}

#[test]
fn compiled_templates_and_handlebars_write_the_same_bytes_for_hostile_values() {
    let client = Client::new("c".parse().unwrap(), HOSTILE_NAME)
        .with_locale("en")
        .with_contact(Contact::new(HOSTILE_NAME, "ana@example.com"));
    let item = inv("F-1", "c", d(2026, 3, 1), d(2026, 4, 1), "1000").with_number("F-<1>&\"'=`{{x}}");
    let mut out = Vec::new();
    for force in [false, true] {
        let policy = hostile_policy(force);
        let planner = Planner::new(&policy).unwrap();
        let plan = planner
            .plan(
                &[client.clone()],
                &[item.clone()],
                &[],
                utc(2026, 4, 1, 12, 0),
                Horizon::NONE,
            )
            .unwrap();
        let messages = Messages::new(&policy).unwrap();
        let opts = RenderOptions::default().with_payment_link("https://pay.example/?a=1&b=\"2\"<3>");
        let m = messages.render(&plan.due()[0], &client, &opts).unwrap();
        out.push(m);
    }
    assert_eq!(
        out[0].subject, out[1].subject,
        "subject differs between the two renderers"
    );
    assert_eq!(out[0].text, out[1].text, "text differs between the two renderers");
    assert_eq!(out[0].html, out[1].html, "html differs between the two renderers");
    let html = out[0].html.clone().unwrap();
    assert!(!html.contains("<script>"), "raw script in the HTML: {html}");
    assert!(
        !html.contains("onerror=\""),
        "attribute injection in the HTML: {html}"
    );
}

// ---------------------------------------------------------------------------------------
// The run loop (issue 15 item 4)

/// A store whose every load takes two hours of the dispatcher's (manual) clock (each tick
/// takes longer than the run loop's period). After 20,000 loads (a loop spinning) it blocks
/// its thread for good, so that a spinning loop stops burning a core for the other tests.
struct SlowLoad {
    clock: Option<ManualClock>,
    loads: AtomicUsize,
}

#[async_trait]
impl Hooks for SlowLoad {
    async fn load(&self, inner: &MemoryStore) -> Result<Snapshot, StoreError> {
        if self.loads.fetch_add(1, Ordering::SeqCst) > 20_000 {
            std::thread::sleep(StdDuration::from_secs(24 * 3600));
        }
        if let Some(clock) = &self.clock {
            clock.advance(Duration::hours(2));
        }
        inner.load().await
    }
}

/// `run` promises to tick "until `shutdown` resolves". When a tick takes longer than the
/// period (or the period is zero), the loop starts the next tick at once and never yields
/// to the executor between ticks: on a current-thread runtime a shutdown driven by a timer
/// (or by another task) is never seen, and `run` spins forever, ticking back to back.
#[test]
fn run_stops_when_shutdown_resolves_even_if_ticks_take_longer_than_the_period() {
    let ticks = within(20, "run with ticks longer than the period", || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        rt.block_on(async {
            let now = utc(2026, 4, 1, 10, 0);
            let clock = ManualClock::new(now);
            let store = Hooked::new(
                Arc::new(MemoryStore::new(vec![cl("acme", "UTC")], vec![])),
                SlowLoad {
                    clock: Some(clock.clone()),
                    loads: AtomicUsize::new(0),
                },
            );
            let disp = Dispatcher::new(store, Arc::new(RecordingMailer::new()), &overdue_policy("UTC"))
                .unwrap()
                .with_clock(Arc::new(clock.clone()));
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            tokio::spawn(async move {
                tokio::time::sleep(StdDuration::from_millis(50)).await;
                let _ = stop.send(());
            });
            disp.run(StdDuration::from_secs(3600), async move {
                let _ = stopped.await;
            })
            .await
        })
    });
    assert!(ticks.ticks > 0);
}

/// The same with a period of zero.
#[test]
fn run_with_a_zero_period_still_sees_its_shutdown() {
    within(20, "run with a zero period", || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        rt.block_on(async {
            let clock = ManualClock::new(utc(2026, 4, 1, 10, 0));
            let store = Hooked::new(
                Arc::new(MemoryStore::new(vec![cl("acme", "UTC")], vec![])),
                SlowLoad {
                    clock: None,
                    loads: AtomicUsize::new(0),
                },
            );
            let disp = Dispatcher::new(store, Arc::new(RecordingMailer::new()), &overdue_policy("UTC"))
                .unwrap()
                .with_clock(Arc::new(clock));
            disp.run(
                StdDuration::ZERO,
                tokio::time::sleep(StdDuration::from_millis(50)),
            )
            .await
        })
    });
}

// ---------------------------------------------------------------------------------------
// Lasting stops explained as of now (issue 15 item 2)

fn stop_plan(policy: &Policy, client: Client, item: Item, now: DateTime<Utc>, horizon: u32) -> Plan {
    Planner::new(policy)
        .unwrap()
        .plan(&[client], &[item], &[], now, Horizon::days(horizon))
        .unwrap()
}

/// Each stop of the issue's list, on an invoice due long ago (a catch-up now) and on one
/// due within the horizon: exactly one suppression per item and rule, dated in the window.
fn lasting_stop_problems(only: &[&str]) -> Vec<String> {
    let now = utc(2026, 6, 10, 15, 0);
    fn overdue() -> Rule {
        Rule::new("overdue".parse().unwrap(), Anchor::Due, 0).repeat(7, 5)
    }
    let base = || Policy::new(TimeZone::UTC).with_rule(overdue());
    type Case = (
        &'static str,
        Box<dyn Fn(Policy, Client, Item) -> (Policy, Client, Item)>,
    );
    let cases: Vec<Case> = vec![
        (
            "client reminders off",
            Box::new(|p, c: Client, i| {
                (
                    p,
                    c.with_overrides(ClientOverrides::default().reminders(false)),
                    i,
                )
            }),
        ),
        (
            "rule off for the client",
            Box::new(|p, c: Client, i| {
                (
                    p,
                    c.with_overrides(
                        ClientOverrides::default().rule("overdue".parse().unwrap(), RuleOverride::off()),
                    ),
                    i,
                )
            }),
        ),
        (
            "item reminders off",
            Box::new(|p, c, mut i: Item| {
                i.reminders = false;
                (p, c, i)
            }),
        ),
        (
            "collection start",
            Box::new(|p: Policy, c, i| {
                (
                    p.with_collection_start(CollectionStart {
                        past_items: Some(d(2027, 1, 1)),
                        new_items: None,
                    }),
                    c,
                    i,
                )
            }),
        ),
        (
            "minimum balance",
            Box::new(|mut p: Policy, c, i| {
                p.rules[0] = overdue().min_balance(money("5000", "CLP"));
                (p, c, i)
            }),
        ),
        (
            "open dispute",
            Box::new(|p, c, i: Item| (p, c, i.with_pause(Pause::new(PauseKind::Dispute, "wrong amount")))),
        ),
        (
            "client hold",
            Box::new(|p, c: Client, i| (p, c.with_pause(Pause::new(PauseKind::Hold, "legal")), i)),
        ),
        (
            "long promise",
            Box::new(|p, c, i: Item| {
                (
                    p,
                    c,
                    i.with_pause(
                        Pause::new(PauseKind::Promise, "pays in 2027")
                            .starting(d(2025, 1, 1))
                            .until(d(2027, 6, 1)),
                    ),
                )
            }),
        ),
        (
            "nobody to send to",
            Box::new(|mut p: Policy, c, i| {
                p.rules[0] = overdue().to_roles([ContactRole::Executive]);
                (p, c, i)
            }),
        ),
        (
            "rule off in the policy",
            Box::new(|mut p: Policy, c, i| {
                p.rules[0] = overdue().enabled(false);
                (p, c, i)
            }),
        ),
        (
            "kind excluded",
            Box::new(|mut p: Policy, c, i| {
                p.rules[0] = overdue().for_kinds([ItemKind::Proposal]);
                (p, c, i)
            }),
        ),
    ];
    let mut problems = Vec::new();
    for (name, f) in cases.iter().filter(|(n, _)| only.contains(n)) {
        for (due, label) in [
            (d(2025, 3, 1), "due long ago"),
            (d(2026, 6, 20), "due within the horizon"),
        ] {
            let item = inv("F-1", "c", due - Duration::days(30), due, "1000");
            let (policy, client, item) = f(base(), cl("c", "UTC"), item);
            let plan = stop_plan(&policy, client, item, now, 30);
            let mine: Vec<_> = plan
                .suppressed()
                .iter()
                .filter(|s| s.item.as_ref().is_some_and(|i| i.as_str() == "F-1"))
                .cloned()
                .collect();
            let window = (now.date_naive() - Duration::days(7))..=(now.date_naive() + Duration::days(30));
            if plan.events().next().is_some() {
                problems.push(format!(
                    "{name}, {label}: planned anyway: {:?}",
                    common::lines(&plan)
                ));
            } else if mine.len() != 1 || !window.contains(&mine[0].on) {
                problems.push(format!(
                    "{name}, {label}: {} suppressions {:?}",
                    mine.len(),
                    mine.iter()
                        .map(|s| format!("{} {} {}", s.on, s.key, s.reason.kind()))
                        .collect::<Vec<_>>()
                ));
            }
        }
    }
    problems
}

#[test]
fn every_lasting_stop_is_explained_once_per_item_and_rule_in_the_window() {
    let problems = lasting_stop_problems(&[
        "client reminders off",
        "rule off for the client",
        "item reminders off",
        "collection start",
        "minimum balance",
        "open dispute",
        "client hold",
        "long promise",
        "nobody to send to",
    ]);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// "A catch-up event that a pause held back names the pause in its explanation".
#[test]
fn a_catch_up_held_back_by_a_promise_names_it_also_after_an_outage() {
    let policy = overdue_policy("America/Santiago");
    let client = cl("c", "America/Santiago");
    let item = inv("F-1", "c", d(2026, 3, 1), d(2026, 4, 1), "1000").with_pause(
        Pause::new(PauseKind::Promise, "pays on the 5th")
            .starting(d(2026, 3, 30))
            .until(d(2026, 4, 5)),
    );
    // The host was down from 2026-04-01 to 2026-04-09.
    let plan = stop_plan(&policy, client, item, utc(2026, 4, 9, 15, 0), 0);
    assert_eq!(plan.due().len(), 1, "{:?}", common::lines(&plan));
    let e = &plan.due()[0];
    let text = e.explain();
    assert!(
        e.why
            .adjustments
            .iter()
            .any(|a| matches!(a, Adjustment::Paused { .. }))
            && text.contains("promise"),
        "the caught-up reminder does not name the promise that held it: {text} / {:?}",
        e.why.adjustments
    );
}

// ---------------------------------------------------------------------------------------
// Three dispatchers, stale loads, payments after claims, every mailer behaviour

/// A clock whose `now` is set by the test and whose sleeps end after a few real
/// milliseconds, whatever their length: a send timeout fires at once after a hang.
struct FastClock(std::sync::Mutex<DateTime<Utc>>);

impl Clock for FastClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
    fn sleep(&self, _: StdDuration) -> Sleep {
        Box::pin(tokio::time::sleep(StdDuration::from_millis(3)))
    }
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Loads return the snapshot the store held at the previous tick (another dispatcher may
/// have sent since); each granted claim of an item's key pays that item with some chance
/// (a payment landing between the claim and the send).
struct Chaos {
    stale: std::sync::Mutex<Option<Snapshot>>,
    rng: std::sync::Mutex<Rng>,
    paid: std::sync::Mutex<Vec<String>>,
    pay_chance: u64,
}

#[async_trait]
impl Hooks for Chaos {
    async fn load(&self, inner: &MemoryStore) -> Result<Snapshot, StoreError> {
        let fresh = inner.load().await?;
        let mut stale = self.stale.lock().unwrap();
        Ok(stale.replace(fresh.clone()).unwrap_or(fresh))
    }
    async fn claim(
        &self,
        inner: &MemoryStore,
        key: &EventKey,
        now: DateTime<Utc>,
        lease: Option<Duration>,
    ) -> Result<Claim, StoreError> {
        let claim = inner.claim(key, now, lease).await?;
        if let Claim::Granted { .. } = claim {
            let parts: Vec<&str> = key.as_str().split('/').collect();
            if parts.len() == 3 && self.rng.lock().unwrap().below(100) < self.pay_chance {
                let item = parts[1].to_owned();
                inner.update_items(|items| {
                    for i in items.iter_mut().filter(|i| i.id.as_str() == item) {
                        if let Some(total) = i.total {
                            if i.balance().unwrap().is_some_and(|b| b.is_positive()) {
                                *i = i.clone().paid(total, now.date_naive());
                            }
                        }
                    }
                });
                self.paid.lock().unwrap().push(item);
            }
        }
        Ok(claim)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_dispatchers_with_stale_loads_and_late_payments_never_send_twice_nor_after_payment() {
    let mut problems = Vec::new();
    for seed in 1..=12u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let policy = Policy::new(tz("America/Santiago"))
            .with_calendar(BusinessCalendar::new(
                [chrono::Weekday::Sat, chrono::Weekday::Sun],
                [],
            ))
            .with_rule(Rule::new("due-soon".parse().unwrap(), Anchor::Due, -3))
            .with_rule(Rule::new("overdue".parse().unwrap(), Anchor::Due, 0).repeat(3, 3))
            .with_rule(
                Rule::new("late".parse().unwrap(), Anchor::Due, 10)
                    .repeat(2, 2)
                    .grouped(),
            );
        let clients: Vec<Client> = (0..3)
            .map(|c| {
                cl(
                    &format!("c{c}"),
                    ["America/Santiago", "Pacific/Kiritimati", "Pacific/Pago_Pago"][c],
                )
            })
            .collect();
        let items: Vec<Item> = (0..14)
            .map(|i| {
                let due = d(2026, 3, 5) + Duration::days(rng.below(25) as i64);
                inv(
                    &format!("I{i}"),
                    &format!("c{}", i % 3),
                    due - Duration::days(20),
                    due,
                    "1000",
                )
                .with_number(format!("N{i}#"))
            })
            .collect();
        let inner = Arc::new(MemoryStore::new(clients, items));
        let clock = Arc::new(FastClock(std::sync::Mutex::new(utc(2026, 3, 1, 0, 0))));
        let script_rng = Arc::new(std::sync::Mutex::new(Rng(seed.wrapping_mul(31) | 1)));
        let inner_for_mailer = inner.clone();
        let late_sends = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
        let late2 = late_sends.clone();
        let mailer = Arc::new(RecordingMailer::new().with_script(move |m, _| {
            // Sent after the item was paid: its number in a message going out now.
            let snap = inner_for_mailer.snapshot();
            for i in &snap.items {
                if i.balance().unwrap().is_some_and(|b| !b.is_positive())
                    && (m.text.contains(&*i.number) || m.subject.contains(&*i.number))
                {
                    late2
                        .lock()
                        .unwrap()
                        .push(format!("{} about paid {}", m.key, i.id));
                }
            }
            match script_rng.lock().unwrap().below(100) {
                0..=79 => Behaviour::Accept,
                80..=87 => Behaviour::FailTransient,
                88..=91 => Behaviour::FailPermanent,
                92..=95 => Behaviour::Hang,
                _ => Behaviour::AcceptThenHang,
            }
        }));
        let mut disps = Vec::new();
        let mut hooks = Vec::new();
        for k in 0..3u64 {
            let store = Hooked::new(
                inner.clone(),
                Chaos {
                    stale: std::sync::Mutex::new(None),
                    rng: std::sync::Mutex::new(Rng(seed * 7 + k + 1)),
                    paid: std::sync::Mutex::new(Vec::new()),
                    pay_chance: 6,
                },
            );
            hooks.push(store.clone());
            let disp = Dispatcher::new(store, mailer.clone(), &policy)
                .unwrap()
                .with_clock(clock.clone())
                .with_options(
                    DispatchOptions::default()
                        .with_send_timeout(StdDuration::from_secs(30))
                        .with_retries(3, StdDuration::from_secs(3600)),
                )
                .unwrap();
            disps.push(disp);
        }
        let mut now = utc(2026, 3, 1, 0, 0);
        let mut turn = 0;
        while now < utc(2026, 4, 30, 0, 0) {
            *clock.0.lock().unwrap() = now;
            let _ = disps[turn % 3].tick(now).await;
            turn += 1;
            now += Duration::minutes(173 + (rng.below(300) as i64));
        }
        // Never twice: an item occurrence in two messages that (may have) gone.
        let snap = inner.snapshot();
        let accepted: std::collections::HashMap<String, usize> =
            mailer.sent().iter().fold(Default::default(), |mut m, msg| {
                *m.entry(msg.key.to_string()).or_default() += 1;
                m
            });
        for (k, n) in &accepted {
            if *n > 1 {
                problems.push(format!("seed {seed}: key {k} accepted {n} times"));
            }
        }
        let mut covered: std::collections::HashMap<(String, String, u32), String> = Default::default();
        for h in snap
            .history
            .iter()
            .filter(|h| accepted.contains_key(h.key.as_str()) && h.rule.is_some())
        {
            for hi in &h.items {
                let at = (
                    h.rule.clone().unwrap().to_string(),
                    hi.item.to_string(),
                    hi.occurrence,
                );
                if let Some(other) = covered.insert(at.clone(), h.key.to_string()) {
                    if other != h.key.as_str() {
                        problems.push(format!("seed {seed}: {at:?} went under {other} and {}", h.key));
                    }
                }
            }
        }
        problems.extend(
            late_sends
                .lock()
                .unwrap()
                .iter()
                .map(|s| format!("seed {seed}: {s}")),
        );
        let paid: usize = hooks.iter().map(|h| h.hooks.paid.lock().unwrap().len()).sum();
        let unknown = snap
            .history
            .iter()
            .filter(|h| h.outcome == HistoryOutcome::OutcomeUnknown)
            .count();
        let grouped = snap.history.iter().filter(|h| h.items.len() > 1).count();
        eprintln!(
            "seed {seed}: {} accepted, {} history, {paid} paid after a claim, {unknown} unknown, {grouped} grouped",
            mailer.sent().len(),
            snap.history.len()
        );
    }
    assert_no_problems(&problems);
}

// ---------------------------------------------------------------------------------------
// Errors from JSON and TOML keep the field (issue 15 item 6)

/// A typo in the policy's reply-to (or cc, bcc, the company's address or name) loads, passes
/// `Policy::validate`, `Planner::new`, `Messages::new` and `Dispatcher::new`; then every
/// message fails to render, and the dispatcher records each reminder as failed *for good*
/// (a history entry: never retried unless released key by key). One configuration typo
/// silently loses every reminder instead of being refused where the policy is loaded.
#[tokio::test]
async fn a_bad_address_in_the_policy_is_refused_at_load_not_at_every_send() {
    let mut problems = Vec::new();
    let bad: Vec<(&str, Box<dyn Fn(&mut Policy)>)> = vec![
        (
            "reply_to",
            Box::new(|p: &mut Policy| p.reply_to = vec!["billing at example.com".into()]),
        ),
        ("cc", Box::new(|p: &mut Policy| p.cc = vec!["x@".into()])),
        ("bcc", Box::new(|p: &mut Policy| p.bcc = vec!["@x.cl".into()])),
        (
            "company.email",
            Box::new(|p: &mut Policy| p.company.email = "cobranza@empresa".into()),
        ),
        (
            "company.name",
            Box::new(|p: &mut Policy| {
                p.company.email = "cobranza@empresa.cl".into();
                p.company.name = "Empresa\r\nBcc: all@evil.example".into();
            }),
        ),
    ];
    for (field, set) in &bad {
        let mut policy = overdue_policy("UTC");
        set(&mut policy);
        if policy.validate().is_err() {
            continue;
        }
        let json = serde_json::to_string(&policy).unwrap();
        let loaded = Policy::from_json(&json);
        let store = Arc::new(MemoryStore::new(
            vec![cl("acme", "UTC")],
            vec![inv("F-1", "acme", d(2026, 3, 1), d(2026, 4, 1), "1000")],
        ));
        let mailer = Arc::new(RecordingMailer::new());
        let Ok(disp) = Dispatcher::new(store.clone(), mailer, &policy) else {
            continue;
        };
        let r = disp.tick(utc(2026, 4, 1, 12, 0)).await.unwrap();
        problems.push(format!(
            "{field}: loads ({}), validates, and then the reminder is {:?}; history {:?}",
            if loaded.is_ok() {
                "from JSON too"
            } else {
                "not from JSON"
            },
            r.sends
                .iter()
                .map(|s| format!("{:?}", s.outcome))
                .collect::<Vec<_>>(),
            store
                .snapshot()
                .history
                .iter()
                .map(|h| h.outcome.to_string())
                .collect::<Vec<_>>()
        ));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The same for a client's own reply-to, cc or bcc override: the client loads and passes
/// `Planner::check`, then every reminder to it fails for good.
#[tokio::test]
async fn a_bad_address_in_a_client_override_is_refused_by_the_checks() {
    let policy = overdue_policy("UTC");
    let planner = Planner::new(&policy).unwrap();
    let mut o = ClientOverrides::default();
    o.cc = Some(vec!["not an address".into()]);
    let client = cl("acme", "UTC").with_overrides(o);
    let item = inv("F-1", "acme", d(2026, 3, 1), d(2026, 4, 1), "1000");
    let checked = planner.check(&[client.clone()], &[item.clone()]);
    let store = Arc::new(MemoryStore::new(vec![client], vec![item]));
    let disp = Dispatcher::new(store.clone(), Arc::new(RecordingMailer::new()), &policy).unwrap();
    let r = disp.tick(utc(2026, 4, 1, 12, 0)).await;
    assert!(
        checked.is_err(),
        "a cc of \"not an address\" passes the checks; the reminder then: {:?}",
        r.map(|r| r
            .sends
            .iter()
            .map(|s| format!("{:?}", s.outcome))
            .collect::<Vec<_>>())
            .map_err(|e| e.to_string())
    );
}

// ---------------------------------------------------------------------------------------
// Resend by key (issue 15 item 3)

#[tokio::test]
async fn a_resend_of_every_kind_has_one_key_in_message_history_and_log() {
    let policy = Policy::new(TimeZone::UTC)
        .with_rule(Rule::new("overdue".parse().unwrap(), Anchor::Due, 0).grouped())
        .with_rule(Rule::new("late".parse().unwrap(), Anchor::Due, 3))
        .with_statement(StatementRule::new(
            "monthly".parse().unwrap(),
            "FREQ=MONTHLY;BYMONTHDAY=1",
            d(2026, 1, 1),
        ))
        .with_standing(StandingRule::new(2, 30));
    let store = Arc::new(MemoryStore::new(
        vec![cl("acme", "UTC")],
        vec![
            inv("F-1", "acme", d(2026, 3, 1), d(2026, 3, 29), "1000"),
            inv("F-2", "acme", d(2026, 3, 1), d(2026, 3, 29), "2000"),
        ],
    ));
    let mailer = Arc::new(RecordingMailer::new());
    let (disp, clock) = dispatcher(store.clone(), mailer.clone(), &policy, utc(2026, 4, 1, 12, 0));
    let r = disp.tick_now().await.unwrap();
    let keys: Vec<EventKey> = r.sent().map(|s| s.key.clone()).collect();
    assert!(keys.len() >= 3, "{keys:?}");
    let mut problems = Vec::new();
    for (n, key) in keys.iter().enumerate() {
        clock.advance(Duration::minutes(1));
        let before = mailer.sent().len();
        match disp.resend(key).await {
            Ok(_) => {
                let m = mailer.sent()[before].clone();
                let h = store.snapshot().history.last().cloned().unwrap();
                let log = store
                    .read_log(&LogFilter::default())
                    .await
                    .unwrap()
                    .last()
                    .cloned()
                    .unwrap();
                if m.key != h.key || log.key.as_deref() != Some(h.key.as_str()) {
                    problems.push(format!(
                        "{key}: message {} history {} log {:?}",
                        m.key, h.key, log.key
                    ));
                }
            }
            Err(e) => problems.push(format!("{key} (#{n}): resend refused: {e}")),
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

// ---------------------------------------------------------------------------------------
// Money at the edges

fn applied(item: Item, minor: i64, on: NaiveDate) -> Item {
    let clp = Currency::from_code("CLP").unwrap();
    item.paid(Money::from_minor(minor, clp), on)
}

/// A zero-total invoice with payments applied (a balance of `i64::MIN` minor units) is
/// "partially paid": planned, rendered in every locale without a panic, or refused.
#[test]
fn a_balance_of_i64_min_neither_panics_nor_is_written_wrong() {
    let problems = within(60, "i64::MIN balance", || {
        let mut problems = Vec::new();
        for locale in ["es-CL", "en-US", "es", "en", "de-DE"] {
            let policy = Policy::new(TimeZone::UTC)
                .with_rule(Rule::new("overdue".parse().unwrap(), Anchor::Due, 0))
                .with_rule(Rule::new("fee".parse().unwrap(), Anchor::Due, 1))
                .with_statement(StatementRule::new(
                    "monthly".parse().unwrap(),
                    "FREQ=MONTHLY;BYMONTHDAY=1",
                    d(2026, 1, 1),
                ));
            let planner = Planner::new(&policy).unwrap();
            let messages = Messages::new(&policy).unwrap();
            let client = cl("c", "UTC").with_locale(locale);
            let mut item = inv("F-1", "c", d(2026, 3, 1), d(2026, 4, 1), "0");
            item = applied(item, i64::MAX, d(2026, 3, 2));
            item = applied(item, 1, d(2026, 3, 3));
            let balance = item.balance();
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let plan = planner.plan(
                    &[client.clone()],
                    &[item.clone()],
                    &[],
                    utc(2026, 4, 1, 12, 0),
                    Horizon::days(40),
                )?;
                let mut out = Vec::new();
                for e in plan.events() {
                    out.push(
                        messages
                            .render(e, &client, &RenderOptions::default())
                            .map(|m| m.text)
                            .map_err(|e| e.to_string()),
                    );
                }
                Ok::<_, ValidationError>(out)
            }));
            match r {
                Err(p) => problems.push(format!(
                    "{locale}: PANIC {:?} (balance {balance:?})",
                    p.downcast_ref::<String>()
                )),
                Ok(Ok(out)) => {
                    for m in out.into_iter().flatten() {
                        if !m.contains("9.223.372.036.854.775.808")
                            && !m.contains("9,223,372,036,854,775,808")
                            && m.contains("F-1")
                        {
                            problems.push(format!(
                                "{locale}: a reminder for a balance of {balance:?} reads: {m}"
                            ));
                        }
                    }
                }
                Ok(Err(_)) => {}
            }
        }
        problems
    });
    assert!(problems.is_empty(), "{}", problems.join("\n---\n"));
}

/// A zero-total invoice (nothing is owed) is "open" and gets overdue reminders for $0.
#[test]
fn an_invoice_that_owes_nothing_is_not_chased() {
    let policy = overdue_policy("UTC");
    let planner = Planner::new(&policy).unwrap();
    let plan = planner
        .plan(
            &[cl("c", "UTC")],
            &[inv("F-0", "c", d(2026, 3, 1), d(2026, 4, 1), "0")],
            &[],
            utc(2026, 4, 1, 12, 0),
            Horizon::NONE,
        )
        .unwrap();
    assert!(
        plan.due().is_empty(),
        "a reminder for an invoice of $0: {:?}",
        common::lines(&plan)
    );
}

// ---------------------------------------------------------------------------------------
// Statement RRULEs: the crate's own evaluator against the rrule crate (its stated oracle)

fn oracle(rule: &str, start: NaiveDate, from: NaiveDate, to: NaiveDate) -> Option<Vec<NaiveDate>> {
    let text = format!("DTSTART:{}T120000Z\nRRULE:{rule}", start.format("%Y%m%d"));
    let set: rrule::RRuleSet = text.parse().ok()?;
    let utc_tz = rrule::Tz::UTC;
    let after = utc_tz.from_utc_datetime(&(from - Duration::days(1)).and_hms_opt(23, 59, 59).unwrap());
    let before = utc_tz.from_utc_datetime(&(to + Duration::days(1)).and_hms_opt(0, 0, 0).unwrap());
    let r = set.after(after).before(before).all(60_000);
    let mut dates: Vec<NaiveDate> = r.dates.iter().map(|t| t.date_naive()).collect();
    dates.dedup();
    Some(dates)
}

#[test]
fn statement_dates_match_the_rrule_crate() {
    let y = |a, m, dd| d(a, m, dd);
    let cases: Vec<(&str, NaiveDate, NaiveDate, NaiveDate)> = vec![
        (
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=SU,MO;WKST=SU",
            y(2026, 1, 6),
            y(2026, 1, 1),
            y(2026, 12, 31),
        ),
        (
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=SU,MO;WKST=MO",
            y(2026, 1, 6),
            y(2026, 1, 1),
            y(2026, 12, 31),
        ),
        (
            "FREQ=WEEKLY;INTERVAL=3;BYDAY=SA,SU,MO;WKST=TH",
            y(2025, 12, 31),
            y(2026, 1, 1),
            y(2026, 12, 31),
        ),
        (
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=SU,MO;WKST=SU",
            y(1700, 1, 5),
            y(2026, 1, 1),
            y(2026, 12, 31),
        ),
        (
            "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
            y(2026, 1, 1),
            y(2026, 1, 1),
            y(2027, 12, 31),
        ),
        (
            "FREQ=MONTHLY;BYMONTHDAY=31",
            y(2026, 1, 1),
            y(2026, 1, 1),
            y(2027, 12, 31),
        ),
        (
            "FREQ=MONTHLY;INTERVAL=5;BYMONTHDAY=-1",
            y(1900, 3, 15),
            y(2026, 1, 1),
            y(2027, 12, 31),
        ),
        (
            "FREQ=YEARLY;BYWEEKNO=1;BYDAY=MO",
            y(2020, 1, 1),
            y(2026, 1, 1),
            y(2032, 12, 31),
        ),
        (
            "FREQ=YEARLY;BYWEEKNO=53;BYDAY=TH",
            y(2020, 1, 1),
            y(2026, 1, 1),
            y(2040, 12, 31),
        ),
        (
            "FREQ=YEARLY;BYWEEKNO=-1;BYDAY=SU;WKST=SU",
            y(2020, 1, 1),
            y(2026, 1, 1),
            y(2032, 12, 31),
        ),
        (
            "FREQ=YEARLY;BYWEEKNO=1,52;BYDAY=MO;WKST=TH",
            y(2020, 1, 1),
            y(2026, 1, 1),
            y(2032, 12, 31),
        ),
        (
            "FREQ=YEARLY;BYYEARDAY=-1,100,366",
            y(2020, 1, 1),
            y(2026, 1, 1),
            y(2032, 12, 31),
        ),
        (
            "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29",
            y(2023, 1, 1),
            y(2026, 1, 1),
            y(2036, 12, 31),
        ),
        (
            "FREQ=YEARLY;BYDAY=20MO",
            y(2020, 1, 1),
            y(2026, 1, 1),
            y(2030, 12, 31),
        ),
        (
            "FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3",
            y(2020, 1, 1),
            y(2026, 1, 1),
            y(2030, 12, 31),
        ),
        (
            "FREQ=MONTHLY;BYDAY=-2FR",
            y(2020, 1, 1),
            y(2026, 1, 1),
            y(2027, 12, 31),
        ),
        (
            "FREQ=DAILY;INTERVAL=10",
            y(1600, 1, 1),
            y(2026, 1, 1),
            y(2026, 12, 31),
        ),
        (
            "FREQ=DAILY;BYMONTH=1,7;BYMONTHDAY=1,15;INTERVAL=3",
            y(2020, 1, 1),
            y(2026, 1, 1),
            y(2030, 12, 31),
        ),
        (
            "FREQ=HOURLY;BYHOUR=9",
            y(2026, 1, 1),
            y(2026, 1, 1),
            y(2026, 2, 28),
        ),
        (
            "FREQ=HOURLY;INTERVAL=48",
            y(2026, 1, 1),
            y(2026, 1, 1),
            y(2026, 3, 31),
        ),
        (
            "FREQ=MINUTELY;INTERVAL=2880",
            y(2026, 1, 1),
            y(2026, 1, 1),
            y(2026, 3, 31),
        ),
        (
            "FREQ=DAILY;BYHOUR=9,17",
            y(2026, 1, 1),
            y(2026, 1, 1),
            y(2026, 2, 28),
        ),
        (
            "FREQ=DAILY;BYHOUR=9",
            y(2026, 1, 1),
            y(2026, 1, 1),
            y(2026, 2, 28),
        ),
        (
            "FREQ=WEEKLY;COUNT=5;BYDAY=MO,FR",
            y(2026, 1, 1),
            y(2026, 1, 1),
            y(2026, 12, 31),
        ),
        (
            "FREQ=MONTHLY;COUNT=3;BYMONTHDAY=31",
            y(2026, 1, 1),
            y(2026, 1, 1),
            y(2027, 12, 31),
        ),
        (
            "FREQ=DAILY;COUNT=40000",
            y(1950, 1, 1),
            y(2026, 1, 1),
            y(2066, 12, 31),
        ),
        (
            "FREQ=YEARLY;INTERVAL=2;BYMONTH=1;BYDAY=MO;BYSETPOS=1,-1",
            y(2020, 1, 1),
            y(2026, 1, 1),
            y(2032, 12, 31),
        ),
        (
            "FREQ=MONTHLY;BYMONTHDAY=1,-1;BYSETPOS=2",
            y(2020, 1, 1),
            y(2026, 1, 1),
            y(2027, 12, 31),
        ),
        (
            "FREQ=WEEKLY;BYSETPOS=-1;BYDAY=MO,WE",
            y(2026, 1, 1),
            y(2026, 1, 1),
            y(2026, 6, 30),
        ),
        (
            "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;INTERVAL=400",
            y(2001, 1, 1),
            y(2026, 1, 1),
            y(2030, 12, 31),
        ),
        (
            "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;INTERVAL=3",
            y(2001, 1, 1),
            y(2026, 1, 1),
            y(2050, 12, 31),
        ),
        (
            "FREQ=MONTHLY;INTERVAL=12;BYMONTHDAY=30",
            y(2026, 2, 1),
            y(2026, 1, 1),
            y(2030, 12, 31),
        ),
        (
            "FREQ=YEARLY;BYWEEKNO=20;BYMONTH=5,6;BYDAY=MO,FR",
            y(2020, 1, 1),
            y(2026, 1, 1),
            y(2030, 12, 31),
        ),
        (
            "FREQ=MONTHLY;BYDAY=MO;BYMONTHDAY=1,2,3,4,5,6,7",
            y(2020, 1, 1),
            y(2026, 1, 1),
            y(2027, 12, 31),
        ),
        (
            "FREQ=YEARLY;BYMONTH=1;BYMONTHDAY=-31,31",
            y(2020, 1, 1),
            y(2026, 1, 1),
            y(2030, 12, 31),
        ),
        (
            "FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=1",
            y(2026, 1, 1),
            y(2026, 1, 1),
            y(2026, 3, 31),
        ),
        (
            "FREQ=MONTHLY;INTERVAL=7;BYDAY=1MO,-1FR",
            y(1999, 11, 30),
            y(2026, 1, 1),
            y(2030, 12, 31),
        ),
    ];
    let mut problems = Vec::new();
    for (rule, start, from, to) in cases {
        let ours = StatementRule::new("s".parse().unwrap(), rule, start).occurrences(from, to);
        let theirs = oracle(rule, start, from, to);
        match (&ours, &theirs) {
            (Ok(a), Some(b)) if a == b => {}
            (Err(_), Some(b)) if b.is_empty() => {}
            (Err(_), None) => {}
            _ => {
                let show = |v: &Vec<NaiveDate>| {
                    let diff: Vec<String> = v.iter().take(8).map(|x| x.to_string()).collect();
                    format!("{} dates, first {:?}", v.len(), diff)
                };
                problems.push(format!(
                    "{rule} from {start}: ours {}, rrule crate {}",
                    ours.as_ref().map_or_else(|e| format!("Err({e})"), show),
                    theirs.as_ref().map_or_else(|| "refused".into(), show)
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

// ---------------------------------------------------------------------------------------
// Determinism: events of one instant are ordered by their keys as text

#[test]
fn events_of_one_instant_are_listed_in_key_order() {
    let ids = ["a", "a-b", "a.b", "a0", "aa", "b", "a_b", "A", "é"];
    let mut policy = Policy::new(TimeZone::UTC);
    for id in ids {
        policy = policy.with_rule(Rule::new(id.parse().unwrap(), Anchor::Due, 0).repeat(1, 12));
    }
    let planner = Planner::new(&policy).unwrap();
    let clients: Vec<Client> = ["c", "c-1", "c.1", "c0", "C"]
        .iter()
        .map(|c| cl(c, "UTC"))
        .collect();
    let mut items = Vec::new();
    for (n, c) in ["c", "c-1", "c.1", "c0", "C"].iter().enumerate() {
        for it in ["X", "X-1", "X.1", "X0", "x", "X_1"] {
            items.push(inv(&format!("{it}{n}"), c, d(2026, 3, 1), d(2026, 4, 1), "1000"));
        }
    }
    // Occurrences 9 and 10 of every rule in history for some items: "a/X/10" sorts before "a/X/9".
    let mut history = Vec::new();
    for it in items.iter().take(7) {
        for id in ids {
            for occ in 1..=9u32 {
                history.push(HistoryEntry {
                    key: format!("{id}/{}/{occ}", it.id).as_str().into(),
                    rule: Some(id.parse().unwrap()),
                    client: it.client.clone(),
                    items: vec![HistoryItem {
                        item: it.id.clone(),
                        occurrence: occ,
                    }],
                    sent_at: utc(2026, 4, 1, 0, 0) + Duration::minutes(i64::from(occ)),
                    outcome: HistoryOutcome::Sent,
                });
            }
        }
    }
    let now = utc(2026, 4, 2, 12, 0);
    let plan = planner
        .plan(&clients, &items, &history, now, Horizon::days(3))
        .unwrap();
    // `Plan`: "Events are sorted by send instant, then client, then key".
    let listed: Vec<(DateTime<Utc>, String, String)> = plan
        .due()
        .iter()
        .chain(plan.upcoming().iter())
        .map(|e| (e.send_at, e.client.to_string(), e.key.to_string()))
        .collect();
    let mut sorted = listed.clone();
    sorted.sort();
    let due_n = plan.due().len();
    let first_diff = listed.iter().zip(&sorted).position(|(a, b)| a != b);
    assert!(
        first_diff.is_none(),
        "listed order is not (send_at, client, key) order at {first_diff:?}: listed {:?} / sorted {:?} ({} due)",
        first_diff.map(|i| &listed[i.saturating_sub(2)..(i + 3).min(listed.len())]),
        first_diff.map(|i| &sorted[i.saturating_sub(2)..(i + 3).min(sorted.len())]),
        due_n
    );
}

// ---------------------------------------------------------------------------------------
// Tracing (issue 15 item 5)

#[derive(Default)]
struct Recorded {
    spans: std::sync::Mutex<Vec<(String, std::collections::BTreeMap<String, String>)>>,
    events: std::sync::Mutex<Vec<(String, tracing::Level, std::collections::BTreeMap<String, String>)>>,
}

struct Recorder(Arc<Recorded>);

struct Fields<'a>(&'a mut std::collections::BTreeMap<String, String>);
impl tracing::field::Visit for Fields<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
}

impl tracing::Subscriber for Recorder {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        let mut f = std::collections::BTreeMap::new();
        span.record(&mut Fields(&mut f));
        let mut spans = self.0.spans.lock().unwrap();
        spans.push((span.metadata().name().to_owned(), f));
        tracing::span::Id::from_u64(spans.len() as u64)
    }
    fn record(&self, id: &tracing::span::Id, values: &tracing::span::Record<'_>) {
        let mut spans = self.0.spans.lock().unwrap();
        if let Some((_, f)) = spans.get_mut(id.into_u64() as usize - 1) {
            values.record(&mut Fields(f));
        }
    }
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let mut f = std::collections::BTreeMap::new();
        event.record(&mut Fields(&mut f));
        self.0.events.lock().unwrap().push((
            event.metadata().target().to_owned(),
            *event.metadata().level(),
            f,
        ));
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

/// The recorder is the process's global subscriber (a scoped one misses callsites that
/// other tests, running at once on other threads, hit first); this test's spans and events
/// are told from the others' by a client and instant of their own.
fn global_recorder() -> Arc<Recorded> {
    static REC: std::sync::OnceLock<Arc<Recorded>> = std::sync::OnceLock::new();
    REC.get_or_init(|| {
        let rec = Arc::new(Recorded::default());
        let _ = tracing::subscriber::set_global_default(Recorder(rec.clone()));
        tracing::callsite::rebuild_interest_cache();
        rec
    })
    .clone()
}

#[test]
fn a_tick_is_traced_with_every_field_the_issue_names() {
    let rec = global_recorder();
    let now = utc(2031, 7, 7, 7, 7);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let store = Arc::new(MemoryStore::new(
            vec![cl("tracedclient", "UTC")],
            vec![
                inv("TRC-1", "tracedclient", d(2031, 6, 1), d(2031, 7, 1), "1000"),
                inv("TRC-2", "tracedclient", d(2031, 6, 1), d(2031, 7, 1), "1000"),
                inv("TRC-3", "tracedclient", d(2031, 6, 1), d(2031, 7, 1), "1000"),
            ],
        ));
        let mailer = Arc::new(RecordingMailer::new().with_script(|m, _| match m.key.as_str() {
            "overdue/TRC-1/1" => Behaviour::Accept,
            "overdue/TRC-2/1" => Behaviour::FailPermanent,
            _ => Behaviour::FailTransient,
        }));
        let (disp, _) = dispatcher(store, mailer, &overdue_policy("UTC"), now);
        disp.tick_now().await.unwrap();
    });
    let spans = rec.spans.lock().unwrap().clone();
    let events = rec.events.lock().unwrap().clone();
    let mut problems = Vec::new();
    let tick = spans
        .iter()
        .find(|(n, f)| n == "tick" && f.get("now").is_some_and(|v| v.contains("2031-07-07")));
    match tick {
        None => problems.push("no tick span".to_owned()),
        Some((_, f)) => {
            for field in ["now", "planned", "due", "sent", "failed"] {
                if !f.contains_key(field) {
                    problems.push(format!("tick span lacks {field}: {f:?}"));
                }
            }
            if f.get("failed").map(String::as_str) != Some("1")
                || f.get("sent").map(String::as_str) != Some("1")
            {
                problems.push(format!("tick span counts: {f:?}"));
            }
        }
    }
    let sends: Vec<_> = spans
        .iter()
        .filter(|(n, f)| n == "send" && f.get("client").is_some_and(|c| c.contains("tracedclient")))
        .collect();
    if sends.len() != 3 {
        problems.push(format!("{} send spans", sends.len()));
    }
    for (_, f) in &sends {
        for field in [
            "key",
            "client",
            "rule",
            "stage",
            "attempt",
            "outcome",
            "duration_ms",
        ] {
            if !f.contains_key(field) {
                problems.push(format!("send span lacks {field}: {f:?}"));
            }
        }
    }
    let planned = events.iter().find(|(t, l, f)| {
        t == "dunning::dispatch"
            && *l == tracing::Level::DEBUG
            && f.get("message").is_some_and(|m| m.contains("planned"))
    });
    match planned {
        None => problems.push("no debug event 'planned'".to_owned()),
        Some((_, _, f)) => {
            for field in ["clients", "items", "history", "due", "suppressed", "planning_ms"] {
                if !f.contains_key(field) {
                    problems.push(format!("planned event lacks {field}: {f:?}"));
                }
            }
        }
    }
    let warnings = events
        .iter()
        .filter(|(_, l, f)| *l == tracing::Level::WARN && f.get("key").is_some_and(|k| k.contains("TRC-")))
        .count();
    if warnings != 1 {
        problems.push(format!("{warnings} warnings for one failed send"));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

// ---------------------------------------------------------------------------------------
// The system clock's sleeps

fn threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .map(|d| d.count())
        .unwrap_or(0)
}

/// `SystemClock::sleep` spawns an OS thread per sleep that lives for the whole duration, and
/// the dispatcher starts a send-timeout sleep for every send: a tick of 400 sends on the
/// default clock leaves ~400 threads asleep for 30 s. A busy host (2.7k sends a second, the
/// README's figure) would keep ~80,000 threads alive; once spawning fails, `sleep` returns
/// at once ("give up waiting rather than hang"), every pending send "times out", and under
/// at-most-once each is recorded as outcome unknown and never retried.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_system_clock_does_not_leave_a_thread_per_send() {
    let items: Vec<Item> = (0..400)
        .map(|i| inv(&format!("F-{i}"), "acme", d(2026, 3, 1), d(2026, 4, 1), "1000"))
        .collect();
    let store = Arc::new(MemoryStore::new(vec![cl("acme", "UTC")], items));
    let disp = Dispatcher::new(store, Arc::new(RecordingMailer::new()), &overdue_policy("UTC")).unwrap();
    let before = threads();
    let r = disp.tick(utc(2026, 4, 1, 12, 0)).await.unwrap();
    assert_eq!(r.sent().count(), 400);
    let after = threads();
    assert!(
        after < before + 50,
        "a tick of 400 sends left {} more threads ({before} -> {after}), each asleep for the 30 s send timeout",
        after.saturating_sub(before)
    );
}

/// A mailer that takes a millisecond (a real transport is never ready at the first poll).
struct SlowMailer(std::sync::Mutex<usize>);

#[async_trait]
impl Mailer for SlowMailer {
    async fn send(&self, message: &Message) -> Result<Receipt, MailError> {
        tokio::time::sleep(StdDuration::from_millis(1)).await;
        *self.0.lock().unwrap() += 1;
        Ok(Receipt {
            message_id: format!("<{}@test>", message.key),
        })
    }
}

/// The consequence of the thread per sleep: where threads run out (a container's pids limit,
/// an address-space limit), `SystemClock::sleep` completes at once and healthy sends are
/// recorded as outcome unknown, never to be retried. Passes on an unconstrained machine; run
/// the test binary under `ulimit -v 1000000` (1 GB of address space: a few hundred 2 MiB
/// thread stacks) to see it fail.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sends_are_not_declared_unknown_when_threads_run_out() {
    let items: Vec<Item> = (0..1500)
        .map(|i| inv(&format!("F-{i}"), "acme", d(2026, 3, 1), d(2026, 4, 1), "1000"))
        .collect();
    let store = Arc::new(MemoryStore::new(vec![cl("acme", "UTC")], items));
    let mailer = Arc::new(SlowMailer(std::sync::Mutex::new(0)));
    let disp = Dispatcher::new(store, mailer.clone(), &overdue_policy("UTC"))
        .unwrap()
        .with_options(DispatchOptions::default().with_per_tick_limit(5000))
        .unwrap();
    let r = disp.tick(utc(2026, 4, 1, 12, 0)).await.unwrap();
    let unknown = r.unknown().count();
    assert_eq!(
        unknown,
        0,
        "{unknown} of 1500 healthy sends recorded as outcome unknown ({} delivered by the mailer)",
        mailer.0.lock().unwrap()
    );
}

// ---------------------------------------------------------------------------------------
// Business days (issue 17 item 7)

#[test]
fn the_shift_crosses_any_run_of_closed_days() {
    use chrono::Weekday::*;
    // Only Sundays work, and 150 Sundays in a row (from 2026-01-04) are holidays.
    let sundays: Vec<NaiveDate> = (0..150).map(|k| d(2026, 1, 4) + Duration::weeks(k)).collect();
    let mut holidays = sundays.clone();
    // Holidays on closed days too (they add nothing to the run, but to the bound).
    holidays.extend((0..5).map(|k| d(2026, 1, 5) + Duration::days(k)));
    let cal = BusinessCalendar::new([Mon, Tue, Wed, Thu, Fri, Sat], holidays);
    let first_open = d(2026, 1, 4) + Duration::weeks(150);
    let last_open_before = d(2026, 1, 4) - Duration::weeks(1);
    for from in [
        d(2026, 1, 1),
        d(2026, 6, 1),
        d(2027, 12, 31),
        first_open - Duration::days(1),
    ] {
        assert_eq!(
            cal.shift(from, Shift::Later),
            Some(first_open),
            "later from {from}"
        );
    }
    for from in [d(2026, 1, 4), d(2027, 6, 1), first_open - Duration::days(1)] {
        assert_eq!(
            cal.shift(from, Shift::Earlier),
            Some(last_open_before),
            "earlier from {from}"
        );
    }
    // And a reminder behind that run is planned on the first open day, or explained.
    let policy = overdue_policy("UTC").with_calendar(cal);
    let planner = Planner::new(&policy).unwrap();
    let plan = planner
        .plan(
            &[cl("c", "UTC")],
            &[inv("F-1", "c", d(2026, 1, 1), d(2026, 1, 6), "1000")],
            &[],
            utc(2026, 1, 6, 12, 0),
            Horizon::days(3660),
        )
        .unwrap();
    let e: Vec<_> = plan.events().map(|e| e.send_on).collect();
    assert_eq!(e, vec![first_open], "{:?}", common::lines(&plan));
}

// ---------------------------------------------------------------------------------------
// Key namespaces

// ---------------------------------------------------------------------------------------
// Grouped notices and missed sends

/// Daily ticks at 08:00 UTC, send time 09:00 UTC, a grouped "overdue" rule. One invoice was
/// due yesterday (missed at yesterday's 08:00 tick), the other is due today. Both join one
/// notice today, placed by its first member (id order): when that is the missed one, the
/// notice is due at 08:00 and today's reminder goes an hour before its send instant ("never
/// earlier"); when it is today's, the notice waits for 09:00, which no tick reaches, and the
/// missed reminder goes a day later than the first tick after its instant ("never later").
#[test]
fn a_grouped_notice_sends_none_of_its_members_before_its_instant_nor_after_the_next_tick() {
    let policy = grouped_policy("UTC");
    let planner = Planner::new(&policy).unwrap();
    let mut problems = Vec::new();
    for (yesterday_id, today_id) in [("A", "B"), ("B", "A")] {
        let items = [
            inv(yesterday_id, "c", d(2026, 3, 1), d(2026, 4, 6), "1000"),
            inv(today_id, "c", d(2026, 3, 1), d(2026, 4, 7), "1000"),
        ];
        let mut history: Vec<HistoryEntry> = Vec::new();
        let mut went: Vec<(String, DateTime<Utc>)> = Vec::new();
        for day in 6..=9 {
            let now = utc(2026, 4, day, 8, 0);
            let plan = planner
                .plan(&[cl("c", "UTC")], &items, &history, now, Horizon::NONE)
                .unwrap();
            for e in plan.due() {
                for i in e.items.iter() {
                    went.push((i.item.to_string(), now));
                }
                history.push(e.to_history(now));
            }
        }
        // Each reminder's instant is 09:00 of its due date; the first tick at or after it is
        // 08:00 the next day.
        for (id, due_day) in [(yesterday_id, 6), (today_id, 7)] {
            let expected = utc(2026, 4, due_day + 1, 8, 0);
            let got = went.iter().find(|(i, _)| i == id).map(|(_, t)| *t);
            if got != Some(expected) {
                problems.push(format!(
                    "{id} (due 2026-04-0{due_day}, instant 09:00): expected at {expected}, went at {got:?}"
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

// ---------------------------------------------------------------------------------------
// One bad record

/// A host's store holds one client whose contact address has a typo (no dot in the domain)
/// or whose balances add up past the largest amount. Every tick fails as a whole (`run`
/// logs it and goes on, failing again), so no client gets any reminder: one dirty row stops
/// all dunning, silently for the other clients.
#[tokio::test]
async fn one_invalid_client_does_not_stop_every_other_clients_reminders() {
    let good = cl("good", "UTC");
    let typo = Client::new("typo".parse().unwrap(), "Typo").with_contact(Contact::new("Ana", "ana@empresa"));
    let huge = cl("huge", "UTC");
    let clp = Currency::from_code("CLP").unwrap();
    let big = |id: &str| {
        common::invoice(
            id,
            "huge",
            d(2026, 3, 1),
            d(2026, 4, 1),
            Money::from_minor(i64::MAX / 2 + 1000, clp),
        )
    };
    let mut problems = Vec::new();
    for (name, bad_client, bad_items) in [
        (
            "a contact address without a dot",
            typo,
            vec![inv("T-1", "typo", d(2026, 3, 1), d(2026, 4, 1), "1000")],
        ),
        (
            "balances past i64::MAX",
            huge,
            vec![big("H-1"), big("H-2"), big("H-3")],
        ),
    ] {
        let mut items = bad_items;
        items.push(inv("G-1", "good", d(2026, 3, 1), d(2026, 4, 1), "1000"));
        let store = Arc::new(MemoryStore::new(vec![good.clone(), bad_client], items));
        let mailer = Arc::new(RecordingMailer::new());
        let disp = Dispatcher::new(store, mailer.clone(), &overdue_policy("UTC")).unwrap();
        let r = disp.tick(utc(2026, 4, 1, 12, 0)).await;
        if !mailer.sent().iter().any(|m| m.key.as_str() == "overdue/G-1/1") {
            problems.push(format!(
                "{name}: the good client's reminder did not go; tick: {:?}",
                r.map(|r| r.sends.len()).map_err(|e| e.to_string())
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// A payment link that is not `http`, `https` or `mailto` (a `javascript:` or `data:` link,
/// which a page would carry as a live link), or that holds a line break, is refused at
/// render with a typed error naming it; an ordinary link renders.
#[test]
fn a_payment_link_that_is_not_a_web_or_mail_link_is_refused() {
    let policy = overdue_policy("UTC");
    let client = Client::new("c".parse().unwrap(), "C").with_contact(Contact::new("Ana", "ana@example.com"));
    let item = inv("F-1", "c", d(2026, 3, 1), d(2026, 4, 1), "1000");
    let plan = Planner::new(&policy)
        .unwrap()
        .plan(
            &[client.clone()],
            &[item],
            &[],
            utc(2026, 4, 1, 12, 0),
            Horizon::NONE,
        )
        .unwrap();
    let messages = Messages::new(&policy).unwrap();
    let render = |link: &str| {
        messages.render(
            &plan.due()[0],
            &client,
            &RenderOptions::default().with_payment_link(link),
        )
    };
    for bad in [
        "javascript:alert(1)",
        " JavaScript:alert(1)",
        "data:text/html,<script>x</script>",
        "https://pay.example/\r\nBcc: x@y.z",
        "https://",
        "vbscript:x",
    ] {
        match render(bad) {
            Err(MessageError::UnsafeLink { value }) => assert_eq!(value, bad),
            other => panic!("{bad:?}: {other:?}"),
        }
    }
    for good in [
        "https://pay.example/F-1?a=1&b=2",
        "HTTP://pay.example/x",
        "mailto:pay@example.com",
    ] {
        let m = render(good).unwrap_or_else(|e| panic!("{good:?}: {e}"));
        assert!(m.text.contains(good), "{good:?}: {}", m.text);
    }
}

/// A locale that is not a language tag (it picks templates and is written into the page's
/// `lang` and, by mailers, into headers) is refused, naming the field, for a client and for
/// the policy.
#[test]
fn a_locale_that_is_not_a_language_tag_is_refused() {
    for bad in [
        "es\r\nBcc: x@y.z",
        "es\"><script>",
        "",
        "-es",
        "é",
        &"x".repeat(36),
    ] {
        let client = Client::new("c".parse().unwrap(), "C").with_locale(bad);
        match client.validate() {
            Err(ValidationError::InvalidSetting { field, value, .. }) => {
                assert_eq!((field.as_str(), value.as_str()), ("client c: locale", bad));
            }
            other => panic!("{bad:?}: {other:?}"),
        }
        let mut policy = overdue_policy("UTC");
        policy.locale = bad.into();
        match policy.validate() {
            Err(ValidationError::InvalidSetting { field, .. }) => assert_eq!(field, "policy: locale"),
            other => panic!("{bad:?}: {other:?}"),
        }
    }
    for good in ["es", "es-CL", "pt_BR", "zh-Hant-TW", "en"] {
        assert!(
            Client::new("c".parse().unwrap(), "C")
                .with_locale(good)
                .validate()
                .is_ok(),
            "{good}"
        );
    }
}

/// A logo link or a colour reaches an HTML attribute (`<img src>`, `style`): one that would
/// carry a live script link or a style of its own is refused with a typed error naming the
/// field, as a payment link is; the usual values are accepted.
#[test]
fn branding_that_would_carry_a_link_or_style_of_its_own_is_refused() {
    let refused = [
        ("logo_url", "javascript:alert(1)"),
        ("logo_url", "\" onerror=\"alert(1)"),
        ("logo_url", "https://x.example/a b.png"),
        ("logo_url", "data:image/svg+xml,<svg onload=alert(1)>"),
        ("logo_url", "https://"),
        ("logo_url", "//x.example/l.png"),
        ("primary_color", "red;}</style><script>x</script>"),
        ("primary_color", "red;background-image:url(https://x.example/t)"),
        ("primary_color", ""),
        ("primary_color", "#12"),
        ("primary_color", "#ggg"),
        ("secondary_color", "expression(alert(1))"),
        ("secondary_color", "rgb(1,2,3);x:y"),
        ("secondary_color", "url(https://x.example)"),
    ];
    for (field, value) in refused {
        let mut p = overdue_policy("UTC");
        match field {
            "logo_url" => p.branding.logo_url = value.into(),
            "primary_color" => p.branding.primary_color = value.into(),
            _ => p.branding.secondary_color = value.into(),
        }
        let err = Planner::new(&p).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(
            err.contains(&format!("branding.{field}")) && err.contains(&format!("{value:?}")),
            "{field} = {value:?}: {err:?}"
        );
        assert!(Messages::new(&p).is_err(), "{field} = {value:?}");
    }
    let accepted = [
        ("logo_url", ""),
        ("logo_url", "https://x.example/logo.png?v=2&x=1"),
        ("logo_url", "HTTP://x.example/l.png"),
        ("logo_url", "cid:logo@x.example"),
        ("primary_color", "#1f4e79"),
        ("primary_color", "#FFF"),
        ("primary_color", "#1f4e79cc"),
        ("primary_color", "navy"),
        ("secondary_color", "rgba(31, 78, 121, 0.5)"),
        ("secondary_color", "hsl(210deg 60% 30%)"),
    ];
    for (field, value) in accepted {
        let mut p = overdue_policy("UTC");
        match field {
            "logo_url" => p.branding.logo_url = value.into(),
            "primary_color" => p.branding.primary_color = value.into(),
            _ => p.branding.secondary_color = value.into(),
        }
        assert!(Planner::new(&p).is_ok(), "{field} = {value:?}");
        assert!(Messages::new(&p).is_ok(), "{field} = {value:?}");
    }
}
