//! A [`Mailer`] that writes each message as an `.eml` file into a folder: what the
//! quickstart uses when no SMTP server is configured. The files open in any mail client.

use std::io::Write;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use dunning::{EventKey, MailError, Mailer, Message, Receipt};
use lettre::message::header::{self, HeaderName};
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
/// [`MailError::Permanent`] for an address that does not parse, a display name holding a
/// line break or another control character (or a run of more than 900 bytes without a
/// space: no header line could hold it), or a message without recipients. A subject or an
/// attachment reference with such a run is written as encoded words, folded within the line
/// limit.
pub fn to_eml(m: &Message) -> Result<Vec<u8>, MailError> {
    let mut b = lettre::Message::builder().message_id(Some(message_id(m)));
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
    // Folded within the line limit however long a word of it is.
    headers.insert_raw(crate::header_value(
        lettre::message::header::HeaderName::new_from_ascii_str("Subject"),
        &m.subject,
    ));
    if m.from.is_none() {
        headers.remove::<header::From>();
    }
    for (n, reference) in m.attachments.iter().enumerate() {
        let name = HeaderName::new_from_ascii(format!("{ATTACHMENT_HEADER}{}", n + 1))
            .map_err(|e| MailError::Permanent(format!("attachment header: {e}")))?;
        // Encoded (RFC 2047) and folded like every other header: a line break in the
        // reference is written as part of an encoded word, never as a line of its own, and
        // no line passes the limit however long a word of it is.
        headers.insert_raw(crate::header_value(name, reference));
    }
    Ok(email.formatted())
}

/// The file name a message is written under: [`file_stem`] of its key, then `.eml`.
#[must_use]
pub fn file_name(m: &Message) -> String {
    format!("{}.eml", file_stem(&m.key))
}

/// The key with every byte outside `a-z 0-9 - _` written `%XX` (uppercase hex of each UTF-8
/// byte, `%` itself included): `overdue/F.1/1` is `overdue%2F%46%2E1%2F1` and
/// `overdue/F_1/1` is `overdue%2F%46_1%2F1`. Distinct keys give distinct names, on file
/// systems that ignore letter case too (uppercase letters are escaped, so `F-1` and `f-1`
/// differ in more than case), and no name is hidden, holds a path separator, or is `.` or
/// `..`. A key long enough to pass the file system's limit on a name (255 bytes on most) is
/// refused by the file system, and the send fails with that error.
#[must_use]
pub fn file_stem(key: &EventKey) -> String {
    crate::escape_key(key.as_str(), |b| {
        b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_')
    })
}

/// Writes each message to `<dir>/<file_name>` (see [`file_name`]), creating the file: an
/// existing file is never overwritten. A file for the message's key already in the folder
/// means the key was written before (a send that was released and tried again, an
/// operator's test from [`Message::for_operator`], which keeps the key, written to the same
/// folder): the send fails with [`MailError::Permanent`] naming the file, and the first
/// file stays as it was. Move the file away to write the message again.
///
/// A write that fails half way removes what it wrote and fails with
/// [`MailError::Transient`]; so does a folder that cannot be written.
#[async_trait]
impl Mailer for OutboxMailer {
    async fn send(&self, message: &Message) -> Result<Receipt, MailError> {
        let eml = to_eml(message)?;
        let path = self.dir.join(file_name(message));
        write_new(&path, &eml)?;
        Ok(Receipt {
            message_id: message_id(message),
        })
    }
}

/// Creates `path` and writes `bytes` into it; never opens a file that exists.
fn write_new(path: &Path, bytes: &[u8]) -> Result<(), MailError> {
    let mut file = match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
    {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(MailError::Permanent(format!(
                "{} exists: a message with this key was written before (not overwritten)",
                path.display()
            )));
        }
        Err(e) => return Err(MailError::Transient(format!("creating {}: {e}", path.display()))),
    };
    if let Err(e) = file.write_all(bytes).and_then(|()| file.flush()) {
        drop(file);
        // The file is ours (created above): remove the partial message, so that a retry
        // finds no file for the key.
        let removed = match std::fs::remove_file(path) {
            Ok(()) => String::new(),
            Err(r) => format!("; removing the partial file: {r}"),
        };
        return Err(MailError::Transient(format!(
            "writing {}: {e}{removed}",
            path.display()
        )));
    }
    Ok(())
}
