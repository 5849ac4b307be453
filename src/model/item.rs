//! Pending items: invoices and the other pending actions a client has to complete (a proposal to accept, a document to sign, a form to fill).

use std::sync::Arc;

use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::error::ValidationError;
use crate::model::client::Pause;
use crate::model::id::{ClientId, ItemId};
use crate::money::Money;

/// What kind of pending item this is.
///
/// Invoices are paid; every other kind is completed (signed, approved, submitted, read).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ItemKind {
    /// An invoice (factura, documento de venta).
    #[default]
    Invoice,
    /// A proposal waiting for the client's signature.
    Proposal,
    /// A document waiting for a signature.
    Signature,
    /// A document waiting for approval.
    Approval,
    /// A form (organizer) waiting to be submitted.
    Form,
    /// A message with a pending action.
    Message,
}

impl ItemKind {
    /// A lowercase word for sentences.
    #[must_use]
    pub fn describe(self) -> &'static str {
        match self {
            ItemKind::Invoice => "invoice",
            ItemKind::Proposal => "proposal",
            ItemKind::Signature => "signature request",
            ItemKind::Approval => "approval request",
            ItemKind::Form => "form",
            ItemKind::Message => "message",
        }
    }

    pub(crate) fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// The status the host keeps for an item.
///
/// The planner also looks at the balance: an open invoice whose payments cover its total is
/// treated as paid ([`Item::effective_status`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ItemStatus {
    /// Not issued yet: never reminded.
    Draft,
    /// Issued and waiting.
    #[default]
    Open,
    /// Partly paid: reminded for the rest.
    PartiallyPaid,
    /// Paid in full.
    Paid,
    /// Cancelled.
    Cancelled,
    /// Voided.
    Void,
    /// A pending action that the client completed.
    Completed,
}

impl ItemStatus {
    /// Whether the item still waits for the client.
    #[must_use]
    pub fn is_pending(self) -> bool {
        matches!(self, ItemStatus::Open | ItemStatus::PartiallyPaid)
    }

    /// Whether the client settled it (paid or completed).
    #[must_use]
    pub fn is_settled(self) -> bool {
        matches!(self, ItemStatus::Paid | ItemStatus::Completed)
    }
}

/// How an amount was applied to an invoice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AppliedKind {
    /// A payment received.
    Payment,
    /// A credit note issued against the invoice.
    CreditNote,
}

/// A payment or credit note applied to an invoice; it reduces the balance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Applied {
    /// Payment or credit note.
    pub kind: AppliedKind,
    /// The amount, in the invoice's currency, not negative.
    pub amount: Money,
    /// When it was applied.
    pub on: NaiveDate,
    /// The host's reference (receipt, credit note number).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

/// A pending item: an invoice, or another action the client has to complete.
///
/// Amounts live in one place: `total` minus the `applied` payments and credit notes is the
/// [`balance`](Item::balance). An invoice without `due_on` is due after the client's
/// payment term ([`Item::due_date`]).
///
/// # Example
/// ```
/// use chrono::NaiveDate;
/// use dunning::{Applied, AppliedKind, Currency, Item, Money};
/// let clp = Currency::from_code("CLP")?;
/// let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
/// let mut inv = Item::invoice("F-1".parse()?, "acme".parse()?, d(3, 1), Money::parse("1190000", clp)?);
/// inv.applied.push(Applied {
///     kind: AppliedKind::Payment,
///     amount: Money::parse("190000", clp)?,
///     on: d(3, 20),
///     reference: None,
/// });
/// assert_eq!(inv.balance()?.unwrap().minor(), 1_000_000);
/// assert_eq!(inv.due_date(30), Some(d(3, 31)));
/// # Ok::<(), dunning::ValidationError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Item {
    /// Unique id.
    pub id: ItemId,
    /// The client it belongs to.
    pub client: ClientId,
    /// Invoice or another pending action.
    #[serde(default)]
    pub kind: ItemKind,
    /// The number people see (defaults to the id in sentences when empty). Shared text: an
    /// event about the item carries it without a copy.
    #[serde(default)]
    pub number: Arc<str>,
    /// Issue (creation) date.
    pub issued_on: NaiveDate,
    /// When the client was notified of it (none: on the issue date).
    #[serde(default)]
    pub sent_on: Option<NaiveDate>,
    /// Due date (none for an invoice: issue date plus the payment term).
    #[serde(default)]
    pub due_on: Option<NaiveDate>,
    /// The total, required for invoices.
    #[serde(default)]
    pub total: Option<Money>,
    /// Payments and credit notes applied.
    #[serde(default)]
    pub applied: Vec<Applied>,
    /// Status as the host keeps it.
    #[serde(default)]
    pub status: ItemStatus,
    /// When it was paid or completed (none: the date of the last payment, if any).
    #[serde(default)]
    pub settled_on: Option<NaiveDate>,
    /// Automatic reminders on or off for this item.
    #[serde(default = "yes")]
    pub reminders: bool,
    /// Days until the next reminder for this item, replacing the rules' spacing;
    /// for rules anchored on the sent date, also the delay of the first reminder.
    #[serde(default)]
    pub reminder_every_days: Option<u32>,
    /// Number of reminders for this item, replacing the rules' counts. Repeats are spaced by
    /// the item's `reminder_every_days`, else by the client's or the rule's `every_days`;
    /// with none of them, a day apart.
    #[serde(default)]
    pub reminder_count: Option<u32>,
    /// References to files that travel with its reminders (XML, PDF...).
    #[serde(default)]
    pub attachments: Vec<String>,
    /// Pauses for this item (promise, dispute, hold, snooze).
    #[serde(default)]
    pub pauses: Vec<Pause>,
}

fn yes() -> bool {
    true
}

impl Item {
    /// An open invoice without due date (it takes the payment term), payments or pauses.
    #[must_use]
    pub fn invoice(id: ItemId, client: ClientId, issued_on: NaiveDate, total: Money) -> Self {
        let number = id.shared();
        Self {
            id,
            client,
            kind: ItemKind::Invoice,
            number,
            issued_on,
            sent_on: None,
            due_on: None,
            total: Some(total),
            applied: Vec::new(),
            status: ItemStatus::Open,
            settled_on: None,
            reminders: true,
            reminder_every_days: None,
            reminder_count: None,
            attachments: Vec::new(),
            pauses: Vec::new(),
        }
    }

    /// An open pending action of `kind` sent to the client on `sent_on`.
    #[must_use]
    pub fn action(id: ItemId, client: ClientId, kind: ItemKind, sent_on: NaiveDate) -> Self {
        let number = id.shared();
        Self {
            id,
            client,
            kind,
            number,
            issued_on: sent_on,
            sent_on: Some(sent_on),
            due_on: None,
            total: None,
            applied: Vec::new(),
            status: ItemStatus::Open,
            settled_on: None,
            reminders: true,
            reminder_every_days: None,
            reminder_count: None,
            attachments: Vec::new(),
            pauses: Vec::new(),
        }
    }

    /// Sets the due date.
    #[must_use]
    pub fn due(mut self, due_on: NaiveDate) -> Self {
        self.due_on = Some(due_on);
        self
    }

    /// Sets the status.
    #[must_use]
    pub fn with_status(mut self, status: ItemStatus) -> Self {
        self.status = status;
        self
    }

    /// Applies a payment.
    #[must_use]
    pub fn paid(mut self, amount: Money, on: NaiveDate) -> Self {
        self.applied.push(Applied {
            kind: AppliedKind::Payment,
            amount,
            on,
            reference: None,
        });
        self
    }

    /// Sets the number people see (by default the id).
    ///
    /// # Example
    /// ```
    /// use chrono::NaiveDate;
    /// use dunning::*;
    /// let issued = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
    /// let total = Money::parse("119000", Currency::from_code("CLP")?)?;
    /// let item = Item::invoice("inv-81".parse()?, "acme".parse()?, issued, total);
    /// assert_eq!(item.display_number(), "inv-81");
    /// assert_eq!(item.with_number("F-0081").display_number(), "F-0081");
    /// # Ok::<(), dunning::ValidationError>(())
    /// ```
    #[must_use]
    pub fn with_number(mut self, number: impl AsRef<str>) -> Self {
        self.number = Arc::from(number.as_ref());
        self
    }

    /// The number people see, shared: `number`, or the id when it is empty.
    pub(crate) fn shared_number(&self) -> Arc<str> {
        if self.number.is_empty() {
            self.id.shared()
        } else {
            Arc::clone(&self.number)
        }
    }

    /// Adds a pause.
    #[must_use]
    pub fn with_pause(mut self, pause: Pause) -> Self {
        self.pauses.push(pause);
        self
    }

    /// The number people see: `number`, or the id when it is empty.
    #[must_use]
    pub fn display_number(&self) -> &str {
        if self.number.is_empty() {
            self.id.as_str()
        } else {
            &self.number
        }
    }

    /// The due date: `due_on`, or for invoices the issue date plus `payment_term_days`.
    #[must_use]
    pub fn due_date(&self, payment_term_days: u32) -> Option<NaiveDate> {
        self.due_on.or_else(|| {
            (self.kind == ItemKind::Invoice)
                .then(|| {
                    self.issued_on
                        .checked_add_days(Days::new(payment_term_days.into()))
                })
                .flatten()
        })
    }

    /// When the client was notified: `sent_on`, or the issue date.
    #[must_use]
    pub fn sent_date(&self) -> NaiveDate {
        self.sent_on.unwrap_or(self.issued_on)
    }

    /// What is still owed: the total less every payment and credit note applied
    /// (none for items without an amount).
    ///
    /// # Errors
    /// [`ValidationError::CurrencyMismatch`] or [`ValidationError::AmountOverflow`].
    #[inline]
    pub fn balance(&self) -> Result<Option<Money>, ValidationError> {
        let Some(total) = self.total else {
            return Ok(None);
        };
        // Most items have nothing applied (the balance is asked of every item at every plan).
        if self.applied.is_empty() {
            return Ok(Some(total));
        }
        self.balance_after(total)
    }

    /// [`Item::balance`] of an item with payments or credit notes applied.
    fn balance_after(&self, total: Money) -> Result<Option<Money>, ValidationError> {
        let mut balance = total;
        for (i, a) in self.applied.iter().enumerate() {
            if a.amount.currency() != total.currency() {
                return Err(ValidationError::CurrencyMismatch {
                    item: self.id.to_string(),
                    field: format!("applied[{i}].amount"),
                    expected: total.currency().to_string(),
                    found: a.amount.currency().to_string(),
                });
            }
            balance = balance
                .checked_sub(a.amount)
                .ok_or_else(|| ValidationError::AmountOverflow {
                    item: self.id.to_string(),
                    field: "applied".into(),
                })?;
        }
        Ok(Some(balance))
    }

    /// The status the planner acts on: an open or partly paid invoice whose balance is zero
    /// or less is paid; an open one with payments is partly paid.
    ///
    /// # Errors
    /// As [`balance`](Item::balance).
    pub fn effective_status(&self) -> Result<ItemStatus, ValidationError> {
        if !self.status.is_pending() {
            return Ok(self.status);
        }
        Ok(self.status_with(self.balance()?))
    }

    /// [`effective_status`](Item::effective_status) given the item's balance.
    pub(crate) fn status_with(&self, balance: Option<Money>) -> ItemStatus {
        if !self.status.is_pending() {
            return self.status;
        }
        match balance {
            // Nothing owed (paid in full, or an invoice of zero): nothing to chase.
            Some(b) if !b.is_positive() && self.total.is_some() => ItemStatus::Paid,
            Some(_) if !self.applied.is_empty() => ItemStatus::PartiallyPaid,
            _ => ItemStatus::Open,
        }
    }

    /// When it was settled: `settled_on`, or the day its payments and credit notes, taken in
    /// date order, first covered the total (a later one, an overpayment, does not move it);
    /// for one they never cover (an item marked paid), the date of the latest.
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use dunning::{Currency, Item, Money};
    /// let day = |d| NaiveDate::from_ymd_opt(2026, 3, d).unwrap();
    /// let usd = |a: &str| Money::parse(a, Currency::from_code("USD").unwrap()).unwrap();
    /// let item = Item::invoice("F-1".parse()?, "acme".parse()?, day(1), usd("100"))
    ///     .paid(usd("60"), day(5))
    ///     .paid(usd("40"), day(9))
    ///     .paid(usd("5"), day(20));
    /// assert_eq!(item.settled_date(), Some(day(9)));
    /// # Ok::<(), dunning::ValidationError>(())
    /// ```
    #[must_use]
    pub fn settled_date(&self) -> Option<NaiveDate> {
        if self.settled_on.is_some() {
            return self.settled_on;
        }
        let latest = self.applied.iter().map(|a| a.on).max();
        let Some(total) = self.total.filter(|_| self.applied.len() > 1) else {
            return latest;
        };
        // (In date order: most hosts record them so; others are sorted, once.)
        let mut sorted;
        let mut applied: &[Applied] = &self.applied;
        if !applied.is_sorted_by_key(|a| a.on) {
            sorted = applied.to_vec();
            sorted.sort_by_key(|a| a.on);
            applied = &sorted;
        }
        let mut covered = 0i128;
        for a in applied {
            covered += i128::from(a.amount.minor());
            if covered >= i128::from(total.minor()) {
                return Some(a.on);
            }
        }
        latest
    }

    /// Checks the item on its own: dates in order, amounts not negative and in the item's
    /// currency, invoices with a total, pauses that end after they start.
    ///
    /// # Errors
    /// The first problem found, naming the item, the field and the value.
    pub fn validate(&self) -> Result<(), ValidationError> {
        let item = || self.id.to_string();
        // Subjects may show the number; a mailer may name the files in a header.
        crate::model::client::check_header_text(|| format!("item {}: number", self.id), &self.number)?;
        for (i, reference) in self.attachments.iter().enumerate() {
            crate::model::client::check_header_text(
                || format!("item {}: attachments[{i}]", self.id),
                reference,
            )?;
        }
        if let Some(due) = self.due_on {
            if due < self.issued_on {
                return Err(ValidationError::DueBeforeIssue {
                    item: item(),
                    due,
                    issued: self.issued_on,
                });
            }
        }
        if let Some(sent) = self.sent_on {
            if sent < self.issued_on {
                return Err(ValidationError::BeforeIssue {
                    item: item(),
                    field: "sent_on",
                    value: sent,
                    issued: self.issued_on,
                });
            }
        }
        match self.total {
            None if self.kind == ItemKind::Invoice => {
                return Err(ValidationError::MissingField {
                    item: item(),
                    field: "total",
                    kind: self.kind.describe(),
                });
            }
            Some(t) if t.is_negative() => {
                return Err(ValidationError::NegativeAmount {
                    item: item(),
                    field: "total".into(),
                    value: t.to_string(),
                });
            }
            _ => {}
        }
        for (i, a) in self.applied.iter().enumerate() {
            if a.amount.is_negative() {
                return Err(ValidationError::NegativeAmount {
                    item: item(),
                    field: format!("applied[{i}].amount"),
                    value: a.amount.to_string(),
                });
            }
            if self.total.is_none() {
                return Err(ValidationError::MissingField {
                    item: item(),
                    field: "total",
                    kind: "paid",
                });
            }
        }
        self.balance()?;
        if self.reminder_every_days == Some(0) {
            return Err(ValidationError::ZeroSpacing {
                rule: format!("item {}", self.id),
                field: "reminder_every_days",
            });
        }
        if self.reminder_count == Some(0) {
            return Err(ValidationError::ZeroCount {
                rule: format!("item {}", self.id),
                field: "reminder_count",
            });
        }
        if self.reminder_every_days.is_some() || self.reminder_count.is_some() {
            let owner = format!("item {}", self.id);
            crate::limits::check_opt(
                &owner,
                "reminder_every_days",
                self.reminder_every_days,
                crate::limits::MAX_DAYS,
            )?;
            crate::limits::check_opt(
                &owner,
                "reminder_count",
                self.reminder_count,
                crate::limits::MAX_COUNT,
            )?;
        }
        if !self.pauses.is_empty() {
            // Named only where there is something to check: validating a million items
            // formats nothing.
            let owner = format!("item {}", self.id);
            for (i, p) in self.pauses.iter().enumerate() {
                p.validate(&owner, i)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, day).unwrap()
    }
    fn usd(text: &str) -> Money {
        Money::parse(text, Currency::from_code("USD").unwrap()).unwrap()
    }
    fn inv() -> Item {
        Item::invoice(
            ItemId::new("F-1").unwrap(),
            ClientId::new("c").unwrap(),
            d(3, 1),
            usd("100.00"),
        )
    }

    #[test]
    fn payments_and_credit_notes_reduce_the_balance_in_one_place() {
        let mut item = inv().paid(usd("30.00"), d(3, 5));
        item.applied.push(Applied {
            kind: AppliedKind::CreditNote,
            amount: usd("20.00"),
            on: d(3, 6),
            reference: Some("NC-9".into()),
        });
        assert_eq!(item.balance().unwrap(), Some(usd("50.00")));
        assert_eq!(item.effective_status().unwrap(), ItemStatus::PartiallyPaid);
        let item = item.paid(usd("50.00"), d(3, 9));
        assert_eq!(item.effective_status().unwrap(), ItemStatus::Paid);
        assert_eq!(item.settled_date(), Some(d(3, 9)));
    }

    #[test]
    fn host_status_wins_when_not_pending() {
        assert_eq!(
            inv().with_status(ItemStatus::Void).effective_status().unwrap(),
            ItemStatus::Void
        );
        assert_eq!(inv().effective_status().unwrap(), ItemStatus::Open);
    }

    #[test]
    fn due_date_comes_from_the_term_for_invoices_only() {
        assert_eq!(inv().due_date(15), Some(d(3, 16)));
        assert_eq!(inv().due(d(4, 1)).due_date(15), Some(d(4, 1)));
        let form = Item::action(
            ItemId::new("FORM-1").unwrap(),
            ClientId::new("c").unwrap(),
            ItemKind::Form,
            d(3, 1),
        );
        assert_eq!(form.due_date(15), None);
    }

    #[test]
    fn validation_names_item_field_and_value() {
        assert_eq!(
            inv().due(d(2, 1)).validate(),
            Err(ValidationError::DueBeforeIssue {
                item: "F-1".into(),
                due: d(2, 1),
                issued: d(3, 1)
            })
        );
        let mut neg = inv();
        neg.total = Some(usd("-1.00"));
        assert_eq!(
            neg.validate(),
            Err(ValidationError::NegativeAmount {
                item: "F-1".into(),
                field: "total".into(),
                value: "USD -1.00".into()
            })
        );
        let eur = Money::parse("1", Currency::from_code("EUR").unwrap()).unwrap();
        let mixed = inv().paid(eur, d(3, 2));
        assert!(
            matches!(mixed.validate(), Err(ValidationError::CurrencyMismatch { field, .. }) if field == "applied[0].amount")
        );
        let mut no_total = inv();
        no_total.total = None;
        assert!(matches!(
            no_total.validate(),
            Err(ValidationError::MissingField { field: "total", .. })
        ));
        let neg_pay = inv().paid(usd("-5.00"), d(3, 2));
        assert!(matches!(
            neg_pay.validate(),
            Err(ValidationError::NegativeAmount { .. })
        ));
        assert!(inv().validate().is_ok());
    }
}

crate::names::names!(ItemKind, "item kind" {
    Invoice => "invoice",
    Proposal => "proposal",
    Signature => "signature",
    Approval => "approval",
    Form => "form",
    Message => "message",
});

crate::names::names!(ItemStatus, "item status" {
    Draft => "draft",
    Open => "open",
    PartiallyPaid => "partially_paid",
    Paid => "paid",
    Cancelled => "cancelled",
    Void => "void",
    Completed => "completed",
});

crate::names::names!(AppliedKind, "applied kind" {
    Payment => "payment",
    CreditNote => "credit_note",
});
