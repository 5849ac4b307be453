//! A [`Store`](dunning::Store) on SQLite, for hosts to copy: one database file, WAL mode, every claim and
//! record in an immediate transaction, so two processes on one file never send the same key.
//!
//! rusqlite with the bundled SQLite was chosen over sqlx: a fraction of the crates and of
//! the build time, no runtime tie-in, and SQLite's own locking gives the claim its
//! atomicity. Domain records are stored as JSON documents beside the columns that index them.

use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, Duration, Utc};
use dunning::store::{
    ActionLog, Claim, Delivery, DispatchStore, Finish, LogEntry, LogFilter, Reminder, ReminderStore,
    Snapshot, StoreError, async_trait,
};
use dunning::{Client, EventKey, HistoryEntry, Item};
use rusqlite::{Connection, ErrorCode, OptionalExtension, TransactionBehavior, params};

/// The schema version this adapter writes.
pub const SCHEMA_VERSION: i64 = 2;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS clients (id TEXT PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS items (id TEXT PRIMARY KEY, client TEXT NOT NULL, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS history (seq INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS deliveries (key TEXT PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS log (seq INTEGER PRIMARY KEY AUTOINCREMENT, client TEXT NOT NULL, item TEXT, key TEXT, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS log_item ON log (item);
CREATE INDEX IF NOT EXISTS log_client ON log (client);
CREATE TABLE IF NOT EXISTS reminders (id TEXT PRIMARY KEY, doc TEXT NOT NULL);
-- Version 2: one client's rows, read after each claim (Store::load_client).
CREATE INDEX IF NOT EXISTS items_client ON items (client);
CREATE INDEX IF NOT EXISTS history_client ON history (json_extract(doc, '$.client'));
";

/// A store in one SQLite database file.
pub struct SqliteStore {
    conn: Mutex<Connection>,
}

fn backend(context: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(format!("sqlite: {context}: {e}"))
}

fn insert_log(conn: &Connection, entry: &LogEntry) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO log (client, item, key, doc) VALUES (?1, ?2, ?3, ?4)",
        params![
            entry.client.as_str(),
            entry.item.as_ref().map(|i| i.as_str().to_owned()),
            entry.key,
            to_json(entry)?
        ],
    )
    .map_err(|e| backend("writing the log", e))?;
    Ok(())
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| backend("encoding a record", e))
}

fn from_json<T: serde::de::DeserializeOwned>(what: &str, s: &str) -> Result<T, StoreError> {
    serde_json::from_str(s).map_err(|e| backend(&format!("decoding a stored {what}"), e))
}

/// How long [`SqliteStore::open`] and, unless [`SqliteStore::with_busy_timeout`] says
/// otherwise, every call wait for another connection's lock.
pub const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Whether SQLite refused for a lock that another connection holds: worth trying again.
fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
    )
}

/// Runs `step` until it is not refused for a lock, or until the pauses between tries add up
/// to [`BUSY_TIMEOUT`] (counted, not read from a clock). SQLite does not call the busy
/// handler everywhere: two connections that both read a fresh file and then want to change
/// it (as the switch to WAL does) cannot both wait, so one of them is refused at once; once
/// the other is done, trying again succeeds.
fn retry_while_busy<T, E: BusyError>(mut step: impl FnMut() -> Result<T, E>) -> Result<T, E> {
    let mut pause = std::time::Duration::from_millis(1);
    let mut waited = std::time::Duration::ZERO;
    loop {
        match step() {
            Err(e) if e.is_busy() && waited < BUSY_TIMEOUT => {
                std::thread::sleep(pause);
                waited += pause;
                pause = (pause * 2).min(std::time::Duration::from_millis(50));
            }
            other => return other,
        }
    }
}

/// An error that may be a refusal for a lock.
trait BusyError {
    fn is_busy(&self) -> bool;
}

impl BusyError for rusqlite::Error {
    fn is_busy(&self) -> bool {
        is_busy(self)
    }
}

/// Puts the database in WAL mode, unless it already is (another opener did it).
fn switch_to_wal(conn: &Connection) -> rusqlite::Result<()> {
    let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        // Returns the mode now in force: "memory" for an in-memory database, which keeps it.
        let _: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    }
    Ok(())
}

/// Why the schema could not be brought to this adapter's version.
enum Migration {
    /// The file's schema is newer than this adapter's.
    Newer(i64),
    /// SQLite refused, while doing what.
    Sqlite(&'static str, rusqlite::Error),
}

impl BusyError for Migration {
    fn is_busy(&self) -> bool {
        matches!(self, Migration::Sqlite(_, e) if is_busy(e))
    }
}

/// Creates the schema if the file has none, in one immediate transaction: of openers racing
/// on a fresh file, one creates it and records the version, the others wait for its lock and
/// then find the version recorded. Every statement is idempotent besides.
fn migrate(conn: &mut Connection) -> Result<(), Migration> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|e| Migration::Sqlite("locking to check the schema", e))?;
    tx.execute_batch("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);")
        .map_err(|e| Migration::Sqlite("creating the version table", e))?;
    let version: Option<i64> = tx
        .query_row("SELECT MAX(version) FROM schema_version", [], |r| r.get(0))
        .map_err(|e| Migration::Sqlite("reading the schema version", e))?;
    match version {
        // Dropping the transaction rolls it back: nothing is changed.
        Some(v) if v > SCHEMA_VERSION => return Err(Migration::Newer(v)),
        Some(v) if v == SCHEMA_VERSION => {}
        _ => {
            tx.execute_batch(SCHEMA)
                .map_err(|e| Migration::Sqlite("creating the schema", e))?;
            tx.execute(
                "INSERT INTO schema_version (version) VALUES (?1)",
                [SCHEMA_VERSION],
            )
            .map_err(|e| Migration::Sqlite("recording the schema version", e))?;
        }
    }
    tx.commit()
        .map_err(|e| Migration::Sqlite("committing the schema", e))
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path`, in WAL mode, migrating its schema.
    ///
    /// Any number of processes may open one file at once, a fresh one included: each waits
    /// for the others' locks (up to the busy timeout, [`BUSY_TIMEOUT`]), the switch to WAL is
    /// tried again while another opener holds the file and is done once by whichever comes
    /// first, and the schema is created once, in a transaction that the others wait for
    /// and then find done.
    ///
    /// # Errors
    /// A file that is not a database, a database locked beyond the busy timeout, or a schema
    /// newer than this adapter: each a [`StoreError::Backend`] that says which.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref();
        let mut conn =
            Connection::open(path).map_err(|e| backend(&format!("opening {}", path.display()), e))?;
        // Before anything else on the connection: from here on, another opener's lock is
        // waited for instead of failing with "database is locked".
        conn.busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| backend("setting the busy timeout", e))?;
        retry_while_busy(|| switch_to_wal(&conn))
            .map_err(|e| backend(&format!("{} is not a usable database", path.display()), e))?;
        retry_while_busy(|| migrate(&mut conn)).map_err(|e| match e {
            Migration::Newer(v) => StoreError::Backend(format!(
                "sqlite: {} has schema version {v}, newer than this adapter's {SCHEMA_VERSION}: upgrade the adapter; nothing was changed",
                path.display()
            )),
            Migration::Sqlite(context, e) => backend(context, e),
        })?;
        Ok(Self {
            conn: Mutex::new(conn),
        })
    }

    /// How long a call waits for another process's lock before failing with "database is
    /// locked" ([`BUSY_TIMEOUT`] by default).
    pub fn with_busy_timeout(self, timeout: std::time::Duration) -> Result<Self, StoreError> {
        self.conn()
            .busy_timeout(timeout)
            .map_err(|e| backend("setting the busy timeout", e))?;
        Ok(self)
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether the database holds no client yet.
    pub fn is_empty(&self) -> Result<bool, StoreError> {
        let n: i64 = self
            .conn()
            .query_row("SELECT COUNT(*) FROM clients", [], |r| r.get(0))
            .map_err(|e| backend("counting clients", e))?;
        Ok(n == 0)
    }

    /// Inserts or replaces clients.
    pub fn put_clients(&self, clients: &[Client]) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn
            .transaction()
            .map_err(|e| backend("starting a transaction", e))?;
        for c in clients {
            tx.execute(
                "INSERT OR REPLACE INTO clients (id, doc) VALUES (?1, ?2)",
                params![c.id.as_str(), to_json(c)?],
            )
            .map_err(|e| backend("saving a client", e))?;
        }
        tx.commit().map_err(|e| backend("committing clients", e))
    }

    /// Inserts or replaces items.
    pub fn put_items(&self, items: &[Item]) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn
            .transaction()
            .map_err(|e| backend("starting a transaction", e))?;
        for i in items {
            tx.execute(
                "INSERT OR REPLACE INTO items (id, client, doc) VALUES (?1, ?2, ?3)",
                params![i.id.as_str(), i.client.as_str(), to_json(i)?],
            )
            .map_err(|e| backend("saving an item", e))?;
        }
        tx.commit().map_err(|e| backend("committing items", e))
    }

    fn docs<T: serde::de::DeserializeOwned>(&self, what: &str, sql: &str) -> Result<Vec<T>, StoreError> {
        self.docs_where(what, sql, [])
    }

    fn docs_where<T: serde::de::DeserializeOwned>(
        &self,
        what: &str,
        sql: &str,
        params: impl rusqlite::Params,
    ) -> Result<Vec<T>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(sql)
            .map_err(|e| backend(&format!("reading {what}"), e))?;
        let rows = stmt
            .query_map(params, |r| r.get::<_, String>(0))
            .map_err(|e| backend(&format!("reading {what}"), e))?;
        let mut out = Vec::new();
        for row in rows {
            out.push(from_json(
                what,
                &row.map_err(|e| backend(&format!("reading {what}"), e))?,
            )?);
        }
        Ok(out)
    }
}

/// Records one outcome, its history entry and its log line on `conn` (inside the caller's
/// transaction); a key never claimed is [`StoreError::NotFound`].
/// Where `key`'s delivery stands.
fn delivery_in(conn: &Connection, key: &EventKey) -> Result<Option<Delivery>, StoreError> {
    let doc: Option<String> = conn
        .query_row("SELECT doc FROM deliveries WHERE key = ?1", [key.as_str()], |r| {
            r.get(0)
        })
        .optional()
        .map_err(|e| backend("reading a delivery", e))?;
    doc.map(|d| from_json("delivery", &d)).transpose()
}

fn record(conn: &Connection, f: &Finish) -> Result<(), StoreError> {
    let key = f.key.as_str();
    let exists: Option<i64> = conn
        .prepare_cached("SELECT 1 FROM deliveries WHERE key = ?1")
        .and_then(|mut st| st.query_row([key], |r| r.get(0)).optional())
        .map_err(|e| backend("reading a claim", e))?;
    if exists.is_none() {
        return Err(StoreError::NotFound {
            kind: "claim",
            id: key.to_string(),
        });
    }
    if let Some(entry) = &f.sent {
        let doc = to_json(entry)?;
        conn.prepare_cached("INSERT INTO history (key, doc) VALUES (?1, ?2)")
            .and_then(|mut st| st.execute(params![entry.key.as_str(), doc]))
            .map_err(|e| backend("appending history", e))?;
    }
    let doc = to_json(&f.outcome)?;
    conn.prepare_cached("UPDATE deliveries SET doc = ?2 WHERE key = ?1")
        .and_then(|mut st| st.execute(params![key, doc]))
        .map_err(|e| backend("recording an outcome", e))?;
    if let Some(entry) = &f.log {
        insert_log(conn, entry)?;
    }
    Ok(())
}

#[async_trait]
impl DispatchStore for SqliteStore {
    async fn load(&self) -> Result<Snapshot, StoreError> {
        Ok(Snapshot {
            clients: self.docs("client", "SELECT doc FROM clients ORDER BY id")?,
            items: self.docs("item", "SELECT doc FROM items ORDER BY id")?,
            history: self.docs("history entry", "SELECT doc FROM history ORDER BY seq")?,
        })
    }

    async fn load_client(&self, client: &dunning::ClientId) -> Result<Snapshot, StoreError> {
        let id = client.as_str();
        Ok(Snapshot {
            clients: self.docs_where("client", "SELECT doc FROM clients WHERE id = ?1", [id])?,
            items: self.docs_where(
                "item",
                "SELECT doc FROM items WHERE client = ?1 ORDER BY id",
                [id],
            )?,
            history: self.docs_where(
                "history entry",
                "SELECT doc FROM history WHERE json_extract(doc, '$.client') = ?1 ORDER BY seq",
                [id],
            )?,
        })
    }

    /// One query a table for all the clients (their ids passed as one JSON array).
    async fn load_clients(&self, clients: &[dunning::ClientId]) -> Result<Snapshot, StoreError> {
        let ids: Vec<&str> = clients.iter().map(|c| c.as_str()).collect();
        let ids = to_json(&ids)?;
        let ids = ids.as_str();
        Ok(Snapshot {
            clients: self.docs_where(
                "client",
                "SELECT doc FROM clients WHERE id IN (SELECT value FROM json_each(?1)) ORDER BY id",
                [ids],
            )?,
            items: self.docs_where(
                "item",
                "SELECT doc FROM items WHERE client IN (SELECT value FROM json_each(?1)) ORDER BY id",
                [ids],
            )?,
            history: self.docs_where(
                "history entry",
                "SELECT doc FROM history WHERE json_extract(doc, '$.client') IN (SELECT value FROM json_each(?1)) ORDER BY seq",
                [ids],
            )?,
        })
    }

    async fn claim(
        &self,
        key: &EventKey,
        now: DateTime<Utc>,
        reclaim_after: Option<Duration>,
    ) -> Result<Claim, StoreError> {
        let mut answers = self
            .claim_batch(std::slice::from_ref(key), now, reclaim_after)
            .await?;
        answers
            .pop()
            .ok_or_else(|| StoreError::Backend("sqlite: a claim got no answer".into()))
    }

    /// The whole batch in one immediate transaction: all granted or refused together with
    /// one lock, and nothing claimed when it fails.
    async fn claim_batch(
        &self,
        keys: &[EventKey],
        now: DateTime<Utc>,
        reclaim_after: Option<Duration>,
    ) -> Result<Vec<Claim>, StoreError> {
        let mut conn = self.conn();
        // IMMEDIATE takes the write lock first: of two processes claiming, one waits.
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| backend("locking for a claim", e))?;
        let mut answers = Vec::with_capacity(keys.len());
        for key in keys {
            let current: Option<String> = tx
                .query_row("SELECT doc FROM deliveries WHERE key = ?1", [key.as_str()], |r| {
                    r.get(0)
                })
                .optional()
                .map_err(|e| backend("reading a claim", e))?;
            let current: Option<Delivery> = current.map(|d| from_json("delivery", &d)).transpose()?;
            let attempt = match current {
                None => 1,
                Some(Delivery::Retrying {
                    attempt, not_before, ..
                }) if now >= not_before => attempt + 1,
                Some(Delivery::Claimed { at, attempt })
                    if reclaim_after.is_some_and(|lease| now - at >= lease) =>
                {
                    attempt + 1
                }
                Some(Delivery::Skipped { .. }) => 1,
                Some(other) => {
                    answers.push(Claim::Refused(other));
                    continue;
                }
            };
            tx.execute(
                "INSERT OR REPLACE INTO deliveries (key, doc) VALUES (?1, ?2)",
                params![key.as_str(), to_json(&Delivery::Claimed { at: now, attempt })?],
            )
            .map_err(|e| backend("writing a claim", e))?;
            answers.push(Claim::Granted { attempt });
        }
        tx.commit().map_err(|e| backend("committing a claim", e))?;
        Ok(answers)
    }

    async fn finish(
        &self,
        key: &EventKey,
        outcome: Delivery,
        sent: Option<HistoryEntry>,
        log: Option<LogEntry>,
    ) -> Result<(), StoreError> {
        let one = Finish::new(key.clone(), outcome).with_entries(sent, log);
        self.finish_batch(vec![one])
            .await
            .pop()
            .unwrap_or_else(|| Err(StoreError::Backend("sqlite: an outcome got no answer".into())))
    }

    /// The whole batch in one immediate transaction (one disk sync), each outcome in a
    /// savepoint of its own: one that fails leaves nothing behind and the others are
    /// recorded.
    async fn finish_batch(&self, batch: Vec<Finish>) -> Vec<Result<(), StoreError>> {
        let mut conn = self.conn();
        let mut tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
            Ok(tx) => tx,
            Err(e) => {
                let e = backend("locking to record", e);
                return vec![Err(e); batch.len()];
            }
        };
        let mut answers = Vec::with_capacity(batch.len());
        for f in &batch {
            // An error that made SQLite roll back the whole transaction (a full disk, an I/O
            // error) leaves no transaction: nothing is recorded, and the rest is not tried
            // (it would be committed one by one, outside the transaction).
            if tx.is_autocommit() {
                let e = StoreError::Backend("sqlite: the transaction was rolled back".into());
                return vec![Err(e); batch.len()];
            }
            let answer = match tx.savepoint() {
                Ok(mut sp) => match record(&sp, f) {
                    Ok(()) => sp.commit().map_err(|e| backend("recording an outcome", e)),
                    Err(e) => {
                        let _ = sp.rollback();
                        Err(e)
                    }
                },
                Err(e) => Err(backend("recording an outcome", e)),
            };
            answers.push(answer);
        }
        if tx.is_autocommit() {
            let e = StoreError::Backend("sqlite: the transaction was rolled back".into());
            return vec![Err(e); batch.len()];
        }
        match tx.commit() {
            Ok(()) => answers,
            Err(e) => {
                let e = backend("committing outcomes", e);
                vec![Err(e); batch.len()]
            }
        }
    }

    async fn deliveries(&self, keys: &[EventKey]) -> Result<Vec<Option<Delivery>>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached("SELECT doc FROM deliveries WHERE key = ?1")
            .map_err(|e| backend("reading deliveries", e))?;
        keys.iter()
            .map(|key| {
                let doc: Option<String> = stmt
                    .query_row([key.as_str()], |r| r.get(0))
                    .optional()
                    .map_err(|e| backend("reading a delivery", e))?;
                doc.map(|d| from_json("delivery", &d)).transpose()
            })
            .collect()
    }

    async fn delivery(&self, key: &EventKey) -> Result<Option<Delivery>, StoreError> {
        delivery_in(&self.conn(), key)
    }

    /// Checked and recorded in one immediate transaction.
    async fn finish_claimed(
        &self,
        key: &EventKey,
        (claimed_at, attempt): (DateTime<Utc>, u32),
        outcome: Delivery,
        sent: Option<HistoryEntry>,
        log: Option<LogEntry>,
    ) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| backend("locking to record", e))?;
        if !delivery_in(&tx, key)?.is_some_and(|held| held.is_claim(claimed_at, attempt)) {
            return Err(StoreError::NoLongerClaimed { key: key.to_string() });
        }
        let one = Finish::new(key.clone(), outcome).with_entries(sent, log);
        record(&tx, &one)?;
        tx.commit().map_err(|e| backend("recording an outcome", e))
    }

    async fn abandoned_claims(&self, before: DateTime<Utc>) -> Result<Vec<(EventKey, Delivery)>, StoreError> {
        // Claims are few (a tick's worth, while it runs): read them all, keep the old ones.
        let rows: Vec<(String, String)> = {
            let conn = self.conn();
            let mut stmt = conn
                .prepare("SELECT key, doc FROM deliveries WHERE json_extract(doc, '$.state') = 'claimed' ORDER BY key")
                .map_err(|e| backend("reading claims", e))?;
            let rows = stmt
                .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
                .map_err(|e| backend("reading claims", e))?;
            rows.collect::<Result<_, _>>()
                .map_err(|e| backend("reading claims", e))?
        };
        let mut found = Vec::new();
        for (key, doc) in rows {
            let state: Delivery = from_json("delivery", &doc)?;
            if matches!(state, Delivery::Claimed { at, .. } if at < before) {
                found.push((EventKey::from(key), state));
            }
        }
        Ok(found)
    }

    async fn append_history(&self, entry: HistoryEntry) -> Result<(), StoreError> {
        self.conn()
            .execute(
                "INSERT INTO history (key, doc) VALUES (?1, ?2)",
                params![entry.key.as_str(), to_json(&entry)?],
            )
            .map_err(|e| backend("appending history", e))?;
        Ok(())
    }
}

#[async_trait]
impl ActionLog for SqliteStore {
    async fn log(&self, entry: LogEntry) -> Result<(), StoreError> {
        insert_log(&self.conn(), &entry)
    }

    async fn read_log(&self, filter: &LogFilter) -> Result<Vec<LogEntry>, StoreError> {
        let all: Vec<LogEntry> = self.docs("log entry", "SELECT doc FROM log ORDER BY seq")?;
        Ok(all.into_iter().filter(|e| filter.matches(e)).collect())
    }
}

#[async_trait]
impl ReminderStore for SqliteStore {
    async fn save_reminder(&self, reminder: &Reminder) -> Result<(), StoreError> {
        self.conn()
            .execute(
                "INSERT OR REPLACE INTO reminders (id, doc) VALUES (?1, ?2)",
                params![reminder.id, to_json(reminder)?],
            )
            .map_err(|e| backend("saving a reminder", e))?;
        Ok(())
    }

    async fn reminders(&self) -> Result<Vec<Reminder>, StoreError> {
        self.docs("reminder", "SELECT doc FROM reminders ORDER BY id")
    }

    async fn delete_reminder(&self, id: &str) -> Result<bool, StoreError> {
        let n = self
            .conn()
            .execute("DELETE FROM reminders WHERE id = ?1", [id])
            .map_err(|e| backend("deleting a reminder", e))?;
        Ok(n > 0)
    }
}
