//! What the original service's own client expects, written from what its test script
//! (`python-backend/test_customer_api.py` in `abhimanyuyadav0/python-experiment`) checks: the
//! same calls in the same order, to the same URLs (the collection without its trailing
//! slash, a space in a query left to the client to encode), each answered 200 with JSON, and
//! the keys it reads (`customer_id` of every create, `username` of the customer). The script
//! stops at once when its first create is not 200, as it was when creates answered 201.

use reqwest::{Method, Response};
use serde_json::{Value, json};

use crate::helpers::{TestApp, contract_john_doe, spawn_app};

/// Sends `method` to `CUSTOMER_API_BASE` + `path` as the script's `requests` calls do, and
/// returns the status with the body, which must be JSON for every answer below 400.
async fn call(app: &TestApp, method: Method, path: &str, body: Option<&Value>) -> (u16, Value) {
    let url = format!("{}/api/v1/customers{path}", app.base);
    let mut request = app.client.request(method.clone(), &url);
    if let Some(body) = body {
        request = request.json(body);
    }
    let response: Response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    let json = serde_json::from_str(&text).unwrap_or_else(|_| {
        panic!("{method} {path}: {status} with a body that is not JSON: {text}")
    });
    (status, json)
}

/// As [`call`], failing unless the answer is 200.
async fn ok(app: &TestApp, method: Method, path: &str, body: Option<&Value>) -> Value {
    let (status, json) = call(app, method.clone(), path, body).await;
    assert_eq!(status, 200, "{method} {path}: {json}");
    json
}

/// The key the script reads from a create's answer.
fn customer_id(created: &Value) -> String {
    created["customer_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no customer_id in {created}"))
        .to_owned()
}

#[tokio::test]
async fn the_original_services_client_gets_every_answer_it_checks_for() {
    let app = spawn_app().await;
    let app = &app;

    // test_create_customer: `if response.status_code == 200: return ...["customer_id"]`.
    let john = ok(app, Method::POST, "", Some(&contract_john_doe())).await;
    let id = customer_id(&john);

    // test_create_multiple_customers: the same check for each.
    let others = [
        json!({"first_name": "Jane", "last_name": "Smith", "email": "jane.smith@example.com",
               "phone": "+1-555-0124", "city": "Los Angeles", "state": "CA", "country": "USA",
               "gender": "female", "marketing_emails": true, "tags": "premium,west-coast"}),
        json!({"first_name": "Bob", "last_name": "Johnson", "email": "bob.johnson@example.com",
               "phone": "+1-555-0125", "city": "Chicago", "state": "IL", "country": "USA",
               "gender": "male", "marketing_emails": false, "tags": "standard,midwest"}),
        json!({"first_name": "Alice", "last_name": "Brown", "email": "alice.brown@example.com",
               "phone": "+1-555-0126", "city": "Miami", "state": "FL", "country": "USA",
               "gender": "female", "marketing_emails": true, "tags": "premium,south"}),
    ];
    let mut all_ids = vec![id.clone()];
    for body in &others {
        all_ids.push(customer_id(&ok(app, Method::POST, "", Some(body)).await));
    }

    // test_get_customer, test_get_customer_by_username (reads `username` first),
    // test_get_customer_by_email.
    let got = ok(app, Method::GET, &format!("/{id}"), None).await;
    assert_eq!(got["customer_id"], id.as_str());
    let username = got["username"].as_str().expect("a username").to_owned();
    let by_username = ok(app, Method::GET, &format!("/username/{username}"), None).await;
    assert_eq!(by_username["customer_id"], id.as_str());
    let by_email = ok(app, Method::GET, "/email/john.doe@example.com", None).await;
    assert_eq!(by_email["customer_id"], id.as_str());

    // test_get_all_customers: default, paged, active only.
    for query in ["", "?skip=0&limit=5", "?is_active=true"] {
        let page = ok(app, Method::GET, query, None).await;
        assert!(page["customers"].is_array(), "{query}: {page}");
    }

    // test_search_customers: by query, then by location.
    let search = json!({"query": "john", "page": 1, "limit": 10, "sort_by": "created_at",
                        "sort_order": "desc"});
    let found = ok(app, Method::POST, "/search", Some(&search)).await;
    assert!(total(&found) >= 2, "John Doe and Bob Johnson: {found}");
    let location = json!({"city": "New York", "country": "USA", "page": 1, "limit": 10});
    let found = ok(app, Method::POST, "/search", Some(&location)).await;
    assert_eq!(total(&found), 1, "{found}");

    // test_update_customer.
    let update = json!({"first_name": "John Updated", "phone": "+1-555-9999",
                        "address_line2": "Apt 4B", "notes": "Updated customer information",
                        "tags": "premium,tech,new-york,updated"});
    let updated = ok(app, Method::PUT, &format!("/{id}"), Some(&update)).await;
    assert_eq!(updated["first_name"], "John Updated");

    // test_bulk_update_customers: the first two.
    let bulk = json!({"customer_ids": all_ids[..2],
                      "updates": {"marketing_emails": false, "notes": "Bulk updated customer",
                                  "tags": "bulk-updated"}});
    let report = ok(app, Method::POST, "/bulk-update", Some(&bulk)).await;
    assert_eq!(report["updated_count"], 2, "{report}");

    // test_verify_customer (prints, checks nothing), test_update_last_login.
    for action in ["verify-email", "verify-phone", "last-login"] {
        let answer = ok(app, Method::PATCH, &format!("/{id}/{action}"), None).await;
        assert!(answer["message"].is_string(), "{action}: {answer}");
    }

    // test_get_customer_statistics, test_get_customers_by_tags, test_get_customers_by_location.
    let statistics = ok(app, Method::GET, "/statistics/overview", None).await;
    assert_eq!(statistics["total_customers"], 4, "{statistics}");
    ok(app, Method::GET, "/tags/premium,tech", None).await;
    let located = ok(
        app,
        Method::GET,
        "/location/search?country=USA&city=New York",
        None,
    )
    .await;
    assert_eq!(
        located["customers"].as_array().map(Vec::len),
        Some(1),
        "{located}"
    );

    // test_get_available_locations (prints, checks nothing).
    for kind in ["countries", "cities", "states"] {
        ok(app, Method::GET, &format!("/available/{kind}"), None).await;
    }

    // test_delete_customer, then test_hard_delete_customer.
    ok(app, Method::DELETE, &format!("/{id}"), None).await;
    ok(app, Method::DELETE, &format!("/{id}/hard"), None).await;
}

fn total(page: &Value) -> u64 {
    page["total"].as_u64().expect("a total")
}
