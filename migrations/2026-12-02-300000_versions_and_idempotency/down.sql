DROP TABLE idempotency_records;

CREATE OR REPLACE FUNCTION customers_set_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;

ALTER TABLE customers DROP COLUMN version;
