//! Reminder rules.

use serde::{Deserialize, Serialize};

use crate::model::client::ContactRole;
use crate::model::id::RuleId;
use crate::model::item::ItemKind;
use crate::money::Money;

/// The item date a rule counts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Anchor {
    /// The issue date ("invoice issued" notices).
    Issued,
    /// The due date: negative offsets are "due soon", zero "due today", positive "overdue".
    Due,
    /// When the client was notified of the item (for pending actions other than invoices).
    Sent,
    /// When the item was paid or completed ("thank you" notices).
    Paid,
}

crate::names::names!(Anchor, "anchor" {
    Issued => "issued",
    Due => "due",
    Sent => "sent",
    Paid => "paid",
});

/// Conditions an item and its client must meet for a rule to apply to it.
///
/// Empty lists mean "no condition".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Conditions {
    /// Minimum balance per currency; an item whose balance is below the minimum for its
    /// currency is not reminded by this rule. Currencies not listed have no minimum.
    pub min_balance: Vec<Money>,
    /// Item kinds the rule applies to (empty: all).
    pub kinds: Vec<ItemKind>,
    /// The rule applies only to clients with at least one of these tags (empty: all).
    pub client_tags: Vec<String>,
}

/// A reminder rule: when, how often, to whom, about what.
///
/// A rule is anchored on an item date with an offset in days (negative = before), and may
/// repeat every `every_days` up to `count` times. Repeats are spaced from the last actual
/// send, so an outage never produces a burst.
///
/// # Example
/// Five days before the due date, then on the due date and every week
/// after, up to four times.
/// ```
/// use dunning::{Anchor, Rule};
/// let soon = Rule::new("due-soon".parse()?, Anchor::Due, -5);
/// let overdue = Rule::new("overdue".parse()?, Anchor::Due, 0).repeat(7, 4);
/// assert_eq!(overdue.count, 4);
/// # let _ = soon;
/// # Ok::<(), dunning::ValidationError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Unique id within the policy; part of every event key.
    pub id: RuleId,
    /// The item date it counts from.
    pub anchor: Anchor,
    /// Days from the anchor to the first reminder (negative: before; only for `due`).
    #[serde(default)]
    pub offset_days: i32,
    /// Days between repeats (also the spacing after a manual send).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub every_days: Option<u32>,
    /// How many reminders at most (1: no repeats).
    #[serde(default = "one")]
    pub count: u32,
    /// Conditions on the item and client.
    #[serde(default)]
    pub when: Conditions,
    /// Contact roles it goes to (empty: every contact with notify on).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<ContactRole>,
    /// Send one notice per client and currency for all items that fire the same day at the
    /// same instant: those due now go together; one whose send time is still to come goes in
    /// a notice at that time, never in an earlier one (a catch-up at the start of the day).
    /// Under a minimum gap between messages, when the day's message is such a notice at a
    /// send instant still to come, the day's notices of the rule and currency due sooner go
    /// in it (the gap lets one message go that day; by then they are due with it), and so
    /// does an item's stage of the rule whose turn comes by then, over an earlier stage of
    /// the item that won the day by going sooner (by then the latest stage wins). The
    /// notice's stage is its most advanced item's ([`Stage`](crate::Stage)).
    #[serde(default)]
    pub group: bool,
    /// Whether the rule is on.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Drop an occurrence that could not go out within this many days of its day (for
    /// notices that make no sense late, such as "thank you" or "invoice issued"); none:
    /// late occurrences go out on catch-up, however late.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_after_days: Option<u32>,
    /// A late fee to propose in the message; the library never changes the invoice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub late_fee: Option<LateFee>,
}

/// A proposed late fee: a fixed amount in the item's currency plus a share of the balance,
/// capped per currency. Computed into each event and its message; never applied to the item.
///
/// # Example
/// ```
/// use dunning::{Currency, LateFee, Money};
/// let clp = Currency::from_code("CLP")?;
/// let fee = LateFee { fixed: vec![], basis_points: 150, cap: vec![Money::parse("20000", clp)?] };
/// // 1.5% of 1,000,000 is 15,000; of 2,000,000 it would be 30,000, capped at 20,000.
/// assert_eq!(fee.compute(Money::parse("1000000", clp)?)?, Some(Money::parse("15000", clp)?));
/// assert_eq!(fee.compute(Money::parse("2000000", clp)?)?, Some(Money::parse("20000", clp)?));
/// // A fee past the largest amount is an error, never a silent "no fee".
/// let huge = LateFee { fixed: vec![], basis_points: 20_000, cap: vec![] };
/// assert!(huge.compute(Money::from_minor(i64::MAX, clp)).is_err());
/// # Ok::<(), dunning::ValidationError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LateFee {
    /// A fixed fee per currency (items in other currencies get no fixed part).
    pub fixed: Vec<Money>,
    /// A share of the balance in basis points (150 = 1.5%), rounded half up to the minor unit.
    pub basis_points: u32,
    /// The most the fee may be, per currency.
    pub cap: Vec<Money>,
}

impl LateFee {
    /// The fee for `balance`, or none when nothing applies (no fixed part for the currency
    /// and no percentage, or a balance not above zero).
    ///
    /// # Errors
    /// [`ValidationError::AmountTooLarge`](crate::ValidationError::AmountTooLarge) when the
    /// fee is past the largest amount (`i64::MAX` minor units).
    pub fn compute(&self, balance: Money) -> Result<Option<Money>, crate::ValidationError> {
        if !balance.is_positive() {
            return Ok(None);
        }
        let cur = balance.currency();
        let fixed = self.fixed.iter().find(|m| m.currency() == cur).map(Money::minor);
        let share = (self.basis_points > 0).then(|| {
            let raw = i128::from(balance.minor()) * i128::from(self.basis_points);
            (raw + 5_000) / 10_000
        });
        if fixed.is_none() && share.is_none() {
            return Ok(None);
        }
        let mut fee = i128::from(fixed.unwrap_or(0)) + share.unwrap_or(0);
        if let Some(cap) = self.cap.iter().find(|m| m.currency() == cur) {
            fee = fee.min(i128::from(cap.minor()));
        }
        i64::try_from(fee)
            .map(|minor| Some(Money::from_minor(minor, cur)))
            .map_err(|_| crate::ValidationError::AmountTooLarge {
                field: format!("late fee of {balance}"),
                currency: cur.code().to_owned(),
            })
    }
}

fn one() -> u32 {
    1
}
fn yes() -> bool {
    true
}

impl Rule {
    /// A single reminder `offset_days` from `anchor`, to every contact, for every item kind.
    #[must_use]
    pub fn new(id: RuleId, anchor: Anchor, offset_days: i32) -> Self {
        Self {
            id,
            anchor,
            offset_days,
            every_days: None,
            count: 1,
            when: Conditions::default(),
            roles: Vec::new(),
            group: false,
            enabled: true,
            expires_after_days: None,
            late_fee: None,
        }
    }

    /// The same rule repeating every `every_days` up to `count` times in all.
    ///
    /// Each repeat is spaced from the day the one before it actually went. Counting from the
    /// due date, each occurrence is a reminder of the stage of its own day: a repeat of a rule
    /// set before the due date whose day falls on or after the due date goes as a "due today"
    /// or "overdue" reminder, not as a "due soon".
    ///
    /// ```
    /// use dunning::{Anchor, Rule, RuleId};
    ///
    /// // One day before the due date, then every 3 days: the 2nd and 3rd go overdue.
    /// let rule = Rule::new(RuleId::new("nudge").unwrap(), Anchor::Due, -1).repeat(3, 3);
    /// assert_eq!(rule.count, 3);
    /// ```
    #[must_use]
    pub fn repeat(mut self, every_days: u32, count: u32) -> Self {
        self.every_days = Some(every_days);
        self.count = count;
        self
    }

    /// The same rule restricted to item kinds.
    #[must_use]
    pub fn for_kinds(mut self, kinds: impl IntoIterator<Item = ItemKind>) -> Self {
        self.when.kinds = kinds.into_iter().collect();
        self
    }

    /// The same rule addressed to some contact roles only.
    #[must_use]
    pub fn to_roles(mut self, roles: impl IntoIterator<Item = ContactRole>) -> Self {
        self.roles = roles.into_iter().collect();
        self
    }

    /// The same rule grouping items per client and currency.
    #[must_use]
    pub fn grouped(mut self) -> Self {
        self.group = true;
        self
    }

    /// The same rule with a minimum balance in one currency.
    #[must_use]
    pub fn min_balance(mut self, minimum: Money) -> Self {
        self.when.min_balance.push(minimum);
        self
    }

    /// The same rule for clients with one of these tags only.
    #[must_use]
    pub fn for_client_tags<S: Into<String>>(mut self, tags: impl IntoIterator<Item = S>) -> Self {
        self.when.client_tags = tags.into_iter().map(Into::into).collect();
        self
    }

    /// The same rule switched on or off.
    #[must_use]
    pub fn enabled(mut self, enabled: bool) -> Self {
        self.enabled = enabled;
        self
    }

    /// The same rule dropping occurrences more than `days` late: one whose send was missed
    /// (the host was down), or that a pause or the client's minimum gap holds back, past
    /// `days` days after the day it was to go is not sent late. It is explained as
    /// [`SuppressReason::Expired`](crate::SuppressReason::Expired) on that day, and the
    /// rule's next repeat is spaced from that day, as if it went. A later stage that goes
    /// before that day supersedes it instead; a manual send about the item after that day
    /// does not bring it back, nor move the day a waiting occurrence expires from (spaced
    /// past `days` days after its day, it is dropped). Until `days` days after its day have
    /// passed, a plan that says it expired forecasts so (the minimum gap's turns among the
    /// client's other reminders may still change); after them, it is expired for good.
    ///
    /// # Example
    ///
    /// A daily reminder that must go on its day: the first one falls in a payment promise
    /// and is dropped, the next goes the day the promise ends.
    /// ```
    /// # use dunning::*;
    /// # use chrono::{NaiveDate, TimeZone as _, Utc};
    /// let day = |d| NaiveDate::from_ymd_opt(2026, 4, d).unwrap();
    /// let rule = Rule::new("daily".parse()?, Anchor::Due, 0).repeat(1, 3).expires_after(0);
    /// let planner = Planner::new(&Policy::new(TimeZone::UTC).with_rule(rule))?;
    /// let client = Client::new("acme".parse()?, "ACME")
    ///     .with_contact(Contact::new("Billing", "billing@acme.example"));
    /// let usd = Currency::from_code("USD")?;
    /// let promise = Pause::new(PauseKind::Promise, "pays on the 7th").starting(day(6)).until(day(6));
    /// let item = Item::invoice("F-1".parse()?, client.id.clone(), day(1), Money::from_minor(10_000, usd))
    ///     .due(day(6))
    ///     .with_pause(promise);
    /// let now = Utc.with_ymd_and_hms(2026, 4, 2, 0, 0, 0).unwrap();
    /// let plan = planner.plan(&[client], &[item], &[], now, Horizon::days(14))?;
    /// let dropped = plan.suppressed().iter().find(|s| s.key.as_str() == "daily/F-1/1").unwrap();
    /// assert_eq!(dropped.reason, SuppressReason::Expired { days: 0 });
    /// assert_eq!(dropped.on, day(6));
    /// let keys: Vec<_> = plan.upcoming().iter().map(|e| (e.key.as_str(), e.send_on)).collect();
    /// assert_eq!(keys, [("daily/F-1/2", day(7)), ("daily/F-1/3", day(8))]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn expires_after(mut self, days: u32) -> Self {
        self.expires_after_days = Some(days);
        self
    }

    /// A "thank you" notice when an item is paid or completed, dropped if more than seven
    /// days late.
    #[must_use]
    pub fn thank_you(id: RuleId) -> Self {
        Self::new(id, Anchor::Paid, 0).expires_after(7)
    }

    /// The default reminder for pending actions other than invoices: three days after the client was
    /// notified, one reminder, spaced three days from any manual resend.
    #[must_use]
    pub fn pending_action(id: RuleId) -> Self {
        let mut rule = Self::new(id, Anchor::Sent, 3).repeat(3, 1);
        rule.when.kinds = ItemKind::ALL[1..].to_vec();
        rule
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;

    fn m(text: &str, code: &str) -> Money {
        Money::parse(text, Currency::from_code(code).unwrap()).unwrap()
    }

    #[test]
    fn late_fee_adds_the_fixed_part_of_the_currency_and_caps_it() {
        let fee = LateFee {
            fixed: vec![m("5000", "CLP")],
            basis_points: 100,
            cap: vec![m("12000", "CLP")],
        };
        assert_eq!(fee.compute(m("500000", "CLP")).unwrap(), Some(m("10000", "CLP")));
        assert_eq!(fee.compute(m("900000", "CLP")).unwrap(), Some(m("12000", "CLP")));
        // No fixed part or cap in USD: only the share, rounded half up to the cent.
        assert_eq!(fee.compute(m("10.05", "USD")).unwrap(), Some(m("0.10", "USD")));
        assert_eq!(fee.compute(m("0", "CLP")).unwrap(), None);
        assert_eq!(LateFee::default().compute(m("100", "CLP")).unwrap(), None);
    }
}
