//! The difference between two plans.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::plan::{Event, Plan};

/// One event in both plans, with something changed (date, recipients, amount...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// The event in the first plan.
    pub before: Event,
    /// The event in the second plan.
    pub after: Event,
}

/// What a second plan adds, removes and changes compared to a first, matched by event key.
///
/// # Example
/// ```
/// # use dunning::*;
/// # fn f(old: &Plan, new: &Plan) {
/// let diff = old.diff(new);
/// for e in &diff.added { println!("would add {} on {}", e.key, e.send_on); }
/// for e in &diff.removed { println!("would drop {}", e.key); }
/// # }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanDiff {
    /// Events only in the second plan.
    pub added: Vec<Event>,
    /// Events only in the first plan.
    pub removed: Vec<Event>,
    /// Events in both with a difference.
    pub changed: Vec<Change>,
}

impl PlanDiff {
    /// The difference from `before` to `after`.
    #[must_use]
    pub fn between(before: &Plan, after: &Plan) -> Self {
        let old: BTreeMap<&str, &Event> = before.events().map(|e| (e.key.as_str(), e)).collect();
        let new: BTreeMap<&str, &Event> = after.events().map(|e| (e.key.as_str(), e)).collect();
        let mut diff = PlanDiff::default();
        for (key, e) in &new {
            match old.get(key) {
                None => diff.added.push((*e).clone()),
                Some(o) if o != e => diff.changed.push(Change {
                    before: (*o).clone(),
                    after: (*e).clone(),
                }),
                Some(_) => {}
            }
        }
        diff.removed = old
            .iter()
            .filter(|(k, _)| !new.contains_key(*k))
            .map(|(_, e)| (*e).clone())
            .collect();
        diff
    }

    /// Whether the plans have the same events.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}
