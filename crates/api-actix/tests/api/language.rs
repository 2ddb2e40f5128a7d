//! `preferred_language` at the HTTP edge: passed to the use cases as sent (the domain
//! checks and canonicalises it), shown in every customer, a search filter (parsed here),
//! worded in pydantic's terms when malformed, and described in the OpenAPI document.

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use domain::{CustomerPage, LanguageTag, MockCustomerUseCases, Patch, Rule, ValidationErrors};
use serde_json::{Value, json};

use crate::support::{assert_invalid_at, contract_create_body, john_doe, send, untouched};

const MALFORMED: &str =
    "must be a well-formed BCP 47 language tag, such as en, pt-BR or zh-Hant-TW";

#[expect(
    clippy::unwrap_used,
    reason = "a fixture: a failure here is a broken test"
)]
fn speaking_portuguese() -> domain::Customer {
    domain::Customer {
        preferred_language: Some(LanguageTag::parse("pt-BR").unwrap()),
        ..john_doe()
    }
}

#[actix_web::test]
async fn a_language_is_passed_on_as_sent_and_shown_as_stored() {
    let mut mock = MockCustomerUseCases::new();
    mock.expect_create()
        .withf(|input| input.preferred_language.as_deref() == Some("pt-br"))
        .times(1)
        .returning(|_| Ok(speaking_portuguese()));
    let mut body = contract_create_body();
    body["preferred_language"] = json!("pt-br");
    let reply = send(
        mock,
        TestRequest::post().uri("/api/v1/customers/").set_json(body),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json["preferred_language"], json!("pt-BR"));
}

#[actix_web::test]
async fn a_malformed_language_answers_422_in_pydantics_words() {
    let mut mock = MockCustomerUseCases::new();
    mock.expect_create().times(1).returning(|_| {
        Err(ValidationErrors::single("preferred_language", Rule::LanguageTag).into())
    });
    let mut body = contract_create_body();
    body["preferred_language"] = json!("pt_BR");
    let reply = send(
        mock,
        TestRequest::post().uri("/api/v1/customers/").set_json(body),
    )
    .await;
    assert_invalid_at(&reply, json!(["body", "preferred_language"]));
    assert_eq!(
        reply.json["detail"][0],
        json!({
            "type": "value_error",
            "loc": ["body", "preferred_language"],
            "msg": format!("Value error, {MALFORMED}"),
            "input": "pt_BR",
            "ctx": {"error": MALFORMED},
        })
    );
}

#[actix_web::test]
async fn with_another_bad_field_the_language_is_checked_without_calling_the_service() {
    let mut body = contract_create_body();
    body["date_of_birth"] = json!("15/01/1990");
    body["preferred_language"] = json!("en-");
    let reply = send(
        untouched(),
        TestRequest::post().uri("/api/v1/customers/").set_json(body),
    )
    .await;
    assert_invalid_at(&reply, json!(["body", "date_of_birth"]));
    assert_eq!(
        reply.json["detail"][1]["loc"],
        json!(["body", "preferred_language"])
    );
    assert_eq!(
        reply.json["detail"][1]["msg"],
        json!(format!("Value error, {MALFORMED}"))
    );
}

#[actix_web::test]
async fn a_language_over_35_characters_is_a_string_too_long() {
    let long = format!("en-{}", "a".repeat(33));
    let mut mock = MockCustomerUseCases::new();
    mock.expect_update().times(1).returning(|_, _, _| {
        Err(ValidationErrors::single("preferred_language", Rule::MaxLength(35)).into())
    });
    let reply = send(
        mock,
        TestRequest::put()
            .uri("/api/v1/customers/CUST_A1B2C3D4")
            .set_json(json!({"preferred_language": long})),
    )
    .await;
    assert_invalid_at(&reply, json!(["body", "preferred_language"]));
    assert_eq!(reply.json["detail"][0]["type"], json!("string_too_long"));
    assert_eq!(
        reply.json["detail"][0]["msg"],
        json!("String should have at most 35 characters")
    );
    assert_eq!(reply.json["detail"][0]["ctx"], json!({"max_length": 35}));
    assert_eq!(reply.json["detail"][0]["input"], json!(long));
}

#[actix_web::test]
async fn null_clears_the_language_and_absence_keeps_it() {
    for (body, expected) in [
        (json!({"preferred_language": null}), Patch::Clear),
        (json!({"city": "Lisbon"}), Patch::Keep),
        (
            json!({"preferred_language": "sr-latn"}),
            Patch::Set("sr-latn".to_owned()),
        ),
    ] {
        let mut mock = MockCustomerUseCases::new();
        let want = expected.clone();
        mock.expect_update()
            .withf(move |_, patch, _| patch.preferred_language == want)
            .times(1)
            .returning(|_, _, _| Ok(john_doe()));
        let reply = send(
            mock,
            TestRequest::put()
                .uri("/api/v1/customers/CUST_A1B2C3D4")
                .set_json(body),
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        assert_eq!(reply.json["preferred_language"], Value::Null);
    }
}

#[actix_web::test]
async fn the_search_filter_reaches_the_use_case_as_a_canonical_tag() {
    let mut mock = MockCustomerUseCases::new();
    mock.expect_search()
        .withf(|c| c.preferred_language.as_ref().map(LanguageTag::as_str) == Some("zh-Hant-TW"))
        .times(1)
        .returning(|_| {
            Ok(CustomerPage {
                customers: vec![speaking_portuguese()],
                total: 1,
                total_is_estimate: false,
                next_cursor: None,
            })
        });
    let reply = send(
        mock,
        TestRequest::post()
            .uri("/api/v1/customers/search")
            .set_json(json!({"preferred_language": "zh-hant-tw"})),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(
        reply.json["customers"][0]["preferred_language"],
        json!("pt-BR")
    );
}

#[actix_web::test]
async fn a_malformed_search_filter_answers_422_without_searching() {
    let reply = send(
        untouched(),
        TestRequest::post()
            .uri("/api/v1/customers/search")
            .set_json(json!({"preferred_language": "en-US-", "limit": 0})),
    )
    .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.text
    );
    let fields: Vec<&Value> = reply.json["detail"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| &d["loc"])
        .collect();
    assert_eq!(
        fields,
        [
            &json!(["body", "preferred_language"]),
            &json!(["body", "limit"])
        ],
        "in the order the body declares its fields"
    );
    assert_eq!(
        reply.json["detail"][0]["msg"],
        json!(format!("Value error, {MALFORMED}"))
    );
}

#[actix_web::test]
async fn the_openapi_document_describes_the_field_and_the_filter() {
    let reply = send(untouched(), TestRequest::get().uri("/openapi.json")).await;
    let schemas = &reply.json["components"]["schemas"];
    for schema in [
        "CustomerResponse",
        "CreateCustomerRequest",
        "UpdateCustomerRequest",
        "BulkUpdateChanges",
        "SearchRequest",
    ] {
        let property = &schemas[schema]["properties"]["preferred_language"];
        assert_eq!(property["example"], json!("pt-BR"), "{schema}: {property}");
        let description = property["description"].as_str().unwrap_or_default();
        assert!(description.contains("BCP 47"), "{schema}: {property}");
    }
    let search = &schemas["SearchRequest"]["properties"]["preferred_language"];
    assert!(search["description"].as_str().unwrap().contains("exactly"));
    assert_eq!(search["maxLength"], json!(35));
    let description = reply.json["info"]["description"].as_str().unwrap();
    assert!(
        description.contains("`preferred_language`"),
        "{description}"
    );
}
