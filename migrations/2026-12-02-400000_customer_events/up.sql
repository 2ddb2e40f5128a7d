-- Change history: one append-only row per change of a customer, written by triggers in the
-- transaction of the change, whoever made it (the service's statements, a bulk update,
-- an operator's SQL).
--
-- `xid` is the writing transaction's id, or the `xid` of the customer's previous event when
-- that is larger (see `customer_events_xid`). The feed serves an event only once every
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
    -- {field: {"from": old, "to": new}}: every field that changed; for `created` the
    -- fields that are set, for `deleted` those that were.
    changes         JSONB       NOT NULL,
    CONSTRAINT customer_events_pkey PRIMARY KEY (xid, id),
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

-- Who made the change, and which kind of change the statement is: set for the statement's
-- transaction by the function below, called from the statement itself (see the service's
-- writes), read by the triggers. Without it (an operator's SQL) the actor, request and key
-- are NULL and the type follows from the statement (`updated` for any update).
CREATE FUNCTION customer_events_attribute(context TEXT) RETURNS BOOLEAN
LANGUAGE sql VOLATILE PARALLEL UNSAFE AS $$
    SELECT set_config('customer_api.event', context, true) IS NOT NULL
$$;

CREATE FUNCTION customer_events_context() RETURNS JSONB
LANGUAGE sql STABLE AS $$
    SELECT nullif(current_setting('customer_api.event', true), '')::jsonb
$$;

-- Every field whose value differs between the two rows, as {"from", "to"}; a missing row
-- counts as all NULL. Bookkeeping columns are left out: `id`, `version` and `updated_at`
-- are the event's own, `search_text` is derived.
CREATE FUNCTION customer_events_changes(old_row JSONB, new_row JSONB) RETURNS JSONB
LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(jsonb_object_agg(k, jsonb_build_object('from', o, 'to', n) ORDER BY k),
                    '{}'::jsonb)
    FROM (
        SELECT k, coalesce(old_row -> k, 'null') AS o, coalesce(new_row -> k, 'null') AS n
        FROM jsonb_object_keys(coalesce(new_row, old_row)) AS k
        WHERE k NOT IN ('id', 'version', 'updated_at', 'search_text')
    ) AS fields
    WHERE o IS DISTINCT FROM n
$$;

-- The feed position of a new event of `customer`: the writing transaction's id, raised to
-- that of the customer's previous event. Transaction ids are taken at a transaction's first
-- write, and a statement that writes several customers (a bulk update) can take its id and
-- then wait for another writer's lock on one of them; that writer's id is then larger,
-- though its change committed first. Raised this way, one customer's events are in the
-- feed in the order they committed (that writer committed before this statement got the
-- row, so its event is visible to this query, run after the statement). The feed's promise
-- holds all the same, since the position is never below the transaction's own id.
CREATE FUNCTION customer_events_xid(customer TEXT) RETURNS XID8
LANGUAGE sql VOLATILE AS $$
    SELECT greatest(pg_current_xact_id(),
                    (SELECT e.xid FROM customer_events AS e
                     WHERE e.customer_id = customer ORDER BY e.id DESC LIMIT 1))
$$;

-- Statement-level triggers with transition tables (shared with the counters'): one insert
-- per statement, however many rows it changed, COPY included. An update that changed
-- nothing keeps its version (the version trigger), and records nothing.
CREATE FUNCTION customer_events_on_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    context JSONB := customer_events_context();
BEGIN
    INSERT INTO customer_events
        (xid, customer_id, type, version, actor, request_id, idempotency_key, changes)
    SELECT customer_events_xid(n.customer_id), n.customer_id, 'created', n.version, context ->> 'actor',
           context ->> 'request_id', context ->> 'key',
           customer_events_changes(NULL, to_jsonb(n))
    FROM new_rows AS n
    ORDER BY n.id;
    RETURN NULL;
END;
$$;

CREATE FUNCTION customer_events_on_update() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    context JSONB := customer_events_context();
BEGIN
    INSERT INTO customer_events
        (xid, customer_id, type, version, actor, request_id, idempotency_key, changes)
    SELECT customer_events_xid(n.customer_id), n.customer_id,
           coalesce(context ->> 'type', 'updated'), n.version,
           context ->> 'actor', context ->> 'request_id', context ->> 'key',
           customer_events_changes(to_jsonb(o), to_jsonb(n))
    FROM old_rows AS o JOIN new_rows AS n ON n.id = o.id
    WHERE n.version <> o.version
    ORDER BY n.id;
    RETURN NULL;
END;
$$;

CREATE FUNCTION customer_events_on_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    context JSONB := customer_events_context();
BEGIN
    INSERT INTO customer_events
        (xid, customer_id, type, version, actor, request_id, idempotency_key, changes)
    SELECT customer_events_xid(o.customer_id), o.customer_id, 'deleted', o.version, context ->> 'actor',
           context ->> 'request_id', context ->> 'key',
           customer_events_changes(to_jsonb(o), NULL)
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

-- An insert has no WHERE to attribute itself in: it calls this for the new customer's
-- version instead, which attributes the statement and returns 1.
CREATE FUNCTION customer_events_attribute_new(context TEXT) RETURNS BIGINT
LANGUAGE sql VOLATILE PARALLEL UNSAFE AS $$
    SELECT CASE WHEN customer_events_attribute(context) THEN 1::bigint END
$$;
