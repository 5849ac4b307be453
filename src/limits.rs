//! The largest values the planner accepts, and what happens past them.
//!
//! Every number a policy, a client, an item or a plan names is bounded, so that date
//! arithmetic never overflows inside the calendar and planning time stays linear in what a
//! plan covers. A value past its limit is refused with [`ValidationError::OverLimit`]
//! naming the field, the value and the limit: it never wraps, saturates into a plausible
//! value, or panics.
//!
//! | what | limit |
//! |---|---|
//! | a plan's horizon ([`Horizon`](crate::Horizon)) | [`MAX_HORIZON_DAYS`] days |
//! | a rule's count (policy, client override, item) | [`MAX_COUNT`] |
//! | days in an offset, a spacing, a minimum gap, an expiry, a standing threshold | [`MAX_DAYS`] |
//! | an amount | `i64::MAX` minor units (sums of amounts are checked: past it, an error) |
//!
//! Dates at the ends of chrono's calendar (years -262143 and 262142) are valid inputs: a
//! step that would leave the calendar means "never" (the reminder has no day to go on), and
//! is explained as such where the plan explains anything.
//!
//! # Example
//! ```
//! use dunning::{limits, Anchor, Policy, Rule, TimeZone, ValidationError};
//! let rule = Rule::new("overdue".parse()?, Anchor::Due, 0).repeat(1, limits::MAX_COUNT + 1);
//! let err = Policy::new(TimeZone::UTC).with_rule(rule).validate().unwrap_err();
//! assert!(matches!(err, ValidationError::OverLimit { .. }));
//! assert_eq!(err.to_string(), "rule overdue: count 10001 is over the limit of 10000");
//! # Ok::<(), ValidationError>(())
//! ```

use chrono::NaiveTime;

use crate::error::ValidationError;

/// The longest forecast a plan makes, in days (about ten years).
pub const MAX_HORIZON_DAYS: u32 = 3_660;

/// The most times one rule may fire for one item.
pub const MAX_COUNT: u32 = 10_000;

/// The most days an offset (either way), a spacing, a minimum gap between messages, an
/// expiry or a standing threshold may name (about a hundred years).
pub const MAX_DAYS: u32 = 36_600;

/// `value` if it is at most `max`, else the error naming `owner`'s `field`.
pub(crate) fn check(
    owner: &dyn std::fmt::Display,
    field: &str,
    value: u64,
    max: u32,
) -> Result<(), ValidationError> {
    if value > u64::from(max) {
        return Err(ValidationError::OverLimit {
            field: format!("{owner}: {field}"),
            value: value.to_string(),
            max: max.to_string(),
        });
    }
    Ok(())
}

/// [`check`] of an optional value.
pub(crate) fn check_opt(
    owner: &dyn std::fmt::Display,
    field: &str,
    value: Option<u32>,
    max: u32,
) -> Result<(), ValidationError> {
    value.map_or(Ok(()), |v| check(owner, field, u64::from(v), max))
}

/// [`check`] of a signed number of days, by its size.
pub(crate) fn check_offset(
    owner: &dyn std::fmt::Display,
    field: &str,
    value: i32,
) -> Result<(), ValidationError> {
    if value.unsigned_abs() > MAX_DAYS {
        return Err(ValidationError::OverLimit {
            field: format!("{owner}: {field}"),
            value: value.to_string(),
            max: MAX_DAYS.to_string(),
        });
    }
    Ok(())
}

/// Refuses a payment term outside 1 to 30 days.
pub(crate) fn check_term(field: &str, days: u32) -> Result<(), ValidationError> {
    if !(1..=30).contains(&days) {
        return Err(ValidationError::PaymentTermOutOfRange {
            field: field.to_owned(),
            value: days,
        });
    }
    Ok(())
}

/// Refuses a send time with a leap second (chrono reads `09:00:60` as one).
pub(crate) fn check_send_time(
    field: impl FnOnce() -> String,
    time: NaiveTime,
) -> Result<(), ValidationError> {
    use chrono::Timelike as _;
    if time.nanosecond() >= 1_000_000_000 {
        return Err(ValidationError::LeapSecond {
            field: field(),
            value: time.to_string(),
        });
    }
    Ok(())
}
