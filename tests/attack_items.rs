//! Adversarial tests of item reminders (invoices and pending actions), written from the
//! README ("Operating it"), DESIGN.md ("Behaviour users rely on"), the product seeds and the
//! public rustdoc only: pending actions with spacing, counts and stops, manual sends, hosts
//! ticking at any cadence and after outages, daylight-saving nights on both sides of UTC,
//! payments, pauses, overrides, the minimum gap, grouped notices, forecasts against ticks,
//! limits, previews, effective settings and explanations.

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone as _, Utc, Weekday};
use dunning::*;

// ---------------------------------------------------------------------------------------
// Helpers.

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn hm(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap()
}

fn at(y: i32, m: u32, day: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, day, h, min, 0).unwrap()
}

fn tz(name: &str) -> TimeZone {
    TimeZone::from_name(name).unwrap()
}

fn cur(code: &str) -> Currency {
    Currency::from_code(code).unwrap()
}

fn clp(n: i64) -> Money {
    Money::from_minor(n, cur("CLP"))
}

fn rid(s: &str) -> RuleId {
    s.parse().unwrap()
}

fn client(id: &str, zone: &str) -> Client {
    Client::new(id.parse().unwrap(), format!("Client {id}"))
        .with_contact(Contact::new(
            format!("Billing {id}"),
            format!("billing@{id}.example"),
        ))
        .with_time_zone(tz(zone))
}

fn invoice(id: &str, client: &str, issued: NaiveDate, due: NaiveDate, amount: i64) -> Item {
    Item::invoice(id.parse().unwrap(), client.parse().unwrap(), issued, clp(amount)).due(due)
}

fn action(id: &str, client: &str, kind: ItemKind, sent: NaiveDate) -> Item {
    Item::action(id.parse().unwrap(), client.parse().unwrap(), kind, sent)
}

const ZONES: [&str; 4] = [
    "America/Santiago",
    "Europe/Madrid",
    "Pacific/Auckland",
    "America/New_York",
];

/// What one tick sent.
#[derive(Debug, Clone)]
struct Sent {
    key: String,
    rule: String,
    client: String,
    items: Vec<(String, u32)>,
    send_on: NaiveDate,
    send_at: DateTime<Utc>,
    tick: DateTime<Utc>,
    amount: Option<Money>,
    adjustments: Vec<Adjustment>,
}

/// A host ticking: plans at each tick with the history so far (plus `extra` history, such as
/// manual sends, once their instant has come), sends every due event and records it with
/// `Event::to_history`. Checks at every tick that nothing due is already in history, that
/// nothing goes before its send instant, and that no key and no item occurrence is listed
/// twice.
struct Host<'a> {
    planner: &'a Planner,
    history: Vec<HistoryEntry>,
    extra: Vec<HistoryEntry>,
    keys: HashSet<String>,
    covered: HashSet<String>,
    sent: Vec<Sent>,
}

impl<'a> Host<'a> {
    fn new(planner: &'a Planner) -> Self {
        Host {
            planner,
            history: Vec::new(),
            extra: Vec::new(),
            keys: HashSet::new(),
            covered: HashSet::new(),
            sent: Vec::new(),
        }
    }

    fn tick(&mut self, clients: &[Client], items: &[Item], now: DateTime<Utc>) -> Vec<Sent> {
        let (ready, later): (Vec<_>, Vec<_>) = self.extra.drain(..).partition(|h| h.sent_at <= now);
        self.extra = later;
        self.history.extend(ready);
        let plan = self
            .planner
            .plan(clients, items, &self.history, now, Horizon::NONE)
            .unwrap_or_else(|e| panic!("plan at {now}: {e}"));
        let mut out = Vec::new();
        for e in plan.due() {
            let key = e.key.to_string();
            assert!(
                self.keys.insert(key.clone()),
                "{key} is due again at {now} though history records it as sent"
            );
            assert!(
                e.send_at <= now,
                "{key} due at {now} before its instant {}",
                e.send_at
            );
            for k in e.covered_keys() {
                let k = k.to_string();
                if k != key {
                    assert!(self.covered.insert(k.clone()), "{k} covered twice (at {now})");
                }
            }
            self.history.push(e.to_history(now));
            let s = Sent {
                key,
                rule: e.rule.to_string(),
                client: e.client.to_string(),
                items: e
                    .items
                    .iter()
                    .map(|i| (i.item.to_string(), i.occurrence))
                    .collect(),
                send_on: e.send_on,
                send_at: e.send_at,
                tick: now,
                amount: e.amount_due,
                adjustments: e.why.adjustments.clone(),
            };
            self.sent.push(s.clone());
            out.push(s);
        }
        out
    }
}

/// Instants from `from` (inclusive) to `to` (exclusive) every `step`.
fn every(from: DateTime<Utc>, to: DateTime<Utc>, step: Duration) -> Vec<DateTime<Utc>> {
    let mut v = Vec::new();
    let mut t = from;
    while t < to {
        v.push(t);
        t += step;
    }
    v
}

/// The instant of `time` on `date` in `zone`.
fn local(zone: &str, date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    local_instant(tz(zone), date, time)
}

/// Daily ticks at a local time of day in `zone`.
fn daily_local(zone: &str, from: NaiveDate, days: u32, time: NaiveTime) -> Vec<DateTime<Utc>> {
    (0..days)
        .map(|i| local(zone, from + Duration::days(i.into()), time))
        .collect()
}

fn occurrences_of(sent: &[Sent], item: &str) -> Vec<u32> {
    sent.iter()
        .flat_map(|s| s.items.iter())
        .filter(|(i, _)| i == item)
        .map(|(_, o)| *o)
        .collect()
}

// ---------------------------------------------------------------------------------------
// 1. Pending actions (seed 003).

/// Seed 003: by default one reminder three days after the notification.
#[test]
fn a_pending_action_gets_one_reminder_three_days_after_it_was_notified_in_every_zone() {
    let policy = Policy::new(TimeZone::UTC).with_rule(Rule::pending_action(rid("pending")));
    let planner = Planner::new(&policy).unwrap();
    for zone in ZONES {
        let clients = [client("c", zone)];
        let items = [action("P-1", "c", ItemKind::Proposal, d(2026, 5, 4))];
        let mut host = Host::new(&planner);
        for now in every(at(2026, 5, 3, 0, 0), at(2026, 5, 20, 0, 0), Duration::hours(1)) {
            host.tick(&clients, &items, now);
        }
        assert_eq!(host.sent.len(), 1, "{zone}: {:?}", host.sent);
        let s = &host.sent[0];
        assert_eq!(s.send_on, d(2026, 5, 7), "{zone}");
        assert_eq!(s.send_at, local(zone, d(2026, 5, 7), hm(9, 0)), "{zone}");
        assert_eq!(s.key, "pending/P-1/1");
        // Hourly ticks: it goes within the hour after its send instant.
        assert!(s.tick - s.send_at < Duration::hours(1), "{zone}: {:?}", s);
    }
}

/// Seed 003: "Días hasta el próximo recordatorio" and "Número de recordatorios" per item;
/// the item's spacing is also the delay of the first reminder for sent-anchored rules.
#[test]
fn an_action_with_its_own_spacing_and_count_goes_that_often_and_no_more() {
    let policy = Policy::new(TimeZone::UTC).with_rule(Rule::pending_action(rid("pending")));
    let planner = Planner::new(&policy).unwrap();
    let clients = [client("c", "Europe/Madrid")];
    let mut item = action("S-1", "c", ItemKind::Signature, d(2026, 6, 1));
    item.reminder_every_days = Some(2);
    item.reminder_count = Some(4);
    let items = [item];
    let mut host = Host::new(&planner);
    for now in every(at(2026, 6, 1, 0, 0), at(2026, 6, 30, 0, 0), Duration::hours(1)) {
        host.tick(&clients, &items, now);
    }
    let days: Vec<NaiveDate> = host.sent.iter().map(|s| s.send_on).collect();
    assert_eq!(
        days,
        [d(2026, 6, 3), d(2026, 6, 5), d(2026, 6, 7), d(2026, 6, 9)],
        "{:?}",
        host.sent
    );
    assert_eq!(occurrences_of(&host.sent, "S-1"), [1, 2, 3, 4]);
}

/// Seed 003: the reminders stop when the client completes the action.
#[test]
fn an_action_completed_after_two_reminders_gets_no_more_and_says_so() {
    let policy = Policy::new(TimeZone::UTC).with_rule(Rule::pending_action(rid("pending")));
    let planner = Planner::new(&policy).unwrap();
    let clients = [client("c", "America/Santiago")];
    let mut item = action("F-9", "c", ItemKind::Form, d(2026, 6, 1));
    item.reminder_every_days = Some(3);
    item.reminder_count = Some(5);
    let mut items = vec![item];
    let mut host = Host::new(&planner);
    for now in daily_local("America/Santiago", d(2026, 6, 1), 30, hm(10, 0)) {
        if now.date_naive() >= d(2026, 6, 8) {
            items[0].status = ItemStatus::Completed;
            items[0].settled_on = Some(d(2026, 6, 8));
        }
        host.tick(&clients, &items, now);
    }
    assert_eq!(occurrences_of(&host.sent, "F-9"), [1, 2], "{:?}", host.sent);
    let plan = planner
        .plan(
            &clients,
            &items,
            &host.history,
            at(2026, 6, 12, 15, 0),
            Horizon::days(30),
        )
        .unwrap();
    assert!(plan.upcoming().is_empty(), "{:?}", plan.upcoming());
    let reasons: Vec<&SuppressReason> = plan.suppressed().iter().map(|s| &s.reason).collect();
    assert!(
        reasons.iter().any(|r| matches!(r, SuppressReason::Completed)),
        "a completed action says so: {reasons:?}"
    );
    // Cancelled stops too.
    items[0].status = ItemStatus::Cancelled;
    let plan = planner
        .plan(
            &clients,
            &items,
            &host.history[..1],
            at(2026, 6, 12, 15, 0),
            Horizon::days(30),
        )
        .unwrap();
    assert!(plan.due().is_empty() && plan.upcoming().is_empty());
}

/// Seed 003 and DESIGN 9: a manual resend is possible even with automatic reminders on;
/// it spaces the next automatic one but does not use up its count.
#[test]
fn a_manual_resend_spaces_the_next_automatic_one_and_does_not_use_up_the_count() {
    let policy = Policy::new(TimeZone::UTC).with_rule(Rule::pending_action(rid("pending")));
    let planner = Planner::new(&policy).unwrap();
    let zone = "Pacific/Auckland";
    let clients = [client("c", zone)];
    let mut item = action("A-1", "c", ItemKind::Approval, d(2026, 6, 1));
    item.reminder_every_days = Some(3);
    item.reminder_count = Some(2);
    let items = [item];
    let mut host = Host::new(&planner);
    // A person resends on June 3 at 15:00 local (the first automatic one was for June 4).
    host.extra.push(HistoryEntry::manual(
        "c".parse().unwrap(),
        "A-1".parse().unwrap(),
        local(zone, d(2026, 6, 3), hm(15, 0)),
    ));
    for now in every(at(2026, 5, 31, 0, 0), at(2026, 6, 25, 0, 0), Duration::hours(1)) {
        host.tick(&clients, &items, now);
    }
    let days: Vec<NaiveDate> = host.sent.iter().map(|s| s.send_on).collect();
    // Three days after the manual send, then three days after that: two automatic sends.
    assert_eq!(days, [d(2026, 6, 6), d(2026, 6, 9)], "{:?}", host.sent);
    assert_eq!(occurrences_of(&host.sent, "A-1"), [1, 2]);
    assert!(
        host.sent[0]
            .adjustments
            .iter()
            .any(|a| matches!(a, Adjustment::SpacedAfterManualSend { .. })),
        "{:?}",
        host.sent[0]
    );
}

/// A manual resend after the automatic reminders began pushes the next one.
#[test]
fn a_manual_resend_between_automatic_ones_pushes_the_next_and_keeps_the_count() {
    let policy = Policy::new(TimeZone::UTC).with_rule(Rule::pending_action(rid("pending")));
    let planner = Planner::new(&policy).unwrap();
    let zone = "America/New_York";
    let clients = [client("c", zone)];
    let mut item = action("M-1", "c", ItemKind::Message, d(2026, 6, 1));
    item.reminder_every_days = Some(4);
    item.reminder_count = Some(3);
    let items = [item];
    let mut host = Host::new(&planner);
    // Automatic: June 5, 9, 13. A manual resend on June 7 at 16:00 local.
    host.extra.push(HistoryEntry::manual(
        "c".parse().unwrap(),
        "M-1".parse().unwrap(),
        local(zone, d(2026, 6, 7), hm(16, 0)),
    ));
    for now in daily_local(zone, d(2026, 6, 1), 40, hm(18, 0)) {
        host.tick(&clients, &items, now);
    }
    let days: Vec<NaiveDate> = host.sent.iter().map(|s| s.send_on).collect();
    assert_eq!(
        days,
        [d(2026, 6, 5), d(2026, 6, 11), d(2026, 6, 15)],
        "{:?}",
        host.sent
    );
}

/// An outage: only the latest occurrence goes, once, and repeats are spaced from it.
#[test]
fn after_an_outage_an_action_gets_one_reminder_then_spaced_repeats_never_a_burst() {
    let policy = Policy::new(TimeZone::UTC).with_rule(Rule::pending_action(rid("pending")));
    let planner = Planner::new(&policy).unwrap();
    for zone in ZONES {
        let clients = [client("c", zone)];
        let mut item = action("P-7", "c", ItemKind::Proposal, d(2026, 6, 1));
        item.reminder_every_days = Some(2);
        item.reminder_count = Some(6);
        let items = [item];
        let mut host = Host::new(&planner);
        // Up on June 1 and 2, down from June 3 to June 10, then hourly.
        let mut ticks = every(at(2026, 6, 1, 0, 0), at(2026, 6, 3, 0, 0), Duration::hours(1));
        ticks.extend(every(
            at(2026, 6, 10, 12, 0),
            at(2026, 7, 10, 0, 0),
            Duration::hours(1),
        ));
        for now in ticks {
            host.tick(&clients, &items, now);
        }
        let sent = &host.sent;
        assert!(!sent.is_empty(), "{zone}");
        assert!(sent.len() <= 6, "{zone}: over the count: {sent:?}");
        // The first after the outage goes at once, alone, as a catch-up.
        let after: Vec<&Sent> = sent.iter().filter(|s| s.tick >= at(2026, 6, 10, 12, 0)).collect();
        assert_eq!(after[0].tick, at(2026, 6, 10, 12, 0), "{zone}: {sent:?}");
        assert!(
            after[0]
                .adjustments
                .iter()
                .any(|a| matches!(a, Adjustment::CatchUp { .. })),
            "{zone}: {sent:?}"
        );
        for w in sent.windows(2) {
            let (a, b) = (&w[0], &w[1]);
            let local_a = tz(zone).local_date(a.tick);
            let local_b = tz(zone).local_date(b.tick);
            assert!(
                (local_b - local_a).num_days() >= 2,
                "{zone}: burst: {a:?} then {b:?}"
            );
        }
        let occ = occurrences_of(sent, "P-7");
        let mut sorted = occ.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), occ.len(), "{zone}: an occurrence twice: {occ:?}");
        assert!(occ.windows(2).all(|w| w[0] < w[1]), "{zone}: {occ:?}");
    }
}

/// The same host ticking at different cadences (hourly, daily after the send time, daily
/// before it) sends the same occurrences of an action, each once; daily before the send
/// time sends each a day late, never earlier.
#[test]
fn cadences_send_each_action_occurrence_once_never_early() {
    let policy = Policy::new(TimeZone::UTC).with_rule(Rule::pending_action(rid("pending")));
    let planner = Planner::new(&policy).unwrap();
    for zone in ZONES {
        let clients = [client("c", zone)];
        let mut item = action("P-2", "c", ItemKind::Proposal, d(2026, 7, 1));
        item.reminder_every_days = Some(3);
        item.reminder_count = Some(3);
        let items = [item];
        let cadences: [(&str, Vec<DateTime<Utc>>); 3] = [
            (
                "hourly",
                every(at(2026, 6, 30, 0, 0), at(2026, 7, 25, 0, 0), Duration::hours(1)),
            ),
            ("daily 11:00", daily_local(zone, d(2026, 6, 30), 25, hm(11, 0))),
            ("daily 07:00", daily_local(zone, d(2026, 6, 30), 25, hm(7, 0))),
        ];
        for (name, ticks) in cadences {
            let mut host = Host::new(&planner);
            for now in ticks {
                host.tick(&clients, &items, now);
            }
            assert_eq!(
                occurrences_of(&host.sent, "P-2"),
                [1, 2, 3],
                "{zone} {name}: {:?}",
                host.sent
            );
            let first = &host.sent[0];
            assert_eq!(first.send_on, d(2026, 7, 4), "{zone} {name}");
            if name == "daily 07:00" {
                assert_eq!(
                    tz(zone).local_date(first.tick),
                    d(2026, 7, 5),
                    "{zone}: a day late, not earlier"
                );
            } else {
                assert_eq!(tz(zone).local_date(first.tick), d(2026, 7, 4), "{zone} {name}");
            }
        }
    }
}

/// Daylight-saving nights: a daily action reminder at a send time inside the gap or the
/// overlap goes once a day, never twice, never lost, at the instant RFC 5545 gives.
#[test]
fn daily_action_reminders_across_dst_nights_go_once_a_day_at_the_rfc5545_instant() {
    // (zone, the transition's local date, a send time in its gap or overlap)
    let nights = [
        ("America/Santiago", d(2026, 9, 6), hm(0, 30)), // spring forward 00:00 -> 01:00
        ("America/Santiago", d(2026, 4, 4), hm(23, 30)), // fall back 24:00 -> 23:00
        ("Europe/Madrid", d(2026, 3, 29), hm(2, 30)),   // spring forward 02:00 -> 03:00
        ("Europe/Madrid", d(2026, 10, 25), hm(2, 30)),  // fall back 03:00 -> 02:00
        ("Pacific/Auckland", d(2026, 9, 27), hm(2, 30)), // spring forward
        ("Pacific/Auckland", d(2026, 4, 5), hm(2, 30)), // fall back 03:00 -> 02:00
        ("America/New_York", d(2026, 3, 8), hm(2, 30)), // spring forward
        ("America/New_York", d(2026, 11, 1), hm(1, 30)), // fall back 02:00 -> 01:00
    ];
    for (zone, night, time) in nights {
        let policy = Policy::new(TimeZone::UTC)
            .with_send_time(time)
            .with_rule(Rule::pending_action(rid("pending")));
        let planner = Planner::new(&policy).unwrap();
        let clients = [client("c", zone)];
        let mut item = action("X-1", "c", ItemKind::Signature, night - Duration::days(4));
        item.reminder_every_days = Some(1);
        item.reminder_count = Some(8);
        let items = [item];
        let mut host = Host::new(&planner);
        let from = local(zone, night - Duration::days(5), hm(12, 0));
        for now in every(from, from + Duration::days(12), Duration::minutes(15)) {
            host.tick(&clients, &items, now);
        }
        let days: Vec<NaiveDate> = host.sent.iter().map(|s| s.send_on).collect();
        let want: Vec<NaiveDate> = (0..8)
            .map(|i| night - Duration::days(3) + Duration::days(i))
            .collect();
        assert_eq!(days, want, "{zone} {night}: {:?}", host.sent);
        for s in &host.sent {
            assert_eq!(
                s.send_at,
                local_instant(tz(zone), s.send_on, time),
                "{zone} {s:?}"
            );
            // Quarter-hourly ticks: never late by more than a tick, never early.
            assert!(
                s.tick >= s.send_at && s.tick - s.send_at < Duration::minutes(15),
                "{zone} {s:?}"
            );
        }
    }
}

/// RFC 5545 as DESIGN 1 says: 02:30 in Madrid's spring-forward gap is 03:30 CEST; in the
/// fall-back overlap the earlier instant.
#[test]
fn send_instants_in_gaps_and_overlaps_are_read_as_documented() {
    let policy = Policy::new(TimeZone::UTC)
        .with_send_time(hm(2, 30))
        .with_rule(Rule::new(rid("due"), Anchor::Due, 0));
    let planner = Planner::new(&policy).unwrap();
    let clients = [client("c", "Europe/Madrid")];
    let items = [
        invoice("F-1", "c", d(2026, 3, 1), d(2026, 3, 29), 1000),
        invoice("F-2", "c", d(2026, 10, 1), d(2026, 10, 25), 1000),
    ];
    let plan = planner
        .plan(&clients, &items, &[], at(2026, 3, 20, 0, 0), Horizon::days(250))
        .unwrap();
    let by_item: BTreeMap<String, DateTime<Utc>> = plan
        .upcoming()
        .iter()
        .map(|e| (e.items[0].item.to_string(), e.send_at))
        .collect();
    // 03:30 CEST = 01:30 UTC.
    assert_eq!(by_item["F-1"], at(2026, 3, 29, 1, 30));
    // 02:30 CEST (the earlier) = 00:30 UTC.
    assert_eq!(by_item["F-2"], at(2026, 10, 25, 0, 30));
}

// ---------------------------------------------------------------------------------------
// 2. Invoices.

fn invoice_policy() -> Policy {
    Policy::new(tz("America/Santiago"))
        .with_calendar(BusinessCalendar::new(
            [Weekday::Sat, Weekday::Sun],
            [d(2026, 9, 18)],
        ))
        .with_rule(Rule::new(rid("issued"), Anchor::Issued, 0).expires_after(3))
        .with_rule(Rule::new(rid("due-soon"), Anchor::Due, -5))
        .with_rule(Rule::new(rid("due-today"), Anchor::Due, 0))
        .with_rule(Rule::new(rid("overdue"), Anchor::Due, 7).repeat(7, 4))
}

/// DESIGN 5: partial payments keep reminders going with the remaining balance.
#[test]
fn a_partly_paid_invoice_is_reminded_for_the_rest() {
    let planner = Planner::new(&invoice_policy()).unwrap();
    let clients = [client("c", "America/Santiago")];
    let items =
        [invoice("F-1", "c", d(2026, 8, 3), d(2026, 9, 2), 500_000).paid(clp(120_000), d(2026, 8, 20))];
    let plan = planner
        .plan(&clients, &items, &[], at(2026, 9, 2, 15, 0), Horizon::days(60))
        .unwrap();
    let due = plan.due();
    assert_eq!(due.len(), 1, "{due:?}");
    assert_eq!(due[0].rule.as_str(), "due-today");
    assert_eq!(due[0].amount_due, Some(clp(380_000)));
    assert_eq!(due[0].items[0].balance, Some(clp(380_000)));
    assert_eq!(plan.upcoming().len(), 4, "{:?}", plan.upcoming());
    assert!(plan.upcoming().iter().all(|e| e.amount_due == Some(clp(380_000))));
}

/// Nothing goes after the payment lands; what is suppressed says paid.
#[test]
fn nothing_goes_after_payment_in_full_at_any_cadence() {
    let planner = Planner::new(&invoice_policy()).unwrap();
    let zone = "America/Santiago";
    let clients = [client("c", zone)];
    let base = invoice("F-1", "c", d(2026, 8, 3), d(2026, 9, 2), 500_000);
    let paid_on = d(2026, 9, 16);
    let cadences: [Vec<DateTime<Utc>>; 3] = [
        every(at(2026, 8, 1, 0, 0), at(2026, 11, 1, 0, 0), Duration::hours(1)),
        daily_local(zone, d(2026, 8, 1), 92, hm(10, 0)),
        daily_local(zone, d(2026, 8, 1), 92, hm(8, 0)),
    ];
    for ticks in cadences {
        let mut host = Host::new(&planner);
        for now in ticks {
            let today = tz(zone).local_date(now);
            let item = if today >= paid_on {
                base.clone()
                    .paid(clp(200_000), d(2026, 8, 20))
                    .paid(clp(300_000), paid_on)
            } else if today >= d(2026, 8, 20) {
                base.clone().paid(clp(200_000), d(2026, 8, 20))
            } else {
                base.clone()
            };
            let sent = host.tick(&clients, std::slice::from_ref(&item), now);
            for s in sent {
                assert!(today < paid_on, "sent after payment: {s:?}");
                if today >= d(2026, 8, 20) {
                    assert_eq!(s.amount, Some(clp(300_000)), "{s:?}");
                }
            }
        }
        let item = base.clone().paid(clp(500_000), paid_on);
        let plan = planner
            .plan(
                &clients,
                &[item],
                &host.history,
                at(2026, 10, 1, 15, 0),
                Horizon::days(30),
            )
            .unwrap();
        assert!(plan.due().is_empty() && plan.upcoming().is_empty());
    }
}

/// A promise to pay until D holds reminders; after it, one goes (naming the pause), never a
/// burst, and the repeats are spaced from that send.
#[test]
fn a_promise_holds_reminders_then_one_goes_naming_it_and_repeats_are_spaced() {
    let planner = Planner::new(&invoice_policy()).unwrap();
    let zone = "America/Santiago";
    let clients = [client("c", zone)];
    let item = invoice("F-1", "c", d(2026, 8, 3), d(2026, 9, 2), 500_000).with_pause(
        Pause::new(PauseKind::Promise, "pays on the 30th")
            .starting(d(2026, 9, 1))
            .until(d(2026, 9, 30)),
    );
    let items = [item];
    let mut host = Host::new(&planner);
    for now in every(at(2026, 8, 1, 0, 0), at(2026, 11, 15, 0, 0), Duration::hours(1)) {
        host.tick(&clients, &items, now);
    }
    let during: Vec<&Sent> = host
        .sent
        .iter()
        .filter(|s| {
            let t = tz(zone).local_date(s.tick);
            t >= d(2026, 9, 1) && t <= d(2026, 9, 30)
        })
        .collect();
    assert!(during.is_empty(), "sent during the promise: {during:?}");
    let after: Vec<&Sent> = host
        .sent
        .iter()
        .filter(|s| tz(zone).local_date(s.tick) > d(2026, 9, 30))
        .collect();
    assert!(!after.is_empty());
    // October 1 2026 is a Thursday: the first after the pause goes that day, naming it.
    assert_eq!(tz(zone).local_date(after[0].tick), d(2026, 10, 1), "{after:?}");
    assert!(
        after[0]
            .adjustments
            .iter()
            .any(|a| matches!(a, Adjustment::Paused { .. })),
        "{:?}",
        after[0]
    );
    for w in after.windows(2) {
        assert!(
            tz(zone).local_date(w[1].tick) - tz(zone).local_date(w[0].tick) >= Duration::days(7),
            "burst after the promise: {:?} then {:?}",
            w[0],
            w[1]
        );
    }
    // The overdue rule's count holds: at most 4 overdue sends.
    assert!(host.sent.iter().filter(|s| s.rule == "overdue").count() <= 4);
}

/// A dispute (a pause without end) stops reminders, said in every plan.
#[test]
fn a_disputed_invoice_is_never_reminded_and_says_why_in_every_plan() {
    let planner = Planner::new(&invoice_policy()).unwrap();
    let zone = "America/Santiago";
    let clients = [client("c", zone)];
    let items = [invoice("F-1", "c", d(2026, 8, 3), d(2026, 9, 2), 500_000)
        .with_pause(Pause::new(PauseKind::Dispute, "wrong quantity").starting(d(2026, 8, 10)))];
    let mut host = Host::new(&planner);
    for now in daily_local(zone, d(2026, 8, 11), 120, hm(12, 0)) {
        host.tick(&clients, &items, now);
        // Said from the day its first reminder under the dispute was due (due soon, 08-28).
        if tz(zone).local_date(now) < d(2026, 8, 28) {
            continue;
        }
        let plan = planner
            .plan(&clients, &items, &host.history, now, Horizon::NONE)
            .unwrap();
        assert!(
            plan.suppressed()
                .iter()
                .any(|s| matches!(s.reason, SuppressReason::Paused { .. })),
            "{now}: the dispute is not said: {:?}",
            plan.suppressed()
        );
    }
    assert!(host.sent.is_empty(), "{:?}", host.sent);
}

/// Seed 002: reminders on or off per client; per-rule overrides of offset, spacing, count.
#[test]
fn per_client_switches_and_rule_overrides_apply_field_by_field() {
    let planner = Planner::new(&invoice_policy()).unwrap();
    let zone = "America/Santiago";
    let off = client("off", zone).with_overrides(ClientOverrides::default().reminders(false));
    let no_soon = client("nosoon", zone)
        .with_overrides(ClientOverrides::default().rule(rid("due-soon"), RuleOverride::off()));
    let tuned = client("tuned", zone).with_overrides(ClientOverrides::default().rule(
        rid("overdue"),
        RuleOverride {
            offset_days: Some(3),
            every_days: Some(2),
            count: Some(2),
            ..RuleOverride::default()
        },
    ));
    let clients = [off, no_soon, tuned];
    // Due Wednesday 2026-09-02.
    let items: Vec<Item> = ["off", "nosoon", "tuned"]
        .iter()
        .map(|c| invoice(&format!("F-{c}"), c, d(2026, 8, 3), d(2026, 9, 2), 100_000))
        .collect();
    let mut host = Host::new(&planner);
    for now in every(at(2026, 8, 1, 0, 0), at(2026, 11, 1, 0, 0), Duration::hours(2)) {
        host.tick(&clients, &items, now);
    }
    assert!(host.sent.iter().all(|s| s.client != "off"), "{:?}", host.sent);
    let of = |c: &str| -> Vec<(String, NaiveDate)> {
        host.sent
            .iter()
            .filter(|s| s.client == c)
            .map(|s| (s.rule.clone(), s.send_on))
            .collect()
    };
    let nosoon = of("nosoon");
    assert!(nosoon.iter().all(|(r, _)| r != "due-soon"), "{nosoon:?}");
    assert_eq!(
        nosoon.iter().filter(|(r, _)| r == "overdue").count(),
        4,
        "{nosoon:?}"
    );
    let tuned = of("tuned");
    let overdue: Vec<NaiveDate> = tuned
        .iter()
        .filter(|(r, _)| r == "overdue")
        .map(|(_, d)| *d)
        .collect();
    // Sat 09-05 moves to Mon 09-07; the second two days after the send: 09-09.
    assert_eq!(overdue, [d(2026, 9, 7), d(2026, 9, 9)], "{tuned:?}");
    assert!(tuned.iter().any(|(r, _)| r == "due-soon"));

    let plan = planner
        .plan(
            &clients,
            &items,
            &host.history,
            at(2026, 9, 1, 15, 0),
            Horizon::NONE,
        )
        .unwrap();
    let off_reasons: Vec<&SuppressReason> = plan
        .suppressed()
        .iter()
        .filter(|s| s.client.as_str() == "off")
        .map(|s| &s.reason)
        .collect();
    assert!(
        off_reasons
            .iter()
            .any(|r| matches!(r, SuppressReason::ClientRemindersOff)),
        "{off_reasons:?}"
    );
    let nosoon_reasons: Vec<&SuppressReason> = plan
        .suppressed()
        .iter()
        .filter(|s| s.client.as_str() == "nosoon")
        .map(|s| &s.reason)
        .collect();
    assert!(
        nosoon_reasons
            .iter()
            .any(|r| matches!(r, SuppressReason::ExcludedForClient)),
        "{nosoon_reasons:?}"
    );
    let s = planner.effective_settings(&clients[2]).unwrap();
    let r = s.rules.iter().find(|r| r.rule.as_str() == "overdue").unwrap();
    assert_eq!(r.offset_days.value, 3);
    assert_eq!(r.offset_days.origin, Origin::Client);
    assert_eq!(r.every_days.value, Some(2));
    assert_eq!(r.every_days.origin, Origin::Client);
    assert_eq!(r.count.value, 2);
    assert_eq!(r.count.origin, Origin::Client);
    assert_eq!(r.enabled.origin, Origin::Policy);
    let s = planner.effective_settings(&clients[0]).unwrap();
    assert!(!s.reminders.value);
    assert_eq!(s.reminders.origin, Origin::Client);
}

/// Seed 004: a client's payment term replaces the policy's for invoices without a due date.
#[test]
fn a_client_payment_term_sets_the_due_date_of_invoices_without_one() {
    let policy = Policy::new(TimeZone::UTC)
        .with_payment_term(30)
        .with_rule(Rule::new(rid("due-today"), Anchor::Due, 0));
    let planner = Planner::new(&policy).unwrap();
    let clients = [
        client("a", "UTC"),
        client("b", "UTC").with_overrides(ClientOverrides::default().payment_term(15)),
    ];
    let items = [
        Item::invoice(
            "F-a".parse().unwrap(),
            "a".parse().unwrap(),
            d(2026, 3, 2),
            clp(10),
        ),
        Item::invoice(
            "F-b".parse().unwrap(),
            "b".parse().unwrap(),
            d(2026, 3, 2),
            clp(10),
        ),
    ];
    let plan = planner
        .plan(&clients, &items, &[], at(2026, 3, 2, 0, 0), Horizon::days(60))
        .unwrap();
    let days: BTreeMap<String, NaiveDate> = plan
        .upcoming()
        .iter()
        .map(|e| (e.client.to_string(), e.send_on))
        .collect();
    assert_eq!(days["a"], d(2026, 4, 1));
    assert_eq!(days["b"], d(2026, 3, 17));
    let s = planner.effective_settings(&clients[1]).unwrap();
    assert_eq!(s.payment_term_days.value, 15);
    assert_eq!(s.payment_term_days.origin, Origin::Client);
    // Out of range: 0 and 31 are refused, naming the field.
    for bad in [0, 31, u32::MAX] {
        let c = client("b", "UTC").with_overrides(ClientOverrides::default().payment_term(bad));
        let err = planner
            .plan(&[c], &[], &[], at(2026, 3, 2, 0, 0), Horizon::NONE)
            .unwrap_err();
        assert!(err.to_string().contains("payment_term_days"), "{bad}: {err}");
    }
    for bad in [0, 31] {
        let err = Planner::new(&Policy::new(TimeZone::UTC).with_payment_term(bad)).unwrap_err();
        assert!(err.to_string().contains("payment_term_days"), "{bad}: {err}");
    }
}

/// README Minimum gap: two invoices of one client due the same day with a gap of 3 days:
/// the second goes three days later, said deferred; never two messages within the gap.
#[test]
fn the_minimum_gap_spaces_messages_to_a_client_and_says_deferred() {
    let policy = Policy::new(TimeZone::UTC)
        .with_min_gap(3)
        .with_rule(Rule::new(rid("due-today"), Anchor::Due, 0))
        .with_rule(Rule::new(rid("overdue"), Anchor::Due, 2).repeat(2, 3));
    let planner = Planner::new(&policy).unwrap();
    let zone = "Europe/Madrid";
    let clients = [client("c", zone)];
    let items = [
        invoice("F-1", "c", d(2026, 3, 1), d(2026, 4, 1), 100),
        invoice("F-2", "c", d(2026, 3, 1), d(2026, 4, 1), 200),
        invoice("F-3", "c", d(2026, 3, 1), d(2026, 4, 2), 300),
    ];
    let forecast = planner
        .plan(&clients, &items, &[], at(2026, 3, 30, 0, 0), Horizon::days(90))
        .unwrap();
    let mut host = Host::new(&planner);
    for now in every(at(2026, 3, 30, 0, 0), at(2026, 6, 28, 0, 0), Duration::hours(1)) {
        host.tick(&clients, &items, now);
    }
    assert!(!host.sent.is_empty());
    for w in host.sent.windows(2) {
        assert!(
            w[1].send_on - tz(zone).local_date(w[0].tick) >= Duration::days(3)
                || w[1].tick - w[0].tick >= Duration::days(3),
            "inside the gap: {:?} then {:?}",
            w[0],
            w[1]
        );
    }
    assert!(
        host.sent.iter().any(|s| s
            .adjustments
            .iter()
            .any(|a| matches!(a, Adjustment::Deferred { .. }))),
        "{:?}",
        host.sent
    );
    // The forecast is what the ticks sent (nothing changed).
    let want: Vec<(String, DateTime<Utc>)> = forecast
        .events()
        .map(|e| (e.key.to_string(), e.send_at))
        .collect();
    let got: Vec<(String, DateTime<Utc>)> = host.sent.iter().map(|s| (s.key.clone(), s.send_at)).collect();
    assert_eq!(got, want);
}

/// Grouped notices: one per client and currency; each item occurrence in one notice only;
/// nothing twice over many ticks; the amount is the currency's sum.
#[test]
fn grouped_notices_go_one_per_client_and_currency_and_never_twice() {
    let policy = Policy::new(TimeZone::UTC)
        .with_rule(Rule::new(rid("overdue"), Anchor::Due, 1).repeat(5, 3).grouped());
    let planner = Planner::new(&policy).unwrap();
    let zone = "America/New_York";
    let clients = [client("c", zone), client("e", zone)];
    let usd = |n| Money::from_minor(n, cur("USD"));
    let items = vec![
        invoice("F-1", "c", d(2026, 3, 1), d(2026, 4, 6), 1000),
        invoice("F-2", "c", d(2026, 3, 1), d(2026, 4, 6), 2000),
        Item::invoice(
            "U-1".parse().unwrap(),
            "c".parse().unwrap(),
            d(2026, 3, 1),
            usd(150),
        )
        .due(d(2026, 4, 6)),
        Item::invoice(
            "U-2".parse().unwrap(),
            "c".parse().unwrap(),
            d(2026, 3, 1),
            usd(250),
        )
        .due(d(2026, 4, 6)),
        invoice("F-3", "c", d(2026, 3, 1), d(2026, 4, 8), 4000),
        invoice("E-1", "e", d(2026, 3, 1), d(2026, 4, 6), 7),
    ];
    let forecast = planner
        .plan(&clients, &items, &[], at(2026, 4, 1, 0, 0), Horizon::days(40))
        .unwrap();
    let mut host = Host::new(&planner);
    for now in every(at(2026, 4, 1, 0, 0), at(2026, 5, 11, 0, 0), Duration::hours(1)) {
        host.tick(&clients, &items, now);
    }
    let first_day: Vec<&Sent> = host
        .sent
        .iter()
        .filter(|s| s.send_on == d(2026, 4, 7) && s.client == "c")
        .collect();
    assert_eq!(first_day.len(), 2, "one per currency: {first_day:?}");
    let amounts: HashSet<Option<Money>> = first_day.iter().map(|s| s.amount).collect();
    assert!(amounts.contains(&Some(clp(3000))), "{amounts:?}");
    assert!(amounts.contains(&Some(usd(400))), "{amounts:?}");
    for item in ["F-1", "F-2", "U-1", "U-2", "F-3", "E-1"] {
        assert_eq!(
            occurrences_of(&host.sent, item),
            [1, 2, 3],
            "{item}: {:?}",
            host.sent
        );
    }
    let want: Vec<(String, DateTime<Utc>)> = forecast
        .events()
        .map(|e| (e.key.to_string(), e.send_at))
        .collect();
    let got: Vec<(String, DateTime<Utc>)> = host.sent.iter().map(|s| (s.key.clone(), s.send_at)).collect();
    assert_eq!(got, want, "forecast against ticks");
}

/// DESIGN 11: "A forecast mode lists what would be sent over the next N days if nothing
/// changes." A portfolio of invoices and actions with weekends, a holiday, pauses and every
/// kind of rule: the forecast at the start is what hourly ticks send.
#[test]
fn a_forecast_matches_what_hourly_ticks_send_when_nothing_changes() {
    let policy = invoice_policy().with_rule(Rule::pending_action(rid("pending")));
    let planner = Planner::new(&policy).unwrap();
    let clients: Vec<Client> = ZONES
        .iter()
        .enumerate()
        .map(|(i, z)| client(&format!("c{i}"), z))
        .collect();
    let mut items = Vec::new();
    for (i, c) in clients.iter().enumerate() {
        let id = c.id.as_str();
        let k = i as u32;
        items.push(invoice(
            &format!("F{i}a"),
            id,
            d(2026, 9, 1 + k),
            d(2026, 9, 14 + k),
            1000,
        ));
        items.push(invoice(
            &format!("F{i}b"),
            id,
            d(2026, 9, 10),
            d(2026, 9, 18),
            2000,
        ));
        items.push(
            invoice(&format!("F{i}c"), id, d(2026, 9, 2), d(2026, 9, 21), 3000).with_pause(
                Pause::new(PauseKind::Promise, "soon")
                    .starting(d(2026, 9, 20))
                    .until(d(2026, 9, 26 + k)),
            ),
        );
        let mut a = action(&format!("P{i}"), id, ItemKind::Proposal, d(2026, 9, 4 + k));
        a.reminder_every_days = Some(2 + k);
        a.reminder_count = Some(3);
        items.push(a);
    }
    let start = at(2026, 9, 1, 0, 0);
    let forecast = planner
        .plan(&clients, &items, &[], start, Horizon::days(80))
        .unwrap();
    let mut host = Host::new(&planner);
    for now in every(start, start + Duration::days(80), Duration::hours(1)) {
        host.tick(&clients, &items, now);
    }
    let mut want: Vec<(String, NaiveDate)> = forecast
        .events()
        .map(|e| (e.key.to_string(), e.send_on))
        .collect();
    let mut got: Vec<(String, NaiveDate)> = host.sent.iter().map(|s| (s.key.clone(), s.send_on)).collect();
    want.sort();
    got.sort();
    assert_eq!(got, want);
}

/// The same with a host that ticks once a day after the send time and an outage in the
/// middle: what the ticks send never repeats an occurrence and never exceeds the forecast.
#[test]
fn an_outage_sends_no_more_than_the_forecast_and_each_occurrence_once() {
    let policy = invoice_policy().with_rule(Rule::pending_action(rid("pending")));
    let planner = Planner::new(&policy).unwrap();
    let zone = "Pacific/Auckland";
    let clients = [client("c", zone)];
    let mut items = vec![
        invoice("F-1", "c", d(2026, 9, 1), d(2026, 9, 14), 1000),
        invoice("F-2", "c", d(2026, 9, 3), d(2026, 9, 17), 2000),
    ];
    let mut a = action("P-1", "c", ItemKind::Form, d(2026, 9, 2));
    a.reminder_every_days = Some(2);
    a.reminder_count = Some(5);
    items.push(a);
    let forecast = planner
        .plan(&clients, &items, &[], at(2026, 9, 1, 0, 0), Horizon::days(80))
        .unwrap();
    let forecast_count = forecast.events().count();
    let mut host = Host::new(&planner);
    let ticks: Vec<DateTime<Utc>> = daily_local(zone, d(2026, 9, 1), 80, hm(13, 0))
        .into_iter()
        .filter(|t| {
            let l = tz(zone).local_date(*t);
            !(l >= d(2026, 9, 8) && l <= d(2026, 9, 24))
        })
        .collect();
    for now in ticks {
        let sent = host.tick(&clients, &items, now);
        let mut per_item: BTreeMap<String, u32> = BTreeMap::new();
        for s in &sent {
            for (i, _) in &s.items {
                *per_item.entry(i.clone()).or_default() += 1;
            }
        }
        assert!(per_item.values().all(|n| *n == 1), "burst at {now}: {sent:?}");
    }
    assert!(host.sent.len() <= forecast_count);
}

// ---------------------------------------------------------------------------------------
// 3. Limits.

fn limit_planner(rule: Rule) -> Result<Planner, ValidationError> {
    Planner::new(&Policy::new(TimeZone::UTC).with_rule(rule))
}

#[test]
fn rule_numbers_past_their_limits_are_typed_errors_naming_the_field() {
    let cases: [(Rule, &str); 6] = [
        (Rule::new(rid("r"), Anchor::Due, 0).repeat(1, 10_001), "count"),
        (Rule::new(rid("r"), Anchor::Due, 0).repeat(1, u32::MAX), "count"),
        (
            Rule::new(rid("r"), Anchor::Due, 0).repeat(36_601, 2),
            "every_days",
        ),
        (
            Rule::new(rid("r"), Anchor::Due, 0).repeat(u32::MAX, 2),
            "every_days",
        ),
        (Rule::new(rid("r"), Anchor::Due, 36_601), "offset_days"),
        (Rule::new(rid("r"), Anchor::Due, i32::MIN), "offset_days"),
    ];
    for (rule, field) in cases {
        let err = limit_planner(rule.clone()).err();
        let err = err.unwrap_or_else(|| panic!("accepted: {rule:?}"));
        assert!(err.to_string().contains(field), "{field}: {err}");
    }
    let expiry = Rule::new(rid("r"), Anchor::Due, 0).expires_after(36_601);
    let Err(err) = limit_planner(expiry) else {
        panic!("expiry past the limit accepted")
    };
    assert!(err.to_string().contains("expires_after"), "{err}");
    // At the limits they are accepted.
    limit_planner(Rule::new(rid("r"), Anchor::Due, 0).repeat(36_600, 10_000)).unwrap();
    limit_planner(Rule::new(rid("r"), Anchor::Due, -36_600)).unwrap();
    limit_planner(Rule::new(rid("r"), Anchor::Due, 36_600).expires_after(36_600)).unwrap();
    let gap = Planner::new(&Policy::new(TimeZone::UTC).with_min_gap(36_601)).err();
    assert!(gap.expect("gap past the limit").to_string().contains("min_gap"));
}

/// The item's own spacing and count are a spacing and a count: past their limits a typed
/// error naming the field, never a hang.
#[test]
fn an_item_reminder_count_or_spacing_past_the_limits_is_a_typed_error() {
    let planner = limit_planner(Rule::pending_action(rid("pending"))).unwrap();
    let clients = [client("c", "UTC")];
    let now = at(2026, 6, 10, 12, 0);
    for (every_days, count, field) in [
        (Some(1), Some(u32::MAX), "reminder_count"),
        (Some(1), Some(10_001), "reminder_count"),
        (Some(u32::MAX), Some(2), "reminder_every_days"),
        (Some(36_601), Some(2), "reminder_every_days"),
    ] {
        let mut item = action("P-1", "c", ItemKind::Form, d(2026, 6, 1));
        item.reminder_every_days = every_days;
        item.reminder_count = count;
        let err = planner
            .plan(
                &clients,
                std::slice::from_ref(&item),
                &[],
                now,
                Horizon::days(3660),
            )
            .err()
            .unwrap_or_else(|| panic!("accepted {every_days:?} {count:?}"));
        assert!(err.to_string().contains(field), "{field}: {err}");
    }
    // At the limits: planned, a forecast of ten years lists what it must.
    let mut item = action("P-1", "c", ItemKind::Form, d(2026, 6, 1));
    item.reminder_every_days = Some(1);
    item.reminder_count = Some(10_000);
    let plan = planner
        .plan(&clients, &[item], &[], now, Horizon::days(3660))
        .unwrap();
    assert_eq!(plan.due().len() + plan.upcoming().len(), 3660 + 1, "one a day");
}

#[test]
fn horizons_past_the_limit_are_refused_and_at_the_limit_accepted() {
    let planner = limit_planner(Rule::new(rid("r"), Anchor::Due, 0)).unwrap();
    let now = at(2026, 6, 10, 12, 0);
    for h in [3661, u32::MAX] {
        let err = planner.plan(&[], &[], &[], now, Horizon::days(h)).unwrap_err();
        assert!(err.to_string().to_lowercase().contains("horizon"), "{h}: {err}");
    }
    planner.plan(&[], &[], &[], now, Horizon::days(3660)).unwrap();
}

/// The ends of the calendar: items dated at the last and first representable days, rules
/// whose offsets reach past them, plans near the end of time: no panic, a plan or a typed
/// error.
#[test]
fn items_at_the_ends_of_the_calendar_never_panic() {
    let policy = Policy::new(TimeZone::UTC)
        .with_calendar(BusinessCalendar::new([Weekday::Sat, Weekday::Sun], []))
        .with_rule(Rule::new(rid("soon"), Anchor::Due, -36_600))
        .with_rule(Rule::new(rid("late"), Anchor::Due, 36_600).repeat(36_600, 10_000))
        .with_rule(Rule::new(rid("issued"), Anchor::Issued, 36_600))
        .with_rule(Rule::pending_action(rid("pending")).repeat(36_600, 10_000))
        .with_rule(Rule::thank_you(rid("thanks")));
    let planner = Planner::new(&policy).unwrap();
    let clients = [client("c", "Pacific/Auckland"), client("e", "America/Santiago")];
    let max = NaiveDate::MAX;
    let min = NaiveDate::MIN;
    let items = vec![
        invoice("F-max", "c", max, max, 10),
        invoice("F-min", "c", min, min, 10),
        Item::invoice("F-term".parse().unwrap(), "e".parse().unwrap(), max, clp(10)),
        action("P-max", "e", ItemKind::Form, max),
        action("P-min", "e", ItemKind::Form, min),
        invoice("F-paid", "e", max - Duration::days(3), max, 10).paid(clp(10), max),
    ];
    let last = DateTime::<Utc>::MAX_UTC;
    for now in [
        at(2026, 6, 10, 12, 0),
        last - Duration::days(40),
        last - Duration::hours(1),
        last,
        DateTime::<Utc>::MIN_UTC,
        DateTime::<Utc>::MIN_UTC + Duration::days(3),
    ] {
        for h in [0, 30, 3660] {
            match planner.plan(&clients, &items, &[], now, Horizon::days(h)) {
                Ok(plan) => {
                    for e in plan.events() {
                        assert!(e.send_at >= now || plan.due().iter().any(|x| x.key == e.key));
                        let _ = e.explain();
                    }
                    for s in plan.suppressed() {
                        assert!(!s.explain().is_empty());
                    }
                }
                Err(e) => assert!(!e.to_string().is_empty()),
            }
        }
    }
}

/// README Limits: "amounts up to i64::MAX minor units, with each client's balances ... per
/// currency adding up to no more: past them a typed error naming the field or the client".
#[test]
fn a_client_balances_adding_past_i64_max_are_a_typed_error_naming_the_client() {
    let now = at(2026, 6, 10, 12, 0);
    let big = i64::MAX / 2 + 1;
    let clients = [client("c", "UTC")];
    let items = vec![
        invoice("F-1", "c", d(2026, 5, 1), d(2026, 6, 1), big),
        invoice("F-2", "c", d(2026, 5, 1), d(2026, 6, 1), big),
    ];
    for rule in [
        Rule::new(rid("r"), Anchor::Due, 0),
        Rule::new(rid("r"), Anchor::Due, 0).grouped(),
    ] {
        let planner = limit_planner(rule.clone()).unwrap();
        let err = planner
            .plan(&clients, &items, &[], now, Horizon::days(30))
            .err()
            .unwrap_or_else(|| panic!("two balances past i64::MAX accepted (group {})", rule.group));
        assert!(err.to_string().contains('c'), "{err}");
    }
    // Many invoices, each small enough, whose sum overflows.
    let many: Vec<Item> = (0..10)
        .map(|i| invoice(&format!("M-{i}"), "c", d(2026, 5, 1), d(2026, 6, 1), i64::MAX / 9))
        .collect();
    let planner = limit_planner(Rule::new(rid("r"), Anchor::Due, 0).grouped()).unwrap();
    assert!(planner.plan(&clients, &many, &[], now, Horizon::NONE).is_err());
    // Exactly i64::MAX in all is fine.
    let exact = vec![
        invoice("F-1", "c", d(2026, 5, 1), d(2026, 6, 1), i64::MAX - 1),
        invoice("F-2", "c", d(2026, 5, 1), d(2026, 6, 1), 1),
    ];
    let plan = planner.plan(&clients, &exact, &[], now, Horizon::NONE).unwrap();
    assert_eq!(plan.due()[0].amount_due, Some(clp(i64::MAX)));
}

/// A payment past the total: paid (balance not above zero); payments adding past i64::MAX:
/// a typed error, not a wrapped balance that reads as owed.
#[test]
fn overpayments_and_payment_sums_past_the_limit_never_read_as_owed() {
    let planner = limit_planner(Rule::new(rid("r"), Anchor::Due, 0)).unwrap();
    let clients = [client("c", "UTC")];
    let now = at(2026, 6, 1, 12, 0);
    let over = invoice("F-1", "c", d(2026, 5, 1), d(2026, 6, 1), 100).paid(clp(150), d(2026, 5, 20));
    let plan = planner.plan(&clients, &[over], &[], now, Horizon::NONE).unwrap();
    assert!(plan.due().is_empty());
    assert!(
        plan.suppressed()
            .iter()
            .any(|s| matches!(s.reason, SuppressReason::Paid))
    );
    let wrap = invoice("F-2", "c", d(2026, 5, 1), d(2026, 6, 1), 100)
        .paid(clp(i64::MAX), d(2026, 5, 20))
        .paid(clp(i64::MAX), d(2026, 5, 21));
    match planner.plan(&clients, &[wrap], &[], now, Horizon::NONE) {
        Ok(plan) => assert!(plan.due().is_empty(), "{:?}", plan.due()),
        Err(e) => assert!(e.to_string().contains("F-2"), "{e}"),
    }
}

// ---------------------------------------------------------------------------------------
// 4. Preview, test send, effective settings, explanations.

/// Seed 002: "vista previa" / "probar recordatorio" for a chosen client and invoice, whatever
/// the schedule says; the key never collides with a real one.
#[test]
fn previews_work_for_any_rule_and_item_and_never_collide_with_real_keys() {
    let planner = Planner::new(&invoice_policy().with_rule(Rule::pending_action(rid("pending")))).unwrap();
    let c = client("c", "America/Santiago");
    let inv = invoice("F-1", "c", d(2026, 8, 3), d(2026, 9, 2), 500_000).paid(clp(100), d(2026, 8, 5));
    let now = at(2026, 8, 4, 12, 0);
    for rule in ["issued", "due-soon", "due-today", "overdue"] {
        let e = planner.preview(&rid(rule), &c, &inv, now).unwrap();
        assert_eq!(e.key.as_str(), format!("preview/{rule}/F-1"));
        assert!(e.why.preview);
        assert_eq!(e.amount_due, Some(clp(499_900)));
        assert!(!e.explain().is_empty());
        assert!(!e.recipients.is_empty());
    }
    let a = action("P-1", "c", ItemKind::Proposal, d(2026, 8, 1));
    let e = planner.preview(&rid("pending"), &c, &a, now).unwrap();
    assert_eq!(e.stage, Stage::Pending);
    // Unknown rule, another client's item: errors.
    assert!(planner.preview(&rid("nope"), &c, &inv, now).is_err());
    let other = invoice("F-9", "z", d(2026, 8, 3), d(2026, 9, 2), 5);
    assert!(planner.preview(&rid("overdue"), &c, &other, now).is_err());
}

/// Seed 002 test send: a host records the test send it made (with `Event::to_history`, the
/// documented way to record what was sent) in its history. The preview's key "never
/// collides with a real one", so the client's real reminder still goes, or is explained.
#[test]
fn a_recorded_test_send_does_not_stop_the_real_reminder() {
    let planner = Planner::new(&invoice_policy()).unwrap();
    let c = client("c", "America/Santiago");
    let inv = invoice("F-1", "c", d(2026, 8, 3), d(2026, 9, 2), 500_000);
    // The operator tries the rule at 08:00 local, before the real send time (09:00).
    let now = at(2026, 8, 3, 12, 0);
    let p = planner.preview(&rid("issued"), &c, &inv, now).unwrap();
    assert!(p.key.as_str().starts_with("preview/"));
    let plan = planner
        .plan(
            std::slice::from_ref(&c),
            std::slice::from_ref(&inv),
            &[p.to_history(now)],
            at(2026, 8, 3, 15, 0),
            Horizon::NONE,
        )
        .unwrap();
    assert_eq!(plan.due().len(), 1, "{:?}", plan.suppressed());
    assert_eq!(plan.due()[0].key.as_str(), "issued/F-1/1");
}

/// DESIGN 11: every suppressed occurrence explained in data and in a sentence; the sentence
/// names the item; the serialized entry carries it.
#[test]
fn every_suppressed_occurrence_is_explained_in_data_and_in_a_sentence() {
    let policy = invoice_policy()
        .with_rule(Rule::pending_action(rid("pending")))
        .with_rule(Rule::thank_you(rid("thanks")))
        .with_min_gap(2)
        .with_collection_start(CollectionStart::default());
    let planner = Planner::new(&policy).unwrap();
    let zone = "America/Santiago";
    let clients = [
        client("c", zone),
        client("off", zone).with_overrides(ClientOverrides::default().reminders(false)),
        Client::new("mute".parse().unwrap(), "Mute").with_time_zone(tz(zone)),
    ];
    let mut items = vec![
        invoice("F-1", "c", d(2026, 8, 3), d(2026, 9, 2), 500),
        invoice("F-2", "c", d(2026, 8, 3), d(2026, 9, 2), 500).paid(clp(500), d(2026, 9, 1)),
        invoice("F-3", "c", d(2026, 8, 3), d(2026, 9, 2), 500).with_status(ItemStatus::Cancelled),
        invoice("F-4", "c", d(2026, 8, 3), d(2026, 9, 2), 500)
            .with_pause(Pause::new(PauseKind::Dispute, "no").starting(d(2026, 8, 1))),
        invoice("F-5", "c", d(2026, 8, 3), d(2026, 9, 2), 500).with_status(ItemStatus::Void),
        invoice("F-6", "c", d(2026, 8, 3), d(2026, 9, 2), 500).with_status(ItemStatus::Draft),
        invoice("F-7", "off", d(2026, 8, 3), d(2026, 9, 2), 500),
        invoice("F-8", "mute", d(2026, 8, 3), d(2026, 9, 2), 500),
        action("P-1", "c", ItemKind::Proposal, d(2026, 8, 29)).with_status(ItemStatus::Completed),
    ];
    let mut f9 = invoice("F-9", "c", d(2026, 8, 3), d(2026, 9, 2), 500);
    f9.reminders = false;
    items.push(f9);
    let now = at(2026, 9, 3, 15, 0);
    let plan = planner
        .plan(&clients, &items, &[], now, Horizon::days(30))
        .unwrap();
    assert!(!plan.suppressed().is_empty());
    let json = serde_json::to_value(&plan).unwrap();
    let supp = json["suppressed"].as_array().unwrap();
    assert_eq!(supp.len(), plan.suppressed().len());
    for (s, j) in plan.suppressed().iter().zip(supp) {
        let text = s.explain();
        assert!(!text.is_empty());
        if let Some(number) = &s.number {
            assert!(text.contains(&**number), "{text} does not name {number}");
        }
        assert_eq!(j["why"].as_str(), Some(text.as_str()), "{j}");
    }
    let for_item = |id: &str| -> Vec<SuppressReasonKind> {
        plan.suppressed()
            .iter()
            .filter(|s| s.item.as_ref().is_some_and(|i| i.as_str() == id))
            .map(|s| s.reason.kind())
            .collect()
    };
    let want = [
        ("F-2", SuppressReasonKind::Paid),
        ("F-3", SuppressReasonKind::Cancelled),
        ("F-4", SuppressReasonKind::Paused),
        ("F-5", SuppressReasonKind::Void),
        ("F-6", SuppressReasonKind::Draft),
        ("F-7", SuppressReasonKind::ClientRemindersOff),
        ("F-8", SuppressReasonKind::NoRecipients),
        ("F-9", SuppressReasonKind::ItemRemindersOff),
        ("P-1", SuppressReasonKind::Completed),
    ];
    for (item, kind) in want {
        assert!(for_item(item).contains(&kind), "{item}: {:?}", for_item(item));
    }
    for e in plan.events() {
        let j = serde_json::to_value(e).unwrap();
        assert_eq!(j["why"]["text"].as_str(), Some(e.explain().as_str()));
    }
}

/// README: a lasting stop of an open item (reminders off, a dispute, a count reached) is
/// explained in every plan, however long ago its reminder was first due.
#[test]
fn a_count_reached_is_said_in_every_later_plan() {
    let policy = Policy::new(TimeZone::UTC).with_rule(Rule::pending_action(rid("pending")));
    let planner = Planner::new(&policy).unwrap();
    let clients = [client("c", "UTC")];
    let mut a = action("P-1", "c", ItemKind::Form, d(2026, 1, 5));
    a.reminder_count = Some(2);
    a.reminder_every_days = Some(2);
    let items = [a];
    let mut host = Host::new(&planner);
    for now in daily_local("UTC", d(2026, 1, 1), 20, hm(12, 0)) {
        host.tick(&clients, &items, now);
    }
    assert_eq!(occurrences_of(&host.sent, "P-1"), [1, 2]);
    for now in [
        at(2026, 1, 25, 12, 0),
        at(2026, 6, 1, 12, 0),
        at(2030, 1, 1, 12, 0),
    ] {
        let plan = planner
            .plan(&clients, &items, &host.history, now, Horizon::days(30))
            .unwrap();
        assert!(plan.due().is_empty() && plan.upcoming().is_empty());
        assert!(
            plan.suppressed()
                .iter()
                .any(|s| matches!(s.reason, SuppressReason::CountReached { count: 2 })),
            "{now}: {:?}",
            plan.suppressed()
        );
    }
}

/// Same inputs in any order: the same plan, byte for byte.
#[test]
fn input_order_does_not_change_the_plan() {
    let policy = invoice_policy()
        .with_rule(Rule::pending_action(rid("pending")))
        .with_min_gap(2)
        .with_rule(Rule::new(rid("grouped"), Anchor::Due, 10).grouped());
    let planner = Planner::new(&policy).unwrap();
    let mut clients: Vec<Client> = ZONES
        .iter()
        .enumerate()
        .map(|(i, z)| client(&format!("c{i}"), z))
        .collect();
    let mut items = Vec::new();
    for i in 0..4 {
        for j in 0..4u32 {
            items.push(invoice(
                &format!("F{i}{j}"),
                &format!("c{i}"),
                d(2026, 8, 1 + j),
                d(2026, 9, 1 + 3 * j),
                1000 + i64::from(j),
            ));
        }
        let mut a = action(&format!("P{i}"), &format!("c{i}"), ItemKind::Form, d(2026, 9, 3));
        a.reminder_every_days = Some(2);
        a.reminder_count = Some(3);
        items.push(a);
    }
    let now = at(2026, 9, 12, 13, 0);
    let hist = vec![HistoryEntry::manual(
        "c1".parse().unwrap(),
        "F10".parse().unwrap(),
        at(2026, 9, 8, 12, 0),
    )];
    let a = serde_json::to_string(
        &planner
            .plan(&clients, &items, &hist, now, Horizon::days(40))
            .unwrap(),
    )
    .unwrap();
    clients.reverse();
    items.reverse();
    items.rotate_left(5);
    let b = serde_json::to_string(
        &planner
            .plan(&clients, &items, &hist, now, Horizon::days(40))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(a, b);
}

/// Ticks of a due-soon rule one day before the due date: a host ticking hourly never loses
/// it, and it never goes on or after the due date (DESIGN 4), in every zone.
#[test]
fn a_due_soon_reminder_never_goes_on_or_after_the_due_date() {
    let policy = Policy::new(TimeZone::UTC)
        .with_rule(Rule::new(rid("soon"), Anchor::Due, -1))
        .with_rule(Rule::new(rid("due"), Anchor::Due, 0));
    let planner = Planner::new(&policy).unwrap();
    for zone in ZONES {
        let clients = [client("c", zone)];
        let items = [invoice("F-1", "c", d(2026, 3, 1), d(2026, 3, 10), 100)];
        // Hourly: both go.
        let mut host = Host::new(&planner);
        for now in every(at(2026, 3, 7, 0, 0), at(2026, 3, 14, 0, 0), Duration::hours(1)) {
            host.tick(&clients, &items, now);
        }
        let rules: Vec<(String, NaiveDate)> = host.sent.iter().map(|s| (s.rule.clone(), s.send_on)).collect();
        assert_eq!(
            rules,
            [
                ("soon".to_string(), d(2026, 3, 9)),
                ("due".to_string(), d(2026, 3, 10))
            ],
            "{zone}"
        );
        // Down on the 9th: the due-soon is lost, not sent on the due date.
        let mut host = Host::new(&planner);
        let mut ticks = every(
            at(2026, 3, 7, 0, 0),
            local(zone, d(2026, 3, 9), hm(0, 0)),
            Duration::hours(1),
        );
        ticks.extend(every(
            local(zone, d(2026, 3, 10), hm(0, 0)),
            at(2026, 3, 14, 0, 0),
            Duration::hours(1),
        ));
        for now in ticks {
            host.tick(&clients, &items, now);
        }
        for s in &host.sent {
            if s.rule == "soon" {
                assert!(tz(zone).local_date(s.tick) < d(2026, 3, 10), "{zone}: {s:?}");
            }
        }
        assert_eq!(host.sent.iter().filter(|s| s.rule == "due").count(), 1, "{zone}");
    }
}

/// Seed 004: items older than the collection start are never reminded, and say so.
#[test]
fn items_before_the_collection_start_are_never_reminded() {
    let start = CollectionStart {
        past_items: Some(d(2026, 6, 1)),
        ..CollectionStart::default()
    };
    let policy = invoice_policy().with_collection_start(start);
    let planner = Planner::new(&policy).unwrap();
    let clients = [client("c", "America/Santiago")];
    let items = [
        invoice("OLD", "c", d(2026, 3, 1), d(2026, 5, 15), 100),
        invoice("NEW", "c", d(2026, 6, 3), d(2026, 7, 3), 100),
    ];
    let mut host = Host::new(&planner);
    for now in every(at(2026, 6, 1, 0, 0), at(2026, 8, 15, 0, 0), Duration::hours(6)) {
        host.tick(&clients, &items, now);
    }
    assert!(occurrences_of(&host.sent, "OLD").is_empty(), "{:?}", host.sent);
    assert!(!occurrences_of(&host.sent, "NEW").is_empty());
    let plan = planner
        .plan(
            &clients,
            &items,
            &host.history,
            at(2026, 8, 15, 0, 0),
            Horizon::NONE,
        )
        .unwrap();
    assert!(plan.suppressed().iter().any(|s| {
        s.item.as_ref().is_some_and(|i| i.as_str() == "OLD")
            && matches!(s.reason, SuppressReason::BeforeCollectionStart { .. })
    }));
}

/// README: "A lasting stop of an open item (reminders off, before the collection start, a
/// dispute, a count reached) is explained in every plan, once per item and rule, however
/// long ago its reminder was first due"; `Plan::suppressed`: "Events not sent ..., with
/// reasons, between the planner's lookback before now and the horizon". A dispute keeps
/// saying why the "due soon" did not go after the due date; reminders off (client, item,
/// or the rule for the client) stop saying it the day the invoice falls due, though its day
/// is within the lookback.
#[test]
fn a_due_soon_stopped_by_reminders_off_is_explained_after_the_due_date_too() {
    let planner = Planner::new(&invoice_policy()).unwrap();
    let zone = "America/Santiago";
    let clients = [
        client("a", zone)
            .with_overrides(ClientOverrides::default().rule(rid("due-soon"), RuleOverride::off())),
        client("b", zone).with_overrides(ClientOverrides::default().reminders(false)),
        client("c", zone),
    ];
    let mut off = invoice("F-c", "c", d(2026, 8, 3), d(2026, 9, 2), 100_000);
    off.reminders = false;
    let items = [
        invoice("F-a", "a", d(2026, 8, 3), d(2026, 9, 2), 100_000),
        invoice("F-b", "b", d(2026, 8, 3), d(2026, 9, 2), 100_000),
        off,
        invoice("F-d", "c", d(2026, 8, 3), d(2026, 9, 2), 100_000)
            .with_pause(Pause::new(PauseKind::Dispute, "x").starting(d(2026, 8, 10))),
    ];
    // Due soon was 2026-08-28; the due date 2026-09-02; the lookback is 7 days.
    for now in [at(2026, 9, 1, 15, 0), at(2026, 9, 3, 15, 0)] {
        let plan = planner.plan(&clients, &items, &[], now, Horizon::NONE).unwrap();
        for item in ["F-a", "F-b", "F-c", "F-d"] {
            let said = plan.suppressed().iter().any(|s| {
                s.item.as_ref().is_some_and(|i| i.as_str() == item) && s.rule.as_str() == "due-soon"
            });
            assert!(
                said,
                "{now}: nothing says why {item} got no due-soon: {:?}",
                plan.suppressed()
                    .iter()
                    .map(Suppressed::explain)
                    .collect::<Vec<_>>()
            );
        }
    }
}

/// DESIGN 9 for invoices: a manual send spaces the next automatic reminder (the repeat
/// after it comes `every` days after the manual send) and does not use up the count.
#[test]
fn a_manual_send_about_an_overdue_invoice_spaces_the_next_repeat_and_keeps_the_count() {
    let policy = Policy::new(TimeZone::UTC).with_rule(Rule::new(rid("overdue"), Anchor::Due, 1).repeat(7, 3));
    let planner = Planner::new(&policy).unwrap();
    let zone = "Europe/Madrid";
    let clients = [client("c", zone)];
    let items = [invoice("F-1", "c", d(2026, 3, 1), d(2026, 4, 1), 100)];
    let mut host = Host::new(&planner);
    // Automatic: 04-02, 04-09, 04-16. A manual send on 04-11 at 17:00 local.
    host.extra.push(HistoryEntry::manual(
        "c".parse().unwrap(),
        "F-1".parse().unwrap(),
        local(zone, d(2026, 4, 11), hm(17, 0)),
    ));
    for now in every(at(2026, 3, 30, 0, 0), at(2026, 5, 30, 0, 0), Duration::hours(1)) {
        host.tick(&clients, &items, now);
    }
    let days: Vec<NaiveDate> = host.sent.iter().map(|s| s.send_on).collect();
    assert_eq!(
        days,
        [d(2026, 4, 2), d(2026, 4, 9), d(2026, 4, 18)],
        "{:?}",
        host.sent
    );
    assert_eq!(occurrences_of(&host.sent, "F-1"), [1, 2, 3]);
    assert!(
        host.sent[2]
            .adjustments
            .iter()
            .any(|a| matches!(a, Adjustment::SpacedAfterManualSend { .. })),
        "{:?}",
        host.sent[2]
    );
}

/// README Minimum gap: "a reminder that would go sooner after the client's last message (in
/// history, or planned) goes at the send time of the first day the gap allows". A manual
/// send is a message to the client.
#[test]
fn the_minimum_gap_counts_from_a_manual_send_to_the_client() {
    let policy =
        Policy::new(TimeZone::UTC)
            .with_min_gap(3)
            .with_rule(Rule::new(rid("due-today"), Anchor::Due, 0));
    let planner = Planner::new(&policy).unwrap();
    let zone = "America/New_York";
    let clients = [client("c", zone)];
    let items = [
        invoice("F-1", "c", d(2026, 3, 1), d(2026, 4, 1), 100),
        invoice("F-2", "c", d(2026, 3, 1), d(2026, 4, 2), 100),
    ];
    let mut host = Host::new(&planner);
    // A person writes about F-1 on 03-31 at 16:00.
    host.extra.push(HistoryEntry::manual(
        "c".parse().unwrap(),
        "F-1".parse().unwrap(),
        local(zone, d(2026, 3, 31), hm(16, 0)),
    ));
    for now in every(at(2026, 3, 30, 0, 0), at(2026, 4, 20, 0, 0), Duration::hours(1)) {
        host.tick(&clients, &items, now);
    }
    let days: Vec<(String, NaiveDate)> = host
        .sent
        .iter()
        .map(|s| (s.items[0].0.clone(), tz(zone).local_date(s.tick)))
        .collect();
    assert!(!days.is_empty());
    assert!(
        days[0].1 >= d(2026, 4, 3),
        "inside the gap after the manual send: {days:?}"
    );
    for w in days.windows(2) {
        assert!(w[1].1 - w[0].1 >= Duration::days(3), "{days:?}");
    }
    assert_eq!(days.len(), 2, "{days:?}");
}

/// Expiry: an "invoice issued" notice that expires after 3 days is dropped after an outage
/// longer than that, said Expired, never sent late.
#[test]
fn an_issued_notice_missed_past_its_expiry_is_dropped_and_said_expired() {
    let planner = Planner::new(&invoice_policy()).unwrap();
    let zone = "America/Santiago";
    let clients = [client("c", zone)];
    // Issued Monday 2026-08-03; down until Monday 08-10 (4 working days later).
    let items = [invoice("F-1", "c", d(2026, 8, 3), d(2026, 9, 2), 100)];
    let now = local(zone, d(2026, 8, 10), hm(10, 0));
    let plan = planner
        .plan(&clients, &items, &[], now, Horizon::days(10))
        .unwrap();
    assert!(
        plan.events().all(|e| e.rule.as_str() != "issued"),
        "{:?}",
        plan.due()
    );
    assert!(
        plan.suppressed()
            .iter()
            .any(|s| s.rule.as_str() == "issued" && matches!(s.reason, SuppressReason::Expired { .. })),
        "{:?}",
        plan.suppressed()
    );
    // Within its expiry it goes as a catch-up.
    let now = local(zone, d(2026, 8, 5), hm(10, 0));
    let plan = planner.plan(&clients, &items, &[], now, Horizon::NONE).unwrap();
    assert_eq!(plan.due().len(), 1);
    assert_eq!(plan.due()[0].rule.as_str(), "issued");
}

/// Zero spacing and zero counts: "One reminder a day about an item" holds, or they are
/// refused; a zero count sends nothing.
#[test]
fn zero_spacing_and_zero_counts_never_send_twice_a_day() {
    let clients = [client("c", "UTC")];
    let now = at(2026, 4, 1, 12, 0);
    let items = [invoice("F-1", "c", d(2026, 3, 1), d(2026, 4, 1), 100)];
    if let Ok(planner) = limit_planner(Rule::new(rid("r"), Anchor::Due, 0).repeat(0, 5)) {
        let mut host = Host::new(&planner);
        for now in every(now, now + Duration::days(10), Duration::hours(1)) {
            host.tick(&clients, &items, now);
        }
        let mut days: Vec<NaiveDate> = host.sent.iter().map(|s| tz("UTC").local_date(s.tick)).collect();
        let n = days.len();
        days.dedup();
        assert_eq!(days.len(), n, "twice a day: {:?}", host.sent);
        assert!(n <= 5);
    }
    let planner = limit_planner(Rule::pending_action(rid("pending"))).unwrap();
    let mut a = action("P-1", "c", ItemKind::Form, d(2026, 3, 29));
    a.reminder_every_days = Some(0);
    a.reminder_count = Some(4);
    match planner.plan(&clients, std::slice::from_ref(&a), &[], now, Horizon::days(30)) {
        Ok(plan) => {
            let mut days: Vec<NaiveDate> = plan.events().map(|e| e.send_on).collect();
            let n = days.len();
            days.dedup();
            assert_eq!(
                days.len(),
                n,
                "twice a day: {:?}",
                plan.events().collect::<Vec<_>>()
            );
        }
        Err(e) => assert!(e.to_string().contains("reminder_every_days"), "{e}"),
    }
    a.reminder_every_days = Some(2);
    a.reminder_count = Some(0);
    match planner.plan(&clients, std::slice::from_ref(&a), &[], now, Horizon::days(30)) {
        Ok(plan) => assert_eq!(plan.events().count(), 0, "a count of 0 sent something"),
        Err(e) => assert!(e.to_string().contains("reminder_count"), "{e}"),
    }
}

/// Seed 003 "Número de recordatorios" on an invoice: the item's count replaces the rule's,
/// and its spacing the rule's, for every repeating rule.
#[test]
fn an_invoice_with_its_own_count_and_spacing_follows_them() {
    let policy = Policy::new(TimeZone::UTC).with_rule(Rule::new(rid("overdue"), Anchor::Due, 1).repeat(7, 4));
    let planner = Planner::new(&policy).unwrap();
    let clients = [client("c", "America/Santiago")];
    let mut inv = invoice("F-1", "c", d(2026, 3, 1), d(2026, 4, 1), 100);
    inv.reminder_every_days = Some(2);
    inv.reminder_count = Some(2);
    let items = [inv];
    let plan = planner
        .plan(&clients, &items, &[], at(2026, 3, 20, 0, 0), Horizon::days(60))
        .unwrap();
    let days: Vec<(u32, NaiveDate, u32)> = plan
        .events()
        .map(|e| (e.occurrence, e.send_on, e.count))
        .collect();
    assert_eq!(days, [(1, d(2026, 4, 2), 2), (2, d(2026, 4, 4), 2)]);
}

/// `Planner::schedule` makes the same decisions as `Planner::plan`; `to_plan` is the plan.
#[test]
fn the_compact_schedule_is_the_same_plan() {
    let policy = invoice_policy()
        .with_rule(Rule::pending_action(rid("pending")))
        .with_rule(Rule::new(rid("grouped"), Anchor::Due, 12).grouped())
        .with_min_gap(2);
    let planner = Planner::new(&policy).unwrap();
    let clients: Vec<Client> = ZONES
        .iter()
        .enumerate()
        .map(|(i, z)| client(&format!("c{i}"), z))
        .collect();
    let mut items = Vec::new();
    for (i, c) in clients.iter().enumerate() {
        for j in 0..3u32 {
            items.push(
                invoice(
                    &format!("F{i}{j}"),
                    c.id.as_str(),
                    d(2026, 8, 1),
                    d(2026, 9, 1 + j),
                    100,
                )
                .paid(clp(10), d(2026, 8, 20)),
            );
        }
        let mut a = action(&format!("P{i}"), c.id.as_str(), ItemKind::Approval, d(2026, 9, 5));
        a.reminder_every_days = Some(2);
        a.reminder_count = Some(4);
        items.push(a);
    }
    let hist = vec![HistoryEntry::manual(
        "c2".parse().unwrap(),
        "F20".parse().unwrap(),
        at(2026, 9, 2, 12, 0),
    )];
    for now in [
        at(2026, 9, 1, 0, 0),
        at(2026, 9, 9, 13, 0),
        at(2026, 9, 20, 23, 0),
    ] {
        let plan = planner
            .plan(&clients, &items, &hist, now, Horizon::days(45))
            .unwrap();
        let schedule = planner
            .schedule(&clients, &items, &hist, now, Horizon::days(45))
            .unwrap();
        assert_eq!(
            serde_json::to_string(&plan).unwrap(),
            serde_json::to_string(&schedule.to_plan()).unwrap(),
            "{now}"
        );
    }
}

/// README Failures: a permanent failure is explained (`DeliveryFailed`) instead of
/// forecast; released, the key is planned again, once.
#[test]
fn a_failed_action_reminder_is_explained_then_goes_once_when_released() {
    let planner = limit_planner(Rule::pending_action(rid("pending"))).unwrap();
    let clients = [client("c", "Europe/Madrid")];
    let items = [action("P-1", "c", ItemKind::Form, d(2026, 6, 1))];
    let now = at(2026, 6, 4, 12, 0);
    let plan = planner.plan(&clients, &items, &[], now, Horizon::NONE).unwrap();
    let e = &plan.due()[0];
    let failed = e.to_history(now).with_outcome(HistoryOutcome::Failed {
        error: "550 no such user".into(),
    });
    let mut history = vec![failed.clone()];
    for now in every(now, now + Duration::days(5), Duration::hours(3)) {
        let plan = planner
            .plan(&clients, &items, &history, now, Horizon::days(10))
            .unwrap();
        assert!(plan.events().next().is_none(), "{now}: {:?}", plan.due());
        assert!(
            plan.suppressed()
                .iter()
                .any(|s| matches!(s.reason, SuppressReason::DeliveryFailed { .. })),
            "{now}: {:?}",
            plan.suppressed()
        );
    }
    let released = now + Duration::days(5);
    history.push(HistoryEntry {
        outcome: HistoryOutcome::Released,
        sent_at: released,
        ..failed
    });
    let mut host = Host::new(&planner);
    host.history = history;
    for t in every(released, released + Duration::days(5), Duration::hours(1)) {
        host.tick(&clients, &items, t);
    }
    assert_eq!(host.sent.len(), 1, "{:?}", host.sent);
    assert_eq!(host.sent[0].key, "pending/P-1/1");
}

/// A payment landing in the middle of a grouped run: the paid invoice leaves the notices
/// from its payment on, the others' sum is exact, and no occurrence goes twice.
#[test]
fn a_payment_mid_run_takes_an_invoice_out_of_grouped_notices() {
    let policy = Policy::new(TimeZone::UTC)
        .with_calendar(BusinessCalendar::new([Weekday::Sat, Weekday::Sun], []))
        .with_rule(Rule::new(rid("overdue"), Anchor::Due, 1).repeat(4, 4).grouped());
    let planner = Planner::new(&policy).unwrap();
    let zone = "America/Santiago";
    let clients = [client("c", zone)];
    let base = vec![
        invoice("F-1", "c", d(2026, 3, 1), d(2026, 4, 6), 1000),
        invoice("F-2", "c", d(2026, 3, 1), d(2026, 4, 6), 2000),
        invoice("F-3", "c", d(2026, 3, 1), d(2026, 4, 6), 4000),
    ];
    let paid_on = d(2026, 4, 12);
    let mut host = Host::new(&planner);
    for now in every(at(2026, 4, 1, 0, 0), at(2026, 5, 20, 0, 0), Duration::hours(1)) {
        let today = tz(zone).local_date(now);
        let mut items = base.clone();
        if today >= paid_on {
            items[1] = items[1].clone().paid(clp(2000), paid_on);
        }
        for s in host.tick(&clients, &items, now) {
            if today >= paid_on {
                assert!(s.items.iter().all(|(i, _)| i != "F-2"), "{s:?}");
                assert_eq!(s.amount, Some(clp(5000)), "{s:?}");
            } else {
                assert_eq!(s.amount, Some(clp(7000)), "{s:?}");
            }
        }
    }
    assert_eq!(occurrences_of(&host.sent, "F-1"), [1, 2, 3, 4], "{:?}", host.sent);
    assert_eq!(occurrences_of(&host.sent, "F-3"), [1, 2, 3, 4]);
    assert!(occurrences_of(&host.sent, "F-2").len() < 4);
}

/// Business days for actions: a reminder falling on a weekend or holiday moves to the next
/// working day (DESIGN 3: others to the next), said so; hourly ticks send it then, once.
#[test]
fn an_action_reminder_on_a_weekend_or_holiday_moves_to_the_next_working_day() {
    let policy = Policy::new(TimeZone::UTC)
        .with_calendar(BusinessCalendar::new(
            [Weekday::Sat, Weekday::Sun],
            [d(2026, 9, 18)],
        ))
        .with_rule(Rule::pending_action(rid("pending")));
    let planner = Planner::new(&policy).unwrap();
    for zone in ZONES {
        let clients = [client("c", zone)];
        // Sent Tue 09-15: +3 is Fri 09-18, a holiday, then the weekend: Mon 09-21.
        let mut a = action("P-1", "c", ItemKind::Signature, d(2026, 9, 15));
        a.reminder_count = Some(2);
        let items = [a];
        let mut host = Host::new(&planner);
        for now in every(at(2026, 9, 14, 0, 0), at(2026, 10, 5, 0, 0), Duration::hours(1)) {
            host.tick(&clients, &items, now);
        }
        let days: Vec<NaiveDate> = host.sent.iter().map(|s| s.send_on).collect();
        // The second three days after the actual send: Thu 09-24.
        assert_eq!(days, [d(2026, 9, 21), d(2026, 9, 24)], "{zone}: {:?}", host.sent);
        assert!(
            host.sent[0]
                .adjustments
                .iter()
                .any(|a| matches!(a, Adjustment::MovedOffNonWorkingDay { .. })),
            "{zone}: {:?}",
            host.sent[0]
        );
    }
}

/// Previews and overrides at the limits: typed errors naming the field, no panic.
#[test]
fn previews_and_overrides_at_the_limits_never_panic() {
    let policy = Policy::new(TimeZone::UTC)
        .with_rule(Rule::new(rid("soon"), Anchor::Due, -36_600))
        .with_rule(Rule::new(rid("late"), Anchor::Due, 36_600).repeat(36_600, 10_000))
        .with_rule(Rule::pending_action(rid("pending")).repeat(36_600, 10_000))
        .with_rule(Rule::thank_you(rid("thanks")));
    let planner = Planner::new(&policy).unwrap();
    let c = client("c", "Pacific/Auckland");
    let items = [
        invoice("F-max", "c", NaiveDate::MAX, NaiveDate::MAX, i64::MAX),
        invoice("F-min", "c", NaiveDate::MIN, NaiveDate::MIN, 1),
        action("P-max", "c", ItemKind::Form, NaiveDate::MAX),
        invoice("F-paid", "c", NaiveDate::MAX, NaiveDate::MAX, 5).paid(clp(5), NaiveDate::MAX),
    ];
    for now in [
        DateTime::<Utc>::MIN_UTC,
        at(2026, 1, 1, 0, 0),
        DateTime::<Utc>::MAX_UTC,
    ] {
        for item in &items {
            for rule in ["soon", "late", "pending", "thanks"] {
                if let Ok(e) = planner.preview(&rid(rule), &c, item, now) {
                    assert!(e.key.as_str().starts_with("preview/"));
                    let _ = e.explain();
                }
            }
        }
    }
    for (ro, field) in [
        (
            RuleOverride {
                offset_days: Some(36_601),
                ..RuleOverride::default()
            },
            "offset_days",
        ),
        (
            RuleOverride {
                offset_days: Some(i32::MIN),
                ..RuleOverride::default()
            },
            "offset_days",
        ),
        (
            RuleOverride {
                every_days: Some(u32::MAX),
                ..RuleOverride::default()
            },
            "every_days",
        ),
        (
            RuleOverride {
                count: Some(10_001),
                ..RuleOverride::default()
            },
            "count",
        ),
        (
            RuleOverride {
                offset_days: Some(-3),
                ..RuleOverride::default()
            },
            "offset_days",
        ),
    ] {
        let rule = if field == "offset_days" && ro.offset_days == Some(-3) {
            "pending"
        } else {
            "late"
        };
        let c = client("c", "UTC").with_overrides(ClientOverrides::default().rule(rid(rule), ro));
        let err = planner.effective_settings(&c).unwrap_err();
        assert!(err.to_string().contains(field), "{field}: {err}");
        let err = planner
            .plan(&[c], &[], &[], at(2026, 1, 1, 0, 0), Horizon::NONE)
            .unwrap_err();
        assert!(err.to_string().contains(field), "{field}: {err}");
    }
}
