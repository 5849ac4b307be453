//! A conformance suite for store implementations (feature `conformance`).
//!
//! A host runs it against its own adapter in its tests; this crate runs it against
//! [`MemoryStore`](crate::MemoryStore). Each check is a function named for the promise it
//! checks, bounded by the one trait it needs ([`DispatchStore`], [`ActionLog`] or
//! [`ReminderStore`]), so a store of one job runs only its checks, and a failing check is
//! run alone. Each check takes a function making a fresh, empty store and panics with a
//! sentence saying what the store did wrong. [`run`] runs them all;
//! [`shards_partition_the_load`] takes a store the host has filled.
//!
//! # Example
//! One test per check, as a host would write them for its own store:
//! ```
//! use dunning::{conformance, MemoryStore};
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! conformance::claims_are_exclusive_and_sent_stays_sent(MemoryStore::default).await;
//! conformance::racing_claims_have_one_winner(MemoryStore::default).await;
//! conformance::batch_claims_grant_each_key_once(MemoryStore::default).await;
//! conformance::log_filters_and_keeps_order(MemoryStore::default).await;
//! // ... or every check at once:
//! conformance::run(MemoryStore::default).await;
//! # });
//! ```

use chrono::{Duration, TimeZone, Utc};
use futures_util::future::join_all;

use crate::model::history::{HistoryEntry, HistoryItem};
use crate::model::id::{ClientId, EventKey, ItemId, RuleId};
use crate::money::{Currency, Money};
use crate::shard::Shard;
use crate::store::{
    Action, ActionLog, Claim, Delivery, DispatchStore, Finish, LogEntry, LogFilter, Reminder, ReminderStatus,
    ReminderStore, Store,
};

fn key(s: &str) -> EventKey {
    EventKey::from(s)
}

fn start() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 4, 1, 12, 0, 0)
        .single()
        .unwrap_or_default()
}

fn entry(k: &str, item: &str, at: chrono::DateTime<Utc>) -> HistoryEntry {
    HistoryEntry {
        key: key(k),
        rule: RuleId::new("overdue").ok(),
        client: ClientId::known("c1"),
        items: vec![HistoryItem {
            item: ItemId::new(item).unwrap_or_else(|_| ItemId::known("i1")),
            occurrence: 1,
        }],
        sent_at: at,
        outcome: crate::model::history::HistoryOutcome::Sent,
    }
}

/// Runs every check, each on a fresh store from `make`: what a [`Store`] must do.
///
/// # Panics
/// On the first behaviour that breaks the [`Store`] contract.
pub async fn run<S: Store>(make: impl Fn() -> S) {
    claims_are_exclusive_and_sent_stays_sent(&make).await;
    retries_wait_until_due(&make).await;
    settled_keys_stay_settled(&make).await;
    abandoned_claims_are_those_before(&make).await;
    outcomes_for_a_claim_need_that_claim(&make).await;
    racing_claims_have_one_winner(&make).await;
    batch_claims_grant_each_key_once(&make).await;
    batch_outcomes_are_recorded_each_with_its_entries(&make).await;
    load_clients_reads_each_client_once(&make).await;
    appended_history_is_loaded(&make).await;
    log_filters_and_keeps_order(&make).await;
    reminders_are_saved_replaced_and_deleted(&make).await;
}

/// Checks that a claim is exclusive; a sent outcome is recorded with its history entry and log line, and a sent key is never granted again.
///
/// # Panics
/// When the store breaks that promise, with a sentence saying how.
pub async fn claims_are_exclusive_and_sent_stays_sent<S: DispatchStore + ActionLog>(make: impl Fn() -> S) {
    let t = start();
    // Claims are exclusive, and a sent key stays sent, with its history appended.
    let s = make();
    let k = key("overdue/i1/1");
    assert_eq!(
        s.claim(&k, t, None).await.ok(),
        Some(Claim::Granted { attempt: 1 }),
        "a new key is granted"
    );
    assert!(
        matches!(
            s.claim(&k, t, None).await,
            Ok(Claim::Refused(Delivery::Claimed { .. }))
        ),
        "a claimed key is refused to a second caller"
    );
    let sent = Delivery::Sent {
        at: t,
        message_id: "<m1>".into(),
    };
    let line = LogEntry {
        at: t,
        client: ClientId::known("c1"),
        item: Some(ItemId::known("i1")),
        key: Some(k.to_string()),
        action: Action::Sent {
            rule: None,
            to: vec!["ana@example.com".into()],
            message_id: "<m1>".into(),
        },
    };
    s.finish(
        &k,
        sent.clone(),
        Some(entry("overdue/i1/1", "i1", t)),
        Some(line.clone()),
    )
    .await
    .unwrap_or_else(|e| panic!("finish of a claimed key failed: {e}"));
    assert_eq!(
        s.read_log(&LogFilter::default()).await.ok(),
        Some(vec![line]),
        "finish appends the outcome's log line in the same step"
    );
    assert_eq!(
        s.delivery(&k).await.ok().flatten(),
        Some(sent.clone()),
        "the outcome is readable"
    );
    let history = s.load().await.map(|snap| snap.history).unwrap_or_default();
    assert_eq!(
        history.len(),
        1,
        "a sent outcome appends its history entry in the same step"
    );
    assert_eq!(
        s.claim(&k, t + Duration::days(1), None).await.ok(),
        Some(Claim::Refused(sent)),
        "a sent key is never granted again"
    );
}

/// Checks that a retry is granted only once due, as the next attempt.
///
/// # Panics
/// When the store breaks that promise, with a sentence saying how.
pub async fn retries_wait_until_due<S: DispatchStore>(make: impl Fn() -> S) {
    let t = start();
    // A retry is granted only once due, with the next attempt number.
    let s = make();
    let k = key("overdue/i2/1");
    let _ = s.claim(&k, t, None).await;
    let retry = Delivery::Retrying {
        attempt: 1,
        not_before: t + Duration::minutes(10),
        error: "451".into(),
    };
    let _ = s.finish(&k, retry, None, None).await;
    assert!(
        matches!(
            s.claim(&k, t + Duration::minutes(5), None).await,
            Ok(Claim::Refused(Delivery::Retrying { .. }))
        ),
        "a retry is refused before it is due"
    );
    assert_eq!(
        s.claim(&k, t + Duration::minutes(10), None).await.ok(),
        Some(Claim::Granted { attempt: 2 }),
        "a due retry is granted as the next attempt"
    );
}

/// Checks that failed and unknown outcomes are never granted again, a skipped key is, and an unrecorded claim is taken again only past a lease.
///
/// # Panics
/// When the store breaks that promise, with a sentence saying how.
pub async fn settled_keys_stay_settled<S: DispatchStore>(make: impl Fn() -> S) {
    let t = start();
    // A failed key stays failed; an unrecorded claim is taken again only past the lease.
    let s = make();
    let k = key("overdue/i3/1");
    let _ = s.claim(&k, t, None).await;
    let failed = Delivery::Failed {
        at: t,
        attempt: 1,
        error: "550".into(),
    };
    let failed_entry =
        entry("overdue/i3/1", "i3", t).with_outcome(crate::HistoryOutcome::Failed { error: "550".into() });
    let _ = s
        .finish(&k, failed.clone(), Some(failed_entry.clone()), None)
        .await;
    assert_eq!(
        s.claim(&k, t + Duration::days(1), None).await.ok(),
        Some(Claim::Refused(failed)),
        "a failed key stays failed"
    );
    assert!(
        s.load()
            .await
            .map(|x| x.history.contains(&failed_entry))
            .unwrap_or(false),
        "a failure's history entry is appended with it, its outcome kept"
    );
    // An unknown outcome is never granted again; a key skipped after its claim is.
    let k = key("overdue/i5/1");
    let _ = s.claim(&k, t, None).await;
    let unknown = Delivery::Unknown {
        at: t,
        attempt: 1,
        error: "timed out".into(),
    };
    let _ = s.finish(&k, unknown.clone(), None, None).await;
    assert_eq!(
        s.claim(&k, t + Duration::days(1), Some(Duration::minutes(1)))
            .await
            .ok(),
        Some(Claim::Refused(unknown)),
        "an unknown outcome is never granted again"
    );
    let k = key("overdue/i6/1");
    let _ = s.claim(&k, t, None).await;
    let skipped = Delivery::Skipped {
        at: t,
        reason: "paid".into(),
    };
    let _ = s.finish(&k, skipped, None, None).await;
    assert!(
        matches!(
            s.claim(&k, t + Duration::hours(1), None).await,
            Ok(Claim::Granted { .. })
        ),
        "a key skipped after its claim may be claimed again"
    );
    let k = key("overdue/i4/1");
    let _ = s.claim(&k, t, None).await;
    assert!(
        matches!(
            s.claim(&k, t + Duration::hours(1), None).await,
            Ok(Claim::Refused(Delivery::Claimed { .. }))
        ),
        "without a lease an unrecorded claim is never taken again (at-most-once)"
    );
    assert_eq!(
        s.claim(&k, t + Duration::hours(1), Some(Duration::minutes(30)))
            .await
            .ok(),
        Some(Claim::Granted { attempt: 2 }),
        "with a lease an old unrecorded claim is taken again (at-least-once)"
    );
    assert!(
        s.finish(
            &key("never/claimed/1"),
            Delivery::Failed {
                at: t,
                attempt: 1,
                error: String::new()
            },
            None,
            None
        )
        .await
        .is_err(),
        "finishing an unclaimed key is an error"
    );
}

/// Checks that `abandoned_claims` lists exactly the claims taken before the instant asked.
///
/// # Panics
/// When the store breaks that promise, with a sentence saying how.
pub async fn abandoned_claims_are_those_before<S: DispatchStore>(make: impl Fn() -> S) {
    let t = start();
    // Abandoned claims: exactly the claims taken before the instant asked.
    let s = make();
    let (old, young, sent) = (
        key("overdue/old/1"),
        key("overdue/young/1"),
        key("overdue/sent/1"),
    );
    let _ = s.claim(&old, t, None).await;
    let _ = s.claim(&sent, t, None).await;
    let _ = s
        .finish(
            &sent,
            Delivery::Sent {
                at: t,
                message_id: "<m>".into(),
            },
            None,
            None,
        )
        .await;
    let _ = s.claim(&young, t + Duration::hours(2), None).await;
    let listed = s
        .abandoned_claims(t + Duration::hours(1))
        .await
        .unwrap_or_default();
    let keys: Vec<&EventKey> = listed.iter().map(|(k, _)| k).collect();
    assert_eq!(
        keys,
        [&old],
        "abandoned_claims lists the claims taken before the instant, and only those"
    );
}

/// Checks that an outcome recorded for a claim ([`DispatchStore::finish_claimed`]) is
/// recorded, with its history entry, only while the store holds that claim: not over the key
/// taken again after its lease, nor over an outcome recorded meanwhile; and that of eight
/// racing records for one claim exactly one is recorded.
///
/// # Panics
/// When the store breaks that promise, with a sentence saying how.
pub async fn outcomes_for_a_claim_need_that_claim<S: DispatchStore>(make: impl Fn() -> S) {
    let t = start();
    let s = make();
    let k = key("overdue/lease/1");
    let lease = Some(Duration::hours(1));
    let later = t + Duration::hours(2);
    assert_eq!(
        s.claim(&k, t, lease).await.ok(),
        Some(Claim::Granted { attempt: 1 })
    );
    assert_eq!(
        s.claim(&k, later, lease).await.ok(),
        Some(Claim::Granted { attempt: 2 }),
        "a claim whose lease ran out is granted again"
    );
    let unknown = |attempt| Delivery::Unknown {
        at: later,
        attempt,
        error: "claimed and never recorded (a crash)".into(),
    };
    let first = s
        .finish_claimed(
            &k,
            (t, 1),
            unknown(1),
            Some(entry("overdue/lease/1", "lease", t)),
            None,
        )
        .await;
    assert!(
        matches!(first, Err(crate::StoreError::NoLongerClaimed { .. })),
        "an outcome for a claim taken again since is refused as no longer claimed: {first:?}"
    );
    assert!(
        s.delivery(&k)
            .await
            .ok()
            .flatten()
            .is_some_and(|d| d.is_claim(later, 2)),
        "a refused outcome leaves the claim taken again as it was"
    );
    assert_eq!(
        history_of(&s, &k).await,
        0,
        "a refused outcome appends no history"
    );
    let sent = Delivery::Sent {
        at: later,
        message_id: "<m>".into(),
    };
    assert_eq!(
        s.finish_claimed(
            &k,
            (later, 2),
            sent.clone(),
            Some(entry("overdue/lease/1", "lease", later)),
            None
        )
        .await,
        Ok(()),
        "an outcome for the claim the store holds is recorded"
    );
    assert_eq!(s.delivery(&k).await.ok().flatten(), Some(sent.clone()));
    assert_eq!(history_of(&s, &k).await, 1, "with its history entry");
    let again = s.finish_claimed(&k, (later, 2), unknown(2), None, None).await;
    assert!(
        matches!(again, Err(crate::StoreError::NoLongerClaimed { .. })),
        "an outcome recorded meanwhile is not overwritten: {again:?}"
    );
    assert_eq!(s.delivery(&k).await.ok().flatten(), Some(sent));
    // Racing records for one claim: one is recorded.
    let r = key("overdue/race-record/1");
    let _ = s.claim(&r, t, lease).await;
    let racing = join_all((0..8).map(|n| {
        let outcome = Delivery::Skipped {
            at: later,
            reason: format!("racer {n}"),
        };
        s.finish_claimed(&r, (t, 1), outcome, None, None)
    }))
    .await;
    assert_eq!(
        racing.iter().filter(|a| a.is_ok()).count(),
        1,
        "of racing outcomes for one claim exactly one is recorded: {racing:?}"
    );
}

/// How many history entries of `k` the store holds.
async fn history_of<S: DispatchStore>(s: &S, k: &EventKey) -> usize {
    let loaded = s
        .load()
        .await
        .unwrap_or_else(|e| panic!("the store cannot load: {e}"));
    loaded.history.iter().filter(|h| &h.key == k).count()
}

/// Checks that of 32 racing claims of one key exactly one is granted.
///
/// # Panics
/// When the store breaks that promise, with a sentence saying how.
pub async fn racing_claims_have_one_winner<S: DispatchStore>(make: impl Fn() -> S) {
    let t = start();
    // Racing claims: exactly one winner.
    let s = make();
    let k = key("overdue/race/1");
    let results = join_all((0..32).map(|_| s.claim(&k, t, None))).await;
    let granted = results
        .iter()
        .filter(|r| matches!(r, Ok(Claim::Granted { .. })))
        .count();
    assert_eq!(granted, 1, "of racing claims exactly one is granted");
}

/// Checks that history appended directly (a manual send) is loaded.
///
/// # Panics
/// When the store breaks that promise, with a sentence saying how.
pub async fn appended_history_is_loaded<S: DispatchStore>(make: impl Fn() -> S) {
    let t = start();
    let s = make();
    let manual = HistoryEntry::manual(ClientId::known("c1"), ItemId::known("i9"), t);
    let _ = s.append_history(manual.clone()).await;
    assert!(
        s.load()
            .await
            .map(|x| x.history.contains(&manual))
            .unwrap_or(false),
        "appended history is loaded"
    );
}

/// Checks that the action log filters by item and keeps the order lines were written in.
///
/// # Panics
/// When the store breaks that promise, with a sentence saying how.
pub async fn log_filters_and_keeps_order<S: ActionLog>(make: impl Fn() -> S) {
    let t = start();
    let s = make();
    for (i, item) in ["i1", "i2", "i1"].iter().enumerate() {
        let _ = s
            .log(LogEntry {
                at: t + Duration::minutes(i64::try_from(i).unwrap_or(0)),
                client: ClientId::known("c1"),
                item: ItemId::new(item).ok(),
                key: Some(format!("k{i}")),
                action: Action::Skipped {
                    reason: format!("r{i}"),
                },
            })
            .await;
    }
    let i1 = s
        .read_log(&LogFilter::item(ItemId::known("i1")))
        .await
        .unwrap_or_default();
    let keys: Vec<_> = i1.iter().filter_map(|e| e.key.clone()).collect();
    assert_eq!(keys, ["k0", "k2"], "the log filters by item and keeps order");
}

/// Checks that saving a manual reminder creates or replaces it, and deleting one says whether it existed.
///
/// # Panics
/// When the store breaks that promise, with a sentence saying how.
pub async fn reminders_are_saved_replaced_and_deleted<S: ReminderStore>(make: impl Fn() -> S) {
    let t = start();
    let s = make();
    let Ok(clp) = Currency::from_code("CLP") else {
        panic!("the CLP currency is missing from the ISO 4217 table")
    };
    let r = Reminder {
        id: "R-1".into(),
        client: ClientId::known("c1"),
        invoice: ItemId::known("i1"),
        due_on: t.date_naive(),
        amount: Money::from_minor(1000, clp),
        message: "hola".into(),
        status: ReminderStatus::Active,
        archived: false,
    };
    let _ = s.save_reminder(&r).await;
    let mut changed = r.clone();
    changed.status = ReminderStatus::Paid;
    let _ = s.save_reminder(&changed).await;
    assert_eq!(
        s.reminders().await.unwrap_or_default(),
        [changed],
        "saving a reminder replaces it"
    );
    assert_eq!(
        s.delete_reminder("R-1").await.ok(),
        Some(true),
        "delete says it existed"
    );
    assert_eq!(
        s.delete_reminder("R-1").await.ok(),
        Some(false),
        "delete says it no longer exists"
    );
}

/// Checks that [`DispatchStore::claim_batch`] answers each key in order as a claim would: a
/// new key granted, a key already claimed refused, and a key given twice in one batch granted
/// once.
///
/// # Panics
/// When the store breaks that promise, with a sentence saying how.
pub async fn batch_claims_grant_each_key_once<S: DispatchStore>(make: impl Fn() -> S) {
    let t = start();
    let s = make();
    let (a, b, c) = (key("overdue/b1/1"), key("overdue/b2/1"), key("overdue/b3/1"));
    let _ = s.claim(&b, t, None).await;
    let answers = s
        .claim_batch(&[a.clone(), b.clone(), c.clone(), a.clone()], t, None)
        .await
        .unwrap_or_else(|e| panic!("a batch claim failed: {e}"));
    assert_eq!(
        answers.len(),
        4,
        "a batch claim answers every key given, in order"
    );
    assert_eq!(
        answers[0],
        Claim::Granted { attempt: 1 },
        "a new key in a batch is granted"
    );
    assert!(
        matches!(answers[1], Claim::Refused(Delivery::Claimed { .. })),
        "a key claimed before is refused in a batch"
    );
    assert_eq!(
        answers[2],
        Claim::Granted { attempt: 1 },
        "every new key in a batch is granted"
    );
    assert!(
        matches!(answers[3], Claim::Refused(Delivery::Claimed { .. })),
        "a key given twice in one batch is granted once"
    );
    assert!(
        matches!(
            s.claim(&c, t, None).await,
            Ok(Claim::Refused(Delivery::Claimed { .. }))
        ),
        "a key granted in a batch is claimed"
    );
}

/// Checks that [`DispatchStore::finish_batch`] answers each outcome in order and records
/// each with its history entry and log line, and that an outcome of a key never claimed is
/// refused ([`StoreError::NotFound`](crate::store::StoreError::NotFound)) and leaves no
/// history entry or log line behind, while the others are recorded.
///
/// # Panics
/// When the store breaks that promise, with a sentence saying how.
pub async fn batch_outcomes_are_recorded_each_with_its_entries<S: DispatchStore + ActionLog>(
    make: impl Fn() -> S,
) {
    let t = start();
    let s = make();
    let (a, never, b) = (key("overdue/f1/1"), key("overdue/f2/1"), key("overdue/f3/1"));
    for k in [&a, &b] {
        assert_eq!(
            s.claim(k, t, None).await.ok(),
            Some(Claim::Granted { attempt: 1 }),
            "a new key is granted"
        );
    }
    let sent = |id: &str| Delivery::Sent {
        at: t,
        message_id: format!("<{id}>"),
    };
    let line = |k: &EventKey, item: &'static str| LogEntry {
        at: t,
        client: ClientId::known("c1"),
        item: Some(ItemId::known(item)),
        key: Some(k.to_string()),
        action: Action::Sent {
            rule: None,
            to: vec!["ana@example.com".into()],
            message_id: format!("<{item}>"),
        },
    };
    let skipped = Delivery::Skipped {
        at: t,
        reason: "paid meanwhile".into(),
    };
    let answers = s
        .finish_batch(vec![
            Finish::new(a.clone(), sent("f1"))
                .with_history(entry("overdue/f1/1", "f1", t))
                .with_log(line(&a, "f1")),
            Finish::new(never.clone(), sent("f2"))
                .with_history(entry("overdue/f2/1", "f2", t))
                .with_log(line(&never, "f2")),
            Finish::new(b.clone(), skipped.clone()),
        ])
        .await;
    assert_eq!(
        answers.len(),
        3,
        "a batch of outcomes answers every outcome, in order"
    );
    assert!(
        answers[0].is_ok(),
        "a claimed key's outcome is recorded in a batch: {:?}",
        answers[0]
    );
    assert!(
        matches!(answers[1], Err(crate::store::StoreError::NotFound { .. })),
        "an outcome of a key never claimed is refused as not found: {:?}",
        answers[1]
    );
    assert!(
        answers[2].is_ok(),
        "every claimed key's outcome in a batch is recorded: {:?}",
        answers[2]
    );
    let states = s
        .deliveries(&[a.clone(), never.clone(), b.clone()])
        .await
        .unwrap_or_else(|e| panic!("reading deliveries failed: {e}"));
    assert_eq!(
        states,
        vec![Some(sent("f1")), None, Some(skipped)],
        "deliveries answer each key in order, none for a key never claimed"
    );
    let history = s.load().await.map(|snap| snap.history).unwrap_or_default();
    let keys: Vec<&str> = history.iter().map(|h| h.key.as_str()).collect();
    assert_eq!(
        keys,
        ["overdue/f1/1"],
        "a batch records the history entries of the outcomes it records, and only those"
    );
    let log = s.read_log(&LogFilter::default()).await.unwrap_or_default();
    assert_eq!(
        log,
        vec![line(&a, "f1")],
        "a batch records the log lines of the outcomes it records, and only those"
    );
    assert_eq!(
        s.claim(&a, t + Duration::days(1), None).await.ok(),
        Some(Claim::Refused(sent("f1"))),
        "a key sent in a batch is never granted again"
    );
}

/// Checks that [`DispatchStore::load_clients`] reads each client given once, and only
/// those: here the history appended for three clients, read for two of them, one given
/// twice.
///
/// # Panics
/// When the store breaks that promise, with a sentence saying how.
pub async fn load_clients_reads_each_client_once<S: DispatchStore>(make: impl Fn() -> S) {
    let t = start();
    let s = make();
    let mut entries = Vec::new();
    for (c, i) in [("c1", "i1"), ("c2", "i2"), ("c3", "i3"), ("c1", "i4")] {
        let mut e = HistoryEntry::manual(ClientId::known(c), ItemId::known(i), t);
        e.key = key(&format!("manual/{i}/1"));
        let _ = s.append_history(e.clone()).await;
        entries.push(e);
    }
    let read = s
        .load_clients(&[
            ClientId::known("c1"),
            ClientId::known("c3"),
            ClientId::known("c1"),
        ])
        .await
        .unwrap_or_else(|e| panic!("reading clients failed: {e}"));
    let mut keys: Vec<&str> = read.history.iter().map(|h| h.key.as_str()).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["manual/i1/1", "manual/i3/1", "manual/i4/1"],
        "load_clients reads the history of each client given, once, and no other client's"
    );
}

/// Checks, on a store the host has filled with clients, items and history, that
/// [`DispatchStore::load_shard`] partitions [`DispatchStore::load`]: for 1, 2, 3 and 7
/// shards, each shard's part holds exactly the clients it [contains](Shard::contains) and
/// their items and history, with the history in the order the whole load gives it (the
/// order things happened), and the parts together are the whole.
///
/// # Panics
/// When the store breaks that promise, or cannot load, with a sentence saying how.
pub async fn shards_partition_the_load<S: DispatchStore>(store: &S) {
    let whole = store
        .load()
        .await
        .unwrap_or_else(|e| panic!("the store cannot load: {e}"));
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    let line = |h: &HistoryEntry| format!("{}/{}/{}", h.client, h.key, h.sent_at);
    let ids = |snap: &crate::store::Snapshot| {
        (
            sorted(snap.clients.iter().map(|c| c.id.to_string()).collect()),
            sorted(
                snap.items
                    .iter()
                    .map(|i| format!("{}/{}", i.client, i.id))
                    .collect(),
            ),
            sorted(snap.history.iter().map(line).collect()),
        )
    };
    let all = ids(&whole);
    for count in [1, 2, 3, 7] {
        let mut union = (Vec::new(), Vec::new(), Vec::new());
        for shard in Shard::all(count) {
            let part = store
                .load_shard(shard)
                .await
                .unwrap_or_else(|e| panic!("shard {shard} cannot load: {e}"));
            let outside = part
                .clients
                .iter()
                .map(|c| &c.id)
                .chain(part.items.iter().map(|i| &i.client));
            for client in outside.chain(part.history.iter().map(|h| &h.client)) {
                assert!(
                    shard.contains(client),
                    "shard {shard} loaded client {client}'s data, of another shard"
                );
            }
            let in_order: Vec<String> = whole
                .history
                .iter()
                .filter(|h| shard.contains(&h.client))
                .map(line)
                .collect();
            assert_eq!(
                part.history.iter().map(line).collect::<Vec<_>>(),
                in_order,
                "shard {shard} of {count} loaded its history out of the order it happened"
            );
            let (c, i, h) = ids(&part);
            union.0.extend(c);
            union.1.extend(i);
            union.2.extend(h);
        }
        let union = (sorted(union.0), sorted(union.1), sorted(union.2));
        assert_eq!(
            union, all,
            "the {count} shards' loads together are not the whole load"
        );
    }
}
