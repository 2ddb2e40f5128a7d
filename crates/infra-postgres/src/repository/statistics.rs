//! The statistics overview, the distinct places with their counts and the list's totals,
//! read from `customer_counts`: aggregates the database keeps in the transaction of every
//! write (migration `2026-12-02-100000_customer_counts`). So every answer is exact after
//! every commit, from any process, and costs O(number of groups) whatever the number of
//! customers; nothing here reads `customers`.
//!
//! A count is the sum of its group's slots (see the migration). The overview is one
//! statement, the places one per kind, each prepared once per connection ([`const_sql`]).
//! Only fixed kinds from a closed enum are put into SQL; every value is a bound parameter.

use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Double, Nullable, Text};
use diesel_async::AsyncPgConnection;
use domain::{CustomerStatistics, LocationCount, LocationLevel, RepositoryError, StatisticsWindow};

use crate::complete;
use crate::errors::from_diesel;
use crate::sql::{bind, const_sql};

/// Seconds in a Julian year (365.25 days): ages in years as a fraction.
const SECONDS_PER_YEAR: f64 = 31_557_600.0;

/// The whole overview in one statement: the totals as the first row (kind `all`), then the
/// largest countries and cities (at most `$6` each) and every gender, each kind's rows
/// largest first then by name. One statement rather than one per part: PostgreSQL's cost
/// here is mostly per statement, and the overview is asked often.
///
/// Days are kept as `YYYY-MM-DD` texts, which sort as the dates do. The mean age is now
/// minus the mean date of birth (both as epoch seconds, the date of birth as UTC wall time).
/// Groups are summed over their slots (and cities over their countries); `<> ''` leaves out
/// empty values; groups that counted down to zero are skipped. (`make bench` runs the same
/// file through pgbench as the overview's limit, its parameters written in.)
const OVERVIEW_SQL: &str = include_str!("../../sql/overview.sql");

/// One row of [`OVERVIEW_SQL`].
#[derive(QueryableByName)]
struct OverviewRow {
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = BigInt)]
    count: i64,
    #[diesel(sql_type = BigInt)]
    active: i64,
    #[diesel(sql_type = BigInt)]
    verified: i64,
    #[diesel(sql_type = BigInt)]
    today: i64,
    #[diesel(sql_type = BigInt)]
    week: i64,
    #[diesel(sql_type = BigInt)]
    month: i64,
    #[diesel(sql_type = Nullable<Double>)]
    average_age: Option<f64>,
}

#[derive(QueryableByName)]
struct GroupCount {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = BigInt)]
    count: i64,
}

/// The `kind` of a place column's rows in `customer_counts`: a literal, never client text.
fn kind_of(level: LocationLevel) -> &'static str {
    match level {
        LocationLevel::Country => "country",
        LocationLevel::City => "city",
        LocationLevel::State => "state",
    }
}

fn count_of(n: i64) -> u64 {
    u64::try_from(n).unwrap_or_default()
}

/// The values of one place column, summed over slots (and over countries, for cities and
/// states), largest first then by name; `<> ''` leaves out empty values; groups that counted
/// down to zero are skipped. One statement for every column and filter: prepared once.
const GROUP_SQL: &str = "\
SELECT value AS name, sum(customers)::int8 AS count FROM customer_counts
WHERE kind = $1 AND value <> '' AND ($2::text IS NULL OR lower(country) = lower($2))
GROUP BY value HAVING sum(customers) > 0
ORDER BY sum(customers) DESC, value";

/// Non-empty values of the column with their counts, largest first then by name, within
/// one country (case ignored) when given.
async fn counts_by(
    conn: &AsyncPgConnection,
    level: LocationLevel,
    country: Option<&str>,
) -> diesel::QueryResult<Vec<LocationCount>> {
    let mut conn = conn;
    let query = const_sql(
        GROUP_SQL,
        (
            bind::<Text, _>(kind_of(level)),
            bind::<Nullable<Text>, _>(country),
        ),
    );
    let rows: Vec<GroupCount> = complete::rows(query, &mut conn).await?;
    Ok(rows
        .into_iter()
        .map(|row| LocationCount {
            name: row.name,
            count: count_of(row.count),
        })
        .collect())
}

/// A UTC day as its key in `customer_counts`.
fn day_key(instant: chrono::DateTime<chrono::Utc>) -> String {
    instant.format("%Y-%m-%d").to_string()
}

/// The statistics overview for the window.
pub(super) async fn statistics(
    conn: &AsyncPgConnection,
    window: &StatisticsWindow,
) -> Result<CustomerStatistics, RepositoryError> {
    let mut conn = conn;
    let query = const_sql(
        OVERVIEW_SQL,
        (
            bind::<Text, _>(day_key(window.today_start)),
            bind::<Text, _>(day_key(window.week_start)),
            bind::<Text, _>(day_key(window.month_start)),
            bind::<Double, _>(window.now.timestamp_micros() as f64 / 1e6),
            bind::<Double, _>(SECONDS_PER_YEAR),
            bind::<BigInt, _>(i64::from(StatisticsWindow::TOP_LOCATIONS)),
        ),
    );
    let rows: Vec<OverviewRow> = complete::rows(query, &mut conn)
        .await
        .map_err(from_diesel)?;
    let mut overview = CustomerStatistics::default();
    for row in rows {
        let group = || LocationCount {
            name: row.name.clone(),
            count: count_of(row.count),
        };
        match row.kind.as_str() {
            "all" => {
                overview.total_customers = count_of(row.count);
                overview.active_customers = count_of(row.active);
                overview.verified_customers = count_of(row.verified);
                overview.new_customers_today = count_of(row.today);
                overview.new_customers_this_week = count_of(row.week);
                overview.new_customers_this_month = count_of(row.month);
                overview.average_customer_age = row.average_age;
            }
            "country" => overview.customers_by_country.push(group()),
            "city" => overview.customers_by_city.push(group()),
            "gender" => overview.gender_distribution.push(group()),
            other => {
                return Err(RepositoryError::Unexpected(format!(
                    "the overview returned a row of kind {other:?}"
                )));
            }
        }
    }
    Ok(overview)
}

/// Distinct non-empty values of a place column with their counts.
pub(super) async fn locations(
    conn: &AsyncPgConnection,
    level: LocationLevel,
    country: Option<&str>,
) -> Result<Vec<LocationCount>, RepositoryError> {
    counts_by(conn, level, country).await.map_err(from_diesel)
}

/// Every customer and the active ones, tombstones left out: the list's exact totals.
#[derive(QueryableByName)]
pub(super) struct ListTotals {
    #[diesel(sql_type = BigInt)]
    pub total: i64,
    #[diesel(sql_type = BigInt)]
    pub active: i64,
}

/// The list's totals: the `all` rows (one per slot) less the `erased` ones.
pub(super) async fn list_totals(conn: &AsyncPgConnection) -> diesel::QueryResult<ListTotals> {
    let mut conn = conn;
    let query = const_sql(
        "SELECT coalesce(sum(CASE kind WHEN 'all' THEN customers ELSE -customers END), 0)::int8 \
                    AS total, \
                coalesce(sum(CASE kind WHEN 'all' THEN active ELSE -active END), 0)::int8 \
                    AS active \
         FROM customer_counts WHERE kind IN ('all', 'erased')",
        (),
    );
    complete::one_row(query, &mut conn).await
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use diesel_async::AsyncConnection;

    use super::*;
    use test_db::TestDatabase;

    #[tokio::test]
    async fn the_overviews_statements_are_prepared_once_per_connection() {
        let db = TestDatabase::new().await;
        let mut conn = AsyncPgConnection::establish(db.url()).await.unwrap();
        let seen = test_db::record_statements(&mut conn);
        let window = StatisticsWindow::ending_at(Utc::now());
        for _ in 0..3 {
            statistics(&conn, &window).await.unwrap();
            locations(&conn, LocationLevel::City, Some("Norway"))
                .await
                .unwrap();
            list_totals(&conn).await.unwrap();
        }
        let seen = seen.lock().unwrap();
        let over_counts = |sql: &&String| sql.contains("customer_counts");
        // The overview, the places' one text and the list's totals: three texts, each
        // prepared once, although each ran several times.
        assert_eq!(
            seen.cached.iter().filter(over_counts).count(),
            3,
            "{seen:?}"
        );
        assert!(seen.started.iter().filter(over_counts).count() >= 9);
    }
}
