-- The limit for a keyset page: the page after an id (-D after=, -D limit=) and the exact
-- total the service reads beside it from the aggregates.
SELECT id, customer_id, username, first_name, last_name, email, phone, address_line1, address_line2, city, state, postal_code, country, date_of_birth, gender, company_name, tax_id, is_active, is_verified, email_verified, phone_verified, marketing_emails, marketing_sms, notes, tags, created_at, updated_at, last_login_at, preferred_language FROM customers WHERE id > :after ORDER BY id LIMIT :limit;
SELECT coalesce(sum(customers), 0)::int8, coalesce(sum(active), 0)::int8 FROM customer_counts WHERE kind = 'all';
