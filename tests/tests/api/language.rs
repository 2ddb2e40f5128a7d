//! `preferred_language`, an addition to the contract: a BCP 47 tag set on create, shown in
//! canonical case in every answer, found by the search's exact filter, changed and cleared
//! by updates, refused with a 422 in pydantic's words when malformed.

use serde_json::{Value, json};

use crate::helpers::{customer, spawn_app};

const MALFORMED: &str =
    "Value error, must be a well-formed BCP 47 language tag, such as en, pt-BR or zh-Hant-TW";

fn ids(page: &Value) -> Vec<&str> {
    page["customers"]
        .as_array()
        .unwrap_or_else(|| panic!("a page: {page}"))
        .iter()
        .map(|c| c["customer_id"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn a_preferred_language_is_created_searched_updated_and_cleared() {
    let app = spawn_app().await;
    let mut body = customer("Ana", "Silva", "ana.silva@example.com");
    body["preferred_language"] = json!("pt-br");
    let ana = app.create(&body).await;
    assert_eq!(ana["preferred_language"], "pt-BR", "canonical case");
    let ana_id = ana["customer_id"].as_str().unwrap().to_owned();
    let plain = app
        .create(&customer("Bo", "Berg", "bo.berg@example.com"))
        .await;
    assert_eq!(plain["preferred_language"], Value::Null);
    let (status, fetched) = app.get(&format!("/{ana_id}")).await;
    assert_eq!(status, 200);
    assert_eq!(fetched["preferred_language"], "pt-BR");

    // Exact match, case ignored; a prefix is another language.
    let search = |language: &str| json!({"preferred_language": language});
    for language in ["pt-BR", "PT-BR", " pt-br "] {
        let (status, page) = app.post("/search", &search(language)).await;
        assert_eq!(status, 200, "{page}");
        assert_eq!(ids(&page), [ana_id.as_str()], "{language}");
        assert_eq!(page["total"], 1);
    }
    let (_, page) = app.post("/search", &search("pt")).await;
    assert_eq!(page["total"], 0, "{page}");
    let (_, page) = app
        .post(
            "/search",
            &json!({"preferred_language": "pt-BR", "query": "berg"}),
        )
        .await;
    assert_eq!(page["total"], 0, "{page}");

    // Changed by a partial update, kept when absent, cleared by null.
    let path = format!("/{ana_id}");
    let (status, updated) = app
        .put(&path, &json!({"preferred_language": "zh-hant-tw"}))
        .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["preferred_language"], "zh-Hant-TW");
    let (_, updated) = app.put(&path, &json!({"city": "Taipei"})).await;
    assert_eq!(updated["preferred_language"], "zh-Hant-TW");
    let (_, page) = app.post("/search", &search("zh-Hant-TW")).await;
    assert_eq!(ids(&page), [ana_id.as_str()]);
    let (status, cleared) = app.put(&path, &json!({"preferred_language": null})).await;
    assert_eq!(status, 200, "{cleared}");
    assert_eq!(cleared["preferred_language"], Value::Null);
    let (_, page) = app.post("/search", &search("zh-Hant-TW")).await;
    assert_eq!(page["total"], 0, "{page}");

    // A bulk update sets it as it sets the other optional fields.
    let plain_id = plain["customer_id"].as_str().unwrap();
    let (status, report) = app
        .post(
            "/bulk-update",
            &json!({"customer_ids": [ana_id, plain_id], "updates": {"preferred_language": "sr-latn"}}),
        )
        .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["updated_count"], 2);
    let (_, page) = app.post("/search", &search("sr-Latn")).await;
    assert_eq!(page["total"], 2, "{page}");
}

#[tokio::test]
async fn a_malformed_language_is_a_422_in_pydantics_words_wherever_it_is_sent() {
    let app = spawn_app().await;
    let mut body = customer("Ana", "Silva", "ana.lang@example.com");
    body["preferred_language"] = json!("en_US");
    let (status, answer) = app.post("/", &body).await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(
        answer["detail"],
        json!([{
            "type": "value_error",
            "loc": ["body", "preferred_language"],
            "msg": MALFORMED,
            "input": "en_US",
            "ctx": {"error": MALFORMED.trim_start_matches("Value error, ")}
        }])
    );

    body["preferred_language"] = json!(format!("en-{}", "a".repeat(33)));
    let (status, answer) = app.post("/", &body).await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(answer["detail"][0]["type"], "string_too_long");
    assert_eq!(answer["detail"][0]["ctx"], json!({"max_length": 35}));

    body["preferred_language"] = json!("en");
    let id = app.create(&body).await["customer_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, answer) = app
        .put(&format!("/{id}"), &json!({"preferred_language": "en-"}))
        .await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(
        answer["detail"][0]["loc"],
        json!(["body", "preferred_language"])
    );
    assert_eq!(answer["detail"][0]["msg"], MALFORMED);

    let (status, answer) = app
        .post(
            "/bulk-update",
            &json!({"customer_ids": [id], "updates": {"preferred_language": "1en"}}),
        )
        .await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(
        answer["detail"][0]["loc"],
        json!(["body", "updates", "preferred_language"])
    );

    let (status, answer) = app
        .post(
            "/search",
            &json!({"preferred_language": "english language"}),
        )
        .await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(
        answer["detail"][0]["loc"],
        json!(["body", "preferred_language"])
    );
    assert_eq!(answer["detail"][0]["msg"], MALFORMED);
    let (_, unchanged) = app.get(&format!("/{id}")).await;
    assert_eq!(unchanged["preferred_language"], "en");
}
