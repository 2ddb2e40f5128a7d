-- What one customer contributes to each group, from the counted columns rather than the whole
-- row. A distributed table's rows have their shard's row type on the worker, so a function
-- of `customers` cannot run there (see docs/scale-out.md); one of the columns can, and
-- `customer-api stats check` recomputes the counts with it in both layouts.
-- `customer_count_parts(customers)` stays for the triggers, and is this function of its row.
CREATE FUNCTION customer_count_parts_of(
    country TEXT, city TEXT, state TEXT, gender TEXT, created_at TIMESTAMPTZ,
    is_active BOOLEAN, is_verified BOOLEAN, date_of_birth TIMESTAMP, erased_at TIMESTAMPTZ)
RETURNS TABLE (kind TEXT, value TEXT, country TEXT, customers BIGINT, active BIGINT,
               verified BIGINT, born BIGINT, born_sum NUMERIC)
LANGUAGE sql STABLE AS $$
    SELECT p.* FROM (VALUES
        ('all', '', NULL::text, 1::bigint, is_active::int::bigint, is_verified::int::bigint,
         (date_of_birth IS NOT NULL)::int::bigint,
         coalesce(extract(epoch FROM date_of_birth), 0)),
        ('day', to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'), NULL, 1, 0, 0, 0, 0),
        ('country', $1, NULL, 1, 0, 0, 0, 0),
        ('city', city, $1, 1, 0, 0, 0, 0),
        ('state', state, $1, 1, 0, 0, 0, 0),
        ('gender', gender, NULL, 1, 0, 0, 0, 0),
        ('erased', CASE WHEN erased_at IS NOT NULL THEN '' END, NULL, 1,
         is_active::int::bigint, is_verified::int::bigint, 0, 0)
    ) AS p(kind, value, country, customers, active, verified, born, born_sum)
    WHERE p.value IS NOT NULL
$$;

CREATE OR REPLACE FUNCTION customer_count_parts(c customers)
RETURNS TABLE (kind TEXT, value TEXT, country TEXT, customers BIGINT, active BIGINT,
               verified BIGINT, born BIGINT, born_sum NUMERIC)
LANGUAGE sql STABLE AS $$
    SELECT * FROM customer_count_parts_of(c.country, c.city, c.state, c.gender, c.created_at,
                                          c.is_active, c.is_verified, c.date_of_birth,
                                          c.erased_at)
$$;
