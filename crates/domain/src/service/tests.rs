//! The use cases against mock ports: every rule decided here has a test that fails when the
//! rule breaks.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use mockall::predicate::eq;

use super::*;
use crate::models::{CustomerChanges, Patch, Username};
use crate::ports::{MockClock, MockCustomerRepository, MockIdSource, MockSuffixSource};

type TestService =
    CustomerService<MockCustomerRepository, MockClock, MockIdSource, MockSuffixSource>;

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2024-06-01T12:00:00Z")
        .unwrap()
        .to_utc()
}

fn clock() -> MockClock {
    let mut c = MockClock::new();
    c.expect_now().returning(now);
    c
}

/// UUIDs counting up from 1, so each customer id differs.
fn ids() -> MockIdSource {
    let mut ids = MockIdSource::new();
    let mut n: u128 = 0;
    ids.expect_new_uuid().returning(move || {
        n += 1;
        uuid::Uuid::from_u128(n << 96)
    });
    ids
}

/// Suffixes counting up from the low bound.
fn suffixes() -> MockSuffixSource {
    let mut s = MockSuffixSource::new();
    let mut n = 0;
    s.expect_number_in().returning(move |low, _| {
        n += 1;
        low + n
    });
    s
}

fn service(repo: MockCustomerRepository) -> TestService {
    CustomerService::with_sources(repo, clock(), ids(), suffixes())
}

fn john() -> NewCustomer {
    NewCustomer {
        first_name: "John".into(),
        last_name: "Doe".into(),
        email: "john.doe@example.com".into(),
        phone: Some("+1-555-0123".into()),
        ..NewCustomer::default()
    }
}

fn stored(id: &CustomerId, username: &Username, draft: &crate::models::CustomerDraft) -> Customer {
    let mut c = crate::models::customer_tests_support::john_doe();
    c.customer_id = id.clone();
    c.username = username.clone();
    c.email = draft.email.clone();
    c
}

fn violations(err: ServiceError) -> Vec<(String, &'static str)> {
    match err {
        ServiceError::Validation(v) => v.0.into_iter().map(|f| (f.field, f.kind)).collect(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

// ---- create ----

#[tokio::test]
async fn create_uses_the_bare_base_when_it_is_free() {
    let mut repo = MockCustomerRepository::new();
    repo.expect_taken_usernames()
        .times(1)
        .returning(|_| Ok(vec![]));
    repo.expect_insert()
        .withf(|id, username, draft| {
            id.as_str() == "CUST_00000001"
                && username.as_str() == "johndoe"
                && draft.marketing_emails
                && !draft.marketing_sms
        })
        .times(1)
        .returning(|id, u, d| Ok(stored(id, u, d)));
    let customer = service(repo).create(john()).await.unwrap();
    assert_eq!(customer.username.as_str(), "johndoe");
}

#[tokio::test]
async fn create_picks_the_first_free_suffixed_candidate_when_the_base_is_taken() {
    let mut repo = MockCustomerRepository::new();
    repo.expect_taken_usernames()
        .times(1)
        .returning(|c| Ok(vec![c[0].clone(), c[1].clone()]));
    repo.expect_insert()
        .withf(|_, username, _| username.as_str() == "johndoe1002")
        .times(1)
        .returning(|id, u, d| Ok(stored(id, u, d)));
    let customer = service(repo).create(john()).await.unwrap();
    assert_eq!(customer.username.as_str(), "johndoe1002");
}

#[tokio::test]
async fn ten_thousand_taken_names_still_cost_a_handful_of_queries() {
    // Every candidate of every numeric round is taken: the UUID fallback is used after
    // exactly one query per round.
    let mut repo = MockCustomerRepository::new();
    repo.expect_taken_usernames()
        .times(crate::generators::SUFFIX_DIGITS_BY_ROUND.len())
        .returning(|c| Ok(c.to_vec()));
    repo.expect_insert()
        .withf(|_, username, _| {
            username.as_str().starts_with("johndoe")
                && username.as_str().len() == "johndoe".len() + 12
        })
        .times(1)
        .returning(|id, u, d| Ok(stored(id, u, d)));
    service(repo).create(john()).await.unwrap();
}

#[tokio::test]
async fn a_username_conflict_at_insert_retries_with_a_new_candidate() {
    let mut repo = MockCustomerRepository::new();
    let taken = Arc::new(Mutex::new(Vec::<String>::new()));
    let seen = taken.clone();
    repo.expect_taken_usernames()
        .returning(move |_| Ok(seen.lock().unwrap().clone()));
    let record = taken.clone();
    let mut first = true;
    repo.expect_insert().times(2).returning(move |id, u, d| {
        if first {
            first = false;
            record.lock().unwrap().push(u.to_string());
            Err(RepositoryError::Conflict(Conflict::Username))
        } else {
            Ok(stored(id, u, d))
        }
    });
    let customer = service(repo).create(john()).await.unwrap();
    // The bare base collided at insert; the next round offers the next suffixes.
    assert_eq!(customer.username.as_str(), "johndoe1011");
}

#[tokio::test]
async fn a_customer_id_collision_retries_with_a_new_id() {
    let mut repo = MockCustomerRepository::new();
    repo.expect_taken_usernames().returning(|_| Ok(vec![]));
    let used = Arc::new(Mutex::new(Vec::<String>::new()));
    let record = used.clone();
    repo.expect_insert().times(2).returning(move |id, u, d| {
        let mut used = record.lock().unwrap();
        used.push(id.to_string());
        if used.len() == 1 {
            Err(RepositoryError::Conflict(Conflict::CustomerId))
        } else {
            Ok(stored(id, u, d))
        }
    });
    service(repo).create(john()).await.unwrap();
    let used = used.lock().unwrap();
    assert_ne!(used[0], used[1]);
}

#[tokio::test]
async fn endless_collisions_end_after_a_bounded_number_of_attempts() {
    let mut repo = MockCustomerRepository::new();
    repo.expect_taken_usernames().returning(|_| Ok(vec![]));
    repo.expect_insert()
        .times(MAX_CREATE_ATTEMPTS)
        .returning(|_, _, _| Err(RepositoryError::Conflict(Conflict::CustomerId)));
    let err = service(repo).create(john()).await.unwrap_err();
    assert!(matches!(err, ServiceError::GenerationExhausted(_)));
}

#[tokio::test]
async fn an_email_conflict_on_create_is_email_taken_without_retry() {
    let mut repo = MockCustomerRepository::new();
    repo.expect_taken_usernames().returning(|_| Ok(vec![]));
    repo.expect_insert()
        .times(1)
        .returning(|_, _, _| Err(RepositoryError::Conflict(Conflict::Email)));
    let err = service(repo).create(john()).await.unwrap_err();
    assert!(matches!(err, ServiceError::EmailTaken));
    assert_eq!(err.to_string(), "Customer with this email already exists");
}

#[tokio::test]
async fn an_unavailable_database_is_reported_as_unavailable() {
    let mut repo = MockCustomerRepository::new();
    repo.expect_taken_usernames()
        .returning(|_| Err(RepositoryError::Unavailable("pool timeout".into())));
    let err = service(repo).create(john()).await.unwrap_err();
    assert!(matches!(err, ServiceError::Unavailable(_)));
}

#[tokio::test]
async fn create_trims_and_types_every_field() {
    let mut repo = MockCustomerRepository::new();
    repo.expect_taken_usernames().returning(|_| Ok(vec![]));
    repo.expect_insert()
        .withf(|_, _, d| {
            d.first_name == "John"
                && d.email.as_str() == "John.Doe@Example.com"
                && d.city.is_none()
                && d.tags.as_slice() == ["premium", "tech"]
                && d.gender == Some(crate::models::Gender::Female)
                && d.marketing_sms
        })
        .times(1)
        .returning(|id, u, d| Ok(stored(id, u, d)));
    let input = NewCustomer {
        first_name: "  John ".into(),
        email: " John.Doe@Example.com ".into(),
        city: Some("   ".into()),
        tags: Some("Premium, tech, premium".into()),
        gender: Some("Female".into()),
        marketing_sms: Some(true),
        ..john()
    };
    service(repo).create(input).await.unwrap();
}

#[tokio::test]
async fn create_rejects_every_invalid_field_at_once_without_touching_storage() {
    let repo = MockCustomerRepository::new();
    let input = NewCustomer {
        first_name: "   ".into(),
        last_name: "x".repeat(101),
        email: "not-an-email".into(),
        phone: Some("call me".into()),
        gender: Some("robot".into()),
        postal_code: Some("1".repeat(21)),
        tax_id: Some("1".repeat(51)),
        date_of_birth: Some(now().naive_utc() + chrono::Duration::days(1)),
        tags: Some("x".repeat(51)),
        ..NewCustomer::default()
    };
    let fields: Vec<String> = violations(service(repo).create(input).await.unwrap_err())
        .into_iter()
        .map(|(f, _)| f)
        .collect();
    for field in [
        "first_name",
        "last_name",
        "email",
        "phone",
        "gender",
        "postal_code",
        "tax_id",
        "date_of_birth",
        "tags",
    ] {
        assert!(
            fields.contains(&field.to_string()),
            "{field} missing from {fields:?}"
        );
    }
}

#[tokio::test]
async fn names_are_limited_in_characters_not_bytes() {
    let mut repo = MockCustomerRepository::new();
    repo.expect_taken_usernames().returning(|_| Ok(vec![]));
    repo.expect_insert()
        .returning(|id, u, d| Ok(stored(id, u, d)));
    // 100 two-byte characters: 200 bytes, still a valid name.
    let input = NewCustomer {
        first_name: "é".repeat(100),
        ..john()
    };
    service(repo).create(input).await.unwrap();
}

#[tokio::test]
async fn control_characters_in_text_are_rejected() {
    let input = NewCustomer {
        city: Some("New\0York".into()),
        first_name: "Jo\u{7}hn".into(),
        ..john()
    };
    let got = violations(
        service(MockCustomerRepository::new())
            .create(input)
            .await
            .unwrap_err(),
    );
    assert!(got.contains(&("city".into(), "value_error.str.control_characters")));
    assert!(got.contains(&("first_name".into(), "value_error.str.control_characters")));
}

#[tokio::test]
async fn notes_may_have_line_breaks() {
    let mut repo = MockCustomerRepository::new();
    repo.expect_taken_usernames().returning(|_| Ok(vec![]));
    repo.expect_insert()
        .returning(|id, u, d| Ok(stored(id, u, d)));
    let input = NewCustomer {
        notes: Some("line one\nline two\ttab".into()),
        ..john()
    };
    service(repo).create(input).await.unwrap();
}

#[tokio::test]
async fn a_date_of_birth_before_1900_is_rejected() {
    let input = NewCustomer {
        date_of_birth: Some(crate::models::parse_date_of_birth("1899-12-31").unwrap()),
        ..john()
    };
    let got = violations(
        service(MockCustomerRepository::new())
            .create(input)
            .await
            .unwrap_err(),
    );
    assert_eq!(got, vec![("date_of_birth".into(), "value_error.date")]);
}

// ---- lookups ----

#[tokio::test]
async fn a_malformed_customer_id_is_not_found_without_a_query() {
    let err = service(MockCustomerRepository::new())
        .get("nope")
        .await
        .unwrap_err();
    assert!(matches!(err, ServiceError::NotFound));
}

#[tokio::test]
async fn get_returns_not_found_when_the_repository_has_none() {
    let mut repo = MockCustomerRepository::new();
    repo.expect_find_by_customer_id().returning(|_| Ok(None));
    let err = service(repo).get("CUST_A1B2C3D4").await.unwrap_err();
    assert!(matches!(err, ServiceError::NotFound));
}

#[tokio::test]
async fn lookups_by_text_that_cannot_be_stored_are_not_found_without_a_query() {
    let svc = service(MockCustomerRepository::new());
    for username in ["", "John", "a\0b", &"a".repeat(51)] {
        assert!(
            matches!(
                svc.get_by_username(username).await,
                Err(ServiceError::NotFound)
            ),
            "{username:?}"
        );
    }
    for email in [
        "",
        "nope",
        "a\0b@example.com",
        &format!("{}@x.com", "a".repeat(300)),
    ] {
        assert!(
            matches!(svc.get_by_email(email).await, Err(ServiceError::NotFound)),
            "{email:?}"
        );
    }
}

#[tokio::test]
async fn get_by_email_trims_the_address() {
    let mut repo = MockCustomerRepository::new();
    repo.expect_find_by_email()
        .with(eq("john@x.com"))
        .returning(|_| Ok(Some(crate::models::customer_tests_support::john_doe())));
    service(repo).get_by_email(" john@x.com ").await.unwrap();
}

// ---- update ----

#[tokio::test]
async fn update_sends_only_the_fields_that_change() {
    let mut repo = MockCustomerRepository::new();
    repo.expect_update()
        .withf(|id, changes| {
            id.as_str() == "CUST_A1B2C3D4"
                && *changes
                    == CustomerChanges {
                        first_name: Some("Jane".into()),
                        city: Patch::Clear,
                        is_verified: Some(true),
                        ..CustomerChanges::default()
                    }
        })
        .times(1)
        .returning(|_, _| Ok(Some(crate::models::customer_tests_support::john_doe())));
    let patch = CustomerPatch {
        first_name: Patch::Set(" Jane ".into()),
        city: Patch::Clear,
        is_verified: Patch::Set(true),
        ..CustomerPatch::default()
    };
    service(repo).update("CUST_A1B2C3D4", patch).await.unwrap();
}

#[tokio::test]
async fn an_empty_string_clears_an_optional_field() {
    let mut repo = MockCustomerRepository::new();
    repo.expect_update()
        .withf(|_, c| c.phone == Patch::Clear && c.company_name == Patch::Clear)
        .returning(|_, _| Ok(Some(crate::models::customer_tests_support::john_doe())));
    let patch = CustomerPatch {
        phone: Patch::Set("".into()),
        company_name: Patch::Set("  ".into()),
        ..CustomerPatch::default()
    };
    service(repo).update("CUST_A1B2C3D4", patch).await.unwrap();
}

#[tokio::test]
async fn required_fields_sent_as_null_are_validation_errors() {
    let patch = CustomerPatch {
        first_name: Patch::Clear,
        email: Patch::Clear,
        is_active: Patch::Clear,
        marketing_emails: Patch::Clear,
        ..CustomerPatch::default()
    };
    let got = violations(
        service(MockCustomerRepository::new())
            .update("CUST_A1B2C3D4", patch)
            .await
            .unwrap_err(),
    );
    for field in ["first_name", "email", "is_active", "marketing_emails"] {
        assert!(
            got.contains(&(field.into(), "value_error.missing")),
            "{field}: {got:?}"
        );
    }
}

#[tokio::test]
async fn update_validates_set_values_like_create() {
    let patch = CustomerPatch {
        email: Patch::Set("bad".into()),
        phone: Patch::Set("12".into()),
        ..CustomerPatch::default()
    };
    let got = violations(
        service(MockCustomerRepository::new())
            .update("CUST_A1B2C3D4", patch)
            .await
            .unwrap_err(),
    );
    assert_eq!(
        got,
        vec![
            ("email".into(), "value_error.email"),
            ("phone".into(), "value_error.phone")
        ]
    );
}

#[tokio::test]
async fn changing_email_to_one_another_customer_holds_is_email_taken() {
    let mut repo = MockCustomerRepository::new();
    repo.expect_update()
        .returning(|_, _| Err(RepositoryError::Conflict(Conflict::Email)));
    let patch = CustomerPatch {
        email: Patch::Set("taken@example.com".into()),
        ..CustomerPatch::default()
    };
    let err = service(repo)
        .update("CUST_A1B2C3D4", patch)
        .await
        .unwrap_err();
    assert!(matches!(err, ServiceError::EmailTaken));
}

#[tokio::test]
async fn updating_an_unknown_customer_is_not_found() {
    let mut repo = MockCustomerRepository::new();
    repo.expect_update().returning(|_, _| Ok(None));
    let patch = CustomerPatch {
        notes: Patch::Set("x".into()),
        ..CustomerPatch::default()
    };
    let err = service(repo)
        .update("CUST_A1B2C3D4", patch)
        .await
        .unwrap_err();
    assert!(matches!(err, ServiceError::NotFound));
}

#[tokio::test]
async fn an_empty_update_returns_the_customer_unchanged() {
    let mut repo = MockCustomerRepository::new();
    repo.expect_update().never();
    repo.expect_find_by_customer_id()
        .returning(|_| Ok(Some(crate::models::customer_tests_support::john_doe())));
    service(repo)
        .update("CUST_A1B2C3D4", CustomerPatch::default())
        .await
        .unwrap();
}

// ---- bulk update ----

fn bulk(ids: &[&str], updates: CustomerPatch) -> BulkUpdate {
    BulkUpdate {
        customer_ids: ids.iter().map(|s| s.to_string()).collect(),
        updates,
    }
}

fn notes_patch() -> CustomerPatch {
    CustomerPatch {
        notes: Patch::Set("Bulk updated customer".into()),
        marketing_emails: Patch::Set(false),
        ..CustomerPatch::default()
    }
}

#[tokio::test]
async fn bulk_update_reports_each_id_that_failed_and_updates_the_rest() {
    let mut repo = MockCustomerRepository::new();
    repo.expect_bulk_update()
        .withf(|ids, _| ids.len() == 2)
        .times(1)
        .returning(|ids, _| Ok(vec![ids[0].clone()]));
    let report = service(repo)
        .bulk_update(bulk(
            &["CUST_A1B2C3D4", "CUST_B2C3D4E5", "garbage"],
            notes_patch(),
        ))
        .await
        .unwrap();
    assert_eq!(report.updated_count, 1);
    assert_eq!(report.total_processed, 3);
    let failed: Vec<&str> = report
        .failed_updates
        .iter()
        .map(|f| f.customer_id.as_str())
        .collect();
    assert_eq!(failed, ["garbage", "CUST_B2C3D4E5"]);
    assert!(
        report
            .failed_updates
            .iter()
            .all(|f| f.reason == "Customer not found")
    );
}

#[tokio::test]
async fn bulk_update_counts_a_repeated_id_once() {
    let mut repo = MockCustomerRepository::new();
    repo.expect_bulk_update()
        .withf(|ids, _| ids.len() == 1)
        .returning(|ids, _| Ok(ids.to_vec()));
    let report = service(repo)
        .bulk_update(bulk(&["CUST_A1B2C3D4", "CUST_A1B2C3D4"], notes_patch()))
        .await
        .unwrap();
    assert_eq!((report.updated_count, report.total_processed), (1, 1));
}

#[tokio::test]
async fn bulk_update_cannot_set_email() {
    let updates = CustomerPatch {
        email: Patch::Set("x@y.com".into()),
        ..CustomerPatch::default()
    };
    let got = violations(
        service(MockCustomerRepository::new())
            .bulk_update(bulk(&["CUST_A1B2C3D4"], updates))
            .await
            .unwrap_err(),
    );
    assert_eq!(
        got,
        vec![("updates.email".into(), "value_error.not_allowed")]
    );
}

#[tokio::test]
async fn bulk_update_validates_the_changes_with_their_path() {
    let updates = CustomerPatch {
        phone: Patch::Set("abc".into()),
        ..CustomerPatch::default()
    };
    let got = violations(
        service(MockCustomerRepository::new())
            .bulk_update(bulk(&["CUST_A1B2C3D4"], updates))
            .await
            .unwrap_err(),
    );
    assert_eq!(got, vec![("updates.phone".into(), "value_error.phone")]);
}

#[tokio::test]
async fn bulk_update_needs_between_1_and_1000_ids() {
    let svc = service(MockCustomerRepository::new());
    assert!(svc.bulk_update(bulk(&[], notes_patch())).await.is_err());
    let many: Vec<String> = (0..=BulkUpdate::MAX_IDS)
        .map(|i| format!("CUST_{i:08X}"))
        .collect();
    let request = BulkUpdate {
        customer_ids: many,
        updates: notes_patch(),
    };
    assert!(matches!(
        svc.bulk_update(request).await,
        Err(ServiceError::Validation(_))
    ));
}

// ---- verification, login, deletion ----

#[tokio::test]
async fn verification_sets_the_named_flag_and_reports_unknown_customers() {
    let mut repo = MockCustomerRepository::new();
    repo.expect_mark_verified()
        .with(mockall::predicate::always(), eq(Verification::Email))
        .returning(|_, _| Ok(true));
    repo.expect_mark_verified()
        .with(mockall::predicate::always(), eq(Verification::Phone))
        .returning(|_, _| Ok(false));
    let svc = service(repo);
    svc.verify_email("CUST_A1B2C3D4").await.unwrap();
    assert!(matches!(
        svc.verify_phone("CUST_A1B2C3D4").await,
        Err(ServiceError::NotFound)
    ));
}

#[tokio::test]
async fn last_login_is_recorded_at_the_clocks_time() {
    let mut repo = MockCustomerRepository::new();
    repo.expect_record_login()
        .withf(|_, at| *at == now())
        .times(1)
        .returning(|_, _| Ok(true));
    service(repo).record_login("CUST_A1B2C3D4").await.unwrap();
}

#[tokio::test]
async fn deleting_an_unknown_customer_is_not_found() {
    let mut repo = MockCustomerRepository::new();
    repo.expect_deactivate().returning(|_| Ok(false));
    repo.expect_delete().returning(|_| Ok(false));
    let svc = service(repo);
    assert!(matches!(
        svc.deactivate("CUST_A1B2C3D4").await,
        Err(ServiceError::NotFound)
    ));
    assert!(matches!(
        svc.delete("CUST_A1B2C3D4").await,
        Err(ServiceError::NotFound)
    ));
}

// ---- search, tags, locations, statistics ----

#[tokio::test]
async fn search_trims_filters_and_drops_empty_ones() {
    let mut repo = MockCustomerRepository::new();
    repo.expect_search()
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
        service(MockCustomerRepository::new())
            .search(criteria)
            .await
            .unwrap_err(),
    );
    assert_eq!(
        got,
        vec![
            ("query".into(), "value_error.any_str.max_length"),
            ("city".into(), "value_error.str.control_characters")
        ]
    );
}

#[tokio::test]
async fn tags_are_parsed_and_an_empty_list_is_rejected() {
    let mut repo = MockCustomerRepository::new();
    repo.expect_find_by_tags()
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
    let mut repo = MockCustomerRepository::new();
    repo.expect_statistics()
        .withf(|w| w.now == now() && w.today_start.to_rfc3339() == "2024-06-01T00:00:00+00:00")
        .returning(|_| Ok(CustomerStatistics::default()));
    service(repo).statistics().await.unwrap();
}

#[tokio::test]
async fn location_filters_are_trimmed() {
    let mut repo = MockCustomerRepository::new();
    repo.expect_find_by_location()
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
    let mut repo = MockCustomerRepository::new();
    repo.expect_ping()
        .returning(|| Err(RepositoryError::Unavailable("down".into())));
    assert!(matches!(
        service(repo).health().await,
        Err(ServiceError::Unavailable(_))
    ));
}
