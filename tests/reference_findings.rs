//! Findings of the reference planner (`tests/reference`, `reference_planner.rs`): promises of
//! the documentation the planner breaks, each a small focused case, ignored until fixed (the
//! property that found it skips that one class of case, naming the test here).

mod common;

use common::*;
use dunning::*;

/// A statement and a standing notice that a pause with an end holds back are forecast at the
/// first instant of the first working day after it, like a reminder the same pause holds
/// back; when that instant is within the horizon but the day's send time is not, the
/// reminder is listed and the statement and the notice are not (they are with a horizon one
/// day longer).
///
/// README "Pauses": "A pause with an end holds reminders, statements and standing notices
/// back until after it. Their send instants pass during the pause, so each goes as a missed
/// send does: at the first tick of the first working day after the pause (forecast at the
/// start of that day)". `Horizon::days`: "A forecast of `days` days after `now`"; DESIGN 11:
/// "A forecast mode lists what would be sent over the next N days if nothing changes."
#[test]

fn a_statement_or_notice_held_to_the_start_of_a_day_within_the_horizon_is_forecast() {
    let promise = Pause::new(PauseKind::Promise, "pays on the 25th")
        .starting(d(2026, 3, 11))
        .until(d(2026, 3, 25));
    let policy = Policy::new(TimeZone::UTC)
        .with_send_time(t(12, 0))
        .with_rule(rule("late", Anchor::Due, 11))
        .with_statement(StatementRule::new(
            "monthly".parse().unwrap(),
            "FREQ=MONTHLY;BYMONTHDAY=12",
            d(2026, 1, 1),
        ))
        .with_standing(StandingRule::new(20, 60));
    let planner = Planner::new(&policy).unwrap();
    let clients = [client("c", "UTC").with_pause(promise)];
    // Due 2026-02-28: "late" on 03-11, the statement on 03-12, "closing soon" on 03-20, all
    // inside the promise; each is held to 2026-03-26 00:00 UTC.
    let items = [invoice(
        "F",
        "c",
        d(2026, 1, 27),
        d(2026, 2, 28),
        money("10", "USD"),
    )];
    let history: Vec<HistoryEntry> = Vec::new();
    // 25 days after 2026-03-01 05:00 is 2026-03-26 05:00: after 00:00, before the send time.
    let plan = planner
        .plan(
            &clients,
            &items,
            &history,
            utc(2026, 3, 1, 5, 0),
            Horizon::days(25),
        )
        .unwrap();
    let upcoming: Vec<(String, chrono::DateTime<chrono::Utc>)> = plan
        .upcoming()
        .iter()
        .filter(|e| e.send_on == d(2026, 3, 26))
        .map(|e| (e.key.to_string(), e.send_at))
        .collect();
    let at = utc(2026, 3, 26, 0, 0);
    assert_eq!(
        upcoming,
        [
            ("closing-soon/c/2026-03-20".to_owned(), at),
            ("late/F/1".to_owned(), at),
            ("monthly/c/2026-03-12".to_owned(), at),
        ],
        "{:#?}",
        lines(&plan)
    );
}

/// An invoice under a dispute without end does not count toward the standing: when it alone
/// would have got the client into "closed" a day before another invoice does, the client
/// enters the state the day the other one gets it there, and the notice is keyed by that day
/// (`Plan::standings` says so too). The planner keys it, and dates `since`, by the disputed
/// invoice's day.
///
/// README "Pauses": "an invoice under a pause without end (a dispute) does not count toward
/// the standing"; `StandingRule`: "A notice fires once on entering each state, keyed by the
/// day the client entered it", "An item under a pause without end (a dispute) does not count
/// toward the state"; `ClientStanding::since`: "The day it entered this state."
#[test]

fn a_disputed_invoice_does_not_date_the_entry_into_a_state() {
    let policy = Policy::new(TimeZone::UTC).with_standing(StandingRule::new(5, 22));
    let planner = Planner::new(&policy).unwrap();
    let clients = [client("c", "UTC")];
    let dispute = Pause::new(PauseKind::Dispute, "wrong amount").starting(d(2026, 2, 9));
    // A, disputed from 2026-02-09, would be 22 days overdue on 02-20; B gets there on 02-21.
    let items = [
        invoice("A", "c", d(2026, 1, 2), d(2026, 1, 29), money("10", "USD")).with_pause(dispute),
        invoice("B", "c", d(2026, 1, 2), d(2026, 1, 30), money("10", "USD")),
    ];
    let plan = planner
        .plan(&clients, &items, &[], utc(2026, 2, 21, 12, 0), Horizon::NONE)
        .unwrap();
    let closed: Vec<(String, Vec<String>)> = plan
        .due()
        .iter()
        .filter(|e| e.stage == Stage::Closed)
        .map(|e| {
            (
                e.key.to_string(),
                e.items.iter().map(|i| i.item.to_string()).collect(),
            )
        })
        .collect();
    assert_eq!(
        closed,
        [("closed/c/2026-02-21".to_owned(), vec!["B".to_owned()])],
        "{:#?}",
        lines(&plan)
    );
    let since: Vec<_> = plan.standings().iter().map(|s| (s.state, s.since)).collect();
    assert_eq!(since, [(StandingState::Closed, d(2026, 2, 21))]);
}
