//! Many openers of one fresh SQLite file at the same instant: as threads with a connection
//! each, and as separate processes (this test binary started again with an environment
//! variable that makes it an opener). Every open must succeed and leave a working store.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Barrier};

use chrono::{TimeZone as _, Utc};
use dunning::EventKey;
use dunning::store::{Claim, DispatchStore};
use dunning_adapters::sqlite_store::SqliteStore;
use support::TempDir;

/// Openers of each file.
const OPENERS: usize = 8;
/// Fresh files, one after the other.
const ROUNDS: usize = 30;
/// Set in the processes this test starts: `directory;opener`.
const CHILD: &str = "DUNNING_SQLITE_CONCURRENT_OPENER";

fn db(dir: &Path, round: usize) -> PathBuf {
    dir.join(format!("db{round}.sqlite"))
}

/// Opens the file, claims a key of this opener's own and loads: what a dispatcher starting
/// up does first.
fn open_and_use(path: &Path, opener: usize) -> Result<(), String> {
    let store = SqliteStore::open(path).map_err(|e| format!("open: {e}"))?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async {
        let key = EventKey::from(format!("opener/{opener}"));
        let now = Utc.with_ymd_and_hms(2026, 4, 1, 13, 0, 0).unwrap();
        match store.claim(&key, now, None).await {
            Ok(Claim::Granted { attempt: 1 }) => {}
            other => return Err(format!("claim: {other:?}")),
        }
        let snapshot = store.load().await.map_err(|e| format!("load: {e}"))?;
        if !snapshot.clients.is_empty() {
            return Err(format!(
                "load: {} clients in a fresh file",
                snapshot.clients.len()
            ));
        }
        Ok(())
    })
}

/// The journal mode and schema versions a file was left with.
fn check_file(path: &Path) {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal", "{}", path.display());
    let versions: i64 = conn
        .query_row("SELECT COUNT(*) FROM schema_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(versions, 1, "{}: the version is recorded once", path.display());
    let claims: i64 = conn
        .query_row("SELECT COUNT(*) FROM deliveries", [], |r| r.get(0))
        .unwrap();
    assert_eq!(claims, OPENERS as i64, "{}", path.display());
}

#[test]
fn threads_with_a_connection_each_open_a_fresh_file_at_once() {
    let dir = TempDir::new("open-threads");
    let mut failures = Vec::new();
    for round in 0..ROUNDS {
        let path = db(&dir.0, round);
        let barrier = Arc::new(Barrier::new(OPENERS));
        let threads: Vec<_> = (0..OPENERS)
            .map(|opener| {
                let (path, barrier) = (path.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    open_and_use(&path, opener)
                })
            })
            .collect();
        for (opener, t) in threads.into_iter().enumerate() {
            if let Err(e) = t.join().unwrap() {
                failures.push(format!("round {round}, opener {opener}: {e}"));
            }
        }
        if failures.is_empty() {
            check_file(&path);
        }
    }
    assert!(
        failures.is_empty(),
        "{} failed opens:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// In an opener process: waits until every opener of the round is ready (a file each in the
/// round's folder), then opens and uses that round's file. Reports failures on stderr and
/// in its exit status.
fn child(spec: &str) -> ! {
    let (dir, opener) = spec.split_once(';').unwrap();
    let (dir, opener): (&Path, usize) = (Path::new(dir), opener.parse().unwrap());
    let mut failed = false;
    for round in 0..ROUNDS {
        let ready = dir.join(format!("ready{round}"));
        std::fs::create_dir_all(&ready).unwrap();
        std::fs::write(ready.join(opener.to_string()), b"").unwrap();
        // Polled without a pause, for the openers to start as close together as they can;
        // a bounded number of polls (counted, not timed), for a test that cannot hang.
        let mut polls = 0u64;
        while std::fs::read_dir(&ready).unwrap().count() < OPENERS {
            polls += 1;
            assert!(polls < 10_000_000, "round {round}: the other openers never came");
            std::thread::yield_now();
        }
        if let Err(e) = open_and_use(&db(dir, round), opener) {
            eprintln!("round {round}, opener {opener}: {e}");
            failed = true;
        }
    }
    std::process::exit(i32::from(failed));
}

#[test]
fn processes_open_a_fresh_file_at_once() {
    if let Ok(spec) = std::env::var(CHILD) {
        child(&spec);
    }
    let dir = TempDir::new("open-processes");
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..OPENERS)
        .map(|opener| {
            Command::new(&exe)
                .args([
                    "--exact",
                    "processes_open_a_fresh_file_at_once",
                    "--test-threads=1",
                    "--nocapture",
                ])
                .env(CHILD, format!("{};{opener}", dir.0.display()))
                .output_async()
        })
        .collect();
    let mut failures = Vec::new();
    for (opener, c) in children.into_iter().enumerate() {
        let out = c.wait_with_output().unwrap();
        if !out.status.success() {
            failures.push(format!(
                "opener {opener} ({}):\n{}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    for round in 0..ROUNDS {
        check_file(&db(&dir.0, round));
    }
}

/// Starting a process with its output captured, without waiting for it.
trait OutputAsync {
    fn output_async(&mut self) -> std::process::Child;
}

impl OutputAsync for Command {
    fn output_async(&mut self) -> std::process::Child {
        self.stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    }
}
