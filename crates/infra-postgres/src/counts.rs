//! Operations on the aggregates (`customer_counts`, kept by triggers with every write; see
//! migration `2026-12-02-100000_customer_counts`): checking them against the customers and
//! rebuilding them, for `customer-api stats check|rebuild`, and folding their slots, which
//! the service does now and then.

use std::fmt;

use diesel::QueryableByName;
use diesel::sql_types::{Nullable, Text};
use diesel_async::{RunQueryDsl, SimpleAsyncConnection};

use crate::complete;
use crate::errors::from_diesel;
use crate::pool::{Pool, Statements};
use domain::RepositoryError;

/// One group whose kept counts differ from what the customers give.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct CountDrift {
    /// `all`, `day`, `country`, `city`, `state` or `gender`.
    #[diesel(sql_type = Text)]
    pub kind: String,
    /// The group's value (a day, a place, a gender; empty for `all`).
    #[diesel(sql_type = Text)]
    pub value: String,
    /// For cities and states, the country they were counted in.
    #[diesel(sql_type = Nullable<Text>)]
    pub country: Option<String>,
    /// The kept counts (`customers active verified born born_sum`), `None` when missing.
    #[diesel(sql_type = Nullable<Text>)]
    pub kept: Option<String>,
    /// The counts recomputed from `customers`, `None` when no customer is in the group.
    #[diesel(sql_type = Nullable<Text>)]
    pub actual: Option<String>,
}

impl fmt::Display for CountDrift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let or_none = |v: &Option<String>| v.clone().unwrap_or_else(|| "none".into());
        write!(f, "{} {:?}", self.kind, self.value)?;
        if let Some(country) = &self.country {
            write!(f, " in {country:?}")?;
        }
        write!(
            f,
            ": kept {}, actual {} (customers active verified born born_sum)",
            or_none(&self.kept),
            or_none(&self.actual)
        )
    }
}

/// One statement, so one snapshot: the kept sums (groups that counted down to zero
/// omitted) against a recomputation by the same `customer_count_parts_of` the triggers use (by
/// column, so that it also runs on a distributed table's shards).
const DRIFT_SQL: &str = "\
WITH kept AS (
    SELECT kind, value, country, concat_ws(' ', sum(customers), sum(active), sum(verified),
           sum(born), sum(born_sum)) AS counts
    FROM customer_counts GROUP BY kind, value, country
    HAVING sum(customers) <> 0 OR sum(active) <> 0 OR sum(verified) <> 0 OR sum(born) <> 0
        OR sum(born_sum) <> 0
), actual AS (
    SELECT p.kind, p.value, p.country, concat_ws(' ', sum(p.customers), sum(p.active),
           sum(p.verified), sum(p.born), sum(p.born_sum)) AS counts
    FROM customers AS c,
         customer_count_parts_of(c.country, c.city, c.state, c.gender, c.created_at,
                                 c.is_active, c.is_verified, c.date_of_birth, c.erased_at) AS p
    GROUP BY p.kind, p.value, p.country
)
SELECT coalesce(k.kind, a.kind) AS kind, coalesce(k.value, a.value) AS value,
       coalesce(k.country, a.country) AS country, k.counts AS kept, a.counts AS actual
FROM kept AS k FULL JOIN actual AS a
  ON k.kind = a.kind AND k.value = a.value AND k.country IS NOT DISTINCT FROM a.country
WHERE k.counts IS DISTINCT FROM a.counts
ORDER BY 1, 2, 3";

/// Runs `body` on a connection without the service's statement timeout (both operations
/// read every customer): one outside the pool, closed afterwards, whose server may stay
/// silent for the maintenance timeout; behind a transaction-mode pooler in a transaction of
/// its own that lifts the timeout for itself.
async fn untimed<T, F>(pool: &Pool, body: F) -> Result<T, RepositoryError>
where
    F: Statements<T>,
    T: Send,
{
    let mut owned = pool.maintenance_connection().await?;
    match pool.untimed_call() {
        Some(call) => call.run(&mut owned, body).await,
        None => {
            owned
                .batch_execute("SET statement_timeout = 0")
                .await
                .map_err(from_diesel)?;
            body(&mut owned).await
        }
    }
}

/// Every group whose kept counts differ from a recomputation from `customers` (a full scan:
/// about a second per million customers). Empty when the aggregates are right.
///
/// # Errors
/// When the database cannot be reached or the statement fails.
pub async fn count_drift(pool: &Pool) -> Result<Vec<CountDrift>, domain::RepositoryError> {
    untimed(pool, async |conn| {
        complete::rows(diesel::sql_query(DRIFT_SQL), conn)
            .await
            .map_err(from_diesel)
    })
    .await
}

/// Recomputes the aggregates from `customers` and replaces them, in one transaction that
/// makes writers wait (readers go on), so no write falls between the two.
///
/// # Errors
/// When the database cannot be reached or the statement fails.
pub async fn rebuild_counts(pool: &Pool) -> Result<(), domain::RepositoryError> {
    // `execute` waits for the end of the answer, so this returns after the commit.
    untimed(pool, async |conn| {
        diesel::sql_query("SELECT customer_counts_rebuild()")
            .execute(conn)
            .await
            .map(drop)
            .map_err(from_diesel)
    })
    .await
}

/// Folds every group's slots into one row (`customer_counts_compact()`), while writers go
/// on; returns how many rows were folded. Writes spread each busy group over up to 16
/// rows; folding keeps what the statistics read small.
///
/// # Errors
/// When the database cannot be reached or the statement fails.
pub async fn compact_counts(pool: &Pool) -> Result<u64, domain::RepositoryError> {
    #[derive(QueryableByName)]
    struct Folded {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        folded: i64,
    }
    let folded: Folded = pool
        .call(async |conn| {
            complete::one_row(
                diesel::sql_query("SELECT customer_counts_compact() AS folded"),
                conn,
            )
            .await
            .map_err(from_diesel)
        })
        .await?;
    Ok(u64::try_from(folded.folded).unwrap_or_default())
}
