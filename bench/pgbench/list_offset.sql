-- The limit for a list page by offset: the page query alone (-D offset=, -D limit=).
SELECT * FROM customers ORDER BY id LIMIT :limit OFFSET :offset;
