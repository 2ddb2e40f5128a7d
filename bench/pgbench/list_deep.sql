-- The limit for a list page by a large offset (-D offset=, -D limit=), as the repository
-- asks for it: the page's ids from the primary key alone, then only those rows.
-- With the exact total the service reads beside it from the aggregates.
-- bench/run.sh puts the columns the service reads, from the catalog, in each SELECT list.
SELECT @COLUMNS@ FROM customers WHERE id IN (SELECT id FROM customers ORDER BY id LIMIT :limit OFFSET :offset) ORDER BY id;
SELECT coalesce(sum(customers), 0)::int8, coalesce(sum(active), 0)::int8 FROM customer_counts WHERE kind = 'all';
