-- Change history: one append-only row per change of a customer, written by triggers in the
-- transaction of the change, whoever made it (the service's statements, a bulk update,
-- an operator's SQL).
--
-- `xid` is the writing transaction's id, or the `xid` of the customer's previous event when
-- that is larger (see the triggers below). The feed serves an event only once every
-- transaction below its `xid` has ended (`xid < pg_snapshot_xmin(pg_current_snapshot())`)
-- and in (xid, id) order, so a consumer that keeps the last position it saw never misses
-- an event that commits late, and never sees one twice: an event that becomes visible
-- later belongs to a transaction at or above the bound, so its `xid` is too. A plain
-- sequence cannot promise that: ids are taken at insert and become visible at commit, in
-- another order.
CREATE TABLE customer_events (
    id              BIGINT GENERATED ALWAYS AS IDENTITY,
    xid             XID8        NOT NULL,
    customer_id     TEXT        NOT NULL,
    type            TEXT        NOT NULL,
    -- The customer's version after the change (the ETag); its last version for `deleted`.
    version         BIGINT      NOT NULL,
    occurred_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    actor           TEXT,
    request_id      TEXT,
    idempotency_key TEXT,
    -- The fields that changed, by name, with their values before and after (as
    -- `to_jsonb` shows them); NULL before a create and after a hard delete.
    before          JSONB,
    after           JSONB,
    CONSTRAINT customer_events_pkey PRIMARY KEY (xid, id),
    CONSTRAINT customer_events_sides_check CHECK (before IS NOT NULL OR after IS NOT NULL),
    CONSTRAINT customer_events_type_check CHECK (type IN (
        'created', 'updated', 'bulk_updated', 'email_verified', 'phone_verified',
        'logged_in', 'deactivated', 'deleted'))
);
-- A customer's timeline, newest first (per customer, id order is commit order: each
-- change holds the customer's row lock until it commits).
CREATE INDEX customer_events_customer_idx ON customer_events (customer_id, id);

-- The newest position the retention purge has removed: a feed cursor at or before it
-- may have missed events, so it is answered 410.
CREATE TABLE customer_events_purged (
    singleton BOOLEAN PRIMARY KEY DEFAULT true CHECK (singleton),
    xid       XID8   NOT NULL,
    id        BIGINT NOT NULL
);

-- The feed position of the customer's last change, kept on the row by the row trigger of
-- the versions migration (redefined here) and by the default for a new row. Added without
-- a default first (no table rewrite); rows loaded before have none, which counts as lower
-- than any.
ALTER TABLE customers ADD COLUMN event_xid XID8;
ALTER TABLE customers ALTER COLUMN event_xid SET DEFAULT pg_current_xact_id();

-- As the versions migration's, plus `event_xid`: the writing transaction's id, raised to
-- the position of the change before. Transaction ids are taken at a transaction's first
-- write, and a statement that writes several customers (a bulk update) can take its id
-- and then wait for another writer's lock on one of them; that writer's id is then larger,
-- though its change committed first (and is the row this one changes, so `OLD.event_xid`
-- is that writer's). Raised this way, one customer's events are in the feed in the order
-- they committed; the feed's promise holds all the same, since a position is never below
-- its transaction's own id.
CREATE OR REPLACE FUNCTION customers_set_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.version := OLD.version;
    NEW.event_xid := OLD.event_xid;
    NEW.search_text := OLD.search_text;
    IF NEW IS DISTINCT FROM OLD THEN
        NEW.updated_at := now();
        NEW.version := OLD.version + 1;
        NEW.event_xid := greatest(pg_current_xact_id(), OLD.event_xid);
    END IF;
    RETURN NEW;
END;
$$;

-- Who made the change, and which kind of change the statement is: set for the statement's
-- transaction by the function below, called from the statement itself (see the service's
-- writes), read by the triggers. Without it (an operator's SQL) the actor, request and key
-- are NULL and the type follows from the statement (`updated` for any update).
CREATE FUNCTION customer_events_attribute(context TEXT) RETURNS BOOLEAN
LANGUAGE sql VOLATILE PARALLEL UNSAFE AS $$
    SELECT set_config('customer_api.event', context, true) IS NOT NULL
$$;

-- An insert has no WHERE to attribute itself in: it calls this for the new customer's
-- version instead, which attributes the statement and returns 1.
CREATE FUNCTION customer_events_attribute_new(context TEXT) RETURNS BIGINT
LANGUAGE sql VOLATILE PARALLEL UNSAFE AS $$
    SELECT CASE WHEN customer_events_attribute(context) THEN 1::bigint END
$$;

-- Statement-level triggers with transition tables (shared with the counters'): one insert
-- per statement, however many rows it changed, COPY included. An update that changed
-- nothing keeps its version (the version trigger), and records nothing. Each is one
-- statement of PL/pgSQL, so its plan is kept for the session (a SQL function called per
-- row would be planned again on every call).
--
-- The position (`xid`) of an event is the row's `event_xid` (see above); a hard delete's,
-- the deleting transaction's id raised to it; a create's, raised to the last event of an
-- earlier customer that had the same id (deleted for good, maybe by a transaction with a
-- larger id that this insert waited for).
--
-- `before` and `after` hold the fields that changed, bookkeeping left out (`id`,
-- `version`, `updated_at` and `event_xid` are the event's own, `search_text` is derived):
-- for a create `after` is every field that is set, for a hard delete `before` every field
-- that was.
CREATE FUNCTION customer_events_on_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    context JSONB := nullif(current_setting('customer_api.event', true), '')::jsonb;
BEGIN
    INSERT INTO customer_events
        (xid, customer_id, type, version, actor, request_id, idempotency_key, before, after)
    SELECT greatest(pg_current_xact_id(), n.event_xid,
                    (SELECT e.xid FROM customer_events AS e
                     WHERE e.customer_id = n.customer_id ORDER BY e.id DESC LIMIT 1)),
           n.customer_id, 'created', n.version, context ->> 'actor',
           context ->> 'request_id', context ->> 'key', NULL,
           jsonb_strip_nulls(to_jsonb(n))
               - '{id,version,updated_at,search_text,event_xid}'::text[]
    FROM new_rows AS n
    ORDER BY n.id;
    RETURN NULL;
END;
$$;

CREATE FUNCTION customer_events_on_update() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    context JSONB := nullif(current_setting('customer_api.event', true), '')::jsonb;
BEGIN
    -- `OFFSET 0` keeps each row's JSON computed once: without it the planner would put
    -- `to_jsonb(o)` in place of `r.old_row` at each of its uses, for every field.
    INSERT INTO customer_events
        (xid, customer_id, type, version, actor, request_id, idempotency_key, before, after)
    SELECT greatest(pg_current_xact_id(), r.event_xid), r.customer_id,
           coalesce(context ->> 'type', 'updated'), r.version, context ->> 'actor',
           context ->> 'request_id', context ->> 'key', diff.before, diff.after
    FROM (
        SELECT n.id, n.customer_id, n.version, n.event_xid, to_jsonb(o) AS old_row,
               to_jsonb(n) - '{id,version,updated_at,search_text,event_xid}'::text[]
                   AS new_row
        FROM old_rows AS o
        JOIN new_rows AS n ON n.id = o.id
        WHERE n.version <> o.version
        OFFSET 0
    ) AS r
    CROSS JOIN LATERAL (
        SELECT jsonb_object_agg(field.key, r.old_row -> field.key) AS before,
               jsonb_object_agg(field.key, field.value) AS after
        FROM jsonb_each(r.new_row) AS field
        WHERE field.value IS DISTINCT FROM r.old_row -> field.key
    ) AS diff
    ORDER BY r.id;
    RETURN NULL;
END;
$$;

CREATE FUNCTION customer_events_on_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    context JSONB := nullif(current_setting('customer_api.event', true), '')::jsonb;
BEGIN
    INSERT INTO customer_events
        (xid, customer_id, type, version, actor, request_id, idempotency_key, before, after)
    SELECT greatest(pg_current_xact_id(), o.event_xid),
           o.customer_id, 'deleted', o.version, context ->> 'actor',
           context ->> 'request_id', context ->> 'key',
           jsonb_strip_nulls(to_jsonb(o))
               - '{id,version,updated_at,search_text,event_xid}'::text[],
           NULL
    FROM old_rows AS o
    ORDER BY o.id;
    RETURN NULL;
END;
$$;

CREATE TRIGGER customer_events_insert AFTER INSERT ON customers
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION customer_events_on_insert();
CREATE TRIGGER customer_events_update AFTER UPDATE ON customers
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION customer_events_on_update();
CREATE TRIGGER customer_events_delete AFTER DELETE ON customers
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION customer_events_on_delete();

