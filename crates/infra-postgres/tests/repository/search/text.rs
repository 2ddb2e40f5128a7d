//! Free text and the text filters: substrings ignoring case, wildcards taken literally.

use diesel::sql_types::{BigInt, Text};
use diesel::{QueryableByName, sql_query};
use diesel_async::RunQueryDsl;
use domain::{Phone, SearchCriteria};

use super::{matching, query, with};
use crate::support::{Ctx, ctx};

#[tokio::test]
async fn the_query_matches_a_substring_of_any_searched_column_ignoring_case() {
    let t = ctx().await;
    let by_first = with(&t, "Johnny", "Smith", "a@example.com", |_| {}).await;
    let by_last = with(&t, "Ann", "Johnson", "b@example.com", |_| {}).await;
    let by_email = with(&t, "Cid", "Moe", "bigjohn@example.com", |_| {}).await;
    let by_phone = with(&t, "Dee", "Roe", "d@example.com", |d| {
        d.phone = Some(Phone::parse("+1-555-0199").unwrap());
    })
    .await;
    let by_company = with(&t, "Eve", "Poe", "e@example.com", |d| {
        d.company_name = Some("St. John Holdings".into());
    })
    .await;
    let _none = with(&t, "Fay", "Zed", "f@example.com", |_| {}).await;

    assert_eq!(
        matching(&t, query("JOHN")).await,
        vec![by_first.id, by_last.id, by_email.id, by_company.id]
    );
    assert_eq!(matching(&t, query("555-01")).await, vec![by_phone.id]);
    // Usernames are generated (`user<hex>`), so every fixture's matches "user".
    assert_eq!(matching(&t, query("USER")).await.len(), 6);
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// What the query matched before `search_text`: six `ILIKE`s, one per column, evaluated by
/// the same server (so under the same collation's case folding).
async fn matching_column_by_column(t: &Ctx, term: &str) -> Vec<i64> {
    let mut conn = t.db.pool().get().await.unwrap();
    let pattern = format!("%{term}%");
    let rows: Vec<Id> = sql_query(
        "SELECT id FROM customers WHERE first_name ILIKE $1 OR last_name ILIKE $1 \
         OR email ILIKE $1 OR username ILIKE $1 OR phone ILIKE $1 OR company_name ILIKE $1 \
         ORDER BY id",
    )
    .bind::<Text, _>(pattern)
    .load(&mut conn)
    .await
    .unwrap();
    rows.into_iter().map(|r| r.id).collect()
}

#[tokio::test]
async fn the_query_matches_exactly_what_an_ilike_of_each_column_matches() {
    let t = ctx().await;
    with(&t, "Élodie", "DURAND", "elodie@example.fr", |d| {
        d.company_name = Some("Straße & Söhne GmbH".into());
    })
    .await;
    with(&t, "İlkay", "Öztürk", "ilkay@example.com.tr", |_| {}).await;
    with(&t, "Ann", "Bell", "ab@example.com", |d| {
        d.phone = Some(Phone::parse("+44 20 7946 0958").unwrap());
    })
    .await;
    with(
        &t,
        "Σωκράτης",
        "Παπαδόπουλος",
        "sokratis@example.gr",
        |_| {},
    )
    .await;
    with(&t, "Zoë", "O'Brien", "zoe.obrien@example.ie", |d| {
        d.company_name = Some("Acme".into());
    })
    .await;

    for term in [
        "élo",
        "ÉLO",
        "durand",
        "STRASSE",
        "straße",
        "SÖHNE",
        "i̇lkay",
        "İLKAY",
        "öztürk",
        "ÖZTÜRK",
        "ann",
        "BELL",
        "7946",
        "20 79",
        "ΣΩΚΡ",
        "σωκρ",
        "ΠΑΠΑΔ",
        "zoë",
        "ZOË",
        "o'brien",
        "acme",
        ".ie",
        "@",
        "e",
    ] {
        let expected = matching_column_by_column(&t, term).await;
        assert_eq!(matching(&t, query(term)).await, expected, "{term}");
    }
}

#[tokio::test]
async fn the_query_never_matches_across_two_columns() {
    let t = ctx().await;
    let ann = with(&t, "Ann", "Bell", "ab@example.com", |d| {
        d.company_name = Some("Acme".into());
    })
    .await;

    assert_eq!(matching(&t, query("ann")).await, vec![ann.id]);
    assert_eq!(matching(&t, query("bell")).await, vec![ann.id]);
    // The first name ends and the last name begins: no single column holds "nnbe".
    assert!(matching(&t, query("nnbe")).await.is_empty());
    assert!(matching(&t, query("ann bell")).await.is_empty());
    // The separator of the stored concatenation matches nothing either.
    assert!(matching(&t, query("ann\u{1f}bell")).await.is_empty());
    assert!(matching(&t, query("\u{1f}")).await.is_empty());
}

#[tokio::test]
async fn each_text_filter_matches_a_substring_of_its_own_column_ignoring_case() {
    let t = ctx().await;
    let a = with(&t, "Maria", "Garcia", "maria@mail.example.org", |d| {
        d.phone = Some(Phone::parse("(555) 123 4567").unwrap());
        d.company_name = Some("Acme Widgets".into());
    })
    .await;
    let b = with(&t, "Mario", "Rossi", "rossi@example.com", |_| {}).await;

    let cases = [
        (
            SearchCriteria {
                first_name: Some("mari".into()),
                ..Default::default()
            },
            vec![a.id, b.id],
        ),
        (
            SearchCriteria {
                first_name: Some("IA".into()),
                ..Default::default()
            },
            vec![a.id],
        ),
        (
            SearchCriteria {
                last_name: Some("arci".into()),
                ..Default::default()
            },
            vec![a.id],
        ),
        (
            SearchCriteria {
                email: Some("MAIL.EXAMPLE".into()),
                ..Default::default()
            },
            vec![a.id],
        ),
        (
            SearchCriteria {
                phone: Some("123 45".into()),
                ..Default::default()
            },
            vec![a.id],
        ),
        (
            SearchCriteria {
                company_name: Some("widget".into()),
                ..Default::default()
            },
            vec![a.id],
        ),
        // A text filter on a missing value never matches.
        (
            SearchCriteria {
                company_name: Some("a".into()),
                ..Default::default()
            },
            vec![a.id],
        ),
    ];
    for (criteria, expected) in cases {
        assert_eq!(
            matching(&t, criteria.clone()).await,
            expected,
            "{criteria:?}"
        );
    }
}

#[tokio::test]
async fn percent_underscore_and_backslash_are_matched_literally() {
    let t = ctx().await;
    let percent = with(&t, "A", "A", "a@example.com", |d| {
        d.company_name = Some("100% Cotton".into())
    })
    .await;
    let underscore = with(&t, "B", "B", "b@example.com", |d| {
        d.company_name = Some("snake_case ltd".into())
    })
    .await;
    let backslash = with(&t, "C", "C", "c@example.com", |d| {
        d.company_name = Some(r"Back\slash Inc".into())
    })
    .await;
    let _decoys = with(&t, "D", "D", "d@example.com", |d| {
        d.company_name = Some("1000 Cotton snakeXcase Back-slash".into())
    })
    .await;

    let company = |c: &str| SearchCriteria {
        company_name: Some(c.into()),
        ..Default::default()
    };
    assert_eq!(matching(&t, company("0%")).await, vec![percent.id]);
    assert_eq!(matching(&t, company("%")).await, vec![percent.id]);
    assert_eq!(matching(&t, company("e_c")).await, vec![underscore.id]);
    assert_eq!(matching(&t, company("_")).await, vec![underscore.id]);
    assert_eq!(matching(&t, company(r"k\s")).await, vec![backslash.id]);
    assert_eq!(matching(&t, company(r"\")).await, vec![backslash.id]);
    assert_eq!(matching(&t, query("0% c")).await, vec![percent.id]);
}

#[tokio::test]
async fn explain_search_shows_the_generated_sql_and_both_plans() {
    let t = ctx().await;
    let plans = infra_postgres::explain_search(t.db.pool(), &query("50%_x"))
        .await
        .unwrap();
    assert!(
        plans.page_sql.contains(r#""search_text" LIKE lower($1)"#),
        "{}",
        plans.page_sql
    );
    assert!(
        plans.page_sql.contains(r#""%50\\%\\_x%""#),
        "{}",
        plans.page_sql
    );
    assert!(
        plans.count_sql.starts_with("SELECT COUNT(*)"),
        "{}",
        plans.count_sql
    );
    assert!(plans.page_plan.iter().any(|l| l.contains("Execution Time")));
    assert!(
        plans
            .count_plan
            .iter()
            .any(|l| l.contains("Execution Time"))
    );
}
