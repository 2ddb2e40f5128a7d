//! Customers by tag and place, and the places customers are in.

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use domain::{LocationCount, LocationLevel, MockCustomerUseCases, Tags, ValidationErrors};
use serde_json::json;

use crate::support::{assert_invalid_at, john_doe, send, untouched};

#[actix_web::test]
async fn customers_by_tags_answer_the_customers_and_the_parsed_tags() {
    let mut mock = MockCustomerUseCases::new();
    mock.expect_by_tags()
        .withf(|tags, page| tags == "premium,tech" && page.offset == 5 && page.limit == 20)
        .returning(|_, _| Ok((Tags::parse("premium,tech").unwrap(), vec![john_doe()])));
    let reply = send(
        mock,
        TestRequest::get().uri("/api/v1/customers/tags/premium,tech?skip=5&limit=20"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json["tags"], json!(["premium", "tech"]));
    assert_eq!(reply.json["customers"][0]["username"], json!("johndoe1234"));
}

#[actix_web::test]
async fn a_rejected_tag_list_answers_422_at_the_path() {
    let mut mock = MockCustomerUseCases::new();
    mock.expect_by_tags()
        .returning(|_, _| Err(ValidationErrors::single("tags", domain::Rule::NoTag).into()));
    let reply = send(mock, TestRequest::get().uri("/api/v1/customers/tags/,,")).await;
    assert_invalid_at(&reply, json!(["path", "tags"]));
}

#[actix_web::test]
async fn a_tag_page_larger_than_1000_answers_422_at_the_query() {
    let reply = send(
        untouched(),
        TestRequest::get().uri("/api/v1/customers/tags/premium?limit=1001"),
    )
    .await;
    assert_invalid_at(&reply, json!(["query", "limit"]));
}

#[actix_web::test]
async fn a_location_search_echoes_its_filters() {
    let mut mock = MockCustomerUseCases::new();
    mock.expect_by_location()
        .withf(|f, page| {
            f.city.as_deref() == Some("New York")
                && f.country.as_deref() == Some("USA")
                && f.state.is_none()
                && page.limit == 100
        })
        .returning(|_, _| Ok(vec![john_doe()]));
    let reply = send(
        mock,
        TestRequest::get().uri("/api/v1/customers/location/search?city=New%20York&country=USA"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(
        reply.json["filters"],
        json!({"city": "New York", "state": null, "country": "USA"})
    );
    assert_eq!(reply.json["customers"].as_array().map(Vec::len), Some(1));
}

#[actix_web::test]
async fn a_bad_location_filter_answers_422_at_the_query() {
    let mut mock = MockCustomerUseCases::new();
    mock.expect_by_location().returning(|_, _| {
        Err(ValidationErrors::single("city", domain::Rule::ControlCharacters).into())
    });
    let reply = send(
        mock,
        TestRequest::get().uri("/api/v1/customers/location/search?city=%00"),
    )
    .await;
    assert_invalid_at(&reply, json!(["query", "city"]));
    let reply = send(
        untouched(),
        TestRequest::get().uri("/api/v1/customers/location/search?skip=-3"),
    )
    .await;
    assert_invalid_at(&reply, json!(["query", "skip"]));
}

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
async fn available_countries_answer_names_and_counts() {
    let mut mock = MockCustomerUseCases::new();
    mock.expect_locations()
        .withf(|level, country| *level == LocationLevel::Country && country.is_none())
        .returning(|_, _| Ok(counts(&[("USA", 850), ("Canada", 120)])));
    let reply = send(
        mock,
        TestRequest::get().uri("/api/v1/customers/available/countries"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.json,
        json!({"countries": [{"country": "USA", "count": 850}, {"country": "Canada", "count": 120}]})
    );
}

#[actix_web::test]
async fn available_cities_echo_the_country_given() {
    let mut mock = MockCustomerUseCases::new();
    mock.expect_locations()
        .withf(|level, country| *level == LocationLevel::City && country.as_deref() == Some("USA"))
        .returning(|_, _| Ok(counts(&[("New York", 125)])));
    let reply = send(
        mock,
        TestRequest::get().uri("/api/v1/customers/available/cities?country=USA"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.json,
        json!({"cities": [{"city": "New York", "count": 125}], "country": "USA"})
    );
}

#[actix_web::test]
async fn available_states_without_a_country_show_a_null_country() {
    let mut mock = MockCustomerUseCases::new();
    mock.expect_locations()
        .withf(|level, country| *level == LocationLevel::State && country.is_none())
        .returning(|_, _| Ok(counts(&[("NY", 130)])));
    let reply = send(
        mock,
        TestRequest::get().uri("/api/v1/customers/available/states"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.json,
        json!({"states": [{"state": "NY", "count": 130}], "country": null})
    );
}
