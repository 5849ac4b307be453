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
                // Printable ASCII but '/' (most ids) is valid; anything else is checked char
                // by char.
                let plain = !id.is_empty() && id.bytes().all(|b| b.is_ascii_graphic() && b != b'/');
                if !plain && (id.is_empty() || id.chars().any(|c| c == '/' || c.is_whitespace() || crate::model::client::is_header_control(c))) {
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
                Self::new(&*text).map_err(crate::error::de_error)
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
/// Stable for the same inputs, and naming what is reminded, never the day it goes:
/// `rule/item/occurrence` for an event about one item; `rule/client/currency/g` and 16 hex
/// digits for a notice grouped across items, the 64-bit FNV-1a hash of its items and
/// occurrences in item id order (for each: the id's bytes, U+001F, the occurrence in
/// decimal, U+001E), so the same items and occurrences always make the same key;
/// `rule/client/date` for a statement (its period) or a standing notice (the day the state
/// was entered). A key recorded in history is never planned again.
///
/// Keys of up to 30 bytes (most keys: a rule, an item number and an occurrence) are held
/// inline, so planning millions of events allocates none of them; longer ones are shared
/// text. Either way equality, ordering, hashing and serialization are those of the text.
///
/// ```
/// use dunning::EventKey;
/// let key = EventKey::from("overdue/F-1001/2");
/// assert_eq!(key.as_str(), "overdue/F-1001/2");
/// let long = EventKey::from("statement/a-client-with-a-long-id/CLP/2026-05-01");
/// assert_eq!(long.as_str(), "statement/a-client-with-a-long-id/CLP/2026-05-01");
/// assert!(key < long);
/// ```
#[derive(Clone)]
pub struct EventKey(KeyRepr);

/// Bytes held inline by an [`EventKey`].
const KEY_INLINE: usize = 30;

#[derive(Clone)]
enum KeyRepr {
    /// Length and bytes of a key of at most `KEY_INLINE` bytes (valid UTF-8: copied from a
    /// `str`).
    Inline(u8, [u8; KEY_INLINE]),
    /// A longer key.
    Shared(Arc<str>),
}

impl EventKey {
    /// The key as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        match &self.0 {
            // Always valid: the bytes were copied whole from `str`s and ASCII digits.
            KeyRepr::Inline(len, bytes) => {
                std::str::from_utf8(&bytes[..usize::from(*len)]).unwrap_or_default()
            }
            KeyRepr::Shared(s) => s,
        }
    }

    /// The key's bytes, without checking them again (equality and order need no `str`).
    pub(crate) fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            KeyRepr::Inline(len, bytes) => &bytes[..usize::from(*len)],
            KeyRepr::Shared(s) => s.as_bytes(),
        }
    }

    /// The key of `parts` (text, joined as they are) held inline, if it fits.
    fn inline(parts: &[&[u8]]) -> Option<EventKey> {
        let len: usize = parts.iter().map(|p| p.len()).sum();
        let short = u8::try_from(len).ok().filter(|_| len <= KEY_INLINE)?;
        let mut bytes = [0; KEY_INLINE];
        let mut end = 0;
        for p in parts {
            bytes[end..end + p.len()].copy_from_slice(p);
            end += p.len();
        }
        Some(EventKey(KeyRepr::Inline(short, bytes)))
    }

    /// The key `rule/item/occurrence`, written straight into its inline bytes when it fits.
    pub(crate) fn for_item(rule: &str, item: &str, occurrence: u32) -> EventKey {
        let mut buf = [0; 20];
        let digits = decimal(&mut buf, occurrence.into(), 1);
        Self::inline(&[rule.as_bytes(), b"/", item.as_bytes(), b"/", digits])
            .unwrap_or_else(|| EventKey::from(format!("{rule}/{item}/{occurrence}")))
    }
}

/// The decimal digits of `n`, at least `min_width` of them (zero-padded), written at the end
/// of `buf`.
pub(crate) fn decimal(buf: &mut [u8; 20], mut n: u64, min_width: usize) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        // `n % 10` is a digit.
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 && buf.len() - i >= min_width.min(buf.len()) {
            break;
        }
    }
    &buf[i..]
}

impl From<&str> for EventKey {
    fn from(s: &str) -> Self {
        Self::inline(&[s.as_bytes()]).unwrap_or_else(|| EventKey(KeyRepr::Shared(Arc::from(s))))
    }
}

impl From<String> for EventKey {
    fn from(s: String) -> Self {
        Self::inline(&[s.as_bytes()]).unwrap_or_else(|| EventKey(KeyRepr::Shared(Arc::from(s))))
    }
}

impl PartialEq for EventKey {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for EventKey {}

impl PartialOrd for EventKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for EventKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        // `str` orders by its bytes.
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl std::hash::Hash for EventKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl Serialize for EventKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for EventKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Ok(EventKey::from(&*text))
    }
}

impl Borrow<str> for EventKey {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for EventKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for EventKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
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

    #[test]
    fn keys_inline_or_shared_behave_as_their_text() {
        use std::collections::HashSet;
        use std::hash::BuildHasher;
        let texts = [
            String::new(),
            "a".to_owned(),
            "x".repeat(KEY_INLINE),
            "x".repeat(KEY_INLINE + 1),
            "ñ".repeat(KEY_INLINE),
            "overdue/F-1001/2".to_owned(),
        ];
        let hasher = std::collections::hash_map::RandomState::new();
        for t in &texts {
            let from_str = EventKey::from(t.as_str());
            let from_string = EventKey::from(t.clone());
            assert_eq!(from_str.as_str(), t);
            assert_eq!(from_string.as_str(), t);
            assert_eq!(from_str, from_string);
            // `Borrow<str>` lookups need the hash of the text.
            assert_eq!(hasher.hash_one(&from_str), hasher.hash_one(t.as_str()));
            let json = serde_json::to_string(&from_str).unwrap();
            assert_eq!(json, serde_json::to_string(t).unwrap());
            assert_eq!(serde_json::from_str::<EventKey>(&json).unwrap(), from_str);
        }
        assert!(matches!(
            EventKey::from("x".repeat(KEY_INLINE).as_str()).0,
            KeyRepr::Inline(..)
        ));
        assert!(matches!(
            EventKey::from("x".repeat(KEY_INLINE + 1)).0,
            KeyRepr::Shared(_)
        ));
        // Order is the text's, across the two forms.
        let mut keys: Vec<EventKey> = texts.iter().map(|t| EventKey::from(t.as_str())).collect();
        keys.sort();
        let mut sorted = texts.to_vec();
        sorted.sort();
        assert_eq!(keys.iter().map(EventKey::as_str).collect::<Vec<_>>(), sorted);
        for (rule, item, occ) in [
            ("overdue", "F-1001", 2),
            ("r", "i", 0),
            ("r", "i", u32::MAX),
            ("rule", &*"x".repeat(30), 7),
        ] {
            let key = EventKey::for_item(rule, item, occ);
            assert_eq!(key, EventKey::from(format!("{rule}/{item}/{occ}")));
            assert_eq!(key.as_str(), format!("{rule}/{item}/{occ}"));
        }
        let set: HashSet<EventKey> = keys.into_iter().collect();
        assert!(set.contains("overdue/F-1001/2"));
    }
}
