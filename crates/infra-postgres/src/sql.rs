//! Small SQL helpers the queries share: `lower()` and LIKE patterns built from user text.

use diesel::expression::functions::declare_sql_function;
use diesel::sql_types::{Nullable, Text};

#[declare_sql_function]
extern "SQL" {
    /// PostgreSQL's `lower(text)`; the expression indexes are on exactly `lower(column)`.
    fn lower(text: Nullable<Text>) -> Nullable<Text>;
}

/// A pattern matching `term` anywhere in a text, with LIKE's wildcards in `term` (`%`, `_`)
/// and its escape character (`\`, the default) matched literally.
pub(crate) fn contains_pattern(term: &str) -> String {
    let mut pattern = String::with_capacity(term.len() + 2);
    pattern.push('%');
    for ch in term.chars() {
        if matches!(ch, '\\' | '%' | '_') {
            pattern.push('\\');
        }
        pattern.push(ch);
    }
    pattern.push('%');
    pattern
}

/// A statement PostgreSQL plans anew for its bound values on every execution.
///
/// diesel prepares each statement once per connection, and after five executions
/// PostgreSQL may switch a prepared statement to a generic plan, made without the values,
/// whenever that plan's estimated cost is no higher than the average of the plans made
/// with them. For a search that is a trap: its best plan depends on how common the term
/// is (walk the newest customers for a common one, intersect the trigram index for a rare
/// one), and a generic plan picks one for every term. So these statements are not kept
/// prepared: they are parsed and planned with their values each time (a fraction of a
/// millisecond, which their custom plans pay anyway).
#[derive(Debug, diesel::query_builder::QueryId)]
pub(crate) struct PlannedEachTime<Q>(pub(crate) Q);

impl<Q: diesel::query_builder::Query> diesel::query_builder::Query for PlannedEachTime<Q> {
    type SqlType = Q::SqlType;
}

impl<Q> diesel::query_builder::QueryFragment<diesel::pg::Pg> for PlannedEachTime<Q>
where
    Q: diesel::query_builder::QueryFragment<diesel::pg::Pg>,
{
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>,
    ) -> diesel::QueryResult<()> {
        out.unsafe_to_cache_prepared();
        self.0.walk_ast(out.reborrow())
    }
}

/// `EXPLAIN (ANALYZE, BUFFERS)` of a query, keeping its bound values (for measurements).
#[cfg(feature = "test-support")]
#[derive(Debug, diesel::query_builder::QueryId)]
pub(crate) struct ExplainAnalyze<Q>(pub(crate) Q);

#[cfg(feature = "test-support")]
impl<Q> diesel::query_builder::Query for ExplainAnalyze<Q> {
    type SqlType = Text;
}

#[cfg(feature = "test-support")]
impl<Q> diesel::query_builder::QueryFragment<diesel::pg::Pg> for ExplainAnalyze<Q>
where
    Q: diesel::query_builder::QueryFragment<diesel::pg::Pg>,
{
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>,
    ) -> diesel::QueryResult<()> {
        out.push_sql("EXPLAIN (ANALYZE, BUFFERS) ");
        self.0.walk_ast(out.reborrow())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_wrapped_in_wildcards() {
        assert_eq!(contains_pattern("john"), "%john%");
        assert_eq!(contains_pattern(""), "%%");
    }

    #[test]
    fn wildcards_and_backslashes_are_escaped() {
        assert_eq!(contains_pattern("50%"), r"%50\%%");
        assert_eq!(contains_pattern("a_b"), r"%a\_b%");
        assert_eq!(contains_pattern(r"c:\x"), r"%c:\\x%");
        assert_eq!(contains_pattern(r"\%_"), r"%\\\%\_%");
    }

    #[test]
    fn other_characters_pass_through_unchanged() {
        assert_eq!(contains_pattern("Ünïcödé 'q' \"x\""), "%Ünïcödé 'q' \"x\"%");
    }
}
