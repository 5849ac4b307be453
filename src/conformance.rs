//! A conformance suite for [`Store`] implementations (feature `conformance`).
//!
//! A host runs it against its own adapter in its tests; this crate runs it against
//! [`MemoryStore`](crate::MemoryStore). Each check panics with a sentence saying what the
//! store did wrong.
//!
//! ```ignore
//! #[tokio::test]
//! async fn my_store_conforms() {
//!     dunning::conformance::run(|| MyStore::connect_to_a_fresh_database()).await;
//! }
//! ```

use chrono::{Duration, TimeZone, Utc};
use futures_util::future::join_all;

use crate::model::history::{HistoryEntry, HistoryItem};
use crate::model::id::{ClientId, EventKey, ItemId, RuleId};
use crate::money::{Currency, Money};
use crate::store::{Action, Claim, Delivery, LogEntry, LogFilter, Reminder, ReminderStatus, Store};

fn key(s: &str) -> EventKey {
    EventKey::from(s)
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

/// Runs every check, each on a fresh store from `make`.
///
/// # Panics
/// On the first behaviour that breaks the [`Store`] contract.
pub async fn run<S: Store>(make: impl Fn() -> S) {
    let t = Utc
        .with_ymd_and_hms(2026, 4, 1, 12, 0, 0)
        .single()
        .unwrap_or_default();

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

    // Racing claims: exactly one winner.
    let s = make();
    let k = key("overdue/race/1");
    let results = join_all((0..32).map(|_| s.claim(&k, t, None))).await;
    let granted = results
        .iter()
        .filter(|r| matches!(r, Ok(Claim::Granted { .. })))
        .count();
    assert_eq!(granted, 1, "of racing claims exactly one is granted");

    // History, log and reminders.
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
