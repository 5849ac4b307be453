//! Account statements ("estado de cuenta"): a recurrence rule per statement, evaluated over
//! local dates, listing a client's open (or overdue) items with totals per currency.
//!
//! The RRULE is expanded over *local dates*: DTSTART is the statement's start date at noon
//! UTC, a zone without daylight saving, so every occurrence's UTC date is the local date it
//! stands for. The send time is then applied in the client's zone by
//! [`local_instant`](crate::local_instant), with this crate's daylight-saving rule. This
//! sidesteps the zoned expansion of rrule 0.14, which can drop occurrences on a night whose
//! midnight does not exist (a daily 00:30 rule in America/Santiago loses 2026-09-06).

use chrono::{Datelike, NaiveDate};
use rrule::RRuleSet;
use serde::{Deserialize, Serialize};

use crate::error::ValidationError;
use crate::model::client::ContactRole;
use crate::model::id::RuleId;

/// A statement rule: when statements go out and what they list.
///
/// # Example
/// Monthly on the 1st, listing every open item:
/// ```
/// use chrono::NaiveDate;
/// use dunning::StatementRule;
/// let rule = StatementRule::new("monthly".parse()?, "FREQ=MONTHLY;BYMONTHDAY=1", NaiveDate::from_ymd_opt(2026, 1, 1).unwrap());
/// let dates = rule.occurrences(NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(), NaiveDate::from_ymd_opt(2026, 5, 31).unwrap())?;
/// assert_eq!(dates.len(), 3);
/// # Ok::<(), dunning::ValidationError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatementRule {
    /// Unique id among rules; part of every statement's key.
    pub id: RuleId,
    /// The RRULE value (RFC 5545), such as `FREQ=MONTHLY;BYMONTHDAY=1`.
    pub rrule: String,
    /// DTSTART's date: the rule counts from here (intervals, weekdays, month days).
    pub start: NaiveDate,
    /// List overdue items only ("estado de cuenta de vencidos").
    #[serde(default)]
    pub overdue_only: bool,
    /// Contact roles it goes to (empty: every contact with notify on).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<ContactRole>,
    /// Whether it is on.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Drop an occurrence not sent within this many days (none: the latest unsent one goes
    /// out on catch-up).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_after_days: Option<u32>,
}

fn yes() -> bool {
    true
}

/// The most occurrences walked for one expansion (about 550 years of daily statements).
const MAX_STEPS: usize = 200_000;

impl StatementRule {
    /// A statement listing all open items, on.
    #[must_use]
    pub fn new(id: RuleId, rrule: impl Into<String>, start: NaiveDate) -> Self {
        Self {
            id,
            rrule: rrule.into(),
            start,
            overdue_only: false,
            roles: Vec::new(),
            enabled: true,
            expires_after_days: None,
        }
    }

    /// The same rule listing overdue items only.
    #[must_use]
    pub fn overdue_only(mut self) -> Self {
        self.overdue_only = true;
        self
    }

    /// The local dates of the rule from `from` to `to`, inclusive, in order.
    ///
    /// # Errors
    /// [`ValidationError::InvalidRecurrence`] when the RRULE does not parse.
    pub fn occurrences(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<NaiveDate>, ValidationError> {
        let set = compile(self.id.as_str(), &self.rrule, self.start)?;
        Ok(expand(&set, from, to))
    }
}

/// Parses an RRULE with DTSTART at noon UTC of `start`.
pub(crate) fn compile(rule: &str, rrule: &str, start: NaiveDate) -> Result<RRuleSet, ValidationError> {
    let bad = |reason: String| ValidationError::InvalidRecurrence {
        rule: rule.to_owned(),
        value: rrule.to_owned(),
        reason,
    };
    if rrule.contains(['\n', '\r']) || rrule.to_ascii_uppercase().contains("DTSTART") {
        return Err(bad(
            "give the RRULE value only; the start date is a field of its own".into(),
        ));
    }
    let value = rrule.trim().trim_start_matches("RRULE:");
    let text = format!(
        "DTSTART:{:04}{:02}{:02}T120000Z\nRRULE:{value}",
        start.year(),
        start.month(),
        start.day()
    );
    let set: RRuleSet = text.parse().map_err(|e: rrule::RRuleError| bad(e.to_string()))?;
    // A rule with no occurrence at all (BYMONTHDAY=31 in February only) is refused here
    // rather than walked for ever at planning time.
    if expand(&set, start, NaiveDate::MAX).is_empty() {
        return Err(bad("it has no occurrence".into()));
    }
    Ok(set)
}

/// The dates of `set` from `from` to `to`, walking forward from DTSTART once.
pub(crate) fn expand(set: &RRuleSet, from: NaiveDate, to: NaiveDate) -> Vec<NaiveDate> {
    let mut out = Vec::new();
    for (steps, dt) in set.into_iter().enumerate() {
        let day = dt.with_timezone(&chrono::Utc).date_naive();
        if day > to || steps >= MAX_STEPS {
            break;
        }
        if day >= from {
            out.push(day);
            if to == NaiveDate::MAX {
                break;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn rule(rrule: &str, start: NaiveDate) -> StatementRule {
        StatementRule::new("s".parse().unwrap(), rrule, start)
    }

    #[test]
    fn month_ends_match_an_independent_computation() {
        // BYMONTHDAY=31 skips months without a 31st (RFC 5545); BYMONTHDAY=-1 is the last day.
        let got = rule("FREQ=MONTHLY;BYMONTHDAY=31", d(2026, 1, 1))
            .occurrences(d(2026, 1, 1), d(2026, 12, 31))
            .unwrap();
        let want: Vec<_> = (1..=12)
            .filter_map(|m| NaiveDate::from_ymd_opt(2026, m, 31))
            .collect();
        assert_eq!(got, want);
        let got = rule("FREQ=MONTHLY;BYMONTHDAY=-1", d(2026, 1, 1))
            .occurrences(d(2026, 1, 1), d(2028, 12, 31))
            .unwrap();
        let want: Vec<_> = (2026..=2028)
            .flat_map(|y| (1..=12).map(move |m| (y, m)))
            .map(|(y, m)| {
                let next = if m == 12 { d(y + 1, 1, 1) } else { d(y, m + 1, 1) };
                next.pred_opt().unwrap()
            })
            .collect();
        assert_eq!(got, want);
        assert!(got.contains(&d(2028, 2, 29)));
    }

    #[test]
    fn daily_across_the_santiago_spring_forward_night_keeps_every_date() {
        // rrule's zoned expansion drops 2026-09-06 for a daily 00:30 rule in Santiago; local
        // dates do not.
        let got = rule("FREQ=DAILY", d(2026, 9, 1))
            .occurrences(d(2026, 9, 4), d(2026, 9, 8))
            .unwrap();
        assert_eq!(got, (4..=8).map(|day| d(2026, 9, day)).collect::<Vec<_>>());
    }

    #[test]
    fn weekly_and_intervals_count_from_the_start() {
        let got = rule("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO", d(2026, 1, 5))
            .occurrences(d(2026, 1, 1), d(2026, 2, 28))
            .unwrap();
        assert_eq!(
            got,
            [d(2026, 1, 5), d(2026, 1, 19), d(2026, 2, 2), d(2026, 2, 16)]
        );
    }

    #[test]
    fn bad_rules_are_typed_errors() {
        for bad in [
            "FREQ=SOMETIMES",
            "DTSTART:20260101T000000Z",
            "FREQ=MONTHLY;BYMONTH=2;BYMONTHDAY=31",
            "FREQ=DAILY\nRRULE:FREQ=DAILY",
        ] {
            let err = rule(bad, d(2026, 1, 1))
                .occurrences(d(2026, 1, 1), d(2026, 2, 1))
                .unwrap_err();
            assert!(
                matches!(err, ValidationError::InvalidRecurrence { .. }),
                "{bad}: {err}"
            );
        }
    }
}
