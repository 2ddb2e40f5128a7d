-- The distributed layout on a Citus coordinator: `customer-api migrate` runs this once, in one
-- transaction, after the migrations, when the database has the `citus` extension (or
-- `[database] distributed = true` asks for it) and `customers` is not distributed yet. The
-- migrations before it build the single-node schema; this turns it into the layout
-- docs/scale-out.md ("Running on Citus") describes, keeping every name the service uses.

-- Triggers on distributed tables run on the shards; Citus accepts them with this setting.
SET LOCAL citus.enable_unsafe_triggers = on;
-- DDL and the moves below in one transaction: over one connection per worker.
SET LOCAL citus.multi_shard_modify_mode = 'sequential';

-- customers: distributed by customer_id. A unique constraint must contain it, so username and
-- email uniqueness move to the lookup tables below; `id` stays unique, issued by one sequence.
DROP TRIGGER customer_counts_insert ON customers;
DROP TRIGGER customer_counts_update ON customers;
DROP TRIGGER customer_counts_delete ON customers;
DROP TRIGGER customer_counts_truncate ON customers;
DROP TRIGGER customer_events_insert ON customers;
DROP TRIGGER customer_events_update ON customers;
DROP TRIGGER customer_events_delete ON customers;
ALTER TABLE customers DROP CONSTRAINT customers_pkey;
ALTER TABLE customers DROP CONSTRAINT customers_username_key;
DROP INDEX customers_email_lower_key;
CREATE INDEX customers_id_idx ON customers (id);
CREATE INDEX customers_username_idx ON customers (username);
CREATE INDEX customers_email_lower_idx ON customers (lower(email));
-- A default is evaluated on the coordinator; the feed position is the worker's transaction
-- id, set by the shard's insert trigger below.
ALTER TABLE customers ALTER COLUMN event_xid DROP DEFAULT;

-- The lookup tables: one row per live customer, each distributed by its own key, written in
-- the transaction of the customer's create (two-phase across workers), so two creates of one
-- address meet at one shard of `customer_emails` and the second fails on its primary key.
-- A tombstone has none: its username and email are its customer id, which no valid value is.
CREATE TABLE customer_emails (
    email_key   TEXT        NOT NULL,
    customer_id VARCHAR(50) NOT NULL,
    CONSTRAINT customer_emails_pkey PRIMARY KEY (email_key)
);
CREATE TABLE customer_usernames (
    username    VARCHAR(50) NOT NULL,
    customer_id VARCHAR(50) NOT NULL,
    CONSTRAINT customer_usernames_pkey PRIMARY KEY (username)
);
INSERT INTO customer_emails SELECT lower(email), customer_id FROM customers WHERE erased_at IS NULL;
INSERT INTO customer_usernames SELECT username, customer_id FROM customers WHERE erased_at IS NULL;

-- The history, co-located with its customer: a customer's events are on its shard, and the
-- triggers write them there in the worker's own transaction. Citus co-locates only columns
-- of one type.
ALTER TABLE customer_events ALTER COLUMN customer_id TYPE VARCHAR(50);
ALTER TABLE customer_events DROP CONSTRAINT customer_events_pkey;
ALTER TABLE customer_events ADD CONSTRAINT customer_events_pkey PRIMARY KEY (customer_id, xid, id);
CREATE INDEX customer_events_position_idx ON customer_events (xid, id);

-- The change feed: each worker has transaction ids of its own, so the coordinator keeps the
-- feed's order. A relay (the service's, before each read of the feed) marks the committed
-- events `relayed` and appends them to `customer_feed`, a coordinator table, in one
-- transaction; positions are the coordinator's (`xid`, `id`), served as on one node
-- (crates/infra-postgres/src/repository/relay.rs). `customer_events_purged` holds the
-- newest position of this log that retention removed.
ALTER TABLE customer_events ADD COLUMN relayed BOOLEAN NOT NULL DEFAULT false;
CREATE INDEX customer_events_unrelayed_idx ON customer_events (xid, id) WHERE NOT relayed;
UPDATE customer_events SET relayed = true;
CREATE TABLE customer_feed (
    xid         XID8        NOT NULL DEFAULT pg_current_xact_id(),
    id          BIGINT      GENERATED ALWAYS AS IDENTITY,
    customer_id VARCHAR(50) NOT NULL,
    event_id    BIGINT      NOT NULL,
    type        TEXT        NOT NULL,
    occurred_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT customer_feed_pkey PRIMARY KEY (xid, id)
);
-- The events recorded before, in their order, under the positions they had.
INSERT INTO customer_feed (xid, id, customer_id, event_id, type, occurred_at)
OVERRIDING SYSTEM VALUE
SELECT xid, id, customer_id, id, type, occurred_at FROM customer_events;
SELECT setval(pg_get_serial_sequence('customer_feed', 'id'),
              greatest((SELECT max(id) FROM customer_feed), 1));

-- The aggregates, one set per shard of customers: a write's counts are kept by the shard's
-- trigger next to its rows, in the worker's transaction (no two-phase commit, no row lock
-- shared across shards). Each shard's rows carry a key that hashes into that shard
-- (`customer_count_shards`); readers sum over every shard.
TRUNCATE customer_counts;
DROP INDEX customer_counts_key;
ALTER TABLE customer_counts ADD COLUMN shard_key VARCHAR(50) NOT NULL;
CREATE UNIQUE INDEX customer_counts_key
    ON customer_counts (shard_key, kind, value, country, slot) NULLS NOT DISTINCT;

SELECT create_distributed_table('customers', 'customer_id');
SELECT create_distributed_table('customer_events', 'customer_id', colocate_with => 'customers');
SELECT create_distributed_table('customer_counts', 'shard_key', colocate_with => 'customers');
SELECT create_distributed_table('customer_emails', 'email_key', colocate_with => 'none');
SELECT create_distributed_table('customer_usernames', 'username', colocate_with => 'none');
-- idempotency_records and customer_events_purged stay on the coordinator: written in the
-- same (two-phase) transaction as the workers' rows.

-- For each shard of customers, a key of customer_counts that lands in it.
CREATE TABLE customer_count_shards (
    shardid   BIGINT      NOT NULL PRIMARY KEY,
    shard_key VARCHAR(50) NOT NULL
);
SELECT create_reference_table('customer_count_shards');
INSERT INTO customer_count_shards
SELECT s.shardid,
       (SELECT 'shard-' || n FROM generate_series(1, 1000000) AS n
        WHERE get_shard_id_for_distribution_column('customers', 'shard-' || n) = s.shardid
        LIMIT 1)
FROM pg_dist_shard AS s
WHERE s.logicalrelid = 'customers'::regclass;

CREATE FUNCTION customer_count_key(customer_id VARCHAR) RETURNS VARCHAR
LANGUAGE sql STABLE AS $$
    SELECT s.shard_key FROM customer_count_shards AS s
    WHERE s.shardid = get_shard_id_for_distribution_column('customers', customer_id)
$$;

-- Adds one group's change to a random slot of the shard's counts.
CREATE FUNCTION customer_counts_put(shard TEXT, slot SMALLINT, kind TEXT, value TEXT,
                                    country TEXT, customers BIGINT, active BIGINT,
                                    verified BIGINT, born BIGINT, born_sum NUMERIC)
RETURNS void LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
    INSERT INTO customer_counts AS t
        (shard_key, kind, value, country, slot, customers, active, verified, born, born_sum)
    VALUES (shard, kind, value, country, slot, customers, active, verified, born, born_sum)
    ON CONFLICT (shard_key, kind, value, country, slot) DO UPDATE SET
        customers = t.customers + excluded.customers,
        active = t.active + excluded.active,
        verified = t.verified + excluded.verified,
        born = t.born + excluded.born,
        born_sum = t.born_sum + excluded.born_sum;
END;
$$;

-- The counts triggers' function as on one node, adding to the shard's own counts: the
-- single-node trigger functions (created again below, so that the workers have them) pass it
-- the statement's rows, which it sums per group (a verification or a login moves none) and
-- adds to a random slot under the shard's key, group by group in key order.
-- Replaces customer_counts_add of migration 2026-12-02-100000_customer_counts.
CREATE OR REPLACE FUNCTION customer_counts_add(removed customers[], added customers[])
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    shard TEXT;
    slot SMALLINT := floor(random() * 16);
    g RECORD;
BEGIN
    FOR g IN
        SELECT min((ch.c).customer_id) AS any_id, p.kind, p.value, p.country,
               sum(ch.sign * p.customers)::bigint AS customers,
               sum(ch.sign * p.active)::bigint AS active,
               sum(ch.sign * p.verified)::bigint AS verified,
               sum(ch.sign * p.born)::bigint AS born, sum(ch.sign * p.born_sum) AS born_sum
        FROM (SELECT -1 AS sign, r AS c FROM unnest(removed) AS r
              UNION ALL
              SELECT 1, a FROM unnest(added) AS a) AS ch,
             customer_count_parts_of((ch.c).country, (ch.c).city, (ch.c).state, (ch.c).gender,
                                     (ch.c).created_at, (ch.c).is_active, (ch.c).is_verified,
                                     (ch.c).date_of_birth, (ch.c).erased_at) AS p
        GROUP BY p.kind, p.value, p.country
        HAVING sum(ch.sign * p.customers) <> 0 OR sum(ch.sign * p.active) <> 0
            OR sum(ch.sign * p.verified) <> 0 OR sum(ch.sign * p.born) <> 0
            OR sum(ch.sign * p.born_sum) <> 0
        ORDER BY p.kind, p.value, p.country
    LOOP
        shard := coalesce(shard, customer_count_key(g.any_id));
        PERFORM customer_counts_put(shard, slot, g.kind, g.value, g.country, g.customers,
                                    g.active, g.verified, g.born, g.born_sum);
    END LOOP;
END;
$$;

DO $$
BEGIN
    EXECUTE pg_get_functiondef('customer_counts_on_insert()'::regprocedure);
    EXECUTE pg_get_functiondef('customer_counts_on_update()'::regprocedure);
    EXECUTE pg_get_functiondef('customer_counts_on_delete()'::regprocedure);
END;
$$;

-- The feed position of a new customer: the worker's transaction id (the column default would
-- be the coordinator's).
CREATE FUNCTION customers_set_event_xid() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.event_xid := pg_current_xact_id();
    RETURN NEW;
END;
$$;

-- The history's triggers as loops: on a shard, one single-row insert per changed customer,
-- which names its customer_id and so lands in the co-located shard of customer_events on the
-- same worker, in the same transaction (an INSERT .. SELECT from a transition table is not
-- supported there). Generated from the catalog as the single-node ones are.
-- Replaces customer_events_install of migration 2026-12-02-400000_customer_events.
CREATE OR REPLACE FUNCTION customer_events_install() RETURNS void
LANGUAGE plpgsql AS $install$
DECLARE
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

    -- The function's name, the loop's query, what each row skips or looks up first, the
    -- event's position, the row it is about, its type and its changes.
    template := $template$
        CREATE OR REPLACE FUNCTION %1$I() RETURNS trigger
        LANGUAGE plpgsql AS $body$
        DECLARE
            context JSONB := nullif(current_setting('customer_api.event', true), '')::jsonb;
            n RECORD;
            o RECORD;
            earlier XID8;
        BEGIN
            FOR %2$s LOOP
                %3$s
                INSERT INTO customer_events
                    (xid, customer_id, type, version, actor, request_id, idempotency_key, changes)
                VALUES (%4$s, %5$s.customer_id, %6$s, %5$s.version, context ->> 'actor',
                        context ->> 'request_id', context ->> 'key', jsonb_strip_nulls(%7$s));
            END LOOP;
            RETURN NULL;
        END;
        $body$;
    $template$;
    EXECUTE format(template, 'customer_events_on_insert',
        'n IN SELECT * FROM new_rows ORDER BY id',
        'SELECT e.xid INTO earlier FROM customer_events AS e '
            'WHERE e.customer_id = n.customer_id ORDER BY e.id DESC LIMIT 1;',
        'greatest(pg_current_xact_id(), n.event_xid, earlier)',
        'n', '''created''', created);
    EXECUTE format(template, 'customer_events_on_update',
        'n IN SELECT * FROM new_rows ORDER BY id',
        'SELECT * INTO o FROM old_rows WHERE id = n.id; CONTINUE WHEN n.version = o.version;',
        'greatest(pg_current_xact_id(), n.event_xid)',
        'n', 'coalesce(context ->> ''type'', ''updated'')', updated);
    EXECUTE format(template, 'customer_events_on_delete',
        'o IN SELECT * FROM old_rows ORDER BY id', '',
        'greatest(pg_current_xact_id(), o.event_xid)',
        'o', '''deleted''', deleted);
END;
$install$;

SELECT customer_events_install();

-- The row triggers' function (updated_at, version, event_xid, tombstones) is created again so
-- that the workers have it; its body is the single-node one.
DO $$
BEGIN
    EXECUTE pg_get_functiondef('customers_set_updated_at()'::regprocedure);
END;
$$;

CREATE TRIGGER customers_set_event_xid BEFORE INSERT ON customers
    FOR EACH ROW EXECUTE FUNCTION customers_set_event_xid();
CREATE TRIGGER customer_counts_insert AFTER INSERT ON customers
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION customer_counts_on_insert();
CREATE TRIGGER customer_counts_update AFTER UPDATE ON customers
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION customer_counts_on_update();
CREATE TRIGGER customer_counts_delete AFTER DELETE ON customers
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION customer_counts_on_delete();
CREATE TRIGGER customer_events_insert AFTER INSERT ON customers
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION customer_events_on_insert();
CREATE TRIGGER customer_events_update AFTER UPDATE ON customers
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION customer_events_on_update();
CREATE TRIGGER customer_events_delete AFTER DELETE ON customers
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION customer_events_on_delete();

-- Attribution: a function in the WHERE of a distributed UPDATE must not be VOLATILE, and
-- one called there would run on the coordinator, not where the triggers read it. On Citus
-- the service sets `customer_api.event` with SET LOCAL in the write's transaction instead
-- (propagated to the workers), and these only keep the statements' shape.
-- Replaces customer_events_attribute of migration 2026-12-02-400000_customer_events.
CREATE OR REPLACE FUNCTION customer_events_attribute(context TEXT) RETURNS BOOLEAN
LANGUAGE sql IMMUTABLE AS $$ SELECT true $$;
-- Replaces customer_events_attribute_new of migration 2026-12-02-400000_customer_events.
CREATE OR REPLACE FUNCTION customer_events_attribute_new(context TEXT) RETURNS BIGINT
LANGUAGE sql IMMUTABLE AS $$ SELECT 1::bigint $$;

-- The counts recomputed from the customers, per shard, compacted into slot 0 (as the
-- single-node function; writers wait meanwhile).
-- Replaces customer_counts_rebuild of migration 2026-12-02-100000_customer_counts.
CREATE OR REPLACE FUNCTION customer_counts_rebuild() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    LOCK TABLE customers IN SHARE MODE;
    DELETE FROM customer_counts;
    INSERT INTO customer_counts
        (shard_key, kind, value, country, slot, customers, active, verified, born, born_sum)
    SELECT s.shard_key, p.kind, p.value, p.country, 0, sum(p.customers), sum(p.active),
           sum(p.verified), sum(p.born), sum(p.born_sum)
    FROM (SELECT get_shard_id_for_distribution_column('customers', c.customer_id) AS shardid,
                 p.*
          FROM customers AS c,
               customer_count_parts_of(c.country, c.city, c.state, c.gender, c.created_at,
                                       c.is_active, c.is_verified, c.date_of_birth,
                                       c.erased_at) AS p) AS p
    JOIN customer_count_shards AS s ON s.shardid = p.shardid
    GROUP BY s.shard_key, p.kind, p.value, p.country;
END;
$$;

-- Folding slots: each shard on its own worker, as the single-node function does for the
-- whole table.
-- Replaces customer_counts_compact of migration 2026-12-02-100000_customer_counts.
CREATE OR REPLACE FUNCTION customer_counts_compact() RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    folded BIGINT := 0;
    shard RECORD;
BEGIN
    FOR shard IN
        SELECT result FROM run_command_on_shards('customer_counts', $cmd$
            WITH locked AS (
                SELECT ctid FROM %1$s WHERE slot <> 0
                ORDER BY shard_key, kind, value, country, slot FOR UPDATE
            ), moved AS (
                DELETE FROM %1$s WHERE ctid IN (SELECT ctid FROM locked)
                RETURNING shard_key, kind, value, country, customers, active, verified, born,
                          born_sum
            ), folded AS (
                INSERT INTO %1$s AS t
                    (shard_key, kind, value, country, slot, customers, active, verified, born,
                     born_sum)
                SELECT shard_key, kind, value, country, 0, sum(customers), sum(active),
                       sum(verified), sum(born), sum(born_sum)
                FROM moved
                GROUP BY shard_key, kind, value, country
                ORDER BY shard_key, kind, value, country
                ON CONFLICT (shard_key, kind, value, country, slot) DO UPDATE SET
                    customers = t.customers + excluded.customers,
                    active = t.active + excluded.active,
                    verified = t.verified + excluded.verified,
                    born = t.born + excluded.born,
                    born_sum = t.born_sum + excluded.born_sum
            )
            SELECT count(*) FROM moved
        $cmd$)
    LOOP
        folded := folded + coalesce(shard.result::bigint, 0);
    END LOOP;
    RETURN folded;
END;
$$;

-- As the single-node function: the place groups named `places` that add up to nothing go,
-- from every shard's counts.
-- Replaces customer_counts_forget of migration 2026-12-02-500000_erasure.
CREATE OR REPLACE FUNCTION customer_counts_forget(places TEXT[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM customer_counts AS t
    WHERE t.kind IN ('city', 'state', 'country') AND t.value = ANY(places)
      AND (t.shard_key, t.kind, t.value, coalesce(t.country, '')) IN (
          SELECT g.shard_key, g.kind, g.value, coalesce(g.country, '')
          FROM customer_counts AS g
          WHERE g.kind IN ('city', 'state', 'country') AND g.value = ANY(places)
          GROUP BY g.shard_key, g.kind, g.value, g.country
          HAVING sum(g.customers) = 0 AND sum(g.active) = 0 AND sum(g.verified) = 0
             AND sum(g.born) = 0 AND sum(g.born_sum) = 0);
END;
$$;

-- As the single-node function, with the attribution set by the caller (SET LOCAL) and the
-- lookup rows freed: the tombstone holds no username or email of a person.
-- Replaces customer_erase of migration 2026-12-02-500000_erasure.
CREATE OR REPLACE FUNCTION customer_erase(target TEXT, reason TEXT, context TEXT)
RETURNS SETOF customers
LANGUAGE plpgsql AS $$
DECLARE
    held customers;
    places TEXT[];
BEGIN
    SELECT * INTO held FROM customers AS c WHERE c.customer_id = target FOR UPDATE;
    IF FOUND AND held.erased_at IS NULL THEN
        UPDATE customers AS c SET
            username = c.customer_id, email = c.customer_id, first_name = '', last_name = '',
            phone = NULL, address_line1 = NULL, address_line2 = NULL, city = NULL,
            state = NULL, postal_code = NULL, date_of_birth = NULL, company_name = NULL,
            tax_id = NULL, notes = NULL, tags = '{}', preferred_language = NULL,
            last_login_at = NULL, marketing_emails = false, marketing_sms = false,
            erased_at = now(), erasure_reason = reason
        WHERE c.customer_id = target;
        DELETE FROM customer_emails WHERE email_key = lower(held.email);
        DELETE FROM customer_usernames WHERE username = held.username;
    END IF;
    SELECT array_agg(DISTINCT p.place) INTO places
    FROM (
        SELECT jsonb_array_elements_text(e.changes -> f.field) AS place
        FROM customer_events AS e, unnest(ARRAY['city', 'state', 'country']) AS f(field)
        WHERE e.customer_id = target AND jsonb_typeof(e.changes -> f.field) = 'array'
        UNION ALL
        SELECT unnest(ARRAY[held.city, held.state, held.country])
    ) AS p
    WHERE p.place IS NOT NULL;
    PERFORM customer_counts_forget(places);
    UPDATE customer_events AS e SET changes = customer_events_scrubbed(e.changes)
    WHERE e.customer_id = target AND e.changes <> customer_events_scrubbed(e.changes);
    UPDATE idempotency_records AS r SET
        status = 410, header_names = '{}', header_values = '{}', body = ''::bytea
    WHERE r.customer_id = target AND (r.status <> 410 OR r.body <> ''::bytea);
    RETURN QUERY SELECT * FROM customers AS c WHERE c.customer_id = target;
END;
$$;

SELECT customer_counts_rebuild();

-- For the service's sessions and later migrations: SET LOCAL (the attribution) reaches the
-- workers of the transaction, and triggers on the distributed tables stay allowed.
DO $$
BEGIN
    EXECUTE format('ALTER DATABASE %I SET citus.propagate_set_commands = %L',
                   current_database(), 'local');
    EXECUTE format('ALTER DATABASE %I SET citus.enable_unsafe_triggers = on', current_database());
    -- Many short statements from many connections: a statement that reaches every shard
    -- runs a worker's shards one after another over one cached connection, rather than
    -- opening more connections to the worker for each statement (Citus's default, 16, suits
    -- few long analytical queries).
    EXECUTE format('ALTER DATABASE %I SET citus.max_adaptive_executor_pool_size = 1',
                   current_database());
END;
$$;
