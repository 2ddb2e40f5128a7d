-- The limit for a keyset page: the page after an id (-D after=, -D limit=).
SELECT * FROM customers WHERE id > :after ORDER BY id LIMIT :limit;
