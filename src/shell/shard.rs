//! Shards: which share of the clients one dispatcher worker loads, plans, claims and sends for.
//!
//! A host with many workers gives each one shard `k` of `N`. A client belongs to shard
//! `fnv1a32(id) % N`, where `fnv1a32` is the 32-bit FNV-1a hash of the client id's UTF-8
//! bytes (offset basis `0x811c9dc5`, prime `0x01000193`): a function a host can compute the
//! same way in any language or in SQL, that no Rust version changes. Every event of a client
//! (its items' reminders, its statements and standing notices, grouped notices) is planned
//! from that client's data alone, so the plans of all shards together are the whole plan.
//!
//! Changing `N` moves clients between shards. That is safe while workers run: claims are
//! taken per event key in the shared store, so a key two workers both plan around the change
//! is still sent once.
//!
//! # Example
//! ```
//! use dunning::{ClientId, Shard};
//! let shard: Shard = "1/4".parse()?;
//! assert_eq!((shard.index(), shard.count()), (1, 4));
//! let acme = ClientId::new("acme")?;
//! // Exactly one shard of four holds a client.
//! let holders: Vec<Shard> = Shard::all(4).filter(|s| s.contains(&acme)).collect();
//! assert_eq!(holders, [Shard::new(Shard::bucket("acme") % 4, 4)?]);
//! assert_eq!(Shard::bucket("acme"), 0x45fd_71af);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::ValidationError;
use crate::model::id::ClientId;

/// Shard `index` of `count`: the clients whose [`Shard::bucket`] modulo `count` is `index`.
///
/// [`Shard::ALL`] (shard 0 of 1) holds every client. Written and parsed as `index/count`
/// (`"2/4"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "ShardRepr", into = "ShardRepr")]
pub struct Shard {
    index: u32,
    count: u32,
}

#[derive(Serialize, Deserialize)]
struct ShardRepr {
    index: u32,
    count: u32,
}

impl TryFrom<ShardRepr> for Shard {
    type Error = ValidationError;
    fn try_from(r: ShardRepr) -> Result<Self, ValidationError> {
        Shard::new(r.index, r.count)
    }
}

impl From<Shard> for ShardRepr {
    fn from(s: Shard) -> Self {
        Self {
            index: s.index,
            count: s.count,
        }
    }
}

impl Default for Shard {
    fn default() -> Self {
        Self::ALL
    }
}

impl Shard {
    /// Every client: shard 0 of 1.
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    /// Shard `index` of `count`.
    ///
    /// # Errors
    /// [`ValidationError::InvalidShard`] when `count` is 0 or `index` is not below it.
    ///
    /// # Example
    /// ```
    /// use dunning::Shard;
    /// assert!(Shard::new(3, 4).is_ok());
    /// assert_eq!(
    ///     Shard::new(4, 4).unwrap_err().to_string(),
    ///     "shard: \"4/4\" is not index/count with count at least 1 and index below count"
    /// );
    /// ```
    pub fn new(index: u32, count: u32) -> Result<Self, ValidationError> {
        if count == 0 || index >= count {
            return Err(ValidationError::InvalidShard {
                value: format!("{index}/{count}"),
            });
        }
        Ok(Self { index, count })
    }

    /// The shards of a partition in `count` (none when `count` is 0).
    ///
    /// # Example
    /// ```
    /// use dunning::Shard;
    /// let names: Vec<String> = Shard::all(3).map(|s| s.to_string()).collect();
    /// assert_eq!(names, ["0/3", "1/3", "2/3"]);
    /// ```
    pub fn all(count: u32) -> impl Iterator<Item = Shard> {
        (0..count).map(move |index| Shard { index, count })
    }

    /// Which shard this is (0-based).
    #[must_use]
    pub const fn index(self) -> u32 {
        self.index
    }

    /// How many shards the clients are split in.
    #[must_use]
    pub const fn count(self) -> u32 {
        self.count
    }

    /// Whether this shard holds every client (a partition in one).
    #[must_use]
    pub const fn is_all(self) -> bool {
        self.count == 1
    }

    /// The client id's bucket: the 32-bit FNV-1a hash of its UTF-8 bytes. A client belongs to
    /// shard `bucket % count`. A store may keep it in a column to load one shard's rows.
    ///
    /// # Example
    /// ```
    /// use dunning::Shard;
    /// // The FNV-1a test vectors.
    /// assert_eq!(Shard::bucket(""), 0x811c_9dc5);
    /// assert_eq!(Shard::bucket("a"), 0xe40c_292c);
    /// assert_eq!(Shard::bucket("foobar"), 0xbf9c_f968);
    /// ```
    #[must_use]
    pub fn bucket(client: &str) -> u32 {
        client.bytes().fold(0x811c_9dc5_u32, |h, b| {
            (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
        })
    }

    /// Whether the client belongs to this shard.
    #[must_use]
    pub fn contains(self, client: &ClientId) -> bool {
        self.holds(client.as_str())
    }

    /// Whether the client id (as text) belongs to this shard.
    #[must_use]
    pub fn holds(self, client: &str) -> bool {
        self.count == 1 || Self::bucket(client) % self.count == self.index
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = ValidationError;

    /// Parses `index/count` (`"0/4"`).
    fn from_str(s: &str) -> Result<Self, ValidationError> {
        let bad = || ValidationError::InvalidShard { value: s.to_owned() };
        let (index, count) = s.split_once('/').ok_or_else(bad)?;
        let index: u32 = index.trim().parse().map_err(|_| bad())?;
        let count: u32 = count.trim().parse().map_err(|_| bad())?;
        Shard::new(index, count).map_err(|_| bad())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_client_is_in_exactly_one_shard() {
        let ids = ["", "a", "acme", "c-0001", "ünïcode", "\u{10FFFF}"];
        for count in [1, 2, 3, 4, 7, 64] {
            for id in ids {
                let holders: Vec<Shard> = Shard::all(count).filter(|s| s.holds(id)).collect();
                assert_eq!(holders.len(), 1, "{id:?} in {count}: {holders:?}");
                assert_eq!(holders[0].index(), Shard::bucket(id) % count, "{id:?} in {count}");
            }
        }
        // The largest partition: the client's own shard holds it, its neighbours do not.
        let count = u32::MAX;
        for id in ids {
            let k = Shard::bucket(id) % count;
            assert!(Shard::new(k, count).unwrap().holds(id), "{id:?}");
            for other in [k.wrapping_add(1) % count, k.checked_sub(1).unwrap_or(count - 1)] {
                assert!(!Shard::new(other, count).unwrap().holds(id), "{id:?} in {other}");
            }
        }
    }

    #[test]
    fn bad_shards_are_refused_naming_the_value() {
        for s in ["", "1", "4/4", "0/0", "-1/4", "1/x", "1/4/5", "99999999999/1"] {
            let err = s.parse::<Shard>().unwrap_err();
            assert_eq!(
                err,
                ValidationError::InvalidShard { value: s.to_owned() },
                "{s:?}"
            );
        }
        assert_eq!(
            "3/4".parse::<Shard>().map(|s| s.to_string()).ok().as_deref(),
            Some("3/4")
        );
        assert!(serde_json::from_str::<Shard>(r#"{"index":4,"count":4}"#).is_err());
        assert_eq!(
            serde_json::to_string(&Shard::new(1, 2).unwrap()).unwrap(),
            r#"{"index":1,"count":2}"#
        );
    }

    #[test]
    fn buckets_spread_sequential_ids() {
        let mut per = [0u32; 4];
        for i in 0..4000 {
            per[(Shard::bucket(&format!("client-{i}")) % 4) as usize] += 1;
        }
        // Each shard within a fifth of its fair share.
        assert!(per.iter().all(|&n| (800..=1200).contains(&n)), "{per:?}");
    }
}
