//! Example adapters for [`dunning`], for hosts to copy: a [`Store`](dunning::Store) on SQLite,
//! a [`Mailer`](dunning::Mailer) over SMTP, and one that writes `.eml` files into a folder.
//! The quickstart example runs them together.
//!
//! ```text
//! cargo run --example quickstart
//! ```

#![forbid(unsafe_code)]

pub mod outbox;
pub mod smtp;
pub mod sqlite_store;

use dunning::{MailError, Mailbox, Message};

/// A Message-ID that embeds the event key.
pub fn message_id(m: &Message) -> String {
    let safe: String = m
        .key
        .as_str()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("<{safe}@dunning.local>")
}

/// The mailbox for lettre, which quotes or encodes its display name when written.
///
/// # Errors
/// [`MailError::Permanent`] for an address lettre does not parse.
pub(crate) fn lettre_mailbox(m: &Mailbox) -> Result<lettre::message::Mailbox, MailError> {
    let address = m
        .email
        .parse()
        .map_err(|e| MailError::Permanent(format!("address {:?}: {e}", m.email)))?;
    Ok(lettre::message::Mailbox::new(m.name.clone(), address))
}
