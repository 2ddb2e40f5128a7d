-- The limit for create: one single-row insert of a customer like the service's, returning
-- the stored row; random 32-bit customer id as the service draws them (a rare collision is
-- skipped, where the service retries).
\set r random(0, 4294967295)
\set u random(1, 999999999999)
INSERT INTO customers (customer_id, username, first_name, last_name, email, phone, country,
    city, tags, marketing_emails)
VALUES ('CUST_' || upper(lpad(to_hex(:r::bigint), 8, '0')), 'pgbench' || :u, 'John', 'Smith',
    'pgbench.' || :client_id || '.' || :u || '@bench.example.com', '+1 555 123 4567', 'USA',
    'Springfield', '{bench,new}', true)
ON CONFLICT DO NOTHING RETURNING *;
