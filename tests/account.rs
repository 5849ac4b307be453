//! Statements (estado de cuenta) and account standing (cuenta pronto a cerrar, cerrada).

mod common;

use chrono::Duration;
use common::*;
use dunning::*;
use proptest::prelude::*;

fn monthly(id: &str) -> StatementRule {
    StatementRule::new(id.parse().unwrap(), "FREQ=MONTHLY;BYMONTHDAY=1", d(2026, 1, 1))
}

fn statement_policy() -> Policy {
    Policy::new(tz("America/Santiago"))
        .with_statement(monthly("estado"))
        .with_statement(monthly("vencidos").overdue_only())
}

/// A client with CLP and USD invoices, one partly paid, one not yet due on 05-01.
fn portfolio() -> (Client, Vec<Item>) {
    let c = client("acme", "America/Santiago")
        .with_locale("es-CL")
        .with_contact(Contact::new("Ana Pérez", "ana@acme.example"));
    let items = vec![
        invoice(
            "F-1",
            "acme",
            d(2026, 3, 1),
            d(2026, 3, 31),
            money("1190000", "CLP"),
        )
        .paid(money("190000", "CLP"), d(2026, 4, 2)),
        invoice(
            "F-2",
            "acme",
            d(2026, 4, 10),
            d(2026, 5, 10),
            money("595000", "CLP"),
        ),
        invoice(
            "F-3",
            "acme",
            d(2026, 3, 15),
            d(2026, 4, 15),
            money("1250.50", "USD"),
        ),
        invoice("F-4", "acme", d(2026, 2, 1), d(2026, 3, 1), money("10000", "CLP"))
            .with_status(ItemStatus::Paid),
    ];
    (c, items)
}

fn settings(name: &str) -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_prepend_module_to_snapshot(false);
    s.set_snapshot_suffix(name.to_owned());
    s
}

#[test]
fn statements_list_open_or_overdue_items_with_totals_per_currency() {
    let policy = statement_policy();
    let planner = Planner::new(&policy).unwrap();
    let (client, items) = portfolio();
    let plan = planner
        .plan(
            std::slice::from_ref(&client),
            &items,
            &[],
            utc(2026, 5, 1, 14, 0),
            Horizon::NONE,
        )
        .unwrap();
    settings("plan").bind(|| insta::assert_yaml_snapshot!("statement", plan));
    assert_round_trips(&plan);
    let all = plan.due().iter().find(|e| e.rule.as_str() == "estado").unwrap();
    assert_eq!(all.key.as_str(), "estado/acme/2026-05-01");
    assert_eq!(all.stage, Stage::Statement);
    let listed: Vec<_> = all.items.iter().map(|i| i.item.as_str()).collect();
    assert_eq!(listed, ["F-1", "F-2", "F-3"]);
    assert_eq!(all.items[0].balance, Some(money("1000000", "CLP")));
    assert_eq!(all.amount_due, None, "two currencies have no single total");
    let overdue = plan.due().iter().find(|e| e.rule.as_str() == "vencidos").unwrap();
    let listed: Vec<_> = overdue.items.iter().map(|i| i.item.as_str()).collect();
    assert_eq!(listed, ["F-1", "F-3"]);
    assert_eq!(overdue.stage, Stage::OverdueStatement);

    let messages = Messages::new(&policy).unwrap();
    for locale in ["es-CL", "en-US"] {
        let client = client.clone().with_locale(locale);
        let plan = planner
            .plan(
                std::slice::from_ref(&client),
                &items,
                &[],
                utc(2026, 5, 1, 14, 0),
                Horizon::NONE,
            )
            .unwrap();
        for e in plan.due() {
            let m = messages.render(e, &client, &RenderOptions::default()).unwrap();
            let text = format!(
                "subject: {}\n--- text ---\n{}\n--- html ---\n{}",
                m.subject,
                m.text,
                m.html.unwrap_or_default()
            );
            settings(&format!("{}_{locale}", e.rule))
                .bind(|| insta::assert_snapshot!("statement_message", text));
            if e.rule.as_str() == "estado" {
                let (clp, usd) = if locale == "es-CL" {
                    ("$1.595.000", "US$1.250,50")
                } else {
                    ("$1,595,000", "$1,250.50")
                };
                assert!(m.text.contains(clp) && m.text.contains(usd), "{}", m.text);
            }
        }
    }
}

#[test]
fn nothing_to_list_means_no_statement_and_says_why() {
    let planner = Planner::new(&statement_policy()).unwrap();
    let (client, _) = portfolio();
    let items = [invoice(
        "F-9",
        "acme",
        d(2026, 4, 20),
        d(2026, 5, 20),
        money("1000", "CLP"),
    )];
    let plan = planner
        .plan(
            std::slice::from_ref(&client),
            &items,
            &[],
            utc(2026, 5, 1, 14, 0),
            Horizon::NONE,
        )
        .unwrap();
    let keys: Vec<_> = plan.due().iter().map(|e| e.key.as_str()).collect();
    assert_eq!(
        keys,
        ["estado/acme/2026-05-01"],
        "the open item is listed, nothing is overdue"
    );
    let s = plan
        .suppressed()
        .iter()
        .find(|s| s.rule.as_str() == "vencidos")
        .unwrap();
    assert_eq!(s.reason, SuppressReason::NothingToList);
    assert_eq!(s.item, None);
}

#[test]
fn missed_statements_catch_up_with_the_latest_only_and_never_repeat() {
    let planner = Planner::new(&statement_policy()).unwrap().with_lookback(120);
    let (client, items) = portfolio();
    let clients = [client];
    // The host was down from February to 05-03: only May's statement goes.
    let now = utc(2026, 5, 3, 14, 0);
    let plan = planner
        .plan(&clients, &items, &[], now, Horizon::days(40))
        .unwrap();
    let due: Vec<_> = plan
        .due()
        .iter()
        .filter(|e| e.rule.as_str() == "estado")
        .map(|e| e.key.as_str())
        .collect();
    assert_eq!(due, ["estado/acme/2026-05-01"]);
    assert!(plan.due()[0].why.adjustments.contains(&Adjustment::CatchUp {
        scheduled_on: d(2026, 5, 1)
    }));
    let superseded: Vec<_> = plan
        .suppressed()
        .iter()
        .filter(|s| s.rule.as_str() == "estado" && matches!(s.reason, SuppressReason::Superseded { .. }))
        .map(|s| s.on)
        .collect();
    assert_eq!(superseded, [d(2026, 3, 1), d(2026, 4, 1)]);
    // February's period holds only F-4, paid on a day not known: read as it is now (not
    // owed), it had nothing to list, as every plan after May's went says too.
    let february = plan
        .suppressed()
        .iter()
        .find(|s| s.key.as_str() == "estado/acme/2026-02-01")
        .map(|s| (s.on, s.reason.clone()));
    assert_eq!(february, Some((d(2026, 2, 1), SuppressReason::NothingToList)));
    let after: Vec<_> = plan.due().iter().map(|e| e.to_history(now)).collect();
    let later = planner
        .plan(&clients, &items, &after, utc(2026, 5, 20, 14, 0), Horizon::NONE)
        .unwrap();
    let said: Vec<_> = later
        .suppressed()
        .iter()
        .filter(|s| s.rule.as_str() == "estado" && s.on < d(2026, 5, 1))
        .map(|s| (s.on, s.reason.kind()))
        .collect();
    assert_eq!(
        said,
        [
            (d(2026, 2, 1), SuppressReasonKind::NothingToList),
            (d(2026, 3, 1), SuppressReasonKind::Superseded),
            (d(2026, 4, 1), SuppressReasonKind::Superseded)
        ]
    );
    // Forecast: June's, moved off Monday? 2026-06-01 is a Monday: no move.
    assert!(
        plan.upcoming()
            .iter()
            .any(|e| e.key.as_str() == "estado/acme/2026-06-01")
    );
    // Once recorded, May's is never planned again.
    let history: Vec<_> = plan.due().iter().map(|e| e.to_history(now)).collect();
    let again = planner
        .plan(
            &clients,
            &items,
            &history,
            now + Duration::hours(1),
            Horizon::NONE,
        )
        .unwrap();
    assert!(
        again.due().is_empty(),
        "{:?}",
        again.due().iter().map(|e| &e.key).collect::<Vec<_>>()
    );
}

#[test]
fn statements_per_client_off_and_own_recurrence() {
    let planner = Planner::new(&statement_policy()).unwrap();
    let (client, items) = portfolio();
    let off = client
        .clone()
        .with_overrides(ClientOverrides::default().rule("estado".parse().unwrap(), RuleOverride::off()));
    let plan = planner
        .plan(
            std::slice::from_ref(&off),
            &items,
            &[],
            utc(2026, 5, 1, 14, 0),
            Horizon::NONE,
        )
        .unwrap();
    assert!(plan.due().iter().all(|e| e.rule.as_str() != "estado"));
    assert!(
        plan.suppressed()
            .iter()
            .any(|s| s.rule.as_str() == "estado" && s.reason == SuppressReason::ExcludedForClient)
    );
    let weekly = client.with_overrides(ClientOverrides::default().rule(
        "estado".parse().unwrap(),
        RuleOverride {
            rrule: Some("FREQ=WEEKLY;BYDAY=FR".into()),
            ..RuleOverride::default()
        },
    ));
    let plan = planner
        .plan(
            std::slice::from_ref(&weekly),
            &items,
            &[],
            utc(2026, 5, 1, 14, 0),
            Horizon::days(14),
        )
        .unwrap();
    let days: Vec<_> = plan
        .events()
        .filter(|e| e.rule.as_str() == "estado")
        .map(|e| e.send_on)
        .collect();
    assert_eq!(days, [d(2026, 5, 1), d(2026, 5, 8), d(2026, 5, 15)]);
    let bad = ClientOverrides::default().rule(
        "estado".parse().unwrap(),
        RuleOverride {
            rrule: Some("FREQ=NEVER".into()),
            ..RuleOverride::default()
        },
    );
    let err = planner
        .plan(
            &[common::client("acme", "UTC").with_overrides(bad)],
            &[],
            &[],
            utc(2026, 5, 1, 14, 0),
            Horizon::NONE,
        )
        .unwrap_err();
    assert!(matches!(err, ValidationError::InvalidRecurrence { .. }), "{err}");
}

#[test]
fn a_daily_statement_keeps_the_santiago_spring_forward_night() {
    // Daily at 00:30 in Santiago: 2026-09-06 00:30 does not exist; rrule's zoned expansion
    // would drop the day, local dates keep it and the send time lands at 01:30 -03.
    let policy = Policy::new(tz("America/Santiago"))
        .with_send_time(t(0, 30))
        .with_statement(StatementRule::new(
            "diario".parse().unwrap(),
            "FREQ=DAILY",
            d(2026, 9, 1),
        ));
    let planner = Planner::new(&policy).unwrap();
    let (client, items) = portfolio();
    let plan = planner
        .plan(
            std::slice::from_ref(&client),
            &items,
            &[],
            utc(2026, 9, 4, 12, 0),
            Horizon::days(4),
        )
        .unwrap();
    let got: Vec<_> = plan
        .upcoming()
        .iter()
        .map(|e| (e.send_on, e.send_at.to_rfc3339()))
        .collect();
    assert_eq!(
        got,
        [
            (d(2026, 9, 5), "2026-09-05T04:30:00+00:00".to_owned()),
            (d(2026, 9, 6), "2026-09-06T04:30:00+00:00".to_owned()),
            (d(2026, 9, 7), "2026-09-07T03:30:00+00:00".to_owned()),
            (d(2026, 9, 8), "2026-09-08T03:30:00+00:00".to_owned()),
        ]
    );
}

fn standing_policy() -> Policy {
    Policy::new(tz("America/Santiago")).with_standing(StandingRule::new(30, 60))
}

/// Runs day by day, recording what is sent, with payments applied on given days.
fn run_standing(client: &Client, items: &mut [Item], pay: &[(chrono::NaiveDate, &str)]) -> Vec<HistoryEntry> {
    let planner = Planner::new(&standing_policy()).unwrap();
    let mut history = Vec::new();
    let mut day = d(2026, 1, 1);
    while day <= d(2026, 8, 31) {
        for (on, id) in pay {
            if *on == day {
                if let Some(it) = items.iter_mut().find(|i| i.id.as_str() == *id) {
                    let b = it.balance().unwrap().unwrap();
                    *it = it.clone().paid(b, day);
                }
            }
        }
        let now = day.and_hms_opt(15, 0, 0).unwrap().and_utc();
        let plan = planner
            .plan(std::slice::from_ref(client), items, &history, now, Horizon::NONE)
            .unwrap();
        history.extend(plan.due().iter().map(|e| e.to_history(now)));
        day += Duration::days(1);
    }
    history
}

#[test]
fn standing_enters_stays_clears_and_relapses() {
    // The policy says 30/60; this client's own thresholds are 20/45.
    let c = client("acme", "America/Santiago").with_overrides(ClientOverrides {
        closing_soon_after_days: Some(20),
        closed_after_days: Some(45),
        ..ClientOverrides::default()
    });
    let mut items = vec![
        invoice("A", "acme", d(2026, 1, 1), d(2026, 1, 31), money("1000", "CLP")),
        invoice("B", "acme", d(2026, 4, 1), d(2026, 5, 1), money("1000", "CLP")),
    ];
    // A: due 01-31 -> closing soon 02-20, closed 03-17; paid 04-20 (clears).
    // B: due 05-01 -> closing soon 05-21 (relapse), closed 06-15.
    let history = run_standing(&c, &mut items, &[(d(2026, 4, 20), "A")]);
    let got: Vec<_> = history
        .iter()
        .map(|h| (h.key.to_string(), h.sent_at.date_naive()))
        .collect();
    assert_eq!(
        got,
        [
            ("closing-soon/acme/2026-02-20".to_owned(), d(2026, 2, 20)),
            ("closed/acme/2026-03-17".to_owned(), d(2026, 3, 17)),
            ("closing-soon/acme/2026-05-21".to_owned(), d(2026, 5, 21)),
            ("closed/acme/2026-06-15".to_owned(), d(2026, 6, 15)),
        ],
        "enter (closing soon, then closed), stay (nothing more), clear (A paid), relapse (B)"
    );
}

#[test]
fn standing_thresholds_per_client_and_the_plan_exposes_it() {
    let planner = Planner::new(&standing_policy()).unwrap();
    let strict = client("strict", "UTC").with_overrides(ClientOverrides {
        closing_soon_after_days: Some(5),
        closed_after_days: Some(10),
        ..ClientOverrides::default()
    });
    let lax = client("lax", "UTC");
    let items = [
        invoice(
            "S-1",
            "strict",
            d(2026, 1, 1),
            d(2026, 3, 1),
            money("1000", "CLP"),
        ),
        invoice("L-1", "lax", d(2026, 1, 1), d(2026, 3, 1), money("1000", "CLP")),
    ];
    let plan = planner
        .plan(
            &[strict, lax],
            &items,
            &[],
            utc(2026, 3, 8, 12, 0),
            Horizon::days(60),
        )
        .unwrap();
    let standings: Vec<_> = plan
        .standings()
        .iter()
        .map(|s| (s.client.as_str(), s.state, s.days_overdue))
        .collect();
    assert_eq!(standings, [("strict", StandingState::ClosingSoon, 7)]);
    let keys: Vec<_> = plan.events().map(|e| (e.key.as_str(), e.send_on)).collect();
    assert_eq!(
        keys,
        [
            ("closing-soon/strict/2026-03-06", d(2026, 3, 6)),
            ("closed/strict/2026-03-11", d(2026, 3, 11)),
            ("closing-soon/lax/2026-03-31", d(2026, 3, 31)),
            ("closed/lax/2026-04-30", d(2026, 4, 30)),
        ]
    );
    let why: Vec<_> = plan.events().map(Event::explain).collect();
    assert_eq!(
        why[..2],
        [
            "the oldest unpaid item S-1 was due on 2026-03-01; the client reaches 5 day(s) overdue on \
             2026-03-06 and its account is closing soon; scheduled for 2026-03-06 and not sent then, so it \
             goes now (catch-up)",
            "the oldest unpaid item S-1 was due on 2026-03-01; the client reaches 10 day(s) overdue on \
             2026-03-11 and its account closes",
        ]
    );
    assert_round_trips(&plan);
    let bad = client("bad", "UTC").with_overrides(ClientOverrides {
        closing_soon_after_days: Some(50),
        closed_after_days: Some(40),
        ..ClientOverrides::default()
    });
    assert!(matches!(
        planner
            .plan(&[bad], &[], &[], utc(2026, 3, 8, 12, 0), Horizon::NONE)
            .unwrap_err(),
        ValidationError::StandingThresholds { .. }
    ));
}

#[test]
fn entering_both_states_at_once_sends_only_closed() {
    let planner = Planner::new(&standing_policy()).unwrap();
    let items = [invoice(
        "OLD",
        "acme",
        d(2025, 1, 1),
        d(2025, 2, 1),
        money("1000", "CLP"),
    )];
    let plan = planner
        .plan(
            &[client("acme", "UTC")],
            &items,
            &[],
            utc(2026, 3, 8, 12, 0),
            Horizon::NONE,
        )
        .unwrap();
    let keys: Vec<_> = plan.due().iter().map(|e| e.key.as_str()).collect();
    assert_eq!(keys, ["closed/acme/2025-04-02"]);
    assert_eq!(plan.due()[0].standing.as_ref().unwrap().days_overdue, 400);
    let messages = Messages::new(&standing_policy()).unwrap();
    for locale in ["es-CL", "en-US"] {
        let c = client("acme", "UTC").with_locale(locale);
        for (rule, at) in [
            ("closing-soon", utc(2025, 3, 3, 12, 0)),
            ("closed", utc(2025, 4, 2, 12, 0)),
        ] {
            let plan = planner
                .plan(std::slice::from_ref(&c), &items, &[], at, Horizon::NONE)
                .unwrap();
            let e = plan.due().iter().find(|e| e.rule.as_str() == rule).unwrap();
            let m = messages.render(e, &c, &RenderOptions::default()).unwrap();
            let text = format!(
                "subject: {}\n--- text ---\n{}\n--- html ---\n{}",
                m.subject,
                m.text,
                m.html.unwrap_or_default()
            );
            settings(&format!("{rule}_{locale}")).bind(|| insta::assert_snapshot!("standing_message", text));
        }
    }
}

proptest! {
    #[test]
    fn statement_totals_equal_the_sum_of_their_lines(
        amounts in prop::collection::vec((1i64..10_000_000, 0i64..10_000_000, prop::bool::ANY, 0i64..120), 1..12),
    ) {
        static SETUP: std::sync::OnceLock<(Planner, Messages)> = std::sync::OnceLock::new();
        let (planner, messages) = SETUP.get_or_init(|| (Planner::new(&statement_policy()).unwrap(), Messages::new(&statement_policy()).unwrap()));
        let c = client("acme", "UTC").with_locale("en");
        let items: Vec<Item> = amounts
            .iter()
            .enumerate()
            .map(|(i, (total, paid, usd, age))| {
                let cur = if *usd { "USD" } else { "CLP" };
                let cur = Currency::from_code(cur).unwrap();
                let issued = d(2026, 4, 30) - Duration::days(*age);
                let total = Money::from_minor(*total, cur);
                let paid = Money::from_minor((*paid).min(total.minor() - 1), cur);
                invoice(&format!("I{i}"), "acme", issued, issued + Duration::days(30), total).paid(paid, issued)
            })
            .collect();
        let plan = planner.plan(std::slice::from_ref(&c), &items, &[], utc(2026, 5, 1, 12, 0), Horizon::NONE).unwrap();
        let e = plan.due().iter().find(|e| e.rule.as_str() == "estado").unwrap();
        for code in ["CLP", "USD"] {
            let lines: i64 = e.items.iter().filter_map(|i| i.balance).filter(|b| b.currency().code() == code).map(|b| b.minor()).sum();
            let want: i64 = items.iter().filter_map(|i| i.balance().unwrap()).filter(|b| b.currency().code() == code).map(|b| b.minor()).sum();
            prop_assert_eq!(lines, want);
        }
        let m = messages.render(e, &c, &RenderOptions::default()).unwrap();
        for code in ["CLP", "USD"] {
            let sum: i64 = e.items.iter().filter_map(|i| i.balance).filter(|b| b.currency().code() == code).map(|b| b.minor()).sum();
            if sum > 0 {
                let cur = Currency::from_code(code).unwrap();
                let written = format!("Total due ({code}): {}", written_money(Money::from_minor(sum, cur)));
                prop_assert!(m.text.contains(&written), "{} not in {}", written, m.text);
            }
        }
    }
}

/// en-US writing of money, computed independently of the crate.
fn written_money(m: Money) -> String {
    let exp = u32::from(m.currency().exponent());
    let unit = 10i64.pow(exp);
    let whole = (m.minor() / unit).to_string();
    let mut grouped = String::new();
    for (i, ch) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    if exp > 0 {
        format!("${grouped}.{:0w$}", m.minor() % unit, w = exp as usize)
    } else {
        format!("${grouped}")
    }
}

#[test]
fn disputed_items_do_not_count_and_client_holds_silence_account_notices() {
    let planner = Planner::new(&standing_policy().with_statement(monthly("estado"))).unwrap();
    let disputed = invoice("D", "acme", d(2026, 1, 1), d(2026, 1, 31), money("1000", "CLP"))
        .with_pause(Pause::new(PauseKind::Dispute, "reclamo"));
    let recent = invoice("R", "acme", d(2026, 2, 20), d(2026, 3, 20), money("1000", "CLP"));
    let items = [disputed, recent];
    let now = utc(2026, 4, 1, 14, 0);
    let plan = planner
        .plan(&[client("acme", "UTC")], &items, &[], now, Horizon::NONE)
        .unwrap();
    // Only R counts: 12 days overdue, below 30.
    assert!(plan.standings().is_empty(), "{:?}", plan.standings());
    // The statement still lists both: it is a ledger.
    let st = plan.due().iter().find(|e| e.rule.as_str() == "estado").unwrap();
    assert_eq!(st.items.len(), 2);
    let held =
        client("acme", "UTC").with_pause(Pause::new(PauseKind::Hold, "en revisión").until(d(2026, 4, 30)));
    let plan = planner.plan(&[held], &items, &[], now, Horizon::NONE).unwrap();
    assert!(plan.due().is_empty());
    assert!(plan.suppressed().iter().any(|s| s.rule.as_str() == "estado"
        && matches!(
            s.reason,
            SuppressReason::PausedUntil {
                pause: PauseKind::Hold,
                until,
                ..
            } if until == d(2026, 4, 30)
        )));
    // Without an end, it is held for good, and said so.
    let held = client("acme", "UTC").with_pause(Pause::new(PauseKind::Hold, "en revisión"));
    let plan = planner.plan(&[held], &items, &[], now, Horizon::NONE).unwrap();
    assert!(plan.due().is_empty());
    assert!(plan.suppressed().iter().any(|s| s.rule.as_str() == "estado"
        && matches!(
            s.reason,
            SuppressReason::Paused {
                pause: PauseKind::Hold,
                ..
            }
        )));
}

/// A standing notice a client pause with an end holds back goes after the pause, as
/// forecast, and names it (it was explained as a pause "with no end date" every day of the
/// pause and only went as a catch-up the day after, not forecast).
#[test]
fn a_standing_notice_a_pause_with_an_end_holds_goes_after_it() {
    let planner = Planner::new(&Policy::new(TimeZone::UTC).with_standing(StandingRule::new(30, 60))).unwrap();
    let hold = Pause::new(PauseKind::Promise, "pays on the 20th")
        .starting(d(2026, 3, 1))
        .until(d(2026, 3, 10));
    let clients = [client("acme", "UTC").with_pause(hold)];
    // Due 2026-02-01: 30 days overdue on 2026-03-03, inside the pause.
    let items = [invoice(
        "A",
        "acme",
        d(2026, 1, 2),
        d(2026, 2, 1),
        money("100", "USD"),
    )];
    let plan = planner
        .plan(&clients, &items, &[], utc(2026, 3, 2, 12, 0), Horizon::days(14))
        .unwrap();
    let up: Vec<_> = plan
        .upcoming()
        .iter()
        .filter(|e| e.stage == Stage::ClosingSoon)
        .collect();
    assert_eq!(up.len(), 1, "{:#?}", lines(&plan));
    assert_eq!(up[0].send_on, d(2026, 3, 11), "{:#?}", lines(&plan));
    assert!(
        up[0]
            .explain()
            .contains("held back by a payment promise until 2026-03-10"),
        "{}",
        up[0].explain()
    );
    let said: Vec<_> = plan
        .suppressed()
        .iter()
        .filter(|s| s.key == up[0].key)
        .map(|s| (s.on, s.explain()))
        .collect();
    assert_eq!(said.len(), 1, "{said:#?}");
    assert_eq!(said[0].0, d(2026, 3, 3), "{said:#?}");
    assert!(
        said[0].1.contains("until 2026-03-10 (pays on the 20th)"),
        "{said:#?}"
    );
    // Ticking daily at noon, it goes the day after the pause, once.
    let mut history = Vec::new();
    let mut now = utc(2026, 3, 2, 12, 0);
    while now < utc(2026, 3, 20, 0, 0) {
        let plan = planner
            .plan(&clients, &items, &history, now, Horizon::NONE)
            .unwrap();
        history.extend(plan.due().iter().map(|e| e.to_history(now)));
        now += Duration::days(1);
    }
    let sent: Vec<_> = history.iter().map(|h| (h.key.to_string(), h.sent_at)).collect();
    assert_eq!(
        sent,
        vec![(up[0].key.to_string(), utc(2026, 3, 11, 12, 0))],
        "{sent:#?}"
    );
}

#[test]
fn statements_respect_the_collection_start_for_past_items() {
    let policy = statement_policy().with_collection_start(CollectionStart {
        past_items: Some(d(2026, 4, 1)),
        new_items: None,
    });
    let planner = Planner::new(&policy).unwrap();
    let (client, items) = portfolio();
    let plan = planner
        .plan(
            std::slice::from_ref(&client),
            &items,
            &[],
            utc(2026, 5, 1, 14, 0),
            Horizon::NONE,
        )
        .unwrap();
    let all = plan.due().iter().find(|e| e.rule.as_str() == "estado").unwrap();
    let listed: Vec<_> = all.items.iter().map(|i| i.item.as_str()).collect();
    assert_eq!(
        listed,
        ["F-2", "F-3"],
        "F-1 was due on 03-31, before the collection start"
    );
}

#[test]
fn a_statement_sent_neither_supersedes_nor_spaces_item_reminders() {
    let policy = statement_policy().with_rule(rule("overdue", Anchor::Due, 1));
    let planner = Planner::new(&policy).unwrap();
    let (client, items) = portfolio();
    let clients = [client];
    // On 04-01 both April's statement and F-1's overdue reminder (due 03-31, +1) are due.
    let at = utc(2026, 4, 1, 14, 0);
    let plan = planner.plan(&clients, &items, &[], at, Horizon::NONE).unwrap();
    assert!(plan.due().iter().any(|e| e.key.as_str() == "overdue/F-1/1"));
    // Only the statement got recorded (the reminder's send failed and will be retried).
    let history: Vec<_> = plan
        .due()
        .iter()
        .filter(|e| e.key.as_str() == "estado/acme/2026-04-01")
        .map(|e| e.to_history(at))
        .collect();
    assert_eq!(history.len(), 1);
    let plan = planner
        .plan(
            &clients,
            &items,
            &history,
            at + chrono::Duration::hours(1),
            Horizon::NONE,
        )
        .unwrap();
    assert!(
        plan.due().iter().any(|e| e.key.as_str() == "overdue/F-1/1"),
        "the statement, which lists F-1, must not supersede its reminder: {:?}",
        plan.suppressed()
    );
}

/// Ticks daily at `hour`:00 UTC from `from` to `to`, applying `change` to the items before
/// each tick, and returns what was sent (key, day sent).
fn tick_daily(
    planner: &Planner,
    clients: &[Client],
    items: &mut Vec<Item>,
    (from, to, hour): (chrono::NaiveDate, chrono::NaiveDate, u32),
    mut change: impl FnMut(chrono::NaiveDate, &mut Vec<Item>, &Plan),
) -> Vec<(String, chrono::NaiveDate)> {
    let mut history: Vec<HistoryEntry> = Vec::new();
    let mut day = from;
    let mut last: Option<Plan> = None;
    while day <= to {
        if let Some(plan) = &last {
            change(day, items, plan);
        }
        let now = day.and_hms_opt(hour, 0, 0).unwrap().and_utc();
        let plan = planner
            .plan(clients, items, &history, now, Horizon::NONE)
            .unwrap();
        history.extend(plan.due().iter().map(|e| e.to_history(now)));
        last = Some(plan);
        day += Duration::days(1);
    }
    history
        .iter()
        .map(|h| (h.key.to_string(), h.sent_at.date_naive()))
        .collect()
}

/// The oldest item paid while another keeps the client closed: the client never left the
/// state, so no second "closed" goes, and the state's start stays put (a second
/// `closed/acme/2026-03-14` went, as a catch-up of a date never planned, and
/// `standings().since` moved to it).
#[test]
fn paying_the_oldest_item_while_another_keeps_the_state_sends_nothing_more() {
    let policy = Policy::new(TimeZone::UTC).with_standing(StandingRule::new(5, 10));
    let planner = Planner::new(&policy).unwrap();
    let clients = [client("acme", "UTC")];
    let mut items = vec![
        invoice("F-1", "acme", d(2026, 2, 1), d(2026, 3, 2), money("100", "USD")),
        invoice("F-2", "acme", d(2026, 2, 3), d(2026, 3, 4), money("100", "USD")),
    ];
    let mut since = Vec::new();
    let sent = tick_daily(
        &planner,
        &clients,
        &mut items,
        (d(2026, 3, 1), d(2026, 4, 30), 12),
        |day, items, plan| {
            if day == d(2026, 3, 20) {
                let b = items[0].balance().unwrap().unwrap();
                items[0] = items[0].clone().paid(b, day);
            }
            since.extend(plan.standings().iter().map(|s| (s.state, s.since)));
        },
    );
    assert_eq!(
        sent,
        [
            ("closing-soon/acme/2026-03-07".to_owned(), d(2026, 3, 7)),
            ("closed/acme/2026-03-12".to_owned(), d(2026, 3, 12)),
        ]
    );
    assert!(since.len() > 40, "{since:?}");
    let closed: Vec<_> = since.iter().filter(|s| s.0 == StandingState::Closed).collect();
    assert!(closed.len() > 40, "{since:?}");
    assert!(
        closed.iter().all(|s| s.1 == d(2026, 3, 12)),
        "the state began on 2026-03-12 and never ended: {since:?}"
    );
}

/// A dispute with an end on the oldest item while another keeps the client closing soon:
/// one "closing soon", not a second when the other item got there.
#[test]
fn a_dispute_on_the_oldest_item_while_another_keeps_the_state_sends_nothing_more() {
    let policy = Policy::new(TimeZone::UTC).with_standing(StandingRule::new(5, 40));
    let planner = Planner::new(&policy).unwrap();
    let clients = [client("acme", "UTC")];
    let dispute = Pause::new(PauseKind::Dispute, "wrong amount")
        .starting(d(2026, 3, 12))
        .until(d(2026, 3, 31));
    let mut items = vec![
        invoice("F-1", "acme", d(2026, 2, 1), d(2026, 3, 2), money("100", "USD")).with_pause(dispute),
        invoice("F-2", "acme", d(2026, 2, 3), d(2026, 3, 4), money("100", "USD")),
    ];
    let sent = tick_daily(
        &planner,
        &clients,
        &mut items,
        (d(2026, 3, 1), d(2026, 4, 30), 12),
        |_, _, _| {},
    );
    assert_eq!(
        sent,
        [
            ("closing-soon/acme/2026-03-07".to_owned(), d(2026, 3, 7)),
            ("closed/acme/2026-04-11".to_owned(), d(2026, 4, 11)),
        ]
    );
}

/// A standing notice the oldest item's payment promise holds back is held as a client's
/// pause holds it: forecast after the promise, explained with its end, sent once then (it
/// was explained as a pause "with no end date" and went as a catch-up not naming it).
#[test]
fn a_standing_notice_an_item_promise_holds_goes_after_it() {
    let planner = Planner::new(&Policy::new(TimeZone::UTC).with_standing(StandingRule::new(30, 60))).unwrap();
    let promise = Pause::new(PauseKind::Promise, "pays on the 10th")
        .starting(d(2026, 3, 1))
        .until(d(2026, 3, 10));
    let clients = [client("acme", "UTC")];
    // Due 2026-02-01: 30 days overdue on 2026-03-03, inside the promise.
    let mut items =
        vec![invoice("A", "acme", d(2026, 1, 2), d(2026, 2, 1), money("100", "USD")).with_pause(promise)];
    let plan = planner
        .plan(&clients, &items, &[], utc(2026, 3, 2, 12, 0), Horizon::days(14))
        .unwrap();
    let up: Vec<_> = plan
        .upcoming()
        .iter()
        .filter(|e| e.stage == Stage::ClosingSoon)
        .collect();
    assert_eq!(up.len(), 1, "{:#?}", lines(&plan));
    assert_eq!(up[0].send_on, d(2026, 3, 11), "{:#?}", lines(&plan));
    assert!(
        up[0]
            .explain()
            .contains("held back by a payment promise until 2026-03-10"),
        "{}",
        up[0].explain()
    );
    let said: Vec<_> = plan.suppressed().iter().filter(|s| s.key == up[0].key).collect();
    assert_eq!(said.len(), 1, "{:#?}", lines(&plan));
    assert_eq!(said[0].on, d(2026, 3, 3));
    assert_eq!(said[0].item.as_ref().map(ItemId::as_str), Some("A"));
    assert!(
        said[0].explain().contains("until 2026-03-10 (pays on the 10th)"),
        "{}",
        said[0].explain()
    );
    // Planned first after the promise, it goes now and names it.
    let plan = planner
        .plan(&clients, &items, &[], utc(2026, 3, 12, 12, 0), Horizon::NONE)
        .unwrap();
    let due: Vec<_> = plan
        .due()
        .iter()
        .filter(|e| e.stage == Stage::ClosingSoon)
        .collect();
    assert_eq!(due.len(), 1, "{:#?}", lines(&plan));
    assert!(
        due[0]
            .explain()
            .contains("held back by a payment promise until 2026-03-10"),
        "{}",
        due[0].explain()
    );
    let sent = tick_daily(
        &planner,
        &clients,
        &mut items,
        (d(2026, 3, 2), d(2026, 3, 31), 12),
        |_, _, _| {},
    );
    assert_eq!(
        sent,
        [("closing-soon/acme/2026-03-03".to_owned(), d(2026, 3, 11))]
    );
}

/// Every overdue item under a payment promise: the standing notice is still forecast after
/// the first promise ends, and the plan says what holds it (it vanished from the plan).
#[test]
fn a_standing_notice_with_every_item_paused_is_forecast_and_explained() {
    let planner = Planner::new(&Policy::new(TimeZone::UTC).with_standing(StandingRule::new(30, 60))).unwrap();
    let promise = |until| {
        Pause::new(PauseKind::Promise, "pays soon")
            .starting(d(2026, 3, 1))
            .until(until)
    };
    let clients = [client("acme", "UTC")];
    let items = [
        invoice("A", "acme", d(2026, 1, 2), d(2026, 2, 1), money("100", "USD"))
            .with_pause(promise(d(2026, 3, 10))),
        invoice("B", "acme", d(2026, 1, 2), d(2026, 2, 1), money("100", "USD"))
            .with_pause(promise(d(2026, 3, 16))),
    ];
    let plan = planner
        .plan(&clients, &items, &[], utc(2026, 3, 5, 12, 0), Horizon::days(14))
        .unwrap();
    let up: Vec<_> = plan.events().filter(|e| e.stage == Stage::ClosingSoon).collect();
    assert_eq!(up.len(), 1, "{:#?}", lines(&plan));
    // A is free on 2026-03-11; B still under its promise is not listed then.
    assert_eq!(up[0].send_on, d(2026, 3, 11), "{:#?}", lines(&plan));
    let listed: Vec<_> = up[0].items.iter().map(|i| i.item.as_str()).collect();
    assert_eq!(listed, ["A"]);
    let said: Vec<_> = plan.suppressed().iter().filter(|s| s.key == up[0].key).collect();
    assert_eq!(said.len(), 1, "{:#?}", lines(&plan));
    assert!(matches!(said[0].reason, SuppressReason::PausedUntil { until, .. } if until == d(2026, 3, 10)));
}

/// An item under a dispute without end does not count toward the standing; when it alone
/// would put the client there, the plan says so.
#[test]
fn a_dispute_without_end_keeps_the_item_out_of_the_standing_and_says_so() {
    let planner = Planner::new(&Policy::new(TimeZone::UTC).with_standing(StandingRule::new(30, 60))).unwrap();
    let items = [
        invoice("D", "acme", d(2026, 1, 1), d(2026, 1, 31), money("100", "USD"))
            .with_pause(Pause::new(PauseKind::Dispute, "wrong amount")),
    ];
    let plan = planner
        .plan(
            &[client("acme", "UTC")],
            &items,
            &[],
            utc(2026, 5, 6, 12, 0),
            Horizon::NONE,
        )
        .unwrap();
    assert!(plan.standings().is_empty());
    assert!(plan.events().next().is_none(), "{:#?}", lines(&plan));
    let said: Vec<_> = plan
        .suppressed()
        .iter()
        .map(|s| {
            (
                s.rule.as_str(),
                s.on,
                s.item.as_ref().map(ItemId::as_str),
                s.explain(),
            )
        })
        .collect();
    assert_eq!(said.len(), 2, "{said:#?}");
    for (rule, (r, on, item, text)) in ["closed", "closing-soon"].iter().zip(&said) {
        assert_eq!((*r, *on, *item), (*rule, d(2026, 5, 6), Some("D")), "{said:#?}");
        assert!(text.contains("dispute (wrong amount) with no end date"), "{text}");
    }
}

/// A dispute without start or end put on the oldest item after its "closing soon" went, while
/// a newer item keeps the client there: nothing more goes and the state's start stays (its
/// whole debt was taken out, and a second "closing soon" went for the newer item's day).
#[test]
fn a_dispute_without_dates_on_the_oldest_item_after_its_notice_sends_nothing_more() {
    let planner = Planner::new(&Policy::new(TimeZone::UTC).with_standing(StandingRule::new(30, 60))).unwrap();
    let clients = [client("acme", "UTC")];
    let mut items = vec![
        invoice("A", "acme", d(2025, 12, 1), d(2026, 1, 1), money("100", "USD")),
        invoice("B", "acme", d(2025, 12, 11), d(2026, 1, 11), money("100", "USD")),
    ];
    let mut since = Vec::new();
    let sent = tick_daily(
        &planner,
        &clients,
        &mut items,
        (d(2026, 1, 20), d(2026, 2, 28), 12),
        |day, items, plan| {
            if day == d(2026, 2, 15) {
                items[0] = items[0]
                    .clone()
                    .with_pause(Pause::new(PauseKind::Dispute, "wrong amount"));
            }
            since.extend(plan.standings().iter().map(|s| (s.state, s.since)));
        },
    );
    assert_eq!(
        sent,
        [("closing-soon/acme/2026-01-31".to_owned(), d(2026, 1, 31))]
    );
    assert!(since.len() > 20, "{since:?}");
    assert!(
        since
            .iter()
            .all(|s| *s == (StandingState::ClosingSoon, d(2026, 1, 31))),
        "{since:?}"
    );
}

/// While the oldest item is under a payment promise, a newer item that gets the client there
/// sends the notice that day, about it (the notice waited for the promise's end).
#[test]
fn a_newer_item_getting_there_during_a_promise_on_the_oldest_sends_the_notice() {
    let planner = Planner::new(&Policy::new(TimeZone::UTC).with_standing(StandingRule::new(30, 60))).unwrap();
    let clients = [client("acme", "UTC")];
    let promise = Pause::new(PauseKind::Promise, "pays on the 10th")
        .starting(d(2026, 1, 28))
        .until(d(2026, 2, 10));
    let mut items = vec![
        invoice("A", "acme", d(2025, 12, 1), d(2026, 1, 1), money("100", "USD")).with_pause(promise),
        invoice("B", "acme", d(2025, 12, 5), d(2026, 1, 5), money("100", "USD")),
    ];
    let sent = tick_daily(
        &planner,
        &clients,
        &mut items,
        (d(2026, 1, 20), d(2026, 2, 28), 12),
        |_, _, _| {},
    );
    assert_eq!(sent, [("closing-soon/acme/2026-01-31".to_owned(), d(2026, 2, 4))]);
}

/// The oldest invoice cancelled, or its payment recorded late with its earlier date, after its
/// "closing soon" went while a newer one keeps the client there: nothing more goes and the
/// state's start stays (a second "closing soon" went, keyed by the newer invoice's day).
#[test]
fn cancelling_or_backdating_the_payment_of_the_oldest_item_sends_nothing_more() {
    let planner = Planner::new(&Policy::new(TimeZone::UTC).with_standing(StandingRule::new(10, 20))).unwrap();
    for (case, zone) in [
        ("cancelled", "UTC"),
        ("paid earlier", "UTC"),
        ("paid earlier", "Pacific/Auckland"),
    ] {
        let clients = [client("acme", zone)];
        let mut items = vec![
            invoice("I1", "acme", d(2026, 2, 1), d(2026, 3, 2), money("100", "USD")),
            invoice("I2", "acme", d(2026, 2, 2), d(2026, 3, 3), money("100", "USD")),
        ];
        let mut since = Vec::new();
        let sent = tick_daily(
            &planner,
            &clients,
            &mut items,
            (d(2026, 3, 1), d(2026, 3, 21), 12),
            |day, items, plan| {
                if day == d(2026, 3, 14) {
                    items[0] = if case == "cancelled" {
                        items[0].clone().with_status(ItemStatus::Cancelled)
                    } else {
                        let b = items[0].balance().unwrap().unwrap();
                        items[0].clone().paid(b, d(2026, 3, 9))
                    };
                }
                since.extend(plan.standings().iter().map(|s| (s.state, s.since)));
            },
        );
        assert_eq!(sent.len(), 1, "{case} in {zone}: {sent:?}");
        assert!(
            sent[0].0.starts_with("closing-soon/acme/2026-03-1"),
            "{case}: {sent:?}"
        );
        let first = since.first().copied().unwrap();
        assert!(since.len() > 5, "{case}: {since:?}");
        assert!(since.iter().all(|s| *s == first), "{case} in {zone}: {since:?}");
    }
}

/// The oldest item's payment recorded late, dated before the newer item got the client there:
/// the client stayed overdue all along, so the notice that went counts and nothing more goes
/// (a second "closing soon" went for the newer item's day, and `since` moved to it).
#[test]
fn a_payment_backdated_before_the_newer_item_got_there_sends_nothing_more() {
    let planner = Planner::new(&Policy::new(TimeZone::UTC).with_standing(StandingRule::new(10, 20))).unwrap();
    let clients = [client("acme", "UTC")];
    let mut items = vec![
        invoice("A", "acme", d(2025, 12, 1), d(2026, 1, 1), money("100", "USD")),
        invoice("B", "acme", d(2025, 12, 3), d(2026, 1, 3), money("100", "USD")),
    ];
    let mut since = Vec::new();
    let sent = tick_daily(
        &planner,
        &clients,
        &mut items,
        (d(2026, 1, 5), d(2026, 1, 31), 12),
        |day, items, plan| {
            if day == d(2026, 1, 16) {
                let b = items[0].balance().unwrap().unwrap();
                items[0] = items[0].clone().paid(b, d(2026, 1, 5));
            }
            since.extend(
                plan.standings()
                    .iter()
                    .filter(|s| s.state == StandingState::ClosingSoon)
                    .map(|s| s.since),
            );
        },
    );
    assert_eq!(
        sent,
        [
            ("closing-soon/acme/2026-01-11".to_owned(), d(2026, 1, 11)),
            ("closed/acme/2026-01-23".to_owned(), d(2026, 1, 23)),
        ]
    );
    assert!(since.len() > 5, "{since:?}");
    assert!(since.iter().all(|s| *s == d(2026, 1, 11)), "{since:?}");
}
