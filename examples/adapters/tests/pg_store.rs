//! The PostgreSQL example adapter against a real server: the one `DUNNING_PG_URL` names
//! (`.ci/postgres` starts a throwaway one). Each test works in fresh databases of its own.
//! Without the variable the tests skip, saying so once; with `DUNNING_REQUIRE_PG` set
//! (as in CI) they fail instead.

#[path = "../../../tests/common/mod.rs"]
mod common;
mod support;

use std::collections::HashSet;
use std::sync::Arc;

use common::*;
use dunning::store::Finish;
use dunning::*;
use dunning_adapters::pg_store::PgStore;
use support::pg_server;

/// A fresh, empty database on the server, and its configuration.
async fn fresh_database(url: &str) -> tokio_postgres::Config {
    support::fresh_pg_database(url, "test").await.0
}

async fn fresh_store(url: &str) -> PgStore {
    PgStore::connect_with(fresh_database(url).await, 4).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pg_store_conforms() {
    let Some(url) = pg_server() else { return };
    let handle = tokio::runtime::Handle::current();
    dunning::conformance::run(|| tokio::task::block_in_place(|| handle.block_on(fresh_store(&url)))).await;
}

#[tokio::test]
async fn pg_store_loads_shards_that_partition_the_whole() {
    let Some(url) = pg_server() else { return };
    let store = fresh_store(&url).await;
    let (clients, items, history) = filled_store();
    store.put_clients(&clients).await.unwrap();
    store.put_items(&items).await.unwrap();
    // Half appended one by one, half imported in one call: loaded back whole, in order.
    let (first, rest) = history.split_at(history.len() / 2);
    for h in first {
        store.append_history(h.clone()).await.unwrap();
    }
    store.put_history(rest).await.unwrap();
    assert!(!store.is_empty().await.unwrap());
    assert_eq!(store.load().await.unwrap().history, history);
    dunning::conformance::shards_partition_the_load(&store).await;
}

/// Workers starting together on a fresh database migrate it once, and a second start finds
/// it migrated.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_starting_together_migrate_once() {
    let Some(url) = pg_server() else { return };
    let config = fresh_database(&url).await;
    let starts = (0..6).map(|_| PgStore::connect_with(config.clone(), 2));
    for store in futures_util::future::join_all(starts).await {
        let store = store.unwrap();
        assert!(store.is_empty().await.unwrap());
    }
    PgStore::connect_with(config, 1).await.unwrap();
}

/// A server that is not there is `Unavailable`, not a panic; SQL the server refuses carries
/// its SQLSTATE code.
#[tokio::test]
async fn errors_are_typed_with_the_sql_state() {
    let Some(url) = pg_server() else { return };
    // A port nothing listens on.
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = free.local_addr().unwrap().port();
    drop(free);
    let err = PgStore::connect(&format!("postgres://dunning@127.0.0.1:{port}/postgres"))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Unavailable { .. }), "{err:?}");
    let err = PgStore::connect("postgres://dunning@127.0.0.1:not-a-port/x")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Backend(_)), "{err:?}");
    // A database that does not exist: the server's 3D000.
    let mut config: tokio_postgres::Config = url.parse().unwrap();
    config.dbname("dunning_no_such_database");
    let err = PgStore::connect_with(config, 1).await.unwrap_err();
    match err {
        StoreError::Database { code, .. } => assert_eq!(code, "3D000"),
        other => panic!("{other:?}"),
    }
    // An attempt that the attempt column cannot hold is refused before the server sees it.
    let store = fresh_store(&url).await;
    let key = EventKey::from("overdue/F-1/1");
    store.claim(&key, utc(2026, 4, 1, 9, 0), None).await.unwrap();
    let err = store
        .finish(
            &key,
            Delivery::Failed {
                at: utc(2026, 4, 1, 9, 0),
                attempt: u32::MAX,
                error: "x".into(),
            },
            None,
            None,
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("4294967295"), "{err}");
    // The key is still claimed: nothing was recorded.
    assert!(matches!(
        store.delivery(&key).await.unwrap(),
        Some(Delivery::Claimed { .. })
    ));
}

/// Hostile text round-trips: quotes, backslashes, NULs refused by PostgreSQL text are not
/// in ids (ids refuse control characters), but a log line's reason may hold anything else.
#[tokio::test]
async fn hostile_text_round_trips() {
    let Some(url) = pg_server() else { return };
    let store = fresh_store(&url).await;
    let reason = "'; DROP TABLE deliveries; -- \\ \"quoted\" \u{202e}rtl\u{202c} ✓ 💸";
    let entry = LogEntry {
        at: utc(2026, 4, 1, 9, 0),
        client: ClientId::new("c'1").unwrap(),
        item: Some(ItemId::new("F\"1").unwrap()),
        key: Some("k'1".into()),
        action: Action::Skipped {
            reason: reason.into(),
        },
    };
    store.log(entry.clone()).await.unwrap();
    assert_eq!(store.read_log(&LogFilter::key("k'1")).await.unwrap(), [entry]);
    assert!(store.read_log(&LogFilter::key("k")).await.unwrap().is_empty());
}

fn policy() -> Policy {
    Policy::new(tz("America/Santiago"))
        .with_rule(rule("due-today", Anchor::Due, 0))
        .with_rule(rule("overdue", Anchor::Due, 3).repeat(7, 3))
}

/// Four dispatchers, each on its own connection pool to one database, ticking the same
/// instants at once: every key goes once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_dispatchers_on_one_database_never_send_a_key_twice() {
    let Some(url) = pg_server() else { return };
    let config = fresh_database(&url).await;
    let seed = PgStore::connect_with(config.clone(), 2).await.unwrap();
    let clients: Vec<Client> = (0..5)
        .map(|c| client(&format!("c{c}"), "America/Santiago"))
        .collect();
    let items: Vec<Item> = (0..60)
        .map(|n| {
            invoice(
                &format!("F-{n}"),
                &format!("c{}", n % 5),
                d(2026, 3, 1),
                d(2026, 4, 1),
                money("1000", "CLP"),
            )
        })
        .collect();
    seed.put_clients(&clients).await.unwrap();
    seed.put_items(&items).await.unwrap();
    let mailer = Arc::new(RecordingMailer::new());
    let mut dispatchers = Vec::new();
    for _ in 0..4 {
        let store = Arc::new(PgStore::connect_with(config.clone(), 4).await.unwrap());
        dispatchers.push(Arc::new(
            Dispatcher::new(store, mailer.clone(), &policy()).unwrap(),
        ));
    }
    for day in 0..12 {
        let now = utc(2026, 3, 30, 15, 0) + chrono::Duration::days(day);
        let ticks = dispatchers.iter().map(|d| {
            let d = d.clone();
            tokio::spawn(async move { d.tick(now).await.unwrap() })
        });
        for t in futures_util::future::join_all(ticks).await {
            t.unwrap();
        }
    }
    let sent: Vec<String> = mailer.sent().iter().map(|m| m.key.to_string()).collect();
    let unique: HashSet<&String> = sent.iter().collect();
    assert_eq!(unique.len(), sent.len(), "a key went twice: {sent:?}");
    assert!(
        sent.len() >= 120,
        "two stages of 60 invoices at least: {}",
        sent.len()
    );
    let history = seed.load().await.unwrap().history;
    assert_eq!(history.len(), sent.len(), "one history entry per send");
}

/// A client with every field set, hostile text in each.
fn full_client(id: ClientId) -> Client {
    let hostile = "'; DROP TABLE clients; -- \\ \"q\" \u{202e}rtl\u{202c} 💸\r\nBcc: x@y";
    let mut full = Client::new(id, hostile)
        .with_contact(Contact::new(hostile, "ana@acme.example").with_role(ContactRole::Executive))
        .with_contact(Contact::new("Bo", "bo@acme.example").with_notify(false))
        .with_time_zone(TimeZone::from_name("Pacific/Chatham").unwrap())
        .with_locale("es-CL")
        .with_tag(hostile)
        .with_tag("");
    full.pauses = vec![Pause::new(PauseKind::Dispute, hostile)];
    full.overrides = ClientOverrides::default()
        .payment_term(15)
        .rule("due-soon".parse().unwrap(), RuleOverride::off());
    full.overrides.cc = Some(vec![hostile.into()]);
    full
}

/// Every field of a client is stored in its column and read back as it was (hostile text,
/// every list and override set; and a client with none), by the whole load, each shard's
/// (read by a binary COPY) and a client's.
#[tokio::test]
async fn clients_round_trip_every_field() {
    let Some(url) = pg_server() else { return };
    let store = fresh_store(&url).await;
    let full = full_client(ClientId::new("c'1\"x").unwrap());
    let bare = Client::new(ClientId::new("c2").unwrap(), "");
    store.put_clients(&[full.clone(), bare.clone()]).await.unwrap();
    let mut want = vec![full.clone(), bare.clone()];
    want.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(store.load().await.unwrap().clients, want);
    for n in [2, 3, 4] {
        let mut parts = Vec::new();
        for shard in Shard::all(n) {
            parts.extend(store.load_shard(shard).await.unwrap().clients);
        }
        parts.sort_by(|a, b| a.id.cmp(&b.id));
        assert_eq!(parts, want, "{n} shards");
    }
    let one = store.load_client(&full.id).await.unwrap();
    assert_eq!(one.clients, std::slice::from_ref(&full));
    // Written again with nothing set: nothing of before is left.
    let emptied = Client::new(full.id.clone(), "x");
    store.put_clients(std::slice::from_ref(&emptied)).await.unwrap();
    assert_eq!(store.load_client(&full.id).await.unwrap().clients, [emptied]);
}

/// Every field of an item and of a history entry is stored in its typed column and read back
/// as it was (limits and hostile text included), and rows written by schema version 1 (a
/// JSONB document, no typed columns) are still read.
#[tokio::test]
async fn items_and_history_round_trip_every_field() {
    let Some(url) = pg_server() else { return };
    let (config, _) = support::fresh_pg_database(&url, "test").await;
    let store = PgStore::connect_with(config.clone(), 2).await.unwrap();
    let usd = Currency::from_code("USD").unwrap();
    let clf = Currency::from_code("CLF").unwrap();
    let hostile = "'; DROP TABLE items; -- \\ \"q\" \u{202e}rtl\u{202c} 💸\r\nBcc: x@y";
    let full = Item {
        id: ItemId::new("F'1\"x").unwrap(),
        client: ClientId::new("c'1").unwrap(),
        kind: ItemKind::Signature,
        number: hostile.into(),
        issued_on: chrono::NaiveDate::MAX,
        sent_on: Some(d(2026, 3, 2)),
        due_on: Some(chrono::NaiveDate::from_ymd_opt(-4713, 11, 24).unwrap()),
        total: Some(Money::from_minor(i64::MAX, usd)),
        applied: vec![Applied {
            kind: AppliedKind::CreditNote,
            amount: Money::from_minor(i64::MIN + 1, usd),
            on: d(2026, 3, 5),
            reference: Some(hostile.into()),
        }],
        status: ItemStatus::PartiallyPaid,
        settled_on: Some(d(2026, 4, 1)),
        reminders: false,
        reminder_every_days: Some(u32::MAX),
        reminder_count: Some(0),
        attachments: vec![hostile.into(), String::new()],
        pauses: vec![Pause {
            kind: PauseKind::Dispute,
            reason: hostile.into(),
            from: Some(d(2026, 3, 1)),
            until: None,
        }],
    };
    let bare = Item::invoice(
        "F-2".parse().unwrap(),
        "c2".parse().unwrap(),
        d(2026, 1, 1),
        Money::from_minor(1, clf),
    );
    let pending = Item::action(
        "P-1".parse().unwrap(),
        "c2".parse().unwrap(),
        ItemKind::Form,
        d(2026, 1, 1),
    );
    store
        .put_items(&[full.clone(), bare.clone(), pending.clone()])
        .await
        .unwrap();
    let sent = HistoryEntry {
        key: EventKey::from(hostile),
        rule: Some("overdue".parse().unwrap()),
        client: ClientId::new("c'1").unwrap(),
        items: vec![
            HistoryItem {
                item: ItemId::new("F'1\"x").unwrap(),
                occurrence: u32::MAX,
            },
            HistoryItem {
                item: ItemId::new("F-2").unwrap(),
                occurrence: 0,
            },
        ],
        // Nanoseconds too, which a timestamptz column does not hold.
        sent_at: utc(2026, 4, 1, 9, 0) + chrono::Duration::nanoseconds(123_456_789),
        outcome: HistoryOutcome::Sent,
    };
    let failed = HistoryEntry {
        rule: None,
        outcome: HistoryOutcome::Failed {
            error: hostile.into(),
        },
        ..HistoryEntry::manual(
            "c2".parse().unwrap(),
            "F-2".parse().unwrap(),
            utc(2026, 4, 1, 9, 0),
        )
    };
    store.put_history(std::slice::from_ref(&sent)).await.unwrap();
    store.append_history(failed.clone()).await.unwrap();
    // A row as schema version 1 wrote it: its document only.
    let old = Item::invoice(
        "V1-1".parse().unwrap(),
        "c2".parse().unwrap(),
        d(2025, 12, 1),
        Money::from_minor(5, usd),
    );
    let old_entry = HistoryEntry::manual(
        "c2".parse().unwrap(),
        "V1-1".parse().unwrap(),
        utc(2026, 1, 2, 3, 4),
    );
    let (db, connection) = config.connect(tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    db.execute(
        "INSERT INTO items (id, client, bucket, doc, part) VALUES ($1, $2, $3, $4, ($3::bigint % 16)::smallint)",
        &[
            &"V1-1",
            &"c2",
            &i64::from(Shard::bucket("c2")),
            &serde_json::to_value(&old).unwrap(),
        ],
    )
    .await
    .unwrap();
    db.execute(
        "INSERT INTO history (key, client, bucket, sent_at, outcome, doc, part) \
         VALUES ($1, $2, $3, $4, 'sent', $5, ($3::bigint % 16)::smallint)",
        &[
            &old_entry.key.as_str(),
            &"c2",
            &i64::from(Shard::bucket("c2")),
            &old_entry.sent_at,
            &serde_json::to_value(&old_entry).unwrap(),
        ],
    )
    .await
    .unwrap();
    let loaded = store.load().await.unwrap();
    let mut want = vec![full.clone(), bare, pending, old];
    want.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(loaded.items, want);
    assert_eq!(loaded.history, [sent.clone(), failed.clone(), old_entry]);
    let full = want.iter().find(|i| i.id.as_str() == "F'1\"x").unwrap().clone();
    // The same through the shards' loads (their items read by a binary COPY) and a
    // client's.
    let mut parts = Snapshot::default();
    for k in 0..3 {
        let part = store.load_shard(Shard::new(k, 3).unwrap()).await.unwrap();
        parts.items.extend(part.items);
        parts.history.extend(part.history);
    }
    parts.items.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(parts.items, want);
    assert_eq!(parts.history.len(), 3);
    let one = store.load_client(&ClientId::new("c'1").unwrap()).await.unwrap();
    assert_eq!((one.items, one.history), (vec![full], vec![sent]));
}

/// A claim batch that fails (here a refused key whose stored state does not decode) claims
/// nothing: the other keys of the batch are free for the next claim. (Failed before: the
/// batch was committed before the refused keys were decoded, and the other key stayed
/// claimed with no one to send it.)
#[tokio::test]
async fn a_failed_claim_batch_claims_nothing() {
    let Some(url) = pg_server() else { return };
    let (config, _) = support::fresh_pg_database(&url, "test").await;
    let store = PgStore::connect_with(config.clone(), 2).await.unwrap();
    let (a, b): (EventKey, EventKey) = ("overdue/A/1".into(), "overdue/B/1".into());
    let t = utc(2026, 4, 1, 9, 0);
    assert_eq!(
        store.claim(&b, t, None).await.unwrap(),
        Claim::Granted { attempt: 1 }
    );
    let (db, connection) = config.connect(tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    db.execute(
        "UPDATE deliveries SET state = 'failed', at = NULL WHERE key = $1",
        &[&b.as_str()],
    )
    .await
    .unwrap();
    let err = store
        .claim_batch(&[a.clone(), b.clone()], t, None)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no at"), "{err}");
    assert_eq!(
        store.claim(&a, t, None).await.unwrap(),
        Claim::Granted { attempt: 1 },
        "the failed batch left the other key claimed"
    );
    // The connection that ran the failed batch went back to the pool usable.
    for _ in 0..4 {
        assert!(store.delivery(&a).await.is_ok());
    }
}

/// A server that accepts the connection and then never answers makes `connect` fail with
/// `StoreError::Unavailable` once the pool's creation timeout (three connect timeouts) has
/// passed, instead of hanging. (No PostgreSQL needed: the "server" is a silent socket.)
#[tokio::test]
async fn a_server_that_never_answers_is_unavailable_not_a_hang() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let held = std::thread::spawn(move || {
        let mut sockets = Vec::new();
        for s in listener.incoming().take(4) {
            sockets.push(s);
            std::thread::sleep(std::time::Duration::from_secs(1));
        }
        std::thread::sleep(std::time::Duration::from_secs(20));
        drop(sockets);
    });
    let mut config: tokio_postgres::Config =
        format!("postgres://dunning@127.0.0.1:{port}/x").parse().unwrap();
    config.connect_timeout(std::time::Duration::from_millis(500));
    let connected = tokio::time::timeout(
        std::time::Duration::from_secs(15),
        PgStore::connect_with(config, 2),
    )
    .await
    .expect("connect hung on a silent server");
    match connected {
        Err(StoreError::Unavailable { .. }) => {}
        other => panic!("{other:?}"),
    }
    drop(held);
}

/// Text PostgreSQL cannot hold (a NUL character) is refused with a typed error naming the
/// SQL state, never a panic, and nothing of it is written.
#[tokio::test]
async fn text_postgresql_cannot_hold_is_a_typed_error() {
    let Some(url) = pg_server() else { return };
    let store = fresh_store(&url).await;
    let entry = LogEntry {
        at: utc(2026, 4, 1, 9, 0),
        client: ClientId::new("c1").unwrap(),
        item: None,
        key: Some("k1".into()),
        action: Action::Skipped {
            reason: "before\0after".into(),
        },
    };
    match store.log(entry).await {
        Err(StoreError::Database { code, .. }) => assert!(code.starts_with("22"), "{code}"),
        other => panic!("{other:?}"),
    }
    assert!(store.read_log(&LogFilter::default()).await.unwrap().is_empty());
    let mut item = Item::invoice(
        "F-1".parse().unwrap(),
        "c1".parse().unwrap(),
        d(2026, 1, 1),
        Money::from_minor(1, Currency::from_code("USD").unwrap()),
    );
    item.number = "F\0-1".into();
    match store.put_items(&[item]).await {
        Err(StoreError::Database { code, .. }) => assert!(code.starts_with("22"), "{code}"),
        other => panic!("{other:?}"),
    }
    assert!(store.load().await.unwrap().items.is_empty());
}

/// Waits (up to 5 s) until another session of `admin`'s database waits for a lock, ending
/// that session when `kill` (as a server restart or a lost network would); whether one did.
async fn another_session_waits(admin: &tokio_postgres::Client, kill: bool) -> bool {
    let sql = format!(
        "SELECT {} FROM pg_stat_activity \
         WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()",
        if kill { "pg_terminate_backend(pid)" } else { "1" }
    );
    for _ in 0..500 {
        if !admin.query(&sql, &[]).await.unwrap().is_empty() {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    false
}

/// Runs `call` on the store while another session holds `table` locked, kills the session
/// that waits for the lock (as a server restart or a lost network would), then lets go of
/// the lock; returns what `call` answered.
async fn with_its_connection_killed<T: Send + 'static>(
    config: &tokio_postgres::Config,
    table: &str,
    call: impl std::future::Future<Output = T> + Send + 'static,
) -> T {
    let (admin, connection) = config.connect(tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    admin.batch_execute("BEGIN").await.unwrap();
    admin
        .batch_execute(&format!("LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"))
        .await
        .unwrap();
    let running = tokio::spawn(call);
    assert!(
        another_session_waits(&admin, true).await,
        "the call never waited for the lock on {table}"
    );
    admin.batch_execute("ROLLBACK").await.unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(30), running)
        .await
        .expect("the call hung after its connection was killed")
        .unwrap()
}

/// A shard's load whose connections are lost while it reads (their sessions ended, as a
/// server restart would end them) reads again on fresh connections, and answers whole.
/// (Failed before a lost connection was closed instead of going back to the pool: the
/// second try took one of the dead ones, "connection closed".)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shards_load_whose_connections_are_lost_reads_again_whole() {
    let Some(url) = pg_server() else { return };
    let (config, _) = support::fresh_pg_database(&url, "test").await;
    let store = Arc::new(PgStore::connect_with(config.clone(), 8).await.unwrap());
    let (clients, items, history) = filled_store();
    store.put_clients(&clients).await.unwrap();
    store.put_items(&items).await.unwrap();
    store.put_history(&history).await.unwrap();
    let shard = Shard::new(0, 2).unwrap();
    let want = store.load_shard(shard).await.unwrap();
    assert!(!want.clients.is_empty() && !want.items.is_empty() && !want.history.is_empty());
    let s = store.clone();
    let got = with_its_connection_killed(&config, "items, clients, history", async move {
        s.load_shard(shard).await
    })
    .await;
    assert_eq!(got.unwrap(), want);
}

/// A connection lost in the middle of a claim batch's transaction: the batch fails with a
/// typed error (never a panic, never a hang), claims nothing, and the store goes on with a
/// fresh connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_lost_in_a_claim_batch_claims_nothing() {
    let Some(url) = pg_server() else { return };
    let (config, _) = support::fresh_pg_database(&url, "test").await;
    let store = Arc::new(PgStore::connect_with(config.clone(), 2).await.unwrap());
    let keys: Vec<EventKey> = vec!["overdue/A/1".into(), "overdue/B/1".into()];
    let t = utc(2026, 4, 1, 9, 0);
    let (s, k) = (store.clone(), keys.clone());
    let answer =
        with_its_connection_killed(
            &config,
            "deliveries",
            async move { s.claim_batch(&k, t, None).await },
        )
        .await;
    match answer {
        Err(StoreError::Unavailable { .. } | StoreError::Database { .. }) => {}
        other => panic!("{other:?}"),
    }
    for key in &keys {
        assert_eq!(
            store.delivery(key).await.unwrap(),
            None,
            "{key} claimed by the lost batch"
        );
    }
    assert_eq!(
        store.claim_batch(&keys, t, None).await.unwrap(),
        vec![Claim::Granted { attempt: 1 }; 2]
    );
}

/// A connection lost in the middle of recording a batch of outcomes: each outcome is
/// recorded with its history entry and log line, or none of them is (never a send recorded
/// without its history), and what was not recorded can be recorded again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_lost_while_outcomes_are_recorded_records_each_whole_or_not_at_all() {
    let Some(url) = pg_server() else { return };
    let (config, _) = support::fresh_pg_database(&url, "test").await;
    let store = Arc::new(PgStore::connect_with(config.clone(), 2).await.unwrap());
    let keys: Vec<EventKey> = vec!["overdue/A/1".into(), "overdue/B/1".into()];
    let t = utc(2026, 4, 1, 9, 0);
    store.claim_batch(&keys, t, None).await.unwrap();
    let finishes = |keys: &[EventKey]| -> Vec<Finish> {
        keys.iter()
            .map(|key| {
                let sent = Delivery::Sent {
                    at: t,
                    message_id: format!("<{key}@x>"),
                };
                Finish::new(key.clone(), sent)
                    .with_history(HistoryEntry {
                        key: key.clone(),
                        rule: Some("overdue".parse().unwrap()),
                        client: "c1".parse().unwrap(),
                        items: Vec::new(),
                        sent_at: t,
                        outcome: HistoryOutcome::Sent,
                    })
                    .with_log(LogEntry {
                        at: t,
                        client: "c1".parse().unwrap(),
                        item: None,
                        key: Some(key.to_string()),
                        action: Action::Sent {
                            rule: Some("overdue".parse().unwrap()),
                            to: vec!["ana@example.com".into()],
                            message_id: format!("<{key}@x>"),
                        },
                    })
            })
            .collect()
    };
    let (s, batch) = (store.clone(), finishes(&keys));
    let answers =
        with_its_connection_killed(&config, "history", async move { s.finish_batch(batch).await }).await;
    assert_eq!(answers.len(), keys.len());
    let check = |answers: &[Result<(), StoreError>],
                 snapshot: &Snapshot,
                 log: &[LogEntry],
                 states: &[Option<Delivery>]| {
        for ((key, answer), state) in keys.iter().zip(answers).zip(states) {
            let in_history = snapshot.history.iter().filter(|h| &h.key == key).count();
            let logged = log
                .iter()
                .filter(|l| l.key.as_deref() == Some(key.as_str()))
                .count();
            match state {
                Some(Delivery::Sent { .. }) => {
                    assert_eq!(
                        (in_history, logged),
                        (1, 1),
                        "{key} sent without its history or log line"
                    );
                }
                Some(Delivery::Claimed { .. }) => {
                    assert!(answer.is_err(), "{key}: recorded Ok but still claimed");
                    assert_eq!(
                        (in_history, logged),
                        (0, 0),
                        "{key}: history or log without its outcome"
                    );
                }
                other => panic!("{key}: {other:?}"),
            }
        }
    };
    let states = store.deliveries(&keys).await.unwrap();
    check(
        &answers,
        &store.load().await.unwrap(),
        &store.read_log(&LogFilter::default()).await.unwrap(),
        &states,
    );
    // What was not recorded is recorded now.
    let left: Vec<EventKey> = keys
        .iter()
        .zip(&states)
        .filter(|(_, s)| matches!(s, Some(Delivery::Claimed { .. })))
        .map(|(k, _)| k.clone())
        .collect();
    for answer in store.finish_batch(finishes(&left)).await {
        answer.unwrap();
    }
    let states = store.deliveries(&keys).await.unwrap();
    assert!(
        states.iter().all(|s| matches!(s, Some(Delivery::Sent { .. }))),
        "{states:?}"
    );
    check(
        &[Ok(()), Ok(())],
        &store.load().await.unwrap(),
        &store.read_log(&LogFilter::default()).await.unwrap(),
        &states,
    );
}

mod schema {
    refinery::embed_migrations!("migrations/postgres");
}

/// Two client ids whose buckets fall in different partitions (`bucket % 16`).
fn clients_of_two_parts() -> (ClientId, ClientId) {
    let part = |id: &str| Shard::bucket(id) % 16;
    let a = "c0".to_owned();
    let b = (1..100)
        .map(|n| format!("c{n}"))
        .find(|id| part(id) != part(&a))
        .unwrap();
    (a.parse().unwrap(), b.parse().unwrap())
}

/// Two clients whose buckets fall in different partitions, stored.
async fn put_clients_of_two_parts(store: &PgStore) -> (ClientId, ClientId) {
    let (a, b) = clients_of_two_parts();
    store
        .put_clients(&[Client::new(a.clone(), "A"), Client::new(b.clone(), "B")])
        .await
        .unwrap();
    (a, b)
}

/// Invoice F-1 of `client`: USD 1.00, issued 2026-01-01.
fn invoice_f1(client: &ClientId) -> Item {
    Item::invoice(
        "F-1".parse().unwrap(),
        client.clone(),
        d(2026, 1, 1),
        Money::from_minor(100, Currency::from_code("USD").unwrap()),
    )
}

/// An item written again with a client of another partition moves there: it is loaded
/// once, as its new client's, by that client's shard only (it stayed in its old partition
/// before, and two shards loaded it, one of them with its old client).
#[tokio::test]
async fn an_item_whose_client_changes_moves_to_its_new_clients_shard() {
    let Some(url) = pg_server() else { return };
    let store = fresh_store(&url).await;
    let (a, b) = put_clients_of_two_parts(&store).await;
    store.put_items(&[invoice_f1(&a)]).await.unwrap();
    store.put_items(&[invoice_f1(&b)]).await.unwrap();
    assert_eq!(store.load().await.unwrap().items, [invoice_f1(&b)]);
    let mut holders = Vec::new();
    for shard in Shard::all(16) {
        let loaded = store.load_shard(shard).await.unwrap();
        if !loaded.items.is_empty() {
            assert_eq!(loaded.items, [invoice_f1(&b)], "shard {shard}");
            holders.push(shard);
        }
    }
    assert_eq!(holders.len(), 1, "{holders:?}");
    assert!(holders[0].contains(&b));
    let one = store.load_client(&a).await.unwrap();
    assert!(one.items.is_empty(), "{:?}", one.items);
    // One write listing the item twice, with either client: refused, nothing written.
    match store.put_items(&[invoice_f1(&a), invoice_f1(&b)]).await {
        Err(StoreError::Database { code, .. }) => assert_eq!(code, "21000"),
        other => panic!("{other:?}"),
    }
    assert_eq!(store.load().await.unwrap().items, [invoice_f1(&b)]);
}

/// A database at schema version 2 (clients and items and history in single tables, clients
/// as documents, rows of version 1 as documents beside typed rows) upgraded by the first
/// store to connect: every row is still read, whole, by the whole load, by each shard's and
/// by each client's.
#[tokio::test]
async fn an_upgrade_from_schema_version_2_keeps_every_row() {
    let Some(url) = pg_server() else { return };
    let (config, _) = support::fresh_pg_database(&url, "test").await;
    let (mut db, connection) = config.connect(tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    schema::migrations::runner()
        .set_target(refinery::Target::Version(2))
        .run_async(&mut db)
        .await
        .unwrap();
    let (a, b) = clients_of_two_parts();
    let usd = Currency::from_code("USD").unwrap();
    // Documents, which the upgrade to version 4 splits into columns.
    let clients = [full_client(a.clone()), Client::new(b.clone(), "B")];
    for c in &clients {
        db.execute(
            "INSERT INTO clients (id, bucket, doc) VALUES ($1, $2, $3)",
            &[
                &c.id.as_str(),
                &i64::from(Shard::bucket(c.id.as_str())),
                &serde_json::to_value(c).unwrap(),
            ],
        )
        .await
        .unwrap();
    }
    // A typed row (version 2) of a's, and a document (version 1) of b's.
    let typed = Item::invoice(
        "T-1".parse().unwrap(),
        a.clone(),
        d(2026, 1, 1),
        Money::from_minor(500, usd),
    );
    db.execute(
        "INSERT INTO items (id, client, bucket, kind, number, issued_on, total_minor, currency, status, reminders) \
         VALUES ($1, $2, $3, 'invoice', $4, $5, 500, 'USD', 'open', true)",
        &[
            &"T-1",
            &a.as_str(),
            &i64::from(Shard::bucket(a.as_str())),
            &&*typed.number,
            &typed.issued_on,
        ],
    )
    .await
    .unwrap();
    let old = Item::invoice(
        "V1-1".parse().unwrap(),
        b.clone(),
        d(2025, 12, 1),
        Money::from_minor(5, usd),
    );
    db.execute(
        "INSERT INTO items (id, client, bucket, doc) VALUES ($1, $2, $3, $4)",
        &[
            &"V1-1",
            &b.as_str(),
            &i64::from(Shard::bucket(b.as_str())),
            &serde_json::to_value(&old).unwrap(),
        ],
    )
    .await
    .unwrap();
    let entries: Vec<HistoryEntry> = [(&a, "T-1", 2), (&b, "V1-1", 3)]
        .into_iter()
        .map(|(c, item, day)| HistoryEntry::manual(c.clone(), item.parse().unwrap(), utc(2026, 1, day, 3, 4)))
        .collect();
    for h in &entries {
        db.execute(
            "INSERT INTO history (key, client, bucket, sent_at, outcome, doc) VALUES ($1, $2, $3, $4, 'sent', $5)",
            &[
                &h.key.as_str(),
                &h.client.as_str(),
                &i64::from(Shard::bucket(h.client.as_str())),
                &h.sent_at,
                &serde_json::to_value(h).unwrap(),
            ],
        )
        .await
        .unwrap();
    }
    let store = PgStore::connect_with(config, 2).await.unwrap();
    let all = store.load().await.unwrap();
    assert_eq!(all.clients, clients);
    assert_eq!(all.items, [typed.clone(), old.clone()]);
    assert_eq!(all.history, entries);
    for n in [3, 4] {
        let mut parts = Snapshot::default();
        for shard in Shard::all(n) {
            let part = store.load_shard(shard).await.unwrap();
            parts.clients.extend(part.clients);
            parts.items.extend(part.items);
            parts.history.extend(part.history);
        }
        parts.items.sort_by(|x, y| x.id.cmp(&y.id));
        parts.clients.sort_by(|x, y| x.id.cmp(&y.id));
        parts.history.sort_by_key(|h| h.sent_at);
        assert_eq!(
            (parts.clients, parts.items, parts.history),
            (all.clients.clone(), all.items.clone(), all.history.clone()),
            "{n} shards"
        );
    }
    let one = store.load_client(&b).await.unwrap();
    assert_eq!((one.items, one.history), (vec![old], vec![entries[1].clone()]));
    // Writing goes on after the upgrade: a new entry comes after the old ones.
    let later = HistoryEntry::manual(a.clone(), "T-1".parse().unwrap(), utc(2026, 2, 1, 0, 0));
    store.append_history(later.clone()).await.unwrap();
    assert_eq!(store.load().await.unwrap().history.last(), Some(&later));
}

/// Two writers putting the same item at once, the first moving it to a client of another
/// partition: the second waits for the first, then moves it back, and the item is stored
/// once, as the second put it (it was stored in both partitions: the second's statement,
/// begun before the first committed, did not see the row the first moved).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_item_written_at_once_with_two_clients_is_stored_once() {
    let Some(url) = pg_server() else { return };
    let (config, _) = support::fresh_pg_database(&url, "test").await;
    let store = PgStore::connect_with(config.clone(), 2).await.unwrap();
    let (a, b) = put_clients_of_two_parts(&store).await;
    store.put_items(&[invoice_f1(&a)]).await.unwrap();
    // The first writer, as a store writes: the id taken, the row moved to b's partition;
    // not committed yet.
    let (first, connection) = config.connect(tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    let bucket_b = i64::from(Shard::bucket(b.as_str()));
    let part_b = i16::try_from(bucket_b % 16).unwrap();
    first
        .batch_execute(
            "BEGIN; INSERT INTO item_ids (id) VALUES ('F-1') ON CONFLICT (id) DO UPDATE SET id = EXCLUDED.id",
        )
        .await
        .unwrap();
    // (Its record, which a shard's load reads, that of a's: the row is moved back.)
    let record: Vec<u8> = first
        .query_one("SELECT record FROM items WHERE id = 'F-1'", &[])
        .await
        .unwrap()
        .get(0);
    first
        .execute("DELETE FROM items WHERE id = 'F-1' AND part <> $1", &[&part_b])
        .await
        .unwrap();
    first
        .execute(
            "INSERT INTO items (id, client, bucket, kind, number, issued_on, total_minor, currency, status, \
             reminders, record, part) \
             VALUES ('F-1', $1, $2, 'invoice', 'F-1', '2026-01-01', 100, 'USD', 'open', true, $4, $3)",
            &[&b.as_str(), &bucket_b, &part_b, &record],
        )
        .await
        .unwrap();
    // The second, through the store, waits for it.
    let second = {
        let store = store.clone();
        let moved_back = [invoice_f1(&a)];
        tokio::spawn(async move { store.put_items(&moved_back).await })
    };
    assert!(
        another_session_waits(&first, false).await,
        "the second writer never waited for the first"
    );
    first.batch_execute("COMMIT").await.unwrap();
    second.await.unwrap().unwrap();
    assert_eq!(
        store.load().await.unwrap().items,
        [invoice_f1(&a)],
        "stored once, as the last writer put it"
    );
}
