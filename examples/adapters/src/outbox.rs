//! A [`Mailer`] that writes each message as an `.eml` file into a folder: what the
//! quickstart uses when no SMTP server is configured. The files open in any mail client.

use std::path::PathBuf;

use async_trait::async_trait;
use dunning::{MailError, Mailbox, Mailer, Message, Receipt};

use crate::message_id;

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

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn base64(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(B64[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A header value, RFC 2047-encoded when it is not plain ASCII.
pub fn header_text(s: &str) -> String {
    if s.is_ascii() {
        s.to_owned()
    } else {
        format!("=?UTF-8?B?{}?=", base64(s.as_bytes()))
    }
}

fn mailbox(m: &Mailbox) -> String {
    match &m.name {
        Some(n) => format!("{} <{}>", header_text(n), m.email),
        None => m.email.clone(),
    }
}

fn list(ms: &[Mailbox]) -> String {
    ms.iter().map(mailbox).collect::<Vec<_>>().join(", ")
}

/// The message as an RFC 5322 document with a text and, if any, an HTML part.
pub fn to_eml(m: &Message) -> String {
    let mut out = String::new();
    if let Some(from) = &m.from {
        out.push_str(&format!("From: {}\r\n", mailbox(from)));
    }
    out.push_str(&format!("To: {}\r\n", list(&m.to)));
    if !m.cc.is_empty() {
        out.push_str(&format!("Cc: {}\r\n", list(&m.cc)));
    }
    if !m.reply_to.is_empty() {
        out.push_str(&format!("Reply-To: {}\r\n", list(&m.reply_to)));
    }
    out.push_str(&format!("Subject: {}\r\n", header_text(&m.subject)));
    out.push_str(&format!("Message-ID: {}\r\n", message_id(m)));
    if !m.attachments.is_empty() {
        out.push_str(&format!(
            "X-Dunning-Attachments: {}\r\n",
            m.attachments.join(", ")
        ));
    }
    out.push_str("MIME-Version: 1.0\r\n");
    let boundary = "dunning-alternative";
    match &m.html {
        Some(html) => {
            out.push_str(&format!(
                "Content-Type: multipart/alternative; boundary=\"{boundary}\"\r\n\r\n"
            ));
            out.push_str(&format!("--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{}\r\n", m.text));
            out.push_str(&format!("--{boundary}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{html}\r\n"));
            out.push_str(&format!("--{boundary}--\r\n"));
        }
        None => {
            out.push_str(
                "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n",
            );
            out.push_str(&m.text);
        }
    }
    out
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
        std::fs::write(&path, to_eml(message))
            .map_err(|e| MailError::Transient(format!("writing {}: {e}", path.display())))?;
        Ok(Receipt {
            message_id: message_id(message),
        })
    }
}
