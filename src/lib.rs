//! # dunning
//!
//! Deterministic payment reminders and dunning for Rust billing systems.
//!
//! `dunning` decides which reminder goes to which client, about which open invoice or
//! pending action, when, and why; and explains every reminder it does not send. The core is
//! pure: the [`Planner`] turns a [`Policy`], the [`Client`]s, their [`Item`]s, the
//! [`HistoryEntry`]s of what was already sent and an instant `now` into a [`Plan`]. It never
//! reads the clock, does no I/O and uses no randomness: the same inputs give the same plan,
//! byte for byte once serialized, whatever the order of the input collections.
//!
//! ## Quick start
//! ```
//! use chrono::{NaiveDate, TimeZone as _, Utc};
//! use dunning::*;
//!
//! // Five days before the due date, then on the due date and weekly.
//! let policy: Policy = toml::from_str(r#"
//!     time_zone = "America/Santiago"
//!     [[rules]]
//!     id = "due-soon"
//!     anchor = "due"
//!     offset_days = -5
//!     [[rules]]
//!     id = "overdue"
//!     anchor = "due"
//!     every_days = 7
//!     count = 3
//! "#).expect("valid TOML");
//! let planner = Planner::new(&policy)?;
//! for w in planner.warnings() { println!("warning: {w}"); }
//!
//! let clp = Currency::from_code("CLP")?;
//! let clients = [Client::new("acme".parse()?, "ACME SpA")
//!     .with_contact(Contact::new("Ana", "ana@acme.cl"))];
//! let issued = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
//! let items = [Item::invoice("F-1".parse()?, "acme".parse()?, issued, Money::parse("119000", clp)?)];
//!
//! let now = Utc.with_ymd_and_hms(2026, 3, 27, 13, 0, 0).unwrap();
//! let plan = planner.plan(&clients, &items, &[], now, Horizon::days(30))?;
//! for e in plan.due() { println!("{} {} — {}", e.send_at, e.rule, e.explain()); }
//! for s in plan.suppressed() { println!("not sent: {}", s.explain()); }
//! assert_eq!(plan.due()[0].send_on, NaiveDate::from_ymd_opt(2026, 3, 27).unwrap());
//! # Ok::<(), dunning::ValidationError>(())
//! ```
//!
//! ## Where things are
//! The crate root holds the main path: the [`Planner`] and its inputs ([`Policy`], [`Rule`],
//! [`Client`], [`Item`], [`HistoryEntry`], [`Money`], [`TimeZone`], [`BusinessCalendar`]), the
//! [`Plan`] it returns ([`Event`], [`Suppressed`], [`SuppressReason`], [`Adjustment`]), and
//! the shell that sends it ([`Dispatcher`], [`Store`], [`Mailer`], [`Messages`]). The rest
//! lives in the module named for it:
//! - [`plan`]: what a plan says in detail: [`plan::Why`], [`plan::EventItem`],
//!   [`plan::Recipient`], [`plan::PlanDiff`], the kinds of reasons and adjustments;
//! - [`bulk`]: planning millions: [`bulk::Schedule`] of compact records, [`bulk::Portfolio`];
//! - [`policy`]: per-client overrides, effective settings with their origins, templates,
//!   company branding, late fees, collection start, lint warnings;
//! - [`model`]: contacts and roles, pauses, payments applied, history outcomes;
//! - [`statement`] and [`standing`]: account statements and account-standing notices;
//! - [`dispatch`], [`clock`], [`store`], [`mailer`], [`message`], [`memory`],
//!   [`reminders`]: the shell, its clock, the host's storage and mail transport, rendering,
//!   in-memory implementations, manual reminders;
//! - [`time`], [`limits`], [`load`]: the calendar's shift, documented limits, loading
//!   policies and inputs from JSON and TOML.
//!
//! ## Cookbook
//! - *Load a policy from JSON or TOML*: every domain type derives serde; see [`Policy`].
//! - *Stop reminders for one client*: [`ClientOverrides::reminders`], or switch one rule off
//!   with [`RuleOverride::off`]; show what is in force with [`Planner::effective_settings`].
//! - *Record what was sent*: [`Event::to_history`]; a manual send is
//!   [`HistoryEntry::manual`] (it spaces the next automatic reminder, without using up a
//!   rule's count).
//! - *See the events of one invoice*: [`Plan::for_item`] and [`Plan::suppressed_for_item`].
//! - *Preview a settings change*: plan with both policies and [`Plan::diff`].
//! - *Write the message of an event*: [`Messages::new`] compiles the policy's templates and
//!   the Spanish and English defaults once (unknown variables are refused then), and
//!   [`Messages::render`] writes subject, text and HTML with locale money and dates.
//! - *Preview a rule or send a test*: [`Planner::preview`], then [`Message::for_operator`].
//! - *Send account statements*: add a [`StatementRule`] with an RRULE to the policy.
//! - *Block credit lines*: set [`StandingRule`] thresholds and read [`Plan::standings`].
//! - *Plan a portfolio of millions*: [`Planner::schedule`] makes the same decisions as
//!   [`Planner::plan`] into a [`Schedule`] of compact records that refer to the inputs
//!   (a few dozen bytes a decision); read them in place ([`EventRef`], [`SuppressedRef`])
//!   and make owned only the events you send ([`EventRef::to_event`]).
//!
//! ## Guarantees
//! - Time: each event has a local send date in the client's time zone (else the company's)
//!   and the UTC instant of the send time on it; a send time inside a daylight-saving gap
//!   is read with the offset before the gap, in an overlap the earlier instant wins
//!   ([`local_instant`]).
//! - Business days: reminders before a due date move to the previous working day, others
//!   to the next.
//! - Catch-up: when `now` is past several unsent stages of an item, only the latest is
//!   sent, once; the others are superseded, and so is a stage due later the same day (what
//!   is due never waits for a stage still to come) and one older than a stage that went.
//!   One reminder a day about an item: a stage moved back onto a day another went, from a
//!   later non-working day, goes on the next working day. A "due soon" reminder is never
//!   sent on or after the due date. Repeats are spaced from the last actual send.
//! - Missed sends go at the next tick: an event whose send instant passed unsent (the host
//!   was down, or ticked before the client's send time) is due at the next plan whose local
//!   date is a working day, whatever the hour. It is never moved to a later send instant; it
//!   keeps the `send_on` and `send_at` it was meant for, and its explanation says so. A host
//!   ticking once a day at any hour sends each event at the first tick on a working day at
//!   or after its send instant.
//! - Stops: nothing is planned for items that are paid, cancelled, void, drafts, completed,
//!   paused, excluded for their client, older than the collection start, or whose rule
//!   reached its count. Every such case within the window is explained in
//!   [`Plan::suppressed`].
//! - Idempotency: every event has a stable [`EventKey`]; a key in history is never planned
//!   again.
//! - Limits: horizons, counts, spacings, gaps and offsets have documented limits
//!   ([`limits`]); past them a typed [`ValidationError::OverLimit`], never a panic, a hang or
//!   a value that silently means something else. A step past the end of the calendar means
//!   "never" and is explained.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod bulk;
mod shell;
#[cfg(feature = "conformance")]
#[doc(inline)]
pub use shell::conformance;
#[doc(inline)]
pub use shell::{clock, dispatch, mailer, memory, reminders, shard, store};
mod error;
pub mod limits;
pub mod load;
pub mod message;
pub mod model;
mod money;
mod names;
pub mod plan;
pub mod policy;
pub mod standing;
pub mod statement;
pub mod time;

// The main path: plan, explain, send.
pub use dispatch::Dispatcher;
pub use error::{Result, ValidationError};
pub use mailer::Mailer;
pub use message::Messages;
pub use model::{
    Client, ClientId, Contact, EventKey, HistoryEntry, Item, ItemId, ItemKind, ItemStatus, RuleId,
};
pub use money::{Currency, Money};
pub use plan::{Adjustment, Event, Horizon, Plan, Planner, Stage, SuppressReason, Suppressed};
pub use policy::{Anchor, Policy, Rule};
pub use shard::Shard;
pub use store::Store;
pub use time::{BusinessCalendar, TimeZone, local_instant};

// Everything else lives in the module named for it; these paths from the crate root are kept
// for code written against earlier versions.
#[doc(hidden)]
pub use bulk::{EventRef, Events, Portfolio, Schedule, SuppressedRef, Suppressions};
#[doc(hidden)]
pub use clock::{Clock, ManualClock, Sleep, SystemClock};
#[doc(hidden)]
pub use dispatch::{
    DispatchError, DispatchOptions, Guarantee, GuaranteeKind, RunSummary, SendOutcome, SendOutcomeKind,
    SendReport, Skip, SkipKind, TickReport,
};
#[doc(hidden)]
pub use load::LoadError;
#[doc(hidden)]
pub use mailer::{MailError, Receipt};
#[doc(hidden)]
pub use memory::{Behaviour, MemoryStore, RecordingMailer};
#[doc(hidden)]
pub use message::{Mailbox, Message, MessageError, RenderOptions};
#[doc(hidden)]
pub use model::{
    Applied, AppliedKind, ContactRole, HistoryItem, HistoryOutcome, HistoryOutcomeKind, Pause, PauseKind,
};
#[doc(hidden)]
pub use plan::{
    AdjustmentKind, Change, EventItem, PlanDiff, Recipient, StandingInfo, StatementInfo, SuppressReasonKind,
    Why,
};
#[doc(hidden)]
pub use policy::{
    Alignment, Branding, ClientOverrides, CollectionStart, Company, Conditions, EffectiveNotice,
    EffectiveRule, EffectiveSettings, LateFee, LintWarning, Origin, RuleOverride, Setting, TemplateKind,
    TemplateSpec,
};
#[doc(hidden)]
pub use reminders::{NewReminder, ReminderEdit, ReminderFilter};
#[doc(hidden)]
pub use standing::{ClientStanding, StandingRule, StandingState};
#[doc(hidden)]
pub use statement::StatementRule;
#[doc(hidden)]
pub use store::{
    Action, ActionKind, ActionLog, Claim, Delivery, DeliveryKind, DispatchStore, LogEntry, LogFilter,
    Reminder, ReminderStatus, ReminderStore, Snapshot, StoreError,
};
#[doc(hidden)]
pub use time::Shift;

#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
