//! Lookups and `id`-ordered listings.

use diesel::pg::Pg;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::{
    Cursor, Customer, CustomerId, CustomerPage, ListQuery, LocationFilter, PageRequest,
    RepositoryError, Tags,
};

use super::places::PlaceMatches;
use super::statistics::list_totals;
use crate::complete;
use crate::errors::from_diesel;
use crate::rows::{CustomerRow, into_customers};
use crate::schema::customers;
use crate::sql::lower;

/// `LIMIT` and `OFFSET` of a page, as PostgreSQL's signed 64-bit integers.
pub(super) fn limit_offset(page: &PageRequest) -> Result<(i64, i64), RepositoryError> {
    let offset = i64::try_from(page.offset)
        .map_err(|_| RepositoryError::Unexpected(format!("offset {} too large", page.offset)))?;
    Ok((i64::from(page.limit), offset))
}

/// The row, if any, as a domain customer.
fn at_most_one(row: Option<CustomerRow>) -> Result<Option<Customer>, RepositoryError> {
    row.map(CustomerRow::into_customer).transpose()
}

async fn first(
    conn: &mut AsyncPgConnection,
    query: customers::BoxedQuery<'_, Pg>,
) -> Result<Option<Customer>, RepositoryError> {
    complete::optional_row(query.select(CustomerRow::as_select()).limit(1), conn)
        .await
        .map_err(from_diesel)
        .and_then(at_most_one)
}

/// Not boxed, unlike the filters built at run time: a query of static type is looked up in
/// the connection's prepared-statement cache by its type rather than by hashing its SQL
/// text (diesel-async still renders the SQL on every call).
pub(super) async fn find_by_customer_id(
    conn: &mut AsyncPgConnection,
    id: &CustomerId,
) -> Result<Option<Customer>, RepositoryError> {
    let query = customers::table
        .filter(customers::customer_id.eq(id.as_str()))
        .filter(customers::erased_at.is_null())
        .select(CustomerRow::as_select());
    complete::optional_row(query, conn)
        .await
        .map_err(from_diesel)
        .and_then(at_most_one)
}

pub(super) async fn find_by_username(
    conn: &mut AsyncPgConnection,
    username: &str,
) -> Result<Option<Customer>, RepositoryError> {
    let query = customers::table
        .filter(customers::username.eq(username))
        .filter(customers::erased_at.is_null())
        .into_boxed();
    first(conn, query).await
}

/// Compares `lower(email)` on both sides: the unique index is on exactly that expression.
/// Not boxed, as [`find_by_customer_id`].
pub(super) async fn find_by_email(
    conn: &mut AsyncPgConnection,
    email: &str,
) -> Result<Option<Customer>, RepositoryError> {
    let query = customers::table
        .filter(lower(customers::email.nullable()).eq(lower(email)))
        .filter(customers::erased_at.is_null())
        .select(CustomerRow::as_select());
    complete::optional_row(query, conn)
        .await
        .map_err(from_diesel)
        .and_then(at_most_one)
}

/// One `username = ANY($1)` query for all candidates.
pub(super) async fn taken_usernames(
    conn: &mut AsyncPgConnection,
    candidates: &[String],
) -> Result<Vec<String>, RepositoryError> {
    customers::table
        .select(customers::username)
        .filter(customers::username.eq_any(candidates))
        .load(conn)
        .await
        .map_err(from_diesel)
}

/// Tombstones are never listed.
fn list_filter<'a>(query: &ListQuery) -> customers::BoxedQuery<'a, Pg> {
    let mut filter = customers::table
        .filter(customers::erased_at.is_null())
        .into_boxed();
    if let Some(active) = query.is_active {
        filter = filter.filter(customers::is_active.eq(active));
    }
    filter
}

/// A page by `id`, from an offset or after a cursor, and the exact total of the same filter
/// from the aggregates (the only filter is `is_active`), pipelined with the page.
pub(super) async fn list(
    conn: &AsyncPgConnection,
    query: &ListQuery,
) -> Result<CustomerPage, RepositoryError> {
    let (limit, offset) = limit_offset(&query.page)?;
    let first_page = |filter: customers::BoxedQuery<'static, Pg>| {
        filter
            .select(CustomerRow::as_select())
            .order_by(customers::id.asc())
            .limit(limit)
    };
    let page = match query.cursor {
        // Keyset pagination: the cost does not grow with depth, so the offset is ignored.
        Some(cursor) => first_page(list_filter(query).filter(customers::id.gt(cursor.after_id))),
        None if offset == 0 => first_page(list_filter(query)),
        // Skipping rows still costs one index entry each, but only that: the ids of the
        // page come from the primary key alone (an index-only scan once the table is
        // vacuumed), and only the page's rows are read from the table. Skipping half a
        // million customers by reading each went through 300 MB of rows: five times slower.
        None => customers::table
            .into_boxed()
            .filter(
                customers::id.eq_any(
                    list_filter(query)
                        .select(customers::id)
                        .order_by(customers::id.asc())
                        .limit(limit)
                        .offset(offset),
                ),
            )
            .select(CustomerRow::as_select())
            .order_by(customers::id.asc()),
    };
    let mut page_conn = conn;
    let (rows, totals) = tokio::try_join!(
        complete::rows::<_, _, CustomerRow>(page, &mut page_conn),
        list_totals(conn),
    )
    .map_err(from_diesel)?;
    let customers = into_customers(rows)?;
    let total = match query.is_active {
        None => totals.total,
        Some(true) => totals.active,
        Some(false) => totals.total - totals.active,
    };
    let total = u64::try_from(total).unwrap_or_default();
    let next_cursor = (customers.len() == query.page.limit as usize)
        .then(|| customers.last().map(|c| Cursor { after_id: c.id }))
        .flatten();
    Ok(CustomerPage {
        customers,
        total,
        total_is_estimate: false,
        next_cursor,
    })
}

/// Customers having every tag (`tags @> $1`, served by the GIN index), by `id`.
pub(super) async fn find_by_tags(
    conn: &mut AsyncPgConnection,
    tags: &Tags,
    page: &PageRequest,
) -> Result<Vec<Customer>, RepositoryError> {
    let (limit, offset) = limit_offset(page)?;
    let rows = customers::table
        .filter(customers::tags.contains(tags.as_slice()))
        .filter(customers::erased_at.is_null())
        .select(CustomerRow::as_select())
        .order_by(customers::id.asc())
        .limit(limit)
        .offset(offset)
        .load(conn)
        .await
        .map_err(from_diesel)?;
    into_customers(rows)
}

/// Customers in the place: each given part a substring of its column, case ignored (see
/// [`PlaceMatches`]), by `id`.
pub(super) async fn find_by_location(
    conn: &mut AsyncPgConnection,
    filter: &LocationFilter,
    page: &PageRequest,
) -> Result<Vec<Customer>, RepositoryError> {
    let (limit, offset) = limit_offset(page)?;
    let places = PlaceMatches::find(
        &*conn,
        filter.city.as_deref(),
        filter.state.as_deref(),
        filter.country.as_deref(),
    )
    .await
    .map_err(from_diesel)?;
    let mut query = customers::table
        .filter(customers::erased_at.is_null())
        .into_boxed();
    if let Some(values) = places.city {
        query = query.filter(lower(customers::city).eq_any(values));
    }
    if let Some(values) = places.state {
        query = query.filter(lower(customers::state).eq_any(values));
    }
    if let Some(values) = places.country {
        query = query.filter(lower(customers::country).eq_any(values));
    }
    let rows = query
        .select(CustomerRow::as_select())
        .order_by(customers::id.asc())
        .limit(limit)
        .offset(offset)
        .load(conn)
        .await
        .map_err(from_diesel)?;
    into_customers(rows)
}

/// `SELECT 1`.
pub(super) async fn ping(conn: &mut AsyncPgConnection) -> Result<(), RepositoryError> {
    complete::one_row::<_, _, i32>(
        diesel::select(1_i32.into_sql::<diesel::sql_types::Integer>()),
        conn,
    )
    .await
    .map(drop)
    .map_err(from_diesel)
}
