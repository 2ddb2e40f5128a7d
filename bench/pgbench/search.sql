-- The limit for search: the page and the bounded total the repository runs for a text
-- query plus a country, for the same pairs as bench/wrk/search.lua (one picked at random).
-- bench/run.sh puts the columns the service reads, from the catalog, in each SELECT list.
\set k random(1, 12)
\if :k = 1
SELECT @COLUMNS@ FROM customers WHERE search_text LIKE lower('%smith%') AND lower(country) = lower('USA') ORDER BY created_at DESC, id DESC LIMIT 10 OFFSET 0;
SELECT count(*) FROM (SELECT id FROM customers WHERE search_text LIKE lower('%smith%') AND lower(country) = lower('USA') LIMIT 1001) AS bounded;
\elif :k = 2
SELECT @COLUMNS@ FROM customers WHERE search_text LIKE lower('%garcia%') AND lower(country) = lower('Mexico') ORDER BY created_at DESC, id DESC LIMIT 10 OFFSET 0;
SELECT count(*) FROM (SELECT id FROM customers WHERE search_text LIKE lower('%garcia%') AND lower(country) = lower('Mexico') LIMIT 1001) AS bounded;
\elif :k = 3
SELECT @COLUMNS@ FROM customers WHERE search_text LIKE lower('%john%') AND lower(country) = lower('UK') ORDER BY created_at DESC, id DESC LIMIT 10 OFFSET 0;
SELECT count(*) FROM (SELECT id FROM customers WHERE search_text LIKE lower('%john%') AND lower(country) = lower('UK') LIMIT 1001) AS bounded;
\elif :k = 4
SELECT @COLUMNS@ FROM customers WHERE search_text LIKE lower('%anna%') AND lower(country) = lower('Germany') ORDER BY created_at DESC, id DESC LIMIT 10 OFFSET 0;
SELECT count(*) FROM (SELECT id FROM customers WHERE search_text LIKE lower('%anna%') AND lower(country) = lower('Germany') LIMIT 1001) AS bounded;
\elif :k = 5
SELECT @COLUMNS@ FROM customers WHERE search_text LIKE lower('%lee%') AND lower(country) = lower('Canada') ORDER BY created_at DESC, id DESC LIMIT 10 OFFSET 0;
SELECT count(*) FROM (SELECT id FROM customers WHERE search_text LIKE lower('%lee%') AND lower(country) = lower('Canada') LIMIT 1001) AS bounded;
\elif :k = 6
SELECT @COLUMNS@ FROM customers WHERE search_text LIKE lower('%maria%') AND lower(country) = lower('Spain') ORDER BY created_at DESC, id DESC LIMIT 10 OFFSET 0;
SELECT count(*) FROM (SELECT id FROM customers WHERE search_text LIKE lower('%maria%') AND lower(country) = lower('Spain') LIMIT 1001) AS bounded;
\elif :k = 7
SELECT @COLUMNS@ FROM customers WHERE search_text LIKE lower('%nguyen%') AND lower(country) = lower('Australia') ORDER BY created_at DESC, id DESC LIMIT 10 OFFSET 0;
SELECT count(*) FROM (SELECT id FROM customers WHERE search_text LIKE lower('%nguyen%') AND lower(country) = lower('Australia') LIMIT 1001) AS bounded;
\elif :k = 8
SELECT @COLUMNS@ FROM customers WHERE search_text LIKE lower('%kim%') AND lower(country) = lower('South Korea') ORDER BY created_at DESC, id DESC LIMIT 10 OFFSET 0;
SELECT count(*) FROM (SELECT id FROM customers WHERE search_text LIKE lower('%kim%') AND lower(country) = lower('South Korea') LIMIT 1001) AS bounded;
\elif :k = 9
SELECT @COLUMNS@ FROM customers WHERE search_text LIKE lower('%patel%') AND lower(country) = lower('India') ORDER BY created_at DESC, id DESC LIMIT 10 OFFSET 0;
SELECT count(*) FROM (SELECT id FROM customers WHERE search_text LIKE lower('%patel%') AND lower(country) = lower('India') LIMIT 1001) AS bounded;
\elif :k = 10
SELECT @COLUMNS@ FROM customers WHERE search_text LIKE lower('%mueller%') AND lower(country) = lower('Germany') ORDER BY created_at DESC, id DESC LIMIT 10 OFFSET 0;
SELECT count(*) FROM (SELECT id FROM customers WHERE search_text LIKE lower('%mueller%') AND lower(country) = lower('Germany') LIMIT 1001) AS bounded;
\elif :k = 11
SELECT @COLUMNS@ FROM customers WHERE search_text LIKE lower('%rossi%') AND lower(country) = lower('Italy') ORDER BY created_at DESC, id DESC LIMIT 10 OFFSET 0;
SELECT count(*) FROM (SELECT id FROM customers WHERE search_text LIKE lower('%rossi%') AND lower(country) = lower('Italy') LIMIT 1001) AS bounded;
\elif :k = 12
SELECT @COLUMNS@ FROM customers WHERE search_text LIKE lower('%tanaka%') AND lower(country) = lower('Japan') ORDER BY created_at DESC, id DESC LIMIT 10 OFFSET 0;
SELECT count(*) FROM (SELECT id FROM customers WHERE search_text LIKE lower('%tanaka%') AND lower(country) = lower('Japan') LIMIT 1001) AS bounded;
\endif
