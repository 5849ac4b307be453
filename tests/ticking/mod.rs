//! Day-by-day ticks against forecasts, in random worlds: one client with one or two
//! invoices, repeats with an expiry, a final notice, a "due soon", item and client pauses
//! with ends, the minimum gap, weekends and holidays, zones east and west of UTC. Each world
//! is planned at every tick (00:00, the send time and some other hours of each day), every
//! due event recorded as sent; each forecast is then checked against what the ticks sent.
//! Shared by the attack tests that drive it.
#![allow(dead_code)]

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc, Weekday};
use dunning::*;

use crate::common::*;

pub struct Rng(pub u64);
impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    pub fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[usize::try_from(self.below(xs.len() as u64)).unwrap()]
    }
    pub fn days(&mut self, n: u64) -> i64 {
        i64::try_from(self.below(n)).unwrap()
    }
    pub fn one_in(&mut self, n: u64) -> bool {
        self.below(n) == 0
    }
}

/// A repeat: offset from the due date, every, count, expiry.
#[derive(Debug, Clone, Copy)]
pub struct Repeat {
    pub offset: i32,
    pub every: u32,
    pub count: u32,
    pub expiry: Option<u32>,
}

/// A pause: on the item (else the client), from, until.
#[derive(Debug, Clone, Copy)]
pub struct PauseSpec {
    pub on_item: bool,
    pub from: NaiveDate,
    pub until: NaiveDate,
}

#[derive(Debug, Clone)]
pub struct World {
    pub zone: &'static str,
    pub send_time: u32,
    pub repeats: Vec<Repeat>,
    /// A final notice `Due + n`.
    pub last: Option<i32>,
    /// A "due soon" `Due - n`, with its expiry.
    pub soon: Option<(i32, Option<u32>)>,
    pub weekends: bool,
    pub holidays: Vec<NaiveDate>,
    pub pauses: Vec<PauseSpec>,
    pub gap: u32,
    /// Due dates of the client's invoices.
    pub dues: Vec<NaiveDate>,
    /// Local hours of the extra ticks each day (besides 00:00 and the send time).
    pub extra: Vec<u32>,
    pub horizon: u32,
    pub first: NaiveDate,
    pub days: i64,
}

/// Which holds a world has: the minimum gap, pauses with ends, or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holds {
    Gap,
    Pauses,
    Both,
}

pub fn rand_world(rng: &mut Rng, holds: Holds, wide: bool) -> World {
    let base = if wide {
        rng.pick(&[d(2026, 3, 2), d(2026, 8, 20), d(2026, 10, 1)])
    } else {
        d(2026, 3, 2)
    };
    let due = base + Duration::days(rng.days(40));
    let near = |rng: &mut Rng, lo: i64, span: u64| due + Duration::days(lo + rng.days(span));
    let mut repeats = vec![Repeat {
        offset: rng.pick(&[0, 1, 2, 3]),
        every: rng.pick(&[1, 1, 1, 2, 3]),
        count: rng.pick(&[5, 30, 100]),
        expiry: {
            let expiries = [None, Some(0), Some(1), Some(2), Some(3), Some(5), Some(36_600)];
            rng.pick(if wide { &expiries[..] } else { &expiries[..6] })
        },
    }];
    if rng.below(3) == 0 {
        repeats.push(Repeat {
            offset: rng.pick(&[5, 7, 10]),
            every: rng.pick(&[1, 2, 7]),
            count: rng.pick(&[3, 30]),
            expiry: rng.pick(&[None, Some(0), Some(1), Some(4)]),
        });
    }
    let mut pauses = Vec::new();
    let n_pauses = match holds {
        Holds::Gap => 0,
        _ => rng.pick(&[1, 1, 2, 2, 3]),
    };
    for _ in 0..n_pauses {
        let from = near(rng, -3, 22);
        pauses.push(PauseSpec {
            on_item: rng.below(2) == 0,
            from,
            until: from + Duration::days(rng.days(8)),
        });
    }
    let mut holidays = Vec::new();
    for _ in 0..rng.below(4) {
        holidays.push(near(rng, -3, 40));
    }
    for p in &pauses {
        if rng.below(3) == 0 {
            holidays.push(p.until + Duration::days(1));
        }
    }
    let mut dues = vec![due];
    if rng.below(3) == 0 {
        dues.push(due + Duration::days(rng.days(10)));
    }
    let send_time = rng.pick(&[0, 0, 9, 9, 17, 23]);
    let extra = [1u32, 8, 12, 20, 23]
        .into_iter()
        .filter(|_| rng.below(3) == 0)
        .collect();
    World {
        zone: {
            let zones = [
                "UTC",
                "America/New_York",
                "Asia/Tokyo",
                "Pacific/Auckland",
                "America/Santiago",
                "Europe/Madrid",
            ];
            rng.pick(if wide { &zones[..] } else { &zones[..5] })
        },
        send_time,
        repeats,
        last: (rng.below(3) != 0).then(|| rng.pick(&[8, 12, 15])),
        soon: (rng.below(3) == 0).then(|| (rng.pick(&[1, 2, 5]), rng.pick(&[None, Some(0), Some(1)]))),
        weekends: rng.below(2) == 0,
        holidays,
        pauses,
        gap: match holds {
            Holds::Pauses => 0,
            _ => rng.pick(&[1, 1, 2, 3]),
        },
        dues,
        extra,
        horizon: rng.pick(&[3, 7, 14, 21]),
        first: due - Duration::days(8),
        days: 45,
    }
}

pub struct Built {
    pub planner: Planner,
    pub clients: Vec<Client>,
    pub items: Vec<Item>,
}

pub fn build(w: &World) -> Built {
    let calendar = BusinessCalendar::new(
        if w.weekends {
            vec![Weekday::Sat, Weekday::Sun]
        } else {
            vec![]
        },
        w.holidays.iter().copied(),
    );
    let mut policy = Policy::new(tz(w.zone))
        .with_calendar(calendar)
        .with_send_time(NaiveTime::from_hms_opt(w.send_time, 0, 0).unwrap())
        .with_min_gap(w.gap);
    if let Some((n, expiry)) = w.soon {
        let mut r = rule("soon", Anchor::Due, -n);
        if let Some(e) = expiry {
            r = r.expires_after(e);
        }
        policy = policy.with_rule(r);
    }
    for (i, r) in w.repeats.iter().enumerate() {
        let mut rl = rule(&format!("daily{i}"), Anchor::Due, r.offset).repeat(r.every, r.count);
        if let Some(e) = r.expiry {
            rl = rl.expires_after(e);
        }
        policy = policy.with_rule(rl);
    }
    if let Some(n) = w.last {
        policy = policy.with_rule(rule("final", Anchor::Due, n));
    }
    let planner = Planner::new(&policy).unwrap();
    let pause = |p: &PauseSpec| {
        Pause::new(PauseKind::Promise, "pays later")
            .starting(p.from)
            .until(p.until)
    };
    let mut acme = client("acme", w.zone);
    for p in w.pauses.iter().filter(|p| !p.on_item) {
        acme = acme.with_pause(pause(p));
    }
    let items = w
        .dues
        .iter()
        .enumerate()
        .map(|(i, &due)| {
            let mut item = invoice(
                &format!("F-{}", i + 1),
                "acme",
                due - Duration::days(30),
                due,
                money("100", "USD"),
            );
            // Item pauses on the first invoice.
            if i == 0 {
                for p in w.pauses.iter().filter(|p| p.on_item) {
                    item = item.with_pause(pause(p));
                }
            }
            item
        })
        .collect();
    Built {
        planner,
        clients: vec![acme],
        items,
    }
}

/// Keys and instants.
pub type Sends = Vec<(String, DateTime<Utc>)>;

/// What a run of ticks did: at each tick, the plan's forecast; and each key sent, with the
/// tick that sent it and the instant its event carried.
pub struct Run {
    /// (tick, horizon end, forecast keys and instants).
    pub forecasts: Vec<(DateTime<Utc>, DateTime<Utc>, Sends)>,
    /// Key → (tick, send_at).
    pub sent: BTreeMap<String, (DateTime<Utc>, DateTime<Utc>)>,
    pub ticks: Vec<DateTime<Utc>>,
    pub twice: Vec<String>,
    /// Keys a plan said expired and a later plan said superseded (the finding below).
    pub expired_then_superseded: Vec<String>,
}

pub fn ticks_of(w: &World) -> Vec<DateTime<Utc>> {
    let zone = tz(w.zone);
    let mut ticks = Vec::new();
    for n in 0..w.days {
        let day = w.first + Duration::days(n);
        let mut hours = vec![0, w.send_time];
        hours.extend(&w.extra);
        for h in hours {
            ticks.push(local_instant(
                zone,
                day,
                NaiveTime::from_hms_opt(h, 0, 0).unwrap(),
            ));
        }
    }
    ticks.sort();
    ticks.dedup();
    ticks
}

pub fn run(w: &World, b: &Built) -> Run {
    let ticks = ticks_of(w);
    let mut history: Vec<HistoryEntry> = Vec::new();
    let mut r = Run {
        forecasts: Vec::new(),
        sent: BTreeMap::new(),
        ticks: ticks.clone(),
        twice: Vec::new(),
        expired_then_superseded: Vec::new(),
    };
    let mut expired = std::collections::BTreeSet::new();
    let horizon = Horizon::days(w.horizon);
    for &now in &ticks {
        let plan = b
            .planner
            .plan(&b.clients, &b.items, &history, now, horizon)
            .unwrap();
        let forecast = plan
            .upcoming()
            .iter()
            .map(|e| (e.key.to_string(), e.send_at))
            .collect();
        for s in plan.suppressed() {
            match s.reason {
                SuppressReason::Expired { .. } => {
                    expired.insert(s.key.to_string());
                }
                SuppressReason::Superseded { ref by } if expired.contains(s.key.as_str()) => {
                    r.expired_then_superseded.push(format!("{} by {by}", s.key));
                }
                _ => {}
            }
        }
        r.forecasts
            .push((now, now + Duration::days(i64::from(w.horizon)), forecast));
        for e in plan.due() {
            if r.sent.insert(e.key.to_string(), (now, e.send_at)).is_some() {
                r.twice.push(e.key.to_string());
            }
            history.push(e.to_history(now));
        }
    }
    r
}

/// A disagreement between a forecast and the ticks after it.
pub struct Disagreement {
    pub text: String,
}

/// The disagreements between each forecast and the ticks after it.
pub fn disagreements(r: &Run) -> Vec<Disagreement> {
    let mut out: Vec<Disagreement> = r
        .twice
        .iter()
        .map(|k| Disagreement {
            text: format!("{k} sent twice"),
        })
        .collect();
    let last_tick = *r.ticks.last().unwrap();
    for (made, end, forecast) in &r.forecasts {
        let end = (*end).min(last_tick);
        for (key, at) in forecast {
            if *at > end {
                continue;
            }
            match r.sent.get(key) {
                Some((tick, send_at)) if tick == at && send_at == at => {}
                got => out.push(Disagreement {
                    text: format!(
                        "forecast at {made}: {key} at {at}; ticks sent {}",
                        got.map_or("nothing".to_owned(), |(t, s)| format!("it at {t} (send_at {s})")),
                    ),
                }),
            }
        }
        // What went within the forecast's reach that it did not name.
        for (key, (tick, send_at)) in &r.sent {
            if tick > made && tick <= &end && !forecast.iter().any(|(k, _)| k == key) {
                out.push(Disagreement {
                    text: format!("forecast at {made} left out {key}, sent at {tick} (send_at {send_at})"),
                });
            }
        }
    }
    out
}

/// The disagreements of a world, and the keys a plan said expired and a later plan said
/// superseded (counted, not asserted: a repeat spaced past its nominal day that a pause
/// then held past its expiry is said superseded by another rule's send on that nominal
/// day once that send is in history; the sends are the same).
pub fn check(w: &World) -> (Vec<String>, usize) {
    let b = build(w);
    let r = run(w, &b);
    (
        disagreements(&r).into_iter().map(|f| f.text).collect(),
        r.expired_then_superseded.len(),
    )
}

pub fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
