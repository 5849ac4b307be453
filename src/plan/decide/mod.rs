//! The domain rules of planning, pure and small:
//!
//! - `rule`: a rule as it applies to a client (overrides resolved);
//! - `occurrences`: where a rule's occurrences fall for an item;
//! - `stops`: what stops a rule for an item for good (one function, one reason);
//! - `pauses`: which pause holds an item back;
//! - `item`: a rule's next step for one item (the candidate send and the moves that place
//!   it, or why it is not sent);
//! - `day`: one client's day (which stage of an item goes, grouped notices, the gap);
//! - `notice`: where a client-level notice (statement, standing notice) goes;
//! - `statement`: which of a statement rule's occurrences go for a client, and what is said
//!   of the others (superseded, nothing to list, expired, stopped);
//! - `standing`: which debts count for a client's standing, since when it owes, and its
//!   notices (one on entering each state);
//! - `reason`: why an occurrence is not sent (one list of reasons, the public
//!   `SuppressReasonKind`);
//! - `notes`: where the deciding code says so, and, for client-level notices, what goes (the
//!   engine records it, keeping what is said within the plan's window).
//!
//! No index, heap or record layout here: the engine (`plan::engine`) stores and orders what
//! these decide.

pub(crate) mod day;
pub(crate) mod item;
pub(crate) mod notes;
pub(crate) mod notice;
pub(crate) mod occurrences;
pub(crate) mod pauses;
pub(crate) mod reason;
pub(crate) mod rule;
pub(crate) mod standing;
pub(crate) mod statement;
pub(crate) mod stops;
