//! The Message-IDs the adapters give: one per key (never shared by two reminders), in the
//! sender's domain, always a valid RFC 5322 `msg-id`.

use dunning::{Mailbox, Message};
use dunning_adapters::{DEFAULT_MESSAGE_ID_DOMAIN, message_id};

fn message(key: &str, from: Option<&str>) -> Message {
    let mut m: Message = serde_json::from_value(serde_json::json!({
        "key": key,
        "to": [{"name": "Ana", "email": "ana@acme.example"}],
        "subject": "s",
        "text": "t",
        "locale": "es",
    }))
    .unwrap();
    m.from = from.map(|email| Mailbox {
        name: None,
        email: email.into(),
    });
    m
}

/// RFC 5322 3.6.4 `msg-id` without comments or folding: `<` dot-atom-text `@`
/// (dot-atom-text or `[` dtext `]`) `>`.
fn is_msg_id(id: &str) -> bool {
    let atext = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c);
    let dot_atom = |s: &str| !s.is_empty() && s.split('.').all(|r| !r.is_empty() && r.chars().all(atext));
    let Some(inner) = id.strip_prefix('<').and_then(|i| i.strip_suffix('>')) else {
        return false;
    };
    let Some((left, right)) = inner.split_once('@') else {
        return false;
    };
    let literal = right
        .strip_prefix('[')
        .and_then(|r| r.strip_suffix(']'))
        .is_some_and(|d| {
            d.bytes()
                .all(|b| (33..=126).contains(&b) && !matches!(b, b'[' | b']' | b'\\'))
        });
    dot_atom(left) && (dot_atom(right) || literal)
}

/// The review's probe: `a_b/c/1` and `a/b_c/1` both became `<a_b_c_1@dunning.local>`, and
/// a mailbox that de-duplicates by Message-ID dropped one of the two reminders.
#[test]
fn distinct_keys_give_distinct_valid_message_ids() {
    let keys = [
        "a_b/c/1",
        "a/b_c/1",
        "overdue/F.1/1",
        "overdue/F_1/1",
        "overdue/F-1/1",
        "overdue/F%2E1/1",
        "overdue/F%2e1/1",
        "manual/F-1/2026-03-02T12:00:00Z",
        "manual/F-1/2026-03-02T12_00_00Z",
        "x y/1",
        "<a>@b/1",
        "a..b/1",
        ".a/1",
        "a./1",
        "",
        "ñ/1",
        "n/1",
        "a\r\nb/1",
        "a\"b/1",
        "(c)/1",
        "a%/1",
    ];
    let mut ids: Vec<String> = Vec::new();
    for key in keys {
        let id = message_id(&message(key, Some("cobranza@andinos.example")));
        assert!(is_msg_id(&id), "{key:?}: {id}");
        assert!(!ids.contains(&id), "{key:?} shares {id}");
        ids.push(id);
    }
}

/// The domain is the sender's (lowercased), so that two companies never share an id; with no
/// sender, or a domain no msg-id can hold, it is the documented default.
#[test]
fn the_domain_is_the_senders() {
    let key = "overdue/F-1/1";
    let a = message_id(&message(key, Some("cobranza@andinos.example")));
    let b = message_id(&message(key, Some("billing@otra.example")));
    assert_ne!(a, b);
    assert!(a.ends_with("@andinos.example>"), "{a}");
    assert_eq!(
        a,
        message_id(&message(key, Some("pagos@Andinos.EXAMPLE"))),
        "one domain, one id"
    );
    let literal = message_id(&message(key, Some("x@[192.0.2.1]")));
    assert!(literal.ends_with("@[192.0.2.1]>"), "{literal}");
    for from in [None, Some("x@bücher.example"), Some("x@a..b"), Some("nobody")] {
        let id = message_id(&message(key, from));
        assert!(is_msg_id(&id), "{from:?}: {id}");
        assert!(
            id.ends_with(&format!("@{DEFAULT_MESSAGE_ID_DOMAIN}>")),
            "{from:?}: {id}"
        );
    }
}
