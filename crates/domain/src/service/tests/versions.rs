//! Versions: every conditional write passes its precondition to the storage, which checks it
//! in the write; a precondition that does not hold is a version mismatch, nothing written.

use super::*;
use crate::fixtures::john_doe;

const ID: &str = "CUST_A1B2C3D4";

fn id() -> CustomerId {
    CustomerId::parse(ID).unwrap()
}

fn at_version(version: u64) -> Customer {
    Customer {
        version,
        ..john_doe()
    }
}

fn notes(text: &str) -> CustomerPatch {
    CustomerPatch {
        notes: Patch::Set(text.into()),
        ..CustomerPatch::default()
    }
}

#[tokio::test]
async fn a_stale_write_of_each_kind_is_a_version_mismatch_naming_the_current_version() {
    let mut repo = Mocks::default();
    let stale = Precondition::version(1);
    repo.store
        .expect_update()
        .with(eq(id()), mockall::predicate::always(), eq(stale.clone()))
        .returning(|_, _, _| Ok(Written::Stale { current: 3 }));
    repo.store
        .expect_mark_verified()
        .returning(|_, _, _| Ok(Written::Stale { current: 3 }));
    repo.store
        .expect_record_login()
        .returning(|_, _, _| Ok(Written::Stale { current: 3 }));
    repo.store
        .expect_deactivate()
        .with(eq(id()), eq(stale.clone()))
        .returning(|_, _| Ok(Written::Stale { current: 3 }));
    repo.store
        .expect_delete()
        .with(eq(id()), eq(stale.clone()))
        .returning(|_, _| Ok(Written::Stale { current: 3 }));
    let svc = service(repo);
    let mismatch = |r: Result<u64, ServiceError>| {
        assert!(
            matches!(r, Err(ServiceError::VersionMismatch { current: 3 })),
            "{r:?}"
        );
    };
    mismatch(
        svc.update(ID, notes("x"), stale.clone())
            .await
            .map(|c| c.version),
    );
    mismatch(svc.verify_email(ID, stale.clone()).await);
    mismatch(svc.verify_phone(ID, stale.clone()).await);
    mismatch(svc.record_login(ID, stale.clone()).await);
    mismatch(svc.deactivate(ID, stale.clone()).await);
    mismatch(svc.delete(ID, stale).await.map(|()| 0));
}

#[tokio::test]
async fn an_update_with_nothing_to_change_still_holds_its_precondition() {
    let mut repo = Mocks::default();
    repo.store.expect_update().never();
    repo.reads
        .expect_find_by_customer_id()
        .with(eq(id()))
        .times(3)
        .returning(|_| Ok(Some(at_version(4))));
    let svc = service(repo);
    let empty = CustomerPatch::default;
    assert_eq!(
        svc.update(ID, empty(), Precondition::version(4))
            .await
            .unwrap()
            .version,
        4
    );
    assert_eq!(
        svc.update(ID, empty(), Precondition::VersionIn(vec![1, 4]))
            .await
            .unwrap()
            .version,
        4
    );
    assert!(matches!(
        svc.update(ID, empty(), Precondition::version(3)).await,
        Err(ServiceError::VersionMismatch { current: 4 })
    ));
}

#[tokio::test]
async fn an_empty_update_of_a_missing_customer_is_not_found_whatever_the_precondition() {
    let mut repo = Mocks::default();
    // Not erased either: never there.
    repo.reads.expect_erasure().returning(|_| Ok(None));
    repo.reads
        .expect_find_by_customer_id()
        .returning(|_| Ok(None));
    let got = service(repo)
        .update(ID, CustomerPatch::default(), Precondition::version(9))
        .await;
    assert!(matches!(got, Err(ServiceError::NotFound)), "{got:?}");
}

fn bulk_expecting(ids: &[&str], expected: &[(&str, u64)], updates: CustomerPatch) -> BulkUpdate {
    BulkUpdate {
        customer_ids: ids.iter().map(|s| s.to_string()).collect(),
        updates,
        expected_versions: expected.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
    }
}

#[tokio::test]
async fn a_bulk_update_passes_each_expected_version_with_its_id_and_reports_the_stale_ones() {
    let a = CustomerId::parse("CUST_A1B2C3D4").unwrap();
    let b = CustomerId::parse("CUST_B2C3D4E5").unwrap();
    let c = CustomerId::parse("CUST_C3D4E5F6").unwrap();
    let missing = CustomerId::parse("CUST_00000000").unwrap();
    let targets = vec![
        (a.clone(), Some(2)),
        (b.clone(), Some(5)),
        (c.clone(), None),
        (missing, None),
    ];
    let mut repo = Mocks::default();
    let (stale_b, changed) = (b.clone(), vec![a, c]);
    repo.store
        .expect_bulk_update()
        .with(eq(targets), mockall::predicate::always())
        .times(1)
        .returning(move |_, _| {
            Ok(BulkWritten {
                changed: changed.clone(),
                stale: vec![(stale_b.clone(), 6)],
            })
        });
    let report = service(repo)
        .bulk_update(bulk_expecting(
            &[
                "CUST_A1B2C3D4",
                "CUST_B2C3D4E5",
                "CUST_C3D4E5F6",
                "CUST_00000000",
            ],
            // An expected version of an id not in the list changes nothing.
            &[
                ("CUST_A1B2C3D4", 2),
                ("CUST_B2C3D4E5", 5),
                ("CUST_FFFFFFFF", 1),
            ],
            notes("x"),
        ))
        .await
        .unwrap();
    assert_eq!(
        report,
        BulkUpdateReport {
            updated_count: 2,
            failed_updates: vec![
                FailedUpdate {
                    customer_id: "CUST_B2C3D4E5".into(),
                    reason: FailureReason::VersionMismatch { current: 6 },
                },
                FailedUpdate {
                    customer_id: "CUST_00000000".into(),
                    reason: FailureReason::NotFound,
                },
            ],
            total_processed: 4,
        }
    );
}

#[tokio::test]
async fn a_bulk_update_without_changes_compares_the_expected_versions_with_what_it_finds() {
    let mut repo = Mocks::default();
    repo.store.expect_bulk_update().never();
    repo.reads
        .expect_find_by_customer_id()
        .returning(|_| Ok(Some(at_version(3))));
    let report = service(repo)
        .bulk_update(bulk_expecting(
            &["CUST_A1B2C3D4", "CUST_B2C3D4E5", "CUST_C3D4E5F6"],
            &[("CUST_A1B2C3D4", 3), ("CUST_B2C3D4E5", 2)],
            CustomerPatch::default(),
        ))
        .await
        .unwrap();
    assert_eq!(report.updated_count, 2);
    assert_eq!(
        report.failed_updates,
        vec![FailedUpdate {
            customer_id: "CUST_B2C3D4E5".into(),
            reason: FailureReason::VersionMismatch { current: 3 },
        }]
    );
}
