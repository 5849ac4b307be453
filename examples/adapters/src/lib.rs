//! Example adapters for [`dunning`], for hosts to copy: a [`Store`](dunning::Store) on SQLite,
//! a [`Mailer`](dunning::Mailer) over SMTP, and one that writes `.eml` files into a folder.
//! The quickstart example runs them together.
//!
//! ```text
//! cargo run --example quickstart
//! ```

#![forbid(unsafe_code)]

pub mod outbox;
pub mod pg_store;
pub mod smtp;
pub mod sqlite_store;

use dunning::{EventKey, MailError, Mailbox, Message};

/// The domain of a Message-ID when the message has no sender (or the sender's domain cannot
/// stand in a Message-ID): see [`message_id`].
pub const DEFAULT_MESSAGE_ID_DOMAIN: &str = "dunning.local";

/// The Message-ID of a message: [`message_id_for`] its key and its sender
/// ([`Message::from`]).
///
/// # Example
/// ```
/// # use dunning::{Mailbox, Message};
/// # let mut m: Message = serde_json::from_value(serde_json::json!({
/// #     "key": "overdue/F-1001/1", "to": [{"email": "ana@acme.example"}],
/// #     "subject": "s", "text": "t", "locale": "es"})).unwrap();
/// assert_eq!(dunning_adapters::message_id(&m), "<dunning.overdue/F-1001/1@dunning.local>");
/// m.from = Some(Mailbox { name: None, email: "cobranza@Andinos.example".into() });
/// assert_eq!(dunning_adapters::message_id(&m), "<dunning.overdue/F-1001/1@andinos.example>");
/// // Keys that a lossy sanitizer would merge keep distinct ids.
/// m.key = "a_b/c/1".into();
/// assert_eq!(dunning_adapters::message_id(&m), "<dunning.a_b/c/1@andinos.example>");
/// m.key = "a/b_c/1".into();
/// assert_eq!(dunning_adapters::message_id(&m), "<dunning.a/b_c/1@andinos.example>");
/// m.key = "manual/F.1/2026-03-02T12:00:00Z".into();
/// assert_eq!(
///     dunning_adapters::message_id(&m),
///     "<dunning.manual/F%2E1/2026-03-02T12%3A00%3A00Z@andinos.example>"
/// );
/// ```
#[must_use]
pub fn message_id(m: &Message) -> String {
    message_id_for(&m.key, m.from.as_ref())
}

/// A Message-ID (RFC 5322 `msg-id`) that embeds the event key, sent from `sender`:
/// `<dunning.KEY@DOMAIN>`.
///
/// - `KEY` is the key with every byte outside `A-Z a-z 0-9 - _ /` written `%XX` (uppercase
///   hex of each UTF-8 byte, `%` itself included): two distinct keys give two distinct ids,
///   and the result is always a dot-atom (the only dot is the one after `dunning`).
/// - `DOMAIN` is the sender's domain in lowercase, so that two companies running the
///   adapter never share an id; with no sender, or a domain that cannot stand in a msg-id
///   (not ASCII, say), it is [`DEFAULT_MESSAGE_ID_DOMAIN`], shared by every such sender.
///
/// The same key from the same sender always gives the same id: a resent message (a retry, a
/// send whose outcome was unknown and was released) carries the id of the first, and a
/// mailbox that de-duplicates by Message-ID keeps one of them.
#[must_use]
pub fn message_id_for(key: &EventKey, sender: Option<&Mailbox>) -> String {
    let left = escape_key(key.as_str(), |b| {
        b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'/')
    });
    let domain = sender
        .and_then(|s| s.email.rsplit_once('@'))
        .map(|(_, domain)| domain.to_ascii_lowercase())
        .filter(|d| is_msg_id_domain(d))
        .unwrap_or_else(|| DEFAULT_MESSAGE_ID_DOMAIN.to_owned());
    if left.is_empty() {
        format!("<dunning@{domain}>")
    } else {
        format!("<dunning.{left}@{domain}>")
    }
}

/// The key with every byte for which `keep` is false written `%XX` (uppercase hex). `keep`
/// must be false for `%`, which makes the escaping injective: the original key is read back
/// by replacing each `%XX` with its byte.
pub(crate) fn escape_key(key: &str, keep: impl Fn(u8) -> bool) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(key.len());
    for b in key.bytes() {
        if b != b'%' && keep(b) {
            out.push(char::from(b));
        } else {
            // Writing into a String cannot fail.
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// Whether `d` may stand as the right side of a msg-id (RFC 5322 3.6.4 `id-right`): a
/// dot-atom (atext runs joined by single dots) or a literal in brackets.
fn is_msg_id_domain(d: &str) -> bool {
    let atext = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c);
    if let Some(inner) = d.strip_prefix('[').and_then(|d| d.strip_suffix(']')) {
        // dtext: printable ASCII but brackets and backslash.
        return inner
            .bytes()
            .all(|b| (33..=126).contains(&b) && !matches!(b, b'[' | b']' | b'\\'));
    }
    !d.is_empty() && d.split('.').all(|run| !run.is_empty() && run.chars().all(atext))
}

/// The mailbox for lettre, which quotes or encodes its display name when written.
///
/// # Errors
/// [`MailError::Permanent`] for an address lettre does not parse, and for a display name
/// holding a line break or another control character, or a run of more than
/// [`LONGEST_WORD`] bytes without a space as written (quotes and backslashes escaped): no
/// header line may hold it.
pub(crate) fn lettre_mailbox(m: &Mailbox) -> Result<lettre::message::Mailbox, MailError> {
    let address = m
        .email
        .parse()
        .map_err(|e| MailError::Permanent(format!("address {:?}: {e}", m.email)))?;
    if let Some(name) = &m.name {
        if name
            .chars()
            .any(|c| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}'))
        {
            return Err(MailError::Permanent(format!(
                "display name of {:?}: {:?} holds a line break or a control character",
                m.email,
                name.escape_debug().to_string()
            )));
        }
        // As written: a quoted name escapes each quote and backslash with a backslash.
        let written = |word: &str| word.len() + word.matches(['"', '\\']).count();
        if name.split(' ').any(|word| written(word) > LONGEST_WORD) {
            return Err(MailError::Permanent(format!(
                "display name of {:?}: a run of more than {LONGEST_WORD} bytes without a space",
                m.email
            )));
        }
    }
    Ok(lettre::message::Mailbox::new(m.name.clone(), address))
}

/// The longest run of text without a space a header value is written with as it is
/// (folded at its spaces); past it, the whole value is written as RFC 2047 encoded words,
/// which fold anywhere, so that no line of a message passes the 998 characters RFC 5322
/// allows (and SMTP's 1,000 octets with CR LF).
pub(crate) const LONGEST_WORD: usize = 900;

/// The header `name: text`, encoded (RFC 2047) and folded, every line within 998 characters
/// however long a word of `text` is.
pub(crate) fn header_value(
    name: lettre::message::header::HeaderName,
    text: &str,
) -> lettre::message::header::HeaderValue {
    use lettre::message::header::HeaderValue;
    if text.split(' ').all(|word| word.len() <= LONGEST_WORD) {
        return HeaderValue::new(name, text.to_owned());
    }
    let mut encoded = String::with_capacity(text.len() * 2);
    {
        let mut writer =
            email_encoding::headers::writer::EmailWriter::new(&mut encoded, name.len() + 2, 0, false);
        // Writing to a String does not fail.
        let _ = email_encoding::headers::rfc2047::encode(text, &mut writer);
    }
    // Only printable ASCII and folding (encoded words): nothing can start a header of its own.
    HeaderValue::dangerous_new_pre_encoded(name, text.to_owned(), encoded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_with_a_word_too_long_for_a_line_is_written_as_folded_encoded_words() {
        use lettre::message::header::HeaderName;
        let subject = || HeaderName::new_from_ascii_str("Subject");
        let mut headers = lettre::message::header::Headers::new();
        headers.insert_raw(header_value(subject(), "Su factura N° 8"));
        assert_eq!(headers.to_string(), "Subject: Su factura =?utf-8?b?TsKw?= 8\r\n");
        for long in [
            "W".repeat(5_000),
            format!("N {}", "ñ".repeat(3_000)),
            "x".repeat(LONGEST_WORD + 1),
        ] {
            let mut headers = lettre::message::header::Headers::new();
            headers.insert_raw(header_value(subject(), &long));
            let text = headers.to_string();
            let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
            assert!(lines.len() > 1, "{text}");
            assert!(lines.iter().all(|l| l.len() <= 78 && l.is_ascii()), "{text}");
            assert!(lines[0].starts_with("Subject: =?utf-8?b?"), "{text}");
            assert!(lines[1..].iter().all(|l| l.starts_with(' ')), "{text}");
        }
        // A word as long as a line may hold stays as it is.
        let mut headers = lettre::message::header::Headers::new();
        headers.insert_raw(header_value(subject(), &"x".repeat(LONGEST_WORD)));
        assert!(headers.to_string().contains(&"x".repeat(LONGEST_WORD)));
    }

    #[test]
    fn display_names_with_line_breaks_controls_or_endless_words_are_refused() {
        for bad in [
            "A\r\nBcc: x@y.example",
            "A\nB",
            "A\rB",
            "A\u{0}B",
            "A\u{2028}B",
            &"w".repeat(LONGEST_WORD + 1),
            &"\"".repeat(LONGEST_WORD / 2 + 1),
            &"\\".repeat(LONGEST_WORD / 2 + 1),
        ] {
            let m = Mailbox {
                name: Some(bad.to_owned()),
                email: "ana@acme.example".into(),
            };
            match lettre_mailbox(&m) {
                Err(MailError::Permanent(reason)) => assert!(reason.contains("ana@acme.example"), "{reason}"),
                other => panic!("{bad:?}: {other:?}"),
            }
        }
        // A long name of short words, quoted, folds at its spaces.
        for name in ["ab\" ".repeat(1_500), "ñ, ".repeat(1_500), "a\\b ".repeat(1_500)] {
            let m = Mailbox {
                name: Some(name.clone()),
                email: "ana@acme.example".into(),
            };
            let mailbox = lettre_mailbox(&m).unwrap();
            let email = lettre::Message::builder()
                .from(mailbox.clone())
                .to(mailbox)
                .body(String::from("x"))
                .unwrap();
            let text = String::from_utf8(email.formatted()).unwrap();
            let longest = text.split("\r\n").map(str::len).max().unwrap();
            assert!(longest <= 998, "{name:?}: a line of {longest}");
        }
        let fine = Mailbox {
            name: Some("Ana Pérez, \"Cobranza\"".into()),
            email: "ana@acme.example".into(),
        };
        assert!(lettre_mailbox(&fine).is_ok());
    }

    #[test]
    fn escaping_is_injective_and_keeps_the_safe_set() {
        let keep = |b: u8| b.is_ascii_alphanumeric() || b == b'-';
        assert_eq!(escape_key("F-1.%/ñ", keep), "F-1%2E%25%2F%C3%B1");
        let keys = ["a_b/c", "a/b_c", "a%2Fb", "a/b", "F.1", "F_1", "F%2E1", ""];
        let mut seen = std::collections::HashSet::new();
        for k in keys {
            assert!(seen.insert(escape_key(k, keep)), "{k}");
        }
    }

    #[test]
    fn msg_id_domains() {
        for ok in ["andinos.example", "[192.0.2.1]", "a-b.c"] {
            assert!(is_msg_id_domain(ok), "{ok}");
        }
        for bad in ["", ".a", "a.", "a..b", "añ.example", "a b", "a>b", "[a]b]", "a@b"] {
            assert!(!is_msg_id_domain(bad), "{bad}");
        }
    }
}
