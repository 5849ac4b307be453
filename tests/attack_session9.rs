//! Attack session 9: statements read as of their own day (what they had to list: open items
//! issued by their date, invoices paid since), periods older than the last one sent said
//! after a later one went, reminders below a rule's highest sent occurrence still said
//! superseded, pauses without end that began while a reminder waited.
#![allow(clippy::too_many_lines)]

mod common;

use chrono::{DateTime, Utc};
use common::host::*;
use common::world::*;
use common::*;
use dunning::*;

// ---------------------------------------------------------------------------------------
// Findings: statements.
// ---------------------------------------------------------------------------------------

/// README "Explains itself": "a statement with nothing to list on its day (no open item
/// issued by its date, nor an invoice paid since) is said so on its date, missed or not,
/// whatever a later one lists (not superseded, not expired)"; once dropped for good "the
/// plans say it the same way, on the same day, from then on".
///
/// World: UTC, send 09:00, weekends off, statements every Tuesday and Saturday. F-1 issued
/// 06-01 is paid on Sunday 06-14 (dated 06-14, in every plan); F-2 is issued 06-16. The
/// Saturday 06-13 statement's day is Monday 06-15: by then nothing is owed. The host ticks
/// daily at 10:00, no outage.
/// Observed: the 06-15 plan says `stmt/c/2026-06-13` `NothingToList` on 06-13 (its day
/// gone); from 06-16 (when the Tuesday statement goes, listing F-2) every plan says it
/// `Superseded(stmt/c/2026-06-16)` on 06-13. The catch-up reads "nothing to list" from what
/// is owed now, the plans after a later one went from `had_anything_to_list` (paid since
/// its date).
#[test]
fn finding_weekend_statement_nothing_to_list_then_superseded() {
    let policy = utc_policy()
        .with_calendar(weekends())
        .with_statement(weekly("TU,SA"));
    let f1 = invoice("F-1", "c", june(1), june(30), usd("10")).paid(usd("10"), june(14));
    let f2 = invoice("F-2", "c", june(16), june(30), usd("10"));
    let run = host(
        &policy,
        &[utc_client("c")],
        &[f1, f2],
        &daily(june(1), june(26), 10, &[]),
        &[],
    );
    assert_same_from(&run, "stmt/c/2026-06-13", at10(15), at10(20), &|f| f.len() == 1);
}

/// README as above ("missed or not").
///
/// World: UTC, send 09:00, no weekends, statements every Monday and Thursday; F-1 issued
/// 06-01, its payment (dated 06-09) recorded 06-09 08:00; F-2 issued 06-10. The host is down
/// 06-08 (the Monday statement is missed) and ticks daily at 10:00 otherwise.
/// Observed: 06-09 and 06-10 plans say `stmt/c/2026-06-08` `NothingToList` on 06-08 (its
/// catch-up found nothing owed); from 06-11 (the Thursday statement goes) every plan says
/// `Superseded(stmt/c/2026-06-11)` on 06-08.
#[test]
fn finding_missed_statement_paid_before_catch_up_nothing_then_superseded() {
    let policy = utc_policy().with_statement(mo_th());
    let f1 = invoice("F-1", "c", june(1), june(30), usd("10"));
    let f1 = paid_from(&f1, utc(2026, 6, 9, 8, 0), june(9));
    let f2 = invoice("F-2", "c", june(10), june(30), usd("10"));
    let run = host_with(
        &policy,
        &[utc_client("c")],
        &|now| vec![f1(now), f2.clone()],
        &daily(june(1), june(20), 10, &[june(8)]),
        &[],
    );
    assert_same_from(&run, "stmt/c/2026-06-08", at10(9), at10(15), &|f| f.len() == 1);
}

/// README as above. An invoice marked paid with no known day (`ItemStatus::Paid`, no
/// payment, no `settled_on`) from the start.
///
/// World: UTC, send 09:00, statements every Monday and Thursday; F-1 issued 06-01, status
/// `Paid`, no date; F-2 issued 06-10 and open; the host ticks daily at 10:00, no outage.
/// Observed: 06-08..06-10 plans say `stmt/c/2026-06-08` `NothingToList` on 06-08 (nothing
/// went that day); from 06-11, when the Thursday statement goes, `Superseded(stmt/c/
/// 2026-06-11)` on 06-08 (a payment of no known day counts as "paid since").
#[test]
fn finding_statement_with_undated_paid_invoice_nothing_then_superseded() {
    let policy = utc_policy().with_statement(mo_th());
    let f1 = invoice("F-1", "c", june(1), june(30), usd("10")).with_status(ItemStatus::Paid);
    let f2 = invoice("F-2", "c", june(10), june(30), usd("10"));
    let run = host(
        &policy,
        &[utc_client("c")],
        &[f1, f2],
        &daily(june(1), june(20), 10, &[]),
        &[],
    );
    assert_same_from(&run, "stmt/c/2026-06-08", at10(8), at10(15), &|f| f.len() == 1);
}

/// README "Explains itself": "one a catch-up superseded stays said superseded on its date
/// after that catch-up went".
///
/// World: UTC, send 09:00, statements every Monday and Thursday; F-1 issued 06-01, open;
/// the host is down 06-08..06-10: 06-11 10:00 the Thursday statement goes as a catch-up
/// (listing F-1) and `stmt/c/2026-06-08` is said superseded by it. The host cancels F-1
/// (`ItemStatus::Cancelled`) before the 06-12 tick.
/// Observed: 06-11 `Superseded(stmt/c/2026-06-11)` on 06-08; 06-12..06-15 `NothingToList`
/// on 06-08 (a cancelled invoice is neither owed nor "paid since").
#[test]
fn finding_superseded_statement_said_nothing_to_list_after_invoice_cancelled() {
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
    let run = host_with(
        &policy,
        &[utc_client("c")],
        &items,
        &daily(june(1), june(20), 10, &[june(8), june(9), june(10)]),
        &[],
    );
    assert_same_from(&run, "stmt/c/2026-06-08", at10(11), at10(15), &|f| {
        f.len() == 1 && f[0].starts_with("Superseded(stmt/c/2026-06-11)")
    });
}

/// README "Missed sends": a statement that expires after N days "drops an occurrence whose
/// catch-up would go more than N days after its day ... said so by every plan while [its
/// day] is within the lookback"; "Explains itself": dropped for good, said the same way.
///
/// World: UTC, send 09:00, statements every Monday and Thursday expiring after 0 days; F-1
/// issued 06-01, open; the host is down 06-08; F-1's payment (dated 06-09) is recorded
/// 06-09 12:00, after the 06-09 tick.
/// Observed: 06-09 `stmt/c/2026-06-08` `Expired(0)` on 06-08; from 06-10 `NothingToList`
/// on 06-08.
#[test]
fn finding_expired_statement_said_nothing_to_list_after_payment() {
    let policy = utc_policy().with_statement(mo_th().expires_after(0));
    let f1 = invoice("F-1", "c", june(1), june(30), usd("10"));
    let f1 = paid_from(&f1, utc(2026, 6, 9, 12, 0), june(9));
    let run = host_with(
        &policy,
        &[utc_client("c")],
        &|now| vec![f1(now)],
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

/// README "Missed sends" ("said so by every plan while [its day] is within the lookback",
/// 7 days) and "Explains itself" ("one that expired stays said expired on its day after a
/// later one went").
///
/// World: UTC, send 09:00, weekends off, statements every Tuesday and Saturday expiring
/// after 0 days; F-1 open. Saturday 06-06's day is Monday 06-08; the host is down 06-08, so
/// it expires (said on 06-08); Tuesday 06-09's goes.
/// Observed: `Expired(0) on 2026-06-08` 06-09..06-13, nothing from 06-14 (06-08 still
/// within the lookback until 06-15): the plans after a later one went keep it only while
/// its date (06-06), not its day, is in the window.
#[test]
fn finding_expired_weekend_statement_forgotten_inside_lookback() {
    let policy = utc_policy()
        .with_calendar(weekends())
        .with_statement(weekly("TU,SA").expires_after(0));
    let f1 = invoice("F-1", "c", june(1), june(30), usd("10"));
    let run = host(
        &policy,
        &[utc_client("c")],
        &[f1],
        &daily(june(1), june(20), 10, &[june(8)]),
        &[],
    );
    assert_says(
        &run,
        "stmt/c/2026-06-06",
        at10(9),
        at10(15),
        &["Expired(0) on 2026-06-08"],
    );
}

/// README "Explains itself", the same reading for a statement whose fate a pause without
/// end settled: what it had to list is read as of the pause's first working day.
///
/// World: UTC, send 09:00, statements every Monday; F-1 issued 06-01, open until its payment
/// (dated 06-10) is recorded 06-10 08:00; the client is paused for good from Tuesday 06-09.
/// The host is down 06-08: the Monday statement's catch-up is held for good from 06-09.
/// Before: the 06-09 plan said it paused; from 06-10 (nothing owed now) "nothing to list".
#[test]
fn a_statement_a_pause_without_end_held_stays_held_after_payment() {
    let policy = utc_policy().with_statement(weekly("MO"));
    let f1 = invoice("F-1", "c", june(1), june(30), usd("10"));
    let f1 = paid_from(&f1, utc(2026, 6, 10, 8, 0), june(10));
    let c = utc_client("c").with_pause(Pause::new(PauseKind::Hold, "held").starting(june(9)));
    let run = host_with(
        &policy,
        &[c],
        &|now| vec![f1(now)],
        &daily(june(1), june(20), 10, &[june(8)]),
        &[],
    );
    // (Said while 06-08 is within the lookback, a week.)
    assert_same_from(&run, "stmt/c/2026-06-08", at10(9), at10(15), &|f| {
        f.len() == 1 && f[0].starts_with("Paused")
    });
}

/// README "Missed sends" and "Explains itself": a statement is dropped when it expires, as
/// of what it had to list then; one with nothing to list by then is said so, before and
/// after.
///
/// World: UTC, send 09:00, statements every Monday, expiring 2 days after their day; F-1
/// issued 06-01, its payment (dated 06-09) recorded 06-09 08:00. The host is down 06-08.
/// Before: 06-09 and 06-10 said `stmt/c/2026-06-08` "nothing to list"; from 06-11 (its
/// catch-up would go past 06-10) "expired", as an invoice paid after its date counted.
#[test]
fn a_missed_statement_paid_before_it_expired_stays_nothing_to_list() {
    let policy = utc_policy().with_statement(weekly("MO").expires_after(2));
    let f1 = invoice("F-1", "c", june(1), june(30), usd("10"));
    let f1 = paid_from(&f1, utc(2026, 6, 9, 8, 0), june(9));
    let run = host_with(
        &policy,
        &[utc_client("c")],
        &|now| vec![f1(now)],
        &daily(june(1), june(14), 10, &[june(8)]),
        &[],
    );
    assert_same_from(&run, "stmt/c/2026-06-08", at10(9), at10(14), &|f| {
        f.len() == 1 && f[0].starts_with("NothingToList")
    });
}

// ---------------------------------------------------------------------------------------
// Findings: reminders.
// ---------------------------------------------------------------------------------------

/// README "Pauses": "One still waiting when such a pause begins (held back by the minimum
/// gap, or missed and waiting for its catch-up) is held for good from the pause's first
/// working day, unless it had expired by then"; "Explains itself": said the same way, on
/// the same day, from then on.
///
/// World: UTC, send 09:00, rule `soon` 2 days before the due date; F-1 due 06-10 under a
/// dispute without end from 06-09; the host is down 06-08 (the "due soon" is missed) and
/// ticks daily at 10:00.
/// Observed: 06-09 `Paused(dispute)` on 06-09; from 06-10 `DueSoonAfterDue` on 06-10.
#[test]
fn finding_missed_due_soon_held_for_good_then_said_too_late() {
    let policy = utc_policy().with_rule(rule("soon", Anchor::Due, -2));
    let f1 = invoice("F-1", "c", june(1), june(10), usd("10"))
        .with_pause(Pause::new(PauseKind::Dispute, "disputed").starting(june(9)));
    let run = host(
        &policy,
        &[utc_client("c")],
        &[f1],
        &daily(june(5), june(20), 10, &[june(8)]),
        &[],
    );
    assert_says(
        &run,
        "soon/F-1/1",
        at10(9),
        at10(15),
        &["Paused(dispute) on 2026-06-09"],
    );
}

/// README "Pauses": a reminder waiting when a pause without end begins is held for good
/// from its first working day, "whatever message to the client comes later ...; nor does a
/// manual send about the item after that day move it".
///
/// World: UTC, send 09:00, rule `due` on the due date; F-1 due 06-10 under a payment
/// promise 06-10..06-11 (so it waits); a client hold without end from 06-12; a manual send
/// about F-1 at 06-15 08:00; daily ticks at 10:00.
/// Observed: `Paused(hold)` on 06-12 until the manual send; from 06-15 `Paused(hold)` on
/// 06-16 (the day after the manual send): a pause with an end on its own day hides the
/// later pause without end from the manual-send reading.
#[test]
fn finding_manual_send_moves_paused_day_after_promise() {
    let policy = utc_policy().with_rule(rule("due", Anchor::Due, 0));
    let f1 = invoice("F-1", "c", june(1), june(10), usd("10")).with_pause(
        Pause::new(PauseKind::Promise, "promised")
            .starting(june(10))
            .until(june(11)),
    );
    let c = utc_client("c").with_pause(Pause::new(PauseKind::Hold, "held").starting(june(12)));
    let run = host(
        &policy,
        &[c],
        &[f1],
        &daily(june(5), june(20), 10, &[]),
        &[("c", "F-1", utc(2026, 6, 15, 8, 0))],
    );
    assert_says(
        &run,
        "due/F-1/1",
        at10(12),
        at10(18),
        &["Paused(hold) on 2026-06-12"],
    );
}

/// README "Missed sends": one a pause holds back more than N days after its day is
/// "dropped too, said on that day"; "Explains itself": once its last day is gone, said the
/// same way, on the same day, from then on.
///
/// World: UTC, send 09:00, weekends off; rules `due` (on the due date, expiring after 2
/// days) and `over` (1 day after, every 2 days, twice, expiring after 1); F-1 due Wed 06-10
/// under a promise 06-08..06-13; a client hold without end from Tue 06-16; daily ticks at
/// 10:00. `due/F-1/1` is held to Mon 06-15, past its last day 06-12: expired. `over/F-1/2`
/// (Sat 06-13, moved to 06-15) goes 06-15.
/// Observed: `Expired(2)` on 06-10 until 06-15; from 06-16 `Paused(hold)` on 06-16. (Without
/// the `over` rule it stays expired.)
#[test]
fn finding_expired_reminder_said_paused_after_later_stage_went() {
    let policy = utc_policy()
        .with_calendar(weekends())
        .with_rule(rule("due", Anchor::Due, 0).expires_after(2))
        .with_rule(rule("over", Anchor::Due, 1).repeat(2, 2).expires_after(1));
    let f1 = invoice("F-1", "c", june(1), june(10), usd("10")).with_pause(
        Pause::new(PauseKind::Promise, "promised")
            .starting(june(8))
            .until(june(13)),
    );
    let c = utc_client("c").with_pause(Pause::new(PauseKind::Hold, "held").starting(june(16)));
    let run = host(&policy, &[c], &[f1], &daily(june(5), june(20), 10, &[]), &[]);
    assert_says(
        &run,
        "due/F-1/1",
        at10(13),
        at10(17),
        &["Expired(2) on 2026-06-10"],
    );
}

// ---------------------------------------------------------------------------------------
// Guards.
// ---------------------------------------------------------------------------------------

/// Guard: an invoice paid on the statement's own date was not owed on it: the missed
/// statement is said `NothingToList` on its date, before and after a later one went.
#[test]
fn guard_statement_paid_on_its_date_has_nothing_to_list() {
    let policy = utc_policy().with_statement(mo_th());
    let f1 = invoice("F-1", "c", june(1), june(30), usd("10")).paid(usd("10"), june(8));
    let f2 = invoice("F-2", "c", june(10), june(30), usd("10"));
    let run = host(
        &policy,
        &[utc_client("c")],
        &[f1, f2],
        &daily(june(1), june(20), 10, &[june(8)]),
        &[],
    );
    assert_says(
        &run,
        "stmt/c/2026-06-08",
        at10(9),
        at10(15),
        &["NothingToList on 2026-06-08"],
    );
}

/// Guard: an expired reminder a later pause without end does not touch stays expired (the
/// world of `finding_expired_reminder_said_paused_after_later_stage_went` without `over`).
#[test]
fn guard_expired_reminder_stays_expired_when_hold_begins() {
    let policy = utc_policy()
        .with_calendar(weekends())
        .with_rule(rule("due", Anchor::Due, 0).expires_after(2));
    let f1 = invoice("F-1", "c", june(1), june(10), usd("10")).with_pause(
        Pause::new(PauseKind::Promise, "promised")
            .starting(june(8))
            .until(june(13)),
    );
    let c = utc_client("c").with_pause(Pause::new(PauseKind::Hold, "held").starting(june(16)));
    let run = host(&policy, &[c], &[f1], &daily(june(5), june(20), 10, &[]), &[]);
    assert_says(
        &run,
        "due/F-1/1",
        at10(13),
        at10(17),
        &["Expired(2) on 2026-06-10"],
    );
}

/// Guard over random worlds (zones far from UTC, cancellations, payments in two parts or of
/// no known day, outages, manual sends): no key goes twice, nothing goes about an item paid
/// or cancelled when the tick plans, nothing goes once said dropped for good, every
/// reminder forecast and never sent is explained.
#[test]
fn guard_random_worlds_sends_and_explained() {
    let fails = sweep(0..120, ALL);
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

/// Random worlds with every knob, seeds `FROM..FROM+N` (environment; 0 and 200 if unset):
/// what the sweep finds, by kind (`VERBOSE` for each world's report).
#[test]
#[ignore = "exploration"]
fn explore() {
    common::world::explore(ALL);
}

/// One random world (`SEED`, every knob) ticked: what each plan says of each of `KEYS`
/// (comma-separated), whether it was sent before the tick, and the clients' standings.
#[test]
#[ignore = "debugging aid"]
fn show_world() {
    let seed: u64 = std::env::var("SEED").unwrap().parse().unwrap();
    let keys: Vec<String> = std::env::var("KEYS")
        .unwrap()
        .split(',')
        .map(str::to_owned)
        .collect();
    let w = world(seed, ALL);
    let (seen, _) = run(&w);
    for s in &seen {
        let mut line = format!("{}:", s.now);
        for k in &keys {
            line += &format!(
                " {k} {:?}{}",
                about(&s.plan, k),
                if s.sent_before.contains(k) { " (sent)" } else { "" }
            );
        }
        line += &format!(
            " standings {:?}",
            s.plan
                .standings()
                .iter()
                .map(|x| (x.client.to_string(), x.state, x.since))
                .collect::<Vec<_>>()
        );
        println!("{line}");
    }
}
