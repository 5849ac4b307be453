//! A row's columns, read the same way from a query's row (tokio-postgres's `Row`) and from
//! a tuple of PostgreSQL's binary `COPY ... TO STDOUT (FORMAT binary)` output, which a
//! shard's load reads (no row object, column list or type check made for each of its
//! hundreds of thousands of rows).
//!
//! The binary COPY format: an 11-byte signature, a flags word and a header extension; then
//! each tuple as its field count (`i16`) and each field as its length (`i32`, `-1` for
//! NULL) and bytes, in the type's binary form; then `-1` as a field count. Integers are big
//! endian, a `date` is days from 2000-01-01, a `timestamptz` microseconds from 2000-01-01
//! UTC, a `json` its text.

use chrono::{DateTime, NaiveDate, Utc};
use dunning::store::StoreError;
use serde::de::DeserializeOwned;
use tokio_postgres::Row;
use tokio_postgres::types::{FromSql, Json};

fn bad(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(format!("postgres: decoding a stored {what}: {e}"))
}

/// A row's columns by position, NULL as `None`. `what` names the record in errors.
pub(super) trait Columns {
    /// The record read ("item"), for errors.
    fn what(&self) -> &'static str;
    fn text(&self, i: usize) -> Result<Option<&str>, StoreError>;
    fn int8(&self, i: usize) -> Result<Option<i64>, StoreError>;
    fn int4(&self, i: usize) -> Result<Option<i32>, StoreError>;
    fn date(&self, i: usize) -> Result<Option<NaiveDate>, StoreError>;
    fn bool(&self, i: usize) -> Result<Option<bool>, StoreError>;
    fn timestamptz(&self, i: usize) -> Result<Option<DateTime<Utc>>, StoreError>;
    /// A `json` or `jsonb` column, decoded as `T`.
    fn json<T: DeserializeOwned>(&self, i: usize) -> Result<Option<T>, StoreError>;

    /// A column that must not be NULL.
    fn some<T>(&self, i: usize, v: Option<T>) -> Result<T, StoreError> {
        v.ok_or_else(|| bad(self.what(), format!("column {i} is NULL")))
    }
}

/// A query's row, read through tokio-postgres's own decoding.
pub(super) struct RowColumns<'a> {
    pub(super) row: &'a Row,
    pub(super) what: &'static str,
}

impl RowColumns<'_> {
    fn get<'b, T: FromSql<'b>>(&'b self, i: usize) -> Result<Option<T>, StoreError> {
        self.row.try_get(i).map_err(|e| bad(self.what, e))
    }
}

impl Columns for RowColumns<'_> {
    fn what(&self) -> &'static str {
        self.what
    }
    fn text(&self, i: usize) -> Result<Option<&str>, StoreError> {
        self.get(i)
    }
    fn int8(&self, i: usize) -> Result<Option<i64>, StoreError> {
        self.get(i)
    }
    fn int4(&self, i: usize) -> Result<Option<i32>, StoreError> {
        self.get(i)
    }
    fn date(&self, i: usize) -> Result<Option<NaiveDate>, StoreError> {
        self.get(i)
    }
    fn bool(&self, i: usize) -> Result<Option<bool>, StoreError> {
        self.get(i)
    }
    fn timestamptz(&self, i: usize) -> Result<Option<DateTime<Utc>>, StoreError> {
        self.get(i)
    }
    fn json<T: DeserializeOwned>(&self, i: usize) -> Result<Option<T>, StoreError> {
        Ok(self.get::<Json<T>>(i)?.map(|Json(v)| v))
    }
}

/// The most fields a tuple may have here (the widest read is an item's 18 columns).
const MAX_FIELDS: usize = 32;

/// One tuple of a binary COPY: its bytes and where each field lies in them.
pub(super) struct Tuple<'a> {
    bytes: &'a [u8],
    /// Each field's bytes as a range of `bytes`, `None` for NULL.
    fields: &'a [Option<std::ops::Range<usize>>],
    what: &'static str,
}

impl<'a> Tuple<'a> {
    fn field(&self, i: usize) -> Result<Option<&'a [u8]>, StoreError> {
        let range = self.fields.get(i).ok_or_else(|| {
            bad(
                self.what,
                format!("no column {i} in a row of {}", self.fields.len()),
            )
        })?;
        Ok(range.clone().map(|r| &self.bytes[r]))
    }

    fn fixed<const N: usize>(&self, i: usize, kind: &str) -> Result<Option<[u8; N]>, StoreError> {
        self.field(i)?
            .map(|b| {
                <[u8; N]>::try_from(b)
                    .map_err(|_| bad(self.what, format!("column {i}: {} bytes for a {kind}", b.len())))
            })
            .transpose()
    }
}

/// 2000-01-01, where PostgreSQL counts days from, as days from 0001-01-01 (day 1).
pub(super) const DAYS_TO_2000: i32 = 730_120;

/// 2000-01-01T00:00Z, where PostgreSQL counts microseconds from, as microseconds from
/// 1970-01-01T00:00Z.
const MICROS_TO_2000: i64 = 946_684_800_000_000;

impl Columns for Tuple<'_> {
    fn what(&self) -> &'static str {
        self.what
    }
    fn text(&self, i: usize) -> Result<Option<&str>, StoreError> {
        self.field(i)?
            .map(|b| std::str::from_utf8(b).map_err(|e| bad(self.what, format!("column {i}: {e}"))))
            .transpose()
    }
    fn int8(&self, i: usize) -> Result<Option<i64>, StoreError> {
        Ok(self.fixed(i, "bigint")?.map(i64::from_be_bytes))
    }
    fn int4(&self, i: usize) -> Result<Option<i32>, StoreError> {
        Ok(self.fixed(i, "integer")?.map(i32::from_be_bytes))
    }
    fn date(&self, i: usize) -> Result<Option<NaiveDate>, StoreError> {
        self.fixed(i, "date")?
            .map(|b| {
                let days = i32::from_be_bytes(b);
                days.checked_add(DAYS_TO_2000)
                    .and_then(NaiveDate::from_num_days_from_ce_opt)
                    .ok_or_else(|| bad(self.what, format!("column {i}: day {days} from 2000-01-01")))
            })
            .transpose()
    }
    fn bool(&self, i: usize) -> Result<Option<bool>, StoreError> {
        Ok(self.fixed::<1>(i, "boolean")?.map(|[b]| b != 0))
    }
    fn timestamptz(&self, i: usize) -> Result<Option<DateTime<Utc>>, StoreError> {
        self.fixed(i, "timestamptz")?
            .map(|b| {
                let micros = i64::from_be_bytes(b);
                micros
                    .checked_add(MICROS_TO_2000)
                    .and_then(DateTime::from_timestamp_micros)
                    .ok_or_else(|| bad(self.what, format!("column {i}: {micros} µs from 2000-01-01")))
            })
            .transpose()
    }
    fn json<T: DeserializeOwned>(&self, i: usize) -> Result<Option<T>, StoreError> {
        self.field(i)?
            .map(|b| serde_json::from_slice(b).map_err(|e| bad(self.what, format!("column {i}: {e}"))))
            .transpose()
    }
}

/// The binary COPY signature and the header's two words (flags, extension length) after it.
const SIGNATURE: &[u8] = b"PGCOPY\n\xff\r\n\0";

/// Reads a binary COPY's tuples from its chunks as they arrive, whatever their boundaries
/// (a tuple split across chunks waits for the rest).
pub(super) struct CopyReader {
    /// Bytes of an unfinished header or tuple, kept until the rest arrives.
    pending: Vec<u8>,
    /// Where the fields of the tuple read last lie (one list for all tuples).
    fields: Vec<Option<std::ops::Range<usize>>>,
    header_read: bool,
    ended: bool,
    what: &'static str,
    /// When set, each tuple's last field is a record of this many fields (see
    /// [`CopyReader::with_record`]).
    record: Option<usize>,
}

/// How a look at the bytes ahead ended.
enum Next {
    /// A whole tuple (its fields in `CopyReader::fields`), and the bytes it took.
    Tuple(usize),
    /// The trailer, and the bytes it took.
    End(usize),
    /// Not all there yet.
    More,
}

impl CopyReader {
    pub(super) fn new(what: &'static str) -> Self {
        Self {
            pending: Vec::new(),
            fields: Vec::with_capacity(MAX_FIELDS),
            header_read: false,
            ended: false,
            what,
            record: None,
        }
    }

    /// Reads each tuple's last field as a record of `fields` fields, framed as a tuple's
    /// are (each its length and bytes): they stand in its place, the tuple's fields from
    /// its position on.
    pub(super) fn with_record(mut self, fields: usize) -> Self {
        self.record = Some(fields);
        self
    }

    /// Reads the tuples that `chunk` completes, handing each to `each`.
    pub(super) fn feed(
        &mut self,
        chunk: &[u8],
        mut each: impl FnMut(&Tuple<'_>) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        if self.pending.is_empty() {
            let used = self.read(chunk, &mut each)?;
            self.pending.extend_from_slice(&chunk[used..]);
        } else {
            let mut bytes = std::mem::take(&mut self.pending);
            bytes.extend_from_slice(chunk);
            let used = self.read(&bytes, &mut each)?;
            bytes.drain(..used);
            self.pending = bytes;
        }
        Ok(())
    }

    /// Checks that the output ended where it should: after its trailer, with nothing left.
    pub(super) fn finish(&self) -> Result<(), StoreError> {
        if self.ended && self.pending.is_empty() {
            Ok(())
        } else {
            Err(bad(
                self.what,
                format!(
                    "a COPY output cut short ({} bytes left unread)",
                    self.pending.len()
                ),
            ))
        }
    }

    /// Reads what it can of `bytes`; the bytes used.
    fn read(
        &mut self,
        bytes: &[u8],
        each: &mut impl FnMut(&Tuple<'_>) -> Result<(), StoreError>,
    ) -> Result<usize, StoreError> {
        let mut at = 0;
        if !self.header_read {
            let Some(len) = self.header(bytes)? else {
                return Ok(0);
            };
            self.header_read = true;
            at = len;
        }
        loop {
            if self.ended {
                if at < bytes.len() {
                    return Err(bad(self.what, "bytes after a COPY output's trailer"));
                }
                return Ok(at);
            }
            match self.next(&bytes[at..])? {
                Next::Tuple(len) => {
                    each(&Tuple {
                        bytes: &bytes[at..at + len],
                        fields: &self.fields,
                        what: self.what,
                    })?;
                    at += len;
                }
                Next::End(len) => {
                    self.ended = true;
                    at += len;
                }
                Next::More => return Ok(at),
            }
        }
    }

    /// The header's length, once all of it is there.
    fn header(&self, bytes: &[u8]) -> Result<Option<usize>, StoreError> {
        let fixed = SIGNATURE.len() + 8;
        if bytes.len() < fixed {
            return Ok(None);
        }
        if &bytes[..SIGNATURE.len()] != SIGNATURE {
            return Err(bad(self.what, "a COPY output without the binary signature"));
        }
        let word = |at: usize| u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
        let flags = word(SIGNATURE.len());
        // Bit 16 says OIDs are included; bits 17-31 are critical and unknown.
        if flags & 0xffff_0000 != 0 {
            return Err(bad(self.what, format!("COPY header flags {flags:#x}")));
        }
        let extension = usize::try_from(word(SIGNATURE.len() + 4)).map_err(|e| bad(self.what, e))?;
        let len = fixed
            .checked_add(extension)
            .ok_or_else(|| bad(self.what, "a COPY header extension past memory"))?;
        Ok((bytes.len() >= len).then_some(len))
    }

    /// Looks at the next tuple or the trailer, noting a tuple's fields in `fields`.
    fn next(&mut self, bytes: &[u8]) -> Result<Next, StoreError> {
        let &[a, b, ..] = bytes else {
            return Ok(Next::More);
        };
        let count = i16::from_be_bytes([a, b]);
        if count == -1 {
            return Ok(Next::End(2));
        }
        let count = usize::try_from(count)
            .ok()
            .filter(|&c| c <= MAX_FIELDS)
            .ok_or_else(|| bad(self.what, format!("a COPY tuple of {count} fields")))?;
        self.fields.clear();
        let Some(end) = framed_fields(bytes, 2, count, &mut self.fields, self.what)? else {
            return Ok(Next::More);
        };
        if let Some(inner) = self.record {
            // The last field holds `inner` fields of its own, framed the same way: they
            // take its place.
            // A NULL record stands for as many NULL fields.
            let Some(record) = self.fields.pop().flatten() else {
                if self.fields.len() + inner > MAX_FIELDS {
                    return Err(bad(self.what, format!("a row of more than {MAX_FIELDS} fields")));
                }
                self.fields.extend(std::iter::repeat_n(None, inner));
                return Ok(Next::Tuple(end));
            };
            let inside = framed_fields(
                &bytes[..record.end],
                record.start,
                inner,
                &mut self.fields,
                self.what,
            )?;
            if inside != Some(record.end) {
                return Err(bad(
                    self.what,
                    format!("a record of {} bytes that is not {inner} fields", record.len()),
                ));
            }
        }
        Ok(Next::Tuple(end))
    }
}

/// Notes in `fields` where each of `count` fields framed from `at` on lies in `bytes` (each
/// its length, 4 bytes big endian, `-1` for NULL, then its bytes); where they end, or
/// `None` when `bytes` ends first.
fn framed_fields(
    bytes: &[u8],
    mut at: usize,
    count: usize,
    fields: &mut Vec<Option<std::ops::Range<usize>>>,
    what: &str,
) -> Result<Option<usize>, StoreError> {
    if fields.len() + count > MAX_FIELDS {
        return Err(bad(what, format!("a row of more than {MAX_FIELDS} fields")));
    }
    for _ in 0..count {
        let Some(&[l0, l1, l2, l3]) = bytes.get(at..at + 4) else {
            return Ok(None);
        };
        let len = i32::from_be_bytes([l0, l1, l2, l3]);
        at += 4;
        if len == -1 {
            fields.push(None);
            continue;
        }
        let len = usize::try_from(len).map_err(|_| bad(what, format!("a field of length {len}")))?;
        if bytes.len() - at < len {
            return Ok(None);
        }
        fields.push(Some(at..at + len));
        at += len;
    }
    Ok(Some(at))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A binary COPY output of `rows` (each field its bytes, or NULL).
    fn output(rows: &[Vec<Option<Vec<u8>>>]) -> Vec<u8> {
        let mut out = SIGNATURE.to_vec();
        out.extend(0u32.to_be_bytes());
        out.extend(0u32.to_be_bytes());
        for row in rows {
            out.extend(i16::try_from(row.len()).unwrap().to_be_bytes());
            for field in row {
                match field {
                    None => out.extend((-1i32).to_be_bytes()),
                    Some(b) => {
                        out.extend(i32::try_from(b.len()).unwrap().to_be_bytes());
                        out.extend(b);
                    }
                }
            }
        }
        out.extend((-1i16).to_be_bytes());
        out
    }

    /// Each tuple's fields as text (NULL as `None`), reading `bytes` in the chunks `cuts`
    /// makes.
    fn read(bytes: &[u8], cuts: &[usize]) -> Result<Vec<Vec<Option<String>>>, StoreError> {
        let mut reader = CopyReader::new("test row");
        let mut rows = Vec::new();
        let mut from = 0;
        for &cut in cuts.iter().chain([&bytes.len()]) {
            reader.feed(&bytes[from..cut], |t| {
                rows.push(
                    (0..t.fields.len())
                        .map(|i| t.text(i).map(|s| s.map(str::to_owned)))
                        .collect::<Result<_, _>>()?,
                );
                Ok(())
            })?;
            from = cut;
        }
        reader.finish()?;
        Ok(rows)
    }

    fn rows() -> Vec<Vec<Option<Vec<u8>>>> {
        vec![
            vec![
                Some(b"F-1".to_vec()),
                None,
                Some("ñandú \u{202e}".as_bytes().to_vec()),
            ],
            vec![],
            vec![Some(Vec::new()), Some(b"x".to_vec())],
        ]
    }

    /// Tuples come out whole wherever the chunks are cut: at every byte, and in two pieces
    /// at each point.
    #[test]
    fn tuples_are_read_whole_across_any_chunks() {
        let bytes = output(&rows());
        let want = read(&bytes, &[]).unwrap();
        assert_eq!(want.len(), 3);
        assert_eq!(want[0], [Some("F-1".into()), None, Some("ñandú \u{202e}".into())]);
        let every: Vec<usize> = (1..bytes.len()).collect();
        assert_eq!(read(&bytes, &every).unwrap(), want);
        for cut in 1..bytes.len() {
            assert_eq!(read(&bytes, &[cut]).unwrap(), want, "cut at {cut}");
        }
    }

    /// An output cut anywhere before its trailer is an error, not fewer rows; so are bytes
    /// after the trailer, a wrong signature, unknown critical flags, a negative length and
    /// too many fields.
    #[test]
    fn a_broken_output_is_an_error() {
        let bytes = output(&rows());
        for end in 0..bytes.len() {
            let err = read(&bytes[..end], &[]).unwrap_err();
            assert!(err.to_string().contains("cut short"), "{end}: {err}");
        }
        let mut after = bytes.clone();
        after.push(0);
        assert!(read(&after, &[]).unwrap_err().to_string().contains("after"));
        let mut signature = bytes.clone();
        signature[0] = b'X';
        assert!(
            read(&signature, &[])
                .unwrap_err()
                .to_string()
                .contains("signature")
        );
        let mut flags = bytes.clone();
        flags[SIGNATURE.len()] = 0x80;
        assert!(read(&flags, &[]).unwrap_err().to_string().contains("flags"));
        let header = SIGNATURE.len() + 8;
        let mut negative = bytes[..header].to_vec();
        negative.extend(1i16.to_be_bytes());
        negative.extend((-2i32).to_be_bytes());
        assert!(
            read(&negative, &[])
                .unwrap_err()
                .to_string()
                .contains("length -2")
        );
        let mut wide = bytes[..header].to_vec();
        wide.extend(i16::MAX.to_be_bytes());
        assert!(read(&wide, &[]).unwrap_err().to_string().contains("32767 fields"));
        // A header extension is skipped.
        let mut extended = bytes[..SIGNATURE.len() + 4].to_vec();
        extended.extend(3u32.to_be_bytes());
        extended.extend(b"abc");
        extended.extend(&bytes[header..]);
        assert_eq!(read(&extended, &[]).unwrap(), read(&bytes, &[]).unwrap());
    }

    /// Typed fields in PostgreSQL's binary forms, at the ends of their ranges: a date or
    /// instant chrono cannot hold (PostgreSQL's `infinity`) is an error naming it, never a
    /// wrong date; a field of the wrong width or bad UTF-8 is an error.
    #[test]
    fn typed_fields_decode_or_say_why_not() {
        let row = |fields: Vec<Option<Vec<u8>>>| {
            let bytes = output(&[fields]);
            let mut reader = CopyReader::new("test row");
            let mut seen = Vec::new();
            reader
                .feed(&bytes, |t| {
                    seen.push((
                        t.date(0).map_err(|e| e.to_string()),
                        t.timestamptz(1).map_err(|e| e.to_string()),
                        t.int8(2).map_err(|e| e.to_string()),
                        t.bool(3).map_err(|e| e.to_string()),
                        t.text(4).map(|s| s.map(str::to_owned)).map_err(|e| e.to_string()),
                    ));
                    Ok(())
                })
                .unwrap();
            seen.pop().unwrap()
        };
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        let (date, at, n, b, t) = row(vec![
            Some(0i32.to_be_bytes().to_vec()),
            Some(0i64.to_be_bytes().to_vec()),
            Some(i64::MIN.to_be_bytes().to_vec()),
            Some(vec![1]),
            None,
        ]);
        assert_eq!(date.unwrap(), Some(day(2000, 1, 1)));
        assert_eq!(
            at.unwrap(),
            Some(day(2000, 1, 1).and_hms_opt(0, 0, 0).unwrap().and_utc())
        );
        assert_eq!(
            (n.unwrap(), b.unwrap(), t.unwrap()),
            (Some(i64::MIN), Some(true), None)
        );
        let (date, at, ..) = row(vec![
            Some((-730_119i32).to_be_bytes().to_vec()),
            Some((-1i64).to_be_bytes().to_vec()),
            None,
            None,
            None,
        ]);
        assert_eq!(date.unwrap(), Some(day(1, 1, 1)));
        assert_eq!(
            at.unwrap()
                .unwrap()
                .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            "1999-12-31T23:59:59.999999Z"
        );
        let (date, at, n, b, t) = row(vec![
            Some(i32::MAX.to_be_bytes().to_vec()),
            Some(i64::MAX.to_be_bytes().to_vec()),
            Some(vec![0; 4]),
            Some(vec![]),
            Some(vec![0xff, 0xfe]),
        ]);
        assert!(date.unwrap_err().contains("day 2147483647"));
        assert!(at.unwrap_err().contains("9223372036854775807"));
        assert!(n.unwrap_err().contains("4 bytes for a bigint"));
        assert!(b.unwrap_err().contains("0 bytes for a boolean"));
        assert!(t.unwrap_err().contains("column 4"));
        let (date, ..) = row(vec![
            Some(i32::MIN.to_be_bytes().to_vec()),
            None,
            None,
            None,
            None,
        ]);
        assert!(date.unwrap_err().contains("day -2147483648"));
    }

    /// A tuple's last field read as a record of fields: they take its place (NULL ones for
    /// a NULL record); a record that holds fewer fields than said, or more bytes, is an
    /// error.
    #[test]
    fn a_record_field_is_read_in_place_of_its_fields() {
        let framed = |fields: &[Option<&[u8]>]| {
            let mut out = Vec::new();
            for f in fields {
                match f {
                    None => out.extend((-1i32).to_be_bytes()),
                    Some(b) => {
                        out.extend(i32::try_from(b.len()).unwrap().to_be_bytes());
                        out.extend(*b);
                    }
                }
            }
            out
        };
        let read = |record: Option<Vec<u8>>, fields: usize| {
            let bytes = output(&[vec![Some(b"doc".to_vec()), record]]);
            let mut reader = CopyReader::new("test row").with_record(fields);
            let mut rows = Vec::new();
            reader
                .feed(&bytes, |t| {
                    rows.push(
                        (0..t.fields.len())
                            .map(|i| t.text(i).map(|s| s.map(str::to_owned)))
                            .collect::<Result<Vec<_>, _>>()?,
                    );
                    Ok(())
                })
                .map(|()| rows)
                .map_err(|e| e.to_string())
        };
        let record = framed(&[Some(b"F-1"), None, Some(b"")]);
        assert_eq!(
            read(Some(record.clone()), 3).unwrap(),
            [vec![
                Some("doc".into()),
                Some("F-1".into()),
                None,
                Some(String::new())
            ]]
        );
        assert!(
            read(Some(record.clone()), 2)
                .unwrap_err()
                .contains("not 2 fields")
        );
        assert!(
            read(Some(record.clone()), 4)
                .unwrap_err()
                .contains("not 4 fields")
        );
        assert_eq!(
            read(None, 3).unwrap(),
            [vec![Some("doc".into()), None, None, None]],
            "a NULL record is NULL fields"
        );
        assert!(read(Some(record), 40).unwrap_err().contains("more than"));
    }
}
