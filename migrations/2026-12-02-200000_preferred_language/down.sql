DROP INDEX customers_lower_preferred_language_idx;
ALTER TABLE customers DROP COLUMN preferred_language;
