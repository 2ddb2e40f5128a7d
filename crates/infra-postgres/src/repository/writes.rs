//! Inserts, updates and deletes; each one statement, returning what changed only once
//! PostgreSQL has confirmed its commit (rows through [`complete`], counts through
//! `execute`, which waits for the end of the answer itself).
//!
//! Each write attributes itself in the statement (`attribution`, see
//! [`super::history::attribution`]): the history's triggers record the change with it, in
//! the same transaction.
//!
//! On a Citus coordinator (`distributed`), usernames and emails are unique through two
//! lookup tables distributed by their own key (`crates/infra-postgres/sql/distribute.sql`):
//! the writes that set, change or free one write them in the same transaction, which the
//! repository then opens for them.

use std::collections::HashSet;

use diesel::IntoSql;
use diesel::prelude::*;
use diesel::sql_types::{Array, Bool, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::{
    BulkWritten, Conflict, Customer, CustomerChanges, CustomerDraft, CustomerId, Precondition,
    RepositoryError, Username, Written,
};

use super::reads::find_by_customer_id;
use crate::changes::CustomerChangeset;
use crate::complete;
use crate::errors::from_diesel;
use crate::rows::{CustomerRow, NewCustomerRow};
use crate::schema::{customer_events_attribute, customer_events_attribute_new, customers};

/// Inserts and returns the stored row (`RETURNING`), with its id, defaults and timestamps.
pub(super) async fn insert(
    conn: &mut AsyncPgConnection,
    customer_id: &CustomerId,
    username: &Username,
    draft: &CustomerDraft,
    attribution: &str,
    distributed: bool,
) -> Result<Customer, RepositoryError> {
    use customers::dsl as c;
    let row = NewCustomerRow::new(customer_id, username, draft);
    let values = (
        row,
        c::version.eq(customer_events_attribute_new(attribution)),
    );
    // Every column bound, `NULL`s included (see `NewCustomerRow`): one SQL text, prepared
    // once per connection.
    if distributed {
        claim_username(conn, username.as_str(), customer_id.as_str()).await?;
        claim_email(conn, draft.email.as_str(), customer_id.as_str()).await?;
        let statement = diesel::insert_into(customers::table)
            .values(values)
            .returning(CustomerRow::as_returning());
        return complete::one_row::<_, _, CustomerRow>(statement, conn)
            .await
            .map_err(from_diesel)?
            .into_customer();
    }
    // A taken id, username or email inserts nothing instead of failing: no error aborts a
    // transaction the insert runs in (a keyed create's), so it needs no savepoint; which
    // one was taken is asked only then.
    let statement = diesel::insert_into(customers::table)
        .values(values)
        .on_conflict_do_nothing()
        .returning(CustomerRow::as_returning());
    match complete::optional_row::<_, _, CustomerRow>(statement, conn)
        .await
        .map_err(from_diesel)?
    {
        Some(row) => row.into_customer(),
        None => Err(RepositoryError::Conflict(
            taken(conn, username, draft.email.as_str()).await?,
        )),
    }
}

/// What an insert that inserted nothing conflicted with: the email (case ignored, as its
/// unique index), else the username, else the customer id. A conflicting row removed since
/// reads as a customer id's conflict, which the service answers with fresh candidates.
async fn taken(
    conn: &mut AsyncPgConnection,
    username: &Username,
    email: &str,
) -> Result<Conflict, RepositoryError> {
    #[derive(QueryableByName)]
    struct Taken {
        #[diesel(sql_type = Bool)]
        email: bool,
        #[diesel(sql_type = Bool)]
        username: bool,
    }
    let taken: Taken = complete::one_row(
        diesel::sql_query(
            "SELECT EXISTS (SELECT FROM customers WHERE lower(email) = lower($1)) AS email, \
                    EXISTS (SELECT FROM customers WHERE username = $2) AS username",
        )
        .bind::<Text, _>(email)
        .bind::<Text, _>(username.as_str()),
        conn,
    )
    .await
    .map_err(from_diesel)?;
    Ok(if taken.email {
        Conflict::Email
    } else if taken.username {
        Conflict::Username
    } else {
        Conflict::CustomerId
    })
}

/// Takes `username` for `customer_id` in the lookup table (distributed layout): a taken
/// one fails on the table's primary key, which the errors map to `Conflict::Username`.
async fn claim_username(
    conn: &mut AsyncPgConnection,
    username: &str,
    customer_id: &str,
) -> Result<(), RepositoryError> {
    diesel::sql_query("INSERT INTO customer_usernames (username, customer_id) VALUES ($1, $2)")
        .bind::<Text, _>(username)
        .bind::<Text, _>(customer_id)
        .execute(conn)
        .await
        .map(drop)
        .map_err(from_diesel)
}

/// Takes `email` (case ignored) for `customer_id` in the lookup table (distributed layout):
/// a taken one fails on its primary key, `Conflict::Email`.
async fn claim_email(
    conn: &mut AsyncPgConnection,
    email: &str,
    customer_id: &str,
) -> Result<(), RepositoryError> {
    diesel::sql_query("INSERT INTO customer_emails (email_key, customer_id) VALUES (lower($1), $2)")
        .bind::<Text, _>(email)
        .bind::<Text, _>(customer_id)
        .execute(conn)
        .await
        .map(drop)
        .map_err(from_diesel)
}

/// Frees a customer's username and email in the lookup tables (distributed layout).
async fn release(
    conn: &mut AsyncPgConnection,
    username: Option<&str>,
    email: &str,
) -> Result<(), RepositoryError> {
    if let Some(username) = username {
        diesel::sql_query("DELETE FROM customer_usernames WHERE username = $1")
            .bind::<Text, _>(username)
            .execute(conn)
            .await
            .map_err(from_diesel)?;
    }
    diesel::sql_query("DELETE FROM customer_emails WHERE email_key = lower($1)")
        .bind::<Text, _>(email)
        .execute(conn)
        .await
        .map(drop)
        .map_err(from_diesel)
}

/// The precondition as a filter: `version = ANY($n) OR $m`, one SQL text whatever it is
/// (`$m` is true for [`Precondition::Any`]), so each statement is prepared once.
type Admits = diesel::dsl::Or<
    diesel::dsl::EqAny<customers::version, Vec<i64>>,
    diesel::dsl::AsExprOf<bool, Bool>,
>;

fn admits(expected: &Precondition) -> Admits {
    let (versions, any) = match expected {
        Precondition::Any => (Vec::new(), true),
        // A version beyond i64 is never stored, so it can match nothing.
        Precondition::VersionIn(versions) => (
            versions
                .iter()
                .filter_map(|v| i64::try_from(*v).ok())
                .collect(),
            false,
        ),
    };
    customers::version
        .eq_any(versions)
        .or(any.into_sql::<Bool>())
}

fn version_of(stored: i64) -> Result<u64, RepositoryError> {
    u64::try_from(stored)
        .map_err(|_| RepositoryError::Unexpected(format!("stored version {stored} is negative")))
}

/// Why a conditional write on `id` matched no row: the customer is missing (or erased: a
/// tombstone is never written), or at a version the precondition did not admit (read after
/// the write, never instead of it).
async fn missed<T>(
    conn: &mut AsyncPgConnection,
    id: &CustomerId,
) -> Result<Written<T>, RepositoryError> {
    let current: Option<i64> = complete::optional_row(
        customers::table
            .filter(customers::customer_id.eq(id.as_str()))
            .filter(customers::erased_at.is_null())
            .select(customers::version),
        conn,
    )
    .await
    .map_err(from_diesel)?;
    Ok(match current {
        None => Written::Missing,
        Some(version) => Written::Stale {
            current: version_of(version)?,
        },
    })
}

/// One `UPDATE .. RETURNING` of the changed columns, if the precondition holds.
pub(super) async fn update(
    conn: &mut AsyncPgConnection,
    id: &CustomerId,
    changes: &CustomerChanges,
    expected: &Precondition,
    attribution: &str,
    distributed: bool,
) -> Result<Written<Customer>, RepositoryError> {
    let set = CustomerChangeset::new(changes);
    if set.is_empty() {
        return Ok(match find_by_customer_id(conn, id).await? {
            None => Written::Missing,
            Some(customer) if expected.admits(customer.version) => Written::Done(customer),
            Some(customer) => Written::Stale {
                current: customer.version,
            },
        });
    }
    // The address before, locked, when the lookup table must follow a change of it.
    let before = match &changes.email {
        Some(_) if distributed => complete::optional_row::<_, _, String>(
            customers::table
                .filter(customers::customer_id.eq(id.as_str()))
                .filter(customers::erased_at.is_null())
                .select(customers::email)
                .for_update(),
            conn,
        )
        .await
        .map_err(from_diesel)?,
        _ => None,
    };
    let statement = diesel::update(
        customers::table.filter(
            customers::customer_id
                .eq(id.as_str())
                .and(customers::erased_at.is_null())
                .and(admits(expected))
                .and(customer_events_attribute(attribution)),
        ),
    )
    .set(set)
    .returning(CustomerRow::as_returning());
    match complete::optional_row::<_, _, CustomerRow>(statement, conn)
        .await
        .map_err(from_diesel)?
    {
        Some(row) => {
            let customer = row.into_customer()?;
            if let Some(before) = before
                && before.to_lowercase() != customer.email.as_str().to_lowercase()
            {
                release(conn, None, &before).await?;
                claim_email(conn, customer.email.as_str(), id.as_str()).await?;
            }
            Ok(Written::Done(customer))
        }
        None => missed(conn, id).await,
    }
}

/// One `UPDATE .. WHERE customer_id = ANY($1) RETURNING customer_id`: atomic, and it tells
/// which of the ids existed. Ids with an expected version are changed only at that version
/// (one more condition in the same statement); those that were not are looked up afterwards
/// to tell a stale customer from a missing one.
pub(super) async fn bulk_update(
    conn: &mut AsyncPgConnection,
    targets: &[(CustomerId, Option<u64>)],
    changes: &CustomerChanges,
    attribution: &str,
) -> Result<BulkWritten, RepositoryError> {
    let set = CustomerChangeset::new(changes).without_email();
    let all: Vec<&str> = targets.iter().map(|(id, _)| id.as_str()).collect();
    let free: Vec<&str> = targets
        .iter()
        .filter(|(_, expected)| expected.is_none())
        .map(|(id, _)| id.as_str())
        .collect();
    // `customer_id:version` of each conditional target, compared with the row's own.
    let pinned: Vec<String> = targets
        .iter()
        .filter_map(|(id, expected)| expected.map(|v| format!("{id}:{v}")))
        .collect();
    let changed: HashSet<String> = if set.is_empty() {
        let found: Vec<(String, i64)> = complete::rows(
            customers::table
                .filter(customers::customer_id.eq_any(&all))
                .filter(customers::erased_at.is_null())
                .select((customers::customer_id, customers::version)),
            conn,
        )
        .await
        .map_err(from_diesel)?;
        found
            .into_iter()
            .filter(|(id, version)| {
                targets.iter().any(|(target, expected)| {
                    target.as_str() == id
                        && expected.is_none_or(|v| i64::try_from(v).ok() == Some(*version))
                })
            })
            .map(|(id, _)| id)
            .collect()
    } else if pinned.is_empty() {
        complete::rows(
            diesel::update(
                customers::table.filter(
                    customers::customer_id
                        .eq_any(&all)
                        .and(customers::erased_at.is_null())
                        .and(customer_events_attribute(attribution)),
                ),
            )
            .set(set)
            .returning(customers::customer_id),
            conn,
        )
        .await
        .map_err(from_diesel)?
        .into_iter()
        .collect()
    } else {
        // `version::text`: `text || bigint` is a STABLE operator, which Citus refuses on
        // columns in a distributed UPDATE; `text || text` is IMMUTABLE.
        let at_version = diesel::dsl::sql::<Bool>("(customer_id || ':' || version::text) = ANY(")
            .bind::<Array<Text>, _>(&pinned)
            .sql(")");
        complete::rows(
            diesel::update(
                customers::table.filter(
                    customers::customer_id
                        .eq_any(&free)
                        .or(customers::customer_id.eq_any(&all).and(at_version))
                        .and(customers::erased_at.is_null())
                        .and(customer_events_attribute(attribution)),
                ),
            )
            .set(set)
            .returning(customers::customer_id),
            conn,
        )
        .await
        .map_err(from_diesel)?
        .into_iter()
        .collect()
    };
    let unchanged_pinned: Vec<&str> = targets
        .iter()
        .filter(|(id, expected)| expected.is_some() && !changed.contains(id.as_str()))
        .map(|(id, _)| id.as_str())
        .collect();
    let current: Vec<(String, i64)> = if unchanged_pinned.is_empty() {
        Vec::new()
    } else {
        complete::rows(
            customers::table
                .filter(customers::customer_id.eq_any(&unchanged_pinned))
                .filter(customers::erased_at.is_null())
                .select((customers::customer_id, customers::version)),
            conn,
        )
        .await
        .map_err(from_diesel)?
    };
    // In the order of the request, as the changed ones.
    let mut stale = Vec::new();
    for (target, _) in targets {
        if let Some((_, version)) = current.iter().find(|(id, _)| id == target.as_str()) {
            stale.push((target.clone(), version_of(*version)?));
        }
    }
    Ok(BulkWritten {
        changed: targets
            .iter()
            .filter(|(id, _)| changed.contains(id.as_str()))
            .map(|(id, _)| id.clone())
            .collect(),
        stale,
    })
}

/// The version after a single-column write, or why there was none.
async fn versioned(
    conn: &mut AsyncPgConnection,
    id: &CustomerId,
    written: QueryResult<Option<i64>>,
) -> Result<Written<u64>, RepositoryError> {
    match written.map_err(from_diesel)? {
        Some(version) => Ok(Written::Done(version_of(version)?)),
        None => missed(conn, id).await,
    }
}

/// The customer `id`, if the precondition holds and it is no tombstone: the target of a
/// single-customer write.
fn one_customer(id: &CustomerId, expected: &Precondition, attribution: &str) -> OneCustomer {
    customers::table.filter(
        customers::customer_id
            .eq(id.as_str().to_owned())
            .and(customers::erased_at.is_null())
            .and(admits(expected))
            .and(customer_events_attribute(attribution.to_owned())),
    )
}

type OneCustomer = diesel::dsl::Filter<
    customers::table,
    diesel::dsl::And<
        diesel::dsl::And<
            diesel::dsl::And<
                diesel::dsl::Eq<customers::customer_id, String>,
                diesel::dsl::IsNull<customers::erased_at>,
            >,
            Admits,
        >,
        customer_events_attribute<String>,
    >,
>;

/// Writes `changes` (one column: a verification, a login, a deactivation) to the customer
/// if `expected` holds; its new version.
pub(super) async fn set_one(
    conn: &mut AsyncPgConnection,
    id: &CustomerId,
    expected: &Precondition,
    attribution: &str,
    changes: CustomerChangeset<'_>,
) -> Result<Written<u64>, RepositoryError> {
    let written = complete::optional_row(
        diesel::update(one_customer(id, expected, attribution))
            .set(changes)
            .returning(customers::version),
        conn,
    )
    .await;
    versioned(conn, id, written).await
}

pub(super) async fn delete(
    conn: &mut AsyncPgConnection,
    id: &CustomerId,
    expected: &Precondition,
    attribution: &str,
    distributed: bool,
) -> Result<Written<()>, RepositoryError> {
    let deleted: Vec<(String, String)> = complete::rows(
        diesel::delete(one_customer(id, expected, attribution))
            .returning((customers::username, customers::email)),
        conn,
    )
    .await
    .map_err(from_diesel)?;
    match deleted.into_iter().next() {
        Some((username, email)) => {
            if distributed {
                release(conn, Some(&username), &email).await?;
            }
            Ok(Written::Done(()))
        }
        None => missed(conn, id).await,
    }
}

#[cfg(test)]
mod tests {
    use diesel_async::AsyncConnection;
    use domain::{Email, Gender, Tags};

    use super::*;
    use test_db::TestDatabase;

    fn draft(n: u32, optional: bool) -> CustomerDraft {
        CustomerDraft {
            first_name: "Ann".into(),
            last_name: "Lee".into(),
            email: Email::parse(&format!("ann{n}@example.com")).unwrap(),
            phone: None,
            address_line1: None,
            address_line2: None,
            city: optional.then(|| "Oslo".into()),
            state: None,
            postal_code: None,
            country: optional.then(|| "Norway".into()),
            date_of_birth: None,
            gender: optional.then_some(Gender::Female),
            company_name: None,
            tax_id: None,
            preferred_language: optional.then(|| domain::LanguageTag::parse("nb-NO").unwrap()),
            marketing_emails: true,
            marketing_sms: false,
            notes: None,
            tags: Tags::default(),
        }
    }

    #[tokio::test]
    async fn inserts_with_and_without_optional_fields_share_one_prepared_statement() {
        let db = TestDatabase::new().await;
        let mut conn = AsyncPgConnection::establish(db.url()).await.unwrap();
        let seen = test_db::record_statements(&mut conn);
        for n in 0..4 {
            let id = CustomerId::parse(&format!("CUST_0000000{n}")).unwrap();
            let username = Username::parse(&format!("annlee{n}")).unwrap();
            insert(
                &mut conn,
                &id,
                &username,
                &draft(n, n % 2 == 0),
                "{}",
                false,
            )
            .await
            .unwrap();
        }
        let inserts = seen
            .lock()
            .unwrap()
            .cached
            .iter()
            .filter(|sql| sql.starts_with("INSERT"))
            .count();
        assert_eq!(inserts, 1);
    }
}
