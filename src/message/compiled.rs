//! Templates compiled to a tree that renders straight from the event, without handlebars.
//!
//! Handlebars renders from JSON: every message builds a JSON document of the event (a few
//! hundred small allocations) and walks it by name. The templates the crate ships, and most
//! host templates, use a small part of the language: variables, `{{money x}}`, `{{date x}}`,
//! `{{#if}}`/`{{#unless}}` with `{{else}}`, and `{{#each items}}`/`{{#each totals}}`. Such a
//! template is compiled here from the syntax tree handlebars parsed (so whitespace and
//! standalone lines are handled by handlebars' own rules), with every name resolved to a
//! field once, and rendered by reading the event's fields directly.
//!
//! Anything else (other helpers, `this`, `@index`, `../`, partials, `{{#with}}`) leaves the
//! template to handlebars, and so does a render that would read a field of a missing value
//! (strict mode's error then comes from handlebars itself). Both paths give the same bytes:
//! the tests render every shipped template both ways.

use chrono::NaiveDate;
use handlebars::template::{HelperTemplate, Parameter, Template, TemplateElement};
use handlebars::{Path, PathSeg};

use super::context::{self, RenderOptions, Totals};
use super::format::Conventions;
use crate::model::client::Client;
use crate::money::Money;
use crate::plan::{Event, EventItem};
use crate::policy::{Policy, TemplateKind};

/// A part of a money value: `x`, `x.currency` or `x.amount`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MoneyPart {
    Whole,
    Currency,
    Amount,
}

/// A field of an item (`item.x` at the top, `x` inside `{{#each items}}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ItemField {
    Id,
    Number,
    Kind,
    IssuedOn,
    DueOn,
    Total(MoneyPart),
    Paid(MoneyPart),
    Balance(MoneyPart),
    LateFee(MoneyPart),
    DaysUntilDue,
    DaysPastDue,
    Overdue,
    Occurrence,
}

/// A field of one currency's totals (inside `{{#each totals}}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TotalField {
    Currency,
    Balance(MoneyPart),
    Overdue(MoneyPart),
}

/// A top-level field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RootField {
    Locale,
    Kind,
    Rule,
    Key,
    SendOn,
    Occurrence,
    Count,
    ClientId,
    ClientName,
    ContactName,
    ContactEmail,
    /// `item` itself (only as a condition).
    Item,
    FirstItem(ItemField),
    /// `items` (only as a condition or a list).
    Items,
    AmountDue(MoneyPart),
    LateFee(MoneyPart),
    /// `totals` (only as a condition or a list).
    Totals,
    CompanyName,
    CompanyAddress,
    CompanyPhone,
    CompanyWebsite,
    CompanyEmail,
    LogoUrl,
    LogoAlignment,
    PrimaryColor,
    SecondaryColor,
    PaymentInstructions,
    ReplyTo,
    PaymentLink,
    StatementPeriod,
    StatementOverdueOnly,
    StandingState,
    StandingDaysOverdue,
    StandingClosingSoonAfter,
    StandingClosedAfter,
    StandingOldestItem,
}

/// A name resolved in its scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Var {
    Root(RootField),
    Item(ItemField),
    Total(TotalField),
}

/// What a list block iterates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum List {
    Items,
    Totals,
}

/// Which scope names resolve in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    Root,
    Item,
    Total,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Node {
    Text(String),
    Var {
        var: Var,
        escape: bool,
    },
    Money(Var),
    Date(Var),
    If {
        var: Var,
        negate: bool,
        then: Vec<Node>,
        otherwise: Vec<Node>,
    },
    Each {
        list: List,
        body: Vec<Node>,
        otherwise: Vec<Node>,
    },
}

/// A template in the subset this module renders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Compiled {
    nodes: Vec<Node>,
}

impl Compiled {
    /// The template compiled, or `None` when it uses anything outside the subset.
    pub(crate) fn compile(tpl: &Template) -> Option<Self> {
        Some(Self {
            nodes: elements(&tpl.elements, Scope::Root)?,
        })
    }

    /// Renders into `out`; `None` when a name reads a field of a missing value (handlebars
    /// then renders it, to give strict mode's error).
    pub(crate) fn render(&self, data: &Data<'_>, html: bool, out: &mut String) -> Option<()> {
        run(&self.nodes, data, Elem::Root, html, out)
    }
}

fn elements(els: &[TemplateElement], scope: Scope) -> Option<Vec<Node>> {
    let mut nodes = Vec::with_capacity(els.len());
    for el in els {
        match el {
            TemplateElement::RawString(s) => nodes.push(Node::Text(s.clone())),
            TemplateElement::Comment(_) => {}
            TemplateElement::Expression(h) => nodes.push(expression(h, scope, true)?),
            TemplateElement::HtmlExpression(h) => nodes.push(expression(h, scope, false)?),
            TemplateElement::HelperBlock(h) => nodes.push(block(h, scope)?),
            _ => return None,
        }
    }
    Some(nodes)
}

fn expression(h: &HelperTemplate, scope: Scope, escape: bool) -> Option<Node> {
    if !h.hash.is_empty() || h.block_param.is_some() {
        return None;
    }
    match (&h.name, h.params.as_slice()) {
        (Parameter::Path(p), []) => {
            let var = resolve(p, scope)?;
            scalar(var).then_some(Node::Var { var, escape })
        }
        (Parameter::Name(n), [Parameter::Path(p)]) if n == "money" => {
            let var = resolve(p, scope)?;
            is_money(var).then_some(Node::Money(var))
        }
        (Parameter::Name(n), [Parameter::Path(p)]) if n == "date" => {
            let var = resolve(p, scope)?;
            scalar(var).then_some(Node::Date(var))
        }
        _ => None,
    }
}

fn block(h: &HelperTemplate, scope: Scope) -> Option<Node> {
    if !h.hash.is_empty() || h.block_param.is_some() {
        return None;
    }
    let (Parameter::Name(name), [Parameter::Path(p)]) = (&h.name, h.params.as_slice()) else {
        return None;
    };
    let var = resolve(p, scope)?;
    let inverse = |s| {
        h.inverse
            .as_ref()
            .map_or(Some(Vec::new()), |t| elements(&t.elements, s))
    };
    match name.as_str() {
        "if" | "unless" => Some(Node::If {
            var,
            negate: name == "unless",
            then: h
                .template
                .as_ref()
                .map_or(Some(Vec::new()), |t| elements(&t.elements, scope))?,
            otherwise: inverse(scope)?,
        }),
        "each" => {
            let (list, inner) = match var {
                Var::Root(RootField::Items) => (List::Items, Scope::Item),
                Var::Root(RootField::Totals) => (List::Totals, Scope::Total),
                _ => return None,
            };
            Some(Node::Each {
                list,
                body: h
                    .template
                    .as_ref()
                    .map_or(Some(Vec::new()), |t| elements(&t.elements, inner))?,
                otherwise: inverse(scope)?,
            })
        }
        _ => None,
    }
}

/// Whether a variable writes as text (not a list or a record).
fn scalar(var: Var) -> bool {
    !matches!(
        var,
        Var::Root(RootField::Item | RootField::Items | RootField::Totals)
    ) && !is_money(var)
}

/// Whether a variable is a whole money value.
fn is_money(var: Var) -> bool {
    use MoneyPart::Whole;
    matches!(
        var,
        Var::Root(
            RootField::AmountDue(Whole)
                | RootField::LateFee(Whole)
                | RootField::FirstItem(
                    ItemField::Total(Whole)
                        | ItemField::Paid(Whole)
                        | ItemField::Balance(Whole)
                        | ItemField::LateFee(Whole)
                )
        ) | Var::Item(
            ItemField::Total(Whole)
                | ItemField::Paid(Whole)
                | ItemField::Balance(Whole)
                | ItemField::LateFee(Whole)
        ) | Var::Total(TotalField::Balance(Whole) | TotalField::Overdue(Whole))
    )
}

fn resolve(p: &Path, scope: Scope) -> Option<Var> {
    let Path::Relative((segs, _)) = p else {
        return None;
    };
    let mut names = Vec::with_capacity(segs.len());
    for seg in segs {
        match seg {
            PathSeg::Named(n) if n != "this" => names.push(n.as_str()),
            _ => return None,
        }
    }
    match scope {
        Scope::Root => root_field(&names).map(Var::Root),
        Scope::Item => item_field(&names).map(Var::Item),
        Scope::Total => total_field(&names).map(Var::Total),
    }
}

fn money_part(rest: &[&str]) -> Option<MoneyPart> {
    match rest {
        [] => Some(MoneyPart::Whole),
        ["currency"] => Some(MoneyPart::Currency),
        ["amount"] => Some(MoneyPart::Amount),
        _ => None,
    }
}

fn item_field(names: &[&str]) -> Option<ItemField> {
    use ItemField as I;
    match names {
        ["id"] => Some(I::Id),
        ["number"] => Some(I::Number),
        ["kind"] => Some(I::Kind),
        ["issued_on"] => Some(I::IssuedOn),
        ["due_on"] => Some(I::DueOn),
        ["total", rest @ ..] => money_part(rest).map(I::Total),
        ["paid", rest @ ..] => money_part(rest).map(I::Paid),
        ["balance", rest @ ..] => money_part(rest).map(I::Balance),
        ["late_fee", rest @ ..] => money_part(rest).map(I::LateFee),
        ["days_until_due"] => Some(I::DaysUntilDue),
        ["days_past_due"] => Some(I::DaysPastDue),
        ["overdue"] => Some(I::Overdue),
        ["occurrence"] => Some(I::Occurrence),
        _ => None,
    }
}

fn total_field(names: &[&str]) -> Option<TotalField> {
    match names {
        ["currency"] => Some(TotalField::Currency),
        ["balance", rest @ ..] => money_part(rest).map(TotalField::Balance),
        ["overdue", rest @ ..] => money_part(rest).map(TotalField::Overdue),
        _ => None,
    }
}

fn root_field(names: &[&str]) -> Option<RootField> {
    use RootField as R;
    match names {
        ["locale"] => Some(R::Locale),
        ["kind"] => Some(R::Kind),
        ["rule"] => Some(R::Rule),
        ["key"] => Some(R::Key),
        ["send_on"] => Some(R::SendOn),
        ["occurrence"] => Some(R::Occurrence),
        ["count"] => Some(R::Count),
        ["client", "id"] => Some(R::ClientId),
        ["client", "name"] => Some(R::ClientName),
        ["contact", "name"] => Some(R::ContactName),
        ["contact", "email"] => Some(R::ContactEmail),
        ["item"] => Some(R::Item),
        ["item", rest @ ..] => item_field(rest).map(R::FirstItem),
        ["items"] => Some(R::Items),
        ["amount_due", rest @ ..] => money_part(rest).map(R::AmountDue),
        ["late_fee", rest @ ..] => money_part(rest).map(R::LateFee),
        ["totals"] => Some(R::Totals),
        ["company", "name"] => Some(R::CompanyName),
        ["company", "address"] => Some(R::CompanyAddress),
        ["company", "phone"] => Some(R::CompanyPhone),
        ["company", "website"] => Some(R::CompanyWebsite),
        ["company", "email"] => Some(R::CompanyEmail),
        ["branding", "logo_url"] => Some(R::LogoUrl),
        ["branding", "logo_alignment"] => Some(R::LogoAlignment),
        ["branding", "primary_color"] => Some(R::PrimaryColor),
        ["branding", "secondary_color"] => Some(R::SecondaryColor),
        ["payment_instructions"] => Some(R::PaymentInstructions),
        ["reply_to"] => Some(R::ReplyTo),
        ["payment_link"] => Some(R::PaymentLink),
        ["statement", "period"] => Some(R::StatementPeriod),
        ["statement", "overdue_only"] => Some(R::StatementOverdueOnly),
        ["standing", "state"] => Some(R::StandingState),
        ["standing", "days_overdue"] => Some(R::StandingDaysOverdue),
        ["standing", "closing_soon_after_days"] => Some(R::StandingClosingSoonAfter),
        ["standing", "closed_after_days"] => Some(R::StandingClosedAfter),
        ["standing", "oldest_item"] => Some(R::StandingOldestItem),
        _ => None,
    }
}

/// Everything one message reads, gathered once for its three parts.
pub(crate) struct Data<'a> {
    event: &'a Event,
    client: &'a Client,
    policy: &'a Policy,
    options: &'a RenderOptions,
    /// The day day counts are taken on.
    day: NaiveDate,
    kind: TemplateKind,
    conventions: Conventions,
    totals: Totals,
    reply_to: String,
    period: Option<String>,
}

impl<'a> Data<'a> {
    pub(crate) fn new(
        event: &'a Event,
        client: &'a Client,
        policy: &'a Policy,
        options: &'a RenderOptions,
        totals: Totals,
    ) -> Self {
        let conventions = Conventions::of(&event.locale);
        Self {
            event,
            client,
            policy,
            options,
            day: context::day_of(event, options),
            kind: context::kind_of(event),
            conventions,
            totals,
            reply_to: context::reply_to(client, policy),
            period: event.statement.as_ref().map(|s| conventions.month(s.period)),
        }
    }
}

/// The element a name inside a list block reads.
#[derive(Clone, Copy)]
enum Elem<'a> {
    Root,
    Item(&'a EventItem),
    Total(&'a (crate::money::Currency, Money, Money)),
}

/// A value as handlebars would see it in the JSON document.
enum Val<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Str(&'a str),
    Text(String),
    Date(NaiveDate),
    Money(Money),
    /// A non-empty record (`item`).
    Record,
    /// A list of this length.
    List(usize),
}

impl Val<'_> {
    fn truthy(&self) -> bool {
        match self {
            Val::Null => false,
            Val::Bool(b) => *b,
            Val::Int(n) => *n != 0,
            Val::Str(s) => !s.is_empty(),
            Val::Text(s) => !s.is_empty(),
            Val::Date(_) | Val::Money(_) | Val::Record => true,
            Val::List(n) => *n > 0,
        }
    }
}

fn opt<'a, T>(v: Option<T>, f: impl FnOnce(T) -> Val<'a>) -> Val<'a> {
    v.map_or(Val::Null, f)
}

/// A money value or one of its parts; `None` for a part of a missing value.
fn money<'a>(m: Option<Money>, part: MoneyPart) -> Option<Val<'a>> {
    match (m, part) {
        (m, MoneyPart::Whole) => Some(opt(m, Val::Money)),
        (None, _) => None,
        (Some(m), MoneyPart::Currency) => Some(Val::Str(m.currency().code())),
        (Some(m), MoneyPart::Amount) => Some(Val::Text(m.decimal())),
    }
}

fn item_value<'a>(ei: &'a EventItem, f: ItemField, send_on: NaiveDate) -> Option<Val<'a>> {
    Some(match f {
        ItemField::Id => Val::Str(ei.item.as_str()),
        ItemField::Number => Val::Str(&ei.number),
        ItemField::Kind => Val::Str(context::kind_name(ei.kind)),
        ItemField::IssuedOn => Val::Date(ei.issued_on),
        ItemField::DueOn => opt(ei.due_on, Val::Date),
        ItemField::Total(p) => money(ei.total, p)?,
        ItemField::Paid(p) => money(context::paid(ei), p)?,
        ItemField::Balance(p) => money(ei.balance, p)?,
        ItemField::LateFee(p) => money(ei.late_fee, p)?,
        ItemField::DaysUntilDue => opt(ei.due_on, |d| Val::Int(context::days(send_on, d))),
        ItemField::DaysPastDue => opt(ei.due_on, |d| Val::Int(context::days(d, send_on))),
        ItemField::Overdue => Val::Bool(ei.due_on.is_some_and(|d| send_on > d)),
        ItemField::Occurrence => Val::Int(i64::from(ei.occurrence)),
    })
}

fn root_value<'a>(d: &'a Data<'a>, f: RootField) -> Option<Val<'a>> {
    use RootField as R;
    let e = d.event;
    let p = d.policy;
    let standing = e.standing.as_ref();
    Some(match f {
        R::Locale => Val::Str(&e.locale),
        R::Kind => Val::Str(d.kind.name()),
        R::Rule => Val::Str(e.rule.as_str()),
        R::Key => Val::Str(e.key.as_str()),
        R::SendOn => Val::Date(e.send_on),
        R::Occurrence => Val::Int(i64::from(e.occurrence)),
        R::Count => Val::Int(i64::from(e.count)),
        R::ClientId => Val::Str(d.client.id.as_str()),
        R::ClientName => Val::Str(&d.client.name),
        R::ContactName => Val::Str(
            e.recipients
                .first()
                .map_or(d.client.name.as_str(), |r| r.name.as_str()),
        ),
        R::ContactEmail => opt(e.recipients.first(), |r| Val::Str(&r.email)),
        R::Item => opt(e.items.first(), |_| Val::Record),
        R::FirstItem(f) => item_value(e.items.first()?, f, d.day)?,
        R::Items => Val::List(e.items.len()),
        R::AmountDue(part) => money(e.amount_due, part)?,
        R::LateFee(part) => money(e.late_fee, part)?,
        R::Totals => Val::List(d.totals.len()),
        R::CompanyName => Val::Str(&p.company.name),
        R::CompanyAddress => Val::Str(&p.company.address),
        R::CompanyPhone => Val::Str(&p.company.phone),
        R::CompanyWebsite => Val::Str(&p.company.website),
        R::CompanyEmail => Val::Str(&p.company.email),
        R::LogoUrl => Val::Str(&p.branding.logo_url),
        R::LogoAlignment => Val::Str(p.branding.logo_alignment.css()),
        R::PrimaryColor => Val::Str(&p.branding.primary_color),
        R::SecondaryColor => Val::Str(&p.branding.secondary_color),
        R::PaymentInstructions => Val::Str(&p.payment_instructions),
        R::ReplyTo => Val::Str(&d.reply_to),
        R::PaymentLink => opt(d.options.payment_link.as_deref(), Val::Str),
        R::StatementPeriod => opt(d.period.as_deref(), Val::Str),
        R::StatementOverdueOnly => Val::Bool(e.statement.as_ref().is_some_and(|s| s.overdue_only)),
        R::StandingState => opt(standing, |s| Val::Str(context::state_name(s.state))),
        R::StandingDaysOverdue => opt(standing, |s| Val::Int(s.days_overdue)),
        R::StandingClosingSoonAfter => opt(standing, |s| Val::Int(i64::from(s.closing_soon_after_days))),
        R::StandingClosedAfter => opt(standing, |s| Val::Int(i64::from(s.closed_after_days))),
        R::StandingOldestItem => opt(standing, |s| Val::Str(s.oldest_item.as_str())),
    })
}

fn value<'a>(d: &'a Data<'a>, elem: Elem<'a>, var: Var) -> Option<Val<'a>> {
    match (var, elem) {
        (Var::Root(f), _) => root_value(d, f),
        (Var::Item(f), Elem::Item(ei)) => item_value(ei, f, d.day),
        (Var::Total(f), Elem::Total((cur, balance, overdue))) => Some(match f {
            TotalField::Currency => Val::Str(cur.code()),
            TotalField::Balance(p) => money(Some(*balance), p)?,
            TotalField::Overdue(p) => money(Some(*overdue), p)?,
        }),
        _ => None,
    }
}

/// Appends `s`, escaped for HTML as handlebars escapes it when `html`.
fn put(out: &mut String, s: &str, html: bool) {
    if !html {
        out.push_str(s);
        return;
    }
    let mut rest = s;
    while let Some(at) = rest.find(['<', '>', '"', '&', '\'', '`', '=']) {
        out.push_str(&rest[..at]);
        let (c, tail) = rest[at..].split_at(1);
        out.push_str(match c {
            "<" => "&lt;",
            ">" => "&gt;",
            "\"" => "&quot;",
            "&" => "&amp;",
            "'" => "&#x27;",
            "`" => "&#x60;",
            _ => "&#x3D;",
        });
        rest = tail;
    }
    out.push_str(rest);
}

fn write_val(out: &mut String, v: &Val<'_>, escape: bool) {
    match v {
        Val::Null => {}
        Val::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Val::Int(n) => out.push_str(&n.to_string()),
        Val::Str(s) => put(out, s, escape),
        Val::Text(s) => put(out, s, escape),
        Val::Date(d) => out.push_str(&d.to_string()),
        Val::Money(_) | Val::Record => out.push_str("[object]"),
        Val::List(_) => {}
    }
}

fn run<'a>(nodes: &[Node], d: &'a Data<'a>, elem: Elem<'a>, html: bool, out: &mut String) -> Option<()> {
    for node in nodes {
        match node {
            Node::Text(s) => out.push_str(s),
            Node::Var { var, escape } => write_val(out, &value(d, elem, *var)?, *escape && html),
            Node::Money(var) => {
                if let Val::Money(m) = value(d, elem, *var)? {
                    put(out, &d.conventions.money(m), html);
                }
            }
            Node::Date(var) => match value(d, elem, *var)? {
                Val::Date(day) => put(out, &d.conventions.date(day), html),
                Val::Str(s) => date_text(out, d, s, html),
                Val::Text(s) => date_text(out, d, &s, html),
                _ => {}
            },
            Node::If {
                var,
                negate,
                then,
                otherwise,
            } => {
                let branch = if value(d, elem, *var)?.truthy() != *negate {
                    then
                } else {
                    otherwise
                };
                run(branch, d, elem, html, out)?;
            }
            Node::Each {
                list,
                body,
                otherwise,
            } => match list {
                List::Items if !d.event.items.is_empty() => {
                    for ei in &d.event.items {
                        run(body, d, Elem::Item(ei), html, out)?;
                    }
                }
                List::Totals if !d.totals.is_empty() => {
                    for t in &d.totals {
                        run(body, d, Elem::Total(t), html, out)?;
                    }
                }
                _ if otherwise.is_empty() => {}
                _ => run(otherwise, d, elem, html, out)?,
            },
        }
    }
    Some(())
}

/// `{{date x}}` of a text: the date in words if it is one, else the text.
fn date_text(out: &mut String, d: &Data<'_>, s: &str, html: bool) {
    match s.parse::<NaiveDate>() {
        Ok(day) => put(out, &d.conventions.date(day), html),
        Err(_) => put(out, s, html),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compiles(src: &str) -> bool {
        Compiled::compile(&Template::compile(src).unwrap()).is_some()
    }

    #[test]
    fn the_subset_compiles_and_the_rest_is_left_to_handlebars() {
        for ok in [
            "{{client.name}} {{money amount_due}} {{date item.due_on}} {{item.total.amount}}",
            "{{#each items}}{{number}} {{money balance}}{{else}}none{{/each}}",
            "{{#if item.late_fee}}{{money item.late_fee}}{{else}}none{{/if}}",
            "{{#unless payment_link}}no link{{/unless}}{{! a comment }}{{{payment_instructions}}}",
            "{{#each totals}}{{currency}} {{money overdue}}{{/each}}",
        ] {
            assert!(compiles(ok), "{ok}");
        }
        for other in [
            "{{#each items}}{{@index}}{{/each}}",
            "{{#each items}}{{../client.name}}{{/each}}",
            "{{#with company}}{{name}}{{/with}}",
            "{{#if (gt item.days_past_due 30)}}late{{/if}}",
            "{{item}}",
            "{{items}}",
            "{{money item.number}}",
            "{{#each client}}{{id}}{{/each}}",
            "{{lookup items 0}}",
            "{{#if item.due_on includeZero=true}}x{{/if}}",
            "{{this}}",
        ] {
            assert!(!compiles(other), "{other}");
        }
    }

    #[test]
    fn html_escaping_matches_handlebars() {
        let s = "<a href=\"x\">Tom & Jerry's `=`</a> ñandú";
        let mut out = String::new();
        put(&mut out, s, true);
        assert_eq!(out, handlebars::html_escape(s));
    }
}
