//! Hostile and odd input: every one is answered 4xx in the JSON error shape, never 5xx.

use serde_json::json;

use crate::helpers::{TestApp, into_parts, spawn_app};

async fn raw_post(app: &TestApp, path: &str, body: Vec<u8>) -> (u16, serde_json::Value) {
    let res = app
        .client
        .post(app.url(path))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    into_parts(res).await
}

fn assert_json_4xx(status: u16, body: &serde_json::Value, what: &str) {
    assert!((400..500).contains(&status), "{what}: {status} {body}");
    assert!(
        !body["detail"].is_null(),
        "{what}: not the JSON error shape: {body}"
    );
}

#[tokio::test]
async fn invalid_utf8_and_deep_nesting_are_rejected() {
    let app = spawn_app().await;
    let mut invalid = br#"{"first_name": "A"#.to_vec();
    invalid.extend([0xff, 0xfe]);
    invalid.extend(br#"", "last_name": "B", "email": "a@b.co"}"#);
    let (status, body) = raw_post(&app, "/", invalid).await;
    assert_eq!(status, 422, "{body}");

    let deep = format!(
        r#"{{"first_name": {}1{}, "last_name": "B", "email": "a@b.co"}}"#,
        "[".repeat(5000),
        "]".repeat(5000)
    );
    let (status, body) = raw_post(&app, "/", deep.into_bytes()).await;
    assert_eq!(status, 422, "{body}");
    let deep_search = format!(
        r#"{{"query": {}"x"{}}}"#,
        "{\"a\":".repeat(3000),
        "}".repeat(3000)
    );
    let (status, body) = raw_post(&app, "/search", deep_search.into_bytes()).await;
    assert_json_4xx(status, &body, "deeply nested search");
}

#[tokio::test]
async fn nul_bytes_in_any_string_or_path_segment_are_4xx() {
    let app = spawn_app().await;
    for field in [
        "first_name",
        "last_name",
        "email",
        "phone",
        "city",
        "notes",
        "tags",
        "company_name",
        "gender",
    ] {
        let mut body = json!({"first_name": "A", "last_name": "B", "email": "a@b.co"});
        body[field] = json!(format!("x\u{0}y"));
        let (status, res) = app.post("/", &body).await;
        assert_eq!(status, 422, "{field}: {res}");
    }
    let (status, res) = app.post("/search", &json!({"query": "a\u{0}b"})).await;
    assert_json_4xx(status, &res, "search query");
    let (status, res) = app.post("/search", &json!({"tags": "a\u{0}b"})).await;
    assert_json_4xx(status, &res, "search tags");
    for path in [
        "/username/a%00b",
        "/email/a%00b@example.com",
        "/CUST_0000%000",
        "/tags/a%00b",
        "/location/search?city=a%00b",
        "/available/cities?country=a%00b",
    ] {
        let (status, res) = app.get(path).await;
        assert_json_4xx(status, &res, path);
    }
    let created = app
        .create(&json!({"first_name": "A", "last_name": "B", "email": "a@b.co"}))
        .await;
    let (status, res) = app
        .put(
            &format!("/{}", created["customer_id"].as_str().unwrap()),
            &json!({"notes": "a\u{0}b"}),
        )
        .await;
    assert_eq!(status, 422, "{res}");
}

#[tokio::test]
async fn numbers_beyond_64_bits_are_422() {
    let app = spawn_app().await;
    let huge = "184467440737095516160000";
    for path in [
        format!("/?skip={huge}"),
        format!("/?limit={huge}"),
        format!("/tags/a?skip={huge}"),
    ] {
        let (status, res) = app.get(&path).await;
        assert_eq!(status, 422, "{path}: {res}");
    }
    for body in [
        format!(r#"{{"page": {huge}}}"#),
        format!(r#"{{"limit": {huge}}}"#),
        r#"{"page": 1e400}"#.to_string(),
        r#"{"page": -1}"#.to_string(),
    ] {
        let (status, res) = raw_post(&app, "/search", body.clone().into_bytes()).await;
        assert_eq!(status, 422, "{body}: {res}");
    }
}

#[tokio::test]
async fn extreme_timezone_offsets_are_422_and_real_ones_work() {
    let app = spawn_app().await;
    for bad in [
        "2024-01-01T00:00:00+99:00",
        "2024-01-01T00:00:00+24:00",
        "99999-01-01T00:00:00Z",
        "2024-02-30T00:00:00Z",
    ] {
        let (status, res) = app.post("/search", &json!({"created_after": bad})).await;
        assert_eq!(status, 422, "{bad}: {res}");
    }
    let (status, res) = app.post("/search", &json!({"created_after": "2024-01-01T00:00:00+14:00", "created_before": "2024-01-01T00:00:00-12:00"})).await;
    assert_eq!(status, 200, "{res}");
    let (status, res) = app
        .post("/", &json!({"first_name": "A", "last_name": "B", "email": "a@b.co", "date_of_birth": "1990-01-15T23:30:00-14:00"}))
        .await;
    assert_eq!(status, 200, "{res}");
    assert_eq!(res["date_of_birth"], "1990-01-16T13:30:00");
    let (status, res) = app
        .post("/", &json!({"first_name": "A", "last_name": "B", "email": "b@b.co", "date_of_birth": "-200000-01-01"}))
        .await;
    assert_eq!(status, 422, "{res}");
}

#[tokio::test]
async fn path_segments_of_thousands_of_characters_are_404_not_5xx() {
    let app = spawn_app().await;
    let long = "x".repeat(8000);
    for path in [
        format!("/{long}"),
        format!("/username/{long}"),
        format!("/email/{long}@example.com"),
        format!("/{long}/hard"),
    ] {
        let (status, res) = app.get(&path).await;
        assert_json_4xx(status, &res, "long path");
    }
    let many: Vec<String> = (0..3000).map(|i| format!("t{i}")).collect();
    let (status, res) = app.get(&format!("/tags/{}", many.join(","))).await;
    assert_json_4xx(status, &res, "long tags");
    // Repeated tags collapse into one: a long but valid list.
    let (status, res) = app.get(&format!("/tags/{}", "a,".repeat(3000))).await;
    assert_eq!((status, &res["tags"]), (200, &json!(["a"])));
}

#[tokio::test]
async fn strings_longer_than_their_column_are_422_in_updates_and_bulk_updates_too() {
    let app = spawn_app().await;
    let created = app
        .create(&json!({"first_name": "A", "last_name": "B", "email": "a@b.co"}))
        .await;
    let id = created["customer_id"].as_str().unwrap();
    for (field, len) in [
        ("tax_id", 51),
        ("state", 101),
        ("address_line2", 256),
        ("company_name", 256),
        ("tags", 501),
    ] {
        let (status, res) = app
            .put(&format!("/{id}"), &json!({field: "y".repeat(len)}))
            .await;
        assert_eq!(status, 422, "{field}: {res}");
        let (status, res) = app
            .post(
                "/bulk-update",
                &json!({"customer_ids": [id], "updates": {field: "y".repeat(len)}}),
            )
            .await;
        assert_eq!(status, 422, "bulk {field}: {res}");
    }
}
