//! Names of the crate's enums as hosts write them in logs, metric labels and command-line
//! flags: the same snake_case names serialization uses. Every enum without data has
//! `as_str`, `Display` and `FromStr`; enums with data say their kind.

/// `as_str`, `Display` and `FromStr` for an enum without data, from its variants' names.
macro_rules! names {
    ($ty:ident, $what:literal { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $ty {
            /// Every value, in declaration order: for a command line's help, or a metric's
            /// labels set up front.
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            /// Its name, as serialized (`snake_case`).
            #[must_use]
            pub fn as_str(&self) -> &'static str {
                match self {
                    $($ty::$variant => $name,)+
                }
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $ty {
            type Err = crate::error::ValidationError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($name => Ok($ty::$variant),)+
                    _ => Err(crate::error::ValidationError::UnknownName {
                        kind: $what,
                        value: s.to_owned(),
                        expected: [$($name),+].join(", "),
                    }),
                }
            }
        }
    };
}

/// For an enum with data, its kind: an enum of the same variants without their data (with
/// `as_str`, `Display`, `FromStr` and serde, like every enum of [`names!`]), `kind()`, and
/// `Display` writing the kind's name (not with `@own_display`, for an enum that writes its
/// data too). The attributes before the kind's name are its docs.
macro_rules! kinds {
    (
        $ty:ident => $(#[$meta:meta])* $kind:ident, $what:literal
        { $($variant:ident => $name:literal),+ $(,)? }
    ) => {
        crate::names::kinds!(@kind $ty => $(#[$meta])* $kind, $what { $($variant => $name),+ });

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.kind().as_str())
            }
        }
    };
    // An enum that writes itself with its data (its `Display` is its own).
    (
        @own_display $ty:ident => $(#[$meta:meta])* $kind:ident, $what:literal
        { $($variant:ident => $name:literal),+ $(,)? }
    ) => {
        crate::names::kinds!(@kind $ty => $(#[$meta])* $kind, $what { $($variant => $name),+ });
    };
    (
        @kind $ty:ident => $(#[$meta:meta])* $kind:ident, $what:literal
        { $($variant:ident => $name:literal),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, serde::Deserialize,
        )]
        #[non_exhaustive]
        pub enum $kind {
            $(
                #[doc = concat!("`", $name, "`: a [`", stringify!($ty), "::", stringify!($variant), "`].")]
                #[serde(rename = $name)]
                $variant,
            )+
        }

        crate::names::names!($kind, $what { $($variant => $name),+ });

        impl $ty {
            /// Its kind, without its data: for logs, metric labels and filters.
            #[must_use]
            pub fn kind(&self) -> $kind {
                match self {
                    $($ty::$variant { .. } => $kind::$variant,)+
                }
            }
        }
    };
}

pub(crate) use {kinds, names};

#[cfg(test)]
mod tests {
    use crate::*;

    /// Every name reads back, and is the one serialization writes.
    fn round_trip<T>(all: &[T])
    where
        T: std::fmt::Display
            + std::str::FromStr<Err = ValidationError>
            + serde::Serialize
            + PartialEq
            + std::fmt::Debug,
    {
        assert!(!all.is_empty());
        for v in all {
            let name = v.to_string();
            assert_eq!(&name.parse::<T>().unwrap(), v);
            assert_eq!(serde_json::to_value(v).unwrap(), serde_json::Value::String(name));
        }
        let err = "no-such-name".parse::<T>().unwrap_err();
        assert!(err.to_string().contains("no-such-name"), "{err}");
    }

    #[test]
    fn every_name_reads_back_and_matches_serde() {
        round_trip(&[
            Stage::Issued,
            Stage::Pending,
            Stage::DueSoon,
            Stage::DueToday,
            Stage::Overdue,
            Stage::ThankYou,
            Stage::Statement,
            Stage::OverdueStatement,
            Stage::ClosingSoon,
            Stage::Closed,
        ]);
        round_trip(&[
            ItemKind::Invoice,
            ItemKind::Proposal,
            ItemKind::Signature,
            ItemKind::Approval,
            ItemKind::Form,
            ItemKind::Message,
        ]);
        round_trip(&[
            ItemStatus::Draft,
            ItemStatus::Open,
            ItemStatus::PartiallyPaid,
            ItemStatus::Paid,
            ItemStatus::Cancelled,
            ItemStatus::Void,
            ItemStatus::Completed,
        ]);
        round_trip(&[
            PauseKind::Promise,
            PauseKind::Dispute,
            PauseKind::Hold,
            PauseKind::Snooze,
        ]);
        round_trip(&[
            ContactRole::Billing,
            ContactRole::Manager,
            ContactRole::Executive,
            ContactRole::Other,
        ]);
        round_trip(&[AppliedKind::Payment, AppliedKind::CreditNote]);
        round_trip(&[
            StandingState::Good,
            StandingState::ClosingSoon,
            StandingState::Closed,
        ]);
        round_trip(&[
            ReminderStatus::Active,
            ReminderStatus::Paid,
            ReminderStatus::Cancelled,
        ]);
        round_trip(&[Anchor::Issued, Anchor::Due, Anchor::Sent, Anchor::Paid]);
        round_trip(&[Alignment::Left, Alignment::Center, Alignment::Right]);
        round_trip(&[Origin::Policy, Origin::Client]);
        round_trip(&[
            crate::reminders::ReminderFilter::All,
            crate::reminders::ReminderFilter::Active,
            crate::reminders::ReminderFilter::Inactive,
            crate::reminders::ReminderFilter::Archived,
        ]);
        round_trip(&[crate::time::Shift::Earlier, crate::time::Shift::Later]);
        round_trip(&TemplateKind::ALL);
        // Not serialized: its names only.
        for kind in crate::load::LoadErrorKind::ALL {
            assert_eq!(
                &kind.to_string().parse::<crate::load::LoadErrorKind>().unwrap(),
                kind
            );
        }
        // The lists above are written out, so that a name left out of the macro shows; the
        // kinds are checked through ALL, which the same macro writes.
        assert_eq!(Stage::ALL.len(), 10);
        round_trip(SuppressReasonKind::ALL);
        round_trip(AdjustmentKind::ALL);
        round_trip(SendOutcomeKind::ALL);
        round_trip(SkipKind::ALL);
        round_trip(GuaranteeKind::ALL);
        round_trip(DeliveryKind::ALL);
        round_trip(ActionKind::ALL);
        round_trip(HistoryOutcomeKind::ALL);
        // An outcome's kind is its serialized tag, for every outcome.
        for outcome in [
            HistoryOutcome::Sent,
            HistoryOutcome::Failed { error: "550".into() },
            HistoryOutcome::OutcomeUnknown,
            HistoryOutcome::Released,
        ] {
            assert_eq!(
                serde_json::to_value(&outcome).unwrap()["kind"],
                outcome.kind().as_str(),
                "{outcome:?}"
            );
        }
        assert_eq!(HistoryOutcomeKind::ALL.len(), 4);
    }

    #[test]
    fn kinds_are_the_serialized_tags() {
        let skip = Skip::RetryLater {
            not_before: chrono::DateTime::<chrono::Utc>::MIN_UTC,
        };
        assert_eq!(skip.to_string(), "retry_later");
        assert_eq!(serde_json::to_value(&skip).unwrap()["kind"], "retry_later");
        let reason = SuppressReason::PausedUntil {
            pause: PauseKind::Promise,
            reason: String::new(),
            until: chrono::NaiveDate::MIN,
        };
        assert_eq!(reason.to_string(), "paused_until");
        assert_eq!(serde_json::to_value(&reason).unwrap()["kind"], "paused_until");
        assert_eq!(SuppressReason::Paid.kind(), SuppressReasonKind::Paid);
        assert_eq!(
            "paused_until".parse::<SuppressReasonKind>().unwrap(),
            reason.kind()
        );
        assert_eq!("retry_later".parse::<SkipKind>().unwrap(), skip.kind());
        assert_eq!(
            Guarantee::AtLeastOnce { lease_secs: 1 }.to_string(),
            "at_least_once"
        );
        assert_eq!(
            serde_json::to_value(Guarantee::AtMostOnce).unwrap(),
            "at_most_once"
        );
        let d = Delivery::Skipped {
            at: chrono::DateTime::<chrono::Utc>::MIN_UTC,
            reason: String::new(),
        };
        assert_eq!(d.to_string(), "skipped");
        assert_eq!(serde_json::to_value(&d).unwrap()["state"], "skipped");
    }
}
