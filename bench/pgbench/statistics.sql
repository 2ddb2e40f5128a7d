-- The limit for the statistics overview: the aggregate and the three grouped queries the
-- repository runs, over the counts the database keeps with every write (customer_counts),
-- for the same whole-UTC-day windows.
SELECT coalesce(sum(customers) FILTER (WHERE kind = 'all'), 0)::int8,
       coalesce(sum(active) FILTER (WHERE kind = 'all'), 0)::int8,
       coalesce(sum(verified) FILTER (WHERE kind = 'all'), 0)::int8,
       coalesce(sum(customers) FILTER (WHERE kind = 'day'
           AND value >= to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD')), 0)::int8,
       coalesce(sum(customers) FILTER (WHERE kind = 'day'
           AND value >= to_char((now() AT TIME ZONE 'UTC') - interval '7 days', 'YYYY-MM-DD')), 0)::int8,
       coalesce(sum(customers) FILTER (WHERE kind = 'day'
           AND value >= to_char((now() AT TIME ZONE 'UTC') - interval '30 days', 'YYYY-MM-DD')), 0)::int8,
       (date_part('epoch', now()) - (sum(born_sum) FILTER (WHERE kind = 'all')
           / nullif(sum(born) FILTER (WHERE kind = 'all'), 0))::float8) / 31557600.0
FROM customer_counts
WHERE kind = 'all' OR (kind = 'day'
    AND value >= to_char((now() AT TIME ZONE 'UTC') - interval '30 days', 'YYYY-MM-DD'));
SELECT value, sum(customers)::int8 FROM customer_counts WHERE kind = 'country' AND value <> ''
GROUP BY value HAVING sum(customers) > 0 ORDER BY sum(customers) DESC, value LIMIT 100;
SELECT value, sum(customers)::int8 FROM customer_counts WHERE kind = 'city' AND value <> ''
GROUP BY value HAVING sum(customers) > 0 ORDER BY sum(customers) DESC, value LIMIT 100;
SELECT value, sum(customers)::int8 FROM customer_counts WHERE kind = 'gender' AND value <> ''
GROUP BY value HAVING sum(customers) > 0 ORDER BY sum(customers) DESC, value;
