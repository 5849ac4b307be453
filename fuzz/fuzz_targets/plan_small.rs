//! Small portfolios made from the input's bytes (rules, clients in zones on both sides of UTC,
//! items, pauses, payments, history, an instant and a horizon), planned: a plan or a typed
//! error, never a panic or a hang; a plan's due events are due, its keys unique and none of
//! them already in history, and the compact schedule reads as the same plan.
#![no_main]

use std::collections::HashSet;

use chrono::{Duration, NaiveDate, TimeZone as _, Utc, Weekday};
use dunning::*;
use libfuzzer_sys::fuzz_target;

/// Reads numbers from the input, then zeros.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn u8(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }
    fn below(&mut self, n: u32) -> u32 {
        (u32::from(self.u8()) << 8 | u32::from(self.u8())) % n.max(1)
    }
    fn signed(&mut self, n: u32) -> i64 {
        i64::from(self.below(2 * n + 1)) - i64::from(n)
    }
}

fuzz_target!(|data: &[u8]| {
    let mut b = Bytes(data);
    let zones = ["UTC", "America/Santiago", "Europe/Madrid", "Pacific/Kiritimati", "Pacific/Pago_Pago", "Australia/Lord_Howe"];
    let Ok(tz) = TimeZone::from_name(zones[b.below(6) as usize]) else { return };
    let Some(base) = NaiveDate::from_ymd_opt(2026, 1, 1) else { return };
    let day = |off: i64| base + Duration::days(off);
    let mut policy = Policy::new(tz)
        .with_calendar(BusinessCalendar::new(
            [Weekday::Sat, Weekday::Sun].into_iter().take(b.below(3) as usize),
            (0..b.below(4)).map(|_| day(b.signed(200))),
        ))
        .with_min_gap(b.below(4));
    for r in 0..(1 + b.below(4)) {
        let anchor = [Anchor::Issued, Anchor::Due, Anchor::Sent, Anchor::Paid][b.below(4) as usize];
        let offset = if anchor == Anchor::Due { b.signed(10) as i32 } else { b.below(10) as i32 };
        let Ok(id) = format!("r{r}").parse() else { return };
        let mut rule = Rule::new(id, anchor, offset);
        if b.below(2) == 1 {
            rule = rule.repeat(1 + b.below(9), 1 + b.below(5));
        }
        if b.below(3) == 0 {
            rule = rule.grouped();
        }
        policy = policy.with_rule(rule);
    }
    if b.below(3) == 0 {
        if let Ok(id) = "estado".parse() {
            policy = policy.with_statement(StatementRule::new(id, "FREQ=WEEKLY;BYDAY=MO", day(0)));
        }
    }
    if b.below(3) == 0 {
        policy = policy.with_standing(StandingRule::new(1 + b.below(10), 12 + b.below(20)));
    }
    let Ok(planner) = Planner::new(&policy) else { return };
    let Ok(clp) = Currency::from_code("CLP") else { return };
    let mut clients = Vec::new();
    let mut items = Vec::new();
    for c in 0..(1 + b.below(3)) {
        let Ok(id) = format!("c{c}").parse::<ClientId>() else { return };
        let Ok(ctz) = TimeZone::from_name(zones[b.below(6) as usize]) else { return };
        let mut client = Client::new(id.clone(), "C").with_time_zone(ctz);
        if b.below(4) != 0 {
            client = client.with_contact(Contact::new("P", "p@c.example"));
        }
        if b.below(6) == 0 {
            client = client.with_pause(Pause::new(PauseKind::Hold, "h").starting(day(b.signed(60))).until(day(b.signed(90))));
        }
        for i in 0..b.below(5) {
            let Ok(iid) = format!("i{c}-{i}").parse() else { return };
            let issued = day(b.signed(90));
            let mut item = Item::invoice(iid, id.clone(), issued, Money::from_minor(1 + i64::from(b.below(100_000)), clp))
                .due(issued + Duration::days(i64::from(b.below(40))));
            if b.below(4) == 0 {
                item = item.paid(Money::from_minor(i64::from(b.below(50_000)), clp), issued + Duration::days(i64::from(b.below(30))));
            }
            if b.below(5) == 0 {
                let from = issued + Duration::days(i64::from(b.below(30)));
                item = item.with_pause(Pause::new(PauseKind::Promise, "p").starting(from).until(from + Duration::days(i64::from(b.below(20)))));
            }
            items.push(item);
        }
        clients.push(client);
    }
    let Some(now) = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single() else { return };
    let now = now + Duration::minutes(b.signed(60 * 24 * 120));
    let horizon = Horizon::days(b.below(60));
    // History: what a first plan sent, recorded.
    let Ok(first) = planner.plan(&clients, &items, &[], now - Duration::days(i64::from(b.below(30))), horizon) else { return };
    let history: Vec<HistoryEntry> = first.due().iter().map(|e| e.to_history(now - Duration::days(1))).collect();
    let Ok(plan) = planner.plan(&clients, &items, &history, now, horizon) else { return };
    let sent: HashSet<&str> = history.iter().map(|h| h.key.as_str()).collect();
    let mut keys = HashSet::new();
    for e in plan.events() {
        assert!(keys.insert(e.key.as_str()), "{} twice", e.key);
        assert!(!sent.contains(e.key.as_str()), "{} again", e.key);
        assert!(e.occurrence <= e.count);
    }
    for e in plan.due().iter() {
        assert!(e.send_at <= now, "{} due before its instant", e.key);
    }
    for e in plan.upcoming().iter() {
        assert!(e.send_at > now, "{} upcoming but due", e.key);
    }
    let Ok(schedule) = planner.schedule(&clients, &items, &history, now, horizon) else {
        panic!("a schedule refused what the plan took");
    };
    assert_eq!(schedule.to_plan(), plan);
});
