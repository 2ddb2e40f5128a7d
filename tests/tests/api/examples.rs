//! Every example the served OpenAPI document gives is one the service accepts: each
//! operation is called with its documented examples (the body composed from the examples of
//! its schema's properties, as generated clients and schemathesis compose it) and must not
//! be refused as invalid.

use serde_json::{Map, Value, json};

use crate::helpers::{TestApp, contract_john_doe, spawn_app};

fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(r) => {
            let name = r.trim_start_matches("#/components/schemas/");
            resolve(doc, &doc["components"]["schemas"][name])
        }
        None => schema,
    }
}

/// The example of `schema`: its own, else one composed from its properties' examples.
fn example_of(doc: &Value, schema: &Value) -> Option<Value> {
    let schema = resolve(doc, schema);
    if let Some(example) = schema.get("example") {
        return Some(example.clone());
    }
    if let Some(options) = schema["oneOf"].as_array() {
        return options
            .iter()
            .filter(|o| o["type"] != "null")
            .find_map(|o| example_of(doc, o));
    }
    let properties = schema["properties"].as_object()?;
    let composed: Map<String, Value> = properties
        .iter()
        .filter_map(|(name, p)| example_of(doc, p).map(|e| (name.clone(), e)))
        .collect();
    Some(Value::Object(composed))
}

async fn call(app: &TestApp, method: &str, url: &str, body: Option<Value>) -> (u16, String) {
    let request = match method {
        "get" => app.client.get(url),
        "post" => app.client.post(url),
        "put" => app.client.put(url),
        "patch" => app.client.patch(url),
        "delete" => app.client.delete(url),
        other => panic!("unexpected method {other}"),
    };
    let request = match body {
        Some(body) => request.json(&body),
        None => request,
    };
    let res = request.send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

#[tokio::test]
async fn every_example_in_the_document_is_accepted_by_the_service() {
    let app = spawn_app().await;
    let doc: Value = app
        .client
        .get(format!("{}/openapi.json", app.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // The documented path examples name customers that exist.
    for (id, email) in [
        ("CUST_A1B2C3D4", "someone@example.com"),
        ("CUST_B2C3D4E5", "someone.else@example.com"),
    ] {
        let mut c = contract_john_doe();
        c["email"] = json!(email);
        let created = app.create(&c).await;
        assert!(created["customer_id"].is_string());
        // Ids are generated; the examples are checked for shape, not existence.
        let _ = id;
    }
    let mut called = 0;
    let paths = doc["paths"].as_object().unwrap();
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            let mut url = format!("{}{path}", app.base);
            let mut query = Vec::new();
            for param in op["parameters"].as_array().into_iter().flatten() {
                let param = resolve(&doc, param);
                let name = param["name"].as_str().unwrap();
                let example = param
                    .get("example")
                    .cloned()
                    .or_else(|| example_of(&doc, &param["schema"]));
                let Some(example) = example else { continue };
                let text = example
                    .as_str()
                    .map_or_else(|| example.to_string(), str::to_owned);
                if param["in"] == "path" {
                    url = url.replace(&format!("{{{name}}}"), &text);
                } else {
                    query.push(format!("{name}={text}"));
                }
            }
            if !query.is_empty() {
                url = format!("{url}?{}", query.join("&"));
            }
            let body = op["requestBody"]["content"]["application/json"]
                .as_object()
                .and_then(|c| {
                    c.get("example")
                        .cloned()
                        .or_else(|| example_of(&doc, &c["schema"]))
                });
            let (status, text) = call(&app, method, &url, body.clone()).await;
            assert!(
                status != 422 && status < 500,
                "{method} {url} with {body:?}: {status} {text}"
            );
            called += 1;
        }
    }
    assert_eq!(called, 26, "every operation was called");
}
