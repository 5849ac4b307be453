//! The PostgreSQL store at its limits, against a real server (`DUNNING_PG_URL`, as in
//! `pg_store.rs`): every field at the ends of its range and hostile text through a shard's
//! binary COPY and an item's `record`, an upgrade from schema version 3, history instants at
//! the edges, racing outcome records, a shard's partitions, and a shard's load racing a
//! write.

#[path = "../../../tests/common/mod.rs"]
mod common;
mod support;

use std::sync::Arc;
use std::time::Duration as StdDuration;

use common::*;
use dunning::*;
use dunning_adapters::pg_store::PgStore;
use support::pg_server;

mod schema {
    refinery::embed_migrations!("migrations/postgres");
}

async fn admin(config: &tokio_postgres::Config) -> tokio_postgres::Client {
    let (db, connection) = config.connect(tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    db
}

/// Whether `store.load_shard(shard)` answers within 5 s while another session holds
/// `items_5` (a partition no shard below holds: part 5) locked.
async fn loads_beside_a_locked_partition(
    config: &tokio_postgres::Config,
    store: &PgStore,
    shard: Shard,
) -> bool {
    let admin = admin(config).await;
    admin
        .batch_execute("BEGIN; LOCK TABLE items_5 IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    let s = store.clone();
    let load = tokio::spawn(async move { s.load_shard(shard).await });
    let done = tokio::time::timeout(StdDuration::from_secs(5), async {
        while !load.is_finished() {
            tokio::time::sleep(StdDuration::from_millis(20)).await;
        }
    })
    .await
    .is_ok();
    admin.batch_execute("ROLLBACK").await.unwrap();
    if done {
        load.await.unwrap().unwrap();
    } else {
        load.abort();
    }
    done
}

/// A shard of a count dividing 16 reads only its partitions (README, Deploying): shards 0/2,
/// 0/4, 0/8 and 0/16 load while part 5 is locked. (Failed before for 0/16: its items' two
/// halves, `bucket % 32` of 0 and 16, read every partition.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shard_of_sixteen_reads_only_its_partitions() {
    let Some(url) = pg_server() else { return };
    let (config, _) = support::fresh_pg_database(&url, "limits").await;
    let store = PgStore::connect_with(config.clone(), 4).await.unwrap();
    let (clients, items, history) = filled_store();
    store.put_clients(&clients).await.unwrap();
    store.put_items(&items).await.unwrap();
    store.put_history(&history).await.unwrap();
    for shard in [
        Shard::new(0, 2).unwrap(),
        Shard::new(0, 4).unwrap(),
        Shard::new(0, 8).unwrap(),
    ] {
        assert!(
            loads_beside_a_locked_partition(&config, &store, shard).await,
            "control: shard {shard} read part 5"
        );
    }
    let shard = Shard::new(0, 16).unwrap();
    assert!(
        loads_beside_a_locked_partition(&config, &store, shard).await,
        "shard {shard} read part 5 (its items scan every partition)"
    );
}

/// A session on `config`'s database, brought to schema version 3 (what the store of that
/// version left).
async fn at_version_3(config: &tokio_postgres::Config) -> tokio_postgres::Client {
    let mut db = admin(config).await;
    schema::migrations::runner()
        .set_target(refinery::Target::Version(3))
        .run_async(&mut db)
        .await
        .unwrap();
    db
}

/// A database at schema version 3 holding a typed item row with every field set (as the
/// version 3 store wrote it: its lists as JSONB), upgraded to version 4 by the first store to
/// connect: the whole load (columns), every shard's (the `record` the migration framed in
/// SQL) and the client's all read the item as it was.
#[tokio::test]
async fn an_upgraded_typed_item_with_every_field_reads_the_same_by_every_load() {
    let Some(url) = pg_server() else { return };
    let (config, _) = support::fresh_pg_database(&url, "limits").await;
    let db = at_version_3(&config).await;
    let usd = Currency::from_code("USD").unwrap();
    let hostile = "'; DROP TABLE items; -- \\ \"q\" \u{202e}rtl\u{202c} 💸\r\nBcc: x@y\t\u{7f}";
    let client_id: ClientId = "c'1".parse().unwrap();
    let full = Item {
        id: ItemId::new("F'1\"x").unwrap(),
        client: client_id.clone(),
        kind: ItemKind::Signature,
        number: "N\\1 \u{202e}".into(),
        issued_on: chrono::NaiveDate::MAX,
        sent_on: Some(d(2026, 3, 2)),
        due_on: Some(chrono::NaiveDate::from_ymd_opt(-4713, 11, 24).unwrap()),
        total: Some(Money::from_minor(i64::MIN, usd)),
        applied: vec![Applied {
            kind: AppliedKind::CreditNote,
            amount: Money::from_minor(i64::MAX, usd),
            on: d(1999, 12, 31),
            reference: Some(hostile.into()),
        }],
        status: ItemStatus::PartiallyPaid,
        settled_on: Some(d(2000, 1, 1)),
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
    let bucket = i64::from(Shard::bucket(client_id.as_str()));
    let json = |v: serde_json::Value| v;
    db.execute(
        "INSERT INTO clients (id, bucket, doc, part) VALUES ($1, $2, $3, ($2::bigint % 16)::smallint)",
        &[
            &client_id.as_str(),
            &bucket,
            &serde_json::to_value(Client::new(client_id.clone(), hostile)).unwrap(),
        ],
    )
    .await
    .unwrap();
    db.execute(
        "INSERT INTO items (id, client, bucket, kind, number, issued_on, sent_on, due_on, total_minor, currency, \
         status, settled_on, reminders, reminder_every_days, reminder_count, attachments, applied, pauses, part) \
         VALUES ($1, $2, $3, 'signature', $4, $5, $6, $7, $8, 'USD', 'partially_paid', $9, false, $10, 0, $11, $12, \
         $13, ($3::bigint % 16)::smallint)",
        &[
            &full.id.as_str(),
            &client_id.as_str(),
            &bucket,
            &&*full.number,
            &full.issued_on,
            &full.sent_on,
            &full.due_on,
            &i64::MIN,
            &full.settled_on,
            &i64::from(u32::MAX),
            &json(serde_json::to_value(&full.attachments).unwrap()),
            &json(serde_json::to_value(&full.applied).unwrap()),
            &json(serde_json::to_value(&full.pauses).unwrap()),
        ],
    )
    .await
    .unwrap();
    let full = match db
        .query_one("SELECT count(*) FROM items", &[])
        .await
        .map(|r| r.get::<_, i64>(0))
    {
        Ok(1) => full,
        _ => panic!("the version 3 row was not written"),
    };
    let store = PgStore::connect_with(config, 2).await.unwrap();
    let all = store.load().await.unwrap();
    assert_eq!(all.items, std::slice::from_ref(&full), "whole load");
    for n in [2, 3, 16] {
        let mut items = Vec::new();
        for shard in Shard::all(n) {
            items.extend(store.load_shard(shard).await.unwrap().items);
        }
        assert_eq!(items, std::slice::from_ref(&full), "{n} shards");
    }
    assert_eq!(store.load_client(&client_id).await.unwrap().items, [full]);
}

/// Hostile text (NUL included, where a JSON list holds it) in every text field a shard's
/// COPY and an item's `record` carry, read back the same by every load.
#[tokio::test]
async fn hostile_text_in_lists_round_trips_through_copy_and_record() {
    let Some(url) = pg_server() else { return };
    let (config, _) = support::fresh_pg_database(&url, "limits").await;
    let store = PgStore::connect_with(config, 2).await.unwrap();
    let hostile = "'; -- \\ \"q\" \u{202e}rtl\u{202c} 💸\r\n\t\u{7f}\u{0}\u{feff}\u{10ffff}";
    let id: ClientId = "c'1\"x".parse().unwrap();
    let mut client = Client::new(id.clone(), "\\ \"q\" 💸\r\n")
        .with_contact(Contact::new(hostile, "a@b.example"))
        .with_tag(hostile)
        .with_locale("es-CL");
    client.pauses = vec![Pause::new(PauseKind::Dispute, hostile)];
    client.overrides.cc = Some(vec![hostile.into()]);
    let mut item = Item::invoice(
        "F'1\"x".parse().unwrap(),
        id.clone(),
        d(2026, 1, 1),
        Money::from_minor(1, Currency::from_code("CLF").unwrap()),
    );
    item.attachments = vec![hostile.into(); 3];
    item.number = "\\x00 \\\\ '\"".into();
    store.put_clients(std::slice::from_ref(&client)).await.unwrap();
    store.put_items(std::slice::from_ref(&item)).await.unwrap();
    let entry = HistoryEntry {
        outcome: HistoryOutcome::Failed {
            error: hostile.into(),
        },
        ..HistoryEntry::manual(id.clone(), item.id.clone(), utc(2026, 4, 1, 9, 0))
    };
    store.append_history(entry.clone()).await.unwrap();
    let all = store.load().await.unwrap();
    assert_eq!(
        (&all.clients[..], &all.items[..], &all.history[..]),
        (
            std::slice::from_ref(&client),
            std::slice::from_ref(&item),
            std::slice::from_ref(&entry)
        )
    );
    for n in [2, 5, 16, 32] {
        let mut parts = Snapshot::default();
        for shard in Shard::all(n) {
            let p = store.load_shard(shard).await.unwrap();
            parts.clients.extend(p.clients);
            parts.items.extend(p.items);
            parts.history.extend(p.history);
        }
        assert_eq!(parts, all, "{n} shards");
    }
}

/// Two dispatchers recording the same abandoned claim at once through `finish_claimed`: one
/// is recorded, the other refused, and one history entry and log line are written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_finish_claimed_records_once() {
    let Some(url) = pg_server() else { return };
    let (config, _) = support::fresh_pg_database(&url, "limits").await;
    let store = Arc::new(PgStore::connect_with(config, 8).await.unwrap());
    let at = utc(2026, 4, 1, 9, 0) + chrono::Duration::nanoseconds(999);
    let c: ClientId = "c1".parse().unwrap();
    for n in 0..40 {
        let key: EventKey = format!("overdue/F-{n}/1").into();
        assert_eq!(
            store.claim(&key, at, None).await.unwrap(),
            Claim::Granted { attempt: 1 }
        );
        let go = |who: &str| {
            let (store, key, c) = (store.clone(), key.clone(), c.clone());
            let who = who.to_owned();
            tokio::spawn(async move {
                let entry = HistoryEntry {
                    key: key.clone(),
                    rule: None,
                    client: c.clone(),
                    items: vec![],
                    sent_at: at,
                    outcome: HistoryOutcome::OutcomeUnknown,
                };
                let log = LogEntry {
                    at,
                    client: c,
                    item: None,
                    key: Some(key.to_string()),
                    action: Action::Skipped { reason: who },
                };
                store
                    .finish_claimed(
                        &key,
                        (at, 1),
                        Delivery::Unknown {
                            at,
                            attempt: 1,
                            error: "x".into(),
                        },
                        Some(entry),
                        Some(log),
                    )
                    .await
            })
        };
        let (a, b) = (go("a"), go("b"));
        let (a, b) = (a.await.unwrap(), b.await.unwrap());
        let oks = [&a, &b].iter().filter(|r| r.is_ok()).count();
        assert_eq!(oks, 1, "{a:?} {b:?}");
        assert!(
            [&a, &b]
                .iter()
                .any(|r| matches!(r, Err(StoreError::NoLongerClaimed { .. }))),
            "{a:?} {b:?}"
        );
        let history = store.load_client(&c).await.unwrap().history;
        assert_eq!(history.iter().filter(|h| h.key == key).count(), 1);
        let log = store.read_log(&LogFilter::key(key.to_string())).await.unwrap();
        assert_eq!(log.len(), 1);
    }
    // A claim held at an instant a microsecond off is not that claim; the same microsecond is.
    let key: EventKey = "overdue/G/1".into();
    store.claim(&key, at, None).await.unwrap();
    let unknown = Delivery::Unknown {
        at,
        attempt: 1,
        error: "x".into(),
    };
    assert!(matches!(
        store
            .finish_claimed(
                &key,
                (at + chrono::Duration::microseconds(1), 1),
                unknown.clone(),
                None,
                None
            )
            .await,
        Err(StoreError::NoLongerClaimed { .. })
    ));
    assert!(matches!(
        store
            .finish_claimed(
                &key,
                (at - chrono::Duration::microseconds(1), 1),
                unknown.clone(),
                None,
                None
            )
            .await,
        Err(StoreError::NoLongerClaimed { .. })
    ));
    store
        .finish_claimed(
            &key,
            (at - chrono::Duration::nanoseconds(999), 1),
            unknown,
            None,
            None,
        )
        .await
        .unwrap();
}

/// A client id whose bucket falls in partition `part`.
fn client_of_part(part: u32) -> ClientId {
    (0..10_000)
        .map(|n| format!("c{n}"))
        .find(|id| Shard::bucket(id) % 16 == part)
        .unwrap()
        .parse()
        .unwrap()
}

/// Waits (up to 5 s) until another session of `admin`'s database waits for a lock.
async fn another_session_waits(admin: &tokio_postgres::Client) -> bool {
    for _ in 0..500 {
        let n = admin
            .query(
                "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() \
                 AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()",
                &[],
            )
            .await
            .unwrap();
        if !n.is_empty() {
            return true;
        }
        tokio::time::sleep(StdDuration::from_millis(10)).await;
    }
    false
}

/// A shard's load reads its items in two halves, in one snapshot of the database: an item
/// moved by a write committed while the load runs, from a client of one half to a client of
/// the other, is read once. Shard 0/8 here: half 0 is part 0, half 1 part 8. (Failed before
/// with a pool of one: each half a statement in a snapshot of its own, the second waiting
/// for the connection, F-1 was read twice, as each client's.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shards_load_racing_a_move_between_its_halves_reads_the_item_once() {
    let Some(url) = pg_server() else { return };
    let (config, _) = support::fresh_pg_database(&url, "limits").await;
    let store = PgStore::connect_with(config.clone(), 8).await.unwrap();
    let (x, y) = (client_of_part(0), client_of_part(8));
    store
        .put_clients(&[Client::new(x.clone(), "X"), Client::new(y.clone(), "Y")])
        .await
        .unwrap();
    let f1 = |c: &ClientId| {
        Item::invoice(
            "F-1".parse().unwrap(),
            c.clone(),
            d(2026, 1, 1),
            Money::from_minor(100, Currency::from_code("USD").unwrap()),
        )
    };
    // Y's record of F-1, for the move below; then F-1 stored as X's.
    store.put_items(&[f1(&y)]).await.unwrap();
    let admin = admin(&config).await;
    let record_y: Vec<u8> = admin
        .query_one("SELECT record FROM items WHERE id = 'F-1'", &[])
        .await
        .unwrap()
        .get(0);
    store.put_items(&[f1(&x)]).await.unwrap();
    let record_x: Vec<u8> = admin
        .query_one("SELECT record FROM items WHERE id = 'F-1'", &[])
        .await
        .unwrap()
        .get(0);
    let shard = Shard::new(0, 8).unwrap();
    assert_eq!(store.load_shard(shard).await.unwrap().items, [f1(&x)]);
    // A pool of one (the reads take turns on one connection) and of eight (each read on a
    // connection of its own).
    let watcher = self::admin(&config).await;
    for (pool, moved_to, client) in [(1, 8, &y), (8, 0, &x)] {
        let loader = PgStore::connect_with(config.clone(), pool).await.unwrap();
        let locked = if moved_to == 8 { 0 } else { 8 };
        admin
            .batch_execute(&format!(
                "BEGIN; LOCK TABLE items_{locked} IN ACCESS EXCLUSIVE MODE"
            ))
            .await
            .unwrap();
        let s = loader.clone();
        let load = tokio::spawn(async move { s.load_shard(shard).await });
        // (Watched from a session of its own: a session sees the others' activity as it was
        // when its transaction first looked.)
        assert!(
            another_session_waits(&watcher).await,
            "the load never waited for part {locked}"
        );
        admin
            .execute("DELETE FROM items WHERE id = 'F-1'", &[])
            .await
            .unwrap();
        let record: Vec<u8> = if moved_to == 8 {
            record_y.clone()
        } else {
            record_x.clone()
        };
        admin
            .execute(
                "INSERT INTO items (id, client, bucket, kind, number, issued_on, total_minor, currency, status, \
                 reminders, record, part) \
                 VALUES ('F-1', $1, $2, 'invoice', 'F-1', '2026-01-01', 100, 'USD', 'open', true, $3, $4)",
                &[&client.as_str(), &i64::from(Shard::bucket(client.as_str())), &record, &(moved_to as i16)],
            )
            .await
            .unwrap();
        admin.batch_execute("COMMIT").await.unwrap();
        let loaded = load.await.unwrap().unwrap();
        assert_eq!(store.load().await.unwrap().items, [f1(client)], "stored once");
        let ids: Vec<String> = loaded
            .items
            .iter()
            .map(|i| format!("{} of {}", i.id, i.client))
            .collect();
        assert_eq!(
            ids.len(),
            1,
            "pool of {pool}: F-1 read by the shard's load: {ids:?}"
        );
    }
}

/// History instants with nanoseconds before 2000 and before 1970 (where whole microseconds
/// are counted toward 2000-01-01), at chrono's far end, and entries of equal instants across
/// partitions: every load reads them back as they were, in the order appended.
#[tokio::test]
async fn history_instants_at_the_edges_round_trip_through_every_load() {
    let Some(url) = pg_server() else { return };
    let (config, _) = support::fresh_pg_database(&url, "limits").await;
    let store = PgStore::connect_with(config, 2).await.unwrap();
    let (x, y) = (client_of_part(0), client_of_part(8));
    let ns = chrono::Duration::nanoseconds;
    let instants = [
        utc(1999, 12, 31, 23, 59) + chrono::Duration::seconds(59) + ns(999_999_500),
        utc(1969, 12, 31, 23, 59) + chrono::Duration::seconds(59) + ns(1),
        utc(2000, 1, 1, 0, 0) - ns(1),
        chrono::DateTime::<chrono::Utc>::MAX_UTC,
        utc(2026, 4, 1, 9, 0),
        utc(2026, 4, 1, 9, 0),
    ];
    let mut want = Vec::new();
    for (n, at) in instants.iter().enumerate() {
        for c in [&y, &x] {
            want.push(HistoryEntry::manual(
                c.clone(),
                format!("F-{n}").parse().unwrap(),
                *at,
            ));
        }
    }
    let (first, rest) = want.split_at(5);
    for h in first {
        store.append_history(h.clone()).await.unwrap();
    }
    store.put_history(rest).await.unwrap();
    assert_eq!(store.load().await.unwrap().history, want);
    for n in [2, 3, 8, 16] {
        let mut parts = Vec::new();
        for shard in Shard::all(n) {
            parts.push(store.load_shard(shard).await.unwrap().history);
        }
        for (k, part) in parts.iter().enumerate() {
            let mine: Vec<_> = want
                .iter()
                .filter(|h| Shard::new(k as u32, n).unwrap().contains(&h.client))
                .cloned()
                .collect();
            assert_eq!(part, &mine, "shard {k}/{n}");
        }
    }
    let both = store.load_clients(&[y.clone(), x.clone()]).await.unwrap().history;
    assert_eq!(both, want);
}

async fn seeded(config: &tokio_postgres::Config, pool: usize) -> PgStore {
    let store = PgStore::connect_with(config.clone(), pool).await.unwrap();
    let clients: Vec<Client> = (0..400)
        .map(|n| Client::new(format!("c{n}").parse().unwrap(), "C"))
        .collect();
    store.put_clients(&clients).await.unwrap();
    let items: Vec<Item> = (0..4000)
        .map(|n| {
            Item::invoice(
                format!("F-{n}").parse().unwrap(),
                clients[n % 400].id.clone(),
                d(2026, 1, 1),
                Money::from_minor(100, Currency::from_code("USD").unwrap()),
            )
        })
        .collect();
    store.put_items(&items).await.unwrap();
    store
}

async fn in_transaction(admin: &tokio_postgres::Client) -> Vec<String> {
    admin
        .query(
            "SELECT pid::text || ' ' || state || ' ' || left(query, 60) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

/// A shard's load cancelled at every point (its future dropped after a growing delay)
/// leaves no session idle in a transaction for long, and the store still loads right.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_shard_loads_leave_no_connection_in_a_transaction() {
    let Some(url) = pg_server() else { return };
    let (config, _) = support::fresh_pg_database(&url, "limits").await;
    let store = seeded(&config, 4).await;
    let shard = Shard::new(0, 4).unwrap();
    let whole = store.load_shard(shard).await.unwrap();
    for i in 0..150u64 {
        let _ = tokio::time::timeout(StdDuration::from_micros(i * 40), store.load_shard(shard)).await;
    }
    tokio::time::sleep(StdDuration::from_millis(1500)).await;
    let admin = admin(&config).await;
    let stuck = in_transaction(&admin).await;
    assert!(stuck.is_empty(), "idle in transaction: {stuck:?}");
    for _ in 0..5 {
        let again = store.load_shard(shard).await.unwrap();
        assert_eq!(again.items.len(), whole.items.len());
        assert_eq!(again.clients.len(), whole.clients.len());
    }
}

/// A pool of one, and of two: shard loads racing each other and outcomes being recorded
/// all answer (no hang, no error) with the same rows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_pools_serve_racing_loads() {
    let Some(url) = pg_server() else { return };
    let (config, _) = support::fresh_pg_database(&url, "limits").await;
    let seed = seeded(&config, 4).await;
    let shard = Shard::new(1, 4).unwrap();
    let expected = seed.load_shard(shard).await.unwrap();
    for pool in [1usize, 2, 3] {
        let store = PgStore::connect_with(config.clone(), pool).await.unwrap();
        let mut tasks = Vec::new();
        let want = expected.items.len();
        for n in 0..12 {
            let s = store.clone();
            tasks.push(tokio::spawn(async move {
                if n % 3 == 0 {
                    let key = EventKey::from(format!("k/{n}/{pool}"));
                    s.claim(&key, utc(2026, 4, 1, 9, 0), None).await.map(|_| ())
                } else {
                    s.load_shard(Shard::new(1, 4).unwrap()).await.map(|l| {
                        assert_eq!(l.items.len(), want);
                    })
                }
            }));
        }
        let all = tokio::time::timeout(StdDuration::from_secs(60), futures_util::future::join_all(tasks))
            .await
            .unwrap_or_else(|_| panic!("pool of {pool}: hung"));
        for t in all {
            t.unwrap().unwrap_or_else(|e| panic!("pool of {pool}: {e}"));
        }
        let l = store.load_shard(shard).await.unwrap();
        assert_eq!(l.items.len(), expected.items.len(), "pool of {pool}");
    }
}

/// A version-3 client with every field set (its document as the version 3 store wrote it),
/// plus a version-3 client whose document was written before `overrides` existed, upgraded
/// to version 4: every load reads them as they were.
#[tokio::test]
async fn an_upgraded_full_client_reads_the_same_by_every_load() {
    let Some(url) = pg_server() else { return };
    let (config, _) = support::fresh_pg_database(&url, "limits").await;
    let db = at_version_3(&config).await;
    let id: ClientId = "full'1".parse().unwrap();
    let mut full = Client::new(id.clone(), "Full \u{202e} \"n\"")
        .with_contact(Contact::new("Ana", "ana@acme.cl").with_notify(false))
        .with_time_zone(TimeZone::from_name("America/Santiago").unwrap())
        .with_locale("es-CL")
        .with_tag("vip")
        .with_tag("b")
        .with_pause(Pause::new(PauseKind::Dispute, "why"));
    full.overrides.reminders = Some(false);
    full.overrides.payment_term_days = Some(7);
    full.overrides.reply_to = Some(vec!["a@b.cl".into()]);
    let bucket = i64::from(Shard::bucket(id.as_str()));
    db.execute(
        "INSERT INTO clients (id, bucket, doc, part) VALUES ($1, $2, $3, ($2::bigint % 16)::smallint)",
        &[&id.as_str(), &bucket, &serde_json::to_value(&full).unwrap()],
    )
    .await
    .unwrap();
    let old: ClientId = "old".parse().unwrap();
    let ob = i64::from(Shard::bucket(old.as_str()));
    db.execute(
        "INSERT INTO clients (id, bucket, doc, part) VALUES ($1, $2, $3, ($2::bigint % 16)::smallint)",
        &[
            &old.as_str(),
            &ob,
            &serde_json::json!({"id": "old", "name": "Old", "time_zone": null}),
        ],
    )
    .await
    .unwrap();
    let store = PgStore::connect_with(config, 2).await.unwrap();
    let mut all = store.load().await.unwrap().clients;
    all.sort_by(|a, b| a.id.cmp(&b.id));
    let mut want = vec![full.clone(), Client::new(old.clone(), "Old")];
    want.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(all, want, "whole load");
    for n in [2, 3, 16] {
        let mut got = Vec::new();
        for shard in Shard::all(n) {
            got.extend(store.load_shard(shard).await.unwrap().clients);
        }
        got.sort_by(|a, b| a.id.cmp(&b.id));
        assert_eq!(got, want, "{n} shards");
    }
    assert_eq!(store.load_client(&id).await.unwrap().clients, [full]);
}

/// Backends of the store's pool terminated while shard loads run, again and again (every
/// 20 ms, `DUNNING_KILL_MS`): each load answers (no hang, no panic) either the shard's rows
/// exactly or `Unavailable`, and once the killing stops every load succeeds. (Failed before
/// with a server error, 55000 or 22023: a connection importing the load's snapshot after the
/// one that exported it was lost.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shard_loads_under_terminated_backends_answer_right_or_err() {
    let Some(url) = pg_server() else { return };
    let (config, _) = support::fresh_pg_database(&url, "limits").await;
    let store = seeded(&config, 4).await;
    let shard = Shard::new(2, 4).unwrap();
    let whole = store.load_shard(shard).await.unwrap();
    let killer_db = admin(&config).await;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let s2 = stop.clone();
    let killer = tokio::spawn(async move {
        let mut n = 0u64;
        while !s2.load(std::sync::atomic::Ordering::SeqCst) {
            let _ = killer_db
                .execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                     WHERE datname = current_database() AND pid <> pg_backend_pid()",
                    &[],
                )
                .await;
            n += 1;
            tokio::time::sleep(StdDuration::from_millis(
                std::env::var("DUNNING_KILL_MS")
                    .ok()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(20)
                    + n % 7,
            ))
            .await;
        }
    });
    let mut errors = std::collections::BTreeMap::<String, usize>::new();
    for _ in 0..100 {
        match tokio::time::timeout(StdDuration::from_secs(30), store.load_shard(shard))
            .await
            .expect("a load hung")
        {
            Ok(l) => {
                assert_eq!(l.items.len(), whole.items.len());
                assert_eq!(l.clients.len(), whole.clients.len());
            }
            Err(e) => {
                let kind = match &e {
                    StoreError::Unavailable { .. } => "unavailable".to_owned(),
                    other => other.to_string(),
                };
                *errors.entry(kind).or_default() += 1;
            }
        }
    }
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    killer.await.unwrap();
    for _ in 0..5 {
        store.load_shard(shard).await.unwrap();
    }
    let unexpected: Vec<_> = errors.keys().filter(|k| k.as_str() != "unavailable").collect();
    assert!(
        unexpected.is_empty(),
        "untyped or non-connection errors: {errors:?}"
    );
}
