-- Aggregates of `customers`, kept by the database in the transaction of every write, so the
-- statistics overview, the available-places lists and the list's totals are exact after
-- every commit (read-after-write, from any process) and cost O(number of groups) to read.
--
-- One row per (kind, value, country, slot):
--   kind 'all'     value ''            every customer; also the active, verified and
--                                      born counts and the sum of dates of birth
--   kind 'day'     value 'YYYY-MM-DD'  customers created that UTC day
--   kind 'country' value country       customers with that country (NULL countries not kept)
--   kind 'city'    value city          with `country`: customers with that city and country
--   kind 'state'   value state         likewise
--   kind 'gender'  value gender        customers with that gender
-- A count is the sum over the group's slots. A write adds to one slot chosen at random per
-- statement, so concurrent writers rarely wait for the same row lock (one counter row
-- would serialise every create); the service folds the slots back into slot 0 now and then
-- (`customer_counts_compact`), so readers sum few rows. Rows whose counts reach zero stay
-- until `customer-api stats rebuild`; readers skip them.
CREATE TABLE customer_counts (
    kind      TEXT     NOT NULL,
    value     TEXT     NOT NULL,
    country   TEXT,
    slot      SMALLINT NOT NULL,
    customers BIGINT   NOT NULL DEFAULT 0,
    active    BIGINT   NOT NULL DEFAULT 0,
    verified  BIGINT   NOT NULL DEFAULT 0,
    -- customers with a date of birth, and the sum of those dates as epoch seconds: the mean
    -- age is now minus the mean date of birth.
    born      BIGINT   NOT NULL DEFAULT 0,
    born_sum  NUMERIC  NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX customer_counts_key
    ON customer_counts (kind, value, country, slot) NULLS NOT DISTINCT;

-- What one customer contributes to each group (the signs are applied by the callers).
-- `date_of_birth` is UTC wall time, so its epoch is taken as UTC.
CREATE FUNCTION customer_count_parts(c customers)
RETURNS TABLE (kind TEXT, value TEXT, country TEXT, customers BIGINT, active BIGINT,
               verified BIGINT, born BIGINT, born_sum NUMERIC)
LANGUAGE sql STABLE AS $$
    SELECT p.* FROM (VALUES
        ('all', '', NULL::text, 1::bigint, c.is_active::int::bigint, c.is_verified::int::bigint,
         (c.date_of_birth IS NOT NULL)::int::bigint,
         coalesce(extract(epoch FROM c.date_of_birth), 0)),
        ('day', to_char(c.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'), NULL, 1, 0, 0, 0, 0),
        ('country', c.country, NULL, 1, 0, 0, 0, 0),
        ('city', c.city, c.country, 1, 0, 0, 0, 0),
        ('state', c.state, c.country, 1, 0, 0, 0, 0),
        ('gender', c.gender, NULL, 1, 0, 0, 0, 0)
    ) AS p(kind, value, country, customers, active, verified, born, born_sum)
    WHERE p.value IS NOT NULL
$$;

-- Adds what `added` contributes and takes away what `removed` did, in one upsert: the deltas
-- are summed per group, groups whose deltas are all zero are left alone (a verification or
-- a login touches no counter), and rows are locked in key order, so two writers never wait
-- for each other in opposite orders. PL/pgSQL rather than SQL: its statement's plan is
-- kept for the session, where a SQL function's would be planned again on every write.
CREATE FUNCTION customer_counts_add(removed customers[], added customers[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO customer_counts AS t
        (kind, value, country, slot, customers, active, verified, born, born_sum)
    SELECT p.kind, p.value, p.country, (SELECT floor(random() * 16)::smallint),
           sum(ch.sign * p.customers), sum(ch.sign * p.active), sum(ch.sign * p.verified),
           sum(ch.sign * p.born), sum(ch.sign * p.born_sum)
    FROM (
        SELECT -1 AS sign, r AS c FROM unnest(removed) AS r
        UNION ALL
        SELECT 1, a FROM unnest(added) AS a
    ) AS ch, customer_count_parts(ch.c) AS p
    GROUP BY p.kind, p.value, p.country
    HAVING sum(ch.sign * p.customers) <> 0 OR sum(ch.sign * p.active) <> 0
        OR sum(ch.sign * p.verified) <> 0 OR sum(ch.sign * p.born) <> 0
        OR sum(ch.sign * p.born_sum) <> 0
    ORDER BY p.kind, p.value, p.country
    ON CONFLICT (kind, value, country, slot) DO UPDATE SET
        customers = t.customers + excluded.customers,
        active = t.active + excluded.active,
        verified = t.verified + excluded.verified,
        born = t.born + excluded.born,
        born_sum = t.born_sum + excluded.born_sum;
END;
$$;

-- Statement-level triggers with transition tables: one upsert per statement, however many
-- rows it changed (a bulk update of a hundred customers takes each counter row's lock
-- once, in key order). Every way of writing `customers` goes through them, the service's
-- statements and anyone else's; `customer-api seed` disables them for its bulk load and
-- rebuilds once at the end.
CREATE FUNCTION customer_counts_on_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM customer_counts_add(NULL::customers[], (SELECT array_agg(ROW(n.*)::customers) FROM new_rows AS n));
    RETURN NULL;
END;
$$;

CREATE FUNCTION customer_counts_on_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM customer_counts_add((SELECT array_agg(ROW(o.*)::customers) FROM old_rows AS o),
                                (SELECT array_agg(ROW(n.*)::customers) FROM new_rows AS n));
    RETURN NULL;
END;
$$;

CREATE FUNCTION customer_counts_on_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM customer_counts_add((SELECT array_agg(ROW(o.*)::customers) FROM old_rows AS o), NULL::customers[]);
    RETURN NULL;
END;
$$;

CREATE FUNCTION customer_counts_on_truncate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM customer_counts;
    RETURN NULL;
END;
$$;

CREATE TRIGGER customer_counts_insert AFTER INSERT ON customers
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION customer_counts_on_insert();
CREATE TRIGGER customer_counts_update AFTER UPDATE ON customers
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION customer_counts_on_update();
CREATE TRIGGER customer_counts_delete AFTER DELETE ON customers
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION customer_counts_on_delete();
CREATE TRIGGER customer_counts_truncate AFTER TRUNCATE ON customers
    FOR EACH STATEMENT EXECUTE FUNCTION customer_counts_on_truncate();

-- The counts recomputed from `customers`, compacted into slot 0. Writers wait meanwhile
-- (SHARE mode lets readers through), so no write can fall between the recomputation and
-- the replacement; safe while the service runs (`customer-api stats rebuild`).
CREATE FUNCTION customer_counts_rebuild() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    LOCK TABLE customers IN SHARE MODE;
    DELETE FROM customer_counts;
    INSERT INTO customer_counts
        (kind, value, country, slot, customers, active, verified, born, born_sum)
    SELECT p.kind, p.value, p.country, 0, sum(p.customers), sum(p.active), sum(p.verified),
           sum(p.born), sum(p.born_sum)
    FROM customers AS c, customer_count_parts(c) AS p
    GROUP BY p.kind, p.value, p.country;
END;
$$;

-- Folds every group's slots into slot 0, while writers go on: the rows to fold are locked in
-- key order first, as writers lock theirs, then deleted by their row ids (only those), and
-- their sums added to slot 0 in key order; a writer never needs a row of another slot, so
-- nobody waits for the other in opposite orders. Keeps what readers sum small: writes
-- spread each busy group over up to 16 rows. Returns how many rows were folded.
CREATE FUNCTION customer_counts_compact() RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    locked tid[];
BEGIN
    SELECT array_agg(l.ctid) INTO locked FROM (
        SELECT ctid FROM customer_counts WHERE slot <> 0
        ORDER BY kind, value, country, slot FOR UPDATE
    ) AS l;
    IF locked IS NULL THEN
        RETURN 0;
    END IF;
    WITH moved AS (
        DELETE FROM customer_counts WHERE ctid = ANY(locked)
        RETURNING kind, value, country, customers, active, verified, born, born_sum
    )
    INSERT INTO customer_counts AS t
        (kind, value, country, slot, customers, active, verified, born, born_sum)
    SELECT kind, value, country, 0, sum(customers), sum(active), sum(verified), sum(born),
           sum(born_sum)
    FROM moved
    GROUP BY kind, value, country
    ORDER BY kind, value, country
    ON CONFLICT (kind, value, country, slot) DO UPDATE SET
        customers = t.customers + excluded.customers,
        active = t.active + excluded.active,
        verified = t.verified + excluded.verified,
        born = t.born + excluded.born,
        born_sum = t.born_sum + excluded.born_sum;
    RETURN cardinality(locked);
END;
$$;

SELECT customer_counts_rebuild();
