//! The advanced search: every filter of `SearchCriteria` in SQL, sorted by a closed set of
//! columns (tie-broken by `id` so pages never overlap), with the total of the same filter.

use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::Bool;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::{CustomerPage, RepositoryError, SearchCriteria, SortField, SortOrder};

use super::places::PlaceMatches;
use super::reads::limit_offset;
use super::totals::{PageShown, SearchTotals, total_of_search};
use crate::errors::from_diesel;
use crate::rows::{CustomerRow, into_customers};
use crate::schema::customers::{self, dsl as c};
use crate::sql::{PlannedEachTime, contains_pattern, lower};

type Query<'a> = customers::BoxedQuery<'a, Pg>;

/// What joins the columns in `search_text`, the lower-cased concatenation of the six columns
/// the free-text query searches (the `search_text` migration): the separator of the search
/// index's documents, which carry that column as it is.
const SEARCH_TEXT_SEPARATOR: char = domain::SearchDocument::SEPARATOR;

/// The criteria's filters; built once for the page and once for its total. The free-text
/// query is one `LIKE` over `search_text` (trigram-indexed with the country); the other
/// text filters are `ILIKE` substrings of their column, each with the `search_text` match
/// it implies so the same index finds the candidates; all escape the wildcards. Places are
/// substrings too, resolved beforehand into the stored values containing them
/// ([`PlaceMatches`]), so they compare `lower(..)` with those, which the expression indexes
/// cover.
fn filtered(criteria: &SearchCriteria, places: &PlaceMatches) -> Query<'static> {
    // Tombstones never match.
    let mut query = customers::table.filter(c::erased_at.is_null()).into_boxed();
    if let Some(term) = &criteria.query {
        query = if term.contains(SEARCH_TEXT_SEPARATOR) {
            // Every match of `search_text` that contains the separator spans two columns,
            // and no column contains it (the domain refuses control characters).
            query.filter(false.into_sql::<Bool>())
        } else {
            query.filter(
                c::search_text
                    .nullable()
                    .like(lower(contains_pattern(term))),
            )
        };
    }
    // One column's substring, with the `search_text` match it implies (through which the
    // trigram index finds the candidates). A macro for data, not control flow: each column
    // is a diesel type of its own, and a function over them would need a bound per operator.
    macro_rules! contains {
        ($column:expr, $term:expr) => {{
            let p = contains_pattern($term);
            query = query.filter(
                c::search_text
                    .nullable()
                    .like(lower(p.clone()))
                    .and($column.ilike(p)),
            );
        }};
    }
    if let Some(v) = &criteria.first_name {
        contains!(c::first_name, v);
    }
    if let Some(v) = &criteria.last_name {
        contains!(c::last_name, v);
    }
    if let Some(v) = &criteria.email {
        contains!(c::email, v);
    }
    if let Some(v) = &criteria.phone {
        contains!(c::phone, v);
    }
    if let Some(v) = &criteria.company_name {
        contains!(c::company_name, v);
    }
    if let Some(values) = &places.city {
        query = query.filter(lower(c::city).eq_any(values.clone()));
    }
    if let Some(values) = &places.state {
        query = query.filter(lower(c::state).eq_any(values.clone()));
    }
    if let Some(values) = &places.country {
        query = query.filter(lower(c::country).eq_any(values.clone()));
    }
    if let Some(tag) = &criteria.preferred_language {
        // Exact, case ignored: both sides lower-cased, as the expression index is.
        query = query.filter(lower(c::preferred_language).eq(tag.as_str().to_ascii_lowercase()));
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
    // Macros for data, not control flow: each column is a diesel type of its own, and the
    // boxed query's `order_by` takes each ordering expression by its concrete type.
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

/// A page of matches and the number of matches: the page first, then the total, which a
/// page that is not full gives for free (see [`total_of_search`]).
pub(super) async fn search(
    conn: &AsyncPgConnection,
    criteria: &SearchCriteria,
    totals: SearchTotals,
) -> Result<CustomerPage, RepositoryError> {
    let (limit, offset) = limit_offset(&criteria.page)?;
    let places = places_of(conn, criteria).await.map_err(from_diesel)?;
    let page = PlannedEachTime(
        sorted(
            filtered(criteria, &places),
            criteria.sort_by,
            criteria.sort_order,
        )
        .select(CustomerRow::as_select())
        .limit(limit)
        .offset(offset),
    );
    let mut page_conn = conn;
    let rows = page
        .load::<CustomerRow>(&mut page_conn)
        .await
        .map_err(from_diesel)?;
    let shown = PageShown {
        offset: criteria.page.offset,
        limit: criteria.page.limit,
        rows: rows.len() as u64,
    };
    let total = total_of_search(conn, totals, shown, || filtered(criteria, &places))
        .await
        .map_err(from_diesel)?;
    Ok(CustomerPage {
        customers: into_customers(rows)?,
        total: total.count,
        total_is_estimate: total.is_estimate,
        next_cursor: None,
    })
}

/// The stored place values the criteria's place filters match.
async fn places_of(
    conn: &AsyncPgConnection,
    criteria: &SearchCriteria,
) -> diesel::QueryResult<PlaceMatches> {
    PlaceMatches::find(
        conn,
        criteria.city.as_deref(),
        criteria.state.as_deref(),
        criteria.country.as_deref(),
    )
    .await
}

/// A search's SQL as diesel generates it and PostgreSQL's `EXPLAIN (ANALYZE, BUFFERS)` of
/// its page and total queries, run with the real bound values (for measurements).
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
pub async fn explain_search(
    pool: &crate::Pool,
    criteria: &SearchCriteria,
) -> Result<SearchPlans, RepositoryError> {
    use crate::sql::ExplainAnalyze;
    let (limit, offset) = limit_offset(&criteria.page)?;
    let mut conn = pool.get().await.map_err(crate::errors::from_pool)?;
    let places = places_of(&conn, criteria).await.map_err(from_diesel)?;
    let page = || {
        sorted(
            filtered(criteria, &places),
            criteria.sort_by,
            criteria.sort_order,
        )
        .select(CustomerRow::as_select())
        .limit(limit)
        .offset(offset)
    };
    let count = || filtered(criteria, &places).count();
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

#[cfg(test)]
mod tests {
    use diesel_async::AsyncConnection;
    use domain::SearchCriteria;

    use super::*;
    use test_db::{TestDatabase, record_statements};

    #[tokio::test]
    async fn the_page_and_the_count_are_planned_for_their_values_every_time() {
        let db = TestDatabase::new().await;
        let mut conn = AsyncPgConnection::establish(db.url()).await.unwrap();
        let seen = record_statements(&mut conn);
        for term in ["ann", "bob", "cy", "dee", "eve", "fay", "gus"] {
            let criteria = SearchCriteria {
                query: Some(term.into()),
                country: Some("Norway".into()),
                ..SearchCriteria::default()
            };
            // An empty page past the first: the total is counted.
            let criteria = SearchCriteria {
                page: SearchCriteria::page_of(2, 10).unwrap(),
                ..criteria
            };
            let page = search(&conn, &criteria, SearchTotals::default())
                .await
                .unwrap();
            assert_eq!(page.total, 0);
        }
        let seen = seen.lock().unwrap();
        let runs = |prefix: &str| {
            seen.started
                .iter()
                .filter(|s| s.starts_with(prefix))
                .count()
        };
        assert_eq!(
            runs("SELECT \"customers\".\"id\", "),
            7,
            "{:?}",
            seen.started
        );
        assert_eq!(runs("SELECT count(*) FROM ("), 7, "{:?}", seen.started);
        assert!(
            seen.cached
                .iter()
                .all(|sql| !sql.contains("search_text") || sql.starts_with("EXPLAIN")),
            "a search statement was kept prepared: {:?}",
            seen.cached
        );
    }
}
