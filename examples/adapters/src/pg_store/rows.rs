//! Items and history entries as the typed columns of the `items` and `history` tables
//! (schema version 2), written many rows a statement (one array a column, `unnest`ed) and
//! read back without decoding a JSON document. Rows written by version 1 keep their `doc`
//! and are read from it.
//!
//! Every field is a column, or a JSONB array for the rare lists: the struct literals below
//! name every field, so a field added to `Item` or `HistoryEntry` fails to compile here
//! instead of being lost.

use chrono::{DateTime, Datelike as _, NaiveDate, Utc};
use dunning::store::StoreError;
use dunning::{
    Client, ClientId, ClientOverrides, Currency, EventKey, HistoryEntry, HistoryOutcome, Item, ItemId, Money,
    RuleId, TimeZone,
};
use serde::Serialize;
use serde::de::{DeserializeOwned, IntoDeserializer};
use tokio_postgres::types::ToSql;

use super::bucket;
use super::columns::Columns;

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

fn count(what: &str, v: Option<i64>) -> Result<Option<u32>, StoreError> {
    v.map(|n| u32::try_from(n).map_err(|_| bad(what, format!("{n} is not a count"))))
        .transpose()
}

/// The columns `item` reads, in its order.
pub(super) const ITEM_COLUMNS: &str = "doc, id, client, kind, number, issued_on, sent_on, due_on, total_minor, \
    currency, status, settled_on, reminders, reminder_every_days, reminder_count, attachments, applied, pauses";

/// The columns `client` reads, in its order.
pub(super) const CLIENT_COLUMNS: &str = "id, name, time_zone, locale, contacts, tags, pauses, overrides";

/// Inserts or replaces clients from one array a column ([`ClientColumns::params`]), each in
/// the partition of its bucket.
pub(super) const UPSERT_CLIENTS: &str = "INSERT INTO clients (id, bucket, name, time_zone, locale, contacts, tags, \
        pauses, overrides, part) \
    SELECT c.*, (c.bucket % 16)::smallint FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], \
        $5::text[], $6::json[], $7::json[], $8::json[], $9::json[]) \
        AS c(id, bucket, name, time_zone, locale, contacts, tags, pauses, overrides) \
    ON CONFLICT (part, id) DO UPDATE SET bucket = EXCLUDED.bucket, name = EXCLUDED.name, \
        time_zone = EXCLUDED.time_zone, locale = EXCLUDED.locale, contacts = EXCLUDED.contacts, \
        tags = EXCLUDED.tags, pauses = EXCLUDED.pauses, overrides = EXCLUDED.overrides";

/// Clients as one array a column, for [`UPSERT_CLIENTS`].
#[derive(Default)]
pub(super) struct ClientColumns<'a> {
    id: Vec<&'a str>,
    bucket: Vec<i64>,
    name: Vec<&'a str>,
    time_zone: Vec<Option<&'static str>>,
    locale: Vec<Option<&'a str>>,
    contacts: Vec<Option<serde_json::Value>>,
    tags: Vec<Option<serde_json::Value>>,
    pauses: Vec<Option<serde_json::Value>>,
    overrides: Vec<Option<serde_json::Value>>,
}

impl<'a> ClientColumns<'a> {
    pub(super) fn new(clients: &'a [Client]) -> Result<Self, StoreError> {
        let mut c = Self::default();
        for client in clients {
            let Client {
                id,
                name,
                contacts,
                time_zone,
                locale,
                tags,
                pauses,
                overrides,
            } = client;
            c.id.push(id.as_str());
            c.bucket.push(bucket(id));
            c.name.push(name);
            c.time_zone.push(time_zone.map(|z| z.name()));
            c.locale.push(locale.as_deref());
            c.contacts.push(list(contacts)?);
            c.tags.push(if tags.is_empty() {
                None
            } else {
                Some(serde_json::to_value(tags).map_err(encode)?)
            });
            c.pauses.push(list(pauses)?);
            c.overrides.push(if *overrides == ClientOverrides::default() {
                None
            } else {
                Some(serde_json::to_value(overrides).map_err(encode)?)
            });
        }
        Ok(c)
    }

    pub(super) fn params(&self) -> [&(dyn ToSql + Sync); 9] {
        [
            &self.id,
            &self.bucket,
            &self.name,
            &self.time_zone,
            &self.locale,
            &self.contacts,
            &self.tags,
            &self.pauses,
            &self.overrides,
        ]
    }
}

/// A `clients` row ([`CLIENT_COLUMNS`]) as the client it holds.
pub(super) fn client(row: &impl Columns) -> Result<Client, StoreError> {
    let (id, name) = (row.text(0)?, row.text(1)?);
    let (id, name) = (row.some(0, id)?, row.some(1, name)?);
    Ok(Client {
        id: ClientId::new(id).map_err(|e| bad("client", e))?,
        name: name.to_owned(),
        time_zone: row
            .text(2)?
            .map(TimeZone::from_name)
            .transpose()
            .map_err(|e| bad("client", e))?,
        locale: row.text(3)?.map(str::to_owned),
        contacts: row.json(4)?.unwrap_or_default(),
        tags: row.json(5)?.unwrap_or_default(),
        pauses: row.json(6)?.unwrap_or_default(),
        overrides: row.json(7)?.unwrap_or_default(),
    })
}

/// How many of [`ITEM_COLUMNS`] an item's `record` holds: all but `doc`, in that order.
pub(super) const ITEM_RECORD_FIELDS: usize = 17;

/// Takes each item id of a write (`$1`) in `item_ids`, in id order, inserting the new ones:
/// its row lock makes writers of one id take turns until the first commits. Answers with
/// the ids that were there already (updated rows have an `xmax`): only those can have a
/// row in another partition.
pub(super) const LOCK_ITEM_IDS: &str = "INSERT INTO item_ids (id) SELECT id FROM unnest($1::text[]) AS n(id) \
    ORDER BY id ON CONFLICT (id) DO UPDATE SET id = EXCLUDED.id RETURNING id, xmax::text <> '0'";

/// Inserts or replaces items from one array a column (`ItemColumns::params`), each in the
/// partition of its client's bucket (`bucket % 16`); an item whose client is now of another
/// partition is deleted from the one it leaves, in the same statement (of the ids in `$20`,
/// those stored before).
pub(super) const UPSERT_ITEMS: &str = "WITH n AS (SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], \
        $4::text[], $5::text[], $6::date[], $7::date[], $8::date[], $9::bigint[], $10::text[], $11::text[], \
        $12::date[], $13::bool[], $14::bigint[], $15::bigint[], $16::json[], $17::json[], $18::json[], \
        $19::bytea[]) \
        AS n(id, client, bucket, kind, number, issued_on, sent_on, due_on, total_minor, currency, status, \
        settled_on, reminders, reminder_every_days, reminder_count, attachments, applied, pauses, record)), \
    moved AS (DELETE FROM items WHERE id = ANY($20::text[]) \
        AND (id, part) NOT IN (SELECT id, (bucket % 16)::smallint FROM n)) \
    INSERT INTO items (id, client, bucket, kind, number, issued_on, sent_on, due_on, total_minor, currency, \
        status, settled_on, reminders, reminder_every_days, reminder_count, attachments, applied, pauses, record, \
        part) \
    SELECT n.*, (n.bucket % 16)::smallint FROM n \
    ON CONFLICT (part, id) DO UPDATE SET client = EXCLUDED.client, bucket = EXCLUDED.bucket, doc = NULL, \
        kind = EXCLUDED.kind, number = EXCLUDED.number, issued_on = EXCLUDED.issued_on, \
        sent_on = EXCLUDED.sent_on, due_on = EXCLUDED.due_on, total_minor = EXCLUDED.total_minor, \
        currency = EXCLUDED.currency, status = EXCLUDED.status, settled_on = EXCLUDED.settled_on, \
        reminders = EXCLUDED.reminders, reminder_every_days = EXCLUDED.reminder_every_days, \
        reminder_count = EXCLUDED.reminder_count, attachments = EXCLUDED.attachments, \
        applied = EXCLUDED.applied, pauses = EXCLUDED.pauses, record = EXCLUDED.record";

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
    /// The columns above but `bucket`, framed in one value (see [`ITEM_RECORD_FIELDS`]).
    record: Vec<Vec<u8>>,
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
            c.record.push(c.last_record()?);
        }
        Ok(c)
    }

    /// The record of the item pushed last, from its columns.
    fn last_record(&self) -> Result<Vec<u8>, StoreError> {
        fn last<T>(v: &[T]) -> Result<&T, StoreError> {
            v.last()
                .ok_or_else(|| encode("an item's record before its columns"))
        }
        let mut r = Record::default();
        r.text(Some(last(&self.id)?))?;
        r.text(Some(last(&self.client)?))?;
        r.text(Some(last(&self.kind)?))?;
        r.text(Some(last(&self.number)?))?;
        r.date(Some(*last(&self.issued_on)?))?;
        r.date(*last(&self.sent_on)?)?;
        r.date(*last(&self.due_on)?)?;
        r.int8(*last(&self.total_minor)?)?;
        r.text(*last(&self.currency)?)?;
        r.text(Some(last(&self.status)?))?;
        r.date(*last(&self.settled_on)?)?;
        r.bool(*last(&self.reminders)?)?;
        r.int8(*last(&self.reminder_every_days)?)?;
        r.int8(*last(&self.reminder_count)?)?;
        r.json(last(&self.attachments)?.as_ref())?;
        r.json(last(&self.applied)?.as_ref())?;
        r.json(last(&self.pauses)?.as_ref())?;
        Ok(r.0)
    }

    pub(super) fn params(&self) -> [&(dyn ToSql + Sync); 19] {
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
            &self.record,
        ]
    }
}

/// Values framed one after another as a binary COPY frames a row's fields: each its length
/// (4 bytes, big endian; -1 for NULL) and its bytes in PostgreSQL's binary form.
#[derive(Default)]
struct Record(Vec<u8>);

impl Record {
    fn framed(&mut self, bytes: Option<&[u8]>) -> Result<(), StoreError> {
        match bytes {
            None => self.0.extend((-1i32).to_be_bytes()),
            Some(b) => {
                let len = i32::try_from(b.len())
                    .map_err(|_| encode(format!("a value of {} bytes, past a record's 2 GiB", b.len())))?;
                self.0.extend(len.to_be_bytes());
                self.0.extend(b);
            }
        }
        Ok(())
    }
    fn text(&mut self, v: Option<&str>) -> Result<(), StoreError> {
        self.framed(v.map(str::as_bytes))
    }
    /// Days from 2000-01-01.
    fn date(&mut self, v: Option<NaiveDate>) -> Result<(), StoreError> {
        let days = v.map(|d| (d.num_days_from_ce() - super::columns::DAYS_TO_2000).to_be_bytes());
        self.framed(days.as_ref().map(<[u8; 4]>::as_slice))
    }
    fn int8(&mut self, v: Option<i64>) -> Result<(), StoreError> {
        self.framed(v.map(i64::to_be_bytes).as_ref().map(<[u8; 8]>::as_slice))
    }
    fn bool(&mut self, v: bool) -> Result<(), StoreError> {
        self.framed(Some(&[u8::from(v)]))
    }
    fn json(&mut self, v: Option<&serde_json::Value>) -> Result<(), StoreError> {
        let text = v.map(serde_json::to_vec).transpose().map_err(encode)?;
        self.framed(text.as_deref())
    }
}

/// What reading many items looks up once: the currencies met, and the client id last read
/// (a client's items are mostly stored side by side; its id is then shared by them, not
/// made and checked again for each).
#[derive(Default)]
pub(super) struct ItemReader {
    currencies: Vec<(String, Currency)>,
    client: Option<ClientId>,
}

impl ItemReader {
    fn currency(&mut self, code: &str) -> Result<Currency, StoreError> {
        if let Some((_, c)) = self.currencies.iter().find(|(k, _)| k == code) {
            return Ok(*c);
        }
        let c = Currency::from_code(code).map_err(|e| bad("item", e))?;
        self.currencies.push((code.to_owned(), c));
        Ok(c)
    }

    fn client(&mut self, id: &str) -> Result<ClientId, StoreError> {
        match &self.client {
            Some(last) if last.as_str() == id => Ok(last.clone()),
            _ => {
                let made = ClientId::new(id).map_err(|e| bad("item", e))?;
                self.client = Some(made.clone());
                Ok(made)
            }
        }
    }
}

/// An `items` row ([`ITEM_COLUMNS`]) as the item it holds.
pub(super) fn item(row: &impl Columns, reader: &mut ItemReader) -> Result<Item, StoreError> {
    if let Some(doc) = row.json::<Item>(0)? {
        return Ok(doc);
    }
    let id = row.text(1)?;
    let id = row.some(1, id)?;
    let (client, kind, number) = (row.text(2)?, row.text(3)?, row.text(4)?);
    let (client, kind, number) = (row.some(2, client)?, row.some(3, kind)?, row.some(4, number)?);
    let status = row.text(10)?;
    let status = row.some(10, status)?;
    let total = match (row.int8(8)?, row.text(9)?) {
        (Some(minor), Some(code)) => Some(Money::from_minor(minor, reader.currency(code)?)),
        (None, None) => None,
        _ => return Err(bad("item", format!("{id}: a total without its currency"))),
    };
    Ok(Item {
        id: ItemId::new(id).map_err(|e| bad("item", e))?,
        client: reader.client(client)?,
        kind: from_name("item kind", kind)?,
        number: number.into(),
        issued_on: row.some(5, row.date(5)?)?,
        sent_on: row.date(6)?,
        due_on: row.date(7)?,
        total,
        applied: row.json(16)?.unwrap_or_default(),
        status: from_name("item status", status)?,
        settled_on: row.date(11)?,
        reminders: row.some(12, row.bool(12)?)?,
        reminder_every_days: count("item", row.int8(13)?)?,
        reminder_count: count("item", row.int8(14)?)?,
        attachments: row.json(15)?.unwrap_or_default(),
        pauses: row.json(17)?.unwrap_or_default(),
    })
}

/// The columns `history` reads, in its order.
pub(super) const HISTORY_COLUMNS: &str = "doc, key, rule, client, items, sent_at, outcome_doc, sent_at_ns";

/// The column after [`HISTORY_COLUMNS`] where a read adds `seq`.
pub(super) const HISTORY_SEQ: usize = 8;

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
        "json",
        "json",
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
pub(super) fn history(row: &impl Columns) -> Result<HistoryEntry, StoreError> {
    if let Some(doc) = row.json::<HistoryEntry>(0)? {
        return Ok(doc);
    }
    let (key, client) = (row.text(1)?, row.text(3)?);
    let (key, client) = (row.some(1, key)?, row.some(3, client)?);
    let micros = row.some(5, row.timestamptz(5)?)?;
    let ns = row.int4(7)?;
    let sent_at = micros
        .checked_add_signed(chrono::Duration::nanoseconds(ns.map_or(0, i64::from)))
        .ok_or_else(|| bad("history entry", format!("{micros} and {ns:?} ns")))?;
    Ok(HistoryEntry {
        key: EventKey::from(key),
        rule: row
            .text(2)?
            .map(RuleId::new)
            .transpose()
            .map_err(|e| bad("history entry", e))?,
        client: ClientId::new(client).map_err(|e| bad("history entry", e))?,
        items: row.some(4, row.json(4)?)?,
        sent_at,
        outcome: row.json::<HistoryOutcome>(6)?.unwrap_or_default(),
    })
}
