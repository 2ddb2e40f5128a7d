//! Read-after-write of the statistics and the available places across two processes: a
//! write through one, the read through the other, at once; and `customer-api stats check`
//! and `stats rebuild` on the same database.

use std::process::Command;

use serde_json::{Value, json};

use crate::common::{Service, repo_root};
use test_db::TestDatabase;

async fn call(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = client.request(method, url);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let res = request.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// The overview and the three available-places answers, as `reader` serves them.
async fn seen(client: &reqwest::Client, reader: &Service) -> Value {
    let base = format!("{}/api/v1/customers", reader.base);
    let get = |path: &str| call(client, reqwest::Method::GET, format!("{base}{path}"), None);
    let (s1, overview) = get("/statistics/overview").await;
    let (s2, countries) = get("/available/countries").await;
    let (s3, cities) = get("/available/cities?country=norway").await;
    let (s4, states) = get("/available/states?country=Norway").await;
    assert_eq!((s1, s2, s3, s4), (200, 200, 200, 200));
    json!({"overview": overview, "countries": countries, "cities": cities, "states": states})
}

#[tokio::test]
async fn every_write_through_one_process_shows_at_once_in_the_other_processs_statistics() {
    let db = TestDatabase::new().await;
    let (writer, reader) = (
        Service::start(db.url(), &[]).await,
        Service::start(db.url(), &[]).await,
    );
    let client = reqwest::Client::new();
    let customers = format!("{}/api/v1/customers", writer.base);
    let write = |method: reqwest::Method, path: &str, body: Option<Value>| {
        call(&client, method, format!("{customers}{path}"), body)
    };

    let (status, ann) = write(
        reqwest::Method::POST,
        "/",
        Some(
            json!({"first_name": "Ann", "last_name": "Lee", "email": "ann@example.com",
                    "city": "Oslo", "state": "Oslo", "country": "Norway", "gender": "female",
                    "date_of_birth": "1990-06-01T00:00:00"}),
        ),
    )
    .await;
    assert_eq!(status, 200, "{ann}");
    let id = ann["customer_id"].as_str().unwrap().to_owned();
    let s = seen(&client, &reader).await;
    assert_eq!(s["overview"]["total_customers"], 1);
    assert_eq!(s["overview"]["active_customers"], 1);
    assert_eq!(s["overview"]["new_customers_today"], 1);
    assert_eq!(s["overview"]["customers_by_country"], json!({"Norway": 1}));
    assert_eq!(s["overview"]["gender_distribution"], json!({"female": 1}));
    assert!(s["overview"]["average_customer_age"].as_f64().unwrap() > 30.0);
    assert_eq!(
        s["countries"]["countries"],
        json!([{"country": "Norway", "count": 1}])
    );
    assert_eq!(s["cities"]["cities"], json!([{"city": "Oslo", "count": 1}]));
    assert_eq!(
        s["states"]["states"],
        json!([{"state": "Oslo", "count": 1}])
    );

    // Moved to another country and born later: the groups and the mean age follow.
    let (status, body) = write(
        reqwest::Method::PUT,
        &format!("/{id}"),
        Some(json!({"country": "Sweden", "city": "Malmo", "date_of_birth": "2000-06-01T00:00:00"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let s = seen(&client, &reader).await;
    assert_eq!(s["overview"]["customers_by_country"], json!({"Sweden": 1}));
    assert_eq!(s["overview"]["customers_by_city"], json!({"Malmo": 1}));
    let age = s["overview"]["average_customer_age"].as_f64().unwrap();
    assert!((20.0..30.0).contains(&age), "{age}");
    assert_eq!(
        s["countries"]["countries"],
        json!([{"country": "Sweden", "count": 1}])
    );
    assert_eq!(s["cities"]["cities"], json!([]));

    let (status, _) = write(reqwest::Method::DELETE, &format!("/{id}"), None).await;
    assert_eq!(status, 200);
    let s = seen(&client, &reader).await;
    assert_eq!(
        (
            &s["overview"]["total_customers"],
            &s["overview"]["active_customers"]
        ),
        (&json!(1), &json!(0))
    );

    let (status, _) = write(reqwest::Method::DELETE, &format!("/{id}/hard"), None).await;
    assert_eq!(status, 200);
    let s = seen(&client, &reader).await;
    assert_eq!(s["overview"]["total_customers"], 0);
    assert_eq!(s["overview"]["new_customers_today"], 0);
    assert_eq!(s["overview"]["average_customer_age"], Value::Null);
    assert_eq!(s["overview"]["customers_by_country"], json!({}));
    assert_eq!(s["countries"]["countries"], json!([]));

    // The list's total is exact at once too.
    let (status, list) = call(
        &client,
        reqwest::Method::GET,
        format!("{}/api/v1/customers/", reader.base),
        None,
    )
    .await;
    assert_eq!(
        (status, &list["total"], &list["total_is_estimate"]),
        (200, &json!(0), &json!(false))
    );
}

fn stats_command(db: &TestDatabase, what: &str) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_customer-api"))
        .args(["stats", what])
        .env("APP_ENV", "test")
        .env("APP_CONFIG_DIR", repo_root().join("config"))
        .env("APP__DATABASE__URL", db.url())
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

#[tokio::test]
async fn stats_check_finds_drift_and_fails_and_stats_rebuild_repairs_it() {
    let db = TestDatabase::new().await;
    let service = Service::start(db.url(), &[]).await;
    let client = reqwest::Client::new();
    for n in 0..3 {
        let (status, _) = service
            .create(&client, "Ann", &format!("ann{n}@example.com"))
            .await
            .unwrap();
        assert_eq!(status, 200);
    }
    let (ok, text) = stats_command(&db, "check");
    assert!(ok, "{text}");
    assert!(
        text.contains("the aggregates match the customers"),
        "{text}"
    );

    // Drift planted behind the triggers' back.
    let (client_db, connection) = tokio_postgres::connect(db.url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    let driver = tokio::spawn(connection);
    client_db
        .batch_execute("UPDATE customer_counts SET customers = customers + 2 WHERE kind = 'day'")
        .await
        .unwrap();
    driver.abort();
    let (ok, text) = stats_command(&db, "check");
    assert!(!ok, "check must fail on drift: {text}");
    assert!(text.contains("day"), "{text}");
    assert!(text.contains("1 aggregate groups differ"), "{text}");

    let (ok, text) = stats_command(&db, "rebuild");
    assert!(ok, "{text}");
    let (ok, text) = stats_command(&db, "check");
    assert!(ok, "{text}");
    let (_, overview) = call(
        &client,
        reqwest::Method::GET,
        format!("{}/api/v1/customers/statistics/overview", service.base),
        None,
    )
    .await;
    assert_eq!(overview["new_customers_today"], 3);
}
