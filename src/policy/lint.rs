//! Lint of a rule set: rules that can never fire, rules that collide on the same day.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::model::id::RuleId;
use crate::model::item::ItemKind;
use crate::policy::{Anchor, Policy, Rule};

/// A problem with a rule set that is not an error: the policy loads, but probably does not do
/// what its author meant.
///
/// # Example
/// ```
/// use dunning::{Anchor, LintWarning, Planner, Policy, Rule};
/// let policy = Policy::default()
///     .with_rule(Rule::new("reminder".parse()?, Anchor::Due, 0))
///     .with_rule(Rule::new("final".parse()?, Anchor::Due, 0));
/// let planner = Planner::new(&policy)?;
/// assert!(matches!(&planner.warnings()[0], LintWarning::NeverFires { rule, .. } if rule.as_str() == "reminder"));
/// # Ok::<(), dunning::ValidationError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum LintWarning {
    /// The rule can never send anything.
    NeverFires {
        /// The rule.
        rule: RuleId,
        /// Why not.
        reason: String,
    },
    /// Two rules fire on the same day for the same invoice; only the later stage is sent.
    SameDay {
        /// The rule that loses (earlier in the policy).
        first: RuleId,
        /// The rule that wins.
        second: RuleId,
        /// Days from the due date of the first shared day, for an invoice with the policy's
        /// payment term.
        days_from_due: i64,
    },
    /// With the policy's payment term the rule's day comes before the issue date, so it is
    /// sent on the issue date instead.
    BeforeIssue {
        /// The rule.
        rule: RuleId,
        /// Its offset.
        offset_days: i32,
    },
    /// A statement rule's RRULE recurs more than once a day (`FREQ=HOURLY`, or several
    /// times of day such as `BYHOUR=9,17`): a statement is a daily-or-slower document, so one
    /// is planned per local date the rule touches, at the policy's send time.
    ///
    /// # Example
    /// ```
    /// use chrono::NaiveDate;
    /// use dunning::{LintWarning, Planner, Policy, StatementRule};
    /// let start = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    /// let policy = Policy::default().with_statement(StatementRule::new("hourly".parse()?, "FREQ=HOURLY", start));
    /// let planner = Planner::new(&policy)?;
    /// assert!(matches!(&planner.warnings()[0], LintWarning::OncePerDay { rule, part } if rule.as_str() == "hourly" && part == "FREQ=HOURLY"));
    /// # Ok::<(), dunning::ValidationError>(())
    /// ```
    OncePerDay {
        /// The statement rule.
        rule: RuleId,
        /// The rule part that recurs within a day (`FREQ=HOURLY`, `BYHOUR=9,17`).
        part: String,
    },
}

impl fmt::Display for LintWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LintWarning::NeverFires { rule, reason } => write!(f, "rule {rule} can never fire: {reason}"),
            LintWarning::SameDay {
                first,
                second,
                days_from_due,
            } => write!(
                f,
                "rules {first} and {second} fire on the same day ({days_from_due:+} days from due); only {second} is sent"
            ),
            LintWarning::BeforeIssue { rule, offset_days } => write!(
                f,
                "rule {rule} ({offset_days} days from due) falls before the issue date with the policy's payment term; it is sent on the issue date"
            ),
            LintWarning::OncePerDay { rule, part } => write!(
                f,
                "statement {rule} recurs more than once a day ({part}); one statement is planned per local date, at the send time"
            ),
        }
    }
}

const MAX_OCCURRENCES: u32 = 512;

/// Days from the due date of each occurrence, for an invoice with the policy's term.
fn days_from_due(rule: &Rule, term: u32) -> Option<BTreeSet<i64>> {
    let base = match rule.anchor {
        Anchor::Due => i64::from(rule.offset_days),
        Anchor::Issued | Anchor::Sent => i64::from(rule.offset_days) - i64::from(term),
        Anchor::Paid => return None,
    };
    let every = i64::from(rule.every_days.unwrap_or(0));
    Some(
        (0..rule.count.min(MAX_OCCURRENCES))
            .map(|i| base + i64::from(i) * every)
            .collect(),
    )
}

fn applies_to_invoices(rule: &Rule) -> bool {
    rule.when.kinds.is_empty() || rule.when.kinds.contains(&ItemKind::Invoice)
}

pub(crate) fn lint(policy: &Policy) -> Vec<LintWarning> {
    let mut out = Vec::new();
    let term = policy.payment_term_days;
    let enabled: Vec<&Rule> = policy.rules.iter().filter(|r| r.enabled).collect();
    for rule in &policy.rules {
        if !rule.enabled {
            out.push(LintWarning::NeverFires {
                rule: rule.id.clone(),
                reason: "it is disabled in the policy (clients may still switch it on)".into(),
            });
        }
    }
    for rule in &enabled {
        if rule.anchor == Anchor::Due
            && i64::from(rule.offset_days) < -i64::from(term)
            && applies_to_invoices(rule)
        {
            out.push(LintWarning::BeforeIssue {
                rule: rule.id.clone(),
                offset_days: rule.offset_days,
            });
        }
    }
    for st in &policy.statements {
        if let Some(part) = crate::statement::recurs_within_a_day(&st.rrule) {
            out.push(LintWarning::OncePerDay {
                rule: st.id.clone(),
                part,
            });
        }
    }
    let days: Vec<Option<BTreeSet<i64>>> = enabled.iter().map(|r| days_from_due(r, term)).collect();
    for (i, a) in enabled.iter().enumerate() {
        if !applies_to_invoices(a) {
            continue;
        }
        let Some(da) = &days[i] else { continue };
        for (j, b) in enabled.iter().enumerate().skip(i + 1) {
            if !applies_to_invoices(b) || a.when.client_tags != b.when.client_tags {
                continue;
            }
            let Some(db) = &days[j] else { continue };
            let shared: Vec<i64> = da.intersection(db).copied().collect();
            let Some(first) = shared.first() else { continue };
            if shared.len() == da.len() {
                out.push(LintWarning::NeverFires {
                    rule: a.id.clone(),
                    reason: format!(
                        "every day it fires, the later rule {} fires too and supersedes it",
                        b.id
                    ),
                });
            } else {
                out.push(LintWarning::SameDay {
                    first: a.id.clone(),
                    second: b.id.clone(),
                    days_from_due: *first,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(id: &str, anchor: Anchor, off: i32) -> Rule {
        Rule::new(id.parse().unwrap(), anchor, off)
    }

    #[test]
    fn flags_disabled_shadowed_colliding_and_pre_issue_rules() {
        let policy = Policy::default()
            .with_payment_term(30)
            .with_rule(r("off", Anchor::Due, 3).enabled(false))
            .with_rule(r("early", Anchor::Due, -40))
            .with_rule(r("issued", Anchor::Issued, 0))
            .with_rule(r("weekly", Anchor::Due, 0).repeat(7, 4))
            .with_rule(r("day14", Anchor::Due, 14));
        let w = lint(&policy);
        assert!(w.contains(&LintWarning::NeverFires {
            rule: "off".parse().unwrap(),
            reason: "it is disabled in the policy (clients may still switch it on)".into()
        }));
        assert!(w.contains(&LintWarning::BeforeIssue {
            rule: "early".parse().unwrap(),
            offset_days: -40
        }));
        assert!(w.contains(&LintWarning::SameDay {
            first: "weekly".parse().unwrap(),
            second: "day14".parse().unwrap(),
            days_from_due: 14
        }));
        // Issued + 0 = due - 30, which no other rule hits.
        assert!(
            !w.iter()
                .any(|x| matches!(x, LintWarning::SameDay { first, .. } if first.as_str() == "issued"))
        );
    }

    #[test]
    fn a_clean_rule_set_has_no_warnings() {
        let policy = Policy::default()
            .with_rule(r("soon", Anchor::Due, -5))
            .with_rule(r("today", Anchor::Due, 0))
            .with_rule(r("late", Anchor::Due, 3).repeat(7, 3));
        assert!(lint(&policy).is_empty(), "{:?}", lint(&policy));
    }
}
