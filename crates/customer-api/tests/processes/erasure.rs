//! Erasure against the real binary: once a customer who was created with a key, updated,
//! searched for, looked up, verified and logged in is erased, no personal value it ever had
//! is left in any table of the database (a `pg_dump` of its data, stored idempotent answers
//! and change history included) or in the service's trace-level log, and the API answers
//! for it as documented (410 by id, 404 by old email and username, absent from list and
//! search, statistics' totals kept, history ending with `erased`, a second erasure and a
//! replay of the create answered as such, the old email free again).

use std::process::Command;
use std::time::Duration;

use customer_api::settings::{AppEnv, Settings};
use reqwest::Method;
use serde_json::{Value, json};
use test_db::TestDatabase;

use crate::common::{Service, repo_root};

const SECRET: &str = "erasure-proof-secret-0123456789abcdef";

fn token(role: &str) -> String {
    let vars = vec![("APP__AUTH__HS256_SECRET".to_owned(), SECRET.to_owned())];
    let settings = Settings::load_from(&repo_root().join("config"), AppEnv::Test, &vars).unwrap();
    customer_api::token::mint(&settings.auth, role.parse().unwrap(), "erasure-e2e", None).unwrap()
}

/// Status, headers and body (JSON, `Null` when it is not) of one answer.
struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Value,
    text: String,
}

struct Api {
    client: reqwest::Client,
    base: String,
}

impl Api {
    async fn send(
        &self,
        method: Method,
        path: &str,
        bearer: &str,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Answer {
        let mut request = self
            .client
            .request(method, format!("{}/api/v1/customers{path}", self.base))
            .bearer_auth(bearer);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let res = request.send().await.unwrap();
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            body,
            text,
        }
    }
}

fn hex(text: &str) -> String {
    text.bytes().map(|b| format!("{b:02x}")).collect()
}

/// The secrets found in `haystack`, as text in any case or as the hex of a `bytea`.
fn leaked<'a>(haystack: &str, secrets: &[&'a str]) -> Vec<&'a str> {
    let lower = haystack.to_lowercase();
    secrets
        .iter()
        .copied()
        .filter(|secret| {
            let folded = secret.to_lowercase();
            haystack.contains(secret)
                || lower.contains(&folded)
                || lower.contains(&hex(secret))
                || lower.contains(&hex(&folded))
        })
        .collect()
}

/// `pg_dump` on the `PATH`, else the newest of Debian's server installations (as
/// `scripts/with-db.sh` finds the server's programs).
fn pg_dump_program() -> std::path::PathBuf {
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .map(|dir| dir.join("pg_dump"))
        .find(|candidate| candidate.is_file());
    on_path.unwrap_or_else(|| {
        let mut installed: Vec<std::path::PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .into_iter()
            .flatten()
            .flatten()
            .map(|version| version.path().join("bin/pg_dump"))
            .filter(|candidate| candidate.is_file())
            .collect();
        installed.sort_by_key(|p| {
            p.components()
                .nth(4)
                .and_then(|c| c.as_os_str().to_str()?.parse::<u32>().ok())
        });
        installed
            .pop()
            .expect("pg_dump on the PATH or in /usr/lib/postgresql/*/bin")
    })
}

/// `pg_dump --data-only` of the database.
fn pg_dump(url: &str) -> String {
    let dump = Command::new(pg_dump_program())
        .args(["--data-only", "--no-owner", "--dbname", url])
        .output()
        .unwrap();
    assert!(
        dump.status.success(),
        "pg_dump: {}",
        String::from_utf8_lossy(&dump.stderr)
    );
    String::from_utf8(dump.stdout).unwrap()
}

fn ids(page: &Value) -> Vec<&str> {
    page["customers"]
        .as_array()
        .unwrap_or_else(|| panic!("a page of customers: {page}"))
        .iter()
        .map(|c| c["customer_id"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn an_erased_customer_leaves_no_personal_value_in_the_database_dump_or_the_trace_log() {
    let db = TestDatabase::new().await;
    let log = std::env::temp_dir().join(format!("customer-api-erasure-{}.log", std::process::id()));
    let mut service = Service::start_logging_to(
        db.url(),
        &[
            ("RUST_LOG", "trace"),
            ("APP__AUTH__ENABLED", "true"),
            ("APP__AUTH__HS256_SECRET", SECRET),
        ],
        &log,
    )
    .await;
    let api = Api {
        client: reqwest::Client::new(),
        base: service.base.clone(),
    };
    let (admin, writer, reader) = (token("admin"), token("writer"), token("reader"));

    let original = json!({
        "first_name": "Zorbulaxine",
        "last_name": "Quenthorpewick",
        "email": "zorbulax.quenthorpe@erasure-proof.example",
        "phone": "+1 (555) 8837-2264",
        "address_line1": "17 Vexmoor Lane",
        "address_line2": "Suite Plimwick",
        "city": "Ondrialburg",
        "state": "Kestrovia",
        "postal_code": "Q9Z 8X7",
        "country": "Norway",
        "date_of_birth": "1971-04-05T00:00:00",
        "gender": "female",
        "company_name": "Glimmerquartz Holdings",
        "tax_id": "TX-99817726",
        "preferred_language": "x-zorblang",
        "marketing_emails": true,
        "marketing_sms": true,
        "notes": "prefers-velvetine-parcels",
        "tags": "xyzzyvip,plughlist"
    });
    let create_key = [("idempotency-key", "erasure-proof-create")];
    let created = api
        .send(Method::POST, "/", &writer, &create_key, Some(&original))
        .await;
    assert_eq!(created.status, 200, "{}", created.text);
    let id = created.body["customer_id"].as_str().unwrap().to_owned();
    let first_username = created.body["username"].as_str().unwrap().to_owned();
    assert_eq!(created.body["preferred_language"], "x-zorblang");

    let updates = [
        json!({"first_name": "Xanthelidra", "city": "Pemberquaxton"}),
        json!({"notes": "now-wants-quillfeather-boxes", "company_name": "Brindlewhisk Amalgamated"}),
        json!({"email": "xanthelidra.q@erasure-proof.example", "state": "Umbervale",
               "address_line1": "88 Crolliver Row", "postal_code": "W4K 2J9"}),
        json!({"phone": "+44 7700 913 548", "tax_id": "TX-55320019", "tags": "snorfblat"}),
    ];
    for (n, update) in updates.iter().enumerate() {
        let key = format!("erasure-proof-update-{n}");
        let updated = api
            .send(
                Method::PUT,
                &format!("/{id}"),
                &writer,
                &[("idempotency-key", &key)],
                Some(update),
            )
            .await;
        assert_eq!(updated.status, 200, "{update}: {}", updated.text);
    }
    let before = api
        .send(Method::GET, &format!("/{id}"), &reader, &[], None)
        .await;
    assert_eq!(before.status, 200, "{}", before.text);
    let last_username = before.body["username"].as_str().unwrap().to_owned();
    let last_email = before.body["email"].as_str().unwrap().to_owned();
    assert_eq!(last_email, "xanthelidra.q@erasure-proof.example");

    for query in [
        json!({"query": "Quenthorpewick"}),
        json!({"query": "xanthelidra.q@erasure"}),
        json!({"first_name": "Xanthelidra", "city": "Pemberquaxton"}),
    ] {
        let found = api
            .send(Method::POST, "/search", &reader, &[], Some(&query))
            .await;
        assert_eq!(found.status, 200, "{}", found.text);
        assert_eq!(ids(&found.body), vec![id.as_str()], "{query}");
    }
    let listed = api
        .send(Method::GET, "/?limit=100", &reader, &[], None)
        .await;
    assert_eq!(ids(&listed.body), vec![id.as_str()]);
    for path in [
        format!("/email/{last_email}"),
        format!("/username/{last_username}"),
    ] {
        let found = api.send(Method::GET, &path, &reader, &[], None).await;
        assert_eq!(found.status, 200, "{path}: {}", found.text);
    }
    for path in ["verify-email", "last-login"] {
        let done = api
            .send(Method::PATCH, &format!("/{id}/{path}"), &writer, &[], None)
            .await;
        assert_eq!(done.status, 200, "{path}: {}", done.text);
    }
    let stats_before = api
        .send(Method::GET, "/statistics/overview", &reader, &[], None)
        .await;
    assert_eq!(stats_before.status, 200, "{}", stats_before.text);

    let secrets = [
        "Zorbulaxine",
        "Quenthorpewick",
        "zorbulax.quenthorpe@erasure-proof.example",
        "zorbulax",
        "erasure-proof.example",
        "8837-2264",
        "88372264",
        "17 Vexmoor Lane",
        "Vexmoor",
        "Suite Plimwick",
        "Plimwick",
        "Ondrialburg",
        "Kestrovia",
        "Q9Z 8X7",
        "1971-04-05",
        "Glimmerquartz",
        "TX-99817726",
        "99817726",
        "x-zorblang",
        "zorblang",
        "prefers-velvetine-parcels",
        "velvetine",
        "xyzzyvip",
        "plughlist",
        "Xanthelidra",
        "Pemberquaxton",
        "now-wants-quillfeather-boxes",
        "quillfeather",
        "Brindlewhisk",
        "xanthelidra.q@erasure-proof.example",
        "Umbervale",
        "88 Crolliver Row",
        "Crolliver",
        "W4K 2J9",
        "7700 913 548",
        "7700913548",
        "TX-55320019",
        "55320019",
        "snorfblat",
        &first_username,
        &last_username,
    ];
    let held = pg_dump(db.url());
    let found = leaked(&held, &secrets);
    let absent: Vec<&str> = secrets
        .iter()
        .copied()
        .filter(|s| !found.contains(s))
        .collect();
    assert_eq!(
        absent,
        ["88372264", "7700913548"],
        "before the erasure the dump holds every value as stored"
    );
    assert!(
        held.contains(&hex("Glimmerquartz Holdings")),
        "stored answers are in the dump as hex"
    );

    let reason = json!({"reason": "Data subject request 4471"});
    let erased = api
        .send(
            Method::POST,
            &format!("/{id}/erase"),
            &admin,
            &[],
            Some(&reason),
        )
        .await;
    assert_eq!(erased.status, 200, "{}", erased.text);
    assert_eq!(erased.body["customer_id"], id.as_str());
    assert_eq!(erased.body["reason"], "Data subject request 4471");
    assert_eq!(erased.body["country"], "Norway");
    assert_eq!(erased.body["gender"], "female");
    assert_eq!(erased.body["email_verified"], true);
    assert_eq!(erased.body["created_at"], created.body["created_at"]);

    let gone = json!({"detail": "Customer erased", "code": "customer_erased"});
    let by_id = api
        .send(Method::GET, &format!("/{id}"), &reader, &[], None)
        .await;
    assert_eq!((by_id.status, &by_id.body), (410, &gone), "{}", by_id.text);
    let rewrite = api
        .send(
            Method::PUT,
            &format!("/{id}"),
            &writer,
            &[],
            Some(&json!({"first_name": "Zorbulaxine"})),
        )
        .await;
    assert_eq!(
        (rewrite.status, &rewrite.body),
        (410, &gone),
        "{}",
        rewrite.text
    );
    for path in [
        format!("/email/{last_email}"),
        format!("/username/{last_username}"),
        format!("/username/{first_username}"),
        "/email/zorbulax.quenthorpe@erasure-proof.example".to_owned(),
    ] {
        let found = api.send(Method::GET, &path, &reader, &[], None).await;
        assert_eq!(found.status, 404, "{path}: {}", found.text);
    }
    for query in [
        json!({"query": "Quenthorpewick"}),
        json!({"query": "xanthelidra"}),
        json!({"query": id}),
        json!({"country": "Norway"}),
        json!({}),
    ] {
        let found = api
            .send(Method::POST, "/search", &reader, &[], Some(&query))
            .await;
        assert_eq!(found.status, 200, "{}", found.text);
        assert!(ids(&found.body).is_empty(), "{query}: {}", found.text);
        assert_eq!(found.body["total"], 0, "{query}: {}", found.text);
    }
    let listed = api
        .send(Method::GET, "/?limit=100", &reader, &[], None)
        .await;
    assert!(ids(&listed.body).is_empty(), "{}", listed.text);
    assert_eq!(listed.body["total"], 0, "{}", listed.text);
    let stats_after = api
        .send(Method::GET, "/statistics/overview", &reader, &[], None)
        .await;
    for kept in [
        "total_customers",
        "active_customers",
        "verified_customers",
        "customers_by_country",
        "gender_distribution",
    ] {
        assert_eq!(
            stats_after.body[kept], stats_before.body[kept],
            "{kept}: before {} after {}",
            stats_before.text, stats_after.text
        );
    }
    assert_eq!(stats_after.body["total_customers"], 1);

    let timeline = api
        .send(
            Method::GET,
            &format!("/{id}/events?limit=1000"),
            &reader,
            &[],
            None,
        )
        .await;
    assert_eq!(timeline.status, 200, "{}", timeline.text);
    let events = timeline.body["events"].as_array().unwrap();
    assert_eq!(
        events[0]["type"], "erased",
        "newest first: {}",
        timeline.text
    );
    let types: Vec<&str> = events
        .iter()
        .rev()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "created",
            "updated",
            "updated",
            "updated",
            "updated",
            "email_verified",
            "logged_in",
            "erased"
        ]
    );
    let created_event = events.last().unwrap();
    for field in ["first_name", "email", "city", "notes", "tax_id", "phone"] {
        assert_eq!(
            created_event["changes"][field],
            json!({"from": null, "to": null, "erased": true}),
            "{field}: {created_event}"
        );
    }
    assert_eq!(
        events[events.len() - 2]["changes"]["first_name"],
        json!({"from": null, "to": null, "erased": true})
    );

    let again = api
        .send(
            Method::POST,
            &format!("/{id}/erase"),
            &admin,
            &[],
            Some(&reason),
        )
        .await;
    assert_eq!(again.status, 200, "{}", again.text);
    assert_eq!(again.body, erased.body);

    let replay = api
        .send(Method::POST, "/", &writer, &create_key, Some(&original))
        .await;
    assert_eq!(
        (replay.status, &replay.body),
        (410, &gone),
        "{}",
        replay.text
    );
    assert_eq!(
        replay
            .headers
            .get("idempotent-replayed")
            .and_then(|v| v.to_str().ok()),
        Some("true"),
        "{:?}",
        replay.headers
    );

    let dump = pg_dump(db.url());
    assert!(
        dump.contains("COPY public.customers "),
        "the dump has the data"
    );
    assert!(dump.contains(&id), "the tombstone is in the dump");
    assert!(dump.contains("Data subject request 4471"));
    let in_dump = leaked(&dump, &secrets);
    assert!(
        in_dump.is_empty(),
        "the database still holds {in_dump:?}; lines: {:#?}",
        dump.lines()
            .filter(|line| !leaked(line, &in_dump).is_empty())
            .collect::<Vec<_>>()
    );

    let registered = api
        .send(
            Method::POST,
            "/",
            &writer,
            &[],
            Some(&json!({"first_name": "Fresh", "last_name": "Start", "email": last_email})),
        )
        .await;
    assert_eq!(registered.status, 200, "{}", registered.text);
    assert_ne!(registered.body["customer_id"], id.as_str());

    service.terminate();
    let status = service.wait(Duration::from_secs(30)).await;
    assert!(status.success(), "exit status {status:?}");
    let logs = std::fs::read_to_string(&log).unwrap();
    let _ = std::fs::remove_file(&log);
    assert!(logs.contains("request finished"), "the log was captured");
    assert!(logs.contains(" TRACE "), "the log has trace-level lines");
    assert!(
        logs.contains("route=/api/v1/customers/{customer_id}/erase status=200"),
        "the erasure was logged"
    );
    let in_log = leaked(&logs, &secrets);
    assert!(
        in_log.is_empty(),
        "the log holds {in_log:?}; lines: {:#?}",
        logs.lines()
            .filter(|line| !leaked(line, &in_log).is_empty())
            .collect::<Vec<_>>()
    );
}
