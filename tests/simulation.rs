//! Simulation tests: step `now` through a quarter, feed each step's sent events back as
//! history, and check the whole sequence (STYLE.md item 10).

mod common;

use std::collections::{BTreeMap, HashSet};

use chrono::Duration;
use common::*;
use dunning::*;

fn quarter_policy() -> Policy {
    Policy::new(tz("America/Santiago"))
        .with_calendar(BusinessCalendar::new(
            [chrono::Weekday::Sat, chrono::Weekday::Sun],
            [d(2026, 5, 1), d(2026, 5, 21), d(2026, 6, 29)],
        ))
        .with_rule(rule("issued", Anchor::Issued, 0))
        .with_rule(rule("due-soon", Anchor::Due, -5))
        .with_rule(rule("due-today", Anchor::Due, 0))
        .with_rule(rule("overdue", Anchor::Due, 3).repeat(7, 4))
        .with_rule(Rule::pending_action("pending".parse().unwrap()))
}

fn quarter_portfolio() -> (Vec<Client>, Vec<Item>) {
    let clients = vec![
        client("cl", "America/Santiago"),
        client("es", "Europe/Madrid"),
        client("br", "America/Sao_Paulo"),
        client("uk", "UTC"),
    ];
    let mut items = Vec::new();
    for (ci, c) in clients.iter().enumerate() {
        for n in 0..6u32 {
            let issued = d(2026, 4, 1) + Duration::days(i64::from(n * 11 + ci as u32 * 3));
            let term = [10, 15, 30][(n as usize + ci) % 3];
            let id = format!("{}-{n}", c.id);
            let (amount, code) = if ci == 1 {
                ("120.50", "EUR")
            } else {
                ("150000", "CLP")
            };
            items.push(invoice(
                &id,
                c.id.as_str(),
                issued,
                issued + Duration::days(term),
                money(amount, code),
            ));
        }
        items.push(Item::action(
            format!("{}-form", c.id).parse().unwrap(),
            c.id.clone(),
            ItemKind::Form,
            d(2026, 4, 20) + Duration::days(ci as i64),
        ));
    }
    (clients, items)
}

/// Steps daily at 14:00 UTC (after 09:00 local in every zone used) from 2026-04-01 through
/// the quarter; returns the history.
fn run_quarter(planner: &Planner, clients: &[Client], items: &[Item]) -> Vec<HistoryEntry> {
    simulate(
        planner,
        clients,
        items,
        utc(2026, 4, 1, 14, 0),
        utc(2026, 6, 30, 14, 0),
        Duration::days(1),
    )
}

#[test]
fn a_quarter_day_by_day_sends_exactly_the_forecast() {
    let planner = Planner::new(&quarter_policy()).unwrap();
    let (clients, items) = quarter_portfolio();
    let forecast = planner
        .plan(&clients, &items, &[], utc(2026, 4, 1, 14, 0), Horizon::days(90))
        .unwrap();
    let history = run_quarter(&planner, &clients, &items);

    let sent: Vec<(String, chrono::NaiveDate)> = history
        .iter()
        .map(|h| {
            let zone = clients
                .iter()
                .find(|c| c.id == h.client)
                .unwrap()
                .time_zone
                .unwrap();
            (h.key.to_string(), zone.local_date(h.sent_at))
        })
        .collect();
    let mut planned: Vec<(String, chrono::NaiveDate)> = forecast
        .events()
        .map(|e| (e.key.to_string(), e.send_on))
        .collect();
    let mut sent_sorted = sent.clone();
    sent_sorted.sort();
    planned.sort();
    assert_eq!(
        sent_sorted, planned,
        "the day-by-day run must send exactly what the forecast said"
    );
    assert!(history.len() > 60, "a busy quarter: {}", history.len());

    // Never twice, never over the count, at most one message per item per day.
    let keys: HashSet<&str> = history.iter().map(|h| h.key.as_str()).collect();
    assert_eq!(keys.len(), history.len());
    let mut per_rule_item: BTreeMap<(String, String), u32> = BTreeMap::new();
    let mut per_item_day = HashSet::new();
    for (h, (_, day)) in history.iter().zip(&sent) {
        let rule = h.rule.clone().unwrap();
        let count = quarter_policy()
            .rules
            .iter()
            .find(|r| r.id == rule)
            .unwrap()
            .count;
        for it in &h.items {
            let n = per_rule_item
                .entry((rule.to_string(), it.item.to_string()))
                .or_default();
            *n += 1;
            assert!(*n <= count, "{rule} fired {n} times for {}", it.item);
            assert!(
                per_item_day.insert((it.item.to_string(), *day)),
                "two messages for {} on {day}",
                it.item
            );
        }
    }
    // Each send happens on a working day.
    let cal = quarter_policy().calendar;
    for (key, day) in &sent {
        assert!(cal.is_working_day(*day), "{key} sent on {day}");
    }
}

#[test]
fn payments_arriving_mid_quarter_stop_reminders_from_that_day() {
    let planner = Planner::new(&quarter_policy()).unwrap();
    let (clients, mut items) = quarter_portfolio();
    let mut history: Vec<HistoryEntry> = Vec::new();
    let mut paid_on: BTreeMap<String, chrono::DateTime<chrono::Utc>> = BTreeMap::new();
    let mut now = utc(2026, 4, 1, 14, 0);
    let mut day = 0;
    while now <= utc(2026, 6, 30, 14, 0) {
        // Every fifth day, the oldest open invoice is paid in full before the day's plan.
        if day % 5 == 4 {
            if let Some(item) = items
                .iter_mut()
                .filter(|i| i.kind == ItemKind::Invoice && i.effective_status().unwrap().is_pending())
                .min_by_key(|i| (i.issued_on, i.id.clone()))
            {
                let balance = item.balance().unwrap().unwrap();
                let today = now.date_naive();
                item.applied.push(Applied {
                    kind: AppliedKind::Payment,
                    amount: balance,
                    on: today,
                    reference: None,
                });
                paid_on.insert(item.id.to_string(), now);
            }
        }
        let plan = planner
            .plan(&clients, &items, &history, now, Horizon::NONE)
            .unwrap();
        history.extend(plan.due().iter().map(|e| e.to_history(now)));
        now += Duration::days(1);
        day += 1;
    }
    assert!(paid_on.len() >= 10);
    assert!(history.len() > 30, "{}", history.len());
    for h in &history {
        for it in &h.items {
            if let Some(paid) = paid_on.get(it.item.as_str()) {
                assert!(
                    h.sent_at < *paid,
                    "{} sent at {} after payment at {paid}",
                    h.key,
                    h.sent_at
                );
            }
        }
    }
}

#[test]
fn an_outage_never_produces_a_burst() {
    let planner = Planner::new(&quarter_policy()).unwrap();
    let (clients, items) = quarter_portfolio();
    let mut history: Vec<HistoryEntry> = Vec::new();
    let mut now = utc(2026, 4, 1, 14, 0);
    while now <= utc(2026, 6, 30, 14, 0) {
        // Down from 05-10 to 05-20 (ten days).
        let down = now > utc(2026, 5, 10, 0, 0) && now < utc(2026, 5, 20, 0, 0);
        if !down {
            let plan = planner
                .plan(&clients, &items, &history, now, Horizon::NONE)
                .unwrap();
            let mut seen = HashSet::new();
            for e in plan.due() {
                for it in &e.items {
                    assert!(
                        seen.insert(it.item.clone()),
                        "two messages for {} at {now}",
                        it.item
                    );
                }
                history.push(e.to_history(now));
            }
        }
        now += Duration::days(1);
    }
    let keys: HashSet<&str> = history.iter().map(|h| h.key.as_str()).collect();
    assert_eq!(keys.len(), history.len());
    // Repeats after the outage are spaced a full week from the catch-up send.
    let overdue: Vec<_> = history
        .iter()
        .filter(|h| h.rule.as_ref().is_some_and(|r| r.as_str() == "overdue"))
        .collect();
    for a in &overdue {
        for b in &overdue {
            if a.items[0].item == b.items[0].item && b.items[0].occurrence == a.items[0].occurrence + 1 {
                assert!(
                    b.sent_at - a.sent_at >= Duration::days(7),
                    "{} then {}",
                    a.key,
                    b.key
                );
            }
        }
    }
}

/// Hour by hour across a daylight-saving change: every event goes out within the hour after
/// its instant, exactly once, including the send time that falls in the gap and the one that
/// happens twice in the overlap.
fn hourly_across(
    zone: &str,
    send_time: chrono::NaiveTime,
    due: chrono::NaiveDate,
    start: chrono::DateTime<chrono::Utc>,
) {
    let policy = Policy::new(tz(zone))
        .with_send_time(send_time)
        .with_rule(rule("due-soon", Anchor::Due, -1))
        .with_rule(rule("overdue", Anchor::Due, 0).repeat(1, 4));
    let planner = Planner::new(&policy).unwrap();
    let clients = [client("c", zone)];
    let items = [invoice(
        "F-1",
        "c",
        due - Duration::days(20),
        due,
        money("10.00", "EUR"),
    )];
    let forecast = planner
        .plan(&clients, &items, &[], start, Horizon::days(10))
        .unwrap();
    let history = simulate(
        &planner,
        &clients,
        &items,
        start,
        start + Duration::days(10),
        Duration::hours(1),
    );
    assert_eq!(
        forecast.events().count(),
        5,
        "due soon, then four daily overdue reminders"
    );
    assert_eq!(history.len(), 5);
    for (h, e) in history.iter().zip(forecast.events()) {
        assert_eq!(h.key, e.key);
        let late = h.sent_at - e.send_at;
        assert!(
            late >= Duration::zero() && late < Duration::hours(1),
            "{} planned {} sent {}",
            e.key,
            e.send_at,
            h.sent_at
        );
    }
}

#[test]
fn hourly_across_santiago_spring_forward() {
    // 2026-09-06 00:00 -04 -> 01:00 -03: 00:30 does not exist that night.
    hourly_across("America/Santiago", t(0, 30), d(2026, 9, 6), utc(2026, 9, 3, 0, 0));
}

#[test]
fn hourly_across_madrid_spring_forward_and_fall_back() {
    hourly_across("Europe/Madrid", t(2, 30), d(2026, 3, 29), utc(2026, 3, 26, 0, 0));
    // 2026-10-25 03:00 CEST -> 02:00 CET: 02:30 happens twice; sent once, at the first.
    hourly_across(
        "Europe/Madrid",
        t(2, 30),
        d(2026, 10, 25),
        utc(2026, 10, 22, 0, 0),
    );
}
