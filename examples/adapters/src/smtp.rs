//! A [`Mailer`] over SMTP with lettre on tokio, for hosts to copy.
//!
//! `smtp://host:25?tls=required` (STARTTLS), `smtps://host:465` (TLS) and, on localhost for
//! tests, plain `smtp://127.0.0.1:2525`. The Message-ID embeds the event key and the
//! sender's domain ([`message_id_for`]).
//!
//! # What an error says about the message
//!
//! The mailer drives the SMTP session itself (lettre's [`AsyncSmtpConnection`], one command
//! at a time) so that it knows how far the session got when something fails, because that
//! decides whether the message may have gone:
//!
//! - Before the message is handed over (connecting, TLS, EHLO, AUTH, `MAIL FROM`, `RCPT TO`,
//!   and `DATA` up to the server's `354`), nothing can have been delivered. A refused or
//!   dropped connection, a TLS failure, a 4xx reply or no answer within the timeout is
//!   [`MailError::Transient`]; a 5xx reply (an unknown mailbox, refused credentials) is
//!   [`MailError::Permanent`].
//! - Once the message's first byte is written, the server may take it: SMTP servers take
//!   responsibility for a message when its final `.` arrives, and say so in a reply that
//!   can be lost. A 4xx or 5xx reply to the message is still a refusal (transient or
//!   permanent, as above); anything else (the connection dropped or reset, a reply that
//!   does not parse, no reply within the timeout) is [`MailError::Ambiguous`]. The
//!   dispatcher records such a send as of unknown outcome and, under at-most-once delivery,
//!   never sends it again. This is conservative: a failure while the body is still being
//!   written (before the final `.` can have reached the server) is reported as ambiguous
//!   too, because lettre writes the body and the final `.` in one call and the mailer
//!   cannot tell how much of it the server received.
//!
//! Each step (connecting with TLS and EHLO, each command, handing over the message) has the
//! mailer's timeout ([`SmtpMailer::with_timeout`], [`DEFAULT_TIMEOUT`]). The timeouts use
//! tokio's timer: run the mailer on a runtime with time enabled (`#[tokio::main]`,
//! `Builder::enable_all`), as lettre's own tokio transport needs.
//!
//! # Attachments
//!
//! A message's attachment references come from item data, so they are not trusted as paths:
//! they are read only from the folder given to [`SmtpMailer::with_attachment_dir`], as
//! paths relative to it. An absolute reference, one with a `..` component, one that leads
//! out of the folder through a symbolic link, or one that is not a regular file is refused
//! with [`MailError::Permanent`] naming it, and nothing is sent. Without a folder (the
//! default) a message with any attachment is refused the same way: a message that goes
//! without the invoice it names would be silently wrong. (The outbox mailer lists the
//! references in headers and reads no file.)
//!
//! Header text is never trusted either: a display name (the sender's, given to the mailer,
//! or a recipient's) holding a line break or another control character, or a run of more
//! than 900 bytes without a space, is refused with [`MailError::Permanent`] naming the
//! address, before anything is sent; a subject with such a run is written as RFC 2047
//! encoded words, so that no line of the message passes 998 characters.

use std::fmt;
use std::future::Future;
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;
use dunning::{MailError, Mailbox, Mailer, Message, Receipt};
use lettre::address::Envelope;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::{Credentials, DEFAULT_MECHANISMS};
use lettre::transport::smtp::client::{AsyncSmtpConnection, Tls, TlsParameters};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};

use crate::{lettre_mailbox, message_id_for};

/// How long each step of a send may take unless [`SmtpMailer::with_timeout`] says otherwise
/// (lettre's default).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// How long the mailer waits for the answer to `QUIT` once a send is over (its outcome is
/// known by then; the answer changes nothing).
const QUIT_WAIT: Duration = Duration::from_secs(2);

/// Sends through one SMTP server, one connection per message.
pub struct SmtpMailer {
    server: Server,
    timeout: Duration,
    from: Mailbox,
    attachment_dir: Option<PathBuf>,
}

/// Where and how to connect.
struct Server {
    host: String,
    port: u16,
    tls: Tls,
    credentials: Option<Credentials>,
    hello_name: ClientId,
}

impl SmtpMailer {
    /// A mailer for an `smtp://` or `smtps://` URL, sending as `from` when a message names
    /// no sender.
    ///
    /// - `smtp://host[:port]`: plain SMTP (port 25 by default); for a relay on the same
    ///   machine or network only.
    /// - `smtp://host[:port]?tls=required`: STARTTLS, refusing a server that does not offer
    ///   it (port 587); `?tls=opportunistic` uses it when offered.
    /// - `smtps://host[:port]`: TLS from the start (port 465).
    /// - `smtp://user:password@host...`: AUTH PLAIN or LOGIN, the user and password
    ///   percent-decoded; a path (`smtp://host/mail.example`) is the EHLO name.
    ///
    /// # Errors
    /// A message naming the URL: one that does not parse, another scheme, another `tls`
    /// value, a user without a password, or TLS parameters that cannot be built.
    pub fn from_url(url: &str, from: Mailbox) -> Result<Self, String> {
        let bad = |why: &dyn fmt::Display| format!("SMTP URL {url:?}: {why}");
        let parsed = url::Url::parse(url).map_err(|e| bad(&e))?;
        // The host as it is dialled and named for TLS: an IPv6 address without brackets.
        let host = match parsed.host() {
            Some(url::Host::Domain(d)) => d.to_owned(),
            Some(url::Host::Ipv4(a)) => a.to_string(),
            Some(url::Host::Ipv6(a)) => a.to_string(),
            None => return Err(bad(&"no host")),
        };
        let tls = parsed
            .query_pairs()
            .find(|(k, _)| k == "tls")
            .map(|(_, v)| v.into_owned());
        let params = || TlsParameters::new(host.clone()).map_err(|e| bad(&e));
        let (port, tls) = match (parsed.scheme(), tls.as_deref()) {
            ("smtp", None) => (25, Tls::None),
            ("smtp", Some("required")) => (587, Tls::Required(params()?)),
            ("smtp", Some("opportunistic")) => (587, Tls::Opportunistic(params()?)),
            ("smtps", None) => (465, Tls::Wrapper(params()?)),
            (scheme, tls) => {
                return Err(bad(&format_args!(
                    "scheme {scheme:?} with tls {tls:?}: expected smtp://, smtp://...?tls=required, \
                     smtp://...?tls=opportunistic or smtps://"
                )));
            }
        };
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8()
                .map(std::borrow::Cow::into_owned)
                .map_err(|e| bad(&e))
        };
        let credentials = match parsed.password() {
            Some(password) => Some(Credentials::new(decode(parsed.username())?, decode(password)?)),
            None if !parsed.username().is_empty() => return Err(bad(&"a user without a password")),
            None => None,
        };
        let hello_name = match parsed.path().trim_matches('/') {
            "" => ClientId::default(),
            name => ClientId::Domain(name.to_owned()),
        };
        Ok(Self {
            server: Server {
                host,
                port: parsed.port().unwrap_or(port),
                tls,
                credentials,
                hello_name,
            },
            timeout: DEFAULT_TIMEOUT,
            from,
            attachment_dir: None,
        })
    }

    /// A plain (no TLS) mailer to a server on this machine, for tests, with a 10 s timeout.
    #[must_use]
    pub fn localhost(port: u16, from: Mailbox) -> Self {
        Self {
            server: Server {
                host: "127.0.0.1".to_owned(),
                port,
                tls: Tls::None,
                credentials: None,
                hello_name: ClientId::default(),
            },
            timeout: Duration::from_secs(10),
            from,
            attachment_dir: None,
        }
    }

    /// The same mailer with `timeout` for each step of a send (see the [module](self)
    /// docs). Keep it below the dispatcher's send timeout, so that the mailer, which knows
    /// how far the send got, is the one to give up.
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The same mailer reading attachments from `dir`: a message's attachment reference
    /// `facturas/F-1001.pdf` attaches `dir/facturas/F-1001.pdf`, named `F-1001.pdf`. See the
    /// [module](self) docs for what is refused.
    #[must_use]
    pub fn with_attachment_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.attachment_dir = Some(dir.into());
        self
    }

    fn build(&self, m: &Message, sender: &Mailbox) -> Result<lettre::Message, MailError> {
        let mut b = lettre::Message::builder()
            .from(lettre_mailbox(sender)?)
            .message_id(Some(message_id_for(&m.key, Some(sender))));
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
        for reference in &m.attachments {
            let (name, bytes) = read_attachment(self.attachment_dir.as_deref(), reference)?;
            let kind = ContentType::parse("application/octet-stream")
                .map_err(|e| MailError::Permanent(e.to_string()))?;
            all = all.singlepart(Attachment::new(name).body(bytes, kind));
        }
        let mut built = b
            .multipart(all)
            .map_err(|e| MailError::Permanent(format!("building the message: {e}")))?;
        // Folded within the line limit however long a word of it is.
        built.headers_mut().insert_raw(crate::header_value(
            lettre::message::header::HeaderName::new_from_ascii_str("Subject"),
            &m.subject,
        ));
        Ok(built)
    }

    /// One SMTP session: connect, send the message, quit.
    async fn deliver(&self, envelope: &Envelope, body: &[u8]) -> Result<(), MailError> {
        let mut conn = self.step(Stage::Connect, "connecting", self.connect()).await?;
        let result = self.transaction(&mut conn, envelope, body).await;
        // QUIT when the server has answered the last command (the send went, or was
        // refused): after a timeout or a broken connection the stream is left alone, so that
        // nothing is written into a message the server may still be reading.
        if matches!(&result, Err(Failure { answered: false, .. })) {
            return result.map_err(|f| f.error);
        }
        let _ = tokio::time::timeout(QUIT_WAIT, conn.abort()).await;
        result.map_err(|f| f.error)
    }

    /// A connection, with TLS and authentication as configured.
    async fn connect(&self) -> Result<AsyncSmtpConnection, lettre::transport::smtp::Error> {
        let s = &self.server;
        let wrapper = match &s.tls {
            Tls::Wrapper(params) => Some(params.clone()),
            _ => None,
        };
        let mut conn = AsyncSmtpConnection::connect_tokio1(
            (s.host.as_str(), s.port),
            Some(self.timeout),
            &s.hello_name,
            wrapper,
            None,
        )
        .await?;
        match &s.tls {
            Tls::Required(params) => conn.starttls(params.clone(), &s.hello_name).await?,
            Tls::Opportunistic(params) if conn.can_starttls() => {
                conn.starttls(params.clone(), &s.hello_name).await?;
            }
            _ => {}
        }
        if let Some(credentials) = &s.credentials {
            conn.auth(DEFAULT_MECHANISMS, credentials).await?;
        }
        Ok(conn)
    }

    /// `MAIL FROM`, `RCPT TO` for each recipient, `DATA`, then the message.
    async fn transaction(
        &self,
        conn: &mut AsyncSmtpConnection,
        envelope: &Envelope,
        body: &[u8],
    ) -> Result<(), Failure> {
        // The options lettre's own send adds: SMTPUTF8 for an address that is not ASCII,
        // 8BITMIME for a body that is not; a server without them cannot take the message.
        let mut options = Vec::new();
        let server = conn.server_info();
        let mut addresses = envelope.from().into_iter().chain(envelope.to());
        if addresses.any(|a| !AsRef::<str>::as_ref(a).is_ascii()) {
            if !server.supports_feature(Extension::SmtpUtfEight) {
                return Err(Failure::answered(MailError::Permanent(
                    "an address is not ASCII and the server does not support SMTPUTF8".into(),
                )));
            }
            options.push(MailParameter::SmtpUtfEight);
        }
        if !body.is_ascii() {
            if !server.supports_feature(Extension::EightBitMime) {
                return Err(Failure::answered(MailError::Permanent(
                    "the message is not ASCII and the server does not support 8BITMIME".into(),
                )));
            }
            options.push(MailParameter::Body(MailBodyParameter::EightBitMime));
        }
        self.step_in(
            Stage::Envelope,
            "MAIL FROM",
            conn.command(Mail::new(envelope.from().cloned(), options)),
        )
        .await?;
        for to in envelope.to() {
            self.step_in(
                Stage::Envelope,
                &format!("RCPT TO:<{to}>"),
                conn.command(Rcpt::new(to.clone(), Vec::new())),
            )
            .await?;
        }
        self.step_in(Stage::Envelope, "DATA", conn.command(Data)).await?;
        self.step_in(Stage::Message, "the message", conn.message(body))
            .await?;
        Ok(())
    }

    /// `fut` under the mailer's timeout, its error told for `stage`.
    async fn step<T>(
        &self,
        stage: Stage,
        what: &str,
        fut: impl Future<Output = Result<T, lettre::transport::smtp::Error>>,
    ) -> Result<T, MailError> {
        self.step_in(stage, what, fut).await.map_err(|f| f.error)
    }

    async fn step_in<T>(
        &self,
        stage: Stage,
        what: &str,
        fut: impl Future<Output = Result<T, lettre::transport::smtp::Error>>,
    ) -> Result<T, Failure> {
        match tokio::time::timeout(self.timeout, fut).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(Failure {
                answered: e.status().is_some(),
                error: mail_error(stage, what, &e),
            }),
            Err(_) => {
                let secs = self.timeout.as_secs_f64();
                Err(Failure {
                    answered: false,
                    error: match stage {
                        Stage::Message => MailError::Ambiguous(format!(
                            "no answer within {secs} s after the message was handed to the server: \
                             it may have been delivered"
                        )),
                        Stage::Connect | Stage::Envelope => {
                            MailError::Transient(format!("{what}: no answer within {secs} s"))
                        }
                    },
                })
            }
        }
    }
}

/// How far a send got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Connecting, TLS, EHLO, AUTH: no message yet.
    Connect,
    /// `MAIL FROM`, `RCPT TO`, `DATA` up to its `354`: no byte of the message yet.
    Envelope,
    /// The message and the reply to its final `.`: the server may have taken it.
    Message,
}

/// A failed step: the error, and whether the server answered the last command (so the
/// session is at a command boundary, where `QUIT` may be sent).
struct Failure {
    error: MailError,
    answered: bool,
}

impl Failure {
    fn answered(error: MailError) -> Self {
        Failure {
            error,
            answered: true,
        }
    }
}

/// lettre's error at `stage`: a 4xx or 5xx reply is a refusal (transient or permanent) at
/// any stage; anything else is transient before the message is handed over and ambiguous
/// after (see the [module](self) docs).
fn mail_error(stage: Stage, what: &str, e: &lettre::transport::smtp::Error) -> MailError {
    if e.is_permanent() {
        MailError::Permanent(format!("{what}: {e}"))
    } else if e.is_transient() {
        MailError::Transient(format!("{what}: {e}"))
    } else if stage == Stage::Message {
        MailError::Ambiguous(format!(
            "{e} after the message was handed to the server: it may have been delivered"
        ))
    } else {
        MailError::Transient(format!("{what}: {e}"))
    }
}

/// The attachment `reference` names, read from under `dir`: its file name and bytes.
///
/// # Errors
/// [`MailError::Permanent`] naming the reference: no folder configured, an empty, absolute
/// or `..` reference, one that leaves the folder through a symbolic link, one that is not a
/// regular file, or one that cannot be read.
fn read_attachment(dir: Option<&Path>, reference: &str) -> Result<(String, Vec<u8>), MailError> {
    let refuse = |why: &dyn fmt::Display| MailError::Permanent(format!("attachment {reference:?}: {why}"));
    let Some(dir) = dir else {
        return Err(refuse(
            &"no attachment folder is configured (SmtpMailer::with_attachment_dir): not read",
        ));
    };
    let relative = Path::new(reference);
    let mut name = None;
    for part in relative.components() {
        match part {
            Component::Normal(part) => name = Some(part),
            Component::CurDir => {}
            Component::ParentDir => return Err(refuse(&"a `..` component: refused")),
            Component::RootDir | Component::Prefix(_) => return Err(refuse(&"an absolute path: refused")),
        }
    }
    let Some(name) = name else {
        return Err(refuse(&"names no file"));
    };
    let base = dir
        .canonicalize()
        .map_err(|e| refuse(&format_args!("attachment folder {}: {e}", dir.display())))?;
    // Every symbolic link resolved: where the file really is.
    let path = base.join(relative).canonicalize().map_err(|e| refuse(&e))?;
    if !path.starts_with(&base) {
        return Err(refuse(&format_args!(
            "leads out of the attachment folder {} (a symbolic link): refused",
            base.display()
        )));
    }
    // The resolved path holds no link, so what is checked is what is read (a host must
    // still keep others from writing into the folder while it sends).
    let metadata = std::fs::metadata(&path).map_err(|e| refuse(&e))?;
    if !metadata.is_file() {
        return Err(refuse(&"not a regular file: refused"));
    }
    let bytes = std::fs::read(&path).map_err(|e| refuse(&e))?;
    Ok((name.to_string_lossy().into_owned(), bytes))
}

#[async_trait]
impl Mailer for SmtpMailer {
    /// Sends `message` as its sender, or as the mailer's `from` when it has none; see the
    /// [module](self) docs for what each error means.
    async fn send(&self, message: &Message) -> Result<Receipt, MailError> {
        let sender = message.from.as_ref().unwrap_or(&self.from);
        let email = self.build(message, sender)?;
        self.deliver(email.envelope(), &email.formatted()).await?;
        Ok(Receipt {
            message_id: message_id_for(&message.key, Some(sender)),
        })
    }
}
