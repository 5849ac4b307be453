//! Account standing ("cuenta pronto a cerrar", "cuenta cerrada"): how late a client is, by
//! the days overdue of its oldest unpaid item, against two thresholds.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::error::ValidationError;
use crate::model::client::ContactRole;
use crate::model::id::{ClientId, ItemId, RuleId};

/// Where a client stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum StandingState {
    /// Below both thresholds.
    #[default]
    Good,
    /// At or past the "closing soon" threshold.
    ClosingSoon,
    /// At or past the "closed" threshold: the host should block the credit line.
    Closed,
}

/// The policy's standing thresholds and the ids of their notices.
///
/// A notice fires once on entering each state, keyed by the day the client entered it; the
/// state clears when the client pays the items that put it there, and a later relapse fires
/// again. The client stays in a state while one item or another keeps it there: paying the
/// oldest item while a newer one is as late is no new entry, and sends nothing more; neither
/// is cancelling it, nor recording its payment late with an earlier date: a notice counts for
/// the state as long as the client stayed overdue since it went (some invoice past due and
/// unpaid). Dropping back from "closed" to "closing soon" is not leaving either: the state
/// clears when the overdue debt does, and a later entry then sends again.
///
/// An item under a pause without end (a dispute) does not count toward the state, though its
/// debt still does not end the state. While every item that puts the client in a state is
/// under a pause with an end (a payment promise), the notice waits until the first of those
/// pauses ends, and says so, or until another item gets the client there, which it is then
/// about. Thresholds can be overridden per
/// client ([`ClientOverrides`](crate::ClientOverrides)).
///
/// # Example
/// ```
/// use dunning::StandingRule;
/// let standing = StandingRule::new(45, 60);
/// assert_eq!(standing.closing_soon_id.as_str(), "closing-soon");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StandingRule {
    /// Days overdue of the oldest unpaid item for "closing soon".
    pub closing_soon_after_days: u32,
    /// Days overdue of the oldest unpaid item for "closed".
    pub closed_after_days: u32,
    /// Rule id of the "closing soon" notice (keys, templates, overrides).
    #[serde(default = "closing_soon_id")]
    pub closing_soon_id: RuleId,
    /// Rule id of the "closed" notice.
    #[serde(default = "closed_id")]
    pub closed_id: RuleId,
    /// Contact roles the notices go to (empty: every contact with notify on).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<ContactRole>,
}

fn closing_soon_id() -> RuleId {
    RuleId::known("closing-soon")
}

fn closed_id() -> RuleId {
    RuleId::known("closed")
}

impl StandingRule {
    /// Thresholds with the default notice ids `closing-soon` and `closed`.
    #[must_use]
    pub fn new(closing_soon_after_days: u32, closed_after_days: u32) -> Self {
        Self {
            closing_soon_after_days,
            closed_after_days,
            closing_soon_id: closing_soon_id(),
            closed_id: closed_id(),
            roles: Vec::new(),
        }
    }
}

pub(crate) fn check_thresholds(field: &str, closing_soon: u32, closed: u32) -> Result<(), ValidationError> {
    if closing_soon == 0 || closed <= closing_soon {
        return Err(ValidationError::StandingThresholds {
            field: field.to_owned(),
            closing_soon,
            closed,
        });
    }
    Ok(())
}

/// A client's standing at the plan's `now`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientStanding {
    /// The client.
    pub client: ClientId,
    /// Its state.
    pub state: StandingState,
    /// Days overdue of its oldest unpaid item.
    pub days_overdue: i64,
    /// That item.
    pub oldest_item: ItemId,
    /// The day it entered this state.
    pub since: NaiveDate,
}

crate::names::names!(StandingState, "standing state" {
    Good => "good",
    ClosingSoon => "closing_soon",
    Closed => "closed",
});
