DROP FUNCTION customer_erase(TEXT, TEXT, TEXT);
DROP INDEX idempotency_records_customer_idx;
ALTER TABLE idempotency_records DROP COLUMN customer_id;
DROP FUNCTION customer_events_scrubbed(JSONB);
DROP FUNCTION customer_counts_forget(TEXT[]);

CREATE OR REPLACE FUNCTION customer_count_parts(c customers)
RETURNS TABLE (kind TEXT, value TEXT, country TEXT, customers BIGINT, active BIGINT,
               verified BIGINT, born BIGINT, born_sum NUMERIC)
LANGUAGE sql STABLE AS $$
    SELECT p.* FROM (VALUES
        ('all', '', NULL::text, 1::bigint, c.is_active::int::bigint, c.is_verified::int::bigint,
         (c.date_of_birth IS NOT NULL)::int::bigint,
         coalesce(extract(epoch FROM c.date_of_birth), 0)),
        ('day', to_char(c.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'), NULL, 1, 0, 0, 0, 0),
        ('country', c.country, NULL, 1, 0, 0, 0, 0),
        ('city', c.city, c.country, 1, 0, 0, 0, 0),
        ('state', c.state, c.country, 1, 0, 0, 0, 0),
        ('gender', c.gender, NULL, 1, 0, 0, 0, 0)
    ) AS p(kind, value, country, customers, active, verified, born, born_sum)
    WHERE p.value IS NOT NULL
$$;
DELETE FROM customer_counts WHERE kind = 'erased';

CREATE OR REPLACE FUNCTION customers_set_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.version := OLD.version;
    NEW.event_xid := OLD.event_xid;
    NEW.search_text := OLD.search_text;
    IF NEW IS DISTINCT FROM OLD THEN
        NEW.updated_at := now();
        NEW.version := OLD.version + 1;
        NEW.event_xid := greatest(pg_current_xact_id(), OLD.event_xid);
    END IF;
    RETURN NEW;
END;
$$;

DELETE FROM customer_events WHERE type = 'erased';
ALTER TABLE customer_events DROP CONSTRAINT customer_events_type_check;
ALTER TABLE customer_events ADD CONSTRAINT customer_events_type_check CHECK (type IN (
    'created', 'updated', 'bulk_updated', 'email_verified', 'phone_verified',
    'logged_in', 'deactivated', 'deleted'));

DROP INDEX customers_live_id_idx;
ALTER TABLE customers DROP CONSTRAINT customers_erasure_reason_check;
ALTER TABLE customers DROP COLUMN erasure_reason;
ALTER TABLE customers DROP COLUMN erased_at;
SELECT customer_events_install();
