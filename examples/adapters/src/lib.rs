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
