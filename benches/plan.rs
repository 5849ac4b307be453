//! Plan computation over generated portfolios, compared in the same run with a bare scan of
//! the same input (summing balances), so the ratio holds on a noisy machine.
//!
//! Run: `cargo bench --bench plan`.

use std::hint::black_box;

use chrono::{Duration, NaiveDate, TimeZone as _, Utc};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use dunning::*;

#[path = "../examples/adapters/sqlite_store.rs"]
mod sqlite_store;

const ZONES: [&str; 5] = [
    "America/Santiago",
    "Europe/Madrid",
    "America/Mexico_City",
    "UTC",
    "Asia/Tokyo",
];

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn policy() -> Policy {
    let r = |id: &str, a, o| Rule::new(id.parse().unwrap(), a, o);
    Policy::new(TimeZone::from_name("America/Santiago").unwrap())
        .with_calendar(BusinessCalendar::new(
            [chrono::Weekday::Sat, chrono::Weekday::Sun],
            [
                d(2026, 1, 1),
                d(2026, 4, 3),
                d(2026, 5, 1),
                d(2026, 5, 21),
                d(2026, 9, 18),
                d(2026, 12, 25),
            ],
        ))
        .with_rule(r("issued", Anchor::Issued, 0))
        .with_rule(r("due-soon", Anchor::Due, -5))
        .with_rule(r("due-today", Anchor::Due, 0))
        .with_rule(r("overdue", Anchor::Due, 3).repeat(7, 4))
        .with_rule(Rule::pending_action("pending".parse().unwrap()))
        .with_rule(Rule::thank_you("thanks".parse().unwrap()))
        .with_statement(StatementRule::new(
            "statement".parse().unwrap(),
            "FREQ=MONTHLY;BYMONTHDAY=1",
            d(2026, 1, 1),
        ))
        .with_standing(StandingRule::new(45, 90))
}

struct Portfolio {
    clients: Vec<Client>,
    items: Vec<Item>,
    history: Vec<HistoryEntry>,
}

/// `n` invoices, 10 per client, clients in 5 time zones, 20% with history, 10% partly paid.
fn portfolio(n: usize) -> Portfolio {
    let clp = Currency::from_code("CLP").unwrap();
    let eur = Currency::from_code("EUR").unwrap();
    let mut clients = Vec::with_capacity(n / 10);
    let mut items = Vec::with_capacity(n);
    let mut history = Vec::new();
    for c in 0..n.div_ceil(10) {
        let id: ClientId = format!("c{c:07}").parse().unwrap();
        let zone = TimeZone::from_name(ZONES[c % ZONES.len()]).unwrap();
        clients.push(
            Client::new(id.clone(), format!("Client {c}"))
                .with_time_zone(zone)
                .with_contact(Contact::new("Billing", format!("billing@c{c}.example"))),
        );
        for k in 0..10.min(n - c * 10) {
            let i = c * 10 + k;
            let issued = d(2026, 1, 1) + Duration::days((i % 150) as i64);
            let cur = if c % 3 == 0 { eur } else { clp };
            let mut item = Item::invoice(
                format!("i{i:08}").parse().unwrap(),
                id.clone(),
                issued,
                Money::from_minor(100_000 + (i as i64 % 7) * 1_000, cur),
            );
            if i % 10 == 3 {
                item = item.paid(Money::from_minor(40_000, cur), issued + Duration::days(3));
            }
            if i % 5 == 1 {
                history.push(HistoryEntry {
                    key: EventKey::from(format!("issued/{}/1", item.id)),
                    rule: Some("issued".parse().unwrap()),
                    client: id.clone(),
                    items: vec![HistoryItem {
                        item: item.id.clone(),
                        occurrence: 1,
                    }],
                    sent_at: Utc.from_utc_datetime(&issued.and_hms_opt(13, 0, 0).unwrap()),
                });
            }
            items.push(item);
        }
    }
    Portfolio {
        clients,
        items,
        history,
    }
}

/// The history a host would have if it had run every day since January: every event the
/// planner forecast from 2026-01-01 that falls before `now`, recorded as sent on time.
fn steady_history(planner: &Planner, p: &Portfolio, now: chrono::DateTime<Utc>) -> Vec<HistoryEntry> {
    let start = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    let days = u32::try_from((now - start).num_days()).unwrap();
    // In chunks of clients, so the forecast's events never all exist at once.
    let mut history = Vec::new();
    for (chunk, clients) in p.clients.chunks(1000).enumerate() {
        let items = &p.items[chunk * 10_000..(chunk * 10_000 + 10_000).min(p.items.len())];
        let forecast = planner
            .plan(clients, items, &[], start, Horizon::days(days))
            .unwrap();
        history.extend(
            forecast
                .events()
                .filter(|e| e.send_at < now)
                .map(|e| e.to_history(e.send_at)),
        );
    }
    history
}

fn bare_scan(items: &[Item]) -> i64 {
    items
        .iter()
        .map(|i| i.total.map_or(0, |t| t.minor()) - i.applied.iter().map(|a| a.amount.minor()).sum::<i64>())
        .sum()
}

fn bench_plan(c: &mut Criterion) {
    let planner = Planner::new(&policy()).unwrap();
    let now = Utc.with_ymd_and_hms(2026, 5, 15, 14, 0, 0).unwrap();
    let sizes: Vec<usize> = std::env::var("DUNNING_BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![10_000, 100_000, 1_000_000]);
    let mut group = c.benchmark_group("plan");
    group.sample_size(10);
    for n in sizes {
        let mut p = portfolio(n);
        let sample = planner
            .plan(&p.clients, &p.items, &p.history, now, Horizon::days(30))
            .unwrap();
        let due_only = planner
            .plan(&p.clients, &p.items, &p.history, now, Horizon::NONE)
            .unwrap();
        eprintln!(
            "{n} invoices: 30-day plan has {} due, {} upcoming, {} suppressed; due-now plan {} suppressed",
            sample.due().len(),
            sample.upcoming().len(),
            sample.suppressed().len(),
            due_only.suppressed().len()
        );
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::new("plan_due_now", n), &p, |b, p| {
            b.iter(|| {
                planner
                    .plan(&p.clients, &p.items, &p.history, black_box(now), Horizon::NONE)
                    .unwrap()
            })
        });
        group.bench_with_input(BenchmarkId::new("plan_30_days", n), &p, |b, p| {
            b.iter(|| {
                planner
                    .plan(
                        &p.clients,
                        &p.items,
                        &p.history,
                        black_box(now),
                        Horizon::days(30),
                    )
                    .unwrap()
            })
        });
        group.bench_with_input(BenchmarkId::new("bare_scan", n), &p, |b, p| {
            b.iter(|| bare_scan(black_box(&p.items)))
        });
        let steady_history = steady_history(&planner, &p, now);
        let cold_history = std::mem::replace(&mut p.history, steady_history);
        let steady = planner
            .plan(&p.clients, &p.items, &p.history, now, Horizon::NONE)
            .unwrap();
        eprintln!(
            "{n} invoices in steady state ({} history entries): {} due, {} suppressed",
            p.history.len(),
            steady.due().len(),
            steady.suppressed().len()
        );
        group.bench_with_input(BenchmarkId::new("plan_due_now_steady", n), &p, |b, p| {
            b.iter(|| {
                planner
                    .plan(&p.clients, &p.items, &p.history, black_box(now), Horizon::NONE)
                    .unwrap()
            })
        });
        group.bench_with_input(BenchmarkId::new("plan_30_days_steady", n), &p, |b, p| {
            b.iter(|| {
                planner
                    .plan(
                        &p.clients,
                        &p.items,
                        &p.history,
                        black_box(now),
                        Horizon::days(30),
                    )
                    .unwrap()
            })
        });
        p.history = cold_history;
    }
    group.finish();
}

fn bench_render(c: &mut Criterion) {
    let policy = policy();
    let planner = Planner::new(&policy).unwrap();
    let messages = Messages::new(&policy).unwrap();
    let p = portfolio(2_000);
    let now = Utc.with_ymd_and_hms(2026, 5, 15, 14, 0, 0).unwrap();
    let plan = planner
        .plan(&p.clients, &p.items, &p.history, now, Horizon::NONE)
        .unwrap();
    let events: Vec<(&Event, &Client)> = plan
        .due()
        .iter()
        .filter_map(|e| p.clients.iter().find(|c| c.id == e.client).map(|c| (e, c)))
        .take(1000)
        .collect();
    let mut group = c.benchmark_group("render");
    group.sample_size(10);
    group.throughput(Throughput::Elements(events.len() as u64));
    group.bench_function("messages", |b| {
        b.iter(|| {
            for (e, client) in &events {
                black_box(messages.render(e, client, &RenderOptions::default()).unwrap());
            }
        })
    });
    group.finish();
}

/// Dispatch throughput: one tick sending `n` due events through the SQLite store (a fresh
/// database file each time) and a recording mailer.
fn bench_dispatch(c: &mut Criterion) {
    let n = 2_000usize;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let policy = Policy::new(TimeZone::from_name("America/Santiago").unwrap()).with_rule(Rule::new(
        "due-today".parse().unwrap(),
        Anchor::Due,
        0,
    ));
    let clp = Currency::from_code("CLP").unwrap();
    let clients: Vec<Client> = (0..n / 4)
        .map(|c| {
            Client::new(format!("c{c}").parse().unwrap(), format!("Client {c}"))
                .with_contact(Contact::new("Billing", format!("billing@c{c}.example")))
        })
        .collect();
    let items: Vec<Item> = (0..n)
        .map(|i| {
            Item::invoice(
                format!("i{i}").parse().unwrap(),
                format!("c{}", i / 4).parse().unwrap(),
                d(2026, 3, 2),
                Money::from_minor(100_000, clp),
            )
            .due(d(2026, 4, 1))
        })
        .collect();
    let now = Utc.with_ymd_and_hms(2026, 4, 1, 14, 0, 0).unwrap();
    let dir = std::env::temp_dir().join(format!("dunning-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut round = 0;
    let mut group = c.benchmark_group("dispatch");
    group.sample_size(10);
    group.throughput(Throughput::Elements(n as u64));
    group.bench_function("sqlite_tick", |b| {
        b.iter_batched(
            || {
                round += 1;
                let path = dir.join(format!("db{round}.sqlite"));
                let store = sqlite_store::SqliteStore::open(&path).unwrap();
                store.put_clients(&clients).unwrap();
                store.put_items(&items).unwrap();
                let store = std::sync::Arc::new(store);
                Dispatcher::new(store, std::sync::Arc::new(RecordingMailer::new()), &policy)
                    .unwrap()
                    .with_options(
                        DispatchOptions::default()
                            .with_per_tick_limit(n)
                            .with_concurrency(8),
                    )
            },
            |dispatcher| {
                let report = rt.block_on(dispatcher.tick(now)).unwrap();
                assert_eq!(report.sent.len(), n);
            },
            criterion::BatchSize::PerIteration,
        )
    });
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, bench_plan, bench_render, bench_dispatch);
criterion_main!(benches);
