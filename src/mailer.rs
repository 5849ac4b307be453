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
    /// The send took longer than the dispatcher's timeout (retried).
    #[error("mail send timed out after {0} s")]
    Timeout(u64),
}

impl MailError {
    /// Whether the dispatcher should try again later.
    #[must_use]
    pub fn is_transient(&self) -> bool {
        !matches!(self, MailError::Permanent(_))
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
