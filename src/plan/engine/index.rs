//! Clients and items checked and indexed for planning: ids in a table, clients in id
//! order, items bucketed by client, and each client's amounts added up.

use super::*;

impl Planner {
    /// The inputs checked and indexed for planning.
    pub(crate) fn index_inputs<'a>(
        &self,
        clients: &'a [Client],
        items: &'a [Item],
    ) -> Result<InputIndex<'a>, ValidationError> {
        check_count("clients", clients.len())?;
        check_count("items", items.len())?;
        // Clients in id order, checked. Hosts often list them in id order already: then one
        // pass finds the ids in order (so unique) and checks every client, and items find
        // their clients from that order without a map. The first invalid client is reported
        // once the ids are known to be unique, as after a check of ids alone.
        let mut invalid = None;
        let in_order = clients.iter().enumerate().all(|(i, c)| {
            let ordered = i == 0 || clients[i - 1].id < c.id;
            if ordered && invalid.is_none() {
                invalid = self.check_client(c).err();
            }
            ordered
        });
        let order: Vec<usize> = if in_order {
            if let Some(e) = invalid {
                return Err(e);
            }
            (0..clients.len()).collect()
        } else {
            let mut order: Vec<usize> = (0..clients.len()).collect();
            order.sort_unstable_by(|a, b| clients[*a].id.cmp(&clients[*b].id));
            for w in order.windows(2) {
                if clients[w[0]].id == clients[w[1]].id {
                    return Err(ValidationError::DuplicateId {
                        kind: "client",
                        id: clients[w[0]].id.to_string(),
                    });
                }
            }
            for &i in &order {
                self.check_client(&clients[i])?;
            }
            order
        };

        // Client by client, while its items are at hand: in id order, every id once in the
        // whole input, every item valid. The first invalid item is reported once every id is
        // known to be unique, as it would be after a check of ids alone.
        let mut bucket = Vec::with_capacity(items.len());
        let mut starts = Vec::with_capacity(clients.len() + 1);
        let mut seen = NotedItems::new(items.len());
        // Hosts often list items client by client, in id order, clients in id order too:
        // then items are planned in the order they came, noted in the one pass that finds
        // their clients.
        let cursor = ClientCursor::new(clients, &order);
        let (bucket, starts) = if in_planning_order(items, cursor, &mut bucket, &mut starts, &mut seen) {
            starts.resize(clients.len() + 1, items.len());
            (bucket, starts)
        } else {
            seen.clear();
            seen.hash_ids();
            drop((bucket, starts));
            let (mut bucket, starts) = bucket_by_client(clients, &order, items)?;
            for c in 0..clients.len() {
                let run = &mut bucket[starts[c]..starts[c + 1]];
                let id = |i: &u32| &items[*i as usize].id;
                // Hosts often list a client's items in id order already.
                if !run.is_sorted_by(|a, b| id(a) <= id(b)) {
                    run.sort_unstable_by(|a, b| id(a).cmp(id(b)));
                }
                for &i in run.iter() {
                    seen.add(&items[i as usize], i, None);
                }
            }
            (bucket, starts)
        };
        // Ids not in ascending order may be there twice: a table of them finds out.
        if !seen.ascending {
            seen.hash_ids();
        }
        let NotedItems {
            hashed,
            ids,
            places,
            invalid,
            ..
        } = seen;
        let id_of = |k: u32| ids.get(k as usize).copied().unwrap_or("");
        let mut dup: Option<&str> = None;
        let item_seq = match hashed {
            Some((mut table, noted, tags)) => {
                table.add_noted(noted, &tags, id_of, |k| {
                    let id = id_of(k);
                    if dup.is_none_or(|d| id < d) {
                        dup = Some(id);
                    }
                });
                ItemIds::table(table)
            }
            None => ItemIds::sorted(),
        };
        if let Some(id) = dup {
            return Err(ValidationError::DuplicateId {
                kind: "item",
                id: id.to_owned(),
            });
        }
        if let Some(e) = invalid {
            return Err(e);
        }
        Ok(InputIndex {
            order,
            bucket,
            starts,
            item_seq,
            places,
            ids,
        })
    }
}

/// A client's amounts added up per currency while its items are read: every sum a plan or
/// a message makes of them (an event's amount due and late fee, a statement's totals) then
/// fits an amount, or the plan is refused naming the client.
#[derive(Default)]
pub(crate) struct Sums {
    /// Per currency, the sum of the balances' sizes.
    pub(crate) balances: Vec<(crate::money::Currency, i128)>,
    /// Per rule with a late fee and currency, the sum of the fees.
    pub(crate) fees: Vec<(usize, crate::money::Currency, i128)>,
}

impl Sums {
    /// Starts over for another client.
    pub(crate) fn clear(&mut self) {
        self.balances.clear();
        self.fees.clear();
    }

    /// Adds an item's balance, and the late fee each rule with one proposes for it.
    pub(crate) fn add(
        &mut self,
        planner: &Planner,
        client: &Client,
        balance: Option<Money>,
    ) -> Result<(), ValidationError> {
        let Some(b) = balance else { return Ok(()) };
        let cur = b.currency();
        let too_large = |what: &str| ValidationError::AmountTooLarge {
            field: format!("client {}: {what}", client.id),
            currency: cur.code().to_owned(),
        };
        let size = i128::from(b.minor()).abs();
        match self.balances.iter_mut().find(|(c, _)| *c == cur) {
            Some((_, total)) => {
                *total += size;
                if *total > i128::from(i64::MAX) {
                    return Err(too_large("the balances"));
                }
            }
            None => self.balances.push((cur, size)),
        }
        if !planner.any_fee {
            return Ok(());
        }
        for (ri, rule) in planner.rules.iter().enumerate() {
            let Some(fee) = rule.late_fee.as_ref() else {
                continue;
            };
            let Some(fee) = fee.compute(b)? else { continue };
            let at = self.fees.iter().position(|(r, c, _)| *r == ri && *c == cur);
            let total = at.map_or(0, |i| self.fees[i].2) + i128::from(fee.minor());
            if total > i128::from(i64::MAX) {
                return Err(too_large(&format!("the late fees of rule {}", rule.id)));
            }
            match at {
                Some(i) => self.fees[i].2 = total,
                None => self.fees.push((ri, cur, total)),
            }
        }
        Ok(())
    }
}

/// Clients and items checked and indexed for planning.
pub(crate) struct InputIndex<'a> {
    /// Client positions in id order (a client's rank is its place here).
    pub(crate) order: Vec<usize>,
    /// Item positions client by client, in rank order, each client's in id order.
    pub(crate) bucket: Vec<u32>,
    /// Where each client's items start in `bucket` (and, last, where they end).
    pub(crate) starts: Vec<usize>,
    /// Where each item is in `bucket` (the order items are planned in), by id.
    pub(crate) item_seq: ItemIds,
    /// Where each item is in `bucket`, by its position in the input.
    pub(crate) places: Vec<u32>,
    /// The items' ids in `bucket` order.
    pub(crate) ids: Vec<&'a str>,
}

/// Items noted in the order they are planned: the ids in that order, each item's place in
/// it, whether the ids ascend, and the first invalid item. Their ids are hashed into a table
/// (see [`ItemIds`]) only when they do not ascend.
pub(crate) struct NotedItems<'a> {
    /// The ids in planning order, so a place's id is one read away.
    pub(crate) ids: Vec<&'a str>,
    /// Each item's place, by its position in the input.
    pub(crate) places: Vec<u32>,
    /// Every id so far came after the one before (so each is there once).
    pub(crate) ascending: bool,
    /// Once ids are hashed: the table they go in, and those noted for it with their tags.
    pub(crate) hashed: Option<(Places, Vec<u64>, Vec<u32>)>,
    pub(crate) invalid: Option<ValidationError>,
}

impl<'a> NotedItems<'a> {
    pub(crate) fn new(n: usize) -> Self {
        NotedItems {
            ids: Vec::with_capacity(n),
            places: vec![0u32; n],
            ascending: true,
            hashed: None,
            invalid: None,
        }
    }

    /// Back to none noted (every item's place is written again).
    pub(crate) fn clear(&mut self) {
        self.ids.clear();
        self.ascending = true;
        if let Some((_, noted, _)) = &mut self.hashed {
            noted.clear();
        }
        self.invalid = None;
    }

    /// Hashes the ids noted so far and every one noted from now on.
    pub(crate) fn hash_ids(&mut self) {
        let n = self.places.len();
        let (table, noted, tags) = self
            .hashed
            .get_or_insert_with(|| (Places::with_capacity(n), Vec::with_capacity(n), vec![0u32; n]));
        if noted.len() < self.ids.len() {
            for (seq, id) in (0u32..).zip(&self.ids).skip(noted.len()) {
                table.note(id, seq, noted, tags);
            }
        }
    }

    /// Notes `item`, at `index` in the input, as the next one planned; `after` is how its id
    /// compares with the one noted before it (`None`: the first).
    pub(crate) fn add(&mut self, item: &'a Item, index: u32, after: Option<std::cmp::Ordering>) {
        let seq = u32::try_from(self.ids.len()).unwrap_or(u32::MAX);
        if let Some(p) = self.places.get_mut(index as usize) {
            *p = seq;
        }
        self.ascending &= after.is_none_or(std::cmp::Ordering::is_gt);
        if let Some((table, noted, tags)) = &mut self.hashed {
            table.note(item.id.as_str(), seq, noted, tags);
        }
        self.ids.push(item.id.as_str());
        if self.invalid.is_none() {
            self.invalid = item.validate().err();
        }
    }
}

/// Client ranks found by id, where hosts often list items client by client: a run of one
/// client needs one lookup (ids compare first by where their text is: clones of one id are
/// equal at once).
pub(crate) struct ClientRanks<'m, 'a> {
    pub(crate) by_id: &'m HashMap<&'a str, usize>,
    pub(crate) run: Option<(&'a ClientId, usize)>,
}

impl<'m, 'a> ClientRanks<'m, 'a> {
    pub(crate) fn new(by_id: &'m HashMap<&'a str, usize>) -> Self {
        ClientRanks { by_id, run: None }
    }

    /// The rank of `client`, if it is known.
    pub(crate) fn of(&mut self, client: &'a ClientId) -> Option<usize> {
        let r = match self.run {
            Some((c, r)) if c == client => r,
            _ => *self.by_id.get(client.as_str())?,
        };
        self.run = Some((client, r));
        Some(r)
    }
}

/// Client ranks found for items listed in planning order, without a map: an item's client
/// is the last item's or a later one, so it is looked for from there on (the next client
/// first, as most clients have items, else by binary search over the rest).
pub(crate) struct ClientCursor<'a> {
    pub(crate) clients: &'a [Client],
    /// Client positions in id order.
    pub(crate) order: &'a [usize],
    /// The rank of the client of the item read last.
    pub(crate) at: Option<usize>,
}

impl<'a> ClientCursor<'a> {
    pub(crate) fn new(clients: &'a [Client], order: &'a [usize]) -> Self {
        ClientCursor {
            clients,
            order,
            at: None,
        }
    }

    pub(crate) fn id(&self, rank: usize) -> Option<&'a ClientId> {
        let i = *self.order.get(rank)?;
        self.clients.get(i).map(|c| &c.id)
    }

    /// The rank of `client` if it is the last item's client or a later one (then it becomes
    /// the current one); `None` if it is unknown or an earlier one.
    pub(crate) fn of(&mut self, client: &ClientId) -> Option<usize> {
        let from = match self.at {
            Some(r) if self.id(r) == Some(client) => return Some(r),
            Some(r) => r + 1,
            None => 0,
        };
        let r = if self.id(from) == Some(client) {
            from
        } else {
            let rest = self.order.get(from..)?;
            let k = rest.partition_point(|&i| self.clients.get(i).is_some_and(|c| &c.id < client));
            let r = from + k;
            if self.id(r) != Some(client) {
                return None;
            }
            r
        };
        self.at = Some(r);
        Some(r)
    }

    /// The rank of the client of the item read last.
    pub(crate) fn current(&self) -> Option<usize> {
        self.at
    }
}

/// When `items` come in the order they are planned (client by client in client rank order,
/// each client's in id order), notes them into `seen` in one pass, with their positions (the
/// input's order) into `bucket` and where each client's start (up to the last client with
/// items) into `starts`, and returns `true`; else `false`, with all three partly filled.
/// Items of unknown clients are left to [`bucket_by_client`], which reports them.
pub(crate) fn in_planning_order<'a>(
    items: &'a [Item],
    mut ranks: ClientCursor<'_>,
    bucket: &mut Vec<u32>,
    starts: &mut Vec<usize>,
    seen: &mut NotedItems<'a>,
) -> bool {
    let mut last: Option<&Item> = None;
    for (i, it) in items.iter().enumerate() {
        let current = ranks.current();
        // An unknown client, or an earlier one than the last.
        let Some(r) = ranks.of(&it.client) else {
            return false;
        };
        // How the id compares with the last (one comparison serves both uses).
        let after = last.map(|l| it.id.cmp(&l.id));
        if current == Some(r) {
            // The same client: ids in order.
            if after.is_some_and(std::cmp::Ordering::is_lt) {
                return false;
            }
        } else {
            // A later one: the clients between have no items.
            starts.resize(r + 1, i);
        }
        last = Some(it);
        // Fits: `check_count` refused more items than 32 bits count.
        let index = i as u32;
        bucket.push(index);
        seen.add(it, index, after);
    }
    true
}

/// Item positions bucketed by their client's rank (its place in `order`, the clients'
/// positions in id order; in input order within a bucket), and where each client's bucket
/// starts (and, last, where they end).
pub(crate) fn bucket_by_client(
    clients: &[Client],
    order: &[usize],
    items: &[Item],
) -> Result<(Vec<u32>, Vec<usize>), ValidationError> {
    let mut by_id: HashMap<&str, usize> = HashMap::default();
    by_id.reserve(clients.len());
    for (r, &i) in order.iter().enumerate() {
        by_id.insert(clients[i].id.as_str(), r);
    }
    let mut item_rank: Vec<u32> = Vec::with_capacity(items.len());
    let mut unknown: Option<&Item> = None;
    let mut ranks = ClientRanks::new(&by_id);
    for it in items {
        match ranks.of(&it.client) {
            Some(r) => {
                // Fits: `check_count` refused more clients than 32 bits count.
                item_rank.push(r as u32);
            }
            None => {
                item_rank.push(u32::MAX);
                if unknown.is_none_or(|u| it.id < u.id) {
                    unknown = Some(it);
                }
            }
        }
    }
    if let Some(it) = unknown {
        return Err(ValidationError::UnknownClient {
            item: it.id.to_string(),
            client: it.client.to_string(),
        });
    }
    let mut starts = vec![0usize; clients.len() + 1];
    for &r in &item_rank {
        starts[r as usize + 1] += 1;
    }
    for i in 0..clients.len() {
        starts[i + 1] += starts[i];
    }
    let mut fill = starts.clone();
    let mut bucket = vec![0u32; items.len()];
    for (i, &r) in item_rank.iter().enumerate() {
        let at = &mut fill[r as usize];
        bucket[*at] = i as u32;
        *at += 1;
    }
    Ok((bucket, starts))
}

/// Records name clients, items and history entries by a 32-bit position.
pub(crate) fn check_count(field: &'static str, len: usize) -> Result<(), ValidationError> {
    match u32::try_from(len) {
        Ok(n) if n < u32::MAX => Ok(()),
        _ => Err(ValidationError::OutOfRange {
            field,
            value: len.to_string(),
        }),
    }
}
