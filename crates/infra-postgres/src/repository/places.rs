//! Substring filters on the place columns (`city`, `state`, `country`), as the original
//! service matched them (`ILIKE '%value%'`), without a trigram index per column.
//!
//! A place column holds few distinct values (hundreds of cities, tens of countries, at a
//! million customers), and each has a btree index on `lower(column)`. So a substring filter
//! runs in two steps: the distinct lower-cased values are read by a loose index scan (one
//! index descent per distinct value, a recursive CTE) and the ones containing the term kept;
//! the query then asks for `lower(column) = ANY(those values)`, which the same indexes as
//! an exact match serve (including the search index that starts with `lower(country)`).

use diesel::prelude::*;
use diesel::sql_types::Text;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::sql::contains_pattern;

/// A place column; the closed set keeps the column name out of any user input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PlaceColumn {
    City,
    State,
    Country,
}

impl PlaceColumn {
    fn name(self) -> &'static str {
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
    let col = column.name();
    // `lower(v) LIKE lower(p)` is what `v ILIKE p` means in a UTF-8 database; lower() leaves
    // the pattern's wildcards and escapes as they are.
    let sql = format!(
        "WITH RECURSIVE v(value) AS ( \
             SELECT min(lower({col})) FROM customers \
             UNION ALL \
             SELECT (SELECT min(lower({col})) FROM customers WHERE lower({col}) > v.value) \
             FROM v WHERE v.value IS NOT NULL \
         ) \
         SELECT value FROM v WHERE value IS NOT NULL AND value LIKE lower($1)"
    );
    let rows: Vec<Value> = diesel::sql_query(sql)
        .bind::<Text, _>(contains_pattern(term))
        .load(conn)
        .await?;
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
