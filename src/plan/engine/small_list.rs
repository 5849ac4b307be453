//! A list that holds one element without allocating.

use std::fmt;
use std::ops::Deref;

/// A list that keeps a single element inline and allocates only for two or more: the
/// planner's adjustments of a candidate send, which are most often none or one. It reads as
/// a slice (`Deref<Target = [T]>`).
#[derive(Clone)]
pub(crate) struct SmallList<T>(Repr<T>);

#[derive(Clone)]
enum Repr<T> {
    One(T),
    /// None, or two and more.
    Many(Vec<T>),
}

impl<T> SmallList<T> {
    /// An empty list (no allocation).
    #[must_use]
    pub(crate) const fn new() -> Self {
        SmallList(Repr::Many(Vec::new()))
    }

    /// A list of one element (no allocation).
    #[must_use]
    pub(crate) const fn one(value: T) -> Self {
        SmallList(Repr::One(value))
    }

    /// Appends an element.
    pub(crate) fn push(&mut self, value: T) {
        match &mut self.0 {
            Repr::Many(v) if v.is_empty() && v.capacity() == 0 => self.0 = Repr::One(value),
            Repr::Many(v) => v.push(value),
            Repr::One(_) => {
                if let Repr::One(first) = std::mem::replace(&mut self.0, Repr::Many(Vec::new())) {
                    self.0 = Repr::Many(vec![first, value]);
                }
            }
        }
    }

    /// Appends the elements of `values`.
    pub(crate) fn extend_from(&mut self, values: impl IntoIterator<Item = T>) {
        for v in values {
            self.push(v);
        }
    }

    /// Whether the list is empty.
    #[must_use]
    pub(crate) fn is_empty(&self) -> bool {
        self.as_slice().is_empty()
    }

    /// The elements as a slice.
    #[must_use]
    pub(crate) fn as_slice(&self) -> &[T] {
        match &self.0 {
            Repr::One(v) => std::slice::from_ref(v),
            Repr::Many(v) => v,
        }
    }

    /// The elements as a `Vec`.
    #[must_use]
    pub(crate) fn into_vec(self) -> Vec<T> {
        match self.0 {
            Repr::One(v) => vec![v],
            Repr::Many(v) => v,
        }
    }
}

impl<T> Default for SmallList<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Deref for SmallList<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        self.as_slice()
    }
}

impl<T> From<Vec<T>> for SmallList<T> {
    fn from(mut v: Vec<T>) -> Self {
        if v.len() == 1 {
            if let Some(only) = v.pop() {
                return SmallList::one(only);
            }
        }
        SmallList(Repr::Many(v))
    }
}

impl<T> FromIterator<T> for SmallList<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        let mut iter = iter.into_iter();
        let Some(first) = iter.next() else {
            return SmallList::new();
        };
        let Some(second) = iter.next() else {
            return SmallList::one(first);
        };
        let mut v = Vec::with_capacity(2 + iter.size_hint().0);
        v.push(first);
        v.push(second);
        v.extend(iter);
        SmallList(Repr::Many(v))
    }
}

impl<'a, T> IntoIterator for &'a SmallList<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.as_slice().iter()
    }
}

impl<T> IntoIterator for SmallList<T> {
    type Item = T;
    type IntoIter = std::vec::IntoIter<T>;
    fn into_iter(self) -> Self::IntoIter {
        self.into_vec().into_iter()
    }
}

impl<T: PartialEq> PartialEq for SmallList<T> {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl<T: Eq> Eq for SmallList<T> {}

impl<T: fmt::Debug> fmt::Debug for SmallList<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.as_slice()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_one_inline_and_reads_as_the_vec_it_stands_for() {
        for n in 0..5u32 {
            let v: Vec<u32> = (0..n).collect();
            let collected: SmallList<u32> = v.iter().copied().collect();
            let mut pushed = SmallList::new();
            for x in &v {
                pushed.push(*x);
            }
            let converted = SmallList::from(v.clone());
            for list in [&collected, &pushed, &converted] {
                assert_eq!(list.as_slice(), v.as_slice());
                assert_eq!(list.len(), v.len());
                assert_eq!(list.is_empty(), v.is_empty());
                assert_eq!(matches!(list.0, Repr::One(_)), n == 1, "{n}");
                assert_eq!(list.clone().into_vec(), v);
                assert_eq!(format!("{list:?}"), format!("{v:?}"));
            }
            assert_eq!(collected, pushed);
            assert_eq!(converted.into_iter().collect::<Vec<_>>(), v);
        }
    }
}
