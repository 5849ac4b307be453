//! What was already sent, automatic and manual.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::id::{ClientId, EventKey, ItemId, RuleId};

/// One item covered by a sent message, with the occurrence of the rule it was.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryItem {
    /// The item.
    pub item: ItemId,
    /// Which occurrence of the rule (1-based; 0 for manual sends).
    #[serde(default)]
    pub occurrence: u32,
}

/// How a send recorded in history ended.
///
/// Most entries are [`Sent`](HistoryOutcome::Sent). A dispatcher also records the sends
/// that will not be tried again, so the planner explains them instead of planning them: a
/// permanent failure (a bounced address) and, under at-most-once delivery, a send whose
/// outcome is unknown (it timed out, or a crash left it unrecorded: the message may have
/// gone). Either still counts as an attempt of its rule's occurrence. A host that fixed the
/// cause records a [`Released`](HistoryOutcome::Released) entry with the same key, and the
/// key is planned again (once more).
///
/// # Example
/// ```
/// use dunning::HistoryOutcome;
/// let failed: HistoryOutcome = serde_json::from_str(r#"{"kind": "failed", "error": "550 no such user"}"#)?;
/// assert!(!failed.is_sent());
/// assert_eq!(failed.to_string(), "failed: 550 no such user");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum HistoryOutcome {
    /// The message went out.
    #[default]
    Sent,
    /// It failed for good; it is not tried again unless released.
    Failed {
        /// The mailer's error.
        error: String,
    },
    /// It may or may not have gone (at-most-once): never retried unless released.
    OutcomeUnknown,
    /// The host released the failed or unknown entry of the same key recorded before: the
    /// key is planned again.
    Released,
}

impl HistoryOutcome {
    /// Whether the message went out.
    #[must_use]
    pub fn is_sent(&self) -> bool {
        matches!(self, HistoryOutcome::Sent)
    }
}

crate::names::kinds!(@own_display HistoryOutcome =>
    /// The kind of a [`HistoryOutcome`], without its data: for logs, metric labels and
    /// filters.
    ///
    /// ```
    /// use dunning::{HistoryOutcome, HistoryOutcomeKind};
    ///
    /// let failed = HistoryOutcome::Failed { error: "550 no such user".into() };
    /// assert_eq!(failed.kind(), HistoryOutcomeKind::Failed);
    /// assert_eq!(failed.kind().to_string(), "failed");
    /// assert_eq!("outcome_unknown".parse::<HistoryOutcomeKind>().unwrap(), HistoryOutcomeKind::OutcomeUnknown);
    /// assert!("bounced".parse::<HistoryOutcomeKind>().is_err());
    /// ```
    HistoryOutcomeKind, "history outcome" {
        Sent => "sent",
        Failed => "failed",
        OutcomeUnknown => "outcome_unknown",
        Released => "released",
    }
);

/// A sentence: the kind, and a failure's error.
impl std::fmt::Display for HistoryOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HistoryOutcome::Sent => f.write_str("sent"),
            HistoryOutcome::Failed { error } => write!(f, "failed: {error}"),
            HistoryOutcome::OutcomeUnknown => f.write_str("outcome unknown"),
            HistoryOutcome::Released => f.write_str("released"),
        }
    }
}

/// A message that was sent: by a rule (automatic) or by a person (manual, `rule` none).
///
/// The planner reads history to tell what was already sent: a key recorded here is never
/// planned again, whatever entry holds it (of another rule, a manual send, listing other
/// items or none, recorded under another client; one that failed or whose outcome is
/// unknown until it is released), the occurrences recorded count against each rule's count,
/// and the latest send spaces the next one. A manual send spaces the next automatic reminder but does not
/// use up any rule's count.
///
/// # Example
/// ```
/// use chrono::{TimeZone, Utc};
/// use dunning::HistoryEntry;
/// let at = Utc.with_ymd_and_hms(2026, 3, 2, 12, 0, 0).unwrap();
/// let manual = HistoryEntry::manual("acme".parse()?, "F-1".parse()?, at);
/// assert!(manual.rule.is_none());
/// assert_eq!(manual.key.as_str(), "manual/F-1/2026-03-02T12:00:00Z");
/// # Ok::<(), dunning::ValidationError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryEntry {
    /// The event's key.
    pub key: EventKey,
    /// The rule that sent it; none for a manual send.
    #[serde(default)]
    pub rule: Option<RuleId>,
    /// The client it went to.
    pub client: ClientId,
    /// The items it covered.
    pub items: Vec<HistoryItem>,
    /// When it was sent (or, for another outcome, recorded).
    pub sent_at: DateTime<Utc>,
    /// How it ended (sent, unless said otherwise).
    #[serde(default, skip_serializing_if = "HistoryOutcome::is_sent")]
    pub outcome: HistoryOutcome,
}

impl HistoryEntry {
    /// A manual send about `item` at `sent_at`.
    #[must_use]
    pub fn manual(client: ClientId, item: ItemId, sent_at: DateTime<Utc>) -> Self {
        let key = EventKey::from(format!(
            "manual/{item}/{}",
            sent_at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
        ));
        Self {
            key,
            rule: None,
            client,
            items: vec![HistoryItem { item, occurrence: 0 }],
            sent_at,
            outcome: HistoryOutcome::Sent,
        }
    }

    /// The same entry with another outcome.
    #[must_use]
    pub fn with_outcome(mut self, outcome: HistoryOutcome) -> Self {
        self.outcome = outcome;
        self
    }
}
