//! History: the timeline's not-found rule and paging, the feed's wait loop, and attribution
//! reaching the storage.

use std::collections::BTreeMap;
use std::time::Duration;

use super::*;
use crate::models::{CustomerEvent, EventKind, FeedPosition, FieldChange, FieldValue};

const ID: &str = "CUST_A1B2C3D4";

fn event(id: i64, transaction: u64) -> CustomerEvent {
    CustomerEvent {
        id,
        position: FeedPosition {
            transaction,
            event: id,
        },
        customer_id: ID.into(),
        kind: EventKind::Updated,
        version: 2,
        occurred_at: now(),
        provenance: Provenance::default(),
        changes: BTreeMap::from([(
            "notes".to_owned(),
            FieldChange {
                from: FieldValue::Null,
                to: FieldValue::Text("x".into()),
            },
        )]),
    }
}

fn feed_query(after: Option<FeedPosition>, wait: Duration) -> FeedQuery {
    FeedQuery {
        after,
        limit: 10,
        kinds: vec![EventKind::Created],
        wait,
    }
}

/// A clock that moves on by `step` at every reading, from [`now`].
fn ticking(step: chrono::Duration) -> MockClock {
    let mut clock = MockClock::new();
    let mut at = now();
    clock.expect_now().returning(move || {
        let was = at;
        at += step;
        was
    });
    clock
}

#[tokio::test]
async fn a_timeline_of_a_customer_that_never_existed_or_a_malformed_id_is_not_found() {
    let mut repo = Mocks::default();
    repo.history
        .expect_timeline()
        .times(1)
        .returning(|_, _| Ok(None));
    let svc = service(repo);
    let page = TimelineQuery {
        limit: 5,
        before: None,
    };
    assert!(matches!(
        svc.timeline(ID, page).await,
        Err(ServiceError::NotFound)
    ));
    // Never reaches the storage.
    assert!(matches!(
        svc.timeline("nope", page).await,
        Err(ServiceError::NotFound)
    ));
}

#[tokio::test]
async fn a_full_timeline_page_points_to_the_next_and_a_short_one_ends_it() {
    let mut repo = Mocks::default();
    let asked = TimelineQuery {
        limit: 2,
        before: Some(9),
    };
    repo.history
        .expect_timeline()
        .with(eq(CustomerId::parse(ID).unwrap()), eq(asked))
        .times(1)
        .returning(|_, _| Ok(Some(vec![event(8, 1), event(5, 1)])));
    repo.history
        .expect_timeline()
        .with(
            eq(CustomerId::parse(ID).unwrap()),
            eq(TimelineQuery {
                limit: 2,
                before: Some(5),
            }),
        )
        .times(1)
        .returning(|_, _| Ok(Some(vec![event(3, 1)])));
    let svc = service(repo);
    let first = svc.timeline(ID, asked).await.unwrap();
    assert_eq!(first.next_before, Some(5));
    let last = svc
        .timeline(
            ID,
            TimelineQuery {
                limit: 2,
                before: first.next_before,
            },
        )
        .await
        .unwrap();
    assert_eq!(last.events, vec![event(3, 1)]);
    assert_eq!(last.next_before, None);
}

#[tokio::test]
async fn the_feed_answers_at_once_with_events_and_goes_on_from_the_last() {
    let mut repo = Mocks::default();
    let after = FeedPosition {
        transaction: 7,
        event: 1,
    };
    repo.history
        .expect_feed()
        .with(eq(Some(after)), eq(10), eq(vec![EventKind::Created]))
        .times(1)
        .returning(|_, _, _| Ok(FeedRead::Events(vec![event(4, 8), event(5, 9)])));
    repo.history.expect_await_events().never();
    let page = service(repo)
        .feed(feed_query(Some(after), Duration::from_secs(30)))
        .await
        .unwrap();
    assert_eq!(page.events.len(), 2);
    assert_eq!(
        page.next,
        Some(FeedPosition {
            transaction: 9,
            event: 5
        })
    );
}

#[tokio::test]
async fn an_empty_feed_without_wait_answers_at_once_where_it_was_asked_from() {
    let mut repo = Mocks::default();
    repo.history
        .expect_feed()
        .times(1)
        .returning(|_, _, _| Ok(FeedRead::Events(Vec::new())));
    repo.history.expect_await_events().never();
    let after = FeedPosition {
        transaction: 3,
        event: 2,
    };
    let page = service(repo)
        .feed(feed_query(Some(after), Duration::ZERO))
        .await
        .unwrap();
    assert_eq!(
        page,
        FeedPage {
            events: Vec::new(),
            next: Some(after)
        }
    );
}

#[tokio::test]
async fn a_waiting_feed_reads_again_after_each_wake_up_until_an_event_shows() {
    let mut repo = Mocks::default();
    let mut reads = 0;
    repo.history
        .expect_feed()
        .times(3)
        .returning(move |_, _, _| {
            reads += 1;
            Ok(FeedRead::Events(if reads < 3 {
                Vec::new()
            } else {
                vec![event(1, 1)]
            }))
        });
    // At most what is left of the wait: 10 s, less a second per reading of the clock.
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&seen);
    repo.history
        .expect_await_events()
        .times(2)
        .returning(move |at_most| record.lock().unwrap().push(at_most));
    let svc = CustomerService::with_sources(
        repo,
        ticking(chrono::Duration::seconds(1)),
        ids(),
        suffixes(),
    );
    let page = svc
        .feed(feed_query(None, Duration::from_secs(10)))
        .await
        .unwrap();
    assert_eq!(page.events, vec![event(1, 1)]);
    assert_eq!(
        *seen.lock().unwrap(),
        vec![Duration::from_secs(9), Duration::from_secs(8)]
    );
}

#[tokio::test]
async fn a_waiting_feed_gives_up_empty_when_the_wait_is_over() {
    let mut repo = Mocks::default();
    repo.history
        .expect_feed()
        .times(2)
        .returning(|_, _, _| Ok(FeedRead::Events(Vec::new())));
    repo.history.expect_await_events().times(1).return_const(());
    // Each reading of the clock is 3 s later: 5 s of wait are over at the second reading.
    let svc = CustomerService::with_sources(
        repo,
        ticking(chrono::Duration::seconds(3)),
        ids(),
        suffixes(),
    );
    let page = svc
        .feed(feed_query(None, Duration::from_secs(5)))
        .await
        .unwrap();
    assert_eq!(
        page,
        FeedPage {
            events: Vec::new(),
            next: None
        }
    );
}

#[tokio::test]
async fn a_purged_position_is_its_own_error() {
    let mut repo = Mocks::default();
    repo.history
        .expect_feed()
        .returning(|_, _, _| Ok(FeedRead::Purged));
    let result = service(repo)
        .feed(feed_query(None, Duration::from_secs(5)))
        .await;
    assert!(
        matches!(result, Err(ServiceError::FeedPositionPurged)),
        "{result:?}"
    );
}

/// One request's context: clones of it share its read affinity, and so compare equal.
fn context() -> RequestContext {
    static CONTEXT: std::sync::LazyLock<RequestContext> =
        std::sync::LazyLock::new(|| RequestContext {
            provenance: Provenance {
                actor: Some("alice".into()),
                request_id: Some("req-1".into()),
                idempotency_key: Some("key-1".into()),
            },
            consistency_token: Some("0/16B3D48".into()),
            affinity: crate::models::ReadAffinity::default(),
        });
    CONTEXT.clone()
}

/// Mocks whose ports, scoped to `context()`, are the ones `scoped` sets up; the unscoped
/// ones expect nothing but the scoping itself, unless the test adds more.
fn scoping(scoped: impl FnOnce(&mut Mocks) + Send + 'static) -> Mocks {
    let mut repo = Mocks::default();
    let mut inner = Mocks::default();
    scoped(&mut inner);
    let Storage {
        store,
        reads,
        search,
        history,
        ..
    } = inner;
    let (store, reads, search, history) = (
        Mutex::new(Some(store)),
        Mutex::new(Some(reads)),
        Mutex::new(Some(search)),
        Mutex::new(Some(history)),
    );
    repo.store
        .expect_attributed()
        .with(eq(context().provenance))
        .times(1)
        .returning(move |_| store.lock().unwrap().take().unwrap());
    repo.reads
        .expect_for_request()
        .with(eq(context()))
        .times(1)
        .returning(move |_| reads.lock().unwrap().take().unwrap());
    repo.search
        .expect_for_request()
        .with(eq(context()))
        .times(1)
        .returning(move |_| search.lock().unwrap().take().unwrap());
    repo.history
        .expect_for_request()
        .with(eq(context()))
        .times(1)
        .returning(move |_| history.lock().unwrap().take().unwrap());
    repo
}

#[tokio::test]
async fn a_requests_writes_go_through_the_store_attributed_with_its_provenance() {
    let mut repo = scoping(|scoped| {
        scoped
            .store
            .expect_deactivate()
            .times(1)
            .returning(|_, _| Ok(Written::Done(4)));
    });
    repo.store.expect_deactivate().never();
    let svc = service(repo).for_request(context());
    assert_eq!(svc.deactivate(ID, Precondition::Any).await.unwrap(), 4);
}

#[tokio::test]
async fn a_requests_reads_searches_and_timelines_go_through_its_scope() {
    let mut repo = scoping(|scoped| {
        scoped
            .reads
            .expect_find_by_customer_id()
            .times(1)
            .returning(|_| Ok(Some(crate::fixtures::john_doe())));
        scoped
            .search
            .expect_search()
            .times(1)
            .returning(|_| Ok(CustomerPage::default()));
        scoped
            .history
            .expect_timeline()
            .times(1)
            .returning(|_, _| Ok(Some(vec![])));
    });
    repo.reads.expect_find_by_customer_id().never();
    repo.search.expect_search().never();
    repo.history.expect_timeline().never();
    let svc = service(repo).for_request(context());
    svc.get(ID).await.unwrap();
    svc.search(SearchCriteria::default()).await.unwrap();
    let query = TimelineQuery {
        limit: 10,
        before: None,
    };
    svc.timeline(ID, query).await.unwrap();
}

/// What a write decides on must include every committed write, whatever the request's
/// scope allows its reads: the customer a change without changes answers, and why a write
/// found no customer.
#[tokio::test]
async fn the_reads_a_write_makes_see_every_committed_write_not_the_requests_scope() {
    let mut repo = scoping(|scoped| {
        scoped.reads.expect_find_by_customer_id().never();
        scoped.reads.expect_erasure().never();
        scoped
            .store
            .expect_deactivate()
            .times(1)
            .returning(|_, _| Ok(Written::Missing));
    });
    repo.reads
        .expect_find_by_customer_id()
        .times(1)
        .returning(|_| Ok(Some(crate::fixtures::john_doe())));
    repo.reads.expect_erasure().times(1).returning(|_| Ok(None));
    let svc = service(repo).for_request(context());
    let unchanged = svc
        .update(ID, CustomerPatch::default(), Precondition::Any)
        .await
        .unwrap();
    assert_eq!(unchanged.customer_id.as_str(), "CUST_A1B2C3D4");
    assert!(matches!(
        svc.deactivate(ID, Precondition::Any).await,
        Err(ServiceError::NotFound)
    ));
}
