//! Searches answered by the search index in memory (`[search] index = true`): what one
//! instance writes, another instance's next search finds, with the same answers as
//! PostgreSQL's own search.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{another_instance, customer, metric, spawn_app_with};

async fn search(client: &reqwest::Client, base: &str, body: &Value) -> (u64, Vec<String>) {
    let answer: Value = client
        .post(format!("{base}/api/v1/customers/search"))
        .json(body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["total_is_estimate"], json!(false), "{answer}");
    let emails = answer["customers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["email"].as_str().unwrap().to_owned())
        .collect();
    (answer["total"].as_u64().unwrap(), emails)
}

#[tokio::test]
async fn a_write_through_one_instance_is_found_by_the_next_search_of_another() {
    let on = [("APP__SEARCH__INDEX", "true")];
    let app = spawn_app_with(&on).await;
    let other = another_instance(&app, &on).await;
    let client = &app.client;
    // On a Citus cluster there is no index: PostgreSQL answers the same.
    let citus = std::env::var(test_db::CITUS_VAR).is_ok_and(|v| v == "1");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !citus && metric(client, &other, "search_index_ready").await < 1.0 {
        assert!(Instant::now() < deadline, "the index was never built");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let mut created = Vec::new();
    for i in 0..3 {
        let body = app
            .create(&customer("Zelda", "Quartz", &format!("zq{i}@example.com")))
            .await;
        created.push(body["customer_id"].as_str().unwrap().to_owned());
        // Found at once by the other instance, newest first, counted exactly.
        let (total, emails) = search(client, &other, &json!({"query": "QUARTZ"})).await;
        assert_eq!(total, i + 1);
        assert_eq!(emails[0], format!("zq{i}@example.com"));
    }
    let (_, changed) = app
        .put(&format!("/{}", created[0]), &json!({"last_name": "Onyx"}))
        .await;
    assert_eq!(changed["last_name"], "Onyx");
    // The username keeps the name it was made from; the last name filter looks only there.
    assert_eq!(
        search(client, &other, &json!({"last_name": "quartz"}))
            .await
            .0,
        2
    );
    let (total, emails) = search(client, &other, &json!({"last_name": "onyx"})).await;
    assert_eq!((total, emails), (1, vec!["zq0@example.com".to_owned()]));
    let (status, _) = app.delete(&format!("/{}/hard", created[1])).await;
    assert_eq!(status, 200);
    let (total, emails) = search(client, &other, &json!({"last_name": "quartz"})).await;
    assert_eq!((total, emails), (1, vec!["zq2@example.com".to_owned()]));

    if citus {
        assert_eq!(
            metric(client, &other, "search_index_answered_total").await,
            0.0
        );
        assert_eq!(metric(client, &other, "search_index_ready").await, 0.0);
        return;
    }
    // Every one of those was the index's; a term outside ASCII is PostgreSQL's, with the
    // same answer.
    assert_eq!(
        metric(client, &other, "search_index_answered_total").await,
        6.0
    );
    assert_eq!(
        metric(client, &other, "search_index_declined_total").await,
        0.0
    );
    let (total, _) = search(client, &other, &json!({"query": "quärtz"})).await;
    assert_eq!(total, 0);
    assert_eq!(
        metric(client, &other, "search_index_declined_total").await,
        1.0
    );
    assert_eq!(metric(client, &other, "search_index_documents").await, 2.0);
}
