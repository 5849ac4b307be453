-- The PostgreSQL store's schema, version 3: clients, items and history partitioned by
-- `part`, the client's bucket modulo 16 (`bucket % 16`), sixteen partitions each. A shard k
-- of n with n dividing 16 (1, 2, 4, 8, 16 workers) then reads only its partitions, n of 16,
-- instead of scanning every row of every table for its own (a shard of a quarter of 1M
-- invoices read all 1M rows, twice). Other counts still work, scanning every partition.
--
-- A partitioned table's keys must hold its partition key: they are (part, id) and
-- (part, seq). An item whose client changes to one of another part moves: the store deletes
-- it from its old part as it writes it to the new one. `item_ids` keeps each item id once
-- whatever its part: a write of items first upserts their ids there, in id order, so two
-- writers of one id take turns (the second then sees, and moves, what the first wrote).

-- Clients.
ALTER TABLE clients RENAME TO clients_v2;
ALTER TABLE clients_v2 RENAME CONSTRAINT clients_pkey TO clients_v2_pkey;
CREATE TABLE clients (
    id     TEXT NOT NULL,
    bucket BIGINT NOT NULL,
    doc    JSONB NOT NULL,
    part   SMALLINT NOT NULL,
    PRIMARY KEY (part, id)
) PARTITION BY LIST (part);

-- Items.
ALTER TABLE items RENAME TO items_v2;
ALTER TABLE items_v2 RENAME CONSTRAINT items_pkey TO items_v2_pkey;
ALTER INDEX items_client RENAME TO items_v2_client;
CREATE TABLE items (
    LIKE items_v2 INCLUDING DEFAULTS INCLUDING CONSTRAINTS,
    part SMALLINT NOT NULL,
    PRIMARY KEY (part, id)
) PARTITION BY LIST (part);

-- History: the entries keep their sequence numbers (the order things happened).
ALTER TABLE history RENAME TO history_v2;
ALTER TABLE history_v2 RENAME CONSTRAINT history_pkey TO history_v2_pkey;
ALTER INDEX history_client RENAME TO history_v2_client;
ALTER INDEX history_key RENAME TO history_v2_key;
ALTER SEQUENCE history_seq_seq OWNED BY NONE;
CREATE TABLE history (
    LIKE history_v2 INCLUDING DEFAULTS INCLUDING CONSTRAINTS,
    part SMALLINT NOT NULL,
    PRIMARY KEY (part, seq)
) PARTITION BY LIST (part);
ALTER SEQUENCE history_seq_seq OWNED BY history.seq;

DO $$
BEGIN
    FOR p IN 0..15 LOOP
        EXECUTE format('CREATE TABLE clients_%s PARTITION OF clients FOR VALUES IN (%s)', p, p);
        EXECUTE format('CREATE TABLE items_%s PARTITION OF items FOR VALUES IN (%s)', p, p);
        EXECUTE format('CREATE TABLE history_%s PARTITION OF history FOR VALUES IN (%s)', p, p);
    END LOOP;
END
$$;

INSERT INTO clients (id, bucket, doc, part) SELECT id, bucket, doc, (bucket % 16)::smallint FROM clients_v2;
INSERT INTO items SELECT *, (bucket % 16)::smallint FROM items_v2;
INSERT INTO history SELECT *, (bucket % 16)::smallint FROM history_v2;
DROP TABLE clients_v2;
DROP TABLE items_v2;
DROP TABLE history_v2;

CREATE INDEX items_client ON items (client);
CREATE INDEX history_client ON history (client, seq);
CREATE INDEX history_key ON history (key);
-- An item is found by id in every partition when it is written (to delete it from the part
-- it leaves, when its client changed).
CREATE INDEX items_id ON items (id);

-- Each item id once (see above).
CREATE TABLE item_ids (id TEXT PRIMARY KEY);
INSERT INTO item_ids SELECT id FROM items;
