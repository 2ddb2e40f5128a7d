//! Bulk updates: per-id reports, what cannot change.

use super::*;

fn bulk(ids: &[&str], updates: CustomerPatch) -> BulkUpdate {
    BulkUpdate {
        customer_ids: ids.iter().map(|s| s.to_string()).collect(),
        updates,
        expected_versions: Default::default(),
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
    let mut repo = Mocks::default();
    repo.store
        .expect_bulk_update()
        .withf(|ids, _| ids.len() == 2)
        .times(1)
        .returning(|ids, _| {
            Ok(BulkWritten {
                changed: vec![ids[0].0.clone()],
                stale: vec![],
            })
        });
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
            .all(|f| f.reason == crate::models::FailureReason::NotFound)
    );
}

#[tokio::test]
async fn bulk_update_counts_a_repeated_id_once() {
    let mut repo = Mocks::default();
    repo.store
        .expect_bulk_update()
        .withf(|ids, _| ids.len() == 1)
        .returning(|targets, _| Ok(all_changed(targets)));
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
        service(Mocks::default())
            .bulk_update(bulk(&["CUST_A1B2C3D4"], updates))
            .await
            .unwrap_err(),
    );
    assert_eq!(got, vec![("updates.email".into(), Rule::NotInBulkUpdate)]);
}

#[tokio::test]
async fn bulk_update_validates_the_changes_with_their_path() {
    let updates = CustomerPatch {
        phone: Patch::Set("abc".into()),
        ..CustomerPatch::default()
    };
    let got = violations(
        service(Mocks::default())
            .bulk_update(bulk(&["CUST_A1B2C3D4"], updates))
            .await
            .unwrap_err(),
    );
    assert_eq!(got, vec![("updates.phone".into(), Rule::PhoneCharacters)]);
}

#[tokio::test]
async fn bulk_update_needs_between_1_and_1000_ids() {
    let svc = service(Mocks::default());
    assert!(svc.bulk_update(bulk(&[], notes_patch())).await.is_err());
    let many: Vec<String> = (0..=BulkUpdate::MAX_IDS)
        .map(|i| format!("CUST_{i:08X}"))
        .collect();
    let request = BulkUpdate {
        customer_ids: many,
        updates: notes_patch(),
        expected_versions: Default::default(),
    };
    assert!(matches!(
        svc.bulk_update(request).await,
        Err(ServiceError::Validation(_))
    ));
}

#[tokio::test]
async fn no_ids_and_1001_ids_break_the_count_rule() {
    let svc = service(Mocks::default());
    let count = vec![("customer_ids".to_owned(), Rule::Count { min: 1, max: 1000 })];
    let none = svc.bulk_update(bulk(&[], notes_patch())).await.unwrap_err();
    assert_eq!(violations(none), count);
    let request = BulkUpdate {
        customer_ids: (0..=1000).map(|i| format!("CUST_{i:08X}")).collect(),
        updates: notes_patch(),
        expected_versions: Default::default(),
    };
    assert_eq!(
        violations(svc.bulk_update(request).await.unwrap_err()),
        count
    );
}

#[tokio::test]
async fn bulk_update_accepts_exactly_1000_ids_and_passes_them_and_the_changes_on() {
    let ids: Vec<String> = (0..BulkUpdate::MAX_IDS)
        .map(|i| format!("CUST_{i:08X}"))
        .collect();
    let expected: Vec<(CustomerId, Option<u64>)> = ids
        .iter()
        .map(|s| (CustomerId::parse(s).unwrap(), None))
        .collect();
    let changes = CustomerChanges {
        notes: Patch::Set("Bulk updated customer".into()),
        marketing_emails: Some(false),
        ..CustomerChanges::default()
    };
    let mut repo = Mocks::default();
    repo.store
        .expect_bulk_update()
        .with(eq(expected), eq(changes))
        .times(1)
        .returning(|targets, _| Ok(all_changed(targets)));
    let request = BulkUpdate {
        customer_ids: ids,
        updates: notes_patch(),
        expected_versions: Default::default(),
    };
    let report = service(repo).bulk_update(request).await.unwrap();
    assert_eq!(
        report,
        BulkUpdateReport {
            updated_count: 1000,
            failed_updates: vec![],
            total_processed: 1000,
        }
    );
}

#[tokio::test]
async fn bulk_update_cannot_clear_email_either() {
    let updates = CustomerPatch {
        email: Patch::Clear,
        ..notes_patch()
    };
    let got = violations(
        service(Mocks::default())
            .bulk_update(bulk(&["CUST_A1B2C3D4"], updates))
            .await
            .unwrap_err(),
    );
    assert_eq!(got, vec![("updates.email".into(), Rule::NotInBulkUpdate)]);
}

#[tokio::test]
async fn a_bulk_update_without_changes_reports_which_customers_exist() {
    let a = CustomerId::parse("CUST_A1B2C3D4").unwrap();
    let b = CustomerId::parse("CUST_B2C3D4E5").unwrap();
    let mut repo = Mocks::default();
    repo.store.expect_bulk_update().never();
    repo.reads
        .expect_find_by_customer_id()
        .with(eq(a))
        .times(1)
        .returning(|_| Ok(Some(crate::fixtures::john_doe())));
    repo.reads
        .expect_find_by_customer_id()
        .with(eq(b))
        .times(1)
        .returning(|_| Ok(None));
    let report = service(repo)
        .bulk_update(bulk(
            &["CUST_A1B2C3D4", "CUST_B2C3D4E5", "nope"],
            CustomerPatch::default(),
        ))
        .await
        .unwrap();
    let failed = |id: &str| FailedUpdate {
        customer_id: id.into(),
        reason: FailureReason::NotFound,
    };
    assert_eq!(
        report,
        BulkUpdateReport {
            updated_count: 1,
            failed_updates: vec![failed("nope"), failed("CUST_B2C3D4E5")],
            total_processed: 3,
        }
    );
}

#[tokio::test]
async fn a_failing_repository_fails_the_bulk_update() {
    let mut repo = Mocks::default();
    repo.store
        .expect_bulk_update()
        .times(1)
        .returning(|_, _| Err(RepositoryError::Unavailable("down".into())));
    let err = service(repo)
        .bulk_update(bulk(&["CUST_A1B2C3D4"], notes_patch()))
        .await
        .unwrap_err();
    assert!(matches!(err, ServiceError::Unavailable(_)));
}
