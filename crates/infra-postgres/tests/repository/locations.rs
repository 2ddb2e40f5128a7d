//! Customers by tags and by place, and the distinct places with their counts.

use domain::{CustomerReads, LocationCount, LocationFilter, LocationLevel, Tags};

use crate::support::{Ctx, ctx, draft, ids, insert, page};

async fn placed(
    t: &Ctx,
    n: u32,
    city: Option<&str>,
    state: Option<&str>,
    country: Option<&str>,
) -> i64 {
    let mut new = draft("P", "Q", &format!("p{n}@example.com"));
    new.city = city.map(Into::into);
    new.state = state.map(Into::into);
    new.country = country.map(Into::into);
    insert(&t.repo, &new).await.id
}

fn counts(pairs: &[(&str, u64)]) -> Vec<LocationCount> {
    pairs
        .iter()
        .map(|(name, count)| LocationCount {
            name: (*name).to_owned(),
            count: *count,
        })
        .collect()
}

#[tokio::test]
async fn find_by_location_matches_substrings_of_every_given_part_ignoring_case_by_id() {
    let t = ctx().await;
    let nyc = placed(&t, 1, Some("New York"), Some("NY"), Some("USA")).await;
    let buffalo = placed(&t, 2, Some("Buffalo"), Some("NY"), Some("USA")).await;
    let york = placed(&t, 3, Some("York"), None, Some("UK")).await;
    let _nowhere = placed(&t, 4, None, None, None).await;

    let find = |city: Option<&str>, state: Option<&str>, country: Option<&str>| LocationFilter {
        city: city.map(Into::into),
        state: state.map(Into::into),
        country: country.map(Into::into),
    };
    let cases = [
        (find(Some("new york"), None, Some("usa")), vec![nyc]),
        (find(None, Some("ny"), None), vec![nyc, buffalo]),
        (find(None, None, Some("USA")), vec![nyc, buffalo]),
        (find(Some("YORK"), None, None), vec![nyc, york]),
        (find(Some("york"), None, Some("usa")), vec![nyc]),
        (find(Some("york"), None, Some("k")), vec![york]),
        (find(Some("buf"), Some("y"), Some("s")), vec![buffalo]),
        (find(Some("%"), None, None), vec![]),
    ];
    for (filter, expected) in cases {
        let found = t
            .repo
            .find_by_location(&filter, &page(0, 100))
            .await
            .unwrap();
        assert_eq!(ids(&found), expected, "{filter:?}");
    }
    let second = t
        .repo
        .find_by_location(&find(None, None, Some("usa")), &page(1, 1))
        .await
        .unwrap();
    assert_eq!(ids(&second), vec![buffalo]);
}

#[tokio::test]
async fn locations_are_distinct_non_empty_values_largest_first_then_by_name() {
    let t = ctx().await;
    placed(&t, 1, Some("Boston"), Some("MA"), Some("USA")).await;
    placed(&t, 2, Some("Austin"), Some("TX"), Some("USA")).await;
    placed(&t, 3, Some("Austin"), Some("TX"), Some("USA")).await;
    placed(&t, 4, Some("Toronto"), Some("ON"), Some("Canada")).await;
    placed(&t, 5, Some(""), Some(""), Some("")).await;
    placed(&t, 6, None, None, None).await;

    let countries = t
        .repo
        .locations(LocationLevel::Country, None)
        .await
        .unwrap();
    assert_eq!(countries, counts(&[("USA", 3), ("Canada", 1)]));
    let cities = t.repo.locations(LocationLevel::City, None).await.unwrap();
    assert_eq!(
        cities,
        counts(&[("Austin", 2), ("Boston", 1), ("Toronto", 1)])
    );
    let states = t.repo.locations(LocationLevel::State, None).await.unwrap();
    assert_eq!(states, counts(&[("TX", 2), ("MA", 1), ("ON", 1)]));
}

#[tokio::test]
async fn locations_within_a_country_ignore_its_letter_case() {
    let t = ctx().await;
    placed(&t, 1, Some("Boston"), Some("MA"), Some("USA")).await;
    placed(&t, 2, Some("Toronto"), Some("ON"), Some("Canada")).await;
    let cities = t
        .repo
        .locations(LocationLevel::City, Some("usa".into()))
        .await
        .unwrap();
    assert_eq!(cities, counts(&[("Boston", 1)]));
    let states = t
        .repo
        .locations(LocationLevel::State, Some("CANADA".into()))
        .await
        .unwrap();
    assert_eq!(states, counts(&[("ON", 1)]));
    assert!(
        t.repo
            .locations(LocationLevel::City, Some("Mars".into()))
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn find_by_tags_needs_every_whole_tag_and_pages_by_id() {
    let t = ctx().await;
    let mut with_tags = Vec::new();
    for (i, tags) in [
        "premium,tech",
        "premium-plus,tech",
        "tech,premium,vip",
        "premium",
    ]
    .into_iter()
    .enumerate()
    {
        let mut new = draft("T", "T", &format!("t{i}@example.com"));
        new.tags = Tags::parse(tags).unwrap();
        with_tags.push(insert(&t.repo, &new).await.id);
    }
    let both = Tags::parse("premium,tech").unwrap();
    let found = t.repo.find_by_tags(&both, &page(0, 100)).await.unwrap();
    assert_eq!(ids(&found), vec![with_tags[0], with_tags[2]]);
    let second = t.repo.find_by_tags(&both, &page(1, 1)).await.unwrap();
    assert_eq!(ids(&second), vec![with_tags[2]]);
    let premium = Tags::parse("premium").unwrap();
    let found = t.repo.find_by_tags(&premium, &page(0, 100)).await.unwrap();
    assert_eq!(ids(&found), vec![with_tags[0], with_tags[2], with_tags[3]]);
}
