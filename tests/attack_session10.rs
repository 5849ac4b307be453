//! Attack session 10: what a statement had to list, read as of the day its fate was settled
//! (`settled_on`); "due soon" reminders held for good before their due date; reminders
//! moved after another reminder's send onto a pause without end.
#![allow(clippy::too_many_lines)]

mod common;

use chrono::{DateTime, Duration, NaiveDate, Utc, Weekday};
use common::SplitMix as Rng;
use common::*;
use dunning::*;
use std::collections::{BTreeMap, BTreeSet};

type Run = Vec<(DateTime<Utc>, Plan)>;

fn short(s: &Suppressed) -> String {
    let r = match &s.reason {
        SuppressReason::Expired { days } => format!("Expired({days})"),
        SuppressReason::Superseded { by } => format!("Superseded({by})"),
        SuppressReason::Paused { pause, .. } => format!("Paused({pause})"),
        other => format!("{other:?}"),
    };
    format!("{r} on {}", s.on)
}

fn about(plan: &Plan, key: &str) -> Vec<String> {
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
/// at the tick.
fn host_with(
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
fn host_full(
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

fn host(
    policy: &Policy,
    clients: &[Client],
    items: &[Item],
    ticks: &[DateTime<Utc>],
    manual: &[(&str, &str, DateTime<Utc>)],
) -> Run {
    host_with(policy, clients, &|_| items.to_vec(), ticks, manual)
}

/// Ticks at `hour`:00 UTC each day from `from` to `to` (both included), skipping `down`.
fn daily(from: NaiveDate, to: NaiveDate, hour: u32, down: &[NaiveDate]) -> Vec<DateTime<Utc>> {
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
fn story(run: &[(DateTime<Utc>, Plan)], key: &str) -> Vec<String> {
    run.iter()
        .map(|(now, plan)| format!("{now}: {:?}", about(plan, key)))
        .collect()
}

fn assert_says(
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
fn assert_same_from(
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

fn usd(n: &str) -> Money {
    money(n, "USD")
}

fn utc_client(id: &str) -> Client {
    client(id, "UTC")
}

fn at10(day: u32) -> DateTime<Utc> {
    utc(2026, 6, day, 10, 0)
}

fn june(day: u32) -> NaiveDate {
    d(2026, 6, day)
}

fn mo_th() -> StatementRule {
    StatementRule::new("stmt".parse().unwrap(), "FREQ=WEEKLY;BYDAY=MO,TH", d(2026, 1, 1))
}

fn weekly(day: &str) -> StatementRule {
    StatementRule::new(
        "stmt".parse().unwrap(),
        format!("FREQ=WEEKLY;BYDAY={day}"),
        d(2026, 1, 1),
    )
}

fn utc_policy() -> Policy {
    Policy::new(TimeZone::UTC).with_send_time(t(9, 0))
}

fn weekends() -> BusinessCalendar {
    BusinessCalendar::new([Weekday::Sat, Weekday::Sun], [])
}

/// Payment known to the host from `from` on, dated `on`.
fn paid_from(item: &Item, from: DateTime<Utc>, on: NaiveDate) -> impl Fn(DateTime<Utc>) -> Item {
    let item = item.clone();
    move |now| {
        if now >= from {
            item.clone().paid(usd("10"), on)
        } else {
            item.clone()
        }
    }
}

fn at(day: u32, h: u32) -> DateTime<Utc> {
    utc(2026, 6, day, h, 0)
}

/// Prints the story of `key` (exploration).
#[allow(dead_code)]
fn show(run: &Run, key: &str) {
    for l in story(run, key) {
        println!("{l}");
    }
}

// ---------------------------------------------------------------------------------------
// Findings: statements.
// ---------------------------------------------------------------------------------------

/// README "Explains itself": "What a statement had to list is read as of the day its fate
/// was settled: ... else as of the first of the day the next one was to go ... (an invoice
/// paid after that day ... was owed then ...). One with nothing to list is said so on its
/// date, missed or not, whatever a later one lists (not superseded, not expired)"; once
/// dropped for good "the plans say it the same way, on the same day, from then on".
///
/// World: UTC, send 09:00, statements every Monday and Thursday; F-1 issued 06-01, its
/// payment (dated 06-12) recorded 06-12 08:00; F-2 issued 06-13. The host is down
/// 06-08..06-12 (both the Monday and the Thursday statements are missed) and ticks daily at
/// 10:00 otherwise.
/// Observed: 06-13 and 06-14 say `stmt/c/2026-06-08` `NothingToList` on 06-08; from 06-15
/// (the Monday statement goes, listing F-2) `Superseded(stmt/c/2026-06-15)` on 06-08. The
/// 06-13 catch-up found the latest (06-11) with nothing to list and said every older one
/// "nothing to list" too, although 06-08, settled on 06-11, had F-1 owed then (paid 06-12):
/// the loop over older ones in the "latest has nothing" branch says NothingToList whenever
/// the older one has not expired, whatever `had_anything_to_list` says.
#[test]
fn finding_older_statement_nothing_to_list_then_superseded_paid_after_next_day() {
    let policy = utc_policy().with_statement(mo_th());
    let f1 = invoice("F-1", "c", june(1), june(30), usd("10"));
    let f1 = paid_from(&f1, at(12, 8), june(12));
    let f2 = invoice("F-2", "c", june(13), june(30), usd("10"));
    let run = host_with(
        &policy,
        &[utc_client("c")],
        &|now| vec![f1(now), f2.clone()],
        &daily(
            june(1),
            june(20),
            10,
            &[june(8), june(9), june(10), june(11), june(12)],
        ),
        &[],
    );
    assert_same_from(&run, "stmt/c/2026-06-08", at10(13), at10(15), &|f| f.len() == 1);
}

/// README "Explains itself": what a statement had to list is read "as of ... the first day
/// of a pause without end (an invoice paid after that day ... was owed then)"; said the same
/// way from then on. (The code reads as of the pause's first *working* day.)
///
/// World: UTC, send 09:00, weekends off, statements every Friday; F-1 issued 06-01, its
/// payment (dated Sunday 06-07) recorded 06-07 08:00; the client is on hold without end from
/// Saturday 06-06. The host is down Friday 06-05 (the statement is missed) and ticks daily
/// at 10:00 otherwise.
/// Observed: 06-06 says `stmt/c/2026-06-05` `Paused(hold)` on 06-05; from 06-07
/// `NothingToList` on 06-05: the payment on Sunday is after the pause's first day (so F-1
/// was owed then, README) but before its first working day, Monday 06-08, which the code
/// reads as the day its fate was settled.
#[test]
fn finding_statement_held_from_weekend_pause_then_nothing_to_list() {
    let policy = utc_policy()
        .with_calendar(weekends())
        .with_statement(weekly("FR"));
    let f1 = invoice("F-1", "c", june(1), june(30), usd("10"));
    let f1 = paid_from(&f1, at(7, 8), june(7));
    let c = utc_client("c").with_pause(Pause::new(PauseKind::Hold, "held").starting(june(6)));
    let run = host_with(
        &policy,
        &[c],
        &|now| vec![f1(now)],
        &daily(june(1), june(12), 10, &[june(5)]),
        &[],
    );
    assert_same_from(&run, "stmt/c/2026-06-05", at10(6), at10(12), &|f| {
        f.len() == 1 && f[0].starts_with("Paused")
    });
}

/// README "Explains itself": "one that expired stays said expired on its day"; dropped for
/// good once "the last day it could have gone, N days after its day, is gone", "the plans
/// say it the same way, on the same day, from then on".
///
/// World: UTC, send 09:00, statements every Monday and Thursday expiring after 0 days; F-1
/// issued 06-01, open; the host is down Monday 06-08. F-1 was paid on Monday 06-08 but the
/// payment (dated 06-08) is posted the next day, 06-09 12:00, after the 06-09 tick (a bank
/// transfer booked the day after).
/// Observed: 06-09 `stmt/c/2026-06-08` `Expired(0)` on 06-08 (its last day gone: for good);
/// from 06-10 `NothingToList` on 06-08 (a payment dated on the settled day itself counts as
/// not owed then).
#[test]
#[ignore = "known limit, README \"Explains itself\": an expired statement is said nothing to list once a payment dated on its last day is posted"]
fn finding_expired_statement_then_nothing_to_list_after_payment_posted_next_day() {
    let policy = utc_policy().with_statement(mo_th().expires_after(0));
    let f1 = invoice("F-1", "c", june(1), june(30), usd("10"));
    let f1 = paid_from(&f1, at(9, 12), june(8));
    let run = host_with(
        &policy,
        &[utc_client("c")],
        &|now| vec![f1(now)],
        &daily(june(1), june(14), 10, &[june(8)]),
        &[],
    );
    assert_says(
        &run,
        "stmt/c/2026-06-08",
        at10(9),
        at10(14),
        &["Expired(0) on 2026-06-08"],
    );
}

/// README "Explains itself": "one that expired stays said expired on its day" (and the
/// reading "one paid on a day not known, or cancelled, counts as it does now": the two
/// collide).
///
/// World: UTC, send 09:00, statements every Monday and Thursday expiring after 0 days; F-1
/// issued 06-01, open; the host is down Monday 06-08; F-1 is cancelled before the 06-10
/// tick.
/// Observed: 06-09 `stmt/c/2026-06-08` `Expired(0)` on 06-08 (its last day gone); from 06-10
/// `NothingToList` on 06-08. (The same with `ItemStatus::Paid` and no date: random world
/// seed 1113 of this file's sweep.)
#[test]
#[ignore = "known limit, README \"Explains itself\": an expired statement is said nothing to list once its invoice is cancelled"]
fn finding_expired_statement_then_nothing_to_list_after_cancel() {
    let policy = utc_policy().with_statement(mo_th().expires_after(0));
    let f1 = invoice("F-1", "c", june(1), june(30), usd("10"));
    let items = |now: DateTime<Utc>| {
        let f = f1.clone();
        vec![if now >= at(10, 8) {
            f.with_status(ItemStatus::Cancelled)
        } else {
            f
        }]
    };
    let run = host_with(
        &policy,
        &[utc_client("c")],
        &items,
        &daily(june(1), june(20), 10, &[june(8)]),
        &[],
    );
    assert_says(
        &run,
        "stmt/c/2026-06-08",
        at10(9),
        at10(15),
        &["Expired(0) on 2026-06-08"],
    );
}

/// README "Explains itself": "One with nothing to list is said so on its date, missed or
/// not ... the plans say it the same way, on the same day, from then on"; "an invoice paid
/// after that day ... was owed then".
///
/// World: UTC, send 09:00, statements every Monday and Thursday; F-1 issued 06-01, paid in
/// full on 06-05 (in every plan); F-2 issued 06-10; a second payment on F-1 (an overpayment,
/// or a credit note booked after the payment), dated 06-12, is recorded 06-12 08:00. The
/// host ticks daily at 10:00, no outage.
/// Observed: 06-08..06-11 say `stmt/c/2026-06-08` `NothingToList` on 06-08 (06-11's
/// statement went, listing F-2); from 06-12 `Superseded(stmt/c/2026-06-11)` on 06-08. The
/// reading takes `Item::settled_date` (the latest payment or credit note), not the day the
/// balance reached zero, so an invoice paid before the statement counts as "paid after".
/// (Found by the sweep: seed 1252, two full payments, `Expired(3)` after `NothingToList`.)
#[test]
fn finding_nothing_to_list_then_superseded_after_overpayment() {
    let policy = utc_policy().with_statement(mo_th());
    let f1 = invoice("F-1", "c", june(1), june(30), usd("10")).paid(usd("10"), june(5));
    let f2 = invoice("F-2", "c", june(10), june(30), usd("10"));
    let items = |now: DateTime<Utc>| {
        let f = f1.clone();
        vec![
            if now >= at(12, 8) {
                f.paid(usd("10"), june(12))
            } else {
                f
            },
            f2.clone(),
        ]
    };
    let run = host_with(
        &policy,
        &[utc_client("c")],
        &items,
        &daily(june(1), june(20), 10, &[]),
        &[],
    );
    assert_says(
        &run,
        "stmt/c/2026-06-08",
        at10(8),
        at10(15),
        &["NothingToList on 2026-06-08"],
    );
}

/// README "Explains itself" as above ("whatever a later one lists"; "the plans say it the
/// same way ... from then on"). A payment reversed (a bounced transfer or a chargeback) is
/// removed from the item.
///
/// World: UTC, send 09:00, statements every Monday and Thursday; F-1 issued 06-01 and paid
/// on 06-05 until the payment bounces, recorded before the 06-13 tick (F-1 open again);
/// F-2 issued 06-10. The host ticks daily at 10:00, no outage.
/// Observed: 06-08..06-12 `stmt/c/2026-06-08` `NothingToList` on 06-08 (06-11's statement
/// went, listing F-2); from 06-13 `Superseded(stmt/c/2026-06-11)` on 06-08 ("an item it
/// lists now was owed then"). A limit of reading from what is known now; reported as found.
#[test]
#[ignore = "known limit, README \"Explains itself\": a statement with nothing to list is said superseded once a payment before it bounces"]
fn finding_nothing_to_list_then_superseded_after_bounced_payment() {
    let policy = utc_policy().with_statement(mo_th());
    let f1 = invoice("F-1", "c", june(1), june(30), usd("10"));
    let f2 = invoice("F-2", "c", june(10), june(30), usd("10"));
    let items = |now: DateTime<Utc>| {
        let f = f1.clone();
        vec![
            if now >= at10(13) {
                f
            } else {
                f.paid(usd("10"), june(5))
            },
            f2.clone(),
        ]
    };
    let run = host_with(
        &policy,
        &[utc_client("c")],
        &items,
        &daily(june(1), june(20), 10, &[]),
        &[],
    );
    assert_says(
        &run,
        "stmt/c/2026-06-08",
        at10(8),
        at10(15),
        &["NothingToList on 2026-06-08"],
    );
}

/// README "Explains itself": "one superseded ... stays said superseded on its date after the
/// one that went instead went"; "an invoice ... listed by a later statement that went, was
/// owed then". The reading takes what a later statement listed from its history entry's
/// `items`; a host whose history entries of statements carry no items (recorded by hand, or
/// migrated from a system that kept only keys) loses it.
///
/// World: session 9's cancelled-invoice world (UTC, statements Monday and Thursday, F-1
/// open, host down 06-08..06-10, the 06-11 catch-up goes listing F-1, F-1 cancelled before
/// the 06-12 tick), with statement history entries recorded without `items`.
/// Observed: 06-11 `Superseded(stmt/c/2026-06-11)` on 06-08; 06-12..06-15 `NothingToList` on
/// 06-08.
#[test]
#[ignore = "known limit, README \"Explains itself\": with history entries of statements without items, a superseded statement is said nothing to list after its invoice is cancelled"]
fn finding_superseded_then_nothing_to_list_history_without_items() {
    let policy = utc_policy().with_statement(mo_th());
    let f1 = invoice("F-1", "c", june(1), june(30), usd("10"));
    let items = |now: DateTime<Utc>| {
        let f = f1.clone();
        vec![if now >= at10(12) {
            f.with_status(ItemStatus::Cancelled)
        } else {
            f
        }]
    };
    let run = host_full(
        &policy,
        &[utc_client("c")],
        &items,
        &daily(june(1), june(20), 10, &[june(8), june(9), june(10)]),
        &[],
        &|mut e| {
            e.items.clear();
            e
        },
    );
    assert_same_from(&run, "stmt/c/2026-06-08", at10(11), at10(15), &|f| {
        f.len() == 1 && f[0].starts_with("Superseded(stmt/c/2026-06-11)")
    });
}

/// README "Explains itself": "One with nothing to list is said so on its date, missed or
/// not"; "A forecast of a drop still to come assumes every event goes when planned".
///
/// World: UTC, send 09:00, weekends off, statements every Saturday; F-1 issued 06-20 (after
/// the period); nothing else; daily ticks at 10:00, nothing changes.
/// Observed: 06-08..06-14 say `stmt/c/2026-06-13` `NothingToList` on 06-15 (the Monday it
/// would go); from 06-15 `NothingToList` on 06-13. The same with a client snooze over a
/// Monday statement: "on 06-11" (where the pause puts it) before, "on 06-08" after. The
/// statement to come is said on its send day, the one gone unsent on its date.
#[test]
fn finding_nothing_to_list_forecast_on_send_day_not_its_date() {
    let policy = utc_policy()
        .with_calendar(weekends())
        .with_statement(weekly("SA"));
    let f1 = invoice("F-1", "c", june(20), june(30), usd("10"));
    let run = host(
        &policy,
        &[utc_client("c")],
        &[f1],
        &daily(june(8), june(20), 10, &[]),
        &[],
    );
    assert_says(
        &run,
        "stmt/c/2026-06-13",
        at10(8),
        at10(20),
        &["NothingToList on 2026-06-13"],
    );
}

// ---------------------------------------------------------------------------------------
// Findings: reminders.
// ---------------------------------------------------------------------------------------

/// README "Missed sends": a "due soon" "still unsent when the due date came was too late
/// then"; "Pauses": "nor does a manual send about the item after that day move it";
/// "Explains itself": said the same way, on the same day, from then on.
///
/// World: UTC, send 09:00, minimum gap 2 days, rule `soon` 1 day before the due date; F-1
/// due 06-10, disputed without end from 06-10; the host's first tick is 06-12 10:00 (the
/// "due soon" of 06-09 never went), then daily; a manual send about F-1 at 06-14 02:20.
/// Observed: 06-12 and 06-13 `soon/F-1/1` `DueSoonAfterDue { due: 2026-06-10 }` on 06-10;
/// from 06-14 `Paused(dispute)` on 06-16 (a day still to come, two days after the manual
/// send). (Found by the sweep: seed 1228, Lord_Howe.)
#[test]
#[ignore = "finding: a due soon said too late is said paused on a later day after a manual send"]
fn finding_due_soon_too_late_then_paused_after_manual_send() {
    let policy = utc_policy()
        .with_min_gap(2)
        .with_rule(rule("soon", Anchor::Due, -1));
    let f1 = invoice("F-1", "c", june(1), june(10), usd("10"))
        .with_pause(Pause::new(PauseKind::Dispute, "disputed").starting(june(10)));
    let run = host(
        &policy,
        &[utc_client("c")],
        &[f1],
        &daily(june(12), june(20), 10, &[]),
        &[("c", "F-1", utc(2026, 6, 14, 2, 20))],
    );
    assert_says(
        &run,
        "soon/F-1/1",
        at10(12),
        at10(16),
        &["DueSoonAfterDue { due: 2026-06-10 } on 2026-06-10"],
    );
}

// ---------------------------------------------------------------------------------------
// Guards.
// ---------------------------------------------------------------------------------------

/// Guard (change 2 with a weekend): a missed "due soon" (Friday 06-05, host down) whose item
/// is disputed without end from Saturday 06-06 (first working day Monday 06-08, before the
/// due date Tuesday 06-09) is said paused on 06-08 by every plan while that day is in the
/// window, not later too late.
#[test]
fn guard_due_soon_held_from_weekend_pause_stays_paused() {
    let policy = utc_policy()
        .with_calendar(weekends())
        .with_rule(rule("soon", Anchor::Due, -4));
    let f1 = invoice("F-1", "c", june(1), june(9), usd("10"))
        .with_pause(Pause::new(PauseKind::Dispute, "disputed").starting(june(6)));
    let run = host(
        &policy,
        &[utc_client("c")],
        &[f1],
        &daily(june(1), june(16), 10, &[june(5)]),
        &[],
    );
    assert_says(
        &run,
        "soon/F-1/1",
        at10(6),
        at10(15),
        &["Paused(dispute) on 2026-06-08"],
    );
}

/// Guard: a pause with an end over the next statement's day moves the day the older one's
/// fate is settled with it: F-1 paid 06-12 (after Thursday 06-11, before Saturday 06-13 when
/// the snoozed Thursday statement goes) leaves the missed Monday statement "nothing to
/// list", said the same from the payment on.
#[test]
fn guard_pause_with_end_over_next_day_reads_as_of_its_moved_day() {
    let policy = utc_policy().with_statement(mo_th());
    let f1 = invoice("F-1", "c", june(1), june(30), usd("10"));
    let f1 = paid_from(&f1, at(12, 8), june(12));
    let f2 = invoice("F-2", "c", june(12), june(30), usd("10"));
    let c = utc_client("c").with_pause(
        Pause::new(PauseKind::Snooze, "s")
            .starting(june(10))
            .until(june(12)),
    );
    let run = host_with(
        &policy,
        &[c],
        &|now| vec![f1(now), f2.clone()],
        &daily(june(1), june(20), 10, &[june(8), june(9)]),
        &[],
    );
    assert_says(
        &run,
        "stmt/c/2026-06-08",
        at10(12),
        at10(15),
        &["NothingToList on 2026-06-08"],
    );
}

/// Guard: clients in Pacific/Kiritimati (UTC+14) and Pacific/Pago_Pago (UTC-11), a host
/// ticking at 10:00 UTC, the Monday statement missed, its invoice paid on the Thursday the
/// next one was to go (dated 06-11, recorded 06-10 08:00 UTC, before the first tick after
/// the outage): "nothing to list" on 06-08, the same in every plan.
#[test]
fn guard_paid_on_settled_day_far_zones() {
    let policy = utc_policy().with_statement(mo_th());
    let f1 = invoice("F-1", "c", june(1), june(30), usd("10"));
    let f1 = paid_from(&f1, at(10, 8), june(11));
    let f2 = invoice("F-2", "c", june(10), june(30), usd("10"));
    for zone in ["Pacific/Kiritimati", "Pacific/Pago_Pago"] {
        let run = host_with(
            &policy,
            &[client("c", zone)],
            &|now| vec![f1(now), f2.clone()],
            &daily(june(1), june(20), 10, &[june(7), june(8), june(9)]),
            &[],
        );
        assert_same_from(&run, "stmt/c/2026-06-08", at10(10), at10(14), &|f| {
            f == ["NothingToList on 2026-06-08"]
        });
    }
}

/// Guard over random worlds (seeds 1000..1100; session 9's generator): no key goes twice,
/// nothing goes about an item paid or cancelled when the tick plans, nothing goes once said
/// dropped for good, every reminder forecast and never sent is explained. (Seeds
/// 1000..1600 were run while attacking: none of these; 7 worlds with flips, see findings.)
#[test]
fn guard_random_worlds_sends_and_explained() {
    let fails = sweep(1000..1100, ALL);
    let hit: Vec<(u64, Vec<String>)> = fails
        .into_iter()
        .map(|(seed, bad)| {
            let bad: Vec<String> = bad
                .into_iter()
                .filter(|b| {
                    b.contains("sent twice")
                        || b.contains("goes about paid")
                        || b.contains(" due after said ")
                        || b.contains("never sent nor explained")
                })
                .collect();
            (seed, bad)
        })
        .filter(|(_, bad)| !bad.is_empty())
        .collect();
    assert!(hit.is_empty(), "{}", report(&hit, ALL));
}

// ---------------------------------------------------------------------------------------
// Random worlds (from session 8, with cancellations, payments in parts or of no known day,
// and zones far from UTC).
// ---------------------------------------------------------------------------------------

const LOOKBACK: i64 = 7;

#[derive(Clone, Debug)]
struct World {
    seed: u64,
    policy: Policy,
    clients: Vec<Client>,
    items: Vec<Item>,
    /// Item index, instant the host records it, and what: a payment of an amount (dated
    /// the local day of the company's zone), a cancellation, a "paid" status with no date.
    payments: Vec<(usize, DateTime<Utc>, Pay)>,
    /// Manual sends: item index and instant.
    manual: Vec<(usize, DateTime<Utc>)>,
    ticks: Vec<DateTime<Utc>>,
}

#[derive(Clone, Copy)]
struct Knobs {
    statements: bool,
    standing: bool,
    gap: bool,
    pauses: bool,
    payments: bool,
    manual: bool,
    outage: bool,
}

const ALL: Knobs = Knobs {
    statements: true,
    standing: true,
    gap: true,
    pauses: true,
    payments: true,
    manual: true,
    outage: true,
};

const ZONES: [&str; 8] = [
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "America/Santiago",
    "Pacific/Kiritimati",
    "UTC",
    "America/St_Johns",
    "Pacific/Pago_Pago",
    "Europe/Madrid",
];

/// Days around daylight-saving nights of the zones above (2026).
const STARTS: [(i32, u32, u32); 4] = [(2026, 3, 30), (2026, 9, 1), (2026, 9, 24), (2026, 10, 20)];

fn world(seed: u64, k: Knobs) -> World {
    let mut r = Rng(seed);
    let (y, m, dd) = STARTS[r.below(STARTS.len() as u64) as usize];
    let start = d(y, m, dd) + Duration::days(r.range(0, 6));
    let company_zone = ZONES[r.below(ZONES.len() as u64) as usize];
    let send_time = [t(9, 0), t(0, 0), t(23, 30), t(2, 30), t(14, 0)][r.below(5) as usize];
    let mut policy = Policy::new(tz(company_zone)).with_send_time(send_time);
    let expiry = |r: &mut Rng| r.chance(45).then(|| r.range(0, 3) as u32);
    if r.chance(60) {
        let mut soon = rule("soon", Anchor::Due, -(r.range(1, 4) as i32));
        if let Some(x) = expiry(&mut r) {
            soon = soon.expires_after(x);
        }
        policy = policy.with_rule(soon);
    }
    if r.chance(60) {
        let mut due = rule("due", Anchor::Due, 0);
        if let Some(x) = expiry(&mut r) {
            due = due.expires_after(x);
        }
        policy = policy.with_rule(due);
    }
    {
        let mut over = rule("over", Anchor::Due, r.range(1, 3) as i32);
        if r.chance(70) {
            over = over.repeat(r.range(1, 3) as u32, r.range(2, 4) as u32);
        }
        if let Some(x) = expiry(&mut r) {
            over = over.expires_after(x);
        }
        policy = policy.with_rule(over);
    }
    if r.chance(25) {
        policy = policy.with_rule(rule("issued", Anchor::Issued, 0).expires_after(r.range(0, 3) as u32));
    }
    if k.statements && r.chance(50) {
        let days = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];
        let rrule = if r.chance(70) {
            format!("FREQ=WEEKLY;BYDAY={}", days[r.below(7) as usize])
        } else {
            format!("FREQ=DAILY;INTERVAL={}", r.range(2, 4))
        };
        let mut st = StatementRule::new("stmt".parse().unwrap(), rrule, d(2026, 1, 1));
        if r.chance(50) {
            st = st.overdue_only();
        }
        if let Some(x) = expiry(&mut r) {
            st = st.expires_after(x);
        }
        policy = policy.with_statement(st);
    }
    if k.standing && r.chance(40) {
        let a = r.range(1, 5) as u32;
        policy = policy.with_standing(StandingRule::new(a, a + r.range(1, 5) as u32));
    }
    let weekends = r.chance(60);
    let mut holidays = Vec::new();
    for _ in 0..r.range(0, 2) {
        holidays.push(start + Duration::days(r.range(0, 20)));
    }
    policy = policy.with_calendar(BusinessCalendar::new(
        if weekends {
            vec![Weekday::Sat, Weekday::Sun]
        } else {
            vec![]
        },
        holidays,
    ));
    if k.gap && r.chance(55) {
        policy = policy.with_min_gap(r.range(1, 3) as u32);
    }
    let n_clients = r.range(1, 2) as usize;
    let mut clients = Vec::new();
    let mut items = Vec::new();
    for c in 0..n_clients {
        let zone = ZONES[r.below(ZONES.len() as u64) as usize];
        let id = format!("c{c}");
        let mut cl = client(&id, zone);
        if k.pauses && r.chance(15) {
            let from = start + Duration::days(r.range(0, 15));
            let p = if r.chance(50) {
                Pause::new(PauseKind::Hold, "held for good").starting(from)
            } else {
                Pause::new(PauseKind::Snooze, "snoozed")
                    .starting(from)
                    .until(from + Duration::days(r.range(0, 5)))
            };
            cl = cl.with_pause(p);
        }
        for i in 0..r.range(1, 4) {
            let due = start + Duration::days(r.range(-3, 14));
            let issued = due - Duration::days(r.range(5, 30));
            let mut item = invoice(&format!("F-{c}{i}"), &id, issued, due, money("100", "USD"));
            if k.pauses && r.chance(40) {
                let from = due + Duration::days(r.range(-4, 8));
                let p = if r.chance(60) {
                    Pause::new(PauseKind::Dispute, "disputed").starting(from)
                } else {
                    Pause::new(PauseKind::Promise, "promised")
                        .starting(from)
                        .until(from + Duration::days(r.range(0, 5)))
                };
                item = item.with_pause(p);
            }
            items.push(item);
        }
        clients.push(cl);
    }
    let mut payments = Vec::new();
    let zone0 = tz(company_zone);
    if k.payments && r.chance(45) {
        for _ in 0..r.range(1, 2) {
            let i = r.below(items.len() as u64) as usize;
            let day = start + Duration::days(r.range(0, 20));
            let at = local_instant(zone0, day, t(r.range(0, 23) as u32, 10));
            let what = match r.below(5) {
                0 | 1 => Pay::Amount(100),
                2 => {
                    let later = at + Duration::hours(r.range(1, 24 * 6));
                    payments.push((i, later, Pay::Amount(60)));
                    Pay::Amount(40)
                }
                3 => Pay::Cancel,
                _ => Pay::Unknown,
            };
            payments.push((i, at, what));
        }
    }
    let mut manual = Vec::new();
    if k.manual && r.chance(30) {
        for _ in 0..r.range(1, 2) {
            let i = r.below(items.len() as u64) as usize;
            let day = start + Duration::days(r.range(0, 20));
            manual.push((i, local_instant(zone0, day, t(r.range(0, 23) as u32, 20))));
        }
    }
    // Ticks: hourly, or daily at one UTC hour; outages of whole UTC hours.
    let hourly = r.chance(40);
    let first = local_instant(tz("UTC"), start, t(0, 0));
    let last = first + Duration::days(28);
    let hour = r.range(0, 23);
    let mut outages: Vec<(DateTime<Utc>, DateTime<Utc>)> = Vec::new();
    if k.outage && r.chance(50) {
        for _ in 0..r.range(1, 2) {
            let a = first + Duration::hours(r.range(0, 24 * 20));
            outages.push((a, a + Duration::hours(r.range(6, 24 * 4))));
        }
    }
    let mut ticks = Vec::new();
    let mut now = first;
    while now < last {
        let keep = hourly || now.format("%H").to_string().parse::<i64>().unwrap() == hour;
        if keep && !outages.iter().any(|(a, b)| *a <= now && now < *b) {
            ticks.push(now);
        }
        now += Duration::hours(1);
    }
    World {
        seed,
        policy,
        clients,
        items,
        payments,
        manual,
        ticks,
    }
}

/// What one tick saw.
struct Seen {
    now: DateTime<Utc>,
    plan: Plan,
    /// The history before the tick's sends.
    sent_before: BTreeSet<String>,
    paid: BTreeSet<String>,
}

#[derive(Clone, Copy, Debug)]
enum Pay {
    Amount(i64),
    Cancel,
    Unknown,
}

fn items_at(w: &World, now: DateTime<Utc>) -> (Vec<Item>, BTreeSet<String>) {
    let mut paid = BTreeSet::new();
    let zone = w.policy.time_zone;
    let items = w
        .items
        .iter()
        .enumerate()
        .map(|(i, it)| {
            let mut it = it.clone();
            let mut amount = 0;
            for (_, at, what) in w.payments.iter().filter(|p| p.0 == i && p.1 <= now) {
                match what {
                    Pay::Amount(n) => {
                        amount += n;
                        it = it.paid(money(&n.to_string(), "USD"), zone.local_date(*at));
                    }
                    Pay::Cancel => it = it.with_status(ItemStatus::Cancelled),
                    Pay::Unknown => it = it.with_status(ItemStatus::Paid),
                }
            }
            if amount >= 100 || !it.status.is_pending() {
                paid.insert(it.id.to_string());
            }
            it
        })
        .collect();
    (items, paid)
}

fn run(w: &World) -> (Vec<Seen>, Vec<String>) {
    let planner = Planner::new(&w.policy).unwrap();
    let mut history: Vec<HistoryEntry> = Vec::new();
    let mut sent: BTreeSet<String> = BTreeSet::new();
    let mut manual = w.manual.clone();
    let mut out = Vec::new();
    let mut bad = Vec::new();
    for &now in &w.ticks {
        manual.retain(|(i, at)| {
            if *at <= now {
                let it = &w.items[*i];
                history.push(HistoryEntry::manual(it.client.clone(), it.id.clone(), *at));
                false
            } else {
                true
            }
        });
        let (items, paid) = items_at(w, now);
        let plan = planner
            .plan(&w.clients, &items, &history, now, Horizon::days(10))
            .unwrap();
        let sent_before = sent.clone();
        for e in plan.due() {
            for k in e.covered_keys() {
                if !sent.insert(k.to_string()) {
                    bad.push(format!("{now}: {k} sent twice"));
                }
            }
            if e.statement.is_none() && e.standing.is_none() {
                for i in &e.items {
                    if paid.contains(i.item.as_str()) {
                        bad.push(format!("{now}: {} goes about paid {}", e.key, i.item));
                    }
                }
            }
            history.push(e.to_history(now));
        }
        out.push(Seen {
            now,
            plan,
            sent_before,
            paid,
        });
    }
    (out, bad)
}

fn today_of(w: &World, client: &ClientId, now: DateTime<Utc>) -> NaiveDate {
    let c = w.clients.iter().find(|c| &c.id == client).unwrap();
    c.time_zone.unwrap_or(w.policy.time_zone).local_date(now)
}

/// Whether a plan's statement that `s` is dropped is for good at `today`, given the keys
/// sent before the tick and due at it.
fn firm(s: &Suppressed, today: NaiveDate, sent: &BTreeSet<String>, due: &BTreeSet<String>) -> bool {
    match &s.reason {
        SuppressReason::Expired { days } => today > s.on + Duration::days(i64::from(*days)),
        SuppressReason::Superseded { by } => {
            (sent.contains(by.as_str()) || due.contains(by.as_str())) && s.on <= today
        }
        // Said on today's date, it may be the "as of the plan's day" form of a stop older
        // than the lookback.
        SuppressReason::Paused { .. } => s.on < today,
        SuppressReason::NothingToList => s.on < today,
        _ => false,
    }
}

/// The checks over a run. Returns the violations, one line each.
fn check(w: &World, seen: &[Seen], bad: &mut Vec<String>) {
    // key -> (reason, tick index where first said for good)
    let mut firm_said: BTreeMap<String, (Suppressed, usize)> = BTreeMap::new();
    let mut forecast: BTreeMap<String, (NaiveDate, Option<ItemId>)> = BTreeMap::new();
    let mut explained: BTreeSet<String> = BTreeSet::new();
    for (ix, s) in seen.iter().enumerate() {
        let due: BTreeSet<String> = s.plan.due().iter().map(|e| e.key.to_string()).collect();
        // Firm drops said before: still said the same way, and never due.
        for (key, (first, at)) in &firm_said {
            let today = today_of(w, &first.client, s.now);
            if first.item.as_ref().is_some_and(|i| s.paid.contains(i.as_str())) {
                continue;
            }
            if due.contains(key) {
                bad.push(format!(
                    "{}: {key} due after said {} at {}",
                    s.now,
                    short(first),
                    seen[*at].now
                ));
                continue;
            }
            if first.on > today - Duration::days(LOOKBACK) {
                let same = s
                    .plan
                    .suppressed()
                    .iter()
                    .any(|x| x.key == first.key && x.reason == first.reason && x.on == first.on);
                if !same {
                    bad.push(format!(
                        "{}: {key} said {} at {}, now {:?}",
                        s.now,
                        short(first),
                        seen[*at].now,
                        about(&s.plan, key)
                    ));
                }
            }
        }
        for x in s.plan.suppressed() {
            explained.insert(x.key.to_string());
            explained.insert(format!("{}/{}", x.rule, x.item_str()));
            let today = today_of(w, &x.client, s.now);
            if x.item.as_ref().is_some_and(|i| s.paid.contains(i.as_str())) {
                continue;
            }
            if !firm_said.contains_key(x.key.as_str()) && firm(x, today, &s.sent_before, &due) {
                firm_said.insert(x.key.to_string(), (x.clone(), ix));
            }
        }
        for e in s.plan.events() {
            if e.statement.is_none() && e.standing.is_none() {
                forecast
                    .entry(e.key.to_string())
                    .or_insert((e.send_on, e.items.first().map(|i| i.item.clone())));
            }
        }
    }
    // Every reminder forecast and never sent is explained by some plan (its day well
    // before the end of the run, its item never paid).
    let last = seen.last().map(|s| s.now);
    let sent_all: BTreeSet<String> = seen
        .iter()
        .flat_map(|s| s.plan.due().iter().map(|e| e.key.to_string()))
        .chain(seen.iter().flat_map(|s| s.sent_before.iter().cloned()))
        .collect();
    if let Some(last) = last {
        for (key, (on, item)) in forecast {
            let client = w
                .items
                .iter()
                .find(|i| Some(&i.id) == item.as_ref())
                .map(|i| i.client.clone());
            let Some(client) = client else { continue };
            let today = today_of(w, &client, last);
            if on + Duration::days(9) > today {
                continue;
            }
            let paid = w.payments.iter().any(|p| Some(&w.items[p.0].id) == item.as_ref());
            let rule_item = key.rsplit_once('/').map_or("", |(a, _)| a);
            if paid || sent_all.contains(&key) || explained.contains(&key) || explained.contains(rule_item) {
                continue;
            }
            bad.push(format!("{key} forecast for {on}, never sent nor explained"));
        }
    }
}

fn describe(w: &World) -> String {
    let mut out = format!(
        "seed {}\npolicy: {}\n",
        w.seed,
        serde_json::to_string(&w.policy).unwrap()
    );
    for c in &w.clients {
        out.push_str(&format!(
            "client {} zone {:?} pauses {:?}\n",
            c.id,
            c.time_zone.map(|z| z.name()),
            c.pauses
        ));
    }
    for i in &w.items {
        out.push_str(&format!(
            "item {} of {} issued {} due {:?} pauses {:?}\n",
            i.id, i.client, i.issued_on, i.due_on, i.pauses
        ));
    }
    out.push_str(&format!("payments {:?}\nmanual {:?}\n", w.payments, w.manual));
    let gaps: Vec<String> = w
        .ticks
        .windows(2)
        .filter(|p| p[1] - p[0] > Duration::hours(24))
        .map(|p| format!("{}..{}", p[0], p[1]))
        .collect();
    out.push_str(&format!(
        "ticks {} .. {} ({}), outages {:?}\n",
        w.ticks[0],
        w.ticks.last().unwrap(),
        w.ticks.len(),
        gaps
    ));
    out
}

fn sweep(seeds: std::ops::Range<u64>, k: Knobs) -> Vec<(u64, Vec<String>)> {
    let mut out = Vec::new();
    for seed in seeds {
        let w = world(seed, k);
        let (seen, mut bad) = run(&w);
        check(&w, &seen, &mut bad);
        if !bad.is_empty() {
            out.push((seed, bad));
        }
    }
    out
}

fn report(fails: &[(u64, Vec<String>)], k: Knobs) -> String {
    let mut s = String::new();
    for (seed, bad) in fails.iter().take(5) {
        s.push_str(&describe(&world(*seed, k)));
        for b in bad.iter().take(400) {
            s.push_str(&format!("  {b}\n"));
        }
    }
    format!("{} failing worlds\n{s}", fails.len())
}

/// Exploration aid (call from a test while working): `FROM`, `N`, `VERBOSE`.
#[allow(dead_code)]
fn explore() {
    let from: u64 = std::env::var("FROM")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let n: u64 = std::env::var("N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let fails = sweep(from..from + n, ALL);
    let mut kinds: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for (seed, bad) in &fails {
        for b in bad {
            let kind = if let Some(p) = b.find(" said ") {
                let rest = &b[p + 6..];
                let r = rest.split('(').next().unwrap().split(' ').next().unwrap();
                let rule = b.split(": ").nth(1).unwrap_or("").split('/').next().unwrap_or("");
                format!(
                    "{rule} {r} -> {}",
                    if b.ends_with("now []") { "nothing" } else { "other" }
                )
            } else if b.contains("never sent nor") {
                "unexplained".to_owned()
            } else {
                b.split(": ")
                    .nth(1)
                    .unwrap_or(b)
                    .split(' ')
                    .skip(1)
                    .take(2)
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            let v = kinds.entry(kind).or_default();
            if !v.contains(seed) {
                v.push(*seed);
            }
        }
    }
    for (k, v) in &kinds {
        println!("{k}: {} worlds, e.g. {:?}", v.len(), &v[..v.len().min(8)]);
    }
    if std::env::var("VERBOSE").is_ok() {
        println!("{}", report(&fails, ALL));
    }
}
