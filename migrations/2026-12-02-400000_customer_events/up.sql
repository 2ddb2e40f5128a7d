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
    -- {field: [before, after]}: every field that changed, its values as `to_jsonb` shows
    -- them; for `created` every field set (before null), for `deleted` every field that was
    -- (after null).
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
-- statement of PL/pgSQL, so its plan is kept for the session.
--
-- The position (`xid`) of an event is the row's `event_xid` (see above); a hard delete's,
-- the deleting transaction's id raised to it; a create's, raised to the last event of an
-- earlier customer that had the same id (deleted for good, maybe by a transaction with a
-- larger id that this insert waited for).
--
-- `changes` compares the two rows column by column, with the columns' own types, and
-- turns only what differs into JSON (`jsonb_strip_nulls` drops the rest): converting whole
-- rows to JSON to compare them cost a third of an update's time in PostgreSQL. So the
-- functions name every column; `customer_events_install()` writes them from the catalog,
-- and a migration that adds, renames or drops a column of `customers` calls it again (a
-- repository test fails when a column is missing). Bookkeeping is left out: `id`,
-- `version`, `updated_at` and `event_xid` are the event's own, `search_text` is derived.
CREATE FUNCTION customer_events_install() RETURNS void
LANGUAGE plpgsql AS $install$
DECLARE
    -- `jsonb_build_object` takes at most 100 arguments: 40 fields a call, joined by `||`.
    updated TEXT;
    created TEXT;
    deleted TEXT;
    template TEXT;
BEGIN
    WITH fields AS (
        SELECT a.attname AS name, (row_number() OVER (ORDER BY a.attnum) - 1) / 40 AS chunk
        FROM pg_attribute AS a
        WHERE a.attrelid = 'customers'::regclass AND a.attnum > 0 AND NOT a.attisdropped
          AND a.attname NOT IN ('id', 'version', 'updated_at', 'event_xid', 'search_text')
    ), chunks AS (
        SELECT chunk,
               string_agg(format('%L, CASE WHEN n.%I IS DISTINCT FROM o.%I THEN '
                                 'jsonb_build_array(to_jsonb(o.%I), to_jsonb(n.%I)) END',
                                 name, name, name, name, name), ', ') AS updated,
               string_agg(format('%L, CASE WHEN n.%I IS NOT NULL THEN '
                                 'jsonb_build_array(NULL::jsonb, to_jsonb(n.%I)) END',
                                 name, name, name), ', ') AS created,
               string_agg(format('%L, CASE WHEN o.%I IS NOT NULL THEN '
                                 'jsonb_build_array(to_jsonb(o.%I), NULL::jsonb) END',
                                 name, name, name), ', ') AS deleted
        FROM fields
        GROUP BY chunk
    )
    SELECT string_agg(format('jsonb_build_object(%s)', c.updated), ' || ' ORDER BY chunk),
           string_agg(format('jsonb_build_object(%s)', c.created), ' || ' ORDER BY chunk),
           string_agg(format('jsonb_build_object(%s)', c.deleted), ' || ' ORDER BY chunk)
    INTO updated, created, deleted
    FROM chunks AS c;

    -- One trigger function per operation, from one template: the function's name, the
    -- event's position, the row the event is about (`n` the new one, `o` the old one), its
    -- type, its changes and where the rows come from.
    template := $template$
        CREATE OR REPLACE FUNCTION %1$I() RETURNS trigger
        LANGUAGE plpgsql AS $body$
        DECLARE
            context JSONB := nullif(current_setting('customer_api.event', true), '')::jsonb;
        BEGIN
            INSERT INTO customer_events
                (xid, customer_id, type, version, actor, request_id, idempotency_key, changes)
            SELECT %2$s, %3$s.customer_id, %4$s, %3$s.version, context ->> 'actor',
                   context ->> 'request_id', context ->> 'key', jsonb_strip_nulls(%5$s)
            %6$s
            ORDER BY %3$s.id;
            RETURN NULL;
        END;
        $body$;
    $template$;
    EXECUTE format(template, 'customer_events_on_insert',
        'greatest(pg_current_xact_id(), n.event_xid, (SELECT e.xid FROM customer_events AS e '
            'WHERE e.customer_id = n.customer_id ORDER BY e.id DESC LIMIT 1))',
        'n', '''created''', created, 'FROM new_rows AS n');
    EXECUTE format(template, 'customer_events_on_update',
        'greatest(pg_current_xact_id(), n.event_xid)',
        'n', 'coalesce(context ->> ''type'', ''updated'')', updated,
        'FROM old_rows AS o JOIN new_rows AS n ON n.id = o.id WHERE n.version <> o.version');
    EXECUTE format(template, 'customer_events_on_delete',
        'greatest(pg_current_xact_id(), o.event_xid)',
        'o', '''deleted''', deleted, 'FROM old_rows AS o');
END;
$install$;

SELECT customer_events_install();

CREATE TRIGGER customer_events_insert AFTER INSERT ON customers
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION customer_events_on_insert();
CREATE TRIGGER customer_events_update AFTER UPDATE ON customers
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION customer_events_on_update();
CREATE TRIGGER customer_events_delete AFTER DELETE ON customers
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION customer_events_on_delete();

