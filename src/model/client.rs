//! Clients, their contacts and pauses.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use serde::{Deserialize, Deserializer, Serialize};

use crate::error::ValidationError;
use crate::model::id::ClientId;
use crate::model::overrides::ClientOverrides;
use crate::time::TimeZone;

/// What a contact does at the client; rules may address some roles only, so later stages can
/// escalate to higher contacts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ContactRole {
    /// Accounts payable, the usual addressee of reminders.
    #[default]
    Billing,
    /// A manager, for escalations.
    Manager,
    /// An executive, for the last stages.
    Executive,
    /// Anyone else.
    Other,
}

impl ContactRole {
    pub(crate) fn bit(self) -> u8 {
        match self {
            ContactRole::Billing => 1,
            ContactRole::Manager => 2,
            ContactRole::Executive => 4,
            ContactRole::Other => 8,
        }
    }

    pub(crate) fn mask(roles: &[ContactRole]) -> u8 {
        roles.iter().fold(0, |m, r| m | r.bit())
    }
}

/// A person at a client who may receive reminders.
///
/// Only contacts with `notify` on receive anything.
///
/// # Example
/// ```
/// use dunning::{Contact, ContactRole};
/// let c = Contact::new("Ana Pérez", "ana@cliente.cl").with_role(ContactRole::Manager);
/// assert!(c.notify);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    /// Display name.
    pub name: String,
    /// Email address.
    pub email: String,
    /// Whether the contact receives reminders.
    #[serde(default = "yes")]
    pub notify: bool,
    /// The contact's role.
    #[serde(default)]
    pub role: ContactRole,
}

fn yes() -> bool {
    true
}

impl Contact {
    /// A billing contact with notify on.
    #[must_use]
    pub fn new(name: impl Into<String>, email: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            email: email.into(),
            notify: true,
            role: ContactRole::Billing,
        }
    }

    /// The same contact with another role.
    #[must_use]
    pub fn with_role(mut self, role: ContactRole) -> Self {
        self.role = role;
        self
    }

    /// The same contact with notify on or off.
    #[must_use]
    pub fn with_notify(mut self, notify: bool) -> Self {
        self.notify = notify;
        self
    }
}

/// Why reminders pause.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum PauseKind {
    /// The client promised to pay by the end date.
    Promise,
    /// The client disputes the item.
    Dispute,
    /// Collection is on hold.
    Hold,
    /// Reminders are snoozed.
    Snooze,
}

impl PauseKind {
    /// A lowercase word for sentences.
    #[must_use]
    pub fn describe(self) -> &'static str {
        match self {
            PauseKind::Promise => "payment promise",
            PauseKind::Dispute => "dispute",
            PauseKind::Hold => "hold",
            PauseKind::Snooze => "snooze",
        }
    }
}

/// A period when no reminder goes out, for one item or for a whole client.
///
/// Dates are inclusive local dates. Without `until` the pause lasts until it is removed.
///
/// # Example
/// ```
/// use chrono::NaiveDate;
/// use dunning::{Pause, PauseKind};
/// let until = NaiveDate::from_ymd_opt(2026, 5, 10).unwrap();
/// let p = Pause::new(PauseKind::Promise, "will pay on the 10th").until(until);
/// assert!(p.is_active(until));
/// assert!(!p.is_active(until.succ_opt().unwrap()));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pause {
    /// Why.
    pub kind: PauseKind,
    /// A note for people.
    #[serde(default)]
    pub reason: String,
    /// First day of the pause (none: since ever).
    #[serde(default)]
    pub from: Option<NaiveDate>,
    /// Last day of the pause (none: until removed).
    #[serde(default)]
    pub until: Option<NaiveDate>,
}

impl Pause {
    /// An open-ended pause.
    #[must_use]
    pub fn new(kind: PauseKind, reason: impl Into<String>) -> Self {
        Self {
            kind,
            reason: reason.into(),
            from: None,
            until: None,
        }
    }

    /// The same pause starting on `from`.
    #[must_use]
    pub fn starting(mut self, from: NaiveDate) -> Self {
        self.from = Some(from);
        self
    }

    /// The same pause ending on `until` (inclusive).
    #[must_use]
    pub fn until(mut self, until: NaiveDate) -> Self {
        self.until = Some(until);
        self
    }

    /// Whether the pause covers `date`.
    #[must_use]
    pub fn is_active(&self, date: NaiveDate) -> bool {
        self.from.is_none_or(|f| f <= date) && self.until.is_none_or(|u| date <= u)
    }

    pub(crate) fn validate(&self, owner: &str, index: usize) -> Result<(), ValidationError> {
        if let (Some(from), Some(until)) = (self.from, self.until) {
            if until < from {
                return Err(ValidationError::PauseEndsBeforeStart {
                    owner: owner.to_owned(),
                    field: format!("pauses[{index}]"),
                    from,
                    until,
                });
            }
        }
        Ok(())
    }
}

/// A client: who gets reminders, in which time zone and language, with which overrides.
///
/// # Example
/// ```
/// use dunning::{Client, Contact, TimeZone};
/// let client = Client::new("acme".parse()?, "ACME SpA")
///     .with_contact(Contact::new("Ana", "ana@acme.cl"))
///     .with_time_zone(TimeZone::from_name("America/Santiago")?)
///     .with_locale("es-CL");
/// assert_eq!(client.contacts.len(), 1);
/// # Ok::<(), dunning::ValidationError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Client {
    /// Unique id.
    pub id: ClientId,
    /// Display name.
    pub name: String,
    /// People who may receive reminders.
    #[serde(default)]
    pub contacts: Vec<Contact>,
    /// The client's time zone (none: the company's).
    #[serde(default)]
    pub time_zone: Option<TimeZone>,
    /// The client's locale, e.g. `es-CL` (none: the policy's).
    #[serde(default)]
    pub locale: Option<String>,
    /// Free tags that rules may select on.
    #[serde(default)]
    pub tags: BTreeSet<String>,
    /// Pauses for every item of the client.
    #[serde(default)]
    pub pauses: Vec<Pause>,
    /// Per-client settings that override the policy's, field by field.
    #[serde(default)]
    pub overrides: ClientOverrides,
}

impl Client {
    /// A client with no contacts, tags, pauses or overrides.
    #[must_use]
    pub fn new(id: ClientId, name: impl Into<String>) -> Self {
        Self {
            id,
            name: name.into(),
            contacts: Vec::new(),
            time_zone: None,
            locale: None,
            tags: BTreeSet::new(),
            pauses: Vec::new(),
            overrides: ClientOverrides::default(),
        }
    }

    /// Adds a contact.
    #[must_use]
    pub fn with_contact(mut self, contact: Contact) -> Self {
        self.contacts.push(contact);
        self
    }

    /// Sets the time zone.
    #[must_use]
    pub fn with_time_zone(mut self, tz: TimeZone) -> Self {
        self.time_zone = Some(tz);
        self
    }

    /// Sets the locale.
    #[must_use]
    pub fn with_locale(mut self, locale: impl Into<String>) -> Self {
        self.locale = Some(locale.into());
        self
    }

    /// Adds a tag.
    #[must_use]
    pub fn with_tag(mut self, tag: impl Into<String>) -> Self {
        self.tags.insert(tag.into());
        self
    }

    /// Adds a pause for all the client's items.
    #[must_use]
    pub fn with_pause(mut self, pause: Pause) -> Self {
        self.pauses.push(pause);
        self
    }

    /// Replaces the overrides.
    #[must_use]
    pub fn with_overrides(mut self, overrides: ClientOverrides) -> Self {
        self.overrides = overrides;
        self
    }

    /// Checks what can be checked without the policy: names that reach mail headers,
    /// contacts' addresses, pauses and the overrides' own values
    /// ([`ClientOverrides::validate`]; whether they fit the policy's rules is checked by the
    /// planner).
    ///
    /// # Errors
    /// The first problem found, naming the client and the field:
    /// [`ValidationError::InvalidEmail`], [`ValidationError::LineBreak`],
    /// [`ValidationError::ControlCharacter`], [`ValidationError::PauseEndsBeforeStart`] or
    /// one of [`ClientOverrides::validate`].
    pub fn validate(&self) -> Result<(), ValidationError> {
        // Subjects may name the client.
        check_header_text(|| format!("client {}: name", self.id), &self.name)?;
        for (k, c) in self.contacts.iter().enumerate() {
            if !plausible_email(&c.email) {
                return Err(ValidationError::InvalidEmail {
                    client: self.id.to_string(),
                    contact: c.name.clone(),
                    value: c.email.clone(),
                });
            }
            check_header_text(|| format!("client {}: contacts[{k}].name", self.id), &c.name)?;
        }
        // The addresses a client's messages also go to, the term and the limits: refused
        // here, not at every send.
        self.overrides.validate(&self.id)?;
        if let Some(locale) = &self.locale {
            check_setting(
                || format!("client {}: locale", self.id),
                locale,
                is_language_tag,
                "a language tag (es, es-CL)",
            )?;
        }
        if !self.pauses.is_empty() {
            let owner = format!("client {}", self.id);
            for (i, p) in self.pauses.iter().enumerate() {
                p.validate(&owner, i)?;
            }
        }
        Ok(())
    }
}

/// Checks a setting that reaches a message: `ok` says whether `value` is well formed.
pub(crate) fn check_setting(
    field: impl FnOnce() -> String,
    value: &str,
    ok: fn(&str) -> bool,
    expected: &'static str,
) -> Result<(), ValidationError> {
    if ok(value) {
        Ok(())
    } else {
        Err(ValidationError::InvalidSetting {
            field: field(),
            value: value.to_owned(),
            expected,
        })
    }
}

/// A language tag as messages use it (`es`, `es-CL`, `pt_BR`, `zh-Hant-TW`): ASCII letters,
/// digits, `-` and `_`, starting with a letter, at most 35 characters.
pub(crate) fn is_language_tag(s: &str) -> bool {
    s.len() <= 35
        && s.starts_with(|c: char| c.is_ascii_alphabetic())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A link a message may carry as a live link: `http://`, `https://` or `mailto:` (any
/// case) and something after it, with no white space or control character (`javascript:`
/// and `data:` links are not). Quotes and angle brackets are escaped where it is written.
pub(crate) fn is_safe_link(s: &str) -> bool {
    let lower = s.get(..8).unwrap_or(s).to_ascii_lowercase();
    let scheme = ["https://", "http://", "mailto:"]
        .iter()
        .find(|p| lower.starts_with(*p))
        .map(|p| p.len());
    scheme.is_some_and(|n| s.len() > n) && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// Whether `c` may end a line for some reader of a mail header (see
/// [`Message::is_line_break`](crate::Message::is_line_break)).
pub(crate) fn is_line_break(c: char) -> bool {
    matches!(
        c,
        '\n' | '\r'
            | '\u{0B}'
            | '\u{0C}'
            | '\u{1C}'
            | '\u{1D}'
            | '\u{1E}'
            | '\u{85}'
            | '\u{2028}'
            | '\u{2029}'
    )
}

/// Whether `c` has no place in a mail header beside the line breaks: a control character
/// other than tab (NUL, escape, DEL, the C1 controls), or one of the bidirectional
/// embedding, override and isolate controls (U+202A to U+202E, U+2066 to U+2069), which make
/// a name or subject display in an order other than its own.
pub(crate) fn is_header_control(c: char) -> bool {
    (c.is_control() && c != '\t') || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Checks an address a message will be sent to or from (surrounding blanks other than line
/// breaks are dropped, as messages do), naming the field.
pub(crate) fn check_address(field: impl FnOnce() -> String, value: &str) -> Result<(), ValidationError> {
    let trimmed = value.trim_matches(|c: char| c.is_whitespace() && !is_line_break(c));
    if plausible_email(trimmed) {
        Ok(())
    } else {
        Err(ValidationError::InvalidAddress {
            field: field(),
            value: value.to_owned(),
        })
    }
}

/// Checks a name that goes into a header (a contact's, the company's): no line break, no
/// other control character.
#[inline]
pub(crate) fn check_header_text(field: impl FnOnce() -> String, value: &str) -> Result<(), ValidationError> {
    // Most text is printable ASCII: one pass over its bytes, eight at a time (every name and
    // number is checked at every plan). Other text (a tab, a control, any non-ASCII) is
    // checked character by character.
    if printable_ascii(value.as_bytes()) {
        return Ok(());
    }
    check_header_chars(field, value)
}

/// [`check_header_text`] character by character.
#[cold]
fn check_header_chars(field: impl FnOnce() -> String, value: &str) -> Result<(), ValidationError> {
    if value.chars().any(is_line_break) {
        return Err(ValidationError::LineBreak {
            field: field(),
            value: value.to_owned(),
        });
    }
    if value.chars().any(is_header_control) {
        return Err(ValidationError::ControlCharacter {
            field: field(),
            value: value.to_owned(),
        });
    }
    Ok(())
}

/// Whether every byte of `bytes` is printable ASCII (a space to a `~`).
#[inline]
fn printable_ascii(bytes: &[u8]) -> bool {
    const ONES: u64 = u64::from_le_bytes([1; 8]);
    const HIGH: u64 = u64::from_le_bytes([0x80; 8]);
    // Whether some byte of `w` is below `n` (at most 0x80): a byte borrows its high bit only
    // if it, or one below it, is.
    let any_below = |w: u64, n: u64| w.wrapping_sub(ONES * n) & !w & HIGH != 0;
    let printable = |c: &[u8]| {
        let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        // No control, no DEL (the only byte equal to 0x7f: `^` makes it 0), nothing past ASCII.
        !any_below(w, 0x20) && !any_below(w ^ (ONES * 0x7f), 1) && w & HIGH == 0
    };
    if bytes.len() < 8 {
        return bytes.iter().all(|b| (b' '..0x7f).contains(b));
    }
    // The last eight bytes make the last word (overlapping the one before).
    bytes.chunks_exact(8).all(printable) && printable(&bytes[bytes.len() - 8..])
}

/// A light check: one `@`, something on each side, a dot in the domain, no spaces or
/// angle brackets. Full address parsing belongs to message building.
pub(crate) fn plausible_email(email: &str) -> bool {
    // One pass over the bytes (every contact is checked at every plan): where the `@` is,
    // whether there is one more, and whether a byte is ASCII whitespace, a control, DEL or a
    // bracket or separator.
    let bytes = email.as_bytes();
    let mut at = None;
    let mut ascii = true;
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'@' if at.is_some() => return false,
            b'@' => at = Some(i),
            0..=b' ' | 0x7f | b'<' | b'>' | b',' | b';' => return false,
            0x80.. => ascii = false,
            _ => {}
        }
    }
    let Some(at) = at else {
        return false;
    };
    let domain = &bytes[at + 1..];
    at > 0
        && domain.contains(&b'.')
        && !domain.starts_with(b".")
        && !domain.ends_with(b".")
        // Beyond ASCII also the other whitespace and controls, and the bidirectional
        // overrides and isolates, which would show the address in another order.
        && (ascii
            || !email
                .chars()
                .any(|c| c.is_whitespace() || is_header_control(c) || matches!(c, '<' | '>' | ',' | ';')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_checked_alike_on_bytes_and_chars() {
        let by_chars = |e: &str| {
            !e.chars()
                .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';'))
        };
        for b in 0u8..128 {
            let e = format!("a{}b@x.cl", char::from(b));
            assert_eq!(plausible_email(&e), by_chars(&e) && b != b'@', "{e:?}");
        }
        assert!(plausible_email("ñandú@correo.cl"));
        for bad in [
            "a\u{a0}b@x.cl",
            "a\u{85}@x.cl",
            "ñ\u{2003}@x.cl",
            "moc.\u{202E}ana@x.cl",
            "a\u{2066}b@x.cl",
        ] {
            assert!(!plausible_email(bad), "{bad:?}");
        }
    }

    proptest::proptest! {
        /// The one pass over the bytes says what splitting at the `@` and testing each part
        /// says.
        #[test]
        fn emails_are_checked_as_by_their_parts(e in "[a@.<> ;,\\t\u{7f}\u{0}ñ\u{a0}\u{202e}\u{2003}]{0,20}") {
            let by_parts = |email: &str| {
                let Some((local, domain)) = email.split_once('@') else {
                    return false;
                };
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !domain.contains('@')
                    && !email.chars().any(|c| {
                        c.is_whitespace() || is_header_control(c) || matches!(c, '<' | '>' | ',' | ';')
                    })
            };
            proptest::prop_assert_eq!(plausible_email(&e), by_parts(&e), "{:?}", e);
        }

        /// Eight bytes at a time, text is found printable ASCII exactly when each of its
        /// bytes is: every kind of byte, at every place of a word.
        #[test]
        fn printable_ascii_is_found_byte_by_byte(
            text in proptest::collection::vec(proptest::sample::select(vec![
                0u8, 1, 0x09, 0x0a, 0x1f, 0x20, 0x21, 0x41, 0x7e, 0x7f, 0x80, 0xa0, 0xc3, 0xff,
            ]), 0..24),
            noise in proptest::collection::vec(0x20u8..0x7f, 0..24),
        ) {
            let mut bytes = noise;
            bytes.extend(&text);
            let expected = bytes.iter().all(|b| (0x20..0x7f).contains(b));
            proptest::prop_assert_eq!(printable_ascii(&bytes), expected, "{:?}", bytes);
        }

        /// Header text is refused, or not, as by its characters.
        #[test]
        fn header_text_is_checked_as_by_its_characters(v in "[a ~\\t\\n\\r\u{0}\u{7f}\u{85}ñ\u{202e}\u{2028}]{0,20}") {
            let refused = v.chars().any(|c| is_line_break(c) || is_header_control(c));
            proptest::prop_assert_eq!(check_header_text(String::new, &v).is_err(), refused, "{:?}", v);
        }
    }

    #[test]
    fn emails_are_checked() {
        for good in ["a@b.cl", "first.last+tag@sub.example.com"] {
            assert!(plausible_email(good), "{good}");
        }
        for bad in [
            "",
            "a",
            "a@",
            "@b.cl",
            "a@b",
            "a b@c.cl",
            "a@b.cl\r\nBcc: x@y.z",
            "a@@b.cl",
            "<a@b.cl>",
        ] {
            assert!(!plausible_email(bad), "{bad:?}");
        }
        let client =
            Client::new(ClientId::new("c1").unwrap(), "C").with_contact(Contact::new("Bob", "bob-at-x"));
        assert_eq!(
            client.validate(),
            Err(ValidationError::InvalidEmail {
                client: "c1".into(),
                contact: "Bob".into(),
                value: "bob-at-x".into()
            })
        );
    }

    #[test]
    fn pauses_must_not_end_before_they_start() {
        let d = |day| NaiveDate::from_ymd_opt(2026, 1, day).unwrap();
        let client = Client::new(ClientId::new("c1").unwrap(), "C")
            .with_pause(Pause::new(PauseKind::Hold, "x").starting(d(10)).until(d(5)));
        assert!(matches!(
            client.validate(),
            Err(ValidationError::PauseEndsBeforeStart { .. })
        ));
    }
}

crate::names::names!(ContactRole, "contact role" {
    Billing => "billing",
    Manager => "manager",
    Executive => "executive",
    Other => "other",
});

crate::names::names!(PauseKind, "pause kind" {
    Promise => "promise",
    Dispute => "dispute",
    Hold => "hold",
    Snooze => "snooze",
});

/// Reads a list of addresses written as a list or as one comma-separated string (several
/// reply-to addresses separated by commas, as billing settings often store them).
pub(crate) fn addresses<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    d.deserialize_any(AddressesVisitor)
}

/// As [`addresses()`], for an optional field: `null` is none.
pub(crate) fn optional_addresses<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    d.deserialize_option(OptionalAddresses)
}

/// A list of addresses, or one string of them separated by commas; anything else is an
/// error that says what was expected (an untagged enum would only say that no variant
/// matched).
struct AddressesVisitor;

impl<'de> serde::de::Visitor<'de> for AddressesVisitor {
    type Value = Vec<String>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a list of email addresses or one string of them separated by commas")
    }

    fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Self::Value, E> {
        Ok(s.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect())
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut list = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(address) = seq.next_element::<String>()? {
            list.push(address);
        }
        Ok(list)
    }
}

struct OptionalAddresses;

impl<'de> serde::de::Visitor<'de> for OptionalAddresses {
    type Value = Option<Vec<String>>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        AddressesVisitor.expecting(f)
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        addresses(d).map(Some)
    }
}
