//! Seeded random worlds for the attack sessions: a policy, one or two clients and their
//! items, payments, manual sends and a host's ticks (hourly or daily, with outages), run with
//! every due event fed back as sent history, and the checks over such a run.
#![allow(clippy::too_many_lines)]

use super::SplitMix as Rng;
use super::host::{about, short};
use super::{client, d, invoice, money, rule, t, tz};
use chrono::{DateTime, Duration, NaiveDate, Utc, Weekday};
use dunning::*;
use std::collections::{BTreeMap, BTreeSet};

/// How many days back a drop for good stays said (the planner's lookback).
pub const LOOKBACK: i64 = 7;

/// One random world: what the host knows and when it ticks.
#[derive(Clone, Debug)]
pub struct World {
    pub seed: u64,
    pub policy: Policy,
    pub clients: Vec<Client>,
    pub items: Vec<Item>,
    /// Item index, instant the host records it, and what: a payment of an amount (dated
    /// the local day of the company's zone), a cancellation, a "paid" status with no date.
    pub payments: Vec<(usize, DateTime<Utc>, Pay)>,
    /// Manual sends: item index and instant.
    pub manual: Vec<(usize, DateTime<Utc>)>,
    pub ticks: Vec<DateTime<Utc>>,
}

/// What a world may hold: `statements` to `outage` each allow one kind of thing (drawn by
/// chance); the last two choose between the sessions' generators.
#[derive(Clone, Copy)]
pub struct Knobs {
    pub statements: bool,
    pub standing: bool,
    pub gap: bool,
    pub pauses: bool,
    pub payments: bool,
    pub manual: bool,
    pub outage: bool,
    /// Where the company's and each client's zone are drawn from.
    pub zones: &'static [&'static str],
    /// Payments in parts, cancellations and "paid" of no known day (session 9 on); else at
    /// most one payment in full (session 8).
    pub payment_kinds: bool,
}

/// Everything allowed, with session 9's zones and payments.
pub const ALL: Knobs = Knobs {
    statements: true,
    standing: true,
    gap: true,
    pauses: true,
    payments: true,
    manual: true,
    outage: true,
    zones: &ZONES,
    payment_kinds: true,
};

/// Session 8's worlds: everything allowed, its zones, at most one payment in full.
pub const ALL_SESSION8: Knobs = Knobs {
    zones: &ZONES_SESSION8,
    payment_kinds: false,
    ..ALL
};

/// Session 9's zones: daylight-saving nights near the runs, and zones far from UTC.
pub const ZONES: [&str; 8] = [
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "America/Santiago",
    "Pacific/Kiritimati",
    "UTC",
    "America/St_Johns",
    "Pacific/Pago_Pago",
    "Europe/Madrid",
];

/// Session 8's zones.
pub const ZONES_SESSION8: [&str; 6] = [
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "America/Santiago",
    "Europe/Madrid",
    "UTC",
    "America/New_York",
];

/// Days around daylight-saving nights of the zones above (2026).
pub const STARTS: [(i32, u32, u32); 4] = [(2026, 3, 30), (2026, 9, 1), (2026, 9, 24), (2026, 10, 20)];

/// The world of `seed`: the same seed and knobs give the same world on every machine.
pub fn world(seed: u64, k: Knobs) -> World {
    let mut r = Rng(seed);
    let (y, m, dd) = STARTS[r.below(STARTS.len() as u64) as usize];
    let start = d(y, m, dd) + Duration::days(r.range(0, 6));
    let company_zone = k.zones[r.below(k.zones.len() as u64) as usize];
    let send_time = [t(9, 0), t(0, 0), t(23, 30), t(2, 30), t(14, 0)][r.below(5) as usize];
    let mut policy = Policy::new(tz(company_zone)).with_send_time(send_time);
    let expiry = |r: &mut Rng| r.chance(45).then(|| r.range(0, 3) as u32);
    if r.chance(60) {
        let mut soon = rule("soon", Anchor::Due, -(r.range(1, 4) as i32));
        if let Some(x) = expiry(&mut r) {
            soon = soon.expires_after(x);
        }
        policy = policy.with_rule(soon);
    }
    if r.chance(60) {
        let mut due = rule("due", Anchor::Due, 0);
        if let Some(x) = expiry(&mut r) {
            due = due.expires_after(x);
        }
        policy = policy.with_rule(due);
    }
    {
        let mut over = rule("over", Anchor::Due, r.range(1, 3) as i32);
        if r.chance(70) {
            over = over.repeat(r.range(1, 3) as u32, r.range(2, 4) as u32);
        }
        if let Some(x) = expiry(&mut r) {
            over = over.expires_after(x);
        }
        policy = policy.with_rule(over);
    }
    if r.chance(25) {
        policy = policy.with_rule(rule("issued", Anchor::Issued, 0).expires_after(r.range(0, 3) as u32));
    }
    if k.statements && r.chance(50) {
        let days = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];
        let rrule = if r.chance(70) {
            format!("FREQ=WEEKLY;BYDAY={}", days[r.below(7) as usize])
        } else {
            format!("FREQ=DAILY;INTERVAL={}", r.range(2, 4))
        };
        let mut st = StatementRule::new("stmt".parse().unwrap(), rrule, d(2026, 1, 1));
        if r.chance(50) {
            st = st.overdue_only();
        }
        if let Some(x) = expiry(&mut r) {
            st = st.expires_after(x);
        }
        policy = policy.with_statement(st);
    }
    if k.standing && r.chance(40) {
        let a = r.range(1, 5) as u32;
        policy = policy.with_standing(StandingRule::new(a, a + r.range(1, 5) as u32));
    }
    let weekends = r.chance(60);
    let mut holidays = Vec::new();
    for _ in 0..r.range(0, 2) {
        holidays.push(start + Duration::days(r.range(0, 20)));
    }
    policy = policy.with_calendar(BusinessCalendar::new(
        if weekends {
            vec![Weekday::Sat, Weekday::Sun]
        } else {
            vec![]
        },
        holidays,
    ));
    if k.gap && r.chance(55) {
        policy = policy.with_min_gap(r.range(1, 3) as u32);
    }
    let n_clients = r.range(1, 2) as usize;
    let mut clients = Vec::new();
    let mut items = Vec::new();
    for c in 0..n_clients {
        let zone = k.zones[r.below(k.zones.len() as u64) as usize];
        let id = format!("c{c}");
        let mut cl = client(&id, zone);
        if k.pauses && r.chance(15) {
            let from = start + Duration::days(r.range(0, 15));
            let p = if r.chance(50) {
                Pause::new(PauseKind::Hold, "held for good").starting(from)
            } else {
                Pause::new(PauseKind::Snooze, "snoozed")
                    .starting(from)
                    .until(from + Duration::days(r.range(0, 5)))
            };
            cl = cl.with_pause(p);
        }
        for i in 0..r.range(1, 4) {
            let due = start + Duration::days(r.range(-3, 14));
            let issued = due - Duration::days(r.range(5, 30));
            let mut item = invoice(&format!("F-{c}{i}"), &id, issued, due, money("100", "USD"));
            if k.pauses && r.chance(40) {
                let from = due + Duration::days(r.range(-4, 8));
                let p = if r.chance(60) {
                    Pause::new(PauseKind::Dispute, "disputed").starting(from)
                } else {
                    Pause::new(PauseKind::Promise, "promised")
                        .starting(from)
                        .until(from + Duration::days(r.range(0, 5)))
                };
                item = item.with_pause(p);
            }
            items.push(item);
        }
        clients.push(cl);
    }
    let mut payments = Vec::new();
    let zone0 = tz(company_zone);
    if !k.payment_kinds {
        if k.payments && r.chance(25) {
            let i = r.below(items.len() as u64) as usize;
            let day = start + Duration::days(r.range(0, 20));
            let at = local_instant(zone0, day, t(r.range(0, 23) as u32, 10));
            payments.push((i, at, Pay::Amount(100)));
        }
    } else if k.payments && r.chance(45) {
        for _ in 0..r.range(1, 2) {
            let i = r.below(items.len() as u64) as usize;
            let day = start + Duration::days(r.range(0, 20));
            let at = local_instant(zone0, day, t(r.range(0, 23) as u32, 10));
            let what = match r.below(5) {
                0 | 1 => Pay::Amount(100),
                2 => {
                    let later = at + Duration::hours(r.range(1, 24 * 6));
                    payments.push((i, later, Pay::Amount(60)));
                    Pay::Amount(40)
                }
                3 => Pay::Cancel,
                _ => Pay::Unknown,
            };
            payments.push((i, at, what));
        }
    }
    let mut manual = Vec::new();
    if k.manual && r.chance(30) {
        for _ in 0..r.range(1, 2) {
            let i = r.below(items.len() as u64) as usize;
            let day = start + Duration::days(r.range(0, 20));
            manual.push((i, local_instant(zone0, day, t(r.range(0, 23) as u32, 20))));
        }
    }
    // Ticks: hourly, or daily at one UTC hour; outages of whole UTC hours.
    let hourly = r.chance(40);
    let first = local_instant(tz("UTC"), start, t(0, 0));
    let last = first + Duration::days(28);
    let hour = r.range(0, 23);
    let mut outages: Vec<(DateTime<Utc>, DateTime<Utc>)> = Vec::new();
    if k.outage && r.chance(50) {
        for _ in 0..r.range(1, 2) {
            let a = first + Duration::hours(r.range(0, 24 * 20));
            outages.push((a, a + Duration::hours(r.range(6, 24 * 4))));
        }
    }
    let mut ticks = Vec::new();
    let mut now = first;
    while now < last {
        let keep = hourly || now.format("%H").to_string().parse::<i64>().unwrap() == hour;
        if keep && !outages.iter().any(|(a, b)| *a <= now && now < *b) {
            ticks.push(now);
        }
        now += Duration::hours(1);
    }
    World {
        seed,
        policy,
        clients,
        items,
        payments,
        manual,
        ticks,
    }
}

/// What one tick saw.
pub struct Seen {
    pub now: DateTime<Utc>,
    pub plan: Plan,
    /// The history before the tick's sends.
    pub sent_before: BTreeSet<String>,
    pub paid: BTreeSet<String>,
}

/// What the host records about an item.
#[derive(Clone, Copy, Debug)]
pub enum Pay {
    Amount(i64),
    Cancel,
    Unknown,
}

/// The items as the host knows them at `now`, and the ids of those paid in full or no
/// longer pending.
pub fn items_at(w: &World, now: DateTime<Utc>) -> (Vec<Item>, BTreeSet<String>) {
    let mut paid = BTreeSet::new();
    let zone = w.policy.time_zone;
    let items = w
        .items
        .iter()
        .enumerate()
        .map(|(i, it)| {
            let mut it = it.clone();
            let mut amount = 0;
            for (_, at, what) in w.payments.iter().filter(|p| p.0 == i && p.1 <= now) {
                match what {
                    Pay::Amount(n) => {
                        amount += n;
                        it = it.paid(money(&n.to_string(), "USD"), zone.local_date(*at));
                    }
                    Pay::Cancel => it = it.with_status(ItemStatus::Cancelled),
                    Pay::Unknown => it = it.with_status(ItemStatus::Paid),
                }
            }
            if amount >= 100 || !it.status.is_pending() {
                paid.insert(it.id.to_string());
            }
            it
        })
        .collect();
    (items, paid)
}

/// Records in `history` the manual sends of `manual` made by `now` (the world's items, by
/// place), and keeps the others for later ticks.
pub fn record_manual_sends(
    w: &World,
    manual: &mut Vec<(usize, DateTime<Utc>)>,
    now: DateTime<Utc>,
    history: &mut Vec<HistoryEntry>,
) {
    manual.retain(|(i, at)| {
        if *at <= now {
            let it = &w.items[*i];
            history.push(HistoryEntry::manual(it.client.clone(), it.id.clone(), *at));
            false
        } else {
            true
        }
    });
}

/// Ticks the host over the world, every due event fed back as sent; returns what each tick
/// saw and the sends that broke a rule (a key twice, a reminder about a paid item).
pub fn run(w: &World) -> (Vec<Seen>, Vec<String>) {
    let planner = Planner::new(&w.policy).unwrap();
    let mut history: Vec<HistoryEntry> = Vec::new();
    let mut sent: BTreeSet<String> = BTreeSet::new();
    let mut manual = w.manual.clone();
    let mut out = Vec::new();
    let mut bad = Vec::new();
    for &now in &w.ticks {
        record_manual_sends(w, &mut manual, now, &mut history);
        let (items, paid) = items_at(w, now);
        let plan = planner
            .plan(&w.clients, &items, &history, now, Horizon::days(10))
            .unwrap();
        let sent_before = sent.clone();
        for e in plan.due() {
            for k in e.covered_keys() {
                if !sent.insert(k.to_string()) {
                    bad.push(format!("{now}: {k} sent twice"));
                }
            }
            if e.statement.is_none() && e.standing.is_none() {
                for i in &e.items {
                    if paid.contains(i.item.as_str()) {
                        bad.push(format!("{now}: {} goes about paid {}", e.key, i.item));
                    }
                }
            }
            history.push(e.to_history(now));
        }
        out.push(Seen {
            now,
            plan,
            sent_before,
            paid,
        });
    }
    (out, bad)
}

/// The local day of `client` (or the company's) at `now`.
pub fn today_of(w: &World, client: &ClientId, now: DateTime<Utc>) -> NaiveDate {
    let c = w.clients.iter().find(|c| &c.id == client).unwrap();
    c.time_zone.unwrap_or(w.policy.time_zone).local_date(now)
}

/// Whether a plan's statement that `s` is dropped is for good at `today`, given the keys
/// sent before the tick and due at it.
pub fn firm(s: &Suppressed, today: NaiveDate, sent: &BTreeSet<String>, due: &BTreeSet<String>) -> bool {
    match &s.reason {
        SuppressReason::Expired { days } => today > s.on + Duration::days(i64::from(*days)),
        SuppressReason::Superseded { by } => {
            (sent.contains(by.as_str()) || due.contains(by.as_str())) && s.on <= today
        }
        // Said on today's date, it may be the "as of the plan's day" form of a stop older
        // than the lookback.
        SuppressReason::Paused { .. } => s.on < today,
        SuppressReason::NothingToList => s.on < today,
        _ => false,
    }
}

/// The checks over a run. Returns the violations, one line each.
pub fn check(w: &World, seen: &[Seen], bad: &mut Vec<String>) {
    // key -> (reason, tick index where first said for good)
    let mut firm_said: BTreeMap<String, (Suppressed, usize)> = BTreeMap::new();
    let mut forecast: BTreeMap<String, (NaiveDate, Option<ItemId>)> = BTreeMap::new();
    let mut explained: BTreeSet<String> = BTreeSet::new();
    // Standing notices whose run ended (a tick saw the client in no state) since said.
    let mut run_ended: BTreeSet<String> = BTreeSet::new();
    for (ix, s) in seen.iter().enumerate() {
        let due: BTreeSet<String> = s.plan.due().iter().map(|e| e.key.to_string()).collect();
        // Firm drops said before: still said the same way, and never due.
        for (key, (first, at)) in &firm_said {
            let today = today_of(w, &first.client, s.now);
            if first.item.as_ref().is_some_and(|i| s.paid.contains(i.as_str())) {
                continue;
            }
            // A standing notice's run ends once the client owes nothing that keeps it in a
            // state: its notices are not explained again (nor once a later run began), as a
            // paid item's reminders are not.
            let standing = w
                .policy
                .standing
                .as_ref()
                .is_some_and(|r| first.rule == r.closing_soon_id || first.rule == r.closed_id);
            if standing && !s.plan.standings().iter().any(|x| x.client == first.client) {
                run_ended.insert(key.clone());
            }
            if run_ended.contains(key) {
                continue;
            }
            if due.contains(key) {
                bad.push(format!(
                    "{}: {key} due after said {} at {}",
                    s.now,
                    short(first),
                    seen[*at].now
                ));
                continue;
            }
            if first.on > today - Duration::days(LOOKBACK) {
                let same = s
                    .plan
                    .suppressed()
                    .iter()
                    .any(|x| x.key == first.key && x.reason == first.reason && x.on == first.on);
                if !same {
                    bad.push(format!(
                        "{}: {key} said {} at {}, now {:?}",
                        s.now,
                        short(first),
                        seen[*at].now,
                        about(&s.plan, key)
                    ));
                }
            }
        }
        for x in s.plan.suppressed() {
            explained.insert(x.key.to_string());
            explained.insert(format!("{}/{}", x.rule, x.item_str()));
            let today = today_of(w, &x.client, s.now);
            if x.item.as_ref().is_some_and(|i| s.paid.contains(i.as_str())) {
                continue;
            }
            if !firm_said.contains_key(x.key.as_str()) && firm(x, today, &s.sent_before, &due) {
                firm_said.insert(x.key.to_string(), (x.clone(), ix));
            }
        }
        for e in s.plan.events() {
            if e.statement.is_none() && e.standing.is_none() {
                forecast
                    .entry(e.key.to_string())
                    .or_insert((e.send_on, e.items.first().map(|i| i.item.clone())));
            }
        }
    }
    // Every reminder forecast and never sent is explained by some plan (its day well
    // before the end of the run, its item never paid).
    let last = seen.last().map(|s| s.now);
    let sent_all: BTreeSet<String> = seen
        .iter()
        .flat_map(|s| s.plan.due().iter().map(|e| e.key.to_string()))
        .chain(seen.iter().flat_map(|s| s.sent_before.iter().cloned()))
        .collect();
    if let Some(last) = last {
        for (key, (on, item)) in forecast {
            let client = w
                .items
                .iter()
                .find(|i| Some(&i.id) == item.as_ref())
                .map(|i| i.client.clone());
            let Some(client) = client else { continue };
            let today = today_of(w, &client, last);
            if on + Duration::days(9) > today {
                continue;
            }
            let paid = w.payments.iter().any(|p| Some(&w.items[p.0].id) == item.as_ref());
            let rule_item = key.rsplit_once('/').map_or("", |(a, _)| a);
            if paid || sent_all.contains(&key) || explained.contains(&key) || explained.contains(rule_item) {
                continue;
            }
            bad.push(format!("{key} forecast for {on}, never sent nor explained"));
        }
    }
}

/// The world in a few lines, for failure messages.
pub fn describe(w: &World) -> String {
    let mut out = format!(
        "seed {}\npolicy: {}\n",
        w.seed,
        serde_json::to_string(&w.policy).unwrap()
    );
    for c in &w.clients {
        out.push_str(&format!(
            "client {} zone {:?} pauses {:?}\n",
            c.id,
            c.time_zone.map(|z| z.name()),
            c.pauses
        ));
    }
    for i in &w.items {
        out.push_str(&format!(
            "item {} of {} issued {} due {:?} pauses {:?}\n",
            i.id, i.client, i.issued_on, i.due_on, i.pauses
        ));
    }
    out.push_str(&format!("payments {:?}\nmanual {:?}\n", w.payments, w.manual));
    let gaps: Vec<String> = w
        .ticks
        .windows(2)
        .filter(|p| p[1] - p[0] > Duration::hours(24))
        .map(|p| format!("{}..{}", p[0], p[1]))
        .collect();
    out.push_str(&format!(
        "ticks {} .. {} ({}), outages {:?}\n",
        w.ticks[0],
        w.ticks.last().unwrap(),
        w.ticks.len(),
        gaps
    ));
    out
}

/// The seeds whose worlds break a check, with the violations.
pub fn sweep(seeds: std::ops::Range<u64>, k: Knobs) -> Vec<(u64, Vec<String>)> {
    let mut out = Vec::new();
    for seed in seeds {
        let w = world(seed, k);
        let (seen, mut bad) = run(&w);
        check(&w, &seen, &mut bad);
        if !bad.is_empty() {
            out.push((seed, bad));
        }
    }
    out
}

/// The first failing worlds of `fails`, described, with their violations.
pub fn report(fails: &[(u64, Vec<String>)], k: Knobs) -> String {
    let mut s = String::new();
    for (seed, bad) in fails.iter().take(5) {
        s.push_str(&describe(&world(*seed, k)));
        for b in bad.iter().take(400) {
            s.push_str(&format!("  {b}\n"));
        }
    }
    format!("{} failing worlds\n{s}", fails.len())
}

/// The number in the environment variable `name`, else `default` (how many worlds a sweep
/// runs, from which seed).
pub fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Exploration aid (call from a test while working): sweeps `N` seeds from `FROM` and prints
/// the kinds of violations found, the failing worlds too with `VERBOSE`.
pub fn explore(k: Knobs) {
    let from = env_u64("FROM", 0);
    let n = env_u64("N", 200);
    let fails = sweep(from..from + n, k);
    let mut kinds: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for (seed, bad) in &fails {
        for b in bad {
            let kind = if let Some(p) = b.find(" said ") {
                let rest = &b[p + 6..];
                let r = rest.split('(').next().unwrap().split(' ').next().unwrap();
                let rule = b.split(": ").nth(1).unwrap_or("").split('/').next().unwrap_or("");
                format!(
                    "{rule} {r} -> {}",
                    if b.ends_with("now []") { "nothing" } else { "other" }
                )
            } else if b.contains("never sent nor") {
                "unexplained".to_owned()
            } else {
                b.split(": ")
                    .nth(1)
                    .unwrap_or(b)
                    .split(' ')
                    .skip(1)
                    .take(2)
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            let v = kinds.entry(kind).or_default();
            if !v.contains(seed) {
                v.push(*seed);
            }
        }
    }
    for (k, v) in &kinds {
        println!("{k}: {} worlds, e.g. {:?}", v.len(), &v[..v.len().min(8)]);
    }
    if std::env::var("VERBOSE").is_ok() {
        println!("{}", report(&fails, k));
    }
}
