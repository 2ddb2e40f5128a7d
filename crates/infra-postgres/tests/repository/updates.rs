//! `update`: only what changes is written, `Patch::Clear` clears, and email stays unique.

use chrono::NaiveDate;
use domain::{
    Conflict, CustomerChanges, CustomerId, CustomerReads, CustomerStore, Email, Gender, Patch,
    Phone, Precondition, RepositoryError, Tags,
};

use crate::support::{Outcome, ctx, draft, insert, person};

#[tokio::test]
async fn update_writes_only_the_given_fields_and_returns_the_stored_customer() {
    let t = ctx().await;
    let mut new = draft("John", "Doe", "john@example.com");
    new.city = Some("Boston".into());
    new.notes = Some("keep me".into());
    let before = insert(&t.repo, &new).await;
    let changes = CustomerChanges {
        first_name: Some("Johnny".into()),
        email: Some(Email::parse("Johnny@Example.com").unwrap()),
        phone: Patch::Set(Phone::parse("+44 20 7946 0958").unwrap()),
        date_of_birth: Patch::Set(
            NaiveDate::from_ymd_opt(1985, 6, 1)
                .unwrap()
                .and_hms_opt(0, 0, 0)
                .unwrap(),
        ),
        gender: Patch::Set(Gender::PreferNotToSay),
        tags: Patch::Set(Tags::parse("a,b").unwrap()),
        marketing_sms: Some(true),
        is_verified: Some(true),
        ..CustomerChanges::default()
    };

    let after = t
        .repo
        .update(&before.customer_id, &changes, &Precondition::Any)
        .await
        .unwrap()
        .found()
        .unwrap();

    assert_eq!(after.first_name, "Johnny");
    assert_eq!(after.email.as_str(), "Johnny@Example.com");
    assert_eq!(
        after.phone.as_ref().map(Phone::as_str),
        Some("+44 20 7946 0958")
    );
    assert_eq!(after.gender, Some(Gender::PreferNotToSay));
    assert_eq!(after.tags.as_slice(), ["a", "b"]);
    assert!(after.marketing_sms && after.is_verified);
    // Untouched fields keep their values.
    assert_eq!(after.last_name, "Doe");
    assert_eq!(after.city.as_deref(), Some("Boston"));
    assert_eq!(after.notes.as_deref(), Some("keep me"));
    assert!(after.marketing_emails);
    assert_eq!(after.created_at, before.created_at);
    assert!(
        after.updated_at > before.updated_at,
        "the trigger moves updated_at"
    );
    assert_eq!(
        t.repo
            .find_by_customer_id(&before.customer_id)
            .await
            .unwrap(),
        Some(after)
    );
}

#[tokio::test]
async fn clearing_sets_nullable_fields_to_null_and_tags_to_none() {
    let t = ctx().await;
    let mut new = draft("John", "Doe", "john@example.com");
    new.city = Some("Boston".into());
    new.company_name = Some("Acme".into());
    new.tags = Tags::parse("x,y").unwrap();
    let before = insert(&t.repo, &new).await;
    let changes = CustomerChanges {
        city: Patch::Clear,
        company_name: Patch::Clear,
        tags: Patch::Clear,
        ..CustomerChanges::default()
    };
    let after = t
        .repo
        .update(&before.customer_id, &changes, &Precondition::Any)
        .await
        .unwrap()
        .found()
        .unwrap();
    assert_eq!(after.city, None);
    assert_eq!(after.company_name, None);
    assert!(after.tags.is_empty());
}

#[tokio::test]
async fn updating_a_missing_customer_returns_none() {
    let t = ctx().await;
    let missing = CustomerId::parse("CUST_0BADBEEF").unwrap();
    let changes = CustomerChanges {
        first_name: Some("X".into()),
        ..CustomerChanges::default()
    };
    assert_eq!(
        t.repo
            .update(&missing, &changes, &Precondition::Any)
            .await
            .unwrap()
            .found(),
        None
    );
    assert_eq!(
        t.repo
            .update(&missing, &CustomerChanges::default(), &Precondition::Any)
            .await
            .unwrap()
            .found(),
        None
    );
}

#[tokio::test]
async fn an_update_without_changes_returns_the_customer_as_it_is() {
    let t = ctx().await;
    let john = person(&t.repo, "John", "Doe").await;
    let same = t
        .repo
        .update(
            &john.customer_id,
            &CustomerChanges::default(),
            &Precondition::Any,
        )
        .await
        .unwrap()
        .found();
    assert_eq!(same, Some(john));
}

#[tokio::test]
async fn taking_another_customers_email_in_other_letter_case_conflicts_on_email() {
    let t = ctx().await;
    let _jane = insert(&t.repo, &draft("Jane", "Doe", "Jane@X.com")).await;
    let john = insert(&t.repo, &draft("John", "Doe", "john@x.com")).await;
    let changes = CustomerChanges {
        email: Some(Email::parse("JANE@x.com").unwrap()),
        ..CustomerChanges::default()
    };
    let err = t
        .repo
        .update(&john.customer_id, &changes, &Precondition::Any)
        .await
        .unwrap_err();
    assert!(
        matches!(err, RepositoryError::Conflict(Conflict::Email)),
        "{err:?}"
    );
    // Changing the case of one's own email is no conflict.
    let own = CustomerChanges {
        email: Some(Email::parse("JOHN@X.COM").unwrap()),
        ..CustomerChanges::default()
    };
    let after = t
        .repo
        .update(&john.customer_id, &own, &Precondition::Any)
        .await
        .unwrap()
        .found()
        .unwrap();
    assert_eq!(after.email.as_str(), "JOHN@X.COM");
}
