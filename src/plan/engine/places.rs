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

/// How many lookups go at once, each step for all of them (see [`Places::get_all`]).
pub(crate) const BATCH: usize = 16;

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

    /// Notes `id` at `place` to be added by [`Places::add_noted`], hashed now (while the id
    /// is at hand). `tags` holds a tag per place.
    pub(crate) fn note(&self, id: &str, place: u32, noted: &mut Vec<u64>, tags: &mut [u32]) {
        let (at, tag) = self.hash(id);
        if let Some(t) = tags.get_mut(place as usize) {
            *t = tag;
        }
        noted.push(((at as u64) << 32) | u64::from(place));
    }

    /// Adds the ids noted, in the order of their slots (so the table is written front to
    /// back instead of at random), and calls `dup` with the place of each id noted again.
    /// `id_of` gives the id at a place.
    pub(crate) fn add_noted<'a>(
        &mut self,
        mut noted: Vec<u64>,
        tags: &[u32],
        id_of: impl Fn(u32) -> &'a str,
        mut dup: impl FnMut(u32),
    ) {
        // Keys hold a slot in 32 bits.
        if (self.len + noted.len()) * 2 > self.slots.len()
            || u64::try_from(self.slots.len()).unwrap_or(u64::MAX) > 1 << 32
        {
            // More than the table was made for, or more than keys hold: one by one.
            for key in noted {
                let place = key as u32;
                if self.insert(id_of(place), place, &id_of).is_some() {
                    dup(place);
                }
            }
            return;
        }
        radix_sort_high(&mut noted, self.slots.len().trailing_zeros());
        for batch in noted.chunks(BATCH) {
            // The tags (read by place, at random) read for the whole batch first, so the
            // reads overlap.
            let mut batch_tags = [0u32; BATCH];
            for (t, &key) in batch_tags.iter_mut().zip(batch) {
                *t = tags.get(key as u32 as usize).copied().unwrap_or(1);
            }
            for (&key, &tag) in batch.iter().zip(&batch_tags) {
                let (at, place) = ((key >> 32) as usize & self.mask, key as u32);
                match self.probe(at, tag, |p| same(id_of(p), id_of(place))) {
                    Ok(_) => dup(place),
                    Err(empty) => self.fill(empty, tag, place),
                }
            }
        }
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
        let (at, tag) = self.hash(id);
        match self.probe(at, tag, |p| same(id_of(p), id)) {
            Ok(found) => Some(found),
            Err(empty) => {
                self.fill(empty, tag, place);
                None
            }
        }
    }

    /// Adds `id`, known not to be there, at `place`.
    fn put(&mut self, id: &str, place: u32) {
        let (at, tag) = self.hash(id);
        if let Err(empty) = self.probe(at, tag, |_| false) {
            self.fill(empty, tag, place);
        }
    }

    /// The place of each of `ids` (`u32::MAX` for one not there), pushed to `found` in
    /// their order. Looked up a batch at a time, each step for the whole batch, so the reads
    /// of the ids, of a large table and of the ids it points to overlap instead of waiting
    /// for each other: one by one, a million-item table costs reads from memory per lookup.
    pub(crate) fn get_all<'a>(&self, ids: &[&str], id_of: impl Fn(u32) -> &'a str, found: &mut Vec<u32>) {
        for batch in ids.chunks(BATCH) {
            let mut at = [0usize; BATCH];
            let mut tags = [0u32; BATCH];
            // An id that is the one before (the same text in memory: clones of one id, as
            // history listed item by item holds them) is looked up once; comparing every
            // id's text with the last costs more than it saves where ids seldom repeat.
            let mut again = [false; BATCH];
            for (k, id) in batch.iter().enumerate() {
                if k > 0 && std::ptr::eq(*id, batch[k - 1]) {
                    again[k] = true;
                } else {
                    (at[k], tags[k]) = self.hash(id);
                }
            }
            let mut first = [EMPTY; BATCH];
            for (f, &a) in first.iter_mut().zip(&at).take(batch.len()) {
                *f = self.slots[a];
            }
            // The id of each first slot that has the tag sought (most lookups end there).
            let mut texts = [""; BATCH];
            for ((text, f), &t) in texts.iter_mut().zip(&first).zip(&tags).take(batch.len()) {
                if f.tag == t {
                    *text = id_of(f.place);
                }
            }
            for k in 0..batch.len() {
                let (f, id) = (first[k], batch[k]);
                let place = if again[k] {
                    found.last().copied()
                } else if f.tag == 0 {
                    None
                } else if f.tag == tags[k] && same(texts[k], id) {
                    Some(f.place)
                } else {
                    self.probe(at[k], tags[k], |p| same(id_of(p), id)).ok()
                };
                found.push(place.unwrap_or(u32::MAX));
            }
        }
    }

    /// From slot `at` on: the place of the first slot with `tag` whose place `is` the one
    /// sought, or the first empty slot. The table is never full, so one comes.
    fn probe(&self, mut at: usize, tag: u32, is: impl Fn(u32) -> bool) -> Result<u32, usize> {
        loop {
            let slot = self.slots[at];
            if slot.tag == 0 {
                return Err(at);
            }
            if slot.tag == tag && is(slot.place) {
                return Ok(slot.place);
            }
            at = (at + 1) & self.mask;
        }
    }

    fn fill(&mut self, at: usize, tag: u32, place: u32) {
        self.slots[at] = Slot { tag, place };
        self.len += 1;
    }
}

/// Where each item is planned, found by its id. Items listed in ascending id order (so each
/// id once: nothing to look for duplicates in) are found where they lie in that order, from
/// where the last one was found; a table ([`Places`]) is made only when they are not, or for
/// lookups about as many as the items: hashing every id costs more than a few comparisons
/// each for the few looked up, as the ids sends are about usually are.
pub(crate) struct ItemIds {
    /// The ids are in ascending order, as planned.
    sorted: bool,
    table: std::sync::OnceLock<Places>,
}

impl ItemIds {
    /// Ids in ascending order: a table is made only for many lookups.
    pub(crate) fn sorted() -> Self {
        ItemIds {
            sorted: true,
            table: std::sync::OnceLock::new(),
        }
    }

    /// Ids in the order of `table`.
    pub(crate) fn table(table: Places) -> Self {
        ItemIds {
            sorted: false,
            table: std::sync::OnceLock::from(table),
        }
    }

    /// A finder of the places of ids among `ids` (the ids in planning order), for about
    /// `lookups` lookups: it pushes each id's place, or `u32::MAX`, to `found`.
    pub(crate) fn finder<'s>(
        &'s self,
        ids: &'s [&str],
        lookups: usize,
    ) -> impl FnMut(&[&str], &mut Vec<u32>) + 's {
        let id_of = move |k: u32| ids.get(k as usize).copied().unwrap_or("");
        let table = (!self.sorted || lookups.saturating_mul(2) > ids.len()).then(|| {
            self.table.get_or_init(|| {
                let mut table = Places::with_capacity(ids.len());
                let (mut noted, mut tags) = (Vec::with_capacity(ids.len()), vec![0u32; ids.len()]);
                for (seq, id) in (0u32..).zip(ids) {
                    table.note(id, seq, &mut noted, &mut tags);
                }
                // Ascending ids are unique: none is noted twice.
                table.add_noted(noted, &tags, id_of, |_| {});
                table
            })
        });
        // The last place found, and the step to it from the one before: lookups of one item
        // after another often go the same step (the same item again, or every few items).
        let (mut last, mut step) = (0usize, 0usize);
        move |queries: &[&str], found: &mut Vec<u32>| match table {
            Some(table) => table.get_all(queries, id_of, found),
            None => {
                for q in queries {
                    let guess = last.saturating_add(step);
                    let place = match ids.get(guess) {
                        Some(id) if same(id, q) => Some(guess),
                        _ => search_from(ids, q, last).ok(),
                    };
                    if let Some(at) = place {
                        step = at.saturating_sub(last);
                        last = at;
                    }
                    // Fits: `check_count` refused more items than 32 bits count.
                    found.push(place.map_or(u32::MAX, |at| at as u32));
                }
            }
        }
    }
}

/// Where `id` is in `ids` (ascending), looked for from `from` on: lookups in ascending
/// order (history listed item by item) cost a few comparisons each instead of a search of
/// the whole.
fn search_from(ids: &[&str], id: &str, from: usize) -> Result<usize, usize> {
    use std::cmp::Ordering::{Equal, Greater, Less};
    let Some(at) = ids.get(from) else {
        return ids.binary_search(&id);
    };
    match (*at).cmp(id) {
        Equal => Ok(from),
        Greater => ids.get(..from).unwrap_or_default().binary_search(&id),
        Less => {
            // Steps of 1, 2, 4... past `from` until one is not before `id`.
            let mut lo = from + 1;
            let mut step = 1usize;
            loop {
                let probe = lo.saturating_add(step - 1);
                let Some(p) = ids.get(probe) else {
                    let rest = ids.get(lo..).unwrap_or_default();
                    return rest.binary_search(&id).map(|i| lo + i).map_err(|i| lo + i);
                };
                match (*p).cmp(id) {
                    Less => {
                        lo = probe + 1;
                        step = step.saturating_mul(2);
                    }
                    Equal => return Ok(probe),
                    Greater => {
                        let span = ids.get(lo..probe).unwrap_or_default();
                        return span.binary_search(&id).map(|i| lo + i).map_err(|i| lo + i);
                    }
                }
            }
        }
    }
}

/// Whether two ids are the same text: at once when they are one text (clones of one id).
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && (std::ptr::eq(a.as_ptr(), b.as_ptr()) || a == b)
}

/// Sorts `keys` by their high 32 bits, of which the low `bits` are set: a least-significant
/// digit radix sort, 11 bits a pass.
fn radix_sort_high(keys: &mut Vec<u64>, bits: u32) {
    const DIGIT: u32 = 11;
    let mut buf = vec![0u64; keys.len()];
    let mut shift = 32;
    while shift < 32 + bits {
        let mut counts = [0usize; 1 << DIGIT];
        let digit = |k: u64| ((k >> shift) & ((1 << DIGIT) - 1)) as usize;
        for &k in keys.iter() {
            counts[digit(k)] += 1;
        }
        let mut at = 0;
        for c in counts.iter_mut() {
            let n = *c;
            *c = at;
            at += n;
        }
        for &k in keys.iter() {
            let d = digit(k);
            buf[counts[d]] = k;
            counts[d] += 1;
        }
        std::mem::swap(keys, &mut buf);
        shift += DIGIT;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The place of `id`, looked up alone.
    fn get<'a>(t: &Places, id: &str, id_of: impl Fn(u32) -> &'a str) -> Option<u32> {
        let mut found = Vec::new();
        t.get_all(&[id], id_of, &mut found);
        assert_eq!(found.len(), 1);
        found.first().copied().filter(|&p| p != u32::MAX)
    }

    #[test]
    fn ids_looked_up_in_batches_are_found_in_their_order() {
        let ids: Vec<String> = (0..5000).map(|i| format!("i{i}")).collect();
        let id_of = |p: u32| ids[p as usize].as_str();
        let mut t = Places::with_capacity(ids.len());
        for (p, id) in ids.iter().enumerate() {
            t.insert(id, p as u32, id_of);
        }
        // Present and missing ids, repeated and scattered, across many batches (and a last
        // one part full).
        let wanted: Vec<String> = (0..1237u32)
            .map(|n| match n % 5 {
                0 => format!("missing{n}"),
                1 => format!("i{}", n / 2),
                _ => format!("i{}", (n * 7919) % 5000),
            })
            .collect();
        // Each id twice in a row too (one text in memory: looked up once).
        let refs: Vec<&str> = wanted.iter().flat_map(|w| [w.as_str(), w.as_str()]).collect();
        let mut found = vec![7];
        t.get_all(&refs, id_of, &mut found);
        let expected: Vec<u32> = std::iter::once(7)
            .chain(wanted.iter().flat_map(|w| {
                let place = ids.iter().position(|id| id == w).map_or(u32::MAX, |p| p as u32);
                [place, place]
            }))
            .collect();
        assert_eq!(found, expected);
    }

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
            assert_eq!(get(&t, id, id_of), Some(p as u32), "{id}");
            // The same id again keeps the first place.
            assert_eq!(t.insert(id, 0, id_of), Some(p as u32), "{id}");
        }
        for missing in ["", "i", "i5000", "j1", "i-1"] {
            assert_eq!(get(&t, missing, id_of), None, "{missing}");
        }
        assert_eq!(get(&Places::with_capacity(0), "x", id_of), None);
    }

    #[test]
    fn ids_noted_then_added_are_found_and_duplicates_reported() {
        // Every id twice but one, noted in a scattered order.
        let mut ids: Vec<String> = (0..3000).map(|i| format!("i{i}")).collect();
        ids.extend((0..2999).map(|i| format!("i{}", (i * 7) % 2999)));
        let id_of = |p: u32| ids[p as usize].as_str();
        for capacity in [ids.len(), 100] {
            let mut t = Places::with_capacity(capacity);
            let (mut noted, mut tags) = (Vec::new(), vec![0u32; ids.len()]);
            for (p, id) in ids.iter().enumerate() {
                t.note(id, p as u32, &mut noted, &mut tags);
            }
            let mut dups = Vec::new();
            t.add_noted(noted, &tags, id_of, |p| dups.push(id_of(p).to_owned()));
            dups.sort();
            let mut expected: Vec<String> = (0..2999).map(|i| format!("i{i}")).collect();
            expected.sort();
            assert_eq!(dups, expected, "table for {capacity}");
            for (p, id) in ids.iter().enumerate().take(3000) {
                assert_eq!(get(&t, id, id_of).map(&id_of), Some(id.as_str()), "{p}");
            }
            assert_eq!(get(&t, "i3000", id_of), None);
        }
    }

    #[test]
    fn radix_sort_orders_by_the_high_half() {
        let mut keys: Vec<u64> = (0..5000u64)
            .map(|i| ((i * 7919) % 4096) << 32 | (i * 31 % 977))
            .collect();
        let mut expected = keys.clone();
        expected.sort_by_key(|k| k >> 32);
        radix_sort_high(&mut keys, 12);
        let high = |v: &[u64]| v.iter().map(|k| k >> 32).collect::<Vec<_>>();
        assert_eq!(high(&keys), high(&expected));
    }

    proptest::proptest! {
        /// Ids in ascending order are found where they lie, whatever the order and repeats
        /// of the lookups (steps alike, the same id again, back and forth, ids missing), by
        /// searching them (few lookups) or by a table (many): as a map of them finds them.
        #[test]
        fn ascending_ids_are_found_as_a_map_finds_them(
            n in 0usize..300,
            gaps in proptest::collection::vec(1u32..4, 300),
            lookups in proptest::collection::vec((0u32..1000, 0u8..4), 0..200),
        ) {
            // Ids with gaps between them (the missing ones are looked up too), ascending as
            // text: fixed width.
            let mut at = 0u32;
            let ids: Vec<String> = gaps.iter().take(n).map(|g| { at += g; format!("i{at:05}") }).collect();
            let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
            let map: std::collections::HashMap<&str, u32> =
                refs.iter().enumerate().map(|(p, id)| (*id, p as u32)).collect();
            // Runs of steps alike, repeats, and ids anywhere.
            let mut queries: Vec<String> = Vec::new();
            let mut k = 0u32;
            for &(v, how) in &lookups {
                k = match how {
                    0 => k + 5,
                    1 => k,
                    2 => v,
                    _ => k.saturating_sub(v % 7),
                };
                queries.push(format!("i{k:05}"));
            }
            queries.push(String::new());
            queries.push("j".into());
            let queries: Vec<&str> = queries.iter().map(String::as_str).collect();
            let expected: Vec<u32> = queries.iter().map(|q| map.get(q).copied().unwrap_or(u32::MAX)).collect();
            for many in [0, usize::MAX] {
                let ids = ItemIds::sorted();
                let mut find = ids.finder(&refs, many);
                let mut found = Vec::new();
                for batch in queries.chunks(BATCH) {
                    find(batch, &mut found);
                }
                proptest::prop_assert_eq!(&found, &expected, "lookups {}", many);
            }
        }

        /// A search from any place finds what a search of the whole finds.
        #[test]
        fn a_search_from_anywhere_finds_what_a_binary_search_does(
            n in 0usize..200,
            from in 0usize..250,
            q in 0u32..450,
        ) {
            let ids: Vec<String> = (0..n).map(|i| format!("{:04}", i * 2)).collect();
            let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
            let id = format!("{q:04}");
            proptest::prop_assert_eq!(
                search_from(&refs, &id, from).ok(),
                refs.binary_search(&id.as_str()).ok()
            );
        }
    }
}
