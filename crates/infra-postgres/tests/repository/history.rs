//! The change history: every write path records exactly its event (none for a no-op), in
//! the write's transaction; the timeline; the feed's order under the classic outbox race;
//! retention.

use std::time::Duration;

use chrono::Utc;
use domain::{
    CustomerChanges, CustomerEvent, CustomerHistory, CustomerId, CustomerReads, CustomerStore,
    EventKind, FeedPosition, FeedRead, FieldChange, FieldValue, Patch, Precondition, Provenance,
    TimelineQuery, Verification, Written,
};
use infra_postgres::{PgTransaction, feed_lag, purge_events};

use crate::support::{Ctx, ctx, draft, insert, person};

fn notes(text: &str) -> CustomerChanges {
    CustomerChanges {
        notes: Patch::Set(text.into()),
        ..CustomerChanges::default()
    }
}

fn newest(limit: u32) -> TimelineQuery {
    TimelineQuery {
        limit,
        before: None,
    }
}

async fn timeline(repo: &impl CustomerHistory, id: &CustomerId) -> Vec<CustomerEvent> {
    repo.timeline(id, &newest(1000)).await.unwrap().unwrap()
}

fn change(from: FieldValue, to: FieldValue) -> FieldChange {
    FieldChange { from, to }
}

fn text(value: &str) -> FieldValue {
    FieldValue::Text(value.into())
}

/// Reads the feed from `after` until `expected` events came: the feed serves an event only
/// once every older transaction on the server has ended, and other tests run beside this
/// one. After [`test_db::HORIZON_WAIT`] it fails, naming who holds the horizon.
async fn follow(t: &Ctx, after: Option<FeedPosition>, expected: usize) -> Vec<CustomerEvent> {
    let mut seen = Vec::new();
    let mut cursor = after;
    let deadline = std::time::Instant::now() + test_db::HORIZON_WAIT;
    loop {
        match t.repo.feed(cursor, 1000, &[]).await.unwrap() {
            FeedRead::Events(events) => {
                if let Some(last) = events.last() {
                    cursor = Some(last.position);
                }
                seen.extend(events);
            }
            FeedRead::Purged => panic!("purged"),
        }
        if seen.len() >= expected {
            return seen;
        }
        if std::time::Instant::now() > deadline {
            panic!(
                "{} of {expected} events served; {}",
                seen.len(),
                test_db::horizon_holders(t.db.url()).await
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn each_write_path_records_exactly_its_event_with_who_and_what_and_a_no_op_nothing() {
    let t = ctx().await;
    let who = Provenance {
        actor: Some("alice".into()),
        request_id: Some("req-1".into()),
        idempotency_key: Some("key-1".into()),
    };
    let repo = t.repo.attributed(&who);
    let any = Precondition::Any;
    let c = insert(&repo, &draft("Ann", "Lee", "ann@history.example")).await;
    let id = &c.customer_id;

    let updated = repo.update(id, &notes("hello"), &any).await.unwrap();
    assert!(matches!(updated, Written::Done(_)));
    // The same value again changes nothing: no event.
    repo.update(id, &notes("hello"), &any).await.unwrap();
    let targets = [(id.clone(), None)];
    repo.bulk_update(&targets, &notes("bulk")).await.unwrap();
    repo.mark_verified(id, Verification::Email, &any)
        .await
        .unwrap();
    repo.mark_verified(id, Verification::Email, &any)
        .await
        .unwrap();
    repo.mark_verified(id, Verification::Phone, &any)
        .await
        .unwrap();
    let login = Utc::now();
    repo.record_login(id, login, &any).await.unwrap();
    repo.deactivate(id, &any).await.unwrap();
    repo.deactivate(id, &any).await.unwrap();
    // A stale write records nothing either.
    let stale = repo
        .update(id, &notes("x"), &Precondition::version(1))
        .await;
    assert!(
        matches!(stale, Ok(Written::Stale { current: 7 })),
        "{stale:?}"
    );
    repo.delete(id, &any).await.unwrap();

    let events = timeline(&t.repo, id).await;
    let kinds: Vec<EventKind> = events.iter().rev().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        vec![
            EventKind::Created,
            EventKind::Updated,
            EventKind::BulkUpdated,
            EventKind::EmailVerified,
            EventKind::PhoneVerified,
            EventKind::LoggedIn,
            EventKind::Deactivated,
            EventKind::Deleted,
        ]
    );
    // Versions after each change, the deleted event carrying the last one.
    let versions: Vec<u64> = events.iter().rev().map(|e| e.version).collect();
    assert_eq!(versions, vec![1, 2, 3, 4, 5, 6, 7, 7]);
    for event in &events {
        assert_eq!(event.provenance, who, "{event:?}");
        assert_eq!(event.customer_id, id.as_str());
    }
    let by_kind = |kind| events.iter().find(|e| e.kind == kind).unwrap();
    let created = &by_kind(EventKind::Created).changes;
    assert_eq!(
        created["email"],
        change(FieldValue::Null, text("ann@history.example"))
    );
    assert_eq!(
        created["customer_id"],
        change(FieldValue::Null, text(id.as_str()))
    );
    assert_eq!(
        created["is_active"],
        change(FieldValue::Null, FieldValue::Bool(true))
    );
    assert!(
        !created.contains_key("phone"),
        "unset fields are left out: {created:?}"
    );
    assert!(!created.contains_key("version") && !created.contains_key("search_text"));
    assert_eq!(
        by_kind(EventKind::Updated).changes,
        [("notes".to_owned(), change(FieldValue::Null, text("hello")))].into()
    );
    assert_eq!(
        by_kind(EventKind::BulkUpdated).changes,
        [("notes".to_owned(), change(text("hello"), text("bulk")))].into()
    );
    assert_eq!(
        by_kind(EventKind::EmailVerified).changes,
        [(
            "email_verified".to_owned(),
            change(FieldValue::Bool(false), FieldValue::Bool(true))
        )]
        .into()
    );
    let logged_in = &by_kind(EventKind::LoggedIn).changes["last_login_at"];
    assert_eq!(logged_in.from, FieldValue::Null);
    assert!(
        matches!(logged_in.to, FieldValue::Timestamp(at) if (at - login).num_milliseconds().abs() < 1),
        "{logged_in:?}"
    );
    assert_eq!(
        by_kind(EventKind::Deactivated).changes,
        [(
            "is_active".to_owned(),
            change(FieldValue::Bool(true), FieldValue::Bool(false))
        )]
        .into()
    );
    // The deleted event survives the row, with the values it had.
    let deleted = &by_kind(EventKind::Deleted).changes;
    assert_eq!(deleted["notes"], change(text("bulk"), FieldValue::Null));
    assert_eq!(
        deleted["email_verified"],
        change(FieldValue::Bool(true), FieldValue::Null)
    );
    assert_eq!(t.repo.find_by_customer_id(id).await.unwrap(), None);
}

#[tokio::test]
async fn a_write_without_attribution_records_nulls_and_a_bulk_update_one_event_per_customer() {
    let t = ctx().await;
    let a = person(&t.repo, "Ann", "Lee").await;
    let b = person(&t.repo, "Bob", "Ray").await;
    let missing = crate::support::next_customer_id();
    let targets = [
        (a.customer_id.clone(), None),
        (missing, None),
        (b.customer_id.clone(), Some(1)),
    ];
    let report = t.repo.bulk_update(&targets, &notes("n")).await.unwrap();
    assert_eq!(report.changed.len(), 2);
    for c in [&a, &b] {
        let events = timeline(&t.repo, &c.customer_id).await;
        assert_eq!(events.len(), 2, "{events:?}");
        assert_eq!(events[0].kind, EventKind::BulkUpdated);
        assert_eq!(events[0].provenance, Provenance::default());
    }
}

#[tokio::test]
async fn an_operators_sql_is_recorded_too_as_an_update_without_attribution() {
    let t = ctx().await;
    let c = person(&t.repo, "Ann", "Lee").await;
    let mut conn = t.repo.pool().get().await.unwrap();
    diesel_async::RunQueryDsl::execute(
        diesel::sql_query("UPDATE customers SET city = 'Oslo' WHERE customer_id = $1")
            .bind::<diesel::sql_types::Text, _>(c.customer_id.as_str()),
        &mut *conn,
    )
    .await
    .unwrap();
    let events = timeline(&t.repo, &c.customer_id).await;
    assert_eq!(events[0].kind, EventKind::Updated);
    assert_eq!(
        events[0].changes,
        [("city".to_owned(), change(FieldValue::Null, text("Oslo")))].into()
    );
    assert_eq!(events[0].provenance, Provenance::default());
}

#[tokio::test]
async fn a_rolled_back_write_leaves_no_event_and_a_committed_one_its_event() {
    let t = ctx().await;
    let pool = t.repo.pool().clone();
    let (tx, repo) = PgTransaction::begin(&pool).await.unwrap();
    let gone = insert(&repo, &draft("Ann", "Lee", "gone@history.example")).await;
    tx.rollback().await.unwrap();
    assert_eq!(
        t.repo
            .timeline(&gone.customer_id, &newest(10))
            .await
            .unwrap(),
        None
    );
    let (tx, repo) = PgTransaction::begin(&pool).await.unwrap();
    let kept = insert(
        &repo.attributed(&Provenance {
            idempotency_key: Some("k".into()),
            ..Provenance::default()
        }),
        &draft("Bob", "Lee", "kept@history.example"),
    )
    .await;
    tx.commit().await.unwrap();
    let events = timeline(&t.repo, &kept.customer_id).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].provenance.idempotency_key.as_deref(), Some("k"));
}

#[tokio::test]
async fn a_timeline_pages_newest_first_and_is_none_only_for_a_customer_never_seen() {
    let t = ctx().await;
    let c = person(&t.repo, "Ann", "Lee").await;
    let id = &c.customer_id;
    for n in 0..4 {
        t.repo
            .update(id, &notes(&n.to_string()), &Precondition::Any)
            .await
            .unwrap();
    }
    let first = t.repo.timeline(id, &newest(3)).await.unwrap().unwrap();
    let versions: Vec<u64> = first.iter().map(|e| e.version).collect();
    assert_eq!(versions, vec![5, 4, 3]);
    let rest = t
        .repo
        .timeline(
            id,
            &TimelineQuery {
                limit: 3,
                before: Some(first[2].id),
            },
        )
        .await
        .unwrap()
        .unwrap();
    let versions: Vec<u64> = rest.iter().map(|e| e.version).collect();
    assert_eq!(versions, vec![2, 1]);
    // Past the end: an empty page, not a missing customer.
    let past = TimelineQuery {
        limit: 3,
        before: Some(rest[1].id),
    };
    assert_eq!(t.repo.timeline(id, &past).await.unwrap(), Some(Vec::new()));
    let never = crate::support::next_customer_id();
    assert_eq!(t.repo.timeline(&never, &newest(3)).await.unwrap(), None);
    // Deleted for good: the events remain readable.
    t.repo.delete(id, &Precondition::Any).await.unwrap();
    assert_eq!(timeline(&t.repo, id).await.len(), 6);
}

/// The classic outbox race: A takes its event id first and commits last; B commits in
/// between. A reader polling throughout gets both, A's first, each once; and meanwhile the
/// lag shows B waiting.
#[tokio::test]
async fn the_feed_never_skips_an_event_that_commits_after_a_later_one() {
    let t = ctx().await;
    let pool = t.repo.pool().clone();
    let a = person(&t.repo, "Ann", "Early").await;
    let start = follow(&t, None, 1).await.last().map(|e| e.position);
    // A changes notes, which no aggregate counts: a create would hold the aggregates' row
    // locks until A commits, and B's create could wait for one of them.
    let (a_tx, a_repo) = PgTransaction::begin(&pool).await.unwrap();
    let changed = a_repo
        .update(&a.customer_id, &notes("early"), &Precondition::Any)
        .await
        .unwrap();
    assert!(matches!(changed, Written::Done(_)));
    let b = person(&t.repo, "Bob", "Late").await;
    // B is committed and in its timeline, but the feed holds it back behind A.
    assert_eq!(timeline(&t.repo, &b.customer_id).await.len(), 1);
    let mut seen = Vec::new();
    let mut cursor = start;
    for _ in 0..5 {
        if let FeedRead::Events(events) = t.repo.feed(cursor, 1000, &[]).await.unwrap() {
            if let Some(last) = events.last() {
                cursor = Some(last.position);
            }
            seen.extend(events);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        seen.iter().all(|e| e.customer_id != b.customer_id.as_str()),
        "B was served while A, older, was still open: {seen:?}"
    );
    assert!(feed_lag(&pool).await.unwrap() > Duration::ZERO);
    a_tx.commit().await.unwrap();
    seen.extend(follow(&t, cursor, 2 - seen.len()).await);
    let ours: Vec<&str> = seen.iter().map(|e| e.customer_id.as_str()).collect();
    assert_eq!(ours, vec![a.customer_id.as_str(), b.customer_id.as_str()]);
    assert_eq!(
        (seen[0].kind, seen[1].kind),
        (EventKind::Updated, EventKind::Created)
    );
    assert!(seen[0].position < seen[1].position);
}

#[tokio::test]
async fn the_feed_filters_by_kind_and_goes_on_from_any_position() {
    let t = ctx().await;
    let c = person(&t.repo, "Ann", "Lee").await;
    t.repo
        .deactivate(&c.customer_id, &Precondition::Any)
        .await
        .unwrap();
    let all = follow(&t, None, 2).await;
    assert_eq!(all.len(), 2);
    let FeedRead::Events(only) = t
        .repo
        .feed(None, 10, &[EventKind::Deactivated, EventKind::Deleted])
        .await
        .unwrap()
    else {
        panic!("purged")
    };
    assert_eq!(only, vec![all[1].clone()]);
    let FeedRead::Events(after_first) = t.repo.feed(Some(all[0].position), 10, &[]).await.unwrap()
    else {
        panic!("purged")
    };
    assert_eq!(after_first, vec![all[1].clone()]);
    let FeedRead::Events(one) = t.repo.feed(None, 1, &[]).await.unwrap() else {
        panic!("purged")
    };
    assert_eq!(one, vec![all[0].clone()]);
}

#[tokio::test]
async fn retention_removes_the_oldest_events_and_a_cursor_before_them_is_purged() {
    let t = ctx().await;
    let pool = t.repo.pool().clone();
    let old = person(&t.repo, "Old", "One").await;
    let all = follow(&t, None, 1).await;
    assert_eq!(all.len(), 1);
    // Nothing is old enough yet.
    let long_ago = Utc::now() - chrono::Duration::days(1);
    assert_eq!(purge_events(&pool, long_ago, 10).await.unwrap(), 0);
    // Every event so far is, once the cut is past them; a younger one stops the purge. The
    // cut is the young event's own time, as the server recorded it: no clock of this
    // process's is compared with the server's.
    tokio::time::sleep(Duration::from_millis(5)).await;
    let young = person(&t.repo, "Young", "One").await;
    let kept = follow(&t, Some(all[0].position), 1).await;
    assert_eq!(kept.len(), 1);
    let cut = kept[0].occurred_at;
    assert!(all[0].occurred_at < cut, "{all:?} then {kept:?}");
    // The feed served both, so the server's snapshot horizon has passed them.
    assert_eq!(purge_events(&pool, cut, 10).await.unwrap(), 1);
    assert_eq!(
        t.repo
            .timeline(&old.customer_id, &newest(10))
            .await
            .unwrap(),
        Some(Vec::new())
    );
    assert_eq!(timeline(&t.repo, &young.customer_id).await.len(), 1);
    // A reader that had not seen the removed event may have missed it.
    let before_all = FeedPosition {
        transaction: 1,
        event: 0,
    };
    assert_eq!(
        t.repo.feed(Some(before_all), 10, &[]).await.unwrap(),
        FeedRead::Purged
    );
    // One that had, or one that starts over, goes on.
    assert_eq!(
        t.repo.feed(Some(all[0].position), 10, &[]).await.unwrap(),
        FeedRead::Events(kept.clone())
    );
    assert_eq!(
        t.repo.feed(None, 10, &[]).await.unwrap(),
        FeedRead::Events(kept)
    );
}

#[tokio::test]
async fn a_waiting_reader_is_woken_by_a_write_well_before_its_deadline() {
    let t = ctx().await;
    let waiter = {
        let repo = t.repo.clone();
        tokio::spawn(async move {
            let started = std::time::Instant::now();
            repo.await_events(Duration::from_secs(30)).await;
            started.elapsed()
        })
    };
    tokio::time::sleep(Duration::from_millis(20)).await;
    person(&t.repo, "Ann", "Lee").await;
    let waited = waiter.await.unwrap();
    // Woken by the write, or at worst by the periodic re-check: never the full 30 s.
    assert!(
        waited <= infra_postgres::FEED_RECHECK + Duration::from_millis(500),
        "{waited:?}"
    );
}

/// The triggers compare the columns they name (`customer_events_install` writes them from
/// the catalog): every column of `customers` but the bookkeeping ones must be among them,
/// and a column added later is, once the migration that adds it calls the installer again.
#[tokio::test]
async fn every_column_is_compared_and_a_column_added_later_is_once_the_triggers_are_reinstalled() {
    use diesel::QueryableByName;
    use diesel::sql_types::{Bool, Text};
    use diesel_async::{RunQueryDsl, SimpleAsyncConnection};

    #[derive(QueryableByName)]
    struct Missing {
        #[diesel(sql_type = Text)]
        trigger: String,
        #[diesel(sql_type = Text)]
        column: String,
    }
    #[derive(QueryableByName)]
    struct Recorded {
        #[diesel(sql_type = Bool)]
        recorded: bool,
    }
    let missing = "SELECT f.name AS trigger, a.attname::text AS column \
         FROM pg_attribute AS a, \
              unnest(ARRAY['customer_events_on_insert', 'customer_events_on_update', \
                           'customer_events_on_delete']) AS f(name) \
         WHERE a.attrelid = 'customers'::regclass AND a.attnum > 0 AND NOT a.attisdropped \
           AND a.attname NOT IN ('id', 'version', 'updated_at', 'event_xid', 'search_text') \
           AND strpos(pg_get_functiondef(f.name::regproc), quote_literal(a.attname)) = 0";
    let names = |found: Vec<Missing>| -> Vec<String> {
        found
            .into_iter()
            .map(|m| format!("{}: {}", m.trigger, m.column))
            .collect()
    };
    let t = ctx().await;
    let mut conn = t.repo.pool().get().await.unwrap();
    let none: Vec<Missing> = diesel::sql_query(missing).load(&mut *conn).await.unwrap();
    assert_eq!(
        names(none),
        Vec::<String>::new(),
        "columns the triggers do not compare"
    );

    conn.batch_execute("ALTER TABLE customers ADD COLUMN loyalty TEXT")
        .await
        .unwrap();
    let stale: Vec<Missing> = diesel::sql_query(missing).load(&mut *conn).await.unwrap();
    assert_eq!(names(stale).len(), 3);
    conn.batch_execute("SELECT customer_events_install()")
        .await
        .unwrap();
    let none: Vec<Missing> = diesel::sql_query(missing).load(&mut *conn).await.unwrap();
    assert_eq!(names(none), Vec::<String>::new());
    let c = person(&t.repo, "Ann", "Lee").await;
    diesel::sql_query("UPDATE customers SET loyalty = 'gold' WHERE customer_id = $1")
        .bind::<Text, _>(c.customer_id.as_str())
        .execute(&mut *conn)
        .await
        .unwrap();
    let recorded: Vec<Recorded> = diesel::sql_query(
        "SELECT changes = '{\"loyalty\": [null, \"gold\"]}' AS recorded FROM customer_events \
         WHERE customer_id = $1 ORDER BY id DESC LIMIT 1",
    )
    .bind::<Text, _>(c.customer_id.as_str())
    .load(&mut *conn)
    .await
    .unwrap();
    assert!(recorded[0].recorded);
}
