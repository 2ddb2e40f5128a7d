DROP TRIGGER customer_events_delete ON customers;
DROP TRIGGER customer_events_update ON customers;
DROP TRIGGER customer_events_insert ON customers;
DROP FUNCTION customer_events_on_delete();
DROP FUNCTION customer_events_on_update();
DROP FUNCTION customer_events_on_insert();
DROP FUNCTION customer_events_install();
DROP FUNCTION customer_events_attribute_new(TEXT);
DROP FUNCTION customer_events_attribute(TEXT);
DROP TABLE customer_events_purged;
DROP TABLE customer_events;

CREATE OR REPLACE FUNCTION customers_set_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.version := OLD.version;
    NEW.search_text := OLD.search_text;
    IF NEW IS DISTINCT FROM OLD THEN
        NEW.updated_at := now();
        NEW.version := OLD.version + 1;
    END IF;
    RETURN NEW;
END;
$$;

ALTER TABLE customers DROP COLUMN event_xid;
