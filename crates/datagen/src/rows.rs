//! The generated customers, row by row, as the generator streams them to PostgreSQL.
//!
//! Row `n` (from 1) draws four 64-bit numbers from SplitMix64 over `n` and the seed, so
//! the same seed and `until` give the same rows on any machine, and slices them into every
//! field. Uniqueness does not rest on luck:
//! - `customer_id` is a bijection of `n` on 32 bits (an add, two odd multiplications and
//!   three xor-shifts, each invertible modulo 2^32), printed as 8 upper-case hex digits;
//! - emails end in `n` after a local part of letters and dots only, so two rows differ;
//! - usernames are the domain's base (letters of first + last name, at most 20), bare for
//!   the first row of each base and followed by `n` for the others.
//!
//! `created_at` grows with `n` (so with `id`, as in a table filled over time), over the two
//! years before `until`, with sign-ups growing linearly: row `n` of `N` is at
//! `until - 2 years * (1 - sqrt(n / N))`.

use std::collections::HashSet;

use chrono::{DateTime, Days, NaiveDateTime, SubsecRound, TimeDelta, Utc};
use tokio_postgres::types::{ToSql, Type};

use super::tables::Tables;

/// The columns a row fills, in the order of [`Row::values`] and [`COLUMN_TYPES`].
pub(super) const COLUMNS: &str = "id, customer_id, username, first_name, last_name, email, \
    phone, address_line1, city, state, postal_code, country, date_of_birth, gender, \
    company_name, is_active, is_verified, email_verified, phone_verified, marketing_emails, \
    marketing_sms, tags, created_at, updated_at, last_login_at, preferred_language";

/// The type of each of [`COLUMNS`] in the table: binary `COPY` sends values in exactly
/// these types.
pub(super) const COLUMN_TYPES: [Type; 26] = [
    Type::INT8,
    Type::VARCHAR,
    Type::VARCHAR,
    Type::VARCHAR,
    Type::VARCHAR,
    Type::VARCHAR,
    Type::VARCHAR,
    Type::VARCHAR,
    Type::VARCHAR,
    Type::VARCHAR,
    Type::VARCHAR,
    Type::VARCHAR,
    Type::TIMESTAMP,
    Type::VARCHAR,
    Type::VARCHAR,
    Type::BOOL,
    Type::BOOL,
    Type::BOOL,
    Type::BOOL,
    Type::BOOL,
    Type::BOOL,
    Type::TEXT_ARRAY,
    Type::TIMESTAMPTZ,
    Type::TIMESTAMPTZ,
    Type::TIMESTAMPTZ,
    Type::TEXT,
];

/// Two years, in microseconds: the span `created_at` covers.
const TWO_YEARS_MICROS: f64 = 63_072_000_000_000.0;

/// One generated customer.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Row<'t> {
    pub id: i64,
    pub customer_id: String,
    pub username: String,
    pub first_name: &'t str,
    pub last_name: &'t str,
    pub email: String,
    pub phone: Option<String>,
    pub address_line1: Option<String>,
    pub city: &'t str,
    pub state: &'t str,
    pub postal_code: Option<String>,
    pub country: &'t str,
    pub date_of_birth: Option<NaiveDateTime>,
    pub gender: Option<&'static str>,
    pub company_name: Option<String>,
    pub is_active: bool,
    pub is_verified: bool,
    pub email_verified: bool,
    pub phone_verified: bool,
    pub marketing_emails: bool,
    pub marketing_sms: bool,
    pub tags: &'t [String],
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
    pub preferred_language: Option<&'static str>,
}

impl Row<'_> {
    /// The values in the order of [`COLUMNS`].
    pub(super) fn values(&self) -> [&(dyn ToSql + Sync); 26] {
        [
            &self.id,
            &self.customer_id,
            &self.username,
            &self.first_name,
            &self.last_name,
            &self.email,
            &self.phone,
            &self.address_line1,
            &self.city,
            &self.state,
            &self.postal_code,
            &self.country,
            &self.date_of_birth,
            &self.gender,
            &self.company_name,
            &self.is_active,
            &self.is_verified,
            &self.email_verified,
            &self.phone_verified,
            &self.marketing_emails,
            &self.marketing_sms,
            &self.tags,
            &self.created_at,
            &self.updated_at,
            &self.last_login_at,
            &self.preferred_language,
        ]
    }
}

/// SplitMix64's finaliser: a bijection on 64 bits that mixes every input bit into every
/// output bit.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The 32-bit permutation behind customer ids.
fn permute(x: u32) -> u32 {
    let xs = |x: u32| x ^ (x >> 16);
    let mul = |x: u32| x.wrapping_mul(73_244_475);
    xs(mul(xs(mul(xs(x)))))
}

/// `x % len` as an index (`len` > 0).
fn pick(x: u64, len: usize) -> usize {
    // A usize always fits in a u64 and the remainder is below len.
    (x % len as u64) as usize
}

/// The customers of one seed, generated in order of `n`.
pub(super) struct Generator<'t> {
    tables: &'t Tables,
    count: u64,
    /// Mixed into every draw: the seed's stream.
    key: u64,
    /// Added to `n` before the permutation, so seeds give different customer ids.
    id_offset: u32,
    until: DateTime<Utc>,
    /// Midnight (UTC) of `until`'s day, which dates of birth count back from.
    today: NaiveDateTime,
    /// Username bases already given to a row, which later rows suffix.
    bases: HashSet<String>,
}

impl<'t> Generator<'t> {
    /// The generator of `count` customers of data set `seed`, created during the two
    /// years before `until` (kept to the microsecond, as PostgreSQL stores it).
    pub(super) fn new(tables: &'t Tables, count: u64, seed: u32, until: DateTime<Utc>) -> Self {
        let key = mix(u64::from(seed));
        let until = until.trunc_subsecs(6);
        Self {
            tables,
            count,
            key,
            id_offset: (mix(key) >> 32) as u32,
            until,
            today: until.date_naive().and_time(chrono::NaiveTime::MIN),
            bases: HashSet::new(),
        }
    }

    /// Row `n`; rows must be asked for in order, from 1.
    pub(super) fn row(&mut self, n: u64) -> Row<'t> {
        let t = self.tables;
        let draw = |k: u64| mix(mix(n ^ self.key).wrapping_add(k));
        let (a, b, c, d) = (draw(0), draw(1), draw(2), draw(3));
        // A draw of its own: adding the column left every other column as it was.
        let e = draw(4);

        let fi = t.first_wheel[pick(a, t.first_wheel.len())];
        let li = t.last_wheel[pick(a >> 16, t.last_wheel.len())];
        let place = t.places[t.place_wheel[pick(a >> 32, t.place_wheel.len())]];
        let (first, last) = (t.first_keys[fi].as_str(), t.last_keys[li].as_str());

        let mut base = format!("{first}{last}");
        base.truncate(20);
        let username = if self.bases.contains(&base) {
            format!("{base}{n}")
        } else {
            self.bases.insert(base.clone());
            base
        };
        let local = match b % 4 {
            0 => format!("{first}.{last}"),
            1 => format!("{}{last}", &first[..1]),
            2 => first.to_owned(),
            _ => format!("{last}.{first}"),
        };
        let domain = t.domains[t.domain_wheel[pick(b >> 8, t.domain_wheel.len())]];
        let has_phone = c % 4 != 0;
        let has_address = (c >> 32) % 20 != 0;

        let created_at =
            self.until - micros(TWO_YEARS_MICROS * (1.0 - (n as f64 / self.count as f64).sqrt()));
        let since = self.until - created_at;
        let gender = match (b >> 40) % 100 {
            0..46 => Some("male"),
            46..92 => Some("female"),
            92..94 => Some("other"),
            94..97 => Some("prefer_not_to_say"),
            _ => None,
        };
        Row {
            id: i64::try_from(n).unwrap_or(i64::MAX),
            customer_id: format!(
                "CUST_{:08X}",
                // Only the low 32 bits of n: ids are unique for up to 2^32 rows.
                permute((n as u32).wrapping_add(self.id_offset))
            ),
            username,
            first_name: t.first_names[fi],
            last_name: t.last_names[li],
            email: format!("{local}{n}@{domain}"),
            phone: has_phone.then(|| {
                format!(
                    "{} {} {:06}",
                    place.phone_prefix,
                    100 + (c >> 2) % 900,
                    (c >> 12) % 1_000_000
                )
            }),
            address_line1: has_address.then(|| {
                format!(
                    "{} {}",
                    1 + (c >> 37) % 999,
                    t.streets[pick(c >> 47, t.streets.len())]
                )
            }),
            city: place.city,
            state: place.state,
            postal_code: has_address.then(|| format!("{:05}", d % 100_000)),
            country: place.country,
            date_of_birth: ((b >> 12) % 100 < 85)
                .then(|| self.today - Days::new(6570 + (b >> 20) % 22_630)),
            gender,
            company_name: ((d >> 17) % 10 < 4).then(|| {
                format!(
                    "{} {}",
                    t.company_words[pick(d >> 21, t.company_words.len())],
                    t.company_suffixes[pick(d >> 26, t.company_suffixes.len())]
                )
            }),
            is_active: (d >> 31) % 100 < 92,
            is_verified: (d >> 38) % 100 < 35,
            email_verified: (d >> 45) % 100 < 60,
            phone_verified: has_phone && (b >> 48) % 100 < 30,
            marketing_emails: (b >> 55) % 100 < 70,
            marketing_sms: (d >> 52) % 100 < 20,
            tags: &t.tag_sets[t.tag_wheel[pick(a >> 40, t.tag_wheel.len())]],
            created_at,
            updated_at: created_at + fraction(since, (d >> 59) % 16, 32),
            last_login_at: ((a >> 56) % 10 < 7)
                .then(|| created_at + fraction(since, (a >> 50) % 64, 64)),
            // Two customers in three say which language they prefer.
            preferred_language: (e % 3 != 0).then(|| place.language(e >> 8)).flatten(),
        }
    }
}

fn micros(us: f64) -> TimeDelta {
    // At most two years of microseconds: far inside i64.
    TimeDelta::microseconds(us.round() as i64)
}

/// `span * numerator / denominator`, to the microsecond.
fn fraction(span: TimeDelta, numerator: u64, denominator: u64) -> TimeDelta {
    let us = span.num_microseconds().unwrap_or(0);
    // numerator and denominator are below 65.
    TimeDelta::microseconds(us * numerator as i64 / denominator as i64)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn until() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 6, 1, 12, 0, 0).unwrap()
    }

    fn rows(count: u64, seed: u32) -> Vec<Row<'static>> {
        let tables = Box::leak(Box::new(Tables::build()));
        let mut generator = Generator::new(tables, count, seed, until());
        (1..=count).map(|n| generator.row(n)).collect()
    }

    #[test]
    fn the_permutation_never_maps_two_numbers_to_one() {
        let mut seen = HashSet::new();
        for x in (0..200_000_u32).chain(0xFFFF_0000..=0xFFFF_FFFF) {
            assert!(seen.insert(permute(x)), "{x}");
        }
    }

    #[test]
    fn every_value_has_its_column_and_its_type() {
        assert_eq!(COLUMNS.split(", ").count(), COLUMN_TYPES.len());
        let row = &rows(1, 1)[0];
        for (value, ty) in row.values().iter().zip(&COLUMN_TYPES) {
            let mut buf = bytes::BytesMut::new();
            value.to_sql_checked(ty, &mut buf).unwrap();
        }
    }

    #[test]
    fn keys_are_unique_and_common_names_get_suffixed_usernames() {
        let rows = rows(20_000, 5);
        let distinct = |f: fn(&Row) -> String| rows.iter().map(f).collect::<HashSet<_>>().len();
        assert_eq!(distinct(|r| r.customer_id.clone()), rows.len());
        assert_eq!(distinct(|r| r.username.clone()), rows.len());
        assert_eq!(distinct(|r| r.email.to_lowercase()), rows.len());
        let bare = rows
            .iter()
            .filter(|r| !r.username.ends_with(|c: char| c.is_ascii_digit()))
            .count();
        assert!(bare > 1000 && bare < 10_000, "{bare} bare usernames");
        assert!(rows.iter().all(|r| r.username.len() <= 50));
    }

    #[test]
    fn the_same_seed_gives_the_same_rows_and_another_seed_others() {
        assert_eq!(rows(50, 3), rows(50, 3));
        let (three, four) = (rows(50, 3), rows(50, 4));
        assert!(
            three
                .iter()
                .zip(&four)
                .all(|(x, y)| x.customer_id != y.customer_id)
        );
        assert_ne!(
            three.iter().map(|r| &r.email).collect::<Vec<_>>(),
            four.iter().map(|r| &r.email).collect::<Vec<_>>()
        );
    }

    #[test]
    fn dates_are_ordered_within_the_two_years() {
        let rows = rows(5000, 2);
        let start = until() - TimeDelta::days(731);
        for pair in rows.windows(2) {
            assert!(pair[0].created_at <= pair[1].created_at);
        }
        assert_eq!(rows.last().map(|r| r.created_at), Some(until()));
        for r in &rows {
            assert!(r.created_at > start && r.created_at <= until());
            assert!(r.updated_at >= r.created_at && r.updated_at <= until());
            assert!(
                r.last_login_at
                    .is_none_or(|l| l >= r.created_at && l <= until())
            );
            assert!(
                r.date_of_birth
                    .is_none_or(|b| b.and_utc() <= until() - TimeDelta::days(6570))
            );
        }
        let share = |f: fn(&Row) -> bool| rows.iter().filter(|r| f(r)).count() * 100 / rows.len();
        assert!((80..=90).contains(&share(|r| r.date_of_birth.is_some())));
        assert!((70..=80).contains(&share(|r| r.phone.is_some())));
        assert!((88..=96).contains(&share(|r| r.is_active)));
        assert!((60..=75).contains(&share(|r| r.last_login_at.is_some())));
        assert!((62..=72).contains(&share(|r| r.preferred_language.is_some())));
        let in_usa = rows.iter().filter(|r| r.country == "USA");
        assert!(
            in_usa
                .filter_map(|r| r.preferred_language)
                .all(|tag| ["en-US", "es-US", "zh-Hans", "vi"].contains(&tag))
        );
    }
}
