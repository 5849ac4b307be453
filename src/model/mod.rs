//! The domain: clients and contacts, their own settings, pending items, history,
//! identifiers. It stands on its own: nothing here reads the policy or the planner.

pub(crate) mod client;
pub(crate) mod history;
pub(crate) mod id;
pub(crate) mod item;
pub(crate) mod overrides;

pub use client::{Client, Contact, ContactRole, Pause, PauseKind};
pub use history::{HistoryEntry, HistoryItem, HistoryOutcome, HistoryOutcomeKind};
pub use id::{ClientId, EventKey, ItemId, RuleId};
pub use item::{Applied, AppliedKind, Item, ItemKind, ItemStatus};
pub use overrides::{ClientOverrides, RuleOverride};
