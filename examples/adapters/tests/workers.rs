//! Proof under faults: worker processes (the `worker` example) share one store through a
//! simulated month, each ticking its shard of the clients through each day on its own
//! clock (the morning's ticks, then the afternoon's); their mailers fail a fifth of sends
//! transiently, and on several half-days a random worker is killed with SIGKILL and started
//! again: mid-run, or held between a message going and its send being recorded. Payments
//! land before a day's ticks and between its morning and afternoon.
//! Compared with one worker running the same month without faults:
//! - no event key is sent twice, across all the workers' outboxes (at-most-once); under
//!   at-least-once, a key goes again only after its lease (a claim a kill left), and no
//!   more keys than the sends a kill can leave in flight;
//! - every key the single worker sent is sent exactly once, or its delivery is recorded as
//!   outcome unknown (at-most-once: a kill between the send and its record), or failed
//!   transiently at the month's last tick (its retry comes after the month);
//! - a key whose worker was killed between its send and its record is recorded outcome
//!   unknown (at-most-once) or goes again after its lease (at-least-once), unless the kill
//!   was too late in the month for a later tick to find it;
//! - nothing is sent about an invoice after its payment landed.
//!
//! On PostgreSQL with four workers (the server `DUNNING_PG_URL` names; skipped without
//! one unless `DUNNING_REQUIRE_PG` is set), and on one SQLite file with two.

#[path = "../../../tests/common/mod.rs"]
mod common;
mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};

use chrono::{DateTime, Duration, NaiveDate, Timelike as _, Utc};
use common::*;
use dunning::*;
use dunning_adapters::pg_store::PgStore;
use dunning_adapters::sqlite_store::SqliteStore;
use support::TempDir;

/// The `worker` example, built by `cargo test` beside the test binaries (built here if not).
fn worker_exe() -> PathBuf {
    let deps = std::env::current_exe().unwrap();
    let dir = deps.parent().unwrap().parent().unwrap();
    let exe = dir.join("examples").join("worker");
    if !exe.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "-p", "dunning-adapters", "--example", "worker"])
            .status()
            .unwrap();
        assert!(status.success(), "building the worker example failed");
    }
    exe
}

/// A small deterministic generator (the kill schedule and delays).
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

const ZONES: [&str; 3] = ["Europe/Madrid", "America/Santiago", "Pacific/Auckland"];

/// The portfolio: 30 clients in three zones, 150 invoices issued from March 10 on, and the
/// day each paid one is paid.
fn portfolio() -> (Vec<Client>, Vec<Item>, BTreeMap<String, NaiveDate>) {
    let clients: Vec<Client> = (0..30).map(|c| client(&format!("c{c}"), ZONES[c % 3])).collect();
    let mut paid = BTreeMap::new();
    let items: Vec<Item> = (0..150i64)
        .map(|n| {
            let issued = d(2026, 3, 10) + Duration::days(n % 45);
            let id = format!("F-{n}");
            if n % 5 == 2 {
                paid.insert(id.clone(), issued + Duration::days(12 + n % 17));
            }
            invoice(
                &id,
                &format!("c{}", n % 30),
                issued,
                issued + Duration::days(20),
                money("99.90", "EUR"),
            )
        })
        .collect();
    (clients, items, paid)
}

/// Where the workers' store lives.
enum Db {
    Postgres(Box<tokio_postgres::Config>, String),
    Sqlite(PathBuf),
}

impl Db {
    async fn store(&self) -> std::sync::Arc<dyn Store> {
        match self {
            Db::Postgres(config, _) => {
                std::sync::Arc::new(PgStore::connect_with((**config).clone(), 2).await.unwrap())
            }
            Db::Sqlite(path) => std::sync::Arc::new(SqliteStore::open(path).unwrap()),
        }
    }

    fn arg(&self) -> String {
        match self {
            Db::Postgres(_, url) => url.clone(),
            Db::Sqlite(path) => path.display().to_string(),
        }
    }

    async fn put(&self, clients: &[Client], items: &[Item]) {
        match self {
            Db::Postgres(config, _) => {
                let s = PgStore::connect_with((**config).clone(), 1).await.unwrap();
                s.put_clients(clients).await.unwrap();
                s.put_items(items).await.unwrap();
            }
            Db::Sqlite(path) => {
                let s = SqliteStore::open(path).unwrap();
                s.put_clients(clients).unwrap();
                s.put_items(items).unwrap();
            }
        }
    }
}

/// What a month of workers sent: every outbox line (key, instant); how many workers were
/// killed; and the keys whose worker was killed between their send and its record (and the
/// instant each went).
struct Month {
    sent: Vec<(String, DateTime<Utc>)>,
    kills: usize,
    between: Vec<(String, DateTime<Utc>)>,
}

/// How a month is run: fault-free (one worker), or with faults under a guarantee.
#[derive(Clone, Copy, PartialEq)]
enum Run {
    Clean,
    AtMostOnce,
    AtLeastOnce,
}

/// A worker of `shard` ticking `hours` of `day` (with its first send held `linger_ms`).
struct Spawn<'a> {
    db: &'a Db,
    day: NaiveDate,
    hours: &'a str,
    run: Run,
}

impl Spawn<'_> {
    fn worker(&self, shard: Shard, outbox: &Path, linger_ms: u64) -> Child {
        let faults = self.run != Run::Clean;
        let mut cmd = Command::new(worker_exe());
        cmd.args([
            "--db",
            &self.db.arg(),
            "--shard",
            &shard.to_string(),
            "--day",
            &self.day.to_string(),
            "--hours",
            self.hours,
            "--linger-ms",
            &linger_ms.to_string(),
        ])
        .arg("--outbox")
        .arg(outbox)
        .args(["--fail-permille", if faults { "200" } else { "0" }, "--seed", "7"]);
        if self.run == Run::AtLeastOnce {
            cmd.arg("--at-least-once");
        }
        cmd.spawn().unwrap()
    }
}

/// The instant a payment lands: before the day's ticks (06:00 UTC) for some invoices,
/// between the morning's last tick (12:00) and the afternoon's first (15:00) for others.
fn lands(item: &str, day: NaiveDate) -> DateTime<Utc> {
    let midday = item.trim_start_matches("F-").parse::<u32>().unwrap_or(0) % 2 == 1;
    day.and_hms_opt(if midday { 13 } else { 6 }, 0, 0)
        .unwrap()
        .and_utc()
}

/// Runs April with `workers` workers on `db`, killing one on some half-days when `faults`.
async fn month(db: &Db, dir: &Path, workers: u32, run: Run) -> Month {
    let faults = run != Run::Clean;
    let (clients, items, paid) = portfolio();
    let start = d(2026, 4, 1);
    // Paid before the month: paid from the start.
    let pay = |i: &Item, day: NaiveDate| i.clone().paid(i.total.unwrap(), day);
    let initial: Vec<Item> = items
        .iter()
        .map(|i| match paid.get(i.id.as_str()) {
            Some(&day) if day < start => pay(i, day),
            _ => i.clone(),
        })
        .collect();
    db.put(&clients, &initial).await;
    let mut rng = Lcg(20_261_203);
    let mut month = Month {
        sent: Vec::new(),
        kills: 0,
        between: Vec::new(),
    };
    let outbox = |k: u32| dir.join(format!("outbox-{k}.txt"));
    let mut day = start;
    while day <= d(2026, 4, 30) {
        for (hours, from, until) in [("0,2,5", 0, 7), ("8,11,14", 7, 24)] {
            // The payments landing before these ticks, after the previous ones.
            let landing: Vec<Item> = items
                .iter()
                .filter(|i| {
                    paid.get(i.id.as_str()).is_some_and(|&d| {
                        let at = lands(i.id.as_str(), d);
                        d == day && (from..until).contains(&at.hour())
                    })
                })
                .map(|i| pay(i, day))
                .collect();
            if !landing.is_empty() {
                db.put(&[], &landing).await;
            }
            let spawn = Spawn { db, day, hours, run };
            let victim = (faults && rng.below(5) < 2).then(|| {
                let victim = u32::try_from(rng.below(u64::from(workers))).unwrap();
                // Held between its first message and that send's record, or killed mid-run.
                (victim, rng.below(2) == 0, rng.below(2) + 1)
            });
            let mut children: Vec<(Shard, Child)> = Shard::all(workers)
                .map(|shard| {
                    let linger = match victim {
                        Some((v, true, _)) if v == shard.index() => 2_000,
                        _ => 0,
                    };
                    (shard, spawn.worker(shard, &outbox(shard.index()), linger))
                })
                .collect();
            if let Some((v, held, sends)) = victim {
                let v = v as usize;
                let file = outbox(children[v].0.index());
                let size = || std::fs::metadata(&file).map_or(0, |m| m.len());
                let before = size();
                // Held: killed once its first message is in the outbox (its send not yet
                // recorded). Mid-run: once its outbox has grown by a message or two.
                let enough = if held { 1 } else { sends * 30 };
                for _ in 0..3000 {
                    if size() >= before + enough || children[v].1.try_wait().unwrap().is_some() {
                        break;
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(1)).await;
                }
                let (shard, child) = &mut children[v];
                if child.try_wait().unwrap().is_none() {
                    let grown = size() > before;
                    child.kill().unwrap();
                    child.wait().unwrap();
                    month.kills += 1;
                    if held && grown {
                        // The first line written since it started: the message held
                        // between going and being recorded (others may have gone after it).
                        let text = std::fs::read(&file).unwrap();
                        let since =
                            String::from_utf8_lossy(&text[usize::try_from(before).unwrap()..]).into_owned();
                        let first = since.lines().next().unwrap();
                        let (key, at) = first.split_once('\t').unwrap();
                        month.between.push((key.to_owned(), at.parse().unwrap()));
                    }
                    children[v].1 = spawn.worker(*shard, &outbox(shard.index()), 0);
                }
            }
            for (shard, mut child) in children {
                let status = tokio::task::spawn_blocking(move || child.wait())
                    .await
                    .unwrap()
                    .unwrap();
                assert!(
                    status.success(),
                    "worker {shard} on {day} ({hours}) failed: {status}"
                );
            }
        }
        day += Duration::days(1);
    }
    for k in 0..workers {
        let Ok(text) = std::fs::read_to_string(outbox(k)) else {
            continue;
        };
        let shard = Shard::all(workers).nth(k as usize).unwrap();
        for line in text.lines() {
            let (key, at) = line.split_once('\t').unwrap();
            // Each worker sent about its own shard's clients only.
            let item = key.split('/').nth(1).unwrap();
            let owner = &items.iter().find(|i| i.id.as_str() == item).unwrap().client;
            assert!(shard.contains(owner), "worker {shard} sent {key}, of {owner}'s");
            month.sent.push((key.to_owned(), at.parse().unwrap()));
        }
    }
    month
}

/// The lease of the at-least-once workers (`worker --at-least-once`): longer than the two
/// hours between a day's first ticks, so a key sent again at the next tick is caught.
const LEASE: Duration = Duration::hours(3);

/// How far the workers' clocks may disagree (`worker` allows 2 s): a claim is taken again
/// only that much after its lease.
const SKEW: Duration = Duration::seconds(2);

/// Checks the promises of the fault run against the single worker's month.
async fn check(name: &str, run: Run, faulty: &Month, store: &dyn Store, single: &Month) {
    let (_, _, paid) = portfolio();
    let mut seen = BTreeSet::new();
    let mut first: BTreeMap<&str, DateTime<Utc>> = BTreeMap::new();
    let mut again = 0;
    for (key, at) in &faulty.sent {
        if seen.insert(key.clone()) {
            first.insert(key, *at);
            continue;
        }
        // Twice: only at-least-once, a claim a kill left, taken again after its lease.
        assert!(run == Run::AtLeastOnce, "{name}: {key} was sent twice");
        let was = first[key.as_str()];
        assert!(
            *at >= was + LEASE + SKEW,
            "{name}: {key} went at {was} and again at {at}, within its lease"
        );
        again += 1;
    }
    // A kill leaves at most `concurrency` (4) sends in flight.
    assert!(
        again <= 4 * faulty.kills,
        "{name}: {again} sent again after {} kills",
        faulty.kills
    );
    let (mut unknown, mut pending) = (Vec::new(), Vec::new());
    for (key, _) in &single.sent {
        if seen.contains(key) {
            continue;
        }
        match store.delivery(&EventKey::from(key.as_str())).await.unwrap() {
            Some(Delivery::Unknown { .. }) if run == Run::AtMostOnce => unknown.push(key.clone()),
            // Failed at the month's last tick: its retry is after the month.
            Some(Delivery::Retrying { not_before, .. }) if not_before > utc(2026, 4, 30, 21, 0) => {
                pending.push(key.clone());
            }
            other => panic!("{name}: {key}, sent by the single worker, was never sent: {other:?}"),
        }
    }
    let mut before_payment = 0;
    for (key, at) in &faulty.sent {
        let item = key.split('/').nth(1).unwrap();
        if let Some(&day) = paid.get(item) {
            before_payment += 1;
            let landed = lands(item, day);
            assert!(
                *at < landed,
                "{name}: {key} went at {at}, after {item}'s payment landed at {landed}"
            );
        }
    }
    // A key whose worker was killed between its send and its record: recorded outcome
    // unknown (at-most-once), or sent again after its lease (at-least-once), or recorded
    // unknown because by then its invoice was paid; still claimed only when no later tick of
    // the month could find it (killed on the last day).
    for (key, went) in &faulty.between {
        let again = faulty.sent.iter().filter(|(k, _)| k == key).count() > 1;
        let state = store.delivery(&EventKey::from(key.as_str())).await.unwrap();
        // Under at-least-once it is recorded unknown only when it was never to go again:
        // its invoice paid, or another reminder about it gone since (a later stage).
        let item = key.split('/').nth(1).unwrap();
        let stopped = paid.contains_key(item)
            || faulty
                .sent
                .iter()
                .any(|(k, at)| k != key && k.split('/').nth(1) == Some(item) && at > went);
        let found = match (run, &state) {
            (Run::AtMostOnce, Some(Delivery::Unknown { .. })) => true,
            (Run::AtLeastOnce, Some(Delivery::Unknown { .. })) => stopped && !again,
            (Run::AtLeastOnce, Some(Delivery::Sent { .. })) => again,
            (_, Some(Delivery::Claimed { .. })) => went.date_naive() == d(2026, 4, 30),
            _ => false,
        };
        assert!(
            found,
            "{name}: {key}, killed between its send at {went} and its record: {state:?}, sent again: {again}"
        );
    }
    // Only what kills left in flight is unknown (at most `concurrency`, 4, a kill).
    assert!(
        unknown.len() <= 4 * faulty.kills,
        "{name}: {} outcome unknown after {} kills",
        unknown.len(),
        faulty.kills
    );
    let single_keys: BTreeSet<&String> = single.sent.iter().map(|(k, _)| k).collect();
    let extra: Vec<&String> = seen.iter().filter(|k| !single_keys.contains(k)).collect();
    eprintln!(
        "{name}: {} sent by one worker; {} by the faulty workers ({} kills, {} between a send and its record, {again} sent again after the lease), {} outcome unknown, {} retrying after the month, {} not sent by the single worker: {extra:?}",
        single.sent.len(),
        faulty.sent.len(),
        faulty.kills,
        faulty.between.len(),
        unknown.len(),
        pending.len(),
        extra.len()
    );
    assert!(
        single.sent.len() > 200,
        "{name}: the month sends enough: {}",
        single.sent.len()
    );
    assert!(
        before_payment > 20,
        "{name}: reminders about invoices paid later went before the payment: {before_payment}"
    );
    assert!(faulty.kills >= 3, "{name}: workers were killed: {}", faulty.kills);
    assert!(
        faulty.between.len() >= 2,
        "{name}: kills landed between a send and its record: {:?}",
        faulty.between
    );
}

async fn fresh_pg(url: &str, name: &str) -> Db {
    let (config, url) = support::fresh_pg_database(url, &format!("workers_{name}")).await;
    Db::Postgres(Box::new(config), url)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_workers_on_postgres_survive_kills_and_flaky_mail_under_both_guarantees() {
    let Some(url) = support::pg_server() else { return };
    let single_dir = TempDir::new("workers-pg-single");
    let single_db = fresh_pg(&url, "single").await;
    let single = month(&single_db, &single_dir.0, 1, Run::Clean).await;
    for (run, name) in [
        (Run::AtMostOnce, "at_most_once"),
        (Run::AtLeastOnce, "at_least_once"),
    ] {
        let faulty_dir = TempDir::new(&format!("workers-pg-{name}"));
        let faulty_db = fresh_pg(&url, name).await;
        let faulty = month(&faulty_db, &faulty_dir.0, 4, run).await;
        let store = faulty_db.store().await;
        check(
            &format!("postgres, 4 workers, {name}"),
            run,
            &faulty,
            &*store,
            &single,
        )
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_on_one_sqlite_file_survive_kills_and_flaky_mail() {
    let single_dir = TempDir::new("workers-sqlite-single");
    let single_db = Db::Sqlite(single_dir.0.join("single.sqlite"));
    let single = month(&single_db, &single_dir.0, 1, Run::Clean).await;
    let faulty_dir = TempDir::new("workers-sqlite-faulty");
    let faulty_db = Db::Sqlite(faulty_dir.0.join("shared.sqlite"));
    let faulty = month(&faulty_db, &faulty_dir.0, 2, Run::AtMostOnce).await;
    let store = faulty_db.store().await;
    check(
        "sqlite, 2 workers, at_most_once",
        Run::AtMostOnce,
        &faulty,
        &*store,
        &single,
    )
    .await;
}
