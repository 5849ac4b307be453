-- The PostgreSQL store's schema, version 1. Typed columns for what the store queries (ids,
-- buckets, states, instants), JSONB documents for the records it hands back whole.

-- `bucket` is the client id's 32-bit FNV-1a hash (Shard::bucket): shard k of n is
-- `bucket % n = k`.
CREATE TABLE clients (
    id     TEXT PRIMARY KEY,
    bucket BIGINT NOT NULL,
    doc    JSONB NOT NULL
);

CREATE TABLE items (
    id     TEXT PRIMARY KEY,
    client TEXT NOT NULL,
    bucket BIGINT NOT NULL,
    doc    JSONB NOT NULL
);
CREATE INDEX items_client ON items (client);

CREATE TABLE history (
    seq     BIGSERIAL PRIMARY KEY,
    key     TEXT NOT NULL,
    client  TEXT NOT NULL,
    bucket  BIGINT NOT NULL,
    sent_at TIMESTAMPTZ NOT NULL,
    outcome TEXT NOT NULL,
    doc     JSONB NOT NULL
);
CREATE INDEX history_client ON history (client, seq);
CREATE INDEX history_key ON history (key);

-- One row per event key: where its delivery stands. `not_before` NULL for a retry means at
-- once (a release).
CREATE TABLE deliveries (
    key        TEXT PRIMARY KEY,
    state      TEXT NOT NULL CHECK (state IN ('claimed', 'retrying', 'sent', 'failed', 'unknown', 'skipped')),
    attempt    INTEGER NOT NULL,
    at         TIMESTAMPTZ,
    not_before TIMESTAMPTZ,
    error      TEXT,
    message_id TEXT,
    reason     TEXT
);
-- Claims a crash may have abandoned: the claimed ones, by age.
CREATE INDEX deliveries_claimed ON deliveries (at) WHERE state = 'claimed';

CREATE TABLE log (
    seq    BIGSERIAL PRIMARY KEY,
    at     TIMESTAMPTZ NOT NULL,
    client TEXT NOT NULL,
    item   TEXT,
    key    TEXT,
    action TEXT NOT NULL,
    doc    JSONB NOT NULL
);
CREATE INDEX log_client ON log (client, seq);
CREATE INDEX log_item ON log (item, seq);
CREATE INDEX log_key ON log (key, seq);

CREATE TABLE reminders (
    id       TEXT PRIMARY KEY,
    client   TEXT NOT NULL,
    status   TEXT NOT NULL,
    archived BOOLEAN NOT NULL,
    doc      JSONB NOT NULL
);
