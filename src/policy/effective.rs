//! The effective settings of a client: the policy's values under the client's overrides,
//! each with where it comes from.

use chrono::NaiveTime;
use serde::{Deserialize, Serialize};

use crate::model::client::ContactRole;
use crate::model::id::{ClientId, RuleId};
use crate::time::TimeZone;

/// Where an effective value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Origin {
    /// The policy (or the library default the policy kept).
    Policy,
    /// The client's overrides.
    Client,
}

/// A value and where it comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Setting<T> {
    /// The value in force.
    pub value: T,
    /// Who set it.
    pub origin: Origin,
}

impl<T> Setting<T> {
    pub(crate) fn pick(policy: T, client: Option<T>) -> Self {
        match client {
            Some(value) => Setting {
                value,
                origin: Origin::Client,
            },
            None => Setting {
                value: policy,
                origin: Origin::Policy,
            },
        }
    }
}

/// A rule as it applies to one client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EffectiveRule {
    /// The rule.
    pub rule: RuleId,
    /// On or off.
    pub enabled: Setting<bool>,
    /// Offset from the anchor.
    pub offset_days: Setting<i32>,
    /// Spacing between repeats.
    pub every_days: Setting<Option<u32>>,
    /// Count.
    pub count: Setting<u32>,
    /// Contact roles (empty: all with notify on).
    pub roles: Setting<Vec<ContactRole>>,
}

/// Every setting in force for one client, with its origin (policy or client).
///
/// Made by [`Planner::effective_settings`](crate::Planner::effective_settings).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EffectiveSettings {
    /// The client.
    pub client: ClientId,
    /// Automatic reminders on or off.
    pub reminders: Setting<bool>,
    /// Time zone for send dates.
    pub time_zone: Setting<TimeZone>,
    /// Locale of messages.
    pub locale: Setting<String>,
    /// Local send time.
    #[serde(with = "send_time_setting")]
    pub send_time: Setting<NaiveTime>,
    /// Payment term in days.
    pub payment_term_days: Setting<u32>,
    /// Minimum days between two messages.
    pub min_gap_days: Setting<u32>,
    /// Default contact roles (empty: all with notify on).
    pub roles: Setting<Vec<ContactRole>>,
    /// Addresses copied on the client's messages.
    pub cc: Setting<Vec<String>>,
    /// Addresses blind-copied on the client's messages.
    pub bcc: Setting<Vec<String>>,
    /// Reply-to addresses of the client's messages.
    pub reply_to: Setting<Vec<String>>,
    /// Days overdue for "closing soon", when the policy has account standing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closing_soon_after_days: Option<Setting<u32>>,
    /// Days overdue for "closed", when the policy has account standing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_after_days: Option<Setting<u32>>,
    /// Each reminder rule of the policy as it applies to the client.
    pub rules: Vec<EffectiveRule>,
    /// Each statement and standing notice of the policy as it applies to the client.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notices: Vec<EffectiveNotice>,
}

/// A statement or an account-standing notice as it applies to one client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EffectiveNotice {
    /// The statement's or notice's id.
    pub rule: RuleId,
    /// On or off.
    pub enabled: Setting<bool>,
    /// Contact roles (empty: all with notify on).
    pub roles: Setting<Vec<ContactRole>>,
    /// The client's own recurrence of a statement, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rrule: Option<String>,
}

crate::names::names!(Origin, "origin" {
    Policy => "policy",
    Client => "client",
});

/// Serde for a send time with its origin: the time written `"09:00"`.
pub(crate) mod send_time_setting {
    use chrono::NaiveTime;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::{Origin, Setting};

    #[derive(Serialize, Deserialize)]
    struct Repr {
        #[serde(with = "crate::time::hhmm")]
        value: NaiveTime,
        origin: Origin,
    }

    pub(crate) fn serialize<S: Serializer>(t: &Setting<NaiveTime>, s: S) -> Result<S::Ok, S::Error> {
        Repr {
            value: t.value,
            origin: t.origin,
        }
        .serialize(s)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Setting<NaiveTime>, D::Error> {
        let r = Repr::deserialize(d)?;
        Ok(Setting {
            value: r.value,
            origin: r.origin,
        })
    }
}
