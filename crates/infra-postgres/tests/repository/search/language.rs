//! `preferred_language`: stored as the domain canonicalised it, read back, written by
//! updates, and matched exactly (case ignored) by the search filter.

use diesel::sql_types::Text;
use diesel_async::RunQueryDsl;
use domain::{
    CustomerChanges, CustomerSearch, CustomerStore, LanguageTag, Patch, Precondition,
    SearchCriteria, SortField, SortOrder,
};

use super::{matching, with};
use crate::support::{Outcome, ctx, unpinned};

fn tag(raw: &str) -> LanguageTag {
    LanguageTag::parse(raw).unwrap()
}

fn speaking(raw: &str) -> SearchCriteria {
    SearchCriteria {
        preferred_language: Some(tag(raw)),
        ..SearchCriteria::default()
    }
}

#[tokio::test]
async fn the_language_filter_matches_whole_tags_exactly_and_ignores_case() {
    let t = ctx().await;
    let brazil = with(&t, "A", "A", "a@example.com", |d| {
        d.preferred_language = Some(tag("pt-BR"));
    })
    .await;
    let portugal = with(&t, "B", "B", "b@example.com", |d| {
        d.preferred_language = Some(tag("pt-PT"));
    })
    .await;
    let portuguese = with(&t, "C", "C", "c@example.com", |d| {
        d.preferred_language = Some(tag("pt"));
    })
    .await;
    let taiwan = with(&t, "D", "D", "d@example.com", |d| {
        d.preferred_language = Some(tag("zh-Hant-TW"));
    })
    .await;
    with(&t, "E", "E", "e@example.com", |_| {}).await;

    assert_eq!(brazil.preferred_language, Some(tag("pt-BR")));
    assert_eq!(matching(&t, speaking("pt-BR")).await, vec![brazil.id]);
    assert_eq!(matching(&t, speaking("PT-br")).await, vec![brazil.id]);
    // Exact: neither a prefix nor a longer tag matches.
    assert_eq!(matching(&t, speaking("pt")).await, vec![portuguese.id]);
    assert_eq!(matching(&t, speaking("pt-PT")).await, vec![portugal.id]);
    assert!(matching(&t, speaking("pt-BR-x-a")).await.is_empty());
    assert_eq!(matching(&t, speaking("zh-hant-tw")).await, vec![taiwan.id]);
    assert!(matching(&t, speaking("en")).await.is_empty());

    // A tag written in another case by something other than the service still matches.
    let mut conn = t.db.pool().get().await.unwrap();
    diesel::sql_query("UPDATE customers SET preferred_language = $1 WHERE id = $2")
        .bind::<Text, _>("ZH-HANT-tw")
        .bind::<diesel::sql_types::BigInt, _>(taiwan.id)
        .execute(&mut conn)
        .await
        .unwrap();
    assert_eq!(matching(&t, speaking("zh-Hant-TW")).await, vec![taiwan.id]);

    // Combined with the other filters, and sorted like any search.
    let both = SearchCriteria {
        query: Some("b@".into()),
        ..speaking("pt-PT")
    };
    assert_eq!(matching(&t, both).await, vec![portugal.id]);
    let page = t
        .repo
        .search(&SearchCriteria {
            sort_by: SortField::Id,
            sort_order: SortOrder::Desc,
            ..speaking("PT")
        })
        .await
        .unwrap();
    assert_eq!((page.total, page.customers[0].id), (1, portuguese.id));
}

#[tokio::test]
async fn an_update_sets_and_clears_the_language_and_a_bulk_update_sets_it() {
    let t = ctx().await;
    let ann = with(&t, "Ann", "Lee", "ann@example.com", |d| {
        d.preferred_language = Some(tag("en-GB"));
    })
    .await;
    let bob = with(&t, "Bob", "Lee", "bob@example.com", |_| {}).await;
    let update = |language| CustomerChanges {
        preferred_language: language,
        ..CustomerChanges::default()
    };

    let set = t
        .repo
        .update(
            &ann.customer_id,
            &update(Patch::Set(tag("sr-Latn"))),
            &Precondition::Any,
        )
        .await
        .unwrap()
        .found()
        .unwrap();
    assert_eq!(set.preferred_language, Some(tag("sr-Latn")));
    let kept = t
        .repo
        .update(&ann.customer_id, &update(Patch::Keep), &Precondition::Any)
        .await
        .unwrap()
        .found()
        .unwrap();
    assert_eq!(kept.preferred_language, Some(tag("sr-Latn")));
    let cleared = t
        .repo
        .update(&ann.customer_id, &update(Patch::Clear), &Precondition::Any)
        .await
        .unwrap()
        .found()
        .unwrap();
    assert_eq!(cleared.preferred_language, None);
    assert!(matching(&t, speaking("sr-Latn")).await.is_empty());

    let ids = [ann.customer_id.clone(), bob.customer_id.clone()];
    let changed = t
        .repo
        .bulk_update(&unpinned(&ids), &update(Patch::Set(tag("fr-CA"))))
        .await
        .unwrap()
        .changed;
    assert_eq!(changed.len(), 2);
    assert_eq!(matching(&t, speaking("fr-ca")).await, vec![ann.id, bob.id]);
}

#[tokio::test]
async fn the_table_refuses_a_tag_longer_than_35_characters() {
    let t = ctx().await;
    let ann = with(&t, "Ann", "Lee", "ann@example.com", |_| {}).await;
    let mut conn = t.db.pool().get().await.unwrap();
    let write = |value: String| {
        diesel::sql_query("UPDATE customers SET preferred_language = $1 WHERE id = $2")
            .bind::<Text, _>(value)
            .bind::<diesel::sql_types::BigInt, _>(ann.id)
    };
    write("a".repeat(35)).execute(&mut conn).await.unwrap();
    let err = write("a".repeat(36)).execute(&mut conn).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("customers_preferred_language_length_check"),
        "{err}"
    );
}
