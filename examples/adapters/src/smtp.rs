//! A [`Mailer`] over SMTP with lettre on tokio, for hosts to copy.
//!
//! `smtp://host:25?tls=required` (STARTTLS), `smtps://host:465` (TLS) and, on localhost for
//! tests, plain `smtp://127.0.0.1:2525`. The Message-ID embeds the event key; SMTP 4xx
//! replies and connection failures are transient, 5xx replies permanent.

use async_trait::async_trait;
use dunning::{MailError, Mailbox, Mailer, Message, Receipt};
use lettre::message::header::ContentType;
use lettre::message::{Attachment, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use crate::{lettre_mailbox, message_id};

/// Sends through one SMTP server.
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl SmtpMailer {
    /// A mailer for an `smtp://` or `smtps://` URL, sending as `from` when a message names
    /// no sender.
    pub fn from_url(url: &str, from: Mailbox) -> Result<Self, String> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| format!("SMTP URL {url:?}: {e}"))?
            .build();
        Ok(Self { transport, from })
    }

    /// A plain (no TLS) mailer to a server on this machine, for tests.
    pub fn localhost(port: u16, from: Mailbox) -> Self {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
            .port(port)
            .timeout(Some(std::time::Duration::from_secs(10)))
            .build();
        Self { transport, from }
    }

    fn build(&self, m: &Message) -> Result<lettre::Message, MailError> {
        let mut b = lettre::Message::builder()
            .from(lettre_mailbox(m.from.as_ref().unwrap_or(&self.from))?)
            .subject(m.subject.clone())
            .message_id(Some(message_id(m)));
        for to in &m.to {
            b = b.to(lettre_mailbox(to)?);
        }
        for cc in &m.cc {
            b = b.cc(lettre_mailbox(cc)?);
        }
        for bcc in &m.bcc {
            b = b.bcc(lettre_mailbox(bcc)?);
        }
        for r in &m.reply_to {
            b = b.reply_to(lettre_mailbox(r)?);
        }
        let body = match &m.html {
            Some(html) => MultiPart::alternative_plain_html(m.text.clone(), html.clone()),
            None => MultiPart::mixed().singlepart(SinglePart::plain(m.text.clone())),
        };
        let mut all = MultiPart::mixed().multipart(body);
        for path in &m.attachments {
            let bytes =
                std::fs::read(path).map_err(|e| MailError::Permanent(format!("attachment {path}: {e}")))?;
            let name = std::path::Path::new(path)
                .file_name()
                .map_or_else(|| path.clone(), |n| n.to_string_lossy().into_owned());
            let kind = ContentType::parse("application/octet-stream")
                .map_err(|e| MailError::Permanent(e.to_string()))?;
            all = all.singlepart(Attachment::new(name).body(bytes, kind));
        }
        b.multipart(all)
            .map_err(|e| MailError::Permanent(format!("building the message: {e}")))
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, message: &Message) -> Result<Receipt, MailError> {
        let email = self.build(message)?;
        match self.transport.send(email).await {
            Ok(_) => Ok(Receipt {
                message_id: message_id(message),
            }),
            Err(e) if e.is_permanent() => Err(MailError::Permanent(e.to_string())),
            // 4xx replies, refused connections, timeouts: worth another try.
            Err(e) => Err(MailError::Transient(e.to_string())),
        }
    }
}
