-- Fills `customers` with generated customers, for measuring queries at scale:
--   psql "$URL" -v rows=1000000 -f generate_customers.sql
-- Deterministic: row n always gets the same values. 1 in 62 first names is "John", last
-- names are 3 syllables out of 24 (13,824 combinations), half the customers have a
-- company, 40% live in the USA.
\set ON_ERROR_STOP on

INSERT INTO customers (
    customer_id, username, first_name, last_name, email, phone, city, state, country,
    company_name, gender, date_of_birth, is_active, is_verified, tags, created_at
)
SELECT
    'CUST_' || upper(lpad(to_hex(n), 8, '0')),
    lower(first) || lower(last) || n,
    first,
    last,
    lower(first) || '.' || lower(last) || n || '@'
        || (ARRAY['example.com', 'mail.test', 'corp.example.org'])[1 + n % 3],
    '+1-' || lpad(((n * 7919) % 1000)::text, 3, '0') || '-'
        || lpad(((n * 104729) % 10000)::text, 4, '0'),
    (ARRAY['New York', 'Los Angeles', 'Chicago', 'Houston', 'Toronto', 'Vancouver',
           'London', 'Manchester', 'Berlin', 'Paris'])[place],
    (ARRAY['NY', 'CA', 'IL', 'TX', 'ON', 'BC', 'England', 'England', 'Berlin',
           'Ile-de-France'])[place],
    (ARRAY['USA', 'USA', 'USA', 'USA', 'Canada', 'Canada', 'UK', 'UK', 'Germany',
           'France'])[place],
    CASE WHEN n % 2 = 0 THEN
        initcap(syl[1 + (n / 7) % 24] || syl[1 + (n / 11) % 24]) || ' '
            || (ARRAY['Corp', 'LLC', 'Ltd', 'Group'])[1 + n % 4]
    END,
    (ARRAY['male', 'female', 'other', 'prefer_not_to_say'])[1 + (n * 31) % 4],
    CASE WHEN n % 5 <> 0 THEN
        timestamp '1950-01-01' + ((n * 7727) % 20000) * interval '1 day'
    END,
    n % 10 <> 0,
    n % 3 = 0,
    CASE n % 4
        WHEN 0 THEN ARRAY['premium', 'tech']
        WHEN 1 THEN ARRAY['new', 'tech']
        WHEN 2 THEN ARRAY['premium-plus', 'retail']
        ELSE ARRAY['vip', 'new']
    END,
    timestamptz '2020-01-01 00:00:00+00'
        + ((n * 15485863::bigint) % 157680000) * interval '1 second'
FROM (
    SELECT
        n,
        (ARRAY['John', 'James', 'Mary', 'Patricia', 'Robert', 'Jennifer', 'Michael', 'Linda',
               'William', 'Elizabeth', 'David', 'Barbara', 'Richard', 'Susan', 'Joseph',
               'Jessica', 'Thomas', 'Sarah', 'Charles', 'Karen', 'Christopher', 'Nancy',
               'Daniel', 'Lisa', 'Matthew', 'Betty', 'Anthony', 'Margaret', 'Mark', 'Sandra',
               'Donald', 'Ashley', 'Steven', 'Kimberly', 'Paul', 'Emily', 'Andrew', 'Donna',
               'Joshua', 'Michelle', 'Kenneth', 'Dorothy', 'Kevin', 'Carol', 'Brian', 'Amanda',
               'George', 'Melissa', 'Edward', 'Deborah', 'Ronald', 'Stephanie', 'Timothy',
               'Rebecca', 'Jason', 'Sharon', 'Jeffrey', 'Laura', 'Ryan', 'Cynthia', 'Jacob',
               'Kathleen'])[1 + (n * 13) % 62] AS first,
        initcap(syl[1 + n % 24] || syl[1 + (n / 24) % 24] || syl[1 + (n / 576) % 24]) AS last,
        1 + ((n * 17) % 10)::int AS place,
        syl
    FROM generate_series(1::bigint, :rows) AS n,
         LATERAL (SELECT ARRAY['an', 'bel', 'cor', 'dan', 'el', 'fin', 'gar', 'hol', 'is',
                               'jen', 'kar', 'lin', 'mor', 'nel', 'or', 'pet', 'quin', 'ros',
                               'son', 'tor', 'ul', 'van', 'wes', 'yor'] AS syl) AS s
) AS generated;

ANALYZE customers;
