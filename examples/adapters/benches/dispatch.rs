//! Dispatch throughput through the SQLite example store with a recording mailer.
//!
//! ```text
//! cargo bench -p dunning-adapters
//! ```

use chrono::{NaiveDate, TimeZone as _, Utc};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use dunning::*;
use dunning_adapters::sqlite_store;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
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
                    .unwrap()
            },
            |dispatcher| {
                let report = rt.block_on(dispatcher.tick(now)).unwrap();
                assert_eq!(report.sent().count(), n);
            },
            criterion::BatchSize::PerIteration,
        )
    });
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, bench_dispatch);
criterion_main!(benches);
