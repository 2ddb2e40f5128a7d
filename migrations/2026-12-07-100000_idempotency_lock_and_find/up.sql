-- A keyed request's first round trip: takes the key's lock in the request's transaction
-- and, only once it holds it, reads the key's answer stored at or after `since`.
--
-- One statement instead of two. Two statements sent at once (pipelined) would not keep
-- their order whenever the lock's had to be prepared first, and the answer must be read
-- after the lock is held. One SQL statement that did both would read with the snapshot it
-- took before the lock: an answer committed by the lock's previous holder in between would
-- be missed, and the request run twice. In a volatile PL/pgSQL function each command takes
-- a snapshot of its own (READ COMMITTED), so the read sees every commit made before the lock
-- was granted.
--
-- The lock is the one `pg_try_advisory_xact_lock` of the key (it never waits), as before:
-- one 64-bit lock per key, two keys that share a hash only wait for each other. A key in
-- use answers one row with `locked` false; a key held, one row with its answer, or `NULL`s
-- when it has none.
CREATE FUNCTION idempotency_lock_and_find(key_scope text, key_name text, since timestamptz)
RETURNS TABLE (
    locked boolean,
    fingerprint bytea,
    status smallint,
    header_names text[],
    header_values text[],
    body bytea
)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF NOT pg_try_advisory_xact_lock(hashtextextended(key_scope || chr(10) || key_name, 17)) THEN
        RETURN QUERY SELECT false, NULL::bytea, NULL::smallint, NULL::text[], NULL::text[], NULL::bytea;
        RETURN;
    END IF;
    RETURN QUERY
        SELECT true, r.fingerprint, r.status, r.header_names, r.header_values, r.body
        FROM (SELECT) AS held
        LEFT JOIN idempotency_records AS r
            ON r.scope = key_scope AND r.key = key_name AND r.created_at >= since;
END
$$;
