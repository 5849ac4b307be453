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
///
/// A rule only for clients with certain tags ([`Rule::for_client_tags`](crate::Rule::for_client_tags))
/// is shown for every client, with those tags and whether this client has one of them
/// (`for_client`): a rule not for the client is never sent to it, whatever `enabled` says.
///
/// ```
/// use dunning::*;
/// let policy = Policy::default().with_rule(Rule::new("call".parse()?, Anchor::Due, 1).for_client_tags(["gold"]));
/// let planner = Planner::new(&policy)?;
/// let plain = planner.effective_settings(&Client::new("acme".parse()?, "ACME"))?;
/// assert!(plain.rules[0].enabled.value);
/// assert!(!plain.rules[0].for_client);
/// assert_eq!(plain.rules[0].client_tags, ["gold"]);
/// let mut zeta = Client::new("zeta".parse()?, "Zeta");
/// zeta.tags.insert("gold".to_owned());
/// let gold = planner.effective_settings(&zeta)?;
/// assert!(gold.rules[0].for_client);
/// # Ok::<(), dunning::ValidationError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EffectiveRule {
    /// The rule.
    pub rule: RuleId,
    /// Whether the rule is for this client at all: false when the rule is only for clients
    /// with one of `client_tags` and the client has none of them.
    #[serde(default = "for_every_client")]
    pub for_client: bool,
    /// The tags a client needs one of for the rule to be for it (empty: every client).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub client_tags: Vec<String>,
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

/// What a rule's `for_client` was before it was written: rules without tags are for every
/// client.
fn for_every_client() -> bool {
    true
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
