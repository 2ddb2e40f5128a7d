-- Erasure (GDPR article 17): a customer's personal data removed for good, from the row and
-- from every other place the service stored it, in one transaction (`customer_erase`).
--
-- The row stays as a tombstone, so the customer id stays taken and the statistics keep
-- counting it: `customer_id`, `created_at`, `updated_at`, `version`, `country`, `gender`,
-- `is_active`, `is_verified`, `email_verified` and `phone_verified` are kept (coarse and
-- non-identifying: the overview's totals, per-country counts, gender distribution and new
-- customers per day do not move), with `erased_at` and the operator's `erasure_reason`.
-- Everything else is personal and goes: the names become empty; the username and the
-- email become the customer id (which no valid username or email can equal, so both are
-- free to be registered again and stay unique); every other personal column becomes NULL
-- (tags empty, marketing consents false). City and state go too (they are address lines),
-- and with them the customer's share of `customers_by_city` and the available cities and
-- states; the date of birth goes, and with it the customer's share of the average age.
ALTER TABLE customers ADD COLUMN erased_at TIMESTAMPTZ;
ALTER TABLE customers ADD COLUMN erasure_reason TEXT;
ALTER TABLE customers ADD CONSTRAINT customers_erasure_reason_check
    CHECK (erasure_reason IS NULL OR erased_at IS NOT NULL);

-- The list pages by `id` over the customers that are no tombstone. Its deep pages skip rows
-- by index entries alone (an index-only scan): with `erased_at IS NULL` a filter on the
-- table, each skipped entry would read its row, five times slower at half a million rows.
-- A partial index of the ids keeps the skip in the index; tombstones are few, so it is the
-- size of the primary key.
CREATE INDEX customers_live_id_idx ON customers (id) WHERE erased_at IS NULL;

ALTER TABLE customer_events DROP CONSTRAINT customer_events_type_check;
ALTER TABLE customer_events ADD CONSTRAINT customer_events_type_check CHECK (type IN (
    'created', 'updated', 'bulk_updated', 'email_verified', 'phone_verified',
    'logged_in', 'deactivated', 'deleted', 'erased'));

-- As the history migration's, and a tombstone is final: no statement may change it again
-- (the service's writes skip it; this stops anyone else's, an operator's SQL included,
-- from writing personal data into it). Deleting it stays possible.
CREATE OR REPLACE FUNCTION customers_set_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.erased_at IS NOT NULL THEN
        RAISE EXCEPTION 'customer % is erased', OLD.customer_id
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
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

-- The history's triggers compare the two new columns too.
SELECT customer_events_install();

-- The aggregates count tombstones as customers (the overview does not move), and count them
-- once more as kind 'erased', so that the list, which never shows a tombstone, can take
-- them out of its totals.
CREATE OR REPLACE FUNCTION customer_count_parts(c customers)
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
        ('gender', c.gender, NULL, 1, 0, 0, 0, 0),
        ('erased', CASE WHEN c.erased_at IS NOT NULL THEN '' END, NULL, 1,
         c.is_active::int::bigint, c.is_verified::int::bigint, 0, 0)
    ) AS p(kind, value, country, customers, active, verified, born, born_sum)
    WHERE p.value IS NOT NULL
$$;

-- Removes the rows of the place groups named `places` that add up to nothing: their values
-- are place names that no customer holds any more, such as those an erased customer was the
-- last to hold (rows whose counts reach zero otherwise stay until a rebuild). The rows are
-- locked first, in key order as writers lock theirs, and summed as locked (a concurrent
-- writer's committed change included); a writer that adds to such a group later writes a
-- row of its own.
CREATE FUNCTION customer_counts_forget(places TEXT[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    emptied tid[];
BEGIN
    WITH held AS (
        SELECT t.ctid AS row_id, t.kind, t.value, t.country, t.customers, t.active,
               t.verified, t.born, t.born_sum
        FROM customer_counts AS t
        WHERE t.kind IN ('city', 'state', 'country') AND t.value = ANY(places)
        ORDER BY t.kind, t.value, t.country, t.slot
        FOR UPDATE
    ), empty AS (
        SELECT h.kind, h.value, h.country
        FROM held AS h
        GROUP BY h.kind, h.value, h.country
        HAVING sum(h.customers) = 0 AND sum(h.active) = 0 AND sum(h.verified) = 0
           AND sum(h.born) = 0 AND sum(h.born_sum) = 0
    )
    SELECT array_agg(h.row_id) INTO emptied
    FROM held AS h
    JOIN empty AS e ON e.kind = h.kind AND e.value = h.value
                   AND e.country IS NOT DISTINCT FROM h.country;
    IF emptied IS NOT NULL THEN
        DELETE FROM customer_counts WHERE ctid = ANY(emptied);
    END IF;
END;
$$;

-- An event's changes with the values of every personal field replaced by JSON null: the
-- history still tells which fields changed, when and by whom, no longer from what to what.
-- What is kept is what the tombstone keeps that is not a place or a person's trait (the
-- flags, the ids, the times) and the erasure's own fields.
CREATE FUNCTION customer_events_scrubbed(changes JSONB) RETURNS JSONB
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(jsonb_object_agg(e.field, CASE
               WHEN e.field IN ('customer_id', 'created_at', 'is_active', 'is_verified',
                                'email_verified', 'phone_verified', 'marketing_emails',
                                'marketing_sms', 'erased_at', 'erasure_reason')
               THEN e.change ELSE 'null'::jsonb END), '{}'::jsonb)
    FROM jsonb_each(changes) AS e(field, change)
$$;

-- Which customer a stored idempotent answer is about (the route's customer, or the one a
-- create made), so that its erasure can reach the answer.
ALTER TABLE idempotency_records ADD COLUMN customer_id TEXT;
CREATE INDEX idempotency_records_customer_idx ON idempotency_records (customer_id)
    WHERE customer_id IS NOT NULL;

-- Erases the customer in the caller's transaction (one statement: its own when called
-- alone) and returns its tombstone; nothing when there is no such customer. Erasing a
-- tombstone changes nothing and returns it as it is. Either way, and also when the
-- customer was deleted for good before, its history is scrubbed and its stored answers
-- are emptied (status 410, no headers, no body: the service answers "Customer erased" to
-- a repeat of such a request).
--
-- The row is locked first, so a concurrent change of the customer either commits before
-- (and its event is scrubbed here: every later statement of this transaction sees it) or
-- waits and then finds a tombstone, which the service's writes skip and the row trigger
-- refuses. `context` attributes the change, as for every write of the service.
CREATE FUNCTION customer_erase(target TEXT, reason TEXT, context TEXT)
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
        WHERE c.id = held.id AND customer_events_attribute(context);
    END IF;
    -- Every place the customer ever had, from its history before it is scrubbed.
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
