//! A forecast made when nothing changes afterwards is what goes (`Plan::upcoming`: "assuming
//! nothing changes and every event is sent when planned"), checked by replaying the days with
//! ticks that feed what went back as history.

mod common;

use chrono::Duration;
use common::*;
use dunning::*;

/// What ticks every `step` from `from` to `to` send, fed back as history: the history, and
/// each send as "day key".
fn sends_every(
    step: Duration,
    planner: &Planner,
    clients: &[Client],
    items: &[Item],
    from: chrono::DateTime<chrono::Utc>,
    to: chrono::DateTime<chrono::Utc>,
) -> (Vec<HistoryEntry>, Vec<String>) {
    let mut history = vec![];
    let mut sent = vec![];
    let mut now = from;
    while now <= to {
        let plan = planner
            .plan(clients, items, &history, now, Horizon::NONE)
            .unwrap();
        for e in plan.due() {
            sent.push(format!("{} {}", e.send_on, e.key));
            history.push(e.to_history(now));
        }
        now += step;
    }
    (history, sent)
}

/// Two invoices, gap 3, an "issued" rule repeating every 5 days and a "due soon" repeating
/// every 7. Ticking hourly, on 03-16 the plan forecasts soon/B/2 for 03-23 (issued/B/2
/// superseded by it), soon/B/1 having waited for the gap until the due date (too late).
/// Once issued/B/1 has gone on that due date as forecast, soon/B/1 is still too late, not
/// superseded by it, and soon's repeats are not spaced from that send.
#[test]
fn a_gap_forecast_is_what_goes_when_everything_goes_as_planned() {
    let policy = Policy::new(TimeZone::UTC)
        .with_min_gap(3)
        .with_rule(rule("issued", Anchor::Issued, 3).repeat(5, 3))
        .with_rule(rule("soon", Anchor::Due, -3).repeat(7, 2));
    let planner = Planner::new(&policy).unwrap();
    let clients = vec![client("c0", "UTC")];
    let eur = money("10.00", "EUR");
    let items = vec![
        invoice("A", "c0", d(2026, 3, 11), d(2026, 3, 13), eur),
        invoice("B", "c0", d(2026, 3, 9), d(2026, 3, 17), eur),
    ];
    let start = utc(2026, 3, 1, 0, 30);
    let fc_at = utc(2026, 3, 16, 12, 30);
    let (hist, _) = sends_every(
        Duration::hours(1),
        &planner,
        &clients,
        &items,
        start,
        fc_at - Duration::hours(1),
    );
    let forecast = planner
        .plan(&clients, &items, &hist, fc_at, Horizon::days(14))
        .unwrap();
    let expected: Vec<String> = forecast
        .events()
        .filter(|e| e.send_at <= utc(2026, 3, 28, 0, 0))
        .map(|e| format!("{} {}", e.send_on, e.key))
        .collect();
    let (all, _) = sends_every(
        Duration::hours(1),
        &planner,
        &clients,
        &items,
        start,
        utc(2026, 3, 28, 0, 0),
    );
    let went: Vec<String> = all[hist.len()..]
        .iter()
        .map(|h| format!("{} {}", h.sent_at.date_naive(), h.key))
        .collect();
    assert_eq!(went, expected, "forecast at {fc_at} against what went");
}

/// No gap at all. An invoice issued on its due date (Mon 2026-03-09): "issued" the next
/// day, and a "due soon" one day before due repeating every 3 days (its first occurrence
/// is too late). Planned on 03-09 at noon, soon/F/2 is forecast for 03-11; once issued/F/1
/// has gone as forecast, the plan moves soon/F/2 to 03-13 (a holiday, so 03-16).
#[test]
fn a_repeat_after_a_superseded_stage_goes_as_forecast() {
    let policy = Policy::new(TimeZone::UTC)
        .with_send_time(t(0, 0))
        .with_calendar(BusinessCalendar::new(
            [chrono::Weekday::Sat, chrono::Weekday::Sun],
            [d(2026, 3, 13)],
        ))
        .with_rule(rule("issued", Anchor::Issued, 1))
        .with_rule(rule("soon", Anchor::Due, -1).repeat(3, 4));
    let planner = Planner::new(&policy).unwrap();
    let clients = vec![client("c1", "UTC")];
    let items = vec![invoice(
        "F",
        "c1",
        d(2026, 3, 9),
        d(2026, 3, 9),
        money("83.37", "USD"),
    )];
    let fc_at = utc(2026, 3, 9, 12, 0);
    let forecast = planner
        .plan(&clients, &items, &[], fc_at, Horizon::days(10))
        .unwrap();
    let expected: Vec<String> = forecast
        .events()
        .filter(|e| e.send_at <= utc(2026, 3, 19, 0, 0))
        .map(|e| format!("{} {}", e.send_at, e.key))
        .collect();
    let (all, _) = sends_every(
        Duration::minutes(30),
        &planner,
        &clients,
        &items,
        fc_at,
        utc(2026, 3, 19, 0, 0),
    );
    let went: Vec<String> = all.iter().map(|h| format!("{} {}", h.sent_at, h.key)).collect();
    assert_eq!(
        went, expected,
        "what went (left) against the forecast at {fc_at} (right)"
    );
}

/// Gap 3, one "overdue" rule, every day a working day; the client promised to pay from
/// 2026-04-10 to 04-23, and on 04-13 three reminders wait: C's (missed since 03-20), B's
/// (missed since 03-30) and A's (due 04-08). C goes first, at the start of 04-24; then the one
/// that has waited longest (README "Minimum gap"): B's, on 04-27, then A's on 04-30. Before,
/// once held back by the gap on 04-24, B's and A's both counted as waiting since the pause
/// held them (04-13), and the forecast sent A's first, by item order; the ticks, once C's had
/// gone, sent B's first.
#[test]
fn after_a_pause_the_reminder_missed_longest_ago_goes_first_as_forecast() {
    let policy = Policy::new(TimeZone::UTC)
        .with_calendar(BusinessCalendar::new([], []))
        .with_min_gap(3)
        .with_rule(rule("overdue", Anchor::Due, 0));
    let planner = Planner::new(&policy).unwrap();
    let promise = Pause::new(PauseKind::Promise, "pays on the 23rd")
        .starting(d(2026, 4, 10))
        .until(d(2026, 4, 23));
    let clients = vec![client("c", "UTC").with_pause(promise)];
    let usd = money("10", "USD");
    let items = vec![
        invoice("A", "c", d(2026, 3, 1), d(2026, 4, 8), usd),
        invoice("B", "c", d(2026, 3, 1), d(2026, 3, 30), usd),
        invoice("C", "c", d(2026, 3, 1), d(2026, 3, 20), usd),
    ];
    let fc_at = utc(2026, 4, 13, 12, 0);
    let forecast = planner
        .plan(&clients, &items, &[], fc_at, Horizon::days(30))
        .unwrap();
    let expected: Vec<String> = forecast
        .events()
        .map(|e| format!("{} {}", e.send_on, e.key))
        .collect();
    assert_eq!(
        expected,
        [
            "2026-04-24 overdue/C/1",
            "2026-04-27 overdue/B/1",
            "2026-04-30 overdue/A/1"
        ],
        "{:#?}",
        lines(&forecast)
    );
    let (all, _) = sends_every(
        Duration::hours(1),
        &planner,
        &clients,
        &items,
        fc_at,
        utc(2026, 5, 13, 0, 0),
    );
    let went: Vec<String> = all
        .iter()
        .map(|h| format!("{} {}", h.sent_at.date_naive(), h.key))
        .collect();
    assert_eq!(
        went, expected,
        "what went (left) against the forecast at {fc_at} (right)"
    );
}

/// A grouped notice the minimum gap holds back to a send instant past the plan's end is not
/// listed, so what held its item back is said under the item's own key (a notice's key names
/// items a later plan may join, and no event of the plan carries it), as for any reminder
/// past the horizon; a plan that lists the notice says it under the notice's key.
#[test]
fn what_held_back_a_grouped_notice_past_the_plans_end_is_said_under_the_items_key() {
    let policy = Policy::new(TimeZone::UTC)
        .with_send_time(t(11, 30))
        .with_min_gap(5)
        .with_rule(rule("r0", Anchor::Issued, 1).grouped());
    let clients = [client("c", "UTC")];
    let items = [invoice(
        "F-1",
        "c",
        d(2026, 3, 7),
        d(2026, 6, 30),
        money("10", "USD"),
    )];
    let history = [HistoryEntry::manual(
        "c".parse().unwrap(),
        "F-0".parse().unwrap(),
        utc(2026, 4, 11, 15, 0),
    )];
    let planner = Planner::new(&policy).unwrap();
    let now = utc(2026, 4, 16, 0, 0);
    let plan = planner
        .plan(&clients, &items, &history, now, Horizon::NONE)
        .unwrap();
    assert_eq!(plan.events().count(), 0, "{plan:#?}");
    let deferred: Vec<(&str, chrono::NaiveDate)> = plan
        .suppressed()
        .iter()
        .filter(|s| matches!(s.reason, SuppressReason::Deferred { .. }))
        .map(|s| (s.key.as_str(), s.on))
        .collect();
    assert_eq!(deferred, [("r0/F-1/1", d(2026, 4, 16))]);
    // A day's plan lists it, and says it under the notice's key.
    let plan = planner
        .plan(&clients, &items, &history, now, Horizon::days(1))
        .unwrap();
    let notice = plan.events().next().expect("the notice is listed");
    assert!(notice.key.as_str().starts_with("r0/c/USD/g"), "{}", notice.key);
    assert!(
        plan.suppressed()
            .iter()
            .any(|s| s.key == notice.key && matches!(s.reason, SuppressReason::Deferred { .. })),
        "{plan:#?}"
    );
}
