//! The SQLite example adapter against real database files in a temporary directory.

#[path = "../../../tests/common/mod.rs"]
mod common;
mod support;

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::*;
use dunning::*;
use dunning_adapters::sqlite_store::SqliteStore;
use support::TempDir;

#[tokio::test]
async fn sqlite_store_conforms() {
    let dir = TempDir::new("conformance");
    let n = AtomicUsize::new(0);
    dunning::conformance::run(|| {
        SqliteStore::open(dir.file(&format!("db{}.sqlite", n.fetch_add(1, Ordering::SeqCst)))).unwrap()
    })
    .await;
}

fn policy() -> Policy {
    Policy::new(tz("America/Santiago"))
        .with_rule(rule("due-today", Anchor::Due, 0))
        .with_rule(rule("overdue", Anchor::Due, 3).repeat(7, 3))
}

#[test]
fn two_dispatchers_in_separate_threads_on_one_file_never_send_a_key_twice() {
    let dir = TempDir::new("two");
    let path = dir.file("shared.sqlite");
    let seed = SqliteStore::open(&path).unwrap();
    let clients = vec![client("acme", "America/Santiago")];
    let items: Vec<Item> = (0..30)
        .map(|n| {
            invoice(
                &format!("F-{n}"),
                "acme",
                d(2026, 3, 1),
                d(2026, 4, 1),
                money("1000", "CLP"),
            )
        })
        .collect();
    seed.put_clients(&clients).unwrap();
    seed.put_items(&items).unwrap();
    drop(seed);
    let mailer = Arc::new(RecordingMailer::new());
    // Two workers share one wall clock: neither starts a day's tick before the other
    // has finished the day before. Without this, one thread could run days ahead and
    // rightly take the other's live claim (days old by its clock) for abandoned.
    let day_done = Arc::new(std::sync::Barrier::new(2));
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let path = path.clone();
            let mailer = mailer.clone();
            let day_done = day_done.clone();
            std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async move {
                    // Each thread has its own connection, as two processes would.
                    let store = Arc::new(SqliteStore::open(&path).unwrap());
                    let dispatcher = Dispatcher::new(store, mailer, &policy()).unwrap();
                    let mut sent = 0;
                    for day in 0..20 {
                        let now = utc(2026, 4, 1, 14, 0) + chrono::Duration::days(day);
                        sent += dispatcher.tick(now).await.unwrap().sent().count();
                        day_done.wait();
                    }
                    sent
                })
            })
        })
        .collect();
    let total: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
    let sent = mailer.sent();
    assert_eq!(total, sent.len());
    let keys: HashSet<&str> = sent.iter().map(|m| m.key.as_str()).collect();
    assert_eq!(keys.len(), sent.len(), "a key went out twice");
    assert_eq!(
        sent.len(),
        30 * 4,
        "due today, then three weekly overdue reminders, for each invoice"
    );
}

#[test]
fn corrupt_files_and_newer_schemas_are_clear_errors_and_lose_nothing() {
    let dir = TempDir::new("errors");
    let junk = dir.file("junk.sqlite");
    std::fs::write(
        &junk,
        b"this is not a database, just text that happens to be long enough",
    )
    .unwrap();
    let err = SqliteStore::open(&junk).err().unwrap();
    assert!(
        err.to_string().contains("not a usable database") || err.to_string().contains("not a database"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(&junk).unwrap(),
        b"this is not a database, just text that happens to be long enough"
    );

    let newer = dir.file("newer.sqlite");
    {
        let s = SqliteStore::open(&newer).unwrap();
        s.put_clients(&[client("acme", "UTC")]).unwrap();
    }
    {
        let conn = rusqlite::Connection::open(&newer).unwrap();
        conn.execute("INSERT INTO schema_version (version) VALUES (99)", [])
            .unwrap();
    }
    let err = SqliteStore::open(&newer).err().unwrap();
    assert!(
        err.to_string()
            .contains("schema version 99, newer than this adapter's 2"),
        "{err}"
    );
    let conn = rusqlite::Connection::open(&newer).unwrap();
    let n: i64 = conn
        .query_row("SELECT COUNT(*) FROM clients", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 1, "nothing was lost");
}

#[tokio::test]
async fn a_locked_database_is_a_clear_error_and_loses_nothing() {
    let dir = TempDir::new("locked");
    let path = dir.file("db.sqlite");
    let store = SqliteStore::open(&path)
        .unwrap()
        .with_busy_timeout(std::time::Duration::from_millis(50))
        .unwrap();
    let key = EventKey::from("overdue/F-1/1");
    let now = utc(2026, 4, 1, 13, 0);
    // Another process holds the write lock past the busy timeout.
    let other = rusqlite::Connection::open(&path).unwrap();
    other.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let err = store.claim(&key, now, None).await.err().unwrap();
    assert!(err.to_string().contains("database is locked"), "{err}");
    assert!(err.to_string().contains("locking for a claim"), "{err}");
    other.execute_batch("ROLLBACK").unwrap();
    // Nothing was taken or lost: the key is granted once the lock is gone.
    assert_eq!(store.delivery(&key).await.unwrap(), None);
    assert_eq!(
        store.claim(&key, now, None).await.unwrap(),
        Claim::Granted { attempt: 1 }
    );
}

#[tokio::test]
async fn a_new_file_gets_the_schema_in_wal_mode_and_reopening_keeps_it() {
    let dir = TempDir::new("schema");
    let path = dir.file("db.sqlite");
    {
        let s = SqliteStore::open(&path).unwrap();
        s.put_clients(&[client("acme", "UTC")]).unwrap();
    }
    let versions = |conn: &rusqlite::Connection| -> Vec<i64> {
        let mut stmt = conn.prepare("SELECT version FROM schema_version").unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
        assert_eq!(mode, "wal");
        assert_eq!(versions(&conn), [dunning_adapters::sqlite_store::SCHEMA_VERSION]);
    }
    let s = SqliteStore::open(&path).unwrap();
    assert_eq!(
        s.load().await.unwrap().clients.len(),
        1,
        "reopening keeps the data"
    );
    drop(s);
    let conn = rusqlite::Connection::open(&path).unwrap();
    assert_eq!(
        versions(&conn),
        [dunning_adapters::sqlite_store::SCHEMA_VERSION],
        "a current schema is not migrated again"
    );
}

/// A version-1 file (before the per-client indexes) is migrated in place, its data kept; one
/// client's rows read alone are that client's only.
#[tokio::test]
async fn a_version_one_file_is_migrated_and_one_clients_rows_read_alone() {
    let dir = TempDir::new("v1");
    let path = dir.file("db.sqlite");
    let usd = Currency::from_code("USD").unwrap();
    {
        let s = SqliteStore::open(&path).unwrap();
        s.put_clients(&[client("acme", "UTC"), client("zeta", "UTC")])
            .unwrap();
        s.put_items(&[
            invoice(
                "A-1",
                "acme",
                d(2026, 1, 1),
                d(2026, 2, 1),
                Money::from_minor(100, usd),
            ),
            invoice(
                "Z-1",
                "zeta",
                d(2026, 1, 1),
                d(2026, 2, 1),
                Money::from_minor(100, usd),
            ),
        ])
        .unwrap();
        s.append_history(HistoryEntry::manual(
            "zeta".parse().unwrap(),
            "Z-1".parse().unwrap(),
            utc(2026, 1, 5, 12, 0),
        ))
        .await
        .unwrap();
        s.append_history(HistoryEntry::manual(
            "acme".parse().unwrap(),
            "A-1".parse().unwrap(),
            utc(2026, 1, 6, 12, 0),
        ))
        .await
        .unwrap();
    }
    {
        // Back to version 1: no per-client indexes.
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "DROP INDEX items_client; DROP INDEX history_client; DELETE FROM schema_version; \
             INSERT INTO schema_version (version) VALUES (1);",
        )
        .unwrap();
    }
    let s = SqliteStore::open(&path).unwrap();
    let acme = s.load_client(&"acme".parse().unwrap()).await.unwrap();
    assert_eq!(
        acme.clients.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        ["acme"]
    );
    assert_eq!(
        acme.items.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(),
        ["A-1"]
    );
    assert_eq!(acme.history.len(), 1);
    assert_eq!(acme.history[0].client.as_str(), "acme");
    drop(s);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let indexes: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name IN ('items_client', 'history_client')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(indexes, 2);
    let version: i64 = conn
        .query_row("SELECT MAX(version) FROM schema_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, dunning_adapters::sqlite_store::SCHEMA_VERSION);
}

#[tokio::test]
async fn sqlite_store_loads_shards_that_partition_the_whole() {
    let dir = TempDir::new("shards");
    let store = SqliteStore::open(dir.file("shards.sqlite")).unwrap();
    let (clients, items, history) = filled_store();
    store.put_clients(&clients).unwrap();
    store.put_items(&items).unwrap();
    for h in history {
        store.append_history(h).await.unwrap();
    }
    dunning::conformance::shards_partition_the_load(&store).await;
}
