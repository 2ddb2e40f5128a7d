//! `search`: every filter, literal wildcards, tags semantics, and the total.

use domain::{
    Customer, CustomerDraft, CustomerRepository, Phone, SearchCriteria, SortField, SortOrder, Tags,
};

use crate::support::{Ctx, at, ctx, draft, ids, insert, page, set_created_at};

/// The ids of the matches, by id.
async fn matching(t: &Ctx, criteria: SearchCriteria) -> Vec<i64> {
    let criteria = SearchCriteria {
        sort_by: SortField::Id,
        sort_order: SortOrder::Asc,
        ..criteria
    };
    let result = t.repo.search(&criteria).await.unwrap();
    assert_eq!(
        result.total,
        result.customers.len() as u64,
        "whole result fits the page"
    );
    ids(&result.customers)
}

fn query(text: &str) -> SearchCriteria {
    SearchCriteria {
        query: Some(text.into()),
        ..SearchCriteria::default()
    }
}

async fn with(
    t: &Ctx,
    first: &str,
    last: &str,
    email: &str,
    edit: impl FnOnce(&mut CustomerDraft),
) -> Customer {
    let mut new = draft(first, last, email);
    edit(&mut new);
    insert(&t.repo, &new).await
}

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
async fn places_match_whole_values_ignoring_case() {
    let t = ctx().await;
    let ny = with(&t, "A", "A", "a@example.com", |d| {
        d.city = Some("New York".into());
        d.state = Some("NY".into());
        d.country = Some("USA".into());
    })
    .await;
    let york = with(&t, "B", "B", "b@example.com", |d| {
        d.city = Some("York".into());
        d.country = Some("UK".into());
    })
    .await;

    let city = |c: &str| SearchCriteria {
        city: Some(c.into()),
        ..Default::default()
    };
    assert_eq!(matching(&t, city("new york")).await, vec![ny.id]);
    assert_eq!(matching(&t, city("YORK")).await, vec![york.id]);
    assert!(matching(&t, city("new")).await.is_empty());
    let state = SearchCriteria {
        state: Some("ny".into()),
        ..Default::default()
    };
    assert_eq!(matching(&t, state).await, vec![ny.id]);
    let country = SearchCriteria {
        country: Some("usa".into()),
        ..Default::default()
    };
    assert_eq!(matching(&t, country).await, vec![ny.id]);
}

#[tokio::test]
async fn tags_must_all_be_present_and_match_whole_tags() {
    let t = ctx().await;
    let both = with(&t, "A", "A", "a@example.com", |d| {
        d.tags = Tags::parse("premium,tech,new-york").unwrap();
    })
    .await;
    let premium_only = with(&t, "B", "B", "b@example.com", |d| {
        d.tags = Tags::parse("premium").unwrap();
    })
    .await;
    let premium_plus = with(&t, "C", "C", "c@example.com", |d| {
        d.tags = Tags::parse("premium-plus,tech").unwrap();
    })
    .await;

    let tags = |t: &str| SearchCriteria {
        tags: Some(Tags::parse(t).unwrap()),
        ..Default::default()
    };
    assert_eq!(
        matching(&t, tags("premium")).await,
        vec![both.id, premium_only.id]
    );
    assert_eq!(matching(&t, tags("premium,tech")).await, vec![both.id]);
    assert_eq!(
        matching(&t, tags("tech")).await,
        vec![both.id, premium_plus.id]
    );
    assert_eq!(
        matching(&t, tags("premium-plus")).await,
        vec![premium_plus.id]
    );
    assert!(matching(&t, tags("prem")).await.is_empty());
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
async fn created_after_and_before_are_inclusive() {
    let t = ctx().await;
    let mut by_day = Vec::new();
    for (i, day) in [1, 2, 3, 4].into_iter().enumerate() {
        let c = with(&t, "A", "A", &format!("a{i}@example.com"), |_| {}).await;
        set_created_at(&t.db, &c, at(2024, 3, day, 12)).await;
        by_day.push(c.id);
    }
    let window = SearchCriteria {
        created_after: Some(at(2024, 3, 2, 12)),
        created_before: Some(at(2024, 3, 3, 12)),
        ..Default::default()
    };
    assert_eq!(matching(&t, window).await, by_day[1..3].to_vec());
    let after = SearchCriteria {
        created_after: Some(at(2024, 3, 4, 12)),
        ..Default::default()
    };
    assert_eq!(matching(&t, after).await, vec![by_day[3]]);
    let before = SearchCriteria {
        created_before: Some(at(2024, 3, 1, 12)),
        ..Default::default()
    };
    assert_eq!(matching(&t, before).await, vec![by_day[0]]);
}

#[tokio::test]
async fn status_filters_and_every_other_filter_combine_with_and() {
    let t = ctx().await;
    let target = with(&t, "John", "Doe", "john@example.com", |d| {
        d.country = Some("USA".into());
        d.tags = Tags::parse("vip").unwrap();
    })
    .await;
    let inactive = with(&t, "John", "Roe", "john.roe@example.com", |d| {
        d.country = Some("USA".into());
        d.tags = Tags::parse("vip").unwrap();
    })
    .await;
    t.repo.deactivate(&inactive.customer_id).await.unwrap();
    let _elsewhere = with(&t, "John", "Poe", "john.poe@example.com", |d| {
        d.country = Some("Canada".into());
        d.tags = Tags::parse("vip").unwrap();
    })
    .await;

    let criteria = SearchCriteria {
        query: Some("john".into()),
        country: Some("usa".into()),
        tags: Some(Tags::parse("vip").unwrap()),
        is_active: Some(true),
        is_verified: Some(false),
        ..Default::default()
    };
    assert_eq!(matching(&t, criteria.clone()).await, vec![target.id]);
    let verified = SearchCriteria {
        is_verified: Some(true),
        ..criteria
    };
    assert!(matching(&t, verified).await.is_empty());
    let inactive_only = SearchCriteria {
        is_active: Some(false),
        ..Default::default()
    };
    assert_eq!(matching(&t, inactive_only).await, vec![inactive.id]);
}

#[tokio::test]
async fn the_total_counts_every_match_and_pages_past_the_end_are_empty() {
    let t = ctx().await;
    for i in 0..5 {
        with(&t, "Pat", "Doe", &format!("pat{i}@example.com"), |_| {}).await;
    }
    with(&t, "Kim", "Roe", "kim@example.com", |_| {}).await;
    let criteria = SearchCriteria {
        first_name: Some("pat".into()),
        sort_by: SortField::Id,
        page: page(2, 2),
        ..Default::default()
    };
    let result = t.repo.search(&criteria).await.unwrap();
    assert_eq!(result.customers.len(), 2);
    assert_eq!(result.total, 5);

    let beyond = SearchCriteria {
        page: page(10, 2),
        ..criteria
    };
    let result = t.repo.search(&beyond).await.unwrap();
    assert!(result.customers.is_empty());
    assert_eq!(result.total, 5);
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
