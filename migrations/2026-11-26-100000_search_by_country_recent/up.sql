-- A search filtered by country and sorted by the default `created_at DESC, id DESC` walks
-- only that country's rows, newest first, and stops after one page. Without it the planner
-- walks the whole `created_at` index and filters, which takes seconds for a rare term in a
-- small country at a million customers whenever its row estimate is off.
CREATE INDEX customers_country_created_at_idx
    ON customers (lower(country), created_at DESC, id DESC);
