//! How many customers match a filter, cheaply at any size: exact up to
//! [`EXACT_TOTAL_LIMIT`], an estimate above it.
//!
//! An exact `count(*)` visits every match: over a million customers that is a third of a
//! second for every page of the list, and thousands of heap pages for a search of a common
//! name. Counting stops after `EXACT_TOTAL_LIMIT + 1` matches instead (`SELECT count(*)
//! FROM (... LIMIT n)`), so small tables and selective filters get exact totals at the
//! cost of at most that many index entries. When the limit is reached the total is
//! PostgreSQL's estimate, never less than what was counted: for the whole table the
//! planner's own arithmetic over `pg_class` (rows per page at the last `ANALYZE` times the
//! current number of pages), for a filter the row estimate of `EXPLAIN` (planned, not run).
//! A table estimated far above the limit is not counted at all ([`COUNT_SKIP_ESTIMATE`]).
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use diesel::QueryResult;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{BigInt, Oid, Text};
use diesel_async::AsyncPgConnection;

use crate::complete;
use crate::schema::customers;
use crate::sql::PlannedEachTime;

/// Up to this many matches the total is exact.
pub(crate) const EXACT_TOTAL_LIMIT: i64 = 1000;

/// `SELECT count(*) FROM (<query> LIMIT <limit>) AS bounded`.
#[derive(Debug, QueryId)]
struct CountUpTo<Q> {
    query: Q,
    limit: i64,
}

impl<Q> Query for CountUpTo<Q> {
    type SqlType = BigInt;
}

impl<Q: QueryFragment<Pg>> QueryFragment<Pg> for CountUpTo<Q> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("SELECT count(*) FROM (");
        self.query.walk_ast(out.reborrow())?;
        // A literal, not a parameter: a cached generic plan then still knows the limit.
        out.push_sql(&format!(" LIMIT {}) AS bounded", self.limit));
        Ok(())
    }
}

/// `EXPLAIN (FORMAT JSON) <query>`: the plan as one JSON text, the query not run.
#[derive(Debug, QueryId)]
struct ExplainJson<Q>(Q);

impl<Q> Query for ExplainJson<Q> {
    type SqlType = Text;
}

impl<Q: QueryFragment<Pg>> QueryFragment<Pg> for ExplainJson<Q> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("EXPLAIN (FORMAT JSON) ");
        self.0.walk_ast(out.reborrow())
    }
}

/// The planner's row estimate of the top plan node, from `EXPLAIN (FORMAT JSON)`.
fn estimated_rows(plan_json: &str) -> Option<f64> {
    let plan: serde_json::Value = serde_json::from_str(plan_json).ok()?;
    plan.get(0)?.get("Plan")?.get("Plan Rows")?.as_f64()
}

/// What a filter narrows the table to, for the estimate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Scope {
    /// Every customer: the estimate is the table's size, as the planner reckons it.
    Table,
    /// Some customers: the estimate is the planner's for the filter.
    Filtered,
}

/// Above this many rows by the table's estimate the list does not count at all: its total
/// is the estimate. Ten times [`EXACT_TOTAL_LIMIT`], so a table near the limit is counted
/// whatever the estimate's error; only a table that shrank from over 10,000 rows to 1,000
/// or fewer since its last `ANALYZE` (autovacuum analyses after 10% of the rows changed)
/// could get an estimate where a count was due.
pub(crate) const COUNT_SKIP_ESTIMATE: f64 = 10.0 * EXACT_TOTAL_LIMIT as f64;

mod catalog {
    diesel::table! {
        pg_catalog.pg_class (oid) {
            oid -> Oid,
            reltuples -> Float4,
            relpages -> Integer,
        }
    }
}

diesel::define_sql_function! {
    /// The table's oid, or `NULL` when there is none by that name.
    fn to_regclass(name: Text) -> Nullable<Oid>;
}
diesel::define_sql_function! {
    /// The table's size on disk, in bytes.
    fn pg_relation_size(relation: Oid) -> BigInt;
}
diesel::define_sql_function! {
    /// A server setting, as text.
    fn current_setting(name: Text) -> Text;
}

/// The planner's estimate of the table's rows without planning a query: the row density
/// of the last `ANALYZE` times the table's current size (what the planner itself does);
/// `None` before any `ANALYZE`. One small catalog query, prepared once per connection.
async fn table_estimate(conn: &AsyncPgConnection) -> QueryResult<Option<f64>> {
    use catalog::pg_class;
    let mut conn = conn;
    let query = pg_class::table
        .filter(pg_class::oid.nullable().eq(to_regclass("customers")))
        .select((
            pg_class::reltuples,
            pg_class::relpages,
            pg_relation_size(pg_class::oid),
            current_setting("block_size"),
        ));
    let (tuples, pages, bytes, block_size) =
        complete::one_row::<_, _, (f32, i32, i64, String)>(query, &mut conn).await?;
    let block_size: f64 = block_size.parse().unwrap_or(8192.0);
    Ok((tuples >= 0.0)
        .then(|| f64::from(tuples) / f64::from(pages.max(1)) * (bytes as f64 / block_size)))
}

/// How long a table estimate above [`COUNT_SKIP_ESTIMATE`] is reused before it is read
/// again. Only such estimates are kept, so a table small enough to be counted is always
/// counted.
const LARGE_TABLE_ESTIMATE_TTL: Duration = Duration::from_secs(1);

/// The last table estimate above [`COUNT_SKIP_ESTIMATE`] and when it was read: the list's
/// pages then take their total from memory instead of a catalog query each (about a tenth
/// of a page's cost). Shared by the clones of a repository.
#[derive(Debug, Clone, Default)]
pub(super) struct LargeTableEstimate(Arc<Mutex<Option<(Instant, f64)>>>);

impl LargeTableEstimate {
    fn fresh(&self) -> Option<f64> {
        let held = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        held.filter(|(read, _)| read.elapsed() < LARGE_TABLE_ESTIMATE_TTL)
            .map(|(_, rows)| rows)
    }

    fn remember(&self, rows: Option<f64>) {
        let mut held = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        *held = rows
            .filter(|rows| *rows > COUNT_SKIP_ESTIMATE)
            .map(|rows| (Instant::now(), rows));
    }
}

/// The total of `filter` (a builder: each statement needs its own copy), shares the
/// connection so it is pipelined with the page. For the whole table the estimate comes
/// first (a catalog lookup): over [`COUNT_SKIP_ESTIMATE`] rows it is the total, else the
/// bounded count runs. A filtered estimate needs the planner, so it is asked for only when
/// the count reached the limit.
pub(super) async fn count_matching(
    conn: &AsyncPgConnection,
    scope: Scope,
    filter: impl Fn() -> customers::BoxedQuery<'static, Pg>,
    large_table: &LargeTableEstimate,
) -> QueryResult<u64> {
    let mut count_conn = conn;
    let mut estimate_conn = conn;
    let count = CountUpTo {
        query: filter().select(customers::id),
        limit: EXACT_TOTAL_LIMIT + 1,
    };
    match scope {
        Scope::Table => {
            let estimate = match large_table.fresh() {
                Some(rows) => Some(rows),
                None => {
                    let read = table_estimate(conn).await?;
                    large_table.remember(read);
                    read
                }
            };
            if let Some(rows) = estimate.filter(|rows| *rows > COUNT_SKIP_ESTIMATE) {
                // Far above the limit, and `as` saturates anyway.
                return Ok(rows.round() as u64);
            }
            let counted: i64 = complete::one_row(count, &mut count_conn).await?;
            Ok(total_from(counted, estimate))
        }
        Scope::Filtered => {
            let counted: i64 = complete::one_row(count, &mut count_conn).await?;
            if counted <= EXACT_TOTAL_LIMIT {
                return Ok(total_from(counted, None));
            }
            let plan: String = complete::one_row(
                ExplainJson(filter().select(customers::id)),
                &mut estimate_conn,
            )
            .await?;
            Ok(total_from(counted, estimated_rows(&plan)))
        }
    }
}

/// Which part of the matches a page showed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct PageShown {
    pub offset: u64,
    pub limit: u32,
    pub rows: u64,
}

/// The planner's row estimate for the filter (`EXPLAIN`: planned, not run).
pub(super) async fn estimate_matching(
    conn: &AsyncPgConnection,
    filter: customers::BoxedQuery<'static, Pg>,
) -> QueryResult<Option<f64>> {
    let mut conn = conn;
    let plan: String =
        complete::one_row(ExplainJson(filter.select(customers::id)), &mut conn).await?;
    Ok(estimated_rows(&plan))
}

/// Above this many expected matches a search's total is the planner's estimate, uncounted:
/// three times [`EXACT_TOTAL_LIMIT`], so a search with at most 1,000 matches is counted
/// unless PostgreSQL overestimates it more than three times. (Text estimates come from
/// `search_text`'s statistics, which the `search_text` migration sizes for that.)
pub(crate) const TRUSTED_SEARCH_ESTIMATE: f64 = 3.0 * EXACT_TOTAL_LIMIT as f64;

/// The total of a search, given its page and the planner's estimate.
///
/// Counting text matches is what costs: for a term of middling frequency even a bounded
/// count reads tens of thousands of rows. So the count runs only when it is cheap: a page
/// that is not full ends the matches (the total is exact and free); otherwise the count runs
/// when the planner expects at most [`TRUSTED_SEARCH_ESTIMATE`] matches (then it uses the
/// indexes, and on a small table anything is cheap); above that, the estimate is the total,
/// never less than the matches already seen.
pub(super) async fn total_of_search(
    conn: &AsyncPgConnection,
    shown: PageShown,
    estimate: Option<f64>,
    filter: impl Fn() -> customers::BoxedQuery<'static, Pg>,
) -> QueryResult<u64> {
    let seen = shown.offset + shown.rows;
    if shown.rows > 0 && shown.rows < u64::from(shown.limit) {
        return Ok(seen);
    }
    if let Some(expected) = estimate.filter(|rows| *rows > TRUSTED_SEARCH_ESTIMATE)
        && shown.rows > 0
    {
        // Estimates are non-negative and far inside u64; `as` saturates anyway.
        return Ok((expected.round() as u64).max(seen));
    }
    let mut conn = conn;
    let count = PlannedEachTime(CountUpTo {
        query: filter().select(customers::id),
        limit: EXACT_TOTAL_LIMIT + 1,
    });
    let counted: i64 = complete::one_row(count, &mut conn).await?;
    Ok(total_from(counted, estimate))
}

/// The exact count when under the limit, else the estimate (at least the count).
fn total_from(counted: i64, estimate: Option<f64>) -> u64 {
    let counted = u64::try_from(counted).unwrap_or_default();
    if counted <= EXACT_TOTAL_LIMIT as u64 {
        return counted;
    }
    // Estimates are non-negative and far inside u64; `as` saturates anyway.
    estimate.map_or(counted, |rows| (rows.max(0.0).round() as u64).max(counted))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAN: &str = r#"[{"Plan": {"Node Type": "Seq Scan", "Plan Rows": 998877.4}}]"#;

    #[test]
    fn below_the_limit_the_count_is_the_total() {
        assert_eq!(total_from(17, Some(5.0)), 17);
        assert_eq!(total_from(1000, estimated_rows(PLAN)), 1000);
    }

    #[test]
    fn above_the_limit_the_estimate_is_the_total() {
        assert_eq!(total_from(1001, estimated_rows(PLAN)), 998_877);
    }

    #[test]
    fn an_estimate_below_what_was_counted_or_missing_gives_the_count() {
        assert_eq!(total_from(1001, Some(12.0)), 1001);
        assert_eq!(total_from(1001, None), 1001);
        assert_eq!(estimated_rows("not json"), None);
    }
}
