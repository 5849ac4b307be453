//! The generated portfolios and policy the benchmarks share.

use chrono::{Duration, NaiveDate, TimeZone as _, Utc};
use dunning::*;

pub const ZONES: [&str; 5] = [
    "America/Santiago",
    "Europe/Madrid",
    "America/Mexico_City",
    "UTC",
    "Asia/Tokyo",
];

/// Portfolio sizes from `DUNNING_BENCH_SIZES` (comma-separated), else `default`.
pub fn sizes(default: &[usize]) -> Vec<usize> {
    std::env::var("DUNNING_BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .unwrap_or_else(|| default.to_vec())
}

pub fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

pub fn policy() -> Policy {
    let r = |id: &str, a, o| Rule::new(id.parse().unwrap(), a, o);
    Policy::new(TimeZone::from_name("America/Santiago").unwrap())
        .with_calendar(BusinessCalendar::new(
            [chrono::Weekday::Sat, chrono::Weekday::Sun],
            [
                d(2026, 1, 1),
                d(2026, 4, 3),
                d(2026, 5, 1),
                d(2026, 5, 21),
                d(2026, 9, 18),
                d(2026, 12, 25),
            ],
        ))
        .with_rule(r("issued", Anchor::Issued, 0))
        .with_rule(r("due-soon", Anchor::Due, -5))
        .with_rule(r("due-today", Anchor::Due, 0))
        .with_rule(r("overdue", Anchor::Due, 3).repeat(7, 4))
        .with_rule(Rule::pending_action("pending".parse().unwrap()))
        .with_rule(Rule::thank_you("thanks".parse().unwrap()))
        .with_statement(StatementRule::new(
            "statement".parse().unwrap(),
            "FREQ=MONTHLY;BYMONTHDAY=1",
            d(2026, 1, 1),
        ))
        .with_standing(StandingRule::new(45, 90))
}

pub struct Portfolio {
    pub clients: Vec<Client>,
    pub items: Vec<Item>,
    pub history: Vec<HistoryEntry>,
}

/// `n` invoices, 10 per client, clients in 5 time zones, 20% with history, 10% partly paid.
pub fn portfolio(n: usize) -> Portfolio {
    let clp = Currency::from_code("CLP").unwrap();
    let eur = Currency::from_code("EUR").unwrap();
    let mut clients = Vec::with_capacity(n / 10);
    let mut items = Vec::with_capacity(n);
    let mut history = Vec::new();
    for c in 0..n.div_ceil(10) {
        let id: ClientId = format!("c{c:07}").parse().unwrap();
        let zone = TimeZone::from_name(ZONES[c % ZONES.len()]).unwrap();
        clients.push(
            Client::new(id.clone(), format!("Client {c}"))
                .with_time_zone(zone)
                .with_contact(Contact::new("Billing", format!("billing@c{c}.example"))),
        );
        for k in 0..10.min(n - c * 10) {
            let i = c * 10 + k;
            let issued = d(2026, 1, 1) + Duration::days((i % 150) as i64);
            let cur = if c % 3 == 0 { eur } else { clp };
            let mut item = Item::invoice(
                format!("i{i:08}").parse().unwrap(),
                id.clone(),
                issued,
                Money::from_minor(100_000 + (i as i64 % 7) * 1_000, cur),
            );
            if i % 10 == 3 {
                item = item.paid(Money::from_minor(40_000, cur), issued + Duration::days(3));
            }
            if i % 5 == 1 {
                history.push(HistoryEntry {
                    key: EventKey::from(format!("issued/{}/1", item.id)),
                    rule: Some("issued".parse().unwrap()),
                    client: id.clone(),
                    items: vec![HistoryItem {
                        item: item.id.clone(),
                        occurrence: 1,
                    }],
                    sent_at: Utc.from_utc_datetime(&issued.and_hms_opt(13, 0, 0).unwrap()),
                    outcome: HistoryOutcome::Sent,
                });
            }
            items.push(item);
        }
    }
    Portfolio {
        clients,
        items,
        history,
    }
}

/// `p` with items seldom alike: each due from 1 to 997 days after its issue date (by its
/// number), so items share an issue and a due date once in 149,550.
#[allow(dead_code)] // Read by the plan benchmark, not the memory one.
pub fn unlike(p: &Portfolio) -> Portfolio {
    let mut items = p.items.clone();
    for (i, item) in items.iter_mut().enumerate() {
        item.due_on = Some(item.issued_on + Duration::days(1 + (i % 997) as i64));
    }
    Portfolio {
        clients: p.clients.clone(),
        items,
        history: p.history.clone(),
    }
}

/// The history a host would have if it had run every day since January: every event the
/// planner forecast from 2026-01-01 that falls before `now`, recorded as sent on time.
pub fn steady_history(planner: &Planner, p: &Portfolio, now: chrono::DateTime<Utc>) -> Vec<HistoryEntry> {
    let start = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    let days = u32::try_from((now - start).num_days()).unwrap();
    // In chunks of clients, so the forecast's events never all exist at once.
    let mut history = Vec::new();
    for (chunk, clients) in p.clients.chunks(1000).enumerate() {
        let items = &p.items[chunk * 10_000..(chunk * 10_000 + 10_000).min(p.items.len())];
        let forecast = planner
            .plan(clients, items, &[], start, Horizon::days(days))
            .unwrap();
        history.extend(
            forecast
                .events()
                .filter(|e| e.send_at < now)
                .map(|e| e.to_history(e.send_at)),
        );
    }
    history
}
