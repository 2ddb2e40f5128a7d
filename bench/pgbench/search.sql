-- The limit for search: the page and the bounded total the repository runs for a text
-- query plus a country, for the same pairs as bench/wrk/search.lua (one picked at random).
\set k random(1, 12)
\if :k = 1
SELECT * FROM customers WHERE (first_name ILIKE '%smith%' OR last_name ILIKE '%smith%' OR email ILIKE '%smith%' OR username ILIKE '%smith%' OR phone ILIKE '%smith%' OR company_name ILIKE '%smith%') AND lower(country) = lower('USA') ORDER BY created_at DESC, id DESC LIMIT 10 OFFSET 0;
SELECT count(*) FROM (SELECT id FROM customers WHERE (first_name ILIKE '%smith%' OR last_name ILIKE '%smith%' OR email ILIKE '%smith%' OR username ILIKE '%smith%' OR phone ILIKE '%smith%' OR company_name ILIKE '%smith%') AND lower(country) = lower('USA') LIMIT 1001) AS bounded;
\elif :k = 2
SELECT * FROM customers WHERE (first_name ILIKE '%garcia%' OR last_name ILIKE '%garcia%' OR email ILIKE '%garcia%' OR username ILIKE '%garcia%' OR phone ILIKE '%garcia%' OR company_name ILIKE '%garcia%') AND lower(country) = lower('Mexico') ORDER BY created_at DESC, id DESC LIMIT 10 OFFSET 0;
SELECT count(*) FROM (SELECT id FROM customers WHERE (first_name ILIKE '%garcia%' OR last_name ILIKE '%garcia%' OR email ILIKE '%garcia%' OR username ILIKE '%garcia%' OR phone ILIKE '%garcia%' OR company_name ILIKE '%garcia%') AND lower(country) = lower('Mexico') LIMIT 1001) AS bounded;
\elif :k = 3
SELECT * FROM customers WHERE (first_name ILIKE '%john%' OR last_name ILIKE '%john%' OR email ILIKE '%john%' OR username ILIKE '%john%' OR phone ILIKE '%john%' OR company_name ILIKE '%john%') AND lower(country) = lower('UK') ORDER BY created_at DESC, id DESC LIMIT 10 OFFSET 0;
SELECT count(*) FROM (SELECT id FROM customers WHERE (first_name ILIKE '%john%' OR last_name ILIKE '%john%' OR email ILIKE '%john%' OR username ILIKE '%john%' OR phone ILIKE '%john%' OR company_name ILIKE '%john%') AND lower(country) = lower('UK') LIMIT 1001) AS bounded;
\elif :k = 4
SELECT * FROM customers WHERE (first_name ILIKE '%anna%' OR last_name ILIKE '%anna%' OR email ILIKE '%anna%' OR username ILIKE '%anna%' OR phone ILIKE '%anna%' OR company_name ILIKE '%anna%') AND lower(country) = lower('Germany') ORDER BY created_at DESC, id DESC LIMIT 10 OFFSET 0;
SELECT count(*) FROM (SELECT id FROM customers WHERE (first_name ILIKE '%anna%' OR last_name ILIKE '%anna%' OR email ILIKE '%anna%' OR username ILIKE '%anna%' OR phone ILIKE '%anna%' OR company_name ILIKE '%anna%') AND lower(country) = lower('Germany') LIMIT 1001) AS bounded;
\elif :k = 5
SELECT * FROM customers WHERE (first_name ILIKE '%lee%' OR last_name ILIKE '%lee%' OR email ILIKE '%lee%' OR username ILIKE '%lee%' OR phone ILIKE '%lee%' OR company_name ILIKE '%lee%') AND lower(country) = lower('Canada') ORDER BY created_at DESC, id DESC LIMIT 10 OFFSET 0;
SELECT count(*) FROM (SELECT id FROM customers WHERE (first_name ILIKE '%lee%' OR last_name ILIKE '%lee%' OR email ILIKE '%lee%' OR username ILIKE '%lee%' OR phone ILIKE '%lee%' OR company_name ILIKE '%lee%') AND lower(country) = lower('Canada') LIMIT 1001) AS bounded;
\elif :k = 6
SELECT * FROM customers WHERE (first_name ILIKE '%maria%' OR last_name ILIKE '%maria%' OR email ILIKE '%maria%' OR username ILIKE '%maria%' OR phone ILIKE '%maria%' OR company_name ILIKE '%maria%') AND lower(country) = lower('Spain') ORDER BY created_at DESC, id DESC LIMIT 10 OFFSET 0;
SELECT count(*) FROM (SELECT id FROM customers WHERE (first_name ILIKE '%maria%' OR last_name ILIKE '%maria%' OR email ILIKE '%maria%' OR username ILIKE '%maria%' OR phone ILIKE '%maria%' OR company_name ILIKE '%maria%') AND lower(country) = lower('Spain') LIMIT 1001) AS bounded;
\elif :k = 7
SELECT * FROM customers WHERE (first_name ILIKE '%nguyen%' OR last_name ILIKE '%nguyen%' OR email ILIKE '%nguyen%' OR username ILIKE '%nguyen%' OR phone ILIKE '%nguyen%' OR company_name ILIKE '%nguyen%') AND lower(country) = lower('Australia') ORDER BY created_at DESC, id DESC LIMIT 10 OFFSET 0;
SELECT count(*) FROM (SELECT id FROM customers WHERE (first_name ILIKE '%nguyen%' OR last_name ILIKE '%nguyen%' OR email ILIKE '%nguyen%' OR username ILIKE '%nguyen%' OR phone ILIKE '%nguyen%' OR company_name ILIKE '%nguyen%') AND lower(country) = lower('Australia') LIMIT 1001) AS bounded;
\elif :k = 8
SELECT * FROM customers WHERE (first_name ILIKE '%kim%' OR last_name ILIKE '%kim%' OR email ILIKE '%kim%' OR username ILIKE '%kim%' OR phone ILIKE '%kim%' OR company_name ILIKE '%kim%') AND lower(country) = lower('South Korea') ORDER BY created_at DESC, id DESC LIMIT 10 OFFSET 0;
SELECT count(*) FROM (SELECT id FROM customers WHERE (first_name ILIKE '%kim%' OR last_name ILIKE '%kim%' OR email ILIKE '%kim%' OR username ILIKE '%kim%' OR phone ILIKE '%kim%' OR company_name ILIKE '%kim%') AND lower(country) = lower('South Korea') LIMIT 1001) AS bounded;
\elif :k = 9
SELECT * FROM customers WHERE (first_name ILIKE '%patel%' OR last_name ILIKE '%patel%' OR email ILIKE '%patel%' OR username ILIKE '%patel%' OR phone ILIKE '%patel%' OR company_name ILIKE '%patel%') AND lower(country) = lower('India') ORDER BY created_at DESC, id DESC LIMIT 10 OFFSET 0;
SELECT count(*) FROM (SELECT id FROM customers WHERE (first_name ILIKE '%patel%' OR last_name ILIKE '%patel%' OR email ILIKE '%patel%' OR username ILIKE '%patel%' OR phone ILIKE '%patel%' OR company_name ILIKE '%patel%') AND lower(country) = lower('India') LIMIT 1001) AS bounded;
\elif :k = 10
SELECT * FROM customers WHERE (first_name ILIKE '%mueller%' OR last_name ILIKE '%mueller%' OR email ILIKE '%mueller%' OR username ILIKE '%mueller%' OR phone ILIKE '%mueller%' OR company_name ILIKE '%mueller%') AND lower(country) = lower('Germany') ORDER BY created_at DESC, id DESC LIMIT 10 OFFSET 0;
SELECT count(*) FROM (SELECT id FROM customers WHERE (first_name ILIKE '%mueller%' OR last_name ILIKE '%mueller%' OR email ILIKE '%mueller%' OR username ILIKE '%mueller%' OR phone ILIKE '%mueller%' OR company_name ILIKE '%mueller%') AND lower(country) = lower('Germany') LIMIT 1001) AS bounded;
\elif :k = 11
SELECT * FROM customers WHERE (first_name ILIKE '%rossi%' OR last_name ILIKE '%rossi%' OR email ILIKE '%rossi%' OR username ILIKE '%rossi%' OR phone ILIKE '%rossi%' OR company_name ILIKE '%rossi%') AND lower(country) = lower('Italy') ORDER BY created_at DESC, id DESC LIMIT 10 OFFSET 0;
SELECT count(*) FROM (SELECT id FROM customers WHERE (first_name ILIKE '%rossi%' OR last_name ILIKE '%rossi%' OR email ILIKE '%rossi%' OR username ILIKE '%rossi%' OR phone ILIKE '%rossi%' OR company_name ILIKE '%rossi%') AND lower(country) = lower('Italy') LIMIT 1001) AS bounded;
\elif :k = 12
SELECT * FROM customers WHERE (first_name ILIKE '%tanaka%' OR last_name ILIKE '%tanaka%' OR email ILIKE '%tanaka%' OR username ILIKE '%tanaka%' OR phone ILIKE '%tanaka%' OR company_name ILIKE '%tanaka%') AND lower(country) = lower('Japan') ORDER BY created_at DESC, id DESC LIMIT 10 OFFSET 0;
SELECT count(*) FROM (SELECT id FROM customers WHERE (first_name ILIKE '%tanaka%' OR last_name ILIKE '%tanaka%' OR email ILIKE '%tanaka%' OR username ILIKE '%tanaka%' OR phone ILIKE '%tanaka%' OR company_name ILIKE '%tanaka%') AND lower(country) = lower('Japan') LIMIT 1001) AS bounded;
\endif
