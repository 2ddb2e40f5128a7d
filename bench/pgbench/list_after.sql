-- The limit for a keyset page: the page after an id (-D after=, -D limit=) and the exact
-- total the service reads beside it from the aggregates.
-- bench/run.sh puts the columns the service reads, from the catalog, in each SELECT list.
SELECT @COLUMNS@ FROM customers WHERE id > :after ORDER BY id LIMIT :limit;
SELECT coalesce(sum(customers), 0)::int8, coalesce(sum(active), 0)::int8 FROM customer_counts WHERE kind = 'all';
