//! History indexed for planning: each entry's view per item, packed in a word or two, in
//! the order items are planned, and what clients' notices and undelivered sends need.

use super::*;

/// One history entry's view for one item: what the planner reads, kept together so the
/// entries themselves are not visited.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HistRef {
    /// When it was sent (seconds since 1970, of which the local date is read) and its rule,
    /// in one word.
    pub(crate) stamp: u64,
    pub(crate) occurrence: u32,
    /// Its entry's position in the history.
    pub(crate) entry: u32,
}

const _: () = assert!(std::mem::size_of::<HistRef>() <= 16);

/// Seconds of every instant chrono holds (within ±2^43) made non-negative.
const STAMP_EPOCH: i64 = 1 << 43;

/// The stamp's bit for [`HistRef::own_key`], above the seconds (44 bits from bit 16).
const OWN_KEY_BIT: u32 = 63;

impl HistRef {
    /// `own_key`: the entry's key is `rule/item/occurrence` of its rule, the item of this view
    /// and its occurrence (see [`HistRef::own_key`]).
    pub(crate) fn new(
        rule: HistRule,
        occurrence: u32,
        sent_at: DateTime<Utc>,
        entry: u32,
        own_key: bool,
    ) -> Self {
        let rule = match rule {
            HistRule::Rule(r) => r.raw().min(u16::MAX - 2),
            HistRule::Manual => u16::MAX - 1,
            HistRule::Unknown => u16::MAX,
        };
        let secs = u64::try_from(sent_at.timestamp().saturating_add(STAMP_EPOCH)).unwrap_or(0);
        HistRef {
            stamp: (secs << 16) | u64::from(rule) | (u64::from(own_key) << OWN_KEY_BIT),
            occurrence,
            entry,
        }
    }

    pub(crate) fn rule(&self) -> HistRule {
        match self.stamp as u16 {
            u16::MAX => HistRule::Unknown,
            r if r == u16::MAX - 1 => HistRule::Manual,
            r => HistRule::Rule(RuleIx::from_raw(r)),
        }
    }

    /// The second it was sent, since 1970 (its fraction dropped: no date depends on it).
    pub(crate) fn sent_at(&self) -> i64 {
        i64::try_from((self.stamp & !(1 << OWN_KEY_BIT)) >> 16).unwrap_or(0) - STAMP_EPOCH
    }

    /// Whether its entry is keyed as the planner keys its rule's occurrence of its item
    /// (read while indexing, when the entry is at hand, so planning never visits it).
    pub(crate) fn own_key(&self) -> bool {
        self.stamp >> OWN_KEY_BIT != 0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HistRule {
    Rule(RuleIx),
    Manual,
    Unknown,
}

/// History indexed by item without an allocation per item: the entries of the item planned
/// `k`-th are `refs[start[k]..start[k + 1]]`, so the planner reads history in the order it
/// plans, one run after another, whatever order the history came in.
pub(crate) struct HistoryIndex<'h> {
    pub(crate) start: Vec<u32>,
    pub(crate) refs: Vec<HistRef>,
    /// The last send to each client, kept only where some client has a minimum gap.
    pub(crate) client_last: HashMap<&'h str, DateTime<Utc>>,
    /// Keys of grouped notices (`rule/client/currency/g…`): a notice of the same items and
    /// occurrences is already recorded.
    pub(crate) group_keys: HashSet<&'h str>,
    /// Statements and standing notices sent, per client.
    pub(crate) client_events: HashMap<&'h str, Vec<account::ClientSend<'h>>>,
    /// Entries of sends that failed for good or whose outcome is unknown (and were not
    /// released since), per client: each is explained while it is within a plan's window.
    pub(crate) undelivered: HashMap<&'h str, Vec<u32>>,
    /// Keys of the planner's shape (`rule/item/occurrence`, `rule/client/date`) held by
    /// entries the planner does not read as a send of what they name: an entry of another
    /// rule, a manual send, one listing none of the items its key names, a statement
    /// recorded under another client. A key in history is never planned again: events of
    /// these keys are left out of the plan.
    pub(crate) stray: HashSet<&'h str>,
}

impl<'h> HistoryIndex<'h> {
    /// The entries of the item planned `k`-th.
    pub(crate) fn for_item(&self, k: usize) -> &[HistRef] {
        let at = |k: usize| self.start.get(k).map_or(0, |&s| s as usize);
        self.refs.get(at(k)..at(k + 1)).unwrap_or_default()
    }
}

impl Planner {
    /// Indexes `history` by the order items are planned in (`find` pushes the places in it
    /// of the items of some ids, `u32::MAX` for an item not planned now; `items` is their
    /// number).
    pub(crate) fn index_history<'h>(
        &self,
        history: &'h [HistoryEntry],
        mut find: impl FnMut(&[&'h str], &mut Vec<u32>),
        items: usize,
        gaps: bool,
    ) -> HistoryIndex<'h> {
        let rule_ids: HashMap<&str, RuleIx> = self
            .rules
            .iter()
            .enumerate()
            .map(|(i, r)| (r.id.as_str(), RuleIx::at(i)))
            .collect();
        let mut index = HistoryIndex {
            start: Vec::new(),
            refs: Vec::new(),
            client_last: HashMap::default(),
            group_keys: HashSet::default(),
            client_events: HashMap::default(),
            undelivered: HashMap::default(),
            stray: HashSet::default(),
        };
        // Entries whose key may be of the planner's shape without the planner reading them
        // as a send of what it names (see `stray`), checked once the ids are compared.
        let mut unsure: Vec<u32> = Vec::new();
        // Entries of grouped notices' keys (`rule/client/currency/g…`), whose keys hold unless
        // the entry was released.
        let mut grouped_entries: Vec<u32> = Vec::new();
        // Sends that failed for good or whose outcome is unknown, and the latest release of
        // each key released (read in the same pass).
        let mut undelivered: Vec<u32> = Vec::new();
        let mut released: HashMap<&str, DateTime<Utc>> = HashMap::default();
        let grouped = self.any_group;
        // Per item of an entry (of a stage of its reminders), its view and where its item is
        // planned (`u32::MAX`: not planned now; history of items paid and gone, deleted, is
        // not needed), its item's id looked up with the next few (which overlaps the reads
        // of the lookups; each id is read there first).
        let mut views: Vec<HistRef> = Vec::with_capacity(history.len());
        let mut seqs: Vec<u32> = Vec::with_capacity(history.len());
        let mut batch: Vec<&str> = Vec::with_capacity(places::BATCH);
        // Hosts often list history client by client: a run of one client needs one lookup.
        let mut run: Option<(&str, DateTime<Utc>)> = None;
        let mut last_rule: Option<(&str, HistRule)> = None;
        // Views of the batch whose key is all but the item's id of the planner's own key of
        // their rule, item and occurrence: the view, that part of the key and the item's place
        // in the batch. The ids are compared once the batch's lookups have read them.
        let mut maybe_own: Vec<(usize, &[u8], usize)> = Vec::with_capacity(places::BATCH);
        for (e, h) in history.iter().enumerate() {
            // A test send (a preview recorded, `preview/RULE/ITEM`) went to whoever tested
            // it, as no stage of a reminder: it neither stands for, spaces nor supersedes one,
            // nor counts toward the gap.
            if h.key.as_bytes().starts_with(b"preview/") {
                continue;
            }
            match h.outcome {
                HistoryOutcome::Sent => {}
                HistoryOutcome::Released => {
                    let at = released.entry(h.key.as_str()).or_insert(h.sent_at);
                    *at = (*at).max(h.sent_at);
                    continue;
                }
                // Fits: `check_count` refused more history entries than 32 bits count.
                _ => undelivered.push(e as u32),
            }
            if grouped && h.key.as_str().bytes().filter(|b| *b == b'/').count() >= 3 {
                grouped_entries.push(e as u32);
            }
            let rule = match &h.rule {
                None => HistRule::Manual,
                // Entries of one rule often follow each other: the last rule read is tried
                // first.
                Some(id) => match last_rule {
                    Some((last, r)) if last == id.as_str() => r,
                    _ => {
                        let r = rule_ids
                            .get(id.as_str())
                            .map_or(HistRule::Unknown, |&i| HistRule::Rule(i));
                        last_rule = Some((id.as_str(), r));
                        r
                    }
                },
            };
            // The gap is between reminders about items: statements and standing notices go
            // on their own dates and do not count.
            let of_account =
                matches!((rule, &h.rule), (HistRule::Unknown, Some(id)) if self.is_account_rule(id.as_str()));
            match &mut run {
                _ if !gaps || of_account => {}
                Some((client, last)) if *client == h.client.as_str() => *last = (*last).max(h.sent_at),
                _ => {
                    if let Some((client, last)) = run.take() {
                        let e = index.client_last.entry(client).or_insert(last);
                        *e = (*e).max(last);
                    }
                    run = Some((h.client.as_str(), h.sent_at));
                }
            }
            if let (HistRule::Unknown, Some(id)) = (rule, &h.rule) {
                if of_account {
                    // Read as its client's send of its rule: its key is found there when it
                    // is that client's.
                    if !is_client_key(h.key.as_str(), id.as_str(), h.client.as_str()) {
                        unsure.push(e as u32);
                        // The key of another client's, or another rule's: held, but no send of
                        // this client's of this rule.
                        if self.is_planners_key_shape(h.key.as_str()) {
                            continue;
                        }
                    }
                    index
                        .client_events
                        .entry(h.client.as_str())
                        .or_default()
                        .push(account::ClientSend {
                            rule: id.as_str(),
                            sent_at: h.sent_at,
                            key: &h.key,
                            items: &h.items,
                        });
                    // A statement or standing notice lists items but is no stage of their
                    // reminders: it neither supersedes nor spaces them.
                    continue;
                }
            }
            // Fits: `check_count` refused more history entries than 32 bits count.
            let entry = e as u32;
            let mut may_be_own = false;
            for hi in &h.items {
                if let HistRule::Rule(r) = rule {
                    let id = self.rules.get(r.get()).map_or("", |r| r.id.as_str());
                    if let Some(part) =
                        shapes::own_key_item(h.key.as_bytes(), id, hi.item.as_str().len(), hi.occurrence)
                    {
                        maybe_own.push((views.len(), part, batch.len()));
                        may_be_own = true;
                    }
                }
                views.push(HistRef::new(rule, hi.occurrence, h.sent_at, entry, false));
                batch.push(hi.item.as_str());
                if batch.len() == places::BATCH {
                    find(&batch, &mut seqs);
                    own_keys(&mut views, &batch, &mut maybe_own, &mut unsure);
                    batch.clear();
                }
            }
            if !may_be_own {
                unsure.push(entry);
            }
        }
        find(&batch, &mut seqs);
        own_keys(&mut views, &batch, &mut maybe_own, &mut unsure);
        // Unsure entries none of whose views is keyed as the planner's own, whose key is of
        // the planner's shape for a rule of the policy: stray.
        unsure.sort_unstable();
        unsure.dedup();
        unsure.retain(|&e| {
            let own = {
                let from = views.partition_point(|v| v.entry < e);
                let of_entry = views.get(from..).unwrap_or_default();
                of_entry.iter().take_while(|v| v.entry == e).any(HistRef::own_key)
            };
            !own && self.is_planners_key_shape(history[e as usize].key.as_str())
        });
        let stray_entries = unsure;
        // A failed or unknown send released at or after it is as if never made: the key is
        // planned again.
        let is_released = |e: u32| {
            released
                .get(history[e as usize].key.as_str())
                .is_some_and(|at| *at >= history[e as usize].sent_at)
        };
        let gone: HashSet<u32> = if released.is_empty() {
            HashSet::default()
        } else {
            undelivered.iter().copied().filter(|&e| is_released(e)).collect()
        };
        // A key holds while some entry not released holds it (a release frees the entries it
        // releases, not a send of the same key).
        let holds = |e: &u32| !gone.contains(e);
        (index.group_keys).extend(
            grouped_entries
                .iter()
                .filter(|e| holds(e))
                .map(|&e| history[e as usize].key.as_str()),
        );
        (index.stray).extend(
            stray_entries
                .iter()
                .filter(|e| holds(e))
                .map(|&e| history[e as usize].key.as_str()),
        );
        if !gone.is_empty() {
            for &e in &gone {
                let h = &history[e as usize];
                if let Some(sends) = index.client_events.get_mut(h.client.as_str()) {
                    sends.retain(|s| !(std::ptr::eq(s.key, &h.key)));
                }
            }
            // Views and their places are side by side: both lose the same ones.
            let keep: Vec<bool> = views.iter().map(|v| !gone.contains(&v.entry)).collect();
            let mut at = keep.iter();
            views.retain(|_| at.next().copied().unwrap_or(true));
            let mut at = keep.iter();
            seqs.retain(|_| at.next().copied().unwrap_or(true));
        }
        for e in undelivered.into_iter().filter(|&e| !is_released(e)) {
            index
                .undelivered
                .entry(history[e as usize].client.as_str())
                .or_default()
                .push(e);
        }
        if let Some((client, last)) = run {
            let e = index.client_last.entry(client).or_insert(last);
            *e = (*e).max(last);
        }
        let mut counts = vec![0u32; items + 1];
        for &k in &seqs {
            if let Some(n) = counts.get_mut(k as usize + 1) {
                *n += 1;
            }
        }
        // Each item's entries where its run starts, in the order they came.
        for k in 0..items {
            counts[k + 1] += counts[k];
        }
        index.refs = by_place(&views, &seqs, &counts);
        index.start = counts;
        index
    }

    /// Whether `key` has the shape of a key the planner gives (`rule/item/occurrence` or
    /// `rule/client/date`: three parts, the first a rule of the policy); grouped notices'
    /// keys have more parts and are found apart (`HistoryIndex::group_keys`).
    fn is_planners_key_shape(&self, key: &str) -> bool {
        let mut parts = key.split('/');
        match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some(rule), Some(_), Some(_), None) => {
                self.rules.iter().any(|r| r.id.as_str() == rule) || self.is_account_rule(rule)
            }
            _ => false,
        }
    }
}

/// Whether `key` is `rule/client/…`, a key the planner gives `client`'s statements and
/// standing notices of `rule`.
fn is_client_key(key: &str, rule: &str, client: &str) -> bool {
    (key.as_bytes().strip_prefix(rule.as_bytes()))
        .and_then(|k| k.strip_prefix(b"/"))
        .and_then(|k| k.strip_prefix(client.as_bytes()))
        .and_then(|k| k.strip_prefix(b"/"))
        .is_some_and(|date| !date.contains(&b'/'))
}

/// Marks the views of `maybe_own` whose key's item part is their item's id in `batch` as
/// keyed as the planner keys them (see [`HistRef::own_key`]), and empties it; the entries of
/// the others are `unsure`.
fn own_keys(
    views: &mut [HistRef],
    batch: &[&str],
    maybe_own: &mut Vec<(usize, &[u8], usize)>,
    unsure: &mut Vec<u32>,
) {
    for (view, part, at) in maybe_own.drain(..) {
        if let (Some(v), Some(item)) = (views.get_mut(view), batch.get(at)) {
            if item.as_bytes() == part {
                v.stamp |= 1 << OWN_KEY_BIT;
            } else {
                unsure.push(v.entry);
            }
        }
    }
}

/// `views` put in the order of their places (`seqs`, one each; `u32::MAX`: left out), each
/// place's in the order they came, where `counts` says each place's run starts (and, last,
/// where they end).
pub(crate) fn by_place(views: &[HistRef], seqs: &[u32], counts: &[u32]) -> Vec<HistRef> {
    let blank = HistRef::new(HistRule::Unknown, 0, DateTime::<Utc>::MIN_UTC, 0, false);
    let mut out = vec![blank; counts.last().map_or(0, |&n| n as usize)];
    let mut fill: Vec<u32> = counts.to_vec();
    for (&view, &seq) in views.iter().zip(seqs) {
        if let Some(at) = fill.get_mut(seq as usize) {
            if let Some(r) = out.get_mut(*at as usize) {
                *r = view;
            }
            *at += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_is_indexed_by_planning_order_each_items_entries_as_they_came() {
        use crate::model::history::HistoryItem;
        use chrono::TimeZone as _;
        let policy = Policy::new(crate::time::TimeZone::UTC)
            .with_rule(crate::policy::Rule::new("due".parse().unwrap(), Anchor::Due, 0))
            .with_statement(crate::statement::StatementRule::new(
                "statement".parse().unwrap(),
                "FREQ=MONTHLY;BYMONTHDAY=1",
                NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
            ));
        let planner = Planner::new(&policy).unwrap();
        let clp = crate::money::Currency::from_code("CLP").unwrap();
        let issued = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
        // Clients listed backwards, items scattered: planned client by client, each
        // client's items by id.
        let clients: Vec<Client> = (0..4)
            .rev()
            .map(|c| Client::new(format!("c{c}").parse().unwrap(), "C"))
            .collect();
        let mut items: Vec<Item> = (0..40)
            .map(|i| {
                let id = format!("i{:02}", (i * 7) % 40);
                let client = format!("c{}", i % 4);
                Item::invoice(
                    id.parse().unwrap(),
                    client.parse().unwrap(),
                    issued,
                    Money::from_minor(1, clp),
                )
            })
            .collect();
        items.swap(3, 30);
        let indexed = planner.index_inputs(&clients, &items).unwrap();
        let planned: Vec<&str> = indexed
            .bucket
            .iter()
            .map(|&i| items[i as usize].id.as_str())
            .collect();
        // More entries than one batch of lookups, of items unknown too; a manual send, a
        // rule unknown to the policy, an account statement (no stage of its items).
        let mut history = Vec::new();
        for n in 0..100u32 {
            let item = if n % 9 == 4 {
                format!("gone{n}")
            } else {
                format!("i{:02}", (n * 13) % 40)
            };
            let rule = match n % 10 {
                0 => None,
                3 => Some("retired"),
                7 => Some("statement"),
                _ => Some("due"),
            };
            let at =
                Utc.with_ymd_and_hms(2026, 4, 1, 0, 0, 0).unwrap() + chrono::Duration::hours(i64::from(n));
            let client: ClientId = "c0".parse().unwrap();
            // Keys of some sends of "due" are the planner's own for their item and
            // occurrence; some others name another item's, or another occurrence.
            let key = match n % 10 {
                1 | 2 | 8 => format!("due/{item}/{n}"),
                5 => format!("due/i{:02}/{n}", (n * 13 + 1) % 40),
                6 => format!("due/{item}/{}", n + 1),
                _ => format!("k{n}"),
            };
            history.push(HistoryEntry {
                key: EventKey::from(key),
                rule: rule.map(|r| r.parse().unwrap()),
                client,
                items: vec![HistoryItem {
                    item: item.parse().unwrap(),
                    occurrence: n,
                }],
                sent_at: at,
                outcome: crate::model::history::HistoryOutcome::Sent,
            });
        }
        let hist = planner.history_of(&clients, &items, &indexed, &history);
        let mut indexed_refs = 0;
        let mut own_keys = 0;
        for (k, id) in planned.iter().enumerate() {
            let got: Vec<(u32, HistRule, u32, bool)> = hist
                .for_item(k)
                .iter()
                .map(|r| (r.entry, r.rule(), r.occurrence, r.own_key()))
                .collect();
            let expected: Vec<(u32, HistRule, u32, bool)> = history
                .iter()
                .enumerate()
                .filter(|(_, h)| {
                    h.items[0].item.as_str() == *id
                        && h.rule.as_ref().is_none_or(|r| r.as_str() != "statement")
                })
                .map(|(e, h)| {
                    let rule = match h.rule.as_ref().map(RuleId::as_str) {
                        None => HistRule::Manual,
                        Some("due") => HistRule::Rule(RuleIx::at(0)),
                        Some(_) => HistRule::Unknown,
                    };
                    let occurrence = h.items[0].occurrence;
                    let own = rule == HistRule::Rule(RuleIx::at(0))
                        && h.key.as_str() == format!("due/{id}/{occurrence}");
                    (e as u32, rule, occurrence, own)
                })
                .collect();
            assert_eq!(got, expected, "item {id}, planned {k}-th");
            indexed_refs += got.len();
            own_keys += got.iter().filter(|g| g.3).count();
        }
        // Of the 100: 10 statements, 10 more of items not planned.
        assert_eq!((indexed_refs, hist.refs.len()), (80, 80));
        // Of the 30 keyed as the planner's own, those of items planned (every ninth is not).
        assert_eq!(own_keys, 27);
        assert_eq!(hist.client_events.get("c0").map(Vec::len), Some(10));
    }

    #[test]
    fn history_refs_keep_their_rule_and_second() {
        use chrono::TimeZone as _;
        let instants = [
            DateTime::<Utc>::MIN_UTC,
            DateTime::<Utc>::MAX_UTC,
            Utc.with_ymd_and_hms(1969, 12, 31, 23, 59, 59).unwrap(),
            Utc.with_ymd_and_hms(2026, 5, 15, 14, 0, 0).unwrap(),
        ];
        let rules = [
            HistRule::Rule(RuleIx::at(0)),
            HistRule::Rule(RuleIx::at(usize::from(u16::MAX - 3))),
            HistRule::Manual,
            HistRule::Unknown,
        ];
        for at in instants {
            for rule in rules {
                for own_key in [false, true] {
                    let r = HistRef::new(rule, u32::MAX, at, 7, own_key);
                    assert_eq!(r.rule(), rule);
                    assert_eq!(r.sent_at(), at.timestamp(), "{at}");
                    assert_eq!((r.occurrence, r.entry, r.own_key()), (u32::MAX, 7, own_key));
                }
            }
        }
    }
}
