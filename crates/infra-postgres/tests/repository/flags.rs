//! Verification flags, last login, soft and hard delete.

use domain::{CustomerId, CustomerReads, CustomerStore, Precondition, Verification};

use crate::support::{Outcome, at, ctx, person};

fn missing() -> CustomerId {
    CustomerId::parse("CUST_DEADBEEF").unwrap()
}

#[tokio::test]
async fn mark_verified_sets_only_the_named_flag() {
    let t = ctx().await;
    let c = person(&t.repo, "Ann", "Lee").await;
    assert!(
        t.repo
            .mark_verified(&c.customer_id, Verification::Email, &Precondition::Any)
            .await
            .unwrap()
            .done()
    );
    let after = t
        .repo
        .find_by_customer_id(&c.customer_id)
        .await
        .unwrap()
        .unwrap();
    assert!(after.email_verified && !after.phone_verified && !after.is_verified);
    assert!(
        t.repo
            .mark_verified(&c.customer_id, Verification::Phone, &Precondition::Any)
            .await
            .unwrap()
            .done()
    );
    let after = t
        .repo
        .find_by_customer_id(&c.customer_id)
        .await
        .unwrap()
        .unwrap();
    assert!(after.email_verified && after.phone_verified);
    assert!(
        !t.repo
            .mark_verified(&missing(), Verification::Email, &Precondition::Any)
            .await
            .unwrap()
            .done()
    );
}

#[tokio::test]
async fn record_login_stores_the_time() {
    let t = ctx().await;
    let c = person(&t.repo, "Ann", "Lee").await;
    let when = at(2024, 2, 29, 23);
    assert!(
        t.repo
            .record_login(&c.customer_id, when, &Precondition::Any)
            .await
            .unwrap()
            .done()
    );
    let after = t
        .repo
        .find_by_customer_id(&c.customer_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after.last_login_at, Some(when));
    assert!(
        !t.repo
            .record_login(&missing(), when, &Precondition::Any)
            .await
            .unwrap()
            .done()
    );
}

#[tokio::test]
async fn deactivate_keeps_the_customer_but_inactive() {
    let t = ctx().await;
    let c = person(&t.repo, "Ann", "Lee").await;
    assert!(
        t.repo
            .deactivate(&c.customer_id, &Precondition::Any)
            .await
            .unwrap()
            .done()
    );
    let after = t
        .repo
        .find_by_customer_id(&c.customer_id)
        .await
        .unwrap()
        .unwrap();
    assert!(!after.is_active);
    assert!(
        !t.repo
            .deactivate(&missing(), &Precondition::Any)
            .await
            .unwrap()
            .done()
    );
}

#[tokio::test]
async fn delete_removes_the_customer_for_good() {
    let t = ctx().await;
    let c = person(&t.repo, "Ann", "Lee").await;
    let other = person(&t.repo, "Bob", "Lee").await;
    assert!(
        t.repo
            .delete(&c.customer_id, &Precondition::Any)
            .await
            .unwrap()
            .done()
    );
    assert_eq!(
        t.repo.find_by_customer_id(&c.customer_id).await.unwrap(),
        None
    );
    assert!(
        !t.repo
            .delete(&c.customer_id, &Precondition::Any)
            .await
            .unwrap()
            .done()
    );
    assert!(
        t.repo
            .find_by_customer_id(&other.customer_id)
            .await
            .unwrap()
            .is_some()
    );
}
