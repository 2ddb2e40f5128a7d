//! Inserts, updates and deletes; each one statement, returning what changed only once
//! PostgreSQL has confirmed its commit (rows through [`complete`], counts through
//! `execute`, which waits for the end of the answer itself).

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::{
    Customer, CustomerChanges, CustomerDraft, CustomerId, RepositoryError, Username, Verification,
};

use super::reads::find_by_customer_id;
use crate::changes::CustomerChangeset;
use crate::complete;
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
    use customers::dsl as c;
    let row = NewCustomerRow::new(customer_id, username, draft);
    // Every column bound, `NULL`s included: one SQL text, prepared once per connection.
    let statement = diesel::insert_into(customers::table)
        .values((
            c::customer_id.eq(row.customer_id),
            c::username.eq(row.username),
            c::first_name.eq(row.first_name),
            c::last_name.eq(row.last_name),
            c::email.eq(row.email),
            c::phone.eq(row.phone),
            c::address_line1.eq(row.address_line1),
            c::address_line2.eq(row.address_line2),
            c::city.eq(row.city),
            c::state.eq(row.state),
            c::postal_code.eq(row.postal_code),
            c::country.eq(row.country),
            c::date_of_birth.eq(row.date_of_birth),
            c::gender.eq(row.gender),
            c::company_name.eq(row.company_name),
            c::tax_id.eq(row.tax_id),
            c::preferred_language.eq(row.preferred_language),
            c::marketing_emails.eq(row.marketing_emails),
            c::marketing_sms.eq(row.marketing_sms),
            c::notes.eq(row.notes),
            c::tags.eq(row.tags),
        ))
        .returning(CustomerRow::as_returning());
    complete::one_row::<_, _, CustomerRow>(statement, conn)
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
    let statement = diesel::update(customers::table.filter(customers::customer_id.eq(id.as_str())))
        .set(set)
        .returning(CustomerRow::as_returning());
    complete::optional_row::<_, _, CustomerRow>(statement, conn)
        .await
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
        complete::rows(targets.select(customers::customer_id), conn).await
    } else {
        complete::rows(
            diesel::update(targets)
                .set(set)
                .returning(customers::customer_id),
            conn,
        )
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
            insert(&mut conn, &id, &username, &draft(n, n % 2 == 0))
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
