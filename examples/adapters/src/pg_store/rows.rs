//! Items and history entries as the typed columns of the `items` and `history` tables
//! (schema version 2), written many rows a statement (one array a column, `unnest`ed) and
//! read back without decoding a JSON document. Rows written by version 1 keep their `doc`
//! and are read from it.
//!
//! Every field is a column, or a JSONB array for the rare lists: the struct literals below
//! name every field, so a field added to `Item` or `HistoryEntry` fails to compile here
//! instead of being lost.

use chrono::{DateTime, NaiveDate, Utc};
use dunning::store::StoreError;
use dunning::{ClientId, Currency, EventKey, HistoryEntry, HistoryOutcome, Item, ItemId, Money, RuleId};
use serde::Serialize;
use serde::de::{DeserializeOwned, IntoDeserializer};
use tokio_postgres::Row;
use tokio_postgres::types::{Json, ToSql};

use super::bucket;

fn bad(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(format!("postgres: decoding a stored {what}: {e}"))
}

fn encode(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(format!("postgres: encoding a record: {e}"))
}

/// A unit enum's serde name ("invoice", "open").
fn name<T: Serialize>(v: &T) -> Result<String, StoreError> {
    match serde_json::to_value(v).map_err(encode)? {
        serde_json::Value::String(s) => Ok(s),
        other => Err(encode(format!("{other} is not a name"))),
    }
}

/// A unit enum from its serde name, without allocating.
fn from_name<T: DeserializeOwned>(what: &str, s: &str) -> Result<T, StoreError> {
    let d: serde::de::value::StrDeserializer<'_, serde::de::value::Error> = s.into_deserializer();
    T::deserialize(d).map_err(|e| bad(what, e))
}

/// A list as a JSONB array, NULL when empty.
fn list<T: Serialize>(v: &[T]) -> Result<Option<serde_json::Value>, StoreError> {
    if v.is_empty() {
        Ok(None)
    } else {
        serde_json::to_value(v).map(Some).map_err(encode)
    }
}

/// A list from its JSONB array, empty when NULL.
fn from_list<T: DeserializeOwned>(v: Option<serde_json::Value>) -> Result<Vec<T>, StoreError> {
    v.map(serde_json::from_value::<Vec<T>>)
        .transpose()
        .map(Option::unwrap_or_default)
        .map_err(|e| bad("item", e))
}

fn count(what: &str, v: Option<i64>) -> Result<Option<u32>, StoreError> {
    v.map(|n| u32::try_from(n).map_err(|_| bad(what, format!("{n} is not a count"))))
        .transpose()
}

/// The columns `item` reads, in its order.
pub(super) const ITEM_COLUMNS: &str = "doc, id, client, kind, number, issued_on, sent_on, due_on, total_minor, \
    currency, status, settled_on, reminders, reminder_every_days, reminder_count, attachments, applied, pauses";

/// Takes each item id of a write (`$1`) in `item_ids`, in id order, inserting the new ones:
/// its row lock makes writers of one id take turns until the first commits. Answers with
/// the ids that were there already (updated rows have an `xmax`): only those can have a
/// row in another partition.
pub(super) const LOCK_ITEM_IDS: &str = "INSERT INTO item_ids (id) SELECT id FROM unnest($1::text[]) AS n(id) \
    ORDER BY id ON CONFLICT (id) DO UPDATE SET id = EXCLUDED.id RETURNING id, xmax::text <> '0'";

/// Inserts or replaces items from one array a column (`ItemColumns::params`), each in the
/// partition of its client's bucket (`bucket % 16`); an item whose client is now of another
/// partition is deleted from the one it leaves, in the same statement (of the ids in `$19`,
/// those stored before).
pub(super) const UPSERT_ITEMS: &str = "WITH n AS (SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], \
        $4::text[], $5::text[], $6::date[], $7::date[], $8::date[], $9::bigint[], $10::text[], $11::text[], \
        $12::date[], $13::bool[], $14::bigint[], $15::bigint[], $16::jsonb[], $17::jsonb[], $18::jsonb[]) \
        AS n(id, client, bucket, kind, number, issued_on, sent_on, due_on, total_minor, currency, status, \
        settled_on, reminders, reminder_every_days, reminder_count, attachments, applied, pauses)), \
    moved AS (DELETE FROM items WHERE id = ANY($19::text[]) \
        AND (id, part) NOT IN (SELECT id, (bucket % 16)::smallint FROM n)) \
    INSERT INTO items (id, client, bucket, kind, number, issued_on, sent_on, due_on, total_minor, currency, \
        status, settled_on, reminders, reminder_every_days, reminder_count, attachments, applied, pauses, part) \
    SELECT n.*, (n.bucket % 16)::smallint FROM n \
    ON CONFLICT (part, id) DO UPDATE SET client = EXCLUDED.client, bucket = EXCLUDED.bucket, doc = NULL, \
        kind = EXCLUDED.kind, number = EXCLUDED.number, issued_on = EXCLUDED.issued_on, \
        sent_on = EXCLUDED.sent_on, due_on = EXCLUDED.due_on, total_minor = EXCLUDED.total_minor, \
        currency = EXCLUDED.currency, status = EXCLUDED.status, settled_on = EXCLUDED.settled_on, \
        reminders = EXCLUDED.reminders, reminder_every_days = EXCLUDED.reminder_every_days, \
        reminder_count = EXCLUDED.reminder_count, attachments = EXCLUDED.attachments, \
        applied = EXCLUDED.applied, pauses = EXCLUDED.pauses";

/// Items as one array a column, for [`UPSERT_ITEMS`].
#[derive(Default)]
pub(super) struct ItemColumns<'a> {
    id: Vec<&'a str>,
    client: Vec<&'a str>,
    bucket: Vec<i64>,
    kind: Vec<String>,
    number: Vec<&'a str>,
    issued_on: Vec<NaiveDate>,
    sent_on: Vec<Option<NaiveDate>>,
    due_on: Vec<Option<NaiveDate>>,
    total_minor: Vec<Option<i64>>,
    currency: Vec<Option<&'static str>>,
    status: Vec<String>,
    settled_on: Vec<Option<NaiveDate>>,
    reminders: Vec<bool>,
    reminder_every_days: Vec<Option<i64>>,
    reminder_count: Vec<Option<i64>>,
    attachments: Vec<Option<serde_json::Value>>,
    applied: Vec<Option<serde_json::Value>>,
    pauses: Vec<Option<serde_json::Value>>,
}

impl<'a> ItemColumns<'a> {
    pub(super) fn new(items: &'a [Item]) -> Result<Self, StoreError> {
        let mut c = Self::default();
        for i in items {
            let Item {
                id,
                client,
                kind,
                number,
                issued_on,
                sent_on,
                due_on,
                total,
                applied,
                status,
                settled_on,
                reminders,
                reminder_every_days,
                reminder_count,
                attachments,
                pauses,
            } = i;
            c.id.push(id.as_str());
            c.client.push(client.as_str());
            c.bucket.push(bucket(client));
            c.kind.push(name(kind)?);
            c.number.push(number);
            c.issued_on.push(*issued_on);
            c.sent_on.push(*sent_on);
            c.due_on.push(*due_on);
            c.total_minor.push(total.map(|m| m.minor()));
            c.currency.push(total.map(|m| m.currency().code()));
            c.status.push(name(status)?);
            c.settled_on.push(*settled_on);
            c.reminders.push(*reminders);
            c.reminder_every_days.push(reminder_every_days.map(i64::from));
            c.reminder_count.push(reminder_count.map(i64::from));
            c.attachments.push(list(attachments)?);
            c.applied.push(list(applied)?);
            c.pauses.push(list(pauses)?);
        }
        Ok(c)
    }

    pub(super) fn params(&self) -> [&(dyn ToSql + Sync); 18] {
        [
            &self.id,
            &self.client,
            &self.bucket,
            &self.kind,
            &self.number,
            &self.issued_on,
            &self.sent_on,
            &self.due_on,
            &self.total_minor,
            &self.currency,
            &self.status,
            &self.settled_on,
            &self.reminders,
            &self.reminder_every_days,
            &self.reminder_count,
            &self.attachments,
            &self.applied,
            &self.pauses,
        ]
    }
}

/// Currencies met while reading, so each code is looked up once a load.
#[derive(Default)]
pub(super) struct Currencies(Vec<(String, Currency)>);

impl Currencies {
    fn get(&mut self, code: &str) -> Result<Currency, StoreError> {
        if let Some((_, c)) = self.0.iter().find(|(k, _)| k == code) {
            return Ok(*c);
        }
        let c = Currency::from_code(code).map_err(|e| bad("item", e))?;
        self.0.push((code.to_owned(), c));
        Ok(c)
    }
}

/// An `items` row ([`ITEM_COLUMNS`]) as the item it holds.
pub(super) fn item(row: &Row, currencies: &mut Currencies) -> Result<Item, StoreError> {
    let get = |e: tokio_postgres::Error| bad("item", e);
    if let Some(Json(doc)) = row.try_get::<_, Option<Json<Item>>>(0).map_err(get)? {
        return Ok(doc);
    }
    let id: &str = row.try_get(1).map_err(get)?;
    let client: &str = row.try_get(2).map_err(get)?;
    let kind: &str = row.try_get(3).map_err(get)?;
    let number: &str = row.try_get(4).map_err(get)?;
    let total_minor: Option<i64> = row.try_get(8).map_err(get)?;
    let currency: Option<&str> = row.try_get(9).map_err(get)?;
    let status: &str = row.try_get(10).map_err(get)?;
    let lists = |i: usize| row.try_get::<_, Option<serde_json::Value>>(i).map_err(get);
    let total = match (total_minor, currency) {
        (Some(minor), Some(code)) => Some(Money::from_minor(minor, currencies.get(code)?)),
        (None, None) => None,
        _ => return Err(bad("item", format!("{id}: a total without its currency"))),
    };
    Ok(Item {
        id: ItemId::new(id).map_err(|e| bad("item", e))?,
        client: ClientId::new(client).map_err(|e| bad("item", e))?,
        kind: from_name("item kind", kind)?,
        number: number.into(),
        issued_on: row.try_get(5).map_err(get)?,
        sent_on: row.try_get(6).map_err(get)?,
        due_on: row.try_get(7).map_err(get)?,
        total,
        applied: from_list(lists(16)?)?,
        status: from_name("item status", status)?,
        settled_on: row.try_get(11).map_err(get)?,
        reminders: row.try_get(12).map_err(get)?,
        reminder_every_days: count("item", row.try_get(13).map_err(get)?)?,
        reminder_count: count("item", row.try_get(14).map_err(get)?)?,
        attachments: from_list(lists(15)?)?,
        pauses: from_list(lists(17)?)?,
    })
}

/// The columns `history` reads, in its order.
pub(super) const HISTORY_COLUMNS: &str = "doc, key, rule, client, items, sent_at, outcome_doc, sent_at_ns";

/// History entries as one array a column: `key, client, bucket, sent_at, outcome, rule,
/// items, outcome_doc` ([`HistoryColumns::params`]).
#[derive(Default)]
pub(super) struct HistoryColumns<'a> {
    key: Vec<&'a str>,
    client: Vec<&'a str>,
    bucket: Vec<i64>,
    sent_at: Vec<DateTime<Utc>>,
    outcome: Vec<String>,
    rule: Vec<Option<&'a str>>,
    items: Vec<serde_json::Value>,
    outcome_doc: Vec<Option<serde_json::Value>>,
    sent_at_ns: Vec<i32>,
}

impl<'a> HistoryColumns<'a> {
    pub(super) fn push(&mut self, h: &'a HistoryEntry) -> Result<(), StoreError> {
        let HistoryEntry {
            key,
            rule,
            client,
            items,
            sent_at,
            outcome,
        } = h;
        self.key.push(key.as_str());
        self.client.push(client.as_str());
        self.bucket.push(bucket(client));
        self.sent_at.push(*sent_at);
        self.sent_at_ns.push(beyond_micros(*sent_at)?);
        self.outcome.push(outcome.kind().to_string());
        self.rule.push(rule.as_ref().map(RuleId::as_str));
        self.items.push(serde_json::to_value(items).map_err(encode)?);
        self.outcome_doc.push(if outcome.is_sent() {
            None
        } else {
            Some(serde_json::to_value(outcome).map_err(encode)?)
        });
        Ok(())
    }

    pub(super) fn params(&self) -> [&(dyn ToSql + Sync); 9] {
        [
            &self.key,
            &self.client,
            &self.bucket,
            &self.sent_at,
            &self.outcome,
            &self.rule,
            &self.items,
            &self.outcome_doc,
            &self.sent_at_ns,
        ]
    }
}

/// The nanoseconds from `at` as a `timestamptz` holds it (whole microseconds from
/// 2000-01-01, toward that instant) to `at` itself.
fn beyond_micros(at: DateTime<Utc>) -> Result<i32, StoreError> {
    let base = DateTime::<Utc>::from_naive_utc_and_offset(
        NaiveDate::from_ymd_opt(2000, 1, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .ok_or_else(|| encode("the year 2000"))?,
        Utc,
    );
    let held = at
        .signed_duration_since(base)
        .num_microseconds()
        .and_then(|us| base.checked_add_signed(chrono::Duration::microseconds(us)))
        .ok_or_else(|| encode(format!("{at} is out of PostgreSQL's range")))?;
    at.signed_duration_since(held)
        .num_nanoseconds()
        .and_then(|ns| i32::try_from(ns).ok())
        .ok_or_else(|| encode(format!("{at}: nanoseconds beyond microseconds")))
}

/// The `unnest` of [`HistoryColumns::params`] from parameter `$first` on, as
/// `h(key, client, bucket, sent_at, outcome, rule, items, outcome_doc, n)`.
pub(super) fn unnest_history(first: usize) -> String {
    let types = [
        "text",
        "text",
        "bigint",
        "timestamptz",
        "text",
        "text",
        "jsonb",
        "jsonb",
        "int",
    ];
    let args: Vec<String> = types
        .iter()
        .enumerate()
        .map(|(i, t)| format!("${}::{t}[]", first + i))
        .collect();
    format!(
        "unnest({}) WITH ORDINALITY AS h(key, client, bucket, sent_at, outcome, rule, items, outcome_doc, sent_at_ns, n)",
        args.join(", ")
    )
}

/// The `history` columns [`unnest_history`] fills, in the partition of the client's bucket.
pub(super) const HISTORY_INSERT: &str = "INSERT INTO history (key, client, bucket, sent_at, outcome, rule, items, outcome_doc, \
    sent_at_ns, part) SELECT h.key, h.client, h.bucket, h.sent_at, h.outcome, h.rule, h.items, h.outcome_doc, h.sent_at_ns, \
    (h.bucket % 16)::smallint";

/// A `history` row ([`HISTORY_COLUMNS`]) as the entry it holds.
pub(super) fn history(row: &Row) -> Result<HistoryEntry, StoreError> {
    let get = |e: tokio_postgres::Error| bad("history entry", e);
    if let Some(Json(doc)) = row.try_get::<_, Option<Json<HistoryEntry>>>(0).map_err(get)? {
        return Ok(doc);
    }
    let key: &str = row.try_get(1).map_err(get)?;
    let rule: Option<&str> = row.try_get(2).map_err(get)?;
    let client: &str = row.try_get(3).map_err(get)?;
    let Json(items) = row.try_get(4).map_err(get)?;
    let outcome: Option<Json<HistoryOutcome>> = row.try_get(6).map_err(get)?;
    let micros: DateTime<Utc> = row.try_get(5).map_err(get)?;
    let ns: Option<i32> = row.try_get(7).map_err(get)?;
    let sent_at = micros
        .checked_add_signed(chrono::Duration::nanoseconds(ns.map_or(0, i64::from)))
        .ok_or_else(|| bad("history entry", format!("{micros} and {ns:?} ns")))?;
    Ok(HistoryEntry {
        key: EventKey::from(key),
        rule: rule
            .map(RuleId::new)
            .transpose()
            .map_err(|e| bad("history entry", e))?,
        client: ClientId::new(client).map_err(|e| bad("history entry", e))?,
        items,
        sent_at,
        outcome: outcome.map(|Json(o)| o).unwrap_or_default(),
    })
}
