//! Loading policies, clients, items and snapshots from JSON and TOML: every error names the
//! path of the bad value in the document, the value, the reason and, where the format gives
//! them, the line and column; text from the document is shown escaped and cut short.

use dunning::load::{self, Format, LoadErrorKind};
use dunning::{Currency, LoadError, Policy, TimeZone, ValidationError};

/// An item in JSON with `total` as given.
fn json_item(id: &str, total: &str) -> String {
    format!(r#"{{"id": "{id}", "client": "acme", "issued_on": "2026-03-02", "total": {total}}}"#)
}

/// Four items, the fourth with `total` as given.
fn four_items(last_total: &str) -> String {
    let ok = r#"{"currency": "USD", "amount": "10.00"}"#;
    let items: Vec<String> = (0..4)
        .map(|i| json_item(&format!("F-{i}"), if i == 3 { last_total } else { ok }))
        .collect();
    format!("[\n  {}\n]", items.join(",\n  "))
}

/// Every message is one line, whatever the document holds.
fn one_line(err: &LoadError) -> String {
    let msg = err.to_string();
    assert!(!msg.contains('\n') && !msg.contains('\r'), "{msg:?}");
    msg
}

#[test]
fn an_item_with_an_unknown_currency_in_json_names_its_path_and_value() {
    let bare = four_items(r#"{"currency": "XXY", "amount": "1"}"#);
    let wrapped = format!(r#"{{"items": {bare}}}"#);
    for text in [&bare, &wrapped] {
        let err = load::items_from_json(text).unwrap_err();
        assert_eq!(err.format(), Format::Json);
        assert_eq!(err.kind(), LoadErrorKind::Data);
        assert_eq!(err.path(), "items[3].total.currency");
        assert_eq!(err.value(), Some("XXY"));
        assert_eq!(err.line(), Some(5));
        assert!(err.column().is_some());
        assert_eq!(
            err.validation(),
            Some(&ValidationError::UnknownCurrency {
                field: "items[3].total.currency".into(),
                value: "XXY".into()
            })
        );
        let msg = one_line(&err);
        assert!(
            msg.starts_with("items[3].total.currency: unknown currency \"XXY\" (JSON, line 5, column "),
            "{msg}"
        );
    }
}

#[test]
fn a_client_in_an_unknown_time_zone_in_json_names_its_path_and_value() {
    let text = r#"[{"id": "acme", "name": "ACME SpA", "time_zone": "Mars/Base"}]"#;
    let err = load::clients_from_json(text).unwrap_err();
    assert_eq!(err.path(), "clients[0].time_zone");
    assert_eq!(err.value(), Some("Mars/Base"));
    assert_eq!((err.line(), err.column()), (Some(1), Some(61)));
    assert_eq!(
        err.validation(),
        Some(&ValidationError::UnknownTimeZone {
            field: "clients[0].time_zone".into(),
            value: "Mars/Base".into()
        })
    );
    assert_eq!(
        one_line(&err),
        "clients[0].time_zone: unknown time zone \"Mars/Base\" (JSON, line 1, column 61)"
    );
    // The same in a snapshot, and in a policy.
    let snapshot = format!(r#"{{"clients": {text}, "items": [], "history": []}}"#);
    assert_eq!(
        load::snapshot_from_json(&snapshot).unwrap_err().path(),
        "clients[0].time_zone"
    );
    let err = Policy::from_json(r#"{"time_zone": "Mars/Base"}"#).unwrap_err();
    assert_eq!((err.path(), err.value()), ("time_zone", Some("Mars/Base")));
}

#[test]
fn the_reported_cases_in_toml_name_path_value_line_and_column() {
    let items = r#"
[[items]]
id = "F-0"
client = "acme"
issued_on = "2026-03-02"
total = { currency = "USD", amount = "10.00" }

[[items]]
id = "F-1"
client = "acme"
issued_on = "2026-03-02"
total = { currency = "XXY", amount = "1" }
"#;
    let err = load::items_from_toml(items).unwrap_err();
    assert_eq!(err.format(), Format::Toml);
    assert_eq!(err.path(), "items[1].total.currency");
    assert_eq!(err.value(), Some("XXY"));
    assert_eq!((err.line(), err.column()), (Some(12), Some(22)));
    assert!(matches!(
        err.validation(),
        Some(ValidationError::UnknownCurrency { field, value }) if field == "items[1].total.currency" && value == "XXY"
    ));
    assert_eq!(
        one_line(&err),
        "items[1].total.currency: unknown currency \"XXY\" (TOML, line 12, column 22)"
    );

    let clients = "[[clients]]\nid = \"acme\"\nname = \"ACME\"\ntime_zone = \"Mars/Base\"\n";
    let err = load::clients_from_toml(clients).unwrap_err();
    assert_eq!(err.path(), "clients[0].time_zone");
    assert_eq!(err.value(), Some("Mars/Base"));
    assert_eq!((err.line(), err.column()), (Some(4), Some(13)));
    assert_eq!(
        one_line(&err),
        "clients[0].time_zone: unknown time zone \"Mars/Base\" (TOML, line 4, column 13)"
    );
}

#[test]
fn a_bad_amount_names_the_amount_and_its_value() {
    let err = load::items_from_json(&four_items(r#"{"currency": "USD", "amount": "12.345"}"#)).unwrap_err();
    assert_eq!(err.path(), "items[3].total.amount");
    assert_eq!(err.value(), Some("12.345"));
    assert!(matches!(
        err.validation(),
        Some(ValidationError::InvalidAmount { value, currency, .. }) if value == "12.345" && currency == "USD"
    ));
    assert!(
        one_line(&err).starts_with(
            "items[3].total.amount: invalid amount \"12.345\" in USD: more decimals than the currency's minor unit (JSON, line 5"
        ),
        "{err}"
    );
    let toml = "[[items]]\nid = \"F-1\"\nclient = \"acme\"\nissued_on = \"2026-03-02\"\ntotal = { currency = \"USD\", amount = \"12.345\" }\n";
    let err = load::items_from_toml(toml).unwrap_err();
    assert_eq!(
        (err.path(), err.value()),
        ("items[0].total.amount", Some("12.345"))
    );
    assert_eq!(err.line(), Some(5));
    // A float is refused as not exact: the path and the number as written.
    let err = load::items_from_json(&four_items(r#"{"currency": "USD", "amount": 1.5}"#)).unwrap_err();
    assert_eq!((err.path(), err.value()), ("items[3].total.amount", Some("1.5")));
}

#[test]
fn a_bad_date_names_its_path_and_value() {
    let text = r#"[{"id": "F-1", "client": "acme", "issued_on": "2026-02-30", "total": {"currency": "CLP", "amount": 1}}]"#;
    let err = load::items_from_json(text).unwrap_err();
    assert_eq!(err.kind(), LoadErrorKind::Data);
    assert_eq!(
        (err.path(), err.value()),
        ("items[0].issued_on", Some("2026-02-30"))
    );
    assert_eq!(err.line(), Some(1));
    let msg = one_line(&err);
    assert!(msg.starts_with("items[0].issued_on = \"2026-02-30\": "), "{msg}");
    let toml = "[[items]]\nid = \"F-1\"\nclient = \"acme\"\nissued_on = \"2026-13-01\"\n";
    let err = load::items_from_toml(toml).unwrap_err();
    assert_eq!(
        (err.path(), err.value()),
        ("items[0].issued_on", Some("2026-13-01"))
    );
    assert_eq!(err.line(), Some(4));
}

#[test]
fn an_unknown_field_is_named() {
    let text = r#"[{"id": "F-1", "client": "acme", "issued_on": "2026-03-02", "totl": {"currency": "CLP", "amount": 1}}]"#;
    let err = load::items_from_json(text).unwrap_err();
    assert_eq!(err.kind(), LoadErrorKind::Data);
    assert_eq!(err.path(), "items[0].totl");
    let msg = one_line(&err);
    assert!(
        msg.starts_with("items[0].totl: unknown field `totl`, expected one of"),
        "{msg}"
    );
    let err = Policy::from_toml("sendtime = \"09:00\"\n").unwrap_err();
    assert_eq!(err.path(), "sendtime");
    assert_eq!(err.value(), Some("09:00"));
    assert_eq!(err.line(), Some(1));
    // Beside the list, too.
    let err = load::clients_from_json(r#"{"clients": [], "client": []}"#).unwrap_err();
    assert_eq!(err.path(), "client");
}

#[test]
fn a_bad_rule_field_names_the_rule_by_position() {
    let json = r#"{"rules": [
        {"id": "due-soon", "anchor": "due", "offset_days": -5},
        {"id": "overdue", "anchor": "sometimes"}
    ]}"#;
    let err = Policy::from_json(json).unwrap_err();
    assert_eq!(err.kind(), LoadErrorKind::Data);
    assert_eq!((err.path(), err.value()), ("rules[1].anchor", Some("sometimes")));
    assert_eq!(err.line(), Some(3));
    let msg = one_line(&err);
    assert!(
        msg.starts_with("rules[1].anchor = \"sometimes\": unknown variant `sometimes`, expected one of"),
        "{msg}"
    );
    let toml = r#"
[[rules]]
id = "due-soon"
anchor = "due"
offset_days = -5

[[rules]]
id = "overdue"
anchor = "sometimes"
"#;
    let err = Policy::from_toml(toml).unwrap_err();
    assert_eq!((err.path(), err.value()), ("rules[1].anchor", Some("sometimes")));
    assert_eq!((err.line(), err.column()), (Some(9), Some(10)));
    // A number of the wrong type.
    let err = Policy::from_json(
        r#"{"rules": [{"id": "r", "anchor": "due"}, {"id": "s", "anchor": "due", "offset_days": "5"}]}"#,
    )
    .unwrap_err();
    assert_eq!((err.path(), err.value()), ("rules[1].offset_days", Some("5")));
}

#[test]
fn a_policy_that_reads_but_is_not_valid_names_the_field() {
    let json = r#"{"rules": [
        {"id": "due-soon", "anchor": "due", "offset_days": -5},
        {"id": "overdue", "anchor": "due", "every_days": 0, "count": 3}
    ]}"#;
    let err = Policy::from_json(json).unwrap_err();
    assert_eq!(err.kind(), LoadErrorKind::Invalid);
    assert_eq!((err.path(), err.value()), ("rules[1].every_days", Some("0")));
    assert_eq!((err.line(), err.column()), (None, None));
    assert_eq!(
        err.validation(),
        Some(&ValidationError::ZeroSpacing {
            rule: "overdue".into(),
            field: "every_days"
        })
    );
    assert_eq!(
        one_line(&err),
        "rules[1].every_days = 0: rule overdue: every_days must be at least 1, got 0 (JSON)"
    );
    let toml = "payment_term_days = 45\n";
    let err = Policy::from_toml(toml).unwrap_err();
    assert_eq!((err.path(), err.value()), ("payment_term_days", Some("45")));
    assert!(matches!(
        err.validation(),
        Some(ValidationError::PaymentTermOutOfRange { value: 45, .. })
    ));
    let dup = "[[rules]]\nid = \"r\"\nanchor = \"due\"\n[[rules]]\nid = \"r\"\nanchor = \"paid\"\n";
    let err = Policy::from_toml(dup).unwrap_err();
    assert_eq!((err.path(), err.value()), ("rules[1].id", Some("r")));
    // A rule's offset before the issue date.
    let err =
        Policy::from_json(r#"{"rules": [{"id": "i", "anchor": "issued", "offset_days": -1}]}"#).unwrap_err();
    assert_eq!((err.path(), err.value()), ("rules[0].offset_days", Some("-1")));
}

#[test]
fn items_and_clients_that_read_but_are_not_valid_name_the_list_element() {
    let text = r#"[
        {"id": "F-1", "client": "acme", "issued_on": "2026-03-02", "total": {"currency": "CLP", "amount": 1}},
        {"id": "F-2", "client": "acme", "issued_on": "2026-03-02", "due_on": "2026-03-01", "total": {"currency": "CLP", "amount": 1}}
    ]"#;
    let err = load::items_from_json(text).unwrap_err();
    assert_eq!(err.kind(), LoadErrorKind::Invalid);
    assert_eq!((err.path(), err.value()), ("items[1].due_on", Some("2026-03-01")));
    assert!(matches!(err.validation(), Some(ValidationError::DueBeforeIssue { item, .. }) if item == "F-2"));
    assert_eq!(
        one_line(&err),
        "items[1].due_on = \"2026-03-01\": item F-2: due date 2026-03-01 is before issue date 2026-03-02 (JSON)"
    );
    let dup = format!(
        "[{}, {}]",
        json_item("F-1", r#"{"currency": "CLP", "amount": 1}"#),
        json_item("F-1", r#"{"currency": "CLP", "amount": 2}"#)
    );
    let err = load::items_from_json(&dup).unwrap_err();
    assert_eq!((err.path(), err.value()), ("items[1].id", Some("F-1")));
    let err = load::clients_from_json(
        r#"[{"id": "a", "name": "A"}, {"id": "b", "name": "B", "contacts": [{"name": "Bo", "email": "bo@b.cl"}, {"name": "Cy", "email": "cy-at-b"}]}]"#,
    )
    .unwrap_err();
    assert_eq!(
        (err.path(), err.value()),
        ("clients[1].contacts[1].email", Some("cy-at-b"))
    );
    let err = load::snapshot_from_toml(
        "[[clients]]\nid = \"a\"\nname = \"A\"\n[[items]]\nid = \"F-1\"\nclient = \"b\"\nissued_on = \"2026-03-02\"\ntotal = { currency = \"CLP\", amount = 1 }\n",
    )
    .unwrap_err();
    assert_eq!((err.path(), err.value()), ("items[0].client", Some("b")));
}

#[test]
fn hostile_text_is_reported_escaped_and_short() {
    let long = "Y".repeat(100_000);
    let hostile = [
        "XX\r\nBcc: evil@example.com".to_owned(),
        "say \"hi\"\u{1b}[31m".to_owned(),
        "gpj.\u{202e}exe\t\u{0}".to_owned(),
        long.clone(),
    ];
    for bad in &hostile {
        let quoted = serde_json::to_string(bad).unwrap();
        // A currency, a time zone, an enum name and an unknown field's key.
        let cases: Vec<(Result<(), LoadError>, &str)> = vec![
            (
                load::items_from_json(&four_items(&format!(
                    r#"{{"currency": {quoted}, "amount": "1"}}"#
                )))
                .map(drop),
                "items[3].total.currency",
            ),
            (
                load::clients_from_json(&format!(r#"[{{"id": "a", "name": "A", "time_zone": {quoted}}}]"#))
                    .map(drop),
                "clients[0].time_zone",
            ),
            (
                Policy::from_json(&format!(r#"{{"rules": [{{"id": "r", "anchor": {quoted}}}]}}"#)).map(drop),
                "rules[0].anchor",
            ),
        ];
        for (result, path) in cases {
            let err = result.unwrap_err();
            assert_eq!(err.path(), path);
            assert_eq!(err.value(), Some(bad.as_str()), "the value is given whole");
            let msg = one_line(&err);
            for hidden in ['\u{1b}', '\u{202e}', '\t', '\u{0}'] {
                assert!(!msg.contains(hidden), "{msg:?}");
            }
            assert!(
                msg.chars().count() < 700,
                "{} characters: {msg:.200}",
                msg.chars().count()
            );
        }
        let err = load::items_from_json(&format!(
            r#"[{{"id": "F-1", "client": "acme", "issued_on": "2026-03-02", {quoted}: 1}}]"#
        ))
        .unwrap_err();
        let msg = one_line(&err);
        assert!(err.path().starts_with("items[0][\""), "{:.200}", err.path());
        assert!(err.path().chars().count() < 100, "{:.200}", err.path());
        assert!(msg.chars().count() < 700, "{msg:.200}");
    }
    // In TOML, a multi-line string.
    let err = Policy::from_toml("time_zone = \"\"\"\nMars\r\nBase\"\"\"\n").unwrap_err();
    assert_eq!((err.path(), err.value()), ("time_zone", Some("Mars\r\nBase")));
    assert_eq!(
        one_line(&err),
        "time_zone: unknown time zone \"Mars\\r\\nBase\" (TOML, line 1, column 13)"
    );
}

#[test]
fn syntax_errors_give_the_line_and_column() {
    let err = load::items_from_json("[\n  {\"id\": \"F-1\" \"client\": \"acme\"}\n]").unwrap_err();
    assert_eq!(err.kind(), LoadErrorKind::Syntax);
    assert_eq!((err.line(), err.column()), (Some(2), Some(16)));
    assert_eq!(err.path(), "items[0]");
    assert_eq!(
        one_line(&err),
        "items[0]: expected `,` or `}` (JSON, line 2, column 16)"
    );
    let err = load::items_from_json("[] []").unwrap_err();
    assert_eq!((err.kind(), err.path()), (LoadErrorKind::Syntax, ""));
    assert_eq!(one_line(&err), "trailing characters (JSON, line 1, column 4)");
    let err = Policy::from_toml("time_zone = \"UTC\nsend_time = 9\n").unwrap_err();
    assert_eq!(
        (err.kind(), err.path(), err.line()),
        (LoadErrorKind::Syntax, "", Some(1))
    );
    one_line(&err);
}

#[test]
fn the_builders_name_the_field_of_a_currency_or_a_time_zone() {
    assert_eq!(
        Currency::from_code("XXY"),
        Err(ValidationError::UnknownCurrency {
            field: "currency".into(),
            value: "XXY".into()
        })
    );
    assert_eq!(
        "XAU".parse::<Currency>(),
        Err(ValidationError::CurrencyWithoutMinorUnit {
            field: "currency".into(),
            code: "XAU".into()
        })
    );
    let err = TimeZone::from_name("Mars/Base").unwrap_err();
    assert_eq!(
        err,
        ValidationError::UnknownTimeZone {
            field: "time_zone".into(),
            value: "Mars/Base".into()
        }
    );
    assert_eq!(err.to_string(), "time_zone: unknown time zone \"Mars/Base\"");
    // serde alone reports the field as the error names it.
    let err =
        serde_json::from_str::<dunning::Client>(r#"{"id": "a", "name": "A", "time_zone": "Mars/Base"}"#)
            .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("time_zone: unknown time zone \"Mars/Base\""),
        "{err}"
    );
}

#[test]
fn what_loads_is_what_serde_reads() {
    let items = four_items(r#"{"currency": "CLP", "amount": 5}"#);
    let loaded = load::items_from_json(&items).unwrap();
    let direct: Vec<dunning::Item> = serde_json::from_str(&items).unwrap();
    assert_eq!(loaded, direct);
    let policy = "time_zone = \"America/Santiago\"\n[[rules]]\nid = \"overdue\"\nanchor = \"due\"\nevery_days = 7\ncount = 4\n";
    assert_eq!(
        Policy::from_toml(policy).unwrap(),
        toml::from_str::<Policy>(policy).unwrap()
    );
    let empty = load::snapshot_from_json("{}").unwrap();
    assert!(empty.clients.is_empty() && empty.items.is_empty() && empty.history.is_empty());
    assert!(load::clients_from_toml("").unwrap().is_empty());
}

/// Errors deep in a document name their path, element by element: a currency in the second
/// payment, a client override's count, min gap and second reply-to, a rule's negative late
/// fee, the policy's second reply-to. Before, limits in overrides were accepted at load,
/// and several errors named only the client or the rule.
#[test]
fn load_errors_name_the_path_of_nested_bad_values() {
    let item = |extra: &str| {
        format!(
            r#"{{"id": "F-1", "client": "acme", "issued_on": "2026-03-01", "total": {{"amount": "1000", "currency": "CLP"}}{extra}}}"#
        )
    };
    let cases: Vec<(String, &str, &str)> = vec![
        (format!("[{}, {}]", item(""), item(r#", "applied": [{"kind": "payment", "amount": {"amount": "1", "currency": "CLP"}, "on": "2026-03-02"}, {"kind": "payment", "amount": {"amount": "1", "currency": "XXY"}, "on": "2026-03-02"}]"#).replace("F-1", "F-2")), "items", "items[1].applied[1].amount.currency"),
        (format!("[{}]", item(r#", "pauses": [{"kind": "promise", "from": "2026-03-10", "until": "2026-03-01"}]"#)), "items", "items[0].pauses[0]"),
        (format!("[{}]", item(r#", "reminder_count": 10001"#)), "items", "items[0].reminder_count"),
        (format!("[{}]", item(r#", "due_on": "2026-02-01""#)), "items", "items[0].due_on"),
        (format!("[{}]", item(r#", "total": {"amount": "9223372036854775808", "currency": "CLP"}"#).replace(r#""total": {"amount": "1000", "currency": "CLP"}, "#, "")), "items", "items[0].total.amount"),
        (r#"[{"id": "acme", "name": "A", "contacts": [{"name": "a", "email": "a@b.cl"}, {"name": "b", "email": "not-an-email"}]}]"#.into(), "clients", "clients[0].contacts[1].email"),
        (r#"[{"id": "acme", "name": "A", "overrides": {"rules": {"overdue": {"count": 10001}}}}]"#.into(), "clients", "clients[0].overrides.rules.overdue.count"),
        (r#"[{"id": "acme", "name": "A", "overrides": {"min_gap_days": 36601}}]"#.into(), "clients", "clients[0].overrides.min_gap_days"),
        (r#"[{"id": "acme", "name": "A", "overrides": {"send_time": "25:00"}}]"#.into(), "clients", "clients[0].overrides.send_time"),
        (r#"[{"id": "acme", "name": "A", "overrides": {"reply_to": ["x@y.cl", "bad"]}}]"#.into(), "clients", "clients[0].overrides.reply_to[1]"),
    ];
    let mut problems = Vec::new();
    for (doc, what, path) in &cases {
        let err = match *what {
            "items" => load::items_from_json(doc).err(),
            _ => load::clients_from_json(doc).err(),
        };
        match err {
            None => problems.push(format!("{path}: accepted")),
            Some(e) if e.path() != *path => problems.push(format!("{path}: path {:?} ({e})", e.path())),
            Some(_) => {}
        }
    }
    let policies = [
        (
            r#"{"rules": [{"id": "a", "anchor": "due"}, {"id": "b", "anchor": "due", "offset_days": -36601}]}"#,
            "rules[1].offset_days",
        ),
        (
            r#"{"statements": [{"id": "s", "rrule": "FREQ=WEEKLY;BYDAY=1MO", "start": "2026-01-01"}]}"#,
            "statements[0].rrule",
        ),
        (
            r#"{"calendar": {"non_working_weekdays": ["Mon","Tue","Wed","Thu","Fri","Sat","Sun"]}}"#,
            "calendar.non_working_weekdays",
        ),
        (
            r#"{"standing": {"closing_soon_after_days": 10, "closed_after_days": 5}}"#,
            "standing",
        ),
        (
            r#"{"rules": [{"id": "a", "anchor": "due", "late_fee": {"fixed": [{"amount": "-1", "currency": "CLP"}]}}]}"#,
            "rules[0].late_fee.fixed[0]",
        ),
        (r#"{"reply_to": ["ok@x.cl", "no"]}"#, "reply_to[1]"),
    ];
    for (doc, path) in policies {
        match Policy::from_json(doc) {
            Ok(_) => problems.push(format!("{path}: accepted")),
            Err(e) if !e.path().starts_with(path) => {
                problems.push(format!("{path}: path {:?} ({e})", e.path()))
            }
            Err(_) => {}
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// A client's override of a rule whose id holds `.` or `[ ]` (ids may) is named with the id
/// as one key, quoted, and with its value: the path read `overrides.rules.over.due.count`,
/// as if `over` held `due`, and the value was lost.
#[test]
fn a_rule_override_whose_id_holds_dots_or_brackets_is_named_at_its_path() {
    for (id, field, path) in [
        (
            "over.due",
            "count",
            r#"clients[0].overrides.rules["over.due"].count"#,
        ),
        (
            "r[1]",
            "every_days",
            r#"clients[0].overrides.rules["r[1]"].every_days"#,
        ),
        (
            "overdue",
            "offset_days",
            "clients[0].overrides.rules.overdue.offset_days",
        ),
    ] {
        let json = format!(
            r#"[{{"id": "acme", "name": "ACME", "overrides": {{"rules": {{"{id}": {{"{field}": 99999}}}}}}}}]"#
        );
        let err = load::clients_from_json(&json).unwrap_err();
        assert_eq!((err.path(), err.value()), (path, Some("99999")), "{err}");
        let toml = format!(
            "[[clients]]\nid = \"acme\"\nname = \"ACME\"\n[clients.overrides.rules.\"{id}\"]\n{field} = 99999\n"
        );
        let err = load::clients_from_toml(&toml).unwrap_err();
        assert_eq!(err.path(), path, "{err}");
    }
}

/// An amount of money that is wrong names the part of `{amount, currency}` that is, with
/// its value (the path stopped at the amount's object, and the value was lost).
#[test]
fn a_wrong_amount_of_money_names_its_amount_or_currency_and_value() {
    let rule = |extra: &str| format!(r#"{{"rules": [{{"id": "a", "anchor": "due", {extra}}}]}}"#);
    let cases = [
        (
            rule(r#""when": {"min_balance": [{"amount": "-1", "currency": "CLP"}]}"#),
            "rules[0].when.min_balance[0].amount",
            "-1",
        ),
        (
            rule(
                r#""late_fee": {"fixed": [{"amount": "5", "currency": "USD"}, {"amount": "-2.50", "currency": "EUR"}]}"#,
            ),
            "rules[0].late_fee.fixed[1].amount",
            "-2.50",
        ),
        (
            rule(r#""late_fee": {"basis_points": 100, "cap": [{"amount": "-3", "currency": "CLP"}]}"#),
            "rules[0].late_fee.cap[0].amount",
            "-3",
        ),
    ];
    let mut problems = Vec::new();
    for (doc, path, value) in &cases {
        match Policy::from_json(doc) {
            Ok(_) => problems.push(format!("{path}: accepted")),
            Err(e) if e.path() != *path || e.value() != Some(*value) => {
                problems.push(format!("{path}: {:?} = {:?} ({e})", e.path(), e.value()))
            }
            Err(_) => {}
        }
    }
    let item = |applied: &str| {
        format!(
            r#"[{{"id": "F-1", "client": "acme", "issued_on": "2026-03-01", "total": {{"amount": "1000", "currency": "CLP"}}, "applied": [{applied}]}}]"#
        )
    };
    for (doc, path, value, kind) in [
        (
            item(r#"{"kind": "payment", "amount": {"amount": "-1", "currency": "CLP"}, "on": "2026-03-02"}"#),
            "items[0].applied[0].amount.amount",
            "-1",
            LoadErrorKind::Invalid,
        ),
        (
            item(r#"{"kind": "payment", "amount": {"amount": "1", "currency": "USD"}, "on": "2026-03-02"}"#),
            "items[0].applied[0].amount.currency",
            "USD",
            LoadErrorKind::Invalid,
        ),
        // Past i64::MAX minor units, and more decimals than the currency has: the part named
        // `amount` of the money field named `amount` (it was named as the whole money value).
        (
            item(
                r#"{"kind": "payment", "amount": {"amount": "92233720368547758.08", "currency": "USD"}, "on": "2026-03-02"}"#,
            ),
            "items[0].applied[0].amount.amount",
            "92233720368547758.08",
            LoadErrorKind::Data,
        ),
        (
            item(
                r#"{"kind": "payment", "amount": {"amount": "1.234", "currency": "USD"}, "on": "2026-03-02"}"#,
            ),
            "items[0].applied[0].amount.amount",
            "1.234",
            LoadErrorKind::Data,
        ),
    ] {
        match load::items_from_json(&doc) {
            Ok(_) => problems.push(format!("{path}: accepted")),
            Err(e) if e.path() != path || e.value() != Some(value) => {
                problems.push(format!("{path}: {:?} = {:?} ({e})", e.path(), e.value()))
            }
            Err(e) => assert_eq!(e.kind(), kind, "{e}"),
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// TOML's own dates and times read as the same text quoted (they were refused with
/// "invalid type: map, expected a formatted date string", though TOML writes dates so).
#[test]
fn toml_dates_and_times_read_as_written_unquoted() {
    let quoted = "[[items]]\nid = \"F-1\"\nclient = \"acme\"\nissued_on = \"2026-03-01\"\ndue_on = \"2026-03-31\"\ntotal = { amount = \"1000\", currency = \"CLP\" }\npauses = [{ kind = \"promise\", until = \"2026-03-20\" }]\n";
    let native = quoted
        .replace("\"2026-03-01\"", "2026-03-01")
        .replace("\"2026-03-31\"", "2026-03-31")
        .replace("\"2026-03-20\"", "2026-03-20");
    assert_ne!(quoted, native);
    let want = load::items_from_toml(quoted).unwrap();
    let got = load::items_from_toml(&native).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(got, want);
    let policy = "send_time = 08:30:00\n[calendar]\nholidays = [2026-01-01, 2026-12-25]\n[[statements]]\nid = \"s\"\nrrule = \"FREQ=MONTHLY\"\nstart = 2026-01-01\n";
    let read = Policy::from_toml(policy).unwrap_or_else(|e| panic!("{e}"));
    let quoted_policy = "send_time = \"08:30:00\"\n[calendar]\nholidays = [\"2026-01-01\", \"2026-12-25\"]\n[[statements]]\nid = \"s\"\nrrule = \"FREQ=MONTHLY\"\nstart = \"2026-01-01\"\n";
    assert_eq!(
        serde_json::to_value(&read).unwrap(),
        serde_json::to_value(Policy::from_toml(quoted_policy).unwrap()).unwrap()
    );
    // A native date that is wrong where it is still names its path, value and line.
    let err =
        load::items_from_toml(&native.replace("due_on = 2026-03-31", "due_on = 2026-02-01")).unwrap_err();
    assert_eq!(err.path(), "items[0].due_on", "{err}");
    assert_eq!(err.value(), Some("2026-02-01"), "{err}");
    let err =
        load::items_from_toml(&native.replace("issued_on = 2026-03-01", "issued_on = 2026-03-01T10:00:00Z"))
            .unwrap_err();
    assert_eq!(err.path(), "items[0].issued_on", "{err}");
    assert_eq!(err.line(), Some(4), "{err}");
}

/// An amount is written one way: a decimal string or a whole number. A number with a
/// fraction says to write it as a string (it said "data did not match any variant of
/// untagged enum AmountRepr"), and a sign or spaces are refused as "1e3" is (they were
/// accepted).
#[test]
fn an_amount_is_a_plain_decimal_and_a_float_is_told_to_be_a_string() {
    let err = load::items_from_json(&four_items(r#"{"currency": "USD", "amount": 12.5}"#)).unwrap_err();
    assert_eq!(err.path(), "items[3].total.amount");
    let text = one_line(&err);
    assert!(text.contains("not exact: write it as a string"), "{text}");
    assert!(!text.contains("untagged"), "{text}");
    let err = load::items_from_json(&four_items(
        r#"{"currency": "USD", "amount": 99999999999999999999999}"#,
    ))
    .unwrap_err();
    assert_eq!(err.path(), "items[3].total.amount");
    assert!(one_line(&err).contains("too large"), "{err}");
    let err = load::items_from_json(&four_items(
        r#"{"currency": "USD", "amount": 18446744073709551615}"#,
    ))
    .unwrap_err();
    assert_eq!(
        (err.path(), err.value()),
        ("items[3].total.amount", Some("18446744073709551615"))
    );
    for bad in [
        "+5", " 5", "5 ", "1e3", "1,000", "0x10", "\u{0661}", ".5", "-.5", "5.",
    ] {
        let json = four_items(&format!(
            r#"{{"currency": "USD", "amount": {}}}"#,
            serde_json::json!(bad)
        ));
        match load::items_from_json(&json) {
            Ok(items) => panic!("{bad:?} read as {:?}", items[3].total),
            Err(err) => {
                assert_eq!(
                    (err.path(), err.value()),
                    ("items[3].total.amount", Some(bad)),
                    "{err}"
                );
                assert!(
                    matches!(err.validation(), Some(ValidationError::InvalidAmount { .. })),
                    "{err}"
                );
            }
        }
    }
    let ok = load::items_from_json(&four_items(r#"{"currency": "USD", "amount": 7}"#)).unwrap();
    assert_eq!(ok[3].total.unwrap().minor(), 700);
    // A whole number written with a point or an exponent is that number (it was said to be
    // "too large to read exactly").
    for written in ["12.0", "1.2e1"] {
        let json = four_items(&format!(r#"{{"currency": "USD", "amount": {written}}}"#));
        let ok = load::items_from_json(&json).unwrap();
        assert_eq!(ok[3].total.unwrap().minor(), 1200, "{written}");
    }
    let toml = "[[items]]\nid = \"F-1\"\nclient = \"acme\"\nissued_on = \"2026-03-02\"\ntotal = { currency = \"USD\", amount = 2.5 }\n";
    let err = load::items_from_toml(toml).unwrap_err();
    assert_eq!(err.path(), "items[0].total.amount");
    assert!(one_line(&err).contains("write it as a string"), "{err}");
}

/// A TOML date that is no date, written unquoted, names its path and value as a quoted one
/// does (the TOML parser refused it as a syntax error, without the field).
#[test]
fn an_unquoted_toml_date_that_is_no_date_names_its_path() {
    for (written, value) in [
        ("2026-02-30", "2026-02-30"),
        ("2026-13-01", "2026-13-01"),
        ("2026-02-30T09:00:00Z", "2026-02-30T09:00:00Z"),
    ] {
        let toml = format!(
            "[[items]]\nid = \"F-1\"\nclient = \"acme\"\nissued_on = \"2026-03-02\"\ntotal = {{ currency = \"USD\", amount = \"1\" }}\n\n[[items]]\nid = \"F-2\"\nclient = \"acme\"\nissued_on = {written}\ntotal = {{ currency = \"USD\", amount = \"1\" }}\n"
        );
        let err = load::items_from_toml(&toml).unwrap_err();
        assert_eq!(
            (err.path(), err.value()),
            ("items[1].issued_on", Some(value)),
            "{err}"
        );
        assert_eq!(err.line(), Some(10), "{err}");
    }
    // Not a date at all: still a syntax error, with its line.
    let err = load::items_from_toml("[[items]]\nid = \"F-1\"\nissued_on = 2026-03-0x\n").unwrap_err();
    assert!(matches!(err.kind(), LoadErrorKind::Syntax), "{err}");
    assert_eq!(err.line(), Some(3), "{err}");
}

/// A send time with a leap second is refused, naming its field (it was accepted, and gave
/// send instants such as 03:59:60 UTC).
#[test]
fn a_send_time_with_a_leap_second_is_refused() {
    for doc in [
        r#"{"time_zone": "UTC", "send_time": "09:00:60"}"#,
        r#"{"time_zone": "America/New_York", "send_time": "23:59:60"}"#,
    ] {
        let err = Policy::from_json(doc).unwrap_err();
        assert_eq!(err.path(), "send_time", "{err}");
        assert!(
            matches!(err.validation(), Some(ValidationError::LeapSecond { .. })),
            "{err}"
        );
    }
    let leap = chrono::NaiveTime::from_hms_milli_opt(9, 0, 59, 1_000).unwrap();
    let err = dunning::Planner::new(&Policy::new(TimeZone::UTC).with_send_time(leap)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "policy: send_time: 09:00:60 is a leap second; a send time is from 00:00:00 to 23:59:59"
    );
    let err = load::clients_from_json(
        r#"[{"id": "acme", "name": "ACME", "overrides": {"send_time": "08:59:60"}}]"#,
    )
    .unwrap_err();
    assert_eq!(
        (err.path(), err.value()),
        ("clients[0].overrides.send_time", Some("08:59:60")),
        "{err}"
    );
}
