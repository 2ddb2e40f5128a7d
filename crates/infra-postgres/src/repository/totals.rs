//! How many customers match a filter: the one place that counts, so that a cheaper total
//! (an estimate, a capped count) can replace the exact `count(*)` for very large tables.

use diesel::QueryResult;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::schema::customers;

/// `SELECT count(*)` over the filter; shares the connection so it can be pipelined with
/// the page it belongs to.
pub(super) async fn count_matching(
    conn: &AsyncPgConnection,
    filter: customers::BoxedQuery<'_, Pg>,
) -> QueryResult<u64> {
    let mut conn = conn;
    let total: i64 = filter.count().get_result(&mut conn).await?;
    Ok(u64::try_from(total).unwrap_or_default())
}
