//! Plan computation over generated portfolios, compared in the same run with a bare scan of
//! the same input (summing balances), so the ratio holds on a noisy machine.
//!
//! Run: `cargo bench --bench plan`.

use std::hint::black_box;

use chrono::{TimeZone as _, Utc};

mod common;
use common::{d, policy, portfolio, sizes, steady_history};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use dunning::*;

#[path = "../examples/adapters/sqlite_store.rs"]
mod sqlite_store;

fn bare_scan(items: &[Item]) -> i64 {
    items
        .iter()
        .map(|i| i.total.map_or(0, |t| t.minor()) - i.applied.iter().map(|a| a.amount.minor()).sum::<i64>())
        .sum()
}

fn bench_plan(c: &mut Criterion) {
    let planner = Planner::new(&policy()).unwrap();
    let now = Utc.with_ymd_and_hms(2026, 5, 15, 14, 0, 0).unwrap();
    let sizes = sizes(&[10_000, 100_000, 1_000_000]);
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
