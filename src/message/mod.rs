//! Messages: templates, locales, rendering, preview.

mod context;
mod defaults;
mod format;
mod schema;

use std::collections::HashSet;

use handlebars::{
    Context, Handlebars, Helper, HelperResult, Output, RenderContext, RenderErrorReason, html_escape,
    no_escape, template::Template,
};
use serde::{Deserialize, Serialize};

use crate::model::client::{Client, plausible_email};
use crate::model::id::EventKey;
use crate::money::{Currency, Money};
use crate::plan::Event;
use crate::policy::{Policy, TemplateKind};

pub use context::RenderOptions;
use format::Conventions;

/// A problem with a template or with a message being built.
///
/// Template problems are found when [`Messages::new`] loads the policy, not when a message
/// is sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MessageError {
    /// A template does not parse.
    #[error("template {template}: {message}")]
    Syntax {
        /// Which template (`rule overdue, es-CL, subject`).
        template: String,
        /// The parser's words.
        message: String,
    },
    /// A template names a variable that does not exist.
    #[error("template {template}: unknown variable {variable:?}")]
    UnknownVariable {
        /// Which template.
        template: String,
        /// The variable as written.
        variable: String,
    },
    /// A template calls a helper that does not exist.
    #[error("template {template}: unknown helper {helper:?}")]
    UnknownHelper {
        /// Which template.
        template: String,
        /// The helper.
        helper: String,
    },
    /// A template includes a partial; templates are self-contained.
    #[error("template {template}: partials are not supported ({name:?})")]
    Partial {
        /// Which template.
        template: String,
        /// The partial's name.
        name: String,
    },
    /// A host template says neither or both of `rule` and `kind`, or names an unknown rule.
    #[error("templates[{index}]: {problem}")]
    TemplateTarget {
        /// Its position in the policy's templates.
        index: usize,
        /// What is wrong.
        problem: String,
    },
    /// Rendering failed.
    #[error("template {template}: {message}")]
    Render {
        /// Which template.
        template: String,
        /// What failed.
        message: String,
    },
    /// A header value (subject, name, address) contains a line break.
    #[error("{field}: line breaks are not allowed in a header ({value:?})")]
    HeaderInjection {
        /// Which header.
        field: String,
        /// The value.
        value: String,
    },
    /// An address that does not parse.
    #[error("{field}: invalid email address {value:?}")]
    InvalidAddress {
        /// Whose address (`to (contact Ana)`, `cc`, `reply_to`).
        field: String,
        /// The address.
        value: String,
    },
    /// The event has nobody to send to.
    #[error("event {key}: no recipients")]
    NoRecipients {
        /// The event.
        key: EventKey,
    },
}

/// A name and an address.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Mailbox {
    /// Display name, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Address.
    pub email: String,
}

/// A rendered message, ready for a mailer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// The event it renders (the mailer may embed it in the Message-ID).
    pub key: EventKey,
    /// The sender, when the policy's company has an address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<Mailbox>,
    /// Recipients.
    pub to: Vec<Mailbox>,
    /// Copies.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cc: Vec<Mailbox>,
    /// Blind copies.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bcc: Vec<Mailbox>,
    /// Where replies go.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reply_to: Vec<Mailbox>,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub text: String,
    /// HTML body, when the template has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
    /// References of files to attach (from the items).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<String>,
    /// Locale it was written in.
    pub locale: String,
}

impl Message {
    /// The same message addressed to an operator's own address instead of the client's, with
    /// `[TEST]` before the subject (seed 002's "Probar recordatorio").
    ///
    /// # Errors
    /// [`MessageError::InvalidAddress`] or [`MessageError::HeaderInjection`] for the
    /// operator's address.
    pub fn for_operator(&self, operator: &str) -> Result<Message, MessageError> {
        let to = mailbox("operator", None, operator)?;
        Ok(Message {
            to: vec![to],
            cc: Vec::new(),
            bcc: Vec::new(),
            subject: format!("[TEST] {}", self.subject),
            ..self.clone()
        })
    }
}

fn no_breaks(field: &str, value: &str) -> Result<(), MessageError> {
    if value.contains(['\r', '\n']) {
        return Err(MessageError::HeaderInjection {
            field: field.to_owned(),
            value: value.to_owned(),
        });
    }
    Ok(())
}

fn mailbox(field: &str, name: Option<&str>, email: &str) -> Result<Mailbox, MessageError> {
    no_breaks(field, email)?;
    if let Some(n) = name {
        no_breaks(field, n)?;
    }
    let email = email.trim();
    if !plausible_email(email) {
        return Err(MessageError::InvalidAddress {
            field: field.to_owned(),
            value: email.to_owned(),
        });
    }
    Ok(Mailbox {
        name: name.filter(|n| !n.is_empty()).map(str::to_owned),
        email: email.to_owned(),
    })
}

fn mailboxes(field: &str, list: &[String]) -> Result<Vec<Mailbox>, MessageError> {
    list.iter().map(|e| mailbox(field, None, e)).collect()
}

/// Part of a template set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Subject,
    Text,
    Html,
}

impl Part {
    fn name(self) -> &'static str {
        match self {
            Part::Subject => "subject",
            Part::Text => "text",
            Part::Html => "html",
        }
    }
}

/// Compiled templates for a policy: the host's and the crate's defaults in Spanish and
/// English, checked against the known variables when loaded, rendered many times.
///
/// # Example
/// ```
/// use chrono::{NaiveDate, TimeZone as _, Utc};
/// use dunning::*;
///
/// let policy = Policy::new(TimeZone::from_name("America/Santiago")?)
///     .with_rule(Rule::new("overdue".parse()?, Anchor::Due, 0));
/// let planner = Planner::new(&policy)?;
/// let messages = Messages::new(&policy)?;
///
/// let clp = Currency::from_code("CLP")?;
/// let client = Client::new("acme".parse()?, "ACME SpA")
///     .with_locale("es-CL")
///     .with_contact(Contact::new("Ana", "ana@acme.cl"));
/// let issued = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
/// let invoice = Item::invoice("F-1".parse()?, "acme".parse()?, issued, Money::parse("1234567", clp)?);
/// let now = Utc.with_ymd_and_hms(2026, 4, 1, 13, 0, 0).unwrap();
/// let plan = planner.plan(&[client.clone()], &[invoice], &[], now, Horizon::NONE)?;
///
/// let message = messages.render(&plan.due()[0], &client, &RenderOptions::default())?;
/// assert_eq!(message.subject, "Su factura N° F-1 vence hoy");
/// assert!(message.text.contains("$1.234.567"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Messages {
    html: Handlebars<'static>,
    text: Handlebars<'static>,
    names: HashSet<String>,
    policy: Policy,
}

/// A template's name, which error messages show: `rule overdue, es-CL, subject`.
fn template_name(origin: &str, target: &str, locale: &str, part: Part) -> String {
    part_name(&format!("{origin} {target}, {locale}"), part)
}

fn part_name(base: &str, part: Part) -> String {
    format!("{base}, {}", part.name())
}

fn language(locale: &str) -> &str {
    locale.split(['-', '_']).next().unwrap_or(locale)
}

impl Messages {
    /// Compiles the policy's templates and the defaults, checking every variable and helper
    /// they name.
    ///
    /// # Errors
    /// The first template that does not parse, names an unknown variable or helper, or does
    /// not say which rule or kind it is for.
    pub fn new(policy: &Policy) -> Result<Self, MessageError> {
        let mut html = Handlebars::new();
        html.set_strict_mode(true);
        html.register_escape_fn(html_escape);
        let mut text = Handlebars::new();
        text.set_strict_mode(true);
        text.register_escape_fn(no_escape);
        for h in [&mut html, &mut text] {
            h.register_helper("money", Box::new(money_helper));
            h.register_helper("date", Box::new(date_helper));
        }
        let mut me = Self {
            html,
            text,
            names: HashSet::new(),
            policy: policy.clone(),
        };
        for kind in TemplateKind::ALL {
            for lang in defaults::LANGUAGES {
                let (subject, text, html) = defaults::template(kind, lang);
                me.add(
                    &template_name("default", kind.name(), lang, Part::Subject),
                    &subject,
                    Part::Subject,
                )?;
                me.add(
                    &template_name("default", kind.name(), lang, Part::Text),
                    &text,
                    Part::Text,
                )?;
                me.add(
                    &template_name("default", kind.name(), lang, Part::Html),
                    &html,
                    Part::Html,
                )?;
            }
        }
        for (index, spec) in policy.templates.iter().enumerate() {
            let target = match (&spec.rule, spec.kind) {
                (Some(rule), None) => {
                    if !policy.has_rule(rule.as_str()) {
                        return Err(MessageError::TemplateTarget {
                            index,
                            problem: format!("unknown rule {rule:?}"),
                        });
                    }
                    ("rule", rule.to_string())
                }
                (None, Some(kind)) => ("kind", kind.name().to_owned()),
                _ => {
                    return Err(MessageError::TemplateTarget {
                        index,
                        problem: "a template is for one rule or for one kind: set exactly one".into(),
                    });
                }
            };
            let name = |part| template_name(target.0, &target.1, &spec.locale, part);
            me.add(&name(Part::Subject), &spec.subject, Part::Subject)?;
            me.add(&name(Part::Text), &spec.text, Part::Text)?;
            if let Some(h) = &spec.html {
                me.add(&name(Part::Html), h, Part::Html)?;
            }
        }
        Ok(me)
    }

    fn add(&mut self, name: &str, source: &str, part: Part) -> Result<(), MessageError> {
        let tpl = Template::compile(source).map_err(|e| MessageError::Syntax {
            template: name.to_owned(),
            message: e.to_string(),
        })?;
        schema::check(&tpl).map_err(|p| match p {
            schema::Problem::Variable(variable) => MessageError::UnknownVariable {
                template: name.to_owned(),
                variable,
            },
            schema::Problem::Helper(helper) => MessageError::UnknownHelper {
                template: name.to_owned(),
                helper,
            },
            schema::Problem::Partial(partial) => MessageError::Partial {
                template: name.to_owned(),
                name: partial,
            },
        })?;
        match part {
            Part::Html => self.html.register_template(name, tpl),
            Part::Subject | Part::Text => self.text.register_template(name, tpl),
        }
        self.names.insert(name.to_owned());
        Ok(())
    }

    /// The template for one part: the rule's, then the kind's, then the default; each in the
    /// locale, then its language. HTML follows the subject's choice (a host template without
    /// HTML gives a message without HTML).
    fn pick(&self, rule: &str, kind: TemplateKind, locale: &str) -> Option<(String, bool)> {
        let lang = language(locale);
        let policy_lang = language(&self.policy.locale);
        let mut candidates: Vec<(&str, &str, &str)> = Vec::with_capacity(8);
        for loc in [locale, lang] {
            candidates.push(("rule", rule, loc));
        }
        for loc in [locale, lang] {
            candidates.push(("kind", kind.name(), loc));
        }
        for loc in [lang, policy_lang, "en"] {
            candidates.push(("default", kind.name(), loc));
        }
        candidates.into_iter().find_map(|(origin, target, loc)| {
            let base = format!("{origin} {target}, {loc}");
            self.names.contains(&part_name(&base, Part::Subject)).then(|| {
                let html = self.names.contains(&part_name(&base, Part::Html));
                (base, html)
            })
        })
    }

    /// Renders the message of `event` for `client`.
    ///
    /// # Errors
    /// [`MessageError::NoRecipients`], [`MessageError::InvalidAddress`] naming the contact or
    /// list, [`MessageError::HeaderInjection`] for a subject or name with a line break, or
    /// [`MessageError::Render`].
    pub fn render(
        &self,
        event: &Event,
        client: &Client,
        options: &RenderOptions,
    ) -> Result<Message, MessageError> {
        let kind = context::kind_of(event);
        let locale: &str = &event.locale;
        let (base, has_html) =
            self.pick(event.rule.as_str(), kind, locale)
                .ok_or_else(|| MessageError::Render {
                    template: format!("{} ({locale})", kind.name()),
                    message: "no template".into(),
                })?;
        // One context for the three parts: rendering from a `Context` does not serialize the
        // data again for each template.
        let data = Context::from(context::build(event, client, &self.policy, options));
        let run = |reg: &Handlebars<'static>, part: Part| {
            let name = part_name(&base, part);
            reg.render_with_context(&name, &data)
                .map_err(|e| MessageError::Render {
                    template: name,
                    message: e.to_string(),
                })
        };
        let subject = run(&self.text, Part::Subject)?.trim().to_owned();
        no_breaks("subject", &subject)?;
        let text = run(&self.text, Part::Text)?;
        let html = if has_html {
            Some(run(&self.html, Part::Html)?)
        } else {
            None
        };

        if event.recipients.is_empty() {
            return Err(MessageError::NoRecipients {
                key: event.key.clone(),
            });
        }
        let to = event
            .recipients
            .iter()
            .map(|r| mailbox(&format!("to (contact {})", r.name), Some(&r.name), &r.email))
            .collect::<Result<Vec<_>, _>>()?;
        let o = &client.overrides;
        let p = &self.policy;
        let from = if p.company.email.is_empty() {
            None
        } else {
            Some(mailbox("from", Some(&p.company.name), &p.company.email)?)
        };
        Ok(Message {
            key: event.key.clone(),
            from,
            to,
            cc: mailboxes("cc", o.cc.as_ref().unwrap_or(&p.cc))?,
            bcc: mailboxes("bcc", o.bcc.as_ref().unwrap_or(&p.bcc))?,
            reply_to: mailboxes("reply_to", o.reply_to.as_ref().unwrap_or(&p.reply_to))?,
            subject,
            text,
            html,
            attachments: event
                .items
                .iter()
                .flat_map(|i| i.attachments.iter().cloned())
                .collect(),
            locale: locale.to_owned(),
        })
    }
}

fn root_locale(ctx: &Context) -> &str {
    ctx.data().get("locale").and_then(|l| l.as_str()).unwrap_or("en")
}

/// `{{money x}}`: an amount `{currency, amount}` written for the message's locale.
fn money_helper(
    h: &Helper<'_>,
    r: &Handlebars<'_>,
    ctx: &Context,
    _: &mut RenderContext<'_, '_>,
    out: &mut dyn Output,
) -> HelperResult {
    let value = h
        .param(0)
        .map(|p| p.value())
        .ok_or(RenderErrorReason::ParamNotFoundForIndex("money", 0))?;
    if value.is_null() {
        return Ok(());
    }
    let parsed = value
        .get("currency")
        .and_then(|c| c.as_str())
        .and_then(|c| Currency::from_code(c).ok())
        .zip(value.get("amount").and_then(|a| a.as_str()))
        .and_then(|(c, a)| Money::parse(a, c).ok());
    let written = match parsed {
        Some(m) => Conventions::of(root_locale(ctx)).money(m),
        None => value.to_string(),
    };
    out.write(&r.get_escape_fn()(&written))?;
    Ok(())
}

/// `{{date d}}`: a `YYYY-MM-DD` date written in words for the message's locale.
fn date_helper(
    h: &Helper<'_>,
    r: &Handlebars<'_>,
    ctx: &Context,
    _: &mut RenderContext<'_, '_>,
    out: &mut dyn Output,
) -> HelperResult {
    let value = h
        .param(0)
        .map(|p| p.value())
        .ok_or(RenderErrorReason::ParamNotFoundForIndex("date", 0))?;
    let Some(text) = value.as_str() else {
        return Ok(());
    };
    let written = match text.parse::<chrono::NaiveDate>() {
        Ok(d) => Conventions::of(root_locale(ctx)).date(d),
        Err(_) => text.to_owned(),
    };
    out.write(&r.get_escape_fn()(&written))?;
    Ok(())
}
