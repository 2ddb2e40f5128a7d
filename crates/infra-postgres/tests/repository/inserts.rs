//! Inserting customers and the unique constraints that guard it.

use chrono::NaiveDate;
use domain::{Conflict, CustomerReads, CustomerStore, Gender, Phone, RepositoryError, Tags};

use crate::support::{ctx, draft, insert, next_customer_id, username_for};

#[tokio::test]
async fn insert_returns_the_stored_customer_with_id_defaults_and_timestamps() {
    let t = ctx().await;
    let mut new = draft("John", "Doe", "john.doe@example.com");
    new.phone = Some(Phone::parse("+1-555-0123").unwrap());
    new.city = Some("New York".into());
    new.date_of_birth = NaiveDate::from_ymd_opt(1990, 1, 15)
        .unwrap()
        .and_hms_opt(0, 0, 0);
    new.gender = Some(Gender::Male);
    new.tags = Tags::parse("premium,tech,new-york").unwrap();
    new.marketing_emails = false;
    new.marketing_sms = true;
    let id = next_customer_id();
    let username = username_for(&id);

    let stored = t.repo.insert(&id, &username, &new).await.unwrap();

    assert!(stored.id > 0);
    assert_eq!(stored.customer_id, id);
    assert_eq!(stored.username, username);
    assert_eq!(stored.email.as_str(), "john.doe@example.com");
    assert_eq!(
        stored.phone.as_ref().map(Phone::as_str),
        Some("+1-555-0123")
    );
    assert_eq!(stored.city.as_deref(), Some("New York"));
    assert_eq!(stored.date_of_birth, new.date_of_birth);
    assert_eq!(stored.gender, Some(Gender::Male));
    assert_eq!(
        stored.tags.to_csv().as_deref(),
        Some("premium,tech,new-york")
    );
    assert!(stored.is_active);
    assert!(!stored.is_verified && !stored.email_verified && !stored.phone_verified);
    assert!(!stored.marketing_emails && stored.marketing_sms);
    assert_eq!(stored.created_at, stored.updated_at);
    assert_eq!(stored.last_login_at, None);
    assert_eq!(t.repo.find_by_customer_id(&id).await.unwrap(), Some(stored));
}

#[tokio::test]
async fn a_second_customer_with_the_same_customer_id_conflicts_on_customer_id() {
    let t = ctx().await;
    let id = next_customer_id();
    t.repo
        .insert(&id, &username_for(&id), &draft("A", "A", "a@example.com"))
        .await
        .unwrap();
    let other = next_customer_id();
    let err = t
        .repo
        .insert(
            &id,
            &username_for(&other),
            &draft("B", "B", "b@example.com"),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, RepositoryError::Conflict(Conflict::CustomerId)),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_second_customer_with_the_same_username_conflicts_on_username() {
    let t = ctx().await;
    let first = insert(&t.repo, &draft("A", "A", "a@example.com")).await;
    let err = t
        .repo
        .insert(
            &next_customer_id(),
            &first.username,
            &draft("B", "B", "b@example.com"),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, RepositoryError::Conflict(Conflict::Username)),
        "{err:?}"
    );
}

#[tokio::test]
async fn an_email_differing_only_in_letter_case_conflicts_on_email() {
    let t = ctx().await;
    insert(&t.repo, &draft("John", "Upper", "John@X.com")).await;
    let id = next_customer_id();
    let err = t
        .repo
        .insert(
            &id,
            &username_for(&id),
            &draft("John", "Lower", "john@x.com"),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, RepositoryError::Conflict(Conflict::Email)),
        "{err:?}"
    );
}

#[tokio::test]
async fn tags_longer_than_500_characters_joined_are_refused_by_the_database() {
    let t = ctx().await;
    let mut new = draft("A", "A", "a@example.com");
    new.tags = Tags::from_stored(vec!["x".repeat(300), "y".repeat(300)]);
    let id = next_customer_id();
    let err = t
        .repo
        .insert(&id, &username_for(&id), &new)
        .await
        .unwrap_err();
    assert!(matches!(err, RepositoryError::Unexpected(_)), "{err:?}");
}
