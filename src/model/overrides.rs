//! A client's own settings: the changes it makes to the policy, field by field.
//!
//! They are data the host keeps with each client ([`Client::overrides`](crate::Client)),
//! defined here with the rest of the client so that the model stands on its own; the policy
//! resolves them against its defaults into the effective settings
//! ([`EffectiveSettings`](crate::policy::EffectiveSettings)), and re-exports them as
//! `dunning::policy::ClientOverrides` and `dunning::policy::RuleOverride`.

use std::collections::BTreeMap;

use chrono::NaiveTime;
use serde::{Deserialize, Serialize};

use crate::error::ValidationError;
use crate::model::client::ContactRole;
use crate::model::id::{ClientId, RuleId};
use crate::time::hhmm;

/// A client's changes to one rule; unset fields keep the policy's value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RuleOverride {
    /// Switch the rule on or off for this client.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Another offset from the anchor.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset_days: Option<i32>,
    /// Another spacing between repeats.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub every_days: Option<u32>,
    /// Another count.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
    /// Other contact roles.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<ContactRole>>,
    /// Another recurrence, for a statement rule (the RRULE value).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rrule: Option<String>,
}

impl RuleOverride {
    /// The rule switched off for the client.
    #[must_use]
    pub fn off() -> Self {
        Self {
            enabled: Some(false),
            ..Self::default()
        }
    }
}

/// Per-client settings; each set field overrides the policy's.
///
/// The client's time zone and locale are fields of [`Client`](crate::Client) itself.
///
/// # Example
/// ```
/// use dunning::{ClientOverrides, RuleOverride};
/// let overrides = ClientOverrides::default()
///     .payment_term(15)
///     .rule("due-soon".parse()?, RuleOverride::off());
/// assert_eq!(overrides.payment_term_days, Some(15));
/// # Ok::<(), dunning::ValidationError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClientOverrides {
    /// All automatic reminders on or off for this client.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reminders: Option<bool>,
    /// The client's payment term in days (1 to 30).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_term_days: Option<u32>,
    /// Local time of day to send at.
    #[serde(with = "hhmm::option", skip_serializing_if = "Option::is_none")]
    pub send_time: Option<NaiveTime>,
    /// Minimum days between two reminders about items to this client
    /// ([`Policy::min_gap_days`](crate::Policy::min_gap_days)).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_gap_days: Option<u32>,
    /// Contact roles that receive reminders, unless a rule names its own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<ContactRole>>,
    /// Reply-to addresses for this client's messages (a list or a comma-separated string).
    #[serde(
        default,
        deserialize_with = "crate::model::client::optional_addresses",
        skip_serializing_if = "Option::is_none"
    )]
    pub reply_to: Option<Vec<String>>,
    /// Addresses copied on this client's messages, instead of the policy's.
    #[serde(
        default,
        deserialize_with = "crate::model::client::optional_addresses",
        skip_serializing_if = "Option::is_none"
    )]
    pub cc: Option<Vec<String>>,
    /// Addresses blind-copied on this client's messages, instead of the policy's.
    #[serde(
        default,
        deserialize_with = "crate::model::client::optional_addresses",
        skip_serializing_if = "Option::is_none"
    )]
    pub bcc: Option<Vec<String>>,
    /// Days overdue for "closing soon", instead of the policy's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closing_soon_after_days: Option<u32>,
    /// Days overdue for "closed", instead of the policy's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closed_after_days: Option<u32>,
    /// Changes to single rules (and statements, and standing notices), by id.
    #[serde(skip_serializing_if = "BTreeMap::is_empty", deserialize_with = "unique_keys")]
    pub rules: BTreeMap<RuleId, RuleOverride>,
}

impl ClientOverrides {
    /// Switches all automatic reminders on or off.
    #[must_use]
    pub fn reminders(mut self, on: bool) -> Self {
        self.reminders = Some(on);
        self
    }

    /// Sets the payment term.
    #[must_use]
    pub fn payment_term(mut self, days: u32) -> Self {
        self.payment_term_days = Some(days);
        self
    }

    /// Sets the minimum gap between reminders about items.
    #[must_use]
    pub fn min_gap(mut self, days: u32) -> Self {
        self.min_gap_days = Some(days);
        self
    }

    /// Sets the send time.
    #[must_use]
    pub fn send_time(mut self, time: NaiveTime) -> Self {
        self.send_time = Some(time);
        self
    }

    /// Overrides one rule.
    #[must_use]
    pub fn rule(mut self, id: RuleId, rule: RuleOverride) -> Self {
        self.rules.insert(id, rule);
        self
    }

    /// Checks what can be checked without the policy: addresses, the payment term's range,
    /// and numbers within their [limits](crate::limits). Whether each rule override fits its
    /// rule is checked by the planner, which knows the rules.
    ///
    /// # Errors
    /// The first problem, naming the client and the field as it is written
    /// (`client acme: overrides.rules.overdue.count`).
    ///
    /// # Example
    /// ```
    /// use dunning::{ClientOverrides, RuleOverride, ValidationError};
    /// let ok = ClientOverrides::default().min_gap(3);
    /// assert!(ok.validate(&"acme".parse()?).is_ok());
    /// let huge = RuleOverride { count: Some(u32::MAX), ..RuleOverride::default() };
    /// let err = ClientOverrides::default()
    ///     .rule("overdue".parse()?, huge)
    ///     .validate(&"acme".parse()?)
    ///     .unwrap_err();
    /// assert!(matches!(err, ValidationError::OverLimit { .. }));
    /// assert_eq!(
    ///     err.to_string(),
    ///     "client acme: overrides.rules.overdue.count 4294967295 is over the limit of 10000"
    /// );
    /// # Ok::<(), ValidationError>(())
    /// ```
    pub fn validate(&self, client: &ClientId) -> Result<(), ValidationError> {
        use crate::limits::{MAX_COUNT, MAX_DAYS, check_offset, check_opt};
        // Written only into an error: every client is checked at every plan.
        struct Owner<'a>(&'a ClientId);
        impl std::fmt::Display for Owner<'_> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "client {}", self.0)
            }
        }
        let owner = Owner(client);
        for (field, list) in [("reply_to", &self.reply_to), ("cc", &self.cc), ("bcc", &self.bcc)] {
            for (i, a) in list.iter().flatten().enumerate() {
                crate::model::client::check_address(|| format!("{owner}: overrides.{field}[{i}]"), a)?;
            }
        }
        if let Some(term) = self.payment_term_days.filter(|t| !(1..=30).contains(t)) {
            crate::limits::check_term(&format!("{owner}: overrides.payment_term_days"), term)?;
        }
        if let Some(time) = self.send_time {
            crate::limits::check_send_time(|| format!("{owner}: overrides.send_time"), time)?;
        }
        check_opt(&owner, "overrides.min_gap_days", self.min_gap_days, MAX_DAYS)?;
        let closing = self.closing_soon_after_days;
        check_opt(&owner, "overrides.closing_soon_after_days", closing, MAX_DAYS)?;
        check_opt(
            &owner,
            "overrides.closed_after_days",
            self.closed_after_days,
            MAX_DAYS,
        )?;
        for (id, ro) in &self.rules {
            let field = |name: &str| format!("overrides.rules.{id}.{name}");
            let over = |v: Option<u32>, max: u32| v.is_some_and(|v| v > max);
            if let Some(offset) = ro.offset_days.filter(|o| o.unsigned_abs() > MAX_DAYS) {
                check_offset(&owner, &field("offset_days"), offset)?;
            }
            if over(ro.every_days, MAX_DAYS) {
                check_opt(&owner, &field("every_days"), ro.every_days, MAX_DAYS)?;
            }
            if over(ro.count, MAX_COUNT) {
                check_opt(&owner, &field("count"), ro.count, MAX_COUNT)?;
            }
        }
        Ok(())
    }
}

/// A map read from a document whose keys are each given once: a rule named twice is refused
/// (`duplicate key "overdue"`), not read as its last value.
fn unique_keys<'de, D>(deserializer: D) -> Result<BTreeMap<RuleId, RuleOverride>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    struct Unique;
    impl<'de> serde::de::Visitor<'de> for Unique {
        type Value = BTreeMap<RuleId, RuleOverride>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a map of rule ids to rule overrides")
        }

        fn visit_map<A: serde::de::MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
            let mut map = BTreeMap::new();
            while let Some((id, rule)) = access.next_entry::<RuleId, RuleOverride>()? {
                if map.contains_key(&id) {
                    return Err(serde::de::Error::custom(format_args!(
                        "duplicate key {:?}",
                        id.as_str()
                    )));
                }
                map.insert(id, rule);
            }
            Ok(map)
        }
    }
    deserializer.deserialize_map(Unique)
}
