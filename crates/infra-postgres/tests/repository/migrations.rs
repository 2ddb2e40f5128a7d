//! The migrations: up, down and up again on a fresh empty database; idempotence; and two
//! migrators starting together.

use crate::support::TestDatabase;
use diesel::QueryableByName;
use diesel::sql_types::Text;
use diesel_async::RunQueryDsl;
use domain::CustomerStore;
use domain::Precondition;
use infra_postgres::{PoolSettings, build_pool, revert_all_migrations, run_migrations};

use crate::support::{Outcome, draft, insert};

#[derive(QueryableByName, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Object {
    #[diesel(sql_type = Text)]
    object: String,
}

/// Every relation, function, trigger and type in `public` that an extension does not own
/// (the migrations table aside).
async fn schema_objects(db: &TestDatabase) -> Vec<Object> {
    let mut conn = db.pool().get().await.unwrap();
    diesel::sql_query(
        "SELECT c.relkind::text || ' ' || c.relname AS object
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = 'public' AND c.relname NOT LIKE '\\_\\_diesel%'
         UNION ALL
         SELECT 'function ' || p.proname
           FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
          WHERE n.nspname = 'public'
            AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
         UNION ALL
         SELECT 'trigger ' || tgname FROM pg_trigger WHERE NOT tgisinternal
         ORDER BY 1",
    )
    .load(&mut conn)
    .await
    .unwrap()
}

async fn usable(db: &TestDatabase) {
    let repo = db.repository();
    let c = insert(&repo, &draft("Up", "Again", "up@example.com")).await;
    assert!(
        repo.delete(&c.customer_id, &Precondition::Any)
            .await
            .unwrap()
            .done()
    );
}

#[tokio::test]
async fn migrations_go_up_down_and_up_again_leaving_nothing_behind() {
    let db = TestDatabase::empty().await;
    let before = schema_objects(&db).await;

    run_migrations(db.pool()).await.unwrap();
    let migrated = schema_objects(&db).await;
    for expected in [
        "r customers",
        "i customers_email_lower_key",
        "i customers_search_text_idx",
        "i customers_tags_idx",
        "function customers_set_updated_at",
        "trigger customers_set_updated_at",
    ] {
        assert!(
            migrated.iter().any(|o| o.object == expected),
            "{expected} missing from {migrated:?}"
        );
    }
    usable(&db).await;

    revert_all_migrations(db.pool()).await.unwrap();
    assert_eq!(schema_objects(&db).await, before);

    run_migrations(db.pool()).await.unwrap();
    assert_eq!(schema_objects(&db).await, migrated);
    usable(&db).await;
}

#[tokio::test]
async fn running_the_migrations_again_changes_nothing() {
    let db = TestDatabase::new().await;
    let before = schema_objects(&db).await;
    run_migrations(db.pool()).await.unwrap();
    assert_eq!(schema_objects(&db).await, before);
}

#[tokio::test]
async fn two_migrators_starting_together_do_not_race() {
    let db = TestDatabase::empty().await;
    let a = build_pool(&PoolSettings::for_url(db.url())).unwrap();
    let b = build_pool(&PoolSettings::for_url(db.url())).unwrap();
    let (first, second) = tokio::join!(run_migrations(&a), run_migrations(&b));
    first.unwrap();
    second.unwrap();
    drop((a, b));
    usable(&db).await;
}
