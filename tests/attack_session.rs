//! Adversarial review of this session's changes: superseded runs in closed form (c8a1969),
//! disputes and the standing (caf202e), statements and standing notices held by a pause to
//! the first instant of a day within the horizon (56f9543), and the overrides' serde after
//! their move to `dunning::model` (271df6e).

#![allow(clippy::type_complexity)]

mod common;

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, NaiveDate, Utc, Weekday};
use common::*;
use dunning::*;
use proptest::prelude::*;

fn contact_client(id: &str, zone: &str) -> Client {
    client(id, zone)
}

fn sent(rule: &str, item: &str, client: &str, occurrence: u32, at: DateTime<Utc>) -> HistoryEntry {
    sent_entry(rule, item, client, occurrence, at)
}

fn same_three_ways(
    planner: &Planner,
    clients: &[Client],
    items: &[Item],
    history: &[HistoryEntry],
    now: DateTime<Utc>,
    horizon: Horizon,
) -> Plan {
    let plan = planner.plan(clients, items, history, now, horizon).unwrap();
    let scheduled = planner
        .schedule(clients, items, history, now, horizon)
        .unwrap()
        .to_plan();
    let portfolio = planner
        .portfolio(clients, items)
        .unwrap()
        .plan(history, now, horizon)
        .unwrap();
    assert_eq!(plan, scheduled, "schedule().to_plan() differs from plan()");
    assert_eq!(plan, portfolio, "portfolio().plan() differs from plan()");
    plan
}

// ---------------------------------------------------------------------------------------
// 1. Runs of superseded occurrences (c8a1969)
// ---------------------------------------------------------------------------------------

/// Superseded occurrences of a repeating rule, said on their own days, within the window
/// (the first of the run on the day of the send that superseded it). Relies on: "Every planned event says why it fires; every suppressed one says why not
/// (paid, promise until D, excluded for client, count reached, superseded...)" and
/// `Plan::suppressed`: "Events not sent (or not on their day), with reasons, between the
/// planner's lookback before `now` and the horizon."
fn superseded_days(
    zone: &str,
    every: u32,
    offset: i32,
    count: u32,
    lookback: u32,
) -> (BTreeSet<(String, NaiveDate)>, BTreeSet<(String, NaiveDate)>) {
    let policy = Policy::new(tz(zone))
        .with_rule(rule("a-run", Anchor::Due, offset).repeat(every, count))
        .with_rule(rule("z-final", Anchor::Due, 400));
    let c = contact_client("c", zone);
    let due = d(2019, 1, 31);
    let item = invoice("i", "c", d(2019, 1, 1), due, money("100", "USD"));
    let sent_on = d(2026, 5, 30);
    let history = [sent(
        "z-final",
        "i",
        "c",
        1,
        sent_on.and_hms_opt(12, 0, 0).unwrap().and_utc(),
    )];
    let now = d(2026, 6, 1).and_hms_opt(12, 0, 0).unwrap().and_utc();
    let planner = Planner::new(&policy).unwrap().with_lookback(lookback);
    let plan = same_three_ways(
        &planner,
        std::slice::from_ref(&c),
        std::slice::from_ref(&item),
        &history,
        now,
        Horizon::days(3),
    );
    let got = plan
        .suppressed()
        .iter()
        .filter(|s| matches!(&s.reason, SuppressReason::Superseded { by } if by.as_str() == "z-final/i/1"))
        .map(|s| (s.key.to_string(), s.on))
        .collect();
    // Local "today" in the client's zone.
    let today = tz(zone).local_date(now);
    let window_start = today - Duration::days(i64::from(lookback));
    let first = due + Duration::days(i64::from(offset));
    let nominal = |j: u32| first + Duration::days(i64::from(j - 1) * i64::from(every));
    let sent_local = tz(zone).local_date(history[0].sent_at);
    // Those before the due date were too late before the send, not superseded by it. The
    // first it supersedes is said on the day it went (as the plans before it said: it lost
    // that day's catch-up to it), the others on their own days.
    let run_from = (1..=count).find(|&j| nominal(j) >= due).unwrap();
    let mut want: BTreeSet<(String, NaiveDate)> = (run_from + 1..=count)
        .map(|j| (j, nominal(j)))
        .filter(|(_, on)| *on >= window_start && *on <= sent_local)
        .map(|(j, on)| (format!("a-run/i/{j}"), on))
        .collect();
    if sent_local >= window_start {
        want.insert((format!("a-run/i/{run_from}"), sent_local));
    }
    (got, want)
}

#[test]
fn superseded_runs_are_said_within_the_window_for_daily_and_weekly_repeats_east_and_west() {
    for zone in [
        "Pacific/Kiritimati",
        "Pacific/Pago_Pago",
        "America/Santiago",
        "UTC",
    ] {
        for (every, offset) in [(1u32, 1i32), (7, -3), (7, 2), (3, -10), (1, -1)] {
            for lookback in [0u32, 1, 2, 3, 6, 7, 8, 13, 14, 60, 365, 399, 400] {
                let (got, want) = superseded_days(zone, every, offset, limits::MAX_COUNT, lookback);
                assert_eq!(
                    got, want,
                    "{zone} every {every} offset {offset} lookback {lookback}"
                );
            }
        }
    }
}

/// The count caps the run: occurrences past it are never said superseded, and the count
/// being reached is said.
#[test]
fn a_superseded_run_stops_at_the_count() {
    // Daily from 2019-02-01: occurrence 2,675 is 2026-05-30 (the send's day).
    for count in [2_670u32, 2_674, 2_675, 2_676, 2_680, limits::MAX_COUNT - 1] {
        for lookback in [0u32, 3, 7, 30] {
            let (got, want) = superseded_days("UTC", 1, 1, count, lookback);
            assert_eq!(got, want, "count {count} lookback {lookback}");
        }
    }
}

fn rand_world(
    seed: u64,
) -> (
    Policy,
    Vec<Client>,
    Vec<Item>,
    Vec<HistoryEntry>,
    DateTime<Utc>,
    Horizon,
    u32,
) {
    let mut s = seed | 1;
    let mut next = move |n: u64| {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s % n
    };
    let zones = [
        "UTC",
        "America/Santiago",
        "Pacific/Auckland",
        "America/New_York",
        "Pacific/Kiritimati",
    ];
    let zone = zones[next(zones.len() as u64) as usize];
    let now = (d(2026, 1, 1) + Duration::days(next(365) as i64))
        .and_hms_opt(next(24) as u32, 30, 0)
        .unwrap()
        .and_utc();
    let mut policy = Policy::new(tz(zone)).with_send_time(t(next(24) as u32, 0));
    if next(2) == 0 {
        policy = policy.with_calendar(BusinessCalendar {
            non_working_weekdays: vec![Weekday::Sat, Weekday::Sun],
            holidays: [now.date_naive() - Duration::days(next(20) as i64)].into(),
        });
    }
    if next(3) == 0 {
        policy = policy.with_min_gap(1 + next(4) as u32);
    }
    let offsets = [-10i32, -3, -1, 0, 1, 3, 7, 30];
    let rules = 2 + next(2);
    for k in 0..rules {
        let offset = offsets[next(offsets.len() as u64) as usize];
        let every = [1u32, 1, 2, 7][next(4) as usize];
        let count = [3u32, 40, limits::MAX_COUNT, limits::MAX_COUNT - 1][next(4) as usize];
        policy = policy.with_rule(rule(&format!("r{k}"), Anchor::Due, offset).repeat(every, count));
    }
    let c = contact_client("c", zone);
    let mut c = c;
    if next(4) == 0 {
        let from = now.date_naive() - Duration::days(next(10) as i64);
        c = c.with_pause(
            Pause::new(PauseKind::Promise, "p")
                .starting(from)
                .until(from + Duration::days(next(9) as i64)),
        );
    }
    let mut items = Vec::new();
    let mut history = Vec::new();
    for i in 0..2 {
        let id = format!("i{i}");
        let issued =
            now.date_naive() - Duration::days([5i64, 40, 400, 4000][next(4) as usize] + next(30) as i64);
        let due = issued + Duration::days(next(40) as i64);
        items.push(invoice(&id, "c", issued, due, money("100", "USD")));
        for _ in 0..next(3) {
            let r = next(rules);
            let on = now.date_naive() - Duration::days(next(60) as i64 + 1);
            let occ = 1 + next(30) as u32;
            history.push(sent(
                &format!("r{r}"),
                &id,
                "c",
                occ,
                on.and_hms_opt(11, 0, 0).unwrap().and_utc(),
            ));
        }
        if next(5) == 0 {
            let on = now.date_naive() - Duration::days(next(10) as i64 + 1);
            history.push(HistoryEntry::manual(
                "c".parse().unwrap(),
                id.parse().unwrap(),
                on.and_hms_opt(10, 0, 0).unwrap().and_utc(),
            ));
        }
    }
    let horizon = Horizon::days([0u32, 1, 7, 30][next(4) as usize]);
    let lookback = [0u32, 1, 7, 30, 400, next(401) as u32][next(6) as usize];
    (policy, vec![c], items, history, now, horizon, lookback)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, .. ProptestConfig::default() })]
    /// `plan`, `schedule(..).to_plan()` and `portfolio(..).plan(..)` agree, every
    /// superseded entry's day is within the window, and no key in history is planned.
    /// Relies on: "`Schedule::to_plan` is the `Plan`" and "the same plans, without the input
    /// check each time"; "A key recorded as sent is never planned again."
    #[test]
    fn superseded_runs_agree_three_ways_and_stay_in_the_window(seed in any::<u64>()) {
        let (policy, clients, items, history, now, horizon, lookback) = rand_world(seed);
        let planner = Planner::new(&policy).unwrap().with_lookback(lookback);
        let plan = same_three_ways(&planner, &clients, &items, &history, now, horizon);
        let today = policy.time_zone.local_date(now);
        let end = policy.time_zone.local_date(now + Duration::days(i64::from(horizon.as_days())));
        for s in plan.suppressed() {
            if matches!(s.reason, SuppressReason::Superseded { .. }) {
                prop_assert!(s.on >= today - Duration::days(i64::from(lookback)) && s.on <= end,
                    "{} said on {} outside the window", s.key, s.on);
            }
        }
        let keys: BTreeSet<_> = plan.suppressed().iter().map(|s| (s.key.clone(), s.on, format!("{:?}", s.reason))).collect();
        prop_assert_eq!(keys.len(), plan.suppressed().len(), "a suppression said twice");
        let sent_keys: BTreeSet<_> = history.iter().map(|h| h.key.clone()).collect();
        for e in plan.events() {
            prop_assert!(!sent_keys.contains(&e.key), "{} planned again", e.key);
        }
    }
}

// ---------------------------------------------------------------------------------------
// 2. Disputes and the standing (caf202e)
// ---------------------------------------------------------------------------------------

/// Ticks daily at 12:00 UTC from `from` to `to`, applying `change` before each tick; returns
/// what went (key, day) and each day's standing (state, since).
#[allow(clippy::type_complexity)]
fn tick_standing(
    planner: &Planner,
    clients: &[Client],
    items: &mut Vec<Item>,
    (from, to): (NaiveDate, NaiveDate),
    mut change: impl FnMut(NaiveDate, &mut Vec<Item>),
) -> (
    Vec<(String, NaiveDate)>,
    Vec<(NaiveDate, StandingState, NaiveDate)>,
) {
    let mut history: Vec<HistoryEntry> = Vec::new();
    let mut standings = Vec::new();
    let mut day = from;
    while day <= to {
        change(day, items);
        let now = day.and_hms_opt(12, 0, 0).unwrap().and_utc();
        let plan = same_three_ways(planner, clients, items, &history, now, Horizon::NONE);
        history.extend(plan.due().iter().map(|e| e.to_history(now)));
        standings.extend(plan.standings().iter().map(|s| (day, s.state, s.since)));
        day += Duration::days(1);
    }
    let sent = history
        .iter()
        .map(|h| (h.key.to_string(), h.sent_at.date_naive()))
        .collect();
    (sent, standings)
}

fn standing_planner(soon: u32, closed: u32) -> Planner {
    Planner::new(&Policy::new(TimeZone::UTC).with_standing(StandingRule::new(soon, closed))).unwrap()
}

/// A dispute (no end) from before the invoice got the client past the threshold: the client
/// enters the state the day another invoice gets it there; the key and `since` say that day.
/// Relies on: "an invoice under a pause without end (a dispute) does not count toward the
/// standing" and "A 'closing soon' or 'closed' notice goes once each time the client enters
/// the state, keyed by the day it entered it".
#[test]
fn a_dispute_from_before_the_threshold_dates_the_entry_by_the_other_invoice() {
    let planner = standing_planner(10, 200);
    let clients = [contact_client("acme", "UTC")];
    // A: due 01-01, 10 days overdue on 01-11, disputed from 01-05. B: due 01-20, there on 01-30.
    for dispute_from in [d(2026, 1, 2), d(2026, 1, 5), d(2026, 1, 10)] {
        let mut items = vec![
            invoice("A", "acme", d(2025, 12, 1), d(2026, 1, 1), money("100", "USD"))
                .with_pause(Pause::new(PauseKind::Dispute, "wrong").starting(dispute_from)),
            invoice("B", "acme", d(2025, 12, 20), d(2026, 1, 20), money("100", "USD")),
        ];
        let (sent, standings) = tick_standing(
            &planner,
            &clients,
            &mut items,
            (d(2026, 1, 1), d(2026, 2, 20)),
            |_, _| {},
        );
        assert_eq!(
            sent,
            [("closing-soon/acme/2026-01-30".to_owned(), d(2026, 1, 30))],
            "dispute from {dispute_from}"
        );
        assert!(
            standings
                .iter()
                .all(|s| s.0 >= d(2026, 1, 30) && s.2 == d(2026, 1, 30)),
            "dispute from {dispute_from}: {standings:?}"
        );
    }
}

/// A dispute that starts after the invoice got the client there does not end the state:
/// nothing more goes when another invoice gets there, and `since` stays.
/// Relies on: "disputing it does not end a state the client is in" and "Paying, cancelling or
/// disputing the oldest invoice while another keeps the client there is no new entry: nothing
/// more goes, and `ClientStanding::since` stays."
#[test]
fn a_dispute_after_the_threshold_while_another_invoice_keeps_the_state_sends_nothing_more() {
    let planner = standing_planner(10, 200);
    let clients = [contact_client("acme", "UTC")];
    // (A dispute from the very day A would get the client there, 01-11, is active on that
    // day: A never got it there undisputed, and B's day, 01-15, is the entry; checked below.)
    for dispute_from in [d(2026, 1, 12), d(2026, 1, 25)] {
        let mut items = vec![
            invoice("A", "acme", d(2025, 12, 1), d(2026, 1, 1), money("100", "USD"))
                .with_pause(Pause::new(PauseKind::Dispute, "wrong").starting(dispute_from)),
            invoice("B", "acme", d(2025, 12, 5), d(2026, 1, 5), money("100", "USD")),
        ];
        let (sent, standings) = tick_standing(
            &planner,
            &clients,
            &mut items,
            (d(2026, 1, 1), d(2026, 2, 20)),
            |_, _| {},
        );
        assert_eq!(
            sent,
            [("closing-soon/acme/2026-01-11".to_owned(), d(2026, 1, 11))],
            "dispute from {dispute_from}"
        );
        assert!(
            standings.iter().all(|s| s.2 == d(2026, 1, 11)),
            "dispute from {dispute_from}: {standings:?}"
        );
    }
    let mut items = vec![
        invoice("A", "acme", d(2025, 12, 1), d(2026, 1, 1), money("100", "USD"))
            .with_pause(Pause::new(PauseKind::Dispute, "wrong").starting(d(2026, 1, 11))),
        invoice("B", "acme", d(2025, 12, 5), d(2026, 1, 5), money("100", "USD")),
    ];
    let (sent, standings) = tick_standing(
        &planner,
        &clients,
        &mut items,
        (d(2026, 1, 1), d(2026, 2, 20)),
        |_, _| {},
    );
    assert_eq!(
        sent,
        [("closing-soon/acme/2026-01-15".to_owned(), d(2026, 1, 15))]
    );
    assert!(standings.iter().all(|s| s.2 == d(2026, 1, 15)), "{standings:?}");
}

/// After leaving the state (the invoice that put the client there paid), a new invoice
/// getting the client there again is a new entry: `since` and the notice's key agree on its
/// day, with an old disputed invoice lying around all along.
/// Relies on: "A 'closing soon' or 'closed' notice goes once each time the client enters the
/// state, keyed by the day it entered it" and `ClientStanding::since`: "The day it entered
/// this state."
#[test]
fn a_relapse_beside_an_old_disputed_invoice_sends_again_under_the_day_since_says() {
    let planner = standing_planner(10, 200);
    let clients = [contact_client("acme", "UTC")];
    let mut items = vec![
        invoice("A", "acme", d(2025, 11, 1), d(2025, 12, 1), money("100", "USD"))
            .with_pause(Pause::new(PauseKind::Dispute, "wrong").starting(d(2025, 12, 3))),
        invoice("B", "acme", d(2025, 12, 20), d(2026, 1, 1), money("100", "USD")),
        invoice("C", "acme", d(2026, 1, 20), d(2026, 2, 1), money("100", "USD")),
    ];
    let (sent, standings) = tick_standing(
        &planner,
        &clients,
        &mut items,
        (d(2026, 1, 1), d(2026, 3, 10)),
        |day, items| {
            if day == d(2026, 1, 20) {
                let b = items[1].balance().unwrap().unwrap();
                items[1] = items[1].clone().paid(b, day);
            }
        },
    );
    // Every day the plan lists the client, `since` is the day of a notice that went.
    let notice_days: BTreeSet<NaiveDate> = sent
        .iter()
        .filter_map(|(k, _)| k.strip_prefix("closing-soon/acme/").map(|s| s.parse().unwrap()))
        .collect();
    for (day, _, since) in &standings {
        assert!(
            notice_days.contains(since),
            "on {day} the client is closing soon since {since}, but the notices that went are {sent:?}"
        );
    }
    assert!(standings.iter().any(|s| s.0 == d(2026, 1, 15)));
    assert!(!standings.iter().any(|s| s.0 == d(2026, 1, 25)), "{standings:?}");
    assert!(standings.iter().any(|s| s.0 == d(2026, 2, 20)));
}

/// The only invoice disputed after its notice went: the plan never sends a second notice, and
/// a plan never lists the client under a `since` other than its notice's day.
/// Relies on: "disputing it does not end a state the client is in".
#[test]
fn the_only_invoice_disputed_after_its_notice_sends_nothing_more() {
    let planner = standing_planner(10, 40);
    let clients = [contact_client("acme", "UTC")];
    for with_dates in [false, true] {
        let mut items = vec![invoice(
            "A",
            "acme",
            d(2025, 12, 1),
            d(2026, 1, 1),
            money("100", "USD"),
        )];
        let (sent, standings) = tick_standing(
            &planner,
            &clients,
            &mut items,
            (d(2026, 1, 1), d(2026, 3, 10)),
            |day, items| {
                if day == d(2026, 1, 20) {
                    let p = Pause::new(PauseKind::Dispute, "wrong");
                    let p = if with_dates { p.starting(day) } else { p };
                    items[0] = items[0].clone().with_pause(p);
                }
            },
        );
        assert_eq!(
            sent,
            [("closing-soon/acme/2026-01-11".to_owned(), d(2026, 1, 11))],
            "dated {with_dates}"
        );
        assert!(
            standings.iter().all(|s| s.2 == d(2026, 1, 11)),
            "dated {with_dates}: {standings:?}"
        );
    }
}

/// Per-client thresholds with a dispute from before the threshold: the key and `since` are the
/// other invoice's day under the client's own threshold.
/// Relies on: "thresholds (per-client overridable)".
#[test]
fn per_client_thresholds_date_the_entry_by_the_undisputed_invoice() {
    let planner = standing_planner(30, 200);
    let ov = ClientOverrides {
        closing_soon_after_days: Some(5),
        closed_after_days: Some(15),
        ..ClientOverrides::default()
    };
    let clients = [contact_client("acme", "UTC").with_overrides(ov)];
    let mut items = vec![
        invoice("A", "acme", d(2025, 12, 1), d(2026, 1, 1), money("100", "USD"))
            .with_pause(Pause::new(PauseKind::Dispute, "wrong").starting(d(2026, 1, 3))),
        invoice("B", "acme", d(2025, 12, 20), d(2026, 1, 10), money("100", "USD")),
    ];
    let (sent, standings) = tick_standing(
        &planner,
        &clients,
        &mut items,
        (d(2026, 1, 1), d(2026, 2, 10)),
        |_, _| {},
    );
    assert_eq!(
        sent,
        [
            ("closing-soon/acme/2026-01-15".to_owned(), d(2026, 1, 15)),
            ("closed/acme/2026-01-25".to_owned(), d(2026, 1, 25)),
        ]
    );
    assert!(
        standings
            .iter()
            .filter(|s| s.1 == StandingState::Closed)
            .all(|s| s.2 == d(2026, 1, 25)),
        "{standings:?}"
    );
}

// ---------------------------------------------------------------------------------------
// 3. Statements and standing notices held to the first instant of a day (56f9543)
// ---------------------------------------------------------------------------------------

/// A reminder, a statement and a standing notice held back by one client pause with an end
/// (their days inside it) go at the first instant of the first working day after it: every
/// plan, whatever the hour `now` falls at around that night and the horizon's end, lists all
/// three or none, at the same instant, on that day, within the horizon.
/// Relies on: "A pause with an end holds reminders, statements and standing notices back until
/// after it. [...] each goes as a missed send does: at the first tick of the first working day
/// after the pause (forecast at the start of that day)" and `Plan::upcoming`: "Events after
/// `now` up to `now + horizon`".
fn held_three_ways(zone: &str, pause_until: NaiveDate, weekends: bool, send_hour: u32) {
    let mut policy = Policy::new(tz(zone))
        .with_send_time(t(send_hour, 0))
        .with_rule(rule("overdue", Anchor::Due, 0))
        .with_statement(StatementRule::new(
            "estado".parse().unwrap(),
            format!(
                "FREQ=MONTHLY;BYMONTHDAY={}",
                (pause_until - Duration::days(2)).format("%-d")
            ),
            d(2025, 1, 1),
        ))
        .with_standing(StandingRule::new(10, 300));
    if weekends {
        policy = policy.with_calendar(BusinessCalendar {
            non_working_weekdays: vec![Weekday::Sat, Weekday::Sun],
            holidays: [pause_until + Duration::days(3)].into(),
        });
    }
    let planner = Planner::new(&policy).unwrap();
    let pause = Pause::new(PauseKind::Promise, "pays soon")
        .starting(pause_until - Duration::days(6))
        .until(pause_until);
    let c = contact_client("acme", zone).with_pause(pause);
    // Due 4 days before the pause ends: its reminder's day and its 10th overdue day... the
    // standing is entered by an older invoice 10 days overdue 3 days before the pause ends.
    let items = [
        invoice(
            "A",
            "acme",
            pause_until - Duration::days(40),
            pause_until - Duration::days(13),
            money("100", "USD"),
        ),
        invoice(
            "B",
            "acme",
            pause_until - Duration::days(30),
            pause_until - Duration::days(4),
            money("100", "USD"),
        ),
    ];
    // The first working day after the pause.
    let mut first = pause_until + Duration::days(1);
    while weekends
        && (matches!(first.format("%a").to_string().as_str(), "Sat" | "Sun")
            || first == pause_until + Duration::days(3))
    {
        first += Duration::days(1);
    }
    let start = local_instant(tz(zone), first, t(0, 0));
    for horizon in [0u32, 1, 2] {
        let mut now = start - Duration::hours(60);
        while now < start + Duration::hours(3) {
            let plan = same_three_ways(
                &planner,
                std::slice::from_ref(&c),
                &items,
                &[],
                now,
                Horizon::days(horizon),
            );
            let held: Vec<(Stage, DateTime<Utc>, NaiveDate)> = plan
                .events()
                .filter(|e| {
                    e.send_on == first
                        && (e.stage == Stage::ClosingSoon
                            || e.statement.is_some()
                            || e.key.as_str() == "overdue/B/1")
                })
                .map(|e| (e.stage, e.send_at, e.send_on))
                .collect();
            let ctx = format!(
                "{zone} until {pause_until} send {send_hour}h horizon {horizon} now {now}: {held:?}\n{:#?}",
                lines(&plan)
            );
            assert!(held.is_empty() || held.len() == 3, "{ctx}");
            assert!(held.iter().all(|h| h.1 == held[0].1), "{ctx}");
            let end = now + Duration::days(i64::from(horizon));
            if let Some(h) = held.first() {
                assert!(h.1 <= end || h.1 <= now, "{ctx}");
                assert_eq!(tz(zone).local_date(h.1), first, "{ctx}");
            } else {
                assert!(
                    start > end,
                    "held back to {start}, within the horizon's end {end}, not listed: {ctx}"
                );
            }
            now += Duration::minutes(30);
        }
    }
}

#[test]
fn notices_held_by_a_pause_go_at_the_first_instant_like_reminders_around_midnight() {
    for send_hour in [0u32, 9, 23] {
        held_three_ways("UTC", d(2026, 3, 18), false, send_hour);
        // Santiago: 2026-09-06 starts at 01:00 (spring forward at midnight); 04-05 has 23:00 twice.
        held_three_ways("America/Santiago", d(2026, 9, 5), false, send_hour);
        held_three_ways("America/Santiago", d(2026, 4, 4), false, send_hour);
        held_three_ways("America/New_York", d(2026, 3, 7), false, send_hour);
        held_three_ways("Pacific/Kiritimati", d(2026, 5, 12), false, send_hour);
        held_three_ways("Pacific/Pago_Pago", d(2026, 5, 12), false, send_hour);
    }
}

#[test]
fn notices_held_by_a_pause_ending_before_a_weekend_and_holiday_go_at_the_first_working_instant() {
    // 2026-03-20 is a Friday: the pause's next days are a weekend, then Monday 03-23 a holiday.
    held_three_ways("UTC", d(2026, 3, 20), true, 9);
    held_three_ways("America/Santiago", d(2026, 9, 4), true, 0);
    held_three_ways("Pacific/Auckland", d(2026, 9, 25), true, 23);
}

// ---------------------------------------------------------------------------------------
// 4. The overrides' serde and validation after their move to `dunning::model` (271df6e)
// ---------------------------------------------------------------------------------------

/// The three paths name one type, and documents read, write back and validate as they did
/// before the move (the expectations are the outputs of 271df6e^, checked against it).
/// Relies on: "No public path changes" (the commit) and `ClientOverrides::validate`: "The
/// first problem, naming the client and the field as it is written".
#[test]
fn overrides_read_write_and_validate_as_before_the_move() {
    let _same: fn(dunning::model::ClientOverrides) -> dunning::policy::ClientOverrides = |o| o;
    let _same_too: fn(dunning::ClientOverrides) -> dunning::model::ClientOverrides = |o| o;
    let _rule: fn(dunning::model::RuleOverride) -> dunning::policy::RuleOverride = |o| o;
    let id: ClientId = "acme".parse().unwrap();
    let cases: [(&str, Result<(&str, Result<(), &str>), &str>); 16] = [
        ("{}", Ok(("{}", Ok(())))),
        (
            r#"{"send_time":"8:30"}"#,
            Ok((r#"{"send_time":"08:30"}"#, Ok(()))),
        ),
        (
            r#"{"send_time":"08:30:00"}"#,
            Ok((r#"{"send_time":"08:30"}"#, Ok(()))),
        ),
        (
            r#"{"send_time":"24:00"}"#,
            Err("invalid time of day \"24:00\": expected HH:MM or HH:MM:SS"),
        ),
        (
            r#"{"reply_to":"a@b.example, c@d.example"}"#,
            Ok((r#"{"reply_to":["a@b.example","c@d.example"]}"#, Ok(()))),
        ),
        (r#"{"cc":""}"#, Ok((r#"{"cc":[]}"#, Ok(())))),
        (
            r#"{"cc":"bad"}"#,
            Ok((
                r#"{"cc":["bad"]}"#,
                Err("client acme: overrides.cc[0]: invalid email address \"bad\""),
            )),
        ),
        (
            r#"{"rules":{"overdue":{"count":3,"every_days":7,"offset_days":-2,"enabled":false}}}"#,
            Ok((
                r#"{"rules":{"overdue":{"enabled":false,"offset_days":-2,"every_days":7,"count":3}}}"#,
                Ok(()),
            )),
        ),
        (
            r#"{"rules":{"overdue":{"count":3},"overdue":{"count":4}}}"#,
            Err("duplicate key \"overdue\""),
        ),
        (r#"{"rules":{"overdue":{"cnt":3}}}"#, Err("unknown field `cnt`")),
        (r#"{"unknown":1}"#, Err("unknown field `unknown`")),
        (
            r#"{"send_time":"07:00","send_time":"08:00"}"#,
            Err("duplicate field `send_time`"),
        ),
        (
            r#"{"payment_term_days":31}"#,
            Ok((
                r#"{"payment_term_days":31}"#,
                Err(
                    "client acme: overrides.payment_term_days: payment term of 31 days is out of range (1 to 30)",
                ),
            )),
        ),
        (
            r#"{"min_gap_days":36601}"#,
            Ok((
                r#"{"min_gap_days":36601}"#,
                Err("client acme: overrides.min_gap_days 36601 is over the limit of 36600"),
            )),
        ),
        (
            r#"{"rules":{"overdue":{"count":10001}}}"#,
            Ok((
                r#"{"rules":{"overdue":{"count":10001}}}"#,
                Err("client acme: overrides.rules.overdue.count 10001 is over the limit of 10000"),
            )),
        ),
        (
            r#"{"rules":{"overdue":{"offset_days":-36601}}}"#,
            Ok((
                r#"{"rules":{"overdue":{"offset_days":-36601}}}"#,
                Err("client acme: overrides.rules.overdue.offset_days -36601 is over the limit of 36600"),
            )),
        ),
    ];
    for (doc, want) in cases {
        let got: Result<ClientOverrides, _> = serde_json::from_str(doc);
        match (got, want) {
            (Ok(o), Ok((written, valid))) => {
                assert_eq!(serde_json::to_string(&o).unwrap(), written, "{doc}");
                assert_eq!(
                    o.validate(&id).map_err(|e| e.to_string()),
                    valid.map_err(str::to_owned),
                    "{doc}"
                );
                let again: ClientOverrides = serde_json::from_str(written).unwrap();
                assert_eq!(again, o, "{doc}: round trip");
                let toml_text = toml::to_string(&o).unwrap();
                let from_toml: ClientOverrides = toml::from_str(&toml_text).unwrap();
                assert_eq!(from_toml, o, "{doc}: TOML round trip\n{toml_text}");
            }
            (Err(e), Err(start)) => assert!(e.to_string().starts_with(start), "{doc}: {e}"),
            (got, want) => panic!("{doc}: got {got:?}, want {want:?}"),
        }
    }
    // TOML: a rule named twice is refused too.
    let twice = "[rules.overdue]\ncount = 3\n[rules.overdue]\ncount = 4\n";
    assert!(toml::from_str::<ClientOverrides>(twice).is_err());
}
