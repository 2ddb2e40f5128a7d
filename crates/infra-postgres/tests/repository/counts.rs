//! The aggregates behind the statistics, the available places and the list's totals equal
//! a full recomputation from `customers` after random sequences of every kind of write:
//! through the repository's write paths, concurrently from several connections, from raw
//! SQL, and in transactions that roll back. The recomputation is the overview's former SQL
//! over `customers`, independent of the triggers.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Double, Nullable, Text, Timestamptz};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use domain::{
    CustomerChanges, CustomerDraft, CustomerId, CustomerReads, CustomerStatistics, CustomerStore,
    Gender, ListQuery, LocationCount, LocationLevel, Patch, Precondition, StatisticsSource,
    StatisticsWindow, Verification,
};
use futures::future::join_all;
use infra_postgres::PgCustomerRepository;

use crate::support::{Ctx, Outcome, ctx, draft, next_customer_id, unpinned, username_for};

/// SplitMix64: the same seed gives the same sequence.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<T: Clone>(&mut self, options: &[T]) -> T {
        options[self.below(options.len())].clone()
    }
}

const COUNTRIES: [Option<&str>; 5] = [Some("USA"), Some("usa"), Some("Norway"), Some(""), None];
const CITIES: [Option<&str>; 4] = [Some("Oslo"), Some("New York"), Some(""), None];
const STATES: [Option<&str>; 3] = [Some("NY"), Some("Viken"), None];
const GENDERS: [Option<Gender>; 3] = [Some(Gender::Male), Some(Gender::Female), None];

fn some_date_of_birth(rng: &mut Rng) -> Option<chrono::NaiveDateTime> {
    (rng.below(3) > 0).then(|| {
        NaiveDate::from_ymd_opt(1950 + rng.below(60) as i32, 1 + rng.below(12) as u32, 1)
            .unwrap()
            .and_hms_micro_opt(rng.below(24) as u32, 0, 0, rng.below(1_000_000) as u32)
            .unwrap()
    })
}

fn random_draft(rng: &mut Rng, n: u64) -> CustomerDraft {
    CustomerDraft {
        country: rng.pick(&COUNTRIES).map(Into::into),
        city: rng.pick(&CITIES).map(Into::into),
        state: rng.pick(&STATES).map(Into::into),
        gender: rng.pick(&GENDERS),
        date_of_birth: some_date_of_birth(rng),
        ..draft("Prop", "Test", &format!("p{n}-{}@example.com", rng.next()))
    }
}

fn patch<T>(rng: &mut Rng, value: Option<T>) -> Patch<T> {
    match (rng.below(3), value) {
        (0, _) => Patch::Keep,
        (_, Some(v)) => Patch::Set(v),
        (_, None) => Patch::Clear,
    }
}

fn random_changes(rng: &mut Rng) -> CustomerChanges {
    let country = rng.pick(&COUNTRIES).map(String::from);
    let city = rng.pick(&CITIES).map(String::from);
    let state = rng.pick(&STATES).map(String::from);
    let gender = rng.pick(&GENDERS);
    let dob = some_date_of_birth(rng);
    CustomerChanges {
        country: patch(rng, country),
        city: patch(rng, city),
        state: patch(rng, state),
        gender: patch(rng, gender),
        date_of_birth: patch(rng, dob),
        is_active: rng.pick(&[None, Some(true), Some(false)]),
        is_verified: rng.pick(&[None, Some(true), Some(false)]),
        first_name: rng.pick(&[None, Some("Renamed".to_owned())]),
        ..CustomerChanges::default()
    }
}

/// One random write through the repository's write paths on `ids`.
async fn random_write(repo: &PgCustomerRepository, rng: &mut Rng, ids: &[CustomerId], n: u64) {
    let id = rng.pick(ids);
    match rng.below(9) {
        0 | 1 => {
            let new_id = next_customer_id();
            let _ = repo
                .insert(&new_id, &username_for(&new_id), &random_draft(rng, n))
                .await;
        }
        2 | 3 => {
            repo.update(&id, &random_changes(rng), &Precondition::Any)
                .await
                .unwrap()
                .found();
        }
        4 => {
            let some: Vec<CustomerId> = (0..3).map(|_| rng.pick(ids)).collect();
            let mut changes = random_changes(rng);
            changes.first_name = None;
            repo.bulk_update(&unpinned(&some), &changes).await.unwrap();
        }
        5 => {
            let what = rng.pick(&[Verification::Email, Verification::Phone]);
            repo.mark_verified(&id, what, &Precondition::Any)
                .await
                .unwrap()
                .done();
        }
        6 => {
            repo.record_login(&id, Utc::now(), &Precondition::Any)
                .await
                .unwrap()
                .done();
        }
        7 => {
            repo.deactivate(&id, &Precondition::Any)
                .await
                .unwrap()
                .done();
        }
        _ => {
            repo.delete(&id, &Precondition::Any).await.unwrap().done();
        }
    }
}

async fn live_ids(t: &Ctx) -> Vec<CustomerId> {
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = Text)]
        customer_id: String,
    }
    let mut conn = t.db.pool().get().await.unwrap();
    let rows: Vec<Id> = diesel::sql_query("SELECT customer_id FROM customers")
        .load(&mut conn)
        .await
        .unwrap();
    rows.into_iter()
        .map(|r| CustomerId::parse(&r.customer_id).unwrap())
        .collect()
}

#[derive(QueryableByName)]
struct Recomputed {
    #[diesel(sql_type = BigInt)]
    total: i64,
    #[diesel(sql_type = BigInt)]
    active: i64,
    #[diesel(sql_type = BigInt)]
    verified: i64,
    #[diesel(sql_type = BigInt)]
    today: i64,
    #[diesel(sql_type = BigInt)]
    week: i64,
    #[diesel(sql_type = BigInt)]
    month: i64,
    #[diesel(sql_type = Nullable<Double>)]
    average_age: Option<f64>,
}

#[derive(QueryableByName)]
struct Group {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = BigInt)]
    count: i64,
}

async fn groups(
    conn: &mut AsyncPgConnection,
    column: &str,
    country: Option<&str>,
    limit: Option<i64>,
) -> Vec<LocationCount> {
    let sql = format!(
        "SELECT {column} AS name, count(*) AS count FROM customers \
         WHERE {column} <> '' AND ($1::text IS NULL OR lower(country) = lower($1)) \
         GROUP BY {column} ORDER BY count(*) DESC, {column} LIMIT $2"
    );
    let rows: Vec<Group> = diesel::sql_query(sql)
        .bind::<Nullable<Text>, _>(country)
        .bind::<Nullable<BigInt>, _>(limit)
        .load(conn)
        .await
        .unwrap();
    rows.into_iter()
        .map(|g| LocationCount {
            name: g.name,
            count: g.count as u64,
        })
        .collect()
}

/// The overview computed from `customers` alone.
async fn recompute(t: &Ctx, window: &StatisticsWindow) -> CustomerStatistics {
    let mut conn = t.db.pool().get().await.unwrap();
    let r: Recomputed = diesel::sql_query(
        "SELECT count(*) AS total, count(*) FILTER (WHERE is_active) AS active,
                count(*) FILTER (WHERE is_verified) AS verified,
                count(*) FILTER (WHERE created_at >= $1) AS today,
                count(*) FILTER (WHERE created_at >= $2) AS week,
                count(*) FILTER (WHERE created_at >= $3) AS month,
                avg(date_part('epoch', ($4 AT TIME ZONE 'UTC') - date_of_birth)) / 31557600.0
                    AS average_age
         FROM customers",
    )
    .bind::<Timestamptz, _>(window.today_start)
    .bind::<Timestamptz, _>(window.week_start)
    .bind::<Timestamptz, _>(window.month_start)
    .bind::<Timestamptz, _>(window.now)
    .load(&mut conn)
    .await
    .unwrap()
    .remove(0);
    let top = Some(i64::from(StatisticsWindow::TOP_LOCATIONS));
    CustomerStatistics {
        total_customers: r.total as u64,
        active_customers: r.active as u64,
        verified_customers: r.verified as u64,
        new_customers_today: r.today as u64,
        new_customers_this_week: r.week as u64,
        new_customers_this_month: r.month as u64,
        customers_by_country: groups(&mut conn, "country", None, top).await,
        customers_by_city: groups(&mut conn, "city", None, top).await,
        average_customer_age: r.average_age,
        gender_distribution: groups(&mut conn, "gender", None, None).await,
    }
}

/// Asserts that every answer read from the aggregates equals the recomputation.
async fn assert_exact(t: &Ctx, context: &str) {
    let window = StatisticsWindow::ending_at(Utc::now());
    let mut kept = t.repo.statistics(&window).await.unwrap();
    let mut actual = recompute(t, &window).await;
    // The mean age is now minus the mean date of birth: equal up to float rounding.
    match (
        kept.average_customer_age.take(),
        actual.average_customer_age.take(),
    ) {
        (Some(a), Some(b)) => assert!((a - b).abs() < 1e-6, "{context}: mean age {a} vs {b}"),
        (a, b) => assert_eq!(a, b, "{context}: mean age"),
    }
    assert_eq!(kept, actual, "{context}: overview");

    let mut conn = t.db.pool().get().await.unwrap();
    for (level, column) in [
        (LocationLevel::Country, "country"),
        (LocationLevel::City, "city"),
        (LocationLevel::State, "state"),
    ] {
        for country in [None, Some("USA"), Some("norway"), Some("")] {
            let kept = t
                .repo
                .locations(level, country.map(String::from))
                .await
                .unwrap();
            let filter = (level != LocationLevel::Country)
                .then_some(country)
                .flatten();
            let expected = groups(&mut conn, column, filter, None).await;
            if level != LocationLevel::Country || country.is_none() {
                assert_eq!(kept, expected, "{context}: {column} in {country:?}");
            }
        }
    }

    #[derive(QueryableByName)]
    struct Totals {
        #[diesel(sql_type = BigInt)]
        all: i64,
        #[diesel(sql_type = BigInt)]
        active: i64,
    }
    let totals: Totals = diesel::sql_query(
        "SELECT count(*) AS all, count(*) FILTER (WHERE is_active) AS active FROM customers",
    )
    .load(&mut conn)
    .await
    .unwrap()
    .remove(0);
    for (is_active, expected) in [
        (None, totals.all),
        (Some(true), totals.active),
        (Some(false), totals.all - totals.active),
    ] {
        let page = t
            .repo
            .list(&ListQuery {
                is_active,
                ..ListQuery::default()
            })
            .await
            .unwrap();
        assert_eq!(
            page.total, expected as u64,
            "{context}: list total {is_active:?}"
        );
        assert!(!page.total_is_estimate);
    }
    let drift = infra_postgres::count_drift(t.db.pool()).await.unwrap();
    assert!(drift.is_empty(), "{context}: stats check reports {drift:?}");
}

/// Seeds some customers across several days.
async fn start(t: &Ctx, rng: &mut Rng) {
    for n in 0..12 {
        let id = next_customer_id();
        t.repo
            .insert(&id, &username_for(&id), &random_draft(rng, n))
            .await
            .unwrap();
    }
    let mut conn = t.db.pool().get().await.unwrap();
    // Spread creation over the last 40 days (an update: the day counts move).
    conn.batch_execute(
        "UPDATE customers SET created_at = now() - (id % 40) * interval '1 day' - interval '1 hour'",
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn random_sequences_of_every_write_keep_the_aggregates_exact() {
    for seed in 1..=6 {
        let t = ctx().await;
        let mut rng = Rng(seed);
        start(&t, &mut rng).await;
        assert_exact(&t, &format!("seed {seed}, start")).await;
        for step in 0..40 {
            let ids = live_ids(&t).await;
            if ids.is_empty() {
                break;
            }
            random_write(&t.repo, &mut rng, &ids, step).await;
            if step % 10 == 9 {
                assert_exact(&t, &format!("seed {seed}, step {step}")).await;
            }
        }
        assert_exact(&t, &format!("seed {seed}, end")).await;
    }
}

#[tokio::test]
async fn concurrent_writes_and_compactions_from_several_connections_keep_the_aggregates_exact() {
    let t = ctx().await;
    let mut rng = Rng(99);
    start(&t, &mut rng).await;
    for round in 0..8 {
        let ids = live_ids(&t).await;
        let writers = (0..6).map(|w| {
            let mut rng = Rng(round * 100 + w);
            let (repo, ids) = (&t.repo, &ids);
            async move {
                for step in 0..5 {
                    random_write(repo, &mut rng, ids, round * 1000 + w * 10 + step).await;
                }
            }
        });
        // The service folds the slots now and then, whatever the writers are doing.
        let compacting = async {
            for _ in 0..3 {
                infra_postgres::compact_counts(t.db.pool()).await.unwrap();
                tokio::task::yield_now().await;
            }
        };
        tokio::join!(join_all(writers), compacting);
        assert_exact(&t, &format!("round {round}")).await;
    }
}

#[tokio::test]
async fn writes_rolled_back_leave_the_aggregates_as_they_were() {
    let t = ctx().await;
    let mut rng = Rng(7);
    start(&t, &mut rng).await;
    let window = StatisticsWindow::ending_at(Utc::now());
    let before = t.repo.statistics(&window).await.unwrap();
    let mut conn = AsyncPgConnection::establish(t.db.url()).await.unwrap();
    conn.batch_execute(
        "BEGIN;
         INSERT INTO customers (customer_id, username, first_name, last_name, email, country)
             VALUES ('CUST_0FFFFFFF', 'rolledback', 'R', 'B', 'rb@example.com', 'Norway');
         UPDATE customers SET country = 'Atlantis', is_active = false;
         DELETE FROM customers WHERE id % 2 = 0;
         ROLLBACK;",
    )
    .await
    .unwrap();
    let after = t.repo.statistics(&window).await.unwrap();
    assert_eq!(before, after);
    assert_exact(&t, "after rollback").await;
}

#[tokio::test]
async fn raw_sql_writes_truncate_and_a_rebuild_keep_the_aggregates_exact() {
    let t = ctx().await;
    let mut rng = Rng(11);
    start(&t, &mut rng).await;
    let mut conn = AsyncPgConnection::establish(t.db.url()).await.unwrap();
    conn.batch_execute(
        "UPDATE customers SET country = upper(country), date_of_birth = date_of_birth + interval '1 day';
         INSERT INTO customers (customer_id, username, first_name, last_name, email, city, country)
             SELECT 'CUST_1' || lpad(n::text, 7, '0'), 'raw' || n, 'R', 'S', 'raw' || n || '@x.com',
                    'Bergen', 'Norway' FROM generate_series(1, 50) AS n;
         DELETE FROM customers WHERE username LIKE 'raw%' AND right(username, 1) IN ('1', '2');",
    )
    .await
    .unwrap();
    assert_exact(&t, "after raw SQL").await;

    // Drift planted by hand is found by the check and repaired by the rebuild.
    conn.batch_execute("UPDATE customer_counts SET customers = customers + 5 WHERE kind = 'all'")
        .await
        .unwrap();
    let drift = infra_postgres::count_drift(t.db.pool()).await.unwrap();
    assert_eq!(drift.len(), 1, "{drift:?}");
    assert_eq!(drift[0].kind, "all");
    infra_postgres::rebuild_counts(t.db.pool()).await.unwrap();
    assert_exact(&t, "after rebuild").await;

    conn.batch_execute("TRUNCATE customers").await.unwrap();
    assert_exact(&t, "after truncate").await;
    let empty = t
        .repo
        .statistics(&StatisticsWindow::ending_at(Utc::now()))
        .await
        .unwrap();
    assert_eq!(empty.total_customers, 0);
    assert_eq!(empty.average_customer_age, None);
}

#[tokio::test]
async fn the_day_counts_follow_whole_utc_days() {
    let t = ctx().await;
    let now: DateTime<Utc> = "2024-03-10T15:45:00Z".parse().unwrap();
    let window = StatisticsWindow::ending_at(now);
    // Created at: today just after midnight, 7 days back at midnight (in the week), 7 days
    // back just before midnight (not), 30 days back at midnight (in the month).
    let created = [
        "2024-03-10T00:00:01Z",
        "2024-03-03T00:00:00Z",
        "2024-03-02T23:59:59Z",
        "2024-02-09T00:00:00Z",
        "2024-02-08T23:59:59Z",
    ];
    let mut conn = t.db.pool().get().await.unwrap();
    for (n, at) in created.iter().enumerate() {
        let id = next_customer_id();
        t.repo
            .insert(
                &id,
                &username_for(&id),
                &draft("D", "Ay", &format!("d{n}@x.com")),
            )
            .await
            .unwrap();
        diesel::sql_query("UPDATE customers SET created_at = $1 WHERE customer_id = $2")
            .bind::<Timestamptz, _>(at.parse::<DateTime<Utc>>().unwrap())
            .bind::<Text, _>(id.as_str())
            .execute(&mut conn)
            .await
            .unwrap();
    }
    let stats = t.repo.statistics(&window).await.unwrap();
    assert_eq!(
        (
            stats.new_customers_today,
            stats.new_customers_this_week,
            stats.new_customers_this_month
        ),
        (1, 2, 4)
    );
    assert_eq!(recompute(&t, &window).await.new_customers_this_week, 2);
}

#[tokio::test]
async fn the_statistics_and_the_available_places_read_only_the_aggregates() {
    let t = ctx().await;
    let mut rng = Rng(5);
    start(&t, &mut rng).await;
    // A role that may read the aggregates but not a single customer: if any of these
    // answers scanned `customers`, PostgreSQL would refuse it.
    let role = format!("counts_only_{}", t.db.name());
    let mut conn = t.db.pool().get().await.unwrap();
    conn.batch_execute(&format!(
        "CREATE ROLE {role} LOGIN; GRANT SELECT ON customer_counts TO {role};"
    ))
    .await
    .unwrap();
    let (scheme, rest) = t.db.url().split_once("://").unwrap();
    let (_, host_and_db) = rest.split_once('@').unwrap();
    let url = format!("{scheme}://{role}@{host_and_db}");
    let pool = infra_postgres::build_pool(&infra_postgres::PoolSettings::for_url(url)).unwrap();
    let repo = PgCustomerRepository::new(pool.clone());
    let window = StatisticsWindow::ending_at(Utc::now());
    let read = repo.statistics(&window).await;
    let places = repo
        .locations(LocationLevel::City, Some("Norway".into()))
        .await;
    let find = repo.find_by_customer_id(&next_customer_id()).await;
    pool.close();
    conn.batch_execute(&format!("DROP OWNED BY {role}; DROP ROLE {role};"))
        .await
        .unwrap();
    assert_eq!(read.unwrap(), t.repo.statistics(&window).await.unwrap());
    assert!(places.is_ok(), "{places:?}");
    // The role really cannot read customers: the check above could not pass by accident.
    assert!(find.is_err(), "{find:?}");
}

#[tokio::test]
async fn compaction_folds_every_group_into_one_row_and_changes_no_answer() {
    let t = ctx().await;
    let mut rng = Rng(21);
    start(&t, &mut rng).await;
    for step in 0..60 {
        let ids = live_ids(&t).await;
        random_write(&t.repo, &mut rng, &ids, step).await;
    }
    let window = StatisticsWindow::ending_at(Utc::now());
    let before = t.repo.statistics(&window).await.unwrap();
    let folded = infra_postgres::compact_counts(t.db.pool()).await.unwrap();
    assert!(
        folded > 0,
        "the writes spread some groups over several slots"
    );
    assert_eq!(t.repo.statistics(&window).await.unwrap(), before);
    #[derive(QueryableByName)]
    struct Spread {
        #[diesel(sql_type = BigInt)]
        rows: i64,
        #[diesel(sql_type = BigInt)]
        groups: i64,
    }
    let mut conn = t.db.pool().get().await.unwrap();
    let spread: Spread = diesel::sql_query(
        "SELECT count(*) AS rows, count(DISTINCT (kind, value, country)) AS groups \
         FROM customer_counts",
    )
    .load(&mut conn)
    .await
    .unwrap()
    .remove(0);
    assert_eq!(spread.rows, spread.groups);
    assert_eq!(
        infra_postgres::compact_counts(t.db.pool()).await.unwrap(),
        0
    );
    assert_exact(&t, "after compaction").await;
}
