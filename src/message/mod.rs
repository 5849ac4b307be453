//! Messages: templates, locales, rendering, preview.

mod compiled;
mod context;
mod defaults;
pub(crate) mod format;
mod schema;

use std::collections::HashMap;

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
    /// A header value (subject, name, address, attachment reference) contains a line break
    /// (see [`Message::is_line_break`]), another control character than tab, or a
    /// bidirectional override or isolate (U+202A to U+202E, U+2066 to U+2069); raised by
    /// [`Message::check_headers`].
    #[error("{field}: line breaks and control characters are not allowed in a header ({value:?})")]
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
    /// A sum of the event's amounts (its items' balances in one currency) is past the
    /// largest amount (`i64::MAX` minor units): refused rather than written wrong.
    #[error("event {key}: {what} in {currency} add up past the largest amount ({max} minor units)", max = i64::MAX)]
    AmountTooLarge {
        /// The event.
        key: EventKey,
        /// What was added up.
        what: String,
        /// The currency.
        currency: String,
    },
    /// The event has nobody to send to.
    #[error("event {key}: no recipients")]
    NoRecipients {
        /// The event.
        key: EventKey,
    },
    /// A payment link that is not an `http`, `https` or `mailto` link (`javascript:`,
    /// `data:`), or holds white space or a control character: a page would carry it as a
    /// live link.
    #[error("payment_link: {value:?} is not an http, https or mailto link")]
    UnsafeLink {
        /// The link given.
        value: String,
    },
    /// The policy's branding would put a live link or a style of its own in an HTML message
    /// (a `javascript:` logo, a colour with a `;`): [`ValidationError::InvalidSetting`](crate::ValidationError::InvalidSetting)
    /// naming the field and value.
    #[error(transparent)]
    Branding(crate::ValidationError),
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
    /// `[TEST]` before the subject (a test send).
    ///
    /// # Errors
    /// [`MessageError::InvalidAddress`] or [`MessageError::HeaderInjection`] for the
    /// operator's address (field `to`), or whatever [`Message::check_headers`] finds in the
    /// rest of the message.
    pub fn for_operator(&self, operator: &str) -> Result<Message, MessageError> {
        let message = Message {
            to: vec![mailbox(None, operator)],
            cc: Vec::new(),
            bcc: Vec::new(),
            subject: format!("[TEST] {}", self.subject),
            ..self.clone()
        };
        message.check_headers()?;
        Ok(message)
    }

    /// Checks every field that reaches a mail header: the subject, the name and address of
    /// every recipient, of the sender and of every copy, blind copy and reply-to mailbox, and
    /// every attachment reference (a mailer may name the file in a header). None may hold a line
    /// break (see [`Message::is_line_break`]), another control character than tab, or a
    /// bidirectional override or isolate, and every address must be plausible.
    ///
    /// This is the one place these checks are made: [`Messages::render`] and
    /// [`Message::for_operator`] return no message that fails it, and a host that builds or
    /// changes a message by hand can run it before sending.
    ///
    /// # Errors
    /// The first field that fails, in the order above: [`MessageError::HeaderInjection`] or
    /// [`MessageError::InvalidAddress`], naming it as `subject`, `to (contact Ana)` (or `to`
    /// for a mailbox without a name), `from`, `cc`, `bcc`, `reply_to` or `attachments[0]`.
    pub fn check_headers(&self) -> Result<(), MessageError> {
        no_breaks(|| "subject".to_owned(), &self.subject)?;
        for to in &self.to {
            check_mailbox(
                || match &to.name {
                    Some(name) => format!("to (contact {name})"),
                    None => "to".to_owned(),
                },
                to,
            )?;
        }
        if let Some(from) = &self.from {
            check_mailbox(|| "from".to_owned(), from)?;
        }
        for (field, list) in [("cc", &self.cc), ("bcc", &self.bcc), ("reply_to", &self.reply_to)] {
            for m in list {
                check_mailbox(|| field.to_owned(), m)?;
            }
        }
        for (i, reference) in self.attachments.iter().enumerate() {
            no_breaks(|| format!("attachments[{i}]"), reference)?;
        }
        Ok(())
    }

    /// Whether `c` may end a line for some reader of a mail header: CR and LF (RFC 5322), and
    /// the other characters that Unicode (UAX #14) or common line splitters (Python's
    /// `str.splitlines`, which mail parsers have been built on) take for a line break: vertical
    /// tab, form feed, the file, group and record separators, NEL (U+0085), and the line and
    /// paragraph separators (U+2028, U+2029).
    #[must_use]
    pub fn is_line_break(c: char) -> bool {
        crate::model::client::is_line_break(c)
    }
}

/// Refuses a header value with a line break or another control character, naming the field
/// (written only on refusal).
fn no_breaks(field: impl FnOnce() -> String, value: &str) -> Result<(), MessageError> {
    if value.contains(|c| Message::is_line_break(c) || crate::model::client::is_header_control(c)) {
        return Err(MessageError::HeaderInjection {
            field: field(),
            value: value.to_owned(),
        });
    }
    Ok(())
}

/// Refuses a mailbox whose address or name holds a line break, or whose address is not
/// plausible.
fn check_mailbox(field: impl Fn() -> String, m: &Mailbox) -> Result<(), MessageError> {
    no_breaks(&field, &m.email)?;
    if let Some(name) = &m.name {
        no_breaks(&field, name)?;
    }
    if !plausible_email(&m.email) {
        return Err(MessageError::InvalidAddress {
            field: field(),
            value: m.email.clone(),
        });
    }
    Ok(())
}

/// A mailbox as the policy or client gives it: the address without surrounding blanks (line
/// breaks stay, for [`Message::check_headers`] to refuse), no empty name. Not checked here.
fn mailbox(name: Option<&str>, email: &str) -> Mailbox {
    Mailbox {
        name: name.filter(|n| !n.is_empty()).map(str::to_owned),
        email: email
            .trim_matches(|c: char| c.is_whitespace() && !Message::is_line_break(c))
            .to_owned(),
    }
}

fn mailboxes(list: &[String]) -> Vec<Mailbox> {
    list.iter().map(|e| mailbox(None, e)).collect()
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

    /// Its place in a template set's list of parts.
    fn index(self) -> usize {
        self as usize
    }
}

/// Compiled templates for a policy: the host's and the crate's defaults in Spanish and
/// English, checked against the known variables when loaded, rendered many times.
///
/// Templates are handlebars. Those that use only variables, `{{money x}}`, `{{date x}}`,
/// `{{#if}}`/`{{#unless}}` (with `{{else}}`) and `{{#each items}}`/`{{#each totals}}` (the
/// shipped ones do) render straight from the event, about ten times faster than through
/// handlebars' JSON data and with the same output; any other construct is rendered by
/// handlebars.
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
    /// The template sets, by name (`rule overdue, es-CL`).
    sets: HashMap<String, TemplateSet>,
    policy: Policy,
}

/// The parts of one template set that were loaded, and those among them in the subset that
/// renders without handlebars.
#[derive(Debug, Default)]
struct TemplateSet {
    /// Its name as written (`rule overdue, es-CL`): its templates' names start with it.
    name: String,
    loaded: [bool; 3],
    compiled: [Option<compiled::Compiled>; 3],
}

impl TemplateSet {
    fn has(&self, part: Part) -> bool {
        self.loaded[part.index()]
    }
}

/// A template set's name: `rule overdue, es-CL`.
fn template_base(origin: &str, target: &str, locale: &str) -> String {
    format!("{origin} {target}, {locale}")
}

/// Where a template set is found: its name with the locale in one spelling (lower case, `-`
/// between subtags), so `es-CL`, `es-cl` and `es_CL` find one set.
fn set_key(origin: &str, target: &str, locale: &str, key: &mut String) {
    key.clear();
    for piece in [origin, " ", target, ", "] {
        key.push_str(piece);
    }
    key.extend(
        locale
            .chars()
            .map(|c| if c == '_' { '-' } else { c.to_ascii_lowercase() }),
    );
}

/// A template's name, which error messages show: `rule overdue, es-CL, subject`.
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
    /// [`MessageError::Branding`] for a logo link or colour that would put a live link or a
    /// style of its own in a message; then the first template that does not parse, names an
    /// unknown variable or helper, or does not say which rule or kind it is for.
    pub fn new(policy: &Policy) -> Result<Self, MessageError> {
        policy.check_branding().map_err(MessageError::Branding)?;
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
            sets: HashMap::new(),
            policy: policy.clone(),
        };
        for kind in TemplateKind::ALL {
            for lang in defaults::LANGUAGES {
                let (subject, text, html) = defaults::template(kind, lang);
                let base = ("default", kind.name(), lang);
                me.add(base, &subject, Part::Subject)?;
                me.add(base, &text, Part::Text)?;
                me.add(base, &html, Part::Html)?;
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
            let base = (target.0, &*target.1, &*spec.locale);
            me.add(base, &spec.subject, Part::Subject)?;
            me.add(base, &spec.text, Part::Text)?;
            if let Some(h) = &spec.html {
                me.add(base, h, Part::Html)?;
            }
        }
        Ok(me)
    }

    fn add(
        &mut self,
        (origin, target, locale): (&str, &str, &str),
        source: &str,
        part: Part,
    ) -> Result<(), MessageError> {
        let base = &template_base(origin, target, locale);
        let name = &part_name(base, part);
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
        let mut key = String::new();
        set_key(origin, target, locale, &mut key);
        let set = self.sets.entry(key).or_insert_with(|| TemplateSet {
            name: base.clone(),
            ..TemplateSet::default()
        });
        if set.name != *base {
            // The same target in one locale spelled two ways (`es-CL`, `es_cl`).
            return Err(MessageError::Syntax {
                template: name.to_owned(),
                message: format!(
                    "another template is for the same target and locale ({})",
                    set.name
                ),
            });
        }
        set.loaded[part.index()] = true;
        set.compiled[part.index()] = compiled::Compiled::compile(&tpl);
        match part {
            Part::Html => self.html.register_template(name, tpl),
            Part::Subject | Part::Text => self.text.register_template(name, tpl),
        }
        Ok(())
    }

    /// The template for one part: the rule's, then the kind's, then the default; each in the
    /// locale, then its language. HTML follows the subject's choice (a host template without
    /// HTML gives a message without HTML).
    fn pick(&self, rule: &str, kind: TemplateKind, locale: &str) -> Option<(&str, &TemplateSet)> {
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
        // Keys are written in one reused buffer: the chosen set's name is borrowed from it.
        let mut key = String::with_capacity(64);
        candidates.into_iter().find_map(|(origin, target, loc)| {
            set_key(origin, target, loc, &mut key);
            let set = self.sets.get(key.as_str())?;
            set.has(Part::Subject).then_some((set.name.as_str(), set))
        })
    }

    /// Renders the message of `event` for `client`.
    ///
    /// # Errors
    /// [`MessageError::NoRecipients`], [`MessageError::Render`],
    /// [`MessageError::UnsafeLink`] for a payment link that is not `http`, `https` or
    /// `mailto`, or what
    /// [`Message::check_headers`] finds: [`MessageError::InvalidAddress`] naming the contact or
    /// list, [`MessageError::HeaderInjection`] for a subject, name, address or attachment
    /// reference with a line break.
    pub fn render(
        &self,
        event: &Event,
        client: &Client,
        options: &RenderOptions,
    ) -> Result<Message, MessageError> {
        if let Some(link) = options.payment_link.as_deref() {
            if !crate::model::client::is_safe_link(link) {
                return Err(MessageError::UnsafeLink {
                    value: link.to_owned(),
                });
            }
        }
        let kind = context::kind_of(event);
        let locale: &str = &event.locale;
        let (base, set) =
            self.pick(event.rule.as_str(), kind, locale)
                .ok_or_else(|| MessageError::Render {
                    template: format!("{} ({locale})", kind.name()),
                    message: "no template".into(),
                })?;
        let totals = context::totals(event, context::day_of(event, options))?;
        let (subject, text, html) = match self.render_compiled(set, event, client, options, &totals) {
            Some(parts) => parts,
            None => self.render_handlebars(base, set.has(Part::Html), event, client, options, &totals)?,
        };
        let subject = subject.trim().to_owned();

        if event.recipients.is_empty() {
            return Err(MessageError::NoRecipients {
                key: event.key.clone(),
            });
        }
        let p = &self.policy;
        let resolved = crate::policy::Resolved::new(p, client);
        let message = Message {
            key: event.key.clone(),
            from: (!p.company.email.is_empty()).then(|| mailbox(Some(&p.company.name), &p.company.email)),
            to: event
                .recipients
                .iter()
                .map(|r| mailbox(Some(&r.name), &r.email))
                .collect(),
            cc: mailboxes(resolved.cc().value),
            bcc: mailboxes(resolved.bcc().value),
            reply_to: mailboxes(resolved.reply_to().value),
            subject,
            text,
            html,
            attachments: event
                .items
                .iter()
                .flat_map(|i| i.attachments.iter().cloned())
                .collect(),
            locale: locale.to_owned(),
        };
        message.check_headers()?;
        Ok(message)
    }
}

type Parts = (String, String, Option<String>);

impl Messages {
    /// The parts through the compiled templates: `None` when one of them is not in the
    /// subset they cover, or reads a field of a missing value.
    fn render_compiled(
        &self,
        set: &TemplateSet,
        event: &Event,
        client: &Client,
        options: &RenderOptions,
        totals: &context::Totals,
    ) -> Option<Parts> {
        let get = |part: Part| set.compiled[part.index()].as_ref();
        let (subject_t, text_t) = (get(Part::Subject)?, get(Part::Text)?);
        let html_t = if set.has(Part::Html) {
            Some(get(Part::Html)?)
        } else {
            None
        };
        let data = compiled::Data::new(event, client, &self.policy, options, totals.clone());
        let mut subject = String::with_capacity(96);
        subject_t.render(&data, false, &mut subject)?;
        let mut text = String::with_capacity(1024);
        text_t.render(&data, false, &mut text)?;
        let html = match html_t {
            Some(t) => {
                let mut html = String::with_capacity(4096);
                t.render(&data, true, &mut html)?;
                Some(html)
            }
            None => None,
        };
        Some((subject, text, html))
    }

    /// The parts through handlebars, from the event's JSON document.
    fn render_handlebars(
        &self,
        base: &str,
        has_html: bool,
        event: &Event,
        client: &Client,
        options: &RenderOptions,
        totals: &context::Totals,
    ) -> Result<Parts, MessageError> {
        // One context for the three parts: rendering from a `Context` does not serialize the
        // data again for each template.
        let data = Context::from(context::build(event, client, &self.policy, options, totals));
        let run = |reg: &Handlebars<'static>, part: Part| {
            let name = part_name(base, part);
            reg.render_with_context(&name, &data)
                .map_err(|e| MessageError::Render {
                    template: name,
                    message: e.to_string(),
                })
        };
        let subject = run(&self.text, Part::Subject)?;
        let text = run(&self.text, Part::Text)?;
        let html = if has_html {
            Some(run(&self.html, Part::Html)?)
        } else {
            None
        };
        Ok((subject, text, html))
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

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use chrono::{Duration, NaiveDate, TimeZone as _, Utc};

    use super::*;
    use crate::{
        Anchor, ClientOverrides, Contact, Horizon, Item, ItemKind, LateFee, Planner, Rule, StandingRule,
        StatementRule, TemplateSpec, TimeZone,
    };

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn money(text: &str, code: &str) -> Money {
        Money::parse(text, Currency::from_code(code).unwrap()).unwrap()
    }

    /// Host templates that use every construct of the compiled subset.
    fn host_templates() -> Vec<TemplateSpec> {
        let spec = |kind, locale: &str, subject: &str, text: &str, html: Option<&str>| TemplateSpec {
            rule: None,
            kind: Some(kind),
            locale: locale.into(),
            subject: subject.into(),
            text: text.into(),
            html: html.map(Into::into),
        };
        vec![
            spec(
                TemplateKind::Overdue,
                "fr",
                "{{rule}} {{key}} {{kind}} {{occurrence}}/{{count}} {{send_on}}",
                "{{#unless payment_link}}sans lien{{else}}{{payment_link}}{{/unless}}\n\
                 {{#each items}}\n{{id}} {{kind}} {{issued_on}} {{date issued_on}} {{due_on}} \
                 {{total.amount}} {{total.currency}} {{money paid}} {{money late_fee}} \
                 {{days_until_due}} {{days_past_due}} {{overdue}} {{occurrence}}\n{{else}}none{{/each}}\n\
                 {{item.balance.amount}} {{amount_due.amount}} {{money amount_due}} {{money late_fee}}\n\
                 {{#if item}}has item{{/if}} {{#if totals}}{{#each totals}}{{currency}}={{overdue.amount}}{{/each}}{{/if}}\n\
                 {{contact.email}} {{client.id}} {{reply_to}} {{locale}} {{company.email}}\n\
                 {{statement.period}} {{statement.overdue_only}} {{date statement.period}} {{date send_on}}\n\
                 {{standing.state}} {{standing.days_overdue}} {{standing.closing_soon_after_days}} \
                 {{standing.closed_after_days}} {{standing.oldest_item}}{{! a comment }}",
                Some(
                    "<p>{{{payment_instructions}}}</p>{{payment_instructions}}\n\
                     {{#each items}}\n  <li>{{number}}</li>\n{{/each}}\n\
                     {{#if late_fee}}{{{money late_fee}}}{{else}}-{{/if}}",
                ),
            ),
            spec(
                TemplateKind::Statement,
                "fr",
                "{{#if statement.overdue_only}}vencidos{{else if late_fee}}recargo{{else}}todo{{/if}}",
                "{{#each totals}}{{money balance}} / {{money overdue}}\n{{/each}}",
                None,
            ),
        ]
    }

    fn policy() -> Policy {
        let mut overdue = Rule::new("overdue".parse().unwrap(), Anchor::Due, 3).repeat(7, 3);
        overdue.late_fee = Some(LateFee {
            fixed: vec![money("1000", "CLP")],
            basis_points: 150,
            cap: vec![money("50000", "CLP")],
        });
        let mut p = Policy::new(TimeZone::from_name("America/Santiago").unwrap())
            .with_rule(Rule::new("issued".parse().unwrap(), Anchor::Issued, 0))
            .with_rule(Rule::new("due-soon".parse().unwrap(), Anchor::Due, -5))
            .with_rule(Rule::new("due-today".parse().unwrap(), Anchor::Due, 0))
            .with_rule(overdue)
            .with_rule(Rule::new("grouped".parse().unwrap(), Anchor::Due, 20).grouped())
            .with_rule(Rule::pending_action("pending".parse().unwrap()))
            .with_rule(Rule::thank_you("thanks".parse().unwrap()))
            .with_statement(StatementRule::new(
                "estado".parse().unwrap(),
                "FREQ=MONTHLY;BYMONTHDAY=1",
                d(2026, 1, 1),
            ))
            .with_statement(
                StatementRule::new(
                    "vencidos".parse().unwrap(),
                    "FREQ=MONTHLY;BYMONTHDAY=15",
                    d(2026, 1, 1),
                )
                .overdue_only(),
            )
            .with_standing(StandingRule::new(30, 60));
        p.company.name = "Servicios <Andinos> & \"Cía\"".into();
        p.company.phone = "+56 2 2345 6789".into();
        p.payment_instructions = "Banco = 'Ejemplo'\nCuenta <12-345>".into();
        p.reply_to = vec!["pagos@andinos.example".into()];
        p.templates = host_templates();
        p
    }

    fn clients() -> Vec<Client> {
        let mut out = Vec::new();
        for (i, locale) in ["es-CL", "en-US", "es-ES", "es-MX", "fr", "pt-BR"]
            .iter()
            .enumerate()
        {
            let mut c = Client::new(format!("c{i}").parse().unwrap(), format!("Client <{i}> & co"))
                .with_locale(*locale)
                .with_contact(Contact::new(
                    format!("Ana \"{i}\" O'Hara"),
                    format!("ana{i}@c.example"),
                ));
            if i % 2 == 1 {
                c = c.with_overrides(ClientOverrides {
                    reply_to: Some(vec![format!("r{i}@c.example"), "x@c.example".into()]),
                    ..ClientOverrides::default()
                });
            }
            out.push(c);
        }
        out
    }

    fn items(clients: &[Client]) -> Vec<Item> {
        let mut out = Vec::new();
        for (ci, c) in clients.iter().enumerate() {
            for k in 0..8u32 {
                let id = format!("{}-{k}", c.id);
                let issued = d(2026, 1, 5) + Duration::days(i64::from(k * 9 + ci as u32));
                let (code, total) = match k % 3 {
                    0 => ("CLP", "1190000"),
                    1 => ("USD", "1250.50"),
                    _ => ("EUR", "99.99"),
                };
                let mut item = Item::invoice(id.parse().unwrap(), c.id.clone(), issued, money(total, code))
                    .with_number(format!("N°<{k}>"));
                if k % 4 == 1 {
                    item = item.paid(money("100", code), issued + Duration::days(2));
                }
                if k == 7 {
                    item = item.paid(money(total, code), issued + Duration::days(40));
                }
                if k == 5 {
                    item = item.due(issued + Duration::days(10));
                }
                out.push(item);
            }
            for (k, kind) in [
                ItemKind::Proposal,
                ItemKind::Signature,
                ItemKind::Approval,
                ItemKind::Form,
                ItemKind::Message,
            ]
            .into_iter()
            .enumerate()
            {
                out.push(Item::action(
                    format!("{}-a{k}", c.id).parse().unwrap(),
                    c.id.clone(),
                    kind,
                    d(2026, 2, 1) + Duration::days(k as i64 * 11),
                ));
            }
        }
        out
    }

    #[test]
    fn every_shipped_template_compiles() {
        let messages = Messages::new(&Policy::new(TimeZone::UTC)).unwrap();
        let parts = [Part::Subject, Part::Text, Part::Html];
        let missing: Vec<_> = messages
            .sets
            .iter()
            .flat_map(|(base, set)| {
                parts
                    .into_iter()
                    .filter(|&p| set.has(p) && set.compiled[p.index()].is_none())
                    .map(move |p| part_name(base, p))
            })
            .collect();
        assert!(missing.is_empty(), "{missing:?}");
    }

    #[test]
    fn compiled_templates_render_the_bytes_handlebars_renders() {
        let policy = policy();
        let messages = Messages::new(&policy).unwrap();
        let planner = Planner::new(&policy).unwrap();
        let clients = clients();
        let items = items(&clients);
        let link = RenderOptions::default().with_payment_link("https://pay.example/?a=1&b=<2>");
        let mut compared = 0;
        let mut kinds = HashSet::new();
        for day in [d(2026, 1, 20), d(2026, 3, 1), d(2026, 4, 15), d(2026, 6, 1)] {
            let now = Utc.from_utc_datetime(&day.and_hms_opt(15, 0, 0).unwrap());
            let plan = planner
                .plan(&clients, &items, &[], now, Horizon::days(45))
                .unwrap();
            for event in plan.events() {
                let client = clients.iter().find(|c| c.id == event.client).unwrap();
                let kind = context::kind_of(event);
                let (base, set) = messages.pick(event.rule.as_str(), kind, &event.locale).unwrap();
                let has_html = set.has(Part::Html);
                for options in [&RenderOptions::default(), &link] {
                    let totals = context::totals(event, context::day_of(event, options)).unwrap();
                    let fast = messages
                        .render_compiled(set, event, client, options, &totals)
                        .unwrap_or_else(|| panic!("{base} did not render compiled"));
                    let slow = messages
                        .render_handlebars(base, has_html, event, client, options, &totals)
                        .unwrap();
                    assert_eq!(fast, slow, "{base} for {}", event.key);
                    compared += 1;
                }
                kinds.insert((kind.name(), base.starts_with("kind")));
            }
        }
        assert!(compared > 500, "{compared}");
        assert!(kinds.len() >= 16, "{kinds:?}");
    }

    #[test]
    fn a_field_of_a_missing_value_is_left_to_handlebars_strict_mode() {
        let mut policy =
            Policy::new(TimeZone::UTC).with_rule(Rule::pending_action("pending".parse().unwrap()));
        policy.templates = vec![TemplateSpec {
            rule: None,
            kind: Some(TemplateKind::PendingProposal),
            locale: "en".into(),
            subject: "Proposal {{item.number}}".into(),
            text: "Worth {{item.total.amount}}".into(),
            html: None,
        }];
        let messages = Messages::new(&policy).unwrap();
        let planner = Planner::new(&policy).unwrap();
        let client = Client::new("acme".parse().unwrap(), "ACME")
            .with_locale("en")
            .with_contact(Contact::new("Ana", "ana@acme.example"));
        let item = Item::action(
            "P-1".parse().unwrap(),
            client.id.clone(),
            ItemKind::Proposal,
            d(2026, 3, 2),
        );
        let now = Utc.with_ymd_and_hms(2026, 3, 5, 15, 0, 0).unwrap();
        let event = planner
            .preview(&"pending".parse().unwrap(), &client, &item, now)
            .unwrap();
        let (_, set) = messages
            .pick("pending", TemplateKind::PendingProposal, "en")
            .unwrap();
        let options = RenderOptions::default();
        let totals = context::totals(&event, event.send_on).unwrap();
        assert_eq!(
            messages.render_compiled(set, &event, &client, &options, &totals),
            None
        );
        assert!(matches!(
            messages.render(&event, &client, &options),
            Err(MessageError::Render { .. })
        ));
    }
    /// A line break of each kind that some reader takes for the end of a header line.
    const BREAKS: [&str; 8] = [
        "\r\n", "\n", "\r", "\u{0B}", "\u{0C}", "\u{85}", "\u{2028}", "\u{2029}",
    ];

    /// The policy, client and item of the header checks: a company with an address, a rule
    /// whose subject names the item number and one whose subject names the client.
    fn header_case() -> (Policy, Client, Item) {
        let mut policy = Policy::new(TimeZone::UTC)
            .with_rule(Rule::new("due-today".parse().unwrap(), Anchor::Due, 0))
            .with_rule(Rule::new("named".parse().unwrap(), Anchor::Due, 0));
        policy.company.name = "Servicios Andinos".into();
        policy.company.email = "cobranza@andinos.example".into();
        policy.templates = vec![TemplateSpec {
            rule: Some("named".parse().unwrap()),
            kind: None,
            locale: "en".into(),
            subject: "Account of {{client.name}}".into(),
            text: "x".into(),
            html: None,
        }];
        let client = Client::new("acme".parse().unwrap(), "ACME")
            .with_locale("en")
            .with_contact(Contact::new("Ana", "ana@acme.example"));
        let item = Item::invoice(
            "F-1".parse().unwrap(),
            client.id.clone(),
            d(2026, 3, 2),
            money("1000", "CLP"),
        )
        .due(d(2026, 4, 1));
        (policy, client, item)
    }

    /// Renders `rule`'s message with the case as `change` leaves it (the event is planned
    /// with the untouched policy: only the messages see the changed one).
    fn render_case(
        rule: &str,
        change: impl FnOnce(&mut Policy, &mut Client, &mut Item),
    ) -> Result<Message, MessageError> {
        let (clean, clean_client, clean_item) = header_case();
        let (mut policy, mut client, mut item) = (clean.clone(), clean_client.clone(), clean_item.clone());
        change(&mut policy, &mut client, &mut item);
        let now = Utc.with_ymd_and_hms(2026, 4, 1, 15, 0, 0).unwrap();
        // Planned for the untouched client and item (a planner refuses a line break in a
        // name, an address, a number or an attachment): the event carries the changed
        // contacts, number and attachments, as one built by hand would.
        let mut event = Planner::new(&clean)
            .unwrap()
            .preview(&rule.parse().unwrap(), &clean_client, &clean_item, now)
            .unwrap();
        for member in &mut event.items {
            member.number = item.number.clone();
            member.attachments = item.attachments.clone().into_boxed_slice();
        }
        event.recipients = client
            .contacts
            .iter()
            .map(|c| crate::plan::Recipient {
                name: c.name.clone(),
                email: c.email.clone(),
                role: c.role,
            })
            .collect();
        Messages::new(&policy)
            .unwrap()
            .render(&event, &client, &RenderOptions::default())
    }

    #[test]
    fn every_header_field_refuses_every_line_break_naming_the_field() {
        type Change = fn(&mut Policy, &mut Client, &mut Item, &str);
        let cases: [(&str, &str, Change); 12] = [
            ("named", "subject", |_, c, _, v| {
                c.name = format!("ACME{v}Bcc: x@evil.example")
            }),
            ("due-today", "subject", |_, _, i, v| {
                i.number = format!("F-1{v}Bcc: x@evil.example").into()
            }),
            ("due-today", "to (contact ", |_, c, _, v| {
                c.contacts[0].name = format!("Ana{v}Bcc: x@evil.example");
            }),
            ("due-today", "from", |p, _, _, v| {
                p.company.name = format!("Andinos{v}Bcc: x@evil.example")
            }),
            ("due-today", "from", |p, _, _, v| {
                p.company.email = format!("cobranza@andinos.example{v}")
            }),
            ("due-today", "reply_to", |p, _, _, v| {
                p.reply_to = vec![format!("pagos@andinos.example{v}X: 1")]
            }),
            ("due-today", "reply_to", |_, c, _, v| {
                c.overrides.reply_to = Some(vec![format!("{v}pagos@andinos.example")]);
            }),
            ("due-today", "cc", |p, _, _, v| {
                p.cc = vec![format!("copia@andinos.example{v}Bcc: x@evil.example")]
            }),
            ("due-today", "cc", |_, c, _, v| {
                c.overrides.cc = Some(vec![format!("copia{v}@andinos.example")])
            }),
            ("due-today", "bcc", |p, _, _, v| {
                p.bcc = vec![format!("audit@andinos.example{v}")]
            }),
            ("due-today", "bcc", |_, c, _, v| {
                c.overrides.bcc = Some(vec![format!("audit{v}@andinos.example")])
            }),
            ("due-today", "attachments[1]", |_, _, i, v| {
                i.attachments = vec!["F-1.pdf".into(), format!("F-1.pdf{v}Bcc: x@evil.example")];
            }),
        ];
        for (rule, _, _) in &cases {
            render_case(rule, |_, _, _| {}).unwrap();
        }
        for (rule, field, change) in cases {
            for brk in BREAKS {
                let got = render_case(rule, |p, c, i| change(p, c, i, brk));
                match got {
                    Err(MessageError::HeaderInjection { field: f, value }) => {
                        assert!(f.starts_with(field), "{field} with {brk:?}: named {f:?}");
                        assert!(value.contains(brk), "{field} with {brk:?}: {value:?}");
                    }
                    other => panic!("{field} with {brk:?}: {other:?}"),
                }
            }
        }
    }

    #[test]
    fn a_message_changed_by_hand_or_sent_to_an_operator_is_checked_in_the_same_place() {
        let clean = render_case("due-today", |_, _, _| {}).unwrap();
        assert_eq!(clean.check_headers(), Ok(()));
        for brk in BREAKS {
            let mut m = clean.clone();
            m.attachments = vec![format!("F-1.pdf{brk}Bcc: x@evil.example")];
            assert!(matches!(
                m.check_headers(),
                Err(MessageError::HeaderInjection { field, .. }) if field == "attachments[0]"
            ));
            let mut m = clean.clone();
            m.subject = format!("Hi{brk}Bcc: x@evil.example");
            assert!(matches!(
                m.check_headers(),
                Err(MessageError::HeaderInjection { field, .. }) if field == "subject"
            ));
            assert!(matches!(
                m.for_operator("operador@andinos.example"),
                Err(MessageError::HeaderInjection { field, .. }) if field == "subject"
            ));
            assert!(matches!(
                clean.for_operator(&format!("operador@andinos.example{brk}Bcc: x@evil.example")),
                Err(MessageError::HeaderInjection { field, .. }) if field == "to"
            ));
        }
        // Blanks around an address are dropped, as before; an address that is not one is
        // still an invalid address, naming the field.
        let m = clean.for_operator("  operador@andinos.example\t").unwrap();
        assert_eq!(m.to[0].email, "operador@andinos.example");
        assert_eq!(
            clean.for_operator("operador").unwrap_err(),
            MessageError::InvalidAddress {
                field: "to".into(),
                value: "operador".into()
            }
        );
        // Breaks at the ends of a rendered subject are trimmed away with the blanks.
        for brk in BREAKS {
            let m = render_case("named", |_, c, _| c.name = format!("ACME{brk}")).unwrap();
            assert_eq!(m.subject, "Account of ACME");
        }
    }
}
