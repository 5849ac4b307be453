//! Loading policies, clients, items and snapshots from JSON or TOML.
//!
//! Hosts load documents through these functions rather than calling serde themselves: a bad
//! document is refused with a [`LoadError`] that names the format, the path of the bad value
//! in the document (`items[3].total.currency`, `clients[0].time_zone`,
//! `rules[1].anchor`), the value as written, the reason, and the line and column where the
//! format gives them. What reads but is not valid (a due date before the issue date, a
//! rule that could never fire, two items with one id) is refused too, naming the list
//! element (`items[3].due_on`), with the [`ValidationError`] the validation returned.
//!
//! | what | JSON | TOML |
//! |---|---|---|
//! | a policy | [`Policy::from_json`] | [`Policy::from_toml`] |
//! | clients | [`clients_from_json`]: `[...]` or `{"clients": [...]}` | [`clients_from_toml`]: `[[clients]]` |
//! | items | [`items_from_json`]: `[...]` or `{"items": [...]}` | [`items_from_toml`]: `[[items]]` |
//! | clients, items and history | [`snapshot_from_json`] | [`snapshot_from_toml`] |
//!
//! The TOML functions are behind the cargo feature `toml` (on by default); a host that
//! loads JSON only can build without the `toml` crate (`default-features = false`). In
//! TOML, dates and times may be written quoted (`"2026-03-01"`) or as TOML's own
//! (`issued_on = 2026-03-01`, `send_time = 09:30:00`). An amount of money that is wrong
//! is named by its part (`rules[0].late_fee.cap[0].amount`, `items[2].applied[0].amount.currency`).
//!
//! # Example
//! ```
//! use dunning::load::{self, Format, LoadErrorKind};
//!
//! let json = r#"[
//!     {"id": "acme", "name": "ACME SpA", "time_zone": "America/Santiago"},
//!     {"id": "initech", "name": "Initech", "time_zone": "Mars/Base"}
//! ]"#;
//! let err = load::clients_from_json(json).unwrap_err();
//! assert_eq!(err.format(), Format::Json);
//! assert_eq!(err.kind(), LoadErrorKind::Data);
//! assert_eq!(err.path(), "clients[1].time_zone");
//! assert_eq!(err.value(), Some("Mars/Base"));
//! assert_eq!((err.line(), err.column()), (Some(3), Some(66)));
//! assert_eq!(
//!     err.to_string(),
//!     "clients[1].time_zone: unknown time zone \"Mars/Base\" (JSON, line 3, column 66)"
//! );
//! ```

use std::collections::HashSet;
use std::fmt::{self, Write as _};

use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::error::{ValidationError, capture};
use crate::model::client::Client;
use crate::model::history::HistoryEntry;
use crate::model::item::Item;
use crate::policy::Policy;
use crate::store::Snapshot;

/// The format of a loaded document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// JSON.
    Json,
    /// TOML.
    Toml,
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Json => "JSON",
            Format::Toml => "TOML",
        })
    }
}

/// What kind of problem a [`LoadError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LoadErrorKind {
    /// The text is not well-formed JSON or TOML.
    Syntax,
    /// A value does not fit where it is: a wrong type, an unknown or missing field, an
    /// unknown name, currency or time zone, a bad amount, date or id.
    Data,
    /// The document reads, but what it describes is not valid (a due date before the issue
    /// date, a rule that could never fire, an id given twice): see
    /// [`LoadError::validation`].
    Invalid,
}

crate::names::names!(LoadErrorKind, "load error kind" {
    Syntax => "syntax",
    Data => "data",
    Invalid => "invalid",
});

/// A document that could not be loaded: where in it, what, and why.
///
/// Its message names the path of the bad value, the value when the reason does not already
/// show it, the reason, and the format with the line and column where the format gives
/// them. Text from the document is shown escaped (`"a\nb"`) and cut after 64 characters,
/// so a message holds no line break and stays short whatever the document holds; the
/// accessors give it whole.
///
/// # Example
/// ```
/// use dunning::load::LoadErrorKind;
/// use dunning::{Policy, ValidationError};
/// let err = Policy::from_json(r#"{"rules": [{"id": "r", "anchor": "due", "count": 0}]}"#)
///     .unwrap_err();
/// assert_eq!(err.kind(), LoadErrorKind::Invalid);
/// assert_eq!(err.path(), "rules[0].count");
/// assert_eq!(err.value(), Some("0"));
/// assert!(matches!(err.validation(), Some(ValidationError::ZeroCount { .. })));
/// assert_eq!(err.to_string(), "rules[0].count = 0: rule r: count must be at least 1, got 0 (JSON)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", Message(self))]
#[non_exhaustive]
pub struct LoadError {
    /// Boxed, as serde_json's errors are: a `Result` of a loader stays small.
    details: Box<Details>,
    #[source]
    validation: Option<Box<ValidationError>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Details {
    format: Format,
    kind: LoadErrorKind,
    path: String,
    value: Option<String>,
    /// Whether the value was text (shown quoted) rather than a number, boolean or date.
    text: bool,
    reason: String,
    line: Option<usize>,
    column: Option<usize>,
}

impl LoadError {
    /// The document's format.
    #[must_use]
    pub fn format(&self) -> Format {
        self.details.format
    }

    /// Whether the text, a value or the whole is wrong.
    #[must_use]
    pub fn kind(&self) -> LoadErrorKind {
        self.details.kind
    }

    /// The path of the bad value in the document, as `items[3].total.currency`; a key that
    /// is not a plain name is quoted (`items[0]["a b"]`). Empty for the document as a
    /// whole (a syntax error before any value, trailing characters).
    #[must_use]
    pub fn path(&self) -> &str {
        &self.details.path
    }

    /// The bad value as written: a string without its quotes, a number, boolean or date as
    /// written. None where there is no single value (a missing field, a syntax error, a
    /// table or list).
    #[must_use]
    pub fn value(&self) -> Option<&str> {
        self.details.value.as_deref()
    }

    /// Why: the [`ValidationError`]'s message where there is one, else the format's.
    #[must_use]
    pub fn reason(&self) -> &str {
        &self.details.reason
    }

    /// The line of the error in the document (1-based), where the format gives it.
    #[must_use]
    pub fn line(&self) -> Option<usize> {
        self.details.line
    }

    /// The column of the error in the document (1-based, in characters), where the format
    /// gives it.
    #[must_use]
    pub fn column(&self) -> Option<usize> {
        self.details.column
    }

    /// The typed error: for [`LoadErrorKind::Invalid`] what the validation returned, and
    /// for a value this crate refused while reading (a currency, a time zone, an amount, an
    /// id) the error its parser returned, a currency or time zone naming the path as its
    /// field (`items[3].total.currency`).
    #[must_use]
    pub fn validation(&self) -> Option<&ValidationError> {
        self.validation.as_deref()
    }
}

/// The longest text of the document a message shows, in characters.
const SHOWN: usize = 64;
/// The longest reason a message shows, in characters.
const SHOWN_REASON: usize = 400;

/// The message of a [`LoadError`].
struct Message<'a>(&'a LoadError);

impl fmt::Display for Message<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = &self.0.details;
        let reason = shown(&e.reason, SHOWN_REASON);
        let value = e
            .value
            .as_deref()
            .map(|v| if e.text { quoted(v, SHOWN) } else { shown(v, SHOWN) });
        // The reason may already name the path (a currency's field) or show the value.
        let named = !e.path.is_empty() && reason.starts_with(&format!("{}: ", e.path));
        if !e.path.is_empty() && !named {
            f.write_str(&e.path)?;
            match &value {
                Some(v) if !(e.text && reason.contains(v.as_str())) => write!(f, " = {v}: ")?,
                _ => f.write_str(": ")?,
            }
        }
        f.write_str(&reason)?;
        match (e.line, e.column) {
            (Some(line), Some(column)) => write!(f, " ({}, line {line}, column {column})", e.format),
            (Some(line), None) => write!(f, " ({}, line {line})", e.format),
            _ => write!(f, " ({})", e.format),
        }
    }
}

/// `text` with control characters (line breaks, escapes) and the invisible characters that
/// reorder or hide text (bidirectional controls, zero-width spaces) escaped, cut after `max`
/// characters.
fn shown(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max + 8));
    for (i, c) in text.chars().enumerate() {
        if i == max {
            out.push('…');
            break;
        }
        let hidden = matches!(
            c,
            '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}'
        );
        if c.is_control() || hidden {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    out
}

/// `text` quoted and escaped as Rust writes strings (`"a\nb"`), cut after `max` characters.
fn quoted(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{:?}…", text.get(..at).unwrap_or_default()),
        None => format!("{text:?}"),
    }
}

/// One step of a path in a document.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seg {
    /// A field or map key.
    Key(String),
    /// A list element.
    Index(usize),
    /// An enum's variant: a key (`{"variant": ...}`) or the value itself (`"variant"`).
    Variant(String),
    /// A key that is not text.
    Unknown,
}

fn render(path: &[Seg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Index(i) => {
                let _ = write!(out, "[{i}]");
            }
            Seg::Key(key) | Seg::Variant(key)
                if (1..=SHOWN).contains(&key.len())
                    && key
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') =>
            {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Seg::Key(key) | Seg::Variant(key) => {
                out.push('[');
                out.push_str(&quoted(key, SHOWN));
                out.push(']');
            }
            Seg::Unknown => out.push_str(if out.is_empty() { "?" } else { ".?" }),
        }
    }
    out
}

/// A field as this crate names it (`applied[0].amount`, `when.min_balance`), as a path.
fn parse_field(field: &str) -> Vec<Seg> {
    let mut path = Vec::new();
    for part in field.split('.') {
        let (name, mut rest) = part.split_once('[').map_or((part, ""), |(n, r)| (n, r));
        if !name.is_empty() {
            path.push(Seg::Key(name.to_owned()));
        }
        while let Some((index, after)) = rest.split_once(']') {
            if let Ok(i) = index.parse() {
                path.push(Seg::Index(i));
            }
            rest = after.strip_prefix('[').unwrap_or(after);
        }
    }
    path
}

/// The path serde_path_to_error tracked, less the unknown steps it ends with (a key not
/// read yet, where a syntax error stops it).
fn segments(path: &serde_path_to_error::Path) -> Vec<Seg> {
    use serde_path_to_error::Segment;
    let mut segs: Vec<Seg> = path
        .iter()
        .map(|s| match s {
            Segment::Seq { index } => Seg::Index(*index),
            Segment::Map { key } => Seg::Key(key.clone()),
            Segment::Enum { variant } => Seg::Variant(variant.clone()),
            _ => Seg::Unknown,
        })
        .collect();
    while segs.last() == Some(&Seg::Unknown) {
        segs.pop();
    }
    segs
}

/// A document being loaded.
#[derive(Clone, Copy)]
struct Source<'a> {
    format: Format,
    text: &'a str,
    /// The name of a list given bare (a JSON array): its path starts with the name, which
    /// the document does not hold.
    bare: Option<&'static str>,
}

impl Source<'_> {
    fn prefix(&self) -> Vec<Seg> {
        self.bare
            .map(|name| Seg::Key(name.to_owned()))
            .into_iter()
            .collect()
    }

    /// The scalar at `path` in the document, as written, and whether it is text.
    fn value_at(&self, path: &[Seg]) -> Option<(String, bool)> {
        let path = path.get(usize::from(self.bare.is_some())..)?;
        match self.format {
            Format::Json => {
                let doc: serde_json::Value = serde_json::from_str(self.text).ok()?;
                json_value_at(&doc, path)
            }
            #[cfg(feature = "toml")]
            Format::Toml => {
                let doc: toml::Table = self.text.parse().ok()?;
                toml_value_at(&toml::Value::Table(doc), path)
            }
            #[cfg(not(feature = "toml"))]
            Format::Toml => None,
        }
    }

    /// The error for a value the format or this crate refused while reading.
    fn refused(
        &self,
        kind: LoadErrorKind,
        mut path: Vec<Seg>,
        message: String,
        raised: Option<ValidationError>,
        (line, column): (Option<usize>, Option<usize>),
    ) -> LoadError {
        // The typed error, if it is the one the format reports.
        let typed = raised.filter(|v| v.to_string() == message);
        let amount = Seg::Key("amount".to_owned());
        if matches!(typed, Some(ValidationError::InvalidAmount { .. }))
            && (path.last() != Some(&amount)
                || self
                    .value_at(&[path.as_slice(), std::slice::from_ref(&amount)].concat())
                    .is_some())
        {
            // Refused by `Money`, which reads its currency first: the amount is the field.
            path.push(amount);
        }
        let shown_path = render(&path);
        let typed = typed.map(|v| {
            if path.is_empty() {
                v
            } else {
                v.with_field(&shown_path)
            }
        });
        let value = self
            .value_at(&path)
            .or_else(|| typed.as_ref().and_then(typed_value).map(|v| (v, true)));
        LoadError {
            details: Box::new(Details {
                format: self.format,
                kind,
                path: shown_path,
                text: value.as_ref().is_none_or(|(_, text)| *text),
                value: value.map(|(v, _)| v),
                reason: typed.as_ref().map_or(message, ToString::to_string),
                line,
                column,
            }),
            validation: typed.map(Box::new),
        }
    }

    /// The error for a document that reads but is not valid: `err` at `path`.
    fn invalid(&self, mut path: Vec<Seg>, err: ValidationError) -> LoadError {
        let mut value = self.value_at(&path);
        // An amount of money is written `{amount, currency}`: the error names the part that
        // is wrong, with its value.
        let part = match &err {
            ValidationError::NegativeAmount { .. }
            | ValidationError::NegativeSetting { .. }
            | ValidationError::AmountOverflow { .. } => Some("amount"),
            ValidationError::CurrencyMismatch { .. } => Some("currency"),
            _ => None,
        };
        if let (None, Some(part)) = (&value, part) {
            let mut inner = path.clone();
            inner.push(Seg::Key(part.to_owned()));
            if let Some(found) = self.value_at(&inner) {
                value = Some(found);
                path = inner;
            }
        }
        LoadError {
            details: Box::new(Details {
                format: self.format,
                kind: LoadErrorKind::Invalid,
                path: render(&path),
                text: value.as_ref().is_none_or(|(_, text)| *text),
                value: value.map(|(v, _)| v),
                reason: err.to_string(),
                line: None,
                column: None,
            }),
            validation: Some(Box::new(err)),
        }
    }

    /// Reads the document as a `T`.
    fn read<T: DeserializeOwned>(&self) -> Result<T, LoadError> {
        match self.format {
            Format::Json => self.read_json(),
            #[cfg(feature = "toml")]
            Format::Toml => self.read_toml(),
            #[cfg(not(feature = "toml"))]
            Format::Toml => Err(self.refused(
                LoadErrorKind::Syntax,
                Vec::new(),
                "TOML is read only with the cargo feature `toml`".to_owned(),
                None,
                (None, None),
            )),
        }
    }

    fn read_json<T: DeserializeOwned>(&self) -> Result<T, LoadError> {
        let (read, raised) = capture(|| {
            let mut de = serde_json::Deserializer::from_str(self.text);
            let value: T = serde_path_to_error::deserialize(&mut de)
                .map_err(|e| (Some(segments(e.path())), e.into_inner()))?;
            // Trailing characters, as `serde_json::from_str` refuses them: after the
            // document, so at no path.
            de.end().map_err(|e| (None, e))?;
            Ok::<T, (Option<Vec<Seg>>, serde_json::Error)>(value)
        });
        read.map_err(|(in_document, inner)| {
            let path = in_document.map_or_else(Vec::new, |segs| {
                let mut path = self.prefix();
                path.extend(segs);
                path
            });
            let kind = match inner.classify() {
                serde_json::error::Category::Data => LoadErrorKind::Data,
                _ => LoadErrorKind::Syntax,
            };
            let (line, column) = (inner.line(), inner.column());
            let mut message = inner.to_string();
            if line > 0 {
                // The message without the position serde_json adds (given apart).
                let at = format!(" at line {line} column {column}");
                if message.ends_with(&at) {
                    message.truncate(message.len() - at.len());
                }
            }
            let position = if line > 0 {
                // At the end of an empty document serde_json says column 0.
                (Some(line), Some(column.max(1)))
            } else {
                (None, None)
            };
            self.refused(kind, path, message, raised, position)
        })
    }

    #[cfg(feature = "toml")]
    fn read_toml<T: DeserializeOwned>(&self) -> Result<T, LoadError> {
        let position = |span: Option<std::ops::Range<usize>>| {
            span.map_or((None, None), |span| {
                let (line, column) = line_column(self.text, span.start);
                (Some(line), Some(column))
            })
        };
        let mut root = match toml::de::DeTable::parse(self.text) {
            Ok(root) => root,
            Err(e) => {
                let syntax = self.refused(
                    LoadErrorKind::Syntax,
                    Vec::new(),
                    e.message().to_owned(),
                    None,
                    position(e.span()),
                );
                // A date or time that is none (`2026-02-30`) is refused by the TOML parser
                // without its field: read quoted, it is named by its path, as a quoted one is.
                return Err(e
                    .span()
                    .and_then(|span| date_quoted(self.text, span.start))
                    .and_then(|quoted| {
                        let again = Source {
                            text: &quoted,
                            ..*self
                        };
                        let named = again.read_toml::<T>().err()?;
                        (!named.path().is_empty()).then(|| LoadError {
                            details: Box::new(Details {
                                line: syntax.line(),
                                column: syntax.column(),
                                ..*named.details
                            }),
                            ..named
                        })
                    })
                    .unwrap_or(syntax));
            }
        };
        // TOML's own dates and times (`issued_on = 2026-03-01`) read as the same text quoted.
        for (_, value) in root.get_mut().iter_mut() {
            dates_as_text(value.get_mut());
        }
        let de = toml::Deserializer::from(root);
        let (read, raised) = capture(|| serde_path_to_error::deserialize(de));
        read.map_err(|err| {
            let inner = err.inner();
            self.refused(
                LoadErrorKind::Data,
                segments(err.path()),
                inner.message().to_owned(),
                raised,
                position(inner.span()),
            )
        })
    }
}

/// `text` with the TOML date or time literal at byte `at` quoted, if one is there: digits,
/// dashes and colons (and `T`, `Z`, `.`, `+` between them) up to the end of the value.
#[cfg(feature = "toml")]
fn date_quoted(text: &str, at: usize) -> Option<String> {
    let rest = text.get(at..)?;
    let len = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | ':' | '.' | '+')))
        .unwrap_or(rest.len());
    let literal = &rest[..len];
    let looks_like_one = literal.starts_with(|c: char| c.is_ascii_digit())
        && literal.contains(['-', ':'])
        && literal
            .bytes()
            .all(|b| b.is_ascii_digit() || b"-:.+TZtz".contains(&b));
    looks_like_one.then(|| format!("{}\"{literal}\"{}", &text[..at], &rest[len..]))
}

/// Every TOML date, time or date-time in `value` as its text (RFC 3339, as TOML writes it),
/// which is how the crate's dates and times read.
#[cfg(feature = "toml")]
fn dates_as_text(value: &mut toml::de::DeValue<'_>) {
    use toml::de::DeValue;
    match value {
        DeValue::Datetime(at) => *value = DeValue::String(at.to_string().into()),
        DeValue::Array(list) => {
            for v in list.iter_mut() {
                dates_as_text(v.get_mut());
            }
        }
        DeValue::Table(table) => {
            for (_, v) in table.iter_mut() {
                dates_as_text(v.get_mut());
            }
        }
        _ => {}
    }
}

/// The 1-based line and column (in characters) of byte `at` of `text`.
#[cfg(feature = "toml")]
fn line_column(text: &str, at: usize) -> (usize, usize) {
    let before = text.get(..at).unwrap_or(text);
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let column = before.get(line_start..).map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

fn json_value_at(doc: &serde_json::Value, path: &[Seg]) -> Option<(String, bool)> {
    use serde_json::Value;
    let mut at = doc;
    for seg in path {
        at = match (seg, at) {
            (Seg::Key(key) | Seg::Variant(key), Value::Object(map)) => map.get(key)?,
            (Seg::Index(i), Value::Array(list)) => list.get(*i)?,
            // A unit variant written as a string.
            (Seg::Variant(_), Value::String(_)) => at,
            _ => return None,
        };
    }
    match at {
        Value::String(s) => Some((s.clone(), true)),
        Value::Number(n) => Some((n.to_string(), false)),
        Value::Bool(b) => Some((b.to_string(), false)),
        _ => None,
    }
}

#[cfg(feature = "toml")]
fn toml_value_at(doc: &toml::Value, path: &[Seg]) -> Option<(String, bool)> {
    use toml::Value;
    let mut at = doc;
    for seg in path {
        at = match (seg, at) {
            (Seg::Key(key) | Seg::Variant(key), Value::Table(table)) => table.get(key)?,
            (Seg::Index(i), Value::Array(list)) => list.get(*i)?,
            (Seg::Variant(_), Value::String(_)) => at,
            _ => return None,
        };
    }
    match at {
        Value::String(s) => Some((s.clone(), true)),
        Value::Integer(n) => Some((n.to_string(), false)),
        Value::Float(n) => Some((n.to_string(), false)),
        Value::Boolean(b) => Some((b.to_string(), false)),
        Value::Datetime(d) => Some((d.to_string(), false)),
        _ => None,
    }
}

/// The value a typed error names, for a value the document does not show at its path.
fn typed_value(err: &ValidationError) -> Option<String> {
    match err {
        ValidationError::UnknownCurrency { value, .. }
        | ValidationError::UnknownTimeZone { value, .. }
        | ValidationError::InvalidAmount { value, .. }
        | ValidationError::InvalidId { value, .. }
        | ValidationError::UnknownName { value, .. } => Some(value.clone()),
        ValidationError::CurrencyWithoutMinorUnit { code, .. } => Some(code.clone()),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------
// Documents.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClientsDoc {
    #[serde(default)]
    clients: Vec<Client>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ItemsDoc {
    #[serde(default)]
    items: Vec<Item>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SnapshotDoc {
    #[serde(default)]
    clients: Vec<Client>,
    #[serde(default)]
    items: Vec<Item>,
    #[serde(default)]
    history: Vec<HistoryEntry>,
}

/// A JSON list, given bare (`[...]`) or as `{"name": [...]}`: the source and what it reads.
fn json_list<'a, T: DeserializeOwned, D: DeserializeOwned>(
    text: &'a str,
    name: &'static str,
    list: impl FnOnce(D) -> Vec<T>,
) -> (Source<'a>, Result<Vec<T>, LoadError>) {
    let bare = text.trim_start().starts_with('[');
    let source = Source {
        format: Format::Json,
        text,
        bare: bare.then_some(name),
    };
    let read = if bare {
        source.read()
    } else {
        source.read().map(list)
    };
    (source, read)
}

/// The path of element `i` of list `name`, then `field` in it.
fn at(name: &str, i: usize, field: Option<&str>) -> Vec<Seg> {
    let mut path = vec![Seg::Key(name.to_owned()), Seg::Index(i)];
    path.extend(field.map(parse_field).unwrap_or_default());
    path
}

/// The field of an item that `err` names, relative to the item.
fn item_field(err: &ValidationError) -> Option<String> {
    use ValidationError as E;
    Some(match err {
        E::DueBeforeIssue { .. } => "due_on".to_owned(),
        E::BeforeIssue { field, .. }
        | E::MissingField { field, .. }
        | E::ZeroSpacing { field, .. }
        | E::ZeroCount { field, .. } => (*field).to_owned(),
        E::NegativeAmount { field, .. }
        | E::CurrencyMismatch { field, .. }
        | E::AmountOverflow { field, .. }
        | E::PauseEndsBeforeStart { field, .. } => field.clone(),
        E::OverLimit { field, .. } | E::LineBreak { field, .. } | E::ControlCharacter { field, .. } => {
            field.rsplit_once(": ")?.1.to_owned()
        }
        _ => return None,
    })
}

/// The field of `client` that `err` names, relative to the client, as a path.
fn client_field(client: &Client, err: &ValidationError) -> Option<Vec<Seg>> {
    use ValidationError as E;
    // Fields named `client ID: FIELD`, FIELD as written in the document.
    let named = |field: &str| -> Option<Vec<Seg>> {
        let (owner, field) = field.split_once(": ")?;
        if owner.strip_prefix("client ")? != client.id.as_str() {
            return None;
        }
        // A rule override's field: the rule id is one key, whatever it holds (a `.`, `[`).
        if let Some(rest) = field.strip_prefix("overrides.rules.") {
            let (id, name) = client.overrides.rules.keys().find_map(|id| {
                let name = rest.strip_prefix(id.as_str())?.strip_prefix('.')?;
                ["offset_days", "every_days", "count"]
                    .contains(&name)
                    .then_some((id, name))
            })?;
            let mut path = vec![
                Seg::Key("overrides".to_owned()),
                Seg::Key("rules".to_owned()),
                Seg::Key(id.to_string()),
            ];
            path.extend(parse_field(name));
            return Some(path);
        }
        Some(parse_field(field))
    };
    match err {
        E::InvalidEmail { contact, value, .. } => client
            .contacts
            .iter()
            .position(|c| &c.name == contact && &c.email == value)
            .map(|k| parse_field(&format!("contacts[{k}].email"))),
        E::PauseEndsBeforeStart { field, .. } => Some(parse_field(field)),
        E::OverLimit { field, .. }
        | E::InvalidAddress { field, .. }
        | E::LineBreak { field, .. }
        | E::ControlCharacter { field, .. }
        | E::LeapSecond { field, .. }
        | E::PaymentTermOutOfRange { field, .. } => named(field),
        _ => None,
    }
}

fn check_clients(source: &Source<'_>, clients: &[Client]) -> Result<(), LoadError> {
    let mut ids = HashSet::with_capacity(clients.len());
    for (i, client) in clients.iter().enumerate() {
        if let Err(err) = client.validate() {
            let mut path = at("clients", i, None);
            path.extend(client_field(client, &err).unwrap_or_default());
            return Err(source.invalid(path, err));
        }
        if !ids.insert(client.id.as_str()) {
            let err = ValidationError::DuplicateId {
                kind: "client",
                id: client.id.to_string(),
            };
            return Err(source.invalid(at("clients", i, Some("id")), err));
        }
    }
    Ok(())
}

fn check_items(source: &Source<'_>, items: &[Item]) -> Result<(), LoadError> {
    let mut ids = HashSet::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        if let Err(err) = item.validate() {
            let field = item_field(&err);
            return Err(source.invalid(at("items", i, field.as_deref()), err));
        }
        if !ids.insert(item.id.as_str()) {
            let err = ValidationError::DuplicateId {
                kind: "item",
                id: item.id.to_string(),
            };
            return Err(source.invalid(at("items", i, Some("id")), err));
        }
    }
    Ok(())
}

fn clients(source: Source<'_>, read: Result<Vec<Client>, LoadError>) -> Result<Vec<Client>, LoadError> {
    let clients = read?;
    check_clients(&source, &clients)?;
    Ok(clients)
}

fn items(source: Source<'_>, read: Result<Vec<Item>, LoadError>) -> Result<Vec<Item>, LoadError> {
    let items = read?;
    check_items(&source, &items)?;
    Ok(items)
}

fn snapshot(source: Source<'_>) -> Result<Snapshot, LoadError> {
    let doc: SnapshotDoc = source.read()?;
    check_clients(&source, &doc.clients)?;
    check_items(&source, &doc.items)?;
    let known: HashSet<&str> = doc.clients.iter().map(|c| c.id.as_str()).collect();
    if let Some((i, item)) = doc
        .items
        .iter()
        .enumerate()
        .find(|(_, item)| !known.contains(item.client.as_str()))
    {
        let err = ValidationError::UnknownClient {
            item: item.id.to_string(),
            client: item.client.to_string(),
        };
        return Err(source.invalid(at("items", i, Some("client")), err));
    }
    Ok(Snapshot {
        clients: doc.clients,
        items: doc.items,
        history: doc.history,
    })
}

/// Loads clients from JSON: a list (`[{...}, ...]`) or an object with the one key
/// `clients`. Each client is validated ([`Client::validate`]) and ids must be unique;
/// overrides are checked against the policy by the planner.
///
/// # Errors
/// A [`LoadError`] naming the path of the bad value (`clients[0].time_zone`) however the
/// list is given.
///
/// # Example
/// ```
/// let clients = dunning::load::clients_from_json(
///     r#"{"clients": [{"id": "acme", "name": "ACME SpA", "time_zone": "America/Santiago"}]}"#,
/// )?;
/// assert_eq!(clients[0].id.as_str(), "acme");
///
/// let err = dunning::load::clients_from_json(
///     r#"[{"id": "acme", "name": "ACME", "contacts": [{"name": "Ana", "email": "ana-at-acme"}]}]"#,
/// )
/// .unwrap_err();
/// assert_eq!(err.path(), "clients[0].contacts[0].email");
/// assert_eq!(err.value(), Some("ana-at-acme"));
/// # Ok::<(), dunning::LoadError>(())
/// ```
pub fn clients_from_json(text: &str) -> Result<Vec<Client>, LoadError> {
    let (source, read) = json_list(text, "clients", |d: ClientsDoc| d.clients);
    clients(source, read)
}

/// Loads items from JSON: a list (`[{...}, ...]`) or an object with the one key `items`.
/// Each item is validated ([`Item::validate`]) and ids must be unique.
///
/// # Errors
/// A [`LoadError`] naming the path of the bad value (`items[3].total.currency`) however the
/// list is given.
///
/// # Example
/// ```
/// let json = r#"[{"id": "F-1", "client": "acme", "issued_on": "2026-03-02",
///                "total": {"currency": "USD", "amount": "12.345"}}]"#;
/// let err = dunning::load::items_from_json(json).unwrap_err();
/// assert_eq!(err.path(), "items[0].total.amount");
/// assert_eq!(err.value(), Some("12.345"));
/// assert!(err.to_string().starts_with(
///     "items[0].total.amount: invalid amount \"12.345\" in USD: more decimals than the currency's minor unit"
/// ));
/// ```
pub fn items_from_json(text: &str) -> Result<Vec<Item>, LoadError> {
    let (source, read) = json_list(text, "items", |d: ItemsDoc| d.items);
    items(source, read)
}

/// Loads a [`Snapshot`] from a JSON object with the keys `clients`, `items` and `history`
/// (each optional, none other). Clients and items are validated as by
/// [`clients_from_json`] and [`items_from_json`], and every item's client must be among
/// the clients.
///
/// # Errors
/// A [`LoadError`] naming the path of the bad value (`items[3].client`).
///
/// # Example
/// ```
/// let snapshot = dunning::load::snapshot_from_json(r#"{
///     "clients": [{"id": "acme", "name": "ACME SpA"}],
///     "items": [{"id": "F-1", "client": "acme", "issued_on": "2026-03-02",
///                "total": {"currency": "CLP", "amount": 119000}}]
/// }"#)?;
/// assert_eq!(snapshot.items.len(), 1);
///
/// let err = dunning::load::snapshot_from_json(r#"{"clients": [], "items": [
///     {"id": "F-1", "client": "acme", "issued_on": "2026-03-02", "total": {"currency": "CLP", "amount": 1}}
/// ]}"#)
/// .unwrap_err();
/// assert_eq!(err.path(), "items[0].client");
/// assert_eq!(err.value(), Some("acme"));
/// # Ok::<(), dunning::LoadError>(())
/// ```
pub fn snapshot_from_json(text: &str) -> Result<Snapshot, LoadError> {
    snapshot(Source {
        format: Format::Json,
        text,
        bare: None,
    })
}

/// Loads clients from TOML: an array of tables `[[clients]]`. Checked as by
/// [`clients_from_json`].
///
/// # Errors
/// A [`LoadError`] naming the path of the bad value (`clients[0].time_zone`).
///
/// # Example
/// ```
/// let err = dunning::load::clients_from_toml(r#"
///     [[clients]]
///     id = "acme"
///     name = "ACME SpA"
///     time_zone = "Mars/Base"
/// "#)
/// .unwrap_err();
/// assert_eq!(err.path(), "clients[0].time_zone");
/// assert_eq!(err.value(), Some("Mars/Base"));
/// assert_eq!((err.line(), err.column()), (Some(5), Some(17)));
/// ```
#[cfg(feature = "toml")]
pub fn clients_from_toml(text: &str) -> Result<Vec<Client>, LoadError> {
    let source = Source {
        format: Format::Toml,
        text,
        bare: None,
    };
    clients(source, source.read().map(|d: ClientsDoc| d.clients))
}

/// Loads items from TOML: an array of tables `[[items]]`. Checked as by
/// [`items_from_json`].
///
/// # Errors
/// A [`LoadError`] naming the path of the bad value (`items[3].total.currency`).
///
/// # Example
/// ```
/// let items = dunning::load::items_from_toml(r#"
///     [[items]]
///     id = "F-1"
///     client = "acme"
///     issued_on = "2026-03-02"
///     total = { currency = "CLP", amount = 119000 }
/// "#)?;
/// assert_eq!(items[0].total.unwrap().minor(), 119_000);
/// # Ok::<(), dunning::LoadError>(())
/// ```
#[cfg(feature = "toml")]
pub fn items_from_toml(text: &str) -> Result<Vec<Item>, LoadError> {
    let source = Source {
        format: Format::Toml,
        text,
        bare: None,
    };
    items(source, source.read().map(|d: ItemsDoc| d.items))
}

/// Loads a [`Snapshot`] from TOML: `[[clients]]`, `[[items]]` and `[[history]]` (each
/// optional, nothing else). Checked as by [`snapshot_from_json`].
///
/// # Errors
/// A [`LoadError`] naming the path of the bad value.
///
/// # Example
/// ```
/// let snapshot = dunning::load::snapshot_from_toml(r#"
///     [[clients]]
///     id = "acme"
///     name = "ACME SpA"
/// "#)?;
/// assert_eq!(snapshot.clients.len(), 1);
/// assert!(snapshot.items.is_empty());
/// # Ok::<(), dunning::LoadError>(())
/// ```
#[cfg(feature = "toml")]
pub fn snapshot_from_toml(text: &str) -> Result<Snapshot, LoadError> {
    snapshot(Source {
        format: Format::Toml,
        text,
        bare: None,
    })
}

/// The field of `policy` that its validation error `err` names.
fn policy_field(policy: &Policy, err: &ValidationError) -> Option<String> {
    use ValidationError as E;
    let rule = |id: &str| {
        policy
            .rules
            .iter()
            .position(|r| r.id.as_str() == id)
            .map(|i| format!("rules[{i}]"))
    };
    let statement = |id: &str| {
        policy
            .statements
            .iter()
            .position(|s| s.id.as_str() == id)
            .map(|i| format!("statements[{i}]"))
    };
    Some(match err {
        E::PaymentTermOutOfRange { field, .. } => field.strip_prefix("policy.")?.to_owned(),
        E::NoWorkingDay => "calendar.non_working_weekdays".to_owned(),
        E::ZeroSpacing { rule: id, field, .. }
        | E::ZeroCount { rule: id, field, .. }
        | E::InvalidRuleField { rule: id, field, .. } => format!("{}.{field}", rule(id)?),
        E::RepeatWithoutSpacing { rule: id, .. } => format!("{}.count", rule(id)?),
        E::InvalidRecurrence { rule: id, .. } => format!("{}.rrule", statement(id)?),
        E::StandingThresholds { .. } => "standing".to_owned(),
        E::OverLimit { field, .. }
        | E::NegativeSetting { field, .. }
        | E::LeapSecond { field, .. }
        | E::InvalidAddress { field, .. }
        | E::LineBreak { field, .. }
        | E::ControlCharacter { field, .. } => {
            let (owner, field) = field.split_once(": ")?;
            match owner {
                "policy" => field.to_owned(),
                "policy.standing" => format!("standing.{field}"),
                _ => match owner.split_once(' ')? {
                    ("rule", id) => format!("{}.{field}", rule(id)?),
                    ("statement", id) => format!("{}.{field}", statement(id)?),
                    _ => return None,
                },
            }
        }
        E::DuplicateId { id, .. } => {
            // The second of the ids in the order the validation reads them.
            let standing = policy.standing.iter().flat_map(|s| {
                [
                    ("standing.closing_soon_id".to_owned(), &s.closing_soon_id),
                    ("standing.closed_id".to_owned(), &s.closed_id),
                ]
            });
            let statements =
                (policy.statements.iter().enumerate()).map(|(i, s)| (format!("statements[{i}].id"), &s.id));
            let rules = (policy.rules.iter().enumerate()).map(|(i, r)| (format!("rules[{i}].id"), &r.id));
            statements
                .chain(standing)
                .chain(rules)
                .filter(|(_, rid)| rid.as_str() == id)
                .nth(1)?
                .0
        }
        E::ReservedId { id } => {
            let standing = policy.standing.iter().flat_map(|s| {
                [
                    ("standing.closing_soon_id".to_owned(), &s.closing_soon_id),
                    ("standing.closed_id".to_owned(), &s.closed_id),
                ]
            });
            let statements =
                (policy.statements.iter().enumerate()).map(|(i, s)| (format!("statements[{i}].id"), &s.id));
            let rules = (policy.rules.iter().enumerate()).map(|(i, r)| (format!("rules[{i}].id"), &r.id));
            statements
                .chain(standing)
                .chain(rules)
                .find(|(_, rid)| rid.as_str() == id)?
                .0
        }
        _ => return None,
    })
}

pub(crate) fn policy(format: Format, text: &str) -> Result<Policy, LoadError> {
    let source = Source {
        format,
        text,
        bare: None,
    };
    let policy: Policy = source.read()?;
    policy.validate().map_err(|err| {
        let field = policy_field(&policy, &err);
        source.invalid(field.as_deref().map(parse_field).unwrap_or_default(), err)
    })?;
    Ok(policy)
}
