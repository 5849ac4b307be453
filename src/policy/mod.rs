//! The policy: company settings, the business calendar, collection start dates and rules,
//! statement rules and standing notices.
//!
//! ```
//! use chrono::NaiveDate;
//! use dunning::policy::{Policy, StandingRule, StatementRule};
//! use dunning::TimeZone;
//!
//! let policy = Policy::new(TimeZone::UTC)
//!     .with_statement(StatementRule::new(
//!         "monthly".parse()?,
//!         "FREQ=MONTHLY;BYMONTHDAY=1",
//!         NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
//!     ))
//!     .with_standing(StandingRule::new(30, 60));
//! assert_eq!(policy.statements.len(), 1);
//! assert!(policy.standing.is_some());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod effective;
mod lint;
mod messaging;
mod resolve;
mod rule;

use std::collections::HashSet;

use chrono::{NaiveDate, NaiveTime};
use serde::{Deserialize, Serialize};

use crate::error::ValidationError;
use crate::limits;
use crate::load::LoadError;
use crate::money::Money;
use crate::standing::check_thresholds;
use crate::statement::compile as compile_rrule;
use crate::time::{BusinessCalendar, TimeZone};

pub use effective::{EffectiveNotice, EffectiveRule, EffectiveSettings, Origin, Setting};
pub use lint::LintWarning;
pub(crate) use lint::lint;
pub use messaging::{Alignment, Branding, Company, TemplateKind, TemplateSpec};
pub(crate) use resolve::for_client_tags;
// A client's overrides are the client's own data, defined with it in the model (which reads
// nothing of the policy); they are found here too, beside the effective settings they make.
#[doc(no_inline)]
pub use crate::model::{ClientOverrides, RuleOverride};
pub(crate) use resolve::Resolved;
pub use rule::{Anchor, Conditions, LateFee, Rule};
// A policy's statement rules and standing notices are policy data, found here with the rest
// of it; they are defined beside what they compute (`statement`, `standing`).
#[doc(no_inline)]
pub use crate::standing::StandingRule;
#[doc(no_inline)]
pub use crate::statement::StatementRule;

/// Collection start dates: items older than these are never reminded.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CollectionStart {
    /// "Comienzo de cobro para facturas pasadas": items due before this date are never
    /// reminded by any rule.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub past_items: Option<NaiveDate>,
    /// "Comienzo de cobro para nuevas facturas": rules anchored on the issue date fire only
    /// for items issued on or after this date.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_items: Option<NaiveDate>,
}

/// The collection policy: everything the planner needs besides the data.
///
/// Load it from JSON or TOML with [`Policy::from_json`] or [`Policy::from_toml`], which
/// validate it and name the path of a bad value in their errors; it also reads with serde
/// alone. [`Planner::new`](crate::Planner::new) validates it and reports lint warnings.
///
/// # Example
/// ```
/// let policy = dunning::Policy::from_toml(r#"
///     time_zone = "America/Santiago"
///     send_time = "09:00"
///     payment_term_days = 30
///     [calendar]
///     non_working_weekdays = ["Sat", "Sun"]
///     [[rules]]
///     id = "due-soon"
///     anchor = "due"
///     offset_days = -5
///     [[rules]]
///     id = "overdue"
///     anchor = "due"
///     every_days = 7
///     count = 4
/// "#)?;
/// assert_eq!(policy.rules.len(), 2);
/// # Ok::<(), dunning::LoadError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// The company's time zone, used for clients without one.
    #[serde(default = "utc")]
    pub time_zone: TimeZone,
    /// Local time of day reminders go out (default 09:00).
    #[serde(default = "nine", with = "crate::time::hhmm")]
    pub send_time: NaiveTime,
    /// Default payment term in days, 1 to 30; invoices without a due date are due
    /// this many days after issue.
    #[serde(default = "thirty")]
    pub payment_term_days: u32,
    /// Default locale of messages.
    #[serde(default = "spanish")]
    pub locale: String,
    /// Collection start dates.
    #[serde(default)]
    pub collection: CollectionStart,
    /// Non-working weekdays and holidays.
    #[serde(default)]
    pub calendar: BusinessCalendar,
    /// Minimum days between two reminders about items to the same client, across rules
    /// and items (0: no minimum): a reminder that would come sooner after the last one is
    /// deferred. When it holds several back, the one that waited longest goes first; of
    /// those that waited as long, the one due first, then the one whose item was reminded
    /// longest ago (or never), so that items with daily repeats take turns. Account statements and standing notices go on their own dates: the gap
    /// neither holds them back nor is held by them.
    #[serde(default)]
    pub min_gap_days: u32,
    /// The rules, in stage order: when several are due for one item at once, the later
    /// stage wins.
    #[serde(default)]
    pub rules: Vec<Rule>,
    /// The sender's company data.
    #[serde(default)]
    pub company: Company,
    /// Logo and colours.
    #[serde(default)]
    pub branding: Branding,
    /// How to pay (bank, account, tax id...), shown in every reminder.
    #[serde(default)]
    pub payment_instructions: String,
    /// Reply-to addresses: a list, or one string separated by commas.
    #[serde(default, deserialize_with = "crate::model::client::addresses")]
    pub reply_to: Vec<String>,
    /// Addresses copied on every message.
    #[serde(default, deserialize_with = "crate::model::client::addresses")]
    pub cc: Vec<String>,
    /// Addresses blind-copied on every message.
    #[serde(default, deserialize_with = "crate::model::client::addresses")]
    pub bcc: Vec<String>,
    /// The host's templates, replacing the defaults for a rule or a kind of message.
    #[serde(default)]
    pub templates: Vec<TemplateSpec>,
    /// Account statements on recurrence rules.
    #[serde(default)]
    pub statements: Vec<StatementRule>,
    /// Account standing thresholds and notices (none: no standing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub standing: Option<StandingRule>,
}

fn utc() -> TimeZone {
    TimeZone::UTC
}
fn nine() -> NaiveTime {
    NaiveTime::from_hms_opt(9, 0, 0).unwrap_or(NaiveTime::MIN)
}
fn thirty() -> u32 {
    30
}
fn spanish() -> String {
    "es".into()
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            time_zone: utc(),
            send_time: nine(),
            payment_term_days: thirty(),
            locale: spanish(),
            collection: CollectionStart::default(),
            calendar: BusinessCalendar::default(),
            min_gap_days: 0,
            rules: Vec::new(),
            company: Company::default(),
            branding: Branding::default(),
            payment_instructions: String::new(),
            reply_to: Vec::new(),
            cc: Vec::new(),
            bcc: Vec::new(),
            templates: Vec::new(),
            statements: Vec::new(),
            standing: None,
        }
    }
}

impl Policy {
    /// Loads a policy from JSON and [validates](Policy::validate) it.
    ///
    /// # Errors
    /// A [`LoadError`] naming the path of the bad value in the document (`time_zone`,
    /// `rules[1].anchor`, `rules[0].count`), the value, the reason and, for a value that
    /// does not read, the line and column.
    ///
    /// # Example
    /// ```
    /// use dunning::Policy;
    /// let policy = Policy::from_json(r#"{"time_zone": "America/Santiago",
    ///     "rules": [{"id": "overdue", "anchor": "due", "every_days": 7, "count": 4}]}"#)?;
    /// assert_eq!(policy.rules[0].count, 4);
    ///
    /// let err = Policy::from_json(r#"{"rules": [{"id": "r", "anchor": "sometimes"}]}"#).unwrap_err();
    /// assert_eq!(err.path(), "rules[0].anchor");
    /// assert_eq!(err.value(), Some("sometimes"));
    /// # Ok::<(), dunning::LoadError>(())
    /// ```
    pub fn from_json(text: &str) -> Result<Self, LoadError> {
        crate::load::policy(crate::load::Format::Json, text)
    }

    /// Loads a policy from TOML and [validates](Policy::validate) it (cargo feature `toml`,
    /// on by default).
    ///
    /// # Errors
    /// As [`Policy::from_json`].
    ///
    /// # Example
    /// ```
    /// use dunning::Policy;
    /// let err = Policy::from_toml(r#"
    ///     [[rules]]
    ///     id = "overdue"
    ///     anchor = "due"
    ///     offset_days = "a week"
    /// "#)
    /// .unwrap_err();
    /// assert_eq!(err.path(), "rules[0].offset_days");
    /// assert_eq!(err.value(), Some("a week"));
    /// assert_eq!(err.line(), Some(5));
    /// ```
    #[cfg(feature = "toml")]
    pub fn from_toml(text: &str) -> Result<Self, LoadError> {
        crate::load::policy(crate::load::Format::Toml, text)
    }

    /// A policy in `time_zone` with the defaults (09:00, 30 days, no rules).
    #[must_use]
    pub fn new(time_zone: TimeZone) -> Self {
        Self {
            time_zone,
            ..Self::default()
        }
    }

    /// Adds a rule.
    #[must_use]
    pub fn with_rule(mut self, rule: Rule) -> Self {
        self.rules.push(rule);
        self
    }

    /// Replaces the calendar.
    #[must_use]
    pub fn with_calendar(mut self, calendar: BusinessCalendar) -> Self {
        self.calendar = calendar;
        self
    }

    /// Sets the send time.
    #[must_use]
    pub fn with_send_time(mut self, send_time: NaiveTime) -> Self {
        self.send_time = send_time;
        self
    }

    /// Sets the payment term.
    #[must_use]
    pub fn with_payment_term(mut self, days: u32) -> Self {
        self.payment_term_days = days;
        self
    }

    /// Sets the minimum gap between reminders about items to one client
    /// ([`Policy::min_gap_days`]).
    #[must_use]
    pub fn with_min_gap(mut self, days: u32) -> Self {
        self.min_gap_days = days;
        self
    }

    /// Adds a statement rule.
    #[must_use]
    pub fn with_statement(mut self, statement: StatementRule) -> Self {
        self.statements.push(statement);
        self
    }

    /// Sets the standing thresholds.
    #[must_use]
    pub fn with_standing(mut self, standing: StandingRule) -> Self {
        self.standing = Some(standing);
        self
    }

    /// Whether `id` names a rule, a statement or a standing notice of this policy.
    #[must_use]
    pub fn has_rule(&self, id: &str) -> bool {
        self.rules.iter().any(|r| r.id.as_str() == id)
            || self.statements.iter().any(|s| s.id.as_str() == id)
            || self
                .standing
                .as_ref()
                .is_some_and(|s| s.closing_soon_id.as_str() == id || s.closed_id.as_str() == id)
    }

    /// Sets the collection start dates.
    #[must_use]
    pub fn with_collection_start(mut self, collection: CollectionStart) -> Self {
        self.collection = collection;
        self
    }

    /// Checks what HTML messages carry of the branding in an attribute (`<img src>`,
    /// `style`): escaped, but a live link or a style of its own would still work there.
    pub(crate) fn check_branding(&self) -> Result<(), ValidationError> {
        crate::model::client::check_setting(
            || "policy: branding.logo_url".to_owned(),
            &self.branding.logo_url,
            messaging::is_image_link,
            "empty, or an http, https or cid link without spaces or quotes",
        )?;
        for (field, value) in [
            ("primary_color", &self.branding.primary_color),
            ("secondary_color", &self.branding.secondary_color),
        ] {
            crate::model::client::check_setting(
                || format!("policy: branding.{field}"),
                value,
                messaging::is_css_color,
                "a CSS colour (#1f4e79, #fff, navy, rgb(31, 78, 121))",
            )?;
        }
        Ok(())
    }

    /// Checks the policy: payment term in range, unique rule ids, rules with a spacing and a
    /// count that can fire, a calendar with working days.
    ///
    /// # Errors
    /// The first problem, naming the rule or field and the value.
    pub fn validate(&self) -> Result<(), ValidationError> {
        crate::limits::check_term("policy.payment_term_days", self.payment_term_days)?;
        crate::limits::check_send_time(|| "policy: send_time".to_owned(), self.send_time)?;
        self.calendar.validate()?;
        limits::check(
            &"policy",
            "min_gap_days",
            u64::from(self.min_gap_days),
            limits::MAX_DAYS,
        )?;
        // The addresses every message goes from and to: refused here, not at every send.
        use crate::model::client::{check_address, check_header_text};
        for (field, list) in [("reply_to", &self.reply_to), ("cc", &self.cc), ("bcc", &self.bcc)] {
            for (i, a) in list.iter().enumerate() {
                check_address(|| format!("policy: {field}[{i}]"), a)?;
            }
        }
        if !self.company.email.trim().is_empty() {
            check_address(|| "policy: company.email".to_owned(), &self.company.email)?;
        }
        check_header_text(|| "policy: company.name".to_owned(), &self.company.name)?;
        self.check_branding()?;
        crate::model::client::check_setting(
            || "policy: locale".to_owned(),
            &self.locale,
            crate::model::client::is_language_tag,
            "a language tag (es, es-CL)",
        )?;
        let mut seen = HashSet::new();
        let standing_ids = self
            .standing
            .iter()
            .flat_map(|s| [&s.closing_soon_id, &s.closed_id]);
        let rule_ids = self.rules.iter().map(|r| &r.id);
        for id in self
            .statements
            .iter()
            .map(|s| &s.id)
            .chain(standing_ids.clone())
            .chain(rule_ids)
        {
            if RESERVED_RULE_IDS.contains(&id.as_str()) {
                return Err(ValidationError::ReservedId { id: id.to_string() });
            }
        }
        for id in self.statements.iter().map(|s| &s.id).chain(standing_ids) {
            if !seen.insert(id.as_str()) {
                return Err(ValidationError::DuplicateId {
                    kind: "rule",
                    id: id.to_string(),
                });
            }
        }
        for s in &self.statements {
            compile_rrule(s.id.as_str(), &s.rrule, s.start)?;
            let owner = format!("statement {}", s.id);
            limits::check_opt(
                &owner,
                "expires_after_days",
                s.expires_after_days,
                limits::MAX_DAYS,
            )?;
        }
        if let Some(st) = &self.standing {
            limits::check(
                &"policy.standing",
                "closed_after_days",
                u64::from(st.closed_after_days),
                limits::MAX_DAYS,
            )?;
            check_thresholds(
                "policy.standing",
                st.closing_soon_after_days,
                st.closed_after_days,
            )?;
        }
        for rule in &self.rules {
            if !seen.insert(rule.id.as_str()) {
                return Err(ValidationError::DuplicateId {
                    kind: "rule",
                    id: rule.id.to_string(),
                });
            }
            check_rule_shape(rule.id.as_str(), rule.every_days, rule.count)?;
            let owner = format!("rule {}", rule.id);
            limits::check_offset(&owner, "offset_days", rule.offset_days)?;
            limits::check_opt(&owner, "every_days", rule.every_days, limits::MAX_DAYS)?;
            limits::check(&owner, "count", u64::from(rule.count), limits::MAX_COUNT)?;
            limits::check_opt(
                &owner,
                "expires_after_days",
                rule.expires_after_days,
                limits::MAX_DAYS,
            )?;
            if rule.offset_days < 0 && rule.anchor != Anchor::Due {
                return Err(ValidationError::InvalidRuleField {
                    rule: rule.id.to_string(),
                    field: "offset_days",
                    value: rule.offset_days.to_string(),
                    anchor: rule.anchor.to_string(),
                });
            }
            let negative =
                |field: &str, list: &[Money]| match list.iter().enumerate().find(|(_, m)| m.is_negative()) {
                    Some((i, m)) => Err(ValidationError::NegativeSetting {
                        field: format!("{owner}: {field}[{i}]"),
                        value: m.to_string(),
                    }),
                    None => Ok(()),
                };
            negative("when.min_balance", &rule.when.min_balance)?;
            if let Some(fee) = &rule.late_fee {
                negative("late_fee.fixed", &fee.fixed)?;
                negative("late_fee.cap", &fee.cap)?;
            }
        }
        Ok(())
    }
}

/// Rule ids that keys of other events start with: previews (`preview/RULE/ITEM`) and manual
/// sends (`manual/ITEM/INSTANT`).
pub(crate) const RESERVED_RULE_IDS: [&str; 2] = ["preview", "manual"];

pub(crate) fn check_rule_shape(rule: &str, every: Option<u32>, count: u32) -> Result<(), ValidationError> {
    if every == Some(0) {
        return Err(ValidationError::ZeroSpacing {
            rule: rule.to_owned(),
            field: "every_days",
        });
    }
    if count == 0 {
        return Err(ValidationError::ZeroCount {
            rule: rule.to_owned(),
            field: "count",
        });
    }
    if count > 1 && every.is_none() {
        return Err(ValidationError::RepeatWithoutSpacing {
            rule: rule.to_owned(),
            count,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(id: &str) -> Rule {
        Rule::new(id.parse().unwrap(), Anchor::Due, 0)
    }

    #[test]
    fn payment_term_must_be_1_to_30() {
        for bad in [0, 31] {
            let p = Policy::default().with_payment_term(bad);
            assert_eq!(
                p.validate(),
                Err(ValidationError::PaymentTermOutOfRange {
                    field: "policy.payment_term_days".into(),
                    value: bad
                })
            );
        }
        assert!(Policy::default().with_payment_term(1).validate().is_ok());
    }

    #[test]
    fn rules_are_checked() {
        let dup = Policy::default().with_rule(rule("a")).with_rule(rule("a"));
        assert_eq!(
            dup.validate(),
            Err(ValidationError::DuplicateId {
                kind: "rule",
                id: "a".into()
            })
        );
        let zero = Policy::default().with_rule(rule("a").repeat(0, 3));
        assert_eq!(
            zero.validate(),
            Err(ValidationError::ZeroSpacing {
                rule: "a".into(),
                field: "every_days"
            })
        );
        let mut no_count = rule("a");
        no_count.count = 0;
        assert!(matches!(
            Policy::default().with_rule(no_count).validate(),
            Err(ValidationError::ZeroCount { .. })
        ));
        let mut unspaced = rule("a");
        unspaced.count = 3;
        assert!(matches!(
            Policy::default().with_rule(unspaced).validate(),
            Err(ValidationError::RepeatWithoutSpacing { count: 3, .. })
        ));
        let before_issue = Policy::default().with_rule(Rule::new("i".parse().unwrap(), Anchor::Issued, -1));
        assert!(matches!(
            before_issue.validate(),
            Err(ValidationError::InvalidRuleField {
                field: "offset_days",
                ..
            })
        ));
    }

    #[test]
    fn loads_from_json_with_defaults_and_refuses_unknown_fields() {
        let p: Policy = serde_json::from_str(r#"{"rules":[{"id":"r","anchor":"due"}]}"#).unwrap();
        assert_eq!(p.send_time, NaiveTime::from_hms_opt(9, 0, 0).unwrap());
        assert_eq!(p.payment_term_days, 30);
        assert_eq!(p.rules[0].count, 1);
        assert!(serde_json::from_str::<Policy>(r#"{"sendtime":"09:00"}"#).is_err());
        let err = serde_json::from_str::<Policy>(r#"{"send_time":"9am"}"#).unwrap_err();
        assert!(err.to_string().contains("invalid time of day \"9am\""), "{err}");
        let err = serde_json::from_str::<Policy>(r#"{"time_zone":"Mars/Base"}"#).unwrap_err();
        assert!(
            err.to_string().contains("unknown time zone \"Mars/Base\""),
            "{err}"
        );
    }
}
