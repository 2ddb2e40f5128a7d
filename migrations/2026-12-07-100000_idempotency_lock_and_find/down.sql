DROP FUNCTION idempotency_lock_and_find(text, text, timestamptz);
