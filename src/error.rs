//! Error enums, one per area.
//!
//! Every error names the offending entity, field and value, so a host can show it to the
//! person who typed the bad data. Messages are lowercase and carry no final period.

use chrono::NaiveDate;

/// A `Result` whose error defaults to [`ValidationError`].
pub type Result<T, E = ValidationError> = std::result::Result<T, E>;

/// Bad input: a value, an item, a client, a rule or a policy that cannot be planned.
///
/// Returned by parsers ([`Money::parse`](crate::Money::parse),
/// [`Currency::from_code`](crate::Currency::from_code), ...), by
/// [`Planner::new`](crate::Planner::new) for the policy and by
/// [`Planner::plan`](crate::Planner::plan) for clients, items and history.
///
/// # Example
/// ```
/// use dunning::{Currency, ValidationError};
/// let err = Currency::from_code("XYZ").unwrap_err();
/// assert_eq!(
///     err,
///     ValidationError::UnknownCurrency { field: "currency".into(), value: "XYZ".into() }
/// );
/// assert_eq!(err.to_string(), "currency: unknown currency \"XYZ\"");
/// ```
///
/// Loaded from a document ([`crate::load`]), the same error names the value's path:
/// ```
/// use dunning::ValidationError;
/// let json = r#"[{"id": "F-1", "client": "acme", "issued_on": "2026-03-02",
///                "total": {"currency": "XXY", "amount": "10"}}]"#;
/// let err = dunning::load::items_from_json(json).unwrap_err();
/// assert_eq!(
///     err.validation(),
///     Some(&ValidationError::UnknownCurrency {
///         field: "items[0].total.currency".into(),
///         value: "XXY".into(),
///     })
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ValidationError {
    /// An id is empty, or contains `/` (ids are joined with `/` in keys), white space, a
    /// control character or a bidirectional override or isolate (ids reach subjects and
    /// Message-IDs).
    #[error(
        "invalid {kind} id {value:?}: an id is non-empty and has no '/', white space or control characters"
    )]
    InvalidId {
        /// What the id names: `client`, `item`, `rule`.
        kind: &'static str,
        /// The id as given.
        value: String,
    },
    /// Two entities of one kind share an id.
    #[error("duplicate {kind} id {id:?}")]
    DuplicateId {
        /// What the id names: `client`, `item`, `rule`.
        kind: &'static str,
        /// The repeated id.
        id: String,
    },
    /// A currency code that is not in ISO 4217.
    #[error("{field}: unknown currency {value:?}")]
    UnknownCurrency {
        /// Where: `currency` from [`Currency::from_code`](crate::Currency::from_code), the
        /// value's path in a loaded document (`items[3].total.currency`).
        field: String,
        /// The code as given.
        value: String,
    },
    /// An ISO 4217 code without a minor unit (gold, SDR, testing codes): not money here.
    #[error("{field}: currency {code} has no minor unit and cannot be used for amounts")]
    CurrencyWithoutMinorUnit {
        /// Where: `currency` from [`Currency::from_code`](crate::Currency::from_code), the
        /// value's path in a loaded document (`items[3].total.currency`).
        field: String,
        /// The code.
        code: String,
    },
    /// An amount that is not a plain decimal number, or has more decimals than the
    /// currency allows (CLP has none, USD two, CLF four).
    #[error("invalid amount {value:?} in {currency}: {reason}")]
    InvalidAmount {
        /// The amount as given.
        value: String,
        /// The currency code.
        currency: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A time zone name that is not in the IANA database.
    #[error("{field}: unknown time zone {value:?}")]
    UnknownTimeZone {
        /// Where: `time_zone` from [`TimeZone::from_name`](crate::TimeZone::from_name), the
        /// value's path in a loaded document (`clients[0].time_zone`).
        field: String,
        /// The name as given.
        value: String,
    },
    /// An amount that must not be negative is.
    #[error("item {item}: {field} is negative ({value})")]
    NegativeAmount {
        /// The item id.
        item: String,
        /// The field, e.g. `total` or `applied[0].amount`.
        field: String,
        /// The amount.
        value: String,
    },
    /// An amount in another currency than its item.
    #[error("item {item}: {field} is in {found}, but the item is in {expected}")]
    CurrencyMismatch {
        /// The item id.
        item: String,
        /// The field, e.g. `applied[1].amount`.
        field: String,
        /// The item's currency.
        expected: String,
        /// The currency found.
        found: String,
    },
    /// Adding the amounts of an item overflowed.
    #[error("item {item}: {field} overflows")]
    AmountOverflow {
        /// The item id.
        item: String,
        /// The field.
        field: String,
    },
    /// A due date before the issue date.
    #[error("item {item}: due date {due} is before issue date {issued}")]
    DueBeforeIssue {
        /// The item id.
        item: String,
        /// The due date.
        due: NaiveDate,
        /// The issue date.
        issued: NaiveDate,
    },
    /// A date that must not come before the issue date does.
    #[error("item {item}: {field} {value} is before issue date {issued}")]
    BeforeIssue {
        /// The item id.
        item: String,
        /// The field, e.g. `sent_on`.
        field: &'static str,
        /// The date.
        value: NaiveDate,
        /// The issue date.
        issued: NaiveDate,
    },
    /// An invoice without a field that invoices need.
    #[error("item {item}: {field} is required for {kind} items")]
    MissingField {
        /// The item id.
        item: String,
        /// The field.
        field: &'static str,
        /// The kind of item.
        kind: &'static str,
    },
    /// An item of a client that is not among the clients given.
    #[error("item {item}: unknown client {client:?}")]
    UnknownClient {
        /// The item id.
        item: String,
        /// The client id it names.
        client: String,
    },
    /// A payment term outside 1 to 30 days.
    #[error("{field}: payment term of {value} days is out of range (1 to 30)")]
    PaymentTermOutOfRange {
        /// Where: `policy.payment_term_days` or `client C: overrides.payment_term_days`.
        field: String,
        /// The term.
        value: u32,
    },
    /// A rule that repeats every 0 days.
    #[error("rule {rule}: {field} must be at least 1, got 0")]
    ZeroSpacing {
        /// The rule id (with the client, for an override).
        rule: String,
        /// The field.
        field: &'static str,
    },
    /// A rule with a count of 0: it could never fire.
    #[error("rule {rule}: {field} must be at least 1, got 0")]
    ZeroCount {
        /// The rule id (with the client, for an override).
        rule: String,
        /// The field.
        field: &'static str,
    },
    /// A rule that repeats (count above 1) without saying how far apart.
    #[error("rule {rule}: count {count} needs every_days to space the repeats")]
    RepeatWithoutSpacing {
        /// The rule id (with the client, for an override).
        rule: String,
        /// The count.
        count: u32,
    },
    /// A rule field that does not fit its anchor.
    #[error("rule {rule}: {field} {value} does not fit anchor {anchor}")]
    InvalidRuleField {
        /// The rule id.
        rule: String,
        /// The field.
        field: &'static str,
        /// The value.
        value: String,
        /// The anchor.
        anchor: String,
    },
    /// A recurrence rule (RRULE) that does not parse or never occurs.
    #[error("statement {rule}: invalid RRULE {value:?}: {reason}")]
    InvalidRecurrence {
        /// The statement rule's id (with the client, for an override).
        rule: String,
        /// The RRULE as given.
        value: String,
        /// Why.
        reason: String,
    },
    /// Standing thresholds that are zero or out of order.
    #[error(
        "{field}: closing soon after {closing_soon} days must come before closed after {closed} days, both above 0"
    )]
    StandingThresholds {
        /// Where: `policy.standing` or `client C.overrides`.
        field: String,
        /// Days overdue for "closing soon".
        closing_soon: u32,
        /// Days overdue for "closed".
        closed: u32,
    },
    /// A manual reminder with a bad field.
    #[error("reminder {id}: {field} {value:?} {reason}")]
    InvalidReminder {
        /// The reminder's id (or the one it would get).
        id: String,
        /// The field.
        field: &'static str,
        /// The value.
        value: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// A rule id that the policy does not have.
    #[error("unknown rule {rule:?}")]
    UnknownRule {
        /// The rule id.
        rule: String,
    },
    /// A client override of a rule that the policy does not have.
    #[error("client {client}: override of unknown rule {rule:?}")]
    UnknownRuleOverride {
        /// The client id.
        client: String,
        /// The rule id named by the override.
        rule: String,
    },
    /// A contact email address that does not parse.
    #[error("client {client}, contact {contact:?}: invalid email address {value:?}")]
    InvalidEmail {
        /// The client id.
        client: String,
        /// The contact's name.
        contact: String,
        /// The address as given.
        value: String,
    },
    /// A pause that ends before it starts.
    #[error("{owner}: pause {field} ends on {until}, before it starts on {from}")]
    PauseEndsBeforeStart {
        /// `item I` or `client C`.
        owner: String,
        /// The field, e.g. `pauses[0]`.
        field: String,
        /// Its start.
        from: NaiveDate,
        /// Its end.
        until: NaiveDate,
    },
    /// A business calendar where every weekday is non-working.
    #[error("calendar: every weekday is non-working, so no reminder could ever be sent")]
    NoWorkingDay,
    /// An amount, or a sum of amounts, past the largest amount (`i64::MAX` minor units):
    /// a client's balances or late fees in one currency that add up past it, or a late fee
    /// past it. Refused rather than written wrong.
    #[error("{field}: the amount in {currency} is past the largest one ({max} minor units)", max = i64::MAX)]
    AmountTooLarge {
        /// What (`client acme: the balances`, `late fee of CLP 5`).
        field: String,
        /// The currency.
        currency: String,
    },
    /// An address messages would be sent to or from that is not one (a policy's reply-to,
    /// cc, bcc or company address; a client's override of them).
    #[error("{field}: invalid email address {value:?}")]
    InvalidAddress {
        /// Whose and which (`policy: cc[0]`, `client acme: overrides.reply_to[1]`).
        field: String,
        /// The value.
        value: String,
    },
    /// Text that goes into a mail header (a company's or a contact's name) holds a line
    /// break.
    #[error("{field}: line breaks are not allowed in a header ({value:?})")]
    LineBreak {
        /// Whose and which.
        field: String,
        /// The value.
        value: String,
    },
    /// Text that goes into a mail header holds a control character other than a line break
    /// and tab (NUL, escape, DEL...), or a bidirectional override or isolate (U+202A to
    /// U+202E, U+2066 to U+2069) that would make it display in another order.
    #[error("{field}: control characters are not allowed in a header ({value:?})")]
    ControlCharacter {
        /// Whose and which.
        field: String,
        /// The value.
        value: String,
    },
    /// A name that is none of its kind's (an item kind, a stage, a pause kind...).
    #[error("unknown {kind} {value:?}: expected one of {expected}")]
    UnknownName {
        /// What kind of name.
        kind: &'static str,
        /// The text given.
        value: String,
        /// The names there are.
        expected: String,
    },
    /// A number past its documented limit ([`crate::limits`]).
    #[error("{field} {value} is over the limit of {max}")]
    OverLimit {
        /// Whose field (`rule overdue: count`).
        field: String,
        /// The value given.
        value: String,
        /// The limit.
        max: String,
    },
    /// A rule, statement or standing notice named like the keys of previews (`preview/...`)
    /// and manual sends (`manual/...`): its events' keys could be theirs.
    #[error("rule id {id:?} is reserved: the keys of previews and manual sends start with it")]
    ReservedId {
        /// The id.
        id: String,
    },
    /// A client's override of a rule sets what that kind of rule does not have (a count on a
    /// statement, a recurrence on an item rule): refused rather than ignored.
    #[error("client {client}: overrides.rules.{rule}.{field} does not apply to {kind} (it takes {takes})")]
    InapplicableOverride {
        /// The client.
        client: String,
        /// The rule overridden.
        rule: String,
        /// The field set.
        field: &'static str,
        /// What the rule is (`a statement rule`).
        kind: &'static str,
        /// The fields it takes.
        takes: &'static str,
    },
    /// An at-least-once lease shorter than a claim's send may take (three times the send
    /// timeout): a second dispatcher would take the key again, and send it twice, while the
    /// first is still sending it, or no send would start with enough of the lease left.
    #[error(
        "at-least-once lease of {lease_secs} s is shorter than a send may take ({min_secs} s: three times the send timeout)"
    )]
    LeaseTooShort {
        /// The lease given.
        lease_secs: u64,
        /// The shortest lease the send timeout allows.
        min_secs: u64,
    },
    /// A shard that is not `index/count` with `count` at least 1 and `index` below it.
    #[error("shard: {value:?} is not index/count with count at least 1 and index below count")]
    InvalidShard {
        /// The shard as given (`"4/4"`).
        value: String,
    },
    /// A setting that must be zero or more is negative (a rule's minimum balance, a late
    /// fee's fixed part or cap).
    #[error("{field}: {value} is negative; it must be zero or more")]
    NegativeSetting {
        /// Whose field (`rule overdue: late_fee.fixed[0]`).
        field: String,
        /// The value.
        value: String,
    },
    /// A send time with a leap second (`09:00:60`): no day has it in a time zone's local
    /// time, so it would give an instant that reads as no time of day.
    #[error("{field}: {value} is a leap second; a send time is from 00:00:00 to 23:59:59")]
    LeapSecond {
        /// Whose field (`policy: send_time`, `client acme: overrides.send_time`).
        field: String,
        /// The time as written.
        value: String,
    },
    /// A setting that reaches a message in a form it cannot take safely: a locale that is
    /// not a language tag (it picks templates and is written into pages and headers).
    #[error("{field}: {value:?} is not {expected}")]
    InvalidSetting {
        /// Whose field (`policy: branding.primary_color`, `client acme: locale`).
        field: String,
        /// The value given.
        value: String,
        /// What it must be.
        expected: &'static str,
    },
    /// A time value that cannot be used (a horizon out of range, a date past the calendar).
    #[error("{field}: value {value} is out of range")]
    OutOfRange {
        /// The field.
        field: &'static str,
        /// The value.
        value: String,
    },
}

impl ValidationError {
    /// The same error naming `path` as its field, for the errors whose field is where a value
    /// was read (a currency or a time zone); others unchanged.
    pub(crate) fn with_field(mut self, path: &str) -> Self {
        if let Self::UnknownCurrency { field, .. }
        | Self::CurrencyWithoutMinorUnit { field, .. }
        | Self::UnknownTimeZone { field, .. } = &mut self
        {
            path.clone_into(field);
        }
        self
    }
}

thread_local! {
    /// While a loader listens ([`capture`]): the last error that a `Deserialize` of this
    /// crate raised (none yet). Serde's errors carry text only; the loader takes the typed
    /// error back from here when its text is the one the format reported.
    static RAISED: std::cell::RefCell<Option<Option<ValidationError>>> =
        const { std::cell::RefCell::new(None) };
}

/// The serde error of a `Deserialize` of this crate for `err`; while a loader listens, `err`
/// is also kept for it.
pub(crate) fn de_error<E: serde::de::Error>(err: ValidationError) -> E {
    let e = E::custom(&err);
    RAISED.with(|r| {
        if let Some(slot) = r.borrow_mut().as_mut() {
            *slot = Some(err);
        }
    });
    e
}

/// Runs `f`, and gives back with its result the last error [`de_error`] raised meanwhile.
pub(crate) fn capture<T>(f: impl FnOnce() -> T) -> (T, Option<ValidationError>) {
    /// Puts back what was listening before, also when `f` panics.
    struct Restore(Option<Option<ValidationError>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let outer = self.0.take();
            RAISED.with(|r| *r.borrow_mut() = outer);
        }
    }
    let restore = Restore(RAISED.with(|r| r.borrow_mut().replace(None)));
    let out = f();
    let raised = RAISED.with(|r| r.borrow_mut().as_mut().and_then(Option::take));
    drop(restore);
    (out, raised)
}
