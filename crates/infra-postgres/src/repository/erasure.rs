//! Erasure: the `customer_erase` function of the `erasure` migration does it all in the
//! caller's transaction (one statement, so its own transaction when called alone): the
//! tombstone, the history's values, the stored idempotent answers and the aggregates' place
//! names. Search data goes with the row: `search_text` and every index are computed from
//! the columns.

use chrono::{DateTime, Utc};
use diesel::QueryableByName;
use diesel::sql_types::{Nullable, Text};
use diesel_async::AsyncPgConnection;
use domain::{CustomerId, ErasureReason, Gender, RepositoryError, Tombstone};

use crate::complete;
use crate::errors::from_diesel;
use crate::schema::customers;

/// What a tombstone keeps, column for column.
#[derive(Debug, QueryableByName)]
#[diesel(table_name = customers, check_for_backend(diesel::pg::Pg))]
struct TombstoneRow {
    customer_id: String,
    created_at: DateTime<Utc>,
    erased_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Text>)]
    erasure_reason: Option<String>,
    country: Option<String>,
    gender: Option<String>,
    is_active: bool,
    is_verified: bool,
    email_verified: bool,
    phone_verified: bool,
}

/// The columns of [`TombstoneRow`], for the function's rows.
const TOMBSTONE_COLUMNS: &str = "customer_id, created_at, erased_at, erasure_reason, country, \
     gender, is_active, is_verified, email_verified, phone_verified";

impl TombstoneRow {
    fn into_tombstone(self) -> Result<Option<Tombstone>, RepositoryError> {
        let invalid = |what: &dyn std::fmt::Display| {
            RepositoryError::Unexpected(format!("tombstone {}: {what}", self.customer_id))
        };
        let Some(erased_at) = self.erased_at else {
            return Ok(None);
        };
        Ok(Some(Tombstone {
            customer_id: CustomerId::parse(&self.customer_id).map_err(|e| invalid(&e))?,
            created_at: self.created_at,
            erased_at,
            gender: self
                .gender
                .as_deref()
                .map(Gender::parse)
                .transpose()
                .map_err(|e| invalid(&e))?,
            reason: self.erasure_reason,
            country: self.country,
            is_active: self.is_active,
            is_verified: self.is_verified,
            email_verified: self.email_verified,
            phone_verified: self.phone_verified,
        }))
    }
}

/// Erases the customer (see [`domain::CustomerStore::erase`]); `None` when there is
/// no such customer.
pub(super) async fn erase(
    conn: &mut AsyncPgConnection,
    id: &CustomerId,
    reason: Option<&ErasureReason>,
    attribution: &str,
) -> Result<Option<Tombstone>, RepositoryError> {
    let row: Option<TombstoneRow> = complete::optional_row(
        diesel::sql_query(format!(
            "SELECT {TOMBSTONE_COLUMNS} FROM customer_erase($1, $2, $3)"
        ))
        .bind::<Text, _>(id.as_str())
        .bind::<Nullable<Text>, _>(reason.map(ErasureReason::as_str))
        .bind::<Text, _>(attribution),
        conn,
    )
    .await
    .map_err(from_diesel)?;
    match row {
        None => Ok(None),
        Some(row) => match row.into_tombstone()? {
            Some(tombstone) => Ok(Some(tombstone)),
            None => Err(RepositoryError::Unexpected(format!(
                "customer {id} is still there after its erasure"
            ))),
        },
    }
}

/// The tombstone of `id`, when the customer was erased.
pub(super) async fn erasure(
    conn: &mut AsyncPgConnection,
    id: &CustomerId,
) -> Result<Option<Tombstone>, RepositoryError> {
    let row: Option<TombstoneRow> = complete::optional_row(
        diesel::sql_query(format!(
            "SELECT {TOMBSTONE_COLUMNS} FROM customers \
             WHERE customer_id = $1 AND erased_at IS NOT NULL"
        ))
        .bind::<Text, _>(id.as_str()),
        conn,
    )
    .await
    .map_err(from_diesel)?;
    Ok(row.map(TombstoneRow::into_tombstone).transpose()?.flatten())
}
