-- Safe writes: a version per customer (the ETag clients send back in If-Match) and the
-- replay records of requests that carried an Idempotency-Key.

-- A constant default adds the column without rewriting the table; every existing customer
-- starts at version 1, as a new one does.
ALTER TABLE customers ADD COLUMN version BIGINT NOT NULL DEFAULT 1
    CONSTRAINT customers_version_positive_check CHECK (version > 0);

-- The row trigger that kept `updated_at` now also counts versions, so every write path
-- (present and future, bulk and verification included) moves both, and only when the row
-- really changed: a verify of a verified email or a soft delete of an inactive customer
-- leaves the version and `updated_at` as they were. A statement that sets `version` itself
-- cannot move it backwards or skip: the trigger always writes the old version plus one.
-- The whole row is compared, so a column added later is covered without touching this;
-- `search_text` is generated after BEFORE triggers (NULL in NEW here), so it is set to the
-- old value for the comparison and computed afresh by PostgreSQL afterwards.
CREATE OR REPLACE FUNCTION customers_set_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.version := OLD.version;
    NEW.search_text := OLD.search_text;
    IF NEW IS DISTINCT FROM OLD THEN
        NEW.updated_at := now();
        NEW.version := OLD.version + 1;
    END IF;
    RETURN NEW;
END;
$$;

-- One row per (scope, key): the first answer to a request that carried the key, written in
-- the transaction of the change it made. `scope` is the caller, the method and the route
-- pattern; `fingerprint` the SHA-256 of the canonical request. Rows older than the retention
-- are ignored and purged in batches by the service (oldest first, through the index).
CREATE TABLE idempotency_records (
    scope         TEXT        NOT NULL,
    key           TEXT        NOT NULL,
    fingerprint   BYTEA       NOT NULL,
    status        SMALLINT    NOT NULL,
    header_names  TEXT[]      NOT NULL,
    header_values TEXT[]      NOT NULL,
    body          BYTEA       NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    CONSTRAINT idempotency_records_pkey PRIMARY KEY (scope, key),
    CONSTRAINT idempotency_records_key_length_check CHECK (char_length(key) BETWEEN 1 AND 255),
    CONSTRAINT idempotency_records_headers_check
        CHECK (cardinality(header_names) = cardinality(header_values))
);
CREATE INDEX idempotency_records_created_at_idx ON idempotency_records (created_at);
