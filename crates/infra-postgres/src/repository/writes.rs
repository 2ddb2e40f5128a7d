//! Inserts, updates and deletes; each one statement, returning what changed.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::{
    Customer, CustomerChanges, CustomerDraft, CustomerId, RepositoryError, Username, Verification,
};

use super::reads::find_by_customer_id;
use crate::changes::CustomerChangeset;
use crate::errors::from_diesel;
use crate::rows::{CustomerRow, NewCustomerRow};
use crate::schema::customers;

/// Inserts and returns the stored row (`RETURNING`), with its id, defaults and timestamps.
pub(super) async fn insert(
    conn: &mut AsyncPgConnection,
    customer_id: &CustomerId,
    username: &Username,
    draft: &CustomerDraft,
) -> Result<Customer, RepositoryError> {
    diesel::insert_into(customers::table)
        .values(NewCustomerRow::new(customer_id, username, draft))
        .returning(CustomerRow::as_returning())
        .get_result(conn)
        .await
        .map_err(from_diesel)?
        .into_customer()
}

/// One `UPDATE .. RETURNING` of the changed columns; `None` when the customer is missing.
pub(super) async fn update(
    conn: &mut AsyncPgConnection,
    id: &CustomerId,
    changes: &CustomerChanges,
) -> Result<Option<Customer>, RepositoryError> {
    let set = CustomerChangeset::new(changes);
    if set.is_empty() {
        return find_by_customer_id(conn, id).await;
    }
    diesel::update(customers::table.filter(customers::customer_id.eq(id.as_str())))
        .set(set)
        .returning(CustomerRow::as_returning())
        .get_result(conn)
        .await
        .optional()
        .map_err(from_diesel)?
        .map(CustomerRow::into_customer)
        .transpose()
}

/// One `UPDATE .. WHERE customer_id = ANY($1) RETURNING customer_id`: atomic, and it tells
/// which of the ids existed. The answer keeps the order of `ids`.
pub(super) async fn bulk_update(
    conn: &mut AsyncPgConnection,
    ids: &[CustomerId],
    changes: &CustomerChanges,
) -> Result<Vec<CustomerId>, RepositoryError> {
    let wanted: Vec<&str> = ids.iter().map(CustomerId::as_str).collect();
    let set = CustomerChangeset::new(changes).without_email();
    let targets = customers::table.filter(customers::customer_id.eq_any(&wanted));
    let changed: Vec<String> = if set.is_empty() {
        targets.select(customers::customer_id).load(conn).await
    } else {
        diesel::update(targets)
            .set(set)
            .returning(customers::customer_id)
            .get_results(conn)
            .await
    }
    .map_err(from_diesel)?;
    let changed: HashSet<String> = changed.into_iter().collect();
    Ok(ids
        .iter()
        .filter(|id| changed.contains(id.as_str()))
        .cloned()
        .collect())
}

fn matched(rows: QueryResult<usize>) -> Result<bool, RepositoryError> {
    rows.map(|n| n > 0).map_err(from_diesel)
}

pub(super) async fn mark_verified(
    conn: &mut AsyncPgConnection,
    id: &CustomerId,
    what: Verification,
) -> Result<bool, RepositoryError> {
    let target = customers::table.filter(customers::customer_id.eq(id.as_str()));
    matched(match what {
        Verification::Email => {
            diesel::update(target)
                .set(customers::email_verified.eq(true))
                .execute(conn)
                .await
        }
        Verification::Phone => {
            diesel::update(target)
                .set(customers::phone_verified.eq(true))
                .execute(conn)
                .await
        }
    })
}

pub(super) async fn record_login(
    conn: &mut AsyncPgConnection,
    id: &CustomerId,
    at: DateTime<Utc>,
) -> Result<bool, RepositoryError> {
    matched(
        diesel::update(customers::table.filter(customers::customer_id.eq(id.as_str())))
            .set(customers::last_login_at.eq(at))
            .execute(conn)
            .await,
    )
}

pub(super) async fn deactivate(
    conn: &mut AsyncPgConnection,
    id: &CustomerId,
) -> Result<bool, RepositoryError> {
    matched(
        diesel::update(customers::table.filter(customers::customer_id.eq(id.as_str())))
            .set(customers::is_active.eq(false))
            .execute(conn)
            .await,
    )
}

pub(super) async fn delete(
    conn: &mut AsyncPgConnection,
    id: &CustomerId,
) -> Result<bool, RepositoryError> {
    matched(
        diesel::delete(customers::table.filter(customers::customer_id.eq(id.as_str())))
            .execute(conn)
            .await,
    )
}
