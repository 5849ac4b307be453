//! Shards: the plans of all shards together are the whole plan, and dispatchers each given one
//! shard of a shared store send together exactly what one dispatcher sends.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use common::*;
use dunning::policy::StatementRule;
use dunning::*;
use proptest::prelude::*;

/// A random portfolio: its policy, clients, items, and a history made by planning it day by
/// day before `now`.
#[derive(Debug, Clone)]
struct World {
    policy: Policy,
    clients: Vec<Client>,
    items: Vec<Item>,
    history: Vec<HistoryEntry>,
    now: DateTime<Utc>,
    horizon: u32,
}

const ZONES: [&str; 5] = [
    "UTC",
    "Europe/Madrid",
    "America/Santiago",
    "Asia/Kolkata",
    "Pacific/Auckland",
];

fn policy_strategy() -> impl Strategy<Value = Policy> {
    (
        0..ZONES.len(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        0u32..4,
    )
        .prop_map(|(zone, grouped, statement, standing, gap)| {
            let soon = rule("soon", Anchor::Due, -3);
            let overdue = rule("overdue", Anchor::Due, 2).repeat(5, 4);
            let overdue = if grouped { overdue.grouped() } else { overdue };
            let mut policy = Policy::new(tz(ZONES[zone]))
                .with_rule(rule("issued", Anchor::Issued, 0))
                .with_rule(soon)
                .with_rule(overdue)
                .with_min_gap(gap);
            if statement {
                policy = policy.with_statement(StatementRule::new(
                    "statement".parse().unwrap(),
                    "FREQ=WEEKLY;BYDAY=MO",
                    d(2026, 1, 5),
                ));
            }
            if standing {
                policy = policy.with_standing(StandingRule::new(20, 40));
            }
            policy
        })
}

fn world_strategy() -> impl Strategy<Value = World> {
    let clients = 1usize..14;
    (policy_strategy(), clients, 0u32..60, 0u32..24, 0u32..30)
        .prop_flat_map(|(policy, clients, day, hour, horizon)| {
            let items =
                proptest::collection::vec((0..clients, 0u32..70, 0u32..40, 1i64..100_000, 0u8..4), 0..40);
            (Just(policy), Just(clients), items, Just((day, hour, horizon)))
        })
        .prop_map(|(policy, clients, items, (day, hour, horizon))| {
            let clients: Vec<Client> = (0..clients)
                .map(|c| client(&format!("client-{c}"), ZONES[c % ZONES.len()]))
                .collect();
            let items: Vec<Item> = items
                .into_iter()
                .enumerate()
                .map(|(n, (c, issued, term, cents, paid))| {
                    let issued = d(2026, 1, 1) + Duration::days(i64::from(issued));
                    let total = Money::from_minor(cents, Currency::from_code("EUR").unwrap());
                    let mut item = invoice(
                        &format!("F-{n}"),
                        &format!("client-{c}"),
                        issued,
                        issued + Duration::days(i64::from(term)),
                        total,
                    );
                    if paid == 0 {
                        item = item.paid(total, issued + Duration::days(i64::from(term) / 2));
                    }
                    item
                })
                .collect();
            let now = utc(2026, 2, 1, hour, 0) + Duration::days(i64::from(day));
            // What daily ticks at this hour sent before `now`.
            let planner = Planner::new(&policy).unwrap();
            let history = simulate(
                &planner,
                &clients,
                &items,
                now - Duration::days(30),
                now - Duration::days(1),
                Duration::days(1),
            );
            World {
                policy,
                clients,
                items,
                history,
                now,
                horizon,
            }
        })
}

/// The world's inputs that belong to `shard`.
fn part(w: &World, shard: Shard) -> (Vec<Client>, Vec<Item>, Vec<HistoryEntry>) {
    (
        w.clients
            .iter()
            .filter(|c| shard.contains(&c.id))
            .cloned()
            .collect(),
        w.items
            .iter()
            .filter(|i| shard.contains(&i.client))
            .cloned()
            .collect(),
        w.history
            .iter()
            .filter(|h| shard.contains(&h.client))
            .cloned()
            .collect(),
    )
}

/// A plan's events and suppressions, serialized and sorted: comparable across plans made in
/// parts.
fn contents(plan: &Plan) -> (Vec<String>, Vec<String>) {
    let mut events: Vec<String> = plan.events().map(|e| serde_json::to_string(e).unwrap()).collect();
    let mut suppressed: Vec<String> = plan
        .suppressed()
        .iter()
        .map(|s| serde_json::to_string(s).unwrap())
        .collect();
    events.sort();
    suppressed.sort();
    (events, suppressed)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, failure_persistence: None, ..ProptestConfig::default() })]

    /// For 1 to 6 shards, the plans of the shards' inputs together are the whole plan, and
    /// each shard's plan is about its own clients only.
    #[test]
    fn the_plans_of_all_shards_together_are_the_whole_plan(w in world_strategy(), count in 1u32..7) {
        let planner = Planner::new(&w.policy).unwrap();
        let horizon = Horizon::days(w.horizon);
        let whole = planner.plan(&w.clients, &w.items, &w.history, w.now, horizon).unwrap();
        let (mut events, mut suppressed) = (Vec::new(), Vec::new());
        for shard in Shard::all(count) {
            let (clients, items, history) = part(&w, shard);
            let plan = planner.plan(&clients, &items, &history, w.now, horizon).unwrap();
            for e in plan.events() {
                prop_assert!(shard.contains(&e.client), "shard {} planned {} of {}", shard, e.key, e.client);
            }
            let (e, s) = contents(&plan);
            events.extend(e);
            suppressed.extend(s);
        }
        events.sort();
        suppressed.sort();
        let (want_events, want_suppressed) = contents(&whole);
        prop_assert_eq!(events, want_events);
        prop_assert_eq!(suppressed, want_suppressed);
    }
}

fn month_world() -> (Policy, Vec<Client>, Vec<Item>) {
    let policy = Policy::new(tz("Europe/Madrid"))
        .with_rule(rule("soon", Anchor::Due, -3))
        .with_rule(rule("overdue", Anchor::Due, 2).repeat(4, 5).grouped())
        .with_statement(StatementRule::new(
            "statement".parse().unwrap(),
            "FREQ=WEEKLY;BYDAY=MO",
            d(2026, 1, 5),
        ))
        .with_standing(StandingRule::new(10, 20));
    let clients: Vec<Client> = (0..23)
        .map(|c| client(&format!("c{c}"), ZONES[c % ZONES.len()]))
        .collect();
    let items: Vec<Item> = (0..80)
        .map(|n| {
            let issued = d(2026, 3, 1) + Duration::days(n % 17);
            invoice(
                &format!("F-{n}"),
                &format!("c{}", n % 23),
                issued,
                issued + Duration::days(7 + n % 11),
                money("120.50", "EUR"),
            )
        })
        .collect();
    (policy, clients, items)
}

/// The keys sent by dispatchers on one store, ticking every 6 hours through April, with a
/// payment landing mid-month: each key with the day and the dispatcher (shard) that sent it.
async fn month(shards: u32) -> (BTreeMap<String, DateTime<Utc>>, Vec<(String, String)>) {
    let (policy, clients, items) = month_world();
    let owner: BTreeMap<String, String> = items
        .iter()
        .map(|i| (i.id.to_string(), i.client.to_string()))
        .collect();
    let store = Arc::new(MemoryStore::new(clients, items));
    let mailer = Arc::new(RecordingMailer::new());
    let dispatchers: Vec<(Shard, Dispatcher)> = Shard::all(shards)
        .map(|shard| {
            let d = Dispatcher::new(store.clone(), mailer.clone(), &policy)
                .unwrap()
                .with_options(DispatchOptions::default().with_shard(shard))
                .unwrap();
            (shard, d)
        })
        .collect();
    let mut sent = BTreeMap::new();
    let mut by = Vec::new();
    let mut now = utc(2026, 3, 1, 3, 0);
    while now < utc(2026, 5, 1, 0, 0) {
        if now == utc(2026, 3, 20, 3, 0) {
            store.update_items(|items| {
                for i in items.iter_mut().filter(|i| i.id.as_str().ends_with('7')) {
                    let total = i.total.unwrap();
                    *i = i.clone().paid(total, d(2026, 3, 20));
                }
            });
        }
        for (shard, dispatcher) in &dispatchers {
            let report = dispatcher.tick(now).await.unwrap();
            for s in report.sent() {
                assert!(
                    sent.insert(s.key.to_string(), now).is_none(),
                    "{} sent twice",
                    s.key
                );
                assert!(
                    shard.contains(&s.client),
                    "shard {shard} sent {} of {}",
                    s.key,
                    s.client
                );
                by.push((shard.to_string(), s.key.to_string()));
            }
        }
        now += Duration::hours(6);
    }
    // Every history entry is of a client of the shard that wrote it: the owner of its items.
    for h in store.snapshot().history {
        for i in &h.items {
            assert_eq!(owner[i.item.as_str()], h.client.as_str(), "{}", h.key);
        }
    }
    (sent, by)
}

#[tokio::test]
async fn dispatchers_on_all_shards_send_exactly_what_one_dispatcher_sends() {
    let (one, _) = month(1).await;
    assert!(
        one.len() > 100,
        "the month sends enough to compare: {}",
        one.len()
    );
    for shards in [2, 3, 5] {
        let (many, by) = month(shards).await;
        assert_eq!(many, one, "{shards} shards against one dispatcher");
        // Every shard sent something: the partition is used, not one worker doing it all.
        for shard in Shard::all(shards) {
            let name = shard.to_string();
            assert!(by.iter().any(|(s, _)| *s == name), "shard {name} sent nothing");
        }
    }
}

/// An abandoned claim of an item's reminder is recorded by the worker of the item's client's
/// shard alone, once, under that client: not by the worker of a client whose id happens to
/// equal the item's (ids of clients and items are apart).
#[tokio::test]
async fn an_abandoned_claim_is_recorded_by_its_own_shard_only() {
    let count = 2;
    let acme_shard = Shard::all(count).find(|s| s.holds("acme")).unwrap();
    let other = (0..)
        .map(|n| format!("zeta-{n}"))
        .find(|id| !acme_shard.holds(id))
        .unwrap();
    let clients = vec![client("acme", "UTC"), client(&other, "UTC")];
    // The item "acme" is the other client's.
    let items = vec![invoice(
        "acme",
        &other,
        d(2026, 3, 1),
        d(2026, 3, 20),
        money("10", "EUR"),
    )];
    let policy = Policy::new(tz("UTC")).with_rule(rule("overdue", Anchor::Due, 0));
    let store = Arc::new(MemoryStore::new(clients, items));
    let key = EventKey::from("overdue/acme/1");
    // Claimed by a worker that then died.
    store.claim(&key, utc(2026, 3, 20, 9, 0), None).await.unwrap();
    let mailer = Arc::new(RecordingMailer::new());
    let now = utc(2026, 3, 20, 12, 0);
    let mut unknown = Vec::new();
    // The shard of the client named like the item first.
    let mut shards: Vec<Shard> = Shard::all(count).collect();
    shards.sort_by_key(|s| *s != acme_shard);
    for shard in shards {
        let dispatcher = Dispatcher::new(store.clone(), mailer.clone(), &policy)
            .unwrap()
            .with_options(DispatchOptions::default().with_shard(shard))
            .unwrap();
        let report = dispatcher.tick(now).await.unwrap();
        unknown.extend(report.unknown().map(|s| (shard, s.client.to_string())));
    }
    let owner = Shard::all(count).find(|s| s.holds(&other)).unwrap();
    assert_eq!(unknown, [(owner, other.clone())]);
    let entries: Vec<HistoryEntry> = store
        .snapshot()
        .history
        .into_iter()
        .filter(|h| h.key == key)
        .collect();
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0].client.as_str(), other);
    assert!(mailer.sent().is_empty());
}

/// Counts the loads of everything; a shard's load reads the memory store's part directly.
#[derive(Default)]
struct CountWholeLoads(std::sync::atomic::AtomicUsize);

#[async_trait::async_trait]
impl common::hooked::Hooks for CountWholeLoads {
    async fn load(&self, inner: &MemoryStore) -> Result<Snapshot, StoreError> {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        inner.load().await
    }
    async fn load_shard(&self, inner: &MemoryStore, shard: Shard) -> Result<Snapshot, StoreError> {
        inner.load_shard(shard).await
    }
}

/// acme's shard of two, a client of the other shard, and a store with one invoice of each,
/// due on 2026-03-20 (A-1 acme's).
fn two_shards() -> (Shard, String, Arc<MemoryStore>) {
    let acme_shard = Shard::all(2).find(|s| s.holds("acme")).unwrap();
    let other = (0..)
        .map(|n| format!("zeta-{n}"))
        .find(|id| !acme_shard.holds(id))
        .unwrap();
    let clients = vec![client("acme", "UTC"), client(&other, "UTC")];
    let items = vec![
        invoice("A-1", "acme", d(2026, 3, 1), d(2026, 3, 20), money("10", "EUR")),
        invoice("Z-1", &other, d(2026, 3, 1), d(2026, 3, 20), money("10", "EUR")),
    ];
    (acme_shard, other, Arc::new(MemoryStore::new(clients, items)))
}

/// A sharded dispatcher releasing a key of its own shard (as it does by itself when another
/// dispatcher recorded its claim unknown) reads its shard, not every shard; a key of another
/// shard (a host's release) is still found and released. (Failed before: every release read
/// the whole store.)
#[tokio::test]
async fn a_sharded_release_reads_its_own_shard() {
    let (acme_shard, other, inner) = two_shards();
    let at = utc(2026, 3, 20, 9, 0);
    for (rule, item, owner) in [("overdue", "A-1", "acme"), ("overdue", "Z-1", other.as_str())] {
        let key = EventKey::from(format!("{rule}/{item}/1"));
        inner.claim(&key, at, None).await.unwrap();
        let entry = sent_entry(rule, item, owner, 1, at).with_outcome(HistoryOutcome::OutcomeUnknown);
        let unknown = Delivery::Unknown {
            at,
            attempt: 1,
            error: "timeout".into(),
        };
        inner.finish(&key, unknown, Some(entry), None).await.unwrap();
    }
    let hooked = common::hooked::Hooked::new(inner.clone(), CountWholeLoads::default());
    let dispatcher = Dispatcher::new(
        hooked.clone(),
        Arc::new(RecordingMailer::new()),
        &Policy::new(tz("UTC")),
    )
    .unwrap()
    .with_options(DispatchOptions::default().with_shard(acme_shard))
    .unwrap();
    let released = |item: &str| {
        inner
            .snapshot()
            .history
            .iter()
            .any(|h| h.items[0].item.as_str() == item && h.outcome == HistoryOutcome::Released)
    };
    assert!(
        dispatcher
            .release(&EventKey::from("overdue/A-1/1"))
            .await
            .unwrap()
    );
    assert!(released("A-1"));
    assert_eq!(
        hooked.hooks.0.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "read every shard"
    );
    assert!(
        dispatcher
            .release(&EventKey::from("overdue/Z-1/1"))
            .await
            .unwrap()
    );
    assert!(released("Z-1"), "another shard's key is released too");
}

/// A sharded dispatcher resending a key of its own shard reads and plans its shard only; a
/// key of another shard is still found and resent. (Failed before: every resend read, and
/// planned, the whole store.)
#[tokio::test]
async fn a_sharded_resend_reads_its_own_shard() {
    let (acme_shard, other, inner) = two_shards();
    let at = utc(2026, 3, 20, 9, 0);
    for (item, owner) in [("A-1", "acme"), ("Z-1", other.as_str())] {
        inner
            .append_history(sent_entry("overdue", item, owner, 1, at))
            .await
            .unwrap();
    }
    let hooked = common::hooked::Hooked::new(inner.clone(), CountWholeLoads::default());
    let mailer = Arc::new(RecordingMailer::new());
    let policy = Policy::new(tz("UTC")).with_rule(rule("overdue", Anchor::Due, 0));
    let dispatcher = Dispatcher::new(hooked.clone(), mailer.clone(), &policy)
        .unwrap()
        .with_clock(Arc::new(ManualClock::new(utc(2026, 3, 21, 9, 0))))
        .with_options(DispatchOptions::default().with_shard(acme_shard))
        .unwrap();
    dispatcher
        .resend(&EventKey::from("overdue/A-1/1"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(mailer.sent().len(), 1);
    assert_eq!(
        hooked.hooks.0.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "read every shard"
    );
    dispatcher
        .resend(&EventKey::from("overdue/Z-1/1"))
        .await
        .unwrap_or_else(|e| panic!("another shard's key: {e}"));
    assert_eq!(mailer.sent().len(), 2);
}
