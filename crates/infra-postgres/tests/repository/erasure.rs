//! Erasure against a real server: the tombstone keeps exactly what the statistics need; no
//! personal value is left in the row, the history, the stored answers or the aggregates;
//! reads and writes never see a tombstone again, and nothing can write into it; erasing is
//! idempotent; the old email and username are free again; an id deleted for good has its
//! history erased all the same.

use chrono::{NaiveDate, Utc};
use diesel::sql_types::{Nullable, Text};
use diesel_async::RunQueryDsl;
use domain::{
    Customer, CustomerChanges, CustomerHistory, CustomerReads, CustomerSearch, CustomerStore,
    Email, ErasureReason, EventKind, FieldValue, Gender, ListQuery, LocationFilter, LocationLevel,
    Patch, Precondition, SearchCriteria, StatisticsSource, StatisticsWindow, Tags, TimelineQuery,
    Verification, Written,
};
use infra_postgres::{PgTransaction, ReplayRecord};

use crate::support::{Ctx, ctx, draft, insert, page, unpinned};

/// The personal values the customer is created and updated with: none may survive.
const PERSONAL: [&str; 12] = [
    "Zorbulax",
    "Quenthorpe",
    "zorb@erasure.example",
    "+1 555 0199",
    "17 Vexmoor Lane",
    "Suite Plimwick",
    "Ondrialburg",
    "Kestrovia",
    "Q9Z 8X7",
    "Glimmerquartz",
    "TX-99817726",
    "velvetine",
];

async fn distinctive(t: &Ctx) -> Customer {
    let mut d = draft("Zorbulax", "Quenthorpe", "zorb@erasure.example");
    d.phone = Some(domain::Phone::parse("+1 555 0199").unwrap());
    d.address_line1 = Some("17 Vexmoor Lane".into());
    d.address_line2 = Some("Suite Plimwick".into());
    d.city = Some("Ondrialburg".into());
    d.state = Some("Kestrovia".into());
    d.postal_code = Some("Q9Z 8X7".into());
    d.country = Some("Freedonia".into());
    d.date_of_birth = NaiveDate::from_ymd_opt(1971, 4, 5).and_then(|d| d.and_hms_opt(0, 0, 0));
    d.gender = Some(Gender::Female);
    d.company_name = Some("Glimmerquartz".into());
    d.tax_id = Some("TX-99817726".into());
    d.notes = Some("velvetine parcels".into());
    d.tags = Tags::parse("xyzzyvip").unwrap();
    insert(&t.repo, &d).await
}

fn moved_to(city: &str, notes: &str) -> CustomerChanges {
    CustomerChanges {
        city: Patch::Set(city.into()),
        notes: Patch::Set(notes.into()),
        ..CustomerChanges::default()
    }
}

fn reason(text: &str) -> Option<ErasureReason> {
    ErasureReason::parse(Some(text)).unwrap()
}

#[derive(diesel::QueryableByName)]
struct Dump {
    #[diesel(sql_type = Text)]
    text: String,
}

/// Every row of the tables the service writes, as text.
async fn everything(t: &Ctx) -> String {
    let mut conn = t.db.pool().get().await.unwrap();
    let rows: Vec<Dump> = diesel::sql_query(
        "SELECT string_agg(x, E'\\n') AS text FROM (
             SELECT c::text AS x FROM customers AS c
             UNION ALL SELECT e::text FROM customer_events AS e
             UNION ALL SELECT r::text || convert_from(r.body, 'UTF8') FROM idempotency_records AS r
             UNION ALL SELECT n::text FROM customer_counts AS n
         ) AS all_rows",
    )
    .load(&mut conn)
    .await
    .unwrap();
    rows.into_iter().map(|r| r.text).collect()
}

#[tokio::test]
async fn an_erasure_leaves_a_tombstone_and_no_personal_value_anywhere() {
    let t = ctx().await;
    let c = distinctive(&t).await;
    let id = &c.customer_id;
    t.repo
        .update(
            id,
            &moved_to("Plimwickton", "second velvetine note"),
            &Precondition::Any,
        )
        .await
        .unwrap();
    t.repo
        .mark_verified(id, Verification::Email, &Precondition::Any)
        .await
        .unwrap();
    // A stored idempotent answer about the customer, holding its values.
    let (tx, _) = PgTransaction::begin(t.db.pool()).await.unwrap();
    let record = ReplayRecord {
        fingerprint: vec![1],
        status: 201,
        headers: vec![("content-type".into(), "application/json".into())],
        body: br#"{"first_name":"Zorbulax"}"#.to_vec(),
        customer_id: Some(id.to_string()),
    };
    tx.save_replay("scope", "key", &record, Utc::now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let window = StatisticsWindow::ending_at(Utc::now());
    let before = t.repo.statistics(&window).await.unwrap();
    assert!(everything(&t).await.contains("Ondrialburg"));

    let tombstone = t
        .repo
        .erase(id, reason("asked by mail"))
        .await
        .unwrap()
        .unwrap();

    assert_eq!(&tombstone.customer_id, id);
    assert_eq!(tombstone.created_at, c.created_at);
    assert_eq!(tombstone.reason.as_deref(), Some("asked by mail"));
    assert_eq!(tombstone.country.as_deref(), Some("Freedonia"));
    assert_eq!(tombstone.gender, Some(Gender::Female));
    assert!(tombstone.is_active && tombstone.email_verified);
    assert!(!tombstone.is_verified && !tombstone.phone_verified);
    assert_eq!(t.repo.erasure(id).await.unwrap(), Some(tombstone));
    let left = everything(&t).await;
    for value in
        PERSONAL
            .iter()
            .chain(&["Plimwickton", "xyzzyvip", "1971-04-05", c.username.as_str()])
    {
        assert!(
            !left.to_lowercase().contains(&value.to_lowercase()),
            "{value} is still stored"
        );
    }
    assert!(left.contains(id.as_str()));
    // The answer stands for "erased" now: 410, nothing else.
    let (tx, _) = PgTransaction::begin(t.db.pool()).await.unwrap();
    let infra_postgres::KeyLock::Held(Some(stored)) = tx
        .lock_key("scope", "key", window.month_start)
        .await
        .unwrap()
    else {
        panic!("the erased customer's answer is gone");
    };
    assert_eq!(
        (stored.status, stored.headers, stored.body),
        (410, vec![], vec![])
    );

    let after = t
        .repo
        .statistics(&StatisticsWindow::ending_at(Utc::now()))
        .await
        .unwrap();
    assert_eq!(after.total_customers, before.total_customers);
    assert_eq!(after.active_customers, before.active_customers);
    assert_eq!(after.verified_customers, before.verified_customers);
    assert_eq!(after.new_customers_today, before.new_customers_today);
    assert_eq!(after.customers_by_country, before.customers_by_country);
    assert_eq!(after.gender_distribution, before.gender_distribution);
    assert!(
        after.customers_by_city.is_empty(),
        "{:?}",
        after.customers_by_city
    );
    assert_eq!(after.average_customer_age, None);
    for level in [LocationLevel::City, LocationLevel::State] {
        assert!(t.repo.locations(level, None).await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn the_history_keeps_which_fields_changed_and_when_but_no_value_of_a_person() {
    let t = ctx().await;
    let c = distinctive(&t).await;
    let id = &c.customer_id;
    t.repo
        .update(id, &moved_to("Plimwickton", "another"), &Precondition::Any)
        .await
        .unwrap();
    let erasing = t.repo.attributed(&domain::Provenance {
        actor: Some("dpo".into()),
        request_id: Some("req-erase".into()),
        idempotency_key: None,
    });
    erasing.erase(id, None).await.unwrap().unwrap();

    let events = t
        .repo
        .timeline(
            id,
            &TimelineQuery {
                limit: 100,
                before: None,
            },
        )
        .await
        .unwrap()
        .unwrap();
    let kinds: Vec<EventKind> = events.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [EventKind::Erased, EventKind::Updated, EventKind::Created]
    );
    let erased = &events[0];
    assert_eq!(erased.version, c.version + 2);
    assert_eq!(erased.provenance.actor.as_deref(), Some("dpo"));
    assert_eq!(erased.provenance.request_id.as_deref(), Some("req-erase"));
    assert!(matches!(
        erased.changes["erased_at"].to,
        FieldValue::Timestamp(_)
    ));
    assert_eq!(erased.changes["first_name"].from, FieldValue::Erased);
    assert_eq!(events[1].changes["city"].from, FieldValue::Erased);
    assert_eq!(events[1].changes["notes"].to, FieldValue::Erased);
    let created = &events[2].changes;
    assert_eq!(created["email"].to, FieldValue::Erased);
    assert_eq!(created["is_active"].to, FieldValue::Bool(true));
    assert_eq!(created["customer_id"].to, FieldValue::Text(id.to_string()));
}

#[tokio::test]
async fn reads_and_writes_never_see_a_tombstone_and_nothing_writes_into_it() {
    let t = ctx().await;
    let c = distinctive(&t).await;
    let other = insert(&t.repo, &{
        let mut d = draft("Ann", "Lee", "ann@example.com");
        d.country = Some("Freedonia".into());
        d.city = Some("Ondrialburg".into());
        d
    })
    .await;
    let id = &c.customer_id;
    t.repo.erase(id, None).await.unwrap().unwrap();

    assert_eq!(t.repo.find_by_customer_id(id).await.unwrap(), None);
    assert_eq!(
        t.repo.find_by_email("zorb@erasure.example").await.unwrap(),
        None
    );
    assert_eq!(t.repo.find_by_email(id.as_str()).await.unwrap(), None);
    assert_eq!(
        t.repo.find_by_username(c.username.as_str()).await.unwrap(),
        None
    );
    assert_eq!(t.repo.find_by_username(id.as_str()).await.unwrap(), None);
    let list = t
        .repo
        .list(&ListQuery {
            page: page(0, 10),
            is_active: None,
            cursor: None,
        })
        .await
        .unwrap();
    assert_eq!((list.total, list.customers.len()), (1, 1));
    let active = t
        .repo
        .list(&ListQuery {
            page: page(0, 10),
            is_active: Some(true),
            cursor: None,
        })
        .await
        .unwrap();
    assert_eq!(active.total, 1);
    let in_freedonia = SearchCriteria {
        country: Some("Freedonia".into()),
        ..SearchCriteria::default()
    };
    let found = t.repo.search(&in_freedonia).await.unwrap();
    assert_eq!(found.total, 1);
    assert_eq!(found.customers[0].customer_id, other.customer_id);
    let by_id = SearchCriteria {
        query: Some(id.as_str().to_owned()),
        ..SearchCriteria::default()
    };
    assert_eq!(t.repo.search(&by_id).await.unwrap().total, 0);
    let place = LocationFilter {
        country: Some("Freedonia".into()),
        ..LocationFilter::default()
    };
    assert_eq!(
        t.repo
            .find_by_location(&place, &page(0, 10))
            .await
            .unwrap()
            .len(),
        1
    );

    let any = Precondition::Any;
    let notes = CustomerChanges {
        notes: Patch::Set("x".into()),
        ..CustomerChanges::default()
    };
    assert_eq!(
        t.repo.update(id, &notes, &any).await.unwrap(),
        Written::Missing
    );
    assert_eq!(
        t.repo
            .update(id, &CustomerChanges::default(), &any)
            .await
            .unwrap(),
        Written::Missing
    );
    assert_eq!(
        t.repo
            .mark_verified(id, Verification::Phone, &any)
            .await
            .unwrap(),
        Written::Missing
    );
    assert_eq!(
        t.repo.record_login(id, Utc::now(), &any).await.unwrap(),
        Written::Missing
    );
    assert_eq!(t.repo.deactivate(id, &any).await.unwrap(), Written::Missing);
    assert_eq!(t.repo.delete(id, &any).await.unwrap(), Written::Missing);
    let bulk = t
        .repo
        .bulk_update(&unpinned(std::slice::from_ref(id)), &notes)
        .await
        .unwrap();
    assert!(bulk.changed.is_empty() && bulk.stale.is_empty());
    let pinned = t
        .repo
        .bulk_update(&[(id.clone(), Some(1))], &notes)
        .await
        .unwrap();
    assert!(pinned.changed.is_empty() && pinned.stale.is_empty());

    // Not even an operator's SQL.
    let mut conn = t.db.pool().get().await.unwrap();
    let refused = diesel::sql_query("UPDATE customers SET notes = 'x' WHERE customer_id = $1")
        .bind::<Text, _>(id.as_str())
        .execute(&mut conn)
        .await;
    assert!(refused.is_err(), "{refused:?}");
    assert!(t.repo.erasure(id).await.unwrap().is_some());
}

#[tokio::test]
async fn erasing_again_returns_the_same_tombstone_and_records_nothing() {
    let t = ctx().await;
    let c = distinctive(&t).await;
    let id = &c.customer_id;
    let first = t.repo.erase(id, reason("first")).await.unwrap().unwrap();
    let newest = TimelineQuery {
        limit: 100,
        before: None,
    };
    let events = t.repo.timeline(id, &newest).await.unwrap().unwrap();
    let again = t.repo.erase(id, reason("second")).await.unwrap().unwrap();
    assert_eq!(again, first);
    assert_eq!(t.repo.timeline(id, &newest).await.unwrap().unwrap(), events);
}

#[tokio::test]
async fn the_old_email_and_username_are_free_again() {
    let t = ctx().await;
    let c = distinctive(&t).await;
    t.repo.erase(&c.customer_id, None).await.unwrap().unwrap();
    let id = crate::support::next_customer_id();
    let again = t
        .repo
        .insert(
            &id,
            &c.username,
            &draft("Zorbulax", "Quenthorpe", "ZORB@erasure.example"),
        )
        .await
        .unwrap();
    assert_eq!(again.email, Email::parse("ZORB@erasure.example").unwrap());
    assert_eq!(again.username, c.username);
}

#[tokio::test]
async fn an_unknown_id_is_none_and_the_history_of_one_deleted_for_good_is_erased_anyway() {
    let t = ctx().await;
    let unknown = crate::support::next_customer_id();
    assert_eq!(t.repo.erase(&unknown, None).await.unwrap(), None);
    assert_eq!(t.repo.erasure(&unknown).await.unwrap(), None);

    let c = distinctive(&t).await;
    let id = &c.customer_id;
    assert_eq!(
        t.repo.delete(id, &Precondition::Any).await.unwrap(),
        Written::Done(())
    );
    assert!(everything(&t).await.contains("Ondrialburg"));
    assert_eq!(t.repo.erase(id, None).await.unwrap(), None);
    let left = everything(&t).await;
    for value in PERSONAL {
        assert!(!left.contains(value), "{value} is still stored");
    }
    let events = t
        .repo
        .timeline(
            id,
            &TimelineQuery {
                limit: 10,
                before: None,
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(events[0].kind, EventKind::Deleted);
    assert_eq!(events[0].changes["city"].from, FieldValue::Erased);
}

#[tokio::test]
async fn a_place_someone_else_still_holds_keeps_its_count() {
    let t = ctx().await;
    let c = distinctive(&t).await;
    let mut d = draft("Ann", "Lee", "ann@example.com");
    d.country = Some("Freedonia".into());
    d.city = Some("Ondrialburg".into());
    insert(&t.repo, &d).await;
    t.repo.erase(&c.customer_id, None).await.unwrap().unwrap();
    let cities = t.repo.locations(LocationLevel::City, None).await.unwrap();
    assert_eq!(cities.len(), 1);
    assert_eq!(
        (cities[0].name.as_str(), cities[0].count),
        ("Ondrialburg", 1)
    );
    let mut conn = t.db.pool().get().await.unwrap();
    #[derive(diesel::QueryableByName)]
    struct Sum {
        #[diesel(sql_type = Nullable<diesel::sql_types::BigInt>)]
        n: Option<i64>,
    }
    let rows: Vec<Sum> = diesel::sql_query(
        "SELECT sum(customers)::int8 AS n FROM customer_counts WHERE kind = 'erased'",
    )
    .load(&mut conn)
    .await
    .unwrap();
    assert_eq!(rows[0].n, Some(1));
}

/// The columns a tombstone keeps, with the bookkeeping ones.
const KEPT: [&str; 12] = [
    "id",
    "customer_id",
    "created_at",
    "updated_at",
    "version",
    "event_xid",
    "country",
    "gender",
    "is_active",
    "is_verified",
    "email_verified",
    "phone_verified",
];

/// The erasure's own columns.
const ERASURE: [&str; 2] = ["erased_at", "erasure_reason"];

/// The columns an erasure empties (`search_text` is computed from them).
const ERASED: [&str; 20] = [
    "username",
    "first_name",
    "last_name",
    "email",
    "phone",
    "address_line1",
    "address_line2",
    "city",
    "state",
    "postal_code",
    "date_of_birth",
    "company_name",
    "tax_id",
    "marketing_emails",
    "marketing_sms",
    "notes",
    "tags",
    "last_login_at",
    "preferred_language",
    "search_text",
];

#[derive(diesel::QueryableByName)]
struct Column {
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(diesel::QueryableByName)]
struct Emptied {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    emptied: bool,
}

#[tokio::test]
async fn every_column_is_erased_or_kept_on_purpose() {
    let t = ctx().await;
    let c = distinctive(&t).await;
    t.repo
        .record_login(&c.customer_id, Utc::now(), &Precondition::Any)
        .await
        .unwrap();
    t.repo.erase(&c.customer_id, None).await.unwrap().unwrap();
    let mut conn = t.db.pool().get().await.unwrap();
    let columns: Vec<Column> = diesel::sql_query(
        "SELECT attname::text AS name FROM pg_attribute \
         WHERE attrelid = 'customers'::regclass AND attnum > 0 AND NOT attisdropped",
    )
    .load(&mut conn)
    .await
    .unwrap();
    for column in columns {
        let name = column.name.as_str();
        assert!(
            KEPT.contains(&name) || ERASED.contains(&name) || ERASURE.contains(&name),
            "decide whether an erasure removes `{name}` (see docs/adding-a-field.md)"
        );
        if !ERASED.contains(&name) {
            continue;
        }
        // Empty, false, or the customer id (the username and the email, kept unique);
        // `search_text` joins the six searched columns with chr(31).
        let sql = format!(
            "SELECT ({name} IS NULL OR {name}::text IN ('', 'false', '{{}}', customer_id) \
                 OR {name}::text = repeat(chr(31), 2) || lower(customer_id) || chr(31) \
                                   || lower(customer_id) || repeat(chr(31), 2)) AS emptied \
             FROM customers WHERE customer_id = $1"
        );
        let rows: Vec<Emptied> = diesel::sql_query(sql)
            .bind::<Text, _>(c.customer_id.as_str())
            .load(&mut conn)
            .await
            .unwrap();
        assert!(rows[0].emptied, "`{name}` was not erased");
    }
}
