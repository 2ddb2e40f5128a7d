//! How many customers a search matches, cheaply at any size: exact up to
//! [`EXACT_TOTAL_LIMIT`], an estimate above it, and said to be one.
//!
//! (The list's totals are exact at any size: they come from the aggregates the database
//! keeps with every write, see `statistics.rs`.)
//!
//! An exact `count(*)` of a search visits every match: thousands of heap pages for a search
//! of a common name. Counting stops after `EXACT_TOTAL_LIMIT + 1` matches instead (`SELECT
//! count(*) FROM (... LIMIT n)`), so selective searches get exact totals at the cost of at
//! most that many index entries. When the limit is reached the total is PostgreSQL's
//! estimate (the row estimate of `EXPLAIN`, planned, not run), never less than what was
//! counted, and the page says the total is an estimate.
use diesel::QueryResult;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{BigInt, Text};
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
) -> QueryResult<Total> {
    let seen = shown.offset + shown.rows;
    if shown.rows > 0 && shown.rows < u64::from(shown.limit) {
        return Ok(Total::exact(seen));
    }
    if let Some(expected) = estimate.filter(|rows| *rows > TRUSTED_SEARCH_ESTIMATE)
        && shown.rows > 0
    {
        // Estimates are non-negative and far inside u64; `as` saturates anyway.
        return Ok(Total::estimate((expected.round() as u64).max(seen)));
    }
    let mut conn = conn;
    let count = PlannedEachTime(CountUpTo {
        query: filter().select(customers::id),
        limit: EXACT_TOTAL_LIMIT + 1,
    });
    let counted: i64 = complete::one_row(count, &mut conn).await?;
    Ok(total_from(counted, estimate))
}

/// A number of matches, and whether it was counted or estimated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Total {
    pub count: u64,
    pub is_estimate: bool,
}

impl Total {
    fn exact(count: u64) -> Self {
        Self {
            count,
            is_estimate: false,
        }
    }

    fn estimate(count: u64) -> Self {
        Self {
            count,
            is_estimate: true,
        }
    }
}

/// The exact count when under the limit, else the estimate (at least the count, which
/// stopped at the limit and is then a lower bound, not a count).
fn total_from(counted: i64, estimate: Option<f64>) -> Total {
    let counted = u64::try_from(counted).unwrap_or_default();
    if counted <= EXACT_TOTAL_LIMIT as u64 {
        return Total::exact(counted);
    }
    // Estimates are non-negative and far inside u64; `as` saturates anyway.
    Total::estimate(estimate.map_or(counted, |rows| (rows.max(0.0).round() as u64).max(counted)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAN: &str = r#"[{"Plan": {"Node Type": "Seq Scan", "Plan Rows": 998877.4}}]"#;

    #[test]
    fn below_the_limit_the_count_is_the_total() {
        assert_eq!(total_from(17, Some(5.0)), Total::exact(17));
        assert_eq!(total_from(1000, estimated_rows(PLAN)), Total::exact(1000));
    }

    #[test]
    fn above_the_limit_the_estimate_is_the_total() {
        assert_eq!(
            total_from(1001, estimated_rows(PLAN)),
            Total::estimate(998_877)
        );
    }

    #[test]
    fn an_estimate_below_what_was_counted_or_missing_gives_the_count() {
        assert_eq!(total_from(1001, Some(12.0)), Total::estimate(1001));
        assert_eq!(total_from(1001, None), Total::estimate(1001));
        assert_eq!(estimated_rows("not json"), None);
    }
}
