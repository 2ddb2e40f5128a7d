//! Contract fidelity (issue 14): what the original service (FastAPI 0.104, pydantic 2.5)
//! answered, exactly, where its clients look; one test per point.

use serde_json::{Value, json};

use crate::helpers::{contract_john_doe, customer, spawn_app, spawn_app_with};

#[tokio::test]
async fn action_messages_are_the_originals_word_for_word() {
    let app = spawn_app().await;
    let id = app.create(&contract_john_doe()).await["customer_id"]
        .as_str()
        .unwrap()
        .to_owned();
    for (path, message) in [
        ("verify-email", "Customer email verified successfully"),
        ("verify-phone", "Customer phone verified successfully"),
        ("last-login", "Last login updated successfully"),
    ] {
        let (status, body) = app.patch(&format!("/{id}/{path}")).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body, json!({"message": message}));
    }
    assert_eq!(
        app.delete(&format!("/{id}")).await,
        (200, json!({"message": "Customer deleted successfully"}))
    );
    assert_eq!(
        app.delete(&format!("/{id}/hard")).await,
        (200, json!({"message": "Customer permanently deleted"}))
    );
}

#[tokio::test]
async fn health_says_healthy_and_names_the_database() {
    let app = spawn_app().await;
    let res = app
        .client
        .get(format!("{}/health", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body, json!({"status": "healthy", "database": "ok"}));
}

#[tokio::test]
async fn text_filters_of_search_and_location_search_match_substrings_ignoring_case() {
    let app = spawn_app().await;
    let mut ny = contract_john_doe();
    ny["company_name"] = json!("Tech Corp");
    let ny = app.create(&ny).await;
    let mut la = customer("Jane", "Smith", "jane.smith@example.com");
    la["city"] = json!("Los Angeles");
    la["state"] = json!("CA");
    la["country"] = json!("USA");
    let la = app.create(&la).await;
    let ids = |body: &Value| -> Vec<Value> {
        body["customers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["customer_id"].clone())
            .collect()
    };
    for (filter, expected) in [
        (json!({"city": "york"}), vec![ny["customer_id"].clone()]),
        (json!({"state": "c"}), vec![la["customer_id"].clone()]),
        (
            json!({"country": "us"}),
            vec![la["customer_id"].clone(), ny["customer_id"].clone()],
        ),
        (
            json!({"first_name": "OHN"}),
            vec![ny["customer_id"].clone()],
        ),
        (json!({"last_name": "mit"}), vec![la["customer_id"].clone()]),
        (
            json!({"email": "DOE@example"}),
            vec![ny["customer_id"].clone()],
        ),
        (json!({"phone": "555-01"}), vec![ny["customer_id"].clone()]),
        (
            json!({"company_name": "tech"}),
            vec![ny["customer_id"].clone()],
        ),
        (json!({"city": "%"}), vec![]),
        (json!({"city": "_"}), vec![]),
    ] {
        let mut body = filter.clone();
        body["sort_by"] = json!("id");
        body["sort_order"] = json!("desc");
        let (status, page) = app.post("/search", &body).await;
        assert_eq!(status, 200, "{page}");
        assert_eq!(ids(&page), expected, "{filter}");
    }
    let (status, found) = app.get("/location/search?city=YORK&country=sa").await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(ids(&found), vec![ny["customer_id"].clone()]);
    assert_eq!(
        found["filters"],
        json!({"city": "YORK", "state": null, "country": "sa"})
    );
    // `available/cities?country=` stays an exact match, as the original's `==`.
    let (_, cities) = app.get("/available/cities?country=US").await;
    assert_eq!(cities["cities"], json!([]));
    let (_, cities) = app.get("/available/cities?country=USA").await;
    assert_eq!(cities["cities"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn an_empty_body_lists_every_missing_field_in_one_422() {
    let app = spawn_app().await;
    let (status, body) = app.post("/", &json!({})).await;
    assert_eq!(status, 422);
    assert_eq!(
        body,
        json!({
            "detail": [
                {"type": "missing", "loc": ["body", "first_name"], "msg": "Field required", "input": {}},
                {"type": "missing", "loc": ["body", "last_name"], "msg": "Field required", "input": {}},
                {"type": "missing", "loc": ["body", "email"], "msg": "Field required", "input": {}},
            ],
            "code": "validation_error"
        })
    );
}

#[tokio::test]
async fn structural_and_semantic_errors_of_one_body_come_together_in_pydantics_words() {
    let app = spawn_app().await;
    let (status, body) = app
        .post(
            "/",
            &json!({"first_name": "", "last_name": "x".repeat(101), "email": "not-an-email",
                    "phone": 5, "gender": "robot", "marketing_emails": "maybe"}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        body["detail"],
        json!([
            {"type": "string_too_short", "loc": ["body", "first_name"],
             "msg": "String should have at least 1 character", "input": "",
             "ctx": {"min_length": 1}},
            {"type": "string_too_long", "loc": ["body", "last_name"],
             "msg": "String should have at most 100 characters", "input": "x".repeat(101),
             "ctx": {"max_length": 100}},
            {"type": "value_error", "loc": ["body", "email"],
             "msg": "value is not a valid email address: An email address must have an @-sign.",
             "input": "not-an-email", "ctx": {"reason": "An email address must have an @-sign."}},
            {"type": "string_type", "loc": ["body", "phone"],
             "msg": "Input should be a valid string", "input": 5},
            {"type": "enum", "loc": ["body", "gender"],
             "msg": "Input should be 'male', 'female', 'other' or 'prefer_not_to_say'",
             "input": "robot",
             "ctx": {"expected": "'male', 'female', 'other' or 'prefer_not_to_say'"}},
            {"type": "bool_parsing", "loc": ["body", "marketing_emails"],
             "msg": "Input should be a valid boolean, unable to interpret input",
             "input": "maybe"},
        ])
    );
}

#[tokio::test]
async fn bad_query_parameters_are_all_reported_at_once() {
    let app = spawn_app().await;
    let (status, body) = app.get("/?skip=-1&limit=abc&is_active=maybe").await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        body["detail"],
        json!([
            {"type": "greater_than_equal", "loc": ["query", "skip"],
             "msg": "Input should be greater than or equal to 0", "input": "-1",
             "ctx": {"ge": 0}},
            {"type": "int_parsing", "loc": ["query", "limit"],
             "msg": "Input should be a valid integer, unable to parse string as an integer",
             "input": "abc"},
            {"type": "bool_parsing", "loc": ["query", "is_active"],
             "msg": "Input should be a valid boolean, unable to interpret input",
             "input": "maybe"},
        ])
    );
    let (status, body) = app
        .post(
            "/search",
            &json!({"page": 0, "limit": 101, "sort_by": "password"}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    let kinds: Vec<&str> = body["detail"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["enum", "greater_than_equal", "less_than_equal"]);
}

#[tokio::test]
async fn full_address_is_null_without_address_parts_and_joined_with_commas_otherwise() {
    let app = spawn_app().await;
    let bare = app
        .create(&customer("No", "Address", "no.address@example.com"))
        .await;
    assert_eq!(bare["full_address"], Value::Null);
    let full = app.create(&contract_john_doe()).await;
    assert_eq!(
        full["full_address"],
        json!("123 Main Street, New York, NY, 10001, USA")
    );
}

async fn document(app: &crate::helpers::TestApp) -> Value {
    app.client
        .get(format!("{}/openapi.json", app.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn soft_and_permanent_delete_have_names_no_one_can_confuse() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let id = |path: &str| doc["paths"][path]["delete"]["operationId"].clone();
    assert_eq!(
        id("/api/v1/customers/{customer_id}"),
        json!("deactivate_customer")
    );
    assert_eq!(
        id("/api/v1/customers/{customer_id}/hard"),
        json!("delete_customer_permanently")
    );
    assert_eq!(
        doc["servers"],
        json!([{"url": "/", "description": "This service"}])
    );
    assert!(doc["info"]["contact"]["name"].is_string());
    assert_eq!(doc["paths"]["/health"]["get"]["security"], json!([]));
}

#[tokio::test]
async fn gender_sort_by_and_sort_order_are_published_as_enums() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let schemas = &doc["components"]["schemas"];
    assert_eq!(
        schemas["Gender"]["enum"],
        json!(["male", "female", "other", "prefer_not_to_say"])
    );
    assert_eq!(schemas["SortOrder"]["enum"], json!(["asc", "desc"]));
    assert_eq!(schemas["SortBy"]["enum"].as_array().unwrap().len(), 11);
    let search = &schemas["SearchRequest"]["properties"];
    assert!(
        search["sort_by"]
            .to_string()
            .contains("#/components/schemas/SortBy")
    );
    assert!(
        search["sort_order"]
            .to_string()
            .contains("#/components/schemas/SortOrder")
    );
    let create = &schemas["CreateCustomerRequest"]["properties"];
    assert!(
        create["gender"]
            .to_string()
            .contains("#/components/schemas/Gender")
    );
}

#[tokio::test]
async fn the_served_document_declares_security_only_when_authentication_is_on() {
    let off = document(&spawn_app().await).await;
    let on = document(
        &spawn_app_with(&[
            ("APP__AUTH__ENABLED", "true"),
            (
                "APP__AUTH__HS256_SECRET",
                "contract-test-secret-of-at-least-32-bytes",
            ),
        ])
        .await,
    )
    .await;
    let list = |doc: &Value| doc["paths"]["/api/v1/customers/"]["get"].clone();
    assert_eq!(list(&off)["security"], json!([]));
    assert!(list(&off)["responses"]["401"].is_null());
    assert!(off["components"]["securitySchemes"].is_null());
    assert_eq!(list(&on)["security"], json!([{"bearer": []}]));
    assert!(list(&on)["responses"]["401"].is_object());
}

#[tokio::test]
async fn the_bulk_update_schema_has_no_email_and_names_are_bounded_as_the_service_bounds_them() {
    let doc = document(&spawn_app().await).await;
    let schemas = &doc["components"]["schemas"];
    let bulk = schemas["BulkUpdateChanges"]["properties"]
        .as_object()
        .unwrap();
    let single = schemas["UpdateCustomerRequest"]["properties"]
        .as_object()
        .unwrap();
    assert!(!bulk.contains_key("email"));
    let mut expected: Vec<&String> = single.keys().filter(|k| *k != "email").collect();
    let mut got: Vec<&String> = bulk.keys().collect();
    expected.sort();
    got.sort();
    assert_eq!(got, expected);
    assert!(
        schemas["BulkUpdateRequest"]["properties"]["updates"]
            .to_string()
            .contains("BulkUpdateChanges")
    );
    let first_name = &schemas["CreateCustomerRequest"]["properties"]["first_name"];
    assert_eq!(first_name["minLength"], 1);
    assert_eq!(first_name["maxLength"], 100);
}

#[tokio::test]
async fn a_date_that_is_no_date_time_is_reported_as_pydantic_reports_it() {
    let app = spawn_app().await;
    let mut body = customer("Ann", "Lee", "ann.dates@example.com");
    body["date_of_birth"] = json!("15/01/1990");
    let (status, answer) = app.post("/", &body).await;
    assert_eq!(status, 422, "{answer}");
    let error = &answer["detail"][0];
    assert_eq!(error["type"], "datetime_parsing", "{answer}");
    assert_eq!(error["loc"], json!(["body", "date_of_birth"]));
    assert_eq!(
        error["msg"],
        "Input should be a valid datetime, invalid character in year"
    );
    assert_eq!(error["input"], "15/01/1990");

    let (status, answer) = app
        .post("/search", &json!({"created_after": "2024-02-30"}))
        .await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(answer["detail"][0]["type"], "datetime_parsing");
    assert_eq!(
        answer["detail"][0]["msg"],
        "Input should be a valid datetime, day value is outside expected range"
    );
}
