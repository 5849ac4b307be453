//! Planning millions: schedules of compact records, and portfolios that plan one at a time.
//!
//! [`Planner::plan`](crate::Planner::plan) returns owned [`Event`](crate::Event)s, which is
//! what most hosts want. A host that plans hundreds of thousands of invoices at once uses
//! [`Planner::schedule`](crate::Planner::schedule) instead: a [`Schedule`] holds compact
//! records that borrow the inputs ([`EventRef`], [`SuppressedRef`]), read through
//! [`Events`] and [`Suppressions`], and turned into owned events only for those the host
//! sends. A [`Portfolio`] keeps the indexed inputs between plans, for hosts that plan the
//! same clients and items tick after tick.
//!
//! # Example
//! ```
//! use chrono::{NaiveDate, TimeZone as _, Utc};
//! use dunning::bulk::Schedule;
//! use dunning::{Anchor, Client, Contact, Currency, Horizon, Item, Money, Planner, Policy, Rule, TimeZone};
//!
//! let policy = Policy::new(TimeZone::UTC).with_rule(Rule::new("overdue".parse()?, Anchor::Due, 3));
//! let planner = Planner::new(&policy)?;
//! let clients = [Client::new("acme".parse()?, "ACME").with_contact(Contact::new("Ana", "ana@acme.test"))];
//! let clp = Currency::from_code("CLP")?;
//! let issued = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
//! let items = [Item::invoice("F-1".parse()?, "acme".parse()?, issued, Money::from_minor(1000, clp))
//!     .due(NaiveDate::from_ymd_opt(2026, 4, 1).unwrap())];
//! let now = Utc.with_ymd_and_hms(2026, 4, 6, 12, 0, 0).unwrap();
//! let schedule: Schedule<'_> = planner.schedule(&clients, &items, &[], now, Horizon::NONE)?;
//! let due = schedule.due().next().unwrap();
//! assert_eq!(due.key().as_str(), "overdue/F-1/1");
//! let event = due.to_event(); // owned, only for what is sent
//! assert_eq!(event.items[0].number.as_ref(), "F-1");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub use crate::plan::{EventRef, Events, Portfolio, Schedule, SuppressedRef, Suppressions};
