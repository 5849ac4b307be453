//! Memo tables and scratch space: what a plan works out once and reads many times (send
//! instants by zone, send time and date; the days a plan runs over per zone), and the
//! buffers reused from one client to the next.

use super::*;

/// Send instants of one plan, by zone, send time and local date: the clients of a plan share
/// a few zones and send times and their events a few hundred days, where working an instant
/// out searches the zone's transitions. A table of slots, each keeping the last it held.
pub(crate) struct SendInstants {
    pub(crate) slots: Vec<Option<SendInstant>>,
}

/// A zone, a send time, a local date and the instant they make.
pub(crate) type SendInstant = (TimeZone, NaiveTime, NaiveDate, DateTime<Utc>);

impl SendInstants {
    const BITS: u32 = 12;

    pub(crate) fn new() -> Self {
        Self {
            slots: vec![None; 1 << Self::BITS],
        }
    }

    /// [`local_instant`] of `date` at `time` in `tz`.
    pub(crate) fn of(&mut self, tz: TimeZone, time: NaiveTime, date: NaiveDate) -> DateTime<Utc> {
        use std::hash::BuildHasher as _;
        let hash = rustc_hash::FxBuildHasher.hash_one((tz, time, date));
        let at = usize::try_from(hash >> (64 - Self::BITS)).unwrap_or(0);
        match self.slots.get(at).copied().flatten() {
            Some((z, t, d, instant)) if z == tz && t == time && d == date => instant,
            _ => {
                let instant = local_instant(tz, date, time);
                if let Some(slot) = self.slots.get_mut(at) {
                    *slot = Some((tz, time, date, instant));
                }
                instant
            }
        }
    }
}

/// The days a plan runs over in one zone at one send time: most clients share a handful.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClientDays {
    pub(crate) tz: TimeZone,
    pub(crate) send_time: NaiveTime,
    pub(crate) today: NaiveDate,
    /// Today's send instant.
    pub(crate) today_at: DateTime<Utc>,
    /// Whether today's send instant is not after `now` (it is due).
    pub(crate) today_due: bool,
    /// The last day whose send instant is within the horizon, or today.
    pub(crate) end_date: NaiveDate,
    /// The last day the sweep makes events on: `end_date`, or the day after it when its start
    /// is within the horizon (a catch-up goes then, after a non-working today or a pause,
    /// though the day's send time may be past the horizon).
    pub(crate) sweep_end: NaiveDate,
}

/// [`ClientDays`] worked out once per zone and send time of one plan.
#[derive(Default)]
pub(crate) struct DaysMemo(Vec<ClientDays>);

impl DaysMemo {
    pub(crate) fn of(
        &mut self,
        tz: TimeZone,
        send_time: NaiveTime,
        now: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> ClientDays {
        if let Some(d) = self.0.iter().find(|d| d.tz == tz && d.send_time == send_time) {
            return *d;
        }
        let today = tz.local_date(now);
        let today_at = local_instant(tz, today, send_time);
        let today_due = today_at <= now;
        let mut end_date = tz.local_date(end);
        if local_instant(tz, end_date, send_time) > end {
            // Today's send instant may be past the horizon, but not today itself: what was
            // missed goes today.
            end_date = add_days(end_date, -1).unwrap_or(end_date).max(today);
        }
        // A catch-up at the start of a day (after a non-working today, or held back by a
        // pause) is listed when that start is within the horizon.
        let last = tz.local_date(end);
        let sweep_end = if local_instant(tz, last, NaiveTime::MIN) <= end {
            last.max(end_date)
        } else {
            end_date
        };
        let days = ClientDays {
            tz,
            send_time,
            today,
            today_at,
            today_due,
            end_date,
            sweep_end,
        };
        // Zones and send times of hosts are few; a plan of many of each keeps the latest.
        if self.0.len() >= 64 {
            self.0.remove(0);
        }
        self.0.push(days);
        days
    }
}

/// What of one rule went about the item being read, from history.
#[derive(Clone, Copy, Default)]
pub(crate) struct RuleSent {
    /// The highest occurrence sent (0: none).
    pub(crate) max_occ: u32,
    /// The last day one went.
    pub(crate) last: Option<NaiveDate>,
    /// Which of occurrences 1 to 64 went (bit `k - 1` for occurrence `k`).
    pub(crate) first_64: u64,
}

impl RuleSent {
    /// Records a send of `occurrence` on `date`.
    #[inline]
    pub(crate) fn add(&mut self, occurrence: u32, date: NaiveDate) {
        self.max_occ = self.max_occ.max(occurrence);
        self.last = self.last.max(Some(date));
        if let Some(bit) = occurrence.checked_sub(1).filter(|&b| b < 64) {
            self.first_64 |= 1 << bit;
        }
    }

    /// Whether an occurrence below the highest sent never went (so may still be said).
    #[inline]
    pub(crate) fn unsent_below(&self) -> bool {
        match self.max_occ {
            0 | 1 => false,
            m if m > 64 => true,
            m => {
                let below = (1u64 << (m - 1)) - 1;
                self.first_64 & below != below
            }
        }
    }
}

#[derive(Default)]
pub(crate) struct Scratch<'h> {
    pub(crate) days: DaysMemo,
    /// Per rule, for the item being read: what of it went.
    pub(crate) sent: Vec<RuleSent>,
    pub(crate) dates: LocalDates,
    pub(crate) contacts: Vec<&'h Contact>,
    pub(crate) ctxs: Vec<ItemCtx<'h>>,
    pub(crate) sweep: SweepBufs,
    pub(crate) eff: Vec<EffRule>,
    pub(crate) slots: Vec<Slot>,
    /// The sweep's candidates: the heap's, or when one item is swept on its own, those of
    /// its slots here.
    pub(crate) heap: BinaryHeap<HeapEntry>,
    pub(crate) by_slots: Option<std::ops::Range<usize>>,
    pub(crate) sends: Vec<ItemSends>,
    pub(crate) sums: Sums,
    /// A client's suppressed records in plan order: (day, item place and rule, position).
    pub(crate) order: Vec<((NaiveDate, u64), u32)>,
    /// A client's suppressed records, moved into plan order.
    pub(crate) moved: Vec<SuppressedRecord>,
}

/// Buffers of the day-by-day sweep, reused from client to client.
#[derive(Default)]
pub(crate) struct SweepBufs {
    pub(crate) batch: Vec<usize>,
    pub(crate) winners: Vec<usize>,
    /// (loser, winner, whether the loser is a later stage of a day still to come).
    pub(crate) losers: Vec<(usize, usize, bool)>,
    pub(crate) members: Vec<usize>,
    /// The day's occurrences to drop as expired unless a send of the day supersedes them.
    pub(crate) expiring: Vec<usize>,
}
