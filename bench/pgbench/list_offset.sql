-- The limit for the list's first page: the page query (-D offset=, -D limit=) and the
-- exact total the service reads beside it from the aggregates.
-- bench/run.sh puts the columns the service reads, from the catalog, in each SELECT list.
SELECT @COLUMNS@ FROM customers ORDER BY id LIMIT :limit OFFSET :offset;
SELECT coalesce(sum(customers), 0)::int8, coalesce(sum(active), 0)::int8 FROM customer_counts WHERE kind = 'all';
