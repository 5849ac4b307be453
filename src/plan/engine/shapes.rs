//! Item shapes: items planned the same way share one working out.
//!
//! What the planner decides about an item of a client whose items never move each other (no
//! notice grouped across items, no gap between a client's messages) depends on a few facts
//! of the item (kind, status, dates, repeat settings, currency, which minimum balances it is
//! under) and of its client (zone, send time, effective rules, who can be written to),
//! beside the plan's own (now, horizon, policy). Portfolios are full of items
//! that share them: invoices issued on one day, in one currency, to clients with the same
//! settings. The first item of a shape is planned in full and what it made (events and
//! suppressed entries) is kept; every later one gets a copy made its own.
//!
//! An item's sends count too: each one's rule (or that it was manual), occurrence and local
//! date, when its key is the one the planner gives that rule and occurrence of the item (a
//! copy names the later item's own sends where the first named its). Items with pauses
//! (their own or their client's), sends of rules the policy no longer has or keyed otherwise
//! are always planned in full: the shape holds only what is listed here, so the copy is what
//! planning the item would make.

use super::*;
use chrono::Datelike as _;

use crate::time::LocalDates;

/// The facts of a client an item's plan depends on.
#[derive(Clone, PartialEq, Eq, Hash)]
struct ClientShape {
    tz: TimeZone,
    send_time: NaiveTime,
    reminders_off: bool,
    /// The roles of the contacts to notify (none: no contact; every role has a bit). The
    /// payment term is not here: the item's shape holds the due date it makes.
    roles: u8,
    /// The rules the client's tags leave out (one bit a rule).
    excluded: u64,
    /// Its effective rules, when they are not the policy's own (most clients').
    rules: Option<Box<[EffRule]>>,
}

/// The facts an item's plan depends on: its client's shape and its own, packed in words
/// (so a shape is hashed and compared a word at a time):
/// - the client's shape and the item's sends (see [`Sent`], by number in the plan's table
///   of them, 0: none);
/// - the issue and sent dates;
/// - the due and settled dates (0: none);
/// - the repeat's days (bit 32: set), the kind, the status and whether reminders are on;
/// - the repeat's count (bit 32: set) and the currency of the balance (0: none);
/// - the rules whose minimum balance the item is under (one bit a rule).
#[derive(Clone, Copy, Eq)]
pub(crate) struct ItemShape([u64; 6]);

impl PartialEq for ItemShape {
    fn eq(&self, other: &Self) -> bool {
        // Every word at once, without a call or a branch a word.
        (self.0.iter().zip(&other.0)).fold(0, |d, (a, b)| d | (a ^ b)) == 0
    }
}

impl std::hash::Hash for ItemShape {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        for w in self.0 {
            state.write_u64(w);
        }
    }
}

/// A date in 32 bits, never 0: its year (made positive) and its day of the year.
fn day_bits(d: NaiveDate) -> u64 {
    // Fits: chrono's years lie within ±2^18 (so this is positive), its days of the year
    // within 9 bits.
    let year = u64::from((d.year() + (1 << 18)) as u32);
    (year << 9) | u64::from(d.ordinal())
}

fn opt_day_bits(d: Option<NaiveDate>) -> u64 {
    d.map_or(0, day_bits)
}

/// A number in 33 bits: bit 32 set when there is one.
fn opt_u32_bits(v: Option<u32>) -> u64 {
    v.map_or(0, |v| (1 << 32) | u64::from(v))
}

/// What one send about an item is to its plan: its rule's position (`u16::MAX`: a manual
/// send), its occurrence and its local date.
type Sent = (u16, u32, NaiveDate);

/// What planning the first item of a shape made: runs of the kept records, and the item they
/// are about.
#[derive(Clone, Copy)]
struct Kept {
    item: ItemIx,
    /// Its history entries, in the order the item's sends were read.
    entries: (u32, u32),
    due: (u32, u32),
    upcoming: (u32, u32),
    suppressed: (u32, u32),
}

/// The shapes of one plan and what their first items made.
pub(crate) struct Shapes {
    on: bool,
    /// Items kept and items that got a copy so far: a plan whose items are seldom alike
    /// stops looking for shapes (see [`Shapes::keep`]).
    kept_items: u32,
    copied_items: u32,
    clients: HashMap<ClientShape, u32>,
    /// By shape: what its first item made, or `None` when that cannot be copied (it named
    /// something of its own beyond the item and client, which no item with this shape should).
    kept: HashMap<ItemShape, Option<Kept>>,
    due: Vec<EventRecord>,
    upcoming: Vec<EventRecord>,
    suppressed: Vec<SuppressedRecord>,
    entries: Vec<u32>,
    /// Lists of sends by number (from 1), and the one being read.
    sends: HashMap<Box<[Sent]>, u32>,
    reading: Vec<Sent>,
    /// The rules with a minimum balance.
    minimums: Vec<usize>,
}

impl Shapes {
    /// More shapes than this in one plan and items are no longer alike enough to gain: the
    /// table stops growing (memory stays bounded), and items of new shapes are planned in full.
    const MAX_SHAPES: usize = 1 << 16;
    /// How often (in items kept) whether shapes pay is reviewed.
    const REVIEW: u32 = 4096;

    pub(crate) fn new(planner: &Planner) -> Self {
        Shapes {
            on: !planner.any_group && planner.rules.len() <= 64,
            kept_items: 0,
            copied_items: 0,
            clients: HashMap::default(),
            kept: HashMap::default(),
            due: Vec::new(),
            upcoming: Vec::new(),
            suppressed: Vec::new(),
            entries: Vec::new(),
            sends: HashMap::default(),
            reading: Vec::new(),
            minimums: (planner.rules.iter().enumerate())
                .filter(|(_, r)| !r.min_balance.is_empty())
                .map(|(i, _)| i)
                .collect(),
        }
    }

    /// The shape of the client of `cx` (`eff`: its effective rules), when its items can
    /// share their plans: its items never move each other, and it has no pauses.
    pub(crate) fn client(
        &mut self,
        planner: &Planner,
        cx: &ClientCtx<'_>,
        reminders_off: bool,
        eff: &[EffRule],
    ) -> Option<u32> {
        if !self.on || cx.gap != 0 || !cx.client.pauses.is_empty() {
            return None;
        }
        let excluded = (planner.rules.iter().enumerate())
            .filter(|(_, r)| r.excludes_client(cx.client))
            .fold(0u64, |m, (i, _)| m | 1 << i);
        let shape = ClientShape {
            tz: cx.tz,
            send_time: cx.send_time,
            reminders_off,
            roles: cx.contacts.iter().fold(0, |m, c| m | c.role.bit()),
            excluded,
            rules: (eff != planner.default_rules.as_slice()).then(|| eff.into()),
        };
        let next = u32::try_from(self.clients.len()).ok()?;
        Some(*self.clients.entry(shape).or_insert(next))
    }

    /// The shape of `it` (with its status, balance and due date as planned) of a client of
    /// shape `client` in zone `tz`, whose sends are `history`, when it has one: no pauses,
    /// and each send manual or keyed as the planner keys its rule and occurrence
    /// ([`HistRef::own_key`]).
    pub(crate) fn item(
        &mut self,
        planner: &Planner,
        client: u32,
        it: &ItemCtx<'_>,
        history: &[HistRef],
        tz: TimeZone,
        dates: &mut LocalDates,
    ) -> Option<ItemShape> {
        let item = it.item;
        if !self.on || !item.pauses.is_empty() {
            return None;
        }
        let sends = if history.is_empty() {
            0
        } else {
            self.reading.clear();
            for h in history {
                let rule = match h.rule() {
                    HistRule::Manual => u16::MAX,
                    HistRule::Rule(r) if h.own_key() => r.raw(),
                    HistRule::Rule(_) | HistRule::Unknown => return None,
                };
                self.reading
                    .push((rule, h.occurrence, dates.date_at(tz, h.sent_at())));
            }
            match self.sends.get(self.reading.as_slice()) {
                Some(&n) => n,
                None => {
                    let n = u32::try_from(self.sends.len() + 1).ok()?;
                    self.sends.insert(self.reading.as_slice().into(), n);
                    n
                }
            }
        };
        let below_minimum = match it.balance {
            Some(b) => self.minimums.iter().fold(0u64, |m, &r| {
                let rule = &planner.rules[r];
                let under = rule
                    .min_balance
                    .iter()
                    .find(|min| min.currency() == b.currency())
                    .is_some_and(|min| b.minor() < min.minor());
                if under { m | 1 << r } else { m }
            }),
            None => 0,
        };
        let flags = (u64::from(item.kind as u8) << 33)
            | (u64::from(it.status as u8) << 41)
            | (u64::from(item.reminders) << 49);
        let currency = it.balance.map_or(0, |b| u64::from(b.currency().bits()));
        Some(ItemShape([
            u64::from(client) | (u64::from(sends) << 32),
            day_bits(item.issued_on) | (day_bits(item.sent_date()) << 32),
            opt_day_bits(it.due) | (opt_day_bits(item.settled_date()) << 32),
            opt_u32_bits(item.reminder_every_days) | flags,
            opt_u32_bits(item.reminder_count) | (currency << 33),
            below_minimum,
        ]))
    }

    /// Makes what the first item of `shape` made, for `item` of `client` whose sends are
    /// `history`; `false` when no item of that shape was kept (the item is to be planned in
    /// full).
    pub(crate) fn replay(
        &mut self,
        shape: &ItemShape,
        item: ItemIx,
        client: ClientIx,
        history: &[HistRef],
        plan: &mut Schedule<'_>,
    ) -> bool {
        let Some(Some(kept)) = self.kept.get(shape) else {
            return false;
        };
        self.copied_items = self.copied_items.saturating_add(1);
        let from = kept.item;
        let entries = &self.entries[range(kept.entries)];
        // A key of the first item's, or of one of its sends: the same of this item's.
        let key = |k: KeyRef| match k {
            KeyRef::History(e) => (entries.iter().position(|&f| f == e))
                .and_then(|at| history.get(at))
                .map_or(k, |h| KeyRef::History(h.entry)),
            k => k.with_item(from, item),
        };
        let event = |e: &EventRecord| EventRecord {
            key: key(e.key),
            client,
            members: e.members.with_item(from, item),
            ..*e
        };
        for e in &self.due[range(kept.due)] {
            plan.due.push(event(e));
        }
        for e in &self.upcoming[range(kept.upcoming)] {
            plan.upcoming.push(event(e));
        }
        for s in &self.suppressed[range(kept.suppressed)] {
            plan.suppressed.push(SuppressedRecord {
                key: key(s.key),
                reason: s.reason.with_keys(key),
                client,
                item,
                ..*s
            });
        }
        true
    }

    /// Keeps what planning `item` of `client` (of shape `shape`, whose sends are `history`)
    /// made since `marks` (the plan's due, upcoming and suppressed records made before it),
    /// for the items of its shape to come.
    pub(crate) fn keep(
        &mut self,
        shape: ItemShape,
        item: ItemIx,
        client: ClientIx,
        history: &[HistRef],
        plan: &mut Schedule<'_>,
        marks: [usize; 3],
    ) {
        if self.kept.len() >= Self::MAX_SHAPES || self.kept.contains_key(&shape) {
            return;
        }
        // Keeping costs about a tenth of planning an item, a copy saves nine tenths: when
        // fewer than one item in eight gets a copy, looking for shapes costs more than it saves.
        self.kept_items = self.kept_items.saturating_add(1);
        if self.kept_items % Self::REVIEW == 0 && self.copied_items < self.kept_items / 8 {
            self.on = false;
        }
        let due = plan.due.since(marks[0]);
        let upcoming = plan.upcoming.since(marks[1]);
        let suppressed = plan.suppressed.since(marks[2]);
        // What can be copied names the item, its client and its sends, and nothing else.
        let ours = |k: &KeyRef| match *k {
            KeyRef::History(e) => history.iter().any(|h| h.entry == e),
            k => k.names_only(item),
        };
        let event = |e: &EventRecord| {
            e.client == client && e.info == u32::MAX && ours(&e.key) && e.members.names_only(item)
        };
        let copies = due.iter().chain(upcoming).all(event)
            && suppressed
                .iter()
                .all(|s| s.client == client && s.item == item && ours(&s.key) && s.reason.names_only(ours));
        if !copies {
            self.kept.insert(shape, None);
            return;
        }
        let due = run_of(&mut self.due, due);
        let upcoming = run_of(&mut self.upcoming, upcoming);
        let suppressed = run_of(&mut self.suppressed, suppressed);
        let start = u32::try_from(self.entries.len()).ok();
        self.entries.extend(history.iter().map(|h| h.entry));
        let entries = start.zip(u32::try_from(self.entries.len()).ok());
        let kept = match (due, upcoming, suppressed, entries) {
            (Some(due), Some(upcoming), Some(suppressed), Some(entries)) => Some(Kept {
                item,
                entries,
                due,
                upcoming,
                suppressed,
            }),
            _ => None,
        };
        self.kept.insert(shape, kept);
    }
}

/// Appends `records` to `to`: where they lie in it.
fn run_of<T: Copy>(to: &mut Vec<T>, records: &[T]) -> Option<(u32, u32)> {
    let start = u32::try_from(to.len()).ok()?;
    to.extend_from_slice(records);
    Some((start, u32::try_from(to.len()).ok()?))
}

/// A run `(start, end)` of a table.
fn range((start, end): (u32, u32)) -> std::ops::Range<usize> {
    start as usize..end as usize
}

/// Whether `key` is `rule/item/occurrence`, the key the planner gives that occurrence.
#[cfg(test)]
pub(crate) fn is_own_key(key: &[u8], rule: &str, item: &str, occurrence: u32) -> bool {
    own_key_item(key, rule, item.len(), occurrence) == Some(item.as_bytes())
}

/// The part of `key` that must be the item's id for `key` to be `rule/item/occurrence`
/// (see [`is_own_key`]) for an item whose id is `item_len` bytes long, when all the rest
/// is: read from the key, the rule and lengths alone, so that the item's id, held apart
/// from the history entry, is compared where it is read anyway.
pub(crate) fn own_key_item<'k>(
    key: &'k [u8],
    rule: &str,
    item_len: usize,
    occurrence: u32,
) -> Option<&'k [u8]> {
    let digits = occurrence.checked_ilog10().map_or(1, |l| l as usize + 1);
    // `rule`, a slash, the item, a slash and the digits, or not the key.
    let item_start = rule.len().checked_add(1)?;
    let len = item_start.checked_add(item_len)?.checked_add(1 + digits)?;
    if key.len() != len {
        return None;
    }
    let (head, rest) = key.split_at(item_start);
    let (item, tail) = rest.split_at(item_len);
    // As many digits as `occurrence` has and its value: no leading zeros either. At most
    // ten digits: the sum fits.
    let value = (tail.strip_prefix(b"/")?.iter()).try_fold(0u64, |n, &d| {
        d.is_ascii_digit().then(|| n * 10 + u64::from(d - b'0'))
    })?;
    (head.strip_prefix(rule.as_bytes()) == Some(b"/") && value == u64::from(occurrence)).then_some(item)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_own_key_is_the_planners_key_of_that_rule_item_and_occurrence() {
        let rules = ["due", "d", "due/x", ""];
        let items = ["inv-1", "i", "inv-1/2", "é", ""];
        let occurrences = [0, 1, 7, 9, 10, 12, 99, 100, 1_000_000_000, u32::MAX];
        let mut keys: Vec<String> = Vec::new();
        for r in rules {
            for i in items {
                for o in occurrences {
                    keys.push(format!("{r}/{i}/{o}"));
                    keys.push(format!("{r}/{i}/0{o}"));
                    keys.push(format!("{r}/{i}/{o}0"));
                    keys.push(format!("{r}/{i}/+{o}"));
                    keys.push(format!("{r}/{i}/-{o}"));
                    keys.push(format!("{r}/{i}/{o}/"));
                    keys.push(format!("{r}/{i}{o}"));
                    keys.push(format!("{r}{i}/{o}"));
                    keys.push(format!("{r}/{i}/{}", u64::from(o) + (1 << 32)));
                }
            }
        }
        keys.extend(["", "/", "//", "///", "due//1", "due/inv-1/", "due/inv-1/x"].map(String::from));
        keys.sort();
        keys.dedup();
        for key in &keys {
            for r in rules {
                for i in items {
                    for o in occurrences {
                        let expected = *key == format!("{r}/{i}/{o}");
                        assert_eq!(
                            is_own_key(key.as_bytes(), r, i, o),
                            expected,
                            "{key:?} of {r:?}, {i:?}, {o}"
                        );
                    }
                }
            }
        }
        for r in rules {
            for i in items {
                for o in occurrences {
                    let key = format!("{r}/{i}/{o}");
                    assert!(keys.contains(&key), "{key:?}");
                    assert_eq!(
                        own_key_item(key.as_bytes(), r, i.len(), o),
                        Some(i.as_bytes()),
                        "{key:?}"
                    );
                }
            }
        }
    }
}
