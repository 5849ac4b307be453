-- The PostgreSQL store's schema, version 4, for a shard's load:
-- - clients in columns, not one document each (decoding a client's JSON document cost as
--   much as reading four items): a column a field, the lists and overrides as `json`;
-- - the documents and lists it reads (items' attachments, payments and pauses; history
--   entries' items and outcomes; clients' lists) are `json`, not `jsonb`. A `json` value is
--   its text, sent as it is; a `jsonb` value is printed again into text on every read,
--   which took two thirds of the server's time reading a shard's clients. The store never
--   queries inside them. The log and manual reminders, read a few rows at a time, stay
--   `jsonb`;
-- - each item's columns also in one value, `record` (below).

-- Clients: each document's fields (its top-level keys, each the field's own JSON) into their
-- columns. A missing key, or an empty list or default overrides written from now on, is
-- NULL.
ALTER TABLE clients
    ADD COLUMN name TEXT,
    ADD COLUMN time_zone TEXT,
    ADD COLUMN locale TEXT,
    ADD COLUMN contacts JSON,
    ADD COLUMN tags JSON,
    ADD COLUMN pauses JSON,
    ADD COLUMN overrides JSON;
UPDATE clients SET
    name = doc->>'name',
    time_zone = doc->>'time_zone',
    locale = doc->>'locale',
    contacts = (doc->'contacts')::json,
    tags = (doc->'tags')::json,
    pauses = (doc->'pauses')::json,
    overrides = (doc->'overrides')::json;
ALTER TABLE clients ALTER COLUMN name SET NOT NULL;
ALTER TABLE clients DROP COLUMN doc;

ALTER TABLE items
    ALTER COLUMN doc TYPE json USING doc::json,
    ALTER COLUMN attachments TYPE json USING attachments::json,
    ALTER COLUMN applied TYPE json USING applied::json,
    ALTER COLUMN pauses TYPE json USING pauses::json;

ALTER TABLE history
    ALTER COLUMN doc TYPE json USING doc::json,
    ALTER COLUMN items TYPE json USING items::json,
    ALTER COLUMN outcome_doc TYPE json USING outcome_doc::json;

-- Each item's columns in one value, `record`, which a shard's load reads instead of the
-- seventeen columns (PostgreSQL spent two thirds of a shard's item reading on sending
-- columns one by one). The store writes it with the columns, from the same item; the
-- columns stay what a person queries. Each column is framed as in a binary COPY: its
-- length (4 bytes, big endian; -1 for NULL) then its bytes in PostgreSQL's binary form
-- (text as UTF-8, a date as days from 2000-01-01, a bigint in 8 bytes, a boolean in one,
-- `json` as its text), in the order below. NULL for a row of version 1 (its `doc` holds the
-- item).
ALTER TABLE items ADD COLUMN record BYTEA;

-- The rows written before, framed here once. (A generated column would keep `record` by
-- itself, but text cannot be framed by an immutable expression that PostgreSQL inlines:
-- computed by these functions on every write, it made writing items half as fast again.)
CREATE FUNCTION pg_temp.framed(value bytea) RETURNS bytea
    LANGUAGE sql IMMUTABLE
    AS $$ SELECT CASE WHEN value IS NULL THEN '\xffffffff'::bytea ELSE int4send(octet_length(value)) || value END $$;
CREATE FUNCTION pg_temp.framed_text(value text) RETURNS bytea
    LANGUAGE sql STABLE
    AS $$ SELECT pg_temp.framed(convert_to(value, 'UTF8')) $$;
UPDATE items SET record =
    pg_temp.framed_text(id)
    || pg_temp.framed_text(client)
    || pg_temp.framed_text(kind)
    || pg_temp.framed_text(number)
    || pg_temp.framed(date_send(issued_on))
    || pg_temp.framed(date_send(sent_on))
    || pg_temp.framed(date_send(due_on))
    || pg_temp.framed(int8send(total_minor))
    || pg_temp.framed_text(currency)
    || pg_temp.framed_text(status)
    || pg_temp.framed(date_send(settled_on))
    || pg_temp.framed(boolsend(reminders))
    || pg_temp.framed(int8send(reminder_every_days))
    || pg_temp.framed(int8send(reminder_count))
    || pg_temp.framed_text(attachments::text)
    || pg_temp.framed_text(applied::text)
    || pg_temp.framed_text(pauses::text)
WHERE doc IS NULL;
ALTER TABLE items ADD CONSTRAINT items_doc_or_record CHECK (doc IS NOT NULL OR record IS NOT NULL);
