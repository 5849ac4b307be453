//! Helpers shared by the scenario, simulation and property tests.
#![allow(dead_code)]

pub mod hooked;
pub mod host;
pub mod world;

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone as _, Utc};
use dunning::*;

pub fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

pub fn t(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap()
}

pub fn utc(y: i32, m: u32, day: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, day, h, min, 0).unwrap()
}

pub fn tz(name: &str) -> TimeZone {
    TimeZone::from_name(name).unwrap()
}

pub fn money(text: &str, code: &str) -> Money {
    Money::parse(text, Currency::from_code(code).unwrap()).unwrap()
}

pub fn client(id: &str, zone: &str) -> Client {
    Client::new(id.parse().unwrap(), format!("Client {id}"))
        .with_contact(Contact::new(
            format!("Billing {id}"),
            format!("billing@{id}.example"),
        ))
        .with_time_zone(tz(zone))
}

pub fn invoice(id: &str, client: &str, issued: NaiveDate, due: NaiveDate, total: Money) -> Item {
    Item::invoice(id.parse().unwrap(), client.parse().unwrap(), issued, total).due(due)
}

pub fn rule(id: &str, anchor: Anchor, offset: i32) -> Rule {
    Rule::new(id.parse().unwrap(), anchor, offset)
}

/// The seed 001 policy: five days before the due date, then on it and weekly after, up to 3.
pub fn seed001_policy(zone: &str) -> Policy {
    Policy::new(tz(zone))
        .with_rule(rule("due-soon", Anchor::Due, -5))
        .with_rule(rule("overdue", Anchor::Due, 0).repeat(7, 3))
}

/// A compact, readable line per event and suppression, for assertions.
pub fn lines(plan: &Plan) -> Vec<String> {
    let mut out: Vec<String> = plan
        .due()
        .iter()
        .map(|e| format!("due {} {} {}", e.send_on, e.key, e.send_at.to_rfc3339()))
        .collect();
    out.extend(
        plan.upcoming()
            .iter()
            .map(|e| format!("upcoming {} {} {}", e.send_on, e.key, e.send_at.to_rfc3339())),
    );
    out.extend(
        plan.suppressed()
            .iter()
            .map(|s| format!("suppressed {} {} {:?}", s.on, s.key, s.reason)),
    );
    out
}

/// The plan survives JSON both ways, and its serialized sentences are those of `explain`.
pub fn assert_round_trips(plan: &Plan) {
    let json = serde_json::to_value(plan).unwrap();
    let back: Plan = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(&back, plan);
    let texts = |list: &str, field: &dyn Fn(&serde_json::Value) -> &serde_json::Value| -> Vec<String> {
        json[list]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| field(v).as_str().unwrap().to_owned())
            .collect()
    };
    let due: Vec<String> = plan.due().iter().map(Event::explain).collect();
    assert_eq!(texts("due", &|v| &v["why"]["text"]), due);
    let upcoming: Vec<String> = plan.upcoming().iter().map(Event::explain).collect();
    assert_eq!(texts("upcoming", &|v| &v["why"]["text"]), upcoming);
    let suppressed: Vec<String> = plan.suppressed().iter().map(Suppressed::explain).collect();
    assert_eq!(texts("suppressed", &|v| &v["why"]), suppressed);
    assert!(
        due.iter()
            .chain(&upcoming)
            .chain(&suppressed)
            .all(|t| !t.is_empty())
    );
}

/// Runs a planner from `start` to `end` in steps of `step`, recording every due event as
/// sent at the step's instant, and returns the history in order.
pub fn simulate(
    planner: &Planner,
    clients: &[Client],
    items: &[Item],
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    step: chrono::Duration,
) -> Vec<HistoryEntry> {
    let mut history: Vec<HistoryEntry> = Vec::new();
    let mut now = start;
    while now <= end {
        let plan = planner
            .plan(clients, items, &history, now, Horizon::NONE)
            .unwrap();
        for e in plan.due() {
            history.push(e.to_history(now));
        }
        now += step;
    }
    history
}

/// A sent history entry of occurrence `occurrence` of `rule` about `item` of `client`, under
/// the key the planner writes (`rule/item/occurrence`).
pub fn sent_entry(rule: &str, item: &str, client: &str, occurrence: u32, at: DateTime<Utc>) -> HistoryEntry {
    HistoryEntry {
        key: EventKey::from(format!("{rule}/{item}/{occurrence}")),
        rule: Some(rule.parse().unwrap()),
        client: client.parse().unwrap(),
        items: vec![HistoryItem {
            item: item.parse().unwrap(),
            occurrence,
        }],
        sent_at: at,
        outcome: HistoryOutcome::Sent,
    }
}

/// Clients, items of some of them, and history of some items: a store's contents to load in
/// shards.
pub fn filled_store() -> (Vec<Client>, Vec<Item>, Vec<HistoryEntry>) {
    let clients: Vec<Client> = (0..40).map(|c| client(&format!("c{c}"), "UTC")).collect();
    let items: Vec<Item> = (0..90)
        .map(|n| {
            invoice(
                &format!("F-{n}"),
                &format!("c{}", n % 31),
                d(2026, 3, 1),
                d(2026, 4, 1),
                money("10", "EUR"),
            )
        })
        .collect();
    let history = (0..90)
        .step_by(4)
        .map(|n| {
            sent_entry(
                "overdue",
                &format!("F-{n}"),
                &format!("c{}", n % 31),
                1,
                utc(2026, 4, 2, 9, 0),
            )
        })
        .collect();
    (clients, items, history)
}

/// A seeded random number generator (splitmix64) for the attack tests' worlds: the same seed
/// gives the same world on every machine.
pub struct SplitMix(pub u64);

impl SplitMix {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number below `n` (`n` above 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// A number from `lo` to `hi`, both included.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.below((hi - lo + 1) as u64) as i64)
    }

    /// `true` `pct` times in a hundred.
    pub fn chance(&mut self, pct: u64) -> bool {
        self.below(100) < pct
    }
}
