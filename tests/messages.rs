//! Rendered messages: every default template in Spanish and English, strict variables,
//! escaping, header safety, host templates, previews and test sends.

mod common;

use chrono::Duration;
use common::*;
use dunning::*;
use proptest::prelude::*;

fn policy() -> Policy {
    let mut p = Policy::new(tz("America/Santiago"))
        .with_rule(rule("issued", Anchor::Issued, 0))
        .with_rule(rule("due-soon", Anchor::Due, -5))
        .with_rule(rule("due-today", Anchor::Due, 0))
        .with_rule(rule("overdue", Anchor::Due, 3))
        .with_rule(Rule::thank_you("thanks".parse().unwrap()))
        .with_rule(rule("pending", Anchor::Sent, 3));
    if let Some(r) = p.rules.iter_mut().find(|r| r.id.as_str() == "overdue") {
        r.late_fee = Some(LateFee {
            fixed: vec![],
            basis_points: 150,
            cap: vec![money("50000", "CLP")],
        });
    }
    p.company = Company {
        name: "Servicios Andinos SpA".into(),
        address: "Av. Providencia 1234, Santiago".into(),
        phone: "+56 2 2345 6789".into(),
        website: "https://andinos.example".into(),
        email: "cobranza@andinos.example".into(),
    };
    p.branding.logo_url = "https://andinos.example/logo.png".into();
    p.branding.logo_alignment = Alignment::Center;
    p.payment_instructions =
        "Transferencia a Banco Ejemplo\nCuenta corriente 12-345-678\nRUT 76.123.456-7".into();
    p.reply_to = vec!["pagos@andinos.example".into(), "finanzas@andinos.example".into()];
    p
}

fn acme(locale: &str) -> Client {
    client("acme", "America/Santiago")
        .with_locale(locale)
        .with_contact(Contact::new("Ana Pérez", "ana@acme.example"))
}

/// A preview of `rule` for an item of `kind`, at the day that gives the rule's stage.
fn preview(planner: &Planner, client: &Client, rule_id: &str, kind: ItemKind) -> Event {
    let issued = d(2026, 3, 2);
    let due = d(2026, 4, 1);
    let mut item = if kind == ItemKind::Invoice {
        invoice("F-1001", "acme", issued, due, money("1190000", "CLP"))
            .paid(money("190000", "CLP"), d(2026, 3, 10))
    } else {
        Item::action("DOC-7".parse().unwrap(), "acme".parse().unwrap(), kind, issued)
    };
    item.attachments = vec!["facturas/F-1001.pdf".into()];
    let day = match rule_id {
        "issued" => issued,
        "due-soon" => due - Duration::days(5),
        "due-today" => due,
        "overdue" => due + Duration::days(3),
        "thanks" => {
            item = item.paid(money("1000000", "CLP"), d(2026, 3, 30));
            d(2026, 3, 30)
        }
        _ => issued + Duration::days(3),
    };
    let now = day.and_hms_opt(15, 0, 0).unwrap().and_utc();
    planner
        .preview(&rule_id.parse().unwrap(), client, &item, now)
        .unwrap()
}

fn show(m: &Message) -> String {
    format!(
        "subject: {}\nto: {:?}\nreply-to: {:?}\nattachments: {:?}\n--- text ---\n{}\n--- html ---\n{}",
        m.subject,
        m.to,
        m.reply_to,
        m.attachments,
        m.text,
        m.html.as_deref().unwrap_or("(none)")
    )
}

#[test]
fn every_default_template_in_both_locales() {
    let policy = policy();
    let planner = Planner::new(&policy).unwrap();
    let messages = Messages::new(&policy).unwrap();
    let cases = [
        ("issued", ItemKind::Invoice, "issued"),
        ("due-soon", ItemKind::Invoice, "due_soon"),
        ("due-today", ItemKind::Invoice, "due_today"),
        ("overdue", ItemKind::Invoice, "overdue"),
        ("thanks", ItemKind::Invoice, "thank_you"),
        ("pending", ItemKind::Invoice, "pending_invoice"),
        ("pending", ItemKind::Proposal, "pending_proposal"),
        ("pending", ItemKind::Signature, "pending_signature"),
        ("pending", ItemKind::Approval, "pending_approval"),
        ("pending", ItemKind::Form, "pending_form"),
        ("pending", ItemKind::Message, "pending_message"),
    ];
    for locale in ["es-CL", "en-US"] {
        let client = acme(locale);
        for (rule_id, kind, name) in cases {
            let event = preview(&planner, &client, rule_id, kind);
            assert!(event.why.preview, "{name}");
            assert!(event.explain().starts_with("preview of "), "{}", event.explain());
            let m = messages
                .render(
                    &event,
                    &client,
                    &RenderOptions::default().with_payment_link("https://pay.example/F-1001"),
                )
                .unwrap();
            assert!(!m.subject.is_empty() && !m.text.contains("{{"), "{name} {locale}");
            let back: Message = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
            assert_eq!(back, m, "a message survives JSON, empty lists included");
            let mut settings = insta::Settings::clone_current();
            settings.set_prepend_module_to_snapshot(false);
            settings.set_snapshot_suffix(format!("{name}_{locale}"));
            settings.bind(|| insta::assert_snapshot!("message", show(&m)));
        }
    }
}

#[test]
fn money_and_dates_follow_the_locale() {
    let policy = policy();
    let planner = Planner::new(&policy).unwrap();
    let messages = Messages::new(&policy).unwrap();
    let es = acme("es-CL");
    let m = messages
        .render(
            &preview(&planner, &es, "overdue", ItemKind::Invoice),
            &es,
            &RenderOptions::default(),
        )
        .unwrap();
    assert!(m.text.contains("saldo $1.000.000"), "{}", m.text);
    assert!(m.text.contains("venció el 1 de abril de 2026"), "{}", m.text);
    assert!(m.text.contains("recargo propuesto $15.000"), "{}", m.text);
    let en = acme("en-US");
    let m = messages
        .render(
            &preview(&planner, &en, "overdue", ItemKind::Invoice),
            &en,
            &RenderOptions::default(),
        )
        .unwrap();
    assert!(m.text.contains("balance $1,000,000"), "{}", m.text);
    assert!(m.text.contains("was due on April 1, 2026"), "{}", m.text);
}

#[test]
fn html_escapes_values_and_text_keeps_them() {
    let policy = policy();
    let planner = Planner::new(&policy).unwrap();
    let messages = Messages::new(&policy).unwrap();
    let mut client = acme("en-US");
    client.contacts.retain(|c| c.email.starts_with("ana"));
    client.contacts[0].name = "<script>alert(1)</script>".into();
    let m = messages
        .render(
            &preview(&planner, &client, "overdue", ItemKind::Invoice),
            &client,
            &RenderOptions::default(),
        )
        .unwrap();
    let html = m.html.unwrap();
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{html}");
    assert!(!html.contains("<script>"));
    assert!(m.text.contains("Dear <script>alert(1)</script>:"));
}

fn host_template(subject: &str, text: &str) -> TemplateSpec {
    TemplateSpec {
        rule: Some("overdue".parse().unwrap()),
        kind: None,
        locale: "es".into(),
        subject: subject.into(),
        text: text.into(),
        html: None,
    }
}

#[test]
fn strict_templates_are_refused_when_loaded() {
    let mut p = policy();
    p.templates = vec![host_template("Hola {{clent.name}}", "x")];
    assert_eq!(
        Messages::new(&p).unwrap_err(),
        MessageError::UnknownVariable {
            template: "rule overdue, es, subject".into(),
            variable: "clent.name".into()
        }
    );
    p.templates = vec![host_template("ok", "{{#if missing}}never{{/if}}")];
    assert_eq!(
        Messages::new(&p).unwrap_err().to_string(),
        "template rule overdue, es, text: unknown variable \"missing\""
    );
    p.templates = vec![host_template("{{shout client.name}}", "x")];
    assert!(
        matches!(Messages::new(&p).unwrap_err(), MessageError::UnknownHelper { helper, .. } if helper == "shout")
    );
    p.templates = vec![host_template("{{#if}}", "x")];
    assert!(matches!(
        Messages::new(&p).unwrap_err(),
        MessageError::Syntax { .. }
    ));
    let mut bad = host_template("x", "x");
    bad.rule = Some("nope".parse().unwrap());
    p.templates = vec![bad];
    assert!(matches!(
        Messages::new(&p).unwrap_err(),
        MessageError::TemplateTarget { index: 0, .. }
    ));
    let mut both = host_template("x", "x");
    both.kind = Some(TemplateKind::Overdue);
    p.templates = vec![both];
    assert!(matches!(
        Messages::new(&p).unwrap_err(),
        MessageError::TemplateTarget { .. }
    ));
}

#[test]
fn host_templates_win_by_rule_then_kind_then_locale() {
    let mut p = policy();
    p.templates = vec![
        host_template("Regla: {{item.number}}", "cuerpo {{money item.balance}}"),
        TemplateSpec {
            rule: None,
            kind: Some(TemplateKind::DueSoon),
            locale: "es-CL".into(),
            subject: "Pronto: {{item.number}}".into(),
            text: "t".into(),
            html: Some("<b>{{client.name}}</b>".into()),
        },
    ];
    let planner = Planner::new(&p).unwrap();
    let messages = Messages::new(&p).unwrap();
    let cl = acme("es-CL");
    let m = messages
        .render(
            &preview(&planner, &cl, "overdue", ItemKind::Invoice),
            &cl,
            &RenderOptions::default(),
        )
        .unwrap();
    assert_eq!(
        (m.subject.as_str(), m.text.as_str(), m.html.is_none()),
        ("Regla: F-1001", "cuerpo $1.000.000", true)
    );
    let m = messages
        .render(
            &preview(&planner, &cl, "due-soon", ItemKind::Invoice),
            &cl,
            &RenderOptions::default(),
        )
        .unwrap();
    assert_eq!(m.subject, "Pronto: F-1001");
    assert_eq!(m.html.as_deref(), Some("<b>Client acme</b>"));
    // Spain falls back to the language-level rule template, not the Chilean kind template.
    let es = acme("es-ES");
    let m = messages
        .render(
            &preview(&planner, &es, "due-soon", ItemKind::Invoice),
            &es,
            &RenderOptions::default(),
        )
        .unwrap();
    assert!(
        m.subject
            .starts_with("Recordatorio: la factura N° F-1001 vence el"),
        "{}",
        m.subject
    );
    // An unknown language gets the policy's language.
    let fr = acme("fr-FR");
    let m = messages
        .render(
            &preview(&planner, &fr, "due-today", ItemKind::Invoice),
            &fr,
            &RenderOptions::default(),
        )
        .unwrap();
    assert_eq!(m.subject, "Su factura N° F-1001 vence hoy");
}

#[test]
fn headers_refuse_line_breaks_and_bad_addresses() {
    let mut p = policy();
    p.templates = vec![host_template("Factura de {{client.name}}", "x")];
    let planner = Planner::new(&p).unwrap();
    let messages = Messages::new(&p).unwrap();
    let mut client = acme("es");
    client.name = "ACME\r\nBcc: victim@example.com".into();
    // The planner refuses the client, naming the field...
    assert!(matches!(
        planner.check(std::slice::from_ref(&client), &[]).unwrap_err(),
        ValidationError::LineBreak { field, .. } if field == "client acme: name"
    ));
    // ...and a message rendered for it anyway (an event planned for it before) is refused.
    let event = preview(&planner, &acme("es"), "overdue", ItemKind::Invoice);
    assert!(matches!(
        messages.render(&event, &client, &RenderOptions::default()).unwrap_err(),
        MessageError::HeaderInjection { field, .. } if field == "subject"
    ));
    let client = acme("es").with_overrides(ClientOverrides {
        cc: Some(vec!["not-an-address".into()]),
        ..ClientOverrides::default()
    });
    // The planner refuses the client (naming the field), before any message...
    assert_eq!(
        planner.check(std::slice::from_ref(&client), &[]).unwrap_err(),
        ValidationError::InvalidAddress {
            field: "client acme: overrides.cc[0]".into(),
            value: "not-an-address".into()
        }
    );
    // ...and a message for it is refused too (an event planned without the override).
    let event = preview(&planner, &acme("es"), "due-today", ItemKind::Invoice);
    assert_eq!(
        messages
            .render(&event, &client, &RenderOptions::default())
            .unwrap_err(),
        MessageError::InvalidAddress {
            field: "cc".into(),
            value: "not-an-address".into()
        }
    );
    let mut event = preview(&planner, &acme("es"), "due-today", ItemKind::Invoice);
    let mut r = event.recipients.to_vec();
    r[0].name = "Ana\nX-Evil: 1".into();
    event.recipients = r.into();
    assert!(matches!(
        messages.render(&event, &acme("es"), &RenderOptions::default()).unwrap_err(),
        MessageError::HeaderInjection { field, .. } if field.starts_with("to (contact")
    ));
}

#[test]
fn reply_to_list_loads_comma_separated_and_client_overrides_it() {
    let p: Policy = toml::from_str(
        r#"
        reply_to = "pagos@andinos.example, finanzas@andinos.example"
        [[rules]]
        id = "overdue"
        anchor = "due"
        "#,
    )
    .unwrap();
    assert_eq!(p.reply_to, ["pagos@andinos.example", "finanzas@andinos.example"]);
    let planner = Planner::new(&p).unwrap();
    let messages = Messages::new(&p).unwrap();
    let client = acme("es").with_overrides(ClientOverrides {
        reply_to: Some(vec!["ejecutivo@andinos.example".into()]),
        bcc: Some(vec!["auditoria@andinos.example".into()]),
        ..ClientOverrides::default()
    });
    let m = messages
        .render(
            &preview(&planner, &client, "overdue", ItemKind::Invoice),
            &client,
            &RenderOptions::default(),
        )
        .unwrap();
    assert_eq!(
        m.reply_to,
        [Mailbox {
            name: None,
            email: "ejecutivo@andinos.example".into()
        }]
    );
    assert_eq!(m.bcc.len(), 1);
}

#[test]
fn preview_and_test_send_go_to_the_operator() {
    let policy = policy();
    let planner = Planner::new(&policy).unwrap();
    let messages = Messages::new(&policy).unwrap();
    let client = acme("es-CL");
    let event = preview(&planner, &client, "due-soon", ItemKind::Invoice);
    assert!(event.key.as_str().starts_with("preview/"));
    let m = messages
        .render(&event, &client, &RenderOptions::default())
        .unwrap();
    let test = m.for_operator("operador@andinos.example").unwrap();
    assert_eq!(
        test.to,
        [Mailbox {
            name: None,
            email: "operador@andinos.example".into()
        }]
    );
    assert!(test.subject.starts_with("[TEST] Recordatorio"));
    assert!(test.cc.is_empty() && test.bcc.is_empty());
    assert!(m.for_operator("operador\r\n@x").is_err());
    assert!(matches!(
        planner.preview(
            &"nope".parse().unwrap(),
            &client,
            &invoice("X", "acme", d(2026, 1, 1), d(2026, 1, 2), money("1", "CLP")),
            utc(2026, 1, 1, 0, 0)
        ),
        Err(ValidationError::UnknownRule { .. })
    ));
}

#[test]
fn planned_events_render_with_attachments_and_grouped_items() {
    let p = Policy::new(tz("America/Santiago")).with_rule(rule("overdue", Anchor::Due, 0).grouped());
    let planner = Planner::new(&p).unwrap();
    let messages = Messages::new(&p).unwrap();
    let client = acme("es-CL");
    let mut a = invoice("F-1", "acme", d(2026, 3, 2), d(2026, 4, 1), money("1000", "CLP"));
    a.attachments = vec!["F-1.pdf".into(), "F-1.xml".into()];
    let b = invoice("F-2", "acme", d(2026, 3, 2), d(2026, 4, 1), money("2500", "CLP"));
    let plan = planner
        .plan(
            std::slice::from_ref(&client),
            &[a, b],
            &[],
            utc(2026, 4, 1, 13, 0),
            Horizon::NONE,
        )
        .unwrap();
    let m = messages
        .render(&plan.due()[0], &client, &RenderOptions::default())
        .unwrap();
    assert_eq!(m.attachments, ["F-1.pdf", "F-1.xml"]);
    assert!(
        m.text
            .contains("- Documento F-1, vencimiento 1 de abril de 2026: saldo $1.000"),
        "{}",
        m.text
    );
    assert!(m.text.contains("- Documento F-2"), "{}", m.text);
    assert!(m.text.contains("Total adeudado (CLP): $3.500"), "{}", m.text);
}

proptest! {
    #[test]
    fn rendering_never_panics(
        name in "\\PC{0,40}",
        contact in "[a-zA-Z<>&\"' ]{0,20}",
        minor in -1_000_000_000_000i64..1_000_000_000_000,
        code in prop::sample::select(vec!["CLP", "USD", "EUR", "CLF", "JPY", "BHD", "GBP", "MXN"]),
        locale in prop::sample::select(vec!["es-CL", "es", "en-US", "en", "fr", "", "es-MX", "de-DE"]),
        rule_id in prop::sample::select(vec!["issued", "due-soon", "due-today", "overdue", "pending"]),
    ) {
        static SETUP: std::sync::OnceLock<(Planner, Messages)> = std::sync::OnceLock::new();
        let (planner, messages) = SETUP.get_or_init(|| (Planner::new(&policy()).unwrap(), Messages::new(&policy()).unwrap()));
        let mut client = acme(locale);
        client.name = name;
        client.contacts[0].name = contact;
        let cur = Currency::from_code(code).unwrap();
        let item = invoice("F-9", "acme", d(2026, 3, 2), d(2026, 4, 1), Money::from_minor(minor.abs(), cur));
        // Errors are fine (a name with a line break, U+2028 or U+2029 among them, is refused
        // by the preview or the render); panics are not.
        let Ok(event) = planner.preview(&rule_id.parse().unwrap(), &client, &item, utc(2026, 4, 4, 15, 0)) else {
            return Ok(());
        };
        let _ = messages.render(&event, &client, &RenderOptions::default());
    }
}

/// A send missed and caught up keeps the day it was meant for (`send_on`), but its message
/// counts days, and says which items are overdue, as of the day it goes.
#[test]
fn a_caught_up_message_counts_days_from_the_day_it_goes() {
    let mut policy = Policy::new(tz("UTC")).with_rule(rule("overdue", Anchor::Due, 0));
    policy.templates.push(host_template(
        "{{item.number}}",
        "{{#each items}}{{days_past_due}} {{overdue}}{{/each}}",
    ));
    let planner = Planner::new(&policy).unwrap();
    let messages = Messages::new(&policy).unwrap();
    let clients = [client("acme", "UTC").with_locale("es")];
    let items = [invoice(
        "F-1",
        "acme",
        d(2026, 3, 1),
        d(2026, 4, 1),
        money("1000", "CLP"),
    )];
    // Meant for 04-01 at 09:00, planned on 04-04: due now, still saying 04-01.
    let plan = planner
        .plan(&clients, &items, &[], utc(2026, 4, 4, 8, 0), Horizon::NONE)
        .unwrap();
    let e = &plan.due()[0];
    assert_eq!(e.send_on, d(2026, 4, 1));
    let at_send_on = messages
        .render(e, &clients[0], &RenderOptions::default())
        .unwrap();
    assert_eq!(at_send_on.text.trim(), "0 false");
    let sent = messages
        .render(
            e,
            &clients[0],
            &RenderOptions::default().with_sent_on(d(2026, 4, 4)),
        )
        .unwrap();
    assert_eq!(sent.text.trim(), "3 true");
}

/// An address every message would go from or to that is not one (a typo in the policy's
/// reply-to, cc, bcc or company address, or in a client's override of them), or a line break
/// in a name that goes into a header, is refused where the policy or the client is checked -
/// not discovered at every send, each reminder then failing for good.
#[test]
fn bad_addresses_and_header_names_are_refused_at_load() {
    type Change = fn(&mut Policy);
    let cases: [(Change, &str); 5] = [
        (
            |p| p.reply_to = vec!["pagos@andinos".into()],
            "policy: reply_to[0]: invalid email address \"pagos@andinos\"",
        ),
        (
            |p| p.cc = vec!["ok@andinos.example".into(), "two words@x.example".into()],
            "policy: cc[1]: invalid email address \"two words@x.example\"",
        ),
        (
            |p| p.bcc = vec!["audit@andinos.example\r\nBcc: x@y.example".into()],
            "policy: bcc[0]: invalid email address \"audit@andinos.example\\r\\nBcc: x@y.example\"",
        ),
        (
            |p| p.company.email = "cobranza at andinos".into(),
            "policy: company.email: invalid email address \"cobranza at andinos\"",
        ),
        (
            |p| p.company.name = "Andinos\nBcc: x@y.example".into(),
            "policy: company.name: line breaks are not allowed in a header (\"Andinos\\nBcc: x@y.example\")",
        ),
    ];
    for (change, message) in cases {
        let mut p = policy();
        change(&mut p);
        assert_eq!(Planner::new(&p).unwrap_err().to_string(), message);
        let store = std::sync::Arc::new(MemoryStore::new(vec![], vec![]));
        assert!(Dispatcher::new(store, std::sync::Arc::new(RecordingMailer::new()), &p).is_err());
    }
    let planner = Planner::new(&policy()).unwrap();
    let k = acme("es").contacts.len();
    let client = acme("es").with_contact(Contact::new("Ana\u{2028}Bcc: x@y.example", "ana2@acme.example"));
    assert!(matches!(
        planner.check(&[client], &[]).unwrap_err(),
        ValidationError::LineBreak { field, .. } if field == format!("client acme: contacts[{k}].name")
    ));
    for (o, field) in [
        (
            ClientOverrides {
                reply_to: Some(vec!["x".into()]),
                ..ClientOverrides::default()
            },
            "client acme: overrides.reply_to[0]",
        ),
        (
            ClientOverrides {
                bcc: Some(vec!["a@b.example".into(), "a@b".into()]),
                ..ClientOverrides::default()
            },
            "client acme: overrides.bcc[1]",
        ),
    ] {
        let err = planner.check(&[acme("es").with_overrides(o)], &[]).unwrap_err();
        assert!(
            matches!(&err, ValidationError::InvalidAddress { field: f, .. } if f == field),
            "{err}"
        );
    }
}

/// Control characters other than line breaks, and bidirectional overrides, have no place in
/// a header either: a NUL, an escape or a right-to-left override (which shows
/// `Ana\u{202E}gnp.exe` as `Anaexe.png`) in a client's or contact's name, an item's
/// attachment or an id is refused at load, naming the field; a message built by hand with
/// one is refused by `check_headers`. They were accepted and written into headers.
#[test]
fn control_characters_and_bidi_overrides_are_refused_in_headers() {
    let planner = Planner::new(&policy()).unwrap();
    for bad in [
        "\u{0}",
        "\u{1B}[31m",
        "\u{7F}",
        "\u{9B}",
        "\u{202E}gnp.exe",
        "\u{2066}x\u{2069}",
    ] {
        let name = format!("Ana{bad}");
        let mut named = acme("es");
        named.name = name.clone();
        let k = acme("es").contacts.len();
        let contact = acme("es").with_contact(Contact::new(name.as_str(), "ana2@acme.example"));
        for (c, field) in [
            (named, "client acme: name".to_owned()),
            (contact, format!("client acme: contacts[{k}].name")),
        ] {
            match planner.check(&[c], &[]) {
                Err(ValidationError::ControlCharacter { field: f, value }) => {
                    assert_eq!((f, value), (field, name.clone()));
                }
                other => panic!("{name:?} in {field}: {other:?}"),
            }
        }
        let mut item = invoice("F-1", "acme", d(2026, 3, 2), d(2026, 4, 1), money("1000", "CLP"));
        item.attachments = vec![format!("F-1{bad}.pdf")];
        assert!(
            matches!(item.validate(), Err(ValidationError::ControlCharacter { ref field, .. }) if field == "item F-1: attachments[0]"),
            "{bad:?}: {:?}",
            item.validate()
        );
        let mut numbered = invoice("F-1", "acme", d(2026, 3, 2), d(2026, 4, 1), money("1000", "CLP"));
        numbered.number = format!("F{bad}1").into();
        assert!(
            matches!(numbered.validate(), Err(ValidationError::ControlCharacter { ref field, .. }) if field == "item F-1: number"),
            "{bad:?} in a number"
        );
        assert!(ItemId::new(format!("F{bad}1")).is_err(), "{bad:?} in an id");
        let json = serde_json::json!([{"id": "acme", "name": name, "time_zone": "UTC"}]).to_string();
        assert_eq!(
            load::clients_from_json(&json).unwrap_err().path(),
            "clients[0].name"
        );
        // A message a host builds by hand.
        let event = preview(&planner, &acme("es"), "overdue", ItemKind::Invoice);
        let messages = Messages::new(&policy()).unwrap();
        let mut message = messages
            .render(&event, &acme("es"), &RenderOptions::default())
            .unwrap();
        message.check_headers().unwrap();
        message.subject = format!("Factura{bad}");
        assert!(
            matches!(message.check_headers(), Err(MessageError::HeaderInjection { ref field, .. }) if field == "subject"),
            "{bad:?}"
        );
    }
    // Tabs and right-to-left text stay: they are text, not controls.
    let mut rtl = acme("es");
    rtl.name = "شركة\tالأنديز".to_owned();
    planner.check(&[rtl], &[]).unwrap();
}

/// A bidirectional override or isolate in an address (a contact's, the policy's cc, a
/// client's reply-to) is refused at load, naming it: addresses passed the load checks, then
/// every message to the client failed to render.
#[test]
fn bidi_overrides_in_addresses_are_refused_at_load_not_at_every_send() {
    let contact = acme("es").with_contact(Contact::new("Ana", "moc.\u{202E}ana@acme.example"));
    assert!(matches!(
        contact.validate(),
        Err(ValidationError::InvalidEmail { .. })
    ));
    let mut replying = acme("es");
    replying.overrides.reply_to = Some(vec!["x\u{2066}y@acme.example".to_owned()]);
    assert!(matches!(
        replying.validate(),
        Err(ValidationError::InvalidAddress { field, .. }) if field == "client acme: overrides.reply_to[0]"
    ));
    let mut p = policy();
    p.cc = vec!["audit\u{202E}@acme.example".to_owned()];
    assert!(matches!(
        p.validate(),
        Err(ValidationError::InvalidAddress { field, .. }) if field == "policy: cc[0]"
    ));
}

/// A host template's locale is found however the client's locale is spelled (`es-CL`,
/// `es-cl`, `es_CL`), as the formatting of amounts and dates already read it (the host
/// template was skipped for the default, silently, when the case differed); two templates
/// for one target in one locale spelled two ways are refused.
#[test]
fn a_host_templates_locale_is_found_whatever_its_case_or_separator() {
    let mut p = policy();
    p.templates = vec![TemplateSpec {
        rule: None,
        kind: Some(TemplateKind::DueSoon),
        locale: "es-CL".into(),
        subject: "Pronto: {{item.number}}".into(),
        text: "t".into(),
        html: None,
    }];
    let planner = Planner::new(&p).unwrap();
    let messages = Messages::new(&p).unwrap();
    for spelling in ["es-CL", "es-cl", "ES-cl", "es_CL"] {
        let client = acme(spelling);
        let m = messages
            .render(
                &preview(&planner, &client, "due-soon", ItemKind::Invoice),
                &client,
                &RenderOptions::default(),
            )
            .unwrap();
        assert_eq!(m.subject, "Pronto: F-1001", "{spelling}");
    }
    let mut twice = p.clone();
    let mut other = twice.templates[0].clone();
    other.locale = "es_cl".into();
    twice.templates.push(other);
    match Messages::new(&twice) {
        Err(MessageError::Syntax { message, .. }) => assert!(message.contains("es-CL"), "{message}"),
        other => panic!("{other:?}"),
    }
}
