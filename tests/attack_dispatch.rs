//! Adversarial tests of messages, dispatch and manual reminder records, written from the
//! README ("Operating it", the guarantees, failures and retry, at-most-once /
//! at-least-once), DESIGN ("Behaviour users rely on" 9, 10, 12, 14, 15, 16, 17), the seeds
//! (000 reminders list, 001 manual and automatic, 002 invoice events, preview and test send)
//! and the public rustdoc of `Messages`, `Dispatcher`, `DispatchOptions`, the store traits,
//! `MemoryStore`, `Mailer`, `clock` and `reminders`.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, TimeZone as _, Utc};
use dunning::store::{
    ActionLog, Claim, Delivery, DispatchStore, LogEntry, LogFilter, Reminder, ReminderStore, Snapshot,
    StoreError, async_trait,
};
use dunning::*;

// ---------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn at(y: i32, m: u32, day: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, day, h, 0, 0).unwrap()
}

fn cur(code: &str) -> Currency {
    Currency::from_code(code).unwrap()
}

fn money(text: &str, code: &str) -> Money {
    Money::parse(text, cur(code)).unwrap()
}

/// UTC, weekdays only by default; one rule on the due date, repeating weekly twice more.
fn policy() -> Policy {
    Policy::new(TimeZone::UTC).with_rule(Rule::new("overdue".parse().unwrap(), Anchor::Due, 0).repeat(7, 3))
}

fn client(id: &str) -> Client {
    Client::new(id.parse().unwrap(), format!("Client {id}"))
        .with_locale("es-CL")
        .with_contact(Contact::new("Ana", format!("ana@{id}.cl")))
}

/// An invoice issued 2026-03-02, due Tuesday 2026-03-10.
fn invoice(id: &str, client: &str) -> Item {
    Item::invoice(
        id.parse().unwrap(),
        client.parse().unwrap(),
        d(2026, 3, 2),
        money("119000", "CLP"),
    )
    .due(d(2026, 3, 10))
}

/// The due date, after the 09:00 send time.
fn due_day() -> DateTime<Utc> {
    at(2026, 3, 10, 13)
}

fn dispatcher(store: Arc<dyn Store>, mailer: Arc<dyn Mailer>, opts: DispatchOptions) -> Dispatcher {
    Dispatcher::new(store, mailer, &policy())
        .unwrap()
        .with_options(opts)
        .unwrap()
}

fn fast() -> DispatchOptions {
    DispatchOptions::default()
        .with_send_timeout(Duration::from_millis(200))
        .with_retries(3, Duration::from_secs(60))
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn count_by_key(sent: &[Message]) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for msg in sent {
        *m.entry(msg.key.to_string()).or_insert(0) += 1;
    }
    m
}

fn one_plan(
    p: &Policy,
    clients: &[Client],
    items: &[Item],
    history: &[HistoryEntry],
    now: DateTime<Utc>,
) -> Plan {
    Planner::new(p)
        .unwrap()
        .plan(clients, items, history, now, Horizon::NONE)
        .unwrap()
}

// ---------------------------------------------------------------------------------------
// A store wrapper: hooks and faults at each step
// ---------------------------------------------------------------------------------------

type Hook = Box<dyn Fn(&MemoryStore) + Send + Sync>;

/// Which store call to fail, and how many times.
#[derive(Default)]
struct Faults {
    /// method name -> remaining failures
    fail: Mutex<HashMap<&'static str, usize>>,
    /// Called after a claim is granted (with the inner store).
    after_claim: Mutex<Option<Hook>>,
    calls: Mutex<Vec<&'static str>>,
}

struct Hooked {
    inner: MemoryStore,
    faults: Arc<Faults>,
}

impl Hooked {
    fn check(&self, method: &'static str) -> Result<(), StoreError> {
        self.faults.calls.lock().unwrap().push(method);
        let mut fail = self.faults.fail.lock().unwrap();
        if let Some(n) = fail.get_mut(method) {
            if *n > 0 {
                *n -= 1;
                return Err(StoreError::Unavailable {
                    context: method.into(),
                    message: "injected fault".into(),
                });
            }
        }
        Ok(())
    }

    fn claimed(&self) {
        if let Some(f) = self.faults.after_claim.lock().unwrap().as_ref() {
            f(&self.inner);
        }
    }
}

#[async_trait]
impl DispatchStore for Hooked {
    async fn load(&self) -> Result<Snapshot, StoreError> {
        self.check("load")?;
        self.inner.load().await
    }

    async fn load_client(&self, client: &ClientId) -> Result<Snapshot, StoreError> {
        self.check("load_client")?;
        self.inner.load_client(client).await
    }

    async fn claim(
        &self,
        key: &EventKey,
        now: DateTime<Utc>,
        reclaim_after: Option<chrono::Duration>,
    ) -> Result<Claim, StoreError> {
        self.check("claim")?;
        let answer = self.inner.claim(key, now, reclaim_after).await?;
        if matches!(answer, Claim::Granted { .. }) {
            self.claimed();
        }
        Ok(answer)
    }

    async fn finish(
        &self,
        key: &EventKey,
        outcome: Delivery,
        sent: Option<HistoryEntry>,
        log: Option<LogEntry>,
    ) -> Result<(), StoreError> {
        self.check("finish")?;
        self.inner.finish(key, outcome, sent, log).await
    }

    async fn delivery(&self, key: &EventKey) -> Result<Option<Delivery>, StoreError> {
        self.check("delivery")?;
        self.inner.delivery(key).await
    }

    async fn finish_claimed(
        &self,
        key: &EventKey,
        claim: (DateTime<Utc>, u32),
        outcome: Delivery,
        sent: Option<HistoryEntry>,
        log: Option<LogEntry>,
    ) -> Result<(), StoreError> {
        self.check("finish_claimed")?;
        self.inner.finish_claimed(key, claim, outcome, sent, log).await
    }

    async fn abandoned_claims(&self, before: DateTime<Utc>) -> Result<Vec<(EventKey, Delivery)>, StoreError> {
        self.check("abandoned_claims")?;
        self.inner.abandoned_claims(before).await
    }

    async fn append_history(&self, entry: HistoryEntry) -> Result<(), StoreError> {
        self.check("append_history")?;
        self.inner.append_history(entry).await
    }
}

#[async_trait]
impl ActionLog for Hooked {
    async fn log(&self, entry: LogEntry) -> Result<(), StoreError> {
        self.check("log")?;
        self.inner.log(entry).await
    }

    async fn read_log(&self, filter: &LogFilter) -> Result<Vec<LogEntry>, StoreError> {
        self.inner.read_log(filter).await
    }
}

#[async_trait]
impl ReminderStore for Hooked {
    async fn save_reminder(&self, reminder: &Reminder) -> Result<(), StoreError> {
        self.check("save_reminder")?;
        self.inner.save_reminder(reminder).await
    }

    async fn reminders(&self) -> Result<Vec<Reminder>, StoreError> {
        self.inner.reminders().await
    }

    async fn delete_reminder(&self, id: &str) -> Result<bool, StoreError> {
        self.check("delete_reminder")?;
        self.inner.delete_reminder(id).await
    }
}

/// A mailer that records, and answers by a script of its own: `Ok`, `Err`, or a stall of
/// the given length before accepting.
#[derive(Clone, Default)]
struct Scripted {
    accepted: Arc<Mutex<Vec<Message>>>,
    calls: Arc<AtomicUsize>,
    #[allow(clippy::type_complexity)]
    script: Option<Arc<dyn Fn(usize) -> Step + Send + Sync>>,
}

#[derive(Clone)]
enum Step {
    Accept,
    Fail(MailError),
    /// Take the message, then stall this long before answering Ok.
    AcceptAfter(Duration),
}

impl Scripted {
    fn with(script: impl Fn(usize) -> Step + Send + Sync + 'static) -> Self {
        Self {
            script: Some(Arc::new(script)),
            ..Self::default()
        }
    }

    fn accepted(&self) -> Vec<Message> {
        self.accepted.lock().unwrap().clone()
    }
}

#[async_trait]
impl Mailer for Scripted {
    async fn send(&self, message: &Message) -> Result<Receipt, MailError> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        let step = self.script.as_ref().map_or(Step::Accept, |s| s(n));
        match step {
            Step::Accept => {}
            Step::Fail(e) => return Err(e),
            Step::AcceptAfter(stall) => {
                self.accepted.lock().unwrap().push(message.clone());
                tokio::time::sleep(stall).await;
                return Ok(Receipt {
                    message_id: format!("<{}.{n}@t>", message.key),
                });
            }
        }
        self.accepted.lock().unwrap().push(message.clone());
        Ok(Receipt {
            message_id: format!("<{}.{n}@t>", message.key),
        })
    }
}

// ---------------------------------------------------------------------------------------
// 1. Messages
// ---------------------------------------------------------------------------------------

const SCRIPT: &str = "<script>alert(1)</script>";

fn hostile_policy() -> Policy {
    let mut p = policy();
    p.company.name = format!("Evil {SCRIPT} & \"Co\" {{{{client.name}}}}");
    p.company.address = "Calle <b>1</b> & 'x'".into();
    p.company.phone = "<img src=x onerror=alert(2)>".into();
    p.company.website = "\"><svg onload=alert(3)>".into();
    p.payment_instructions = format!("Banco <i>X</i>\ncuenta {SCRIPT}\r\nRUT 1-9");
    p
}

fn hostile_client(locale: &str) -> Client {
    Client::new(
        "acme".parse().unwrap(),
        format!("ACME {SCRIPT} \"q\" & {{{{company.name}}}}"),
    )
    .with_locale(locale)
    .with_contact(Contact::new(format!("Ana {SCRIPT}"), "ana@acme.cl"))
}

fn hostile_item() -> Item {
    invoice("F-1", "acme").with_number(format!("N° <b>1</b> {SCRIPT}"))
}

#[test]
fn html_bodies_escape_every_hostile_value_in_every_shipped_language() {
    for locale in ["es-CL", "es", "en-US", "en", "es-ES"] {
        let p = hostile_policy();
        let c = hostile_client(locale);
        let items = [hostile_item()];
        let plan = one_plan(&p, std::slice::from_ref(&c), &items, &[], due_day());
        assert_eq!(plan.due().len(), 1, "{locale}");
        let messages = Messages::new(&p).unwrap();
        let m = messages
            .render(
                &plan.due()[0],
                &c,
                &RenderOptions::default().with_payment_link("https://pay.example/F-1?a=1&b=<2>"),
            )
            .unwrap();
        let html = m.html.as_deref().expect("the shipped templates have HTML");
        for raw in [
            SCRIPT,
            "<b>1</b>",
            "<img src=x",
            "<svg",
            "<i>X</i>",
            "<b>1</b>",
            "b=<2>",
        ] {
            assert!(
                !html.contains(raw),
                "{locale}: raw {raw:?} in the HTML body:\n{html}"
            );
        }
        assert!(
            html.contains("&lt;script&gt;"),
            "{locale}: escaped text missing:\n{html}"
        );
        // Values are data, never templates: the braces a name holds come out as written.
        assert!(
            m.text.contains("{{client.name}}") && html.contains("{{client.name}}"),
            "{locale}: {}\n{html}",
            m.text
        );
        assert!(!m.subject.contains('\n') && !m.subject.contains('\r'));
        m.check_headers().unwrap();
    }
}

#[test]
fn a_very_long_client_name_and_item_number_render_without_trouble() {
    let long = "Ñ".repeat(100_000);
    let p = policy();
    let c = Client::new("acme".parse().unwrap(), long.clone())
        .with_locale("es-CL")
        .with_contact(Contact::new("Ana", "ana@acme.cl"));
    let items = [invoice("F-1", "acme").with_number(&long)];
    let plan = one_plan(&p, std::slice::from_ref(&c), &items, &[], due_day());
    let m = Messages::new(&p)
        .unwrap()
        .render(&plan.due()[0], &c, &RenderOptions::default())
        .unwrap();
    assert!(m.subject.contains(&long));
    m.check_headers().unwrap();
}

/// The characters the docs say no header may hold: line breaks of every kind, controls other
/// than tab, bidi overrides and isolates.
const BAD: &[char] = &[
    '\r', '\n', '\u{0}', '\u{b}', '\u{c}', '\u{1c}', '\u{1d}', '\u{1e}', '\u{85}', '\u{2028}', '\u{2029}',
    '\u{7f}', '\u{202a}', '\u{202e}', '\u{2066}', '\u{2069}',
];

#[test]
fn header_values_with_line_breaks_controls_or_bidi_are_refused_with_the_field_named() {
    let p = policy();
    let messages = Messages::new(&p).unwrap();
    let c = client("acme");
    let items = [invoice("F-1", "acme")];
    let plan = one_plan(&p, std::slice::from_ref(&c), &items, &[], due_day());
    let event = plan.due()[0].clone();
    for &bad in BAD {
        // The item number reaches the subject (the planner would refuse it; here the event is
        // changed by hand, as a host's own code might).
        let mut e = event.clone();
        e.items[0].number = format!("F-1{bad}Bcc: evil@x.com").into();
        match messages.render(&e, &c, &RenderOptions::default()) {
            Err(MessageError::HeaderInjection { field, .. }) => assert_eq!(field, "subject", "{bad:?}"),
            other => panic!("number with {bad:?}: {other:?}"),
        }
        // A hand-built message: each header field named.
        let ok = messages.render(&event, &c, &RenderOptions::default()).unwrap();
        let evil = format!("x{bad}y");
        let cases: Vec<(Message, &str)> = vec![
            (
                Message {
                    subject: evil.clone(),
                    ..ok.clone()
                },
                "subject",
            ),
            (
                Message {
                    to: vec![Mailbox {
                        name: Some(evil.clone()),
                        email: "a@b.cl".into(),
                    }],
                    ..ok.clone()
                },
                "to (contact",
            ),
            (
                Message {
                    from: Some(Mailbox {
                        name: None,
                        email: format!("a{bad}@b.cl"),
                    }),
                    ..ok.clone()
                },
                "from",
            ),
            (
                Message {
                    cc: vec![Mailbox {
                        name: None,
                        email: format!("a@b.cl{bad}"),
                    }],
                    ..ok.clone()
                },
                "cc",
            ),
            (
                Message {
                    bcc: vec![Mailbox {
                        name: Some(evil.clone()),
                        email: "a@b.cl".into(),
                    }],
                    ..ok.clone()
                },
                "bcc",
            ),
            (
                Message {
                    reply_to: vec![Mailbox {
                        name: None,
                        email: format!("{bad}a@b.cl"),
                    }],
                    ..ok.clone()
                },
                "reply_to",
            ),
            (
                Message {
                    attachments: vec!["ok.pdf".into(), evil.clone()],
                    ..ok.clone()
                },
                "attachments[1]",
            ),
        ];
        for (m, field) in cases {
            match m.check_headers() {
                Err(MessageError::HeaderInjection { field: f, .. })
                | Err(MessageError::InvalidAddress { field: f, .. }) => {
                    assert!(f.starts_with(field), "{bad:?}: field {f:?}, expected {field:?}")
                }
                other => panic!("{bad:?} in {field}: {other:?}"),
            }
        }
        // A test send to an operator address with a line break.
        match ok.for_operator(&format!("op@x.cl{bad}Bcc: evil@x.com")) {
            Err(MessageError::HeaderInjection { field, .. })
            | Err(MessageError::InvalidAddress { field, .. }) => {
                assert_eq!(field, "to")
            }
            other => panic!("{bad:?} in the operator address: {other:?}"),
        }
    }
}

#[test]
fn hostile_client_text_is_refused_by_the_planner_with_a_typed_error_never_a_panic() {
    let p = policy();
    let planner = Planner::new(&p).unwrap();
    for &bad in &['\r', '\n', '\u{0}', '\u{202e}', '\u{2028}'] {
        let cases = [
            Client::new("acme".parse().unwrap(), format!("ACME{bad}Bcc: x@y.z"))
                .with_contact(Contact::new("Ana", "ana@acme.cl")),
            Client::new("acme".parse().unwrap(), "ACME")
                .with_contact(Contact::new(format!("Ana{bad}"), "ana@acme.cl")),
            Client::new("acme".parse().unwrap(), "ACME")
                .with_contact(Contact::new("Ana", format!("ana@acme.cl{bad}"))),
            Client::new("acme".parse().unwrap(), "ACME")
                .with_contact(Contact::new("Ana", "ana@acme.cl"))
                .with_locale(format!("es-CL{bad}")),
        ];
        for c in cases {
            let r = planner.plan(
                std::slice::from_ref(&c),
                &[invoice("F-1", "acme")],
                &[],
                due_day(),
                Horizon::NONE,
            );
            assert!(r.is_err(), "{bad:?}: {c:?} planned");
            assert!(
                r.unwrap_err().to_string().contains("acme"),
                "the error names the client"
            );
        }
        let item = invoice("F-1", "acme").with_number(format!("F{bad}1"));
        let r = planner.plan(&[client("acme")], &[item], &[], due_day(), Horizon::NONE);
        assert!(r.unwrap_err().to_string().contains("number"), "{bad:?}");
    }
    // A locale that would break out of `<html lang="...">`.
    let c = client("acme").with_locale("\"><script>");
    assert!(
        planner
            .plan(&[c], &[invoice("F-1", "acme")], &[], due_day(), Horizon::NONE)
            .is_err()
    );
}

#[test]
fn policy_addresses_with_line_breaks_are_refused_when_loaded_naming_the_field() {
    for (field, set) in [
        (
            "reply_to",
            (|p: &mut Policy, v: String| p.reply_to = vec![v]) as fn(&mut Policy, String),
        ),
        ("cc", |p, v| p.cc = vec!["ok@x.cl".into(), v]),
        ("bcc", |p, v| p.bcc = vec![v]),
        ("company.email", |p, v| p.company.email = v),
        ("company.name", |p, v| p.company.name = v),
    ] {
        for &bad in &['\r', '\n', '\u{0}', '\u{85}', '\u{202e}'] {
            let mut p = policy();
            set(&mut p, format!("a@b.cl{bad}Bcc: evil@x.com"));
            let e = Planner::new(&p).err().map(|e| e.to_string());
            let e2 = Dispatcher::new(
                Arc::new(MemoryStore::default()),
                Arc::new(RecordingMailer::new()),
                &p,
            )
            .err()
            .map(|e| e.to_string());
            assert!(
                e.as_deref().is_some_and(|e| e.contains(field)),
                "{field} {bad:?}: {e:?}"
            );
            assert!(
                e2.as_deref().is_some_and(|e| e.contains(field)),
                "{field} {bad:?}: {e2:?}"
            );
        }
    }
}

#[test]
fn policy_reply_to_cc_and_bcc_reach_the_message() {
    let mut p = policy();
    p.reply_to = vec!["cobranza@co.cl".into(), "finanzas@co.cl".into()];
    p.cc = vec!["copia@co.cl".into()];
    p.bcc = vec!["oculta@co.cl".into()];
    p.company.email = "noreply@co.cl".into();
    let c = client("acme");
    let items = [invoice("F-1", "acme")];
    let plan = one_plan(&p, std::slice::from_ref(&c), &items, &[], due_day());
    let m = Messages::new(&p)
        .unwrap()
        .render(&plan.due()[0], &c, &RenderOptions::default())
        .unwrap();
    let emails = |l: &[Mailbox]| l.iter().map(|m| m.email.clone()).collect::<Vec<_>>();
    assert_eq!(emails(&m.reply_to), ["cobranza@co.cl", "finanzas@co.cl"]);
    assert_eq!(emails(&m.cc), ["copia@co.cl"]);
    assert_eq!(emails(&m.bcc), ["oculta@co.cl"]);
    assert_eq!(m.from.as_ref().map(|f| f.email.as_str()), Some("noreply@co.cl"));
    assert_eq!(emails(&m.to), ["ana@acme.cl"]);
    // A test send goes to the operator alone: no client, no copies.
    let t = m.for_operator("op@co.cl").unwrap();
    assert_eq!(emails(&t.to), ["op@co.cl"]);
    assert!(t.cc.is_empty() && t.bcc.is_empty());
    assert!(t.subject.starts_with("[TEST] "));
}

#[test]
fn unsafe_payment_links_are_refused() {
    let p = policy();
    let c = client("acme");
    let items = [invoice("F-1", "acme")];
    let plan = one_plan(&p, std::slice::from_ref(&c), &items, &[], due_day());
    let messages = Messages::new(&p).unwrap();
    for link in [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "data:text/html,<x>",
        "https://a b",
        "https://a\nb",
        "vbscript:x",
    ] {
        let r = messages.render(
            &plan.due()[0],
            &c,
            &RenderOptions::default().with_payment_link(link),
        );
        assert!(
            matches!(r, Err(MessageError::UnsafeLink { .. })),
            "{link:?}: {r:?}"
        );
    }
}

fn render_amount(amount: Money, locale: &str) -> Message {
    let p = policy();
    let c = client("acme").with_locale(locale);
    let items = [Item::invoice(
        "F-1".parse().unwrap(),
        "acme".parse().unwrap(),
        d(2026, 3, 2),
        amount,
    )
    .due(d(2026, 3, 10))];
    let plan = one_plan(&p, std::slice::from_ref(&c), &items, &[], due_day());
    Messages::new(&p)
        .unwrap()
        .render(&plan.due()[0], &c, &RenderOptions::default())
        .unwrap()
}

#[test]
fn money_is_written_for_the_locale_with_the_currency_decimals() {
    let m = render_amount(money("1234567", "CLP"), "es-CL");
    assert!(m.text.contains("$1.234.567"), "{}", m.text);
    assert!(!m.text.contains("1.234.567,"), "CLP has no decimals: {}", m.text);
    let m = render_amount(money("1234.56", "USD"), "en-US");
    assert!(m.text.contains("$1,234.56"), "{}", m.text);
    let m = render_amount(money("1234.5678", "CLF"), "es-CL");
    assert!(m.text.contains("1.234,5678"), "CLF has 4 decimals: {}", m.text);
    let m = render_amount(money("1234.5678", "CLF"), "en-US");
    assert!(m.text.contains("1,234.5678"), "CLF has 4 decimals: {}", m.text);
    let m = render_amount(money("0.01", "USD"), "en-US");
    assert!(m.text.contains("0.01"), "{}", m.text);
}

#[test]
fn the_largest_amount_is_written_exactly_in_every_locale() {
    let max = Money::parse(&i64::MAX.to_string(), cur("CLP")).unwrap();
    let m = render_amount(max, "es-CL");
    assert!(m.text.contains("$9.223.372.036.854.775.807"), "{}", m.text);
    let m = render_amount(max, "en-US");
    assert!(m.text.contains("9,223,372,036,854,775,807"), "{}", m.text);
    let max4 = Money::parse("922337203685477.5807", cur("CLF")).unwrap();
    let m = render_amount(max4, "es-CL");
    assert!(m.text.contains("922.337.203.685.477,5807"), "{}", m.text);
}

#[test]
fn sums_past_the_largest_amount_refuse_the_client_not_the_tick() {
    // Two invoices of i64::MAX minor units for one client: its balances add up past the
    // largest amount. The README: "past them a typed error naming the field or the client".
    let max = Money::parse(&i64::MAX.to_string(), cur("CLP")).unwrap();
    let big = |id: &str| {
        Item::invoice(id.parse().unwrap(), "rich".parse().unwrap(), d(2026, 3, 2), max).due(d(2026, 3, 10))
    };
    let store = Arc::new(MemoryStore::new(
        vec![client("rich"), client("acme")],
        vec![big("B-1"), big("B-2"), invoice("F-1", "acme")],
    ));
    let mailer = Arc::new(RecordingMailer::new());
    let disp = dispatcher(store.clone(), mailer.clone(), fast());
    let report = rt().block_on(disp.tick(due_day())).unwrap();
    assert_eq!(report.sent().count(), 1, "{report:?}");
    assert_eq!(report.refused.len(), 1, "{report:?}");
    assert_eq!(report.refused[0].client.as_str(), "rich");
    assert!(mailer.sent().iter().all(|m| m.key.to_string().contains("F-1")));
}

#[test]
fn dates_are_written_in_words_for_the_locale() {
    let es = render_amount(money("1000", "CLP"), "es-CL");
    let en = render_amount(money("1000", "CLP"), "en-US");
    assert!(es.text.contains("10 de marzo de 2026"), "{}", es.text);
    assert!(en.text.contains("March 10, 2026"), "{}", en.text);
}

#[test]
fn items_at_the_ends_of_the_calendar_plan_and_render_without_panic() {
    let p = policy();
    let planner = Planner::new(&p).unwrap();
    let messages = Messages::new(&p).unwrap();
    let c = client("acme");
    let max = NaiveDate::MAX;
    let items = [
        Item::invoice(
            "F-1".parse().unwrap(),
            "acme".parse().unwrap(),
            max,
            money("1", "CLP"),
        ),
        Item::invoice(
            "F-2".parse().unwrap(),
            "acme".parse().unwrap(),
            max - chrono::Days::new(3),
            money("1", "CLP"),
        ),
        Item::invoice(
            "F-3".parse().unwrap(),
            "acme".parse().unwrap(),
            NaiveDate::MIN,
            money("1", "CLP"),
        ),
    ];
    for now in [DateTime::<Utc>::MAX_UTC, DateTime::<Utc>::MIN_UTC, due_day()] {
        if let Ok(plan) = planner.plan(std::slice::from_ref(&c), &items, &[], now, Horizon::days(30)) {
            for e in plan.due().iter().chain(plan.upcoming()) {
                let _ = messages.render(e, &c, &RenderOptions::default());
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// 2. Dispatch
// ---------------------------------------------------------------------------------------

fn hooked(clients: Vec<Client>, items: Vec<Item>) -> (Arc<Hooked>, MemoryStore, Arc<Faults>) {
    let inner = MemoryStore::new(clients, items);
    let faults = Arc::new(Faults::default());
    (
        Arc::new(Hooked {
            inner: inner.clone(),
            faults: faults.clone(),
        }),
        inner,
        faults,
    )
}

#[test]
fn a_payment_recorded_between_claim_and_send_is_honoured_and_the_skip_says_why() {
    let (store, inner, faults) = hooked(vec![client("acme")], vec![invoice("F-1", "acme")]);
    *faults.after_claim.lock().unwrap() = Some(Box::new(|s: &MemoryStore| {
        s.update_items(|items| {
            for i in items.iter_mut() {
                *i = i.clone().paid(money("119000", "CLP"), d(2026, 3, 10));
            }
        })
    }));
    let mailer = Arc::new(RecordingMailer::new());
    let disp = dispatcher(store.clone(), mailer.clone(), fast());
    let report = rt().block_on(disp.tick(due_day())).unwrap();
    assert_eq!(mailer.calls(), 0, "sent after the payment: {report:?}");
    assert_eq!(report.sends.len(), 1, "{report:?}");
    match &report.sends[0].outcome {
        SendOutcome::Skipped {
            skip: Skip::NoLongerDue { reason },
        } => {
            assert!(matches!(reason, Some(SuppressReason::Paid)), "{reason:?}")
        }
        other => panic!("{other:?}"),
    }
    let k = report.sends[0].key.clone();
    assert!(
        matches!(inner.deliveries().iter().find(|(kk, _)| *kk == k), Some((_, Delivery::Skipped { reason, .. })) if !reason.is_empty()),
        "{:?}",
        inner.deliveries()
    );
    let log = rt()
        .block_on(inner.read_log(&LogFilter::key(k.to_string())))
        .unwrap();
    assert!(
        log.iter().any(|l| matches!(l.action, Action::Skipped { .. })),
        "skip in the log: {log:?}"
    );
    // And it never goes later either.
    let r2 = rt().block_on(disp.tick(at(2026, 3, 20, 13))).unwrap();
    assert_eq!(mailer.calls(), 0, "{r2:?}");
}

#[test]
fn a_cancel_or_pause_recorded_between_claim_and_send_stops_it_too() {
    for change in 0..2 {
        let (store, _inner, faults) = hooked(vec![client("acme")], vec![invoice("F-1", "acme")]);
        *faults.after_claim.lock().unwrap() = Some(Box::new(move |s: &MemoryStore| {
            if change == 0 {
                s.update_items(|items| {
                    for i in items.iter_mut() {
                        *i = i.clone().with_status(ItemStatus::Cancelled);
                    }
                });
            } else {
                s.update_clients(|cs| {
                    for c in cs.iter_mut() {
                        *c = c.clone().with_pause(Pause::new(PauseKind::Dispute, "disputed"));
                    }
                });
            }
        }));
        let mailer = Arc::new(RecordingMailer::new());
        let disp = dispatcher(store, mailer.clone(), fast());
        let report = rt().block_on(disp.tick(due_day())).unwrap();
        assert_eq!(mailer.calls(), 0, "change {change}: {report:?}");
        assert!(
            matches!(
                &report.sends[0].outcome,
                SendOutcome::Skipped {
                    skip: Skip::NoLongerDue { .. }
                }
            ),
            "{report:?}"
        );
    }
}

#[test]
fn at_most_once_a_send_that_times_out_is_unknown_reported_once_and_never_sent_again() {
    let store = Arc::new(MemoryStore::new(
        vec![client("acme")],
        vec![invoice("F-1", "acme")],
    ));
    let mailer = Arc::new(RecordingMailer::new().with_script(|_, n| {
        if n == 0 {
            Behaviour::AcceptThenHang
        } else {
            Behaviour::Accept
        }
    }));
    let disp = dispatcher(store.clone(), mailer.clone(), fast());
    let r = rt();
    let report = r.block_on(disp.tick(due_day())).unwrap();
    assert_eq!(report.unknown().count(), 1, "{report:?}");
    let k = report.unknown().next().unwrap().key.clone();
    let mut unknown_reports = 1;
    for (i, now) in [
        due_day() + chrono::Duration::minutes(5),
        at(2026, 3, 11, 13),
        at(2026, 3, 20, 13),
    ]
    .into_iter()
    .enumerate()
    {
        let rep = r.block_on(disp.tick(now)).unwrap();
        unknown_reports += rep.unknown().filter(|s| s.key == k).count();
        assert!(rep.sent().all(|s| s.key != k), "tick {i}: {rep:?}");
    }
    assert_eq!(unknown_reports, 1);
    assert_eq!(count_by_key(&mailer.sent()).get(k.as_str()).copied(), Some(1));
    // The plan explains the key as outcome unknown.
    let snap = store.snapshot();
    let plan = Planner::new(&policy())
        .unwrap()
        .plan(
            &snap.clients,
            &snap.items,
            &snap.history,
            at(2026, 3, 11, 13),
            Horizon::days(30),
        )
        .unwrap();
    assert!(plan.due().iter().chain(plan.upcoming()).all(|e| e.key != k));
    assert!(
        plan.suppressed()
            .iter()
            .any(|s| s.key == k && matches!(s.reason, SuppressReason::OutcomeUnknown { .. })),
        "{:?}",
        plan.suppressed()
    );
}

#[test]
fn at_most_once_an_ambiguous_mail_error_is_unknown_not_retried() {
    let store = Arc::new(MemoryStore::new(
        vec![client("acme")],
        vec![invoice("F-1", "acme")],
    ));
    let mailer = Arc::new(Scripted::with(|_| {
        Step::Fail(MailError::Ambiguous("connection dropped after DATA".into()))
    }));
    let disp = dispatcher(store, mailer.clone(), fast());
    let r = rt();
    let rep = r.block_on(disp.tick(due_day())).unwrap();
    assert_eq!(rep.unknown().count(), 1, "{rep:?}");
    let rep2 = r
        .block_on(disp.tick(due_day() + chrono::Duration::hours(3)))
        .unwrap();
    assert_eq!(mailer.calls.load(Ordering::SeqCst), 1, "{rep2:?}");
}

#[test]
fn a_transient_failure_is_retried_after_its_backoff_then_sent_once() {
    let store = Arc::new(MemoryStore::new(
        vec![client("acme")],
        vec![invoice("F-1", "acme")],
    ));
    let mailer = Arc::new(RecordingMailer::new().with_script(|_, n| {
        if n < 2 {
            Behaviour::FailTransient
        } else {
            Behaviour::Accept
        }
    }));
    let disp = dispatcher(store.clone(), mailer.clone(), fast());
    let r = rt();
    let mut now = due_day();
    let mut sent = 0;
    for _ in 0..6 {
        let rep = r.block_on(disp.tick(now)).unwrap();
        sent += rep.sent().count();
        if let Some(s) = rep.retried().next() {
            let SendOutcome::Retrying { not_before, .. } = &s.outcome else {
                unreachable!()
            };
            assert!(*not_before > now);
            // Before the backoff: not tried.
            let calls = mailer.calls();
            let early = r.block_on(disp.tick(now + chrono::Duration::seconds(1))).unwrap();
            assert_eq!(mailer.calls(), calls, "retried before its backoff: {early:?}");
            now = *not_before;
        } else {
            now += chrono::Duration::minutes(30);
        }
    }
    assert_eq!(sent, 1);
    assert_eq!(mailer.sent().len(), 1);
    assert!(
        store
            .snapshot()
            .history
            .iter()
            .filter(|h| h.outcome.is_sent())
            .count()
            == 1
    );
}

#[test]
fn transient_failures_past_max_attempts_are_given_up_and_reported_once() {
    let store = Arc::new(MemoryStore::new(
        vec![client("acme")],
        vec![invoice("F-1", "acme")],
    ));
    let mailer = Arc::new(RecordingMailer::new().always(Behaviour::FailTransient));
    let disp = dispatcher(
        store.clone(),
        mailer.clone(),
        fast().with_retries(2, Duration::from_secs(10)),
    );
    let r = rt();
    let mut failed = 0;
    let mut now = due_day();
    for _ in 0..8 {
        let rep = r.block_on(disp.tick(now)).unwrap();
        failed += rep.failed().count();
        now += chrono::Duration::minutes(10);
    }
    assert_eq!(mailer.calls(), 2);
    assert_eq!(failed, 1);
}

#[test]
fn a_permanent_failure_is_recorded_once_explained_and_released_for_one_more_try() {
    let store = Arc::new(MemoryStore::new(
        vec![client("acme")],
        vec![invoice("F-1", "acme")],
    ));
    let mailer = Arc::new(RecordingMailer::new().with_script(|_, n| {
        if n == 0 {
            Behaviour::FailPermanent
        } else {
            Behaviour::Accept
        }
    }));
    let disp = dispatcher(store.clone(), mailer.clone(), fast());
    let r = rt();
    let rep = r.block_on(disp.tick(due_day())).unwrap();
    assert_eq!(rep.failed().count(), 1, "{rep:?}");
    let k = rep.failed().next().unwrap().key.clone();
    let failed_entries = |s: &MemoryStore| {
        s.snapshot()
            .history
            .iter()
            .filter(|h| h.key == k && matches!(h.outcome, HistoryOutcome::Failed { .. }))
            .count()
    };
    assert_eq!(failed_entries(&store), 1);
    let rep2 = r
        .block_on(disp.tick(due_day() + chrono::Duration::hours(2)))
        .unwrap();
    assert!(
        rep2.sends
            .iter()
            .all(|s| s.key != k || !matches!(s.outcome, SendOutcome::Failed { .. })),
        "{rep2:?}"
    );
    assert_eq!(mailer.calls(), 1);
    assert_eq!(failed_entries(&store), 1);
    let snap = store.snapshot();
    let plan = Planner::new(&policy())
        .unwrap()
        .plan(
            &snap.clients,
            &snap.items,
            &snap.history,
            due_day() + chrono::Duration::hours(2),
            Horizon::days(3),
        )
        .unwrap();
    assert!(
        plan.suppressed()
            .iter()
            .any(|s| s.key == k && matches!(s.reason, SuppressReason::DeliveryFailed { .. }))
    );
    assert!(plan.due().iter().chain(plan.upcoming()).all(|e| e.key != k));
    // Released: one more try, which goes.
    assert!(r.block_on(disp.release(&k)).unwrap());
    let rep3 = r
        .block_on(disp.tick(due_day() + chrono::Duration::hours(3)))
        .unwrap();
    assert_eq!(rep3.sent().filter(|s| s.key == k).count(), 1, "{rep3:?}");
    let log = r
        .block_on(store.read_log(&LogFilter::key(k.to_string())))
        .unwrap();
    assert!(log.iter().any(|l| l.action == Action::Released), "{log:?}");
}

#[test]
fn at_least_once_a_timed_out_send_goes_again_only_after_its_lease() {
    let store = Arc::new(MemoryStore::new(
        vec![client("acme")],
        vec![invoice("F-1", "acme")],
    ));
    let mailer = Arc::new(RecordingMailer::new().with_script(|_, n| {
        if n == 0 {
            Behaviour::AcceptThenHang
        } else {
            Behaviour::Accept
        }
    }));
    let opts = fast().with_guarantee(Guarantee::AtLeastOnce { lease_secs: 3600 });
    let disp = dispatcher(store.clone(), mailer.clone(), opts);
    let r = rt();
    let rep = r.block_on(disp.tick(due_day())).unwrap();
    assert_eq!(rep.sent().count(), 0, "{rep:?}");
    let k = rep.sends[0].key.clone();
    // Within the lease: nothing again.
    for mins in [1, 10, 59] {
        let rep = r
            .block_on(disp.tick(due_day() + chrono::Duration::minutes(mins)))
            .unwrap();
        assert_eq!(mailer.calls(), 1, "{mins} min: {rep:?}");
    }
    // After it: sent again, once.
    let rep = r
        .block_on(disp.tick(due_day() + chrono::Duration::minutes(61)))
        .unwrap();
    assert_eq!(rep.sent().filter(|s| s.key == k).count(), 1, "{rep:?}");
    let rep = r
        .block_on(disp.tick(due_day() + chrono::Duration::minutes(200)))
        .unwrap();
    assert_eq!(rep.sent().count(), 0, "{rep:?}");
    assert_eq!(mailer.calls(), 2);
}

#[test]
fn at_least_once_leases_shorter_than_three_send_timeouts_are_refused() {
    let opts = DispatchOptions::default()
        .with_send_timeout(Duration::from_secs(30))
        .with_guarantee(Guarantee::AtLeastOnce { lease_secs: 89 });
    assert!(opts.validate().is_err());
    let r = Dispatcher::new(
        Arc::new(MemoryStore::default()),
        Arc::new(RecordingMailer::new()),
        &policy(),
    )
    .unwrap()
    .with_options(opts);
    assert!(matches!(r, Err(DispatchError::Input(_))));
    let ok = DispatchOptions::default()
        .with_send_timeout(Duration::from_secs(30))
        .with_guarantee(Guarantee::AtLeastOnce { lease_secs: 90 });
    assert!(ok.validate().is_ok());
}

/// Runs ticks through a day with store faults injected at `method` for the first `n` calls of
/// it; returns the mailer's messages and every report.
fn tick_through_faults(
    method: &'static str,
    n: usize,
    guarantee: Guarantee,
) -> (Vec<Message>, Vec<TickReport>) {
    let (store, _inner, faults) = hooked(
        vec![client("acme"), client("beta")],
        vec![invoice("F-1", "acme"), invoice("G-1", "beta")],
    );
    faults.fail.lock().unwrap().insert(method, n);
    let mailer = Arc::new(RecordingMailer::new());
    let disp = dispatcher(store, mailer.clone(), fast().with_guarantee(guarantee));
    let r = rt();
    let mut reports = Vec::new();
    let mut now = due_day();
    for _ in 0..6 {
        if let Ok(rep) = r.block_on(disp.tick(now)) {
            reports.push(rep);
        }
        now += chrono::Duration::hours(2);
    }
    (mailer.sent(), reports)
}

#[test]
fn a_store_failing_at_each_step_never_sends_twice_and_never_loses_silently() {
    let methods = [
        "load",
        "load_client",
        "claim",
        "delivery",
        "finish",
        "finish_claimed",
        "abandoned_claims",
        "log",
        "append_history",
    ];
    for guarantee in [Guarantee::AtMostOnce, Guarantee::AtLeastOnce { lease_secs: 3600 }] {
        for method in methods {
            for n in [1, 2, 5] {
                let (sent, reports) = tick_through_faults(method, n, guarantee);
                let counts = count_by_key(&sent);
                for k in ["overdue/F-1/1", "overdue/G-1/1"] {
                    let times = counts.get(k).copied().unwrap_or(0);
                    let unknown = reports
                        .iter()
                        .flat_map(|r| r.unknown())
                        .filter(|s| s.key.as_str() == k)
                        .count();
                    let ctx = format!("{guarantee:?} {method} x{n} {k}: sent {times}, unknown {unknown}");
                    match guarantee {
                        // Never twice; and a key not sent is reported unknown (or sent).
                        Guarantee::AtMostOnce => {
                            assert!(times <= 1, "{ctx}");
                            assert!(times == 1 || unknown == 1, "lost silently: {ctx}\n{reports:#?}");
                            assert!(unknown <= 1, "reported more than once: {ctx}");
                        }
                        // Never lost: sent at least once (twice only after its lease).
                        _ => assert!(times >= 1, "lost: {ctx}\n{reports:#?}"),
                    }
                }
            }
        }
    }
}

#[test]
fn a_dispatcher_dropped_mid_send_leaves_a_claim_the_next_one_reports_unknown_once() {
    for behaviour in [Behaviour::Hang, Behaviour::AcceptThenHang] {
        let store = Arc::new(MemoryStore::new(
            vec![client("acme")],
            vec![invoice("F-1", "acme")],
        ));
        let stalled = Arc::new(RecordingMailer::new().always(behaviour));
        let r = rt();
        {
            // A long timeout: the tick is still in the mailer when the host dies.
            let opts = DispatchOptions::default().with_send_timeout(Duration::from_secs(30));
            let first = dispatcher(store.clone(), stalled.clone(), opts);
            let dropped = r.block_on(async {
                tokio::time::timeout(Duration::from_millis(150), first.tick(due_day())).await
            });
            assert!(dropped.is_err(), "the tick should still be stalled");
        }
        assert!(
            store
                .deliveries()
                .iter()
                .any(|(_, d)| matches!(d, Delivery::Claimed { .. })),
            "{:?}",
            store.deliveries()
        );
        let mailer = Arc::new(RecordingMailer::new());
        let second = dispatcher(
            store.clone(),
            mailer.clone(),
            DispatchOptions::default().with_send_timeout(Duration::from_secs(30)),
        );
        let mut unknown = 0;
        for hours in [0, 1, 2, 30] {
            let rep = r
                .block_on(
                    second.tick(due_day() + chrono::Duration::hours(hours) + chrono::Duration::seconds(1)),
                )
                .unwrap();
            unknown += rep.unknown().count();
        }
        assert_eq!(
            mailer.calls(),
            0,
            "{behaviour:?}: sent again after a crash under at-most-once"
        );
        assert_eq!(unknown, 1, "{behaviour:?}: {:?}", store.deliveries());
        let snap = store.snapshot();
        assert!(
            snap.history
                .iter()
                .any(|h| h.outcome == HistoryOutcome::OutcomeUnknown),
            "{:?}",
            snap.history
        );
    }
}

#[test]
fn at_least_once_a_dispatcher_dropped_mid_send_is_sent_again_after_its_lease_not_before() {
    let store = Arc::new(MemoryStore::new(
        vec![client("acme")],
        vec![invoice("F-1", "acme")],
    ));
    let stalled = Arc::new(RecordingMailer::new().always(Behaviour::Hang));
    let opts = DispatchOptions::default()
        .with_send_timeout(Duration::from_secs(30))
        .with_guarantee(Guarantee::AtLeastOnce { lease_secs: 7200 });
    let r = rt();
    {
        let first = dispatcher(store.clone(), stalled, opts.clone());
        let _ = r.block_on(async {
            tokio::time::timeout(Duration::from_millis(150), first.tick(due_day())).await
        });
    }
    let mailer = Arc::new(RecordingMailer::new());
    let second = dispatcher(store.clone(), mailer.clone(), opts);
    r.block_on(second.tick(due_day() + chrono::Duration::minutes(30)))
        .unwrap();
    assert_eq!(mailer.calls(), 0, "taken again within the lease");
    let rep = r
        .block_on(second.tick(due_day() + chrono::Duration::minutes(121)))
        .unwrap();
    assert_eq!(rep.sent().count(), 1, "{rep:?}");
    r.block_on(second.tick(due_day() + chrono::Duration::hours(5)))
        .unwrap();
    assert_eq!(mailer.calls(), 1);
}

#[test]
fn at_least_once_a_crashed_claim_whose_invoice_was_paid_is_unknown_not_sent() {
    let store = Arc::new(MemoryStore::new(
        vec![client("acme")],
        vec![invoice("F-1", "acme")],
    ));
    let opts = DispatchOptions::default()
        .with_send_timeout(Duration::from_secs(30))
        .with_guarantee(Guarantee::AtLeastOnce { lease_secs: 7200 });
    let r = rt();
    {
        let first = dispatcher(
            store.clone(),
            Arc::new(RecordingMailer::new().always(Behaviour::AcceptThenHang)),
            opts.clone(),
        );
        let _ = r.block_on(async {
            tokio::time::timeout(Duration::from_millis(150), first.tick(due_day())).await
        });
    }
    store.update_items(|items| {
        for i in items.iter_mut() {
            *i = i.clone().paid(money("119000", "CLP"), d(2026, 3, 10));
        }
    });
    let mailer = Arc::new(RecordingMailer::new());
    let second = dispatcher(store.clone(), mailer.clone(), opts);
    let mut unknown = 0;
    for h in [3, 4, 30] {
        unknown += r
            .block_on(second.tick(due_day() + chrono::Duration::hours(h)))
            .unwrap()
            .unknown()
            .count();
    }
    assert_eq!(mailer.calls(), 0);
    assert_eq!(unknown, 1, "{:?}", store.deliveries());
}

#[test]
fn two_dispatchers_ticking_one_store_at_once_on_threads_never_send_a_key_twice() {
    let n = 40;
    let clients: Vec<Client> = (0..n).map(|i| client(&format!("c{i}"))).collect();
    let items: Vec<Item> = (0..n)
        .map(|i| invoice(&format!("F-{i}"), &format!("c{i}")))
        .collect();
    for round in 0..3 {
        let store = Arc::new(MemoryStore::new(clients.clone(), items.clone()));
        let mailer = Arc::new(Scripted::with(|n| {
            if n % 3 == 0 {
                Step::AcceptAfter(Duration::from_millis(2))
            } else {
                Step::Accept
            }
        }));
        let go = Arc::new(AtomicBool::new(false));
        let handles: Vec<_> = (0..2)
            .map(|w| {
                let store = store.clone();
                let mailer = mailer.clone();
                let go = go.clone();
                std::thread::spawn(move || {
                    // (A send timeout no loaded machine reaches: one that timed out is never
                    // sent again, which is not what this counts.)
                    let opts = fast()
                        .with_send_timeout(Duration::from_secs(60))
                        .with_concurrency(1 + w * 7);
                    let disp = dispatcher(store, mailer, opts);
                    let r = rt();
                    while !go.load(Ordering::SeqCst) {
                        std::hint::spin_loop();
                    }
                    let mut sent = 0;
                    for t in 0..3 {
                        sent += r
                            .block_on(disp.tick(due_day() + chrono::Duration::seconds(t)))
                            .unwrap()
                            .sent()
                            .count();
                    }
                    sent
                })
            })
            .collect();
        go.store(true, Ordering::SeqCst);
        let reported: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
        let counts = count_by_key(&mailer.accepted());
        assert_eq!(counts.len(), n, "round {round}: {counts:?}");
        assert!(
            counts.values().all(|&c| c == 1),
            "round {round}: sent twice: {counts:?}"
        );
        assert_eq!(reported, n, "round {round}");
        let sent_history = store
            .snapshot()
            .history
            .iter()
            .filter(|h| h.outcome.is_sent())
            .count();
        assert_eq!(sent_history, n);
    }
}

#[test]
fn two_dispatchers_on_shards_together_send_what_one_sends() {
    let n = 30;
    let clients: Vec<Client> = (0..n).map(|i| client(&format!("s{i}"))).collect();
    let items: Vec<Item> = (0..n)
        .map(|i| invoice(&format!("F-{i}"), &format!("s{i}")))
        .collect();
    let store = Arc::new(MemoryStore::new(clients, items));
    let mailer = Arc::new(RecordingMailer::new());
    let r = rt();
    for k in 0..2 {
        let disp = dispatcher(
            store.clone(),
            mailer.clone(),
            fast().with_shard(Shard::new(k, 2).unwrap()),
        );
        r.block_on(disp.tick(due_day())).unwrap();
    }
    let counts = count_by_key(&mailer.sent());
    assert_eq!(counts.len(), n);
    assert!(counts.values().all(|&c| c == 1));
}

#[test]
fn a_per_tick_limit_sends_the_rest_at_the_next_tick_each_once() {
    let n = 7;
    let clients: Vec<Client> = (0..n).map(|i| client(&format!("c{i}"))).collect();
    let items: Vec<Item> = (0..n)
        .map(|i| invoice(&format!("F-{i}"), &format!("c{i}")))
        .collect();
    let store = Arc::new(MemoryStore::new(clients, items));
    let mailer = Arc::new(RecordingMailer::new());
    let disp = dispatcher(store, mailer.clone(), fast().with_per_tick_limit(3));
    let r = rt();
    let first = r.block_on(disp.tick(due_day())).unwrap();
    assert_eq!(first.sent().count(), 3);
    assert_eq!(
        first
            .skipped()
            .filter(|s| matches!(
                s.outcome,
                SendOutcome::Skipped {
                    skip: Skip::OverLimit
                }
            ))
            .count(),
        4
    );
    for m in 1..4 {
        r.block_on(disp.tick(due_day() + chrono::Duration::minutes(m)))
            .unwrap();
    }
    let counts = count_by_key(&mailer.sent());
    assert_eq!(counts.len(), n);
    assert!(counts.values().all(|&c| c == 1));
}

#[test]
fn a_manual_resend_by_key_sends_again_as_a_manual_send_and_refuses_a_paid_item() {
    let store = Arc::new(MemoryStore::new(
        vec![client("acme")],
        vec![invoice("F-1", "acme")],
    ));
    let mailer = Arc::new(RecordingMailer::new());
    let clock = Arc::new(ManualClock::new(due_day() + chrono::Duration::hours(1)));
    let disp = dispatcher(store.clone(), mailer.clone(), fast()).with_clock(clock.clone());
    let r = rt();
    let rep = r.block_on(disp.tick(due_day())).unwrap();
    let k = rep.sent().next().unwrap().key.clone();
    let id = r.block_on(disp.resend(&k)).unwrap();
    assert!(!id.is_empty());
    assert_eq!(mailer.sent().len(), 2);
    assert!(
        mailer.sent()[1].key.as_str().starts_with("manual/"),
        "{}",
        mailer.sent()[1].key
    );
    store.update_items(|items| {
        for i in items.iter_mut() {
            *i = i.clone().paid(money("119000", "CLP"), d(2026, 3, 10));
        }
    });
    clock.advance(chrono::Duration::minutes(1));
    let e = r.block_on(disp.resend(&k));
    assert!(matches!(e, Err(DispatchError::NothingToResend { .. })), "{e:?}");
    assert_eq!(mailer.sent().len(), 2);
}

// ---------------------------------------------------------------------------------------
// 3. Manual reminder records (seed 000, 001; DESIGN 9)
// ---------------------------------------------------------------------------------------

fn reminders_setup() -> (
    Arc<MemoryStore>,
    Arc<RecordingMailer>,
    Arc<ManualClock>,
    Dispatcher,
) {
    let store = Arc::new(MemoryStore::new(
        vec![client("acme"), client("beta")],
        vec![
            invoice("F-1", "acme"),
            invoice("F-2", "acme"),
            invoice("G-1", "beta"),
        ],
    ));
    let mailer = Arc::new(RecordingMailer::new());
    let clock = Arc::new(ManualClock::new(at(2026, 3, 12, 15)));
    let disp = dispatcher(store.clone(), mailer.clone(), fast()).with_clock(clock.clone());
    (store, mailer, clock, disp)
}

fn new_reminder(client: &str, invoice: &str, amount: &str, msg: &str) -> NewReminder {
    NewReminder {
        client: client.parse().unwrap(),
        invoice: invoice.parse().unwrap(),
        due_on: d(2026, 3, 10),
        amount: money(amount, "CLP"),
        message: msg.into(),
    }
}

#[test]
fn manual_reminders_are_created_listed_by_filter_and_every_change_is_in_their_history() {
    let (store, mailer, clock, disp) = reminders_setup();
    let r = rt();
    let a = r
        .block_on(disp.create_reminder(new_reminder("acme", "F-1", "119000", "Por favor pague F-1")))
        .unwrap();
    let b = r
        .block_on(disp.create_reminder(new_reminder("acme", "F-2", "50000", "Por favor pague F-2")))
        .unwrap();
    let c = r
        .block_on(disp.create_reminder(new_reminder("beta", "G-1", "7000", "Pague G-1")))
        .unwrap();
    assert!(a.id != b.id && b.id != c.id && a.id != c.id);
    assert_eq!(a.status, ReminderStatus::Active);
    let ids = |f| {
        r.block_on(disp.list_reminders(f))
            .unwrap()
            .into_iter()
            .map(|x| x.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(ReminderFilter::All).len(), 3);
    assert_eq!(ids(ReminderFilter::Active).len(), 3);
    assert!(ids(ReminderFilter::Inactive).is_empty());

    clock.advance(chrono::Duration::minutes(1));
    r.block_on(
        disp.edit_reminder(
            &a.id,
            ReminderEdit::default()
                .message("Nuevo texto")
                .due_on(d(2026, 3, 11)),
        ),
    )
    .unwrap();
    clock.advance(chrono::Duration::minutes(1));
    r.block_on(disp.send_reminder(&a.id)).unwrap();
    clock.advance(chrono::Duration::minutes(1));
    r.block_on(disp.set_reminder_status(&b.id, ReminderStatus::Paid))
        .unwrap();
    r.block_on(disp.set_reminder_status(&c.id, ReminderStatus::Cancelled))
        .unwrap();
    assert_eq!(ids(ReminderFilter::Active), vec![a.id.clone()]);
    let mut inactive = ids(ReminderFilter::Inactive);
    inactive.sort();
    let mut expect = vec![b.id.clone(), c.id.clone()];
    expect.sort();
    assert_eq!(inactive, expect);
    assert_eq!(ids(ReminderFilter::All).len(), 3);

    // The sent message carries the edited text, to the client's contact.
    let sent = mailer.sent();
    assert_eq!(sent.len(), 1);
    assert!(sent[0].text.contains("Nuevo texto"));
    assert_eq!(sent[0].to[0].email, "ana@acme.cl");

    // History of each: created, edited (each field), sent; status changes.
    let log_a = r.block_on(store.read_log(&LogFilter::key(a.id.clone()))).unwrap();
    let kinds: Vec<ActionKind> = log_a.iter().map(|l| l.action.kind()).collect();
    assert_eq!(kinds.first(), Some(&ActionKind::Created), "{kinds:?}");
    assert_eq!(
        kinds.iter().filter(|k| **k == ActionKind::Edited).count(),
        2,
        "{log_a:?}"
    );
    assert!(
        kinds.contains(&ActionKind::Sent),
        "the send is in the reminder's history: {log_a:?}"
    );
    let log_b = r.block_on(store.read_log(&LogFilter::key(b.id.clone()))).unwrap();
    assert!(
        log_b
            .iter()
            .any(|l| matches!(&l.action, Action::StatusChanged { to, .. } if to == "paid")),
        "{log_b:?}"
    );

    // Archive the finished ones; they leave All and Inactive.
    let n = r.block_on(disp.archive_finished_reminders()).unwrap();
    assert_eq!(n, 2);
    assert_eq!(ids(ReminderFilter::All), vec![a.id.clone()]);
    assert!(ids(ReminderFilter::Inactive).is_empty());
    assert_eq!(ids(ReminderFilter::Archived).len(), 2);
    assert_eq!(
        r.block_on(disp.archive_finished_reminders()).unwrap(),
        0,
        "archived once"
    );
    let log_c = r.block_on(store.read_log(&LogFilter::key(c.id.clone()))).unwrap();
    assert!(log_c.iter().any(|l| l.action == Action::Archived));

    // Explicit delete; its history stays.
    r.block_on(disp.delete_reminder(&a.id)).unwrap();
    assert!(ids(ReminderFilter::All).is_empty());
    let log_a = r.block_on(store.read_log(&LogFilter::key(a.id.clone()))).unwrap();
    assert_eq!(log_a.last().map(|l| l.action.kind()), Some(ActionKind::Deleted));
    assert!(
        r.block_on(disp.delete_reminder(&a.id)).is_err(),
        "deleting twice is an error"
    );
}

#[test]
fn manual_reminders_refuse_bad_input_naming_the_field() {
    let (_store, _mailer, _clock, disp) = reminders_setup();
    let r = rt();
    let field_of = |e: DispatchError| match e {
        DispatchError::Input(ValidationError::InvalidReminder { field, .. }) => field,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        field_of(
            r.block_on(disp.create_reminder(new_reminder("nobody", "F-1", "1", "x")))
                .unwrap_err()
        ),
        "client"
    );
    assert_eq!(
        field_of(
            r.block_on(disp.create_reminder(new_reminder("beta", "F-1", "1", "x")))
                .unwrap_err()
        ),
        "invoice"
    );
    assert_eq!(
        field_of(
            r.block_on(disp.create_reminder(new_reminder("acme", "F-1", "0", "x")))
                .unwrap_err()
        ),
        "amount"
    );
    assert_eq!(
        field_of(
            r.block_on(disp.create_reminder(new_reminder("acme", "F-1", "1", " \n ")))
                .unwrap_err()
        ),
        "message"
    );
    let a = r
        .block_on(disp.create_reminder(new_reminder("acme", "F-1", "1", "ok")))
        .unwrap();
    assert_eq!(
        field_of(
            r.block_on(disp.edit_reminder(&a.id, ReminderEdit::default().message("")))
                .unwrap_err()
        ),
        "message"
    );
    // The failed edit changed nothing.
    let list = r.block_on(disp.list_reminders(ReminderFilter::All)).unwrap();
    assert_eq!(list[0].message, "ok");
}

#[test]
fn manual_reminder_ids_stay_unique_after_a_delete() {
    let (_store, _mailer, _clock, disp) = reminders_setup();
    let r = rt();
    let a = r
        .block_on(disp.create_reminder(new_reminder("acme", "F-1", "119000", "first")))
        .unwrap();
    let b = r
        .block_on(disp.create_reminder(new_reminder("acme", "F-2", "50000", "second")))
        .unwrap();
    r.block_on(disp.delete_reminder(&a.id)).unwrap();
    let c = r
        .block_on(disp.create_reminder(new_reminder("beta", "G-1", "7000", "third")))
        .unwrap();
    assert_ne!(c.id, b.id, "the new reminder took a live reminder's id");
    let all = r.block_on(disp.list_reminders(ReminderFilter::All)).unwrap();
    assert_eq!(all.len(), 2, "{all:?}");
    assert!(
        all.iter().any(|x| x.message == "second"),
        "reminder {} was overwritten: {all:?}",
        b.id
    );
}

#[test]
fn a_paid_or_cancelled_manual_reminder_is_not_sent() {
    let (_store, mailer, _clock, disp) = reminders_setup();
    let r = rt();
    let a = r
        .block_on(disp.create_reminder(new_reminder("acme", "F-1", "119000", "pague")))
        .unwrap();
    let b = r
        .block_on(disp.create_reminder(new_reminder("acme", "F-2", "5000", "pague")))
        .unwrap();
    r.block_on(disp.set_reminder_status(&a.id, ReminderStatus::Paid))
        .unwrap();
    r.block_on(disp.set_reminder_status(&b.id, ReminderStatus::Cancelled))
        .unwrap();
    let ra = r.block_on(disp.send_reminder(&a.id));
    let rb = r.block_on(disp.send_reminder(&b.id));
    assert!(ra.is_err(), "paid reminder sent: {ra:?}");
    assert!(rb.is_err(), "cancelled reminder sent: {rb:?}");
    assert_eq!(mailer.calls(), 0);
}

#[test]
fn a_manual_send_spaces_the_next_automatic_one_without_using_up_its_count() {
    // Rule: on the due date (Tue 2026-03-10), then every 7 days, 3 in all.
    let (store, mailer, clock, disp) = reminders_setup();
    let r = rt();
    let rep = r.block_on(disp.tick(due_day())).unwrap();
    let first: Vec<String> = rep.sent().map(|s| s.key.to_string()).collect();
    assert!(first.contains(&"overdue/F-1/1".to_string()), "{first:?}");
    // A manual send on Sunday the 15th, two days before the second occurrence (the 17th).
    let a = r
        .block_on(disp.create_reminder(new_reminder("acme", "F-1", "119000", "pague")))
        .unwrap();
    clock.set(at(2026, 3, 15, 12));
    r.block_on(disp.send_reminder(&a.id)).unwrap();
    let history = store.snapshot().history;
    assert!(
        history
            .iter()
            .any(|h| h.rule.is_none() && h.items.iter().any(|i| i.item.as_str() == "F-1")),
        "{history:?}"
    );
    // The 17th: the repeat is spaced from the manual send, so F-1 does not go.
    let rep = r.block_on(disp.tick(at(2026, 3, 17, 13))).unwrap();
    assert!(
        rep.sent().all(|s| !s.key.as_str().contains("F-1")),
        "went 2 days after a manual send: {rep:?}"
    );
    // Then all three automatic reminders still go: the manual one used none of the count.
    let mut now = at(2026, 3, 18, 13);
    while now < at(2026, 5, 1, 13) {
        r.block_on(disp.tick(now)).unwrap();
        now += chrono::Duration::days(1);
    }
    let f1: Vec<String> = mailer
        .sent()
        .iter()
        .map(|m| m.key.to_string())
        .filter(|k| k.starts_with("overdue/F-1/"))
        .collect();
    assert_eq!(f1, ["overdue/F-1/1", "overdue/F-1/2", "overdue/F-1/3"], "{f1:?}");
    // The second went at least 7 days after the manual send (the 22nd or later).
    let second_at = store
        .snapshot()
        .history
        .iter()
        .find(|h| h.key.as_str() == "overdue/F-1/2")
        .map(|h| h.sent_at)
        .unwrap();
    assert!(second_at >= at(2026, 3, 22, 0), "{second_at}");
}

#[test]
fn a_manual_send_is_written_in_the_client_language() {
    let (_store, mailer, _clock, disp) = reminders_setup();
    let r = rt();
    let a = r
        .block_on(disp.create_reminder(new_reminder("acme", "F-1", "1234567", "pague")))
        .unwrap();
    r.block_on(disp.send_reminder(&a.id)).unwrap();
    let m = &mailer.sent()[0];
    assert!(m.subject.contains("F-1"));
    m.check_headers().unwrap();
    assert!(m.text.contains("pague"));
}

#[test]
fn a_manual_send_to_a_client_without_contacts_or_with_a_bad_address_is_refused() {
    let (store, mailer, _clock, disp) = reminders_setup();
    let r = rt();
    let a = r
        .block_on(disp.create_reminder(new_reminder("acme", "F-1", "1", "x")))
        .unwrap();
    store.update_clients(|cs| {
        for c in cs.iter_mut() {
            c.contacts.clear();
        }
    });
    assert!(r.block_on(disp.send_reminder(&a.id)).is_err());
    store.update_clients(|cs| {
        for c in cs.iter_mut() {
            c.contacts = vec![Contact::new("Ana\r\nBcc: evil@x.com", "ana@acme.cl")];
        }
    });
    assert!(r.block_on(disp.send_reminder(&a.id)).is_err());
    store.update_clients(|cs| {
        for c in cs.iter_mut() {
            c.contacts = vec![Contact::new("Ana\u{202e}", "ana@acme.cl")];
        }
    });
    assert!(
        r.block_on(disp.send_reminder(&a.id)).is_err(),
        "bidi override in a header"
    );
    assert_eq!(mailer.calls(), 0);
}

// ---------------------------------------------------------------------------------------
// Grouped notices (DESIGN 15) and more dispatch edges
// ---------------------------------------------------------------------------------------

fn grouped_policy() -> Policy {
    Policy::new(TimeZone::UTC).with_rule(Rule::new("overdue".parse().unwrap(), Anchor::Due, 0).grouped())
}

fn grouped_store(clients: usize) -> Arc<MemoryStore> {
    let cs: Vec<Client> = (0..clients).map(|i| client(&format!("g{i}"))).collect();
    let items: Vec<Item> = (0..clients)
        .flat_map(|i| (0..3).map(move |j| invoice(&format!("F-{i}-{j}"), &format!("g{i}"))))
        .collect();
    Arc::new(MemoryStore::new(cs, items))
}

#[test]
fn grouped_notices_from_two_dispatchers_at_once_cover_each_item_occurrence_once() {
    let n = 12;
    for round in 0..3 {
        let store = grouped_store(n);
        let mailer = Arc::new(Scripted::with(|n| {
            if n % 2 == 0 {
                Step::AcceptAfter(Duration::from_millis(2))
            } else {
                Step::Accept
            }
        }));
        let go = Arc::new(AtomicBool::new(false));
        let handles: Vec<_> = (0..2)
            .map(|w| {
                let (store, mailer, go) = (store.clone(), mailer.clone(), go.clone());
                std::thread::spawn(move || {
                    // (A send timeout no loaded machine reaches: a send that timed out has an
                    // unknown outcome and is never sent again, which is not what this counts.)
                    let disp = Dispatcher::new(store, mailer, &grouped_policy())
                        .unwrap()
                        .with_options(
                            fast()
                                .with_send_timeout(Duration::from_secs(60))
                                .with_concurrency(1 + 3 * w),
                        )
                        .unwrap();
                    let r = rt();
                    while !go.load(Ordering::SeqCst) {
                        std::hint::spin_loop();
                    }
                    for t in 0..3 {
                        r.block_on(disp.tick(due_day() + chrono::Duration::seconds(t)))
                            .unwrap();
                    }
                })
            })
            .collect();
        go.store(true, Ordering::SeqCst);
        for h in handles {
            h.join().unwrap();
        }
        let sent = mailer.accepted();
        assert_eq!(
            sent.len(),
            n,
            "round {round}: one notice a client: {:?}",
            count_by_key(&sent)
        );
        // Every item occurrence is in exactly one sent history entry.
        let mut covered: BTreeMap<(String, u32), usize> = BTreeMap::new();
        for h in store.snapshot().history.iter().filter(|h| h.outcome.is_sent()) {
            for i in &h.items {
                *covered.entry((i.item.to_string(), i.occurrence)).or_insert(0) += 1;
            }
        }
        assert_eq!(covered.len(), 3 * n, "round {round}: {covered:?}");
        assert!(covered.values().all(|&c| c == 1), "round {round}: {covered:?}");
    }
}

#[test]
fn a_grouped_notice_left_by_a_crash_is_reported_unknown_once_as_one_message() {
    let store = grouped_store(1);
    let r = rt();
    {
        let first = Dispatcher::new(
            store.clone(),
            Arc::new(RecordingMailer::new().always(Behaviour::AcceptThenHang)),
            &grouped_policy(),
        )
        .unwrap();
        let _ = r.block_on(async {
            tokio::time::timeout(Duration::from_millis(150), first.tick(due_day())).await
        });
    }
    let mailer = Arc::new(RecordingMailer::new());
    let second = Dispatcher::new(store.clone(), mailer.clone(), &grouped_policy()).unwrap();
    let mut unknown = Vec::new();
    for h in [1, 2, 26] {
        let rep = r
            .block_on(second.tick(due_day() + chrono::Duration::hours(h)))
            .unwrap();
        unknown.extend(rep.unknown().map(|s| s.key.to_string()));
    }
    assert_eq!(
        mailer.calls(),
        0,
        "a grouped notice that may have gone was sent again"
    );
    assert_eq!(
        unknown.len(),
        1,
        "one report for the notice and its items: {unknown:?}"
    );
}

#[test]
fn releasing_a_key_that_was_sent_does_not_send_it_again() {
    let store = Arc::new(MemoryStore::new(
        vec![client("acme")],
        vec![invoice("F-1", "acme")],
    ));
    let mailer = Arc::new(RecordingMailer::new());
    let disp = dispatcher(store, mailer.clone(), fast());
    let r = rt();
    let rep = r.block_on(disp.tick(due_day())).unwrap();
    let k = rep.sent().next().unwrap().key.clone();
    let released = r.block_on(disp.release(&k)).unwrap();
    assert!(!released, "a sent key is not released");
    r.block_on(disp.tick(due_day() + chrono::Duration::hours(1)))
        .unwrap();
    assert_eq!(mailer.calls(), 1);
    // A key nobody knows: nothing to release.
    assert!(!r.block_on(disp.release(&"overdue/NOPE/1".into())).unwrap());
}

#[test]
fn a_hostile_contact_in_the_store_fails_its_client_only_never_reaching_the_mailer() {
    // The store holds what the host wrote: a contact name with a CRLF (the planner refuses the
    // client), next to a clean client whose reminder goes.
    let bad = Client::new("evil".parse().unwrap(), "Evil")
        .with_contact(Contact::new("Eve\r\nBcc: all@x.com", "eve@evil.cl"));
    let store = Arc::new(MemoryStore::new(
        vec![bad, client("acme")],
        vec![invoice("E-1", "evil"), invoice("F-1", "acme")],
    ));
    let mailer = Arc::new(RecordingMailer::new());
    let disp = dispatcher(store, mailer.clone(), fast());
    let rep = rt().block_on(disp.tick(due_day())).unwrap();
    assert_eq!(rep.sent().count(), 1, "{rep:?}");
    assert!(rep.refused.iter().any(|c| c.client.as_str() == "evil"), "{rep:?}");
    for m in mailer.sent() {
        m.check_headers().unwrap();
    }
}

#[test]
fn a_manual_send_writes_money_and_dates_for_the_client_locale() {
    let (_store, mailer, _clock, disp) = reminders_setup();
    let r = rt();
    let a = r
        .block_on(disp.create_reminder(new_reminder("acme", "F-1", "1234567", "pague")))
        .unwrap();
    r.block_on(disp.send_reminder(&a.id)).unwrap();
    let m = &mailer.sent()[0];
    assert!(m.text.contains("$1.234.567"), "{}", m.text);
    assert!(m.text.contains("10 de marzo de 2026"), "{}", m.text);
}

#[test]
fn hostile_ids_never_reach_a_header_and_never_panic() {
    for bad in ['\u{0}', '\u{202e}', '\u{2028}', '\u{85}', '\u{7f}'] {
        let item_id = format!("F{bad}1");
        let client_id = format!("c{bad}x");
        let Ok(iid) = item_id.parse::<ItemId>() else {
            continue;
        };
        let mut cases = vec![(
            client("acme"),
            Item::invoice(iid, "acme".parse().unwrap(), d(2026, 3, 2), money("1000", "CLP"))
                .due(d(2026, 3, 10)),
        )];
        if let Ok(cid) = client_id.parse::<ClientId>() {
            let c = Client::new(cid.clone(), "C").with_contact(Contact::new("Ana", "ana@c.cl"));
            cases.push((
                c,
                Item::invoice("F-9".parse().unwrap(), cid, d(2026, 3, 2), money("1000", "CLP"))
                    .due(d(2026, 3, 10)),
            ));
        }
        for (c, item) in cases {
            let store = Arc::new(MemoryStore::new(
                vec![c, client("ok")],
                vec![item, invoice("F-2", "ok")],
            ));
            let mailer = Arc::new(RecordingMailer::new());
            let disp = dispatcher(store, mailer.clone(), fast());
            let rep = rt().block_on(disp.tick(due_day())).unwrap();
            assert!(rep.sent().any(|s| s.client.as_str() == "ok"), "{bad:?}: {rep:?}");
            for m in mailer.sent() {
                m.check_headers()
                    .unwrap_or_else(|e| panic!("{bad:?}: a message with a bad header was sent: {e}"));
            }
        }
    }
}
