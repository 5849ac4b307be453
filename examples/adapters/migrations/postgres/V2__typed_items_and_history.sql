-- The PostgreSQL store's schema, version 2: items and history in typed columns, which a
-- shard's load reads without decoding JSON (a shard of 1M invoices loaded 7x slower than it
-- was planned from JSONB documents). Rows written before keep their document (`doc`) and
-- are read from it; rows written from now on have `doc` NULL and their columns filled.
-- Workers of the version before cannot read the new rows: stop them all before starting
-- workers of this version (the first to connect migrates).

ALTER TABLE items ALTER COLUMN doc DROP NOT NULL;
ALTER TABLE items
    ADD COLUMN kind TEXT,
    ADD COLUMN number TEXT,
    ADD COLUMN issued_on DATE,
    ADD COLUMN sent_on DATE,
    ADD COLUMN due_on DATE,
    -- The total in minor units of `currency` (ISO 4217 code); both NULL when none.
    ADD COLUMN total_minor BIGINT,
    ADD COLUMN currency TEXT,
    ADD COLUMN status TEXT,
    ADD COLUMN settled_on DATE,
    ADD COLUMN reminders BOOLEAN,
    ADD COLUMN reminder_every_days BIGINT,
    ADD COLUMN reminder_count BIGINT,
    -- Attachments, payments and pauses, rare, as JSONB arrays; NULL when none.
    ADD COLUMN attachments JSONB,
    ADD COLUMN applied JSONB,
    ADD COLUMN pauses JSONB,
    ADD CONSTRAINT items_doc_or_columns CHECK (
        doc IS NOT NULL OR (
            kind IS NOT NULL AND number IS NOT NULL AND issued_on IS NOT NULL
            AND status IS NOT NULL AND reminders IS NOT NULL
            AND (total_minor IS NULL) = (currency IS NULL)
        )
    );

ALTER TABLE history ALTER COLUMN doc DROP NOT NULL;
ALTER TABLE history
    ADD COLUMN rule TEXT,
    -- What `sent_at` (microseconds) cannot hold: the nanoseconds from it to the instant.
    ADD COLUMN sent_at_ns INTEGER,
    -- The items it covered (item and occurrence), a short JSONB array.
    ADD COLUMN items JSONB,
    -- How it ended, as JSONB; NULL for a send.
    ADD COLUMN outcome_doc JSONB,
    ADD CONSTRAINT history_doc_or_columns CHECK (doc IS NOT NULL OR items IS NOT NULL);
