//! The mail transport the host provides.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::message::Message;

/// What a mailer returns for a message it accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    /// The Message-ID (or the transport's id) of the sent message.
    pub message_id: String,
}

/// Why a message was not sent: transient (try again later) or permanent (give up).
///
/// # Example
/// ```
/// use dunning::MailError;
/// assert!(MailError::Transient("451 try later".into()).is_transient());
/// assert!(!MailError::Permanent("550 no such user".into()).is_transient());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[non_exhaustive]
pub enum MailError {
    /// Worth retrying: a busy server, a dropped connection, a 4xx reply.
    #[error("transient mail error: {0}")]
    Transient(String),
    /// Not worth retrying: a rejected address, a 5xx reply.
    #[error("permanent mail error: {0}")]
    Permanent(String),
    /// The send took longer than the dispatcher's timeout (the timeout, as configured):
    /// the message may or may not have gone.
    #[error("mail send timed out after {0:?}")]
    Timeout(std::time::Duration),
    /// The transport cannot tell whether the message went (the connection dropped after
    /// the message was handed over, before the server's answer).
    #[error("mail outcome unknown: {0}")]
    Ambiguous(String),
}

impl MailError {
    /// Whether trying again may succeed (not a permanent refusal). An
    /// [ambiguous](MailError::is_ambiguous) failure is transient too: under at-least-once
    /// delivery it is retried.
    #[must_use]
    pub fn is_transient(&self) -> bool {
        !matches!(self, MailError::Permanent(_))
    }

    /// Whether the message may have gone despite the error (a timeout, or an outcome the
    /// transport cannot tell). Under at-most-once delivery such a send is recorded as
    /// outcome unknown and never retried.
    ///
    /// # Example
    /// ```
    /// use dunning::MailError;
    /// use std::time::Duration;
    /// assert!(MailError::Timeout(Duration::from_secs(30)).is_ambiguous());
    /// assert!(!MailError::Transient("451 try later".into()).is_ambiguous());
    /// ```
    #[must_use]
    pub fn is_ambiguous(&self) -> bool {
        matches!(self, MailError::Timeout(_) | MailError::Ambiguous(_))
    }
}

/// Sends rendered messages. Implemented by hosts (SMTP, an API); [`RecordingMailer`](crate::RecordingMailer)
/// is the in-crate reference.
#[async_trait]
pub trait Mailer: Send + Sync + 'static {
    /// Sends one message.
    ///
    /// # Errors
    /// [`MailError`], saying whether to retry.
    async fn send(&self, message: &Message) -> Result<Receipt, MailError>;
}
