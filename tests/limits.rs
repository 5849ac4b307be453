//! Limits: the ends of the calendar, the largest counts, spacings, gaps and horizons, and
//! occurrences past `u32::MAX`. Each gives a plan, a typed error or a documented saturated
//! meaning: never a panic, a hang, or a value that silently means something else.

mod common;

use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use common::*;
use dunning::*;

const ZONES: [&str; 5] = [
    "UTC",
    "Pacific/Kiritimati",
    "Pacific/Pago_Pago",
    "America/Santiago",
    "Australia/Lord_Howe",
];

#[test]
fn local_instants_at_the_ends_of_the_calendar_saturate() {
    for zone in ZONES {
        for date in [NaiveDate::MIN, NaiveDate::MAX] {
            for time in [NaiveTime::MIN, t(9, 0), t(23, 59)] {
                let at = local_instant(tz(zone), date, time);
                // Within chrono's instants, and on the right side of them.
                if date == NaiveDate::MIN {
                    assert!(at < utc(-200_000, 1, 1, 0, 0), "{zone} {date} {time}: {at}");
                } else {
                    assert!(at > utc(200_000, 1, 1, 0, 0), "{zone} {date} {time}: {at}");
                }
            }
        }
    }
    // Inside the calendar nothing changes.
    assert_eq!(
        local_instant(tz("America/Santiago"), d(2026, 7, 1), t(9, 0)),
        utc(2026, 7, 1, 13, 0)
    );
}

fn extreme_policy() -> Policy {
    Policy::new(TimeZone::UTC)
        .with_calendar(BusinessCalendar::new(
            [chrono::Weekday::Sun],
            [NaiveDate::MIN, NaiveDate::MAX],
        ))
        .with_rule(rule("issued", Anchor::Issued, 0))
        .with_rule(rule("due-soon", Anchor::Due, -(limits::MAX_DAYS as i32)))
        .with_rule(
            rule("overdue", Anchor::Due, limits::MAX_DAYS as i32).repeat(limits::MAX_DAYS, limits::MAX_COUNT),
        )
        .with_rule(Rule::pending_action("pending".parse().unwrap()))
        .with_min_gap(limits::MAX_DAYS)
        .with_statement(StatementRule::new(
            "monthly".parse().unwrap(),
            "FREQ=MONTHLY;BYMONTHDAY=1",
            d(2026, 1, 1),
        ))
        .with_standing(StandingRule::new(1, limits::MAX_DAYS))
}

#[test]
fn plans_at_the_ends_of_time_are_plans_or_typed_errors() {
    let planner = Planner::new(&extreme_policy()).unwrap();
    let clients: Vec<Client> = ZONES
        .iter()
        .enumerate()
        .map(|(i, z)| client(&format!("c{i}"), z))
        .collect();
    let mut items = Vec::new();
    for (i, c) in clients.iter().enumerate() {
        for (j, (issued, due)) in [
            (NaiveDate::MIN, NaiveDate::MIN),
            (NaiveDate::MIN, NaiveDate::MAX),
            (NaiveDate::MAX, NaiveDate::MAX),
            (d(2026, 1, 1), NaiveDate::MAX),
            (d(2026, 1, 1), d(2026, 2, 1)),
        ]
        .into_iter()
        .enumerate()
        {
            items.push(invoice(
                &format!("i{i}-{j}"),
                c.id.as_str(),
                issued,
                due,
                money("1", "USD"),
            ));
        }
        items.push(
            Item::action(
                format!("a{i}").parse().unwrap(),
                c.id.clone(),
                ItemKind::Form,
                NaiveDate::MAX,
            )
            .with_pause(Pause::new(PauseKind::Hold, "to the end").until(NaiveDate::MAX)),
        );
    }
    let history = vec![HistoryEntry {
        key: "overdue/i0-4/7".into(),
        rule: Some("overdue".parse().unwrap()),
        client: "c0".parse().unwrap(),
        items: vec![HistoryItem {
            item: "i0-4".parse().unwrap(),
            occurrence: 7,
        }],
        sent_at: DateTime::<Utc>::MAX_UTC,
        outcome: HistoryOutcome::Sent,
    }];
    for now in [
        DateTime::<Utc>::MIN_UTC,
        DateTime::<Utc>::MIN_UTC + Duration::days(1),
        utc(2026, 3, 1, 12, 0),
        DateTime::<Utc>::MAX_UTC - Duration::days(1),
        DateTime::<Utc>::MAX_UTC,
    ] {
        for horizon in [0, 1, 30, limits::MAX_HORIZON_DAYS] {
            match planner.plan(&clients, &items, &history, now, Horizon::days(horizon)) {
                Ok(plan) => {
                    for e in plan.due().iter() {
                        assert!(e.send_at <= now);
                    }
                    let json = serde_json::to_string(&plan).unwrap();
                    assert_eq!(serde_json::from_str::<Plan>(&json).unwrap(), plan);
                }
                Err(ValidationError::OutOfRange { field, .. }) => {
                    assert_eq!(field, "horizon", "{now} + {horizon} days");
                    assert!(now > utc(200_000, 1, 1, 0, 0), "{now} + {horizon} days refused");
                }
                Err(e) => panic!("{now} + {horizon} days: {e}"),
            }
        }
    }
}

#[test]
fn a_horizon_past_the_limit_is_refused_by_name() {
    let planner = Planner::new(&seed001_policy("UTC")).unwrap();
    let err = planner
        .plan(
            &[],
            &[],
            &[],
            utc(2026, 1, 1, 0, 0),
            Horizon::days(limits::MAX_HORIZON_DAYS + 1),
        )
        .unwrap_err();
    assert_eq!(
        err,
        ValidationError::OverLimit {
            field: "plan: horizon".into(),
            value: "3661".into(),
            max: "3660".into()
        }
    );
    assert!(
        planner
            .schedule(&[], &[], &[], utc(2026, 1, 1, 0, 0), Horizon::days(u32::MAX))
            .is_err()
    );
}

#[test]
fn counts_spacings_offsets_and_gaps_past_the_limits_are_refused_by_name() {
    let base = || Policy::new(TimeZone::UTC);
    let cases: Vec<(Policy, &str)> = vec![
        (
            base().with_rule(rule("r", Anchor::Due, 0).repeat(1, u32::MAX)),
            "rule r: count 4294967295 is over the limit of 10000",
        ),
        (
            base().with_rule(rule("r", Anchor::Due, 0).repeat(u32::MAX, 2)),
            "rule r: every_days 4294967295 is over the limit of 36600",
        ),
        (
            base().with_rule(rule("r", Anchor::Due, i32::MIN)),
            "rule r: offset_days -2147483648 is over the limit of 36600",
        ),
        (
            base().with_rule(rule("r", Anchor::Due, i32::MAX)),
            "rule r: offset_days 2147483647 is over the limit of 36600",
        ),
        (
            base().with_min_gap(u32::MAX),
            "policy: min_gap_days 4294967295 is over the limit of 36600",
        ),
        (
            base().with_rule(rule("r", Anchor::Due, 0).expires_after(u32::MAX)),
            "rule r: expires_after_days 4294967295 is over the limit of 36600",
        ),
        (
            base().with_standing(StandingRule::new(1, u32::MAX)),
            "policy.standing: closed_after_days 4294967295 is over the limit of 36600",
        ),
    ];
    for (policy, message) in cases {
        let err = Planner::new(&policy).unwrap_err();
        assert!(matches!(err, ValidationError::OverLimit { .. }), "{err}");
        assert_eq!(err.to_string(), message);
    }

    // The same values as a client's overrides and an item's settings.
    let planner = Planner::new(&seed001_policy("UTC")).unwrap();
    let overrides = |o: ClientOverrides| client("acme", "UTC").with_overrides(o);
    let mut rules = std::collections::BTreeMap::new();
    rules.insert(
        "overdue".parse().unwrap(),
        RuleOverride {
            count: Some(u32::MAX),
            ..RuleOverride::default()
        },
    );
    for (c, message) in [
        (
            overrides(ClientOverrides {
                min_gap_days: Some(u32::MAX),
                ..ClientOverrides::default()
            }),
            "client acme: overrides.min_gap_days 4294967295 is over the limit of 36600",
        ),
        (
            overrides(ClientOverrides {
                rules,
                ..ClientOverrides::default()
            }),
            "client acme: overrides.rules.overdue.count 4294967295 is over the limit of 10000",
        ),
    ] {
        assert_eq!(planner.check(&[c], &[]).unwrap_err().to_string(), message);
    }
    let mut item = invoice("F-1", "acme", d(2026, 1, 1), d(2026, 2, 1), money("1", "USD"));
    item.reminder_every_days = Some(u32::MAX);
    assert_eq!(
        planner
            .check(&[client("acme", "UTC")], &[item.clone()])
            .unwrap_err()
            .to_string(),
        "item F-1: reminder_every_days 4294967295 is over the limit of 36600"
    );
    item.reminder_every_days = None;
    item.reminder_count = Some(u32::MAX);
    assert_eq!(
        planner
            .check(&[client("acme", "UTC")], &[item])
            .unwrap_err()
            .to_string(),
        "item F-1: reminder_count 4294967295 is over the limit of 10000"
    );
}

/// The largest gap holds every later message back (it never means "no gap").
#[test]
fn the_largest_minimum_gap_holds_every_later_message_back() {
    let policy = Policy::new(TimeZone::UTC)
        .with_rule(rule("issued", Anchor::Issued, 0))
        .with_rule(rule("overdue", Anchor::Due, 0))
        .with_min_gap(limits::MAX_DAYS);
    let planner = Planner::new(&policy).unwrap();
    let clients = [client("acme", "UTC")];
    let items = [
        invoice("F-1", "acme", d(2026, 1, 5), d(2026, 1, 20), money("1", "USD")),
        invoice("F-2", "acme", d(2026, 1, 6), d(2026, 1, 21), money("1", "USD")),
    ];
    let history = simulate(
        &planner,
        &clients,
        &items,
        utc(2026, 1, 1, 12, 0),
        utc(2026, 3, 1, 12, 0),
        Duration::days(1),
    );
    let keys: Vec<&str> = history.iter().map(|h| h.key.as_str()).collect();
    assert_eq!(keys, ["issued/F-1/1"], "one message, then the gap holds the rest");
    let plan = planner
        .plan(
            &clients,
            &items,
            &history,
            utc(2026, 1, 6, 12, 0),
            Horizon::days(30),
        )
        .unwrap();
    assert!(plan.events().next().is_none());
    assert!(
        plan.suppressed().iter().any(|s| s.key.as_str() == "issued/F-2/1"
            && s.reason
                == SuppressReason::Deferred {
                    gap_days: limits::MAX_DAYS
                }),
        "{:#?}",
        plan.suppressed()
            .iter()
            .map(Suppressed::explain)
            .collect::<Vec<_>>()
    );
}

/// A history entry with occurrence `u32::MAX` (a count reached, or a corrupt record) stops
/// the rule for the item, explained, without overflowing.
#[test]
fn a_history_occurrence_of_u32_max_stops_the_rule() {
    let policy =
        Policy::new(TimeZone::UTC).with_rule(rule("overdue", Anchor::Due, 0).repeat(1, limits::MAX_COUNT));
    let planner = Planner::new(&policy).unwrap();
    let clients = [client("acme", "UTC")];
    let items = [invoice(
        "F-1",
        "acme",
        d(2026, 1, 1),
        d(2026, 1, 10),
        money("1", "USD"),
    )];
    let history = vec![HistoryEntry {
        key: format!("overdue/F-1/{}", u32::MAX).into(),
        rule: Some("overdue".parse().unwrap()),
        client: "acme".parse().unwrap(),
        items: vec![HistoryItem {
            item: "F-1".parse().unwrap(),
            occurrence: u32::MAX,
        }],
        sent_at: utc(2026, 1, 10, 12, 0),
        outcome: HistoryOutcome::Sent,
    }];
    let plan = planner
        .plan(
            &clients,
            &items,
            &history,
            utc(2026, 1, 11, 12, 0),
            Horizon::days(30),
        )
        .unwrap();
    assert!(plan.events().next().is_none());
    assert!(plan.suppressed().iter().any(|s| matches!(
        s.reason,
        SuppressReason::CountReached { count } if count == limits::MAX_COUNT
    )));
}

/// The largest count and spacing, resumed from history, plan without overflowing.
#[test]
fn the_largest_count_and_spacing_resume_from_history() {
    let policy = Policy::new(TimeZone::UTC)
        .with_rule(rule("overdue", Anchor::Due, 0).repeat(limits::MAX_DAYS, limits::MAX_COUNT));
    let planner = Planner::new(&policy).unwrap();
    let clients = [client("acme", "UTC")];
    let items = [invoice(
        "F-1",
        "acme",
        d(2026, 1, 1),
        d(2026, 1, 10),
        money("1", "USD"),
    )];
    let history = vec![HistoryEntry {
        key: format!("overdue/F-1/{}", limits::MAX_COUNT - 1).into(),
        rule: Some("overdue".parse().unwrap()),
        client: "acme".parse().unwrap(),
        items: vec![HistoryItem {
            item: "F-1".parse().unwrap(),
            occurrence: limits::MAX_COUNT - 1,
        }],
        sent_at: utc(2026, 1, 10, 12, 0),
        outcome: HistoryOutcome::Sent,
    }];
    for (now, horizon) in [
        (utc(2026, 1, 11, 12, 0), 30),
        (DateTime::<Utc>::MAX_UTC - Duration::days(1), 0),
    ] {
        let plan = planner
            .plan(&clients, &items, &history, now, Horizon::days(horizon))
            .unwrap();
        // The last occurrence would be ~100 years after the last send: not in this plan.
        assert!(plan.due().is_empty(), "{now}");
    }
}

#[test]
fn a_manual_clock_advanced_past_the_end_of_time_stops_there() {
    let clock = ManualClock::new(DateTime::<Utc>::MAX_UTC - Duration::days(1));
    clock.advance(Duration::days(2));
    assert_eq!(clock.now(), DateTime::<Utc>::MAX_UTC);
    clock.advance(Duration::MAX);
    assert_eq!(clock.now(), DateTime::<Utc>::MAX_UTC);
    // Never backwards.
    clock.advance(Duration::MIN);
    assert_eq!(clock.now(), DateTime::<Utc>::MAX_UTC);
}

#[tokio::test]
async fn an_endless_at_least_once_lease_is_never_reclaimed() {
    let policy = Policy::new(TimeZone::UTC).with_rule(rule("overdue", Anchor::Due, 0));
    let clients = vec![client("acme", "UTC")];
    let items = vec![invoice(
        "F-1",
        "acme",
        d(2026, 1, 1),
        d(2026, 1, 10),
        money("1", "USD"),
    )];
    let store = Arc::new(MemoryStore::new(clients, items));
    let now = utc(2026, 1, 10, 12, 0);
    // A claim left by a crashed dispatcher.
    store.claim(&"overdue/F-1/1".into(), now, None).await.unwrap();
    let mailer = Arc::new(RecordingMailer::new());
    let dispatcher = Dispatcher::new(store.clone(), mailer.clone(), &policy)
        .unwrap()
        .with_options(
            DispatchOptions::default().with_guarantee(Guarantee::AtLeastOnce { lease_secs: u64::MAX }),
        )
        .unwrap();
    for days in [1, 365, 10_000] {
        let report = dispatcher.tick(now + Duration::days(days)).await.unwrap();
        assert!(report.sent().next().is_none(), "reclaimed after {days} days");
    }
    assert!(mailer.sent().is_empty());
}

/// A gap that runs past the end of the calendar holds back to the end: an overflowing step
/// means "never", not "now".
#[test]
fn a_gap_past_the_end_of_the_calendar_means_never() {
    let policy = Policy::new(TimeZone::UTC)
        .with_rule(rule("issued", Anchor::Issued, 0))
        .with_min_gap(30);
    let planner = Planner::new(&policy).unwrap();
    let clients = [client("acme", "UTC")];
    let end = DateTime::<Utc>::MAX_UTC;
    let last_day = end.date_naive();
    let items = [
        invoice(
            "F-1",
            "acme",
            last_day - Duration::days(9),
            last_day,
            money("1", "USD"),
        ),
        invoice(
            "F-2",
            "acme",
            last_day - Duration::days(3),
            last_day,
            money("1", "USD"),
        ),
    ];
    let history = vec![Event::to_history(
        &planner
            .plan(&clients, &items[..1], &[], end - Duration::days(9), Horizon::NONE)
            .unwrap()
            .due()[0],
        end - Duration::days(9),
    )];
    let plan = planner
        .plan(&clients, &items, &history, end - Duration::days(1), Horizon::NONE)
        .unwrap();
    assert!(
        plan.due().is_empty(),
        "sent within the gap: {:?}",
        plan.due().iter().map(|e| &e.key).collect::<Vec<_>>()
    );
}

/// A reminder behind a long run of closed days (only Sundays work, three of them holidays)
/// goes on the first working day after it; one that has no working day before the end of
/// the calendar is explained.
#[test]
fn reminders_behind_long_closed_runs_are_placed_or_explained() {
    use chrono::Weekday::*;
    let closed = [Mon, Tue, Wed, Thu, Fri, Sat];
    let policy = Policy::new(TimeZone::UTC)
        .with_calendar(BusinessCalendar::new(
            closed,
            [d(2026, 3, 8), d(2026, 3, 15), d(2026, 3, 22)],
        ))
        .with_rule(rule("issued", Anchor::Issued, 0));
    let planner = Planner::new(&policy).unwrap();
    let clients = [client("acme", "UTC")];
    let items = [invoice(
        "F-1",
        "acme",
        d(2026, 3, 2),
        d(2026, 4, 30),
        money("1", "USD"),
    )];
    let plan = planner
        .plan(&clients, &items, &[], utc(2026, 3, 2, 0, 0), Horizon::days(60))
        .unwrap();
    let e = &plan.upcoming()[0];
    assert_eq!((e.key.as_str(), e.send_on), ("issued/F-1/1", d(2026, 3, 29)));

    // Issued on the calendar's last day, a Monday: no Sunday follows.
    let last = NaiveDate::MAX;
    assert_eq!(chrono::Datelike::weekday(&last), Mon);
    let policy = Policy::new(TimeZone::UTC)
        .with_calendar(BusinessCalendar::new(closed, []))
        .with_rule(rule("issued", Anchor::Issued, 0));
    let planner = Planner::new(&policy).unwrap();
    let items = [invoice("F-2", "acme", last, last, money("1", "USD"))];
    let now = DateTime::<Utc>::MAX_UTC - Duration::hours(1);
    let plan = planner.plan(&clients, &items, &[], now, Horizon::NONE).unwrap();
    assert!(plan.events().next().is_none());
    let s = &plan.suppressed()[0];
    assert_eq!(s.reason, SuppressReason::NoDayToSend);
    assert_eq!(
        s.explain(),
        format!(
            "rule issued for invoice F-2 has no working day to go on from {last} before the end of \
             the calendar: not sent"
        )
    );
}

fn huge_policy() -> Policy {
    Policy::new(TimeZone::UTC)
        .with_rule(rule("overdue", Anchor::Due, 0).grouped())
        .with_statement(StatementRule::new(
            "monthly".parse().unwrap(),
            "FREQ=MONTHLY;BYMONTHDAY=1",
            d(2026, 1, 1),
        ))
        .with_standing(StandingRule::new(5, 10))
}

fn clp(minor: i64) -> Money {
    Money::from_minor(minor, Currency::from_code("CLP").unwrap())
}

/// Three CLP invoices of `i64::MAX / 2 + 1000`: their balances add up past the largest amount,
/// so the plan is refused naming the client and currency (it showed one item's balance as the
/// total of statements, grouped, closing-soon and closed notices).
#[test]
fn balances_adding_up_past_the_largest_amount_refuse_the_plan() {
    let planner = Planner::new(&huge_policy()).unwrap();
    let clients = [client("acme", "UTC")];
    let items: Vec<Item> = (1..=3)
        .map(|n| {
            invoice(
                &format!("F-{n}"),
                "acme",
                d(2026, 1, 1),
                d(2026, 1, 5),
                clp(i64::MAX / 2 + 1000),
            )
        })
        .collect();
    let expected = ValidationError::AmountTooLarge {
        field: "client acme: the balances".into(),
        currency: "CLP".into(),
    };
    let now = utc(2026, 2, 1, 12, 0);
    assert_eq!(
        planner
            .plan(&clients, &items, &[], now, Horizon::days(30))
            .unwrap_err(),
        expected
    );
    assert_eq!(
        planner
            .schedule(&clients, &items, &[], now, Horizon::NONE)
            .map(|_| ())
            .unwrap_err(),
        expected
    );
    assert_eq!(planner.check(&clients, &items).unwrap_err(), expected);
    assert_eq!(
        planner
            .portfolio(&clients, &items)
            .unwrap()
            .plan(&[], now, Horizon::NONE)
            .unwrap_err(),
        expected
    );
    assert!(expected.to_string().contains("9223372036854775807"), "{expected}");
}

/// Right at the largest amount every sum is exact: a statement, a grouped notice and the
/// standing notices all show the whole total.
#[test]
fn sums_up_to_the_largest_amount_are_exact_in_every_message() {
    let policy = huge_policy();
    let planner = Planner::new(&policy).unwrap();
    let messages = Messages::new(&policy).unwrap();
    let clients = [client("acme", "UTC").with_locale("en-US")];
    let items = [
        invoice("F-1", "acme", d(2026, 1, 1), d(2026, 1, 5), clp(i64::MAX / 2)),
        invoice("F-2", "acme", d(2026, 1, 1), d(2026, 1, 5), clp(i64::MAX / 2 + 1)),
    ];
    let history: Vec<HistoryEntry> = Vec::new();
    let mut kinds = std::collections::BTreeSet::new();
    for now in [
        utc(2026, 1, 5, 12, 0),
        utc(2026, 1, 10, 12, 0),
        utc(2026, 1, 15, 12, 0),
        utc(2026, 2, 1, 12, 0),
    ] {
        let plan = planner
            .plan(&clients, &items, &history, now, Horizon::NONE)
            .unwrap();
        for e in plan.due().iter() {
            if e.items.len() < 2 {
                continue;
            }
            assert_eq!(e.amount_due, Some(clp(i64::MAX)), "{}", e.key);
            let m = messages
                .render(e, &clients[0], &RenderOptions::default())
                .unwrap();
            assert!(
                m.text.contains("9,223,372,036,854,775,807"),
                "{} ({:?}) does not show the exact total:\n{}",
                e.key,
                e.stage,
                m.text
            );
            kinds.insert(format!("{:?}", e.stage));
        }
    }
    assert_eq!(
        kinds.into_iter().collect::<Vec<_>>(),
        ["Closed", "ClosingSoon", "DueToday", "Overdue", "Statement"]
    );
}

/// A message made from an event whose items add up past the largest amount (built by hand,
/// say) is refused, never written with a wrong total.
#[test]
fn a_message_whose_totals_do_not_fit_is_refused() {
    let policy = huge_policy();
    let planner = Planner::new(&policy).unwrap();
    let messages = Messages::new(&policy).unwrap();
    let clients = [client("acme", "UTC")];
    let items = [
        invoice("F-1", "acme", d(2026, 1, 1), d(2026, 1, 5), clp(i64::MAX / 2)),
        invoice("F-2", "acme", d(2026, 1, 1), d(2026, 1, 5), clp(i64::MAX / 2)),
    ];
    let plan = planner
        .plan(&clients, &items, &[], utc(2026, 1, 5, 12, 0), Horizon::NONE)
        .unwrap();
    let mut event = plan.due()[0].clone();
    let mut extra = event.items[0].clone();
    extra.item = "F-9".parse().unwrap();
    extra.balance = Some(clp(i64::MAX / 2));
    event.items.push(extra);
    let err = messages
        .render(&event, &clients[0], &RenderOptions::default())
        .unwrap_err();
    assert!(
        matches!(err, MessageError::AmountTooLarge { ref currency, .. } if currency == "CLP"),
        "{err}"
    );
}

/// A late fee past the largest amount is an error, not a silent "no fee", and refuses the
/// plan of the client it would be proposed to.
#[test]
fn late_fees_past_the_largest_amount_are_errors() {
    let fee = LateFee {
        fixed: vec![clp(i64::MAX)],
        basis_points: 100,
        cap: vec![],
    };
    assert!(matches!(
        fee.compute(clp(1_000)),
        Err(ValidationError::AmountTooLarge { .. })
    ));
    assert_eq!(fee.compute(clp(-5)).unwrap(), None);
    let mut overdue = rule("overdue", Anchor::Due, 0);
    overdue.late_fee = Some(LateFee {
        fixed: vec![clp(i64::MAX / 2)],
        basis_points: 0,
        cap: vec![],
    });
    let planner = Planner::new(&Policy::new(TimeZone::UTC).with_rule(overdue)).unwrap();
    let clients = [client("acme", "UTC")];
    let items: Vec<Item> = (1..=3)
        .map(|n| invoice(&format!("F-{n}"), "acme", d(2026, 1, 1), d(2026, 1, 5), clp(10)))
        .collect();
    let err = planner
        .plan(&clients, &items, &[], utc(2026, 1, 6, 12, 0), Horizon::NONE)
        .unwrap_err();
    assert_eq!(
        err,
        ValidationError::AmountTooLarge {
            field: "client acme: the late fees of rule overdue".into(),
            currency: "CLP".into()
        }
    );
}

/// A reminder whose day (its due date plus its offset, or its last send plus its spacing) is
/// past the end of the calendar is never sent, and the plan says so.
#[test]
fn a_day_past_the_end_of_the_calendar_is_explained() {
    let clients = [client("c", "UTC")];
    let now = DateTime::<Utc>::MAX_UTC - Duration::hours(1);
    let due = NaiveDate::MAX - Duration::days(2);
    let planner = Planner::new(&Policy::new(TimeZone::UTC).with_rule(rule("late", Anchor::Due, 5))).unwrap();
    let items = [invoice(
        "A",
        "c",
        due - Duration::days(10),
        due,
        money("1", "USD"),
    )];
    let plan = planner.plan(&clients, &items, &[], now, Horizon::NONE).unwrap();
    assert!(plan.events().next().is_none());
    assert_eq!(
        plan.suppressed()
            .iter()
            .map(|s| s.reason.clone())
            .collect::<Vec<_>>(),
        [SuppressReason::NoDayToSend]
    );
    // A repeat seven days after a send four days before the end.
    let due = NaiveDate::MAX - Duration::days(4);
    let planner =
        Planner::new(&Policy::new(TimeZone::UTC).with_rule(rule("overdue", Anchor::Due, 0).repeat(7, 4)))
            .unwrap();
    let items = [invoice(
        "A",
        "c",
        due - Duration::days(10),
        due,
        money("1", "USD"),
    )];
    let history = [HistoryEntry {
        key: "overdue/A/1".into(),
        rule: Some("overdue".parse().unwrap()),
        client: "c".parse().unwrap(),
        items: vec![HistoryItem {
            item: "A".parse().unwrap(),
            occurrence: 1,
        }],
        sent_at: due.and_hms_opt(9, 0, 0).unwrap().and_utc(),
        outcome: HistoryOutcome::Sent,
    }];
    let plan = planner
        .plan(&clients, &items, &history, now, Horizon::NONE)
        .unwrap();
    assert!(plan.events().next().is_none());
    assert!(
        plan.suppressed()
            .iter()
            .any(|s| s.key.as_str() == "overdue/A/2" && s.reason == SuppressReason::NoDayToSend),
        "{:?}",
        plan.suppressed()
            .iter()
            .map(Suppressed::explain)
            .collect::<Vec<_>>()
    );
}

/// A client's override that its rule's kind does not have is refused, naming the field:
/// a recurrence on a reminder rule, a count or spacing on a statement, anything but on/off
/// and roles on a standing notice. They were accepted and silently ignored.
#[test]
fn overrides_that_cannot_apply_are_refused_not_ignored() {
    let policy = Policy::new(tz("UTC"))
        .with_rule(rule("overdue", Anchor::Due, 0))
        .with_statement(StatementRule::new(
            "monthly".parse().unwrap(),
            "FREQ=MONTHLY;BYMONTHDAY=1",
            d(2026, 1, 1),
        ))
        .with_standing(StandingRule::new(30, 60));
    let planner = Planner::new(&policy).unwrap();
    let closing = policy.standing.as_ref().unwrap().closing_soon_id.to_string();
    let set = |f: fn(&mut RuleOverride)| {
        let mut ro = RuleOverride::default();
        f(&mut ro);
        ro
    };
    let cases = [
        ("overdue", set(|r| r.rrule = Some("FREQ=DAILY".into())), "rrule"),
        ("monthly", set(|r| r.count = Some(3)), "count"),
        ("monthly", set(|r| r.every_days = Some(2)), "every_days"),
        ("monthly", set(|r| r.offset_days = Some(2)), "offset_days"),
        (
            closing.as_str(),
            set(|r| r.rrule = Some("FREQ=DAILY".into())),
            "rrule",
        ),
        (closing.as_str(), set(|r| r.count = Some(2)), "count"),
    ];
    for (rule_id, ro, field) in cases {
        let c =
            client("c", "UTC").with_overrides(ClientOverrides::default().rule(rule_id.parse().unwrap(), ro));
        match planner.check(&[c], &[]) {
            Err(ValidationError::InapplicableOverride { rule, field: f, .. }) => {
                assert_eq!((rule.as_str(), f), (rule_id, field));
            }
            other => panic!("{rule_id}.{field}: {other:?}"),
        }
    }
    // What each kind has is taken.
    let fine = [
        (
            "overdue",
            set(|r| {
                r.count = Some(2);
                r.every_days = Some(7);
            }),
        ),
        (
            "monthly",
            set(|r| r.rrule = Some("FREQ=MONTHLY;BYMONTHDAY=15".into())),
        ),
        (closing.as_str(), set(|r| r.enabled = Some(false))),
    ];
    for (rule_id, ro) in fine {
        let c =
            client("c", "UTC").with_overrides(ClientOverrides::default().rule(rule_id.parse().unwrap(), ro));
        planner.check(&[c], &[]).unwrap();
    }
}

/// Rule ids that keys of previews and manual sends start with are refused: a rule named
/// `preview` gave its first reminder of item `x` the key of rule `x`'s preview of item `1`.
#[test]
fn rule_ids_of_preview_and_manual_keys_are_reserved() {
    for id in ["preview", "manual"] {
        let as_rule = Policy::new(tz("UTC")).with_rule(rule(id, Anchor::Due, 0));
        let as_statement = Policy::new(tz("UTC")).with_statement(StatementRule::new(
            id.parse().unwrap(),
            "FREQ=MONTHLY;BYMONTHDAY=1",
            d(2026, 1, 1),
        ));
        for policy in [as_rule, as_statement] {
            assert_eq!(
                Planner::new(&policy).unwrap_err(),
                ValidationError::ReservedId { id: id.to_owned() }
            );
        }
    }
    let err =
        Policy::from_json(r#"{"rules": [{"id": "a", "anchor": "due"}, {"id": "manual", "anchor": "due"}]}"#)
            .unwrap_err();
    assert_eq!(err.path(), "rules[1].id");
}

/// A "due soon" whose day would fall before the calendar's first day is long too late: it
/// says so as of now, not that no working day is left before the calendar's end (it said
/// "no working day to go on after <today> before the end of the calendar").
#[test]
fn a_due_soon_before_the_calendars_first_day_is_too_late_not_out_of_days() {
    let policy = Policy::new(TimeZone::UTC).with_rule(rule("soon", Anchor::Due, -36_600));
    let planner = Planner::new(&policy).unwrap();
    let items = [invoice(
        "F-1",
        "acme",
        NaiveDate::MIN,
        NaiveDate::MIN,
        money("1", "USD"),
    )];
    let plan = planner
        .plan(
            &[client("acme", "UTC")],
            &items,
            &[],
            utc(2026, 3, 1, 12, 0),
            Horizon::NONE,
        )
        .unwrap();
    assert!(plan.events().next().is_none());
    let said: Vec<_> = plan
        .suppressed()
        .iter()
        .map(|s| (s.on, s.reason.clone(), s.explain()))
        .collect();
    assert_eq!(said.len(), 1, "{said:#?}");
    assert_eq!(said[0].0, d(2026, 3, 1));
    assert_eq!(said[0].1, SuppressReason::DueSoonAfterDue { due: NaiveDate::MIN });
    assert!(!said[0].2.contains("end of the calendar"), "{}", said[0].2);
}

/// The most negative amount a balance can reach (`i64::MIN` minor units: a total of 0 with
/// `i64::MAX` and 1 applied) reads back from its text and its serialized form (it was "too
/// large", so a plan holding it did not deserialize).
#[test]
fn the_most_negative_amount_round_trips() {
    for code in ["CLP", "USD", "BHD"] {
        let currency = Currency::from_code(code).unwrap();
        let min = Money::from_minor(i64::MIN, currency);
        assert_eq!(
            Money::parse(&min.decimal().to_string(), currency),
            Ok(min),
            "{code}"
        );
        let json = serde_json::to_string(&min).unwrap();
        assert_eq!(
            serde_json::from_str::<Money>(&json).unwrap(),
            min,
            "{code}: {json}"
        );
        let max = Money::from_minor(i64::MAX, currency);
        assert_eq!(
            Money::parse(&max.decimal().to_string(), currency),
            Ok(max),
            "{code}"
        );
    }
    let clp = Currency::from_code("CLP").unwrap();
    assert!(Money::parse("-9223372036854775809", clp).is_err());
    assert!(Money::parse("9223372036854775808", clp).is_err());
}

/// A statement whose day, or the day its catch-up would go, has no working day after it
/// before the end of the calendar is not sent on a closed day: it is explained as having
/// no day to go on (it went on the closed day itself). The calendar's last day is a Monday;
/// only Sundays work here, and the last Sunday is a holiday.
#[test]
fn a_statement_with_no_working_day_left_in_the_calendar_is_explained_not_sent_on_a_closed_day() {
    use chrono::Weekday::*;
    let last = NaiveDate::MAX;
    let closed = [Mon, Tue, Wed, Thu, Fri, Sat];
    let days = |n| last.checked_sub_days(chrono::Days::new(n)).unwrap();
    let policy = Policy::new(TimeZone::UTC)
        .with_calendar(BusinessCalendar::new(closed, [days(1)]))
        .with_statement(StatementRule::new(
            "daily".parse().unwrap(),
            "FREQ=DAILY",
            d(2026, 1, 1),
        ));
    let planner = Planner::new(&policy).unwrap();
    let clients = [client("acme", "UTC")];
    let items = [invoice("F-1", "acme", days(40), days(30), money("1", "USD"))];
    for now in [
        DateTime::<Utc>::MAX_UTC - Duration::hours(1),
        days(3).and_hms_opt(0, 0, 0).unwrap().and_utc(),
    ] {
        let plan = planner.plan(&clients, &items, &[], now, Horizon::NONE).unwrap();
        for e in plan.events() {
            assert_eq!(chrono::Datelike::weekday(&e.send_on), Sun, "{now}: {e:#?}");
            assert_ne!(e.send_on, days(1), "{now}: {e:#?}");
        }
        assert!(
            plan.suppressed()
                .iter()
                .any(|s| s.rule.as_str() == "daily" && s.reason == SuppressReason::NoDayToSend),
            "{now}: {:#?}",
            plan.suppressed()
        );
    }
}

/// A client's copies written as `null` are no copies (as an absent field); a value that is
/// neither a list nor a string is an error naming the field's path and what it takes, not
/// "data did not match any variant".
#[test]
fn copies_written_as_null_are_none_and_other_values_say_what_they_take() {
    let o: ClientOverrides = serde_json::from_str(r#"{"cc":null,"bcc":null,"reply_to":null}"#).unwrap();
    assert_eq!((o.cc, o.bcc, o.reply_to), (None, None, None));
    let o: ClientOverrides = serde_json::from_str(r#"{"cc":"a@b.example, c@d.example"}"#).unwrap();
    assert_eq!(o.cc.unwrap(), ["a@b.example", "c@d.example"]);
    let err = serde_json::from_str::<ClientOverrides>(r#"{"bcc":5}"#)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("a list of email addresses or one string of them separated by commas"),
        "{err}"
    );
    let err = dunning::load::clients_from_json(
        r#"[{"id": "acme", "name": "ACME", "overrides": {"reply_to": {"to": "x"}}}]"#,
    )
    .unwrap_err();
    assert_eq!(err.path(), "clients[0].overrides.reply_to", "{err}");
    assert!(err.to_string().contains("a list of email addresses"), "{err}");
}
