//! Substring filters on the place columns (`city`, `state`, `country`), as the original
//! service matched them (`ILIKE '%value%'`), without a trigram index per column.
//!
//! A place column holds few distinct values (hundreds of cities, tens of countries, at a
//! million customers), and the aggregates (`customer_counts`, kept with every write) list
//! each of them. So a substring filter runs in two steps: the distinct lower-cased values
//! containing the term are read from the aggregates (a few hundred small rows, whatever the
//! number of customers); the query then asks for `lower(column) = ANY(those values)`,
//! which the same indexes as an exact match serve (including the search index that starts
//! with `lower(country)`). A value whose customers are all gone may still have a row there
//! (counted down to zero): it matches no customer, so it changes no result.

use diesel::prelude::*;
use diesel::sql_types::Text;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::sql::{bind, const_sql, contains_pattern};

/// A place column; the closed set keeps the column name out of any user input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PlaceColumn {
    City,
    State,
    Country,
}

impl PlaceColumn {
    /// Its `kind` in `customer_counts`.
    fn kind(self) -> &'static str {
        match self {
            Self::City => "city",
            Self::State => "state",
            Self::Country => "country",
        }
    }
}

#[derive(QueryableByName)]
struct Value {
    #[diesel(sql_type = Text)]
    value: String,
}

/// The distinct values of `column`, lower-cased, that contain `term` ignoring case, with
/// `%`, `_` and `\` in `term` taken literally.
///
/// # Errors
/// When the database fails.
pub(crate) async fn values_containing(
    conn: &mut &AsyncPgConnection,
    column: PlaceColumn,
    term: &str,
) -> QueryResult<Vec<String>> {
    // `lower(v) LIKE lower(p)` is what `v ILIKE p` means in a UTF-8 database; lower() leaves
    // the pattern's wildcards and escapes as they are. One statement for every column.
    let sql = "SELECT DISTINCT lower(value) AS value FROM customer_counts \
               WHERE kind = $1 AND lower(value) LIKE lower($2)";
    let query = const_sql(
        sql,
        (
            bind::<Text, _>(column.kind()),
            bind::<Text, _>(contains_pattern(term)),
        ),
    );
    let rows: Vec<Value> = query.load(conn).await?;
    Ok(rows.into_iter().map(|row| row.value).collect())
}

/// The place values a search or location filter matches: `None` for a part not filtered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct PlaceMatches {
    pub(crate) city: Option<Vec<String>>,
    pub(crate) state: Option<Vec<String>>,
    pub(crate) country: Option<Vec<String>>,
}

impl PlaceMatches {
    /// Looks up the values each given part matches, pipelined on one connection.
    ///
    /// # Errors
    /// When the database fails.
    pub(crate) async fn find(
        conn: &AsyncPgConnection,
        city: Option<&str>,
        state: Option<&str>,
        country: Option<&str>,
    ) -> QueryResult<Self> {
        async fn one(
            conn: &AsyncPgConnection,
            column: PlaceColumn,
            term: Option<&str>,
        ) -> QueryResult<Option<Vec<String>>> {
            let mut conn = conn;
            match term {
                Some(term) => values_containing(&mut conn, column, term).await.map(Some),
                None => Ok(None),
            }
        }
        let (city, state, country) = tokio::try_join!(
            one(conn, PlaceColumn::City, city),
            one(conn, PlaceColumn::State, state),
            one(conn, PlaceColumn::Country, country),
        )?;
        Ok(Self {
            city,
            state,
            country,
        })
    }
}
