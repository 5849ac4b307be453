//! A dispatcher worker: one process ticking one shard of the clients through one day, on a
//! store shared with other workers (PostgreSQL, or a SQLite file), with a mailer that writes
//! each message it sends as one line of an outbox file and fails a share of sends
//! transiently. The fault tests run several of these at once, kill them and start them again.
//!
//! ```text
//! cargo run --example worker -- --db postgres://user@host/db --shard 1/4 --day 2026-04-01 \
//!     --outbox /tmp/outbox-1.txt [--fail-permille 200] [--seed 7] [--at-least-once] \
//!     [--hours 0,2,5] [--linger-ms 300]
//! ```
//!
//! The day is ticked at 07:00, 09:00, 12:00, 15:00, 18:00 and 21:00 UTC (hours 0, 2, 5, 8,
//! 11 and 14 after 07:00; `--hours` ticks some of them), each tick on the worker's own clock
//! (set to the tick's instant). A line of the outbox is `key<TAB>instant`, written and
//! flushed to disk before the send is reported: a line is a message that went. With
//! `--linger-ms`, the first message that goes waits that long before its send is reported,
//! so a fault test can kill the worker between a send and its record. Under
//! `--at-least-once` the lease is three hours: longer than the two hours between the first
//! ticks, so a claim a kill left is taken again at a later tick, never the next one.

use std::io::Write as _;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use dunning::mailer::{MailError, Receipt};
use dunning::message::Message;
use dunning::*;
use dunning_adapters::pg_store::PgStore;
use dunning_adapters::sqlite_store::SqliteStore;

/// The policy every worker (and the single-worker run it is compared with) plans by.
pub const POLICY: &str = r#"
time_zone = "Europe/Madrid"
send_time = "09:00"
payment_term_days = 20

[[rules]]
id = "issued"
anchor = "issued"
offset_days = 0

[[rules]]
id = "soon"
anchor = "due"
offset_days = -3

[[rules]]
id = "overdue"
anchor = "due"
offset_days = 2
every_days = 4
count = 5
"#;

struct Args {
    db: String,
    shard: Shard,
    day: NaiveDate,
    outbox: std::path::PathBuf,
    fail_permille: u64,
    seed: u64,
    at_least_once: bool,
    hours: Vec<i64>,
    linger_ms: u64,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        db: String::new(),
        shard: Shard::ALL,
        day: NaiveDate::MIN,
        outbox: std::path::PathBuf::new(),
        fail_permille: 0,
        seed: 0,
        at_least_once: false,
        hours: vec![0, 2, 5, 8, 11, 14],
        linger_ms: 0,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--at-least-once" {
            args.at_least_once = true;
            continue;
        }
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--db" => args.db = value,
            "--shard" => args.shard = value.parse().map_err(|e| format!("--shard: {e}"))?,
            "--day" => args.day = value.parse().map_err(|e| format!("--day {value:?}: {e}"))?,
            "--outbox" => args.outbox = value.into(),
            "--fail-permille" => {
                args.fail_permille = value
                    .parse()
                    .map_err(|e| format!("--fail-permille {value:?}: {e}"))?;
            }
            "--seed" => args.seed = value.parse().map_err(|e| format!("--seed {value:?}: {e}"))?,
            "--hours" => {
                args.hours = value
                    .split(',')
                    .map(str::parse)
                    .collect::<Result<_, _>>()
                    .map_err(|e| format!("--hours {value:?}: {e}"))?;
            }
            "--linger-ms" => {
                args.linger_ms = value.parse().map_err(|e| format!("--linger-ms {value:?}: {e}"))?;
            }
            other => return Err(format!("unknown option {other}")),
        }
    }
    if args.db.is_empty() || args.day == NaiveDate::MIN || args.outbox.as_os_str().is_empty() {
        return Err("--db, --day and --outbox are required".into());
    }
    Ok(args)
}

/// Appends each message it sends to a file, flushed to disk first; fails a share of sends
/// transiently, decided by a hash of the seed, the key and the instant (the same in every run).
struct FlakyOutbox {
    file: Mutex<std::fs::File>,
    clock: ManualClock,
    fail_permille: u64,
    seed: u64,
    /// How long the first message that goes waits before its send is reported (taken once).
    linger: Mutex<Option<std::time::Duration>>,
}

impl FlakyOutbox {
    fn fails(&self, key: &str, now: DateTime<Utc>) -> bool {
        // FNV-1a over the seed, the key and the instant.
        let text = format!("{}|{key}|{}", self.seed, now.timestamp());
        let h = text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        h % 1000 < self.fail_permille
    }
}

#[dunning::store::async_trait]
impl Mailer for FlakyOutbox {
    async fn send(&self, message: &Message) -> Result<Receipt, MailError> {
        let now = self.clock.now();
        if self.fails(message.key.as_str(), now) {
            return Err(MailError::Transient("421 try again later (injected)".into()));
        }
        {
            let mut file = self
                .file
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            // One write of the whole line: a kill never leaves half of one.
            let line = format!("{}\t{}\n", message.key, now.to_rfc3339());
            file.write_all(line.as_bytes())
                .and_then(|()| file.sync_data())
                .map_err(|e| MailError::Permanent(format!("writing the outbox: {e}")))?;
        }
        // A little time between the message going and its send being recorded, as a real
        // transport takes: a kill may land there (and does, when told to linger).
        let linger = self
            .linger
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        tokio::time::sleep(linger.unwrap_or(std::time::Duration::from_millis(3))).await;
        Ok(Receipt {
            message_id: format!("<{}@worker>", message.key),
        })
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("worker: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args = parse_args()?;
    let policy: Policy = toml::from_str(POLICY)?;
    let store: Arc<dyn Store> = if args.db.starts_with("postgres://") || args.db.starts_with("postgresql://")
    {
        Arc::new(PgStore::connect(&args.db).await?)
    } else {
        Arc::new(SqliteStore::open(&args.db)?)
    };
    let first = args
        .day
        .and_hms_opt(7, 0, 0)
        .ok_or("no 07:00 on that day")?
        .and_utc();
    let clock = ManualClock::new(first);
    let mailer = Arc::new(FlakyOutbox {
        file: Mutex::new(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&args.outbox)?,
        ),
        clock: clock.clone(),
        fail_permille: args.fail_permille,
        seed: args.seed,
        linger: Mutex::new((args.linger_ms > 0).then(|| std::time::Duration::from_millis(args.linger_ms))),
    });
    let mut options = DispatchOptions::default()
        .with_shard(args.shard)
        .with_retries(30, std::time::Duration::from_secs(60))
        // Workers on several hosts: how far their clocks may disagree (NTP keeps them closer).
        .with_max_clock_skew(std::time::Duration::from_secs(2));
    if args.at_least_once {
        options = options.with_guarantee(Guarantee::AtLeastOnce { lease_secs: 3 * 3600 });
    }
    let dispatcher = Dispatcher::new(store, mailer, &policy)?
        .with_clock(Arc::new(clock.clone()))
        .with_options(options)?;
    for &hour in &args.hours {
        let now = first + Duration::hours(hour);
        clock.set(now);
        let report = dispatcher.tick(now).await?;
        for s in report.interrupted() {
            eprintln!("worker {}: {} interrupted at {now}", args.shard, s.key);
        }
    }
    Ok(())
}
