//! Places, tags, dates, status flags, their combination, and the total.

use domain::{CustomerSearch, CustomerStore, Precondition, SearchCriteria, SortField, Tags};

use super::{matching, with};
use crate::support::{Outcome, at, ctx, page, set_created_at};

#[tokio::test]
async fn places_match_substrings_ignoring_case_as_the_original_did() {
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
    let wild = with(&t, "C", "C", "c@example.com", |d| {
        d.city = Some("100%_Town\\".into());
        d.country = Some("Wonderland".into());
    })
    .await;

    let city = |c: &str| SearchCriteria {
        city: Some(c.into()),
        ..Default::default()
    };
    assert_eq!(matching(&t, city("new york")).await, vec![ny.id]);
    assert_eq!(matching(&t, city("YORK")).await, vec![ny.id, york.id]);
    assert_eq!(matching(&t, city("new")).await, vec![ny.id]);
    assert!(matching(&t, city("boston")).await.is_empty());
    // LIKE's wildcards and escape are literal.
    assert_eq!(matching(&t, city("%_t")).await, vec![wild.id]);
    assert_eq!(matching(&t, city("n\\")).await, vec![wild.id]);
    assert_eq!(matching(&t, city("_")).await, vec![wild.id]);
    assert_eq!(matching(&t, city("%")).await, vec![wild.id]);
    let state = SearchCriteria {
        state: Some("y".into()),
        ..Default::default()
    };
    assert_eq!(matching(&t, state).await, vec![ny.id]);
    let country = SearchCriteria {
        country: Some("us".into()),
        ..Default::default()
    };
    assert_eq!(matching(&t, country).await, vec![ny.id]);
    let both = SearchCriteria {
        city: Some("york".into()),
        country: Some("k".into()),
        ..Default::default()
    };
    assert_eq!(matching(&t, both).await, vec![york.id]);
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
    t.repo
        .deactivate(&inactive.customer_id, &Precondition::Any)
        .await
        .unwrap()
        .done();
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
