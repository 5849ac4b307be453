//! Identifier newtypes.

use std::borrow::Borrow;
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::ValidationError;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Arc<str>);

        impl $name {
            /// Makes an id, checking that it is non-empty and has no `/` or white space.
            ///
            /// # Errors
            /// [`ValidationError::InvalidId`] naming the value.
            pub fn new(id: impl AsRef<str>) -> Result<Self, ValidationError> {
                let id = id.as_ref();
                if id.is_empty() || id.chars().any(|c| c == '/' || c.is_whitespace() || c.is_control()) {
                    return Err(ValidationError::InvalidId { kind: $kind, value: id.to_owned() });
                }
                Ok(Self(Arc::from(id)))
            }

            /// The id as text.
            #[must_use]
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The id's shared text (a reference-count increment, no copy).
            #[allow(dead_code)]
            pub(crate) fn shared(&self) -> Arc<str> {
                Arc::clone(&self.0)
            }

            /// An id from a literal of this crate, known to be valid.
            #[allow(dead_code)]
            pub(crate) fn known(id: &'static str) -> Self {
                debug_assert!(Self::new(id).is_ok());
                Self(Arc::from(id))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&*self.0, f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = ValidationError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::new(s)
            }
        }

        impl Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                Self::new(&*text).map_err(serde::de::Error::custom)
            }
        }
    };
}

id_type!(
    /// A client's id, unique among clients.
    ///
    /// ```
    /// use dunning::ClientId;
    /// let id = ClientId::new("acme")?;
    /// assert_eq!(id.as_str(), "acme");
    /// assert!(ClientId::new("a/b").is_err());
    /// # Ok::<(), dunning::ValidationError>(())
    /// ```
    ClientId,
    "client"
);
id_type!(
    /// A pending item's id (an invoice or another pending action), unique among items.
    ///
    /// ```
    /// use dunning::ItemId;
    /// assert_eq!("F-1001".parse::<ItemId>()?.to_string(), "F-1001");
    /// # Ok::<(), dunning::ValidationError>(())
    /// ```
    ItemId,
    "item"
);
id_type!(
    /// A rule's id, unique within a policy.
    ///
    /// ```
    /// use dunning::RuleId;
    /// assert!(RuleId::new("").is_err());
    /// assert!(RuleId::new("due-soon").is_ok());
    /// ```
    RuleId,
    "rule"
);

/// The idempotency key of a reminder event.
///
/// Stable for the same inputs: `rule/item/occurrence` for an event about one item,
/// `rule/client/currency/date` for a grouped notice. A key recorded in history as sent is
/// never planned again.
///
/// ```
/// use dunning::EventKey;
/// let key = EventKey::from("overdue/F-1001/2");
/// assert_eq!(key.as_str(), "overdue/F-1001/2");
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EventKey(Arc<str>);

impl EventKey {
    /// The key as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&str> for EventKey {
    fn from(s: &str) -> Self {
        EventKey(Arc::from(s))
    }
}

impl From<String> for EventKey {
    fn from(s: String) -> Self {
        EventKey(Arc::from(s))
    }
}

impl Borrow<str> for EventKey {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EventKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for EventKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_refuse_separators_and_blanks() {
        for bad in ["", "a/b", "a b", "tab\there", "\n"] {
            assert!(
                matches!(
                    ItemId::new(bad),
                    Err(ValidationError::InvalidId { kind: "item", .. })
                ),
                "{bad:?}"
            );
        }
        assert!(ItemId::new("F-2026-001").is_ok());
        let err = serde_json::from_str::<ClientId>("\"x/y\"").unwrap_err();
        assert!(err.to_string().contains("invalid client id \"x/y\""), "{err}");
    }
}
