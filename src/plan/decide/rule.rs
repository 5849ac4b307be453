//! A rule as the planner applies it: compiled once per policy, resolved once per client,
//! and whether it is for an item at all.

use crate::model::client::{Client, ContactRole};
use crate::model::id::RuleId;
use crate::model::item::Item;
use crate::money::Money;
use crate::plan::SuppressReasonKind as Kind;
use crate::plan::decide::reason::Reason;
use crate::policy::{Anchor, Policy, Resolved, Rule};

/// A policy's item rule, compiled once per planner: what decides whether it is for an item
/// (kinds, client tags, minimum balances) and how it sends (grouped, expiry, late fee).
#[derive(Debug, Clone)]
pub(crate) struct CompiledRule {
    pub(crate) id: RuleId,
    pub(crate) anchor: Anchor,
    pub(crate) kinds_mask: u8,
    pub(crate) client_tags: Vec<String>,
    pub(crate) min_balance: Vec<Money>,
    pub(crate) group: bool,
    pub(crate) expires_after: Option<u32>,
    pub(crate) late_fee: Option<crate::policy::LateFee>,
}

impl CompiledRule {
    /// Whether the rule plans reminders about `item` of `client`, as it applies to the client
    /// (`eff`): on (or off for the client only, to say so), of the item's kind, and for the
    /// client's tags.
    #[inline]
    pub(crate) fn applies(&self, eff: &EffRule, item: &Item, client: &Client) -> bool {
        (eff.enabled || eff.client_off) && !self.excludes_kind(item) && !self.excludes_client(client)
    }

    /// Whether the rule is for other kinds of item than `item`'s.
    #[inline]
    pub(crate) fn excludes_kind(&self, item: &Item) -> bool {
        self.kinds_mask != 0 && self.kinds_mask & item.kind.bit() == 0
    }

    /// Whether the rule is for clients with tags `client` lacks.
    #[inline]
    pub(crate) fn excludes_client(&self, client: &Client) -> bool {
        !crate::policy::for_client_tags(&self.client_tags, &client.tags)
    }

    /// Why the rule is not for `item` of `client`, whatever its settings: the item's kind,
    /// else the client's tags. (The converse of [`Self::applies`]'s scope, for the rare
    /// item no rule is for.)
    #[cold]
    pub(crate) fn out_of_scope(&self, item: &Item, client: &Client) -> Option<Reason> {
        if self.excludes_kind(item) {
            Some(Reason::plain(Kind::ExcludedKind))
        } else if self.excludes_client(client) {
            Some(Reason::plain(Kind::NotForClientTags))
        } else {
            None
        }
    }
}

/// A rule as it applies to one client: the policy's settings under the client's overrides
/// (one resolution, the one `Planner::effective_settings` shows).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct EffRule {
    pub(crate) enabled: bool,
    pub(crate) client_off: bool,
    pub(crate) offset: i32,
    pub(crate) every: Option<u32>,
    pub(crate) count: u32,
    pub(crate) roles_mask: u8,
}

pub(crate) fn compile_rule(r: &Rule) -> CompiledRule {
    CompiledRule {
        id: r.id.clone(),
        anchor: r.anchor,
        kinds_mask: r.when.kinds.iter().fold(0, |m, k| m | k.bit()),
        client_tags: r.when.client_tags.clone(),
        min_balance: r.when.min_balance.clone(),
        group: r.group,
        expires_after: r.expires_after_days,
        late_fee: r.late_fee.clone(),
    }
}

/// The rules of `policy` as they apply to `client`, by the one resolution.
pub(crate) fn resolve_rules(policy: &Policy, client: &Client, out: &mut Vec<EffRule>) {
    let resolved = Resolved::new(policy, client);
    for rule in &policy.rules {
        let r = resolved.rule(rule);
        out.push(EffRule {
            enabled: r.enabled.value,
            client_off: r.switched_off(),
            offset: r.offset_days.value,
            every: r.every_days.value,
            count: r.count.value,
            roles_mask: ContactRole::mask(r.roles.value),
        });
    }
}
