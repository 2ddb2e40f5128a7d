//! A search's total: the count whenever at most the bound match, exactly at the bound too;
//! above it an estimate from a sample, flagged, within a factor of 2 of the truth, for
//! matches spread over the table, and the count or such an estimate for matches all
//! created in one burst.

use diesel::sql_types::BigInt;
use diesel_async::RunQueryDsl;
use domain::{CustomerSearch, SearchCriteria};
use infra_postgres::{PgCustomerRepository, SearchTotals};

use super::query;
use crate::support::{analyze, ctx};

const BOUND: u32 = 500;

/// 30,000 customers: first names in thirds, `Kim` every 7th, `Acme` every 50th, `Globex`
/// every 500th, `Initech` for the first 500 and `Umbrella` for the next 501, and `Norway`
/// for 3,000 customers created one after the other.
async fn seeded() -> (crate::support::Ctx, PgCustomerRepository) {
    let t = ctx().await;
    let mut conn = t.db.pool().get().await.unwrap();
    diesel::sql_query(
        "INSERT INTO customers \
             (customer_id, username, first_name, last_name, email, company_name, country) \
         SELECT 'CUST_' || upper(to_hex(268435456 + n)), 'bulk' || n, \
                (ARRAY['Ann', 'Bob', 'Cyd'])[1 + n % 3], \
                CASE WHEN n % 7 = 0 THEN 'Kim' ELSE 'Lee' || n END, \
                'person' || n || '@example.com', \
                CASE WHEN n <= 500 THEN 'Initech' WHEN n <= 1001 THEN 'Umbrella' \
                     WHEN n % 500 = 0 THEN 'Globex' WHEN n % 50 = 0 THEN 'Acme' END, \
                CASE WHEN n BETWEEN 20001 AND 23000 THEN 'Norway' ELSE 'Chile' END \
         FROM generate_series(1, $1) AS n",
    )
    .bind::<BigInt, _>(30_000_i64)
    .execute(&mut conn)
    .await
    .unwrap();
    drop(conn);
    analyze(&t.db).await;
    let repo =
        t.db.repository()
            .with_search_totals(SearchTotals::exact_up_to(BOUND));
    (t, repo)
}

async fn count_of(t: &crate::support::Ctx, filter: &str) -> u64 {
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let mut conn = t.db.pool().get().await.unwrap();
    let counted: Vec<Count> = diesel::sql_query(format!(
        "SELECT count(*) AS n FROM customers WHERE {filter}"
    ))
    .load(&mut conn)
    .await
    .unwrap();
    u64::try_from(counted[0].n).unwrap()
}

fn in_country(country: &str) -> SearchCriteria {
    SearchCriteria {
        country: Some(country.into()),
        ..SearchCriteria::default()
    }
}

#[tokio::test]
async fn totals_are_counted_up_to_the_bound_and_estimated_within_a_factor_of_two_above() {
    let (t, repo) = seeded().await;
    let exact = [
        (query("globex"), "company_name = 'Globex'", 58),
        (query("initech"), "company_name = 'Initech'", 500),
    ];
    for (criteria, filter, expected) in exact {
        assert_eq!(count_of(&t, filter).await, expected);
        let page = repo.search(&criteria).await.unwrap();
        assert_eq!(
            (page.total, page.total_is_estimate),
            (expected, false),
            "{filter}"
        );
    }
    // Matches spread over the table are estimated from a sample. Matches created one after
    // the other (a burst) fall into few of the sample's windows: their sample grows until
    // they are spread over enough of them, or until it is the whole table, and then the
    // total is their count.
    let beyond = [
        (query("acme"), "company_name = 'Acme'", true),
        (query("kim"), "last_name = 'Kim'", true),
        (query("ann"), "first_name = 'Ann'", true),
        (query("example.com"), "true", true),
        (query("umbrella"), "company_name = 'Umbrella'", false),
        (in_country("norway"), "country = 'Norway'", false),
    ];
    for (criteria, filter, spread) in beyond {
        let truth = count_of(&t, filter).await;
        assert!(truth > u64::from(BOUND), "{filter}: {truth}");
        // Each search draws a new sample.
        for _ in 0..15 {
            let page = repo.search(&criteria).await.unwrap();
            if page.total_is_estimate {
                assert!(
                    page.total > u64::from(BOUND)
                        && page.total * 2 >= truth
                        && page.total <= truth * 2,
                    "{filter}: estimated {} for {truth}",
                    page.total
                );
            } else {
                assert!(!spread, "{filter}: counted, not sampled");
                assert_eq!(page.total, truth, "{filter}");
            }
        }
    }
}

#[tokio::test]
async fn a_page_that_is_not_full_or_past_the_matches_still_gives_the_exact_total() {
    let (_t, repo) = seeded().await;
    let last = SearchCriteria {
        page: SearchCriteria::page_of(6, 100).unwrap(),
        ..query("globex")
    };
    let page = repo.search(&last).await.unwrap();
    assert_eq!((page.customers.len(), page.total), (0, 58));
    assert!(!page.total_is_estimate);
    let first = SearchCriteria {
        page: SearchCriteria::page_of(1, 100).unwrap(),
        ..query("globex")
    };
    let page = repo.search(&first).await.unwrap();
    assert_eq!((page.customers.len(), page.total), (58, 58));
    let none = repo.search(&query("nobody-at-all")).await.unwrap();
    assert_eq!((none.total, none.total_is_estimate), (0, false));
}
