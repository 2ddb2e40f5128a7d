-- Reverts up.sql. Dropping the table drops its indexes, constraints and trigger.
DROP TABLE customers;
DROP FUNCTION customers_set_updated_at();

-- pg_trgm stays: up.sql only creates it when missing, so it may have been there before and
-- other objects may use it; DROP EXTENSION would then fail (or, with CASCADE, destroy them).
-- Keeping a harmless extension is the safe half of that trade.
