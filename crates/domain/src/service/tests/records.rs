//! Verification flags, last login and deletion.

use super::*;

#[tokio::test]
async fn verification_sets_the_named_flag_and_reports_unknown_customers() {
    let mut repo = Mocks::default();
    // Not erased either: never there.
    repo.reads.expect_erasure().returning(|_| Ok(None));
    repo.store
        .expect_mark_verified()
        .with(
            mockall::predicate::always(),
            eq(Verification::Email),
            mockall::predicate::always(),
        )
        .returning(|_, _, _| Ok(Written::Done(2)));
    repo.store
        .expect_mark_verified()
        .with(
            mockall::predicate::always(),
            eq(Verification::Phone),
            mockall::predicate::always(),
        )
        .returning(|_, _, _| Ok(Written::Missing));
    let svc = service(repo);
    svc.verify_email("CUST_A1B2C3D4", Precondition::Any)
        .await
        .unwrap();
    assert!(matches!(
        svc.verify_phone("CUST_A1B2C3D4", Precondition::Any).await,
        Err(ServiceError::NotFound)
    ));
}

#[tokio::test]
async fn last_login_is_recorded_at_the_clocks_time() {
    let mut repo = Mocks::default();
    repo.store
        .expect_record_login()
        .withf(|_, at, _| *at == now())
        .times(1)
        .returning(|_, _, _| Ok(Written::Done(2)));
    service(repo)
        .record_login("CUST_A1B2C3D4", Precondition::Any)
        .await
        .unwrap();
}

#[tokio::test]
async fn deleting_an_unknown_customer_is_not_found() {
    let mut repo = Mocks::default();
    // Not erased either: never there.
    repo.reads.expect_erasure().returning(|_| Ok(None));
    repo.store
        .expect_deactivate()
        .returning(|_, _| Ok(Written::Missing));
    repo.store
        .expect_delete()
        .returning(|_, _| Ok(Written::Missing));
    let svc = service(repo);
    assert!(matches!(
        svc.deactivate("CUST_A1B2C3D4", Precondition::Any).await,
        Err(ServiceError::NotFound)
    ));
    assert!(matches!(
        svc.delete("CUST_A1B2C3D4", Precondition::Any).await,
        Err(ServiceError::NotFound)
    ));
}
