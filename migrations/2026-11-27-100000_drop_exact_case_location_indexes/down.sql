CREATE INDEX customers_country_city_idx ON customers (country, city);
CREATE INDEX customers_country_state_idx ON customers (country, state);
