//! The advanced search: every filter of `SearchCriteria` in SQL, sorted by a closed set of
//! columns (tie-broken by `id` so pages never overlap), with the total of the same filter.

use diesel::pg::Pg;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::{CustomerPage, RepositoryError, SearchCriteria, SortField, SortOrder};

use super::reads::limit_offset;
use super::totals::{PageShown, estimate_matching, total_of_search};
use crate::errors::from_diesel;
use crate::rows::{CustomerRow, into_customers};
use crate::schema::customers::{self, dsl as c};
use crate::sql::{contains_pattern, lower};

type Query<'a> = customers::BoxedQuery<'a, Pg>;

/// The criteria's filters; built once for the page and once for its total. Text filters
/// are `ILIKE` substrings (each column has a trigram index) with wildcards escaped; places
/// compare `lower(..)`, which the expression indexes cover.
fn filtered(criteria: &SearchCriteria) -> Query<'static> {
    let mut query = customers::table.into_boxed();
    if let Some(term) = &criteria.query {
        let p = contains_pattern(term);
        query = query.filter(
            c::first_name
                .ilike(p.clone())
                .or(c::last_name.ilike(p.clone()))
                .or(c::email.ilike(p.clone()))
                .or(c::username.ilike(p.clone()))
                .or(c::phone.ilike(p.clone()))
                .or(c::company_name.ilike(p)),
        );
    }
    if let Some(v) = &criteria.first_name {
        query = query.filter(c::first_name.ilike(contains_pattern(v)));
    }
    if let Some(v) = &criteria.last_name {
        query = query.filter(c::last_name.ilike(contains_pattern(v)));
    }
    if let Some(v) = &criteria.email {
        query = query.filter(c::email.ilike(contains_pattern(v)));
    }
    if let Some(v) = &criteria.phone {
        query = query.filter(c::phone.ilike(contains_pattern(v)));
    }
    if let Some(v) = &criteria.company_name {
        query = query.filter(c::company_name.ilike(contains_pattern(v)));
    }
    if let Some(v) = &criteria.city {
        query = query.filter(lower(c::city).eq(lower(v.clone())));
    }
    if let Some(v) = &criteria.state {
        query = query.filter(lower(c::state).eq(lower(v.clone())));
    }
    if let Some(v) = &criteria.country {
        query = query.filter(lower(c::country).eq(lower(v.clone())));
    }
    if let Some(v) = criteria.is_active {
        query = query.filter(c::is_active.eq(v));
    }
    if let Some(v) = criteria.is_verified {
        query = query.filter(c::is_verified.eq(v));
    }
    if let Some(tags) = &criteria.tags {
        query = query.filter(c::tags.contains(tags.as_slice().to_vec()));
    }
    if let Some(after) = criteria.created_after {
        query = query.filter(c::created_at.ge(after));
    }
    if let Some(before) = criteria.created_before {
        query = query.filter(c::created_at.le(before));
    }
    query
}

/// Orders by the field, then by `id` in the same direction. Nullable columns put customers
/// without a value last in both directions: they are the least interesting either way.
fn sorted(query: Query<'_>, field: SortField, order: SortOrder) -> Query<'_> {
    macro_rules! by {
        ($column:expr) => {
            match order {
                SortOrder::Asc => query.order_by(($column.asc(), c::id.asc())),
                SortOrder::Desc => query.order_by(($column.desc(), c::id.desc())),
            }
        };
    }
    macro_rules! by_nullable {
        ($column:expr) => {
            match order {
                SortOrder::Asc => query.order_by(($column.asc().nulls_last(), c::id.asc())),
                SortOrder::Desc => query.order_by(($column.desc().nulls_last(), c::id.desc())),
            }
        };
    }
    match field {
        SortField::CreatedAt => by!(c::created_at),
        SortField::UpdatedAt => by!(c::updated_at),
        SortField::FirstName => by!(c::first_name),
        SortField::LastName => by!(c::last_name),
        SortField::Email => by!(c::email),
        SortField::Username => by!(c::username),
        SortField::CustomerId => by!(c::customer_id),
        SortField::City => by_nullable!(c::city),
        SortField::Country => by_nullable!(c::country),
        SortField::LastLoginAt => by_nullable!(c::last_login_at),
        SortField::Id => match order {
            SortOrder::Asc => query.order_by(c::id.asc()),
            SortOrder::Desc => query.order_by(c::id.desc()),
        },
    }
}

/// A page of matches and the number of matches: the page and the planner's estimate are
/// pipelined on one connection; counting follows only when it is cheap (see
/// [`total_of_search`]).
pub(super) async fn search(
    conn: &AsyncPgConnection,
    criteria: &SearchCriteria,
) -> Result<CustomerPage, RepositoryError> {
    let (limit, offset) = limit_offset(&criteria.page)?;
    let page = sorted(filtered(criteria), criteria.sort_by, criteria.sort_order)
        .select(CustomerRow::as_select())
        .limit(limit)
        .offset(offset);
    let mut page_conn = conn;
    let (rows, estimate) = tokio::try_join!(
        page.load::<CustomerRow>(&mut page_conn),
        estimate_matching(conn, filtered(criteria)),
    )
    .map_err(from_diesel)?;
    let shown = PageShown {
        offset: criteria.page.offset,
        limit: criteria.page.limit,
        rows: rows.len() as u64,
    };
    let total = total_of_search(conn, shown, estimate, || filtered(criteria))
        .await
        .map_err(from_diesel)?;
    Ok(CustomerPage {
        customers: into_customers(rows)?,
        total,
        next_cursor: None,
    })
}

/// A search's SQL as diesel generates it and PostgreSQL's `EXPLAIN (ANALYZE, BUFFERS)` of
/// its page and total queries, run with the real bound values (for measurements).
#[cfg(feature = "test-support")]
#[derive(Debug, Clone)]
pub struct SearchPlans {
    /// The page query with its binds, as `diesel::debug_query` shows it.
    pub page_sql: String,
    /// The plan of the page query, one line per row.
    pub page_plan: Vec<String>,
    /// The count query with its binds.
    pub count_sql: String,
    /// The plan of the count query.
    pub count_plan: Vec<String>,
}

/// Explains (and runs) the page and total queries of a search.
///
/// # Errors
/// When the database fails.
#[cfg(feature = "test-support")]
pub async fn explain_search(
    pool: &crate::Pool,
    criteria: &SearchCriteria,
) -> Result<SearchPlans, RepositoryError> {
    use crate::sql::ExplainAnalyze;
    let (limit, offset) = limit_offset(&criteria.page)?;
    let page = || {
        sorted(filtered(criteria), criteria.sort_by, criteria.sort_order)
            .select(CustomerRow::as_select())
            .limit(limit)
            .offset(offset)
    };
    let count = || filtered(criteria).count();
    let mut conn = pool.get().await.map_err(crate::errors::from_pool)?;
    let page_plan = ExplainAnalyze(page())
        .load::<String>(&mut conn)
        .await
        .map_err(from_diesel)?;
    let count_plan = ExplainAnalyze(count())
        .load::<String>(&mut conn)
        .await
        .map_err(from_diesel)?;
    Ok(SearchPlans {
        page_sql: diesel::debug_query::<Pg, _>(&page()).to_string(),
        page_plan,
        count_sql: diesel::debug_query::<Pg, _>(&count()).to_string(),
        count_plan,
    })
}
