//! [`SearchDocuments`]: what a search index beside the database reads from it
//! (`layers::SearchIndex`).
//!
//! The documents carry `search_text` and the places and language as `lower()` gives them,
//! so an index compares exactly what [`super::search`] compares. The changes are the
//! history's events (written by triggers, whoever changed a customer), in the feed's
//! `(xid, id)` order, each marked settled when it is below the server's snapshot horizon, as
//! the feed serves them: every later change is then after it. Unlike the feed, a change
//! committed above the horizon is listed too (not settled), so a reader sees every change
//! committed before its read began. On a Citus coordinator there is no index: each worker
//! has its own transaction ids, so no position orders every change.

use std::sync::LazyLock;

use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Bool, Nullable, Text, Timestamptz};
use domain::{
    ChangedCustomer, Customer, FeedPosition, IndexChanges, RepositoryError, SearchDocument,
};

use super::events::unexpected;
use crate::complete;
use crate::errors::from_diesel;
use crate::rows::{CustomerRow, into_customers};
use crate::schema::customers;
use crate::sql::{bind, const_sql};

/// The columns of a document, named as [`DocumentRow`]'s fields.
const DOCUMENT_COLUMNS: &str = "id, customer_id, version, search_text AS text, \
    phone IS NOT NULL AS has_phone, company_name IS NOT NULL AS has_company, \
    lower(city) AS city, lower(state) AS state, lower(country) AS country, \
    lower(preferred_language) AS preferred_language, tags, is_active, is_verified, \
    created_at, updated_at, last_login_at";

// Every statement here is prepared once per connection and kept (`const_sql`): an index
// asks for the changes before every search, and planning them each time cost PostgreSQL
// more than running them. The document statements are built once from the column list.
static DOCUMENTS_AFTER: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {DOCUMENT_COLUMNS} FROM customers \
         WHERE erased_at IS NULL AND id > $1 ORDER BY id LIMIT $2"
    )
});
static DOCUMENTS_OF: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {DOCUMENT_COLUMNS} FROM customers \
         WHERE erased_at IS NULL AND customer_id = ANY($1)"
    )
});

#[derive(QueryableByName)]
struct DocumentRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    customer_id: String,
    #[diesel(sql_type = BigInt)]
    version: i64,
    #[diesel(sql_type = Text)]
    text: String,
    #[diesel(sql_type = Bool)]
    has_phone: bool,
    #[diesel(sql_type = Bool)]
    has_company: bool,
    #[diesel(sql_type = Nullable<Text>)]
    city: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    state: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    country: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    preferred_language: Option<String>,
    #[diesel(sql_type = Array<Text>)]
    tags: Vec<String>,
    #[diesel(sql_type = Bool)]
    is_active: bool,
    #[diesel(sql_type = Bool)]
    is_verified: bool,
    #[diesel(sql_type = Timestamptz)]
    created_at: chrono::DateTime<chrono::Utc>,
    #[diesel(sql_type = Timestamptz)]
    updated_at: chrono::DateTime<chrono::Utc>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    last_login_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl DocumentRow {
    fn into_document(self) -> Result<SearchDocument, RepositoryError> {
        Ok(SearchDocument {
            id: self.id,
            customer_id: self.customer_id,
            version: u64::try_from(self.version)
                .map_err(|_| RepositoryError::Unexpected(format!("version {}", self.version)))?,
            text: self.text,
            has_phone: self.has_phone,
            has_company: self.has_company,
            city: self.city,
            state: self.state,
            country: self.country,
            preferred_language: self.preferred_language,
            tags: self.tags,
            is_active: self.is_active,
            is_verified: self.is_verified,
            created_at: self.created_at,
            updated_at: self.updated_at,
            last_login_at: self.last_login_at,
        })
    }
}

fn into_documents(rows: Vec<DocumentRow>) -> Result<Vec<SearchDocument>, RepositoryError> {
    rows.into_iter().map(DocumentRow::into_document).collect()
}

pub(super) async fn documents_after(
    conn: &mut diesel_async::AsyncPgConnection,
    after_id: i64,
    limit: u32,
) -> Result<Vec<SearchDocument>, RepositoryError> {
    let rows: Vec<DocumentRow> = complete::rows(
        const_sql(
            DOCUMENTS_AFTER.as_str(),
            (
                bind::<BigInt, _>(after_id),
                bind::<BigInt, _>(i64::from(limit)),
            ),
        ),
        conn,
    )
    .await
    .map_err(from_diesel)?;
    into_documents(rows)
}

pub(super) async fn documents_of(
    conn: &mut diesel_async::AsyncPgConnection,
    customer_ids: &[String],
) -> Result<Vec<SearchDocument>, RepositoryError> {
    let rows: Vec<DocumentRow> = complete::rows(
        const_sql(
            DOCUMENTS_OF.as_str(),
            (bind::<Array<Text>, _>(customer_ids),),
        ),
        conn,
    )
    .await
    .map_err(from_diesel)?;
    into_documents(rows)
}

#[derive(QueryableByName)]
struct Horizon {
    #[diesel(sql_type = BigInt)]
    xmin: i64,
}

/// Every change of a transaction at or above the horizon: those committed before now are
/// below it, and the documents read after this see them.
pub(super) async fn index_start(
    conn: &mut diesel_async::AsyncPgConnection,
) -> Result<FeedPosition, RepositoryError> {
    let horizon: Horizon = complete::one_row(
        const_sql(
            "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS xmin",
            (),
        ),
        conn,
    )
    .await
    .map_err(from_diesel)?;
    Ok(FeedPosition {
        transaction: u64::try_from(horizon.xmin).map_err(unexpected)?,
        event: i64::MIN,
    })
}

#[derive(QueryableByName)]
struct ChangeRow {
    #[diesel(sql_type = Bool)]
    purged: bool,
    #[diesel(sql_type = Nullable<BigInt>)]
    transaction: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    event: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    customer_id: Option<String>,
    #[diesel(sql_type = Nullable<Bool>)]
    settled: Option<bool>,
}

/// The committed changes after `after` and whether any after it were purged, in one
/// statement (the purge check is always one row).
pub(super) async fn changes_after(
    conn: &mut diesel_async::AsyncPgConnection,
    after: FeedPosition,
    limit: u32,
) -> Result<IndexChanges, RepositoryError> {
    let rows: Vec<ChangeRow> = complete::rows(
        const_sql(
            "SELECT p.purged, e.transaction, e.event, e.customer_id, e.settled \
             FROM (SELECT EXISTS (SELECT 1 FROM customer_events_purged \
                                  WHERE (xid, id) > ($1::text::xid8, $2)) AS purged) AS p \
             LEFT JOIN LATERAL ( \
                 SELECT xid::text::bigint AS transaction, id AS event, customer_id, \
                        xid < pg_snapshot_xmin(pg_current_snapshot()) AS settled \
                 FROM customer_events WHERE (xid, id) > ($1::text::xid8, $2) \
                 ORDER BY xid, id LIMIT $3) AS e ON true",
            (
                bind::<Text, _>(after.transaction.to_string()),
                bind::<BigInt, _>(after.event),
                bind::<BigInt, _>(i64::from(limit)),
            ),
        ),
        conn,
    )
    .await
    .map_err(from_diesel)?;
    if rows.iter().any(|row| row.purged) {
        return Ok(IndexChanges::Purged);
    }
    let mut changes = Vec::with_capacity(rows.len());
    for row in rows {
        let (Some(transaction), Some(event), Some(customer_id), Some(settled)) =
            (row.transaction, row.event, row.customer_id, row.settled)
        else {
            continue;
        };
        changes.push(ChangedCustomer {
            position: FeedPosition {
                transaction: u64::try_from(transaction).map_err(unexpected)?,
                event,
            },
            customer_id,
            settled,
        });
    }
    Ok(IndexChanges::Changed(changes))
}

pub(super) async fn customers_by_id(
    conn: &mut diesel_async::AsyncPgConnection,
    ids: &[i64],
) -> Result<Vec<Customer>, RepositoryError> {
    let rows: Vec<CustomerRow> = complete::rows(
        customers::table
            .filter(customers::id.eq_any(ids))
            .filter(customers::erased_at.is_null())
            .select(CustomerRow::as_select()),
        conn,
    )
    .await
    .map_err(from_diesel)?;
    into_customers(rows)
}

#[cfg(test)]
mod tests {
    use diesel_async::{AsyncConnection, AsyncPgConnection};

    use super::*;
    use test_db::TestDatabase;

    #[tokio::test]
    async fn what_an_index_asks_before_every_search_is_prepared_once_per_connection() {
        let db = TestDatabase::new().await;
        let mut conn = AsyncPgConnection::establish(db.url()).await.unwrap();
        let seen = test_db::record_statements(&mut conn);
        for _ in 0..3 {
            let start = index_start(&mut conn).await.unwrap();
            changes_after(&mut conn, start, 100).await.unwrap();
            documents_of(&mut conn, &["CUST_NONE".to_owned()])
                .await
                .unwrap();
            documents_after(&mut conn, 0, 10).await.unwrap();
        }
        let seen = seen.lock().unwrap();
        // Four texts, each prepared once, although each ran three times.
        assert_eq!(seen.cached.len(), 4, "{seen:?}");
        assert_eq!(seen.started.len(), 12, "{seen:?}");
    }
}
