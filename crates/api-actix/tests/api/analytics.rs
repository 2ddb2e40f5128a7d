//! Statistics.

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use domain::{CustomerStatistics, LocationCount, MockCustomerUseCases};
use serde_json::json;

use crate::support::send;

fn counts(pairs: &[(&str, u64)]) -> Vec<LocationCount> {
    pairs
        .iter()
        .map(|(name, count)| LocationCount {
            name: (*name).to_owned(),
            count: *count,
        })
        .collect()
}

#[actix_web::test]
async fn statistics_answer_exactly_the_contracts_object_with_maps_in_count_order() {
    let mut mock = MockCustomerUseCases::new();
    mock.expect_statistics().returning(|| {
        Ok(CustomerStatistics {
            total_customers: 1250,
            active_customers: 1180,
            verified_customers: 890,
            new_customers_today: 15,
            new_customers_this_week: 89,
            new_customers_this_month: 234,
            customers_by_country: counts(&[("USA", 850), ("Canada", 120), ("UK", 95)]),
            customers_by_city: counts(&[("New York", 125), ("Los Angeles", 98), ("Chicago", 87)]),
            average_customer_age: Some(32.5),
            gender_distribution: counts(&[("male", 620), ("female", 580), ("other", 50)]),
        })
    });
    let reply = send(
        mock,
        TestRequest::get().uri("/api/v1/customers/statistics/overview"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.json,
        json!({
            "total_customers": 1250,
            "active_customers": 1180,
            "verified_customers": 890,
            "new_customers_today": 15,
            "new_customers_this_week": 89,
            "new_customers_this_month": 234,
            "customers_by_country": {"USA": 850, "Canada": 120, "UK": 95},
            "customers_by_city": {"New York": 125, "Los Angeles": 98, "Chicago": 87},
            "average_customer_age": 32.5,
            "gender_distribution": {"male": 620, "female": 580, "other": 50}
        })
    );
    // JSON objects compare unordered: check the order on the wire too.
    assert!(
        reply
            .text
            .contains(r#""customers_by_country":{"USA":850,"Canada":120,"UK":95}"#),
        "{}",
        reply.text
    );
}

#[actix_web::test]
async fn statistics_without_any_date_of_birth_show_a_null_average_age() {
    let mut mock = MockCustomerUseCases::new();
    mock.expect_statistics()
        .returning(|| Ok(CustomerStatistics::default()));
    let reply = send(
        mock,
        TestRequest::get().uri("/api/v1/customers/statistics/overview"),
    )
    .await;
    assert_eq!(reply.json["average_customer_age"], json!(null));
    assert_eq!(reply.json["customers_by_city"], json!({}));
}
