-- A customer's preferred language: a BCP 47 tag (RFC 5646) such as `en`, `pt-BR` or
-- `zh-Hant-TW`, stored in the RFC's canonical case. The domain checks the syntax; the table
-- keeps the length RFC 5646 asks implementations to support. A nullable column without a
-- default is added without rewriting the table.
ALTER TABLE customers ADD COLUMN preferred_language TEXT
    CONSTRAINT customers_preferred_language_length_check
        CHECK (char_length(preferred_language) <= 35);

-- The search filter `preferred_language` is an exact match, case ignored: the adapter
-- filters on exactly `lower(preferred_language)`, as it does for the places. A rare
-- language is found through this index; a common one by walking the sort order's index
-- until the page is full, as for any other unselective filter.
CREATE INDEX customers_lower_preferred_language_idx ON customers (lower(preferred_language));
