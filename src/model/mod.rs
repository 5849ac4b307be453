//! The domain: clients and contacts, pending items, history, identifiers.

pub(crate) mod client;
pub(crate) mod history;
pub(crate) mod id;
pub(crate) mod item;
