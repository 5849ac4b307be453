//! Stage C of the reference planner: account statements and standing notices (DESIGN.md
//! "Behaviour users rely on" 7 and 8; README "Operating it": missed sends, standing; the docs
//! of `StatementRule`, `StandingRule`, `Policy::min_gap_days`, `EventKey`, `StatementInfo`,
//! `StandingInfo` and `SuppressReason`), planned one client at a time after its items: they
//! go on their own dates, the minimum gap neither holds them back nor is held by them, and
//! their history entries are no stage of any item's reminders.
//!
//! A client's pause without end holds them for good (README "Pauses"). What it leaves out
//! (the generator does too): pauses with an end, and the pauses of the items a standing
//! notice is about, expiry, roles, RRULE overrides per client, RRULEs
//! other than the three simple forms of [`rrule_dates`].

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

    /// Whether a pause of the client without end covers `d` (README "Pauses": "A pause
    /// without end holds them for good, said in every plan").
    fn paused(&self, d: NaiveDate) -> bool {
        self.client
            .pauses
            .iter()
            .any(|p| p.until.is_none() && p.is_active(d))
    }

    /// Where an event scheduled on the working day `scheduled` goes (`Event` docs): then, at
    /// the send time; once that day is gone, at the next plan on a working day, keeping the
    /// day and instant it was meant for (a catch-up), or planned on a non-working day, upcoming
    /// at the first instant of the next working day. `Err` with the day a pause without end
    /// holds it on: its day, or for a catch-up the day it would go.
    fn place(&self, scheduled: NaiveDate) -> Result<Place, NaiveDate> {
        if self.paused(scheduled) {
            return Err(scheduled);
        }
        if scheduled >= self.today {
            return Ok((scheduled, self.instant(scheduled), false));
        }
        let goes = self.working(self.today);
        if self.paused(goes) {
            Err(goes)
        } else if goes == self.today {
            Ok((scheduled, self.instant(scheduled), true))
        } else {
            Ok((goes, local_instant(self.zone, goes, NaiveTime::MIN), true))
        }
    }

    /// The local day a placed event goes on (or the day a pause stops it on).
    fn goes_on(&self, p: &Result<Place, NaiveDate>) -> NaiveDate {
        match p {
            Ok((on, _, catch_up)) => {
                if *catch_up {
                    self.working(self.today)
                } else {
                    *on
                }
            }
            Err(on) => *on,
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
        if self.in_window(on) {
            out.suppressed.push(RefSuppressed {
                key: key.to_owned(),
                item: String::new(),
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
fn attempts<'h>(history: &'h [HistoryEntry], client: &Client, id: &str) -> Vec<&'h HistoryEntry> {
    history
        .iter()
        .filter(|h| h.client == client.id && h.rule.as_ref().is_some_and(|r| r.as_str() == id))
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
        let mine = attempts(history, cx.client, rule.as_str());
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
    let sent = attempts(history, cx.client, id);
    // A statement sent covers its period (its key's date): periods up to the latest sent are
    // not planned again, nor said (the planner's reading: the docs say a key recorded is
    // never planned again, and catch-up sends only the latest).
    let last = sent
        .iter()
        .map(|h| key_date(h.key.as_str()).unwrap_or_else(|| cx.zone.local_date(h.sent_at)))
        .max();
    let from = cx.today.checked_sub_days(Days::new(402)).unwrap();
    let to = cx.end_date.checked_add_days(Days::new(2)).unwrap();
    let dates: Vec<NaiveDate> = rrule_dates(&st.rrule, st.start, from, to)
        .into_iter()
        .filter(|&d| last.is_none_or(|l| d > l))
        .filter(|&d| !sent.iter().any(|h| h.key.as_str() == key(d)))
        .collect();
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
    // One occurrence, scheduled on `scheduled` and placed at `place`: it goes, or it is
    // stopped for good (said where it was due; once that left the window, as of the day it
    // would go if it would list something: the planner's reading), or it has nothing to list
    // ("Nothing to list: no event"; `SuppressReason::NothingToList`).
    let notice = |out: &mut RefPlan, d: NaiveDate, scheduled: NaiveDate, place: Result<Place, NaiveDate>| {
        let on = cx.goes_on(&place);
        let items = listed(d, scheduled);
        if let Some(reason) = block.or(place.is_err().then_some("paused")) {
            let at = if cx.in_window(scheduled) || items.is_empty() {
                scheduled
            } else {
                on
            };
            cx.suppress(out, &key(d), id, reason, at);
        } else if items.is_empty() {
            cx.suppress(out, &key(d), id, "nothing_to_list", on);
        } else if let Ok(place) = place {
            cx.event(out, key(d), id, stage, place, &items);
        }
    };
    // Each period on the first working day from its date (DESIGN 3: "others to the next").
    let scheduled: Vec<(NaiveDate, NaiveDate)> = dates.iter().map(|&d| (d, cx.working(d))).collect();
    let (past, to_come): (Vec<_>, Vec<_>) = scheduled.iter().partition(|(_, s)| cx.gone(*s));
    // Missed ones: only the latest goes, once (DESIGN 4); the older ones are superseded by it,
    // said on their own dates (the planner's reading), or, when it has nothing to list, have
    // nothing to list either (they would list no more).
    if let Some((&(latest, s), older)) = past.split_last() {
        let place = cx.place(s);
        let empty = listed(latest, s).is_empty();
        for &(d, _) in older {
            let kind = if block.is_none() && place.is_ok() && empty {
                "nothing_to_list"
            } else {
                "superseded"
            };
            cx.suppress(out, &key(d), id, kind, d);
        }
        notice(out, latest, s, place);
    }
    // To come: periods moved onto one working day go as one, the latest (README "Pauses": of
    // the statements it held only the latest; the same for those a weekend moved together:
    // the planner's reading), the others superseded by it, said on that day.
    let mut i = 0;
    while i < to_come.len() {
        let s = to_come[i].1;
        if s > cx.end_date {
            break;
        }
        let mut j = i;
        // (Each one a pause without end holds is said on its own: the planner's reading.)
        while j + 1 < to_come.len() && to_come[j + 1].1 == s && !cx.paused(s) {
            j += 1;
        }
        for &(d, _) in &to_come[i..j] {
            cx.suppress(out, &key(d), id, "superseded", cx.now_or(s));
        }
        notice(out, to_come[j].0, s, cx.place(s));
        i = j + 1;
    }
}

/// The first day of the run of days covered by `spans` (from, until before; none: for good)
/// that holds `day`, or if none does, of the first run after it. Spans that meet or overlap
/// make one run.
fn run_of(spans: &[(NaiveDate, Option<NaiveDate>)], day: NaiveDate) -> Option<NaiveDate> {
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
        .map(|r| r.0)
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
    let debts: Vec<(NaiveDate, Option<NaiveDate>)> = cx
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
            Some((due, to))
        })
        .collect();
    // The days a debt keeps the client past threshold `t` (from `t` days after its due date
    // until it is paid), and the days it is overdue.
    let spans = |t: u32| -> Vec<(NaiveDate, Option<NaiveDate>)> {
        debts
            .iter()
            .map(|&(due, to)| (add(due, i64::from(t)), to))
            .filter(|&(f, to)| to.is_none_or(|to| f < to))
            .collect()
    };
    let overdue = spans(1);
    // The run of days the client is (or will be) in each state: it entered it on the run's
    // first day, and stays while one debt or another keeps it there.
    let runs = thresholds.map(|t| run_of(&spans(t), cx.today));
    // A notice of state `k` sent counts for the run beginning `run` when it went in that run,
    // is keyed by its first day or later, or the client stayed overdue from the day it went
    // to the run ("the state clears when the overdue debt does; a relapse after that sends
    // again").
    let notice_went = |k: usize, run: NaiveDate| -> bool {
        let stayed = run_of(&overdue, run);
        attempts(history, cx.client, ids[k]).iter().any(|h| {
            let after = cx.zone.local_date(h.sent_at).succ_opt().unwrap();
            after >= run
                || key_date(h.key.as_str()).is_some_and(|d| d >= run)
                || stayed.is_some_and(|s| s <= after)
        })
    };
    for k in 0..2 {
        let Some(run) = runs[k] else { continue };
        if notice_went(k, run) {
            continue;
        }
        let key = format!("{}/{client}/{run}", ids[k]);
        let scheduled = cx.working(run);
        if scheduled > cx.end_date {
            continue;
        }
        let place = cx.place(scheduled);
        let on = cx.goes_on(&place);
        // Entering both at once sends only "closed"; so does a "closing soon" that would go no
        // sooner than "closed" of the same run or a later one, or after it went (the docs
        // are silent; the planner's reading).
        if k == 0 {
            if let Some(closed) = runs[1] {
                if closed >= run && (notice_went(1, closed) || cx.working(closed) <= on) {
                    cx.suppress(out, &key, ids[k], "superseded", cx.now_or(scheduled));
                    continue;
                }
            }
        }
        let Some(reason) = cx.block(ids[k]).or(place.is_err().then_some("paused")) else {
            // It lists the open items overdue on its day; none (paid since): nothing goes, and
            // nothing is said (the planner's reading).
            let listed: Vec<&Item> = cx
                .open()
                .filter(|i| i.reminders && cx.due(i).is_some_and(|d| d < on))
                .collect();
            if let (false, Ok(place)) = (listed.is_empty(), place) {
                let stage = if k == 1 { "closed" } else { "closing_soon" };
                cx.event(out, key, ids[k], stage, place, &listed);
            }
            continue;
        };
        cx.suppress(out, &key, ids[k], reason, cx.now_or(on));
    }
}
