//! Lasting stops: what holds a rule back from reminding about an item, whatever the day
//! (the item settled or closed, reminders off, before the collection start, below the
//! minimum balance, nobody to send to). One function, in the order they are told.

use chrono::NaiveDate;

use super::rule::{CompiledRule, EffRule};
use crate::model::item::{Item, ItemStatus};
use crate::money::Money;
use crate::plan::SuppressReasonKind as Kind;
use crate::plan::decide::reason::Reason;
use crate::policy::{Anchor, CollectionStart};

/// What [`lasting_stop`] reads about one item and one rule.
pub(crate) struct Stops<'a> {
    pub(crate) item: &'a Item,
    /// The item's status as of the plan.
    pub(crate) status: ItemStatus,
    /// What is still owed, if the item has an amount.
    pub(crate) balance: Option<Money>,
    /// The due date (the item's, or worked out from the payment term).
    pub(crate) due: Option<NaiveDate>,
    pub(crate) rule: &'a CompiledRule,
    /// The rule as it applies to the item's client.
    pub(crate) eff: &'a EffRule,
    pub(crate) collection: &'a CollectionStart,
    /// Reminders are off for the client.
    pub(crate) client_off: bool,
}

/// The lasting stop that holds the rule back from the item, if any: the first of, in order,
/// the item's status (for a rule anchored on payment: not settled yet), reminders off for
/// the client, the rule off for the client, reminders off for the item, the collection start
/// dates, the rule's minimum balance, and no contact to send to (`has_recipient`, asked
/// last, as it reads the client's contacts).
#[inline]
pub(crate) fn lasting_stop(s: &Stops<'_>, has_recipient: impl FnOnce() -> bool) -> Option<Reason> {
    let Stops {
        item,
        status,
        balance,
        due,
        rule,
        eff,
        collection,
        client_off,
    } = *s;
    if rule.anchor == Anchor::Paid {
        if !status.is_settled() {
            return Some(Reason::plain(Kind::NotSettled));
        }
    } else {
        match status {
            ItemStatus::Paid => return Some(Reason::plain(Kind::Paid)),
            ItemStatus::Cancelled => return Some(Reason::plain(Kind::Cancelled)),
            ItemStatus::Void => return Some(Reason::plain(Kind::Void)),
            ItemStatus::Draft => return Some(Reason::plain(Kind::Draft)),
            ItemStatus::Completed => return Some(Reason::plain(Kind::Completed)),
            _ => {}
        }
    }
    if client_off {
        return Some(Reason::plain(Kind::ClientRemindersOff));
    }
    if eff.client_off {
        return Some(Reason::plain(Kind::ExcludedForClient));
    }
    if !item.reminders {
        return Some(Reason::plain(Kind::ItemRemindersOff));
    }
    if let Some(start) = collection.past_items {
        if due.unwrap_or(item.issued_on) < start {
            return Some(Reason::before_collection_start(start));
        }
    }
    if rule.anchor == Anchor::Issued {
        if let Some(start) = collection.new_items {
            if item.issued_on < start {
                return Some(Reason::before_collection_start(start));
            }
        }
    }
    if rule.anchor != Anchor::Paid {
        if let Some(b) = balance {
            if let Some(i) = rule.min_balance.iter().position(|m| m.currency() == b.currency()) {
                if b.minor() < rule.min_balance[i].minor() {
                    return Some(Reason::below_minimum_balance(u32::try_from(i).unwrap_or(0)));
                }
            }
        }
    }
    if !has_recipient() {
        return Some(Reason::plain(Kind::NoRecipients));
    }
    None
}
