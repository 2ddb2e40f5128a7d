//! Create, read, update and delete, as the contract (`docs/contract.md`) shows them.

use serde_json::json;

use crate::helpers::{contract_john_doe, customer, spawn_app, validation_locs};

#[tokio::test]
async fn the_contracts_full_create_example_returns_every_field_of_its_response() {
    let app = spawn_app().await;
    let c = app.create(&contract_john_doe()).await;

    assert!(c["id"].as_i64().unwrap() >= 1);
    let customer_id = c["customer_id"].as_str().unwrap();
    assert!(
        customer_id.starts_with("CUST_") && customer_id.len() == 13,
        "{customer_id}"
    );
    assert!(
        customer_id[5..]
            .chars()
            .all(|ch| ch.is_ascii_hexdigit() && !ch.is_ascii_lowercase())
    );
    assert_eq!(c["username"], "johndoe");
    for (field, value) in contract_john_doe().as_object().unwrap() {
        assert_eq!(&c[field], value, "{field}");
    }
    assert_eq!(c["is_active"], true);
    assert_eq!(c["is_verified"], false);
    assert_eq!(c["email_verified"], false);
    assert_eq!(c["phone_verified"], false);
    assert_eq!(c["last_login_at"], json!(null));
    assert_eq!(c["address_line2"], json!(null));
    assert_eq!(c["tax_id"], json!(null));
    assert_eq!(c["full_name"], "John Doe");
    assert_eq!(
        c["full_address"],
        "123 Main Street, New York, NY, 10001, USA"
    );
    let created_at = c["created_at"].as_str().unwrap();
    assert!(created_at.ends_with('Z'), "{created_at}");
    assert!(c["updated_at"].as_str().unwrap().ends_with('Z'));
}

#[tokio::test]
async fn the_contracts_python_client_example_works_unchanged() {
    let app = spawn_app().await;
    let body = json!({
        "first_name": "John",
        "last_name": "Doe",
        "email": "john.doe@example.com",
        "phone": "+1-555-0123"
    });
    let created = app.create(&body).await;
    assert_eq!(created["marketing_emails"], true, "contract default");
    assert_eq!(created["marketing_sms"], false, "contract default");
    let id = created["customer_id"].as_str().unwrap();
    let (status, fetched) = app.get(&format!("/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(fetched, created);

    let (status, results) = app
        .post(
            "/search",
            &json!({"query": "john", "city": "New York", "page": 1, "limit": 10}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(results["total"], 0, "no customer in New York yet");
    let (status, results) = app
        .post("/search", &json!({"query": "john", "page": 1, "limit": 10}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(results["total"], 1);
    assert_eq!(results["customers"][0]["customer_id"], id);
}

#[tokio::test]
async fn the_collection_answers_with_and_without_a_trailing_slash() {
    let app = spawn_app().await;
    let res = app
        .client
        .post(format!("{}/api/v1/customers", app.base))
        .json(&customer("Ann", "Lee", "ann@example.com"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let (with, _) = app.get("/").await;
    let res = app
        .client
        .get(format!("{}/api/v1/customers", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!((with, res.status().as_u16()), (200, 200));
}

#[tokio::test]
async fn a_second_john_doe_gets_a_suffixed_username() {
    let app = spawn_app().await;
    let first = app.create(&customer("John", "Doe", "a@example.com")).await;
    let second = app.create(&customer("Jöhn", "Doe", "b@example.com")).await;
    assert_eq!(first["username"], "johndoe");
    let username = second["username"].as_str().unwrap();
    assert!(
        username.starts_with("johndoe") && username.len() > 7,
        "{username}"
    );
    assert_ne!(first["customer_id"], second["customer_id"]);
}

#[tokio::test]
async fn a_duplicate_email_is_rejected_with_the_contracts_message_whatever_its_case() {
    let app = spawn_app().await;
    app.create(&customer("John", "Doe", "john@x.com")).await;
    let (status, body) = app
        .post("/", &customer("Jane", "Doe", " John@X.com "))
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["detail"], "Customer with this email already exists");
}

#[tokio::test]
async fn customers_are_found_by_username_and_by_email_ignoring_case() {
    let app = spawn_app().await;
    let c = app
        .create(&customer("Ann", "Lee", "Ann.Lee+vip@example.com"))
        .await;
    let (status, by_name) = app.get("/username/annlee").await;
    assert_eq!((status, &by_name["customer_id"]), (200, &c["customer_id"]));
    for path in [
        "/email/ann.lee+vip@example.com",
        "/email/ANN.LEE%2BVIP%40EXAMPLE.COM",
        "/email/Ann.Lee%2Bvip@example.com",
    ] {
        let (status, by_email) = app.get(path).await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(by_email["customer_id"], c["customer_id"], "{path}");
    }
}

#[tokio::test]
async fn unknown_customers_are_404_with_the_contracts_detail() {
    let app = spawn_app().await;
    for path in [
        "/CUST_00000000",
        "/username/nobody",
        "/email/nobody@example.com",
        "/not-an-id",
    ] {
        let (status, body) = app.get(path).await;
        assert_eq!(status, 404, "{path}");
        assert_eq!(body["detail"], "Customer not found", "{path}");
    }
}

#[tokio::test]
async fn an_update_changes_only_what_is_sent_and_null_clears() {
    let app = spawn_app().await;
    let c = app.create(&contract_john_doe()).await;
    let id = c["customer_id"].as_str().unwrap();
    let (status, updated) = app
        .put(
            &format!("/{id}"),
            &json!({"city": "Boston", "phone": null, "is_verified": true}),
        )
        .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["city"], "Boston");
    assert_eq!(updated["phone"], json!(null));
    assert_eq!(updated["is_verified"], true);
    assert_eq!(updated["first_name"], "John");
    assert_eq!(updated["tags"], "premium,tech,new-york");
    assert_eq!(
        updated["full_address"],
        "123 Main Street, Boston, NY, 10001, USA"
    );
    assert!(updated["updated_at"].as_str().unwrap() >= c["updated_at"].as_str().unwrap());
    let (_, fetched) = app.get(&format!("/{id}")).await;
    assert_eq!(fetched, updated);
}

#[tokio::test]
async fn an_update_rejects_null_for_required_fields_and_bad_values() {
    let app = spawn_app().await;
    let c = app.create(&customer("Ann", "Lee", "ann@example.com")).await;
    let id = c["customer_id"].as_str().unwrap();
    let (status, body) = app
        .put(
            &format!("/{id}"),
            &json!({"first_name": null, "email": "nope"}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    let locs = validation_locs(&body);
    assert!(
        locs.contains(&vec!["body".into(), "first_name".into()]),
        "{locs:?}"
    );
    assert!(
        locs.contains(&vec!["body".into(), "email".into()]),
        "{locs:?}"
    );
}

#[tokio::test]
async fn changing_email_to_another_customers_is_400() {
    let app = spawn_app().await;
    app.create(&customer("Ann", "Lee", "ann@example.com")).await;
    let bob = app.create(&customer("Bob", "Lee", "bob@example.com")).await;
    let (status, body) = app
        .put(
            &format!("/{}", bob["customer_id"].as_str().unwrap()),
            &json!({"email": "ANN@example.com"}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["detail"], "Customer with this email already exists");
}

#[tokio::test]
async fn updating_an_unknown_customer_is_404() {
    let app = spawn_app().await;
    let (status, body) = app.put("/CUST_00000000", &json!({"city": "Boston"})).await;
    assert_eq!(
        (status, body["detail"].as_str()),
        (404, Some("Customer not found"))
    );
}

#[tokio::test]
async fn soft_delete_keeps_the_customer_inactive_and_hard_delete_removes_it() {
    let app = spawn_app().await;
    let c = app.create(&customer("Ann", "Lee", "ann@example.com")).await;
    let id = c["customer_id"].as_str().unwrap();
    let (status, body) = app.delete(&format!("/{id}")).await;
    assert_eq!(status, 200);
    assert!(body["message"].is_string());
    let (status, fetched) = app.get(&format!("/{id}")).await;
    assert_eq!((status, &fetched["is_active"]), (200, &json!(false)));
    let (status, body) = app.delete(&format!("/{id}/hard")).await;
    assert_eq!(status, 200);
    assert!(body["message"].is_string());
    let (status, _) = app.get(&format!("/{id}")).await;
    assert_eq!(status, 404);
    for path in [format!("/{id}"), format!("/{id}/hard")] {
        let (status, body) = app.delete(&path).await;
        assert_eq!(
            (status, body["detail"].as_str()),
            (404, Some("Customer not found")),
            "{path}"
        );
    }
}

#[tokio::test]
async fn verification_and_last_login_set_their_fields() {
    let app = spawn_app().await;
    let c = app.create(&contract_john_doe()).await;
    let id = c["customer_id"].as_str().unwrap();
    for action in ["verify-email", "verify-phone", "last-login"] {
        let (status, body) = app.patch(&format!("/{id}/{action}")).await;
        assert_eq!(status, 200, "{action}: {body}");
        assert!(body["message"].is_string(), "{action}: {body}");
        let (status, body) = app.patch(&format!("/CUST_00000000/{action}")).await;
        assert_eq!(
            (status, body["detail"].as_str()),
            (404, Some("Customer not found"))
        );
    }
    let (_, fetched) = app.get(&format!("/{id}")).await;
    assert_eq!(fetched["email_verified"], true);
    assert_eq!(fetched["phone_verified"], true);
    assert!(fetched["last_login_at"].as_str().unwrap().ends_with('Z'));
}

#[tokio::test]
async fn bulk_update_changes_the_existing_customers_and_reports_the_rest() {
    let app = spawn_app().await;
    let a = app.create(&customer("Ann", "Lee", "ann@example.com")).await;
    let b = app.create(&customer("Bob", "Lee", "bob@example.com")).await;
    let body = json!({
        "customer_ids": [a["customer_id"], b["customer_id"], "CUST_00000000"],
        "updates": {"marketing_emails": false, "notes": "Bulk updated customer", "tags": "bulk-updated"}
    });
    let (status, report) = app.post("/bulk-update", &body).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["updated_count"], 2);
    assert_eq!(report["total_processed"], 3);
    assert_eq!(
        report["failed_updates"],
        json!([{"customer_id": "CUST_00000000", "reason": "Customer not found"}])
    );
    let (_, fetched) = app
        .get(&format!("/{}", b["customer_id"].as_str().unwrap()))
        .await;
    assert_eq!(fetched["tags"], "bulk-updated");
    assert_eq!(fetched["marketing_emails"], false);
    assert_eq!(fetched["notes"], "Bulk updated customer");

    let (status, _) = app
        .post(
            "/bulk-update",
            &json!({"customer_ids": [a["customer_id"]], "updates": {"email": "x@y.com"}}),
        )
        .await;
    assert_eq!(status, 422);
}
