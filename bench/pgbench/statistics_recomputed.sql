-- The overview computed from the customers themselves, as the contract's original did on
-- every request: what the aggregates save (reported under the table, not as a limit).
SELECT count(*), count(*) FILTER (WHERE is_active), count(*) FILTER (WHERE is_verified),
       count(*) FILTER (WHERE created_at >= date_trunc('day', now())),
       count(*) FILTER (WHERE created_at >= date_trunc('day', now()) - interval '7 days'),
       count(*) FILTER (WHERE created_at >= date_trunc('day', now()) - interval '30 days'),
       avg(date_part('epoch', (now() AT TIME ZONE 'UTC') - date_of_birth)) / 31557600.0
FROM customers;
SELECT country, count(*) FROM customers WHERE country <> '' GROUP BY country
ORDER BY count(*) DESC, country LIMIT 100;
SELECT city, count(*) FROM customers WHERE city <> '' GROUP BY city
ORDER BY count(*) DESC, city LIMIT 100;
SELECT gender, count(*) FROM customers WHERE gender <> '' GROUP BY gender
ORDER BY count(*) DESC, gender;
