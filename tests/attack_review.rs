//! Adversarial review of the day's changes: expiry counted from a send's own day when a
//! pause or the minimum gap holds it back, overdue-only statements listing what was overdue
//! on their day, test sends (`preview/`) in history, lasting stops after the due date, manual
//! reminder ids and statuses, and at-least-once retries after the lease.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, TimeZone as _, Utc};
use dunning::store::{
    ActionLog, Claim, Delivery, DispatchStore, LogEntry, LogFilter, Reminder, ReminderStore, Snapshot,
    StoreError, async_trait,
};
use dunning::*;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn utc(y: i32, m: u32, day: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, day, h, 0, 0).unwrap()
}

fn usd(text: &str) -> Money {
    Money::parse(text, Currency::from_code("USD").unwrap()).unwrap()
}

fn client(id: &str) -> Client {
    Client::new(id.parse().unwrap(), format!("Client {id}"))
        .with_contact(Contact::new("Ana", format!("ana@{id}.cl")))
}

fn invoice(id: &str, client: &str, issued: NaiveDate, due: NaiveDate) -> Item {
    Item::invoice(id.parse().unwrap(), client.parse().unwrap(), issued, usd("100")).due(due)
}

fn rule(id: &str, anchor: Anchor, offset: i32) -> Rule {
    Rule::new(id.parse().unwrap(), anchor, offset)
}

/// A policy in `tz` with weekends off.
fn weekdays(tz: TimeZone) -> Policy {
    Policy::new(tz).with_calendar(BusinessCalendar::new(
        [chrono::Weekday::Sat, chrono::Weekday::Sun],
        [],
    ))
}

fn pause(from: NaiveDate, until: NaiveDate) -> Pause {
    Pause::new(PauseKind::Snooze, "vacaciones")
        .starting(from)
        .until(until)
}

/// What a host ticking at these hours every day from `from` to `to` (inclusive) sends, by key
/// (the local day of each send), and every suppression said (key, day, reason).
#[derive(Default, Debug)]
struct Run {
    sent: BTreeMap<String, Vec<NaiveDate>>,
    said: Vec<(String, NaiveDate, SuppressReason)>,
    history: Vec<HistoryEntry>,
}

fn run(
    policy: &Policy,
    clients: &[Client],
    items: &[Item],
    history: Vec<HistoryEntry>,
    from: NaiveDate,
    to: NaiveDate,
    hours: &[u32],
) -> Run {
    let planner = Planner::new(policy).unwrap();
    let mut r = Run {
        history,
        ..Run::default()
    };
    let mut day = from;
    while day <= to {
        for &h in hours {
            let now = Utc.from_utc_datetime(&day.and_hms_opt(h, 0, 0).unwrap());
            let plan = planner
                .plan(clients, items, &r.history, now, Horizon::days(7))
                .unwrap();
            for e in plan.due() {
                r.sent.entry(e.key.to_string()).or_default().push(day);
                r.history.push(e.to_history(now));
            }
            for s in plan.suppressed() {
                let t = (s.key.to_string(), s.on, s.reason.clone());
                if !r.said.contains(&t) {
                    r.said.push(t);
                }
            }
        }
        day = day.succ_opt().unwrap();
    }
    r
}

fn said(r: &Run, key: &str) -> Vec<(NaiveDate, SuppressReason)> {
    r.said
        .iter()
        .filter(|(k, ..)| k == key)
        .map(|(_, on, why)| (*on, why.clone()))
        .collect()
}

// ---------------------------------------------------------------------------------------
// 1. Expiry with pauses and the gap
// ---------------------------------------------------------------------------------------

/// Friday 2026-04-03 send, 3-day expiry: the last allowed day is Monday 04-06. A pause that
/// ends on Sunday lets it go on Monday, within its days.
#[test]
fn a_pause_ending_the_day_before_the_last_allowed_day_lets_the_send_go() {
    let policy = weekdays(TimeZone::UTC)
        .with_rule(rule("issued", Anchor::Issued, 0).expires_after(3))
        .with_statement(
            StatementRule::new("estado".parse().unwrap(), "FREQ=WEEKLY;BYDAY=FR", d(2026, 1, 2))
                .expires_after(3),
        );
    let clients = [client("acme").with_pause(pause(d(2026, 4, 2), d(2026, 4, 5)))];
    let items = [invoice("F-1", "acme", d(2026, 4, 3), d(2026, 5, 3))];
    let r = run(
        &policy,
        &clients,
        &items,
        vec![],
        d(2026, 4, 1),
        d(2026, 4, 9),
        &[0, 8, 12, 20],
    );
    assert_eq!(r.sent.get("issued/F-1/1"), Some(&vec![d(2026, 4, 6)]), "{r:#?}");
    assert_eq!(
        r.sent.get("estado/acme/2026-04-03"),
        Some(&vec![d(2026, 4, 6)]),
        "{r:#?}"
    );
}

/// The same with the pause ending on Monday: it would go on Tuesday, a day past: dropped.
#[test]
fn a_pause_ending_on_the_last_allowed_day_drops_the_send() {
    let policy = weekdays(TimeZone::UTC)
        .with_rule(rule("issued", Anchor::Issued, 0).expires_after(3))
        .with_statement(
            StatementRule::new("estado".parse().unwrap(), "FREQ=WEEKLY;BYDAY=FR", d(2026, 1, 2))
                .expires_after(3),
        );
    let clients = [client("acme").with_pause(pause(d(2026, 4, 2), d(2026, 4, 6)))];
    let items = [invoice("F-1", "acme", d(2026, 4, 3), d(2026, 5, 3))];
    let r = run(
        &policy,
        &clients,
        &items,
        vec![],
        d(2026, 4, 1),
        d(2026, 4, 9),
        &[0, 8, 12, 20],
    );
    for key in ["issued/F-1/1", "estado/acme/2026-04-03"] {
        assert!(!r.sent.contains_key(key), "{key}: {r:#?}");
        assert!(
            said(&r, key).contains(&(d(2026, 4, 3), SuppressReason::Expired { days: 3 })),
            "{key}: {:#?}",
            said(&r, key)
        );
    }
}

/// An invoice issued on Saturday: its "issued" notice goes on Monday (weekends off). A pause
/// over that Saturday alone holds nothing back (Monday was its day anyway), so a 1-day
/// expiry must not drop it.
#[test]
fn a_pause_over_the_non_working_day_a_send_moved_off_does_not_expire_it() {
    let policy = weekdays(TimeZone::UTC).with_rule(rule("issued", Anchor::Issued, 0).expires_after(1));
    let items = [invoice("F-1", "acme", d(2026, 4, 4), d(2026, 5, 4))];
    let without = run(
        &policy,
        &[client("acme")],
        &items,
        vec![],
        d(2026, 4, 3),
        d(2026, 4, 8),
        &[0, 12],
    );
    assert_eq!(
        without.sent.get("issued/F-1/1"),
        Some(&vec![d(2026, 4, 6)]),
        "{without:#?}"
    );
    for (from, until) in [(d(2026, 4, 4), d(2026, 4, 4)), (d(2026, 4, 4), d(2026, 4, 5))] {
        let clients = [client("acme").with_pause(pause(from, until))];
        let r = run(
            &policy,
            &clients,
            &items,
            vec![],
            d(2026, 4, 3),
            d(2026, 4, 8),
            &[0, 12],
        );
        assert_eq!(
            r.sent.get("issued/F-1/1"),
            Some(&vec![d(2026, 4, 6)]),
            "{from}..{until}: {r:#?}"
        );
    }
}

/// The same for a statement scheduled on a Saturday.
#[test]
fn a_pause_over_a_statements_weekend_does_not_expire_it() {
    let policy = weekdays(TimeZone::UTC).with_statement(
        StatementRule::new("estado".parse().unwrap(), "FREQ=WEEKLY;BYDAY=SA", d(2026, 1, 3)).expires_after(1),
    );
    let items = [invoice("F-1", "acme", d(2026, 3, 4), d(2026, 5, 4))];
    let without = run(
        &policy,
        &[client("acme")],
        &items,
        vec![],
        d(2026, 4, 3),
        d(2026, 4, 8),
        &[0, 12],
    );
    assert_eq!(
        without.sent.get("estado/acme/2026-04-04"),
        Some(&vec![d(2026, 4, 6)]),
        "{without:#?}"
    );
    let clients = [client("acme").with_pause(pause(d(2026, 4, 4), d(2026, 4, 5)))];
    let r = run(
        &policy,
        &clients,
        &items,
        vec![],
        d(2026, 4, 3),
        d(2026, 4, 8),
        &[0, 12],
    );
    assert_eq!(
        r.sent.get("estado/acme/2026-04-04"),
        Some(&vec![d(2026, 4, 6)]),
        "{r:#?}"
    );
}

/// The gap holds a Friday reminder (3-day expiry) to Monday, its last allowed day: it goes.
/// Held to Tuesday by a longer gap: dropped, said on Friday.
#[test]
fn the_gap_holding_a_reminder_to_its_last_allowed_day_lets_it_go() {
    let items = [
        invoice("F-0", "acme", d(2026, 3, 3), d(2026, 4, 2)),
        invoice("F-1", "acme", d(2026, 4, 3), d(2026, 5, 3)),
    ];
    // A manual message about the other invoice on Thursday 04-02.
    let manual = || {
        vec![HistoryEntry::manual(
            "acme".parse().unwrap(),
            "F-0".parse().unwrap(),
            utc(2026, 4, 2, 15),
        )]
    };
    // Gap 4: the next message may go on Monday 04-06.
    let policy = weekdays(TimeZone::UTC)
        .with_min_gap(4)
        .with_rule(rule("issued", Anchor::Issued, 0).expires_after(3));
    let r = run(
        &policy,
        &[client("acme")],
        &items,
        manual(),
        d(2026, 4, 3),
        d(2026, 4, 10),
        &[0, 8, 12, 20],
    );
    assert_eq!(r.sent.get("issued/F-1/1"), Some(&vec![d(2026, 4, 6)]), "{r:#?}");
    // Gap 5: Tuesday, past its days.
    let policy = weekdays(TimeZone::UTC)
        .with_min_gap(5)
        .with_rule(rule("issued", Anchor::Issued, 0).expires_after(3));
    let r = run(
        &policy,
        &[client("acme")],
        &items,
        manual(),
        d(2026, 4, 3),
        d(2026, 4, 10),
        &[0, 8, 12, 20],
    );
    assert!(!r.sent.contains_key("issued/F-1/1"), "{r:#?}");
    assert!(
        said(&r, "issued/F-1/1").contains(&(d(2026, 4, 3), SuppressReason::Expired { days: 3 })),
        "{r:#?}"
    );
}

/// The gap held by a message about the same item (a manual send about F-1 the day before
/// its "issued" day is possible when the invoice was entered earlier).
#[test]
fn the_gap_from_a_message_about_the_same_item_expires_it_as_well() {
    let items = [invoice("F-1", "acme", d(2026, 4, 3), d(2026, 5, 3))];
    let manual = vec![HistoryEntry::manual(
        "acme".parse().unwrap(),
        "F-1".parse().unwrap(),
        utc(2026, 4, 2, 15),
    )];
    let policy = weekdays(TimeZone::UTC)
        .with_min_gap(5)
        .with_rule(rule("issued", Anchor::Issued, 0).expires_after(3));
    let r = run(
        &policy,
        &[client("acme")],
        &items,
        manual,
        d(2026, 4, 3),
        d(2026, 4, 10),
        &[0, 8, 12, 20],
    );
    assert!(!r.sent.contains_key("issued/F-1/1"), "{r:#?}");
    assert!(
        r.said
            .iter()
            .any(|(k, _, why)| k == "issued/F-1/1" && *why == SuppressReason::Expired { days: 3 }),
        "{r:#?}"
    );
}

/// Repeats: the second of three weekly reminders is held by a pause past its 2-day expiry and
/// dropped; the first and the third go, none twice, none on one day with another.
#[test]
fn a_repeat_a_pause_holds_past_its_expiry_is_dropped_and_the_next_still_goes() {
    let policy =
        weekdays(TimeZone::UTC).with_rule(rule("overdue", Anchor::Due, 0).repeat(7, 3).expires_after(2));
    // Due Tuesday 2026-03-10; the second occurrence falls Tuesday 03-17; paused 03-16..03-20.
    let clients = [client("acme").with_pause(pause(d(2026, 3, 16), d(2026, 3, 20)))];
    let items = [invoice("F-1", "acme", d(2026, 3, 2), d(2026, 3, 10))];
    let r = run(
        &policy,
        &clients,
        &items,
        vec![],
        d(2026, 3, 9),
        d(2026, 4, 10),
        &[3, 13],
    );
    assert_eq!(r.sent.get("overdue/F-1/1"), Some(&vec![d(2026, 3, 10)]), "{r:#?}");
    assert!(!r.sent.contains_key("overdue/F-1/2"), "{r:#?}");
    assert!(
        said(&r, "overdue/F-1/2").contains(&(d(2026, 3, 17), SuppressReason::Expired { days: 2 })),
        "{:#?}",
        said(&r, "overdue/F-1/2")
    );
    let third = r.sent.get("overdue/F-1/3").cloned().unwrap_or_default();
    assert_eq!(third.len(), 1, "{r:#?}");
    assert!(third[0] > d(2026, 3, 20), "{r:#?}");
    assert!(r.sent.values().all(|v| v.len() == 1), "{r:#?}");
}

/// Outage during a pause: the host is down from before the pause to after the last allowed
/// day; the catch-up is dropped (said Expired), never sent late.
#[test]
fn a_catch_up_after_an_outage_during_a_pause_is_not_sent_past_its_expiry() {
    let policy = weekdays(TimeZone::UTC)
        .with_rule(rule("issued", Anchor::Issued, 0).expires_after(3))
        .with_statement(
            StatementRule::new("estado".parse().unwrap(), "FREQ=WEEKLY;BYDAY=FR", d(2026, 1, 2))
                .expires_after(3),
        );
    let clients = [client("acme").with_pause(pause(d(2026, 4, 2), d(2026, 4, 5)))];
    let items = [invoice("F-1", "acme", d(2026, 4, 3), d(2026, 5, 3))];
    // Down from Wednesday to Tuesday 04-07 (one past Monday, its last day).
    let planner = Planner::new(&policy).unwrap();
    let plan = planner
        .plan(&clients, &items, &[], utc(2026, 4, 7, 12), Horizon::days(7))
        .unwrap();
    for key in ["issued/F-1/1", "estado/acme/2026-04-03"] {
        assert!(
            plan.events().all(|e| e.key.as_str() != key),
            "{key}: {:#?}",
            plan.due()
        );
        assert!(
            plan.suppressed()
                .iter()
                .any(|s| s.key.as_str() == key && s.reason == SuppressReason::Expired { days: 3 }),
            "{key}: {:#?}",
            plan.suppressed()
        );
    }
    // Back on Monday (its last day): it goes, naming the pause.
    let plan = planner
        .plan(&clients, &items, &[], utc(2026, 4, 6, 12), Horizon::days(7))
        .unwrap();
    for key in ["issued/F-1/1", "estado/acme/2026-04-03"] {
        let e = plan.due().iter().find(|e| e.key.as_str() == key);
        assert!(e.is_some(), "{key}: {:#?} {:#?}", plan.due(), plan.suppressed());
        assert!(
            e.unwrap()
                .why
                .adjustments
                .iter()
                .any(|a| matches!(a, Adjustment::Paused { .. })),
            "{key}: {e:#?}"
        );
    }
}

/// Time zones on both sides of UTC: the pause and expiry are read in the client's zone.
#[test]
fn expiry_under_a_pause_is_counted_in_local_days_east_and_west() {
    for tz in [
        "Pacific/Auckland",
        "America/Santiago",
        "Pacific/Kiritimati",
        "Pacific/Pago_Pago",
    ] {
        let tz = TimeZone::from_name(tz).unwrap();
        let policy = weekdays(tz).with_rule(rule("issued", Anchor::Issued, 0).expires_after(3));
        let items = [invoice("F-1", "acme", d(2026, 4, 3), d(2026, 5, 3))];
        let ok = [client("acme")
            .with_time_zone(tz)
            .with_pause(pause(d(2026, 4, 2), d(2026, 4, 5)))];
        let r = run(
            &policy,
            &ok,
            &items,
            vec![],
            d(2026, 3, 31),
            d(2026, 4, 10),
            &[0, 4, 8, 12, 16, 20],
        );
        let sent = r.sent.get("issued/F-1/1").cloned().unwrap_or_default();
        assert_eq!(sent.len(), 1, "{tz:?}: {r:#?}");
        let late = [client("acme")
            .with_time_zone(tz)
            .with_pause(pause(d(2026, 4, 2), d(2026, 4, 6)))];
        let r = run(
            &policy,
            &late,
            &items,
            vec![],
            d(2026, 3, 31),
            d(2026, 4, 10),
            &[0, 4, 8, 12, 16, 20],
        );
        assert!(!r.sent.contains_key("issued/F-1/1"), "{tz:?}: {r:#?}");
        assert!(
            said(&r, "issued/F-1/1").contains(&(d(2026, 4, 3), SuppressReason::Expired { days: 3 })),
            "{tz:?}: {r:#?}"
        );
    }
}

/// A DST night inside the pause (Santiago leaves DST on the night of 2026-04-04/05).
#[test]
fn expiry_under_a_pause_across_a_dst_night() {
    let tz = TimeZone::from_name("America/Santiago").unwrap();
    let policy = weekdays(tz)
        .with_send_time(chrono::NaiveTime::from_hms_opt(0, 0, 0).unwrap())
        .with_rule(rule("issued", Anchor::Issued, 0).expires_after(3));
    let items = [invoice("F-1", "acme", d(2026, 4, 3), d(2026, 5, 3))];
    let ok = [client("acme")
        .with_time_zone(tz)
        .with_pause(pause(d(2026, 4, 3), d(2026, 4, 5)))];
    let r = run(
        &policy,
        &ok,
        &items,
        vec![],
        d(2026, 3, 31),
        d(2026, 4, 10),
        &[0, 2, 3, 4, 5, 8, 12, 16, 20],
    );
    assert_eq!(r.sent.get("issued/F-1/1").map(Vec::len), Some(1), "{r:#?}");
}

// ---------------------------------------------------------------------------------------
// 2. Test sends in history
// ---------------------------------------------------------------------------------------

/// A rule, statement or standing notice may not be called "preview" (its real keys would
/// start with `preview/` and be read as test sends): refused with a typed error.
#[test]
fn rules_named_preview_are_refused_so_no_real_key_reads_as_a_test_send() {
    let id: RuleId = "preview".parse().unwrap();
    let rule_policy = weekdays(TimeZone::UTC).with_rule(Rule::new(id.clone(), Anchor::Due, 0));
    let statement_policy =
        weekdays(TimeZone::UTC).with_statement(StatementRule::new(id, "FREQ=WEEKLY;BYDAY=FR", d(2026, 1, 2)));
    for policy in [rule_policy, statement_policy] {
        assert!(
            matches!(Planner::new(&policy), Err(ValidationError::ReservedId { .. })),
            "{:?}",
            Planner::new(&policy).err()
        );
    }
}

/// A preview of a grouped rule recorded in history stops nothing: the real grouped notice
/// still goes, once.
#[test]
fn a_recorded_preview_of_a_grouped_rule_does_not_stop_the_real_notice() {
    let policy = weekdays(TimeZone::UTC).with_rule(rule("overdue", Anchor::Due, 0).grouped());
    let planner = Planner::new(&policy).unwrap();
    let c = client("acme");
    let items = [
        invoice("F-1", "acme", d(2026, 3, 2), d(2026, 3, 10)),
        invoice("F-2", "acme", d(2026, 3, 3), d(2026, 3, 10)),
    ];
    let early = utc(2026, 3, 10, 6);
    let p = planner
        .preview(&"overdue".parse().unwrap(), &c, &items[0], early)
        .unwrap();
    assert!(p.key.as_str().starts_with("preview/"), "{}", p.key);
    let history = vec![p.to_history(early)];
    let r = run(
        &policy,
        std::slice::from_ref(&c),
        &items,
        history,
        d(2026, 3, 10),
        d(2026, 3, 20),
        &[3, 13],
    );
    assert_eq!(r.sent.len(), 1, "{r:#?}");
    assert!(r.sent.values().all(|v| v == &vec![d(2026, 3, 10)]), "{r:#?}");
}

// ---------------------------------------------------------------------------------------
// 3. Overdue-only statements
// ---------------------------------------------------------------------------------------

/// Friday statements listing overdue items; a pause holds Friday 04-03's to Monday. An
/// invoice due Saturday (overdue by Monday, not by Friday) is not listed; a partly paid one
/// overdue by Friday is, with its balance.
#[test]
fn an_overdue_only_statement_held_by_a_pause_lists_what_was_overdue_on_its_day() {
    let policy = weekdays(TimeZone::UTC).with_statement(
        StatementRule::new("vencidos".parse().unwrap(), "FREQ=WEEKLY;BYDAY=FR", d(2026, 1, 2)).overdue_only(),
    );
    let clients = [client("acme").with_pause(pause(d(2026, 4, 3), d(2026, 4, 5)))];
    let items = [
        invoice("F-1", "acme", d(2026, 3, 1), d(2026, 4, 1)).paid(usd("40"), d(2026, 4, 2)),
        invoice("F-2", "acme", d(2026, 3, 1), d(2026, 4, 4)),
    ];
    let planner = Planner::new(&policy).unwrap();
    let plan = planner
        .plan(&clients, &items, &[], utc(2026, 4, 6, 12), Horizon::NONE)
        .unwrap();
    let e = plan
        .due()
        .iter()
        .find(|e| e.key.as_str() == "vencidos/acme/2026-04-03")
        .unwrap_or_else(|| panic!("{:#?} {:#?}", plan.due(), plan.suppressed()));
    let listed: Vec<_> = e.items.iter().map(|i| (i.item.to_string(), i.balance)).collect();
    assert_eq!(listed, vec![("F-1".to_owned(), Some(usd("60")))], "{e:#?}");
}

/// The only item overdue on the statement's day is paid in full during the pause: the
/// held statement has nothing to list and is not sent (never after payment), and says so.
#[test]
fn an_overdue_only_statement_whose_items_were_paid_during_the_pause_is_not_sent() {
    let policy = weekdays(TimeZone::UTC).with_statement(
        StatementRule::new("vencidos".parse().unwrap(), "FREQ=WEEKLY;BYDAY=FR", d(2026, 1, 2)).overdue_only(),
    );
    let clients = [client("acme").with_pause(pause(d(2026, 4, 3), d(2026, 4, 5)))];
    let items = [
        invoice("F-1", "acme", d(2026, 3, 1), d(2026, 4, 1)).paid(usd("100"), d(2026, 4, 4)),
        invoice("F-2", "acme", d(2026, 3, 1), d(2026, 4, 4)),
    ];
    let planner = Planner::new(&policy).unwrap();
    let plan = planner
        .plan(&clients, &items, &[], utc(2026, 4, 6, 12), Horizon::NONE)
        .unwrap();
    assert!(
        plan.events()
            .all(|e| e.key.as_str() != "vencidos/acme/2026-04-03"),
        "{:#?}",
        plan.due()
    );
    assert!(
        plan.suppressed()
            .iter()
            .any(|s| s.key.as_str() == "vencidos/acme/2026-04-03"),
        "unexplained: {:#?}",
        plan.suppressed()
    );
}

/// An overdue-only statement scheduled on a Saturday goes on Monday (weekends off): the
/// forecast made before and the send agree on what it lists, and it is sent once.
#[test]
fn an_overdue_only_statement_on_a_weekend_is_forecast_as_it_is_sent() {
    let policy = weekdays(TimeZone::UTC).with_statement(
        StatementRule::new("vencidos".parse().unwrap(), "FREQ=WEEKLY;BYDAY=SA", d(2026, 1, 3)).overdue_only(),
    );
    let clients = [client("acme")];
    // Due Friday 04-03 (overdue by Saturday) and Sunday 04-05 (overdue by Monday only).
    let items = [
        invoice("F-1", "acme", d(2026, 3, 1), d(2026, 4, 3)),
        invoice("F-2", "acme", d(2026, 3, 1), d(2026, 4, 5)),
    ];
    let planner = Planner::new(&policy).unwrap();
    let listed = |now| {
        let plan = planner
            .plan(&clients, &items, &[], now, Horizon::days(7))
            .unwrap();
        plan.events()
            .find(|e| e.key.as_str() == "vencidos/acme/2026-04-04")
            .map(|e| e.items.iter().map(|i| i.item.to_string()).collect::<Vec<_>>())
    };
    let forecast = listed(utc(2026, 4, 1, 12));
    let sent = listed(utc(2026, 4, 6, 12));
    assert!(sent.is_some());
    assert_eq!(forecast, sent);
}

/// Weekly statements; a pause from Friday to Thursday holds Friday 04-03's onto Friday
/// 04-10, the next one's day: exactly one goes that day, the other explained; never both sent
/// (with an expiry of 6 days the held one is said superseded, not expired).
#[test]
fn a_statement_held_by_a_pause_onto_the_next_ones_day_goes_once() {
    for days in [6, 7, 30] {
        let policy = weekdays(TimeZone::UTC).with_statement(
            StatementRule::new("estado".parse().unwrap(), "FREQ=WEEKLY;BYDAY=FR", d(2026, 1, 2))
                .expires_after(days),
        );
        let clients = [client("acme").with_pause(pause(d(2026, 4, 3), d(2026, 4, 9)))];
        let items = [invoice("F-1", "acme", d(2026, 3, 1), d(2026, 5, 1))];
        let r = run(
            &policy,
            &clients,
            &items,
            vec![],
            d(2026, 4, 1),
            d(2026, 4, 14),
            &[0, 8, 12, 20],
        );
        let sent: Vec<_> = r
            .sent
            .iter()
            .filter(|(k, _)| k.starts_with("estado/acme/2026-04"))
            .collect();
        assert_eq!(sent.len(), 1, "{days}: {r:#?}");
        assert_eq!(sent[0].1, &vec![d(2026, 4, 10)], "{days}: {r:#?}");
        let other = if sent[0].0 == "estado/acme/2026-04-10" {
            "estado/acme/2026-04-03"
        } else {
            "estado/acme/2026-04-10"
        };
        assert!(!said(&r, other).is_empty(), "{days}: {other} unexplained: {r:#?}");
    }
}

// ---------------------------------------------------------------------------------------
// 4. Lasting stops after the due date
// ---------------------------------------------------------------------------------------

/// A "due soon" the client's reminders-off stopped: said after the due date, once per plan;
/// once the item is paid, the plan says nothing more of that stop as a lasting one (and never
/// sends it).
#[test]
fn a_lasting_stop_of_a_due_soon_is_said_once_per_plan_and_ends_with_payment() {
    let policy = weekdays(TimeZone::UTC)
        .with_rule(rule("due-soon", Anchor::Due, -3))
        .with_rule(rule("overdue", Anchor::Due, 0));
    let planner = Planner::new(&policy).unwrap();
    let clients = [client("acme")
        .with_overrides(ClientOverrides::default().rule("due-soon".parse().unwrap(), RuleOverride::off()))];
    let open = invoice("F-1", "acme", d(2026, 3, 2), d(2026, 3, 10));
    for now in [utc(2026, 3, 9, 12), utc(2026, 3, 11, 12), utc(2026, 5, 20, 12)] {
        let plan = planner
            .plan(&clients, std::slice::from_ref(&open), &[], now, Horizon::days(5))
            .unwrap();
        let n = plan
            .suppressed()
            .iter()
            .filter(|s| s.rule.as_str() == "due-soon" && s.item.as_ref().is_some_and(|i| i.as_str() == "F-1"))
            .count();
        assert_eq!(n, 1, "{now}: {:#?}", plan.suppressed());
        assert!(plan.events().all(|e| e.rule.as_str() != "due-soon"));
    }
    let paid = open.clone().paid(usd("100"), d(2026, 3, 12));
    let plan = planner
        .plan(&clients, &[paid], &[], utc(2026, 3, 20, 12), Horizon::days(5))
        .unwrap();
    assert!(plan.events().next().is_none(), "{:#?}", plan.due());
    assert!(
        plan.suppressed()
            .iter()
            .all(|s| !(s.rule.as_str() == "due-soon" && s.reason == SuppressReason::ExcludedForClient)),
        "{:#?}",
        plan.suppressed()
    );
}

// ---------------------------------------------------------------------------------------
// 5. Manual reminders
// ---------------------------------------------------------------------------------------

/// A store that yields at every reminder and log read (so two creates interleave), and
/// refuses log reads past a budget (so a create that loops fails instead of hanging).
struct Yielding {
    inner: MemoryStore,
    log_reads: AtomicUsize,
}

#[async_trait]
impl DispatchStore for Yielding {
    async fn load(&self) -> Result<Snapshot, StoreError> {
        tokio::task::yield_now().await;
        self.inner.load().await
    }

    async fn load_client(&self, client: &ClientId) -> Result<Snapshot, StoreError> {
        self.inner.load_client(client).await
    }

    async fn claim(
        &self,
        key: &EventKey,
        now: DateTime<Utc>,
        reclaim_after: Option<chrono::Duration>,
    ) -> Result<Claim, StoreError> {
        self.inner.claim(key, now, reclaim_after).await
    }

    async fn finish(
        &self,
        key: &EventKey,
        outcome: Delivery,
        sent: Option<HistoryEntry>,
        log: Option<LogEntry>,
    ) -> Result<(), StoreError> {
        self.inner.finish(key, outcome, sent, log).await
    }

    async fn delivery(&self, key: &EventKey) -> Result<Option<Delivery>, StoreError> {
        self.inner.delivery(key).await
    }

    async fn finish_claimed(
        &self,
        key: &EventKey,
        claim: (DateTime<Utc>, u32),
        outcome: Delivery,
        sent: Option<HistoryEntry>,
        log: Option<LogEntry>,
    ) -> Result<(), StoreError> {
        self.inner.finish_claimed(key, claim, outcome, sent, log).await
    }

    async fn abandoned_claims(&self, before: DateTime<Utc>) -> Result<Vec<(EventKey, Delivery)>, StoreError> {
        self.inner.abandoned_claims(before).await
    }

    async fn append_history(&self, entry: HistoryEntry) -> Result<(), StoreError> {
        self.inner.append_history(entry).await
    }
}

#[async_trait]
impl ActionLog for Yielding {
    async fn log(&self, entry: LogEntry) -> Result<(), StoreError> {
        tokio::task::yield_now().await;
        self.inner.log(entry).await
    }

    async fn read_log(&self, filter: &LogFilter) -> Result<Vec<LogEntry>, StoreError> {
        if self.log_reads.fetch_add(1, Ordering::SeqCst) > 1000 {
            return Err(StoreError::Unavailable {
                context: "read_log".into(),
                message: "budget spent: the caller loops".into(),
            });
        }
        tokio::task::yield_now().await;
        self.inner.read_log(filter).await
    }
}

#[async_trait]
impl ReminderStore for Yielding {
    async fn save_reminder(&self, reminder: &Reminder) -> Result<(), StoreError> {
        tokio::task::yield_now().await;
        self.inner.save_reminder(reminder).await
    }

    async fn reminders(&self) -> Result<Vec<Reminder>, StoreError> {
        tokio::task::yield_now().await;
        self.inner.reminders().await
    }

    async fn delete_reminder(&self, id: &str) -> Result<bool, StoreError> {
        self.inner.delete_reminder(id).await
    }
}

fn clp(text: &str) -> Money {
    Money::parse(text, Currency::from_code("CLP").unwrap()).unwrap()
}

fn reminder_store() -> Arc<Yielding> {
    let clients = vec![client("acme").with_locale("es-CL")];
    let items = vec![
        Item::invoice(
            "F-1".parse().unwrap(),
            "acme".parse().unwrap(),
            d(2026, 3, 2),
            clp("119000"),
        )
        .due(d(2026, 3, 10)),
    ];
    Arc::new(Yielding {
        inner: MemoryStore::new(clients, items),
        log_reads: AtomicUsize::new(0),
    })
}

fn reminder_dispatcher(store: Arc<Yielding>) -> (Dispatcher, Arc<RecordingMailer>) {
    let mailer = Arc::new(RecordingMailer::new());
    let policy = weekdays(TimeZone::UTC).with_rule(rule("overdue", Anchor::Due, 0));
    let disp = Dispatcher::new(store, mailer.clone(), &policy)
        .unwrap()
        .with_clock(Arc::new(ManualClock::new(utc(2026, 3, 12, 15))));
    (disp, mailer)
}

fn new_reminder(msg: &str) -> NewReminder {
    NewReminder {
        client: "acme".parse().unwrap(),
        invoice: "F-1".parse().unwrap(),
        due_on: d(2026, 3, 10),
        amount: clp("119000"),
        message: msg.into(),
    }
}

fn stored(id: &str, msg: &str) -> Reminder {
    Reminder {
        id: id.into(),
        client: "acme".parse().unwrap(),
        invoice: "F-1".parse().unwrap(),
        due_on: d(2026, 3, 10),
        amount: clp("1000"),
        message: msg.into(),
        status: ReminderStatus::Active,
        archived: false,
    }
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Reminders imported with odd ids ("R-x", "R-007", "legacy-9"): a new one gets an id of its
/// own and overwrites none.
#[test]
fn a_new_manual_reminder_takes_no_id_in_use_among_odd_ids() {
    let store = reminder_store();
    let r = rt();
    for (id, msg) in [
        ("R-x", "x"),
        ("R-007", "seven"),
        ("legacy-9", "legacy"),
        ("R-", "empty"),
        ("R-+8", "plus"),
    ] {
        r.block_on(store.inner.save_reminder(&stored(id, msg))).unwrap();
    }
    let (disp, _) = reminder_dispatcher(store.clone());
    let a = r.block_on(disp.create_reminder(new_reminder("new a"))).unwrap();
    let b = r.block_on(disp.create_reminder(new_reminder("new b"))).unwrap();
    assert_ne!(a.id, b.id);
    let all = r.block_on(store.inner.reminders()).unwrap();
    assert_eq!(all.len(), 7, "{all:#?}");
}

/// An imported reminder with the largest numeric id: the next id cannot be one past it. The
/// create must neither overwrite it nor loop: a typed error, or an id of its own.
#[test]
fn a_reminder_with_the_largest_numeric_id_is_not_overwritten() {
    let store = reminder_store();
    let r = rt();
    r.block_on(
        store
            .inner
            .save_reminder(&stored("R-18446744073709551615", "imported")),
    )
    .unwrap();
    let (disp, _) = reminder_dispatcher(store.clone());
    let made = r.block_on(disp.create_reminder(new_reminder("new")));
    let all = r.block_on(store.inner.reminders()).unwrap();
    assert!(
        all.iter().any(|x| x.message == "imported"),
        "overwritten: {made:?} {all:#?}"
    );
    if let Ok(m) = made {
        assert_ne!(m.id, "R-18446744073709551615");
    }
}

/// The same once that reminder has a line in the log (it was created or changed here): the
/// id search must end (the store here refuses log reads past 1000, so a loop shows as an
/// error after 1000 reads rather than a hang).
#[test]
fn a_reminder_id_search_past_the_largest_id_ends() {
    let store = reminder_store();
    let r = rt();
    let (disp, _) = reminder_dispatcher(store.clone());
    let first = r.block_on(disp.create_reminder(new_reminder("first"))).unwrap();
    // The host renames its reminders (an import): the one created above now has the largest id.
    let mut big = first.clone();
    big.id = "R-18446744073709551615".into();
    r.block_on(store.inner.delete_reminder(&first.id)).unwrap();
    r.block_on(store.inner.save_reminder(&big)).unwrap();
    r.block_on(store.inner.log(LogEntry {
        at: utc(2026, 3, 12, 15),
        client: big.client.clone(),
        item: Some(big.invoice.clone()),
        key: Some(big.id.clone()),
        action: Action::Created,
    }))
    .unwrap();
    store.log_reads.store(0, Ordering::SeqCst);
    let made = r.block_on(disp.create_reminder(new_reminder("second")));
    let reads = store.log_reads.load(Ordering::SeqCst);
    assert!(reads < 100, "{reads} log reads: {made:?}");
    let all = r.block_on(store.inner.reminders()).unwrap();
    assert!(all.iter().any(|x| x.message == "first"), "{all:#?}");
}

/// Two creates at once (a store that yields between calls): two reminders, two ids.
#[test]
fn concurrent_creates_give_two_reminders_two_ids() {
    let store = reminder_store();
    let (disp, _) = reminder_dispatcher(store.clone());
    let r = rt();
    let (a, b) = r.block_on(async {
        tokio::join!(
            disp.create_reminder(new_reminder("a")),
            disp.create_reminder(new_reminder("b"))
        )
    });
    let (a, b) = (a.unwrap(), b.unwrap());
    let all = r.block_on(store.inner.reminders()).unwrap();
    assert_ne!(a.id, b.id, "{all:#?}");
    assert_eq!(all.len(), 2, "{all:#?}");
}

/// Paid, cancelled and archived reminders are refused with a typed error naming the status;
/// an active one goes, its amount and date written for es-CL.
#[test]
fn only_active_manual_reminders_are_sent_with_the_status_named() {
    let store = reminder_store();
    let (disp, mailer) = reminder_dispatcher(store.clone());
    let r = rt();
    let paid = r.block_on(disp.create_reminder(new_reminder("p"))).unwrap();
    let cancelled = r.block_on(disp.create_reminder(new_reminder("c"))).unwrap();
    let active = r.block_on(disp.create_reminder(new_reminder("a"))).unwrap();
    r.block_on(disp.set_reminder_status(&paid.id, ReminderStatus::Paid))
        .unwrap();
    r.block_on(disp.set_reminder_status(&cancelled.id, ReminderStatus::Cancelled))
        .unwrap();
    for (id, status) in [(&paid.id, "paid"), (&cancelled.id, "cancelled")] {
        match r.block_on(disp.send_reminder(id)) {
            Err(DispatchError::Input(ValidationError::InvalidReminder { field, value, .. })) => {
                assert_eq!(field, "status");
                assert_eq!(value, status);
            }
            other => panic!("{id}: {other:?}"),
        }
    }
    // An active reminder whose stored record says archived (a host's import) is refused too.
    let mut archived = stored("R-arch", "arch");
    archived.archived = true;
    r.block_on(store.inner.save_reminder(&archived)).unwrap();
    assert!(matches!(
        r.block_on(disp.send_reminder("R-arch")),
        Err(DispatchError::Input(ValidationError::InvalidReminder {
            field: "status",
            ..
        }))
    ));
    assert!(mailer.sent().is_empty());
    r.block_on(disp.send_reminder(&active.id)).unwrap();
    let sent = mailer.sent();
    assert_eq!(sent.len(), 1);
    let text = format!("{:?}", sent[0]);
    assert!(text.contains("$119.000"), "{text}");
    assert!(!text.contains("2026-03-10"), "{text}");
}

// ---------------------------------------------------------------------------------------
// 6. At-least-once retries
// ---------------------------------------------------------------------------------------

fn overdue_store() -> Arc<MemoryStore> {
    Arc::new(MemoryStore::new(
        vec![client("acme")],
        vec![invoice("F-1", "acme", d(2026, 3, 2), d(2026, 3, 10))],
    ))
}

fn at_least_once(store: Arc<MemoryStore>, mailer: Arc<RecordingMailer>) -> Dispatcher {
    let policy = weekdays(TimeZone::UTC).with_rule(rule("overdue", Anchor::Due, 0));
    Dispatcher::new(store, mailer, &policy)
        .unwrap()
        .with_options(
            DispatchOptions::default()
                .with_send_timeout(Duration::from_millis(200))
                .with_retries(3, Duration::from_secs(60))
                .with_guarantee(Guarantee::AtLeastOnce { lease_secs: 3600 }),
        )
        .unwrap()
}

/// Under at-least-once a plain transient error (the message surely did not go) is retried
/// after the backoff, not held for the lease; it goes once.
#[test]
fn at_least_once_a_transient_error_is_retried_after_its_backoff_not_the_lease() {
    let store = overdue_store();
    let mailer = Arc::new(RecordingMailer::new().with_script(|_, n| {
        if n == 0 {
            Behaviour::FailTransient
        } else {
            Behaviour::Accept
        }
    }));
    let disp = at_least_once(store.clone(), mailer.clone());
    let r = rt();
    let now = utc(2026, 3, 10, 13);
    let rep = r.block_on(disp.tick(now)).unwrap();
    let s = rep.retried().next().unwrap_or_else(|| panic!("{rep:?}"));
    let SendOutcome::Retrying { not_before, .. } = &s.outcome else {
        unreachable!()
    };
    assert!(*not_before <= now + chrono::Duration::minutes(5), "{not_before}");
    let rep = r.block_on(disp.tick(now + chrono::Duration::minutes(5))).unwrap();
    assert_eq!(rep.sent().count(), 1, "{rep:?}");
    for mins in [61, 200, 2000] {
        let rep = r
            .block_on(disp.tick(now + chrono::Duration::minutes(mins)))
            .unwrap();
        assert_eq!(rep.sent().count(), 0, "{rep:?}");
    }
    assert_eq!(mailer.sent().len(), 1);
}

/// An ambiguous mail error on the last allowed attempt under at-least-once: it may have
/// gone; it is not retried inside the lease, and in no case sent more than twice.
#[test]
fn at_least_once_an_ambiguous_error_waits_for_the_lease() {
    let store = overdue_store();
    let mailer = Arc::new(RecordingMailer::new().with_script(|_, n| {
        if n == 0 {
            Behaviour::AcceptThenHang
        } else {
            Behaviour::Accept
        }
    }));
    let disp = at_least_once(store.clone(), mailer.clone());
    let r = rt();
    let now = utc(2026, 3, 10, 13);
    r.block_on(disp.tick(now)).unwrap();
    for mins in [2, 30, 59] {
        r.block_on(disp.tick(now + chrono::Duration::minutes(mins)))
            .unwrap();
        assert_eq!(mailer.calls(), 1, "{mins}");
    }
    for mins in [61, 120, 600] {
        r.block_on(disp.tick(now + chrono::Duration::minutes(mins)))
            .unwrap();
    }
    assert_eq!(mailer.calls(), 2);
}
