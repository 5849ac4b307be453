//! Where each item is planned, found by its id: a compact table for portfolios of millions.

use std::hash::BuildHasher as _;

use rustc_hash::FxBuildHasher;

/// Places (positions in the order items are planned) found by id: open addressing over
/// slots of (a part of the id's hash, place). Eight bytes a slot and at most half the slots
/// full, where a general map of `&str` keeps three words an entry: the table of a million
/// items is 16 MiB, and most lookups read one slot and one id.
pub(crate) struct Places {
    slots: Vec<Slot>,
    mask: usize,
    shift: u32,
    len: usize,
}

#[derive(Clone, Copy)]
struct Slot {
    /// The id's hash, low half (`0` only in empty slots: hashes of 0 read as 1).
    tag: u32,
    place: u32,
}

const EMPTY: Slot = Slot { tag: 0, place: 0 };

impl Places {
    /// A table for `n` ids.
    pub(crate) fn with_capacity(n: usize) -> Self {
        let len = n.saturating_mul(2).max(8).next_power_of_two();
        Places {
            slots: vec![EMPTY; len],
            mask: len - 1,
            shift: 64 - len.trailing_zeros(),
            len: 0,
        }
    }

    fn hash(&self, id: &str) -> (usize, u32) {
        let h = FxBuildHasher.hash_one(id);
        // The high bits are the best mixed: they pick the slot, the low ones tag it.
        let at = usize::try_from(h >> self.shift).unwrap_or(0) & self.mask;
        let tag = (h as u32).max(1);
        (at, tag)
    }

    /// Adds `id` at `place`; when `id` is there already, leaves it and returns its place.
    /// `id_of` gives the id at a place.
    pub(crate) fn insert<'a>(&mut self, id: &str, place: u32, id_of: impl Fn(u32) -> &'a str) -> Option<u32> {
        if (self.len + 1) * 2 > self.slots.len() {
            // More ids than the table was made for: a table twice the size.
            let mut grown = Places::with_capacity(self.slots.len());
            for s in self.slots.iter().filter(|s| s.tag != 0) {
                grown.put(id_of(s.place), s.place);
            }
            *self = grown;
        }
        let (mut at, tag) = self.hash(id);
        loop {
            let slot = self.slots[at];
            if slot.tag == 0 {
                self.slots[at] = Slot { tag, place };
                self.len += 1;
                return None;
            }
            if slot.tag == tag && id_of(slot.place) == id {
                return Some(slot.place);
            }
            at = (at + 1) & self.mask;
        }
    }

    /// Adds `id`, known not to be there, at `place`.
    fn put(&mut self, id: &str, place: u32) {
        let (mut at, tag) = self.hash(id);
        while self.slots[at].tag != 0 {
            at = (at + 1) & self.mask;
        }
        self.slots[at] = Slot { tag, place };
        self.len += 1;
    }

    /// The place of `id`. `id_of` gives the id at a place.
    pub(crate) fn get<'a>(&self, id: &str, id_of: impl Fn(u32) -> &'a str) -> Option<u32> {
        let (mut at, tag) = self.hash(id);
        loop {
            let slot = self.slots[at];
            if slot.tag == 0 {
                return None;
            }
            if slot.tag == tag && id_of(slot.place) == id {
                return Some(slot.place);
            }
            at = (at + 1) & self.mask;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_found_where_they_were_put_and_twice_only_once() {
        let ids: Vec<String> = (0..5000).map(|i| format!("i{i}")).collect();
        let id_of = |p: u32| ids[p as usize].as_str();
        // A table made too small: it grows.
        let mut t = Places::with_capacity(10);
        for (p, id) in ids.iter().enumerate() {
            assert_eq!(t.insert(id, p as u32, id_of), None, "{id}");
        }
        for (p, id) in ids.iter().enumerate() {
            assert_eq!(t.get(id, id_of), Some(p as u32), "{id}");
            // The same id again keeps the first place.
            assert_eq!(t.insert(id, 0, id_of), Some(p as u32), "{id}");
        }
        for missing in ["", "i", "i5000", "j1", "i-1"] {
            assert_eq!(t.get(missing, id_of), None, "{missing}");
        }
        assert_eq!(Places::with_capacity(0).get("x", id_of), None);
    }
}
