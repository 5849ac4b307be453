//! A host ticking a planner over small hand-made worlds, and what its plans say about a key:
//! the toolkit of the attack sessions' worked-out examples.

use super::{client, d, money, t, utc};
use chrono::{DateTime, NaiveDate, Utc, Weekday};
use dunning::*;
use std::collections::BTreeSet;

/// Each tick of a host: its instant and the plan it got.
pub type Run = Vec<(DateTime<Utc>, Plan)>;

/// A drop in a line: `Reason on day` (`Paused(hold) on 2026-06-08`).
pub fn short(s: &Suppressed) -> String {
    let r = match &s.reason {
        SuppressReason::Expired { days } => format!("Expired({days})"),
        SuppressReason::Superseded { by } => format!("Superseded({by})"),
        SuppressReason::Paused { pause, .. } => format!("Paused({pause})"),
        other => format!("{other:?}"),
    };
    format!("{r} on {}", s.on)
}

/// What `plan` says about `key`: `due day`, `upcoming day`, or a drop (as [`short`]).
pub fn about(plan: &Plan, key: &str) -> Vec<String> {
    let mut out: Vec<String> = plan
        .due()
        .iter()
        .filter(|e| e.key.as_str() == key)
        .map(|e| format!("due {}", e.send_on))
        .collect();
    out.extend(
        plan.upcoming()
            .iter()
            .filter(|e| e.key.as_str() == key)
            .map(|e| format!("upcoming {}", e.send_on)),
    );
    out.extend(
        plan.suppressed()
            .iter()
            .filter(|s| s.key.as_str() == key)
            .map(short),
    );
    out
}

/// Ticks a host at each instant of `ticks` with the items `items(now)` (payments and
/// cancellations as the host knows them then), recording manual sends (client, item,
/// instant) before the first tick at or after their instant, and every due event as sent
/// at the tick; panics if a key goes twice.
pub fn host_with(
    policy: &Policy,
    clients: &[Client],
    items: &dyn Fn(DateTime<Utc>) -> Vec<Item>,
    ticks: &[DateTime<Utc>],
    manual: &[(&str, &str, DateTime<Utc>)],
) -> Run {
    host_full(policy, clients, items, ticks, manual, &|e| e)
}

/// As [`host_with`], each history entry passed through `record` before it is stored (a
/// store that keeps less than the planner hands it).
pub fn host_full(
    policy: &Policy,
    clients: &[Client],
    items: &dyn Fn(DateTime<Utc>) -> Vec<Item>,
    ticks: &[DateTime<Utc>],
    manual: &[(&str, &str, DateTime<Utc>)],
    record: &dyn Fn(HistoryEntry) -> HistoryEntry,
) -> Run {
    let planner = Planner::new(policy).unwrap();
    let mut history: Vec<HistoryEntry> = Vec::new();
    let mut manual: Vec<(&str, &str, DateTime<Utc>)> = manual.to_vec();
    let mut sent = BTreeSet::new();
    let mut out = Vec::new();
    for &now in ticks {
        manual.retain(|(c, i, at)| {
            if *at <= now {
                history.push(HistoryEntry::manual(c.parse().unwrap(), i.parse().unwrap(), *at));
                false
            } else {
                true
            }
        });
        let plan = planner
            .plan(clients, &items(now), &history, now, Horizon::days(10))
            .unwrap();
        for e in plan.due() {
            for k in e.covered_keys() {
                assert!(sent.insert(k.to_string()), "{k} sent twice at {now}");
            }
            history.push(record(e.to_history(now)));
        }
        out.push((now, plan));
    }
    out
}

/// As [`host_with`], with the same items at every tick.
pub fn host(
    policy: &Policy,
    clients: &[Client],
    items: &[Item],
    ticks: &[DateTime<Utc>],
    manual: &[(&str, &str, DateTime<Utc>)],
) -> Run {
    host_with(policy, clients, &|_| items.to_vec(), ticks, manual)
}

/// Ticks at `hour`:00 UTC each day from `from` to `to` (both included), skipping `down`.
pub fn daily(from: NaiveDate, to: NaiveDate, hour: u32, down: &[NaiveDate]) -> Vec<DateTime<Utc>> {
    let mut out = Vec::new();
    let mut day = from;
    while day <= to {
        if !down.contains(&day) {
            out.push(local_instant(TimeZone::UTC, day, t(hour, 0)));
        }
        day = day.succ_opt().unwrap();
    }
    out
}

/// What each tick's plan says about `key`, one line per tick.
pub fn story(run: &[(DateTime<Utc>, Plan)], key: &str) -> Vec<String> {
    run.iter()
        .map(|(now, plan)| format!("{now}: {:?}", about(plan, key)))
        .collect()
}

/// Every plan from `from` to `to` (both included) says exactly `want` about `key`.
pub fn assert_says(
    run: &[(DateTime<Utc>, Plan)],
    key: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    want: &[&str],
) {
    let bad: Vec<String> = run
        .iter()
        .filter(|(now, _)| from <= *now && *now <= to)
        .filter(|(_, plan)| about(plan, key) != want)
        .map(|(now, plan)| format!("{now}: {:?}", about(plan, key)))
        .collect();
    assert!(
        bad.is_empty(),
        "{key}: want {want:?} from {from} to {to}; wrong at {bad:#?}\nstory: {:#?}",
        story(run, key)
    );
}

/// Whatever the first plan in `from..=to` says of `key` (one drop, checked by `first_ok`),
/// every plan up to `to` says the same.
pub fn assert_same_from(
    run: &[(DateTime<Utc>, Plan)],
    key: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    first_ok: &dyn Fn(&[String]) -> bool,
) {
    let first = run
        .iter()
        .find(|(now, _)| *now >= from)
        .map(|(_, p)| about(p, key))
        .unwrap();
    assert!(
        first_ok(&first),
        "{key}: first {first:?}\nstory: {:#?}",
        story(run, key)
    );
    let want: Vec<&str> = first.iter().map(String::as_str).collect();
    assert_says(run, key, from, to, &want);
}

/// An amount in US dollars.
pub fn usd(n: &str) -> Money {
    money(n, "USD")
}

/// A client in UTC.
pub fn utc_client(id: &str) -> Client {
    client(id, "UTC")
}

/// 10:00 UTC on a day of June 2026.
pub fn at10(day: u32) -> DateTime<Utc> {
    utc(2026, 6, day, 10, 0)
}

/// A day of June 2026.
pub fn june(day: u32) -> NaiveDate {
    d(2026, 6, day)
}

/// Statements `stmt` every Monday and Thursday.
pub fn mo_th() -> StatementRule {
    StatementRule::new("stmt".parse().unwrap(), "FREQ=WEEKLY;BYDAY=MO,TH", d(2026, 1, 1))
}

/// Statements `stmt` weekly on `day` (`BYDAY`, e.g. `"TU,SA"`).
pub fn weekly(day: &str) -> StatementRule {
    StatementRule::new(
        "stmt".parse().unwrap(),
        format!("FREQ=WEEKLY;BYDAY={day}"),
        d(2026, 1, 1),
    )
}

/// A policy in UTC sending at 09:00, nothing else set.
pub fn utc_policy() -> Policy {
    Policy::new(TimeZone::UTC).with_send_time(t(9, 0))
}

/// A calendar with Saturdays and Sundays off.
pub fn weekends() -> BusinessCalendar {
    BusinessCalendar::new([Weekday::Sat, Weekday::Sun], [])
}

/// `item`, with a payment of 10 USD dated `on` known to the host from `from` on.
pub fn paid_from(item: &Item, from: DateTime<Utc>, on: NaiveDate) -> impl Fn(DateTime<Utc>) -> Item {
    let item = item.clone();
    move |now| {
        if now >= from {
            item.clone().paid(usd("10"), on)
        } else {
            item.clone()
        }
    }
}
