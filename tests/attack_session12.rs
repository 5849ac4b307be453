//! Attack session 12: the redesigned planner, items alike planned once (whether a history
//! entry is keyed as the planner's own), statements already sent (`any_key_is`), the four
//! ways to plan, limits and hostile input.
#![allow(clippy::too_many_lines)]

mod common;

use chrono::{DateTime, Duration, NaiveDate, Utc, Weekday};
use common::host::*;
use common::world;
use common::{SplitMix, client, d, invoice, money, rule, sent_entry, t, tz};
use dunning::bulk::Schedule;
use dunning::*;
use std::collections::BTreeSet;

// ---------------------------------------------------------------------------------------
// Helpers: the four ways to plan, and plans of each client and each item alone.
// ---------------------------------------------------------------------------------------

/// A plan in lines: every event's and suppression's whole debug form, in order.
fn full_lines(plan: &Plan) -> Vec<String> {
    let mut out: Vec<String> = plan.due().iter().map(|e| format!("due {e:?}")).collect();
    out.extend(plan.upcoming().iter().map(|e| format!("upcoming {e:?}")));
    out.extend(plan.suppressed().iter().map(|s| format!("suppressed {s:?}")));
    out.extend(plan.standings().iter().map(|s| format!("standing {s:?}")));
    out
}

/// A schedule read through the bulk views, one line per view, as [`full_lines`] writes the
/// owned plan; the views' own accessors checked against the owned records on the way.
fn bulk_lines(s: &Schedule<'_>) -> Vec<String> {
    let mut out = Vec::new();
    for (name, views) in [("due", s.due()), ("upcoming", s.upcoming())] {
        let n = views.len();
        let mut seen = 0;
        for v in views {
            seen += 1;
            let e = v.to_event();
            assert_eq!(v.key(), e.key);
            assert_eq!(v.rule(), &e.rule);
            assert_eq!(v.client().id, e.client);
            assert_eq!(v.stage(), e.stage);
            assert_eq!(v.send_on(), e.send_on);
            assert_eq!(v.send_at(), e.send_at);
            let ids: Vec<&ItemId> = v.items().map(|i| &i.id).collect();
            let want: Vec<&ItemId> = e.items.iter().map(|i| &i.item).collect();
            assert_eq!(ids, want, "{}", e.key);
            assert_eq!(v.explain(), e.explain());
            out.push(format!("{name} {e:?}"));
        }
        assert_eq!(n, seen, "{name}: len() against the views read");
    }
    let views = s.suppressed();
    let n = views.len();
    let mut seen = 0;
    for v in views {
        seen += 1;
        let x = v.to_suppressed();
        assert_eq!(v.key(), x.key);
        assert_eq!(v.rule(), &x.rule);
        assert_eq!(v.client().id, x.client);
        assert_eq!(v.item().map(|i| i.id.clone()), x.item);
        assert_eq!(v.on(), x.on);
        assert_eq!(v.reason(), x.reason);
        assert_eq!(v.explain(), x.explain());
        out.push(format!("suppressed {x:?}"));
    }
    assert_eq!(n, seen, "suppressed: len() against the views read");
    out.extend(s.standings().iter().map(|s| format!("standing {s:?}")));
    out
}

/// Plans by the four ways (and the inputs listed in reverse, and serialized): all the same,
/// or a line saying where they differ. Returns the plan.
fn four_ways(
    planner: &Planner,
    clients: &[Client],
    items: &[Item],
    history: &[HistoryEntry],
    now: DateTime<Utc>,
    horizon: Horizon,
) -> Result<Plan, String> {
    let plan = planner
        .plan(clients, items, history, now, horizon)
        .map_err(|e| format!("plan: {e}"))?;
    let want = full_lines(&plan);
    let mut bad = order_problems(&plan);
    // Never earlier: what is due has its instant come; what is upcoming has not.
    for e in plan.due() {
        if e.send_at > now {
            bad.push(format!("{} due at {now} for {}", e.key, e.send_at));
        }
    }
    for e in plan.upcoming() {
        if e.send_at <= now {
            bad.push(format!("{} upcoming at {now} for {}", e.key, e.send_at));
        }
    }
    let sched = planner.schedule(clients, items, history, now, horizon).unwrap();
    if bulk_lines(&sched) != want {
        bad.push(diff("Planner::schedule (bulk views)", &want, &bulk_lines(&sched)));
    }
    if sched.to_plan() != plan {
        bad.push("Schedule::to_plan".to_owned());
    }
    if serde_json::to_string(&sched).unwrap() != serde_json::to_string(&plan).unwrap() {
        bad.push("schedule's JSON".to_owned());
    }
    let portfolio = planner.portfolio(clients, items).unwrap();
    let pp = portfolio.plan(history, now, horizon).unwrap();
    if full_lines(&pp) != want {
        bad.push(diff("Portfolio::plan", &want, &full_lines(&pp)));
    }
    let ps = portfolio.schedule(history, now, horizon).unwrap();
    if bulk_lines(&ps) != want {
        bad.push(diff("Portfolio::schedule", &want, &bulk_lines(&ps)));
    }
    let rc: Vec<Client> = clients.iter().rev().cloned().collect();
    let ri: Vec<Item> = items.iter().rev().cloned().collect();
    let rh: Vec<HistoryEntry> = history.iter().rev().cloned().collect();
    let rev = planner.plan(&rc, &ri, &rh, now, horizon).unwrap();
    if full_lines(&rev) != want {
        bad.push(diff("inputs reversed", &want, &full_lines(&rev)));
    }
    if bad.is_empty() {
        Ok(plan)
    } else {
        Err(bad.join("\n"))
    }
}

/// The plan's documented order: events by send instant, then client, then key; suppressed
/// entries by date, client, item and rule.
fn order_problems(plan: &Plan) -> Vec<String> {
    let mut bad = Vec::new();
    for (name, list) in [("due", plan.due()), ("upcoming", plan.upcoming())] {
        for w in list.windows(2) {
            let k = |e: &Event| (e.send_at, e.client.clone(), e.key.as_str().to_owned());
            if k(&w[0]) >= k(&w[1]) {
                bad.push(format!(
                    "{name} out of order: {:?} before {:?}",
                    k(&w[0]),
                    k(&w[1])
                ));
            }
        }
    }
    for w in plan.suppressed().windows(2) {
        let k = |s: &Suppressed| (s.on, s.client.clone(), s.item.clone(), s.rule.clone());
        if k(&w[0]) > k(&w[1]) {
            bad.push(format!(
                "suppressed out of order: {:?} before {:?}",
                k(&w[0]),
                k(&w[1])
            ));
        }
    }
    bad
}

fn diff(what: &str, want: &[String], got: &[String]) -> String {
    let only_want: Vec<&String> = want.iter().filter(|l| !got.contains(l)).take(6).collect();
    let only_got: Vec<&String> = got.iter().filter(|l| !want.contains(l)).take(6).collect();
    format!(
        "{what} differs ({} lines against {}):\n  only Planner::plan: {only_want:#?}\n  only {what}: {only_got:#?}",
        want.len(),
        got.len()
    )
}

/// Each client planned alone (its items and its history) says what the whole plan says
/// of it, in the same order.
fn per_client(
    planner: &Planner,
    clients: &[Client],
    items: &[Item],
    history: &[HistoryEntry],
    now: DateTime<Utc>,
    horizon: Horizon,
    whole: &Plan,
) -> Vec<String> {
    let mut bad = Vec::new();
    for c in clients {
        let its: Vec<Item> = items.iter().filter(|i| i.client == c.id).cloned().collect();
        // Its history: what went to it, and what names its items (an entry lists items as
        // the host recorded them, of whatever client), in its items or in its key (a key
        // in history is never planned again, whichever client's entry holds it).
        let named = |h: &HistoryEntry| {
            let second = h.key.as_str().split('/').nth(1).unwrap_or("");
            second == c.id.as_str() || its.iter().any(|i| i.id.as_str() == second)
        };
        let hist: Vec<HistoryEntry> = history
            .iter()
            .filter(|h| {
                h.client == c.id || named(h) || h.items.iter().any(|hi| its.iter().any(|i| i.id == hi.item))
            })
            .cloned()
            .collect();
        let alone = planner
            .plan(std::slice::from_ref(c), &its, &hist, now, horizon)
            .unwrap();
        let of = |p: &Plan| -> Vec<String> {
            let mut out: Vec<String> = p
                .events()
                .filter(|e| e.client == c.id)
                .map(|e| format!("{e:?}"))
                .collect();
            out.extend(
                p.suppressed()
                    .iter()
                    .filter(|s| s.client == c.id)
                    .map(|s| format!("{s:?}")),
            );
            out.extend(
                p.standings()
                    .iter()
                    .filter(|s| s.client == c.id)
                    .map(|s| format!("{s:?}")),
            );
            out
        };
        let (w, a) = (of(whole), of(&alone));
        if w != a {
            bad.push(diff(&format!("client {} alone", c.id), &w, &a));
        }
    }
    bad
}

/// What a plan says about one item: its events and its suppressed entries.
fn item_lines(plan: &Plan, item: &ItemId, rules: &[Rule]) -> Vec<String> {
    // (Statements and standing notices depend on every item of the client.)
    let of_item_rule = |r: &RuleId| rules.iter().any(|x| &x.id == r);
    let mut out: Vec<String> = plan
        .events()
        .filter(|e| e.statement.is_none() && e.standing.is_none())
        .filter(|e| e.items.iter().any(|i| &i.item == item))
        .map(|e| format!("{e:?}"))
        .collect();
    out.extend(
        plan.suppressed()
            .iter()
            .filter(|s| s.item.as_ref() == Some(item) && of_item_rule(&s.rule))
            .map(|s| format!("{s:?}")),
    );
    out
}

/// Each item planned alone (with the whole history) says what the whole plan says of it:
/// for policies where items never move each other (no gap, no grouping).
fn per_item(
    planner: &Planner,
    clients: &[Client],
    items: &[Item],
    history: &[HistoryEntry],
    now: DateTime<Utc>,
    horizon: Horizon,
    whole: &Plan,
) -> Vec<String> {
    let mut bad = Vec::new();
    for it in items {
        let alone = planner
            .plan(clients, std::slice::from_ref(it), history, now, horizon)
            .unwrap();
        let rules = &planner.policy().rules;
        let (w, a) = (
            item_lines(whole, &it.id, rules),
            item_lines(&alone, &it.id, rules),
        );
        if w != a {
            bad.push(diff(&format!("item {} alone", it.id), &w, &a));
        }
    }
    bad
}

fn entry(
    key: &str,
    rule: Option<&str>,
    client: &str,
    items: &[(&str, u32)],
    at: DateTime<Utc>,
    outcome: HistoryOutcome,
) -> HistoryEntry {
    HistoryEntry {
        key: EventKey::from(key),
        rule: rule.map(|r| r.parse().unwrap()),
        client: client.parse().unwrap(),
        items: items
            .iter()
            .map(|(i, o)| HistoryItem {
                item: i.parse().unwrap(),
                occurrence: *o,
            })
            .collect(),
        sent_at: at,
        outcome,
    }
}

fn failed() -> HistoryOutcome {
    HistoryOutcome::Failed {
        error: "550 no such user".into(),
    }
}

// ---------------------------------------------------------------------------------------
// Items alike, with history keyed the planner's way and every near miss of it.
// ---------------------------------------------------------------------------------------

/// Ids that are prefixes of each other, alike but for a digit, with leading zeros, of one
/// length: keys built from one look like keys of another.
const IDS: [&str; 24] = [
    "A", "B", "AA", "AB", "BA", "A1", "A2", "A10", "A01", "A001", "1", "2", "01", "10", "11", "100", "X-1",
    "X-10", "X-01", "X-2", "A11", "A0", "B1", "B10",
];

struct Alike {
    policy: Policy,
    clients: Vec<Client>,
    items: Vec<Item>,
    history: Vec<HistoryEntry>,
    now: DateTime<Utc>,
}

fn shuffle<T>(r: &mut SplitMix, v: &mut [T]) {
    for i in (1..v.len()).rev() {
        let j = r.below(i as u64 + 1) as usize;
        v.swap(i, j);
    }
}

/// Many alike items over two clients, each item's history drawn from sends keyed as the
/// planner keys them and keys that look so but are not, listed in any order.
fn alike_world(seed: u64) -> Alike {
    let mut r = SplitMix(seed);
    let zones = [
        "UTC",
        "Pacific/Kiritimati",
        "America/St_Johns",
        "Australia/Lord_Howe",
        "Europe/Madrid",
    ];
    let zone = zones[r.below(zones.len() as u64) as usize];
    let mut policy = Policy::new(tz(zone)).with_send_time([t(9, 0), t(0, 0), t(23, 30)][r.below(3) as usize]);
    policy = policy.with_rule(rule("soon", Anchor::Due, -2));
    let mut due = rule("due", Anchor::Due, 0);
    if r.chance(40) {
        due = due.expires_after(r.range(0, 2) as u32);
    }
    policy = policy.with_rule(due);
    policy = policy.with_rule(rule("over", Anchor::Due, 1).repeat(r.range(1, 3) as u32, 4));
    if r.chance(30) {
        policy = policy.with_rule(rule("issued", Anchor::Issued, 0));
    }
    if r.chance(40) {
        policy = policy.with_statement(weekly(["MO", "WE", "FR"][r.below(3) as usize]));
    }
    if r.chance(30) {
        policy = policy.with_standing(StandingRule::new(2, 6));
    }
    if r.chance(50) {
        policy = policy.with_calendar(weekends());
    }
    let rules = ["soon", "due", "over", "issued"];
    let base = d(2026, 6, 1) + Duration::days(r.range(0, 6));
    let clients = vec![
        client("c0", zone),
        client("c1", ["UTC", "Pacific/Chatham"][r.below(2) as usize]),
    ];
    let mut ids: Vec<&str> = IDS.to_vec();
    shuffle(&mut r, &mut ids);
    let n = r.range(12, IDS.len() as i64) as usize;
    let ids = &ids[..n];
    let mut items = Vec::new();
    for id in ids {
        let c = if r.chance(60) { "c0" } else { "c1" };
        let due_on = base + Duration::days(r.range(0, 1));
        let mut it = invoice(id, c, due_on - Duration::days(20), due_on, usd("100"));
        match r.below(8) {
            0 => it = it.paid(usd("30"), due_on - Duration::days(3)),
            1 => it.reminder_count = Some(2),
            _ => {}
        }
        items.push(it);
    }
    let at = |r: &mut SplitMix, day: NaiveDate| {
        local_instant(
            tz(zone),
            day,
            t(r.range(8, 12) as u32, [0, 30][r.below(2) as usize]),
        )
    };
    let mut history = Vec::new();
    // A send most items share, keyed as the planner keys it: alike items stay alike.
    let shared = (
        ["over", "over", "soon", "due"][r.below(4) as usize],
        r.range(1, 2) as u32,
        r.range(-2, 3),
    );
    for (k, it) in items.iter().enumerate() {
        let id = it.id.as_str();
        let c = it.client.as_str();
        let due_on = it.due_on.unwrap();
        let (rl, occ, off) = shared;
        let when = local_instant(tz(zone), due_on + Duration::days(off), t(10, 0));
        if r.chance(60) {
            history.push(entry(
                &format!("{rl}/{id}/{occ}"),
                Some(rl),
                c,
                &[(id, occ)],
                when,
                HistoryOutcome::Sent,
            ));
        } else if r.chance(50) {
            // The shared send but keyed near the planner's key: alike in rule, occurrence
            // and day to the items keyed their own way.
            let other_rule =
                rules[(rules.iter().position(|x| *x == rl).unwrap() + 1 + r.below(2) as usize) % 3];
            let key = match r.below(5) {
                0 => format!("{rl}/{id}/{}", occ + 1),
                1 => format!("{other_rule}/{id}/{occ}"),
                2 => format!("{other_rule}/{id}/{}", occ + 1),
                3 => format!("{rl}/{id}/{}", occ + 10),
                _ => format!("{rl}/{id}/0{occ}"),
            };
            history.push(entry(&key, Some(rl), c, &[(id, occ)], when, HistoryOutcome::Sent));
        }
        for _ in 0..r.range(0, 2) {
            let rl = rules[r.below(3) as usize];
            let occ = r.range(1, 3) as u32;
            let day = due_on + Duration::days(r.range(-3, 4));
            let when = at(&mut r, day);
            let same_len: Vec<&str> = ids
                .iter()
                .copied()
                .filter(|o| o.len() == id.len() && *o != id)
                .collect();
            let other = ids[(k + 1 + r.below(ids.len() as u64 - 1) as usize) % ids.len()];
            let sent = HistoryOutcome::Sent;
            let h = match r.below(14) {
                0 | 1 => entry(&format!("{rl}/{id}/{occ}"), Some(rl), c, &[(id, occ)], when, sent),
                2 => match same_len.first() {
                    Some(o) => entry(&format!("{rl}/{o}/{occ}"), Some(rl), c, &[(id, occ)], when, sent),
                    None => entry(
                        &format!("{rl}/{other}/{occ}"),
                        Some(rl),
                        c,
                        &[(id, occ)],
                        when,
                        sent,
                    ),
                },
                3 => entry(
                    &format!("{rl}/{id}/{}", occ + 1),
                    Some(rl),
                    c,
                    &[(id, occ)],
                    when,
                    sent,
                ),
                4 => entry(
                    &format!("{rl}/{id}/0{occ}"),
                    Some(rl),
                    c,
                    &[(id, occ)],
                    when,
                    sent,
                ),
                5 => entry(
                    &format!("{rl}/{id}1/{occ}"),
                    Some(rl),
                    c,
                    &[(id, occ)],
                    when,
                    sent,
                ),
                6 => {
                    let both = if r.chance(50) {
                        [(id, occ), (other, occ)]
                    } else {
                        [(other, occ), (id, occ)]
                    };
                    entry(&format!("{rl}/{id}/{occ}"), Some(rl), c, &both, when, sent)
                }
                7 => entry(
                    &format!("gone/{id}/{occ}"),
                    Some("gone"),
                    c,
                    &[(id, occ)],
                    when,
                    sent,
                ),
                8 => entry(&format!("{rl}/{id}/{occ}"), None, c, &[(id, 0)], when, sent),
                9 => HistoryEntry::manual(it.client.clone(), it.id.clone(), when),
                10 => entry(&format!("preview/{rl}/{id}"), Some(rl), c, &[(id, 1)], when, sent),
                11 | 12 => {
                    let key = format!("{rl}/{id}/{occ}");
                    let outcome = if r.chance(50) {
                        failed()
                    } else {
                        HistoryOutcome::OutcomeUnknown
                    };
                    let h = entry(&key, Some(rl), c, &[(id, occ)], when, outcome);
                    if r.chance(60) {
                        // Released after (planned again) or before (still undelivered).
                        let rel = when + Duration::hours(r.range(-30, 30));
                        history.push(entry(
                            &key,
                            Some(rl),
                            c,
                            &[(id, occ)],
                            rel,
                            HistoryOutcome::Released,
                        ));
                    }
                    h
                }
                _ => {
                    // One entry about many items (more than a batch of lookups), keyed as
                    // the planner keys one of them in the middle.
                    let mut many: Vec<(&str, u32)> =
                        (0..20).map(|j| (ids[(k + j) % ids.len()], occ)).collect();
                    many.rotate_left(r.below(20) as usize);
                    entry(&format!("{rl}/{id}/{occ}"), Some(rl), c, &many, when, sent)
                }
            };
            history.push(h);
        }
    }
    shuffle(&mut r, &mut history);
    if r.chance(50) {
        shuffle(&mut r, &mut items);
    }
    let now = local_instant(
        tz(zone),
        base + Duration::days(r.range(-3, 12)),
        t(r.range(0, 23) as u32, [0, 15][r.below(2) as usize]),
    );
    Alike {
        policy,
        clients,
        items,
        history,
        now,
    }
}

/// Items alike share one computed plan (`engine::shapes`): whether their sends are keyed as
/// the planner keys them decides it. Every way to plan, each client alone and each item
/// alone must say the same of every item, whatever near misses of its keys history holds.
#[test]
fn alike_items_with_near_miss_keys_plan_as_each_item_alone() {
    let mut fails = Vec::new();
    let (mut events, mut checked) = (0, 0);
    let n = world::env_u64("ALIKE_N", 60);
    for seed in 0..n {
        let w = alike_world(seed);
        let planner = Planner::new(&w.policy).unwrap();
        let h = Horizon::days(10);
        let plan = match four_ways(&planner, &w.clients, &w.items, &w.history, w.now, h) {
            Ok(p) => p,
            Err(e) => {
                fails.push(format!("seed {seed}: {e}"));
                continue;
            }
        };
        events += plan.due().len() + plan.upcoming().len();
        let mut bad = per_client(&planner, &w.clients, &w.items, &w.history, w.now, h, &plan);
        bad.extend(per_item(
            &planner, &w.clients, &w.items, &w.history, w.now, h, &plan,
        ));
        checked += w.items.len();
        if !bad.is_empty() {
            fails.push(format!("seed {seed} now {}: {}", w.now, bad.join("\n")));
        }
    }
    assert!(events > 100 && checked > 500, "{events} events, {checked} items");
    assert!(
        fails.is_empty(),
        "{} failing seeds:\n{}",
        fails.len(),
        fails.iter().take(3).cloned().collect::<Vec<_>>().join("\n\n")
    );
}

// ---------------------------------------------------------------------------------------
// The four ways, each client alone and each item alone, over the host's runs.
// ---------------------------------------------------------------------------------------

/// Runs the world's host (every due event recorded as sent, manual sends recorded, the
/// payments known from their instant), and at every `every`-th tick plans the four ways,
/// each client alone and (without a gap) each item alone. Returns the differences, and how
/// many plans were compared with how many events.
fn four_ways_over_run(w: &world::World, every: usize) -> (Vec<String>, usize, usize) {
    let planner = Planner::new(&w.policy).unwrap();
    let mut history: Vec<HistoryEntry> = Vec::new();
    let mut manual = w.manual.clone();
    let mut bad = Vec::new();
    let (mut plans, mut events) = (0, 0);
    let apart = w.policy.min_gap_days == 0;
    for (k, &now) in w.ticks.iter().enumerate() {
        world::record_manual_sends(w, &mut manual, now, &mut history);
        let (items, _) = world::items_at(w, now);
        let h = Horizon::days(10);
        if k % every == 0 {
            plans += 1;
            match four_ways(&planner, &w.clients, &items, &history, now, h) {
                Ok(plan) => {
                    events += plan.due().len() + plan.upcoming().len();
                    bad.extend(per_client(&planner, &w.clients, &items, &history, now, h, &plan));
                    if apart {
                        bad.extend(per_item(&planner, &w.clients, &items, &history, now, h, &plan));
                    }
                }
                Err(e) => bad.push(e),
            }
            if !bad.is_empty() {
                return (
                    bad.into_iter().map(|b| format!("{now}: {b}")).collect(),
                    plans,
                    events,
                );
            }
        }
        let plan = planner.plan(&w.clients, &items, &history, now, h).unwrap();
        for e in plan.due() {
            history.push(e.to_history(now));
        }
    }
    (bad, plans, events)
}

#[test]
fn random_worlds_plan_alike_four_ways_per_client_and_per_item() {
    let mut fails = Vec::new();
    let (mut plans, mut events) = (0, 0);
    for seed in 0..40u64 {
        let w = world::world(1_200_000 + seed, world::ALL);
        let (bad, p, e) = four_ways_over_run(&w, 19);
        plans += p;
        events += e;
        if !bad.is_empty() {
            fails.push(format!("{}{}", world::describe(&w), bad.join("\n")));
        }
    }
    assert!(plans > 400 && events > 200, "{plans} plans, {events} events");
    assert!(
        fails.is_empty(),
        "{} failing worlds:\n{}",
        fails.len(),
        fails.iter().take(2).cloned().collect::<Vec<_>>().join("\n\n")
    );
}

// ---------------------------------------------------------------------------------------
// Richer worlds: grouped rules, currencies, overrides, kinds, minimums, fees, failures.
// ---------------------------------------------------------------------------------------

struct Rich {
    policy: Policy,
    clients: Vec<Client>,
    items: Vec<Item>,
    /// Item index, day the host learns of it, and the payment's day.
    payments: Vec<(usize, DateTime<Utc>, NaiveDate)>,
    ticks: Vec<DateTime<Utc>>,
    /// Every how many sends one fails for good (0: none), one's outcome is unknown.
    fail_every: usize,
}

fn rich_world(seed: u64) -> Rich {
    let mut r = SplitMix(seed);
    let zones = [
        "UTC",
        "Pacific/Kiritimati",
        "America/Santiago",
        "Australia/Lord_Howe",
        "Pacific/Pago_Pago",
        "Europe/Madrid",
    ];
    let pick = |r: &mut SplitMix, z: &[&'static str]| z[r.below(z.len() as u64) as usize];
    let zone = pick(&mut r, &zones);
    let start = d(2026, [3, 4, 9, 10][r.below(4) as usize], 1) + Duration::days(r.range(0, 27));
    let mut policy =
        Policy::new(tz(zone)).with_send_time([t(9, 0), t(0, 0), t(23, 30), t(2, 30)][r.below(4) as usize]);
    let group = r.chance(40);
    let mut soon = rule("soon", Anchor::Due, -(r.range(1, 3) as i32));
    if r.chance(30) {
        soon = soon.min_balance(money("50", "USD"));
    }
    policy = policy.with_rule(soon);
    let mut over =
        rule("over", Anchor::Due, r.range(0, 2) as i32).repeat(r.range(1, 4) as u32, r.range(2, 5) as u32);
    if group {
        over = over.grouped();
    }
    if r.chance(30) {
        over = over.expires_after(r.range(0, 3) as u32);
    }
    if r.chance(30) {
        over.late_fee = Some(LateFee {
            fixed: vec![money("5", "USD")],
            basis_points: 150,
            cap: vec![],
        });
    }
    policy = policy.with_rule(over);
    if r.chance(40) {
        let mut fin = rule("final", Anchor::Due, r.range(4, 9) as i32).for_client_tags(["vip"]);
        if group && r.chance(50) {
            fin = fin.grouped();
        }
        policy = policy.with_rule(fin);
    }
    if r.chance(30) {
        policy = policy.with_rule(
            rule("sign", Anchor::Sent, 2)
                .repeat(2, 3)
                .for_kinds([ItemKind::Signature]),
        );
    }
    if r.chance(25) {
        policy = policy.with_rule(Rule::thank_you("thanks".parse().unwrap()));
    }
    if r.chance(40) {
        let mut st = StatementRule::new(
            "stmt".parse().unwrap(),
            ["FREQ=WEEKLY;BYDAY=MO,TH", "FREQ=DAILY;INTERVAL=3"][r.below(2) as usize],
            d(2026, 1, 1),
        );
        if r.chance(40) {
            st = st.overdue_only();
        }
        policy = policy.with_statement(st);
    }
    if r.chance(35) {
        policy = policy.with_standing(StandingRule::new(3, 8));
    }
    if r.chance(60) {
        let holidays = (0..r.range(0, 2))
            .map(|_| start + Duration::days(r.range(0, 20)))
            .collect::<Vec<_>>();
        policy = policy.with_calendar(BusinessCalendar::new([Weekday::Sat, Weekday::Sun], holidays));
    }
    if r.chance(30) {
        policy = policy.with_min_gap(r.range(1, 2) as u32);
    }
    let mut clients = Vec::new();
    let mut items = Vec::new();
    for c in 0..r.range(1, 3) {
        let id = format!("k{c}");
        let mut cl = client(&id, pick(&mut r, &zones))
            .with_contact(Contact::new("Boss", format!("boss@{id}.example")).with_role(ContactRole::Manager));
        if r.chance(30) {
            cl = cl.with_tag("vip");
        }
        let mut o = ClientOverrides::default();
        match r.below(6) {
            0 => o.send_time = Some(t(r.range(0, 23) as u32, 45)),
            1 => o.min_gap_days = Some(r.range(0, 2) as u32),
            2 => {
                o.rules.insert(
                    "over".parse().unwrap(),
                    RuleOverride {
                        count: Some(1),
                        every_days: Some(2),
                        ..RuleOverride::default()
                    },
                );
            }
            3 => {
                o.rules.insert("soon".parse().unwrap(), RuleOverride::off());
            }
            4 => o.payment_term_days = Some(r.range(1, 30) as u32),
            _ => {}
        }
        cl = cl.with_overrides(o);
        if r.chance(15) {
            let from = start + Duration::days(r.range(0, 15));
            cl = cl.with_pause(
                Pause::new(PauseKind::Snooze, "snoozed")
                    .starting(from)
                    .until(from + Duration::days(r.range(0, 4))),
            );
        }
        // Alike items (one issue and due date) and a few of their own.
        let alike_due = start + Duration::days(r.range(-2, 10));
        for i in 0..r.range(2, 9) {
            let iid = format!("{id}-{i}");
            let due = if r.chance(60) {
                alike_due
            } else {
                start + Duration::days(r.range(-3, 14))
            };
            let cur = if r.chance(80) { "USD" } else { "CLP" };
            let mut it = invoice(
                &iid,
                &id,
                due - Duration::days(20),
                due,
                money(["100", "30", "1000"][r.below(3) as usize], cur),
            );
            if r.chance(10) {
                it = Item::action(
                    iid.parse().unwrap(),
                    id.parse().unwrap(),
                    ItemKind::Signature,
                    due - Duration::days(5),
                )
                .due(due);
            }
            if r.chance(10) {
                it.reminder_count = Some(r.range(1, 3) as u32);
                it.reminder_every_days = Some(r.range(1, 3) as u32);
            }
            if r.chance(10) {
                it = it.with_pause(
                    Pause::new(PauseKind::Promise, "promised")
                        .starting(due)
                        .until(due + Duration::days(r.range(0, 4))),
                );
            }
            items.push(it);
        }
        clients.push(cl);
    }
    let mut payments = Vec::new();
    for _ in 0..r.range(0, 2) {
        let i = r.below(items.len() as u64) as usize;
        let day = start + Duration::days(r.range(0, 20));
        payments.push((
            i,
            local_instant(tz(zone), day, t(r.range(0, 23) as u32, 5)),
            day - Duration::days(r.range(0, 2)),
        ));
    }
    let hourly = r.chance(30);
    let first = local_instant(TimeZone::UTC, start, t(0, 0));
    let hour = r.range(0, 23);
    let mut ticks = Vec::new();
    let mut now = first;
    while now < first + Duration::days(24) {
        let h = (now - first).num_hours() % 24;
        if hourly || h == hour {
            ticks.push(now);
        }
        now += Duration::hours(1);
    }
    Rich {
        policy,
        clients,
        items,
        payments,
        ticks,
        fail_every: [0, 3, 5][r.below(3) as usize],
    }
}

fn rich_items_at(w: &Rich, now: DateTime<Utc>) -> (Vec<Item>, BTreeSet<String>) {
    let mut paid = BTreeSet::new();
    let items = w
        .items
        .iter()
        .enumerate()
        .map(|(i, it)| {
            let mut it = it.clone();
            for (_, _, on) in w.payments.iter().filter(|p| p.0 == i && p.1 <= now) {
                if let Some(total) = it.total {
                    it = it.paid(total, *on);
                    paid.insert(it.id.to_string());
                } else {
                    it = it.with_status(ItemStatus::Completed);
                    paid.insert(it.id.to_string());
                }
            }
            it
        })
        .collect();
    (items, paid)
}

/// The keys history holds as gone or not to be tried again: sent, and failed or unknown
/// and not released since.
fn blocked_keys(history: &[HistoryEntry]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (k, h) in history.iter().enumerate() {
        let released = history[k..]
            .iter()
            .any(|x| x.key == h.key && x.outcome == HistoryOutcome::Released && x.sent_at >= h.sent_at);
        match h.outcome {
            HistoryOutcome::Sent => {
                out.insert(h.key.to_string());
            }
            HistoryOutcome::Released => {}
            _ if !released => {
                out.insert(h.key.to_string());
            }
            _ => {}
        }
    }
    out
}

/// Runs the host over a rich world: sends recorded (some failing for good or of unknown
/// outcome, later released), at every `every`-th tick the four ways and each client alone
/// compared; no key planned that history holds, nothing due about a paid item.
fn run_rich(w: &Rich, every: usize) -> (Vec<String>, usize, usize) {
    run_rich_with(w, every, 0)
}

/// Hostile entries a host's history may hold besides the planner's own sends: manual sends,
/// test sends, sends of rules gone from the policy, keys near the planner's, entries of one
/// client about another's items, releases of keys that never failed.
fn junk_entry(r: &mut SplitMix, w: &Rich, now: DateTime<Utc>) -> HistoryEntry {
    let it = &w.items[r.below(w.items.len() as u64) as usize];
    let other = &w.clients[r.below(w.clients.len() as u64) as usize];
    let (id, c) = (it.id.as_str(), it.client.as_str());
    let at = now - Duration::minutes(r.range(1, 60 * 72));
    let occ = r.range(1, 3) as u32;
    match r.below(7) {
        0 => HistoryEntry::manual(it.client.clone(), it.id.clone(), at),
        1 => entry(
            &format!("preview/over/{id}"),
            Some("over"),
            c,
            &[(id, 1)],
            at,
            HistoryOutcome::Sent,
        ),
        2 => entry(
            &format!("gone/{id}/{occ}"),
            Some("gone"),
            c,
            &[(id, occ)],
            at,
            HistoryOutcome::Sent,
        ),
        3 => entry(
            &format!("over/{id}/0{occ}"),
            Some("over"),
            c,
            &[(id, occ)],
            at,
            HistoryOutcome::Sent,
        ),
        4 => entry(
            &format!("over/{id}/{occ}"),
            Some("over"),
            other.id.as_str(),
            &[(id, occ)],
            at,
            HistoryOutcome::Sent,
        ),
        5 => entry(
            &format!("over/{id}/{occ}"),
            Some("over"),
            c,
            &[(id, occ)],
            at,
            HistoryOutcome::Released,
        ),
        _ => entry(
            &format!("soon/{id}/{occ}"),
            Some("soon"),
            c,
            &[(id, occ)],
            at,
            HistoryOutcome::OutcomeUnknown,
        ),
    }
}

fn run_rich_with(w: &Rich, every: usize, junk_pct: u64) -> (Vec<String>, usize, usize) {
    let planner = Planner::new(&w.policy).unwrap();
    let mut history: Vec<HistoryEntry> = Vec::new();
    let mut junk = SplitMix(w.ticks.len() as u64 * 31 + w.items.len() as u64);
    let mut bad = Vec::new();
    let (mut plans, mut sends) = (0, 0);
    let apart = w.policy.min_gap_days == 0
        && !w.policy.rules.iter().any(|r| r.group)
        && !w
            .clients
            .iter()
            .any(|c| c.overrides.min_gap_days.is_some_and(|g| g > 0));
    let mut to_release: Vec<(HistoryEntry, DateTime<Utc>)> = Vec::new();
    for (k, &now) in w.ticks.iter().enumerate() {
        to_release.retain(|(h, at)| {
            if *at <= now {
                history.push(HistoryEntry {
                    outcome: HistoryOutcome::Released,
                    sent_at: *at,
                    ..h.clone()
                });
                false
            } else {
                true
            }
        });
        if junk.chance(junk_pct) {
            let e = junk_entry(&mut junk, w, now);
            history.push(e);
        }
        let (items, paid) = rich_items_at(w, now);
        let h = Horizon::days(10);
        let plan = if k % every == 0 {
            plans += 1;
            match four_ways(&planner, &w.clients, &items, &history, now, h) {
                Ok(plan) => {
                    bad.extend(per_client(&planner, &w.clients, &items, &history, now, h, &plan));
                    if apart {
                        bad.extend(per_item(&planner, &w.clients, &items, &history, now, h, &plan));
                    }
                    plan
                }
                Err(e) => {
                    bad.push(e);
                    planner.plan(&w.clients, &items, &history, now, h).unwrap()
                }
            }
        } else {
            planner.plan(&w.clients, &items, &history, now, h).unwrap()
        };
        let blocked = if junk_pct == 0 {
            blocked_keys(&history)
        } else {
            BTreeSet::new()
        };
        let mut planned = BTreeSet::new();
        for e in plan.events() {
            for key in e.covered_keys() {
                if blocked.contains(key.as_str()) {
                    bad.push(format!("{key} planned ({}) though history holds it", e.send_on));
                }
                if !planned.insert(key.to_string()) {
                    bad.push(format!("{key} planned twice in one plan"));
                }
            }
        }
        for e in plan.due() {
            if e.statement.is_none() && e.standing.is_none() && e.rule.as_str() != "thanks" {
                for i in &e.items {
                    if paid.contains(i.item.as_str()) {
                        bad.push(format!("{} due about paid {}", e.key, i.item));
                    }
                }
            }
            sends += 1;
            let mut entry = e.to_history(now);
            if w.fail_every > 0 && sends % w.fail_every == 0 {
                entry.outcome = if sends % 2 == 0 {
                    failed()
                } else {
                    HistoryOutcome::OutcomeUnknown
                };
                to_release.push((entry.clone(), now + Duration::minutes(30 * 60 - 30)));
            }
            history.push(entry);
        }
        if !bad.is_empty() {
            return (
                bad.into_iter().take(6).map(|b| format!("{now}: {b}")).collect(),
                plans,
                sends,
            );
        }
    }
    (bad, plans, sends)
}

fn describe_rich(w: &Rich) -> String {
    let mut s = format!("policy: {}\n", serde_json::to_string(&w.policy).unwrap());
    for c in &w.clients {
        s.push_str(&format!(
            "client {} {:?} tags {:?} overrides {:?} pauses {:?}\n",
            c.id,
            c.time_zone.map(|z| z.name()),
            c.tags,
            c.overrides,
            c.pauses
        ));
    }
    for i in &w.items {
        s.push_str(&format!(
            "item {} {:?} of {} issued {} sent {:?} due {:?} total {:?} every {:?} count {:?} pauses {:?}\n",
            i.id,
            i.kind,
            i.client,
            i.issued_on,
            i.sent_on,
            i.due_on,
            i.total,
            i.reminder_every_days,
            i.reminder_count,
            i.pauses
        ));
    }
    s.push_str(&format!(
        "payments {:?}\nticks {} .. {} ({}), fail every {}\n",
        w.payments,
        w.ticks[0],
        w.ticks.last().unwrap(),
        w.ticks.len(),
        w.fail_every
    ));
    s
}

#[test]
fn rich_worlds_plan_alike_every_way_and_never_plan_a_key_history_holds() {
    let from = world::env_u64("RICH_FROM", 0);
    sweep_rich(from..from + world::env_u64("RICH_N", 40), |w| run_rich(w, 7));
}

/// Runs `run` over the rich worlds of `seeds`, and fails with the first two that disagree.
fn sweep_rich(seeds: std::ops::Range<u64>, run: impl Fn(&Rich) -> (Vec<String>, usize, usize)) {
    let mut fails = Vec::new();
    let (mut plans, mut sends) = (0, 0);
    for seed in seeds {
        let w = rich_world(seed);
        let (bad, p, s) = run(&w);
        plans += p;
        sends += s;
        if !bad.is_empty() {
            fails.push(format!("seed {seed}\n{}{}", describe_rich(&w), bad.join("\n")));
        }
    }
    assert!(plans > 100 && sends > 100, "{plans} plans, {sends} sends");
    assert!(
        fails.is_empty(),
        "{} failing worlds:\n{}",
        fails.len(),
        fails.iter().take(2).cloned().collect::<Vec<_>>().join("\n\n")
    );
}

/// Runs `f` on a thread: its result, or `Err` naming a panic or a run past `secs` seconds.
fn bounded<T: Send + 'static>(secs: u64, f: impl FnOnce() -> T + Send + 'static) -> Result<T, String> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
        let _ = tx.send(r.map_err(|p| {
            p.downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_default()
        }));
    });
    match rx.recv_timeout(std::time::Duration::from_secs(secs)) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(p)) => Err(format!("panicked: {p}")),
        Err(_) => Err(format!("still running after {secs} s")),
    }
}

/// Near misses of the planner's own key that change what planning an item makes: a send
/// keyed as the next occurrence of its rule, or as another rule's occurrence, of this very
/// item. Items alike keyed their own way come first (their plan is kept for a copy): the
/// item of the near miss must not get that copy. Every near miss is also put at each place
/// of a batch of 16 lookups.
#[test]
fn a_near_miss_of_an_own_key_is_never_copied_from_an_alike_item() {
    let policy = utc_policy()
        .with_rule(rule("soon", Anchor::Due, -2))
        .with_rule(rule("over", Anchor::Due, 1).repeat(2, 4));
    let planner = Planner::new(&policy).unwrap();
    let clients = [utc_client("c")];
    let due = june(1);
    let sent = at10(2);
    let mut checked = 0;
    for (what, key, rl, occ) in [
        ("the next occurrence's key", "over/X/2", "over", 1),
        ("another rule's key", "over/X/1", "soon", 1),
        ("an occurrence's key past ten", "over/X/10", "over", 9),
    ] {
        for pad in [0usize, 7, 14, 15, 16, 17] {
            // Items alike, each with its own send keyed as the planner keys it.
            let mut items: Vec<Item> = (0..20)
                .map(|n| invoice(&format!("P{n:02}"), "c", due - Duration::days(20), due, usd("10")))
                .collect();
            items.push(invoice("X", "c", due - Duration::days(20), due, usd("10")));
            let mut history: Vec<HistoryEntry> = Vec::new();
            for n in 0..pad {
                history.push(sent_entry("soon", &format!("P{n:02}"), "c", 3, sent));
            }
            for n in 0..20 {
                history.push(sent_entry(rl, &format!("P{n:02}"), "c", occ, sent));
            }
            history.push(entry(
                key,
                Some(rl),
                "c",
                &[("X", occ)],
                sent,
                HistoryOutcome::Sent,
            ));
            for now in [at10(3), at10(11), at10(20)] {
                let h = Horizon::days(30);
                let whole = four_ways(&planner, &clients, &items, &history, now, h).unwrap();
                let alone = planner.plan(&clients, &items[20..], &history, now, h).unwrap();
                let rules = &policy.rules;
                let (w, a) = (
                    item_lines(&whole, &"X".parse().unwrap(), rules),
                    item_lines(&alone, &"X".parse().unwrap(), rules),
                );
                assert!(!a.is_empty());
                assert_eq!(w, a, "{what}, {pad} before, at {now}");
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 54);
}

// ---------------------------------------------------------------------------------------
// Statements already sent (`explain::any_key_is`).
// ---------------------------------------------------------------------------------------

/// Hosts ticking daily over statements of two clients whose ids prefix each other, each sent
/// statement recorded as it went, some twice, some with a key of another day or another
/// client recorded beside it (a copy sent elsewhere), some never: no statement key history
/// holds for its client and rule is planned again, none goes twice, and every way to plan
/// and each client alone say the same.
#[test]
fn statements_sent_resent_or_keyed_for_others_are_never_planned_again() {
    let mut planned_statements = 0;
    let mut r = SplitMix(12);
    for round in 0..6 {
        let rrule = ["FREQ=WEEKLY;BYDAY=MO,TH", "FREQ=DAILY;INTERVAL=2", "FREQ=DAILY"][round % 3];
        let mut st = StatementRule::new("stmt".parse().unwrap(), rrule, d(2026, 1, 1));
        if round >= 3 {
            st = st.expires_after(2);
        }
        let other = StatementRule::new("stmt2".parse().unwrap(), "FREQ=WEEKLY;BYDAY=TU", d(2026, 1, 1));
        let policy = utc_policy()
            .with_calendar(weekends())
            .with_statement(st)
            .with_statement(other);
        let planner = Planner::new(&policy).unwrap();
        let clients = [
            client("c", "UTC"),
            client("c1", "Pacific/Kiritimati"),
            client("c10", "America/Santiago"),
        ];
        let items: Vec<Item> = ["c", "c1", "c10"]
            .iter()
            .flat_map(|c| {
                (0..2).map(move |n| invoice(&format!("{c}-{n}"), c, june(1), june(5 + n * 10), usd("10")))
            })
            .collect();
        let mut history: Vec<HistoryEntry> = Vec::new();
        let mut went: BTreeSet<String> = BTreeSet::new();
        for day in 1..=28u32 {
            let now = local_instant(
                TimeZone::UTC,
                june(1) + Duration::days(i64::from(day)),
                t([3, 11, 20][(day % 3) as usize], 0),
            );
            let plan = four_ways(&planner, &clients, &items, &history, now, Horizon::days(7)).unwrap();
            assert!(
                per_client(&planner, &clients, &items, &history, now, Horizon::days(7), &plan).is_empty()
            );
            let held: BTreeSet<(String, String)> = history
                .iter()
                .filter(|h| h.outcome == HistoryOutcome::Sent)
                .map(|h| {
                    (
                        h.key.to_string(),
                        h.rule.as_ref().map_or(String::new(), |r| r.to_string()),
                    )
                })
                .collect();
            for e in plan.events().filter(|e| e.statement.is_some()) {
                planned_statements += 1;
                assert!(
                    !held.contains(&(e.key.to_string(), e.rule.to_string())),
                    "round {round} {now}: {} planned again",
                    e.key
                );
            }
            for e in plan.due() {
                assert!(
                    went.insert(e.key.to_string()),
                    "round {round} {now}: {} goes twice",
                    e.key
                );
                let h = e.to_history(now);
                match r.below(6) {
                    0 => history.push(h.clone()),
                    1 if e.statement.is_some() => {
                        // The same period recorded for another client (its copy went there),
                        // with that client's key.
                        let to = ["c", "c1", "c10"][r.below(3) as usize];
                        let key = e
                            .key
                            .as_str()
                            .replacen(&format!("/{}/", e.client), &format!("/{to}/"), 1);
                        if to != e.client.as_str() {
                            history.push(HistoryEntry {
                                key: EventKey::from(key),
                                client: to.parse().unwrap(),
                                ..h.clone()
                            });
                        }
                    }
                    2 if e.statement.is_some() => {
                        // A send of another statement rule the same day, for this client.
                        let key = e.key.as_str().replacen("stmt/", "stmt2/", 1);
                        history.push(HistoryEntry {
                            key: EventKey::from(key),
                            rule: Some("stmt2".parse().unwrap()),
                            ..h.clone()
                        });
                    }
                    _ => {}
                }
                history.push(h);
            }
            if r.chance(30) {
                shuffle(&mut r, &mut history);
            }
        }
    }
    assert!(planned_statements > 50, "{planned_statements}");
}

/// One portfolio planned tick after tick (its index and its table of ids reused, history
/// growing, grouped notices, failures released) gives what a fresh `Planner::plan` gives.
#[test]
fn a_portfolio_reused_over_a_run_plans_as_fresh_planners() {
    let mut compared = 0;
    for seed in 300..315u64 {
        let w = rich_world(seed);
        let planner = Planner::new(&w.policy).unwrap();
        // The ticks in runs of one set of items (a payment starts a new run).
        let mut runs: Vec<(Vec<Item>, Vec<DateTime<Utc>>)> = Vec::new();
        for &now in &w.ticks {
            let (items, _) = rich_items_at(&w, now);
            match runs.last_mut() {
                Some((last, ticks)) if *last == items => ticks.push(now),
                _ => runs.push((items, vec![now])),
            }
        }
        let mut history: Vec<HistoryEntry> = Vec::new();
        let mut sends = 0;
        for (items, ticks) in &runs {
            let portfolio = planner.portfolio(&w.clients, items).unwrap();
            for &now in ticks {
                let fresh = planner
                    .plan(&w.clients, items, &history, now, Horizon::days(10))
                    .unwrap();
                let p = portfolio.plan(&history, now, Horizon::days(10)).unwrap();
                assert_eq!(full_lines(&p), full_lines(&fresh), "seed {seed} at {now}");
                let s = portfolio.schedule(&history, now, Horizon::days(10)).unwrap();
                assert_eq!(bulk_lines(&s), full_lines(&fresh), "seed {seed} at {now}");
                compared += 1;
                for e in fresh.due() {
                    sends += 1;
                    let mut h = e.to_history(now);
                    if w.fail_every > 0 && sends % w.fail_every == 0 {
                        h.outcome = HistoryOutcome::OutcomeUnknown;
                    }
                    history.push(h);
                }
            }
        }
    }
    assert!(compared > 500, "{compared}");
}

// ---------------------------------------------------------------------------------------
// Keys history holds, planned again.
// ---------------------------------------------------------------------------------------

/// `HistoryEntry` and `EventKey` promise: "A key recorded in history is never planned
/// again" (and the README: "Never twice"). A store that keeps each send's key and rule but
/// not the items it covered (as the README allows for statements), an operator's send of the
/// planned reminder recorded as manual under the reminder's key, or a statement recorded as
/// manual under its key: the planner reads only the items an entry lists, and plans the key
/// again, due at once. The memory store's claims look at deliveries, not history, so a host
/// that imported such history sends the reminder a second time.
#[test]
fn finding_a_key_history_holds_is_planned_again_when_its_entry_lists_no_items_of_its_rule() {
    let policy = utc_policy()
        .with_rule(rule("over", Anchor::Due, 0).repeat(3, 5))
        .with_statement(weekly("MO"));
    let planner = Planner::new(&policy).unwrap();
    let clients = [utc_client("c")];
    let items = [invoice("F-1", "c", d(2026, 5, 1), june(1), usd("10"))];
    let now = at10(2);
    let cases = [
        (
            "the reminder's key and rule, no items",
            entry(
                "over/F-1/1",
                Some("over"),
                "c",
                &[],
                at10(1),
                HistoryOutcome::Sent,
            ),
        ),
        (
            "the reminder's key, recorded as manual",
            entry(
                "over/F-1/1",
                None,
                "c",
                &[("F-1", 0)],
                at10(1),
                HistoryOutcome::Sent,
            ),
        ),
        (
            "the statement's key, recorded as manual",
            entry(
                "stmt/c/2026-06-01",
                None,
                "c",
                &[("F-1", 0)],
                at10(1),
                HistoryOutcome::Sent,
            ),
        ),
        (
            "the reminder's key, under the statement's rule",
            entry(
                "over/F-1/1",
                Some("stmt"),
                "c",
                &[("F-1", 0)],
                at10(1),
                HistoryOutcome::Sent,
            ),
        ),
        (
            "the statement's key, under the reminder's rule",
            entry(
                "stmt/c/2026-06-01",
                Some("over"),
                "c",
                &[("F-1", 1)],
                at10(1),
                HistoryOutcome::Sent,
            ),
        ),
        (
            "the statement's key, under another client",
            entry(
                "stmt/c/2026-06-01",
                Some("stmt"),
                "d",
                &[],
                at10(1),
                HistoryOutcome::Sent,
            ),
        ),
        (
            "the reminder's key, listing another item",
            entry(
                "over/F-1/1",
                Some("over"),
                "c",
                &[("F-2", 1)],
                at10(1),
                HistoryOutcome::Sent,
            ),
        ),
        (
            "the reminder's key, failed, manual",
            entry("over/F-1/1", None, "c", &[], at10(1), failed()),
        ),
        (
            "the reminder's key, outcome unknown",
            entry(
                "over/F-1/1",
                Some("over"),
                "c",
                &[],
                at10(1),
                HistoryOutcome::OutcomeUnknown,
            ),
        ),
    ];
    let mut bad = Vec::new();
    let mut planned_without = 0;
    for (what, h) in cases {
        // Without the entry, its key is planned (so each case can fail).
        let without = planner
            .plan(&clients, &items, &[], now, Horizon::days(7))
            .unwrap();
        planned_without += usize::from(without.events().any(|e| e.key == h.key));
        let plan = planner
            .plan(&clients, &items, std::slice::from_ref(&h), now, Horizon::days(7))
            .unwrap();
        if let Some(e) = plan.events().find(|e| e.key == h.key) {
            let when = if plan.due().contains(e) {
                "due now"
            } else {
                "upcoming"
            };
            bad.push(format!("{what}: {} planned again, {when} ({})", e.key, e.send_on));
        }
        // Released at or after it, a failed or unknown send is as if never made: planned.
        if !h.outcome.is_sent() {
            let mut release = h.clone();
            release.outcome = HistoryOutcome::Released;
            release.sent_at = at10(2) - chrono::Duration::hours(1);
            let plan = planner
                .plan(&clients, &items, &[h.clone(), release], now, Horizon::days(7))
                .unwrap();
            if !plan.events().any(|e| e.key == h.key) {
                bad.push(format!("{what}, released: {} not planned", h.key));
            }
        }
    }
    assert_eq!(planned_without, 9);
    assert!(bad.is_empty(), "{bad:#?}");
}

/// "A portfolio is `Send` and `Sync`: threads can plan it at once": threads planning one
/// portfolio at once (the first of them making its table of ids, history about most items
/// listed out of order) each get what one thread gets.
#[test]
fn threads_planning_one_portfolio_at_once_get_the_same_plans() {
    let w = alike_world(7);
    let planner = Planner::new(&w.policy).unwrap();
    // Items out of id order: their ids are found through a table, made once.
    let mut items = w.items.clone();
    items.reverse();
    let history = w.history.clone();
    let want = full_lines(
        &planner
            .plan(&w.clients, &items, &history, w.now, Horizon::days(10))
            .unwrap(),
    );
    assert!(want.len() > 10, "{}", want.len());
    let portfolio = planner.portfolio(&w.clients, &items).unwrap();
    std::thread::scope(|s| {
        let runs: Vec<_> = (0..4)
            .map(|k| {
                let (portfolio, history) = (&portfolio, &history);
                s.spawn(move || {
                    let h = if k % 2 == 0 {
                        &history[..]
                    } else {
                        &history[..history.len() / 3]
                    };
                    (
                        k,
                        full_lines(&portfolio.plan(h, w.now, Horizon::days(10)).unwrap()),
                    )
                })
            })
            .collect();
        for r in runs {
            let (k, got) = r.join().unwrap();
            if k % 2 == 0 {
                assert_eq!(got, want, "thread {k}");
            } else {
                let part = &history[..history.len() / 3];
                let alone = full_lines(
                    &planner
                        .plan(&w.clients, &items, part, w.now, Horizon::days(10))
                        .unwrap(),
                );
                assert_eq!(got, alone, "thread {k}");
            }
        }
    });
}

// ---------------------------------------------------------------------------------------
// Limits and the ends of time.
// ---------------------------------------------------------------------------------------

/// Past a limit: a typed error naming the field (or client) and the value, never a panic,
/// a hang or a plan. At the ends of the calendar, with the largest lookback: a plan, in
/// bounded time.
#[test]
fn limits_give_typed_errors_and_the_ends_of_time_plan() {
    let usd_minor = |n: i64| Money::from_minor(n, Currency::from_code("USD").unwrap());
    let base = || utc_policy().with_rule(rule("over", Anchor::Due, 0).repeat(1, 5));
    type Case = (
        &'static str,
        Policy,
        Vec<Client>,
        Vec<Item>,
        DateTime<Utc>,
        u32,
        &'static [&'static str],
    );
    let inv = || invoice("F-1", "c", d(2026, 5, 1), june(1), usd("10"));
    let mut with_count = inv();
    with_count.reminder_count = Some(10_001);
    let mut with_every = inv();
    with_every.reminder_every_days = Some(36_601);
    let mut o = ClientOverrides::default();
    o.rules.insert(
        "over".parse().unwrap(),
        RuleOverride {
            offset_days: Some(-36_601),
            ..RuleOverride::default()
        },
    );
    let mut fee = rule("over", Anchor::Due, 0);
    fee.late_fee = Some(LateFee {
        fixed: vec![usd_minor(i64::MAX)],
        basis_points: 1,
        cap: vec![],
    });
    let errors: Vec<Case> = vec![
        (
            "horizon",
            base(),
            vec![utc_client("c")],
            vec![inv()],
            at10(3),
            3661,
            &["horizon", "3661"],
        ),
        (
            "item count",
            base(),
            vec![utc_client("c")],
            vec![with_count],
            at10(3),
            5,
            &["F-1", "10001"],
        ),
        (
            "item spacing",
            base(),
            vec![utc_client("c")],
            vec![with_every],
            at10(3),
            5,
            &["F-1", "36601"],
        ),
        (
            "client offset",
            base(),
            vec![utc_client("c").with_overrides(o)],
            vec![inv()],
            at10(3),
            5,
            &["client c", "offset_days", "-36601"],
        ),
        (
            "balances",
            base(),
            vec![utc_client("c")],
            vec![
                invoice("F-1", "c", d(2026, 5, 1), june(1), usd_minor(i64::MAX)),
                invoice("F-2", "c", d(2026, 5, 1), june(1), usd_minor(1)),
            ],
            at10(3),
            5,
            &["client c", "USD"],
        ),
        (
            "late fee",
            utc_policy().with_rule(fee),
            vec![utc_client("c")],
            vec![invoice("F-1", "c", d(2026, 5, 1), june(1), usd("100"))],
            at10(3),
            5,
            &["late fee", "USD"],
        ),
    ];
    for (what, policy, clients, items, now, h, words) in errors {
        let got = bounded(20, move || {
            let planner = Planner::new(&policy)?;
            planner
                .plan(&clients, &items, &[], now, Horizon::days(h))
                .map(|p| p.due().len())
        });
        match got {
            Ok(Err(e)) => {
                let text = e.to_string();
                assert!(words.iter().all(|w| text.contains(w)), "{what}: {text}");
            }
            other => panic!("{what}: {other:?}"),
        }
    }
    // The ends of time: plans, in bounded time.
    let stmt = || StatementRule::new("stmt".parse().unwrap(), "FREQ=DAILY", d(2026, 1, 1));
    let ends: Vec<(&str, DateTime<Utc>, &str, NaiveDate)> = vec![
        (
            "last instant, east",
            DateTime::<Utc>::MAX_UTC,
            "Pacific/Kiritimati",
            NaiveDate::MAX,
        ),
        (
            "first instant, west",
            DateTime::<Utc>::MIN_UTC,
            "Pacific/Pago_Pago",
            NaiveDate::MIN + Duration::days(3),
        ),
    ];
    for (what, now, zone, due) in ends {
        let got = bounded(20, move || {
            let policy = utc_policy()
                .with_rule(rule("soon", Anchor::Due, -36_600))
                .with_rule(rule("over", Anchor::Due, 36_600).repeat(36_600, 10_000))
                .with_statement(stmt())
                .with_standing(StandingRule::new(1, 2));
            let planner = Planner::new(&policy).unwrap().with_lookback(u32::MAX);
            let items = [invoice("F-1", "c", due - Duration::days(3), due, usd("10"))];
            let history = [
                sent_entry("over", "F-1", "c", u32::MAX, now),
                sent_entry("soon", "F-1", "c", 1, DateTime::<Utc>::MAX_UTC),
            ];
            planner
                .plan(&[client("c", zone)], &items, &history, now, Horizon::days(3660))
                .map(|p| p.due().len())
        });
        assert!(matches!(got, Ok(Ok(_))), "{what}: {got:?}");
    }
}

/// As the rich worlds above, with hostile entries in the history besides the host's own
/// sends: every way to plan, each client alone and each item alone still say the same.
#[test]
fn rich_worlds_with_hostile_history_plan_alike_every_way() {
    sweep_rich(500..500 + world::env_u64("HOSTILE_N", 20), |w| {
        run_rich_with(w, 7, 25)
    });
}
