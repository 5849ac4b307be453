//! The shell: everything that reads a clock or does I/O, around the pure planner. The store
//! traits (dispatch state, action log, manual reminder records) and their in-memory
//! implementation, the mailer, the clock, shards, the dispatcher (tick, run loop) and the
//! store conformance checks. The model, the policy, the planner and messages never import
//! it; each of its modules is public at the crate's root (`dunning::store`,
//! `dunning::dispatch`...).

pub mod clock;
#[cfg(feature = "conformance")]
pub mod conformance;
pub mod dispatch;
pub mod mailer;
pub mod memory;
pub mod reminders;
pub mod shard;
pub mod store;
