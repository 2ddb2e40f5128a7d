//! Export and erasure end to end: the export of a deactivated customer is the customer, its
//! whole timeline and the requests that changed it, as an attachment; only an admin may
//! export or erase; unknown and hard-deleted ids answer 404 (the latter's history scrubbed
//! all the same); the reason is validated; and an update racing an erasure either lands
//! before it, and is erased with the rest, or finds the tombstone and is refused, never
//! leaving personal data or an event after `erased`.

use reqwest::Method;
use serde_json::{Value, json};
use tokio_postgres::NoTls;

use crate::helpers::{
    Answer, TestApp, contract_john_doe, customer, spawn_app, spawn_app_with_auth, token,
};

async fn database(app: &TestApp) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(&app.db_url, NoTls).await.unwrap();
    tokio::spawn(connection);
    client
}

fn erased_change() -> Value {
    json!({"from": null, "to": null, "erased": true})
}

#[tokio::test]
async fn the_export_of_a_deactivated_customer_is_its_record_its_timeline_and_its_requests() {
    let app = spawn_app().await;
    let send = |method: Method, path: &str, request_id: &str| {
        app.request(method, path).header("x-request-id", request_id)
    };
    let created = Answer::of(
        send(Method::POST, "/", "req-create")
            .header("idempotency-key", "export-create")
            .json(&contract_john_doe()),
    )
    .await;
    assert_eq!(created.status, 200, "{}", created.text);
    let id = created.body["customer_id"].as_str().unwrap().to_owned();
    let one = format!("/{id}");
    for (request_id, body) in [
        ("req-update-1", json!({"city": "Boston", "notes": "moved"})),
        ("req-update-2", json!({"first_name": "Jon"})),
    ] {
        let updated = Answer::of(send(Method::PUT, &one, request_id).json(&body)).await;
        assert_eq!(updated.status, 200, "{}", updated.text);
    }
    let deactivated = Answer::of(send(Method::DELETE, &one, "req-delete")).await;
    assert_eq!(deactivated.status, 200, "{}", deactivated.text);

    let export = Answer::of(app.request(Method::GET, &format!("{one}/export"))).await;
    assert_eq!(export.status, 200, "{}", export.text);
    assert_eq!(
        export.header("content-disposition"),
        Some(format!("attachment; filename=\"customer-{id}.json\"").as_str())
    );
    let (status, by_id) = app.get(&one).await;
    assert_eq!(status, 200);
    assert_eq!(by_id["is_active"], false);
    assert_eq!(export.body["customer"], by_id);
    assert!(export.body["exported_at"].is_string(), "{}", export.text);

    let (status, timeline) = app.get(&format!("{one}/events?limit=1000")).await;
    assert_eq!(status, 200);
    let mut oldest_first = timeline["events"].as_array().unwrap().clone();
    oldest_first.reverse();
    assert_eq!(oldest_first.len(), 4, "{timeline}");
    assert_eq!(export.body["events"], Value::Array(oldest_first.clone()));

    let requests = export.body["requests"].as_array().unwrap();
    let request_ids: Vec<&str> = requests
        .iter()
        .map(|r| r["request_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        request_ids,
        ["req-create", "req-update-1", "req-update-2", "req-delete"]
    );
    assert_eq!(requests[0]["idempotency_key"], "export-create");
    assert_eq!(requests[1]["idempotency_key"], Value::Null);
    for (request, event) in requests.iter().zip(&oldest_first) {
        assert_eq!(request["event_ids"], json!([event["id"]]), "{request}");
        assert_eq!(request["first_at"], request["last_at"], "{request}");
    }

    let unknown = Answer::of(app.request(Method::GET, "/CUST_DEADBEEF/export")).await;
    assert_eq!(unknown.status, 404, "{}", unknown.text);
    assert_eq!(unknown.body["detail"], "Customer not found");

    let (status, _) = app.post(&format!("{one}/erase"), &json!({})).await;
    assert_eq!(status, 200);
    let after = Answer::of(app.request(Method::GET, &format!("{one}/export"))).await;
    assert_eq!(after.status, 410, "{}", after.text);
    assert_eq!(
        after.body,
        json!({"detail": "Customer erased", "code": "customer_erased"})
    );
}

#[tokio::test]
async fn only_an_admin_may_export_or_erase_a_customer() {
    let app = spawn_app_with_auth().await;
    let (reader, writer, admin) = (token("reader"), token("writer"), token("admin"));
    let created = Answer::of(
        app.request(Method::POST, "/")
            .bearer_auth(&writer)
            .json(&customer("Ann", "Lee", "ann@roles.example")),
    )
    .await;
    assert_eq!(created.status, 200, "{}", created.text);
    let id = created.body["customer_id"].as_str().unwrap().to_owned();
    let export = format!("/{id}/export");
    let erase = format!("/{id}/erase");
    for (bearer, expected) in [(None, 401), (Some(&reader), 403), (Some(&writer), 403)] {
        for (method, path) in [(Method::GET, &export), (Method::POST, &erase)] {
            let mut request = app.request(method.clone(), path);
            if let Some(bearer) = bearer {
                request = request.bearer_auth(bearer);
            }
            let answer = Answer::of(request).await;
            assert_eq!(
                answer.status, expected,
                "{method} {path} as {bearer:?}: {}",
                answer.text
            );
        }
    }
    let (status, still) = crate::helpers::into_parts(
        app.request(Method::GET, &format!("/{id}"))
            .bearer_auth(&reader)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, &still["first_name"]), (200, &json!("Ann")));

    let exported = Answer::of(app.request(Method::GET, &export).bearer_auth(&admin)).await;
    assert_eq!(exported.status, 200, "{}", exported.text);
    assert_eq!(exported.body["requests"][0]["actor"], "e2e-user");
    let erased = Answer::of(app.request(Method::POST, &erase).bearer_auth(&admin)).await;
    assert_eq!(erased.status, 200, "{}", erased.text);
    assert_eq!(erased.body["customer_id"], id.as_str());
}

#[tokio::test]
async fn erasing_an_unknown_or_hard_deleted_id_answers_404_and_scrubs_the_deleted_ones_history() {
    let app = spawn_app().await;
    let (status, body) = app
        .post("/CUST_DEADBEEF/erase", &json!({"reason": "request 1"}))
        .await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["detail"], "Customer not found");

    let created = app
        .create(&json!({
            "first_name": "Morwenna", "last_name": "Trellisand",
            "email": "morwenna.trellisand@privacy.example", "city": "Caldrimoor",
            "notes": "hard-deleted-secret"
        }))
        .await;
    let id = created["customer_id"].as_str().unwrap().to_owned();
    let (status, body) = app
        .put(&format!("/{id}"), &json!({"notes": "updated-secret"}))
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = app.delete(&format!("/{id}/hard")).await;
    assert_eq!(status, 200, "{body}");
    let (status, timeline) = app.get(&format!("/{id}/events")).await;
    assert_eq!(status, 200, "{timeline}");
    assert_eq!(
        timeline["events"][0]["changes"]["notes"],
        json!({"from": "updated-secret", "to": null}),
        "before the erasure the history holds the values"
    );

    let (status, body) = app
        .post(&format!("/{id}/erase"), &json!({"reason": "request 2"}))
        .await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["detail"], "Customer not found");

    let (status, timeline) = app.get(&format!("/{id}/events")).await;
    assert_eq!(status, 200, "{timeline}");
    let events = timeline["events"].as_array().unwrap();
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["deleted", "updated", "created"]);
    for event in events {
        for field in ["first_name", "last_name", "email", "city", "notes"] {
            if let Some(change) = event["changes"].get(field) {
                assert_eq!(change, &erased_change(), "{field}: {event}");
            }
        }
    }
    assert_eq!(events[1]["changes"]["notes"], erased_change());
    let db = database(&app).await;
    let leftovers = db
        .query(
            "SELECT changes::text FROM customer_events WHERE customer_id = $1 \
             AND (changes::text ILIKE '%morwenna%' OR changes::text ILIKE '%trellisand%' \
                  OR changes::text ILIKE '%caldrimoor%' OR changes::text ILIKE '%secret%')",
            &[&id],
        )
        .await
        .unwrap();
    assert!(
        leftovers.is_empty(),
        "{:?}",
        leftovers.first().map(|r| r.get::<_, String>(0))
    );
}

#[tokio::test]
async fn the_reason_is_optional_text_of_at_most_500_characters() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for n in 0..5 {
        let created = app
            .create(&customer("Ann", "Lee", &format!("ann{n}@reason.example")))
            .await;
        ids.push(created["customer_id"].as_str().unwrap().to_owned());
    }
    let erase = |n: usize| app.request(Method::POST, &format!("/{}/erase", ids[n]));

    let too_long = Answer::of(erase(0).json(&json!({"reason": "r".repeat(501)}))).await;
    assert_eq!(too_long.status, 422, "{}", too_long.text);
    assert_eq!(too_long.body["detail"][0]["loc"], json!(["body", "reason"]));
    let not_text = Answer::of(erase(0).json(&json!({"reason": 42}))).await;
    assert_eq!(not_text.status, 422, "{}", not_text.text);
    assert_eq!(not_text.body["detail"][0]["loc"], json!(["body", "reason"]));
    let (status, still) = app.get(&format!("/{}", ids[0])).await;
    assert_eq!(status, 200, "a refused erasure erased nothing: {still}");

    let longest = Answer::of(erase(0).json(&json!({"reason": "r".repeat(500)}))).await;
    assert_eq!(longest.status, 200, "{}", longest.text);
    assert_eq!(longest.body["reason"], "r".repeat(500));
    let empty = Answer::of(erase(1)).await;
    assert_eq!(empty.status, 200, "{}", empty.text);
    assert_eq!(empty.body["reason"], Value::Null);
    let object = Answer::of(erase(2).json(&json!({}))).await;
    assert_eq!(object.status, 200, "{}", object.text);
    assert_eq!(object.body["reason"], Value::Null);
    let null = Answer::of(erase(3).json(&json!({"reason": null}))).await;
    assert_eq!(null.status, 200, "{}", null.text);
    for id in &ids[..4] {
        let (status, _) = app.get(&format!("/{id}")).await;
        assert_eq!(status, 410, "{id}");
    }
}

#[tokio::test]
async fn an_update_racing_an_erasure_is_erased_with_it_or_refused_and_leaves_nothing_after_it() {
    const ROUNDS: usize = 20;
    let app = spawn_app().await;
    let db = database(&app).await;
    let mut outcomes = Vec::new();
    for round in 0..ROUNDS {
        let created = app
            .create(&customer("Ann", "Lee", &format!("ann{round}@race.example")))
            .await;
        let id = created["customer_id"].as_str().unwrap().to_owned();
        let one = format!("/{id}");
        let erase_path = format!("{one}/erase");
        let update = json!({"first_name": "Quorvanthe", "notes": format!("racing-secret-{round}")});
        let reason = json!({"reason": "race"});
        let (updated, erased) =
            tokio::join!(app.put(&one, &update), app.post(&erase_path, &reason));
        assert_eq!(erased.0, 200, "round {round}: {}", erased.1);
        match updated.0 {
            200 => assert_eq!(updated.1["first_name"], "Quorvanthe", "round {round}"),
            410 => assert_eq!(
                updated.1,
                json!({"detail": "Customer erased", "code": "customer_erased"}),
                "round {round}"
            ),
            other => panic!("round {round}: the update answered {other}: {}", updated.1),
        }
        outcomes.push(updated.0);

        let (status, _) = app.get(&one).await;
        assert_eq!(status, 410, "round {round}");
        let row = db
            .query_one(
                "SELECT first_name, notes, erased_at IS NOT NULL FROM customers \
                 WHERE customer_id = $1",
                &[&id],
            )
            .await
            .unwrap();
        let (first_name, notes, erased): (String, Option<String>, bool) =
            (row.get(0), row.get(1), row.get(2));
        assert_eq!(
            (first_name.as_str(), notes, erased),
            ("", None, true),
            "round {round}: the row after the update answered {}",
            updated.0
        );
        let types: Vec<String> = db
            .query(
                "SELECT type FROM customer_events WHERE customer_id = $1 ORDER BY id",
                &[&id],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert_eq!(
            types.last().map(String::as_str),
            Some("erased"),
            "round {round}: {types:?} (the update answered {})",
            updated.0
        );
        let expected_updates = usize::from(updated.0 == 200);
        assert_eq!(
            types.iter().filter(|t| *t == "updated").count(),
            expected_updates,
            "round {round}: {types:?}"
        );
        let leaked = db
            .query(
                "SELECT type, changes::text FROM customer_events WHERE customer_id = $1 \
                 AND (changes::text LIKE '%Quorvanthe%' OR changes::text LIKE '%racing-secret%' \
                      OR changes::text LIKE '%ann' || $2 || '@race%')",
                &[&id, &round.to_string()],
            )
            .await
            .unwrap();
        assert!(
            leaked.is_empty(),
            "round {round}: {:?}",
            leaked
                .iter()
                .map(|r| (r.get::<_, String>(0), r.get::<_, String>(1)))
                .collect::<Vec<_>>()
        );
    }
    eprintln!(
        "updates before the erasure: {}, refused: {}",
        outcomes.iter().filter(|s| **s == 200).count(),
        outcomes.iter().filter(|s| **s == 410).count()
    );
}
