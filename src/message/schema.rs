//! The variables templates may name, and the load-time check that they name no others.
//!
//! Handlebars' strict mode fails `{{missing}}` at render time but lets `{{#if missing}}` pass
//! and renders null as empty; a typo would then ship silently. Walking each template's syntax
//! tree against this schema when the policy loads turns every unknown name into an error that
//! names the template and the variable.

use handlebars::template::{Parameter, Template, TemplateElement};
use handlebars::{Path, PathSeg};

/// One variable.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Field {
    /// Text, a number, a date (`YYYY-MM-DD`) or a flag.
    Value,
    /// A record with named fields.
    Object(&'static [(&'static str, Field)]),
    /// A list of records (for `{{#each}}`).
    List(&'static [(&'static str, Field)]),
}

use Field::{List, Object, Value};

/// Money: `{currency, amount}`; write it with `{{money x}}`.
pub(crate) const MONEY: Field = Object(&[("currency", Value), ("amount", Value)]);

/// One item in a message.
pub(crate) const ITEM: &[(&str, Field)] = &[
    ("id", Value),
    ("number", Value),
    ("kind", Value),
    ("issued_on", Value),
    ("due_on", Value),
    ("total", MONEY),
    ("paid", MONEY),
    ("balance", MONEY),
    ("late_fee", MONEY),
    ("days_until_due", Value),
    ("days_past_due", Value),
    ("overdue", Value),
    ("occurrence", Value),
];

/// Totals of one currency.
pub(crate) const TOTAL: &[(&str, Field)] = &[("currency", Value), ("balance", MONEY), ("overdue", MONEY)];

/// Every variable a template may name, at the top level.
pub(crate) const ROOT: &[(&str, Field)] = &[
    ("locale", Value),
    ("kind", Value),
    ("rule", Value),
    ("key", Value),
    ("send_on", Value),
    ("occurrence", Value),
    ("count", Value),
    ("client", Object(&[("id", Value), ("name", Value)])),
    ("contact", Object(&[("name", Value), ("email", Value)])),
    ("item", Object(ITEM)),
    ("items", List(ITEM)),
    ("amount_due", MONEY),
    ("late_fee", MONEY),
    ("totals", List(TOTAL)),
    (
        "company",
        Object(&[
            ("name", Value),
            ("address", Value),
            ("phone", Value),
            ("website", Value),
            ("email", Value),
        ]),
    ),
    (
        "branding",
        Object(&[
            ("logo_url", Value),
            ("logo_alignment", Value),
            ("primary_color", Value),
            ("secondary_color", Value),
        ]),
    ),
    ("payment_instructions", Value),
    ("reply_to", Value),
    ("payment_link", Value),
    ("statement", Object(&[("period", Value), ("overdue_only", Value)])),
    (
        "standing",
        Object(&[
            ("state", Value),
            ("days_overdue", Value),
            ("closing_soon_after_days", Value),
            ("closed_after_days", Value),
            ("oldest_item", Value),
        ]),
    ),
];

/// Helpers templates may call: this crate's and handlebars' built-ins.
pub(crate) const HELPERS: &[&str] = &[
    "money", "date", "if", "unless", "each", "with", "eq", "ne", "gt", "gte", "lt", "lte", "and", "or",
    "not", "len", "lookup",
];

/// What is wrong with a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Problem {
    Variable(String),
    Helper(String),
    Partial(String),
}

type Scope = &'static [(&'static str, Field)];

/// Checks every name in `tpl` against the schema, starting at the top level.
pub(crate) fn check(tpl: &Template) -> Result<(), Problem> {
    let mut scopes: Vec<Scope> = vec![ROOT];
    walk(tpl, &mut scopes)
}

fn walk(tpl: &Template, scopes: &mut Vec<Scope>) -> Result<(), Problem> {
    walk_elements(&tpl.elements, scopes)
}

fn walk_elements(elements: &[TemplateElement], scopes: &mut Vec<Scope>) -> Result<(), Problem> {
    for el in elements {
        match el {
            TemplateElement::RawString(_) | TemplateElement::Comment(_) => {}
            TemplateElement::Expression(h) | TemplateElement::HtmlExpression(h) => {
                match &h.name {
                    Parameter::Path(p) if h.params.is_empty() && h.hash.is_empty() => {
                        resolve(p, scopes)?;
                    }
                    Parameter::Path(p) => return Err(Problem::Helper(path_text(p))),
                    Parameter::Name(n) => helper(n)?,
                    Parameter::Literal(_) => {}
                    Parameter::Subexpression(s) => sub(s, scopes)?,
                    _ => return Err(Problem::Helper("?".into())),
                }
                params(&h.params, scopes)?;
                params(&h.hash.values().cloned().collect::<Vec<_>>(), scopes)?;
            }
            TemplateElement::HelperBlock(h) => {
                let name = match &h.name {
                    Parameter::Name(n) => n.clone(),
                    Parameter::Path(p) => path_text(p),
                    _ => String::from("?"),
                };
                helper(&name)?;
                params(&h.params, scopes)?;
                let inner = match (name.as_str(), h.params.first()) {
                    ("each", Some(Parameter::Path(p))) => match resolve(p, scopes)? {
                        List(fields) | Object(fields) => Some(fields),
                        Value => return Err(Problem::Variable(path_text(p))),
                    },
                    ("with", Some(Parameter::Path(p))) => match resolve(p, scopes)? {
                        Object(fields) => Some(fields),
                        _ => return Err(Problem::Variable(path_text(p))),
                    },
                    _ => None,
                };
                if let Some(t) = &h.template {
                    match inner {
                        Some(fields) => {
                            scopes.push(fields);
                            let r = walk(t, scopes);
                            scopes.pop();
                            r?;
                        }
                        None => walk(t, scopes)?,
                    }
                }
                if let Some(t) = &h.inverse {
                    walk(t, scopes)?;
                }
            }
            TemplateElement::PartialExpression(d) | TemplateElement::PartialBlock(d) => {
                return Err(Problem::Partial(param_text(&d.name)));
            }
            TemplateElement::DecoratorExpression(d) | TemplateElement::DecoratorBlock(d) => {
                return Err(Problem::Helper(param_text(&d.name)));
            }
            _ => return Err(Problem::Helper("?".into())),
        }
    }
    Ok(())
}

fn helper(name: &str) -> Result<(), Problem> {
    if HELPERS.contains(&name) {
        Ok(())
    } else {
        Err(Problem::Helper(name.to_owned()))
    }
}

fn sub(s: &handlebars::template::Subexpression, scopes: &mut Vec<Scope>) -> Result<(), Problem> {
    walk_elements(std::slice::from_ref(&*s.element), scopes)
}

fn params(ps: &[Parameter], scopes: &mut Vec<Scope>) -> Result<(), Problem> {
    for p in ps {
        match p {
            Parameter::Path(path) => {
                resolve(path, scopes)?;
            }
            Parameter::Subexpression(s) => sub(s, scopes)?,
            Parameter::Name(_) | Parameter::Literal(_) => {}
            _ => return Err(Problem::Helper("?".into())),
        }
    }
    Ok(())
}

fn path_text(p: &Path) -> String {
    match p {
        Path::Relative((_, raw)) => raw.clone(),
        Path::Local((_, _, raw)) => raw.clone(),
    }
}

fn param_text(p: &Parameter) -> String {
    match p {
        Parameter::Name(n) => n.clone(),
        Parameter::Path(p) => path_text(p),
        Parameter::Literal(l) => l.to_string(),
        _ => "(...)".into(),
    }
}

/// The field a path names, from the innermost scope.
fn resolve(p: &Path, scopes: &[Scope]) -> Result<Field, Problem> {
    let bad = || Problem::Variable(path_text(p));
    let segs = match p {
        Path::Local((_, name, _)) => {
            return if matches!(name.as_str(), "index" | "first" | "last" | "key") && scopes.len() > 1 {
                Ok(Value)
            } else {
                Err(bad())
            };
        }
        Path::Relative((segs, _)) => segs,
    };
    let mut depth = scopes.len();
    let mut field: Option<Field> = None;
    for seg in segs {
        match seg {
            PathSeg::Ruled(rule) => {
                let rule = format!("{rule:?}");
                match rule.as_str() {
                    "path_up" => depth = depth.checked_sub(1).filter(|d| *d > 0).ok_or_else(bad)?,
                    "path_root" => depth = 1,
                    _ => {}
                }
            }
            PathSeg::Named(name) => {
                let fields = match field {
                    None => scopes.get(depth - 1).copied().ok_or_else(bad)?,
                    Some(Object(f)) => f,
                    Some(_) => return Err(bad()),
                };
                if name == "this" && field.is_none() {
                    continue;
                }
                field = Some(
                    fields
                        .iter()
                        .find(|(n, _)| n == name)
                        .map(|(_, f)| *f)
                        .ok_or_else(bad)?,
                );
            }
            _ => return Err(bad()),
        }
    }
    Ok(field.unwrap_or(Object(
        scopes.get(depth.saturating_sub(1)).copied().unwrap_or(ROOT),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(src: &str) -> Option<Problem> {
        check(&Template::compile(src).unwrap()).err()
    }

    #[test]
    fn known_names_pass() {
        for ok in [
            "{{client.name}} {{money amount_due}} {{date item.due_on}}",
            "{{#each items}}{{number}} {{money balance}} {{@index}} {{../client.name}} {{@root.locale}}{{/each}}",
            "{{#if item.late_fee}}{{money item.late_fee}}{{else}}none{{/if}}",
            "{{#with company}}{{name}} {{phone}}{{/with}}",
            "{{#each totals}}{{currency}} {{money balance}}{{/each}}",
            "{{#if (gt item.days_past_due 30)}}late{{/if}}",
            "{{! a comment }} plain {{{payment_instructions}}}",
            "{{item.total.currency}}",
        ] {
            assert_eq!(problem(ok), None, "{ok}");
        }
    }

    #[test]
    fn unknown_names_fail_even_inside_if() {
        assert_eq!(
            problem("{{clent.name}}"),
            Some(Problem::Variable("clent.name".into()))
        );
        assert_eq!(
            problem("{{#if missing}}x{{/if}}"),
            Some(Problem::Variable("missing".into()))
        );
        assert_eq!(
            problem("{{#each items}}{{numbr}}{{/each}}"),
            Some(Problem::Variable("numbr".into()))
        );
        assert_eq!(problem("{{number}}"), Some(Problem::Variable("number".into())));
        assert_eq!(
            problem("{{client.name.first}}"),
            Some(Problem::Variable("client.name.first".into()))
        );
        assert_eq!(
            problem("{{shout client.name}}"),
            Some(Problem::Helper("shout".into()))
        );
        assert_eq!(problem("{{> header}}"), Some(Problem::Partial("header".into())));
        assert_eq!(problem("{{@index}}"), Some(Problem::Variable("@index".into())));
        assert_eq!(
            problem("{{#each client}}{{nope}}{{/each}}"),
            Some(Problem::Variable("nope".into()))
        );
    }
}
