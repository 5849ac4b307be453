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

/// A message that was sent: by a rule (automatic) or by a person (manual, `rule` none).
///
/// The planner reads history to tell what was already sent: a key recorded here is never
/// planned again, the occurrences recorded count against each rule's count, and the latest
/// send spaces the next one. A manual send spaces the next automatic reminder but does not
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
    /// When it was sent.
    pub sent_at: DateTime<Utc>,
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
        }
    }
}
