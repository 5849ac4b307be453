//! Cadence: a host ticks when it likes, and every reminder goes at the first tick on a
//! working day at or after its send instant, never earlier and never later.
//!
//! Day-by-day simulations tick at one fixed UTC time a day (before, at or after the clients'
//! local send times, which move against UTC across daylight-saving changes), in zones east
//! and west of UTC, over both daylight-saving changes of the year and weekends and holidays.
//! Each run is checked tick by tick against an oracle written from the documented behaviour:
//! - an event is due at the first plan whose local date is a working day, at or after its
//!   send instant (its day, moved off non-working days, at the local send time);
//! - of the stages of one item due at one tick, only the latest goes; the others are
//!   superseded, and so is a stage whose day comes on or before another stage's send, or
//!   that is older than a stage that went;
//! - one reminder a day about an item: a stage on a day another went moves to the next
//!   working day;
//! - a "due soon" reminder never goes on or after the due date;
//! - repeats are spaced from the day of the actual send.
//!
//! Every stage that does not go is explained by some plan of the run.

mod common;

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc, Weekday};
use common::*;
use dunning::*;

struct R {
    id: &'static str,
    anchor: Anchor,
    offset: i32,
    every: Option<u32>,
    count: u32,
}

const RULES: [R; 4] = [
    R {
        id: "issued",
        anchor: Anchor::Issued,
        offset: 0,
        every: None,
        count: 1,
    },
    R {
        id: "due-soon",
        anchor: Anchor::Due,
        offset: -5,
        every: None,
        count: 1,
    },
    R {
        id: "due-today",
        anchor: Anchor::Due,
        offset: 0,
        every: None,
        count: 1,
    },
    R {
        id: "overdue",
        anchor: Anchor::Due,
        offset: 2,
        every: Some(6),
        count: 3,
    },
];

fn calendar(year: i32) -> BusinessCalendar {
    BusinessCalendar::new(
        [Weekday::Sat, Weekday::Sun],
        [
            d(year, 3, 9),
            d(year, 3, 30),
            d(year, 4, 3),
            d(year, 10, 26),
            d(year, 11, 2),
            d(year, 11, 3),
        ],
    )
}

fn policy(year: i32) -> Policy {
    let mut p = Policy::new(tz("UTC"))
        .with_send_time(t(9, 0))
        .with_calendar(calendar(year));
    for r in &RULES {
        let mut rule = rule(r.id, r.anchor, r.offset);
        if let Some(every) = r.every {
            rule = rule.repeat(every, r.count);
        }
        p = p.with_rule(rule);
    }
    p
}

/// Clients west and east of UTC, with and without daylight saving, and send times early,
/// late and at midnight.
fn clients() -> Vec<Client> {
    let send_at = |c: Client, time: NaiveTime| {
        c.with_overrides(ClientOverrides {
            send_time: Some(time),
            ..ClientOverrides::default()
        })
    };
    vec![
        client("ny", "America/New_York"),
        client("la", "America/Los_Angeles"),
        client("scl", "America/Santiago"),
        client("mad", "Europe/Madrid"),
        client("syd", "Australia/Sydney"),
        client("tyo", "Asia/Tokyo"),
        send_at(client("late", "Europe/London"), t(23, 30)),
        send_at(client("midnight", "America/Chicago"), t(0, 0)),
        send_at(client("kir", "Pacific/Kiritimati"), t(7, 15)),
    ]
}

/// Invoices issued every other day from `from` for `days` days, with terms that put their
/// stages on every weekday.
fn items(clients: &[Client], from: NaiveDate, days: i64) -> Vec<Item> {
    let mut out = Vec::new();
    for (ci, c) in clients.iter().enumerate() {
        for n in 0..(days / 2) {
            let issued = from + Duration::days(2 * n + (ci as i64 % 2));
            let term = [7, 10, 1, 13, 16, 2, 30][(n as usize + ci) % 7];
            out.push(invoice(
                &format!("{}-{n}", c.id),
                c.id.as_str(),
                issued,
                issued + Duration::days(term),
                money("1000", "USD"),
            ));
        }
    }
    out
}

/// The oracle's state of one rule for one item: the next occurrence and the day of the
/// rule's last send.
#[derive(Clone, Copy, Default)]
struct RuleState {
    next: u32,
    last: Option<NaiveDate>,
}

struct Oracle<'a> {
    clients: &'a [Client],
    items: &'a [Item],
    cal: BusinessCalendar,
    state: Vec<[RuleState; 4]>,
    /// Per item: the sends, (rule, local day, nominal day of the stage).
    sends: Vec<Vec<(usize, NaiveDate, NaiveDate)>>,
    /// Keys that must be explained, with the reason's kind and the day the stage was for.
    explained: BTreeSet<(String, &'static str, NaiveDate)>,
}

impl<'a> Oracle<'a> {
    fn new(clients: &'a [Client], items: &'a [Item], cal: BusinessCalendar) -> Self {
        Oracle {
            clients,
            items,
            cal,
            state: vec![[RuleState { next: 1, last: None }; 4]; items.len()],
            sends: vec![Vec::new(); items.len()],
            explained: BTreeSet::new(),
        }
    }

    fn client(&self, item: &Item) -> &Client {
        self.clients.iter().find(|c| c.id == item.client).unwrap()
    }

    /// What goes at tick `now`: (key, send instant), and the state moved on.
    fn tick(&mut self, now: DateTime<Utc>) -> BTreeSet<(String, DateTime<Utc>)> {
        let mut sent = BTreeSet::new();
        for (i, item) in self.items.iter().enumerate() {
            let client = self.client(item);
            let zone = client.time_zone.unwrap();
            let send_time = client.overrides.send_time.unwrap_or(t(9, 0));
            let today = zone.local_date(now);
            let due = item.due_on.unwrap();
            // (rule, occurrence, nominal day, send instant) of each stage due now.
            let mut ready: Vec<(usize, u32, NaiveDate, DateTime<Utc>)> = Vec::new();
            for (r, rule) in RULES.iter().enumerate() {
                loop {
                    let RuleState { next: k, last } = self.state[i][r];
                    if k > rule.count {
                        break;
                    }
                    let key = format!("{}/{}/{k}", rule.id, item.id);
                    let anchor = match rule.anchor {
                        Anchor::Issued => item.issued_on,
                        _ => due,
                    };
                    let nominal = anchor
                        + Duration::days(
                            i64::from(rule.offset) + i64::from(k - 1) * i64::from(rule.every.unwrap_or(0)),
                        );
                    if let Some(&(_, day, _)) = self.sends[i]
                        .iter()
                        .filter(|(other, day, stage)| {
                            *other != r && (*day >= nominal || (*stage, *other) > (nominal, r))
                        })
                        .min_by_key(|(_, day, _)| *day)
                    {
                        self.explained.insert((key, "superseded", nominal));
                        self.state[i][r] = RuleState {
                            next: k + 1,
                            last: last.max(Some(day)),
                        };
                        continue;
                    }
                    let mut date = nominal;
                    if let (Some(every), Some(last)) = (rule.every, last) {
                        date = date.max(last + Duration::days(i64::from(every)));
                    }
                    date = date.max(item.issued_on);
                    let before_due = rule.anchor == Anchor::Due && nominal < due;
                    let shift = if before_due { Shift::Earlier } else { Shift::Later };
                    let mut scheduled = self.cal.shift(date, shift).unwrap();
                    if scheduled < item.issued_on {
                        // Never before the item is issued.
                        scheduled = self.cal.shift(date, Shift::Later).unwrap();
                    }
                    while self.sends[i]
                        .iter()
                        .any(|(other, day, _)| *other != r && *day == scheduled)
                    {
                        scheduled = self
                            .cal
                            .shift(scheduled + Duration::days(1), Shift::Later)
                            .unwrap();
                    }
                    if before_due && scheduled >= due {
                        self.explained.insert((key, "due_soon_after_due", scheduled));
                        self.state[i][r].next = k + 1;
                        continue;
                    }
                    let instant = local_instant(zone, scheduled, send_time);
                    if instant <= now && self.cal.is_working_day(today) {
                        if before_due && today >= due {
                            self.explained.insert((key, "due_soon_after_due", scheduled));
                            self.state[i][r].next = k + 1;
                            continue;
                        }
                        ready.push((r, k, nominal, instant));
                    }
                    break;
                }
            }
            let Some(&winner) = ready.iter().max_by_key(|(r, _, nominal, _)| (*nominal, *r)) else {
                continue;
            };
            for &(r, k, _, _) in &ready {
                let key = format!("{}/{}/{k}", RULES[r].id, item.id);
                if r == winner.0 {
                    sent.insert((key, winner.3));
                    self.sends[i].push((r, today, winner.2));
                } else {
                    self.explained.insert((key, "superseded", today));
                }
                self.state[i][r] = RuleState {
                    next: k + 1,
                    last: Some(today),
                };
            }
        }
        sent
    }
}

/// Ticks daily at `at` (UTC) from `from` for `days` days and checks every tick against the
/// oracle. Returns how many events went and how many went after their send day.
fn run(year: i32, from: NaiveDate, days: i64, at: NaiveTime) -> (usize, usize) {
    let policy = policy(year);
    let planner = Planner::new(&policy).unwrap();
    let clients = clients();
    let items = items(&clients, from - Duration::days(20), days);
    let mut oracle = Oracle::new(&clients, &items, calendar(year));
    let mut history: Vec<HistoryEntry> = Vec::new();
    let mut explained: BTreeSet<(String, String)> = BTreeSet::new();
    let (mut total, mut late) = (0, 0);
    for n in 0..days {
        let now = (from + Duration::days(n)).and_time(at).and_utc();
        let plan = planner
            .plan(&clients, &items, &history, now, Horizon::NONE)
            .unwrap();
        for s in plan.suppressed().iter() {
            let kind = serde_json::to_value(&s.reason).unwrap()["kind"]
                .as_str()
                .unwrap()
                .to_owned();
            explained.insert((s.key.to_string(), kind));
        }
        let expected = oracle.tick(now);
        let got: BTreeSet<(String, DateTime<Utc>)> = plan
            .due()
            .iter()
            .map(|e| (e.key.to_string(), e.send_at))
            .collect();
        assert_eq!(
            got, expected,
            "tick {now} (daily at {at} UTC): the plan's due events (key, send instant) against \
             the first working-day tick at or after each send instant"
        );
        for e in plan.due().iter() {
            assert!(e.send_at <= now, "{} due before its instant {}", e.key, e.send_at);
            let today = e.time_zone.local_date(now);
            if e.send_on < today {
                late += 1;
                assert!(
                    e.why.adjustments.contains(&Adjustment::CatchUp {
                        scheduled_on: e.send_on
                    }),
                    "{} went after its day {} without saying so: {}",
                    e.key,
                    e.send_on,
                    e.explain()
                );
                assert!(e.explain().contains("not sent then"), "{}", e.explain());
            }
            history.push(e.to_history(now));
        }
        total += plan.due().len();
    }
    // What was decided before the run is not asked of it.
    let asked: Vec<_> = oracle.explained.iter().filter(|(.., on)| *on >= from).collect();
    for kind in ["superseded", "due_soon_after_due"] {
        assert!(
            asked.iter().any(|(_, k, _)| *k == kind),
            "no stage {kind} in the run"
        );
    }
    for (key, kind, _) in asked {
        assert!(
            explained.contains(&(key.clone(), (*kind).to_owned())),
            "{key} is not sent ({kind}) but no plan of the run said so"
        );
    }
    // Never twice.
    let keys: BTreeSet<&str> = history.iter().map(|h| h.key.as_str()).collect();
    assert_eq!(keys.len(), history.len(), "a key went twice");
    (total, late)
}

/// Tick times (UTC) before, at and after the clients' send times: 09:00 in New York is 13:00
/// UTC in summer and 14:00 in winter, in Madrid 07:00 or 08:00, in Sydney 22:00 or 23:00 the
/// day before, in Santiago 12:00 or 13:00.
const TICKS: [(u32, u32); 9] = [
    (0, 30),
    (7, 0),
    (8, 0),
    (12, 59),
    (13, 0),
    (13, 30),
    (14, 0),
    (22, 0),
    (23, 45),
];

#[test]
fn spring_changes_every_stage_goes_at_the_first_working_day_tick_after_its_instant() {
    // The United States move their clocks on 03-08, Europe on 03-29, Santiago and Sydney
    // back on 04-05.
    let mut late_somewhere = false;
    for (h, m) in TICKS {
        let (total, late) = run(2026, d(2026, 2, 25), 55, t(h, m));
        assert!(total > 200, "a busy run: {total} events at {h:02}:{m:02}");
        late_somewhere |= late > 0;
    }
    assert!(late_somewhere, "some tick came before a send time");
}

#[test]
fn autumn_changes_every_stage_goes_at_the_first_working_day_tick_after_its_instant() {
    // Santiago springs forward on 09-06, Sydney on 10-04; Europe falls back on 10-25, the
    // United States on 11-01.
    let mut late_somewhere = false;
    for (h, m) in TICKS {
        let (total, late) = run(2026, d(2026, 9, 1), 75, t(h, m));
        assert!(total > 200, "a busy run: {total} events at {h:02}:{m:02}");
        late_somewhere |= late > 0;
    }
    assert!(late_somewhere, "some tick came before a send time");
}

/// The issue as reported: a host ticking daily at 13:00 UTC, a client in New York with the
/// send time 09:00 (14:00 UTC in winter). An "invoice issued" notice of a Wednesday goes at
/// Thursday's tick, and a "5 days before due" one at the next tick after its instant.
#[test]
fn a_daily_tick_an_hour_before_the_send_time_sends_at_the_next_tick() {
    let policy = Policy::new(tz("UTC"))
        .with_calendar(BusinessCalendar::new([Weekday::Sat, Weekday::Sun], []))
        .with_rule(rule("issued", Anchor::Issued, 0))
        .with_rule(rule("due-soon", Anchor::Due, -5));
    let planner = Planner::new(&policy).unwrap();
    let clients = [client("ny", "America/New_York")];
    // Wednesday 2026-01-14; due Monday 2026-02-02, so "due soon" on Wednesday 01-28.
    let items = [invoice(
        "F-1",
        "ny",
        d(2026, 1, 14),
        d(2026, 2, 2),
        money("10", "USD"),
    )];
    let history = simulate(
        &planner,
        &clients,
        &items,
        utc(2026, 1, 12, 13, 0),
        utc(2026, 2, 10, 13, 0),
        Duration::days(1),
    );
    let sent: Vec<(&str, DateTime<Utc>)> = history.iter().map(|h| (h.key.as_str(), h.sent_at)).collect();
    assert_eq!(
        sent,
        [
            ("issued/F-1/1", utc(2026, 1, 15, 13, 0)),
            ("due-soon/F-1/1", utc(2026, 1, 29, 13, 0)),
        ]
    );
    // At the late tick the event is due and keeps the instant it was meant for.
    let plan = planner
        .plan(&clients, &items, &[], utc(2026, 1, 15, 13, 0), Horizon::NONE)
        .unwrap();
    let e = &plan.due()[0];
    assert_eq!(e.send_on, d(2026, 1, 14));
    assert_eq!(e.send_at, utc(2026, 1, 14, 14, 0));
    assert_eq!(
        e.explain(),
        "invoice F-1 was issued on 2026-01-14; rule issued fires on the issue date; scheduled for \
         2026-01-14 and not sent then, so it goes now (catch-up)"
    );
}

/// Missed on a Friday, the event waits over the weekend (ticks on Saturday and Sunday send
/// nothing) and goes at Monday's first tick, whatever its hour; Saturday's forecast says so.
#[test]
fn a_send_missed_before_a_weekend_goes_at_the_first_tick_of_the_next_working_day() {
    let policy = Policy::new(tz("UTC"))
        .with_calendar(BusinessCalendar::new([Weekday::Sat, Weekday::Sun], []))
        .with_rule(rule("issued", Anchor::Issued, 0));
    let planner = Planner::new(&policy).unwrap();
    let clients = [client("mad", "Europe/Madrid")];
    // Friday 2026-03-06, 09:00 in Madrid is 08:00 UTC; ticks at 07:00 UTC (08:00 local).
    let items = [invoice(
        "F-2",
        "mad",
        d(2026, 3, 6),
        d(2026, 4, 6),
        money("10", "EUR"),
    )];
    let history = simulate(
        &planner,
        &clients,
        &items,
        utc(2026, 3, 5, 7, 0),
        utc(2026, 3, 12, 7, 0),
        Duration::days(1),
    );
    let sent: Vec<(&str, DateTime<Utc>)> = history.iter().map(|h| (h.key.as_str(), h.sent_at)).collect();
    assert_eq!(sent, [("issued/F-2/1", utc(2026, 3, 9, 7, 0))]);
    let saturday = planner
        .plan(&clients, &items, &[], utc(2026, 3, 7, 7, 0), Horizon::days(5))
        .unwrap();
    assert!(saturday.due().is_empty());
    let e = &saturday.upcoming()[0];
    assert_eq!(e.key.as_str(), "issued/F-2/1");
    assert_eq!(e.send_on, d(2026, 3, 9));
    // From the start of Monday in Madrid.
    assert_eq!(e.send_at, utc(2026, 3, 8, 23, 0));
    assert_eq!(
        e.why.adjustments.as_slice(),
        [
            Adjustment::CatchUp {
                scheduled_on: d(2026, 3, 6)
            },
            Adjustment::MovedOffNonWorkingDay {
                from: d(2026, 3, 7),
                to: d(2026, 3, 9)
            }
        ]
    );
}

/// An account statement and a standing notice missed by an early tick go at the next one,
/// keeping their day.
#[test]
fn client_notices_missed_by_an_early_tick_go_at_the_next_one() {
    let policy = Policy::new(tz("UTC"))
        .with_statement(StatementRule::new(
            "monthly".parse().unwrap(),
            "FREQ=MONTHLY;BYMONTHDAY=1",
            d(2026, 1, 1),
        ))
        .with_standing(StandingRule::new(5, 10));
    let planner = Planner::new(&policy).unwrap();
    let clients = [client("ny", "America/New_York")];
    let items = [invoice(
        "F-3",
        "ny",
        d(2026, 1, 1),
        d(2026, 1, 20),
        money("10", "USD"),
    )];
    let mut sent: HashMap<String, DateTime<Utc>> = HashMap::new();
    for h in simulate(
        &planner,
        &clients,
        &items,
        utc(2026, 1, 20, 13, 0),
        utc(2026, 2, 5, 13, 0),
        Duration::days(1),
    ) {
        sent.insert(h.key.to_string(), h.sent_at);
    }
    let mut keys: Vec<(&str, DateTime<Utc>)> = sent.iter().map(|(k, at)| (k.as_str(), *at)).collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            ("closed/ny/2026-01-30", utc(2026, 1, 31, 13, 0)),
            ("closing-soon/ny/2026-01-25", utc(2026, 1, 26, 13, 0)),
            // The statement of January, gone before the first tick: caught up at it.
            ("monthly/ny/2026-01-01", utc(2026, 1, 20, 13, 0)),
            ("monthly/ny/2026-02-01", utc(2026, 2, 2, 13, 0)),
        ]
    );
}

/// Statements under a host that ticks before the client's send time: yesterday's missed
/// statement goes at the next tick and is not superseded by today's, still to come; a
/// statement caught up covers its period, not the day it went. Daily and weekly, every
/// occurrence goes, one tick late.
#[test]
fn statements_go_one_tick_late_when_ticks_come_before_the_send_time() {
    for (rrule, step, ticks) in [("FREQ=DAILY", 1, 16), ("FREQ=WEEKLY;BYDAY=MO", 7, 9)] {
        let policy = Policy::new(tz("UTC")).with_statement(StatementRule::new(
            "st".parse().unwrap(),
            rrule,
            d(2026, 1, 1),
        ));
        let planner = Planner::new(&policy).unwrap();
        let clients = [client("ny", "America/New_York")];
        let items = [invoice(
            "F-1",
            "ny",
            d(2026, 1, 2),
            d(2026, 1, 10),
            money("10", "USD"),
        )];
        // From Monday 2026-01-05, at 13:00 UTC (08:00 in New York, before 09:00).
        let history = simulate(
            &planner,
            &clients,
            &items,
            utc(2026, 1, 5, 13, 0),
            utc(2026, 1, 5, 13, 0) + Duration::days(step * (ticks - 1)),
            Duration::days(step),
        );
        let periods: Vec<String> = history
            .iter()
            .map(|h| h.key.as_str().rsplit('/').next().unwrap().to_owned())
            .collect();
        // Each tick sends the occurrence of the tick before's day (the first tick: the
        // latest gone before it).
        let expected: Vec<String> = (0..ticks)
            .map(|n| (d(2026, 1, 5) + Duration::days(step * n - step)).to_string())
            .filter(|p| rrule != "FREQ=WEEKLY;BYDAY=MO" || p.as_str() >= "2026-01-05")
            .collect();
        assert_eq!(periods, expected, "{rrule}");
    }
}

/// A grouped notice never sends a member before its send instant, nor holds back a member
/// whose instant has passed: ticking at 08:00 for a 09:00 send time, an invoice due yesterday
/// goes at today's tick, the one due today at tomorrow's, whichever sorts first.
#[test]
fn a_grouped_notice_sends_each_member_at_its_first_tick() {
    let policy = Policy::new(tz("UTC")).with_rule(rule("overdue", Anchor::Due, 0).grouped());
    let planner = Planner::new(&policy).unwrap();
    let clients = [client("acme", "UTC")];
    for (yesterdays, todays) in [("A-1", "B-1"), ("B-1", "A-1")] {
        let items = [
            invoice(
                yesterdays,
                "acme",
                d(2026, 3, 1),
                d(2026, 4, 1),
                money("10", "USD"),
            ),
            invoice(todays, "acme", d(2026, 3, 1), d(2026, 4, 2), money("20", "USD")),
        ];
        let history = simulate(
            &planner,
            &clients,
            &items,
            utc(2026, 4, 2, 8, 0),
            utc(2026, 4, 3, 8, 0),
            Duration::days(1),
        );
        let sent: Vec<(DateTime<Utc>, Vec<&str>)> = history
            .iter()
            .map(|h| (h.sent_at, h.items.iter().map(|i| i.item.as_str()).collect()))
            .collect();
        assert_eq!(
            sent,
            [
                (utc(2026, 4, 2, 8, 0), vec![yesterdays]),
                (utc(2026, 4, 3, 8, 0), vec![todays])
            ],
            "{yesterdays} due yesterday, {todays} today"
        );
    }
}

/// A grouped rule, planned on Sunday 2026-03-01 (weekends off): invoice A's reminder, missed
/// on Thursday, is caught up at the start of Monday; invoice B's falls on Saturday and moves
/// to Monday at the send time (09:00). `Plan::upcoming` forecasts what goes "assuming nothing
/// changes and every event is sent when planned", and a notice never goes before the send
/// instant of an item it lists: the forecast is two notices (A at 00:00, B at 09:00), exactly
/// what hourly ticks then send. Before, it forecast one notice about both at 00:00.
#[test]
fn a_grouped_forecast_is_what_hourly_ticks_send() {
    let policy = Policy::new(TimeZone::UTC)
        .with_calendar(BusinessCalendar::new([Weekday::Sat, Weekday::Sun], []))
        .with_rule(rule("late", Anchor::Due, 2).grouped());
    let planner = Planner::new(&policy).unwrap();
    let clients = [client("c1", "UTC")];
    let usd = money("10.00", "USD");
    let items = [
        invoice("A", "c1", d(2026, 2, 10), d(2026, 2, 17), usd),
        invoice("B", "c1", d(2026, 2, 10), d(2026, 2, 26), usd),
    ];
    let sunday = utc(2026, 3, 1, 12, 0);
    let show = |e: &Event| {
        let items: Vec<String> = e.items.iter().map(|i| i.item.to_string()).collect();
        (e.key.to_string(), e.send_at, items)
    };
    let forecast: Vec<_> = planner
        .plan(&clients, &items, &[], sunday, Horizon::days(7))
        .unwrap()
        .events()
        .filter(|e| e.send_on <= d(2026, 3, 2))
        .map(show)
        .collect();
    let mut history = Vec::new();
    let mut sent = Vec::new();
    let mut now = sunday;
    while now <= utc(2026, 3, 2, 23, 0) {
        let plan = planner
            .plan(&clients, &items, &history, now, Horizon::NONE)
            .unwrap();
        for e in plan.due() {
            sent.push(show(e));
            history.push(e.to_history(now));
        }
        now += chrono::Duration::hours(1);
    }
    // A missed send keeps its nominal instant once due (`Adjustment::CatchUp`): compared by
    // key and items; the forecast's instants are when each goes.
    let keys = |v: &[(String, DateTime<Utc>, Vec<String>)]| -> Vec<(String, Vec<String>)> {
        v.iter().map(|(k, _, i)| (k.clone(), i.clone())).collect()
    };
    assert_eq!(sent.len(), 2, "{sent:#?}");
    assert_eq!(keys(&forecast), keys(&sent), "forecast {forecast:#?}");
    let at: Vec<DateTime<Utc>> = forecast.iter().map(|f| f.1).collect();
    assert_eq!(at, [utc(2026, 3, 2, 0, 0), utc(2026, 3, 2, 9, 0)]);
}

/// A grouped rule, ticked once a day at 12:30: invoice A's reminder (due 2026-02-25) waited
/// for a payment promise to 03-02, so it goes at the start of 03-03; invoice B's is due on
/// 03-03 at the send time (09:00). At the 03-03 tick both are due now, and those due now go
/// together (`Rule::group`): one notice about both. Before, the one a pause held back counted
/// as still to come and went alone, beside a notice about B.
#[test]
fn a_grouped_notice_sends_what_a_pause_held_back_with_the_others_due_now() {
    let policy = Policy::new(TimeZone::UTC)
        .with_calendar(BusinessCalendar::new([], []))
        .with_rule(rule("overdue", Anchor::Due, 0).grouped());
    let planner = Planner::new(&policy).unwrap();
    let clients = [client("acme", "UTC")];
    let usd = money("10", "USD");
    let promise = Pause::new(PauseKind::Promise, "pays on the 2nd")
        .starting(d(2026, 2, 20))
        .until(d(2026, 3, 2));
    let items = [
        invoice("A", "acme", d(2026, 2, 1), d(2026, 2, 25), usd).with_pause(promise),
        invoice("B", "acme", d(2026, 2, 1), d(2026, 3, 3), usd),
    ];
    let history = simulate(
        &planner,
        &clients,
        &items,
        utc(2026, 3, 2, 12, 30),
        utc(2026, 3, 4, 12, 30),
        Duration::days(1),
    );
    let sent: Vec<(DateTime<Utc>, Vec<&str>)> = history
        .iter()
        .map(|h| (h.sent_at, h.items.iter().map(|i| i.item.as_str()).collect()))
        .collect();
    assert_eq!(sent, [(utc(2026, 3, 3, 12, 30), vec!["A", "B"])]);
}

/// A daily rule whose occurrences, years of them, come before the day a later stage went:
/// each is superseded by that stage, and the plan says so of exactly those whose day falls in
/// its window (the lookback before today), each on its own day under its own key, however
/// many came before; the first of them on the day that stage went (as the plans before it
/// said: it lost that day's catch-up to it), when that day is in the window.
#[test]
fn a_long_run_of_superseded_occurrences_is_explained_within_the_window_only() {
    let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
    let policy = Policy::new(TimeZone::UTC)
        .with_rule(Rule::new("a-daily".parse().unwrap(), Anchor::Due, 1).repeat(1, limits::MAX_COUNT))
        .with_rule(Rule::new("z-final".parse().unwrap(), Anchor::Due, 2));
    let client = Client::new("c".parse().unwrap(), "C").with_contact(Contact::new("a", "a@b.example"));
    let eur = Currency::from_code("EUR").unwrap();
    let due = day(2000, 1, 31);
    let item = Item::invoice(
        "i".parse().unwrap(),
        client.id.clone(),
        due,
        Money::from_minor(100, eur),
    )
    .due(due);
    let sent = day(2026, 5, 30);
    let history = [HistoryEntry {
        key: EventKey::from("z-final/i/1"),
        rule: Some("z-final".parse().unwrap()),
        client: client.id.clone(),
        items: vec![HistoryItem {
            item: item.id.clone(),
            occurrence: 1,
        }],
        sent_at: sent.and_hms_opt(12, 0, 0).unwrap().and_utc(),
        outcome: HistoryOutcome::Sent,
    }];
    let now = day(2026, 6, 1).and_hms_opt(12, 0, 0).unwrap().and_utc();
    // Occurrence j of the daily rule is on the day after the due date, plus j - 1 days.
    let occurrence_on = |d: NaiveDate| u32::try_from((d - due).num_days()).unwrap();
    for lookback in [0u32, 1, 7, 40, 400] {
        let planner = Planner::new(&policy).unwrap().with_lookback(lookback);
        let plan = planner
            .plan(
                std::slice::from_ref(&client),
                std::slice::from_ref(&item),
                &history,
                now,
                Horizon::NONE,
            )
            .unwrap();
        let got: BTreeSet<(String, NaiveDate)> = plan
            .suppressed()
            .iter()
            .filter(
                |s| matches!(&s.reason, SuppressReason::Superseded { by } if by.as_str() == "z-final/i/1"),
            )
            .map(|s| (s.key.to_string(), s.on))
            .collect();
        let window_start = now.date_naive() - Duration::days(i64::from(lookback));
        // The first of the run is said on the day the send went (the plans before it said
        // so: it lost that day's catch-up to it), the others on their own days.
        let mut want: BTreeSet<(String, NaiveDate)> = window_start
            .iter_days()
            .take_while(|d| *d <= sent)
            .map(|d| (format!("a-daily/i/{}", occurrence_on(d)), d))
            .collect();
        if sent >= window_start {
            want.insert(("a-daily/i/1".to_owned(), sent));
        }
        assert!(
            lookback < 2 || !want.is_empty(),
            "lookback {lookback}: the window holds superseded days"
        );
        assert_eq!(got, want, "lookback {lookback}");
    }
}
