//! Statement RRULEs from hostile text: validation and expansion over a window give dates or
//! a typed error, never a panic or a hang; dates are within the window, in order, once each.
#![no_main]

use chrono::NaiveDate;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let starts = [
        NaiveDate::from_ymd_opt(2026, 1, 1),
        NaiveDate::from_ymd_opt(1700, 3, 31),
        NaiveDate::from_ymd_opt(2024, 2, 29),
        NaiveDate::from_ymd_opt(9999, 12, 31),
    ];
    let Some(start) = starts[usize::from(pick) % starts.len()] else { return };
    let Ok(id) = "fuzz".parse() else { return };
    let rule = dunning::StatementRule::new(id, text, start);
    let (Some(from), Some(to)) = (NaiveDate::from_ymd_opt(2026, 1, 1), NaiveDate::from_ymd_opt(2027, 12, 31)) else {
        return;
    };
    if let Ok(dates) = rule.occurrences(from, to) {
        assert!(dates.windows(2).all(|w| w[0] < w[1]), "{text:?}: dates out of order or twice");
        assert!(dates.iter().all(|d| *d >= from && *d <= to), "{text:?}: a date outside the window");
    }
});
