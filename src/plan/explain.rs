//! Sentences that explain events and suppressions, and event keys.
//!
//! Plans of millions of items write millions of these, so they are built by appending
//! pieces to one string rather than through `format!`.

use chrono::{Datelike, NaiveDate};

use crate::model::client::Client;
use crate::model::id::{EventKey, RuleId};
use crate::model::item::ItemKind;
use crate::plan::event::{Adjustment, Event, Stage, SuppressReason, Suppressed};
use crate::policy::Anchor;
use crate::standing::StandingState;

/// Something that appends itself to a sentence.
pub(crate) trait Piece {
    fn put(&self, s: &mut String);
}

impl Piece for &str {
    fn put(&self, s: &mut String) {
        s.push_str(self);
    }
}

impl Piece for String {
    fn put(&self, s: &mut String) {
        s.push_str(self);
    }
}

impl Piece for RuleId {
    fn put(&self, s: &mut String) {
        s.push_str(self.as_str());
    }
}

impl Piece for EventKey {
    fn put(&self, s: &mut String) {
        s.push_str(self.as_str());
    }
}

fn put_digits(s: &mut String, n: u64, min_width: usize) {
    let mut buf = [0u8; 20];
    for &b in crate::model::id::decimal(&mut buf, n, min_width) {
        s.push(char::from(b));
    }
}

impl Piece for u32 {
    fn put(&self, s: &mut String) {
        put_digits(s, u64::from(*self), 1);
    }
}

impl Piece for i64 {
    fn put(&self, s: &mut String) {
        if *self < 0 {
            s.push('-');
        }
        put_digits(s, self.unsigned_abs(), 1);
    }
}

impl Piece for usize {
    fn put(&self, s: &mut String) {
        put_digits(s, *self as u64, 1);
    }
}

/// ISO 8601 `YYYY-MM-DD`, as chrono's `Display` writes it for years 0 to 9999.
impl Piece for NaiveDate {
    fn put(&self, s: &mut String) {
        let y = self.year();
        if (0..=9999).contains(&y) {
            put_digits(s, y.unsigned_abs().into(), 4);
            s.push('-');
            put_digits(s, self.month().into(), 2);
            s.push('-');
            put_digits(s, self.day().into(), 2);
        } else {
            s.push_str(&self.to_string());
        }
    }
}

/// Appends every piece to `$s`.
macro_rules! cat {
    ($s:expr, $($piece:expr),+ $(,)?) => {{
        $( crate::plan::explain::Piece::put(&$piece, $s); )+
    }};
}

thread_local! {
    /// Where keys are written before they are shared: one allocation per key, not two.
    static KEY: std::cell::RefCell<String> = std::cell::RefCell::new(String::with_capacity(64));
}

/// Runs `then` on the key `write` makes, written into the reused buffer (a fresh one only if
/// `write` itself makes a key).
fn with_key<R>(write: impl FnOnce(&mut String), then: impl FnOnce(&str) -> R) -> R {
    KEY.with(|buf| match buf.try_borrow_mut() {
        Ok(mut s) => {
            s.clear();
            write(&mut s);
            then(&s)
        }
        Err(_) => {
            let mut s = String::new();
            write(&mut s);
            then(&s)
        }
    })
}

/// An event key written by `write`, allocated once at its final size.
pub(crate) fn key_with(write: impl FnOnce(&mut String)) -> EventKey {
    with_key(write, |k| EventKey::from(k))
}

/// Whether one of `keys` is the key `write` would make, without making it (nor writing it
/// when there are none).
pub(crate) fn any_key_is<'k>(
    keys: impl IntoIterator<Item = &'k str>,
    write: impl FnOnce(&mut String),
) -> bool {
    let mut keys = keys.into_iter().peekable();
    keys.peek().is_some() && with_key(write, |k| keys.any(|key| key == k))
}

/// Writes the key of a client-level event: `rule/client/date`.
pub(crate) fn write_client_key(s: &mut String, rule: &RuleId, client: &Client, date: NaiveDate) {
    cat!(s, *rule, "/", client.id.as_str(), "/", date);
}

/// The date a client-level key `rule/client/date` ends with, if it ends with one. Keys the
/// planner wrote read without the general date parser (plans read one per statement or
/// standing notice in history); any other text is read as `NaiveDate`'s `FromStr` reads it.
pub(crate) fn key_date(key: &str) -> Option<NaiveDate> {
    let last = key.rsplit('/').next()?;
    let b = last.as_bytes();
    let digits = |r: std::ops::Range<usize>| {
        b.get(r)?.iter().try_fold(0u32, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    if b.len() == 10 && b[4] == b'-' && b[7] == b'-' {
        if let (Some(y), Some(m), Some(d)) = (digits(0..4), digits(5..7), digits(8..10)) {
            // Fits: four digits.
            return NaiveDate::from_ymd_opt(y as i32, m, d);
        }
    }
    last.parse().ok()
}

/// The key of a client-level event: `rule/client/date`.
pub(crate) fn client_key(rule: &RuleId, client: &Client, date: NaiveDate) -> EventKey {
    key_with(|s| write_client_key(s, rule, client, date))
}

fn what(s: &mut String, kind: ItemKind, number: &str) {
    cat!(s, kind.describe(), " ", number);
}

fn when(s: &mut String, offset: i32) {
    match offset {
        0 => s.push_str("on"),
        o if o < 0 => cat!(s, -i64::from(o), " day(s) before"),
        o => cat!(s, i64::from(o), " day(s) after"),
    }
}

/// Why an event fires, in a sentence: everything it says comes from the event itself.
pub(crate) fn why_text(ev: &Event) -> String {
    let mut s = String::with_capacity(128);
    let t = &mut s;
    if ev.why.preview {
        t.push_str("preview of ");
    }
    if let Some(st) = &ev.statement {
        cat!(
            t,
            if st.overdue_only {
                "statement of overdue items "
            } else {
                "statement of open items "
            },
            ev.rule,
            " for ",
            st.period,
            ": ",
            ev.items.len(),
            " item(s) to list"
        );
        adjustments_text(t, ev);
        return s;
    }
    if let Some(sd) = &ev.standing {
        let oldest = ev.items.iter().find(|i| i.item == sd.oldest_item);
        let (number, due) = oldest.map_or((sd.oldest_item.as_str(), None), |i| (&*i.number, i.due_on));
        let threshold = if sd.state == StandingState::Closed {
            sd.closed_after_days
        } else {
            sd.closing_soon_after_days
        };
        cat!(t, "the oldest unpaid item ", number);
        if let Some(due) = due {
            cat!(t, " was due on ", due);
        }
        cat!(
            t,
            "; the client reaches ",
            threshold,
            " day(s) overdue on ",
            ev.why.anchor_on,
            if sd.state == StandingState::Closed {
                " and its account closes"
            } else {
                " and its account is closing soon"
            }
        );
        adjustments_text(t, ev);
        return s;
    }
    let n_items = ev.items.len();
    let anchor = ev.why.anchor.unwrap_or(Anchor::Due);
    // The item named: the first, or of a notice about items due on different days, the one
    // due first (its stage is the notice's).
    let lead = match anchor {
        Anchor::Due if n_items > 1 => (ev.items.iter())
            .filter(|i| i.due_on.is_some())
            .min_by_key(|i| i.due_on)
            .or(ev.items.first()),
        _ => ev.items.first(),
    };
    if let Some(lead) = lead {
        what(t, lead.kind, &lead.number);
    }
    if n_items > 1 {
        cat!(t, " and ", n_items - 1, " more item(s)");
    }
    let due = lead.and_then(|i| i.due_on);
    let anchor_on = match anchor {
        Anchor::Due if n_items > 1 => due.unwrap_or(ev.why.anchor_on),
        _ => ev.why.anchor_on,
    };
    match (anchor, ev.stage) {
        (Anchor::Due, Stage::DueSoon) => cat!(t, " is due on ", due.unwrap_or(anchor_on)),
        (Anchor::Due, Stage::DueToday) => cat!(t, " is due on ", anchor_on),
        (Anchor::Due, _) => cat!(t, " was due on ", anchor_on, " and is unpaid"),
        (Anchor::Issued, _) => cat!(t, " was issued on ", anchor_on),
        (Anchor::Sent, _) => cat!(t, " was sent on ", anchor_on, " and is still pending"),
        (Anchor::Paid, _) => cat!(t, " was settled on ", anchor_on),
    }
    cat!(t, "; rule ", ev.rule, " fires ");
    when(t, ev.why.offset_days);
    t.push_str(match anchor {
        Anchor::Due => " the due date",
        Anchor::Issued => " the issue date",
        Anchor::Sent => " it was sent",
        Anchor::Paid => " settlement",
    });
    if ev.count > 1 {
        let occurrence = lead.map_or(ev.occurrence, |i| i.occurrence);
        cat!(t, ", reminder ", occurrence, " of ", ev.count);
    }
    if n_items > 1 {
        t.push_str(", grouped into one notice per client and currency");
    }
    adjustments_text(t, ev);
    s
}

/// What moved an event, in clauses after its sentence.
fn adjustments_text(t: &mut String, ev: &Event) {
    for a in &ev.why.adjustments {
        match a {
            Adjustment::MovedOffNonWorkingDay { from, to } => {
                cat!(t, "; moved from ", *from, " (a non-working day) to ", *to)
            }
            Adjustment::Paused { pause, until, .. } => {
                cat!(t, "; held back by a ", pause.describe(), " until ", *until)
            }
            Adjustment::Deferred { gap_days, from } => cat!(
                t,
                "; deferred from ",
                *from,
                " to keep ",
                *gap_days,
                " day(s) between messages to the client"
            ),
            Adjustment::SpacedAfterManualSend { manual_on } => {
                cat!(t, "; spaced after a manual send on ", *manual_on)
            }
            Adjustment::CatchUp { scheduled_on } => cat!(
                t,
                "; scheduled for ",
                *scheduled_on,
                " and not sent then, so it goes now (catch-up)"
            ),
            Adjustment::AfterAnotherReminder { from, to } => cat!(
                t,
                "; moved from ",
                *from,
                " to ",
                *to,
                " (another reminder about it went that day: one a day)"
            ),
        }
    }
}

/// `names` as `a`, `a or b`, `a, b or c`.
fn names<'a>(t: &mut String, names: impl ExactSizeIterator<Item = &'a str>) {
    let n = names.len();
    for (i, name) in names.enumerate() {
        if i > 0 {
            t.push_str(if i + 1 == n { " or " } else { ", " });
        }
        t.push_str(name);
    }
}

/// Why an event is not sent, in a sentence, from the entry itself.
pub(crate) fn suppress_text(sp: &Suppressed) -> String {
    let mut s = String::with_capacity(96);
    let t = &mut s;
    let Some(id) = &sp.item else {
        client_suppress_text(t, sp);
        return s;
    };
    let kind = sp.kind.unwrap_or(ItemKind::Invoice);
    let number = sp.number.as_deref().unwrap_or(id.as_str());
    let r = &sp.rule;
    let on = sp.on;
    let status = |t: &mut String, word: &str| {
        what(t, kind, number);
        cat!(t, " is ", word, ": rule ", *r, " does not fire on ", on);
    };
    match &sp.reason {
        SuppressReason::Paid => status(t, "paid"),
        SuppressReason::Cancelled => status(t, "cancelled"),
        SuppressReason::Void => status(t, "void"),
        SuppressReason::Draft => status(t, "a draft"),
        SuppressReason::Completed => status(t, "completed"),
        SuppressReason::NotSettled => {
            what(t, kind, number);
            cat!(t, " is not settled: rule ", *r, " does not fire");
        }
        SuppressReason::ItemRemindersOff => {
            t.push_str("reminders are off for ");
            what(t, kind, number);
            cat!(t, ": rule ", *r, " does not fire on ", on);
        }
        SuppressReason::ClientRemindersOff => {
            cat!(
                t,
                "reminders are off for the client: rule ",
                *r,
                " does not fire on ",
                on,
                " for "
            );
            what(t, kind, number);
        }
        SuppressReason::ExcludedForClient => {
            cat!(t, "rule ", *r, " is off for the client: nothing on ", on, " for ");
            what(t, kind, number);
        }
        SuppressReason::Paused { pause, reason } => {
            what(t, kind, number);
            cat!(
                t,
                " is under a ",
                pause.describe(),
                " (",
                reason.as_str(),
                ") with no end date: rule ",
                *r,
                " does not fire on ",
                on
            );
        }
        SuppressReason::BeforeCollectionStart { start } => {
            what(t, kind, number);
            cat!(
                t,
                " predates the collection start ",
                *start,
                ": rule ",
                *r,
                " never reminds it"
            );
        }
        SuppressReason::BelowMinimumBalance { minimum } => {
            t.push_str("the balance of ");
            what(t, kind, number);
            cat!(
                t,
                " is below ",
                minimum.to_string(),
                ": rule ",
                *r,
                " does not fire on ",
                on
            );
        }
        SuppressReason::CountReached { count } => {
            cat!(t, "rule ", *r, " already fired ", *count, " time(s) for ");
            what(t, kind, number);
            cat!(t, ": nothing on ", on);
        }
        SuppressReason::Superseded { by } => {
            cat!(t, "rule ", *r, " for ");
            what(t, kind, number);
            cat!(t, " on ", on, " is superseded by ", *by, ", sent instead");
        }
        SuppressReason::DueSoonAfterDue { due } => {
            cat!(t, "rule ", *r, " would remind ");
            what(t, kind, number);
            cat!(t, " as due soon on or after its due date ", *due, ": not sent");
        }
        SuppressReason::NoRecipients => {
            cat!(
                t,
                "no contact of the client has notify on for rule ",
                *r,
                ": nothing on ",
                on,
                " for "
            );
            what(t, kind, number);
        }
        SuppressReason::MovedOffNonWorkingDay { to } => {
            cat!(t, on, " is a non-working day: rule ", *r, " for ");
            what(t, kind, number);
            cat!(t, " moves to ", *to);
        }
        SuppressReason::PausedUntil { pause, reason, until } => {
            what(t, kind, number);
            cat!(
                t,
                " is under a ",
                pause.describe(),
                " until ",
                *until,
                " (",
                reason.as_str(),
                "): rule ",
                *r,
                " waits until after it"
            );
        }
        SuppressReason::Deferred { gap_days } => {
            cat!(
                t,
                "another message went to the client less than ",
                *gap_days,
                " day(s) before: rule ",
                *r,
                " for "
            );
            what(t, kind, number);
            t.push_str(" waits");
        }
        SuppressReason::AfterAnotherReminder { to } => {
            cat!(t, "another reminder about ");
            what(t, kind, number);
            cat!(
                t,
                " goes on ",
                on,
                ": rule ",
                *r,
                " moves to ",
                *to,
                " (one a day)"
            );
        }
        SuppressReason::AlreadySent => {
            cat!(t, "rule ", *r, " for ");
            what(t, kind, number);
            cat!(t, " on ", on, " is already recorded as sent");
        }
        SuppressReason::NothingToList => {
            cat!(t, "statement ", *r, " of ", on, " has no item to list: not sent");
        }
        SuppressReason::DeliveryFailed { at, error } => {
            cat!(t, "rule ", *r, " for ");
            what(t, kind, number);
            cat!(
                t,
                " failed for good at ",
                at.to_rfc3339(),
                " (",
                error.as_str(),
                "): not tried again unless released"
            );
        }
        SuppressReason::OutcomeUnknown { at } => {
            cat!(t, "rule ", *r, " for ");
            what(t, kind, number);
            cat!(
                t,
                " may or may not have gone at ",
                at.to_rfc3339(),
                " (outcome unknown): not sent again unless released"
            );
        }
        SuppressReason::ExcludedKind { kinds } => {
            what(t, kind, number);
            cat!(t, ": rule ", *r, " is for ");
            names(t, kinds.iter().map(|k| k.as_str()));
            t.push_str(" only, and no rule reminds about it");
        }
        SuppressReason::NotForClientTags { tags } => {
            what(t, kind, number);
            cat!(t, ": rule ", *r, " is for clients tagged ");
            names(t, tags.iter().map(String::as_str));
            t.push_str(" only, and no rule reminds about it");
        }
        SuppressReason::NoDateToCountFrom { anchor } => {
            cat!(t, "rule ", *r, " for ");
            what(t, kind, number);
            t.push_str(match anchor {
                Anchor::Due => {
                    " counts from its due date, which it has none of (or none before the end of the calendar)"
                }
                Anchor::Paid => " counts from its settlement, whose date it has none of",
                Anchor::Issued => " counts from its issue date, which it has none of",
                Anchor::Sent => " counts from the day it was sent, which it has none of",
            });
            cat!(t, ": nothing from it, as of ", on);
        }
        SuppressReason::NoDayToSend => {
            cat!(t, "rule ", *r, " for ");
            what(t, kind, number);
            cat!(
                t,
                " has no working day to go on from ",
                on,
                " before the end of the calendar: not sent"
            );
        }
        SuppressReason::Expired { days } => {
            cat!(t, "rule ", *r, " for ");
            what(t, kind, number);
            cat!(
                t,
                " was due on ",
                on,
                " and is more than ",
                *days,
                " day(s) late: dropped"
            );
        }
    }
    s
}

/// A client-level entry (a statement or a standing notice) that is not sent.
fn client_suppress_text(t: &mut String, sp: &Suppressed) {
    cat!(
        t,
        sp.rule,
        " for client ",
        sp.client.as_str(),
        " on ",
        sp.on,
        ": "
    );
    match &sp.reason {
        SuppressReason::ClientRemindersOff => t.push_str("reminders are off for the client"),
        SuppressReason::ExcludedForClient => t.push_str("it is off for the client"),
        SuppressReason::NoRecipients => t.push_str("no contact of the client has notify on"),
        SuppressReason::NothingToList => t.push_str("nothing to list, so no statement"),
        SuppressReason::Superseded { by } => cat!(t, "superseded by the later ", *by),
        SuppressReason::Expired { days } => cat!(t, "more than ", *days, " day(s) late: dropped"),
        SuppressReason::NoDayToSend => t.push_str("no working day to go on before the end of the calendar"),
        SuppressReason::DeliveryFailed { at, error } => cat!(
            t,
            "failed for good at ",
            at.to_rfc3339(),
            " (",
            error.as_str(),
            "): not tried again unless released"
        ),
        SuppressReason::OutcomeUnknown { at } => cat!(
            t,
            "may or may not have gone at ",
            at.to_rfc3339(),
            " (outcome unknown): not sent again unless released"
        ),
        SuppressReason::Paused { pause, reason } => {
            cat!(
                t,
                "the client is under a ",
                pause.describe(),
                " (",
                reason.as_str(),
                ") with no end date"
            )
        }
        SuppressReason::PausedUntil { pause, reason, until } => cat!(
            t,
            "the client is under a ",
            pause.describe(),
            " until ",
            *until,
            " (",
            reason.as_str(),
            "): it waits until after it"
        ),
        SuppressReason::MovedOffNonWorkingDay { to } => cat!(t, "a non-working day: it moves to ", *to),
        SuppressReason::AlreadySent => t.push_str("already sent"),
        // Reasons about one item's reminders: not given to a client-level entry, and said by
        // their kind should one be.
        other => cat!(t, "not sent (", other.kind().to_string(), ")"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_dates_read_as_the_date_parser_reads_them() {
        // Every date a key can end with, written as keys write them, reads back.
        for date in [
            NaiveDate::MIN,
            NaiveDate::from_ymd_opt(-1, 12, 31).unwrap(),
            NaiveDate::from_ymd_opt(0, 1, 1).unwrap(),
            NaiveDate::from_ymd_opt(999, 12, 31).unwrap(),
            NaiveDate::from_ymd_opt(2024, 2, 29).unwrap(),
            NaiveDate::from_ymd_opt(9999, 12, 31).unwrap(),
            NaiveDate::from_ymd_opt(10000, 1, 1).unwrap(),
            NaiveDate::MAX,
        ] {
            assert_eq!(key_date(&format!("statement/acme/{date}")), Some(date), "{date}");
        }
        // Other text: as `NaiveDate::from_str` reads it.
        for tail in [
            "2026-02-30",
            "2026-13-01",
            "2026-00-10",
            "2026-1-01",
            "2026-01-1",
            "2026/01/01",
            "20260101",
            "2026-01-01x",
            "x2026-01-01",
            "+2026-01-01",
            "-2026-01-01",
            " 2026-01-01",
            "2026-01-01 ",
            "２０２６-01-01",
            "",
            "1",
            "g0123456789abcdef",
            "2026-0a-01",
        ] {
            let want = tail.parse::<NaiveDate>().ok();
            assert_eq!(key_date(&format!("closed/acme/{tail}")), want, "{tail:?}");
            assert_eq!(key_date(tail), want, "{tail:?}");
        }
    }

    #[test]
    fn dates_and_numbers_match_display() {
        for (y, m, d) in [(2026, 1, 5), (999, 12, 31), (10, 3, 9), (9999, 12, 31)] {
            let date = NaiveDate::from_ymd_opt(y, m, d).unwrap();
            let mut s = String::new();
            date.put(&mut s);
            assert_eq!(s, date.to_string());
        }
        let far = NaiveDate::from_ymd_opt(12345, 1, 1).unwrap();
        let mut s = String::new();
        far.put(&mut s);
        assert_eq!(s, far.to_string());
        for n in [0u32, 7, 10, 4_294_967_295] {
            let mut s = String::new();
            n.put(&mut s);
            assert_eq!(s, n.to_string());
        }
        let mut s = String::new();
        (-42i64).put(&mut s);
        assert_eq!(s, "-42");
    }
}
