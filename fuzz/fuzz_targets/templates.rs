//! Host templates and hostile values: compiling a template gives messages or a typed error;
//! rendering an event whose client, contact, company and item carry hostile text gives a
//! message whose every header is free of line breaks, or a typed error; never a panic.
#![no_main]

use chrono::{NaiveDate, TimeZone as _, Utc};
use dunning::*;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    // The input is a template and, after a NUL, a hostile value for every text field.
    let (template, value) = text.split_once('\0').unwrap_or((text, "<b>&\"'\r\nBcc: x@y"));
    let Ok(tz) = TimeZone::from_name("UTC") else { return };
    let Ok(rule_id) = "overdue".parse::<RuleId>() else { return };
    let mut policy = Policy::new(tz).with_rule(Rule::new(rule_id.clone(), Anchor::Due, 0));
    policy.company.name = value.to_owned();
    policy.payment_instructions = value.to_owned();
    policy.templates.push(TemplateSpec {
        rule: Some(rule_id),
        kind: None,
        locale: "es".into(),
        subject: template.to_owned(),
        text: template.to_owned(),
        html: Some(template.to_owned()),
    });
    let Ok(messages) = Messages::new(&policy) else { return };
    let Ok(planner) = Planner::new(&policy) else { return };
    let (Ok(client_id), Ok(item_id)) = ("acme".parse::<ClientId>(), "F-1".parse::<ItemId>()) else { return };
    let client = Client::new(client_id.clone(), value)
        .with_contact(Contact::new(value, "ana@acme.example"))
        .with_locale("es");
    let (Some(issued), Some(due)) = (NaiveDate::from_ymd_opt(2026, 3, 1), NaiveDate::from_ymd_opt(2026, 4, 1)) else {
        return;
    };
    let Ok(clp) = Currency::from_code("CLP") else { return };
    let item = Item::invoice(item_id, client_id, issued, Money::from_minor(1000, clp))
        .due(due)
        .with_number(value);
    let Some(now) = Utc.with_ymd_and_hms(2026, 4, 2, 12, 0, 0).single() else { return };
    let Ok(plan) = planner.plan(&[client.clone()], &[item], &[], now, Horizon::NONE) else { return };
    for e in plan.due().iter() {
        if let Ok(m) = messages.render(e, &client, &RenderOptions::default()) {
            m.check_headers().expect("a rendered message has clean headers");
        }
    }
});
