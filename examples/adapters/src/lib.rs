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

use dunning::Message;

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
