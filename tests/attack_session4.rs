//! Session 4 attack: a host ticking the planner over seeded random worlds (gap, grouping,
//! expiries, "due soon" past the due date, pauses, manual sends, outages, DST nights),
//! checking the documented promises from the outside.
//!
//! Guards (plain tests): nothing sent twice (key or item occurrence), nothing sent after a
//! plan said it was dropped for good, the gap between messages, a "due soon" event never on
//! or after the due date, forecasts going as forecast, daily repeats taking turns.
//! Findings (ignored): C, the day a "due soon" held past the due date is said too late on
//! moving after its drop (A, said `Expired` after being said too late, is fixed); B and D,
//! forecasts under the gap after a pause that the ticks do not follow; E, a grouped "due
//! soon" notice covering an item on and after its due date.
mod common;

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc, Weekday};
use common::*;
use dunning::*;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use common::SplitMix as Rng;

#[derive(Clone, Debug)]
struct World {
    policy: Policy,
    clients: Vec<Client>,
    items: Vec<Item>,
    zone: TimeZone,
    send_time: NaiveTime,
    start: NaiveDate,
    days: i64,
    /// Manual sends (client, item, instant).
    manual: Vec<(String, String, DateTime<Utc>)>,
    /// Local days without ticks.
    outage: BTreeSet<NaiveDate>,
    /// 0: ticks at local 00:00 and the send time; 1: hourly.
    mode: u8,
    /// Rule id -> (offset, every, expires).
    rules: BTreeMap<String, (i32, u32, Option<u32>)>,
}

const ZONES: [(&str, (i32, u32, u32)); 7] = [
    ("Europe/Madrid", (2026, 3, 29)),
    ("Europe/Madrid", (2026, 10, 25)),
    ("America/Santiago", (2026, 4, 5)),
    ("America/Santiago", (2026, 9, 6)),
    ("Pacific/Auckland", (2026, 4, 5)),
    ("Pacific/Auckland", (2026, 9, 27)),
    ("UTC", (2026, 6, 10)),
];

struct Knobs {
    manual: bool,
    outage: bool,
    pauses: bool,
    hourly: bool,
    /// Every invoice's first reminder day after the first tick.
    fresh: bool,
}

/// How many of a sweep's `full` worlds run: a tenth by default (the suite runs in debug
/// builds), `ATTACK4_PERCENT` percent when set (100: the full sweep, as first run).
fn worlds(full: u64) -> u64 {
    let percent: u64 = std::env::var("ATTACK4_PERCENT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(10);
    (full * percent / 100).max(1)
}

fn gen_world(seed: u64, k: &Knobs) -> World {
    let mut r = Rng(seed);
    let (zname, (y, m, dd)) = ZONES[r.below(ZONES.len() as u64) as usize];
    let zone = tz(zname);
    let dst = d(y, m, dd);
    let start = dst - Duration::days(r.range(3, 12));
    let send_time = [t(0, 0), t(9, 0), t(23, 30)][r.below(3) as usize];
    let mut rules = BTreeMap::new();
    let mut policy = Policy::new(zone).with_send_time(send_time);
    if r.chance(60) {
        policy = policy.with_calendar(BusinessCalendar::new(
            [Weekday::Sat, Weekday::Sun],
            [start + Duration::days(r.range(0, 20))],
        ));
    }
    policy = policy.with_min_gap(r.range(0, 3) as u32);
    // Stage order: soon, ondue, daily, weekly.
    let mut any = false;
    if r.chance(60) {
        let off = -(r.range(1, 3) as i32);
        let mut rl = rule("soon", Anchor::Due, off);
        let mut every = 0;
        if r.chance(50) {
            every = 1;
            rl = rl.repeat(1, r.range(2, 5) as u32);
        }
        let mut exp = None;
        if r.chance(60) {
            let e = r.range(0, 5) as u32;
            exp = Some(e);
            rl = rl.expires_after(e);
        }
        rules.insert("soon".to_string(), (off, every, exp));
        policy = policy.with_rule(rl);
        any = true;
    }
    if r.chance(50) {
        let mut rl = rule("ondue", Anchor::Due, 0);
        if r.chance(50) {
            rl = rl.grouped();
        }
        let mut exp = None;
        if r.chance(40) {
            let e = r.range(0, 5) as u32;
            exp = Some(e);
            rl = rl.expires_after(e);
        }
        rules.insert("ondue".to_string(), (0, 0, exp));
        policy = policy.with_rule(rl);
        any = true;
    }
    if r.chance(70) || !any {
        let off = r.range(1, 3) as i32;
        let mut rl = rule("daily", Anchor::Due, off).repeat(1, r.range(2, 10) as u32);
        if r.chance(40) {
            rl = rl.grouped();
        }
        let mut exp = None;
        if r.chance(60) {
            let e = r.range(0, 5) as u32;
            exp = Some(e);
            rl = rl.expires_after(e);
        }
        rules.insert("daily".to_string(), (off, 1, exp));
        policy = policy.with_rule(rl);
    }
    if r.chance(30) {
        let mut rl = rule("weekly", Anchor::Due, 7).repeat(7, 3);
        if r.chance(50) {
            rl = rl.grouped();
        }
        rules.insert("weekly".to_string(), (7, 7, None));
        policy = policy.with_rule(rl);
    }
    let nclients = r.range(1, 2);
    let mut clients = Vec::new();
    let mut items = Vec::new();
    let mut manual = Vec::new();
    for c in 0..nclients {
        let cid = format!("c{c}");
        let mut cl = client(&cid, zname);
        if r.chance(35) {
            cl = cl.with_overrides(ClientOverrides::default().min_gap(r.range(0, 4) as u32));
        }
        if k.pauses && r.chance(15) {
            let from = start + Duration::days(r.range(0, 12));
            let mut p = Pause::new(PauseKind::Hold, "hold").starting(from);
            if r.chance(85) {
                p = p.until(from + Duration::days(r.range(0, 5)));
            }
            cl = cl.with_pause(p);
        }
        clients.push(cl);
        let n = r.range(2, 4);
        for i in 0..n {
            let iid = format!("F-{c}{i}");
            let due = start + Duration::days(if k.fresh { r.range(6, 16) } else { r.range(-3, 12) });
            let cur = if r.chance(85) { "USD" } else { "EUR" };
            let mut it = invoice(&iid, &cid, due - Duration::days(30), due, money("100", cur));
            if k.pauses && r.chance(35) {
                let from = due + Duration::days(r.range(-3, 6));
                let mut p = Pause::new(PauseKind::Promise, "promise").starting(from);
                if r.chance(85) {
                    p = p.until(from + Duration::days(r.range(0, 6)));
                }
                it = it.with_pause(p);
            }
            items.push(it);
            if k.manual && r.chance(20) {
                let day = start + Duration::days(r.range(0, 25));
                let at = local_instant(zone, day, t(r.range(0, 23) as u32, r.range(0, 59) as u32))
                    + Duration::seconds(17);
                manual.push((cid.clone(), iid.clone(), at));
            }
        }
    }
    let mut outage = BTreeSet::new();
    if k.outage && r.chance(40) {
        for _ in 0..r.range(1, 2) {
            let s = start + Duration::days(r.range(0, 25));
            for j in 0..r.range(1, 3) {
                outage.insert(s + Duration::days(j));
            }
        }
    }
    let mode = if k.hourly && r.chance(30) { 1 } else { 0 };
    World {
        policy,
        clients,
        items,
        zone,
        send_time,
        start,
        days: 40,
        manual,
        outage,
        mode,
        rules,
    }
}

fn ticks(w: &World) -> Vec<DateTime<Utc>> {
    let mut out = BTreeSet::new();
    if w.mode == 1 {
        let first = local_instant(w.zone, w.start, t(0, 0));
        let last = local_instant(w.zone, w.start + Duration::days(w.days), t(0, 0));
        let mut now = first;
        while now <= last {
            if !w.outage.contains(&w.zone.local_date(now)) {
                out.insert(now);
            }
            now += Duration::hours(1);
        }
    } else {
        for i in 0..w.days {
            let day = w.start + Duration::days(i);
            if w.outage.contains(&day) {
                continue;
            }
            out.insert(local_instant(w.zone, day, t(0, 0)));
            out.insert(local_instant(w.zone, day, w.send_time));
        }
    }
    out.into_iter().collect()
}

#[derive(Default, Debug)]
struct Outcome {
    failures: Vec<String>,
    sends: Vec<(DateTime<Utc>, String, Vec<String>)>,
}

fn gap_of(w: &World, client: &ClientId) -> i64 {
    let c = w.clients.iter().find(|c| &c.id == client).unwrap();
    i64::from(c.overrides.min_gap_days.unwrap_or(w.policy.min_gap_days))
}

/// A forecast event: its items, and the instant of the plan that forecast it.
type Forecast = (Vec<String>, DateTime<Utc>);

fn run(w: &World, check_forecast: bool) -> Outcome {
    let planner = Planner::new(&w.policy).unwrap();
    let mut history: Vec<HistoryEntry> = Vec::new();
    let mut out = Outcome::default();
    let mut sent_keys: BTreeSet<String> = BTreeSet::new();
    let mut sent_claims: BTreeMap<String, String> = BTreeMap::new();
    let mut dropped: BTreeMap<String, String> = BTreeMap::new();
    let mut final_word: HashMap<String, (String, DateTime<Utc>)> = HashMap::new();
    // client -> last message local date
    let mut last_msg: HashMap<String, (NaiveDate, String)> = HashMap::new();
    // forecasts: (send_at, key) -> (items, forecast at)
    let mut forecasts: BTreeMap<(DateTime<Utc>, String), Forecast> = BTreeMap::new();
    let mut manual = w.manual.clone();
    manual.sort_by_key(|m| m.2);
    let mut mi = 0;
    let due_of: HashMap<String, NaiveDate> = w
        .items
        .iter()
        .map(|i| (i.id.to_string(), i.due_on.unwrap()))
        .collect();
    let all_ticks = ticks(w);
    for (ti, &now) in all_ticks.iter().enumerate() {
        while mi < manual.len() && manual[mi].2 <= now {
            let (c, i, at) = &manual[mi];
            history.push(HistoryEntry::manual(c.parse().unwrap(), i.parse().unwrap(), *at));
            last_msg.insert(c.clone(), (w.zone.local_date(*at), format!("manual/{i}")));
            mi += 1;
        }
        let today = w.zone.local_date(now);
        let horizon = Horizon::days(8);
        let plan = if ti % 2 == 0 {
            planner
                .plan(&w.clients, &w.items, &history, now, horizon)
                .unwrap()
        } else {
            planner
                .schedule(&w.clients, &w.items, &history, now, horizon)
                .unwrap()
                .to_plan()
        };
        let fail = |out: &mut Outcome, msg: String| {
            if out.failures.len() < 20 {
                out.failures.push(format!("[{now} local {today}] {msg}"));
            }
        };
        // Forecasts whose first tick is now.
        if check_forecast {
            let done: Vec<_> = forecasts
                .range(..=(now, String::from("\u{10FFFF}")))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            for ((at, key), (items, when)) in done {
                forecasts.remove(&(at, key.clone()));
                match plan.due().iter().find(|e| e.key.as_str() == key) {
                    Some(e) => {
                        let mut got: Vec<String> = e
                            .items
                            .iter()
                            .map(|i| format!("{}#{}", i.item, i.occurrence))
                            .collect();
                        got.sort();
                        if got != items {
                            fail(
                                &mut out,
                                format!(
                                    "forecast at {when} of {key} at {at} with {items:?}, went with {got:?}"
                                ),
                            );
                        }
                    }
                    None => {
                        let why: Vec<String> = plan
                            .suppressed()
                            .iter()
                            .filter(|s| s.key.as_str() == key)
                            .map(|s| format!("{} {:?}", s.on, s.reason))
                            .collect();
                        let due: Vec<String> = plan.due().iter().map(|e| e.key.to_string()).collect();
                        fail(
                            &mut out,
                            format!(
                                "forecast at {when} of {key} at {at} ({items:?}) did not go; due {due:?}; said {why:?}"
                            ),
                        );
                    }
                }
            }
        }
        // Suppressions: drops for good, and due-soon explained as expired.
        for s in plan.suppressed() {
            let said = format!("{} {:?}", s.on, s.reason);
            if let Some((first, at)) = final_word.get(s.key.as_str()) {
                if *first != said {
                    let class = if matches!(s.reason, SuppressReason::DueSoonAfterDue { .. }) {
                        "REWORD-late"
                    } else {
                        "REWORD"
                    };
                    fail(
                        &mut out,
                        format!(
                            "{class} {} dropped for good, said {first} (at {at}), now said {said}",
                            s.key
                        ),
                    );
                }
            }
            let for_good = match &s.reason {
                SuppressReason::Superseded { by } => {
                    history.iter().any(|h| h.key == *by && h.outcome.is_sent())
                }
                SuppressReason::Expired { days } => s.on + Duration::days(i64::from(*days)) < today,
                _ => false,
            };
            if for_good {
                final_word.entry(s.key.to_string()).or_insert((said, now));
            }
            match &s.reason {
                SuppressReason::Superseded { by }
                    if history.iter().any(|h| h.key == *by && h.outcome.is_sent()) =>
                {
                    dropped
                        .entry(s.key.to_string())
                        .or_insert(format!("superseded by {by} (said at {now})"));
                }
                SuppressReason::Expired { days } => {
                    if s.on + Duration::days(i64::from(*days)) < today {
                        dropped
                            .entry(s.key.to_string())
                            .or_insert(format!("expired on {} (said at {now})", s.on));
                    }
                    if s.rule.as_str() == "soon" {
                        let (off, every, _) = w.rules["soon"];
                        let occ: i64 = s.key.as_str().rsplit('/').next().unwrap().parse().unwrap_or(0);
                        let item = s.item.as_ref().unwrap().to_string();
                        let due = due_of[&item];
                        let nominal = due + Duration::days(i64::from(off) + (occ - 1) * i64::from(every));
                        // A due-soon occurrence still alive on the due date is too late then,
                        // not expired: Expired is for one whose last day came before the due date.
                        if nominal < due && s.on + Duration::days(i64::from(*days)) >= due {
                            fail(
                                &mut out,
                                format!(
                                    "due soon {} (nominal day {nominal}, due {due}) said Expired on {}, not too late",
                                    s.key, s.on
                                ),
                            );
                        }
                    }
                }
                _ => {}
            }
        }
        // Due events: send them.
        let mut sent_now: HashMap<String, usize> = HashMap::new();
        for e in plan.due() {
            let key = e.key.to_string();
            if !sent_keys.insert(key.clone()) {
                fail(&mut out, format!("key {key} sent twice"));
            }
            if let Some(why) = dropped.get(&key) {
                fail(
                    &mut out,
                    format!("{key} sent after it was dropped for good: {why}"),
                );
            }
            let mut claims = Vec::new();
            for i in &e.items {
                let claim = format!("{}/{}/{}", e.rule, i.item, i.occurrence);
                if let Some(prev) = sent_claims.insert(claim.clone(), key.clone()) {
                    fail(&mut out, format!("{claim} in {key} and before in {prev}"));
                }
                if claim != key {
                    if let Some(why) = dropped.get(&claim) {
                        fail(
                            &mut out,
                            format!("{claim} (in {key}) sent after dropped for good: {why}"),
                        );
                    }
                }
                claims.push(format!("{}#{}", i.item, i.occurrence));
                if e.stage == Stage::DueSoon {
                    let due = due_of[&i.item.to_string()];
                    if today >= due {
                        let tag = if e.items.len() > 1 { "GROUPED-DUESOON " } else { "" };
                        fail(
                            &mut out,
                            format!(
                                "{tag}due soon {key} goes on {today}, due {due} ({}#{})",
                                i.item, i.occurrence
                            ),
                        );
                    }
                }
            }
            // Gap.
            let c = e.client.to_string();
            let gap = gap_of(w, &e.client);
            *sent_now.entry(c.clone()).or_default() += 1;
            if gap > 0 {
                if let Some((last, lk)) = last_msg.get(&c) {
                    if (today - *last).num_days() < gap {
                        fail(
                            &mut out,
                            format!("gap {gap}: {key} on {today} after {lk} on {last}"),
                        );
                    }
                }
            }
            last_msg.insert(c, (today, key.clone()));
            out.sends.push((now, key, claims));
        }
        for e in plan.due() {
            history.push(e.to_history(now));
        }
        if check_forecast {
            for e in plan.upcoming() {
                let mut items: Vec<String> = e
                    .items
                    .iter()
                    .map(|i| format!("{}#{}", i.item, i.occurrence))
                    .collect();
                items.sort();
                forecasts
                    .entry((e.send_at, e.key.to_string()))
                    .or_insert((items, now));
            }
        }
    }
    out
}

fn describe(w: &World) -> String {
    let mut s = format!(
        "zone {} send {} start {} mode {} outage {:?}\npolicy gap {} cal {:?} rules {:?}\n",
        w.zone.name(),
        w.send_time,
        w.start,
        w.mode,
        w.outage,
        w.policy.min_gap_days,
        w.policy.calendar,
        w.policy
            .rules
            .iter()
            .map(|r| format!(
                "{} off {} every {:?} count {} group {} exp {:?}",
                r.id, r.offset_days, r.every_days, r.count, r.group, r.expires_after_days
            ))
            .collect::<Vec<_>>()
    );
    for c in &w.clients {
        s += &format!(
            "client {} gap {:?} pauses {:?}\n",
            c.id, c.overrides.min_gap_days, c.pauses
        );
    }
    for i in &w.items {
        s += &format!(
            "item {} {} due {:?} cur {} pauses {:?}\n",
            i.id,
            i.client,
            i.due_on,
            i.total
                .map(|m| m.currency().code().to_string())
                .unwrap_or_default(),
            i.pauses
        );
    }
    s += &format!("manual {:?}\n", w.manual);
    s
}

/// The worlds of `seeds` whose run fails, each described. No class of failure is left out
/// any more: a "due soon" said expired where its due date came before its expiry ran out
/// (`not too late`) and an occurrence dropped for good as expired said otherwise later
/// (`REWORD`: held for good by a pause that began after it expired,
/// `an_expired_repeat_stays_expired_when_a_hold_without_end_begins_later`) are fixed, as are
/// findings A-E (a "due soon" too late said on a day that moved, `REWORD-late`; forecasts
/// not kept, `forecast at`; a grouped notice staged by its first item, `GROUPED-DUESOON`).
fn sweep(seeds: std::ops::Range<u64>, k: &Knobs, forecast: bool, label: &str) -> Vec<(u64, String)> {
    let mut found = Vec::new();
    for seed in seeds {
        let w = gen_world(seed, k);
        let fc = forecast && w.manual.is_empty() && w.outage.is_empty() && w.mode == 0;
        let o = run(&w, fc);
        if !o.failures.is_empty() {
            let text: Vec<&str> = o.failures.iter().map(|f| f.as_str()).collect();
            found.push((
                seed,
                format!(
                    "{label} seed {seed}\n{}{}\nsends: {:?}",
                    describe(&w),
                    text.join("\n"),
                    o.sends
                ),
            ));
        }
    }
    found
}

fn class_of(f: &str) -> String {
    let body = f.split("] ").nth(1).unwrap_or(f);
    if body.contains("not too late") {
        return "due soon said Expired, not too late".into();
    }
    if body.starts_with("REWORD-late") {
        return "REWORD-late".into();
    }
    body.split_whitespace()
        .filter(|w| !w.contains('/') && !w.starts_with('2') && !w.starts_with('['))
        .take(5)
        .collect::<Vec<_>>()
        .join(" ")
}

fn report(found: &[(u64, String)]) {
    let mut classes: BTreeMap<String, (usize, u64)> = BTreeMap::new();
    for (seed, f) in found {
        let mut seen = BTreeSet::new();
        for line in f.lines().filter(|l| l.starts_with('[')) {
            let c = class_of(line);
            if seen.insert(c.clone()) {
                let e = classes.entry(c).or_insert((0, *seed));
                e.0 += 1;
            }
        }
    }
    for (c, (n, seed)) in &classes {
        eprintln!("CLASS {n:5} worlds, e.g. seed {seed}: {c}");
    }
    if std::env::var("SHOW").is_ok() {
        for (_, f) in found.iter().take(6) {
            eprintln!("{f}\n-----");
        }
    }
    eprintln!(
        "{} failing seeds: {:?}",
        found.len(),
        found.iter().map(|f| f.0).take(40).collect::<Vec<_>>()
    );
}

#[test]
fn explore_plain_worlds() {
    let k = Knobs {
        manual: false,
        outage: false,
        pauses: false,
        hourly: false,
        fresh: false,
    };
    let found = sweep(0..worlds(4000), &k, true, "plain");
    report(&found);
    assert!(found.is_empty());
}

#[test]
fn explore_paused_worlds() {
    let k = Knobs {
        manual: false,
        outage: false,
        pauses: true,
        hourly: false,
        fresh: false,
    };
    let found = sweep(10000..10000 + worlds(4000), &k, true, "paused");
    report(&found);
    assert!(found.is_empty());
}

#[test]
fn explore_messy_worlds() {
    let k = Knobs {
        manual: true,
        outage: true,
        pauses: true,
        hourly: true,
        fresh: false,
    };
    let found = sweep(50000..50000 + worlds(4000), &k, true, "messy");
    report(&found);
    assert!(found.is_empty());
}

/// Shrinks a failing world: drops items, rules, pauses, manual sends, outage days and the
/// calendar while a failure of the same class (a substring) remains.
fn minimize(mut w: World, class: &str, fc: bool) -> World {
    let fails = |w: &World| run(w, fc).failures.iter().any(|f| f.contains(class));
    assert!(fails(&w));
    loop {
        let mut changed = false;
        for i in (0..w.items.len()).rev() {
            let mut v = w.clone();
            v.items.remove(i);
            if !v.items.is_empty() && fails(&v) {
                w = v;
                changed = true;
            }
        }
        for i in (0..w.items.len()).rev() {
            if !w.items[i].pauses.is_empty() {
                let mut v = w.clone();
                v.items[i].pauses.clear();
                if fails(&v) {
                    w = v;
                    changed = true;
                }
            }
        }
        for i in (0..w.clients.len()).rev() {
            let id = w.clients[i].id.clone();
            if !w.items.iter().any(|it| it.client == id) {
                let mut v = w.clone();
                v.clients.remove(i);
                if fails(&v) {
                    w = v;
                    changed = true;
                    continue;
                }
            }
            if !w.clients[i].pauses.is_empty() {
                let mut v = w.clone();
                v.clients[i].pauses.clear();
                if fails(&v) {
                    w = v;
                    changed = true;
                }
            }
        }
        for i in (0..w.policy.rules.len()).rev() {
            if w.policy.rules.len() > 1 {
                let mut v = w.clone();
                v.policy.rules.remove(i);
                if fails(&v) {
                    w = v;
                    changed = true;
                }
            }
        }
        for i in (0..w.manual.len()).rev() {
            let mut v = w.clone();
            v.manual.remove(i);
            if fails(&v) {
                w = v;
                changed = true;
            }
        }
        if !w.outage.is_empty() {
            let mut v = w.clone();
            v.outage.clear();
            if fails(&v) {
                w = v;
                changed = true;
            }
        }
        if w.policy.calendar != BusinessCalendar::default() {
            let mut v = w.clone();
            v.policy.calendar = BusinessCalendar::default();
            if fails(&v) {
                w = v;
                changed = true;
            }
        }
        if !changed {
            return w;
        }
    }
}

fn trace(w: &World, key: &str) {
    let planner = Planner::new(&w.policy).unwrap();
    let mut history: Vec<HistoryEntry> = Vec::new();
    let mut manual = w.manual.clone();
    manual.sort_by_key(|m| m.2);
    let mut mi = 0;
    for now in ticks(w) {
        while mi < manual.len() && manual[mi].2 <= now {
            let (c, i, at) = &manual[mi];
            history.push(HistoryEntry::manual(c.parse().unwrap(), i.parse().unwrap(), *at));
            mi += 1;
        }
        let plan = planner
            .plan(&w.clients, &w.items, &history, now, Horizon::days(8))
            .unwrap();
        let mut said = Vec::new();
        for e in plan.due() {
            said.push(format!(
                "DUE {} {:?}",
                e.key,
                e.items
                    .iter()
                    .map(|i| format!("{}#{}", i.item, i.occurrence))
                    .collect::<Vec<_>>()
            ));
        }
        for e in plan.upcoming().iter().filter(|e| {
            e.key.as_str().contains(key)
                || e.items
                    .iter()
                    .any(|i| key.contains(&format!("/{}/{}", i.item, i.occurrence)))
        }) {
            said.push(format!(
                "upcoming {} at {} {:?}",
                e.key,
                e.send_at,
                e.items
                    .iter()
                    .map(|i| format!("{}#{}", i.item, i.occurrence))
                    .collect::<Vec<_>>()
            ));
        }
        for s in plan.suppressed().iter().filter(|s| s.key.as_str() == key) {
            said.push(format!("{} {:?}", s.on, s.reason));
        }
        eprintln!("{now} (local {}): {}", w.zone.local_date(now), said.join("; "));
        for e in plan.due() {
            history.push(e.to_history(now));
        }
    }
}

fn shrink_and_show(seed: u64, k: &Knobs, class: &str, key: &str) {
    let w = gen_world(seed, k);
    let fc = w.manual.is_empty() && w.outage.is_empty() && w.mode == 0;
    let m = minimize(w, class, fc);
    eprintln!("{}", describe(&m));
    for f in run(&m, fc).failures {
        eprintln!("{f}");
    }
    trace(&m, key);
}

#[test]
#[ignore = "tool: SEED=.. CLASS=.. KEY=.. shrinks a sweep's failing world"]
fn shrink() {
    let seed: u64 = std::env::var("SEED").unwrap().parse().unwrap();
    let class = std::env::var("CLASS").unwrap();
    let key = std::env::var("KEY").unwrap_or_default();
    let k = if (20000..30000).contains(&seed) {
        Knobs {
            manual: false,
            outage: false,
            pauses: true,
            hourly: false,
            fresh: true,
        }
    } else if seed >= 60000 {
        Knobs {
            manual: true,
            outage: true,
            pauses: true,
            hourly: true,
            fresh: true,
        }
    } else if seed < 10000 {
        Knobs {
            manual: false,
            outage: false,
            pauses: false,
            hourly: false,
            fresh: false,
        }
    } else if seed < 50000 {
        Knobs {
            manual: false,
            outage: false,
            pauses: true,
            hourly: false,
            fresh: false,
        }
    } else {
        Knobs {
            manual: true,
            outage: true,
            pauses: true,
            hourly: true,
            fresh: false,
        }
    };
    shrink_and_show(seed, &k, &class, &key);
}

/// Ticks at local 00:00 and the send time of each day from `from` for `days` days; returns,
/// per tick, (now, due keys, upcoming (key, send_at), suppressed (key, on, reason)).
#[allow(clippy::type_complexity)]
fn host(
    policy: &Policy,
    clients: &[Client],
    items: &[Item],
    zone: &str,
    from: NaiveDate,
    days: i64,
) -> Vec<(
    DateTime<Utc>,
    Vec<String>,
    Vec<(String, DateTime<Utc>)>,
    Vec<(String, NaiveDate, SuppressReason)>,
)> {
    host_with_outage(policy, clients, items, zone, from, days, &[])
}

#[allow(clippy::type_complexity)]
fn host_with_outage(
    policy: &Policy,
    clients: &[Client],
    items: &[Item],
    zone: &str,
    from: NaiveDate,
    days: i64,
    outage: &[NaiveDate],
) -> Vec<(
    DateTime<Utc>,
    Vec<String>,
    Vec<(String, DateTime<Utc>)>,
    Vec<(String, NaiveDate, SuppressReason)>,
)> {
    let planner = Planner::new(policy).unwrap();
    let zone = tz(zone);
    let mut history = Vec::new();
    let mut out = Vec::new();
    let mut ticks = BTreeSet::new();
    for i in 0..days {
        let day = from + Duration::days(i);
        if outage.contains(&day) {
            continue;
        }
        ticks.insert(local_instant(zone, day, t(0, 0)));
        ticks.insert(local_instant(zone, day, policy.send_time));
    }
    for now in ticks {
        let plan = planner
            .plan(clients, items, &history, now, Horizon::days(10))
            .unwrap();
        let due = plan.due().iter().map(|e| e.key.to_string()).collect();
        let up = plan
            .upcoming()
            .iter()
            .map(|e| (e.key.to_string(), e.send_at))
            .collect();
        let sup = plan
            .suppressed()
            .iter()
            .map(|s| (s.key.to_string(), s.on, s.reason.clone()))
            .collect();
        for e in plan.due() {
            history.push(e.to_history(now));
        }
        out.push((now, due, up, sup));
    }
    out
}

/// Finding A (change 2): a "due soon" the gap holds past the due date, with an expiry that
/// reaches the due date, is said too late while waiting, then, once the day's other message
/// went, said `Expired` about its own day: the plans change their word about a reminder
/// already dropped, and the word is the one the change says it must not be. Fixed: a "due
/// soon" whose due date comes before its expiry's last day was too late first, and is said
/// so, on the day a send about the item found it too late (here the grouped notice of 09-11).
#[test]
fn finding_due_soon_held_by_gap_said_expired_after_too_late() {
    let policy = Policy::new(tz("UTC"))
        .with_send_time(t(9, 0))
        .with_min_gap(2)
        .with_rule(rule("soon", Anchor::Due, -1).repeat(1, 4).expires_after(3))
        .with_rule(rule("ondue", Anchor::Due, 0).grouped());
    let clients = [client("c0", "UTC")];
    let items = [
        invoice("F-1", "c0", d(2026, 8, 1), d(2026, 9, 10), money("100", "USD")),
        invoice("F-3", "c0", d(2026, 8, 1), d(2026, 9, 10), money("100", "USD")),
    ];
    let run = host(&policy, &clients, &items, "UTC", d(2026, 9, 1), 20);
    let mut words = Vec::new();
    for (now, due, _, sup) in &run {
        for (k, on, r) in sup.iter().filter(|s| s.0 == "soon/F-3/1") {
            words.push(format!("{now}: {k} {on} {r:?}"));
        }
        if !due.is_empty() {
            words.push(format!("{now}: sent {due:?}"));
        }
    }
    let text = words.join("\n");
    // Its own day (2026-09-09) plus 3 days reaches past the due date (2026-09-10): still
    // waiting on the due date, it was too late then, not expired.
    let expired: Vec<&String> = words
        .iter()
        .filter(|w| w.contains("soon/F-3/1") && w.contains("Expired"))
        .collect();
    assert!(expired.is_empty(), "{text}");
}

/// Finding "REWORD" (fixed): a repeat dropped for good as expired on its day (the gap held it
/// past its one day of grace) was said again, from the eve of a client hold without end, as
/// held for good by that hold: the gap, after the client's later messages, now took it to a
/// day the hold covers, and the hold was said before the expiry was looked at. A drop for good
/// keeps its word: it expired before the hold began.
#[test]
fn an_expired_repeat_stays_expired_when_a_hold_without_end_begins_later() {
    let policy = Policy::new(tz("Pacific/Auckland"))
        .with_send_time(t(0, 0))
        .with_min_gap(2)
        .with_rule(rule("ondue", Anchor::Due, 0).expires_after(3))
        .with_rule(rule("daily", Anchor::Due, 2).repeat(1, 7).expires_after(1))
        .with_rule(rule("weekly", Anchor::Due, 7).repeat(7, 3).grouped());
    let clients = [client("c0", "Pacific/Auckland")
        .with_pause(Pause::new(PauseKind::Hold, "hold").starting(d(2026, 4, 11)))];
    let items = [
        invoice("F-00", "c0", d(2026, 3, 1), d(2026, 3, 31), money("100", "USD")),
        invoice("F-01", "c0", d(2026, 3, 1), d(2026, 4, 1), money("100", "USD")),
        invoice("F-02", "c0", d(2026, 3, 1), d(2026, 3, 31), money("100", "USD")),
    ];
    let run = host(&policy, &clients, &items, "Pacific/Auckland", d(2026, 3, 30), 24);
    let z = tz("Pacific/Auckland");
    // The first word said of a key once its drop is for good (an expiry whose last day is
    // gone), and every word said of it later.
    let mut final_word: BTreeMap<String, String> = BTreeMap::new();
    let mut reworded = Vec::new();
    for (now, _, _, sup) in &run {
        let today = z.local_date(*now);
        for (key, on, reason) in sup {
            let said = format!("{on} {reason:?}");
            if let Some(first) = final_word.get(key) {
                if *first != said {
                    reworded.push(format!("{now}: {key} said {first}, now {said}"));
                }
            } else if let SuppressReason::Expired { days } = reason {
                if *on + Duration::days(i64::from(*days)) < today {
                    final_word.insert(key.clone(), said);
                }
            }
        }
    }
    assert!(final_word.contains_key("daily/F-00/1"), "{final_word:?}");
    assert!(reworded.is_empty(), "{}", reworded.join("\n"));
}

fn forecast_breaks(
    policy: &Policy,
    clients: &[Client],
    items: &[Item],
    zone: &str,
    from: NaiveDate,
    days: i64,
) -> Vec<String> {
    forecast_breaks_with_outage(policy, clients, items, zone, from, days, &[])
}

fn forecast_breaks_with_outage(
    policy: &Policy,
    clients: &[Client],
    items: &[Item],
    zone: &str,
    from: NaiveDate,
    days: i64,
    outage: &[NaiveDate],
) -> Vec<String> {
    let run = host_with_outage(policy, clients, items, zone, from, days, outage);
    let mut bad = Vec::new();
    let z = tz(zone);
    for (i, (at, _, up, _)) in run.iter().enumerate() {
        // Forecasts assume every tick happens: only those made after the outage count.
        if outage.iter().any(|o| z.local_date(*at) <= *o) {
            continue;
        }
        for (key, send_at) in up {
            if let Some((t2, due, _, sup)) = run[i + 1..].iter().find(|r| r.0 >= *send_at) {
                if !due.contains(key) {
                    let said: Vec<_> = sup
                        .iter()
                        .filter(|s| &s.0 == key)
                        .map(|s| format!("{} {:?}", s.1, s.2))
                        .collect();
                    bad.push(format!("plan at {at} forecast {key} at {send_at}; tick {t2} sent {due:?}; said of it {said:?}"));
                }
            }
        }
    }
    bad
}

/// Finding B (gap order vs forecast): two invoices held back, one by its own promise since
/// its due date, then both by a client hold; the gap lets one go a day. Every plan from the
/// start of the hold forecasts the promised invoice first, the other the day after; at the
/// end of the hold the other goes first. Fixed: the tick of 04-01 ordered the caught-up
/// F-3 by the instant it was meant for (03-24 00:00), before F-0 due at 04-01 00:00, where
/// the forecasts had both at 04-01 00:00. An instant meant for an earlier day now counts as
/// the day's first in the gap's turns.
#[test]
fn a_catch_up_takes_the_gaps_turn_as_forecast_after_a_pause() {
    let policy = Policy::new(tz("UTC"))
        .with_send_time(t(0, 0))
        .with_min_gap(1)
        .with_rule(rule("ondue", Anchor::Due, 0));
    let clients = [client("c0", "UTC").with_pause(
        Pause::new(PauseKind::Hold, "hold")
            .starting(d(2026, 3, 26))
            .until(d(2026, 3, 31)),
    )];
    let items = [
        invoice("F-0", "c0", d(2026, 2, 1), d(2026, 3, 24), money("100", "USD")).with_pause(
            Pause::new(PauseKind::Promise, "promise")
                .starting(d(2026, 3, 21))
                .until(d(2026, 3, 27)),
        ),
        invoice("F-3", "c0", d(2026, 2, 1), d(2026, 3, 24), money("100", "USD")),
    ];
    // The same with a host ticking from 2026-03-20, down on 03-24 and 03-25 (the due date
    // and the day after): every forecast from 03-26 on is wrong the same way.
    let bad = forecast_breaks_with_outage(
        &policy,
        &clients,
        &items,
        "UTC",
        d(2026, 3, 20),
        16,
        &[d(2026, 3, 24), d(2026, 3, 25)],
    );
    assert!(bad.is_empty(), "with an outage: {}", bad.join("\n"));
    let from: u32 = std::env::var("FROM")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(26);
    let bad = forecast_breaks(
        &policy,
        &clients,
        &items,
        "UTC",
        d(2026, 3, from),
        10 + 26 - i64::from(from),
    );
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn explore_fresh_worlds() {
    let k = Knobs {
        manual: false,
        outage: false,
        pauses: true,
        hourly: false,
        fresh: true,
    };
    let found = sweep(20000..20000 + worlds(4000), &k, true, "fresh");
    report(&found);
    assert!(found.is_empty());
}

#[test]
fn explore_fresh_messy_worlds() {
    let k = Knobs {
        manual: true,
        outage: true,
        pauses: true,
        hourly: true,
        fresh: true,
    };
    let found = sweep(60000..60000 + worlds(4000), &k, true, "freshmessy");
    report(&found);
    assert!(found.is_empty());
}

/// Finding C (change 2, one rule, no pause, no weekend): a "due soon" the gap holds onto the
/// due date is said too late on the due date by every plan up to a later message to the
/// client; that message's plan on said it expired on its own day, then nothing, then, a few
/// days on, too late as of a later day that moved. Since the fix of finding A it was said too
/// late throughout (no `Expired`, no silence), but on 04-04, then 04-11 (the day the gap
/// would let it go once F-12's reminder of 04-08 is in history: no send about F-11 found it
/// too late), then as of each day. Wanted: a "due soon" held past its due date by the gap or
/// a pause is said too late on the first day it was (its due date, or its own day if later),
/// whatever the client is sent meanwhile, as long as that day is within the plan's lookback
/// (7 days); older, it is said as of the plan's day, as a "due soon" missed longer ago than
/// the lookback is (README). The planner and the reference planner both say so on every
/// path (held, caught up, held by a lasting stop, held by the gap after a manual send).
#[test]
fn a_due_soon_held_past_its_due_date_is_said_too_late_on_one_day() {
    let policy = Policy::new(tz("UTC"))
        .with_send_time(t(9, 0))
        .with_min_gap(3)
        .with_rule(rule("soon", Anchor::Due, -2).expires_after(2));
    let clients = [client("c1", "UTC")];
    let items = [
        invoice("F-10", "c1", d(2026, 3, 1), d(2026, 4, 3), money("100", "USD")),
        invoice("F-11", "c1", d(2026, 3, 1), d(2026, 4, 4), money("100", "USD")),
        invoice("F-12", "c1", d(2026, 3, 1), d(2026, 4, 10), money("100", "USD")),
    ];
    let run = host(&policy, &clients, &items, "UTC", d(2026, 3, 27), 25);
    let first = d(2026, 4, 4);
    let mut bad = Vec::new();
    let mut log = Vec::new();
    let mut said = 0;
    for (now, due, _, sup) in &run {
        let today = now.date_naive();
        let expected = if today - first <= Duration::days(7) {
            first
        } else {
            today
        };
        let words: Vec<_> = sup.iter().filter(|s| s.0 == "soon/F-11/1").collect();
        said += words.len();
        for (_, on, r) in &words {
            log.push(format!("{now}: {on} {r:?}"));
            let too_late = matches!(r, SuppressReason::DueSoonAfterDue { due } if *due == first);
            if *on != expected || !too_late {
                bad.push(format!("{now}: {on} {r:?} (expected {expected})"));
            }
        }
        if words.len() != 1 {
            bad.push(format!("{now}: said {} times", words.len()));
        }
        if !due.is_empty() {
            log.push(format!("{now}: sent {due:?}"));
        }
    }
    assert!(said > 0);
    assert!(bad.is_empty(), "{}\n--\n{}", bad.join("\n"), log.join("\n"));
}

fn daily_world(seed: u64) -> World {
    let mut r = Rng(seed);
    let (zname, (y, m, dd)) = ZONES[r.below(ZONES.len() as u64) as usize];
    let zone = tz(zname);
    let start = d(y, m, dd) - Duration::days(r.range(3, 10));
    let send_time = [t(0, 0), t(9, 0), t(23, 30)][r.below(3) as usize];
    let mut policy = Policy::new(zone).with_send_time(send_time);
    if r.chance(50) {
        policy = policy.with_calendar(BusinessCalendar::new(
            [Weekday::Sat, Weekday::Sun],
            [start + Duration::days(r.range(0, 20))],
        ));
    }
    let gap = r.range(1, 3) as u32;
    let use_override = r.chance(40);
    if !use_override {
        policy = policy.with_min_gap(gap);
    }
    let mut rules = BTreeMap::new();
    if r.chance(40) {
        let e = r.chance(50).then(|| r.range(0, 3) as u32);
        let mut rl = rule("soon", Anchor::Due, -(r.range(1, 2) as i32));
        if let Some(e) = e {
            rl = rl.expires_after(e);
        }
        rules.insert("soon".to_string(), (rl.offset_days, 0, e));
        policy = policy.with_rule(rl);
    }
    let mut rl = rule("daily", Anchor::Due, r.range(0, 2) as i32).repeat(1, 30);
    let e = r.chance(70).then(|| r.range(0, 5) as u32);
    if let Some(e) = e {
        rl = rl.expires_after(e);
    }
    if r.chance(25) {
        rl = rl.grouped();
    }
    rules.insert("daily".to_string(), (rl.offset_days, 1, e));
    policy = policy.with_rule(rl);
    let mut cl = client("c0", zname);
    if use_override {
        cl = cl.with_overrides(ClientOverrides::default().min_gap(gap));
    }
    let n = r.range(2, 4);
    let base = start + Duration::days(r.range(2, 6));
    let items = (0..n)
        .map(|i| {
            let due = base + Duration::days(r.range(0, 2));
            let cur = if r.chance(80) { "USD" } else { "EUR" };
            invoice(
                &format!("F-{i}"),
                "c0",
                due - Duration::days(30),
                due,
                money("100", cur),
            )
        })
        .collect();
    World {
        policy,
        clients: vec![cl],
        items,
        zone,
        send_time,
        start,
        days: 36,
        manual: vec![],
        outage: BTreeSet::new(),
        mode: 0,
        rules,
    }
}

/// Behaviour 1: with daily repeats under a gap (with and without expiries, grouped or not),
/// every invoice gets reminders, in turns; and all the other promises hold.
#[test]
fn daily_repeats_under_gap_take_turns() {
    let mut bad = Vec::new();
    for seed in 0..worlds(10000) {
        let w = daily_world(seed);
        let o = run(&w, true);
        let mut per_item: BTreeMap<String, usize> = w.items.iter().map(|i| (i.id.to_string(), 0)).collect();
        for (_, key, claims) in o.sends.iter().filter(|s| s.1.starts_with("daily/")) {
            let _ = key;
            for c in claims {
                *per_item.get_mut(c.split('#').next().unwrap()).unwrap() += 1;
            }
        }
        let min = *per_item.values().min().unwrap();
        let max = *per_item.values().max().unwrap();
        let unfair = min == 0 || max > min + 2;
        let real = &o.failures;
        if unfair || !real.is_empty() {
            bad.push(format!(
                "seed {seed}: per item {per_item:?}\n{}{}\n{:?}",
                describe(&w),
                real.join("\n"),
                o.sends
            ));
        }
    }
    eprintln!("{} bad", bad.len());
    for b in bad.iter().take(3) {
        eprintln!("{b}\n----");
    }
    assert!(bad.is_empty());
}

/// Behaviour 3: under the gap, B (held by the gap since its day) waited longer than A (a
/// pause held it to the start of the next day), so the day's one message is B's grouped
/// notice at 09:00; A, due at 00:00 that day, waits for it and goes in it. The forecasts say
/// so, in zones on both sides of UTC.
#[test]
fn grouped_notice_takes_the_paused_reminder_of_its_day() {
    for zone in ["UTC", "Europe/Madrid", "America/Santiago", "Pacific/Auckland"] {
        let policy = Policy::new(tz(zone))
            .with_send_time(t(9, 0))
            .with_min_gap(3)
            .with_rule(rule("ondue", Anchor::Due, 0).grouped());
        let clients = [client("c0", zone)];
        let items = [
            invoice("X", "c0", d(2026, 3, 1), d(2026, 4, 3), money("100", "USD")),
            invoice("B", "c0", d(2026, 3, 1), d(2026, 4, 4), money("100", "USD")),
            invoice("A", "c0", d(2026, 3, 1), d(2026, 4, 5), money("100", "USD")).with_pause(
                Pause::new(PauseKind::Promise, "p")
                    .starting(d(2026, 4, 5))
                    .until(d(2026, 4, 5)),
            ),
        ];
        let run = host(&policy, &clients, &items, zone, d(2026, 4, 1), 12);
        let sent: Vec<(DateTime<Utc>, Vec<String>)> = run
            .iter()
            .filter(|r| !r.1.is_empty())
            .map(|r| (r.0, r.1.clone()))
            .collect();
        assert_eq!(sent.len(), 2, "{zone}: {sent:?}");
        assert_eq!(
            sent[1].0,
            local_instant(tz(zone), d(2026, 4, 6), t(9, 0)),
            "{zone}: {sent:?}"
        );
        let bad = forecast_breaks(&policy, &clients, &items, zone, d(2026, 4, 1), 12);
        assert!(bad.is_empty(), "{zone}: {}", bad.join("\n"));
        let planner = Planner::new(&policy).unwrap();
        let history = [HistoryEntry {
            key: EventKey::from(sent[0].1[0].clone()),
            rule: Some("ondue".parse().unwrap()),
            client: "c0".parse().unwrap(),
            items: vec![HistoryItem {
                item: "X".parse().unwrap(),
                occurrence: 1,
            }],
            sent_at: sent[0].0,
            outcome: HistoryOutcome::Sent,
        }];
        let plan = planner
            .plan(&clients, &items, &history, sent[1].0, Horizon::NONE)
            .unwrap();
        let covered: BTreeSet<String> = plan
            .due()
            .iter()
            .flat_map(|e| e.items.iter().map(|i| i.item.to_string()))
            .collect();
        assert_eq!(
            covered,
            BTreeSet::from(["A".to_string(), "B".to_string()]),
            "{zone}"
        );
    }
}

/// Finding D (grouped notice under the gap, forecast): every plan from 2026-09-02 to the
/// start of 2026-09-10 forecasts the grouped notice of 09-10 09:00 with F-00#2 and F-02#1;
/// the tick at 09:00 sends one with F-01#1 as well (another key), and the forecasts of the
/// next notices then go wrong too. Fixed: as planned before 09:00, F-01's "soon" held by
/// its promise to the start of 09-10 won the item's day over its "daily" of 09:00 (the stage
/// whose turn had come), then waited for the gap; at 09:00 both had had their turn and the
/// later stage, "daily", won and went in the notice. Now, when the day's message is a grouped
/// notice at a send instant still to come, an item's later stage of its rule whose turn
/// comes by then wins as of then and goes in it.
#[test]
fn a_later_stage_whose_turn_comes_by_the_notice_goes_in_it_as_forecast() {
    let zone = std::env::var("ZONE").unwrap_or_else(|_| "UTC".into());
    let policy = Policy::new(tz(&zone))
        .with_send_time(t(9, 0))
        .with_min_gap(3)
        .with_calendar(BusinessCalendar::new(
            [Weekday::Sat, Weekday::Sun],
            [d(2026, 9, 2)],
        ))
        .with_rule(rule("soon", Anchor::Due, -1).repeat(1, 4))
        .with_rule(rule("daily", Anchor::Due, 2).repeat(1, 7).grouped());
    let clients = [client("c0", &zone)];
    let items = [
        invoice("F-00", "c0", d(2026, 8, 1), d(2026, 8, 31), money("100", "USD")).with_pause(
            Pause::new(PauseKind::Promise, "p")
                .starting(d(2026, 9, 1))
                .until(d(2026, 9, 4)),
        ),
        invoice("F-01", "c0", d(2026, 8, 1), d(2026, 9, 8), money("100", "USD")).with_pause(
            Pause::new(PauseKind::Promise, "p")
                .starting(d(2026, 9, 7))
                .until(d(2026, 9, 9)),
        ),
        invoice("F-02", "c0", d(2026, 8, 1), d(2026, 9, 4), money("100", "USD")),
    ];
    let bad = forecast_breaks(&policy, &clients, &items, &zone, d(2026, 8, 25), 30);
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

/// Findings A and C at scale: how many random worlds show a "due soon" held past the due date
/// said `Expired`, or a dropped reminder's word changing, and the forecasts that break in
/// worlds with pauses (B, D).
#[test]
#[ignore = "finding: sweep counting the worlds of findings A-D (see the CLASS lines)"]
fn finding_sweep_counts() {
    let k = Knobs {
        manual: false,
        outage: false,
        pauses: true,
        hourly: false,
        fresh: true,
    };
    let found = sweep(20000..24000, &k, true, "fresh");
    report(&found);
    assert!(found.is_empty());
}

/// Behaviour 1 with manual sends at odd instants, item promises (with an end) and outages:
/// nothing twice, nothing after its drop, the gap kept, and no invoice starved.
#[test]
fn daily_repeats_under_gap_with_manual_sends_and_pauses() {
    let mut bad = Vec::new();
    for seed in 0..worlds(4000) {
        let mut w = daily_world(seed ^ 0xABCD_0000);
        let mut r = Rng(seed.wrapping_mul(7919));
        for i in 0..w.items.len() {
            if r.chance(30) {
                let due = w.items[i].due_on.unwrap();
                let from = due + Duration::days(r.range(-2, 6));
                let p = Pause::new(PauseKind::Promise, "p")
                    .starting(from)
                    .until(from + Duration::days(r.range(0, 5)));
                w.items[i] = w.items[i].clone().with_pause(p);
            }
            if r.chance(30) {
                let day = w.start + Duration::days(r.range(0, 25));
                let at = local_instant(w.zone, day, t(r.range(0, 23) as u32, r.range(0, 59) as u32))
                    + Duration::seconds(7);
                w.manual.push(("c0".into(), w.items[i].id.to_string(), at));
            }
        }
        if r.chance(30) {
            let s = w.start + Duration::days(r.range(3, 20));
            for j in 0..r.range(1, 3) {
                w.outage.insert(s + Duration::days(j));
            }
        }
        let o = run(&w, false);
        let mut per_item: BTreeMap<String, usize> = w.items.iter().map(|i| (i.id.to_string(), 0)).collect();
        for (_, _, claims) in o.sends.iter().filter(|s| s.1.starts_with("daily/")) {
            for c in claims {
                *per_item.get_mut(c.split('#').next().unwrap()).unwrap() += 1;
            }
        }
        let starved = per_item.values().any(|&n| n == 0);
        let real = &o.failures;
        if starved || !real.is_empty() {
            bad.push(format!(
                "seed {seed}: per item {per_item:?}\n{}{}\n{:?}",
                describe(&w),
                real.join("\n"),
                o.sends
            ));
        }
    }
    eprintln!("{} bad", bad.len());
    for b in bad.iter().take(3) {
        eprintln!("{b}\n----");
    }
    assert!(bad.is_empty());
}

/// Hosts ticking every hour (send times on the hour, zones on whole hours): forecasts go as
/// forecast, and the other promises hold.
#[test]
fn explore_hourly_forecasts() {
    let mut found = Vec::new();
    let k = Knobs {
        manual: false,
        outage: false,
        pauses: std::env::var("HOURLY_PAUSES").is_ok(),
        hourly: false,
        fresh: true,
    };
    for seed in 70000..70000 + worlds(1500) {
        let mut w = gen_world(seed, &k);
        if w.send_time.format("%M").to_string() != "00" {
            continue;
        }
        w.mode = 1;
        let o = run(&w, true);
        let left: Vec<&String> = o.failures.iter().collect();
        if !left.is_empty() {
            found.push((
                seed,
                format!(
                    "hourly seed {seed}\n{}{}",
                    describe(&w),
                    left.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("\n")
                ),
            ));
        }
    }
    report(&found);
    assert!(found.is_empty());
}

/// Behaviour 3 at scale: every rule grouped, send time 09:00, pauses ending to start-of-day
/// catch-ups, gaps from the policy and the client: nothing twice (no item occurrence in two
/// notices), the gap kept, nothing after its drop; forecasts checked apart from findings B/D.
#[test]
fn explore_all_grouped_worlds() {
    let mut found = Vec::new();
    let k = Knobs {
        manual: false,
        outage: false,
        pauses: true,
        hourly: false,
        fresh: std::env::var("NOT_FRESH").is_err(),
    };
    for seed in 80000..80000 + worlds(6000) {
        let mut w = gen_world(seed, &k);
        for r in &mut w.policy.rules {
            r.group = true;
        }
        w.policy.send_time = t(9, 0);
        w.send_time = t(9, 0);
        let o = run(&w, true);
        let left: Vec<&String> = o.failures.iter().collect();
        if !left.is_empty() {
            found.push((
                seed,
                format!(
                    "grouped seed {seed}\n{}{}",
                    describe(&w),
                    left.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("\n")
                ),
            ));
        }
    }
    report(&found);
    assert!(found.is_empty());
}

#[test]
#[ignore = "tool: SEED=.. CLASS=.. KEY=.. shrinks an all-grouped world"]
fn shrink_grouped() {
    let seed: u64 = std::env::var("SEED").unwrap().parse().unwrap();
    let class = std::env::var("CLASS").unwrap();
    let key = std::env::var("KEY").unwrap_or_default();
    let k = Knobs {
        manual: false,
        outage: false,
        pauses: true,
        hourly: false,
        fresh: true,
    };
    let mut w = gen_world(seed, &k);
    for r in &mut w.policy.rules {
        r.group = true;
    }
    w.policy.send_time = t(9, 0);
    w.send_time = t(9, 0);
    let m = minimize(w, &class, true);
    eprintln!("{}", describe(&m));
    for f in run(&m, true).failures {
        eprintln!("{f}");
    }
    trace(&m, &key);
}

/// Finding E (grouped "due soon" rule repeating past the due date), fixed: the notice of
/// 2026-03-31 covers F-01, due that day (its occurrence 4), and the one of 04-01 covers F-01
/// overdue. Each was staged `DueSoon` from its first item, F-00: a "due soon" message about
/// an invoice on and after its due date. A notice is now of its most advanced item's stage
/// (ungrouped, the same occurrences are `DueToday` and `Overdue` events), and its sentence
/// names that item.
#[test]
fn a_grouped_notice_is_of_its_most_advanced_items_stage() {
    let policy = Policy::new(tz("UTC"))
        .with_send_time(t(9, 0))
        .with_rule(rule("soon", Anchor::Due, -3).repeat(1, 5).grouped());
    let clients = [client("c0", "UTC")];
    let items = [
        invoice("F-00", "c0", d(2026, 3, 1), d(2026, 4, 3), money("100", "USD")),
        invoice("F-01", "c0", d(2026, 3, 1), d(2026, 3, 31), money("100", "USD")),
    ];
    let planner = Planner::new(&policy).unwrap();
    let plan = planner
        .plan(&clients, &items, &[], utc(2026, 3, 25, 0, 0), Horizon::days(14))
        .unwrap();
    let mut bad = Vec::new();
    for e in plan.events().filter(|e| e.stage == Stage::DueSoon) {
        for i in &e.items {
            if i.due_on.is_some_and(|due| e.send_on >= due) {
                bad.push(format!(
                    "{} on {} ({:?}) covers {}#{} due {:?}",
                    e.key, e.send_on, e.stage, i.item, i.occurrence, i.due_on
                ));
            }
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
    // The notice is of its most advanced item's stage, and its sentence names that item.
    let stages: Vec<(NaiveDate, Stage, String)> = plan
        .events()
        .filter(|e| e.items.len() > 1)
        .map(|e| (e.send_on, e.stage, e.explain()))
        .collect();
    let on = |day: NaiveDate| stages.iter().find(|s| s.0 == day).cloned();
    let (_, stage, text) = on(d(2026, 3, 31)).expect("a notice on 03-31");
    assert_eq!(stage, Stage::DueToday, "{text}");
    assert!(
        text.contains("F-01 and 1 more item(s) is due on 2026-03-31"),
        "{text}"
    );
    let (_, stage, text) = on(d(2026, 4, 1)).expect("a notice on 04-01");
    assert_eq!(stage, Stage::Overdue, "{text}");
    assert!(
        text.contains("F-01 and 1 more item(s) was due on 2026-03-31 and is unpaid"),
        "{text}"
    );
}

/// Behaviour 2: a "due soon" whose own day is the due date (a manual send two days before
/// the due date spaced it there), held past its expiry by a pause, is said too late, not
/// expired, and does not space the rule's next repeat: that one goes on its own day.
#[test]
fn due_soon_spaced_onto_due_date_and_paused_is_too_late_and_spaces_nothing() {
    for zone in ["UTC", "Europe/Madrid", "America/Santiago", "Pacific/Auckland"] {
        let due = d(2026, 4, 10);
        let policy = Policy::new(tz(zone))
            .with_send_time(t(9, 0))
            .with_rule(rule("soon", Anchor::Due, -3).repeat(2, 3).expires_after(0));
        let planner = Planner::new(&policy).unwrap();
        let clients = [client("c0", zone)];
        let items = [invoice("F", "c0", d(2026, 3, 1), due, money("100", "USD"))
            .with_pause(Pause::new(PauseKind::Promise, "p").starting(due).until(due))];
        let z = tz(zone);
        let mut history = vec![];
        let mut sent = vec![];
        let mut said = BTreeSet::new();
        for i in 0..12 {
            let day = d(2026, 4, 5) + Duration::days(i);
            for now in [local_instant(z, day, t(0, 0)), local_instant(z, day, t(9, 0))] {
                if now == local_instant(z, d(2026, 4, 8), t(9, 0)) {
                    history.push(HistoryEntry::manual(
                        "c0".parse().unwrap(),
                        "F".parse().unwrap(),
                        now - Duration::minutes(1),
                    ));
                }
                let plan = planner
                    .plan(&clients, &items, &history, now, Horizon::days(5))
                    .unwrap();
                for s in plan.suppressed().iter().filter(|s| s.key.as_str() == "soon/F/2") {
                    said.insert(format!("{} {:?}", s.on, s.reason));
                }
                for e in plan.due() {
                    sent.push((z.local_date(now), e.key.to_string()));
                    history.push(e.to_history(now));
                }
            }
        }
        assert!(
            said.iter().all(|w| !w.contains("Expired")),
            "{zone}: {said:?} {sent:?}"
        );
        assert!(
            said.iter().any(|w| w.contains("DueSoonAfterDue")),
            "{zone}: {said:?} {sent:?}"
        );
        assert!(
            sent.contains(&(d(2026, 4, 11), "soon/F/3".to_string())),
            "{zone}: {said:?} {sent:?}"
        );
    }
}

/// A "due soon" whose expiry ran out before its due date expired first, whatever the plan's
/// day: missed on 06-01 (expiry 0 days, due 06-04), it is said expired on 06-01 by the plans
/// of 06-04 to 06-07. Before, the plan of 06-04 (the due date, nothing sent yet) said it too
/// late, those of 06-05 and 06-06 (the gap after the "on due" reminder of 06-04 held it)
/// expired, and that of 06-07 too late again, on 06-06 (on 06-04 with the fix of finding C).
#[test]
fn a_due_soon_that_expired_before_its_due_date_is_said_expired_by_every_plan() {
    let policy = Policy::new(tz("UTC"))
        .with_send_time(t(23, 30))
        .with_min_gap(2)
        .with_rule(rule("soon", Anchor::Due, -3).expires_after(0))
        .with_rule(rule("ondue", Anchor::Due, 0).expires_after(3));
    let planner = Planner::new(&policy).unwrap();
    let clients = [client("c0", "UTC")];
    let items = [invoice(
        "F-00",
        "c0",
        d(2026, 5, 1),
        d(2026, 6, 4),
        money("100", "EUR"),
    )];
    let sent = HistoryEntry {
        key: EventKey::from("ondue/F-00/1".to_string()),
        rule: Some("ondue".parse().unwrap()),
        client: "c0".parse().unwrap(),
        items: vec![HistoryItem {
            item: "F-00".parse().unwrap(),
            occurrence: 1,
        }],
        sent_at: utc(2026, 6, 4, 23, 30),
        outcome: HistoryOutcome::Sent,
    };
    for day in 4..=7 {
        let history = if day > 4 { vec![sent.clone()] } else { vec![] };
        let plan = planner
            .plan(&clients, &items, &history, utc(2026, 6, day, 0, 0), Horizon::NONE)
            .unwrap();
        let said: Vec<_> = plan
            .suppressed()
            .iter()
            .filter(|s| s.key.as_str() == "soon/F-00/1")
            .map(|s| (s.on, s.reason.clone()))
            .collect();
        assert_eq!(
            said,
            [(d(2026, 6, 1), SuppressReason::Expired { days: 0 })],
            "06-{day:02}: {:#?}",
            lines(&plan)
        );
    }
}

/// A missed "due soon" a pause holds from today past its expiry, whose due date comes before
/// that expiry runs out, was too late first, not expired: missed on 08-26 (expiry 4 days, to
/// 08-30; due 08-29), held by a promise from 08-27 to 08-31. Before, the plans of 08-28 said it
/// expired on 08-26; now they say the promise holds it, and from the due date on it is said
/// too late on its due date.
#[test]
fn a_missed_due_soon_a_pause_holds_past_its_due_date_is_too_late_not_expired() {
    let policy = Policy::new(tz("America/Santiago"))
        .with_send_time(t(23, 30))
        .with_rule(rule("soon", Anchor::Due, -3).expires_after(4));
    let planner = Planner::new(&policy).unwrap();
    let clients = [client("c0", "America/Santiago")];
    let items = [
        invoice("F-01", "c0", d(2026, 8, 1), d(2026, 8, 29), money("100", "USD")).with_pause(
            Pause::new(PauseKind::Promise, "promise")
                .starting(d(2026, 8, 27))
                .until(d(2026, 8, 31)),
        ),
    ];
    let mut too_late = 0;
    for now in [
        utc(2026, 8, 28, 4, 0),
        utc(2026, 8, 29, 3, 30),
        utc(2026, 8, 29, 4, 0),
        utc(2026, 9, 1, 4, 0),
    ] {
        let plan = planner.plan(&clients, &items, &[], now, Horizon::NONE).unwrap();
        for s in plan
            .suppressed()
            .iter()
            .filter(|s| s.key.as_str() == "soon/F-01/1")
        {
            // (Held by the promise, before its due date: said so.)
            match s.reason {
                SuppressReason::DueSoonAfterDue { due } if due == d(2026, 8, 29) && s.on == due => {
                    too_late += 1
                }
                SuppressReason::PausedUntil { .. } if s.on < d(2026, 8, 29) => {}
                _ => panic!("{now}: {} {:?}: {:#?}", s.on, s.reason, lines(&plan)),
            }
        }
    }
    assert!(too_late >= 2, "said too late {too_late} times");
}
