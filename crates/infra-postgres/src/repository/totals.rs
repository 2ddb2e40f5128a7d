//! How many customers a search matches: exact whenever at most [`SearchTotals`]' bound
//! match (10,000 by default), on one node and on Citus alike; above it an estimate from a
//! random sample of the table, said to be one, and within a factor of 2 of the truth.
//!
//! (The list's totals are exact at any size: they come from the aggregates the database
//! keeps with every write, see `statistics.rs`.)
//!
//! An exact `count(*)` of a search visits every match: hundreds of thousands of heap rows
//! for a search of a common name. Counting stops after `bound + 1` matches instead
//! (`SELECT count(*) FROM (... LIMIT n)`), so a search with at most `bound` matches gets its
//! exact total at the cost of at most that many rows. The planner's estimate is never the
//! total: it is off by 10× and more for a `LIKE '%x%'`, and a Citus coordinator estimates
//! every distributed scan at 100,000 rows whatever it matches.
//!
//! Above the bound the matches are counted in a random sample of the customers' ids
//! ([`Sample`]): the id range is cut into [`STRATA`] equal strata and each contributes one
//! window at a random place, the same share of each (a stratified sample: every id is in it
//! with the same probability). The total is what the sample found, scaled by that share.
//! The share is sized for about [`SAMPLE_TARGET`] matches (so the relative error is about
//! 10%); a sample that found fewer than [`SAMPLE_ENOUGH`] grows fourfold, at most
//! [`SAMPLE_ROUNDS`] times, up to the whole table (whose count is exact). Ids follow the
//! order customers were created in, so a search whose matches were all created in one
//! burst is the hard case: its matches fall into few windows, and a few windows more or
//! less change the estimate several times over. So a sample whose matches lie in fewer
//! than [`MIN_STRATA_FOUND`] strata grows too, unless it found [`PLENTY`].
use diesel::QueryResult;
use diesel::expression::BoxableExpression;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{BigInt, Bool, Text};
use diesel_async::AsyncPgConnection;
use rand::Rng;

use crate::complete;
use crate::schema::customers::{self, dsl as c};
use crate::sql::PlannedEachTime;

/// Up to how many matches a search's total is exact (counted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchTotals {
    exact_up_to: u32,
}

impl SearchTotals {
    /// The bound when none is configured.
    pub const DEFAULT_EXACT_UP_TO: u32 = 10_000;

    /// Totals exact up to `bound` matches (at least 1).
    pub fn exact_up_to(bound: u32) -> Self {
        Self {
            exact_up_to: bound.max(1),
        }
    }

    /// The bound.
    pub fn bound(self) -> u32 {
        self.exact_up_to
    }
}

impl Default for SearchTotals {
    fn default() -> Self {
        Self::exact_up_to(Self::DEFAULT_EXACT_UP_TO)
    }
}

/// The matches a sample is sized to find.
const SAMPLE_TARGET: f64 = 100.0;
/// A sample that found fewer matches than this is drawn again, four times as large.
const SAMPLE_ENOUGH: i64 = 25;
/// The strata of the id range, one window in each.
const STRATA: i64 = 32;
/// A sample whose matches lie in fewer strata than this is drawn again, four times as
/// large: the matches are clustered (created in a burst), and a few windows more or less
/// on the cluster would change the estimate several times over.
const MIN_STRATA_FOUND: usize = 12;
/// A sample that found this many matches is not grown, however few strata they lie in: a
/// cluster that large fills the windows it falls into, and growing the sample towards a
/// count of millions of matches would cost seconds.
const PLENTY: i64 = 1_600;
/// How many samples a total may draw: the shares grow 1, 4, 16, 64 and 256 times, and a
/// share of 1 (the whole table) is a count, exact.
const SAMPLE_ROUNDS: u32 = 6;

/// `SELECT count(*) FROM (<query> LIMIT <limit>) AS bounded`.
#[derive(Debug, QueryId)]
struct CountUpTo<Q> {
    query: Q,
    limit: i64,
}

impl<Q> Query for CountUpTo<Q> {
    type SqlType = BigInt;
}

impl<Q: QueryFragment<Pg>> QueryFragment<Pg> for CountUpTo<Q> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("SELECT count(*) FROM (");
        self.query.walk_ast(out.reborrow())?;
        // A literal, not a parameter: a cached generic plan then still knows the limit.
        out.push_sql(&format!(" LIMIT {}) AS bounded", self.limit));
        Ok(())
    }
}

/// `SELECT (id - lowest) / stratum, count(*) FROM (<ids>) GROUP BY 1`: how many of the ids
/// the query selects fall in each stratum that has any.
#[derive(Debug, QueryId)]
struct CountPerStratum<Q> {
    ids: Q,
    lowest: i64,
    stratum: i64,
}

impl<Q> Query for CountPerStratum<Q> {
    type SqlType = (BigInt, BigInt);
}

impl<Q: QueryFragment<Pg>> QueryFragment<Pg> for CountPerStratum<Q> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        // Integers, written as literals like `CountUpTo`'s limit.
        out.push_sql(&format!(
            "SELECT (id - {}) / {}, count(*) FROM (",
            self.lowest, self.stratum
        ));
        self.ids.walk_ast(out.reborrow())?;
        out.push_sql(") AS sampled GROUP BY 1");
        Ok(())
    }
}

/// `EXPLAIN (FORMAT JSON) <query>`: the plan as one JSON text, the query not run.
#[derive(Debug, QueryId)]
struct ExplainJson<Q>(Q);

impl<Q> Query for ExplainJson<Q> {
    type SqlType = Text;
}

impl<Q: QueryFragment<Pg>> QueryFragment<Pg> for ExplainJson<Q> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("EXPLAIN (FORMAT JSON) ");
        self.0.walk_ast(out.reborrow())
    }
}

/// The planner's row estimate of the top plan node, from `EXPLAIN (FORMAT JSON)`.
fn estimated_rows(plan_json: &str) -> Option<f64> {
    let plan: serde_json::Value = serde_json::from_str(plan_json).ok()?;
    plan.get(0)?.get("Plan")?.get("Plan Rows")?.as_f64()
}

/// Which part of the matches a page showed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct PageShown {
    pub offset: u64,
    pub limit: u32,
    pub rows: u64,
}

/// The total of a search, given its page: free when the page shows the last match, else
/// counted up to the bound, else estimated from a sample (see the module).
pub(super) async fn total_of_search(
    conn: &AsyncPgConnection,
    totals: SearchTotals,
    shown: PageShown,
    filter: impl Fn() -> customers::BoxedQuery<'static, Pg>,
) -> QueryResult<Total> {
    let seen = shown.offset + shown.rows;
    // A page that is not full ends the matches; so does an empty first page.
    if (shown.rows > 0 || shown.offset == 0) && shown.rows < u64::from(shown.limit) {
        return Ok(Total::exact(seen));
    }
    let mut conn = conn;
    let bound = i64::from(totals.bound());
    let count = PlannedEachTime(CountUpTo {
        query: filter().select(c::id),
        limit: bound + 1,
    });
    let counted: i64 = complete::one_row(count, &mut conn).await?;
    if counted <= bound {
        return Ok(Total::exact(u64::try_from(counted).unwrap_or_default()));
    }
    sampled_total(conn, bound, filter).await
}

/// The total of a search known to match more than `bound` customers, from samples of the
/// table; the planner's estimate (asked in the same round trip as the ids' range) only
/// sizes the first one.
async fn sampled_total(
    conn: &AsyncPgConnection,
    bound: i64,
    filter: impl Fn() -> customers::BoxedQuery<'static, Pg>,
) -> QueryResult<Total> {
    let (mut plan_conn, mut range_conn) = (conn, conn);
    let (plan, (lowest, highest)): (String, (Option<i64>, Option<i64>)) = tokio::try_join!(
        complete::one_row(ExplainJson(filter().select(c::id)), &mut plan_conn),
        complete::one_row(
            customers::table.select((diesel::dsl::min(c::id), diesel::dsl::max(c::id))),
            &mut range_conn,
        ),
    )?;
    let expected = estimated_rows(&plan);
    let mut conn = conn;
    let (Some(lowest), Some(highest)) = (lowest, highest) else {
        // The table emptied since the count: nothing to scale.
        return Ok(Total::exact(0));
    };
    // Half the estimate: an overestimate then still leaves the sample large enough.
    let matches = (expected.unwrap_or(0.0) / 2.0).max((bound + 1) as f64);
    let mut share = (SAMPLE_TARGET / matches).min(1.0);
    let mut round = 1;
    loop {
        let sample = Sample::draw(lowest, highest, share, &mut rand::rng());
        let per_stratum: Vec<(i64, i64)> = complete::rows(
            PlannedEachTime(CountPerStratum {
                // The whole table: every customer, those created since the range was read.
                ids: if sample.is_whole() {
                    filter().select(c::id)
                } else {
                    filter().filter(sample.predicate()).select(c::id)
                },
                lowest,
                stratum: sample.stratum,
            }),
            &mut conn,
        )
        .await?;
        let found: i64 = per_stratum.iter().map(|(_, n)| n).sum();
        if sample.is_whole() {
            return Ok(Total::exact(u64::try_from(found).unwrap_or_default()));
        }
        let spread = per_stratum.len() >= MIN_STRATA_FOUND;
        if (found >= SAMPLE_ENOUGH && spread) || found >= PLENTY || round == SAMPLE_ROUNDS {
            return Ok(Total::estimate(scaled(found, &sample, bound)));
        }
        share = (share * 4.0).min(1.0);
        round += 1;
    }
}

/// What `found` matches in `sample` stand for, never fewer than the `bound + 1` counted.
fn scaled(found: i64, sample: &Sample, bound: i64) -> u64 {
    // Counts and the table's ids are far inside f64's exact integers; `as` saturates.
    let total = (found as f64 * sample.stratum as f64 / sample.width as f64).round() as u64;
    total.max(u64::try_from(bound + 1).unwrap_or_default())
}

/// A stratified random sample of the ids `lowest..=highest`: each of [`STRATA`] strata of
/// `stratum` ids holds one window of `width` ids at a random offset, wrapping around
/// within the stratum, so each id is in the sample with probability `width / stratum`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Sample {
    stratum: i64,
    width: i64,
    /// Half-open id ranges.
    ranges: Vec<(i64, i64)>,
}

impl Sample {
    /// About `share` of the ids `lowest..=highest`, at least one id per stratum.
    fn draw(lowest: i64, highest: i64, share: f64, rng: &mut impl Rng) -> Self {
        let span = highest.saturating_sub(lowest).saturating_add(1).max(1);
        let stratum = (span.saturating_add(STRATA - 1) / STRATA).max(1);
        // Ids are far inside f64's exact integers; `as` saturates.
        let width = ((stratum as f64 * share).ceil() as i64).clamp(1, stratum);
        let mut ranges = Vec::with_capacity(2 * STRATA as usize);
        if width == stratum {
            ranges.push((lowest, lowest.saturating_add(stratum * STRATA)));
        } else {
            for k in 0..STRATA {
                let start = lowest + k * stratum;
                let offset = rng.random_range(0..stratum);
                let end = offset + width;
                ranges.push((start + offset, start + end.min(stratum)));
                if end > stratum {
                    ranges.push((start, start + end - stratum));
                }
            }
        }
        Self {
            stratum,
            width,
            ranges,
        }
    }

    /// Whether every id is in the sample (its count is then exact).
    fn is_whole(&self) -> bool {
        self.width == self.stratum
    }

    /// `id` in one of the ranges (`false OR ...`, which the planner drops).
    fn predicate(&self) -> Box<dyn BoxableExpression<customers::table, Pg, SqlType = Bool>> {
        let none: Box<dyn BoxableExpression<customers::table, Pg, SqlType = Bool>> =
            Box::new(false.into_sql::<Bool>());
        self.ranges.iter().fold(none, |any, &(from, to)| {
            Box::new(any.or(c::id.ge(from).and(c::id.lt(to))))
        })
    }
}

/// A number of matches, and whether it was counted or estimated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Total {
    pub count: u64,
    pub is_estimate: bool,
}

impl Total {
    fn exact(count: u64) -> Self {
        Self {
            count,
            is_estimate: false,
        }
    }

    fn estimate(count: u64) -> Self {
        Self {
            count,
            is_estimate: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;

    const PLAN: &str = r#"[{"Plan": {"Node Type": "Seq Scan", "Plan Rows": 998877.4}}]"#;

    #[test]
    fn the_estimate_is_read_from_the_plan() {
        assert_eq!(estimated_rows(PLAN), Some(998_877.4));
        assert_eq!(estimated_rows("not json"), None);
    }

    fn covered(sample: &Sample, id: i64) -> bool {
        sample
            .ranges
            .iter()
            .any(|&(from, to)| from <= id && id < to)
    }

    #[test]
    fn a_sample_holds_its_share_of_every_stratum_and_nothing_twice() {
        let mut rng = StdRng::seed_from_u64(7);
        for _ in 0..200 {
            let sample = Sample::draw(1_001, 161_000, 0.03, &mut rng);
            assert_eq!((sample.stratum, sample.width), (5_000, 150));
            assert!(!sample.is_whole());
            for k in 0..STRATA {
                let start = 1_001 + k * sample.stratum;
                let inside = (start..start + sample.stratum)
                    .filter(|&id| covered(&sample, id))
                    .count();
                assert_eq!(inside, 150, "stratum {k}: {sample:?}");
            }
            let total: i64 = sample.ranges.iter().map(|(from, to)| to - from).sum();
            assert_eq!(total, STRATA * 150, "overlapping ranges: {sample:?}");
        }
    }

    #[test]
    fn every_id_is_sampled_equally_often() {
        // Over many draws each id, at a stratum's edges too, is in about `share` of them:
        // 32 strata of 20 ids, windows of 2.
        let mut rng = StdRng::seed_from_u64(11);
        let mut hits = [0_u32; 640];
        let draws = 2_000;
        for _ in 0..draws {
            let sample = Sample::draw(1, 640, 0.1, &mut rng);
            assert_eq!((sample.stratum, sample.width), (20, 2));
            for (id, hit) in (1..=640).zip(hits.iter_mut()) {
                *hit += u32::from(covered(&sample, id));
            }
        }
        for (id, hit) in (1..).zip(hits) {
            let share = f64::from(hit) / f64::from(draws);
            assert!((0.07..0.13).contains(&share), "id {id}: {share}");
        }
    }

    #[test]
    fn a_share_of_one_or_a_tiny_range_samples_everything() {
        let mut rng = StdRng::seed_from_u64(3);
        let whole = Sample::draw(5, 104, 1.0, &mut rng);
        assert!(whole.is_whole());
        assert!((5..=104).all(|id| covered(&whole, id)));
        let tiny = Sample::draw(5, 9, 0.01, &mut rng);
        assert!(tiny.is_whole(), "{tiny:?}");
        assert!((5..=9).all(|id| covered(&tiny, id)));
    }

    #[test]
    fn a_sampled_total_scales_by_the_share_and_never_falls_below_what_was_counted() {
        let sample = Sample {
            stratum: 1_000,
            width: 10,
            ranges: vec![(1, 11)],
        };
        assert_eq!(scaled(150, &sample, 10_000), 15_000);
        assert_eq!(scaled(3, &sample, 10_000), 10_001);
    }
}
