//! Adversarial tests of serde, loading, determinism, `Plan::diff` and `effective_settings`,
//! written from the documentation only.

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone as _, Utc};
use dunning::load::{self, LoadErrorKind};
use dunning::*;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn utc(y: i32, m: u32, day: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, day, h, 0, 0).unwrap()
}

fn money(text: &str, code: &str) -> Money {
    Money::parse(text, Currency::from_code(code).unwrap()).unwrap()
}

fn policy() -> Policy {
    Policy::new(TimeZone::from_name("America/Santiago").unwrap())
        .with_rule(Rule::new("due-soon".parse().unwrap(), Anchor::Due, -5))
        .with_rule(Rule::new("overdue".parse().unwrap(), Anchor::Due, 0).repeat(7, 3))
}

fn clients() -> Vec<Client> {
    let zones = [
        "America/Santiago",
        "Europe/Madrid",
        "Asia/Tokyo",
        "America/New_York",
    ];
    (0..6)
        .map(|i| {
            Client::new(format!("c{i}").parse().unwrap(), format!("Client {i}"))
                .with_contact(Contact::new(format!("Ana {i}"), format!("ana{i}@c{i}.example")))
                .with_time_zone(TimeZone::from_name(zones[i % zones.len()]).unwrap())
        })
        .collect()
}

fn items() -> Vec<Item> {
    let mut out = Vec::new();
    for c in 0..6 {
        for k in 0..4u32 {
            let issued = d(2026, 2, 1 + k * 3 + c);
            let code = if c % 2 == 0 { "CLP" } else { "USD" };
            let total = if code == "CLP" {
                money("119000", code)
            } else {
                money("1234.56", code)
            };
            let mut item = Item::invoice(
                format!("F-{c}-{k}").parse().unwrap(),
                format!("c{c}").parse().unwrap(),
                issued,
                total,
            )
            .due(issued + chrono::Days::new(20));
            if k == 3 && c == 1 {
                item = item.paid(money("100", "USD"), d(2026, 2, 20));
            }
            out.push(item);
        }
    }
    out
}

fn now() -> DateTime<Utc> {
    utc(2026, 3, 10, 15)
}

/// A few history entries: each of the first due events of a plan, sent.
fn history(planner: &Planner, clients: &[Client], items: &[Item]) -> Vec<HistoryEntry> {
    let plan = planner
        .plan(clients, items, &[], utc(2026, 2, 25, 15), Horizon::days(10))
        .unwrap();
    plan.due()
        .iter()
        .step_by(2)
        .map(|e| e.to_history(e.send_at))
        .collect()
}

/// A deterministic permutation (a simple LCG shuffle).
fn shuffle<T: Clone>(v: &[T], seed: u64) -> Vec<T> {
    let mut out = v.to_vec();
    let mut s = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    for i in (1..out.len()).rev() {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let j = (s >> 33) as usize % (i + 1);
        out.swap(i, j);
    }
    out
}

fn no_line_break(text: &str) {
    assert!(
        !text.contains(['\n', '\r', '\u{2028}', '\u{2029}', '\u{85}']),
        "message holds a line break: {text:?}"
    );
}

// ---------------------------------------------------------------- round trips

#[test]
fn money_and_currency_round_trip() {
    for (text, code) in [
        ("0", "CLP"),
        ("-3", "CLP"),
        ("1234.56", "USD"),
        ("-0.01", "USD"),
        ("12.3456", "CLF"),
        ("1.234", "KWD"),
        ("92233720368547758.07", "USD"),
        ("-92233720368547758.08", "USD"),
        ("9223372036854775807", "CLP"),
        ("-9223372036854775808", "CLP"),
    ] {
        let m = money(text, code);
        let json = serde_json::to_string(&m).unwrap();
        let back: Money = serde_json::from_str(&json).unwrap();
        assert_eq!(back, m, "{json}");
        assert_eq!(serde_json::to_string(&back).unwrap(), json);
        let c: Currency = serde_json::from_str(&serde_json::to_string(&m.currency()).unwrap()).unwrap();
        assert_eq!(c, m.currency());
    }
}

#[test]
fn money_refuses_what_does_not_fit() {
    for bad in [
        r#"{"currency": "USD", "amount": "12.345"}"#,
        r#"{"currency": "CLP", "amount": "10.5"}"#,
        r#"{"currency": "USD", "amount": 1.5}"#,
        r#"{"currency": "USD", "amount": "92233720368547758.08"}"#,
        r#"{"currency": "CLP", "amount": "9223372036854775808"}"#,
        r#"{"currency": "CLP", "amount": 99999999999999999999999}"#,
        r#"{"currency": "USD", "amount": 92233720368547759}"#,
        r#"{"currency": "ZZZ", "amount": "1"}"#,
        r#"{"currency": "XAU", "amount": "1"}"#,
        r#"{"currency": "USD", "amount": "1e3"}"#,
        r#"{"currency": "USD", "amount": "1", "extra": 1}"#,
        r#"{"currency": "USD"}"#,
    ] {
        assert!(serde_json::from_str::<Money>(bad).is_err(), "{bad} was accepted");
    }
}

#[test]
fn time_zone_round_trips_and_refuses_unknown() {
    for name in ["America/Santiago", "UTC", "Asia/Kolkata", "Pacific/Chatham"] {
        let tz = TimeZone::from_name(name).unwrap();
        let json = serde_json::to_string(&tz).unwrap();
        assert_eq!(serde_json::from_str::<TimeZone>(&json).unwrap(), tz);
    }
    for bad in ["\"Mars/Base\"", "\"\"", "\"../../etc/passwd\"", "3"] {
        assert!(serde_json::from_str::<TimeZone>(bad).is_err(), "{bad}");
    }
}

#[test]
fn client_item_history_round_trip() {
    let policy = policy();
    let planner = Planner::new(&policy).unwrap();
    let mut clients = clients();
    clients[0] = clients[0].clone().with_locale("es-CL").with_overrides(
        ClientOverrides::default()
            .payment_term(15)
            .min_gap(2)
            .send_time(NaiveTime::from_hms_opt(7, 30, 0).unwrap())
            .rule("due-soon".parse().unwrap(), RuleOverride::off()),
    );
    clients[1]
        .pauses
        .push(Pause::new(PauseKind::Promise, "pays on the 10th").until(d(2026, 3, 10)));
    clients[1].tags.insert("vip".into());
    let items = items();
    let history = history(&planner, &clients, &items);
    assert!(!history.is_empty());
    for c in &clients {
        let json = serde_json::to_string(c).unwrap();
        let back: Client = serde_json::from_str(&json).unwrap();
        assert_eq!(&back, c);
        assert_eq!(serde_json::to_string(&back).unwrap(), json);
    }
    for i in &items {
        let json = serde_json::to_string(i).unwrap();
        let back: Item = serde_json::from_str(&json).unwrap();
        assert_eq!(&back, i);
        assert_eq!(serde_json::to_string(&back).unwrap(), json);
    }
    for h in &history {
        let json = serde_json::to_string(h).unwrap();
        let back: HistoryEntry = serde_json::from_str(&json).unwrap();
        assert_eq!(&back, h);
        let key: EventKey = serde_json::from_str(&serde_json::to_string(&h.key).unwrap()).unwrap();
        assert_eq!(key, h.key);
    }
    // Through the loaders too.
    let loaded = load::clients_from_json(&serde_json::to_string(&clients).unwrap()).unwrap();
    assert_eq!(loaded, clients);
    let loaded = load::items_from_json(&serde_json::to_string(&items).unwrap()).unwrap();
    assert_eq!(loaded, items);
}

#[test]
fn policy_round_trips_through_from_json() {
    let p = policy()
        .with_send_time(NaiveTime::from_hms_opt(10, 15, 0).unwrap())
        .with_payment_term(20)
        .with_min_gap(3);
    let json = serde_json::to_string(&p).unwrap();
    let back = Policy::from_json(&json).unwrap();
    assert_eq!(back, p);
    assert_eq!(serde_json::to_string(&back).unwrap(), json);
}

#[test]
fn plan_round_trips_and_schedule_serializes_the_same() {
    let policy = policy();
    let planner = Planner::new(&policy).unwrap();
    let clients = clients();
    let items = items();
    let history = history(&planner, &clients, &items);
    let plan = planner
        .plan(&clients, &items, &history, now(), Horizon::days(40))
        .unwrap();
    assert!(!plan.due().is_empty() && !plan.upcoming().is_empty() && !plan.suppressed().is_empty());
    let json = serde_json::to_string(&plan).unwrap();
    let back: Plan = serde_json::from_str(&json).unwrap();
    assert_eq!(back, plan);
    assert_eq!(serde_json::to_string(&back).unwrap(), json);
    for e in plan.events() {
        let ej = serde_json::to_string(e).unwrap();
        let eb: Event = serde_json::from_str(&ej).unwrap();
        assert_eq!(&eb, e);
    }
    for s in plan.suppressed() {
        let sj = serde_json::to_string(s).unwrap();
        let sb: Suppressed = serde_json::from_str(&sj).unwrap();
        assert_eq!(&sb, s);
    }
    let schedule = planner
        .schedule(&clients, &items, &history, now(), Horizon::days(40))
        .unwrap();
    assert_eq!(serde_json::to_string(&schedule).unwrap(), json);
    assert_eq!(schedule.to_plan(), plan);
}

// ---------------------------------------------------------------- hostile JSON

#[test]
fn hostile_policy_values_name_their_path() {
    let cases: &[(&str, &str)] = &[
        (r#"{"time_zone": "Mars/Base"}"#, "time_zone"),
        (
            r#"{"rules": [{"id": "r", "anchor": "due", "count": 4294967296}]}"#,
            "rules[0].count",
        ),
        (
            r#"{"rules": [{"id": "r", "anchor": "due", "count": -1}]}"#,
            "rules[0].count",
        ),
        (
            r#"{"rules": [{"id": "r", "anchor": "due", "offset_days": 2147483648}]}"#,
            "rules[0].offset_days",
        ),
        (
            r#"{"rules": [{"id": "r", "anchor": "due", "offset_days": 1.5}]}"#,
            "rules[0].offset_days",
        ),
        (
            r#"{"rules": [{"id": "r", "anchor": "due", "every_days": 99999999999999999999}]}"#,
            "rules[0].every_days",
        ),
        (
            r#"{"rules": [{"id": "r", "anchor": "due", "bogus": 1}]}"#,
            "rules[0]",
        ),
        (r#"{"payment_term_days": "thirty"}"#, "payment_term_days"),
        (r#"{"send_time": "25:00"}"#, "send_time"),
    ];
    for (json, path) in cases {
        let err = Policy::from_json(json).unwrap_err();
        assert!(
            err.path().starts_with(path),
            "{json}: path {:?}, {err}",
            err.path()
        );
        no_line_break(&err.to_string());
    }
}

#[test]
fn duplicate_keys_are_refused_in_a_policy() {
    let err = Policy::from_json(r#"{"time_zone": "UTC", "time_zone": "America/Santiago"}"#).unwrap_err();
    assert_eq!(err.kind(), LoadErrorKind::Data, "{err}");
}

#[test]
fn hostile_items_name_their_path() {
    let base = |total: &str, extra: &str| {
        format!(
            r#"[{{"id": "F-1", "client": "acme", "kind": "invoice", "issued_on": "2026-03-01", "total": {total}{extra}}}]"#
        )
    };
    let cases = [
        (
            base(r#"{"currency": "USD", "amount": "1.234"}"#, ""),
            "items[0].total",
        ),
        (
            base(r#"{"currency": "ZZZ", "amount": "1"}"#, ""),
            "items[0].total.currency",
        ),
        (
            base(r#"{"currency": "CLP", "amount": 1e30}"#, ""),
            "items[0].total",
        ),
        (
            base(
                r#"{"currency": "CLP", "amount": "1"}"#,
                r#", "due_on": "2026-02-30""#,
            ),
            "items[0].due_on",
        ),
        (
            base(
                r#"{"currency": "CLP", "amount": "1"}"#,
                r#", "due_on": "+275760-01-01""#,
            ),
            "items[0].due_on",
        ),
        (
            base(r#"{"currency": "CLP", "amount": "1"}"#, r#", "due_on": 20260301"#),
            "items[0].due_on",
        ),
        (
            base(r#"{"currency": "CLP", "amount": "1"}"#, r#", "surprise": true"#),
            "items[0]",
        ),
    ];
    for (json, path) in &cases {
        let err = match load::items_from_json(json) {
            Err(e) => e,
            Ok(v) => panic!("{json} loaded as {v:?}"),
        };
        assert!(
            err.path().starts_with(path),
            "{json}: path {:?}, {err}",
            err.path()
        );
        no_line_break(&err.to_string());
    }
}

#[test]
fn deeply_nested_arrays_do_not_overflow() {
    let depth = 200_000;
    let json = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    assert!(load::items_from_json(&json).is_err());
    assert!(load::clients_from_json(&json).is_err());
    assert!(Policy::from_json(&format!(r#"{{"rules": {json}}}"#)).is_err());
    let obj = format!("{}1{}", r#"{"a":"#.repeat(depth), "}".repeat(depth));
    assert!(load::snapshot_from_json(&obj).is_err());
}

#[test]
fn hostile_ids_are_refused_with_short_escaped_messages() {
    // Ids: "non-empty and has no `/` or white space".
    for id in ["a\nb", "a\r\nb", "a\u{2028}b", "a\u{85}b", "", "a b", "a/b"] {
        let json = serde_json::to_string(&serde_json::json!([{"id": id, "name": "n"}])).unwrap();
        let err = match load::clients_from_json(&json) {
            Err(e) => e,
            Ok(_) => panic!("client id {id:?} accepted"),
        };
        let msg = err.to_string();
        no_line_break(&msg);
        assert_eq!(err.path(), "clients[0].id", "{msg}");
    }
}

#[test]
fn a_huge_id_is_refused_or_kept_whole_and_messages_about_it_stay_short() {
    // No documented length limit on ids: a 1 MB id may load, but a message about a bad
    // value beside it stays short.
    let huge = "x".repeat(1 << 20);
    let json =
        serde_json::to_string(&serde_json::json!([{"id": huge, "name": "n", "time_zone": huge}])).unwrap();
    let err = load::clients_from_json(&json).unwrap_err();
    let msg = err.to_string();
    no_line_break(&msg);
    assert!(msg.len() < 1_000, "message of {} bytes", msg.len());
    assert_eq!(
        err.value().map(str::len),
        Some(1 << 20),
        "the accessor gives the value whole"
    );
}

#[test]
fn bidi_and_control_text_in_a_bad_value_is_escaped() {
    for bad in [
        "Mars\u{202E}esaB",
        "Mars\nBase",
        "Mars\u{0}",
        "Mars\u{2066}x",
        "Mars\u{1b}[31m",
    ] {
        let json = serde_json::to_string(&serde_json::json!([{"id": "acme", "name": "n", "time_zone": bad}]))
            .unwrap();
        let err = load::clients_from_json(&json).unwrap_err();
        let msg = err.to_string();
        assert_eq!(err.path(), "clients[0].time_zone");
        assert_eq!(err.value(), Some(bad));
        no_line_break(&msg);
        assert!(
            !msg.chars().any(|c| c.is_control()
                || ('\u{202A}'..='\u{202E}').contains(&c)
                || ('\u{2066}'..='\u{2069}').contains(&c)),
            "unescaped control in {msg:?}"
        );
    }
}

#[test]
fn hostile_contact_names_are_refused_with_escaped_messages() {
    for name in ["Ana\nBcc: evil@x.example", "Ana\u{202E}moc.live", "Ana\u{85}x"] {
        let json = serde_json::to_string(
            &serde_json::json!([{"id": "acme", "name": "ACME", "contacts": [{"name": name, "email": "a@acme.cl"}]}]),
        )
        .unwrap();
        let err = match load::clients_from_json(&json) {
            Err(e) => e,
            Ok(_) => panic!("contact name {name:?} accepted"),
        };
        let msg = err.to_string();
        no_line_break(&msg);
        assert!(!msg.contains('\u{202E}'), "{msg:?}");
        assert!(err.path().starts_with("clients[0].contacts[0]"), "{msg}");
    }
}

#[test]
fn a_huge_client_name_gives_a_short_message() {
    let huge = format!("{}\n", "é".repeat(1 << 19));
    let json =
        serde_json::to_string(&serde_json::json!([{"id": "acme", "name": "ACME", "locale": huge}])).unwrap();
    let err = load::clients_from_json(&json).unwrap_err();
    let msg = err.to_string();
    no_line_break(&msg);
    assert!(msg.len() < 2_000, "message of {} bytes", msg.len());
}

#[test]
fn wrong_types_everywhere_are_errors_not_panics() {
    let docs = [
        "null",
        "1",
        "\"x\"",
        "{}",
        "[1]",
        "[null]",
        r#"{"clients": 1}"#,
        r#"[{"id": 1, "name": "n"}]"#,
        r#"[{"id": "a", "name": ["n"]}]"#,
        r#"[{"id": "a", "name": "n", "contacts": {"name": "x"}}]"#,
        r#"[{"id": "a", "name": "n", "overrides": {"payment_term_days": 4294967296}}]"#,
        r#"[{"id": "a", "name": "n", "overrides": {"payment_term_days": 31}}]"#,
        r#"[{"id": "a", "name": "n", "pauses": [{"kind": "forever"}]}]"#,
    ];
    for doc in docs {
        assert!(
            load::clients_from_json(doc).is_err() || doc == "{}",
            "{doc} accepted"
        );
        let _ = load::items_from_json(doc);
        let _ = load::snapshot_from_json(doc);
        let _ = Policy::from_json(doc);
    }
}

// ---------------------------------------------------------------- determinism

#[test]
fn shuffled_inputs_give_the_same_bytes() {
    let policy = policy();
    let planner = Planner::new(&policy).unwrap();
    let clients = clients();
    let items = items();
    let history = history(&planner, &clients, &items);
    let reference = serde_json::to_string(
        &planner
            .plan(&clients, &items, &history, now(), Horizon::days(40))
            .unwrap(),
    )
    .unwrap();
    for seed in 0..12 {
        let (c, i, h) = (
            shuffle(&clients, seed),
            shuffle(&items, seed + 100),
            shuffle(&history, seed + 200),
        );
        let plan = planner.plan(&c, &i, &h, now(), Horizon::days(40)).unwrap();
        assert_eq!(serde_json::to_string(&plan).unwrap(), reference, "seed {seed}");
        let schedule = planner.schedule(&c, &i, &h, now(), Horizon::days(40)).unwrap();
        assert_eq!(
            serde_json::to_string(&schedule).unwrap(),
            reference,
            "schedule seed {seed}"
        );
    }
}

#[test]
fn reordered_rules_give_the_same_events() {
    // Rules in another order: the rules are distinct, so the decisions should not change.
    let a = policy();
    let mut b = policy();
    b.rules.reverse();
    let clients = clients();
    let items = items();
    let pa = Planner::new(&a)
        .unwrap()
        .plan(&clients, &items, &[], now(), Horizon::days(40))
        .unwrap();
    let pb = Planner::new(&b)
        .unwrap()
        .plan(&clients, &items, &[], now(), Horizon::days(40))
        .unwrap();
    let keys = |p: &Plan| {
        let mut k: Vec<String> = p.events().map(|e| format!("{} {}", e.key, e.send_at)).collect();
        k.sort();
        k
    };
    assert_eq!(keys(&pa), keys(&pb));
}

// ---------------------------------------------------------------- diff

#[test]
fn diff_of_equal_plans_is_empty_and_lists_changes_exactly() {
    let policy = policy();
    let planner = Planner::new(&policy).unwrap();
    let clients = clients();
    let items = items();
    let before = planner
        .plan(&clients, &items, &[], now(), Horizon::days(40))
        .unwrap();
    let again = planner
        .plan(
            &shuffle(&clients, 7),
            &shuffle(&items, 9),
            &[],
            now(),
            Horizon::days(40),
        )
        .unwrap();
    assert!(before.diff(&again).is_empty());
    assert!(PlanDiff::between(&before, &before).is_empty());

    // Drop one item, partly pay another, add a new one.
    let dropped: ItemId = "F-0-0".parse().unwrap();
    let paid: ItemId = "F-2-1".parse().unwrap();
    let mut changed_items: Vec<Item> = items.iter().filter(|i| i.id != dropped).cloned().collect();
    for i in &mut changed_items {
        if i.id == paid {
            *i = i.clone().paid(money("1000", "CLP"), d(2026, 3, 1));
        }
    }
    let fresh: ItemId = "F-new".parse().unwrap();
    changed_items.push(
        Item::invoice(
            fresh.clone(),
            "c3".parse().unwrap(),
            d(2026, 3, 1),
            money("10", "USD"),
        )
        .due(d(2026, 3, 20)),
    );
    let after = planner
        .plan(&clients, &changed_items, &[], now(), Horizon::days(40))
        .unwrap();
    let diff = before.diff(&after);
    let about = |e: &Event, id: &ItemId| e.items.iter().any(|i| &i.item == id);

    let mut removed: Vec<String> = diff.removed.iter().map(|e| e.key.to_string()).collect();
    let mut expect_removed: Vec<String> = before
        .events()
        .filter(|e| about(e, &dropped))
        .map(|e| e.key.to_string())
        .collect();
    removed.sort();
    expect_removed.sort();
    assert!(!expect_removed.is_empty());
    assert_eq!(removed, expect_removed);

    let mut added: Vec<String> = diff.added.iter().map(|e| e.key.to_string()).collect();
    let mut expect_added: Vec<String> = after
        .events()
        .filter(|e| about(e, &fresh))
        .map(|e| e.key.to_string())
        .collect();
    added.sort();
    expect_added.sort();
    assert!(!expect_added.is_empty());
    assert_eq!(added, expect_added);

    let mut changed: Vec<String> = diff.changed.iter().map(|c| c.after.key.to_string()).collect();
    let mut expect_changed: Vec<String> = before
        .events()
        .filter(|e| about(e, &paid))
        .filter(|e| after.events().any(|a| a.key == e.key))
        .map(|e| e.key.to_string())
        .collect();
    changed.sort();
    expect_changed.sort();
    assert!(!expect_changed.is_empty());
    assert_eq!(changed, expect_changed);
    for c in &diff.changed {
        assert_eq!(c.before.key, c.after.key);
        assert_ne!(c.before, c.after);
    }
}

// ---------------------------------------------------------------- effective settings

#[test]
fn effective_settings_agree_with_the_plan() {
    let policy = policy();
    let planner = Planner::new(&policy).unwrap();
    let seven_thirty = NaiveTime::from_hms_opt(7, 30, 0).unwrap();
    let client = Client::new("acme".parse().unwrap(), "ACME")
        .with_contact(Contact::new("Ana", "ana@acme.cl"))
        .with_time_zone(TimeZone::from_name("Europe/Madrid").unwrap())
        .with_overrides(
            ClientOverrides::default()
                .send_time(seven_thirty)
                .payment_term(10)
                .rule(
                    "overdue".parse().unwrap(),
                    RuleOverride {
                        offset_days: Some(2),
                        count: Some(2),
                        every_days: Some(4),
                        ..RuleOverride::default()
                    },
                ),
        );
    let s = planner.effective_settings(&client).unwrap();
    assert_eq!(
        (s.send_time.value, s.send_time.origin),
        (seven_thirty, Origin::Client)
    );
    assert_eq!(
        (s.payment_term_days.value, s.payment_term_days.origin),
        (10, Origin::Client)
    );
    assert_eq!(s.min_gap_days.origin, Origin::Policy);
    assert_eq!(s.time_zone.origin, Origin::Client);
    let overdue = s.rules.iter().find(|r| r.rule.as_str() == "overdue").unwrap();
    assert_eq!(
        (overdue.offset_days.value, overdue.offset_days.origin),
        (2, Origin::Client)
    );
    assert_eq!((overdue.count.value, overdue.count.origin), (2, Origin::Client));
    assert_eq!(
        (overdue.every_days.value, overdue.every_days.origin),
        (Some(4), Origin::Client)
    );
    let soon = s.rules.iter().find(|r| r.rule.as_str() == "due-soon").unwrap();
    assert_eq!(
        (soon.offset_days.value, soon.offset_days.origin),
        (-5, Origin::Policy)
    );
    assert_eq!(soon.count.origin, Origin::Policy);

    // Settings survive JSON.
    let json = serde_json::to_string(&s).unwrap();
    assert_eq!(serde_json::from_str::<EffectiveSettings>(&json).unwrap(), s);

    // An invoice without due date: due after the client's 10-day term.
    let issued = d(2026, 3, 2); // Monday
    let item = Item::invoice(
        "F-1".parse().unwrap(),
        "acme".parse().unwrap(),
        issued,
        money("100", "EUR"),
    );
    let plan = planner
        .plan(
            std::slice::from_ref(&client),
            std::slice::from_ref(&item),
            &[],
            utc(2026, 2, 20, 0),
            Horizon::days(60),
        )
        .unwrap();
    let tz = TimeZone::from_name("Europe/Madrid").unwrap();
    let due_on = issued + chrono::Days::new(10);
    let overdue_events: Vec<&Event> = plan.events().filter(|e| e.rule.as_str() == "overdue").collect();
    assert_eq!(overdue_events.len(), 2, "{overdue_events:#?}");
    for e in plan.events() {
        assert_eq!(e.time_zone, tz);
        let local = e.send_at.with_timezone(&tz.tz());
        assert_eq!(local.time(), seven_thirty, "{}", e.key);
        assert_eq!(local.date_naive(), e.send_on);
    }
    let first = overdue_events.iter().map(|e| e.why.nominal_on).min().unwrap();
    assert_eq!(first, due_on + chrono::Days::new(2));
    let soon_event = plan.events().find(|e| e.rule.as_str() == "due-soon").unwrap();
    assert_eq!(soon_event.why.anchor_on, due_on);
    let second = overdue_events.iter().map(|e| e.why.nominal_on).max().unwrap();
    assert_eq!(second, first + chrono::Days::new(4));
}

#[test]
fn duplicate_keys_in_a_map_are_not_silently_merged() {
    let json = r#"[{"id": "acme", "name": "n", "overrides": {"rules": {
        "overdue": {"count": 2}, "overdue": {"count": 9}}}}]"#;
    match load::clients_from_json(json) {
        Err(e) => no_line_break(&e.to_string()),
        Ok(c) => panic!(
            "duplicate rule override loaded silently as {:?}",
            c[0].overrides.rules
        ),
    }
}

#[test]
fn duplicate_fields_in_an_item_are_refused() {
    let json = r#"[{"id": "F-1", "client": "acme", "kind": "invoice", "issued_on": "2026-03-01",
        "total": {"currency": "CLP", "amount": "1"}, "due_on": "2026-03-10", "due_on": "2026-04-10"}]"#;
    let err = load::items_from_json(json).unwrap_err();
    assert!(err.path().starts_with("items[0]"), "{err}");
}

#[test]
fn dates_at_the_end_of_time_do_not_panic() {
    let policy =
        policy().with_rule(Rule::new("late".parse().unwrap(), Anchor::Due, 36_600).repeat(36_600, 10_000));
    let planner = Planner::new(&policy).unwrap();
    let clients = clients();
    let max = NaiveDate::MAX;
    let near = max - chrono::Days::new(3);
    let cases = vec![
        Item::invoice(
            "E-1".parse().unwrap(),
            "c0".parse().unwrap(),
            near,
            money("1", "CLP"),
        ),
        Item::invoice(
            "E-2".parse().unwrap(),
            "c0".parse().unwrap(),
            near,
            money("1", "CLP"),
        )
        .due(max),
        Item::invoice(
            "E-3".parse().unwrap(),
            "c1".parse().unwrap(),
            NaiveDate::MIN,
            money("1", "USD"),
        ),
        Item::invoice(
            "E-4".parse().unwrap(),
            "c1".parse().unwrap(),
            NaiveDate::MIN,
            money("1", "USD"),
        )
        .due(NaiveDate::MIN + chrono::Days::new(1)),
    ];
    for item in &cases {
        let one = std::slice::from_ref(item);
        let _ = planner.plan(&clients, one, &[], now(), Horizon::days(3_660));
        let _ = planner.plan(&clients, one, &[], DateTime::<Utc>::MAX_UTC, Horizon::days(3_660));
        let _ = planner.plan(&clients, one, &[], DateTime::<Utc>::MIN_UTC, Horizon::days(3_660));
    }
}

#[test]
fn richer_portfolio_is_order_independent() {
    // Grouped notices, gaps, identical due dates, several currencies per client.
    let policy = policy()
        .with_rule(
            Rule::new("grouped".parse().unwrap(), Anchor::Due, 3)
                .repeat(2, 5)
                .grouped(),
        )
        .with_min_gap(2);
    let planner = Planner::new(&policy).unwrap();
    let mut clients = clients();
    clients[2] = clients[2]
        .clone()
        .with_overrides(ClientOverrides::default().min_gap(0));
    clients[3] = clients[3]
        .clone()
        .with_overrides(ClientOverrides::default().min_gap(5));
    let mut items = Vec::new();
    for c in 0..6 {
        for k in 0..6u32 {
            let code = ["CLP", "USD", "EUR"][(k % 3) as usize];
            items.push(
                Item::invoice(
                    format!("G-{c}-{k}").parse().unwrap(),
                    format!("c{c}").parse().unwrap(),
                    d(2026, 2, 1),
                    money("100", code),
                )
                .due(d(2026, 2, 25 + k % 2)),
            );
        }
    }
    let history = history(&planner, &clients, &items);
    let reference = serde_json::to_string(
        &planner
            .plan(&clients, &items, &history, now(), Horizon::days(60))
            .unwrap(),
    )
    .unwrap();
    for seed in 0..10 {
        let (c, i, h) = (
            shuffle(&clients, seed),
            shuffle(&items, seed + 31),
            shuffle(&history, seed + 77),
        );
        let plan = planner.plan(&c, &i, &h, now(), Horizon::days(60)).unwrap();
        assert_eq!(serde_json::to_string(&plan).unwrap(), reference, "seed {seed}");
        let json =
            serde_json::to_string(&planner.schedule(&c, &i, &h, now(), Horizon::days(60)).unwrap()).unwrap();
        assert_eq!(json, reference, "schedule seed {seed}");
        let back: Plan = serde_json::from_str(&json).unwrap();
        assert_eq!(serde_json::to_string(&back).unwrap(), reference);
    }
}

#[test]
fn diff_lists_exactly_the_events_whose_send_time_changed() {
    let policy = policy();
    let planner = Planner::new(&policy).unwrap();
    let clients = clients();
    let items = items();
    let before = planner
        .plan(&clients, &items, &[], now(), Horizon::days(40))
        .unwrap();
    let mut moved = clients.clone();
    moved[0] = moved[0]
        .clone()
        .with_overrides(ClientOverrides::default().send_time(NaiveTime::from_hms_opt(7, 30, 0).unwrap()));
    let after = planner
        .plan(&moved, &items, &[], now(), Horizon::days(40))
        .unwrap();
    let diff = before.diff(&after);
    assert!(diff.added.is_empty() && diff.removed.is_empty(), "{diff:#?}");
    let c0: ClientId = "c0".parse().unwrap();
    let mut got: Vec<String> = diff.changed.iter().map(|c| c.after.key.to_string()).collect();
    let mut want: Vec<String> = before.for_client(&c0).map(|e| e.key.to_string()).collect();
    got.sort();
    want.sort();
    assert!(!want.is_empty());
    assert_eq!(got, want);
    for c in &diff.changed {
        assert_eq!(c.after.send_on, c.before.send_on);
        assert_eq!(c.before.send_at - c.after.send_at, chrono::Duration::minutes(90));
    }
    // The reverse diff mirrors it.
    let back = after.diff(&before);
    assert_eq!(back.changed.len(), diff.changed.len());
    assert!(back.added.is_empty() && back.removed.is_empty());
}

#[test]
fn effective_settings_switches_agree_with_the_plan() {
    let policy = policy().with_min_gap(4);
    let planner = Planner::new(&policy).unwrap();
    let base = || {
        Client::new("acme".parse().unwrap(), "ACME")
            .with_contact(Contact::new("Ana", "ana@acme.cl"))
            .with_time_zone(TimeZone::from_name("America/Santiago").unwrap())
    };
    let item = |id: &str, due: NaiveDate| {
        Item::invoice(
            id.parse().unwrap(),
            "acme".parse().unwrap(),
            d(2026, 3, 2),
            money("1000", "CLP"),
        )
        .due(due)
    };
    let items = [item("F-1", d(2026, 4, 6)), item("F-2", d(2026, 4, 7))];
    let at = utc(2026, 3, 10, 15);
    let plan_for = |c: &Client| {
        planner
            .plan(std::slice::from_ref(c), &items, &[], at, Horizon::days(90))
            .unwrap()
    };

    // Reminders off.
    let off = base().with_overrides(ClientOverrides::default().reminders(false));
    let s = planner.effective_settings(&off).unwrap();
    assert_eq!((s.reminders.value, s.reminders.origin), (false, Origin::Client));
    assert_eq!(plan_for(&off).events().count(), 0);

    // One rule off, the other's offset moved.
    let tuned = base().with_overrides(
        ClientOverrides::default()
            .rule("overdue".parse().unwrap(), RuleOverride::off())
            .rule(
                "due-soon".parse().unwrap(),
                RuleOverride {
                    offset_days: Some(-3),
                    ..RuleOverride::default()
                },
            ),
    );
    let s = planner.effective_settings(&tuned).unwrap();
    let rule = |id: &str| s.rules.iter().find(|r| r.rule.as_str() == id).unwrap().clone();
    assert_eq!(
        (rule("overdue").enabled.value, rule("overdue").enabled.origin),
        (false, Origin::Client)
    );
    assert_eq!(
        (rule("due-soon").enabled.value, rule("due-soon").enabled.origin),
        (true, Origin::Policy)
    );
    assert_eq!(rule("due-soon").offset_days.value, -3);
    let plan = plan_for(&tuned);
    assert!(
        plan.events().all(|e| e.rule.as_str() == "due-soon"),
        "{:?}",
        plan.events().map(|e| &e.key).collect::<Vec<_>>()
    );
    for e in plan.events() {
        assert_eq!(e.why.offset_days, -3);
        assert_eq!(e.why.nominal_on, e.why.anchor_on - chrono::Days::new(3));
    }

    // The policy's gap of 4 days, then the client's gap of 0.
    let s = planner.effective_settings(&base()).unwrap();
    assert_eq!((s.min_gap_days.value, s.min_gap_days.origin), (4, Origin::Policy));
    let gapped = plan_for(&base());
    let mut days: Vec<NaiveDate> = gapped
        .events()
        .filter(|e| e.rule.as_str() == "due-soon")
        .map(|e| e.send_on)
        .collect();
    days.sort();
    assert_eq!(days.len(), 2);
    assert!(days[1] - days[0] >= chrono::Duration::days(4), "{days:?}");
    let free = base().with_overrides(ClientOverrides::default().min_gap(0));
    let s = planner.effective_settings(&free).unwrap();
    assert_eq!((s.min_gap_days.value, s.min_gap_days.origin), (0, Origin::Client));
    let mut days: Vec<NaiveDate> = plan_for(&free)
        .events()
        .filter(|e| e.rule.as_str() == "due-soon")
        .map(|e| e.send_on)
        .collect();
    days.sort();
    assert_eq!(days, vec![d(2026, 4, 1), d(2026, 4, 2)]);
}

#[test]
fn snapshot_and_toml_agree_with_json() {
    let policy = policy();
    let planner = Planner::new(&policy).unwrap();
    let clients = clients();
    let items = items();
    let history = history(&planner, &clients, &items);
    let snap = dunning::store::Snapshot {
        clients,
        items,
        history,
    };
    let json = serde_json::to_string(&snap).unwrap();
    let back = load::snapshot_from_json(&json).unwrap();
    assert_eq!(back, snap);
    let toml_text = toml::to_string(&policy).unwrap();
    assert_eq!(Policy::from_toml(&toml_text).unwrap(), policy);
    // A lower-case currency reads as its code and writes back upper-case.
    let m: Money = serde_json::from_str(r#"{"currency": "usd", "amount": 12}"#).unwrap();
    assert_eq!(m, money("12.00", "USD"));
    assert_eq!(
        serde_json::to_string(&m).unwrap(),
        r#"{"currency":"USD","amount":"12.00"}"#
    );
}

#[test]
fn history_with_repeated_keys_is_order_independent() {
    let policy = policy();
    let planner = Planner::new(&policy).unwrap();
    let clients = clients();
    let items = items();
    let early = planner
        .plan(&clients, &items, &[], utc(2026, 2, 25, 15), Horizon::days(10))
        .unwrap();
    let mut history = Vec::new();
    for (n, e) in early.due().iter().enumerate() {
        let at = e.send_at;
        match n % 3 {
            0 => {
                history.push(e.to_history(at).with_outcome(HistoryOutcome::Failed {
                    error: "550 no such user".into(),
                }));
                history.push(
                    e.to_history(at + chrono::Duration::hours(1))
                        .with_outcome(HistoryOutcome::Released),
                );
                history.push(e.to_history(at + chrono::Duration::hours(2)));
            }
            1 => {
                history.push(e.to_history(at).with_outcome(HistoryOutcome::OutcomeUnknown));
                history.push(
                    e.to_history(at + chrono::Duration::hours(3))
                        .with_outcome(HistoryOutcome::Released),
                );
            }
            _ => history.push(e.to_history(at)),
        }
        let item = &e.items[0].item;
        history.push(HistoryEntry::manual(
            e.client.clone(),
            item.clone(),
            at + chrono::Duration::days(1),
        ));
    }
    assert!(history.len() > 6);
    let reference = serde_json::to_string(
        &planner
            .plan(&clients, &items, &history, now(), Horizon::days(40))
            .unwrap(),
    )
    .unwrap();
    for seed in 0..10 {
        let h = shuffle(&history, seed);
        let plan = planner
            .plan(
                &shuffle(&clients, seed + 1),
                &shuffle(&items, seed + 2),
                &h,
                now(),
                Horizon::days(40),
            )
            .unwrap();
        assert_eq!(serde_json::to_string(&plan).unwrap(), reference, "seed {seed}");
    }
}
