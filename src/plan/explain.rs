//! Sentences that explain events and suppressions, and event keys.
//!
//! Plans of millions of items write millions of these, so they are built by appending
//! pieces to one string rather than through `format!`.

use chrono::{Datelike, NaiveDate};

use crate::model::id::{EventKey, RuleId};
use crate::model::item::Item;
use crate::plan::engine::CompiledRule;
use crate::plan::event::{Adjustment, Stage, SuppressReason};
use crate::policy::Anchor;

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

fn put_digits(s: &mut String, mut n: u64, min_width: usize) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 && buf.len() - i >= min_width {
            break;
        }
    }
    for &b in &buf[i..] {
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

/// The key of an event about one item: `rule/item/occurrence`.
pub(crate) fn single_key(rule: &RuleId, item: &Item, occurrence: u32) -> EventKey {
    let mut s = String::with_capacity(rule.as_str().len() + item.id.as_str().len() + 6);
    cat!(&mut s, *rule, "/", item.id.as_str(), "/", occurrence);
    EventKey::from(s)
}

fn what(s: &mut String, item: &Item) {
    cat!(s, item.kind.describe(), " ", item.display_number());
}

fn when(s: &mut String, offset: i32) {
    match offset {
        0 => s.push_str("on"),
        o if o < 0 => cat!(s, -i64::from(o), " day(s) before"),
        o => cat!(s, i64::from(o), " day(s) after"),
    }
}

/// Why an event fires.
#[allow(clippy::too_many_arguments)]
pub(crate) fn why_text(
    rule: &CompiledRule,
    item: &Item,
    due: Option<NaiveDate>,
    anchor_on: NaiveDate,
    offset: i32,
    stage: Stage,
    occurrence: u32,
    count: u32,
    n_items: usize,
    adjustments: &[Adjustment],
) -> String {
    let mut s = String::with_capacity(128);
    let t = &mut s;
    what(t, item);
    if n_items > 1 {
        cat!(t, " and ", n_items - 1, " more item(s)");
    }
    match (rule.anchor, stage) {
        (Anchor::Due, Stage::DueSoon) => cat!(t, " is due on ", due.unwrap_or(anchor_on)),
        (Anchor::Due, Stage::DueToday) => cat!(t, " is due on ", anchor_on),
        (Anchor::Due, _) => cat!(t, " was due on ", anchor_on, " and is unpaid"),
        (Anchor::Issued, _) => cat!(t, " was issued on ", anchor_on),
        (Anchor::Sent, _) => cat!(t, " was sent on ", anchor_on, " and is still pending"),
        (Anchor::Paid, _) => cat!(t, " was settled on ", anchor_on),
    }
    cat!(t, "; rule ", rule.id, " fires ");
    when(t, offset);
    t.push_str(match rule.anchor {
        Anchor::Due => " the due date",
        Anchor::Issued => " the issue date",
        Anchor::Sent => " it was sent",
        Anchor::Paid => " settlement",
    });
    if count > 1 {
        cat!(t, ", reminder ", occurrence, " of ", count);
    }
    if n_items > 1 {
        t.push_str(", grouped into one notice per client and currency");
    }
    for a in adjustments {
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
        }
    }
    s
}

/// Why an event is not sent.
pub(crate) fn suppress_text(
    rule: &CompiledRule,
    item: &Item,
    on: NaiveDate,
    reason: &SuppressReason,
) -> String {
    let mut s = String::with_capacity(96);
    let t = &mut s;
    let r = &rule.id;
    let status = |t: &mut String, word: &str| {
        what(t, item);
        cat!(t, " is ", word, ": rule ", *r, " does not fire on ", on);
    };
    match reason {
        SuppressReason::Paid => status(t, "paid"),
        SuppressReason::Cancelled => status(t, "cancelled"),
        SuppressReason::Void => status(t, "void"),
        SuppressReason::Draft => status(t, "a draft"),
        SuppressReason::Completed => status(t, "completed"),
        SuppressReason::NotSettled => {
            what(t, item);
            cat!(t, " is not settled: rule ", *r, " does not fire");
        }
        SuppressReason::ItemRemindersOff => {
            t.push_str("reminders are off for ");
            what(t, item);
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
            what(t, item);
        }
        SuppressReason::ExcludedForClient => {
            cat!(t, "rule ", *r, " is off for the client: nothing on ", on, " for ");
            what(t, item);
        }
        SuppressReason::Paused { pause, reason } => {
            what(t, item);
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
            what(t, item);
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
            what(t, item);
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
            what(t, item);
            cat!(t, ": nothing on ", on);
        }
        SuppressReason::Superseded { by } => {
            cat!(t, "rule ", *r, " for ");
            what(t, item);
            cat!(t, " on ", on, " is superseded by the later stage ", *by);
        }
        SuppressReason::DueSoonAfterDue { due } => {
            cat!(t, "rule ", *r, " would remind ");
            what(t, item);
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
            what(t, item);
        }
        SuppressReason::MovedOffNonWorkingDay { to } => {
            cat!(t, on, " is a non-working day: rule ", *r, " for ");
            what(t, item);
            cat!(t, " moves to ", *to);
        }
        SuppressReason::PausedUntil { pause, reason, until } => {
            what(t, item);
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
            what(t, item);
            t.push_str(" waits");
        }
        SuppressReason::AlreadySent => {
            cat!(t, "rule ", *r, " for ");
            what(t, item);
            cat!(t, " on ", on, " is already recorded as sent");
        }
        SuppressReason::NothingToList => {
            cat!(t, "statement ", *r, " of ", on, " has no item to list: not sent");
        }
        SuppressReason::Expired { days } => {
            cat!(t, "rule ", *r, " for ");
            what(t, item);
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

#[cfg(test)]
mod tests {
    use super::*;

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
