//! The domain rules of planning, pure and small: a rule as it applies to a client and an
//! item, where its occurrences fall, which pause holds an item back, and why an occurrence
//! is not sent (one list of reasons, the public `SuppressReasonKind`). No index, heap or
//! record layout here: the engine (`plan::engine`) stores and orders what these decide.

pub(crate) mod day;
pub(crate) mod item;
pub(crate) mod occurrences;
pub(crate) mod pauses;
pub(crate) mod reason;
pub(crate) mod rule;
pub(crate) mod stops;
