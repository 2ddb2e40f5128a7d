//! Versions: kept by the table's trigger for every write path, checked by the write itself;
//! and one transaction for a request, with its replay record.

use chrono::Duration;
use domain::{
    CustomerChanges, CustomerId, CustomerReads, CustomerStore, Patch, Precondition, Verification,
    Written,
};
use infra_postgres::{KeyLock, PgTransaction, ReplayRecord, purge_replays};

use crate::support::{ctx, person, unpinned};

fn notes(text: &str) -> CustomerChanges {
    CustomerChanges {
        notes: Patch::Set(text.into()),
        ..CustomerChanges::default()
    }
}

async fn version_of(t: &crate::support::Ctx, id: &CustomerId) -> u64 {
    t.repo
        .find_by_customer_id(id)
        .await
        .unwrap()
        .unwrap()
        .version
}

#[tokio::test]
async fn every_write_path_adds_one_to_the_version_and_a_write_that_changes_nothing_none() {
    let t = ctx().await;
    let c = person(&t.repo, "Ann", "Lee").await;
    let id = &c.customer_id;
    let any = Precondition::Any;
    assert_eq!(c.version, 1);
    let updated = t.repo.update(id, &notes("a"), &any).await.unwrap();
    assert!(
        matches!(updated, Written::Done(ref c) if c.version == 2),
        "{updated:?}"
    );
    let bulk = t
        .repo
        .bulk_update(&unpinned(std::slice::from_ref(id)), &notes("b"))
        .await;
    assert_eq!(bulk.unwrap().changed, vec![id.clone()]);
    assert_eq!(version_of(&t, id).await, 3);
    let verify = |what| t.repo.mark_verified(id, what, &any);
    assert_eq!(verify(Verification::Email).await.unwrap(), Written::Done(4));
    // Already verified: nothing changes, so neither does the version.
    assert_eq!(verify(Verification::Email).await.unwrap(), Written::Done(4));
    assert_eq!(verify(Verification::Phone).await.unwrap(), Written::Done(5));
    let login = t.repo.record_login(id, chrono::Utc::now(), &any).await;
    assert_eq!(login.unwrap(), Written::Done(6));
    assert_eq!(t.repo.deactivate(id, &any).await.unwrap(), Written::Done(7));
    assert_eq!(t.repo.deactivate(id, &any).await.unwrap(), Written::Done(7));
    // The same notes again: no change, no new version, `updated_at` kept too.
    let before = t.repo.find_by_customer_id(id).await.unwrap().unwrap();
    let same = t.repo.update(id, &notes("b"), &any).await.unwrap();
    assert!(
        matches!(same, Written::Done(ref c) if c.version == 7 && c.updated_at == before.updated_at)
    );
}

#[tokio::test]
async fn a_conditional_write_happens_only_at_an_admitted_version_and_says_which_one_is_current() {
    let t = ctx().await;
    let c = person(&t.repo, "Ann", "Lee").await;
    let id = &c.customer_id;
    let stale = Precondition::version(7);
    assert_eq!(
        t.repo.update(id, &notes("x"), &stale).await.unwrap(),
        Written::Stale { current: 1 }
    );
    assert_eq!(
        t.repo
            .mark_verified(id, Verification::Email, &stale)
            .await
            .unwrap(),
        Written::Stale { current: 1 }
    );
    assert_eq!(
        t.repo
            .record_login(id, chrono::Utc::now(), &stale)
            .await
            .unwrap(),
        Written::Stale { current: 1 }
    );
    assert_eq!(
        t.repo.deactivate(id, &stale).await.unwrap(),
        Written::Stale { current: 1 }
    );
    assert_eq!(
        t.repo.delete(id, &stale).await.unwrap(),
        Written::Stale { current: 1 }
    );
    // Nothing of that was written.
    assert_eq!(
        t.repo.find_by_customer_id(id).await.unwrap(),
        Some(c.clone())
    );

    let listed = Precondition::VersionIn(vec![5, 1]);
    let done = t.repo.update(id, &notes("x"), &listed).await.unwrap();
    assert!(
        matches!(done, Written::Done(ref c) if c.version == 2 && c.notes.as_deref() == Some("x"))
    );
    assert_eq!(
        t.repo.delete(id, &Precondition::version(2)).await.unwrap(),
        Written::Done(())
    );

    // Missing stays missing, whatever the precondition.
    for expected in [Precondition::Any, Precondition::version(2)] {
        assert_eq!(
            t.repo.delete(id, &expected).await.unwrap(),
            Written::Missing
        );
        assert_eq!(
            t.repo.update(id, &notes("y"), &expected).await.unwrap(),
            Written::Missing
        );
    }
}

#[tokio::test]
async fn a_bulk_update_changes_pinned_customers_only_at_their_version() {
    let t = ctx().await;
    let a = person(&t.repo, "Ann", "Lee").await;
    let b = person(&t.repo, "Bob", "Lee").await;
    let c = person(&t.repo, "Cid", "Lee").await;
    let missing = CustomerId::parse("CUST_0DDBA11A").unwrap();
    let targets = vec![
        (a.customer_id.clone(), Some(1)),
        (b.customer_id.clone(), Some(9)),
        (c.customer_id.clone(), None),
        (missing.clone(), Some(1)),
    ];
    let written = t.repo.bulk_update(&targets, &notes("bulk")).await.unwrap();
    assert_eq!(
        written.changed,
        vec![a.customer_id.clone(), c.customer_id.clone()]
    );
    assert_eq!(written.stale, vec![(b.customer_id.clone(), 1)]);
    assert_eq!(version_of(&t, &a.customer_id).await, 2);
    assert_eq!(version_of(&t, &b.customer_id).await, 1);
    // With nothing to change, the same classification from what is stored.
    let looked = t
        .repo
        .bulk_update(&targets, &CustomerChanges::default())
        .await
        .unwrap();
    assert_eq!(looked.changed, vec![c.customer_id.clone()]);
    assert_eq!(
        looked.stale,
        vec![(a.customer_id.clone(), 2), (b.customer_id.clone(), 1)]
    );
}

fn record(body: &str) -> ReplayRecord {
    ReplayRecord {
        fingerprint: vec![1, 2, 3],
        status: 201,
        headers: vec![("etag".into(), "\"1\"".into())],
        body: body.as_bytes().to_vec(),
        customer_id: None,
    }
}

#[tokio::test]
async fn a_transaction_keeps_nothing_unless_it_commits_and_then_keeps_the_change_with_its_record() {
    let t = ctx().await;
    let pool = t.repo.pool().clone();
    let now = chrono::Utc::now();

    let (tx, repo) = PgTransaction::begin(&pool).await.unwrap();
    assert_eq!(
        tx.lock_key("scope", "k1", now).await.unwrap(),
        KeyLock::Held(None)
    );
    let c = person_in(&repo, "Ann").await;
    tx.save_replay("scope", "k1", &record("first"), now)
        .await
        .unwrap();
    drop((tx, repo));
    assert_eq!(t.repo.find_by_customer_id(&c).await.unwrap(), None);

    let (tx, repo) = PgTransaction::begin(&pool).await.unwrap();
    assert_eq!(
        tx.lock_key("scope", "k1", now).await.unwrap(),
        KeyLock::Held(None)
    );
    let c = person_in(&repo, "Bob").await;
    tx.save_replay("scope", "k1", &record("second"), now)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert!(t.repo.find_by_customer_id(&c).await.unwrap().is_some());
    // The repository of a committed transaction cannot be used any more.
    assert!(repo.find_by_customer_id(&c).await.is_err());

    let (tx, _repo) = PgTransaction::begin(&pool).await.unwrap();
    assert_eq!(
        tx.lock_key("scope", "k1", now).await.unwrap(),
        KeyLock::Held(Some(record("second")))
    );
    // Expired: stored before `since`. (A transaction holding a key takes it again.)
    let later = now + Duration::hours(1);
    assert_eq!(
        tx.lock_key("scope", "k1", later).await.unwrap(),
        KeyLock::Held(None)
    );
    assert_eq!(
        tx.lock_key("other", "k1", now).await.unwrap(),
        KeyLock::Held(None)
    );
}

async fn person_in(
    repo: &infra_postgres::PgCustomerRepository<infra_postgres::InTransaction>,
    first: &str,
) -> CustomerId {
    crate::support::insert(
        repo,
        &crate::support::draft(first, "Lee", &format!("{first}@tx.example")),
    )
    .await
    .customer_id
}

/// Whether `tx` took the key (`s`, `key`).
async fn takes(tx: &PgTransaction, scope: &str, key: &str) -> bool {
    let since = chrono::Utc::now() - Duration::hours(1);
    tx.lock_key(scope, key, since).await.unwrap() != KeyLock::InUse
}

#[tokio::test]
async fn a_key_is_locked_by_one_transaction_at_a_time_until_it_ends() {
    let t = ctx().await;
    let pool = t.repo.pool().clone();
    let (first, _r1) = PgTransaction::begin(&pool).await.unwrap();
    let (second, _r2) = PgTransaction::begin(&pool).await.unwrap();
    assert!(takes(&first, "s", "key").await);
    assert!(!takes(&second, "s", "key").await);
    // Another key, or the same key in another scope, is free.
    assert!(takes(&second, "s", "other").await);
    assert!(takes(&second, "t", "key").await);
    // Free again once the holder ends, by commit or by rollback.
    first.commit().await.unwrap();
    assert!(takes(&second, "s", "key").await);
    second.rollback().await.unwrap();
    let (third, r3) = PgTransaction::begin(&pool).await.unwrap();
    assert!(takes(&third, "s", "key").await);
    // Dropped (a cancelled request), even while its repository lives on: rolled back a
    // moment later, and its lock with it.
    drop(third);
    let (fourth, _r4) = PgTransaction::begin(&pool).await.unwrap();
    let mut free = false;
    for _ in 0..100 {
        if takes(&fourth, "s", "key").await {
            free = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(free, "the dropped transaction still holds the key");
    assert!(
        r3.find_by_customer_id(&CustomerId::parse("CUST_00000001").unwrap())
            .await
            .is_err()
    );
}

/// The lock is taken before the record is read, and the read sees what the lock's last
/// holder committed: a transaction that found the key in use, then takes it after the
/// holder committed, gets the holder's answer, never "no answer yet".
#[tokio::test]
async fn the_next_holder_of_a_key_reads_the_answer_its_last_holder_committed() {
    let t = ctx().await;
    let pool = t.repo.pool().clone();
    let now = chrono::Utc::now();
    let since = now - Duration::hours(1);
    let (holder, _r1) = PgTransaction::begin(&pool).await.unwrap();
    let (waiter, _r2) = PgTransaction::begin(&pool).await.unwrap();
    assert_eq!(
        holder.lock_key("s", "key", since).await.unwrap(),
        KeyLock::Held(None)
    );
    assert_eq!(
        waiter.lock_key("s", "key", since).await.unwrap(),
        KeyLock::InUse
    );
    holder
        .save_replay("s", "key", &record("the answer"), now)
        .await
        .unwrap();
    holder.commit().await.unwrap();
    assert_eq!(
        waiter.lock_key("s", "key", since).await.unwrap(),
        KeyLock::Held(Some(record("the answer")))
    );
}

#[tokio::test]
async fn purging_removes_only_records_older_than_the_cut_in_bounded_batches() {
    let t = ctx().await;
    let pool = t.repo.pool().clone();
    let now = chrono::Utc::now();
    let (tx, _repo) = PgTransaction::begin(&pool).await.unwrap();
    for n in 0..5 {
        let at = now - Duration::hours(30 + n);
        tx.save_replay("s", &format!("old{n}"), &record("x"), at)
            .await
            .unwrap();
    }
    tx.save_replay("s", "fresh", &record("x"), now)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let cut = now - Duration::hours(24);
    assert_eq!(purge_replays(&pool, cut, 2).await.unwrap(), 2);
    assert_eq!(purge_replays(&pool, cut, 2).await.unwrap(), 2);
    assert_eq!(purge_replays(&pool, cut, 2).await.unwrap(), 1);
    assert_eq!(purge_replays(&pool, cut, 2).await.unwrap(), 0);
    let (tx, _repo) = PgTransaction::begin(&pool).await.unwrap();
    assert!(matches!(
        tx.lock_key("s", "fresh", cut).await.unwrap(),
        KeyLock::Held(Some(_))
    ));
}

#[tokio::test]
async fn a_refused_write_inside_a_transaction_leaves_the_transaction_usable() {
    let t = ctx().await;
    let pool = t.repo.pool().clone();
    let taken = person(&t.repo, "Ann", "Lee").await;
    let (tx, repo) = PgTransaction::begin(&pool).await.unwrap();
    // The email is taken: refused by the unique index, as outside a transaction.
    let again = crate::support::draft("Ann", "Lee", taken.email.as_str());
    let id = crate::support::next_customer_id();
    let refused = repo
        .insert(&id, &crate::support::username_for(&id), &again)
        .await;
    assert!(
        matches!(
            refused,
            Err(domain::RepositoryError::Conflict(domain::Conflict::Email))
        ),
        "{refused:?}"
    );
    // The transaction goes on: another write, its record, the commit.
    let kept = person_in(&repo, "Bob").await;
    tx.save_replay("s", "k", &record("400 then 201"), chrono::Utc::now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert!(t.repo.find_by_customer_id(&kept).await.unwrap().is_some());
}
