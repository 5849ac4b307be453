//! The data a template sees, built from an event, its client and the policy.

use chrono::NaiveDate;
use serde_json::{Map, Value as Json, json};

use crate::message::MessageError;
use crate::model::client::Client;
use crate::model::item::ItemKind;
use crate::money::{Currency, Money};
use crate::plan::{Event, EventItem, Stage};
use crate::policy::{Policy, TemplateKind};
use crate::standing::StandingState;

/// Extra data for one rendering.
///
/// # Example
/// ```
/// use dunning::RenderOptions;
/// let opts = RenderOptions::default().with_payment_link("https://pay.example/F-1");
/// assert!(opts.payment_link.is_some());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RenderOptions {
    /// A link where the client can pay, if the host has one.
    pub payment_link: Option<String>,
    /// The local day the message goes, when later than the event's `send_on` (a send
    /// missed and caught up keeps the day it was meant for): days until and past due, and
    /// which items are overdue, are counted from it. The dispatcher sets it.
    pub sent_on: Option<NaiveDate>,
}

impl RenderOptions {
    /// Sets the payment link.
    #[must_use]
    pub fn with_payment_link(mut self, link: impl Into<String>) -> Self {
        self.payment_link = Some(link.into());
        self
    }

    /// Sets the local day the message goes.
    #[must_use]
    pub fn with_sent_on(mut self, day: NaiveDate) -> Self {
        self.sent_on = Some(day);
        self
    }
}

/// The day a message's day counts are taken on: the day it goes, or the event's day.
pub(crate) fn day_of(event: &Event, opts: &RenderOptions) -> NaiveDate {
    opts.sent_on.map_or(event.send_on, |d| d.max(event.send_on))
}

/// The kind of message an event is.
pub(crate) fn kind_of(event: &Event) -> TemplateKind {
    match event.stage {
        Stage::Issued => TemplateKind::Issued,
        Stage::DueSoon => TemplateKind::DueSoon,
        Stage::DueToday => TemplateKind::DueToday,
        Stage::Overdue => TemplateKind::Overdue,
        Stage::ThankYou => TemplateKind::ThankYou,
        Stage::Statement => TemplateKind::Statement,
        Stage::OverdueStatement => TemplateKind::OverdueStatement,
        Stage::ClosingSoon => TemplateKind::ClosingSoon,
        Stage::Closed => TemplateKind::Closed,
        Stage::Pending => match event.items.first().map(|i| i.kind) {
            Some(ItemKind::Proposal) => TemplateKind::PendingProposal,
            Some(ItemKind::Signature) => TemplateKind::PendingSignature,
            Some(ItemKind::Approval) => TemplateKind::PendingApproval,
            Some(ItemKind::Form) => TemplateKind::PendingForm,
            Some(ItemKind::Message) => TemplateKind::PendingMessage,
            _ => TemplateKind::PendingInvoice,
        },
    }
}

fn money(m: Option<Money>) -> Json {
    m.map_or(
        Json::Null,
        |m| json!({"currency": m.currency().code(), "amount": m.decimal()}),
    )
}

/// Whole days from `from` to `to`, never negative.
pub(crate) fn days(from: NaiveDate, to: NaiveDate) -> i64 {
    (to - from).num_days().max(0)
}

/// What was paid of an item: its total less its balance.
pub(crate) fn paid(ei: &EventItem) -> Option<Money> {
    ei.total.zip(ei.balance).and_then(|(t, b)| t.checked_sub(b))
}

/// An item kind as templates see it (its serialized name).
pub(crate) fn kind_name(kind: ItemKind) -> &'static str {
    match kind {
        ItemKind::Invoice => "invoice",
        ItemKind::Proposal => "proposal",
        ItemKind::Signature => "signature",
        ItemKind::Approval => "approval",
        ItemKind::Form => "form",
        ItemKind::Message => "message",
    }
}

/// A standing as templates see it (its serialized name).
pub(crate) fn state_name(state: StandingState) -> &'static str {
    match state {
        StandingState::Good => "good",
        StandingState::ClosingSoon => "closing_soon",
        StandingState::Closed => "closed",
    }
}

/// The reply-to addresses of a client's messages, as one line.
pub(crate) fn reply_to(client: &Client, policy: &Policy) -> String {
    client
        .overrides
        .reply_to
        .as_ref()
        .unwrap_or(&policy.reply_to)
        .join(", ")
}

fn item(ei: &EventItem, send_on: NaiveDate) -> Json {
    let paid = paid(ei);
    json!({
        "id": ei.item.as_str(),
        "number": ei.number,
        "kind": kind_name(ei.kind),
        "issued_on": ei.issued_on,
        "due_on": ei.due_on,
        "total": money(ei.total),
        "paid": money(paid),
        "balance": money(ei.balance),
        "late_fee": money(ei.late_fee),
        "days_until_due": ei.due_on.map(|d| days(send_on, d)),
        "days_past_due": ei.due_on.map(|d| days(d, send_on)),
        "overdue": ei.due_on.is_some_and(|d| send_on > d),
        "occurrence": ei.occurrence,
    })
}

/// Per currency: the balance and the overdue balance.
pub(crate) type Totals = Vec<(Currency, Money, Money)>;

/// Totals per currency, in currency order: every balance, and the overdue ones (due before
/// `day`); exact, or refused when a sum does not fit an amount.
pub(crate) fn totals(event: &Event, day: NaiveDate) -> Result<Totals, MessageError> {
    let mut per: Totals = Vec::new();
    let too_large = |c: crate::money::Currency, what: &str| MessageError::AmountTooLarge {
        key: event.key.clone(),
        what: what.to_owned(),
        currency: c.code().to_owned(),
    };
    for ei in event.items.iter() {
        let Some(b) = ei.balance else { continue };
        let overdue = ei.due_on.is_some_and(|d| day > d);
        let at = match per.iter().position(|(c, ..)| *c == b.currency()) {
            Some(at) => at,
            None => {
                per.push((b.currency(), Money::zero(b.currency()), Money::zero(b.currency())));
                per.len() - 1
            }
        };
        let (c, bal, over) = &mut per[at];
        *bal = bal.checked_add(b).ok_or_else(|| too_large(*c, "the balances"))?;
        if overdue {
            *over = over
                .checked_add(b)
                .ok_or_else(|| too_large(*c, "the overdue balances"))?;
        }
    }
    per.sort_by_key(|(c, ..)| *c);
    Ok(per)
}

fn totals_json(totals: &Totals) -> Json {
    Json::Array(
        totals
            .iter()
            .map(|(c, bal, over)| json!({"currency": c.code(), "balance": money(Some(*bal)), "overdue": money(Some(*over))}))
            .collect(),
    )
}

/// Every variable of the schema, for one event, its totals worked out before.
pub(crate) fn build(
    event: &Event,
    client: &Client,
    policy: &Policy,
    opts: &RenderOptions,
    totals: &Totals,
) -> Json {
    let day = day_of(event, opts);
    let items: Vec<Json> = event.items.iter().map(|i| item(i, day)).collect();
    let first = items.first().cloned().unwrap_or(Json::Null);
    let contact = event.recipients.first().map_or_else(
        || json!({"name": client.name, "email": Json::Null}),
        |r| json!({"name": r.name, "email": r.email}),
    );
    let reply_to = reply_to(client, policy);
    let mut root = Map::new();
    root.insert("locale".into(), json!(event.locale.as_ref()));
    root.insert("kind".into(), json!(kind_of(event).name()));
    root.insert("rule".into(), json!(event.rule.as_str()));
    root.insert("key".into(), json!(event.key.as_str()));
    root.insert("send_on".into(), json!(event.send_on));
    root.insert("occurrence".into(), json!(event.occurrence));
    root.insert("count".into(), json!(event.count));
    root.insert(
        "client".into(),
        json!({"id": client.id.as_str(), "name": client.name}),
    );
    root.insert("contact".into(), contact);
    root.insert("item".into(), first);
    root.insert("items".into(), Json::Array(items));
    root.insert("amount_due".into(), money(event.amount_due));
    root.insert("late_fee".into(), money(event.late_fee));
    root.insert("totals".into(), totals_json(totals));
    root.insert("company".into(), json!(policy.company));
    root.insert(
        "branding".into(),
        json!({
            "logo_url": policy.branding.logo_url,
            "logo_alignment": policy.branding.logo_alignment.css(),
            "primary_color": policy.branding.primary_color,
            "secondary_color": policy.branding.secondary_color,
        }),
    );
    root.insert("payment_instructions".into(), json!(policy.payment_instructions));
    root.insert("reply_to".into(), json!(reply_to));
    root.insert("payment_link".into(), json!(opts.payment_link));
    root.insert(
        "statement".into(),
        match &event.statement {
            Some(s) => json!({
                "period": super::format::Conventions::of(&event.locale).month(s.period),
                "overdue_only": s.overdue_only,
            }),
            None => json!({"period": Json::Null, "overdue_only": false}),
        },
    );
    root.insert(
        "standing".into(),
        match &event.standing {
            Some(s) => json!({
                "state": state_name(s.state),
                "days_overdue": s.days_overdue,
                "closing_soon_after_days": s.closing_soon_after_days,
                "closed_after_days": s.closed_after_days,
                "oldest_item": s.oldest_item.as_str(),
            }),
            None => json!({
                "state": Json::Null,
                "days_overdue": Json::Null,
                "closing_soon_after_days": Json::Null,
                "closed_after_days": Json::Null,
                "oldest_item": Json::Null,
            }),
        },
    );
    Json::Object(root)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_serialized_ones() {
        for &kind in ItemKind::ALL {
            assert_eq!(json!(kind), json!(kind_name(kind)));
        }
        for state in [
            StandingState::Good,
            StandingState::ClosingSoon,
            StandingState::Closed,
        ] {
            assert_eq!(json!(state), json!(state_name(state)));
        }
    }
}
