//! Attack session 10: what a statement had to list, read as of the day its fate was settled
//! (`settled_on`); "due soon" reminders held for good before their due date; reminders
//! moved after another reminder's send onto a pause without end.
#![allow(clippy::too_many_lines)]

mod common;

use chrono::{DateTime, Utc};
use common::host::*;
use common::world::*;
use common::*;
use dunning::*;

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
/// Fixed: a "due soon" a pause without end holds from its due date or later is too late
/// (it was first), whatever moved it there: a manual send's spacing, the gap, another
/// reminder's day.
#[test]
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
