//! Privacy: erased customers are gone (410, not 404) for every use case that names them by
//! id; erasure validates its reason and hands it on; an export is one state of the
//! customer with its whole history, oldest first, and the requests behind it.

use std::collections::BTreeMap;

use super::*;
use crate::models::{CustomerEvent, EventKind, FeedPosition, Gender};

const ID: &str = "CUST_A1B2C3D4";

fn tombstone() -> Tombstone {
    Tombstone {
        customer_id: CustomerId::parse(ID).unwrap(),
        created_at: now(),
        erased_at: now(),
        reason: Some("asked".into()),
        country: Some("USA".into()),
        gender: Some(Gender::Female),
        is_active: true,
        is_verified: false,
        email_verified: true,
        phone_verified: false,
    }
}

/// A repository whose customer `ID` was erased: the other reads and writes do not see it.
fn erased_repo() -> Mocks {
    let mut repo = Mocks::default();
    repo.reads
        .expect_erasure()
        .withf(|id| id.as_str() == ID)
        .returning(|_| Ok(Some(tombstone())));
    repo
}

fn event(id: i64, version: u64, request: Option<&str>) -> CustomerEvent {
    CustomerEvent {
        id,
        position: FeedPosition {
            transaction: 1,
            event: id,
        },
        customer_id: ID.into(),
        kind: EventKind::Updated,
        version,
        occurred_at: now(),
        provenance: Provenance {
            request_id: request.map(str::to_owned),
            ..Provenance::default()
        },
        changes: BTreeMap::new(),
    }
}

fn customer_at(version: u64) -> Customer {
    let mut customer = crate::fixtures::john_doe();
    customer.version = version;
    customer
}

#[tokio::test]
async fn every_use_case_naming_an_erased_customer_by_id_answers_erased() {
    let mut repo = erased_repo();
    repo.reads
        .expect_find_by_customer_id()
        .returning(|_| Ok(None));
    repo.store
        .expect_update()
        .returning(|_, _, _| Ok(Written::Missing));
    repo.store
        .expect_mark_verified()
        .returning(|_, _, _| Ok(Written::Missing));
    repo.store
        .expect_record_login()
        .returning(|_, _, _| Ok(Written::Missing));
    repo.store
        .expect_deactivate()
        .returning(|_, _| Ok(Written::Missing));
    repo.store
        .expect_delete()
        .returning(|_, _| Ok(Written::Missing));
    let svc = service(repo);
    let notes = CustomerPatch {
        notes: Patch::Set("x".into()),
        ..CustomerPatch::default()
    };
    let any = Precondition::Any;
    let results = [
        svc.get(ID).await.map(drop),
        svc.update(ID, notes, any.clone()).await.map(drop),
        svc.update(ID, CustomerPatch::default(), any.clone())
            .await
            .map(drop),
        svc.verify_email(ID, any.clone()).await.map(drop),
        svc.verify_phone(ID, any.clone()).await.map(drop),
        svc.record_login(ID, any.clone()).await.map(drop),
        svc.deactivate(ID, any.clone()).await.map(drop),
        svc.delete(ID, any.clone()).await,
        svc.export(ID).await.map(drop),
    ];
    for result in results {
        assert!(matches!(result, Err(ServiceError::Erased)), "{result:?}");
    }
}

#[tokio::test]
async fn a_failing_erasure_lookup_is_the_storage_error_not_a_guess() {
    let mut repo = Mocks::default();
    repo.reads
        .expect_find_by_customer_id()
        .returning(|_| Ok(None));
    repo.reads
        .expect_erasure()
        .returning(|_| Err(RepositoryError::Unavailable("pool".into())));
    let err = service(repo).get(ID).await.unwrap_err();
    assert!(matches!(err, ServiceError::Unavailable(msg) if msg == "pool"));
}

#[tokio::test]
async fn lookups_by_email_or_username_never_tell_an_erased_customer_apart() {
    // No erasure expectation: asking would panic.
    let mut repo = Mocks::default();
    repo.reads.expect_find_by_email().returning(|_| Ok(None));
    repo.reads.expect_find_by_username().returning(|_| Ok(None));
    let svc = service(repo);
    assert!(matches!(
        svc.get_by_email("gone@example.com").await,
        Err(ServiceError::NotFound)
    ));
    assert!(matches!(
        svc.get_by_username("gone").await,
        Err(ServiceError::NotFound)
    ));
}

#[tokio::test]
async fn erase_hands_the_trimmed_reason_to_the_storage_and_returns_the_tombstone() {
    let mut repo = Mocks::default();
    repo.store
        .expect_erase()
        .withf(|id, reason| {
            id.as_str() == ID && reason.as_ref().map(ErasureReason::as_str) == Some("asked")
        })
        .times(1)
        .returning(|_, _| Ok(Some(tombstone())));
    repo.store
        .expect_erase()
        .withf(|_, reason| reason.is_none())
        .times(1)
        .returning(|_, _| Ok(Some(tombstone())));
    // Results kept from before each erasure may hold the erased values.
    repo.search.expect_forget_erased().times(2).returning(|| ());
    let svc = service(repo);
    assert_eq!(
        svc.erase("CUST_a1b2c3d4", Some("  asked ".into()))
            .await
            .unwrap(),
        tombstone()
    );
    assert_eq!(svc.erase(ID, Some(" ".into())).await.unwrap(), tombstone());
}

#[tokio::test]
async fn an_erasure_that_failed_leaves_the_search_results_kept() {
    let mut repo = Mocks::default();
    repo.store
        .expect_erase()
        .times(1)
        .returning(|_, _| Err(RepositoryError::Unavailable("down".into())));
    // No expectation on the search port: a call to forget fails the test.
    let err = service(repo).erase(ID, None).await.unwrap_err();
    assert!(matches!(err, ServiceError::Unavailable(_)), "{err:?}");
}

#[tokio::test]
async fn erase_of_an_unknown_or_malformed_id_is_not_found() {
    let mut repo = Mocks::default();
    repo.store
        .expect_erase()
        .times(1)
        .returning(|_, _| Ok(None));
    // An id deleted for good may still be in results kept from before it was.
    repo.search.expect_forget_erased().times(1).returning(|| ());
    let svc = service(repo);
    assert!(matches!(
        svc.erase(ID, None).await,
        Err(ServiceError::NotFound)
    ));
    assert!(matches!(
        svc.erase("CUST_XYZ", None).await,
        Err(ServiceError::NotFound)
    ));
}

#[tokio::test]
async fn an_invalid_reason_is_refused_before_anything_is_erased() {
    let svc = service(Mocks::default());
    let long = "r".repeat(ErasureReason::MAX_LEN + 1);
    let err = svc.erase(ID, Some(long)).await.unwrap_err();
    assert_eq!(
        violations(err),
        [("reason".to_owned(), Rule::MaxLength(ErasureReason::MAX_LEN))]
    );
    let err = svc.erase(ID, Some("a\tb".into())).await.unwrap_err();
    assert_eq!(
        violations(err),
        [("reason".to_owned(), Rule::ControlCharacters)]
    );
}

#[tokio::test]
async fn an_export_pages_through_the_whole_history_and_lists_it_oldest_first() {
    let mut repo = Mocks::default();
    repo.reads
        .expect_find_by_customer_id()
        .times(1)
        .returning(|_| Ok(Some(customer_at(1002))));
    // 1,002 events, newest first, served 1,000 at a time.
    let newest_first: Vec<CustomerEvent> = (1..=1002)
        .rev()
        .map(|id| {
            event(
                id,
                id as u64,
                Some(if id % 2 == 0 { "even" } else { "odd" }),
            )
        })
        .collect();
    let pages = newest_first.clone();
    repo.history
        .expect_timeline()
        .times(2)
        .returning(move |_, query| {
            assert_eq!(query.limit, TimelineQuery::MAX_LIMIT);
            let start = match query.before {
                None => 0,
                Some(before) => pages
                    .iter()
                    .position(|e| e.id < before)
                    .unwrap_or(pages.len()),
            };
            Ok(Some(
                pages[start..]
                    .iter()
                    .take(query.limit as usize)
                    .cloned()
                    .collect(),
            ))
        });
    let export = service(repo).export(ID).await.unwrap();
    assert_eq!(export.customer, customer_at(1002));
    assert_eq!(export.exported_at, now());
    let ids: Vec<i64> = export.events.iter().map(|e| e.id).collect();
    assert_eq!(ids, (1..=1002).collect::<Vec<_>>());
    let requests: Vec<(&str, usize)> = export
        .requests
        .iter()
        .map(|r| (r.request_id.as_str(), r.events.len()))
        .collect();
    assert_eq!(requests, [("odd", 501), ("even", 501)]);
}

#[tokio::test]
async fn an_export_reads_again_when_the_customer_changed_between_its_two_reads() {
    let mut repo = Mocks::default();
    let mut version = 1;
    repo.reads
        .expect_find_by_customer_id()
        .times(2)
        .returning(move |_| {
            version += 1;
            Ok(Some(customer_at(version)))
        });
    // The history already holds version 3 when the customer read said 2.
    repo.history
        .expect_timeline()
        .times(2)
        .returning(|_, _| Ok(Some(vec![event(3, 3, None), event(2, 2, None)])));
    let export = service(repo).export(ID).await.unwrap();
    assert_eq!(export.customer.version, 3);
    assert_eq!(export.events.len(), 2);
    assert!(export.requests.is_empty());
}

#[tokio::test]
async fn an_export_of_a_customer_that_keeps_changing_gives_up_as_unavailable() {
    let mut repo = Mocks::default();
    repo.reads
        .expect_find_by_customer_id()
        .times(MAX_EXPORT_ATTEMPTS)
        .returning(|_| Ok(Some(customer_at(1))));
    repo.history
        .expect_timeline()
        .times(MAX_EXPORT_ATTEMPTS)
        .returning(|_, _| Ok(Some(vec![event(2, 2, None)])));
    let err = service(repo).export(ID).await.unwrap_err();
    assert!(matches!(err, ServiceError::Unavailable(_)), "{err:?}");
}

#[tokio::test]
async fn an_export_of_a_customer_without_events_has_an_empty_history() {
    let mut repo = Mocks::default();
    repo.reads
        .expect_find_by_customer_id()
        .returning(|_| Ok(Some(customer_at(4))));
    repo.history
        .expect_timeline()
        .times(1)
        .returning(|_, _| Ok(None));
    let export = service(repo).export(ID).await.unwrap();
    assert!(export.events.is_empty());
}

#[tokio::test]
async fn an_export_of_an_unknown_or_malformed_id_is_not_found() {
    let mut repo = Mocks::default();
    repo.reads
        .expect_find_by_customer_id()
        .returning(|_| Ok(None));
    repo.reads.expect_erasure().returning(|_| Ok(None));
    let svc = service(repo);
    assert!(matches!(svc.export(ID).await, Err(ServiceError::NotFound)));
    assert!(matches!(
        svc.export("nope").await,
        Err(ServiceError::NotFound)
    ));
}
