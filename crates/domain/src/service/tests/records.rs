//! Verification flags, last login and deletion.

use super::*;

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
