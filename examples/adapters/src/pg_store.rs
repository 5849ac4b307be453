//! A store on PostgreSQL, for hosts to copy: many dispatcher workers (processes, machines)
//! share one database, each loading its shard of clients.
//!
//! - tokio-postgres behind a deadpool pool; no TLS here (a host adds its own connector).
//! - Typed columns for what the store queries (ids, shard buckets, delivery states and
//!   instants) and for clients, items and history (the bulk of a shard's load, decoded
//!   without a JSON document each; see `rows`), their rare lists as `json`; JSONB documents
//!   for log lines and reminders, handed back whole.
//! - Clients, items and history are partitioned by `bucket % 16` (schema version 3): a
//!   shard k of n with n dividing 16 reads only its n-th of the partitions. A shard's load
//!   reads its clients, history and items (in two halves) at once, each on a connection and
//!   a task of its own when the pool has them, all in one snapshot (exported by the first
//!   connection's transaction, imported by the others'), as binary `COPY` output decoded
//!   row by row as it arrives (see
//!   `columns`): no row object, no column type checked row by row, and each item's columns
//!   sent in one value, `record`, which the store writes with them (schema version 4). It
//!   makes room for as many rows as the shard's last load read.
//! - Versioned migrations (`migrations/postgres/V*.sql`, embedded at build time) applied by
//!   refinery at [`PgStore::connect`], under an advisory lock so that workers starting
//!   together migrate once.
//! - A batch of claims is one `INSERT ... ON CONFLICT DO UPDATE ... WHERE` statement: the row
//!   lock PostgreSQL takes per key makes each claim atomic across workers; it and the read of
//!   where the refused keys stand are one transaction, sent in one round trip. A batch of
//!   outcomes, each with its history entry and log line, is one statement (so one
//!   transaction), and one outcome is a batch of one.
//! - Statements are prepared once a connection and cached.
//! - Server errors become [`StoreError::Database`] with the SQLSTATE code; a refused or lost
//!   connection [`StoreError::Unavailable`]. Reads are tried once more on a fresh connection;
//!   writes are not (one that failed so may have been committed: the dispatcher then finds
//!   its claim abandoned, as after a crash).

use chrono::{DateTime, Duration, Utc};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use dunning::store::{
    ActionLog, Claim, Delivery, DispatchStore, Finish, LogEntry, LogFilter, Reminder, ReminderStore,
    Snapshot, StoreError, async_trait,
};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use dunning::{Client, ClientId, EventKey, HistoryEntry, Item, Shard};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio_postgres::types::{Json, ToSql};
use tokio_postgres::{NoTls, Row};

/// `$attempt`'s answer (an expression awaiting one try), tried once more when its
/// connection was lost (the pool replaces a broken connection).
macro_rules! once_more_if_lost {
    ($attempt:expr) => {
        match $attempt {
            Err(StoreError::Unavailable { .. }) => $attempt,
            other => other,
        }
    };
}

mod columns;
mod rows;

use columns::{Columns as _, CopyReader, RowColumns, Tuple};

mod embedded {
    refinery::embed_migrations!("migrations/postgres");
}

/// The advisory lock key held while migrating ("dunning" in ASCII).
const MIGRATION_LOCK: i64 = 0x0064_756e_6e69_6e67;

/// Rows written per statement when loading clients and items.
const CHUNK: usize = 5_000;

/// A store in one PostgreSQL database. A clone shares its pool.
#[derive(Clone)]
pub struct PgStore {
    pool: Pool,
    /// How many rows of each kind the last load of a shard read: the next load of it makes
    /// room for that many at once (a shard's hundreds of thousands of items, grown by
    /// doubling, were copied and their pages faulted in again and again).
    sizes: Arc<Mutex<HashMap<Shard, ShardSizes>>>,
}

/// The rows a shard's load read: its items in two halves, its clients, its history.
#[derive(Clone, Copy, Default)]
struct ShardSizes {
    items: [usize; 2],
    clients: usize,
    history: usize,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("pool", &self.pool.status())
            .finish()
    }
}

/// A tokio-postgres error as a store error: the server's with its SQLSTATE, else a refused or
/// lost connection.
fn pg(context: &str, e: &tokio_postgres::Error) -> StoreError {
    match e.as_db_error() {
        // The server going away or not taking connections: admin shutdown, crash shutdown,
        // starting up, too many connections, and the connection exception class.
        Some(db)
            if matches!(db.code().code(), "57P01" | "57P02" | "57P03" | "53300")
                || db.code().code().starts_with("08") =>
        {
            StoreError::Unavailable {
                context: context.to_owned(),
                message: format!("{} ({})", db.message(), db.code().code()),
            }
        }
        Some(db) => StoreError::Database {
            context: context.to_owned(),
            code: db.code().code().to_owned(),
            message: db.message().to_owned(),
        },
        None if e.is_closed() || e.code().is_none() && is_connection(e) => StoreError::Unavailable {
            context: context.to_owned(),
            message: e.to_string(),
        },
        None => StoreError::Backend(format!("postgres: {context}: {e}")),
    }
}

/// Whether an error without a server answer is about the connection (an I/O error, a
/// closed socket) rather than a value that could not be sent.
fn is_connection(e: &tokio_postgres::Error) -> bool {
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if s.is::<std::io::Error>() {
            return true;
        }
        source = s.source();
    }
    e.to_string().contains("connection")
}

fn pool_error(context: &str, e: deadpool_postgres::PoolError) -> StoreError {
    match e {
        deadpool_postgres::PoolError::Backend(e) => match pg(context, &e) {
            StoreError::Backend(message) => StoreError::Unavailable {
                context: context.to_owned(),
                message,
            },
            other => other,
        },
        other => StoreError::Unavailable {
            context: context.to_owned(),
            message: other.to_string(),
        },
    }
}

/// The answer of a read run as a task of its own.
fn joined<T>(task: Result<Result<T, StoreError>, tokio::task::JoinError>) -> Result<T, StoreError> {
    task.map_err(|e| StoreError::Backend(format!("postgres: a read's task failed: {e}")))?
}

fn to_doc<T: Serialize>(v: &T) -> Result<serde_json::Value, StoreError> {
    serde_json::to_value(v).map_err(|e| StoreError::Backend(format!("postgres: encoding a record: {e}")))
}

fn from_doc<T: DeserializeOwned>(what: &str, row: &Row) -> Result<T, StoreError> {
    let Json(v): Json<T> = row
        .try_get(0)
        .map_err(|e| StoreError::Backend(format!("postgres: decoding a stored {what}: {e}")))?;
    Ok(v)
}

/// A delivery state as the `deliveries` row's columns: state, attempt (none: keep the
/// stored one), at, not_before, error, message_id, reason.
type Columns = (
    &'static str,
    Option<i32>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
    Option<String>,
    Option<String>,
    Option<String>,
);

fn attempt_column(attempt: u32) -> Result<i32, StoreError> {
    i32::try_from(attempt).map_err(|_| {
        StoreError::Backend(format!(
            "postgres: attempt {attempt} does not fit the attempt column"
        ))
    })
}

/// The earliest instant PostgreSQL keeps: a retry allowed before it (a release) is stored as
/// NULL, at once.
fn storable_not_before(at: DateTime<Utc>) -> Option<DateTime<Utc>> {
    (at.timestamp() > -210_866_803_200).then_some(at)
}

fn columns(d: &Delivery) -> Result<Columns, StoreError> {
    Ok(match d {
        Delivery::Claimed { at, attempt } => (
            "claimed",
            Some(attempt_column(*attempt)?),
            Some(*at),
            None,
            None,
            None,
            None,
        ),
        Delivery::Retrying {
            attempt,
            not_before,
            error,
        } => (
            "retrying",
            Some(attempt_column(*attempt)?),
            None,
            storable_not_before(*not_before),
            Some(error.clone()),
            None,
            None,
        ),
        Delivery::Sent { at, message_id } => (
            "sent",
            None,
            Some(*at),
            None,
            None,
            Some(message_id.clone()),
            None,
        ),
        Delivery::Failed { at, attempt, error } => (
            "failed",
            Some(attempt_column(*attempt)?),
            Some(*at),
            None,
            Some(error.clone()),
            None,
            None,
        ),
        Delivery::Unknown { at, attempt, error } => (
            "unknown",
            Some(attempt_column(*attempt)?),
            Some(*at),
            None,
            Some(error.clone()),
            None,
            None,
        ),
        Delivery::Skipped { at, reason } => {
            ("skipped", None, Some(*at), None, None, None, Some(reason.clone()))
        }
        other => {
            return Err(StoreError::Backend(format!(
                "postgres: delivery state {} has no columns in this adapter",
                other.kind()
            )));
        }
    })
}

/// A `deliveries` row (`key, state, attempt, at, not_before, error, message_id, reason`) as
/// the delivery state it records.
fn delivery(row: &Row) -> Result<Delivery, StoreError> {
    let bad = |e: tokio_postgres::Error| StoreError::Backend(format!("postgres: reading a delivery: {e}"));
    let state: String = row.try_get(1).map_err(bad)?;
    let attempt: i32 = row.try_get(2).map_err(bad)?;
    let attempt = u32::try_from(attempt)
        .map_err(|_| StoreError::Backend(format!("postgres: a stored attempt is negative: {attempt}")))?;
    let at: Option<DateTime<Utc>> = row.try_get(3).map_err(bad)?;
    let not_before: Option<DateTime<Utc>> = row.try_get(4).map_err(bad)?;
    let error: Option<String> = row.try_get(5).map_err(bad)?;
    let message_id: Option<String> = row.try_get(6).map_err(bad)?;
    let reason: Option<String> = row.try_get(7).map_err(bad)?;
    let missing = |column: &str| StoreError::Backend(format!("postgres: a {state} delivery has no {column}"));
    Ok(match state.as_str() {
        "claimed" => Delivery::Claimed {
            at: at.ok_or_else(|| missing("at"))?,
            attempt,
        },
        "retrying" => Delivery::Retrying {
            attempt,
            not_before: not_before.unwrap_or(DateTime::<Utc>::MIN_UTC),
            error: error.unwrap_or_default(),
        },
        "sent" => Delivery::Sent {
            at: at.ok_or_else(|| missing("at"))?,
            message_id: message_id.unwrap_or_default(),
        },
        "failed" => Delivery::Failed {
            at: at.ok_or_else(|| missing("at"))?,
            attempt,
            error: error.unwrap_or_default(),
        },
        "unknown" => Delivery::Unknown {
            at: at.ok_or_else(|| missing("at"))?,
            attempt,
            error: error.unwrap_or_default(),
        },
        "skipped" => Delivery::Skipped {
            at: at.ok_or_else(|| missing("at"))?,
            reason: reason.unwrap_or_default(),
        },
        other => {
            return Err(StoreError::Backend(format!(
                "postgres: unknown delivery state {other:?}"
            )));
        }
    })
}

/// The rows of `query` through a binary `COPY (query) TO STDOUT` on `conn`, each decoded by
/// `decode` as it arrives (no row object made for each, nor its columns' types checked one
/// by one: a shard's load reads hundreds of thousands). A COPY takes no parameters: `query`
/// holds its values, which must be numbers only. Room is made for `capacity` rows at once;
/// with `record`, each row's last column is a record of that many columns.
async fn copy_on<T>(
    conn: &deadpool_postgres::Object,
    what: &'static str,
    query: &str,
    capacity: usize,
    record: Option<usize>,
    mut decode: impl FnMut(&Tuple<'_>) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    use futures_util::TryStreamExt as _;
    let context = format!("reading {what}s");
    let context = context.as_str();
    let sql = format!("COPY ({query}) TO STDOUT (FORMAT binary)");
    let statement = conn.prepare_cached(&sql).await.map_err(|e| pg(context, &e))?;
    let chunks = conn.copy_out(&statement).await.map_err(|e| pg(context, &e))?;
    futures_util::pin_mut!(chunks);
    let mut reader = CopyReader::new(what);
    if let Some(fields) = record {
        reader = reader.with_record(fields);
    }
    let mut found = Vec::with_capacity(capacity);
    while let Some(chunk) = chunks.try_next().await.map_err(|e| pg(context, &e))? {
        reader.feed(&chunk, |tuple| {
            found.push(decode(tuple)?);
            Ok(())
        })?;
    }
    reader.finish()?;
    Ok(found)
}

/// One of a shard's reads: its items in two halves (bucket % 2n is k, or k + n), its
/// clients, its history.
#[derive(Clone, Copy)]
enum ShardRead {
    Items { half: i64 },
    Clients,
    History,
}

/// What one of a shard's reads read (the history with each entry's sequence number).
enum ShardRows {
    Items { half: i64, items: Vec<Item> },
    Clients(Vec<Client>),
    History(Vec<(i64, HistoryEntry)>),
}

impl ShardRead {
    const ALL: [ShardRead; 4] = [
        ShardRead::Items { half: 0 },
        ShardRead::Items { half: 1 },
        ShardRead::Clients,
        ShardRead::History,
    ];

    /// This read of shard k of n, on `conn`: only the partitions that can hold its rows,
    /// unordered (the planner's answer does not depend on the order of its inputs; the
    /// history, whose order is the order things happened, is put in order of its sequence
    /// afterwards: a sort on the server took longer than reading the rows).
    async fn run(
        self,
        conn: &deadpool_postgres::Object,
        (k, n): (i64, i64),
        sizes: ShardSizes,
    ) -> Result<ShardRows, StoreError> {
        Ok(match self {
            ShardRead::Items { half } => {
                // Each item's columns come in one value (`record`), put in their place. The
                // first half's vector has room for both.
                let query = format!(
                    "SELECT doc, record FROM items {}",
                    shard_filter(k + half * n, 2 * n)
                );
                let capacity = if half == 0 {
                    sizes.items[0] + sizes.items[1]
                } else {
                    sizes.items[1]
                };
                let record = Some(rows::ITEM_RECORD_FIELDS);
                let mut reader = rows::ItemReader::default();
                let items = copy_on(conn, "item", &query, capacity, record, |t| {
                    rows::item(t, &mut reader)
                })
                .await?;
                ShardRows::Items { half, items }
            }
            ShardRead::Clients => {
                let query = format!(
                    "SELECT {} FROM clients {}",
                    rows::CLIENT_COLUMNS,
                    shard_filter(k, n)
                );
                ShardRows::Clients(
                    copy_on(conn, "client", &query, sizes.clients, None, |t| rows::client(t)).await?,
                )
            }
            ShardRead::History => {
                let query = format!(
                    "SELECT {}, seq FROM history {}",
                    rows::HISTORY_COLUMNS,
                    shard_filter(k, n)
                );
                ShardRows::History(
                    copy_on(conn, "history entry", &query, sizes.history, None, |t| {
                        let seq = t.some(rows::HISTORY_SEQ, t.int8(rows::HISTORY_SEQ)?)?;
                        Ok((seq, rows::history(t)?))
                    })
                    .await?,
                )
            }
        })
    }
}

/// Closes `conn` instead of giving it back to the pool when `result` says it was lost: the
/// pool may not know it yet, and would hand it to the next try.
fn discard_if_lost<T>(conn: deadpool_postgres::Object, result: &Result<T, StoreError>) {
    if matches!(result, Err(StoreError::Unavailable { .. })) {
        drop(deadpool_postgres::Object::take(conn));
    }
}

/// A pooled connection inside a transaction. Dropped before the transaction ended (its
/// future cancelled, or COMMIT or ROLLBACK failed), the connection is closed instead of going
/// back to the pool, and the server rolls the transaction back.
struct InTransaction(Option<deadpool_postgres::Object>);

impl InTransaction {
    fn conn(&self) -> Result<&deadpool_postgres::Object, StoreError> {
        self.0
            .as_ref()
            .ok_or_else(|| StoreError::Backend("postgres: a transaction's connection is gone".into()))
    }

    /// The transaction ended: the connection goes back to the pool.
    fn ended(mut self) {
        self.0 = None;
    }
}

impl Drop for InTransaction {
    fn drop(&mut self) {
        if let Some(conn) = self.0.take() {
            drop(deadpool_postgres::Object::take(conn));
        }
    }
}

/// The answers of a claim batch: the keys granted (`granted`: key, attempt), and where the
/// others stand (`stored`: every key's `deliveries` row after the claims).
fn claim_answers(
    texts: &[&str],
    now: DateTime<Utc>,
    granted: &[Row],
    stored: &[Row],
) -> Result<Vec<Claim>, StoreError> {
    let context = "claiming";
    let granted: std::collections::HashMap<String, u32> = granted
        .iter()
        .map(|r| {
            let key: String = r.try_get(0).map_err(|e| pg(context, &e))?;
            let attempt: i32 = r.try_get(1).map_err(|e| pg(context, &e))?;
            let attempt = u32::try_from(attempt).map_err(|_| {
                StoreError::Backend(format!("postgres: {key:?} was granted attempt {attempt}"))
            })?;
            Ok((key, attempt))
        })
        .collect::<Result<_, StoreError>>()?;
    let mut states = std::collections::HashMap::new();
    for row in stored {
        let key: String = row.try_get(0).map_err(|e| pg(context, &e))?;
        if !granted.contains_key(&key) {
            states.insert(key, delivery(row)?);
        }
    }
    let mut answers = Vec::with_capacity(texts.len());
    let mut given = std::collections::HashSet::new();
    for key in texts.iter().copied() {
        let answer = match (granted.get(key), states.get(key)) {
            // The key given twice: granted once, then held by this very claim.
            (Some(&attempt), _) if !given.insert(key) => {
                Claim::Refused(Delivery::Claimed { at: now, attempt })
            }
            (Some(&attempt), _) => Claim::Granted { attempt },
            (None, Some(state)) => Claim::Refused(state.clone()),
            (None, None) => {
                return Err(StoreError::Backend(format!(
                    "postgres: {key:?} was neither claimed nor found"
                )));
            }
        };
        answers.push(answer);
    }
    Ok(answers)
}

const DELIVERY_COLUMNS: &str = "key, state, attempt, at, not_before, error, message_id, reason";

/// A lease in microseconds, for the claim statement; none when it does not fit (a lease
/// longer than chrono's durations never runs out).
fn lease_micros(lease: Option<Duration>) -> Option<i64> {
    lease.and_then(|l| l.num_microseconds())
}

fn bucket(client: &ClientId) -> i64 {
    i64::from(Shard::bucket(client.as_str()))
}

/// The `WHERE` clause of the rows whose bucket is `rest` modulo `modulus`; numbers only (a
/// COPY's query takes no parameters). A row's partition is its bucket modulo 16, so those
/// rows lie in the partitions equal to `rest` modulo the greatest common divisor of 16 and
/// `modulus`, which alone are read (1 of 16 for shard k of 16, whose items are read in
/// halves modulo 32); when `modulus` divides 16 they are those partitions' rows exactly.
fn shard_filter(rest: i64, modulus: i64) -> String {
    let common = (1..=16)
        .rev()
        .find(|d| 16 % d == 0 && modulus % d == 0)
        .unwrap_or(1);
    let parts: Vec<String> = (0..16)
        .filter(|p| p % common == rest % common)
        .map(|p: i64| p.to_string())
        .collect();
    let parts = format!("part IN ({})", parts.join(", "));
    if common == modulus {
        format!("WHERE {parts}")
    } else {
        format!("WHERE {parts} AND bucket % {modulus} = {rest}")
    }
}

impl PgStore {
    /// Connects to the database at `url` (`postgres://user@host:port/db`), with a pool of up
    /// to 8 connections, and brings its schema to this adapter's version.
    ///
    /// # Errors
    /// A URL that does not parse ([`StoreError::Backend`]), a server that cannot be reached
    /// ([`StoreError::Unavailable`]), or a migration the server refuses.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let config: tokio_postgres::Config = url
            .parse()
            .map_err(|e| StoreError::Backend(format!("postgres: the database URL does not parse: {e}")))?;
        Self::connect_with(config, 8).await
    }

    /// Connects with a parsed configuration and a pool of up to `pool_size` connections,
    /// and brings the schema to this adapter's version.
    ///
    /// # Errors
    /// As [`PgStore::connect`].
    pub async fn connect_with(
        mut config: tokio_postgres::Config,
        pool_size: usize,
    ) -> Result<Self, StoreError> {
        // Statements are prepared once a connection, and PostgreSQL would plan them once for
        // good after five runs ("generic plans"): a plan made while `history` or `deliveries`
        // was nearly empty (a sequential scan) then stays as they grow, and each re-read of a
        // tick scans the whole table. Planned at each run instead (a few tens of
        // microseconds).
        let options = match config.get_options() {
            Some(o) if !o.is_empty() => format!("{o} -c plan_cache_mode=force_custom_plan"),
            _ => "-c plan_cache_mode=force_custom_plan".to_owned(),
        };
        config.options(&options);
        // A server that stops answering surfaces as an error, never a tick hung for hours: the
        // socket's connect times out (10 s unless the host set its own), so does data the
        // server leaves unacknowledged (60 s: a connection cut off mid-query ends), and so do
        // waiting for a pooled connection and making one (three connect timeouts: the socket,
        // the startup, the authentication).
        let connect = *config
            .get_connect_timeout()
            .unwrap_or(&std::time::Duration::from_secs(10));
        config.connect_timeout(connect);
        if config.get_tcp_user_timeout().is_none() {
            config.tcp_user_timeout(std::time::Duration::from_secs(60));
        }
        let pool_timeout = connect.saturating_mul(3);
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(pool_size.max(1))
            .wait_timeout(Some(pool_timeout))
            .create_timeout(Some(pool_timeout))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .build()
            .map_err(|e| StoreError::Backend(format!("postgres: building the pool: {e}")))?;
        let store = Self {
            pool,
            sizes: Arc::default(),
        };
        store.migrate().await?;
        Ok(store)
    }

    /// Applies the migrations not applied yet, one worker at a time.
    async fn migrate(&self) -> Result<(), StoreError> {
        let context = "migrating the schema";
        let mut conn = self.pool.get().await.map_err(|e| pool_error(context, e))?;
        conn.execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
            .await
            .map_err(|e| pg(context, &e))?;
        let client: &mut tokio_postgres::Client = &mut conn;
        let result = embedded::migrations::runner().run_async(client).await;
        // Unlocked whatever happened (a session lock would else outlive the failure, on a
        // pooled connection).
        let unlocked = conn
            .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
            .await;
        result.map_err(|e| StoreError::Backend(format!("postgres: {context}: {e}")))?;
        unlocked.map_err(|e| pg(context, &e))?;
        Ok(())
    }

    /// The rows of a read-only query, each decoded by `decode` as it arrives (a row is dropped once
    /// decoded: a shard's hundreds of thousands of rows are never all held at once). Tried
    /// once more on a fresh connection when the first was lost.
    async fn read_each<T>(
        &self,
        context: &str,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
        mut decode: impl FnMut(&Row) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        once_more_if_lost!(self.read_once(context, sql, params, &mut decode).await)
    }

    async fn read_once<T>(
        &self,
        context: &str,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
        decode: &mut impl FnMut(&Row) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        use futures_util::TryStreamExt as _;
        let conn = self.pool.get().await.map_err(|e| pool_error(context, e))?;
        let read = async {
            let statement = conn.prepare_cached(sql).await.map_err(|e| pg(context, &e))?;
            let rows = conn
                .query_raw(&statement, params.iter().copied())
                .await
                .map_err(|e| pg(context, &e))?;
            futures_util::pin_mut!(rows);
            let mut found = Vec::new();
            while let Some(row) = rows.try_next().await.map_err(|e| pg(context, &e))? {
                found.push(decode(&row)?);
            }
            Ok(found)
        }
        .await;
        discard_if_lost(conn, &read);
        read
    }

    /// A shard's reads ([`ShardRead`]), each on a connection and a task of its own when
    /// the pool has them at once (so that the rows are decoded on every thread the runtime
    /// has), else several on one, all in one snapshot of the database: the first
    /// connection's, exported to the others. (Each statement in a snapshot of its own read
    /// an item moved by a write committed between the two item halves twice, or not at all.)
    async fn load_shard_once(&self, shard: Shard) -> Result<Snapshot, StoreError> {
        let context = "reading a shard";
        let (k, n) = (i64::from(shard.index()), i64::from(shard.count()));
        let sizes = self
            .sizes
            .lock()
            .map(|s| s.get(&shard).copied().unwrap_or_default())
            .unwrap_or_default();
        // One connection waited for; more only if the pool has them now (waiting for them
        // while holding the first could wait for ever on a small pool).
        let first = self.pool.get().await.map_err(|e| pool_error(context, e))?;
        let mut conns = vec![InTransaction(Some(first))];
        let at_once = deadpool_postgres::Timeouts {
            wait: Some(std::time::Duration::ZERO),
            ..self.pool.timeouts()
        };
        while conns.len() < ShardRead::ALL.len() {
            match self.pool.timeout_get(&at_once).await {
                Ok(conn) => conns.push(InTransaction(Some(conn))),
                Err(_) => break,
            }
        }
        let begin = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY";
        let exporter = conns[0].conn()?;
        exporter.batch_execute(begin).await.map_err(|e| pg(context, &e))?;
        let snapshot: String = exporter
            .query_one("SELECT pg_export_snapshot()", &[])
            .await
            .and_then(|row| row.try_get(0))
            .map_err(|e| pg(context, &e))?;
        if !snapshot.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-') {
            return Err(StoreError::Backend(format!(
                "postgres: a snapshot named {snapshot:?}"
            )));
        }
        for conn in &conns[1..] {
            conn.conn()?
                .batch_execute(&format!("{begin}; SET TRANSACTION SNAPSHOT '{snapshot}'"))
                .await
                .map_err(|e| match pg(context, &e) {
                    // The snapshot is gone (22023 invalid snapshot identifier, 55000 could
                    // not import it, 42704 no such snapshot in newer servers): its
                    // transaction ended, its connection lost meanwhile.
                    StoreError::Database { code, message, .. }
                        if matches!(code.as_str(), "22023" | "55000" | "42704") =>
                    {
                        StoreError::Unavailable {
                            context: context.to_owned(),
                            message: format!(
                                "the connection that exported the snapshot was lost ({code}: {message})"
                            ),
                        }
                    }
                    other => other,
                })?;
        }
        // The reads dealt out over the connections; each connection's read in turn, then
        // its transaction ended.
        let count = conns.len();
        let tasks: Vec<_> = conns
            .into_iter()
            .enumerate()
            .map(|(i, conn)| {
                let reads: Vec<ShardRead> = ShardRead::ALL.iter().copied().skip(i).step_by(count).collect();
                tokio::spawn(async move {
                    let c = conn.conn()?;
                    let mut read = Vec::with_capacity(reads.len());
                    for r in reads {
                        read.push(r.run(c, (k, n), sizes).await?);
                    }
                    c.batch_execute("COMMIT").await.map_err(|e| pg(context, &e))?;
                    conn.ended();
                    Ok::<_, StoreError>(read)
                })
            })
            .collect();
        let (mut halves, mut clients, mut history) = ([Vec::new(), Vec::new()], Vec::new(), Vec::new());
        let mut failed = None;
        for task in futures_util::future::join_all(tasks).await {
            match joined(task) {
                Ok(read) => {
                    for rows in read {
                        match rows {
                            ShardRows::Items { half, items } => halves[usize::from(half != 0)] = items,
                            ShardRows::Clients(c) => clients = c,
                            ShardRows::History(h) => history = h,
                        }
                    }
                }
                // A lost connection first (the load is then tried again).
                Err(e) => {
                    if !matches!(failed, Some(StoreError::Unavailable { .. })) {
                        failed = Some(e);
                    }
                }
            }
        }
        if let Some(e) = failed {
            return Err(e);
        }
        history.sort_unstable_by_key(|&(seq, _)| seq);
        let [mut items, second] = halves;
        let read = ShardSizes {
            items: [items.len(), second.len()],
            clients: clients.len(),
            history: history.len(),
        };
        items.extend(second);
        if let Ok(mut sizes) = self.sizes.lock() {
            sizes.insert(shard, read);
        }
        Ok(Snapshot {
            clients,
            items,
            history: history.into_iter().map(|(_, h)| h).collect(),
        })
    }

    async fn docs<T: DeserializeOwned>(
        &self,
        what: &str,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<T>, StoreError> {
        self.read_each(&format!("reading {what}s"), sql, params, |r| from_doc(what, r))
            .await
    }

    /// Inserts or replaces clients, a few thousand per statement.
    ///
    /// # Errors
    /// The server's refusal, or a lost connection.
    pub async fn put_clients(&self, clients: &[Client]) -> Result<(), StoreError> {
        let context = "saving clients";
        let conn = self.pool.get().await.map_err(|e| pool_error(context, e))?;
        for chunk in clients.chunks(CHUNK) {
            let columns = rows::ClientColumns::new(chunk)?;
            conn.execute(rows::UPSERT_CLIENTS, &columns.params())
                .await
                .map_err(|e| pg(context, &e))?;
        }
        Ok(())
    }

    /// Inserts or replaces items, a few thousand per statement.
    ///
    /// # Errors
    /// The server's refusal, or a lost connection.
    pub async fn put_items(&self, items: &[Item]) -> Result<(), StoreError> {
        let context = "saving items";
        let mut conn = self.pool.get().await.map_err(|e| pool_error(context, e))?;
        for chunk in items.chunks(CHUNK) {
            let columns = rows::ItemColumns::new(chunk)?;
            // The ids first, then the rows, in one transaction: a writer of the same ids
            // meanwhile waits for this one to commit, and its rows' statement then sees
            // these (an item moved by both is stored once, as the last put it).
            let tx = conn.transaction().await.map_err(|e| pg(context, &e))?;
            let lock = tx
                .prepare_cached(rows::LOCK_ITEM_IDS)
                .await
                .map_err(|e| pg(context, &e))?;
            let upsert = tx
                .prepare_cached(rows::UPSERT_ITEMS)
                .await
                .map_err(|e| pg(context, &e))?;
            let taken = tx
                .query(&lock, &columns.params()[..1])
                .await
                .map_err(|e| pg(context, &e))?;
            let mut stored: Vec<&str> = Vec::new();
            for row in &taken {
                let before: bool = row.try_get(1).map_err(|e| pg(context, &e))?;
                if before {
                    stored.push(row.try_get(0).map_err(|e| pg(context, &e))?);
                }
            }
            let mut params = columns.params().to_vec();
            params.push(&stored);
            tx.execute(&upsert, &params).await.map_err(|e| pg(context, &e))?;
            tx.commit().await.map_err(|e| pg(context, &e))?;
        }
        Ok(())
    }

    /// Appends history entries, a few thousand per statement (importing a host's past
    /// sends), in the order given.
    ///
    /// # Errors
    /// The server's refusal, or a lost connection.
    pub async fn put_history(&self, entries: &[HistoryEntry]) -> Result<(), StoreError> {
        let context = "saving history";
        let conn = self.pool.get().await.map_err(|e| pool_error(context, e))?;
        let statement = conn
            .prepare_cached(&format!(
                "{} FROM {} ORDER BY h.n",
                rows::HISTORY_INSERT,
                rows::unnest_history(1)
            ))
            .await
            .map_err(|e| pg(context, &e))?;
        for chunk in entries.chunks(CHUNK) {
            let mut columns = rows::HistoryColumns::default();
            for h in chunk {
                columns.push(h)?;
            }
            conn.execute(&statement, &columns.params())
                .await
                .map_err(|e| pg(context, &e))?;
        }
        Ok(())
    }

    /// Clients matching `filter` (a `WHERE` clause and what follows).
    async fn clients(&self, filter: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Client>, StoreError> {
        let sql = format!("SELECT {} FROM clients {filter}", rows::CLIENT_COLUMNS);
        self.read_each("reading clients", &sql, params, |row| {
            rows::client(&RowColumns { row, what: "client" })
        })
        .await
    }

    /// Items matching `filter` (a `WHERE` clause and what follows).
    async fn items(&self, filter: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Item>, StoreError> {
        let sql = format!("SELECT {} FROM items {filter}", rows::ITEM_COLUMNS);
        let mut reader = rows::ItemReader::default();
        self.read_each("reading items", &sql, params, |row| {
            rows::item(&RowColumns { row, what: "item" }, &mut reader)
        })
        .await
    }

    /// History entries matching `filter` (a `WHERE` clause and what follows).
    async fn history(
        &self,
        filter: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<HistoryEntry>, StoreError> {
        let sql = format!("SELECT {} FROM history {filter}", rows::HISTORY_COLUMNS);
        self.read_each("reading history", &sql, params, |row| {
            rows::history(&RowColumns {
                row,
                what: "history entry",
            })
        })
        .await
    }

    /// Whether the database holds no client yet.
    ///
    /// # Errors
    /// The server's refusal, or a lost connection.
    pub async fn is_empty(&self) -> Result<bool, StoreError> {
        let context = "counting clients";
        let any = self
            .read_each(context, "SELECT EXISTS (SELECT 1 FROM clients)", &[], |r| {
                r.try_get::<_, bool>(0).map_err(|e| pg(context, &e))
            })
            .await?;
        Ok(any.first() != Some(&true))
    }

    /// Records outcomes of distinct keys in one statement (so in one transaction): each
    /// delivery row updated, and the history entries and log lines of those whose row was
    /// found. One answer per outcome: recorded, or [`StoreError::NotFound`] (never claimed,
    /// nothing recorded). `Err` when the statement failed: nothing was recorded.
    ///
    /// With `held`, each only while the key is still that claim (taken at that instant, to
    /// the microsecond, as that attempt), checked by the update itself (so against the row
    /// as the last writer left it); else [`StoreError::NoLongerClaimed`].
    async fn finish_all(
        &self,
        batch: &[Finish],
        held: Option<(DateTime<Utc>, u32)>,
    ) -> Result<Vec<Result<(), StoreError>>, StoreError> {
        let context = "recording outcomes";
        let mut d_key = Vec::with_capacity(batch.len());
        let mut d_state = Vec::with_capacity(batch.len());
        let mut d_attempt = Vec::with_capacity(batch.len());
        let mut d_at = Vec::with_capacity(batch.len());
        let mut d_not_before = Vec::with_capacity(batch.len());
        let mut d_error = Vec::with_capacity(batch.len());
        let mut d_message_id = Vec::with_capacity(batch.len());
        let mut d_reason = Vec::with_capacity(batch.len());
        let mut h_owner = Vec::new();
        let mut history = rows::HistoryColumns::default();
        let (mut l_owner, mut l_at, mut l_client, mut l_item, mut l_key, mut l_action, mut l_doc) =
            (vec![], vec![], vec![], vec![], vec![], vec![], vec![]);
        for f in batch {
            let (state, attempt, at, not_before, error, message_id, reason) = columns(&f.outcome)?;
            d_key.push(f.key.as_str());
            d_state.push(state);
            d_attempt.push(attempt);
            d_at.push(at);
            d_not_before.push(not_before);
            d_error.push(error);
            d_message_id.push(message_id);
            d_reason.push(reason);
            if let Some(h) = &f.sent {
                h_owner.push(f.key.as_str());
                history.push(h)?;
            }
            if let Some(l) = &f.log {
                l_owner.push(f.key.as_str());
                l_at.push(l.at);
                l_client.push(l.client.as_str());
                l_item.push(l.item.as_ref().map(|i| i.as_str()));
                l_key.push(l.key.as_deref());
                l_action.push(l.action.kind().to_string());
                l_doc.push(to_doc(l)?);
            }
        }
        let conn = self.pool.get().await.map_err(|e| pool_error(context, e))?;
        // Data-modifying CTEs: one statement, one transaction. History and log rows are
        // inserted only for the outcomes whose delivery row was found, in the order given.
        let sql = format!(
            "WITH v AS (SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::timestamptz[], \
                 $5::timestamptz[], $6::text[], $7::text[], $8::text[]) \
                 AS v(key, state, attempt, at, not_before, error, message_id, reason)), \
             u AS (UPDATE deliveries d SET state = v.state, attempt = COALESCE(v.attempt, d.attempt), \
                 at = v.at, not_before = v.not_before, error = v.error, message_id = v.message_id, \
                 reason = v.reason FROM v WHERE d.key = v.key \
                 AND ($26::timestamptz IS NULL OR (d.state = 'claimed' AND d.attempt = $27::int \
                     AND d.at > $26 - interval '1 microsecond' AND d.at < $26 + interval '1 microsecond')) \
                 RETURNING d.key), \
             o AS (SELECT owner, n FROM unnest($9::text[]) WITH ORDINALITY AS o(owner, n)), \
             h AS ({} FROM {} JOIN o USING (n) WHERE o.owner IN (SELECT key FROM u) ORDER BY n), \
             l AS (INSERT INTO log (at, client, item, key, action, doc) \
                 SELECT at, client, item, key, action, doc FROM unnest($19::text[], $20::timestamptz[], \
                     $21::text[], $22::text[], $23::text[], $24::text[], $25::jsonb[]) \
                     WITH ORDINALITY AS l(owner, at, client, item, key, action, doc, n) \
                 WHERE owner IN (SELECT key FROM u) ORDER BY n) \
             SELECT key FROM u",
            rows::HISTORY_INSERT,
            rows::unnest_history(10)
        );
        let statement = conn.prepare_cached(&sql).await.map_err(|e| pg(context, &e))?;
        let h = history.params();
        let held_at = held.map(|(at, _)| at);
        let held_attempt = held
            .map(|(_, attempt)| i32::try_from(attempt))
            .transpose()
            .map_err(|_| {
                StoreError::Backend(format!("postgres: attempt {held:?} past the attempt column"))
            })?;
        let rows = conn
            .query(
                &statement,
                &[
                    &d_key,
                    &d_state,
                    &d_attempt,
                    &d_at,
                    &d_not_before,
                    &d_error,
                    &d_message_id,
                    &d_reason,
                    &h_owner,
                    h[0],
                    h[1],
                    h[2],
                    h[3],
                    h[4],
                    h[5],
                    h[6],
                    h[7],
                    h[8],
                    &l_owner,
                    &l_at,
                    &l_client,
                    &l_item,
                    &l_key,
                    &l_action,
                    &l_doc,
                    &held_at,
                    &held_attempt,
                ],
            )
            .await
            .map_err(|e| pg(context, &e))?;
        let found: std::collections::HashSet<String> = rows
            .iter()
            .map(|r| r.try_get(0).map_err(|e| pg(context, &e)))
            .collect::<Result<_, _>>()?;
        Ok(batch
            .iter()
            .map(|f| {
                if found.contains(f.key.as_str()) {
                    Ok(())
                } else if held.is_some() {
                    Err(StoreError::NoLongerClaimed {
                        key: f.key.to_string(),
                    })
                } else {
                    Err(StoreError::NotFound {
                        kind: "claim",
                        id: f.key.to_string(),
                    })
                }
            })
            .collect())
    }

    async fn insert_history(
        tx: &impl deadpool_postgres::GenericClient,
        entry: &HistoryEntry,
    ) -> Result<(), StoreError> {
        let mut columns = rows::HistoryColumns::default();
        columns.push(entry)?;
        tx.execute(
            &format!("{} FROM {}", rows::HISTORY_INSERT, rows::unnest_history(1)),
            &columns.params(),
        )
        .await
        .map_err(|e| pg("appending history", &e))?;
        Ok(())
    }

    async fn insert_log(
        conn: &impl deadpool_postgres::GenericClient,
        entry: &LogEntry,
    ) -> Result<(), StoreError> {
        conn.execute(
            "INSERT INTO log (at, client, item, key, action, doc) VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &entry.at,
                &entry.client.as_str(),
                &entry.item.as_ref().map(|i| i.as_str()),
                &entry.key,
                &entry.action.kind().to_string(),
                &to_doc(entry)?,
            ],
        )
        .await
        .map_err(|e| pg("writing the log", &e))?;
        Ok(())
    }
}

#[async_trait]
impl DispatchStore for PgStore {
    async fn load(&self) -> Result<Snapshot, StoreError> {
        // The three reads at once, each on its own connection.
        let (clients, items, history) = tokio::try_join!(
            self.clients("ORDER BY id", &[]),
            self.items("ORDER BY id", &[]),
            self.history("ORDER BY seq", &[]),
        )?;
        Ok(Snapshot {
            clients,
            items,
            history,
        })
    }

    async fn load_shard(&self, shard: Shard) -> Result<Snapshot, StoreError> {
        if shard.is_all() {
            return self.load().await;
        }
        once_more_if_lost!(self.load_shard_once(shard).await)
    }

    async fn load_client(&self, client: &ClientId) -> Result<Snapshot, StoreError> {
        self.load_clients(std::slice::from_ref(client)).await
    }

    async fn load_clients(&self, clients: &[ClientId]) -> Result<Snapshot, StoreError> {
        let ids: Vec<&str> = clients.iter().map(ClientId::as_str).collect();
        // Only the partitions of these clients are read.
        let mut parts: Vec<i16> = clients
            .iter()
            .filter_map(|c| i16::try_from(bucket(c) % 16).ok())
            .collect();
        parts.sort_unstable();
        parts.dedup();
        let params: [&(dyn ToSql + Sync); 2] = [&ids, &parts];
        let (clients, items, history) = tokio::try_join!(
            self.clients("WHERE part = ANY($2) AND id = ANY($1) ORDER BY id", &params),
            self.items("WHERE part = ANY($2) AND client = ANY($1) ORDER BY id", &params),
            self.history("WHERE part = ANY($2) AND client = ANY($1) ORDER BY seq", &params),
        )?;
        Ok(Snapshot {
            clients,
            items,
            history,
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
            .ok_or_else(|| StoreError::Backend("postgres: a claim got no answer".into()))
    }

    async fn claim_batch(
        &self,
        keys: &[EventKey],
        now: DateTime<Utc>,
        reclaim_after: Option<Duration>,
    ) -> Result<Vec<Claim>, StoreError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let context = "claiming";
        let conn = self.pool.get().await.map_err(|e| pool_error(context, e))?;
        let texts: Vec<&str> = keys.iter().map(EventKey::as_str).collect();
        let lease = lease_micros(reclaim_after);
        // One statement takes the claims: a new key is inserted claimed; a stored one is
        // taken when skipped, when its retry is due, or when its claim is older than the
        // lease. The row lock makes a racing claim wait and then find it claimed; keys are
        // taken in order, so two overlapping batches do not deadlock.
        let states_sql = format!("SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE key = ANY($1)");
        let (insert, states) = tokio::try_join!(
            conn.prepare_cached(
                "INSERT INTO deliveries AS d (key, state, attempt, at) \
                 SELECT DISTINCT k, 'claimed', 1, $2::timestamptz FROM unnest($1::text[]) AS k ORDER BY k \
                 ON CONFLICT (key) DO UPDATE SET state = 'claimed', \
                     attempt = CASE WHEN d.state = 'skipped' THEN 1 ELSE d.attempt + 1 END, \
                     at = EXCLUDED.at, not_before = NULL, error = NULL, message_id = NULL, reason = NULL \
                 WHERE d.state = 'skipped' \
                    OR (d.state = 'retrying' AND (d.not_before IS NULL OR d.not_before <= EXCLUDED.at)) \
                    OR (d.state = 'claimed' AND $3::bigint IS NOT NULL \
                        AND d.at <= EXCLUDED.at - $3::bigint * INTERVAL '1 microsecond') \
                 RETURNING key, attempt",
            ),
            conn.prepare_cached(&states_sql),
        )
        .map_err(|e| pg(context, &e))?;
        // The claims and the read of where every key now stands in one transaction: the
        // three statements sent at once (one round trip), the answers worked out, then
        // COMMIT, or ROLLBACK when anything failed (a row that does not decode included), so
        // that a failed batch has claimed nothing.
        let tx = InTransaction(Some(conn));
        let conn = tx.conn()?;
        let insert_params: [&(dyn ToSql + Sync); 3] = [&texts, &now, &lease];
        let states_params: [&(dyn ToSql + Sync); 1] = [&texts];
        let (begun, granted, stored) = tokio::join!(
            conn.batch_execute("BEGIN"),
            conn.query(&insert, &insert_params),
            conn.query(&states, &states_params),
        );
        let answers = begun.map_err(|e| pg(context, &e)).and_then(|()| {
            let granted = granted.map_err(|e| pg(context, &e))?;
            let stored = stored.map_err(|e| pg("reading refused claims", &e))?;
            claim_answers(&texts, now, &granted, &stored)
        });
        match answers {
            Ok(answers) => {
                conn.batch_execute("COMMIT")
                    .await
                    .map_err(|e| pg("committing claims", &e))?;
                tx.ended();
                Ok(answers)
            }
            Err(e) => {
                if conn.batch_execute("ROLLBACK").await.is_ok() {
                    tx.ended();
                }
                Err(e)
            }
        }
    }

    async fn finish(
        &self,
        key: &EventKey,
        outcome: Delivery,
        sent: Option<HistoryEntry>,
        log: Option<LogEntry>,
    ) -> Result<(), StoreError> {
        let one = Finish::new(key.clone(), outcome).with_entries(sent, log);
        self.finish_all(&[one], None)
            .await?
            .pop()
            .unwrap_or_else(|| Err(StoreError::Backend("postgres: an outcome got no answer".into())))
    }

    async fn finish_claimed(
        &self,
        key: &EventKey,
        held: (DateTime<Utc>, u32),
        outcome: Delivery,
        sent: Option<HistoryEntry>,
        log: Option<LogEntry>,
    ) -> Result<(), StoreError> {
        let one = Finish::new(key.clone(), outcome).with_entries(sent, log);
        self.finish_all(&[one], Some(held))
            .await?
            .pop()
            .unwrap_or_else(|| Err(StoreError::Backend("postgres: an outcome got no answer".into())))
    }

    async fn finish_batch(&self, batch: Vec<Finish>) -> Vec<Result<(), StoreError>> {
        let mut keys = std::collections::HashSet::new();
        let distinct = batch.iter().all(|f| keys.insert(&f.key));
        if distinct {
            match self.finish_all(&batch, None).await {
                Ok(answers) => return answers,
                Err(e) if batch.len() == 1 => return vec![Err(e)],
                // The server refused the statement, so nothing of the batch was recorded:
                // each is recorded alone, so that one the server refuses does not stop the
                // others.
                Err(StoreError::Database { .. }) => {}
                // Whether it was committed is not known (the connection was lost): not
                // written again (its history entries and log lines would be there twice).
                Err(e) => return vec![Err(e); batch.len()],
            }
        }
        let mut answers = Vec::with_capacity(batch.len());
        for f in batch {
            answers.push(
                self.finish_all(std::slice::from_ref(&f), None)
                    .await
                    .and_then(|mut a| {
                        a.pop().unwrap_or_else(|| {
                            Err(StoreError::Backend("postgres: an outcome got no answer".into()))
                        })
                    }),
            );
        }
        answers
    }

    async fn deliveries(&self, keys: &[EventKey]) -> Result<Vec<Option<Delivery>>, StoreError> {
        let texts: Vec<&str> = keys.iter().map(EventKey::as_str).collect();
        let found: std::collections::HashMap<String, Delivery> = self
            .read_each(
                "reading deliveries",
                &format!("SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE key = ANY($1)"),
                &[&texts],
                |row| {
                    Ok((
                        row.try_get(0).map_err(|e| pg("reading deliveries", &e))?,
                        delivery(row)?,
                    ))
                },
            )
            .await?
            .into_iter()
            .collect();
        Ok(texts.iter().map(|k| found.get(*k).cloned()).collect())
    }

    async fn delivery(&self, key: &EventKey) -> Result<Option<Delivery>, StoreError> {
        let mut found = self
            .read_each(
                "reading a delivery",
                &format!("SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE key = $1"),
                &[&key.as_str()],
                delivery,
            )
            .await?;
        Ok(found.pop())
    }

    async fn abandoned_claims(&self, before: DateTime<Utc>) -> Result<Vec<(EventKey, Delivery)>, StoreError> {
        self.read_each(
            "reading claims",
            &format!(
                "SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE state = 'claimed' AND at < $1 ORDER BY key"
            ),
            &[&before],
            |row| {
                let key: String = row.try_get(0).map_err(|e| pg("reading claims", &e))?;
                Ok((EventKey::from(key), delivery(row)?))
            },
        )
        .await
    }

    async fn append_history(&self, entry: HistoryEntry) -> Result<(), StoreError> {
        let context = "appending history";
        let mut conn = self.pool.get().await.map_err(|e| pool_error(context, e))?;
        let tx = conn.transaction().await.map_err(|e| pg(context, &e))?;
        Self::insert_history(&tx, &entry).await?;
        tx.commit().await.map_err(|e| pg(context, &e))
    }
}

#[async_trait]
impl ActionLog for PgStore {
    async fn log(&self, entry: LogEntry) -> Result<(), StoreError> {
        let conn = self
            .pool
            .get()
            .await
            .map_err(|e| pool_error("writing the log", e))?;
        Self::insert_log(&conn, &entry).await
    }

    async fn read_log(&self, filter: &LogFilter) -> Result<Vec<LogEntry>, StoreError> {
        let client = filter.client.as_ref().map(ClientId::as_str);
        let item = filter.item.as_ref().map(|i| i.as_str());
        let key = filter.key.as_deref();
        self.docs(
            "log entry",
            "SELECT doc FROM log WHERE ($1::text IS NULL OR client = $1) AND ($2::text IS NULL OR item = $2) \
             AND ($3::text IS NULL OR key = $3) ORDER BY seq",
            &[&client, &item, &key],
        )
        .await
    }
}

#[async_trait]
impl ReminderStore for PgStore {
    async fn save_reminder(&self, reminder: &Reminder) -> Result<(), StoreError> {
        let context = "saving a reminder";
        let conn = self.pool.get().await.map_err(|e| pool_error(context, e))?;
        conn.execute(
            "INSERT INTO reminders (id, client, status, archived, doc) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (id) DO UPDATE SET client = EXCLUDED.client, status = EXCLUDED.status, \
             archived = EXCLUDED.archived, doc = EXCLUDED.doc",
            &[
                &reminder.id,
                &reminder.client.as_str(),
                &reminder.status.to_string(),
                &reminder.archived,
                &to_doc(reminder)?,
            ],
        )
        .await
        .map_err(|e| pg(context, &e))?;
        Ok(())
    }

    async fn reminders(&self) -> Result<Vec<Reminder>, StoreError> {
        self.docs("reminder", "SELECT doc FROM reminders ORDER BY id", &[])
            .await
    }

    async fn delete_reminder(&self, id: &str) -> Result<bool, StoreError> {
        let context = "deleting a reminder";
        let conn = self.pool.get().await.map_err(|e| pool_error(context, e))?;
        let n = conn
            .execute("DELETE FROM reminders WHERE id = $1", &[&id])
            .await
            .map_err(|e| pg(context, &e))?;
        Ok(n > 0)
    }
}
