//! A plan's records: kept where they were made, read in the plan's order.

use std::fmt;

/// Records as the planner makes them (client by client) and the runs that read them in the
/// plan's order (by date, then client, then within a client). The plan is never physically
/// reordered: a plan of a million clients is a handful of runs per client, and ordering those
/// moves a few bytes per run instead of a few hundred per record.
#[derive(Clone)]
pub(crate) struct Records<T> {
    items: Vec<T>,
    /// In plan order: `at` is where the run starts in that order, `start..start + len` where
    /// it lies in `items`.
    runs: Vec<Run>,
}

/// A run of one client's records on one date: (date, client rank, start, length).
pub(crate) type RunOf<K> = (K, usize, usize, usize);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Run {
    at: usize,
    start: usize,
    len: usize,
}

/// Orders runs by date, runs of one date in the order they came: a counting sort over the
/// dates they have (a plan's runs share a handful of dates, or of send instants).
fn group_by_date<K: Ord + Copy + std::hash::Hash>(runs: &mut Vec<RunOf<K>>) {
    let mut dates: rustc_hash::FxHashMap<K, usize> = rustc_hash::FxHashMap::default();
    let mut last: Option<(K, usize)> = None;
    let mut of: Vec<usize> = Vec::with_capacity(runs.len());
    for r in runs.iter() {
        let at = match last {
            Some((d, at)) if d == r.0 => at,
            _ => {
                let next = dates.len();
                let at = *dates.entry(r.0).or_insert(next);
                last = Some((r.0, at));
                at
            }
        };
        of.push(at);
    }
    // Where each date's runs start, dates in order.
    let mut sorted: Vec<(K, usize)> = dates.into_iter().collect();
    sorted.sort_unstable();
    let mut start = vec![0usize; sorted.len()];
    let mut counts = vec![0usize; sorted.len()];
    for &at in &of {
        counts[at] += 1;
    }
    let mut next = 0;
    for &(_, at) in &sorted {
        start[at] = next;
        next += counts[at];
    }
    let mut out = runs.clone();
    for (r, &at) in runs.iter().zip(&of) {
        out[start[at]] = *r;
        start[at] += 1;
    }
    *runs = out;
}

impl<T> Records<T> {
    pub(crate) const fn new() -> Self {
        Records {
            items: Vec::new(),
            runs: Vec::new(),
        }
    }

    /// Room for `n` more records: address space only until they are made.
    pub(crate) fn reserve(&mut self, n: usize) {
        self.items.reserve(n);
    }

    /// Adds a record while planning (it is read once [`Records::order`] has run).
    pub(crate) fn push(&mut self, record: T) {
        self.items.push(record);
    }

    /// How many records were made so far.
    pub(crate) fn made(&self) -> usize {
        self.items.len()
    }

    /// The records made since `mark`, to read.
    pub(crate) fn since(&self, mark: usize) -> &[T] {
        self.items.get(mark..).unwrap_or_default()
    }

    /// Keeps, of the records made since `mark`, those `keep` says (in their order).
    pub(crate) fn retain_since(&mut self, mark: usize, keep: impl FnMut(&T) -> bool) {
        if mark < self.items.len() {
            let mut since = self.items.split_off(mark);
            since.retain(keep);
            self.items.append(&mut since);
        }
    }

    /// The records made since `mark`, to sort one client's among themselves.
    pub(crate) fn made_since(&mut self, mark: usize) -> &mut [T] {
        self.items.get_mut(mark..).unwrap_or_default()
    }

    /// Cuts the records made since `mark` (one client's, of client rank `rank`, sorted by
    /// `date` first) into runs of one date.
    pub(crate) fn runs_since<K: Eq + Copy>(
        &self,
        mark: usize,
        rank: usize,
        date: impl Fn(&T) -> K,
        runs: &mut Vec<RunOf<K>>,
    ) {
        let made = self.items.get(mark..).unwrap_or_default();
        let mut i = 0;
        while let Some(first) = made.get(i) {
            let d = date(first);
            let len = made[i..].iter().take_while(|r| date(r) == d).count();
            runs.push((d, rank, mark + i, len));
            i += len;
        }
    }

    /// Sets the order from runs whose records are contiguous and already in order; runs are
    /// read by date, then client rank.
    pub(crate) fn order<K: Ord + Copy + std::hash::Hash>(&mut self, mut runs: Vec<RunOf<K>>) {
        // A client has one run per date: (date, rank) is unique.
        if runs.is_sorted_by_key(|r| r.1) {
            // Made client by client (as the planner makes them): grouped by date in one
            // pass, each date's runs kept in the order they came.
            group_by_date(&mut runs);
        } else {
            runs.sort_unstable_by_key(|r| (r.0, r.1));
        }
        self.runs.clear();
        self.runs.reserve(runs.len());
        let mut at = 0;
        for (_, _, start, len) in runs {
            match self.runs.last_mut() {
                // Runs that follow each other in both orders read as one.
                Some(last) if last.start + last.len == start => last.len += len,
                _ => self.runs.push(Run { at, start, len }),
            }
            at += len;
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.runs.last().map_or(0, |r| r.at + r.len)
    }

    pub(crate) fn iter(&self) -> ListingIter<'_, T> {
        ListingIter {
            items: &self.items,
            runs: self.runs.iter(),
            current: [].iter(),
            left: self.len(),
        }
    }
}

impl<T> Default for Records<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: PartialEq> PartialEq for Records<T> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl<T: Eq> Eq for Records<T> {}

impl<T: fmt::Debug> fmt::Debug for Records<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// Reads [`Records`] in their order.
pub(crate) struct ListingIter<'a, T> {
    items: &'a [T],
    runs: std::slice::Iter<'a, Run>,
    current: std::slice::Iter<'a, T>,
    left: usize,
}

impl<T> Clone for ListingIter<'_, T> {
    fn clone(&self) -> Self {
        ListingIter {
            items: self.items,
            runs: self.runs.clone(),
            current: self.current.clone(),
            left: self.left,
        }
    }
}

impl<'a, T> Iterator for ListingIter<'a, T> {
    type Item = &'a T;

    fn next(&mut self) -> Option<&'a T> {
        loop {
            if let Some(x) = self.current.next() {
                self.left -= 1;
                return Some(x);
            }
            let r = self.runs.next()?;
            self.current = self
                .items
                .get(r.start..r.start + r.len)
                .unwrap_or_default()
                .iter();
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl<T> ExactSizeIterator for ListingIter<'_, T> {}

impl<T> std::iter::FusedIterator for ListingIter<'_, T> {}

/// Sorts `records` by `order_key`, then by `ties` among those of one key. A client's
/// records come item by item, most of them in order already: a few moves put them in place.
/// Else the keys are worked out once each and compared at once, the records moved once
/// (through `moved`).
pub(crate) fn sort_records<T: Clone, K: Ord + Copy>(
    records: &mut [T],
    order: &mut Vec<(K, u32)>,
    moved: &mut Vec<T>,
    order_key: impl Fn(&T) -> K,
    ties: impl Fn(&T, &T) -> std::cmp::Ordering,
) {
    if records.len() < 2 {
        return;
    }
    if sort_nearly_sorted(records, records.len().saturating_mul(4), &order_key, &ties) {
        return;
    }
    order.clear();
    // Fits: a client's records are fewer than 32 bits count (each item makes a few).
    order.extend(records.iter().enumerate().map(|(i, r)| (order_key(r), i as u32)));
    order.sort_unstable_by_key(|o| o.0);
    let mut i = 0;
    while i < order.len() {
        let j = i + order[i..].iter().take_while(|o| o.0 == order[i].0).count();
        if j - i > 1 {
            order[i..j].sort_by(|a, b| ties(&records[a.1 as usize], &records[b.1 as usize]));
        }
        i = j;
    }
    moved.clear();
    moved.extend(order.iter().map(|o| records[o.1 as usize].clone()));
    records.clone_from_slice(moved);
}

/// Sorts `items` by `key`, then by `ties` among those of one key, by insertion when that
/// takes at most `budget` moves (items nearly in order); else stops, leaving `items` a
/// permutation of themselves, and returns `false`. An item after those before it (the most
/// common case) costs one key.
fn sort_nearly_sorted<T, K: Ord + Copy>(
    items: &mut [T],
    mut budget: usize,
    key: impl Fn(&T) -> K,
    ties: impl Fn(&T, &T) -> std::cmp::Ordering,
) -> bool {
    let Some(first) = items.first() else {
        return true;
    };
    // The key of the last of the items in order so far (the greatest).
    let mut last = key(first);
    for i in 1..items.len() {
        let k = key(&items[i]);
        match k.cmp(&last) {
            std::cmp::Ordering::Greater => {
                last = k;
                continue;
            }
            std::cmp::Ordering::Equal if ties(&items[i - 1], &items[i]).is_le() => continue,
            _ => {}
        }
        // Moved before every one that goes after it (the last of those in order stays last).
        let mut at = i;
        while at > 0
            && key(&items[at - 1])
                .cmp(&k)
                .then_with(|| ties(&items[at - 1], &items[i]))
                .is_gt()
        {
            if budget == 0 {
                return false;
            }
            budget -= 1;
            at -= 1;
        }
        // Most go one place back: a swap, without a call to move memory.
        if at + 1 == i {
            items.swap(at, i);
        } else {
            items[at..=i].rotate_right(1);
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A record: (date, client rank, seq).
    type Rec = (u8, usize, u8);

    /// Records made client by client from (date, seq) pairs, each client's sorted, and all
    /// of them sorted.
    fn made(clients: &[&[(u8, u8)]]) -> (Records<Rec>, Vec<Rec>) {
        let mut records = Records::new();
        let mut runs = Vec::new();
        let mut all = Vec::new();
        for (rank, recs) in clients.iter().enumerate() {
            let mark = records.made();
            for &(date, seq) in *recs {
                records.push((date, rank, seq));
                all.push((date, rank, seq));
            }
            records.made_since(mark).sort_unstable();
            records.runs_since(mark, rank, |r| r.0, &mut runs);
        }
        records.order(runs);
        all.sort_unstable();
        (records, all)
    }

    #[test]
    fn reads_by_date_then_client_without_moving_records() {
        let (records, expected) = made(&[
            &[(3, 0), (1, 1), (1, 0)],
            &[],
            &[(2, 0), (1, 0)],
            &[(3, 5), (3, 4)],
        ]);
        assert_eq!(records.len(), expected.len());
        assert_eq!(records.iter().cloned().collect::<Vec<_>>(), expected);
        assert_eq!(records.iter().len(), expected.len());
        assert_eq!(records.iter().cloned().collect::<Vec<_>>(), expected);
        // Made in client order, the records stay there.
        assert_eq!(records.items[0], (1, 0, 0));
        assert_eq!(records.items[3], (1, 2, 0));
        assert_eq!(format!("{records:?}"), format!("{expected:?}"));
    }

    proptest::proptest! {
        #[test]
        fn runs_grouped_by_date_are_runs_sorted_by_date_and_rank(
            dates in proptest::collection::vec(proptest::collection::vec(0u8..6, 0..4), 0..40)
        ) {
            // Client by client (ranks ascending), each client's dates distinct and ascending.
            let mut runs: Vec<RunOf<u8>> = Vec::new();
            for (rank, ds) in dates.iter().enumerate() {
                let mut ds = ds.clone();
                ds.sort_unstable();
                ds.dedup();
                for d in ds {
                    runs.push((d, rank, runs.len() * 2, 2));
                }
            }
            let mut sorted = runs.clone();
            sorted.sort_unstable_by_key(|r| (r.0, r.1));
            group_by_date(&mut runs);
            proptest::prop_assert_eq!(runs, sorted);
        }

        /// Records nearly in order (runs with a few out of place) or not at all, with keys
        /// alike: sorted by key, then by their ties, whichever way they are put in order.
        #[test]
        fn records_are_sorted_by_key_then_ties(
            records in proptest::collection::vec((0u8..4, 0u8..8, proptest::num::u8::ANY), 0..60),
            nearly in proptest::bool::ANY,
        ) {
            let mut records = records;
            if nearly {
                records.sort_unstable_by_key(|r| r.0);
            }
            let mut expected = records.clone();
            expected.sort_unstable_by_key(|r| (r.0, r.1, r.2));
            let (mut order, mut moved) = (Vec::new(), Vec::new());
            sort_records(&mut records, &mut order, &mut moved, |r| r.0, |a, b| (a.1, a.2).cmp(&(b.1, b.2)));
            proptest::prop_assert_eq!(records, expected);
        }

        /// Out of budget, the insertion stops with every record still there once.
        #[test]
        fn an_insertion_out_of_moves_leaves_a_permutation(
            keys in proptest::collection::vec(0u8..16, 0..40),
            budget in 0usize..20,
        ) {
            let mut order: Vec<(u8, u32)> = (0u32..).zip(&keys).map(|(i, &k)| (k, i)).collect();
            let done = sort_nearly_sorted(&mut order, budget, |o| o.0, |_, _| std::cmp::Ordering::Equal);
            let inversions = (0..keys.len())
                .flat_map(|i| (i + 1..keys.len()).map(move |j| (i, j)))
                .filter(|&(i, j)| keys[i] > keys[j])
                .count();
            proptest::prop_assert_eq!(done, inversions <= budget);
            if done {
                proptest::prop_assert!(order.is_sorted_by_key(|o| o.0));
            }
            let mut seen: Vec<u32> = order.iter().map(|o| o.1).collect();
            seen.sort_unstable();
            proptest::prop_assert_eq!(seen, (0u32..).take(keys.len()).collect::<Vec<_>>());
        }
    }

    #[test]
    fn runs_out_of_client_order_are_sorted() {
        let mut records: Records<u8> = Records::new();
        for r in [5, 6, 7] {
            records.push(r);
        }
        // Ranks out of order: (date, rank) decides.
        records.order(vec![(2, 1, 0, 1), (1, 2, 1, 1), (1, 0, 2, 1)]);
        assert_eq!(records.iter().cloned().collect::<Vec<_>>(), [7, 6, 5]);
    }

    #[test]
    fn runs_in_both_orders_read_as_one_and_empty_reads_empty() {
        // Made in plan order already: one run.
        let (records, expected) = made(&[&[(1, 0)], &[(1, 0), (2, 0)], &[(2, 0)]]);
        assert_eq!(records.iter().cloned().collect::<Vec<_>>(), expected);
        assert_eq!(records.runs.len(), 1);
        // The second client's record comes first: two runs.
        let (records, expected) = made(&[&[(2, 0)], &[(1, 0)]]);
        assert_eq!(records.iter().cloned().collect::<Vec<_>>(), expected);
        assert_eq!(records.runs.len(), 2);
        let empty: Records<u8> = Records::new();
        assert_eq!(empty.len(), 0);
        assert_eq!(empty.iter().next(), None);
        assert!(empty.iter().cloned().collect::<Vec<_>>().is_empty());
        let mut one = Records::new();
        one.push(1);
        one.push(2);
        one.order(vec![((), 0, 0, 2)]);
        assert_eq!(one.iter().cloned().collect::<Vec<_>>(), [1, 2]);
    }
}
