//! `statistics` on known data, an empty table, and the size limit of the place maps.

use chrono::NaiveDate;
use diesel_async::RunQueryDsl;
use domain::{
    CustomerChanges, CustomerStatistics, CustomerStore, Gender, LocationCount, Precondition,
    StatisticsSource, StatisticsWindow,
};

use crate::support::{Outcome, at, ctx, draft, insert, insert_many, set_created_at};

fn counts(pairs: &[(&str, u64)]) -> Vec<LocationCount> {
    pairs
        .iter()
        .map(|(name, count)| LocationCount {
            name: (*name).to_owned(),
            count: *count,
        })
        .collect()
}

#[tokio::test]
async fn statistics_count_windows_places_genders_and_the_mean_age_of_known_data() {
    let t = ctx().await;
    let now = at(2024, 3, 10, 15) + chrono::Duration::minutes(45);
    let window = StatisticsWindow::ending_at(now);
    let dob = |y, m, d| {
        NaiveDate::from_ymd_opt(y, m, d)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap()
    };
    // (created, city, country, gender, date of birth)
    let rows = [
        (
            at(2024, 3, 10, 10),
            Some("New York"),
            Some("USA"),
            Some(Gender::Male),
            Some(dob(1990, 3, 10)),
        ),
        (
            at(2024, 3, 5, 0),
            Some("Boston"),
            Some("USA"),
            Some(Gender::Female),
            Some(dob(1980, 1, 1)),
        ),
        (
            at(2024, 2, 20, 0),
            Some("Toronto"),
            Some("Canada"),
            Some(Gender::Female),
            None,
        ),
        (at(2024, 1, 1, 0), Some("New York"), Some("USA"), None, None),
        // Created later the same day (after the window's `now`), with an empty country:
        // counted in today, the week and the month (whole UTC days, as the original
        // counted), not among the countries.
        (
            at(2024, 3, 10, 16),
            None,
            Some(""),
            Some(Gender::Other),
            None,
        ),
    ];
    let mut stored = Vec::new();
    for (i, (created, city, country, gender, born)) in rows.into_iter().enumerate() {
        let mut new = draft("A", "B", &format!("s{i}@example.com"));
        new.city = city.map(Into::into);
        new.country = country.map(Into::into);
        new.gender = gender;
        new.date_of_birth = born;
        let c = insert(&t.repo, &new).await;
        set_created_at(&t.db, &c, created).await;
        stored.push(c);
    }
    t.repo
        .deactivate(&stored[1].customer_id, &Precondition::Any)
        .await
        .unwrap()
        .done();
    let verify = CustomerChanges {
        is_verified: Some(true),
        ..CustomerChanges::default()
    };
    t.repo
        .update(&stored[0].customer_id, &verify, &Precondition::Any)
        .await
        .unwrap()
        .found();

    let stats = t.repo.statistics(&window).await.unwrap();

    let years = |born: NaiveDate| {
        (now.naive_utc() - born.and_hms_opt(0, 0, 0).unwrap()).num_seconds() as f64 / 31_557_600.0
    };
    let mean = (years(NaiveDate::from_ymd_opt(1990, 3, 10).unwrap())
        + years(NaiveDate::from_ymd_opt(1980, 1, 1).unwrap()))
        / 2.0;
    let average = stats.average_customer_age.unwrap();
    assert!((average - mean).abs() < 1e-9, "{average} vs {mean}");
    assert_eq!(
        stats,
        CustomerStatistics {
            total_customers: 5,
            active_customers: 4,
            verified_customers: 1,
            new_customers_today: 2,
            new_customers_this_week: 3,
            new_customers_this_month: 4,
            customers_by_country: counts(&[("USA", 3), ("Canada", 1)]),
            customers_by_city: counts(&[("New York", 2), ("Boston", 1), ("Toronto", 1)]),
            average_customer_age: Some(average),
            gender_distribution: counts(&[("female", 2), ("male", 1), ("other", 1)]),
        }
    );
}

#[tokio::test]
async fn statistics_of_an_empty_table_are_zero_without_a_mean_age() {
    let t = ctx().await;
    let stats = t
        .repo
        .statistics(&StatisticsWindow::ending_at(at(2024, 1, 1, 0)))
        .await
        .unwrap();
    assert_eq!(stats, CustomerStatistics::default());
}

#[tokio::test]
async fn the_place_maps_hold_only_the_largest_entries() {
    let t = ctx().await;
    insert_many(&t.db, 150).await;
    let mut conn = t.db.pool().get().await.unwrap();
    // 150 customers in 150 countries, then the first moves to C150, which now has two.
    diesel::sql_query("UPDATE customers SET country = 'C' || lpad(id::text, 3, '0'), city = 'X'")
        .execute(&mut conn)
        .await
        .unwrap();
    diesel::sql_query("UPDATE customers SET country = 'C150' WHERE id = 1")
        .execute(&mut conn)
        .await
        .unwrap();
    let stats = t
        .repo
        .statistics(&StatisticsWindow::ending_at(at(2024, 1, 1, 0)))
        .await
        .unwrap();
    let limit = StatisticsWindow::TOP_LOCATIONS as usize;
    assert_eq!(stats.customers_by_country.len(), limit);
    assert_eq!(stats.customers_by_country[0], counts(&[("C150", 2)])[0]);
    // Equal counts are ordered by name.
    assert_eq!(stats.customers_by_country[1].name, "C002");
    assert_eq!(stats.customers_by_city, counts(&[("X", 150)]));
}
