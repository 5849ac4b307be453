//! The planner: inputs plus `now` in, a plan of reminder events out.

mod decide;
mod diff;
#[macro_use]
mod explain;
mod engine;
mod event;
mod schedule;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::error::ValidationError;
use crate::model::id::{ClientId, ItemId};

pub use diff::{Change, PlanDiff};
pub use engine::Planner;
#[doc(hidden)]
pub use engine::Portfolio;
pub use event::{
    Adjustment, AdjustmentKind, Event, EventItem, Recipient, Stage, StandingInfo, StatementInfo,
    SuppressReason, SuppressReasonKind, Suppressed, Why,
};
#[doc(hidden)]
pub use schedule::{EventRef, Events, Schedule, SuppressedRef, Suppressions};

/// How far ahead a plan forecasts: at most
/// [`limits::MAX_HORIZON_DAYS`](crate::limits::MAX_HORIZON_DAYS) days.
///
/// # Example
/// ```
/// use dunning::Horizon;
/// assert_eq!(Horizon::days(30).as_days(), 30);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Horizon(u32);

impl Horizon {
    /// No forecast: only what is due now.
    pub const NONE: Horizon = Horizon(0);

    /// A forecast of `days` days after `now`.
    #[must_use]
    pub const fn days(days: u32) -> Self {
        Horizon(days)
    }

    /// Its length in days.
    #[must_use]
    pub const fn as_days(self) -> u32 {
        self.0
    }

    pub(crate) fn end(self, now: DateTime<Utc>) -> Result<DateTime<Utc>, ValidationError> {
        crate::limits::check(
            &"plan",
            "horizon",
            u64::from(self.0),
            crate::limits::MAX_HORIZON_DAYS,
        )?;
        // A horizon reaching past the last instant there is covers every day up to it: no
        // day after it exists to be planned.
        Ok(now
            .checked_add_signed(Duration::days(i64::from(self.0)))
            .unwrap_or(DateTime::<Utc>::MAX_UTC))
    }
}

/// What to send now, what would follow up to the horizon, and what is not sent and why.
///
/// Made by [`Planner::plan`] (or from a [`Schedule`], the same decisions kept as compact
/// records that refer to the inputs, by [`Schedule::to_plan`]). Events are sorted by send
/// instant, then client, then key;
/// suppressed entries by date, client, item and rule: the serialized plan is the same bytes
/// for the same inputs, whatever order the input collections come in. Each list is a slice,
/// to index, iterate, or copy and sort another way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// The instant planned for.
    pub now: DateTime<Utc>,
    /// The forecast's length.
    pub horizon: Horizon,
    pub(crate) due: Vec<Event>,
    pub(crate) upcoming: Vec<Event>,
    pub(crate) suppressed: Vec<Suppressed>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) standings: Vec<crate::standing::ClientStanding>,
}

impl Plan {
    /// Events to send now: their send instant has come (and, for one that passed unsent,
    /// today is a working day in the client's zone).
    ///
    /// # Example
    /// ```
    /// # use dunning::*;
    /// # use chrono::{NaiveDate, TimeZone as _, Utc};
    /// let policy = Policy::new(TimeZone::UTC).with_rule(Rule::new("overdue".parse()?, Anchor::Due, 3));
    /// let planner = Planner::new(&policy)?;
    /// let client = Client::new("acme".parse()?, "ACME").with_contact(Contact::new("Ana", "ana@acme.test"));
    /// let clp = Currency::from_code("CLP")?;
    /// let day = |d| NaiveDate::from_ymd_opt(2026, 3, d).unwrap();
    /// let items = [
    ///     Item::invoice("F-1".parse()?, client.id.clone(), day(2), Money::from_minor(1000, clp)).due(day(10)),
    ///     Item::invoice("F-2".parse()?, client.id.clone(), day(2), Money::from_minor(5000, clp)).due(day(12)),
    /// ];
    /// let now = Utc.with_ymd_and_hms(2026, 3, 20, 12, 0, 0).unwrap();
    /// let plan = planner.plan(&[client], &items, &[], now, Horizon::NONE)?;
    /// // A slice: index it, or copy it and sort it another way.
    /// assert_eq!(plan.due()[0].key.as_str(), "overdue/F-1/1");
    /// let mut largest_first = plan.due().to_vec();
    /// largest_first.sort_by_key(|e| std::cmp::Reverse(e.amount_due.map(|m| m.minor())));
    /// assert_eq!(largest_first[0].key.as_str(), "overdue/F-2/1");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn due(&self) -> &[Event] {
        &self.due
    }

    /// Events after `now` up to `now + horizon`, assuming nothing changes and every event is
    /// sent when planned.
    #[must_use]
    pub fn upcoming(&self) -> &[Event] {
        &self.upcoming
    }

    /// Events not sent (or not on their day), with reasons, between the planner's lookback
    /// before `now` and the horizon.
    #[must_use]
    pub fn suppressed(&self) -> &[Suppressed] {
        &self.suppressed
    }

    /// Clients that are closing soon or closed at `now`, in client order, so the host can
    /// block credit lines (empty when the policy has no standing thresholds).
    #[must_use]
    pub fn standings(&self) -> &[crate::standing::ClientStanding] {
        &self.standings
    }

    /// Due then upcoming events.
    pub fn events(&self) -> impl Iterator<Item = &Event> {
        self.due.iter().chain(self.upcoming.iter())
    }

    /// Every event about one item (the history and future of one invoice).
    pub fn for_item<'a>(&'a self, item: &'a ItemId) -> impl Iterator<Item = &'a Event> + 'a {
        self.events().filter(move |e| e.covers(item))
    }

    /// Every event for one client.
    pub fn for_client<'a>(&'a self, client: &'a ClientId) -> impl Iterator<Item = &'a Event> + 'a {
        self.events().filter(move |e| &e.client == client)
    }

    /// Every suppressed entry about one item.
    pub fn suppressed_for_item<'a>(&'a self, item: &'a ItemId) -> impl Iterator<Item = &'a Suppressed> + 'a {
        self.suppressed
            .iter()
            .filter(move |s| s.item.as_ref() == Some(item))
    }

    /// What `other` adds, removes or changes compared to this plan, by event key: the effect of
    /// a settings change before it is saved.
    #[must_use]
    pub fn diff(&self, other: &Plan) -> PlanDiff {
        PlanDiff::between(self, other)
    }
}
