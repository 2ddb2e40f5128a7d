DROP INDEX IF EXISTS customers_country_created_at_idx;
