//! Plan computation over generated portfolios, compared in the same run with a bare scan of
//! the same input (summing balances), so the ratio holds on a noisy machine, and with three
//! lower bounds of the planner's work in its data model: checking the input alone, building
//! the plan's records alone, and finding the history's items alone.
//!
//! Run: `cargo bench --bench plan`.

use std::hint::black_box;

use chrono::{TimeZone as _, Utc};

mod common;
use common::{policy, portfolio, sizes, steady_history, unlike};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use dunning::*;

fn bare_scan(items: &[Item]) -> i64 {
    items
        .iter()
        .map(|i| i.total.map_or(0, |t| t.minor()) - i.applied.iter().map(|a| a.amount.minor()).sum::<i64>())
        .sum()
}

/// What a plan's records alone cost: each event and suppression built afresh (its own key,
/// item list and adjustments, as the planner builds them) and dropped, with no planning.
fn records_only(plan: &Plan) -> usize {
    let fresh = |e: &Event| Event {
        key: EventKey::from(e.key.as_str()),
        items: e.items.to_vec(),
        why: Why {
            adjustments: e.why.adjustments.to_vec(),
            ..e.why.clone()
        },
        ..e.clone()
    };
    let due: Vec<Event> = plan.due().iter().map(fresh).collect();
    let suppressed: Vec<Suppressed> = plan
        .suppressed()
        .iter()
        .map(|s| Suppressed {
            key: EventKey::from(s.key.as_str()),
            ..s.clone()
        })
        .collect();
    due.len() + suppressed.len()
}

/// What finding each history entry's items costs alone: one hash lookup per entry by item id.
fn history_join_only(items: &[Item], history: &[HistoryEntry]) -> u64 {
    let mut pos: rustc_hash::FxHashMap<&str, u32> = rustc_hash::FxHashMap::default();
    pos.reserve(items.len());
    for (i, it) in items.iter().enumerate() {
        pos.insert(it.id.as_str(), u32::try_from(i).unwrap_or(u32::MAX));
    }
    history
        .iter()
        .flat_map(|h| &h.items)
        .filter_map(|hi| pos.get(hi.item.as_str()))
        .map(|&p| u64::from(p))
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
        // The same decisions as compact records that refer to the input (what `plan` makes
        // owned afterwards).
        let schedule_due_now = |b: &mut criterion::Bencher, p: &common::Portfolio| {
            b.iter(|| {
                planner
                    .schedule(&p.clients, &p.items, &p.history, black_box(now), Horizon::NONE)
                    .unwrap()
                    .due()
                    .len()
            })
        };
        group.bench_with_input(BenchmarkId::new("schedule_due_now", n), &p, schedule_due_now);
        // Items seldom alike (each its own due date, repeating every 149,550 items): the plan
        // shares few plans between items, and stops looking for items alike early.
        let unlike = unlike(&p);
        group.bench_with_input(
            BenchmarkId::new("schedule_due_now_unlike", n),
            &unlike,
            schedule_due_now,
        );
        drop(unlike);
        // The same schedule of clients and items checked and indexed once beforehand (a host
        // that plans one portfolio many times pays that once).
        let checked = planner.portfolio(&p.clients, &p.items).unwrap();
        group.bench_with_input(BenchmarkId::new("portfolio_schedule_due_now", n), &p, |b, p| {
            b.iter(|| {
                checked
                    .schedule(&p.history, black_box(now), Horizon::NONE)
                    .unwrap()
                    .due()
                    .len()
            })
        });
        drop(checked);
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
        // What every plan does first: the input checks (unique ids, known clients, valid
        // items and clients) and the indexes they build.
        group.bench_with_input(BenchmarkId::new("checks_only", n), &p, |b, p| {
            b.iter(|| planner.check(black_box(&p.clients), &p.items).unwrap())
        });
        // Lower bounds of the cold plan in this data model: its records, built and dropped.
        group.bench_with_input(BenchmarkId::new("records_only", n), &due_only, |b, plan| {
            b.iter(|| records_only(black_box(plan)))
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
        group.bench_with_input(
            BenchmarkId::new("schedule_due_now_steady", n),
            &p,
            schedule_due_now,
        );
        // A lower bound of the steady plan: finding the history's items, nothing else.
        group.bench_with_input(BenchmarkId::new("history_join_only", n), &p, |b, p| {
            b.iter(|| history_join_only(&p.items, black_box(&p.history)))
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
        // The same history as a store ordered by item would list it.
        p.history.sort_by(|a, b| {
            (a.items.first().map(|i| &i.item), a.sent_at).cmp(&(b.items.first().map(|i| &i.item), b.sent_at))
        });
        group.bench_with_input(BenchmarkId::new("plan_due_now_steady_by_item", n), &p, |b, p| {
            b.iter(|| {
                planner
                    .plan(&p.clients, &p.items, &p.history, black_box(now), Horizon::NONE)
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

/// One invoice under a daily rule of the largest count, planned over horizons up to the
/// largest: time per event must stay flat (it grew with the square of the horizon when each
/// occurrence scanned every send before it). Cold (no history) and with the history of every
/// event of the horizon before.
fn bench_long_horizon(c: &mut Criterion) {
    use chrono::NaiveDate;
    let policy = Policy::new(TimeZone::UTC)
        .with_rule(Rule::new("daily".parse().unwrap(), Anchor::Due, 0).repeat(1, limits::MAX_COUNT))
        .with_rule(Rule::new("weekly".parse().unwrap(), Anchor::Due, 3).repeat(7, 1000));
    let planner = Planner::new(&policy).unwrap();
    let clients = [Client::new("c".parse().unwrap(), "C").with_contact(Contact::new("a", "a@b.example"))];
    let usd = Currency::from_code("USD").unwrap();
    let day = |d| NaiveDate::from_ymd_opt(2026, 1, d).unwrap();
    let items = [Item::invoice(
        "F-1".parse().unwrap(),
        "c".parse().unwrap(),
        day(1),
        Money::from_minor(1000, usd),
    )
    .due(day(2))];
    let now = Utc.with_ymd_and_hms(2026, 1, 2, 12, 0, 0).unwrap();
    let mut group = c.benchmark_group("long_horizon");
    group.sample_size(10);
    for days in [1_000u32, limits::MAX_HORIZON_DAYS] {
        let horizon = Horizon::days(days);
        let history: Vec<HistoryEntry> = planner
            .plan(&clients, &items, &[], now, horizon)
            .unwrap()
            .events()
            .map(|e| e.to_history(e.send_at))
            .collect();
        let later = now + chrono::Duration::days(i64::from(days));
        group.throughput(Throughput::Elements(u64::from(days)));
        group.bench_function(BenchmarkId::new("cold", days), |b| {
            b.iter(|| {
                planner
                    .plan(&clients, &items, &[], black_box(now), horizon)
                    .unwrap()
            })
        });
        group.bench_function(BenchmarkId::new("with_history", days), |b| {
            b.iter(|| {
                planner
                    .plan(&clients, &items, &history, black_box(later), horizon)
                    .unwrap()
            })
        });
    }
    group.finish();
}

/// A thousand invoices overdue for years under a daily rule of the largest count, beaten by a
/// final notice that goes (cold) or went (with its history): each daily occurrence before
/// the notice's day is superseded by it. And under a daily rule with an expiry (`expired`):
/// each repeat before the latest is dropped as too late. Time per invoice must not grow with
/// how long ago the invoice fell due (it did when each occurrence was stepped through, one
/// by one: 100-240 µs an invoice for 26 years).
fn bench_superseded_runs(c: &mut Criterion) {
    use chrono::NaiveDate;
    let policy = Policy::new(TimeZone::UTC)
        .with_rule(Rule::new("daily".parse().unwrap(), Anchor::Due, 1).repeat(1, limits::MAX_COUNT))
        .with_rule(Rule::new("final".parse().unwrap(), Anchor::Due, 2));
    let planner = Planner::new(&policy).unwrap();
    let client = Client::new("c".parse().unwrap(), "C").with_contact(Contact::new("a", "a@b.example"));
    let eur = Currency::from_code("EUR").unwrap();
    let now = Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap();
    let mut group = c.benchmark_group("superseded_runs");
    group.sample_size(10);
    for years in [1i32, 26] {
        let due = NaiveDate::from_ymd_opt(2026 - years, 1, 31).unwrap();
        let items: Vec<Item> = (0..1000)
            .map(|i| {
                Item::invoice(
                    format!("i{i:05}").parse().unwrap(),
                    client.id.clone(),
                    due,
                    Money::from_minor(100, eur),
                )
                .due(due)
            })
            .collect();
        let history: Vec<HistoryEntry> = items
            .iter()
            .map(|it| HistoryEntry {
                key: EventKey::from(format!("final/{}/1", it.id)),
                rule: Some("final".parse().unwrap()),
                client: client.id.clone(),
                items: vec![HistoryItem {
                    item: it.id.clone(),
                    occurrence: 1,
                }],
                sent_at: now - chrono::Duration::days(2),
                outcome: HistoryOutcome::Sent,
            })
            .collect();
        let clients = [client.clone()];
        group.throughput(Throughput::Elements(items.len() as u64));
        group.bench_function(BenchmarkId::new("cold", years), |b| {
            b.iter(|| {
                planner
                    .plan(&clients, &items, &[], black_box(now), Horizon::NONE)
                    .unwrap()
            })
        });
        group.bench_function(BenchmarkId::new("with_history", years), |b| {
            b.iter(|| {
                planner
                    .plan(&clients, &items, &history, black_box(now), Horizon::NONE)
                    .unwrap()
            })
        }); // The same invoices under a daily rule with an expiry, alone: in a catch-up each of
        // its repeats is dropped as too late, but the latest.
        let expiring = Planner::new(
            &Policy::new(TimeZone::UTC)
                .with_calendar(BusinessCalendar::new(
                    [chrono::Weekday::Sat, chrono::Weekday::Sun],
                    [],
                ))
                .with_rule(
                    Rule::new("daily".parse().unwrap(), Anchor::Due, 1)
                        .repeat(1, limits::MAX_COUNT)
                        .expires_after(2),
                ),
        )
        .unwrap();
        group.bench_function(BenchmarkId::new("expired", years), |b| {
            b.iter(|| {
                expiring
                    .plan(&clients, &items, &[], black_box(now), Horizon::NONE)
                    .unwrap()
            })
        });
    }
    group.finish();
}

criterion_group!(
    benches,
    bench_plan,
    bench_render,
    bench_long_horizon,
    bench_superseded_runs
);
criterion_main!(benches);
