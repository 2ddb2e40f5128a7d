//! Partial updates: what may change, what null means, email conflicts.

use super::*;

#[tokio::test]
async fn update_sends_only_the_fields_that_change() {
    let mut repo = Mocks::default();
    repo.store
        .expect_update()
        .withf(|id, changes, _| {
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
        .returning(|_, _, _| Ok(Written::Done(crate::fixtures::john_doe())));
    let patch = CustomerPatch {
        first_name: Patch::Set(" Jane ".into()),
        city: Patch::Clear,
        is_verified: Patch::Set(true),
        ..CustomerPatch::default()
    };
    service(repo)
        .update("CUST_A1B2C3D4", patch, Precondition::Any)
        .await
        .unwrap();
}

#[tokio::test]
async fn an_empty_string_clears_an_optional_field() {
    let mut repo = Mocks::default();
    repo.store
        .expect_update()
        .withf(|_, c, _| c.phone == Patch::Clear && c.company_name == Patch::Clear)
        .returning(|_, _, _| Ok(Written::Done(crate::fixtures::john_doe())));
    let patch = CustomerPatch {
        phone: Patch::Set("".into()),
        company_name: Patch::Set("  ".into()),
        ..CustomerPatch::default()
    };
    service(repo)
        .update("CUST_A1B2C3D4", patch, Precondition::Any)
        .await
        .unwrap();
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
        service(Mocks::default())
            .update("CUST_A1B2C3D4", patch, Precondition::Any)
            .await
            .unwrap_err(),
    );
    for field in ["first_name", "email", "is_active", "marketing_emails"] {
        assert!(
            got.contains(&(field.into(), Rule::NotNull)),
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
        service(Mocks::default())
            .update("CUST_A1B2C3D4", patch, Precondition::Any)
            .await
            .unwrap_err(),
    );
    assert_eq!(
        got,
        vec![
            ("email".into(), Rule::Email(EmailProblem::NoAtSign)),
            ("phone".into(), Rule::PhoneDigits { min: 7, max: 15 })
        ]
    );
}

#[tokio::test]
async fn changing_email_to_one_another_customer_holds_is_email_taken() {
    let mut repo = Mocks::default();
    repo.store
        .expect_update()
        .returning(|_, _, _| Err(RepositoryError::Conflict(Conflict::Email)));
    let patch = CustomerPatch {
        email: Patch::Set("taken@example.com".into()),
        ..CustomerPatch::default()
    };
    let err = service(repo)
        .update("CUST_A1B2C3D4", patch, Precondition::Any)
        .await
        .unwrap_err();
    assert!(matches!(err, ServiceError::EmailTaken));
}

#[tokio::test]
async fn updating_an_unknown_customer_is_not_found() {
    let mut repo = Mocks::default();
    // Not erased either: never there.
    repo.reads.expect_erasure().returning(|_| Ok(None));
    repo.store
        .expect_update()
        .returning(|_, _, _| Ok(Written::Missing));
    let patch = CustomerPatch {
        notes: Patch::Set("x".into()),
        ..CustomerPatch::default()
    };
    let err = service(repo)
        .update("CUST_A1B2C3D4", patch, Precondition::Any)
        .await
        .unwrap_err();
    assert!(matches!(err, ServiceError::NotFound));
}

#[tokio::test]
async fn an_empty_update_returns_the_customer_unchanged() {
    let mut repo = Mocks::default();
    repo.store.expect_update().never();
    repo.reads
        .expect_find_by_customer_id()
        .returning(|_| Ok(Some(crate::fixtures::john_doe())));
    service(repo)
        .update("CUST_A1B2C3D4", CustomerPatch::default(), Precondition::Any)
        .await
        .unwrap();
}
