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
#[derive(Debug, diesel::query_builder::QueryId)]
pub(crate) struct ExplainAnalyze<Q>(pub(crate) Q);

impl<Q> diesel::query_builder::Query for ExplainAnalyze<Q> {
    type SqlType = Text;
}

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

/// A SQL text fixed at compile time with its bound parameters (`$1`, `$2`, ... in the text;
/// the binds in that order, each as often as its number appears): prepared once per
/// connection and kept, where diesel's `sql_query` is parsed and planned on every call (it
/// cannot know that its text is constant, so it marks itself unsafe to keep). For the small
/// statements over the aggregates, where planning cost more than running.
///
/// Rows load into `QueryableByName` types, as with `sql_query`.
#[derive(Debug, Clone)]
pub(crate) struct ConstSql<B> {
    sql: &'static str,
    binds: B,
}

/// Builds a [`ConstSql`].
pub(crate) fn const_sql<B: Binds>(sql: &'static str, binds: B) -> ConstSql<B> {
    ConstSql { sql, binds }
}

/// One bound value and its SQL type.
#[derive(Debug, Clone)]
pub(crate) struct Bind<ST, T>(pub(crate) T, pub(crate) std::marker::PhantomData<ST>);

/// `value` bound as `ST`.
pub(crate) fn bind<ST, T>(value: T) -> Bind<ST, T> {
    Bind(value, std::marker::PhantomData)
}

/// The parameters of a [`ConstSql`], pushed by their 1-based number.
pub(crate) trait Binds {
    /// Pushes parameter `n` (1-based).
    ///
    /// # Errors
    /// When `n` names no parameter, or the value cannot be written.
    fn push<'b>(
        &'b self,
        n: usize,
        out: &mut diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>,
    ) -> diesel::QueryResult<()>;
}

fn no_such_parameter(n: usize) -> diesel::result::Error {
    diesel::result::Error::QueryBuilderError(format!("no parameter ${n}").into())
}

/// [`Binds`] for tuples of up to the arity listed below: a macro for data, as the standard
/// library implements its traits for tuples (one impl per arity, no control flow).
macro_rules! binds_for_tuple {
    ($($name:ident $number:tt),+) => {
        impl<$($name: PushBind),+> Binds for ($($name,)+) {
            fn push<'b>(
                &'b self,
                n: usize,
                out: &mut diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>,
            ) -> diesel::QueryResult<()> {
                match n {
                    $(n if n == $number + 1 => self.$number.push_to(out),)+
                    _ => Err(no_such_parameter(n)),
                }
            }
        }
    };
}

impl Binds for () {
    fn push<'b>(
        &'b self,
        n: usize,
        _out: &mut diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>,
    ) -> diesel::QueryResult<()> {
        Err(no_such_parameter(n))
    }
}
binds_for_tuple!(A 0);
binds_for_tuple!(A 0, B 1);
binds_for_tuple!(A 0, B 1, C 2);
binds_for_tuple!(A 0, B 1, C 2, D 3);
binds_for_tuple!(A 0, B 1, C 2, D 3, E 4);
binds_for_tuple!(A 0, B 1, C 2, D 3, E 4, F 5);

/// One value that can be bound.
pub(crate) trait PushBind {
    /// Pushes the value as a bind parameter.
    ///
    /// # Errors
    /// When the value cannot be written.
    fn push_to<'b>(
        &'b self,
        out: &mut diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>,
    ) -> diesel::QueryResult<()>;
}

impl<ST, T> PushBind for Bind<ST, T>
where
    diesel::pg::Pg: diesel::sql_types::HasSqlType<ST>,
    T: diesel::serialize::ToSql<ST, diesel::pg::Pg>,
{
    fn push_to<'b>(
        &'b self,
        out: &mut diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>,
    ) -> diesel::QueryResult<()> {
        out.push_bind_param::<ST, T>(&self.0)
    }
}

impl<B: Binds> diesel::query_builder::QueryFragment<diesel::pg::Pg> for ConstSql<B> {
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>,
    ) -> diesel::QueryResult<()> {
        // Copies the text, with each `$n` replaced by diesel's own placeholder for the
        // next parameter (so a number used twice binds its value twice).
        let mut rest = self.sql;
        while let Some(at) = rest.find('$') {
            out.push_sql(&rest[..at]);
            let after = &rest[at + 1..];
            let digits = after.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                out.push_sql("$");
                rest = after;
                continue;
            }
            let n: usize = after[..digits].parse().map_err(|_| no_such_parameter(0))?;
            self.binds.push(n, &mut out)?;
            rest = &after[digits..];
        }
        out.push_sql(rest);
        Ok(())
    }
}

impl<B> diesel::query_builder::QueryId for ConstSql<B> {
    type QueryId = ();
    // Kept by its SQL text (and the binds' types) in the connection's statement cache.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<B> diesel::query_builder::Query for ConstSql<B> {
    type SqlType = diesel::sql_types::Untyped;
}
