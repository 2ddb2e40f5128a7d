//! How many customers match a filter, cheaply at any size: exact up to
//! [`EXACT_TOTAL_LIMIT`], PostgreSQL's estimate above it.
//!
//! An exact `count(*)` visits every match: over a million customers that is a third of a
//! second for every page of the list, and thousands of heap pages for a search of a common
//! name. Counting stops after `EXACT_TOTAL_LIMIT + 1` matches instead (`SELECT count(*)
//! FROM (... LIMIT n)`), so small tables and selective filters get exact totals at the
//! cost of at most that many index entries; when the limit is reached, the total is the
//! planner's row estimate for the same filter (`EXPLAIN`, no execution), never less than
//! the limit + 1. Both statements are pipelined with the page on one connection.

use diesel::QueryResult;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{BigInt, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::schema::customers;

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
fn estimated_rows(plan_json: &str) -> Option<u64> {
    let plan: serde_json::Value = serde_json::from_str(plan_json).ok()?;
    let rows = plan.get(0)?.get("Plan")?.get("Plan Rows")?.as_f64()?;
    // Estimates are non-negative and well inside u64; `as` saturates anyway.
    Some(rows.max(0.0).round() as u64)
}

/// The total of `filter` (built twice: once per statement); shares the connection so both
/// statements are pipelined with the page they belong to.
pub(super) async fn count_matching(
    conn: &AsyncPgConnection,
    filter: impl Fn() -> customers::BoxedQuery<'static, Pg>,
) -> QueryResult<u64> {
    let mut count_conn = conn;
    let mut explain_conn = conn;
    let count = CountUpTo {
        query: filter().select(customers::id),
        limit: EXACT_TOTAL_LIMIT + 1,
    };
    let explain = ExplainJson(filter().select(customers::id));
    let (counted, plan) = tokio::try_join!(
        count.get_result::<i64>(&mut count_conn),
        explain.get_result::<String>(&mut explain_conn),
    )?;
    Ok(total_from(counted, &plan))
}

/// The exact count when under the limit, else the estimate (at least the limit + 1).
fn total_from(counted: i64, plan_json: &str) -> u64 {
    let counted = u64::try_from(counted).unwrap_or_default();
    if counted <= EXACT_TOTAL_LIMIT as u64 {
        return counted;
    }
    estimated_rows(plan_json).map_or(counted, |estimate| estimate.max(counted))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAN: &str = r#"[{"Plan": {"Node Type": "Seq Scan", "Plan Rows": 998877.4}}]"#;

    #[test]
    fn below_the_limit_the_count_is_the_total() {
        assert_eq!(total_from(17, PLAN), 17);
        assert_eq!(total_from(1000, PLAN), 1000);
    }

    #[test]
    fn above_the_limit_the_estimate_is_the_total() {
        assert_eq!(total_from(1001, PLAN), 998_877);
    }

    #[test]
    fn an_estimate_below_what_was_counted_is_raised_to_it() {
        let low = r#"[{"Plan": {"Plan Rows": 12}}]"#;
        assert_eq!(total_from(1001, low), 1001);
        assert_eq!(total_from(1001, "not json"), 1001);
    }
}
