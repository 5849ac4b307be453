//! Stage C of the reference planner: account statements and standing notices (DESIGN.md
//! "Behaviour users rely on" 7 and 8; README "Operating it": missed sends, standing; the docs
//! of `StatementRule`, `StandingRule`, `Policy::min_gap_days`, `EventKey`, `StatementInfo`,
//! `StandingInfo` and `SuppressReason`), planned one client at a time after its items: they
//! go on their own dates, the minimum gap neither holds them back nor is held by them, and
//! their history entries are no stage of any item's reminders.
//!
//! A client's pause without end holds them for good (README "Pauses"). Pauses with an end,
//! the client's, hold them back to the start of the first working day after the pause, as a
//! missed send, said `paused_until` on the day held and of the statements held only the
//! latest going (README "Pauses"); and a standing notice waits while every invoice that puts
//! the client in the state is under a pause with an end, until the first of those ends or
//! another invoice gets the client there, while a disputed invoice (a pause without end)
//! counts neither toward entering a state nor for ending it (README "Pauses", `StandingRule`).
//! Items' pauses do not hold statements back (the docs name only the client's pauses for
//! them; a statement lists a disputed item: `tests/account.rs`).
//!
//! What it leaves out: pauses with an end and item pauses are followed, but the stage C
//! generator draws them only with `REFERENCE_PAUSES` set, since the planner and the
//! reference still disagree on part of those worlds (seeds 4, 5, 9 and 12 of 1-12 at 300
//! cases on events, more on suppressions): the days and kinds of the explanations of
//! statements a pause held back when they are also switched off, without recipients,
//! superseded, or held past the horizon; a "closing soon" superseded by a "closed" that a
//! pause holds back; a state whose only invoice comes under a dispute today (the planner
//! says nothing where README "Pauses" says disputing it "does not end a state the client is
//! in"). Also left out (by the
//! generator too): expiry, roles, RRULE overrides per client, RRULEs other than the three
//! simple forms of [`rrule_dates`].

use super::*;

/// Whether `id` names a statement rule or a standing notice of the policy (a history entry
/// of one is a client-level event, not a reminder about its items).
pub fn is_account_rule(policy: &Policy, id: &str) -> bool {
    policy.statements.iter().any(|s| s.id.as_str() == id)
        || policy
            .standing
            .as_ref()
            .is_some_and(|s| s.closing_soon_id.as_str() == id || s.closed_id.as_str() == id)
}

/// The local dates from `from` to `to` of the generator's RRULEs, as RFC 5545 reads them
/// with DTSTART on `start` (`StatementRule::start`: "the rule counts from here"):
/// `FREQ=MONTHLY;BYMONTHDAY=n` (n from 1 to 28), `FREQ=WEEKLY;BYDAY=XX` and
/// `FREQ=DAILY;INTERVAL=k`.
pub fn rrule_dates(rrule: &str, start: NaiveDate, from: NaiveDate, to: NaiveDate) -> Vec<NaiveDate> {
    use chrono::Datelike;
    let parts: BTreeMap<&str, &str> = rrule.split(';').filter_map(|p| p.split_once('=')).collect();
    let from = from.max(start);
    let mut out = Vec::new();
    let mut d = from;
    while d <= to {
        let yes = match parts["FREQ"] {
            "MONTHLY" => d.day() == parts["BYMONTHDAY"].parse::<u32>().unwrap(),
            "WEEKLY" => {
                let names = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];
                names[d.weekday().num_days_from_monday() as usize] == parts["BYDAY"]
            }
            "DAILY" => {
                let k: i64 = parts.get("INTERVAL").map_or(1, |k| k.parse().unwrap());
                (d - start).num_days() % k == 0
            }
            f => panic!("the reference reads no FREQ={f}"),
        };
        if yes {
            out.push(d);
        }
        d = d.succ_opt().unwrap();
    }
    out
}

/// The date of a client-level key `rule/client/date`.
fn key_date(key: &str) -> Option<NaiveDate> {
    key.rsplit('/').next()?.parse().ok()
}

/// One client's days and settings, as its reminders have them.
struct Cx<'a> {
    policy: &'a Policy,
    client: &'a Client,
    /// Its items, in id order.
    items: Vec<&'a Item>,
    zone: TimeZone,
    send_time: NaiveTime,
    term: u32,
    now: DateTime<Utc>,
    end: DateTime<Utc>,
    today: NaiveDate,
    /// The last day whose send instant is within the horizon (today at least).
    end_date: NaiveDate,
    window_start: NaiveDate,
}

/// Where a client-level event goes: (the day it carries, its send instant, a catch-up).
type Place = (NaiveDate, DateTime<Utc>, bool);

/// A pause holding a client-level event back: its last day (none: for good), and the item
/// it is on ("" for the client's).
struct Hold {
    until: Option<NaiveDate>,
    item: String,
    /// Whether it is named, and the event goes at the start of the day after it; else it
    /// goes at the send time, as if scheduled then.
    named: bool,
}

/// Where a client-level event goes past the pauses: its place, or the day a pause without end
/// stops it and that pause's item; and the pauses with an end that held it back, as (the day
/// it would have gone, the pause's last day, its item).
struct Going {
    place: Result<Place, (NaiveDate, String)>,
    held: Vec<(NaiveDate, NaiveDate, String)>,
    /// The day it was to go past the pauses that held it, before any catch-up.
    meant: NaiveDate,
}

/// Of `pauses` (of the item `item`, "" for the client's), the one holding back an event on
/// `d`: one without end, else the one active that ends last.
fn hold_of<'p>(pauses: impl Iterator<Item = &'p Pause>, d: NaiveDate, item: &str) -> Option<Hold> {
    pauses
        .filter(|p| p.is_active(d))
        .map(|p| p.until)
        .max_by_key(|u| u.unwrap_or(NaiveDate::MAX))
        .map(|until| Hold {
            until,
            item: item.to_owned(),
            named: true,
        })
}

impl Cx<'_> {
    fn in_window(&self, d: NaiveDate) -> bool {
        self.window_start <= d && d <= self.end_date
    }

    /// The day a stop met on `d` is said on: `d` in the window, else (it still holds) today.
    fn now_or(&self, d: NaiveDate) -> NaiveDate {
        if self.in_window(d) { d } else { d.max(self.today) }
    }

    fn instant(&self, d: NaiveDate) -> DateTime<Utc> {
        local_instant(self.zone, d, self.send_time)
    }

    /// Whether the send instant of `d` is not after `now`.
    fn gone(&self, d: NaiveDate) -> bool {
        d < self.today || (d == self.today && self.instant(d) <= self.now)
    }

    /// The first working day from `d` on.
    fn working(&self, d: NaiveDate) -> NaiveDate {
        self.policy.calendar.shift(d, Shift::Later).unwrap()
    }

    /// The client's pause holding back an event that would go on `d` (README "Pauses"): one
    /// without end holds it for good, else the one that ends last (`Pause::is_active`: dates
    /// inclusive).
    fn client_hold(&self, d: NaiveDate) -> Option<Hold> {
        hold_of(self.client.pauses.iter(), d, "")
    }

    /// Whether the send instant of `on` (the first instant of the day for one a pause held
    /// back: "forecast at the start of that day") is not after `now`.
    fn gone_at(&self, on: NaiveDate, midnight: bool) -> bool {
        on < self.today || (on == self.today && self.at(on, midnight) <= self.now)
    }

    /// The send instant of `on`, or its first instant.
    fn at(&self, on: NaiveDate, midnight: bool) -> DateTime<Utc> {
        let time = if midnight { NaiveTime::MIN } else { self.send_time };
        local_instant(self.zone, on, time)
    }

    /// Where an event scheduled on the working day `scheduled` goes (`Event` docs): then, at
    /// the send time; once that day is gone, at the next plan on a working day, keeping the
    /// day and instant it was meant for (a catch-up), or planned on a non-working day, upcoming
    /// at the first instant of the next working day. A pause with an end that covers the day
    /// it would go holds it back (README "Pauses": "Their send instants pass during the pause,
    /// so each goes as a missed send does: at the first tick of the first working day after
    /// the pause (forecast at the start of that day)"), and so on again from there; a pause
    /// without end stops it, on its day or for a catch-up the day it would go. `hold` gives
    /// the pause holding it back on a day.
    fn go(&self, scheduled: NaiveDate, hold: &dyn Fn(NaiveDate) -> Option<Hold>) -> Going {
        let mut held = Vec::new();
        let mut on = scheduled;
        let mut midnight = false;
        let mut caught = false;
        let mut meant = None;
        let place = loop {
            if let Some(h) = hold(on) {
                let Some(u) = h.until else {
                    break Err((on, h.item));
                };
                if h.named {
                    held.push((on, u, h.item));
                }
                on = self.working(add(u, 1));
                midnight = h.named;
                continue;
            }
            if !self.gone_at(on, midnight) {
                break Ok((on, self.at(on, midnight), caught));
            }
            meant = meant.or(Some(on));
            let goes = self.working(self.today);
            match hold(goes) {
                None if goes == self.today => break Ok((on, self.at(on, midnight), on < self.today)),
                None => break Ok((goes, self.at(goes, true), true)),
                Some(Hold {
                    until: None, item, ..
                }) => break Err((goes, item)),
                Some(Hold {
                    until: Some(u),
                    item,
                    named,
                }) => {
                    if named {
                        held.push((goes, u, item));
                    }
                    on = self.working(add(u, 1));
                    midnight = named;
                    caught = true;
                }
            }
        };
        let meant = meant.unwrap_or(match &place {
            Ok(p) => p.0,
            Err(e) => e.0,
        });
        Going { place, held, meant }
    }

    /// The local day an event goes on (or the day a pause stops it on).
    fn goes_on(&self, g: &Going) -> NaiveDate {
        match &g.place {
            Ok((on, _, catch_up)) if *catch_up && *on < self.today => self.working(self.today),
            Ok((on, ..)) | Err((on, _)) => *on,
        }
    }

    /// Says the pauses with an end that held `g` back (README "Pauses":
    /// "`SuppressReason::PausedUntil` on the day it held it back"): on that day within the
    /// window, or as of today while a pause that held it before the window lasts.
    fn say_held(&self, out: &mut RefPlan, key: &str, rule: &str, g: &Going) {
        for (from, until, item) in &g.held {
            let on = if self.in_window(*from) {
                *from
            } else if *from < self.window_start && *until >= self.today {
                self.today
            } else {
                continue;
            };
            self.suppress_item(out, key, item, rule, "paused_until", on);
        }
    }

    /// What stops the client's notice `id` for good: reminders off for the client, the
    /// notice switched off for it, no contact with notify on (README "Explains itself";
    /// DESIGN 6: rules on or off per client).
    fn block(&self, id: &str) -> Option<&'static str> {
        let o = &self.client.overrides;
        if o.reminders == Some(false) {
            Some("client_reminders_off")
        } else if o
            .rules
            .iter()
            .any(|(r, ro)| r.as_str() == id && ro.enabled == Some(false))
        {
            Some("excluded_for_client")
        } else if !self.client.contacts.iter().any(|c| c.notify) {
            Some("no_recipients")
        } else {
            None
        }
    }

    fn due(&self, item: &Item) -> Option<NaiveDate> {
        item.due_date(self.term)
    }

    /// Open items (on time, partly paid, overdue: DESIGN 7), still owing something and
    /// collected (not due before the collection start for past items: DESIGN 5).
    fn open(&self) -> impl Iterator<Item = &Item> + '_ {
        let start = self.policy.collection.past_items;
        self.items.iter().copied().filter(move |i| {
            i.effective_status().unwrap().is_pending()
                && i.balance().unwrap().is_some_and(|b| b.is_positive())
                && start.is_none_or(|s| self.due(i).unwrap_or(i.issued_on) >= s)
        })
    }

    fn suppress(&self, out: &mut RefPlan, key: &str, rule: &str, kind: &str, on: NaiveDate) {
        self.suppress_item(out, key, "", rule, kind, on);
    }

    /// A suppression about the item `item` ("" for none).
    fn suppress_item(&self, out: &mut RefPlan, key: &str, item: &str, rule: &str, kind: &str, on: NaiveDate) {
        if self.in_window(on) {
            out.suppressed.push(RefSuppressed {
                key: key.to_owned(),
                item: item.to_owned(),
                rule: rule.to_owned(),
                kind: kind.to_owned(),
                on,
            });
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn event(&self, out: &mut RefPlan, key: String, rule: &str, stage: &str, place: Place, items: &[&Item]) {
        let (send_on, send_at, catch_up) = place;
        if send_at > self.end {
            return;
        }
        out.events.push(RefEvent {
            key,
            client: self.client.id.to_string(),
            rule: rule.to_owned(),
            stage: stage.to_owned(),
            send_on,
            send_at,
            items: items.iter().map(|i| (i.id.to_string(), 1)).collect(),
            catch_up,
            due_now: send_at <= self.now,
        });
    }
}

/// A client's history entries of rule `id` that count as attempts: sent, failed for good or
/// of unknown outcome, and not released since (`HistoryOutcome` docs).
/// An entry whose key is another client's or another rule's (`rule/client/date` of a rule of
/// the policy) holds that key, and is no attempt of this one ("a key recorded here is never
/// planned again, whatever entry holds it").
fn attempts<'h>(
    policy: &Policy,
    history: &'h [HistoryEntry],
    client: &Client,
    id: &str,
) -> Vec<&'h HistoryEntry> {
    let others = |h: &HistoryEntry| {
        let parts: Vec<&str> = h.key.as_str().split('/').collect();
        parts.len() == 3
            && (parts[0] != id || parts[1] != client.id.as_str())
            && (is_account_rule(policy, parts[0]) || policy.rules.iter().any(|r| r.id.as_str() == parts[0]))
    };
    history
        .iter()
        .filter(|h| h.client == client.id && h.rule.as_ref().is_some_and(|r| r.as_str() == id))
        .filter(|h| !others(h))
        .filter(|h| h.outcome != HistoryOutcome::Released)
        .filter(|h| {
            h.outcome.is_sent()
                || !history.iter().any(|x| {
                    x.key == h.key && x.outcome == HistoryOutcome::Released && x.sent_at >= h.sent_at
                })
        })
        .collect()
}

/// Plans one client's statements and standing notices into `out`. `history` is the whole
/// history (the client's account entries are picked out of it).
#[allow(clippy::too_many_arguments)]
pub fn plan_client(
    policy: &Policy,
    client: &Client,
    items: &[&Item],
    history: &[HistoryEntry],
    now: DateTime<Utc>,
    end: DateTime<Utc>,
    out: &mut RefPlan,
) {
    let zone = client.time_zone.unwrap_or(policy.time_zone);
    let send_time = client.overrides.send_time.unwrap_or(policy.send_time);
    let today = zone.local_date(now);
    let end_day = zone.local_date(end);
    let end_date = if local_instant(zone, end_day, send_time) > end {
        end_day.pred_opt().unwrap().max(today)
    } else {
        end_day
    };
    let mut items = items.to_vec();
    items.sort_by(|a, b| a.id.as_str().cmp(b.id.as_str()));
    let cx = Cx {
        policy,
        client,
        items,
        zone,
        send_time,
        term: client
            .overrides
            .payment_term_days
            .unwrap_or(policy.payment_term_days),
        now,
        end,
        today,
        end_date,
        window_start: today.checked_sub_days(Days::new(LOOKBACK_DAYS)).unwrap(),
    };
    undelivered(&cx, history, out);
    for st in &policy.statements {
        statements(&cx, st, history, out);
    }
    if let Some(sr) = &policy.standing {
        standing(&cx, sr, history, out);
    }
}

/// Sends of the client's statements and standing notices that failed for good or whose
/// outcome is unknown, not released since: said on their day within the window (README
/// "Failures and retry": "the plan then explains the key"). Out of the window, the planner
/// says it as of today while the client has an open item and it is the last attempt of its
/// rule for the client (a lasting stop, as for items: the planner's reading, the docs are
/// silent on client-level entries).
fn undelivered(cx: &Cx<'_>, history: &[HistoryEntry], out: &mut RefPlan) {
    for h in history.iter().filter(|h| h.client == cx.client.id) {
        let kind = match h.outcome {
            HistoryOutcome::Failed { .. } => "delivery_failed",
            HistoryOutcome::OutcomeUnknown => "outcome_unknown",
            _ => continue,
        };
        let Some(rule) = h.rule.as_ref().filter(|r| is_account_rule(cx.policy, r.as_str())) else {
            continue;
        };
        let mine = attempts(cx.policy, history, cx.client, rule.as_str());
        if !mine.iter().any(|x| std::ptr::eq(*x, h)) {
            continue;
        }
        let mut on = cx.zone.local_date(h.sent_at);
        if !cx.in_window(on) {
            let open = cx
                .items
                .iter()
                .any(|i| i.effective_status().unwrap().is_pending());
            if !(open && mine.iter().all(|x| x.sent_at <= h.sent_at)) {
                continue;
            }
            on = cx.today;
        }
        cx.suppress(out, h.key.as_str(), rule.as_str(), kind, on);
    }
}

/// One statement rule for one client (DESIGN 7; `StatementRule`; README "Missed sends").
fn statements(cx: &Cx<'_>, st: &StatementRule, history: &[HistoryEntry], out: &mut RefPlan) {
    let id = st.id.as_str();
    let client = cx.client.id.as_str();
    let key = |d: NaiveDate| format!("{id}/{client}/{d}");
    let stage = if st.overdue_only {
        "overdue_statement"
    } else {
        "statement"
    };
    let block = cx.block(id);
    let sent = attempts(cx.policy, history, cx.client, id);
    // A statement sent covers its period (its key's date): periods up to the latest sent are
    // not planned again, nor said (the planner's reading: the docs say a key recorded is
    // never planned again, and catch-up sends only the latest).
    let last = sent
        .iter()
        .map(|h| key_date(h.key.as_str()).unwrap_or_else(|| cx.zone.local_date(h.sent_at)))
        .max();
    let from = cx.today.checked_sub_days(Days::new(402)).unwrap();
    let to = cx.end_date.checked_add_days(Days::new(2)).unwrap();
    let all_dates = rrule_dates(&st.rrule, st.start, from, to);
    let dates: Vec<NaiveDate> = all_dates
        .iter()
        .copied()
        .filter(|&d| last.is_none_or(|l| d > l))
        .filter(|&d| !sent.iter().any(|h| h.key.as_str() == key(d)))
        .collect();
    // The day the fate of period `d` was settled, once a later one's send came (`next`: from
    // then on it is not the latest gone unsent), or a pause without end held the client
    // first: the day its send would have come past the pauses with an end (its own working
    // day if one without end held it), or the first day a plan saw that pause hold a catch-up. None while it is
    // the latest and could still go: what is owed now decides then (README "Explains
    // itself": said the same way by every plan from the one that decided it).
    let held_from = cx
        .client
        .pauses
        .iter()
        .filter(|p| p.until.is_none())
        .map(|p| {
            // (Seen holding a catch-up from the day after the last working day before it.)
            p.from.map_or(NaiveDate::MIN, |f| {
                let before = cx
                    .policy
                    .calendar
                    .shift(f.pred_opt().unwrap(), Shift::Earlier)
                    .unwrap();
                before.succ_opt().unwrap()
            })
        })
        .min();
    let day_past_ends = |d: NaiveDate| {
        let mut on = cx.working(d);
        for _ in 0..=cx.client.pauses.len() {
            match cx.client_hold(on) {
                None => return on,
                Some(h) => match h.until {
                    None => return cx.working(d),
                    Some(u) => on = cx.working(add(u, 1)),
                },
            }
        }
        on
    };
    let settled_on = |d: NaiveDate| {
        let next = all_dates.iter().copied().find(|&x| x > d)?;
        let t = day_past_ends(next);
        Some(held_from.filter(|&h| h <= t).map_or(t, |h| h.min(t)))
    };
    // Whether a statement of period `d` had anything to list when its fate was settled
    // (`settled`; none: now): an open item it lists; an invoice paid after that day; an item
    // a later statement of the rule listed (owed when that one went). One paid on a day not
    // known or cancelled, listed by no later one, counts as now: not owed. One with nothing
    // then never went, and is said so on its date in every plan (README "Explains itself":
    // "a statement with nothing to list is said so on its date, missed or not"), whatever a
    // later one lists.
    let had_anything = |d: NaiveDate, settled: Option<NaiveDate>| {
        let start = cx.policy.collection.past_items;
        let on_day = cx.working(d);
        let overdue = |i: &Item| !st.overdue_only || cx.due(i).is_some_and(|due| due < on_day);
        let listed_later = |i: &Item| {
            sent.iter().any(|h| {
                key_date(h.key.as_str()).is_some_and(|k| k > d) && h.items.iter().any(|x| x.item == i.id)
            })
        };
        cx.open().any(|i| i.issued_on <= d && overdue(i))
            || settled.is_some_and(|settled| {
                cx.items.iter().any(|i| {
                    i.issued_on <= d
                        && start.is_none_or(|s| cx.due(i).unwrap_or(i.issued_on) >= s)
                        && overdue(i)
                        && ((i.effective_status().unwrap() == ItemStatus::Paid
                            && i.settled_date().is_some_and(|paid| paid > settled))
                            || listed_later(i))
                })
            })
    };
    // Periods before the latest sent that never went, within the lookback: said as the
    // plan that sent the first later one said them (nothing to list; else superseded by it,
    // missed or held back by a pause onto its day), from then on (README "Explains itself").
    if block.is_none() {
        for &d in all_dates
            .iter()
            .filter(|&&d| last.is_some_and(|l| d < l) && cx.in_window(d))
        {
            if sent.iter().any(|h| h.key.as_str() == key(d)) {
                continue;
            }
            let kind = if had_anything(d, settled_on(d)) {
                "superseded"
            } else {
                "nothing_to_list"
            };
            cx.suppress(out, &key(d), id, kind, d);
        }
    }
    // What a statement of period `d` scheduled on `scheduled` lists: open items issued by its
    // date, overdue by the day it was scheduled on for the overdue-only variant ("lists
    // overdue ones"): one caught up later lists what it would have listed on its day, so a
    // statement with nothing to list then is not sent later (DESIGN 7: "Nothing to list: no
    // event"; DESIGN 11: the forecast is what is sent if nothing changes).
    let listed = |d: NaiveDate, scheduled: NaiveDate| -> Vec<&Item> {
        cx.open()
            .filter(|i| i.issued_on <= d)
            .filter(|i| !st.overdue_only || cx.due(i).is_some_and(|due| due < scheduled))
            .collect()
    };
    // One occurrence, scheduled on `scheduled`, going as `g`: it goes, or it is stopped for
    // good (said where it was due; once that left the window, as of the day it would go if it
    // would list something: the planner's reading), or it has nothing to list ("Nothing to
    // list: no event"; `SuppressReason::NothingToList`). A pause with an end that held it
    // back is said on the day it held it (README "Pauses").
    // Whether a pause without end held the period scheduled on `scheduled` on its own day
    // (past the pauses with an end that held it before): then it is said held, whatever it
    // lists; else one with nothing to list is said so wherever its catch-up would go.
    let own_day_held = |scheduled: NaiveDate| {
        let mut on = scheduled;
        for _ in 0..=cx.client.pauses.len() {
            match cx.client_hold(on) {
                None => return false,
                Some(h) => match h.until {
                    None => return true,
                    Some(u) => on = cx.working(add(u, 1)),
                },
            }
        }
        false
    };
    let notice = |out: &mut RefPlan, d: NaiveDate, scheduled: NaiveDate, g: &Going, alone: bool| {
        let on = cx.goes_on(g);
        let items = listed(d, scheduled);
        let beyond = g
            .place
            .as_ref()
            .is_ok_and(|p| p.1 > cx.end || cx.goes_on(g) > cx.end_date);
        if block.is_some() && beyond && !g.held.is_empty() {
            // Held back past the horizon, where nothing is planned: it says what held it back
            // within it, unless older ones held with it say theirs (the planner's reading, as
            // for a reminder held past the horizon; the docs do not say).
            if alone {
                cx.say_held(out, &key(d), id, g);
            }
        } else if let Some(reason) = block.or((g.place.is_err()
            && (!items.is_empty() || own_day_held(scheduled) || had_anything(d, held_from)))
        .then_some("paused"))
        {
            // (One a pause with an end held back: on the day it was to go after it, where the
            // stop is met, or today when that is gone from the window: the planner's reading,
            // the docs name no day.)
            let at = if !g.held.is_empty() {
                cx.now_or(g.meant)
            } else if cx.in_window(scheduled) || items.is_empty() {
                scheduled
            } else {
                on
            };
            cx.suppress(out, &key(d), id, reason, at);
        } else if items.is_empty() {
            // One with nothing to list is said on its date, missed or not, as it is once a
            // later one is missed too (README "Explains itself": the same way, on the same
            // day).
            cx.suppress(out, &key(d), id, "nothing_to_list", d);
        } else if let Ok(place) = g.place {
            cx.say_held(out, &key(d), id, g);
            cx.event(out, key(d), id, stage, place, &items);
        }
    };
    let hold = |day: NaiveDate| cx.client_hold(day);
    // Each period on the first working day from its date (DESIGN 3: "others to the next").
    let scheduled: Vec<(NaiveDate, NaiveDate)> = dates.iter().map(|&d| (d, cx.working(d))).collect();
    // (Missed: its send instant gone while no pause with an end held it; one a pause held
    // goes as the pause lets it, README "Pauses".)
    let (past, to_come): (Vec<_>, Vec<_>) = scheduled
        .iter()
        .partition(|(_, s)| cx.gone(*s) && cx.client_hold(*s).is_none_or(|h| h.until.is_none()));
    // Missed ones: only the latest goes, once (DESIGN 4); the older ones are superseded by it,
    // said on their own dates (the planner's reading), or, when it has nothing to list, have
    // nothing to list either (they would list no more).
    // The others, each where it goes (those a pause with an end held).
    let mut goers: Vec<(NaiveDate, NaiveDate, Going)> = to_come
        .iter()
        .take_while(|(_, s)| *s <= cx.end_date)
        .map(|&(d, s)| (d, s, cx.go(s, &hold)))
        .collect();
    if let Some((&(latest, s), older)) = past.split_last() {
        let g = cx.go(s, &hold);
        // (What is owed now, or, once a pause without end holds it, what was owed then.)
        let empty = !had_anything(latest, held_from.filter(|_| g.place.is_err()));
        let kind = if block.is_none() && !own_day_held(s) && empty {
            "nothing_to_list"
        } else {
            "superseded"
        };
        // (One with nothing to list when its fate was settled never went: said so, not
        // superseded. Under a latest with nothing to list, one that had something is
        // superseded by the next one to come if that one lists something: it goes instead.)
        // (The rule's next date after the latest, whatever the horizon.)
        let next_lists = rrule_dates(&st.rrule, st.start, add(latest, 1), add(latest, 400))
            .first()
            .is_some_and(|&n| !own_day_held(cx.working(n)) && !listed(n, cx.working(n)).is_empty());
        let older_kind = |d: NaiveDate, s: NaiveDate| {
            if kind == "superseded" && block.is_none() && !own_day_held(s) && !had_anything(d, settled_on(d))
            {
                "nothing_to_list"
            } else if kind == "nothing_to_list" && next_lists && had_anything(d, settled_on(d)) {
                "superseded"
            } else {
                kind
            }
        };
        for &(d, s) in older {
            // Held for good with the latest by a pause without end: each said held, on its
            // day, as it was while it was the latest (README "Pauses": "said in every plan").
            if older_kind(d, s) == "nothing_to_list" {
                cx.suppress(out, &key(d), id, "nothing_to_list", d);
            } else if block.is_none() && g.place.is_err() {
                cx.suppress(out, &key(d), id, "paused", s);
            } else {
                cx.suppress(out, &key(d), id, older_kind(d, s), d);
            }
        }
        // Periods before it that a pause held back, to a day gone too, are older missed ones
        // as well, said on their own dates (the planner's reading).
        goers.retain(|(d, s, g)| {
            let older = *d < latest && g.place.as_ref().is_ok_and(|p| p.2);
            if older {
                cx.suppress(out, &key(*d), id, older_kind(*d, *s), *d);
            }
            !older
        });
        goers.push((latest, s, g));
    }
    goers.sort_by_key(|g| g.0);
    // Periods that go on one day go as one, the latest (README "Pauses": "of the statements
    // it held only the latest"; the same for those a weekend moved together, or one a pause
    // held back to the start of the day of a later one: the planner's reading, one statement
    // of a rule a day), the others superseded by it, said on the day they were scheduled on
    // (or today, when that is gone); but one due now goes, not superseded by one still to
    // come (what is due never waits for one still to come: README "Missed sends"). A catch-up no pause held back counts as going
    // today, also planned on a non-working day for the start of the next working day (it is
    // not one of a later period's day: the planner's reading).
    let day_of = |g: &Going| {
        let p = g.place.as_ref().ok()?;
        let day = if p.2 && g.held.is_empty() {
            cx.today
        } else {
            cx.goes_on(g)
        };
        Some((day, p.1 <= cx.now))
    };
    let latest_past = past.last().map(|p| p.0);
    let mut i = 0;
    while i < goers.len() {
        let mut j = i;
        // (Each one a pause without end holds is said on its own: the planner's reading.)
        while j + 1 < goers.len()
            && day_of(&goers[j].2)
                .zip(day_of(&goers[j + 1].2))
                .is_some_and(|(a, b)| a.0 == b.0 && (!a.1 || b.1))
        {
            j += 1;
        }
        let (d, s, g) = &goers[j];
        // Past the horizon (its day past the last one whose send time is within it) nothing is
        // planned: what it would supersede is not said, each one a pause held back says what
        // held it instead (as a reminder held past the horizon does: the planner's reading).
        let beyond = g
            .place
            .as_ref()
            .is_ok_and(|p| p.1 > cx.end || cx.goes_on(g) > cx.end_date);
        for (d, s, g) in &goers[i..j] {
            if beyond && !g.held.is_empty() {
                cx.say_held(out, &key(*d), id, g);
            } else if Some(*d) == latest_past
                && block.is_none()
                && !own_day_held(*s)
                && !had_anything(*d, None)
            {
                // The latest missed one, held onto a later one's day, with nothing to list on
                // its day: said so, as it was while it was the latest.
                cx.suppress(out, &key(*d), id, "nothing_to_list", *d);
            } else {
                cx.suppress(out, &key(*d), id, "superseded", cx.now_or(g.meant.max(*s)));
            }
        }
        notice(out, *d, *s, g, i == j);
        i = j + 1;
    }
}

/// The first day of the run of days covered by `spans` (from, until before; none: for good)
/// that holds `day`, or if none does, of the first run after it. Spans that meet or overlap
/// make one run.
fn run_of(spans: &[(NaiveDate, Option<NaiveDate>)], day: NaiveDate) -> Option<NaiveDate> {
    run_around(spans, day).map(|r| r.0)
}

/// The run of `run_of`: its first day and the day it ends before (none: it lasts).
fn run_around(
    spans: &[(NaiveDate, Option<NaiveDate>)],
    day: NaiveDate,
) -> Option<(NaiveDate, Option<NaiveDate>)> {
    let mut spans = spans.to_vec();
    spans.sort();
    let mut runs: Vec<(NaiveDate, Option<NaiveDate>)> = Vec::new();
    for (f, t) in spans {
        match runs.last_mut() {
            Some((_, end)) if end.is_none_or(|e| f <= e) => {
                *end = match (*end, t) {
                    (Some(a), Some(b)) => Some(a.max(b)),
                    _ => None,
                };
            }
            _ => runs.push((f, t)),
        }
    }
    runs.iter()
        .find(|(f, t)| *f <= day && t.is_none_or(|t| day < t))
        .or_else(|| runs.iter().find(|(f, _)| *f > day))
        .copied()
}

/// The client's standing notices (DESIGN 8; `StandingRule`; README "Standing").
fn standing(cx: &Cx<'_>, sr: &StandingRule, history: &[HistoryEntry], out: &mut RefPlan) {
    let o = &cx.client.overrides;
    let thresholds = [
        o.closing_soon_after_days.unwrap_or(sr.closing_soon_after_days),
        o.closed_after_days.unwrap_or(sr.closed_after_days),
    ];
    let ids = [sr.closing_soon_id.as_str(), sr.closed_id.as_str()];
    let client = cx.client.id.as_str();
    // Each invoice's debt: its due date, and the day it was paid (none: still owed). Items
    // cancelled or void, with reminders off, or due before the collection start do not count
    // (the planner's reading: the docs speak of "the oldest unpaid item").
    let start = cx.policy.collection.past_items;
    let debts: Vec<Debt> = cx
        .items
        .iter()
        .filter_map(|i| {
            let due = cx.due(i)?;
            if !i.reminders || start.is_some_and(|s| due < s) {
                return None;
            }
            let status = i.effective_status().unwrap();
            let to = if status.is_pending() && i.balance().unwrap().is_some_and(|b| b.is_positive()) {
                None
            } else if status == ItemStatus::Paid {
                Some(i.settled_date()?)
            } else {
                return None;
            };
            // The first day a pause without end covers (README "Pauses": "an invoice under a
            // pause without end (a dispute) does not count toward the standing").
            let disputed = i
                .pauses
                .iter()
                .filter(|p| p.until.is_none())
                .map(|p| p.from.unwrap_or(NaiveDate::MIN))
                .min();
            Some(Debt {
                item: i,
                due,
                to,
                disputed,
            })
        })
        .collect();
    // The days a debt keeps the client past threshold `t` (from `t` days after its due date
    // until it is paid), and the days it is overdue; `counting`: only until a pause without
    // end covers it (README "Pauses": "an invoice under a pause without end (a dispute) does
    // not count toward the standing, but disputing it does not end a state the client is
    // in").
    let span = |d: &Debt, t: u32, counting: bool| -> Option<(NaiveDate, Option<NaiveDate>)> {
        let from = add(d.due, i64::from(t));
        let to = match (d.to, d.disputed.filter(|_| counting)) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        to.is_none_or(|to| from < to).then_some((from, to))
    };
    let spans = |t: u32, counting: bool| -> Vec<(NaiveDate, Option<NaiveDate>)> {
        debts.iter().filter_map(|d| span(d, t, counting)).collect()
    };
    let overdue = spans(1, false);
    // The run of days the client is (or will be) in each state. A debt under a pause without
    // end from before it got the client past a threshold never counts toward that state
    // (README "Pauses": "an invoice under a pause without end (a dispute) does not count
    // toward the standing"), so the run is of the other debts, whole: one disputed after it
    // got there keeps its days ("disputing it does not end a state the client is in"), and
    // the run begins the day the client entered it (`StandingRule`: "keyed by the day the
    // client entered it"). When only disputed debts would put it there, the run is theirs:
    // the notice is keyed by its first day and a pause without end holds it (said, as a
    // lasting stop: README "Explains itself"; the planner's reading of the key, which the
    // docs do not name for a notice that never goes).
    let runs: [Option<NaiveDate>; 2] = thresholds.map(|t| {
        let counted: Vec<_> = debts
            .iter()
            .filter(|d| d.disputed.is_none_or(|c| c > add(d.due, i64::from(t))))
            .filter_map(|d| span(d, t, false))
            .collect();
        run_around(&counted, cx.today)
            .or_else(|| run_around(&spans(t, false), cx.today))
            .map(|(first, _)| first)
    });
    // A notice of state `k` sent counts for the run beginning `run` when it went in that run,
    // is keyed by its first day or later, or the client stayed overdue from the day it went
    // to the run ("the state clears when the overdue debt does; a relapse after that sends
    // again").
    // The first day (the client's) a notice of state `k` that counts for the run beginning
    // `run` went.
    let notice_went_on = |k: usize, run: NaiveDate| -> Option<NaiveDate> {
        let stayed = run_of(&overdue, run);
        attempts(cx.policy, history, cx.client, ids[k])
            .iter()
            .filter(|h| {
                let after = cx.zone.local_date(h.sent_at).succ_opt().unwrap();
                after >= run
                    || key_date(h.key.as_str()).is_some_and(|d| d >= run)
                    || stayed.is_some_and(|s| s <= after)
            })
            .map(|h| cx.zone.local_date(h.sent_at))
            .min()
    };
    let notice_went = |k: usize, run: NaiveDate| notice_went_on(k, run).is_some();
    // Held back by the client's pauses, and while every item that puts the client in state
    // `k` is under a pause with an end (`StandingRule`: "the notice waits until the first of
    // those pauses ends, and says so, or until another item gets the client there, which it
    // is then about"): then it goes at the start of the first working day after that pause,
    // as a missed send (README "Pauses"), naming it; when another item gets there first, it
    // goes on that day at the send time, about it, naming no pause (the docs say "says so"
    // of the first case only: the planner's reading).
    let hold = |k: usize, day: NaiveDate| -> Option<Hold> {
        cx.client_hold(day).or_else(|| {
            let spans: Vec<(&Debt, (NaiveDate, Option<NaiveDate>))> = debts
                .iter()
                .filter_map(|d| Some((d, span(d, thresholds[k], false)?)))
                .collect();
            let there: Vec<&Debt> = spans
                .iter()
                .filter(|(_, (f, to))| *f <= day && to.is_none_or(|to| day < to))
                .map(|(d, _)| *d)
                .collect();
            let held: Vec<Hold> = there
                .iter()
                .filter_map(|d| hold_of(d.item.pauses.iter(), day, d.item.id.as_str()))
                .collect();
            if there.is_empty() || held.len() < there.len() {
                return None;
            }
            // Every one disputed: held for good (said, as a lasting stop), by the first.
            let Some(first) = held.iter().filter(|h| h.until.is_some()).min_by_key(|h| h.until) else {
                return held.into_iter().next();
            };
            let first = Hold {
                until: first.until,
                item: first.item.clone(),
                named: true,
            };
            let entry = spans.iter().map(|(_, (f, _))| *f).filter(|f| *f > day).min();
            match entry {
                Some(e) if e <= first.until.unwrap() => Some(Hold {
                    until: Some(add(e, -1)),
                    named: false,
                    ..first
                }),
                _ => Some(first),
            }
        })
    };
    // Each state's notice still to go: its key, the day it is scheduled on, where it goes.
    let notices: Vec<Option<(String, NaiveDate, Going)>> = (0..2)
        .map(|k| {
            let run = runs[k]?;
            if notice_went(k, run) {
                return None;
            }
            let scheduled = cx.working(run);
            let g = cx.go(scheduled, &|day| hold(k, day));
            Some((format!("{}/{client}/{run}", ids[k]), scheduled, g))
        })
        .collect();
    for k in 0..2 {
        let Some((key, scheduled, g)) = &notices[k] else {
            continue;
        };
        let (key, scheduled) = (key.clone(), *scheduled);
        if scheduled > cx.end_date {
            continue;
        }
        let on = cx.goes_on(g);
        // Entering both at once sends only "closed"; so does a "closing soon" that would go no
        // sooner than "closed" of the same run or a later one, or after it went (the docs
        // are silent; the planner's reading).
        if k == 0 {
            if let Some(closed) = runs[1] {
                let closed_on = notices[1]
                    .as_ref()
                    .map_or(cx.working(closed), |n| cx.goes_on(&n.2));
                if closed >= runs[0].unwrap() && (notice_went(1, closed) || closed_on <= on) {
                    // Once "closed" went, dropped for good: said as the plan of the day it
                    // went said it (README "Explains itself": the same way, on the same day):
                    // on its day, or on that day if its day had left that plan's lookback.
                    let at = match notice_went_on(1, closed) {
                        Some(went) if g.meant < add(went, -(LOOKBACK_DAYS as i64)) => went,
                        Some(_) => g.meant,
                        None => cx.now_or(g.meant),
                    };
                    cx.suppress(out, &key, ids[k], "superseded", at);
                    continue;
                }
            }
        }
        let Some(reason) = cx.block(ids[k]).or(g.place.is_err().then_some("paused")) else {
            // It lists the open items overdue on its day and not paused then ("which it is
            // then about"); none (paid since): nothing goes, and nothing is said (the
            // planner's reading).
            let listed: Vec<&Item> = cx
                .open()
                .filter(|i| i.reminders && cx.due(i).is_some_and(|d| d < on))
                .filter(|i| !i.pauses.iter().any(|p| p.is_active(on)))
                .collect();
            if let (false, Ok(place)) = (listed.is_empty(), &g.place) {
                let stage = if k == 1 { "closed" } else { "closing_soon" };
                cx.say_held(out, &key, ids[k], g);
                cx.event(out, key, ids[k], stage, *place, &listed);
            }
            continue;
        };
        let item = match &g.place {
            Err((_, item)) if reason == "paused" => item.as_str(),
            _ => "",
        };
        cx.suppress_item(out, &key, item, ids[k], reason, cx.now_or(on));
    }
}

/// An invoice's debt, for the standing: its due date, the day it was paid (none: still
/// owed), and the first day a pause without end covers it.
struct Debt<'a> {
    item: &'a Item,
    due: NaiveDate,
    to: Option<NaiveDate>,
    disputed: Option<NaiveDate>,
}
