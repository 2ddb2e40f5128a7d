//! Search, tags, locations, statistics and health.

use super::*;

#[tokio::test]
async fn search_trims_filters_and_drops_empty_ones() {
    let mut repo = Mocks::default();
    repo.search
        .expect_search()
        .withf(|c| c.query.as_deref() == Some("john") && c.city.is_none())
        .returning(|_| Ok(CustomerPage::default()));
    let criteria = SearchCriteria {
        query: Some("  john ".into()),
        city: Some("  ".into()),
        ..SearchCriteria::default()
    };
    service(repo).search(criteria).await.unwrap();
}

#[tokio::test]
async fn search_rejects_overlong_filters_and_control_characters() {
    let criteria = SearchCriteria {
        query: Some("x".repeat(MAX_FILTER_LEN + 1)),
        city: Some("a\0b".into()),
        ..SearchCriteria::default()
    };
    let got = violations(
        service(Mocks::default())
            .search(criteria)
            .await
            .unwrap_err(),
    );
    assert_eq!(
        got,
        vec![
            ("query".into(), Rule::MaxLength(255)),
            ("city".into(), Rule::ControlCharacters)
        ]
    );
}

#[tokio::test]
async fn tags_are_parsed_and_an_empty_list_is_rejected() {
    let mut repo = Mocks::default();
    repo.reads
        .expect_find_by_tags()
        .withf(|t, _| t.as_slice() == ["premium", "tech"])
        .returning(|_, _| Ok(vec![]));
    let svc = service(repo);
    let (tags, _) = svc
        .by_tags("Premium, tech", PageRequest::default())
        .await
        .unwrap();
    assert_eq!(tags.as_slice(), ["premium", "tech"]);
    assert!(matches!(
        svc.by_tags(" , ", PageRequest::default()).await,
        Err(ServiceError::Validation(_))
    ));
}

#[tokio::test]
async fn statistics_use_a_window_ending_now() {
    let mut repo = Mocks::default();
    repo.statistics
        .expect_statistics()
        .withf(|w| w.now == now() && w.today_start.to_rfc3339() == "2024-06-01T00:00:00+00:00")
        .returning(|_| Ok(CustomerStatistics::default()));
    service(repo).statistics().await.unwrap();
}

#[tokio::test]
async fn location_filters_are_trimmed() {
    let mut repo = Mocks::default();
    repo.reads
        .expect_find_by_location()
        .withf(|f, _| f.city.as_deref() == Some("New York") && f.country.is_none())
        .returning(|_, _| Ok(vec![]));
    let filter = LocationFilter {
        city: Some(" New York ".into()),
        state: None,
        country: Some("".into()),
    };
    service(repo)
        .by_location(filter, PageRequest::default())
        .await
        .unwrap();
}

#[tokio::test]
async fn health_reports_an_unreachable_database() {
    let mut repo = Mocks::default();
    repo.store
        .expect_ping()
        .returning(|| Err(RepositoryError::Unavailable("down".into())));
    assert!(matches!(
        service(repo).health().await,
        Err(ServiceError::Unavailable(_))
    ));
}
