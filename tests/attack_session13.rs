//! Attack on "a key in history is never planned again" (stray keys of the planner's shape
//! held by entries not read as a send of what they name), session 13.
mod common;

use chrono::{DateTime, Utc};
use common::*;
use dunning::*;

/// Due and upcoming keys, the four ways (plan, schedule, portfolio plan, portfolio
/// schedule), checked to agree.
fn keys4(
    planner: &Planner,
    clients: &[Client],
    items: &[Item],
    history: &[HistoryEntry],
    now: DateTime<Utc>,
    horizon: Horizon,
) -> Vec<String> {
    let of_plan = |p: &Plan| -> Vec<String> {
        let mut v: Vec<String> = p.due().iter().map(|e| format!("due {}", e.key)).collect();
        v.extend(p.upcoming().iter().map(|e| format!("upcoming {}", e.key)));
        v
    };
    let of_sched = |s: &dunning::bulk::Schedule<'_>| -> Vec<String> {
        let mut v: Vec<String> = s.due().map(|e| format!("due {}", e.key())).collect();
        v.extend(s.upcoming().map(|e| format!("upcoming {}", e.key())));
        v
    };
    let a = of_plan(&planner.plan(clients, items, history, now, horizon).unwrap());
    let b = of_sched(&planner.schedule(clients, items, history, now, horizon).unwrap());
    let pf = planner.portfolio(clients, items).unwrap();
    let c = of_plan(&pf.plan(history, now, horizon).unwrap());
    let d = of_sched(&pf.schedule(history, now, horizon).unwrap());
    assert_eq!(a, b, "plan vs schedule");
    assert_eq!(a, c, "plan vs portfolio plan");
    assert_eq!(a, d, "plan vs portfolio schedule");
    a
}

fn has(keys: &[String], key: &str) -> bool {
    keys.iter().any(|k| k.split(' ').nth(1) == Some(key))
}

fn entry(
    key: &str,
    rule: Option<&str>,
    client: &str,
    items: &[(&str, u32)],
    at: DateTime<Utc>,
    outcome: HistoryOutcome,
) -> HistoryEntry {
    HistoryEntry {
        key: EventKey::from(key.to_owned()),
        rule: rule.map(|r| r.parse().unwrap()),
        client: client.parse().unwrap(),
        items: items
            .iter()
            .map(|(i, o)| HistoryItem {
                item: i.parse().unwrap(),
                occurrence: *o,
            })
            .collect(),
        sent_at: at,
        outcome,
    }
}

fn failed() -> HistoryOutcome {
    HistoryOutcome::Failed { error: "550".into() }
}

fn item_world() -> (Planner, Vec<Client>, Vec<Item>, DateTime<Utc>, Horizon) {
    let policy = Policy::new(tz("UTC"))
        .with_rule(rule("soon", Anchor::Due, -5))
        .with_rule(rule("overdue", Anchor::Due, 0).repeat(7, 3));
    let planner = Planner::new(&policy).unwrap();
    let clients = vec![client("c1", "UTC"), client("c2", "UTC")];
    let items = vec![
        invoice("F-1", "c1", d(2026, 3, 1), d(2026, 4, 1), money("100", "USD")),
        invoice("F-2", "c2", d(2026, 3, 1), d(2026, 4, 1), money("100", "USD")),
    ];
    (planner, clients, items, utc(2026, 4, 1, 12, 0), Horizon::days(30))
}

/// Guard: the key under attack is planned without history, and a manual send holding it
/// keeps it out.
#[test]
fn guard_manual_send_holding_planners_key_keeps_it_out() {
    let (planner, clients, items, now, horizon) = item_world();
    let base = keys4(&planner, &clients, &items, &[], now, horizon);
    assert!(has(&base, "overdue/F-1/1"), "{base:?}");
    let h = [entry(
        "overdue/F-1/1",
        None,
        "c1",
        &[],
        utc(2026, 3, 20, 9, 0),
        HistoryOutcome::Sent,
    )];
    let got = keys4(&planner, &clients, &items, &h, now, horizon);
    assert!(!has(&got, "overdue/F-1/1"), "{got:?}");
    assert!(has(&got, "overdue/F-2/1"), "{got:?}");
}

// Promise: a key recorded in history is never planned again, whatever entry holds it (a
// manual send); only a failed/unknown entry that is released is as if never made.
// Inputs: a manual entry (no items) keyed `overdue/F-1/1`, Sent on 03-20; another manual
// entry of the same key Failed on 03-21, Released on 03-22.
// Expected: `overdue/F-1/1` not planned (the Sent entry still holds it).
// Observed: planned: releasing the failed entry removes the key from the stray set
// (`index.stray.remove(h.key)` in `index_history`), whoever else holds it.
#[test]
fn finding_release_of_one_failed_entry_frees_a_key_a_sent_manual_entry_holds() {
    let (planner, clients, items, now, horizon) = item_world();
    let h = [
        entry(
            "overdue/F-1/1",
            None,
            "c1",
            &[],
            utc(2026, 3, 20, 9, 0),
            HistoryOutcome::Sent,
        ),
        entry("overdue/F-1/1", None, "c1", &[], utc(2026, 3, 21, 9, 0), failed()),
        entry(
            "overdue/F-1/1",
            None,
            "c1",
            &[],
            utc(2026, 3, 22, 9, 0),
            HistoryOutcome::Released,
        ),
    ];
    let got = keys4(&planner, &clients, &items, &h, now, horizon);
    assert!(has(&got, "overdue/F-2/1"), "{got:?}");
    assert!(
        !has(&got, "overdue/F-1/1"),
        "held by a Sent manual entry: {got:?}"
    );
}

// Promise: a failed send is held until released *at or after it*.
// Inputs: manual entries keyed `overdue/F-1/1`: Failed 03-19, Released 03-20, Failed again
// 03-21 (never released since).
// Expected: not planned (the 03-21 failure holds the key).
// Observed: planned: the 03-19 entry's release removes the key from the stray set.
#[test]
fn finding_release_of_an_older_failure_frees_a_key_a_later_unreleased_failure_holds() {
    let (planner, clients, items, now, horizon) = item_world();
    let h = [
        entry("overdue/F-1/1", None, "c1", &[], utc(2026, 3, 19, 9, 0), failed()),
        entry(
            "overdue/F-1/1",
            None,
            "c1",
            &[],
            utc(2026, 3, 20, 9, 0),
            HistoryOutcome::Released,
        ),
        entry("overdue/F-1/1", None, "c1", &[], utc(2026, 3, 21, 9, 0), failed()),
    ];
    let got = keys4(&planner, &clients, &items, &h, now, horizon);
    assert!(has(&got, "overdue/F-2/1"), "{got:?}");
    assert!(
        !has(&got, "overdue/F-1/1"),
        "held by an unreleased failure: {got:?}"
    );
}

/// Guard: a released failure alone frees its key (planned again).
#[test]
fn guard_released_failure_alone_is_planned_again() {
    let (planner, clients, items, now, horizon) = item_world();
    for rule in [None, Some("soon"), Some("overdue")] {
        let h = [
            entry("overdue/F-1/1", rule, "c2", &[], utc(2026, 3, 21, 9, 0), failed()),
            entry(
                "overdue/F-1/1",
                None,
                "c1",
                &[],
                utc(2026, 3, 21, 9, 0),
                HistoryOutcome::Released,
            ),
        ];
        let got = keys4(&planner, &clients, &items, &h, now, horizon);
        assert!(has(&got, "overdue/F-1/1"), "{rule:?} {got:?}");
    }
}

fn grouped_world() -> (Planner, Vec<Client>, Vec<Item>, DateTime<Utc>, Horizon) {
    let policy = Policy::new(tz("UTC")).with_rule(rule("overdue", Anchor::Due, 0).grouped());
    let planner = Planner::new(&policy).unwrap();
    let clients = vec![client("c1", "UTC")];
    let items = vec![
        invoice("F-1", "c1", d(2026, 3, 1), d(2026, 4, 1), money("100", "USD")),
        invoice("F-2", "c1", d(2026, 3, 1), d(2026, 4, 1), money("100", "USD")),
    ];
    (planner, clients, items, utc(2026, 4, 1, 12, 0), Horizon::days(30))
}

// Promise: as above, for a grouped notice's key (`rule/client/currency/g…`).
// Inputs: grouped rule `overdue`, two invoices of c1 due 04-01; history: an entry of rule
// `overdue` (no items) holding the grouped key the plan makes, Sent 03-20; a second entry of
// that key Failed 03-21, Released 03-22.
// Expected: the grouped key not planned (the Sent entry holds it); observed: planned
// (`index.group_keys.remove` on release drops it whoever else holds it).
#[test]
fn finding_release_of_a_failed_grouped_entry_frees_a_grouped_key_a_sent_entry_holds() {
    let (planner, clients, items, now, horizon) = grouped_world();
    let base = keys4(&planner, &clients, &items, &[], now, horizon);
    let g = base
        .iter()
        .filter_map(|k| k.split(' ').nth(1))
        .find(|k| k.matches('/').count() >= 3)
        .unwrap_or_else(|| panic!("no grouped key: {base:?}"))
        .to_owned();
    let held = [entry(
        &g,
        Some("overdue"),
        "c1",
        &[],
        utc(2026, 3, 20, 9, 0),
        HistoryOutcome::Sent,
    )];
    let got = keys4(&planner, &clients, &items, &held, now, horizon);
    assert!(!has(&got, &g), "guard: a Sent entry holds {g}: {got:?}");
    let h = [
        held[0].clone(),
        entry(&g, Some("overdue"), "c1", &[], utc(2026, 3, 21, 9, 0), failed()),
        entry(
            &g,
            Some("overdue"),
            "c1",
            &[],
            utc(2026, 3, 22, 9, 0),
            HistoryOutcome::Released,
        ),
    ];
    let got = keys4(&planner, &clients, &items, &h, now, horizon);
    assert!(!has(&got, &g), "held by a Sent entry: {g} in {got:?}");
}

fn statement_world() -> (Planner, Vec<Client>, Vec<Item>, DateTime<Utc>, Horizon) {
    let policy = Policy::new(tz("UTC")).with_statement(StatementRule::new(
        "stmt".parse().unwrap(),
        "FREQ=MONTHLY;BYMONTHDAY=1",
        d(2026, 1, 1),
    ));
    let planner = Planner::new(&policy).unwrap();
    let clients = vec![client("c1", "UTC"), client("c2", "UTC")];
    let items = vec![
        invoice("F-1", "c1", d(2026, 3, 1), d(2026, 6, 30), money("100", "USD")),
        invoice("F-2", "c2", d(2026, 3, 1), d(2026, 6, 30), money("100", "USD")),
    ];
    (planner, clients, items, utc(2026, 4, 1, 12, 0), Horizon::days(45))
}

// Promise: a statement's key recorded under another client is never planned again; only a
// released failure frees a key.
// Inputs: monthly statement `stmt` (day 1), now 04-01 12:00, horizon 45 days; c1's May
// statement key `stmt/c1/2026-05-01` recorded Sent under client c2 on 03-25; the same key
// recorded under c1, Failed 03-26, Released 03-27.
// Expected: `stmt/c1/2026-05-01` not planned (the c2 entry holds it); observed: planned.
#[test]
fn finding_release_of_a_failed_statement_frees_a_key_held_under_another_client() {
    let (planner, clients, items, now, horizon) = statement_world();
    let key = "stmt/c1/2026-05-01";
    let base = keys4(&planner, &clients, &items, &[], now, horizon);
    assert!(has(&base, key), "{base:?}");
    let held = [entry(
        key,
        Some("stmt"),
        "c2",
        &[],
        utc(2026, 3, 25, 9, 0),
        HistoryOutcome::Sent,
    )];
    let got = keys4(&planner, &clients, &items, &held, now, horizon);
    assert!(!has(&got, key), "guard: held under c2: {got:?}");
    let h = [
        held[0].clone(),
        entry(key, Some("stmt"), "c1", &[], utc(2026, 3, 26, 9, 0), failed()),
        entry(
            key,
            Some("stmt"),
            "c1",
            &[],
            utc(2026, 3, 27, 9, 0),
            HistoryOutcome::Released,
        ),
    ];
    let got = keys4(&planner, &clients, &items, &h, now, horizon);
    assert!(!has(&got, key), "held under c2 by a Sent entry: {got:?}");
}

// Promise: a key merely similar to a held one (other client) is still planned; only the
// held key is left out.
// Inputs: as above; history: one entry, rule `stmt`, key `stmt/c1/2026-05-01` (c1's May
// statement), recorded under client c2, Sent 03-25 (before c2's April statement).
// Expected: c1's May key left out; c2's own `stmt/c2/2026-04-01` (due) and
// `stmt/c2/2026-05-01` (upcoming) planned as without the entry.
// Observed: both of c2's statements are gone: the entry is read as c2's statement and the
// period it covers is taken from the date of c1's key (05-01), so c2's April and May are
// "not after the last one sent".
#[test]
fn finding_statement_key_of_another_client_recorded_under_c2_silences_c2s_own_statements() {
    let (planner, clients, items, now, horizon) = statement_world();
    let base = keys4(&planner, &clients, &items, &[], now, horizon);
    for k in ["stmt/c2/2026-04-01", "stmt/c2/2026-05-01", "stmt/c1/2026-05-01"] {
        assert!(has(&base, k), "{k} {base:?}");
    }
    let h = [entry(
        "stmt/c1/2026-05-01",
        Some("stmt"),
        "c2",
        &[],
        utc(2026, 3, 25, 9, 0),
        HistoryOutcome::Sent,
    )];
    let got = keys4(&planner, &clients, &items, &h, now, horizon);
    assert!(!has(&got, "stmt/c1/2026-05-01"), "{got:?}");
    let expected: Vec<&String> = base
        .iter()
        .filter(|k| !k.ends_with("stmt/c1/2026-05-01"))
        .collect();
    let got_refs: Vec<&String> = got.iter().collect();
    assert_eq!(got_refs, expected, "c2's own statements must stay");
}
