//! The `.eml` outbox against hostile values: display names that look like address lists,
//! attachment references with line breaks, and item numbers holding MIME boundary lines.
//! Each file written is taken apart as a mail reader would (see `eml`) and checked for
//! structure.

#[path = "../../../tests/common/mod.rs"]
mod common;
mod eml;
mod support;

use std::path::PathBuf;

use chrono::Duration;
use common::*;
use dunning::*;
use dunning_adapters::outbox::OutboxMailer;
use eml::*;
use support::TempDir;

/// Writes `m` through the outbox and returns the file.
fn eml(m: &Message) -> Vec<u8> {
    let dir = TempDir::new("outbox");
    let mailer = OutboxMailer::new(&dir.0).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    rt.block_on(mailer.send(m)).unwrap();
    let files: Vec<_> = std::fs::read_dir(&dir.0)
        .unwrap()
        .map(|f| f.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    std::fs::read(&files[0]).unwrap()
}

/// The headers a message from the outbox may have.
const ALLOWED: [&str; 10] = [
    "from",
    "to",
    "cc",
    "reply-to",
    "subject",
    "message-id",
    "date",
    "mime-version",
    "content-type",
    "content-transfer-encoding",
];

fn assert_only_allowed_headers(e: &Entity) {
    for name in e.names() {
        let attachment = name
            .strip_prefix("x-dunning-attachment-")
            .is_some_and(|n| n.parse::<usize>().is_ok());
        assert!(
            attachment || ALLOWED.contains(&name.as_str()),
            "header {name:?} in {:?}",
            e.headers
        );
    }
    assert!(e.all("Bcc").is_empty());
}

fn policy(company: &str) -> Policy {
    let mut p = Policy::new(tz("America/Santiago"))
        .with_rule(rule("due-today", Anchor::Due, 0))
        .with_rule(Rule::thank_you("thanks".parse().unwrap()))
        .with_statement(StatementRule::new(
            "estado".parse().unwrap(),
            "FREQ=MONTHLY;BYMONTHDAY=1",
            d(2026, 1, 1),
        ))
        .with_standing(StandingRule::new(30, 60));
    p.company.name = company.into();
    p.company.email = "cobranza@andinos.example".into();
    p.reply_to = vec!["pagos@andinos.example".into()];
    p.cc = vec!["copia@andinos.example".into()];
    p
}

fn render(policy: &Policy, event: &Event, client: &Client) -> Message {
    Messages::new(policy)
        .unwrap()
        .render(event, client, &RenderOptions::default())
        .unwrap()
}

#[test]
fn display_names_that_look_like_address_lists_stay_one_mailbox_each() {
    let policy = policy("Servicios Andinos, evil@attacker.example");
    let planner = Planner::new(&policy).unwrap();
    let mut client = client("acme", "America/Santiago").with_locale("en");
    client.contacts.clear();
    for (i, name) in HOSTILE_NAMES.iter().enumerate() {
        client = client.with_contact(Contact::new(*name, format!("c{i}@acme.example")));
    }
    let item = invoice("F-1", "acme", d(2026, 3, 2), d(2026, 4, 1), money("1000", "CLP"));
    let event = planner
        .preview(
            &"due-today".parse().unwrap(),
            &client,
            &item,
            utc(2026, 4, 1, 15, 0),
        )
        .unwrap();
    let m = render(&policy, &event, &client);
    assert_eq!(m.to.len(), HOSTILE_NAMES.len());
    let file = String::from_utf8(eml(&m)).unwrap();
    let e = Entity::parse(&file);
    assert_only_allowed_headers(&e);
    let intended: Vec<String> = (0..HOSTILE_NAMES.len())
        .map(|i| format!("c{i}@acme.example"))
        .collect();
    assert_eq!(addresses(e.one("To")), intended, "{file}");
    assert_eq!(addresses(e.one("From")), ["cobranza@andinos.example"], "{file}");
    assert_eq!(addresses(e.one("Cc")), ["copia@andinos.example"], "{file}");
    assert_eq!(addresses(e.one("Reply-To")), ["pagos@andinos.example"], "{file}");
}

#[test]
fn attachment_references_with_line_breaks_add_no_header() {
    let policy = policy("Servicios Andinos");
    let planner = Planner::new(&policy).unwrap();
    let client = client("acme", "America/Santiago").with_locale("en");
    let item = invoice("F-1", "acme", d(2026, 3, 2), d(2026, 4, 1), money("1000", "CLP"));
    let event = planner
        .preview(
            &"due-today".parse().unwrap(),
            &client,
            &item,
            utc(2026, 4, 1, 15, 0),
        )
        .unwrap();
    // Messages refuse such references when they are rendered; a host may still build a
    // message by hand, and the outbox must write it safely.
    let mut m = render(&policy, &event, &client);
    let references = [
        "facturas/F-1.pdf\r\nBcc: evil@attacker.example",
        "F-1.pdf\nX-Evil: 1",
        "F-1.pdf\rBcc: evil@attacker.example",
        "F-1.pdf\r\n\r\n<script>alert(1)</script>",
        "plain, with comma.pdf",
    ];
    m.attachments = references.iter().map(|r| (*r).to_owned()).collect();
    let file = String::from_utf8(eml(&m)).unwrap();
    assert!(
        !file.lines().any(|l| l.to_ascii_lowercase().starts_with("bcc:")),
        "{file}"
    );
    let e = Entity::parse(&file);
    assert_only_allowed_headers(&e);
    let listed: Vec<String> = (1..=references.len())
        .map(|n| unstructured(e.one(&format!("X-Dunning-Attachment-{n}"))))
        .collect();
    assert_eq!(listed, references, "{file}");
    assert_eq!(addresses(e.one("To")), ["billing@acme.example"]);
    // The body is still the one part the message has.
    assert!(e.one("Content-Type").starts_with("multipart/alternative"));
    assert_eq!(e.parts().len(), 2, "{file}");
}

/// Checks the file of a message whose items carry [`BOUNDARY_ATTACK`]: two parts, text then
/// HTML, with the script escaped in the HTML.
fn assert_two_safe_parts(m: &Message) {
    assert!(m.html.is_some());
    let file = String::from_utf8(eml(m)).unwrap();
    let e = Entity::parse(&file);
    assert_only_allowed_headers(&e);
    assert!(
        e.one("Content-Type").starts_with("multipart/alternative"),
        "{file}"
    );
    let parts = e.parts();
    let kinds: Vec<&str> = parts
        .iter()
        .map(|p| p.one("Content-Type").split(';').next().unwrap())
        .collect();
    assert_eq!(kinds, ["text/plain", "text/html"], "{file}");
    let (text, html) = (parts[0].decoded(), parts[1].decoded());
    assert!(!html.contains("<script>"), "{html}");
    assert!(html.contains("&lt;script&gt;"), "{html}");
    // The text part says the number as written: plain text, where the template put it.
    assert!(text.contains("<script>alert(1)</script>"), "{text}");
    let lf = |s: &str| s.replace("\r\n", "\n").trim_end().to_owned();
    assert_eq!(lf(&text), lf(&m.text));
}

/// An item number holding boundary lines is refused by the planner (a number reaches
/// subjects); an event a host builds with one anyway still writes two safe parts.
#[test]
fn item_numbers_holding_boundary_lines_open_no_mime_part() {
    let policy = policy("Servicios Andinos");
    let planner = Planner::new(&policy).unwrap();
    let client = client("acme", "America/Santiago").with_locale("en");
    let messages = Messages::new(&policy).unwrap();
    // The number as a host might put it in an event it builds (or one planned before the
    // planner refused such numbers).
    let render = |e: &Event| {
        let mut e = e.clone();
        for m in &mut e.items {
            m.number = BOUNDARY_ATTACK.into();
        }
        messages.render(&e, &client, &RenderOptions::default()).unwrap()
    };
    let hostile = invoice("F-9", "acme", d(2026, 3, 2), d(2026, 4, 1), money("1000", "CLP"))
        .with_number(BOUNDARY_ATTACK);
    assert!(matches!(
        planner.check(std::slice::from_ref(&client), std::slice::from_ref(&hostile)),
        Err(ValidationError::LineBreak { field, .. }) if field == "item F-9: number"
    ));

    // A thank-you note.
    let paid = invoice("F-9", "acme", d(2026, 3, 2), d(2026, 4, 1), money("1000", "CLP"))
        .paid(money("1000", "CLP"), d(2026, 3, 30));
    let thanks = planner
        .preview(
            &"thanks".parse().unwrap(),
            &client,
            &paid,
            utc(2026, 3, 30, 15, 0),
        )
        .unwrap();
    assert_two_safe_parts(&render(&thanks));

    // A statement and a closed-account notice, about an invoice long overdue.
    let open = invoice("F-9", "acme", d(2025, 12, 1), d(2026, 1, 1), money("1000", "CLP"));
    let mut kinds = Vec::new();
    for day in 0..40 {
        let now = utc(2026, 3, 1, 15, 0) + Duration::days(day);
        let plan = planner
            .plan(
                std::slice::from_ref(&client),
                std::slice::from_ref(&open),
                &[],
                now,
                Horizon::NONE,
            )
            .unwrap();
        for event in plan.due() {
            let kind = match (&event.statement, &event.standing) {
                (Some(_), _) => "statement".to_owned(),
                (None, Some(s)) => format!("{:?}", s.state),
                (None, None) => continue,
            };
            assert_two_safe_parts(&render(event));
            if !kinds.contains(&kind) {
                kinds.push(kind);
            }
        }
    }
    kinds.sort();
    assert_eq!(kinds, ["Closed", "ClosingSoon", "statement"]);
}

#[test]
fn a_message_without_a_sender_is_written_without_from() {
    let mut policy = policy("Servicios Andinos");
    policy.company.email.clear();
    let planner = Planner::new(&policy).unwrap();
    let client = client("acme", "America/Santiago").with_locale("en");
    let item = invoice("F-1", "acme", d(2026, 3, 2), d(2026, 4, 1), money("1000", "CLP"));
    let event = planner
        .preview(
            &"due-today".parse().unwrap(),
            &client,
            &item,
            utc(2026, 4, 1, 15, 0),
        )
        .unwrap();
    let m = render(&policy, &event, &client);
    assert_eq!(m.from, None);
    let file = String::from_utf8(eml(&m)).unwrap();
    let e = Entity::parse(&file);
    assert_only_allowed_headers(&e);
    assert!(e.all("From").is_empty(), "{file}");
    assert_eq!(addresses(e.one("To")), ["billing@acme.example"]);
    assert_eq!(e.one("Subject"), "Your invoice F-1 is due today");
}

/// A message with `key` and `subject`, without attachments.
fn keyed(key: &str, subject: &str) -> Message {
    serde_json::from_value(serde_json::json!({
        "key": key,
        "from": {"email": "cobranza@andinos.example"},
        "to": [{"name": "Ana", "email": "ana@acme.example"}],
        "subject": subject,
        "text": format!("body of {key}"),
        "locale": "es",
    }))
    .unwrap()
}

/// The review's probe: `overdue/F.1/1` and `overdue/F_1/1` were written to one file, the
/// second message silently replacing the first. Every key now has a file of its own, also
/// where letter case is ignored (macOS, Windows), none hidden or outside the folder, each
/// holding its own message with the Message-ID the receipt gives.
#[tokio::test]
async fn distinct_keys_are_written_to_distinct_files() {
    let keys = [
        "overdue/F.1/1",
        "overdue/F_1/1",
        "overdue/F-1/1",
        "overdue/f-1/1",
        "overdue/F%2E1/1",
        "a_b/c/1",
        "a/b_c/1",
        "manual/F-1/2026-03-02T12:00:00Z",
        "manual/F-1/2026-03-02T12_00_00Z",
        "über/ñ/1",
        "uber/n/1",
        ".hidden/x/1",
        "../x/1",
        "x\\y/1",
    ];
    let dir = TempDir::new("outbox-keys");
    let outbox = OutboxMailer::new(&dir.0).unwrap();
    let mut ids = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        let receipt = outbox.send(&keyed(key, &format!("message {i}"))).await.unwrap();
        ids.push(receipt.message_id);
    }
    let files: Vec<PathBuf> = std::fs::read_dir(&dir.0)
        .unwrap()
        .map(|f| f.unwrap().path())
        .collect();
    assert_eq!(files.len(), keys.len(), "{files:?}");
    let mut folded: Vec<String> = files
        .iter()
        .map(|f| f.file_name().unwrap().to_str().unwrap().to_lowercase())
        .collect();
    folded.sort();
    folded.dedup();
    assert_eq!(folded.len(), keys.len(), "names equal but for case: {files:?}");
    let mut found = Vec::new();
    for f in &files {
        let name = f.file_name().unwrap().to_str().unwrap();
        assert!(name.ends_with(".eml") && !name.starts_with('.'), "{name}");
        let e = Entity::parse(&std::fs::read_to_string(f).unwrap());
        let subject = e.one("Subject").to_owned();
        let i: usize = subject.strip_prefix("message ").unwrap().parse().unwrap();
        assert_eq!(e.one("Message-ID"), ids[i], "{name}");
        found.push(i);
    }
    found.sort_unstable();
    assert_eq!(found, (0..keys.len()).collect::<Vec<_>>());
}

/// A key already in the outbox (sent before, then released and sent again) is refused with
/// a permanent error naming the file, which keeps the first message; it was overwritten.
#[tokio::test]
async fn a_key_written_before_is_refused_not_overwritten() {
    let dir = TempDir::new("outbox-twice");
    let outbox = OutboxMailer::new(&dir.0).unwrap();
    outbox.send(&keyed("overdue/F-1/1", "first")).await.unwrap();
    let err = outbox
        .send(&keyed("overdue/F-1/1", "second"))
        .await
        .expect_err("the second message was written over the first");
    let files: Vec<PathBuf> = std::fs::read_dir(&dir.0)
        .unwrap()
        .map(|f| f.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(
        matches!(&err, MailError::Permanent(e) if e.contains(&files[0].display().to_string())),
        "{err:?}"
    );
    let e = Entity::parse(&std::fs::read_to_string(&files[0]).unwrap());
    assert_eq!(e.one("Subject"), "first");
}
