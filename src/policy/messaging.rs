//! What messages say about the sender: company data, branding, payment
//! instructions, reply-to addresses, copies, and the host's own templates.

use serde::{Deserialize, Serialize};

use crate::model::id::RuleId;

/// The sender's company data, shown in every message.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Company {
    /// Legal or trade name.
    pub name: String,
    /// Postal address.
    pub address: String,
    /// Contact phone.
    pub phone: String,
    /// Web site.
    pub website: String,
    /// The address messages are sent from.
    pub email: String,
}

/// Where the logo sits at the top of HTML messages.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Alignment {
    /// Left.
    #[default]
    Left,
    /// Centred.
    Center,
    /// Right.
    Right,
}

impl Alignment {
    /// The CSS keyword.
    #[must_use]
    pub fn css(self) -> &'static str {
        match self {
            Alignment::Left => "left",
            Alignment::Center => "center",
            Alignment::Right => "right",
        }
    }
}

/// Logo and colours of HTML messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Branding {
    /// URL of the logo image: empty (no logo), or an `http`, `https` or `cid` link without
    /// spaces or quotes ([`Policy::validate`](crate::Policy::validate) refuses any other,
    /// such as `javascript:`).
    pub logo_url: String,
    /// Where the logo sits.
    pub logo_alignment: Alignment,
    /// Main colour, CSS (`#1a73e8`, `navy`, `rgb(26, 115, 232)`; nothing else, so that no
    /// style of its own reaches a message).
    pub primary_color: String,
    /// Second colour, CSS, as the main one.
    pub secondary_color: String,
}

/// Whether `s` may be a logo's address in an HTML message: empty (no logo), or an `http`,
/// `https` or `cid` (an inline attachment) link with no white space, control character,
/// quote, backquote or angle bracket.
pub(crate) fn is_image_link(s: &str) -> bool {
    let lower = s.get(..8).unwrap_or(s).to_ascii_lowercase();
    let scheme = ["https://", "http://", "cid:"]
        .iter()
        .find(|p| lower.starts_with(*p))
        .map(|p| p.len());
    s.is_empty()
        || (scheme.is_some_and(|n| s.len() > n)
            && !s.chars().any(|c| {
                c.is_whitespace() || c.is_control() || matches!(c, '"' | '\'' | '`' | '<' | '>' | '\\')
            }))
}

/// Whether `s` is a CSS colour an HTML message may carry in a `style` attribute: `#` and 3,
/// 4, 6 or 8 hex digits, a colour name (ASCII letters, at most 32), or `rgb()`, `rgba()`,
/// `hsl()` or `hsla()` of numbers (digits, `.`, `%`, `,`, `/`, spaces, `deg`).
pub(crate) fn is_css_color(s: &str) -> bool {
    if let Some(hex) = s.strip_prefix('#') {
        return matches!(hex.len(), 3 | 4 | 6 | 8) && hex.bytes().all(|b| b.is_ascii_hexdigit());
    }
    if !s.is_empty() && s.len() <= 32 && s.bytes().all(|b| b.is_ascii_alphabetic()) {
        return true;
    }
    let lower = s.to_ascii_lowercase();
    ["rgb(", "rgba(", "hsl(", "hsla("].iter().any(|f| {
        (lower.strip_prefix(f).and_then(|r| r.strip_suffix(')'))).is_some_and(|args| {
            !args.trim().is_empty()
                && args.len() <= 64
                && (args.replace("deg", "").bytes())
                    .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'%' | b',' | b'/' | b' ' | b'-'))
        })
    })
}

impl Default for Branding {
    fn default() -> Self {
        Self {
            logo_url: String::new(),
            logo_alignment: Alignment::Left,
            primary_color: "#1f4e79".into(),
            secondary_color: "#f2f2f2".into(),
        }
    }
}

/// Which message a template writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TemplateKind {
    /// An invoice was issued ("envío de factura emitida").
    Issued,
    /// Due soon ("próximo a vencer").
    DueSoon,
    /// Due today.
    DueToday,
    /// Overdue ("vencido").
    Overdue,
    /// Thank you for paying.
    ThankYou,
    /// Account statement of all open items ("estado de cuenta").
    Statement,
    /// Statement of overdue items ("estado de cuenta de vencidos").
    OverdueStatement,
    /// The account will close soon ("cuenta pronto a cerrar").
    ClosingSoon,
    /// The account is closed ("cuenta cerrada").
    Closed,
    /// A pending invoice, reminded from when it was sent.
    PendingInvoice,
    /// A proposal waiting for signature.
    PendingProposal,
    /// A document waiting for signature.
    PendingSignature,
    /// A document waiting for approval.
    PendingApproval,
    /// A form waiting to be submitted.
    PendingForm,
    /// A message waiting for an answer.
    PendingMessage,
}

impl TemplateKind {
    /// Every kind.
    pub const ALL: [TemplateKind; 15] = [
        TemplateKind::Issued,
        TemplateKind::DueSoon,
        TemplateKind::DueToday,
        TemplateKind::Overdue,
        TemplateKind::ThankYou,
        TemplateKind::Statement,
        TemplateKind::OverdueStatement,
        TemplateKind::ClosingSoon,
        TemplateKind::Closed,
        TemplateKind::PendingInvoice,
        TemplateKind::PendingProposal,
        TemplateKind::PendingSignature,
        TemplateKind::PendingApproval,
        TemplateKind::PendingForm,
        TemplateKind::PendingMessage,
    ];

    /// The snake-case name used in template names and serialization.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            TemplateKind::Issued => "issued",
            TemplateKind::DueSoon => "due_soon",
            TemplateKind::DueToday => "due_today",
            TemplateKind::Overdue => "overdue",
            TemplateKind::ThankYou => "thank_you",
            TemplateKind::Statement => "statement",
            TemplateKind::OverdueStatement => "overdue_statement",
            TemplateKind::ClosingSoon => "closing_soon",
            TemplateKind::Closed => "closed",
            TemplateKind::PendingInvoice => "pending_invoice",
            TemplateKind::PendingProposal => "pending_proposal",
            TemplateKind::PendingSignature => "pending_signature",
            TemplateKind::PendingApproval => "pending_approval",
            TemplateKind::PendingForm => "pending_form",
            TemplateKind::PendingMessage => "pending_message",
        }
    }
}

/// Its [`name`](TemplateKind::name).
impl std::fmt::Display for TemplateKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// From its [`name`](TemplateKind::name).
///
/// ```
/// use dunning::policy::TemplateKind;
/// assert_eq!("due_soon".parse::<TemplateKind>().unwrap(), TemplateKind::DueSoon);
/// assert_eq!(TemplateKind::DueSoon.to_string(), "due_soon");
/// assert!("soon".parse::<TemplateKind>().is_err());
/// ```
impl std::str::FromStr for TemplateKind {
    type Err = crate::error::ValidationError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TemplateKind::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| crate::error::ValidationError::UnknownName {
                kind: "template kind",
                value: s.to_owned(),
                expected: TemplateKind::ALL.map(TemplateKind::name).join(", "),
            })
    }
}

/// A host's template: for one rule or for one kind of message, in one locale.
///
/// Exactly one of `rule` and `kind` is set. `locale` is a BCP 47 tag (`es-CL`) or a language
/// (`es`); the most specific match wins, then the crate's defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateSpec {
    /// The rule it is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<RuleId>,
    /// The kind of message it is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<TemplateKind>,
    /// Locale or language.
    pub locale: String,
    /// Subject line (handlebars).
    pub subject: String,
    /// Plain-text body (handlebars).
    pub text: String,
    /// HTML body (handlebars), if the message has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
}

crate::names::names!(Alignment, "alignment" {
    Left => "left",
    Center => "center",
    Right => "right",
});
