-- The seed's composite indexes on (country, city) and (country, state) compare the stored
-- case exactly, but every location filter of the service compares `lower(..)` (the search
-- adapter's `lower(country) = lower($1)`, and likewise for city and state), and sorting by
-- country uses customers_country_idx. No query of the service used them, while every insert
-- maintained them and every seed rebuilt them (7 s of the 1M-row seed's index builds).
-- Location queries are served by customers_country_created_at_idx (lower(country),
-- created_at DESC, id DESC), the search index (lower(country), search_text) and the
-- lower(city) and lower(state) indexes.
DROP INDEX customers_country_city_idx;
DROP INDEX customers_country_state_idx;
