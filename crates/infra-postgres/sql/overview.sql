WITH totals AS (
    SELECT coalesce(sum(customers) FILTER (WHERE kind = 'all'), 0)::int8 AS total,
           coalesce(sum(active) FILTER (WHERE kind = 'all'), 0)::int8 AS active,
           coalesce(sum(verified) FILTER (WHERE kind = 'all'), 0)::int8 AS verified,
           coalesce(sum(customers) FILTER (WHERE kind = 'day' AND value >= $1), 0)::int8 AS today,
           coalesce(sum(customers) FILTER (WHERE kind = 'day' AND value >= $2), 0)::int8 AS week,
           coalesce(sum(customers) FILTER (WHERE kind = 'day' AND value >= $3), 0)::int8 AS month,
           ($4 - (sum(born_sum) FILTER (WHERE kind = 'all')
                  / nullif(sum(born) FILTER (WHERE kind = 'all'), 0))::float8) / $5 AS average_age
    FROM customer_counts
    WHERE kind = 'all' OR (kind = 'day' AND value >= $3)
), groups AS (
    SELECT kind, value, sum(customers)::int8 AS count,
           row_number() OVER (PARTITION BY kind ORDER BY sum(customers) DESC, value) AS rank
    FROM customer_counts
    WHERE kind IN ('country', 'city', 'gender') AND value <> ''
    GROUP BY kind, value HAVING sum(customers) > 0
)
SELECT 'all' AS kind, '' AS name, total AS count, active, verified, today, week, month,
       average_age, 0::int8 AS rank
FROM totals
UNION ALL
SELECT kind, value, count, 0, 0, 0, 0, 0, NULL, rank
FROM groups WHERE kind = 'gender' OR rank <= $6
ORDER BY kind, rank
