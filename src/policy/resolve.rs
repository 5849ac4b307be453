//! The one resolution of a client's settings: each value in force for the client, the
//! policy's or the client's override, and where it comes from. The planner, the effective
//! settings a host is shown ([`Planner::effective_settings`](crate::Planner::effective_settings))
//! and the messages' addresses all read it, so what a host is shown is what the planner and
//! the messages do.
//!
//! It borrows and clones nothing: the planner resolves every client at every plan.

use chrono::NaiveTime;

use crate::model::client::{Client, ContactRole};
use crate::model::id::RuleId;
use crate::policy::{Origin, Policy, Rule, RuleOverride, Setting};
use crate::time::TimeZone;

/// A client's settings under a policy, read on demand.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Resolved<'a> {
    policy: &'a Policy,
    client: &'a Client,
}

/// A reminder rule as it applies to one client.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ResolvedRule<'a> {
    pub(crate) enabled: Setting<bool>,
    pub(crate) offset_days: Setting<i32>,
    pub(crate) every_days: Setting<Option<u32>>,
    pub(crate) count: Setting<u32>,
    /// Contact roles (empty: all with notify on).
    pub(crate) roles: Setting<&'a [ContactRole]>,
}

/// A statement or a standing notice as it applies to one client.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ResolvedNotice<'a> {
    pub(crate) enabled: Setting<bool>,
    /// Contact roles (empty: all with notify on).
    pub(crate) roles: Setting<&'a [ContactRole]>,
    /// Another recurrence, for a statement.
    pub(crate) rrule: Option<&'a str>,
}

impl ResolvedRule<'_> {
    /// Switched off by the client's override (not merely off in the policy).
    pub(crate) fn switched_off(&self) -> bool {
        self.enabled.origin == Origin::Client && !self.enabled.value
    }
}

impl ResolvedNotice<'_> {
    /// Switched off by the client's override (not merely off in the policy).
    pub(crate) fn switched_off(&self) -> bool {
        self.enabled.origin == Origin::Client && !self.enabled.value
    }
}

impl<'a> Resolved<'a> {
    pub(crate) fn new(policy: &'a Policy, client: &'a Client) -> Self {
        Self { policy, client }
    }

    /// The client's override of rule `id`, if any.
    fn rule_override(&self, id: &RuleId) -> Option<&'a RuleOverride> {
        let rules = &self.client.overrides.rules;
        if rules.is_empty() {
            None
        } else {
            rules.get(id.as_str())
        }
    }

    /// Automatic reminders on or off.
    pub(crate) fn reminders(&self) -> Setting<bool> {
        Setting::pick(true, self.client.overrides.reminders)
    }

    /// The time zone of send dates.
    pub(crate) fn time_zone(&self) -> Setting<TimeZone> {
        Setting::pick(self.policy.time_zone, self.client.time_zone)
    }

    /// The locale of messages.
    pub(crate) fn locale(&self) -> Setting<&'a str> {
        Setting::pick(self.policy.locale.as_str(), self.client.locale.as_deref())
    }

    /// The local send time.
    pub(crate) fn send_time(&self) -> Setting<NaiveTime> {
        Setting::pick(self.policy.send_time, self.client.overrides.send_time)
    }

    /// The payment term in days.
    pub(crate) fn payment_term_days(&self) -> Setting<u32> {
        Setting::pick(
            self.policy.payment_term_days,
            self.client.overrides.payment_term_days,
        )
    }

    /// The minimum days between two reminders about items.
    pub(crate) fn min_gap_days(&self) -> Setting<u32> {
        Setting::pick(self.policy.min_gap_days, self.client.overrides.min_gap_days)
    }

    /// The contact roles a rule without roles of its own addresses (empty: all).
    pub(crate) fn roles(&self) -> Setting<&'a [ContactRole]> {
        Setting::pick(&[][..], self.client.overrides.roles.as_deref())
    }

    /// Addresses copied on the client's messages.
    pub(crate) fn cc(&self) -> Setting<&'a [String]> {
        Setting::pick(self.policy.cc.as_slice(), self.client.overrides.cc.as_deref())
    }

    /// Addresses blind-copied on the client's messages.
    pub(crate) fn bcc(&self) -> Setting<&'a [String]> {
        Setting::pick(self.policy.bcc.as_slice(), self.client.overrides.bcc.as_deref())
    }

    /// Reply-to addresses of the client's messages.
    pub(crate) fn reply_to(&self) -> Setting<&'a [String]> {
        Setting::pick(
            self.policy.reply_to.as_slice(),
            self.client.overrides.reply_to.as_deref(),
        )
    }

    /// Days overdue for "closing soon" and for "closed", when the policy has standing.
    pub(crate) fn standing_thresholds(&self) -> Option<(Setting<u32>, Setting<u32>)> {
        let st = self.policy.standing.as_ref()?;
        let o = &self.client.overrides;
        Some((
            Setting::pick(st.closing_soon_after_days, o.closing_soon_after_days),
            Setting::pick(st.closed_after_days, o.closed_after_days),
        ))
    }

    /// The roles of a rule or notice whose own roles are `own`: the override's, else its
    /// own, else the client's default ([`Resolved::roles`]).
    fn roles_of(&self, own: &'a [ContactRole], ro: Option<&'a RuleOverride>) -> Setting<&'a [ContactRole]> {
        match ro.and_then(|r| r.roles.as_deref()) {
            Some(roles) => Setting::pick(own, Some(roles)),
            None if !own.is_empty() => Setting::pick(own, None),
            None => self.roles(),
        }
    }

    /// Reminder rule `rule` of the policy as it applies to the client.
    pub(crate) fn rule(&self, rule: &'a Rule) -> ResolvedRule<'a> {
        let ro = self.rule_override(&rule.id);
        ResolvedRule {
            enabled: Setting::pick(rule.enabled, ro.and_then(|x| x.enabled)),
            offset_days: Setting::pick(rule.offset_days, ro.and_then(|x| x.offset_days)),
            every_days: Setting::pick(rule.every_days, ro.and_then(|x| x.every_days).map(Some)),
            count: Setting::pick(rule.count, ro.and_then(|x| x.count)),
            roles: self.roles_of(&rule.roles, ro),
        }
    }

    /// A statement or standing notice `id`, on by default when `enabled`, addressed to its
    /// `own` roles, as it applies to the client.
    pub(crate) fn notice(&self, id: &RuleId, enabled: bool, own: &'a [ContactRole]) -> ResolvedNotice<'a> {
        let ro = self.rule_override(id);
        ResolvedNotice {
            enabled: Setting::pick(enabled, ro.and_then(|x| x.enabled)),
            roles: self.roles_of(own, ro),
            rrule: ro.and_then(|x| x.rrule.as_deref()),
        }
    }
}

/// Whether a rule only for clients with one of `tags` (empty: every client) is for a client
/// with `client_tags`: the one reading of it, for the planner and for the effective settings
/// a host is shown.
pub(crate) fn for_client_tags(tags: &[String], client_tags: &std::collections::BTreeSet<String>) -> bool {
    tags.is_empty() || tags.iter().any(|t| client_tags.contains(t))
}
