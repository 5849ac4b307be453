//! The domain: clients and contacts, pending items, history, identifiers.

pub(crate) mod client;
pub(crate) mod history;
pub(crate) mod id;
pub(crate) mod item;

pub use client::{Client, Contact, ContactRole, Pause, PauseKind};
pub use history::{HistoryEntry, HistoryItem, HistoryOutcome, HistoryOutcomeKind};
pub use id::{ClientId, EventKey, ItemId, RuleId};
pub use item::{Applied, AppliedKind, Item, ItemKind, ItemStatus};
