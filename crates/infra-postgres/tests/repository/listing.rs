//! `list`: pages by id, from an offset or a cursor, with the total of the same filter.

use domain::{Cursor, CustomerReads, CustomerStore, ListQuery, Precondition};

use crate::support::{Outcome, analyze, ctx, delete_all_but, ids, insert_many, page, person};

#[tokio::test]
async fn list_returns_a_page_by_id_with_the_total() {
    let t = ctx().await;
    let mut all = Vec::new();
    for name in ["Ann", "Bob", "Cid", "Dee"] {
        all.push(person(&t.repo, name, "Lee").await);
    }
    let query = ListQuery {
        page: page(1, 2),
        ..ListQuery::default()
    };
    let result = t.repo.list(&query).await.unwrap();
    assert_eq!(ids(&result.customers), ids(&all[1..3]));
    assert_eq!(result.total, 4);
}

#[tokio::test]
async fn list_filters_on_is_active_and_counts_the_same_filter() {
    let t = ctx().await;
    let ann = person(&t.repo, "Ann", "Lee").await;
    let bob = person(&t.repo, "Bob", "Lee").await;
    let cid = person(&t.repo, "Cid", "Lee").await;
    t.repo
        .deactivate(&bob.customer_id, &Precondition::Any)
        .await
        .unwrap()
        .done();

    let active = t
        .repo
        .list(&ListQuery {
            is_active: Some(true),
            ..ListQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(ids(&active.customers), vec![ann.id, cid.id]);
    assert_eq!(active.total, 2);

    let inactive = t
        .repo
        .list(&ListQuery {
            is_active: Some(false),
            ..ListQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(ids(&inactive.customers), vec![bob.id]);
    assert_eq!(inactive.total, 1);
}

#[tokio::test]
async fn skipping_past_the_end_gives_an_empty_page_with_the_true_total() {
    let t = ctx().await;
    person(&t.repo, "Ann", "Lee").await;
    person(&t.repo, "Bob", "Lee").await;
    let result = t
        .repo
        .list(&ListQuery {
            page: page(10, 5),
            ..ListQuery::default()
        })
        .await
        .unwrap();
    assert!(result.customers.is_empty());
    assert_eq!(result.total, 2);
    assert_eq!(result.next_cursor, None);
}

#[tokio::test]
async fn a_limit_of_1000_returns_1000_customers_in_id_order() {
    let t = ctx().await;
    insert_many(&t.db, 1005).await;
    // Above 1,000 matches the total is the planner's estimate; after ANALYZE has seen
    // every row of a table this small, it is exact.
    analyze(&t.db).await;
    let result = t
        .repo
        .list(&ListQuery {
            page: page(0, 1000),
            ..ListQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(result.customers.len(), 1000);
    assert_eq!(result.total, 1005);
    assert!(result.customers.windows(2).all(|w| w[0].id < w[1].id));
    let rest = t
        .repo
        .list(&ListQuery {
            page: page(1000, 1000),
            ..ListQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(rest.customers.len(), 5);
}

#[tokio::test]
async fn cursor_pagination_visits_every_customer_once_and_ignores_the_offset() {
    let t = ctx().await;
    insert_many(&t.db, 25).await;
    let mut seen = Vec::new();
    let mut query = ListQuery {
        // With a cursor the offset is ignored: starting after id 0 visits everyone.
        page: page(7, 10),
        cursor: Some(Cursor { after_id: 0 }),
        ..ListQuery::default()
    };
    let mut pages = 0;
    loop {
        let result = t.repo.list(&query).await.unwrap();
        assert_eq!(result.total, 25);
        seen.extend(ids(&result.customers));
        pages += 1;
        match result.next_cursor {
            Some(cursor) => query.cursor = Some(cursor),
            None => break,
        }
    }
    assert_eq!(pages, 3, "10 + 10 + 5");
    assert_eq!(seen.len(), 25);
    assert!(seen.windows(2).all(|w| w[0] < w[1]));
}

#[tokio::test]
async fn a_page_that_is_not_full_has_no_next_cursor() {
    let t = ctx().await;
    person(&t.repo, "Ann", "Lee").await;
    let result = t
        .repo
        .list(&ListQuery {
            page: page(0, 2),
            ..ListQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(result.customers.len(), 1);
    assert_eq!(result.next_cursor, None);
}

#[tokio::test]
async fn above_1000_matches_the_total_is_an_estimate_of_at_least_1001_below_it_exact() {
    let t = ctx().await;
    insert_many(&t.db, 1200).await;
    let unanalysed = t.repo.list(&ListQuery::default()).await.unwrap();
    assert!(unanalysed.total >= 1001, "{}", unanalysed.total);
    let ann = person(&t.repo, "Ann", "Lee").await;
    t.repo
        .deactivate(&ann.customer_id, &Precondition::Any)
        .await
        .unwrap()
        .done();
    let inactive = t
        .repo
        .list(&ListQuery {
            is_active: Some(false),
            ..ListQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(inactive.total, 1);
}

#[tokio::test]
async fn a_small_table_is_counted_exactly_even_when_its_statistics_are_stale() {
    let t = ctx().await;
    insert_many(&t.db, 3000).await;
    analyze(&t.db).await;
    // The statistics still say 3,000 rows; the table has 40.
    delete_all_but(&t.db, 40).await;
    let result = t.repo.list(&ListQuery::default()).await.unwrap();
    assert_eq!(result.total, 40);
}

#[tokio::test]
async fn the_list_total_is_exact_at_any_size_and_right_after_a_write() {
    let t = ctx().await;
    insert_many(&t.db, 12_000).await;
    analyze(&t.db).await;
    let full = t.repo.list(&ListQuery::default()).await.unwrap();
    assert_eq!((full.total, full.total_is_estimate), (12_000, false));
    // No ANALYZE needed: the counts move with the write that changes them.
    delete_all_but(&t.db, 500).await;
    assert_eq!(t.repo.list(&ListQuery::default()).await.unwrap().total, 500);
    person(&t.repo, "Ann", "Lee").await;
    assert_eq!(t.repo.list(&ListQuery::default()).await.unwrap().total, 501);
}

#[tokio::test]
async fn an_offset_page_skips_only_customers_of_its_filter_and_keeps_id_order() {
    let t = ctx().await;
    let mut all = Vec::new();
    for name in ["Ann", "Bob", "Cid", "Dee", "Eve", "Fay"] {
        all.push(person(&t.repo, name, "Lee").await);
    }
    for gone in [&all[1], &all[3]] {
        t.repo
            .deactivate(&gone.customer_id, &Precondition::Any)
            .await
            .unwrap()
            .done();
    }
    let list = |offset, limit, is_active| {
        let repo = t.repo.clone();
        async move {
            repo.list(&ListQuery {
                page: page(offset, limit),
                is_active,
                ..ListQuery::default()
            })
            .await
            .unwrap()
        }
    };
    assert_eq!(ids(&list(2, 3, None).await.customers), ids(&all[2..5]));
    let active = list(1, 2, Some(true)).await;
    assert_eq!(ids(&active.customers), vec![all[2].id, all[4].id]);
    assert_eq!(active.total, 4);
    let inactive = list(1, 5, Some(false)).await;
    assert_eq!(ids(&inactive.customers), vec![all[3].id]);
    assert_eq!(inactive.total, 2);
}
