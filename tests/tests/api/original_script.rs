//! The original service's own test script (`test_customer_api.py`), its request sequence
//! kept as it is; only its two `== 200` checks on create accept 201, the contract
//! document's status.

use serde_json::{Value, json};

use crate::helpers::{contract_john_doe, spawn_app};

#[tokio::test]
async fn the_original_services_test_script_passes_against_this_service() {
    let app = spawn_app().await;

    // test_create_customer
    let (status, john) = app.post("/", &contract_john_doe()).await;
    assert_eq!(status, 201, "{john}");
    let customer_id = john["customer_id"].as_str().unwrap().to_owned();

    // test_create_multiple_customers
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
    let mut all_ids = vec![customer_id.clone()];
    for body in &others {
        let (status, created) = app.post("/", body).await;
        assert_eq!(status, 201, "{created}");
        all_ids.push(created["customer_id"].as_str().unwrap().to_owned());
    }

    // test_get_customer, test_get_customer_by_username, test_get_customer_by_email
    let (status, got) = app.get(&format!("/{customer_id}")).await;
    assert_eq!(status, 200);
    let username = got["username"].as_str().unwrap().to_owned();
    assert_eq!(app.get(&format!("/username/{username}")).await.0, 200);
    assert_eq!(app.get("/email/john.doe@example.com").await.0, 200);

    // test_get_all_customers
    for query in ["", "?skip=0&limit=5", "?is_active=true"] {
        let (status, page) = app.get(&format!("/{query}")).await;
        assert_eq!(status, 200, "{page}");
    }

    // test_search_customers
    let (status, found) = app
        .post(
            "/search",
            &json!({"query": "john", "page": 1, "limit": 10, "sort_by": "created_at",
                    "sort_order": "desc"}),
        )
        .await;
    assert_eq!(status, 200);
    assert!(total(&found) >= 2, "{found}"); // John Doe and Bob Johnson
    let (status, found) = app
        .post(
            "/search",
            &json!({"city": "New York", "country": "USA", "page": 1, "limit": 10}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(total(&found), 1, "{found}");

    // test_update_customer
    let (status, updated) = app
        .put(
            &format!("/{customer_id}"),
            &json!({"first_name": "John Updated", "phone": "+1-555-9999",
                    "address_line2": "Apt 4B", "notes": "Updated customer information",
                    "tags": "premium,tech,new-york,updated"}),
        )
        .await;
    assert_eq!(status, 200, "{updated}");

    // test_bulk_update_customers
    let (status, report) = app
        .post(
            "/bulk-update",
            &json!({"customer_ids": all_ids[..2],
                    "updates": {"marketing_emails": false, "notes": "Bulk updated customer",
                                "tags": "bulk-updated"}}),
        )
        .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["updated_count"], 2);

    // test_verify_customer, test_update_last_login
    assert_eq!(
        app.patch(&format!("/{customer_id}/verify-email")).await.0,
        200
    );
    assert_eq!(
        app.patch(&format!("/{customer_id}/verify-phone")).await.0,
        200
    );
    assert_eq!(
        app.patch(&format!("/{customer_id}/last-login")).await.0,
        200
    );

    // test_get_customer_statistics, test_get_customers_by_tags, test_get_customers_by_location
    assert_eq!(app.get("/statistics/overview").await.0, 200);
    assert_eq!(app.get("/tags/premium,tech").await.0, 200);
    let (status, located) = app.get("/location/search?country=USA&city=New York").await;
    assert_eq!(status, 200);
    assert_eq!(located["customers"].as_array().unwrap().len(), 1);

    // test_get_available_locations
    for path in [
        "/available/countries",
        "/available/cities",
        "/available/states",
    ] {
        assert_eq!(app.get(path).await.0, 200, "{path}");
    }

    // test_delete_customer, then test_hard_delete_customer
    assert_eq!(app.delete(&format!("/{customer_id}")).await.0, 200);
    assert_eq!(app.delete(&format!("/{customer_id}/hard")).await.0, 200);
}

fn total(page: &Value) -> u64 {
    page["total"].as_u64().unwrap()
}
