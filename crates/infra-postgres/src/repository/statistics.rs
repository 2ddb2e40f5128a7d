//! Aggregates: the statistics overview and the distinct places with their counts.
//!
//! The statistics are one aggregate query (`count(*) FILTER (..)` for the six counts and the
//! mean age) and one grouped query per map, pipelined on one connection: one round trip's
//! wait, no rows loaded. Only fixed column names from a closed enum are put into SQL text;
//! every value is a bound parameter.

use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Double, Nullable, Text, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::{CustomerStatistics, LocationCount, LocationLevel, RepositoryError, StatisticsWindow};

use crate::errors::from_diesel;

/// Seconds in a Julian year (365.25 days): ages in years as a fraction.
const SECONDS_PER_YEAR: f64 = 31_557_600.0;

/// `date_part` rather than `extract`: since PostgreSQL 14 `extract` returns `numeric`, and
/// averaging a million numerics took a third of the overview's time.
const TOTALS_SQL: &str = "\
SELECT count(*) AS total,
       count(*) FILTER (WHERE is_active) AS active,
       count(*) FILTER (WHERE is_verified) AS verified,
       count(*) FILTER (WHERE created_at >= $1 AND created_at <= $4) AS today,
       count(*) FILTER (WHERE created_at >= $2 AND created_at <= $4) AS week,
       count(*) FILTER (WHERE created_at >= $3 AND created_at <= $4) AS month,
       avg(date_part('epoch', ($4 AT TIME ZONE 'UTC') - date_of_birth)) / $5 AS average_age
FROM customers";

#[derive(QueryableByName)]
struct Totals {
    #[diesel(sql_type = BigInt)]
    total: i64,
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
    /// `date_of_birth` is stored as UTC wall time, hence `$now AT TIME ZONE 'UTC'`.
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

/// A column that can be grouped by; the name is a literal, never client text.
#[derive(Clone, Copy)]
enum Grouping {
    Country,
    City,
    State,
    Gender,
}

impl Grouping {
    fn column(self) -> &'static str {
        match self {
            Self::Country => "country",
            Self::City => "city",
            Self::State => "state",
            Self::Gender => "gender",
        }
    }
}

impl From<LocationLevel> for Grouping {
    fn from(level: LocationLevel) -> Self {
        match level {
            LocationLevel::Country => Self::Country,
            LocationLevel::City => Self::City,
            LocationLevel::State => Self::State,
        }
    }
}

fn count_of(n: i64) -> u64 {
    u64::try_from(n).unwrap_or_default()
}

/// Non-empty values of the column with their counts, largest first then by name, within
/// one country (case ignored) when given, at most `limit` of them when given.
async fn counts_by(
    conn: &AsyncPgConnection,
    grouping: Grouping,
    country: Option<&str>,
    limit: Option<u32>,
) -> diesel::QueryResult<Vec<LocationCount>> {
    let column = grouping.column();
    // `<> ''` also leaves out NULLs. `$1 IS NULL` lets one statement serve both cases.
    let sql = format!(
        "SELECT {column} AS name, count(*) AS count FROM customers \
         WHERE {column} <> '' AND ($1::text IS NULL OR lower(country) = lower($1)) \
         GROUP BY {column} ORDER BY count(*) DESC, {column} LIMIT $2"
    );
    let mut conn = conn;
    let rows: Vec<GroupCount> = diesel::sql_query(sql)
        .bind::<Nullable<Text>, _>(country)
        .bind::<Nullable<BigInt>, _>(limit.map(i64::from))
        .load(&mut conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| LocationCount {
            name: row.name,
            count: count_of(row.count),
        })
        .collect())
}

/// The statistics overview for the window.
pub(super) async fn statistics(
    conn: &AsyncPgConnection,
    window: &StatisticsWindow,
) -> Result<CustomerStatistics, RepositoryError> {
    let mut totals_conn = conn;
    let totals = diesel::sql_query(TOTALS_SQL)
        .bind::<Timestamptz, _>(window.today_start)
        .bind::<Timestamptz, _>(window.week_start)
        .bind::<Timestamptz, _>(window.month_start)
        .bind::<Timestamptz, _>(window.now)
        .bind::<Double, _>(SECONDS_PER_YEAR);
    let totals = crate::complete::one_row::<_, _, Totals>(totals, &mut totals_conn);
    let top = Some(StatisticsWindow::TOP_LOCATIONS);
    let (totals, by_country, by_city, by_gender) = tokio::try_join!(
        totals,
        counts_by(conn, Grouping::Country, None, top),
        counts_by(conn, Grouping::City, None, top),
        counts_by(conn, Grouping::Gender, None, None),
    )
    .map_err(from_diesel)?;
    Ok(CustomerStatistics {
        total_customers: count_of(totals.total),
        active_customers: count_of(totals.active),
        verified_customers: count_of(totals.verified),
        new_customers_today: count_of(totals.today),
        new_customers_this_week: count_of(totals.week),
        new_customers_this_month: count_of(totals.month),
        customers_by_country: by_country,
        customers_by_city: by_city,
        average_customer_age: totals.average_age,
        gender_distribution: by_gender,
    })
}

/// Distinct non-empty values of a place column with their counts.
pub(super) async fn locations(
    conn: &AsyncPgConnection,
    level: LocationLevel,
    country: Option<&str>,
) -> Result<Vec<LocationCount>, RepositoryError> {
    counts_by(conn, level.into(), country, None)
        .await
        .map_err(from_diesel)
}
