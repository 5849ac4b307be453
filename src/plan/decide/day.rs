//! One client's day: of the stages of an item that fall on one day, which goes; in what
//! order the day's messages are made; which items go together as one grouped notice; and
//! whether the minimum gap between messages to the client holds a message back.
//!
//! The engine's sweep walks the days and asks these; nothing here knows how candidates are
//! stored or ordered.

use chrono::{DateTime, NaiveDate, Utc};

use crate::money::Currency;
use crate::plan::decide::item::Candidate;
use crate::plan::decide::occurrences::add_days;
use crate::plan::engine::ClientCtx;

/// What decides which stage of an item goes on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct StageRank {
    /// It goes first: due now, or a catch-up at the start of the day. A stage whose send
    /// time is still to come does not hold back one that is due.
    goes_first: Option<bool>,
    /// Its nominal day: the later stage wins.
    nominal: Option<NaiveDate>,
    /// Its rule, in policy order: of two stages of one day, the later rule wins.
    rule: usize,
}

impl StageRank {
    pub(crate) fn of(cx: &ClientCtx<'_>, candidate: Option<&Candidate>, rule: usize) -> StageRank {
        StageRank {
            goes_first: candidate.map(|c| cx.goes_first(c)),
            nominal: candidate.map(|c| c.nominal),
            rule,
        }
    }

    /// The rank of a stage as of an instant by which its turn has come (it goes first then,
    /// as every other stage of the day whose turn came by then).
    pub(crate) fn by_then(candidate: Option<&Candidate>, rule: usize) -> StageRank {
        StageRank {
            goes_first: Some(true),
            nominal: candidate.map(|c| c.nominal),
            rule,
        }
    }

    /// Whether this stage, beaten by `winner` on `day`, moves to the next working day
    /// instead of being superseded: a stage of a day still to come that a catch-up of an
    /// earlier stage beat to this day (it was moved back here off a non-working day) is
    /// later than the winner, and one reminder a day goes about an item.
    pub(crate) fn moves_past(&self, winner: &StageRank, day: NaiveDate) -> bool {
        (self.nominal, self.rule) > (winner.nominal, winner.rule) && self.nominal.is_some_and(|n| n > day)
    }
}

/// What becomes of a stage of an item that another stage of the item beat on a day (see
/// [`same_day_winner`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Beaten {
    /// The winner did not go (the minimum gap held it back): none went instead, so this
    /// stage waits with it, and the day the gap allows decides again which of them goes.
    WaitsWithWinner,
    /// The winner went, and this stage is later, with its own day still to come (it was
    /// moved back onto this day off a non-working day): one reminder a day goes about an
    /// item, so it moves past this day.
    MovesPast,
    /// The winner went: this occurrence is superseded by it, and not sent.
    Superseded,
}

impl Beaten {
    /// The fate of a beaten stage, from whether the winner went and whether the stage
    /// [moves past](StageRank::moves_past) the day.
    pub(crate) fn of(winner_went: bool, moves_past: bool) -> Beaten {
        match (winner_went, moves_past) {
            (false, _) => Beaten::WaitsWithWinner,
            (true, true) => Beaten::MovesPast,
            (true, false) => Beaten::Superseded,
        }
    }
}

/// Of the stages of one item on one day, the one that goes: the latest of those that go
/// first if any, then the highest nominal day, then the later rule. `None` for no stage.
pub(crate) fn same_day_winner<T: Copy>(stages: impl Iterator<Item = (T, StageRank)>) -> Option<T> {
    stages.max_by_key(|(_, rank)| *rank).map(|(s, _)| s)
}

/// The order of a day's winning stages (one per item), where it matters: grouped notices
/// and the gap between a client's messages. By rule, currency, when it goes (those due now,
/// `None`, apart from each send instant still to come), then item.
pub(crate) fn message_order(
    rule: usize,
    currency: Option<Currency>,
    goes_at: Option<DateTime<Utc>>,
    item: usize,
) -> MessageOrder {
    // A currency's code in a number that orders as the text does.
    let code = currency.map_or(0, |c| {
        let code = c.code().as_bytes();
        let byte = |i: usize| code.get(i).map_or(0, |&b| u32::from(b));
        (byte(0) << 24) | (byte(1) << 16) | (byte(2) << 8) | byte(3)
    });
    (rule, code, goes_at.is_none(), goes_at, item)
}

/// See [`message_order`].
pub(crate) type MessageOrder = (usize, u32, bool, Option<DateTime<Utc>>, usize);

/// What the stages of one grouped notice share: rule, currency, and when it goes (now, when
/// due: `None`; else the send instant), so that a notice never goes before the send instant
/// of an item it lists.
pub(crate) type MessageKey = (usize, Option<Currency>, Option<DateTime<Utc>>);

/// Under a minimum gap of `gap_days` between messages to the client, the first day a
/// message may go after the last on `last`, when that is after `day` (the message waits
/// until then). Past the end of the calendar: never again.
pub(crate) fn gap_holds(last: Option<NaiveDate>, gap_days: u32, day: NaiveDate) -> Option<NaiveDate> {
    if gap_days == 0 {
        return None;
    }
    let until = add_days(last?, i64::from(gap_days)).unwrap_or(NaiveDate::MAX);
    (day < until).then_some(until)
}

/// Under a minimum gap one message a day goes: the one whose reminders waited longest
/// (deferred, or missed, from the earliest day) goes first, with the stages grouped into
/// it. `winners` come in [`message_order`]; `waiting` says since when each waited, the
/// instant it goes at on the day and the day of the last message about its item (`None`:
/// none yet), `key` which notice it belongs to (`None`: it goes alone). Moves that message
/// to the front of `winners`.
pub(crate) fn longest_waiting_first<T: Copy>(
    winners: &mut [T],
    waiting: impl Fn(T) -> (NaiveDate, Option<DateTime<Utc>>, Option<NaiveDate>),
    key: impl Fn(T) -> Option<MessageKey>,
) {
    // Of those that waited as long, the one whose instant comes first: one due now before
    // one whose send time is to come, and, planned ahead, the one the day's first tick
    // finds due (a plan made before the day and one made on it order them alike). Of those
    // that go at one instant too, the one whose item was reminded longest ago (or never):
    // invoices whose reminders come every day, each held back in turn, take turns, none
    // starved by another's next repeat.
    let Some(m) = (0..winners.len()).min_by_key(|&i| (waiting(winners[i]), i)) else {
        return;
    };
    let (mut a, mut b) = (m, m + 1);
    if let Some(k) = key(winners[m]) {
        while a > 0 && key(winners[a - 1]) == Some(k) {
            a -= 1;
        }
        while b < winners.len() && key(winners[b]) == Some(k) {
            b += 1;
        }
    }
    winners[..b].rotate_right(b - a);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, d).unwrap()
    }

    fn rank(goes_first: bool, nominal: u32, rule: usize) -> StageRank {
        StageRank {
            goes_first: Some(goes_first),
            nominal: Some(day(nominal)),
            rule,
        }
    }

    #[test]
    fn the_latest_stage_that_goes_first_wins() {
        let stages = [
            ("a", rank(false, 9, 2)),
            ("b", rank(true, 5, 0)),
            ("c", rank(true, 5, 1)),
        ];
        assert_eq!(same_day_winner(stages.into_iter()), Some("c"));
        assert_eq!(same_day_winner(std::iter::empty::<(u8, StageRank)>()), None);
        // A later stage whose own day is still to come moves past the winner's day.
        assert!(rank(false, 9, 2).moves_past(&rank(true, 5, 1), day(6)));
        assert!(!rank(false, 4, 2).moves_past(&rank(true, 5, 1), day(6)));
        assert!(!rank(false, 6, 2).moves_past(&rank(true, 5, 1), day(6)));
        assert_eq!(Beaten::of(false, true), Beaten::WaitsWithWinner);
        assert_eq!(Beaten::of(true, true), Beaten::MovesPast);
        assert_eq!(Beaten::of(true, false), Beaten::Superseded);
    }

    #[test]
    fn the_gap_holds_until_its_last_day_has_passed() {
        assert_eq!(gap_holds(Some(day(1)), 3, day(3)), Some(day(4)));
        assert_eq!(gap_holds(Some(day(1)), 3, day(4)), None);
        assert_eq!(gap_holds(None, 3, day(3)), None);
        assert_eq!(gap_holds(Some(day(1)), 0, day(1)), None);
        assert_eq!(gap_holds(Some(NaiveDate::MAX), 1, day(1)), Some(NaiveDate::MAX));
    }

    #[test]
    fn the_longest_waiting_goes_first_with_its_notice() {
        // (item, waiting since, grouped key)
        let since = [day(5), day(2), day(2), day(1), day(7)];
        let group = |i: usize| (i == 2 || i == 3).then_some((1, None, None));
        let mut winners = [0, 1, 2, 3, 4];
        longest_waiting_first(&mut winners, |i| (since[i], None, None), group);
        assert_eq!(winners, [2, 3, 0, 1, 4]);
        let mut none: [usize; 0] = [];
        longest_waiting_first(&mut none, |i| (since[i], None, None), group);
        // Of those that waited as long, the item reminded longest ago (or never) goes first.
        let last = [Some(day(4)), None, Some(day(3))];
        let mut winners = [0, 1, 2];
        longest_waiting_first(&mut winners, |i| (day(5), None, last[i]), |_| None);
        assert_eq!(winners, [1, 0, 2]);
        let mut winners = [0, 2];
        longest_waiting_first(&mut winners, |i| (day(5), None, last[i]), |_| None);
        assert_eq!(winners, [2, 0]);
    }
}
