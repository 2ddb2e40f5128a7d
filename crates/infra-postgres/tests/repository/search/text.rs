//! Free text and the text filters: substrings ignoring case, wildcards taken literally.

use domain::{Phone, SearchCriteria};

use super::{matching, query, with};
use crate::support::ctx;

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
    let plans = infra_postgres::test_support::explain_search(t.db.pool(), &query("50%_x"))
        .await
        .unwrap();
    assert!(plans.page_sql.contains("ILIKE"), "{}", plans.page_sql);
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
