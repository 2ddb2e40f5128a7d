//! Finding single customers.

use super::*;

#[tokio::test]
async fn a_malformed_customer_id_is_not_found_without_a_query() {
    let err = service(Mocks::default()).get("nope").await.unwrap_err();
    assert!(matches!(err, ServiceError::NotFound));
}

#[tokio::test]
async fn get_returns_not_found_when_the_repository_has_none() {
    let mut repo = Mocks::default();
    // Not erased either: never there.
    repo.reads.expect_erasure().returning(|_| Ok(None));
    repo.reads
        .expect_find_by_customer_id()
        .returning(|_| Ok(None));
    let err = service(repo).get("CUST_A1B2C3D4").await.unwrap_err();
    assert!(matches!(err, ServiceError::NotFound));
}

#[tokio::test]
async fn lookups_by_text_that_cannot_be_stored_are_not_found_without_a_query() {
    let svc = service(Mocks::default());
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
    let mut repo = Mocks::default();
    repo.reads
        .expect_find_by_email()
        .with(eq("john@x.com"))
        .returning(|_| Ok(Some(crate::fixtures::john_doe())));
    service(repo).get_by_email(" john@x.com ").await.unwrap();
}
