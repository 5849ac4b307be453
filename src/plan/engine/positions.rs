//! Where a client, an item or a rule is: its position in the planner's inputs (the
//! `clients` and `items` slices, the policy's rules followed by its statement and standing
//! rules), as compact records keep it. Each kind of position is its own type, so that an
//! item's position is never read as a client's.

/// A rule's position: the policy's item rules, then its statement rules, then the two
/// standing notices (a planner has at most `u16::MAX - 2` rules in all).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct RuleIx(u16);

impl RuleIx {
    /// The rule at `index`. The planner refuses a policy with more rules than fit.
    #[inline]
    pub(crate) fn at(index: usize) -> RuleIx {
        debug_assert!(
            index < usize::from(u16::MAX),
            "rule {index} past the planner's limit"
        );
        RuleIx(u16::try_from(index).unwrap_or(u16::MAX))
    }

    /// Its position in the rule tables.
    #[inline]
    pub(crate) fn get(self) -> usize {
        usize::from(self.0)
    }

    /// Its position as packed into a history record.
    #[inline]
    pub(crate) fn raw(self) -> u16 {
        self.0
    }

    /// The position a history record packed.
    #[inline]
    pub(crate) fn from_raw(raw: u16) -> RuleIx {
        RuleIx(raw)
    }
}

/// A client's position in the planner's `clients`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct ClientIx(u32);

impl ClientIx {
    /// The client at `index` (inputs are checked to hold fewer than `u32::MAX` clients).
    #[inline]
    pub(crate) fn at(index: usize) -> ClientIx {
        ClientIx(u32::try_from(index).unwrap_or(u32::MAX))
    }

    /// Its position in `clients`.
    #[inline]
    pub(crate) fn get(self) -> usize {
        self.0 as usize
    }
}

/// An item's position in the planner's `items`, or [`ItemIx::NONE`] for what is about a
/// client (statements, standing notices).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct ItemIx(u32);

impl Default for ItemIx {
    fn default() -> Self {
        ItemIx::NONE
    }
}

impl ItemIx {
    /// No item: a client-level event or entry.
    pub(crate) const NONE: ItemIx = ItemIx(u32::MAX);

    /// The item at `index` (inputs are checked to hold fewer than `u32::MAX` items).
    #[inline]
    pub(crate) fn at(index: usize) -> ItemIx {
        ItemIx(u32::try_from(index).unwrap_or(u32::MAX))
    }

    /// Its position in `items` (`u32::MAX` for [`ItemIx::NONE`], which no slice reaches).
    #[inline]
    pub(crate) fn get(self) -> usize {
        self.0 as usize
    }

    /// Its position as packed into a record.
    #[inline]
    pub(crate) fn raw(self) -> u32 {
        self.0
    }

    /// The position a record packed.
    #[inline]
    pub(crate) fn from_raw(raw: u32) -> ItemIx {
        ItemIx(raw)
    }

    /// Whether it is an item's.
    #[inline]
    pub(crate) fn is_some(self) -> bool {
        self != ItemIx::NONE
    }
}
