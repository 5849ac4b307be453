//! Scale-out figures, in one run:
//! - dispatch throughput (events sent a second, through a recording mailer) with 1, 2 and 4
//!   workers sharing one PostgreSQL database, each ticking its shard, and with one worker on
//!   a SQLite file;
//! - loading one shard (1/4) of a 1M-invoice portfolio from PostgreSQL, against planning the
//!   same shard from memory.
//!
//! ```text
//! . .ci/postgres                                   # a throwaway server (DUNNING_PG_URL)
//! cargo bench -p dunning-adapters --bench scale
//! ```
//!
//! `DUNNING_BENCH_EVENTS` (20000) sets the events a dispatch run sends,
//! `DUNNING_BENCH_CONCURRENCY` (64) the sends each worker has in flight,
//! `DUNNING_BENCH_WORKERS` (1,2,4) the PostgreSQL worker counts, and
//! `DUNNING_BENCH_INVOICES` (1000000) the portfolio whose shard is loaded
//! (`DUNNING_BENCH_REUSE=1` keeps its database for the next run). Without
//! `DUNNING_PG_URL` only the SQLite figure is measured. Workers are dispatchers in this
//! process, each with its own connection pool, ticking at once on a two-thread runtime.

// A benchmark measures wall time: it reads the clock.
#![allow(clippy::disallowed_methods)]

#[path = "../../../benches/common/mod.rs"]
#[allow(dead_code)]
mod common;
#[path = "../tests/support/mod.rs"]
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{NaiveDate, TimeZone as _, Utc};
use dunning::store::DispatchStore;
use dunning::*;
use dunning_adapters::pg_store::PgStore;
use dunning_adapters::sqlite_store::SqliteStore;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().replace('_', "").parse().ok())
        .unwrap_or(default)
}

/// `n` invoices due on 2026-04-01, four a client, under one rule that sends on the due date:
/// `n` events due at the tick, each its own message.
fn dispatch_portfolio(n: usize) -> (Policy, Vec<Client>, Vec<Item>) {
    let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
    let policy = Policy::new(TimeZone::from_name("America/Santiago").unwrap()).with_rule(Rule::new(
        "due-today".parse().unwrap(),
        Anchor::Due,
        0,
    ));
    let clp = Currency::from_code("CLP").unwrap();
    let clients = (0..n.div_ceil(4))
        .map(|c| {
            Client::new(format!("c{c}").parse().unwrap(), format!("Client {c}"))
                .with_contact(Contact::new("Billing", format!("billing@c{c}.example")))
        })
        .collect();
    let items = (0..n)
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
    (policy, clients, items)
}

/// Ticks `stores.len()` dispatchers at once, dispatcher k on shard k of n; the seconds it
/// took and the events sent in all.
async fn dispatch(stores: Vec<Arc<dyn Store>>, policy: &Policy, concurrency: usize) -> (f64, usize) {
    let n = u32::try_from(stores.len()).unwrap();
    let now = Utc.with_ymd_and_hms(2026, 4, 1, 14, 0, 0).unwrap();
    let dispatchers: Vec<Dispatcher> = stores
        .into_iter()
        .enumerate()
        .map(|(k, store)| {
            let shard = if n == 1 {
                Shard::ALL
            } else {
                Shard::new(u32::try_from(k).unwrap(), n).unwrap()
            };
            Dispatcher::new(store, Arc::new(RecordingMailer::new()), policy)
                .unwrap()
                .with_options(
                    DispatchOptions::default()
                        .with_per_tick_limit(usize::MAX)
                        .with_concurrency(concurrency)
                        .with_shard(shard),
                )
                .unwrap()
        })
        .collect();
    let started = Instant::now();
    let ticks = dispatchers
        .into_iter()
        .map(|d| tokio::spawn(async move { d.tick(now).await }));
    let mut sent = 0;
    for t in futures_util::future::join_all(ticks).await {
        sent += t.unwrap().unwrap().sent().count();
    }
    (started.elapsed().as_secs_f64(), sent)
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let pg = std::env::var("DUNNING_PG_URL").ok().filter(|u| !u.is_empty());
    if pg.is_none() {
        eprintln!(
            "DUNNING_PG_URL is not set: only the SQLite figure is measured (`. .ci/postgres` starts a server)"
        );
    }
    let events = env_usize("DUNNING_BENCH_EVENTS", 20_000);
    let concurrency = env_usize("DUNNING_BENCH_CONCURRENCY", 64);
    let (policy, clients, items) = dispatch_portfolio(events);
    println!(
        "dispatch: {events} events due at one tick, recording mailer, concurrency {concurrency} a worker"
    );
    if let Some(url) = &pg {
        let counts: Vec<usize> = std::env::var("DUNNING_BENCH_WORKERS")
            .ok()
            .map(|v| v.split(',').filter_map(|w| w.trim().parse().ok()).collect())
            .unwrap_or_else(|| vec![1, 2, 4]);
        for workers in counts {
            let (elapsed, sent) = rt.block_on(async {
                let (config, _) = support::fresh_pg_database(url, "bench").await;
                let mut stores: Vec<Arc<dyn Store>> = Vec::new();
                for k in 0..workers {
                    let store = PgStore::connect_with(config.clone(), 8).await.unwrap();
                    if k == 0 {
                        store.put_clients(&clients).await.unwrap();
                        store.put_items(&items).await.unwrap();
                    }
                    stores.push(Arc::new(store));
                }
                dispatch(stores, &policy, concurrency).await
            });
            assert_eq!(sent, events, "every due event sent once");
            println!(
                "  postgres, {workers} worker(s): {:>7.0} events/s ({sent} in {:.2} s)",
                sent as f64 / elapsed,
                elapsed
            );
        }
    }
    let dir = support::TempDir::new("bench-scale");
    let (elapsed, sent) = rt.block_on(async {
        let store = SqliteStore::open(dir.file("db.sqlite")).unwrap();
        store.put_clients(&clients).unwrap();
        store.put_items(&items).unwrap();
        dispatch(vec![Arc::new(store)], &policy, concurrency).await
    });
    assert_eq!(sent, events, "every due event sent once");
    println!(
        "  sqlite, 1 worker:      {:>7.0} events/s ({sent} in {:.2} s)",
        sent as f64 / elapsed,
        elapsed
    );

    let Some(url) = &pg else { return };
    let invoices = env_usize("DUNNING_BENCH_INVOICES", 1_000_000);
    let p = common::portfolio(invoices);
    let shard = Shard::new(0, 4).unwrap();
    let planner = Planner::new(&common::policy()).unwrap();
    let now = Utc.with_ymd_and_hms(2026, 5, 15, 14, 0, 0).unwrap();
    rt.block_on(async {
        // DUNNING_BENCH_REUSE=1 keeps the portfolio's database between runs
        // (`dunning_bench_load_<invoices>`), written once.
        let reuse = std::env::var_os("DUNNING_BENCH_REUSE").is_some();
        let config = if reuse {
            let mut config: tokio_postgres::Config = url.parse().unwrap();
            let db = format!("dunning_bench_load_{invoices}");
            let (admin, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.unwrap();
            let driver = tokio::spawn(connection);
            let _ = admin.batch_execute(&format!("CREATE DATABASE {db}")).await;
            drop(admin);
            let _ = driver.await;
            config.dbname(&db);
            config
        } else {
            support::fresh_pg_database(url, "bench_load").await.0
        };
        let store = PgStore::connect_with(config, 8).await.unwrap();
        let started = Instant::now();
        let written = if reuse && !store.is_empty().await.unwrap() {
            "reused".to_owned()
        } else {
            let timed = Instant::now();
            store.put_clients(&p.clients).await.unwrap();
            let clients = timed.elapsed().as_secs_f64();
            store.put_items(&p.items).await.unwrap();
            let items = timed.elapsed().as_secs_f64() - clients;
            store.put_history(&p.history).await.unwrap();
            let history = timed.elapsed().as_secs_f64() - clients - items;
            format!("written: clients {clients:.1} s, items {items:.1} s, history {history:.1} s,")
        };
        println!(
            "load vs plan: {invoices} invoices, {} clients, {} history entries ({written} in {:.1} s); shard {shard}",
            p.clients.len(),
            p.history.len(),
            started.elapsed().as_secs_f64()
        );
        let best = |mut runs: Vec<Duration>| {
            runs.sort();
            runs[0]
        };
        // Each measured as a worker meets it at its ticks: after a first, not measured (the
        // pool's connections opened, their statements prepared, the planner's tables
        // allocated), the best of five.
        let mut loads = Vec::new();
        let mut loaded = Some(store.load_shard(shard).await.unwrap());
        for _ in 0..5 {
            // The last load's snapshot is dropped before the clock starts (freeing it is
            // not loading this one).
            drop(loaded.take());
            let started = Instant::now();
            loaded = Some(store.load_shard(shard).await.unwrap());
            loads.push(started.elapsed());
        }
        let loaded = loaded.unwrap();
        let mut plans = Vec::new();
        let mut due = 0;
        planner
            .schedule(&loaded.clients, &loaded.items, &loaded.history, now, Horizon::NONE)
            .unwrap();
        for _ in 0..5 {
            let started = Instant::now();
            let schedule = planner
                .schedule(&loaded.clients, &loaded.items, &loaded.history, now, Horizon::NONE)
                .unwrap();
            plans.push(started.elapsed());
            due = schedule.due().len();
        }
        let (load, plan) = (best(loads), best(plans));
        println!(
            "  shard {shard}: {} invoices, {} clients, {} history entries; {due} due",
            loaded.items.len(),
            loaded.clients.len(),
            loaded.history.len()
        );
        println!(
            "  load from postgres {:>8.1} ms, plan from memory {:>8.1} ms: load / plan = {:.2}",
            load.as_secs_f64() * 1e3,
            plan.as_secs_f64() * 1e3,
            load.as_secs_f64() / plan.as_secs_f64()
        );
    });
}
