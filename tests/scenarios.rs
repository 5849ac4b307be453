//! Whole-plan scenarios from the seeds, snapshotted with insta.

mod common;

use std::collections::HashSet;

use common::*;
use dunning::*;

fn snapshot_settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_prepend_module_to_snapshot(false);
    s
}

#[test]
fn seed001_five_days_before_then_on_and_after_due() {
    let planner = Planner::new(&seed001_policy("America/Santiago")).unwrap();
    let clients = [client("acme", "America/Santiago")];
    let items = [invoice(
        "F-1001",
        "acme",
        d(2026, 3, 2),
        d(2026, 4, 1),
        money("119000", "CLP"),
    )];
    // 10:00 in Santiago (-03): the due-soon reminder's 09:00 has passed.
    let plan = planner
        .plan(&clients, &items, &[], utc(2026, 3, 27, 13, 0), Horizon::days(30))
        .unwrap();
    assert_eq!(
        lines(&plan),
        [
            "due 2026-03-27 due-soon/F-1001/1 2026-03-27T12:00:00+00:00",
            "upcoming 2026-04-01 overdue/F-1001/1 2026-04-01T12:00:00+00:00",
            "upcoming 2026-04-08 overdue/F-1001/2 2026-04-08T13:00:00+00:00",
            "upcoming 2026-04-15 overdue/F-1001/3 2026-04-15T13:00:00+00:00",
            "suppressed 2026-04-22 overdue/F-1001/4 CountReached { count: 3 }",
        ]
    );
    snapshot_settings().bind(|| insta::assert_yaml_snapshot!("seed001", plan));
}

#[test]
fn seed003_pending_actions_every_3_days_once_and_stop_when_completed_or_count_reached() {
    let policy = Policy::new(tz("Europe/Madrid")).with_rule(Rule::pending_action("pending".parse().unwrap()));
    let planner = Planner::new(&policy).unwrap();
    let clients = [client("gestoria", "Europe/Madrid")];
    let proposal = Item::action(
        "P-7".parse().unwrap(),
        "gestoria".parse().unwrap(),
        ItemKind::Proposal,
        d(2026, 5, 4),
    );
    let form = Item::action(
        "FORM-2".parse().unwrap(),
        "gestoria".parse().unwrap(),
        ItemKind::Form,
        d(2026, 5, 4),
    )
    .with_status(ItemStatus::Completed);
    let items = [proposal, form];
    let now = utc(2026, 5, 7, 8, 0); // 10:00 in Madrid, three days after sending
    let plan = planner
        .plan(&clients, &items, &[], now, Horizon::days(14))
        .unwrap();
    snapshot_settings().bind(|| insta::assert_yaml_snapshot!("seed003_first", plan));
    assert_round_trips(&plan);
    assert_eq!(plan.due().len(), 1);
    assert_eq!(plan.due()[0].key.as_str(), "pending/P-7/1");
    assert_eq!(plan.due()[0].stage, Stage::Pending);
    assert!(plan.upcoming().is_empty(), "one reminder by default");
    assert!(
        plan.suppressed()
            .iter()
            .any(|s| s.item_str() == "FORM-2" && s.reason == SuppressReason::Completed)
    );

    // After the reminder is recorded, the count is reached: nothing more, and it says so.
    let history: Vec<HistoryEntry> = plan.due().iter().map(|e| e.to_history(now)).collect();
    let later = planner
        .plan(
            &clients,
            &items,
            &history,
            utc(2026, 5, 10, 8, 0),
            Horizon::days(14),
        )
        .unwrap();
    assert!(later.due().is_empty() && later.upcoming().is_empty());
    assert!(
        later
            .suppressed()
            .iter()
            .any(|s| s.reason == SuppressReason::CountReached { count: 1 })
    );
    snapshot_settings().bind(|| insta::assert_yaml_snapshot!("seed003_count_reached", later));
}

#[test]
fn seed003_item_settings_replace_days_and_count() {
    let policy = Policy::new(tz("Europe/Madrid")).with_rule(Rule::pending_action("pending".parse().unwrap()));
    let planner = Planner::new(&policy).unwrap();
    let mut sig = Item::action(
        "S-1".parse().unwrap(),
        "g".parse().unwrap(),
        ItemKind::Signature,
        d(2026, 5, 4),
    );
    sig.reminder_every_days = Some(5);
    sig.reminder_count = Some(2);
    let plan = planner
        .plan(
            &[client("g", "Europe/Madrid")],
            &[sig],
            &[],
            utc(2026, 5, 4, 12, 0),
            Horizon::days(30),
        )
        .unwrap();
    let days: Vec<_> = plan.upcoming().iter().map(|e| e.send_on).collect();
    assert_eq!(days, [d(2026, 5, 9), d(2026, 5, 14)]);
}

#[test]
fn seed002_per_client_off_and_rule_off() {
    let planner = Planner::new(&seed001_policy("America/Santiago")).unwrap();
    let off = client("off", "America/Santiago").with_overrides(ClientOverrides::default().reminders(false));
    let no_soon = client("nosoon", "America/Santiago")
        .with_overrides(ClientOverrides::default().rule("due-soon".parse().unwrap(), RuleOverride::off()));
    let on = client("on", "America/Santiago");
    let items = [
        invoice("A-1", "off", d(2026, 3, 2), d(2026, 4, 1), money("1000", "CLP")),
        invoice(
            "B-1",
            "nosoon",
            d(2026, 3, 2),
            d(2026, 4, 1),
            money("1000", "CLP"),
        ),
        invoice("C-1", "on", d(2026, 3, 2), d(2026, 4, 1), money("1000", "CLP")),
    ];
    let plan = planner
        .plan(
            &[off, no_soon.clone(), on],
            &items,
            &[],
            utc(2026, 3, 27, 13, 0),
            Horizon::days(7),
        )
        .unwrap();
    snapshot_settings().bind(|| insta::assert_yaml_snapshot!("seed002_client_off", plan));
    let keys: Vec<_> = plan.events().map(|e| e.key.as_str().to_owned()).collect();
    assert_eq!(keys, ["due-soon/C-1/1", "overdue/B-1/1", "overdue/C-1/1"]);
    assert!(
        plan.suppressed()
            .iter()
            .any(|s| s.item_str() == "A-1" && s.reason == SuppressReason::ClientRemindersOff)
    );
    assert!(
        plan.suppressed()
            .iter()
            .any(|s| s.item_str() == "B-1" && s.reason == SuppressReason::ExcludedForClient)
    );

    let settings = planner.effective_settings(&no_soon).unwrap();
    snapshot_settings().bind(|| insta::assert_yaml_snapshot!("seed002_effective_settings", settings));
}

#[test]
fn partial_payment_keeps_reminding_the_balance() {
    let planner = Planner::new(&seed001_policy("America/Santiago")).unwrap();
    let item = invoice(
        "F-2",
        "acme",
        d(2026, 3, 2),
        d(2026, 4, 1),
        money("1190000", "CLP"),
    )
    .paid(money("400000", "CLP"), d(2026, 3, 20));
    let plan = planner
        .plan(
            &[client("acme", "America/Santiago")],
            &[item],
            &[],
            utc(2026, 4, 1, 13, 0),
            Horizon::days(10),
        )
        .unwrap();
    snapshot_settings().bind(|| insta::assert_yaml_snapshot!("partial_payment", plan));
    let e = &plan.due()[0];
    assert_eq!(e.amount_due, Some(money("790000", "CLP")));
    assert_eq!(e.items[0].balance, Some(money("790000", "CLP")));
}

#[test]
fn payment_promise_holds_reminders_until_after_it() {
    let planner = Planner::new(&seed001_policy("America/Santiago")).unwrap();
    let item = invoice("F-3", "acme", d(2026, 3, 2), d(2026, 4, 1), money("50000", "CLP"))
        .with_pause(Pause::new(PauseKind::Promise, "pagará el 10 de abril").until(d(2026, 4, 10)));
    let plan = planner
        .plan(
            &[client("acme", "America/Santiago")],
            &[item],
            &[],
            utc(2026, 4, 1, 13, 0),
            Horizon::days(30),
        )
        .unwrap();
    snapshot_settings().bind(|| insta::assert_yaml_snapshot!("payment_promise", plan));
    assert_round_trips(&plan);
    assert!(plan.due().is_empty());
    assert_eq!(plan.upcoming()[0].send_on, d(2026, 4, 11));
    assert!(plan.suppressed().iter().any(|s| matches!(
        &s.reason,
        SuppressReason::PausedUntil { pause: PauseKind::Promise, until, .. } if *until == d(2026, 4, 10)
    )));
}

#[test]
fn open_ended_dispute_stops_reminders() {
    let planner = Planner::new(&seed001_policy("America/Santiago")).unwrap();
    let item = invoice("F-4", "acme", d(2026, 3, 2), d(2026, 4, 1), money("50000", "CLP"))
        .with_pause(Pause::new(PauseKind::Dispute, "factura objetada"));
    let plan = planner
        .plan(
            &[client("acme", "America/Santiago")],
            &[item],
            &[],
            utc(2026, 4, 1, 13, 0),
            Horizon::days(30),
        )
        .unwrap();
    assert!(plan.events().next().is_none());
    assert!(plan.suppressed().iter().any(|s| s.key.as_str() == "overdue/F-4/1"
        && matches!(
            s.reason,
            SuppressReason::Paused {
                pause: PauseKind::Dispute,
                ..
            }
        )));
}

#[test]
fn dst_change_in_santiago_between_planning_and_sending() {
    // Planned in winter (-04) for a send after the spring-forward night of 2026-09-06,
    // at 00:30, a time that does not exist that night.
    let policy = seed001_policy("America/Santiago").with_send_time(t(0, 30));
    let planner = Planner::new(&policy).unwrap();
    let items = [invoice(
        "F-5",
        "acme",
        d(2026, 8, 7),
        d(2026, 9, 6),
        money("10000", "CLP"),
    )];
    let plan = planner
        .plan(
            &[client("acme", "America/Santiago")],
            &items,
            &[],
            utc(2026, 9, 1, 12, 0),
            Horizon::days(14),
        )
        .unwrap();
    snapshot_settings().bind(|| insta::assert_yaml_snapshot!("dst_santiago", plan));
    let at: Vec<_> = plan.upcoming().iter().map(|e| e.send_at.to_rfc3339()).collect();
    // 09-06 00:30 is read with -04 (the offset before the gap) = 01:30 -03;
    // 09-13 00:30 exists and is -03.
    assert_eq!(at, ["2026-09-06T04:30:00+00:00", "2026-09-13T03:30:00+00:00"]);
    assert_eq!(plan.upcoming()[0].send_on, d(2026, 9, 6));
}

#[test]
fn dst_change_in_madrid_between_planning_and_sending() {
    let policy = seed001_policy("Europe/Madrid").with_send_time(t(2, 30));
    let planner = Planner::new(&policy).unwrap();
    let items = [
        invoice("F-6", "sl", d(2026, 3, 1), d(2026, 3, 29), money("100.00", "EUR")),
        invoice(
            "F-7",
            "sl",
            d(2026, 10, 1),
            d(2026, 10, 25),
            money("100.00", "EUR"),
        ),
    ];
    let clients = [client("sl", "Europe/Madrid")];
    let spring = planner
        .plan(&clients, &items, &[], utc(2026, 3, 25, 12, 0), Horizon::days(5))
        .unwrap();
    let autumn = planner
        .plan(&clients, &items, &[], utc(2026, 10, 21, 12, 0), Horizon::days(5))
        .unwrap();
    snapshot_settings().bind(|| {
        insta::assert_yaml_snapshot!("dst_madrid_spring", spring);
        insta::assert_yaml_snapshot!("dst_madrid_autumn", autumn);
    });
    // Gap: 02:30 on 03-29 does not exist, read as 03:30 CEST = 01:30 UTC.
    let e = spring
        .upcoming()
        .iter()
        .find(|e| e.send_on == d(2026, 3, 29))
        .unwrap();
    assert_eq!(e.send_at.to_rfc3339(), "2026-03-29T01:30:00+00:00");
    // Overlap: 02:30 on 10-25 happens twice; the earlier (CEST, 00:30 UTC) wins.
    let e = autumn
        .upcoming()
        .iter()
        .find(|e| e.send_on == d(2026, 10, 25))
        .unwrap();
    assert_eq!(e.send_at.to_rfc3339(), "2026-10-25T00:30:00+00:00");
}

#[test]
fn holiday_shift_moves_before_due_earlier_and_others_later() {
    // Chile: 2026-09-18 (Fri) and 2026-09-19 (Sat) are holidays; weekends off.
    let policy = Policy::new(tz("America/Santiago"))
        .with_calendar(BusinessCalendar::new(
            [chrono::Weekday::Sat, chrono::Weekday::Sun],
            [d(2026, 9, 18), d(2026, 9, 19)],
        ))
        .with_rule(rule("due-soon", Anchor::Due, -3))
        .with_rule(rule("overdue", Anchor::Due, 0));
    let planner = Planner::new(&policy).unwrap();
    let items = [
        // due Mon 09-21: -3 = Fri 09-18 (holiday) -> Thu 09-17.
        invoice("F-8", "acme", d(2026, 9, 1), d(2026, 9, 21), money("5000", "CLP")),
        // due Fri 09-18 (holiday): overdue moves to Mon 09-21.
        invoice("F-9", "acme", d(2026, 9, 1), d(2026, 9, 18), money("5000", "CLP")),
    ];
    let plan = planner
        .plan(
            &[client("acme", "America/Santiago")],
            &items,
            &[],
            utc(2026, 9, 10, 12, 0),
            Horizon::days(20),
        )
        .unwrap();
    snapshot_settings().bind(|| insta::assert_yaml_snapshot!("holiday_shift", plan));
    let on = |key: &str| plan.events().find(|e| e.key.as_str() == key).unwrap().send_on;
    assert_eq!(on("due-soon/F-8/1"), d(2026, 9, 17));
    assert_eq!(on("overdue/F-9/1"), d(2026, 9, 21));
    assert!(plan.suppressed().iter().any(|s| s.key.as_str() == "overdue/F-9/1"
        && s.reason == SuppressReason::MovedOffNonWorkingDay { to: d(2026, 9, 21) }));
}

#[test]
fn outage_of_ten_days_sends_only_the_latest_stage_once() {
    let policy = Policy::new(tz("America/Santiago"))
        .with_rule(rule("due-soon", Anchor::Due, -5))
        .with_rule(rule("due-today", Anchor::Due, 0))
        .with_rule(rule("overdue", Anchor::Due, 3).repeat(7, 3));
    let planner = Planner::new(&policy).unwrap().with_lookback(30);
    let clients = [client("acme", "America/Santiago")];
    let items = [invoice(
        "F-10",
        "acme",
        d(2026, 3, 2),
        d(2026, 4, 1),
        money("70000", "CLP"),
    )];
    // Last plan ran on 03-26; the host was down until 04-05 (ten days).
    let plan = planner
        .plan(&clients, &items, &[], utc(2026, 4, 5, 13, 0), Horizon::days(20))
        .unwrap();
    snapshot_settings().bind(|| insta::assert_yaml_snapshot!("outage_catch_up", plan));
    assert_round_trips(&plan);
    assert_eq!(plan.due().len(), 1);
    let e = &plan.due()[0];
    assert_eq!(e.key.as_str(), "overdue/F-10/1");
    // It goes now (it is due) and keeps the day and instant it was meant to go.
    assert_eq!(e.send_on, d(2026, 4, 4), "a catch-up keeps its day");
    assert_eq!(e.send_at, utc(2026, 4, 4, 12, 0));
    assert!(e.why.adjustments.contains(&Adjustment::CatchUp {
        scheduled_on: d(2026, 4, 4)
    }));
    let superseded: Vec<_> = plan
        .suppressed()
        .iter()
        .filter(|s| matches!(s.reason, SuppressReason::Superseded { .. }))
        .map(|s| s.key.as_str())
        .collect();
    assert_eq!(superseded, ["due-today/F-10/1"]);
    assert!(
        plan.suppressed()
            .iter()
            .any(|s| s.key.as_str() == "due-soon/F-10/1"
                && matches!(s.reason, SuppressReason::DueSoonAfterDue { .. }))
    );
    // The next repeat is spaced a week from the actual send (04-05), not from 04-04.
    assert_eq!(plan.upcoming()[0].send_on, d(2026, 4, 12));
}

#[test]
fn clp_invoice_amounts_have_no_decimals() {
    let planner = Planner::new(&seed001_policy("America/Santiago")).unwrap();
    let items = [invoice(
        "F-11",
        "acme",
        d(2026, 3, 2),
        d(2026, 4, 1),
        money("1234567", "CLP"),
    )];
    let plan = planner
        .plan(
            &[client("acme", "America/Santiago")],
            &items,
            &[],
            utc(2026, 4, 1, 13, 0),
            Horizon::NONE,
        )
        .unwrap();
    snapshot_settings().bind(|| insta::assert_yaml_snapshot!("clp_invoice", plan));
    let json = serde_json::to_string(&plan.due()[0].amount_due).unwrap();
    assert_eq!(json, r#"{"currency":"CLP","amount":"1234567"}"#);
}

#[test]
fn grouped_rule_sends_one_notice_per_client_and_currency() {
    let policy = Policy::new(tz("America/Santiago")).with_rule(rule("overdue", Anchor::Due, 0).grouped());
    let planner = Planner::new(&policy).unwrap();
    let items = [
        invoice("F-20", "acme", d(2026, 3, 2), d(2026, 4, 1), money("1000", "CLP")),
        invoice("F-21", "acme", d(2026, 3, 2), d(2026, 4, 1), money("2000", "CLP")),
        invoice("F-22", "acme", d(2026, 3, 2), d(2026, 4, 1), money("3.50", "USD")),
    ];
    let plan = planner
        .plan(
            &[client("acme", "America/Santiago")],
            &items,
            &[],
            utc(2026, 4, 1, 13, 0),
            Horizon::NONE,
        )
        .unwrap();
    snapshot_settings().bind(|| insta::assert_yaml_snapshot!("grouped", plan));
    assert_round_trips(&plan);
    let keys: Vec<_> = plan.due().iter().map(|e| e.key.as_str()).collect();
    // Keys name what is reminded (the FNV-1a hash of the items and occurrences), not the day.
    assert_eq!(
        keys,
        [
            "overdue/acme/CLP/g860fc1c0791a8292",
            "overdue/acme/USD/g58ae571566501516"
        ]
    );
    assert_eq!(plan.due()[0].amount_due, Some(money("3000", "CLP")));
    assert_eq!(plan.due()[0].items.len(), 2);
    // Missed at 09:00 on 04-01 and planned the next day, the same notice has the same key.
    let next_day = planner
        .plan(
            &[client("acme", "America/Santiago")],
            &items,
            &[],
            utc(2026, 4, 2, 3, 0),
            Horizon::NONE,
        )
        .unwrap();
    let again: Vec<_> = next_day.due().iter().map(|e| e.key.as_str()).collect();
    assert_eq!(again, keys);
}

#[test]
fn min_gap_spaces_messages_to_one_client() {
    let policy = Policy::new(tz("America/Santiago"))
        .with_min_gap(2)
        .with_rule(rule("overdue", Anchor::Due, 0));
    let planner = Planner::new(&policy).unwrap();
    let items = [
        invoice("F-30", "acme", d(2026, 3, 2), d(2026, 4, 1), money("1000", "CLP")),
        invoice("F-31", "acme", d(2026, 3, 2), d(2026, 4, 1), money("1000", "CLP")),
    ];
    let plan = planner
        .plan(
            &[client("acme", "America/Santiago")],
            &items,
            &[],
            utc(2026, 4, 1, 13, 0),
            Horizon::days(5),
        )
        .unwrap();
    assert_eq!(
        lines(&plan),
        [
            "due 2026-04-01 overdue/F-30/1 2026-04-01T12:00:00+00:00",
            "upcoming 2026-04-03 overdue/F-31/1 2026-04-03T12:00:00+00:00",
            "suppressed 2026-04-01 overdue/F-31/1 Deferred { gap_days: 2 }",
        ]
    );
}

#[test]
fn a_clients_own_min_gap_counts_from_its_last_send_in_history() {
    // The policy has no gap; one client has two days. A reminder about another item went to
    // that client yesterday, so today's waits a day; the other client's goes today.
    let policy = Policy::new(tz("America/Santiago")).with_rule(rule("overdue", Anchor::Due, 0));
    let planner = Planner::new(&policy).unwrap();
    let spaced = client("acme", "America/Santiago").with_overrides(ClientOverrides::default().min_gap(2));
    let items = [
        invoice(
            "F-40",
            "acme",
            d(2026, 3, 2),
            d(2026, 3, 31),
            money("1000", "CLP"),
        ),
        invoice("F-41", "acme", d(2026, 3, 2), d(2026, 4, 1), money("1000", "CLP")),
        invoice("F-42", "zeta", d(2026, 3, 2), d(2026, 4, 1), money("1000", "CLP")),
    ];
    let sent = sent_entry("overdue", "F-40", "acme", 1, utc(2026, 3, 31, 12, 0));
    let plan = planner
        .plan(
            &[spaced, client("zeta", "America/Santiago")],
            &items,
            &[sent],
            utc(2026, 4, 1, 13, 0),
            Horizon::days(5),
        )
        .unwrap();
    assert_eq!(
        lines(&plan),
        [
            "due 2026-04-01 overdue/F-42/1 2026-04-01T12:00:00+00:00",
            "upcoming 2026-04-02 overdue/F-41/1 2026-04-02T12:00:00+00:00",
            "suppressed 2026-04-01 overdue/F-41/1 Deferred { gap_days: 2 }",
        ]
    );
}

#[test]
fn manual_send_spaces_the_next_automatic_one_without_using_its_count() {
    let policy = Policy::new(tz("Europe/Madrid")).with_rule(Rule::pending_action("pending".parse().unwrap()));
    let planner = Planner::new(&policy).unwrap();
    let items = [Item::action(
        "P-1".parse().unwrap(),
        "g".parse().unwrap(),
        ItemKind::Approval,
        d(2026, 5, 4),
    )];
    let manual = HistoryEntry::manual(
        "g".parse().unwrap(),
        "P-1".parse().unwrap(),
        utc(2026, 5, 6, 10, 0),
    );
    let plan = planner
        .plan(
            &[client("g", "Europe/Madrid")],
            &items,
            &[manual],
            utc(2026, 5, 7, 8, 0),
            Horizon::days(10),
        )
        .unwrap();
    assert!(plan.due().is_empty());
    let e = &plan.upcoming()[0];
    assert_eq!((e.send_on, e.occurrence), (d(2026, 5, 9), 1));
    assert!(e.why.adjustments.contains(&Adjustment::SpacedAfterManualSend {
        manual_on: d(2026, 5, 6)
    }));
}

#[test]
fn collection_start_dates_exclude_older_items() {
    let policy = seed001_policy("America/Santiago")
        .with_rule(rule("issued", Anchor::Issued, 0))
        .with_collection_start(CollectionStart {
            past_items: Some(d(2026, 3, 1)),
            new_items: Some(d(2026, 3, 20)),
        });
    let planner = Planner::new(&policy).unwrap().with_lookback(30);
    let items = [
        invoice("OLD", "acme", d(2026, 1, 2), d(2026, 2, 1), money("1000", "CLP")),
        invoice("MID", "acme", d(2026, 3, 10), d(2026, 4, 9), money("1000", "CLP")),
        invoice(
            "NEW",
            "acme",
            d(2026, 3, 25),
            d(2026, 4, 24),
            money("1000", "CLP"),
        ),
    ];
    let plan = planner
        .plan(
            &[client("acme", "America/Santiago")],
            &items,
            &[],
            utc(2026, 3, 25, 13, 0),
            Horizon::days(40),
        )
        .unwrap();
    assert!(plan.events().all(|e| e.items[0].item.as_str() != "OLD"));
    assert!(plan.events().any(|e| e.key.as_str() == "issued/NEW/1"));
    assert!(!plan.events().any(|e| e.key.as_str() == "issued/MID/1"));
    assert!(plan.events().any(|e| e.key.as_str() == "overdue/MID/1"));
    assert!(plan.suppressed().iter().any(|s| s.key.as_str() == "issued/MID/1"
        && s.reason
            == SuppressReason::BeforeCollectionStart {
                start: d(2026, 3, 20)
            }));
}

#[test]
fn thank_you_fires_when_paid_and_not_when_stale() {
    let policy = seed001_policy("America/Santiago").with_rule(Rule::thank_you("thanks".parse().unwrap()));
    let planner = Planner::new(&policy).unwrap();
    let paid = invoice("F-40", "acme", d(2026, 3, 2), d(2026, 4, 1), money("1000", "CLP"))
        .paid(money("1000", "CLP"), d(2026, 3, 30));
    let old = invoice("F-41", "acme", d(2026, 1, 2), d(2026, 2, 1), money("1000", "CLP"))
        .paid(money("1000", "CLP"), d(2026, 2, 3));
    let plan = planner
        .plan(
            &[client("acme", "America/Santiago")],
            &[paid, old],
            &[],
            utc(2026, 3, 31, 13, 0),
            Horizon::days(10),
        )
        .unwrap();
    let due: Vec<_> = plan.due().iter().map(|e| (e.key.as_str(), e.stage)).collect();
    assert_eq!(due, [("thanks/F-40/1", Stage::ThankYou)]);
    assert!(
        plan.suppressed()
            .iter()
            .any(|s| s.key.as_str() == "overdue/F-40/1" && s.reason == SuppressReason::Paid)
    );
}

#[test]
fn escalation_goes_to_the_roles_a_rule_names() {
    let policy = Policy::new(tz("America/Santiago"))
        .with_rule(rule("overdue", Anchor::Due, 0))
        .with_rule(
            rule("escalate", Anchor::Due, 30).to_roles([ContactRole::Manager, ContactRole::Executive]),
        );
    let planner = Planner::new(&policy).unwrap();
    let acme = client("acme", "America/Santiago")
        .with_contact(Contact::new("Gerente", "gerente@acme.example").with_role(ContactRole::Manager))
        .with_contact(
            Contact::new("Muted", "muted@acme.example")
                .with_role(ContactRole::Executive)
                .with_notify(false),
        );
    let items = [invoice(
        "F-50",
        "acme",
        d(2026, 3, 2),
        d(2026, 4, 1),
        money("1000", "CLP"),
    )];
    let plan = planner
        .plan(&[acme], &items, &[], utc(2026, 3, 31, 13, 0), Horizon::days(40))
        .unwrap();
    let to = |key: &str| -> Vec<String> {
        plan.events()
            .find(|e| e.key.as_str() == key)
            .unwrap()
            .recipients
            .iter()
            .map(|r| r.email.clone())
            .collect()
    };
    assert_eq!(
        to("overdue/F-50/1"),
        ["billing@acme.example", "gerente@acme.example"]
    );
    assert_eq!(to("escalate/F-50/1"), ["gerente@acme.example"]);
}

#[test]
fn bad_inputs_are_typed_errors_naming_the_value() {
    let planner = Planner::new(&seed001_policy("UTC")).unwrap();
    let now = utc(2026, 4, 1, 12, 0);
    let c = client("acme", "UTC");
    let good = invoice("F-1", "acme", d(2026, 3, 2), d(2026, 4, 1), money("1", "CLP"));
    let err = planner
        .plan(&[c.clone(), c.clone()], &[], &[], now, Horizon::NONE)
        .unwrap_err();
    assert_eq!(
        err,
        ValidationError::DuplicateId {
            kind: "client",
            id: "acme".into()
        }
    );
    let err = planner
        .plan(
            std::slice::from_ref(&c),
            &[good.clone(), good.clone()],
            &[],
            now,
            Horizon::NONE,
        )
        .unwrap_err();
    assert_eq!(
        err,
        ValidationError::DuplicateId {
            kind: "item",
            id: "F-1".into()
        }
    );
    let stray = invoice("F-2", "ghost", d(2026, 3, 2), d(2026, 4, 1), money("1", "CLP"));
    let err = planner
        .plan(std::slice::from_ref(&c), &[stray], &[], now, Horizon::NONE)
        .unwrap_err();
    assert_eq!(
        err,
        ValidationError::UnknownClient {
            item: "F-2".into(),
            client: "ghost".into()
        }
    );
    let bad_override = c
        .clone()
        .with_overrides(ClientOverrides::default().rule("nope".parse().unwrap(), RuleOverride::off()));
    let err = planner
        .plan(&[bad_override], &[], &[], now, Horizon::NONE)
        .unwrap_err();
    assert_eq!(
        err,
        ValidationError::UnknownRuleOverride {
            client: "acme".into(),
            rule: "nope".into()
        }
    );
    let bad_term = c
        .clone()
        .with_overrides(ClientOverrides::default().payment_term(45));
    let err = planner
        .plan(&[bad_term], &[], &[], now, Horizon::NONE)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "client acme: overrides.payment_term_days: payment term of 45 days is out of range (1 to 30)"
    );
    let bad_due = invoice("F-3", "acme", d(2026, 3, 2), d(2026, 3, 1), money("1", "CLP"));
    let err = planner
        .plan(
            std::slice::from_ref(&c),
            std::slice::from_ref(&bad_due),
            &[],
            now,
            Horizon::NONE,
        )
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "item F-3: due date 2026-03-01 is before issue date 2026-03-02"
    );
    // Ids are unique across clients, and a duplicate is reported before an invalid item
    // (the lowest duplicate id; then the first invalid item in id order, whatever the
    // clients and the input order).
    let other = client("beta", "UTC");
    let bad_due_beta = invoice("B-0", "beta", d(2026, 3, 2), d(2026, 3, 1), money("1", "CLP"));
    let twice = |id: &str| {
        [
            invoice(id, "beta", d(2026, 3, 2), d(2026, 4, 1), money("1", "CLP")),
            invoice(id, "acme", d(2026, 3, 2), d(2026, 4, 1), money("1", "CLP")),
        ]
    };
    let mut mixed = vec![bad_due.clone(), bad_due_beta.clone()];
    mixed.extend(twice("Z-9"));
    mixed.extend(twice("G-1"));
    let clients = [other.clone(), c.clone()];
    let refused = |items: &[Item]| {
        planner
            .plan(&clients, items, &[], now, Horizon::NONE)
            .unwrap_err()
    };
    let g1_twice = ValidationError::DuplicateId {
        kind: "item",
        id: "G-1".into(),
    };
    assert_eq!(refused(&mixed), g1_twice);
    for items in [
        vec![bad_due_beta.clone(), bad_due.clone()],
        vec![bad_due.clone(), bad_due_beta.clone()],
    ] {
        let err = planner
            .plan(&clients, &items, &[], now, Horizon::NONE)
            .unwrap_err();
        // acme ranks before beta.
        assert_eq!(
            err.to_string(),
            "item F-3: due date 2026-03-01 is before issue date 2026-03-02"
        );
    }
    // Listed in the order they are planned (client by client, each client's by id: checked
    // in one pass), the same errors: a duplicate across clients before an invalid item, an
    // unknown client after items in order.
    let [g1_beta, g1_acme] = twice("G-1");
    assert_eq!(refused(&[g1_acme, bad_due_beta.clone(), g1_beta]), g1_twice);
    let stray = invoice("A-0", "nobody", d(2026, 3, 2), d(2026, 4, 1), money("1", "CLP"));
    assert_eq!(
        refused(&[good.clone(), bad_due_beta.clone(), stray]),
        ValidationError::UnknownClient {
            item: "A-0".into(),
            client: "nobody".into()
        }
    );
    // Clients listed in id order are checked in one pass, and items listed in planning
    // order find their clients from that order: still a duplicate client before an invalid
    // one listed earlier, and an unknown client whose id sorts between known ones (after a
    // client with no items) refused.
    let bad_email = client("acme", "UTC").with_contact(Contact::new("Ana", "not-an-address"));
    let beta = client("beta", "UTC");
    let clients_refused =
        |clients: &[Client]| planner.plan(clients, &[], &[], now, Horizon::NONE).unwrap_err();
    let err = clients_refused(&[bad_email.clone(), beta.clone(), beta.clone()]);
    assert_eq!(err.to_string(), "duplicate client id \"beta\"");
    let err = clients_refused(&[bad_email, beta.clone()]);
    assert!(
        matches!(&err, ValidationError::InvalidEmail { client, .. } if client == "acme"),
        "{err}"
    );
    let gamma = client("gamma", "UTC");
    let sorted_clients = [c.clone(), beta, gamma];
    let of = |id: &str, client: &str| invoice(id, client, d(2026, 3, 2), d(2026, 4, 1), money("1", "CLP"));
    for (stray, client) in [("B-1", "bravo"), ("Z-1", "zulu")] {
        let mut items = vec![of("A-1", "acme"), of("G-1", "gamma"), of(stray, client)];
        items.sort_by(|x, y| (&x.client, &x.id).cmp(&(&y.client, &y.id)));
        let err = planner
            .plan(&sorted_clients, &items, &[], now, Horizon::NONE)
            .unwrap_err();
        assert_eq!(
            err,
            ValidationError::UnknownClient {
                item: stray.into(),
                client: client.into()
            }
        );
    }

    let err = serde_json::from_str::<Item>(
        r#"{"id":"F-9","client":"acme","issued_on":"2026-03-02","total":{"currency":"ZZZ","amount":"1"}}"#,
    )
    .unwrap_err();
    assert!(err.to_string().contains("unknown currency \"ZZZ\""), "{err}");
}

#[test]
fn policy_diff_shows_what_a_settings_change_would_add_or_remove() {
    let old = Planner::new(&seed001_policy("America/Santiago")).unwrap();
    let new_policy = Policy::new(tz("America/Santiago"))
        .with_rule(rule("due-soon", Anchor::Due, -2))
        .with_rule(rule("overdue", Anchor::Due, 0).repeat(7, 3));
    let new = Planner::new(&new_policy).unwrap();
    let clients = [client("acme", "America/Santiago")];
    let items = [invoice(
        "F-60",
        "acme",
        d(2026, 3, 2),
        d(2026, 4, 1),
        money("1000", "CLP"),
    )];
    let now = utc(2026, 3, 20, 13, 0);
    let a = old.plan(&clients, &items, &[], now, Horizon::days(30)).unwrap();
    let b = new.plan(&clients, &items, &[], now, Horizon::days(30)).unwrap();
    let diff = a.diff(&b);
    assert!(diff.added.is_empty() && diff.removed.is_empty());
    assert_eq!(diff.changed.len(), 1);
    assert_eq!(diff.changed[0].before.send_on, d(2026, 3, 27));
    assert_eq!(diff.changed[0].after.send_on, d(2026, 3, 30));
    assert!(a.diff(&a).is_empty());
}

#[test]
fn policy_loads_from_toml() {
    let policy: Policy = toml::from_str(
        r#"
        time_zone = "America/Santiago"
        send_time = "08:30"
        payment_term_days = 15
        min_gap_days = 1
        [collection]
        past_items = "2026-01-01"
        [calendar]
        non_working_weekdays = ["Sat", "Sun"]
        holidays = ["2026-09-18"]
        [[rules]]
        id = "overdue"
        anchor = "due"
        offset_days = 3
        every_days = 7
        count = 4
        roles = ["billing", "manager"]
        [rules.when]
        kinds = ["invoice"]
        min_balance = [{ currency = "CLP", amount = "10000" }]
        "#,
    )
    .unwrap();
    let planner = Planner::new(&policy).unwrap();
    assert!(planner.warnings().is_empty());
    assert_eq!(policy.rules[0].when.min_balance[0], money("10000", "CLP"));
}

#[test]
fn rule_conditions_select_items_and_clients() {
    let policy = Policy::new(tz("America/Santiago"))
        .with_rule(rule("overdue", Anchor::Due, 0).min_balance(money("10000", "CLP")))
        .with_rule(rule("vip", Anchor::Due, 1).for_client_tags(["vip"]))
        .with_rule(rule("forms", Anchor::Sent, 2).for_kinds([ItemKind::Form]));
    let planner = Planner::new(&policy).unwrap();
    let clients = [
        client("acme", "America/Santiago").with_tag("vip"),
        client("bodega", "America/Santiago"),
    ];
    let items = [
        invoice("BIG", "acme", d(2026, 3, 2), d(2026, 4, 1), money("50000", "CLP")),
        invoice(
            "SMALL",
            "acme",
            d(2026, 3, 2),
            d(2026, 4, 1),
            money("9999", "CLP"),
        ),
        invoice(
            "USD",
            "bodega",
            d(2026, 3, 2),
            d(2026, 4, 1),
            money("5.00", "USD"),
        ),
        Item::action(
            "FORM".parse().unwrap(),
            "bodega".parse().unwrap(),
            ItemKind::Form,
            d(2026, 3, 30),
        ),
        Item::action(
            "PROP".parse().unwrap(),
            "bodega".parse().unwrap(),
            ItemKind::Proposal,
            d(2026, 3, 30),
        ),
    ];
    let plan = planner
        .plan(&clients, &items, &[], utc(2026, 4, 1, 13, 0), Horizon::days(3))
        .unwrap();
    let mut keys: Vec<_> = plan.events().map(|e| e.key.as_str()).collect();
    keys.sort_unstable();
    // BIG passes the CLP minimum; USD has no minimum; only acme is vip; only forms get "forms".
    assert_eq!(
        keys,
        [
            "forms/FORM/1",
            "overdue/BIG/1",
            "overdue/USD/1",
            "vip/BIG/1",
            "vip/SMALL/1"
        ]
    );
    assert!(
        plan.suppressed()
            .iter()
            .any(|s| s.key.as_str() == "overdue/SMALL/1"
                && s.reason
                    == SuppressReason::BelowMinimumBalance {
                        minimum: money("10000", "CLP")
                    })
    );
    // The "Eventos" view of one invoice.
    let big: ItemId = "BIG".parse().unwrap();
    let view: Vec<_> = plan.for_item(&big).map(|e| e.key.as_str()).collect();
    assert_eq!(view, ["overdue/BIG/1", "vip/BIG/1"]);
    let acme: ClientId = "acme".parse().unwrap();
    assert_eq!(plan.for_client(&acme).count(), 3);
}

#[test]
fn item_status_and_switches_stop_reminders_with_reasons() {
    let planner = Planner::new(&seed001_policy("America/Santiago")).unwrap();
    let base = |id: &str| invoice(id, "acme", d(2026, 3, 2), d(2026, 4, 1), money("1000", "CLP"));
    let mut off = base("OFF");
    off.reminders = false;
    let items = [
        base("DRAFT").with_status(ItemStatus::Draft),
        base("CANCELLED").with_status(ItemStatus::Cancelled),
        base("VOID").with_status(ItemStatus::Void),
        base("PAID").with_status(ItemStatus::Paid),
        off,
        base("OPEN"),
    ];
    let plan = planner
        .plan(
            &[client("acme", "America/Santiago")],
            &items,
            &[],
            utc(2026, 4, 1, 13, 0),
            Horizon::NONE,
        )
        .unwrap();
    let keys: Vec<_> = plan.due().iter().map(|e| e.key.as_str()).collect();
    assert_eq!(keys, ["overdue/OPEN/1"]);
    let reason = |item: &str| {
        plan.suppressed()
            .iter()
            .find(|s| s.item_str() == item && s.rule.as_str() == "overdue")
            .map(|s| s.reason.clone())
    };
    assert_eq!(reason("DRAFT"), Some(SuppressReason::Draft));
    assert_eq!(reason("CANCELLED"), Some(SuppressReason::Cancelled));
    assert_eq!(reason("VOID"), Some(SuppressReason::Void));
    assert_eq!(reason("PAID"), Some(SuppressReason::Paid));
    assert_eq!(reason("OFF"), Some(SuppressReason::ItemRemindersOff));
}

#[test]
fn long_settled_items_are_not_explained_every_day() {
    let planner = Planner::new(&seed001_policy("America/Santiago")).unwrap();
    let long_ago = invoice("OLD", "acme", d(2026, 1, 2), d(2026, 2, 1), money("1000", "CLP"))
        .paid(money("1000", "CLP"), d(2026, 2, 2));
    let just_paid = invoice("NEW", "acme", d(2026, 3, 2), d(2026, 4, 1), money("1000", "CLP"))
        .paid(money("1000", "CLP"), d(2026, 3, 31));
    let items = [long_ago, just_paid];
    let clients = [client("acme", "America/Santiago")];
    let plan = planner
        .plan(&clients, &items, &[], utc(2026, 4, 1, 13, 0), Horizon::NONE)
        .unwrap();
    let items_explained: HashSet<&str> = plan.suppressed().iter().map(|s| s.item_str()).collect();
    assert_eq!(items_explained, HashSet::from(["NEW"]));
    // A longer lookback explains the older one too.
    let plan = planner
        .clone()
        .with_lookback(90)
        .plan(&clients, &items, &[], utc(2026, 4, 1, 13, 0), Horizon::NONE)
        .unwrap();
    assert!(
        plan.suppressed()
            .iter()
            .any(|s| s.item_str() == "OLD" && s.reason == SuppressReason::Paid)
    );
}

#[test]
fn extreme_dates_never_panic() {
    let policy = seed001_policy("Asia/Tokyo").with_rule(rule("issued", Anchor::Issued, 0));
    let planner = Planner::new(&policy).unwrap();
    let max = chrono::NaiveDate::MAX;
    let min = chrono::NaiveDate::MIN;
    let items = [
        Item::invoice(
            "LATE".parse().unwrap(),
            "c".parse().unwrap(),
            max - chrono::Duration::days(3),
            money("1", "USD"),
        ),
        invoice(
            "EARLY",
            "c",
            min,
            min + chrono::Duration::days(10),
            money("1", "USD"),
        ),
    ];
    let clients = [client("c", "Pacific/Kiritimati")];
    for now in [
        utc(2026, 1, 1, 0, 0),
        chrono::DateTime::<chrono::Utc>::MAX_UTC - chrono::Duration::days(2),
    ] {
        for horizon in [Horizon::NONE, Horizon::days(1), Horizon::days(u32::MAX)] {
            let _ = planner.plan(&clients, &items, &[], now, horizon);
        }
    }
    // A horizon past the end of time plans up to it; one over the limit is refused.
    let end = planner.plan(
        &clients,
        &items,
        &[],
        chrono::DateTime::<chrono::Utc>::MAX_UTC,
        Horizon::days(10),
    );
    assert!(end.is_ok(), "{end:?}");
    let err = planner
        .plan(
            &clients,
            &items,
            &[],
            chrono::DateTime::<chrono::Utc>::MAX_UTC,
            Horizon::days(dunning::limits::MAX_HORIZON_DAYS + 1),
        )
        .unwrap_err();
    assert!(
        matches!(&err, ValidationError::OverLimit { field, .. } if field.ends_with("horizon")),
        "{err:?}"
    );
}

#[test]
fn clients_of_one_zone_send_at_their_own_times() {
    // Three clients in one zone: the policy's send time and two of their own, one before
    // and one after `now` (12:00 in Santiago on the day a reminder is due).
    let planner = Planner::new(&seed001_policy("America/Santiago")).unwrap();
    let at = |h| ClientOverrides::default().send_time(t(h, 0));
    let clients = [
        client("a-policy", "America/Santiago"),
        client("b-early", "America/Santiago").with_overrides(at(8)),
        client("c-late", "America/Santiago").with_overrides(at(18)),
    ];
    let items: Vec<Item> = clients
        .iter()
        .map(|c| {
            let id = format!("F-{}", c.id);
            invoice(
                &id,
                c.id.as_str(),
                d(2026, 3, 2),
                d(2026, 4, 1),
                money("1", "CLP"),
            )
        })
        .collect();
    let plan = planner
        .plan(&clients, &items, &[], utc(2026, 3, 27, 15, 0), Horizon::days(1))
        .unwrap();
    let when = |e: &Event| format!("{} {}", e.client, e.send_at.to_rfc3339());
    let due: Vec<String> = plan.due().iter().map(when).collect();
    let upcoming: Vec<String> = plan.upcoming().iter().map(when).collect();
    // Santiago is -03 in March: 09:00 and 08:00 have gone, 18:00 is to come.
    assert_eq!(
        due,
        [
            "b-early 2026-03-27T11:00:00+00:00",
            "a-policy 2026-03-27T12:00:00+00:00"
        ]
    );
    assert_eq!(upcoming, ["c-late 2026-03-27T21:00:00+00:00"]);
}

#[test]
fn events_of_one_instant_order_by_their_keys_texts() {
    // `F-1` starts `F-1-b`: by id `F-1` comes first, by key `due-soon/F-1-b/1` does ('-'
    // orders before '/'). Plans list events of one instant in the order of their keys.
    let planner = Planner::new(&seed001_policy("America/Santiago")).unwrap();
    let ids = ["F-2", "F-1-b", "F-1", "F-10"];
    let items: Vec<Item> = ids
        .iter()
        .map(|id| invoice(id, "acme", d(2026, 3, 2), d(2026, 4, 1), money("1", "CLP")))
        .collect();
    let clients = [client("acme", "America/Santiago")];
    let now = utc(2026, 3, 27, 15, 0);
    let plan = planner.plan(&clients, &items, &[], now, Horizon::NONE).unwrap();
    let keys: Vec<&str> = plan.due().iter().map(|e| e.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "due-soon/F-1-b/1",
            "due-soon/F-1/1",
            "due-soon/F-10/1",
            "due-soon/F-2/1"
        ]
    );
    let schedule = planner
        .schedule(&clients, &items, &[], now, Horizon::NONE)
        .unwrap();
    let read: Vec<String> = schedule.due().map(|e| e.key().to_string()).collect();
    assert_eq!(read, keys);
}

#[test]
fn history_at_the_ends_of_time_plans_without_panicking() {
    // A corrupt or placeholder `sent_at` is read as the first or last local day, not a panic.
    let planner = Planner::new(&seed001_policy("America/Santiago")).unwrap();
    let clients = [client("acme", "America/Santiago"), client("tokio", "Asia/Tokyo")];
    let items = [
        invoice("F-1", "acme", d(2026, 3, 2), d(2026, 4, 1), money("1", "CLP")),
        invoice("F-2", "tokio", d(2026, 3, 2), d(2026, 4, 1), money("1", "CLP")),
    ];
    let sent = |key: &str, item: &str, client: &str, at| HistoryEntry {
        key: EventKey::from(key),
        rule: Some("due-soon".parse().unwrap()),
        client: client.parse().unwrap(),
        items: vec![HistoryItem {
            item: item.parse().unwrap(),
            occurrence: 1,
        }],
        sent_at: at,
        outcome: HistoryOutcome::Sent,
    };
    let history = [
        sent(
            "due-soon/F-1/1",
            "F-1",
            "acme",
            chrono::DateTime::<chrono::Utc>::MIN_UTC,
        ),
        sent(
            "due-soon/F-2/1",
            "F-2",
            "tokio",
            chrono::DateTime::<chrono::Utc>::MAX_UTC,
        ),
    ];
    let plan = planner
        .plan(
            &clients,
            &items,
            &history,
            utc(2026, 3, 27, 15, 0),
            Horizon::days(7),
        )
        .unwrap();
    // Both reminders count as sent: neither goes again.
    assert!(
        plan.events()
            .all(|e| e.key.as_str() != "due-soon/F-1/1" && e.key.as_str() != "due-soon/F-2/1")
    );
}

/// What a host is shown is what the planner and the messages do: one resolution of a
/// client's settings. A rule without roles of its own reaches the roles the client's
/// overrides name, and the effective settings now say they come from the client (they said
/// the policy); statements and standing notices, their thresholds and the copy addresses are
/// shown too, as the planner and the messages use them.
#[test]
fn effective_settings_show_what_the_planner_and_messages_use() {
    let policy = Policy::new(tz("UTC"))
        .with_rule(rule("overdue", Anchor::Due, 0))
        .with_statement(StatementRule {
            roles: vec![ContactRole::Billing],
            ..StatementRule::new(
                "monthly".parse().unwrap(),
                "FREQ=MONTHLY;BYMONTHDAY=1",
                d(2026, 1, 1),
            )
        })
        .with_standing(StandingRule::new(30, 60));
    let planner = Planner::new(&policy).unwrap();
    let closing = policy.standing.as_ref().unwrap().closing_soon_id.clone();
    let mut overrides = ClientOverrides {
        roles: Some(vec![ContactRole::Manager]),
        closed_after_days: Some(90),
        cc: Some(vec!["copia@acme.example".into()]),
        ..ClientOverrides::default()
    };
    overrides
        .rules
        .insert("monthly".parse().unwrap(), RuleOverride::off());
    overrides.rules.insert(
        closing.clone(),
        RuleOverride {
            roles: Some(vec![ContactRole::Executive]),
            ..RuleOverride::default()
        },
    );
    let acme = Client::new("acme".parse().unwrap(), "ACME")
        .with_time_zone(tz("UTC"))
        .with_contact(Contact::new("Bea", "bea@acme.example").with_role(ContactRole::Billing))
        .with_contact(Contact::new("Max", "max@acme.example").with_role(ContactRole::Manager))
        .with_overrides(overrides);
    let s = planner.effective_settings(&acme).unwrap();
    fn client_set<T>(value: T) -> Setting<T> {
        Setting {
            value,
            origin: Origin::Client,
        }
    }
    assert_eq!(s.rules[0].roles, client_set(vec![ContactRole::Manager]));
    assert_eq!(s.cc, client_set(vec!["copia@acme.example".to_owned()]));
    assert_eq!(s.closed_after_days, Some(client_set(90)));
    assert_eq!(
        s.closing_soon_after_days,
        Some(Setting {
            value: 30,
            origin: Origin::Policy
        })
    );
    let notice = |id: &str| s.notices.iter().find(|n| n.rule.as_str() == id).unwrap();
    assert_eq!(notice("monthly").enabled, client_set(false));
    assert_eq!(
        notice("monthly").roles,
        Setting {
            value: vec![ContactRole::Billing],
            origin: Origin::Policy
        }
    );
    assert_eq!(
        notice(closing.as_str()).roles,
        client_set(vec![ContactRole::Executive])
    );
    assert_eq!(s.notices.len(), 3);

    // The planner and the messages do the same.
    let item = invoice("F-1", "acme", d(2026, 3, 1), d(2026, 3, 10), money("100", "USD"));
    let plan = planner
        .plan(
            std::slice::from_ref(&acme),
            &[item],
            &[],
            utc(2026, 3, 10, 12, 0),
            Horizon::NONE,
        )
        .unwrap();
    let event = plan
        .due()
        .iter()
        .find(|e| e.rule.as_str() == "overdue")
        .expect("overdue due");
    let to: Vec<&str> = event.recipients.iter().map(|r| r.email.as_str()).collect();
    assert_eq!(to, ["max@acme.example"]);
    let message = Messages::new(&policy)
        .unwrap()
        .render(event, &acme, &RenderOptions::default())
        .unwrap();
    let cc: Vec<&str> = message.cc.iter().map(|m| m.email.as_str()).collect();
    assert_eq!(cc, s.cc.value.iter().map(String::as_str).collect::<Vec<_>>());
}

/// A reminder the minimum gap deferred goes at the send time of the day the gap ends, as the
/// forecast said, explained as deferred (it went at that day's first tick, after midnight,
/// explained as a missed send).
#[test]
fn a_reminder_the_gap_deferred_goes_at_the_send_time_it_was_forecast_for() {
    let policy = Policy::new(tz("America/Santiago")).with_rule(rule("overdue", Anchor::Due, 0));
    let planner = Planner::new(&policy).unwrap();
    let clients = [client("acme", "America/Santiago").with_overrides(ClientOverrides::default().min_gap(2))];
    let items = [
        invoice(
            "F-40",
            "acme",
            d(2026, 3, 2),
            d(2026, 3, 31),
            money("1000", "CLP"),
        ),
        invoice("F-41", "acme", d(2026, 3, 2), d(2026, 4, 1), money("1000", "CLP")),
    ];
    let sent = sent_entry("overdue", "F-40", "acme", 1, utc(2026, 3, 31, 12, 0));
    // Past midnight in Santiago on 04-02, before the send time (09:00, 12:00 UTC).
    let night = planner
        .plan(
            &clients,
            &items,
            std::slice::from_ref(&sent),
            utc(2026, 4, 2, 5, 0),
            Horizon::days(1),
        )
        .unwrap();
    assert!(night.due().is_empty(), "{:#?}", lines(&night));
    assert_eq!(
        lines(&night)
            .into_iter()
            .filter(|l| l.starts_with("upcoming"))
            .collect::<Vec<_>>(),
        ["upcoming 2026-04-02 overdue/F-41/1 2026-04-02T12:00:00+00:00"]
    );
    let event = &night.upcoming()[0];
    assert!(
        event
            .why
            .adjustments
            .iter()
            .any(|a| matches!(a, Adjustment::Deferred { gap_days: 2, .. })),
        "{:?}",
        event.why.adjustments
    );
    assert!(
        !event
            .why
            .adjustments
            .iter()
            .any(|a| matches!(a, Adjustment::CatchUp { .. })),
        "{:?}",
        event.why.adjustments
    );
    // Hourly ticks: it goes at the first tick at or after 12:00 UTC.
    let mut history = vec![sent];
    let mut now = utc(2026, 4, 1, 13, 0);
    while now <= utc(2026, 4, 3, 0, 0) {
        let plan = planner
            .plan(&clients, &items, &history, now, Horizon::NONE)
            .unwrap();
        for e in plan.due() {
            history.push(e.to_history(now));
        }
        now += chrono::Duration::hours(1);
    }
    let went: Vec<_> = history[1..]
        .iter()
        .map(|h| (h.key.to_string(), h.sent_at))
        .collect();
    assert_eq!(went, [("overdue/F-41/1".to_owned(), utc(2026, 4, 2, 12, 0))]);
}

/// When the gap holds back several reminders, the one that has waited longest goes first (the
/// newest invoice's notice went first, by rule order, and the oldest could wait for weeks).
#[test]
fn the_reminder_the_gap_held_longest_goes_first() {
    let policy = Policy::new(tz("Europe/Madrid"))
        .with_calendar(BusinessCalendar::new([], []))
        .with_rule(rule("issued", Anchor::Issued, 0))
        .with_rule(rule("overdue", Anchor::Due, 0))
        .with_min_gap(3);
    let planner = Planner::new(&policy).unwrap();
    let clients = [client("acme", "Europe/Madrid")];
    let old = invoice("A", "acme", d(2026, 3, 2), d(2026, 4, 2), money("10", "EUR"));
    let mut old = old;
    // Its notice of issue went long ago.
    old.reminders = true;
    let new = invoice("B", "acme", d(2026, 4, 4), d(2026, 5, 4), money("10", "EUR"));
    // A message to the client on 04-01: the gap holds A's overdue notice of 04-02 to 04-04,
    // the day B's notice of issue is due.
    let mut z = invoice("Z", "acme", d(2026, 4, 1), d(2026, 5, 1), money("10", "EUR"));
    z.reminders = true;
    let history = [
        sent_entry("issued", "A", "acme", 1, utc(2026, 3, 2, 8, 0)),
        sent_entry("issued", "Z", "acme", 1, utc(2026, 4, 1, 8, 0)),
    ];
    let items = [old, new, z];
    let plan = planner
        .plan(
            &clients,
            &items,
            &history,
            utc(2026, 4, 4, 8, 0),
            Horizon::days(7),
        )
        .unwrap();
    let due: Vec<_> = plan.due().iter().map(|e| e.key.to_string()).collect();
    assert_eq!(due, ["overdue/A/1"], "{:#?}", lines(&plan));
    let next: Vec<_> = plan
        .upcoming()
        .iter()
        .map(|e| (e.key.to_string(), e.send_on))
        .collect();
    assert_eq!(
        next,
        [("issued/B/1".to_owned(), d(2026, 4, 7))],
        "{:#?}",
        lines(&plan)
    );
}

/// A reminder a pause held back, then the gap, names the pause and is deferred from the day
/// after it (it said "deferred from" its own day, inside the pause, though no message went near
/// that day, and never named the pause); the forecast made before says what the ticks do.
#[test]
fn a_reminder_held_by_a_pause_then_the_gap_names_both_as_they_were() {
    let policy = Policy::new(tz("UTC"))
        .with_calendar(BusinessCalendar::new([], []))
        .with_min_gap(2)
        .with_rule(rule("late", Anchor::Due, 1));
    let planner = Planner::new(&policy).unwrap();
    let clients = [client("c", "UTC")];
    let promise = Pause::new(PauseKind::Promise, "will pay")
        .starting(d(2026, 10, 7))
        .until(d(2026, 10, 18));
    let items = [
        invoice("Z", "c", d(2026, 9, 17), d(2026, 10, 12), money("10", "USD")).with_pause(promise),
        invoice("B", "c", d(2026, 9, 17), d(2026, 10, 16), money("10", "USD")),
    ];
    let start = utc(2026, 10, 10, 10, 0);
    let forecast = planner
        .plan(&clients, &items, &[], start, Horizon::days(15))
        .unwrap();
    let said: Vec<_> = forecast
        .events()
        .map(|e| (e.key.to_string(), e.send_on))
        .collect();
    let mut history = Vec::new();
    let mut went = Vec::new();
    let mut now = start;
    while now <= utc(2026, 10, 25, 0, 0) {
        let plan = planner
            .plan(&clients, &items, &history, now, Horizon::NONE)
            .unwrap();
        for e in plan.due() {
            history.push(e.to_history(now));
            went.push(e.clone());
        }
        now += chrono::Duration::hours(1);
    }
    let sent: Vec<_> = went.iter().map(|e| (e.key.to_string(), e.send_on)).collect();
    assert_eq!(said, sent);
    let z = went.iter().find(|e| e.key.as_str() == "late/Z/1").unwrap();
    let adjustments = &z.why.adjustments;
    assert!(
        adjustments.iter().any(|a| matches!(a, Adjustment::Paused { .. })),
        "{}",
        z.explain()
    );
    assert!(
        adjustments
            .iter()
            .all(|a| !matches!(a, Adjustment::Deferred { from, .. } if *from <= d(2026, 10, 18))),
        "{}",
        z.explain()
    );
}

/// Statements and standing notices go on their own dates: the minimum gap between reminders
/// neither holds them back nor counts them (a statement sent on Wednesday deferred the "due
/// soon" reminder of Friday the forecast had listed).
#[test]
fn a_statement_sent_does_not_defer_reminders_by_the_gap() {
    let policy = Policy::new(tz("UTC"))
        .with_calendar(BusinessCalendar::new([], []))
        .with_min_gap(3)
        .with_statement(StatementRule::new(
            "stmt".parse().unwrap(),
            "FREQ=WEEKLY;BYDAY=WE",
            d(2026, 1, 1),
        ))
        .with_rule(rule("soon", Anchor::Due, -3));
    let planner = Planner::new(&policy).unwrap();
    let clients = [client("c", "UTC")];
    let items = [invoice(
        "F",
        "c",
        d(2026, 12, 1),
        d(2026, 12, 21),
        money("10", "USD"),
    )];
    let start = utc(2026, 12, 14, 10, 0);
    let forecast = planner
        .plan(&clients, &items, &[], start, Horizon::days(10))
        .unwrap();
    let said: Vec<_> = forecast
        .events()
        .map(|e| (e.key.to_string(), e.send_on))
        .collect();
    assert!(
        said.contains(&("soon/F/1".to_owned(), d(2026, 12, 18))),
        "{said:?}"
    );
    let history = simulate(
        &planner,
        &clients,
        &items,
        start,
        start + chrono::Duration::days(10),
        chrono::Duration::hours(1),
    );
    let sent: Vec<_> = history
        .iter()
        .map(|h| (h.key.to_string(), h.sent_at.date_naive()))
        .collect();
    assert!(
        sent.contains(&("soon/F/1".to_owned(), d(2026, 12, 18))),
        "{sent:?}"
    );
}

/// A reminder the gap holds back for longer than the plan's window looks back is still
/// explained, as of now (its `Deferred` entry was dated the day it was first held, and left
/// the window while it kept waiting).
#[test]
fn a_reminder_the_gap_holds_long_is_explained_as_of_now() {
    let policy = Policy::new(tz("UTC"))
        .with_calendar(BusinessCalendar::new([], []))
        .with_min_gap(20)
        .with_rule(rule("late", Anchor::Due, 1));
    let planner = Planner::new(&policy).unwrap();
    let items: Vec<Item> = ["A", "B", "C", "D"]
        .iter()
        .map(|i| invoice(i, "c", d(2026, 2, 1), d(2026, 3, 1), money("1", "USD")))
        .collect();
    let history = [sent_entry("late", "A", "c", 1, utc(2026, 3, 2, 9, 0))];
    for day in [3, 9, 10, 15] {
        let now = utc(2026, 3, day, 12, 0);
        let plan = planner
            .plan(&[client("c", "UTC")], &items, &history, now, Horizon::days(14))
            .unwrap();
        for it in ["B", "C", "D"] {
            let key = format!("late/{it}/1");
            let said = plan.events().any(|e| e.key.as_str() == key)
                || plan.suppressed().iter().any(|s| s.key.as_str() == key);
            assert!(said, "{now}: nothing about {key}: {:#?}", lines(&plan));
        }
    }
}

/// Operation through a dispute: "invoice issued" missed the day it was due (the host was
/// down), a dispute held the item until the Thursday, and "due soon" fell inside it. Their
/// send instants passed during the pause, so both are missed sends the day after it: the
/// latest stage ("due soon") goes at the first tick of that day, as forecast, and "issued"
/// is superseded by it. Found by the attack review: the held "due soon" was given that day's
/// send time (23:00) yet beat the catch-up due since midnight, so what was due waited for a
/// stage still to come; a host ticking daily at 10:00 then lost it, and sent "invoice issued"
/// on the due date instead of "due today".
#[test]
fn reminders_a_pause_held_go_at_the_first_tick_after_it_the_latest_stage_first() {
    let policy = Policy::new(tz("UTC"))
        .with_send_time(chrono::NaiveTime::from_hms_opt(23, 0, 0).unwrap())
        .with_calendar(BusinessCalendar::new(
            [chrono::Weekday::Sat, chrono::Weekday::Sun],
            [],
        ))
        .with_rule(rule("issued", Anchor::Issued, 0))
        .with_rule(rule("soon5", Anchor::Due, -5))
        .with_rule(rule("today", Anchor::Due, 0));
    let planner = Planner::new(&policy).unwrap();
    let clients = [client("acme", "UTC")];
    // Issued Monday 03-02, disputed Tuesday 03-03 to Thursday 03-12, due Monday 03-16: "due
    // soon" (03-11) falls in the dispute.
    let items = [
        invoice("F-1", "acme", d(2026, 3, 2), d(2026, 3, 16), money("10", "USD")).with_pause(
            Pause::new(PauseKind::Dispute, "disputed")
                .starting(d(2026, 3, 3))
                .until(d(2026, 3, 12)),
        ),
    ];
    // The forecast during the dispute.
    let during = planner
        .plan(&clients, &items, &[], utc(2026, 3, 5, 12, 0), Horizon::days(14))
        .unwrap();
    let forecast: Vec<(String, chrono::DateTime<chrono::Utc>)> = during
        .upcoming()
        .iter()
        .map(|e| (e.key.to_string(), e.send_at))
        .collect();
    assert_eq!(
        forecast,
        [
            ("soon5/F-1/1".to_owned(), utc(2026, 3, 13, 0, 0)),
            ("today/F-1/1".to_owned(), utc(2026, 3, 16, 23, 0)),
        ],
        "{:#?}",
        lines(&during)
    );
    let explained = during.suppressed().iter().any(|s| {
        s.key.as_str() == "issued/F-1/1"
            && matches!(&s.reason, SuppressReason::Superseded { by } if by.as_str() == "soon5/F-1/1")
    });
    assert!(explained, "{:#?}", lines(&during));
    // Hourly ticks from after the missed "issued": what goes is what was forecast.
    let hourly = simulate(
        &planner,
        &clients,
        &items,
        utc(2026, 3, 3, 0, 30),
        utc(2026, 3, 20, 0, 0),
        chrono::Duration::hours(1),
    );
    let sent: Vec<(String, chrono::DateTime<chrono::Utc>)> =
        hourly.iter().map(|h| (h.key.to_string(), h.sent_at)).collect();
    assert_eq!(
        sent,
        [
            ("soon5/F-1/1".to_owned(), utc(2026, 3, 13, 0, 30)),
            ("today/F-1/1".to_owned(), utc(2026, 3, 16, 23, 30)),
        ]
    );
    // Ticking daily at 10:00 (before the 23:00 send time): "due soon" goes the day after the
    // dispute, "due today" a day late, and "issued" never goes on the due date.
    let daily = simulate(
        &planner,
        &clients,
        &items,
        utc(2026, 3, 2, 10, 0),
        utc(2026, 3, 20, 0, 0),
        chrono::Duration::days(1),
    );
    let sent: Vec<(String, chrono::DateTime<chrono::Utc>)> =
        daily.iter().map(|h| (h.key.to_string(), h.sent_at)).collect();
    assert_eq!(
        sent,
        [
            ("soon5/F-1/1".to_owned(), utc(2026, 3, 13, 10, 0)),
            ("today/F-1/1".to_owned(), utc(2026, 3, 17, 10, 0)),
        ]
    );
}

/// After an outage longer than the lookback, the stages missed in it are each explained:
/// the latest goes, the one of the due date is superseded by it, and the "due soon", too late
/// now, says so as of today (too late from its due date, which had left the window, and the
/// plan said nothing of it).
#[test]
fn after_an_outage_longer_than_the_lookback_every_missed_stage_is_explained() {
    let policy = Policy::new(tz("UTC"))
        .with_rule(rule("soon5", Anchor::Due, -5))
        .with_rule(rule("today", Anchor::Due, 0))
        .with_rule(rule("overdue", Anchor::Due, 3));
    let planner = Planner::new(&policy).unwrap();
    let clients = [client("acme", "UTC")];
    let items = [invoice(
        "F-1",
        "acme",
        d(2026, 3, 1),
        d(2026, 3, 18),
        money("10", "USD"),
    )];
    // Down from 03-10 to 03-26; the "due soon" of 03-13 is 14 days old and too late since the
    // due date (03-18), 9 days old, past the 7-day lookback.
    let now = utc(2026, 3, 27, 13, 0);
    let plan = planner
        .plan(&clients, &items, &[], now, Horizon::days(14))
        .unwrap();
    let due: Vec<String> = plan.due().iter().map(|e| e.key.to_string()).collect();
    assert_eq!(due, ["overdue/F-1/1"], "{:#?}", lines(&plan));
    let said = |key: &str| -> Vec<(chrono::NaiveDate, SuppressReasonKind)> {
        plan.suppressed()
            .iter()
            .filter(|s| s.key.as_str() == key)
            .map(|s| (s.on, s.reason.kind()))
            .collect()
    };
    assert_eq!(
        said("soon5/F-1/1"),
        [(d(2026, 3, 27), SuppressReasonKind::DueSoonAfterDue)],
        "{:#?}",
        lines(&plan)
    );
    assert_eq!(said("today/F-1/1").len(), 1, "{:#?}", lines(&plan));
    assert_eq!(said("today/F-1/1")[0].1, SuppressReasonKind::Superseded);
    // Once the catch-up went, the older stages are superseded by it, on their own days, which
    // have left the window: nothing is said of them every day.
    let history: Vec<HistoryEntry> = plan.due().iter().map(|e| e.to_history(now)).collect();
    let later = planner
        .plan(
            &clients,
            &items,
            &history,
            utc(2026, 4, 10, 13, 0),
            Horizon::days(14),
        )
        .unwrap();
    assert!(
        !later.suppressed().iter().any(|s| s.key.as_str() == "soon5/F-1/1"),
        "{:#?}",
        lines(&later)
    );
    assert!(later.events().next().is_none(), "{:#?}", lines(&later));
}

/// Under a minimum gap, a reminder a dispute held back (due since the start of the day after
/// it) goes before a reminder whose send time comes later that day, at every tick of that
/// day, as forecast (the attack review's simulation saw it forecast three days out at the
/// morning's ticks, then sent in the evening once the other's send time had passed, late by
/// its own instant).
#[test]
fn under_a_gap_the_reminder_a_pause_held_goes_first_at_every_tick() {
    let policy = Policy::new(tz("UTC"))
        .with_send_time(chrono::NaiveTime::from_hms_opt(17, 45, 0).unwrap())
        .with_min_gap(3)
        .with_rule(rule("overdue", Anchor::Due, 3).repeat(7, 3));
    let planner = Planner::new(&policy).unwrap();
    let clients = [client("acme", "UTC")];
    let items = [
        // Overdue on 09-24, inside the dispute: held onto 09-28. (Its id sorts after B's: the
        // order of the ids decided which went first.)
        invoice("H", "acme", d(2026, 9, 1), d(2026, 9, 21), money("10", "USD")).with_pause(
            Pause::new(PauseKind::Dispute, "disputed")
                .starting(d(2026, 9, 21))
                .until(d(2026, 9, 27)),
        ),
        // Its first overdue reminder went on 09-21; the second is due on 09-28 at 17:45.
        invoice("B", "acme", d(2026, 9, 1), d(2026, 9, 18), money("10", "USD")),
        invoice("C", "acme", d(2026, 9, 1), d(2026, 9, 21), money("10", "USD"))
            .paid(money("10", "USD"), d(2026, 9, 25)),
    ];
    // The client's last message went on 09-24: the gap holds until 09-27.
    let history = vec![
        sent_entry("overdue", "B", "acme", 1, utc(2026, 9, 21, 17, 45)),
        sent_entry("overdue", "C", "acme", 1, utc(2026, 9, 24, 17, 45)),
    ];
    let start = utc(2026, 9, 26, 0, 7);
    let forecast = planner
        .plan(&clients, &items, &history, start, Horizon::days(10))
        .unwrap();
    let planned: Vec<(String, chrono::DateTime<chrono::Utc>)> = forecast
        .upcoming()
        .iter()
        .map(|e| (e.key.to_string(), e.send_at))
        .collect();
    assert_eq!(
        planned,
        [
            ("overdue/H/1".to_owned(), utc(2026, 9, 28, 0, 0)),
            ("overdue/B/2".to_owned(), utc(2026, 10, 1, 17, 45)),
            ("overdue/H/2".to_owned(), utc(2026, 10, 5, 17, 45)),
        ],
        "{:#?}",
        lines(&forecast)
    );
    let mut history = history;
    let mut now = start;
    while now < utc(2026, 10, 2, 0, 0) {
        let plan = planner
            .plan(&clients, &items, &history, now, Horizon::NONE)
            .unwrap();
        history.extend(plan.due().iter().map(|e| e.to_history(now)));
        now += chrono::Duration::hours(1);
    }
    let sent: Vec<(String, chrono::DateTime<chrono::Utc>)> = history[2..]
        .iter()
        .map(|h| (h.key.to_string(), h.sent_at))
        .collect();
    assert_eq!(
        sent,
        [
            ("overdue/H/1".to_owned(), utc(2026, 9, 28, 0, 7)),
            ("overdue/B/2".to_owned(), utc(2026, 10, 1, 18, 7)),
        ]
    );
}

/// A send a pause holds back goes as a missed one does: past a rule's or a statement's
/// expiry it is dropped (`Expired`, said on its day), not sent when the pause ends.
#[test]
fn a_send_a_pause_holds_past_its_expiry_is_dropped() {
    let policy = Policy::new(TimeZone::UTC)
        .with_rule(rule("issued", Anchor::Issued, 0).expires_after(2))
        .with_statement(
            StatementRule::new("estado".parse().unwrap(), "FREQ=WEEKLY;BYDAY=FR", d(2026, 1, 2))
                .expires_after(2),
        );
    let planner = Planner::new(&policy).unwrap();
    // Friday 2026-04-03: the invoice is issued and the weekly statement falls; the client is
    // on holiday from Thursday to Sunday, so both would go on Monday, three days late.
    let clients = [client("acme", "UTC").with_pause(
        Pause::new(PauseKind::Snooze, "vacaciones")
            .starting(d(2026, 4, 2))
            .until(d(2026, 4, 5)),
    )];
    let items = [invoice(
        "F-1",
        "acme",
        d(2026, 4, 3),
        d(2026, 5, 3),
        money("100", "USD"),
    )];
    let mut history = Vec::new();
    let mut said_on_monday = Vec::new();
    for day in 1..=8 {
        for hour in [0, 8, 12, 20] {
            let now = utc(2026, 4, day, hour, 0);
            let plan = planner
                .plan(&clients, &items, &history, now, Horizon::days(7))
                .unwrap();
            history.extend(plan.due().iter().map(|e| e.to_history(now)));
            for key in ["issued/F-1/1", "estado/acme/2026-04-03"] {
                let forecast: Vec<_> = plan.events().filter(|e| e.key.as_str() == key).collect();
                assert!(forecast.is_empty(), "{day} {hour}h: {:#?}", lines(&plan));
            }
            if (day, hour) == (6, 12) {
                said_on_monday = plan
                    .suppressed()
                    .iter()
                    .map(|s| (s.key.to_string(), s.on, s.reason.clone()))
                    .collect();
            }
        }
    }
    assert!(history.is_empty(), "{history:#?}");
    for key in ["issued/F-1/1", "estado/acme/2026-04-03"] {
        assert!(
            said_on_monday.contains(&(key.to_owned(), d(2026, 4, 3), SuppressReason::Expired { days: 2 })),
            "{key}: {said_on_monday:#?}"
        );
    }
}

/// The minimum gap can hold a reminder back past its rule's expiry too: it is dropped then
/// (`Expired`, said on its day), not sent late when the gap allows.
#[test]
fn a_reminder_the_gap_holds_past_its_expiry_is_dropped() {
    let policy = Policy::new(TimeZone::UTC)
        .with_min_gap(5)
        .with_rule(rule("issued", Anchor::Issued, 0).expires_after(2));
    let planner = Planner::new(&policy).unwrap();
    let clients = [client("acme", "UTC")];
    // Issued Friday 2026-04-03; a manual message about another invoice went to the client
    // the day before, so the gap holds messages until Tuesday 2026-04-07, four days after
    // the reminder's day.
    let items = [
        invoice("F-0", "acme", d(2026, 3, 3), d(2026, 4, 2), money("100", "USD")),
        invoice("F-1", "acme", d(2026, 4, 3), d(2026, 5, 3), money("100", "USD")),
    ];
    let mut history = vec![HistoryEntry::manual(
        "acme".parse().unwrap(),
        "F-0".parse().unwrap(),
        utc(2026, 4, 2, 15, 0),
    )];
    let mut said = Vec::new();
    for day in 3..=10 {
        for hour in [0, 8, 12, 20] {
            let now = utc(2026, 4, day, hour, 0);
            let plan = planner
                .plan(&clients, &items, &history, now, Horizon::days(7))
                .unwrap();
            assert!(
                plan.events().all(|e| e.key.as_str() != "issued/F-1/1"),
                "{day} {hour}h: {:#?}",
                lines(&plan)
            );
            history.extend(plan.due().iter().map(|e| e.to_history(now)));
            said.extend(
                plan.suppressed()
                    .iter()
                    .filter(|s| s.key.as_str() == "issued/F-1/1")
                    .map(|s| (s.on, s.reason.clone())),
            );
        }
    }
    assert!(
        history.iter().all(|h| h.key.as_str() != "issued/F-1/1"),
        "{history:#?}"
    );
    assert!(
        said.contains(&(d(2026, 4, 3), SuppressReason::Expired { days: 2 })),
        "{said:#?}"
    );
}

/// A rule that expires in fewer days than a weekend lasts: a Friday send missed by an early
/// tick is dropped as expired from Saturday's plan on, not forecast for Monday and then
/// dropped on Monday (it was forecast for Monday's start, explained as moved off Saturday).
#[test]
fn a_send_missed_on_friday_that_expires_before_monday_is_dropped_from_the_forecast() {
    let policy = Policy::new(TimeZone::UTC)
        .with_calendar(BusinessCalendar::new(
            [chrono::Weekday::Sat, chrono::Weekday::Sun],
            [],
        ))
        .with_rule(rule("issued", Anchor::Issued, 0).expires_after(2))
        .with_statement(
            StatementRule::new("estado".parse().unwrap(), "FREQ=WEEKLY;BYDAY=FR", d(2026, 1, 1))
                .expires_after(2),
        );
    let planner = Planner::new(&policy).unwrap();
    let clients = [client("acme", "UTC")];
    // Issued Friday 2026-03-06; the send time is 09:00 and the host ticks daily at 08:00.
    let items = [invoice(
        "F-1",
        "acme",
        d(2026, 3, 6),
        d(2026, 4, 5),
        money("100", "USD"),
    )];
    let mut history = Vec::new();
    for day in 6..=10 {
        let now = utc(2026, 3, day, 8, 0);
        let plan = planner
            .plan(&clients, &items, &history, now, Horizon::days(7))
            .unwrap();
        history.extend(plan.due().iter().map(|e| e.to_history(now)));
        if day == 6 {
            continue;
        }
        for key in ["issued/F-1/1", "estado/acme/2026-03-06"] {
            let forecast: Vec<_> = plan.events().filter(|e| e.key.as_str() == key).collect();
            assert!(forecast.is_empty(), "{day}: {:#?}", lines(&plan));
            if day < 9 {
                let said: Vec<_> = plan
                    .suppressed()
                    .iter()
                    .filter(|s| s.key.as_str() == key)
                    .collect();
                assert_eq!(said.len(), 1, "{day}: {:#?}", lines(&plan));
                assert_eq!(said[0].reason, SuppressReason::Expired { days: 2 }, "{day}");
                assert_eq!(said[0].on, d(2026, 3, 6), "{day}");
            }
        }
    }
    assert!(history.is_empty(), "{history:#?}");
}

/// A missed send (no tick on its day) that a pause starting the next day then holds back
/// goes after the pause, as a missed send does, only while that is within its expiry: one
/// the pause pushes past `expires_after` days from the day it was to go is dropped, as one
/// the pause held from its own day is, and said expired; never sent late.
#[test]
fn a_missed_send_a_pause_then_holds_past_its_expiry_is_dropped() {
    let policy = Policy::new(TimeZone::UTC).with_rule(rule("issued", Anchor::Issued, 0).expires_after(3));
    let planner = Planner::new(&policy).unwrap();
    // Issued Wednesday 2026-04-01; no tick that day (an outage). The client is paused from
    // Thursday to Friday 04-10: the catch-up would go on Monday 04-13, twelve days late.
    let clients = [client("acme", "UTC").with_pause(
        Pause::new(PauseKind::Promise, "pays on the 10th")
            .starting(d(2026, 4, 2))
            .until(d(2026, 4, 10)),
    )];
    let items = [invoice(
        "F-1",
        "acme",
        d(2026, 4, 1),
        d(2026, 5, 1),
        money("100", "USD"),
    )];
    let mut history = Vec::new();
    let mut expired = false;
    for day in 2..=16 {
        let now = utc(2026, 4, day, 12, 0);
        let plan = planner
            .plan(&clients, &items, &history, now, Horizon::days(14))
            .unwrap();
        history.extend(plan.due().iter().map(|e| e.to_history(now)));
        let forecast: Vec<_> = plan
            .events()
            .filter(|e| e.key.as_str() == "issued/F-1/1")
            .collect();
        assert!(forecast.is_empty(), "04-{day}: {:#?}", lines(&plan));
        expired |= plan
            .suppressed()
            .iter()
            .any(|s| s.key.as_str() == "issued/F-1/1" && matches!(s.reason, SuppressReason::Expired { .. }));
    }
    assert!(history.is_empty(), "{history:#?}");
    assert!(expired, "never said expired");
}

/// As [`a_missed_send_a_pause_then_holds_past_its_expiry_is_dropped`], for a statement: a
/// missed statement a pause then pushes past its expiry is dropped, never sent late.
#[test]
fn a_missed_statement_a_pause_then_holds_past_its_expiry_is_dropped() {
    let policy = Policy::new(TimeZone::UTC).with_statement(
        StatementRule::new(
            "estado".parse().unwrap(),
            "FREQ=MONTHLY;BYMONTHDAY=1",
            d(2026, 1, 1),
        )
        .expires_after(3),
    );
    let planner = Planner::new(&policy).unwrap();
    // The monthly statement of Wednesday 2026-04-01 is missed (no tick that day); the
    // client is paused from Thursday to Friday 04-10.
    let clients = [client("acme", "UTC").with_pause(
        Pause::new(PauseKind::Promise, "pays on the 10th")
            .starting(d(2026, 4, 2))
            .until(d(2026, 4, 10)),
    )];
    let items = [invoice(
        "F-1",
        "acme",
        d(2026, 3, 1),
        d(2026, 5, 1),
        money("100", "USD"),
    )];
    let key = "estado/acme/2026-04-01";
    let mut history = Vec::new();
    let mut expired = false;
    for day in 2..=16 {
        let now = utc(2026, 4, day, 12, 0);
        let plan = planner
            .plan(&clients, &items, &history, now, Horizon::days(14))
            .unwrap();
        history.extend(plan.due().iter().map(|e| e.to_history(now)));
        let forecast: Vec<_> = plan.events().filter(|e| e.key.as_str() == key).collect();
        assert!(forecast.is_empty(), "04-{day}: {:#?}", lines(&plan));
        expired |= plan
            .suppressed()
            .iter()
            .any(|s| s.key.as_str() == key && matches!(s.reason, SuppressReason::Expired { .. }));
    }
    assert!(!history.iter().any(|h| h.key.as_str() == key), "{history:#?}");
    assert!(expired, "never said expired");
}

/// A daily rule with an expiry, missed before a pause and held by it: the repeats whose day
/// is more than `expires_after` days before the pause ends are dropped, each said expired on
/// its day, and the first still within its expiry goes at the start of the day after the
/// pause. A dropped repeat never went, so the next is spaced from the day it was to go,
/// not from the day it would have gone after the pause (spaced from that, every later
/// repeat moved past the horizon, and an open, overdue invoice was neither reminded about
/// nor explained). Client and item pauses alike.
#[test]
fn a_daily_rule_with_an_expiry_under_a_pause_sends_its_first_repeat_still_in_time() {
    for item_pause in [false, true] {
        let policy = Policy::new(TimeZone::from_name("America/New_York").unwrap())
            .with_rule(rule("daily", Anchor::Due, 0).repeat(1, 1000).expires_after(5));
        let planner = Planner::new(&policy).unwrap().with_lookback(1);
        let pause = Pause::new(PauseKind::Promise, "pays on the 18th")
            .starting(d(2026, 1, 10))
            .until(d(2026, 1, 18));
        let mut acme = client("acme", "America/New_York");
        let mut item = invoice("F-1", "acme", d(2025, 10, 7), d(2025, 11, 6), money("100", "USD"));
        if item_pause {
            item = item.with_pause(pause);
        } else {
            acme = acme.with_pause(pause);
        }
        // Repeat n is on 2025-11-06 plus n - 1 days: 67 on 01-11, 70 on 01-14.
        let plan = planner
            .plan(&[acme], &[item], &[], utc(2026, 1, 12, 12, 30), Horizon::days(7))
            .unwrap();
        let events: Vec<_> = plan.events().map(|e| (e.key.to_string(), e.send_at)).collect();
        assert_eq!(
            events,
            [("daily/F-1/70".to_owned(), utc(2026, 1, 19, 5, 0))],
            "{:#?}",
            lines(&plan)
        );
        let expired: Vec<_> = plan
            .suppressed()
            .iter()
            .filter(|s| matches!(s.reason, SuppressReason::Expired { days: 5 }))
            .map(|s| (s.key.to_string(), s.on))
            .collect();
        assert_eq!(
            expired,
            [
                ("daily/F-1/67".to_owned(), d(2026, 1, 11)),
                ("daily/F-1/68".to_owned(), d(2026, 1, 12)),
                ("daily/F-1/69".to_owned(), d(2026, 1, 13)),
            ],
            "{:#?}",
            lines(&plan)
        );
    }
}

/// Repeats a pause held back and then missed (no tick until days after the pause) that are
/// dropped as too late space the next from the day each was to go, never from the day the
/// pause moved it to: the catch-up is the latest repeat still within its expiry from its
/// own day, and none goes later than its expiry allows.
#[test]
fn repeats_paused_then_missed_expire_from_their_own_days() {
    let policy =
        Policy::new(TimeZone::UTC).with_rule(rule("daily", Anchor::Due, 0).repeat(1, 30).expires_after(2));
    let planner = Planner::new(&policy).unwrap().with_lookback(30);
    // Due (and first repeat) Monday 2026-01-05; the client is paused to Wednesday 01-07;
    // the host is down until Monday 01-12 at noon.
    let clients = [client("acme", "UTC").with_pause(
        Pause::new(PauseKind::Promise, "pays on the 7th")
            .starting(d(2026, 1, 5))
            .until(d(2026, 1, 7)),
    )];
    let items = [invoice(
        "F-1",
        "acme",
        d(2025, 12, 5),
        d(2026, 1, 5),
        money("100", "USD"),
    )];
    let plan = planner
        .plan(&clients, &items, &[], utc(2026, 1, 12, 12, 0), Horizon::NONE)
        .unwrap();
    // Repeat n is on 01-05 plus n - 1 days; 01-10 plus 2 days is today: repeat 6 is the
    // latest still in time.
    let due: Vec<_> = plan.due().iter().map(|e| e.key.to_string()).collect();
    assert_eq!(due, ["daily/F-1/6"], "{:#?}", lines(&plan));
    let expired: Vec<_> = plan
        .suppressed()
        .iter()
        .filter(|s| matches!(s.reason, SuppressReason::Expired { .. }))
        .map(|s| (s.key.to_string(), s.on))
        .collect();
    let want: Vec<_> = (1..=5)
        .map(|n| (format!("daily/F-1/{n}"), d(2026, 1, 4 + n)))
        .collect();
    assert_eq!(expired, want, "{:#?}", lines(&plan));
}
