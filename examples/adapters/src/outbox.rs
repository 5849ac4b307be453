//! A [`Mailer`] that writes each message as an `.eml` file into a folder: what the
//! quickstart uses when no SMTP server is configured. The files open in any mail client.

use std::path::PathBuf;

use async_trait::async_trait;
use dunning::{MailError, Mailer, Message, Receipt};
use lettre::message::header::{self, HeaderName, HeaderValue};
use lettre::message::{MultiPart, SinglePart};

use crate::{lettre_mailbox, message_id};

/// Writes messages as RFC 5322 files.
pub struct OutboxMailer {
    dir: PathBuf,
}

impl OutboxMailer {
    /// A mailer writing into `dir` (created if missing).
    pub fn new(dir: impl Into<PathBuf>) -> std::io::Result<Self> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir)?;
        Ok(Self { dir })
    }

    /// The folder.
    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }
}

/// How the headers that list attachment references are named: the first reference in
/// `X-Dunning-Attachment-1`, the second in `X-Dunning-Attachment-2`, and so on.
pub const ATTACHMENT_HEADER: &str = "X-Dunning-Attachment-";

/// The message as an RFC 5322 document with a text and, if any, an HTML part, built by
/// lettre's message builder: display names are quoted or encoded (a name holding commas or
/// angle brackets stays one name), every header is encoded and folded (a value holding a
/// line break cannot start a header of its own), and the MIME boundary is random (a body
/// cannot close a part and open another). The Message-ID is [`message_id`]; each attachment
/// reference is listed, encoded the same way, in a header of its own (see
/// [`ATTACHMENT_HEADER`]). Blind copies are left out of the file. A message without a sender
/// is written without `From`; the `Date` is when the file is written.
///
/// # Errors
/// [`MailError::Permanent`] for an address that does not parse or a message without
/// recipients.
pub fn to_eml(m: &Message) -> Result<Vec<u8>, MailError> {
    let mut b = lettre::Message::builder()
        .subject(m.subject.clone())
        .message_id(Some(message_id(m)));
    // lettre builds no message without a sender: a placeholder, removed below.
    b = b.from(match &m.from {
        Some(from) => lettre_mailbox(from)?,
        None => lettre::message::Mailbox::new(
            None,
            lettre::Address::new("dunning", "localhost").map_err(|e| MailError::Permanent(e.to_string()))?,
        ),
    });
    for to in &m.to {
        b = b.to(lettre_mailbox(to)?);
    }
    for cc in &m.cc {
        b = b.cc(lettre_mailbox(cc)?);
    }
    for r in &m.reply_to {
        b = b.reply_to(lettre_mailbox(r)?);
    }
    let built = match &m.html {
        Some(html) => b.multipart(MultiPart::alternative_plain_html(m.text.clone(), html.clone())),
        None => b.singlepart(SinglePart::plain(m.text.clone())),
    };
    let mut email = built.map_err(|e| MailError::Permanent(format!("building the message: {e}")))?;
    let headers = email.headers_mut();
    if m.from.is_none() {
        headers.remove::<header::From>();
    }
    for (n, reference) in m.attachments.iter().enumerate() {
        let name = HeaderName::new_from_ascii(format!("{ATTACHMENT_HEADER}{}", n + 1))
            .map_err(|e| MailError::Permanent(format!("attachment header: {e}")))?;
        // Encoded (RFC 2047) and folded like every other header: a line break in the
        // reference is written as part of an encoded word, never as a line of its own.
        headers.insert_raw(HeaderValue::new(name, reference.clone()));
    }
    Ok(email.formatted())
}

#[async_trait]
impl Mailer for OutboxMailer {
    async fn send(&self, message: &Message) -> Result<Receipt, MailError> {
        let name: String = message
            .key
            .as_str()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let path = self.dir.join(format!("{name}.eml"));
        std::fs::write(&path, to_eml(message)?)
            .map_err(|e| MailError::Transient(format!("writing {}: {e}", path.display())))?;
        Ok(Receipt {
            message_id: message_id(message),
        })
    }
}
