//! Lasting stops are explained as of now: an open item that a rule would remind about now
//! (a catch-up) or within the horizon, held back by a stop that lasts, has its suppression in
//! the plan, dated within the plan's window, once per item and rule, however long ago its
//! reminder was first due. Settled items are not explained again every day.

mod common;

use std::collections::BTreeMap;

use chrono::NaiveDate;
use common::*;
use dunning::*;

/// What a plan says of each (item, rule): the reasons and days of its suppressions.
fn by_item_and_rule(plan: &Plan) -> BTreeMap<(String, String), Vec<(NaiveDate, SuppressReason)>> {
    let mut out: BTreeMap<_, Vec<_>> = BTreeMap::new();
    for s in plan.suppressed().iter() {
        out.entry((s.item_str().to_owned(), s.rule.to_string()))
            .or_default()
            .push((s.on, s.reason.clone()));
    }
    out
}

/// The reported case: the collection start for past invoices is 2026-01-01; an unpaid invoice
/// due 2025-12-01 planned on 2026-01-05 has no event, and now says why, dated today.
#[test]
fn an_invoice_before_the_collection_start_is_explained_as_of_now() {
    let policy = Policy::new(tz("UTC"))
        .with_rule(rule("overdue", Anchor::Due, 3).repeat(7, 3))
        .with_collection_start(CollectionStart {
            past_items: Some(d(2026, 1, 1)),
            new_items: None,
        });
    let planner = Planner::new(&policy).unwrap();
    let clients = [client("acme", "UTC")];
    let items = [invoice(
        "F-1",
        "acme",
        d(2025, 11, 1),
        d(2025, 12, 1),
        money("1000", "CLP"),
    )];
    let plan = planner
        .plan(&clients, &items, &[], utc(2026, 1, 5, 12, 0), Horizon::days(30))
        .unwrap();
    assert!(plan.events().next().is_none());
    assert_eq!(
        by_item_and_rule(&plan),
        BTreeMap::from([(
            ("F-1".to_owned(), "overdue".to_owned()),
            vec![(
                d(2026, 1, 5),
                SuppressReason::BeforeCollectionStart { start: d(2026, 1, 1) }
            )]
        )])
    );
    assert_eq!(
        plan.suppressed()[0].explain(),
        "invoice F-1 predates the collection start 2026-01-01: rule overdue never reminds it"
    );
}

/// Every lasting stop of an open item long overdue, planned on any day: one suppression per
/// item and rule, dated today.
#[test]
fn every_lasting_stop_of_an_open_item_is_explained_once_as_of_now() {
    let mut overrides = ClientOverrides::default();
    overrides
        .rules
        .insert("overdue".parse().unwrap(), RuleOverride::off());
    let off_client = client("off", "UTC").with_overrides(ClientOverrides {
        reminders: Some(false),
        ..ClientOverrides::default()
    });
    let rule_off = client("ruleoff", "UTC").with_overrides(overrides);
    let nobody = Client::new("nobody".parse().unwrap(), "Nobody").with_time_zone(tz("UTC"));
    let disputed = client("disputed", "UTC")
        .with_pause(Pause::new(PauseKind::Dispute, "objetada").starting(d(2025, 6, 1)));
    let clients = vec![client("acme", "UTC"), disputed, nobody, off_client, rule_off];
    let mut minimum = rule("overdue", Anchor::Due, 3).repeat(7, 3);
    minimum.when.min_balance = vec![money("100", "USD")];
    let policy = Policy::new(tz("UTC")).with_rule(minimum);
    let planner = Planner::new(&policy).unwrap();
    let old =
        |id: &str, client: &str, amount: Money| invoice(id, client, d(2025, 5, 1), d(2025, 6, 1), amount);
    let mut items = vec![
        old("A-small", "acme", money("5", "USD")),
        old("A-off", "acme", money("500", "USD")),
        old("D-1", "disputed", money("500", "USD")),
        old("N-1", "nobody", money("500", "USD")),
        old("O-1", "off", money("500", "USD")),
        old("R-1", "ruleoff", money("500", "USD")),
        // Paid long ago: not explained again every day.
        old("A-paid", "acme", money("500", "USD")).paid(money("500", "USD"), d(2025, 6, 2)),
    ];
    items[1].reminders = false;
    for (y, m, day) in [(2026, 1, 5), (2026, 7, 20), (2027, 3, 3)] {
        let now = utc(y, m, day, 12, 0);
        let today = d(y, m, day);
        let plan = planner
            .plan(&clients, &items, &[], now, Horizon::days(30))
            .unwrap();
        assert!(plan.events().next().is_none(), "{now}");
        let got = by_item_and_rule(&plan);
        let expected = BTreeMap::from(
            [
                ("A-off", SuppressReason::ItemRemindersOff),
                (
                    "A-small",
                    SuppressReason::BelowMinimumBalance {
                        minimum: money("100", "USD"),
                    },
                ),
                (
                    "D-1",
                    SuppressReason::Paused {
                        pause: PauseKind::Dispute,
                        reason: "objetada".into(),
                    },
                ),
                ("N-1", SuppressReason::NoRecipients),
                ("O-1", SuppressReason::ClientRemindersOff),
                ("R-1", SuppressReason::ExcludedForClient),
            ]
            .map(|(item, reason)| ((item.to_owned(), "overdue".to_owned()), vec![(today, reason)])),
        );
        assert_eq!(got, expected, "planned on {today}");
    }
}

/// A promise that began long ago and ends past the horizon holds the reminder back: the plan
/// says so, dated today, although the reminder's day is far behind.
#[test]
fn a_long_promise_past_the_horizon_is_explained_as_of_now() {
    let planner = Planner::new(&Policy::new(tz("UTC")).with_rule(rule("overdue", Anchor::Due, 0))).unwrap();
    let clients = [client("acme", "UTC")];
    let items = [
        invoice("F-1", "acme", d(2025, 1, 1), d(2025, 2, 1), money("10", "USD"))
            .with_pause(Pause::new(PauseKind::Promise, "pagará").until(d(2026, 12, 31))),
    ];
    let plan = planner
        .plan(&clients, &items, &[], utc(2026, 3, 1, 12, 0), Horizon::days(30))
        .unwrap();
    assert!(plan.events().next().is_none());
    assert_eq!(
        by_item_and_rule(&plan),
        BTreeMap::from([(
            ("F-1".to_owned(), "overdue".to_owned()),
            vec![(
                d(2026, 3, 1),
                SuppressReason::PausedUntil {
                    pause: PauseKind::Promise,
                    reason: "pagará".into(),
                    until: d(2026, 12, 31)
                }
            )]
        )])
    );
}

/// A repeating rule that reached its count long ago says so at every plan while the item is
/// open (once, dated today), not only on the day its next repeat would have been.
#[test]
fn a_count_reached_long_ago_is_explained_as_of_now() {
    let planner =
        Planner::new(&Policy::new(tz("UTC")).with_rule(rule("overdue", Anchor::Due, 0).repeat(7, 2)))
            .unwrap();
    let clients = [client("acme", "UTC")];
    let items = [invoice(
        "F-1",
        "acme",
        d(2025, 1, 1),
        d(2025, 2, 1),
        money("10", "USD"),
    )];
    let history: Vec<HistoryEntry> = [(1, d(2025, 2, 1)), (2, d(2025, 2, 8))]
        .into_iter()
        .map(|(n, day)| HistoryEntry {
            key: format!("overdue/F-1/{n}").into(),
            rule: Some("overdue".parse().unwrap()),
            client: "acme".parse().unwrap(),
            items: vec![HistoryItem {
                item: "F-1".parse().unwrap(),
                occurrence: n,
            }],
            sent_at: day.and_hms_opt(12, 0, 0).unwrap().and_utc(),
            outcome: HistoryOutcome::Sent,
        })
        .collect();
    let plan = planner
        .plan(
            &clients,
            &items,
            &history,
            utc(2026, 3, 1, 12, 0),
            Horizon::days(30),
        )
        .unwrap();
    assert_eq!(
        by_item_and_rule(&plan),
        BTreeMap::from([(
            ("F-1".to_owned(), "overdue".to_owned()),
            vec![(d(2026, 3, 1), SuppressReason::CountReached { count: 2 })]
        )])
    );
}

/// A catch-up held back by a pause that has ended names the pause in its explanation.
#[test]
fn a_catch_up_held_back_by_a_promise_names_it() {
    let planner = Planner::new(&Policy::new(tz("UTC")).with_rule(rule("overdue", Anchor::Due, 0))).unwrap();
    let clients = [client("acme", "UTC")];
    let items = [
        invoice("F-1", "acme", d(2026, 1, 1), d(2026, 2, 1), money("10", "USD"))
            .with_pause(Pause::new(PauseKind::Promise, "pagará").until(d(2026, 2, 10))),
    ];
    let plan = planner
        .plan(&clients, &items, &[], utc(2026, 3, 1, 12, 0), Horizon::NONE)
        .unwrap();
    let e = &plan.due()[0];
    assert_eq!(e.send_on, d(2026, 2, 11));
    assert_eq!(
        e.explain(),
        "invoice F-1 was due on 2026-02-01 and is unpaid; rule overdue fires on the due date; held \
         back by a payment promise until 2026-02-10; scheduled for 2026-02-11 and not sent then, so \
         it goes now (catch-up)"
    );
}

/// A statement held back by a lasting stop (reminders off for the client) is explained in
/// every plan, as of now, once per statement rule, while the client owes something.
#[test]
fn a_blocked_statement_is_explained_as_of_now() {
    let policy = Policy::new(tz("UTC")).with_statement(StatementRule::new(
        "monthly".parse().unwrap(),
        "FREQ=MONTHLY;BYMONTHDAY=1",
        d(2025, 1, 1),
    ));
    let planner = Planner::new(&policy).unwrap();
    let clients = [client("acme", "UTC").with_overrides(ClientOverrides {
        reminders: Some(false),
        ..ClientOverrides::default()
    })];
    let items = [invoice(
        "F-1",
        "acme",
        d(2025, 1, 1),
        d(2025, 2, 1),
        money("10", "USD"),
    )];
    for (m, day) in [(3, 20), (7, 15)] {
        let plan = planner
            .plan(&clients, &items, &[], utc(2026, m, day, 12, 0), Horizon::days(5))
            .unwrap();
        let entries: Vec<(NaiveDate, SuppressReason)> = plan
            .suppressed()
            .iter()
            .filter(|s| s.rule.as_str() == "monthly")
            .map(|s| (s.on, s.reason.clone()))
            .collect();
        assert_eq!(
            entries,
            [(d(2026, m, day), SuppressReason::ClientRemindersOff)],
            "on {m}-{day}"
        );
    }
}

/// A reminder that failed for good (a bounced address) stays explained in every plan while
/// its item is open and nothing later was tried for that rule - not only for the week the
/// failure is in the lookback window; once the item is paid it is no longer explained.
#[test]
fn a_failed_delivery_is_explained_as_of_now_while_its_item_is_open() {
    let planner = Planner::new(&Policy::new(tz("UTC")).with_rule(rule("due-today", Anchor::Due, 0))).unwrap();
    let clients = [client("acme", "UTC")];
    let mut items = vec![invoice(
        "F-1",
        "acme",
        d(2026, 3, 1),
        d(2026, 4, 1),
        money("10", "USD"),
    )];
    let history = vec![HistoryEntry {
        key: "due-today/F-1/1".into(),
        rule: Some("due-today".parse().unwrap()),
        client: "acme".parse().unwrap(),
        items: vec![HistoryItem {
            item: "F-1".parse().unwrap(),
            occurrence: 1,
        }],
        sent_at: utc(2026, 4, 1, 12, 0),
        outcome: HistoryOutcome::Failed {
            error: "550 no such user".into(),
        },
    }];
    for day in [3, 20, 30] {
        let on = d(2026, 4, day);
        let plan = planner
            .plan(
                &clients,
                &items,
                &history,
                utc(2026, 4, day, 12, 0),
                Horizon::NONE,
            )
            .unwrap();
        let got: Vec<(NaiveDate, String)> = plan
            .suppressed()
            .iter()
            .map(|s| (s.on, s.reason.kind().as_str().to_owned()))
            .collect();
        let expected_on = if day == 3 { d(2026, 4, 1) } else { on };
        assert_eq!(
            got,
            [(expected_on, "delivery_failed".to_owned())],
            "planned on {on}"
        );
    }
    items[0] = items[0].clone().paid(money("10", "USD"), d(2026, 4, 25));
    let plan = planner
        .plan(&clients, &items, &history, utc(2026, 4, 30, 12, 0), Horizon::NONE)
        .unwrap();
    assert!(
        plan.suppressed().is_empty(),
        "{:?}",
        plan.suppressed()
            .iter()
            .map(Suppressed::explain)
            .collect::<Vec<_>>()
    );
}

/// An invoice of zero (a fully discounted order, say) owes nothing: no reminder chases it,
/// before, on or after its due date, and the planner does not thank anyone for paying it.
#[test]
fn an_invoice_of_zero_is_not_chased() {
    let policy = Policy::new(tz("UTC"))
        .with_rule(rule("before", Anchor::Due, -3))
        .with_rule(rule("overdue", Anchor::Due, 3).repeat(7, 3))
        .with_rule(rule("thanks", Anchor::Paid, 0));
    let planner = Planner::new(&policy).unwrap();
    let clients = [client("acme", "UTC")];
    let items = [
        invoice("F-0", "acme", d(2026, 3, 1), d(2026, 3, 31), money("0", "USD")),
        invoice("F-1", "acme", d(2026, 3, 1), d(2026, 3, 31), money("10", "USD")),
    ];
    let plan = planner
        .plan(&clients, &items, &[], utc(2026, 3, 20, 12, 0), Horizon::days(60))
        .unwrap();
    let f0 = ItemId::new("F-0").unwrap();
    let f1 = ItemId::new("F-1").unwrap();
    let events: Vec<&Event> = plan.events().collect();
    assert!(
        events.iter().any(|e| e.covers(&f1)),
        "the control invoice is reminded"
    );
    assert!(
        !events.iter().any(|e| e.covers(&f0)),
        "the zero invoice is reminded: {:?}",
        events.iter().map(|e| e.key.as_str()).collect::<Vec<_>>()
    );
}

/// A standing notice whose oldest item is under a payment promise on its day waits: until
/// another item gets the client there, which it is then about. Two invoices; the older one
/// reaches 30 days overdue on 2026-03-03, the day a payment promise on it starts (to the
/// 20th); the newer one on 2026-03-17, when the notice goes, about it. (It went unexplained;
/// then it waited for the promise's end.)
#[test]
fn a_standing_notice_held_by_its_oldest_items_pause_is_explained() {
    let policy = Policy::new(tz("UTC")).with_standing(StandingRule::new(30, 60));
    let planner = Planner::new(&policy).unwrap();
    let clients = [client("acme", "UTC")];
    let closing = policy.standing.as_ref().unwrap().closing_soon_id.clone();
    let promise = Pause::new(PauseKind::Promise, "paga el 20")
        .starting(d(2026, 3, 3))
        .until(d(2026, 3, 20));
    let items = [
        invoice("F-1", "acme", d(2026, 1, 1), d(2026, 2, 1), money("100", "USD")).with_pause(promise),
        invoice("F-2", "acme", d(2026, 1, 15), d(2026, 2, 15), money("100", "USD")),
    ];
    let plan = planner
        .plan(&clients, &items, &[], utc(2026, 3, 1, 12, 0), Horizon::days(20))
        .unwrap();
    let up: Vec<&Event> = plan.events().filter(|e| e.rule == closing).collect();
    assert_eq!(up.len(), 1, "{:?}", common::lines(&plan));
    assert_eq!(up[0].send_on, d(2026, 3, 17));
    let listed: Vec<_> = up[0].items.iter().map(|i| i.item.as_str()).collect();
    assert_eq!(listed, ["F-2"]);
    assert!(
        up[0]
            .explain()
            .starts_with("the oldest unpaid item F-2 was due on 2026-02-15; the client reaches 30 day(s) overdue on 2026-03-17"),
        "{}",
        up[0].explain()
    );
    assert!(
        !plan.suppressed().iter().any(|s| s.rule == closing),
        "{:?}",
        plan.suppressed()
    );
    // The promise over, the notice goes.
    let plan = planner
        .plan(&clients, &items, &[], utc(2026, 3, 21, 12, 0), Horizon::NONE)
        .unwrap();
    assert_eq!(
        plan.due().iter().map(|e| e.rule.clone()).collect::<Vec<_>>(),
        vec![closing],
        "{:?}",
        common::lines(&plan)
    );
}

/// A pause to the calendar's last day holds for good: a missed reminder it holds back is
/// explained as of now, as under a pause without end (it vanished from the plan: no event, no
/// suppression; a pause to the day before worked).
#[test]
fn a_pause_to_the_last_day_of_the_calendar_is_explained_as_of_now() {
    let now = utc(2026, 3, 10, 12, 0);
    let policy = Policy::new(tz("UTC")).with_rule(rule("late", Anchor::Due, 1).repeat(7, 3));
    let planner = Planner::new(&policy).unwrap();
    for (from, until) in [
        (None, chrono::NaiveDate::MAX),
        (Some(chrono::NaiveDate::MIN), chrono::NaiveDate::MAX),
    ] {
        let mut pause = Pause::new(PauseKind::Promise, "x").until(until);
        pause.from = from;
        let item = invoice("F", "c", d(2026, 1, 1), d(2026, 2, 1), money("1", "USD")).with_pause(pause);
        let plan = planner
            .plan(&[client("c", "UTC")], &[item], &[], now, Horizon::days(30))
            .unwrap();
        let said: Vec<_> = plan
            .suppressed()
            .iter()
            .map(|s| (s.key.to_string(), s.on, s.reason.kind()))
            .collect();
        assert_eq!(
            said,
            [("late/F/1".to_owned(), d(2026, 3, 10), SuppressReasonKind::Paused)],
            "{:#?}",
            lines(&plan)
        );
    }
}

/// An open item no rule reminds about says why, once per rule, as of now: the rules are for
/// other kinds of item, or for clients with tags its client lacks (it was silent: a proposal
/// never reminded about had nothing in the plan). An item some rule reminds about, and a
/// settled one, say nothing of the rules that are not for them.
#[test]
fn an_item_no_rule_is_for_says_why_as_of_now() {
    let policy = Policy::new(tz("UTC"))
        .with_rule(rule("overdue", Anchor::Due, 3).for_kinds([ItemKind::Invoice]))
        .with_rule(
            rule("vip-issued", Anchor::Issued, 0)
                .for_kinds([ItemKind::Invoice, ItemKind::Proposal])
                .for_client_tags(["vip", "gold"]),
        )
        .with_rule(rule("thanks", Anchor::Paid, 0).for_kinds([ItemKind::Invoice]));
    let planner = Planner::new(&policy).unwrap();
    let clients = [client("acme", "UTC")];
    let proposal = |id: &str| {
        Item::action(
            id.parse().unwrap(),
            "acme".parse().unwrap(),
            ItemKind::Proposal,
            d(2025, 6, 1),
        )
    };
    let signed = proposal("P-2").with_status(ItemStatus::Completed);
    let items = [
        proposal("P-1"),
        signed,
        invoice("F-1", "acme", d(2026, 3, 1), d(2026, 3, 31), money("10", "USD")),
    ];
    let now = utc(2026, 3, 5, 12, 0);
    let plan = planner
        .plan(&clients, &items, &[], now, Horizon::days(3))
        .unwrap();
    let said = by_item_and_rule(&plan);
    let of = |item: &str, rule: &str| {
        said.get(&(item.to_owned(), rule.to_owned()))
            .cloned()
            .unwrap_or_default()
    };
    assert_eq!(
        of("P-1", "overdue"),
        vec![(
            d(2026, 3, 5),
            SuppressReason::ExcludedKind {
                kinds: vec![ItemKind::Invoice]
            }
        )],
        "{said:#?}"
    );
    assert_eq!(
        of("P-1", "vip-issued"),
        vec![(
            d(2026, 3, 5),
            SuppressReason::NotForClientTags {
                tags: vec!["vip".into(), "gold".into()]
            }
        )],
        "{said:#?}"
    );
    // A thank-you is not a reminder: not said of an open item.
    assert!(of("P-1", "thanks").is_empty(), "{said:#?}");
    let sentence = plan
        .suppressed()
        .iter()
        .find(|s| s.item_str() == "P-1" && s.rule.as_str() == "overdue")
        .map(Suppressed::explain)
        .unwrap();
    assert!(
        sentence.contains("rule overdue is for invoice only, and no rule reminds about it"),
        "{sentence}"
    );
    assert!(of("P-2", "overdue").is_empty(), "{said:#?}");
    assert!(of("F-1", "vip-issued").is_empty(), "{said:#?}");
    // Once a rule is for the proposal, the others say nothing of it.
    let covered = policy.clone().with_rule(rule("pending", Anchor::Sent, 7));
    let plan = Planner::new(&covered)
        .unwrap()
        .plan(&clients, &items, &[], now, Horizon::days(3))
        .unwrap();
    let kinds: Vec<_> = plan
        .suppressed()
        .iter()
        .filter(|s| {
            matches!(
                s.reason.kind(),
                SuppressReasonKind::ExcludedKind | SuppressReasonKind::NotForClientTags
            )
        })
        .map(|s| (s.item_str().to_owned(), s.rule.to_string()))
        .collect();
    assert!(kinds.is_empty(), "{kinds:?}");
    assert!(
        plan.events().any(|e| e.rule.as_str() == "pending"),
        "{:#?}",
        lines(&plan)
    );
}

/// A standing notice (or statement) that failed for good stays explained as of now while
/// the client has an open item and nothing later of that rule was tried: it was explained
/// only the week the failure was in the window, then the plan said nothing of it.
#[test]
fn a_failed_account_notice_is_explained_as_of_now_while_the_client_owes() {
    let planner = Planner::new(&Policy::new(tz("UTC")).with_standing(StandingRule::new(30, 60))).unwrap();
    let clients = [client("acme", "UTC")];
    let mut items = vec![invoice(
        "F-1",
        "acme",
        d(2026, 2, 1),
        d(2026, 3, 1),
        money("10", "USD"),
    )];
    let history = vec![HistoryEntry {
        key: "closing-soon/acme/2026-03-31".into(),
        rule: Some("closing-soon".parse().unwrap()),
        client: "acme".parse().unwrap(),
        items: vec![HistoryItem {
            item: "F-1".parse().unwrap(),
            occurrence: 1,
        }],
        sent_at: utc(2026, 3, 31, 12, 0),
        outcome: HistoryOutcome::Failed {
            error: "550 no such user".into(),
        },
    }];
    for day in [2, 20] {
        let now = utc(2026, 4, day, 12, 0);
        let plan = planner
            .plan(&clients, &items, &history, now, Horizon::NONE)
            .unwrap();
        let got: Vec<(NaiveDate, String)> = plan
            .suppressed()
            .iter()
            .filter(|s| s.key.as_str() == "closing-soon/acme/2026-03-31")
            .map(|s| (s.on, s.reason.kind().as_str().to_owned()))
            .collect();
        let expected_on = if day == 2 { d(2026, 3, 31) } else { d(2026, 4, day) };
        assert_eq!(
            got,
            [(expected_on, "delivery_failed".to_owned())],
            "planned on {now}"
        );
    }
    items[0] = items[0].clone().paid(money("10", "USD"), d(2026, 4, 25));
    let plan = planner
        .plan(&clients, &items, &history, utc(2026, 4, 30, 12, 0), Horizon::NONE)
        .unwrap();
    assert!(plan.suppressed().is_empty(), "{:?}", plan.suppressed());
}

/// An open item that nothing reminds about because the rules for it count from a date it
/// lacks (an action with no due date; an invoice whose due date would fall past the end of
/// the calendar) says why, as of now, once per such rule (it had no event and no
/// explanation at all). An item another rule does remind about says nothing of it.
#[test]
fn an_item_without_the_date_its_rules_count_from_says_so() {
    let policy = Policy::new(tz("UTC"))
        .with_rule(rule("overdue", Anchor::Due, 0))
        .with_rule(rule("late", Anchor::Due, 7));
    let planner = Planner::new(&policy).unwrap();
    let clients = [client("acme", "UTC")];
    let proposal = Item::action(
        "P-1".parse().unwrap(),
        "acme".parse().unwrap(),
        ItemKind::Proposal,
        d(2026, 3, 1),
    );
    let last = NaiveDate::MAX.checked_sub_days(chrono::Days::new(5)).unwrap();
    let at_the_end = invoice("F-9", "acme", last, last, money("10", "USD"));
    let at_the_end = Item {
        due_on: None,
        ..at_the_end
    };
    let now = utc(2026, 4, 1, 12, 0);
    for item in [proposal, at_the_end] {
        let plan = planner
            .plan(&clients, std::slice::from_ref(&item), &[], now, Horizon::days(30))
            .unwrap();
        assert!(plan.due().is_empty() && plan.upcoming().is_empty(), "{plan:#?}");
        let said: Vec<(&str, &SuppressReason, NaiveDate)> = plan
            .suppressed()
            .iter()
            .map(|s| (s.rule.as_str(), &s.reason, s.on))
            .collect();
        let none = SuppressReason::NoDateToCountFrom { anchor: Anchor::Due };
        assert_eq!(
            said,
            [("late", &none, d(2026, 4, 1)), ("overdue", &none, d(2026, 4, 1))],
            "{}",
            item.id
        );
        let text = plan.suppressed()[0].explain();
        assert!(text.contains("due date"), "{text}");
    }
    // An action the pending-action rule reminds about: nothing said of the due-date rules.
    let with_action = Policy::new(tz("UTC"))
        .with_rule(rule("overdue", Anchor::Due, 0))
        .with_rule(Rule::pending_action("pending".parse().unwrap()));
    let form = Item::action(
        "P-2".parse().unwrap(),
        "acme".parse().unwrap(),
        ItemKind::Form,
        d(2026, 3, 30),
    );
    let plan = Planner::new(&with_action)
        .unwrap()
        .plan(&clients, &[form], &[], now, Horizon::days(30))
        .unwrap();
    assert!(!plan.upcoming().is_empty() || !plan.due().is_empty(), "{plan:#?}");
    assert!(
        !plan
            .suppressed()
            .iter()
            .any(|s| matches!(s.reason, SuppressReason::NoDateToCountFrom { .. })),
        "{plan:#?}"
    );
}

/// A "due soon" (06-09) the minimum gap holds back past its due date (06-10, after F-2's
/// reminder of 06-08) into a pause without end that begins the day the gap lets it go (06-11)
/// was too late first: said too late, on its due date, in every plan, as it is when the pause
/// begins a day later (before, every plan said it paused on 06-11).
#[test]
fn a_due_soon_the_gap_holds_into_a_later_pause_without_end_is_too_late() {
    use common::host::*;
    let policy = utc_policy()
        .with_min_gap(3)
        .with_rule(rule("issued", Anchor::Issued, 0))
        .with_rule(rule("soon", Anchor::Due, -1));
    let f1 = invoice("F-1", "c", june(1), june(10), usd("10"))
        .with_pause(Pause::new(PauseKind::Dispute, "disputed").starting(june(11)));
    let f2 = invoice("F-2", "c", june(8), june(30), usd("10"));
    let run = host(
        &policy,
        &[utc_client("c")],
        &[f1, f2],
        &daily(june(2), june(20), 10, &[]),
        &[],
    );
    assert_says(
        &run,
        "soon/F-1/1",
        at10(2),
        at10(17),
        &["DueSoonAfterDue { due: 2026-06-10 } on 2026-06-10"],
    );
}

/// A "closing soon" whose day (04-02) had left the lookback when the "closed" that superseded
/// it went (a host down from 04-01 to 04-12; the catch-up of 04-13 sends "closed" only) is
/// said superseded on the day "closed" went, as the plan that sent it said, while that day
/// is within the lookback (before, the plans after that send said nothing of it: its own
/// day was out of their window).
#[test]
fn a_closing_soon_superseded_by_a_late_closed_stays_said_after_it_went() {
    use common::host::*;
    let policy = utc_policy().with_standing(StandingRule::new(1, 3));
    let f1 = invoice("F-1", "c", june(1), june(1), usd("10"));
    let mut ticks = daily(june(13), june(22), 10, &[]);
    ticks.insert(0, at10(1));
    let run = host(&policy, &[utc_client("c")], &[f1], &ticks, &[]);
    assert_says(
        &run,
        "closing-soon/c/2026-06-02",
        at10(13),
        at10(20),
        &["Superseded(closed/c/2026-06-04) on 2026-06-13"],
    );
}
