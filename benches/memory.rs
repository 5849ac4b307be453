//! Peak memory of planning, against the size of the input, as the operating system sees it
//! (resident set size, from `/proc/self/status`; Linux only).
//!
//! For each size: the input's size is the growth of the resident set while the portfolio is
//! built; the peak is read after the high-water mark is reset (`/proc/self/clear_refs`) and
//! one plan is computed and dropped. The plan's own peak is that mark above the resident set
//! before planning: the working state plus the plan it returns; "plan held" is what the
//! returned plan alone keeps resident. Each case is measured for the owned plan
//! (`Planner::plan`) and for the schedule (`Planner::schedule`, compact records that refer to
//! the input).
//!
//! Run: `cargo bench --bench memory` (sizes from `DUNNING_BENCH_SIZES`, default 1000000).

use chrono::{TimeZone as _, Utc};
use dunning::{Horizon, Planner};

mod common;
use common::{policy, portfolio, sizes, steady_history};

/// Resident set size and its high-water mark, in bytes.
fn rss() -> Option<(u64, u64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map(|kb| kb * 1024)
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

fn mib(b: u64) -> f64 {
    b as f64 / (1024.0 * 1024.0)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench -- --list` and test runners: no benchmarks to list here.
    }
    let sizes = sizes(&[1_000_000]);
    let planner = Planner::new(&policy()).expect("the benchmark policy is valid");
    let now = Utc.with_ymd_and_hms(2026, 5, 15, 14, 0, 0).unwrap();
    println!(
        "size       case    form      input MiB  plan peak MiB  peak/input  plan held MiB  records  history"
    );
    for n in sizes {
        let Some((before, _)) = rss() else {
            eprintln!("no /proc/self/status here: peak memory is measured on Linux only");
            return;
        };
        let mut p = portfolio(n);
        let Some((with_input, _)) = rss() else { return };
        let mut input = with_input.saturating_sub(before);
        for case in ["cold", "steady"] {
            if case == "steady" {
                // The history is input too: what it adds to the resident set (an upper bound,
                // as the forecast that builds it may leave freed memory behind).
                let Some((without, _)) = rss() else { return };
                p.history = steady_history(&planner, &p, now);
                let Some((with, _)) = rss() else { return };
                input += with.saturating_sub(without);
            }
            for form in ["plan", "schedule"] {
                let Some((base, _)) = rss() else { return };
                if !reset_peak() {
                    eprintln!("cannot reset the high-water mark (/proc/self/clear_refs)");
                    return;
                }
                let (records, held) = if form == "plan" {
                    let plan = planner
                        .plan(&p.clients, &p.items, &p.history, now, Horizon::NONE)
                        .expect("the benchmark portfolio is valid");
                    let records = plan.due().len() + plan.upcoming().len() + plan.suppressed().len();
                    let Some((held, _)) = rss() else { return };
                    drop(plan);
                    (records, held)
                } else {
                    let schedule = planner
                        .schedule(&p.clients, &p.items, &p.history, now, Horizon::NONE)
                        .expect("the benchmark portfolio is valid");
                    let records =
                        schedule.due().len() + schedule.upcoming().len() + schedule.suppressed().len();
                    let Some((held, _)) = rss() else { return };
                    drop(schedule);
                    (records, held)
                };
                let Some((_, peak)) = rss() else { return };
                let used = peak.saturating_sub(base);
                println!(
                    "{n:<10} {case:<7} {form:<9} {:>9.1} {:>14.1} {:>11.2} {:>14.1} {records:>8} {:>8}",
                    mib(input),
                    mib(used),
                    used as f64 / input as f64,
                    mib(held.saturating_sub(base)),
                    p.history.len()
                );
            }
        }
    }
}
