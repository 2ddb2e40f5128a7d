-- Checks the rule behind a search's total (crates/infra-postgres/src/repository/totals.rs):
-- a search is counted exactly when the planner expects at most 3,000 matches
-- (TRUSTED_SEARCH_ESTIMATE), so every search with 1 to 1,000 matches (EXACT_TOTAL_LIMIT)
-- must be estimated at 3,000 or fewer. (A search with no match has an empty page, and a
-- page that is not full gives the exact total whatever the estimate.) It plans (EXPLAIN, as the service does) and counts
-- every seeded first and last name and ten fragments, alone and in five countries, as
-- the free-text search's WHERE clause, and prints how many searches break the rule (0).
--
--   psql postgres://postgres@127.0.0.1:5432/customer_api_bench -f bench/sql/check_search_estimates.sql
--
-- On make bench's database (1,000,000 customers); about a minute.
\set ON_ERROR_STOP on
BEGIN;
CREATE FUNCTION pg_temp.planned_rows(query text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    plan json;
BEGIN
    EXECUTE 'EXPLAIN (FORMAT JSON) ' || query INTO plan;
    RETURN (plan -> 0 -> 'Plan' ->> 'Plan Rows')::bigint;
END
$$;

CREATE TEMPORARY TABLE searches ON COMMIT DROP AS
WITH terms AS (
    SELECT DISTINCT lower(first_name) AS term FROM customers
    UNION SELECT DISTINCT lower(last_name) FROM customers
    UNION SELECT unnest(ARRAY['jo', 'mar', 'son', 'ez', 'li', 'ann', '@example.org',
                              '+44', 'labs', '2024'])
),
countries AS (
    SELECT unnest(ARRAY[NULL, 'usa', 'germany', 'mexico', 'ireland', 'new zealand']) AS country
),
queries AS (
    SELECT term, country,
           format('SELECT 1 FROM customers WHERE search_text LIKE %L', '%' || term || '%')
           || CASE WHEN country IS NULL THEN ''
                   ELSE format(' AND lower(country) = lower(%L)', country) END AS query
    FROM terms CROSS JOIN countries
)
SELECT term, country, pg_temp.planned_rows(query) AS estimate,
       (xpath('/row/n/text()',
              query_to_xml(replace(query, 'SELECT 1', 'SELECT count(*) AS n'), false, true, '')
       ))[1]::text::bigint AS matches
FROM queries;

SELECT count(*) AS searches,
       count(*) FILTER (WHERE matches BETWEEN 1 AND 1000) AS with_1_to_1000_matches,
       count(*) FILTER (WHERE matches BETWEEN 1 AND 1000 AND estimate > 3000)
           AS breaking_the_rule,
       max(estimate) FILTER (WHERE matches BETWEEN 1 AND 1000) AS highest_estimate_of_those,
       round(max(estimate::numeric / greatest(matches, 1)) FILTER (WHERE matches >= 100), 2)
           AS worst_overestimate_from_100_matches,
       round(min(estimate::numeric / matches) FILTER (WHERE matches >= 100), 2)
           AS worst_underestimate_from_100_matches
FROM searches;

SELECT term, country, matches, estimate
FROM searches WHERE matches BETWEEN 1 AND 1000 ORDER BY estimate DESC LIMIT 5;
COMMIT;
