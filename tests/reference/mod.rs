//! A reference planner: deliberately simple, owned data, `BTreeMap`s, no performance work,
//! written from the documented behaviours (DESIGN.md "Behaviour users rely on", the README's
//! guarantees and "Operating it", and the public rustdoc), not from the planner's code.
//!
//! Stage A: item rules anchored on the issue or due date, offsets, repeats, the default
//! payment term, time zones and send times (`local_instant`), the business calendar,
//! collection start, paid / cancelled / void / partly paid items, item and client pauses,
//! per-client overrides (reminders off, rule on/off, offset/every/count, send time), history
//! of sent and manual entries, catch-up, lasting stops as of now, and the horizon and window.
//! Stage B: history entries that failed for good or whose outcome is unknown, and their
//! release; the minimum gap between messages to a client (policy and client override):
//! after the client's last message in history, and between the events planned, one client at
//! a time (`plan_client`: each item planned on its own, then the first event that comes
//! sooner than the gap after the last is held back and the items planned again); grouped
//! rules (`group`: one notice per client, currency and day, keyed by its items; due now
//! together, the others by their send instant).
//! Stage C (`account.rs`): account statements (an RRULE over the client's local dates, the
//! open items issued by the period's date, or the overdue ones; nothing to list, no event;
//! keyed by rule, client and period; periods up to the latest in history not planned again;
//! of those missed only the latest goes, as a catch-up; periods a weekend moves onto one day
//! go as one) and standing notices ("closing soon" and "closed" from the days overdue of the
//! oldest unpaid invoice, thresholds per client, one notice on entering each state keyed by
//! the day it entered it, counting while the client stays overdue; only "closed" when both
//! would go together), switched off per client, reminders off, no recipients, and their
//! history entries sent, failed, unknown and released (no stage of any item's reminders,
//! not counted by the minimum gap).
//! Where the docs are silent the reference follows the planner and says so; where they
//! disagree with it, an ignored test in `reference_planner.rs` says what they promise.
//! Client pauses without end hold statements and standing notices for good (said paused);
//! pauses with an end and item pauses hold them back as `account.rs` says, drawn by the
//! generator only with `REFERENCE_PAUSES` set (the planner and the reference still disagree
//! on part of those worlds: `account.rs`). Worlds that meet a finding of
//! `tests/reference_findings.rs` are marked (`RefPlan::skip`) and skipped by the properties.
//! Not covered (the generator leaves them out): statement expiry, RRULE overrides per client
//! and RRULEs beyond monthly on a day, weekly on a weekday and every N days, rules anchored
//! on the sent or paid date, pending actions, conditions, roles, expiry, late fees, items in
//! several currencies, and `Plan::standings`.
#![allow(dead_code)]

pub mod account;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Days, NaiveDate, NaiveTime, Utc};
use dunning::*;

/// The default lookback of suppressed entries ([`Planner::with_lookback`]): 7 days.
pub const LOOKBACK_DAYS: u64 = 7;

/// A stop that is not explained.
const SILENT: &str = "-";

/// An event, as a comparable tuple.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RefEvent {
    pub key: String,
    pub client: String,
    pub rule: String,
    pub stage: String,
    pub send_on: NaiveDate,
    pub send_at: DateTime<Utc>,
    /// (item, occurrence) covered.
    pub items: Vec<(String, u32)>,
    pub catch_up: bool,
    pub due_now: bool,
}

/// A suppressed entry, as a comparable tuple.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RefSuppressed {
    pub key: String,
    pub item: String,
    pub rule: String,
    pub kind: String,
    pub on: NaiveDate,
}

/// What the reference plans: sorted events and suppressions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RefPlan {
    pub events: Vec<RefEvent>,
    pub suppressed: Vec<RefSuppressed>,
    /// Findings (`tests/reference_findings.rs`) the world meets: the reference says what the
    /// docs promise, the planner does not yet, and the properties skip the world.
    pub skip: Vec<String>,
}

impl RefPlan {
    /// The same tuples read from a real plan.
    pub fn of(plan: &Plan) -> RefPlan {
        let ev = |e: &Event, due_now: bool| RefEvent {
            key: e.key.to_string(),
            client: e.client.to_string(),
            rule: e.rule.to_string(),
            stage: e.stage.to_string(),
            send_on: e.send_on,
            send_at: e.send_at,
            items: e
                .items
                .iter()
                .map(|i| (i.item.to_string(), i.occurrence))
                .collect(),
            catch_up: e
                .why
                .adjustments
                .iter()
                .any(|a| matches!(a, Adjustment::CatchUp { .. })),
            due_now,
        };
        let mut events: Vec<RefEvent> = plan.due().iter().map(|e| ev(e, true)).collect();
        events.extend(plan.upcoming().iter().map(|e| ev(e, false)));
        events.sort();
        let mut suppressed: Vec<RefSuppressed> = plan
            .suppressed()
            .iter()
            .map(|s| RefSuppressed {
                key: s.key.to_string(),
                item: s.item_str().to_owned(),
                rule: s.rule.to_string(),
                kind: s.reason.kind().to_string(),
                on: s.on,
            })
            .collect();
        suppressed.sort();
        RefPlan {
            events,
            suppressed,
            skip: Vec::new(),
        }
    }
}

fn add(d: NaiveDate, n: i64) -> NaiveDate {
    if n >= 0 {
        d.checked_add_days(Days::new(n as u64)).unwrap()
    } else {
        d.checked_sub_days(Days::new(n.unsigned_abs())).unwrap()
    }
}

/// One rule as it applies to one client and item.
#[derive(Debug, Clone)]
struct Eff {
    index: usize,
    id: String,
    anchor: Anchor,
    offset: i32,
    every: Option<u32>,
    count: u32,
    /// Switched off for the client.
    excluded: bool,
}

/// The state of one rule for one item during the sweep.
#[derive(Debug, Clone)]
struct State {
    next: u32,
    /// Local day of the rule's last send (history or planned).
    last: Option<NaiveDate>,
    /// No more occurrences (count reached, a lasting stop, past the horizon).
    done: bool,
    /// Not before this day (a catch-up held back by a pause on the day it would go).
    floor: Option<NaiveDate>,
    /// The pauses that held a held catch-up back, in the order met: those on the way to its
    /// own day, then the one on the day it would have gone.
    held: Vec<Hold>,
    /// The next occurrence is a catch-up held back by a pause.
    caught: bool,
    /// The day a held catch-up was meant for.
    meant: Option<NaiveDate>,
    /// The non-working days a held catch-up moved off before the pause held it.
    held_moves: Vec<NaiveDate>,
    /// The day it first moved earlier off before anything held it back, kept while held.
    held_back: Option<NaiveDate>,
    /// The first day the gap allowed after it last held the rule back (kept past a skip).
    gap_floor: Option<NaiveDate>,
    /// The day of the send that last superseded an occurrence (a run goes on from it, even
    /// when the rule itself went later: an odd history).
    passed: Option<NaiveDate>,
}

impl State {
    /// Occurrence `next` comes next; the rule last went on `last`.
    fn new(next: u32, last: Option<NaiveDate>) -> Self {
        State {
            next,
            last,
            done: false,
            floor: None,
            held: Vec::new(),
            caught: false,
            meant: None,
            held_moves: Vec::new(),
            held_back: None,
            gap_floor: None,
            passed: None,
        }
    }

    /// Occurrence `k` was skipped (superseded by a send on `sent`, or not sent at all).
    fn skip(&mut self, k: u32, sent: Option<NaiveDate>) {
        if sent.is_some() {
            self.last = self.last.max(sent);
            self.passed = sent;
        }
        self.next = k + 1;
        self.floor = None;
        self.held.clear();
        self.caught = false;
        self.held_moves.clear();
        self.held_back = None;
        self.meant = None;
    }

    /// The ready occurrence `r` was held back by the minimum gap until `until`: it goes no
    /// sooner than the day after, keeping what moved and held it on the way.
    fn held_by_gap(&mut self, r: &Ready, until: NaiveDate) {
        self.held_moves = r.moved.clone();
        self.held_back = r.moved_back;
        self.floor = Some(add(until, 1));
        self.held = r.paused_from.clone();
        self.held.push((r.on, until, "deferred"));
        self.caught = false;
    }

    /// Occurrence `k` went (or was superseded by a send) on `day`.
    fn sent(&mut self, k: u32, day: NaiveDate) {
        self.next = k + 1;
        self.last = Some(day);
        self.floor = None;
        self.held.clear();
        self.caught = false;
        self.held_moves.clear();
        self.held_back = None;
        self.meant = None;
        self.gap_floor = None;
        self.passed = None;
    }
}

/// What held an occurrence back: (the day it would have gone, the last day held, the
/// suppression said on that day: `paused_until` for a pause, `deferred` for the minimum gap).
type Hold = (NaiveDate, NaiveDate, &'static str);

/// A send about an item: (rule, local day, planned in this plan rather than read from
/// history, its stage (day before any move, rule index) when its rule is known).
type Sent = (String, NaiveDate, bool, Option<(NaiveDate, usize)>);

/// An occurrence that goes at the sweep's instant unless a later stage wins.
#[derive(Debug, Clone)]
struct Ready {
    index: usize,
    k: u32,
    nominal: NaiveDate,
    moved: Vec<NaiveDate>,
    /// The day it first moved earlier off (a "due soon"), before anything held it back.
    moved_back: Option<NaiveDate>,
    /// What held it back (pauses, the minimum gap).
    paused_from: Vec<Hold>,
    /// The days another reminder about the item went, that it moved off.
    after_other: Vec<NaiveDate>,
    on: NaiveDate,
    at: DateTime<Utc>,
    caught: bool,
    /// The day a held catch-up was meant for.
    meant: Option<NaiveDate>,
}

/// A candidate occurrence of a rule: where it would go.
#[derive(Debug, Clone)]
enum Step {
    /// Goes on `on` at `at` (nominal day `nominal`; moved off a non-working day from `from`).
    Go {
        k: u32,
        nominal: NaiveDate,
        on: NaiveDate,
        at: DateTime<Utc>,
        /// The days the calendar moved it off.
        moved: Vec<NaiveDate>,
        /// The day it first moved earlier off (a "due soon"), before anything held it back.
        moved_back: Option<NaiveDate>,
        /// What held it back: pauses with an end, the minimum gap.
        paused_from: Vec<Hold>,
        /// The days another reminder about the item went, that it moved off.
        after_other: Vec<NaiveDate>,
        /// The day a "due soon" too late is said on once its own day left the window.
        late_as_of: NaiveDate,
        /// The day it was to go before a pause or the gap held it back (`on` if nothing did).
        first_day: NaiveDate,
    },
    /// Not sent, for this reason, on this day; the rule moves on to the next occurrence.
    Skip {
        k: u32,
        kind: &'static str,
        on: NaiveDate,
        /// The send that superseded it.
        sent: Option<NaiveDate>,
        /// Superseded by a send planned past the window on its own day: what held it back
        /// on the way there, said instead (kind, day), as for a stage held past the horizon.
        notes: Vec<(&'static str, NaiveDate)>,
    },
    /// A lasting stop: nothing more from this rule, explained once.
    Stop {
        k: u32,
        kind: &'static str,
        on: NaiveDate,
    },
}

/// Plans `clients` and `items` as the documentation says the planner does.
pub fn plan(
    policy: &Policy,
    clients: &[Client],
    items: &[Item],
    history: &[HistoryEntry],
    now: DateTime<Utc>,
    horizon: Horizon,
) -> RefPlan {
    let end = now + chrono::Duration::days(i64::from(horizon.as_days()));
    let clients: BTreeMap<String, &Client> = clients.iter().map(|c| (c.id.to_string(), c)).collect();
    let items: BTreeMap<String, &Item> = items.iter().map(|i| (i.id.to_string(), i)).collect();
    let mut out = RefPlan::default();
    // Statements and standing notices in history are no reminders about items: they neither
    // supersede nor space them, and the minimum gap does not count them (`Policy::min_gap_days`:
    // "Account statements and standing notices go on their own dates").
    let of_items: Vec<HistoryEntry> = history
        .iter()
        .filter(|h| {
            !h.rule
                .as_ref()
                .is_some_and(|r| account::is_account_rule(policy, r.as_str()))
        })
        .cloned()
        .collect();
    for client in clients.values() {
        let items: Vec<&Item> = items
            .values()
            .copied()
            .filter(|i| i.client == client.id)
            .collect();
        plan_client(policy, client, &items, &of_items, now, end, &mut out);
        account::plan_client(policy, client, &items, history, now, end, &mut out);
    }
    // "A key recorded in history is never planned again", whatever entry holds it (another
    // rule's, a manual send, one listing other items, another client's): a send, or one that
    // failed or whose outcome is unknown and was not released at or after it.
    let held: BTreeSet<&str> = history
        .iter()
        .filter(|h| h.outcome != HistoryOutcome::Released)
        .filter(|h| {
            h.outcome.is_sent()
                || !history.iter().any(|x| {
                    x.key == h.key && x.outcome == HistoryOutcome::Released && x.sent_at >= h.sent_at
                })
        })
        .map(|h| h.key.as_str())
        .collect();
    out.events.retain(|e| !held.contains(e.key.as_str()));
    out.events.sort();
    out.suppressed.sort();
    out
}

/// An event as the minimum gap sees it: (the day it goes, the day it first waited since,
/// whether it is due now, its key, its send instant).
type Went = (NaiveDate, NaiveDate, bool, String, DateTime<Utc>);

/// On a day whose message under the gap is a grouped notice of a rule at a send instant
/// still to come: (that day, the rule, the instant). The item's latest stage of that rule
/// whose turn comes by then wins the item's day if it is a later stage than the one that won
/// by going sooner (`Rule::group`: "so does an item's stage of the rule whose turn comes by
/// then, over an earlier stage of the item that won the day by going sooner").
type Prefer = (NaiveDate, String, DateTime<Utc>);

/// Whether rule `id` groups its reminders about a client's items into one notice.
fn grouped(policy: &Policy, id: &str) -> bool {
    policy.rules.iter().any(|r| r.id.as_str() == id && r.group)
}

/// An item's currency, as text ("" without an amount).
fn currency(item: &Item) -> String {
    item.total.map(|m| m.currency().to_string()).unwrap_or_default()
}

/// The key of a notice grouped across items (`EventKey` docs): the 64-bit FNV-1a hash of its
/// items and occurrences in item id order (for each: the id's bytes, U+001F, the occurrence in
/// decimal, U+001E).
fn group_key(rule: &str, client: &str, currency: &str, items: &[(String, u32)]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for (item, occurrence) in items {
        for b in item
            .bytes()
            .chain([0x1f])
            .chain(occurrence.to_string().bytes())
            .chain([0x1e])
        {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    format!("{rule}/{client}/{currency}/g{hash:016x}")
}

/// What the items of one grouped notice share: rule, currency, and when it goes (`None`: now).
type NoticeOf = (String, String, Option<DateTime<Utc>>);

/// One notice per client, currency and day for the items a grouped rule reminds about that
/// day (`Rule::group`: "one notice per client and currency for all items that fire the same
/// day"), keyed by its items and occurrences (a notice of one item too: the planner's
/// reading, the `EventKey` docs say "for a notice grouped across items").
fn group(
    policy: &Policy,
    client: &Client,
    items: &[&Item],
    events: Vec<(RefEvent, usize)>,
    joined: &BTreeMap<String, DateTime<Utc>>,
    suppressed: &mut [RefSuppressed],
) -> Vec<RefEvent> {
    let mut out = Vec::new();
    // Those due now go together; the others by the instant they go: an item whose send time
    // is still to come does not go in a notice due now, nor in one that goes before it (a
    // catch-up at the start of the day with an item of that day's send time).
    let mut notices: BTreeMap<NoticeOf, Vec<RefEvent>> = BTreeMap::new();
    for (e, i) in events {
        if grouped(policy, &e.rule) {
            // One that joined a later notice of its day goes at that notice's instant.
            let on = joined.get(&e.key).copied().or((!e.due_now).then_some(e.send_at));
            notices
                .entry((e.rule.clone(), currency(items[i]), on))
                .or_default()
                .push(e);
        } else {
            out.push(e);
        }
    }
    for ((rule, currency, _), mut of) in notices {
        of.sort_by(|a, b| a.items.cmp(&b.items));
        let covered: Vec<(String, u32)> = of.iter().flat_map(|e| e.items.clone()).collect();
        // (Its stage, day, instant and whether it is a catch-up: its first item's, as its
        // anchor is (`Why::anchor_on`), of those not joined from an earlier instant.)
        let first = of
            .iter()
            .find(|e| !joined.contains_key(&e.key))
            .unwrap_or(&of[0])
            .clone();
        // Its stage is its most advanced item's (`Stage` docs: "overdue when one of its items
        // is past due, due today when one is due that day").
        let stage = (of.iter())
            .map(|e| e.stage.parse::<Stage>().unwrap())
            .max()
            .unwrap()
            .to_string();
        let key = group_key(&rule, client.id.as_str(), &currency, &covered);
        // What moved each item's reminder is said under the notice's key.
        for e in &of {
            for s in suppressed.iter_mut().filter(|s| s.key == e.key) {
                s.key.clone_from(&key);
            }
        }
        out.push(RefEvent {
            key,
            items: covered,
            stage,
            ..first
        });
    }
    out
}

/// Plans one client's items: each on its own, then the minimum gap between messages to the
/// client (README "Minimum gap"; `Policy::min_gap_days`): the first event in the order they
/// go that comes sooner than the gap after the client's last message (in history, or planned)
/// is held back to the first day the gap allows, and the items are planned again.
fn plan_client(
    policy: &Policy,
    client: &Client,
    items: &[&Item],
    history: &[HistoryEntry],
    now: DateTime<Utc>,
    end: DateTime<Utc>,
    out: &mut RefPlan,
) {
    let gap = client.overrides.min_gap_days.unwrap_or(policy.min_gap_days);
    let zone = client.time_zone.unwrap_or(policy.time_zone);
    // The client's last message in history: a reminder about items, automatic or manual; one
    // that failed or whose outcome is unknown counts too (released or not), a release does
    // not (the docs are silent; the planner's reading).
    let last_sent = history
        .iter()
        .filter(|h| h.client == client.id && h.outcome != HistoryOutcome::Released)
        .map(|h| zone.local_date(h.sent_at))
        .max();
    let gap_floor = last_sent.filter(|_| gap > 0).map(|l| (l, add(l, i64::from(gap))));
    // The gap after the client's last message in history holds back every reminder about
    // another item until the first day it allows; one about the item itself is spaced by it
    // instead (`plan_item`).
    let mut holds: BTreeMap<usize, Vec<Hold>> = BTreeMap::new();
    let mut prefer: BTreeMap<usize, Vec<Prefer>> = BTreeMap::new();
    if let Some((_, g)) = gap_floor {
        for i in 0..items.len() {
            holds.insert(i, vec![(NaiveDate::MIN, add(g, -1), "deferred")]);
        }
    }
    loop {
        let mut plans: Vec<(RefPlan, Vec<Went>)> = Vec::new();
        let mut undecided: Vec<(Went, usize)> = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let mut plan = RefPlan::default();
            let holds = holds.get(&i).map_or(&[][..], Vec::as_slice);
            let prefer = prefer.get(&i).map_or(&[][..], Vec::as_slice);
            let (went, past) = plan_item(policy, client, item, history, now, end, holds, prefer, &mut plan);
            plans.push((plan, went));
            undecided.extend(past.into_iter().map(|w| (w, i)));
        }
        // The events in the order they go: by day; on one day, the one that has waited longest
        // first (since the day it was meant for), then the one whose send instant comes first
        // (one due now before one whose send time is to come: README "Minimum gap"; planned
        // ahead, the one the day's first tick finds due), then in the order of the keys (the
        // planner's reading).
        let mut order: Vec<(Went, usize)> = plans
            .iter()
            .enumerate()
            .flat_map(|(i, (_, went))| went.iter().map(move |w| (w.clone(), i)))
            .collect();
        // A stage past the window's last day that no catch-up at the start of that day decides
        // for its item is of that day's messages when the client's day is decided: another
        // item's message goes that day (a catch-up at its start, within the horizon), and the
        // one that waited longest goes first, unlisted past the horizon (the planner's
        // reading: "the day after the window, made for a catch-up at its start").
        let decided: BTreeSet<NaiveDate> = order.iter().map(|(w, _)| w.0).collect();
        order.extend(undecided.into_iter().filter(|(w, _)| decided.contains(&w.0)));
        order.sort_by(|(a, _), (b, _)| (a.0, a.1, a.4, &a.3).cmp(&(b.0, b.1, b.4, &b.3)));
        // Of those that waited as long and go at one instant, the one whose item was reminded
        // longest ago (or never) goes first (README "Minimum gap": invoices take turns): the
        // last message about each item, in history or gone earlier in this order.
        let mut reminded: Vec<Option<NaiveDate>> =
            items.iter().map(|it| last_reminded(zone, it, history)).collect();
        let mut start = 0;
        while start < order.len() {
            let day = order[start].0.0;
            let end = start + order[start..].iter().take_while(|(w, _)| w.0 == day).count();
            // (A send instant meant for an earlier day, a catch-up's, counts as the day's
            // first: README "the one the day's first tick finds due".)
            let first = local_instant(zone, day, NaiveTime::MIN);
            order[start..end].sort_by(|(a, i), (b, j)| {
                (a.1, a.4.max(first), reminded[*i], &a.3).cmp(&(b.1, b.4.max(first), reminded[*j], &b.3))
            });
            for (_, i) in &order[start..end] {
                reminded[*i] = Some(day);
            }
            start = end;
        }
        let mut last = last_sent;
        let mut held = None;
        // The grouped notices that went: (rule, currency, send instant; none: due now), as
        // `group` makes them (`Rule::group`: "one notice per client and currency for all items
        // that fire the same day at the same instant: those due now go together"). Another
        // item of such a notice goes in it, no new message; a notice of the same rule at
        // another instant of the day is another message, which the gap holds back
        // (`Policy::min_gap_days`: "a reminder that would come sooner after the last one is
        // deferred").
        let mut notices: BTreeSet<NoticeOf> = BTreeSet::new();
        // A notice of the day's message at a send instant still to come: those of its rule
        // and currency due sooner that day wait for it and go in it (by then they are due
        // with it, and the gap lets one message go): event key -> the notice's instant.
        let mut joined: BTreeMap<String, DateTime<Utc>> = BTreeMap::new();
        let mut going: Option<(String, String, NaiveDate, DateTime<Utc>)> = None;
        let mut replan = false;
        if gap > 0 {
            for ((day, _, due_now, key, at), i) in order {
                let rule = key.split('/').next().unwrap_or_default().to_owned();
                let on = (!due_now).then_some(at);
                let notice = grouped(policy, &rule).then(|| (rule, currency(items[i]), on));
                if notice.as_ref().is_some_and(|n| notices.contains(n)) {
                    continue;
                }
                if let (Some((r, c, d, t)), Some((rule, cur, on))) = (&going, &notice) {
                    if (r, c, *d) == (rule, cur, day) && on.is_none_or(|o| o < *t) {
                        joined.insert(key, *t);
                        continue;
                    }
                }
                if let Some(l) = last.filter(|l| day < add(*l, i64::from(gap))) {
                    // The day's message is a grouped notice still to come: a later stage of
                    // the item of its rule whose turn comes by then may go in it instead
                    // (planned again with that preference, once).
                    if let Some((r, c, d, t)) = &going {
                        let tried = prefer.get(&i).is_some_and(|p| p.iter().any(|x| x.0 == day));
                        if *d == day && currency(items[i]) == *c && !tried {
                            prefer.entry(i).or_default().push((day, r.clone(), *t));
                            replan = true;
                            break;
                        }
                    }
                    held = Some((i, (day, add(l, i64::from(gap) - 1), "deferred")));
                    break;
                }
                going = match &notice {
                    Some((rule, cur, Some(t))) => Some((rule.clone(), cur.clone(), day, *t)),
                    _ => None,
                };
                notices.extend(notice);
                last = Some(day);
            }
        }
        if replan {
            continue;
        }
        match held {
            Some((i, hold)) => holds.entry(i).or_default().push(hold),
            None => {
                let mut events = Vec::new();
                let mut suppressed = Vec::new();
                for (i, (plan, _)) in plans.into_iter().enumerate() {
                    events.extend(plan.events.into_iter().map(|e| (e, i)));
                    suppressed.extend(plan.suppressed);
                }
                out.events
                    .extend(group(policy, client, items, events, &joined, &mut suppressed));
                out.suppressed.extend(suppressed);
                return;
            }
        }
    }
}

/// The local day of the last message about `item` in history: a reminder or a manual send,
/// failed or of unknown outcome too (an attempt), not a test send (`preview/...`) nor one
/// released since (as the gap reads history).
fn last_reminded(zone: TimeZone, item: &Item, history: &[HistoryEntry]) -> Option<NaiveDate> {
    history
        .iter()
        .filter(|h| h.outcome != HistoryOutcome::Released && !h.key.as_str().starts_with("preview/"))
        .filter(|h| {
            h.outcome.is_sent()
                || !history.iter().any(|x| {
                    x.key == h.key && x.outcome == HistoryOutcome::Released && x.sent_at >= h.sent_at
                })
        })
        .filter(|h| h.items.iter().any(|hi| hi.item == item.id))
        .map(|h| zone.local_date(h.sent_at))
        .max()
}

#[allow(clippy::too_many_lines, clippy::too_many_arguments)]
fn plan_item(
    policy: &Policy,
    client: &Client,
    item: &Item,
    history: &[HistoryEntry],
    now: DateTime<Utc>,
    end: DateTime<Utc>,
    holds: &[Hold],
    prefer: &[Prefer],
    out: &mut RefPlan,
) -> (Vec<Went>, Vec<Went>) {
    let mut went: Vec<Went> = Vec::new();
    // The stages past the window's last day no catch-up at that day's start decides for the
    // item: they go that day if the client's day is decided (another item's catch-up goes
    // at its start, within the horizon), in the order of that day's messages (`plan_client`).
    let mut undecided: Vec<Went> = Vec::new();
    let zone = client.time_zone.unwrap_or(policy.time_zone);
    let gap = i64::from(client.overrides.min_gap_days.unwrap_or(policy.min_gap_days));
    let send_time = client.overrides.send_time.unwrap_or(policy.send_time);
    let term = client
        .overrides
        .payment_term_days
        .unwrap_or(policy.payment_term_days);
    let cal = &policy.calendar;
    let today = zone.local_date(now);
    let end_day = zone.local_date(end);
    let window_start = today.checked_sub_days(Days::new(LOOKBACK_DAYS)).unwrap();
    // The window's last day: the last whose send instant is not past the horizon (today at
    // least).
    let last_day = if local_instant(zone, end_day, send_time) > end {
        end_day.pred_opt().unwrap().max(today)
    } else {
        end_day
    };
    let due = item.due_date(term);
    let item_id = item.id.to_string();

    // Rules as they apply to the client and item.
    let mut rules: Vec<Eff> = Vec::new();
    for (index, r) in policy.rules.iter().enumerate() {
        // A rule off in the policy is not planned; one the client switches off too is
        // explained as off for the client (the planner's reading; the docs are silent).
        if !r.enabled
            && client
                .overrides
                .rules
                .get(&r.id)
                .and_then(|o| o.enabled)
                .is_none()
        {
            continue;
        }
        let o = client.overrides.rules.get(&r.id).cloned().unwrap_or_default();
        let eff = Eff {
            index,
            id: r.id.to_string(),
            anchor: r.anchor,
            offset: o.offset_days.unwrap_or(r.offset_days),
            every: item.reminder_every_days.or(o.every_days).or(r.every_days),
            count: item.reminder_count.or(o.count).unwrap_or(r.count),
            excluded: o.enabled == Some(false),
        };
        rules.push(eff);
    }

    // History about this item: sends by rule (occurrence, local day), manual sends, keys.
    let mut sent_keys: BTreeSet<String> = BTreeSet::new();
    let mut max_occ: BTreeMap<String, u32> = BTreeMap::new();
    // (rule, local day, occurrence)
    let mut sends: Vec<(String, NaiveDate, u32)> = Vec::new();
    let mut manual: Option<NaiveDate> = None;
    // Sends that failed for good or whose outcome is unknown, not released since: (rule,
    // occurrence, local day, kind, key).
    let mut undelivered: Vec<(String, DateTime<Utc>, NaiveDate, &'static str, String)> = Vec::new();
    // The attempts of each rule about the item (sent or not), by instant.
    let mut attempts: Vec<(String, DateTime<Utc>)> = Vec::new();
    for h in history {
        if !h.outcome.is_sent() {
            // HistoryOutcome docs: either "still counts as an attempt of its rule's
            // occurrence"; a `Released` entry of the same key recorded after it undoes it ("the
            // key is planned again").
            let kind = match h.outcome {
                HistoryOutcome::Failed { .. } => "delivery_failed",
                HistoryOutcome::OutcomeUnknown => "outcome_unknown",
                _ => continue,
            };
            let released = history
                .iter()
                .any(|x| x.key == h.key && x.outcome == HistoryOutcome::Released && x.sent_at >= h.sent_at);
            let Some(r) = h.rule.as_ref().filter(|_| !released) else {
                continue;
            };
            // As an attempt it is taken for a send: it supersedes earlier stages and spaces
            // the next (the docs are silent; the planner's reading).
            for hi in h.items.iter().filter(|hi| hi.item == item.id) {
                let m = max_occ.entry(r.to_string()).or_default();
                *m = (*m).max(hi.occurrence);
                let day = zone.local_date(h.sent_at);
                sends.push((r.to_string(), day, hi.occurrence));
                attempts.push((r.to_string(), h.sent_at));
                undelivered.push((r.to_string(), h.sent_at, day, kind, h.key.to_string()));
            }
            continue;
        }
        for hi in h.items.iter().filter(|hi| hi.item == item.id) {
            sent_keys.insert(h.key.to_string());
            let day = zone.local_date(h.sent_at);
            match &h.rule {
                Some(r) => {
                    let m = max_occ.entry(r.to_string()).or_default();
                    *m = (*m).max(hi.occurrence);
                    sends.push((r.to_string(), day, hi.occurrence));
                    attempts.push((r.to_string(), h.sent_at));
                }
                None => manual = manual.max(Some(day)),
            }
        }
    }

    let key = |rule: &str, k: u32| format!("{rule}/{item_id}/{k}");
    let anchor_of = |e: &Eff| -> Option<NaiveDate> {
        match e.anchor {
            Anchor::Issued => Some(item.issued_on),
            Anchor::Due => due,
            _ => None,
        }
    };
    let suppress = |out: &mut RefPlan, rule: &str, k: u32, kind: &str, on: NaiveDate| {
        out.suppressed.push(RefSuppressed {
            key: key(rule, k),
            item: item_id.clone(),
            rule: rule.to_owned(),
            kind: kind.to_owned(),
            on,
        });
    };
    // Within the lookback, and not after the horizon: the send instant of the day (at the
    // send time) not past `now + horizon`.
    // (a day up to today is always within: a stop explained as of now is dated today).
    let in_window =
        |on: NaiveDate| window_start <= on && (on <= today || local_instant(zone, on, send_time) <= end);

    // Whole-item stops.
    let status = item.effective_status().unwrap();
    let item_stop: Option<&'static str> = match status {
        ItemStatus::Paid => Some("paid"),
        ItemStatus::Cancelled => Some("cancelled"),
        ItemStatus::Void => Some("void"),
        ItemStatus::Draft => Some("draft"),
        ItemStatus::Completed => Some("completed"),
        _ => None,
    };
    let client_off = client.overrides.reminders == Some(false);
    let no_recipients = !client.contacts.iter().any(|c| c.notify);

    // The sweep state.
    let mut state: BTreeMap<usize, State> = rules
        .iter()
        .map(|e| {
            let last = sends
                .iter()
                .filter(|(r, ..)| *r == e.id)
                .map(|(_, d, _)| *d)
                .max();
            let next = max_occ.get(&e.id).copied().unwrap_or(0).saturating_add(1);
            (e.index, State::new(next, last))
        })
        .collect();
    // The stage of occurrence `k` of rule `e`: its day before any move, and the rule.
    let nominal_of = |e: &Eff, k: u32| -> Option<(NaiveDate, usize)> {
        let anchor = anchor_of(e)?;
        // (None past the ends of the calendar: odd histories may record any occurrence.)
        let days = i64::from(e.offset) + i64::from(k.max(1) - 1) * i64::from(e.every.unwrap_or(0));
        let nominal = if days >= 0 {
            anchor.checked_add_days(Days::new(days.unsigned_abs()))
        } else {
            anchor.checked_sub_days(Days::new(days.unsigned_abs()))
        }?;
        Some((nominal, e.index))
    };
    // Sends about the item: (rule, local day, planned in this plan rather than read from
    // history, its stage when its rule is known).
    let mut item_sends: Vec<Sent> = sends
        .iter()
        .map(|(r, d, k)| {
            let stage = rules.iter().find(|e| e.id == *r).and_then(|e| nominal_of(e, *k));
            (r.clone(), *d, false, stage)
        })
        .collect();

    // The next step of rule `e` given the sends so far; `day` is the sweep's day (today for the
    // catch-up).
    // `pauses`: whether pauses hold it (not for an occurrence a lasting stop holds anyway).
    // A send of a rule the policy does not have is no stage: it supersedes nothing (the
    // planner's reading; the docs say only that a later stage supersedes an earlier one).
    let known = |r: &str| policy.rules.iter().any(|x| x.id.as_str() == r);
    // The first working day a pause without end that began after `since` and by `by` held
    // an occurrence waiting between them (held back by the gap, missed and waiting for its
    // catch-up, or spaced by a manual send): the earliest, whichever pause comes later
    // (README "Pauses").
    let endless_began = |since: NaiveDate, by: NaiveDate| -> Option<NaiveDate> {
        item.pauses
            .iter()
            .chain(&client.pauses)
            .filter(|p| p.until.is_none())
            .filter_map(|p| p.from.filter(|&f| f > since && f <= by))
            .filter_map(|f| cal.shift(f, Shift::Later))
            .min()
    };
    let step = |e: &Eff, st: &State, item_sends: &[Sent], pauses: bool| -> Step {
        let k = st.next;
        let Some(anchor) = anchor_of(e) else {
            return Step::Stop {
                k,
                kind: SILENT,
                on: today,
            };
        };
        // The count reached.
        // A rule without repeats has no day for a next one: nothing to explain (the
        // planner's reading; the docs are silent).
        // Nor a rule none of whose occurrences went or were superseded (a "due soon" after
        // the due date does not use the count up).
        // Dated the day the next would have gone after the last send, or today when that
        // is past (the planner's reading; the docs say only "explained as of now").
        // Occurrences recorded past the count reach it all the same; said under the first
        // occurrence past the count, and for a rule without repeats, as of now (the planner's
        // reading of odd histories).
        if k > e.count {
            let first_past = e.count + 1;
            return match (e.every, st.last) {
                (Some(every), Some(last)) => Step::Stop {
                    k: first_past,
                    kind: "count_reached",
                    on: add(last, i64::from(every)).max(today),
                },
                (None, Some(_)) if k > first_past => Step::Stop {
                    k: first_past,
                    kind: "count_reached",
                    on: today,
                },
                _ => Step::Stop {
                    k,
                    kind: SILENT,
                    on: today,
                },
            };
        }
        let nominal = add(
            anchor,
            i64::from(e.offset) + i64::from(k - 1) * i64::from(e.every.unwrap_or(0)),
        );
        // Another rule's send on or after this one's day supersedes it (docs: "a stage due later
        // that same day is superseded by the one that went"), and so does one of a later stage
        // that went before it ("only the latest stage ... goes"; a "due soon" moved back off a
        // non-working day: stages in the order of their days, then of the rules).
        // (A "due soon" whose first such send is on or after the due date was too late before
        // it went, whatever went since: not superseded. The plans before that send said so,
        // and a forecast holds once it went. Among them, one that could never go before the
        // due date: the item issued on it or later.)
        let too_late_by =
            |d: NaiveDate| e.anchor == Anchor::Due && due.is_some_and(|due| nominal < due && d >= due);
        let superseded_by = item_sends
            .iter()
            .filter(|(r, d, _, stage)| {
                *r != e.id && known(r) && (*d >= nominal || stage.is_some_and(|s| s > (nominal, e.index)))
            })
            .map(|(_, d, planned, _)| (*d, *planned))
            .min();
        // As of now, a day gone from the window is said (the catch-up would send it now); not
        // later than a send that found it too late (that plan said so).
        let late_as_of = match superseded_by {
            Some((d, _)) if too_late_by(d) => today.min(d),
            _ => today,
        };
        let found_too_late = superseded_by.is_some_and(|(d, _)| too_late_by(d));
        let superseded_by = superseded_by.filter(|(d, _)| !too_late_by(*d));
        // Else, the first of a run a send supersedes is dated the day that send went (its
        // own day, if later: a later stage that went before it), as the plans before it said
        // (it lost that day's batch, or that send moved it); the others of the run (the rule
        // last went or was superseded that day), each on its own day (a run superseded long
        // ago is not explained again).
        let superseded_on = |day: NaiveDate| {
            if st.last == Some(day) || st.passed == Some(day) {
                nominal
            } else {
                day.max(nominal)
            }
        };
        let mut date = nominal;
        let mut bound = None;
        if let (Some(every), Some(last)) = (e.every, st.last) {
            bound = Some(add(last, i64::from(every)));
            date = date.max(add(last, i64::from(every)));
        }
        // A manual send spaces the next automatic one by the rule's spacing; a rule without
        // one is spaced a day (never the same day). The docs name no spacing for a rule
        // without `every_days` (the glossary's "default 3 days" is the seed's form, and
        // `Rule::pending_action` sets its 3 days explicitly): the planner's reading.
        // With a minimum gap, a rule without spacing is spaced by the gap instead (spacing,
        // not a deferral; a lasting stop is dated after it too: the planner's reading).
        // (Spaced so by the gap, it was to go on the working day from its own day: late from
        // then on, as when the gap holds it back.)
        let mut gap_spaced_from = None;
        // Held for good before a manual send spaced it: by a pause without end that covered
        // its own day, or began while it waited, by the manual send (not a "due soon" too
        // late by then): it stays so, on that day (README "Pauses": said in every plan, the
        // same way; a manual send spaces the next repeat, it does not move this one).
        let held_before_manual = manual.filter(|_| pauses).and_then(|m| {
            let base = date.max(item.issued_on);
            let before_due = e.anchor == Anchor::Due && due.is_some_and(|d| nominal < d);
            let own = if before_due {
                cal.shift(base, Shift::Earlier)
                    .filter(|&x| x >= item.issued_on)
                    .or_else(|| cal.shift(base, Shift::Later))
            } else {
                cal.shift(base, Shift::Later)
            }
            .filter(|&own| own < m)?;
            let all = || item.pauses.iter().chain(&client.pauses);
            // (One a pause with an end held on its own day waited too, once that pause ended.)
            let held = if all().any(|p| p.until.is_none() && p.is_active(own)) {
                own
            } else {
                endless_began(own, m)?
            };
            (held <= m && !(before_due && due.is_some_and(|d| d <= held))).then_some(held)
        });
        if let Some(m) = manual {
            let spacing = e.every.map_or(gap.max(1), i64::from);
            bound = bound.max(Some(add(m, spacing)));
            if e.every.is_none() && gap > 0 && add(m, spacing) > date {
                gap_spaced_from = cal.shift(date.max(item.issued_on), Shift::Later);
            }
            date = date.max(add(m, spacing));
        }
        // The minimum gap after the client's last message in history: never before the first
        // day it allows, as a manual send spaces it (the planner's reading of a reminder due
        // before that message and still unsent: had the ticks run, the gap held it then).
        // (The gap after the client's last message in history is one of `holds`.)
        // (The day it goes had every plan run at its send time: a held catch-up's floor aside.)
        let unheld = date.max(item.issued_on);
        // Spaced (after the rule's last send or a manual one): a "due soon" so taken to its due
        // date or later is too late from the due date, not from the day the spacing took it to
        // (README "Missed sends": held back by the spacing, a pause or the minimum gap). The
        // day it was to go unspaced (its day, or the item's issue if later, moved off a
        // non-working day: earlier unless that is before the issue), where the spacing moved
        // it (the day it let it go, or the way off a non-working day).
        let off_non_working = |d: NaiveDate, floor: NaiveDate| {
            cal.shift(d, Shift::Earlier)
                .filter(|&e| e >= floor)
                .or_else(|| cal.shift(d, Shift::Later))
                .unwrap_or(d)
        };
        let base = nominal.max(item.issued_on);
        let unspaced = Some(off_non_working(base, item.issued_on))
            .filter(|&u| u != off_non_working(unheld, bound.unwrap_or(item.issued_on).max(item.issued_on)));
        // A held catch-up goes the day after the pause, or the next working day after it
        // (never earlier: back inside the pause).
        // Held back by the gap, it goes on the first day the gap allows (moved off it if that
        // is a non-working day), even when its own day comes later (a "due soon" moved back).
        let deferred = st.held.last().is_some_and(|h| h.2 == "deferred");
        let floored = st
            .floor
            .is_some_and(|floor| floor > date.max(item.issued_on) || deferred);
        if let Some(floor) = st.floor {
            date = if deferred {
                floor.max(bound.unwrap_or(floor))
            } else {
                date.max(floor)
            };
        }
        // Never before the item is issued (as the cadence oracle of tests/cadence.rs reads
        // the docs).
        date = date.max(item.issued_on);
        // Moved off a non-working day (before-due reminders earlier, others later), then
        // past the pauses that cover the day it would go: one without end stops; one with an
        // end moves it to the day after, and the calendar again.
        let before_due = e.anchor == Anchor::Due && due.is_some_and(|due| nominal < due);
        if !before_due && unheld > last_day {
            // Past the horizon's last day and only ever moved later: not decided by this plan
            // (a pause past the horizon, say, is not said; a send planned before it may still
            // supersede it). The planner's reading: the docs explain only the window.
            if let Some((day, planned)) = superseded_by {
                // (By a send planned on the very day it would go, past the window: a stage
                // of that day's batch, dated that day.)
                return Step::Skip {
                    k,
                    kind: "superseded",
                    on: if planned && day == date {
                        day
                    } else {
                        superseded_on(day)
                    },
                    sent: Some(day),
                    notes: Vec::new(),
                };
            }
            // (Held for good before the manual send that spaced it past the horizon: said so
            // all the same, as the plans before that send said.)
            if let Some(held) = held_before_manual {
                return Step::Stop {
                    k,
                    kind: "paused",
                    on: held,
                };
            }
            return Step::Go {
                k,
                nominal,
                on: date,
                at: local_instant(zone, date, send_time),
                moved: Vec::new(),
                moved_back: None,
                paused_from: Vec::new(),
                after_other: Vec::new(),
                late_as_of,
                first_day: st.held.iter().map(|h| h.0).fold(date, NaiveDate::min),
            };
        }
        let shift = if before_due && !floored {
            Shift::Earlier
        } else {
            Shift::Later
        };
        let mut on = cal.shift(date, shift).unwrap();
        // (Nor before the item is issued: the same, the planner's reading of "never a reminder
        // about an item before it exists".)
        if bound.is_some_and(|b| on < b) || on < item.issued_on {
            // Spaced after a send, then moved earlier off a non-working day: back inside the
            // spacing. The spacing holds (a reminder never goes inside it), so the calendar
            // moves it later instead; on or after the due date it is a "due soon" too late.
            on = cal.shift(date, Shift::Later).unwrap();
        }
        // `from != on` says it moved off a non-working day.
        let mut moved = if on == date { vec![] } else { vec![date] };
        let moved_back = (on < date).then_some(date);
        let mut paused_from: Vec<Hold> = Vec::new();
        // Nor before the day the gap last allowed the rule, when it held the previous
        // occurrence back until that was too late: deferred (the planner's reading).
        // The day it was to go before a pause or the gap held it back.
        let to_go = on;
        // (Not while a pause covers that day: the pauses hold it first and the gap once they
        // no longer do, as for the gap after a message in history (`past_pauses`), below: a
        // "due soon" held past its due date from its own day by a pause and the gap alike is
        // held by the pause, said so on that day past the window (the planner's reading).)
        let paused_on =
            |d: NaiveDate| pauses && item.pauses.iter().chain(&client.pauses).any(|p| p.is_active(d));
        if let Some(f) = st.gap_floor.filter(|f| on < *f && !paused_on(on)) {
            paused_from.push((on, add(f, -1), "deferred"));
            on = cal.shift(f, Shift::Later).unwrap();
            if on != f {
                moved.push(f);
            }
        }
        // A pause with an end that held it on a working day the gap (deferring it from `from`
        // to `until`) held it too, and that would have let it go on `on`, the day the gap does:
        // the pause held it last, named after the gap (README "Pauses" and "Minimum gap": as
        // forecast before the message that set the gap went); not one `named` already.
        let ending_with_gap = |from: NaiveDate, until: NaiveDate, on: NaiveDate, named: &[Hold]| {
            item.pauses.iter().chain(&client.pauses).find_map(|p| {
                let end = p.until?;
                let held = cal.shift(p.from.map_or(from, |f| f.max(from)), Shift::Later)?;
                let released = cal.shift(add(end, 1), Shift::Later)?;
                let said = named.iter().any(|h| h.2 == "paused_until" && h.1 == end);
                (held <= until && held <= end && released == on && !said).then_some((
                    held,
                    end,
                    "paused_until",
                ))
            })
        };
        // A pause without end that begins while the gap holds it back (deferred from `from`,
        // held through `until`): it holds it for good from its first working day, whatever
        // message to the client comes later and moves the gap's end (README "Pauses").
        let endless_in = |from: NaiveDate, until: NaiveDate| -> Option<NaiveDate> {
            let goes = cal.shift(add(until, 1), Shift::Later)?;
            endless_began(from, goes).filter(|_| pauses)
        };
        // Past the pauses that cover `on`: whether one without end holds it.
        let past_pauses = |on: &mut NaiveDate, moved: &mut Vec<NaiveDate>, paused_from: &mut Vec<_>| loop {
            let active = item
                .pauses
                .iter()
                .chain(&client.pauses)
                .filter(|p| pauses && p.is_active(*on))
                .max_by_key(|p| p.until.map_or(NaiveDate::MAX, |u| u));
            // The minimum gap after the client's last message in history holds it back like a
            // pause with an end (after the pauses). (A send planned now holds back the stage
            // that wins the item's day instead, below.)
            let gap = holds
                .iter()
                .filter(|h| pauses && h.0 == NaiveDate::MIN && *on <= h.1)
                .map(|h| h.1)
                .max();
            match (active, gap) {
                (None, None) => return false,
                (None, Some(u)) => {
                    let from = *on;
                    if let Some(held) = endless_in(from, u) {
                        *on = held;
                        return true;
                    }
                    let after = add(u, 1);
                    let goes = cal.shift(after, Shift::Later).unwrap();
                    // A missed send (its day before today) would have gone from today: the
                    // pauses with an end that hold it from today's first working day on, one
                    // after the other, before the gap's end, held it before the gap did, each
                    // named on the first working day it covers, as the plans of those days
                    // said without the gap (README "Pauses": "each names the pause
                    // (`SuppressReason::PausedUntil` on the day it held it back)"; "Minimum
                    // gap": "the gap first held it before today and the pause holds it from
                    // today's first working day on (then the pause is named on that day)").
                    // (One that ends with the gap is named after the deferral, below: from
                    // the day this walk reached it, `tie_from`.)
                    let mut day = cal.shift(today, Shift::Later).filter(|_| from < today);
                    let mut tie_from = from;
                    while let Some(d) = day.filter(|&d| d <= u) {
                        let held = item
                            .pauses
                            .iter()
                            .chain(&client.pauses)
                            .filter(|p| p.is_active(d))
                            .max_by_key(|p| p.until.map_or(NaiveDate::MAX, |u| u));
                        let Some(end) = held.and_then(|p| p.until).filter(|&end| end <= u) else {
                            break;
                        };
                        let released = cal.shift(add(end, 1), Shift::Later);
                        if released == Some(goes) {
                            tie_from = d;
                            break;
                        }
                        paused_from.push((d, end, "paused_until"));
                        day = released;
                    }
                    paused_from.push((from, u, "deferred"));
                    *on = goes;
                    // A pause that ends with the gap held it last (its send instant passed
                    // during the pause). One that holds a missed send from today on is named
                    // as of today's first working day, as the pause alone would be (README
                    // "Minimum gap": "as a reminder a pause alone held back does (before and
                    // after the message that set the gap is in history alike)"), not from its
                    // first day before today (that is said once it no longer holds it).
                    let tie = ending_with_gap(tie_from, u, *on, paused_from);
                    paused_from.extend(tie);
                    if *on != after {
                        moved.push(after);
                    }
                }
                (Some(p), _) => match p.until {
                    None => return true,
                    Some(u) => {
                        paused_from.push((*on, u, "paused_until"));
                        let after = add(u, 1);
                        *on = cal.shift(after, Shift::Later).unwrap();
                        if *on != after {
                            moved.push(after);
                        }
                    }
                },
            }
        };
        let mut paused_for_good = past_pauses(&mut on, &mut moved, &mut paused_from);
        // Past those pauses, the gap that held the previous occurrence back still holds it.
        if let Some(f) = st.gap_floor.filter(|f| !paused_for_good && on < *f) {
            paused_from.push((on, add(f, -1), "deferred"));
            on = cal.shift(f, Shift::Later).unwrap();
            if on != f {
                moved.push(f);
            }
            paused_for_good = past_pauses(&mut on, &mut moved, &mut paused_from);
        }
        if let Some(held) = held_before_manual {
            on = held;
            paused_for_good = true;
        }
        // Held back by the gap after a send planned now, into a pause without end: held for
        // good from the pause's first working day.
        if let Some(&(from, until, "deferred")) = st.held.last() {
            if let Some(held) = endless_in(from, until) {
                on = held;
                paused_for_good = true;
            }
        }
        // Whether a pause was the last to hold it back (its send instant passed during the
        // pause: it goes at the start of the day after, as a missed send does).
        // (Not the gap: a deferred reminder goes at the send time.)
        let pause_last = |paused_from: &[Hold]| paused_from.last().is_some_and(|h| h.2 == "paused_until");
        let mut paused_last = pause_last(&paused_from);
        // Held back by the gap after a send planned now (the ready occurrence deferred, in
        // `held`): a pause with an end that held it on a working day in between and would have
        // let it go on the day the gap does held it last, named after the deferral (README
        // "Minimum gap"; as for the gap after a message in history, in `past_pauses`).
        if let Some(&(from, until, "deferred")) = st.held.last() {
            if pauses && paused_from.is_empty() && !paused_for_good {
                if let Some(t) = ending_with_gap(from, until, on, &st.held) {
                    paused_from.push(t);
                    paused_last = true;
                }
            }
        }
        if let Some((day, planned)) = superseded_by {
            // Dated the day of a send planned now that supersedes it on its own day (a batch
            // of one day), else its nominal day (so one superseded long ago is not explained
            // again); the rule is spaced from that send.
            let on = if planned && day == on {
                on
            } else {
                superseded_on(day)
            };
            let mut notes = Vec::new();
            if planned && day == on && !in_window(on) {
                for &(from, until, kind) in st.held.iter().chain(&paused_from) {
                    let at = if from >= window_start {
                        from
                    } else if until >= today {
                        today
                    } else {
                        continue;
                    };
                    notes.push((kind, at));
                }
                for &from in st.held_moves.iter().chain(&moved) {
                    notes.push(("moved_off_non_working_day", from));
                }
            }
            return Step::Skip {
                k,
                kind: "superseded",
                on,
                sent: Some(day),
                notes,
            };
        }
        // One reminder a day about an item: on a day another reminder about it went (or goes),
        // of an earlier stage (a later one superseded it above), it goes on the next working
        // day (README "Missed sends": "a stage due later that same day is superseded by the
        // one that went" holds for stages of that day; one moved back onto it from a later
        // non-working day is not due yet, and moves on instead).
        let mut after_other = Vec::new();
        while !paused_for_good && item_sends.iter().any(|(r, d, ..)| *r != e.id && *d == on) {
            let next = cal.shift(add(on, 1), Shift::Later).unwrap();
            // Under a minimum gap, a reminder about the item planned to go that day is a
            // message to the client: the gap after it holds this one back from that day
            // (deferred, not moved after another reminder: the planner's reading, which
            // applies the gap before the one-a-day move). But a "due soon" the one-a-day move
            // would make too late is too late on the day it moves to (the planner's reading
            // too: that move is tried first).
            // (Not a catch-up planned on a non-working today for the start of the next
            // working day: the gap does not count from it before that day, and the one-a-day
            // move applies: the planner's reading.)
            let planned_that_day = item_sends.iter().any(|(r, d, planned, stage)| {
                *r != e.id
                    && *d == on
                    && *planned
                    && (*d <= today || stage.is_none_or(|(nominal, _)| nominal >= today))
            });
            let too_late_next = before_due && due.is_some_and(|due| next >= due);
            // (But a later stage moved back onto the day an earlier stage goes, its own day
            // still to come, that the gap after that send no longer holds on the next working
            // day, moves on to it, as README "Missed sends" says of it: "goes on the next
            // working day instead (`AfterAnotherReminder`)"; the gap held it only while it
            // holds it there too (deferred from that day then: the planner's reading, as it
            // moves such a stage past the send of its day and applies the gap first where the
            // gap holds it; reference sweep seed 204, and seed 4 for the gap holding it).)
            let moves_past = nominal > on
                && next > add(on, gap - 1)
                && item_sends.iter().any(|(r, d, planned, stage)| {
                    *r != e.id && *d == on && *planned && stage.is_some_and(|s| s < (nominal, e.index))
                });
            if gap > 0 && planned_that_day && !too_late_next && !moves_past {
                let until = add(on, gap - 1);
                if let Some(held) = endless_in(on, until) {
                    on = held;
                    paused_for_good = true;
                    continue;
                }
                paused_from.push((on, until, "deferred"));
                let after = add(until, 1);
                on = cal.shift(after, Shift::Later).unwrap();
                if on != after {
                    moved.push(after);
                }
                let held = paused_from.len();
                paused_for_good = past_pauses(&mut on, &mut moved, &mut paused_from);
                paused_last = paused_from.len() > held && pause_last(&paused_from);
                continue;
            }
            after_other.push(on);
            on = next;
            let held = paused_from.len();
            paused_for_good = past_pauses(&mut on, &mut moved, &mut paused_from);
            paused_last = paused_from.len() > held && pause_last(&paused_from);
        }
        // Held for good from its due date or later, a "due soon" was too late first: said
        // so below, whatever pause holds it then (README "Missed sends"; the planner's
        // reading, as for a catch-up past its due date).
        let too_late_when_held = paused_for_good && before_due && due.is_some_and(|due| on >= due);
        if paused_for_good && !too_late_when_held {
            return Step::Stop {
                k,
                kind: "paused",
                on,
            };
        }
        // The day it was to go before a pause or the gap held it back (`on` if nothing did).
        let first_day = (st.held.iter().chain(&paused_from).map(|h| h.0))
            .chain(gap_spaced_from)
            .chain(unspaced)
            .fold(on, NaiveDate::min);
        if before_due && due.is_some_and(|due| on >= due) {
            // Held past the due date by a pause, on a day past the window: the pause says
            // why, on the day it held it back (today if that was before the window).
            // (A catch-up the pause held back first: the day it held it.)
            // (Held back by the gap first: said as too late, the planner's reading.)
            let first_hold = st
                .held
                .first()
                .or(paused_from.first())
                .copied()
                .filter(|h| h.2 != "deferred");
            // (Not once the due date came: too late since then.)
            if let Some((from, until, kind)) =
                first_hold.filter(|_| !too_late_when_held && !in_window(on) && due.is_some_and(|d| today < d))
            {
                let held = if from >= window_start {
                    Some(from)
                } else if until >= today {
                    Some(today)
                } else {
                    None
                };
                if let Some(held) = held {
                    return Step::Skip {
                        k,
                        kind,
                        on: held,
                        sent: None,
                        notes: Vec::new(),
                    };
                }
            }
            // Too late from the first day it was: its due date, or the day it was to go
            // before a pause or the gap held it if later (whatever the client was sent since).
            // (A day gone from the window: as of now, as the catch-up would send it now.)
            // (Held for good, it waited from the day it was to go: the holds that led
            // there are not kept.)
            let first_day = if too_late_when_held {
                first_day.min(to_go)
            } else {
                first_day
            };
            let first = due.map_or(on, |due| first_day.max(due));
            // (A day past the window, when a send found it too late since: that plan said so.)
            return Step::Skip {
                k,
                kind: "due_soon_after_due",
                on: if first < window_start || (!in_window(first) && found_too_late) {
                    late_as_of
                } else {
                    first
                },
                sent: None,
                notes: Vec::new(),
            };
        }
        Step::Go {
            k,
            nominal,
            moved,
            moved_back,
            on,
            at: local_instant(zone, on, if paused_last { NaiveTime::MIN } else { send_time }),
            first_day,
            paused_from,
            after_other,
            late_as_of,
        }
    };

    let before_start = |e: &Eff| -> Option<NaiveDate> {
        let c = &policy.collection;
        if let (Some(start), Some(due)) = (c.past_items, due) {
            if due < start {
                return Some(start);
            }
        }
        if e.anchor == Anchor::Issued {
            if let Some(start) = c.new_items {
                if item.issued_on < start {
                    return Some(start);
                }
            }
        }
        None
    };
    // Stops that hold for every rule of the item.
    let lasting_before = |e: &Eff| -> Option<&'static str> {
        if client_off {
            Some("client_reminders_off")
        } else if e.excluded {
            Some("excluded_for_client")
        } else if !item.reminders {
            Some("item_reminders_off")
        } else {
            None
        }
    };
    let lasting_after = |e: &Eff| -> Option<&'static str> {
        before_start(e)
            .map(|_| "before_collection_start")
            .or(no_recipients.then_some("no_recipients"))
    };

    // Lasting stops: the occurrence the rule would send now or within the horizon, explained
    // once, as of now.
    // Dated on its day when that is within the window, else today (docs: "dated within the
    // plan's window ... however long ago its reminder was first due").
    let working_today = cal.is_working_day(today);
    let go_day = if working_today {
        today
    } else {
        cal.shift(today, Shift::Later).unwrap()
    };
    // ...or, long ago, the day a catch-up would go (today, or the next working day).
    let as_of_now = move |_at: DateTime<Utc>, on: NaiveDate| if on < window_start { go_day } else { on };
    // The day a "due soon" whose catch-up would go on or after its due date is said too late
    // on: the first day it was (its due date, or the day it was to go, `first_day`, if later),
    // today or still to come; once out of the window, as of now (`late_as_of`), as the
    // catch-up would send it now.
    let caught_up_too_late = |due: NaiveDate, first_day: NaiveDate, late_as_of: NaiveDate| {
        let first = first_day.max(due);
        if in_window(first) || first > today {
            first
        } else {
            late_as_of
        }
    };
    let pause_on = |day: NaiveDate| {
        item.pauses
            .iter()
            .chain(&client.pauses)
            .filter(|p| p.is_active(day))
            .max_by_key(|p| p.until.map_or(NaiveDate::MAX, |u| u))
            .cloned()
    };
    // The pauses that held back a catch-up of `on` on its way to today (docs: a catch-up a
    // pause held back names it): each pause with an end that covered a working day after
    // `on` and before today, as (the first such day, its end).
    let past_holds = |on: NaiveDate| -> Vec<Hold> {
        let mut held: Vec<Hold> = item
            .pauses
            .iter()
            .chain(&client.pauses)
            .filter_map(|p| {
                let until = p.until?;
                let first = on.succ_opt()?;
                let last = today.pred_opt()?;
                let day = cal.shift(p.from.map_or(first, |f| f.max(first)), Shift::Later)?;
                (day <= until.min(last)).then_some((day, until, "paused_until"))
            })
            .collect();
        held.sort();
        held
    };
    // The order of the reasons is the planner's (the docs list them without an order): the
    // item's status, then the client's switch, the rule off for the client, the item's
    // switch, the collection start, no recipients.
    for e in &rules {
        let st = state.get_mut(&e.index).unwrap();
        let stop = item_stop.or(lasting_before(e)).or_else(|| lasting_after(e));
        if let Some(kind) = stop {
            // The occurrence the rule would send now or later (a "due soon" whose catch-up
            // would come on or after the due date would not be sent: the next one).
            let mut found = None;
            // The first "due soon" too late by now (its due date came, or comes before its
            // catch-up would go), and the day that is said on: for an open item the stop is
            // said there when nothing later is held (README: a lasting stop of an open item
            // is explained in every plan, once per item and rule; the day is the planner's).
            let mut too_late: Option<(u32, NaiveDate)> = None;
            for _ in 0..=e.count {
                match step(e, st, &item_sends, false) {
                    Step::Go {
                        k,
                        nominal,
                        at,
                        on,
                        late_as_of,
                        first_day,
                        ..
                    } => {
                        // Its catch-up would go on `go_day` (pauses aside: the stop holds
                        // it anyway).
                        if let Some(due) = due
                            .filter(|&due| at <= now && before_due_of(e, Some(due), nominal) && go_day >= due)
                        {
                            // (Said as a "due soon" too late is, below.)
                            too_late.get_or_insert((k, caught_up_too_late(due, first_day, late_as_of)));
                            st.next = k + 1;
                            continue;
                        }
                        found = Some((k, at, on));
                        break;
                    }
                    Step::Skip {
                        k, kind, on, sent, ..
                    } => {
                        if kind == "due_soon_after_due" && sent.is_none() {
                            too_late.get_or_insert((k, on));
                        }
                        if sent.is_some() {
                            st.last = st.last.max(sent);
                            st.passed = sent;
                        }
                        st.next = k + 1;
                    }
                    Step::Stop { .. } => break,
                }
            }
            if let Some((k, at, on)) = found {
                if item_stop.is_some() {
                    if in_window(on) {
                        suppress(out, &e.id, k, kind, on);
                    }
                } else if in_window(as_of_now(at, on)) {
                    suppress(out, &e.id, k, kind, as_of_now(at, on));
                }
            } else if let (None, Some((k, on))) = (item_stop, too_late) {
                if in_window(on) {
                    suppress(out, &e.id, k, kind, on);
                }
            }
            st.done = true;
        }
    }

    // Catch-up: every occurrence whose send instant has passed unsent.
    // A hold by a pause that ends is explained on the day it would have gone, in the window;
    // one that holds it past the horizon lasts, and is explained as of now.
    // A hold that began before the window is explained as of today while the pause lasts.
    // The winner's explanations: the pause that held it, the non-working days it moved off,
    // the days another reminder about the item went.
    // Whether the pause that ends on `end` holds a reminder on `d` (a hold of `paused_from`
    // starts where the gap let the reminder go, which may be after the pause began).
    let holds_on = |d: NaiveDate, end: NaiveDate| {
        item.pauses
            .iter()
            .chain(&client.pauses)
            .any(|p| p.until == Some(end) && p.is_active(d))
    };
    let explain_moves = |out: &mut RefPlan, e: &Eff, r: &Ready, _lasting: bool| {
        if r.meant.is_some() && r.paused_from.iter().any(|h| h.2 == "deferred") {
            // A catch-up held back by the gap: said once, deferred since it first waited (as of now when
            // that is before the window); the pauses that held it from today on, before the gap
            // did, are named (README "Pauses": each names the pause;
            // `a_reminder_a_pause_then_the_gap_held_back_names_the_pause`), those that held it
            // between the day it was meant for and today are not (the planner's reading).
            // (Dated the day it was meant for, or the gap first held it back; not the day a
            // pause first held it back.)
            let since = r
                .paused_from
                .iter()
                .filter(|h| h.2 == "deferred")
                .map(|h| h.0)
                .chain(r.meant)
                .fold(r.on, NaiveDate::min);
            let on = if since < window_start { today } else { since };
            if in_window(on) {
                suppress(out, &e.id, r.k, "deferred", on);
            }
            // (A pause after the gap last held it is said, and one that held it on its way to
            // the day it was meant for.)
            let last = r.paused_from.iter().rposition(|h| h.2 == "deferred").unwrap_or(0);
            let from_today = held_from_today(r, today, |d| cal.shift(d, Shift::Later), holds_on);
            for (i, &(from, until, kind)) in r.paused_from.iter().enumerate() {
                if i < last && r.meant.is_none_or(|m| from >= m) && from < today {
                    continue;
                }
                // (Nor one between two deferrals by the gap, but as it held it from today.)
                if kind != "deferred" && between_deferrals(r, from) && !from_today.iter().any(|h| h.0 == from)
                {
                    continue;
                }
                let on = if from >= window_start {
                    from
                } else if until >= today {
                    today
                } else {
                    continue;
                };
                if kind != "deferred" && in_window(on) {
                    suppress(out, &e.id, r.k, kind, on);
                }
            }
            let moves = (0..r.moved.len())
                .filter(|&i| {
                    // (Nor one after the day it was meant for and before the gap last held it,
                    // but for the move of a "due soon" back onto that day.)
                    let m = r.moved[i];
                    let last = r
                        .paused_from
                        .iter()
                        .rev()
                        .find(|h| h.2 == "deferred")
                        .map(|h| h.0);
                    let after_meant = r.meant.is_some_and(|meant| meant <= m)
                        && !is_move_back(r, i)
                        && last.is_some_and(|l| m < l);
                    !(moved_between_deferrals(r, i) || after_meant)
                })
                .map(|i| ("moved_off_non_working_day", r.moved[i]));
            let others = r.after_other.iter().map(|&from| ("after_another_reminder", from));
            for (kind, on) in moves.chain(others) {
                if in_window(on) {
                    suppress(out, &e.id, r.k, kind, on);
                }
            }
            return;
        }
        // (Deferred by the gap long ago: as of now, the planner's reading.)
        let from_today = held_from_today(r, today, |d| cal.shift(d, Shift::Later), holds_on);
        let pauses = r.paused_from.iter().filter_map(|&(from, until, kind)| {
            if kind != "deferred" && between_deferrals(r, from) {
                // Between two deferrals, only a pause that held it from today on is named.
                return from_today
                    .iter()
                    .find(|h| h.0 == from)
                    .map(|h| (kind, h.1))
                    .filter(|h| in_window(h.1));
            }
            let on = if from >= window_start {
                from
            } else if until >= today || kind == "deferred" {
                today
            } else {
                return None;
            };
            Some((kind, on))
        });
        let moves = (0..r.moved.len())
            .filter(|&i| !moved_between_deferrals(r, i))
            .map(|i| ("moved_off_non_working_day", r.moved[i]));
        let others = r.after_other.iter().map(|&from| ("after_another_reminder", from));
        // (Held back by the gap again, it is said deferred once: the planner's reading.)
        let mut deferred = false;
        for (kind, on) in pauses.chain(moves).chain(others) {
            if kind == "deferred" && std::mem::replace(&mut deferred, true) {
                continue;
            }
            if in_window(on) {
                suppress(out, &e.id, r.k, kind, on);
            }
        }
    };
    // A skipped occurrence `(k, kind, on)`: said when in the window, with what held it back
    // when that is said instead; the rule moves on past it.
    let skip = |out: &mut RefPlan,
                e: &Eff,
                st: &mut State,
                (k, kind, on): (u32, &'static str, NaiveDate),
                sent: Option<NaiveDate>,
                notes: Vec<(&'static str, NaiveDate)>| {
        for (kind, at) in std::iter::once((kind, on)).chain(notes) {
            if in_window(at) {
                suppress(out, &e.id, k, kind, at);
            }
        }
        st.skip(k, sent);
    };
    let rule_of = |i: usize| rules.iter().find(|e| e.index == i).unwrap();
    let mut ready: Vec<Ready> = Vec::new();
    for e in &rules {
        loop {
            let st = state.get_mut(&e.index).unwrap();
            if st.done {
                break;
            }
            match step(e, st, &item_sends, true) {
                Step::Go {
                    k,
                    nominal,
                    moved,
                    moved_back,
                    on,
                    at,
                    paused_from,
                    after_other,
                    late_as_of,
                    first_day,
                } => {
                    if at <= now {
                        // It would go on `go_day`: a "due soon" never on or after the due date
                        // (unless a pause without end held it for good before that date: it
                        // was dropped then, said below).
                        if let Some(due) = due
                            .filter(|&due| before_due_of(e, Some(due), nominal) && go_day >= due)
                            .filter(|&due| endless_began(on, go_day).is_none_or(|f| f >= due))
                        {
                            let on = caught_up_too_late(due, first_day, late_as_of);
                            if in_window(on) {
                                suppress(out, &e.id, k, "due_soon_after_due", on);
                            }
                            st.skip(k, None);
                            continue;
                        }
                        // Nothing goes while a pause covers the day it would go.
                        if let Some(p) = pause_on(go_day) {
                            match p.until {
                                None => {
                                    // Dated the pause's first working day if it began while
                                    // the catch-up waited (the first that did, if two did),
                                    // else the day it would go (README "Pauses": held for
                                    // good, said the same way in every plan); as of today
                                    // once that day has left the window (the day it would
                                    // go may be past the plan's last day: said all the
                                    // same); one still to come past the horizon is not said.
                                    let held = endless_began(on, go_day).unwrap_or(go_day);
                                    let held = if in_window(held) { held } else { held.max(today) };
                                    if in_window(held) {
                                        suppress(out, &e.id, k, "paused", held);
                                    }
                                    st.done = true;
                                    break;
                                }
                                Some(u) => {
                                    // Held back from the day it would go (moved off a
                                    // non-working today first) to the day after the pause;
                                    // it stays a catch-up.
                                    st.held_moves = moved;
                                    st.held_back = st.held_back.or(moved_back);
                                    if !working_today {
                                        st.held_moves.push(today);
                                    }
                                    st.floor = Some(add(u, 1));
                                    if st.held.is_empty() {
                                        st.held = paused_from;
                                        st.held.extend(past_holds(on).into_iter().filter(|h| h.1 != u));
                                        st.held.push((go_day, u, "paused_until"));
                                    }
                                    st.caught = true;
                                    st.meant = st.meant.or(Some(on));
                                    continue;
                                }
                            }
                        }
                        ready.push(Ready {
                            index: e.index,
                            k,
                            nominal,
                            moved,
                            moved_back,
                            paused_from: st
                                .held
                                .iter()
                                .copied()
                                .chain(paused_from)
                                .chain(past_holds(on))
                                .collect(),
                            after_other,
                            on,
                            at,
                            caught: true,
                            meant: st.meant,
                        });
                    }
                    break;
                }
                Step::Skip {
                    k,
                    kind,
                    on,
                    sent,
                    notes,
                } => skip(out, e, st, (k, kind, on), sent, notes),
                Step::Stop { k, kind, on } => {
                    // A stop long ago is explained as of today.
                    let on = if on < window_start { today } else { on };
                    if in_window(on) && kind != SILENT {
                        suppress(out, &e.id, k, kind, on);
                    }
                    st.done = true;
                    break;
                }
            }
        }
    }
    // The occurrences of a "due soon" (a rule counting back from the due date) never sent,
    // though a later one of the rule went on or after the due date: too late before it went,
    // still said so as the plans before it said (README "Missed sends": "whatever the client
    // is sent since", "as long as that day is within the lookback"; older, as of now, but not
    // later than the day that later one went: a send that found them too late, as another
    // rule's is). Each run of them is worked out again as the rule's next, from its sends
    // before it. One of the rule sent before the due date supersedes those before it (none
    // said, as before); so does another rule's send before the due date, as ever.
    if let Some(due) = due.filter(|&d| today >= d) {
        for e in &rules {
            let stopped = item_stop
                .or(lasting_before(e))
                .or_else(|| lasting_after(e))
                .is_some();
            let max = max_occ.get(&e.id).copied().unwrap_or(0);
            if stopped || max < 2 || e.anchor != Anchor::Due {
                continue;
            }
            let of_rule: Vec<(u32, NaiveDate)> = sends
                .iter()
                .filter(|(r, ..)| *r == e.id)
                .map(|(_, d, k)| (*k, *d))
                .collect();
            let went = |k: u32| of_rule.iter().any(|s| s.0 == k);
            let before = |k: u32| nominal_of(e, k).is_some_and(|(n, _)| n < due);
            let last = (max - 1).min(e.count);
            let mut k = 1;
            while k <= last {
                if went(k) || !before(k) {
                    k += 1;
                    continue;
                }
                let mut end = k;
                while end < last && !went(end + 1) && before(end + 1) {
                    end += 1;
                }
                let by = of_rule.iter().filter(|s| s.0 > end).map(|s| s.1).min();
                if let Some(by) = by.filter(|&d| d >= due) {
                    let run = Eff {
                        count: end,
                        ..e.clone()
                    };
                    let mut st = State::new(k, of_rule.iter().filter(|s| s.0 < k).map(|s| s.1).max());
                    for _ in k..=end {
                        match step(&run, &st, &item_sends, true) {
                            // (Held for good before its due date by a pause without end that
                            // began while it waited: dropped then, as the plans before the later
                            // one went said; not too late.)
                            Step::Go { on, .. } if endless_began(on, go_day).is_some_and(|f| f < due) => {
                                break;
                            }
                            Step::Go {
                                k: j,
                                at,
                                first_day,
                                late_as_of,
                                ..
                            } if at <= now => {
                                let on = caught_up_too_late(due, first_day, late_as_of).min(by);
                                if in_window(on) {
                                    suppress(out, &e.id, j, "due_soon_after_due", on);
                                }
                                st.skip(j, None);
                            }
                            Step::Skip {
                                k: j, kind, on, sent, ..
                            } => {
                                if kind == "due_soon_after_due" && in_window(on.min(by)) {
                                    suppress(out, &e.id, j, kind, on.min(by));
                                }
                                st.skip(j, sent);
                            }
                            _ => break,
                        }
                    }
                }
                k = end + 1;
            }
        }
    }
    // The occurrences of a rule never sent, though a later one of the rule went, that a
    // send of another rule (or a later stage) superseded before that later one went: still
    // said superseded, as the plans before it said (README "Explains itself": "the same way,
    // on the same day, from then on"). Each run of them is worked out again as the rule's
    // next, from its sends before it; what else held them back is not said again.
    for e in &rules {
        let stopped = item_stop
            .or(lasting_before(e))
            .or_else(|| lasting_after(e))
            .is_some();
        let max = max_occ.get(&e.id).copied().unwrap_or(0);
        if stopped || max < 2 {
            continue;
        }
        let of_rule: Vec<(u32, NaiveDate)> = sends
            .iter()
            .filter(|(r, ..)| *r == e.id)
            .map(|(_, d, k)| (*k, *d))
            .collect();
        let went = |k: u32| of_rule.iter().any(|s| s.0 == k);
        let last = (max - 1).min(e.count);
        let mut k = 1;
        while k <= last {
            if went(k) {
                k += 1;
                continue;
            }
            let mut end = k;
            while end < last && !went(end + 1) {
                end += 1;
            }
            let by = of_rule.iter().filter(|s| s.0 > end).map(|s| s.1).min();
            if let Some(by) = by {
                let run = Eff {
                    count: end,
                    ..e.clone()
                };
                let mut st = State::new(k, of_rule.iter().filter(|s| s.0 < k).map(|s| s.1).max());
                for _ in k..=end {
                    match step(&run, &st, &item_sends, true) {
                        Step::Skip {
                            k: j, kind, on, sent, ..
                        } => {
                            if kind == "superseded" && on <= by && in_window(on) {
                                suppress(out, &e.id, j, kind, on);
                            }
                            st.skip(j, sent);
                        }
                        _ => break,
                    }
                }
            }
            k = end + 1;
        }
    }
    // A batch of `day` won by `w`: it went, and the others are superseded by it.
    let settle = |out: &mut RefPlan,
                  state: &mut BTreeMap<usize, State>,
                  item_sends: &mut Vec<Sent>,
                  ready: &[Ready],
                  w: &Ready,
                  day: NaiveDate| {
        for r in ready {
            if r.index != w.index && in_window(day) {
                suppress(out, &rule_of(r.index).id, r.k, "superseded", day);
            } else if r.index != w.index {
                // Past the window (a catch-up at the start of the day after it): what held
                // it back is said instead.
                explain_moves(out, rule_of(r.index), r, false);
            }
            state.get_mut(&r.index).unwrap().sent(r.k, day);
        }
        let winner = rule_of(w.index);
        item_sends.push((winner.id.clone(), day, true, nominal_of(winner, w.k)));
    };
    let mut catch_up_day = None;
    // Planned on a non-working day, the catch-up goes at the first instant of the next
    // working day; a stage of that day whose send time is that instant (00:00) goes first
    // too, and the latest stage wins: when that is such a stage, the catch-ups are
    // superseded by it on that day, and it goes in the forecast below. (Decided when that
    // instant is within the horizon; past it each says what held it back.)
    // So does a stage of that day (today's, when today is a working day) that a pause held
    // back: its turn has come too.
    // (Decided when that day is planned: today, or a next working day whose start is within
    // the horizon.)
    let go_on = cal.shift(today, Shift::Later).unwrap();
    let at_start = local_instant(zone, go_on, send_time) == local_instant(zone, go_on, NaiveTime::MIN);
    let decided = working_today || local_instant(zone, go_on, NaiveTime::MIN) <= end;
    let gap_on = |day: NaiveDate| {
        holds
            .iter()
            .filter(|h| h.0 != NaiveDate::MIN && h.0 <= day && day <= h.1)
            .map(|h| h.1)
            .max()
    };
    let mut beaten_on = None;
    // (Not by a stage the gap holds back that day: none went, and they wait together.)
    let held_then = gap_on(go_on).is_some();
    if let (true, false, Some(w)) = (
        decided,
        held_then,
        ready.iter().max_by_key(|r| (r.nominal, r.index)),
    ) {
        let next = go_on;
        // The latest stage that beats them (the stage of the send that goes that day).
        let beaten = rules
            .iter()
            .filter_map(|e| {
                let st = &state[&e.index];
                if st.done || ready.iter().any(|r| r.index == e.index) {
                    return None;
                }
                match step(e, st, &item_sends, true) {
                    Step::Go { on, nominal, at, .. }
                        if on == next
                            && ((at_start && !working_today && next <= last_day)
                                || at == local_instant(zone, next, NaiveTime::MIN))
                            && (nominal, e.index) > (w.nominal, w.index) =>
                    {
                        Some((nominal, e.index))
                    }
                    _ => None,
                }
            })
            .max();
        if let Some((by_nominal, by_index)) = beaten {
            // Superseded on that day; past the window, each says what held it back instead
            // (and, planned on a non-working day, that it moved off it).
            for r in &ready {
                if in_window(next) {
                    suppress(out, &rule_of(r.index).id, r.k, "superseded", next);
                } else {
                    explain_moves(out, rule_of(r.index), r, false);
                    if !working_today {
                        suppress(out, &rule_of(r.index).id, r.k, "moved_off_non_working_day", today);
                    }
                }
                state.get_mut(&r.index).unwrap().sent(r.k, next);
            }
            // The later occurrences of their rules that send also passes over (their days
            // before it) are superseded by it too, each on its own day (README "Explains
            // itself": "later occurrences of its rule that send also passes over, on their
            // own days"), as the plans say once it went; not spaced from it past the due
            // date, as they were when the sweep below stepped them before that send was
            // planned (reference sweep seed 272).
            let mut passing = item_sends.clone();
            let by = rule_of(by_index);
            passing.push((by.id.clone(), next, true, Some((by_nominal, by_index))));
            for r in &ready {
                let e = rule_of(r.index);
                let st = state.get_mut(&r.index).unwrap();
                while !st.done {
                    match step(e, st, &passing, true) {
                        Step::Skip {
                            k,
                            kind: "superseded",
                            on,
                            sent: Some(sent),
                            notes,
                        } if sent == next => skip(out, e, st, (k, "superseded", on), Some(sent), notes),
                        _ => break,
                    }
                }
            }
            ready.clear();
            beaten_on = Some(next);
        }
    }
    let winner_at = ready.iter().max_by_key(|r| (r.nominal, r.index)).map(|w| w.index);
    // The minimum gap holds the catch-up back to the first day it allows, at the send time
    // (README "Minimum gap": "as forecast"); the stages it beat wait with it (none went
    // instead), those due later that day too, and the day the gap allows decides again
    // (`a_stage_the_gap_holds_back_is_not_superseded_by_a_catch_up_that_waits_too`).
    let day = if working_today { today } else { go_on };
    let decided = working_today || local_instant(zone, day, NaiveTime::MIN) <= end;
    if let (Some(u), true, Some(_)) = (
        gap_on(day),
        decided,
        winner_at
            .and_then(|i| ready.iter().find(|r| r.index == i))
            .cloned(),
    ) {
        // None went instead: the stages it beat wait with it, and the day the gap allows
        // decides again which of them goes.
        let mut to = cal.shift(add(u, 1), Shift::Later).unwrap();
        // (Past the pauses with an end that cover that day: the day it would go, where a
        // "due soon" is found too late, as the planner says.)
        for _ in 0..item.pauses.len() + client.pauses.len() {
            match pause_on(to).and_then(|p| p.until) {
                Some(until) => to = cal.shift(add(until, 1), Shift::Later).unwrap(),
                None => break,
            }
        }
        for r in &ready {
            // A "due soon" the gap would hold back to its due date or later is too late, said
            // on the first day it was: its due date, or the day it was to go if later.
            if let Some(due) =
                due.filter(|&due| before_due_of(rule_of(r.index), Some(due), r.nominal) && to >= due)
            {
                let e = rule_of(r.index);
                let too_late_from = |first_day: NaiveDate| to.min(first_day.max(due));
                // (Unless a pause without end held it for good before its due date: said so
                // in every plan, before it is found too late: the planner's reading.)
                // (From the first working day of that pause, if it began while the gap held
                // it back: README "Pauses".)
                let for_good = endless_began(r.on, to)
                    .or_else(|| {
                        item.pauses
                            .iter()
                            .chain(&client.pauses)
                            .any(|p| p.until.is_none() && p.is_active(to))
                            .then_some(to)
                    })
                    // (Held for good from its due date or later, it was too late first: the
                    // planner's reading, as for a catch-up past its due date.)
                    .filter(|&held| held < due);
                let (kind, on) = if let Some(held) = for_good {
                    ("paused", held)
                } else {
                    let first_day = r.paused_from.iter().map(|h| h.0).fold(r.on, NaiveDate::min);
                    ("due_soon_after_due", too_late_from(first_day))
                };
                if in_window(on) {
                    suppress(out, &e.id, r.k, kind, on);
                }
                let st = state.get_mut(&r.index).unwrap();
                st.skip(r.k, None);
                if for_good.is_some() {
                    // Held for good: said once per item and rule, as every lasting stop is
                    // (README "Explains itself"); none of its later occurrences goes.
                    st.done = true;
                    continue;
                }
                // So is each later occurrence of the rule missed too (its send instant gone):
                // the gap would hold it back as long, and each is explained (README "Missed
                // sends": older missed ones are "each explained"; the planner's reading of
                // the day, that of the first).
                while let Step::Go {
                    k,
                    nominal,
                    at,
                    first_day,
                    ..
                } = step(e, st, &item_sends, true)
                {
                    if at > now || !before_due_of(e, Some(due), nominal) {
                        break;
                    }
                    let on = too_late_from(first_day);
                    if in_window(on) {
                        suppress(out, &e.id, k, "due_soon_after_due", on);
                    }
                    st.skip(k, None);
                }
            } else {
                let st = state.get_mut(&r.index).unwrap();
                st.held_by_gap(r, u);
                // (Said from the day it was meant for.)
                st.meant = st.meant.or(Some(r.on));
            }
        }
        ready.clear();
    }
    // Under a preference for today (the day's message a grouped notice still to come): when
    // a later stage of its rule goes today by the notice's instant, the day is decided as of
    // then, with the others of the day (below), not now.
    if let Some((_, rule, t)) = prefer.iter().find(|p| working_today && p.0 == today) {
        let w = ready.iter().max_by_key(|r| (r.nominal, r.index)).cloned();
        let later = w.is_some_and(|w| {
            rules.iter().any(|e| {
                let st = &state[&e.index];
                e.id.as_str() == rule
                    && !st.done
                    && !ready.iter().any(|r| r.index == e.index)
                    && matches!(step(e, st, &item_sends, true), Step::Go { on, nominal, at, .. }
                        if on == today && at <= *t && (nominal, e.index) > (w.nominal, w.index))
            })
        });
        if later {
            ready.clear();
        }
    }
    if let Some(w) = ready.iter().max_by_key(|r| (r.nominal, r.index)) {
        let winner = rule_of(w.index);
        let (send_on, send_at, due_now) = if working_today {
            (w.on, w.at, true)
        } else {
            let next = cal.shift(today, Shift::Later).unwrap();
            (next, local_instant(zone, next, NaiveTime::MIN), false)
        };
        let sent_day = if working_today { today } else { send_on };
        catch_up_day = Some(sent_day);
        explain_moves(out, winner, w, false);
        if !working_today {
            // Planned on a non-working day: moved from today to the next working day (a
            // stage it supersedes says so instead, when that is within the window).
            for r in &ready {
                if r.index == w.index || !in_window(sent_day) {
                    suppress(out, &rule_of(r.index).id, r.k, "moved_off_non_working_day", today);
                }
            }
        }
        if due_now || send_at <= end {
            out.events.push(RefEvent {
                key: key(&winner.id, w.k),
                client: client.id.to_string(),
                rule: winner.id.clone(),
                // A caught-up "due today" goes overdue: the stage is of the day it goes (the
                // docs are silent; the planner's reading, which the message needs).
                stage: stage(winner, due, sent_day),
                send_on,
                send_at,
                items: vec![(item_id.clone(), w.k)],
                catch_up: w.on < today || !working_today,
                due_now,
            });
            went.push((sent_day, since(w), due_now, key(&winner.id, w.k), send_at));
        }
        if due_now || send_at <= end {
            settle(out, &mut state, &mut item_sends, &ready, w, sent_day);
        } else {
            // Past the horizon nothing is planned: each stage said what held it back (above),
            // and what comes after them is not decided by this plan.
            for r in &ready {
                if r.index != w.index {
                    // What it would supersede is not said: each stage says what held it
                    // back instead, as one held past the horizon does.
                    explain_moves(out, rule_of(r.index), r, false);
                }
                state.get_mut(&r.index).unwrap().done = true;
            }
        }
    }

    // The forecast: day by day, each event sent when planned. A batch on the last day whose
    // instant is past the horizon still decides which stage wins (the others superseded).
    let mut day = today;
    while day <= end_day {
        let mut ready: Vec<Ready> = Vec::new();
        for e in &rules {
            loop {
                let st = state.get_mut(&e.index).unwrap();
                if st.done {
                    break;
                }
                match step(e, st, &item_sends, true) {
                    Step::Go {
                        k,
                        nominal,
                        moved,
                        moved_back,
                        on,
                        at,
                        paused_from,
                        after_other,
                        ..
                    } => {
                        if on == day {
                            // A held catch-up the gap then holds back goes at the send time
                            // of the day the gap allows, as forecast: no longer a catch-up.
                            let deferred = paused_from.iter().any(|h| h.2 == "deferred");
                            ready.push(Ready {
                                index: e.index,
                                k,
                                nominal,
                                moved: st.held_moves.iter().copied().chain(moved).collect(),
                                moved_back: st.held_back.or(moved_back),
                                paused_from: st.held.iter().copied().chain(paused_from).collect(),
                                after_other,
                                on,
                                at,
                                caught: st.caught && !deferred,
                                meant: st.meant,
                            });
                        }
                        break;
                    }
                    Step::Skip {
                        k,
                        kind,
                        on,
                        sent,
                        notes,
                    } => skip(out, e, st, (k, kind, on), sent, notes),
                    Step::Stop { k, kind, on } => {
                        if in_window(on) && kind != SILENT {
                            suppress(out, &e.id, k, kind, on);
                        }
                        st.done = true;
                        break;
                    }
                }
            }
        }
        // (A stage a pause held back goes at the start of the day after it, as a catch-up.)
        let at_start = |r: &Ready| {
            r.caught || (!r.paused_from.is_empty() && r.at == local_instant(zone, day, NaiveTime::MIN))
        };
        if day > last_day && !ready.iter().any(at_start) && beaten_on != Some(day) {
            // Past the window's last day only a catch-up at the start of the day goes (its
            // start is within the horizon); without one, the stages of its send time are not
            // decided by this plan, and say what held them back. (With one, it beats them as
            // it beats any stage of its day, below.)
            // But when the client's day is decided (another item's message goes at its start,
            // within the horizon), the stage that would win the item's day is of that day's
            // messages (`undecided`, ordered in `plan_client`), and the gap after another's
            // holds them back again, as on any day: what held them back is said past the
            // horizon (below), deferred once, not with the moves they made between the two
            // deferrals (README "Minimum gap": "said deferred once ..., with the moves off
            // non-working days it made before the gap first held it"), as the plans with a
            // longer horizon say (reference sweep seed 241).
            if let Some(u) = gap_on(day).filter(|_| !ready.is_empty()) {
                for r in &ready {
                    let st = state.get_mut(&r.index).unwrap();
                    st.held_by_gap(r, u);
                    st.gap_floor = Some(add(u, 1));
                }
            } else {
                if let Some(w) = ready.iter().max_by_key(|r| (r.nominal, r.index)) {
                    undecided.push((day, since(w), false, key(&rule_of(w.index).id, w.k), w.at));
                }
                for r in &ready {
                    explain_moves(out, rule_of(r.index), r, true);
                    state.get_mut(&r.index).unwrap().done = true;
                }
            }
            ready.clear();
        }
        if catch_up_day == Some(day) {
            // The day of a catch-up: it goes first (now, or at the start of the day), and one
            // reminder a day about an item; the stages whose send time comes later that day
            // are superseded by it.
            for r in &ready {
                if in_window(day) {
                    suppress(out, &rule_of(r.index).id, r.k, "superseded", day);
                }
                state.get_mut(&r.index).unwrap().sent(r.k, day);
            }
            ready.clear();
        }
        // A catch-up a pause held back goes at the first tick of the day after it (it is a
        // missed send then), so first: the latest of those that go first wins (README "Missed
        // sends": what is due never waits for a stage still to come).
        // (So does a stage whose send time is the day's first instant, 00:00, and one a pause
        // held back, which goes at the start of the day after it: its turn came during the
        // pause, and an older stage caught up that day does not beat it: "only the latest
        // stage goes".)
        let first = |r: &Ready| r.caught || r.at == local_instant(zone, day, NaiveTime::MIN);
        // A send planned before it holds back the stage that wins the item's day, to the first
        // day the gap allows, at the send time; the stages it beat wait with it
        // (`a_stage_the_gap_holds_back_is_not_superseded_by_a_catch_up_that_waits_too`).
        // (Under a preference for the day: a later stage of the preferred rule whose turn
        // comes by the notice's instant wins over the stage that won by going sooner.)
        let pick = |ready: &[Ready]| -> Option<Ready> {
            let w = ready.iter().max_by_key(|r| (first(r), r.nominal, r.index))?;
            let preferred = prefer.iter().find(|p| p.0 == day).and_then(|(_, rule, t)| {
                (ready.iter())
                    .filter(|r| rule_of(r.index).id.as_str() == rule && r.at <= *t)
                    .max_by_key(|r| (r.nominal, r.index))
                    .filter(|s| (s.nominal, s.index) > (w.nominal, w.index))
            });
            Some(preferred.unwrap_or(w).clone())
        };
        let winner_at = pick(&ready);
        if let (Some(_), Some(u)) = (winner_at, gap_on(day)) {
            // None went instead: the stages it beat wait with it.
            for r in &ready {
                let st = state.get_mut(&r.index).unwrap();
                st.held_by_gap(r, u);
                st.gap_floor = Some(add(u, 1));
            }
            ready.clear();
        }
        if let Some(w) = pick(&ready).as_ref() {
            let winner = rule_of(w.index);
            let (send_on, send_at) = if w.caught {
                (day, local_instant(zone, day, NaiveTime::MIN))
            } else {
                (w.on, w.at)
            };
            if send_at <= end {
                out.events.push(RefEvent {
                    key: key(&winner.id, w.k),
                    client: client.id.to_string(),
                    rule: winner.id.clone(),
                    stage: stage(winner, due, w.on),
                    send_on,
                    send_at,
                    items: vec![(item_id.clone(), w.k)],
                    catch_up: w.caught,
                    due_now: false,
                });
                went.push((day, since(w), false, key(&winner.id, w.k), send_at));
            }
            if send_at > end {
                // Past the horizon: not listed, but it goes that day all the same (the plan
                // decides the day): the stages it supersedes say so when that is within the
                // window, else each explains itself as one held past the horizon, and what
                // comes after them is decided as after a send (the planner's reading). (The
                // gap holds it back all the same.)
                went.push((day, since(w), false, key(&winner.id, w.k), send_at));
                explain_moves(out, winner, w, true);
                for r in &ready {
                    let e = rule_of(r.index);
                    if r.index != w.index {
                        if in_window(day) {
                            suppress(out, &e.id, r.k, "superseded", day);
                        } else {
                            explain_moves(out, e, r, true);
                        }
                    }
                    state.get_mut(&r.index).unwrap().sent(r.k, day);
                }
                item_sends.push((winner.id.clone(), day, true, nominal_of(winner, w.k)));
            } else {
                explain_moves(out, winner, w, false);
                // A later stage of a day still to come, moved back onto this one, is not
                // superseded by a catch-up of an earlier stage: it moves on (one a day).
                let settled: Vec<Ready> = ready
                    .iter()
                    .filter(|r| {
                        !(r.index != w.index
                            && r.nominal > day
                            && (r.nominal, r.index) > (w.nominal, w.index))
                    })
                    .cloned()
                    .collect();
                settle(out, &mut state, &mut item_sends, &settled, w, day);
            }
        }
        day = day.succ_opt().unwrap();
    }
    // Sends that failed for good or whose outcome is unknown: explained instead of planned
    // (README "Failures and retry"), on the day recorded while that is in the window, else as
    // of now while the item is open and the rule tried nothing about it later (the planner's
    // reading, as of tests/stops.rs: the docs say only that the plan explains it).
    for (rule, at, day, kind, key) in &undelivered {
        let later = attempts.iter().any(|(r, a)| r == rule && a > at);
        let on = if *day >= window_start {
            *day
        } else if !later && item_stop.is_none() {
            today
        } else {
            continue;
        };
        out.suppressed.push(RefSuppressed {
            key: key.clone(),
            item: item_id.clone(),
            rule: rule.clone(),
            kind: (*kind).to_owned(),
            on,
        });
    }
    // After the horizon: what each rule would do next, explained when it falls in the window
    // (superseded by a send planned above, a stop) or lasts (held past the horizon).
    for e in &rules {
        loop {
            let st = state.get_mut(&e.index).unwrap();
            if st.done {
                break;
            }
            match step(e, st, &item_sends, true) {
                Step::Go {
                    k,
                    nominal,
                    moved,
                    moved_back,
                    on,
                    at,
                    paused_from,
                    after_other,
                    ..
                } => {
                    let r = Ready {
                        index: e.index,
                        k,
                        nominal,
                        moved: st.held_moves.iter().copied().chain(moved).collect(),
                        moved_back: st.held_back.or(moved_back),
                        paused_from: st.held.iter().copied().chain(paused_from).collect(),
                        after_other,
                        on,
                        at,
                        caught: st.caught,
                        meant: st.meant,
                    };
                    explain_moves(out, e, &r, true);
                    st.done = true;
                }
                Step::Skip {
                    k,
                    kind,
                    on,
                    sent,
                    notes,
                } => skip(out, e, st, (k, kind, on), sent, notes),
                Step::Stop { k, kind, on } => {
                    if in_window(on) && kind != SILENT {
                        suppress(out, &e.id, k, kind, on);
                    }
                    st.done = true;
                }
            }
        }
    }
    (went, undecided)
}

/// Whether a move off a non-working day or a pause on `m` came between two deferrals by the gap
/// (not said: held back again, the day it moved to is no longer the day it goes; the
/// planner's reading).
fn between_deferrals(r: &Ready, m: NaiveDate) -> bool {
    let mut deferred = r.paused_from.iter().filter(|h| h.2 == "deferred").map(|h| h.0);
    match (deferred.next(), deferred.next_back()) {
        (Some(first), Some(last)) => first < m && m < last,
        _ => false,
    }
}

/// The pauses between two deferrals by the gap that held `r` back from today on, when the gap
/// first held it back before today, as (the pause's first day holding it, the day it is said):
/// a reminder the gap deferred from a day gone by is deferred at once to the day the gap last
/// allows, and the pauses that hold it from today's first working day on, one after the
/// other, before that day, are named as of the first working day each covers (as a missed
/// send the gap holds back names the pauses that held it from today; the planner's reading).
fn held_from_today(
    r: &Ready,
    today: NaiveDate,
    later: impl Fn(NaiveDate) -> Option<NaiveDate>,
    holds_on: impl Fn(NaiveDate, NaiveDate) -> bool,
) -> Vec<(NaiveDate, NaiveDate)> {
    let mut deferred = r.paused_from.iter().filter(|h| h.2 == "deferred");
    let (Some(first), Some(last)) = (deferred.next(), deferred.next_back()) else {
        return Vec::new();
    };
    if first.0 >= today {
        return Vec::new();
    }
    let gap_ends = add(last.1, 1);
    let mut named = Vec::new();
    let mut day = later(today);
    while let Some(d) = day.filter(|&d| d < gap_ends) {
        let Some(p) = r
            .paused_from
            .iter()
            // (A pause the first deferral ended inside was recorded from the day the gap let
            // it go: it held it from today all the same when it covers today's first working
            // day, `holds_on`.)
            .find(|h| h.2 != "deferred" && h.1 < gap_ends && ((h.0 <= d && d <= h.1) || holds_on(d, h.1)))
        else {
            break;
        };
        named.push((p.0, d));
        day = later(add(p.1, 1));
    }
    named
}

/// Whether the move `r.moved[i]` is the one of a "due soon" earlier off its own day, before
/// anything held it back: the first move off that day. (Held back by the gap to that same
/// non-working day later, it moves off it again, to the next working day: that is another
/// move, made after the gap first held it, and not said when the gap holds it again (README
/// "Minimum gap": "said deferred once ... with the moves off non-working days it made before
/// the gap first held it").)
fn is_move_back(r: &Ready, i: usize) -> bool {
    let m = r.moved[i];
    r.moved_back == Some(m) && !r.moved[..i].contains(&m)
}

/// Whether the move off a non-working day `r.moved[i]` came after the gap first held `r`
/// back and before it last did (not said, as `between_deferrals`).
fn moved_between_deferrals(r: &Ready, i: usize) -> bool {
    // (A "due soon" moved earlier off its own day came before the gap held it, whatever day.)
    if is_move_back(r, i) {
        return false;
    }
    let m = r.moved[i];
    let mut deferred = r.paused_from.iter().filter(|h| h.2 == "deferred");
    match (deferred.next(), deferred.next_back()) {
        (Some(first), Some(last)) => add(first.1, 1) <= m && m < last.0,
        _ => false,
    }
}

/// The day `r` first waited since: the day it was meant for, or the first day a pause or the
/// gap held it back.
fn since(r: &Ready) -> NaiveDate {
    r.paused_from
        .iter()
        .map(|h| h.0)
        .chain(r.meant)
        .fold(r.on, NaiveDate::min)
}

fn before_due_of(e: &Eff, due: Option<NaiveDate>, nominal: NaiveDate) -> bool {
    e.anchor == Anchor::Due && due.is_some_and(|due| nominal < due)
}

fn stage(e: &Eff, due: Option<NaiveDate>, send_on: NaiveDate) -> String {
    let stage = match (e.anchor, due) {
        (Anchor::Issued, _) => Stage::Issued,
        (Anchor::Sent, _) => Stage::Pending,
        (Anchor::Paid, _) => Stage::ThankYou,
        (_, Some(due)) if send_on < due => Stage::DueSoon,
        (_, Some(due)) if send_on == due => Stage::DueToday,
        _ => Stage::Overdue,
    };
    stage.to_string()
}
