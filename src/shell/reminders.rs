//! Manual reminders: records with a lifecycle, sent by email on demand, every
//! change and send in the log.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::dispatch::{DispatchError, Dispatcher};
use crate::message::format::Conventions;
use crate::message::{Mailbox, Message};
use crate::model::client::plausible_email;
use crate::model::history::HistoryEntry;
use crate::model::id::{ClientId, ItemId};
use crate::money::Money;
use crate::store::{Action, LogEntry, LogFilter, Reminder, ReminderStatus, StoreError};

/// Which manual reminders to list, by where they are in their lifecycle.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ReminderFilter {
    /// Active and finished, not archived.
    #[default]
    All,
    /// Still to collect.
    Active,
    /// Paid or cancelled, not archived.
    Inactive,
    /// Archived ones.
    Archived,
}

crate::names::names!(ReminderFilter, "reminder filter" {
    All => "all",
    Active => "active",
    Inactive => "inactive",
    Archived => "archived",
});

/// A new manual reminder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewReminder {
    /// The client.
    pub client: ClientId,
    /// The invoice in arrears.
    pub invoice: ItemId,
    /// The due date.
    pub due_on: NaiveDate,
    /// The amount owed.
    pub amount: Money,
    /// The message for the client.
    pub message: String,
}

/// Changes to a manual reminder; unset fields stay.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ReminderEdit {
    /// A new due date.
    pub due_on: Option<NaiveDate>,
    /// A new amount.
    pub amount: Option<Money>,
    /// A new message.
    pub message: Option<String>,
}

impl ReminderEdit {
    /// Changes the message.
    #[must_use]
    pub fn message(mut self, message: impl Into<String>) -> Self {
        self.message = Some(message.into());
        self
    }

    /// Changes the amount.
    #[must_use]
    pub fn amount(mut self, amount: Money) -> Self {
        self.amount = Some(amount);
        self
    }

    /// Changes the due date.
    #[must_use]
    pub fn due_on(mut self, due_on: NaiveDate) -> Self {
        self.due_on = Some(due_on);
        self
    }
}

fn invalid(id: &str, field: &'static str, value: String, reason: &'static str) -> DispatchError {
    DispatchError::Input(crate::error::ValidationError::InvalidReminder {
        id: id.to_owned(),
        field,
        value,
        reason,
    })
}

fn check(id: &str, amount: Money, message: &str) -> Result<(), DispatchError> {
    if !amount.is_positive() {
        return Err(invalid(id, "amount", amount.to_string(), "must be above zero"));
    }
    if message.trim().is_empty() {
        return Err(invalid(id, "message", message.to_owned(), "must not be empty"));
    }
    Ok(())
}

fn log(r: &Reminder, at: DateTime<Utc>, action: Action) -> LogEntry {
    LogEntry {
        at,
        client: r.client.clone(),
        item: Some(r.invoice.clone()),
        key: Some(r.id.clone()),
        action,
    }
}

impl Dispatcher {
    async fn reminder(&self, id: &str) -> Result<Reminder, DispatchError> {
        self.store()
            .reminders()
            .await?
            .into_iter()
            .find(|r| r.id == id)
            .ok_or_else(|| {
                DispatchError::Store(StoreError::NotFound {
                    kind: "reminder",
                    id: id.to_owned(),
                })
            })
    }

    /// Creates a manual reminder, checking that the client and invoice exist, the amount is
    /// above zero and the message is not empty.
    ///
    /// # Errors
    /// [`ValidationError::InvalidReminder`](crate::ValidationError::InvalidReminder) naming
    /// the field, or a store error.
    pub async fn create_reminder(&self, new: NewReminder) -> Result<Reminder, DispatchError> {
        let now = self.clock_now();
        // One create at a time here, so two never pick the same id. (Dispatchers of several
        // processes creating reminders in one store at once can still meet; the store has
        // no insert-if-absent.)
        let _creating = self.creating.lock().await;
        let snapshot = self.store().load().await?;
        let existing = self.store().reminders().await?;
        let id = self.free_reminder_id(&existing).await?;
        if !snapshot.clients.iter().any(|c| c.id == new.client) {
            return Err(invalid(&id, "client", new.client.to_string(), "no such client"));
        }
        if !snapshot
            .items
            .iter()
            .any(|i| i.id == new.invoice && i.client == new.client)
        {
            return Err(invalid(
                &id,
                "invoice",
                new.invoice.to_string(),
                "no such invoice for the client",
            ));
        }
        check(&id, new.amount, &new.message)?;
        let r = Reminder {
            id,
            client: new.client,
            invoice: new.invoice,
            due_on: new.due_on,
            amount: new.amount,
            message: new.message,
            status: ReminderStatus::Active,
            archived: false,
        };
        self.store().save_reminder(&r).await?;
        self.store().log(log(&r, now, Action::Created)).await?;
        Ok(r)
    }

    /// An id no reminder has and no line of the log names (a deleted reminder's lines stay):
    /// past the largest `R-n` in use, else the first free from `R-1`.
    async fn free_reminder_id(&self, existing: &[Reminder]) -> Result<String, DispatchError> {
        /// Ids tried before giving up (each a read of the log).
        const TRIES: u32 = 10_000;
        let in_use: std::collections::HashSet<&str> = existing.iter().map(|r| r.id.as_str()).collect();
        let largest = existing
            .iter()
            .filter_map(|r| r.id.strip_prefix("R-")?.parse::<u64>().ok())
            .max()
            .unwrap_or(0);
        let mut n = largest.checked_add(1).unwrap_or(1);
        for _ in 0..TRIES {
            let id = format!("R-{n}");
            if !in_use.contains(id.as_str())
                && self
                    .store()
                    .read_log(&LogFilter::key(id.clone()))
                    .await?
                    .is_empty()
            {
                return Ok(id);
            }
            n = n.checked_add(1).unwrap_or(1);
        }
        Err(invalid(
            &format!("R-{n}"),
            "id",
            format!("R-{n}"),
            "no free reminder id found near the largest in use",
        ))
    }

    /// Changes a manual reminder; each changed field goes to the log.
    ///
    /// # Errors
    /// An unknown reminder, an invalid new value, or a store error.
    pub async fn edit_reminder(&self, id: &str, edit: ReminderEdit) -> Result<Reminder, DispatchError> {
        let now = self.clock_now();
        let mut r = self.reminder(id).await?;
        let mut changes: Vec<(String, String, String)> = Vec::new();
        if let Some(d) = edit.due_on.filter(|d| *d != r.due_on) {
            changes.push(("due_on".into(), r.due_on.to_string(), d.to_string()));
            r.due_on = d;
        }
        if let Some(a) = edit.amount.filter(|a| *a != r.amount) {
            changes.push(("amount".into(), r.amount.to_string(), a.to_string()));
            r.amount = a;
        }
        if let Some(m) = edit.message.filter(|m| *m != r.message) {
            changes.push(("message".into(), r.message.clone(), m.clone()));
            r.message = m;
        }
        check(id, r.amount, &r.message)?;
        self.store().save_reminder(&r).await?;
        for (field, from, to) in changes {
            self.store()
                .log(log(&r, now, Action::Edited { field, from, to }))
                .await?;
        }
        Ok(r)
    }

    /// Marks a manual reminder paid or cancelled (or active again).
    ///
    /// # Errors
    /// An unknown reminder or a store error.
    pub async fn set_reminder_status(
        &self,
        id: &str,
        status: ReminderStatus,
    ) -> Result<Reminder, DispatchError> {
        let now = self.clock_now();
        let mut r = self.reminder(id).await?;
        if r.status != status {
            let from = r.status.as_str().to_owned();
            r.status = status;
            self.store().save_reminder(&r).await?;
            let to = status.as_str().to_owned();
            self.store()
                .log(log(&r, now, Action::StatusChanged { from, to }))
                .await?;
        }
        Ok(r)
    }

    /// Archives every finished (paid or cancelled) reminder; returns how many.
    ///
    /// # Errors
    /// A store error.
    pub async fn archive_finished_reminders(&self) -> Result<usize, DispatchError> {
        let now = self.clock_now();
        let mut n = 0;
        for mut r in self.store().reminders().await? {
            if r.status != ReminderStatus::Active && !r.archived {
                r.archived = true;
                self.store().save_reminder(&r).await?;
                self.store().log(log(&r, now, Action::Archived)).await?;
                n += 1;
            }
        }
        Ok(n)
    }

    /// Deletes a manual reminder (explicitly; its log stays).
    ///
    /// # Errors
    /// An unknown reminder or a store error.
    pub async fn delete_reminder(&self, id: &str) -> Result<(), DispatchError> {
        let now = self.clock_now();
        let r = self.reminder(id).await?;
        self.store().delete_reminder(id).await?;
        self.store().log(log(&r, now, Action::Deleted)).await?;
        Ok(())
    }

    /// Manual reminders passing `filter`, most urgent first (earliest due date, then the
    /// largest amount, then id).
    ///
    /// # Errors
    /// A store error.
    pub async fn list_reminders(&self, filter: ReminderFilter) -> Result<Vec<Reminder>, DispatchError> {
        let mut list: Vec<Reminder> = self
            .store()
            .reminders()
            .await?
            .into_iter()
            .filter(|r| match filter {
                ReminderFilter::All => !r.archived,
                ReminderFilter::Active => !r.archived && r.status == ReminderStatus::Active,
                ReminderFilter::Inactive => !r.archived && r.status != ReminderStatus::Active,
                ReminderFilter::Archived => r.archived,
            })
            .collect();
        list.sort_by(|a, b| {
            (a.due_on, std::cmp::Reverse(a.amount.minor()), &a.id).cmp(&(
                b.due_on,
                std::cmp::Reverse(b.amount.minor()),
                &b.id,
            ))
        });
        Ok(list)
    }

    /// Sends a manual reminder by email now, to the client's contacts with notify on, the
    /// amount and due date written for the client's locale. It is recorded as a manual send
    /// about the invoice, so it spaces the next automatic reminder without using up any
    /// rule's count. A finished reminder (paid or cancelled) or an archived one is not sent.
    ///
    /// # Errors
    /// An unknown reminder or client, a reminder paid, cancelled or archived, a client
    /// without contacts, a bad address, the mailer's error, or a store error.
    pub async fn send_reminder(&self, id: &str) -> Result<String, DispatchError> {
        let now = self.clock_now();
        let r = self.reminder(id).await?;
        if r.status != ReminderStatus::Active || r.archived {
            let status = if r.archived {
                "archived".to_owned()
            } else {
                r.status.as_str().to_owned()
            };
            return Err(invalid(id, "status", status, "only an active reminder is sent"));
        }
        let snapshot = self.store().load().await?;
        let client = snapshot
            .clients
            .iter()
            .find(|c| c.id == r.client)
            .ok_or_else(|| invalid(id, "client", r.client.to_string(), "no such client"))?;
        let mut to = Vec::new();
        for c in client.contacts.iter().filter(|c| c.notify) {
            if !plausible_email(&c.email) || c.name.contains(['\r', '\n']) {
                return Err(invalid(id, "contact", c.email.clone(), "invalid address"));
            }
            to.push(Mailbox {
                name: Some(c.name.clone()),
                email: c.email.clone(),
            });
        }
        if to.is_empty() {
            return Err(invalid(
                id,
                "client",
                r.client.to_string(),
                "no contact with notify on",
            ));
        }
        let locale = client
            .locale
            .as_deref()
            .unwrap_or(&self.planner().policy().locale);
        let written = Conventions::of(locale);
        let (amount, due) = (written.money(r.amount), written.date(r.due_on));
        let (subject, line) = if written.is_spanish() {
            (
                format!("Recordatorio de pago: factura {}", r.invoice),
                format!("Monto adeudado: {amount} — vencimiento: {due}"),
            )
        } else {
            (
                format!("Payment reminder: invoice {}", r.invoice),
                format!("Amount owed: {amount} — due: {due}"),
            )
        };
        let entry = HistoryEntry::manual(r.client.clone(), r.invoice.clone(), now);
        let message = Message {
            // The key it is recorded under in history.
            key: entry.key.clone(),
            from: None,
            to,
            cc: Vec::new(),
            bcc: Vec::new(),
            reply_to: Vec::new(),
            subject,
            text: format!("{}\n\n{line}\n", r.message),
            html: None,
            attachments: Vec::new(),
            locale: client.locale.clone().unwrap_or_default(),
        };
        message.check_headers()?;
        let receipt = self.mailer_send(&message).await?;
        self.store().append_history(entry).await?;
        let action = Action::Sent {
            rule: None,
            to: message.to.iter().map(|m| m.email.clone()).collect(),
            message_id: receipt.clone(),
        };
        self.store().log(log(&r, now, action)).await?;
        Ok(receipt)
    }
}
