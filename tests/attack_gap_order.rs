//! Attack of 4e7b078 and 8eadfbb: the order of the messages the minimum gap holds back (an
//! item's message waited since the earliest of its stages of the day, those it supersedes
//! included: reverted after the finding `a_send_recorded_as_planned_keeps_the_gaps_forecast`)
//! and `expires_after` (a manual send after an occurrence's day does not move the day it
//! expires from; an expiry is final once its day plus `expires_after` is gone).
//!
//! Still open (ignored): under the gap and a pause, a grouped notice goes with other items
//! than forecast (`a_grouped_notice_under_the_gap_goes_as_forecast`; at
//! `GAP_ORDER_WORLDS=3000`, `dense_hosts_under_pauses_keep_the_gap_and_the_expiry` fails on
//! that world, 2026). Fixed: an expiring daily rule under the gap starved an invoice
//! (`an_expiring_rule_under_the_gap_starves_no_invoice`); a "due soon" too late before the
//! gap held it was said expired once it did (`a_due_soon_too_late_stays_too_late_under_the_gap`).
//!
//! Written from README ("Explains itself", "Missed sends", "Pauses", "Minimum gap"),
//! `Rule::expires_after` and `Policy::with_min_gap`, not from the implementation. A host is
//! simulated: `Planner::plan` (or `Planner::schedule(..).to_plan()`) is ticked at many
//! instants, every due event is recorded with `Event::to_history(now)`, manual sends
//! (`HistoryEntry::manual`) are put in history at odd instants, and the promises are
//! checked on what went:
//!
//! - nothing goes twice (a key, or an item occurrence in two messages);
//! - nothing goes after a plan said it dropped for good (superseded by a send already in
//!   history, or expired with its day plus the expiry gone);
//! - for hosts ticking at 00:00 and the send time, with no manual sends and no outage,
//!   every event a plan forecasts (`Plan::upcoming`) goes at the first tick at or after its
//!   `send_at`;
//! - a reminder of a rule expiring after N days never goes more than N days after the day
//!   it was to go;
//! - under a gap of N days, two messages about items to the client go at least N local days
//!   apart;
//! - the gap's order is fair: invoices with daily repeats sharing a client all get
//!   reminders, none waits more than its turn.
//!
//! Worlds: one client in Europe/Madrid, America/Santiago, Pacific/Auckland or UTC (across
//! the 2026 daylight-saving nights), sends at 00:00, 09:00 or 23:30, weekends and
//! holidays, item and client pauses with and without end, "due soon" rules, daily repeats
//! with long counts, grouped rules, later stages, expiries 0..5, the policy's or the
//! client's gap 1..4, manual sends about the same and other items, outages, hosts ticking
//! once a day after the send time. Bigger runs: `GAP_ORDER_WORLDS=3000 GAP_ORDER_SEED=7`.

mod common;
mod ticking;

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc, Weekday};
use common::*;
use dunning::*;
use ticking::{Rng, env_or};

// ---------------------------------------------------------------------------------------
// Worlds.

/// A rule: id, `Due + offset`, every, count, expiry, grouped.
#[derive(Debug, Clone)]
struct R {
    id: &'static str,
    offset: i32,
    every: u32,
    count: u32,
    expiry: Option<u32>,
    grouped: bool,
}

fn r(id: &'static str, offset: i32, every: u32, count: u32) -> R {
    R {
        id,
        offset,
        every,
        count,
        expiry: None,
        grouped: false,
    }
}

/// A pause on item `item` (else the client), from, until (none: without end).
#[derive(Debug, Clone, Copy)]
struct P {
    item: Option<usize>,
    from: NaiveDate,
    until: Option<NaiveDate>,
}

#[derive(Debug, Clone)]
struct W {
    zone: &'static str,
    send_time: (u32, u32),
    rules: Vec<R>,
    weekend: Vec<Weekday>,
    holidays: Vec<NaiveDate>,
    pauses: Vec<P>,
    /// The policy's gap.
    gap: u32,
    /// The client's own gap (an override).
    client_gap: Option<u32>,
    /// Due dates of F-1, F-2, ...
    dues: Vec<NaiveDate>,
    /// Manual sends (item, instant), put in history at the first tick at or after them.
    manual: Vec<(usize, DateTime<Utc>)>,
    /// Local times of each day's ticks.
    times: Vec<(u32, u32)>,
    /// Days without ticks, inclusive.
    outage: Option<(NaiveDate, NaiveDate)>,
    first: NaiveDate,
    days: i64,
    horizon: u32,
    lookback: u32,
    via_schedule: bool,
}

impl W {
    /// UTC, 09:00, no weekend, no gap, ticks at 00:00 and 09:00, horizon 7, lookback 7.
    fn plain(dues: &[NaiveDate], rules: Vec<R>) -> Self {
        W {
            zone: "UTC",
            send_time: (9, 0),
            rules,
            weekend: vec![],
            holidays: vec![],
            pauses: vec![],
            gap: 0,
            client_gap: None,
            dues: dues.to_vec(),
            manual: vec![],
            times: vec![(0, 0), (9, 0)],
            outage: None,
            first: dues[0] - Duration::days(6),
            days: 50,
            horizon: 7,
            lookback: 7,
            via_schedule: false,
        }
    }

    fn gap(&self) -> u32 {
        self.client_gap.unwrap_or(self.gap)
    }

    /// Ticks at 00:00 and the send time every day, nothing else, no outage, no manual send:
    /// the host for which every forecast must come true.
    fn dense(&self) -> bool {
        let mut t = self.times.clone();
        t.sort_unstable();
        t.dedup();
        let mut want = vec![(0, 0), self.send_time];
        want.sort_unstable();
        want.dedup();
        t == want && self.outage.is_none() && self.manual.is_empty()
    }
}

fn hm(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap()
}

fn policy_of(w: &W) -> Policy {
    let mut policy = Policy::new(tz(w.zone))
        .with_calendar(BusinessCalendar::new(
            w.weekend.clone(),
            w.holidays.iter().copied(),
        ))
        .with_send_time(hm(w.send_time.0, w.send_time.1))
        .with_min_gap(w.gap);
    for x in &w.rules {
        let mut rl = rule(x.id, Anchor::Due, x.offset);
        if x.count > 1 {
            rl = rl.repeat(x.every, x.count);
        }
        if let Some(e) = x.expiry {
            rl = rl.expires_after(e);
        }
        if x.grouped {
            rl = rl.grouped();
        }
        policy = policy.with_rule(rl);
    }
    policy
}

fn inputs_of(w: &W) -> (Vec<Client>, Vec<Item>) {
    let pause = |p: &P| {
        let kind = if p.until.is_some() {
            PauseKind::Promise
        } else {
            PauseKind::Dispute
        };
        let mut pause = Pause::new(kind, "held").starting(p.from);
        if let Some(until) = p.until {
            pause = pause.until(until);
        }
        pause
    };
    let mut acme = client("acme", w.zone);
    if let Some(g) = w.client_gap {
        acme = acme.with_overrides(ClientOverrides::default().min_gap(g));
    }
    for p in w.pauses.iter().filter(|p| p.item.is_none()) {
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
            for p in w.pauses.iter().filter(|p| p.item == Some(i)) {
                item = item.with_pause(pause(p));
            }
            item
        })
        .collect();
    (vec![acme], items)
}

fn ticks_of(w: &W) -> Vec<DateTime<Utc>> {
    let zone = tz(w.zone);
    let mut ticks = Vec::new();
    for n in 0..w.days {
        let day = w.first + Duration::days(n);
        if w.outage.is_some_and(|(a, b)| a <= day && day <= b) {
            continue;
        }
        for &(h, m) in &w.times {
            ticks.push(local_instant(zone, day, hm(h, m)));
        }
    }
    ticks.sort();
    ticks.dedup();
    ticks
}

// ---------------------------------------------------------------------------------------
// Running a world.

/// One message that went.
#[derive(Debug, Clone)]
struct Sent {
    key: String,
    rule: String,
    /// The tick that sent it, and its local date.
    at: DateTime<Utc>,
    day: NaiveDate,
    send_on: NaiveDate,
    /// (item, occurrence) it covered.
    items: Vec<(String, u32)>,
    adjustments: Vec<Adjustment>,
}

/// A forecast: the plan's tick, the event's `send_at`.
type Forecast = (DateTime<Utc>, DateTime<Utc>);

#[derive(Default, Debug)]
struct Run {
    sent: Vec<Sent>,
    /// Key → (first plan that said it dropped for good, what it said).
    dropped: BTreeMap<String, (DateTime<Utc>, String)>,
    /// Key → forecasts (plan's tick, send_at).
    forecast: BTreeMap<String, Vec<Forecast>>,
    ticks: Vec<DateTime<Utc>>,
    problems: Vec<String>,
}

fn plan_at(
    planner: &Planner,
    w: &W,
    clients: &[Client],
    items: &[Item],
    history: &[HistoryEntry],
    now: DateTime<Utc>,
) -> Plan {
    let horizon = Horizon::days(w.horizon);
    if w.via_schedule {
        planner
            .schedule(clients, items, history, now, horizon)
            .unwrap()
            .to_plan()
    } else {
        planner.plan(clients, items, history, now, horizon).unwrap()
    }
}

fn run(w: &W) -> Run {
    let planner = Planner::new(&policy_of(w)).unwrap().with_lookback(w.lookback);
    let (clients, items) = inputs_of(w);
    let zone = tz(w.zone);
    let mut history: Vec<HistoryEntry> = Vec::new();
    let mut manual = w.manual.clone();
    manual.sort_by_key(|m| m.1);
    let mut out = Run {
        ticks: ticks_of(w),
        ..Run::default()
    };
    let mut claims: BTreeMap<(String, String, u32), String> = BTreeMap::new();
    let ticks = out.ticks.clone();
    for now in ticks {
        manual.retain(|&(item, at)| {
            if at <= now {
                history.push(HistoryEntry::manual(
                    "acme".parse().unwrap(),
                    format!("F-{}", item + 1).parse().unwrap(),
                    at,
                ));
            }
            at > now
        });
        let plan = plan_at(&planner, w, &clients, &items, &history, now);
        let today = zone.local_date(now);
        for s in plan.suppressed() {
            let settled = match &s.reason {
                SuppressReason::Superseded { by } => out.sent.iter().any(|x| x.key == by.as_str()),
                SuppressReason::Expired { days } => s.on + Duration::days(i64::from(*days)) < today,
                _ => false,
            };
            if settled {
                out.dropped
                    .entry(s.key.to_string())
                    .or_insert((now, format!("{:?} on {}", s.reason, s.on)));
            }
        }
        for e in plan.upcoming() {
            out.forecast
                .entry(e.key.to_string())
                .or_default()
                .push((now, e.send_at));
        }
        for e in plan.due() {
            let key = e.key.to_string();
            if let Some(x) = out.sent.iter().find(|x| x.key == key) {
                out.problems
                    .push(format!("twice: {key} at {} and at {now}", x.at));
            }
            if let Some((at, said)) = out.dropped.get(&key) {
                out.problems.push(format!(
                    "dropped for good: {key} sent at {now}, said {said} by the plan at {at}"
                ));
            }
            let mut its = Vec::new();
            for it in &e.items {
                let claim = (e.rule.to_string(), it.item.to_string(), it.occurrence);
                if let Some(other) = claims.insert(claim.clone(), key.clone()) {
                    out.problems
                        .push(format!("item occurrence {claim:?} in {other} and in {key}"));
                }
                its.push((it.item.to_string(), it.occurrence));
            }
            out.sent.push(Sent {
                key,
                rule: e.rule.to_string(),
                at: now,
                day: today,
                send_on: e.send_on,
                items: its,
                adjustments: e.why.adjustments.clone(),
            });
            history.push(e.to_history(now));
        }
    }
    out
}

/// Every check on a run; `forecasts`: also that every forecast came true (dense hosts).
fn check(w: &W, r: &Run, forecasts: bool) -> Vec<String> {
    let mut bad = r.problems.clone();
    // More than N days late: the day it went against the day it was to go (the earliest
    // day a pause, the gap or a missed send held it from, else its own send_on).
    for s in &r.sent {
        let Some(n) = w.rules.iter().find(|x| x.id == s.rule).and_then(|x| x.expiry) else {
            continue;
        };
        let mut was = s.send_on;
        for a in &s.adjustments {
            match a {
                Adjustment::Paused { from, .. } | Adjustment::Deferred { from, .. } => was = was.min(*from),
                Adjustment::CatchUp { scheduled_on } => was = was.min(*scheduled_on),
                _ => {}
            }
        }
        if (s.day - was).num_days() > i64::from(n) {
            bad.push(format!(
                "late: {} went on {} ({}), its day {was}, expiry {n}: {:?}",
                s.key, s.day, s.at, s.adjustments
            ));
        }
    }
    // The gap, on the local days the messages went.
    let gap = i64::from(w.gap());
    if gap > 0 {
        for pair in r.sent.windows(2) {
            let apart = (pair[1].day - pair[0].day).num_days();
            if apart < gap {
                bad.push(format!(
                    "gap {gap}: {} on {} ({}) and {} on {} ({})",
                    pair[0].key, pair[0].day, pair[0].at, pair[1].key, pair[1].day, pair[1].at
                ));
            }
        }
    }
    if forecasts {
        let last = *r.ticks.last().unwrap();
        for (key, list) in &r.forecast {
            for &(said_at, send_at) in list {
                let Some(&first) = r.ticks.iter().find(|&&t| t >= send_at) else {
                    continue;
                };
                if first > last {
                    continue;
                }
                let went = r.sent.iter().find(|s| &s.key == key).map(|s| s.at);
                if went != Some(first) {
                    bad.push(format!(
                        "forecast: {key} forecast by the plan at {said_at} for {send_at}; went {went:?}"
                    ));
                    break;
                }
            }
        }
    }
    bad
}

// ---------------------------------------------------------------------------------------
// Random worlds.

const ZONES: [&str; 4] = ["Europe/Madrid", "America/Santiago", "Pacific/Auckland", "UTC"];

/// Days near the 2026 daylight-saving nights of the zones above (Madrid 03-29 and 10-25,
/// Santiago and Auckland 04-05, Santiago 09-06, Auckland 09-27), and others.
const BASES: [(i32, u32, u32); 6] = [
    (2026, 3, 20),
    (2026, 3, 30),
    (2026, 8, 30),
    (2026, 9, 20),
    (2026, 10, 18),
    (2026, 6, 10),
];

/// What a random world varies.
#[derive(Debug, Clone, Copy, Default)]
struct Knobs {
    manual: bool,
    late_ticks: bool,
    outage: bool,
    pauses: bool,
}

#[allow(clippy::too_many_lines)]
fn rand_w(rng: &mut Rng, k: Knobs) -> W {
    let (y, m, dd) = rng.pick(&BASES);
    let due = d(y, m, dd) + Duration::days(rng.days(10));
    let n_items = rng.pick(&[2, 2, 3, 3]);
    let mut dues = vec![due];
    for _ in 1..n_items {
        dues.push(due + Duration::days(rng.days(5)));
    }
    let expiry = |rng: &mut Rng| rng.pick(&[None, None, None, Some(0), Some(1), Some(2), Some(3), Some(5)]);
    let mut rules = vec![R {
        expiry: expiry(rng),
        ..r(
            "daily",
            rng.pick(&[0, 0, 1, 2]),
            1,
            u32::try_from(10 + rng.below(30)).unwrap(),
        )
    }];
    if rng.one_in(2) {
        rules.push(R {
            expiry: expiry(rng),
            ..r(
                "later",
                rng.pick(&[3, 5, 8, 12]),
                u32::try_from(1 + rng.below(3)).unwrap(),
                u32::try_from(1 + rng.below(20)).unwrap(),
            )
        });
    }
    if rng.one_in(3) {
        rules.insert(
            0,
            R {
                expiry: rng.pick(&[None, Some(0), Some(1)]),
                ..r("soon", -rng.pick(&[1, 2, 3, 5]), 1, rng.pick(&[1, 2, 3]))
            },
        );
    }
    if rng.one_in(3) {
        rules.push(R {
            grouped: true,
            expiry: expiry(rng),
            ..r(
                "group",
                rng.pick(&[2, 4, 9]),
                rng.pick(&[2, 3, 7]),
                rng.pick(&[1, 2, 4]),
            )
        });
    }
    if rng.one_in(3) {
        rules.push(r("final", rng.pick(&[10, 15, 20]), 1, 1));
    }
    let mut w = W::plain(&dues, rules);
    w.zone = rng.pick(&ZONES);
    w.send_time = rng.pick(&[(0, 0), (9, 0), (9, 0), (23, 30)]);
    w.gap = rng.pick(&[1, 2, 2, 3, 3, 4]);
    if rng.one_in(4) {
        w.client_gap = Some(rng.pick(&[1, 2, 3, 4]));
    }
    w.weekend = rng
        .pick(&[
            &[][..],
            &[Weekday::Sat, Weekday::Sun][..],
            &[Weekday::Sat, Weekday::Sun][..],
            &[Weekday::Fri, Weekday::Sat][..],
        ])
        .to_vec();
    for _ in 0..rng.below(3) {
        w.holidays.push(due + Duration::days(rng.days(30)));
    }
    if k.pauses {
        for _ in 0..rng.pick(&[0, 1, 1, 2]) {
            let from = due + Duration::days(-3 + rng.days(25));
            let until = (!rng.one_in(5)).then(|| from + Duration::days(rng.days(6)));
            let item = (rng.below(3) != 0).then(|| usize::try_from(rng.below(n_items)).unwrap());
            w.pauses.push(P { item, from, until });
        }
    }
    if k.manual {
        for _ in 0..1 + rng.below(3) {
            let day = due + Duration::days(-2 + rng.days(25));
            let (h, mi) = rng.pick(&[(0, 5), (3, 17), (12, 0), (22, 45), (23, 59)]);
            w.manual.push((
                usize::try_from(rng.below(n_items)).unwrap(),
                local_instant(tz(w.zone), day, hm(h, mi)),
            ));
        }
    }
    w.times = vec![(0, 0), w.send_time];
    if k.late_ticks {
        // Once a day, after the send time.
        w.times = vec![if w.send_time == (23, 30) {
            (23, 45)
        } else {
            rng.pick(&[(12, 0), (23, 45), (23, 0)])
        }];
    }
    if k.outage {
        let a = due + Duration::days(rng.days(20));
        w.outage = Some((a, a + Duration::days(1 + rng.days(5))));
    }
    w.horizon = rng.pick(&[0, 1, 3, 7, 14]);
    w.lookback = rng.pick(&[1, 7, 7]);
    w.first = due - Duration::days(7);
    w.days = 45;
    w.via_schedule = rng.one_in(3);
    w
}

/// Runs `n` random worlds of `k` from `seed` (`GAP_ORDER_SEED`, `GAP_ORDER_WORLDS` override
/// them) and returns the disagreeing ones.
fn random_worlds(seed: u64, n: u64, k: Knobs, filter: &dyn Fn(&str) -> bool) -> Vec<String> {
    let mut rng = Rng(env_or("GAP_ORDER_SEED", seed));
    let n = env_or("GAP_ORDER_WORLDS", n);
    let mut bad = Vec::new();
    let mut sent = 0;
    for i in 0..n {
        let w = rand_w(&mut rng, k);
        let r = run(&w);
        sent += r.sent.len();
        let found: Vec<String> = check(&w, &r, w.dense())
            .into_iter()
            .filter(|p| filter(p))
            .collect();
        if !found.is_empty() {
            bad.push(format!(
                "world {i}: {w:?}\n  {}",
                found[..found.len().min(4)].join("\n  ")
            ));
        }
    }
    eprintln!("{k:?}: {n} worlds, {sent} sends, {} disagree", bad.len());
    bad
}

fn report(bad: &[String]) -> String {
    format!("{} disagree:\n{}", bad.len(), bad[..bad.len().min(3)].join("\n"))
}

/// Per item: the local days its messages went.
fn days_by_item(r: &Run) -> BTreeMap<String, Vec<NaiveDate>> {
    let mut by: BTreeMap<String, Vec<NaiveDate>> = BTreeMap::new();
    for s in &r.sent {
        for (item, _) in &s.items {
            by.entry(item.clone()).or_default().push(s.day);
        }
    }
    by
}

// ---------------------------------------------------------------------------------------
// Guards.

/// Dense hosts (00:00 and the send time every day), no pauses: every promise holds,
/// forecasts included. Madrid, Santiago, Auckland and UTC around their daylight-saving
/// nights, sends at 00:00, 09:00 and 23:30, weekends and holidays, 2 or 3 invoices under
/// daily repeats (10..40 times), later stages, "due soon", grouped rules, expiries 0..5,
/// the policy's or the client's gap 1..4.
#[test]
fn dense_hosts_keep_every_promise_under_the_gap() {
    let bad = random_worlds(0x1234_5678_9abc_def1, 800, Knobs::default(), &|_| true);
    assert!(bad.is_empty(), "{}", report(&bad));
}

/// The same with item and client pauses (with and without end): nothing twice, nothing
/// dropped for good goes, nothing past its expiry, the gap kept. (Forecasts are checked
/// too.) With `GAP_ORDER_WORLDS=3000` one forecast does not come true, not fixed yet: world
/// 2026 (`a_grouped_notice_under_the_gap_goes_as_forecast`).
#[test]
fn dense_hosts_under_pauses_keep_the_gap_and_the_expiry() {
    let bad = random_worlds(
        0x2234_5678_9abc_def1,
        800,
        Knobs {
            pauses: true,
            ..Knobs::default()
        },
        &|_| true,
    );
    assert!(bad.is_empty(), "{}", report(&bad));
}

/// Manual sends (`HistoryEntry::manual`) about the same and other items at 00:05, 03:17,
/// 12:00, 22:45 and 23:59 local, under pauses: nothing twice, nothing said dropped for good
/// goes (a manual send after an occurrence's day does not bring it back), nothing goes more
/// than its expiry late, the gap between planned messages kept.
#[test]
fn manual_sends_bring_nothing_back_under_the_gap() {
    let bad = random_worlds(
        0x3234_5678_9abc_def1,
        800,
        Knobs {
            manual: true,
            pauses: true,
            ..Knobs::default()
        },
        &|_| true,
    );
    assert!(bad.is_empty(), "{}", report(&bad));
}

/// Hosts ticking once a day after the send time (12:00, 23:00 or 23:45), under pauses:
/// nothing twice, nothing said dropped for good goes, nothing past its expiry, the gap kept
/// on the days messages went.
#[test]
fn once_a_day_hosts_keep_the_gap_and_the_expiry() {
    let bad = random_worlds(
        0x4234_5678_9abc_def1,
        800,
        Knobs {
            late_ticks: true,
            pauses: true,
            ..Knobs::default()
        },
        &|_| true,
    );
    assert!(bad.is_empty(), "{}", report(&bad));
}

/// Outages of 2 to 6 days, under pauses and manual sends: the same promises.
#[test]
fn outages_keep_the_gap_and_the_expiry() {
    let bad = random_worlds(
        0x5234_5678_9abc_def1,
        800,
        Knobs {
            outage: true,
            pauses: true,
            manual: true,
            ..Knobs::default()
        },
        &|_| true,
    );
    assert!(bad.is_empty(), "{}", report(&bad));
}

/// Invoices F-1.. due on consecutive days from Monday 2026-03-23, one rule: daily from the
/// due date, 60 times (expiring after `expiry` days); gap `gap`; dense ticks for 60 days.
fn fair_world(zone: &'static str, gap: u32, n: usize, expiry: Option<u32>, weekend: bool) -> W {
    let dues: Vec<NaiveDate> = (0..n)
        .map(|i| d(2026, 3, 23) + Duration::days(i64::try_from(i).unwrap()))
        .collect();
    let mut w = W::plain(
        &dues,
        vec![R {
            expiry,
            ..r("daily", 0, 1, 60)
        }],
    );
    w.zone = zone;
    w.gap = gap;
    if weekend {
        w.weekend = vec![Weekday::Sat, Weekday::Sun];
    }
    w.first = d(2026, 3, 20);
    w.days = 60;
    w
}

/// Fairness without expiry: two or three invoices with daily repeats under a gap of 2..4
/// (Madrid, Santiago, Auckland across their spring and autumn nights, weekends or none):
/// each invoice gets its turn within `n * gap` days (plus a weekend), so every invoice gets
/// reminders and none is starved by another's daily repeats; every other promise holds.
#[test]
fn without_expiry_every_invoice_gets_its_turn() {
    for zone in ["Europe/Madrid", "America/Santiago", "Pacific/Auckland"] {
        for gap in 2..=4 {
            for n in 2..=3 {
                for weekend in [false, true] {
                    let w = fair_world(zone, gap, n, None, weekend);
                    let r = run(&w);
                    let bad = check(&w, &r, true);
                    assert!(bad.is_empty(), "{zone} gap {gap} n {n}: {bad:?}");
                    let by = days_by_item(&r);
                    assert_eq!(by.len(), n, "{zone} gap {gap} n {n}: {by:?}");
                    let bound = i64::try_from(n).unwrap() * i64::from(gap) + if weekend { 3 } else { 0 };
                    for (item, days) in &by {
                        let worst = days
                            .windows(2)
                            .map(|p| (p[1] - p[0]).num_days())
                            .max()
                            .unwrap_or(0);
                        assert!(
                            worst <= bound,
                            "{zone} gap {gap} n {n}: {item} waited {worst} days between reminders"
                        );
                    }
                }
            }
        }
    }
}

/// Expiries 0..5 and the limit: `expires_after(MAX_DAYS)` plans; past it (`MAX_DAYS + 1`,
/// `u32::MAX`) `Planner::new` refuses with a typed `OverLimit` naming the field, never a
/// panic or a silent value.
#[test]
fn expiries_past_the_limit_are_a_typed_error() {
    for days in [0, 1, 2, 3, 4, 5, limits::MAX_DAYS] {
        let policy = Policy::new(tz("Europe/Madrid"))
            .with_min_gap(2)
            .with_rule(rule("daily", Anchor::Due, 0).repeat(1, 10).expires_after(days));
        let planner = Planner::new(&policy).unwrap();
        let (clients, items) = inputs_of(&fair_world("Europe/Madrid", 2, 2, None, false));
        let plan = planner
            .plan(&clients, &items, &[], utc(2026, 4, 20, 12, 0), Horizon::days(30))
            .unwrap();
        assert!(plan.due().len() <= 1, "{days}: {:?}", lines(&plan));
    }
    for days in [limits::MAX_DAYS + 1, u32::MAX] {
        let policy = Policy::new(tz("UTC")).with_rule(rule("daily", Anchor::Due, 0).expires_after(days));
        let Err(err) = Planner::new(&policy) else {
            panic!("{days}: over the limit, yet accepted");
        };
        assert!(matches!(err, ValidationError::OverLimit { .. }), "{err:?}");
        assert!(err.to_string().contains("expires_after_days"), "{err}");
    }
}

// ---------------------------------------------------------------------------------------
// Findings.

/// What a plan at `at` forecasts (key, items, send_at) and what the ticks sent from then on.
type Line = (String, Vec<(String, u32)>, DateTime<Utc>);
fn forecast_at(w: &W, at: DateTime<Utc>) -> (Vec<Line>, Vec<Line>) {
    let planner = Planner::new(&policy_of(w)).unwrap().with_lookback(w.lookback);
    let (clients, items) = inputs_of(w);
    let mut history: Vec<HistoryEntry> = Vec::new();
    let (mut forecast, mut sent) = (Vec::new(), Vec::new());
    let line = |e: &Event| {
        let its = e
            .items
            .iter()
            .map(|i| (i.item.to_string(), i.occurrence))
            .collect();
        (e.key.to_string(), its, e.send_at)
    };
    for now in ticks_of(w) {
        let plan = plan_at(&planner, w, &clients, &items, &history, now);
        if now == at {
            forecast = plan.upcoming().iter().map(line).collect();
        }
        for e in plan.due() {
            if now > at && now <= at + Duration::days(i64::from(w.horizon)) {
                sent.push(line(e));
            }
            history.push(e.to_history(now));
        }
    }
    (forecast, sent)
}

/// UTC, every day a working day, sends at 09:00, a gap of 3 days; invoices F-1 due
/// 2026-03-30 and F-2 due 04-01; `soon` at Due-1 (once, expiring after 0 days), `daily`
/// from the due date every day (27 times), `group` at Due+2 every 3 days, twice, grouped
/// (`Rule::grouped`); F-1 paused 04-02..=04-03. Ticks at 00:00 and 09:00, horizon 1.
fn paused_group_world() -> W {
    let mut w = W::plain(
        &[d(2026, 3, 30), d(2026, 4, 1)],
        vec![
            R {
                expiry: Some(0),
                ..r("soon", -1, 1, 1)
            },
            r("daily", 0, 1, 27),
            R {
                grouped: true,
                ..r("group", 2, 3, 2)
            },
        ],
    );
    w.gap = 3;
    w.pauses = vec![P {
        item: Some(0),
        from: d(2026, 4, 2),
        until: Some(d(2026, 4, 3)),
    }];
    w.horizon = 1;
    w.lookback = 1;
    w.first = d(2026, 3, 23);
    w.days = 30;
    w
}

/// Santiago, every day a working day, sends at 09:00, the client's own gap of 4 days (the
/// policy's 1); invoices F-1 due 2026-06-16 and F-2 due 06-17; `daily` from the due date
/// every day (29 times, expiring after 3 days), `later` at Due+5 every day (6 times,
/// expiring after 5), `group` at Due+2 (once, grouped, expiring after 2), `final` at
/// Due+20; F-1 paused from 06-25 without end, F-2 paused on 06-19 alone. Ticks at 00:00
/// and 09:00, horizon 14 (random world 2026 of seed 0x2234_5678_9abc_def1 at 3,000 worlds).
fn grouped_gap_world() -> W {
    let mut w = W::plain(
        &[d(2026, 6, 16), d(2026, 6, 17)],
        vec![
            R {
                expiry: Some(3),
                ..r("daily", 0, 1, 29)
            },
            R {
                expiry: Some(5),
                ..r("later", 5, 1, 6)
            },
            R {
                expiry: Some(2),
                grouped: true,
                ..r("group", 2, 2, 1)
            },
            r("final", 20, 1, 1),
        ],
    );
    w.zone = "America/Santiago";
    w.gap = 1;
    w.client_gap = Some(4);
    w.pauses = vec![
        P {
            item: Some(0),
            from: d(2026, 6, 25),
            until: None,
        },
        P {
            item: Some(1),
            from: d(2026, 6, 19),
            until: Some(d(2026, 6, 19)),
        },
    ];
    w.horizon = 14;
    w.first = d(2026, 6, 9);
    w.days = 45;
    w.via_schedule = true;
    w
}

/// Finding, fixed: under the gap and a pause, a grouped notice went with other items than
/// the forecast said.
///
/// World: `grouped_gap_world`. Every plan from 06-09 to 06-20 00:00 (local) forecasts a
/// grouped notice for F-1's `group` occurrence alone (`group/acme/USD/g8e5071a3906caecf`)
/// at 06-20 09:00, deferred by the gap from 06-18, and says F-2's `group/F-2/1` (its day
/// 06-19, held by F-2's pause of that day) expired on 06-19. Observed: the tick of 06-20
/// 09:00 sends `group/acme/USD/g1c77f0b6e219d51e`, covering F-1/1 and F-2/1, and says F-2's
/// occurrence was paused until 06-19: the plan of 00:00 and that of 09:00 decide F-2's
/// occurrence differently on the same day. (The first world of this finding,
/// `paused_group_world`, goes as forecast at f7c3142 already: see the guard below.)
/// F-2's notice was due at the start of 06-20 (the pause held it), F-1's at 09:00: planned
/// ahead they were two notices, and F-1's, which waited longer, took the gap's one message
/// of the day; at 09:00 both were due, one notice. Now, when the day's message under the
/// gap is a grouped notice at an instant still to come, that day's notices of its rule and
/// currency due sooner go in it (the forecast groups both, as the tick does).
///
/// Promises: `Plan::upcoming` ("assuming nothing changes and every event is sent when
/// planned"); README "Minimum gap" (it "goes at the send time of the first day the gap
/// allows, as forecast"); `Rule::group` (one notice for all items that fire the same day at
/// the same instant: the forecast and the tick must agree on which items fire).
#[test]
fn a_grouped_notice_under_the_gap_goes_as_forecast() {
    let w = grouped_gap_world();
    let (forecast, sent) = forecast_at(&w, utc(2026, 6, 20, 4, 0));
    let at = utc(2026, 6, 20, 13, 0);
    // Was: forecast ("group/acme/USD/g8e5071a3906caecf", [("F-1", 1)], 06-20 13:00 UTC);
    // sent ("group/acme/USD/g1c77f0b6e219d51e", [("F-1", 1), ("F-2", 1)], the same).
    assert_eq!(
        forecast.iter().find(|l| l.2 == at).map(|l| &l.1),
        Some(&vec![("F-1".to_owned(), 1), ("F-2".to_owned(), 1)])
    );
    assert_eq!(
        sent.iter().filter(|l| l.2 <= at).collect::<Vec<_>>(),
        forecast.iter().filter(|l| l.2 <= at).collect::<Vec<_>>(),
        "the tick of 06-20 09:00 sends what the forecast said"
    );
}

/// Guard: the first world of the finding above, `paused_group_world`. When the finding was
/// filed, every plan from 04-03 09:00 to 04-04 00:00 forecast a grouped notice for F-2/1 alone at 04-04
/// 09:00 (`group/acme/USD/g0f0defac65cfe6ec`) and said `group/F-1/2` deferred by the gap;
/// the tick of 04-04 09:00 sent `group/acme/USD/g5f80c170d163c681`, covering F-1/2 and
/// F-2/1. At f7c3142 (before the turns by last reminder) and since, every forecast comes
/// true, whatever the horizon.
#[test]
fn a_paused_invoices_grouped_notice_goes_as_forecast() {
    for horizon in [1, 3, 7] {
        let mut w = paused_group_world();
        w.horizon = horizon;
        let r = run(&w);
        assert!(!r.sent.is_empty());
        let bad = check(&w, &r, true);
        assert!(bad.is_empty(), "horizon {horizon}: {bad:?}");
    }
}

/// Guard for the finding above: without the pauses, every forecast comes true.
#[test]
fn without_the_pause_the_grouped_notice_goes_as_forecast() {
    let mut w = grouped_gap_world();
    w.pauses.clear();
    w.horizon = 7;
    let r = run(&w);
    let bad = check(&w, &r, true);
    assert!(bad.is_empty(), "{bad:?}");
}

/// UTC, weekends off (Sat/Sun), a holiday on Tuesday 2026-04-07, sends at 09:00; the
/// client's own gap of 1 day (`ClientOverrides::min_gap`, the policy's 3); invoices F-1 and
/// F-2 due Wednesday 04-01, F-3 due Saturday 04-04; `soon` at Due-2 daily, 3 times,
/// expiring after 1 day; `daily` from the due date every day, 21 times, expiring after 0
/// days. Ticks at 00:00 and 09:00, horizon 3.
fn tie_world() -> W {
    let mut w = W::plain(
        &[d(2026, 4, 1), d(2026, 4, 1), d(2026, 4, 4)],
        vec![
            R {
                expiry: Some(1),
                ..r("soon", -2, 1, 3)
            },
            R {
                expiry: Some(0),
                ..r("daily", 0, 1, 21)
            },
        ],
    );
    w.gap = 3;
    w.client_gap = Some(1);
    w.weekend = vec![Weekday::Sat, Weekday::Sun];
    w.holidays = vec![d(2026, 4, 7)];
    w.horizon = 3;
    w.first = d(2026, 3, 25);
    w.days = 30;
    w
}

/// Finding, fixed (a regression of 8eadfbb, which made an item's message under the gap wait
/// since the earliest of its stages of the day, those it supersedes included; reverted: a
/// superseded stage's wait depends on what a plan still holds, and a forecast and the
/// plans after the send it assumed then broke the tie differently). Was: recording a send
/// as planned changed the gap's turn forecast for a later day.
///
/// World: `tie_world`. On Thursday 04-09 two reminders fall on their own day with the same
/// instant: F-1's `daily/F-1/6` and F-3's `daily/F-3/3` (both expiring after 0 days); the
/// client's gap lets one go. The plan of Monday 04-06 09:00, whose due event is
/// `daily/F-1/4`, forecasts `daily/F-1/5` on 04-08 and `daily/F-1/6` on 04-09 at 09:00.
/// Once `daily/F-1/4` is recorded as sent at that tick (as planned), the tick of 04-09
/// 09:00 sends `daily/F-3/3`, and `daily/F-1/6` never goes. (Traced in Auckland: the plan
/// made before the send says `daily/F-3/3` expired on 04-09; the plan of 04-07 00:00, the
/// next tick, forecasts `daily/F-3/3` on 04-09 and says `daily/F-1/6` expired.) The same in Pacific/Auckland at 23:30 and 09:00 (random world 599 of
/// seed 0x2234_5678_9abc_def1, pauses on). Expected: the forecast made before the send and
/// the plans after it break the tie the same way (what went is what was planned).
///
/// Promises: `Plan::upcoming` ("assuming nothing changes and every event is sent when
/// planned"); README "Minimum gap" (of those that waited as long, "planned ahead, the one
/// the day's first tick finds due": a forecast breaks a tie as that day's tick will).
#[test]
fn a_send_recorded_as_planned_keeps_the_gaps_forecast() {
    let w = tie_world();
    let (forecast, sent) = forecast_at(&w, utc(2026, 4, 6, 9, 0));
    // Observed forecast: daily/F-1/5 04-08 09:00, daily/F-1/6 04-09 09:00; observed sends:
    // daily/F-1/5 04-08 09:00, daily/F-3/3 04-09 09:00.
    // (Before expired occurrences counted in an invoice's wait, the tie on 04-09 was F-1's
    // `daily/F-1/6` against F-3's `daily/F-3/3`; F-3's, whose earlier repeats expired, now
    // waited longer.)
    assert!(
        forecast.iter().any(|l| l.2 == utc(2026, 4, 9, 9, 0)),
        "{forecast:?}"
    );
    assert_eq!(sent, forecast);
}

/// Finding, fixed: with an expiry shorter than the gap's round, an invoice never got a
/// reminder. Now, of messages that waited as long and go at one instant, the one whose
/// invoice was reminded longest ago (or never) goes first: the invoices take turns.
///
/// World: `fair_world("Europe/Madrid", 2, 2, Some(1), false)`: Madrid (across its spring
/// night, 03-29), every day a working day, sends at 09:00, a gap of 2 days; F-1 due Monday
/// 2026-03-23, F-2 due 03-24; `daily` from the due date every day, 60 times, expiring after
/// 1 day; dense ticks for 60 days. Observed: F-1 gets 29 reminders (every other day),
/// F-2 none: each of F-2's occurrences is held by the gap, expires, and the next is spaced
/// from its day, so it has waited no longer than F-1's next repeat, and F-1 goes first
/// every time (the tie goes to F-1). The same with 3 invoices, a gap of 4 and an expiry of
/// 5 days (F-3 gets nothing, F-1 9, F-2 4), or a gap of 4 and 3 days (F-2 and F-3 get
/// nothing), in Santiago and Auckland alike, weekends or not; without the expiry each
/// invoice gets its turn (`without_expiry_every_invoice_gets_its_turn`).
/// Expected: every invoice gets reminders: an invoice whose reminders have waited longer
/// (F-2's, since 03-24) is not starved forever by another invoice's daily repeats; an
/// expiry drops notices that would go late, it should not stop an invoice's reminders for
/// good because the gap always gives its turn to another invoice.
///
/// Promise: README "Minimum gap" ("when the gap holds several back, the one that has waited
/// longest ... goes first"): read occurrence by occurrence, each of F-2's waited a day at
/// most; read per invoice, F-2's reminders waited for 60 days. `Rule::expires_after` ("for
/// notices that make no sense late") does not say an expiring rule may never fire for an
/// item that the gap holds back.
#[test]
fn an_expiring_rule_under_the_gap_starves_no_invoice() {
    for (gap, n, expiry) in [(2, 2, 1), (2, 2, 0), (4, 3, 5), (4, 3, 3)] {
        let w = fair_world("Europe/Madrid", gap, n, Some(expiry), false);
        let r = run(&w);
        let bad = check(&w, &r, true);
        assert!(bad.is_empty(), "{bad:?}");
        let by = days_by_item(&r);
        let counts: Vec<(&String, usize)> = by.iter().map(|(k, v)| (k, v.len())).collect();
        // Observed (2, 2, 1): [("F-1", 29)]; (4, 3, 5): [("F-1", 9), ("F-2", 4)].
        assert_eq!(by.len(), n, "gap {gap}, expiry {expiry}: {counts:?}");
    }
}

/// UTC, Friday and Saturday off, sends at 09:00, the client's gap of 1 day (the policy's 4);
/// invoices F-1 due Saturday 2026-06-13, F-2 and F-3 due Sunday 06-14; `soon` at Due-2
/// daily, 3 times, expiring after 0 days; `daily` from Due+2 (22 times); `later` at Due+3
/// every 3 days (9 times, expiring after 1). Ticks at 00:00 and 09:00, horizon 3, lookback
/// 1 (random world 2535 of seed 0x2234_5678_9abc_def1 at 3,000 worlds).
fn late_soon_world() -> W {
    let mut w = W::plain(
        &[d(2026, 6, 13), d(2026, 6, 14), d(2026, 6, 14)],
        vec![
            R {
                expiry: Some(0),
                ..r("soon", -2, 1, 3)
            },
            r("daily", 2, 1, 22),
            R {
                expiry: Some(1),
                ..r("later", 3, 3, 9)
            },
        ],
    );
    w.weekend = vec![Weekday::Fri, Weekday::Sat];
    w.holidays = vec![d(2026, 7, 4)];
    w.gap = 4;
    w.client_gap = Some(1);
    w.first = d(2026, 6, 6);
    w.days = 45;
    w.horizon = 3;
    w.lookback = 1;
    w
}

/// Finding, fixed: a "due soon" too late before the gap held it was said expired once the
/// gap did, and the expiry spaced the rule's next repeat into a day it could go.
///
/// World: `late_soon_world`. `soon/F-3/2` (meant for Saturday 06-13, moved later past its
/// spacing onto the due date, Sunday 06-14) is said too late (`DueSoonAfterDue`) on 06-14
/// by every plan up to 06-14 09:00, and `soon/F-3/3` (06-14) expired: `soon/F-2/3` goes that
/// day and the gap holds F-3's. Once `soon/F-2/3` is in history, the plan of 06-15 00:00
/// said `soon/F-3/2` expired on 06-14 (the gap now held it past its day), and the next
/// repeat, spaced a day after that, went on 06-15: `soon/F-3/3`, said expired by the plans
/// before, went instead of `daily/F-1/1` forecast for 06-15 09:00. Now a "due soon" whose
/// own day is the due date or later is said too late, not expired, whatever held it.
///
/// Promises: `Plan::upcoming` ("assuming nothing changes and every event is sent when
/// planned"); README "Explains itself" (what a plan said dropped stays dropped).
#[test]
fn a_due_soon_too_late_stays_too_late_under_the_gap() {
    let w = late_soon_world();
    let (forecast, sent) = forecast_at(&w, utc(2026, 6, 14, 9, 0));
    // Observed: forecast daily/F-1/1 at 06-15 09:00, daily/F-3/1 at 06-16 09:00; sent
    // soon/F-3/3 at 06-15 09:00.
    assert!(forecast.iter().any(|l| l.0 == "daily/F-1/1"), "{forecast:?}");
    let at = utc(2026, 6, 17, 9, 0);
    assert_eq!(
        sent.iter().filter(|l| l.2 < at).collect::<Vec<_>>(),
        forecast.iter().filter(|l| l.2 < at).collect::<Vec<_>>()
    );
    let r = run(&w);
    assert!(!r.sent.iter().any(|s| s.key == "soon/F-3/3"));
    let bad = check(&w, &r, true);
    assert!(bad.is_empty(), "{bad:?}");
}
