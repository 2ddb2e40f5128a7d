//! Creating customers: generated usernames and ids, retries, validation.

use super::*;

#[tokio::test]
async fn create_uses_the_bare_base_when_it_is_free() {
    let mut repo = Mocks::default();
    repo.store
        .expect_taken_usernames()
        .times(1)
        .returning(|_| Ok(vec![]));
    repo.store
        .expect_insert()
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
    let mut repo = Mocks::default();
    repo.store
        .expect_taken_usernames()
        .times(1)
        .returning(|c| Ok(vec![c[0].clone(), c[1].clone()]));
    repo.store
        .expect_insert()
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
    let mut repo = Mocks::default();
    repo.store
        .expect_taken_usernames()
        .times(crate::generators::SUFFIX_DIGITS_BY_ROUND.len())
        .returning(|c| Ok(c.to_vec()));
    repo.store
        .expect_insert()
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
    let mut repo = Mocks::default();
    let taken = Arc::new(Mutex::new(Vec::<String>::new()));
    let seen = taken.clone();
    repo.store
        .expect_taken_usernames()
        .returning(move |_| Ok(seen.lock().unwrap().clone()));
    let record = taken.clone();
    let mut first = true;
    repo.store
        .expect_insert()
        .times(2)
        .returning(move |id, u, d| {
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
    let mut repo = Mocks::default();
    every_username_free(&mut repo.store);
    let used = Arc::new(Mutex::new(Vec::<String>::new()));
    let record = used.clone();
    repo.store
        .expect_insert()
        .times(2)
        .returning(move |id, u, d| {
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
    let mut repo = Mocks::default();
    every_username_free(&mut repo.store);
    repo.store
        .expect_insert()
        .times(MAX_CREATE_ATTEMPTS)
        .returning(|_, _, _| Err(RepositoryError::Conflict(Conflict::CustomerId)));
    let err = service(repo).create(john()).await.unwrap_err();
    assert!(matches!(err, ServiceError::GenerationExhausted(_)));
}

#[tokio::test]
async fn an_email_conflict_on_create_is_email_taken_without_retry() {
    let mut repo = Mocks::default();
    every_username_free(&mut repo.store);
    repo.store
        .expect_insert()
        .times(1)
        .returning(|_, _, _| Err(RepositoryError::Conflict(Conflict::Email)));
    let err = service(repo).create(john()).await.unwrap_err();
    assert!(matches!(err, ServiceError::EmailTaken));
    assert_eq!(err.to_string(), "Customer with this email already exists");
}

#[tokio::test]
async fn an_unavailable_database_is_reported_as_unavailable() {
    let mut repo = Mocks::default();
    repo.store
        .expect_taken_usernames()
        .returning(|_| Err(RepositoryError::Unavailable("pool timeout".into())));
    let err = service(repo).create(john()).await.unwrap_err();
    assert!(matches!(err, ServiceError::Unavailable(_)));
}

#[tokio::test]
async fn create_trims_and_types_every_field() {
    let mut repo = Mocks::default();
    every_username_free(&mut repo.store);
    repo.store
        .expect_insert()
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
    let repo = Mocks::default();
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
    let mut repo = Mocks::default();
    every_username_free(&mut repo.store);
    repo.store
        .expect_insert()
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
    let got = violations(service(Mocks::default()).create(input).await.unwrap_err());
    assert!(got.contains(&("city".into(), Rule::ControlCharacters)));
    assert!(got.contains(&("first_name".into(), Rule::ControlCharacters)));
}

#[tokio::test]
async fn notes_may_have_line_breaks() {
    let mut repo = Mocks::default();
    every_username_free(&mut repo.store);
    repo.store
        .expect_insert()
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
    let got = violations(service(Mocks::default()).create(input).await.unwrap_err());
    let earliest = chrono::NaiveDate::from_ymd_opt(1900, 1, 1).unwrap();
    assert_eq!(
        got,
        vec![("date_of_birth".into(), Rule::BirthBefore(earliest))]
    );
}
