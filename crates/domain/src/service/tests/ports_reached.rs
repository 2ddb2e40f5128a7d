//! Each use case reaches its port exactly once, with the arguments it was given (parsed,
//! trimmed), and answers with what the port returned.

use mockall::predicate::always;

use super::*;
use crate::fixtures::john_doe;
use crate::models::{Cursor, LanguageTag, SortField, SortOrder};

const ID: &str = "CUST_A1B2C3D4";

fn id() -> CustomerId {
    CustomerId::parse(ID).unwrap()
}

fn page(total: u64) -> CustomerPage {
    CustomerPage {
        customers: vec![john_doe()],
        total,
        total_is_estimate: true,
        next_cursor: Some(Cursor { after_id: 7 }),
    }
}

fn second_page() -> PageRequest {
    PageRequest {
        offset: 20,
        limit: 10,
    }
}

#[tokio::test]
async fn get_asks_for_the_parsed_id_and_returns_the_customer() {
    let mut repo = Mocks::default();
    repo.reads
        .expect_find_by_customer_id()
        .with(eq(id()))
        .times(1)
        .returning(|_| Ok(Some(john_doe())));
    // Lower-case hex digits name the same customer.
    let got = service(repo).get("CUST_a1b2c3d4").await.unwrap();
    assert_eq!(got, john_doe());
}

#[tokio::test]
async fn get_by_username_asks_for_the_name_and_returns_the_customer() {
    let mut repo = Mocks::default();
    repo.reads
        .expect_find_by_username()
        .with(eq("johndoe"))
        .times(1)
        .returning(|_| Ok(Some(john_doe())));
    let got = service(repo).get_by_username("johndoe").await.unwrap();
    assert_eq!(got, john_doe());
}

#[tokio::test]
async fn get_by_username_and_email_are_not_found_when_the_repository_has_none() {
    let mut repo = Mocks::default();
    repo.reads
        .expect_find_by_username()
        .times(1)
        .returning(|_| Ok(None));
    repo.reads
        .expect_find_by_email()
        .times(1)
        .returning(|_| Ok(None));
    let svc = service(repo);
    assert!(matches!(
        svc.get_by_username("johndoe").await,
        Err(ServiceError::NotFound)
    ));
    assert!(matches!(
        svc.get_by_email("john@x.com").await,
        Err(ServiceError::NotFound)
    ));
}

#[tokio::test]
async fn get_by_email_returns_the_customer_found() {
    let mut repo = Mocks::default();
    repo.reads
        .expect_find_by_email()
        .with(eq("john.doe@example.com"))
        .times(1)
        .returning(|_| Ok(Some(john_doe())));
    let got = service(repo)
        .get_by_email("john.doe@example.com")
        .await
        .unwrap();
    assert_eq!(got, john_doe());
}

#[tokio::test]
async fn list_passes_the_query_on_and_returns_the_page() {
    let query = ListQuery {
        page: second_page(),
        is_active: Some(false),
        cursor: Some(Cursor { after_id: 3 }),
    };
    let mut repo = Mocks::default();
    repo.reads
        .expect_list()
        .with(eq(query.clone()))
        .times(1)
        .returning(|_| Ok(page(42)));
    assert_eq!(service(repo).list(query).await.unwrap(), page(42));
}

#[tokio::test]
async fn search_passes_every_criterion_on_trimmed_and_returns_the_page() {
    let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().to_utc();
    let padded = |s: &str| Some(format!("  {s} "));
    let sent = SearchCriteria {
        query: padded("jo"),
        first_name: padded("John"),
        last_name: padded("Doe"),
        email: padded("example.com"),
        phone: padded("555"),
        city: padded("New York"),
        state: padded("NY"),
        country: padded("USA"),
        is_active: Some(true),
        is_verified: Some(false),
        company_name: padded("Tech Corp"),
        tags: Some(Tags::parse("premium,tech").unwrap()),
        preferred_language: Some(LanguageTag::parse("pt-BR").unwrap()),
        created_after: Some(at("2024-01-01T00:00:00Z")),
        created_before: Some(at("2024-02-01T00:00:00Z")),
        sort_by: SortField::LastName,
        sort_order: SortOrder::Asc,
        page: second_page(),
    };
    let some = |s: &str| Some(s.to_owned());
    let expected = SearchCriteria {
        query: some("jo"),
        first_name: some("John"),
        last_name: some("Doe"),
        email: some("example.com"),
        phone: some("555"),
        city: some("New York"),
        state: some("NY"),
        country: some("USA"),
        company_name: some("Tech Corp"),
        ..sent.clone()
    };
    let mut repo = Mocks::default();
    repo.search
        .expect_search()
        .with(eq(expected))
        .times(1)
        .returning(|_| Ok(page(3)));
    assert_eq!(service(repo).search(sent).await.unwrap(), page(3));
}

#[tokio::test]
async fn search_drops_blank_text_filters_and_an_empty_tag_set() {
    let blank = || Some("   ".to_owned());
    let sent = SearchCriteria {
        query: blank(),
        first_name: blank(),
        last_name: blank(),
        email: blank(),
        phone: blank(),
        city: blank(),
        state: blank(),
        country: blank(),
        company_name: blank(),
        tags: Some(Tags::default()),
        ..SearchCriteria::default()
    };
    let mut repo = Mocks::default();
    repo.search
        .expect_search()
        .with(eq(SearchCriteria::default()))
        .times(1)
        .returning(|_| Ok(CustomerPage::default()));
    service(repo).search(sent).await.unwrap();
}

/// The text filters of a search, each set to `value`.
fn every_search_filter(value: &str) -> SearchCriteria {
    let v = || Some(value.to_owned());
    SearchCriteria {
        query: v(),
        first_name: v(),
        last_name: v(),
        email: v(),
        phone: v(),
        city: v(),
        state: v(),
        country: v(),
        company_name: v(),
        ..SearchCriteria::default()
    }
}

const SEARCH_FILTERS: [&str; 9] = [
    "query",
    "first_name",
    "last_name",
    "email",
    "phone",
    "city",
    "state",
    "country",
    "company_name",
];

#[tokio::test]
async fn every_search_filter_may_have_255_characters_but_not_256() {
    let mut repo = Mocks::default();
    repo.search
        .expect_search()
        .times(1)
        .returning(|_| Ok(CustomerPage::default()));
    let svc = service(repo);
    svc.search(every_search_filter(&"é".repeat(MAX_FILTER_LEN)))
        .await
        .unwrap();
    // Too long and with a control character: the length is reported, once per field.
    let too_long = format!("{}\0", "é".repeat(MAX_FILTER_LEN));
    let got = violations(
        svc.search(every_search_filter(&too_long))
            .await
            .unwrap_err(),
    );
    let expected: Vec<(String, Rule)> = SEARCH_FILTERS
        .iter()
        .map(|f| ((*f).to_owned(), Rule::MaxLength(255)))
        .collect();
    assert_eq!(got, expected);
}

#[tokio::test]
async fn every_search_filter_refuses_control_characters() {
    let got = violations(
        service(Mocks::default())
            .search(every_search_filter("a\u{1}b"))
            .await
            .unwrap_err(),
    );
    let expected: Vec<(String, Rule)> = SEARCH_FILTERS
        .iter()
        .map(|f| ((*f).to_owned(), Rule::ControlCharacters))
        .collect();
    assert_eq!(got, expected);
}

#[tokio::test]
async fn by_tags_passes_the_page_on_and_returns_the_customers() {
    let mut repo = Mocks::default();
    repo.reads
        .expect_find_by_tags()
        .with(eq(Tags::parse("vip").unwrap()), eq(second_page()))
        .times(1)
        .returning(|_, _| Ok(vec![john_doe()]));
    let (tags, customers) = service(repo).by_tags(" VIP ", second_page()).await.unwrap();
    assert_eq!(tags.as_slice(), ["vip"]);
    assert_eq!(customers, [john_doe()]);
}

#[tokio::test]
async fn by_tags_names_the_rule_a_bad_list_breaks() {
    let svc = service(Mocks::default());
    let rule = |r: Result<(Tags, Vec<Customer>), ServiceError>| violations(r.unwrap_err());
    assert_eq!(
        rule(svc.by_tags(" , ", PageRequest::default()).await),
        [("tags".to_owned(), Rule::NoTag)]
    );
    assert_eq!(
        rule(svc.by_tags(&"x".repeat(51), PageRequest::default()).await),
        [("tags".to_owned(), Rule::TagTooLong(50))]
    );
}

#[tokio::test]
async fn by_location_passes_every_part_trimmed_and_the_page_on() {
    let expected = LocationFilter {
        city: Some("New York".into()),
        state: Some("NY".into()),
        country: Some("USA".into()),
    };
    let mut repo = Mocks::default();
    repo.reads
        .expect_find_by_location()
        .with(eq(expected), eq(second_page()))
        .times(1)
        .returning(|_, _| Ok(vec![john_doe()]));
    let filter = LocationFilter {
        city: Some(" New York ".into()),
        state: Some("\tNY ".into()),
        country: Some(" USA".into()),
    };
    let got = service(repo)
        .by_location(filter, second_page())
        .await
        .unwrap();
    assert_eq!(got, [john_doe()]);
}

#[tokio::test]
async fn by_location_checks_every_part() {
    let svc = service(Mocks::default());
    let filter = LocationFilter {
        city: Some("x".repeat(256)),
        state: Some("a\0b".into()),
        country: Some("y".repeat(256)),
    };
    let got = violations(
        svc.by_location(filter, PageRequest::default())
            .await
            .unwrap_err(),
    );
    assert_eq!(
        got,
        [
            ("city".to_owned(), Rule::MaxLength(255)),
            ("state".to_owned(), Rule::ControlCharacters),
            ("country".to_owned(), Rule::MaxLength(255)),
        ]
    );
}

#[tokio::test]
async fn locations_pass_the_level_and_trimmed_country_on_and_return_the_counts() {
    let counts = || {
        vec![LocationCount {
            name: "New York".into(),
            count: 3,
        }]
    };
    let mut repo = Mocks::default();
    repo.reads
        .expect_locations()
        .with(eq(LocationLevel::City), eq(Some("USA".to_owned())))
        .times(1)
        .returning(move |_, _| Ok(counts()));
    repo.reads
        .expect_locations()
        .with(eq(LocationLevel::State), eq(None))
        .times(1)
        .returning(|_, _| Ok(vec![]));
    let svc = service(repo);
    let got = svc
        .locations(LocationLevel::City, Some(" USA ".into()))
        .await
        .unwrap();
    assert_eq!(got, counts());
    svc.locations(LocationLevel::State, Some("  ".into()))
        .await
        .unwrap();
}

#[tokio::test]
async fn locations_check_the_country() {
    let svc = service(Mocks::default());
    let got = violations(
        svc.locations(LocationLevel::Country, Some("x".repeat(256)))
            .await
            .unwrap_err(),
    );
    assert_eq!(got, [("country".to_owned(), Rule::MaxLength(255))]);
}

#[tokio::test]
async fn each_verification_sets_its_own_flag_of_the_parsed_id() {
    let mut repo = Mocks::default();
    repo.store
        .expect_mark_verified()
        .with(eq(id()), eq(Verification::Email), eq(Precondition::Any))
        .times(1)
        .returning(|_, _, _| Ok(Written::Done(2)));
    repo.store
        .expect_mark_verified()
        .with(
            eq(id()),
            eq(Verification::Phone),
            eq(Precondition::version(2)),
        )
        .times(1)
        .returning(|_, _, _| Ok(Written::Done(3)));
    let svc = service(repo);
    assert_eq!(svc.verify_email(ID, Precondition::Any).await.unwrap(), 2);
    assert_eq!(
        svc.verify_phone(ID, Precondition::version(2))
            .await
            .unwrap(),
        3
    );
}

#[tokio::test]
async fn verifying_an_unknown_or_malformed_customer_is_not_found() {
    let mut repo = Mocks::default();
    // Not erased either: never there.
    repo.reads.expect_erasure().returning(|_| Ok(None));
    repo.store
        .expect_mark_verified()
        .times(2)
        .returning(|_, _, _| Ok(Written::Missing));
    let svc = service(repo);
    for result in [
        svc.verify_email(ID, Precondition::Any).await,
        svc.verify_phone(ID, Precondition::Any).await,
        svc.verify_email("nope", Precondition::Any).await,
        svc.verify_phone("nope", Precondition::Any).await,
    ] {
        assert!(matches!(result, Err(ServiceError::NotFound)), "{result:?}");
    }
}

#[tokio::test]
async fn record_login_deactivate_and_delete_reach_the_parsed_id_once() {
    let mut repo = Mocks::default();
    repo.store
        .expect_record_login()
        .with(eq(id()), eq(now()), eq(Precondition::version(4)))
        .times(1)
        .returning(|_, _, _| Ok(Written::Done(5)));
    repo.store
        .expect_deactivate()
        .with(eq(id()), eq(Precondition::version(5)))
        .times(1)
        .returning(|_, _| Ok(Written::Done(6)));
    repo.store
        .expect_delete()
        .with(eq(id()), eq(Precondition::version(6)))
        .times(1)
        .returning(|_, _| Ok(Written::Done(())));
    let svc = service(repo);
    assert_eq!(
        svc.record_login(ID, Precondition::version(4))
            .await
            .unwrap(),
        5
    );
    assert_eq!(
        svc.deactivate(ID, Precondition::version(5)).await.unwrap(),
        6
    );
    svc.delete(ID, Precondition::version(6)).await.unwrap();
}

#[tokio::test]
async fn record_login_deactivate_and_delete_of_an_unknown_customer_are_not_found() {
    let mut repo = Mocks::default();
    // Not erased either: never there.
    repo.reads.expect_erasure().returning(|_| Ok(None));
    repo.store
        .expect_record_login()
        .times(1)
        .returning(|_, _, _| Ok(Written::Missing));
    repo.store
        .expect_deactivate()
        .times(1)
        .returning(|_, _| Ok(Written::Missing));
    repo.store
        .expect_delete()
        .times(1)
        .returning(|_, _| Ok(Written::Missing));
    let svc = service(repo);
    for result in [
        svc.record_login(ID, Precondition::Any).await,
        svc.deactivate(ID, Precondition::Any).await,
        svc.delete(ID, Precondition::Any).await.map(|()| 0),
        svc.record_login("nope", Precondition::Any).await,
        svc.deactivate("nope", Precondition::Any).await,
        svc.delete("nope", Precondition::Any).await.map(|()| 0),
    ] {
        assert!(matches!(result, Err(ServiceError::NotFound)), "{result:?}");
    }
}

#[tokio::test]
async fn health_asks_the_repository() {
    let mut repo = Mocks::default();
    repo.store.expect_ping().times(1).returning(|| Ok(()));
    service(repo).health().await.unwrap();
}

#[tokio::test]
async fn update_passes_the_parsed_id_on_and_returns_the_stored_customer() {
    let mut repo = Mocks::default();
    repo.store
        .expect_update()
        .with(eq(id()), always(), eq(Precondition::version(1)))
        .times(1)
        .returning(|_, _, _| Ok(Written::Done(john_doe())));
    let patch = CustomerPatch {
        notes: Patch::Set("x".into()),
        ..CustomerPatch::default()
    };
    let got = service(repo)
        .update("CUST_a1b2c3d4", patch, Precondition::version(1))
        .await
        .unwrap();
    assert_eq!(got, john_doe());
}

#[tokio::test]
async fn an_empty_update_reads_the_customer_by_its_id() {
    let mut repo = Mocks::default();
    repo.reads
        .expect_find_by_customer_id()
        .with(eq(id()))
        .times(1)
        .returning(|_| Ok(Some(john_doe())));
    let got = service(repo)
        .update(ID, CustomerPatch::default(), Precondition::Any)
        .await
        .unwrap();
    assert_eq!(got, john_doe());
}

#[tokio::test]
async fn updating_a_malformed_id_is_not_found_without_a_query() {
    let patch = CustomerPatch {
        notes: Patch::Set("x".into()),
        ..CustomerPatch::default()
    };
    assert!(matches!(
        service(Mocks::default())
            .update("nope", patch, Precondition::Any)
            .await,
        Err(ServiceError::NotFound)
    ));
}
