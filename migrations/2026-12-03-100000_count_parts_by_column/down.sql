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
DROP FUNCTION customer_count_parts_of(TEXT, TEXT, TEXT, TEXT, TIMESTAMPTZ, BOOLEAN, BOOLEAN,
                                      TIMESTAMP, TIMESTAMPTZ);
