//! Invariants over generated inputs (proptest).

mod common;

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use common::*;
use dunning::*;
use proptest::prelude::*;

const ZONES: [&str; 5] = [
    "America/Santiago",
    "Europe/Madrid",
    "UTC",
    "Asia/Tokyo",
    "America/New_York",
];

#[derive(Debug, Clone)]
struct World {
    policy: Policy,
    clients: Vec<Client>,
    items: Vec<Item>,
    history: Vec<HistoryEntry>,
    now: DateTime<Utc>,
    horizon: Horizon,
}

fn base() -> NaiveDate {
    d(2026, 3, 1)
}

fn policy_strategy() -> impl Strategy<Value = Policy> {
    (
        (-10i32..=-1, 0i32..=10, 1u32..=10, 1u32..=4),
        (any::<[bool; 5]>(), 0u32..=3, any::<bool>(), 1u32..=30),
        (
            proptest::option::of(0i64..40),
            proptest::option::of(0i64..60),
            proptest::collection::vec(0i64..120, 0..4),
        ),
        (0u32..=12, any::<bool>(), 0u8..4),
    )
        .prop_map(
            |(
                (soon, late, every, count),
                (on, gap, weekends, term),
                (past, new, holidays),
                (hour, group, account),
            )| {
                let mut p = Policy::new(tz("America/Santiago"))
                    .with_payment_term(term)
                    .with_min_gap(gap)
                    .with_send_time(t(hour + 6, 0))
                    .with_collection_start(CollectionStart {
                        past_items: past.map(|x| base() + Duration::days(x)),
                        new_items: new.map(|x| base() + Duration::days(x)),
                    })
                    .with_calendar(BusinessCalendar::new(
                        if weekends {
                            vec![chrono::Weekday::Sat, chrono::Weekday::Sun]
                        } else {
                            vec![]
                        },
                        holidays.into_iter().map(|x| base() + Duration::days(x)),
                    ));
                if on[0] {
                    p = p.with_rule(rule("issued", Anchor::Issued, 0));
                }
                if on[1] {
                    p = p.with_rule(rule("due-soon", Anchor::Due, soon));
                }
                // Always present (client overrides name it), switched off when not drawn.
                let r = rule("overdue", Anchor::Due, late)
                    .repeat(every, count)
                    .enabled(on[2]);
                p = p.with_rule(if group { r.grouped() } else { r });
                if on[3] {
                    p = p.with_rule(Rule::pending_action("pending".parse().unwrap()));
                }
                if on[4] {
                    p = p.with_rule(Rule::thank_you("thanks".parse().unwrap()));
                }
                if account & 1 == 1 {
                    let st = StatementRule::new("estado".parse().unwrap(), "FREQ=WEEKLY;BYDAY=MO,TH", base());
                    p = p.with_statement(st);
                }
                if account & 2 == 2 {
                    p = p.with_standing(StandingRule::new(10, 25));
                }
                p
            },
        )
}

fn client_strategy(i: usize) -> impl Strategy<Value = Client> {
    (
        0..ZONES.len(),
        proptest::collection::vec((0u8..4, 0u8..4), 0..4),
        0u8..8,
        proptest::option::of((0i64..100, 0i64..20)),
    )
        .prop_map(move |(zone, contacts, ov, pause)| {
            let id = format!("c{i}");
            let mut c =
                Client::new(id.parse().unwrap(), format!("Client {i}")).with_time_zone(tz(ZONES[zone]));
            for (n, (notify, role)) in contacts.into_iter().enumerate() {
                let role = [
                    ContactRole::Billing,
                    ContactRole::Manager,
                    ContactRole::Executive,
                    ContactRole::Other,
                ][role as usize];
                c = c.with_contact(
                    Contact::new(format!("P{n}"), format!("p{n}@{id}.example"))
                        .with_notify(notify != 0)
                        .with_role(role),
                );
            }
            c.overrides = match ov {
                0 => ClientOverrides::default().reminders(false),
                1 => ClientOverrides::default().rule("overdue".parse().unwrap(), RuleOverride::off()),
                2 => ClientOverrides::default().payment_term(7),
                _ => ClientOverrides::default(),
            };
            if let Some((from, len)) = pause {
                let from = base() + Duration::days(from);
                c = c.with_pause(
                    Pause::new(PauseKind::Hold, "hold")
                        .starting(from)
                        .until(from + Duration::days(len)),
                );
            }
            c
        })
}

fn item_strategy(i: usize, clients: usize) -> impl Strategy<Value = Item> {
    (
        (0..clients, 0usize..6, 0i64..90, proptest::option::of(0i64..40)),
        (1i64..1_000_000, 0u8..4, 0u8..16),
        (
            proptest::option::of((0u8..4, 0i64..100, proptest::option::of(0i64..30))),
            any::<bool>(),
        ),
    )
        .prop_map(
            move |((client, kind, issued, due), (total, paid, status), (pause, reminders))| {
                let kind = ItemKind::ALL[kind];
                let issued = base() + Duration::days(issued);
                let id = format!("i{i}");
                let client = format!("c{client}");
                let mut item = if kind == ItemKind::Invoice {
                    let cur = if i % 2 == 0 { "CLP" } else { "EUR" };
                    let total = Money::from_minor(total, Currency::from_code(cur).unwrap());
                    let mut item = Item::invoice(id.parse().unwrap(), client.parse().unwrap(), issued, total);
                    match paid {
                        1 => item = item.paid(Money::from_minor(total.minor() / 2, total.currency()), issued),
                        2 => item = item.paid(total, issued + Duration::days(5)),
                        _ => {}
                    }
                    item
                } else {
                    Item::action(id.parse().unwrap(), client.parse().unwrap(), kind, issued)
                };
                if let Some(days) = due {
                    item.due_on = Some(issued + Duration::days(days));
                }
                item.status = match status {
                    0 => ItemStatus::Cancelled,
                    1 => ItemStatus::Void,
                    2 => ItemStatus::Draft,
                    3 if kind != ItemKind::Invoice => ItemStatus::Completed,
                    _ => item.status,
                };
                if let Some((k, from, len)) = pause {
                    let kind = [
                        PauseKind::Promise,
                        PauseKind::Dispute,
                        PauseKind::Hold,
                        PauseKind::Snooze,
                    ][k as usize];
                    let from = base() + Duration::days(from);
                    let p = Pause::new(kind, "pause").starting(from);
                    item = item.with_pause(match len {
                        Some(len) => p.until(from + Duration::days(len)),
                        None => p,
                    });
                }
                item.reminders = reminders || i % 5 != 0;
                item
            },
        )
}

fn world_strategy() -> impl Strategy<Value = World> {
    (policy_strategy(), 1usize..4, 0usize..14)
        .prop_flat_map(|(policy, n_clients, n_items)| {
            let clients: Vec<_> = (0..n_clients).map(client_strategy).collect();
            let items: Vec<_> = (0..n_items).map(|i| item_strategy(i, n_clients)).collect();
            (
                Just(policy),
                clients,
                items,
                0i64..120,
                0u32..24,
                0u32..60,
                proptest::option::of(0i64..120),
            )
        })
        .prop_map(|(policy, clients, items, day, hour, horizon, earlier)| {
            let now = utc(2026, 3, 1, hour, 0) + Duration::days(day);
            // History: what an earlier run, at `earlier`, sent.
            let mut history = Vec::new();
            if let Some(e) = earlier {
                let then = utc(2026, 3, 1, 15, 0) + Duration::days(e.min(day));
                if then < now {
                    let planner = Planner::new(&policy).unwrap();
                    let plan = planner.plan(&clients, &items, &[], then, Horizon::NONE).unwrap();
                    history.extend(plan.due().iter().map(|ev| ev.to_history(then)));
                    if let Some(item) = items.first() {
                        history.push(HistoryEntry::manual(item.client.clone(), item.id.clone(), then));
                    }
                }
            }
            World {
                policy,
                clients,
                items,
                history,
                now,
                horizon: Horizon::days(horizon),
            }
        })
}

fn shuffled<T: Clone>(v: &[T], seed: u64) -> Vec<T> {
    let mut out = v.to_vec();
    let mut s = seed | 1;
    for i in (1..out.len()).rev() {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        out.swap(i, (s % (i as u64 + 1)) as usize);
    }
    out
}

fn plan(w: &World) -> Plan {
    Planner::new(&w.policy)
        .unwrap()
        .plan(&w.clients, &w.items, &w.history, w.now, w.horizon)
        .unwrap()
}

proptest! {
    #[test]
    fn plans_read_back_from_json_and_carry_their_explanations(w in world_strategy()) {
        assert_round_trips(&plan(&w));
    }

    #[test]
    fn a_schedule_reads_in_place_as_the_plan_it_makes(w in world_strategy()) {
        let planner = Planner::new(&w.policy).unwrap();
        let schedule = planner.schedule(&w.clients, &w.items, &w.history, w.now, w.horizon).unwrap();
        let p = schedule.to_plan();
        prop_assert_eq!(&p, &plan(&w));
        prop_assert_eq!(serde_json::to_string(&schedule).unwrap(), serde_json::to_string(&p).unwrap());
        for (views, events) in [(schedule.due(), p.due()), (schedule.upcoming(), p.upcoming())] {
            prop_assert_eq!(views.len(), events.len());
            for (v, e) in views.zip(events) {
                prop_assert_eq!(&v.key(), &e.key);
                prop_assert_eq!(v.rule(), &e.rule);
                prop_assert_eq!(&v.client().id, &e.client);
                prop_assert_eq!(v.stage(), e.stage);
                prop_assert_eq!(v.send_on(), e.send_on);
                prop_assert_eq!(v.send_at(), e.send_at);
                let items: Vec<&ItemId> = v.items().map(|i| &i.id).collect();
                prop_assert_eq!(items, e.items.iter().map(|i| &i.item).collect::<Vec<_>>());
                prop_assert_eq!(&v.to_event(), e);
                prop_assert_eq!(v.explain(), e.explain());
            }
        }
        prop_assert_eq!(schedule.suppressed().len(), p.suppressed().len());
        for (v, s) in schedule.suppressed().zip(p.suppressed()) {
            prop_assert_eq!(&v.key(), &s.key);
            prop_assert_eq!(v.rule(), &s.rule);
            prop_assert_eq!(&v.client().id, &s.client);
            prop_assert_eq!(v.item().map(|i| &i.id), s.item.as_ref());
            prop_assert_eq!(v.on(), s.on);
            prop_assert_eq!(&v.reason(), &s.reason);
            prop_assert_eq!(&v.to_suppressed(), s);
        }
        prop_assert_eq!(schedule.standings(), p.standings());
    }

    #[test]
    fn a_portfolio_plans_as_the_planner_does(w in world_strategy(), later in 0i64..40) {
        let planner = Planner::new(&w.policy).unwrap();
        let portfolio = planner.portfolio(&w.clients, &w.items).unwrap();
        // One portfolio, planned at several instants, each plan as a fresh one.
        for now in [w.now, w.now + Duration::days(later), w.now - Duration::days(later)] {
            let fresh = planner.plan(&w.clients, &w.items, &w.history, now, w.horizon).unwrap();
            prop_assert_eq!(&portfolio.plan(&w.history, now, w.horizon).unwrap(), &fresh);
            prop_assert_eq!(&portfolio.schedule(&w.history, now, w.horizon).unwrap().to_plan(), &fresh);
        }
    }

    #[test]
    fn deterministic_and_input_order_independent(w in world_strategy(), seed in any::<u64>()) {
        let a = serde_json::to_string(&plan(&w)).unwrap();
        prop_assert_eq!(&a, &serde_json::to_string(&plan(&w)).unwrap());
        let mut v = w.clone();
        v.clients = shuffled(&w.clients, seed);
        for c in &mut v.clients {
            c.contacts = shuffled(&c.contacts, seed.rotate_left(7));
        }
        v.items = shuffled(&w.items, seed.rotate_left(13));
        for i in &mut v.items {
            i.pauses = shuffled(&i.pauses, seed.rotate_left(3));
        }
        v.history = shuffled(&w.history, seed.rotate_left(29));
        prop_assert_eq!(&a, &serde_json::to_string(&plan(&v)).unwrap());
        // Listed in the order they are planned (client by client, each client's items by id),
        // which is checked in one pass.
        v.items.sort_by(|x, y| (&x.client, &x.id).cmp(&(&y.client, &y.id)));
        prop_assert_eq!(&a, &serde_json::to_string(&plan(&v)).unwrap());
        // Clients listed in id order too (checked in one pass; items find their clients from
        // that order).
        v.clients.sort_by(|x, y| x.id.cmp(&y.id));
        prop_assert_eq!(&a, &serde_json::to_string(&plan(&v)).unwrap());
        // Items in planning order but the clients' runs reversed: found by binary search
        // until one comes before the last, then the two passes.
        let mut runs: Vec<Vec<Item>> = Vec::new();
        for it in &v.items {
            match runs.last_mut() {
                Some(run) if run[0].client == it.client => run.push(it.clone()),
                _ => runs.push(vec![it.clone()]),
            }
        }
        let mut reversed = v.clone();
        reversed.items = runs.into_iter().rev().flatten().collect();
        prop_assert_eq!(&a, &serde_json::to_string(&plan(&reversed)).unwrap());
        // Listed item by item, as a store ordered by item gives it.
        v.history.sort_by(|x, y| x.items.first().map(|i| &i.item).cmp(&y.items.first().map(|i| &i.item)));
        prop_assert_eq!(a, serde_json::to_string(&plan(&v)).unwrap());
    }

    /// Items whose ids ascend across the whole input as they are planned (client by client)
    /// are found without a table of ids unless history is long: planned as when the same
    /// items come shuffled (a table of ids, duplicates looked for), with history short and
    /// long, listed item by item or not, and a duplicate id across two clients still refused.
    #[test]
    fn items_listed_in_ascending_ids_plan_as_shuffled_ones(w in world_strategy(), seed in any::<u64>()) {
        let mut v = w.clone();
        v.clients.sort_by(|x, y| x.id.cmp(&y.id));
        let rank: std::collections::HashMap<ClientId, usize> =
            v.clients.iter().enumerate().map(|(r, c)| (c.id.clone(), r)).collect();
        // Ids that sort client by client: the client's rank first.
        let renamed: std::collections::HashMap<String, String> = v
            .items
            .iter()
            .map(|i| (i.id.to_string(), format!("{:03}~{}", rank[&i.client], i.id)))
            .collect();
        for i in &mut v.items {
            i.id = renamed[i.id.as_str()].parse().unwrap();
        }
        for h in &mut v.history {
            for hi in &mut h.items {
                if let Some(new) = renamed.get(hi.item.as_str()) {
                    hi.item = new.parse().unwrap();
                }
            }
            let key: Vec<&str> = h
                .key
                .as_str()
                .split('/')
                .map(|part| renamed.get(part).map_or(part, String::as_str))
                .collect();
            h.key = EventKey::from(key.join("/"));
        }
        v.items.sort_by(|x, y| x.id.cmp(&y.id));
        let planner = Planner::new(&v.policy).unwrap();
        // History short (searched) and long (a table: the same entries many times over).
        let long: Vec<HistoryEntry> = v.history.iter().cycle().take(v.history.len() * 4 + 2 * v.items.len()).cloned().collect();
        let mut by_item = v.history.clone();
        by_item.sort_by(|x, y| x.items.first().map(|i| &i.item).cmp(&y.items.first().map(|i| &i.item)));
        let shuffled_items = shuffled(&v.items, seed);
        for history in [&v.history, &by_item, &long] {
            let listed = planner.plan(&v.clients, &v.items, history, v.now, v.horizon).unwrap();
            let mixed = planner.plan(&v.clients, &shuffled_items, history, v.now, v.horizon).unwrap();
            prop_assert_eq!(
                serde_json::to_string(&listed).unwrap(),
                serde_json::to_string(&mixed).unwrap()
            );
        }
        // One id given to an item of the next client too: still ascending but for that one.
        if let Some(k) = (1..v.items.len()).find(|&k| v.items[k - 1].client != v.items[k].client) {
            let mut twice = v.items.clone();
            twice[k].id = twice[k - 1].id.clone();
            let err = planner.plan(&v.clients, &twice, &v.history, v.now, v.horizon).unwrap_err();
            prop_assert_eq!(
                err,
                ValidationError::DuplicateId { kind: "item", id: twice[k].id.to_string() }
            );
        }
    }

    #[test]
    fn listings_are_in_the_documented_order_and_index_as_they_iterate(w in world_strategy()) {
        let p = plan(&w);
        for listing in [p.due(), p.upcoming()] {
            let events: Vec<&Event> = listing.iter().collect();
            prop_assert_eq!(events.len(), listing.len());
            for (i, e) in events.iter().enumerate() {
                prop_assert!(std::ptr::eq(&listing[i], *e));
            }
            prop_assert!(listing.get(events.len()).is_none());
            // By send instant, then client, then key.
            for pair in events.windows(2) {
                let (a, b) = (pair[0], pair[1]);
                prop_assert!((a.send_at, &a.client, &a.key) < (b.send_at, &b.client, &b.key), "{} then {}", a.key, b.key);
            }
        }
        let suppressed: Vec<&Suppressed> = p.suppressed().iter().collect();
        for (i, s) in suppressed.iter().enumerate() {
            prop_assert!(std::ptr::eq(&p.suppressed()[i], *s));
        }
        // By date, then client, then item, rule and key.
        for pair in suppressed.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            prop_assert!((a.on, &a.client, &a.item, &a.rule, &a.key) <= (b.on, &b.client, &b.item, &b.rule, &b.key));
        }
    }

    #[test]
    fn never_an_event_for_a_stopped_item(w in world_strategy()) {
        let p = plan(&w);
        for e in p.events() {
            // The day it goes: today for a due event (a missed one keeps its earlier day).
            let goes_on = if e.send_at <= p.now { e.time_zone.local_date(p.now) } else { e.send_on };
            for ei in &e.items {
                let item = w.items.iter().find(|i| i.id == ei.item).unwrap();
                let client = w.clients.iter().find(|c| c.id == item.client).unwrap();
                let status = item.effective_status().unwrap();
                if e.stage == Stage::ThankYou {
                    prop_assert!(status.is_settled());
                } else if matches!(e.stage, Stage::Statement | Stage::OverdueStatement) {
                    // A statement is a ledger: it lists every owed item, paused or not.
                    prop_assert!(status.is_pending());
                    prop_assert!(!client.pauses.iter().any(|pa| pa.is_active(goes_on)));
                    continue;
                } else {
                    prop_assert!(status.is_pending(), "{} for a {:?} item", e.key, status);
                    prop_assert!(
                        !item.pauses.iter().chain(&client.pauses).any(|pa| pa.is_active(goes_on)),
                        "{} on {} during a pause", e.key, goes_on
                    );
                }
                prop_assert!(item.reminders, "{} for an item with reminders off", e.key);
                prop_assert!(client.overrides.reminders != Some(false));
                prop_assert!(!e.recipients.is_empty());
            }
        }
    }

    #[test]
    fn never_two_events_with_one_key_nor_a_key_already_sent(w in world_strategy()) {
        let p = plan(&w);
        let sent: HashSet<&str> = w.history.iter().map(|h| h.key.as_str()).collect();
        let mut keys = HashSet::new();
        for e in p.events() {
            prop_assert!(keys.insert(e.key.as_str()), "duplicate {}", e.key);
            prop_assert!(!sent.contains(e.key.as_str()), "{} was already sent", e.key);
            prop_assert!(e.occurrence <= e.count);
        }
    }

    #[test]
    fn replan_after_recording_plans_none_of_them_again(w in world_strategy()) {
        let planner = Planner::new(&w.policy).unwrap();
        let first = planner.plan(&w.clients, &w.items, &w.history, w.now, w.horizon).unwrap();
        let mut history = w.history.clone();
        history.extend(first.due().iter().map(|e| e.to_history(w.now)));
        let again = planner.plan(&w.clients, &w.items, &history, w.now, w.horizon).unwrap();
        let recorded: HashSet<&str> = first.due().iter().map(|e| e.key.as_str()).collect();
        prop_assert!(again.due().is_empty(), "still due: {:?}", again.due().iter().map(|e| &e.key).collect::<Vec<_>>());
        for e in again.events() {
            prop_assert!(!recorded.contains(e.key.as_str()));
        }
    }

    #[test]
    fn never_more_than_a_rules_count_over_a_run(w in world_strategy()) {
        let planner = Planner::new(&w.policy).unwrap();
        let history = simulate(&planner, &w.clients, &w.items, w.now, w.now + Duration::days(60), Duration::days(1));
        let mut sent: BTreeMap<(String, String), u32> = BTreeMap::new();
        for h in &history {
            for it in &h.items {
                *sent.entry((h.rule.as_ref().unwrap().to_string(), it.item.to_string())).or_default() += 1;
            }
        }
        for ((rule, item), n) in sent {
            // Statements and standing notices are client-level: at most one per key.
            let Some(r) = w.policy.rules.iter().find(|r| r.id.as_str() == rule) else { continue };
            let it = w.items.iter().find(|i| i.id.as_str() == item).unwrap();
            let count = it.reminder_count.unwrap_or(r.count);
            prop_assert!(n <= count, "{} sent {} times for {}, count {}", rule, n, item, count);
        }
    }

    #[test]
    fn nothing_before_the_collection_start(w in world_strategy()) {
        let p = plan(&w);
        let c = &w.policy.collection;
        for e in p.events() {
            for ei in &e.items {
                let item = w.items.iter().find(|i| i.id == ei.item).unwrap();
                if let Some(start) = c.past_items {
                    prop_assert!(ei.due_on.unwrap_or(item.issued_on) >= start, "{} predates {}", e.key, start);
                }
                if let (Some(start), Some(Anchor::Issued)) = (c.new_items, e.why.anchor) {
                    prop_assert!(item.issued_on >= start);
                }
            }
        }
    }
}

/// A long run of repeats dropped by `expires_after` in a catch-up is passed over at once
/// where nothing but the rule's spacing places them; a pause far past the horizon, which
/// holds nothing in the plan, makes the planner step through them one by one instead. The
/// two plans are the same, on calendars with weekends and holidays, zones either side of
/// UTC, daily to weekly repeats of up to the largest count, and any expiry.
mod expired_runs {
    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]
        #[test]
        fn passing_a_run_of_expired_repeats_at_once_changes_nothing(
            every in 1u32..9,
            count in prop_oneof![1u32..40, Just(limits::MAX_COUNT)],
            expiry in 0u32..15,
            offset in -3i32..20,
            due_years_ago in 0i64..8,
            due_day in 0i64..365,
            anchor_issued in any::<bool>(),
            weekends in proptest::collection::btree_set(0u8..7, 0..3),
            holidays in proptest::collection::btree_set(0i64..3_000, 0..30),
            zone in prop::sample::select(vec!["UTC", "America/Santiago", "Asia/Tokyo", "Europe/Madrid"]),
            lookback in prop::sample::select(vec![0u32, 7, 30]),
            horizon in 0u32..20,
            hour in 0u32..24,
            other_rule in any::<bool>(),
        ) {
            let now = utc(2026, 6, 1, hour, 0);
            let due = NaiveDate::from_ymd_opt(2026 - i32::try_from(due_years_ago).unwrap(), 1, 1).unwrap()
                + Duration::days(due_day);
            let issued = due - Duration::days(30);
            let anchor = if anchor_issued { Anchor::Issued } else { Anchor::Due };
            let calendar = BusinessCalendar::new(
                weekends.iter().map(|&w| chrono::Weekday::try_from(w).unwrap()),
                holidays.iter().map(|&h| NaiveDate::from_ymd_opt(2018, 1, 1).unwrap() + Duration::days(h)),
            );
            let mut policy = Policy::new(TimeZone::from_name(zone).unwrap())
                .with_calendar(calendar)
                .with_rule(
                    rule("daily", anchor, if anchor_issued { offset.max(0) } else { offset })
                        .repeat(every, count)
                        .expires_after(expiry),
                );
            if other_rule {
                policy = policy.with_rule(rule("final", Anchor::Due, 400));
            }
            let planner = Planner::new(&policy).unwrap().with_lookback(lookback);
            let clients = [client("acme", zone)];
            let item = invoice("F-1", "acme", issued, due, money("100", "USD"));
            let far = Pause::new(PauseKind::Hold, "later").starting(NaiveDate::from_ymd_opt(2200, 1, 1).unwrap());
            let plan = |item: Item| planner.plan(&clients, &[item], &[], now, Horizon::days(horizon)).unwrap();
            let at_once = plan(item.clone());
            let stepped = plan(item.with_pause(far));
            prop_assert_eq!(&at_once.due(), &stepped.due());
            prop_assert_eq!(&at_once.upcoming(), &stepped.upcoming());
            prop_assert_eq!(&at_once.suppressed(), &stepped.suppressed());
        }
    }
}
