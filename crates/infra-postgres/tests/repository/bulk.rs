//! `bulk_update`: one atomic statement, reporting which of the ids existed.

use domain::{CustomerChanges, CustomerId, CustomerReads, CustomerStore, Email, Patch, Tags};

use crate::support::{ctx, person, unpinned};

#[tokio::test]
async fn bulk_update_changes_the_existing_customers_and_reports_them_in_request_order() {
    let t = ctx().await;
    let a = person(&t.repo, "Ann", "Lee").await;
    let b = person(&t.repo, "Bob", "Lee").await;
    let untouched = person(&t.repo, "Cid", "Lee").await;
    let missing = CustomerId::parse("CUST_0DDBA11A").unwrap();
    let changes = CustomerChanges {
        marketing_emails: Some(false),
        notes: Patch::Set("Bulk updated customer".into()),
        tags: Patch::Set(Tags::parse("bulk-updated").unwrap()),
        ..CustomerChanges::default()
    };

    let changed = t
        .repo
        .bulk_update(
            &unpinned(&[b.customer_id.clone(), missing, a.customer_id.clone()]),
            &changes,
        )
        .await
        .unwrap()
        .changed;

    assert_eq!(changed, vec![b.customer_id.clone(), a.customer_id.clone()]);
    for id in [&a.customer_id, &b.customer_id] {
        let c = t.repo.find_by_customer_id(id).await.unwrap().unwrap();
        assert!(!c.marketing_emails);
        assert_eq!(c.notes.as_deref(), Some("Bulk updated customer"));
        assert_eq!(c.tags.to_csv().as_deref(), Some("bulk-updated"));
    }
    let c = t
        .repo
        .find_by_customer_id(&untouched.customer_id)
        .await
        .unwrap();
    assert_eq!(c, Some(untouched));
}

#[tokio::test]
async fn bulk_update_never_writes_an_email() {
    let t = ctx().await;
    let a = person(&t.repo, "Ann", "Lee").await;
    let b = person(&t.repo, "Bob", "Lee").await;
    let changes = CustomerChanges {
        email: Some(Email::parse("same@example.com").unwrap()),
        is_verified: Some(true),
        ..CustomerChanges::default()
    };
    let ids = [a.customer_id.clone(), b.customer_id.clone()];
    assert_eq!(
        t.repo
            .bulk_update(&unpinned(&ids), &changes)
            .await
            .unwrap()
            .changed,
        ids
    );
    for before in [a, b] {
        let after = t
            .repo
            .find_by_customer_id(&before.customer_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(after.email, before.email);
        assert!(after.is_verified);
    }
}

#[tokio::test]
async fn bulk_update_without_changes_reports_the_ids_that_exist() {
    let t = ctx().await;
    let a = person(&t.repo, "Ann", "Lee").await;
    let missing = CustomerId::parse("CUST_00000BAD").unwrap();
    let changed = t
        .repo
        .bulk_update(
            &unpinned(&[missing, a.customer_id.clone()]),
            &CustomerChanges::default(),
        )
        .await
        .unwrap()
        .changed;
    assert_eq!(changed, vec![a.customer_id]);
    assert!(
        t.repo
            .bulk_update(&unpinned(&[]), &CustomerChanges::default())
            .await
            .unwrap()
            .changed
            .is_empty()
    );
}
