//! The one `INSERT ... SELECT generate_series` that generates customers inside PostgreSQL.
//!
//! Row `n` draws four 63-bit numbers from `hashint8extended(n, seed)` (PostgreSQL's stable
//! hash, the one hash partitioning relies on), so the same seed gives the same rows on any
//! server, and slices them into every field. Uniqueness does not rest on luck:
//! - `customer_id` is a bijection of `n` on 32 bits (an add, two odd multiplications and
//!   three xor-shifts, each invertible modulo 2^32), printed as 8 upper-case hex digits;
//! - emails end in `n` after a local part of letters and dots only, so two rows differ;
//! - usernames are the domain's base (letters of first + last name, at most 20), bare for
//!   the first row of each base and followed by `n` for the others.
//!
//! `created_at` grows with `n` (so with `id`, as in a table filled over time), over the two
//! years before `$21`, with sign-ups growing linearly: row `n` of `N` is at
//! `start + 2 years * sqrt(n / N)`.

/// The 32-bit permutation of `x0` (an expression in `0..2^32`) as nested SQL.
fn permutation(x0: &str) -> String {
    let xorshift = |x: &str| format!("({x} # ({x} >> 16))");
    let multiply = |x: &str| format!("(({x} * 73244475) & 4294967295)");
    xorshift(&multiply(&xorshift(&multiply(&xorshift(x0)))))
}

/// `$1 .. $18` are the arrays of `SeedTables` in field order, `$19` the seed, `$20` the
/// number of rows, `$21` the instant the two years of `created_at` end at. With `with_ids`
/// (an empty table) row `n` also gets `id = n`; otherwise the ids come from the identity
/// and rows colliding with existing ones are skipped.
pub(super) fn insert_sql(with_ids: bool) -> String {
    let (id_column, id_value, on_conflict) = if with_ids {
        ("id, ", "g.n, ", "")
    } else {
        ("", "", " ON CONFLICT DO NOTHING")
    };
    let customer_id = permutation("((g.n + (hashint8extended($19, 0) & 4294967295)) & 4294967295)");
    format!(
        "INSERT INTO customers ({id_column}customer_id, username, first_name, last_name, email,
    phone, address_line1, city, state, postal_code, country, date_of_birth, gender,
    company_name, is_active, is_verified, email_verified, phone_verified, marketing_emails,
    marketing_sms, tags, created_at, updated_at, last_login_at)
WITH g AS MATERIALIZED (
    SELECT r.*, left($2[fi] || $5[li], 20) AS base, ($21::timestamptz
               - 63072000 * (1 - sqrt(n::float8 / $20)) * interval '1 second')
               AS created_at
    FROM (
        SELECT r.*,
               $3[1 + a % cardinality($3)] AS fi,
               $6[1 + (a >> 16) % cardinality($6)] AS li,
               $11[1 + (a >> 32) % cardinality($11)] AS pi
        FROM (
            SELECT n,
                   hashint8extended(n, $19 * 4) & 9223372036854775807 AS a,
                   hashint8extended(n, $19 * 4 + 1) & 9223372036854775807 AS b,
                   hashint8extended(n, $19 * 4 + 2) & 9223372036854775807 AS c,
                   hashint8extended(n, $19 * 4 + 3) & 9223372036854775807 AS d
            FROM generate_series(1::bigint, $20) AS n
        ) AS r
    ) AS r
),
firsts AS (SELECT min(n) AS n FROM g GROUP BY base)
SELECT {id_value}
    'CUST_' || upper(lpad(to_hex({customer_id}), 8, '0')),
    CASE WHEN f.n IS NULL THEN g.base || g.n ELSE g.base END,
    $1[fi],
    $4[li],
    CASE b % 4
        WHEN 0 THEN $2[fi] || '.' || $5[li]
        WHEN 1 THEN left($2[fi], 1) || $5[li]
        WHEN 2 THEN $2[fi]
        ELSE $5[li] || '.' || $2[fi]
    END || g.n || '@' || $13[$14[1 + (b >> 8) % cardinality($14)]],
    CASE WHEN c % 4 <> 0 THEN $10[pi] || ' ' || (100 + (c >> 2) % 900) || ' '
        || lpad(((c >> 12) % 1000000)::text, 6, '0') END,
    CASE WHEN (c >> 32) % 20 <> 0 THEN (1 + (c >> 37) % 999) || ' '
        || $12[1 + (c >> 47) % cardinality($12)] END,
    $7[pi],
    $8[pi],
    CASE WHEN (c >> 32) % 20 <> 0 THEN lpad((d % 100000)::text, 5, '0') END,
    $9[pi],
    CASE WHEN (b >> 12) % 100 < 85 THEN date_trunc('day', $21::timestamptz AT TIME ZONE 'UTC')
        - (6570 + (b >> 20) % 22630) * interval '1 day' END,
    CASE WHEN (b >> 40) % 100 < 46 THEN 'male' WHEN (b >> 40) % 100 < 92 THEN 'female'
        WHEN (b >> 40) % 100 < 94 THEN 'other'
        WHEN (b >> 40) % 100 < 97 THEN 'prefer_not_to_say' END,
    CASE WHEN (d >> 17) % 10 < 4 THEN $17[1 + (d >> 21) % cardinality($17)] || ' '
        || $18[1 + (d >> 26) % cardinality($18)] END,
    (d >> 31) % 100 < 92,
    (d >> 38) % 100 < 35,
    (d >> 45) % 100 < 60,
    c % 4 <> 0 AND (b >> 48) % 100 < 30,
    (b >> 55) % 100 < 70,
    (d >> 52) % 100 < 20,
    string_to_array($15[$16[1 + (a >> 40) % cardinality($16)]], ','),
    g.created_at,
    g.created_at + ($21::timestamptz - g.created_at) * (((d >> 59) % 16)::float8 / 32),
    CASE WHEN (a >> 56) % 10 < 7
        THEN g.created_at + ($21::timestamptz - g.created_at) * (((a >> 50) % 64)::float8 / 64) END
FROM g LEFT JOIN firsts AS f ON f.n = g.n{on_conflict}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same permutation in Rust, to check it is one on a sample.
    fn permute(x: u64) -> u64 {
        let xs = |x: u64| x ^ (x >> 16);
        let mul = |x: u64| (x * 73_244_475) & 0xFFFF_FFFF;
        xs(mul(xs(mul(xs(x)))))
    }

    #[test]
    fn the_permutation_never_maps_two_numbers_to_one() {
        let mut seen = std::collections::HashSet::new();
        for x in (0..200_000_u64).chain(0xFFFF_0000..0xFFFF_FFFF) {
            assert!(seen.insert(permute(x)), "{x}");
            assert!(permute(x) <= 0xFFFF_FFFF);
        }
        assert!(permutation("x").contains("73244475"));
    }

    #[test]
    fn only_a_non_empty_table_skips_conflicts_and_leaves_ids_to_the_identity() {
        assert!(insert_sql(true).starts_with("INSERT INTO customers (id, "));
        assert!(!insert_sql(true).contains("ON CONFLICT"));
        assert!(insert_sql(false).ends_with("ON CONFLICT DO NOTHING"));
    }
}
